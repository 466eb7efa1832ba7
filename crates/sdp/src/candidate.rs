//! ICE candidates as SDP writes them (RFC 8839 section 5.1).

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use crate::attribute::{number, token};
use crate::write::{Out, own, push_sp, push_sp_u64, push_u64};

/// Candidate type (RFC 8445 section 5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateType {
    /// `host`
    Host,
    /// `srflx`: server reflexive.
    ServerReflexive,
    /// `prflx`: peer reflexive.
    PeerReflexive,
    /// `relay`
    Relay,
}

impl CandidateType {
    /// The SDP token.
    pub const fn as_str(self) -> &'static str {
        match self {
            CandidateType::Host => "host",
            CandidateType::ServerReflexive => "srflx",
            CandidateType::PeerReflexive => "prflx",
            CandidateType::Relay => "relay",
        }
    }
}

/// TCP candidate type (RFC 6544).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpType {
    /// `active`: opens connections, does not accept them.
    Active,
    /// `passive`: accepts connections.
    Passive,
    /// `so`: simultaneous open.
    SimultaneousOpen,
}

impl TcpType {
    /// The SDP token.
    pub const fn as_str(self) -> &'static str {
        match self {
            TcpType::Active => "active",
            TcpType::Passive => "passive",
            TcpType::SimultaneousOpen => "so",
        }
    }
}

/// Transport protocol of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// UDP.
    Udp,
    /// TCP (RFC 6544).
    Tcp,
}

/// One `candidate` attribute value: everything after `a=candidate:`.
///
/// Strings are kept as written so that a description round-trips; typed
/// views ([`Candidate::protocol`], [`Candidate::socket_addr`],
/// [`Candidate::is_mdns`]) interpret them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// Foundation.
    pub foundation: Cow<'a, str>,
    /// Component id: 1 for RTP, 2 for RTCP.
    pub component: u16,
    /// Transport as written (`udp`, `UDP`, `tcp`).
    pub transport: Cow<'a, str>,
    /// Priority.
    pub priority: u32,
    /// Connection address: an IP address, or a host name such as an mDNS
    /// `.local` name.
    pub address: Cow<'a, str>,
    /// Port.
    pub port: u16,
    /// Candidate type.
    pub typ: CandidateType,
    /// `raddr`: the related address.
    pub related_address: Option<Cow<'a, str>>,
    /// `rport`: the related port.
    pub related_port: Option<u16>,
    /// `tcptype` (RFC 6544).
    pub tcp_type: Option<TcpType>,
    /// Other extensions in order, such as `generation 0`, `ufrag abcd`,
    /// `network-id 1`, `network-cost 50`.
    pub extensions: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// Most extension pairs accepted on one candidate line.
pub const MAX_CANDIDATE_EXTENSIONS: usize = 32;

impl<'a> Candidate<'a> {
    /// Parses the value of a `candidate` attribute (after `candidate:`).
    /// A leading `candidate:` is accepted too, as trickled candidates from
    /// `RTCIceCandidate.candidate` carry one.
    pub fn parse(text: &'a str) -> Result<Candidate<'a>, &'static str> {
        const E: &str = "candidate: `foundation component transport priority address port typ type [raddr A rport P] [ext val]...`";
        let text = text.strip_prefix("candidate:").unwrap_or(text);
        let (foundation, rest) = token(text).ok_or(E)?;
        let (component, rest) = token(rest).ok_or(E)?;
        let (transport, rest) = token(rest).ok_or(E)?;
        let (priority, rest) = token(rest).ok_or(E)?;
        let (address, rest) = token(rest).ok_or(E)?;
        let (port, rest) = token(rest).ok_or(E)?;
        let (typ_kw, rest) = token(rest).ok_or(E)?;
        let (typ, mut rest) = token(rest).ok_or(E)?;
        if typ_kw != "typ" {
            return Err(E);
        }
        let typ = match typ {
            "host" => CandidateType::Host,
            "srflx" => CandidateType::ServerReflexive,
            "prflx" => CandidateType::PeerReflexive,
            "relay" => CandidateType::Relay,
            _ => return Err("candidate type `host`, `srflx`, `prflx` or `relay`"),
        };
        // RFC 8839: foundation = 1*32 ice-char (ALPHA / DIGIT / "+" / "/").
        let ice_chars = foundation
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
        if foundation.len() > 32 || !ice_chars {
            return Err("candidate foundation: 1 to 32 characters of ALPHA, DIGIT, `+` or `/`");
        }
        let mut c = Candidate {
            foundation: Cow::Borrowed(foundation),
            component: number(component).ok_or(E)?,
            transport: Cow::Borrowed(transport),
            priority: number(priority).ok_or(E)?,
            address: Cow::Borrowed(address),
            port: number(port).ok_or(E)?,
            typ,
            related_address: None,
            related_port: None,
            tcp_type: None,
            extensions: Vec::new(),
        };
        while let Some((key, after)) = token(rest) {
            let (value, after) = token(after).ok_or("candidate extension: `name value` pairs")?;
            rest = after;
            match key {
                "raddr" if c.related_address.is_none() => c.related_address = Some(Cow::Borrowed(value)),
                "rport" if c.related_port.is_none() => {
                    c.related_port = Some(number(value).ok_or("candidate rport: a port number")?)
                }
                "tcptype" if c.tcp_type.is_none() => {
                    c.tcp_type = Some(match value {
                        "active" => TcpType::Active,
                        "passive" => TcpType::Passive,
                        "so" => TcpType::SimultaneousOpen,
                        _ => return Err("candidate tcptype: `active`, `passive` or `so`"),
                    })
                }
                _ => {
                    if c.extensions.len() == MAX_CANDIDATE_EXTENSIONS {
                        return Err("candidate: at most 32 extensions");
                    }
                    c.extensions.push((Cow::Borrowed(key), Cow::Borrowed(value)));
                }
            }
        }
        Ok(c)
    }

    /// The transport protocol; `None` for an unknown one.
    pub fn protocol(&self) -> Option<Protocol> {
        if self.transport.eq_ignore_ascii_case("udp") {
            Some(Protocol::Udp)
        } else if self.transport.eq_ignore_ascii_case("tcp") {
            Some(Protocol::Tcp)
        } else {
            None
        }
    }

    /// The address as an IP address; `None` for a host name.
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }

    /// Address and port, when the address is an IP address.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        Some(SocketAddr::new(self.ip()?, self.port))
    }

    /// Whether the address is an mDNS name (RFC 6762), as browsers use to
    /// hide host addresses: it ends in `.local`.
    pub fn is_mdns(&self) -> bool {
        let a = self.address.as_bytes();
        a.len() > 6 && a[a.len() - 6..].eq_ignore_ascii_case(b".local")
    }

    /// The related address and port, when both are IP:port.
    pub fn related_socket_addr(&self) -> Option<SocketAddr> {
        Some(SocketAddr::new(
            self.related_address.as_ref()?.parse().ok()?,
            self.related_port?,
        ))
    }

    /// The value of extension `name` (e.g. `generation`, `ufrag`).
    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions.iter().find(|(k, _)| k == name).map(|(_, v)| &**v)
    }

    /// Appends the attribute value (after `candidate:`).
    pub(crate) fn write(&self, out: &mut Out) {
        out.push_str(&self.foundation);
        push_sp_u64(out, u64::from(self.component));
        push_sp(out, &self.transport);
        push_sp_u64(out, u64::from(self.priority));
        push_sp(out, &self.address);
        push_sp_u64(out, u64::from(self.port));
        out.push_str(" typ ");
        out.push_str(self.typ.as_str());
        if let Some(a) = &self.related_address {
            out.push_str(" raddr ");
            out.push_str(a);
        }
        if let Some(p) = self.related_port {
            out.push_str(" rport ");
            push_u64(out, u64::from(p));
        }
        if let Some(t) = self.tcp_type {
            out.push_str(" tcptype ");
            out.push_str(t.as_str());
        }
        for (k, v) in &self.extensions {
            push_sp(out, k);
            push_sp(out, v);
        }
    }

    /// The same candidate owning its strings.
    pub fn into_owned(self) -> Candidate<'static> {
        Candidate {
            foundation: own(self.foundation),
            component: self.component,
            transport: own(self.transport),
            priority: self.priority,
            address: own(self.address),
            port: self.port,
            typ: self.typ,
            related_address: self.related_address.map(own),
            related_port: self.related_port,
            tcp_type: self.tcp_type,
            extensions: self
                .extensions
                .into_iter()
                .map(|(k, v)| (own(k), own(v)))
                .collect(),
        }
    }
}

impl std::fmt::Display for Candidate<'_> {
    /// The attribute value, as `RTCIceCandidate.candidate` carries it but
    /// without the `candidate:` prefix.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = Out(Vec::with_capacity(96));
        self.write(&mut s);
        f.write_str(&s.into_string())
    }
}
