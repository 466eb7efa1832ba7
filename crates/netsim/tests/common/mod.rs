//! Small endpoints shared by the integration tests.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcwire_netsim::{Datagram, Endpoint};

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub(crate) fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Sends whatever the test queues; records what it receives; optionally
/// echoes it back.
#[derive(Debug, Default)]
pub(crate) struct Probe {
    pub(crate) out: VecDeque<Datagram>,
    pub(crate) received: Vec<(Instant, Datagram)>,
    pub(crate) echo: bool,
}

impl Probe {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn echo() -> Self {
        Self {
            echo: true,
            ..Self::default()
        }
    }

    pub(crate) fn send(&mut self, from: SocketAddr, to: SocketAddr, payload: &[u8]) {
        self.out.push_back(Datagram {
            source: from,
            destination: to,
            payload: payload.to_vec(),
        });
    }

    /// Sources of everything received, in order.
    pub(crate) fn sources(&self) -> Vec<SocketAddr> {
        self.received.iter().map(|(_, d)| d.source).collect()
    }
}

impl Endpoint for Probe {
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram) {
        if self.echo {
            self.out.push_back(Datagram {
                source: datagram.destination,
                destination: datagram.source,
                payload: datagram.payload.clone(),
            });
        }
        self.received.push((now, datagram));
    }

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// Sends `count` datagrams numbered from 0, one every `interval` from `start`,
/// each `size` bytes long (at least 4).
#[derive(Debug)]
pub(crate) struct Pacer {
    local: SocketAddr,
    peer: SocketAddr,
    interval: Duration,
    size: usize,
    count: u32,
    pub(crate) sent: u32,
    next: Option<Instant>,
    due: bool,
    pub(crate) replies: Vec<(Instant, u32)>,
}

impl Pacer {
    pub(crate) fn new(
        local: SocketAddr,
        peer: SocketAddr,
        start: Instant,
        interval: Duration,
        count: u32,
        size: usize,
    ) -> Self {
        Self {
            local,
            peer,
            interval,
            size: size.max(4),
            count,
            sent: 0,
            next: (count > 0).then_some(start),
            due: false,
            replies: Vec::new(),
        }
    }
}

impl Endpoint for Pacer {
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram) {
        self.replies.push((now, seq_of(&datagram.payload)));
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.next.is_some_and(|t| t <= now) {
            self.due = true;
            self.next = (self.sent + 1 < self.count).then(|| now + self.interval);
        }
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        if !std::mem::take(&mut self.due) {
            return None;
        }
        let mut payload = vec![0u8; self.size];
        payload[..4].copy_from_slice(&self.sent.to_be_bytes());
        self.sent += 1;
        Some(Datagram {
            source: self.local,
            destination: self.peer,
            payload,
        })
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }
}

/// Records the arrival time and sequence number of numbered datagrams.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub(crate) arrivals: Vec<(Instant, u32)>,
}

impl Endpoint for Sink {
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram) {
        self.arrivals.push((now, seq_of(&datagram.payload)));
    }

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

pub(crate) fn seq_of(payload: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&payload[..4]);
    u32::from_be_bytes(b)
}
