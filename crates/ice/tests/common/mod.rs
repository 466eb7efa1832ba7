//! A test world: ICE agents as netsim endpoints, a STUN server, and
//! signalling that moves candidates between the agents instantly.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rtcwire_ice::{Candidate, CandidateKind, IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole};
use rtcwire_netsim::{Datagram, Endpoint, EndpointId, LinkConfig, Network, Responder, Sim};
use rtcwire_stun::BindingResponder;

pub const STUN_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 100);
pub const MDNS_PORT: u16 = 5353;
/// Where the simulated multicast group relays from.
pub const MULTICAST_RELAY: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 251)), MDNS_PORT);

/// netsim has no multicast: this endpoint owns 224.0.0.251 on the simulated
/// network and relays each datagram sent to it to every other member, with
/// the real sender framed in front. Nothing here touches a real interface.
pub struct MulticastGroup {
    pub members: Vec<IpAddr>,
    pub out: VecDeque<Datagram>,
}

impl Endpoint for MulticastGroup {
    fn handle_datagram(&mut self, _now: Instant, d: Datagram) {
        for m in &self.members {
            if *m != d.source.ip() {
                self.out.push_back(Datagram {
                    source: MULTICAST_RELAY,
                    destination: SocketAddr::new(*m, MDNS_PORT),
                    payload: relay_frame(d.source, &d.payload),
                });
            }
        }
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}
pub const STUN_PORT: u16 = 3478;

/// What signalling carries from one agent to the other.
#[derive(Debug, Clone)]
pub enum Signal {
    Candidate(Candidate),
    EndOfCandidates,
}

/// An ICE agent on a simulated host.
pub struct Peer {
    pub agent: IceAgent,
    pub outbox: VecDeque<Signal>,
    pub states: Vec<(Duration, IceConnectionState)>,
    pub selected: Vec<(Duration, SocketAddr, SocketAddr)>,
    pub epoch: Instant,
    /// Application datagrams received (non-STUN), with arrival time.
    pub app_received: Vec<(Duration, Vec<u8>)>,
    /// Application datagrams to send on the selected pair.
    pub app_outbox: VecDeque<Vec<u8>>,
    /// A relayed address and the relay server that serves it, standing in
    /// for a TURN client: transmits from the relayed address are wrapped
    /// and sent to the server from `host`.
    pub relay: Option<RelayClient>,
}

/// The client side of the test relay.
#[derive(Debug, Clone, Copy)]
pub struct RelayClient {
    pub host: SocketAddr,
    pub server: SocketAddr,
    pub relayed: SocketAddr,
}

/// Frames a datagram for the test relay: peer IPv4 address and port, then
/// the payload.
fn relay_frame(peer: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let ip = match peer.ip() {
        IpAddr::V4(v4) => v4.octets(),
        IpAddr::V6(_) => [0; 4],
    };
    let mut out = ip.to_vec();
    out.extend_from_slice(&peer.port().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn relay_unframe(frame: &[u8]) -> Option<(SocketAddr, &[u8])> {
    let ip: [u8; 4] = frame.get(..4)?.try_into().ok()?;
    let port = u16::from_be_bytes(frame.get(4..6)?.try_into().ok()?);
    Some((SocketAddr::from((ip, port)), &frame[6..]))
}

/// A relay in the spirit of TURN, without its protocol: a client sends
/// framed datagrams to port 3478, the relay sends them on from the client's
/// relayed port and frames what arrives there back to the client.
pub struct TestRelay {
    pub ip: Ipv4Addr,
    /// relayed port -> the client's address as the relay sees it (learned
    /// from its first framed datagram, as an allocation would).
    pub clients: Vec<(u16, Option<SocketAddr>)>,
    pub out: VecDeque<Datagram>,
}

impl Endpoint for TestRelay {
    fn handle_datagram(&mut self, _now: Instant, d: Datagram) {
        if d.destination.port() == 3478 {
            let slot = self
                .clients
                .iter()
                .position(|(_, c)| *c == Some(d.source))
                .or_else(|| self.clients.iter().position(|(_, c)| c.is_none()));
            let Some(slot) = slot else { return };
            self.clients[slot].1 = Some(d.source);
            let port = self.clients[slot].0;
            if let Some((peer, payload)) = relay_unframe(&d.payload) {
                self.out.push_back(Datagram {
                    source: SocketAddr::from((self.ip, port)),
                    destination: peer,
                    payload: payload.to_vec(),
                });
            }
            return;
        }
        if let Some((_, Some(client))) = self.clients.iter().find(|(p, _)| *p == d.destination.port()) {
            self.out.push_back(Datagram {
                source: SocketAddr::from((self.ip, 3478)),
                destination: *client,
                payload: relay_frame(d.source, &d.payload),
            });
        }
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

impl Peer {
    pub fn new(agent: IceAgent, epoch: Instant) -> Peer {
        Peer {
            agent,
            outbox: VecDeque::new(),
            states: Vec::new(),
            selected: Vec::new(),
            epoch,
            app_received: Vec::new(),
            app_outbox: VecDeque::new(),
            relay: None,
        }
    }

    fn collect(&mut self, now: Instant) {
        while let Some(e) = self.agent.poll_event() {
            let at = now - self.epoch;
            match e {
                IceEvent::LocalCandidate(c) => self.outbox.push_back(Signal::Candidate(c)),
                IceEvent::GatheringComplete => self.outbox.push_back(Signal::EndOfCandidates),
                IceEvent::StateChanged(s) => self.states.push((at, s)),
                IceEvent::SelectedPairChanged { local, remote } => self.selected.push((at, local, remote)),
                _ => {}
            }
        }
    }

    pub fn state(&self) -> IceConnectionState {
        self.agent.state()
    }

    /// When the agent first had a selected pair (Connected or Completed).
    pub fn connected_at(&self) -> Option<Duration> {
        self.states
            .iter()
            .find(|(_, s)| matches!(s, IceConnectionState::Connected | IceConnectionState::Completed))
            .map(|(t, _)| *t)
    }

    /// When the agent first reached `state`.
    pub fn reached(&self, state: IceConnectionState) -> Option<Duration> {
        self.states.iter().find(|(_, s)| *s == state).map(|(t, _)| *t)
    }
}

impl Endpoint for Peer {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        if d.destination.port() == MDNS_PORT {
            // From the simulated multicast group (with the real sender in
            // front), or a unicast mDNS reply.
            match (d.source == MULTICAST_RELAY)
                .then(|| relay_unframe(&d.payload))
                .flatten()
            {
                Some((sender, payload)) => self.agent.handle_mdns_receive(now, sender, payload),
                None => self.agent.handle_mdns_receive(now, d.source, &d.payload),
            };
            self.collect(now);
            return;
        }
        if let Some(r) = self.relay {
            if d.source == r.server {
                if let Some((peer, payload)) = relay_unframe(&d.payload) {
                    if !self.agent.handle_receive(now, peer, r.relayed, payload) {
                        self.app_received.push((now - self.epoch, payload.to_vec()));
                    }
                }
                self.collect(now);
                return;
            }
        }
        if !self
            .agent
            .handle_receive(now, d.source, d.destination, &d.payload)
        {
            self.app_received.push((now - self.epoch, d.payload));
        }
        self.collect(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.agent.handle_timeout(now);
        self.collect(now);
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        if let Some(t) = self.agent.poll_mdns_transmit() {
            let host = self.agent.local_candidates().next()?.base().ip();
            return Some(Datagram {
                source: SocketAddr::new(host, MDNS_PORT),
                destination: t.destination,
                payload: t.contents,
            });
        }
        if let Some(t) = self.agent.poll_transmit() {
            if let Some(r) = self.relay.filter(|r| r.relayed == t.source) {
                return Some(Datagram {
                    source: r.host,
                    destination: r.server,
                    payload: relay_frame(t.destination, &t.contents),
                });
            }
            return Some(Datagram {
                source: t.source,
                destination: t.destination,
                payload: t.contents,
            });
        }
        self.collect(now);
        let (local, remote) = self.agent.selected_pair()?;
        let payload = self.app_outbox.pop_front()?;
        if let Some(r) = self.relay.filter(|r| r.relayed == local) {
            return Some(Datagram {
                source: r.host,
                destination: r.server,
                payload: relay_frame(remote, &payload),
            });
        }
        Some(Datagram {
            source: local,
            destination: remote,
            payload,
        })
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.agent.poll_timeout()
    }
}

/// A stateless STUN server.
pub fn stun_server() -> Responder<impl FnMut(&[u8], SocketAddr) -> Option<Vec<u8>>> {
    let responder = BindingResponder::new();
    Responder::new(move |payload, source| responder.respond_to_vec(payload, source))
}

pub use rtcwire_netsim::Placement;

/// Options of a two-peer world.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    pub seed: u64,
    pub a: Placement,
    pub b: Placement,
    pub stun: bool,
    /// A's access link (both directions).
    pub link: LinkConfig,
    /// B's access link; defaults to A's.
    pub b_link: Option<LinkConfig>,
    pub a_config: IceConfig,
    pub b_config: IceConfig,
    pub a_role: IceRole,
    pub b_role: IceRole,
    pub ipv6: bool,
    /// Give A a relayed candidate on a relay at 198.51.100.200.
    pub relay_a: bool,
    /// Put both peers on a multicast-capable LAN (for mDNS).
    pub multicast: bool,
}

impl WorldConfig {
    pub fn new(seed: u64, a: Placement, b: Placement, stun: bool) -> WorldConfig {
        WorldConfig {
            seed,
            a,
            b,
            stun,
            link: LinkConfig::perfect().latency(Duration::from_millis(20)),
            b_link: None,
            a_config: IceConfig::default(),
            b_config: IceConfig::default(),
            a_role: IceRole::Controlling,
            b_role: IceRole::Controlled,
            ipv6: false,
            relay_a: false,
            multicast: false,
        }
    }
}

pub struct World {
    /// Signalling from A (index 0) or B (index 1) is held back while set.
    pub hold: [bool; 2],
    pub sim: Sim,
    pub a: EndpointId,
    pub b: EndpointId,
    pub a_addr: SocketAddr,
    pub b_addr: SocketAddr,
}

fn place(
    sim: &mut Sim,
    placement: Placement,
    index: u8,
    link: &LinkConfig,
    ipv6: bool,
) -> (rtcwire_netsim::HostId, IpAddr) {
    let host_ip: IpAddr = if ipv6 {
        format!("2001:db8:{index}::2").parse().unwrap()
    } else {
        match placement {
            Placement::Public => IpAddr::V4(Ipv4Addr::new(192, 0, 2, index)),
            _ => IpAddr::V4(Ipv4Addr::new(10, 0, index, 2)),
        }
    };
    let network = match placement.nat() {
        None => Network::Internet,
        Some(config) => {
            let external = IpAddr::V4(Ipv4Addr::new(203, 0, 113, index));
            Network::from(sim.add_nat(Network::Internet, external, config).unwrap())
        }
    };
    let host = sim.add_host(network, host_ip).unwrap();
    sim.set_link(host, link.clone()).unwrap();
    (host, host_ip)
}

impl World {
    pub fn new(config: &WorldConfig) -> World {
        let mut sim = Sim::new(config.seed);
        let epoch = sim.epoch();
        let now = sim.now();
        if config.stun {
            let server = sim.add_host(Network::Internet, STUN_IP).unwrap();
            sim.add_endpoint(server, stun_server()).unwrap();
        }
        let stun_servers = if config.stun {
            vec![SocketAddr::from((STUN_IP, STUN_PORT))]
        } else {
            Vec::new()
        };
        let (ha, ipa) = place(&mut sim, config.a, 1, &config.link, config.ipv6);
        let b_link = config.b_link.clone().unwrap_or_else(|| config.link.clone());
        let (hb, ipb) = place(&mut sim, config.b, 2, &b_link, config.ipv6);
        let a_addr = SocketAddr::new(ipa, 5000);
        let b_addr = SocketAddr::new(ipb, 6000);

        let mut agent_a = IceAgent::new(
            IceConfig {
                stun_servers: stun_servers.clone(),
                seed: Some(config.seed.wrapping_mul(3) + 1),
                ..config.a_config.clone()
            },
            config.a_role,
        );
        let mut agent_b = IceAgent::new(
            IceConfig {
                stun_servers,
                seed: Some(config.seed.wrapping_mul(5) + 2),
                ..config.b_config.clone()
            },
            config.b_role,
        );
        agent_a
            .set_remote_credentials(now, agent_b.local_credentials().clone())
            .unwrap();
        agent_b
            .set_remote_credentials(now, agent_a.local_credentials().clone())
            .unwrap();
        agent_a.add_host_candidate(now, a_addr).unwrap();
        agent_b.add_host_candidate(now, b_addr).unwrap();
        if config.multicast {
            let group = sim.add_host(Network::Internet, MULTICAST_RELAY.ip()).unwrap();
            sim.add_endpoint(
                group,
                MulticastGroup {
                    members: vec![ipa, ipb],
                    out: VecDeque::new(),
                },
            )
            .unwrap();
        }
        let mut relay = None;
        if config.relay_a {
            let ip = Ipv4Addr::new(198, 51, 100, 200);
            let host = sim.add_host(Network::Internet, ip).unwrap();
            sim.add_endpoint(
                host,
                TestRelay {
                    ip,
                    clients: vec![(50_000, None)],
                    out: VecDeque::new(),
                },
            )
            .unwrap();
            let r = RelayClient {
                host: a_addr,
                server: SocketAddr::from((ip, 3478)),
                relayed: SocketAddr::from((ip, 50_000)),
            };
            agent_a
                .add_local_candidate(now, Candidate::relayed(r.relayed, r.server, None, 65535))
                .unwrap();
            relay = Some(r);
        }
        let mut peer_a = Peer::new(agent_a, epoch);
        peer_a.relay = relay;
        let a = sim.add_endpoint(ha, peer_a).unwrap();
        let b = sim.add_endpoint(hb, Peer::new(agent_b, epoch)).unwrap();
        // The first drain happens at the first step.
        sim.endpoint_mut::<Peer>(a).unwrap().collect(now);
        sim.endpoint_mut::<Peer>(b).unwrap().collect(now);
        World {
            hold: [false; 2],
            sim,
            a,
            b,
            a_addr,
            b_addr,
        }
    }

    pub fn peer(&self, id: EndpointId) -> &Peer {
        self.sim.endpoint::<Peer>(id).unwrap()
    }

    pub fn peer_mut(&mut self, id: EndpointId) -> &mut Peer {
        self.sim.endpoint_mut::<Peer>(id).unwrap()
    }

    /// Delivers pending signalling both ways.
    pub fn signal(&mut self) {
        for (side, from, to) in [(0, self.a, self.b), (1, self.b, self.a)] {
            if self.hold[side] {
                continue;
            }
            let pending: Vec<Signal> = {
                let p = self.sim.endpoint::<Peer>(from).unwrap();
                if p.outbox.is_empty() {
                    continue;
                }
                self.sim
                    .endpoint_mut::<Peer>(from)
                    .unwrap()
                    .outbox
                    .drain(..)
                    .collect()
            };
            let now = self.sim.now();
            let peer = self.sim.endpoint_mut::<Peer>(to).unwrap();
            for s in pending {
                match s {
                    Signal::Candidate(c) if c.mdns_name().is_some() => {
                        let name = c.mdns_name().unwrap_or_default();
                        let port = c.address().port();
                        let _ = peer.agent.add_remote_mdns_candidate(
                            now,
                            name,
                            port,
                            c.kind(),
                            c.priority(),
                            c.foundation(),
                        );
                    }
                    Signal::Candidate(c) => {
                        let remote = Candidate::remote(
                            c.kind(),
                            c.address(),
                            c.priority(),
                            c.foundation(),
                            c.related(),
                        )
                        .unwrap();
                        let _ = peer.agent.add_remote_candidate(now, remote);
                    }
                    Signal::EndOfCandidates => peer.agent.end_of_remote_candidates(now),
                }
            }
            peer.collect(now);
        }
    }

    /// Runs until `done` holds or `limit` of virtual time passes; returns
    /// whether `done` held.
    pub fn run(&mut self, limit: Duration, mut done: impl FnMut(&World) -> bool) -> bool {
        let deadline = self.sim.now() + limit;
        loop {
            self.signal();
            if done(self) {
                return true;
            }
            if self.sim.next_event_time().is_none_or(|t| t > deadline) {
                self.sim.run_until(deadline).unwrap();
                self.signal();
                return done(self);
            }
            self.sim.step();
        }
    }

    pub fn both(&self, state: IceConnectionState) -> bool {
        self.peer(self.a).state() == state && self.peer(self.b).state() == state
    }

    pub fn connected(&self) -> bool {
        let ok = |s| matches!(s, IceConnectionState::Connected | IceConnectionState::Completed);
        ok(self.peer(self.a).state()) && ok(self.peer(self.b).state())
    }

    pub fn failed(&self) -> bool {
        self.peer(self.a).state() == IceConnectionState::Failed
            && self.peer(self.b).state() == IceConnectionState::Failed
    }

    /// The kinds of the local and remote candidates of `id`'s selected pair.
    pub fn selected_kinds(&self, id: EndpointId) -> Option<(CandidateKind, CandidateKind)> {
        let p = self.peer(id);
        let (local, remote) = p.agent.selected_pair()?;
        let lk = p
            .agent
            .local_candidates()
            .find(|c| c.base() == local && c.address() == local)
            .map(Candidate::kind)?;
        let rk = p
            .agent
            .remote_candidates()
            .iter()
            .find(|c| c.address() == remote)
            .map(Candidate::kind)?;
        Some((lk, rk))
    }
}
