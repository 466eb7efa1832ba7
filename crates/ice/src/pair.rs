//! Candidate pairs and their states (RFC 8445 section 6.1.2).

use std::net::SocketAddr;

use rtcwire_stun::{ClientTransaction, TransactionId};

/// Cancelled checks whose late responses a pair still accepts.
const MAX_CANCELLED: usize = 4;

/// State of a pair in the checklist (RFC 8445 section 6.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairState {
    /// Not checked yet, waiting for a pair of the same foundation.
    Frozen,
    /// Ready to be checked.
    Waiting,
    /// A check is in flight.
    InProgress,
    /// A check succeeded: the pair is valid.
    Succeeded,
    /// Checks failed.
    Failed,
}

/// A local and a remote candidate the agent checks together.
#[derive(Debug)]
pub struct CandidatePair {
    pub(crate) local: usize,
    pub(crate) remote: usize,
    pub(crate) local_address: SocketAddr,
    pub(crate) remote_address: SocketAddr,
    pub(crate) priority: u64,
    pub(crate) foundation: (String, String),
    pub(crate) state: PairState,
    /// We (controlling) nominated it and the nomination check succeeded.
    pub(crate) nominated: bool,
    /// The peer (controlling) sent USE-CANDIDATE on it.
    pub(crate) remote_nominated: bool,
    pub(crate) check: Option<ClientTransaction<Vec<u8>>>,
    /// The next check on this pair carries USE-CANDIDATE.
    pub(crate) use_candidate: bool,
    /// IDs of cancelled checks: not retransmitted, but a response to one
    /// still validates the pair (newest last, at most 4).
    pub(crate) cancelled: Vec<TransactionId>,
}

impl CandidatePair {
    /// Stops retransmitting the check in flight, remembering its ID.
    pub(crate) fn cancel_check(&mut self) {
        if let Some(tx) = self.check.take() {
            if self.cancelled.len() == MAX_CANCELLED {
                self.cancelled.remove(0);
            }
            self.cancelled.push(tx.transaction_id());
        }
    }

    /// The local base packets are sent from.
    pub fn local(&self) -> SocketAddr {
        self.local_address
    }

    /// The remote address.
    pub fn remote(&self) -> SocketAddr {
        self.remote_address
    }

    /// Pair priority.
    pub fn priority(&self) -> u64 {
        self.priority
    }

    /// Checklist state.
    pub fn state(&self) -> PairState {
        self.state
    }

    /// Whether the pair was nominated, by us or by the peer.
    pub fn is_nominated(&self) -> bool {
        self.nominated || self.remote_nominated
    }
}
