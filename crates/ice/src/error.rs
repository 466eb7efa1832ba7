//! The crate's error type.

/// Why a command given to the agent was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IceError {
    /// The agent already holds as many candidates of this side as its
    /// configuration allows.
    #[error("too many {0} candidates")]
    TooManyCandidates(&'static str),
    /// The candidate's address is already known.
    #[error("duplicate candidate")]
    DuplicateCandidate,
    /// The agent is closed.
    #[error("agent closed")]
    Closed,
    /// An ICE-lite agent does not gather server-reflexive or relayed
    /// candidates.
    #[error("an ICE-lite agent only has host candidates")]
    LiteAgent,
    /// An mDNS name was refused: not a `.local` host name, or too many
    /// lookups pending.
    #[error("mDNS candidate refused: {0}")]
    Mdns(&'static str),
    /// Credentials must be 4-256 (ufrag) and 22-256 (pwd) ice-chars
    /// (RFC 8839 section 5.4).
    #[error("invalid ICE credentials: {0}")]
    InvalidCredentials(&'static str),
}
