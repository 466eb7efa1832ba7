//! # rtcwire-turn
//!
//! A sans-IO TURN client (RFC 8656): one allocation on one server, its
//! permissions and channel bindings, and the data relayed through them.
//!
//! Implements, over UDP, TCP and TLS (`turns:`, through rustls' sans-IO
//! client: the caller owns the TCP socket and moves bytes, see
//! [`TurnClient::new_tls`]):
//! - Allocate with the long-term credential mechanism (RFC 8489 section
//!   9.2): the first request goes without credentials, the 401 brings REALM
//!   and NONCE, the request is re-sent with USERNAME, REALM, NONCE and
//!   MESSAGE-INTEGRITY; 438 Stale Nonce re-sends with the new nonce; 300 Try
//!   Alternate, 437, 486, 508 and the rest become [`TurnError`]s.
//!   REQUESTED-TRANSPORT UDP, REQUESTED-ADDRESS-FAMILY and DONT-FRAGMENT on
//!   request.
//! - Refresh ahead of expiry, CreatePermission and ChannelBind kept alive
//!   before their 5- and 10-minute lifetimes, Send and Data indications,
//!   ChannelData both ways, deallocation (Refresh with LIFETIME 0) on close.
//! - Stream framing (RFC 8656 section 12.5): STUN messages and ChannelData
//!   padded to 4 bytes, reassembled in a bounded buffer.
//!
//! Not implemented: TCP relays (RFC 6062), EVEN-PORT and RESERVATION-TOKEN,
//! dual allocations (ADDITIONAL-ADDRESS-FAMILY), the SHA-256 password
//! algorithm and USERHASH (the MD5 long-term key is used, as coturn and
//! browsers do), ICMP attributes, DTLS to the server.
//!
//! Nothing here reads a clock or touches a socket: time is an argument, and
//! everything to send comes out of [`TurnClient::poll_transmit`] for the
//! server. Every queue is bounded (see the `MAX_*` constants).
//!
//! ## Example: the allocation handshake, up to the first request
//!
//! ```
//! use std::time::Instant;
//! use rtcwire_stun::{Message, Method};
//! use rtcwire_turn::{TurnClient, TurnConfig};
//!
//! let server = "192.0.2.1:3478".parse()?;
//! let mut client = TurnClient::new(Instant::now(), &mut rand::rng(), TurnConfig::new(server, "user", "pass"));
//! let t = client.poll_transmit().ok_or("no Allocate request")?;
//! assert_eq!(t.destination, server);
//! assert_eq!(Message::parse(t.contents)?.method(), Method::ALLOCATE);
//! // Send it, feed the answers to `handle_receive`, drain `poll_event`
//! // until `TurnEvent::Allocated`, and call `handle_timeout` at
//! // `poll_timeout`.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod client;
mod error;
mod stream;
#[cfg(test)]
mod tests;

pub use client::{
    CHANNEL_REFRESH, MAX_CHANNELS, MAX_PERMISSIONS, MAX_QUEUED_DATA_EVENTS, MAX_QUEUED_EVENTS,
    MAX_QUEUED_TRANSMITS, MAX_TLS_BUFFER, PERMISSION_REFRESH, TurnClient, TurnConfig, TurnEvent,
    TurnTransport,
};
pub use error::TurnError;
pub use stream::{MAX_FRAME_LEN, MAX_STREAM_BUFFER};
