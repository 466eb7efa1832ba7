//! Each link impairment does what its configuration says.
// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Pacer, Probe, Sink, ip, sa};
use rtcwire_netsim::{
    EndpointId, GilbertElliott, HostId, LinkConfig, Network, SeedReporter, Sim, seed_from_env_or,
};

struct Pair {
    sim: Sim,
    a: HostId,
    b: HostId,
}

/// Two public hosts; `uplink` is A's uplink, everything else is perfect.
fn pair(seed: u64, uplink: LinkConfig) -> Pair {
    let mut sim = Sim::new(seed);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    sim.set_uplink(a, uplink).unwrap();
    Pair { sim, a, b }
}

/// A paces `count` datagrams of `size` bytes to B every `interval`.
fn pace(p: &mut Pair, count: u32, interval: Duration, size: usize) -> (EndpointId, EndpointId) {
    let start = p.sim.now();
    let sink = p.sim.add_endpoint(p.b, Sink::default()).unwrap();
    let pacer = p
        .sim
        .add_endpoint(
            p.a,
            Pacer::new(
                sa("198.51.100.1:1000"),
                sa("198.51.100.2:2000"),
                start,
                interval,
                count,
                size,
            ),
        )
        .unwrap();
    (pacer, sink)
}

fn sequence(sim: &Sim, sink: EndpointId) -> Vec<u32> {
    sim.endpoint::<Sink>(sink)
        .unwrap()
        .arrivals
        .iter()
        .map(|(_, s)| *s)
        .collect()
}

#[test]
fn random_loss_of_ten_percent_loses_about_ten_percent() {
    let seed = seed_from_env_or(0x5eed);
    let _report = SeedReporter::new(seed);
    let mut p = pair(seed, LinkConfig::lossy(0.10));
    let (_, sink) = pace(&mut p, 10_000, Duration::from_millis(1), 100);
    p.sim.run_for(Duration::from_secs(11)).unwrap();

    let received = sequence(&p.sim, sink).len() as f64;
    let lost = 1.0 - received / 10_000.0;
    assert!((0.09..=0.11).contains(&lost), "lost {lost}\n{:?}", p.sim);
    let c = p.sim.counters();
    assert_eq!(c.sent, 10_000);
    assert_eq!(c.dropped_loss + c.delivered, 10_000);
    assert_eq!(p.sim.host_counters(p.a).dropped_loss, c.dropped_loss);
}

/// Lengths of runs of consecutive missing sequence numbers in `0..count`.
fn loss_bursts(received: &[u32], count: u32) -> Vec<u32> {
    let mut got = vec![false; count as usize];
    for s in received {
        got[*s as usize] = true;
    }
    let mut bursts = Vec::new();
    let mut run = 0;
    for g in got {
        if g {
            if run > 0 {
                bursts.push(run);
            }
            run = 0;
        } else {
            run += 1;
        }
    }
    if run > 0 {
        bursts.push(run);
    }
    bursts
}

#[test]
fn gilbert_elliott_loses_in_bursts() {
    let seed = seed_from_env_or(7);
    let _report = SeedReporter::new(seed);
    let ge = GilbertElliott::new(0.02, 0.25);
    let count = 20_000;
    let mut p = pair(seed, LinkConfig::perfect().gilbert_elliott(ge));
    let (_, sink) = pace(&mut p, count, Duration::from_millis(1), 100);
    p.sim.run_for(Duration::from_secs(21)).unwrap();

    let received = sequence(&p.sim, sink);
    let bursts = loss_bursts(&received, count);
    let lost: u32 = bursts.iter().sum();
    let mean_burst = f64::from(lost) / bursts.len() as f64;
    // Bad state lasts 1/r = 4 datagrams on average, all lost.
    assert!((3.2..=4.8).contains(&mean_burst), "mean burst {mean_burst}");
    let rate = f64::from(lost) / f64::from(count);
    let expected = ge.expected_loss();
    assert!((rate - expected).abs() < 0.02, "loss {rate} vs {expected}");

    // Independent loss at the same rate gives bursts barely longer than 1.
    let mut q = pair(seed, LinkConfig::lossy(expected));
    let (_, sink) = pace(&mut q, count, Duration::from_millis(1), 100);
    q.sim.run_for(Duration::from_secs(21)).unwrap();
    let bursts = loss_bursts(&sequence(&q.sim, sink), count);
    let mean_random = f64::from(bursts.iter().sum::<u32>()) / bursts.len() as f64;
    assert!(mean_random < 1.2, "random mean burst {mean_random}");
}

#[test]
fn latency_and_jitter_bound_the_arrival_time() {
    let mut p = pair(
        seed_from_env_or(3),
        LinkConfig::perfect()
            .latency(Duration::from_millis(50))
            .jitter(Duration::from_millis(10)),
    );
    let start = p.sim.now();
    let interval = Duration::from_millis(100);
    let (_, sink) = pace(&mut p, 500, interval, 100);
    p.sim.run_for(Duration::from_secs(60)).unwrap();

    let arrivals = &p.sim.endpoint::<Sink>(sink).unwrap().arrivals;
    assert_eq!(arrivals.len(), 500);
    let delays: Vec<Duration> = arrivals
        .iter()
        .map(|(at, seq)| *at - (start + interval * *seq))
        .collect();
    let min = *delays.iter().min().unwrap();
    let max = *delays.iter().max().unwrap();
    assert!(min >= Duration::from_millis(50), "min {min:?}");
    assert!(max <= Duration::from_millis(60), "max {max:?}");
    // The jitter is really there, and spread over its range.
    assert!(max - min > Duration::from_millis(8), "{min:?}..{max:?}");
}

#[test]
fn latency_without_jitter_is_exact_and_adds_up_across_links() {
    let mut p = pair(1, LinkConfig::perfect().latency(Duration::from_millis(30)));
    p.sim
        .set_downlink(p.b, LinkConfig::perfect().latency(Duration::from_millis(12)))
        .unwrap();
    let start = p.sim.now();
    let (_, sink) = pace(&mut p, 3, Duration::from_millis(5), 10);
    p.sim.run_for(Duration::from_secs(1)).unwrap();
    let arrivals = &p.sim.endpoint::<Sink>(sink).unwrap().arrivals;
    let expected: Vec<_> = (0..3u32)
        .map(|i| (start + Duration::from_millis(42 + 5 * u64::from(i)), i))
        .collect();
    assert_eq!(arrivals, &expected);
}

#[test]
fn jitter_alone_never_reorders() {
    let mut p = pair(
        11,
        LinkConfig::perfect()
            .latency(Duration::from_millis(20))
            .jitter(Duration::from_millis(30)),
    );
    let (_, sink) = pace(&mut p, 2_000, Duration::from_millis(1), 50);
    p.sim.run_for(Duration::from_secs(3)).unwrap();
    let seq = sequence(&p.sim, sink);
    assert_eq!(seq.len(), 2_000);
    assert!(seq.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn reordering_lets_later_datagrams_overtake() {
    let mut p = pair(
        5,
        LinkConfig::perfect()
            .latency(Duration::from_millis(10))
            .reorder(0.1, Duration::from_millis(5)),
    );
    let (_, sink) = pace(&mut p, 2_000, Duration::from_millis(1), 50);
    p.sim.run_for(Duration::from_secs(3)).unwrap();
    let seq = sequence(&p.sim, sink);
    assert_eq!(seq.len(), 2_000, "reordering must not lose anything");
    let out_of_order = seq.windows(2).filter(|w| w[0] > w[1]).count();
    let held_back = p.sim.counters().reordered;
    assert!((150..=250).contains(&held_back), "held back {held_back} of 2000");
    assert!(out_of_order >= 150, "only {out_of_order} inversions");
}

#[test]
fn duplication_matches_its_probability() {
    let mut p = pair(9, LinkConfig::perfect().duplicate(0.05));
    let (_, sink) = pace(&mut p, 10_000, Duration::from_millis(1), 50);
    p.sim.run_for(Duration::from_secs(11)).unwrap();
    let seq = sequence(&p.sim, sink);
    let dups = seq.len() - 10_000;
    assert!((400..=600).contains(&dups), "{dups} duplicates");
    assert_eq!(p.sim.counters().duplicated, dups as u64);
    // Every sequence number arrives at least once, duplicates right after.
    let mut dedup = seq.clone();
    dedup.dedup();
    assert_eq!(dedup, (0..10_000).collect::<Vec<_>>());
}

#[test]
fn oversized_datagrams_are_dropped_at_the_mtu() {
    let mut p = pair(1, LinkConfig::perfect().mtu(1500));
    p.sim.add_address(p.a, ip("2001:db8::1")).unwrap();
    p.sim.add_address(p.b, ip("2001:db8::2")).unwrap();
    let probe = p.sim.add_endpoint(p.a, Probe::new()).unwrap();
    let sink = p.sim.add_endpoint(p.b, Probe::new()).unwrap();
    {
        let probe = p.sim.endpoint_mut::<Probe>(probe).unwrap();
        let (v4a, v4b) = (sa("198.51.100.1:1"), sa("198.51.100.2:2"));
        let (v6a, v6b) = (sa("[2001:db8::1]:1"), sa("[2001:db8::2]:2"));
        probe.send(v4a, v4b, &[0; 1472]); // 1500 with IPv4 + UDP headers
        probe.send(v4a, v4b, &[0; 1473]);
        probe.send(v6a, v6b, &[0; 1452]); // 1500 with IPv6 + UDP headers
        probe.send(v6a, v6b, &[0; 1453]);
    }
    p.sim.run_for(Duration::from_secs(1)).unwrap();
    let sizes: Vec<usize> = p
        .sim
        .endpoint::<Probe>(sink)
        .unwrap()
        .received
        .iter()
        .map(|(_, d)| d.payload.len())
        .collect();
    assert_eq!(sizes, vec![1472, 1452]);
    assert_eq!(p.sim.counters().dropped_mtu, 2);
    assert_eq!(p.sim.host_counters(p.a).dropped_mtu, 2);
}

/// Queues `count` datagrams of 1000 bytes on the wire (972 B payload + 28 B
/// headers) at once from A to B.
fn burst(p: &mut Pair, count: usize) -> EndpointId {
    let probe = p.sim.add_endpoint(p.a, Probe::new()).unwrap();
    let sink = p.sim.add_endpoint(p.b, Probe::new()).unwrap();
    let probe = p.sim.endpoint_mut::<Probe>(probe).unwrap();
    for _ in 0..count {
        probe.send(sa("198.51.100.1:1"), sa("198.51.100.2:2"), &[0; 972]);
    }
    sink
}

#[test]
fn one_megabit_link_carries_125_kilobytes_in_one_second() {
    let mut p = pair(1, LinkConfig::perfect().bandwidth(1_000_000, 200_000));
    let start = p.sim.now();
    let sink = burst(&mut p, 125);
    p.sim.run_for(Duration::from_secs(5)).unwrap();
    let received = &p.sim.endpoint::<Probe>(sink).unwrap().received;
    assert_eq!(received.len(), 125);
    // 1000 bytes take 8 ms at 1 Mbit/s.
    assert_eq!(received[0].0 - start, Duration::from_millis(8));
    assert_eq!(received[124].0 - start, Duration::from_secs(1));
    assert_eq!(p.sim.counters().dropped_queue, 0);
}

#[test]
fn full_queue_tail_drops() {
    let mut p = pair(1, LinkConfig::perfect().bandwidth(1_000_000, 10_000));
    let sink = burst(&mut p, 125);
    p.sim.run_for(Duration::from_secs(5)).unwrap();
    // 10 datagrams fit in 10 kB of queue; the other 115 are tail-dropped.
    assert_eq!(p.sim.endpoint::<Probe>(sink).unwrap().received.len(), 10);
    assert_eq!(p.sim.counters().dropped_queue, 115);
    assert_eq!(p.sim.host_counters(p.a).dropped_queue, 115);

    // Once the queue has drained, the link carries traffic again.
    let probe = p.sim.add_endpoint_on_port(p.a, 9, Probe::new()).unwrap();
    p.sim
        .endpoint_mut::<Probe>(probe)
        .unwrap()
        .send(sa("198.51.100.1:9"), sa("198.51.100.2:2"), &[1; 972]);
    p.sim.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(p.sim.endpoint::<Probe>(sink).unwrap().received.len(), 11);
}

#[test]
fn path_override_adds_its_delay_between_one_pair_only() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    let c = sim.add_host(Network::Internet, ip("198.51.100.3")).unwrap();
    sim.set_path(a, b, LinkConfig::perfect().latency(Duration::from_millis(80)))
        .unwrap();
    let start = sim.now();
    let pa = sim.add_endpoint(a, Probe::new()).unwrap();
    let pb = sim.add_endpoint(b, Probe::echo()).unwrap();
    let pc = sim.add_endpoint(c, Probe::echo()).unwrap();
    {
        let pa = sim.endpoint_mut::<Probe>(pa).unwrap();
        pa.send(sa("198.51.100.1:1"), sa("198.51.100.2:2"), b"b");
        pa.send(sa("198.51.100.1:1"), sa("198.51.100.3:2"), b"c");
    }
    sim.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(
        sim.endpoint::<Probe>(pb).unwrap().received[0].0 - start,
        Duration::from_millis(80)
    );
    assert_eq!(sim.endpoint::<Probe>(pc).unwrap().received[0].0, start);
    let back: Vec<_> = sim
        .endpoint::<Probe>(pa)
        .unwrap()
        .received
        .iter()
        .map(|(t, _)| *t - start)
        .collect();
    assert_eq!(back, vec![Duration::ZERO, Duration::from_millis(160)]);
}
