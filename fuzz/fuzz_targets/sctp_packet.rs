//! Arbitrary datagrams through the SCTP wire parsers of rtcwire-sctp:
//! packet, chunks, INIT parameters, gap blocks, FORWARD TSN entries,
//! RE-CONFIG parameters, error causes and DCEP messages, each re-encoded
//! and parsed again. The first input byte chooses whether the checksum is
//! fixed up (odd) or left as it is; see `rtcwire_sctp::fuzzing`.
//!
//! Run: `cargo fuzz run --sanitizer none sctp_packet seeds/sctp_packet`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rtcwire_sctp::fuzzing::sctp_packet(data);
});
