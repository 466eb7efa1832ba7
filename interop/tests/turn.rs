//! rtcwire-turn against coturn: allocations, permissions, channels and data
//! relayed to coturn's `turnutils_peer` UDP echo and back, over UDP and TCP.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rtcwire_interop::{COTURN_PASSWORD, COTURN_USER, TempDir, free_udp_port, require_tool};
use rtcwire_stun::TransactionConfig;
use rtcwire_turn::{TurnClient, TurnConfig, TurnError, TurnEvent, TurnTransport};

/// coturn with the repository's configuration and a few extra lines, killed
/// on drop.
struct Server {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Server {
    fn start(extra: &str) -> Server {
        require_tool("turnserver");
        let dir = TempDir::new("coturn-turn");
        let port = free_udp_port();
        let base = include_str!("../coturn/turnserver.conf");
        let conf = format!(
            "{base}{extra}\nlistening-port={port}\npidfile={pid}\nuserdb={db}\n",
            pid = dir.path().join("turnserver.pid").display(),
            db = dir.path().join("turndb").display(),
        );
        let conf_path = dir.path().join("turnserver.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(dir.path().join("turnserver.log")).unwrap();
        let child = Command::new("turnserver")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Server { child, port, dir }
    }

    fn addr(&self) -> SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("turnserver.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `turnutils_peer`: a UDP echo on 127.0.0.1, killed on drop.
struct EchoPeer {
    child: Child,
    addr: SocketAddr,
}

impl EchoPeer {
    fn start() -> EchoPeer {
        require_tool("turnutils_peer");
        let port = free_udp_port();
        let child = Command::new("turnutils_peer")
            .args(["-L", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        EchoPeer {
            child,
            addr: ([127, 0, 0, 1], port).into(),
        }
    }
}

impl Drop for EchoPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Retransmissions that ride out coturn's start-up on loopback.
fn loopback_transactions() -> TransactionConfig {
    TransactionConfig {
        initial_rto: Duration::from_millis(100),
        max_rto: Some(Duration::from_millis(1600)),
        max_transmissions: 12,
        ..TransactionConfig::default()
    }
}

fn config(server: SocketAddr, password: &str) -> TurnConfig {
    let mut c = TurnConfig::new(server, COTURN_USER, password);
    c.transaction = loopback_transactions();
    c.software = Some("rtcwire interop".into());
    c
}

/// What moves bytes between the client and coturn.
enum Link {
    Udp(UdpSocket),
    Tcp(TcpStream),
}

impl Link {
    fn udp() -> Link {
        Link::Udp(UdpSocket::bind("127.0.0.1:0").unwrap())
    }

    /// Connects to coturn's TCP listener, retrying while it starts.
    fn tcp(server: SocketAddr) -> Link {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match TcpStream::connect(server) {
                Ok(s) => {
                    s.set_nodelay(true).unwrap();
                    return Link::Tcp(s);
                }
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("connect to coturn over TCP: {e}"),
            }
        }
    }
}

/// Drives `client` on `link` until `stop` says so or `limit` passes; returns
/// the events and the relayed data seen on the way.
fn drive(
    client: &mut TurnClient,
    link: &mut Link,
    limit: Duration,
    mut stop: impl FnMut(&[TurnEvent], &[(SocketAddr, Vec<u8>)]) -> bool,
) -> (Vec<TurnEvent>, Vec<(SocketAddr, Vec<u8>)>) {
    let deadline = Instant::now() + limit;
    let mut events = Vec::new();
    let mut data = Vec::new();
    let mut buf = vec![0u8; 65_536];
    loop {
        while let Some(t) = client.poll_transmit() {
            match link {
                Link::Udp(s) => {
                    s.send_to(t.contents, t.destination).unwrap();
                }
                Link::Tcp(s) => s.write_all(t.contents).unwrap(),
            }
        }
        while let Some(e) = client.poll_event() {
            match e {
                TurnEvent::Data { peer, data: d } => data.push((peer, d)),
                e => events.push(e),
            }
        }
        if stop(&events, &data) || Instant::now() >= deadline {
            return (events, data);
        }
        let now = Instant::now();
        let wake = client.poll_timeout().unwrap_or(deadline).min(deadline);
        let wait = wake.saturating_duration_since(now).max(Duration::from_millis(1));
        let received = match link {
            Link::Udp(s) => {
                s.set_read_timeout(Some(wait)).unwrap();
                s.recv_from(&mut buf).map(|(n, from)| (n, Some(from)))
            }
            Link::Tcp(s) => {
                s.set_read_timeout(Some(wait)).unwrap();
                s.read(&mut buf).map(|n| (n, None))
            }
        };
        match received {
            Ok((n, Some(from))) => {
                if let Some((peer, d)) = client.handle_receive(Instant::now(), from, &buf[..n]) {
                    data.push((peer, d.to_vec()));
                }
            }
            Ok((0, None)) => panic!("coturn closed the TCP connection"),
            Ok((n, None)) => client.handle_stream(Instant::now(), &buf[..n]).unwrap(),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("receive: {e}"),
        }
        client.handle_timeout(Instant::now());
    }
}

fn wait_for(
    client: &mut TurnClient,
    link: &mut Link,
    server: &Server,
    what: &str,
    pred: impl Fn(&TurnEvent) -> bool,
) -> TurnEvent {
    let (events, _) = drive(client, link, Duration::from_secs(20), |e, _| e.iter().any(&pred));
    events
        .iter()
        .find(|e| pred(e))
        .cloned()
        .unwrap_or_else(|| panic!("no {what}: {events:?}\ncoturn log:\n{}", server.log()))
}

fn echo(client: &mut TurnClient, link: &mut Link, peer: SocketAddr, payload: &[u8]) -> Vec<u8> {
    client.send_to(peer, payload).unwrap();
    let (_, data) = drive(client, link, Duration::from_secs(5), |_, d| !d.is_empty());
    let (from, echoed) = data
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no echo of {:?}", String::from_utf8_lossy(payload)));
    assert_eq!(from, peer);
    echoed
}

/// Allocation, permission, Send indication, channel, ChannelData, close.
fn relay_round_trip(transport: TurnTransport) {
    let server = Server::start("");
    let peer = EchoPeer::start();
    let mut config = config(server.addr(), COTURN_PASSWORD);
    config.transport = transport;
    let mut link = match transport {
        TurnTransport::Udp => Link::udp(),
        _ => Link::tcp(server.addr()),
    };
    let mut client = TurnClient::new(Instant::now(), &mut rand::rng(), config);

    let allocated = wait_for(&mut client, &mut link, &server, "allocation", |e| {
        matches!(e, TurnEvent::Allocated { .. } | TurnEvent::AllocationFailed(_))
    });
    let TurnEvent::Allocated { relayed, mapped, .. } = allocated else {
        panic!("allocation failed: {allocated:?}\ncoturn log:\n{}", server.log());
    };
    assert_eq!(relayed.ip(), peer.addr.ip());
    assert!(mapped.is_some());

    client.create_permission(Instant::now(), peer.addr.ip()).unwrap();
    wait_for(&mut client, &mut link, &server, "permission", |e| {
        matches!(e, TurnEvent::PermissionCreated(_))
    });
    // The echo peer may still be starting: retry the first datagram.
    let mut echoed = None;
    for _ in 0..10 {
        client.send_to(peer.addr, b"via a Send indication").unwrap();
        let (_, data) = drive(&mut client, &mut link, Duration::from_millis(500), |_, d| {
            !d.is_empty()
        });
        if let Some((from, d)) = data.into_iter().next() {
            assert_eq!(from, peer.addr);
            echoed = Some(d);
            break;
        }
    }
    assert_eq!(echoed.as_deref(), Some(&b"via a Send indication"[..]));

    let channel = client.bind_channel(Instant::now(), peer.addr).unwrap();
    let bound = wait_for(&mut client, &mut link, &server, "channel", |e| {
        matches!(
            e,
            TurnEvent::ChannelBound { .. } | TurnEvent::ChannelBindFailed { .. }
        )
    });
    assert_eq!(
        bound,
        TurnEvent::ChannelBound {
            peer: peer.addr,
            channel
        }
    );
    assert_eq!(client.channel(peer.addr), Some(channel));
    // Odd lengths exercise the padding over TCP.
    for payload in [&b"via ChannelData"[..], b"x", b"twenty-three bytes long"] {
        assert_eq!(echo(&mut client, &mut link, peer.addr, payload), payload);
    }

    client.close(Instant::now());
    wait_for(&mut client, &mut link, &server, "close", |e| {
        matches!(e, TurnEvent::Closed)
    });
    assert_eq!(client.rejected(), 0, "a coturn message failed our checks");
}

#[test]
#[ignore = "needs coturn: scripts/test installs it and runs the interop tests"]
fn turn_over_udp_relays_to_an_echo_peer_by_send_indication_and_channel_data() {
    relay_round_trip(TurnTransport::Udp);
}

#[test]
#[ignore = "needs coturn: scripts/test installs it and runs the interop tests"]
fn turn_over_tcp_relays_to_an_echo_peer_by_send_indication_and_channel_data() {
    relay_round_trip(TurnTransport::Tcp);
}

#[test]
#[ignore = "needs coturn: scripts/test installs it and runs the interop tests"]
fn turn_with_a_wrong_password_fails_saying_so() {
    let server = Server::start("");
    let mut link = Link::udp();
    let mut client = TurnClient::new(
        Instant::now(),
        &mut rand::rng(),
        config(server.addr(), "not-the-password"),
    );
    let failed = wait_for(&mut client, &mut link, &server, "failure", |e| {
        matches!(e, TurnEvent::Allocated { .. } | TurnEvent::AllocationFailed(_))
    });
    assert_eq!(failed, TurnEvent::AllocationFailed(TurnError::Unauthorized));
    let message = TurnError::Unauthorized.to_string();
    assert!(message.contains("wrong username or password"), "{message}");
}

#[test]
#[ignore = "needs coturn: scripts/test installs it and runs the interop tests"]
fn turn_refreshes_a_short_allocation_before_it_expires() {
    // coturn grants the Allocate at most max-allocate-lifetime (8 s) but
    // raises short Refresh lifetimes to its 600 s minimum; the client
    // refreshes on the shorter of granted and requested lifetimes, halfway
    // through when under 2 minutes: every 4 s here.
    let server = Server::start("max-allocate-lifetime=8");
    let mut link = Link::udp();
    let mut config = config(server.addr(), COTURN_PASSWORD);
    config.lifetime = Duration::from_secs(8);
    let mut client = TurnClient::new(Instant::now(), &mut rand::rng(), config);
    let allocated = wait_for(&mut client, &mut link, &server, "allocation", |e| {
        matches!(e, TurnEvent::Allocated { .. } | TurnEvent::AllocationFailed(_))
    });
    let TurnEvent::Allocated { lifetime, .. } = allocated else {
        panic!("allocation failed: {allocated:?}");
    };
    assert!(lifetime <= Duration::from_secs(8), "granted {lifetime:?}");
    let started = Instant::now();
    let (events, _) = drive(&mut client, &mut link, Duration::from_secs(20), |e, _| {
        e.iter()
            .filter(|e| matches!(e, TurnEvent::Refreshed { .. }))
            .count()
            >= 3
    });
    let refreshes = events
        .iter()
        .filter(|e| matches!(e, TurnEvent::Refreshed { .. }))
        .count();
    assert!(
        refreshes >= 3,
        "{refreshes} refreshes in {:?}: {events:?}\ncoturn log:\n{}",
        started.elapsed(),
        server.log()
    );
    assert!(client.is_allocated());
    // Beyond two lifetimes, the allocation is still alive on the server.
    assert!(started.elapsed() > lifetime);
}
