//! A DTLS endpoint (client or server) fed arbitrary datagrams and timer
//! events. Input: one options byte (bit 0: server, bit 1: require cookie,
//! bit 2: start with a real ClientHello from a peer client, so the server
//! reaches its later states), then operations: `c & 3 == 0` fires the
//! timer; `1` moves the clock `c >> 2` times 40 ms; otherwise a datagram
//! (next byte = length, then the bytes). The endpoint must never panic and
//! its queues stay bounded.
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcwire_dtls::{DtlsCertificate, DtlsConfig, DtlsEndpoint, Role};

#[path = "shared/cert.rs"]
mod cert;

fn certificate() -> Arc<DtlsCertificate> {
    cert::certificates()[0].clone()
}

fuzz_target!(|data: &[u8]| {
    let Some((&options, mut rest)) = data.split_first() else {
        return;
    };
    let mut config = DtlsConfig::new(certificate());
    config.require_cookie = options & 2 != 0;
    let role = if options & 1 != 0 {
        Role::Server
    } else {
        Role::Client
    };
    let mut endpoint = DtlsEndpoint::new(config, role);
    endpoint.set_remote_fingerprints(vec![certificate().fingerprint()]);
    let mut now = Instant::now();
    if role == Role::Client {
        endpoint.start(now);
    } else if options & 4 != 0 {
        // A genuine ClientHello first, so later datagrams meet a server
        // that has answered it.
        let mut peer = DtlsEndpoint::new(DtlsConfig::new(certificate()), Role::Client);
        peer.start(now);
        while let Some(d) = peer.poll_transmit() {
            endpoint.handle_receive(now, &d);
        }
    }
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        match c & 3 {
            0 => {
                if let Some(at) = endpoint.poll_timeout() {
                    now = now.max(at);
                    endpoint.handle_timeout(now);
                }
            }
            1 => {
                now += Duration::from_millis(40 * u64::from(c >> 2));
                endpoint.handle_timeout(now);
            }
            _ => {
                let Some((&len, tail)) = rest.split_first() else {
                    break;
                };
                let n = usize::from(len).min(tail.len());
                endpoint.handle_receive(now, &tail[..n]);
                rest = &tail[n..];
            }
        }
        let mut transmits = 0;
        while endpoint.poll_transmit().is_some() {
            transmits += 1;
        }
        assert!(transmits <= 256, "transmit queue is capped");
        while endpoint.poll_event().is_some() {}
    }
});
