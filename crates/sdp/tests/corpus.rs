//! Real session descriptions (Chromium 156 and aiortc 1.16, captured on
//! loopback) and descriptions written from browsers' documented formats and
//! RFC 8866's examples: each round-trips byte for byte, and its key fields
//! read back by name.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rtcwire_sdp::{
    Attribute, CandidateType, Direction, Line, PayloadType, Protocol, RidDirection, SessionDescription,
    Setup, Simulcast, TcpType,
};

const CORPUS: &[(&str, &str)] = &[
    (
        "chromium-156-offer-audio-video-data",
        include_str!("corpus/chromium-156-offer-audio-video-data.sdp"),
    ),
    (
        "chromium-156-offer-data",
        include_str!("corpus/chromium-156-offer-data.sdp"),
    ),
    (
        "aiortc-1.16-answer-audio-video-data",
        include_str!("corpus/aiortc-1.16-answer-audio-video-data.sdp"),
    ),
    (
        "firefox-offer-simulcast",
        include_str!("corpus/firefox-offer-simulcast.sdp"),
    ),
    ("safari-offer-mdns", include_str!("corpus/safari-offer-mdns.sdp")),
    (
        "sfu-ice-lite-answer",
        include_str!("corpus/sfu-ice-lite-answer.sdp"),
    ),
    (
        "pre-bundle-rtcp-ports",
        include_str!("corpus/pre-bundle-rtcp-ports.sdp"),
    ),
    (
        "ipv6-mdns-candidates",
        include_str!("corpus/ipv6-mdns-candidates.sdp"),
    ),
    ("rfc8866-plain-rtp", include_str!("corpus/rfc8866-plain-rtp.sdp")),
    (
        "rfc8866-repeat-zone",
        include_str!("corpus/rfc8866-repeat-zone.sdp"),
    ),
];

fn corpus(name: &str) -> SessionDescription<'static> {
    let text = CORPUS.iter().find(|(n, _)| *n == name).unwrap().1;
    SessionDescription::parse(text).unwrap()
}

fn mids(sdp: &SessionDescription<'_>) -> Vec<String> {
    sdp.bundle_mids().unwrap().map(str::to_owned).collect()
}

#[test]
fn every_corpus_file_round_trips_byte_for_byte() {
    for (name, text) in CORPUS {
        assert!(text.contains("\r\n"), "{name} should use CRLF");
        let sdp = SessionDescription::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let written = sdp.to_sdp();
        if written != *text {
            let first = written.lines().zip(text.lines()).find(|(a, b)| a != b);
            panic!("{name} does not round-trip; first difference: {first:?}");
        }
        // Bare LF input parses to the same model.
        let lf = text.replace("\r\n", "\n");
        assert_eq!(SessionDescription::parse(&lf).unwrap(), sdp, "{name} with LF");
        // And the owned copy is equal too.
        assert_eq!(sdp.clone().into_owned(), sdp, "{name} owned");
    }
}

#[test]
fn no_corpus_attribute_falls_back_to_unknown_except_the_known_unknowns() {
    // Only attributes this crate deliberately keeps verbatim.
    for (name, text) in CORPUS {
        let sdp = SessionDescription::parse(text).unwrap();
        let all = sdp
            .attributes()
            .chain(sdp.media.iter().flat_map(|m| m.attributes()));
        for a in all {
            if let Attribute::Other { name: attr, .. } = a {
                assert!(["rtcp-xr"].contains(&&**attr), "{name}: a={attr} was not typed");
            }
        }
    }
}

#[test]
fn chromium_offer_fields() {
    let sdp = corpus("chromium-156-offer-audio-video-data");
    assert_eq!(sdp.origin.session_id, 8032761566112059344);
    assert_eq!(sdp.origin.session_version, 2);
    assert_eq!(mids(&sdp), ["0", "1", "2"]);
    assert!(sdp.attributes().any(|a| *a == Attribute::ExtmapAllowMixed));
    assert!(
        sdp.attributes()
            .any(|a| *a == Attribute::MsidSemantic(" WMS 37d296f2-896c-48c4-b7cd-3077055e0bed".into()))
    );
    assert_eq!(sdp.media.len(), 3);

    let audio = &sdp.media[0];
    assert_eq!(
        (&*audio.media, audio.port, &*audio.proto),
        ("audio", 34338, "UDP/TLS/RTP/SAVPF")
    );
    assert_eq!(
        audio.payload_types().collect::<Vec<_>>(),
        [111, 63, 9, 0, 8, 13, 110, 126]
    );
    assert_eq!(
        sdp.ice_credentials(audio),
        Some(("yie+", "L/mcjZ5K2ob8vBd3sHW9qR6v"))
    );
    assert_eq!(audio.ice_options().collect::<Vec<_>>(), ["trickle"]);
    let fp: Vec<_> = sdp.fingerprints_for(audio);
    assert_eq!(fp.len(), 1);
    assert_eq!(fp[0].hash_function, "sha-256");
    assert_eq!(
        fp[0].bytes().unwrap()[..4],
        [0xD1, 0xC5, 0xD7, 0x13],
        "fingerprint hex decodes"
    );
    assert_eq!(fp[0].bytes().unwrap().len(), 32);
    assert_eq!(audio.setup(), Some(Setup::ActPass));
    assert_eq!(audio.mid(), Some("0"));
    assert_eq!(audio.direction(), Some(Direction::SendRecv));
    assert!(audio.rtcp_mux());
    let opus = audio.codec(111);
    assert_eq!(opus.rtpmap.unwrap().encoding, "opus");
    assert_eq!(opus.rtpmap.unwrap().clock_rate, 48000);
    assert_eq!(opus.rtpmap.unwrap().channels, Some(2));
    assert_eq!(opus.fmtp.unwrap().get("useinbandfec"), Some("1"));
    assert_eq!(opus.fmtp.unwrap().get("minptime"), Some("10"));
    assert_eq!(opus.feedback.len(), 1);
    assert_eq!(opus.feedback[0].feedback, "transport-cc");
    let red = audio.codec(63);
    assert_eq!(
        red.fmtp.unwrap().params().collect::<Vec<_>>(),
        [("111/111", None)]
    );
    let names: Vec<_> = audio
        .codecs()
        .map(|c| c.rtpmap.unwrap().encoding.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "opus",
            "red",
            "G722",
            "PCMU",
            "PCMA",
            "CN",
            "telephone-event",
            "telephone-event"
        ]
    );

    let candidates: Vec<_> = audio.candidates().collect();
    assert_eq!(candidates.len(), 2);
    let udp = candidates[0];
    assert_eq!(udp.foundation, "1158908682");
    assert_eq!(udp.component, 1);
    assert_eq!(udp.protocol(), Some(Protocol::Udp));
    assert_eq!(udp.priority, 2122260223);
    assert_eq!(udp.socket_addr(), Some("127.0.0.1:34338".parse().unwrap()));
    assert_eq!(udp.typ, CandidateType::Host);
    assert_eq!(udp.extension("generation"), Some("0"));
    assert_eq!(udp.extension("network-id"), Some("1"));
    assert_eq!(udp.extension("network-cost"), Some("50"));
    let tcp = candidates[1];
    assert_eq!(tcp.protocol(), Some(Protocol::Tcp));
    assert_eq!(tcp.tcp_type, Some(TcpType::Active));
    assert_eq!(tcp.port, 9);

    let ssrcs: Vec<_> = audio.ssrcs().map(|s| (s.ssrc, s.attribute.to_string())).collect();
    assert_eq!(
        ssrcs,
        [(2446702901, "cname".to_owned()), (2446702901, "msid".to_owned())]
    );

    let video = &sdp.media[1];
    assert_eq!(video.payload_types().count(), 23);
    let vp8 = video.codec(96);
    assert_eq!(vp8.rtpmap.unwrap().encoding, "VP8");
    assert_eq!(vp8.rtpmap.unwrap().clock_rate, 90000);
    let fb: Vec<_> = vp8
        .feedback
        .iter()
        .map(|f| format!("{} {}", f.feedback, f.parameter.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        fb,
        ["goog-remb ", "transport-cc ", "ccm fir", "nack ", "nack pli"]
    );
    assert_eq!(video.codec(97).fmtp.unwrap().get("apt"), Some("96"));
    assert_eq!(video.ssrc_groups().next().unwrap().ssrcs, [3938643196, 57182091]);
    assert_eq!(video.ssrc_groups().next().unwrap().semantics, "FID");
    let ext: Vec<_> = video.extmaps().map(|e| (e.id, e.uri.to_string())).collect();
    assert_eq!(ext[0], (14, "urn:ietf:params:rtp-hdrext:toffset".to_owned()));

    let data = &sdp.media[2];
    assert_eq!(&*data.media, "application");
    assert_eq!(&*data.proto, "UDP/DTLS/SCTP");
    assert_eq!(data.formats, ["webrtc-datachannel"]);
    assert_eq!(data.sctp_port(), Some(5000));
    assert_eq!(data.max_message_size(), Some(262144));
    assert_eq!(sdp.candidates().count(), 6);
}

#[test]
fn chromium_data_only_offer_fields() {
    let sdp = corpus("chromium-156-offer-data");
    assert_eq!(mids(&sdp), ["0"]);
    assert!(
        sdp.attributes()
            .any(|a| *a == Attribute::MsidSemantic(" WMS".into()))
    );
    let m = &sdp.media[0];
    assert_eq!(sdp.ice_credentials(m), Some(("MJvh", "lJpCyFbEVStsF90ydTUVTb27")));
    assert_eq!(m.sctp_port(), Some(5000));
    assert_eq!(m.max_message_size(), Some(262144));
    assert_eq!(
        m.candidates().next().unwrap().socket_addr(),
        Some("127.0.0.1:52555".parse().unwrap())
    );
    assert!(sdp.fingerprints_for(m)[0].value.starts_with("5D:32:6A"));
}

#[test]
fn aiortc_answer_fields() {
    let sdp = corpus("aiortc-1.16-answer-audio-video-data");
    assert_eq!(mids(&sdp), ["0", "1", "2"]);
    let audio = &sdp.media[0];
    assert_eq!(audio.direction(), Some(Direction::RecvOnly));
    assert_eq!(audio.setup(), Some(Setup::Active));
    assert_eq!(
        sdp.ice_credentials(audio),
        Some(("CCbK", "ZgAPmp4wcmdOYXuErXbFNa"))
    );
    let fps: Vec<_> = audio
        .fingerprints()
        .map(|f| f.hash_function.to_string())
        .collect();
    assert_eq!(fps, ["sha-256", "sha-384", "sha-512"]);
    assert_eq!(audio.fingerprints().nth(1).unwrap().bytes().unwrap().len(), 48);
    assert_eq!(audio.fingerprints().nth(2).unwrap().bytes().unwrap().len(), 64);
    assert!(audio.end_of_candidates());
    let c = audio.candidates().next().unwrap();
    assert_eq!(c.foundation, "16572de626da4e5384a0ce2d0d93678a");
    assert_eq!(c.priority, 2130706431);
    assert!(c.extensions.is_empty());
    let video = &sdp.media[1];
    let h264: Vec<_> = video
        .codecs()
        .filter(|c| c.rtpmap.is_some_and(|r| r.encoding == "H264"))
        .map(|c| {
            (
                c.payload_type,
                c.fmtp.unwrap().get("profile-level-id").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(h264, [(102, "42001f".to_owned()), (108, "42e01f".to_owned())]);
    assert_eq!(sdp.media[2].sctp_port(), Some(5000));
}

#[test]
fn firefox_simulcast_offer_fields() {
    let sdp = corpus("firefox-offer-simulcast");
    assert_eq!(&*sdp.origin.username, "mozilla...THIS_IS_SDPARTA-128.0");
    // Firefox puts the fingerprint at session level.
    assert_eq!(sdp.fingerprints().count(), 1);
    let video = &sdp.media[1];
    assert_eq!(sdp.fingerprints_for(video).len(), 1);
    let rids: Vec<_> = video.rids().map(|r| (r.id.to_string(), r.direction)).collect();
    assert_eq!(
        rids,
        [
            ("h".to_owned(), RidDirection::Send),
            ("m".to_owned(), RidDirection::Send),
            ("l".to_owned(), RidDirection::Send)
        ]
    );
    let sim = video.simulcast().unwrap();
    let streams: Vec<Vec<_>> = Simulcast::streams(sim.send.as_deref().unwrap())
        .map(|alts| alts.map(|s| s.rid).collect())
        .collect();
    assert_eq!(streams, [["h"], ["m"], ["l"]]);
    assert_eq!(sim.recv, None);
    let ext = video.extmaps().find(|e| e.id == 6).unwrap();
    assert_eq!(ext.direction, Some(Direction::RecvOnly));
    assert_eq!(sdp.media[0].codec(109).fmtp.unwrap().get("stereo"), Some("1"));
    assert_eq!(sdp.media[0].codec(9).rtpmap.unwrap().channels, Some(1));
    assert_eq!(video.ssrc_groups().count(), 3);
}

#[test]
fn safari_mdns_offer_fields() {
    let sdp = corpus("safari-offer-mdns");
    let audio = &sdp.media[0];
    let host = audio.candidates().next().unwrap();
    assert!(host.is_mdns());
    assert_eq!(host.ip(), None);
    assert_eq!(&*host.address, "6b3a4f8e-1b5c-4c1e-9c3a-2f5e7d1a0b4c.local");
    let srflx = audio.candidates().nth(1).unwrap();
    assert_eq!(srflx.typ, CandidateType::ServerReflexive);
    assert_eq!(srflx.related_socket_addr(), Some("0.0.0.0:0".parse().unwrap()));
    assert!(matches!(
        audio.attributes().find(|a| matches!(a, Attribute::Rtcp(_))),
        Some(Attribute::Rtcp(r)) if r.port == 9 && r.connection.as_deref() == Some("IN IP4 0.0.0.0")
    ));
    assert_eq!(sdp.media[1].codec(96).rtpmap.unwrap().encoding, "H264");
}

#[test]
fn sfu_ice_lite_answer_fields() {
    let sdp = corpus("sfu-ice-lite-answer");
    assert!(sdp.ice_lite());
    assert_eq!(&*sdp.session_name, "VideoRoom 1234");
    let video = &sdp.media[1];
    let sim = video.simulcast().unwrap();
    let recv: Vec<Vec<_>> = Simulcast::streams(sim.recv.as_deref().unwrap())
        .map(|alts| alts.map(|s| (s.rid, s.paused)).collect())
        .collect();
    assert_eq!(recv, [[("h", false)], [("l", true)]]);
    assert_eq!(sdp.fingerprints().next().unwrap().bytes().unwrap().len(), 64);
    let v6 = video.candidates().nth(1).unwrap();
    assert_eq!(v6.socket_addr(), Some("[2001:db8:10::a]:40000".parse().unwrap()));
    assert_eq!(sdp.media[2].max_message_size(), Some(65536));
    assert_eq!(sdp.setup_for(&sdp.media[2]), Some(Setup::Active));
}

#[test]
fn pre_bundle_fields() {
    let sdp = corpus("pre-bundle-rtcp-ports");
    assert!(sdp.bundle_mids().is_none());
    assert_eq!(sdp.ice_ufrag(), Some("F7gI"));
    let audio = &sdp.media[0];
    assert_eq!(
        sdp.ice_credentials(audio),
        Some(("F7gI", "x9cml/YzichV2+XlhiMu8g"))
    );
    assert!(!audio.rtcp_mux());
    let rtcp: Vec<_> = audio
        .candidates()
        .filter(|c| c.component == 2)
        .map(|c| c.port)
        .collect();
    assert_eq!(rtcp, [54401, 60001]);
    assert!(audio.attributes().any(|a| *a == Attribute::Ptime("20".into())));
    assert!(audio.attributes().any(|a| *a == Attribute::Maxptime("60".into())));
    let video = &sdp.media[1];
    assert!(
        video
            .lines
            .iter()
            .any(|l| matches!(l, Line::Bandwidth(b) if b.bwtype == "AS" && b.bandwidth == 512))
    );
    assert!(
        video
            .attributes()
            .any(|a| *a == Attribute::Framerate("29.97".into()))
    );
    assert!(matches!(
        video.attributes().find(|a| matches!(a, Attribute::Rtcp(_))),
        Some(Attribute::Rtcp(r)) if r.port == 55401 && r.connection.is_none()
    ));
    assert_eq!(
        sdp.media[0].candidates().next().unwrap().protocol(),
        Some(Protocol::Udp)
    );
}

#[test]
fn ipv6_and_mdns_candidates_fields() {
    let sdp = corpus("ipv6-mdns-candidates");
    assert_eq!(mids(&sdp), ["data"]);
    let m = sdp.media_by_mid("data").unwrap();
    let types: Vec<_> = m.candidates().map(|c| c.typ).collect();
    use CandidateType::*;
    assert_eq!(
        types,
        [Host, Host, ServerReflexive, Relay, Host, Host, PeerReflexive]
    );
    let relay = m.candidates().nth(3).unwrap();
    assert_eq!(
        relay.socket_addr(),
        Some("[2001:db8:ffff::3]:61001".parse().unwrap())
    );
    assert_eq!(
        relay.related_socket_addr(),
        Some("[2001:db8:1::55]:42001".parse().unwrap())
    );
    assert_eq!(m.candidates().filter(|c| c.is_mdns()).count(), 2);
    assert_eq!(m.candidates().nth(6).unwrap().extension("ufrag"), Some("ZkRt"));
    assert_eq!(m.max_message_size(), Some(1073741823));
    assert!(
        m.attributes()
            .any(|a| matches!(a, Attribute::SctpInit(v) if v.starts_with("AQAAVP8N")))
    );
    let options: Vec<_> = sdp
        .attributes()
        .filter_map(|a| match a {
            Attribute::IceOptions(o) => Some(o.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(options, ["trickle ice2 renomination"]);
}

#[test]
fn rfc8866_examples_fields() {
    let sdp = corpus("rfc8866-plain-rtp");
    assert_eq!(&*sdp.origin.username, "jdoe");
    assert_eq!(sdp.origin.session_version, 3724394405);
    assert_eq!(&*sdp.session_name, "Call to John Smith");
    assert!(matches!(&sdp.lines[0], Line::Information(i) if i == "SDP Offer #1"));
    assert!(
        sdp.lines
            .iter()
            .any(|l| matches!(l, Line::Email(e) if e.contains("jane@")))
    );
    assert!(
        sdp.lines
            .iter()
            .any(|l| matches!(l, Line::Timing { start: 0, stop: 0 }))
    );
    assert_eq!(sdp.media.len(), 3);
    assert_eq!(sdp.media[2].codec(99).rtpmap.unwrap().encoding, "h263-1998");
    assert!(
        matches!(&sdp.media[2].lines[0], Line::Connection(c) if c.addrtype == "IP6" && c.address == "2001:db8::2")
    );
    assert_eq!(sdp.direction_for(&sdp.media[0]), Direction::SendRecv);

    let sdp = corpus("rfc8866-repeat-zone");
    assert!(
        sdp.lines
            .iter()
            .any(|l| matches!(l, Line::Repeat(r) if r == "7d 1h 0 25h"))
    );
    assert!(sdp.lines.iter().any(|l| matches!(l, Line::TimeZones(_))));
    assert_eq!(sdp.media[1].port_count, Some(2));
    // The session-level recvonly applies to media without their own.
    assert_eq!(sdp.direction_for(&sdp.media[0]), Direction::RecvOnly);
    let _ = PayloadType::All;
}
