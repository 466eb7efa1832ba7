//! STUN Binding transactions on the simulated network: retransmission under
//! loss, NAT discovery, and timeouts, each run replayable from its seed
//! (`NETSIM_SEED`).
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rtcwire_netsim::{
    Datagram, Endpoint, LinkConfig, NatConfig, Network, Responder, SeedReporter, Sim, seed_from_env_or,
};
use rtcwire_stun::{
    BindingClient, BindingEvent, BindingFailure, BindingRequestOptions, BindingResponder, TransactionConfig,
};

const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const SERVER2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const NAT_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);

/// A stateless STUN server endpoint.
fn stun_server() -> Responder<impl FnMut(&[u8], SocketAddr) -> Option<Vec<u8>>> {
    let responder = BindingResponder::new();
    Responder::new(move |payload, source| responder.respond_to_vec(payload, source))
}

/// Runs Binding clients from one local address, one after another.
struct Client {
    local: SocketAddr,
    clients: Vec<BindingClient>,
    events: Vec<(Instant, BindingEvent)>,
    transmissions: u32,
}

impl Client {
    fn new(local: SocketAddr) -> Client {
        Client {
            local,
            clients: Vec::new(),
            events: Vec::new(),
            transmissions: 0,
        }
    }

    fn start(&mut self, now: Instant, seed: u64, server: SocketAddr, transaction: TransactionConfig) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ u64::from(self.clients.len() as u32));
        let options = BindingRequestOptions {
            transaction,
            ..BindingRequestOptions::default()
        };
        self.clients
            .push(BindingClient::new(now, &mut rng, server, options).unwrap());
    }

    fn collect(&mut self, now: Instant) {
        for c in &mut self.clients {
            while let Some(e) = c.poll_event() {
                self.events.push((now, e));
            }
        }
    }
}

impl Endpoint for Client {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        for c in &mut self.clients {
            if c.handle_receive(now, d.source, &d.payload) {
                break;
            }
        }
        self.collect(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        for c in &mut self.clients {
            if c.poll_timeout().is_some_and(|t| t <= now) {
                c.handle_timeout(now);
            }
        }
        self.collect(now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        for c in &mut self.clients {
            if let Some(t) = c.poll_transmit() {
                self.transmissions += 1;
                return Some(Datagram {
                    source: self.local,
                    destination: t.destination,
                    payload: t.contents.to_vec(),
                });
            }
        }
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.clients.iter().filter_map(BindingClient::poll_timeout).min()
    }
}

struct World {
    sim: Sim,
    nat: rtcwire_netsim::NatId,
    client: rtcwire_netsim::EndpointId,
    seed: u64,
}

fn world(seed: u64, nat: NatConfig, link: LinkConfig) -> World {
    let mut sim = Sim::new(seed);
    let nat = sim.add_nat(Network::Internet, NAT_IP, nat).unwrap();
    let host = sim.add_host(nat, CLIENT).unwrap();
    sim.set_link(host, link).unwrap();
    for ip in [SERVER, SERVER2] {
        let server = sim.add_host(Network::Internet, ip).unwrap();
        sim.set_link(server, LinkConfig::perfect().latency(Duration::from_millis(20)))
            .unwrap();
        sim.add_endpoint(server, stun_server()).unwrap();
    }
    let client = sim
        .add_endpoint(host, Client::new((CLIENT, 50_000).into()))
        .unwrap();
    World {
        sim,
        nat,
        client,
        seed,
    }
}

impl World {
    fn start(&mut self, server: Ipv4Addr, config: TransactionConfig) {
        let now = self.sim.now();
        let seed = self.seed;
        self.sim
            .endpoint_mut::<Client>(self.client)
            .unwrap()
            .start(now, seed, (server, 3478).into(), config);
    }

    fn client(&self) -> &Client {
        self.sim.endpoint::<Client>(self.client).unwrap()
    }

    fn run_to_end(&mut self) {
        let id = self.client;
        let done = self
            .sim
            .run_until_true(Duration::from_secs(60), |s| {
                s.endpoint::<Client>(id)
                    .unwrap()
                    .clients
                    .iter()
                    .all(BindingClient::is_done)
            })
            .unwrap();
        assert!(done, "transactions still running after 60 s: {:?}", self.sim);
    }
}

#[test]
fn binding_succeeds_through_loss_and_reports_the_nat_mapping() {
    let base = seed_from_env_or(0x5717);
    let mut succeeded = 0;
    let mut retransmitted = 0;
    for i in 0..100 {
        let seed = base.wrapping_add(i);
        let _report = SeedReporter::new(seed);
        let link = LinkConfig::perfect()
            .latency(Duration::from_millis(30))
            .jitter(Duration::from_millis(10))
            .loss(0.3)
            .duplicate(0.05);
        let mut w = world(seed, NatConfig::port_restricted_cone(), link);
        w.start(SERVER, TransactionConfig::default());
        w.run_to_end();
        let client = w.client();
        assert_eq!(client.events.len(), 1, "one outcome per transaction, seed {seed}");
        let (at, event) = &client.events[0];
        match event {
            BindingEvent::Mapped { address, .. } => {
                succeeded += 1;
                let mappings = w.sim.nat_mappings(w.nat);
                let mapped = mappings
                    .iter()
                    .find(|m| m.internal == SocketAddr::from((CLIENT, 50_000)));
                assert_eq!(
                    Some(*address),
                    mapped.map(|m| m.external),
                    "seed {seed}: reflexive address must be the NAT's mapping"
                );
                assert_eq!(address.ip(), NAT_IP);
                if client.transmissions > 1 {
                    retransmitted += 1;
                }
            }
            BindingEvent::Failed(BindingFailure::TimedOut) => {
                // Only after the whole RFC 8489 schedule: 7 sends, 39.5 s.
                assert_eq!(client.transmissions, 7, "seed {seed}");
                assert_eq!(*at - w.sim.epoch(), Duration::from_millis(39_500), "seed {seed}");
            }
            other => panic!("seed {seed}: unexpected {other:?}"),
        }
    }
    // Each try succeeds with probability 0.49 (0.7 each way), so 7 tries
    // fail only 0.9 % of the time; loss must have forced retransmissions.
    assert!(succeeded >= 95, "only {succeeded} of 100 succeeded");
    assert!(retransmitted >= 30, "only {retransmitted} needed retransmission");
}

#[test]
fn symmetric_nat_gives_a_new_mapping_per_server_and_full_cone_does_not() {
    let seed = seed_from_env_or(7);
    let _report = SeedReporter::new(seed);
    let mapped = |nat: NatConfig| {
        let mut w = world(seed, nat, LinkConfig::lan());
        w.start(SERVER, TransactionConfig::default());
        w.start(SERVER2, TransactionConfig::default());
        w.run_to_end();
        w.client()
            .events
            .iter()
            .map(|(_, e)| match e {
                BindingEvent::Mapped { address, .. } => *address,
                other => panic!("seed {seed}: {other:?}"),
            })
            .collect::<Vec<_>>()
    };
    let symmetric = mapped(NatConfig::symmetric());
    assert_eq!(symmetric.len(), 2);
    assert_ne!(
        symmetric[0].port(),
        symmetric[1].port(),
        "symmetric NAT: one mapping per destination"
    );
    let cone = mapped(NatConfig::full_cone());
    assert_eq!(cone.len(), 2);
    assert_eq!(
        cone[0], cone[1],
        "endpoint-independent mapping: one address for all"
    );
}

#[test]
fn blocked_udp_times_out_after_the_full_schedule() {
    let seed = seed_from_env_or(3);
    let _report = SeedReporter::new(seed);
    let mut w = world(seed, NatConfig::udp_blocked(), LinkConfig::lan());
    let config = TransactionConfig {
        initial_rto: Duration::from_millis(250),
        max_transmissions: 5,
        last_wait_multiplier: 4,
        ..TransactionConfig::default()
    };
    w.start(SERVER, config);
    w.run_to_end();
    let client = w.client();
    assert_eq!(client.transmissions, 5);
    let (at, event) = &client.events[0];
    assert_eq!(*event, BindingEvent::Failed(BindingFailure::TimedOut));
    // Sends at 0, 250, 750, 1750, 3750 ms; gives up 4 x 250 ms later.
    assert_eq!(*at - w.sim.epoch(), Duration::from_millis(4_750));
}
