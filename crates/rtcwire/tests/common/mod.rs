//! Two (or more) `Rtc`s on the simulated network, with signalling done by
//! the test between simulation steps.
// Test code: unwraps stand for assertions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

pub mod turn_server;

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rtcwire::{
    ChannelId, DtlsCertificate, Event, IceConnectionState, Input, Output, PeerConnectionState, Receive, Rtc,
    RtcConfig,
};
use rtcwire_netsim::{Datagram, Endpoint, EndpointId, Responder, Sim, StreamCommand, StreamEvent};
use rtcwire_stun::BindingResponder;

/// Certificates are made once per test binary: key generation is the
/// slowest part of a simulated connection.
pub fn certificate(i: usize) -> Arc<DtlsCertificate> {
    static CERTS: OnceLock<Vec<Arc<DtlsCertificate>>> = OnceLock::new();
    CERTS.get_or_init(|| {
        (0..4)
            .map(|_| Arc::new(DtlsCertificate::generate().unwrap()))
            .collect()
    })[i % 4]
        .clone()
}

pub fn config(seed: u64, cert: usize) -> RtcConfig {
    RtcConfig {
        certificate: Some(certificate(cert)),
        seed: Some(seed),
        ..RtcConfig::default()
    }
}

/// An `Rtc` as a simulator endpoint; it keeps every event with its time.
pub struct Peer {
    pub rtc: Rtc,
    pub events: Vec<(Instant, Event)>,
    /// Events not yet looked at by the test's signalling.
    pub unread: VecDeque<Event>,
    /// What the peer connection asked of its TCP connections (TURN over
    /// TCP), for the simulator's streams.
    streams: VecDeque<Output>,
    /// Open TCP connections: remote -> our address.
    tcp: BTreeMap<SocketAddr, SocketAddr>,
    tcp_connects: u16,
    timeout: Option<Instant>,
}

impl Peer {
    pub fn new(rtc: Rtc) -> Peer {
        Peer {
            rtc,
            events: Vec::new(),
            unread: VecDeque::new(),
            streams: VecDeque::new(),
            tcp: BTreeMap::new(),
            tcp_connects: 0,
            timeout: None,
        }
    }

    pub fn connected(&self) -> bool {
        self.rtc.peer_connection_state() == PeerConnectionState::Connected
    }

    /// When the connection state first became `state`.
    pub fn reached(&self, state: PeerConnectionState) -> Option<Instant> {
        self.events
            .iter()
            .find_map(|(t, e)| (*e == Event::PeerConnectionStateChange(state)).then_some(*t))
    }

    pub fn ice_reached(&self, state: IceConnectionState) -> bool {
        self.events
            .iter()
            .any(|(_, e)| *e == Event::IceConnectionStateChange(state))
    }

    /// Channels that opened, with their labels.
    pub fn opened(&self) -> Vec<(ChannelId, String)> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::ChannelOpen { id, label, .. } => Some((*id, label.clone())),
                _ => None,
            })
            .collect()
    }

    /// Messages received on `id`.
    pub fn messages(&self, id: ChannelId) -> Vec<(Vec<u8>, bool)> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::ChannelData(d) if d.id == id => Some((d.data.clone(), d.binary)),
                _ => None,
            })
            .collect()
    }

    pub fn has(&self, want: &Event) -> bool {
        self.events.iter().any(|(_, e)| e == want)
    }

    fn drain(&mut self, now: Instant) -> Option<Datagram> {
        loop {
            match self.rtc.poll_output().unwrap() {
                Output::Transmit(t) => {
                    return Some(Datagram {
                        source: t.source,
                        destination: t.destination,
                        payload: t.contents,
                    });
                }
                Output::Event(e) => {
                    self.events.push((now, e.clone()));
                    self.unread.push_back(e);
                }
                o @ (Output::Connect(_) | Output::StreamTransmit(_) | Output::Disconnect(_)) => {
                    self.streams.push_back(o);
                }
                Output::Timeout(at) => {
                    self.timeout = Some(at);
                    return None;
                }
            }
        }
    }
}

impl Endpoint for Peer {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        let input = Input::Receive(
            now,
            Receive {
                source: d.source,
                destination: d.destination,
                contents: &d.payload,
            },
        );
        self.rtc.handle_input(input).unwrap();
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.rtc.handle_input(Input::Timeout(now)).unwrap();
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        self.drain(now)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.timeout
    }
    fn handle_stream(&mut self, now: Instant, event: StreamEvent) {
        let input = match &event {
            StreamEvent::Opened { local, remote } => {
                self.tcp.insert(*remote, *local);
                Input::Connected(now, *remote)
            }
            StreamEvent::Data { remote, bytes, .. } => Input::StreamReceive(now, *remote, bytes),
            StreamEvent::Closed { remote, .. } => {
                self.tcp.remove(remote);
                Input::Disconnected(now, *remote)
            }
        };
        self.rtc.handle_input(input).unwrap();
    }
    fn poll_stream(&mut self, _now: Instant) -> Option<StreamCommand> {
        loop {
            match self.streams.pop_front()? {
                Output::Connect(remote) => {
                    // The simulator puts in the host's address.
                    self.tcp_connects += 1;
                    let ip: IpAddr = if remote.is_ipv4() {
                        Ipv4Addr::UNSPECIFIED.into()
                    } else {
                        Ipv6Addr::UNSPECIFIED.into()
                    };
                    let local = SocketAddr::new(ip, 40_000 + self.tcp_connects);
                    return Some(StreamCommand::Connect { local, remote });
                }
                // The peer connection writes only once told it is open.
                Output::StreamTransmit(t) => {
                    let local = *self
                        .tcp
                        .get(&t.destination)
                        .expect("bytes for a connection not open");
                    return Some(StreamCommand::Send {
                        local,
                        remote: t.destination,
                        bytes: t.contents,
                    });
                }
                Output::Disconnect(remote) => {
                    if let Some(local) = self.tcp.remove(&remote) {
                        return Some(StreamCommand::Close { local, remote });
                    }
                }
                _ => {}
            }
        }
    }
}

/// A stateless STUN server (RFC 8489 Binding).
pub fn stun_server() -> Responder<impl FnMut(&[u8], SocketAddr) -> Option<Vec<u8>>> {
    let responder = BindingResponder::new();
    Responder::new(move |payload, source| responder.respond_to_vec(payload, source))
}

pub fn peer(sim: &mut Sim, id: EndpointId) -> &mut Peer {
    sim.endpoint_mut::<Peer>(id).unwrap()
}

/// Moves trickled candidates from each peer's events to the other.
pub fn trickle(sim: &mut Sim, a: EndpointId, b: EndpointId) {
    for (from, to) in [(a, b), (b, a)] {
        let candidates: Vec<String> = std::mem::take(&mut peer(sim, from).unread)
            .into_iter()
            .filter_map(|e| match e {
                Event::IceCandidate(c) => Some(c.candidate),
                _ => None,
            })
            .collect();
        for c in candidates {
            peer(sim, to).rtc.add_remote_candidate(&c).unwrap();
        }
    }
}

/// An offer from `a`, answered by `b` (complete descriptions, with
/// whatever candidates each has gathered so far).
pub fn negotiate(sim: &mut Sim, a: EndpointId, b: EndpointId) {
    let offer = peer(sim, a).rtc.create_offer().unwrap();
    peer(sim, a).rtc.set_local_description(&offer).unwrap();
    peer(sim, b).rtc.set_remote_description(&offer).unwrap();
    let answer = peer(sim, b).rtc.create_answer().unwrap();
    peer(sim, b).rtc.set_local_description(&answer).unwrap();
    peer(sim, a).rtc.set_remote_description(&answer).unwrap();
}

/// Runs in 10 ms slices, trickling candidates between slices, until `done`
/// or `limit` of virtual time.
pub fn run_until(
    sim: &mut Sim,
    a: EndpointId,
    b: EndpointId,
    limit: Duration,
    mut done: impl FnMut(&mut Sim) -> bool,
) -> bool {
    let end = sim.now() + limit;
    while sim.now() < end {
        trickle(sim, a, b);
        if done(sim) {
            return true;
        }
        sim.run_for(Duration::from_millis(10)).unwrap();
    }
    done(sim)
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}
