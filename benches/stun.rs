//! STUN side by side: rtcwire-stun, webrtc-rs' `stun` 0.17, its sans-IO
//! sibling `rtc-stun` 0.21, and the raw crypto that bounds them all (see
//! `stun_impls.rs` for the work and how each implementation does it).
//!
//! `cargo bench -p rtcwire-benches --bench stun [-- criterion options]`
//!
//! After criterion's own report, prints each group's medians from this run
//! and their ratio to rtcwire's (peer median / rtcwire median).

mod stun_impls;

use std::hint::black_box;
use std::time::SystemTime;

use criterion::Criterion;
use stun_impls::raw_crypto::RawCrypto;
use stun_impls::rtc_stun::RtcStun;
use stun_impls::rtcwire::Rtcwire;
use stun_impls::webrtc_rs::WebrtcRs;

const GROUPS: [(&str, &str); 3] = [
    ("stun_build", "build"),
    ("stun_parse_verify", "parse + verify"),
    ("stun_build_parse_verify", "build + parse + verify"),
];
const RTCWIRE: &str = "rtcwire";
const WEBRTC_RS: &str = "webrtc-rs stun";
const RTC_STUN: &str = "rtc-stun";
const RAW: &str = "raw crypto";
const IMPLEMENTATIONS: [&str; 4] = [RTCWIRE, WEBRTC_RS, RTC_STUN, RAW];

/// The request as rtcwire writes it (the test checks every implementation
/// writes the same bytes).
fn request() -> Vec<u8> {
    let mut buf = [0u8; 128];
    Rtcwire::new()
        .build(&mut buf)
        .unwrap_or_else(|e| panic!("rtcwire build: {e}"))
        .to_vec()
}

fn bench_build(c: &mut Criterion) {
    let mut g = c.benchmark_group(GROUPS[0].0);
    let rtcwire = Rtcwire::new();
    g.bench_function(RTCWIRE, |b| {
        let mut buf = [0u8; 128];
        b.iter(|| {
            let packet = rtcwire
                .build(black_box(&mut buf))
                .unwrap_or_else(|e| panic!("{e}"));
            black_box(packet.len())
        })
    });
    let mut webrtc = WebrtcRs::new();
    g.bench_function(WEBRTC_RS, |b| {
        b.iter(|| black_box(webrtc.build().unwrap_or_else(|e| panic!("{e}")).len()))
    });
    let mut rtc = RtcStun::new();
    g.bench_function(RTC_STUN, |b| {
        b.iter(|| black_box(rtc.build().unwrap_or_else(|e| panic!("{e}")).len()))
    });
    let raw = RawCrypto::new(&request());
    g.bench_function(RAW, |b| {
        let mut buf = [0u8; stun_impls::REQUEST_LEN];
        b.iter(|| black_box(raw.build(black_box(&mut buf)).len()))
    });
    g.finish();
}

fn bench_parse_verify(c: &mut Criterion) {
    let packet = request();
    let mut g = c.benchmark_group(GROUPS[1].0);
    let rtcwire = Rtcwire::new();
    g.bench_function(RTCWIRE, |b| {
        b.iter(|| {
            black_box(
                rtcwire
                    .parse_verify(black_box(&packet))
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        })
    });
    let mut webrtc = WebrtcRs::new();
    g.bench_function(WEBRTC_RS, |b| {
        b.iter(|| {
            black_box(
                webrtc
                    .parse_verify(black_box(&packet))
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        })
    });
    let mut rtc = RtcStun::new();
    g.bench_function(RTC_STUN, |b| {
        b.iter(|| {
            black_box(
                rtc.parse_verify(black_box(&packet))
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        })
    });
    let raw = RawCrypto::new(&packet);
    g.bench_function(RAW, |b| b.iter(|| assert!(raw.verify(black_box(&packet)))));
    g.finish();
}

fn bench_build_parse_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group(GROUPS[2].0);
    let rtcwire = Rtcwire::new();
    g.bench_function(RTCWIRE, |b| {
        let mut buf = [0u8; 128];
        b.iter(|| {
            let packet = rtcwire
                .build(black_box(&mut buf))
                .unwrap_or_else(|e| panic!("{e}"));
            let (username, priority) = rtcwire
                .parse_verify(black_box(packet))
                .unwrap_or_else(|e| panic!("{e}"));
            black_box((username.len(), priority))
        })
    });
    let mut webrtc = WebrtcRs::new();
    g.bench_function(WEBRTC_RS, |b| {
        b.iter(|| black_box(webrtc.build_parse_verify().unwrap_or_else(|e| panic!("{e}"))))
    });
    let mut rtc = RtcStun::new();
    g.bench_function(RTC_STUN, |b| {
        b.iter(|| black_box(rtc.build_parse_verify().unwrap_or_else(|e| panic!("{e}"))))
    });
    let raw = RawCrypto::new(&request());
    g.bench_function(RAW, |b| {
        let mut buf = [0u8; stun_impls::REQUEST_LEN];
        b.iter(|| {
            let packet = raw.build(black_box(&mut buf));
            assert!(raw.verify(black_box(packet)))
        })
    });
    g.finish();
}

fn main() {
    let started = SystemTime::now();
    let dir = rtcwire_benches::criterion_dir();
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    bench_build(&mut c);
    bench_parse_verify(&mut c);
    bench_build_parse_verify(&mut c);
    c.final_summary();
    rtcwire_benches::print_ratios(
        &dir,
        started,
        "STUN connectivity check (104 B)",
        &GROUPS,
        &IMPLEMENTATIONS,
    );
}
