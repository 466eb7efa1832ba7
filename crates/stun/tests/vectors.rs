//! RFC 5769 test vectors, malformed input, and round trips.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use proptest::prelude::*;

use rtcwire_stun::*;

const SHORT_TERM_PASSWORD: &str = "VOkJxbRl1RmTxUk/WvJxBt";

/// RFC 5769 section 2.1: sample request (note the SOFTWARE-less padding of
/// USERNAME with spaces, which receivers must ignore).
const RFC5769_REQUEST: &[u8] =
    b"\x00\x01\x00\x58\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae\
\x80\x22\x00\x10STUN test client\
\x00\x24\x00\x04\x6e\x00\x01\xff\
\x80\x29\x00\x08\x93\x2f\xf9\xb1\x51\x26\x3b\x36\
\x00\x06\x00\x09\x65\x76\x74\x6a\x3a\x68\x36\x76\x59\x20\x20\x20\
\x00\x08\x00\x14\x9a\xea\xa7\x0c\xbf\xd8\xcb\x56\x78\x1e\xf2\xb5\xb2\xd3\xf2\x49\xc1\xb5\x71\xa2\
\x80\x28\x00\x04\xe5\x7a\x3b\xcf";

/// RFC 5769 section 2.2: sample IPv4 response.
const RFC5769_RESPONSE_V4: &[u8] =
    b"\x01\x01\x00\x3c\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae\
\x80\x22\x00\x0b\x74\x65\x73\x74\x20\x76\x65\x63\x74\x6f\x72\x20\
\x00\x20\x00\x08\x00\x01\xa1\x47\xe1\x12\xa6\x43\
\x00\x08\x00\x14\x2b\x91\xf5\x99\xfd\x9e\x90\xc3\x8c\x74\x89\xf9\x2a\xf9\xba\x53\xf0\x6b\xe7\xd7\
\x80\x28\x00\x04\xc0\x7d\x4c\x96";

/// RFC 5769 section 2.3: sample IPv6 response.
const RFC5769_RESPONSE_V6: &[u8] =
    b"\x01\x01\x00\x48\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae\
\x80\x22\x00\x0b\x74\x65\x73\x74\x20\x76\x65\x63\x74\x6f\x72\x20\
\x00\x20\x00\x14\x00\x02\xa1\x47\x01\x13\xa9\xfa\xa5\xd3\xf1\x79\xbc\x25\xf4\xb5\xbe\xd2\xb9\xd9\
\x00\x08\x00\x14\xa3\x82\x95\x4e\x4b\xe6\x7b\xf1\x17\x84\xc9\x7c\x82\x92\xc2\x75\xbf\xe3\xed\x41\
\x80\x28\x00\x04\xc8\xfb\x0b\x4c";

/// RFC 5769 section 2.4: sample request with long-term authentication.
const RFC5769_LONG_TERM: &[u8] = b"\x00\x01\x00\x60\x21\x12\xa4\x42\x78\xad\x34\x33\xc6\xad\x72\xc0\x29\xda\x41\x2e\
\x00\x06\x00\x12\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9\x00\x00\
\x00\x15\x00\x1c\x66\x2f\x2f\x34\x39\x39\x6b\x39\x35\x34\x64\x36\x4f\x4c\x33\x34\x6f\x4c\x39\x46\x53\x54\x76\x79\x36\x34\x73\x41\
\x00\x14\x00\x0b\x65\x78\x61\x6d\x70\x6c\x65\x2e\x6f\x72\x67\x00\
\x00\x08\x00\x14\xf6\x70\x24\x65\x6d\xd6\x4a\x3e\x02\xb8\xe0\x71\x2e\x85\xc9\xa2\x8c\xa8\x96\x66";

const MATRIX: &str = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";

fn attrs<'a>(msg: &Message<'a>) -> Vec<Attribute<'a>> {
    msg.attributes().collect::<Result<_, _>>().unwrap()
}

#[test]
fn rfc5769_request() {
    let msg = Message::parse(RFC5769_REQUEST).unwrap();
    assert_eq!(msg.message_type(), MessageType::BINDING_REQUEST);
    assert_eq!(
        msg.transaction_id(),
        TransactionId::new([
            0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae
        ])
    );
    msg.verify_fingerprint().unwrap();
    msg.verify_integrity(&IntegrityKey::short_term(SHORT_TERM_PASSWORD))
        .unwrap();
    assert_eq!(
        msg.verify_integrity(&IntegrityKey::short_term("wrong")),
        Err(Error::BadIntegrity)
    );
    let a = attrs(&msg);
    assert_eq!(a[0], Attribute::Software("STUN test client"));
    assert_eq!(a[1], Attribute::Priority(0x6e0001ff));
    assert_eq!(a[2], Attribute::IceControlled(0x932ff9b151263b36));
    assert_eq!(a[3], Attribute::Username("evtj:h6vY"));
    assert!(matches!(a[4], Attribute::MessageIntegrity(_)));
    assert_eq!(a[5], Attribute::Fingerprint(0xe57a3bcf));
    assert_eq!(a.len(), 6);
    assert_eq!(msg.unknown_comprehension_required().count(), 0);
}

#[test]
fn rfc5769_ipv4_response() {
    let msg = Message::parse(RFC5769_RESPONSE_V4).unwrap();
    assert_eq!(msg.message_type(), MessageType::BINDING_SUCCESS);
    msg.verify_fingerprint().unwrap();
    msg.verify_integrity(&IntegrityKey::short_term(SHORT_TERM_PASSWORD))
        .unwrap();
    assert_eq!(
        msg.get(AttributeType::SOFTWARE),
        Some(Ok(Attribute::Software("test vector")))
    );
    assert_eq!(mapped_address(&msg), Some("192.0.2.1:32853".parse().unwrap()));
}

#[test]
fn rfc5769_ipv6_response() {
    let msg = Message::parse(RFC5769_RESPONSE_V6).unwrap();
    msg.verify_fingerprint().unwrap();
    msg.verify_integrity(&IntegrityKey::short_term(SHORT_TERM_PASSWORD))
        .unwrap();
    assert_eq!(
        mapped_address(&msg),
        Some("[2001:db8:1234:5678:11:2233:4455:6677]:32853".parse().unwrap())
    );
}

#[test]
fn rfc5769_long_term_request_parses_and_rebuilds_byte_for_byte() {
    let msg = Message::parse(RFC5769_LONG_TERM).unwrap();
    let key = IntegrityKey::long_term(MATRIX, "example.org", "TheMatrIX");
    msg.verify_integrity(&key).unwrap();
    assert!(!msg.has_fingerprint());
    assert_eq!(msg.verify_fingerprint(), Err(Error::MissingFingerprint));
    assert_eq!(
        attrs(&msg)[..3],
        [
            Attribute::Username(MATRIX),
            Attribute::Nonce("f//499k954d6OL34oL9FSTvy64sA"),
            Attribute::Realm("example.org"),
        ]
    );

    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, msg.transaction_id()).unwrap();
    b.add(&Attribute::Username(MATRIX)).unwrap();
    b.add(&Attribute::Nonce("f//499k954d6OL34oL9FSTvy64sA")).unwrap();
    b.add(&Attribute::Realm("example.org")).unwrap();
    b.add_message_integrity(&key).unwrap();
    assert_eq!(b.finish(), RFC5769_LONG_TERM);
}

#[test]
fn rfc5769_request_rebuilt_verifies_with_same_fingerprint_semantics() {
    // Rebuilding the request with zero padding changes the bytes covered by
    // the HMAC, so compare attribute by attribute and check both MACs.
    let msg = Message::parse(RFC5769_REQUEST).unwrap();
    let key = IntegrityKey::short_term(SHORT_TERM_PASSWORD);
    let mut buf = [0u8; 256];
    let rebuilt = reemit(&msg, &mut buf, Some(&key));
    let again = Message::parse(rebuilt).unwrap();
    again.verify_integrity(&key).unwrap();
    again.verify_fingerprint().unwrap();
    let a = attrs(&msg);
    let b = attrs(&again);
    assert_eq!(a[..4], b[..4]);
}

/// Copies every visible attribute of `msg` except integrity and fingerprint
/// into a new message, then signs it again.
fn reemit<'b>(msg: &Message<'_>, buf: &'b mut [u8], key: Option<&IntegrityKey>) -> &'b [u8] {
    let mut b = MessageBuilder::new(buf, msg.message_type(), msg.transaction_id()).unwrap();
    let mut fingerprint = false;
    for attr in msg.attributes() {
        match attr.unwrap() {
            Attribute::MessageIntegrity(_) | Attribute::MessageIntegritySha256(_) => {}
            Attribute::Fingerprint(_) => fingerprint = true,
            other => b.add(&other).unwrap(),
        }
    }
    if let Some(key) = key {
        b.add_message_integrity(key).unwrap();
    }
    if fingerprint {
        b.add_fingerprint().unwrap();
    }
    b.finish()
}

#[test]
fn message_integrity_sha256_and_sha256_password_algorithm() {
    let key = IntegrityKey::long_term_sha256("user", "realm", "pass");
    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::ALLOCATE, Class::Request),
        TransactionId::new([5; 12]),
    )
    .unwrap();
    b.add(&Attribute::RequestedTransport(17)).unwrap();
    b.add(&Attribute::PasswordAlgorithm(PasswordAlgorithm {
        algorithm: PasswordAlgorithmId::SHA256,
        parameters: &[],
    }))
    .unwrap();
    b.add_message_integrity(&key).unwrap();
    b.add_message_integrity_sha256(&key).unwrap();
    b.add_fingerprint().unwrap();
    let bytes = b.finish().to_vec();
    let msg = Message::parse(&bytes).unwrap();
    msg.verify_message_integrity(&key).unwrap();
    msg.verify_message_integrity_sha256(&key).unwrap();
    msg.verify_integrity(&key).unwrap();
    msg.verify_fingerprint().unwrap();

    let other = IntegrityKey::long_term("user", "realm", "pass");
    assert_eq!(
        msg.verify_message_integrity_sha256(&other),
        Err(Error::BadIntegrity)
    );

    // Flip one bit in the covered part: both checks fail.
    let mut tampered = bytes.clone();
    tampered[24] ^= 1;
    let msg = Message::parse(&tampered).unwrap();
    assert_eq!(msg.verify_message_integrity(&key), Err(Error::BadIntegrity));
    assert_eq!(
        msg.verify_message_integrity_sha256(&key),
        Err(Error::BadIntegrity)
    );
    assert_eq!(msg.verify_fingerprint(), Err(Error::BadFingerprint));
}

#[test]
fn attributes_after_integrity_are_hidden_except_fingerprint() {
    let key = IntegrityKey::short_term("pw");
    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId::new([1; 12]),
    )
    .unwrap();
    b.add(&Attribute::Priority(7)).unwrap();
    b.add_message_integrity(&key).unwrap();
    let mut bytes = b.finish().to_vec();
    // An attacker appends USE-CANDIDATE after MESSAGE-INTEGRITY, then a
    // valid FINGERPRINT.
    bytes.extend_from_slice(&[0x00, 0x25, 0x00, 0x00]);
    let len = (bytes.len() - 20 + 8) as u16;
    bytes[2..4].copy_from_slice(&len.to_be_bytes());
    let crc = crc32fast::hash(&bytes) ^ 0x5354_554e;
    bytes.extend_from_slice(&[0x80, 0x28, 0x00, 0x04]);
    bytes.extend_from_slice(&crc.to_be_bytes());

    let msg = Message::parse(&bytes).unwrap();
    msg.verify_fingerprint().unwrap();
    msg.verify_integrity(&key).unwrap();
    assert!(!msg.contains(AttributeType::USE_CANDIDATE));
    let types: Vec<_> = msg.attributes().map(|a| a.unwrap().attr_type()).collect();
    assert_eq!(
        types,
        [
            AttributeType::PRIORITY,
            AttributeType::MESSAGE_INTEGRITY,
            AttributeType::FINGERPRINT
        ]
    );
}

#[test]
fn unknown_attributes_are_kept_and_reported() {
    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId::new([2; 12]),
    )
    .unwrap();
    // Chrome's GOOG-NETWORK-INFO: comprehension-optional, kept and ignored.
    b.add_raw(AttributeType::new(0xC057), &[0, 1, 0, 10]).unwrap();
    b.add_raw(AttributeType::new(0x7777), b"x").unwrap();
    b.add_raw(AttributeType::new(0x0003), b"").unwrap();
    let bytes = b.finish().to_vec();
    let msg = Message::parse(&bytes).unwrap();
    let unknown: Vec<_> = msg.unknown_comprehension_required().collect();
    assert_eq!(unknown, [AttributeType::new(0x7777), AttributeType::new(0x0003)]);
    assert_eq!(
        msg.get(AttributeType::new(0xC057)),
        Some(Ok(Attribute::Unknown {
            attr_type: AttributeType::new(0xC057),
            value: &[0, 1, 0, 10]
        }))
    );

    // The responder answers 420 and lists them.
    let mut out = [0u8; 256];
    let n = BindingResponder::new()
        .respond(&bytes, "10.0.0.1:5000".parse().unwrap(), &mut out)
        .unwrap()
        .unwrap();
    let resp = Message::parse(&out[..n]).unwrap();
    assert_eq!(resp.message_type(), MessageType::BINDING_ERROR);
    assert_eq!(
        resp.get(AttributeType::ERROR_CODE),
        Some(Ok(Attribute::ErrorCode(ErrorCode::UNKNOWN_ATTRIBUTE)))
    );
    let Some(Ok(Attribute::UnknownAttributes(list))) = resp.get(AttributeType::UNKNOWN_ATTRIBUTES) else {
        panic!("no UNKNOWN-ATTRIBUTES in {resp:?}");
    };
    assert_eq!(list.iter().collect::<Vec<_>>(), unknown);
}

#[test]
fn responder_with_short_term_credentials() {
    let responder = BindingResponder::new().short_term_credentials("a:b", "secret");
    let source: SocketAddr = "[2001:db8::1]:4444".parse().unwrap();
    let build = |username: Option<&str>, password: Option<&str>| {
        let mut buf = [0u8; 256];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::BINDING_REQUEST,
            TransactionId::new([4; 12]),
        )
        .unwrap();
        if let Some(u) = username {
            b.add(&Attribute::Username(u)).unwrap();
        }
        if let Some(p) = password {
            b.add_message_integrity(&IntegrityKey::short_term(p)).unwrap();
        }
        b.add_fingerprint().unwrap();
        b.finish().to_vec()
    };
    let answer = |req: Vec<u8>| {
        let mut out = [0u8; 256];
        let n = responder.respond(&req, source, &mut out).unwrap().unwrap();
        out[..n].to_vec()
    };
    let code = |resp: &[u8]| match Message::parse(resp).unwrap().get(AttributeType::ERROR_CODE) {
        Some(Ok(Attribute::ErrorCode(e))) => Some(e.code),
        _ => None,
    };

    let ok = answer(build(Some("a:b"), Some("secret")));
    let msg = Message::parse(&ok).unwrap();
    assert_eq!(msg.class(), Class::Success);
    msg.verify_integrity(&IntegrityKey::short_term("secret")).unwrap();
    msg.verify_fingerprint().unwrap();
    assert_eq!(mapped_address(&msg), Some(source));

    assert_eq!(code(&answer(build(Some("a:b"), Some("wrong")))), Some(401));
    assert_eq!(code(&answer(build(Some("x:y"), Some("secret")))), Some(401));
    assert_eq!(code(&answer(build(Some("a:b"), None))), Some(400));
    assert_eq!(code(&answer(build(None, Some("secret")))), Some(400));
}

#[test]
fn responder_ignores_indications_and_drops_garbage() {
    let responder = BindingResponder::new();
    let mut buf = [0u8; 64];
    let ind = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_INDICATION,
        TransactionId::new([0; 12]),
    )
    .unwrap()
    .finish()
    .to_vec();
    let mut out = [0u8; 64];
    let src = "1.2.3.4:5".parse().unwrap();
    assert_eq!(responder.respond(&ind, src, &mut out), Ok(None));
    assert!(responder.respond(b"\x16\xfe\xfd", src, &mut out).is_err());
    let mut bad = RFC5769_REQUEST.to_vec();
    *bad.last_mut().unwrap() ^= 0xff;
    assert_eq!(responder.respond(&bad, src, &mut out), Err(Error::BadFingerprint));
}

#[test]
fn malformed_input_gives_precise_errors() {
    let good = RFC5769_RESPONSE_V4;
    assert_eq!(Message::parse(&good[..19]), Err(Error::TooShort { len: 19 }));
    assert_eq!(Message::parse(&[]), Err(Error::TooShort { len: 0 }));

    let mut m = good.to_vec();
    m[0] |= 0x80;
    assert_eq!(Message::parse(&m), Err(Error::NotStun));

    let mut m = good.to_vec();
    m[4] = 0;
    assert_eq!(Message::parse(&m), Err(Error::BadMagicCookie(0x0012a442)));

    let mut m = good.to_vec();
    m[3] = 0x3d;
    assert_eq!(Message::parse(&m), Err(Error::LengthNotMultipleOf4(0x3d)));

    assert_eq!(
        Message::parse(&good[..good.len() - 4]),
        Err(Error::LengthMismatch {
            declared: 0x3c,
            actual: 0x38
        })
    );

    // An attribute whose length runs past the end.
    let mut m = good.to_vec();
    m[22..24].copy_from_slice(&0x00ffu16.to_be_bytes());
    assert_eq!(
        Message::parse(&m),
        Err(Error::AttributeOverrun {
            attr_type: 0x8022,
            offset: 20
        })
    );

    // A value that fits but whose padding does not: the last attribute
    // declares 5 value bytes in a 8-byte slot... built by hand.
    let mut m = Vec::from(&good[..20]);
    m.extend_from_slice(&[0x80, 0x22, 0x00, 0x05, b'a', b'b', b'c', b'd', b'e']);
    m.extend_from_slice(&[0, 0, 0]);
    m[2..4].copy_from_slice(&12u16.to_be_bytes());
    m.truncate(20 + 12);
    let mut short = m.clone();
    short.truncate(20 + 9 + 3);
    assert!(Message::parse(&short).is_ok());
    let mut m = Vec::from(&good[..20]);
    m.extend_from_slice(&[0x80, 0x22, 0x00, 0x05, b'a', b'b', b'c', b'd']);
    m[2..4].copy_from_slice(&8u16.to_be_bytes());
    assert_eq!(
        Message::parse(&m),
        Err(Error::AttributeOverrun {
            attr_type: 0x8022,
            offset: 20
        })
    );
    let mut m = Vec::from(&good[..20]);
    m.extend_from_slice(&[
        0x80, 0x22, 0x00, 0x03, b'a', b'b', b'c', 0, 0x00, 0x24, 0x00, 0x05, 1, 2, 3, 4,
    ]);
    m[2..4].copy_from_slice(&16u16.to_be_bytes());
    assert_eq!(
        Message::parse(&m),
        Err(Error::AttributeOverrun {
            attr_type: 0x0024,
            offset: 28
        })
    );

    // Something after FINGERPRINT.
    let mut m = good.to_vec();
    m.extend_from_slice(&[0x80, 0x22, 0x00, 0x00]);
    let len = (m.len() - 20) as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(Message::parse(&m), Err(Error::FingerprintNotLast));

    // Bad fingerprint, bad integrity.
    let mut m = good.to_vec();
    let last = m.len() - 1;
    m[last] ^= 1;
    assert_eq!(
        Message::parse(&m).unwrap().verify_fingerprint(),
        Err(Error::BadFingerprint)
    );
    let mut m = good.to_vec();
    m[30] ^= 1; // inside XOR-MAPPED-ADDRESS
    let msg = Message::parse(&m).unwrap();
    assert_eq!(
        msg.verify_integrity(&IntegrityKey::short_term(SHORT_TERM_PASSWORD)),
        Err(Error::BadIntegrity)
    );

    // MESSAGE-INTEGRITY of the wrong size is a structural error.
    let mut m = Vec::from(&good[..20]);
    m.extend_from_slice(&[0x00, 0x08, 0x00, 0x04, 1, 2, 3, 4]);
    m[2..4].copy_from_slice(&8u16.to_be_bytes());
    assert!(matches!(
        Message::parse(&m),
        Err(Error::InvalidAttribute {
            attr_type: 0x0008,
            ..
        })
    ));
}

#[test]
fn padding_bytes_are_ignored() {
    // A 5-byte SOFTWARE with non-zero padding parses.
    let mut m = Vec::from(&RFC5769_RESPONSE_V4[..20]);
    m.extend_from_slice(&[
        0x80, 0x22, 0x00, 0x05, b'h', b'e', b'l', b'l', b'o', 0xaa, 0xbb, 0xcc,
    ]);
    m[2..4].copy_from_slice(&12u16.to_be_bytes());
    let msg = Message::parse(&m).unwrap();
    assert_eq!(
        msg.get(AttributeType::SOFTWARE),
        Some(Ok(Attribute::Software("hello")))
    );
}

#[test]
fn invalid_attribute_values_are_errors_not_panics() {
    let tid = TransactionId::new([0; 12]);
    let cases: &[(u16, &[u8])] = &[
        (0x0001, &[0, 1, 0]),
        (0x0001, &[0, 3, 0, 0, 1, 2, 3, 4]),
        (0x0020, &[0, 2, 0, 0, 1, 2, 3, 4]),
        (0x0006, &[0xff, 0xfe]),
        (0x0009, &[0, 0, 2, 0]),
        (0x0009, &[0, 0, 4, 100]),
        (0x0024, &[1, 2, 3]),
        (0x0025, &[1]),
        (0x8029, &[0; 7]),
        (0x000A, &[0, 1, 2]),
        (0x8002, &[0, 1, 0, 8, 0]),
        (0x001D, &[0, 1]),
        (0x001E, &[0; 31]),
        (0x0017, &[3, 0, 0, 0]),
        (0x8001, &[9, 0, 4, 1]),
        (0x8004, &[0; 4]),
        (0x0018, &[]),
    ];
    for (t, v) in cases {
        let r = Attribute::decode(AttributeType::new(*t), v, &tid);
        assert!(
            matches!(r, Err(Error::InvalidAttribute { attr_type, .. }) if attr_type == *t),
            "{t:#06x} {v:?} gave {r:?}"
        );
    }
}

#[test]
fn builder_enforces_order_and_buffer_size() {
    let key = IntegrityKey::short_term("k");
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId::new([0; 12]),
    )
    .unwrap();
    b.add_fingerprint().unwrap();
    assert!(matches!(
        b.add(&Attribute::Priority(1)),
        Err(Error::CannotEncode { .. })
    ));
    assert!(b.add_message_integrity(&key).is_err());

    let mut small = [0u8; 30];
    let mut b = MessageBuilder::new(
        &mut small,
        MessageType::BINDING_REQUEST,
        TransactionId::new([0; 12]),
    )
    .unwrap();
    assert_eq!(
        b.add(&Attribute::IceControlling(1)),
        Err(Error::BufferTooSmall {
            needed: 32,
            available: 30
        })
    );
    assert!(
        MessageBuilder::new(
            &mut [0u8; 19],
            MessageType::BINDING_REQUEST,
            TransactionId::new([0; 12])
        )
        .is_err()
    );
    assert!(matches!(
        b.add(&Attribute::ErrorCode(ErrorCode::new(200, "OK"))),
        Err(Error::CannotEncode { .. })
    ));
    // A rejected attribute leaves nothing behind.
    assert_eq!(b.len(), 20);
    b.add(&Attribute::Priority(1)).unwrap();
    assert_eq!(b.finish().len(), 28);
}

#[test]
fn message_type_encoding() {
    // RFC 8489 section 5: Binding request 0x0001, success 0x0101, error 0x0111,
    // indication 0x0011; TURN Allocate request 0x0003, Data indication 0x0017.
    assert_eq!(MessageType::BINDING_REQUEST.to_u16(), 0x0001);
    assert_eq!(MessageType::BINDING_SUCCESS.to_u16(), 0x0101);
    assert_eq!(MessageType::BINDING_ERROR.to_u16(), 0x0111);
    assert_eq!(MessageType::BINDING_INDICATION.to_u16(), 0x0011);
    assert_eq!(MessageType::new(Method::DATA, Class::Indication).to_u16(), 0x0017);
    for value in 0..0x4000u16 {
        let t = MessageType::from_u16(value).unwrap();
        assert_eq!(t.to_u16(), value);
    }
    assert_eq!(MessageType::from_u16(0x4000), None);
}

#[test]
fn demux_helpers() {
    assert!(is_stun(RFC5769_REQUEST));
    assert!(!is_stun(&RFC5769_REQUEST[..40]));
    assert!(!is_channel_data(RFC5769_REQUEST));
    assert_eq!(stream_message_len(RFC5769_REQUEST), Some(RFC5769_REQUEST.len()));
    assert_eq!(stream_message_len(&RFC5769_REQUEST[..3]), None);
}

#[test]
fn user_hash_is_sha256_of_username_and_realm() {
    // RFC 8489 section 14.4; cross-checked with `printf 'user:realm' | sha256sum`.
    let h = user_hash("user", "realm");
    let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "6a3029116b47aa98bcaa325399733dc1a23cd57e26b81bef3ff6531ce624e2da"
    );
}

// ---- property tests -------------------------------------------------------

/// An attribute with owned data, so proptest can generate it.
#[derive(Debug, Clone)]
enum Owned {
    Addr(u8, SocketAddr),
    Text(u16, String),
    Bytes(u16, Vec<u8>),
    U32(u16, u32),
    U64(u16, u64),
    Flag(u16),
    Error(u16, String),
    Family(u16, bool),
    EvenPort(bool),
    Transport(u8),
    Channel(u16),
    Icmp(u8, u8, u32),
    UserHash([u8; 32]),
    PasswordAlgorithm(u16, Vec<u8>),
    AddressError(bool, u16, String),
}

impl Owned {
    fn attribute(&self) -> Attribute<'_> {
        let family = |v6: bool| if v6 { AddressFamily::V6 } else { AddressFamily::V4 };
        match self {
            Owned::Addr(kind, a) => match kind % 5 {
                0 => Attribute::MappedAddress(*a),
                1 => Attribute::XorMappedAddress(*a),
                2 => Attribute::AlternateServer(*a),
                3 => Attribute::XorPeerAddress(*a),
                _ => Attribute::XorRelayedAddress(*a),
            },
            Owned::Text(kind, s) => match kind % 5 {
                0 => Attribute::Username(s),
                1 => Attribute::Realm(s),
                2 => Attribute::Nonce(s),
                3 => Attribute::Software(s),
                _ => Attribute::AlternateDomain(s),
            },
            Owned::Bytes(kind, v) => match kind % 2 {
                0 => Attribute::Data(v),
                _ => Attribute::Unknown {
                    attr_type: AttributeType::new(0xC000 | (kind & 0x3fff)),
                    value: v,
                },
            },
            Owned::U32(kind, v) => match kind % 2 {
                0 => Attribute::Priority(*v),
                _ => Attribute::Lifetime(*v),
            },
            Owned::U64(kind, v) => match kind % 3 {
                0 => Attribute::IceControlled(*v),
                1 => Attribute::IceControlling(*v),
                _ => Attribute::ReservationToken(*v),
            },
            Owned::Flag(kind) => match kind % 2 {
                0 => Attribute::UseCandidate,
                _ => Attribute::DontFragment,
            },
            Owned::Error(code, reason) => Attribute::ErrorCode(ErrorCode::new(*code, reason)),
            Owned::Family(kind, v6) => match kind % 2 {
                0 => Attribute::RequestedAddressFamily(family(*v6)),
                _ => Attribute::AdditionalAddressFamily(family(*v6)),
            },
            Owned::EvenPort(r) => Attribute::EvenPort(*r),
            Owned::Transport(p) => Attribute::RequestedTransport(*p),
            Owned::Channel(n) => Attribute::ChannelNumber(*n),
            Owned::Icmp(t, c, d) => Attribute::Icmp {
                icmp_type: *t,
                code: *c,
                error_data: *d,
            },
            Owned::UserHash(h) => Attribute::UserHash(h),
            Owned::PasswordAlgorithm(alg, params) => Attribute::PasswordAlgorithm(PasswordAlgorithm {
                algorithm: PasswordAlgorithmId(*alg),
                parameters: params,
            }),
            Owned::AddressError(v6, code, reason) => Attribute::AddressErrorCode {
                family: family(*v6),
                error: ErrorCode::new(*code, reason),
            },
        }
    }
}

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
    ]
}

fn owned() -> impl Strategy<Value = Owned> {
    prop_oneof![
        (any::<u8>(), socket_addr()).prop_map(|(k, a)| Owned::Addr(k, a)),
        (any::<u16>(), "\\PC{0,60}").prop_map(|(k, s)| Owned::Text(k, s)),
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..80)).prop_map(|(k, v)| Owned::Bytes(k, v)),
        (any::<u16>(), any::<u32>()).prop_map(|(k, v)| Owned::U32(k, v)),
        (any::<u16>(), any::<u64>()).prop_map(|(k, v)| Owned::U64(k, v)),
        any::<u16>().prop_map(Owned::Flag),
        (300u16..700, "\\PC{0,40}").prop_map(|(c, s)| Owned::Error(c, s)),
        (any::<u16>(), any::<bool>()).prop_map(|(k, v)| Owned::Family(k, v)),
        any::<bool>().prop_map(Owned::EvenPort),
        any::<u8>().prop_map(Owned::Transport),
        any::<u16>().prop_map(Owned::Channel),
        (any::<u8>(), any::<u8>(), any::<u32>()).prop_map(|(t, c, d)| Owned::Icmp(t, c, d)),
        any::<[u8; 32]>().prop_map(Owned::UserHash),
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..12))
            .prop_map(|(a, p)| Owned::PasswordAlgorithm(a, p)),
        (any::<bool>(), 300u16..700, "\\PC{0,40}").prop_map(|(f, c, s)| Owned::AddressError(f, c, s)),
    ]
}

proptest! {
    /// Every attribute survives build -> parse -> decode, alone or with
    /// others, signed and fingerprinted.
    #[test]
    fn attributes_round_trip(
        list in proptest::collection::vec(owned(), 0..12),
        tid in any::<[u8; 12]>(),
        class in 0u8..4,
        password in "[a-zA-Z0-9]{1,24}",
    ) {
        let class = [Class::Request, Class::Indication, Class::Success, Class::Error][usize::from(class)];
        let typ = MessageType::new(Method::BINDING, class);
        let key = IntegrityKey::short_term(&password);
        let mut buf = vec![0u8; 4096];
        let mut b = MessageBuilder::new(&mut buf, typ, TransactionId::new(tid)).unwrap();
        for o in &list {
            b.add(&o.attribute()).unwrap();
        }
        b.add_message_integrity(&key).unwrap();
        b.add_message_integrity_sha256(&key).unwrap();
        b.add_fingerprint().unwrap();
        let bytes = b.finish().to_vec();

        let msg = Message::parse(&bytes).unwrap();
        prop_assert_eq!(msg.message_type(), typ);
        prop_assert_eq!(msg.transaction_id(), TransactionId::new(tid));
        msg.verify_fingerprint().unwrap();
        msg.verify_message_integrity(&key).unwrap();
        msg.verify_message_integrity_sha256(&key).unwrap();
        let decoded: Vec<Attribute<'_>> = msg.attributes().map(|a| a.unwrap()).collect();
        let expected: Vec<Attribute<'_>> = list.iter().map(Owned::attribute).collect();
        prop_assert_eq!(&decoded[..list.len()], &expected[..]);
        prop_assert_eq!(decoded.len(), list.len() + 3);
        prop_assert!(is_stun(&bytes));
    }

    /// Arbitrary bytes never panic the parser, the decoder or the verifiers.
    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..300), fix_header in any::<bool>()) {
        if fix_header && bytes.len() >= 20 {
            bytes[0] &= 0x3f;
            bytes[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
            let len = ((bytes.len() - 20) & !3) as u16;
            bytes.truncate(20 + usize::from(len));
            bytes[2..4].copy_from_slice(&len.to_be_bytes());
        }
        if let Ok(msg) = Message::parse(&bytes) {
            for a in msg.attributes() {
                let _ = a;
            }
            let _ = msg.verify_fingerprint();
            let _ = msg.verify_integrity(&IntegrityKey::short_term("x"));
            let _ = msg.unknown_comprehension_required().count();
            let _ = format!("{msg:?}");
        }
        let _ = ChannelData::parse(&bytes);
        let _ = BindingResponder::new().respond(&bytes, "127.0.0.1:1".parse().unwrap(), &mut [0u8; 1500]);
    }

    /// ChannelData round-trips.
    #[test]
    fn channel_data_round_trip(channel in MIN_CHANNEL..=MAX_CHANNEL, data in proptest::collection::vec(any::<u8>(), 0..200), padded in any::<bool>()) {
        let cd = ChannelData::new(channel, &data).unwrap();
        let mut buf = vec![0u8; 256];
        let n = cd.encode(&mut buf, padded).unwrap();
        prop_assert_eq!(ChannelData::parse(&buf[..n]).unwrap(), cd);
        prop_assert!(is_channel_data(&buf[..n]));
    }
}
