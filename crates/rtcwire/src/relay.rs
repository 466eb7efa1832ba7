//! ICE servers (W3C `RTCIceServer`): STUN servers for server-reflexive
//! candidates, and TURN servers whose relayed addresses become relay
//! candidates. TURN over UDP runs inside the peer connection on the first
//! host candidate's socket; `turns:` and TCP need a byte stream the
//! peer connection does not own and are refused for now.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_turn::{TurnClient, TurnConfig};

use crate::RtcError;

/// One ICE server (W3C `RTCIceServer`). URLs name an IP address and port
/// (`stun:192.0.2.1:3478`, `turn:[2001:db8::1]:3478?transport=udp`): the
/// peer connection resolves no names, as it does no I/O.
#[derive(Clone, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:` and `turn:` URLs.
    pub urls: Vec<String>,
    /// TURN username.
    pub username: String,
    /// TURN password.
    pub credential: String,
}

impl std::fmt::Debug for IceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl IceServer {
    /// A STUN server.
    pub fn stun(url: &str) -> IceServer {
        IceServer {
            urls: vec![url.to_owned()],
            username: String::new(),
            credential: String::new(),
        }
    }

    /// A TURN server with long-term credentials.
    pub fn turn(url: &str, username: &str, credential: &str) -> IceServer {
        IceServer {
            urls: vec![url.to_owned()],
            username: username.to_owned(),
            credential: credential.to_owned(),
        }
    }
}

/// Which candidates ICE may use (W3C `RTCIceTransportPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IceTransportPolicy {
    /// Host, server-reflexive and relay candidates.
    #[default]
    All,
    /// Relay candidates only: the host's addresses are neither signalled
    /// nor used (only the sockets carry the TURN traffic).
    Relay,
}

/// What an ICE server URL asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerUrl {
    Stun(SocketAddr),
    TurnUdp(SocketAddr),
}

/// Parses `stun:ADDR:PORT` or `turn:ADDR:PORT[?transport=udp]`.
pub(crate) fn parse_url(url: &str) -> Result<ServerUrl, RtcError> {
    let (scheme, rest) = url
        .split_once(':')
        .ok_or(RtcError::Config("ICE server URL without a scheme"))?;
    let (host, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    let default_port = if scheme == "turns" { 5349 } else { 3478 };
    let address = host
        .parse::<SocketAddr>()
        .or_else(|_| {
            host.trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, default_port))
        })
        .map_err(|_| RtcError::Config("ICE server URL needs an IP address (no name resolution here)"))?;
    match (scheme, query) {
        ("stun", None) => Ok(ServerUrl::Stun(address)),
        ("turn", None | Some("transport=udp")) => Ok(ServerUrl::TurnUdp(address)),
        ("turn", Some(_)) | ("turns", _) => Err(RtcError::Config(
            "TURN over TCP or TLS needs a stream the peer connection does not own: use rtcwire-turn directly",
        )),
        _ => Err(RtcError::Config("ICE server URL scheme must be stun: or turn:")),
    }
}

/// Most TURN servers one peer connection uses.
pub(crate) const MAX_RELAYS: usize = 4;

/// How often permissions and channels are refreshed: under the 2 minutes a
/// NAT may keep an idle UDP mapping (RFC 4787 REQ-5), so the refreshes keep
/// the client's mapping to the server too.
const NAT_KEEPALIVE: Duration = Duration::from_secs(100);

/// A TURN client and the socket it runs on.
#[derive(Debug)]
pub(crate) struct Relay {
    pub(crate) client: TurnClient,
    /// The host candidate's socket it sends from (the first one added).
    pub(crate) base: Option<SocketAddr>,
    /// The allocation, once granted.
    pub(crate) relayed: Option<SocketAddr>,
    /// Allocation failed or the client closed.
    pub(crate) done: bool,
}

impl Relay {
    pub(crate) fn new<R: rand::RngCore + ?Sized>(
        now: Instant,
        rng: &mut R,
        server: SocketAddr,
        username: &str,
        password: &str,
    ) -> Relay {
        let mut config = TurnConfig::new(server, username, password);
        // Something must cross the client's NAT mapping to the server more
        // often than NATs drop idle ones (RFC 4787: not before 2 minutes),
        // also on a relay ICE did not select, or its next refresh comes from
        // a new port and the allocation is lost (437).
        config.permission_refresh = NAT_KEEPALIVE;
        config.channel_refresh = NAT_KEEPALIVE;
        Relay {
            client: TurnClient::new(now, rng, config),
            base: None,
            relayed: None,
            done: false,
        }
    }
}

#[cfg(test)]
mod tests {
    // Test code: the inputs are constants, not network input.
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls() {
        let a: SocketAddr = "192.0.2.1:3478".parse().unwrap();
        assert_eq!(parse_url("stun:192.0.2.1:3478").unwrap(), ServerUrl::Stun(a));
        assert_eq!(parse_url("stun:192.0.2.1").unwrap(), ServerUrl::Stun(a));
        assert_eq!(
            parse_url("turn:192.0.2.1:3478?transport=udp").unwrap(),
            ServerUrl::TurnUdp(a)
        );
        assert_eq!(
            parse_url("turn:[2001:db8::1]:3478").unwrap(),
            ServerUrl::TurnUdp("[2001:db8::1]:3478".parse().unwrap())
        );
        assert!(parse_url("turn:192.0.2.1:3478?transport=tcp").is_err());
        assert!(parse_url("turns:192.0.2.1").is_err());
        assert!(parse_url("stun:stun.example.org:3478").is_err());
        assert!(parse_url("http://192.0.2.1").is_err());
    }
}
