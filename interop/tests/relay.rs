//! Two rtcwire peer connections with `ice_transport_policy: relay` connect
//! through coturn on 127.0.0.1 (TURN over UDP) and exchange data-channel
//! messages: only relay candidates are signalled, and the selected pair is
//! relayed on both sides.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use rtcwire::{
    ChannelOptions, Event, IceGatheringState, IceServer, IceTransportPolicy, Input, Output, Receive, Rtc,
    RtcConfig,
};
use rtcwire_interop::{COTURN_PASSWORD, COTURN_USER, Coturn};

const LIMIT: Duration = Duration::from_secs(30);

struct Side {
    rtc: Rtc,
    socket: UdpSocket,
    events: Vec<Event>,
    deadline: Instant,
}

impl Side {
    fn new(server: SocketAddr, seed: u64) -> Side {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(2)))
            .expect("read timeout");
        let config = RtcConfig {
            ice_servers: vec![IceServer::turn(
                &format!("turn:{server}?transport=udp"),
                COTURN_USER,
                COTURN_PASSWORD,
            )],
            ice_transport_policy: IceTransportPolicy::Relay,
            seed: Some(seed),
            ..RtcConfig::default()
        };
        let mut rtc = Rtc::new(config, Instant::now()).expect("rtc");
        rtc.add_local_candidate(socket.local_addr().expect("local address"))
            .expect("candidate");
        Side {
            rtc,
            socket,
            events: Vec::new(),
            deadline: Instant::now(),
        }
    }

    /// Sends what is due, keeps events, reads what arrived (briefly).
    fn step(&mut self) {
        loop {
            match self.rtc.poll_output().expect("poll") {
                Output::Transmit(t) => {
                    assert_eq!(
                        t.source,
                        self.socket.local_addr().expect("addr"),
                        "sent from elsewhere"
                    );
                    self.socket.send_to(&t.contents, t.destination).expect("send");
                }
                Output::Event(e) => self.events.push(e),
                Output::Timeout(at) => {
                    self.deadline = at;
                    break;
                }
            }
        }
        let mut buf = [0u8; 2048];
        let now = Instant::now();
        let input = match self.socket.recv_from(&mut buf) {
            Ok((n, source)) => Input::Receive(
                Instant::now(),
                Receive {
                    source,
                    destination: self.socket.local_addr().expect("addr"),
                    contents: &buf[..n],
                },
            ),
            Err(_) if now >= self.deadline => Input::Timeout(now),
            Err(_) => return,
        };
        self.rtc.handle_input(input).expect("input");
    }
}

fn run(a: &mut Side, b: &mut Side, what: &str, mut done: impl FnMut(&Side, &Side) -> bool) {
    let end = Instant::now() + LIMIT;
    while !done(a, b) {
        assert!(
            Instant::now() < end,
            "{what}: not within {LIMIT:?}\na: {:?}\nb: {:?}\nstats a: {:?}\nstats b: {:?}",
            a.events,
            b.events,
            a.rtc.stats(),
            b.rtc.stats()
        );

        a.step();
        b.step();
    }
}

#[test]
#[ignore = "needs coturn; run by scripts/test"]
fn two_rtcwire_peers_connect_through_coturn_relay_only() {
    let coturn = Coturn::start();
    let server: SocketAddr = format!("127.0.0.1:{}", coturn.port).parse().expect("address");
    let mut a = Side::new(server, 1);
    let mut b = Side::new(server, 2);
    let chat = a
        .rtc
        .create_data_channel("chat", ChannelOptions::default())
        .expect("channel");
    // Complete descriptions: wait for the relayed candidates first.
    run(&mut a, &mut b, "gathering", |a, b| {
        a.rtc.ice_gathering_state() == IceGatheringState::Complete
            && b.rtc.ice_gathering_state() == IceGatheringState::Complete
    });
    let offer = a.rtc.create_offer().expect("offer");
    assert!(
        offer.sdp.contains("typ relay"),
        "no relay candidate:\n{}",
        offer.sdp
    );
    assert!(
        !offer.sdp.contains("typ host"),
        "relay-only offer shows a host address:\n{}",
        offer.sdp
    );
    a.rtc.set_local_description(&offer).expect("local offer");
    b.rtc.set_remote_description(&offer).expect("remote offer");
    let answer = b.rtc.create_answer().expect("answer");
    assert!(answer.sdp.contains("typ relay") && !answer.sdp.contains("typ host"));
    b.rtc.set_local_description(&answer).expect("local answer");
    a.rtc.set_remote_description(&answer).expect("remote answer");

    let opened = |s: &Side| s.events.iter().any(|e| matches!(e, Event::ChannelOpen { .. }));
    run(&mut a, &mut b, "channel open", |a, b| opened(a) && opened(b));
    for side in [&a, &b] {
        let (local, _) = side.rtc.selected_pair().expect("selected pair");
        assert_ne!(
            local,
            side.socket.local_addr().expect("addr"),
            "the selected pair is not relayed"
        );
    }
    let remote_chat = b
        .events
        .iter()
        .find_map(|e| match e {
            Event::ChannelOpen { id, .. } => Some(*id),
            _ => None,
        })
        .expect("b's channel");
    for i in 0..50 {
        a.rtc.send_text(chat, &format!("relayed {i}")).expect("send");
    }
    b.rtc.send(remote_chat, &[9; 60_000], true).expect("send binary");
    let count = |s: &Side, id| {
        s.events
            .iter()
            .filter(|e| matches!(e, Event::ChannelData(d) if d.id == id))
            .count()
    };
    run(&mut a, &mut b, "messages", |a, b| {
        count(b, remote_chat) == 50 && count(a, chat) == 1
    });
    let texts: Vec<String> = b
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ChannelData(d) if d.id == remote_chat => {
                Some(String::from_utf8_lossy(&d.data).into_owned())
            }
            _ => None,
        })
        .collect();
    assert_eq!(texts, (0..50).map(|i| format!("relayed {i}")).collect::<Vec<_>>());
    drop(coturn);
}
