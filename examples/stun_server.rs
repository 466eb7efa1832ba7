//! A STUN server on a plain `std::net::UdpSocket`: it answers Binding
//! requests with the address it saw them come from (RFC 8489 section 6.3).
//!
//! ```text
//! cargo run -p rtcwire-examples --example stun_server -- 127.0.0.1:3478
//! ```
//!
//! The protocol work is `rtcwire_stun::BindingResponder`, which keeps no
//! state; this file only owns the socket.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use rtcwire_stun::BindingResponder;

/// What the server did, for logs and tests.
#[derive(Debug, Default, Clone)]
pub struct ServerStats {
    /// Datagrams answered.
    pub answered: u64,
    /// Datagrams dropped: not STUN, malformed, failed FINGERPRINT.
    pub dropped: u64,
    /// Sources of the most recent answered requests, newest last (at most 64).
    pub recent_sources: Vec<SocketAddr>,
}

/// Serves Binding requests on `socket` until `stop(&stats)` returns true
/// after a datagram (for tests) or forever.
pub fn serve(socket: &UdpSocket, mut stop: impl FnMut(&ServerStats) -> bool) -> io::Result<ServerStats> {
    let responder = BindingResponder::new().software("rtcwire stun_server example");
    let mut stats = ServerStats::default();
    // One receive and one send buffer, reused: nothing is allocated per datagram.
    let mut inbuf = [0u8; 1500];
    let mut outbuf = [0u8; 1500];
    loop {
        let (n, source) = socket.recv_from(&mut inbuf)?;
        match responder.respond(&inbuf[..n], source, &mut outbuf) {
            Ok(Some(len)) => {
                socket.send_to(&outbuf[..len], source)?;
                stats.answered += 1;
                if stats.recent_sources.len() == 64 {
                    stats.recent_sources.remove(0);
                }
                stats.recent_sources.push(source);
            }
            Ok(None) => {}
            Err(_) => stats.dropped += 1,
        }
        if stop(&stats) {
            return Ok(stats);
        }
    }
}

#[allow(dead_code)] // the interop tests include this file for `serve`
fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3478".to_owned());
    let socket = UdpSocket::bind(&addr)?;
    println!("STUN server listening on {}", socket.local_addr()?);
    serve(&socket, |stats| {
        if let Some(source) = stats.recent_sources.last() {
            println!(
                "answered Binding request from {source} (total {})",
                stats.answered
            );
        }
        false
    })?;
    Ok(())
}
