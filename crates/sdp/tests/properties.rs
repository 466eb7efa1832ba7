//! Property tests: any model this crate can write reads back as the same
//! model, and arbitrary text never panics the parser.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::borrow::Cow;

use proptest::prelude::*;
use rtcwire_sdp::*;

/// A token: no spaces, no line breaks.
fn tok() -> impl Strategy<Value = Cow<'static, str>> {
    "[A-Za-z0-9+/._{}-]{1,12}".prop_map(Cow::Owned)
}

/// Free text: spaces allowed inside, no line breaks, no leading or trailing
/// space.
fn text() -> impl Strategy<Value = Cow<'static, str>> {
    "[A-Za-z0-9=;:/.-]([A-Za-z0-9 =;:/.-]{0,20}[A-Za-z0-9=;:/.-])?".prop_map(Cow::Owned)
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::SendRecv),
        Just(Direction::SendOnly),
        Just(Direction::RecvOnly),
        Just(Direction::Inactive)
    ]
}

/// A foundation: 1 to 32 ice-chars.
fn foundation() -> impl Strategy<Value = Cow<'static, str>> {
    "[A-Za-z0-9+/]{1,32}".prop_map(Cow::Owned)
}

fn candidate() -> impl Strategy<Value = Candidate<'static>> {
    let kinds = prop_oneof![
        Just(CandidateType::Host),
        Just(CandidateType::ServerReflexive),
        Just(CandidateType::PeerReflexive),
        Just(CandidateType::Relay)
    ];
    let tcp = prop_oneof![
        Just(None),
        Just(Some(TcpType::Active)),
        Just(Some(TcpType::Passive)),
        Just(Some(TcpType::SimultaneousOpen))
    ];
    let ext = proptest::collection::vec(("[a-qs-z][a-z-]{0,8}", tok()), 0..4)
        .prop_map(|v| v.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect::<Vec<_>>());
    (
        (
            foundation(),
            any::<u16>(),
            tok(),
            any::<u32>(),
            tok(),
            any::<u16>(),
            kinds,
        ),
        (
            proptest::option::of(tok()),
            proptest::option::of(any::<u16>()),
            tcp,
            ext,
        ),
    )
        .prop_map(
            |(
                (foundation, component, transport, priority, address, port, typ),
                (raddr, rport, tcp_type, extensions),
            )| {
                Candidate {
                    foundation,
                    component,
                    transport,
                    priority,
                    address,
                    port,
                    typ,
                    related_address: raddr,
                    related_port: rport,
                    tcp_type,
                    extensions,
                }
            },
        )
}

fn attribute() -> impl Strategy<Value = Attribute<'static>> {
    let pt = 0u8..=127;
    prop_oneof![
        (tok(), proptest::collection::vec(tok(), 0..4))
            .prop_map(|(semantics, mids)| Attribute::Group(Group { semantics, mids })),
        text().prop_map(Attribute::MsidSemantic),
        Just(Attribute::ExtmapAllowMixed),
        tok().prop_map(Attribute::IceUfrag),
        tok().prop_map(Attribute::IcePwd),
        text().prop_map(Attribute::IceOptions),
        Just(Attribute::IceLite),
        (tok(), tok()).prop_map(|(h, v)| Attribute::Fingerprint(Fingerprint {
            hash_function: h,
            value: v
        })),
        prop_oneof![
            Just(Setup::ActPass),
            Just(Setup::Active),
            Just(Setup::Passive),
            Just(Setup::HoldConn)
        ]
        .prop_map(Attribute::Setup),
        tok().prop_map(Attribute::Mid),
        (
            1u16..=255,
            proptest::option::of(direction()),
            tok(),
            proptest::option::of(text())
        )
            .prop_map(|(id, direction, uri, attributes)| Attribute::Extmap(Extmap {
                id,
                direction,
                uri,
                attributes
            })),
        direction().prop_map(Attribute::Direction),
        (tok(), proptest::option::of(tok())).prop_map(|(s, t)| Attribute::Msid(Msid {
            stream_id: s,
            track_id: t
        })),
        (any::<u16>(), proptest::option::of(text()))
            .prop_map(|(port, connection)| Attribute::Rtcp(Rtcp { port, connection })),
        Just(Attribute::RtcpMux),
        Just(Attribute::RtcpMuxOnly),
        Just(Attribute::RtcpRsize),
        (
            pt.clone(),
            "[A-Za-z0-9-]{1,10}",
            any::<u32>(),
            proptest::option::of(any::<u16>())
        )
            .prop_map(
                |(payload_type, e, clock_rate, channels)| Attribute::Rtpmap(Rtpmap {
                    payload_type,
                    encoding: Cow::Owned(e),
                    clock_rate,
                    channels
                })
            ),
        (pt.clone(), text()).prop_map(|(payload_type, parameters)| Attribute::Fmtp(Fmtp {
            payload_type,
            parameters
        })),
        (
            prop_oneof![pt.clone().prop_map(PayloadType::Pt), Just(PayloadType::All)],
            tok(),
            proptest::option::of(tok())
        )
            .prop_map(|(payload_type, feedback, parameter)| Attribute::RtcpFb(RtcpFb {
                payload_type,
                feedback,
                parameter
            })),
        (any::<u32>(), "[a-z-]{1,8}", proptest::option::of(text())).prop_map(|(ssrc, a, value)| {
            Attribute::Ssrc(Ssrc {
                ssrc,
                attribute: Cow::Owned(a),
                value,
            })
        }),
        (tok(), proptest::collection::vec(any::<u32>(), 0..4))
            .prop_map(|(semantics, ssrcs)| Attribute::SsrcGroup(SsrcGroup { semantics, ssrcs })),
        (tok(), any::<bool>(), proptest::option::of(tok())).prop_map(|(id, send, restrictions)| {
            Attribute::Rid(Rid {
                id,
                direction: if send {
                    RidDirection::Send
                } else {
                    RidDirection::Recv
                },
                restrictions,
            })
        }),
        (
            proptest::option::of(tok()),
            proptest::option::of(tok()),
            any::<bool>()
        )
            .prop_filter("one list at least", |(s, r, _)| s.is_some() || r.is_some())
            .prop_map(|(send, recv, recv_first)| Attribute::Simulcast(Simulcast {
                recv_first: recv_first && recv.is_some() || send.is_none(),
                send,
                recv,
            })),
        candidate().prop_map(|c| Attribute::Candidate(Box::new(c))),
        Just(Attribute::EndOfCandidates),
        any::<u16>().prop_map(Attribute::SctpPort),
        any::<u64>().prop_map(Attribute::MaxMessageSize),
        tok().prop_map(Attribute::SctpInit),
        Just(Attribute::BundleOnly),
        "[0-9]{1,3}(\\.[0-9]{1,2})?".prop_map(|v| Attribute::Framerate(Cow::Owned(v))),
        "[0-9]{1,3}".prop_map(|v| Attribute::Ptime(Cow::Owned(v))),
        "[0-9]{1,3}".prop_map(|v| Attribute::Maxptime(Cow::Owned(v))),
        ("x-[a-z]{1,8}", proptest::option::of(text())).prop_map(|(name, value)| Attribute::Other {
            name: Cow::Owned(name),
            value
        }),
    ]
}

fn media() -> impl Strategy<Value = MediaDescription<'static>> {
    (
        prop_oneof![Just("audio"), Just("video"), Just("application")],
        any::<u16>(),
        proptest::option::of(1u16..8),
        tok(),
        proptest::collection::vec(tok(), 1..6),
        proptest::collection::vec(attribute(), 0..20),
    )
        .prop_map(|(m, port, port_count, proto, formats, attrs)| MediaDescription {
            media: Cow::Borrowed(m),
            port,
            port_count,
            proto,
            formats,
            lines: attrs.into_iter().map(Line::Attribute).collect(),
        })
}

fn session() -> impl Strategy<Value = SessionDescription<'static>> {
    (
        (tok(), any::<u64>(), any::<u64>(), tok()),
        text(),
        proptest::collection::vec(attribute(), 0..10),
        proptest::collection::vec(media(), 0..4),
    )
        .prop_map(|((user, id, version, address), name, attrs, media)| {
            let mut lines = vec![Line::Timing { start: 0, stop: 0 }];
            lines.extend(attrs.into_iter().map(Line::Attribute));
            SessionDescription {
                origin: Origin {
                    username: user,
                    session_id: id,
                    session_version: version,
                    nettype: Cow::Borrowed("IN"),
                    addrtype: Cow::Borrowed("IP4"),
                    address,
                },
                session_name: name,
                lines,
                media,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn model_to_text_to_model_is_identity(sdp in session()) {
        let text = sdp.to_sdp();
        let parsed = SessionDescription::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&parsed, &sdp, "text:\n{}", text);
        prop_assert_eq!(parsed.to_sdp(), text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "(v=0\r\n)?([a-z]=[ -~]{0,40}\r?\n){0,30}") {
        if let Ok(sdp) = SessionDescription::parse(&text) {
            let written = sdp.to_sdp();
            let again = SessionDescription::parse(&written).expect("what we write we read");
            prop_assert_eq!(again.media.len(), sdp.media.len());
        }
    }

    #[test]
    fn mutated_corpus_lines_never_panic(line in 0usize..177, cut in 0usize..80, junk in "[ -~]{0,12}") {
        let text = include_str!("corpus/chromium-156-offer-audio-video-data.sdp");
        let mut lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
        if let Some(l) = lines.get_mut(line) {
            let at = cut.min(l.len());
            l.truncate(at);
            l.push_str(&junk);
        }
        let mutated = lines.join("\r\n");
        if let Ok(sdp) = SessionDescription::parse(&mutated) {
            prop_assert!(SessionDescription::parse(&sdp.to_sdp()).is_ok());
        }
    }
}
