//! rtcwire-dtls against OpenSSL 3 (`openssl s_server` / `s_client`), both
//! roles, with and without the cookie exchange: the SRTP keying material
//! OpenSSL prints must equal ours, and application data must cross both
//! ways. Everything on 127.0.0.1, started and stopped by the tests.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtcwire_dtls::{
    CipherSuite, DtlsCertificate, DtlsConfig, DtlsEndpoint, DtlsEvent, DtlsState, Fingerprint,
    FingerprintAlgorithm, Role, SrtpProfile,
};
use rtcwire_interop::{LinePeer, TempDir, free_udp_port, require_tool};

const LIMIT: Duration = Duration::from_secs(20);

/// An ECDSA P-256 certificate made by OpenSSL, as INTEROP.md shows; returns
/// the paths of the PEM certificate and key, and the certificate's DER.
fn openssl_certificate(dir: &Path) -> (String, String, Vec<u8>) {
    openssl_certificate_with(dir, &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
}

/// A self-signed certificate whose key comes from `key_args` (`-newkey
/// rsa:2048`, ...).
fn openssl_certificate_with(dir: &Path, key_args: &[&str]) -> (String, String, Vec<u8>) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let der = dir.join("cert.der");
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (key_path, cert_path, der_path) = (
        key.to_str().unwrap(),
        cert.to_str().unwrap(),
        der.to_str().unwrap(),
    );
    let mut req = vec!["req", "-x509"];
    req.extend_from_slice(key_args);
    req.extend_from_slice(&[
        "-nodes", "-keyout", key_path, "-out", cert_path, "-days", "30", "-subj", "/CN=test",
    ]);
    run(&req);
    run(&["x509", "-in", cert_path, "-outform", "der", "-out", der_path]);
    (
        cert_path.to_owned(),
        key_path.to_owned(),
        std::fs::read(der).unwrap(),
    )
}

fn common_args<'a>(cert: &'a str, key: &'a str) -> Vec<&'a str> {
    common_args_with(cert, key, "ECDHE-ECDSA-AES128-GCM-SHA256")
}

fn common_args_with<'a>(cert: &'a str, key: &'a str, cipher: &'a str) -> Vec<&'a str> {
    vec![
        "-dtls1_2",
        "-cipher",
        cipher,
        "-use_srtp",
        "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
        "-keymatexport",
        "EXTRACTOR-dtls_srtp",
        "-keymatexportlen",
        "60",
        "-cert",
        cert,
        "-key",
        key,
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Drives our endpoint on `socket` until `done` says so or the time runs
/// out; events are appended to `events`.
fn pump(
    endpoint: &mut DtlsEndpoint,
    socket: &UdpSocket,
    peer: &mut Option<SocketAddr>,
    deadline: Instant,
    events: &mut Vec<DtlsEvent>,
    mut done: impl FnMut(&DtlsEndpoint, &[DtlsEvent]) -> bool,
) -> bool {
    let mut buf = [0u8; 2048];
    loop {
        if let Some(to) = *peer {
            while let Some(d) = endpoint.poll_transmit() {
                socket.send_to(&d, to).unwrap();
            }
        }
        events.extend(std::iter::from_fn(|| endpoint.poll_event()));
        if done(endpoint, events) {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        let wake = endpoint.poll_timeout().unwrap_or(deadline).min(deadline);
        socket
            .set_read_timeout(Some(
                wake.saturating_duration_since(now).max(Duration::from_millis(1)),
            ))
            .unwrap();
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                peer.get_or_insert(from);
                endpoint.handle_receive(Instant::now(), &buf[..n]);
            }
            Err(_) => endpoint.handle_timeout(Instant::now()),
        }
    }
}

/// Reads OpenSSL's output until a line containing `needle`.
fn wait_for_line(peer: &LinePeer, needle: &str, deadline: Instant) -> String {
    loop {
        match peer.recv(deadline) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(e) => panic!(
                "no `{needle}` from openssl ({e:?})\nstderr:\n{}",
                peer.stderr_tail(40)
            ),
        }
    }
}

/// Checks the keying material OpenSSL printed against ours.
/// Whether application data containing `text` arrived.
fn received(events: &[DtlsEvent], text: &str) -> bool {
    let data: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            DtlsEvent::ApplicationData(d) => Some(d.as_slice()),
            _ => None,
        })
        .flatten()
        .copied()
        .collect();
    String::from_utf8_lossy(&data).contains(text)
}

fn check_keys(openssl: &LinePeer, ours: &DtlsEndpoint, deadline: Instant) {
    let line = wait_for_line(openssl, "Keying material:", deadline);
    let theirs = line
        .split("Keying material:")
        .nth(1)
        .unwrap()
        .trim()
        .to_ascii_uppercase();
    let mine = hex(&ours.export_keying_material("EXTRACTOR-dtls_srtp", 60).unwrap());
    assert_eq!(theirs, mine, "exported keying material differs");
    assert_eq!(ours.srtp_profile(), Some(SrtpProfile::AeadAes128Gcm));
}

fn our_endpoint(role: Role, openssl_der: &[u8]) -> DtlsEndpoint {
    let mut config = DtlsConfig::new(Arc::new(DtlsCertificate::generate().unwrap()));
    config.srtp_profiles = vec![SrtpProfile::AeadAes128Gcm, SrtpProfile::Aes128CmHmacSha1_80];
    let mut endpoint = DtlsEndpoint::new(config, role);
    endpoint.set_remote_fingerprints(vec![Fingerprint::of(FingerprintAlgorithm::Sha256, openssl_der)]);
    endpoint
}

/// Runs our side of the handshake against `openssl` (named `tool` in
/// failures), checks both derived the same keys, then sends a line each
/// way: ours is printed by openssl, its stdin comes to us.
fn handshake_and_exchange(
    ours: &mut DtlsEndpoint,
    socket: &UdpSocket,
    peer: &mut Option<SocketAddr>,
    openssl: &mut LinePeer,
    deadline: Instant,
    tool: &str,
) {
    let mut events = Vec::new();
    let connected = pump(ours, socket, peer, deadline, &mut events, |e, _| {
        e.state() != DtlsState::Connecting
    });
    assert!(
        connected && ours.state() == DtlsState::Connected,
        "handshake with {tool} failed: {:?} {events:?}\nstderr:\n{}",
        ours.state(),
        openssl.stderr_tail(40)
    );
    check_keys(openssl, ours, deadline);
    ours.send(b"hello from rtcwire\n").unwrap();
    pump(ours, socket, peer, deadline, &mut events, |_, _| true);
    wait_for_line(openssl, "hello from rtcwire", deadline);
    openssl.send("hello from openssl").unwrap();
    let arrived = pump(ours, socket, peer, deadline, &mut events, |_, e| {
        received(e, "hello from openssl")
    });
    assert!(arrived, "no data from {tool}: {events:?}");
}

fn rtcwire_client_against_openssl_server(listen: bool, rsa: bool) {
    require_tool("openssl");
    let dir = TempDir::new("openssl-dtls");
    let (cert, key, der) = if rsa {
        openssl_certificate_with(dir.path(), &["-newkey", "rsa:2048"])
    } else {
        openssl_certificate(dir.path())
    };
    let cipher = if rsa {
        "ECDHE-RSA-AES128-GCM-SHA256"
    } else {
        "ECDHE-ECDSA-AES128-GCM-SHA256"
    };
    let port = free_udp_port();
    let accept = format!("127.0.0.1:{port}");
    let mut args = vec!["s_server"];
    args.extend(common_args_with(&cert, &key, cipher));
    args.extend(["-accept", &accept, "-naccept", "1", "-verify", "1"]);
    if listen {
        args.push("-listen");
    }
    let mut command = Command::new("openssl");
    command.args(&args);
    let mut openssl = LinePeer::spawn(command);
    let deadline = Instant::now() + LIMIT;
    wait_for_line(&openssl, "ACCEPT", deadline);

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut peer = Some(SocketAddr::from(([127, 0, 0, 1], port)));
    let mut client = our_endpoint(Role::Client, &der);
    client.start(Instant::now());
    handshake_and_exchange(
        &mut client,
        &socket,
        &mut peer,
        &mut openssl,
        deadline,
        "s_server",
    );
    let expected = if rsa {
        CipherSuite::EcdheRsaAes128Gcm
    } else {
        CipherSuite::EcdheEcdsaAes128Gcm
    };
    assert_eq!(client.cipher_suite(), Some(expected));
}

#[test]
#[ignore = "needs openssl: scripts/test runs the interop tests"]
fn rtcwire_client_openssl_server() {
    rtcwire_client_against_openssl_server(false, false);
}

#[test]
#[ignore = "needs openssl: scripts/test runs the interop tests"]
fn rtcwire_client_openssl_server_with_an_rsa_certificate() {
    // ECDHE_RSA: the server's RSA signature checked through its
    // fingerprinted certificate.
    rtcwire_client_against_openssl_server(false, true);
}

#[test]
#[ignore = "needs openssl: scripts/test runs the interop tests"]
fn rtcwire_client_openssl_server_with_cookie_exchange() {
    rtcwire_client_against_openssl_server(true, false);
}

#[test]
#[ignore = "needs openssl: scripts/test runs the interop tests"]
fn openssl_client_rtcwire_server() {
    openssl_client_against_rtcwire_server(false);
}

#[test]
#[ignore = "needs openssl: scripts/test runs the interop tests"]
fn openssl_client_with_an_rsa_certificate_rtcwire_server() {
    // The client's CertificateVerify is an RSA signature.
    openssl_client_against_rtcwire_server(true);
}

fn openssl_client_against_rtcwire_server(rsa: bool) {
    require_tool("openssl");
    let dir = TempDir::new("openssl-dtls");
    let (cert, key, der) = if rsa {
        openssl_certificate_with(dir.path(), &["-newkey", "rsa:2048"])
    } else {
        openssl_certificate(dir.path())
    };
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let connect = socket.local_addr().unwrap().to_string();
    let mut args = vec!["s_client"];
    args.extend(common_args(&cert, &key));
    args.extend(["-connect", &connect]);
    let mut command = Command::new("openssl");
    command.args(&args);
    let mut openssl = LinePeer::spawn(command);
    let deadline = Instant::now() + LIMIT;

    let mut peer = None;
    let mut server = our_endpoint(Role::Server, &der);
    handshake_and_exchange(
        &mut server,
        &socket,
        &mut peer,
        &mut openssl,
        deadline,
        "s_client",
    );
}
