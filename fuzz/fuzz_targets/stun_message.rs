//! Arbitrary datagrams through every STUN parser of rtcwire-stun.
//!
//! - `Message::parse`; when it accepts: every attribute decoded, fingerprint
//!   and integrity checked with a fixed short-term key, unknown
//!   comprehension-required attributes listed; then every decodable visible
//!   attribute is written again with `MessageBuilder`, signed, fingerprinted,
//!   parsed again, and must come back equal and verify.
//! - `ChannelData::parse`; when it accepts: encoded padded and unpadded,
//!   parsed again, must come back equal.
//! - `BindingResponder::respond`, anonymous and with short-term credentials;
//!   an answer must be a valid STUN response to the request.
//!
//! Run: `cargo fuzz run --sanitizer none stun_message seeds/stun_message`.
#![no_main]

use std::net::SocketAddr;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rtcwire_stun::{
    Attribute, AttributeType, BindingResponder, ChannelData, Class, Error, HEADER_LEN, IntegrityKey, Message,
    MessageBuilder, is_channel_data, mapped_address, stream_message_len,
};

/// RFC 5769's short-term password, so the seed vectors verify.
const PASSWORD: &str = "VOkJxbRl1RmTxUk/WvJxBt";
/// RFC 5769's USERNAME (without its padding spaces).
const USERNAME: &str = "evtj:h6vY";

static KEY: LazyLock<IntegrityKey> = LazyLock::new(|| IntegrityKey::short_term(PASSWORD));
static ANONYMOUS: LazyLock<BindingResponder> =
    LazyLock::new(|| BindingResponder::new().software("rtcwire fuzz"));
static AUTHENTICATED: LazyLock<BindingResponder> =
    LazyLock::new(|| BindingResponder::new().short_term_credentials(USERNAME, PASSWORD));

fuzz_target!(|data: &[u8]| {
    message(data);
    channel_data(data);
    responder(data);
});

fn is_integrity_or_fingerprint(t: AttributeType) -> bool {
    matches!(
        t,
        AttributeType::MESSAGE_INTEGRITY
            | AttributeType::MESSAGE_INTEGRITY_SHA256
            | AttributeType::FINGERPRINT
    )
}

fn message(data: &[u8]) {
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    assert_eq!(msg.as_bytes(), data);
    assert_eq!(stream_message_len(data), Some(data.len()));
    let tid = msg.transaction_id();

    // Decode everything the view exposes; errors are fine, panics are not.
    let decoded: Vec<Result<Attribute<'_>, Error>> = msg.attributes().collect();
    let raw: Vec<(AttributeType, &[u8])> = msg.raw_attributes().collect();
    for (t, _) in &raw {
        assert!(!is_integrity_or_fingerprint(*t), "{t:?} in the visible part");
        assert!(msg.get(*t).is_some());
        let first = raw.iter().find(|(t2, _)| t2 == t).map(|(_, v)| *v);
        assert_eq!(msg.get_raw(*t), first);
        assert!(msg.contains(*t));
    }

    let fingerprint = msg.verify_fingerprint();
    assert_eq!(
        msg.has_fingerprint(),
        fingerprint != Err(Error::MissingFingerprint)
    );
    let integrity = msg.verify_integrity(&KEY);
    assert_eq!(msg.has_integrity(), integrity != Err(Error::MissingIntegrity));
    let _ = msg.verify_message_integrity(&KEY);
    let _ = msg.verify_message_integrity_sha256(&KEY);

    for t in msg.unknown_comprehension_required() {
        assert!(t.is_comprehension_required() && !t.is_known());
        assert!(raw.iter().any(|(t2, _)| *t2 == t));
    }
    let _ = format!("{msg:?}");

    // Write the decodable visible attributes again, sign, and read back.
    let originals: Vec<Attribute<'_>> = decoded
        .into_iter()
        .filter_map(Result::ok)
        .filter(|a| !is_integrity_or_fingerprint(a.attr_type()))
        .collect();
    let mut buf = vec![0u8; data.len() + 64];
    let mut b = MessageBuilder::new(&mut buf, msg.message_type(), tid).expect("room for a header");
    for a in &originals {
        b.add(a)
            .unwrap_or_else(|e| panic!("decoded {a:?} does not encode: {e}"));
    }
    // A message of 65535 attribute bytes has no room left for the trailer.
    if b.len() + 24 + 8 - HEADER_LEN > usize::from(u16::MAX) {
        return;
    }
    b.add_message_integrity(&KEY).expect("MESSAGE-INTEGRITY fits");
    b.add_fingerprint().expect("FINGERPRINT fits");
    let rebuilt = b.finish();

    let again = Message::parse(rebuilt).unwrap_or_else(|e| panic!("rebuilt message does not parse: {e}"));
    assert_eq!(again.message_type(), msg.message_type());
    assert_eq!(again.transaction_id(), tid);
    again.verify_integrity(&KEY).expect("rebuilt integrity verifies");
    again
        .verify_message_integrity(&KEY)
        .expect("rebuilt MESSAGE-INTEGRITY verifies");
    again.verify_fingerprint().expect("rebuilt fingerprint verifies");
    let reread: Vec<Attribute<'_>> = again
        .attributes()
        .map(|a| a.unwrap_or_else(|e| panic!("rebuilt attribute does not decode: {e}")))
        .filter(|a| !is_integrity_or_fingerprint(a.attr_type()))
        .collect();
    assert_eq!(reread, originals);
}

fn channel_data(data: &[u8]) {
    let Ok(cd) = ChannelData::parse(data) else {
        return;
    };
    assert!(is_channel_data(data));
    assert!(data.len() - cd.data().len() - 4 <= 3);
    let mut buf = vec![0u8; data.len() + 8];
    for padded in [false, true] {
        let n = cd.encode(&mut buf, padded).expect("fits");
        assert_eq!(n, cd.encoded_len(padded));
        assert!(!padded || n.is_multiple_of(4));
        let again = ChannelData::parse(&buf[..n]).expect("re-parses");
        assert_eq!(again, cd);
        if padded {
            assert_eq!(ChannelData::stream_frame_len(&buf[..n]), Some(n));
        }
    }
    let same = ChannelData::new(cd.channel(), cd.data()).expect("valid");
    assert_eq!(same, cd);
}

fn responder(data: &[u8]) {
    let source: SocketAddr = if data.len().is_multiple_of(2) {
        "203.0.113.9:40000".parse().expect("address")
    } else {
        "[2001:db8::9]:40000".parse().expect("address")
    };
    let mut out = [0u8; 2048];
    for (responder, key) in [(&*ANONYMOUS, None), (&*AUTHENTICATED, Some(&*KEY))] {
        let Ok(Some(n)) = responder.respond(data, source, &mut out) else {
            continue;
        };
        let request = Message::parse(data).expect("only a parsed request is answered");
        assert_eq!(request.class(), Class::Request);
        let resp = Message::parse(&out[..n]).unwrap_or_else(|e| panic!("answer does not parse: {e}"));
        assert_eq!(resp.transaction_id(), request.transaction_id());
        assert_eq!(resp.method(), request.method());
        assert!(resp.attributes().all(|a| a.is_ok()), "answer has a bad attribute");
        assert_eq!(resp.has_fingerprint(), request.has_fingerprint());
        if resp.has_fingerprint() {
            resp.verify_fingerprint().expect("answer's fingerprint verifies");
        }
        match resp.class() {
            Class::Success => {
                assert_eq!(mapped_address(&resp), Some(source));
                if let Some(key) = key {
                    resp.verify_integrity(key).expect("signed answer verifies");
                    request
                        .verify_integrity(key)
                        .expect("only an authentic request succeeds");
                }
            }
            Class::Error => {
                assert!(matches!(
                    resp.get(AttributeType::ERROR_CODE),
                    Some(Ok(Attribute::ErrorCode(_)))
                ));
            }
            class => panic!("answered with a {class:?}"),
        }
    }
}
