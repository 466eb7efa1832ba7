//! SCTP: reliable ordered messages from one association to another in the
//! same process, no loss, packets handed over in memory; rtcwire-sctp next
//! to `sctp-proto` (the sans-IO SCTP that str0m's data channels use).
//!
//! `cargo bench -p rtcwire-benches --bench sctp [-- criterion options]`
//!
//! Each iteration moves 4 MiB of messages of one size from client to
//! server (512 KiB when run as a test) and counts only whole messages the
//! server's application received. Both stacks do the same work:
//! - packets of at most 1200 bytes (rtcwire's default MTU; `sctp-proto` is
//!   given the same DATA payload size, 1172 bytes);
//! - a 1 MiB receive window (both stacks' default) and 256 KiB messages
//!   allowed;
//! - a 1 MiB send buffer, a receive window's worth (rtcwire's default is
//!   4 MiB): the application queues messages until the stack refuses
//!   (rtcwire's `SendBufferFull`; `sctp-proto` has no limit of its own, so
//!   the bench stops writing when the stream's buffered amount would pass
//!   it), hands packets over, and refills as SACKs free room;
//! - after each datagram a side handles, the application takes every whole
//!   message out as one contiguous buffer;
//! - two event loops, each its own group ([`Polling`]): the owner asks a
//!   side for its packets after every datagram it handed in, or once after
//!   a whole batch (what was queued for that side). The work is the same;
//!   the second is the best case for a stack whose poll scans its
//!   in-flight data;
//! - a virtual clock that moves only when no packet is left to hand over,
//!   to the earliest timer either side has armed (a delayed SACK, say);
//!   how often that happens is printed, since on a real clock each such
//!   wait would cost wall time the benchmark does not see.
//!
//! Connection setup happens once per stack and size, outside the timed
//! loop; before timing, one iteration checks every byte of every message.
//! After criterion's report, prints the medians from this run with their
//! ratio to rtcwire's, and each median as MB/s.

use std::collections::VecDeque;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use rtcwire_sctp::{Association, SctpConfig, SctpEvent};
use sctp_proto::{
    AssociationHandle, ClientConfig, DatagramEvent, Endpoint, EndpointConfig, Event, Payload,
    PayloadProtocolIdentifier, ServerConfig, TransportConfig,
};

/// Message sizes and how group names and labels call them.
const SIZES: [(usize, &str); 4] = [
    (1 << 10, "1KiB"),
    (16 << 10, "16KiB"),
    (64 << 10, "64KiB"),
    (256 << 10, "256KiB"),
];
const RTCWIRE: &str = "rtcwire";
const SCTP_PROTO: &str = "sctp-proto";
const IMPLEMENTATIONS: [&str; 2] = [RTCWIRE, SCTP_PROTO];

/// How much one iteration moves, and the send buffer it goes through.
#[derive(Debug, Clone, Copy)]
struct Scale {
    bytes_per_iteration: usize,
    send_buffer: usize,
}

/// Timed runs.
const BENCH: Scale = Scale {
    bytes_per_iteration: 4 << 20,
    send_buffer: 1 << 20,
};
/// `--test`, and `cargo test --benches` (unoptimised): less data, still
/// through a send buffer it fills.
const TEST: Scale = Scale {
    bytes_per_iteration: 512 << 10,
    send_buffer: 256 << 10,
};

/// Largest packet either stack writes.
const MTU: usize = 1200;
/// SCTP common header plus DATA chunk header.
const DATA_OVERHEAD: usize = 12 + 16;
/// Receive window of both stacks (both default to 1 MiB).
const RECEIVE_WINDOW: u32 = 1 << 20;
/// Largest message: the largest size measured (at most the send buffer).
const MAX_MESSAGE: usize = 256 << 10;
/// The stream messages go on, and the WebRTC binary PPID.
const STREAM: u16 = 1;
const PPID_BINARY: u32 = 53;

/// When the owner's event loop asks a side for the packets it wants sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Polling {
    /// After every datagram handed in: a loop that alternates handling one
    /// received datagram and draining the output, as sans-IO owners reading
    /// a socket do.
    PerDatagram,
    /// Once after every datagram queued for that side was handed in (a
    /// batch of received datagrams, as with `recvmmsg`).
    PerBatch,
}

impl Polling {
    const ALL: [Polling; 2] = [Polling::PerDatagram, Polling::PerBatch];

    fn group(self, size: &str) -> String {
        match self {
            Polling::PerDatagram => format!("sctp_{size}_poll_per_datagram"),
            Polling::PerBatch => format!("sctp_{size}_poll_per_batch"),
        }
    }

    fn label(self, size: &str) -> String {
        match self {
            Polling::PerDatagram => format!("{size}, poll per datagram"),
            Polling::PerBatch => format!("{size}, poll per batch"),
        }
    }
}

/// A connected client and server; the client sends, the server receives.
trait Pair {
    /// Queues one message on the client; false when its send buffer is full.
    fn try_send(&mut self, message: &[u8]) -> bool;
    /// Hands every packet the client has queued to the server, then every
    /// packet the server queued meanwhile to the client, one datagram at a
    /// time, asking for output as [`Polling`] says; `deliver` sees each
    /// whole message the server received. False when no packet moved.
    fn exchange(&mut self, deliver: &mut dyn FnMut(&[u8])) -> bool;
    /// Moves the virtual clock to the earliest armed timer of either side
    /// and runs it; false when no timer is armed.
    fn fire_timer(&mut self) -> bool;
}

/// A message of `size` bytes in a fixed pattern; [`stamp`] writes its
/// sequence number (little endian) over the first 8.
fn message(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i.wrapping_mul(7) + 13) as u8).collect()
}

fn stamp(message: &mut [u8], seq: u64) {
    message[..8].copy_from_slice(&seq.to_le_bytes());
}

fn sequence(message: &[u8]) -> u64 {
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&message[..8]);
    u64::from_le_bytes(seq)
}

/// Sends `count` messages and runs the exchange until all were delivered;
/// `check` sees each delivered message with the sequence number it must
/// carry. Returns how often the virtual clock had to move.
fn transfer(pair: &mut dyn Pair, message: &mut [u8], count: u64, check: &mut dyn FnMut(u64, &[u8])) -> u64 {
    let (mut sent, mut delivered, mut timers) = (0u64, 0u64, 0u64);
    while delivered < count {
        while sent < count {
            stamp(message, sent);
            if !pair.try_send(message) {
                break;
            }
            sent += 1;
        }
        let moved = pair.exchange(&mut |m| {
            check(delivered, m);
            delivered += 1;
        });
        if !moved && delivered < count {
            assert!(
                pair.fire_timer(),
                "stalled: {sent} sent, {delivered} of {count} delivered, no packet and no timer"
            );
            timers += 1;
        }
    }
    timers
}

/// The cheap check inside the timed loop: length and order.
fn check_quick(size: usize) -> impl FnMut(u64, &[u8]) {
    move |seq, m| {
        assert_eq!(m.len(), size, "message {seq}: length");
        assert_eq!(sequence(m), seq, "message {seq}: out of order or lost");
        black_box(m);
    }
}

// ---------------------------------------------------------------- rtcwire

/// rtcwire writes its packets while it handles input or a send, and
/// `poll_transmit` only takes them from a queue: both [`Polling`] loops do
/// the same calls.
struct Rtcwire {
    client: Association,
    server: Association,
    now: Instant,
    /// Which sides reported `Connected`: client, server.
    connected: [bool; 2],
}

impl Rtcwire {
    fn connected(send_buffer: usize) -> Rtcwire {
        let config = |seed| SctpConfig {
            seed: Some(seed),
            mtu: MTU,
            receive_window: RECEIVE_WINDOW,
            send_buffer,
            max_message_size: MAX_MESSAGE,
            ..SctpConfig::default()
        };
        let mut pair = Rtcwire {
            client: Association::new(config(1)),
            server: Association::new(config(2)),
            now: Instant::now(),
            connected: [false; 2],
        };
        pair.client.connect(pair.now);
        for _ in 0..8 {
            pair.exchange(&mut |m| panic!("rtcwire: a message of {} B while connecting", m.len()));
        }
        assert_eq!(pair.connected, [true; 2], "rtcwire: no association");
        pair
    }
}

impl Pair for Rtcwire {
    fn try_send(&mut self, message: &[u8]) -> bool {
        match self.client.send(self.now, STREAM, PPID_BINARY, message, false) {
            Ok(()) => true,
            Err(rtcwire_sctp::Error::SendBufferFull) => false,
            Err(e) => panic!("rtcwire send: {e}"),
        }
    }

    fn exchange(&mut self, deliver: &mut dyn FnMut(&[u8])) -> bool {
        let mut moved = false;
        while let Some(packet) = self.client.poll_transmit() {
            moved = true;
            self.server.handle_receive(self.now, &packet);
            while let Some(event) = self.server.poll_event() {
                match event {
                    SctpEvent::Message(m) => deliver(&m.data),
                    SctpEvent::Connected => self.connected[1] = true,
                    other => panic!("rtcwire server: unexpected {other:?}"),
                }
            }
        }
        while let Some(packet) = self.server.poll_transmit() {
            moved = true;
            self.client.handle_receive(self.now, &packet);
            while let Some(event) = self.client.poll_event() {
                match event {
                    SctpEvent::Connected => self.connected[0] = true,
                    other => panic!("rtcwire client: unexpected {other:?}"),
                }
            }
        }
        moved
    }

    fn fire_timer(&mut self) -> bool {
        let Some(at) = [self.client.poll_timeout(), self.server.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
        else {
            return false;
        };
        self.now = self.now.max(at);
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        true
    }
}

// ------------------------------------------------------------- sctp-proto

/// One `sctp-proto` side: its endpoint, its association and its address.
struct ProtoSide {
    endpoint: Endpoint,
    handle: AssociationHandle,
    association: sctp_proto::Association,
    address: SocketAddr,
    connected: bool,
}

impl ProtoSide {
    /// Hands one datagram from `from` to this side.
    fn receive(&mut self, now: Instant, from: SocketAddr, packet: Bytes) {
        match self.endpoint.handle(now, from, None, None, packet) {
            Some((handle, DatagramEvent::AssociationEvent(event))) if handle == self.handle => {
                self.association.handle_event(event);
            }
            Some((_, DatagramEvent::AssociationEvent(_))) => panic!("sctp-proto: a second association"),
            Some((_, DatagramEvent::NewAssociation(_))) => panic!("sctp-proto: a new association"),
            None => {}
        }
        while let Some(event) = self.association.poll_endpoint_event() {
            if let Some(event) = self.endpoint.handle_event(self.handle, event) {
                self.association.handle_event(event);
            }
        }
    }

    /// Everything this side wants to send now, one packet per entry.
    fn transmit(&mut self, now: Instant, out: &mut VecDeque<Bytes>) {
        while let Some(t) = self.endpoint.poll_transmit() {
            if let Payload::RawEncode(packets) = t.payload {
                out.extend(packets);
            }
        }
        while let Some(t) = self.association.poll_transmit(now) {
            if let Payload::RawEncode(packets) = t.payload {
                out.extend(packets);
            }
        }
    }

    /// Reads every whole message waiting on the stream into an owned,
    /// contiguous buffer, as an application receives it.
    fn read(&mut self, deliver: &mut dyn FnMut(&[u8])) {
        while let Some(event) = self.association.poll() {
            match event {
                Event::Connected => self.connected = true,
                Event::HandshakeFailed { reason } | Event::AssociationLost { reason } => {
                    panic!("sctp-proto: {reason}")
                }
                // Readable: read below, whatever the events say.
                _ => {}
            }
        }
        let Ok(mut stream) = self.association.stream(STREAM) else {
            return;
        };
        while let Some(chunks) = stream
            .read_sctp()
            .unwrap_or_else(|e| panic!("sctp-proto read: {e}"))
        {
            let mut data = vec![0u8; chunks.len()];
            let n = chunks
                .read(&mut data)
                .unwrap_or_else(|e| panic!("sctp-proto read: {e}"));
            deliver(&data[..n]);
        }
    }
}

struct SctpProto {
    client: ProtoSide,
    server: ProtoSide,
    polling: Polling,
    send_buffer: usize,
    now: Instant,
    to_server: VecDeque<Bytes>,
    to_client: VecDeque<Bytes>,
}

impl SctpProto {
    fn connected(polling: Polling, send_buffer: usize) -> SctpProto {
        let transport = || {
            Arc::new(
                TransportConfig::default()
                    .with_max_receive_buffer_size(RECEIVE_WINDOW)
                    .with_max_send_message_size(MAX_MESSAGE as u32)
                    .with_max_receive_message_size(MAX_MESSAGE as u32),
            )
        };
        let mut endpoint_config = EndpointConfig::new();
        endpoint_config.max_payload_size((MTU - DATA_OVERHEAD) as u32);
        let endpoint_config = Arc::new(endpoint_config);
        let mut server_config = ServerConfig::new();
        server_config.transport = transport();
        let mut client_config = ClientConfig::new();
        client_config.transport = transport();
        let client_address: SocketAddr = ([192, 0, 2, 1], 5000).into();
        let server_address: SocketAddr = ([192, 0, 2, 2], 5000).into();
        let mut client_endpoint = Endpoint::new(endpoint_config.clone(), None);
        let mut server_endpoint = Endpoint::new(endpoint_config, Some(Arc::new(server_config)));
        let (client_handle, client_association) = client_endpoint
            .connect(client_config, server_address)
            .unwrap_or_else(|e| panic!("sctp-proto connect: {e}"));
        let mut client = ProtoSide {
            endpoint: client_endpoint,
            handle: client_handle,
            association: client_association,
            address: client_address,
            connected: false,
        };
        let now = Instant::now();

        // The handshake: the server's association appears with the INIT.
        let mut to_server = VecDeque::new();
        client.transmit(now, &mut to_server);
        let init = to_server
            .pop_front()
            .unwrap_or_else(|| panic!("sctp-proto: no INIT"));
        let (server_handle, server_association) =
            match server_endpoint.handle(now, client_address, None, None, init) {
                Some((handle, DatagramEvent::NewAssociation(association))) => (handle, association),
                _ => panic!("sctp-proto: INIT made no association"),
            };
        let server = ProtoSide {
            endpoint: server_endpoint,
            handle: server_handle,
            association: server_association,
            address: server_address,
            connected: false,
        };
        let mut pair = SctpProto {
            client,
            server,
            polling,
            send_buffer,
            now,
            to_server,
            to_client: VecDeque::new(),
        };
        pair.server.transmit(now, &mut pair.to_client);
        for _ in 0..8 {
            pair.exchange(&mut |m| panic!("sctp-proto: a message of {} B while connecting", m.len()));
        }
        assert!(
            pair.client.connected && pair.server.connected,
            "sctp-proto: no association"
        );

        // The stream: opened by the client's first message (as a data
        // channel's DCEP OPEN would), accepted by the server.
        pair.client
            .association
            .open_stream(STREAM, PayloadProtocolIdentifier::Binary)
            .unwrap_or_else(|e| panic!("sctp-proto open_stream: {e}"));
        let mut opened = 0;
        assert!(pair.try_send(b"open"));
        for _ in 0..8 {
            pair.exchange(&mut |m| {
                assert_eq!(m, b"open");
                opened += 1;
            });
            if pair.server.association.accept_stream().is_some() {
                pair.exchange(&mut |m| {
                    assert_eq!(m, b"open");
                    opened += 1;
                });
            }
        }
        assert_eq!(opened, 1, "sctp-proto: the first message");
        pair
    }
}

impl Pair for SctpProto {
    fn try_send(&mut self, message: &[u8]) -> bool {
        let mut stream = self
            .client
            .association
            .stream(STREAM)
            .unwrap_or_else(|e| panic!("sctp-proto stream: {e}"));
        let buffered = stream
            .buffered_amount()
            .unwrap_or_else(|e| panic!("sctp-proto buffered_amount: {e}"));
        if buffered + message.len() > self.send_buffer {
            return false;
        }
        stream
            .write_with_ppi(message, PayloadProtocolIdentifier::Binary)
            .unwrap_or_else(|e| panic!("sctp-proto write: {e}"));
        true
    }

    fn exchange(&mut self, deliver: &mut dyn FnMut(&[u8])) -> bool {
        let now = self.now;
        self.client.transmit(now, &mut self.to_server);
        let mut moved = false;
        while let Some(packet) = self.to_server.pop_front() {
            moved = true;
            self.server.receive(now, self.client.address, packet);
            self.server.read(deliver);
            if self.polling == Polling::PerDatagram {
                self.server.transmit(now, &mut self.to_client);
            }
        }
        if self.polling == Polling::PerBatch {
            self.server.transmit(now, &mut self.to_client);
        }
        while let Some(packet) = self.to_client.pop_front() {
            moved = true;
            self.client.receive(now, self.server.address, packet);
            self.client
                .read(&mut |m| panic!("sctp-proto client: unexpected message of {} B", m.len()));
            if self.polling == Polling::PerDatagram {
                self.client.transmit(now, &mut self.to_server);
            }
        }
        if self.polling == Polling::PerBatch {
            self.client.transmit(now, &mut self.to_server);
        }
        moved
    }

    fn fire_timer(&mut self) -> bool {
        let Some(at) = [
            self.client.association.poll_timeout(),
            self.server.association.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min() else {
            return false;
        };
        self.now = self.now.max(at);
        self.client.association.handle_timeout(self.now);
        self.server.association.handle_timeout(self.now);
        true
    }
}

// ------------------------------------------------------------- benchmark

/// Times iterations on one pair; before the first, checks every byte of
/// every message of one iteration (only when criterion selected this
/// benchmark).
fn bench_stack(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    pair: &mut dyn Pair,
    size: usize,
    scale: Scale,
) {
    let count = (scale.bytes_per_iteration / size) as u64;
    let mut template = message(size);
    let pattern = template.clone();
    let mut check = check_quick(size);
    let (mut verified, mut timed, mut timed_timers) = (false, 0u64, 0u64);
    g.bench_function(name, |b| {
        if !verified {
            let timers = transfer(pair, &mut template, count, &mut |seq, m| {
                assert_eq!(m.len(), size, "{name}: message {seq}: length");
                assert_eq!(sequence(m), seq, "{name}: message {seq}: out of order or lost");
                assert!(m[8..] == pattern[8..], "{name}: message {seq}: content");
            });
            println!("{name}, {size} B messages: {count} checked; the virtual clock moved {timers} times");
            verified = true;
        }
        b.iter_custom(|iterations| {
            let start = Instant::now();
            for _ in 0..iterations {
                timed_timers += transfer(pair, &mut template, count, &mut check);
            }
            let elapsed = start.elapsed();
            timed += iterations;
            elapsed
        })
    });
    if timed_timers > 0 {
        println!(
            "{name}, {size} B messages: the virtual clock moved {timed_timers} times in {timed} timed iterations"
        );
    }
}

/// Every group this benchmark has: (size, polling, group, label).
fn groups() -> Vec<(usize, Polling, String, String)> {
    Polling::ALL
        .into_iter()
        .flat_map(|polling| {
            SIZES
                .into_iter()
                .map(move |(size, name)| (size, polling, polling.group(name), polling.label(name)))
        })
        .collect()
}

fn bench_all(c: &mut Criterion, scale: Scale) {
    for (size, polling, group, _) in groups() {
        let mut g = c.benchmark_group(&group);
        g.throughput(Throughput::Bytes(scale.bytes_per_iteration as u64));
        g.sample_size(10);
        g.warm_up_time(Duration::from_secs(1));
        g.measurement_time(Duration::from_secs(3));
        let mut rtcwire = Rtcwire::connected(scale.send_buffer);
        bench_stack(&mut g, RTCWIRE, &mut rtcwire, size, scale);
        let mut sctp_proto = SctpProto::connected(polling, scale.send_buffer);
        bench_stack(&mut g, SCTP_PROTO, &mut sctp_proto, size, scale);
        g.finish();
    }
}

/// Each median of this run as MB/s (10^6 bytes per second).
fn print_throughput(dir: &std::path::Path, since: SystemTime, groups: &[(&str, &str)], scale: Scale) {
    let mut lines = Vec::new();
    for (group, label) in groups {
        for name in IMPLEMENTATIONS {
            if let Some(ns) = rtcwire_benches::median_ns(dir, group, name, since) {
                let mb_s = scale.bytes_per_iteration as f64 / ns * 1e3;
                lines.push(format!("{label:<28} {name:<24} {mb_s:>10.1}"));
            }
        }
    }
    if lines.is_empty() {
        return;
    }
    println!();
    println!("The same medians as throughput");
    println!("{:<28} {:<24} {:>10}", "work", "implementation", "MB/s");
    for line in lines {
        println!("{line}");
    }
}

fn main() {
    let started = SystemTime::now();
    let dir = rtcwire_benches::criterion_dir();
    // Criterion's own rule: without `--bench` (cargo test), or with
    // `--test`, each benchmark runs once as a test.
    let args: Vec<String> = std::env::args().collect();
    let testing = args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench");
    let scale = if testing { TEST } else { BENCH };
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    bench_all(&mut c, scale);
    c.final_summary();
    let groups = groups();
    let groups: Vec<(&str, &str)> = groups
        .iter()
        .map(|(_, _, g, l)| (g.as_str(), l.as_str()))
        .collect();
    rtcwire_benches::print_ratios(
        &dir,
        started,
        "SCTP, reliable ordered messages, 4 MiB per iteration, in memory",
        &groups,
        &IMPLEMENTATIONS,
    );
    print_throughput(&dir, started, &groups, scale);
}
