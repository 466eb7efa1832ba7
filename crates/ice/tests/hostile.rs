//! Hostile input: nothing unauthenticated changes the agent, every table is
//! capped, answers are rate-limited, and arbitrary bytes never panic it.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rtcwire_ice::{Credentials, IceAgent, IceConfig, IceRole};
use rtcwire_stun::{
    Attribute, AttributeType, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId,
};

const LOCAL: &str = "192.0.2.1:5000";

fn agent(config: IceConfig) -> (IceAgent, Instant) {
    let now = Instant::now();
    let mut a = IceAgent::new(
        IceConfig {
            seed: Some(1),
            ..config
        },
        IceRole::Controlled,
    );
    a.add_host_candidate(now, LOCAL.parse().unwrap()).unwrap();
    a.set_remote_credentials(
        now,
        Credentials {
            ufrag: "peer".into(),
            pwd: "peerpassword0123456789ab".into(),
        },
    )
    .unwrap();
    while a.poll_event().is_some() {}
    while a.poll_transmit().is_some() {}
    (a, now)
}

/// A check as the peer would send it, signed with `pwd`.
fn check(username: Option<&str>, pwd: Option<&str>, priority: u32, tid: u8) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId::new([tid; 12]),
    )
    .unwrap();
    if let Some(u) = username {
        b.add(&Attribute::Username(u)).unwrap();
    }
    b.add(&Attribute::Priority(priority)).unwrap();
    b.add(&Attribute::IceControlling(7)).unwrap();
    if let Some(p) = pwd {
        b.add_message_integrity(&IntegrityKey::short_term(p)).unwrap();
    }
    b.add_fingerprint().unwrap();
    b.finish().to_vec()
}

fn error_code(bytes: &[u8]) -> Option<u16> {
    match Message::parse(bytes).unwrap().get(AttributeType::ERROR_CODE) {
        Some(Ok(Attribute::ErrorCode(e))) => Some(e.code),
        _ => None,
    }
}

#[test]
fn unauthenticated_requests_create_no_state() {
    let (mut a, now) = agent(IceConfig::default());
    let ufrag = a.local_credentials().ufrag.clone();
    let pwd = a.local_credentials().pwd.clone();
    let local: SocketAddr = LOCAL.parse().unwrap();
    let src: SocketAddr = "203.0.113.9:4000".parse().unwrap();
    let cases = [
        (
            check(
                Some(&format!("{ufrag}:peer")),
                Some("wrong-password-0123456789"),
                1,
                1,
            ),
            Some(401),
        ),
        (check(Some("someoneelse:peer"), Some(&pwd), 1, 2), Some(401)),
        (check(None, Some(&pwd), 1, 3), Some(400)),
        (check(Some(&format!("{ufrag}:peer")), None, 1, 4), Some(400)),
    ];
    for (request, code) in cases {
        assert!(a.handle_receive(now, src, local, &request));
        let answer = a.poll_transmit().expect("an error answer");
        assert_eq!(answer.destination, src);
        assert_eq!(error_code(&answer.contents), code);
    }
    assert!(
        a.remote_candidates().is_empty(),
        "no peer-reflexive candidate from a stranger"
    );
    assert!(a.pairs().is_empty());
    assert_eq!(a.stats().unauthenticated, 4);
    assert!(a.poll_transmit().is_none());

    // The same request, properly signed, is answered and learned.
    let good = check(Some(&format!("{ufrag}:peer")), Some(&pwd), 99, 5);
    assert!(a.handle_receive(now, src, local, &good));
    let answer = a.poll_transmit().unwrap();
    let msg = Message::parse(&answer.contents).unwrap();
    msg.verify_integrity(&IntegrityKey::short_term(&pwd)).unwrap();
    assert_eq!(rtcwire_stun::mapped_address(&msg), Some(src));
    assert_eq!(a.remote_candidates().len(), 1);
    assert_eq!(a.remote_candidates()[0].priority(), 99);
}

#[test]
fn tables_are_capped_and_answers_rate_limited() {
    let (mut a, now) = agent(IceConfig {
        max_remote_candidates: 8,
        max_pairs: 8,
        max_responses_per_second: 50,
        ..IceConfig::default()
    });
    let ufrag = a.local_credentials().ufrag.clone();
    let pwd = a.local_credentials().pwd.clone();
    let local: SocketAddr = LOCAL.parse().unwrap();
    let mut answers = 0;
    // 1000 authenticated checks from 1000 addresses within one second.
    for i in 0..1000u32 {
        let src = SocketAddr::from(([198, 51, (i / 250) as u8, (i % 250) as u8 + 1], 1000 + i as u16));
        let t = now + Duration::from_micros(u64::from(i) * 900);
        a.handle_receive(
            t,
            src,
            local,
            &check(Some(&format!("{ufrag}:peer")), Some(&pwd), 1, (i % 250) as u8),
        );
        while let Some(tx) = a.poll_transmit() {
            if Message::parse(&tx.contents).unwrap().class() != rtcwire_stun::Class::Request {
                answers += 1;
            }
        }
    }
    assert_eq!(a.remote_candidates().len(), 8);
    assert!(a.pairs().len() <= 8);
    assert_eq!(answers, 50, "at most 50 answers in that second");
    assert!(a.stats().rate_limited >= 950);
    assert!(a.stats().capped > 0);
}

#[test]
fn responses_to_nothing_are_ignored() {
    let (mut a, now) = agent(IceConfig::default());
    let local: SocketAddr = LOCAL.parse().unwrap();
    let mut buf = [0u8; 64];
    let resp = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_SUCCESS,
        TransactionId::new([9; 12]),
    )
    .unwrap()
    .finish()
    .to_vec();
    assert!(a.handle_receive(now, "203.0.113.1:1".parse().unwrap(), local, &resp));
    assert_eq!(a.stats().unmatched_responses, 1);
    assert!(a.pairs().is_empty() && a.remote_candidates().is_empty());
    // Not STUN: left for the caller.
    assert!(!a.handle_receive(now, "203.0.113.1:1".parse().unwrap(), local, &[22, 0xfe, 0xfd]));
}

proptest! {
    /// Arbitrary datagrams and timeouts never panic the agent, and its
    /// tables stay within their caps.
    #[test]
    fn arbitrary_datagrams_never_panic(
        packets in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..200), any::<u16>(), 0u64..3000), 0..50),
        stunlike in any::<bool>(),
    ) {
        let (mut a, start) = agent(IceConfig { max_remote_candidates: 4, max_pairs: 4, ..IceConfig::default() });
        let local: SocketAddr = LOCAL.parse().unwrap();
        let mut now = start;
        for (mut p, port, dt) in packets {
            if stunlike && p.len() >= 20 {
                // Make it look like STUN so it gets past the first checks.
                p[0] &= 0x01;
                p[4..8].copy_from_slice(&0x2112_A442u32.to_be_bytes());
                let len = ((p.len() - 20) & !3) as u16;
                p.truncate(20 + usize::from(len));
                p[2..4].copy_from_slice(&len.to_be_bytes());
            }
            now += Duration::from_millis(dt);
            a.handle_receive(now, SocketAddr::from(([203, 0, 113, 1], port)), local, &p);
            if a.poll_timeout().is_some_and(|t| t <= now) {
                a.handle_timeout(now);
            }
            while a.poll_transmit().is_some() {}
            while a.poll_event().is_some() {}
        }
        prop_assert!(a.remote_candidates().len() <= 4);
        prop_assert!(a.pairs().len() <= 4);
    }
}
