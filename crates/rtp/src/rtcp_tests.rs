//! Tests of RTCP parsing and writing.
//!
//! The byte arrays are built by hand, field by field, from the packet
//! figures of the RFCs named on each (RFC 3550 section 6.4-6.7, RFC 3611
//! section 4.4-4.5, RFC 4585 section 6.1-6.3, RFC 5104 section 4.3.1,
//! draft-alvestrand-rmcat-remb-03 section 2.2,
//! draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1).
// Test code: an unwrap or panic here fails a test on purpose; none of it
// is compiled outside `cargo test`, so no network input reaches it.

#![cfg(test)]

use proptest::prelude::*;

use crate::*;

/// RFC 3550 section 6.4.1 figure: SR, RC=1.
const SR_ONE_BLOCK: [u8; 52] = [
    0x81, 0xc8, 0x00, 0x0c, // V=2 RC=1, PT=200, length 12
    0x11, 0x22, 0x33, 0x44, // SSRC of sender
    0xdd, 0x2e, 0x1b, 0x7c, 0x80, 0x00, 0x00, 0x00, // NTP timestamp
    0x00, 0x00, 0x30, 0x39, // RTP timestamp
    0x00, 0x00, 0x00, 0x64, // sender's packet count
    0x00, 0x00, 0x3e, 0x80, // sender's octet count
    0x55, 0x66, 0x77, 0x88, // SSRC_1
    0x40, 0xff, 0xff, 0xff, // fraction lost 1/4, cumulative lost -1
    0x00, 0x01, 0x00, 0x05, // extended highest sequence number
    0x00, 0x00, 0x00, 0x20, // interarrival jitter
    0x1b, 0x7c, 0x80, 0x00, // LSR
    0x00, 0x01, 0x00, 0x00, // DLSR (1 s)
];

/// RFC 3550 section 6.1's usual compound: RR (no blocks) then SDES with a
/// CNAME (section 6.5 figure, 6.5.1 CNAME item).
const RR_SDES: [u8; 28] = [
    0x80, 0xc9, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44, // RR, RC=0, SSRC
    0x81, 0xca, 0x00, 0x04, // SDES, SC=1, length 4
    0x11, 0x22, 0x33, 0x44, // chunk SSRC
    0x01, 0x09, b'u', b's', b'e', b'r', b'@', b'h', b'o', b's', b't', // CNAME "user@host"
    0x00, // terminator, already on a 32-bit boundary
];

/// RFC 3550 section 6.6 figure: BYE, SC=1, reason "change" padded.
const BYE_REASON: [u8; 16] = [
    0x81, 0xcb, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44, 0x06, b'c', b'h', b'a', b'n', b'g', b'e', 0x00,
];

/// RFC 3550 section 6.7 figure: APP, subtype 2, name "TEST", 4 data bytes.
const APP_TEST: [u8; 16] = [
    0x82, 0xcc, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44, b'T', b'E', b'S', b'T', 0xde, 0xad, 0xbe, 0xef,
];

/// RFC 3611 section 2 header, 4.4 RRTR block, 4.5 DLRR block with one
/// sub-block.
const XR_RRTR_DLRR: [u8; 36] = [
    0x80, 0xcf, 0x00, 0x08, 0x11, 0x22, 0x33, 0x44, // XR, SSRC
    0x04, 0x00, 0x00, 0x02, 0xdd, 0x2e, 0x1b, 0x7c, 0x80, 0x00, 0x00, 0x00, // RRTR, NTP
    0x05, 0x00, 0x00, 0x03, 0x55, 0x66, 0x77, 0x88, // DLRR, SSRC_1
    0x1b, 0x7c, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, // LRR, DLRR (0.5 s)
];

/// RFC 4585 section 6.1 header, 6.2.1 generic NACK: PID 100, BLP 0b101
/// (packets 100, 101 and 103 lost).
const NACK: [u8; 16] = [
    0x81, 0xcd, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x64, 0x00, 0x05,
];

/// RFC 4585 section 6.3.1: PLI has no FCI.
const PLI: [u8; 12] = [
    0x81, 0xce, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
];

/// RFC 5104 section 4.3.1.1: FIR, media source 0, one entry, seq 7.
const FIR: [u8; 20] = [
    0x84, 0xce, 0x00, 0x04, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00, 0x55, 0x66, 0x77, 0x88, 0x07,
    0x00, 0x00, 0x00,
];

/// draft-alvestrand-rmcat-remb-03 section 2.2: 1 SSRC, exponent 2,
/// mantissa 250000 (1 Mbit/s).
const REMB: [u8; 24] = [
    0x8f, 0xce, 0x00, 0x05, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00, b'R', b'E', b'M', b'B', 0x01,
    0x0b, 0xd0, 0x90, 0x55, 0x66, 0x77, 0x88,
];

/// draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1: base
/// 16, 5 packets (small 4, lost, small 0x20, large -4, small 0xff) in one
/// two-bit status vector chunk (0b11_01_00_01_10_01_00_00), reference time
/// 1, feedback count 3, 5 delta bytes, then one byte of padding with the P
/// bit as libwebrtc writes it.
const TWCC: [u8; 28] = [
    0xaf, 0xcd, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // header, SSRCs
    0x00, 0x10, 0x00, 0x05, 0x00, 0x00, 0x01, 0x03, // base, count, ref time, fb count
    0xd1, 0x90, // status vector chunk
    0x04, 0x20, 0xff, 0xfc, 0xff, // deltas
    0x01, // padding
];

fn only(buf: &[u8]) -> RtcpPacket<'_> {
    let mut c = Compound::new(buf);
    let p = c.next().unwrap().unwrap();
    assert!(c.next().is_none());
    p
}

fn rebuilt(p: &RtcpPacket<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let mut w = RtcpWriter::new(&mut buf);
    w.push(p).unwrap();
    let n = w.finish();
    buf.truncate(n);
    buf
}

#[test]
fn sender_report() {
    let RtcpPacket::SenderReport(sr) = only(&SR_ONE_BLOCK) else {
        panic!()
    };
    assert_eq!(sr.ssrc, 0x1122_3344);
    assert_eq!(sr.ntp_time, 0xdd2e_1b7c_8000_0000);
    assert_eq!(sr.rtp_time, 12345);
    assert_eq!(sr.packet_count, 100);
    assert_eq!(sr.octet_count, 16000);
    let blocks: Vec<_> = sr.reports.iter().collect();
    assert_eq!(
        blocks,
        [ReportBlock {
            ssrc: 0x5566_7788,
            fraction_lost: 0x40,
            cumulative_lost: -1,
            extended_highest_sequence: 0x0001_0005,
            jitter: 0x20,
            last_sr: 0x1b7c_8000,
            delay_since_last_sr: 0x0001_0000,
        }]
    );
    // Emit the same packet from values.
    let p = RtcpPacket::SenderReport(SenderReport {
        reports: Items::Slice(&blocks),
        ..sr
    });
    assert_eq!(rebuilt(&p), SR_ONE_BLOCK);
}

#[test]
fn receiver_report_and_sdes_compound() {
    let packets: Vec<_> = Compound::validate(&RR_SDES)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(packets.len(), 2);
    let RtcpPacket::ReceiverReport(rr) = packets[0] else {
        panic!()
    };
    assert_eq!(rr.ssrc, 0x1122_3344);
    assert!(rr.reports.is_empty());
    let RtcpPacket::Sdes(sdes) = packets[1] else {
        panic!()
    };
    assert_eq!(sdes.cname(), Some(&b"user@host"[..]));
    let chunk = sdes.chunks.iter().next().unwrap();
    assert_eq!(chunk.ssrc, 0x1122_3344);
    // Build the compound from values.
    let items = [SdesItem {
        kind: sdes_type::CNAME,
        value: b"user@host",
    }];
    let chunks = [SdesChunk {
        ssrc: 0x1122_3344,
        items: SdesItems::Slice(&items),
    }];
    let mut buf = [0u8; 64];
    let mut w = RtcpWriter::new(&mut buf);
    w.push(&RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 0x1122_3344,
        ..Default::default()
    }))
    .unwrap();
    w.push(&RtcpPacket::Sdes(Sdes {
        chunks: SdesChunks::Slice(&chunks),
    }))
    .unwrap();
    let n = w.finish();
    assert_eq!(&buf[..n], &RR_SDES[..]);
    assert_eq!(
        packets[1],
        RtcpPacket::Sdes(Sdes {
            chunks: SdesChunks::Slice(&chunks)
        })
    );
}

#[test]
fn bye_app_xr() {
    let RtcpPacket::Bye(bye) = only(&BYE_REASON) else {
        panic!()
    };
    assert_eq!(bye.sources.iter().collect::<Vec<_>>(), [0x1122_3344]);
    assert_eq!(bye.reason, Some(&b"change"[..]));
    assert_eq!(rebuilt(&RtcpPacket::Bye(bye)), BYE_REASON);

    let RtcpPacket::App(app) = only(&APP_TEST) else {
        panic!()
    };
    assert_eq!(
        (app.subtype, app.ssrc, &app.name, app.data),
        (2, 0x1122_3344, b"TEST", &[0xde, 0xad, 0xbe, 0xef][..])
    );
    assert_eq!(rebuilt(&RtcpPacket::App(app)), APP_TEST);

    let RtcpPacket::Xr(xr) = only(&XR_RRTR_DLRR) else {
        panic!()
    };
    let dlrr = [DlrrItem {
        ssrc: 0x5566_7788,
        last_rr: 0x1b7c_8000,
        delay_since_last_rr: 0x8000,
    }];
    let blocks = [
        XrBlock::Rrtr {
            ntp_time: 0xdd2e_1b7c_8000_0000,
        },
        XrBlock::Dlrr(Items::Slice(&dlrr)),
    ];
    let built = Xr {
        ssrc: 0x1122_3344,
        blocks: XrBlocks::Slice(&blocks),
    };
    assert_eq!(xr, built);
    assert_eq!(rebuilt(&RtcpPacket::Xr(built)), XR_RRTR_DLRR);
}

#[test]
fn feedback() {
    let RtcpPacket::Nack(nack) = only(&NACK) else {
        panic!()
    };
    assert_eq!((nack.sender_ssrc, nack.media_ssrc), (0x1122_3344, 0x5566_7788));
    assert_eq!(nack.lost().collect::<Vec<_>>(), [100, 101, 103]);
    let pairs: Vec<_> = nack_pairs([100, 101, 103]).collect();
    assert_eq!(pairs, [NackPair { pid: 100, blp: 0b101 }]);
    assert_eq!(
        rebuilt(&RtcpPacket::Nack(Nack {
            pairs: Items::Slice(&pairs),
            ..nack
        })),
        NACK
    );
    // Across the wrap, and a gap wider than 16.
    let pairs: Vec<_> = nack_pairs([65534, 65535, 0, 40]).collect();
    assert_eq!(
        pairs,
        [
            NackPair {
                pid: 65534,
                blp: 0b11
            },
            NackPair { pid: 40, blp: 0 }
        ]
    );

    assert_eq!(
        only(&PLI),
        RtcpPacket::Pli(Pli {
            sender_ssrc: 0x1122_3344,
            media_ssrc: 0x5566_7788
        })
    );
    assert_eq!(rebuilt(&only(&PLI)), PLI);

    let entries = [FirEntry {
        ssrc: 0x5566_7788,
        sequence: 7,
    }];
    let fir = Fir {
        sender_ssrc: 0x1122_3344,
        media_ssrc: 0,
        entries: Items::Slice(&entries),
    };
    assert_eq!(only(&FIR), RtcpPacket::Fir(fir));
    assert_eq!(rebuilt(&RtcpPacket::Fir(fir)), FIR);

    let RtcpPacket::Remb(remb) = only(&REMB) else {
        panic!()
    };
    assert_eq!(remb.bitrate.bps(), 1_000_000);
    assert_eq!(remb.ssrcs.iter().collect::<Vec<_>>(), [0x5566_7788]);
    let built = Remb {
        sender_ssrc: 0x1122_3344,
        media_ssrc: 0,
        bitrate: RembBitrate::from_bps(1_000_000),
        ssrcs: Items::Slice(&[0x5566_7788]),
    };
    assert_eq!(rebuilt(&RtcpPacket::Remb(built)), REMB);
    assert_eq!(
        RembBitrate {
            exponent: 63,
            mantissa: 0x3ffff
        }
        .bps(),
        u64::MAX
    );
}

#[test]
fn transport_cc() {
    let RtcpPacket::TransportCc(t) = only(&TWCC) else {
        panic!()
    };
    assert_eq!((t.base_sequence, t.reference_time, t.feedback_count), (16, 1, 3));
    let got: Vec<_> = t.packets().collect();
    assert_eq!(
        got,
        [
            (16, Some(4)),
            (17, None),
            (18, Some(0x20)),
            (19, Some(-4)),
            (20, Some(0xff))
        ]
    );
    let statuses = [Some(4), None, Some(0x20), Some(-4), Some(0xff)];
    let built = TransportCc {
        statuses: PacketStatuses::Slice(&statuses),
        ..t
    };
    assert_eq!(rebuilt(&RtcpPacket::TransportCc(built)), TWCC);
}

#[test]
fn transport_cc_chunk_kinds() {
    // Run length (draft section 3.1.3): 221 packets received with small
    // deltas in one chunk 0b0_01_0000011011101 = 0x20dd.
    let statuses = [Some(1i16); 221];
    let p = RtcpPacket::TransportCc(TransportCc {
        sender_ssrc: 1,
        media_ssrc: 2,
        base_sequence: 65500,
        reference_time: -2,
        feedback_count: 0,
        statuses: PacketStatuses::Slice(&statuses),
    });
    let bytes = rebuilt(&p);
    assert_eq!(&bytes[20..22], &[0x20, 0xdd]);
    assert_eq!(only(&bytes), p);
    // One-bit status vector (section 3.1.4): received, lost, received,
    // received, then 10 lost -> 0b1_0_10110000000000 = 0xac00.
    let statuses = [
        Some(1),
        None,
        Some(2),
        Some(3),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ];
    let p = RtcpPacket::TransportCc(TransportCc {
        sender_ssrc: 1,
        media_ssrc: 2,
        base_sequence: 0,
        reference_time: 0x7f_ffff,
        feedback_count: 255,
        statuses: PacketStatuses::Slice(&statuses),
    });
    let bytes = rebuilt(&p);
    assert_eq!(&bytes[20..22], &[0xac, 0x00]);
    assert_eq!(only(&bytes), p);
    let RtcpPacket::TransportCc(t) = only(&bytes) else {
        panic!()
    };
    assert_eq!(t.packets().last(), Some((13, None)));
}

#[test]
fn rtcp_errors() {
    assert!(matches!(
        only_err(&[0x80, 0xc9, 0x00]),
        Error::Truncated {
            what: "RTCP header",
            ..
        }
    ));
    assert_eq!(only_err(&[0x40, 0xc9, 0x00, 0x00]), Error::BadVersion(1));
    assert_eq!(
        only_err(&SR_ONE_BLOCK[..40]),
        Error::Truncated {
            what: "RTCP packet",
            needed: 52,
            available: 40
        }
    );
    // RC=2 but one block.
    let mut bad = SR_ONE_BLOCK;
    bad[0] = 0x82;
    assert_eq!(
        only_err(&bad),
        Error::BadRtcp {
            packet_type: SR,
            reason: "report blocks overrun the packet"
        }
    );
    // Padding count beyond the body.
    let mut bad = TWCC;
    bad[27] = 40;
    assert_eq!(
        only_err(&bad),
        Error::BadPadding {
            count: 40,
            available: 24
        }
    );
    // Reserved two-bit symbol 3.
    let mut bad = TWCC;
    bad[20] = 0xf1;
    assert_eq!(
        only_err(&bad),
        Error::BadRtcp {
            packet_type: RTPFB,
            reason: "transport-cc reserved status symbol"
        }
    );
    // Status count larger than the chunks: the delta bytes read as a
    // run-length chunk of lost packets, and the deltas run out.
    let mut bad = TWCC;
    bad[15] = 9;
    assert_eq!(
        only_err(&bad),
        Error::BadRtcp {
            packet_type: RTPFB,
            reason: "transport-cc receive deltas truncated"
        }
    );
    // The packet ends after the one chunk.
    let mut bad = [0u8; 24];
    bad.copy_from_slice(&TWCC[..24]);
    bad[0] = 0x8f;
    bad[3] = 5;
    bad[15] = 30;
    bad[22..].fill(0x80);
    assert_eq!(
        only_err(&bad),
        Error::BadRtcp {
            packet_type: RTPFB,
            reason: "transport-cc status chunks truncated"
        }
    );
    // SDES chunk without its terminator: the last byte reads as an item type.
    let mut bad = RR_SDES;
    bad[27] = b'!';
    assert_eq!(
        only_err(&bad[8..]),
        Error::BadRtcp {
            packet_type: SDES,
            reason: "item header truncated"
        }
    );
    // An error stops the compound iterator.
    let mut two = SR_ONE_BLOCK.to_vec();
    two.extend_from_slice(&[0x80, 0xc9]);
    let mut c = Compound::new(&two);
    assert!(c.next().unwrap().is_ok());
    assert!(c.next().unwrap().is_err());
    assert!(c.next().is_none());
    assert!(Compound::validate(&two).is_err());
    assert!(Compound::validate(&[]).is_err());
    // Writer: too small, and nothing written on failure.
    let mut small = [0u8; 20];
    let mut w = RtcpWriter::new(&mut small);
    w.push(&only(&PLI)).unwrap();
    assert!(w.push(&only(&PLI)).is_err());
    assert_eq!(w.len(), 12);
    // Counts above 31.
    let blocks = [ReportBlock::default(); 32];
    let mut buf = [0u8; 2048];
    let mut w = RtcpWriter::new(&mut buf);
    let rr = ReceiverReport {
        ssrc: 1,
        reports: Items::Slice(&blocks),
        extension: &[],
    };
    assert_eq!(
        w.push(&RtcpPacket::ReceiverReport(rr)),
        Err(Error::CannotEncode("count field above 31"))
    );
    assert!(w.is_empty());
}

fn only_err(buf: &[u8]) -> Error {
    Compound::new(buf).next().unwrap().unwrap_err()
}

/// An SDES chunk's SSRC and (type, value) items.
type OwnedChunk = (u32, Vec<(u8, Vec<u8>)>);

/// Owned data for one generated packet, borrowed into an [`RtcpPacket`].
#[derive(Debug, Clone)]
enum Owned {
    Sr(u32, u64, u32, u32, u32, Vec<ReportBlock>, Vec<u8>),
    Rr(u32, Vec<ReportBlock>, Vec<u8>),
    Sdes(Vec<OwnedChunk>),
    Bye(Vec<u32>, Option<Vec<u8>>),
    App(u8, u32, [u8; 4], Vec<u8>),
    Xr(u32, Option<u64>, Vec<DlrrItem>, Vec<u8>),
    Nack(u32, u32, Vec<NackPair>),
    Twcc(u32, u32, u16, i32, u8, Vec<Option<i16>>),
    Pli(u32, u32),
    Fir(u32, Vec<FirEntry>),
    Remb(u32, u64, Vec<u32>),
    Unknown(u8, u8, Vec<u8>),
}

fn arb_block() -> impl Strategy<Value = ReportBlock> {
    (any::<[u32; 5]>(), any::<u8>(), -0x80_0000i32..0x80_0000).prop_map(|(v, f, lost)| ReportBlock {
        ssrc: v[0],
        fraction_lost: f,
        cumulative_lost: lost,
        extended_highest_sequence: v[1],
        jitter: v[2],
        last_sr: v[3],
        delay_since_last_sr: v[4],
    })
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn arb_owned() -> impl Strategy<Value = Owned> {
    let blocks = || prop::collection::vec(arb_block(), 0..=31);
    prop_oneof![
        (any::<(u32, u64, u32, u32, u32)>(), blocks(), bytes(20))
            .prop_map(|((a, b, c, d, e), r, x)| Owned::Sr(a, b, c, d, e, r, x)),
        (any::<u32>(), blocks(), bytes(20)).prop_map(|(a, r, x)| Owned::Rr(a, r, x)),
        prop::collection::vec(
            (any::<u32>(), prop::collection::vec((1u8..=255, bytes(256)), 0..4)),
            0..=31
        )
        .prop_map(Owned::Sdes),
        (
            prop::collection::vec(any::<u32>(), 0..=31),
            prop::option::of(bytes(256))
        )
            .prop_map(|(s, r)| Owned::Bye(s, r)),
        (0u8..32, any::<u32>(), any::<[u8; 4]>(), bytes(40)).prop_map(|(a, b, c, d)| Owned::App(a, b, c, d)),
        (
            any::<u32>(),
            prop::option::of(any::<u64>()),
            prop::collection::vec(
                any::<(u32, u32, u32)>().prop_map(|(a, b, c)| DlrrItem {
                    ssrc: a,
                    last_rr: b,
                    delay_since_last_rr: c
                }),
                0..5
            ),
            prop::collection::vec(any::<u8>(), 0..3).prop_map(|v| v.repeat(4)),
        )
            .prop_map(|(a, b, c, d)| Owned::Xr(a, b, c, d)),
        (
            any::<u32>(),
            any::<u32>(),
            prop::collection::vec(
                any::<(u16, u16)>().prop_map(|(pid, blp)| NackPair { pid, blp }),
                0..10
            )
        )
            .prop_map(|(a, b, c)| Owned::Nack(a, b, c)),
        (
            any::<(u32, u32, u16, u8)>(),
            -0x80_0000i32..0x80_0000,
            prop::collection::vec(
                prop_oneof![
                    Just(None),
                    (0i16..=255).prop_map(Some),
                    any::<i16>().prop_map(Some)
                ],
                0..400
            )
        )
            .prop_map(|((a, b, c, d), rt, s)| Owned::Twcc(a, b, c, rt, d, s)),
        any::<(u32, u32)>().prop_map(|(a, b)| Owned::Pli(a, b)),
        (
            any::<u32>(),
            prop::collection::vec(
                any::<(u32, u8)>().prop_map(|(ssrc, sequence)| FirEntry { ssrc, sequence }),
                0..5
            )
        )
            .prop_map(|(a, b)| Owned::Fir(a, b)),
        (
            any::<u32>(),
            any::<u64>(),
            prop::collection::vec(any::<u32>(), 0..=255)
        )
            .prop_map(|(a, b, c)| Owned::Remb(a, b, c)),
        (
            0u8..32,
            prop_oneof![Just(195u8), Just(210u8), Just(RTPFB), Just(PSFB)],
            bytes(40)
        )
            .prop_map(|(c, t, b)| Owned::Unknown(c, t, b)),
    ]
}

proptest! {
    #[test]
    fn compound_round_trip(owned in prop::collection::vec(arb_owned(), 1..6)) {
        // Borrowed views of the owned data, kept alive for the packets.
        let sdes_items: Vec<Vec<SdesItem<'_>>> = owned.iter().map(|o| match o {
            Owned::Sdes(chunks) => chunks.iter().flat_map(|(_, items)| items.iter().map(|(k, v)| SdesItem { kind: *k, value: v })).collect(),
            _ => Vec::new(),
        }).collect();
        let mut sdes_chunks: Vec<Vec<SdesChunk<'_>>> = Vec::new();
        for (o, items) in owned.iter().zip(&sdes_items) {
            let mut v = Vec::new();
            if let Owned::Sdes(chunks) = o {
                let mut at = 0;
                for (ssrc, its) in chunks {
                    v.push(SdesChunk { ssrc: *ssrc, items: SdesItems::Slice(&items[at..at + its.len()]) });
                    at += its.len();
                }
            }
            sdes_chunks.push(v);
        }
        let xr_blocks: Vec<Vec<XrBlock<'_>>> = owned.iter().map(|o| match o {
            Owned::Xr(_, rrtr, dlrr, other) => {
                let mut v = Vec::new();
                if let Some(ntp_time) = rrtr { v.push(XrBlock::Rrtr { ntp_time: *ntp_time }); }
                v.push(XrBlock::Dlrr(Items::Slice(dlrr)));
                v.push(XrBlock::Other { block_type: 42, type_specific: 7, data: other });
                v
            }
            _ => Vec::new(),
        }).collect();
        let mut packets = Vec::new();
        for (i, o) in owned.iter().enumerate() {
            let p = match o {
                Owned::Sr(ssrc, ntp, rtp, pc, oc, r, x) => RtcpPacket::SenderReport(SenderReport {
                    ssrc: *ssrc, ntp_time: *ntp, rtp_time: *rtp, packet_count: *pc, octet_count: *oc,
                    reports: Items::Slice(r), extension: x,
                }),
                Owned::Rr(ssrc, r, x) => RtcpPacket::ReceiverReport(ReceiverReport { ssrc: *ssrc, reports: Items::Slice(r), extension: x }),
                Owned::Sdes(_) => RtcpPacket::Sdes(Sdes { chunks: SdesChunks::Slice(&sdes_chunks[i]) }),
                Owned::Bye(s, r) => RtcpPacket::Bye(Bye { sources: Items::Slice(s), reason: r.as_deref() }),
                Owned::App(st, ssrc, name, data) => RtcpPacket::App(App { subtype: *st, ssrc: *ssrc, name: *name, data }),
                Owned::Xr(ssrc, ..) => RtcpPacket::Xr(Xr { ssrc: *ssrc, blocks: XrBlocks::Slice(&xr_blocks[i]) }),
                Owned::Nack(s, m, p) => RtcpPacket::Nack(Nack { sender_ssrc: *s, media_ssrc: *m, pairs: Items::Slice(p) }),
                Owned::Twcc(s, m, base, rt, fb, st) => RtcpPacket::TransportCc(TransportCc {
                    sender_ssrc: *s, media_ssrc: *m, base_sequence: *base, reference_time: *rt, feedback_count: *fb,
                    statuses: PacketStatuses::Slice(st),
                }),
                Owned::Pli(s, m) => RtcpPacket::Pli(Pli { sender_ssrc: *s, media_ssrc: *m }),
                Owned::Fir(s, e) => RtcpPacket::Fir(Fir { sender_ssrc: *s, media_ssrc: 0, entries: Items::Slice(e) }),
                Owned::Remb(s, bps, ssrcs) => RtcpPacket::Remb(Remb {
                    sender_ssrc: *s, media_ssrc: 0, bitrate: RembBitrate::from_bps(*bps), ssrcs: Items::Slice(ssrcs),
                }),
                Owned::Unknown(c, t, b) => {
                    // Known formats would decode differently; keep unknown ones.
                    let c = if matches!(*t, RTPFB | PSFB) { 9 + (*c % 5) } else { *c };
                    RtcpPacket::Unknown(UnknownPacket { packet_type: *t, count: c, body: b })
                }
            };
            packets.push(p);
        }
        let mut buf = vec![0u8; 1 << 16];
        let mut w = RtcpWriter::new(&mut buf);
        for p in &packets {
            w.push(p).unwrap();
        }
        let n = w.finish();
        let parsed: Vec<_> = Compound::validate(&buf[..n]).unwrap().map(Result::unwrap).collect();
        prop_assert_eq!(parsed, packets);
    }

    #[test]
    fn compound_parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..300)) {
        for p in Compound::new(&data) {
            let Ok(p) = p else { break };
            let mut buf = vec![0u8; 4096];
            let mut w = RtcpWriter::new(&mut buf);
            w.push(&p).unwrap();
            let n = w.finish();
            prop_assert_eq!(only(&buf[..n]), p);
        }
    }
}
