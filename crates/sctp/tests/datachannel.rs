//! Data channels (RFC 8831, DCEP RFC 8832) between two associations in
//! memory: opening both ways, negotiated channels, text, binary and empty
//! messages, closing by stream reset from either side, a thousand channels,
//! buffered-amount events and a 1 MiB message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use rtcwire_sctp::{
    Association, ChannelEvent, ChannelOptions, ChannelState, DataChannels, Error, SctpConfig,
};

fn config(seed: u64) -> SctpConfig {
    SctpConfig {
        seed: Some(seed),
        // Heartbeats would keep the in-memory pumps busy forever; the
        // heartbeat test turns them on.
        heartbeat_interval: None,
        ..SctpConfig::default()
    }
}

/// Moves packets both ways and runs timers until both sides are quiet;
/// returns the events each side reported.
fn pump(
    a: &mut DataChannels,
    b: &mut DataChannels,
    now: &mut Instant,
) -> (Vec<ChannelEvent>, Vec<ChannelEvent>) {
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    for _ in 0..100_000 {
        let mut moved = false;
        while let Some(p) = a.poll_transmit() {
            b.handle_receive(*now, &p);
            moved = true;
        }
        while let Some(p) = b.poll_transmit() {
            a.handle_receive(*now, &p);
            moved = true;
        }
        ea.extend(std::iter::from_fn(|| a.poll_event()));
        eb.extend(std::iter::from_fn(|| b.poll_event()));
        if moved {
            continue;
        }
        let Some(t) = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min() else {
            break;
        };
        *now = (*now).max(t);
        a.handle_timeout(*now);
        b.handle_timeout(*now);
    }
    (ea, eb)
}

fn connected(config_a: SctpConfig, config_b: SctpConfig, now: &mut Instant) -> (DataChannels, DataChannels) {
    let mut a = DataChannels::new(Association::new(config_a), true);
    let mut b = DataChannels::new(Association::new(config_b), false);
    a.association_mut().connect(*now);
    let (ea, eb) = pump(&mut a, &mut b, now);
    assert_eq!(ea, vec![ChannelEvent::Connected]);
    assert_eq!(eb, vec![ChannelEvent::Connected]);
    (a, b)
}

fn messages(events: &[ChannelEvent]) -> Vec<(u16, Vec<u8>, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            ChannelEvent::Message { id, data, binary } => Some((*id, data.clone(), *binary)),
            _ => None,
        })
        .collect()
}

#[test]
fn channels_open_both_ways_and_carry_text_binary_and_empty_messages() {
    let mut now = Instant::now();
    let (mut a, mut b) = connected(config(1), config(2), &mut now);
    let ca = a.create(now, "chat", ChannelOptions::default()).unwrap();
    let cb = b
        .create(
            now,
            "from-b",
            ChannelOptions {
                protocol: "json".into(),
                ..ChannelOptions::default()
            },
        )
        .unwrap();
    assert_eq!((ca % 2, cb % 2), (0, 1), "DTLS client even, server odd");
    assert_eq!(a.state(ca), Some(ChannelState::Connecting));
    // Sent before the ACK: still delivered, after the OPEN.
    a.send(now, ca, b"early", false).unwrap();
    let (ea, eb) = pump(&mut a, &mut b, &mut now);
    assert!(ea.contains(&ChannelEvent::Open {
        id: ca,
        label: "chat".into(),
        protocol: String::new(),
        remote: false
    }));
    assert!(ea.contains(&ChannelEvent::Open {
        id: cb,
        label: "from-b".into(),
        protocol: "json".into(),
        remote: true
    }));
    assert!(eb.contains(&ChannelEvent::Open {
        id: ca,
        label: "chat".into(),
        protocol: String::new(),
        remote: true
    }));
    assert_eq!(messages(&eb), vec![(ca, b"early".to_vec(), false)]);
    assert_eq!(a.state(ca), Some(ChannelState::Open));
    assert_eq!(b.state(ca), Some(ChannelState::Open));

    let big: Vec<u8> = (0..65_536u32).map(|i| (i * 7) as u8).collect();
    for (data, binary) in [
        (&b""[..], false),
        (&b""[..], true),
        (&b"x"[..], false),
        (&[0u8, 255][..], true),
        (&big[..], true),
    ] {
        b.send(now, ca, data, binary).unwrap();
    }
    let (ea, _) = pump(&mut a, &mut b, &mut now);
    assert_eq!(
        messages(&ea),
        vec![
            (ca, vec![], false),
            (ca, vec![], true),
            (ca, b"x".to_vec(), false),
            (ca, vec![0, 255], true),
            (ca, big, true),
        ]
    );
}

#[test]
fn negotiated_channels_need_no_handshake() {
    let mut now = Instant::now();
    let (mut a, mut b) = connected(config(1), config(2), &mut now);
    let options = ChannelOptions {
        negotiated: Some(42),
        ordered: false,
        max_retransmits: Some(0),
        ..ChannelOptions::default()
    };
    assert_eq!(a.create(now, "fixed", options.clone()).unwrap(), 42);
    assert_eq!(b.create(now, "fixed", options.clone()).unwrap(), 42);
    assert_eq!(a.create(now, "again", options), Err(Error::ChannelIdInUse));
    assert_eq!(a.state(42), Some(ChannelState::Open));
    a.send(now, 42, b"no dcep", false).unwrap();
    let (_, eb) = pump(&mut a, &mut b, &mut now);
    assert_eq!(messages(&eb), vec![(42, b"no dcep".to_vec(), false)]);
}

#[test]
fn closing_from_either_side_resets_both_directions() {
    let mut now = Instant::now();
    let (mut a, mut b) = connected(config(1), config(2), &mut now);
    let one = a.create(now, "one", ChannelOptions::default()).unwrap();
    let two = b.create(now, "two", ChannelOptions::default()).unwrap();
    pump(&mut a, &mut b, &mut now);

    a.send(now, one, b"last words", false).unwrap();
    a.close(now, one).unwrap();
    assert_eq!(a.send(now, one, b"too late", false), Err(Error::ChannelNotOpen));
    let (ea, eb) = pump(&mut a, &mut b, &mut now);
    assert_eq!(messages(&eb), vec![(one, b"last words".to_vec(), false)]);
    for events in [&ea, &eb] {
        let closing = events.iter().position(|e| *e == ChannelEvent::Closing(one));
        let closed = events.iter().position(|e| *e == ChannelEvent::Closed(one));
        assert!(closing.is_some() && closing < closed, "{events:?}");
    }
    assert_eq!(a.state(one), None);
    assert_eq!(b.state(one), None);

    // The closing side is the other one this time, for a channel the
    // peer opened.
    a.close(now, two).unwrap();
    let (ea, eb) = pump(&mut a, &mut b, &mut now);
    assert!(ea.contains(&ChannelEvent::Closed(two)) && eb.contains(&ChannelEvent::Closed(two)));
    // The id is free again, and the new channel starts at SSN 0 on a stream
    // both sides reset.
    let again = a.create(now, "again", ChannelOptions::default()).unwrap();
    assert_eq!(again, one);
    a.send(now, again, b"fresh", false).unwrap();
    let (_, eb) = pump(&mut a, &mut b, &mut now);
    assert_eq!(messages(&eb), vec![(again, b"fresh".to_vec(), false)]);
}

#[test]
fn a_thousand_channels_open_and_close() {
    let mut now = Instant::now();
    let (mut a, mut b) = connected(config(1), config(2), &mut now);
    let ids: Vec<u16> = (0..1000)
        .map(|n| {
            a.create(now, &format!("c{n}"), ChannelOptions::default())
                .unwrap()
        })
        .collect();
    for &id in &ids {
        a.send(now, id, &id.to_be_bytes(), true).unwrap();
    }
    let (ea, eb) = pump(&mut a, &mut b, &mut now);
    let opened = |events: &[ChannelEvent]| {
        events
            .iter()
            .filter(|e| matches!(e, ChannelEvent::Open { .. }))
            .count()
    };
    assert_eq!((opened(&ea), opened(&eb)), (1000, 1000));
    let got = messages(&eb);
    assert_eq!(got.len(), 1000);
    assert!(got.iter().all(|(id, data, _)| data == &id.to_be_bytes()));
    // Half closed by each side.
    for &id in &ids {
        if id % 4 == 0 {
            a.close(now, id).unwrap();
        } else {
            b.close(now, id).unwrap();
        }
    }
    let (ea, eb) = pump(&mut a, &mut b, &mut now);
    let closed = |events: &[ChannelEvent]| {
        events
            .iter()
            .filter(|e| matches!(e, ChannelEvent::Closed(_)))
            .count()
    };
    assert_eq!((closed(&ea), closed(&eb)), (1000, 1000));
    assert_eq!(a.ids().count() + b.ids().count(), 0);
}

#[test]
fn buffered_amount_reports_low_and_a_full_buffer_is_an_error() {
    let mut now = Instant::now();
    let (mut a, mut b) = connected(
        SctpConfig {
            send_buffer: 256 * 1024,
            ..config(1)
        },
        config(2),
        &mut now,
    );
    let id = a.create(now, "bulk", ChannelOptions::default()).unwrap();
    pump(&mut a, &mut b, &mut now);
    a.set_buffered_amount_low_threshold(id, 16 * 1024);
    let chunk = vec![1u8; 60 * 1024];
    let mut sent = 0;
    let err = loop {
        match a.send(now, id, &chunk, true) {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Error::SendBufferFull);
    assert_eq!(sent, 4);
    assert!(a.buffered_amount(id) > 16 * 1024);
    let (ea, eb) = pump(&mut a, &mut b, &mut now);
    assert_eq!(messages(&eb).len(), 4);
    assert_eq!(a.buffered_amount(id), 0);
    assert_eq!(
        ea.iter()
            .filter(|e| **e == ChannelEvent::BufferedAmountLow(id))
            .count(),
        1
    );
}

#[test]
fn a_one_mebibyte_message_with_max_message_size_raised() {
    let mut now = Instant::now();
    let big = SctpConfig {
        max_message_size: 2 << 20,
        receive_window: 4 << 20,
        ..config(1)
    };
    let (mut a, mut b) = connected(big.clone(), SctpConfig { seed: Some(2), ..big }, &mut now);
    let id = a.create(now, "file", ChannelOptions::default()).unwrap();
    let data: Vec<u8> = (0..1u32 << 20).map(|i| (i ^ (i >> 8)) as u8).collect();
    a.send(now, id, &data, true).unwrap();
    let start = now;
    let (_, eb) = pump(&mut a, &mut b, &mut now);
    assert_eq!(messages(&eb), vec![(id, data, true)]);
    assert!(now - start < Duration::from_secs(1), "no retransmission timeouts");

    // With the default limit the same message is refused.
    let mut now = Instant::now();
    let (mut a, mut b) = connected(config(1), config(2), &mut now);
    let id = a.create(now, "file", ChannelOptions::default()).unwrap();
    pump(&mut a, &mut b, &mut now);
    assert!(matches!(
        a.send(now, id, &vec![0u8; 1 << 20], true),
        Err(Error::TooLarge(_))
    ));
}

/// An MTU that is not a multiple of 4 (DTLS' 1200 less its 37 bytes of
/// record overhead): full-size chunks still fit their padded packets.
#[test]
fn a_large_message_with_an_odd_mtu() {
    let mut now = Instant::now();
    let odd = |seed| SctpConfig {
        mtu: 1163,
        ..config(seed)
    };
    let (mut a, mut b) = connected(odd(1), odd(2), &mut now);
    let id = a.create(now, "big", ChannelOptions::default()).unwrap();
    a.send(now, id, &vec![7u8; 100_000], true).unwrap();
    let (_, eb) = pump(&mut a, &mut b, &mut now);
    assert_eq!(messages(&eb), vec![(id, vec![7u8; 100_000], true)]);
    assert_eq!(a.association().buffered_amount(), 0);
}
