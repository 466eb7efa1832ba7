//! The client against a small in-crate TURN server that signs what it
//! answers, and against malformed or forged input.

#![cfg(test)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Test code: an unwrap or panic here fails a test on purpose; none of it
// is compiled outside `cargo test`, so no network input reaches it.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rtcwire_stun::{
    AddressFamily, Attribute, AttributeType, ChannelData, Class, ErrorCode, IntegrityKey, Message,
    MessageBuilder, MessageType, Method, TransactionId,
};

use crate::{
    MAX_QUEUED_TRANSMITS, MAX_STREAM_BUFFER, TurnClient, TurnConfig, TurnError, TurnEvent, TurnTransport,
};

const USER: &str = "alice";
const PASSWORD: &str = "secret";
const REALM: &str = "example.org";

/// A starting instant from the simulator: nothing under crates/ reads the
/// clock, tests included.
fn start() -> Instant {
    rtcwire_netsim::Sim::new(1).now()
}

fn server() -> SocketAddr {
    "192.0.2.1:3478".parse().unwrap()
}
fn relayed() -> SocketAddr {
    "192.0.2.1:50000".parse().unwrap()
}
fn mapped() -> SocketAddr {
    "198.51.100.7:40000".parse().unwrap()
}
fn peer() -> SocketAddr {
    "203.0.113.9:7000".parse().unwrap()
}

/// A TURN server that answers one request at a time, signs every answer
/// with the long-term key, and can be told to misbehave.
struct FakeServer {
    key: IntegrityKey,
    nonce: String,
    lifetime: u32,
    /// Answer the next authenticated request with 438 and a new nonce.
    stale_once: bool,
    /// Answer Allocate with this error (and ALTERNATE-SERVER for 300).
    allocate_error: Option<u16>,
    requests: Vec<Vec<u8>>,
}

impl FakeServer {
    fn new() -> FakeServer {
        FakeServer {
            key: IntegrityKey::long_term(USER, REALM, PASSWORD),
            nonce: "nonce-1".into(),
            lifetime: 600,
            stale_once: false,
            allocate_error: None,
            requests: Vec::new(),
        }
    }

    /// The answer to `request`, or `None` for indications.
    fn answer(&mut self, request: &[u8]) -> Option<Vec<u8>> {
        self.requests.push(request.to_vec());
        let msg = Message::parse(request).unwrap();
        if msg.class() != Class::Request {
            return None;
        }
        let mut buf = vec![0u8; 1024];
        let tid = msg.transaction_id();
        if !msg.has_integrity() || msg.verify_integrity(&self.key).is_err() {
            let mut b =
                MessageBuilder::new(&mut buf, MessageType::new(msg.method(), Class::Error), tid).unwrap();
            b.add(&Attribute::ErrorCode(ErrorCode::UNAUTHENTICATED)).unwrap();
            b.add(&Attribute::Realm(REALM)).unwrap();
            b.add(&Attribute::Nonce(&self.nonce)).unwrap();
            b.add_fingerprint().unwrap();
            let n = b.len();
            buf.truncate(n);
            return Some(buf);
        }
        assert_eq!(
            msg.get(AttributeType::USERNAME),
            Some(Ok(Attribute::Username(USER)))
        );
        if self.stale_once {
            self.stale_once = false;
            self.nonce = "nonce-2".into();
            let mut b =
                MessageBuilder::new(&mut buf, MessageType::new(msg.method(), Class::Error), tid).unwrap();
            b.add(&Attribute::ErrorCode(ErrorCode::STALE_NONCE)).unwrap();
            b.add(&Attribute::Realm(REALM)).unwrap();
            b.add(&Attribute::Nonce(&self.nonce)).unwrap();
            b.add_fingerprint().unwrap();
            let n = b.len();
            buf.truncate(n);
            return Some(buf);
        }
        assert_eq!(
            msg.get(AttributeType::NONCE),
            Some(Ok(Attribute::Nonce(self.nonce.as_str())))
        );
        let error = if msg.method() == Method::ALLOCATE {
            self.allocate_error
        } else {
            None
        };
        let class = if error.is_some() {
            Class::Error
        } else {
            Class::Success
        };
        let mut b = MessageBuilder::new(&mut buf, MessageType::new(msg.method(), class), tid).unwrap();
        if let Some(code) = error {
            b.add(&Attribute::ErrorCode(ErrorCode::new(code, "no"))).unwrap();
            if code == 300 {
                b.add(&Attribute::AlternateServer("192.0.2.2:3478".parse().unwrap()))
                    .unwrap();
            }
        } else if msg.method() == Method::ALLOCATE {
            b.add(&Attribute::XorRelayedAddress(relayed())).unwrap();
            b.add(&Attribute::XorMappedAddress(mapped())).unwrap();
            b.add(&Attribute::Lifetime(self.lifetime)).unwrap();
        } else if msg.method() == Method::REFRESH {
            let Some(Ok(Attribute::Lifetime(asked))) = msg.get(AttributeType::LIFETIME) else {
                panic!("Refresh without LIFETIME");
            };
            b.add(&Attribute::Lifetime(asked.min(self.lifetime))).unwrap();
        }
        b.add_message_integrity(&self.key).unwrap();
        b.add_fingerprint().unwrap();
        let n = b.len();
        buf.truncate(n);
        Some(buf)
    }
}

fn config() -> TurnConfig {
    TurnConfig::new(server(), USER, PASSWORD)
}

fn client(now: Instant, config: TurnConfig) -> TurnClient {
    TurnClient::new(now, &mut StdRng::seed_from_u64(7), config)
}

/// Moves every transmit to the server and every answer back; returns the
/// events and the non-request transmits (data) seen.
fn exchange(now: Instant, c: &mut TurnClient, s: &mut FakeServer) -> (Vec<TurnEvent>, Vec<Vec<u8>>) {
    let mut data = Vec::new();
    for _ in 0..20 {
        let mut answers = Vec::new();
        while let Some(t) = c.poll_transmit() {
            assert_eq!(t.destination, server());
            if rtcwire_stun::is_channel_data(t.contents) {
                data.push(t.contents.to_vec());
                continue;
            }
            match s.answer(t.contents) {
                Some(a) => answers.push(a),
                None => data.push(t.contents.to_vec()),
            }
        }
        if answers.is_empty() {
            break;
        }
        for a in answers {
            assert_eq!(c.handle_receive(now, server(), &a), None);
        }
    }
    (std::iter::from_fn(|| c.poll_event()).collect(), data)
}

fn allocated(now: Instant, s: &mut FakeServer) -> TurnClient {
    let mut c = client(now, config());
    let (events, _) = exchange(now, &mut c, s);
    assert_eq!(
        events,
        vec![TurnEvent::Allocated {
            relayed: relayed(),
            mapped: Some(mapped()),
            lifetime: Duration::from_secs(600),
        }]
    );
    c
}

#[test]
fn allocates_after_the_401_challenge_with_long_term_credentials() {
    let now = start();
    let mut s = FakeServer::new();
    let c = allocated(now, &mut s);
    assert_eq!(c.relayed_address(), Some(relayed()));
    assert_eq!(s.requests.len(), 2);
    let first = Message::parse(&s.requests[0]).unwrap();
    assert!(!first.has_integrity());
    assert_eq!(
        first.get(AttributeType::REQUESTED_TRANSPORT),
        Some(Ok(Attribute::RequestedTransport(17)))
    );
    let second = Message::parse(&s.requests[1]).unwrap();
    assert_eq!(
        second.get(AttributeType::REALM),
        Some(Ok(Attribute::Realm(REALM)))
    );
    second.verify_integrity(&s.key).unwrap();
    assert_ne!(first.transaction_id(), second.transaction_id());
    assert_eq!(c.rejected(), 0);
}

#[test]
fn debug_output_hides_the_password() {
    let c = client(start(), config());
    let debug = format!("{c:?}");
    assert!(debug.contains(USER) && !debug.contains(PASSWORD), "{debug}");
}

#[test]
fn requests_ipv6_relay_and_dont_fragment_when_configured() {
    let now = start();
    let mut config = config();
    config.address_family = Some(AddressFamily::V6);
    config.dont_fragment = true;
    let mut c = client(now, config);
    let t = c.poll_transmit().unwrap();
    let msg = Message::parse(t.contents).unwrap();
    assert_eq!(
        msg.get(AttributeType::REQUESTED_ADDRESS_FAMILY),
        Some(Ok(Attribute::RequestedAddressFamily(AddressFamily::V6)))
    );
    assert!(msg.contains(AttributeType::DONT_FRAGMENT));
}

#[test]
fn wrong_password_fails_with_unauthorized() {
    let now = start();
    let mut s = FakeServer::new();
    let mut c = client(now, TurnConfig::new(server(), USER, "wrong"));
    let (events, _) = exchange(now, &mut c, &mut s);
    assert_eq!(events, vec![TurnEvent::AllocationFailed(TurnError::Unauthorized)]);
    assert!(c.is_done());
    assert!(
        TurnError::Unauthorized
            .to_string()
            .contains("wrong username or password")
    );
}

#[test]
fn stale_nonce_is_retried_with_the_new_nonce() {
    let now = start();
    let mut s = FakeServer::new();
    s.stale_once = true;
    let mut c = client(now, config());
    let (events, _) = exchange(now, &mut c, &mut s);
    assert!(matches!(events[..], [TurnEvent::Allocated { .. }]));
    assert_eq!(s.requests.len(), 3);
    let last = Message::parse(&s.requests[2]).unwrap();
    assert_eq!(
        last.get(AttributeType::NONCE),
        Some(Ok(Attribute::Nonce("nonce-2")))
    );
}

#[test]
fn error_responses_become_clear_errors() {
    for (code, error) in [
        (
            300,
            TurnError::TryAlternate {
                alternate: "192.0.2.2:3478".parse().unwrap(),
            },
        ),
        (437, TurnError::AllocationMismatch),
        (486, TurnError::QuotaReached),
        (508, TurnError::InsufficientCapacity),
        (442, TurnError::ErrorResponse { code: 442 }),
    ] {
        let now = start();
        let mut s = FakeServer::new();
        s.allocate_error = Some(code);
        let mut c = client(now, config());
        let (events, _) = exchange(now, &mut c, &mut s);
        assert_eq!(events, vec![TurnEvent::AllocationFailed(error)], "code {code}");
    }
}

#[test]
fn forged_and_unmatched_responses_change_nothing() {
    let now = start();
    let mut s = FakeServer::new();
    let mut c = client(now, config());
    let first = c.poll_transmit().unwrap().contents.to_vec();
    let challenge = s.answer(&first).unwrap();
    c.handle_receive(now, server(), &challenge);
    let second = c.poll_transmit().unwrap().contents.to_vec();
    let tid = Message::parse(&second).unwrap().transaction_id();

    // A success signed with another key, one with another transaction ID, one
    // without integrity, and one from another address.
    let mut buf = [0u8; 128];
    let mut b =
        MessageBuilder::new(&mut buf, MessageType::new(Method::ALLOCATE, Class::Success), tid).unwrap();
    b.add(&Attribute::XorRelayedAddress(relayed())).unwrap();
    b.add_message_integrity(&IntegrityKey::long_term(USER, REALM, "guess"))
        .unwrap();
    let forged = b.finish().to_vec();
    assert_eq!(c.handle_receive(now, server(), &forged), None);
    let mut other = second.clone();
    other[8] ^= 1;
    let for_other = s.answer(&other).unwrap();
    assert_eq!(c.handle_receive(now, server(), &for_other), None);
    let mut buf = [0u8; 128];
    let mut b =
        MessageBuilder::new(&mut buf, MessageType::new(Method::ALLOCATE, Class::Success), tid).unwrap();
    b.add(&Attribute::XorRelayedAddress(relayed())).unwrap();
    let unsigned = b.finish().to_vec();
    assert_eq!(c.handle_receive(now, server(), &unsigned), None);
    let genuine = s.answer(&second).unwrap();
    assert_eq!(
        c.handle_receive(now, "192.0.2.99:3478".parse().unwrap(), &genuine),
        None
    );
    assert!(c.poll_event().is_none());
    assert!(!c.is_allocated());
    assert_eq!(c.rejected(), 4);

    c.handle_receive(now, server(), &genuine);
    assert!(c.is_allocated());
}

#[test]
fn refreshes_a_minute_before_expiry_or_halfway_through_short_lifetimes() {
    for (granted, refresh_at) in [(600, 540), (60, 30), (20, 10)] {
        let now = start();
        let mut s = FakeServer::new();
        s.lifetime = granted;
        let mut c = client(now, config());
        exchange(now, &mut c, &mut s);
        assert!(c.is_allocated());
        assert_eq!(c.poll_timeout(), Some(now + Duration::from_secs(refresh_at)));
        let mut t = now;
        for _ in 0..3 {
            t = c.poll_timeout().unwrap();
            c.handle_timeout(t);
            let (events, _) = exchange(t, &mut c, &mut s);
            assert_eq!(
                events,
                vec![TurnEvent::Refreshed {
                    lifetime: Duration::from_secs(u64::from(granted))
                }]
            );
        }
        assert_eq!(t, now + Duration::from_secs(3 * refresh_at));
        let refresh = Message::parse(s.requests.last().unwrap()).unwrap();
        assert_eq!(refresh.method(), Method::REFRESH);
        assert_eq!(
            refresh.get(AttributeType::LIFETIME),
            Some(Ok(Attribute::Lifetime(600)))
        );
    }
}

#[test]
fn refreshes_on_the_requested_lifetime_when_the_server_grants_more() {
    let now = start();
    let mut s = FakeServer::new();
    let mut config = config();
    config.lifetime = Duration::from_secs(30);
    let mut c = client(now, config);
    let (events, _) = exchange(now, &mut c, &mut s);
    assert!(
        matches!(events[..], [TurnEvent::Allocated { lifetime, .. }] if lifetime == Duration::from_secs(600))
    );
    assert_eq!(c.poll_timeout(), Some(now + Duration::from_secs(15)));
}

#[test]
fn a_silent_server_loses_the_allocation_at_expiry_or_refresh_timeout() {
    let now = start();
    let mut s = FakeServer::new();
    s.lifetime = 60;
    let mut c = allocated_with_lifetime(now, &mut s);
    let mut sent = 0;
    let mut t = now;
    while !c.is_done() {
        t = c.poll_timeout().unwrap();
        c.handle_timeout(t);
        while c.poll_transmit().is_some() {
            sent += 1;
        }
        assert!(t < now + Duration::from_secs(120));
    }
    assert_eq!(t, now + Duration::from_secs(60));
    assert!(sent >= 5, "the Refresh is retransmitted over UDP");
    assert_eq!(
        c.poll_event(),
        Some(TurnEvent::AllocationFailed(TurnError::Expired))
    );
}

fn allocated_with_lifetime(now: Instant, s: &mut FakeServer) -> TurnClient {
    let mut c = client(now, config());
    exchange(now, &mut c, s);
    assert!(c.is_allocated());
    c
}

#[test]
fn permission_send_indication_then_channel_data() {
    let now = start();
    let mut s = FakeServer::new();
    let mut c = allocated(now, &mut s);
    assert_eq!(c.send_to(peer(), b"x"), Err(TurnError::NoPermission));
    c.create_permission(now, peer().ip()).unwrap();
    let (events, _) = exchange(now, &mut c, &mut s);
    assert_eq!(events, vec![TurnEvent::PermissionCreated(peer().ip())]);
    assert!(c.has_permission(peer().ip()));

    c.send_to(peer(), b"hello").unwrap();
    let (_, data) = exchange(now, &mut c, &mut s);
    let send = Message::parse(&data[0]).unwrap();
    assert_eq!(
        send.message_type(),
        MessageType::new(Method::SEND, Class::Indication)
    );
    assert_eq!(
        send.get(AttributeType::XOR_PEER_ADDRESS),
        Some(Ok(Attribute::XorPeerAddress(peer())))
    );
    assert_eq!(send.get(AttributeType::DATA), Some(Ok(Attribute::Data(b"hello"))));

    let channel = c.bind_channel(now, peer()).unwrap();
    assert_eq!(channel, 0x4000);
    let (events, _) = exchange(now, &mut c, &mut s);
    assert_eq!(
        events,
        vec![TurnEvent::ChannelBound {
            peer: peer(),
            channel
        }]
    );
    let bind = Message::parse(s.requests.last().unwrap()).unwrap();
    assert_eq!(
        bind.get(AttributeType::CHANNEL_NUMBER),
        Some(Ok(Attribute::ChannelNumber(0x4000)))
    );
    c.send_to(peer(), b"hello").unwrap();
    let (_, data) = exchange(now, &mut c, &mut s);
    assert_eq!(data, vec![b"\x40\x00\x00\x05hello".to_vec()]);
}

#[test]
fn permissions_and_channels_are_refreshed_every_four_minutes() {
    let now = start();
    let mut s = FakeServer::new();
    let mut c = allocated(now, &mut s);
    c.create_permission(now, peer().ip()).unwrap();
    c.bind_channel(now, "203.0.113.10:1".parse().unwrap()).unwrap();
    exchange(now, &mut c, &mut s);
    let before = s.requests.len();
    let t = c.poll_timeout().unwrap();
    assert_eq!(t, now + Duration::from_secs(240));
    c.handle_timeout(t);
    let (events, _) = exchange(t, &mut c, &mut s);
    assert!(events.is_empty(), "refreshes are silent: {events:?}");
    let methods: Vec<Method> = s.requests[before..]
        .iter()
        .map(|r| Message::parse(r).unwrap().method())
        .collect();
    assert_eq!(methods.len(), 2);
    assert!(methods.contains(&Method::CREATE_PERMISSION) && methods.contains(&Method::CHANNEL_BIND));
    assert_eq!(c.poll_timeout(), Some(now + Duration::from_secs(480)));
}

fn data_indication(from: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 256];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::DATA, Class::Indication),
        TransactionId::new([9; 12]),
    )
    .unwrap();
    b.add(&Attribute::XorPeerAddress(from)).unwrap();
    b.add(&Attribute::Data(data)).unwrap();
    let n = b.len();
    buf.truncate(n);
    buf
}

#[test]
fn receives_data_indications_and_channel_data_from_known_peers_only() {
    let now = start();
    let mut s = FakeServer::new();
    let mut c = allocated(now, &mut s);
    let stranger: SocketAddr = "203.0.113.50:1".parse().unwrap();
    assert_eq!(
        c.handle_receive(now, server(), &data_indication(peer(), b"hi")),
        None
    );
    c.create_permission(now, peer().ip()).unwrap();
    exchange(now, &mut c, &mut s);
    let ind = data_indication(peer(), b"hi");
    assert_eq!(c.handle_receive(now, server(), &ind), Some((peer(), &b"hi"[..])));
    assert_eq!(
        c.handle_receive(now, server(), &data_indication(stranger, b"x")),
        None
    );

    assert_eq!(c.handle_receive(now, server(), b"\x40\x00\x00\x02ok"), None);
    c.bind_channel(now, peer()).unwrap();
    exchange(now, &mut c, &mut s);
    assert_eq!(
        c.handle_receive(now, server(), b"\x40\x00\x00\x02ok\x00\x00"),
        Some((peer(), &b"ok"[..]))
    );
    assert_eq!(c.handle_receive(now, server(), b"\x40\x01\x00\x02ok"), None);
    assert_eq!(c.rejected(), 4);
}

#[test]
fn close_deallocates_with_lifetime_zero() {
    let now = start();
    let mut s = FakeServer::new();
    let mut c = allocated(now, &mut s);
    c.close(now);
    let (events, _) = exchange(now, &mut c, &mut s);
    assert_eq!(events, vec![TurnEvent::Closed]);
    let refresh = Message::parse(s.requests.last().unwrap()).unwrap();
    assert_eq!(refresh.method(), Method::REFRESH);
    assert_eq!(
        refresh.get(AttributeType::LIFETIME),
        Some(Ok(Attribute::Lifetime(0)))
    );
    assert!(c.is_done());
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.send_to(peer(), b"x"), Err(TurnError::NotAllocated));
}

#[test]
fn tcp_sends_requests_once_and_pads_channel_data() {
    let now = start();
    let mut config = config();
    config.transport = TurnTransport::Tcp;
    let mut c = client(now, config);
    assert!(c.poll_transmit().is_some());
    let mut t = now;
    while let Some(at) = c.poll_timeout() {
        t = at;
        c.handle_timeout(at);
        assert!(c.poll_transmit().is_none(), "no retransmission over TCP");
    }
    assert_eq!(t, now + Duration::from_millis(39_500));
    assert_eq!(
        c.poll_event(),
        Some(TurnEvent::AllocationFailed(TurnError::Timeout {
            request: "Allocate"
        }))
    );
}

/// Runs the allocation over a stream, the server's bytes cut at `cuts`.
fn stream_allocation(cuts: &[usize]) -> (TurnClient, FakeServer) {
    let now = start();
    let mut config = config();
    config.transport = TurnTransport::Tcp;
    let mut c = client(now, config);
    let mut s = FakeServer::new();
    for _ in 0..2 {
        let req = c.poll_transmit().unwrap().contents.to_vec();
        let answer = s.answer(&req).unwrap();
        feed_in_pieces(now, &mut c, &answer, cuts);
    }
    assert!(c.is_allocated(), "{:?}", c.poll_event());
    (c, s)
}

fn feed_in_pieces(now: Instant, c: &mut TurnClient, mut bytes: &[u8], cuts: &[usize]) {
    for &cut in cuts {
        let n = cut.min(bytes.len());
        c.handle_stream(now, &bytes[..n]).unwrap();
        bytes = &bytes[n..];
    }
    c.handle_stream(now, bytes).unwrap();
}

#[test]
fn stream_framing_reassembles_messages_and_padded_channel_data() {
    let now = start();
    let (mut c, mut s) = stream_allocation(&[1, 3, 7]);
    assert!(matches!(c.poll_event(), Some(TurnEvent::Allocated { .. })));
    c.bind_channel(now, peer()).unwrap();
    let req = c.poll_transmit().unwrap().contents.to_vec();
    let mut bytes = s.answer(&req).unwrap();
    // Two padded ChannelData frames and a Data indication in one read.
    bytes.extend_from_slice(b"\x40\x00\x00\x03abc\x00\x40\x00\x00\x04wxyz");
    bytes.extend_from_slice(&data_indication(peer(), b"ind"));
    feed_in_pieces(now, &mut c, &bytes, &[5, 30]);
    let events: Vec<TurnEvent> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(
        events,
        vec![
            TurnEvent::ChannelBound {
                peer: peer(),
                channel: 0x4000
            },
            TurnEvent::Data {
                peer: peer(),
                data: b"abc".to_vec()
            },
            TurnEvent::Data {
                peer: peer(),
                data: b"wxyz".to_vec()
            },
            TurnEvent::Data {
                peer: peer(),
                data: b"ind".to_vec()
            },
        ]
    );
    c.send_to(peer(), b"abc").unwrap();
    assert_eq!(c.poll_transmit().unwrap().contents, b"\x40\x00\x00\x03abc\x00");
    assert_eq!(c.buffered(), 0);

    assert!(c.handle_stream(now, b"\x17\x03\x03").is_err());
    assert!(c.is_done());
}

#[test]
fn queues_and_tables_are_bounded() {
    let now = start();
    let mut s = FakeServer::new();
    let mut config = config();
    config.max_permissions = 2;
    config.max_channels = 1;
    let mut c = client(now, config);
    exchange(now, &mut c, &mut s);
    c.create_permission(now, "203.0.113.1".parse().unwrap()).unwrap();
    c.create_permission(now, "203.0.113.2".parse().unwrap()).unwrap();
    assert_eq!(
        c.create_permission(now, "203.0.113.3".parse().unwrap()),
        Err(TurnError::Limit("permissions"))
    );
    c.bind_channel(now, peer()).unwrap();
    assert_eq!(
        c.bind_channel(now, "203.0.113.1:1".parse().unwrap()),
        Err(TurnError::Limit("channels"))
    );
    assert_eq!(
        c.create_permission(now, "2001:db8::1".parse::<IpAddr>().unwrap()),
        Err(TurnError::PeerFamily)
    );
    exchange(now, &mut c, &mut s);
    for _ in 0..MAX_QUEUED_TRANSMITS {
        c.send_to(peer(), b"x").unwrap();
    }
    assert_eq!(c.send_to(peer(), b"x"), Err(TurnError::Limit("queued datagrams")));
}

proptest! {
    #[test]
    fn stream_cut_anywhere_allocates(cuts in proptest::collection::vec(0usize..40, 0..8)) {
        stream_allocation(&cuts);
    }

    #[test]
    fn arbitrary_datagrams_and_stream_bytes_never_panic(
        packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..20),
        stream in any::<bool>(),
    ) {
        let now = start();
        let mut s = FakeServer::new();
        let mut c = allocated(now, &mut s);
        c.create_permission(now, peer().ip()).unwrap();
        c.bind_channel(now, peer()).unwrap();
        exchange(now, &mut c, &mut s);
        for p in &packets {
            if stream {
                let _ = c.handle_stream(now, p);
            } else {
                let _ = c.handle_receive(now, server(), p);
            }
            prop_assert!(c.buffered() <= MAX_STREAM_BUFFER);
            while c.poll_transmit().is_some() {}
            while c.poll_event().is_some() {}
        }
    }
}

#[test]
fn channel_data_with_a_bad_length_is_dropped() {
    let now = start();
    let mut s = FakeServer::new();
    let mut c = allocated(now, &mut s);
    c.bind_channel(now, peer()).unwrap();
    exchange(now, &mut c, &mut s);
    let mut buf = [0u8; 16];
    let n = ChannelData::new(0x4000, b"abcd")
        .unwrap()
        .encode(&mut buf, false)
        .unwrap();
    assert!(c.handle_receive(now, server(), &buf[..n]).is_some());
    assert_eq!(c.handle_receive(now, server(), &buf[..n - 1]), None);
}

mod tls {
    use std::io::{Read, Write};
    use std::sync::Arc;

    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

    use super::*;

    fn configs() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
        let certified = rcgen::generate_simple_self_signed(vec!["turn.example".into()]).unwrap();
        let der: CertificateDer<'static> = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![der.clone()], key)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (Arc::new(server), Arc::new(client))
    }

    /// Runs the client against the fake server behind a rustls server;
    /// returns the events.
    fn run(c: &mut TurnClient, tls: &mut rustls::ServerConnection, s: &mut FakeServer) -> Vec<TurnEvent> {
        let now = start();
        let mut plain = Vec::new();
        let mut events = Vec::new();
        for _ in 0..20 {
            while let Some(t) = c.poll_transmit() {
                let mut bytes = t.contents;
                while !bytes.is_empty() {
                    tls.read_tls(&mut bytes).unwrap();
                    if tls.process_new_packets().is_err() {
                        break;
                    }
                }
            }
            let _ = tls.reader().read_to_end(&mut plain);
            while let Some(len) = rtcwire_stun::stream_message_len(&plain).filter(|&n| plain.len() >= n) {
                let msg: Vec<u8> = plain.drain(..len).collect();
                if let Some(answer) = s.answer(&msg) {
                    tls.writer().write_all(&answer).unwrap();
                }
            }
            let mut out = Vec::new();
            while tls.wants_write() {
                tls.write_tls(&mut out).unwrap();
            }
            if !out.is_empty() {
                let _ = c.handle_stream(now, &out);
            }
            events.extend(std::iter::from_fn(|| c.poll_event()));
        }
        events
    }

    /// A TLS client checking the certificate of `turn.example` for `name`,
    /// and the server end with that certificate.
    fn tls_pair(name: &'static str) -> (TurnClient, rustls::ServerConnection) {
        let (server_config, client_config) = configs();
        let name = ServerName::try_from(name).unwrap();
        let c = TurnClient::new_tls(
            start(),
            &mut StdRng::seed_from_u64(1),
            config(),
            client_config,
            name,
        )
        .unwrap();
        (c, rustls::ServerConnection::new(server_config).unwrap())
    }

    #[test]
    fn allocates_through_rustls() {
        let (mut c, mut tls) = tls_pair("turn.example");
        let mut s = FakeServer::new();
        let events = run(&mut c, &mut tls, &mut s);
        assert!(
            matches!(events[..], [TurnEvent::Allocated { relayed: r, .. }] if r == relayed()),
            "{events:?}"
        );
        assert_eq!(s.requests.len(), 2);
        c.close(start());
        let events = run(&mut c, &mut tls, &mut s);
        assert_eq!(events, vec![TurnEvent::Closed]);
    }

    #[test]
    fn a_certificate_for_another_name_fails_saying_so() {
        let (mut c, mut tls) = tls_pair("other.example");
        let events = run(&mut c, &mut tls, &mut FakeServer::new());
        assert_eq!(
            events,
            vec![TurnEvent::AllocationFailed(TurnError::Tls(
                "the server's certificate was rejected"
            ))]
        );
    }
}

#[test]
fn tls_bytes_after_close_or_failure_are_ignored() {
    // Found by the fuzzer: feeding rustls again after it sent a fatal alert
    // trips its debug assertion.
    use std::sync::Arc;
    let now = start();
    let new_client = || {
        let tls =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("turn.example").unwrap();
        TurnClient::new_tls(now, &mut StdRng::seed_from_u64(1), config(), Arc::new(tls), name).unwrap()
    };
    let garbage = b"\xa3\x3f\x79\x1d";
    let mut c = new_client();
    c.close(now);
    assert_eq!(c.handle_stream(now, garbage), Ok(()));
    assert_eq!(c.handle_stream(now, garbage), Ok(()));
    let mut c = new_client();
    assert!(c.handle_stream(now, garbage).is_err());
    assert_eq!(c.handle_stream(now, garbage), Ok(()));
    assert!(c.is_done());
}
