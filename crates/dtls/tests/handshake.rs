//! Two DTLS endpoints: handshakes in memory and on the simulated network
//! (loss, reordering, duplication, small MTUs), keys that match, tampered
//! flights, wrong fingerprints, replays, cookies and close_notify.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtcwire_dtls::{
    DtlsCertificate, DtlsConfig, DtlsEndpoint, DtlsEvent, DtlsState, Error, Role, SrtpProfile,
};
use rtcwire_netsim::{Datagram, Endpoint, LinkConfig, Network, SeedReporter, Sim, seed_from_env_or};

fn certificate() -> Arc<DtlsCertificate> {
    Arc::new(DtlsCertificate::generate().unwrap())
}

/// A client and a server that expect each other's certificates.
fn pair(
    client_config: impl FnOnce(&mut DtlsConfig),
    server_config: impl FnOnce(&mut DtlsConfig),
) -> (DtlsEndpoint, DtlsEndpoint) {
    let (cc, sc) = (certificate(), certificate());
    let mut c = DtlsConfig::new(cc.clone());
    client_config(&mut c);
    let mut s = DtlsConfig::new(sc.clone());
    server_config(&mut s);
    let mut client = DtlsEndpoint::new(c, Role::Client);
    let mut server = DtlsEndpoint::new(s, Role::Server);
    client.set_remote_fingerprints(vec![sc.fingerprint()]);
    server.set_remote_fingerprints(vec![cc.fingerprint()]);
    (client, server)
}

/// Delivers datagrams between two endpoints in memory, through `filter`
/// (which may drop or alter them), jumping to timeouts, until both are done
/// handshaking or `limit` steps pass.
fn drive(
    client: &mut DtlsEndpoint,
    server: &mut DtlsEndpoint,
    mut filter: impl FnMut(bool, usize, Vec<u8>) -> Option<Vec<u8>>,
) -> (Vec<DtlsEvent>, Vec<DtlsEvent>) {
    let mut now = Instant::now();
    client.start(now);
    let (mut ce, mut se) = (Vec::new(), Vec::new());
    let mut count = 0;
    for _ in 0..2000 {
        let mut moved = false;
        while let Some(d) = client.poll_transmit() {
            count += 1;
            if let Some(d) = filter(true, count, d) {
                server.handle_receive(now, &d);
            }
            moved = true;
        }
        while let Some(d) = server.poll_transmit() {
            count += 1;
            if let Some(d) = filter(false, count, d) {
                client.handle_receive(now, &d);
            }
            moved = true;
        }
        ce.extend(std::iter::from_fn(|| client.poll_event()));
        se.extend(std::iter::from_fn(|| server.poll_event()));
        let settled = |s: DtlsState| s != DtlsState::Connecting;
        if settled(client.state()) && settled(server.state()) && !moved {
            break;
        }
        if !moved {
            match [client.poll_timeout(), server.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
            {
                Some(t) => now = now.max(t),
                None => break,
            }
            client.handle_timeout(now);
            server.handle_timeout(now);
        }
    }
    (ce, se)
}

fn keys_match(client: &DtlsEndpoint, server: &DtlsEndpoint) {
    let (c, s) = (
        client.srtp_keying_material().unwrap(),
        server.srtp_keying_material().unwrap(),
    );
    assert_eq!(c, s);
    assert_eq!(
        client.export_keying_material("EXTRACTOR-dtls_srtp", 60),
        server.export_keying_material("EXTRACTOR-dtls_srtp", 60)
    );
}

#[test]
fn handshake_in_memory_negotiates_srtp_and_carries_data() {
    let (mut client, mut server) = pair(|_| {}, |_| {});
    let (ce, se) = drive(&mut client, &mut server, |_, _, d| Some(d));
    assert_eq!(client.state(), DtlsState::Connected, "{ce:?}");
    assert_eq!(server.state(), DtlsState::Connected, "{se:?}");
    assert!(ce.iter().any(|e| matches!(
        e,
        DtlsEvent::Connected {
            srtp_profile: Some(SrtpProfile::AeadAes128Gcm),
            ..
        }
    )));
    keys_match(&client, &server);
    let m = client.srtp_keying_material().unwrap();
    assert_eq!((m.client_key.len(), m.client_salt.len()), (16, 12));

    client.send(b"hello server").unwrap();
    server.send(b"hello client").unwrap();
    let c2s = client.poll_transmit().unwrap();
    let s2c = server.poll_transmit().unwrap();
    server.handle_receive(Instant::now(), &c2s);
    client.handle_receive(Instant::now(), &s2c);
    assert_eq!(
        server.poll_event(),
        Some(DtlsEvent::ApplicationData(b"hello server".to_vec()))
    );
    assert_eq!(
        client.poll_event(),
        Some(DtlsEvent::ApplicationData(b"hello client".to_vec()))
    );

    // A replayed record is dropped, not delivered twice.
    let dropped = server.dropped_records();
    server.handle_receive(Instant::now(), &c2s);
    assert_eq!(server.poll_event(), None);
    assert_eq!(server.dropped_records(), dropped + 1);

    // close_notify both ways.
    client.close();
    let alert = client.poll_transmit().unwrap();
    server.handle_receive(Instant::now(), &alert);
    assert_eq!(server.state(), DtlsState::Closed);
    assert_eq!(client.state(), DtlsState::Closed);
    assert!(
        std::iter::from_fn(|| server.poll_event()).any(|e| matches!(e, DtlsEvent::Closed { error: None }))
    );
}

#[test]
fn every_cipher_suite_and_srtp_profile() {
    use rtcwire_dtls::CipherSuite::*;
    for suite in [
        EcdheEcdsaAes128Gcm,
        EcdheEcdsaAes256Gcm,
        EcdheEcdsaChacha20Poly1305,
    ] {
        for profile in [
            SrtpProfile::AeadAes128Gcm,
            SrtpProfile::AeadAes256Gcm,
            SrtpProfile::Aes128CmHmacSha1_80,
            SrtpProfile::Aes128CmHmacSha1_32,
        ] {
            let (mut client, mut server) = pair(
                |c| {
                    c.cipher_suites = vec![suite];
                    c.srtp_profiles = vec![profile];
                },
                |_| {},
            );
            drive(&mut client, &mut server, |_, _, d| Some(d));
            assert_eq!(client.cipher_suite(), Some(suite));
            assert_eq!(server.srtp_profile(), Some(profile));
            keys_match(&client, &server);
        }
    }
}

#[test]
fn cookie_exchange_keeps_no_state_then_completes() {
    let (mut client, mut server) = pair(|_| {}, |s| s.require_cookie = true);
    let mut first_answer = None;
    drive(&mut client, &mut server, |from_client, n, d| {
        if !from_client && first_answer.is_none() {
            first_answer = Some((n, d.len()));
        }
        Some(d)
    });
    assert_eq!(client.state(), DtlsState::Connected);
    keys_match(&client, &server);
    // The server's first answer was a small HelloVerifyRequest, not flight 4.
    let (_, len) = first_answer.unwrap();
    assert!(len < 80, "HelloVerifyRequest expected, got {len} bytes");
}

#[test]
fn small_mtu_fragments_the_certificate() {
    let (mut client, mut server) = pair(|c| c.mtu = 200, |s| s.mtu = 200);
    let mut largest = 0;
    let mut datagrams = 0;
    drive(&mut client, &mut server, |_, _, d| {
        largest = largest.max(d.len());
        datagrams += 1;
        Some(d)
    });
    assert_eq!(client.state(), DtlsState::Connected);
    assert!(largest <= 200, "a datagram of {largest} bytes");
    assert!(datagrams >= 8, "the flights were split: {datagrams} datagrams");
    keys_match(&client, &server);
}

#[test]
fn wrong_fingerprint_fails_naming_both() {
    let (mut client, mut server) = pair(|_| {}, |_| {});
    let stranger = DtlsCertificate::generate().unwrap().fingerprint();
    client.set_remote_fingerprints(vec![stranger.clone()]);
    let (ce, _) = drive(&mut client, &mut server, |_, _, d| Some(d));
    assert_eq!(client.state(), DtlsState::Failed);
    let error = ce
        .iter()
        .find_map(|e| match e {
            DtlsEvent::Closed { error: Some(e) } => Some(e.clone()),
            _ => None,
        })
        .unwrap();
    assert!(matches!(error, Error::FingerprintMismatch { .. }));
    let text = error.to_string();
    assert!(text.contains(&stranger.to_sdp_value()), "{text}");
    // The server learns of it through a fatal alert.
    assert_ne!(server.state(), DtlsState::Connected);
}

#[test]
fn tampered_flights_never_yield_mismatched_keys() {
    // Flip one bit in the n-th datagram of the handshake, for every n and
    // a few positions: each run either fails, or (when the damaged record
    // was simply dropped and retransmitted) connects with the same keys.
    let mut outcomes = [0usize; 2];
    for n in 1..=8 {
        for position in [13usize, 25, 40, 80, 150, 300, 600] {
            let (mut client, mut server) = pair(|_| {}, |_| {});
            drive(&mut client, &mut server, |_, count, mut d| {
                if count == n && position < d.len() {
                    d[position] ^= 0x10;
                }
                Some(d)
            });
            if client.state() == DtlsState::Connected && server.state() == DtlsState::Connected {
                keys_match(&client, &server);
                outcomes[0] += 1;
            } else {
                assert!(
                    client.state() == DtlsState::Failed || server.state() == DtlsState::Failed,
                    "datagram {n} byte {position}: neither connected nor failed ({:?}, {:?})",
                    client.state(),
                    server.state()
                );
                outcomes[1] += 1;
            }
        }
    }
    assert!(outcomes[1] > 0, "some tampering must be fatal: {outcomes:?}");
}

#[test]
fn records_from_a_wrong_epoch_are_dropped() {
    let (mut client, mut server) = pair(|_| {}, |_| {});
    drive(&mut client, &mut server, |_, _, d| Some(d));
    client.send(b"data").unwrap();
    let mut record = client.poll_transmit().unwrap();
    // Epoch 1 -> 0: the server must not take ciphertext as plaintext.
    record[3..5].copy_from_slice(&0u16.to_be_bytes());
    let before = server.dropped_records();
    server.handle_receive(Instant::now(), &record);
    assert_eq!(server.poll_event(), None);
    assert!(server.dropped_records() > before || server.state() == DtlsState::Connected);
    assert_eq!(server.state(), DtlsState::Connected);
}

/// A DTLS endpoint on the simulated network.
struct Peer {
    endpoint: DtlsEndpoint,
    local: SocketAddr,
    remote: SocketAddr,
    connected_at: Option<Duration>,
    epoch: Instant,
}

impl Endpoint for Peer {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        self.endpoint.handle_receive(now, &d.payload);
        self.note(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
        self.note(now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        self.endpoint.poll_transmit().map(|payload| Datagram {
            source: self.local,
            destination: self.remote,
            payload,
        })
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.endpoint.poll_timeout()
    }
}

impl Peer {
    fn note(&mut self, now: Instant) {
        while let Some(e) = self.endpoint.poll_event() {
            if matches!(e, DtlsEvent::Connected { .. }) {
                self.connected_at = Some(now - self.epoch);
            }
        }
    }
}

#[test]
fn handshake_survives_loss_reordering_duplication_and_a_small_mtu() {
    let base = seed_from_env_or(500);
    for loss in [0.1, 0.3] {
        let mut worst = Duration::ZERO;
        for i in 0..10 {
            let seed = base + i;
            let _report = SeedReporter::new(seed);
            let mut sim = Sim::new(seed);
            let a = sim.add_host(Network::Internet, [192, 0, 2, 1]).unwrap();
            let b = sim.add_host(Network::Internet, [192, 0, 2, 2]).unwrap();
            let link = LinkConfig::perfect()
                .latency(Duration::from_millis(25))
                .jitter(Duration::from_millis(15))
                .loss(loss)
                .duplicate(0.05)
                .reorder(0.1, Duration::from_millis(30))
                .mtu(600);
            sim.set_link(a, link).unwrap();
            let (ca, sa): (SocketAddr, SocketAddr) = (
                "192.0.2.1:5000".parse().unwrap(),
                "192.0.2.2:6000".parse().unwrap(),
            );
            // 600 bytes of IP packet leave 572 for the datagram.
            let (mut client, server) = pair(|c| c.mtu = 572, |s| s.mtu = 572);
            client.start(sim.now());
            let epoch = sim.epoch();
            let c = sim
                .add_endpoint(
                    a,
                    Peer {
                        endpoint: client,
                        local: ca,
                        remote: sa,
                        connected_at: None,
                        epoch,
                    },
                )
                .unwrap();
            let s = sim
                .add_endpoint(
                    b,
                    Peer {
                        endpoint: server,
                        local: sa,
                        remote: ca,
                        connected_at: None,
                        epoch,
                    },
                )
                .unwrap();
            let done = sim
                .run_until_true(Duration::from_secs(60), |sim| {
                    let c = sim.endpoint::<Peer>(c).unwrap();
                    let s = sim.endpoint::<Peer>(s).unwrap();
                    c.connected_at.is_some() && s.connected_at.is_some()
                })
                .unwrap();
            assert!(done, "seed {seed} loss {loss}: no handshake\n{:?}", sim);
            assert_eq!(sim.counters().dropped_mtu, 0, "no datagram exceeded the MTU");
            let (pc, ps) = (sim.endpoint::<Peer>(c).unwrap(), sim.endpoint::<Peer>(s).unwrap());
            keys_match(&pc.endpoint, &ps.endpoint);
            worst = worst.max(pc.connected_at.unwrap().max(ps.connected_at.unwrap()));
        }
        println!("loss {loss}: worst handshake time over 10 seeds {worst:?}");
    }
}

#[test]
fn zero_copy_application_data_path() {
    let (mut client, mut server) = pair(|_| {}, |_| {});
    drive(&mut client, &mut server, |_, _, d| Some(d));
    let mut datagram = Vec::with_capacity(1300);
    let payload = vec![0xabu8; 1150];
    client.seal_application_data(&payload, &mut datagram).unwrap();
    let capacity = datagram.capacity();
    let mut copy = datagram.clone();
    assert_eq!(server.open_application_data(&mut datagram), Some(&payload[..]));
    // Replayed: refused here (and dropped by handle_receive).
    assert_eq!(server.open_application_data(&mut copy), None);
    // Sealing again reuses the buffer.
    client.seal_application_data(b"again", &mut datagram).unwrap();
    assert_eq!(datagram.capacity(), capacity);
    assert_eq!(server.open_application_data(&mut datagram), Some(&b"again"[..]));
    // Too large for the MTU.
    assert!(
        client
            .seal_application_data(&vec![0; 1200 - 20], &mut datagram)
            .is_err()
    );
    // Handshake-time data is refused.
    let (mut fresh, _) = pair(|_| {}, |_| {});
    assert!(fresh.seal_application_data(b"early", &mut datagram).is_err());

    // In place: the payload behind room for the header, sealed where it is.
    let headroom = DtlsEndpoint::RECORD_HEADROOM;
    let mut buf = Vec::with_capacity(headroom + payload.len() + 16);
    buf.resize(headroom, 0);
    buf.extend_from_slice(&payload);
    let (ptr, capacity) = (buf.as_ptr(), buf.capacity());
    client.seal_application_data_in_place(&mut buf, headroom).unwrap();
    assert_eq!(
        (buf.as_ptr(), buf.capacity()),
        (ptr, capacity),
        "moved or reallocated"
    );
    assert_eq!(server.open_application_data(&mut buf), Some(&payload[..]));
    // More headroom than needed is dropped; too little is refused.
    let mut buf = vec![7u8; headroom + 10];
    buf.extend_from_slice(b"spare");
    client
        .seal_application_data_in_place(&mut buf, headroom + 10)
        .unwrap();
    assert_eq!(server.open_application_data(&mut buf), Some(&b"spare"[..]));
    let mut short = vec![0u8; 5];
    assert!(client.seal_application_data_in_place(&mut short, 4).is_err());
    let mut big = vec![0u8; headroom + 1200];
    assert!(client.seal_application_data_in_place(&mut big, headroom).is_err());
}

#[test]
fn a_clean_network_needs_two_round_trips_and_no_timer() {
    // Flight 5 arrives in one datagram: Certificate, ClientKeyExchange,
    // CertificateVerify, ChangeCipherSpec and Finished. The server must act
    // on each in order, not wait for a retransmission.
    for require_cookie in [false, true] {
        let (mut client, mut server) = pair(|_| {}, |s| s.require_cookie = require_cookie);
        let now = Instant::now();
        client.start(now);
        let mut round_trips = 0;
        while client.state() != DtlsState::Connected || server.state() != DtlsState::Connected {
            round_trips += 1;
            assert!(
                round_trips <= 3,
                "cookie {require_cookie}: stuck {:?} {:?}",
                client.state(),
                server.state()
            );
            while let Some(d) = client.poll_transmit() {
                server.handle_receive(now, &d);
            }
            while let Some(d) = server.poll_transmit() {
                client.handle_receive(now, &d);
            }
        }
        assert_eq!(round_trips, if require_cookie { 3 } else { 2 });
        keys_match(&client, &server);
    }
}

#[test]
fn a_change_cipher_spec_that_overtakes_its_flight_is_applied_later() {
    // Reverse the records of every datagram: the ChangeCipherSpec and the
    // Finished arrive before the messages they follow.
    let (mut client, mut server) = pair(|c| c.mtu = 300, |s| s.mtu = 300);
    drive(&mut client, &mut server, |_, _, d| {
        let mut records = Vec::new();
        let mut rest = &d[..];
        while rest.len() >= 13 {
            let len = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
            let end = (13 + len).min(rest.len());
            records.push(rest[..end].to_vec());
            rest = &rest[end..];
        }
        Some(records.into_iter().rev().flatten().collect())
    });
    assert_eq!(client.state(), DtlsState::Connected);
    assert_eq!(server.state(), DtlsState::Connected);
    keys_match(&client, &server);
}

/// Chromium 156's ClientHello offers DTLS 1.3 in supported_versions, a
/// post-quantum key share, and its extensions shuffled; it arrives in two
/// records. A 1.2 server answers it with a 1.2 ServerHello.
#[test]
fn chromium_style_client_hello_negotiates_dtls_1_2() {
    let mut server = DtlsEndpoint::new(DtlsConfig::new(certificate()), Role::Server);
    let datagrams = rtcwire_dtls::fuzzing::chromium_client_hello_datagrams();
    assert_eq!(datagrams.len(), 2);
    let now = Instant::now();
    for d in &datagrams {
        server.handle_receive(now, d);
    }
    let flight: Vec<Vec<u8>> = std::iter::from_fn(|| server.poll_transmit()).collect();
    let refs: Vec<&[u8]> = flight.iter().map(Vec::as_slice).collect();
    let messages = rtcwire_dtls::fuzzing::read_flight(&refs).unwrap();
    let server_hello = &messages[0];
    assert_eq!(server_hello.msg_type, 2, "ServerHello first");
    // server_version DTLS 1.2 (0xfefd), and no supported_versions reply.
    assert_eq!(&server_hello.body[..2], &[0xfe, 0xfd]);
    assert!(
        !server_hello.decoded.contains("SupportedVersions"),
        "{}",
        server_hello.decoded
    );
    assert!(server_hello.decoded.contains("ExtendedMasterSecret"));
    assert_eq!(
        server.cipher_suite(),
        Some(rtcwire_dtls::CipherSuite::EcdheEcdsaAes128Gcm)
    );
    // Chromium lists AES128_CM_SHA1_80, AEAD_AES_256_GCM, AEAD_AES_128_GCM;
    // our preference picks AEAD_AES_128_GCM.
    assert_eq!(server.srtp_profile(), Some(SrtpProfile::AeadAes128Gcm));
    // The whole flight: ServerHello, Certificate, ServerKeyExchange,
    // CertificateRequest, ServerHelloDone.
    let types: Vec<u8> = messages.iter().map(|m| m.msg_type).collect();
    assert_eq!(types, [2, 11, 12, 13, 14]);
}
