//! Many peer connections on one socket: an ICE-lite server (an SFU, a
//! data-channel gateway) that answers browsers' offers.
//!
//! Every connection is an ordinary [`Rtc`] with a lite agent. Datagrams are
//! routed by [`rtcwire_ice::Demux`]: STUN requests by the ufrag in
//! USERNAME, everything else by the 5-tuple each connection's ICE
//! validated. A datagram that matches nothing is dropped without creating
//! state, so strangers cannot make the server grow.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtcwire_dtls::DtlsCertificate;
use rtcwire_ice::Demux;

use crate::RtcError;
use crate::event::{Event, Input, Output, Receive, Transmit};
use crate::jsep::SessionDescription;
use crate::rtc::{Rtc, RtcConfig};

/// A connection of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(u64);

impl std::fmt::Display for PeerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "peer#{}", self.0)
    }
}

/// Settings of a [`Server`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Settings of every connection; `ice.lite` is forced on, `ice_servers`
    /// must be empty, and the certificate, if `None`, is generated once and
    /// shared.
    pub rtc: RtcConfig,
    /// The socket's address, as peers reach it: the one host candidate.
    pub address: SocketAddr,
    /// Most connections at once. Default 10,000.
    pub max_peers: usize,
}

impl ServerConfig {
    /// Defaults for a socket at `address`.
    pub fn new(address: SocketAddr) -> ServerConfig {
        ServerConfig {
            rtc: RtcConfig::default(),
            address,
            max_peers: 10_000,
        }
    }
}

/// What [`Server::poll_output`] hands out.
#[derive(Debug)]
pub enum ServerOutput {
    /// Send this datagram from the server's socket.
    Transmit(Transmit),
    /// An event of one connection.
    Event(PeerId, Event),
    /// Nothing to do before this instant unless a datagram arrives.
    Timeout(Instant),
}

/// Many ICE-lite peer connections behind one socket.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    now: Instant,
    demux: Demux<PeerId>,
    peers: HashMap<PeerId, Rtc>,
    next: u64,
    /// Connections with output to drain, in order, without repeats.
    dirty: VecDeque<PeerId>,
    in_dirty: HashSet<PeerId>,
    /// Each connection's next timeout, and a heap of them (stale entries
    /// are skipped: the map has the truth).
    deadlines: HashMap<PeerId, Instant>,
    timers: BinaryHeap<Reverse<(Instant, PeerId)>>,
    unrouted: u64,
}

impl Server {
    /// A server; generates the shared certificate if the config has none.
    pub fn new(mut config: ServerConfig, now: Instant) -> Result<Server, RtcError> {
        if !config.rtc.ice_servers.is_empty() {
            // ICE-lite gathers nothing: its one candidate is the socket.
            return Err(RtcError::Config(
                "an ICE-lite server uses no STUN or TURN servers",
            ));
        }
        config.rtc.ice.lite = true;
        if config.rtc.certificate.is_none() {
            config.rtc.certificate = Some(Arc::new(DtlsCertificate::generate()?));
        }
        let max = config.max_peers;
        Ok(Server {
            config,
            now,
            demux: Demux::new(max, max.saturating_mul(2)),
            peers: HashMap::new(),
            next: 0,
            dirty: VecDeque::new(),
            in_dirty: HashSet::new(),
            deadlines: HashMap::new(),
            timers: BinaryHeap::new(),
            unrouted: 0,
        })
    }

    /// Takes a peer's offer: a new connection and its answer, which holds
    /// the server's candidate (complete, no trickle needed).
    pub fn accept(&mut self, offer: &SessionDescription) -> Result<(PeerId, SessionDescription), RtcError> {
        if self.peers.len() >= self.config.max_peers {
            return Err(RtcError::InvalidState("the server has max_peers connections"));
        }
        let mut config = self.config.rtc.clone();
        config.seed = config.seed.map(|s| s.wrapping_add(self.next));
        config.ice.seed = config.ice.seed.map(|s| s.wrapping_add(self.next));
        let mut rtc = Rtc::new(config, self.now)?;
        rtc.add_local_candidate(self.config.address)?;
        rtc.set_remote_description(offer)?;
        let answer = rtc.create_answer()?;
        rtc.set_local_description(&answer)?;
        let id = PeerId(self.next);
        self.next += 1;
        self.demux
            .insert(&rtc.local_credentials().ufrag, id)
            .map_err(|_| RtcError::InvalidState("ufrag clash or demultiplexer full"))?;
        self.peers.insert(id, rtc);
        self.mark(id);
        Ok((id, answer))
    }

    /// A connection, to send on its channels or read its state.
    pub fn rtc_mut(&mut self, id: PeerId) -> Option<&mut Rtc> {
        let rtc = self.peers.get_mut(&id)?;
        if self.in_dirty.insert(id) {
            self.dirty.push_back(id);
        }
        Some(rtc)
    }

    /// A connection, read-only.
    pub fn rtc(&self, id: PeerId) -> Option<&Rtc> {
        self.peers.get(&id)
    }

    /// Connections now.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Datagrams that matched no connection.
    pub fn unrouted(&self) -> u64 {
        self.unrouted
    }

    /// Forgets a connection (after it closed or failed).
    pub fn remove(&mut self, id: PeerId) -> Option<Rtc> {
        let rtc = self.peers.remove(&id)?;
        self.demux.remove(id);
        self.deadlines.remove(&id);
        Some(rtc)
    }

    fn mark(&mut self, id: PeerId) {
        if self.in_dirty.insert(id) {
            self.dirty.push_back(id);
        }
    }

    /// A datagram on the server's socket. Returns the connection it went
    /// to, or `None` (dropped and counted) if it matches none.
    pub fn handle_receive(&mut self, now: Instant, receive: Receive<'_>) -> Option<PeerId> {
        self.now = self.now.max(now);
        let Some(id) = self
            .demux
            .route(receive.destination, receive.source, receive.contents)
        else {
            self.unrouted += 1;
            return None;
        };
        let rtc = self.peers.get_mut(&id)?;
        let _ = rtc.handle_input(Input::Receive(now, receive));
        self.mark(id);
        Some(id)
    }

    /// [`Server::handle_receive`] for a datagram in the caller's receive
    /// buffer, lent mutably: data-channel traffic is decrypted where it lies
    /// (see [`Rtc::handle_receive_in_place`]). Afterwards `contents` holds
    /// unspecified bytes.
    pub fn handle_receive_in_place(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        contents: &mut [u8],
    ) -> Option<PeerId> {
        self.now = self.now.max(now);
        let Some(id) = self.demux.route(destination, source, contents) else {
            self.unrouted += 1;
            return None;
        };
        let rtc = self.peers.get_mut(&id)?;
        let _ = rtc.handle_receive_in_place(now, source, destination, contents);
        self.mark(id);
        Some(id)
    }

    /// Runs the timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if self.deadlines.get(&id) != Some(&at) {
                continue;
            }
            self.deadlines.remove(&id);
            if let Some(rtc) = self.peers.get_mut(&id) {
                let _ = rtc.handle_input(Input::Timeout(now));
                self.mark(id);
            }
        }
    }

    /// The next datagram or event of any connection, or when to call
    /// [`handle_timeout`](Server::handle_timeout).
    pub fn poll_output(&mut self) -> ServerOutput {
        while let Some(&id) = self.dirty.front() {
            let Some(rtc) = self.peers.get_mut(&id) else {
                self.dirty.pop_front();
                self.in_dirty.remove(&id);
                continue;
            };
            match rtc.poll_output() {
                Ok(Output::Transmit(t)) => return ServerOutput::Transmit(t),
                // `Server::new` refuses ICE servers, so no connection asks
                // for TCP.
                Ok(Output::Connect(_) | Output::StreamTransmit(_) | Output::Disconnect(_)) => {}
                Ok(Output::Event(e)) => {
                    if let Event::SelectedPairChange { local, remote } = e {
                        // Later datagrams of this pair (DTLS, SRTP) route by
                        // their 5-tuple; a full table leaves them to STUN
                        // only, and they are counted as unrouted.
                        let _ = self.demux.bind(local, remote, id);
                    }
                    return ServerOutput::Event(id, e);
                }
                Ok(Output::Timeout(at)) => {
                    self.dirty.pop_front();
                    self.in_dirty.remove(&id);
                    if self.deadlines.get(&id) != Some(&at) {
                        self.deadlines.insert(id, at);
                        self.timers.push(Reverse((at, id)));
                    }
                }
                Err(_) => {
                    self.dirty.pop_front();
                    self.in_dirty.remove(&id);
                }
            }
        }
        // Drop heap entries that no longer match, so the heap stays near
        // one entry per connection.
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            if self.deadlines.get(&id) == Some(&at) {
                return ServerOutput::Timeout(at);
            }
            self.timers.pop();
        }
        ServerOutput::Timeout(self.now + Duration::from_secs(1))
    }
}
