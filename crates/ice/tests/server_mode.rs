//! Server mode: one socket, many ICE-lite agents behind a demultiplexer,
//! full-agent clients behind assorted NATs, on the simulated network.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rtcwire_ice::{
    Candidate, CandidateKind, Demux, IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole,
};
use rtcwire_netsim::{
    Datagram, Endpoint, EndpointId, LinkConfig, NatConfig, Network, SeedReporter, Sim, seed_from_env_or,
};

const SERVER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)), 443);

/// Many lite agents on one socket.
struct Server {
    agents: Vec<IceAgent>,
    demux: Demux<usize>,
    /// Application datagrams routed to each agent.
    app: Vec<Vec<Vec<u8>>>,
    unrouted: u64,
}

impl Server {
    fn drain(&mut self, i: usize) {
        while let Some(e) = self.agents[i].poll_event() {
            if let IceEvent::SelectedPairChanged { local, remote } = e {
                self.demux.bind(local, remote, i).unwrap();
            }
        }
    }
}

impl Endpoint for Server {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        match self.demux.route(d.destination, d.source, &d.payload) {
            Some(i) => {
                if !self.agents[i].handle_receive(now, d.source, d.destination, &d.payload) {
                    self.app[i].push(d.payload);
                }
                self.drain(i);
            }
            None => self.unrouted += 1,
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        for i in 0..self.agents.len() {
            if self.agents[i].poll_timeout().is_some_and(|t| t <= now) {
                self.agents[i].handle_timeout(now);
                self.drain(i);
            }
        }
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        self.agents.iter_mut().find_map(|a| {
            a.poll_transmit().map(|t| Datagram {
                source: t.source,
                destination: t.destination,
                payload: t.contents,
            })
        })
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.agents.iter().filter_map(IceAgent::poll_timeout).min()
    }
}

/// A full agent that sends one application datagram once connected.
struct Client {
    agent: IceAgent,
    sent_app: bool,
    out: VecDeque<Datagram>,
}

impl Endpoint for Client {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        self.agent
            .handle_receive(now, d.source, d.destination, &d.payload);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.agent.handle_timeout(now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        while self.agent.poll_event().is_some() {}
        if let Some(t) = self.agent.poll_transmit() {
            return Some(Datagram {
                source: t.source,
                destination: t.destination,
                payload: t.contents,
            });
        }
        if !self.sent_app {
            if let Some((local, remote)) = self.agent.selected_pair() {
                self.sent_app = true;
                let ufrag = self.agent.local_credentials().ufrag.clone();
                self.out.push_back(Datagram {
                    source: local,
                    destination: remote,
                    payload: format!("app data from {ufrag}").into_bytes(),
                });
            }
        }
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.agent.poll_timeout()
    }
}

#[test]
fn one_socket_serves_many_clients_behind_nats() {
    const CLIENTS: usize = 60;
    let seed = seed_from_env_or(21);
    let _report = SeedReporter::new(seed);
    let mut sim = Sim::new(seed);
    let now = sim.now();
    let server_host = sim.add_host(Network::Internet, SERVER.ip()).unwrap();

    let mut server = Server {
        agents: Vec::new(),
        demux: Demux::new(CLIENTS, CLIENTS * 2),
        app: vec![Vec::new(); CLIENTS],
        unrouted: 0,
    };
    let mut clients: Vec<EndpointId> = Vec::new();
    let mut client_ufrags = Vec::new();
    for i in 0..CLIENTS {
        let mut lite = IceAgent::new(
            IceConfig {
                lite: true,
                seed: Some(seed * 1000 + i as u64),
                ..IceConfig::default()
            },
            IceRole::Controlled,
        );
        let server_candidate = lite.add_host_candidate(now, SERVER).unwrap();
        let mut full = IceAgent::new(
            IceConfig {
                seed: Some(seed * 1000 + 500 + i as u64),
                ..IceConfig::default()
            },
            IceRole::Controlling,
        );
        let nat = match i % 4 {
            0 => NatConfig::full_cone(),
            1 => NatConfig::restricted_cone(),
            2 => NatConfig::port_restricted_cone(),
            _ => NatConfig::symmetric(),
        };
        let nat = sim
            .add_nat(
                Network::Internet,
                Ipv4Addr::new(203, 0, (i / 200) as u8, (i % 200) as u8 + 1),
                nat,
            )
            .unwrap();
        let host = sim.add_host(nat, Ipv4Addr::new(10, 0, 0, 2)).unwrap();
        sim.set_link(
            host,
            LinkConfig::perfect().latency(Duration::from_millis(5 + (i % 40) as u64)),
        )
        .unwrap();
        let client_addr = SocketAddr::from((Ipv4Addr::new(10, 0, 0, 2), 40_000));
        let client_candidate = full.add_host_candidate(now, client_addr).unwrap();

        lite.set_remote_credentials(now, full.local_credentials().clone())
            .unwrap();
        full.set_remote_credentials(now, lite.local_credentials().clone())
            .unwrap();
        let remote = |c: &Candidate| {
            Candidate::remote(c.kind(), c.address(), c.priority(), c.foundation(), None).unwrap()
        };
        full.add_remote_candidate(now, remote(&server_candidate)).unwrap();
        full.end_of_remote_candidates(now);
        // The client's private host candidate is useless to the server; it
        // learns the client's address as peer-reflexive from the checks.
        lite.add_remote_candidate(now, remote(&client_candidate)).unwrap();

        server
            .demux
            .insert(&lite.local_credentials().ufrag.clone(), i)
            .unwrap();
        server.agents.push(lite);
        client_ufrags.push(full.local_credentials().ufrag.clone());
        clients.push(
            sim.add_endpoint(
                host,
                Client {
                    agent: full,
                    sent_app: false,
                    out: VecDeque::new(),
                },
            )
            .unwrap(),
        );
    }
    let server_id = sim.add_endpoint(server_host, server).unwrap();

    let connected = sim
        .run_until_true(Duration::from_secs(10), |s| {
            let srv = s.endpoint::<Server>(server_id).unwrap();
            srv.app.iter().all(|a| !a.is_empty())
        })
        .unwrap();
    let srv = sim.endpoint::<Server>(server_id).unwrap();
    assert!(
        connected,
        "not every client's data arrived: {:?}",
        srv.app.iter().filter(|a| a.is_empty()).count()
    );
    for (i, agent) in srv.agents.iter().enumerate() {
        assert_eq!(agent.state(), IceConnectionState::Connected, "agent {i}");
        // Each agent got exactly its own client's data.
        assert_eq!(
            srv.app[i],
            [format!("app data from {}", client_ufrags[i]).into_bytes()]
        );
        let (_, remote) = agent.selected_pair().unwrap();
        let kind = agent
            .remote_candidates()
            .iter()
            .find(|c| c.address() == remote)
            .unwrap()
            .kind();
        assert_eq!(kind, CandidateKind::PeerReflexive, "agent {i}");
        assert_eq!(agent.stats().checks_sent, 0, "lite agents send no checks");
    }
    assert_eq!(srv.unrouted, 0);
    assert_eq!(srv.demux.tuples(), CLIENTS);
    for c in clients {
        let state = sim.endpoint::<Client>(c).unwrap().agent.state();
        assert!(
            matches!(
                state,
                IceConnectionState::Connected | IceConnectionState::Completed
            ),
            "{state:?}"
        );
    }
}
