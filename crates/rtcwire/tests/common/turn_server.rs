//! A minimal sans-IO TURN server (RFC 8656; clients over UDP or TCP, the
//! relay UDP) as a simulator endpoint, for tests.
//!
//! It listens on its host's port 3478 (UDP and TCP, framed per RFC 8656
//! section 12.5) and on the relayed ports it hands out (add it with `Sim::add_endpoint`, which gives it every port of the
//! host). It does the long-term credential mechanism (401 with REALM and
//! NONCE, then MESSAGE-INTEGRITY with MD5(user:realm:pass) on requests and
//! on its answers), Allocate, Refresh, CreatePermission, ChannelBind, Send
//! indications and ChannelData from clients, and relays peers' datagrams
//! back as Data indications or ChannelData. Anything malformed, or not
//! allowed, is dropped and counted. Expiry is checked when a datagram
//! arrives; the server needs no timer.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcwire_netsim::{Datagram, Endpoint, StreamCommand, StreamEvent};
use rtcwire_stun::{
    Attribute, AttributeType, ChannelData, Class, ErrorCode, IntegrityKey, MAX_CHANNEL, MIN_CHANNEL, Message,
    MessageBuilder, MessageType, Method, TransactionId,
};

pub const TURN_PORT: u16 = 3478;
pub const TURN_USER: &str = "netsim";
pub const TURN_PASSWORD: &str = "relay-secret";
pub const TURN_REALM: &str = "netsim.test";
pub const TURN_NONCE: &str = "0123456789abcdef";
const FIRST_RELAYED_PORT: u16 = 49_152;
const DEFAULT_LIFETIME: u32 = 600;
const MAX_LIFETIME: u32 = 3600;
const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);

/// What the server did, for assertions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TurnCounters {
    pub allocations: u64,
    /// Datagrams sent from a relayed port to a peer.
    pub to_peers: u64,
    /// Peers' datagrams relayed to a client (Data indication or ChannelData).
    pub to_clients: u64,
    /// Of those, as ChannelData.
    pub channel_data: u64,
    pub challenges: u64,
    /// Malformed, unauthenticated or unpermitted input.
    pub dropped: u64,
}

struct Allocation {
    /// The client's address as the server sees it (its NAT mapping).
    client: SocketAddr,
    /// The client came over TCP: the allocation lives as long as the
    /// connection.
    tcp: bool,
    relayed: SocketAddr,
    /// The Allocate transaction, to answer its retransmissions alike.
    transaction: TransactionId,
    lifetime: u32,
    expires: Instant,
    permissions: HashMap<IpAddr, Instant>,
    /// Channel number -> (peer, expiry).
    channels: HashMap<u16, (SocketAddr, Instant)>,
}

impl Allocation {
    fn permitted(&self, now: Instant, ip: IpAddr) -> bool {
        self.permissions.get(&ip).is_some_and(|&until| until > now)
    }

    fn channel_of(&self, now: Instant, peer: SocketAddr) -> Option<u16> {
        self.channels
            .iter()
            .find(|(_, (p, until))| *p == peer && *until > now)
            .map(|(&n, _)| n)
    }
}

pub struct TurnServer {
    /// The server's address (port 3478); relayed ports are on its IP.
    address: SocketAddr,
    key: IntegrityKey,
    next_port: u16,
    allocations: Vec<Allocation>,
    out: VecDeque<Datagram>,
    /// Whether the message being handled came over TCP.
    input_tcp: bool,
    /// TCP clients and the bytes of their next frame.
    connections: BTreeMap<SocketAddr, Vec<u8>>,
    stream_out: VecDeque<StreamCommand>,
    pub counters: TurnCounters,
}

impl TurnServer {
    pub fn new(ip: IpAddr) -> TurnServer {
        TurnServer {
            address: SocketAddr::new(ip, TURN_PORT),
            key: IntegrityKey::long_term(TURN_USER, TURN_REALM, TURN_PASSWORD),
            next_port: FIRST_RELAYED_PORT,
            allocations: Vec::new(),
            out: VecDeque::new(),
            input_tcp: false,
            connections: BTreeMap::new(),
            stream_out: VecDeque::new(),
            counters: TurnCounters::default(),
        }
    }

    /// Relayed addresses currently allocated.
    pub fn relayed_addresses(&self) -> Vec<SocketAddr> {
        self.allocations.iter().map(|a| a.relayed).collect()
    }

    /// Relayed addresses allocated to clients that came over TCP.
    pub fn tcp_relayed_addresses(&self) -> Vec<SocketAddr> {
        self.allocations
            .iter()
            .filter(|a| a.tcp)
            .map(|a| a.relayed)
            .collect()
    }

    fn send(&mut self, source: SocketAddr, destination: SocketAddr, payload: Vec<u8>) {
        self.out.push_back(Datagram {
            source,
            destination,
            payload,
        });
    }

    /// To a client, over its transport.
    fn send_client(&mut self, client: SocketAddr, tcp: bool, payload: Vec<u8>) {
        if tcp {
            self.stream_out.push_back(StreamCommand::Send {
                local: self.address,
                remote: client,
                bytes: payload,
            });
        } else {
            self.send(self.address, client, payload);
        }
    }

    /// Bytes from a TCP client: whole frames are handled as datagrams.
    fn handle_client_stream(&mut self, now: Instant, client: SocketAddr, bytes: &[u8]) {
        let Some(buffer) = self.connections.get_mut(&client) else {
            self.counters.dropped += 1;
            return;
        };
        buffer.extend_from_slice(bytes);
        let mut buffer = std::mem::take(buffer);
        let mut at = 0;
        loop {
            let rest = &buffer[at..];
            let len = match rest.first() {
                Some(0..=3) => rtcwire_stun::stream_message_len(rest),
                Some(0x40..=0x4f) => ChannelData::stream_frame_len(rest),
                Some(_) => {
                    // Out of sync: a real server closes the connection.
                    self.counters.dropped += 1;
                    self.close_client(client);
                    return;
                }
                None => None,
            };
            match len {
                Some(len) if rest.len() >= len => {
                    self.input_tcp = true;
                    self.handle_client(now, client, &buffer[at..at + len]);
                    self.input_tcp = false;
                    at += len;
                }
                _ => break,
            }
        }
        buffer.drain(..at);
        if let Some(b) = self.connections.get_mut(&client) {
            *b = buffer;
        }
    }

    /// Ends a TCP client's connection and its allocation.
    fn close_client(&mut self, client: SocketAddr) {
        if self.connections.remove(&client).is_some() {
            self.stream_out.push_back(StreamCommand::Close {
                local: self.address,
                remote: client,
            });
        }
        self.allocations.retain(|a| !(a.tcp && a.client == client));
    }

    fn handle_client(&mut self, now: Instant, client: SocketAddr, packet: &[u8]) {
        let tcp = self.input_tcp;
        if rtcwire_stun::is_channel_data(packet) {
            let Ok(cd) = ChannelData::parse(packet) else {
                self.counters.dropped += 1;
                return;
            };
            let peer = self
                .allocations
                .iter()
                .find(|a| a.client == client && a.tcp == tcp)
                .and_then(|a| {
                    let (peer, until) = *a.channels.get(&cd.channel())?;
                    (until > now).then_some((a.relayed, peer))
                });
            match peer {
                Some((relayed, peer)) => {
                    self.counters.to_peers += 1;
                    self.send(relayed, peer, cd.data().to_vec());
                }
                None => self.counters.dropped += 1,
            }
            return;
        }
        let Ok(msg) = Message::parse(packet) else {
            self.counters.dropped += 1;
            return;
        };
        match (msg.class(), msg.method()) {
            (Class::Indication, Method::SEND) => self.send_indication(now, client, &msg),
            (Class::Request, Method::BINDING) => {
                // Every TURN server is a STUN server too.
                let reply = build(msg.method(), Class::Success, msg.transaction_id(), None, |b| {
                    b.add(&Attribute::XorMappedAddress(client))
                });
                self.reply(client, reply);
            }
            (Class::Request, _) => self.request(now, client, &msg),
            _ => self.counters.dropped += 1,
        }
    }

    fn send_indication(&mut self, now: Instant, client: SocketAddr, msg: &Message<'_>) {
        let (Some(Ok(Attribute::XorPeerAddress(peer))), Some(Ok(Attribute::Data(data)))) = (
            msg.get(AttributeType::XOR_PEER_ADDRESS),
            msg.get(AttributeType::DATA),
        ) else {
            self.counters.dropped += 1;
            return;
        };
        let tcp = self.input_tcp;
        let relayed = self
            .allocations
            .iter()
            .find(|a| a.client == client && a.tcp == tcp && a.permitted(now, peer.ip()))
            .map(|a| a.relayed);
        match relayed {
            Some(relayed) => {
                self.counters.to_peers += 1;
                self.send(relayed, peer, data.to_vec());
            }
            None => self.counters.dropped += 1,
        }
    }

    /// Authenticates a request, then answers it.
    fn request(&mut self, now: Instant, client: SocketAddr, msg: &Message<'_>) {
        let (method, tid) = (msg.method(), msg.transaction_id());
        let challenge = |code: ErrorCode<'static>| {
            build(method, Class::Error, tid, None, |b| {
                b.add(&Attribute::ErrorCode(code))?;
                b.add(&Attribute::Realm(TURN_REALM))?;
                b.add(&Attribute::Nonce(TURN_NONCE))
            })
        };
        if !msg.has_integrity() {
            self.counters.challenges += 1;
            return self.reply(client, challenge(ErrorCode::UNAUTHENTICATED));
        }
        let user_ok = msg.get(AttributeType::USERNAME) == Some(Ok(Attribute::Username(TURN_USER)))
            && msg.get(AttributeType::REALM) == Some(Ok(Attribute::Realm(TURN_REALM)));
        if !user_ok || msg.verify_integrity(&self.key).is_err() {
            self.counters.dropped += 1;
            return self.reply(client, challenge(ErrorCode::UNAUTHENTICATED));
        }
        if msg.get(AttributeType::NONCE) != Some(Ok(Attribute::Nonce(TURN_NONCE))) {
            return self.reply(client, challenge(ErrorCode::STALE_NONCE));
        }
        let answer = match method {
            Method::ALLOCATE => self.allocate(now, client, msg),
            Method::REFRESH => self.refresh(now, client, msg),
            Method::CREATE_PERMISSION => self.create_permission(now, client, msg),
            Method::CHANNEL_BIND => self.channel_bind(now, client, msg),
            _ => Err(ErrorCode::BAD_REQUEST),
        };
        let key = self.key.clone();
        let reply = match answer {
            Ok(attributes) => build(method, Class::Success, tid, Some(&key), |b| {
                attributes.iter().try_for_each(|a| b.add(a))
            }),
            Err(code) => build(method, Class::Error, tid, Some(&key), |b| {
                b.add(&Attribute::ErrorCode(code))
            }),
        };
        self.reply(client, reply);
    }

    fn reply(&mut self, client: SocketAddr, reply: Option<Vec<u8>>) {
        match reply {
            Some(r) => self.send_client(client, self.input_tcp, r),
            None => self.counters.dropped += 1,
        }
    }

    fn allocation(&mut self, client: SocketAddr) -> Result<&mut Allocation, ErrorCode<'static>> {
        let tcp = self.input_tcp;
        self.allocations
            .iter_mut()
            .find(|a| a.client == client && a.tcp == tcp)
            .ok_or(ErrorCode::ALLOCATION_MISMATCH)
    }

    fn allocate(
        &mut self,
        now: Instant,
        client: SocketAddr,
        msg: &Message<'_>,
    ) -> Result<Vec<Attribute<'static>>, ErrorCode<'static>> {
        let tcp = self.input_tcp;
        if let Some(a) = self
            .allocations
            .iter()
            .find(|a| a.client == client && a.tcp == tcp)
        {
            // A retransmission gets the same answer; anything else is a
            // second allocation on one 5-tuple.
            if a.transaction != msg.transaction_id() {
                return Err(ErrorCode::ALLOCATION_MISMATCH);
            }
            return Ok(vec![
                Attribute::XorRelayedAddress(a.relayed),
                Attribute::XorMappedAddress(client),
                Attribute::Lifetime(a.lifetime),
            ]);
        }
        match msg.get(AttributeType::REQUESTED_TRANSPORT) {
            Some(Ok(Attribute::RequestedTransport(17))) => {}
            Some(Ok(Attribute::RequestedTransport(_))) => {
                return Err(ErrorCode::UNSUPPORTED_TRANSPORT_PROTOCOL);
            }
            _ => return Err(ErrorCode::BAD_REQUEST),
        }
        if self.next_port == u16::MAX {
            return Err(ErrorCode::INSUFFICIENT_CAPACITY);
        }
        let relayed = SocketAddr::new(self.address.ip(), self.next_port);
        self.next_port += 1;
        let lifetime = requested_lifetime(msg).min(MAX_LIFETIME);
        self.allocations.push(Allocation {
            client,
            tcp,
            relayed,
            transaction: msg.transaction_id(),
            lifetime,
            expires: now + Duration::from_secs(lifetime.into()),
            permissions: HashMap::new(),
            channels: HashMap::new(),
        });
        self.counters.allocations += 1;
        Ok(vec![
            Attribute::XorRelayedAddress(relayed),
            Attribute::XorMappedAddress(client),
            Attribute::Lifetime(lifetime),
        ])
    }

    fn refresh(
        &mut self,
        now: Instant,
        client: SocketAddr,
        msg: &Message<'_>,
    ) -> Result<Vec<Attribute<'static>>, ErrorCode<'static>> {
        let lifetime = requested_lifetime(msg).min(MAX_LIFETIME);
        if lifetime == 0 {
            self.allocation(client)?;
            let tcp = self.input_tcp;
            self.allocations.retain(|a| a.client != client || a.tcp != tcp);
        } else {
            let a = self.allocation(client)?;
            a.lifetime = lifetime;
            a.expires = now + Duration::from_secs(lifetime.into());
        }
        Ok(vec![Attribute::Lifetime(lifetime)])
    }

    fn create_permission(
        &mut self,
        now: Instant,
        client: SocketAddr,
        msg: &Message<'_>,
    ) -> Result<Vec<Attribute<'static>>, ErrorCode<'static>> {
        let mut peers = Vec::new();
        for attribute in msg.attributes() {
            match attribute {
                Ok(Attribute::XorPeerAddress(peer)) => peers.push(peer.ip()),
                Ok(_) => {}
                Err(_) => return Err(ErrorCode::BAD_REQUEST),
            }
        }
        let a = self.allocation(client)?;
        if peers.is_empty() {
            return Err(ErrorCode::BAD_REQUEST);
        }
        if peers.iter().any(|ip| ip.is_ipv4() != a.relayed.is_ipv4()) {
            return Err(ErrorCode::PEER_ADDRESS_FAMILY_MISMATCH);
        }
        for ip in peers {
            a.permissions.insert(ip, now + PERMISSION_LIFETIME);
        }
        Ok(Vec::new())
    }

    fn channel_bind(
        &mut self,
        now: Instant,
        client: SocketAddr,
        msg: &Message<'_>,
    ) -> Result<Vec<Attribute<'static>>, ErrorCode<'static>> {
        let (Some(Ok(Attribute::ChannelNumber(number))), Some(Ok(Attribute::XorPeerAddress(peer)))) = (
            msg.get(AttributeType::CHANNEL_NUMBER),
            msg.get(AttributeType::XOR_PEER_ADDRESS),
        ) else {
            return Err(ErrorCode::BAD_REQUEST);
        };
        let a = self.allocation(client)?;
        if !(MIN_CHANNEL..=MAX_CHANNEL).contains(&number) {
            return Err(ErrorCode::BAD_REQUEST);
        }
        if peer.is_ipv4() != a.relayed.is_ipv4() {
            return Err(ErrorCode::PEER_ADDRESS_FAMILY_MISMATCH);
        }
        // A number stays with its peer, and a peer with its number
        // (RFC 8656 section 11.2), while bound.
        let taken = a
            .channels
            .get(&number)
            .is_some_and(|&(p, until)| p != peer && until > now);
        let other = a.channel_of(now, peer).is_some_and(|n| n != number);
        if taken || other {
            return Err(ErrorCode::BAD_REQUEST);
        }
        a.channels.insert(number, (peer, now + CHANNEL_LIFETIME));
        a.permissions.insert(peer.ip(), now + PERMISSION_LIFETIME);
        Ok(Vec::new())
    }

    /// A peer's datagram to one of our relayed ports.
    fn handle_peer(&mut self, now: Instant, peer: SocketAddr, relayed: SocketAddr, payload: &[u8]) {
        let Some(a) = self
            .allocations
            .iter()
            .find(|a| a.relayed == relayed && a.permitted(now, peer.ip()))
        else {
            self.counters.dropped += 1;
            return;
        };
        let (client, tcp) = (a.client, a.tcp);
        let framed = match a.channel_of(now, peer) {
            // Padded to 4 bytes over TCP.
            Some(number) => ChannelData::new(number, payload).ok().and_then(|cd| {
                let mut out = vec![0u8; cd.encoded_len(tcp)];
                cd.encode(&mut out, tcp).ok()?;
                self.counters.channel_data += 1;
                Some(out)
            }),
            None => build(
                Method::DATA,
                Class::Indication,
                indication_tid(&self.counters),
                None,
                |b| {
                    b.add(&Attribute::XorPeerAddress(peer))?;
                    b.add(&Attribute::Data(payload))
                },
            ),
        };
        match framed {
            Some(f) => {
                self.counters.to_clients += 1;
                self.send_client(client, tcp, f);
            }
            None => self.counters.dropped += 1,
        }
    }
}

/// LIFETIME from a request, the default when absent.
fn requested_lifetime(msg: &Message<'_>) -> u32 {
    match msg.get(AttributeType::LIFETIME) {
        Some(Ok(Attribute::Lifetime(seconds))) => seconds,
        _ => DEFAULT_LIFETIME,
    }
}

/// Data indications need a transaction id; a counter makes a unique one
/// without randomness.
fn indication_tid(counters: &TurnCounters) -> TransactionId {
    let n = counters.to_clients + counters.channel_data + 1;
    let mut id = [0u8; 12];
    id[4..].copy_from_slice(&n.to_be_bytes());
    TransactionId::new(id)
}

/// A message of `method` and `class` with what `fill` adds, signed with
/// `key` when given, and a FINGERPRINT. `None` if it does not fit.
fn build(
    method: Method,
    class: Class,
    tid: TransactionId,
    key: Option<&IntegrityKey>,
    fill: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), rtcwire_stun::Error>,
) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 2048];
    let mut b = MessageBuilder::new(&mut buf, MessageType::new(method, class), tid).ok()?;
    fill(&mut b).ok()?;
    if let Some(key) = key {
        b.add_message_integrity(key).ok()?;
    }
    b.add_fingerprint().ok()?;
    let n = b.len();
    buf.truncate(n);
    Some(buf)
}

impl Endpoint for TurnServer {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        self.allocations.retain(|a| a.expires > now);
        if d.destination == self.address {
            self.handle_client(now, d.source, &d.payload);
        } else if d.destination.ip() == self.address.ip() {
            self.handle_peer(now, d.source, d.destination, &d.payload);
        } else {
            self.counters.dropped += 1;
        }
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn handle_stream(&mut self, now: Instant, event: StreamEvent) {
        self.allocations.retain(|a| a.expires > now);
        match event {
            StreamEvent::Opened { local, remote } if local == self.address => {
                self.connections.insert(remote, Vec::new());
            }
            StreamEvent::Opened { local, remote } => {
                // Nobody listens on TCP on the relayed ports.
                self.stream_out.push_back(StreamCommand::Close { local, remote });
            }
            StreamEvent::Data { remote, bytes, .. } => self.handle_client_stream(now, remote, &bytes),
            StreamEvent::Closed { remote, .. } => {
                self.connections.remove(&remote);
                self.allocations.retain(|a| !(a.tcp && a.client == remote));
            }
        }
    }
    fn poll_stream(&mut self, _now: Instant) -> Option<StreamCommand> {
        self.stream_out.pop_front()
    }
}
