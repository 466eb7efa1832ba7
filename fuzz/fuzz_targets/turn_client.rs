//! A `TurnClient` fed arbitrary server datagrams, stream bytes, signed
//! responses built from fuzz data, commands and timer events.
//!
//! Input: one options byte (bit 0: TCP rather than UDP, bit 1: start with a
//! genuine allocation so later operations meet an allocated client, bit 2:
//! TLS through rustls, every byte fed being TLS records), then
//! operations until the input ends. Each starts with a control byte `c`;
//! `c % 8` picks:
//! - 0: the timer fires at `poll_timeout`;
//! - 1: the clock moves `c >> 3` times 10 s and `handle_timeout` is called;
//! - 2: raw bytes (next byte = length) as a datagram from the server (or,
//!   with `c & 8`, from a stranger), or as stream bytes over TCP;
//! - 3: a response to the last request sent, with its transaction ID and
//!   method, class from `c >> 3`, the next byte's worth of fuzz bytes as raw
//!   attributes, signed with the right key (with `c & 64`: unsigned);
//! - 4: `create_permission` for 10.0.0.x (x from the next byte);
//! - 5: `bind_channel` for 10.0.0.x:y;
//! - 6: `send_to` 10.0.0.x:y with the next byte's worth of data;
//! - 7: `close`.
//!
//! The client must never panic; the reassembly buffer, the transmit queue
//! and the event queue stay within their documented caps.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "shared/stun.rs"]
mod stun_answer;

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rtcwire_stun::{Attribute, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType};
use rtcwire_turn::{
    MAX_CHANNELS, MAX_PERMISSIONS, MAX_QUEUED_EVENTS, MAX_QUEUED_TRANSMITS, MAX_STREAM_BUFFER, TurnClient,
    TurnConfig, TurnTransport,
};

const USER: &str = "user";
const PASSWORD: &str = "pass";
const REALM: &str = "realm";

fn server() -> SocketAddr {
    ([192, 0, 2, 1], 3478).into()
}

fn peer(x: u8, y: u8) -> SocketAddr {
    (Ipv4Addr::new(10, 0, 0, x), u16::from(y) + 1).into()
}

struct Harness {
    client: TurnClient,
    stream: bool,
    now: Instant,
    last_request: Vec<u8>,
    key: IntegrityKey,
}

impl Harness {
    fn feed(&mut self, bytes: &[u8], from: SocketAddr) {
        if self.stream {
            let _ = self.client.handle_stream(self.now, bytes);
        } else {
            let _ = self.client.handle_receive(self.now, from, bytes);
        }
        assert!(self.client.buffered() <= MAX_STREAM_BUFFER);
    }

    /// Drains transmits and events, checking the caps; keeps the last request.
    fn drain(&mut self) {
        let mut transmits = 0;
        while let Some(t) = self.client.poll_transmit() {
            transmits += 1;
            assert_eq!(t.destination, server());
            if let Ok(m) = Message::parse(t.contents)
                && m.class() == Class::Request
            {
                self.last_request = t.contents.to_vec();
            }
        }
        assert!(transmits <= MAX_QUEUED_TRANSMITS + MAX_PERMISSIONS + MAX_CHANNELS + 2);
        let mut events = 0;
        while self.client.poll_event().is_some() {
            events += 1;
        }
        assert!(events <= MAX_QUEUED_EVENTS);
    }

    /// A response to the last request: its ID and method, the given class,
    /// `attrs` as raw attribute TLVs, optionally signed and fingerprinted.
    fn respond(&self, class: Class, attrs: &[u8], sign: bool) -> Option<Vec<u8>> {
        let req = Message::parse(&self.last_request).ok()?;
        let mut buf = vec![0u8; 4096];
        let b = MessageBuilder::new(
            &mut buf,
            MessageType::new(req.method(), class),
            req.transaction_id(),
        )
        .ok()?;
        let n = stun_answer::finish(b, attrs, sign.then_some(&self.key))?;
        buf.truncate(n);
        Some(buf)
    }

    /// The genuine handshake: 401 with REALM and NONCE, then a success.
    fn allocate(&mut self) {
        self.drain();
        let mut buf = vec![0u8; 512];
        let Ok(req) = Message::parse(&self.last_request) else {
            return;
        };
        let Ok(mut b) = MessageBuilder::new(
            &mut buf,
            MessageType::new(req.method(), Class::Error),
            req.transaction_id(),
        ) else {
            return;
        };
        let _ = b.add(&Attribute::ErrorCode(ErrorCode::UNAUTHENTICATED));
        let _ = b.add(&Attribute::Realm(REALM));
        let _ = b.add(&Attribute::Nonce("nonce"));
        let n = b.len();
        let challenge = buf[..n].to_vec();
        self.feed(&challenge, server());
        self.drain();
        let Ok(req) = Message::parse(&self.last_request) else {
            return;
        };
        let Ok(mut b) = MessageBuilder::new(
            &mut buf,
            MessageType::new(req.method(), Class::Success),
            req.transaction_id(),
        ) else {
            return;
        };
        let _ = b.add(&Attribute::XorRelayedAddress(([192, 0, 2, 1], 50_000).into()));
        let _ = b.add(&Attribute::XorMappedAddress(([198, 51, 100, 1], 4000).into()));
        let _ = b.add(&Attribute::Lifetime(600));
        let _ = b.add_message_integrity(&self.key);
        let n = b.len();
        let success = buf[..n].to_vec();
        self.feed(&success, server());
        self.drain();
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&options, mut rest)) = data.split_first() else {
        return;
    };
    let stream = options & 1 != 0;
    let mut config = TurnConfig::new(server(), USER, PASSWORD);
    if stream {
        config.transport = TurnTransport::Tcp;
    }
    let now = Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let client = if options & 4 != 0 {
        let tls =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("turn.example").expect("name");
        match TurnClient::new_tls(now, &mut rng, config, Arc::new(tls), name) {
            Ok(c) => c,
            Err(_) => return,
        }
    } else {
        TurnClient::new(now, &mut rng, config)
    };
    let stream = stream || options & 4 != 0;
    let mut h = Harness {
        client,
        stream,
        now,
        last_request: Vec::new(),
        key: IntegrityKey::long_term(USER, REALM, PASSWORD),
    };
    if options & 2 != 0 {
        h.allocate();
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
        match c % 8 {
            0 => {
                if let Some(at) = h.client.poll_timeout() {
                    h.now = h.now.max(at);
                    h.client.handle_timeout(h.now);
                }
            }
            1 => {
                h.now += Duration::from_secs(10 * u64::from(c >> 3));
                h.client.handle_timeout(h.now);
            }
            2 => {
                let n = usize::from(arg(&mut rest)).min(rest.len());
                let from = if c & 8 != 0 {
                    ([192, 0, 2, 9], 3478).into()
                } else {
                    server()
                };
                let bytes = rest[..n].to_vec();
                rest = &rest[n..];
                h.feed(&bytes, from);
            }
            3 => {
                let n = usize::from(arg(&mut rest)).min(rest.len());
                let attrs = rest[..n].to_vec();
                rest = &rest[n..];
                let class = if (c >> 3) & 1 == 0 {
                    Class::Success
                } else {
                    Class::Error
                };
                if let Some(msg) = h.respond(class, &attrs, c & 64 == 0) {
                    h.feed(&msg, server());
                }
            }
            4 => {
                let x = arg(&mut rest);
                let _ = h
                    .client
                    .create_permission(h.now, IpAddr::V4(Ipv4Addr::new(10, 0, 0, x)));
            }
            5 => {
                let (x, y) = (arg(&mut rest), arg(&mut rest));
                let _ = h.client.bind_channel(h.now, peer(x, y));
            }
            6 => {
                let (x, y) = (arg(&mut rest), arg(&mut rest));
                let n = usize::from(arg(&mut rest)).min(rest.len());
                let payload = rest[..n].to_vec();
                rest = &rest[n..];
                let _ = h.client.send_to(peer(x, y), &payload);
            }
            _ => h.client.close(h.now),
        }
        h.drain();
        if let Some(at) = h.client.poll_timeout() {
            assert!(at + Duration::from_secs(3600) > h.now, "timer far in the past");
        }
    }
});
