//! What the agent tells its owner.

use std::net::SocketAddr;

use crate::candidate::Candidate;

/// The W3C `RTCIceConnectionState` values, with the same meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceConnectionState {
    /// Not checking yet: no remote candidates or credentials.
    New,
    /// Checks are running and no pair is selected yet.
    Checking,
    /// A pair is selected and consent is fresh; checks may still run.
    Connected,
    /// A pair is selected, every check is done and the peer signalled the
    /// end of its candidates.
    Completed,
    /// The selected pair has gone quiet for longer than
    /// [`IceConfig::disconnected_timeout`](crate::IceConfig::disconnected_timeout);
    /// it may come back.
    Disconnected,
    /// Every pair failed with no candidates left to come, or consent
    /// expired (RFC 7675).
    Failed,
    /// [`IceAgent::close`](crate::IceAgent::close) was called.
    Closed,
}

/// Which side of the ICE negotiation the agent plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceRole {
    /// Nominates the pair (in WebRTC, the offerer unless it is lite).
    Controlling,
    /// Follows the controlling agent's nomination.
    Controlled,
}

/// Events, drained with [`IceAgent::poll_event`](crate::IceAgent::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceEvent {
    /// The connection state changed.
    StateChanged(IceConnectionState),
    /// A local candidate to signal to the peer (trickle ICE).
    LocalCandidate(Candidate),
    /// No more local candidates will be gathered.
    GatheringComplete,
    /// Data should now flow on this pair.
    SelectedPairChanged {
        /// Local address to send from (a socket's address, or a relayed
        /// address served by the caller's TURN client).
        local: SocketAddr,
        /// Remote address to send to.
        remote: SocketAddr,
    },
    /// A role conflict (RFC 8445 section 7.3.1.1) made the agent switch.
    RoleChanged(IceRole),
}
