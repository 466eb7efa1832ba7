//! SDP side by side: rtcwire-sdp, webrtc-rs' `sdp` 0.17, its sans-IO sibling
//! `rtc-sdp` 0.21, and Mozilla's `webrtc-sdp` 0.3, on Chromium's
//! audio + video + data offer (see `sdp_impls.rs` for the work and how each
//! implementation does it), with splitting the text into lines as the floor.
//!
//! `cargo bench -p rtcwire-benches --bench sdp [-- criterion options]`
//!
//! After criterion's own report, prints each group's medians from this run
//! and their ratio to rtcwire's (peer median / rtcwire median).

mod sdp_impls;

use std::hint::black_box;
use std::time::SystemTime;

use criterion::Criterion;
use sdp_impls::{OFFER, baseline, expected_facts, mozilla, rtc_sdp, rtcwire, webrtc_rs};

const GROUPS: [(&str, &str); 2] = [("sdp_parse", "parse"), ("sdp_serialize", "serialize")];
const RTCWIRE: &str = "rtcwire";
const RTCWIRE_OWNED: &str = "rtcwire owned";
const WEBRTC_RS: &str = "webrtc-rs sdp";
const RTC_SDP: &str = "rtc-sdp";
const MOZILLA: &str = "webrtc-sdp";
const BASELINE: &str = "baseline";
const IMPLEMENTATIONS: [&str; 6] = [RTCWIRE, RTCWIRE_OWNED, WEBRTC_RS, RTC_SDP, MOZILLA, BASELINE];

/// Refuses to time work that is not equivalent (the `sdp_equivalence` test
/// checks more): every implementation reads the same facts from the offer.
fn check_facts() {
    let expected = expected_facts();
    let parse_error =
        |name: &str, e: &dyn std::fmt::Display| -> ! { panic!("{name} rejects the offer: {e}") };
    let facts = [
        (
            RTCWIRE,
            rtcwire::facts(&rtcwire::parse(OFFER).unwrap_or_else(|e| parse_error(RTCWIRE, &e))),
        ),
        (
            WEBRTC_RS,
            webrtc_rs::facts(&webrtc_rs::parse(OFFER).unwrap_or_else(|e| parse_error(WEBRTC_RS, &e))),
        ),
        (
            RTC_SDP,
            rtc_sdp::facts(&rtc_sdp::parse(OFFER).unwrap_or_else(|e| parse_error(RTC_SDP, &e))),
        ),
        (
            MOZILLA,
            mozilla::facts(&mozilla::parse(OFFER).unwrap_or_else(|e| parse_error(MOZILLA, &e))),
        ),
    ];
    for (name, facts) in facts {
        assert_eq!(facts, expected, "{name} reads the offer differently");
    }
}

fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group(GROUPS[0].0);
    g.bench_function(RTCWIRE, |b| {
        b.iter(|| {
            let sdp = rtcwire::parse(black_box(OFFER)).unwrap_or_else(|e| panic!("{e}"));
            black_box(sdp.media.len())
        })
    });
    // What a caller pays to keep the model past the text's lifetime, as
    // every peer's model does.
    g.bench_function(RTCWIRE_OWNED, |b| {
        b.iter(|| {
            let sdp = rtcwire::parse(black_box(OFFER)).unwrap_or_else(|e| panic!("{e}"));
            black_box(sdp.into_owned().media.len())
        })
    });
    g.bench_function(WEBRTC_RS, |b| {
        b.iter(|| {
            let sdp = webrtc_rs::parse(black_box(OFFER)).unwrap_or_else(|e| panic!("{e}"));
            black_box(sdp.media_descriptions.len())
        })
    });
    g.bench_function(RTC_SDP, |b| {
        b.iter(|| {
            let sdp = rtc_sdp::parse(black_box(OFFER)).unwrap_or_else(|e| panic!("{e}"));
            black_box(sdp.media_descriptions.len())
        })
    });
    g.bench_function(MOZILLA, |b| {
        b.iter(|| {
            let sdp = mozilla::parse(black_box(OFFER)).unwrap_or_else(|e| panic!("{e}"));
            black_box(sdp.media.len())
        })
    });
    g.bench_function(BASELINE, |b| {
        b.iter(|| black_box(baseline::split_lines(black_box(OFFER))))
    });
    g.finish();
}

/// The `String` itself goes to `black_box` (not its length), so that no
/// allocation or copy can be optimised away.
fn bench_serialize(c: &mut Criterion) {
    let mut g = c.benchmark_group(GROUPS[1].0);
    let model = rtcwire::parse(OFFER).unwrap_or_else(|e| panic!("{e}"));
    g.bench_function(RTCWIRE, |b| {
        b.iter(|| black_box(rtcwire::serialize(black_box(&model))))
    });
    let owned = model.clone().into_owned();
    g.bench_function(RTCWIRE_OWNED, |b| {
        b.iter(|| black_box(rtcwire::serialize(black_box(&owned))))
    });
    let model = webrtc_rs::parse(OFFER).unwrap_or_else(|e| panic!("{e}"));
    g.bench_function(WEBRTC_RS, |b| {
        b.iter(|| black_box(webrtc_rs::serialize(black_box(&model))))
    });
    let model = rtc_sdp::parse(OFFER).unwrap_or_else(|e| panic!("{e}"));
    g.bench_function(RTC_SDP, |b| {
        b.iter(|| black_box(rtc_sdp::serialize(black_box(&model))))
    });
    let model = mozilla::parse(OFFER).unwrap_or_else(|e| panic!("{e}"));
    g.bench_function(MOZILLA, |b| {
        b.iter(|| black_box(mozilla::serialize(black_box(&model))))
    });
    g.bench_function(BASELINE, |b| {
        b.iter(|| black_box(baseline::copy(black_box(OFFER))))
    });
    g.finish();
}

fn main() {
    let started = SystemTime::now();
    let dir = rtcwire_benches::criterion_dir();
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    check_facts();
    bench_parse(&mut c);
    bench_serialize(&mut c);
    c.final_summary();
    rtcwire_benches::print_ratios(
        &dir,
        started,
        &format!(
            "SDP, Chromium offer ({} lines, {} B)",
            OFFER.lines().count(),
            OFFER.len()
        ),
        &GROUPS,
        &IMPLEMENTATIONS,
    );
}
