//! A crafted malformed-input corpus: every truncation, every corrupted length
//! field, every single-bit flip and every byte value in the header and first
//! attributes of several valid messages. None may panic; each must either
//! parse into a message whose every accessor works, or fail with an error.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use rtcwire_stun::{
    Attribute, BindingResponder, ChannelData, Class, IntegrityKey, Message, MessageBuilder, MessageType,
    Method, TransactionId,
};

fn valid_messages() -> Vec<Vec<u8>> {
    let key = IntegrityKey::short_term("password-password");
    let mut out = Vec::new();
    let mut buf = [0u8; 512];

    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId::new([1; 12]),
    )
    .unwrap();
    b.add(&Attribute::Username("abcd:efgh")).unwrap();
    b.add(&Attribute::Priority(0x6e7f00ff)).unwrap();
    b.add(&Attribute::IceControlling(42)).unwrap();
    b.add(&Attribute::UseCandidate).unwrap();
    b.add_message_integrity(&key).unwrap();
    b.add_fingerprint().unwrap();
    out.push(b.finish().to_vec());

    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_SUCCESS,
        TransactionId::new([2; 12]),
    )
    .unwrap();
    b.add(&Attribute::XorMappedAddress("[2001:db8::7]:9".parse().unwrap()))
        .unwrap();
    b.add(&Attribute::Software("x")).unwrap();
    b.add_message_integrity(&key).unwrap();
    b.add_message_integrity_sha256(&key).unwrap();
    b.add_fingerprint().unwrap();
    out.push(b.finish().to_vec());

    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::ALLOCATE, Class::Error),
        TransactionId::new([3; 12]),
    )
    .unwrap();
    b.add(&Attribute::ErrorCode(rtcwire_stun::ErrorCode::UNAUTHENTICATED))
        .unwrap();
    b.add(&Attribute::Realm("realm")).unwrap();
    b.add(&Attribute::Nonce("nonce-123")).unwrap();
    b.add_unknown_attributes(&[rtcwire_stun::AttributeType::new(0x7f00)])
        .unwrap();
    b.add_password_algorithms(&[rtcwire_stun::PasswordAlgorithm {
        algorithm: rtcwire_stun::PasswordAlgorithmId::SHA256,
        parameters: &[],
    }])
    .unwrap();
    out.push(b.finish().to_vec());

    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::SEND, Class::Indication),
        TransactionId::new([4; 12]),
    )
    .unwrap();
    b.add(&Attribute::XorPeerAddress("192.0.2.9:3000".parse().unwrap()))
        .unwrap();
    b.add(&Attribute::Data(b"hello, relay")).unwrap();
    b.add(&Attribute::DontFragment).unwrap();
    out.push(b.finish().to_vec());
    out
}

/// Runs every public entry point on `bytes`.
fn exercise(bytes: &[u8]) {
    let key = IntegrityKey::short_term("password-password");
    if let Ok(msg) = Message::parse(bytes) {
        for attr in msg.attributes().flatten() {
            let _ = attr.attr_type();
        }
        let _ = msg.raw_attributes().count();
        let _ = msg.unknown_comprehension_required().count();
        let _ = msg.verify_fingerprint();
        let _ = msg.verify_integrity(&key);
        let _ = msg.verify_message_integrity(&key);
        let _ = msg.verify_message_integrity_sha256(&key);
        let _ = format!("{msg:?}");
        let _ = rtcwire_stun::mapped_address(&msg);
    }
    let _ = ChannelData::parse(bytes);
    let _ = rtcwire_stun::is_stun(bytes);
    let _ = rtcwire_stun::stream_message_len(bytes);
    let source: SocketAddr = "192.0.2.1:1".parse().unwrap();
    let mut out = [0u8; 1500];
    let _ = BindingResponder::new().respond(bytes, source, &mut out);
    let _ = BindingResponder::new()
        .short_term_credentials("abcd:efgh", "password-password")
        .respond(bytes, source, &mut out);
}

#[test]
fn crafted_malformed_corpus_never_panics() {
    let mut cases = 0u64;
    for msg in valid_messages() {
        exercise(&msg);
        // Every truncation.
        for len in 0..msg.len() {
            exercise(&msg[..len]);
            cases += 1;
        }
        // Every bit flip.
        for i in 0..msg.len() {
            for bit in 0..8 {
                let mut m = msg.clone();
                m[i] ^= 1 << bit;
                exercise(&m);
                cases += 1;
            }
        }
        // Every value of each byte of the header and the first attribute
        // headers (types, lengths).
        for i in 0..msg.len().min(48) {
            for v in 0..=255u8 {
                let mut m = msg.clone();
                m[i] = v;
                exercise(&m);
                cases += 1;
            }
        }
        // Extra bytes appended, with the header length fixed up or not.
        for extra in 1..12 {
            let mut m = msg.clone();
            m.extend(std::iter::repeat_n(0xa5, extra));
            exercise(&m);
            let len = (m.len() - 20) as u16;
            m[2..4].copy_from_slice(&len.to_be_bytes());
            exercise(&m);
            cases += 2;
        }
    }
    assert!(cases > 20_000, "corpus too small: {cases}");
}

#[test]
fn tampering_is_always_detected() {
    // Any single-bit change to a signed message is caught by FINGERPRINT or
    // MESSAGE-INTEGRITY (or makes the message unparsable).
    let key = IntegrityKey::short_term("password-password");
    for msg in valid_messages().into_iter().take(2) {
        for i in 0..msg.len() {
            for bit in 0..8 {
                let mut m = msg.clone();
                m[i] ^= 1 << bit;
                if let Ok(parsed) = Message::parse(&m) {
                    let intact = parsed.verify_fingerprint().is_ok() && parsed.verify_integrity(&key).is_ok();
                    assert!(!intact, "flip of bit {bit} in byte {i} went unnoticed");
                }
            }
        }
    }
}
