//! TCP-like stream connections: what endpoints and the simulator tell each
//! other about them, and their counters. The model is in the
//! [crate docs](crate#streams-tcp).

use std::fmt;
use std::net::SocketAddr;

/// Cap on stream connections alive at once (from `Connect` until both sides
/// have closed); a `Connect` beyond it is refused.
pub const MAX_STREAMS: usize = 10_000;

/// Cap on stream bytes in the simulator at once: bytes in flight on every
/// connection plus bytes written before a connection opened. A `Send` that
/// would pass it resets its connection (both sides get
/// [`StreamEvent::Closed`]), since a simulated TCP must not lose bytes and
/// has no way to push back.
pub const MAX_STREAM_BYTES_IN_FLIGHT: usize = 64 << 20;

/// What the simulator tells an endpoint about its TCP connections.
///
/// A connection is named by its (local, remote) address pair as this side
/// sees it (like a connected socket): for the side that connected, `local` is
/// the address it gave in [`StreamCommand::Connect`], `remote` the
/// destination; for the accepting side, `local` is the listening address and
/// `remote` the client's address after any NATs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A connection this endpoint asked for is established, or one to it was
    /// accepted.
    Opened {
        /// This side's address.
        local: SocketAddr,
        /// The other side's address, as seen from here.
        remote: SocketAddr,
    },
    /// Bytes arrived, in order.
    Data {
        /// This side's address.
        local: SocketAddr,
        /// The other side's address, as seen from here.
        remote: SocketAddr,
        /// The bytes, in the order they were written.
        bytes: Vec<u8>,
    },
    /// The connection is gone: refused or unreachable (for a `Connect`),
    /// closed by the other side, or reset by the simulator's caps.
    Closed {
        /// This side's address.
        local: SocketAddr,
        /// The other side's address, as seen from here.
        remote: SocketAddr,
    },
}

/// What an endpoint asks of the simulator about TCP connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamCommand {
    /// Open a TCP connection from `local` (an address of the endpoint's host;
    /// an unspecified IP is replaced by the host's first address of the same
    /// family; the port is chosen by the endpoint and must be nonzero) to
    /// `remote`.
    Connect {
        /// This side's address.
        local: SocketAddr,
        /// The destination.
        remote: SocketAddr,
    },
    /// Write bytes on an open connection, or on one still opening: they are
    /// queued until it opens.
    Send {
        /// This side's address.
        local: SocketAddr,
        /// The other side's address, as seen from here.
        remote: SocketAddr,
        /// The bytes to write.
        bytes: Vec<u8>,
    },
    /// Close the connection (a full close: no half-close); the other side gets
    /// [`StreamEvent::Closed`] after the bytes already written.
    Close {
        /// This side's address.
        local: SocketAddr,
        /// The other side's address, as seen from here.
        remote: SocketAddr,
    },
}

/// Stream counters for the whole simulation
/// ([`Sim::stream_counters`](crate::Sim::stream_counters)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct StreamCounters {
    /// `Connect` commands taken from endpoints.
    pub connects: u64,
    /// Connections established (the accepting side got `Opened`).
    pub accepted: u64,
    /// Connections refused: bad addresses, a blocked host, a NAT in the way
    /// inbound, no route, nobody accepting, or a cap.
    pub refused: u64,
    /// Connections closed by an endpoint's `Close`.
    pub closed: u64,
    /// Connections reset because of [`MAX_STREAM_BYTES_IN_FLIGHT`].
    pub reset: u64,
    /// Bytes endpoints wrote on connections.
    pub bytes_sent: u64,
    /// Bytes handed to endpoints.
    pub bytes_delivered: u64,
    /// `Send` or `Close` commands for a connection the endpoint does not have
    /// (never opened, already closed, or refused), ignored.
    pub unknown_connection: u64,
}

impl fmt::Display for StreamCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connects={} accepted={} refused={} closed={} reset={} bytes_sent={} bytes_delivered={} unknown_connection={}",
            self.connects,
            self.accepted,
            self.refused,
            self.closed,
            self.reset,
            self.bytes_sent,
            self.bytes_delivered,
            self.unknown_connection
        )
    }
}
