//! The mDNS codec: any bytes either fail to parse or give a message whose
//! every question and record can be read, re-encoded and parsed back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcwire_ice::{DnsBuilder, DnsMessage, DnsName};

/// The name as dotted text, when that text is unambiguous (no label holds a
/// dot itself, which the wire format allows but text cannot express).
fn text(name: &DnsName<'_>) -> Option<String> {
    name.labels()
        .all(|l| !l.contains(&b'.'))
        .then(|| name.to_string())
}

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = DnsMessage::parse(data) else { return };
    let _ = (
        msg.id(),
        msg.flags(),
        msg.is_response(),
        msg.question_count(),
        msg.record_counts(),
    );
    let mut b = if msg.is_response() {
        DnsBuilder::response()
    } else {
        DnsBuilder::query()
    };
    let mut questions = Vec::new();
    for q in msg.questions() {
        let Some(name) = text(&q.name) else { continue };
        if b.question(&name, q.qtype, q.unicast_response).is_ok() {
            questions.push((name.to_ascii_lowercase(), q.qtype));
        }
    }
    let mut records = Vec::new();
    for r in msg.records() {
        let Some(name) = text(&r.name) else { continue };
        if b.answer(&name, r.address, r.ttl, r.cache_flush).is_ok() {
            records.push((name.to_ascii_lowercase(), r.address, r.ttl));
        }
    }
    let bytes = b.finish();
    let again = DnsMessage::parse(&bytes).expect("what the builder writes parses");
    let q2: Vec<_> = again
        .questions()
        .map(|q| (q.name.to_string().to_ascii_lowercase(), q.qtype))
        .collect();
    let r2: Vec<_> = again
        .records()
        .map(|r| (r.name.to_string().to_ascii_lowercase(), r.address, r.ttl))
        .collect();
    assert_eq!(q2, questions);
    assert_eq!(r2, records);
});
