//! The session description: `v=`, `o=`, `s=`, session-level lines, media
//! sections (RFC 8866 section 5), parsing and serialisation.

use std::borrow::Cow;

use crate::attribute::{Attribute, Direction, Fingerprint, Setup, find_byte, number, split_once_byte, token};
use crate::candidate::Candidate;
use crate::error::ParseError;
use crate::media::MediaDescription;
use crate::write::{Out, own, push_sp, push_sp_u64, push_u64};

/// Bounds the parser enforces, so no input makes it allocate without limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest description in bytes. Default 1 MiB.
    pub max_len: usize,
    /// Most lines. Default 32,768.
    pub max_lines: usize,
    /// Most media sections. Default 1,024.
    pub max_media: usize,
    /// Most lines in one section (session level or one media section).
    /// Default 8,192.
    pub max_lines_per_section: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_len: 1 << 20,
            max_lines: 32_768,
            max_media: 1_024,
            max_lines_per_section: 8_192,
        }
    }
}

/// `o=` (RFC 8866 section 5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin<'a> {
    /// User name, `-` in WebRTC.
    pub username: Cow<'a, str>,
    /// Session id.
    pub session_id: u64,
    /// Session version, incremented by each new offer or answer.
    pub session_version: u64,
    /// Network type, `IN`.
    pub nettype: Cow<'a, str>,
    /// Address type, `IP4` or `IP6`.
    pub addrtype: Cow<'a, str>,
    /// Unicast address.
    pub address: Cow<'a, str>,
}

/// `c=` (RFC 8866 section 5.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection<'a> {
    /// Network type, `IN`.
    pub nettype: Cow<'a, str>,
    /// Address type, `IP4` or `IP6`.
    pub addrtype: Cow<'a, str>,
    /// Address, with `/ttl` and `/count` suffixes if written.
    pub address: Cow<'a, str>,
}

/// `b=` (RFC 8866 section 5.8, RFC 3556, RFC 3890).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth<'a> {
    /// `AS`, `CT`, `TIAS`, `RS`, `RR`.
    pub bwtype: Cow<'a, str>,
    /// Kilobits per second (bits per second for `TIAS`).
    pub bandwidth: u64,
}

/// One line after `s=` at session level, or after `m=` in a media section,
/// in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Line<'a> {
    /// `i=` session or media title.
    Information(Cow<'a, str>),
    /// `u=` URI.
    Uri(Cow<'a, str>),
    /// `e=` email address.
    Email(Cow<'a, str>),
    /// `p=` phone number.
    Phone(Cow<'a, str>),
    /// `c=` connection data.
    Connection(Connection<'a>),
    /// `b=` bandwidth.
    Bandwidth(Bandwidth<'a>),
    /// `t=` start and stop times (`0 0` in WebRTC).
    Timing {
        /// Start (NTP seconds, 0 for unbounded).
        start: u64,
        /// Stop (NTP seconds, 0 for unbounded).
        stop: u64,
    },
    /// `r=` repeat times, as written.
    Repeat(Cow<'a, str>),
    /// `z=` time zone adjustments, as written.
    TimeZones(Cow<'a, str>),
    /// `k=` encryption key (obsolete), as written.
    Key(Cow<'a, str>),
    /// `a=` attribute.
    Attribute(Attribute<'a>),
    /// A line type RFC 8866 does not define, kept verbatim.
    Other {
        /// The letter before `=`.
        kind: char,
        /// The text after `=`.
        value: Cow<'a, str>,
    },
}

impl<'a> Line<'a> {
    /// Position in RFC 8866's order rules; `None` for lines that may appear
    /// anywhere (unknown types). Session level: `i u e p c b t r z k a`;
    /// media level: `i c b k a`.
    fn rank(&self) -> Option<u8> {
        Some(match self {
            Line::Information(_) => 0,
            Line::Uri(_) => 1,
            Line::Email(_) => 2,
            Line::Phone(_) => 3,
            Line::Connection(_) => 4,
            Line::Bandwidth(_) => 5,
            Line::Timing { .. } | Line::Repeat(_) => 6,
            Line::TimeZones(_) => 7,
            Line::Key(_) => 8,
            Line::Attribute(_) => 9,
            Line::Other { .. } => return None,
        })
    }

    // Inlined into the parse loop: returning the 72-byte `Result<Line>` by
    // value otherwise costs store-forwarding stalls (measured, about 12 %).
    #[inline(always)]
    fn parse(kind: u8, value: &'a str) -> Result<Line<'a>, &'static str> {
        let b = Cow::Borrowed;
        Ok(match kind {
            b'i' => Line::Information(b(value)),
            b'u' => Line::Uri(b(value)),
            b'e' => Line::Email(b(value)),
            b'p' => Line::Phone(b(value)),
            b'c' => {
                const E: &str = "c=: `nettype addrtype address`";
                let (nettype, rest) = token(value).ok_or(E)?;
                let (addrtype, rest) = token(rest).ok_or(E)?;
                let (address, rest) = token(rest).ok_or(E)?;
                if !rest.is_empty() {
                    return Err(E);
                }
                Line::Connection(Connection {
                    nettype: b(nettype),
                    addrtype: b(addrtype),
                    address: b(address),
                })
            }
            b'b' => {
                const E: &str = "b=: `bwtype:bandwidth`";
                let (bwtype, bw) = split_once_byte(value, b':').ok_or(E)?;
                Line::Bandwidth(Bandwidth {
                    bwtype: b(bwtype),
                    bandwidth: number(bw).ok_or(E)?,
                })
            }
            b't' => {
                const E: &str = "t=: `start-time stop-time`";
                let (start, rest) = token(value).ok_or(E)?;
                let (stop, rest) = token(rest).ok_or(E)?;
                if !rest.is_empty() {
                    return Err(E);
                }
                Line::Timing {
                    start: number(start).ok_or(E)?,
                    stop: number(stop).ok_or(E)?,
                }
            }
            b'r' => Line::Repeat(b(value)),
            b'z' => Line::TimeZones(b(value)),
            b'k' => Line::Key(b(value)),
            b'a' => Line::Attribute(Attribute::parse(value)?),
            other => Line::Other {
                kind: char::from(other),
                value: b(value),
            },
        })
    }

    pub(crate) fn write(&self, out: &mut Out) {
        let text = |out: &mut Out, kind: &str, v: &str| {
            out.push_str(kind);
            out.push_str(v);
        };
        match self {
            Line::Information(v) => text(out, "i=", v),
            Line::Uri(v) => text(out, "u=", v),
            Line::Email(v) => text(out, "e=", v),
            Line::Phone(v) => text(out, "p=", v),
            Line::Connection(c) => {
                out.push_str("c=");
                out.push_str(&c.nettype);
                push_sp(out, &c.addrtype);
                push_sp(out, &c.address);
            }
            Line::Bandwidth(bw) => {
                out.push_str("b=");
                out.push_str(&bw.bwtype);
                out.push(':');
                push_u64(out, bw.bandwidth);
            }
            Line::Timing { start, stop } => {
                out.push_str("t=");
                push_u64(out, *start);
                push_sp_u64(out, *stop);
            }
            Line::Repeat(v) => text(out, "r=", v),
            Line::TimeZones(v) => text(out, "z=", v),
            Line::Key(v) => text(out, "k=", v),
            Line::Attribute(a) => a.write(out),
            Line::Other { kind, value } => {
                out.push(*kind);
                out.push('=');
                out.push_str(value);
            }
        }
        out.push_str("\r\n");
    }

    /// The same line owning its strings.
    pub fn into_owned(self) -> Line<'static> {
        match self {
            Line::Information(v) => Line::Information(own(v)),
            Line::Uri(v) => Line::Uri(own(v)),
            Line::Email(v) => Line::Email(own(v)),
            Line::Phone(v) => Line::Phone(own(v)),
            Line::Connection(c) => Line::Connection(Connection {
                nettype: own(c.nettype),
                addrtype: own(c.addrtype),
                address: own(c.address),
            }),
            Line::Bandwidth(bw) => Line::Bandwidth(Bandwidth {
                bwtype: own(bw.bwtype),
                bandwidth: bw.bandwidth,
            }),
            Line::Timing { start, stop } => Line::Timing { start, stop },
            Line::Repeat(v) => Line::Repeat(own(v)),
            Line::TimeZones(v) => Line::TimeZones(own(v)),
            Line::Key(v) => Line::Key(own(v)),
            Line::Attribute(a) => Line::Attribute(a.into_owned()),
            Line::Other { kind, value } => Line::Other {
                kind,
                value: own(value),
            },
        }
    }
}

/// A parsed or built session description.
///
/// The model keeps every line in the order written: known lines and
/// attributes typed, unknown ones verbatim, so that [`SessionDescription::parse`]
/// followed by [`SessionDescription::to_sdp`] reproduces what browsers send.
/// Strings borrow from the parsed text (`Cow::Borrowed`) and can be owned
/// with [`SessionDescription::into_owned`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription<'a> {
    /// `o=`.
    pub origin: Origin<'a>,
    /// `s=`; WebRTC writes `-`.
    pub session_name: Cow<'a, str>,
    /// Session-level lines after `s=`, in order.
    pub lines: Vec<Line<'a>>,
    /// Media sections, in order.
    pub media: Vec<MediaDescription<'a>>,
}

/// Splits `text` into numbered lines on `\n`, dropping a `\r` before it.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = Some(text);
    let mut n = 0;
    std::iter::from_fn(move || {
        let r = rest?;
        let line = match find_byte(r, b'\n') {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                &r[..i]
            }
            None => {
                rest = None;
                r
            }
        };
        n += 1;
        Some((n, line.strip_suffix('\r').unwrap_or(line)))
    })
}

impl<'a> SessionDescription<'a> {
    /// Parses a session description with the default [`Limits`].
    pub fn parse(text: &'a str) -> Result<SessionDescription<'a>, ParseError> {
        SessionDescription::parse_with_limits(text, &Limits::default())
    }

    /// Parses a session description. Accepts `\r\n` and bare `\n` line
    /// endings and blank lines; rejects a malformed line with its number,
    /// its text and what was expected there.
    pub fn parse_with_limits(text: &'a str, limits: &Limits) -> Result<SessionDescription<'a>, ParseError> {
        if text.len() > limits.max_len {
            return Err(ParseError::new(
                0,
                "",
                "a description no longer than the length limit",
            ));
        }
        let mut it = lines(text).filter(|(_, l)| !l.is_empty());
        let mut next_line = |expected: &'static str| {
            let (n, l) = it.next().ok_or_else(|| ParseError::new(0, "", expected))?;
            Ok::<_, ParseError>((n, l))
        };

        let (n, l) = next_line("`v=0` as the first line")?;
        if l != "v=0" {
            return Err(ParseError::new(n, l, "`v=0` as the first line"));
        }
        let (n, l) = next_line("an `o=` line")?;
        let origin = l.strip_prefix("o=").and_then(parse_origin).ok_or_else(|| {
            ParseError::new(n, l, "`o=username sess-id sess-version nettype addrtype address`")
        })?;
        let (n, l) = next_line("an `s=` line")?;
        let session_name = l
            .strip_prefix("s=")
            .ok_or_else(|| ParseError::new(n, l, "an `s=` line after `o=`"))?;

        let mut sdp = SessionDescription {
            origin,
            session_name: Cow::Borrowed(session_name),
            lines: Vec::with_capacity(8),
            media: Vec::new(),
        };
        // Rough capacity for the lines of the current section, from the
        // number of remaining lines over the expected sections.
        let mut rank = 0u8;
        let mut count = 3usize;
        for (n, l) in it {
            count += 1;
            if count > limits.max_lines {
                return Err(ParseError::new(n, l, "no more lines than the line limit"));
            }
            let bytes = l.as_bytes();
            if bytes.len() < 2 || bytes[1] != b'=' || !bytes[0].is_ascii_lowercase() {
                return Err(ParseError::new(n, l, "a line of the form `x=value`"));
            }
            let (kind, value) = (bytes[0], &l[2..]);
            if kind == b'm' {
                if sdp.media.len() == limits.max_media {
                    return Err(ParseError::new(n, l, "no more media sections than the limit"));
                }
                let media = MediaDescription::parse_m_line(value).map_err(|e| ParseError::new(n, l, e))?;
                sdp.media.push(media);
                rank = 0;
                continue;
            }
            if matches!(kind, b'v' | b'o' | b's') {
                return Err(ParseError::new(n, l, "`v=`, `o=` and `s=` only at the top"));
            }
            let line = Line::parse(kind, value).map_err(|e| ParseError::new(n, l, e))?;
            let (lines, allowed) = match sdp.media.last_mut() {
                Some(m) => (
                    &mut m.lines,
                    matches!(kind, b'i' | b'c' | b'b' | b'k' | b'a') || line.rank().is_none(),
                ),
                None => (&mut sdp.lines, true),
            };
            if !allowed {
                return Err(ParseError::new(
                    n,
                    l,
                    "only `i= c= b= k= a=` lines inside a media section",
                ));
            }
            if let Some(r) = line.rank() {
                if r < rank {
                    return Err(ParseError::new(
                        n,
                        l,
                        "lines in RFC 8866 order: `v o s i u e p c b t r z k a` then `m i c b k a`",
                    ));
                }
                rank = r;
            }
            if lines.len() == limits.max_lines_per_section {
                return Err(ParseError::new(
                    n,
                    l,
                    "no more lines in one section than the limit",
                ));
            }
            lines.push(line);
        }
        Ok(sdp)
    }

    /// Writes the description with `\r\n` line endings.
    pub fn to_sdp(&self) -> String {
        let mut out = Out(Vec::with_capacity(self.estimated_len()));
        self.write_out(&mut out);
        out.into_string()
    }

    /// Appends the description to `out`.
    pub fn write(&self, out: &mut String) {
        out.push_str(&self.to_sdp());
    }

    fn write_out(&self, out: &mut Out) {
        out.push_str("v=0\r\no=");
        let o = &self.origin;
        out.push_str(&o.username);
        push_sp_u64(out, o.session_id);
        push_sp_u64(out, o.session_version);
        push_sp(out, &o.nettype);
        push_sp(out, &o.addrtype);
        push_sp(out, &o.address);
        out.push_str("\r\ns=");
        out.push_str(&self.session_name);
        out.push_str("\r\n");
        for line in &self.lines {
            line.write(out);
        }
        for m in &self.media {
            m.write(out);
        }
    }

    fn estimated_len(&self) -> usize {
        let lines = self.lines.len() + self.media.iter().map(|m| m.lines.len() + 1).sum::<usize>();
        64 + lines * 48
    }

    /// The same description owning all its strings.
    pub fn into_owned(self) -> SessionDescription<'static> {
        let o = self.origin;
        SessionDescription {
            origin: Origin {
                username: own(o.username),
                session_id: o.session_id,
                session_version: o.session_version,
                nettype: own(o.nettype),
                addrtype: own(o.addrtype),
                address: own(o.address),
            },
            session_name: own(self.session_name),
            lines: self.lines.into_iter().map(Line::into_owned).collect(),
            media: self.media.into_iter().map(MediaDescription::into_owned).collect(),
        }
    }

    /// Session-level attributes, in order.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute<'a>> {
        attributes(&self.lines)
    }

    /// The mids of the first `a=group:BUNDLE`, if any.
    pub fn bundle_mids(&self) -> Option<impl Iterator<Item = &str>> {
        self.attributes().find_map(|a| match a {
            Attribute::Group(g) if g.semantics == "BUNDLE" => Some(g.mids.iter().map(|m| &**m)),
            _ => None,
        })
    }

    /// Whether the session declares `a=ice-lite`.
    pub fn ice_lite(&self) -> bool {
        self.attributes().any(|a| matches!(a, Attribute::IceLite))
    }

    /// Session-level `a=ice-ufrag`.
    pub fn ice_ufrag(&self) -> Option<&str> {
        ice_ufrag(&self.lines)
    }

    /// Session-level `a=ice-pwd`.
    pub fn ice_pwd(&self) -> Option<&str> {
        ice_pwd(&self.lines)
    }

    /// Session-level fingerprints.
    pub fn fingerprints(&self) -> impl Iterator<Item = &Fingerprint<'a>> {
        fingerprints(&self.lines)
    }

    /// Session-level `a=setup`.
    pub fn setup(&self) -> Option<Setup> {
        setup(&self.lines)
    }

    /// The media section with `a=mid:mid`.
    pub fn media_by_mid(&self, mid: &str) -> Option<&MediaDescription<'a>> {
        self.media.iter().find(|m| m.mid() == Some(mid))
    }

    /// ICE credentials that apply to `media`: its own, or the session's
    /// (RFC 8839 section 5.4).
    pub fn ice_credentials<'s>(&'s self, media: &'s MediaDescription<'a>) -> Option<(&'s str, &'s str)> {
        Some((
            media.ice_ufrag().or(self.ice_ufrag())?,
            media.ice_pwd().or(self.ice_pwd())?,
        ))
    }

    /// Fingerprints that apply to `media`: its own, or the session's.
    pub fn fingerprints_for<'s>(&'s self, media: &'s MediaDescription<'a>) -> Vec<&'s Fingerprint<'a>> {
        let own: Vec<_> = media.fingerprints().collect();
        if own.is_empty() {
            self.fingerprints().collect()
        } else {
            own
        }
    }

    /// The `a=setup` that applies to `media`: its own, or the session's.
    pub fn setup_for(&self, media: &MediaDescription<'a>) -> Option<Setup> {
        media.setup().or(self.setup())
    }

    /// The direction that applies to `media`: its own, the session's, or
    /// `sendrecv` (RFC 8866 section 6.7).
    pub fn direction_for(&self, media: &MediaDescription<'a>) -> Direction {
        media
            .direction()
            .or_else(|| direction(&self.lines))
            .unwrap_or(Direction::SendRecv)
    }

    /// Every candidate in every media section, with the section's index.
    pub fn candidates(&self) -> impl Iterator<Item = (usize, &Candidate<'a>)> {
        self.media
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.candidates().map(move |c| (i, c)))
    }
}

impl std::fmt::Display for SessionDescription<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_sdp())
    }
}

impl std::str::FromStr for SessionDescription<'static> {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionDescription::parse(s).map(SessionDescription::into_owned)
    }
}

fn parse_origin(v: &str) -> Option<Origin<'_>> {
    let (username, rest) = token(v)?;
    let (id, rest) = token(rest)?;
    let (version, rest) = token(rest)?;
    let (nettype, rest) = token(rest)?;
    let (addrtype, rest) = token(rest)?;
    let (address, rest) = token(rest)?;
    if !rest.is_empty() {
        return None;
    }
    Some(Origin {
        username: Cow::Borrowed(username),
        session_id: number(id)?,
        session_version: number(version)?,
        nettype: Cow::Borrowed(nettype),
        addrtype: Cow::Borrowed(addrtype),
        address: Cow::Borrowed(address),
    })
}

pub(crate) fn attributes<'l, 'a>(lines: &'l [Line<'a>]) -> impl Iterator<Item = &'l Attribute<'a>> {
    lines.iter().filter_map(|l| match l {
        Line::Attribute(a) => Some(a),
        _ => None,
    })
}

pub(crate) fn ice_ufrag<'l>(lines: &'l [Line<'_>]) -> Option<&'l str> {
    attributes(lines).find_map(|a| match a {
        Attribute::IceUfrag(v) => Some(&**v),
        _ => None,
    })
}

pub(crate) fn ice_pwd<'l>(lines: &'l [Line<'_>]) -> Option<&'l str> {
    attributes(lines).find_map(|a| match a {
        Attribute::IcePwd(v) => Some(&**v),
        _ => None,
    })
}

pub(crate) fn fingerprints<'l, 'a>(lines: &'l [Line<'a>]) -> impl Iterator<Item = &'l Fingerprint<'a>> {
    attributes(lines).filter_map(|a| match a {
        Attribute::Fingerprint(f) => Some(f),
        _ => None,
    })
}

pub(crate) fn setup(lines: &[Line<'_>]) -> Option<Setup> {
    attributes(lines).find_map(|a| match a {
        Attribute::Setup(s) => Some(*s),
        _ => None,
    })
}

pub(crate) fn direction(lines: &[Line<'_>]) -> Option<Direction> {
    attributes(lines).find_map(|a| match a {
        Attribute::Direction(d) => Some(*d),
        _ => None,
    })
}
