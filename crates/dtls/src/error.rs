//! The crate's error type.

/// Why a DTLS record, handshake message, key or certificate was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record, handshake message or extension is malformed: truncated, a
    /// length that disagrees with its contents, trailing bytes, a value out
    /// of its RFC range or a duplicated extension. The reason names what.
    #[error("malformed {0}")]
    Decode(&'static str),
    /// A well-formed message arrived where the protocol does not allow it.
    #[error("unexpected message: {0}")]
    UnexpectedMessage(&'static str),
    /// Something exceeds a limit: a length that does not fit its length
    /// prefix when writing, or one of this crate's documented bounds
    /// (handshake message size, reassembly buffer) when reading.
    #[error("too large: {0}")]
    TooLarge(&'static str),
    /// A cryptographic operation failed or was asked for something the
    /// backend does not support (an unknown group, a sequence number past
    /// 2^48, a record longer than 2^14 bytes).
    #[error("crypto error: {0}")]
    Crypto(&'static str),
    /// A record did not authenticate: wrong key, epoch, sequence number,
    /// header, or a modified ciphertext or tag (RFC 5246 section 7.2.2).
    #[error("bad record MAC")]
    BadRecordMac,
    /// A certificate or private key could not be used.
    #[error("certificate error: {0}")]
    Certificate(&'static str),
    /// The peer's certificate does not match any fingerprint from the SDP
    /// (RFC 8122 section 5).
    #[error("certificate fingerprint mismatch: expected {expected}, got {actual}")]
    FingerprintMismatch {
        /// The first expected fingerprint, as in SDP (`sha-256 AB:CD:..`).
        expected: String,
        /// The SHA-256 fingerprint of the certificate received, as in SDP.
        actual: String,
    },
    /// A handshake signature does not verify with the peer's certificate.
    #[error("bad signature")]
    BadSignature,
    /// The peers could not agree: version, cipher suite, group, SRTP
    /// profile, or a required extension (extended master secret) missing.
    #[error("negotiation failed: {0}")]
    Negotiation(&'static str),
    /// The peer's Finished does not match the handshake we saw: a modified
    /// flight or different keys.
    #[error("Finished verification failed")]
    BadFinished,
    /// A flight went unanswered through every retransmission.
    #[error("handshake timed out")]
    Timeout,
    /// The peer sent a fatal alert with this description code.
    #[error("peer sent fatal alert {0}")]
    AlertReceived(u8),
}
