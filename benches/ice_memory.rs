//! Heap held by one idle, connected ICE agent: 1,000 pairs of agents are
//! connected in memory, then the heap is measured with dhat and divided.
//!
//! `cargo bench -p rtcwire-benches --bench ice_memory`

use std::time::Instant;

use rtcwire_ice::{Candidate, IceAgent, IceConfig, IceConnectionState, IceRole};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Connects two agents over a perfect in-memory network.
fn connected_pair(i: u32, now: Instant) -> (IceAgent, IceAgent) {
    let config = |seed| IceConfig {
        seed: Some(seed),
        ..IceConfig::default()
    };
    let mut a = IceAgent::new(config(u64::from(i) * 2), IceRole::Controlling);
    let mut b = IceAgent::new(config(u64::from(i) * 2 + 1), IceRole::Controlled);
    let addr = |n: u32, port| std::net::SocketAddr::from(([10, (n >> 8) as u8, n as u8, 1], port));
    let ca = a
        .add_host_candidate(now, addr(i, 5000))
        .unwrap_or_else(|e| panic!("{e}"));
    let cb = b
        .add_host_candidate(now, addr(i, 6000))
        .unwrap_or_else(|e| panic!("{e}"));
    let remote = |c: &Candidate| {
        Candidate::remote(c.kind(), c.address(), c.priority(), c.foundation(), None)
            .unwrap_or_else(|| panic!("candidate"))
    };
    a.set_remote_credentials(now, b.local_credentials().clone())
        .unwrap_or_else(|e| panic!("{e}"));
    b.set_remote_credentials(now, a.local_credentials().clone())
        .unwrap_or_else(|e| panic!("{e}"));
    a.add_remote_candidate(now, remote(&cb))
        .unwrap_or_else(|e| panic!("{e}"));
    b.add_remote_candidate(now, remote(&ca))
        .unwrap_or_else(|e| panic!("{e}"));
    a.end_of_remote_candidates(now);
    b.end_of_remote_candidates(now);
    let mut now = now;
    for _ in 0..10_000 {
        while let Some(t) = a.poll_transmit() {
            b.handle_receive(now, t.source, t.destination, &t.contents);
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_receive(now, t.source, t.destination, &t.contents);
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
        if a.state() == IceConnectionState::Completed && b.state() == IceConnectionState::Completed {
            return (a, b);
        }
        now = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now);
        a.handle_timeout(now);
        b.handle_timeout(now);
    }
    panic!("agents {i} did not complete");
}

fn main() {
    const PAIRS: u32 = 1_000;
    let _profiler = dhat::Profiler::builder().testing().build();
    let now = Instant::now();
    let before = dhat::HeapStats::get().curr_bytes;
    let agents: Vec<(IceAgent, IceAgent)> = (0..PAIRS).map(|i| connected_pair(i, now)).collect();
    let after = dhat::HeapStats::get().curr_bytes;
    let vec_overhead = agents.capacity() * std::mem::size_of::<(IceAgent, IceAgent)>();
    let heap_per_agent = (after - before - vec_overhead) as f64 / f64::from(PAIRS * 2);
    let inline = std::mem::size_of::<IceAgent>();
    println!(
        "idle connected ICE agent (one host candidate each side, consent running): \
         {heap_per_agent:.0} B of heap + {inline} B inline = {:.0} B",
        heap_per_agent + inline as f64
    );
    std::hint::black_box(&agents);
}
