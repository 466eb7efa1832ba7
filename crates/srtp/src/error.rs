//! The crate's error type.

/// Why a packet could not be protected or unprotected, or a key or setting
/// was refused. Every reason is a `&'static str`: nothing allocates on the
/// packet path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The packet is shorter than its headers, CSRC list, header extension
    /// or authentication tag say it must be. The reason names what.
    #[error("packet too short: {0}")]
    TooShort(&'static str),
    /// The packet is not RTP or RTCP version 2.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// The caller's buffer has no room for the authentication tag (and, for
    /// SRTCP, the index), or the stated length exceeds the buffer.
    #[error("buffer too small: {0}")]
    BufferTooSmall(&'static str),
    /// The authentication tag does not match: wrong key, a modified packet,
    /// or a rollover counter the sender does not share.
    #[error("authentication failed")]
    Authentication,
    /// The packet index was seen before or lies behind the replay window
    /// (RFC 3711 section 3.3.2). The reason says which.
    #[error("replayed packet: {0}")]
    Replay(&'static str),
    /// No context exists for this SSRC and the configuration does not allow
    /// creating one from an incoming packet ([`crate::Config::accept_unknown_ssrc`]).
    #[error("unknown SSRC {0:#010x}")]
    UnknownSsrc(u32),
    /// The context already holds [`crate::Config::max_streams`] SSRCs.
    #[error("too many SSRC streams")]
    TooManyStreams,
    /// The packet index space is used up: 2^48 SRTP packets or 2^31 SRTCP
    /// packets under one key (RFC 3711 section 9.2): rekey.
    #[error("packet index exhausted: {0}")]
    IndexExhausted(&'static str),
    /// A master key, salt or keying material has the wrong length for the
    /// profile, or a configuration value is out of range.
    #[error("invalid key or setting: {0}")]
    InvalidKey(&'static str),
}
