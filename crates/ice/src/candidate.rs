//! Candidates, their priorities and foundations (RFC 8445 section 5.1).

use std::net::{IpAddr, SocketAddr};

/// Candidate type, in RFC 8445's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CandidateKind {
    /// An address of a local interface.
    Host,
    /// A peer-reflexive address, learned from a connectivity check.
    PeerReflexive,
    /// A server-reflexive address, learned from a STUN server.
    ServerReflexive,
    /// An address on a TURN relay.
    Relayed,
}

impl CandidateKind {
    /// RFC 8445 section 5.1.2.2 recommended type preference.
    pub const fn type_preference(self) -> u32 {
        match self {
            CandidateKind::Host => 126,
            CandidateKind::PeerReflexive => 110,
            CandidateKind::ServerReflexive => 100,
            CandidateKind::Relayed => 0,
        }
    }

    /// The SDP token (`host`, `prflx`, `srflx`, `relay`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::Relayed => "relay",
        }
    }
}

/// RFC 8445 section 5.1.2.1: priority of a candidate of component 1.
pub const fn candidate_priority(kind: CandidateKind, local_preference: u16) -> u32 {
    (kind.type_preference() << 24) | ((local_preference as u32) << 8) | (256 - 1)
}

/// RFC 8445 section 6.1.2.3: priority of a pair, from the controlling
/// agent's candidate priority `g` and the controlled agent's `d`.
pub const fn pair_priority(g: u32, d: u32) -> u64 {
    let (min, max) = if g < d { (g, d) } else { (d, g) };
    ((min as u64) << 32) + 2 * (max as u64) + if g > d { 1 } else { 0 }
}

/// A candidate, local or remote, of component 1 over UDP (WebRTC bundles
/// everything on one component with RTCP multiplexed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    kind: CandidateKind,
    address: SocketAddr,
    base: SocketAddr,
    related: Option<SocketAddr>,
    priority: u32,
    foundation: String,
    /// The mDNS name signalled instead of a host candidate's IP address.
    mdns_name: Option<String>,
}

/// Longest foundation accepted from a peer (RFC 8445: 1 to 32 ice-chars).
pub const MAX_FOUNDATION_LEN: usize = 32;

impl Candidate {
    /// A host candidate on a local socket address.
    pub fn host(address: SocketAddr, local_preference: u16) -> Candidate {
        Candidate::local(CandidateKind::Host, address, address, None, local_preference)
    }

    /// A server-reflexive candidate: `address` as a STUN `server` saw
    /// packets from `base`.
    pub fn server_reflexive(
        address: SocketAddr,
        base: SocketAddr,
        server: SocketAddr,
        local_preference: u16,
    ) -> Candidate {
        Candidate::local(
            CandidateKind::ServerReflexive,
            address,
            base,
            Some(server),
            local_preference,
        )
    }

    /// A relayed candidate: `address` allocated on a TURN `server`. Its base
    /// is the relayed address itself (RFC 8445 section 5.1.1.2): datagrams
    /// from it are sent through the TURN client, which the caller owns.
    pub fn relayed(
        address: SocketAddr,
        server: SocketAddr,
        mapped: Option<SocketAddr>,
        local_preference: u16,
    ) -> Candidate {
        let mut c = Candidate::local(
            CandidateKind::Relayed,
            address,
            address,
            Some(server),
            local_preference,
        );
        c.related = mapped;
        c
    }

    /// A peer-reflexive local candidate discovered by a check.
    pub(crate) fn local_peer_reflexive(address: SocketAddr, base: SocketAddr, priority: u32) -> Candidate {
        let mut c = Candidate::local(CandidateKind::PeerReflexive, address, base, None, 0);
        c.priority = priority;
        c
    }

    fn local(
        kind: CandidateKind,
        address: SocketAddr,
        base: SocketAddr,
        server: Option<SocketAddr>,
        local_preference: u16,
    ) -> Candidate {
        Candidate {
            kind,
            address,
            base,
            related: (kind != CandidateKind::Host).then_some(base),
            priority: candidate_priority(kind, local_preference),
            foundation: foundation(kind, base.ip(), server.map(|s| s.ip())),
            mdns_name: None,
        }
    }

    /// A candidate the peer signalled. Returns `None` if the foundation is
    /// empty or longer than 32 characters.
    pub fn remote(
        kind: CandidateKind,
        address: SocketAddr,
        priority: u32,
        foundation: &str,
        related: Option<SocketAddr>,
    ) -> Option<Candidate> {
        if foundation.is_empty() || foundation.len() > MAX_FOUNDATION_LEN {
            return None;
        }
        Some(Candidate {
            kind,
            address,
            base: address,
            related,
            priority,
            foundation: foundation.to_owned(),
            mdns_name: None,
        })
    }

    /// A peer-reflexive remote candidate learned from a check's source and
    /// PRIORITY (RFC 8445 section 7.3.1.3).
    pub(crate) fn remote_peer_reflexive(address: SocketAddr, priority: u32) -> Candidate {
        Candidate {
            kind: CandidateKind::PeerReflexive,
            address,
            base: address,
            related: None,
            priority,
            foundation: format!("prflx{:x}", fnv1a(&[address.ip().to_string().as_bytes()])),
            mdns_name: None,
        }
    }

    /// Its type.
    pub fn kind(&self) -> CandidateKind {
        self.kind
    }

    /// The transport address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The base: the local address packets are sent from (the candidate's
    /// own address for host, remote and relayed candidates).
    pub fn base(&self) -> SocketAddr {
        self.base
    }

    /// The related address (`raddr`/`rport` in SDP).
    pub fn related(&self) -> Option<SocketAddr> {
        self.related
    }

    /// Priority.
    pub fn priority(&self) -> u32 {
        self.priority
    }

    /// Foundation.
    pub fn foundation(&self) -> &str {
        &self.foundation
    }

    /// For a local host candidate published over mDNS, the `.local` name
    /// to signal in place of its IP address (browsers' privacy measure).
    pub fn mdns_name(&self) -> Option<&str> {
        self.mdns_name.as_deref()
    }

    pub(crate) fn set_mdns_name(&mut self, name: String) {
        self.mdns_name = Some(name);
    }

    /// The candidate in SDP attribute form (RFC 8839 section 5.1), without
    /// the `a=` prefix: `candidate:FOUNDATION 1 udp PRIORITY IP PORT typ TYPE
    /// [raddr IP rport PORT]`.
    pub fn to_sdp_attribute(&self) -> String {
        let host = match &self.mdns_name {
            Some(name) => name.clone(),
            None => self.address.ip().to_string(),
        };
        let mut s = format!(
            "candidate:{} 1 udp {} {} {} typ {}",
            self.foundation,
            self.priority,
            host,
            self.address.port(),
            self.kind.as_str()
        );
        if let Some(r) = self.related {
            s.push_str(&format!(" raddr {} rport {}", r.ip(), r.port()));
        }
        s
    }
}

/// RFC 8445 section 5.1.1.3: candidates share a foundation when they have
/// the same type, base IP, server and transport. A stable hash of those,
/// written in decimal.
fn foundation(kind: CandidateKind, base: IpAddr, server: Option<IpAddr>) -> String {
    let kind = [kind as u8];
    let base = base.to_string();
    let server = server.map(|s| s.to_string()).unwrap_or_default();
    fnv1a(&[&kind, base.as_bytes(), b"/", server.as_bytes(), b"/udp"]).to_string()
}

/// FNV-1a, 32 bits: stable across runs and platforms.
fn fnv1a(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for part in parts {
        for &b in *part {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_follow_rfc8445() {
        assert_eq!(candidate_priority(CandidateKind::Host, 65535), 0x7eff_ffff);
        assert_eq!(candidate_priority(CandidateKind::Relayed, 0), 255);
        // Pair priority: min in the top 32 bits, ties broken toward the
        // controlling side's candidate.
        assert_eq!(pair_priority(10, 20), (10u64 << 32) + 40);
        assert_eq!(pair_priority(20, 10), (10u64 << 32) + 41);
        assert!(pair_priority(20, 10) > pair_priority(10, 20));
    }

    #[test]
    fn foundations_group_by_type_base_and_server() {
        let a: SocketAddr = "10.0.0.1:1000".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:2000".parse().unwrap();
        let s: SocketAddr = "192.0.2.1:3478".parse().unwrap();
        assert_eq!(
            Candidate::host(a, 1).foundation(),
            Candidate::host(b, 2).foundation()
        );
        assert_ne!(
            Candidate::host(a, 1).foundation(),
            Candidate::server_reflexive(a, a, s, 1).foundation()
        );
        let c = Candidate::server_reflexive("203.0.113.1:5000".parse().unwrap(), a, s, 65535);
        assert_eq!(c.base(), a);
        assert_eq!(c.related(), Some(a));
        assert!(
            c.to_sdp_attribute()
                .ends_with("typ srflx raddr 10.0.0.1 rport 1000")
        );
    }
}
