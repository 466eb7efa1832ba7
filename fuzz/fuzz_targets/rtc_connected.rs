//! A peer connection after a completed handshake (ICE, DTLS, SCTP, one open
//! data channel with another `Rtc` in memory) fed arbitrary datagrams,
//! timer events and sends. Operations, one byte each: `c & 7 == 0` fires
//! the timers; `1` moves the clock `c >> 3` times 50 ms; `2` sends a small
//! message on the channel; `3` lets the genuine peer answer (its datagrams
//! are delivered); otherwise a datagram follows (next byte = length, then
//! the bytes) from the peer's address (`4`, `5`: with the first byte kept;
//! `6`: as DTLS application data) or from a stranger (`7`). The connection
//! must never panic, and what it keeps stays bounded. Sent datagrams'
//! buffers go back to their sender (`Rtc::recycle`), and so do the fuzz
//! datagrams' (any size, any contents). The genuine peer's datagrams and
//! the forged application-data records go in through
//! `handle_receive_in_place`.
#![no_main]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcwire::{
    ChannelId, ChannelOptions, DtlsCertificate, Event, Input, Output, Receive, Rtc, RtcConfig, Transmit,
};

#[path = "shared/cert.rs"]
mod cert;
use cert::certificates;

const A: &str = "10.0.0.1:5000";
const B: &str = "10.0.0.2:6000";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("constant address")
}

/// Drains one side; returns its datagrams and whether its channel opened.
fn drain(rtc: &mut Rtc, out: &mut Vec<Transmit>, open: &mut Option<ChannelId>) -> Option<Instant> {
    loop {
        match rtc.poll_output() {
            Ok(Output::Transmit(t)) => out.push(t),
            Ok(Output::Event(Event::ChannelOpen { id, .. })) => *open = Some(id),
            Ok(Output::Event(_)) => {}
            // No TURN server: nothing asks for TCP.
            Ok(Output::Connect(_) | Output::StreamTransmit(_) | Output::Disconnect(_)) => {}
            Ok(Output::Timeout(at)) => return Some(at),
            Err(_) => return None,
        }
    }
}

/// Hands `sender`'s datagrams to `rtc` (decrypted in place), and their
/// buffers back to `sender`.
fn deliver(rtc: &mut Rtc, sender: &mut Rtc, now: Instant, datagrams: Vec<Transmit>) {
    for mut t in datagrams {
        let _ = rtc.handle_receive_in_place(now, t.source, t.destination, &mut t.contents);
        sender.recycle(t.contents);
    }
}

/// Two connected peers with one open channel, or `None` if they did not
/// connect (they always do: the network is perfect).
fn connected(now: &mut Instant) -> Option<(Rtc, Rtc, ChannelId)> {
    let config = |seed, cert: &Arc<DtlsCertificate>| RtcConfig {
        certificate: Some(cert.clone()),
        seed: Some(seed),
        ..RtcConfig::default()
    };
    let [ca, cb] = certificates();
    let mut a = Rtc::new(config(1, ca), *now).ok()?;
    let mut b = Rtc::new(config(2, cb), *now).ok()?;
    a.add_local_candidate(addr(A)).ok()?;
    b.add_local_candidate(addr(B)).ok()?;
    a.create_data_channel("fuzz", ChannelOptions::default()).ok()?;
    let offer = a.create_offer().ok()?;
    a.set_local_description(&offer).ok()?;
    b.set_remote_description(&offer).ok()?;
    let answer = b.create_answer().ok()?;
    b.set_local_description(&answer).ok()?;
    a.set_remote_description(&answer).ok()?;
    let (mut open_a, mut open_b) = (None, None);
    for _ in 0..2000 {
        let (mut to_b, mut to_a) = (Vec::new(), Vec::new());
        let ta = drain(&mut a, &mut to_b, &mut open_a)?;
        let tb = drain(&mut b, &mut to_a, &mut open_b)?;
        if let (Some(id), Some(_)) = (open_a, open_b) {
            return Some((a, b, id));
        }
        if to_a.is_empty() && to_b.is_empty() {
            *now = (*now).max(ta.min(tb));
            let _ = a.handle_input(Input::Timeout(*now));
            let _ = b.handle_input(Input::Timeout(*now));
        }
        deliver(&mut b, &mut a, *now, to_b);
        deliver(&mut a, &mut b, *now, to_a);
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::now();
    let Some((mut a, mut b, channel)) = connected(&mut now) else {
        return;
    };
    let mut rest = data;
    let mut datagram = Vec::with_capacity(256);
    let mut to_b = Vec::new();
    let mut ignored = None;
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        match c & 7 {
            0 => {
                let _ = a.handle_input(Input::Timeout(now));
            }
            1 => {
                now += Duration::from_millis(50 * u64::from(c >> 3));
                let _ = a.handle_input(Input::Timeout(now));
            }
            2 => {
                let _ = a.send(channel, &[c; 100], c & 8 != 0);
            }
            3 => {
                let mut to_a = Vec::new();
                let _ = drain(&mut b, &mut to_a, &mut ignored);
                deliver(&mut a, &mut b, now, to_a);
            }
            op => {
                let Some((&len, tail)) = rest.split_first() else {
                    break;
                };
                let len = usize::from(len).min(tail.len());
                let (bytes, tail) = tail.split_at(len);
                rest = tail;
                datagram.clear();
                if op == 6 {
                    // A DTLS 1.2 application-data record header, epoch 1.
                    datagram.extend_from_slice(&[23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9]);
                    datagram.extend_from_slice(&(len as u16).to_be_bytes());
                }
                datagram.extend_from_slice(bytes);
                let source = if op == 7 { addr("192.0.2.66:1234") } else { addr(B) };
                if op == 6 {
                    let _ = a.handle_receive_in_place(now, source, addr(A), &mut datagram);
                } else {
                    let receive = Receive {
                        source,
                        destination: addr(A),
                        contents: &datagram,
                    };
                    let _ = a.handle_input(Input::Receive(now, receive));
                }
                a.recycle(std::mem::take(&mut datagram));
            }
        }
        let _ = drain(&mut a, &mut to_b, &mut ignored);
        // What the connection hands out is bounded by what it was given.
        assert!(to_b.len() < 100_000, "unbounded transmits");
        for t in to_b.drain(..) {
            a.recycle(t.contents);
        }
    }
    let stats = a.stats();
    // The peer may open channels (the fuzzer can forge its packets), but
    // never past the data-channel layer's cap.
    assert!(stats.channels.len() <= rtcwire::proto::sctp::MAX_CHANNELS + 1);
});
