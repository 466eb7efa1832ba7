//! Two peer connections on the simulated network: JSEP, ICE, DTLS, SCTP
//! and data channels end to end, in virtual time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Peer, addr, config, negotiate, peer, run_until};
use rtcwire::{
    ChannelOptions, DtlsTransportState, Event, Input, Output, PeerConnectionState, Receive, Rtc,
    SignalingState, Transmit,
};
use rtcwire_netsim::{LinkConfig, Network, SeedReporter, Sim, seed_from_env_or};

/// Two public hosts, one `Rtc` each, the first with a channel "chat".
fn two_peers(seed: u64, link: LinkConfig) -> (Sim, rtcwire_netsim::EndpointId, rtcwire_netsim::EndpointId) {
    let mut sim = Sim::new(seed);
    let ha = sim.add_host(Network::Internet, [192, 0, 2, 1]).unwrap();
    let hb = sim.add_host(Network::Internet, [192, 0, 2, 2]).unwrap();
    sim.set_link(ha, link).unwrap();
    let now = sim.now();
    let mut a = Rtc::new(config(seed, 0), now).unwrap();
    let mut b = Rtc::new(config(seed + 1, 1), now).unwrap();
    a.add_local_candidate(addr("192.0.2.1:5000")).unwrap();
    b.add_local_candidate(addr("192.0.2.2:6000")).unwrap();
    let pa = sim.add_endpoint(ha, Peer::new(a)).unwrap();
    let pb = sim.add_endpoint(hb, Peer::new(b)).unwrap();
    (sim, pa, pb)
}

#[test]
fn offer_answer_connect_and_chat() {
    let seed = seed_from_env_or(1);
    let _report = SeedReporter::new(seed);
    let (mut sim, pa, pb) = two_peers(seed, LinkConfig::perfect().latency(Duration::from_millis(10)));
    let chat = peer(&mut sim, pa)
        .rtc
        .create_data_channel("chat", ChannelOptions::default())
        .unwrap();
    let start = sim.now();
    negotiate(&mut sim, pa, pb);
    assert_eq!(peer(&mut sim, pa).rtc.signaling_state(), SignalingState::Stable);
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(10), |s| {
        peer(s, pa).has(&Event::ChannelOpen {
            id: chat,
            label: "chat".into(),
            protocol: String::new(),
            remote: false,
        }) && !peer(s, pb).opened().is_empty()
    });
    assert!(ok, "seed {seed}: no channel\n{sim:?}");
    let connected = peer(&mut sim, pa)
        .reached(PeerConnectionState::Connected)
        .unwrap();
    println!(
        "connected in {:?} of virtual time (10 ms one way)",
        connected - start
    );
    assert!(peer(&mut sim, pb).connected());
    assert_eq!(peer(&mut sim, pa).rtc.dtls_state(), DtlsTransportState::Connected);

    let remote_chat = peer(&mut sim, pb).opened()[0].0;
    for i in 0..10 {
        let text = format!("hello {i}");
        peer(&mut sim, pa).rtc.send_text(chat, &text).unwrap();
    }
    peer(&mut sim, pb)
        .rtc
        .send(remote_chat, &[1, 2, 3], true)
        .unwrap();
    peer(&mut sim, pb).rtc.send(remote_chat, &[], true).unwrap();
    peer(&mut sim, pb)
        .rtc
        .send(remote_chat, &[9; 60_000], true)
        .unwrap();
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(5), |s| {
        peer(s, pb).messages(remote_chat).len() == 10 && peer(s, pa).messages(chat).len() == 3
    });
    assert!(ok, "seed {seed}: messages missing");
    let got: Vec<String> = peer(&mut sim, pb)
        .messages(remote_chat)
        .into_iter()
        .map(|(d, binary)| {
            assert!(!binary);
            String::from_utf8(d).unwrap()
        })
        .collect();
    assert_eq!(got, (0..10).map(|i| format!("hello {i}")).collect::<Vec<_>>());
    assert_eq!(
        peer(&mut sim, pa).messages(chat),
        vec![(vec![1, 2, 3], true), (vec![], true), (vec![9; 60_000], true)]
    );

    // The answerer closes; both see the channel closed.
    peer(&mut sim, pb).rtc.close_data_channel(remote_chat).unwrap();
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(5), |s| {
        peer(s, pa).has(&Event::ChannelClosed(chat)) && peer(s, pb).has(&Event::ChannelClosed(remote_chat))
    });
    assert!(ok, "seed {seed}: channel not closed");
    assert!(peer(&mut sim, pa).rtc.send_text(chat, "late").is_err());

    let stats = peer(&mut sim, pa).rtc.stats();
    assert!(stats.dtls_cipher.is_some());
    assert!(stats.selected_pair.is_some());
    assert!(stats.transport.bytes_sent > 0 && stats.transport.bytes_received > 0);

    // Closing the connection reaches the peer through DTLS close_notify.
    peer(&mut sim, pa).rtc.close();
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(5), |s| {
        peer(s, pb).rtc.peer_connection_state() == PeerConnectionState::Closed
    });
    assert!(ok, "seed {seed}: close not seen by the peer");
}

/// Everything `rtc` has to hand out until its timeout (returned), which
/// must come within 10,000 outputs.
fn drain(rtc: &mut Rtc, out: &mut Vec<Transmit>, events: &mut Vec<Event>) -> std::time::Instant {
    for _ in 0..10_000 {
        match rtc.poll_output().unwrap() {
            Output::Transmit(t) => out.push(t),
            Output::Event(e) => events.push(e),
            other @ (Output::Connect(_) | Output::StreamTransmit(_) | Output::Disconnect(_)) => {
                panic!("no TURN server, yet {other:?}")
            }
            Output::Timeout(at) => return at,
        }
    }
    panic!(
        "poll_output never returned Timeout; last events {:?}",
        &events[events.len().saturating_sub(5)..]
    );
}

/// Two `Rtc`s (seeds `sa`, `sb`) at 10.0.0.1:5000 and 10.0.0.2:6000 that
/// exchanged offer (A's, with a channel "chat") and answer, in memory, at
/// the virtual instant returned.
fn negotiated_pair(sim_seed: u64, sa: u64, sb: u64) -> (Rtc, Rtc, rtcwire::ChannelId, std::time::Instant) {
    let now = Sim::new(sim_seed).now();
    let mut a = Rtc::new(config(sa, 0), now).unwrap();
    let mut b = Rtc::new(config(sb, 1), now).unwrap();
    a.add_local_candidate(addr("10.0.0.1:5000")).unwrap();
    b.add_local_candidate(addr("10.0.0.2:6000")).unwrap();
    let chat = a.create_data_channel("chat", ChannelOptions::default()).unwrap();
    let offer = a.create_offer().unwrap();
    a.set_local_description(&offer).unwrap();
    b.set_remote_description(&offer).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(&answer).unwrap();
    a.set_remote_description(&answer).unwrap();
    (a, b, chat, now)
}

/// Two `Rtc`s wired back to back in memory, every datagram delivered at
/// once and time moved only to the next timeout: the handshake finishes,
/// and every drain of `poll_output` ends (nothing loops forever).
#[test]
fn in_memory_connect_drains_finitely() {
    let (mut a, mut b, chat, mut now) = negotiated_pair(1, 1, 2);
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    let mut rounds = 0;
    let open = |events: &[Event]| events.iter().any(|e| matches!(e, Event::ChannelOpen { .. }));
    while !(open(&ea) && open(&eb)) {
        rounds += 1;
        assert!(rounds < 1000, "no channel after 1000 rounds");
        let (mut to_b, mut to_a) = (Vec::new(), Vec::new());
        let ta = drain(&mut a, &mut to_b, &mut ea);
        let tb = drain(&mut b, &mut to_a, &mut eb);
        if to_a.is_empty() && to_b.is_empty() {
            now = now.max(ta.min(tb));
            a.handle_input(Input::Timeout(now)).unwrap();
            b.handle_input(Input::Timeout(now)).unwrap();
        }
        for (rtc, list) in [(&mut b, to_b), (&mut a, to_a)] {
            for t in list {
                let r = Receive {
                    source: t.source,
                    destination: t.destination,
                    contents: &t.contents,
                };
                rtc.handle_input(Input::Receive(now, r)).unwrap();
            }
        }
    }
    assert!(
        ea.iter()
            .any(|e| matches!(e, Event::ChannelOpen { id, .. } if *id == chat))
    );
}

/// The caller's receive buffer decrypted in place
/// (`handle_receive_in_place`), sent buffers given back (`Rtc::recycle`),
/// one side sending shared `Bytes` (`send_bytes`, an empty message too):
/// messages of every size arrive whole and in order both
/// ways, also when some datagrams arrive corrupted (dropped, and SCTP
/// resends).
#[test]
fn in_place_receive_and_recycled_buffers_carry_messages_intact() {
    let (mut a, mut b, chat, mut now) = negotiated_pair(2, 3, 4);
    let message = |i: usize| -> Vec<u8> { (0..(i * 997) % 20_000).map(|k| (k * 31 + i) as u8).collect() };
    let received = |events: &[Event]| -> Vec<Vec<u8>> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::ChannelData(d) => Some(d.data.clone()),
                _ => None,
            })
            .collect()
    };
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    let mut back = None;
    let (mut sent, mut corrupted) = (false, 0);
    for round in 0..20_000 {
        let (mut to_b, mut to_a) = (Vec::new(), Vec::new());
        let ta = drain(&mut a, &mut to_b, &mut ea);
        let tb = drain(&mut b, &mut to_a, &mut eb);
        if back.is_none() {
            back = eb.iter().find_map(|e| match e {
                Event::ChannelOpen { id, .. } => Some(*id),
                _ => None,
            });
        }
        let a_open = ea
            .iter()
            .any(|e| matches!(e, Event::ChannelOpen { id, .. } if *id == chat));
        if let (false, true, Some(back)) = (sent, a_open, back) {
            for i in 0..100 {
                a.send(chat, &message(i), true).unwrap();
                // Shared bytes, queued without a copy.
                b.send_bytes(back, message(i + 100).into(), true).unwrap();
            }
            b.send_bytes(back, rtcwire::Bytes::new(), true).unwrap();
            sent = true;
        }
        if sent && received(&eb).len() == 100 && received(&ea).len() == 101 {
            break;
        }
        assert!(
            round < 19_999,
            "messages missing: {} and {}",
            received(&eb).len(),
            received(&ea).len()
        );
        if to_a.is_empty() && to_b.is_empty() {
            now = now.max(ta.min(tb));
            a.handle_input(Input::Timeout(now)).unwrap();
            b.handle_input(Input::Timeout(now)).unwrap();
        }
        for (to_b_side, list) in [(true, to_b), (false, to_a)] {
            for (k, mut t) in list.into_iter().enumerate() {
                let (to, from) = if to_b_side {
                    (&mut b, &mut a)
                } else {
                    (&mut a, &mut b)
                };
                // Every 13th data-channel datagram loses a ciphertext bit.
                if sent && t.contents.first() == Some(&23) && t.contents.len() > 100 && k % 13 == 5 {
                    t.contents[60] ^= 0x10;
                    corrupted += 1;
                }
                to.handle_receive_in_place(now, t.source, t.destination, &mut t.contents)
                    .unwrap();
                from.recycle(t.contents);
            }
        }
    }
    assert!(corrupted > 0);
    assert_eq!(received(&eb), (0..100).map(message).collect::<Vec<_>>());
    let mut expected: Vec<Vec<u8>> = (100..200).map(message).collect();
    expected.push(Vec::new());
    assert_eq!(received(&ea), expected);
}
