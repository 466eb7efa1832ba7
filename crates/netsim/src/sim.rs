//! The simulator: topology, virtual clock, event queue and run controls.

use std::any::Any;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::link::{LinkConfig, LinkDrop, LinkState, header_overhead};
use crate::nat::{MappingChange, NatConfig, NatDrop, NatMapping, NatState};
use crate::rng::Rng;
use crate::stats::{Counters, DropReason, Flow, Trace, TraceEvent, TraceKind};
use crate::stream::{StreamCommand, StreamCounters, StreamEvent};

mod tcp;

use tcp::{NatTcp, Side, Stream, StreamId, StreamInFlight, StreamKey};

/// Default cap on datagrams in flight at once (see [`Sim::set_max_in_flight`]).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 100_000;
/// Default cap on events processed by one `run_*` call (see
/// [`Sim::set_step_limit`]).
pub const DEFAULT_STEP_LIMIT: u64 = 10_000_000;
/// Cap on datagrams taken from one endpoint's `poll_transmit` per input; the
/// rest are taken at the next step. The same cap applies to `poll_stream`.
pub const MAX_TRANSMITS_PER_POLL: usize = 10_000;

/// A datagram on the simulated network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// Where it comes from (as seen at the current point of the network).
    pub source: SocketAddr,
    /// Where it goes.
    pub destination: SocketAddr,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

impl Datagram {
    fn flow(&self) -> Flow {
        Flow {
            source: self.source,
            destination: self.destination,
            len: self.payload.len(),
        }
    }
}

/// A sans-IO state machine the simulator can drive.
///
/// The simulator calls `handle_datagram`, `handle_stream` or `handle_timeout`
/// (one input at a time, with the virtual `now`), then drains
/// `poll_transmit` and then `poll_stream` until each returns `None`, and
/// reads `poll_timeout` before every step. The stream methods have default
/// bodies, so an endpoint that only speaks UDP implements neither.
pub trait Endpoint: Any {
    /// A datagram arrived for one of this endpoint's addresses.
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram);
    /// The instant from [`poll_timeout`](Self::poll_timeout) has been reached.
    fn handle_timeout(&mut self, now: Instant);
    /// A datagram to send; its `source` must be an address of the host the
    /// endpoint runs on (an unspecified IP is replaced by the host's first
    /// address of the same family).
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram>;
    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Something happened on one of this endpoint's TCP connections (see
    /// [`StreamEvent`]). The default ignores it.
    fn handle_stream(&mut self, now: Instant, event: StreamEvent) {
        let _ = (now, event);
    }
    /// A TCP command (connect, write, close); see [`StreamCommand`]. The
    /// default has none.
    fn poll_stream(&mut self, now: Instant) -> Option<StreamCommand> {
        let _ = now;
        None
    }
}

/// Object-safe access to the concrete type behind a `dyn Endpoint`.
trait AnyEndpoint: Endpoint {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Endpoint> AnyEndpoint for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u32);

        impl $name {
            fn index(self) -> usize {
                self.0 as usize
            }
            fn from_index(index: usize) -> Self {
                Self(u32::try_from(index).unwrap_or(u32::MAX))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A host, returned by [`Sim::add_host`].
    HostId,
    "host"
);
id_type!(
    /// A NAT, returned by [`Sim::add_nat`].
    NatId,
    "nat"
);
id_type!(
    /// An endpoint, returned by [`Sim::add_endpoint`].
    EndpointId,
    "ep"
);

/// Where a host or NAT is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Network {
    /// The public internet, where every address is reachable.
    Internet,
    /// The private side of a NAT.
    Nat(NatId),
}

impl From<NatId> for Network {
    fn from(nat: NatId) -> Self {
        Self::Nat(nat)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Internet => f.write_str("internet"),
            Self::Nat(n) => write!(f, "inside {n}"),
        }
    }
}

/// Something with an access link: a host or a NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// A host.
    Host(HostId),
    /// A NAT (its external side).
    Nat(NatId),
}

impl From<HostId> for Node {
    fn from(host: HostId) -> Self {
        Self::Host(host)
    }
}

impl From<NatId> for Node {
    fn from(nat: NatId) -> Self {
        Self::Nat(nat)
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Host(h) => h.fmt(f),
            Self::Nat(n) => n.fmt(f),
        }
    }
}

/// Errors from building a topology or running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimError {
    /// The address is already used by a host or NAT in the same network.
    AddressInUse(IpAddr),
    /// The unspecified address (`0.0.0.0`, `::`) cannot be assigned.
    UnspecifiedAddress,
    /// No such host.
    UnknownHost(HostId),
    /// No such NAT.
    UnknownNat(NatId),
    /// The host already has an endpoint for that port (`None`: for all ports).
    EndpointConflict(HostId, Option<u16>),
    /// A `run_*` call processed its step limit of events without reaching its
    /// deadline; an endpoint is probably spinning on timeouts.
    StepLimit(u64),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AddressInUse(ip) => write!(f, "address {ip} is already in use in that network"),
            Self::UnspecifiedAddress => f.write_str("the unspecified address cannot be assigned"),
            Self::UnknownHost(h) => write!(f, "no host {h}"),
            Self::UnknownNat(n) => write!(f, "no NAT {n}"),
            Self::EndpointConflict(h, Some(p)) => write!(f, "{h} already has an endpoint on port {p}"),
            Self::EndpointConflict(h, None) => {
                write!(f, "{h} already has an endpoint for all ports")
            }
            Self::StepLimit(n) => write!(f, "step limit of {n} events reached"),
        }
    }
}

impl std::error::Error for SimError {}

struct Host {
    name: String,
    network: Network,
    addresses: Vec<IpAddr>,
    up: LinkState,
    down: LinkState,
    block_udp: bool,
    block_tcp: bool,
    counters: Counters,
    endpoints: Vec<EndpointId>,
}

struct Nat {
    name: String,
    parent: Network,
    state: NatState,
    up: LinkState,
    down: LinkState,
    counters: Counters,
    tcp: NatTcp,
}

struct EndpointSlot {
    host: HostId,
    port: Option<u16>,
    type_name: &'static str,
    inner: Box<dyn AnyEndpoint>,
    /// Possibly has something to transmit (new, or touched by the test).
    dirty: bool,
    /// The instant at which `handle_timeout` was last called, cleared by any
    /// other input; stops a timeout at or before `now` from firing twice.
    timeout_fired_at: Option<Instant>,
}

/// Where a datagram is when its in-flight event fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    /// Left `from`'s uplink into `network`; route it there.
    Enter { network: Network, from: Node },
    /// Crossed a path override; enter `to`'s downlink.
    Path { to: Node },
    /// Crossed the host's downlink; hand it to an endpoint.
    Host(HostId),
    /// Crossed the NAT's downlink; translate it inbound.
    Nat(NatId),
}

/// Which link a datagram is entering.
#[derive(Debug, Clone, Copy)]
enum LinkRef {
    Up(Node),
    Down(Node),
    Path(Node, Node),
}

struct InFlight {
    at: Instant,
    seq: u64,
    hop: Hop,
    datagram: Datagram,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for InFlight {
    // Reversed so `BinaryHeap` pops the earliest, and the first scheduled
    // among equal instants.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// `t + d`, saturating at roughly a century later instead of panicking.
pub(crate) fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(t)
}

/// A deterministic simulated network. See the [crate docs](crate) for the
/// model.
pub struct Sim {
    seed: u64,
    rng: Rng,
    epoch: Instant,
    now: Instant,
    hosts: Vec<Host>,
    nats: Vec<Nat>,
    endpoints: Vec<EndpointSlot>,
    /// Who owns each address in each network.
    owners: BTreeMap<(Network, IpAddr), Node>,
    /// Per-pair link overrides, keyed (from, to).
    paths: BTreeMap<(Node, Node), LinkState>,
    queue: BinaryHeap<InFlight>,
    next_seq: u64,
    max_in_flight: usize,
    step_limit: u64,
    steps: u64,
    /// Counters that belong to no host or NAT.
    counters: Counters,
    trace: Trace,
    expired: Vec<MappingChange>,
    /// Live stream connections, by number.
    streams: BTreeMap<StreamId, Stream>,
    /// Which connection and side each host's socket pair belongs to.
    stream_keys: BTreeMap<StreamKey, (StreamId, Side)>,
    /// Stream events on their way; shares `next_seq` with `queue`.
    stream_queue: BinaryHeap<StreamInFlight>,
    next_stream: StreamId,
    /// Stream bytes in flight or waiting for their connection to open.
    stream_bytes: usize,
    stream_counters: StreamCounters,
}

impl Sim {
    /// An empty network whose every random decision derives from `seed`.
    ///
    /// Reads the real clock once, to get an epoch; everything after depends
    /// only on offsets from it.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let epoch = Instant::now();
        Self {
            seed,
            rng: Rng::new(seed),
            epoch,
            now: epoch,
            hosts: Vec::new(),
            nats: Vec::new(),
            endpoints: Vec::new(),
            owners: BTreeMap::new(),
            paths: BTreeMap::new(),
            queue: BinaryHeap::new(),
            next_seq: 0,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            step_limit: DEFAULT_STEP_LIMIT,
            steps: 0,
            counters: Counters::default(),
            trace: Trace::default(),
            expired: Vec::new(),
            streams: BTreeMap::new(),
            stream_keys: BTreeMap::new(),
            stream_queue: BinaryHeap::new(),
            next_stream: 0,
            stream_bytes: 0,
            stream_counters: StreamCounters::default(),
        }
    }

    // ----- clock and seed -------------------------------------------------

    /// The seed this simulation was created with.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The current virtual time.
    #[must_use]
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The instant the simulation started at.
    #[must_use]
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// Virtual time elapsed since the epoch.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.now - self.epoch
    }

    /// Events processed so far.
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    // ----- topology -------------------------------------------------------

    fn check_network(&self, network: Network) -> Result<(), SimError> {
        match network {
            Network::Internet => Ok(()),
            Network::Nat(n) if n.index() < self.nats.len() => Ok(()),
            Network::Nat(n) => Err(SimError::UnknownNat(n)),
        }
    }

    fn claim(&mut self, network: Network, ip: IpAddr, node: Node) -> Result<(), SimError> {
        if ip.is_unspecified() {
            return Err(SimError::UnspecifiedAddress);
        }
        if self.owners.contains_key(&(network, ip)) {
            return Err(SimError::AddressInUse(ip));
        }
        self.owners.insert((network, ip), node);
        Ok(())
    }

    /// Adds a NAT attached to `parent` (the internet, or another NAT's inside
    /// for nested NATs) with the external address `external_ip`.
    pub fn add_nat(
        &mut self,
        parent: impl Into<Network>,
        external_ip: impl Into<IpAddr>,
        config: NatConfig,
    ) -> Result<NatId, SimError> {
        let parent = parent.into();
        let external_ip = external_ip.into();
        self.check_network(parent)?;
        let id = NatId::from_index(self.nats.len());
        self.claim(parent, external_ip, Node::Nat(id))?;
        self.nats.push(Nat {
            name: id.to_string(),
            parent,
            state: NatState::new(config, external_ip),
            up: LinkState::new(LinkConfig::perfect()),
            down: LinkState::new(LinkConfig::perfect()),
            counters: Counters::default(),
            tcp: NatTcp::default(),
        });
        Ok(id)
    }

    /// Adds a host with address `ip` attached to `network`, with a perfect
    /// access link (change it with [`set_link`](Self::set_link)).
    pub fn add_host(
        &mut self,
        network: impl Into<Network>,
        ip: impl Into<IpAddr>,
    ) -> Result<HostId, SimError> {
        let network = network.into();
        let ip = ip.into();
        self.check_network(network)?;
        let id = HostId::from_index(self.hosts.len());
        self.claim(network, ip, Node::Host(id))?;
        self.hosts.push(Host {
            name: id.to_string(),
            network,
            addresses: vec![ip],
            up: LinkState::new(LinkConfig::perfect()),
            down: LinkState::new(LinkConfig::perfect()),
            block_udp: false,
            block_tcp: false,
            counters: Counters::default(),
            endpoints: Vec::new(),
        });
        Ok(id)
    }

    /// Gives a host one more address (for example an IPv6 one) in its network.
    pub fn add_address(&mut self, host: HostId, ip: impl Into<IpAddr>) -> Result<(), SimError> {
        let ip = ip.into();
        let network = self.host(host)?.network;
        self.claim(network, ip, Node::Host(host))?;
        if let Some(h) = self.hosts.get_mut(host.index()) {
            h.addresses.push(ip);
        }
        Ok(())
    }

    /// Names a host or NAT in `Debug` output.
    pub fn set_name(&mut self, node: impl Into<Node>, name: impl Into<String>) -> Result<(), SimError> {
        let name = name.into();
        match node.into() {
            Node::Host(h) => self.host_mut(h)?.name = name,
            Node::Nat(n) => self.nat_mut(n)?.name = name,
        }
        Ok(())
    }

    /// Sets both directions of a host's or NAT's access link.
    pub fn set_link(&mut self, node: impl Into<Node>, config: LinkConfig) -> Result<(), SimError> {
        let node = node.into();
        self.set_uplink(node, config.clone())?;
        self.set_downlink(node, config)
    }

    /// Sets the direction from the host (or NAT) towards its network.
    pub fn set_uplink(&mut self, node: impl Into<Node>, config: LinkConfig) -> Result<(), SimError> {
        match node.into() {
            Node::Host(h) => self.host_mut(h)?.up.set_config(config),
            Node::Nat(n) => self.nat_mut(n)?.up.set_config(config),
        }
        Ok(())
    }

    /// Sets the direction from the network towards the host (or NAT).
    pub fn set_downlink(&mut self, node: impl Into<Node>, config: LinkConfig) -> Result<(), SimError> {
        match node.into() {
            Node::Host(h) => self.host_mut(h)?.down.set_config(config),
            Node::Nat(n) => self.nat_mut(n)?.down.set_config(config),
        }
        Ok(())
    }

    /// Adds an extra link, in both directions, between two hosts or NATs that
    /// sit in the same network, on top of their access links. Use it for a
    /// path whose character differs from the access links, such as a long
    /// intercontinental hop between two particular peers.
    pub fn set_path(
        &mut self,
        a: impl Into<Node>,
        b: impl Into<Node>,
        config: LinkConfig,
    ) -> Result<(), SimError> {
        let (a, b) = (a.into(), b.into());
        self.set_path_one_way(a, b, config.clone())?;
        self.set_path_one_way(b, a, config)
    }

    /// Like [`set_path`](Self::set_path), for the direction `from` to `to` only.
    pub fn set_path_one_way(
        &mut self,
        from: impl Into<Node>,
        to: impl Into<Node>,
        config: LinkConfig,
    ) -> Result<(), SimError> {
        let (from, to) = (from.into(), to.into());
        self.check_node(from)?;
        self.check_node(to)?;
        self.paths
            .entry((from, to))
            .and_modify(|l| l.set_config(config.clone()))
            .or_insert_with(|| LinkState::new(config));
        Ok(())
    }

    /// Blocks (or unblocks) all UDP to and from a host, like a host firewall.
    /// TCP still passes (see [`set_tcp_blocked`](Self::set_tcp_blocked)).
    pub fn set_udp_blocked(&mut self, host: HostId, blocked: bool) -> Result<(), SimError> {
        self.host_mut(host)?.block_udp = blocked;
        Ok(())
    }

    /// Caps the datagrams in flight at once; more are dropped and counted as
    /// [`DropReason::InFlightLimit`]. Default [`DEFAULT_MAX_IN_FLIGHT`].
    pub fn set_max_in_flight(&mut self, max: usize) {
        self.max_in_flight = max;
    }

    /// Caps the events one `run_*` call may process before it returns
    /// [`SimError::StepLimit`]. Default [`DEFAULT_STEP_LIMIT`].
    pub fn set_step_limit(&mut self, limit: u64) {
        self.step_limit = limit;
    }

    /// Keeps the last `capacity` events in a trace ring buffer (0 turns the
    /// trace off, which is the default).
    pub fn enable_trace(&mut self, capacity: usize) {
        self.trace.set_capacity(capacity);
    }

    /// The traced events, oldest first.
    pub fn trace(&self) -> impl DoubleEndedIterator<Item = &TraceEvent> + ExactSizeIterator {
        self.trace.events()
    }

    /// Forgets the traced events.
    pub fn clear_trace(&mut self) {
        self.trace.clear();
    }

    fn check_node(&self, node: Node) -> Result<(), SimError> {
        match node {
            Node::Host(h) => self.host(h).map(|_| ()),
            Node::Nat(n) => self.nat(n).map(|_| ()),
        }
    }

    fn host(&self, host: HostId) -> Result<&Host, SimError> {
        self.hosts.get(host.index()).ok_or(SimError::UnknownHost(host))
    }

    fn host_mut(&mut self, host: HostId) -> Result<&mut Host, SimError> {
        self.hosts
            .get_mut(host.index())
            .ok_or(SimError::UnknownHost(host))
    }

    fn nat(&self, nat: NatId) -> Result<&Nat, SimError> {
        self.nats.get(nat.index()).ok_or(SimError::UnknownNat(nat))
    }

    fn nat_mut(&mut self, nat: NatId) -> Result<&mut Nat, SimError> {
        self.nats.get_mut(nat.index()).ok_or(SimError::UnknownNat(nat))
    }

    /// The addresses of a host (empty for an unknown host).
    #[must_use]
    pub fn host_addresses(&self, host: HostId) -> &[IpAddr] {
        self.hosts
            .get(host.index())
            .map_or(&[], |h| h.addresses.as_slice())
    }

    /// The first address of a host (`None` for an unknown host).
    #[must_use]
    pub fn host_ip(&self, host: HostId) -> Option<IpAddr> {
        self.host_addresses(host).first().copied()
    }

    /// The network a host is attached to.
    #[must_use]
    pub fn host_network(&self, host: HostId) -> Option<Network> {
        self.hosts.get(host.index()).map(|h| h.network)
    }

    /// The external address of a NAT.
    #[must_use]
    pub fn nat_external_ip(&self, nat: NatId) -> Option<IpAddr> {
        self.nats.get(nat.index()).map(|n| n.state.external_ip)
    }

    /// The live mappings of a NAT, by external port. Expired mappings are
    /// removed lazily, when the NAT next handles a datagram, so this may list
    /// a mapping whose `expires` has passed.
    #[must_use]
    pub fn nat_mappings(&self, nat: NatId) -> Vec<NatMapping> {
        self.nats
            .get(nat.index())
            .map(|n| n.state.mappings().collect())
            .unwrap_or_default()
    }

    /// Counters of one host (its endpoints and its access link).
    #[must_use]
    pub fn host_counters(&self, host: HostId) -> Counters {
        self.hosts
            .get(host.index())
            .map(|h| h.counters)
            .unwrap_or_default()
    }

    /// Counters of one NAT (translations, filtering and its external link).
    #[must_use]
    pub fn nat_counters(&self, nat: NatId) -> Counters {
        self.nats.get(nat.index()).map(|n| n.counters).unwrap_or_default()
    }

    /// Counters of the whole simulation.
    #[must_use]
    pub fn counters(&self) -> Counters {
        let mut total = self.counters;
        for h in &self.hosts {
            total += h.counters;
        }
        for n in &self.nats {
            total += n.counters;
        }
        total
    }

    /// Datagrams currently in flight.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    // ----- endpoints ------------------------------------------------------

    /// Runs `endpoint` on `host`, receiving datagrams for every port of the
    /// host's addresses that no port-specific endpoint claims.
    pub fn add_endpoint<T: Endpoint>(&mut self, host: HostId, endpoint: T) -> Result<EndpointId, SimError> {
        self.insert_endpoint(host, None, endpoint)
    }

    /// Runs `endpoint` on `host`, receiving datagrams for `port` only.
    pub fn add_endpoint_on_port<T: Endpoint>(
        &mut self,
        host: HostId,
        port: u16,
        endpoint: T,
    ) -> Result<EndpointId, SimError> {
        self.insert_endpoint(host, Some(port), endpoint)
    }

    fn insert_endpoint<T: Endpoint>(
        &mut self,
        host: HostId,
        port: Option<u16>,
        endpoint: T,
    ) -> Result<EndpointId, SimError> {
        let h = self.host(host)?;
        if h.endpoints
            .iter()
            .any(|e| self.endpoints.get(e.index()).is_some_and(|s| s.port == port))
        {
            return Err(SimError::EndpointConflict(host, port));
        }
        let id = EndpointId::from_index(self.endpoints.len());
        self.endpoints.push(EndpointSlot {
            host,
            port,
            type_name: std::any::type_name::<T>(),
            inner: Box::new(endpoint),
            dirty: true,
            timeout_fired_at: None,
        });
        self.host_mut(host)?.endpoints.push(id);
        Ok(id)
    }

    /// The endpoint `id`, if it exists and is a `T`.
    #[must_use]
    pub fn endpoint<T: Endpoint>(&self, id: EndpointId) -> Option<&T> {
        self.endpoints
            .get(id.index())
            .and_then(|s| s.inner.as_any().downcast_ref())
    }

    /// The endpoint `id` for issuing commands, if it exists and is a `T`.
    ///
    /// Counts as an input: before the next event the simulator drains the
    /// endpoint's `poll_transmit` (at the current time) and re-reads its
    /// `poll_timeout`. Endpoints touched between two steps are drained in the
    /// order they were added, not the order they were touched; run the
    /// simulation in between when the order of two commands matters.
    pub fn endpoint_mut<T: Endpoint>(&mut self, id: EndpointId) -> Option<&mut T> {
        let slot = self.endpoints.get_mut(id.index())?;
        slot.dirty = true;
        slot.timeout_fired_at = None;
        slot.inner.as_any_mut().downcast_mut()
    }

    /// The host an endpoint runs on.
    #[must_use]
    pub fn endpoint_host(&self, id: EndpointId) -> Option<HostId> {
        self.endpoints.get(id.index()).map(|s| s.host)
    }

    /// Sends a datagram from `host` as if an endpoint there had, for example
    /// to inject malformed packets. It crosses the host's uplink like any
    /// other.
    pub fn send_from(&mut self, host: HostId, datagram: Datagram) -> Result<(), SimError> {
        self.host(host)?;
        self.transmit_from_host(host, datagram);
        Ok(())
    }

    // ----- run controls ---------------------------------------------------

    /// When the next event is due: the earliest datagram arrival, stream
    /// event or endpoint timeout (never before `now`). `None` when nothing is pending.
    #[must_use]
    pub fn next_event_time(&self) -> Option<Instant> {
        let net = self.next_network().map(|(at, _, _)| at);
        let timer = self.next_timer().map(|(at, _)| at);
        match (net, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earliest datagram or stream event: (instant, sequence, is a
    /// stream event).
    fn next_network(&self) -> Option<(Instant, u64, bool)> {
        let datagram = self.queue.peek().map(|e| (e.at, e.seq, false));
        let stream = self.stream_queue.peek().map(|e| (e.at, e.seq, true));
        match (datagram, stream) {
            (Some(d), Some(s)) => Some(if (s.0, s.1) < (d.0, d.1) { s } else { d }),
            (d, s) => d.or(s),
        }
    }

    fn next_timer(&self) -> Option<(Instant, usize)> {
        let mut best: Option<(Instant, usize)> = None;
        for (i, slot) in self.endpoints.iter().enumerate() {
            let Some(deadline) = slot.inner.poll_timeout() else {
                continue;
            };
            if deadline <= self.now && slot.timeout_fired_at == Some(self.now) {
                continue;
            }
            let at = deadline.max(self.now);
            if best.is_none_or(|(b, _)| at < b) {
                best = Some((at, i));
            }
        }
        best
    }

    /// Processes the next event (a datagram arrival, a stream event or an
    /// endpoint timeout),
    /// advancing the clock to it. Returns `false`, leaving the clock alone,
    /// when nothing is pending.
    pub fn step(&mut self) -> bool {
        self.flush_dirty();
        let net = self.next_network();
        let timer = self.next_timer();
        let take_net = match (net, timer) {
            (Some((n, _, _)), Some((t, _))) => n <= t,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return false,
        };
        self.steps += 1;
        if take_net {
            if net.is_some_and(|(_, _, stream)| stream) {
                if let Some(ev) = self.stream_queue.pop() {
                    self.now = self.now.max(ev.at);
                    self.process_stream(ev.into_msg());
                }
            } else if let Some(ev) = self.queue.pop() {
                self.now = self.now.max(ev.at);
                self.process(ev.hop, ev.datagram);
            }
        } else if let Some((at, index)) = timer {
            self.now = self.now.max(at);
            self.fire_timeout(index);
        }
        true
    }

    /// Runs every event due at or before `deadline`, then sets the clock to
    /// `deadline` (if it is later than now).
    pub fn run_until(&mut self, deadline: Instant) -> Result<(), SimError> {
        let mut steps = 0u64;
        loop {
            self.flush_dirty();
            match self.next_event_time() {
                Some(at) if at <= deadline => {
                    if steps >= self.step_limit {
                        return Err(SimError::StepLimit(self.step_limit));
                    }
                    self.step();
                    steps += 1;
                }
                _ => break,
            }
        }
        self.now = self.now.max(deadline);
        Ok(())
    }

    /// Runs for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) -> Result<(), SimError> {
        self.run_until(later(self.now, duration))
    }

    /// Runs until `predicate` holds or `limit` of virtual time has passed,
    /// checking it before the first event and after each one. Returns
    /// whether it held; the clock stops at the event that made it true.
    pub fn run_until_true(
        &mut self,
        limit: Duration,
        mut predicate: impl FnMut(&Sim) -> bool,
    ) -> Result<bool, SimError> {
        let deadline = later(self.now, limit);
        if predicate(self) {
            return Ok(true);
        }
        let mut steps = 0u64;
        loop {
            self.flush_dirty();
            match self.next_event_time() {
                Some(at) if at <= deadline => {
                    if steps >= self.step_limit {
                        return Err(SimError::StepLimit(self.step_limit));
                    }
                    self.step();
                    steps += 1;
                    if predicate(self) {
                        return Ok(true);
                    }
                }
                _ => {
                    self.now = self.now.max(deadline);
                    return Ok(predicate(self));
                }
            }
        }
    }

    // ----- internals ------------------------------------------------------

    fn flush_dirty(&mut self) {
        for index in 0..self.endpoints.len() {
            if self.endpoints[index].dirty {
                self.drain(index);
            }
        }
    }

    fn fire_timeout(&mut self, index: usize) {
        let now = self.now;
        let Some(slot) = self.endpoints.get_mut(index) else {
            return;
        };
        slot.timeout_fired_at = Some(now);
        slot.inner.handle_timeout(now);
        self.record(TraceKind::Timeout {
            endpoint: EndpointId::from_index(index),
        });
        self.drain(index);
    }

    fn drain(&mut self, index: usize) {
        let now = self.now;
        let mut budget = MAX_TRANSMITS_PER_POLL;
        loop {
            let Some(slot) = self.endpoints.get_mut(index) else {
                return;
            };
            if budget == 0 {
                // Leave it dirty: the rest goes out at the next step.
                slot.dirty = true;
                return;
            }
            slot.dirty = false;
            let host = slot.host;
            let Some(datagram) = slot.inner.poll_transmit(now) else {
                break;
            };
            budget -= 1;
            self.transmit_from_host(host, datagram);
        }
        let mut budget = MAX_TRANSMITS_PER_POLL;
        loop {
            let Some(slot) = self.endpoints.get_mut(index) else {
                return;
            };
            if budget == 0 {
                slot.dirty = true;
                return;
            }
            let host = slot.host;
            let Some(command) = slot.inner.poll_stream(now) else {
                return;
            };
            budget -= 1;
            self.stream_command(index, host, command);
        }
    }

    fn record(&mut self, kind: TraceKind) {
        if self.trace.enabled() {
            self.trace.push(TraceEvent {
                at: self.now - self.epoch,
                kind,
            });
        }
    }

    fn counters_of(&mut self, node: Option<Node>) -> &mut Counters {
        let slot = match node {
            Some(Node::Host(h)) => self.hosts.get_mut(h.index()).map(|h| &mut h.counters),
            Some(Node::Nat(n)) => self.nats.get_mut(n.index()).map(|n| &mut n.counters),
            None => None,
        };
        slot.unwrap_or(&mut self.counters)
    }

    fn drop_datagram(&mut self, owner: Option<Node>, reason: DropReason, datagram: &Datagram) {
        self.counters_of(owner).count_drop(reason);
        self.record(TraceKind::Dropped {
            reason,
            flow: datagram.flow(),
        });
    }

    fn schedule(&mut self, at: Instant, hop: Hop, datagram: Datagram) {
        if self.queue.len() >= self.max_in_flight {
            self.drop_datagram(None, DropReason::InFlightLimit, &datagram);
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(InFlight {
            at,
            seq,
            hop,
            datagram,
        });
    }

    fn transmit_from_host(&mut self, host: HostId, mut datagram: Datagram) {
        let Some(h) = self.hosts.get_mut(host.index()) else {
            return;
        };
        h.counters.sent += 1;
        if datagram.source.ip().is_unspecified() {
            let v4 = datagram.source.is_ipv4();
            if let Some(ip) = h.addresses.iter().find(|a| a.is_ipv4() == v4) {
                datagram.source.set_ip(*ip);
            }
        }
        let valid = h.addresses.contains(&datagram.source.ip());
        let blocked = h.block_udp;
        let network = h.network;
        self.record(TraceKind::Sent {
            host,
            flow: datagram.flow(),
        });
        let owner = Some(Node::Host(host));
        if !valid {
            self.drop_datagram(owner, DropReason::InvalidSource, &datagram);
        } else if blocked {
            self.drop_datagram(owner, DropReason::Firewall, &datagram);
        } else {
            let from = Node::Host(host);
            self.enter_link(LinkRef::Up(from), Hop::Enter { network, from }, datagram);
        }
    }

    fn enter_link(&mut self, link: LinkRef, hop: Hop, datagram: Datagram) {
        let now = self.now;
        let ip_len = datagram.payload.len() + header_overhead(datagram.destination.is_ipv6());
        let (state, owner) = match link {
            LinkRef::Up(Node::Host(h)) => (
                self.hosts.get_mut(h.index()).map(|x| &mut x.up),
                Some(Node::Host(h)),
            ),
            LinkRef::Down(Node::Host(h)) => (
                self.hosts.get_mut(h.index()).map(|x| &mut x.down),
                Some(Node::Host(h)),
            ),
            LinkRef::Up(Node::Nat(n)) => (
                self.nats.get_mut(n.index()).map(|x| &mut x.up),
                Some(Node::Nat(n)),
            ),
            LinkRef::Down(Node::Nat(n)) => (
                self.nats.get_mut(n.index()).map(|x| &mut x.down),
                Some(Node::Nat(n)),
            ),
            LinkRef::Path(a, b) => (self.paths.get_mut(&(a, b)), None),
        };
        let Some(state) = state else {
            self.drop_datagram(owner, DropReason::NoRoute, &datagram);
            return;
        };
        match state.transmit(now, ip_len, &mut self.rng) {
            Err(drop) => {
                let reason = match drop {
                    LinkDrop::Mtu => DropReason::Mtu,
                    LinkDrop::Queue => DropReason::Queue,
                    LinkDrop::Loss => DropReason::Loss,
                };
                self.drop_datagram(owner, reason, &datagram);
            }
            Ok(out) => {
                if out.reordered {
                    self.counters_of(owner).reordered += 1;
                }
                if out.duplicated {
                    self.counters_of(owner).duplicated += 1;
                    self.record(TraceKind::Duplicated {
                        flow: datagram.flow(),
                    });
                    self.schedule(out.arrival, hop, datagram.clone());
                }
                self.schedule(out.arrival, hop, datagram);
            }
        }
    }

    fn process(&mut self, hop: Hop, datagram: Datagram) {
        match hop {
            Hop::Enter { network, from } => self.route(network, from, datagram),
            Hop::Path { to } => self.enter_downlink(to, datagram),
            Hop::Host(h) => self.deliver(h, datagram),
            Hop::Nat(n) => self.nat_inbound(n, datagram),
        }
    }

    fn enter_downlink(&mut self, to: Node, datagram: Datagram) {
        let hop = match to {
            Node::Host(h) => Hop::Host(h),
            Node::Nat(n) => Hop::Nat(n),
        };
        self.enter_link(LinkRef::Down(to), hop, datagram);
    }

    /// Forwards a datagram that is in `network`, having come from `from`.
    fn route(&mut self, network: Network, from: Node, datagram: Datagram) {
        if let Some(&to) = self.owners.get(&(network, datagram.destination.ip())) {
            if self.paths.contains_key(&(from, to)) {
                self.enter_link(LinkRef::Path(from, to), Hop::Path { to }, datagram);
            } else {
                self.enter_downlink(to, datagram);
            }
            return;
        }
        match network {
            // Nobody inside owns it: out through the gateway, unless that is
            // where it just came from.
            Network::Nat(n) if from != Node::Nat(n) => self.nat_outbound(n, datagram),
            _ => self.drop_datagram(None, DropReason::NoRoute, &datagram),
        }
    }

    fn purge_nat(&mut self, nat: NatId) {
        let now = self.now;
        let mut expired = std::mem::take(&mut self.expired);
        if let Some(n) = self.nats.get_mut(nat.index()) {
            n.state.purge(now, &mut expired);
            n.counters.nat_mappings_expired += expired.len() as u64;
        }
        for change in expired.drain(..) {
            self.record(TraceKind::MappingExpired {
                nat,
                internal: change.internal,
                external: change.external,
            });
        }
        self.expired = expired;
    }

    fn nat_outbound(&mut self, nat: NatId, mut datagram: Datagram) {
        self.purge_nat(nat);
        let now = self.now;
        let owner = Some(Node::Nat(nat));
        let Some(n) = self.nats.get_mut(nat.index()) else {
            return;
        };
        let external_ip = n.state.external_ip;
        let hairpin = datagram.destination.ip() == external_ip;
        let verdict = if n.state.config.block_udp {
            Err(DropReason::Firewall)
        } else if hairpin && !n.state.config.hairpinning {
            Err(DropReason::Hairpin)
        } else if datagram.destination.is_ipv4() != external_ip.is_ipv4() {
            Err(DropReason::NoRoute)
        } else {
            n.state
                .outbound(now, datagram.source, datagram.destination, &mut self.rng)
                .map_err(|_| DropReason::NatTableFull)
        };
        let (external, created) = match verdict {
            Ok(v) => v,
            Err(reason) => {
                self.drop_datagram(owner, reason, &datagram);
                return;
            }
        };
        n.counters.nat_outbound += 1;
        if created.is_some() {
            n.counters.nat_mappings_created += 1;
        }
        if hairpin {
            n.counters.nat_hairpinned += 1;
        }
        let parent = n.parent;
        if let Some(c) = created {
            self.record(TraceKind::MappingCreated {
                nat,
                internal: c.internal,
                external: c.external,
            });
        }
        self.record(TraceKind::NatOutbound {
            nat,
            internal: datagram.source,
            external,
        });
        datagram.source = external;
        if hairpin {
            // RFC 4787 REQ-9: turned around inside the NAT, with the source
            // translated, and subject to the same filtering as from outside.
            self.nat_inbound(nat, datagram);
        } else {
            let from = Node::Nat(nat);
            self.enter_link(
                LinkRef::Up(from),
                Hop::Enter {
                    network: parent,
                    from,
                },
                datagram,
            );
        }
    }

    fn nat_inbound(&mut self, nat: NatId, mut datagram: Datagram) {
        self.purge_nat(nat);
        let now = self.now;
        let owner = Some(Node::Nat(nat));
        let Some(n) = self.nats.get_mut(nat.index()) else {
            return;
        };
        let verdict = if n.state.config.block_udp {
            Err(DropReason::Firewall)
        } else {
            n.state
                .inbound(now, datagram.source, datagram.destination.port())
                .map_err(|e| match e {
                    NatDrop::NoMapping | NatDrop::TableFull => DropReason::NatNoMapping,
                    NatDrop::Filtered => DropReason::NatFilter,
                })
        };
        match verdict {
            Ok(internal) => {
                n.counters.nat_inbound += 1;
                datagram.destination = internal;
                self.route(Network::Nat(nat), Node::Nat(nat), datagram);
            }
            Err(reason) => self.drop_datagram(owner, reason, &datagram),
        }
    }

    /// The endpoint that receives what arrives at `host` for `port`: the one
    /// on that port, else the host's catch-all one.
    fn receiver(&self, host: HostId, port: u16) -> Option<EndpointId> {
        let h = self.hosts.get(host.index())?;
        let mut catch_all = None;
        let mut exact = None;
        for id in &h.endpoints {
            match self.endpoints.get(id.index()).map(|s| s.port) {
                Some(Some(p)) if p == port => exact = Some(*id),
                Some(None) => catch_all = Some(*id),
                _ => {}
            }
        }
        exact.or(catch_all)
    }

    fn deliver(&mut self, host: HostId, datagram: Datagram) {
        let owner = Some(Node::Host(host));
        let Some(h) = self.hosts.get(host.index()) else {
            return;
        };
        if h.block_udp {
            self.drop_datagram(owner, DropReason::Firewall, &datagram);
            return;
        }
        let Some(endpoint) = self.receiver(host, datagram.destination.port()) else {
            self.drop_datagram(owner, DropReason::NoEndpoint, &datagram);
            return;
        };
        self.counters_of(owner).delivered += 1;
        self.record(TraceKind::Delivered {
            host,
            endpoint,
            flow: datagram.flow(),
        });
        let now = self.now;
        if let Some(slot) = self.endpoints.get_mut(endpoint.index()) {
            slot.timeout_fired_at = None;
            slot.inner.handle_datagram(now, datagram);
        }
        self.drain(endpoint.index());
    }
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Sim {{ seed: {} (replay with NETSIM_SEED={}), elapsed: {:?}, steps: {}, in flight: {}",
            self.seed,
            self.seed,
            self.elapsed(),
            self.steps,
            self.queue.len()
        )?;
        writeln!(f, "  total: {}", self.counters())?;
        if self.stream_counters != StreamCounters::default() {
            writeln!(
                f,
                "  streams: {} live, {} B in flight; {}",
                self.streams.len(),
                self.stream_bytes,
                self.stream_counters
            )?;
        }
        for (i, n) in self.nats.iter().enumerate() {
            let c = &n.state.config;
            writeln!(
                f,
                "  {} [{}] {} in {}: mapping {:?}, filtering {:?}, hairpin {}, timeout {:?}{}, {} mappings, {} TCP ports; {}",
                NatId::from_index(i),
                n.name,
                n.state.external_ip,
                n.parent,
                c.mapping,
                c.filtering,
                c.hairpinning,
                c.mapping_timeout,
                if c.block_udp { ", UDP BLOCKED" } else { "" },
                n.state.len(),
                n.tcp.len(),
                n.counters
            )?;
        }
        for (i, h) in self.hosts.iter().enumerate() {
            writeln!(
                f,
                "  {} [{}] {:?} in {}{}{}; {}",
                HostId::from_index(i),
                h.name,
                h.addresses,
                h.network,
                if h.block_udp { ", UDP BLOCKED" } else { "" },
                if h.block_tcp { ", TCP BLOCKED" } else { "" },
                h.counters
            )?;
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            let port = e.port.map_or_else(|| "*".to_string(), |p| p.to_string());
            writeln!(
                f,
                "  {} {} on {}:{}, next timeout {:?}",
                EndpointId::from_index(i),
                e.type_name,
                e.host,
                port,
                e.inner
                    .poll_timeout()
                    .map(|t| t.saturating_duration_since(self.epoch))
            )?;
        }
        const SHOWN: usize = 32;
        let total = self.trace.events().len();
        if total > 0 {
            writeln!(f, "  last {} trace events:", total.min(SHOWN))?;
            for e in self.trace.events().skip(total.saturating_sub(SHOWN)) {
                writeln!(f, "    {e}")?;
            }
        }
        write!(f, "}}")
    }
}
