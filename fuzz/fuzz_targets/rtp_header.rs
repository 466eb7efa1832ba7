//! Arbitrary datagrams through the RTP view of rtcwire-rtp.
//!
//! When `RtpPacket::new_checked` accepts: every accessor is read, the
//! extension elements decoded by a fixed id map, and the packet is written
//! again with `RtpBuilder` (elements re-added one by one in their form, or
//! the block copied raw for other profiles; padding as it was when valid),
//! parsed again, and must come back equal. RTP/RTCP classification and
//! sequence unwrapping run on every input.
//!
//! Run: `cargo fuzz run --sanitizer none rtp_header seeds/rtp_header`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcwire_rtp::{ExtensionForm, ExtensionIds, RtpBuilder, RtpHeader, RtpPacket, SequenceUnwrapper, classify};

const IDS: ExtensionIds = ExtensionIds {
    mid: Some(1),
    rid: Some(2),
    repaired_rid: Some(3),
    abs_send_time: Some(4),
    transport_cc: Some(5),
    audio_level: Some(6),
    video_orientation: Some(7),
    playout_delay: Some(8),
};

fuzz_target!(|data: &[u8]| {
    let _ = classify(data);
    let mut unwrapper = SequenceUnwrapper::new();
    for pair in data.chunks_exact(2).take(64) {
        let seq = u16::from_be_bytes([pair[0], pair[1]]);
        let ext = unwrapper.extend(seq);
        assert_eq!(ext as u16, seq);
    }

    let Ok(p) = RtpPacket::new_checked(data) else { return };
    assert!(p.header_len() <= data.len());
    let csrcs: Vec<u32> = p.csrcs().collect();
    assert_eq!(csrcs.len(), usize::from(p.csrc_count()));
    let elements: Vec<(u8, Vec<u8>)> = match p.extensions() {
        Ok(e) => {
            let _ = IDS.read(e.clone());
            e.map(|e| (e.id, e.data.to_vec())).collect()
        }
        Err(_) => Vec::new(),
    };
    let form = p.extension_profile().and_then(ExtensionForm::from_profile);

    let header = RtpHeader {
        marker: p.marker(),
        payload_type: p.payload_type(),
        sequence_number: p.sequence_number(),
        timestamp: p.timestamp(),
        ssrc: p.ssrc(),
        csrcs: &csrcs,
    };
    let mut buf = vec![0u8; 2 * data.len() + 64];
    let mut b = RtpBuilder::new(&mut buf, &header).expect("header fits");
    match (form, p.extensions().is_ok()) {
        (Some(form), true) => {
            for (id, d) in &elements {
                b.add_extension(form, *id, d).expect("parsed element fits its form");
            }
        }
        _ => {
            if let (Some(profile), Some(d)) = (p.extension_profile(), p.extension_data()) {
                b.raw_extension(profile, d).expect("raw block fits");
            }
        }
    }
    let (payload, padding) = match (p.payload(), p.padding_len()) {
        (Ok(payload), Ok(pad)) => (payload, pad),
        _ => (p.payload_with_padding(), 0),
    };
    b.payload(payload).expect("payload fits");
    let n = if padding > 0 {
        b.padding(u8::try_from(padding).expect("padding count is one byte")).expect("padding fits")
    } else {
        b.finish().expect("finish")
    };

    let q = RtpPacket::new_checked(&buf[..n]).expect("rebuilt packet parses");
    assert_eq!(q.marker(), p.marker());
    assert_eq!(q.payload_type(), p.payload_type());
    assert_eq!(q.sequence_number(), p.sequence_number());
    assert_eq!(q.timestamp(), p.timestamp());
    assert_eq!(q.ssrc(), p.ssrc());
    assert!(q.csrcs().eq(p.csrcs()));
    assert_eq!(q.payload().expect("rebuilt padding is valid"), payload);
    match (form, p.extensions().is_ok()) {
        (Some(_), true) => {
            let again: Vec<(u8, Vec<u8>)> =
                q.extensions().expect("rebuilt elements").map(|e| (e.id, e.data.to_vec())).collect();
            assert_eq!(again, elements);
        }
        _ => {
            assert_eq!(q.extension_profile(), p.extension_profile());
            assert_eq!(q.extension_data(), p.extension_data());
        }
    }
});
