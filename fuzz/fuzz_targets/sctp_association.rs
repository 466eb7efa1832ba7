//! An SCTP association fed arbitrary packets (with a correct CRC32c, so the
//! fuzzer gets past the checksum) and timer events, after a real handshake
//! so that DATA and SACK handling is reachable. Input: operations until the
//! input ends: `c & 3 == 0` fires the timer; `1` moves the clock `c >> 2`
//! times 50 ms; `2` sends a message of `c >> 2` bytes, partially reliable
//! by retransmissions when bit 2 is set and by lifetime when bit 3 is
//! (`0xfe` starts the graceful shutdown instead, `0xfa` resets streams 0
//! and 1); otherwise a packet
//! (next byte = length, then the bytes; the verification tag is replaced by
//! the association's when `c & 4`). Must never panic; queues stay bounded.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcwire_sctp::fuzzing::with_checksum;
use rtcwire_sctp::{Association, AssociationState, SctpConfig, SendOptions};

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::now();
    let config = |seed| SctpConfig {
        seed: Some(seed),
        ..SctpConfig::default()
    };
    let mut a = Association::new(config(1));
    let mut b = Association::new(config(2));
    a.connect(now);
    let mut tag_template = None;
    for _ in 0..4 {
        while let Some(p) = a.poll_transmit() {
            b.handle_receive(now, &p);
        }
        while let Some(p) = b.poll_transmit() {
            // A packet addressed to `a`: its verification tag is a's.
            tag_template.get_or_insert_with(|| p[4..8].to_vec());
            a.handle_receive(now, &p);
        }
    }
    assert_eq!(a.state(), AssociationState::Established);
    let tag = tag_template.unwrap_or_default();
    let mut rest = data;
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        match c & 3 {
            0 => {
                if let Some(at) = a.poll_timeout() {
                    now = now.max(at);
                    a.handle_timeout(now);
                }
            }
            1 => {
                now += Duration::from_millis(50 * u64::from(c >> 2));
                a.handle_timeout(now);
            }
            2 if c == 0xfe => a.close(now),
            2 if c == 0xfa => {
                let _ = a.reset_streams(now, &[0, 1]);
            }
            2 => {
                let options = SendOptions {
                    unordered: c & 0x80 != 0,
                    max_retransmits: (c & 4 != 0).then_some(u32::from(c >> 5)),
                    lifetime: (c & 8 != 0).then_some(Duration::from_millis(100)),
                };
                let _ = a.send_with(
                    now,
                    u16::from(c >> 6),
                    53,
                    &vec![c; usize::from(c >> 2) + 1],
                    options,
                );
            }
            _ => {
                let Some((&len, tail)) = rest.split_first() else {
                    break;
                };
                let n = usize::from(len).min(tail.len());
                let mut packet = tail[..n].to_vec();
                rest = &tail[n..];
                if c & 4 != 0 && packet.len() >= 12 && tag.len() == 4 {
                    packet[4..8].copy_from_slice(&tag);
                }
                a.handle_receive(now, &with_checksum(packet));
            }
        }
        let mut n = 0;
        while a.poll_transmit().is_some() {
            n += 1;
        }
        assert!(n < 100_000);
        while a.poll_event().is_some() {}
        // Bounded whatever the peer does.
        let stats = a.stats();
        let default = SctpConfig::default();
        assert!(stats.receive_buffered <= default.receive_window as usize + default.max_message_size);
        assert!(a.buffered_amount() <= default.send_buffer);
    }
});
