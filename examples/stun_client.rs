//! A STUN client on tokio: asks a server for this host's reflexive address.
//!
//! ```text
//! cargo run -p rtcwire-examples --example stun_client -- 127.0.0.1:3478
//! ```
//!
//! `rtcwire_stun::BindingClient` is a sans-IO state machine: this file owns
//! the socket and the clock, and drives it with the three calls every rtcwire
//! state machine shares: feed input (`handle_receive`, `handle_timeout`),
//! then drain output (`poll_transmit`, `poll_event`, `poll_timeout`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_stun::{BindingClient, BindingEvent, BindingRequestOptions, TransactionConfig};
use tokio::net::UdpSocket;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3478".to_owned())
        .parse()?;
    let bind: SocketAddr = if server.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse()?;
    let socket = UdpSocket::bind(bind).await?;

    let options = BindingRequestOptions {
        software: Some("rtcwire stun_client example"),
        transaction: TransactionConfig {
            initial_rto: Duration::from_millis(250),
            ..TransactionConfig::default()
        },
        ..BindingRequestOptions::default()
    };
    let mut client = BindingClient::new(Instant::now(), &mut rand::rng(), server, options)?;
    let mut buf = [0u8; 1500];

    loop {
        while let Some(t) = client.poll_transmit() {
            socket.send_to(t.contents, t.destination).await?;
        }
        if let Some(event) = client.poll_event() {
            match event {
                BindingEvent::Mapped { address, rtt } => {
                    println!("reflexive address: {address}");
                    if let Some(rtt) = rtt {
                        println!("round trip: {rtt:?}");
                    }
                    return Ok(());
                }
                BindingEvent::Failed(reason) => return Err(reason.into()),
            }
        }
        let Some(deadline) = client.poll_timeout() else {
            return Err("transaction ended without an answer".into());
        };
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let (n, source) = received?;
                client.handle_receive(Instant::now(), source, &buf[..n]);
            }
            _ = tokio::time::sleep_until(deadline.into()) => client.handle_timeout(Instant::now()),
        }
    }
}
