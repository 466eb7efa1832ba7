//! # rtcwire-dtls
//!
//! Sans-IO DTLS 1.2 (RFC 6347) for WebRTC (work in progress).
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
