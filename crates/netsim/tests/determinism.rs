//! A run is a pure function of its seed.
// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Pacer, Probe, ip, sa};
use rtcwire_netsim::{Counters, GilbertElliott, LinkConfig, NatConfig, Network, Sim, TraceEvent};

struct Outcome {
    trace: Vec<TraceEvent>,
    counters: Counters,
    replies: Vec<(Duration, u32)>,
    elapsed: Duration,
}

/// Two peers behind symmetric and port-restricted NATs, over impaired links,
/// pacing datagrams at an echo server.
fn scenario(seed: u64) -> Outcome {
    let mut sim = Sim::new(seed);
    sim.enable_trace(1 << 20);
    let n1 = sim
        .add_nat(Network::Internet, ip("203.0.113.1"), NatConfig::symmetric())
        .unwrap();
    let n2 = sim
        .add_nat(
            Network::Internet,
            ip("203.0.113.2"),
            NatConfig::port_restricted_cone(),
        )
        .unwrap();
    let a = sim.add_host(n1, ip("10.0.0.2")).unwrap();
    let b = sim.add_host(n2, ip("10.0.0.2")).unwrap();
    let s = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    sim.set_link(
        a,
        LinkConfig::wifi()
            .duplicate(0.02)
            .reorder(0.05, Duration::from_millis(7)),
    )
    .unwrap();
    sim.set_link(
        b,
        LinkConfig::cellular().gilbert_elliott(GilbertElliott::new(0.05, 0.3)),
    )
    .unwrap();
    sim.set_link(s, LinkConfig::lossy(0.03).jitter(Duration::from_millis(4)))
        .unwrap();
    sim.add_endpoint(s, Probe::echo()).unwrap();
    let start = sim.now();
    let flows = [
        (a, "10.0.0.2:4000", "198.51.100.1:3478", 10),
        (a, "10.0.0.2:4001", "198.51.100.1:3479", 10),
        (b, "10.0.0.2:4000", "198.51.100.1:3478", 13),
        (b, "10.0.0.2:4001", "198.51.100.1:3479", 13),
    ];
    let pacers: Vec<_> = flows
        .into_iter()
        .map(|(host, local, server, interval_ms)| {
            let pacer = Pacer::new(
                sa(local),
                sa(server),
                start,
                Duration::from_millis(interval_ms),
                400,
                200,
            );
            sim.add_endpoint_on_port(host, sa(local).port(), pacer).unwrap()
        })
        .collect();
    sim.run_for(Duration::from_secs(8)).unwrap();
    let replies = pacers
        .iter()
        .flat_map(|p| sim.endpoint::<Pacer>(*p).unwrap().replies.clone())
        .map(|(t, s)| (t - start, s))
        .collect();
    Outcome {
        trace: sim.trace().copied().collect(),
        counters: sim.counters(),
        replies,
        elapsed: sim.elapsed(),
    }
}

#[test]
fn the_same_seed_replays_the_same_run() {
    let first = scenario(1234);
    let second = scenario(1234);
    assert!(first.trace.len() > 5_000, "trace too small to mean much");
    assert!(first.counters.dropped() > 0 && first.counters.duplicated > 0);
    assert_eq!(first.counters, second.counters);
    assert_eq!(first.replies, second.replies);
    assert_eq!(first.elapsed, second.elapsed);
    assert_eq!(first.trace.len(), second.trace.len());
    for (i, (x, y)) in first.trace.iter().zip(&second.trace).enumerate() {
        assert_eq!(x, y, "runs diverge at trace event {i}");
    }
}

#[test]
fn different_seeds_give_different_runs() {
    let a = scenario(1);
    let b = scenario(2);
    assert_ne!(a.trace, b.trace);
    assert_ne!(a.counters, b.counters);
    assert_ne!(a.replies, b.replies);
}
