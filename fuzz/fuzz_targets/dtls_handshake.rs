//! Arbitrary bytes through rtcwire-dtls' handshake codec: parsed as the
//! body of every handshake type (what parses must write back byte for byte,
//! but for an omitted empty extensions block, and parse again equal), and
//! as a run of handshake fragments fed to a `Reassembler` (headers re-emit
//! exactly, a repeated fragment brings nothing new, a refused one changes
//! nothing, the 64 KiB / 16 messages / 256 KiB bounds hold, messages come
//! out in order and survive re-fragmentation). The harness lives in
//! `rtcwire_dtls::fuzzing` (the crate's handshake types are internal).
//!
//! Run: `cargo fuzz run --sanitizer none dtls_handshake corpus/dtls_handshake seeds/dtls_handshake`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rtcwire_dtls::fuzzing::check_handshake(data);
});
