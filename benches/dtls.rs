//! DTLS: a whole handshake between two in-process endpoints next to the
//! public-key operations it cannot avoid, and the record layer on
//! 1200-byte payloads next to raw `ring` AES-128-GCM.
//!
//! `cargo bench -p rtcwire-benches --bench dtls [-- criterion options]`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use criterion::Criterion;
use ring::agreement::{self, EphemeralPrivateKey, X25519};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use rtcwire_dtls::{CipherSuite, DtlsCertificate, DtlsConfig, DtlsEndpoint, DtlsState, Role};

const GROUPS: [(&str, &str); 2] = [
    ("dtls_handshake", "full handshake (both sides)"),
    ("dtls_record_1200", "seal + open, 1200 B"),
];
const RTCWIRE: &str = "rtcwire";
const PUBLIC_KEY_OPS: &str = "public-key ops only";
const RAW_RING: &str = "raw ring AES-128-GCM";
const IMPLEMENTATIONS: [&str; 3] = [RTCWIRE, PUBLIC_KEY_OPS, RAW_RING];

fn pair(a: &Arc<DtlsCertificate>, b: &Arc<DtlsCertificate>) -> (DtlsEndpoint, DtlsEndpoint) {
    // An MTU with room for 1200-byte payloads plus record overhead.
    let mut config = DtlsConfig::new(a.clone());
    config.cipher_suites = vec![CipherSuite::EcdheEcdsaAes128Gcm];
    config.mtu = 1500;
    let mut client = DtlsEndpoint::new(config, Role::Client);
    let mut server_config = DtlsConfig::new(b.clone());
    server_config.mtu = 1500;
    let mut server = DtlsEndpoint::new(server_config, Role::Server);
    client.set_remote_fingerprints(vec![b.fingerprint()]);
    server.set_remote_fingerprints(vec![a.fingerprint()]);
    (client, server)
}

fn handshake(a: &Arc<DtlsCertificate>, b: &Arc<DtlsCertificate>) -> (DtlsEndpoint, DtlsEndpoint) {
    let (mut client, mut server) = pair(a, b);
    let now = Instant::now();
    client.start(now);
    for _ in 0..16 {
        while let Some(d) = client.poll_transmit() {
            server.handle_receive(now, &d);
        }
        while let Some(d) = server.poll_transmit() {
            client.handle_receive(now, &d);
        }
        if client.state() == DtlsState::Connected && server.state() == DtlsState::Connected {
            return (client, server);
        }
    }
    panic!("no handshake: {:?} {:?}", client.state(), server.state());
}

/// What a handshake must do with public keys: two ECDHE key pairs and
/// agreements (X25519), two ECDSA P-256 signatures (ServerKeyExchange,
/// CertificateVerify) and their two verifications.
struct PublicKeyOps {
    rng: SystemRandom,
    keys: [EcdsaKeyPair; 2],
    message: [u8; 128],
}

impl PublicKeyOps {
    fn new() -> PublicKeyOps {
        let rng = SystemRandom::new();
        let key = || {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                .unwrap_or_else(|e| panic!("{e}"));
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        PublicKeyOps {
            keys: [key(), key()],
            rng,
            message: [7; 128],
        }
    }

    fn run(&self) -> usize {
        let mut total = 0;
        let a = EphemeralPrivateKey::generate(&X25519, &self.rng).unwrap_or_else(|e| panic!("{e}"));
        let b = EphemeralPrivateKey::generate(&X25519, &self.rng).unwrap_or_else(|e| panic!("{e}"));
        let (pa, pb) = (
            a.compute_public_key().unwrap_or_else(|e| panic!("{e}")),
            b.compute_public_key().unwrap_or_else(|e| panic!("{e}")),
        );
        for (key, peer) in [(a, pb), (b, pa)] {
            let peer = agreement::UnparsedPublicKey::new(&X25519, peer.as_ref().to_vec());
            total += agreement::agree_ephemeral(key, &peer, |s| s.len()).unwrap_or_else(|e| panic!("{e}"));
        }
        for key in &self.keys {
            let sig = key
                .sign(&self.rng, &self.message)
                .unwrap_or_else(|e| panic!("{e}"));
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, key.public_key().as_ref())
                .verify(&self.message, sig.as_ref())
                .unwrap_or_else(|e| panic!("{e}"));
            total += sig.as_ref().len();
        }
        total
    }
}

fn bench_handshake(c: &mut Criterion) {
    let a = Arc::new(DtlsCertificate::generate().unwrap_or_else(|e| panic!("{e}")));
    let b = Arc::new(DtlsCertificate::generate().unwrap_or_else(|e| panic!("{e}")));
    let mut g = c.benchmark_group(GROUPS[0].0);
    g.bench_function(RTCWIRE, |bench| bench.iter(|| black_box(handshake(&a, &b))));
    let ops = PublicKeyOps::new();
    g.bench_function(PUBLIC_KEY_OPS, |bench| bench.iter(|| black_box(ops.run())));
    g.finish();
}

fn bench_record(c: &mut Criterion) {
    let a = Arc::new(DtlsCertificate::generate().unwrap_or_else(|e| panic!("{e}")));
    let b = Arc::new(DtlsCertificate::generate().unwrap_or_else(|e| panic!("{e}")));
    let (mut client, mut server) = handshake(&a, &b);
    let payload = vec![0x5au8; 1200];
    let mut g = c.benchmark_group(GROUPS[1].0);
    g.bench_function(RTCWIRE, |bench| {
        let mut datagram = Vec::with_capacity(1300);
        bench.iter(|| {
            client
                .seal_application_data(black_box(&payload), &mut datagram)
                .unwrap_or_else(|e| panic!("{e}"));
            let plaintext = server
                .open_application_data(&mut datagram)
                .unwrap_or_else(|| panic!("record did not open"));
            black_box(plaintext.len())
        })
    });
    let key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, &[9; 16]).unwrap_or_else(|e| panic!("{e}")),
    );
    g.bench_function(RAW_RING, |bench| {
        let mut buf = Vec::with_capacity(1300);
        let mut counter = 0u64;
        bench.iter(|| {
            counter += 1;
            let mut nonce = [0u8; 12];
            nonce[4..].copy_from_slice(&counter.to_be_bytes());
            buf.clear();
            buf.extend_from_slice(&payload);
            let aad = [0u8; 13];
            let tag = key
                .seal_in_place_separate_tag(
                    ring::aead::Nonce::assume_unique_for_key(nonce),
                    ring::aead::Aad::from(aad),
                    &mut buf,
                )
                .unwrap_or_else(|e| panic!("{e}"));
            buf.extend_from_slice(tag.as_ref());
            let plain = key
                .open_in_place(
                    ring::aead::Nonce::assume_unique_for_key(nonce),
                    ring::aead::Aad::from(aad),
                    &mut buf,
                )
                .unwrap_or_else(|e| panic!("{e}"));
            black_box(plain.len())
        })
    });
    g.finish();
}

fn main() {
    let started = SystemTime::now();
    let dir = rtcwire_benches::criterion_dir();
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    bench_handshake(&mut c);
    bench_record(&mut c);
    c.final_summary();
    rtcwire_benches::print_ratios(
        &dir,
        started,
        "DTLS 1.2, ECDHE-ECDSA AES-128-GCM",
        &GROUPS,
        &IMPLEMENTATIONS,
    );
}
