//! Arbitrary bytes through rtcwire-srtp with a fixed master key, for each
//! of the four profiles (the first byte picks the profile and the mode):
//! - unprotect as SRTP and as SRTCP: never panics, and a success (only
//!   possible for a forged tag, so practically never) returns a length
//!   inside the packet;
//! - a round trip: the rest, if it is a valid RTP or RTCP packet, protects
//!   and unprotects to itself, and with one bit flipped is rejected;
//! - a stream: the rest cut into packets with rewritten sequence numbers,
//!   each protected, delivered once or twice, the second delivery a replay.
//!
//! Run: `cargo fuzz run --sanitizer none srtp_unprotect`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcwire_srtp::{Config, Context, Error, MasterKey, ProtectionProfile};

fn context(profile: ProtectionProfile) -> Context {
    let key: Vec<u8> = (0..profile.master_key_len() as u8).collect();
    let salt: Vec<u8> = (0..profile.master_salt_len() as u8).map(|b| b ^ 0xa5).collect();
    let master = MasterKey::new(profile, &key, &salt).expect("fixed key fits");
    let config = Config {
        accept_unknown_ssrc: true,
        max_streams: 4,
        ..Config::default()
    };
    Context::new(&master, config).expect("fixed config is valid")
}

fn round_trip(profile: ProtectionProfile, packet: &[u8], flip: usize) {
    let mut tx = context(profile);
    let mut rx = context(profile);
    let rtcp = packet.get(1).is_some_and(|pt| (192..=223).contains(pt));
    let mut buf = packet.to_vec();
    buf.resize(packet.len() + 20, 0);
    let protected = if rtcp {
        tx.protect_rtcp(&mut buf, packet.len())
    } else {
        tx.protect_rtp(&mut buf, packet.len())
    };
    let Ok(n) = protected else { return };
    buf.truncate(n);
    let unprotect = |rx: &mut Context, b: &mut [u8]| {
        if rtcp { rx.unprotect_rtcp(b) } else { rx.unprotect_rtp(b) }
    };
    let mut flipped = buf.clone();
    let bit = flip % (flipped.len() * 8);
    flipped[bit / 8] ^= 1 << (bit % 8);
    assert!(unprotect(&mut rx, &mut flipped).is_err(), "a flipped bit was accepted");
    let len = unprotect(&mut rx, &mut buf).expect("own packet unprotects");
    assert_eq!(&buf[..len], packet);
    assert!(matches!(unprotect(&mut rx, &mut buf.clone()), Err(Error::Replay(_)) | Err(Error::Authentication)));
}

fn stream(profile: ProtectionProfile, data: &[u8]) {
    let mut tx = context(profile);
    let mut rx = context(profile);
    let mut rest = data;
    while let [head, seq_hi, seq_lo, tail @ ..] = rest {
        let len = usize::from(*head & 0x3f).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        let mut packet = vec![0x80, 96, *seq_hi, *seq_lo, 0, 0, 0, 0, 0, 0, 0, 1];
        packet.extend_from_slice(payload);
        let mut buf = packet.clone();
        buf.resize(packet.len() + 16, 0);
        let Ok(n) = tx.protect_rtp(&mut buf, packet.len()) else { continue };
        buf.truncate(n);
        let first = rx.unprotect_rtp(&mut buf.clone());
        if let Ok(len) = first {
            assert_eq!(len, packet.len());
            if *head & 0x40 != 0 {
                assert!(rx.unprotect_rtp(&mut buf).is_err(), "a replay was accepted");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let profile = ProtectionProfile::ALL[usize::from(selector & 3)];
    match (selector >> 2) % 3 {
        0 => {
            let mut rx = context(profile);
            if let Ok(n) = rx.unprotect_rtp(&mut rest.to_vec()) {
                assert!(n <= rest.len());
            }
            if let Ok(n) = rx.unprotect_rtcp(&mut rest.to_vec()) {
                assert!(n <= rest.len());
            }
        }
        1 => round_trip(profile, rest, usize::from(selector >> 4) * 7919 + rest.len()),
        _ => stream(profile, rest),
    }
});
