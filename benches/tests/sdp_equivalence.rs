//! The `sdp` benchmark compares equivalent work: every implementation parses
//! the offer and reads the same facts from it, and every implementation's
//! serialisation is a description the others read the same way.

#[path = "../sdp_impls.rs"]
mod sdp_impls;

use sdp_impls::{Facts, OFFER, baseline, expected_facts, mozilla, rtc_sdp, rtcwire, webrtc_rs};

#[test]
fn the_offer_is_what_the_benchmark_says() {
    assert_eq!(baseline::split_lines(OFFER), 177);
    assert_eq!(baseline::copy(OFFER), OFFER);
    let facts = expected_facts();
    assert_eq!(facts.video_rtpmaps, 23);
    assert_eq!(facts.candidates, 6);
}

#[test]
fn every_implementation_reads_the_same_facts() {
    let expected = expected_facts();
    let sdp = rtcwire::parse(OFFER).unwrap();
    assert_eq!(rtcwire::facts(&sdp), expected, "rtcwire");
    assert_eq!(rtcwire::facts(&sdp.into_owned()), expected, "rtcwire owned");
    let sdp = webrtc_rs::parse(OFFER).unwrap();
    assert_eq!(webrtc_rs::facts(&sdp), expected, "webrtc-rs sdp");
    let sdp = rtc_sdp::parse(OFFER).unwrap();
    assert_eq!(rtc_sdp::facts(&sdp), expected, "rtc-sdp");
    let sdp = mozilla::parse(OFFER).unwrap();
    assert_eq!(mozilla::facts(&sdp), expected, "webrtc-sdp");
}

#[test]
fn rtcwire_writes_the_offer_back_byte_for_byte() {
    let sdp = rtcwire::parse(OFFER).unwrap();
    assert_eq!(rtcwire::serialize(&sdp), OFFER);
    assert_eq!(rtcwire::serialize(&sdp.into_owned()), OFFER);
}

/// webrtc-rs' model keeps attributes as written, so it also writes the offer
/// back byte for byte: the serialise group times the same output.
#[test]
fn webrtc_rs_writes_the_offer_back_byte_for_byte() {
    assert_eq!(webrtc_rs::serialize(&webrtc_rs::parse(OFFER).unwrap()), OFFER);
    assert_eq!(rtc_sdp::serialize(&rtc_sdp::parse(OFFER).unwrap()), OFFER);
}

/// Mozilla's parser drops what it does not support, with a warning (the two
/// `a=rtcp-xr` lines), and writes the rest in its own canonical form
/// (`UDP`, parameter order): a little less text than the others.
#[test]
fn mozilla_warns_only_about_rtcp_xr() {
    let sdp = mozilla::parse(OFFER).unwrap();
    assert_eq!(sdp.warnings.len(), 2, "{:?}", sdp.warnings);
    for w in &sdp.warnings {
        assert!(w.to_string().contains("rtcp-xr"), "{w}");
    }
}

/// Every serialiser writes the whole offer: rtcwire and the writer's own
/// parser read the same facts from it, and it is about the input's size.
#[test]
fn every_serialisation_keeps_the_facts() {
    let expected = expected_facts();
    let outputs: [(&str, String, Facts); 3] = [
        {
            let text = webrtc_rs::serialize(&webrtc_rs::parse(OFFER).unwrap());
            let facts = webrtc_rs::facts(&webrtc_rs::parse(&text).unwrap());
            ("webrtc-rs sdp", text, facts)
        },
        {
            let text = rtc_sdp::serialize(&rtc_sdp::parse(OFFER).unwrap());
            let facts = rtc_sdp::facts(&rtc_sdp::parse(&text).unwrap());
            ("rtc-sdp", text, facts)
        },
        {
            let text = mozilla::serialize(&mozilla::parse(OFFER).unwrap());
            let facts = mozilla::facts(&mozilla::parse(&text).unwrap());
            ("webrtc-sdp", text, facts)
        },
    ];
    for (name, text, own_facts) in outputs {
        assert_eq!(own_facts, expected, "{name} reads its own output");
        let sdp = rtcwire::parse(&text).unwrap_or_else(|e| panic!("rtcwire reads {name}'s output: {e}"));
        assert_eq!(rtcwire::facts(&sdp), expected, "rtcwire reads {name}'s output");
        let ratio = text.len() as f64 / OFFER.len() as f64;
        assert!(
            (0.97..=1.0).contains(&ratio),
            "{name} wrote {} B for a {} B offer",
            text.len(),
            OFFER.len()
        );
    }
}
