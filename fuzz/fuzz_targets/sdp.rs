//! Arbitrary text through rtcwire-sdp's parser, writer and typed accessors.
//!
//! - Input that is not UTF-8 is skipped (the API takes `&str`).
//! - `SessionDescription::parse`; a rejection must name a line of the input
//!   (or line 0) and display.
//! - When it accepts: `to_sdp`, parsed again (must succeed), the same model
//!   (`PartialEq`), and written again to the same text; `into_owned`, `Display`
//!   and `FromStr` agree with it.
//! - Every accessor on the session and on every media section: BUNDLE mids,
//!   ICE credentials and options, fingerprints (and their bytes), setup,
//!   direction, candidates (protocol, IP, socket addresses, mDNS, extensions),
//!   codecs (rtpmap, fmtp parameters, feedback), extmaps, msids, ssrcs,
//!   rids, simulcast streams, SCTP port and message size; with the
//!   invariants that tie them to the lines they come from.
//!
//! Run: `cargo fuzz run --sanitizer none sdp corpus/sdp seeds/sdp -- -dict=sdp.dict`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcwire_sdp::{
    Attribute, Line, MediaDescription, PayloadType, SessionDescription, Simulcast, SimulcastStream,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sdp = match SessionDescription::parse(text) {
        Ok(sdp) => sdp,
        Err(e) => {
            assert!(e.line <= text.split('\n').count(), "{e}");
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    round_trip(&sdp);
    session_accessors(&sdp);
    for m in &sdp.media {
        media_accessors(&sdp, m);
    }
});

fn round_trip(sdp: &SessionDescription<'_>) {
    let written = sdp.to_sdp();
    let again = SessionDescription::parse(&written)
        .unwrap_or_else(|e| panic!("written description does not parse: {e}\n{written}"));
    assert_eq!(&again, sdp, "re-parsed model differs\n{written}");
    assert_eq!(again.to_sdp(), written, "second serialisation differs");

    let owned = sdp.clone().into_owned();
    assert_eq!(&owned, sdp);
    assert_eq!(owned.to_sdp(), written);
    assert_eq!(sdp.to_string(), written);
    let from_str: SessionDescription<'static> = written.parse().expect("FromStr of written text");
    assert_eq!(&from_str, sdp);
    let mut appended = String::from("x");
    sdp.write(&mut appended);
    assert_eq!(&appended[1..], written);
}

fn session_accessors(sdp: &SessionDescription<'_>) {
    let attributes: Vec<&Attribute<'_>> = sdp.attributes().collect();
    assert_eq!(
        attributes.len(),
        sdp.lines
            .iter()
            .filter(|l| matches!(l, Line::Attribute(_)))
            .count()
    );
    if let Some(mids) = sdp.bundle_mids() {
        for mid in mids {
            if let Some(m) = sdp.media_by_mid(mid) {
                assert_eq!(m.mid(), Some(mid));
            }
        }
    }
    assert_eq!(
        sdp.ice_lite(),
        attributes.iter().any(|a| matches!(a, Attribute::IceLite))
    );
    let _ = (sdp.ice_ufrag(), sdp.ice_pwd(), sdp.setup());
    for f in sdp.fingerprints() {
        fingerprint(f);
    }
    let by_section: usize = sdp.media.iter().map(|m| m.candidates().count()).sum();
    let mut n = 0;
    for (i, c) in sdp.candidates() {
        assert!(i < sdp.media.len());
        n += 1;
        let _ = c;
    }
    assert_eq!(n, by_section);
    let _ = format!("{sdp:?}");
}

fn fingerprint(f: &rtcwire_sdp::Fingerprint<'_>) {
    if let Some(bytes) = f.bytes() {
        assert_eq!(bytes.len(), f.value.len().div_ceil(3));
        assert!(!bytes.is_empty() && bytes.len() <= 64);
    }
}

fn media_accessors(sdp: &SessionDescription<'_>, m: &MediaDescription<'_>) {
    if let Some(mid) = m.mid() {
        let first = sdp.media_by_mid(mid).expect("a section with this mid");
        assert_eq!(first.mid(), Some(mid));
    }
    let own_direction = m.direction();
    let direction = sdp.direction_for(m);
    if let Some(d) = own_direction {
        assert_eq!(direction, d);
        assert_eq!(d.reverse().reverse(), d);
    }

    match sdp.ice_credentials(m) {
        Some((ufrag, pwd)) => {
            assert_eq!(Some(ufrag), m.ice_ufrag().or(sdp.ice_ufrag()));
            assert_eq!(Some(pwd), m.ice_pwd().or(sdp.ice_pwd()));
        }
        None => {
            assert!(m.ice_ufrag().or(sdp.ice_ufrag()).is_none() || m.ice_pwd().or(sdp.ice_pwd()).is_none())
        }
    }
    for o in m.ice_options() {
        assert!(!o.is_empty() && !o.contains(' '));
    }

    let fingerprints = sdp.fingerprints_for(m);
    if m.fingerprints().next().is_some() {
        assert_eq!(fingerprints.len(), m.fingerprints().count());
    } else {
        assert_eq!(fingerprints.len(), sdp.fingerprints().count());
    }
    for f in fingerprints {
        fingerprint(f);
    }
    if let Some(s) = m.setup() {
        assert_eq!(sdp.setup_for(m), Some(s));
    }

    for c in m.candidates() {
        let _ = c.protocol();
        let ip = c.ip();
        match c.socket_addr() {
            Some(addr) => {
                assert_eq!(Some(addr.ip()), ip);
                assert_eq!(addr.port(), c.port);
            }
            None => assert!(ip.is_none()),
        }
        if c.is_mdns() {
            assert!(ip.is_none(), "{} is both mDNS and an IP", c.address);
        }
        if let Some(r) = c.related_socket_addr() {
            assert_eq!(Some(r.port()), c.related_port);
        }
        for (k, v) in &c.extensions {
            let first = c.extension(k).expect("a listed extension is found");
            if first != &**v {
                assert!(c.extensions.iter().filter(|(k2, _)| k2 == k).count() > 1);
            }
        }
        let _ = (c.typ.as_str(), c.tcp_type.map(|t| t.as_str()));
    }
    let _ = (m.end_of_candidates(), m.rtcp_mux(), m.bundle_only());

    for msid in m.msids() {
        let _ = (&msid.stream_id, &msid.track_id);
    }
    for e in m.extmaps() {
        let _ = (e.id, e.direction.map(|d| d.as_str()), &e.uri);
    }

    let rtpmaps = m.rtpmaps().count();
    assert!(rtpmaps <= m.attributes().count());
    let payload_types: Vec<u8> = m.payload_types().collect();
    let mut codecs = 0;
    for (codec, pt) in m.codecs().zip(&payload_types) {
        codecs += 1;
        assert_eq!(codec.payload_type, *pt);
        assert_eq!(codec, m.codec(*pt));
        if let Some(r) = codec.rtpmap {
            assert_eq!(r.payload_type, *pt);
        }
        if let Some(f) = codec.fmtp {
            assert_eq!(f.payload_type, *pt);
            for (k, v) in f.params() {
                assert!(!k.contains(';'));
                assert_eq!(k, k.trim());
                if let Some(v) = v {
                    assert_eq!(v, v.trim());
                }
                let got = f.get(k);
                let first = f.params().find(|(k2, _)| *k2 == k).and_then(|(_, v)| v);
                assert_eq!(got, first);
            }
        }
        for fb in &codec.feedback {
            assert!(fb.payload_type == PayloadType::Pt(*pt) || fb.payload_type == PayloadType::All);
        }
    }
    assert_eq!(codecs, payload_types.len());
    // fmtp lines for payload types not on the m= line are still readable.
    for a in m.attributes() {
        if let Attribute::Fmtp(f) = a {
            for (k, _) in f.params() {
                let _ = f.get(k);
            }
        }
    }

    for s in m.ssrcs() {
        let _ = (s.ssrc, &s.attribute, &s.value);
    }
    for g in m.ssrc_groups() {
        let _ = (&g.semantics, g.ssrcs.len());
    }
    for r in m.rids() {
        let _ = (&r.id, r.direction, &r.restrictions);
    }
    if let Some(sim) = m.simulcast() {
        for list in [&sim.send, &sim.recv].into_iter().flatten() {
            let mut rids = 0;
            for alternatives in Simulcast::streams(list) {
                for SimulcastStream { rid, paused } in alternatives {
                    assert!(!rid.contains(';') && !rid.contains(','));
                    let _ = paused;
                    rids += 1;
                }
            }
            assert!(rids >= 1);
        }
    }
    let _ = (m.sctp_port(), m.max_message_size());
}
