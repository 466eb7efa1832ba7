//! Harness for the fuzz targets in `fuzz/` and for `tests/wire.rs`: drives
//! the crate's internal wire formats (records, handshake headers and
//! bodies, fragment reassembly) with arbitrary bytes and asserts their
//! invariants, panicking when one breaks.
//!
//! Compiled only with the `fuzzing` feature, which the fuzz crate and this
//! crate's own tests enable. Not a stable API.
// Why these panics cannot be reached from network input: the module
// exists only with the `fuzzing` feature (cargo-fuzz and tests), not in
// a default build, and each assertion is the fuzzer's oracle, checking
// that the parsers' own output round-trips. A failing one is a bug the
// fuzzer reports.
#![cfg(feature = "fuzzing")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use crate::Error;
use crate::fragment::handshake_fragments;
use crate::fragment::{
    MAX_BUFFERED, MAX_MESSAGE_LEN, MAX_MESSAGES_AHEAD, Reassembler, fragment, full_message,
};
use crate::handshake::{HANDSHAKE_HEADER_LEN, HandshakeMessage, HandshakeType};
use crate::record::{
    ContentType, DTLS_1_0, DTLS_1_2, MAX_SEQUENCE, RECORD_HEADER_LEN, RecordHeader, ReplayWindow,
};
use crate::record::{epoch_sequence, records};
use crate::test_vectors;

/// Splits `datagram` into records and checks that every header re-emits to
/// the bytes it was read from, that the fragments tile the datagram, that
/// iteration stops after an error, and that a replay window over the
/// records' sequence numbers agrees with a simple model. Handshake records'
/// fragments also go through [`check_handshake`]. Returns how many records
/// parsed.
pub fn check_records(datagram: &[u8]) -> usize {
    let mut it = records(datagram);
    let mut pos = 0;
    let mut count = 0;
    let mut window = ReplayWindow::new();
    let mut seen = BTreeSet::new();
    while let Some(item) = it.next() {
        let Ok((header, fragment)) = item else {
            assert_eq!(it.next(), None, "records() goes on after an error");
            return count;
        };
        let mut out = Vec::new();
        header.write(&mut out);
        assert_eq!(out.len(), RECORD_HEADER_LEN);
        assert_eq!(
            &datagram[pos..pos + RECORD_HEADER_LEN],
            &out[..],
            "header re-emits differently"
        );
        pos += RECORD_HEADER_LEN;
        assert_eq!(fragment.len(), usize::from(header.length));
        assert_eq!(&datagram[pos..pos + fragment.len()], fragment);
        pos += fragment.len();
        count += 1;

        let es = epoch_sequence(header.epoch, header.sequence);
        assert_eq!(es >> 48, u64::from(header.epoch));
        assert_eq!(es & MAX_SEQUENCE, header.sequence);

        let newest = seen.last().copied();
        let fresh = !seen.contains(&header.sequence) && newest.is_none_or(|n: u64| header.sequence + 64 > n);
        assert_eq!(
            window.check(header.sequence),
            fresh,
            "replay window disagrees with the model"
        );
        if fresh {
            window.accept(header.sequence);
            seen.insert(header.sequence);
        }

        if header.content_type == ContentType::Handshake {
            let _ = check_handshake(fragment);
        }
    }
    assert_eq!(pos, datagram.len(), "records do not cover the datagram");
    count
}

/// Treats `data` both as a message body of every handshake type and as a
/// sequence of handshake fragments. What parses must write back equal
/// (byte for byte, but for an omitted empty extensions block) and parse
/// again equal; fragment headers must re-emit to their bytes; fragments go
/// through a `Reassembler` whose bounds must hold and whose messages are
/// checked the same way, and re-fragmented and reassembled again. The
/// reassembler starts at the first fragment's message_seq. Returns how
/// many messages it delivered.
pub fn check_handshake(data: &[u8]) -> usize {
    for t in HandshakeType::ALL {
        check_body(t, data);
    }

    let mut reassembler: Option<Reassembler> = None;
    let mut expected_seq = 0u32;
    let mut delivered = 0;
    let mut pos = 0;
    let mut it = handshake_fragments(data);
    while let Some(item) = it.next() {
        let Ok((header, fragment)) = item else {
            assert!(
                it.next().is_none(),
                "handshake_fragments() goes on after an error"
            );
            break;
        };
        let mut out = Vec::new();
        header.write(&mut out);
        assert_eq!(&data[pos..pos + HANDSHAKE_HEADER_LEN], &out[..]);
        pos += HANDSHAKE_HEADER_LEN + fragment.len();
        assert!(header.fragment_offset + header.fragment_length <= header.length);
        let reassembler = reassembler.get_or_insert_with(|| {
            expected_seq = u32::from(header.message_seq);
            Reassembler::new(header.message_seq)
        });

        let first = reassembler.push(&header, fragment);
        let again = reassembler.push(&header, fragment);
        match first {
            Ok(_) => assert_eq!(again, Ok(false), "a repeated fragment brought something new"),
            Err(e) => {
                assert_eq!(again, Err(e.clone()), "a refused fragment changed the state");
                if let Error::TooLarge(_) = e {
                    assert!(header.length as usize > MAX_MESSAGE_LEN);
                }
            }
        }
        assert!(reassembler.buffered_bytes() <= MAX_BUFFERED);
        assert!(reassembler.buffered_messages() <= usize::from(MAX_MESSAGES_AHEAD));
        while let Some((t, seq, body)) = reassembler.pop() {
            assert_eq!(u32::from(seq), expected_seq, "messages out of order");
            expected_seq += 1;
            delivered += 1;
            assert!(body.len() <= MAX_MESSAGE_LEN);
            check_body(t, &body);
            check_refragment(t, seq, &body);
        }
    }
    delivered
}

/// Parse `body` as a `t`; if it parses, it must round-trip.
fn check_body(t: HandshakeType, body: &[u8]) {
    let Ok(msg) = HandshakeMessage::parse(t, body) else {
        return;
    };
    assert_eq!(msg.msg_type(), t);
    let written = msg
        .to_body()
        .unwrap_or_else(|e| panic!("{t:?} parsed but does not write: {e}"));
    let again =
        HandshakeMessage::parse(t, &written).unwrap_or_else(|e| panic!("{t:?} written does not parse: {e}"));
    assert_eq!(again, msg);
    if written != body {
        // The one permitted difference: an empty extensions block is omitted.
        let no_extensions = match &msg {
            HandshakeMessage::ClientHello(m) => m.extensions.is_empty(),
            HandshakeMessage::ServerHello(m) => m.extensions.is_empty(),
            _ => false,
        };
        assert!(
            no_extensions
                && body.len() == written.len() + 2
                && body.starts_with(&written)
                && body.ends_with(&[0, 0]),
            "{t:?} re-encodes differently"
        );
    }
}

/// Fragment a message at a few sizes, reassemble in reverse order.
fn check_refragment(t: HandshakeType, seq: u16, body: &[u8]) {
    for max_len in [13, 13 + body.len() % 251, 1200] {
        let frags = fragment(t, seq, body, max_len);
        let mut r = Reassembler::new(seq);
        for f in frags.iter().rev() {
            assert!(f.len() <= max_len.max(13));
            let (h, bytes) = handshake_fragments(f)
                .next()
                .expect("one fragment")
                .expect("valid");
            r.push(&h, bytes).expect("own fragments are consistent");
        }
        assert_eq!(r.pop(), Some((t, seq, body.to_vec())));
    }
    let full = full_message(t, seq, body);
    assert_eq!(fragment(t, seq, body, full.len()), [full]);
}

/// A handshake message read from datagrams by [`read_flight`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlightMessage {
    /// Handshake type number.
    pub msg_type: u8,
    /// message_seq.
    pub message_seq: u16,
    /// The reassembled body.
    pub body: Vec<u8>,
    /// The decoded message, as its `Debug` text.
    pub decoded: String,
}

/// Reads handshake messages the way an endpoint does: datagrams split into
/// records, handshake records into fragments, fragments reassembled from
/// message_seq 0, each complete message parsed.
pub fn read_flight(datagrams: &[&[u8]]) -> Result<Vec<FlightMessage>, Error> {
    let mut r = Reassembler::new(0);
    let mut out = Vec::new();
    for datagram in datagrams {
        for record in records(datagram) {
            let (header, fragment) = record?;
            if header.content_type != ContentType::Handshake || header.epoch != 0 {
                continue;
            }
            for piece in handshake_fragments(fragment) {
                let (h, bytes) = piece?;
                r.push(&h, bytes)?;
            }
            while let Some((t, seq, body)) = r.pop() {
                let msg = HandshakeMessage::parse(t, &body)?;
                out.push(FlightMessage {
                    msg_type: t.to_u8(),
                    message_seq: seq,
                    body,
                    decoded: format!("{msg:?}"),
                });
            }
        }
    }
    Ok(out)
}

/// A plaintext epoch-0 record around `fragment`.
fn record(content_type: ContentType, version: u16, sequence: u64, fragment: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    RecordHeader {
        content_type,
        version,
        epoch: 0,
        sequence,
        length: u16::try_from(fragment.len()).expect("short fragment"),
    }
    .write(&mut out);
    out.extend_from_slice(fragment);
    out
}

/// Chromium's ClientHello (see INTEROP.md) as it arrives: two datagrams of
/// one record each, the first 1,200 bytes long.
pub fn chromium_client_hello_datagrams() -> Vec<Vec<u8>> {
    let body = test_vectors::chromium_client_hello();
    fragment(HandshakeType::ClientHello, 0, &body, 1200 - RECORD_HEADER_LEN)
        .iter()
        .zip(0..)
        .map(|(f, seq)| record(ContentType::Handshake, DTLS_1_0, seq, f))
        .collect()
}

/// Seed inputs for the fuzz targets: (target, file name, bytes).
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let vectors = test_vectors::messages();
    for v in &vectors {
        seeds.push(("dtls_handshake", format!("{}.bin", v.name), v.body.clone()));
        let full = full_message(v.msg.msg_type(), 0, &v.body);
        seeds.push(("dtls_handshake", format!("{}_full.bin", v.name), full));
    }
    // A server's second flight in one record, and the same split small.
    let flight_names = [
        "server_hello",
        "certificate",
        "server_key_exchange",
        "certificate_request",
        "server_hello_done",
    ];
    let mut flight = Vec::new();
    let mut split = Vec::new();
    for (seq, name) in (1..).zip(flight_names) {
        let v = vectors.iter().find(|v| v.name == name).expect("vector");
        flight.extend(full_message(v.msg.msg_type(), seq, &v.body));
        split.extend(fragment(v.msg.msg_type(), seq, &v.body, 40).concat());
    }
    seeds.push(("dtls_handshake", "server_flight.bin".into(), flight.clone()));
    seeds.push(("dtls_handshake", "server_flight_fragmented.bin".into(), split));
    let chromium = chromium_client_hello_datagrams();
    seeds.push((
        "dtls_record",
        "chromium_client_hello_1.bin".into(),
        chromium[0].clone(),
    ));
    seeds.push((
        "dtls_record",
        "chromium_client_hello_2.bin".into(),
        chromium[1].clone(),
    ));
    seeds.push((
        "dtls_record",
        "chromium_client_hello_both.bin".into(),
        chromium.concat(),
    ));
    seeds.push((
        "dtls_record",
        "server_flight.bin".into(),
        record(ContentType::Handshake, DTLS_1_2, 1, &flight),
    ));
    // ChangeCipherSpec, then an epoch-1 Finished and data (opaque here).
    let mut ccs = record(ContentType::ChangeCipherSpec, DTLS_1_2, 6, &[1]);
    let mut finished = record(ContentType::Handshake, DTLS_1_2, 0, &[0xee; 40]);
    finished[3..5].copy_from_slice(&[0, 1]);
    let mut data = record(ContentType::ApplicationData, DTLS_1_2, 1, &[0xdd; 33]);
    data[3..5].copy_from_slice(&[0, 1]);
    ccs.extend(finished);
    ccs.extend(data);
    seeds.push(("dtls_record", "ccs_finished_data.bin".into(), ccs));
    let alert = record(ContentType::Alert, DTLS_1_2, 9, &[2, 40]);
    seeds.push(("dtls_record", "alert.bin".into(), alert));
    seeds
}
