//! Session descriptions for JSEP (RFC 9429): what our offers and answers
//! say, and what we take from the peer's.
//!
//! Descriptions are written as text here (the shape is fixed and small)
//! and read with `rtcwire-sdp`'s typed parser.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use rtcwire_ice::{Candidate, CandidateKind};
use rtcwire_sdp::{CandidateType, Direction, MediaDescription, SessionDescription as Parsed, Setup};

use crate::RtcError;

/// Whether a description is an offer, an answer, or the rollback of a
/// pending offer (W3C `RTCSdpType`; provisional answers are not supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SdpType {
    /// An offer.
    Offer,
    /// A final answer.
    Answer,
    /// Discards the pending offer (local or remote) and returns to stable.
    Rollback,
}

impl SdpType {
    /// `"offer"`, `"answer"` or `"rollback"`, as in `RTCSessionDescription.type`.
    pub fn as_str(self) -> &'static str {
        match self {
            SdpType::Offer => "offer",
            SdpType::Answer => "answer",
            SdpType::Rollback => "rollback",
        }
    }

    /// The inverse of [`as_str`](SdpType::as_str).
    pub fn from_name(name: &str) -> Option<SdpType> {
        match name {
            "offer" => Some(SdpType::Offer),
            "answer" => Some(SdpType::Answer),
            "rollback" => Some(SdpType::Rollback),
            _ => None,
        }
    }
}

/// A session description with its type, as exchanged through signalling
/// (W3C `RTCSessionDescriptionInit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// Offer, answer or rollback.
    pub kind: SdpType,
    /// The SDP text (empty for a rollback).
    pub sdp: String,
}

impl SessionDescription {
    /// An offer.
    pub fn offer(sdp: impl Into<String>) -> SessionDescription {
        SessionDescription {
            kind: SdpType::Offer,
            sdp: sdp.into(),
        }
    }

    /// An answer.
    pub fn answer(sdp: impl Into<String>) -> SessionDescription {
        SessionDescription {
            kind: SdpType::Answer,
            sdp: sdp.into(),
        }
    }

    /// A rollback.
    pub fn rollback() -> SessionDescription {
        SessionDescription {
            kind: SdpType::Rollback,
            sdp: String::new(),
        }
    }
}

/// What an m-section carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SectionKind {
    /// `m=application ... UDP/DTLS/SCTP webrtc-datachannel`.
    Application,
    /// Audio or video, received (this version sends no media): the lines
    /// after `a=mid` are kept as written.
    Media { lines: String },
    /// Refused (port 0), or refused by the peer.
    Rejected,
}

/// One m-section of the negotiated session, in m-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub(crate) mid: String,
    /// `audio`, `video`, `application`, ...
    pub(crate) media: String,
    pub(crate) proto: String,
    /// The m-line's formats.
    pub(crate) formats: String,
    pub(crate) kind: SectionKind,
}

impl Section {
    pub(crate) fn application(mid: String) -> Section {
        Section {
            mid,
            media: "application".to_owned(),
            proto: "UDP/DTLS/SCTP".to_owned(),
            formats: "webrtc-datachannel".to_owned(),
            kind: SectionKind::Application,
        }
    }

    pub(crate) fn is_rejected(&self) -> bool {
        self.kind == SectionKind::Rejected
    }
}

/// Everything of ours a description states besides its sections.
#[derive(Debug)]
pub(crate) struct LocalParams<'a> {
    pub(crate) session_id: u64,
    pub(crate) session_version: u64,
    pub(crate) ufrag: &'a str,
    pub(crate) pwd: &'a str,
    /// `sha-256 AB:CD:...`
    pub(crate) fingerprint: &'a str,
    pub(crate) setup: &'static str,
    pub(crate) ice_lite: bool,
    /// `candidate:...` values.
    pub(crate) candidates: &'a [String],
    pub(crate) end_of_candidates: bool,
    pub(crate) sctp_port: u16,
    pub(crate) max_message_size: usize,
}

/// Writes a whole description (CRLF line ends, as RFC 8866 asks).
pub(crate) fn write_description(p: &LocalParams<'_>, sections: &[Section]) -> String {
    let mut s = String::with_capacity(1024 + 256 * sections.len() + 96 * p.candidates.len());
    s.push_str("v=0\r\n");
    let _ = write!(
        s,
        "o=rtcwire {} {} IN IP4 0.0.0.0\r\n",
        p.session_id, p.session_version
    );
    s.push_str("s=-\r\nt=0 0\r\n");
    let bundle: Vec<&str> = sections
        .iter()
        .filter(|x| !x.is_rejected())
        .map(|x| x.mid.as_str())
        .collect();
    if !bundle.is_empty() {
        let _ = write!(s, "a=group:BUNDLE {}\r\n", bundle.join(" "));
    }
    if p.ice_lite {
        s.push_str("a=ice-lite\r\n");
    }
    s.push_str("a=msid-semantic: WMS\r\n");
    let first_bundled = bundle.first().copied();
    for section in sections {
        if section.is_rejected() {
            let _ = write!(
                s,
                "m={} 0 {} {}\r\nc=IN IP4 0.0.0.0\r\na=mid:{}\r\na=inactive\r\n",
                section.media, section.proto, section.formats, section.mid
            );
            continue;
        }
        let _ = write!(
            s,
            "m={} 9 {} {}\r\nc=IN IP4 0.0.0.0\r\n",
            section.media, section.proto, section.formats
        );
        if matches!(section.kind, SectionKind::Media { .. }) {
            s.push_str("a=rtcp:9 IN IP4 0.0.0.0\r\n");
        }
        // With BUNDLE, candidates belong to the tagged (first) section.
        if Some(section.mid.as_str()) == first_bundled {
            for c in p.candidates {
                let _ = write!(s, "a={c}\r\n");
            }
            if p.end_of_candidates {
                s.push_str("a=end-of-candidates\r\n");
            }
        }
        let _ = write!(
            s,
            "a=ice-ufrag:{}\r\na=ice-pwd:{}\r\na=ice-options:trickle\r\na=fingerprint:{}\r\na=setup:{}\r\na=mid:{}\r\n",
            p.ufrag, p.pwd, p.fingerprint, p.setup, section.mid
        );
        match &section.kind {
            SectionKind::Application => {
                let _ = write!(
                    s,
                    "a=sctp-port:{}\r\na=max-message-size:{}\r\n",
                    p.sctp_port, p.max_message_size
                );
            }
            SectionKind::Media { lines } => s.push_str(lines),
            SectionKind::Rejected => {}
        }
    }
    s
}

/// A candidate the peer signalled, ready for the ICE agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RemoteCandidate {
    /// With an IP address.
    Address(Candidate),
    /// Behind an mDNS `.local` name.
    Mdns {
        name: String,
        port: u16,
        kind: CandidateKind,
        priority: u32,
        foundation: String,
    },
}

/// Reads one `candidate:` value (with or without the `a=` and
/// `candidate:` prefixes). `Ok(None)` for candidates ICE over UDP cannot
/// use: TCP, another component.
pub(crate) fn parse_candidate(text: &str) -> Result<Option<RemoteCandidate>, RtcError> {
    let text = text.trim().trim_start_matches("a=");
    let c = rtcwire_sdp::Candidate::parse(text).map_err(RtcError::Candidate)?;
    if !c.transport.eq_ignore_ascii_case("udp") || c.component != 1 {
        return Ok(None);
    }
    let kind = match c.typ {
        CandidateType::Host => CandidateKind::Host,
        CandidateType::ServerReflexive => CandidateKind::ServerReflexive,
        CandidateType::PeerReflexive => CandidateKind::PeerReflexive,
        CandidateType::Relay => CandidateKind::Relayed,
    };
    if let Ok(ip) = c.address.parse::<IpAddr>() {
        let related = match (&c.related_address, c.related_port) {
            (Some(a), Some(p)) => a.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, p)),
            _ => None,
        };
        let candidate = Candidate::remote(
            kind,
            SocketAddr::new(ip, c.port),
            c.priority,
            &c.foundation,
            related,
        )
        .ok_or(RtcError::Candidate("foundation of 1 to 32 characters"))?;
        return Ok(Some(RemoteCandidate::Address(candidate)));
    }
    if c.address.to_ascii_lowercase().ends_with(".local") {
        return Ok(Some(RemoteCandidate::Mdns {
            name: c.address.to_string(),
            port: c.port,
            kind,
            priority: c.priority,
            foundation: c.foundation.to_string(),
        }));
    }
    Err(RtcError::Candidate(
        "address is neither an IP address nor a .local name",
    ))
}

/// One of the peer's m-sections.
#[derive(Debug, Clone)]
pub(crate) struct RemoteSection {
    pub(crate) mid: String,
    pub(crate) media: String,
    pub(crate) proto: String,
    pub(crate) formats: String,
    pub(crate) rejected: bool,
    /// What our answer to this section says (for offers).
    pub(crate) answer: SectionKind,
}

/// What we take from the peer's description.
#[derive(Debug, Clone)]
pub(crate) struct Remote {
    pub(crate) ufrag: String,
    pub(crate) pwd: String,
    pub(crate) fingerprints: Vec<rtcwire_dtls::Fingerprint>,
    pub(crate) setup: Setup,
    pub(crate) ice_lite: bool,
    pub(crate) candidates: Vec<RemoteCandidate>,
    pub(crate) end_of_candidates: bool,
    pub(crate) sections: Vec<RemoteSection>,
    /// The application section's `max-message-size` (RFC 8841: 0 means
    /// no limit, absent means 64 KiB).
    pub(crate) max_message_size: Option<u64>,
    pub(crate) sctp_port: Option<u16>,
}

impl Remote {
    pub(crate) fn application(&self) -> Option<&RemoteSection> {
        self.sections
            .iter()
            .find(|s| !s.rejected && s.answer == SectionKind::Application)
    }
}

/// Reads the peer's description.
pub(crate) fn parse_remote(text: &str) -> Result<Remote, RtcError> {
    let sdp = Parsed::parse(text)?;
    if sdp.media.is_empty() {
        return Err(RtcError::Negotiation("no m-sections"));
    }
    let bundle: Option<Vec<String>> = sdp.bundle_mids().map(|m| m.map(str::to_owned).collect());
    // The transport comes from the BUNDLE-tagged section (the first mid of
    // the group), or from the only section there is.
    let tagged = match &bundle {
        Some(mids) => mids
            .first()
            .and_then(|mid| sdp.media_by_mid(mid))
            .ok_or(RtcError::Negotiation("BUNDLE group names no m-section"))?,
        None if sdp.media.len() == 1 => &sdp.media[0],
        None => {
            return Err(RtcError::Negotiation(
                "several m-sections without BUNDLE (max-bundle is required)",
            ));
        }
    };
    let (ufrag, pwd) = sdp
        .ice_credentials(tagged)
        .ok_or(RtcError::Negotiation("no ice-ufrag/ice-pwd"))?;
    let mut fingerprints = Vec::new();
    for f in sdp.fingerprints_for(tagged) {
        if let Ok(fp) = rtcwire_dtls::Fingerprint::parse_sdp(&f.hash_function, &f.value) {
            fingerprints.push(fp);
        }
    }
    if fingerprints.is_empty() {
        return Err(RtcError::Negotiation("no usable a=fingerprint"));
    }
    let setup = sdp.setup_for(tagged).unwrap_or(Setup::ActPass);
    let mut candidates = Vec::new();
    for c in tagged.candidates() {
        let text = c.to_string();
        if let Ok(Some(rc)) = parse_candidate(&text) {
            if !candidates.contains(&rc) {
                candidates.push(rc);
            }
        }
    }
    let mut sections = Vec::with_capacity(sdp.media.len());
    let mut max_message_size = None;
    let mut sctp_port = None;
    for (i, m) in sdp.media.iter().enumerate() {
        let mid = m.mid().map_or_else(|| i.to_string(), str::to_owned);
        let bundled = match &bundle {
            Some(mids) => mids.contains(&mid),
            None => true,
        };
        let rejected = m.port == 0 || !bundled;
        let answer = if rejected {
            SectionKind::Rejected
        } else {
            answer_kind(&sdp, m, &mut max_message_size, &mut sctp_port)
        };
        sections.push(RemoteSection {
            mid,
            media: m.media.to_string(),
            proto: m.proto.to_string(),
            formats: m.formats.iter().map(|f| f.as_ref()).collect::<Vec<_>>().join(" "),
            rejected,
            answer,
        });
    }
    Ok(Remote {
        ufrag: ufrag.to_owned(),
        pwd: pwd.to_owned(),
        fingerprints,
        setup,
        ice_lite: sdp.ice_lite(),
        end_of_candidates: tagged.end_of_candidates(),
        candidates,
        sections,
        max_message_size,
        sctp_port,
    })
}

/// What we answer to one of the peer's live sections.
fn answer_kind(
    sdp: &Parsed<'_>,
    m: &MediaDescription<'_>,
    max_message_size: &mut Option<u64>,
    sctp_port: &mut Option<u16>,
) -> SectionKind {
    let is_data = m.media == "application"
        && m.proto.contains("DTLS/SCTP")
        && m.formats.iter().any(|f| f == "webrtc-datachannel");
    if is_data {
        if sctp_port.is_some() {
            // One SCTP association per transport.
            return SectionKind::Rejected;
        }
        *max_message_size = Some(m.max_message_size().unwrap_or(65_536));
        *sctp_port = Some(m.sctp_port().unwrap_or(5000));
        return SectionKind::Application;
    }
    let is_media = (m.media == "audio" || m.media == "video") && m.proto.contains("SAVP");
    if !is_media {
        return SectionKind::Rejected;
    }
    match media_answer_lines(sdp, m) {
        Some(lines) => SectionKind::Media { lines },
        None => SectionKind::Rejected,
    }
}

/// The codec we take from an offered audio or video section, in order of
/// preference; otherwise the first one offered.
fn preferred_codec(m: &MediaDescription<'_>) -> Option<u8> {
    let wanted: &[&str] = if m.media == "audio" {
        &["opus", "PCMU", "PCMA"]
    } else {
        &["VP8", "VP9", "H264", "AV1"]
    };
    let codecs: Vec<_> = m.codecs().filter(|c| c.rtpmap.is_some()).collect();
    for name in wanted {
        if let Some(c) = codecs
            .iter()
            .find(|c| c.rtpmap.is_some_and(|r| r.encoding.eq_ignore_ascii_case(name)))
        {
            return Some(c.payload_type);
        }
    }
    codecs
        .iter()
        .find(|c| {
            c.rtpmap.is_some_and(|r| {
                !["rtx", "red", "ulpfec", "flexfec-03", "telephone-event", "CN"]
                    .iter()
                    .any(|n| r.encoding.eq_ignore_ascii_case(n))
            })
        })
        .map(|c| c.payload_type)
}

/// The lines after `a=mid` of our answer to an audio or video section: we
/// receive (or, if the peer does not send, stay inactive) with one codec.
fn media_answer_lines(sdp: &Parsed<'_>, m: &MediaDescription<'_>) -> Option<String> {
    let pt = preferred_codec(m)?;
    let codec = m.codec(pt);
    let rtpmap = codec.rtpmap?;
    let mut s = String::new();
    for e in m.extmaps() {
        if e.uri == "urn:ietf:params:rtp-hdrext:sdes:mid" {
            let _ = write!(s, "a=extmap:{} {}\r\n", e.id, e.uri);
        }
    }
    let direction = match sdp.direction_for(m) {
        Direction::SendRecv | Direction::SendOnly => "recvonly",
        _ => "inactive",
    };
    let _ = write!(s, "a={direction}\r\na=rtcp-mux\r\n");
    if m.attributes()
        .any(|a| matches!(a, rtcwire_sdp::Attribute::RtcpRsize))
    {
        s.push_str("a=rtcp-rsize\r\n");
    }
    let _ = write!(s, "a=rtpmap:{} {}/{}", pt, rtpmap.encoding, rtpmap.clock_rate);
    if let Some(ch) = rtpmap.channels {
        let _ = write!(s, "/{ch}");
    }
    s.push_str("\r\n");
    for fb in &codec.feedback {
        let _ = write!(s, "a=rtcp-fb:{} {}", pt, fb.feedback);
        if let Some(p) = &fb.parameter {
            let _ = write!(s, " {p}");
        }
        s.push_str("\r\n");
    }
    if let Some(f) = codec.fmtp {
        let _ = write!(s, "a=fmtp:{} {}\r\n", pt, f.parameters);
    }
    Some(s)
}

/// The sections of our answer to `remote`.
pub(crate) fn answer_sections(remote: &Remote) -> Vec<Section> {
    remote
        .sections
        .iter()
        .map(|r| {
            let formats = if r.answer == SectionKind::Application {
                r.formats.clone()
            } else if let SectionKind::Media { lines } = &r.answer {
                // The payload type we kept.
                lines
                    .lines()
                    .find_map(|l| l.strip_prefix("a=rtpmap:"))
                    .and_then(|l| l.split(' ').next())
                    .unwrap_or("0")
                    .to_owned()
            } else {
                r.formats.clone()
            };
            Section {
                mid: r.mid.clone(),
                media: r.media.clone(),
                proto: r.proto.clone(),
                formats,
                kind: r.answer.clone(),
            }
        })
        .collect()
}
