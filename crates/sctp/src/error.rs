//! The crate's error type.

/// Why an SCTP packet, chunk, parameter or DCEP message was rejected, or
/// could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A packet, chunk, parameter, error cause or DCEP message is malformed:
    /// truncated, a length that disagrees with its contents, trailing bytes
    /// or a value the RFC forbids (a zero Initiate Tag, an empty DATA
    /// chunk). The reason names what.
    #[error("malformed {0}")]
    Decode(&'static str),
    /// The CRC32c of a packet does not match its checksum field (RFC 9260
    /// section 6.8), and a zero checksum was not acceptable (RFC 9653).
    #[error("bad checksum")]
    BadChecksum,
    /// Something does not fit its length field when writing (a chunk value
    /// over 65 531 bytes, a DCEP label over 65 535 bytes), or exceeds one of
    /// this crate's documented bounds.
    #[error("too large: {0}")]
    TooLarge(&'static str),
    /// A message was sent before the association was established.
    #[error("association not established")]
    NotEstablished,
    /// The send buffer cannot take the message: wait for
    /// `buffered_amount` to drop (never silently dropped).
    #[error("send buffer full")]
    SendBufferFull,
    /// SCTP carries no empty user messages (RFC 9260 section 6.1); data
    /// channels send a single zero byte with the `*_EMPTY` PPIDs instead
    /// (RFC 8831 section 6.6).
    #[error("empty message")]
    EmptyMessage,
    /// The stream is being reset; send again once the reset is done.
    #[error("stream is being reset")]
    StreamResetting,
    /// The stream id is not below the number of inbound streams the peer
    /// accepts (its INIT or INIT-ACK).
    #[error("stream id beyond the peer's inbound streams")]
    InvalidStream,
    /// No open data channel has this id.
    #[error("data channel not open")]
    ChannelNotOpen,
    /// A negotiated data channel asked for an id already in use.
    #[error("data channel id in use")]
    ChannelIdInUse,
    /// The peer did not negotiate what this needs.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}
