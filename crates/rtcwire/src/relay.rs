//! ICE servers (W3C `RTCIceServer`): STUN servers for server-reflexive
//! candidates, and TURN servers whose relayed addresses become relay
//! candidates. TURN over UDP runs inside the peer connection on the first
//! host candidate's socket; over TCP (`?transport=tcp`) and TLS (`turns:`)
//! it runs on a TCP connection the caller opens when asked
//! ([`Output::Connect`](crate::Output::Connect)) and whose bytes it moves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;

use rtcwire_turn::{TurnClient, TurnConfig, TurnTransport};

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
    /// For `turns:` URLs: the name the server's certificate must carry
    /// (the URL names the address the caller resolved it to). `None`
    /// checks the certificate against the URL's IP address.
    pub tls_server_name: Option<String>,
}

impl std::fmt::Debug for IceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field("tls_server_name", &self.tls_server_name)
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
            tls_server_name: None,
        }
    }

    /// A TURN server with long-term credentials.
    pub fn turn(url: &str, username: &str, credential: &str) -> IceServer {
        IceServer {
            urls: vec![url.to_owned()],
            username: username.to_owned(),
            credential: credential.to_owned(),
            tls_server_name: None,
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
    Turn(SocketAddr, TurnTransport),
}

/// Parses `stun:ADDR[:PORT]`, `turn:ADDR[:PORT][?transport=udp|tcp]` or
/// `turns:ADDR[:PORT][?transport=tcp]` (RFC 7064, 7065).
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
        ("turn", None | Some("transport=udp")) => Ok(ServerUrl::Turn(address, TurnTransport::Udp)),
        ("turn", Some("transport=tcp")) => Ok(ServerUrl::Turn(address, TurnTransport::Tcp)),
        ("turns", None | Some("transport=tcp")) => Ok(ServerUrl::Turn(address, TurnTransport::Tls)),
        ("stun" | "turn" | "turns", Some(_)) => {
            Err(RtcError::Config("ICE server URL with an unknown transport"))
        }
        _ => Err(RtcError::Config(
            "ICE server URL scheme must be stun:, turn: or turns:",
        )),
    }
}

/// Most TURN servers one peer connection uses.
pub(crate) const MAX_RELAYS: usize = 4;

/// How often permissions and channels are refreshed: under the 2 minutes a
/// NAT may keep an idle UDP mapping (RFC 4787 REQ-5), so the refreshes keep
/// the client's mapping to the server too.
const NAT_KEEPALIVE: Duration = Duration::from_secs(100);

/// Where a TURN client over TCP or TLS is with its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamState {
    /// [`Output::Connect`](crate::Output::Connect) went out; nothing is
    /// written before [`Input::Connected`](crate::Input::Connected).
    Connecting,
    Open,
    Closed,
}

/// A TURN client and the socket or connection it runs on.
#[derive(Debug)]
pub(crate) struct Relay {
    pub(crate) client: TurnClient,
    /// Over UDP: the host candidate's socket it sends from (the first one
    /// added).
    pub(crate) base: Option<SocketAddr>,
    pub(crate) transport: TurnTransport,
    /// Over TCP or TLS: the connection to the server.
    pub(crate) stream: Option<StreamState>,
    /// The allocation, once granted.
    pub(crate) relayed: Option<SocketAddr>,
    /// Allocation failed or the client closed.
    pub(crate) done: bool,
}

impl Relay {
    /// A client for `server` over `transport`; `tls` holds the trust
    /// anchors for `turns:`.
    pub(crate) fn new<R: rand::RngCore + ?Sized>(
        now: Instant,
        rng: &mut R,
        server: SocketAddr,
        transport: TurnTransport,
        ice_server: &IceServer,
        tls: Option<&Arc<rustls::ClientConfig>>,
    ) -> Result<Relay, RtcError> {
        let mut config = TurnConfig::new(server, &ice_server.username, &ice_server.credential);
        config.transport = transport;
        // Something must cross the client's NAT mapping to the server more
        // often than NATs drop idle ones (RFC 4787: not before 2 minutes),
        // also on a relay ICE did not select, or its next refresh comes from
        // a new port and the allocation is lost (437).
        config.permission_refresh = NAT_KEEPALIVE;
        config.channel_refresh = NAT_KEEPALIVE;
        let client = match transport {
            TurnTransport::Udp | TurnTransport::Tcp => TurnClient::new(now, rng, config),
            TurnTransport::Tls => {
                let tls = tls.ok_or(RtcError::Config("turns: needs RtcConfig::tls_config"))?;
                let name = match &ice_server.tls_server_name {
                    Some(name) => ServerName::try_from(name.clone())
                        .map_err(|_| RtcError::Config("tls_server_name is not a valid DNS name"))?,
                    None => ServerName::IpAddress(server.ip().into()),
                };
                TurnClient::new_tls(now, rng, config, tls.clone(), name)
                    .map_err(|_| RtcError::Config("TLS client for turns: could not be made"))?
            }
        };
        let stream = (transport != TurnTransport::Udp).then_some(StreamState::Connecting);
        Ok(Relay {
            client,
            base: None,
            transport,
            stream,
            relayed: None,
            done: false,
        })
    }

    /// ICE's local preference for its relay candidate: UDP before TCP
    /// before TLS, as the extra hop's cost grows.
    pub(crate) fn local_preference(&self) -> u16 {
        match self.transport {
            TurnTransport::Udp => u16::MAX,
            TurnTransport::Tcp => u16::MAX / 2,
            TurnTransport::Tls => u16::MAX / 4,
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
        let udp = TurnTransport::Udp;
        assert_eq!(
            parse_url("turn:192.0.2.1:3478?transport=udp").unwrap(),
            ServerUrl::Turn(a, udp)
        );
        assert_eq!(
            parse_url("turn:[2001:db8::1]:3478").unwrap(),
            ServerUrl::Turn("[2001:db8::1]:3478".parse().unwrap(), udp)
        );
        assert_eq!(
            parse_url("turn:192.0.2.1?transport=tcp").unwrap(),
            ServerUrl::Turn(a, TurnTransport::Tcp)
        );
        assert_eq!(
            parse_url("turns:192.0.2.1").unwrap(),
            ServerUrl::Turn("192.0.2.1:5349".parse().unwrap(), TurnTransport::Tls)
        );
        assert!(parse_url("turns:192.0.2.1?transport=udp").is_err());
        assert!(parse_url("turn:192.0.2.1?transport=sctp").is_err());
        assert!(parse_url("stun:stun.example.org:3478").is_err());
        assert!(parse_url("http://192.0.2.1").is_err());
    }
}
