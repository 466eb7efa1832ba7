//! Tests of the RTP view, extensions and builder.
// Test code: an unwrap or panic here fails a test on purpose; none of it
// is compiled outside `cargo test`, so no network input reaches it.

#![cfg(test)]

use proptest::prelude::*;

use crate::*;

/// Built by hand from RFC 3550 section 5.1's figure: V=2, P=0, X=0, CC=1,
/// M=1, PT=96, seq 0x1234, timestamp 0xdeadbeef, SSRC 0x11223344, one CSRC
/// 0x55667788, then a 3-byte payload.
const RTP_CSRC: [u8; 19] = [
    0x81, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0xaa,
    0xbb, 0xcc,
];

/// Built by hand from RFC 8285 section 4.2's one-byte example layout: profile
/// 0xBEDE, length 3 words; element id 1 len 1 (0x10 -> 1 data byte), element
/// id 2 len 2 (0x21), element id 3 len 4 (0x33), then one padding byte,
/// to a total of 12 bytes. Then payload 0x01 and 3 bytes of padding
/// (RFC 3550 section 5.1: last byte is the count).
const RTP_ONE_BYTE: [u8; 32] = [
    0x90 | 0x20,
    0x6f,
    0x00,
    0x01,
    0x00,
    0x00,
    0x03,
    0xc0,
    0xca,
    0xfe,
    0xba,
    0xbe, // header
    0xbe,
    0xde,
    0x00,
    0x03, // extension block header
    0x10,
    0x41, // id 1: 'A'
    0x21,
    0x12,
    0x34, // id 2: 0x1234
    0x33,
    0x01,
    0x02,
    0x03,
    0x04, // id 3: 4 bytes
    0x00, // padding
    0x00, // padding (to 12 bytes)
    0x01,
    0x00,
    0x00,
    0x03, // payload 0x01, padding count 3
];

/// Two-byte form (RFC 8285 section 4.3): profile 0x1000, length 2 words;
/// element id 20 len 0, element id 200 len 3 "abc", one padding byte.
const RTP_TWO_BYTE: [u8; 24] = [
    0x90, 0x60, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, // header
    0x10, 0x00, 0x00, 0x02, // block header
    20, 0, // id 20, empty
    200, 3, b'a', b'b', b'c', // id 200
    0,    // padding
];

#[test]
fn parse_fixed_header_with_csrc() {
    let p = RtpPacket::new_checked(&RTP_CSRC[..]).unwrap();
    assert_eq!(p.version(), 2);
    assert!(!p.has_padding());
    assert!(!p.has_extension());
    assert_eq!(p.csrc_count(), 1);
    assert!(p.marker());
    assert_eq!(p.payload_type(), 96);
    assert_eq!(p.sequence_number(), 0x1234);
    assert_eq!(p.timestamp(), 0xdead_beef);
    assert_eq!(p.ssrc(), 0x1122_3344);
    assert_eq!(p.csrcs().collect::<Vec<_>>(), [0x5566_7788]);
    assert_eq!(p.header_len(), 16);
    assert_eq!(p.payload().unwrap(), &[0xaa, 0xbb, 0xcc]);
    assert_eq!(p.extension_profile(), None);
}

#[test]
fn emit_fixed_header_with_csrc() {
    let mut buf = [0u8; 64];
    let h = RtpHeader {
        marker: true,
        payload_type: 96,
        sequence_number: 0x1234,
        timestamp: 0xdead_beef,
        ssrc: 0x1122_3344,
        csrcs: &[0x5566_7788],
    };
    let mut b = RtpBuilder::new(&mut buf, &h).unwrap();
    b.payload(&[0xaa, 0xbb, 0xcc]).unwrap();
    let n = b.finish().unwrap();
    assert_eq!(&buf[..n], &RTP_CSRC[..]);
}

#[test]
fn parse_one_byte_extensions_and_padding() {
    let p = RtpPacket::new_checked(&RTP_ONE_BYTE[..]).unwrap();
    assert!(p.has_padding() && p.has_extension());
    assert_eq!(p.header_len(), 28);
    assert_eq!(p.extension_profile(), Some(0xBEDE));
    let exts: Vec<_> = p.extensions().unwrap().map(|e| (e.id, e.data.to_vec())).collect();
    assert_eq!(
        exts,
        vec![(1, vec![0x41]), (2, vec![0x12, 0x34]), (3, vec![1, 2, 3, 4])]
    );
    assert_eq!(p.extension(2), Some(&[0x12, 0x34][..]));
    assert_eq!(p.extension(4), None);
    assert_eq!(p.padding_len().unwrap(), 3);
    assert_eq!(p.payload().unwrap(), &[0x01]);
    assert_eq!(p.payload_with_padding(), &[0x01, 0, 0, 3]);
}

#[test]
fn emit_one_byte_extensions_and_padding() {
    let mut buf = [0u8; 64];
    let h = RtpHeader {
        payload_type: 0x6f,
        sequence_number: 1,
        timestamp: 0x3c0,
        ssrc: 0xcafe_babe,
        ..Default::default()
    };
    let mut b = RtpBuilder::new(&mut buf, &h).unwrap();
    b.add_extension(ExtensionForm::OneByte, 1, &[0x41]).unwrap();
    b.add_extension(ExtensionForm::OneByte, 2, &[0x12, 0x34]).unwrap();
    b.add_extension(ExtensionForm::OneByte, 3, &[1, 2, 3, 4]).unwrap();
    assert!(b.add_extension(ExtensionForm::TwoByte, 30, &[1]).is_err());
    b.payload(&[0x01]).unwrap();
    assert!(b.add_extension(ExtensionForm::OneByte, 4, &[1]).is_err());
    let n = b.padding(3).unwrap();
    assert_eq!(&buf[..n], &RTP_ONE_BYTE[..]);
}

#[test]
fn two_byte_extensions() {
    let p = RtpPacket::new_checked(&RTP_TWO_BYTE[..]).unwrap();
    assert_eq!(p.extensions().unwrap().form(), Some(ExtensionForm::TwoByte));
    let exts: Vec<_> = p.extensions().unwrap().map(|e| (e.id, e.data.to_vec())).collect();
    assert_eq!(exts, vec![(20, vec![]), (200, b"abc".to_vec())]);
    let mut buf = [0u8; 64];
    let h = RtpHeader {
        payload_type: 0x60,
        sequence_number: 0xffff,
        timestamp: 1,
        ssrc: 2,
        ..Default::default()
    };
    let mut b = RtpBuilder::new(&mut buf, &h).unwrap();
    b.add_extension(ExtensionForm::TwoByte, 20, &[]).unwrap();
    b.add_extension(ExtensionForm::TwoByte, 200, b"abc").unwrap();
    let n = b.finish().unwrap();
    assert_eq!(&buf[..n], &RTP_TWO_BYTE[..]);
}

#[test]
fn one_byte_id_15_stops_parsing() {
    // RFC 8285 section 4.2: id 15 is reserved; processing of the block stops.
    let mut pkt = [0u8; 20];
    pkt[..12].copy_from_slice(&[0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    pkt[12..].copy_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0x07, 0xf0, 0xff]);
    let p = RtpPacket::new_checked(&pkt[..]).unwrap();
    let ids: Vec<_> = p.extensions().unwrap().map(|e| e.id).collect();
    assert_eq!(ids, [1]);
}

#[test]
fn errors_are_precise() {
    assert_eq!(
        RtpPacket::new_checked(&[][..]).unwrap_err(),
        Error::Truncated {
            what: "RTP header",
            needed: 12,
            available: 0
        }
    );
    assert_eq!(
        RtpPacket::new_checked(&[0x40; 12][..]).unwrap_err(),
        Error::BadVersion(1)
    );
    assert_eq!(
        RtpPacket::new_checked(&RTP_CSRC[..14]).unwrap_err(),
        Error::Truncated {
            what: "RTP CSRC list",
            needed: 16,
            available: 14
        }
    );
    // Extension block longer than the packet.
    let mut bad = RTP_ONE_BYTE;
    bad[15] = 9;
    assert!(matches!(
        RtpPacket::new_checked(&bad[..]),
        Err(Error::Truncated {
            what: "RTP header extension",
            ..
        })
    ));
    // One-byte element overrunning its block.
    let mut bad = RTP_ONE_BYTE;
    bad[21] = 0x3f;
    let p = RtpPacket::new_checked(&bad[..]).unwrap();
    assert_eq!(
        p.extensions().unwrap_err(),
        Error::BadExtension("one-byte element overruns the block")
    );
    assert_eq!(p.extension(1), None);
    // Padding count larger than the payload, and zero.
    let mut bad = RTP_ONE_BYTE;
    bad[31] = 5;
    let p = RtpPacket::new_checked(&bad[..]).unwrap();
    assert_eq!(
        p.payload().unwrap_err(),
        Error::BadPadding {
            count: 5,
            available: 4
        }
    );
    bad[31] = 0;
    let p = RtpPacket::new_checked(&bad[..]).unwrap();
    assert_eq!(
        p.payload().unwrap_err(),
        Error::BadPadding {
            count: 0,
            available: 4
        }
    );
    // Builder: buffer too small, too many CSRCs.
    let mut small = [0u8; 11];
    assert_eq!(
        RtpBuilder::new(&mut small, &RtpHeader::default()).unwrap_err(),
        Error::BufferTooSmall {
            needed: 12,
            available: 11
        }
    );
    let mut buf = [0u8; 128];
    assert!(
        RtpBuilder::new(
            &mut buf,
            &RtpHeader {
                csrcs: &[0; 16],
                ..Default::default()
            }
        )
        .is_err()
    );
}

#[test]
fn setters_and_in_place_extension() {
    let mut pkt = RTP_ONE_BYTE;
    let mut p = RtpPacket::new_checked(&mut pkt[..]).unwrap();
    p.set_marker(true);
    p.set_payload_type(100);
    p.set_sequence_number(0xabcd);
    p.set_timestamp(7);
    p.set_ssrc(9);
    p.extension_mut(2).unwrap().copy_from_slice(&[0x99, 0x88]);
    assert_eq!(p.marker(), true);
    assert_eq!(p.payload_type(), 100);
    assert_eq!(p.sequence_number(), 0xabcd);
    assert_eq!(p.timestamp(), 7);
    assert_eq!(p.ssrc(), 9);
    assert_eq!(p.extension(2), Some(&[0x99, 0x88][..]));
    p.payload_with_padding_mut()[0] = 0x42;
    assert_eq!(p.payload().unwrap(), &[0x42]);
}

#[test]
fn typed_extensions() {
    let ids = ExtensionIds {
        mid: Some(1),
        rid: Some(2),
        repaired_rid: Some(3),
        abs_send_time: Some(4),
        transport_cc: Some(5),
        audio_level: Some(6),
        video_orientation: Some(7),
        playout_delay: Some(8),
    };
    let values = ExtensionValues {
        mid: Some("0"),
        rid: Some("hi"),
        repaired_rid: Some("lo"),
        abs_send_time: Some(AbsSendTime(0x12_3456)),
        transport_cc: Some(0xfffe),
        audio_level: Some(AudioLevel {
            voice_activity: true,
            level: 42,
        }),
        video_orientation: Some(VideoOrientation {
            back_camera: true,
            flip: false,
            rotation: 3,
        }),
        playout_delay: Some(PlayoutDelay {
            min: 0xabc,
            max: 0x123,
        }),
    };
    for form in [ExtensionForm::OneByte, ExtensionForm::TwoByte] {
        let mut buf = [0u8; 128];
        let mut b = RtpBuilder::new(&mut buf, &RtpHeader::default()).unwrap();
        b.add_extension_values(form, &ids, &values).unwrap();
        let n = b.finish().unwrap();
        let p = RtpPacket::new_checked(&buf[..n]).unwrap();
        assert_eq!(ids.read(p.extensions().unwrap()), values);
    }
    // Bit layouts: RFC 6464 section 3 (V then 7-bit level).
    assert_eq!(
        AudioLevel {
            voice_activity: true,
            level: 42
        }
        .to_bytes(),
        [0x80 | 42]
    );
    // 3GPP TS 26.114 7.4.5: 0 0 0 0 C F R1 R0.
    assert_eq!(
        VideoOrientation::parse(&[0x0d]).unwrap(),
        VideoOrientation {
            back_camera: true,
            flip: true,
            rotation: 1
        }
    );
    assert_eq!(VideoOrientation::parse(&[0x02]).unwrap().degrees(), 180);
    // Playout delay: 12-bit min then 12-bit max.
    assert_eq!(
        PlayoutDelay {
            min: 0xabc,
            max: 0x123
        }
        .to_bytes(),
        [0xab, 0xc1, 0x23]
    );
    assert_eq!(
        AbsSendTime::from_ntp(0x0000_0001_8000_0000),
        AbsSendTime(0x06_0000)
    );
    let mut m = ExtensionIds::default();
    assert!(m.set_by_uri(uri::TRANSPORT_CC, 3));
    assert!(!m.set_by_uri("urn:unknown", 4));
    assert_eq!(m.transport_cc, Some(3));
    assert!(AbsSendTime::parse(&[1, 2]).is_err());
    assert!(parse_text(&[0xff]).is_err());
}

fn arb_ext(form: ExtensionForm) -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    let (ids, lens) = match form {
        ExtensionForm::OneByte => (1u8..=14, 1usize..=16),
        ExtensionForm::TwoByte => (1u8..=255, 0usize..=255),
    };
    prop::collection::vec((ids, prop::collection::vec(any::<u8>(), lens)), 0..6)
}

proptest! {
    #[test]
    fn build_then_parse(
        marker: bool,
        pt in 0u8..128,
        seq: u16,
        ts: u32,
        ssrc: u32,
        csrcs in prop::collection::vec(any::<u32>(), 0..=15),
        two_byte: bool,
        exts_one in arb_ext(ExtensionForm::OneByte),
        exts_two in arb_ext(ExtensionForm::TwoByte),
        payload in prop::collection::vec(any::<u8>(), 0..300),
        pad in 0u8..=255,
    ) {
        let (form, exts) = if two_byte { (ExtensionForm::TwoByte, exts_two) } else { (ExtensionForm::OneByte, exts_one) };
        let mut buf = vec![0u8; 4096];
        let h = RtpHeader { marker, payload_type: pt, sequence_number: seq, timestamp: ts, ssrc, csrcs: &csrcs };
        let mut b = RtpBuilder::new(&mut buf, &h).unwrap();
        for (id, data) in &exts {
            b.add_extension(form, *id, data).unwrap();
        }
        b.payload(&payload).unwrap();
        let n = if pad > 0 { b.padding(pad).unwrap() } else { b.finish().unwrap() };
        let p = RtpPacket::new_checked(&buf[..n]).unwrap();
        prop_assert_eq!(p.marker(), marker);
        prop_assert_eq!(p.payload_type(), pt);
        prop_assert_eq!(p.sequence_number(), seq);
        prop_assert_eq!(p.timestamp(), ts);
        prop_assert_eq!(p.ssrc(), ssrc);
        prop_assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs);
        let got: Vec<_> = p.extensions().unwrap().map(|e| (e.id, e.data.to_vec())).collect();
        prop_assert_eq!(got, exts);
        prop_assert_eq!(p.payload().unwrap(), &payload[..]);
        prop_assert_eq!(classify(&buf[..n]), Some(if (64..=95).contains(&pt) { MediaKind::Rtcp } else { MediaKind::Rtp }));
    }

    #[test]
    fn parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = RtpPacket::new_checked(&data[..]) {
            let _ = p.payload();
            let _ = p.csrcs().count();
            if let Ok(e) = p.extensions() { let _ = e.count(); }
            prop_assert!(p.header_len() <= data.len());
        }
    }
}
