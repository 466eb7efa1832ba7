//! Arbitrary text as the peer's session description: a fresh `Rtc` takes
//! it as an offer (then answers it and applies the answer) or, after its
//! own offer, as the answer; then a trickled candidate line from the same
//! text. Nothing may panic; a refused description leaves the signalling
//! state where it was; whatever is accepted, the answer written for it
//! parses again.
//!
//! Run: `cargo fuzz run --sanitizer none rtc_negotiation seeds/sdp -- -dict=sdp.dict`
//! (the SDP seeds are real offers and answers).
#![no_main]

use std::sync::Arc;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use rtcwire::{DtlsCertificate, Rtc, RtcConfig, SessionDescription, SignalingState};

#[path = "shared/cert.rs"]
mod cert;

fn certificate() -> Arc<DtlsCertificate> {
    cert::certificates()[0].clone()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let config = RtcConfig {
        certificate: Some(certificate()),
        seed: Some(1),
        ..RtcConfig::default()
    };
    let Ok(mut rtc) = Rtc::new(config, Instant::now()) else {
        return;
    };
    let _ = rtc.add_local_candidate("127.0.0.1:5000".parse().expect("constant address"));
    if mode & 1 == 0 {
        match rtc.set_remote_description(&SessionDescription::offer(text)) {
            Ok(()) => {
                assert_eq!(rtc.signaling_state(), SignalingState::HaveRemoteOffer);
                let answer = rtc.create_answer().expect("an answer to an accepted offer");
                rtcwire::proto::sdp::SessionDescription::parse(&answer.sdp).expect("our answer parses");
                rtc.set_local_description(&answer).expect("our answer applies");
                assert_eq!(rtc.signaling_state(), SignalingState::Stable);
            }
            Err(_) => assert_eq!(rtc.signaling_state(), SignalingState::Stable),
        }
    } else {
        let offer = rtc.create_offer().expect("an offer");
        rtc.set_local_description(&offer).expect("our offer applies");
        match rtc.set_remote_description(&SessionDescription::answer(text)) {
            Ok(()) => assert_eq!(rtc.signaling_state(), SignalingState::Stable),
            Err(_) => assert_eq!(rtc.signaling_state(), SignalingState::HaveLocalOffer),
        }
    }
    for line in text.lines().take(8) {
        let _ = rtc.add_remote_candidate(line);
    }
    while let Ok(rtcwire::Output::Transmit(_) | rtcwire::Output::Event(_)) = rtc.poll_output() {}
});
