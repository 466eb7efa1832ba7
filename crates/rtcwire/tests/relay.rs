//! Peer connections through a TURN relay on the simulated network: the
//! test TURN server of `common::turn_server` on the internet (over UDP, and
//! over the simulator's TCP), peers behind every pair of NAT behaviours. Run with `--nocapture` for the table that
//! README's "ICE across NATs" section shows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::turn_server::{TURN_NONCE, TURN_PASSWORD, TURN_PORT, TURN_REALM, TURN_USER, TurnServer};
use common::{Peer, config, negotiate, peer, trickle};
use rtcwire::proto::ice::CandidateKind;
use rtcwire::{
    ChannelId, ChannelOptions, IceGatheringState, IceServer, IceTransportPolicy, PeerConnectionState, Rtc,
};
use rtcwire_netsim::{EndpointId, LinkConfig, Network, Placement, SeedReporter, Sim, seed_from_env_or};

const STUN_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const TURN_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

/// Whether two peers connect directly with a STUN server (the ICE matrix's
/// reasoning): otherwise only the relay can carry them.
fn direct_possible(a: Placement, b: Placement) -> bool {
    Placement::connects_directly(a, b, true)
}

struct World {
    sim: Sim,
    a: EndpointId,
    b: EndpointId,
    turn: EndpointId,
    start: Instant,
    /// Descriptions exchanged: end-of-candidates may be signalled.
    negotiated: bool,
    /// End-of-candidates signalled to B (from A) and to A (from B).
    ended: [bool; 2],
}

/// A STUN server, a TURN server, and two peers placed as asked with 20 ms
/// of latency on each access link. A has a data channel "chat"; nothing is
/// negotiated yet.
fn world(seed: u64, a: Placement, b: Placement, policy: IceTransportPolicy) -> World {
    world_with(seed, a, b, policy, None, false)
}

/// [`world`], with NAT mappings that last `nat_timeout` when idle (the
/// netsim default is RFC 4787's minimum, 2 minutes), and with `turn_tcp` the
/// TURN server over TCP too (`turn:...?transport=tcp`).
fn world_with(
    seed: u64,
    a: Placement,
    b: Placement,
    policy: IceTransportPolicy,
    nat_timeout: Option<Duration>,
    turn_tcp: bool,
) -> World {
    let mut sim = Sim::new(seed);
    let stun = sim.add_host(Network::Internet, STUN_IP).unwrap();
    sim.add_endpoint(stun, common::stun_server()).unwrap();
    let turn_host = sim.add_host(Network::Internet, TURN_IP).unwrap();
    let turn = sim
        .add_endpoint(turn_host, TurnServer::new(IpAddr::V4(TURN_IP)))
        .unwrap();
    let now = sim.now();
    let mut place = |placement: Placement, index: u8, seed: u64| {
        let ip = match placement {
            Placement::Public => Ipv4Addr::new(192, 0, 2, index),
            _ => Ipv4Addr::new(10, 0, index, 2),
        };
        let nat = placement
            .nat()
            .map(|n| nat_timeout.map_or(n.clone(), |t| n.mapping_timeout(t)));
        let network = match nat {
            None => Network::Internet,
            Some(nat) => Network::from(
                sim.add_nat(Network::Internet, Ipv4Addr::new(203, 0, 113, index), nat)
                    .unwrap(),
            ),
        };
        let host = sim.add_host(network, ip).unwrap();
        sim.set_link(host, LinkConfig::perfect().latency(Duration::from_millis(20)))
            .unwrap();
        let mut c = config(seed, usize::from(index));
        c.ice_servers = vec![
            IceServer::stun(&format!("stun:{STUN_IP}:3478")),
            IceServer::turn(&format!("turn:{TURN_IP}:{TURN_PORT}"), TURN_USER, TURN_PASSWORD),
        ];
        if turn_tcp {
            c.ice_servers.push(IceServer::turn(
                &format!("turn:{TURN_IP}:{TURN_PORT}?transport=tcp"),
                TURN_USER,
                TURN_PASSWORD,
            ));
        }
        c.ice_transport_policy = policy;
        let mut rtc = Rtc::new(c, now).unwrap();
        rtc.add_local_candidate(SocketAddr::from((ip, 5000))).unwrap();
        sim.add_endpoint(host, Peer::new(rtc)).unwrap()
    };
    let a = place(a, 1, seed.wrapping_mul(3) + 1);
    let b = place(b, 2, seed.wrapping_mul(5) + 2);
    peer(&mut sim, a)
        .rtc
        .create_data_channel("chat", ChannelOptions::default())
        .unwrap();
    World {
        sim,
        a,
        b,
        turn,
        start: now,
        negotiated: false,
        ended: [false; 2],
    }
}

impl World {
    /// An offer from A, answered by B.
    fn negotiate(&mut self) {
        negotiate(&mut self.sim, self.a, self.b);
        self.negotiated = true;
    }

    /// Runs in 10 ms slices until `done` or `limit` of virtual time; between
    /// slices the signalling trickles candidates, and end-of-candidates once
    /// a side's gathering is complete (the browser's null candidate).
    fn run(&mut self, limit: Duration, mut done: impl FnMut(&mut Sim) -> bool) -> bool {
        let (a, b) = (self.a, self.b);
        let end = self.sim.now() + limit;
        loop {
            trickle(&mut self.sim, a, b);
            for (i, (from, to)) in [(a, b), (b, a)].into_iter().enumerate() {
                let complete =
                    peer(&mut self.sim, from).rtc.ice_gathering_state() == IceGatheringState::Complete;
                if complete && self.negotiated && !self.ended[i] {
                    self.ended[i] = true;
                    peer(&mut self.sim, to).rtc.end_of_remote_candidates();
                }
            }
            if done(&mut self.sim) {
                return true;
            }
            if self.sim.now() >= end {
                return false;
            }
            self.sim.run_for(Duration::from_millis(10)).unwrap();
        }
    }

    fn connected(&mut self) -> bool {
        peer(&mut self.sim, self.a).connected() && peer(&mut self.sim, self.b).connected()
    }

    fn failed_at(&mut self) -> Option<Instant> {
        [self.a, self.b]
            .into_iter()
            .filter_map(|id| peer(&mut self.sim, id).reached(PeerConnectionState::Failed))
            .min()
    }

    /// Runs until both are connected or one has failed, at most `limit`.
    fn connect(&mut self, limit: Duration) {
        let (a, b) = (self.a, self.b);
        self.run(limit, |s| {
            let p = |id| s.endpoint::<Peer>(id).unwrap();
            let failed = |id| p(id).reached(PeerConnectionState::Failed).is_some();
            (p(a).connected() && p(b).connected()) || failed(a) || failed(b)
        });
    }

    /// When both were connected, from the start.
    fn connected_after(&mut self) -> Duration {
        let t = [self.a, self.b]
            .into_iter()
            .map(|id| {
                peer(&mut self.sim, id)
                    .reached(PeerConnectionState::Connected)
                    .unwrap()
            })
            .max()
            .unwrap();
        t - self.start
    }

    fn turn(&self) -> &TurnServer {
        self.sim.endpoint::<TurnServer>(self.turn).unwrap()
    }

    /// The first channel, open on both sides: (A's end, B's end).
    fn channel(&mut self, limit: Duration) -> (ChannelId, ChannelId) {
        let (a, b) = (self.a, self.b);
        let ok = self.run(limit, |s| {
            !peer(s, a).opened().is_empty() && !peer(s, b).opened().is_empty()
        });
        assert!(ok, "no channel\n{:?}", self.sim);
        (
            peer(&mut self.sim, a).opened()[0].0,
            peer(&mut self.sim, b).opened()[0].0,
        )
    }
}

/// The candidate types of a peer's selected pair (local, remote).
fn selected_kinds(p: &mut Peer) -> Option<(CandidateKind, CandidateKind)> {
    let (local, remote) = p.rtc.selected_pair()?;
    let agent = p.rtc.ice_agent_mut();
    let l = agent
        .local_candidates()
        .find(|c| c.base() == local && c.address() == local)?
        .kind();
    let r = agent
        .remote_candidates()
        .iter()
        .find(|c| c.address() == remote)?
        .kind();
    Some((l, r))
}

fn relayed_locally(p: &mut Peer) -> bool {
    selected_kinds(p).is_some_and(|(l, _)| l == CandidateKind::Relayed)
}

/// Whether `id`'s selected pair is relayed by an allocation made over TCP.
fn relayed_over_tcp(w: &mut World, id: EndpointId) -> bool {
    let tcp = w.turn().tcp_relayed_addresses();
    peer(&mut w.sim, id)
        .rtc
        .selected_pair()
        .is_some_and(|(local, _)| tcp.contains(&local))
}

/// `n` text messages each way; all arrive, in order.
fn exchange(w: &mut World, n: usize) {
    let (ca, cb) = w.channel(Duration::from_secs(10));
    let (a, b) = (w.a, w.b);
    for i in 0..n {
        peer(&mut w.sim, a).rtc.send_text(ca, &format!("a{i}")).unwrap();
        peer(&mut w.sim, b).rtc.send_text(cb, &format!("b{i}")).unwrap();
    }
    let ok = w.run(Duration::from_secs(20), |s| {
        peer(s, b).messages(cb).len() == n && peer(s, a).messages(ca).len() == n
    });
    assert!(ok, "messages missing\n{:?}", w.sim);
    let texts = |p: &Peer, id: ChannelId| -> Vec<String> {
        p.messages(id)
            .into_iter()
            .map(|(d, _)| String::from_utf8(d).unwrap())
            .collect()
    };
    assert_eq!(
        texts(peer(&mut w.sim, b), cb),
        (0..n).map(|i| format!("a{i}")).collect::<Vec<_>>()
    );
    assert_eq!(
        texts(peer(&mut w.sim, a), ca),
        (0..n).map(|i| format!("b{i}")).collect::<Vec<_>>()
    );
}

#[test]
fn two_symmetric_nats_connect_through_the_relay() {
    let seed = seed_from_env_or(70);
    let _report = SeedReporter::new(seed);
    let mut w = world(
        seed,
        Placement::Symmetric,
        Placement::Symmetric,
        IceTransportPolicy::All,
    );
    let (a, b) = (w.a, w.b);
    w.negotiate();
    w.connect(Duration::from_secs(30));
    assert!(w.connected(), "not connected\n{:?}", w.sim);
    assert!(
        relayed_locally(peer(&mut w.sim, a)) || relayed_locally(peer(&mut w.sim, b)),
        "neither side's selected pair is relayed: {:?} / {:?}",
        selected_kinds(peer(&mut w.sim, a)),
        selected_kinds(peer(&mut w.sim, b)),
    );
    exchange(&mut w, 50);
    let c = w.turn().counters;
    assert_eq!(c.allocations, 2, "{c:?}");
    assert!(c.to_peers > 10 && c.to_clients > 10, "{c:?}");
    // The selected pair's data goes as ChannelData once the channel is bound.
    assert!(c.channel_data > 0, "{c:?}");
}

#[test]
fn a_peer_whose_udp_is_blocked_connects_through_turn_over_tcp() {
    let seed = seed_from_env_or(73);
    let _report = SeedReporter::new(seed);
    let mut w = world_with(
        seed,
        Placement::UdpBlocked,
        Placement::Symmetric,
        IceTransportPolicy::All,
        None,
        true,
    );
    let a = w.a;
    w.negotiate();
    w.connect(Duration::from_secs(30));
    assert!(w.connected(), "not connected\n{:?}", w.sim);
    assert!(
        relayed_over_tcp(&mut w, a),
        "{:?}",
        selected_kinds(peer(&mut w.sim, a))
    );
    exchange(&mut w, 50);
    // One TCP connection: A's (B reaches the server over UDP and TCP, but
    // only A's stream carries the session).
    let streams = w.sim.stream_counters();
    assert_eq!(streams.connects, 2, "{streams:?}");
    assert!(streams.bytes_delivered > 50 * 40, "{streams:?}");
}

#[test]
fn with_tcp_blocked_too_the_blocked_peer_fails() {
    let seed = seed_from_env_or(74);
    let _report = SeedReporter::new(seed);
    let mut w = world_with(
        seed,
        Placement::UdpBlocked,
        Placement::Public,
        IceTransportPolicy::All,
        None,
        true,
    );
    let host = w.sim.endpoint_host(w.a).unwrap();
    w.sim.set_tcp_blocked(host, true).unwrap();
    let a = w.a;
    w.negotiate();
    w.connect(Duration::from_secs(60));
    assert!(!w.connected());
    assert!(w.failed_at().is_some(), "{:?}", w.sim);
    // Its TCP connection was refused: the TURN server over TCP reported.
    let errors = peer(&mut w.sim, a)
        .events
        .iter()
        .filter(|(_, e)| matches!(e, rtcwire::Event::IceServerError { .. }))
        .count();
    assert!(errors >= 1);
}

#[test]
fn relay_policy_uses_only_the_relay_even_on_the_open_internet() {
    let seed = seed_from_env_or(71);
    let _report = SeedReporter::new(seed);
    let mut w = world(
        seed,
        Placement::Public,
        Placement::Public,
        IceTransportPolicy::Relay,
    );
    let (a, b) = (w.a, w.b);
    let ok = w.run(Duration::from_secs(5), |s| {
        [a, b]
            .into_iter()
            .all(|id| peer(s, id).rtc.ice_gathering_state() == IceGatheringState::Complete)
    });
    assert!(ok, "gathering did not complete\n{:?}", w.sim);
    let offer = peer(&mut w.sim, a).rtc.create_offer().unwrap();
    peer(&mut w.sim, a).rtc.set_local_description(&offer).unwrap();
    peer(&mut w.sim, b).rtc.set_remote_description(&offer).unwrap();
    let answer = peer(&mut w.sim, b).rtc.create_answer().unwrap();
    peer(&mut w.sim, b).rtc.set_local_description(&answer).unwrap();
    peer(&mut w.sim, a).rtc.set_remote_description(&answer).unwrap();
    w.negotiated = true;
    for sdp in [&offer.sdp, &answer.sdp] {
        assert!(sdp.contains("typ relay"), "no relay candidate:\n{sdp}");
        assert!(
            !sdp.contains("typ host") && !sdp.contains("typ srflx") && !sdp.contains("192.0.2."),
            "a relay-only description shows the host:\n{sdp}"
        );
    }
    w.connect(Duration::from_secs(30));
    assert!(w.connected(), "not connected\n{:?}", w.sim);
    for id in [a, b] {
        assert_eq!(
            selected_kinds(peer(&mut w.sim, id)),
            Some((CandidateKind::Relayed, CandidateKind::Relayed))
        );
    }
    exchange(&mut w, 20);
    assert!(w.turn().counters.to_peers > 20);
}

#[test]
fn nat_matrix_with_a_turn_server() {
    let seed = seed_from_env_or(72);
    let _report = SeedReporter::new(seed);
    let mut table = format!(
        "\nWith a STUN server and a TURN server over UDP and TCP:\n\n| A \\ B | {} |\n|{}\n",
        Placement::ALL.map(Placement::name).join(" | "),
        "---|".repeat(Placement::ALL.len() + 1)
    );
    for a in Placement::ALL {
        table.push_str(&format!("| {} |", a.name()));
        for b in Placement::ALL {
            let mut w = world_with(seed, a, b, IceTransportPolicy::All, None, true);
            let (pa, pb) = (w.a, w.b);
            w.negotiate();
            w.connect(Duration::from_secs(60));
            let cell = if w.connected() {
                let (l, r) = selected_kinds(peer(&mut w.sim, pa)).unwrap();
                let t = w.connected_after();
                let tcp = if relayed_over_tcp(&mut w, pa) || relayed_over_tcp(&mut w, pb) {
                    " (TCP)"
                } else {
                    ""
                };
                format!(" {}/{}{tcp} {} ms |", l.as_str(), r.as_str(), t.as_millis())
            } else {
                let Some(t) = w.failed_at() else {
                    let ea = format!("{:?}", peer(&mut w.sim, pa).events);
                    let eb = format!("{:?}", peer(&mut w.sim, pb).events);
                    panic!(
                        "{a:?} x {b:?}: neither connected nor failed\n{:?}\nA: {ea}\nB: {eb}",
                        w.sim
                    );
                };
                format!(" failed {} s |", (t - w.start).as_secs())
            };
            // Every pair connects: a side whose UDP is blocked reaches the
            // TURN server over TCP, and only that relay carries it.
            assert!(w.connected(), "{a:?} x {b:?}: {cell}\n{:?}", w.sim);
            for (placement, id) in [(a, pa), (b, pb)] {
                if placement == Placement::UdpBlocked {
                    assert!(relayed_over_tcp(&mut w, id), "{a:?} x {b:?}: {cell}");
                }
            }
            if w.connected() && !direct_possible(a, b) {
                assert!(
                    relayed_locally(peer(&mut w.sim, pa)) || relayed_locally(peer(&mut w.sim, pb)),
                    "{a:?} x {b:?}: connected without the relay?{cell}"
                );
            }
            table.push_str(&cell);
        }
        table.push('\n');
    }
    println!("{table}");
}

/// Twelve minutes through the relay: past the allocation's 600 s lifetime
/// and two permission lifetimes (300 s), with a message each way every
/// 30 s, behind symmetric NATs that keep idle mappings for `nat_timeout`.
/// Returns the relayed addresses allocated at the start and at the end, and
/// the one the selected pair uses.
fn twelve_minutes(seed: u64, nat_timeout: Duration) -> (Vec<SocketAddr>, Vec<SocketAddr>, SocketAddr) {
    let mut w = world_with(
        seed,
        Placement::Symmetric,
        Placement::Symmetric,
        IceTransportPolicy::All,
        Some(nat_timeout),
        false,
    );
    w.negotiate();
    w.connect(Duration::from_secs(30));
    assert!(w.connected(), "not connected\n{:?}", w.sim);
    let (ca, cb) = w.channel(Duration::from_secs(10));
    let (a, b) = (w.a, w.b);
    let before = w.turn().relayed_addresses();
    let (local, remote) = peer(&mut w.sim, a).rtc.selected_pair().unwrap();
    let in_use = if before.contains(&local) { local } else { remote };
    for i in 0..24 {
        peer(&mut w.sim, a).rtc.send_text(ca, &format!("a{i}")).unwrap();
        peer(&mut w.sim, b).rtc.send_text(cb, &format!("b{i}")).unwrap();
        for _ in 0..30 {
            w.sim.run_for(Duration::from_secs(1)).unwrap();
        }
        assert_eq!(
            (
                peer(&mut w.sim, b).messages(cb).len(),
                peer(&mut w.sim, a).messages(ca).len()
            ),
            (i + 1, i + 1),
            "message {i} lost after {:?}\n{:?}",
            w.sim.elapsed(),
            w.sim
        );
    }
    assert!(w.connected(), "lost after {:?}\n{:?}", w.sim.elapsed(), w.sim);
    // Refreshes keep allocations; nothing was allocated again.
    assert_eq!(w.turn().counters.allocations, 2);
    (before, w.turn().relayed_addresses(), in_use)
}

#[test]
fn the_relay_path_outlives_allocation_and_permission_lifetimes() {
    let seed = seed_from_env_or(73);
    let _report = SeedReporter::new(seed);
    // NATs that keep idle mappings 5 minutes (RFC 4787's recommendation):
    // both allocations live on.
    let (before, after, _) = twelve_minutes(seed, Duration::from_secs(300));
    assert_eq!(after, before);
    // NATs that drop idle mappings after 2 minutes (RFC 4787's minimum):
    // B's allocation carries no data (A's relay is on the selected pair),
    // and only the client's refreshes keep its NAT mapping; refreshes
    // further apart would lose the allocation at its first refresh (437,
    // from a new NAT port).
    let (before, after, in_use) = twelve_minutes(seed, Duration::from_secs(120));
    assert_eq!(after, before, "the relay in use was {in_use}");
}

/// A wrong TURN password: the server's 401 ends the allocation, the
/// application hears of it, gathering still completes, and the peers
/// connect directly.
#[test]
fn a_rejected_turn_allocation_still_completes_gathering() {
    let seed = seed_from_env_or(74);
    let _report = SeedReporter::new(seed);
    let mut sim = Sim::new(seed);
    let turn_host = sim.add_host(Network::Internet, TURN_IP).unwrap();
    sim.add_endpoint(turn_host, TurnServer::new(IpAddr::V4(TURN_IP)))
        .unwrap();
    let now = sim.now();
    let mut ids = Vec::new();
    for i in 1..=2u8 {
        let ip = Ipv4Addr::new(192, 0, 2, i);
        let host = sim.add_host(Network::Internet, ip).unwrap();
        let mut c = config(seed + u64::from(i), usize::from(i));
        c.ice_servers = vec![IceServer::turn(
            &format!("turn:{TURN_IP}:{TURN_PORT}"),
            TURN_USER,
            "wrong",
        )];
        let mut rtc = Rtc::new(c, now).unwrap();
        rtc.add_local_candidate(SocketAddr::from((ip, 5000))).unwrap();
        ids.push(sim.add_endpoint(host, Peer::new(rtc)).unwrap());
    }
    let (a, b) = (ids[0], ids[1]);
    sim.run_for(Duration::from_secs(2)).unwrap();
    for id in [a, b] {
        let p = peer(&mut sim, id);
        assert_eq!(
            p.rtc.ice_gathering_state(),
            IceGatheringState::Complete,
            "{:?}",
            p.events
        );
        assert!(
            p.events
                .iter()
                .any(|(_, e)| matches!(e, rtcwire::Event::IceServerError { .. })),
            "{:?}",
            p.events
        );
    }
    peer(&mut sim, a)
        .rtc
        .create_data_channel("chat", ChannelOptions::default())
        .unwrap();
    negotiate(&mut sim, a, b);
    let ok = common::run_until(&mut sim, a, b, Duration::from_secs(10), |s| {
        peer(s, a).connected() && peer(s, b).connected()
    });
    assert!(ok, "not connected\n{sim:?}");
    assert_eq!(
        selected_kinds(peer(&mut sim, a)),
        Some((CandidateKind::Host, CandidateKind::Host))
    );
}

/// Relay-only peers behind symmetric NATs restart ICE: the relayed
/// candidates are offered again, a relayed pair is selected again, and data
/// keeps flowing.
#[test]
fn ice_restart_through_the_relay() {
    let seed = seed_from_env_or(75);
    let _report = SeedReporter::new(seed);
    let mut w = world(
        seed,
        Placement::Symmetric,
        Placement::Symmetric,
        IceTransportPolicy::Relay,
    );
    w.negotiate();
    w.connect(Duration::from_secs(30));
    assert!(w.connected(), "not connected\n{:?}", w.sim);
    let (ca, cb) = w.channel(Duration::from_secs(10));
    let (a, b) = (w.a, w.b);
    for id in [a, b] {
        peer(&mut w.sim, id).events.clear();
    }
    peer(&mut w.sim, a).rtc.restart_ice();
    w.sim.run_for(Duration::from_millis(1)).unwrap();
    negotiate(&mut w.sim, a, b);
    peer(&mut w.sim, a).rtc.send_text(ca, "during").unwrap();
    let ok = w.run(Duration::from_secs(10), |s| {
        [a, b].into_iter().all(|id| {
            s.endpoint::<Peer>(id).is_some_and(|p| {
                p.events
                    .iter()
                    .any(|(_, e)| matches!(e, rtcwire::Event::SelectedPairChange { .. }))
            })
        })
    });
    assert!(ok, "no pair selected after the restart\n{:?}", w.sim);
    for id in [a, b] {
        assert_eq!(
            selected_kinds(peer(&mut w.sim, id)),
            Some((CandidateKind::Relayed, CandidateKind::Relayed))
        );
    }
    peer(&mut w.sim, a).rtc.send_text(ca, "after").unwrap();
    let ok = w.run(Duration::from_secs(10), |s| peer(s, b).messages(cb).len() == 2);
    assert!(ok, "data lost across the restart\n{:?}", w.sim);
    assert!(w.connected());
    assert_eq!(w.turn().counters.allocations, 2);
}

/// The test TURN server drops what it cannot use: every truncation and
/// every single-bit flip of an Allocate, a signed Allocate, a Send
/// indication and ChannelData, on its port and on a relayed one.
#[test]
fn the_test_turn_server_drops_malformed_input() {
    use rtcwire_netsim::{Datagram, Endpoint};
    use rtcwire_stun::{
        Attribute, ChannelData, Class, IntegrityKey, MessageBuilder, MessageType, Method, TransactionId,
    };
    let server_ip = IpAddr::V4(TURN_IP);
    let server = SocketAddr::new(server_ip, TURN_PORT);
    let client: SocketAddr = "203.0.113.9:4000".parse().unwrap();
    let peer_addr: SocketAddr = "203.0.113.10:5000".parse().unwrap();
    let key = IntegrityKey::long_term(TURN_USER, TURN_REALM, TURN_PASSWORD);
    let message = |method, class, signed: bool, extra: &dyn Fn(&mut MessageBuilder<'_>)| {
        let mut buf = vec![0u8; 512];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::new(method, class),
            TransactionId::new([7; 12]),
        )
        .unwrap();
        extra(&mut b);
        if signed {
            b.add(&Attribute::Username(TURN_USER)).unwrap();
            b.add(&Attribute::Realm(TURN_REALM)).unwrap();
            b.add(&Attribute::Nonce(TURN_NONCE)).unwrap();
            b.add_message_integrity(&key).unwrap();
        }
        b.add_fingerprint().unwrap();
        let n = b.len();
        buf.truncate(n);
        buf
    };
    let transport = |b: &mut MessageBuilder<'_>| b.add(&Attribute::RequestedTransport(17)).unwrap();
    let send = |b: &mut MessageBuilder<'_>| {
        b.add(&Attribute::XorPeerAddress(peer_addr)).unwrap();
        b.add(&Attribute::Data(b"hello")).unwrap();
    };
    let mut channel_data = vec![0u8; 16];
    let n = ChannelData::new(0x4000, b"hello")
        .unwrap()
        .encode(&mut channel_data, false)
        .unwrap();
    channel_data.truncate(n);
    let packets = [
        message(Method::ALLOCATE, Class::Request, false, &transport),
        message(Method::ALLOCATE, Class::Request, true, &transport),
        message(Method::SEND, Class::Indication, false, &send),
        channel_data,
    ];
    let mut s = TurnServer::new(server_ip);
    let now = Instant::now();
    // A real allocation first, so the mutations reach its paths too.
    s.handle_datagram(
        now,
        Datagram {
            source: client,
            destination: server,
            payload: packets[1].clone(),
        },
    );
    assert_eq!(s.counters.allocations, 1);
    let relayed = s.relayed_addresses()[0];
    for p in &packets {
        let mut variants: Vec<Vec<u8>> = (0..p.len()).map(|n| p[..n].to_vec()).collect();
        for i in 0..p.len() {
            for bit in 0..8 {
                let mut v = p.clone();
                v[i] ^= 1 << bit;
                variants.push(v);
            }
        }
        for v in variants {
            for destination in [server, relayed] {
                s.handle_datagram(
                    now,
                    Datagram {
                        source: client,
                        destination,
                        payload: v.clone(),
                    },
                );
                while s.poll_transmit(now).is_some() {}
            }
        }
    }
    assert!(s.counters.dropped > 0);
}
