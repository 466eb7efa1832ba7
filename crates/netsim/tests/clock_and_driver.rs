//! The virtual clock, the run controls and how endpoints are driven.
// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Pacer, Probe, ip, sa};
use rtcwire_netsim::{
    Datagram, DropReason, Endpoint, LinkConfig, NatConfig, Network, Sim, SimError, TraceKind,
};

#[test]
fn thirty_second_ping_pong_ends_at_the_right_virtual_time() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    let five_ms = LinkConfig::perfect().latency(Duration::from_millis(5));
    sim.set_link(a, five_ms.clone()).unwrap();
    sim.set_link(b, five_ms).unwrap();
    let start = sim.now();
    assert_eq!(start, sim.epoch());
    sim.add_endpoint(b, Probe::echo()).unwrap();
    let pinger = sim
        .add_endpoint(
            a,
            Pacer::new(
                sa("198.51.100.1:1"),
                sa("198.51.100.2:2"),
                start,
                Duration::from_millis(20),
                u32::MAX,
                32,
            ),
        )
        .unwrap();

    sim.run_for(Duration::from_secs(30)).unwrap();

    assert_eq!(sim.elapsed(), Duration::from_secs(30));
    assert_eq!(sim.now(), start + Duration::from_secs(30));
    let p = sim.endpoint::<Pacer>(pinger).unwrap();
    // Pings at 0, 20 ms, ..., 30 s; each answered 20 ms later.
    assert_eq!(p.sent, 1501);
    assert_eq!(p.replies.len(), 1500);
    for (at, seq) in &p.replies {
        assert_eq!(*at - start, Duration::from_millis(20 * u64::from(*seq) + 20));
    }
    assert_eq!(sim.in_flight(), 1, "the last ping is on its way");
}

/// Asks for a timeout at a fixed instant, however often it is called.
struct Stuck {
    at: Instant,
    fired: Vec<Instant>,
}

impl Endpoint for Stuck {
    fn handle_datagram(&mut self, _now: Instant, _d: Datagram) {}
    fn handle_timeout(&mut self, now: Instant) {
        self.fired.push(now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Some(self.at)
    }
}

#[test]
fn a_timeout_in_the_past_fires_once_per_instant_instead_of_looping() {
    let mut sim = Sim::new(1);
    let h = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let epoch = sim.epoch();
    sim.run_for(Duration::from_secs(1)).unwrap();
    let stuck = sim
        .add_endpoint(
            h,
            Stuck {
                at: epoch,
                fired: Vec::new(),
            },
        )
        .unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    let fired = &sim.endpoint::<Stuck>(stuck).unwrap().fired;
    let offsets: Vec<Duration> = fired.iter().map(|t| *t - epoch).collect();
    // Once at 1 s (when added), once at 2 s; never before now.
    assert_eq!(offsets, vec![Duration::from_secs(1), Duration::from_secs(2)]);
    assert_eq!(sim.elapsed(), Duration::from_secs(3));
    // Nothing else is pending at 3 s once it has fired there.
    assert!(sim.step());
    assert!(!sim.step());
}

#[test]
fn a_timeout_equal_to_now_fires_once() {
    let mut sim = Sim::new(1);
    let h = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let now = sim.now();
    let e = sim
        .add_endpoint(
            h,
            Stuck {
                at: now,
                fired: Vec::new(),
            },
        )
        .unwrap();
    assert!(sim.step());
    assert!(!sim.step(), "nothing pending");
    assert_eq!(sim.now(), now);
    assert_eq!(sim.endpoint::<Stuck>(e).unwrap().fired, vec![now]);
}

/// Never sends and never wants a timeout.
struct Idle;

impl Endpoint for Idle {
    fn handle_datagram(&mut self, _now: Instant, _d: Datagram) {}
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// Wants to be woken one nanosecond later, forever.
struct Ticker {
    next: Instant,
}

impl Endpoint for Ticker {
    fn handle_datagram(&mut self, _now: Instant, _d: Datagram) {}
    fn handle_timeout(&mut self, now: Instant) {
        self.next = now + Duration::from_nanos(1);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Some(self.next)
    }
}

#[test]
fn a_spinning_endpoint_stops_at_the_step_limit() {
    let mut sim = Sim::new(1);
    let h = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let now = sim.now();
    sim.add_endpoint(h, Ticker { next: now }).unwrap();
    sim.set_step_limit(1000);
    assert_eq!(
        sim.run_for(Duration::from_secs(30)),
        Err(SimError::StepLimit(1000))
    );
    assert_eq!(sim.steps(), 1000);
    assert!(sim.elapsed() < Duration::from_micros(1));
}

#[test]
fn step_returns_false_when_idle_and_keeps_the_clock() {
    let mut sim = Sim::new(1);
    let h = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    sim.add_endpoint(h, Idle).unwrap();
    let before = sim.now();
    assert!(!sim.step());
    assert_eq!(sim.now(), before);
    assert_eq!(sim.next_event_time(), None);
}

#[test]
fn run_until_true_stops_when_the_predicate_holds() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    sim.set_link(b, LinkConfig::perfect().latency(Duration::from_millis(40)))
        .unwrap();
    let start = sim.now();
    let pa = sim.add_endpoint(a, Probe::new()).unwrap();
    sim.add_endpoint(b, Probe::echo()).unwrap();
    sim.endpoint_mut::<Probe>(pa)
        .unwrap()
        .send(sa("198.51.100.1:1"), sa("198.51.100.2:2"), b"ping");
    let got_pong = |s: &Sim| !s.endpoint::<Probe>(pa).unwrap().received.is_empty();
    assert_eq!(sim.run_until_true(Duration::from_secs(5), got_pong), Ok(true));
    assert_eq!(sim.now() - start, Duration::from_millis(80));

    // Nothing else will happen: false, with the clock at the limit.
    let never = |_: &Sim| false;
    assert_eq!(sim.run_until_true(Duration::from_secs(2), never), Ok(false));
    assert_eq!(sim.now() - start, Duration::from_millis(2080));
}

#[test]
fn commands_issued_mid_run_are_sent_at_the_current_time() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    let pa = sim.add_endpoint(a, Probe::new()).unwrap();
    let pb = sim.add_endpoint(b, Probe::new()).unwrap();
    sim.run_for(Duration::from_secs(3)).unwrap();
    sim.endpoint_mut::<Probe>(pa)
        .unwrap()
        .send(sa("198.51.100.1:1"), sa("198.51.100.2:2"), b"late");
    // Over perfect links the datagram crosses A's uplink and B's downlink,
    // two events, both at the current instant.
    assert!(sim.step());
    assert!(sim.endpoint::<Probe>(pb).unwrap().received.is_empty());
    sim.run_for(Duration::ZERO).unwrap();
    let got = &sim.endpoint::<Probe>(pb).unwrap().received;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0 - sim.epoch(), Duration::from_secs(3));
    assert!(sim.endpoint::<Pacer>(pa).is_none(), "wrong type");
}

#[test]
fn sources_are_checked_and_unspecified_ones_filled_in() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    let pa = sim.add_endpoint(a, Probe::new()).unwrap();
    let pb = sim.add_endpoint(b, Probe::new()).unwrap();
    {
        let p = sim.endpoint_mut::<Probe>(pa).unwrap();
        p.send(sa("0.0.0.0:7"), sa("198.51.100.2:2"), b"filled in");
        p.send(sa("198.51.100.9:7"), sa("198.51.100.2:2"), b"spoofed");
    }
    sim.run_for(Duration::from_millis(1)).unwrap();
    assert_eq!(
        sim.endpoint::<Probe>(pb).unwrap().sources(),
        vec![sa("198.51.100.1:7")]
    );
    assert_eq!(sim.host_counters(a).dropped_invalid_source, 1);
    assert_eq!(sim.host_counters(a).sent, 2);
}

#[test]
fn endpoints_bound_to_a_port_take_precedence_over_catch_all_ones() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    let pa = sim.add_endpoint(a, Probe::new()).unwrap();
    let stun = sim.add_endpoint_on_port(b, 3478, Probe::new()).unwrap();
    assert_eq!(
        sim.add_endpoint_on_port(b, 3478, Probe::new()),
        Err(SimError::EndpointConflict(b, Some(3478)))
    );
    {
        let p = sim.endpoint_mut::<Probe>(pa).unwrap();
        p.send(sa("198.51.100.1:1"), sa("198.51.100.2:3478"), b"stun");
        p.send(sa("198.51.100.1:1"), sa("198.51.100.2:80"), b"nobody");
    }
    sim.run_for(Duration::from_millis(1)).unwrap();
    assert_eq!(sim.host_counters(b).dropped_no_endpoint, 1);
    let rest = sim.add_endpoint(b, Probe::new()).unwrap();
    sim.endpoint_mut::<Probe>(pa)
        .unwrap()
        .send(sa("198.51.100.1:1"), sa("198.51.100.2:80"), b"rest");
    sim.run_for(Duration::from_millis(1)).unwrap();
    assert_eq!(sim.endpoint::<Probe>(stun).unwrap().received.len(), 1);
    assert_eq!(sim.endpoint::<Probe>(rest).unwrap().received.len(), 1);
}

#[test]
fn addresses_are_unique_per_network_only() {
    let mut sim = Sim::new(1);
    let n1 = sim
        .add_nat(Network::Internet, ip("203.0.113.1"), NatConfig::full_cone())
        .unwrap();
    let n2 = sim
        .add_nat(Network::Internet, ip("203.0.113.2"), NatConfig::full_cone())
        .unwrap();
    assert!(sim.add_host(n1, ip("192.168.1.2")).is_ok());
    assert!(sim.add_host(n2, ip("192.168.1.2")).is_ok());
    assert_eq!(
        sim.add_host(n1, ip("192.168.1.2")),
        Err(SimError::AddressInUse(ip("192.168.1.2")))
    );
    assert_eq!(
        sim.add_host(Network::Internet, ip("203.0.113.1")),
        Err(SimError::AddressInUse(ip("203.0.113.1")))
    );
    assert_eq!(
        sim.add_host(Network::Internet, ip("0.0.0.0")),
        Err(SimError::UnspecifiedAddress)
    );
}

#[test]
fn the_in_flight_queue_is_capped() {
    let mut sim = Sim::new(1);
    sim.set_max_in_flight(10);
    sim.enable_trace(100);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    let b = sim.add_host(Network::Internet, ip("198.51.100.2")).unwrap();
    sim.set_uplink(a, LinkConfig::perfect().latency(Duration::from_millis(1)))
        .unwrap();
    let pa = sim.add_endpoint(a, Probe::new()).unwrap();
    let pb = sim.add_endpoint(b, Probe::new()).unwrap();
    {
        let p = sim.endpoint_mut::<Probe>(pa).unwrap();
        for _ in 0..25 {
            p.send(sa("198.51.100.1:1"), sa("198.51.100.2:2"), b"x");
        }
    }
    sim.run_for(Duration::from_millis(5)).unwrap();
    assert_eq!(sim.endpoint::<Probe>(pb).unwrap().received.len(), 10);
    assert_eq!(sim.counters().dropped_in_flight_limit, 15);
    assert!(sim.trace().any(|e| matches!(
        e.kind,
        TraceKind::Dropped {
            reason: DropReason::InFlightLimit,
            ..
        }
    )));
}

#[test]
fn debug_output_names_the_seed_and_the_trace_ring_is_bounded() {
    let mut sim = Sim::new(0xfeed);
    sim.enable_trace(5);
    let a = sim.add_host(Network::Internet, ip("198.51.100.1")).unwrap();
    sim.set_name(a, "alice").unwrap();
    let pa = sim.add_endpoint(a, Probe::new()).unwrap();
    for i in 0..20u16 {
        sim.endpoint_mut::<Probe>(pa).unwrap().send(
            sa("198.51.100.1:1"),
            SocketAddr::new(ip("192.0.2.1"), i),
            b"x",
        );
    }
    sim.run_for(Duration::from_millis(1)).unwrap();
    assert_eq!(sim.trace().len(), 5);
    let text = format!("{sim:?}");
    assert!(text.contains("NETSIM_SEED=65261"), "{text}");
    assert!(text.contains("alice"), "{text}");
    assert!(text.contains("dropped_no_route=20"), "{text}");
    assert!(
        text.contains("dropped   (no-route) 198.51.100.1:1 -> 192.0.2.1:19"),
        "{text}"
    );
}
