//! # rtcwire-stun
//!
//! Sans-IO STUN: the message format, its integrity and fingerprint, client
//! transactions and a stateless Binding server, for ICE, TURN and anyone who
//! just wants to learn a reflexive address.
//!
//! Implements:
//! - RFC 8489 (STUN): the header and every attribute it defines, short-term
//!   and long-term credentials (MD5 and SHA-256 password algorithms,
//!   USERHASH), MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256, FINGERPRINT,
//!   client transactions with the section 6.2.1 retransmission schedule, the
//!   stateless Binding server of section 6.3, and 420 answers listing unknown
//!   comprehension-required attributes.
//! - RFC 8445 (ICE) attributes: PRIORITY, USE-CANDIDATE, ICE-CONTROLLED,
//!   ICE-CONTROLLING.
//! - RFC 8656 (TURN) attributes and ChannelData framing. The TURN client is
//!   the separate `rtcwire-turn` crate.
//! - RFC 7983 demultiplexing helpers: [`is_stun`], [`is_channel_data`].
//!
//! Not implemented: the PRECIS OpaqueString and SASLprep profiles (passwords
//! and realms are used as their UTF-8 bytes, which is the identity for the
//! ASCII credentials ICE and TURN use), RFC 5780 NAT-behaviour discovery
//! attributes (kept as unknown, comprehension-optional), and DNS discovery of
//! servers (the caller resolves names).
//!
//! ## Shape
//!
//! [`Message::parse`] is a zero-copy view over a datagram: it checks the
//! header and every attribute's bounds once, and decodes values lazily into
//! borrowed [`Attribute`]s. [`MessageBuilder`] writes a message into a
//! caller's buffer without allocating. Nothing here reads a clock, touches a
//! socket or spawns anything: [`ClientTransaction`] and [`BindingClient`]
//! take `Instant`s and hand back [`Transmit`]s.
//!
//! ## Example: an ICE connectivity check, built and verified
//!
//! ```
//! use rtcwire_stun::{Attribute, AttributeType, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId};
//!
//! // The controlling agent signs with the remote peer's ice-pwd.
//! let key = IntegrityKey::short_term("remote-ice-pwd-0123456789");
//! let mut buf = [0u8; 256];
//! let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId::new([1; 12]))?;
//! b.add(&Attribute::Username("remoteufrag:localufrag"))?;
//! b.add(&Attribute::Priority(0x6e00_1eff))?;
//! b.add(&Attribute::IceControlling(0x1234_5678_9abc_def0))?;
//! b.add(&Attribute::UseCandidate)?;
//! b.add_message_integrity(&key)?;
//! b.add_fingerprint()?;
//! let packet = b.finish();
//!
//! // The remote agent checks it before trusting anything in it.
//! let msg = Message::parse(packet)?;
//! msg.verify_fingerprint()?;
//! msg.verify_integrity(&key)?;
//! assert_eq!(msg.get(AttributeType::PRIORITY), Some(Ok(Attribute::Priority(0x6e00_1eff))));
//! assert!(msg.contains(AttributeType::USE_CANDIDATE));
//! # Ok::<(), rtcwire_stun::Error>(())
//! ```
#![forbid(unsafe_code)]

mod attributes;
mod binding;
mod builder;
mod channel_data;
mod crypto;
mod error;
mod integrity;
mod message;
mod transaction;

pub use attributes::{
    AddressFamily, Attribute, AttributeType, ErrorCode, MAX_TEXT_LEN, MAX_USERNAME_LEN, PasswordAlgorithm,
    PasswordAlgorithmId, PasswordAlgorithms, UnknownAttributes,
};
pub use binding::{
    BindingClient, BindingEvent, BindingFailure, BindingRequestOptions, BindingResponder, mapped_address,
};
pub use builder::MessageBuilder;
pub use channel_data::{CHANNEL_DATA_HEADER_LEN, ChannelData, MAX_CHANNEL, MIN_CHANNEL, is_channel_data};
pub use error::Error;
pub use integrity::{IntegrityKey, user_hash};
pub use message::{
    Attributes, Class, HEADER_LEN, MAGIC_COOKIE, Message, MessageType, Method, RawAttributes, TransactionId,
    is_stun, stream_message_len,
};
pub use transaction::{ClientTransaction, TransactionConfig, TransactionState};

/// A datagram to send: where, and its bytes, borrowed from the state machine
/// until the next call on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit<'a> {
    /// Destination address.
    pub destination: std::net::SocketAddr,
    /// The datagram.
    pub contents: &'a [u8],
}
