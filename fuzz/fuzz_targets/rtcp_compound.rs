//! Arbitrary datagrams through the RTCP compound parser of rtcwire-rtp.
//!
//! Every packet the `Compound` iterator yields is written again with
//! `RtcpWriter`, parsed again, and must come back equal (lists are compared
//! item by item, so re-encoding choices such as transport-cc chunk kinds
//! or padding do not matter). Every list is also walked to its end.
//!
//! Run: `cargo fuzz run --sanitizer none rtcp_compound seeds/rtcp_compound`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcwire_rtp::{Compound, RtcpPacket, RtcpWriter, is_rtcp};

fuzz_target!(|data: &[u8]| {
    let _ = is_rtcp(data);
    let mut out = vec![0u8; 2 * data.len() + 64];
    let mut w = RtcpWriter::new(&mut out);
    let mut packets = Vec::new();
    for p in Compound::new(data) {
        let Ok(p) = p else { break };
        walk(&p);
        w.push(&p).expect("a parsed packet can be written");
        packets.push(p);
    }
    let n = w.finish();
    let again: Vec<RtcpPacket<'_>> =
        Compound::validate(&out[..n]).map(|c| c.map(|p| p.expect("validated")).collect()).unwrap_or_default();
    assert_eq!(again, packets);
});

fn walk(p: &RtcpPacket<'_>) {
    match p {
        RtcpPacket::SenderReport(sr) => assert_eq!(sr.reports.iter().count(), sr.reports.len()),
        RtcpPacket::ReceiverReport(rr) => assert_eq!(rr.reports.iter().count(), rr.reports.len()),
        RtcpPacket::Sdes(s) => {
            assert_eq!(s.chunks.iter().count(), s.chunks.len());
            let _ = s.cname();
        }
        RtcpPacket::Nack(n) => {
            let _ = n.lost().count();
        }
        RtcpPacket::TransportCc(t) => assert_eq!(t.packets().count(), t.statuses.len()),
        RtcpPacket::Remb(r) => {
            let _ = r.bitrate.bps();
        }
        _ => {}
    }
}
