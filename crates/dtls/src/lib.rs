//! # rtcwire-dtls
//!
//! A sans-IO DTLS 1.2 endpoint for WebRTC: it authenticates the peer by the
//! certificate fingerprint from SDP, hands SRTP its keys, and carries SCTP.
//! It never opens a socket or reads a clock.
//!
//! Implements:
//! - RFC 6347 (DTLS 1.2) on RFC 5246 (TLS 1.2): client and server roles,
//!   epochs, 48-bit sequence numbers, the anti-replay window, several
//!   records per datagram, records sized to the MTU, handshake fragmentation
//!   and reassembly (out of order, duplicated), flights with retransmission
//!   (100 ms, doubling, capped), and stateless HelloVerifyRequest cookies.
//! - Cipher suites TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
//!   TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 and
//!   TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 5289, RFC 7905),
//!   and as a client their ECDHE_RSA counterparts for peers with RSA
//!   certificates; groups X25519 and P-256.
//! - RFC 5764 use_srtp (AEAD_AES_128_GCM, AEAD_AES_256_GCM,
//!   AES128_CM_HMAC_SHA1_80 and _32) and the RFC 5705 keying material
//!   exporter ("EXTRACTOR-dtls_srtp" gives [`SrtpKeyingMaterial`]).
//! - RFC 7627 extended master secret, required; RFC 5746
//!   renegotiation_info, with renegotiation refused.
//! - RFC 8122 / RFC 8842: the peer's certificate is checked against the
//!   fingerprints from SDP (no PKI); mutual authentication always.
//! - A ClientHello that offers DTLS 1.3 in supported_versions (as Chromium
//!   does) negotiates 1.2.
//!
//! Not implemented: DTLS 1.3 (RFC 9147, the next step), session
//! resumption, PSK, RSA server certificates (we always present ECDSA
//! P-256), and connection IDs.
//!
//! ## Example: a handshake in memory
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use rtcwire_dtls::{DtlsCertificate, DtlsConfig, DtlsEndpoint, DtlsState, Role};
//!
//! let (a, b) = (Arc::new(DtlsCertificate::generate()?), Arc::new(DtlsCertificate::generate()?));
//! let mut client = DtlsEndpoint::new(DtlsConfig::new(a.clone()), Role::Client);
//! let mut server = DtlsEndpoint::new(DtlsConfig::new(b.clone()), Role::Server);
//! // Each side expects the fingerprint the other put in its SDP.
//! client.set_remote_fingerprints(vec![b.fingerprint()]);
//! server.set_remote_fingerprints(vec![a.fingerprint()]);
//!
//! let now = Instant::now();
//! client.start(now);
//! for _ in 0..10 {
//!     while let Some(d) = client.poll_transmit() { server.handle_receive(now, &d); }
//!     while let Some(d) = server.poll_transmit() { client.handle_receive(now, &d); }
//! }
//! assert_eq!(client.state(), DtlsState::Connected);
//! assert_eq!(client.srtp_keying_material(), server.srtp_keying_material());
//!
//! client.send(b"over DTLS")?;
//! let datagram = client.poll_transmit().ok_or("nothing sent")?;
//! server.handle_receive(now, &datagram);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod certificate;
mod cipher;
mod crypto;
mod endpoint;
mod error;

pub(crate) mod codec;
pub(crate) mod extensions;
pub(crate) mod fragment;
/// Wire-format fuzzing harness (the `fuzzing` feature; not a stable API).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod handshake;
pub(crate) mod record;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod test_vectors;

pub use certificate::{DtlsCertificate, Fingerprint, FingerprintAlgorithm, verify_fingerprint};
pub use crypto::CipherSuite;
pub use endpoint::{
    Alert, DtlsConfig, DtlsEndpoint, DtlsEvent, DtlsState, Role, SrtpKeyingMaterial, SrtpProfile,
};
pub use error::Error;
