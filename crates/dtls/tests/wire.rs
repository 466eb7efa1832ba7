//! The DTLS wire formats end to end, through the crate's fuzzing harness
//! (the `fuzzing` feature, which this crate's tests enable): the fuzz seeds
//! pass every invariant the fuzz targets check, every truncation and
//! corruption of them is handled without a panic, and Chromium's
//! two-record ClientHello is reassembled and decoded in any arrival order.
//!
//! The seed files under `fuzz/seeds/dtls_*` are written from the same
//! vectors: `RTCWIRE_WRITE_SEEDS=1 cargo test -p rtcwire-dtls --test wire`
//! rewrites them.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use rtcwire_dtls::fuzzing::{
    FlightMessage, check_handshake, check_records, chromium_client_hello_datagrams, read_flight, seeds,
};

fn check(target: &str, data: &[u8]) {
    match target {
        "dtls_record" => {
            check_records(data);
        }
        "dtls_handshake" => {
            check_handshake(data);
        }
        other => panic!("unknown target {other}"),
    }
}

#[test]
fn seeds_pass_every_invariant() {
    let seeds = seeds();
    assert!(seeds.len() > 30);
    for (target, name, data) in &seeds {
        check(target, data);
        if *target == "dtls_record" {
            assert!(check_records(data) >= 1, "{name}: no record parsed");
        }
        // Whole messages and flights are reassembled and delivered.
        if name.ends_with("_full.bin") {
            assert_eq!(check_handshake(data), 1, "{name}");
        }
        if name.starts_with("server_flight") && *target == "dtls_handshake" {
            assert_eq!(check_handshake(data), 5, "{name}");
        }
    }
}

#[test]
fn every_truncation_and_corruption_of_every_seed_is_handled() {
    for (target, _, data) in seeds() {
        for cut in 0..data.len() {
            check(target, &data[..cut]);
        }
        // Every byte changed three ways; for long seeds, the first 300 bytes
        // (headers, lengths and the start of each structure) and every 7th.
        for i in (0..data.len()).filter(|&i| i < 300 || i % 7 == 0) {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = data.clone();
                bad[i] ^= flip;
                check(target, &bad);
            }
        }
        // Trailing junk after a complete input.
        let mut longer = data.clone();
        longer.extend_from_slice(&[0x16, 0xfe, 0xfd, 0x00]);
        check(target, &longer);
    }
}

fn client_hello_of(flight: &[FlightMessage]) -> &FlightMessage {
    assert_eq!(flight.len(), 1, "{flight:?}");
    let m = &flight[0];
    assert_eq!((m.msg_type, m.message_seq), (1, 0));
    m
}

#[test]
fn chromium_client_hello_in_two_datagrams_any_order() {
    let datagrams = chromium_client_hello_datagrams();
    assert_eq!(datagrams.len(), 2);
    assert_eq!(datagrams[0].len(), 1200);
    // DTLS content, record version DTLS 1.0 as browsers send a first ClientHello.
    assert_eq!(&datagrams[0][..3], &[0x16, 0xfe, 0xff]);

    let in_order = read_flight(&[&datagrams[0], &datagrams[1]]).unwrap();
    let m = client_hello_of(&in_order);
    assert!(m.body.len() + 12 > 1400);
    for expected in [
        "SupportedVersions([65276, 65277])",        // fefc, fefd
        "SupportedGroups([4588, 29, 23, 24])",      // 0x11ec first
        "UseSrtp { profiles: [1, 8, 7], mki: [] }", // as Chromium orders them
        "ExtendedMasterSecret",
        "Unknown { extension_type: 51", // key_share kept as bytes
    ] {
        assert!(m.decoded.contains(expected), "{expected} not in {}", m.decoded);
    }

    let reversed = read_flight(&[&datagrams[1], &datagrams[0]]).unwrap();
    assert_eq!(reversed, in_order);
    let duplicated = read_flight(&[&datagrams[1], &datagrams[1], &datagrams[0], &datagrams[0]]).unwrap();
    assert_eq!(duplicated, in_order);
    let together = datagrams.concat();
    assert_eq!(read_flight(&[&together]).unwrap(), in_order);
    // Half of it is no message yet.
    assert_eq!(read_flight(&[&datagrams[1]]).unwrap(), []);
}

#[test]
fn a_corrupted_fragment_is_refused() {
    let datagrams = chromium_client_hello_datagrams();
    // The same second fragment with one body byte changed, after the original.
    let mut changed = datagrams[1].clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    assert!(read_flight(&[&datagrams[1], &changed]).is_err());
    // A record whose length overruns the datagram.
    let mut short = datagrams[0].clone();
    short.pop();
    assert!(read_flight(&[&short]).is_err());
}

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds")
}

#[test]
fn fuzz_seed_files_are_current() {
    let dir = seeds_dir();
    if !dir.is_dir() {
        return; // a packaged crate has no fuzz/ beside it
    }
    let write = std::env::var_os("RTCWIRE_WRITE_SEEDS").is_some();
    for (target, name, data) in seeds() {
        let path = dir.join(target).join(&name);
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &data).unwrap();
        } else {
            let on_disk = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e}; run with RTCWIRE_WRITE_SEEDS=1", path.display()));
            assert_eq!(
                on_disk,
                data,
                "{} is stale; run with RTCWIRE_WRITE_SEEDS=1",
                path.display()
            );
        }
    }
}
