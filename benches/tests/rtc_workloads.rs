//! The `rtc` and `rtc_memory` benchmarks' workloads, once each and small,
//! for both stacks: connecting until the channel is open on both sides,
//! moving checked messages, and idling with every timer fired.

#[path = "../rtc_impls.rs"]
mod rtc_impls;

use std::time::{Duration, Instant};

use rtc_impls::{Net, Peer, message, rtcwire, str0m};

/// Connected, 64 checked messages of 16 KiB (more than the window, less
/// than the send buffer) then 300 (more than the send buffer), and 30 s
/// idle.
fn exercise<P: Peer>(name: &str, mut net: Net<P>) {
    assert!(
        net.seen[0].opened && net.seen[1].opened,
        "{name}: channel not open"
    );
    println!(
        "{name}: connected in {:?} of virtual time, {} datagrams",
        net.now - net.start,
        net.datagrams
    );
    let size = 16 << 10;
    let mut template = message(size);
    net.seen[1].expect_size = Some(size);
    net.seen[1].expect_pattern = Some(template.clone());
    net.transfer(&mut template, 64);
    net.transfer(&mut template, 300);
    assert_eq!(net.seen[1].messages, 364, "{name}");
    assert_eq!(net.seen[1].bytes, 364 * size as u64, "{name}");
    assert_eq!(net.seen[0].messages, 0, "{name}: the offerer got messages");
    net.idle(Duration::from_secs(30));
    net.settle();
    net.transfer(&mut template, 1);
    assert_eq!(net.seen[1].messages, 365, "{name}: after idling");
}

#[test]
fn rtcwire_connects_moves_messages_and_idles() {
    let certs = rtcwire::certificates();
    exercise("rtcwire", rtcwire::connected(&certs, Instant::now()));
}

#[test]
fn str0m_connects_moves_messages_and_idles() {
    let certs = str0m::certificates();
    exercise("str0m", str0m::connected(&certs, Instant::now()));
}
