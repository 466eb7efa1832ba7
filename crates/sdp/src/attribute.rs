//! Typed `a=` attributes: the ones WebRTC negotiates, each with its grammar
//! (RFC 8866, 8839, 8840, 8841, 8842, 8843, 8851, 8852, 8853, 8856, 9143,
//! 5576, 5761, 8035, 8285, 4585, 3556 and friends).

use std::borrow::Cow;

use crate::candidate::Candidate;
use crate::write::{Out, own, push_sp, push_sp_u64, push_u64};

/// Media direction (RFC 8866 section 6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `sendrecv`
    SendRecv,
    /// `sendonly`
    SendOnly,
    /// `recvonly`
    RecvOnly,
    /// `inactive`
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Parses a direction name.
    pub fn from_name(s: &str) -> Option<Direction> {
        Some(match s {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    /// The direction the other side sees: send and receive swap.
    pub const fn reverse(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }
}

/// DTLS role negotiation, `a=setup` (RFC 4145, RFC 8842).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// `actpass`: the offerer lets the answerer choose.
    ActPass,
    /// `active`: this side is the DTLS client.
    Active,
    /// `passive`: this side is the DTLS server.
    Passive,
    /// `holdconn`.
    HoldConn,
}

impl Setup {
    /// The attribute value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Setup::ActPass => "actpass",
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::HoldConn => "holdconn",
        }
    }
}

/// `a=group` (RFC 5888, BUNDLE in RFC 9143).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<'a> {
    /// `BUNDLE`, `LS`, `FID`, ...
    pub semantics: Cow<'a, str>,
    /// Identification tags (mids).
    pub mids: Vec<Cow<'a, str>>,
}

/// `a=fingerprint` (RFC 8122): a hash of the certificate DTLS will present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint<'a> {
    /// Hash function, e.g. `sha-256`.
    pub hash_function: Cow<'a, str>,
    /// Upper-case hex bytes separated by colons, as written.
    pub value: Cow<'a, str>,
}

impl Fingerprint<'_> {
    /// The fingerprint's bytes; `None` if the value is not colon-separated
    /// hex. At most 64 bytes (SHA-512).
    pub fn bytes(&self) -> Option<Vec<u8>> {
        let v = self.value.as_bytes();
        if v.is_empty() || (v.len() + 1) % 3 != 0 || (v.len() + 1) / 3 > 64 {
            return None;
        }
        v.chunks(3)
            .map(|c| {
                if c.len() == 3 && c[2] != b':' {
                    return None;
                }
                let hex = |b: u8| (b as char).to_digit(16);
                Some((hex(c[0])? * 16 + hex(c[1])?) as u8)
            })
            .collect()
    }
}

/// `a=extmap` (RFC 8285): a header extension and its local id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extmap<'a> {
    /// Id, 1-14 (one-byte) or 1-255 (two-byte).
    pub id: u16,
    /// Direction, when given as `id/direction`.
    pub direction: Option<Direction>,
    /// Extension URI.
    pub uri: Cow<'a, str>,
    /// Extension attributes, as written.
    pub attributes: Option<Cow<'a, str>>,
}

/// `a=msid` (RFC 8830): stream and track identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msid<'a> {
    /// Media stream id (`-` for none).
    pub stream_id: Cow<'a, str>,
    /// Track id, if any.
    pub track_id: Option<Cow<'a, str>>,
}

/// `a=rtcp` (RFC 3605): the RTCP port, and address when not the media's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtcp<'a> {
    /// Port.
    pub port: u16,
    /// `nettype addrtype address`, as written, if present.
    pub connection: Option<Cow<'a, str>>,
}

/// `a=rtpmap` (RFC 8866 section 6.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap<'a> {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name, e.g. `opus`, `VP8`, `H264`, `rtx`.
    pub encoding: Cow<'a, str>,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channels (audio), if given.
    pub channels: Option<u16>,
}

/// `a=fmtp` (RFC 8866 section 6.15): format parameters, kept as written and
/// readable as key/value pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp<'a> {
    /// Payload type.
    pub payload_type: u8,
    /// The parameter string, e.g. `minptime=10;useinbandfec=1`.
    pub parameters: Cow<'a, str>,
}

impl Fmtp<'_> {
    /// The parameters as `(key, value)` pairs, split on `;` and the first
    /// `=`, trimmed. A parameter without `=` (such as RED's `111/111`) has no
    /// value.
    pub fn params(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.parameters
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (p, None),
            })
    }

    /// The value of parameter `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params().find(|(k, _)| *k == key).and_then(|(_, v)| v)
    }
}

/// The payload type an attribute applies to: one, or `*` for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadType {
    /// One payload type.
    Pt(u8),
    /// `*`: every payload type of the section.
    All,
}

/// `a=rtcp-fb` (RFC 4585): a feedback type a payload type supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcpFb<'a> {
    /// Payload type, or all.
    pub payload_type: PayloadType,
    /// Feedback type: `nack`, `ccm`, `goog-remb`, `transport-cc`, ...
    pub feedback: Cow<'a, str>,
    /// Parameter: `pli` for `nack pli`, `fir` for `ccm fir`, ...
    pub parameter: Option<Cow<'a, str>>,
}

/// `a=ssrc` (RFC 5576): a source attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssrc<'a> {
    /// Synchronisation source.
    pub ssrc: u32,
    /// Attribute name: `cname`, `msid`, ...
    pub attribute: Cow<'a, str>,
    /// Attribute value, if any.
    pub value: Option<Cow<'a, str>>,
}

/// `a=ssrc-group` (RFC 5576): `FID` (RTX), `SIM`, `FEC-FR`, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsrcGroup<'a> {
    /// Semantics.
    pub semantics: Cow<'a, str>,
    /// The sources, in order.
    pub ssrcs: Vec<u32>,
}

/// Direction of a `rid` (RFC 8851).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RidDirection {
    /// `send`
    Send,
    /// `recv`
    Recv,
}

impl RidDirection {
    const fn as_str(self) -> &'static str {
        match self {
            RidDirection::Send => "send",
            RidDirection::Recv => "recv",
        }
    }
}

/// `a=rid` (RFC 8851): a restriction identifier, used by simulcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rid<'a> {
    /// The rid.
    pub id: Cow<'a, str>,
    /// Send or receive.
    pub direction: RidDirection,
    /// Restrictions as written, e.g. `pt=96;max-width=1280`.
    pub restrictions: Option<Cow<'a, str>>,
}

/// `a=simulcast` (RFC 8853): send and receive stream lists as written, e.g.
/// `h;m;~l` (a `~` marks a paused stream, `,` separates alternatives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulcast<'a> {
    /// The `send` list.
    pub send: Option<Cow<'a, str>>,
    /// The `recv` list.
    pub recv: Option<Cow<'a, str>>,
    /// Whether `recv` was written first.
    pub recv_first: bool,
}

/// One stream in a simulcast list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulcastStream<'s> {
    /// The rid.
    pub rid: &'s str,
    /// Whether it starts paused (`~`).
    pub paused: bool,
}

impl Simulcast<'_> {
    /// Streams of a list: each item is one simulcast stream with its
    /// alternatives in order of preference.
    pub fn streams(list: &str) -> impl Iterator<Item = impl Iterator<Item = SimulcastStream<'_>>> {
        list.split(';').map(|alternatives| {
            alternatives.split(',').map(|rid| match rid.strip_prefix('~') {
                Some(rid) => SimulcastStream { rid, paused: true },
                None => SimulcastStream { rid, paused: false },
            })
        })
    }
}

/// An `a=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute<'a> {
    /// `a=group:SEMANTICS mid...`
    Group(Group<'a>),
    /// `a=msid-semantic:` with its value as written (Chromium writes a space
    /// after the colon, others do not), e.g. ` WMS *`.
    MsidSemantic(Cow<'a, str>),
    /// `a=extmap-allow-mixed` (RFC 8285).
    ExtmapAllowMixed,
    /// `a=ice-ufrag`.
    IceUfrag(Cow<'a, str>),
    /// `a=ice-pwd`.
    IcePwd(Cow<'a, str>),
    /// `a=ice-options`: space-separated tokens such as `trickle`, `ice2`,
    /// `renomination`.
    IceOptions(Cow<'a, str>),
    /// `a=ice-lite`.
    IceLite,
    /// `a=fingerprint`.
    Fingerprint(Fingerprint<'a>),
    /// `a=setup`.
    Setup(Setup),
    /// `a=mid`.
    Mid(Cow<'a, str>),
    /// `a=extmap`.
    Extmap(Extmap<'a>),
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive`.
    Direction(Direction),
    /// `a=msid`.
    Msid(Msid<'a>),
    /// `a=rtcp`.
    Rtcp(Rtcp<'a>),
    /// `a=rtcp-mux` (RFC 5761).
    RtcpMux,
    /// `a=rtcp-mux-only` (RFC 8858).
    RtcpMuxOnly,
    /// `a=rtcp-rsize` (RFC 5506).
    RtcpRsize,
    /// `a=rtpmap`.
    Rtpmap(Rtpmap<'a>),
    /// `a=fmtp`.
    Fmtp(Fmtp<'a>),
    /// `a=rtcp-fb`.
    RtcpFb(RtcpFb<'a>),
    /// `a=ssrc`.
    Ssrc(Ssrc<'a>),
    /// `a=ssrc-group`.
    SsrcGroup(SsrcGroup<'a>),
    /// `a=rid`.
    Rid(Rid<'a>),
    /// `a=simulcast`.
    Simulcast(Simulcast<'a>),
    /// `a=candidate` (RFC 8839); boxed, as it is the largest attribute.
    Candidate(Box<Candidate<'a>>),
    /// `a=end-of-candidates`.
    EndOfCandidates,
    /// `a=sctp-port` (RFC 8841).
    SctpPort(u16),
    /// `a=max-message-size` (RFC 8841).
    MaxMessageSize(u64),
    /// `a=sctp-init`: a base64 SCTP INIT chunk (SCTP negotiation
    /// acceleration, SNAP), as written.
    SctpInit(Cow<'a, str>),
    /// `a=bundle-only` (RFC 9143).
    BundleOnly,
    /// `a=framerate`, as written (e.g. `30` or `29.97`).
    Framerate(Cow<'a, str>),
    /// `a=ptime` in milliseconds, as written (it may be fractional).
    Ptime(Cow<'a, str>),
    /// `a=maxptime` in milliseconds, as written.
    Maxptime(Cow<'a, str>),
    /// Any other attribute, verbatim: `a=name` or `a=name:value`.
    Other {
        /// The name.
        name: Cow<'a, str>,
        /// The value after `:`, if any.
        value: Option<Cow<'a, str>>,
    },
}

/// Parses an unsigned decimal number with no sign, spaces or leading `+`.
pub(crate) fn number<T: TryFrom<u64>>(s: &str) -> Option<T> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s.as_bytes() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    T::try_from(n).ok()
}

/// Position of ASCII byte `b` in `s`. A plain loop: SDP fields are short,
/// and this beats the general `str` pattern machinery several times over.
#[inline]
pub(crate) fn find_byte(s: &str, b: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let bytes = s.as_bytes();
    let pattern = LO * u64::from(b);
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    // Eight bytes at a time: a byte of `x` is zero where the text has `b`.
    // The lowest flagged byte is always a true match (borrows only move up).
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ pattern;
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b)
        .map(|i| offset + i)
}

/// Splits `s` around the first ASCII byte `b`.
#[inline]
pub(crate) fn split_once_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = find_byte(s, b)?;
    // `b` is ASCII, so both sides are on character boundaries.
    Some((&s[..i], &s[i + 1..]))
}

/// Splits off the first space-separated token (several spaces count as one).
pub(crate) fn token(s: &str) -> Option<(&str, &str)> {
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|&c| c != b' ')?;
    let s = &s[start..];
    Some(match find_byte(s, b' ') {
        Some(i) => {
            let rest = &s[i..];
            let skip = rest
                .as_bytes()
                .iter()
                .position(|&c| c != b' ')
                .unwrap_or(rest.len());
            (&s[..i], &rest[skip..])
        }
        None => (s, ""),
    })
}

/// Space-separated tokens, skipping empty ones.
pub(crate) fn tokens(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let (t, r) = token(rest)?;
        rest = r;
        Some(t)
    })
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

fn payload_type(s: &str) -> Option<u8> {
    number::<u8>(s).filter(|pt| *pt <= 127)
}

impl<'a> Attribute<'a> {
    /// Parses the text after `a=`. On failure, returns what was expected.
    pub fn parse(text: &'a str) -> Result<Attribute<'a>, &'static str> {
        let (name, value) = match split_once_byte(text, b':') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
        let b = Cow::Borrowed;
        Ok(match (name, value) {
            ("candidate", Some(v)) => Attribute::Candidate(Box::new(Candidate::parse(v)?)),
            ("rtpmap", Some(v)) => {
                const E: &str = "rtpmap: `PT encoding/clock-rate[/channels]`";
                let (pt, rest) = token(v).ok_or(E)?;
                let (encoding, rate) = split_once_byte(rest, b'/').ok_or(E)?;
                let (rate, channels) = match split_once_byte(rate, b'/') {
                    Some((r, c)) => (r, Some(number(c).ok_or(E)?)),
                    None => (rate, None),
                };
                if encoding.is_empty() {
                    return Err(E);
                }
                let clock_rate = number(rate).ok_or(E)?;
                Attribute::Rtpmap(Rtpmap {
                    payload_type: payload_type(pt).ok_or(E)?,
                    encoding: b(encoding),
                    clock_rate,
                    channels,
                })
            }
            ("fmtp", Some(v)) => {
                const E: &str = "fmtp: `PT parameters`";
                let (pt, params) = split_once_byte(v, b' ').ok_or(E)?;
                Attribute::Fmtp(Fmtp {
                    payload_type: payload_type(pt).ok_or(E)?,
                    parameters: b(params),
                })
            }
            ("rtcp-fb", Some(v)) => {
                const E: &str = "rtcp-fb: `PT|* type [parameter]`";
                let (pt, rest) = token(v).ok_or(E)?;
                let payload_type = if pt == "*" {
                    PayloadType::All
                } else {
                    PayloadType::Pt(payload_type(pt).ok_or(E)?)
                };
                let (feedback, parameter) = token(rest).ok_or(E)?;
                Attribute::RtcpFb(RtcpFb {
                    payload_type,
                    feedback: b(feedback),
                    parameter: non_empty(parameter).map(b),
                })
            }
            ("ssrc", Some(v)) => {
                const E: &str = "ssrc: `SSRC attribute[:value]`";
                let (ssrc, rest) = split_once_byte(v, b' ').ok_or(E)?;
                let (attribute, value) = match split_once_byte(rest, b':') {
                    Some((a, v)) => (a, Some(b(v))),
                    None => (rest, None),
                };
                if attribute.is_empty() {
                    return Err(E);
                }
                Attribute::Ssrc(Ssrc {
                    ssrc: number(ssrc).ok_or(E)?,
                    attribute: b(attribute),
                    value,
                })
            }
            ("extmap", Some(v)) => {
                const E: &str = "extmap: `id[/direction] uri [attributes]`";
                let (id, rest) = token(v).ok_or(E)?;
                let (id, direction) = match split_once_byte(id, b'/') {
                    Some((id, d)) => (id, Some(Direction::from_name(d).ok_or(E)?)),
                    None => (id, None),
                };
                let (uri, attributes) = token(rest).ok_or(E)?;
                Attribute::Extmap(Extmap {
                    id: number(id).filter(|id| (1..=255).contains(id)).ok_or(E)?,
                    direction,
                    uri: b(uri),
                    attributes: non_empty(attributes).map(b),
                })
            }
            ("mid", Some(v)) if !v.is_empty() => Attribute::Mid(b(v)),
            ("ice-ufrag", Some(v)) if !v.is_empty() => Attribute::IceUfrag(b(v)),
            ("ice-pwd", Some(v)) if !v.is_empty() => Attribute::IcePwd(b(v)),
            ("ice-options", Some(v)) => Attribute::IceOptions(b(v)),
            ("ice-lite", None) => Attribute::IceLite,
            ("fingerprint", Some(v)) => {
                const E: &str = "fingerprint: `hash-function XX:XX:...`";
                let (hash_function, value) = token(v).ok_or(E)?;
                if value.is_empty() || value.contains(' ') {
                    return Err(E);
                }
                Attribute::Fingerprint(Fingerprint {
                    hash_function: b(hash_function),
                    value: b(value),
                })
            }
            ("setup", Some(v)) => Attribute::Setup(match v {
                "actpass" => Setup::ActPass,
                "active" => Setup::Active,
                "passive" => Setup::Passive,
                "holdconn" => Setup::HoldConn,
                _ => return Err("setup: `actpass`, `active`, `passive` or `holdconn`"),
            }),
            ("group", Some(v)) => {
                let (semantics, rest) = token(v).ok_or("group: `SEMANTICS [mid ...]`")?;
                Attribute::Group(Group {
                    semantics: b(semantics),
                    mids: tokens(rest).map(b).collect(),
                })
            }
            ("msid-semantic", Some(v)) => Attribute::MsidSemantic(b(v)),
            ("extmap-allow-mixed", None) => Attribute::ExtmapAllowMixed,
            ("sendrecv", None) => Attribute::Direction(Direction::SendRecv),
            ("sendonly", None) => Attribute::Direction(Direction::SendOnly),
            ("recvonly", None) => Attribute::Direction(Direction::RecvOnly),
            ("inactive", None) => Attribute::Direction(Direction::Inactive),
            ("msid", Some(v)) => {
                let (stream, track) = token(v).ok_or("msid: `stream-id [track-id]`")?;
                Attribute::Msid(Msid {
                    stream_id: b(stream),
                    track_id: non_empty(track).map(b),
                })
            }
            ("rtcp", Some(v)) => {
                const E: &str = "rtcp: `port [nettype addrtype address]`";
                let (port, rest) = token(v).ok_or(E)?;
                Attribute::Rtcp(Rtcp {
                    port: number(port).ok_or(E)?,
                    connection: non_empty(rest).map(b),
                })
            }
            ("rtcp-mux", None) => Attribute::RtcpMux,
            ("rtcp-mux-only", None) => Attribute::RtcpMuxOnly,
            ("rtcp-rsize", None) => Attribute::RtcpRsize,
            ("ssrc-group", Some(v)) => {
                const E: &str = "ssrc-group: `SEMANTICS ssrc ...`";
                let (semantics, rest) = token(v).ok_or(E)?;
                let ssrcs = tokens(rest).map(number).collect::<Option<Vec<u32>>>().ok_or(E)?;
                Attribute::SsrcGroup(SsrcGroup {
                    semantics: b(semantics),
                    ssrcs,
                })
            }
            ("rid", Some(v)) => {
                const E: &str = "rid: `id send|recv [restrictions]`";
                let (id, rest) = token(v).ok_or(E)?;
                let (direction, restrictions) = token(rest).ok_or(E)?;
                Attribute::Rid(Rid {
                    id: b(id),
                    direction: match direction {
                        "send" => RidDirection::Send,
                        "recv" => RidDirection::Recv,
                        _ => return Err(E),
                    },
                    restrictions: non_empty(restrictions).map(b),
                })
            }
            ("simulcast", Some(v)) => {
                const E: &str = "simulcast: `send LIST [recv LIST]` or `recv LIST [send LIST]`";
                let (d1, rest) = token(v).ok_or(E)?;
                let (l1, rest) = token(rest).ok_or(E)?;
                let second = match token(rest) {
                    Some((d2, rest)) => {
                        let (l2, rest) = token(rest).ok_or(E)?;
                        if !rest.is_empty() {
                            return Err(E);
                        }
                        Some((d2, l2))
                    }
                    None => None,
                };
                let mut sim = Simulcast {
                    send: None,
                    recv: None,
                    recv_first: d1 == "recv",
                };
                for (d, l) in std::iter::once((d1, l1)).chain(second) {
                    let slot = match d {
                        "send" => &mut sim.send,
                        "recv" => &mut sim.recv,
                        _ => return Err(E),
                    };
                    if slot.replace(b(l)).is_some() {
                        return Err(E);
                    }
                }
                Attribute::Simulcast(sim)
            }
            ("end-of-candidates", None) => Attribute::EndOfCandidates,
            ("sctp-port", Some(v)) => Attribute::SctpPort(number(v).ok_or("sctp-port: a port number")?),
            ("max-message-size", Some(v)) => {
                Attribute::MaxMessageSize(number(v).ok_or("max-message-size: a number of bytes")?)
            }
            ("sctp-init", Some(v)) => Attribute::SctpInit(b(v)),
            ("bundle-only", None) => Attribute::BundleOnly,
            ("framerate", Some(v)) if is_decimal(v) => Attribute::Framerate(b(v)),
            ("ptime", Some(v)) if is_decimal(v) => Attribute::Ptime(b(v)),
            ("maxptime", Some(v)) if is_decimal(v) => Attribute::Maxptime(b(v)),
            ("framerate" | "ptime" | "maxptime", Some(_)) => return Err("a decimal number"),
            _ => {
                if name.is_empty() {
                    return Err("an attribute name after `a=`");
                }
                Attribute::Other {
                    name: b(name),
                    value: value.map(b),
                }
            }
        })
    }

    /// Appends `a=...` (without the line ending).
    pub(crate) fn write(&self, out: &mut Out) {
        out.push_str("a=");
        match self {
            Attribute::Group(g) => {
                out.push_str("group:");
                out.push_str(&g.semantics);
                for mid in &g.mids {
                    push_sp(out, mid);
                }
            }
            Attribute::MsidSemantic(v) => {
                out.push_str("msid-semantic:");
                out.push_str(v);
            }
            Attribute::ExtmapAllowMixed => out.push_str("extmap-allow-mixed"),
            Attribute::IceUfrag(v) => {
                out.push_str("ice-ufrag:");
                out.push_str(v);
            }
            Attribute::IcePwd(v) => {
                out.push_str("ice-pwd:");
                out.push_str(v);
            }
            Attribute::IceOptions(v) => {
                out.push_str("ice-options:");
                out.push_str(v);
            }
            Attribute::IceLite => out.push_str("ice-lite"),
            Attribute::Fingerprint(f) => {
                out.push_str("fingerprint:");
                out.push_str(&f.hash_function);
                push_sp(out, &f.value);
            }
            Attribute::Setup(s) => {
                out.push_str("setup:");
                out.push_str(s.as_str());
            }
            Attribute::Mid(v) => {
                out.push_str("mid:");
                out.push_str(v);
            }
            Attribute::Extmap(e) => {
                out.push_str("extmap:");
                push_u64(out, u64::from(e.id));
                if let Some(d) = e.direction {
                    out.push('/');
                    out.push_str(d.as_str());
                }
                push_sp(out, &e.uri);
                if let Some(a) = &e.attributes {
                    push_sp(out, a);
                }
            }
            Attribute::Direction(d) => out.push_str(d.as_str()),
            Attribute::Msid(m) => {
                out.push_str("msid:");
                out.push_str(&m.stream_id);
                if let Some(t) = &m.track_id {
                    push_sp(out, t);
                }
            }
            Attribute::Rtcp(r) => {
                out.push_str("rtcp:");
                push_u64(out, u64::from(r.port));
                if let Some(c) = &r.connection {
                    push_sp(out, c);
                }
            }
            Attribute::RtcpMux => out.push_str("rtcp-mux"),
            Attribute::RtcpMuxOnly => out.push_str("rtcp-mux-only"),
            Attribute::RtcpRsize => out.push_str("rtcp-rsize"),
            Attribute::Rtpmap(r) => {
                out.push_str("rtpmap:");
                push_u64(out, u64::from(r.payload_type));
                push_sp(out, &r.encoding);
                out.push('/');
                push_u64(out, u64::from(r.clock_rate));
                if let Some(c) = r.channels {
                    out.push('/');
                    push_u64(out, u64::from(c));
                }
            }
            Attribute::Fmtp(f) => {
                out.push_str("fmtp:");
                push_u64(out, u64::from(f.payload_type));
                push_sp(out, &f.parameters);
            }
            Attribute::RtcpFb(f) => {
                out.push_str("rtcp-fb:");
                match f.payload_type {
                    PayloadType::Pt(pt) => push_u64(out, u64::from(pt)),
                    PayloadType::All => out.push('*'),
                }
                push_sp(out, &f.feedback);
                if let Some(p) = &f.parameter {
                    push_sp(out, p);
                }
            }
            Attribute::Ssrc(s) => {
                out.push_str("ssrc:");
                push_u64(out, u64::from(s.ssrc));
                push_sp(out, &s.attribute);
                if let Some(v) = &s.value {
                    out.push(':');
                    out.push_str(v);
                }
            }
            Attribute::SsrcGroup(g) => {
                out.push_str("ssrc-group:");
                out.push_str(&g.semantics);
                for s in &g.ssrcs {
                    push_sp_u64(out, u64::from(*s));
                }
            }
            Attribute::Rid(r) => {
                out.push_str("rid:");
                out.push_str(&r.id);
                push_sp(out, r.direction.as_str());
                if let Some(x) = &r.restrictions {
                    push_sp(out, x);
                }
            }
            Attribute::Simulcast(s) => {
                out.push_str("simulcast:");
                let send = s.send.as_deref().map(|l| ("send", l));
                let recv = s.recv.as_deref().map(|l| ("recv", l));
                let (first, second) = if s.recv_first { (recv, send) } else { (send, recv) };
                for (i, (d, l)) in first.into_iter().chain(second).enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(d);
                    push_sp(out, l);
                }
            }
            Attribute::Candidate(c) => {
                out.push_str("candidate:");
                c.write(out);
            }
            Attribute::EndOfCandidates => out.push_str("end-of-candidates"),
            Attribute::SctpPort(p) => {
                out.push_str("sctp-port:");
                push_u64(out, u64::from(*p));
            }
            Attribute::MaxMessageSize(n) => {
                out.push_str("max-message-size:");
                push_u64(out, *n);
            }
            Attribute::SctpInit(v) => {
                out.push_str("sctp-init:");
                out.push_str(v);
            }
            Attribute::BundleOnly => out.push_str("bundle-only"),
            Attribute::Framerate(v) => {
                out.push_str("framerate:");
                out.push_str(v);
            }
            Attribute::Ptime(v) => {
                out.push_str("ptime:");
                out.push_str(v);
            }
            Attribute::Maxptime(v) => {
                out.push_str("maxptime:");
                out.push_str(v);
            }
            Attribute::Other { name, value } => {
                out.push_str(name);
                if let Some(v) = value {
                    out.push(':');
                    out.push_str(v);
                }
            }
        }
    }

    /// The same attribute owning its strings.
    pub fn into_owned(self) -> Attribute<'static> {
        let o = own;
        let oo = |v: Option<Cow<'_, str>>| v.map(own);
        match self {
            Attribute::Group(g) => Attribute::Group(Group {
                semantics: o(g.semantics),
                mids: g.mids.into_iter().map(o).collect(),
            }),
            Attribute::MsidSemantic(v) => Attribute::MsidSemantic(o(v)),
            Attribute::ExtmapAllowMixed => Attribute::ExtmapAllowMixed,
            Attribute::IceUfrag(v) => Attribute::IceUfrag(o(v)),
            Attribute::IcePwd(v) => Attribute::IcePwd(o(v)),
            Attribute::IceOptions(v) => Attribute::IceOptions(o(v)),
            Attribute::IceLite => Attribute::IceLite,
            Attribute::Fingerprint(f) => Attribute::Fingerprint(Fingerprint {
                hash_function: o(f.hash_function),
                value: o(f.value),
            }),
            Attribute::Setup(s) => Attribute::Setup(s),
            Attribute::Mid(v) => Attribute::Mid(o(v)),
            Attribute::Extmap(e) => Attribute::Extmap(Extmap {
                id: e.id,
                direction: e.direction,
                uri: o(e.uri),
                attributes: oo(e.attributes),
            }),
            Attribute::Direction(d) => Attribute::Direction(d),
            Attribute::Msid(m) => Attribute::Msid(Msid {
                stream_id: o(m.stream_id),
                track_id: oo(m.track_id),
            }),
            Attribute::Rtcp(r) => Attribute::Rtcp(Rtcp {
                port: r.port,
                connection: oo(r.connection),
            }),
            Attribute::RtcpMux => Attribute::RtcpMux,
            Attribute::RtcpMuxOnly => Attribute::RtcpMuxOnly,
            Attribute::RtcpRsize => Attribute::RtcpRsize,
            Attribute::Rtpmap(r) => Attribute::Rtpmap(Rtpmap {
                payload_type: r.payload_type,
                encoding: o(r.encoding),
                clock_rate: r.clock_rate,
                channels: r.channels,
            }),
            Attribute::Fmtp(f) => Attribute::Fmtp(Fmtp {
                payload_type: f.payload_type,
                parameters: o(f.parameters),
            }),
            Attribute::RtcpFb(f) => Attribute::RtcpFb(RtcpFb {
                payload_type: f.payload_type,
                feedback: o(f.feedback),
                parameter: oo(f.parameter),
            }),
            Attribute::Ssrc(s) => Attribute::Ssrc(Ssrc {
                ssrc: s.ssrc,
                attribute: o(s.attribute),
                value: oo(s.value),
            }),
            Attribute::SsrcGroup(g) => Attribute::SsrcGroup(SsrcGroup {
                semantics: o(g.semantics),
                ssrcs: g.ssrcs,
            }),
            Attribute::Rid(r) => Attribute::Rid(Rid {
                id: o(r.id),
                direction: r.direction,
                restrictions: oo(r.restrictions),
            }),
            Attribute::Simulcast(s) => Attribute::Simulcast(Simulcast {
                send: oo(s.send),
                recv: oo(s.recv),
                recv_first: s.recv_first,
            }),
            Attribute::Candidate(c) => Attribute::Candidate(Box::new(c.into_owned())),
            Attribute::EndOfCandidates => Attribute::EndOfCandidates,
            Attribute::SctpPort(p) => Attribute::SctpPort(p),
            Attribute::MaxMessageSize(n) => Attribute::MaxMessageSize(n),
            Attribute::SctpInit(v) => Attribute::SctpInit(o(v)),
            Attribute::BundleOnly => Attribute::BundleOnly,
            Attribute::Framerate(v) => Attribute::Framerate(o(v)),
            Attribute::Ptime(v) => Attribute::Ptime(o(v)),
            Attribute::Maxptime(v) => Attribute::Maxptime(o(v)),
            Attribute::Other { name, value } => Attribute::Other {
                name: o(name),
                value: oo(value),
            },
        }
    }
}

/// `123`, `29.97`: digits with at most one dot inside.
fn is_decimal(s: &str) -> bool {
    let mut parts = s.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}
