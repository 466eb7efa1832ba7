//! Fuzzing harness for the wire formats (compiled under `cfg(fuzzing)`,
//! which cargo-fuzz sets, and in tests; not a stable API). The packet
//! types are crate-private, so `fuzz/fuzz_targets/sctp_packet.rs` and the
//! crate's property tests both call [`sctp_packet`].
// Why these panics cannot be reached from network input: the module is
// compiled only for cargo-fuzz and tests, never into a library build,
// and each assertion is the fuzzer's oracle, checking that the parsers'
// own output round-trips. A failing one is a bug the fuzzer reports.
#![cfg(any(test, fuzzing))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::chunk::{Chunk, forward_tsn_streams, i_forward_tsn_streams};
use crate::dcep::DcepMessage;
use crate::packet::{COMMON_HEADER_LEN, Chunks, packet_crc32c, parse_packet};
use crate::param::{Param, ReconfigParam};
use crate::param::{
    causes, padded, reconfig_params, stream_ids, write_cause, write_param, write_reconfig_param,
};

/// `packet` with its real CRC32c written in (packets of 12 bytes or
/// more), so that fuzz targets driving associations get past the checksum.
pub fn with_checksum(mut packet: Vec<u8>) -> Vec<u8> {
    if packet.len() >= COMMON_HEADER_LEN {
        packet[8..12].fill(0);
        let crc = packet_crc32c(&packet);
        packet[8..12].copy_from_slice(&crc.to_le_bytes());
    }
    packet
}

/// Feeds one input through every parser: the first byte picks whether the
/// rest gets its real CRC32c written in (odd) or is parsed as it is, so the
/// fuzzer reaches the chunks without guessing checksums. Then: the packet
/// is parsed with and without zero-checksum acceptance; every chunk, INIT
/// parameter, gap block, FORWARD TSN entry, RE-CONFIG parameter and error
/// cause is decoded; whatever decodes is written again and must decode
/// equal; the same bytes are parsed as a DCEP message, and one that parses
/// must survive a write and parse.
pub fn sctp_packet(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 1 && rest.len() >= COMMON_HEADER_LEN {
        let mut fixed = rest.to_vec();
        let crc = packet_crc32c(&fixed);
        fixed[8..COMMON_HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
        packet(&fixed);
    } else {
        packet(rest);
    }
    dcep(rest);
}

fn packet(data: &[u8]) {
    let strict = parse_packet(data, false);
    let lenient = parse_packet(data, true);
    if let Ok((header, chunks)) = &strict {
        // Whatever passes the checksum passes without asking for it.
        let (h2, _) = lenient.as_ref().expect("lenient accepts what strict accepts");
        assert_eq!(header, h2);
        walk(chunks.clone());
    }
    if let Ok((header, chunks)) = lenient {
        assert!(header.checksum == 0 || strict.is_ok());
        walk(chunks);
    }
}

fn walk(chunks: Chunks<'_>) {
    for chunk in chunks {
        let Ok(chunk) = chunk else {
            break;
        };
        nested(&chunk);
        chunk.validate().expect("a decoded chunk is valid");
        let mut out = Vec::new();
        chunk.write(&mut out);
        assert_eq!(out.len(), padded(chunk.encoded_len()));
        let mut p = vec![0u8; COMMON_HEADER_LEN];
        p.extend_from_slice(&out);
        let (_, mut again) = parse_packet(&p, true).expect("a written chunk frames");
        assert_eq!(again.next(), Some(Ok(chunk)));
        assert_eq!(again.next(), None);
    }
}

fn nested(chunk: &Chunk<'_>) {
    match *chunk {
        Chunk::Init(init) | Chunk::InitAck(init) => {
            let mut out = Vec::new();
            let mut decoded = Vec::new();
            for p in init.params() {
                let Ok(p) = p else { break };
                write_param(&p, &mut out);
                assert_eq!(out.len() % 4, 0);
                decoded.push(p);
            }
            let again: Vec<Param<'_>> = crate::param::Params::new(&out).map(|p| p.unwrap()).collect();
            assert_eq!(again, decoded);
        }
        Chunk::Sack(sack) => {
            assert_eq!(sack.gap_blocks().count(), sack.gap_block_count());
            assert_eq!(sack.duplicate_tsns().count(), sack.duplicate_count());
        }
        Chunk::ForwardTsn { streams, .. } => {
            assert_eq!(forward_tsn_streams(streams).count(), streams.len() / 4)
        }
        Chunk::IForwardTsn { streams, .. } => {
            assert_eq!(i_forward_tsn_streams(streams).count(), streams.len() / 8)
        }
        Chunk::ReConfig(value) => {
            let mut out = Vec::new();
            let mut decoded = Vec::new();
            for p in reconfig_params(value) {
                let Ok(p) = p else { break };
                if let ReconfigParam::OutgoingResetRequest { streams, .. }
                | ReconfigParam::IncomingResetRequest { streams, .. } = p
                {
                    assert_eq!(stream_ids(streams).count() * 2, streams.len());
                }
                write_reconfig_param(&p, &mut out);
                decoded.push(p);
            }
            let again: Vec<ReconfigParam<'_>> = reconfig_params(&out).map(|p| p.unwrap()).collect();
            assert_eq!(again, decoded);
        }
        Chunk::Abort { causes: value, .. } | Chunk::Error(value) => {
            let mut out = Vec::new();
            let mut decoded = Vec::new();
            for c in causes(value) {
                let Ok((code, v)) = c else { break };
                write_cause(code, v, &mut out);
                decoded.push((code, v));
            }
            let again: Vec<(u16, &[u8])> = causes(&out).map(|c| c.unwrap()).collect();
            assert_eq!(again, decoded);
        }
        _ => {}
    }
}

fn dcep(data: &[u8]) {
    let Ok(msg) = DcepMessage::parse(data) else {
        return;
    };
    let mut out = Vec::new();
    msg.write(&mut out).expect("a parsed message fits");
    assert_eq!(out.len(), msg.encoded_len());
    assert_eq!(DcepMessage::parse(&out), Ok(msg));
}
