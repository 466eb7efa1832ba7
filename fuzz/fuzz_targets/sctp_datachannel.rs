//! The data-channel layer fed arbitrary messages: two connected
//! `DataChannels`, where `a` is driven by the input to send DCEP and user
//! messages with any PPID on any stream (so `b` parses hostile DCEP
//! OPEN/ACK and payloads), create, send on and close channels, and where
//! raw packets (with a valid CRC32c and `b`'s verification tag) reach `b`.
//! Operations, until the input ends: `c & 3 == 0` runs both timers; `1`
//! sends a raw message (next byte: stream, next: length, then payload; the
//! PPID is 50 + (c >> 2) % 8); `2` creates a channel (options from the bits
//! of `c`) or, when bit 7 is set, closes channel `c & 0x3f` on either side;
//! `3` delivers a raw packet to `b`. Must never panic; queues stay bounded.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcwire_sctp::fuzzing::with_checksum;
use rtcwire_sctp::{Association, ChannelOptions, DataChannels, SctpConfig};

fn pump(a: &mut DataChannels, b: &mut DataChannels, now: Instant, tag: &mut Option<Vec<u8>>) {
    for _ in 0..64 {
        let mut moved = false;
        while let Some(p) = a.poll_transmit() {
            tag.get_or_insert_with(|| p[4..8].to_vec());
            b.handle_receive(now, &p);
            moved = true;
        }
        while let Some(p) = b.poll_transmit() {
            a.handle_receive(now, &p);
            moved = true;
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
        if !moved {
            break;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::now();
    let config = |seed| SctpConfig {
        seed: Some(seed),
        ..SctpConfig::default()
    };
    let mut a = DataChannels::new(Association::new(config(1)), true);
    let mut b = DataChannels::new(Association::new(config(2)), false);
    a.association_mut().connect(now);
    let mut tag = None;
    pump(&mut a, &mut b, now, &mut tag);
    let mut rest = data;
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        match c & 3 {
            0 => {
                now += Duration::from_millis(100);
                if let Some(t) = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min() {
                    now = now.max(t);
                }
                a.handle_timeout(now);
                b.handle_timeout(now);
            }
            1 => {
                let [stream, len, ..] = *rest else { break };
                let n = usize::from(len).min(rest.len() - 2);
                let payload = &rest[2..2 + n];
                rest = &rest[2 + n..];
                let ppid = 50 + u32::from(c >> 2) % 8;
                let _ = a
                    .association_mut()
                    .send(now, u16::from(stream), ppid, payload, c & 0x40 != 0);
            }
            2 if c & 0x80 != 0 => {
                let id = u16::from(c & 0x3f);
                let _ = a.close(now, id);
                let _ = b.close(now, id);
            }
            2 => {
                let options = ChannelOptions {
                    ordered: c & 4 != 0,
                    max_retransmits: (c & 8 != 0).then_some(0),
                    negotiated: (c & 16 != 0).then_some(u16::from(c >> 5)),
                    ..ChannelOptions::default()
                };
                if let Ok(id) = a.create(now, "f", options.clone()) {
                    let _ = a.send(now, id, &[c; 3], c & 32 != 0);
                }
                let _ = b.create(now, "g", options);
            }
            _ => {
                let Some((&len, tail)) = rest.split_first() else { break };
                let n = usize::from(len).min(tail.len());
                let mut packet = tail[..n].to_vec();
                rest = &tail[n..];
                if let Some(t) = &tag
                    && packet.len() >= 12
                {
                    packet[4..8].copy_from_slice(t);
                }
                b.handle_receive(now, &with_checksum(packet));
            }
        }
        pump(&mut a, &mut b, now, &mut tag);
    }
});
