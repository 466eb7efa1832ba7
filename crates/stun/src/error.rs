//! The crate's error type.

/// Why a STUN message, attribute or ChannelData frame was rejected, or why a
/// message could not be written.
///
/// Every variant is `Copy` and carries only numbers and `&'static str`
/// reasons, so errors cost nothing to create on the per-packet path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer than 20 bytes: not even a STUN header.
    #[error("message too short: {len} bytes, a STUN header is 20")]
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// The two most significant bits of the first byte are not zero
    /// (RFC 8489 section 5): this is not STUN.
    #[error("not a STUN message: first two bits are not zero")]
    NotStun,
    /// The magic cookie is not 0x2112A442 (RFC 8489 section 5).
    #[error("wrong magic cookie {0:#010x}")]
    BadMagicCookie(u32),
    /// The header's message length is not a multiple of 4.
    #[error("message length {0} is not a multiple of 4")]
    LengthNotMultipleOf4(usize),
    /// The header's message length disagrees with the datagram.
    #[error("message length says {declared} bytes of attributes, datagram has {actual}")]
    LengthMismatch {
        /// Attribute bytes the header declares.
        declared: usize,
        /// Bytes after the header.
        actual: usize,
    },
    /// An attribute's header or value runs past the end of the message.
    #[error("attribute {attr_type:#06x} at offset {offset} overruns the message")]
    AttributeOverrun {
        /// Attribute type.
        attr_type: u16,
        /// Offset of the attribute header in the message.
        offset: usize,
    },
    /// An attribute's value fits but its padding to a 4-byte boundary is
    /// missing.
    #[error("attribute {attr_type:#06x} at offset {offset} lacks its padding")]
    BadPadding {
        /// Attribute type.
        attr_type: u16,
        /// Offset of the attribute header in the message.
        offset: usize,
    },
    /// An attribute other than FINGERPRINT follows FINGERPRINT, which must be
    /// last (RFC 8489 section 14.7).
    #[error("attribute after FINGERPRINT")]
    FingerprintNotLast,
    /// The message has no FINGERPRINT attribute but one was required.
    #[error("FINGERPRINT missing")]
    MissingFingerprint,
    /// The FINGERPRINT value does not match the message.
    #[error("FINGERPRINT mismatch")]
    BadFingerprint,
    /// Neither MESSAGE-INTEGRITY nor MESSAGE-INTEGRITY-SHA256 is present.
    #[error("MESSAGE-INTEGRITY missing")]
    MissingIntegrity,
    /// The message integrity check failed: wrong key or altered message.
    #[error("MESSAGE-INTEGRITY mismatch")]
    BadIntegrity,
    /// An attribute's value is malformed.
    #[error("invalid {attr_type:#06x} attribute: {reason}")]
    InvalidAttribute {
        /// Attribute type.
        attr_type: u16,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A ChannelData frame is malformed (RFC 8656 section 12.4).
    #[error("invalid ChannelData: {0}")]
    InvalidChannelData(&'static str),
    /// The caller's buffer cannot hold the message being written.
    #[error("buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the write needs in total.
        needed: usize,
        /// Size of the caller's buffer.
        available: usize,
    },
    /// A value given to the builder cannot be encoded.
    #[error("cannot encode {attr_type:#06x}: {reason}")]
    CannotEncode {
        /// Attribute type.
        attr_type: u16,
        /// Why.
        reason: &'static str,
    },
}
