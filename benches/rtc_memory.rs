//! Heap held by one idle peer connection with one open data channel,
//! rtcwire next to str0m: 100 pairs of each are connected in memory (see
//! `rtc_impls.rs`), everything in flight is handed over, then the heap is
//! measured with dhat and divided; once right after the channel opened,
//! and once more (other pairs) after 30 s of idle virtual time with every
//! timer fired (consent checks, keepalives). Offerer and answerer are
//! measured apart: the answerers are dropped first.
//!
//! Certificates are made before measuring; rtcwire shares its certificate
//! through an `Arc`, str0m takes a `DtlsCert` by value (a clone per
//! connection, counted here: it is heap each connection holds).
//!
//! dhat sees Rust's global allocator only: what aws-lc (str0m's crypto, C)
//! allocates with its own `malloc` is not counted, so str0m's figure is a
//! lower bound. Once checked under valgrind (every `malloc` live at exit,
//! 50 pairs held, minus none held): rtcwire's total matched dhat's,
//! str0m's was about 6.4 KB per connection more (37.9 KB of heap).
//!
//! `cargo bench -p rtcwire-benches --bench rtc_memory`

#[path = "rtc_impls.rs"]
mod rtc_impls;

use std::time::{Duration, Instant};

use rtc_impls::{Net, Peer, rtcwire, str0m};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const PAIRS: usize = 100;
/// Idle time for the second figure.
const IDLE: Duration = Duration::from_secs(30);

fn heap() -> i64 {
    dhat::HeapStats::get().curr_bytes as i64
}

/// Heap per offerer and per answerer of `PAIRS` pairs made by `make`, each
/// settled and then idle for `idle`.
fn measure<P: Peer>(make: &dyn Fn(Instant) -> Net<P>, idle: Duration) -> (f64, f64) {
    let now = Instant::now();
    // Warm-up: whatever either stack initialises once per process.
    drop(make(now));
    let mut lefts: Vec<P> = Vec::with_capacity(PAIRS);
    let mut rights: Vec<P> = Vec::with_capacity(PAIRS);
    let before = heap();
    for _ in 0..PAIRS {
        let mut net = make(now);
        if !idle.is_zero() {
            net.idle(idle);
        }
        net.settle();
        let [left, right] = net.into_peers();
        lefts.push(left);
        rights.push(right);
    }
    let both = heap() - before;
    // Drops the answerers, keeping the vector's buffer (allocated before
    // measuring).
    rights.clear();
    let left = heap() - before;
    std::hint::black_box((&lefts, &rights));
    (left as f64 / PAIRS as f64, (both - left) as f64 / PAIRS as f64)
}

fn report<P: Peer>(name: &str, inline: usize, make: &dyn Fn(Instant) -> Net<P>) {
    for (when, idle) in [("just opened", Duration::ZERO), ("after 30 s idle", IDLE)] {
        let (left, right) = measure(make, idle);
        println!(
            "{name:<8} {when:<16} offerer {left:>8.0} B  answerer {right:>8.0} B  \
             mean {:>8.0} B heap (+ {inline} B inline)",
            (left + right) / 2.0
        );
    }
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let rtcwire_certs = rtcwire::certificates();
    let str0m_certs = str0m::certificates();
    println!("Idle peer connection with one open data channel, heap per connection ({PAIRS} pairs each)");
    report("rtcwire", std::mem::size_of::<::rtcwire::Rtc>(), &|now| {
        rtcwire::connected(&rtcwire_certs, now)
    });
    report("str0m", std::mem::size_of::<::str0m::Rtc>(), &|now| {
        str0m::connected(&str0m_certs, now)
    });
}
