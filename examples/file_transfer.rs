//! Sends a file between two processes over a data channel, with a SHA-256
//! check at the end.
//!
//! ```text
//! cargo run --release -p rtcwire-examples --example file_transfer -- recv /tmp/in --offer /tmp/o.sdp --answer /tmp/a.sdp &
//! cargo run --release -p rtcwire-examples --example file_transfer -- send FILE  --offer /tmp/o.sdp --answer /tmp/a.sdp
//! ```
//!
//! The sender offers and the receiver answers, through the same signalling
//! files as the `peer` example (`--timeout S` is the longest time without
//! progress, default 30 s; `--bind ADDR` and the STUN/TURN options
//! `--ice-server URL`, `--username`, `--credential`, `--relay-only`,
//! `--tls-ca`, `--tls-name` as for `peer`). The receiver
//! writes `DIR/<name>`, checks its SHA-256 against the sender's and prints
//! `OK`; either side exits non-zero on a mismatch. The protocol is in the
//! library (`rtcwire_examples::file_transfer`).

use std::path::PathBuf;
use std::process::ExitCode;

use rtcwire_examples::file_transfer;
use rtcwire_examples::peer::PeerOptions;

const USAGE: &str = "usage: file_transfer send FILE|recv DIR --offer FILE --answer FILE [--timeout S] [--bind ADDR]... \
     [--ice-server URL]... [--username U --credential C] [--relay-only] [--tls-ca FILE] [--tls-name NAME]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("file_transfer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), rtcwire_examples::Error> {
    let mut args = std::env::args().skip(1);
    let role = args.next().ok_or(USAGE)?;
    let (mut options, rest) = PeerOptions::from_args(args).map_err(|e| format!("{e}\n{USAGE}"))?;
    let [path] = <[String; 1]>::try_from(rest).map_err(|_| USAGE)?;
    let path = PathBuf::from(path);
    match role.as_str() {
        "send" => {
            options.log = "file_transfer send".into();
            let r = file_transfer::send(&path, &options, true)?;
            println!(
                "sent {} ({} bytes) in {:.2} s: {:.1} MB/s; the receiver's sha256 matches ({})",
                r.path.display(),
                r.bytes,
                r.transfer.as_secs_f64(),
                r.mb_per_s(),
                r.sha256
            );
        }
        "recv" => {
            options.log = "file_transfer recv".into();
            let r = file_transfer::receive(&path, &options, true)?;
            println!(
                "OK {} ({} bytes, sha256 {}) in {:.2} s: {:.1} MB/s",
                r.path.display(),
                r.bytes,
                r.sha256,
                r.transfer.as_secs_f64(),
                r.mb_per_s()
            );
        }
        _ => return Err(USAGE.into()),
    }
    Ok(())
}
