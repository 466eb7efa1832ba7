//! Arbitrary datagrams through rtcwire-dtls' record layer: every record
//! header that parses re-emits to the bytes it was read from, records tile
//! the datagram up to the first malformed one, iteration stops after an
//! error, a replay window over the sequence numbers agrees with a model,
//! and the fragments of handshake records go through the `dtls_handshake`
//! checks. The harness lives in `rtcwire_dtls::fuzzing` (the crate's
//! record types are internal).
//!
//! Run: `cargo fuzz run --sanitizer none dtls_record corpus/dtls_record seeds/dtls_record`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rtcwire_dtls::fuzzing::check_records(data);
});
