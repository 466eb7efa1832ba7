//! Full-stack scenarios on the simulated network: NATs with a STUN server
//! and trickle ICE, loss, ICE restart, both DTLS roles, channel kinds,
//! max-message-size, and many peers on one ICE-lite server socket.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Peer, addr, config, negotiate, peer, run_until};
use rtcwire::{
    ChannelId, ChannelOptions, Event, IceConfig, Input, PeerConnectionState, PeerId, Receive, Rtc, RtcError,
    Server, ServerConfig, ServerOutput, SessionDescription,
};
use rtcwire_netsim::{
    Datagram, Endpoint, EndpointId, LinkConfig, NatConfig, Network, SeedReporter, Sim, seed_from_env_or,
};

const STUN: &str = "198.51.100.1:3478";

/// Two peers, each behind its own NAT of `nat` behaviour (or public when
/// `None`), a STUN server on the internet, and `link` on both access links.
fn world(seed: u64, nat: Option<NatConfig>, link: LinkConfig) -> (Sim, EndpointId, EndpointId) {
    let mut sim = Sim::new(seed);
    let stun = sim.add_host(Network::Internet, [198, 51, 100, 1]).unwrap();
    sim.add_endpoint(stun, common::stun_server()).unwrap();
    let mut place = |i: u8| {
        let network = match &nat {
            Some(n) => Network::from(
                sim.add_nat(Network::Internet, [203, 0, 113, i], n.clone())
                    .unwrap(),
            ),
            None => Network::Internet,
        };
        let ip = if nat.is_some() {
            [10, 0, 0, i]
        } else {
            [192, 0, 2, i]
        };
        let host = sim.add_host(network, ip).unwrap();
        sim.set_link(host, link.clone()).unwrap();
        (host, SocketAddr::from((ip, 5000)))
    };
    let (ha, a_addr) = place(1);
    let (hb, b_addr) = place(2);
    let now = sim.now();
    let make = |seed: u64, cert: usize, local: SocketAddr| {
        let mut c = config(seed, cert);
        c.ice = IceConfig {
            stun_servers: vec![addr(STUN)],
            ..IceConfig::default()
        };
        let mut rtc = Rtc::new(c, now).unwrap();
        rtc.add_local_candidate(local).unwrap();
        Peer::new(rtc)
    };
    let pa = sim.add_endpoint(ha, make(seed, 0, a_addr)).unwrap();
    let pb = sim.add_endpoint(hb, make(seed + 1, 1, b_addr)).unwrap();
    (sim, pa, pb)
}

/// Both ends of the first channel `a` created, once open on both sides.
fn open_channel(
    sim: &mut Sim,
    a: EndpointId,
    b: EndpointId,
    limit: Duration,
) -> Option<(ChannelId, ChannelId)> {
    let ok = run_until(sim, a, b, limit, |s| {
        peer(s, a).opened().iter().any(|(_, _)| true) && !peer(s, b).opened().is_empty()
    });
    if !ok {
        return None;
    }
    Some((peer(sim, a).opened()[0].0, peer(sim, b).opened()[0].0))
}

fn texts(p: &Peer, id: ChannelId) -> Vec<String> {
    p.messages(id)
        .into_iter()
        .map(|(d, _)| String::from_utf8(d).unwrap())
        .collect()
}

#[test]
fn behind_nats_with_trickle_and_loss() {
    let base = seed_from_env_or(20);
    for seed in base..base + 3 {
        let _report = SeedReporter::new(seed);
        let link = LinkConfig::perfect()
            .latency(Duration::from_millis(20))
            .loss(0.02)
            .reorder(0.02, Duration::from_millis(5));
        let (mut sim, pa, pb) = world(seed, Some(NatConfig::port_restricted_cone()), link);
        peer(&mut sim, pa)
            .rtc
            .create_data_channel("chat", ChannelOptions::default())
            .unwrap();
        let start = sim.now();
        // The offer leaves before the server-reflexive candidates are
        // known: they trickle.
        negotiate(&mut sim, pa, pb);
        let (ca, cb) = open_channel(&mut sim, pa, pb, Duration::from_secs(30))
            .unwrap_or_else(|| panic!("seed {seed}: no channel\n{sim:?}"));
        let connected = peer(&mut sim, pa)
            .reached(PeerConnectionState::Connected)
            .unwrap();
        println!(
            "seed {seed}: connected through NATs in {:?} (virtual)",
            connected - start
        );
        let (local, remote) = peer(&mut sim, pa).rtc.selected_pair().unwrap();
        assert_eq!(local, addr("10.0.0.1:5000"));
        assert_eq!(
            remote.ip().to_string(),
            "203.0.113.2",
            "seed {seed}: not the peer's NAT"
        );
        for i in 0..200 {
            peer(&mut sim, pa).rtc.send_text(ca, &format!("m{i}")).unwrap();
        }
        let ok = run_until(&mut sim, pa, pb, Duration::from_secs(20), |s| {
            peer(s, pb).messages(cb).len() == 200
        });
        assert!(ok, "seed {seed}: messages missing");
        assert_eq!(
            texts(peer(&mut sim, pb), cb),
            (0..200).map(|i| format!("m{i}")).collect::<Vec<_>>()
        );
    }
}

#[test]
fn ice_restart_keeps_the_connection() {
    let seed = seed_from_env_or(30);
    let _report = SeedReporter::new(seed);
    let (mut sim, pa, pb) = world(
        seed,
        None,
        LinkConfig::perfect().latency(Duration::from_millis(10)),
    );
    peer(&mut sim, pa)
        .rtc
        .create_data_channel("chat", ChannelOptions::default())
        .unwrap();
    negotiate(&mut sim, pa, pb);
    let (ca, cb) = open_channel(&mut sim, pa, pb, Duration::from_secs(10)).expect("no channel");
    let ufrag_a = peer(&mut sim, pa).rtc.local_credentials().ufrag.clone();
    let ufrag_b = peer(&mut sim, pb).rtc.local_credentials().ufrag.clone();
    peer(&mut sim, pa).events.clear();
    peer(&mut sim, pb).events.clear();

    peer(&mut sim, pa).rtc.restart_ice();
    sim.run_for(Duration::from_millis(1)).unwrap();
    assert!(peer(&mut sim, pa).has(&Event::NegotiationNeeded));
    negotiate(&mut sim, pa, pb);
    assert_ne!(peer(&mut sim, pa).rtc.local_credentials().ufrag, ufrag_a);
    assert_ne!(peer(&mut sim, pb).rtc.local_credentials().ufrag, ufrag_b);
    // Data keeps flowing during and after the restart.
    peer(&mut sim, pa).rtc.send_text(ca, "during").unwrap();
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(10), |s| {
        s.endpoint::<Peer>(pb).is_some_and(|p| {
            p.events
                .iter()
                .any(|(_, e)| matches!(e, Event::SelectedPairChange { .. }))
        })
    });
    assert!(ok, "seed {seed}: no pair selected after the restart\n{sim:?}");
    peer(&mut sim, pa).rtc.send_text(ca, "after").unwrap();
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(10), |s| {
        peer(s, pb).messages(cb).len() == 2
    });
    assert!(ok, "seed {seed}: data lost across the restart");
    assert_eq!(texts(peer(&mut sim, pb), cb), ["during", "after"]);
    assert!(peer(&mut sim, pa).connected() && peer(&mut sim, pb).connected());
}

/// The offerer ends up DTLS client when the answerer says `passive`: here
/// the offer is rewritten to `active` on its way, so the answerer must
/// answer `passive` (RFC 8842), and the SCTP roles follow.
#[test]
fn offerer_as_dtls_client() {
    let seed = seed_from_env_or(40);
    let _report = SeedReporter::new(seed);
    let (mut sim, pa, pb) = world(
        seed,
        None,
        LinkConfig::perfect().latency(Duration::from_millis(5)),
    );
    peer(&mut sim, pa)
        .rtc
        .create_data_channel("a-side", ChannelOptions::default())
        .unwrap();
    let offer = peer(&mut sim, pa).rtc.create_offer().unwrap();
    peer(&mut sim, pa).rtc.set_local_description(&offer).unwrap();
    let rewritten = SessionDescription::offer(offer.sdp.replace("a=setup:actpass", "a=setup:active"));
    peer(&mut sim, pb).rtc.set_remote_description(&rewritten).unwrap();
    let answer = peer(&mut sim, pb).rtc.create_answer().unwrap();
    assert!(answer.sdp.contains("a=setup:passive"));
    peer(&mut sim, pb).rtc.set_local_description(&answer).unwrap();
    peer(&mut sim, pa).rtc.set_remote_description(&answer).unwrap();
    let (ca, cb) = open_channel(&mut sim, pa, pb, Duration::from_secs(10)).expect("no channel");
    // The DTLS client opens even stream ids.
    assert_eq!(peer(&mut sim, pa).rtc.channel_stream_id(ca).unwrap() % 2, 0);
    let b_side = peer(&mut sim, pb)
        .rtc
        .create_data_channel("b-side", ChannelOptions::default())
        .unwrap();
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(5), |s| {
        peer(s, pa).opened().len() == 2
    });
    assert!(ok);
    assert_eq!(peer(&mut sim, pb).rtc.channel_stream_id(b_side).unwrap() % 2, 1);
    peer(&mut sim, pb).rtc.send_text(cb, "to a").unwrap();
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(5), |s| {
        peer(s, pa).messages(ca).len() == 1
    });
    assert!(ok);
}

#[test]
fn channel_kinds_and_max_message_size() {
    let seed = seed_from_env_or(50);
    let _report = SeedReporter::new(seed);
    let (mut sim, pa, pb) = world(
        seed,
        None,
        LinkConfig::perfect().latency(Duration::from_millis(5)),
    );
    let reliable = peer(&mut sim, pa)
        .rtc
        .create_data_channel("reliable", ChannelOptions::default())
        .unwrap();
    let unordered = peer(&mut sim, pa)
        .rtc
        .create_data_channel(
            "unordered",
            ChannelOptions {
                ordered: false,
                max_retransmits: Some(0),
                protocol: "game".into(),
                ..ChannelOptions::default()
            },
        )
        .unwrap();
    let fixed = |s: &mut Sim, p| {
        peer(s, p)
            .rtc
            .create_data_channel(
                "fixed",
                ChannelOptions {
                    negotiated: Some(42),
                    ..ChannelOptions::default()
                },
            )
            .unwrap()
    };
    let fa = fixed(&mut sim, pa);
    let fb = fixed(&mut sim, pb);
    // The answer announces a small max-message-size.
    let offer = peer(&mut sim, pa).rtc.create_offer().unwrap();
    peer(&mut sim, pa).rtc.set_local_description(&offer).unwrap();
    peer(&mut sim, pb).rtc.set_remote_description(&offer).unwrap();
    let answer = peer(&mut sim, pb).rtc.create_answer().unwrap();
    peer(&mut sim, pb).rtc.set_local_description(&answer).unwrap();
    let small = answer
        .sdp
        .replace("a=max-message-size:262144", "a=max-message-size:1024");
    assert_ne!(small, answer.sdp);
    peer(&mut sim, pa)
        .rtc
        .set_remote_description(&SessionDescription::answer(small))
        .unwrap();
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(10), |s| {
        peer(s, pb).opened().len() == 3 && peer(s, pa).opened().len() == 3
    });
    assert!(ok, "seed {seed}: channels did not open\n{sim:?}");
    let remote_of = |s: &mut Sim, label: &str| {
        peer(s, pb)
            .opened()
            .into_iter()
            .find(|(_, l)| l == label)
            .unwrap()
            .0
    };
    let (rr, ru) = (remote_of(&mut sim, "reliable"), remote_of(&mut sim, "unordered"));
    assert_eq!(remote_of(&mut sim, "fixed"), fb);
    let opts = peer(&mut sim, pb).rtc.channel_options(ru).unwrap().clone();
    assert!(!opts.ordered);
    assert_eq!(opts.max_retransmits, Some(0));
    assert_eq!(opts.protocol, "game");
    assert_eq!(peer(&mut sim, pb).rtc.channel_stream_id(fb), Some(42));

    assert_eq!(
        peer(&mut sim, pa).rtc.send(reliable, &[7; 2000], true),
        Err(RtcError::MessageTooLarge {
            size: 2000,
            max: 1024
        })
    );
    peer(&mut sim, pa).rtc.send(reliable, &[7; 1024], true).unwrap();
    peer(&mut sim, pa).rtc.send_text(unordered, "fast").unwrap();
    peer(&mut sim, pa).rtc.send_text(fa, "fixed a").unwrap();
    peer(&mut sim, pb).rtc.send_text(fb, "fixed b").unwrap();
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(5), |s| {
        peer(s, pb).messages(rr).len() == 1
            && peer(s, pb).messages(ru).len() == 1
            && peer(s, pb).messages(fb).len() == 1
            && peer(s, pa).messages(fa).len() == 1
    });
    assert!(ok, "seed {seed}: messages missing");
    assert_eq!(peer(&mut sim, pb).messages(rr)[0].0.len(), 1024);
    assert_eq!(texts(peer(&mut sim, pa), fa), ["fixed b"]);

    let stats = peer(&mut sim, pa).rtc.stats();
    let r = stats.channels.iter().find(|c| c.id == reliable).unwrap();
    assert_eq!((r.messages_sent, r.bytes_sent), (1, 1024));
}

/// Chromium's offer from the corpus: audio and video are answered
/// `recvonly` with one codec each, data accepted, all bundled.
#[test]
fn answers_chromium_audio_video_data_offer() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/sdp-corpus/chromium-156-offer-audio-video-data.sdp"
    ));
    let Ok(text) = text else {
        // The corpus lives beside the repository on the development machines.
        return;
    };
    let now = Sim::new(1).now();
    let mut rtc = Rtc::new(config(1, 0), now).unwrap();
    rtc.add_local_candidate(addr("127.0.0.1:4000")).unwrap();
    rtc.set_remote_description(&SessionDescription::offer(text.as_str()))
        .unwrap();
    let answer = rtc.create_answer().unwrap();
    rtc.set_local_description(&answer).unwrap();
    let parsed = rtcwire_sdp::SessionDescription::parse(&answer.sdp).unwrap();
    assert_eq!(parsed.media.len(), 3);
    assert_eq!(parsed.bundle_mids().unwrap().count(), 3);
    let kinds: Vec<&str> = parsed.media.iter().map(|m| m.media.as_ref()).collect();
    assert_eq!(kinds, ["audio", "video", "application"]);
    for m in &parsed.media[..2] {
        assert_eq!(m.direction(), Some(rtcwire_sdp::Direction::RecvOnly));
        assert_eq!(m.payload_types().count(), 1);
        assert!(m.rtcp_mux());
    }
    assert_eq!(parsed.media[0].rtpmaps().next().unwrap().encoding, "opus");
    assert_eq!(parsed.media[1].rtpmaps().next().unwrap().encoding, "VP8");
    assert_eq!(
        parsed.setup_for(&parsed.media[0]),
        Some(rtcwire_sdp::Setup::Active)
    );
    assert!(answer.sdp.contains("a=candidate:"));
    assert!(answer.sdp.contains("a=end-of-candidates"));
    // A second channel needs no new negotiation: the data section exists.
    rtc.create_data_channel("later", ChannelOptions::default())
        .unwrap();
    assert!(!rtc.is_negotiation_needed());

    // The same offer without its data section: the first channel created
    // afterwards needs a new offer, which keeps audio and video and adds data.
    let media_only =
        text[..text.find("m=application").unwrap()].replace("a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1");
    let mut rtc = Rtc::new(config(2, 0), now).unwrap();
    rtc.set_remote_description(&SessionDescription::offer(media_only))
        .unwrap();
    let answer = rtc.create_answer().unwrap();
    assert!(!answer.sdp.contains("m=application"));
    rtc.set_local_description(&answer).unwrap();
    assert!(!rtc.is_negotiation_needed());
    rtc.create_data_channel("chat", ChannelOptions::default())
        .unwrap();
    assert!(rtc.is_negotiation_needed());
    let mut events = Vec::new();
    while let Ok(rtcwire::Output::Event(e)) = rtc.poll_output() {
        events.push(e);
    }
    assert!(events.contains(&Event::NegotiationNeeded));
    let offer = rtc.create_offer().unwrap();
    let parsed = rtcwire_sdp::SessionDescription::parse(&offer.sdp).unwrap();
    let mids: Vec<&str> = parsed.media.iter().filter_map(|m| m.mid()).collect();
    assert_eq!(mids, ["0", "1", "2"]);
    assert_eq!(parsed.media[2].media, "application");
    // After the first exchange, the DTLS role stays: we were active.
    assert_eq!(
        parsed.setup_for(&parsed.media[0]),
        Some(rtcwire_sdp::Setup::Active)
    );
    rtc.set_local_description(&offer).unwrap();
    assert_eq!(rtc.signaling_state(), rtcwire::SignalingState::HaveLocalOffer);
    rtc.set_local_description(&SessionDescription::rollback())
        .unwrap();
    assert_eq!(rtc.signaling_state(), rtcwire::SignalingState::Stable);
}

/// Wrong fingerprint: DTLS fails and so does the connection.
#[test]
fn wrong_fingerprint_fails() {
    let seed = seed_from_env_or(60);
    let _report = SeedReporter::new(seed);
    let (mut sim, pa, pb) = world(
        seed,
        None,
        LinkConfig::perfect().latency(Duration::from_millis(5)),
    );
    let offer = peer(&mut sim, pa).rtc.create_offer().unwrap();
    peer(&mut sim, pa).rtc.set_local_description(&offer).unwrap();
    // Replace the fingerprint with another certificate's.
    let other = common::certificate(2).fingerprint();
    let line = offer
        .sdp
        .lines()
        .find(|l| l.starts_with("a=fingerprint:"))
        .unwrap()
        .to_owned();
    let forged = offer
        .sdp
        .replace(&line, &format!("a=fingerprint:sha-256 {}", other.to_sdp_value()));
    peer(&mut sim, pb)
        .rtc
        .set_remote_description(&SessionDescription::offer(forged))
        .unwrap();
    let answer = peer(&mut sim, pb).rtc.create_answer().unwrap();
    peer(&mut sim, pb).rtc.set_local_description(&answer).unwrap();
    peer(&mut sim, pa).rtc.set_remote_description(&answer).unwrap();
    let ok = run_until(&mut sim, pa, pb, Duration::from_secs(30), |s| {
        peer(s, pb).rtc.peer_connection_state() == PeerConnectionState::Failed
    });
    assert!(ok, "seed {seed}: forged fingerprint accepted\n{sim:?}");
    assert!(
        peer(&mut sim, pb)
            .reached(PeerConnectionState::Connected)
            .is_none()
    );
}

/// The ICE-lite server endpoint: one socket, many connections; it echoes
/// every message.
struct ServerEndpoint {
    server: Server,
    timeout: Option<Instant>,
    connected: usize,
    received: u64,
}

impl Endpoint for ServerEndpoint {
    fn handle_datagram(&mut self, now: Instant, mut d: Datagram) {
        // Every other datagram is lent mutably (data-channel records
        // decrypted in place), the rest borrowed: both paths serve.
        self.received += 1;
        if self.received % 2 == 0 {
            self.server
                .handle_receive_in_place(now, d.source, d.destination, &mut d.payload);
        } else {
            let receive = Receive {
                source: d.source,
                destination: d.destination,
                contents: &d.payload,
            };
            self.server.handle_receive(now, receive);
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.server.handle_timeout(now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        loop {
            match self.server.poll_output() {
                ServerOutput::Transmit(t) => {
                    return Some(Datagram {
                        source: t.source,
                        destination: t.destination,
                        payload: t.contents,
                    });
                }
                ServerOutput::Event(id, e) => self.on_event(id, e),
                ServerOutput::Timeout(at) => {
                    self.timeout = Some(at);
                    return None;
                }
            }
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.timeout
    }
}

impl ServerEndpoint {
    fn on_event(&mut self, id: PeerId, e: Event) {
        match e {
            Event::PeerConnectionStateChange(PeerConnectionState::Connected) => self.connected += 1,
            Event::ChannelData(d) => {
                let rtc = self.server.rtc_mut(id).unwrap();
                let mut reply = b"echo: ".to_vec();
                reply.extend_from_slice(&d.data);
                rtc.send(d.id, &reply, d.binary).unwrap();
            }
            _ => {}
        }
    }
}

#[test]
fn lite_server_answers_many_peers_on_one_socket() {
    const PEERS: u8 = 24;
    let seed = seed_from_env_or(70);
    let _report = SeedReporter::new(seed);
    let mut sim = Sim::new(seed);
    let now = sim.now();
    let hs = sim.add_host(Network::Internet, [203, 0, 113, 10]).unwrap();
    let server_addr = addr("203.0.113.10:443");
    let mut sc = ServerConfig::new(server_addr);
    sc.rtc = config(seed, 3);
    let server = Server::new(sc, now).unwrap();
    let ps = sim
        .add_endpoint_on_port(
            hs,
            443,
            ServerEndpoint {
                server,
                timeout: None,
                connected: 0,
                received: 0,
            },
        )
        .unwrap();
    let mut clients = Vec::new();
    for i in 0..PEERS {
        // Every client behind its own NAT: the server learns them as
        // peer-reflexive.
        let nat = sim
            .add_nat(
                Network::Internet,
                [198, 18, 0, i + 1],
                NatConfig::port_restricted_cone(),
            )
            .unwrap();
        let host = sim.add_host(nat, [10, 1, 0, i + 1]).unwrap();
        sim.set_link(host, LinkConfig::perfect().latency(Duration::from_millis(15)))
            .unwrap();
        let mut rtc = Rtc::new(config(seed + 100 + u64::from(i), usize::from(i % 2)), now).unwrap();
        rtc.add_local_candidate(SocketAddr::from(([10, 1, 0, i + 1], 5000)))
            .unwrap();
        let chat = rtc
            .create_data_channel("chat", ChannelOptions::default())
            .unwrap();
        let offer = rtc.create_offer().unwrap();
        rtc.set_local_description(&offer).unwrap();
        let answer = {
            let s = sim.endpoint_mut::<ServerEndpoint>(ps).unwrap();
            let (_, answer) = s.server.accept(&offer).unwrap();
            answer
        };
        assert!(answer.sdp.contains("a=ice-lite"));
        rtc.set_remote_description(&answer).unwrap();
        let id = sim.add_endpoint(host, Peer::new(rtc)).unwrap();
        clients.push((id, chat));
    }
    let all_open = |s: &Sim| {
        clients.iter().all(|(id, chat)| {
            s.endpoint::<Peer>(*id)
                .unwrap()
                .opened()
                .iter()
                .any(|(c, _)| c == chat)
        })
    };
    assert!(
        sim.run_until_true(Duration::from_secs(20), all_open).unwrap(),
        "seed {seed}: not every client connected\n{sim:?}"
    );
    for (i, (id, chat)) in clients.iter().enumerate() {
        peer(&mut sim, *id)
            .rtc
            .send_text(*chat, &format!("client {i}"))
            .unwrap();
    }
    let all_echoed = |s: &Sim| {
        clients
            .iter()
            .all(|(id, chat)| !s.endpoint::<Peer>(*id).unwrap().messages(*chat).is_empty())
    };
    assert!(sim.run_until_true(Duration::from_secs(10), all_echoed).unwrap());
    for (i, (id, chat)) in clients.iter().enumerate() {
        assert_eq!(texts(peer(&mut sim, *id), *chat), [format!("echo: client {i}")]);
    }
    let s = sim.endpoint::<ServerEndpoint>(ps).unwrap();
    assert_eq!(s.connected, usize::from(PEERS));
    assert_eq!(s.server.len(), usize::from(PEERS));
    let _ = Input::Timeout(now);
}
