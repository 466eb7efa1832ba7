//! The `stun` benchmark compares equivalent work: every implementation writes
//! the same request, and every implementation accepts every other's.

#[path = "../stun_impls.rs"]
mod stun_impls;

use stun_impls::raw_crypto::RawCrypto;
use stun_impls::rtc_stun::RtcStun;
use stun_impls::rtcwire::Rtcwire;
use stun_impls::webrtc_rs::WebrtcRs;
use stun_impls::{PRIORITY, REQUEST_LEN, USERNAME};

struct Requests {
    rtcwire: Vec<u8>,
    webrtc: Vec<u8>,
    rtc: Vec<u8>,
    raw: Vec<u8>,
}

fn requests() -> Requests {
    let mut buf = [0u8; 128];
    let rtcwire = Rtcwire::new().build(&mut buf).unwrap().to_vec();
    let webrtc = WebrtcRs::new().build().unwrap().to_vec();
    let rtc = RtcStun::new().build().unwrap().to_vec();
    let mut raw_buf = [0u8; REQUEST_LEN];
    let raw = RawCrypto::new(&rtcwire).build(&mut raw_buf).to_vec();
    Requests {
        rtcwire,
        webrtc,
        rtc,
        raw,
    }
}

#[test]
fn every_implementation_writes_the_same_bytes() {
    let r = requests();
    assert_eq!(r.rtcwire.len(), REQUEST_LEN);
    assert_eq!(r.webrtc, r.rtcwire, "webrtc-rs stun");
    assert_eq!(r.rtc, r.rtcwire, "rtc-stun");
    assert_eq!(r.raw, r.rtcwire, "raw crypto");
}

#[test]
fn every_implementation_accepts_every_other() {
    let r = requests();
    let rtcwire = Rtcwire::new();
    let mut webrtc = WebrtcRs::new();
    let mut rtc = RtcStun::new();
    let raw = RawCrypto::new(&r.rtcwire);
    for (from, packet) in [
        ("rtcwire", &r.rtcwire),
        ("webrtc-rs stun", &r.webrtc),
        ("rtc-stun", &r.rtc),
        ("raw crypto", &r.raw),
    ] {
        assert_eq!(
            rtcwire.parse_verify(packet).unwrap(),
            (USERNAME, PRIORITY),
            "rtcwire reads {from}"
        );
        let (u, p) = webrtc.parse_verify(packet).unwrap();
        assert_eq!((u.as_str(), p), (USERNAME, PRIORITY), "webrtc-rs reads {from}");
        let (u, p) = rtc.parse_verify(packet).unwrap();
        assert_eq!((u.as_str(), p), (USERNAME, PRIORITY), "rtc-stun reads {from}");
        assert!(raw.verify(packet), "raw crypto checks {from}");
    }
    let (u, p) = webrtc.build_parse_verify().unwrap();
    assert_eq!((u.as_str(), p), (USERNAME, PRIORITY));
    let (u, p) = rtc.build_parse_verify().unwrap();
    assert_eq!((u.as_str(), p), (USERNAME, PRIORITY));
}

#[test]
fn every_implementation_rejects_a_tampered_request() {
    let r = requests();
    let rtcwire = Rtcwire::new();
    let mut webrtc = WebrtcRs::new();
    let mut rtc = RtcStun::new();
    let raw = RawCrypto::new(&r.rtcwire);
    // Flip a bit of PRIORITY and fix FINGERPRINT up: only integrity can tell.
    let mut forged = r.rtcwire.clone();
    forged[20 + 28 + 4] ^= 1;
    let crc = crc32fast::hash(&forged[..96]) ^ 0x5354_554e;
    forged[100..].copy_from_slice(&crc.to_be_bytes());
    assert!(rtcwire.parse_verify(&forged).is_err());
    assert!(webrtc.parse_verify(&forged).is_err());
    assert!(rtc.parse_verify(&forged).is_err());
    assert!(!raw.verify(&forged));
    // Break FINGERPRINT alone.
    let mut broken = r.rtcwire.clone();
    broken[103] ^= 1;
    assert!(rtcwire.parse_verify(&broken).is_err());
    assert!(webrtc.parse_verify(&broken).is_err());
    assert!(rtc.parse_verify(&broken).is_err());
    assert!(!raw.verify(&broken));
}
