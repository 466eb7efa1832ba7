//! Media sections: the `m=` line and the lines under it (RFC 8866 section
//! 5.14), with the typed views JSEP needs.

use std::borrow::Cow;

use crate::attribute::{
    Attribute, Direction, Extmap, Fingerprint, Fmtp, Msid, PayloadType, Rid, RtcpFb, Rtpmap, Setup,
    Simulcast, Ssrc, SsrcGroup, number, split_once_byte, token, tokens,
};
use crate::candidate::Candidate;
use crate::session::{self, Line};
use crate::write::{Out, own, push_sp, push_u64};

/// One media section: `m=media port[/count] proto fmt...` and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription<'a> {
    /// `audio`, `video`, `application`, ...
    pub media: Cow<'a, str>,
    /// Port; 9 in WebRTC before ICE, 0 for a rejected section.
    pub port: u16,
    /// Number of ports, when written as `port/count`.
    pub port_count: Option<u16>,
    /// Transport protocol, e.g. `UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`.
    pub proto: Cow<'a, str>,
    /// Formats: RTP payload types, or `webrtc-datachannel`.
    pub formats: Vec<Cow<'a, str>>,
    /// Lines after `m=`, in order.
    pub lines: Vec<Line<'a>>,
}

/// What one RTP payload type means: its `rtpmap`, `fmtp` and feedback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec<'s, 'a> {
    /// Payload type.
    pub payload_type: u8,
    /// `a=rtpmap`, if present (static payload types may omit it).
    pub rtpmap: Option<&'s Rtpmap<'a>>,
    /// `a=fmtp`, if present.
    pub fmtp: Option<&'s Fmtp<'a>>,
    /// `a=rtcp-fb` lines for this payload type or `*`.
    pub feedback: Vec<&'s RtcpFb<'a>>,
}

impl<'a> MediaDescription<'a> {
    /// A section with no lines yet.
    pub fn new(media: &'a str, port: u16, proto: &'a str, formats: &[&'a str]) -> MediaDescription<'a> {
        MediaDescription {
            media: Cow::Borrowed(media),
            port,
            port_count: None,
            proto: Cow::Borrowed(proto),
            formats: formats.iter().map(|f| Cow::Borrowed(*f)).collect(),
            lines: Vec::new(),
        }
    }

    pub(crate) fn parse_m_line(v: &'a str) -> Result<MediaDescription<'a>, &'static str> {
        const E: &str = "m=: `media port[/count] proto fmt ...`";
        let (media, rest) = token(v).ok_or(E)?;
        let (port, rest) = token(rest).ok_or(E)?;
        let (proto, rest) = token(rest).ok_or(E)?;
        let (port, port_count) = match split_once_byte(port, b'/') {
            Some((p, n)) => (p, Some(number(n).ok_or(E)?)),
            None => (port, None),
        };
        Ok(MediaDescription {
            media: Cow::Borrowed(media),
            port: number(port).ok_or(E)?,
            port_count,
            proto: Cow::Borrowed(proto),
            formats: tokens(rest).map(Cow::Borrowed).collect(),
            lines: Vec::with_capacity(24),
        })
    }

    pub(crate) fn write(&self, out: &mut Out) {
        out.push_str("m=");
        out.push_str(&self.media);
        out.push(' ');
        push_u64(out, u64::from(self.port));
        if let Some(n) = self.port_count {
            out.push('/');
            push_u64(out, u64::from(n));
        }
        push_sp(out, &self.proto);
        for f in &self.formats {
            push_sp(out, f);
        }
        out.push_str("\r\n");
        for line in &self.lines {
            line.write(out);
        }
    }

    /// The same section owning its strings.
    pub fn into_owned(self) -> MediaDescription<'static> {
        MediaDescription {
            media: own(self.media),
            port: self.port,
            port_count: self.port_count,
            proto: own(self.proto),
            formats: self.formats.into_iter().map(own).collect(),
            lines: self.lines.into_iter().map(Line::into_owned).collect(),
        }
    }

    /// Appends an attribute line.
    pub fn push_attribute(&mut self, attribute: Attribute<'a>) {
        self.lines.push(Line::Attribute(attribute));
    }

    /// The section's attributes, in order.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute<'a>> {
        session::attributes(&self.lines)
    }

    /// `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.attributes().find_map(|a| match a {
            Attribute::Mid(m) => Some(&**m),
            _ => None,
        })
    }

    /// The section's own direction attribute, if any (see
    /// [`crate::SessionDescription::direction_for`] for the effective one).
    pub fn direction(&self) -> Option<Direction> {
        session::direction(&self.lines)
    }

    /// `a=ice-ufrag` of this section.
    pub fn ice_ufrag(&self) -> Option<&str> {
        session::ice_ufrag(&self.lines)
    }

    /// `a=ice-pwd` of this section.
    pub fn ice_pwd(&self) -> Option<&str> {
        session::ice_pwd(&self.lines)
    }

    /// The `ice-options` tokens of this section (`trickle`, `ice2`,
    /// `renomination`).
    pub fn ice_options(&self) -> impl Iterator<Item = &str> {
        self.attributes()
            .filter_map(|a| match a {
                Attribute::IceOptions(o) => Some(o.split(' ').filter(|t| !t.is_empty())),
                _ => None,
            })
            .flatten()
    }

    /// Fingerprints of this section.
    pub fn fingerprints(&self) -> impl Iterator<Item = &Fingerprint<'a>> {
        session::fingerprints(&self.lines)
    }

    /// `a=setup` of this section.
    pub fn setup(&self) -> Option<Setup> {
        session::setup(&self.lines)
    }

    /// Candidates of this section.
    pub fn candidates(&self) -> impl Iterator<Item = &Candidate<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Candidate(c) => Some(&**c),
            _ => None,
        })
    }

    /// Whether `a=end-of-candidates` is present.
    pub fn end_of_candidates(&self) -> bool {
        self.attributes().any(|a| matches!(a, Attribute::EndOfCandidates))
    }

    /// Whether `a=rtcp-mux` is present.
    pub fn rtcp_mux(&self) -> bool {
        self.attributes().any(|a| matches!(a, Attribute::RtcpMux))
    }

    /// Whether `a=bundle-only` is present.
    pub fn bundle_only(&self) -> bool {
        self.attributes().any(|a| matches!(a, Attribute::BundleOnly))
    }

    /// `a=msid` lines.
    pub fn msids(&self) -> impl Iterator<Item = &Msid<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Msid(m) => Some(m),
            _ => None,
        })
    }

    /// `a=extmap` lines.
    pub fn extmaps(&self) -> impl Iterator<Item = &Extmap<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Extmap(e) => Some(e),
            _ => None,
        })
    }

    /// `a=rtpmap` lines, in order.
    pub fn rtpmaps(&self) -> impl Iterator<Item = &Rtpmap<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Rtpmap(r) => Some(r),
            _ => None,
        })
    }

    /// The payload types on the `m=` line that are numbers, in order of
    /// preference.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| number::<u8>(f).filter(|pt| *pt <= 127))
    }

    /// Everything said about payload type `pt`.
    pub fn codec(&self, pt: u8) -> Codec<'_, 'a> {
        let mut codec = Codec {
            payload_type: pt,
            rtpmap: None,
            fmtp: None,
            feedback: Vec::new(),
        };
        for a in self.attributes() {
            match a {
                Attribute::Rtpmap(r) if r.payload_type == pt && codec.rtpmap.is_none() => {
                    codec.rtpmap = Some(r)
                }
                Attribute::Fmtp(f) if f.payload_type == pt && codec.fmtp.is_none() => codec.fmtp = Some(f),
                Attribute::RtcpFb(f)
                    if f.payload_type == PayloadType::Pt(pt) || f.payload_type == PayloadType::All =>
                {
                    codec.feedback.push(f)
                }
                _ => {}
            }
        }
        codec
    }

    /// The codecs on the `m=` line, in order of preference.
    pub fn codecs(&self) -> impl Iterator<Item = Codec<'_, 'a>> {
        self.payload_types().map(|pt| self.codec(pt))
    }

    /// `a=ssrc` lines.
    pub fn ssrcs(&self) -> impl Iterator<Item = &Ssrc<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Ssrc(s) => Some(s),
            _ => None,
        })
    }

    /// `a=ssrc-group` lines.
    pub fn ssrc_groups(&self) -> impl Iterator<Item = &SsrcGroup<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::SsrcGroup(g) => Some(g),
            _ => None,
        })
    }

    /// `a=rid` lines.
    pub fn rids(&self) -> impl Iterator<Item = &Rid<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Rid(r) => Some(r),
            _ => None,
        })
    }

    /// `a=simulcast`.
    pub fn simulcast(&self) -> Option<&Simulcast<'a>> {
        self.attributes().find_map(|a| match a {
            Attribute::Simulcast(s) => Some(s),
            _ => None,
        })
    }

    /// `a=sctp-port`.
    pub fn sctp_port(&self) -> Option<u16> {
        self.attributes().find_map(|a| match a {
            Attribute::SctpPort(p) => Some(*p),
            _ => None,
        })
    }

    /// `a=max-message-size`.
    pub fn max_message_size(&self) -> Option<u64> {
        self.attributes().find_map(|a| match a {
            Attribute::MaxMessageSize(n) => Some(*n),
            _ => None,
        })
    }
}
