//! The `peer` example's library (`rtcwire_examples::peer`) relay-only
//! through coturn, configured from command-line arguments as the `peer`
//! program is: TURN over TCP (`turn:...?transport=tcp`) and over TLS
//! (`turns:` with `--tls-ca`, the PEM of coturn's certificate, and
//! `--tls-name localhost`). The answerer runs on a thread, the offerer on
//! the test's; the offerer's message must come back echoed, through
//! descriptions that carry relay candidates only. The examples' driver
//! opens and serves the TCP connections the peer connections ask for.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rtcwire_examples::peer::{self, DEFAULT_MESSAGE, PeerOptions};
use rtcwire_interop::{COTURN_PASSWORD, COTURN_USER, Coturn, TempDir, pem};

#[test]
#[ignore = "needs coturn; run by scripts/test"]
fn peer_example_relay_only_through_coturn_over_tcp() {
    let coturn = Coturn::start();
    let dir = TempDir::new("examples-turn-tcp");
    let url = format!("turn:{}?transport=tcp", coturn.addr());
    echo_through(&coturn, dir.path(), &[&url]);
}

#[test]
#[ignore = "needs coturn; run by scripts/test"]
fn peer_example_relay_only_through_coturn_over_tls() {
    let coturn = Coturn::start_tls();
    let dir = TempDir::new("examples-turn-tls");
    let ca = certificate_pem(&coturn, dir.path());
    let (tls_port, _) = coturn.tls.as_ref().expect("TLS listener");
    let url = format!("turns:127.0.0.1:{tls_port}");
    let ca = ca.to_str().expect("UTF-8 path");
    echo_through(
        &coturn,
        dir.path(),
        &[&url, "--tls-ca", ca, "--tls-name", "localhost"],
    );
}

/// Both sides parse `--ice-server <server...>` with coturn's credentials
/// and `--relay-only`; the offerer's message comes back echoed.
fn echo_through(coturn: &Coturn, dir: &Path, server: &[&str]) {
    let offer_file = dir.join("offer.sdp");
    let answer_file = dir.join("answer.sdp");
    let mut args: Vec<String> = [
        "--offer",
        offer_file.to_str().expect("UTF-8 path"),
        "--answer",
        answer_file.to_str().expect("UTF-8 path"),
        "--timeout",
        "20",
        "--username",
        COTURN_USER,
        "--credential",
        COTURN_PASSWORD,
        "--relay-only",
        "--ice-server",
    ]
    .iter()
    .chain(server)
    .map(|s| (*s).to_owned())
    .collect();
    args.push("--message".into());
    args.push(DEFAULT_MESSAGE.into());
    let (mut options, rest) = PeerOptions::from_args(args).expect("options");
    assert_eq!(rest, ["--message", DEFAULT_MESSAGE], "left for the program");

    let start = Instant::now();
    let answerer = {
        let mut options = options.clone();
        options.log = "answer".into();
        std::thread::spawn(move || peer::answer(&options))
    };
    options.log = "offer".into();
    let reply = peer::offer(&options, DEFAULT_MESSAGE);
    let elapsed = start.elapsed();
    let report = answerer.join().expect("answerer thread");
    let reply = reply.unwrap_or_else(|e| panic!("offerer: {e}\ncoturn log:\n{}", coturn.log()));
    let report = report.unwrap_or_else(|e| panic!("answerer: {e}\ncoturn log:\n{}", coturn.log()));
    println!(
        "echo through {} in {elapsed:?} (both sides: gathering, signalling through files, connecting, one message each way, close); answerer: {report:?}",
        server[0]
    );
    assert_eq!(reply, format!("echo: {DEFAULT_MESSAGE}"));
    assert_eq!(report.echoed, 1);
    assert_ne!(report.stopped, "timeout", "the answerer must notice the close");
    for file in [&offer_file, &answer_file] {
        let sdp = std::fs::read_to_string(file).expect("description");
        assert!(
            sdp.contains("typ relay") && sdp.contains("a=end-of-candidates"),
            "no relay candidate in {}:\n{sdp}",
            file.display()
        );
        assert!(
            !sdp.contains("typ host") && !sdp.contains("typ srflx"),
            "relay-only description shows another candidate:\n{sdp}"
        );
    }
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

/// coturn's certificate as a PEM file in `dir`, as a user would be given
/// it for `--tls-ca`: read from a TLS handshake with its listener.
fn certificate_pem(coturn: &Coturn, dir: &Path) -> PathBuf {
    let (port, config) = coturn.tls.as_ref().expect("TLS listener");
    let mut tcp = TcpStream::connect(("127.0.0.1", *port)).expect("connect to coturn's TLS port");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("server name");
    let mut conn = rustls::ClientConnection::new(config.clone(), name).expect("TLS client");
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).expect("TLS handshake with coturn");
    }
    let der = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .expect("coturn's certificate")
        .clone();
    let path = dir.join("ca.pem");
    std::fs::write(&path, pem("CERTIFICATE", &der)).expect("write PEM");
    path
}
