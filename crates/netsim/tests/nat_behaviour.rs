//! NAT mapping, filtering, timeouts, hairpinning and firewalls (RFC 4787).
// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Probe, ip, sa};
use rtcwire_netsim::{
    EndpointId, FilteringBehavior, MappingBehavior, NatConfig, NatId, Network, PortAllocation, Sim,
};

const CLIENT: &str = "192.168.1.2:5000";
const S1: &str = "198.51.100.1";
const S2: &str = "198.51.100.2";

/// A client behind a NAT at 203.0.113.1, and two public servers S1 and S2
/// that accept any port.
struct World {
    sim: Sim,
    nat: NatId,
    client: EndpointId,
    s1: EndpointId,
    s2: EndpointId,
}

fn world(config: NatConfig) -> World {
    let mut sim = Sim::new(42);
    sim.enable_trace(10_000);
    let nat = sim.add_nat(Network::Internet, ip("203.0.113.1"), config).unwrap();
    let c = sim.add_host(nat, ip("192.168.1.2")).unwrap();
    let h1 = sim.add_host(Network::Internet, ip(S1)).unwrap();
    let h2 = sim.add_host(Network::Internet, ip(S2)).unwrap();
    let client = sim.add_endpoint(c, Probe::new()).unwrap();
    let s1 = sim.add_endpoint(h1, Probe::new()).unwrap();
    let s2 = sim.add_endpoint(h2, Probe::new()).unwrap();
    World {
        sim,
        nat,
        client,
        s1,
        s2,
    }
}

impl World {
    fn send(&mut self, from: EndpointId, src: SocketAddr, dst: SocketAddr) {
        self.sim.endpoint_mut::<Probe>(from).unwrap().send(src, dst, b"x");
        self.sim.run_for(Duration::from_millis(10)).unwrap();
    }

    /// The client sends to `dst`; returns the source the server saw.
    fn client_to(&mut self, server: EndpointId, port: u16) -> SocketAddr {
        let host = if server == self.s1 { S1 } else { S2 };
        let dst = SocketAddr::new(ip(host), port);
        self.send(self.client, sa(CLIENT), dst);
        let probe = self.sim.endpoint::<Probe>(server).unwrap();
        let (_, d) = probe.received.last().expect("server got nothing");
        assert_eq!(d.destination, dst);
        d.source
    }

    /// `server` sends from `port` to `to`; returns whether the client got it.
    fn server_to_client(&mut self, server: EndpointId, port: u16, to: SocketAddr) -> bool {
        let host = if server == self.s1 { S1 } else { S2 };
        let before = self.sim.endpoint::<Probe>(self.client).unwrap().received.len();
        self.send(server, SocketAddr::new(ip(host), port), to);
        let probe = self.sim.endpoint::<Probe>(self.client).unwrap();
        if probe.received.len() == before {
            return false;
        }
        let (_, d) = probe.received.last().unwrap();
        assert_eq!(d.destination, sa(CLIENT));
        assert_eq!(d.source, SocketAddr::new(ip(host), port));
        true
    }
}

#[test]
fn endpoint_independent_mapping_reuses_the_port_for_every_destination() {
    let mut w = world(NatConfig::full_cone());
    let a = w.client_to(w.s1, 3478);
    let b = w.client_to(w.s2, 3478);
    let c = w.client_to(w.s1, 3479);
    assert_eq!(a.ip(), ip("203.0.113.1"));
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(w.sim.nat_mappings(w.nat).len(), 1);
    assert_eq!(w.sim.nat_counters(w.nat).nat_mappings_created, 1);
}

#[test]
fn address_and_port_dependent_mapping_is_new_per_destination() {
    let mut w = world(NatConfig::symmetric());
    let a = w.client_to(w.s1, 3478);
    let b = w.client_to(w.s2, 3478);
    let c = w.client_to(w.s1, 3479);
    let again = w.client_to(w.s1, 3478);
    assert_ne!(a, b);
    assert_ne!(a, c);
    assert_ne!(b, c);
    assert_eq!(a, again, "the same destination keeps its mapping");
    assert_eq!(w.sim.nat_mappings(w.nat).len(), 3);
}

#[test]
fn address_dependent_mapping_is_shared_across_ports_of_one_ip() {
    let mut w = world(NatConfig::full_cone().mapping(MappingBehavior::AddressDependent));
    let a = w.client_to(w.s1, 3478);
    let b = w.client_to(w.s1, 3479);
    let c = w.client_to(w.s2, 3478);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn endpoint_independent_filtering_admits_anyone_once_mapped() {
    let mut w = world(NatConfig::full_cone());
    let public = w.client_to(w.s1, 3478);
    assert!(w.server_to_client(w.s2, 9999, public));
}

#[test]
fn address_dependent_filtering_admits_other_ports_of_a_contacted_ip_only() {
    let mut w = world(NatConfig::restricted_cone());
    let public = w.client_to(w.s1, 3478);
    assert!(w.server_to_client(w.s1, 3478, public));
    assert!(
        w.server_to_client(w.s1, 4000, public),
        "another port of a contacted IP"
    );
    assert!(!w.server_to_client(w.s2, 3478, public), "unseen IP");
    assert_eq!(w.sim.nat_counters(w.nat).dropped_nat_filter, 1);
    // Once the client has sent to S2, S2 may answer from any port.
    let _ = w.client_to(w.s2, 1);
    assert!(w.server_to_client(w.s2, 3478, public));
}

#[test]
fn address_and_port_dependent_filtering_admits_only_the_contacted_pair() {
    let mut w = world(NatConfig::port_restricted_cone());
    let public = w.client_to(w.s1, 3478);
    assert!(w.server_to_client(w.s1, 3478, public));
    assert!(!w.server_to_client(w.s1, 3479, public));
    assert!(!w.server_to_client(w.s2, 3478, public));
    assert_eq!(w.sim.nat_counters(w.nat).dropped_nat_filter, 2);
}

#[test]
fn inbound_without_a_mapping_is_dropped() {
    let mut w = world(NatConfig::full_cone());
    assert!(!w.server_to_client(w.s1, 3478, sa("203.0.113.1:50000")));
    assert_eq!(w.sim.counters().dropped_nat_no_mapping, 1);
}

#[test]
fn idle_mapping_expires_and_a_new_one_gets_a_new_port() {
    let mut w = world(NatConfig::port_restricted_cone().mapping_timeout(Duration::from_secs(30)));
    let first = w.client_to(w.s1, 3478);

    // Outbound traffic at 20 s refreshes the mapping until 50 s.
    w.sim.run_for(Duration::from_secs(20)).unwrap();
    assert_eq!(w.client_to(w.s1, 3478), first);
    w.sim.run_for(Duration::from_secs(25)).unwrap();
    assert!(w.server_to_client(w.s1, 3478, first), "refreshed at 20 s");

    // Inbound traffic does not refresh it (the default): gone at 50 s.
    w.sim.run_for(Duration::from_secs(6)).unwrap();
    assert!(!w.server_to_client(w.s1, 3478, first), "expired");
    let c = w.sim.nat_counters(w.nat);
    assert_eq!(c.nat_mappings_expired, 1);
    assert_eq!(c.dropped_nat_no_mapping, 1);
    assert!(w.sim.nat_mappings(w.nat).is_empty());

    let second = w.client_to(w.s1, 3478);
    assert_eq!(second.ip(), first.ip());
    assert_ne!(second.port(), first.port(), "a fresh mapping");
    assert!(w.server_to_client(w.s1, 3478, second));
    assert!(!w.server_to_client(w.s1, 3478, first));
}

#[test]
fn inbound_refresh_keeps_a_mapping_alive_when_enabled() {
    let mut w = world(
        NatConfig::full_cone()
            .mapping_timeout(Duration::from_secs(30))
            .refresh_on_inbound(true),
    );
    let public = w.client_to(w.s1, 3478);
    for _ in 0..4 {
        w.sim.run_for(Duration::from_secs(20)).unwrap();
        assert!(w.server_to_client(w.s1, 3478, public));
    }
    assert_eq!(w.sim.nat_counters(w.nat).nat_mappings_expired, 0);
}

#[test]
fn port_preserving_allocation_keeps_the_internal_port() {
    let mut w = world(
        NatConfig::full_cone().port_allocation(PortAllocation::Preserving {
            first: 1024,
            last: 65535,
        }),
    );
    assert_eq!(w.client_to(w.s1, 3478), sa("203.0.113.1:5000"));
}

/// Two hosts behind one NAT (EIM, APDF), each with a mapping made by sending
/// to S1; returns (sim, nat, a, b, public a, public b).
fn two_behind_one(hairpinning: bool) -> (Sim, NatId, EndpointId, EndpointId, SocketAddr, SocketAddr) {
    let mut sim = Sim::new(8);
    let nat = sim
        .add_nat(
            Network::Internet,
            ip("203.0.113.1"),
            NatConfig::port_restricted_cone().hairpinning(hairpinning),
        )
        .unwrap();
    let ha = sim.add_host(nat, ip("192.168.1.2")).unwrap();
    let hb = sim.add_host(nat, ip("192.168.1.3")).unwrap();
    let hs = sim.add_host(Network::Internet, ip(S1)).unwrap();
    let a = sim.add_endpoint(ha, Probe::new()).unwrap();
    let b = sim.add_endpoint(hb, Probe::new()).unwrap();
    let s = sim.add_endpoint(hs, Probe::new()).unwrap();
    for (ep, src) in [(a, "192.168.1.2:5000"), (b, "192.168.1.3:6000")] {
        sim.endpoint_mut::<Probe>(ep)
            .unwrap()
            .send(sa(src), sa("198.51.100.1:3478"), b"stun");
    }
    sim.run_for(Duration::from_millis(10)).unwrap();
    let seen = sim.endpoint::<Probe>(s).unwrap().sources();
    (sim, nat, a, b, seen[0], seen[1])
}

#[test]
fn hairpinning_delivers_between_hosts_behind_the_same_nat() {
    let (mut sim, nat, a, b, pub_a, pub_b) = two_behind_one(true);
    // Address-and-port-dependent filtering: both sides open a permission
    // for the other's public address, as ICE connectivity checks do.
    sim.endpoint_mut::<Probe>(a)
        .unwrap()
        .send(sa("192.168.1.2:5000"), pub_b, b"a->b");
    sim.run_for(Duration::from_millis(10)).unwrap();
    sim.endpoint_mut::<Probe>(b)
        .unwrap()
        .send(sa("192.168.1.3:6000"), pub_a, b"b->a");
    sim.run_for(Duration::from_millis(10)).unwrap();
    sim.endpoint_mut::<Probe>(a)
        .unwrap()
        .send(sa("192.168.1.2:5000"), pub_b, b"a->b again");
    sim.run_for(Duration::from_millis(10)).unwrap();

    let at_a = &sim.endpoint::<Probe>(a).unwrap().received;
    let at_b = &sim.endpoint::<Probe>(b).unwrap().received;
    assert_eq!(at_a.len(), 1, "{sim:?}");
    assert_eq!(at_a[0].1.source, pub_b, "hairpinned source is translated");
    assert_eq!(at_a[0].1.payload, b"b->a");
    // The first a->b was filtered (b had not sent to pub_a yet), the second
    // passed.
    assert_eq!(at_b.len(), 1, "{sim:?}");
    assert_eq!(at_b[0].1.source, pub_a);
    let c = sim.nat_counters(nat);
    assert_eq!(c.nat_hairpinned, 3);
    assert_eq!(c.dropped_nat_filter, 1);
}

#[test]
fn without_hairpinning_the_nat_drops_traffic_to_its_own_address() {
    let (mut sim, nat, a, b, _pub_a, pub_b) = two_behind_one(false);
    sim.endpoint_mut::<Probe>(a)
        .unwrap()
        .send(sa("192.168.1.2:5000"), pub_b, b"a->b");
    sim.run_for(Duration::from_millis(10)).unwrap();
    assert!(sim.endpoint::<Probe>(b).unwrap().received.is_empty());
    assert_eq!(sim.nat_counters(nat).dropped_hairpin, 1);
    // Private addresses still work inside.
    sim.endpoint_mut::<Probe>(a)
        .unwrap()
        .send(sa("192.168.1.2:5000"), sa("192.168.1.3:6000"), b"local");
    sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(sim.endpoint::<Probe>(b).unwrap().received.len(), 1);
}

#[test]
fn udp_blocking_firewall_drops_everything_both_ways() {
    let mut w = world(NatConfig::udp_blocked());
    w.send(w.client, sa(CLIENT), sa("198.51.100.1:3478"));
    w.send(w.client, sa(CLIENT), sa("198.51.100.2:443"));
    assert!(w.sim.endpoint::<Probe>(w.s1).unwrap().received.is_empty());
    assert!(w.sim.endpoint::<Probe>(w.s2).unwrap().received.is_empty());
    assert!(!w.server_to_client(w.s1, 3478, sa("203.0.113.1:5000")));
    assert_eq!(w.sim.nat_counters(w.nat).dropped_firewall, 3);
    assert_eq!(w.sim.counters().delivered, 0);
}

#[test]
fn host_firewall_blocks_a_public_host() {
    let mut w = world(NatConfig::full_cone());
    let host = w.sim.endpoint_host(w.s1).unwrap();
    w.sim.set_udp_blocked(host, true).unwrap();
    w.send(w.client, sa(CLIENT), sa("198.51.100.1:3478"));
    assert!(w.sim.endpoint::<Probe>(w.s1).unwrap().received.is_empty());
    assert_eq!(w.sim.host_counters(host).dropped_firewall, 1);
}

#[test]
fn unowned_destinations_are_dropped_and_counted() {
    let mut w = world(NatConfig::full_cone());
    w.send(w.client, sa(CLIENT), sa("192.0.2.99:9"));
    // Inside the NAT, an unknown private address leaves through the NAT and
    // is not routable on the internet either.
    w.send(w.client, sa(CLIENT), sa("192.168.1.77:9"));
    assert_eq!(w.sim.counters().dropped_no_route, 2, "{:?}", w.sim);
}

#[test]
fn nested_nats_translate_twice() {
    let mut sim = Sim::new(3);
    let isp = sim
        .add_nat(Network::Internet, ip("203.0.113.1"), NatConfig::symmetric())
        .unwrap();
    let home = sim
        .add_nat(isp, ip("100.64.0.2"), NatConfig::port_restricted_cone())
        .unwrap();
    let laptop = sim.add_host(home, ip("192.168.1.2")).unwrap();
    let server = sim.add_host(Network::Internet, ip(S1)).unwrap();
    let c = sim.add_endpoint(laptop, Probe::new()).unwrap();
    let s = sim.add_endpoint(server, Probe::echo()).unwrap();
    sim.endpoint_mut::<Probe>(c)
        .unwrap()
        .send(sa(CLIENT), sa("198.51.100.1:3478"), b"hi");
    sim.run_for(Duration::from_millis(10)).unwrap();
    let seen = sim.endpoint::<Probe>(s).unwrap().sources();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].ip(), ip("203.0.113.1"));
    let back = &sim.endpoint::<Probe>(c).unwrap().received;
    assert_eq!(back.len(), 1, "{sim:?}");
    assert_eq!(back[0].1.source, sa("198.51.100.1:3478"));
    assert_eq!(sim.nat_mappings(home)[0].external.ip(), ip("100.64.0.2"));
}

#[test]
fn filtering_and_mapping_are_reported_by_the_config() {
    let c = NatConfig::symmetric();
    assert_eq!(c.mapping, MappingBehavior::AddressAndPortDependent);
    assert_eq!(c.filtering, FilteringBehavior::AddressAndPortDependent);
}
