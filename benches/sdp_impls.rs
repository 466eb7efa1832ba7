//! The work the `sdp` benchmark measures, once per implementation, shared
//! (through `#[path]`) by the benchmark and by the test that checks every
//! implementation reads the same facts from the offer, so the test covers
//! exactly the code that is timed.
//!
//! The work: Chromium 156's offer for audio, video and a data channel
//! (177 lines, 6.3 KB, CRLF): parsing it from `&str` into each
//! implementation's model, and writing that model back to a `String`.
//!
//! Each implementation is used the way its own users use it: its documented
//! parse entry point on the text as received, its own serialiser on the model
//! it parsed.

/// The offer every implementation parses.
pub const OFFER: &str = include_str!("../crates/sdp/tests/corpus/chromium-156-offer-audio-video-data.sdp");

/// What every implementation must agree on after parsing [`OFFER`]: enough
/// to show each one really parsed the media sections, the session-level
/// group, ICE attributes, codecs and candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Number of media sections.
    pub media: usize,
    /// The mids of `a=group:BUNDLE`.
    pub bundle: Vec<String>,
    /// `a=ice-ufrag` of the first media section.
    pub ufrag: String,
    /// `a=rtpmap` lines in the video section.
    pub video_rtpmaps: usize,
    /// `a=candidate` lines in all sections.
    pub candidates: usize,
}

/// The facts [`OFFER`] states, as a person reads them.
pub fn expected_facts() -> Facts {
    Facts {
        media: 3,
        bundle: vec!["0".into(), "1".into(), "2".into()],
        ufrag: "yie+".into(),
        video_rtpmaps: OFFER
            .split("\r\nm=")
            .find(|s| s.starts_with("video "))
            .map_or(0, |s| s.matches("\r\na=rtpmap:").count()),
        candidates: OFFER.matches("\r\na=candidate:").count(),
    }
}

/// The memory-bandwidth floor: splitting the text into lines, which every
/// parser does first, and nothing else.
pub mod baseline {
    use std::hint::black_box;

    /// Splits `text` into lines and hands each to `black_box`; returns the
    /// number of lines.
    pub fn split_lines(text: &str) -> usize {
        let mut n = 0;
        for line in text.lines() {
            black_box(line);
            n += 1;
        }
        n
    }

    /// The serialise floor: one allocation and a copy of the output's bytes.
    pub fn copy(text: &str) -> String {
        String::from(text)
    }
}

/// rtcwire-sdp: a zero-copy model borrowing from the text.
pub mod rtcwire {
    use rtcwire_sdp::{ParseError, SessionDescription};

    /// `SessionDescription::parse`.
    pub fn parse(text: &str) -> Result<SessionDescription<'_>, ParseError> {
        SessionDescription::parse(text)
    }

    /// `SessionDescription::to_sdp`.
    pub fn serialize(sdp: &SessionDescription<'_>) -> String {
        sdp.to_sdp()
    }

    /// The facts, read through the typed accessors.
    pub fn facts(sdp: &SessionDescription<'_>) -> super::Facts {
        super::Facts {
            media: sdp.media.len(),
            bundle: sdp
                .bundle_mids()
                .map(|mids| mids.map(str::to_owned).collect())
                .unwrap_or_default(),
            ufrag: sdp
                .media
                .first()
                .and_then(|m| sdp.ice_credentials(m))
                .map(|(ufrag, _)| ufrag.to_owned())
                .unwrap_or_default(),
            video_rtpmaps: sdp
                .media
                .iter()
                .find(|m| m.media == "video")
                .map_or(0, |m| m.rtpmaps().count()),
            candidates: sdp.candidates().count(),
        }
    }
}

/// Facts from webrtc-rs' `(key, Option<value>)` attribute lists, which `sdp`
/// and `rtc-sdp` share.
macro_rules! webrtc_rs_facts {
    ($sdp:expr) => {{
        let sdp = $sdp;
        let bundle = sdp
            .attributes
            .iter()
            .find(|a| a.key == "group")
            .and_then(|a| a.value.as_deref())
            .and_then(|v| v.strip_prefix("BUNDLE "))
            .map(|mids| mids.split(' ').map(str::to_owned).collect())
            .unwrap_or_default();
        let ufrag = sdp
            .media_descriptions
            .first()
            .and_then(|m| m.attributes.iter().find(|a| a.key == "ice-ufrag"))
            .and_then(|a| a.value.clone())
            .unwrap_or_default();
        let video_rtpmaps = sdp
            .media_descriptions
            .iter()
            .find(|m| m.media_name.media == "video")
            .map_or(0, |m| m.attributes.iter().filter(|a| a.key == "rtpmap").count());
        let candidates = sdp
            .media_descriptions
            .iter()
            .flat_map(|m| &m.attributes)
            .filter(|a| a.is_ice_candidate())
            .count();
        super::Facts {
            media: sdp.media_descriptions.len(),
            bundle,
            ufrag,
            video_rtpmaps,
            candidates,
        }
    }};
}

/// webrtc-rs' `sdp` crate (0.17): a model of owned `String`s, with
/// attributes kept as untyped key/value pairs; read through `BufRead + Seek`.
pub mod webrtc_rs {
    use std::io::Cursor;

    use sdp::{Error, SessionDescription};

    /// `SessionDescription::unmarshal` over a `Cursor` on the text.
    pub fn parse(text: &str) -> Result<SessionDescription, Error> {
        SessionDescription::unmarshal(&mut Cursor::new(text.as_bytes()))
    }

    /// `SessionDescription::marshal`.
    pub fn serialize(sdp: &SessionDescription) -> String {
        sdp.marshal()
    }

    /// The facts, read from the attribute lists.
    pub fn facts(sdp: &SessionDescription) -> super::Facts {
        webrtc_rs_facts!(sdp)
    }
}

/// webrtc-rs/rtc's sans-IO `rtc-sdp` (0.21): the same model and lexer as
/// `sdp`, maintained with the sans-IO stack.
pub mod rtc_sdp {
    use std::io::Cursor;

    use rtc_sdp::SessionDescription;

    /// `SessionDescription::unmarshal` over a `Cursor` on the text.
    pub fn parse(text: &str) -> Result<SessionDescription, impl std::fmt::Display + std::fmt::Debug> {
        SessionDescription::unmarshal(&mut Cursor::new(text.as_bytes()))
    }

    /// `SessionDescription::marshal`.
    pub fn serialize(sdp: &SessionDescription) -> String {
        sdp.marshal()
    }

    /// The facts, read from the attribute lists.
    pub fn facts(sdp: &SessionDescription) -> super::Facts {
        webrtc_rs_facts!(sdp)
    }
}

/// Mozilla's `webrtc-sdp` (0.3, Firefox's parser): a fully typed model of
/// owned values; parsed in its lenient mode (`fail_on_warning = false`, as
/// Firefox calls it), so unsupported attributes become warnings.
pub mod mozilla {
    use webrtc_sdp::SdpSession;
    use webrtc_sdp::attribute_type::{SdpAttribute, SdpAttributeGroupSemantic, SdpAttributeType};
    use webrtc_sdp::error::SdpParserError;
    use webrtc_sdp::media_type::SdpMediaValue;

    /// `webrtc_sdp::parse_sdp(text, false)`.
    pub fn parse(text: &str) -> Result<SdpSession, SdpParserError> {
        webrtc_sdp::parse_sdp(text, false)
    }

    /// `Display`, through `to_string()`.
    pub fn serialize(sdp: &SdpSession) -> String {
        sdp.to_string()
    }

    /// The facts, read from the typed attributes.
    pub fn facts(sdp: &SdpSession) -> super::Facts {
        let bundle = sdp
            .attribute
            .iter()
            .find_map(|a| match a {
                SdpAttribute::Group(g) if matches!(g.semantics, SdpAttributeGroupSemantic::Bundle) => {
                    Some(g.tags.clone())
                }
                _ => None,
            })
            .unwrap_or_default();
        let ufrag = sdp
            .media
            .first()
            .and_then(|m| m.get_attribute(SdpAttributeType::IceUfrag))
            .and_then(|a| match a {
                SdpAttribute::IceUfrag(u) => Some(u.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let video_rtpmaps = sdp
            .media
            .iter()
            .find(|m| *m.get_type() == SdpMediaValue::Video)
            .map_or(0, |m| m.get_attributes_of_type(SdpAttributeType::Rtpmap).len());
        let candidates = sdp
            .media
            .iter()
            .map(|m| m.get_attributes_of_type(SdpAttributeType::Candidate).len())
            .sum();
        super::Facts {
            media: sdp.media.len(),
            bundle,
            ufrag,
            video_rtpmaps,
            candidates,
        }
    }
}
