//! TCP-like stream connections: NAT traversal outward, refusal inward,
//! UDP-blocking firewalls that let TCP through, timing, close and volume.
// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Probe, ip, sa};
use rtcwire_netsim::{
    Datagram, Endpoint, EndpointId, HostId, LinkConfig, MAX_STREAM_BYTES_IN_FLIGHT, MAX_STREAMS, NatConfig,
    NatId, Network, Sim, StreamCommand, StreamEvent,
};

/// Connects, writes and closes on command; records every stream event with
/// its instant; optionally echoes what it receives.
#[derive(Debug, Default)]
struct Peer {
    commands: VecDeque<StreamCommand>,
    events: Vec<(Instant, StreamEvent)>,
    echo: bool,
    /// Closes a connection as soon as it is opened to it.
    close_on_open: bool,
}

impl Peer {
    fn echo() -> Self {
        Self {
            echo: true,
            ..Self::default()
        }
    }

    fn connect(&mut self, local: SocketAddr, remote: SocketAddr) {
        self.commands.push_back(StreamCommand::Connect { local, remote });
    }

    fn send(&mut self, local: SocketAddr, remote: SocketAddr, bytes: &[u8]) {
        self.commands.push_back(StreamCommand::Send {
            local,
            remote,
            bytes: bytes.to_vec(),
        });
    }

    fn close(&mut self, local: SocketAddr, remote: SocketAddr) {
        self.commands.push_back(StreamCommand::Close { local, remote });
    }

    fn opened(&self) -> Vec<(Instant, SocketAddr, SocketAddr)> {
        self.events
            .iter()
            .filter_map(|(at, e)| match e {
                StreamEvent::Opened { local, remote } => Some((*at, *local, *remote)),
                _ => None,
            })
            .collect()
    }

    fn closed(&self) -> Vec<(Instant, SocketAddr, SocketAddr)> {
        self.events
            .iter()
            .filter_map(|(at, e)| match e {
                StreamEvent::Closed { local, remote } => Some((*at, *local, *remote)),
                _ => None,
            })
            .collect()
    }

    fn received(&self) -> Vec<u8> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                StreamEvent::Data { bytes, .. } => Some(bytes.as_slice()),
                _ => None,
            })
            .flatten()
            .copied()
            .collect()
    }
}

impl Endpoint for Peer {
    fn handle_datagram(&mut self, _now: Instant, _datagram: Datagram) {}
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn handle_stream(&mut self, now: Instant, event: StreamEvent) {
        match &event {
            StreamEvent::Data { local, remote, bytes } if self.echo => self.send(*local, *remote, bytes),
            StreamEvent::Opened { local, remote } if self.close_on_open => self.close(*local, *remote),
            _ => {}
        }
        self.events.push((now, event));
    }

    fn poll_stream(&mut self, _now: Instant) -> Option<StreamCommand> {
        self.commands.pop_front()
    }
}

const CLIENT: &str = "192.168.1.2:40000";
const NAT_IP: &str = "203.0.113.1";
const SERVER: &str = "198.51.100.1:3478";

/// A client host behind a NAT at 203.0.113.1, a public server host at
/// 198.51.100.1 with an echoing [`Peer`] on every port.
struct World {
    sim: Sim,
    nat: NatId,
    client_host: HostId,
    server_host: HostId,
    client: EndpointId,
    server: EndpointId,
}

fn world(config: NatConfig) -> World {
    let mut sim = Sim::new(7);
    let nat = sim.add_nat(Network::Internet, ip(NAT_IP), config).unwrap();
    let client_host = sim.add_host(nat, ip("192.168.1.2")).unwrap();
    let server_host = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let client = sim.add_endpoint(client_host, Peer::default()).unwrap();
    let server = sim.add_endpoint(server_host, Peer::echo()).unwrap();
    World {
        sim,
        nat,
        client_host,
        server_host,
        client,
        server,
    }
}

impl World {
    fn client(&mut self) -> &mut Peer {
        self.sim.endpoint_mut::<Peer>(self.client).unwrap()
    }
    fn server(&mut self) -> &mut Peer {
        self.sim.endpoint_mut::<Peer>(self.server).unwrap()
    }
    fn client_ref(&self) -> &Peer {
        self.sim.endpoint::<Peer>(self.client).unwrap()
    }
    fn server_ref(&self) -> &Peer {
        self.sim.endpoint::<Peer>(self.server).unwrap()
    }
}

#[test]
fn tcp_crosses_a_udp_blocking_nat_to_a_public_echo_server() {
    let mut w = world(NatConfig::udp_blocked());
    let (client, server) = (sa(CLIENT), sa(SERVER));
    w.client().connect(client, server);
    w.client().send(client, server, b"hello ");
    w.client().send(client, server, b"through ");
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    w.client().send(client, server, b"the firewall");
    w.sim.run_for(Duration::from_millis(10)).unwrap();

    let c = w.client_ref();
    assert_eq!(c.opened().len(), 1, "{:?}\n{:?}", c.events, w.sim);
    assert_eq!(c.received(), b"hello through the firewall");
    assert!(c.closed().is_empty());

    // The server saw the NAT's external address, with a port of its TCP space.
    let accepted = w.server_ref().opened();
    assert_eq!(accepted.len(), 1);
    let (_, local, remote) = accepted[0];
    assert_eq!(local, server);
    assert_eq!(remote.ip(), ip(NAT_IP));
    assert_ne!(remote.port(), 0);
    assert_eq!(w.server_ref().received(), b"hello through the firewall");
    let counters = w.sim.stream_counters();
    assert_eq!(counters.accepted, 1);
    assert_eq!(counters.bytes_delivered, 2 * 26);
    assert_eq!(w.sim.stream_count(), 1);

    // UDP from the same client is still dropped by the NAT.
    let probe = w
        .sim
        .add_endpoint_on_port(w.client_host, 5000, Probe::new())
        .unwrap();
    w.sim
        .endpoint_mut::<Probe>(probe)
        .unwrap()
        .send(sa("192.168.1.2:5000"), server, b"udp");
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(w.sim.nat_counters(w.nat).dropped_firewall, 1);
    assert_eq!(w.sim.counters().delivered, 0);
}

#[test]
fn a_udp_blocked_host_still_connects_over_tcp() {
    let mut w = world(NatConfig::full_cone());
    w.sim.set_udp_blocked(w.client_host, true).unwrap();
    let (client, server) = (sa(CLIENT), sa(SERVER));
    w.client().connect(client, server);
    w.client().send(client, server, b"ok");
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(w.client_ref().received(), b"ok");
}

#[test]
fn opened_and_data_arrive_after_the_base_latency_of_the_path() {
    let mut w = world(NatConfig::port_restricted_cone());
    // One way client -> server: 10 (client up) + 5 (NAT up) + 20 (server down) = 35 ms.
    // One way server -> client: 2 (server up) + 7 (NAT down) + 1 (client down) = 10 ms.
    // Jitter and loss do not apply to streams.
    let ms = Duration::from_millis;
    w.sim
        .set_uplink(
            w.client_host,
            LinkConfig::perfect().latency(ms(10)).loss(0.5).jitter(ms(30)),
        )
        .unwrap();
    w.sim
        .set_downlink(w.client_host, LinkConfig::perfect().latency(ms(1)))
        .unwrap();
    w.sim
        .set_uplink(w.nat, LinkConfig::perfect().latency(ms(5)))
        .unwrap();
    w.sim
        .set_downlink(w.nat, LinkConfig::perfect().latency(ms(7)))
        .unwrap();
    w.sim
        .set_uplink(w.server_host, LinkConfig::perfect().latency(ms(2)))
        .unwrap();
    w.sim
        .set_downlink(w.server_host, LinkConfig::perfect().latency(ms(20)))
        .unwrap();
    let start = w.sim.now();
    let (client, server) = (sa(CLIENT), sa(SERVER));
    w.client().connect(client, server);
    w.client().send(client, server, b"early");
    w.sim.run_for(Duration::from_secs(1)).unwrap();

    // The server accepts when the SYN arrives, the client opens one round
    // trip after connecting.
    assert_eq!(w.server_ref().opened()[0].0 - start, ms(35));
    assert_eq!(w.client_ref().opened()[0].0 - start, ms(45));
    // Bytes written before the connection opened leave when it opens, and
    // the echo comes back one way later.
    let data_at = |p: &Peer| {
        p.events
            .iter()
            .find(|(_, e)| matches!(e, StreamEvent::Data { .. }))
            .map(|(at, _)| *at - start)
    };
    assert_eq!(data_at(w.server_ref()), Some(ms(80)));
    assert_eq!(data_at(w.client_ref()), Some(ms(90)));
    assert_eq!(w.client_ref().received(), b"early");
}

#[test]
fn a_connection_into_a_nat_from_outside_is_refused() {
    let mut w = world(NatConfig::full_cone());
    w.sim
        .set_link(
            w.server_host,
            LinkConfig::perfect().latency(Duration::from_millis(5)),
        )
        .unwrap();
    // The client behind the NAT listens on every port; the public side
    // tries its private address (no route) and the NAT's address (no port
    // forwarding).
    let start = w.sim.now();
    let from = sa("198.51.100.1:50000");
    for to in [sa("203.0.113.1:40000"), sa("192.168.1.2:40000")] {
        w.server().connect(from, to);
        w.sim.run_for(Duration::from_millis(100)).unwrap();
    }
    let closed = w.server_ref().closed();
    assert_eq!(closed.len(), 2, "{:?}", w.server_ref().events);
    // The NAT refused after a round trip of the server's link.
    assert_eq!(closed[0].0 - start, Duration::from_millis(10));
    assert!(w.server_ref().opened().is_empty());
    assert!(w.client_ref().events.is_empty());
    assert_eq!(w.sim.stream_counters().refused, 2);
    assert_eq!(w.sim.stream_count(), 0);
}

#[test]
fn connections_to_nobody_or_a_port_nobody_listens_on_are_refused() {
    let mut sim = Sim::new(3);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    let client = sim.add_endpoint(a, Peer::default()).unwrap();
    sim.add_endpoint_on_port(b, 443, Peer::echo()).unwrap();
    let local = sa("198.51.100.1:40000");
    let targets = [
        sa("198.51.100.9:443"), // nobody owns it
        sa("198.51.100.2:80"),  // nobody on that port
        sa("198.51.100.2:443"), // listening
    ];
    for to in targets {
        sim.endpoint_mut::<Peer>(client).unwrap().connect(local, to);
    }
    // Invalid connects are refused on the spot: port 0, an address that is
    // not the host's.
    sim.endpoint_mut::<Peer>(client)
        .unwrap()
        .connect(sa("198.51.100.1:0"), targets[2]);
    sim.endpoint_mut::<Peer>(client)
        .unwrap()
        .connect(sa("10.0.0.1:1"), targets[2]);
    sim.run_for(Duration::from_millis(10)).unwrap();

    let peer = sim.endpoint::<Peer>(client).unwrap();
    let closed: Vec<SocketAddr> = peer.closed().iter().map(|(_, _, r)| *r).collect();
    assert_eq!(closed.len(), 4, "{:?}", peer.events);
    assert!(closed.contains(&targets[0]) && closed.contains(&targets[1]));
    let opened: Vec<SocketAddr> = peer.opened().iter().map(|(_, _, r)| *r).collect();
    assert_eq!(opened, vec![targets[2]]);
    assert_eq!(sim.stream_counters().refused, 4);
}

#[test]
fn set_tcp_blocked_refuses_both_ways_and_unblocking_restores_it() {
    let mut w = world(NatConfig::full_cone());
    let (client, server) = (sa(CLIENT), sa(SERVER));

    // Blocked at the client: its own connects fail.
    w.sim.set_tcp_blocked(w.client_host, true).unwrap();
    w.client().connect(client, server);
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(w.client_ref().closed().len(), 1);

    // Blocked at the server: connections to it fail.
    w.sim.set_tcp_blocked(w.client_host, false).unwrap();
    w.sim.set_tcp_blocked(w.server_host, true).unwrap();
    w.client().connect(client, server);
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(w.client_ref().closed().len(), 2);
    // And the server's own connects fail too.
    w.server()
        .connect(sa("198.51.100.1:50000"), sa("198.51.100.1:3478"));
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(w.server_ref().closed().len(), 1);
    assert!(w.server_ref().opened().is_empty());

    w.sim.set_tcp_blocked(w.server_host, false).unwrap();
    w.client().connect(client, server);
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(w.client_ref().opened().len(), 1);
    assert_eq!(w.sim.stream_counters().refused, 3);
}

#[test]
fn a_close_from_either_side_reaches_the_other() {
    let mut w = world(NatConfig::symmetric());
    w.sim
        .set_link(
            w.server_host,
            LinkConfig::perfect().latency(Duration::from_millis(5)),
        )
        .unwrap();
    let server = sa(SERVER);
    let (c1, c2) = (sa("192.168.1.2:40001"), sa("192.168.1.2:40002"));
    w.client().connect(c1, server);
    w.client().connect(c2, server);
    w.sim.run_for(Duration::from_millis(100)).unwrap();
    let accepted = w.server_ref().opened();
    assert_eq!(accepted.len(), 2);
    assert_ne!(
        accepted[0].2, accepted[1].2,
        "the NAT gives each connection its own port"
    );

    // The client closes the first after writing: the server gets the bytes,
    // then Closed.
    w.client().send(c1, server, b"bye");
    w.client().close(c1, server);
    // The server closes the second.
    let second_remote = accepted.iter().find(|(_, _, r)| *r != accepted[0].2).unwrap().2;
    let (_, _, first_remote) = accepted[0];
    w.server().close(server, second_remote);
    w.sim.run_for(Duration::from_millis(100)).unwrap();

    let s = w.server_ref();
    let closed: Vec<SocketAddr> = s.closed().iter().map(|(_, _, r)| *r).collect();
    assert_eq!(closed, vec![first_remote]);
    let last = s.events.last().unwrap();
    assert!(matches!(last.1, StreamEvent::Closed { .. }), "{:?}", s.events);
    assert_eq!(s.received(), b"bye");
    let c = w.client_ref();
    let closed: Vec<SocketAddr> = c.closed().iter().map(|(_, l, _)| *l).collect();
    assert_eq!(closed, vec![c2]);
    // The client did not get the echo of "bye": it had closed.
    assert!(c.received().is_empty());
    assert_eq!(w.sim.stream_count(), 0);
    assert_eq!(w.sim.stream_counters().closed, 2);

    // Writing on a closed connection is ignored and counted.
    w.client().send(c1, server, b"late");
    w.sim.run_for(Duration::from_millis(100)).unwrap();
    assert_eq!(w.sim.stream_counters().unknown_connection, 1);
}

#[test]
fn a_server_that_closes_at_once_still_lets_the_client_open_then_close() {
    let mut w = world(NatConfig::full_cone());
    w.server().close_on_open = true;
    w.client().connect(sa(CLIENT), sa(SERVER));
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    let c = w.client_ref();
    assert_eq!(c.opened().len(), 1);
    assert_eq!(c.closed().len(), 1);
    assert_eq!(w.sim.stream_count(), 0);
}

#[test]
fn a_client_that_closes_before_opening_still_delivers_its_bytes() {
    let mut w = world(NatConfig::full_cone());
    let (client, server) = (sa(CLIENT), sa(SERVER));
    w.client().connect(client, server);
    w.client().send(client, server, b"fire and forget");
    w.client().close(client, server);
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    let s = w.server_ref();
    assert_eq!(s.received(), b"fire and forget");
    assert_eq!(s.closed().len(), 1);
    assert!(w.client_ref().events.is_empty());
    assert_eq!(w.sim.stream_count(), 0);
}

#[test]
fn a_mebibyte_in_pieces_arrives_complete_and_in_order() {
    let mut w = world(NatConfig::udp_blocked());
    w.sim.set_link(w.client_host, LinkConfig::cellular()).unwrap();
    let (client, server) = (sa(CLIENT), sa(SERVER));
    let data: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    w.client().connect(client, server);
    for piece in data.chunks(1000) {
        w.client().send(client, server, piece);
    }
    w.sim.run_for(Duration::from_millis(500)).unwrap();
    for piece in data.chunks(1400) {
        w.client().send(client, server, piece);
    }
    w.sim.run_for(Duration::from_millis(500)).unwrap();
    assert_eq!(w.server_ref().received().len(), 2 << 20);
    assert_eq!(w.server_ref().received()[..1 << 20], data[..]);
    assert_eq!(w.server_ref().received()[1 << 20..], data[..]);
    let echoed = w.client_ref().received();
    assert_eq!(echoed.len(), 2 << 20);
    assert!(echoed[..1 << 20] == data[..] && echoed[1 << 20..] == data[..]);
}

#[test]
fn hosts_on_the_same_private_network_connect_directly() {
    let mut sim = Sim::new(5);
    let nat = sim
        .add_nat(Network::Internet, ip(NAT_IP), NatConfig::udp_blocked())
        .unwrap();
    let a = sim.add_host(nat, ip("192.168.1.2")).unwrap();
    let b = sim.add_host(nat, ip("192.168.1.3")).unwrap();
    let client = sim.add_endpoint(a, Peer::default()).unwrap();
    let server = sim.add_endpoint_on_port(b, 8080, Peer::echo()).unwrap();
    sim.endpoint_mut::<Peer>(client)
        .unwrap()
        .connect(sa(CLIENT), sa("192.168.1.3:8080"));
    sim.run_for(Duration::from_millis(10)).unwrap();
    let accepted = sim.endpoint::<Peer>(server).unwrap().opened();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].2, sa(CLIENT), "no NAT between them");
    assert!(sim.nat_mappings(nat).is_empty());
}

#[test]
fn nested_nats_translate_at_each_level() {
    let mut sim = Sim::new(9);
    let carrier = sim
        .add_nat(Network::Internet, ip("203.0.113.1"), NatConfig::symmetric())
        .unwrap();
    let home = sim
        .add_nat(carrier, ip("100.64.0.2"), NatConfig::udp_blocked())
        .unwrap();
    let laptop = sim.add_host(home, ip("192.168.1.2")).unwrap();
    let public = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let client = sim.add_endpoint(laptop, Peer::default()).unwrap();
    let server = sim.add_endpoint(public, Peer::echo()).unwrap();
    sim.endpoint_mut::<Peer>(client)
        .unwrap()
        .connect(sa(CLIENT), sa(SERVER));
    sim.run_for(Duration::from_millis(10)).unwrap();
    let accepted = sim.endpoint::<Peer>(server).unwrap().opened();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].2.ip(), ip("203.0.113.1"));
    assert_eq!(sim.endpoint::<Peer>(client).unwrap().opened().len(), 1);
}

#[test]
fn stream_runs_replay_from_the_seed() {
    let run = || {
        let mut w = world(NatConfig::symmetric());
        w.sim.set_link(w.client_host, LinkConfig::wifi()).unwrap();
        for i in 0..20u16 {
            let local = SocketAddr::new(ip("192.168.1.2"), 40000 + i);
            w.client().connect(local, sa(SERVER));
            w.client().send(local, sa(SERVER), &i.to_be_bytes());
        }
        w.sim.run_for(Duration::from_secs(1)).unwrap();
        let start = w.sim.epoch();
        let times = |p: &Peer| -> Vec<(Duration, StreamEvent)> {
            p.events.iter().map(|(at, e)| (*at - start, e.clone())).collect()
        };
        (times(w.client_ref()), times(w.server_ref()))
    };
    let first = run();
    assert_eq!(first.0.len(), 40);
    assert_eq!(first, run());
}

#[test]
fn datagram_endpoints_ignore_streams_and_accept_by_the_datagram_rule() {
    // A UDP-only endpoint (default stream methods) still compiles and runs;
    // connections to its host reach it and go nowhere.
    let mut sim = Sim::new(1);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    let client = sim.add_endpoint(a, Peer::default()).unwrap();
    sim.add_endpoint(b, Probe::new()).unwrap();
    let (local, remote) = (sa("198.51.100.1:40000"), sa("198.51.100.2:9"));
    let peer = sim.endpoint_mut::<Peer>(client).unwrap();
    peer.connect(local, remote);
    peer.send(local, remote, b"into the void");
    sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(sim.endpoint::<Peer>(client).unwrap().opened().len(), 1);
    assert_eq!(sim.stream_counters().bytes_delivered, 13);
    assert!(format!("{sim:?}").contains("streams: 1 live"));
}

#[test]
fn connections_past_the_cap_are_refused() {
    let mut sim = Sim::new(11);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    let client = sim.add_endpoint(a, Peer::default()).unwrap();
    sim.add_endpoint(b, Peer::default()).unwrap();
    let remote = sa("198.51.100.2:443");
    let peer = sim.endpoint_mut::<Peer>(client).unwrap();
    for port in 1..=u16::try_from(MAX_STREAMS + 1).unwrap() {
        peer.connect(SocketAddr::new(ip("198.51.100.1"), port), remote);
    }
    sim.run_for(Duration::from_millis(10)).unwrap();
    let peer = sim.endpoint::<Peer>(client).unwrap();
    assert_eq!(peer.opened().len(), MAX_STREAMS);
    assert_eq!(peer.closed().len(), 1);
    assert_eq!(sim.stream_count(), MAX_STREAMS);
}

#[test]
fn a_write_past_the_byte_cap_resets_the_connection() {
    let mut w = world(NatConfig::full_cone());
    let (client, server) = (sa(CLIENT), sa(SERVER));
    w.client().connect(client, server);
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    w.client()
        .send(client, server, &vec![0; MAX_STREAM_BYTES_IN_FLIGHT + 1]);
    w.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(w.client_ref().closed().len(), 1);
    assert_eq!(w.server_ref().closed().len(), 1);
    assert!(w.server_ref().received().is_empty());
    assert_eq!(w.sim.stream_counters().reset, 1);
    assert_eq!(w.sim.stream_count(), 0);
}
