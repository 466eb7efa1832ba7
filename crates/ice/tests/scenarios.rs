//! ICE behaviours on the simulated network: loss, silence, restart, role
//! conflicts, trickle, lite, IPv6. Every run replays from `NETSIM_SEED`.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Placement, World, WorldConfig};
use rtcwire_ice::{CandidateKind, IceConfig, IceConnectionState, IceRole};
use rtcwire_netsim::{LinkConfig, SeedReporter, seed_from_env_or};

#[test]
fn connects_through_loss_reordering_and_duplication() {
    let base = seed_from_env_or(100);
    for (loss, limit) in [(0.1, Duration::from_secs(5)), (0.3, Duration::from_secs(15))] {
        let mut worst = Duration::ZERO;
        let mut connected = 0;
        for i in 0..20 {
            let seed = base + i;
            let _report = SeedReporter::new(seed);
            let mut config = WorldConfig::new(
                seed,
                Placement::PortRestrictedCone,
                Placement::RestrictedCone,
                true,
            );
            // Impairments on A's link only, so `loss` is the end-to-end loss
            // in each direction.
            config.link = LinkConfig::perfect()
                .latency(Duration::from_millis(30))
                .jitter(Duration::from_millis(20))
                .loss(loss)
                .duplicate(0.05)
                .reorder(0.1, Duration::from_millis(40));
            config.b_link = Some(LinkConfig::perfect().latency(Duration::from_millis(30)));
            let mut w = World::new(&config);
            w.run(Duration::from_secs(30), |w| w.connected() || w.failed());
            let gathered = |id| {
                w.peer(id)
                    .agent
                    .local_candidates()
                    .any(|c| c.kind() == CandidateKind::ServerReflexive)
            };
            if !w.connected() {
                // Only a lost server-reflexive candidate excuses a failure:
                // without it one NAT never opens to the other.
                assert!(
                    !gathered(w.a) || !gathered(w.b),
                    "seed {seed} loss {loss}: not connected\n{:?}",
                    w.sim
                );
                assert!(w.failed(), "seed {seed} loss {loss}: must end failed, not hang");
                continue;
            }
            connected += 1;
            let t = w
                .peer(w.a)
                .connected_at()
                .unwrap()
                .max(w.peer(w.b).connected_at().unwrap());
            worst = worst.max(t);
        }
        println!("loss {loss}: {connected} of 20 seeds connected, worst time to connect {worst:?}");
        assert!(connected >= 18, "loss {loss}: only {connected} of 20 connected");
        assert!(worst <= limit, "loss {loss}: took {worst:?}");
    }
}

#[test]
fn silent_peer_goes_disconnected_then_failed_at_30_s() {
    let seed = seed_from_env_or(7);
    let _report = SeedReporter::new(seed);
    let mut w = World::new(&WorldConfig::new(
        seed,
        Placement::Public,
        Placement::FullCone,
        true,
    ));
    assert!(w.run(Duration::from_secs(5), |w| w.connected()));
    // B vanishes: its host stops passing UDP.
    let silent_since = w.sim.elapsed();
    let b_host = w.sim.endpoint_host(w.b).unwrap();
    w.sim.set_udp_blocked(b_host, true).unwrap();
    let a = w.a;
    assert!(
        w.run(Duration::from_secs(40), |w| w.peer(a).state()
            == IceConnectionState::Failed),
        "states {:?} since {silent_since:?}\n{:?}",
        w.peer(a).states,
        w.sim
    );
    let peer = w.peer(a);
    let disconnected = peer.reached(IceConnectionState::Disconnected).unwrap() - silent_since;
    let failed = peer.reached(IceConnectionState::Failed).unwrap() - silent_since;
    // Consent was last refreshed at most one consent interval (5 s +20 %)
    // before the silence; disconnected 8 s and failed 30 s after that.
    assert!(
        disconnected >= Duration::from_secs(2) && disconnected <= Duration::from_secs(8),
        "disconnected after {disconnected:?}"
    );
    assert!(
        failed >= Duration::from_secs(24) && failed <= Duration::from_secs(30),
        "failed after {failed:?}"
    );
    assert_eq!(
        peer.agent.selected_pair(),
        None,
        "no data on a pair without consent"
    );
}

#[test]
fn disconnected_recovers_when_the_peer_comes_back() {
    let seed = seed_from_env_or(8);
    let _report = SeedReporter::new(seed);
    let mut w = World::new(&WorldConfig::new(
        seed,
        Placement::Public,
        Placement::Public,
        false,
    ));
    assert!(w.run(Duration::from_secs(5), |w| w.connected()));
    let b_host = w.sim.endpoint_host(w.b).unwrap();
    w.sim.set_udp_blocked(b_host, true).unwrap();
    let a = w.a;
    assert!(w.run(Duration::from_secs(20), |w| w.peer(a).state()
        == IceConnectionState::Disconnected));
    w.sim.set_udp_blocked(b_host, false).unwrap();
    assert!(w.run(Duration::from_secs(10), |w| w.connected()), "{:?}", w.sim);
}

#[test]
fn ice_restart_keeps_data_flowing_on_the_old_pair() {
    let seed = seed_from_env_or(9);
    let _report = SeedReporter::new(seed);
    let mut w = World::new(&WorldConfig::new(
        seed,
        Placement::PortRestrictedCone,
        Placement::FullCone,
        true,
    ));
    assert!(w.run(Duration::from_secs(5), |w| w.connected()));
    let (a, b) = (w.a, w.b);
    let mut sent = 0u32;
    let send = |w: &mut World, sent: &mut u32| {
        *sent += 1;
        w.peer_mut(a).app_outbox.push_back(sent.to_be_bytes().to_vec());
    };
    // Data every 20 ms for 1 s, then restart both sides mid-flow.
    for _ in 0..50 {
        send(&mut w, &mut sent);
        w.run(Duration::from_millis(20), |_| false);
    }
    let before = w.peer(a).selected.len();
    let now = w.sim.now();
    let a_creds = w.peer_mut(a).agent.restart(now);
    let b_creds = w.peer_mut(b).agent.restart(now);
    w.peer_mut(a).agent.set_remote_credentials(now, b_creds).unwrap();
    w.peer_mut(b).agent.set_remote_credentials(now, a_creds).unwrap();
    for _ in 0..100 {
        send(&mut w, &mut sent);
        w.run(Duration::from_millis(20), |_| false);
    }
    w.run(Duration::from_millis(200), |_| false);
    assert!(w.connected(), "{:?}", w.sim);
    assert!(
        w.peer(a).selected.len() > before,
        "a new pair was selected after the restart"
    );
    let received: Vec<u32> = w
        .peer(b)
        .app_received
        .iter()
        .map(|(_, p)| u32::from_be_bytes(p[..4].try_into().unwrap()))
        .collect();
    let mut sorted = received.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted,
        (1..=sent).collect::<Vec<_>>(),
        "every datagram arrived across the restart"
    );
}

#[test]
fn role_conflicts_resolve() {
    for role in [IceRole::Controlling, IceRole::Controlled] {
        let seed = seed_from_env_or(10);
        let _report = SeedReporter::new(seed);
        let mut config = WorldConfig::new(seed, Placement::Public, Placement::FullCone, true);
        config.a_role = role;
        config.b_role = role;
        let mut w = World::new(&config);
        assert!(
            w.run(Duration::from_secs(10), |w| w.connected()),
            "{role:?}: {:?}",
            w.sim
        );
        let (ra, rb) = (w.peer(w.a).agent.role(), w.peer(w.b).agent.role());
        assert_ne!(ra, rb, "exactly one side controls");
        assert_eq!(
            w.peer(w.a).agent.selected_pair().map(|(l, _)| l),
            Some(w.a_addr),
            "both sides selected the same path"
        );
    }
}

#[test]
fn late_trickled_candidates_still_connect() {
    let seed = seed_from_env_or(11);
    let _report = SeedReporter::new(seed);
    let mut w = World::new(&WorldConfig::new(
        seed,
        Placement::PortRestrictedCone,
        Placement::PortRestrictedCone,
        true,
    ));
    // Hold B's candidates back for 3 s: A's checks have nowhere to go, and
    // B's are dropped by A's port-restricted NAT.
    w.hold[1] = true;
    w.run(Duration::from_secs(3), |_| false);
    assert!(!w.connected());
    assert!(!w.peer(w.b).outbox.is_empty());
    w.hold[1] = false;
    assert!(w.run(Duration::from_secs(10), |w| w.connected()), "{:?}", w.sim);
}

#[test]
fn full_agent_connects_to_a_lite_server() {
    let seed = seed_from_env_or(12);
    let _report = SeedReporter::new(seed);
    for a in [
        Placement::Public,
        Placement::PortRestrictedCone,
        Placement::Symmetric,
    ] {
        let mut config = WorldConfig::new(seed, a, Placement::Public, true);
        config.b_config = IceConfig {
            lite: true,
            ..IceConfig::default()
        };
        let mut w = World::new(&config);
        assert!(
            w.run(Duration::from_secs(10), |w| w.connected()),
            "{a:?}: {:?}",
            w.sim
        );
        assert!(w.peer(w.b).agent.is_lite());
        assert_eq!(w.peer(w.b).agent.role(), IceRole::Controlled);
        // The lite agent sent no checks of its own.
        assert_eq!(w.peer(w.b).agent.stats().checks_sent, 0);
        assert!(w.peer(w.b).agent.stats().checks_answered > 0);
    }
}

#[test]
fn lite_server_notices_a_vanished_client() {
    let seed = seed_from_env_or(13);
    let _report = SeedReporter::new(seed);
    let mut config = WorldConfig::new(seed, Placement::Public, Placement::Public, false);
    config.b_config = IceConfig {
        lite: true,
        ..IceConfig::default()
    };
    let mut w = World::new(&config);
    assert!(w.run(Duration::from_secs(5), |w| w.connected()));
    let a_host = w.sim.endpoint_host(w.a).unwrap();
    w.sim.set_udp_blocked(a_host, true).unwrap();
    let b = w.b;
    assert!(w.run(Duration::from_secs(40), |w| w.peer(b).state()
        == IceConnectionState::Failed));
}

#[test]
fn ipv6_hosts_connect() {
    let seed = seed_from_env_or(14);
    let _report = SeedReporter::new(seed);
    let mut config = WorldConfig::new(seed, Placement::Public, Placement::Public, false);
    config.ipv6 = true;
    let mut w = World::new(&config);
    assert!(w.run(Duration::from_secs(5), |w| w.connected()), "{:?}", w.sim);
    assert_eq!(
        w.selected_kinds(w.a),
        Some((CandidateKind::Host, CandidateKind::Host))
    );
    assert!(w.peer(w.a).agent.selected_pair().unwrap().1.is_ipv6());
}

/// B has two public addresses; its preferred candidate reaches A only after
/// a pair on the other one was selected.
fn late_better_candidate(renomination: bool) -> (World, std::net::SocketAddr) {
    let seed = seed_from_env_or(15);
    let mut config = WorldConfig::new(seed, Placement::Public, Placement::Public, false);
    config.a_config.renomination = renomination;
    config.b_config.renomination = renomination;
    let mut w = World::new(&config);
    // A second, less preferred address on B's host.
    let b_host = w.sim.endpoint_host(w.b).unwrap();
    let second: std::net::SocketAddr = "192.0.2.22:6001".parse().unwrap();
    w.sim.add_address(b_host, second.ip()).unwrap();
    let now = w.sim.now();
    let b = w.b;
    w.peer_mut(b).agent.add_host_candidate(now, second).unwrap();
    // Withhold B's preferred candidate.
    let preferred = w.b_addr;
    let held: Vec<_> = {
        let outbox = &mut w.peer_mut(b).outbox;
        let (held, rest): (Vec<_>, Vec<_>) = outbox
            .drain(..)
            .partition(|s| matches!(s, common::Signal::Candidate(c) if c.address() == preferred));
        outbox.extend(rest);
        held
    };
    assert!(w.run(Duration::from_secs(5), |w| w.connected()));
    assert_eq!(w.peer(w.a).agent.selected_pair().unwrap().1, second);
    w.peer_mut(b).outbox.extend(held);
    w.run(Duration::from_secs(3), |_| false);
    (w, preferred)
}

#[test]
fn renomination_moves_to_a_better_pair_found_later() {
    let (w, preferred) = late_better_candidate(true);
    assert!(w.connected());
    assert_eq!(
        w.peer(w.a).agent.selected_pair().unwrap().1,
        preferred,
        "A renominated"
    );
    assert_eq!(
        w.peer(w.b).agent.selected_pair().unwrap().0,
        preferred,
        "B followed"
    );
    assert_eq!(w.peer(w.a).selected.len(), 2);

    // Without renomination the first selection stands.
    let (w, preferred) = late_better_candidate(false);
    assert!(w.connected());
    assert_ne!(w.peer(w.a).agent.selected_pair().unwrap().1, preferred);
    assert_eq!(w.peer(w.a).selected.len(), 1);
}

#[test]
fn a_relayed_candidate_connects_two_symmetric_nats() {
    let seed = seed_from_env_or(16);
    let _report = SeedReporter::new(seed);
    let mut config = WorldConfig::new(seed, Placement::Symmetric, Placement::Symmetric, true);
    config.relay_a = true;
    let mut w = World::new(&config);
    assert!(
        w.run(Duration::from_secs(10), |w| w.connected() || w.failed()),
        "{:?}",
        w.sim
    );
    assert!(w.connected(), "{:?}", w.sim);
    let (local, _) = w.peer(w.a).agent.selected_pair().unwrap();
    assert_eq!(
        local,
        "198.51.100.200:50000".parse().unwrap(),
        "A sends through its relay"
    );
    let a = w
        .peer(w.a)
        .agent
        .local_candidates()
        .find(|c| c.address() == local)
        .unwrap()
        .kind();
    assert_eq!(a, CandidateKind::Relayed);
    // Data flows both ways through the relay.
    let (a_id, b_id) = (w.a, w.b);
    w.peer_mut(a_id).app_outbox.push_back(b"to b".to_vec());
    w.peer_mut(b_id).app_outbox.push_back(b"to a".to_vec());
    w.run(Duration::from_secs(1), |_| false);
    assert_eq!(w.peer(b_id).app_received.last().unwrap().1, b"to b");
    assert_eq!(w.peer(a_id).app_received.last().unwrap().1, b"to a");
}

#[test]
fn mdns_hidden_host_candidates_resolve_and_connect() {
    let seed = seed_from_env_or(17);
    let _report = SeedReporter::new(seed);
    let mut config = WorldConfig::new(seed, Placement::Public, Placement::Public, false);
    config.multicast = true;
    config.b_config.mdns_publish = true;
    let mut w = World::new(&config);
    // B signals a name, not its address.
    let signalled = w.peer(w.b).agent.local_candidates().next().unwrap().clone();
    let name = signalled.mdns_name().unwrap().to_owned();
    assert!(name.ends_with(".local"), "{name}");
    assert!(signalled.to_sdp_attribute().contains(&name));
    assert!(!signalled.to_sdp_attribute().contains(&w.b_addr.ip().to_string()));

    assert!(w.run(Duration::from_secs(5), |w| w.connected()), "{:?}", w.sim);
    let b_addr = w.b_addr;
    let remote = &w.peer(w.a).agent.remote_candidates()[0];
    assert_eq!(remote.address(), b_addr, "A resolved B's name to its address");
    assert_eq!(remote.kind(), CandidateKind::Host);
    assert_eq!(w.peer(w.a).agent.selected_pair().unwrap().1, b_addr);
}

#[test]
fn unresolvable_mdns_candidates_do_not_hang_the_agent() {
    let seed = seed_from_env_or(18);
    let _report = SeedReporter::new(seed);
    // No multicast on this network: B's name never resolves.
    let mut config = WorldConfig::new(
        seed,
        Placement::PortRestrictedCone,
        Placement::PortRestrictedCone,
        false,
    );
    config.b_config.mdns_publish = true;
    let mut w = World::new(&config);
    assert!(w.run(Duration::from_secs(30), |w| w.failed()), "{:?}", w.sim);
    assert_eq!(w.peer(w.a).agent.stats().mdns_unresolved, 1);
}
