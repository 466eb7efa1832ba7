//! A data-channel peer with offer and answer exchanged through files.
//!
//! ```text
//! cargo run -p rtcwire-examples --example peer -- answer --offer /tmp/o.sdp --answer /tmp/a.sdp &
//! cargo run -p rtcwire-examples --example peer -- offer  --offer /tmp/o.sdp --answer /tmp/a.sdp
//! ```
//!
//! `answer` echoes every text message as `echo: <message>` and every binary
//! one unchanged until the peer closes or `--timeout` (default 30 s)
//! passes; it fails only if the connection fails. `offer` opens the
//! channel `chat`, sends `hello from rtcwire` (or `--message TEXT`) and
//! succeeds when a message containing it comes back. `--bind ADDR`
//! (repeatable, default 127.0.0.1:0) chooses the UDP sockets. The files
//! hold the raw SDP, written atomically: `interop/browser/driver.js
//! signal-files` (Chromium) can be either side. The logic is in the
//! library (`rtcwire_examples::peer`).
//!
//! STUN and TURN servers, by IP address, e.g. relay-only through TURN over
//! TCP, or over TLS with the server's CA certificate (PEM) and name:
//!
//! ```text
//! peer answer ... --ice-server turn:198.51.100.7:3478?transport=tcp --username U --credential C --relay-only
//! peer offer  ... --ice-server turns:198.51.100.7:5349 --username U --credential C --relay-only \
//!                 --tls-ca ca.pem --tls-name turn.example.org
//! ```
//!
//! `--ice-server` is repeatable (`stun:`, `turn:[?transport=udp|tcp]`,
//! `turns:`); the credentials apply to every TURN URL. Each side writes its
//! description once gathering is complete.

use std::process::ExitCode;

use rtcwire_examples::peer::{self, DEFAULT_MESSAGE, PeerOptions};

const USAGE: &str = "usage: peer offer|answer --offer FILE --answer FILE [--timeout S] [--bind ADDR]... \
     [--ice-server URL]... [--username U --credential C] [--relay-only] [--tls-ca FILE] [--tls-name NAME] \
     [--message TEXT]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("peer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), rtcwire_examples::Error> {
    let mut args = std::env::args().skip(1);
    let role = args.next().ok_or(USAGE)?;
    let (mut options, rest) = PeerOptions::from_args(args).map_err(|e| format!("{e}\n{USAGE}"))?;
    let mut message = DEFAULT_MESSAGE.to_owned();
    let mut rest = rest.into_iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--message" if role == "offer" => message = rest.next().ok_or("--message needs a value")?,
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}").into()),
        }
    }
    match role.as_str() {
        "answer" => {
            options.log = "peer answer".into();
            let report = peer::answer(&options)?;
            println!("echoed {} message(s); stopped: {}", report.echoed, report.stopped);
        }
        "offer" => {
            options.log = "peer offer".into();
            let reply = peer::offer(&options, &message)?;
            println!("{reply}");
        }
        _ => return Err(USAGE.into()),
    }
    Ok(())
}
