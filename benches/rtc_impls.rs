//! The work the `rtc` and `rtc_memory` benchmarks measure, once per stack
//! (rtcwire and str0m), shared through `#[path]` by both benchmarks and by
//! the test that runs every workload once, so the test covers exactly the
//! code that is timed.
//!
//! Two peer connections live in one process; their datagrams are handed
//! over in memory (no loss, no reordering, no copies beyond what each
//! stack's API asks for). Time is virtual: it starts at one `Instant` and
//! moves only when no datagram is left to hand over, to the earliest
//! timeout either side asked for, so the figures are CPU time, not waiting.
//!
//! Both stacks do the same work:
//! - the offerer (left) creates one reliable ordered data channel before
//!   its offer; each side has one host candidate in its description;
//! - descriptions cross as SDP text, as through real signalling: str0m's
//!   offer and answer are written with `to_sdp_string` and read with
//!   `from_sdp_string` (rtcwire's descriptions are text already);
//! - DTLS 1.2 with a certificate made beforehand (ECDSA P-256 for both),
//!   ICE, SCTP and DCEP up to an open channel on both sides;
//! - datagrams of at most 1200 bytes, a 4 MiB send buffer (rtcwire's
//!   default; str0m's `sctp_max_buffered_amount` is set to it, its own
//!   default being 128 KiB) and 256 KiB messages allowed (both defaults);
//! - the owner's loop hands in one datagram, then drains that side's
//!   `poll_output` until it returns a timeout, the usual sans-IO loop.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest datagram either stack writes.
pub const MTU: usize = 1200;
/// The send buffer the application fills.
pub const SEND_BUFFER: usize = 4 << 20;
/// The data channel's label.
pub const LABEL: &str = "bench";

pub const LEFT: &str = "192.0.2.1:5000";
pub const RIGHT: &str = "192.0.2.2:6000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// What the benchmark's application saw on one side.
#[derive(Debug, Default)]
pub struct Seen {
    /// The data channel is open on this side.
    pub opened: bool,
    /// Whole messages received.
    pub messages: u64,
    /// Their bytes.
    pub bytes: u64,
    /// When set, each message must be this long and carry its sequence
    /// number in its first 8 bytes (little endian), see [`stamp`].
    pub expect_size: Option<usize>,
    /// When set, bytes 8.. of each message must equal this pattern's.
    pub expect_pattern: Option<Vec<u8>>,
}

impl Seen {
    fn message(&mut self, data: &[u8]) {
        if let Some(size) = self.expect_size {
            assert_eq!(data.len(), size, "message {}: length", self.messages);
            assert_eq!(
                sequence(data),
                self.messages,
                "message {}: out of order or lost",
                self.messages
            );
        }
        if let Some(pattern) = &self.expect_pattern {
            assert!(data[8..] == pattern[8..], "message {}: content", self.messages);
        }
        self.messages += 1;
        self.bytes += data.len() as u64;
    }
}

/// A message of `size` bytes in a fixed pattern.
pub fn message(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i.wrapping_mul(7) + 13) as u8).collect()
}

/// Writes `seq` (little endian) over the first 8 bytes.
pub fn stamp(message: &mut [u8], seq: u64) {
    message[..8].copy_from_slice(&seq.to_le_bytes());
}

fn sequence(message: &[u8]) -> u64 {
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&message[..8]);
    u64::from_le_bytes(seq)
}

/// One peer connection as the benchmark drives it.
pub trait Peer {
    /// A datagram it wrote, as its API hands it out.
    type Datagram;
    /// Hands in one datagram that arrived at `now`.
    /// Hands in one datagram that arrived at `now`, in a buffer it may
    /// decrypt in place (as an application's receive buffer).
    fn receive(&mut self, now: Instant, datagram: &mut Self::Datagram);
    /// Tells it `now` came.
    fn timeout(&mut self, now: Instant);
    /// Drains its output until it returns a timeout (returned): datagrams
    /// go to `out`, what the application cares about to `seen`.
    fn drain(&mut self, out: &mut VecDeque<Self::Datagram>, seen: &mut Seen) -> Instant;
    /// Queues one message on the data channel; false when the send buffer
    /// is full (or the channel is not open here).
    fn try_send(&mut self, message: &[u8]) -> bool;
    /// Takes back a datagram it wrote, once handed over (as an application
    /// would after sending it), if its API reuses buffers.
    fn recycle(&mut self, datagram: Self::Datagram) {
        drop(datagram);
    }
}

/// Two peer connections and the datagrams in flight between them.
pub struct Net<P: Peer> {
    /// Left (offerer, sends) and right (answerer, receives).
    pub peers: [P; 2],
    /// What each side saw.
    pub seen: [Seen; 2],
    /// Datagrams on their way to left and to right.
    queues: [VecDeque<P::Datagram>; 2],
    /// Each side's last polled timeout.
    timeouts: [Instant; 2],
    /// Virtual time.
    pub now: Instant,
    /// When the run started.
    pub start: Instant,
    /// How often the virtual clock moved to a timer.
    pub timer_moves: u64,
    /// Datagrams handed over.
    pub datagrams: u64,
    /// The last timer round found nothing to do at `now`.
    stalled: bool,
}

impl<P: Peer> Net<P> {
    /// Two fresh peers at `now`; drains both once.
    pub fn new(peers: [P; 2], now: Instant) -> Net<P> {
        let mut net = Net {
            peers,
            seen: [Seen::default(), Seen::default()],
            queues: [VecDeque::new(), VecDeque::new()],
            timeouts: [now; 2],
            now,
            start: now,
            timer_moves: 0,
            datagrams: 0,
            stalled: false,
        };
        net.drain(0);
        net.drain(1);
        net
    }

    fn drain(&mut self, side: usize) {
        let [to_left, to_right] = &mut self.queues;
        let out = if side == 0 { to_right } else { to_left };
        self.timeouts[side] = self.peers[side].drain(out, &mut self.seen[side]);
    }

    /// Hands every datagram queued for right to it, then every datagram
    /// queued for left (including the answers just written) to left, one at
    /// a time, draining the receiver after each. False when none moved.
    pub fn exchange(&mut self) -> bool {
        // Output written by calls since the last drain (a send, say).
        self.drain(0);
        let mut moved = false;
        for side in [1, 0] {
            while let Some(mut d) = self.queues[side].pop_front() {
                moved = true;
                self.datagrams += 1;
                self.peers[side].receive(self.now, &mut d);
                self.peers[1 - side].recycle(d);
                self.drain(side);
            }
        }
        if moved {
            self.stalled = false;
        }
        moved
    }

    /// Moves the virtual clock to the earliest timeout and hands it to the
    /// sides that asked for it. A side that asks for `now` again without
    /// having done anything gets 1 ms more (str0m's own tests do the same).
    pub fn fire_timer(&mut self) {
        let next = self.timeouts[0].min(self.timeouts[1]);
        if next > self.now {
            self.now = next;
        } else if self.stalled {
            self.now += Duration::from_millis(1);
        }
        self.timer_moves += 1;
        let queued = self.queues[0].len() + self.queues[1].len();
        for side in 0..2 {
            if self.timeouts[side] <= self.now {
                self.peers[side].timeout(self.now);
                self.drain(side);
            }
        }
        self.stalled = self.queues[0].len() + self.queues[1].len() == queued;
    }

    /// Runs until `done`, or panics after `limit` of virtual time.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Net<P>) -> bool) {
        let end = self.now + limit;
        while !done(self) {
            if !self.exchange() {
                assert!(
                    self.now < end,
                    "stalled: {:?} of virtual time",
                    self.now - self.start
                );
                self.fire_timer();
            }
        }
    }

    /// Runs until both sides have the channel open.
    pub fn open(&mut self) {
        self.run_until(Duration::from_secs(30), |n| n.seen[0].opened && n.seen[1].opened);
    }

    /// Hands over everything in flight (no timer moves).
    pub fn settle(&mut self) {
        while self.exchange() {}
    }

    /// Lets `time` of virtual time pass, firing every timer on the way
    /// (keepalives, consent checks) and handing over what they send.
    pub fn idle(&mut self, time: Duration) {
        let end = self.now + time;
        loop {
            self.settle();
            if self.timeouts[0].min(self.timeouts[1]) > end {
                break;
            }
            self.fire_timer();
        }
        self.now = end;
    }

    /// Sends `count` messages of `message.len()` bytes from left to right,
    /// keeping left's send buffer full, until right received them all.
    pub fn transfer(&mut self, message: &mut [u8], count: u64) {
        let first = self.seen[1].messages;
        let mut sent = 0u64;
        while self.seen[1].messages - first < count {
            while sent < count {
                stamp(message, first + sent);
                if !self.peers[0].try_send(message) {
                    break;
                }
                sent += 1;
            }
            if !self.exchange() {
                let before = self.now;
                self.fire_timer();
                assert!(
                    self.now - before < Duration::from_secs(10),
                    "stalled: {sent} sent, {} of {count} delivered",
                    self.seen[1].messages - first
                );
            }
        }
    }

    /// The two peers, without the network (which is empty after
    /// [`settle`](Net::settle)).
    pub fn into_peers(self) -> [P; 2] {
        self.peers
    }
}

// ---------------------------------------------------------------- rtcwire

pub mod rtcwire {
    use super::*;
    use ::rtcwire::{
        ChannelId, ChannelOptions, DtlsCertificate, Event, Input, Output, Rtc, RtcConfig, RtcError, Transmit,
    };

    /// A certificate for each side, made once.
    pub type Certificates = [Arc<DtlsCertificate>; 2];

    pub fn certificates() -> Certificates {
        let make = || Arc::new(DtlsCertificate::generate().unwrap_or_else(|e| panic!("certificate: {e}")));
        [make(), make()]
    }

    pub struct Side {
        pub rtc: Rtc,
        /// The data channel: ours (left) from the start, the peer's (right)
        /// once it opened.
        pub channel: Option<ChannelId>,
    }

    impl Peer for Side {
        type Datagram = Transmit;

        fn recycle(&mut self, d: Transmit) {
            self.rtc.recycle(d.contents);
        }

        fn receive(&mut self, now: Instant, d: &mut Transmit) {
            // What left sent from `source` arrives on right's `destination`.
            self.rtc
                .handle_receive_in_place(now, d.source, d.destination, &mut d.contents)
                .unwrap_or_else(|e| panic!("rtcwire receive: {e}"));
        }

        fn timeout(&mut self, now: Instant) {
            self.rtc
                .handle_input(Input::Timeout(now))
                .unwrap_or_else(|e| panic!("rtcwire timeout: {e}"));
        }

        fn drain(&mut self, out: &mut VecDeque<Transmit>, seen: &mut Seen) -> Instant {
            loop {
                match self
                    .rtc
                    .poll_output()
                    .unwrap_or_else(|e| panic!("rtcwire poll: {e}"))
                {
                    Output::Transmit(t) => out.push_back(t),
                    Output::Event(Event::ChannelData(d)) => seen.message(&d.data),
                    Output::Event(Event::ChannelOpen { id, .. }) => {
                        self.channel = Some(id);
                        seen.opened = true;
                    }
                    Output::Event(_) => {}
                    // No TURN server: nothing asks for TCP.
                    Output::Connect(_) | Output::StreamTransmit(_) | Output::Disconnect(_) => {}
                    Output::Timeout(at) => return at,
                }
            }
        }

        fn try_send(&mut self, message: &[u8]) -> bool {
            let Some(id) = self.channel else { return false };
            match self.rtc.send(id, message, true) {
                Ok(()) => true,
                Err(RtcError::Sctp(::rtcwire::proto::sctp::Error::SendBufferFull)) => false,
                Err(e) => panic!("rtcwire send: {e}"),
            }
        }
    }

    /// Creates both peers, negotiates (offer and answer as text) and
    /// returns them before any datagram moved.
    pub fn negotiated(certs: &Certificates, now: Instant) -> Net<Side> {
        let config = |i: usize| RtcConfig {
            certificate: Some(certs[i].clone()),
            seed: Some(i as u64 + 1),
            mtu: MTU,
            ..RtcConfig::default()
        };
        let new = |i: usize| Rtc::new(config(i), now).unwrap_or_else(|e| panic!("rtcwire new: {e}"));
        let (mut left, mut right) = (new(0), new(1));
        left.add_local_candidate(addr(LEFT))
            .unwrap_or_else(|e| panic!("rtcwire candidate: {e}"));
        right
            .add_local_candidate(addr(RIGHT))
            .unwrap_or_else(|e| panic!("rtcwire candidate: {e}"));
        // Its id comes back with `Event::ChannelOpen`, when it is usable.
        left.create_data_channel(LABEL, ChannelOptions::default())
            .unwrap_or_else(|e| panic!("rtcwire channel: {e}"));
        let fail = |e: RtcError| -> ! { panic!("rtcwire negotiation: {e}") };
        let offer = left.create_offer().unwrap_or_else(|e| fail(e));
        left.set_local_description(&offer).unwrap_or_else(|e| fail(e));
        right.set_remote_description(&offer).unwrap_or_else(|e| fail(e));
        let answer = right.create_answer().unwrap_or_else(|e| fail(e));
        right.set_local_description(&answer).unwrap_or_else(|e| fail(e));
        left.set_remote_description(&answer).unwrap_or_else(|e| fail(e));
        let left = Side {
            rtc: left,
            channel: None,
        };
        let right = Side {
            rtc: right,
            channel: None,
        };
        Net::new([left, right], now)
    }

    /// Negotiated and connected: the channel is open on both sides and
    /// nothing is in flight.
    pub fn connected(certs: &Certificates, now: Instant) -> Net<Side> {
        let mut net = negotiated(certs, now);
        net.open();
        net.settle();
        net
    }
}

// ------------------------------------------------------------------ str0m

pub mod str0m {
    use super::*;
    use ::str0m::change::{SdpAnswer, SdpOffer};
    use ::str0m::channel::ChannelId;
    use ::str0m::config::DtlsCert;
    use ::str0m::crypto::CryptoProvider;
    use ::str0m::net::{Protocol, Receive, Transmit};
    use ::str0m::{Candidate, Event, Input, Output, Rtc};

    /// The crypto provider (str0m's default, aws-lc-rs) and a certificate
    /// for each side, made once.
    pub struct Certificates {
        pub provider: Arc<CryptoProvider>,
        pub certs: [DtlsCert; 2],
    }

    pub fn certificates() -> Certificates {
        let provider = Arc::new(::str0m::crypto::from_feature_flags());
        let make = || {
            provider
                .dtls_provider
                .generate_certificate()
                .unwrap_or_else(|| panic!("str0m certificate"))
        };
        let certs = [make(), make()];
        Certificates { provider, certs }
    }

    /// str0m's default `sctp_max_buffered_amount`.
    pub const DEFAULT_SEND_BUFFER: usize = 128 << 10;

    pub struct Side {
        pub rtc: Rtc,
        /// The data channel, once open on this side.
        pub channel: Option<ChannelId>,
    }

    impl Peer for Side {
        type Datagram = Transmit;

        fn receive(&mut self, now: Instant, d: &mut Transmit) {
            let receive = Receive::new(Protocol::Udp, d.source, d.destination, &d.contents)
                .unwrap_or_else(|e| panic!("str0m datagram: {e}"));
            self.rtc
                .handle_input(Input::Receive(now, receive))
                .unwrap_or_else(|e| panic!("str0m receive: {e}"));
        }

        fn timeout(&mut self, now: Instant) {
            self.rtc
                .handle_input(Input::Timeout(now))
                .unwrap_or_else(|e| panic!("str0m timeout: {e}"));
        }

        fn drain(&mut self, out: &mut VecDeque<Transmit>, seen: &mut Seen) -> Instant {
            loop {
                match self
                    .rtc
                    .poll_output()
                    .unwrap_or_else(|e| panic!("str0m poll: {e}"))
                {
                    Output::Transmit(t) => out.push_back(t),
                    Output::Event(Event::ChannelData(d)) => seen.message(&d.data),
                    Output::Event(Event::ChannelOpen(id, _)) => {
                        self.channel = Some(id);
                        seen.opened = true;
                    }
                    Output::Event(_) => {}
                    Output::Timeout(at) => return at,
                }
            }
        }

        fn try_send(&mut self, message: &[u8]) -> bool {
            let Some(mut channel) = self.channel.and_then(|id| self.rtc.channel(id)) else {
                return false;
            };
            channel
                .write(true, message)
                .unwrap_or_else(|e| panic!("str0m write: {e}"))
        }
    }

    /// Creates both peers with `send_buffer` as their
    /// `sctp_max_buffered_amount`, negotiates (offer and answer as text)
    /// and returns them before any datagram moved.
    pub fn negotiated(certs: &Certificates, now: Instant, send_buffer: usize) -> Net<Side> {
        let new = |i: usize| {
            Rtc::builder()
                .set_crypto_provider(certs.provider.clone())
                .set_dtls_cert(certs.certs[i].clone())
                .set_sctp_max_buffered_amount(send_buffer)
                .set_mtu(MTU..=MTU)
                .build(now)
        };
        let (mut left, mut right) = (new(0), new(1));
        let candidate =
            |s: &str| Candidate::host(addr(s), "udp").unwrap_or_else(|e| panic!("str0m candidate: {e}"));
        left.add_local_candidate(candidate(LEFT));
        right.add_local_candidate(candidate(RIGHT));
        let mut change = left.sdp_api();
        change.add_channel(LABEL.to_owned());
        let (offer, pending) = change.apply().unwrap_or_else(|| panic!("str0m: no offer"));
        let offer =
            SdpOffer::from_sdp_string(&offer.to_sdp_string()).unwrap_or_else(|e| panic!("str0m offer: {e}"));
        let answer = right
            .sdp_api()
            .accept_offer(offer)
            .unwrap_or_else(|e| panic!("str0m accept offer: {e}"));
        let answer = SdpAnswer::from_sdp_string(&answer.to_sdp_string())
            .unwrap_or_else(|e| panic!("str0m answer: {e}"));
        left.sdp_api()
            .accept_answer(pending, answer)
            .unwrap_or_else(|e| panic!("str0m accept answer: {e}"));
        let left = Side {
            rtc: left,
            channel: None,
        };
        let right = Side {
            rtc: right,
            channel: None,
        };
        Net::new([left, right], now)
    }

    /// Negotiated and connected: the channel is open on both sides and
    /// nothing is in flight.
    pub fn connected(certs: &Certificates, now: Instant) -> Net<Side> {
        connected_with_buffer(certs, now, SEND_BUFFER)
    }

    /// [`connected`] with another send buffer (str0m's default is
    /// [`DEFAULT_SEND_BUFFER`]).
    pub fn connected_with_buffer(certs: &Certificates, now: Instant, send_buffer: usize) -> Net<Side> {
        let mut net = negotiated(certs, now, send_buffer);
        net.open();
        net.settle();
        net
    }
}
