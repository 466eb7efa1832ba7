//! Counters and the bounded event trace.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::ops::AddAssign;
use std::time::Duration;

use crate::sim::{EndpointId, HostId, NatId};

/// Why the network dropped a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// Random or burst loss on a link.
    Loss,
    /// Larger than a link's MTU.
    Mtu,
    /// A link's queue was full (tail drop).
    Queue,
    /// A NAT had a mapping for the port but its filter rejected the source.
    NatFilter,
    /// A NAT had no (live) mapping for the destination port.
    NatNoMapping,
    /// A NAT could not create a mapping (table or port range full).
    NatTableFull,
    /// Hairpinning is off and the destination was the NAT's own address.
    Hairpin,
    /// A firewall (or a NAT configured to block UDP) dropped it.
    Firewall,
    /// No host or NAT owns the destination address.
    NoRoute,
    /// The destination host has no endpoint for the destination port.
    NoEndpoint,
    /// An endpoint sent from an address its host does not own.
    InvalidSource,
    /// The simulator's in-flight queue was at its cap.
    InFlightLimit,
}

impl DropReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Loss => "loss",
            Self::Mtu => "mtu",
            Self::Queue => "queue",
            Self::NatFilter => "nat-filter",
            Self::NatNoMapping => "nat-no-mapping",
            Self::NatTableFull => "nat-table-full",
            Self::Hairpin => "hairpin",
            Self::Firewall => "firewall",
            Self::NoRoute => "no-route",
            Self::NoEndpoint => "no-endpoint",
            Self::InvalidSource => "invalid-source",
            Self::InFlightLimit => "in-flight-limit",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Datagram counters, kept per host, per NAT and for the whole simulation.
///
/// A host's counters cover what its endpoints sent and received and what its
/// access link (both directions) dropped or duplicated. A NAT's counters
/// cover its translations, filter decisions and its own external link. The
/// simulation's counters ([`Sim::counters`](crate::Sim::counters)) are the
/// sum of all of them plus drops that belong to nobody (no route, path
/// overrides, the in-flight cap).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counters {
    /// Datagrams handed to the network by endpoints.
    pub sent: u64,
    /// Datagrams handed to endpoints.
    pub delivered: u64,
    /// Extra copies created by link duplication.
    pub duplicated: u64,
    /// Datagrams held back by link reordering.
    pub reordered: u64,
    /// Datagrams translated outbound by a NAT.
    pub nat_outbound: u64,
    /// Datagrams translated inbound by a NAT.
    pub nat_inbound: u64,
    /// Datagrams a NAT hairpinned.
    pub nat_hairpinned: u64,
    /// NAT mappings created.
    pub nat_mappings_created: u64,
    /// NAT mappings removed after their timeout.
    pub nat_mappings_expired: u64,
    /// Dropped by random or burst loss.
    pub dropped_loss: u64,
    /// Dropped for exceeding an MTU.
    pub dropped_mtu: u64,
    /// Tail-dropped at a full queue.
    pub dropped_queue: u64,
    /// Dropped by a NAT filter.
    pub dropped_nat_filter: u64,
    /// Dropped inbound at a NAT without a mapping for the port.
    pub dropped_nat_no_mapping: u64,
    /// Dropped because a NAT could not allocate a mapping.
    pub dropped_nat_table_full: u64,
    /// Dropped because hairpinning is off.
    pub dropped_hairpin: u64,
    /// Dropped by a UDP-blocking firewall.
    pub dropped_firewall: u64,
    /// Dropped because no one owns the destination address.
    pub dropped_no_route: u64,
    /// Dropped at a host with no endpoint for the destination port.
    pub dropped_no_endpoint: u64,
    /// Dropped because the source address is not the sending host's.
    pub dropped_invalid_source: u64,
    /// Dropped at the in-flight cap.
    pub dropped_in_flight_limit: u64,
}

impl Counters {
    /// All drops, whatever the reason.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped_loss
            + self.dropped_mtu
            + self.dropped_queue
            + self.dropped_nat_filter
            + self.dropped_nat_no_mapping
            + self.dropped_nat_table_full
            + self.dropped_hairpin
            + self.dropped_firewall
            + self.dropped_no_route
            + self.dropped_no_endpoint
            + self.dropped_invalid_source
            + self.dropped_in_flight_limit
    }

    /// The drop counter for `reason`.
    #[must_use]
    pub fn dropped_by(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::Loss => self.dropped_loss,
            DropReason::Mtu => self.dropped_mtu,
            DropReason::Queue => self.dropped_queue,
            DropReason::NatFilter => self.dropped_nat_filter,
            DropReason::NatNoMapping => self.dropped_nat_no_mapping,
            DropReason::NatTableFull => self.dropped_nat_table_full,
            DropReason::Hairpin => self.dropped_hairpin,
            DropReason::Firewall => self.dropped_firewall,
            DropReason::NoRoute => self.dropped_no_route,
            DropReason::NoEndpoint => self.dropped_no_endpoint,
            DropReason::InvalidSource => self.dropped_invalid_source,
            DropReason::InFlightLimit => self.dropped_in_flight_limit,
        }
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        let c = match reason {
            DropReason::Loss => &mut self.dropped_loss,
            DropReason::Mtu => &mut self.dropped_mtu,
            DropReason::Queue => &mut self.dropped_queue,
            DropReason::NatFilter => &mut self.dropped_nat_filter,
            DropReason::NatNoMapping => &mut self.dropped_nat_no_mapping,
            DropReason::NatTableFull => &mut self.dropped_nat_table_full,
            DropReason::Hairpin => &mut self.dropped_hairpin,
            DropReason::Firewall => &mut self.dropped_firewall,
            DropReason::NoRoute => &mut self.dropped_no_route,
            DropReason::NoEndpoint => &mut self.dropped_no_endpoint,
            DropReason::InvalidSource => &mut self.dropped_invalid_source,
            DropReason::InFlightLimit => &mut self.dropped_in_flight_limit,
        };
        *c += 1;
    }
}

impl fmt::Display for Counters {
    /// Only the non-zero counters, for compact assertion messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = [
            ("sent", self.sent),
            ("delivered", self.delivered),
            ("duplicated", self.duplicated),
            ("reordered", self.reordered),
            ("nat_outbound", self.nat_outbound),
            ("nat_inbound", self.nat_inbound),
            ("nat_hairpinned", self.nat_hairpinned),
            ("nat_mappings_created", self.nat_mappings_created),
            ("nat_mappings_expired", self.nat_mappings_expired),
            ("dropped_loss", self.dropped_loss),
            ("dropped_mtu", self.dropped_mtu),
            ("dropped_queue", self.dropped_queue),
            ("dropped_nat_filter", self.dropped_nat_filter),
            ("dropped_nat_no_mapping", self.dropped_nat_no_mapping),
            ("dropped_nat_table_full", self.dropped_nat_table_full),
            ("dropped_hairpin", self.dropped_hairpin),
            ("dropped_firewall", self.dropped_firewall),
            ("dropped_no_route", self.dropped_no_route),
            ("dropped_no_endpoint", self.dropped_no_endpoint),
            ("dropped_invalid_source", self.dropped_invalid_source),
            ("dropped_in_flight_limit", self.dropped_in_flight_limit),
        ];
        let mut first = true;
        for (name, value) in fields {
            if value != 0 {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{name}={value}")?;
                first = false;
            }
        }
        if first {
            f.write_str("(all zero)")?;
        }
        Ok(())
    }
}

impl AddAssign for Counters {
    fn add_assign(&mut self, o: Self) {
        self.sent += o.sent;
        self.delivered += o.delivered;
        self.duplicated += o.duplicated;
        self.reordered += o.reordered;
        self.nat_outbound += o.nat_outbound;
        self.nat_inbound += o.nat_inbound;
        self.nat_hairpinned += o.nat_hairpinned;
        self.nat_mappings_created += o.nat_mappings_created;
        self.nat_mappings_expired += o.nat_mappings_expired;
        self.dropped_loss += o.dropped_loss;
        self.dropped_mtu += o.dropped_mtu;
        self.dropped_queue += o.dropped_queue;
        self.dropped_nat_filter += o.dropped_nat_filter;
        self.dropped_nat_no_mapping += o.dropped_nat_no_mapping;
        self.dropped_nat_table_full += o.dropped_nat_table_full;
        self.dropped_hairpin += o.dropped_hairpin;
        self.dropped_firewall += o.dropped_firewall;
        self.dropped_no_route += o.dropped_no_route;
        self.dropped_no_endpoint += o.dropped_no_endpoint;
        self.dropped_invalid_source += o.dropped_invalid_source;
        self.dropped_in_flight_limit += o.dropped_in_flight_limit;
    }
}

/// Source, destination and size of a datagram, as recorded in the trace
/// (payloads are not kept, so the trace stays small).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// Source transport address at the point of the event.
    pub source: SocketAddr,
    /// Destination transport address at the point of the event.
    pub destination: SocketAddr,
    /// Payload length in bytes.
    pub len: usize,
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} ({} B)", self.source, self.destination, self.len)
    }
}

/// What happened, in a [`TraceEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    /// An endpoint on `host` handed a datagram to the network.
    Sent {
        /// The sending host.
        host: HostId,
        /// The datagram.
        flow: Flow,
    },
    /// A datagram reached an endpoint.
    Delivered {
        /// The receiving host.
        host: HostId,
        /// The receiving endpoint.
        endpoint: EndpointId,
        /// The datagram, as the endpoint sees it.
        flow: Flow,
    },
    /// The network dropped a datagram.
    Dropped {
        /// Why.
        reason: DropReason,
        /// The datagram, with addresses as at the point of the drop.
        flow: Flow,
    },
    /// A link delivered a datagram twice.
    Duplicated {
        /// The datagram.
        flow: Flow,
    },
    /// A NAT translated a datagram's source on its way out.
    NatOutbound {
        /// The NAT.
        nat: NatId,
        /// The internal source.
        internal: SocketAddr,
        /// The external source.
        external: SocketAddr,
    },
    /// A NAT created a mapping.
    MappingCreated {
        /// The NAT.
        nat: NatId,
        /// The internal transport address.
        internal: SocketAddr,
        /// The external transport address.
        external: SocketAddr,
    },
    /// A NAT removed a mapping after its timeout.
    MappingExpired {
        /// The NAT.
        nat: NatId,
        /// The internal transport address.
        internal: SocketAddr,
        /// The external transport address.
        external: SocketAddr,
    },
    /// An endpoint's timeout fired.
    Timeout {
        /// The endpoint.
        endpoint: EndpointId,
    },
}

/// One entry of the simulation trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceEvent {
    /// Virtual time since the simulation's epoch.
    pub at: Duration,
    /// What happened.
    pub kind: TraceKind,
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>12.6}s ", self.at.as_secs_f64())?;
        match &self.kind {
            TraceKind::Sent { host, flow } => write!(f, "sent      {host} {flow}"),
            TraceKind::Delivered { host, endpoint, flow } => write!(f, "delivered {host}/{endpoint} {flow}"),
            TraceKind::Dropped { reason, flow } => write!(f, "dropped   ({reason}) {flow}"),
            TraceKind::Duplicated { flow } => write!(f, "duplicate {flow}"),
            TraceKind::NatOutbound {
                nat,
                internal,
                external,
            } => write!(f, "nat-out   {nat} {internal} as {external}"),
            TraceKind::MappingCreated {
                nat,
                internal,
                external,
            } => write!(f, "mapping   {nat} {internal} => {external}"),
            TraceKind::MappingExpired {
                nat,
                internal,
                external,
            } => write!(f, "expired   {nat} {internal} => {external}"),
            TraceKind::Timeout { endpoint } => write!(f, "timeout   {endpoint}"),
        }
    }
}

/// A ring buffer of the most recent trace events.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trace {
    capacity: usize,
    events: VecDeque<TraceEvent>,
    /// Events pushed out of the ring.
    pub(crate) evicted: u64,
}

impl Trace {
    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        while self.events.len() > capacity {
            self.events.pop_front();
            self.evicted += 1;
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub(crate) fn push(&mut self, event: TraceEvent) {
        if self.capacity == 0 {
            return;
        }
        if self.events.len() >= self.capacity {
            self.events.pop_front();
            self.evicted += 1;
        }
        self.events.push_back(event);
    }

    pub(crate) fn events(&self) -> impl DoubleEndedIterator<Item = &TraceEvent> + ExactSizeIterator {
        self.events.iter()
    }

    pub(crate) fn clear(&mut self) {
        self.events.clear();
        self.evicted = 0;
    }
}
