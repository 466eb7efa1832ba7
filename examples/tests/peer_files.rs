//! The `peer` and `file_transfer` examples' logic, both sides in one
//! process on two threads, over loopback UDP with signalling files in a
//! fresh temporary folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rtcwire_examples::file_transfer;
use rtcwire_examples::peer::{self, DEFAULT_MESSAGE, PeerOptions};

/// A folder of its own for each test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtcwire-examples-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn options(dir: &std::path::Path) -> PeerOptions {
    let mut o = PeerOptions::new(dir.join("offer.sdp"), dir.join("answer.sdp"));
    o.timeout = Duration::from_secs(10);
    o
}

#[test]
fn offerer_gets_its_echo_and_the_answerer_stops_when_it_closes() {
    let dir = scratch("peer");
    let o = options(&dir);
    let answerer = {
        let o = o.clone();
        std::thread::spawn(move || peer::answer(&o))
    };
    let start = Instant::now();
    let reply = peer::offer(&o, DEFAULT_MESSAGE).unwrap();
    assert_eq!(reply, "echo: hello from rtcwire");
    let report = answerer.join().unwrap().unwrap();
    assert_eq!(report.echoed, 1);
    assert_ne!(report.stopped, "timeout", "the answerer must notice the close");
    assert!(start.elapsed() < Duration::from_secs(5));
    // The files are the raw SDP, as interop/browser/driver.js reads them.
    let offer = std::fs::read_to_string(dir.join("offer.sdp")).unwrap();
    assert!(offer.starts_with("v=0\r\n"), "{offer}");
    assert!(offer.contains("a=candidate:") && offer.contains("a=end-of-candidates"));
    let answer = std::fs::read_to_string(dir.join("answer.sdp")).unwrap();
    assert!(answer.contains("a=candidate:") && answer.contains("a=end-of-candidates"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_arrives_whole_with_its_sha256() {
    let dir = scratch("file");
    let source = dir.join("data.bin");
    let mut data = vec![0u8; 1 << 20 | 12_345];
    rand::fill(&mut data[..]);
    std::fs::write(&source, &data).unwrap();
    let out = dir.join("out");
    let o = options(&dir);
    let receiver = {
        let (o, out) = (o.clone(), out.clone());
        std::thread::spawn(move || file_transfer::receive(&out, &o, false))
    };
    let sent = file_transfer::send(&source, &o, false).unwrap();
    let received = receiver.join().unwrap().unwrap();
    assert_eq!(sent.sha256, received.sha256);
    assert_eq!(received.bytes, data.len() as u64);
    assert_eq!(std::fs::read(out.join("data.bin")).unwrap(), data);
    let (sha, _) = file_transfer::sha256_file(&source).unwrap();
    assert_eq!(sha, received.sha256);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn signal_files_are_written_whole_and_waited_for() {
    let dir = scratch("signal");
    let path = dir.join("x.sdp");
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            rtcwire_examples::signal::write_atomic(&path, "v=0\r\n").unwrap();
        })
    };
    let text =
        rtcwire_examples::signal::read_when_exists(&path, Instant::now() + Duration::from_secs(5)).unwrap();
    assert_eq!(text, "v=0\r\n");
    writer.join().unwrap();
    // Only the file itself is left: the temporary name was renamed.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let missing = dir.join("never.sdp");
    assert!(rtcwire_examples::signal::read_when_exists(&missing, Instant::now()).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sha256_mismatch_fails_both_sides() {
    let dir = scratch("mismatch");
    let source = dir.join("small.txt");
    std::fs::write(&source, b"twelve bytes").unwrap();
    let out = dir.join("out");
    let o = options(&dir);
    let receiver = {
        let (o, out) = (o.clone(), out.clone());
        std::thread::spawn(move || file_transfer::receive(&out, &o, false))
    };
    let wrong = "0".repeat(64);
    let sent = file_transfer::send_claiming(&source, &o, false, Some(&wrong));
    let err = sent.unwrap_err().to_string();
    assert!(err.contains("mismatch"), "{err}");
    let err = receiver.join().unwrap().unwrap_err().to_string();
    assert!(err.contains("sha256 mismatch"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ice_server_options_configure_the_connection() {
    use rtcwire::IceTransportPolicy;
    let args = |extra: &[&str]| {
        ["--offer", "o.sdp", "--answer", "a.sdp"]
            .iter()
            .chain(extra)
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
    };
    let (o, rest) = PeerOptions::from_args(args(&[
        "--ice-server",
        "stun:192.0.2.1:3478",
        "--ice-server",
        "turn:192.0.2.1:3478?transport=tcp",
        "--username",
        "u",
        "--credential",
        "c",
        "--relay-only",
        "--message",
        "m",
    ]))
    .unwrap();
    assert_eq!(rest, ["--message", "m"]);
    let servers = &o.config.ice_servers;
    assert_eq!(servers.len(), 2);
    assert_eq!(servers[0].urls, ["stun:192.0.2.1:3478"]);
    assert!(servers[0].username.is_empty());
    assert_eq!(servers[1].urls, ["turn:192.0.2.1:3478?transport=tcp"]);
    assert_eq!(
        (servers[1].username.as_str(), servers[1].credential.as_str()),
        ("u", "c")
    );
    assert_eq!(o.config.ice_transport_policy, IceTransportPolicy::Relay);
    assert!(o.config.tls_config.is_none());

    let (o, _) = PeerOptions::from_args(args(&[])).unwrap();
    assert!(o.config.ice_servers.is_empty());
    assert_eq!(o.config.ice_transport_policy, IceTransportPolicy::All);

    for (extra, error) in [
        (
            &["--ice-server", "turn:192.0.2.1:3478"][..],
            "--username and --credential",
        ),
        (&["--ice-server", "http://192.0.2.1"][..], "not a stun:"),
        (&["--relay-only"][..], "needs a TURN server"),
        (
            &[
                "--ice-server",
                "turns:192.0.2.1:5349",
                "--username",
                "u",
                "--credential",
                "c",
            ][..],
            "--tls-ca",
        ),
    ] {
        let e = PeerOptions::from_args(args(extra)).unwrap_err().to_string();
        assert!(e.contains(error), "{extra:?}: {e}");
    }
    // --tls-ca reads PEM certificates; a file without one is an error.
    let dir = scratch("tls-ca");
    let not_pem = dir.join("ca.pem");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let e = PeerOptions::from_args(args(&["--tls-ca", not_pem.to_str().unwrap()]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no PEM certificate"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
