//! TCP-like stream connections: routing, NAT traversal and delivery. The
//! model is in the [crate docs](crate#streams-tcp).

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::{EndpointId, HostId, NatId, Network, Node, Sim, later};
use crate::stream::{MAX_STREAM_BYTES_IN_FLIGHT, MAX_STREAMS, StreamCommand, StreamEvent};

/// A connection's number, in the order `Connect`s were taken.
pub(super) type StreamId = u64;

/// One end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Side {
    /// The side that connected.
    Client,
    /// The side that accepted.
    Server,
}

impl Side {
    fn other(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }
}

/// A host's socket pair: (host, local, remote). Unique per host, like a
/// connected TCP socket's 4-tuple.
pub(super) type StreamKey = (HostId, SocketAddr, SocketAddr);

struct End {
    endpoint: EndpointId,
    host: HostId,
    local: SocketAddr,
    remote: SocketAddr,
    /// Still gets events: has neither closed nor been told `Closed`.
    live: bool,
}

impl End {
    fn key(&self) -> StreamKey {
        (self.host, self.local, self.remote)
    }
}

pub(super) struct Stream {
    client: End,
    /// `None` until the SYN is accepted.
    server: Option<End>,
    /// Client to server, one way (the base latency of the path).
    forward: Duration,
    /// Server to client, one way.
    back: Duration,
    /// The client has its SYN-ACK.
    opened: bool,
    /// Written by the client before it opened.
    pending: Vec<u8>,
    /// The client closed before it opened: its FIN follows `pending` once
    /// the SYN-ACK arrives.
    close_pending: bool,
    /// The TCP ports the NATs on the way gave the connection.
    nat_ports: Vec<(NatId, u16)>,
    /// The client's address as the server sees it.
    seen_as: SocketAddr,
}

impl Stream {
    fn end(&self, side: Side) -> Option<&End> {
        match side {
            Side::Client => Some(&self.client),
            Side::Server => self.server.as_ref(),
        }
    }

    fn end_mut(&mut self, side: Side) -> Option<&mut End> {
        match side {
            Side::Client => Some(&mut self.client),
            Side::Server => self.server.as_mut(),
        }
    }

    fn latency_to(&self, side: Side) -> Duration {
        match side {
            Side::Server => self.forward,
            Side::Client => self.back,
        }
    }

    /// Both ends are done with it (a refused SYN is handled on its own).
    fn finished(&self) -> bool {
        !self.client.live && self.server.as_ref().is_some_and(|s| !s.live)
    }
}

/// What is on its way, when a stream event fires.
pub(super) enum StreamMsg {
    /// The SYN reaches the server's host.
    Syn { stream: StreamId, host: HostId },
    /// The SYN-ACK reaches the client.
    SynAck { stream: StreamId },
    /// The refusal reaches the client.
    Refused { stream: StreamId },
    /// Bytes reach one side.
    Data {
        stream: StreamId,
        to: Side,
        bytes: Vec<u8>,
    },
    /// The other side's close reaches one side.
    Fin { stream: StreamId, to: Side },
    /// An event for an endpoint outside any live connection (a `Connect`
    /// refused on the spot, a reset).
    Notify {
        endpoint: EndpointId,
        event: StreamEvent,
    },
}

pub(super) struct StreamInFlight {
    pub(super) at: Instant,
    pub(super) seq: u64,
    msg: StreamMsg,
}

impl StreamInFlight {
    pub(super) fn into_msg(self) -> StreamMsg {
        self.msg
    }
}

impl PartialEq for StreamInFlight {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}
impl Eq for StreamInFlight {}
impl PartialOrd for StreamInFlight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for StreamInFlight {
    // Reversed so `BinaryHeap` pops the earliest, and the first scheduled
    // among equal instants.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// A NAT's TCP port space, separate from its UDP mappings.
#[derive(Debug, Default)]
pub(super) struct NatTcp {
    in_use: BTreeSet<u16>,
    next: u16,
}

impl NatTcp {
    /// The next free port of `first..=last` after the last one given,
    /// wrapping; `None` when all are taken.
    fn allocate(&mut self, (first, last): (u16, u16)) -> Option<u16> {
        let (first, last) = (first.max(1), last.max(first.max(1)));
        let span = u32::from(last - first) + 1;
        let start = if (first..=last).contains(&self.next) {
            self.next
        } else {
            first
        };
        for i in 0..span {
            let offset = (u32::from(start - first) + i) % span;
            let port = first + u16::try_from(offset).unwrap_or(0);
            if self.in_use.insert(port) {
                self.next = if port == last { first } else { port + 1 };
                return Some(port);
            }
        }
        None
    }

    fn release(&mut self, port: u16) {
        self.in_use.remove(&port);
    }

    pub(super) fn len(&self) -> usize {
        self.in_use.len()
    }
}

/// Where a SYN goes, worked out from the topology when it is sent.
struct Route {
    /// The host that owns the destination, or `None` when something on the
    /// way refuses it.
    to: Option<HostId>,
    forward: Duration,
    back: Duration,
    /// The client's address as the server will see it.
    seen_as: SocketAddr,
    nat_ports: Vec<(NatId, u16)>,
}

impl Sim {
    /// Blocks (or unblocks) all TCP to and from a host: its `Connect`s and
    /// connections to it are refused. Connections already open stay open.
    pub fn set_tcp_blocked(&mut self, host: HostId, blocked: bool) -> Result<(), super::SimError> {
        self.host_mut(host)?.block_tcp = blocked;
        Ok(())
    }

    /// Stream counters of the whole simulation.
    #[must_use]
    pub fn stream_counters(&self) -> crate::StreamCounters {
        self.stream_counters
    }

    /// Stream connections alive (from `Connect` until both sides closed).
    #[must_use]
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    pub(super) fn schedule_stream(&mut self, at: Instant, msg: StreamMsg) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.stream_queue.push(StreamInFlight { at, seq, msg });
    }

    fn notify(&mut self, endpoint: EndpointId, event: StreamEvent) {
        let now = self.now;
        self.schedule_stream(now, StreamMsg::Notify { endpoint, event });
    }

    /// Handles one command from the endpoint at `index`, running on `host`.
    pub(super) fn stream_command(&mut self, index: usize, host: HostId, command: StreamCommand) {
        let endpoint = EndpointId::from_index(index);
        match command {
            StreamCommand::Connect { local, remote } => self.connect(endpoint, host, local, remote),
            StreamCommand::Send { local, remote, bytes } => {
                self.stream_send(endpoint, host, local, remote, bytes)
            }
            StreamCommand::Close { local, remote } => self.stream_close(endpoint, host, local, remote),
        }
    }

    fn lookup(&mut self, endpoint: EndpointId, key: StreamKey) -> Option<(StreamId, Side)> {
        let found = self.stream_keys.get(&key).copied().filter(|(id, side)| {
            self.streams
                .get(id)
                .and_then(|s| s.end(*side))
                .is_some_and(|e| e.endpoint == endpoint && e.live)
        });
        if found.is_none() {
            self.stream_counters.unknown_connection += 1;
        }
        found
    }

    fn connect(&mut self, endpoint: EndpointId, host: HostId, mut local: SocketAddr, remote: SocketAddr) {
        self.stream_counters.connects += 1;
        let Some(h) = self.hosts.get(host.index()) else {
            return;
        };
        if local.ip().is_unspecified() {
            let v4 = local.is_ipv4();
            if let Some(ip) = h.addresses.iter().find(|a| a.is_ipv4() == v4) {
                local.set_ip(*ip);
            }
        }
        let closed = StreamEvent::Closed { local, remote };
        let valid = local.port() != 0
            && remote.port() != 0
            && !remote.ip().is_unspecified()
            && h.addresses.contains(&local.ip());
        let key = (host, local, remote);
        if self.stream_keys.contains_key(&key) {
            // A second connection on a pair in use: a real stack fails the
            // connect call (EADDRINUSE); telling `Closed` for that pair would
            // close the live one in the endpoint's eyes, so it is ignored.
            self.stream_counters.refused += 1;
            return;
        }
        if !valid || h.block_tcp || self.streams.len() >= MAX_STREAMS {
            self.stream_counters.refused += 1;
            self.notify(endpoint, closed);
            return;
        }
        let route = self.stream_route(host, local, remote);
        let id = self.next_stream;
        self.next_stream += 1;
        self.streams.insert(
            id,
            Stream {
                client: End {
                    endpoint,
                    host,
                    local,
                    remote,
                    live: true,
                },
                server: None,
                forward: route.forward,
                back: route.back,
                opened: false,
                pending: Vec::new(),
                close_pending: false,
                nat_ports: route.nat_ports,
                seen_as: route.seen_as,
            },
        );
        self.stream_keys.insert(key, (id, Side::Client));
        let now = self.now;
        match route.to {
            Some(to) => {
                self.schedule_stream(later(now, route.forward), StreamMsg::Syn { stream: id, host: to })
            }
            None => self.schedule_stream(
                later(now, route.forward.saturating_add(route.back)),
                StreamMsg::Refused { stream: id },
            ),
        }
    }

    /// Follows the datagram routing rules outwards from `host` to `remote`,
    /// giving the connection a port at each NAT it leaves through.
    fn stream_route(&mut self, host: HostId, local: SocketAddr, remote: SocketAddr) -> Route {
        let mut route = Route {
            to: None,
            forward: Duration::ZERO,
            back: Duration::ZERO,
            seen_as: local,
            nat_ports: Vec::new(),
        };
        let Some(h) = self.hosts.get(host.index()) else {
            return route;
        };
        route.forward = route.forward.saturating_add(h.up.config.latency);
        route.back = route.back.saturating_add(h.down.config.latency);
        let mut network = h.network;
        let mut from = Node::Host(host);
        // Each pass leaves through one NAT, so this bounds the walk.
        for _ in 0..=self.nats.len() {
            if let Some(&to) = self.owners.get(&(network, remote.ip())) {
                route.forward = route
                    .forward
                    .saturating_add(self.path_latency(from, to))
                    .saturating_add(self.downlink_latency(to));
                route.back = route
                    .back
                    .saturating_add(self.uplink_latency(to))
                    .saturating_add(self.path_latency(to, from));
                // A NAT forwards no port inward: only hosts accept.
                if let Node::Host(h) = to {
                    route.to = Some(h);
                }
                return route;
            }
            let Network::Nat(n) = network else {
                // Nobody on the internet owns it.
                return route;
            };
            if from == Node::Nat(n) {
                return route;
            }
            let Some(nat) = self.nats.get_mut(n.index()) else {
                return route;
            };
            let external_ip: IpAddr = nat.state.external_ip;
            if external_ip.is_ipv4() != remote.is_ipv4() {
                return route;
            }
            let range = nat.state.config.port_allocation.range();
            let Some(port) = nat.tcp.allocate(range) else {
                return route;
            };
            route.nat_ports.push((n, port));
            route.seen_as = SocketAddr::new(external_ip, port);
            route.forward = route.forward.saturating_add(nat.up.config.latency);
            route.back = route.back.saturating_add(nat.down.config.latency);
            network = nat.parent;
            from = Node::Nat(n);
        }
        route
    }

    fn path_latency(&self, from: Node, to: Node) -> Duration {
        self.paths
            .get(&(from, to))
            .map_or(Duration::ZERO, |p| p.config.latency)
    }

    fn uplink_latency(&self, node: Node) -> Duration {
        match node {
            Node::Host(h) => self.hosts.get(h.index()).map(|x| x.up.config.latency),
            Node::Nat(n) => self.nats.get(n.index()).map(|x| x.up.config.latency),
        }
        .unwrap_or(Duration::ZERO)
    }

    fn downlink_latency(&self, node: Node) -> Duration {
        match node {
            Node::Host(h) => self.hosts.get(h.index()).map(|x| x.down.config.latency),
            Node::Nat(n) => self.nats.get(n.index()).map(|x| x.down.config.latency),
        }
        .unwrap_or(Duration::ZERO)
    }

    fn stream_send(
        &mut self,
        endpoint: EndpointId,
        host: HostId,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: Vec<u8>,
    ) {
        let Some((id, side)) = self.lookup(endpoint, (host, local, remote)) else {
            return;
        };
        if bytes.is_empty() {
            return;
        }
        if self.stream_bytes.saturating_add(bytes.len()) > MAX_STREAM_BYTES_IN_FLIGHT {
            self.reset_stream(id);
            return;
        }
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        self.stream_bytes += bytes.len();
        self.stream_counters.bytes_sent += bytes.len() as u64;
        if side == Side::Client && !stream.opened {
            stream.pending.extend_from_slice(&bytes);
            return;
        }
        let to = side.other();
        let at = later(self.now, stream.latency_to(to));
        self.schedule_stream(
            at,
            StreamMsg::Data {
                stream: id,
                to,
                bytes,
            },
        );
    }

    fn stream_close(&mut self, endpoint: EndpointId, host: HostId, local: SocketAddr, remote: SocketAddr) {
        let Some((id, side)) = self.lookup(endpoint, (host, local, remote)) else {
            return;
        };
        self.stream_counters.closed += 1;
        self.end_side(id, side);
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        if side == Side::Client && !stream.opened {
            stream.close_pending = true;
            return;
        }
        let to = side.other();
        let at = later(self.now, stream.latency_to(to));
        self.schedule_stream(at, StreamMsg::Fin { stream: id, to });
        self.remove_if_finished(id);
    }

    /// Marks one side as done: no more events for it, its pair free again.
    fn end_side(&mut self, id: StreamId, side: Side) {
        let Some(end) = self.streams.get_mut(&id).and_then(|s| s.end_mut(side)) else {
            return;
        };
        end.live = false;
        let key = end.key();
        if self.stream_keys.get(&key) == Some(&(id, side)) {
            self.stream_keys.remove(&key);
        }
    }

    fn remove_if_finished(&mut self, id: StreamId) {
        if self.streams.get(&id).is_some_and(Stream::finished) {
            self.remove_stream(id);
        }
    }

    fn remove_stream(&mut self, id: StreamId) {
        self.end_side(id, Side::Client);
        self.end_side(id, Side::Server);
        let Some(stream) = self.streams.remove(&id) else {
            return;
        };
        self.stream_bytes = self.stream_bytes.saturating_sub(stream.pending.len());
        for (nat, port) in stream.nat_ports {
            if let Some(n) = self.nats.get_mut(nat.index()) {
                n.tcp.release(port);
            }
        }
    }

    /// Tears a connection down at once: each live side gets `Closed` now,
    /// and whatever is in flight is discarded.
    fn reset_stream(&mut self, id: StreamId) {
        self.stream_counters.reset += 1;
        let Some(stream) = self.streams.get(&id) else {
            return;
        };
        let ends: Vec<(EndpointId, StreamEvent)> = [Some(&stream.client), stream.server.as_ref()]
            .into_iter()
            .flatten()
            .filter(|e| e.live)
            .map(|e| {
                (
                    e.endpoint,
                    StreamEvent::Closed {
                        local: e.local,
                        remote: e.remote,
                    },
                )
            })
            .collect();
        self.remove_stream(id);
        for (endpoint, event) in ends {
            self.notify(endpoint, event);
        }
    }

    /// Processes a stream event whose time has come.
    pub(super) fn process_stream(&mut self, msg: StreamMsg) {
        match msg {
            StreamMsg::Syn { stream, host } => self.syn_arrived(stream, host),
            StreamMsg::SynAck { stream } => self.syn_ack_arrived(stream),
            StreamMsg::Refused { stream } => {
                self.stream_counters.refused += 1;
                let event = self.streams.get(&stream).filter(|s| s.client.live).map(|s| {
                    (
                        s.client.endpoint,
                        StreamEvent::Closed {
                            local: s.client.local,
                            remote: s.client.remote,
                        },
                    )
                });
                self.remove_stream(stream);
                if let Some((endpoint, event)) = event {
                    self.deliver_stream(endpoint, event);
                }
            }
            StreamMsg::Data { stream, to, bytes } => {
                self.stream_bytes = self.stream_bytes.saturating_sub(bytes.len());
                let Some(end) = self
                    .streams
                    .get(&stream)
                    .and_then(|s| s.end(to))
                    .filter(|e| e.live)
                else {
                    return;
                };
                let (endpoint, local, remote) = (end.endpoint, end.local, end.remote);
                self.stream_counters.bytes_delivered += bytes.len() as u64;
                self.deliver_stream(endpoint, StreamEvent::Data { local, remote, bytes });
            }
            StreamMsg::Fin { stream, to } => {
                let end = self
                    .streams
                    .get(&stream)
                    .and_then(|s| s.end(to))
                    .filter(|e| e.live)
                    .map(|e| (e.endpoint, e.local, e.remote));
                self.end_side(stream, to);
                self.remove_if_finished(stream);
                if let Some((endpoint, local, remote)) = end {
                    self.deliver_stream(endpoint, StreamEvent::Closed { local, remote });
                }
            }
            StreamMsg::Notify { endpoint, event } => self.deliver_stream(endpoint, event),
        }
    }

    fn syn_arrived(&mut self, id: StreamId, host: HostId) {
        let Some(stream) = self.streams.get(&id).filter(|s| s.server.is_none()) else {
            return;
        };
        let (listen, seen_as, back) = (stream.client.remote, stream.seen_as, stream.back);
        let now = self.now;
        let key = (host, listen, seen_as);
        let acceptor = self
            .hosts
            .get(host.index())
            .filter(|h| !h.block_tcp && !self.stream_keys.contains_key(&key))
            .and_then(|_| self.receiver(host, listen.port()));
        let Some(endpoint) = acceptor else {
            self.schedule_stream(later(now, back), StreamMsg::Refused { stream: id });
            return;
        };
        if let Some(stream) = self.streams.get_mut(&id) {
            stream.server = Some(End {
                endpoint,
                host,
                local: listen,
                remote: seen_as,
                live: true,
            });
        }
        self.stream_keys.insert(key, (id, Side::Server));
        self.stream_counters.accepted += 1;
        // The SYN-ACK is scheduled before the server can write, so it reaches
        // the client before any of the server's bytes.
        self.schedule_stream(later(now, back), StreamMsg::SynAck { stream: id });
        self.deliver_stream(
            endpoint,
            StreamEvent::Opened {
                local: listen,
                remote: seen_as,
            },
        );
    }

    fn syn_ack_arrived(&mut self, id: StreamId) {
        let now = self.now;
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        stream.opened = true;
        let pending = std::mem::take(&mut stream.pending);
        let at = later(now, stream.forward);
        let client = &stream.client;
        let opened = client.live.then_some((
            client.endpoint,
            StreamEvent::Opened {
                local: client.local,
                remote: client.remote,
            },
        ));
        let fin = stream.close_pending;
        if !pending.is_empty() {
            self.schedule_stream(
                at,
                StreamMsg::Data {
                    stream: id,
                    to: Side::Server,
                    bytes: pending,
                },
            );
        }
        if fin {
            self.schedule_stream(
                at,
                StreamMsg::Fin {
                    stream: id,
                    to: Side::Server,
                },
            );
        }
        self.remove_if_finished(id);
        if let Some((endpoint, event)) = opened {
            self.deliver_stream(endpoint, event);
        }
    }

    fn deliver_stream(&mut self, endpoint: EndpointId, event: StreamEvent) {
        let now = self.now;
        let Some(slot) = self.endpoints.get_mut(endpoint.index()) else {
            return;
        };
        slot.timeout_fired_at = None;
        slot.inner.handle_stream(now, event);
        self.drain(endpoint.index());
    }
}
