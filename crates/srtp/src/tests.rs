//! Known-answer tests (RFC 3711 appendix B, RFC 7714 sections 16 and 17, a
//! libsrtp packet) and property tests of the whole crate.
// Test code: an unwrap or panic here fails a test on purpose; none of it
// is compiled outside `cargo test`, so no network input reaches it.

#![cfg(test)]

use proptest::prelude::*;

use crate::crypto::{AesCmHmac, AesGcm, Transform};
use crate::{Config, Context, DtlsSrtpKeys, Error, MasterKey, ProtectionProfile, Role};

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("zz"), 16).unwrap_or(0))
        .collect()
}

/// RFC 3711 appendix B.2: the AES-CM keystream for session key
/// 2B7E1516..., session salt F0F1...FD, SSRC 0, index 0 (so the IV is the
/// salt followed by two zero bytes).
#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let cm = AesCmHmac::new(
        &hex("2B7E151628AED2A6ABF7158809CF4F3C"),
        &hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"),
        &[0; 20],
    )
    .unwrap();
    let mut data = [0u8; 48];
    cm.apply_keystream(0, 0, &mut data);
    assert_eq!(
        data[..],
        hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB
             41E95B3BB0A2E8DD477901E4FCA894C0")[..]
    );
    // Block 0xFEFF and 0xFF00 of the keystream (the RFC lists them too) come
    // from the counter carrying into the salt bytes.
    let mut long = vec![0u8; 0xff01 * 16];
    cm.apply_keystream(0, 0, &mut long);
    assert_eq!(
        long[0xfeff * 16..0xff00 * 16],
        hex("EC8CDF7398607CB0F2D21675EA9EA1E4")[..]
    );
    assert_eq!(
        long[0xff00 * 16..0xff01 * 16],
        hex("362B7C3C6773516318A077D7FC5073AE")[..]
    );
}

/// RFC 3711 appendix B.3: session keys from master key E1F97A0D... and
/// master salt 0EC675AD... (labels 0, 2 and 1).
#[test]
fn rfc3711_b3_key_derivation() {
    let master = MasterKey::new(
        ProtectionProfile::Aes128CmHmacSha1_80,
        &hex("E1F97A0D3E018BE0D64FA32C06DE4139"),
        &hex("0EC675AD498AFEEBB6960B3AABE6"),
    )
    .unwrap();
    let mut key = [0u8; 16];
    master.derive(0, &mut key);
    assert_eq!(key[..], hex("C61E7A93744F39EE10734AFE3FF7A087")[..]);
    let mut salt = [0u8; 14];
    master.derive(2, &mut salt);
    assert_eq!(salt[..], hex("30CBBC08863D8C85D49DB34A9AE1")[..]);
    let mut auth = [0u8; 94];
    master.derive(1, &mut auth);
    assert_eq!(
        auth[..],
        hex("CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2")[..]
    );
}

/// libsrtp's own known-answer packet (its `srtp_driver` test): the B.3
/// master key, AES_CM_128_HMAC_SHA1_80, SSRC cafebabe, sequence 0x1234.
/// Covers derivation, keystream and HMAC together.
#[test]
fn libsrtp_aes_cm_known_packet() {
    let master = MasterKey::new(
        ProtectionProfile::Aes128CmHmacSha1_80,
        &hex("E1F97A0D3E018BE0D64FA32C06DE4139"),
        &hex("0EC675AD498AFEEBB6960B3AABE6"),
    )
    .unwrap();
    let plain = hex("800f1234decafbadcafebabe abababababababababababababababab");
    let expected = hex("800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb");
    let mut buf = [0u8; 64];
    buf[..plain.len()].copy_from_slice(&plain);
    let mut tx = Context::new(&master, Config::default()).unwrap();
    let n = tx.protect_rtp(&mut buf, plain.len()).unwrap();
    assert_eq!(buf[..n], expected[..]);
    let mut rx = Context::new(&master, Config::default()).unwrap();
    rx.add_stream(0xcafe_babe).unwrap();
    let n = rx.unprotect_rtp(&mut buf[..n]).unwrap();
    assert_eq!(buf[..n], plain[..]);
}

const GCM_KEY_128: &str = "000102030405060708090a0b0c0d0e0f";
const GCM_KEY_256: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// "Quid pro quo".
const GCM_SALT: &str = "517569642070726f2071756f";
const RFC7714_RTP: &str = "8040f17b8041f8d35501a0b2 47616c6c696120657374206f6d6e6973
    20646976 69736120696e207061727465732074726573";
const RFC7714_RTCP: &str = "81c8000d4d617273 4e5450314e545032525450200000042a0000e9304c756e61
    deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

fn gcm_context(profile: ProtectionProfile, key: &str) -> Context {
    let t = || Transform::Gcm(AesGcm::new(&hex(key), &hex(GCM_SALT)).unwrap());
    Context::from_transforms(
        profile,
        t(),
        t(),
        Config {
            accept_unknown_ssrc: true,
            ..Config::default()
        },
    )
}

fn check_rtp_vector(profile: ProtectionProfile, key: &str, protected: &str) {
    let plain = hex(RFC7714_RTP);
    let protected = hex(protected);
    let mut buf = [0u8; 128];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = gcm_context(profile, key)
        .protect_rtp(&mut buf, plain.len())
        .unwrap();
    assert_eq!(buf[..n], protected[..]);
    let n = gcm_context(profile, key).unprotect_rtp(&mut buf[..n]).unwrap();
    assert_eq!(buf[..n], plain[..]);
    let mut bad = protected.clone();
    bad[20] ^= 1;
    assert_eq!(
        gcm_context(profile, key).unprotect_rtp(&mut bad),
        Err(Error::Authentication)
    );
}

fn check_rtcp_vector(profile: ProtectionProfile, key: &str, protected: &str) {
    let plain = hex(RFC7714_RTCP);
    let protected = hex(protected);
    let mut buf = [0u8; 128];
    buf[..plain.len()].copy_from_slice(&plain);
    let mut tx = gcm_context(profile, key);
    tx.set_next_srtcp_index(0x4d61_7273, 0x5d4).unwrap();
    let n = tx.protect_rtcp(&mut buf, plain.len()).unwrap();
    assert_eq!(buf[..n], protected[..]);
    let mut rx = gcm_context(profile, key);
    let n = rx.unprotect_rtcp(&mut buf[..n]).unwrap();
    assert_eq!(buf[..n], plain[..]);
    let mut again = protected.clone();
    assert_eq!(
        rx.unprotect_rtcp(&mut again),
        Err(Error::Replay("duplicate packet index"))
    );
}

/// RFC 7714 section 16.1.1: AEAD_AES_128_GCM SRTP.
#[test]
fn rfc7714_16_1_srtp_aes_128_gcm() {
    check_rtp_vector(
        ProtectionProfile::AeadAes128Gcm,
        GCM_KEY_128,
        "8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f
         42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce",
    );
}

/// RFC 7714 section 16.2.1: AEAD_AES_256_GCM SRTP.
#[test]
fn rfc7714_16_2_srtp_aes_256_gcm() {
    check_rtp_vector(
        ProtectionProfile::AeadAes256Gcm,
        GCM_KEY_256,
        "8040f17b8041f8d35501a0b2 32b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3
         b50b2a0276ffae0f1ba63799b87b7aa3db36dfffd6b0f9bb7878d7a76c13",
    );
}

/// RFC 7714 section 17.1: AEAD_AES_128_GCM SRTCP, index 0x5d4, encrypted.
#[test]
fn rfc7714_17_1_srtcp_aes_128_gcm() {
    check_rtcp_vector(
        ProtectionProfile::AeadAes128Gcm,
        GCM_KEY_128,
        "81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1
         730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade 800005d4",
    );
}

/// RFC 7714 section 17.2: AEAD_AES_256_GCM SRTCP, index 0x5d4, encrypted.
#[test]
fn rfc7714_17_2_srtcp_aes_256_gcm() {
    check_rtcp_vector(
        ProtectionProfile::AeadAes256Gcm,
        GCM_KEY_256,
        "81c8000d4d617273 d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1
         110555be8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be 800005d4",
    );
}

fn master(profile: ProtectionProfile, seed: u8) -> MasterKey {
    let key: Vec<u8> = (0..profile.master_key_len() as u8).map(|i| i ^ seed).collect();
    let salt: Vec<u8> = (0..profile.master_salt_len() as u8)
        .map(|i| i.wrapping_mul(7) ^ seed)
        .collect();
    MasterKey::new(profile, &key, &salt).unwrap()
}

fn pair(profile: ProtectionProfile, config: Config) -> (Context, Context) {
    let m = master(profile, 0x5a);
    (
        Context::new(&m, Config::default()).unwrap(),
        Context::new(&m, config).unwrap(),
    )
}

fn rtp(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 111];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn protect(tx: &mut Context, packet: &[u8]) -> Vec<u8> {
    let mut buf = packet.to_vec();
    buf.resize(packet.len() + 16, 0);
    let n = tx.protect_rtp(&mut buf, packet.len()).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn dtls_exporter_split() {
    let profile = ProtectionProfile::Aes128CmHmacSha1_80;
    let material: Vec<u8> = (0..60).collect();
    let keys = DtlsSrtpKeys::from_exporter(profile, &material).unwrap();
    assert_eq!(keys.client.key(), &material[..16]);
    assert_eq!(keys.server.key(), &material[16..32]);
    assert_eq!(keys.client.salt(), &material[32..46]);
    assert_eq!(keys.server.salt(), &material[46..60]);
    assert_eq!(keys.split(Role::Server).0, &keys.server);
    assert_eq!(keys.split(Role::Client).1, &keys.server);
    let gcm = DtlsSrtpKeys::from_exporter(ProtectionProfile::AeadAes256Gcm, &[1; 88]).unwrap();
    assert_eq!(gcm.server.salt().len(), 12);
    assert!(DtlsSrtpKeys::from_exporter(profile, &material[..59]).is_err());
}

#[test]
fn replays_unknown_ssrcs_and_short_packets_are_refused() {
    for profile in ProtectionProfile::ALL {
        let (mut tx, mut rx) = pair(profile, Config::default());
        let packet = protect(&mut tx, &rtp(1, 42, &[9; 100]));
        assert_eq!(rx.unprotect_rtp(&mut packet.clone()), Err(Error::UnknownSsrc(42)));
        assert_eq!(rx.stream_count(), 0);
        rx.add_stream(42).unwrap();
        assert_eq!(rx.unprotect_rtp(&mut packet.clone()), Ok(112));
        assert_eq!(
            rx.unprotect_rtp(&mut packet.clone()),
            Err(Error::Replay("duplicate packet index"))
        );
        assert!(matches!(
            rx.unprotect_rtp(&mut packet[..11 + profile.rtp_overhead()].to_vec()),
            Err(Error::TooShort(_))
        ));
        let mut rtcp = [0u8; 64];
        rtcp[..8].copy_from_slice(&[0x80, 201, 0, 1, 0, 0, 0, 42]);
        let n = tx.protect_rtcp(&mut rtcp, 8).unwrap();
        assert_eq!(n, 8 + profile.rtcp_overhead());
        assert_eq!(rx.unprotect_rtcp(&mut { rtcp }[..n]), Ok(8));
        assert!(matches!(rx.unprotect_rtcp(&mut rtcp[..n]), Err(Error::Replay(_))));
        // No room for the tag.
        let mut small = rtp(2, 42, &[1; 10]);
        let len = small.len();
        assert!(matches!(
            tx.protect_rtp(&mut small, len),
            Err(Error::BufferTooSmall(_))
        ));
    }
}

#[test]
fn stream_cap_and_unknown_ssrc_policy() {
    let config = Config {
        accept_unknown_ssrc: true,
        max_streams: 2,
        ..Config::default()
    };
    let (mut tx, mut rx) = pair(ProtectionProfile::AeadAes128Gcm, config);
    for ssrc in 1..=2 {
        let mut p = protect(&mut tx, &rtp(5, ssrc, &[0; 20]));
        rx.unprotect_rtp(&mut p).unwrap();
    }
    let mut p = protect(&mut tx, &rtp(5, 3, &[0; 20]));
    assert_eq!(rx.unprotect_rtp(&mut p), Err(Error::TooManyStreams));
    // A forged packet from an unknown SSRC creates nothing.
    assert!(rx.remove_stream(1));
    let mut forged = rtp(9, 77, &[0; 40]);
    assert_eq!(rx.unprotect_rtp(&mut forged), Err(Error::Authentication));
    assert_eq!(rx.stream_count(), 1);
}

#[test]
fn rollover_and_reordering_across_65535() {
    for profile in ProtectionProfile::ALL {
        let (mut tx, mut rx) = pair(profile, Config::default());
        rx.add_stream(7).unwrap();
        let seqs: Vec<u16> = (65530..=65535).chain(0..6).collect();
        let packets: Vec<Vec<u8>> = seqs
            .iter()
            .map(|&s| protect(&mut tx, &rtp(s, 7, &[s as u8; 50])))
            .collect();
        assert_eq!(tx.rollover_counter(7), Some(1));
        // Delivered out of order across the wrap.
        for i in [0usize, 1, 7, 2, 6, 3, 4, 5, 8, 11, 9, 10] {
            let n = rx.unprotect_rtp(&mut packets[i].clone()).unwrap();
            assert_eq!(n, 12 + 50);
        }
        assert_eq!(rx.rollover_counter(7), Some(1));
        assert!(rx.unprotect_rtp(&mut packets[3].clone()).is_err());
    }
}

#[test]
fn large_replay_window() {
    let config = Config {
        replay_window: crate::MAX_REPLAY_WINDOW,
        ..Config::default()
    };
    let (mut tx, mut rx) = pair(ProtectionProfile::AeadAes128Gcm, config);
    rx.add_stream(1).unwrap();
    let first = protect(&mut tx, &rtp(0, 1, &[1; 8]));
    let mut last = Vec::new();
    for seq in 1..20_000u16 {
        last = protect(&mut tx, &rtp(seq, 1, &[1; 8]));
    }
    rx.unprotect_rtp(&mut last).unwrap();
    rx.unprotect_rtp(&mut first.clone()).unwrap();
    assert!(rx.unprotect_rtp(&mut first.clone()).is_err());
    assert!(
        Context::new(
            &master(ProtectionProfile::AeadAes128Gcm, 1),
            Config {
                replay_window: 0,
                ..Config::default()
            }
        )
        .is_err()
    );
}

/// Unencrypted SRTCP (E-flag clear) is authenticated and passed through.
#[test]
fn unencrypted_srtcp_is_accepted() {
    for profile in ProtectionProfile::ALL {
        let m = master(profile, 3);
        let mut tx = Context::new(&m, Config::default()).unwrap();
        let mut rx = Context::new(&m, Config::default()).unwrap();
        rx.add_stream(0x0102_0304).unwrap();
        let plain = [0x81, 201, 0, 2, 1, 2, 3, 4, 9, 9, 9, 9];
        // Build the unencrypted form through the transform directly.
        let mut buf = [0u8; 64];
        buf[..12].copy_from_slice(&plain);
        let n = tx.protect_rtcp(&mut buf, 12).unwrap();
        let tag_len = profile.rtcp_tag_len();
        let e_index = [0u8, 0, 0, 0];
        let mut clear = plain.to_vec();
        match &tx.rtcp_transform() {
            Transform::AesCm(cm) => {
                clear.extend_from_slice(&e_index);
                let tag = cm.tag(&clear, &[]);
                clear.extend_from_slice(&tag[..tag_len]);
            }
            Transform::Gcm(gcm) => {
                let mut aad = plain.to_vec();
                aad.extend_from_slice(&e_index);
                let tag = gcm.seal(gcm.nonce(0x0102_0304, 0, 0), &aad, &mut []).unwrap();
                clear.extend_from_slice(&tag);
                clear.extend_from_slice(&e_index);
            }
        }
        assert_eq!(rx.unprotect_rtcp(&mut clear), Ok(12));
        assert_eq!(clear[..12], plain[..]);
        // The encrypted one with the same index 0 is now a replay.
        assert!(matches!(rx.unprotect_rtcp(&mut buf[..n]), Err(Error::Replay(_))));
    }
}

fn arb_rtp() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        0u8..128,
        any::<u16>(),
        any::<u32>(),
        proptest::collection::vec(any::<u32>(), 0..=15),
        proptest::option::of((any::<u16>(), proptest::collection::vec(any::<u32>(), 0..8))),
        proptest::collection::vec(any::<u8>(), 0..1400),
    )
        .prop_map(|(marker, pt, seq, ts, csrcs, ext, payload)| {
            let mut p = vec![0x80 | csrcs.len() as u8 | if ext.is_some() { 0x10 } else { 0 }];
            p.push(pt | if marker { 0x80 } else { 0 });
            p.extend_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&ts.to_be_bytes());
            p.extend_from_slice(&0xfeed_f00d_u32.to_be_bytes());
            for c in csrcs {
                p.extend_from_slice(&c.to_be_bytes());
            }
            if let Some((profile, words)) = ext {
                p.extend_from_slice(&profile.to_be_bytes());
                p.extend_from_slice(&(words.len() as u16).to_be_bytes());
                for w in words {
                    p.extend_from_slice(&w.to_be_bytes());
                }
            }
            p.extend_from_slice(&payload);
            p
        })
}

fn arb_profile() -> impl Strategy<Value = ProtectionProfile> {
    proptest::sample::select(ProtectionProfile::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn protect_unprotect_is_identity(profile in arb_profile(), packet in arb_rtp(), bit in any::<prop::sample::Index>()) {
        let (mut tx, mut rx) = pair(profile, Config::default());
        rx.add_stream(0xfeed_f00d).unwrap();
        let protected = protect(&mut tx, &packet);
        prop_assert_eq!(protected.len(), packet.len() + profile.rtp_overhead());
        // Any flipped bit is rejected (and leaves no trace).
        let mut flipped = protected.clone();
        let i = bit.index(flipped.len() * 8);
        flipped[i / 8] ^= 1 << (i % 8);
        prop_assert!(rx.unprotect_rtp(&mut flipped).is_err());
        let mut buf = protected.clone();
        let n = rx.unprotect_rtp(&mut buf).unwrap();
        prop_assert_eq!(&buf[..n], &packet[..]);
    }

    #[test]
    fn rtcp_protect_unprotect_is_identity(profile in arb_profile(), body in proptest::collection::vec(any::<u8>(), 0..1200), bit in any::<prop::sample::Index>()) {
        let (mut tx, mut rx) = pair(profile, Config::default());
        rx.add_stream(0x0a0b_0c0d).unwrap();
        let mut packet = vec![0x80, 200, 0, 0, 0x0a, 0x0b, 0x0c, 0x0d];
        packet.extend_from_slice(&body);
        let mut buf = packet.clone();
        buf.resize(packet.len() + profile.rtcp_overhead(), 0);
        let n = tx.protect_rtcp(&mut buf, packet.len()).unwrap();
        prop_assert_eq!(n, buf.len());
        let mut flipped = buf.clone();
        let i = bit.index(flipped.len() * 8);
        flipped[i / 8] ^= 1 << (i % 8);
        prop_assert!(rx.unprotect_rtcp(&mut flipped).is_err());
        let n = rx.unprotect_rtcp(&mut buf).unwrap();
        prop_assert_eq!(&buf[..n], &packet[..]);
    }

    #[test]
    fn arbitrary_input_never_panics(profile in arb_profile(), data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let config = Config { accept_unknown_ssrc: true, ..Config::default() };
        let (_, mut rx) = pair(profile, config);
        let _ = rx.unprotect_rtp(&mut data.clone());
        let _ = rx.unprotect_rtcp(&mut data.clone());
        let mut buf = data.clone();
        buf.resize(data.len() + 20, 0);
        let _ = rx.protect_rtp(&mut buf, data.len());
        let _ = rx.protect_rtcp(&mut buf, data.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// A stream that starts anywhere (so it may cross 65535 -> 0), delivered
    /// with local reordering and duplicates: every packet unprotects exactly
    /// once, every duplicate is a replay, and both sides end on the same
    /// rollover counter.
    #[test]
    fn reordered_and_duplicated_stream_across_rollover(
        profile in arb_profile(),
        start in any::<u16>(),
        count in 1usize..600,
        runs in proptest::collection::vec(1usize..=32, 0..200),
        duplicates in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let (mut tx, mut rx) = pair(profile, Config::default());
        rx.add_stream(9).unwrap();
        let packets: Vec<Vec<u8>> = (0..count)
            .map(|i| protect(&mut tx, &rtp(start.wrapping_add(i as u16), 9, &[i as u8; 24])))
            .collect();
        // Reverse consecutive runs of up to 32 packets: no packet moves by
        // more than 31 places, well inside the 64-packet window.
        let mut order: Vec<usize> = (0..count).collect();
        let mut at = 0;
        for run in runs {
            let end = (at + run).min(count);
            order[at..end].reverse();
            at = end;
        }
        let mut seen = vec![false; count];
        let mut deliveries: Vec<usize> = order.clone();
        for d in duplicates {
            let i = d.index(deliveries.len());
            let again = deliveries[i];
            deliveries.insert(i + 1, again);
        }
        for i in deliveries {
            let result = rx.unprotect_rtp(&mut packets[i].clone());
            if seen[i] {
                prop_assert!(matches!(result, Err(Error::Replay(_))), "duplicate {} accepted: {:?}", i, result);
            } else {
                prop_assert_eq!(result, Ok(12 + 24), "packet {}", i);
                seen[i] = true;
            }
        }
        prop_assert_eq!(rx.rollover_counter(9), tx.rollover_counter(9));
    }
}
