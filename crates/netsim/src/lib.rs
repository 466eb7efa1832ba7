//! A deterministic, sans-IO network simulator for testing rtcwire's protocol
//! state machines.
//!
//! `rtcwire-netsim` runs any number of [`Endpoint`]s (STUN clients, ICE
//! agents, DTLS or SCTP associations, or small test doubles) on simulated
//! hosts, moves their datagrams across impaired links and NATs, and advances
//! a virtual clock straight to the next event. A 30-second call finishes in
//! milliseconds of real time, and every run replays exactly from its seed.
//! It is a dev-dependency only: nothing in it touches a socket or a thread.
//!
//! # The model
//!
//! * **Clock.** [`Sim::new`] reads `Instant::now()` once to get an epoch;
//!   from then on virtual time only moves forward by adding durations, to the
//!   instant of the next event. Endpoints receive that `now` with every call.
//!   Nothing depends on the real time, only on offsets from the epoch.
//! * **Randomness.** One [`Rng`] (xoshiro256**, written here so it never
//!   changes under us) seeded with the `u64` passed to [`Sim::new`] makes
//!   every random choice: loss, jitter, duplication, reordering and NAT port
//!   allocation. Events at the same instant run in the order they were
//!   scheduled, so the same seed and the same endpoints give the same run.
//!   [`seed_from_env_or`] takes the seed from `NETSIM_SEED`, the seed is in
//!   the `Debug` output of [`Sim`], and a [`SeedReporter`] prints it when a
//!   test panics.
//! * **Networks.** There is one [`Network::Internet`], and each NAT has a
//!   private network of its own ([`Network::Nat`]). Addresses are unique
//!   within a network but may repeat across networks (every home can be
//!   `192.168.1.0/24`).
//! * **Hosts** ([`Sim::add_host`]) have one or more IPv4/IPv6 addresses in
//!   one network. **NATs** ([`Sim::add_nat`]) have one external address in
//!   their parent network (the internet, or another NAT's inside, so NATs
//!   nest). A host or NAT is a [`Node`].
//! * **Links.** Every node has an access link to its network with separate
//!   up (towards the network) and down directions, each a [`LinkConfig`]
//!   (perfect by default). A datagram from host A to host B crosses A's
//!   uplink, then, for each NAT on the way out, that NAT's uplink, then the
//!   downlinks of each NAT on the way in, then B's downlink. NATs themselves
//!   translate instantly. For a particular pair of nodes in the same network
//!   an extra path link can be added on top ([`Sim::set_path`]), for example
//!   a long-haul hop between two continents. Each link keeps its own queue,
//!   burst-loss state and ordering; see [`LinkConfig`] for the stages.
//! * **Routing.** In a network, a datagram goes to the host or NAT that owns
//!   its destination address. If nobody inside a NAT's network owns it, it
//!   leaves through that NAT. On the internet, an address nobody owns is
//!   dropped and counted ([`DropReason::NoRoute`]).
//! * **Endpoints** ([`Sim::add_endpoint`]) run on a host and receive
//!   datagrams for all the host's ports, or for one port
//!   ([`Sim::add_endpoint_on_port`]). After each input the simulator drains
//!   [`Endpoint::poll_transmit`]; before each step it reads
//!   [`Endpoint::poll_timeout`]. A timeout at or before `now` fires once at
//!   `now`; if the endpoint still asks for a past instant without receiving
//!   anything new, it is not called again until the clock moves. Every `run_*`
//!   call also has a step limit ([`Sim::set_step_limit`]).
//!
//! # NATs (RFC 4787)
//!
//! A [`NatConfig`] combines:
//!
//! * **Mapping behaviour** ([`MappingBehavior`]): whether the external
//!   address chosen for an internal address X:x is reused for every
//!   destination (*endpoint-independent*), for every port of one destination
//!   IP (*address-dependent*), or only for one destination IP and port
//!   (*address-and-port-dependent*, the classic "symmetric" NAT).
//! * **Filtering behaviour** ([`FilteringBehavior`]): which remote endpoints
//!   may send back through a mapping: anyone (*endpoint-independent*), IPs X
//!   has sent to (*address-dependent*), or exact IP:port pairs X has sent to
//!   (*address-and-port-dependent*).
//! * **Mapping timeout**: a mapping idle for this long is removed (outbound
//!   traffic refreshes it, inbound optionally); the next outbound datagram
//!   gets a new mapping, and with random allocation a new port.
//! * **Hairpinning**: whether hosts behind the NAT reach each other through
//!   its external address. A hairpinned datagram gets the sender's external
//!   source address (RFC 4787 REQ-9), passes the receiver's filter like any
//!   inbound datagram, and turns around inside the NAT without crossing the
//!   NAT's own link.
//! * **Port allocation** ([`PortAllocation`]): random from a range,
//!   sequential, or port-preserving.
//! * **Blocking UDP** altogether, like a restrictive firewall
//!   ([`NatConfig::udp_blocked`]; [`Sim::set_udp_blocked`] does the same for a
//!   single host).
//!
//! The presets are [`NatConfig::full_cone`], [`NatConfig::restricted_cone`],
//! [`NatConfig::port_restricted_cone`] and [`NatConfig::symmetric`].
//!
//! # Streams (TCP)
//!
//! Besides datagrams, endpoints can open TCP-like stream connections, so a
//! peer behind a UDP-blocking firewall can reach a TURN server over TCP
//! (RFC 8656 `?transport=tcp`). An endpoint asks with
//! [`Endpoint::poll_stream`] ([`StreamCommand`]: connect, send, close) and
//! hears back through [`Endpoint::handle_stream`] ([`StreamEvent`]: opened,
//! data, closed). Both methods have default bodies, so UDP-only endpoints
//! ignore streams. The simulator drains `poll_stream` right after
//! `poll_transmit`, after every input and for endpoints touched through
//! [`Sim::endpoint_mut`]. The model is deliberately simple:
//!
//! * **Reliable and in order.** TCP's retransmissions are assumed to work:
//!   bytes arrive in order and without loss after the one-way *base latency*
//!   of the path, the sum of the configured `latency` of every link crossed
//!   (the client's uplink, each NAT's uplink on the way out, the server's
//!   downlink, and [`Sim::set_path`] links between them), taken when the
//!   connection is opened. Loss, jitter, duplication, reordering, MTU and
//!   bandwidth apply to datagrams only; streams have no congestion control,
//!   no segmentation and no flow control (a write arrives as one
//!   [`StreamEvent::Data`], however large).
//! * **Handshake.** The server's endpoint gets `Opened` when the SYN arrives
//!   (one way after `Connect`); the client gets `Opened` one round trip after
//!   `Connect`. Bytes the client writes before that wait and leave when it
//!   opens.
//! * **Routing** follows the datagram topology. A connection leaving through
//!   a NAT gets a port from that NAT's TCP port space (separate from its UDP
//!   mappings; a sequential counter over the NAT's
//!   [`PortAllocation`] range, released when the connection ends), so the
//!   server sees the outermost NAT's external address as `remote`. NAT
//!   mapping and filtering behaviours, timeouts and hairpinning do not
//!   apply to TCP. Hosts on the same private network connect directly.
//! * **Refusal.** A connection to a NAT's address from outside (no port
//!   forwarding), to an address nobody owns, or to a host with no endpoint
//!   for the port is refused: the client gets [`StreamEvent::Closed`] one
//!   round trip (over the links crossed so far) after `Connect`. Invalid
//!   connects (port 0, a local address not the host's) and connects from a
//!   host with TCP blocked are refused at once. A second `Connect` on a
//!   (local, remote) pair already in use is ignored and counted as refused.
//! * **Who accepts**: the same rule as datagrams, the endpoint on the
//!   destination port, else the host's catch-all endpoint. There is no
//!   separate listen step.
//! * **Firewalls.** Blocking UDP ([`NatConfig::udp_blocked`],
//!   [`Sim::set_udp_blocked`]) does not block TCP: that is the point.
//!   [`Sim::set_tcp_blocked`] blocks TCP to and from one host (new
//!   connections in both directions are refused; open ones stay open).
//! * **Close** is a full close (no half-close): the closing side gets no
//!   more events, the other gets `Closed` after the bytes already written;
//!   what it writes meanwhile is discarded.
//! * **Limits.** At most [`MAX_STREAMS`] connections at once (more are
//!   refused) and [`MAX_STREAM_BYTES_IN_FLIGHT`] stream bytes in flight or
//!   waiting to open; a write past that resets its connection (both sides get
//!   `Closed`), because a reliable stream may not drop bytes and the API has
//!   no back-pressure. Stream events do not count against
//!   [`Sim::set_max_in_flight`].
//! * [`Sim::stream_counters`] counts connects, accepts, refusals, closes,
//!   resets and bytes; `Debug` output shows them. Stream events are not in
//!   the trace.
//!
//! ```
//! use std::net::{Ipv4Addr, SocketAddr};
//! use std::time::{Duration, Instant};
//! use rtcwire_netsim::{Datagram, Endpoint, NatConfig, Network, Sim, StreamCommand, StreamEvent};
//!
//! /// Issues queued commands; echoes what arrives if `echo`; keeps the events.
//! #[derive(Default)]
//! struct Tcp { commands: Vec<StreamCommand>, events: Vec<StreamEvent>, echo: bool }
//! impl Endpoint for Tcp {
//!     fn handle_datagram(&mut self, _now: Instant, _d: Datagram) {}
//!     fn handle_timeout(&mut self, _now: Instant) {}
//!     fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> { None }
//!     fn poll_timeout(&self) -> Option<Instant> { None }
//!     fn handle_stream(&mut self, _now: Instant, event: StreamEvent) {
//!         if let (true, StreamEvent::Data { local, remote, bytes }) = (self.echo, &event) {
//!             self.commands.push(StreamCommand::Send { local: *local, remote: *remote, bytes: bytes.clone() });
//!         }
//!         self.events.push(event);
//!     }
//!     fn poll_stream(&mut self, _now: Instant) -> Option<StreamCommand> {
//!         (!self.commands.is_empty()).then(|| self.commands.remove(0))
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut sim = Sim::new(1);
//! let firewall = sim.add_nat(Network::Internet, Ipv4Addr::new(203, 0, 113, 1), NatConfig::udp_blocked())?;
//! let laptop = sim.add_host(firewall, Ipv4Addr::new(192, 168, 1, 2))?;
//! let turn = sim.add_host(Network::Internet, Ipv4Addr::new(198, 51, 100, 1))?;
//! let server = sim.add_endpoint_on_port(turn, 3478, Tcp { echo: true, ..Tcp::default() })?;
//! let (local, remote): (SocketAddr, SocketAddr) = ("192.168.1.2:40000".parse()?, "198.51.100.1:3478".parse()?);
//! let client = sim.add_endpoint(laptop, Tcp {
//!     commands: vec![
//!         StreamCommand::Connect { local, remote },
//!         StreamCommand::Send { local, remote, bytes: b"allocate".to_vec() },
//!     ],
//!     ..Tcp::default()
//! })?;
//! sim.run_for(Duration::from_millis(10))?;
//!
//! let events = &sim.endpoint::<Tcp>(client).ok_or("no client")?.events;
//! assert_eq!(events[0], StreamEvent::Opened { local, remote });
//! assert_eq!(events[1], StreamEvent::Data { local, remote, bytes: b"allocate".to_vec() });
//! // The server saw the firewall's address.
//! let accepted = &sim.endpoint::<Tcp>(server).ok_or("no server")?.events[0];
//! assert!(matches!(accepted, StreamEvent::Opened { remote, .. } if remote.ip() == Ipv4Addr::new(203, 0, 113, 1)));
//! # Ok(())
//! # }
//! ```
//!
//! # Limits
//!
//! Memory is bounded: at most [`DEFAULT_MAX_IN_FLIGHT`] datagrams in flight
//! ([`Sim::set_max_in_flight`]), [`DEFAULT_MAX_MAPPINGS`] mappings per NAT
//! ([`NatConfig::max_mappings`]), [`MAX_PERMISSIONS_PER_MAPPING`] remembered
//! peers per mapping, and a trace ring buffer of the size you choose
//! ([`Sim::enable_trace`]). Going past a cap drops datagrams and counts them.
//! A NAT translates only its own address family; IPv6 datagrams cannot cross
//! an IPv4 NAT (give such hosts a second, public address instead).
//!
//! # Observing a run
//!
//! [`Sim::counters`], [`Sim::host_counters`] and [`Sim::nat_counters`]
//! count what was sent, delivered, duplicated and dropped (by reason);
//! [`Sim::enable_trace`] keeps the last events, and `format!("{sim:?}")`
//! prints the seed, the topology, the counters and the end of the trace.
//!
//! # Example
//!
//! A pinger behind a port-restricted cone NAT pings an echo server behind a
//! full-cone NAT every 100 ms, over Wi-Fi.
//!
//! ```
//! use std::net::{Ipv4Addr, SocketAddr};
//! use std::time::{Duration, Instant};
//! use rtcwire_netsim::{Datagram, Endpoint, LinkConfig, NatConfig, Network, Sim};
//!
//! struct Echo { local: SocketAddr, out: Vec<Datagram> }
//! impl Endpoint for Echo {
//!     fn handle_datagram(&mut self, _now: Instant, d: Datagram) {
//!         self.out.push(Datagram { source: self.local, destination: d.source, payload: d.payload });
//!     }
//!     fn handle_timeout(&mut self, _now: Instant) {}
//!     fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> { self.out.pop() }
//!     fn poll_timeout(&self) -> Option<Instant> { None }
//! }
//!
//! struct Pinger { local: SocketAddr, peer: SocketAddr, next: Option<Instant>, due: bool, pongs: u32 }
//! impl Endpoint for Pinger {
//!     fn handle_datagram(&mut self, _now: Instant, _d: Datagram) { self.pongs += 1; }
//!     fn handle_timeout(&mut self, now: Instant) {
//!         self.due = true;
//!         self.next = Some(now + Duration::from_millis(100));
//!     }
//!     fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
//!         std::mem::take(&mut self.due).then(|| Datagram {
//!             source: self.local, destination: self.peer, payload: b"ping".to_vec(),
//!         })
//!     }
//!     fn poll_timeout(&self) -> Option<Instant> { self.next }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut sim = Sim::new(rtcwire_netsim::seed_from_env_or(1));
//! let home = sim.add_nat(Network::Internet, Ipv4Addr::new(203, 0, 113, 1), NatConfig::port_restricted_cone())?;
//! let office = sim.add_nat(Network::Internet, Ipv4Addr::new(198, 51, 100, 1), NatConfig::full_cone())?;
//! let laptop = sim.add_host(home, Ipv4Addr::new(192, 168, 1, 2))?;
//! let server = sim.add_host(office, Ipv4Addr::new(10, 0, 0, 2))?;
//! sim.set_link(laptop, LinkConfig::wifi())?;
//!
//! // The full-cone NAT forwards anything once the server has a mapping:
//! // let the server send one datagram out to open it (port 7 -> 49152..).
//! let echo_addr = SocketAddr::from((Ipv4Addr::new(10, 0, 0, 2), 7));
//! let echo = sim.add_endpoint(server, Echo { local: echo_addr, out: vec![] })?;
//! sim.endpoint_mut::<Echo>(echo).ok_or("no echo")?.out.push(Datagram {
//!     source: echo_addr,
//!     destination: "192.0.2.1:9".parse()?, // nobody: dropped, counted
//!     payload: vec![],
//! });
//! sim.run_for(Duration::from_millis(1))?;
//! let public_echo = sim.nat_mappings(office)[0].external;
//!
//! let start = sim.now();
//! let pinger = sim.add_endpoint(laptop, Pinger {
//!     local: SocketAddr::from((Ipv4Addr::new(192, 168, 1, 2), 5000)),
//!     peer: public_echo,
//!     next: Some(start),
//!     due: false,
//!     pongs: 0,
//! })?;
//! sim.run_for(Duration::from_secs(10))?;
//!
//! let pongs = sim.endpoint::<Pinger>(pinger).ok_or("no pinger")?.pongs;
//! assert!(pongs > 90, "{pongs} pongs\n{sim:?}");
//! assert_eq!(sim.counters().dropped_no_route, 1);
//! assert_eq!(sim.now() - start, Duration::from_secs(10));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod link;
mod nat;
mod placement;
mod responder;
mod rng;
mod seed;
mod sim;
mod stats;
mod stream;

pub use link::{GilbertElliott, LinkConfig};
pub use nat::{
    DEFAULT_MAX_MAPPINGS, FilteringBehavior, MAX_PERMISSIONS_PER_MAPPING, MappingBehavior, NatConfig,
    NatMapping, PortAllocation,
};
pub use placement::Placement;
pub use responder::Responder;
pub use rng::Rng;
pub use seed::{SEED_ENV, SeedReporter, seed_from_env_or};
pub use sim::{
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_STEP_LIMIT, Datagram, Endpoint, EndpointId, HostId,
    MAX_TRANSMITS_PER_POLL, NatId, Network, Node, Sim, SimError,
};
pub use stats::{Counters, DropReason, Flow, TraceEvent, TraceKind};
pub use stream::{MAX_STREAM_BYTES_IN_FLIGHT, MAX_STREAMS, StreamCommand, StreamCounters, StreamEvent};
