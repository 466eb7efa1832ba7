//! A relay-only peer connection (`IceTransportPolicy::Relay`, one TURN
//! server over UDP or TCP) fed hostile input from that TURN server: raw
//! datagrams and stream bytes, signed and unsigned answers to its requests,
//! Data indications and ChannelData from peers, connection events, and
//! application calls. The harness plays the TURN server.
//!
//! Input: one options byte, then operations until the input ends.
//! - bit 0: TURN over TCP (`?transport=tcp`: `Output::Connect`,
//!   `StreamTransmit`, `Input::Connected`...), else over UDP from the host
//!   socket 10.0.0.1:5000;
//! - bit 1: a genuine allocation first: the harness answers requests as a
//!   TURN server would (401 with REALM and NONCE to the first Allocate,
//!   success with XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS and LIFETIME to
//!   the signed one, signed successes to CreatePermission, ChannelBind and
//!   Refresh), and keeps answering during the operations (see op 12);
//! - bit 2: a remote description first: a second, plain `Rtc` at
//!   10.0.0.2:6000 with a data channel offers, the fuzzed one answers, and
//!   that peer's host candidate is added, so the relay gets a permission
//!   and ICE sends checks through it. Op 11 then carries the genuine peer's
//!   traffic through the harness's relay, so ICE, DTLS and SCTP can run
//!   over TURN.
//!
//! Operations, control byte `c`, `c % 16`:
//! - 0: the timer fires at the last `Output::Timeout`;
//! - 1: the clock jumps (`c >> 4`: up to 1.4 s in 200 ms steps, or up to
//!   4 minutes in 30 s steps) and the timer fires;
//! - 2, 14, 15: raw bytes (next byte = length) from the server: a datagram
//!   to the host socket, or stream bytes over TCP; with `c & 16`, from a
//!   stranger address instead;
//! - 3: an answer to the last request the connection sent, with its ID and
//!   method: success, or (`c & 16`) an error whose code comes from the next
//!   byte (401 and 438 with REALM and NONCE); with `c & 64` the next byte's
//!   worth of fuzz bytes as raw attributes; signed unless `c & 32`;
//! - 4: a Data indication from 10.0.0.x:(6000 + y) carrying fuzz bytes;
//! - 5: ChannelData with a fuzz channel number and payload (padded to 4
//!   over TCP, as RFC 8656 requires there);
//! - 6: `Connected` (`c & 16` clear) or `Disconnected` for the server, or
//!   (`c & 32`) for a wrong address;
//! - 7: `add_remote_candidate` with fuzz text (lossy UTF-8);
//! - 8: `create_data_channel`;
//! - 9: `send` of the next byte's worth of bytes on the last channel;
//! - 10: `close()`;
//! - 11: the genuine peer (bit 2) gets what the connection relayed to it,
//!   its timers fire, and what it sends back comes from the server (as
//!   ChannelData on a bound channel, else as a Data indication);
//! - 12: the harness stops (or resumes) answering requests by itself;
//! - 13: `add_remote_candidate` of a well-formed host candidate at
//!   10.0.0.x:(6000 + y) (the connection asks the relay for a permission).
//!
//! Invariants checked after every operation: nothing panics;
//! `poll_output` never fails and reaches `Timeout` within 100 000 outputs;
//! relay-only means every datagram goes from the host socket to the TURN
//! server over UDP, and no datagram at all over TCP; over TCP, bytes are
//! written only to the server, only after `Connected` and never after
//! `Disconnected` or `Output::Disconnect`; over UDP nothing asks for a
//! connection.
#![no_main]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

#[path = "shared/stun.rs"]
mod stun_answer;

use libfuzzer_sys::fuzz_target;
use rtcwire::{
    ChannelId, ChannelOptions, Event, IceServer, IceTransportPolicy, Input, Output, Receive,
    Rtc, RtcConfig,
};
use rtcwire_stun::{
    Attribute, AttributeType, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    TransactionId, is_channel_data,
};

const USER: &str = "user";
const PASSWORD: &str = "pass";
const REALM: &str = "realm";
/// Most outputs one operation may cause: more means an unbounded queue.
const MAX_OUTPUTS: usize = 100_000;
/// Most datagrams the harness keeps for the genuine peer.
const MAX_TO_PEER: usize = 64;

#[path = "shared/cert.rs"]
mod cert;
use cert::certificates;

fn server() -> SocketAddr {
    ([192, 0, 2, 1], 3478).into()
}
fn stranger() -> SocketAddr {
    ([192, 0, 2, 9], 3478).into()
}
/// The fuzzed connection's host socket (the TURN client's base over UDP).
fn host() -> SocketAddr {
    ([10, 0, 0, 1], 5000).into()
}
/// The address the harness's TURN server relays from.
fn relayed() -> SocketAddr {
    ([203, 0, 113, 7], 50_000).into()
}
/// 10.0.0.x:(6000 + y); 10.0.0.2:6000 is the genuine peer.
fn peer(x: u8, y: u8) -> SocketAddr {
    (Ipv4Addr::new(10, 0, 0, x), 6000 + u16::from(y)).into()
}

struct Harness {
    rtc: Rtc,
    /// The genuine peer (options bit 2).
    peer: Option<Rtc>,
    tcp: bool,
    now: Instant,
    timeout: Instant,
    key: IntegrityKey,
    /// The last STUN request the connection sent.
    last_request: Vec<u8>,
    /// The harness answers requests by itself.
    auto: bool,
    /// Answers (or relayed data) to feed after the outputs are drained.
    replies: Vec<Vec<u8>>,
    /// Over TCP: `Output::Connect` seen, `Input::Connected` given, and the
    /// connection ended (`Disconnected` given or `Disconnect` seen).
    asked: bool,
    open: bool,
    ended: bool,
    /// Channels the harness's server bound: (number, peer).
    channels: Vec<(u16, SocketAddr)>,
    /// Data the connection relayed: (peer, bytes).
    to_peer: Vec<(SocketAddr, Vec<u8>)>,
    /// The connection's data channels.
    data_channels: Vec<ChannelId>,
}

impl Harness {
    /// Bytes from the server (or `from`) to the connection.
    fn feed(&mut self, bytes: &[u8], from: SocketAddr) {
        let input = if self.tcp {
            Input::StreamReceive(self.now, from, bytes)
        } else {
            Input::Receive(
                self.now,
                Receive {
                    source: from,
                    destination: host(),
                    contents: bytes,
                },
            )
        };
        let _ = self.rtc.handle_input(input);
    }

    fn input(&mut self, input: Input<'_>) {
        let _ = self.rtc.handle_input(input);
    }

    /// Drains the connection to its `Timeout`, checking each output, then
    /// feeds the automatic answers; a few rounds at most.
    fn drain(&mut self) {
        for _ in 0..8 {
            self.drain_once();
            if self.replies.is_empty() {
                return;
            }
            for reply in std::mem::take(&mut self.replies) {
                self.feed(&reply, server());
            }
        }
        self.drain_once();
        self.replies.clear();
    }

    fn drain_once(&mut self) {
        for _ in 0..MAX_OUTPUTS {
            let output = self.rtc.poll_output().expect("poll_output does not fail");
            match output {
                Output::Transmit(t) => {
                    assert!(!self.tcp, "relay-only over TCP sends no datagram: {t:?}");
                    assert_eq!(t.source, host(), "a datagram not from the TURN client's socket");
                    assert_eq!(
                        t.destination,
                        server(),
                        "relay-only sends only to the TURN server"
                    );
                    self.from_client(&t.contents);
                }
                Output::Connect(to) => {
                    assert!(self.tcp, "TURN over UDP asks for no connection");
                    assert_eq!(to, server());
                    self.asked = true;
                }
                Output::StreamTransmit(s) => {
                    assert!(self.tcp, "TURN over UDP writes no stream");
                    assert_eq!(s.destination, server());
                    assert!(self.open, "stream bytes before Connected");
                    assert!(!self.ended, "stream bytes after the connection ended");
                    let mut rest = s.contents.as_slice();
                    while let Some(len) = frame_len(rest) {
                        self.from_client(&rest[..len]);
                        rest = &rest[len..];
                    }
                }
                Output::Disconnect(to) => {
                    assert!(self.tcp, "TURN over UDP has no connection to close");
                    assert_eq!(to, server());
                    self.ended = true;
                }
                Output::Event(Event::IceCandidate(c)) => {
                    if let Some(p) = &mut self.peer {
                        let _ = p.add_remote_candidate(&c.candidate);
                    }
                }
                Output::Event(Event::ChannelOpen { id, .. }) => self.data_channels.push(id),
                Output::Event(_) => {}
                Output::Timeout(at) => {
                    self.timeout = at;
                    return;
                }
            }
        }
        panic!("poll_output did not reach Timeout within {MAX_OUTPUTS} outputs");
    }

    /// What the TURN server receives: requests (kept, and answered in
    /// `auto` mode), Send indications and ChannelData (kept for the peer).
    fn from_client(&mut self, frame: &[u8]) {
        if is_channel_data(frame) && frame.len() >= 4 {
            let number = u16::from_be_bytes([frame[0], frame[1]]);
            let len = usize::from(u16::from_be_bytes([frame[2], frame[3]]));
            let data = frame.get(4..4 + len).unwrap_or_default();
            if let Some(&(_, p)) = self.channels.iter().find(|(n, _)| *n == number) {
                self.relay_out(p, data);
            }
            return;
        }
        let Ok(m) = Message::parse(frame) else {
            return;
        };
        match m.class() {
            Class::Indication if m.method() == Method::SEND => {
                if let (Some(Ok(Attribute::XorPeerAddress(p))), Some(Ok(Attribute::Data(d)))) =
                    (m.get(AttributeType::XOR_PEER_ADDRESS), m.get(AttributeType::DATA))
                {
                    self.relay_out(p, d);
                }
            }
            Class::Request => {
                self.last_request = frame.to_vec();
                if self.auto
                    && let Some(reply) = self.answer(&m)
                {
                    self.replies.push(reply);
                }
            }
            _ => {}
        }
    }

    fn relay_out(&mut self, to: SocketAddr, data: &[u8]) {
        if self.peer.is_some() && self.to_peer.len() < MAX_TO_PEER {
            self.to_peer.push((to, data.to_vec()));
        }
    }

    /// What a TURN server answers to `req`.
    fn answer(&mut self, req: &Message<'_>) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 512];
        let method = req.method();
        let signed = req.has_integrity();
        let class = if signed { Class::Success } else { Class::Error };
        let mut b =
            MessageBuilder::new(&mut buf, MessageType::new(method, class), req.transaction_id()).ok()?;
        if !signed {
            b.add(&Attribute::ErrorCode(ErrorCode::UNAUTHENTICATED)).ok()?;
            b.add(&Attribute::Realm(REALM)).ok()?;
            b.add(&Attribute::Nonce("nonce")).ok()?;
        } else if method == Method::ALLOCATE {
            b.add(&Attribute::XorRelayedAddress(relayed())).ok()?;
            b.add(&Attribute::XorMappedAddress(([198, 51, 100, 1], 4000).into()))
                .ok()?;
            b.add(&Attribute::Lifetime(600)).ok()?;
        } else if method == Method::REFRESH {
            let lifetime = match req.get(AttributeType::LIFETIME) {
                Some(Ok(Attribute::Lifetime(0))) => 0,
                _ => 600,
            };
            b.add(&Attribute::Lifetime(lifetime)).ok()?;
        } else if method == Method::CHANNEL_BIND
            && let (Some(Ok(Attribute::ChannelNumber(n))), Some(Ok(Attribute::XorPeerAddress(p)))) = (
                req.get(AttributeType::CHANNEL_NUMBER),
                req.get(AttributeType::XOR_PEER_ADDRESS),
            )
        {
            self.channels.retain(|&(m, q)| m != n && q != p);
            if self.channels.len() < 64 {
                self.channels.push((n, p));
            }
        }
        let n = stun_answer::finish(b, &[], signed.then_some(&self.key))?;
        buf.truncate(n);
        Some(buf)
    }

    /// A fuzz-shaped answer to the last request.
    fn respond(&self, error: Option<u8>, attrs: &[u8], sign: bool) -> Option<Vec<u8>> {
        let req = Message::parse(&self.last_request).ok()?;
        let class = if error.is_some() {
            Class::Error
        } else {
            Class::Success
        };
        let mut buf = vec![0u8; 4096];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::new(req.method(), class),
            req.transaction_id(),
        )
        .ok()?;
        if let Some(e) = error {
            const CODES: [u16; 12] = [401, 438, 437, 403, 500, 486, 508, 441, 420, 300, 400, 699];
            let code = CODES[usize::from(e) % CODES.len()];
            let _ = b.add(&Attribute::ErrorCode(ErrorCode::new(code, "fuzz")));
            if code == 401 || code == 438 {
                let _ = b.add(&Attribute::Realm(if e & 0x80 != 0 { "other" } else { REALM }));
                let _ = b.add(&Attribute::Nonce(if e & 0x40 != 0 { "nonce2" } else { "nonce" }));
            }
        }
        let n = stun_answer::finish(b, attrs, sign.then_some(&self.key))?;
        buf.truncate(n);
        Some(buf)
    }

    /// Data relayed from `from` to the connection: ChannelData when a
    /// channel is bound to `from`, else a Data indication.
    fn relay_in(&self, from: SocketAddr, data: &[u8]) -> Vec<u8> {
        if let Some(&(n, _)) = self.channels.iter().find(|(_, p)| *p == from) {
            return channel_data(n, data, self.tcp);
        }
        data_indication(from, data)
    }

    /// The genuine peer gets what was relayed to it and answers.
    fn peer_exchange(&mut self) {
        let Some(mut p) = self.peer.take() else {
            return;
        };
        for (to, data) in std::mem::take(&mut self.to_peer) {
            if to == peer(2, 0) {
                let receive = Receive {
                    source: relayed(),
                    destination: to,
                    contents: &data,
                };
                let _ = p.handle_input(Input::Receive(self.now, receive));
            }
        }
        let _ = p.handle_input(Input::Timeout(self.now));
        let mut back = Vec::new();
        for _ in 0..MAX_OUTPUTS {
            match p.poll_output() {
                Ok(Output::Transmit(t)) if t.destination == relayed() && back.len() < MAX_TO_PEER => {
                    back.push(self.relay_in(t.source, &t.contents));
                }
                Ok(Output::Timeout(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        self.peer = Some(p);
        for frame in back {
            self.feed(&frame, server());
            self.drain();
        }
    }
}

/// The length of the first frame of a TURN-over-TCP stream chunk (STUN, or
/// ChannelData padded to 4).
fn frame_len(b: &[u8]) -> Option<usize> {
    if b.len() < 4 {
        return None;
    }
    let body = usize::from(u16::from_be_bytes([b[2], b[3]]));
    let len = if is_channel_data(b) {
        (4 + body).next_multiple_of(4)
    } else {
        20 + body
    };
    (len <= b.len()).then_some(len)
}

fn channel_data(number: u16, data: &[u8], pad: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    out.extend_from_slice(&number.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
    if pad {
        out.resize(out.len().next_multiple_of(4), 0);
    }
    out
}

fn data_indication(from: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; data.len() + 128];
    let id = TransactionId::new([7; 12]);
    let Ok(mut b) = MessageBuilder::new(&mut buf, MessageType::new(Method::DATA, Class::Indication), id)
    else {
        return Vec::new();
    };
    let _ = b.add(&Attribute::XorPeerAddress(from));
    let _ = b.add(&Attribute::Data(data));
    let n = b.len();
    buf.truncate(n);
    buf
}

/// A plain peer at 10.0.0.2:6000 offers a data channel; `rtc` answers.
fn negotiate(rtc: &mut Rtc, now: Instant) -> Option<Rtc> {
    let config = RtcConfig {
        certificate: Some(certificates()[1].clone()),
        seed: Some(2),
        ..RtcConfig::default()
    };
    let mut p = Rtc::new(config, now).ok()?;
    p.add_local_candidate(peer(2, 0)).ok()?;
    p.create_data_channel("peer", ChannelOptions::default()).ok()?;
    let offer = p.create_offer().ok()?;
    p.set_local_description(&offer).ok()?;
    rtc.set_remote_description(&offer).ok()?;
    let answer = rtc.create_answer().ok()?;
    rtc.set_local_description(&answer).ok()?;
    p.set_remote_description(&answer).ok()?;
    let _ = rtc.add_remote_candidate("candidate:1 1 udp 2130706431 10.0.0.2 6000 typ host");
    Some(p)
}

fuzz_target!(|data: &[u8]| {
    let Some((&options, mut rest)) = data.split_first() else {
        return;
    };
    let tcp = options & 1 != 0;
    let url = if tcp {
        "turn:192.0.2.1:3478?transport=tcp"
    } else {
        "turn:192.0.2.1:3478?transport=udp"
    };
    let now = Instant::now();
    let config = RtcConfig {
        certificate: Some(certificates()[0].clone()),
        seed: Some(1),
        ice_servers: vec![IceServer::turn(url, USER, PASSWORD)],
        ice_transport_policy: IceTransportPolicy::Relay,
        ..RtcConfig::default()
    };
    let Ok(rtc) = Rtc::new(config, now) else {
        return;
    };
    let mut h = Harness {
        rtc,
        peer: None,
        tcp,
        now,
        timeout: now,
        key: IntegrityKey::long_term(USER, REALM, PASSWORD),
        last_request: Vec::new(),
        auto: options & 2 != 0,
        replies: Vec::new(),
        asked: false,
        open: false,
        ended: false,
        channels: Vec::new(),
        to_peer: Vec::new(),
        data_channels: Vec::new(),
    };
    let _ = h.rtc.add_local_candidate(host());
    h.drain();
    if tcp && options & 2 != 0 {
        h.input(Input::Connected(now, server()));
        h.open = h.asked && !h.ended;
        h.drain();
    }
    if options & 4 != 0 {
        h.peer = negotiate(&mut h.rtc, now);
        h.drain();
    }
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        let arg = |rest: &mut &[u8]| -> u8 {
            let Some((&b, tail)) = rest.split_first() else {
                return 0;
            };
            *rest = tail;
            b
        };
        let bytes = |rest: &mut &[u8]| -> Vec<u8> {
            let n = usize::from(arg(rest)).min(rest.len());
            let (b, tail) = rest.split_at(n);
            *rest = tail;
            b.to_vec()
        };
        match c % 16 {
            0 => {
                h.now = h.now.max(h.timeout);
                h.input(Input::Timeout(h.now));
            }
            1 => {
                let v = u64::from(c >> 4);
                h.now += if v < 8 {
                    Duration::from_millis(200 * v)
                } else {
                    Duration::from_secs(30 * (v - 7))
                };
                h.input(Input::Timeout(h.now));
            }
            3 => {
                let error = (c & 16 != 0).then(|| arg(&mut rest));
                let attrs = if c & 64 != 0 { bytes(&mut rest) } else { Vec::new() };
                if let Some(msg) = h.respond(error, &attrs, c & 32 == 0) {
                    h.feed(&msg, server());
                }
            }
            4 => {
                let (x, y) = (arg(&mut rest), arg(&mut rest));
                let payload = bytes(&mut rest);
                let msg = data_indication(peer(x, y), &payload);
                h.feed(&msg, server());
            }
            5 => {
                let b = arg(&mut rest);
                // Mostly the numbers a client binds (0x4000 up), sometimes
                // any.
                let number = if b & 0x80 == 0 {
                    0x4000 + u16::from(b)
                } else {
                    u16::from(b) << 8 | u16::from(arg(&mut rest))
                };
                let payload = bytes(&mut rest);
                let frame = channel_data(number, &payload, h.tcp);
                h.feed(&frame, server());
            }
            6 => {
                let to = if c & 32 == 0 { server() } else { stranger() };
                if c & 16 == 0 {
                    h.input(Input::Connected(h.now, to));
                    if to == server() && h.asked && !h.ended {
                        h.open = true;
                    }
                } else {
                    h.input(Input::Disconnected(h.now, to));
                    if to == server() {
                        h.ended = true;
                    }
                }
            }
            7 => {
                let text = bytes(&mut rest);
                let _ = h.rtc.add_remote_candidate(&String::from_utf8_lossy(&text));
            }
            8 => {
                if let Ok(id) = h.rtc.create_data_channel("fuzz", ChannelOptions::default()) {
                    h.data_channels.push(id);
                }
            }
            9 => {
                let payload = bytes(&mut rest);
                if let Some(&id) = h.data_channels.last() {
                    let _ = h.rtc.send(id, &payload, c & 16 != 0);
                }
            }
            10 => h.rtc.close(),
            11 => h.peer_exchange(),
            12 => h.auto = !h.auto,
            13 => {
                let (x, y) = (arg(&mut rest), arg(&mut rest));
                let p = peer(x, y);
                let line = format!("candidate:2 1 udp 2130706431 {} {} typ host", p.ip(), p.port());
                let _ = h.rtc.add_remote_candidate(&line);
            }
            _ => {
                let from = if c & 16 != 0 { stranger() } else { server() };
                let payload = bytes(&mut rest);
                h.feed(&payload, from);
            }
        }
        h.drain();
    }
});
