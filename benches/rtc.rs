//! Peer connections: two in one process, datagrams handed over in memory,
//! virtual time; rtcwire next to str0m (0.25, its default aws-lc-rs crypto)
//! doing the same work (see `rtc_impls.rs` for what both do).
//!
//! `cargo bench -p rtcwire-benches --bench rtc [-- criterion options]`
//!
//! - `rtc_connect`: both peers made, offer and answer (as SDP text), ICE,
//!   DTLS 1.2, SCTP and DCEP until both sides have the channel open, and
//!   both dropped. Certificates are made once, outside the timed loop.
//! - `rtc_datachannel_16KiB`: 8 MiB per iteration (1 MiB when run as a
//!   test) in 16 KiB binary messages on a reliable ordered channel, left to
//!   right, keeping the 4 MiB send buffer full; counts whole messages the
//!   right side's application received. Connection setup happens once per
//!   stack, outside the timed loop; before timing, one iteration checks
//!   every byte of every message. str0m runs twice: with the same 4 MiB
//!   send buffer, and with its default 128 KiB (`str0m-128KiB-buffer`):
//!   its SCTP (`sctp-proto`) scans the data in flight on every poll, so a
//!   smaller buffer is faster for it. 8 MiB (twice the send buffer) keeps
//!   a run under a minute with str0m at a few MB/s.
//!
//! After criterion's report, prints the medians from this run with their
//! ratio to rtcwire's (str0m time / rtcwire time), and the throughput as
//! MB/s. Heap of an idle connection: the `rtc_memory` benchmark.

#[path = "rtc_impls.rs"]
mod rtc_impls;

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use rtc_impls::{Net, Peer, message, rtcwire, str0m};

const RTCWIRE: &str = "rtcwire";
const STR0M: &str = "str0m";
const STR0M_DEFAULT_BUFFER: &str = "str0m-128KiB-buffer";
const IMPLEMENTATIONS: [&str; 3] = [RTCWIRE, STR0M, STR0M_DEFAULT_BUFFER];

const CONNECT: &str = "rtc_connect";
const DATA: &str = "rtc_datachannel_16KiB";
const MESSAGE_SIZE: usize = 16 << 10;

/// Bytes per throughput iteration: timed runs, and `--test` / `cargo test
/// --benches` (unoptimised).
const BENCH_BYTES: usize = 8 << 20;
const TEST_BYTES: usize = 1 << 20;

fn configure(g: &mut BenchmarkGroup<'_, WallTime>) {
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
}

/// Connects once outside timing to report the virtual time and datagrams
/// it took, then times connecting.
fn bench_connect<P: Peer>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    connected: impl Fn(Instant) -> Net<P>,
) {
    let mut reported = false;
    g.bench_function(name, |b| {
        if !reported {
            let net = connected(Instant::now());
            println!(
                "{name}: connected in {:?} of virtual time, {} datagrams, {} timer moves",
                net.now - net.start,
                net.datagrams,
                net.timer_moves
            );
            reported = true;
        }
        b.iter(|| black_box(connected(Instant::now())));
    });
}

fn bench_throughput<P: Peer>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    mut net: Net<P>,
    bytes: usize,
) {
    let count = (bytes / MESSAGE_SIZE) as u64;
    let mut template = message(MESSAGE_SIZE);
    let (mut verified, mut timed, mut timed_timers) = (false, 0u64, 0u64);
    g.bench_function(name, |b| {
        if !verified {
            net.seen[1].expect_size = Some(MESSAGE_SIZE);
            net.seen[1].expect_pattern = Some(template.clone());
            let (start, timers) = (net.now, net.timer_moves);
            net.transfer(&mut template, count);
            println!(
                "{name}: {count} messages of {MESSAGE_SIZE} B checked; {:?} of virtual time, \
                 the virtual clock moved {} times",
                net.now - start,
                net.timer_moves - timers
            );
            net.seen[1].expect_pattern = None;
            verified = true;
        }
        b.iter_custom(|iterations| {
            let timers = net.timer_moves;
            let start = Instant::now();
            for _ in 0..iterations {
                net.transfer(&mut template, count);
            }
            let elapsed = start.elapsed();
            timed += iterations;
            timed_timers += net.timer_moves - timers;
            elapsed
        })
    });
    if timed > 0 {
        println!("{name}: the virtual clock moved {timed_timers} times in {timed} timed iterations");
    }
}

fn bench_all(c: &mut Criterion, bytes: usize) {
    let rtcwire_certs = rtcwire::certificates();
    let str0m_certs = str0m::certificates();

    let mut g = c.benchmark_group(CONNECT);
    configure(&mut g);
    bench_connect(&mut g, RTCWIRE, |now| rtcwire::connected(&rtcwire_certs, now));
    bench_connect(&mut g, STR0M, |now| str0m::connected(&str0m_certs, now));
    g.finish();

    let mut g = c.benchmark_group(DATA);
    configure(&mut g);
    g.throughput(Throughput::Bytes(bytes as u64));
    bench_throughput(
        &mut g,
        RTCWIRE,
        rtcwire::connected(&rtcwire_certs, Instant::now()),
        bytes,
    );
    bench_throughput(
        &mut g,
        STR0M,
        str0m::connected(&str0m_certs, Instant::now()),
        bytes,
    );
    let net = str0m::connected_with_buffer(&str0m_certs, Instant::now(), str0m::DEFAULT_SEND_BUFFER);
    bench_throughput(&mut g, STR0M_DEFAULT_BUFFER, net, bytes);
    g.finish();
}

/// The throughput medians of this run as MB/s (10^6 bytes per second).
fn print_throughput(dir: &std::path::Path, since: SystemTime, bytes: usize) {
    let medians: Vec<(&str, f64)> = IMPLEMENTATIONS
        .iter()
        .filter_map(|name| rtcwire_benches::median_ns(dir, DATA, name, since).map(|ns| (*name, ns)))
        .collect();
    if medians.is_empty() {
        return;
    }
    println!();
    println!("The data channel medians as throughput");
    println!("{:<28} {:<24} {:>10}", "work", "implementation", "MB/s");
    for (name, ns) in medians {
        let mb_s = bytes as f64 / ns * 1e3;
        println!("{:<28} {name:<24} {mb_s:>10.1}", "16 KiB messages");
    }
}

fn main() {
    let started = SystemTime::now();
    let dir = rtcwire_benches::criterion_dir();
    // Criterion's own rule: without `--bench` (cargo test), or with
    // `--test`, each benchmark runs once as a test.
    let args: Vec<String> = std::env::args().collect();
    let testing = args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench");
    let bytes = if testing { TEST_BYTES } else { BENCH_BYTES };
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    bench_all(&mut c, bytes);
    c.final_summary();
    rtcwire_benches::print_ratios(
        &dir,
        started,
        "Peer connections, two in one process, in memory, virtual time",
        &[
            (CONNECT, "connect, channel open"),
            (DATA, "16 KiB messages, 8 MiB"),
        ],
        &IMPLEMENTATIONS,
    );
    print_throughput(&dir, started, bytes);
}
