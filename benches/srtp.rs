//! SRTP: protect and unprotect of one RTP packet with a 1200-byte payload
//! for each profile, next to the raw cipher work it cannot avoid (`ring`
//! AES-GCM seal/open; `aes` + `ctr` AES-CTR plus `hmac` + `sha1` HMAC-SHA1
//! over the same bytes) and next to webrtc-rs' `webrtc-srtp` and its
//! sans-IO sibling `rtc-srtp`, all measured in this run.
//!
//! `cargo bench -p rtcwire-benches --bench srtp [-- criterion options]`

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aes::Aes128;
use aes::cipher::{InnerIvInit, KeyInit, StreamCipher, StreamCipherCoreWrapper};
use criterion::{BatchSize, Criterion};
use hmac::{Hmac, Mac};
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use rtcwire_srtp::{Config, Context, MasterKey, ProtectionProfile};
use sha1::Sha1;

const PAYLOAD: usize = 1200;
const HEADER: usize = 12;
const SSRC: u32 = 0x1234_5678;

const RTCWIRE: &str = "rtcwire";
const RAW: &str = "raw cipher";
const WEBRTC_SRTP: &str = "webrtc-srtp";
const RTC_SRTP: &str = "rtc-srtp";
const IMPLEMENTATIONS: [&str; 4] = [RTCWIRE, RAW, WEBRTC_SRTP, RTC_SRTP];

const PROFILES: [(ProtectionProfile, &str); 4] = [
    (ProtectionProfile::AeadAes128Gcm, "aead_aes_128_gcm"),
    (ProtectionProfile::AeadAes256Gcm, "aead_aes_256_gcm"),
    (ProtectionProfile::Aes128CmHmacSha1_80, "aes_cm_hmac_sha1_80"),
    (ProtectionProfile::Aes128CmHmacSha1_32, "aes_cm_hmac_sha1_32"),
];

const GROUPS: [(&str, &str); 8] = [
    ("srtp_protect_aead_aes_128_gcm", "protect AES-128-GCM"),
    ("srtp_unprotect_aead_aes_128_gcm", "unprotect AES-128-GCM"),
    ("srtp_protect_aead_aes_256_gcm", "protect AES-256-GCM"),
    ("srtp_unprotect_aead_aes_256_gcm", "unprotect AES-256-GCM"),
    ("srtp_protect_aes_cm_hmac_sha1_80", "protect AES-CM SHA1-80"),
    ("srtp_unprotect_aes_cm_hmac_sha1_80", "unprotect AES-CM SHA1-80"),
    ("srtp_protect_aes_cm_hmac_sha1_32", "protect AES-CM SHA1-32"),
    ("srtp_unprotect_aes_cm_hmac_sha1_32", "unprotect AES-CM SHA1-32"),
];

fn master(profile: ProtectionProfile) -> MasterKey {
    let key: Vec<u8> = (0..profile.master_key_len() as u8)
        .map(|b| b.wrapping_mul(31))
        .collect();
    let salt: Vec<u8> = (0..profile.master_salt_len() as u8).map(|b| b ^ 0x5c).collect();
    MasterKey::new(profile, &key, &salt).unwrap()
}

fn rtp_packet(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 3000).to_be_bytes());
    p.extend_from_slice(&SSRC.to_be_bytes());
    p.extend((0..PAYLOAD).map(|i| i as u8));
    p
}

fn webrtc_profile(profile: ProtectionProfile) -> webrtc_srtp::protection_profile::ProtectionProfile {
    use webrtc_srtp::protection_profile::ProtectionProfile as P;
    match profile {
        ProtectionProfile::Aes128CmHmacSha1_80 => P::Aes128CmHmacSha1_80,
        ProtectionProfile::Aes128CmHmacSha1_32 => P::Aes128CmHmacSha1_32,
        ProtectionProfile::AeadAes128Gcm => P::AeadAes128Gcm,
        ProtectionProfile::AeadAes256Gcm => P::AeadAes256Gcm,
    }
}

fn rtc_profile(profile: ProtectionProfile) -> rtc_srtp::protection_profile::ProtectionProfile {
    use rtc_srtp::protection_profile::ProtectionProfile as P;
    match profile {
        ProtectionProfile::Aes128CmHmacSha1_80 => P::Aes128CmHmacSha1_80,
        ProtectionProfile::Aes128CmHmacSha1_32 => P::Aes128CmHmacSha1_32,
        ProtectionProfile::AeadAes128Gcm => P::AeadAes128Gcm,
        ProtectionProfile::AeadAes256Gcm => P::AeadAes256Gcm,
    }
}

/// The work any implementation must do for one packet, with keys already
/// scheduled: AES-GCM over the payload with the header as AAD, or AES-CTR
/// over the payload and HMAC-SHA1 over header, payload and ROC.
#[allow(clippy::large_enum_variant)]
enum Raw {
    Gcm(LessSafeKey),
    Cm(Aes128, Hmac<Sha1>),
}

impl Raw {
    fn new(profile: ProtectionProfile) -> Raw {
        match profile {
            ProtectionProfile::AeadAes128Gcm => Raw::Gcm(LessSafeKey::new(
                UnboundKey::new(&aead::AES_128_GCM, &[7; 16]).unwrap(),
            )),
            ProtectionProfile::AeadAes256Gcm => Raw::Gcm(LessSafeKey::new(
                UnboundKey::new(&aead::AES_256_GCM, &[7; 32]).unwrap(),
            )),
            _ => Raw::Cm(
                Aes128::new_from_slice(&[7; 16]).unwrap(),
                <Hmac<Sha1> as Mac>::new_from_slice(&[9; 20]).unwrap(),
            ),
        }
    }

    fn ctr(aes: &Aes128, data: &mut [u8]) {
        let core = ctr::CtrCore::<&Aes128, ctr::flavors::Ctr128BE>::inner_iv_init(aes, &[3u8; 16].into());
        StreamCipherCoreWrapper::from_core(core).apply_keystream(data);
    }

    /// Seals or encrypts-then-MACs `packet` (header + payload) in place;
    /// the tag goes into `tag`.
    fn protect(&self, packet: &mut [u8], tag: &mut [u8; 16]) {
        let (header, payload) = packet.split_at_mut(HEADER);
        match self {
            Raw::Gcm(key) => {
                let t = key
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key([1; 12]),
                        Aad::from(&*header),
                        payload,
                    )
                    .unwrap();
                tag.copy_from_slice(t.as_ref());
            }
            Raw::Cm(aes, mac) => {
                Self::ctr(aes, payload);
                let mut mac = mac.clone();
                mac.update(header);
                mac.update(payload);
                mac.update(&[0, 0, 0, 0]);
                tag[..10].copy_from_slice(&mac.finalize().into_bytes()[..10]);
            }
        }
    }

    /// Checks and decrypts what `protect` produced.
    fn unprotect(&self, packet: &mut [u8], tag: &[u8; 16]) {
        let (header, payload) = packet.split_at_mut(HEADER);
        match self {
            Raw::Gcm(key) => {
                key.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key([1; 12]),
                    Aad::from(&*header),
                    aead::Tag::try_from(&tag[..]).unwrap(),
                    payload,
                    0..,
                )
                .unwrap();
            }
            Raw::Cm(aes, mac) => {
                let mut mac = mac.clone();
                mac.update(header);
                mac.update(payload);
                mac.update(&[0, 0, 0, 0]);
                mac.verify_truncated_left(&tag[..10]).unwrap();
                Self::ctr(aes, payload);
            }
        }
    }
}

fn bench_profile(c: &mut Criterion, profile: ProtectionProfile, name: &str) {
    let m = master(profile);
    let overhead = profile.rtp_overhead();

    let mut group = c.benchmark_group(format!("srtp_protect_{name}"));
    {
        let mut tx = Context::new(&m, Config::default()).unwrap();
        let mut buf = rtp_packet(0);
        buf.resize(HEADER + PAYLOAD + overhead, 0);
        let mut seq = 0u16;
        group.bench_function(RTCWIRE, |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                buf[2..4].copy_from_slice(&seq.to_be_bytes());
                black_box(tx.protect_rtp(&mut buf, HEADER + PAYLOAD).unwrap())
            })
        });
        let raw = Raw::new(profile);
        let mut packet = rtp_packet(0);
        let mut tag = [0u8; 16];
        group.bench_function(RAW, |b| {
            b.iter(|| {
                raw.protect(&mut packet, &mut tag);
                black_box(&tag);
            })
        });
        let mut theirs =
            webrtc_srtp::context::Context::new(m.key(), m.salt(), webrtc_profile(profile), None, None)
                .unwrap();
        let mut packet = rtp_packet(0);
        let mut seq = 0u16;
        group.bench_function(WEBRTC_SRTP, |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                packet[2..4].copy_from_slice(&seq.to_be_bytes());
                black_box(theirs.encrypt_rtp(&packet).unwrap())
            })
        });
        let mut theirs = rtc_srtp::context::Context::new(
            m.key(),
            m.salt(),
            rtc_profile(profile),
            None,
            None,
            &rtc_srtp::crypto::providers::RingCrypto,
        )
        .unwrap();
        let mut seq = 0u16;
        group.bench_function(RTC_SRTP, |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                packet[2..4].copy_from_slice(&seq.to_be_bytes());
                black_box(theirs.encrypt_rtp(&packet).unwrap())
            })
        });
    }
    group.finish();

    // Unprotect: each iteration gets a fresh packet with the next sequence
    // number, protected by the same implementation outside the timing.
    let mut group = c.benchmark_group(format!("srtp_unprotect_{name}"));
    {
        let mut tx = Context::new(&m, Config::default()).unwrap();
        let mut rx = Context::new(&m, Config::default()).unwrap();
        rx.add_stream(SSRC).unwrap();
        let mut template = rtp_packet(0);
        template.resize(HEADER + PAYLOAD + overhead, 0);
        let mut seq = 0u16;
        group.bench_function(RTCWIRE, |b| {
            b.iter_batched_ref(
                || {
                    seq = seq.wrapping_add(1);
                    let mut buf = template.clone();
                    buf[2..4].copy_from_slice(&seq.to_be_bytes());
                    tx.protect_rtp(&mut buf, HEADER + PAYLOAD).unwrap();
                    buf
                },
                |buf| black_box(rx.unprotect_rtp(buf).unwrap()),
                BatchSize::SmallInput,
            )
        });
        let raw = Raw::new(profile);
        let mut sealed = rtp_packet(0);
        let mut tag = [0u8; 16];
        raw.protect(&mut sealed, &mut tag);
        group.bench_function(RAW, |b| {
            b.iter_batched_ref(
                || sealed.clone(),
                |buf| raw.unprotect(buf, &tag),
                BatchSize::SmallInput,
            )
        });
        let mut theirs_tx =
            webrtc_srtp::context::Context::new(m.key(), m.salt(), webrtc_profile(profile), None, None)
                .unwrap();
        let mut theirs_rx =
            webrtc_srtp::context::Context::new(m.key(), m.salt(), webrtc_profile(profile), None, None)
                .unwrap();
        let mut packet = rtp_packet(0);
        let mut seq = 0u16;
        group.bench_function(WEBRTC_SRTP, |b| {
            b.iter_batched_ref(
                || {
                    seq = seq.wrapping_add(1);
                    packet[2..4].copy_from_slice(&seq.to_be_bytes());
                    theirs_tx.encrypt_rtp(&packet).unwrap()
                },
                |buf| black_box(theirs_rx.decrypt_rtp(buf).unwrap()),
                BatchSize::SmallInput,
            )
        });
        let crypto = rtc_srtp::crypto::providers::RingCrypto;
        let mut theirs_tx =
            rtc_srtp::context::Context::new(m.key(), m.salt(), rtc_profile(profile), None, None, &crypto)
                .unwrap();
        let mut theirs_rx =
            rtc_srtp::context::Context::new(m.key(), m.salt(), rtc_profile(profile), None, None, &crypto)
                .unwrap();
        let mut seq = 0u16;
        group.bench_function(RTC_SRTP, |b| {
            b.iter_batched_ref(
                || {
                    seq = seq.wrapping_add(1);
                    packet[2..4].copy_from_slice(&seq.to_be_bytes());
                    theirs_tx.encrypt_rtp(&packet).unwrap()
                },
                |buf| black_box(theirs_rx.decrypt_rtp(buf).unwrap()),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn main() {
    let started = SystemTime::now();
    let dir = rtcwire_benches::criterion_dir();
    // Short runs: these are sub-microsecond operations, and the machine is
    // shared with builds.
    let mut c = Criterion::default()
        .output_directory(&dir)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
        .configure_from_args();
    for (profile, name) in PROFILES {
        bench_profile(&mut c, profile, name);
    }
    c.final_summary();
    rtcwire_benches::print_ratios(
        &dir,
        started,
        "SRTP, one packet with a 1200-byte payload",
        &GROUPS,
        &IMPLEMENTATIONS,
    );
}
