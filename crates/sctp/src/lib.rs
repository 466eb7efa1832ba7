//! # rtcwire-sctp
//!
//! Sans-IO SCTP for WebRTC data channels: an association (RFC 9260) that
//! reads and writes SCTP packets as byte buffers (the owner carries them
//! over DTLS, RFC 8261), and the data-channel wire format (RFC 8831, DCEP
//! RFC 8832).
//!
//! Works today:
//! - the packet and chunk formats of RFC 9260, RFC 3758 (FORWARD-TSN),
//!   RFC 6525 (RE-CONFIG), RFC 8260 (I-DATA, I-FORWARD-TSN) and RFC 9653
//!   (zero checksum), with CRC32c;
//! - the four-way handshake with a stateless, HMAC-signed cookie carrying
//!   the negotiated extensions;
//! - reliable ordered and unordered messages, fragmented to the MTU and
//!   reassembled, delayed SACKs with gap blocks, T3-rtx and fast
//!   retransmit, RTO estimation;
//! - congestion control from a model of the path (bottleneck bandwidth and
//!   minimum RTT, as BBR) with pacing: a 1 % lossy 100 Mbit/s, 50 ms path
//!   is used at over 80 %;
//! - partial reliability by retransmission count or lifetime (RFC 3758),
//!   stream reset (RFC 6525), zero checksum over DTLS (RFC 9653), graceful
//!   shutdown;
//! - bounded buffers: the send buffer, the receive window (a peer that
//!   ignores it is dropped or aborted), max-message-size;
//! - WebRTC data channels ([`DataChannels`]): DCEP, negotiated channels,
//!   text/binary/empty messages, close by stream reset, buffered amount.
//!
//! Not yet (see the project README): I-DATA interleaving (the chunk format
//! is parsed, the association does not negotiate it) and heartbeats of our
//! own.
//!
//! ## Example: two associations in memory
//!
//! ```
//! use std::time::Instant;
//! use rtcwire_sctp::{Association, AssociationState, SctpConfig, SctpEvent, dcep::ppid};
//!
//! let now = Instant::now();
//! let mut a = Association::new(SctpConfig::default());
//! let mut b = Association::new(SctpConfig::default());
//! a.connect(now);
//! let mut pump = |a: &mut Association, b: &mut Association| {
//!     for _ in 0..8 {
//!         while let Some(p) = a.poll_transmit() { b.handle_receive(now, &p); }
//!         while let Some(p) = b.poll_transmit() { a.handle_receive(now, &p); }
//!     }
//! };
//! pump(&mut a, &mut b);
//! assert_eq!(b.state(), AssociationState::Established);
//!
//! a.send(now, 0, ppid::STRING, b"hello", false)?;
//! pump(&mut a, &mut b);
//! let messages: Vec<_> = std::iter::from_fn(|| b.poll_event())
//!     .filter_map(|e| match e { SctpEvent::Message(m) => Some(m), _ => None })
//!     .collect();
//! assert_eq!(messages[0].data, b"hello");
//! # Ok::<(), rtcwire_sctp::Error>(())
//! ```
#![forbid(unsafe_code)]

mod association;
mod cc;
mod chunk;
mod datachannel;
pub mod dcep;
mod error;
/// Fuzzing harness (cfg `fuzzing`, set by cargo-fuzz; not a stable API).
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzzing;
mod packet;
mod param;
mod receive;
mod send;

pub use association::{
    Association, AssociationState, MAX_IDLE_RECYCLED_BUFFERS, MAX_RECYCLED_BUFFERS, Payload, SctpConfig,
    SctpEvent, SctpMessage, SctpStats, SendOptions,
};
pub use datachannel::{
    ChannelEvent, ChannelOptions, ChannelState, DataChannels, MAX_CHANNELS, MAX_PENDING_EVENTS,
};
pub use error::Error;
