//! A `BindingClient` fed arbitrary datagrams and timeouts.
//!
//! Input: one options byte (bit 0: short-term credentials, bit 1: SOFTWARE),
//! then operations until the input ends. Each operation starts with a control
//! byte `c`:
//! - `c & 3 == 0`: the timer fires at `poll_timeout`;
//! - `c & 3 == 1`: the clock moves `c >> 2` times 50 ms and `handle_timeout`
//!   is called early (or late);
//! - otherwise a datagram: the next byte is its length, the bytes after it
//!   its contents; with `c & 4` the request's transaction ID is written over
//!   bytes 8..20 (so responses match), with `c & 8` it comes from a stranger
//!   rather than the server.
//!
//! Then the timer runs out. The client must never panic, never transmit more
//! than the RFC 8489 schedule allows (7 times), report exactly one outcome,
//! and be over (`poll_timeout` None) within 7 more timer firings, by 39.5 s
//! after it started plus however late the timer was served.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rtcwire_stun::{BindingClient, BindingRequestOptions, IntegrityKey};

const MAX_TRANSMISSIONS: usize = 7;
/// RFC 8489 section 6.2.1 with the default RTO: the last request at 31.5 s,
/// failure at 39.5 s.
const GIVE_UP_AFTER: Duration = Duration::from_millis(39_500);

struct Run {
    client: BindingClient,
    start: Instant,
    transmissions: usize,
    events: usize,
    /// How late, in all, the timer was served: the schedule shifts by that.
    late: Duration,
}

impl Run {
    fn handle_timeout(&mut self, now: Instant) {
        if let Some(at) = self.client.poll_timeout() {
            assert!(
                at <= self.start + GIVE_UP_AFTER + self.late,
                "timer at {:?}",
                at - self.start
            );
            self.late += now.saturating_duration_since(at);
        }
        self.client.handle_timeout(now);
    }

    fn drain(&mut self) {
        while let Some(t) = self.client.poll_transmit() {
            assert!(rtcwire_stun::Message::parse(t.contents).is_ok());
            self.transmissions += 1;
        }
        while self.client.poll_event().is_some() {
            self.events += 1;
        }
        assert!(
            self.transmissions <= MAX_TRANSMISSIONS,
            "sent {} requests",
            self.transmissions
        );
        assert!(self.events <= 1, "{} outcomes", self.events);
        assert_eq!(self.client.is_done(), self.events == 1);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&options, mut ops)) = data.split_first() else {
        return;
    };
    let start = Instant::now();
    let server: SocketAddr = "192.0.2.1:3478".parse().expect("address");
    let stranger: SocketAddr = "192.0.2.66:3478".parse().expect("address");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let opts = BindingRequestOptions {
        username: (options & 1 != 0).then_some("evtj:h6vY"),
        key: (options & 1 != 0).then(|| IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBt")),
        software: (options & 2 != 0).then_some("rtcwire fuzz"),
        ..BindingRequestOptions::default()
    };
    let client = BindingClient::new(start, &mut rng, server, opts).expect("a request fits");
    let tid = *client.transaction_id().as_bytes();
    let mut run = Run {
        client,
        start,
        transmissions: 0,
        events: 0,
        late: Duration::ZERO,
    };
    let mut now = start;
    run.drain();

    while let Some((&c, rest)) = ops.split_first() {
        ops = rest;
        match c & 3 {
            0 => {
                if let Some(at) = run.client.poll_timeout() {
                    now = now.max(at);
                    run.handle_timeout(now);
                }
            }
            1 => {
                now += Duration::from_millis(50) * u32::from(c >> 2);
                run.handle_timeout(now);
            }
            _ => {
                let Some((&len, rest)) = ops.split_first() else {
                    break;
                };
                let len = usize::from(len).min(rest.len());
                let (datagram, rest) = rest.split_at(len);
                ops = rest;
                let mut datagram = datagram.to_vec();
                if c & 4 != 0
                    && let Some(id) = datagram.get_mut(8..20)
                {
                    id.copy_from_slice(&tid);
                }
                let from = if c & 8 != 0 { stranger } else { server };
                run.client.handle_receive(now, from, &datagram);
            }
        }
        run.drain();
    }

    // Let the timer run out.
    for _ in 0..=MAX_TRANSMISSIONS {
        let Some(at) = run.client.poll_timeout() else {
            break;
        };
        now = now.max(at);
        run.handle_timeout(now);
        run.drain();
    }
    assert_eq!(run.client.poll_timeout(), None, "client still running");
    assert!(run.client.is_done());
    assert_eq!(run.events, 1);
});
