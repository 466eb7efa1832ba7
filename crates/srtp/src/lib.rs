//! # rtcwire-srtp
//!
//! SRTP and SRTCP for WebRTC: in-place protect and unprotect of RTP and
//! RTCP packets with the keys DTLS exports. Sans-IO: no sockets, no clocks,
//! no threads, and no allocation per packet.
//!
//! Implemented:
//! - RFC 3711 SRTP and SRTCP with AES_CM_128_HMAC_SHA1_80 and
//!   AES_CM_128_HMAC_SHA1_32 (32-bit tags on SRTP, 80-bit on SRTCP, as
//!   RFC 5764 section 4.1.2 says), the key derivation of section 4.3
//!   (key derivation rate 0), rollover counter estimation (appendix A),
//!   replay protection (section 3.3.2) with a configurable window of 1 to
//!   2^15 packets, the SRTCP index and E-flag (unencrypted SRTCP is accepted;
//!   what this crate sends is always encrypted).
//! - RFC 7714 AEAD_AES_128_GCM and AEAD_AES_256_GCM for SRTP and SRTCP.
//! - RFC 5764 section 4.2: the DTLS-SRTP exporter output split into client
//!   and server master keys and salts ([`DtlsSrtpKeys`]).
//!
//! Not implemented: MKI, key derivation rates other than 0, the NULL
//! cipher, RFC 6904 header extension encryption, RFC 8723 double
//! encryption, and rekeying (a context refuses to wrap its packet index).
//!
//! Bounds: a [`Context`] holds at most [`Config::max_streams`] SSRCs
//! (default 1024), each with two replay bitmaps of at most 4 KiB; an
//! unknown SSRC is refused unless [`Config::accept_unknown_ssrc`] is set,
//! and even then a stream is created only by a packet that authenticates.
//!
//! Sending: the rollover counter follows the sequence numbers protected,
//! and each SSRC's SRTCP index counts from 0. There is no check against
//! protecting the same sequence number twice (libsrtp's `allow_repeat_tx`
//! behaviour): a retransmission must use RTX (RFC 4588), not the same
//! sequence number under the same key.
//!
//! Tested with the RFC 3711 appendix B.2 (AES-CM keystream) and B.3 (key
//! derivation) vectors, libsrtp's AES-CM known-answer packet, the RFC 7714
//! section 16 (SRTP) and 17 (SRTCP) AES-GCM vectors, property tests (round
//! trips of random headers, CSRCs, extensions and payloads; every flipped
//! bit rejected), against libsrtp in both directions
//! (`interop/tests/libsrtp.rs`), and by the `srtp_unprotect` fuzz target.
//! `benches/srtp.rs` measures it next to the raw cipher work.
//!
//! Cryptography (see DESIGN.md): AES-CM via RustCrypto `aes` + `ctr`,
//! HMAC-SHA1 via `hmac` + `sha1` keyed once per context (the keyed state is
//! cloned per packet), AES-GCM via `ring`; all in `crypto.rs`.
//!
//! ```
//! use rtcwire_srtp::{Config, Context, DtlsSrtpKeys, ProtectionProfile, Role};
//!
//! // What DTLS exported with "EXTRACTOR-dtls_srtp" on both ends.
//! let profile = ProtectionProfile::AeadAes128Gcm;
//! let material = vec![7u8; DtlsSrtpKeys::exporter_len(profile)];
//! let keys = DtlsSrtpKeys::from_exporter(profile, &material)?;
//! let (client_out, _) = keys.split(Role::Client);
//! let (_, server_in) = keys.split(Role::Server);
//! let mut sender = Context::new(client_out, Config::default())?;
//! let mut receiver = Context::new(server_in, Config::default())?;
//! receiver.add_stream(0x1234_5678)?;
//!
//! // An RTP packet (12-byte header, 4-byte payload) with room for the tag.
//! let mut buf = [0u8; 1500];
//! let rtp = [0x80, 96, 0, 1, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78, 1, 2, 3, 4];
//! buf[..rtp.len()].copy_from_slice(&rtp);
//! let srtp_len = sender.protect_rtp(&mut buf, rtp.len())?;
//! assert_eq!(srtp_len, rtp.len() + profile.rtp_overhead());
//!
//! let mut copy = buf;
//! let rtp_len = receiver.unprotect_rtp(&mut buf[..srtp_len])?;
//! assert_eq!(&buf[..rtp_len], &rtp[..]);
//! // The same packet again is a replay.
//! assert!(matches!(
//!     receiver.unprotect_rtp(&mut copy[..srtp_len]),
//!     Err(rtcwire_srtp::Error::Replay(_))
//! ));
//! # Ok::<(), rtcwire_srtp::Error>(())
//! ```
#![forbid(unsafe_code)]

mod context;
mod crypto;
mod error;
mod keys;
mod profile;
mod replay;
#[cfg(test)]
mod tests;

pub use context::{Config, Context};
pub use error::Error;
pub use keys::{DtlsSrtpKeys, MasterKey, Role};
pub use profile::ProtectionProfile;
pub use replay::MAX_REPLAY_WINDOW;
