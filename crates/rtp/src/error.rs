//! The crate's error type.

/// Why an RTP or RTCP packet was rejected, or why one could not be written.
///
/// Every variant is `Copy` and carries only numbers and `&'static str`
/// reasons, so errors cost nothing to create on the per-packet path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The packet ends before a structure it declares.
    #[error("truncated {what}: {needed} bytes needed, {available} available")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes there are.
        available: usize,
    },
    /// The version field is not 2 (RFC 3550 section 5.1).
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    /// The padding bit is set but the padding count is zero or larger than
    /// the bytes available for it (RFC 3550 section 5.1).
    #[error("invalid padding: count {count}, {available} bytes available")]
    BadPadding {
        /// The padding count from the packet's last byte.
        count: u8,
        /// Bytes after the header (RTP) or the 4-byte RTCP header.
        available: usize,
    },
    /// An RTP header extension element is malformed (RFC 8285).
    #[error("invalid header extension: {0}")]
    BadExtension(&'static str),
    /// An RTCP packet's body is malformed.
    #[error("invalid RTCP packet type {packet_type}: {reason}")]
    BadRtcp {
        /// The RTCP packet type (200 SR, 201 RR, ...).
        packet_type: u8,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The caller's buffer cannot hold what is being written.
    #[error("buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the write needs in total.
        needed: usize,
        /// Size of the caller's buffer.
        available: usize,
    },
    /// A value given to a builder cannot be encoded.
    #[error("cannot encode: {0}")]
    CannotEncode(&'static str),
}
