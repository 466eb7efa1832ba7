//! What can go wrong when the application drives a peer connection.

/// Errors of [`Rtc`](crate::Rtc)'s methods. Input from the network never
/// produces one: what cannot be used is dropped and counted in
/// [`RtcStats`](crate::RtcStats).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcError {
    /// The call is not allowed in the current signalling state (JSEP,
    /// RFC 9429 section 5), e.g. an answer without a remote offer.
    #[error("invalid signalling state: {0}")]
    InvalidState(&'static str),
    /// A session description that cannot be parsed.
    #[error("session description: {0}")]
    Sdp(#[from] rtcwire_sdp::ParseError),
    /// A session description that parses but cannot be used.
    #[error("unusable session description: {0}")]
    Negotiation(&'static str),
    /// A candidate that cannot be parsed or used.
    #[error("ICE candidate: {0}")]
    Candidate(&'static str),
    /// ICE refused a command.
    #[error("ICE: {0}")]
    Ice(#[from] rtcwire_ice::IceError),
    /// DTLS refused a command (e.g. no certificate could be made).
    #[error("DTLS: {0}")]
    Dtls(#[from] rtcwire_dtls::Error),
    /// The data-channel layer refused a command.
    #[error("data channel: {0}")]
    Sctp(#[from] rtcwire_sctp::Error),
    /// No channel with this id (never created, or closed and forgotten).
    #[error("no such data channel")]
    UnknownChannel,
    /// The channel is not open: still connecting, closing or closed.
    #[error("data channel is not open")]
    ChannelNotOpen,
    /// The message exceeds the peer's `a=max-message-size`.
    #[error("message of {size} bytes exceeds the peer's max-message-size of {max} bytes")]
    MessageTooLarge {
        /// The message's size.
        size: usize,
        /// What the peer accepts.
        max: usize,
    },
    /// A setting that cannot be used (e.g. an ICE server URL).
    #[error("configuration: {0}")]
    Config(&'static str),
    /// The peer connection was closed.
    #[error("the peer connection is closed")]
    Closed,
}
