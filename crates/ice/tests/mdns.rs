//! mDNS (RFC 6762): the DNS codec against hand-built wire bytes and random
//! input, and the resolver and publisher on a simulated LAN.
//!
//! netsim has no multicast, so a small endpoint plays the group: it owns
//! 224.0.0.251 on the LAN and relays every datagram sent to it to every
//! other member's port 5353, wrapped in a 6-byte envelope that carries the
//! original sender (the simulator only lets a host send from its own
//! addresses). Nothing here touches a real socket.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rtcwire_ice::{
    DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_ANY, DnsBuilder, DnsMessage, DnsSection, MAX_POINTER_HOPS, MDNS_IPV4,
    MdnsConfig, MdnsError, MdnsEvent, MdnsPublisher, MdnsPublisherConfig, MdnsResolver,
};
use rtcwire_netsim::{
    Datagram, Endpoint, EndpointId, HostId, LinkConfig, NatConfig, Network, SeedReporter, Sim,
};

const NAME: &str = "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9.local";

/// `NAME` as labels on the wire (RFC 1035 section 3.1).
fn wire_name() -> Vec<u8> {
    let mut out = vec![36];
    out.extend_from_slice(b"1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9");
    out.push(5);
    out.extend_from_slice(b"local");
    out.push(0);
    out
}

/// A one-question mDNS query for `NAME`, type A, class IN, QM: RFC 1035
/// section 4.1 with RFC 6762 section 18's zero ID and flags.
fn query_bytes() -> Vec<u8> {
    let mut out = vec![
        0x00, 0x00, // ID 0
        0x00, 0x00, // standard query
        0x00, 0x01, // QDCOUNT
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // AN, NS, AR
    ];
    out.extend(wire_name());
    out.extend_from_slice(&[0x00, 0x01, 0x00, 0x01]); // A, IN
    out
}

/// The authoritative answer a browser multicasts: `NAME` A 192.168.1.10,
/// class IN with the cache-flush bit, TTL 120.
fn response_bytes() -> Vec<u8> {
    let mut out = vec![
        0x00, 0x00, // ID 0
        0x84, 0x00, // QR, AA
        0x00, 0x00, 0x00, 0x01, // QD 0, AN 1
        0x00, 0x00, 0x00, 0x00, // NS 0, AR 0
    ];
    out.extend(wire_name());
    out.extend_from_slice(&[
        0x00, 0x01, // A
        0x80, 0x01, // cache flush | IN
        0x00, 0x00, 0x00, 0x78, // TTL 120
        0x00, 0x04, // RDLENGTH
        192, 168, 1, 10,
    ]);
    out
}

fn header(flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut out = vec![0, 0];
    out.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        out.extend_from_slice(&c.to_be_bytes());
    }
    out
}

fn a_record_tail(ip: [u8; 4], ttl: u32) -> Vec<u8> {
    let mut out = vec![0x00, 0x01, 0x80, 0x01];
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&[0, 4]);
    out.extend_from_slice(&ip);
    out
}

/// A response using compression: the full name at offset 12, a pointer to
/// it, and `foo` followed by a pointer to the `local` label.
fn compressed_bytes() -> Vec<u8> {
    let mut out = header(0x8400, [0, 2, 0, 1]);
    out.extend(wire_name());
    out.extend(a_record_tail([192, 168, 1, 10], 120));
    // "foo" + pointer to "local" (offset 12 + 1 + 36).
    out.extend_from_slice(&[3, b'f', b'o', b'o', 0xc0, 49]);
    out.extend(a_record_tail([10, 0, 0, 1], 60));
    // Additional: pointer to the first name, AAAA fe80::1.
    out.extend_from_slice(&[0xc0, 12, 0x00, 28, 0x80, 0x01, 0, 0, 0, 120, 0, 16]);
    out.extend_from_slice(&"fe80::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
    out
}

// ----- codec ----------------------------------------------------------------

#[test]
fn query_matches_rfc_wire_format() {
    let mut b = DnsBuilder::query();
    b.question(NAME, DNS_TYPE_A, false).unwrap();
    assert_eq!(b.as_bytes(), &query_bytes()[..]);

    let bytes = query_bytes();
    let m = DnsMessage::parse(&bytes).unwrap();
    assert_eq!((m.id(), m.is_response(), m.opcode(), m.rcode()), (0, false, 0, 0));
    assert_eq!(m.question_count(), 1);
    assert_eq!(m.record_counts(), [0, 0, 0]);
    let q: Vec<_> = m.questions().collect();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].name.to_string(), NAME);
    assert_eq!(
        (q[0].qtype, q[0].qclass, q[0].unicast_response),
        (DNS_TYPE_A, 1, false)
    );
    assert_eq!(m.records().count(), 0);

    // The QU bit is the top bit of QCLASS (RFC 6762 section 5.4).
    let mut qu = DnsBuilder::query();
    qu.question(NAME, DNS_TYPE_AAAA, true).unwrap();
    let bytes = qu.finish();
    assert_eq!(&bytes[bytes.len() - 4..], &[0x00, 28, 0x80, 0x01]);
    let q = DnsMessage::parse(&bytes).unwrap().questions().next().unwrap();
    assert_eq!((q.qtype, q.qclass, q.unicast_response), (DNS_TYPE_AAAA, 1, true));
}

#[test]
fn response_matches_rfc_wire_format() {
    let mut b = DnsBuilder::response();
    b.answer(NAME, "192.168.1.10".parse().unwrap(), 120, true)
        .unwrap();
    assert_eq!(b.as_bytes(), &response_bytes()[..]);

    let bytes = response_bytes();
    let m = DnsMessage::parse(&bytes).unwrap();
    assert!(m.is_response() && m.is_authoritative() && !m.is_truncated());
    let r: Vec<_> = m.records().collect();
    assert_eq!(r.len(), 1);
    assert!(r[0].name.matches(NAME));
    assert!(r[0].name.matches(&NAME.to_uppercase()));
    assert!(r[0].name.matches(&format!("{NAME}.")));
    assert!(!r[0].name.matches("1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"));
    assert!(!r[0].name.matches("x.1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9.local"));
    assert_eq!(r[0].section, DnsSection::Answer);
    assert!(r[0].cache_flush);
    assert_eq!(r[0].ttl, 120);
    assert_eq!(r[0].address, IpAddr::from([192, 168, 1, 10]));
}

#[test]
fn compression_pointers_are_followed() {
    let bytes = compressed_bytes();
    let m = DnsMessage::parse(&bytes).unwrap();
    let r: Vec<_> = m.records().collect();
    assert_eq!(r.len(), 3);
    assert_eq!(r[1].name.to_string(), "foo.local");
    assert_eq!((r[1].ttl, r[1].address), (60, IpAddr::from([10, 0, 0, 1])));
    assert_eq!(r[2].name, r[0].name);
    assert_eq!(r[2].section, DnsSection::Additional);
    assert_eq!(r[2].address, "fe80::1".parse::<IpAddr>().unwrap());
}

#[test]
fn pointer_loops_are_errors() {
    // A pointer to itself.
    let mut self_loop = header(0, [1, 0, 0, 0]);
    self_loop.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(DnsMessage::parse(&self_loop).unwrap_err(), MdnsError::PointerLoop);

    // A label, then a pointer back to that label.
    let mut back = header(0, [1, 0, 0, 0]);
    back.extend_from_slice(&[1, b'a', 0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(DnsMessage::parse(&back).unwrap_err(), MdnsError::PointerLoop);

    // Two pointers pointing at each other (in the second question's name).
    let mut mutual = header(0, [2, 0, 0, 0]);
    mutual.extend_from_slice(&[1, b'a', 0, 0, 1, 0, 1]); // offset 12: "a", A IN
    mutual.extend_from_slice(&[0xc0, 21, 0xc0, 19, 0, 1, 0, 1]); // offset 19
    assert_eq!(DnsMessage::parse(&mutual).unwrap_err(), MdnsError::PointerLoop);

    // A forward pointer.
    let mut forward = header(0, [1, 0, 0, 0]);
    forward.extend_from_slice(&[0xc0, 14, 0, 0, 1, 0, 1]);
    assert_eq!(DnsMessage::parse(&forward).unwrap_err(), MdnsError::PointerLoop);
}

/// A chain of `links` pointers in an unknown record's data, each pointing
/// at the one before, and an A record whose name enters at its end.
fn pointer_chain(links: usize) -> Vec<u8> {
    let mut out = header(0x8400, [0, 2, 0, 0]);
    out.extend_from_slice(&[0, 0x00, 99, 0x00, 0x01, 0, 0, 0, 1]);
    let rdlength = 3 + 2 * links;
    out.extend_from_slice(&(rdlength as u16).to_be_bytes());
    let mut previous = out.len();
    out.extend_from_slice(&[1, b'x', 0]);
    for _ in 0..links {
        let here = out.len();
        out.extend_from_slice(&(0xc000 | previous as u16).to_be_bytes());
        previous = here;
    }
    out.extend_from_slice(&(0xc000 | previous as u16).to_be_bytes());
    out.extend(a_record_tail([10, 0, 0, 9], 5));
    out
}

#[test]
fn pointer_hops_are_limited() {
    let ok = pointer_chain(MAX_POINTER_HOPS - 1);
    let m = DnsMessage::parse(&ok).unwrap();
    let r: Vec<_> = m.records().collect();
    // The unknown type 99 is skipped.
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].name.to_string(), "x");
    let too_many = pointer_chain(MAX_POINTER_HOPS);
    assert_eq!(
        DnsMessage::parse(&too_many).unwrap_err(),
        MdnsError::TooManyPointers
    );
}

#[test]
fn names_longer_than_255_bytes_are_errors() {
    let question = |labels: &[usize]| {
        let mut out = header(0, [1, 0, 0, 0]);
        for &len in labels {
            out.push(len as u8);
            out.extend(std::iter::repeat_n(b'a', len));
        }
        out.extend_from_slice(&[0, 0, 1, 0, 1]);
        out
    };
    // 3 * 64 + 62 + 1 = 255 bytes.
    let ok = question(&[63, 63, 63, 61]);
    let name = DnsMessage::parse(&ok).unwrap().questions().next().unwrap().name;
    assert_eq!(name.to_string().len(), 253);
    assert_eq!(
        DnsMessage::parse(&question(&[63, 63, 63, 62])).unwrap_err(),
        MdnsError::NameTooLong
    );

    // Too long only once a pointer is followed: a 193-byte name, then one
    // label in front of a pointer to it.
    let compressed = |len: usize| {
        let mut out = question(&[63, 63, 63]);
        out[5] = 2; // QDCOUNT
        out.push(len as u8);
        out.extend(std::iter::repeat_n(b'b', len));
        out.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        out
    };
    let ok = compressed(61);
    let names: Vec<_> = DnsMessage::parse(&ok)
        .unwrap()
        .questions()
        .map(|q| q.name.to_string())
        .collect();
    assert_eq!(names[1].len(), 253);
    assert!(names[1].ends_with(&names[0]));
    assert_eq!(
        DnsMessage::parse(&compressed(62)).unwrap_err(),
        MdnsError::NameTooLong
    );
}

#[test]
fn other_malformations_are_errors() {
    // Extended (0x40) and reserved (0x80) label types.
    for byte in [0x40, 0x80] {
        let mut m = header(0, [1, 0, 0, 0]);
        m.extend_from_slice(&[byte, 0, 0, 1, 0, 1]);
        assert_eq!(DnsMessage::parse(&m).unwrap_err(), MdnsError::LabelType);
    }
    // An A record with 5 bytes of data, an AAAA with 4.
    let mut a5 = header(0x8400, [0, 1, 0, 0]);
    a5.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 5, 1, 2, 3, 4, 5]);
    assert_eq!(DnsMessage::parse(&a5).unwrap_err(), MdnsError::RecordLength);
    let mut aaaa4 = header(0x8400, [0, 1, 0, 0]);
    aaaa4.extend_from_slice(&[0, 0, 28, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
    assert_eq!(DnsMessage::parse(&aaaa4).unwrap_err(), MdnsError::RecordLength);
    // The same in class CH is some other record: skipped, not an error.
    let mut ch = header(0x8400, [0, 1, 0, 0]);
    ch.extend_from_slice(&[0, 0, 1, 0, 3, 0, 0, 0, 1, 0, 5, 1, 2, 3, 4, 5]);
    assert_eq!(DnsMessage::parse(&ch).unwrap().records().count(), 0);
    // Trailing bytes.
    let mut trailing = response_bytes();
    trailing.push(0);
    assert_eq!(
        DnsMessage::parse(&trailing).unwrap_err(),
        MdnsError::TrailingBytes
    );
    // Counts promising more than there is.
    let mut more = response_bytes();
    more[11] = 1;
    assert_eq!(DnsMessage::parse(&more).unwrap_err(), MdnsError::Truncated);
}

#[test]
fn every_truncation_is_an_error() {
    for bytes in [
        query_bytes(),
        response_bytes(),
        compressed_bytes(),
        pointer_chain(10),
    ] {
        assert!(DnsMessage::parse(&bytes).is_ok());
        for len in 0..bytes.len() {
            assert!(
                DnsMessage::parse(&bytes[..len]).is_err(),
                "prefix of {len} bytes parsed"
            );
        }
    }
}

/// Parses and walks everything, as a user of the view would.
fn exercise(bytes: &[u8]) {
    if let Ok(m) = DnsMessage::parse(bytes) {
        let _ = (m.id(), m.flags(), m.opcode(), m.rcode(), format!("{m:?}"));
        for q in m.questions() {
            let _ = (q.name.to_string(), q.name.matches(NAME), q.name.labels().count());
        }
        let mut previous = m.questions().next().map(|q| q.name);
        for r in m.records() {
            let mut s = String::new();
            let _ = (
                r.name.write_lowercase(&mut s),
                r.name.to_string(),
                Some(r.name) == previous,
            );
            previous = Some(r.name);
        }
    }
}

fn name_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9-]{1,63}(\\.[a-zA-Z0-9-]{1,63}){0,4}\\.?",
        "[a-z0-9.]{0,300}",
    ]
}

fn address_strategy() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from)
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
        let now = Instant::now();
        let from: SocketAddr = "192.168.1.3:5353".parse().unwrap();
        let mut resolver = MdnsResolver::new(MdnsConfig::default());
        resolver.query(now, NAME, true).unwrap();
        resolver.handle_receive(now, from, &bytes);
        let mut publisher = MdnsPublisher::new(MdnsPublisherConfig::default());
        publisher.publish_name(now, NAME, "10.0.0.1".parse().unwrap()).unwrap();
        publisher.handle_receive(now, from, &bytes);
    }

    #[test]
    fn mutated_messages_never_panic(
        base in 0usize..4,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut bytes = [query_bytes(), response_bytes(), compressed_bytes(), pointer_chain(5)][base].clone();
        for (at, value) in edits {
            let i = at % bytes.len();
            bytes[i] = value;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        exercise(&bytes);
    }

    #[test]
    fn written_messages_parse_back_equal(
        id in any::<u16>(),
        qname in name_strategy(),
        qtype in any::<u16>(),
        qu in any::<bool>(),
        rname in name_strategy(),
        address in address_strategy(),
        ttl in any::<u32>(),
        flush in any::<bool>(),
        extra in address_strategy(),
    ) {
        let mut b = DnsBuilder::response();
        b.set_id(id);
        let q_ok = b.question(&qname, qtype, qu).is_ok();
        let r_ok = b.answer(&rname, address, ttl, flush).is_ok();
        let x_ok = b.additional(&rname, extra, ttl, !flush).is_ok();
        prop_assert_eq!(r_ok, x_ok);
        let bytes = b.finish();
        let m = DnsMessage::parse(&bytes).unwrap();
        prop_assert_eq!(m.id(), id);
        let trim = |s: &str| s.strip_suffix('.').unwrap_or(s).to_string();
        let questions: Vec<_> = m.questions().collect();
        prop_assert_eq!(questions.len(), usize::from(q_ok));
        if let Some(q) = questions.first() {
            prop_assert_eq!(q.name.to_string(), trim(&qname));
            prop_assert!(q.name.matches(&qname));
            prop_assert_eq!((q.qtype, q.qclass, q.unicast_response), (qtype, 1, qu));
        }
        let records: Vec<_> = m.records().collect();
        prop_assert_eq!(records.len(), if r_ok { 2 } else { 0 });
        if r_ok {
            prop_assert_eq!(records[0].name.to_string(), trim(&rname));
            prop_assert_eq!(
                (records[0].section, records[0].address, records[0].ttl, records[0].cache_flush),
                (DnsSection::Answer, address, ttl, flush)
            );
            prop_assert_eq!(
                (records[1].section, records[1].address, records[1].ttl, records[1].cache_flush),
                (DnsSection::Additional, extra, ttl, !flush)
            );
        }
        // Valid LDH names are always accepted.
        if qname.len() <= 200
            && !qname.is_empty()
            && qname.split('.').all(|l| !l.is_empty() && l.len() <= 63)
        {
            prop_assert!(q_ok, "{:?} refused", qname);
        }
    }
}

// ----- resolver without a network -------------------------------------------

fn answer(name: &str, address: &str, ttl: u32) -> Vec<u8> {
    let mut b = DnsBuilder::response();
    b.answer(name, address.parse().unwrap(), ttl, true).unwrap();
    b.finish()
}

#[test]
fn resolver_checks_names_ports_and_caps() {
    let now = Instant::now();
    let mut r = MdnsResolver::new(MdnsConfig::default());
    for bad in ["example.com", "local", "a..local", "a_b.local", ""] {
        assert!(
            matches!(r.query(now, bad, false), Err(MdnsError::InvalidName(_))),
            "{bad}"
        );
    }
    assert_eq!(r.poll_transmit(), None);

    r.query(now, NAME, false).unwrap();
    let t = r.poll_transmit().unwrap();
    assert_eq!(t.destination, MDNS_IPV4);
    assert_eq!(t.contents, query_bytes());
    // Asking again does not send again.
    r.query(now, &NAME.to_uppercase(), false).unwrap();
    assert_eq!((r.poll_transmit(), r.pending_len()), (None, 1));

    // Not from port 5353: ignored (RFC 6762 section 6), but consumed.
    let wrong_port: SocketAddr = "192.168.1.10:5354".parse().unwrap();
    assert!(r.handle_receive(now, wrong_port, &response_bytes()));
    assert_eq!((r.poll_event(), r.cache_len(), r.stats().ignored), (None, 0, 1));
    // A query is not the resolver's.
    let from: SocketAddr = "192.168.1.10:5353".parse().unwrap();
    assert!(!r.handle_receive(now, from, &query_bytes()));
    // Garbage is counted.
    assert!(!r.handle_receive(now, from, &[1, 2, 3]));
    assert_eq!(r.stats().malformed, 1);
    // An answer for another name is not trusted.
    assert!(r.handle_receive(now, from, &answer("other.local", "10.6.6.6", 120)));
    assert_eq!(
        (r.poll_event(), r.cache_len(), r.stats().unsolicited),
        (None, 0, 1)
    );
    // The answer, in capitals.
    assert!(r.handle_receive(now, from, &answer(&NAME.to_uppercase(), "192.168.1.10", 120)));
    assert_eq!(
        r.poll_event(),
        Some(MdnsEvent::Resolved {
            name: NAME.into(),
            address: "192.168.1.10".parse().unwrap()
        })
    );
    assert_eq!((r.pending_len(), r.cache_len(), r.poll_timeout()), (0, 1, None));
    // Asking for a cached name answers at once, without a transmit.
    r.query(now, NAME, false).unwrap();
    assert!(matches!(r.poll_event(), Some(MdnsEvent::Resolved { .. })));
    assert_eq!(r.poll_transmit(), None);

    // At most `max_pending` queries at once; cancelled ones free a slot.
    let mut r = MdnsResolver::new(MdnsConfig {
        max_pending: 4,
        ..MdnsConfig::default()
    });
    for i in 0..4 {
        r.query(now, &format!("n{i}.local"), false).unwrap();
    }
    assert_eq!(r.query(now, "n4.local", false), Err(MdnsError::TooManyQueries));
    assert!(r.cancel("N0.local"));
    assert!(!r.cancel("N0.local"));
    r.query(now, "n4.local", false).unwrap();
}

#[test]
fn resolver_honours_families_and_cache_flush() {
    let now = Instant::now();
    let from: SocketAddr = "192.168.1.10:5353".parse().unwrap();
    let mut r = MdnsResolver::new(MdnsConfig {
        ipv6: true,
        ..MdnsConfig::default()
    });
    r.query(now, NAME, false).unwrap();
    let destinations: Vec<_> = std::iter::from_fn(|| r.poll_transmit())
        .map(|t| t.destination)
        .collect();
    assert_eq!(destinations, [MDNS_IPV4, "[ff02::fb]:5353".parse().unwrap()]);
    // Only A was asked for: an AAAA answer is cached but does not resolve.
    r.handle_receive(now, from, &answer(NAME, "fe80::1", 120));
    assert_eq!((r.poll_event(), r.pending_len(), r.cache_len()), (None, 1, 1));
    r.handle_receive(now, from, &answer(NAME, "192.168.1.10", 120));
    assert!(matches!(
        r.poll_event(),
        Some(MdnsEvent::Resolved {
            address: IpAddr::V4(_),
            ..
        })
    ));

    // A cache-flush record replaces older addresses of its family only,
    // and only those received more than a second earlier.
    let later = now + Duration::from_millis(500);
    r.handle_receive(later, from, &answer(NAME, "192.168.1.11", 120));
    assert_eq!(r.cache_len(), 3);
    let much_later = now + Duration::from_secs(3);
    r.handle_receive(much_later, from, &answer(NAME, "192.168.1.12", 120));
    assert_eq!(r.cache_len(), 2);
    assert_eq!(r.lookup(much_later, NAME), Some("192.168.1.12".parse().unwrap()));

    // want_ipv6: the AAAA question is there too, and AAAA resolves.
    let mut r = MdnsResolver::new(MdnsConfig::default());
    r.query(now, NAME, true).unwrap();
    let q = r.poll_transmit().unwrap();
    let m = DnsMessage::parse(&q.contents).unwrap();
    assert_eq!(
        m.questions().map(|q| q.qtype).collect::<Vec<_>>(),
        [DNS_TYPE_A, DNS_TYPE_AAAA]
    );
    r.handle_receive(now, from, &answer(NAME, "fe80::1", 120));
    assert!(matches!(
        r.poll_event(),
        Some(MdnsEvent::Resolved {
            address: IpAddr::V6(_),
            ..
        })
    ));
}

#[test]
fn publisher_answers_by_type_and_rate_limits() {
    let now = Instant::now();
    let from: SocketAddr = "192.168.1.7:5353".parse().unwrap();
    let mut p = MdnsPublisher::new(MdnsPublisherConfig {
        announcements: 0,
        max_names: 2,
        ..MdnsPublisherConfig::default()
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let v4 = p.publish(now, &mut rng, "192.168.1.2".parse().unwrap()).unwrap();
    let v6 = p.publish(now, &mut rng, "fe80::2".parse().unwrap()).unwrap();
    assert_ne!(v4, v6);
    assert_eq!(
        p.publish(now, &mut rng, "192.168.1.3".parse().unwrap()),
        Err(MdnsError::TooManyNames)
    );
    assert_eq!(p.poll_transmit(), None);

    let ask = |name: &str, qtype: u16| {
        let mut b = DnsBuilder::query();
        b.question(name, qtype, false).unwrap();
        b.finish()
    };
    // A and ANY in one query: one answer.
    let mut both = DnsBuilder::query();
    both.question(&v4, DNS_TYPE_A, false).unwrap();
    both.question(&v4, DNS_TYPE_ANY, false).unwrap();
    assert!(p.handle_receive(now, from, both.as_bytes()));
    let t = p.poll_transmit().unwrap();
    assert_eq!(DnsMessage::parse(&t.contents).unwrap().records().count(), 1);
    assert_eq!(
        (p.poll_transmit(), p.poll_timeout(), p.stats().rate_limited),
        (None, None, 0)
    );
    // A for an IPv6-only name: nothing (no NSEC).
    assert!(p.handle_receive(now, from, &ask(&v6, DNS_TYPE_A)));
    assert_eq!(p.poll_transmit(), None);
    // A response is not the publisher's.
    assert!(!p.handle_receive(now, from, &answer(&v4, "10.0.0.1", 120)));
    // ANY, in capitals: answered, TTL 120, cache flush, to the group.
    assert!(p.handle_receive(now, from, &ask(&v6.to_uppercase(), DNS_TYPE_ANY)));
    let t = p.poll_transmit().unwrap();
    assert_eq!(t.destination, MDNS_IPV4);
    let m = DnsMessage::parse(&t.contents).unwrap();
    assert!(m.is_response() && m.is_authoritative());
    let r: Vec<_> = m.records().collect();
    assert_eq!(r.len(), 1);
    assert!(r[0].name.matches(&v6) && r[0].cache_flush);
    assert_eq!((r[0].ttl, r[0].address), (120, "fe80::2".parse().unwrap()));
    // Within a second: the second multicast waits for the second to pass,
    // and one held-back answer covers any number of queries.
    assert_eq!(p.poll_timeout(), None);
    for ms in [500, 999] {
        p.handle_receive(now + Duration::from_millis(ms), from, &ask(&v6, DNS_TYPE_AAAA));
    }
    assert_eq!((p.poll_transmit(), p.stats().rate_limited), (None, 2));
    assert_eq!(p.poll_timeout(), Some(now + Duration::from_secs(1)));
    p.handle_timeout(now + Duration::from_secs(1));
    let t = p.poll_transmit().unwrap();
    assert_eq!(t.destination, MDNS_IPV4);
    assert!(
        DnsMessage::parse(&t.contents)
            .unwrap()
            .records()
            .next()
            .unwrap()
            .name
            .matches(&v6)
    );
    assert_eq!((p.poll_transmit(), p.poll_timeout()), (None, None));
    p.handle_receive(now + Duration::from_secs(2), from, &ask(&v6, DNS_TYPE_AAAA));
    assert!(p.poll_transmit().is_some());
    // A query over IPv6 is answered on the IPv6 group.
    let from6: SocketAddr = "[fe80::7]:5353".parse().unwrap();
    p.handle_receive(now + Duration::from_secs(5), from6, &ask(&v4, DNS_TYPE_A));
    assert_eq!(
        p.poll_transmit().unwrap().destination,
        "[ff02::fb]:5353".parse().unwrap()
    );
    // Legacy unicast (not from port 5353) is not answered.
    let legacy: SocketAddr = "192.168.1.7:40000".parse().unwrap();
    assert!(p.handle_receive(now + Duration::from_secs(9), legacy, &ask(&v4, DNS_TYPE_A)));
    assert_eq!((p.poll_transmit(), p.stats().ignored), (None, 1));
    // Unpublishing says goodbye.
    assert!(p.unpublish(&v4));
    let bye = p.poll_transmit().unwrap();
    let r = DnsMessage::parse(&bye.contents)
        .unwrap()
        .records()
        .next()
        .unwrap();
    assert_eq!(r.ttl, 0);
    assert!(!p.unpublish(&v4));
    assert_eq!(p.names().count(), 1);
}

// ----- the simulated LAN ----------------------------------------------------

const GROUP_IP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);

fn envelope(source: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let IpAddr::V4(ip) = source.ip() else {
        panic!("the test LAN is IPv4 only")
    };
    let mut out = ip.octets().to_vec();
    out.extend_from_slice(&source.port().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Plays 224.0.0.251:5353: relays every datagram to every other member.
struct Group {
    members: Vec<SocketAddr>,
    out: VecDeque<Datagram>,
    /// (time since the epoch, original sender, payload) of every datagram.
    log: Vec<(Duration, SocketAddr, Vec<u8>)>,
    epoch: Instant,
}

impl Endpoint for Group {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        self.log.push((now - self.epoch, d.source, d.payload.clone()));
        for member in &self.members {
            if member.ip() != d.source.ip() {
                self.out.push_back(Datagram {
                    source: MDNS_IPV4,
                    destination: *member,
                    payload: envelope(d.source, &d.payload),
                });
            }
        }
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// A host's mDNS socket: a resolver and a publisher sharing port 5353.
struct Node {
    local: SocketAddr,
    resolver: MdnsResolver,
    publisher: MdnsPublisher,
    events: Vec<(Duration, MdnsEvent)>,
    /// Datagrams that reached this node directly, not through the group.
    unicast_received: usize,
    epoch: Instant,
}

impl Node {
    fn collect(&mut self, now: Instant) {
        while let Some(e) = self.resolver.poll_event() {
            self.events.push((now - self.epoch, e));
        }
    }

    fn resolved(&self, name: &str) -> Option<(Duration, IpAddr)> {
        self.events.iter().find_map(|(t, e)| match e {
            MdnsEvent::Resolved { name: n, address } if n == name => Some((*t, *address)),
            _ => None,
        })
    }

    fn failed(&self, name: &str) -> Option<Duration> {
        self.events.iter().find_map(|(t, e)| match e {
            MdnsEvent::Failed { name: n } if n == name => Some(*t),
            _ => None,
        })
    }
}

impl Endpoint for Node {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        let (source, payload) = if d.source == MDNS_IPV4 {
            let ip = Ipv4Addr::new(d.payload[0], d.payload[1], d.payload[2], d.payload[3]);
            let port = u16::from_be_bytes([d.payload[4], d.payload[5]]);
            (SocketAddr::from((ip, port)), &d.payload[6..])
        } else {
            self.unicast_received += 1;
            (d.source, &d.payload[..])
        };
        if !self.resolver.handle_receive(now, source, payload) {
            self.publisher.handle_receive(now, source, payload);
        }
        self.collect(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.resolver.handle_timeout(now);
        self.publisher.handle_timeout(now);
        self.collect(now);
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        self.collect(now);
        let t = self
            .resolver
            .poll_transmit()
            .or_else(|| self.publisher.poll_transmit())?;
        Some(Datagram {
            source: self.local,
            destination: t.destination,
            payload: t.contents,
        })
    }
    fn poll_timeout(&self) -> Option<Instant> {
        [self.resolver.poll_timeout(), self.publisher.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }
}

struct Lan {
    sim: Sim,
    group: EndpointId,
    hosts: Vec<HostId>,
    nodes: Vec<EndpointId>,
    rng: rand::rngs::StdRng,
}

impl Lan {
    /// `configs.len()` hosts, 192.168.1.10 and up, behind one home router.
    fn new(seed: u64, configs: Vec<(MdnsConfig, MdnsPublisherConfig)>) -> Lan {
        let mut sim = Sim::new(seed);
        let epoch = sim.now();
        let router = sim
            .add_nat(
                Network::Internet,
                Ipv4Addr::new(203, 0, 113, 1),
                NatConfig::full_cone(),
            )
            .unwrap();
        let group_host = sim.add_host(router, GROUP_IP).unwrap();
        let mut hosts = Vec::new();
        let mut members = Vec::new();
        for i in 0..configs.len() {
            let ip = Ipv4Addr::new(192, 168, 1, 10 + i as u8);
            hosts.push(sim.add_host(router, ip).unwrap());
            members.push(SocketAddr::from((ip, 5353)));
        }
        let group = sim
            .add_endpoint_on_port(
                group_host,
                5353,
                Group {
                    members: members.clone(),
                    out: VecDeque::new(),
                    log: Vec::new(),
                    epoch,
                },
            )
            .unwrap();
        let mut nodes = Vec::new();
        for ((host, local), (resolver, publisher)) in hosts.iter().zip(members).zip(configs) {
            let node = Node {
                local,
                resolver: MdnsResolver::new(resolver),
                publisher: MdnsPublisher::new(publisher),
                events: Vec::new(),
                unicast_received: 0,
                epoch,
            };
            nodes.push(sim.add_endpoint_on_port(*host, 5353, node).unwrap());
        }
        Lan {
            sim,
            group,
            hosts,
            nodes,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
        }
    }

    fn node(&self, i: usize) -> &Node {
        self.sim.endpoint::<Node>(self.nodes[i]).unwrap()
    }

    fn node_mut(&mut self, i: usize) -> &mut Node {
        self.sim.endpoint_mut::<Node>(self.nodes[i]).unwrap()
    }

    fn publish(&mut self, i: usize, address: &str) -> String {
        let now = self.sim.now();
        let id = self.nodes[i];
        let node = self.sim.endpoint_mut::<Node>(id).unwrap();
        node.publisher
            .publish(now, &mut self.rng, address.parse().unwrap())
            .unwrap()
    }

    fn query(&mut self, i: usize, name: &str, want_ipv6: bool) {
        let now = self.sim.now();
        self.node_mut(i).resolver.query(now, name, want_ipv6).unwrap();
    }

    /// (time, sender) of every datagram the group relayed.
    fn group_log(&self) -> Vec<(Duration, SocketAddr, Vec<u8>)> {
        self.sim.endpoint::<Group>(self.group).unwrap().log.clone()
    }

    fn elapsed(&self) -> Duration {
        self.sim.elapsed()
    }
}

fn quiet() -> MdnsPublisherConfig {
    MdnsPublisherConfig {
        announcements: 0,
        ..MdnsPublisherConfig::default()
    }
}

#[test]
fn resolver_finds_a_publishers_name() {
    let seed = rtcwire_netsim::seed_from_env_or(1);
    let _report = SeedReporter::new(seed);
    let defaults = || (MdnsConfig::default(), MdnsPublisherConfig::default());
    let mut lan = Lan::new(seed, vec![defaults(), defaults(), defaults()]);
    for &h in &lan.hosts.clone() {
        lan.sim.set_link(h, LinkConfig::lan()).unwrap();
    }
    let name = lan.publish(1, "192.168.1.11");
    let name6 = lan.publish(2, "fe80::1234");
    // The announcements (two per name, one second apart) are ignored:
    // nobody asked yet.
    lan.sim.run_for(Duration::from_secs(2)).unwrap();
    assert_eq!(lan.node(0).resolver.cache_len(), 0);
    assert!(lan.node(0).resolver.stats().unsolicited >= 4);

    let start = lan.elapsed();
    lan.query(0, &name, false);
    lan.query(0, &name6, true);
    lan.sim.run_for(Duration::from_secs(10)).unwrap();
    let node = lan.node(0);
    let (at, address) = node.resolved(&name).expect("resolved");
    assert_eq!(address, "192.168.1.11".parse::<IpAddr>().unwrap());
    assert!(at - start < Duration::from_millis(10), "{at:?}");
    let (_, address6) = node.resolved(&name6).expect("resolved");
    assert_eq!(address6, "fe80::1234".parse::<IpAddr>().unwrap());
    assert_eq!(node.resolver.stats().queries_sent, 2);
    assert_eq!(
        node.resolver.lookup(lan.sim.now(), &name.to_uppercase()),
        Some(address)
    );
    // Host 2 heard host 1's answer, but did not ask: nothing cached there.
    assert_eq!(lan.node(2).resolver.cache_len(), 0);

    // An IPv6-only name asked for A only is not answered.
    let name6b = lan.publish(2, "fe80::5678");
    lan.query(0, &name6b, false);
    lan.sim.run_for(Duration::from_secs(10)).unwrap();
    assert!(lan.node(0).failed(&name6b).is_some());
}

#[test]
fn resolution_survives_thirty_percent_loss() {
    let base = rtcwire_netsim::seed_from_env_or(200);
    // Transmissions at 0, 1, 3, 7, 15 and 31 s.
    let config = MdnsConfig {
        max_transmissions: 6,
        query_timeout: Duration::from_secs(40),
        ..MdnsConfig::default()
    };
    let (mut resolved, mut retransmitted) = (0, 0);
    for i in 0..20 {
        let seed = base + i;
        let _report = SeedReporter::new(seed);
        let mut lan = Lan::new(
            seed,
            vec![(config.clone(), quiet()), (MdnsConfig::default(), quiet())],
        );
        // 30 % loss each way on the resolver's link: a query and its
        // answer both arrive only 49 % of the time.
        lan.sim
            .set_link(lan.hosts[0], LinkConfig::lan().loss(0.3))
            .unwrap();
        let name = lan.publish(1, "192.168.1.11");
        lan.query(0, &name, false);
        lan.sim.run_for(Duration::from_secs(45)).unwrap();
        let node = lan.node(0);
        match (node.resolved(&name), node.failed(&name)) {
            (Some((_, address)), None) => {
                assert_eq!(address, "192.168.1.11".parse::<IpAddr>().unwrap());
                resolved += 1;
                if node.resolver.stats().queries_sent > 1 {
                    retransmitted += 1;
                }
            }
            (None, Some(at)) => assert_eq!(at, Duration::from_secs(40), "seed {seed}"),
            other => panic!(
                "seed {seed}: exactly one outcome expected, got {other:?}\n{:?}",
                lan.sim
            ),
        }
        assert_eq!(node.resolver.pending_len(), 0);
    }
    // One attempt succeeds with probability 0.49: six fail together 1.8 %
    // of the time.
    assert!(resolved >= 17, "{resolved}/20 resolved");
    assert!(retransmitted >= 3, "only {retransmitted} needed a retransmission");
}

#[test]
fn unanswered_query_fails_on_schedule() {
    let seed = rtcwire_netsim::seed_from_env_or(3);
    let _report = SeedReporter::new(seed);
    let secs = Duration::from_secs;
    let cases = [
        // (config, expected send times in seconds, failure time)
        (MdnsConfig::default(), vec![0, 1, 3], secs(5)),
        (
            MdnsConfig {
                max_transmissions: 5,
                query_timeout: Duration::from_secs(20),
                ..MdnsConfig::default()
            },
            vec![0, 1, 3, 7, 15],
            secs(20),
        ),
        // More transmissions than fit before the timeout.
        (
            MdnsConfig {
                max_transmissions: 10,
                ..MdnsConfig::default()
            },
            vec![0, 1, 3],
            secs(5),
        ),
        (
            MdnsConfig {
                max_transmissions: 1,
                query_timeout: Duration::from_millis(2500),
                initial_interval: Duration::from_millis(250),
                ..MdnsConfig::default()
            },
            vec![0],
            Duration::from_millis(2500),
        ),
    ];
    for (config, times, timeout) in cases {
        let mut lan = Lan::new(
            seed,
            vec![(config.clone(), quiet()), (MdnsConfig::default(), quiet())],
        );
        lan.sim.run_for(Duration::from_millis(100)).unwrap();
        let start = lan.elapsed();
        lan.query(0, NAME, false);
        lan.sim.run_for(Duration::from_secs(60)).unwrap();
        let sent: Vec<_> = lan
            .group_log()
            .into_iter()
            .filter(|(_, from, _)| from.ip() == IpAddr::from([192, 168, 1, 10]))
            .map(|(t, _, payload)| {
                assert_eq!(payload, query_bytes());
                t - start
            })
            .collect();
        let expected: Vec<_> = times.iter().map(|&s| Duration::from_secs(s)).collect();
        assert_eq!(sent, expected, "{config:?}");
        let node = lan.node(0);
        assert_eq!(node.events.len(), 1);
        assert_eq!(node.failed(NAME), Some(start + timeout));
        assert_eq!(node.resolver.stats().queries_sent, times.len() as u64);
        assert_eq!(
            (node.resolver.pending_len(), node.resolver.poll_timeout()),
            (0, None)
        );
    }
}

#[test]
fn ttl_expiry_and_goodbye_remove_cache_entries() {
    let seed = rtcwire_netsim::seed_from_env_or(4);
    let _report = SeedReporter::new(seed);
    let short = MdnsPublisherConfig {
        ttl: 10,
        announcements: 0,
        ..MdnsPublisherConfig::default()
    };
    let mut lan = Lan::new(
        seed,
        vec![(MdnsConfig::default(), quiet()), (MdnsConfig::default(), short)],
    );
    let name = lan.publish(1, "192.168.1.11");
    let start = lan.sim.now();
    lan.query(0, &name, false);
    lan.sim.run_for(Duration::from_millis(10)).unwrap();
    let ip: IpAddr = "192.168.1.11".parse().unwrap();
    assert_eq!(lan.node(0).resolved(&name).map(|(_, a)| a), Some(ip));
    let resolver = &lan.node(0).resolver;
    assert_eq!(
        resolver.lookup(start + Duration::from_millis(9999), &name),
        Some(ip)
    );
    assert_eq!(resolver.lookup(start + Duration::from_secs(10), &name), None);

    // Expired entries go at the next input.
    lan.sim.run_for(Duration::from_secs(11)).unwrap();
    assert_eq!(lan.node(0).resolver.cache_len(), 1);
    let now = lan.sim.now();
    lan.node_mut(0).resolver.handle_timeout(now);
    assert_eq!(lan.node(0).resolver.cache_len(), 0);

    // Once expired, the name is nobody's business any more: a fresh
    // announcement is not cached...
    let now = lan.sim.now();
    lan.node_mut(1).publisher.publish_name(now, &name, ip).unwrap();
    lan.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(lan.node(0).resolver.cache_len(), 0);

    // ... but it is after a new query, and a goodbye removes it at once.
    lan.query(0, &name, false);
    lan.sim.run_for(Duration::from_secs(2)).unwrap();
    assert_eq!(lan.node(0).resolver.lookup(lan.sim.now(), &name), Some(ip));
    assert!(lan.node_mut(1).publisher.unpublish(&name));
    lan.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(lan.node(0).resolver.lookup(lan.sim.now(), &name), None);
    assert_eq!(lan.node(0).resolver.cache_len(), 0);
    // Unpublished names are not answered.
    lan.query(0, &name, false);
    lan.sim.run_for(Duration::from_secs(6)).unwrap();
    assert!(lan.node(0).failed(&name).is_some());
}

#[test]
fn unicast_response_bit_gets_a_unicast_answer_after_an_announcement() {
    let seed = rtcwire_netsim::seed_from_env_or(5);
    let _report = SeedReporter::new(seed);
    let qu = MdnsConfig {
        unicast_response: true,
        ..MdnsConfig::default()
    };
    let announce_once = MdnsPublisherConfig {
        announcements: 1,
        ..MdnsPublisherConfig::default()
    };
    let mut lan = Lan::new(seed, vec![(qu, quiet()), (MdnsConfig::default(), announce_once)]);
    let name = lan.publish(1, "192.168.1.11");
    lan.sim.run_for(Duration::from_secs(2)).unwrap();
    let from_publisher = |lan: &Lan| {
        lan.group_log()
            .iter()
            .filter(|(_, from, _)| from.ip() == IpAddr::from([192, 168, 1, 11]))
            .count()
    };
    assert_eq!(from_publisher(&lan), 1);
    lan.query(0, &name, false);
    lan.sim.run_for(Duration::from_millis(10)).unwrap();
    assert!(lan.node(0).resolved(&name).is_some());
    // Multicast within a quarter of the TTL: the answer came directly.
    assert_eq!(from_publisher(&lan), 1);
    assert_eq!(lan.node(0).unicast_received, 1);
}

#[test]
fn floods_for_unknown_names_are_not_cached() {
    let seed = rtcwire_netsim::seed_from_env_or(6);
    let _report = SeedReporter::new(seed);
    let config = MdnsConfig {
        query_timeout: Duration::from_secs(60),
        max_transmissions: 1,
        ..MdnsConfig::default()
    };
    let mut lan = Lan::new(seed, vec![(config.clone(), quiet()), (config, quiet())]);
    // The attacker, also on the LAN, without an mDNS node.
    let router = lan.sim.host_network(lan.hosts[0]).unwrap();
    let attacker_ip = Ipv4Addr::new(192, 168, 1, 66);
    let attacker = lan.sim.add_host(router, attacker_ip).unwrap();
    let attacker_addr = SocketAddr::from((attacker_ip, 5353));

    lan.query(0, NAME, false);
    lan.sim.run_for(Duration::from_millis(10)).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for i in 0..2000u32 {
        // Three random names per response.
        let mut b = DnsBuilder::response();
        for _ in 0..3 {
            let name = format!("{:032x}.local", rng.random::<u128>());
            b.answer(&name, IpAddr::from(i.to_be_bytes()), 4500, true)
                .unwrap();
        }
        lan.sim
            .send_from(
                attacker,
                Datagram {
                    source: attacker_addr,
                    destination: MDNS_IPV4,
                    payload: b.finish(),
                },
            )
            .unwrap();
    }
    lan.sim.run_for(Duration::from_millis(10)).unwrap();
    for i in 0..2 {
        let r = &lan.node(i).resolver;
        assert_eq!(r.cache_len(), 0);
        assert_eq!(r.stats().unsolicited, 6000);
    }
    assert_eq!(lan.node(0).resolver.pending_len(), 1);
    assert!(lan.node(0).events.is_empty());

    // An attacker can answer a name that was asked for, but however many
    // addresses it sends, the cache stays within its cap.
    for i in 0..300u32 {
        let mut b = DnsBuilder::response();
        b.answer(NAME, IpAddr::from((i + 1).to_be_bytes()), 120, false)
            .unwrap();
        lan.sim
            .send_from(
                attacker,
                Datagram {
                    source: attacker_addr,
                    destination: MDNS_IPV4,
                    payload: b.finish(),
                },
            )
            .unwrap();
    }
    lan.sim.run_for(Duration::from_millis(10)).unwrap();
    let r = &lan.node(0).resolver;
    assert_eq!(r.cache_len(), MdnsConfig::default().max_cache);
    assert_eq!(r.stats().evicted, 300 - 256);
    assert_eq!(lan.node(0).events.len(), 1);
    // Host 1 never asked: still nothing.
    assert_eq!(lan.node(1).resolver.cache_len(), 0);
}
