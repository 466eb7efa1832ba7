//! A page and an echo server for browsers: open http://127.0.0.1:8080/,
//! type, and every message comes back over a WebRTC data channel as
//! `echo: <message>`.
//!
//! ```text
//! cargo run -p rtcwire-examples --example echo_server [-- --listen 127.0.0.1:8080] [--udp 127.0.0.1:0]
//! ```
//!
//! The page makes an RTCPeerConnection with no ICE servers and a data
//! channel, and sends its complete offer over a WebSocket (`/ws`); the
//! server answers every browser from one UDP socket with `rtcwire::Server`
//! (ICE-lite), under tokio. The WebSocket is the minimal RFC 6455 server
//! in `rtcwire_examples::websocket`. `--tls` serves HTTPS and WSS with a
//! self-signed certificate made at start (its SHA-256 fingerprint is
//! printed; the browser asks to accept it): needed when the page is opened
//! on an address other than localhost, which browsers do not count as a
//! secure context.
//!
//! ```text
//! cargo run -p rtcwire-examples --example echo_server -- --tls --listen 192.0.2.10:8443
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use rtcwire_examples::Error;
use rtcwire_examples::{echo, tls};
use tokio::net::{TcpListener, UdpSocket};

const USAGE: &str = "usage: echo_server [--listen IP:PORT] [--udp IP:PORT] [--tls]";

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let result = match runtime {
        Ok(rt) => rt.block_on(run()),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Error> {
    let mut listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8080));
    let mut udp: Option<SocketAddr> = None;
    let mut tls = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<SocketAddr, Error> {
            let v = args.next().ok_or(format!("{name} needs IP:PORT"))?;
            v.parse().map_err(|_| format!("{name} {v}: not IP:PORT").into())
        };
        match arg.as_str() {
            "--listen" => listen = value("--listen")?,
            "--udp" => udp = Some(value("--udp")?),
            "--tls" => tls = true,
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}").into()),
        }
    }
    let udp_addr = match udp {
        Some(a) => a,
        None => echo::default_udp(listen)?,
    };
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("listen {listen}: {e}"))?;
    let socket = UdpSocket::bind(udp_addr)
        .await
        .map_err(|e| format!("udp {udp_addr}: {e}"))?;
    let tls = if tls {
        let names = vec!["localhost".to_owned(), listen.ip().to_string()];
        let cert = tls::self_signed(names)?;
        eprintln!(
            "echo_server: self-signed certificate, SHA-256 {}",
            cert.fingerprint
        );
        Some(cert.config)
    } else {
        None
    };
    eprintln!(
        "echo_server: open {}://{}/ (peer connections on udp {})",
        if tls.is_some() { "https" } else { "http" },
        listener.local_addr()?,
        socket.local_addr()?
    );
    echo::serve(listener, socket, tls).await
}
