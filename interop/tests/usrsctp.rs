//! rtcwire-sctp against usrsctp (the SCTP stack of Firefox), which nobody
//! here wrote: our association connects to usrsctp's example echo server
//! over SCTP-over-UDP encapsulation (RFC 6951: the SCTP packet is the UDP
//! payload), sends messages from 1 byte to 64 KiB, ordered and unordered, on
//! two streams, checks what comes back and shuts down gracefully.
//!
//! usrsctp lists every local address in its INIT-ACK and sends heartbeats
//! to each, so the test runs in a loopback-only network namespace of its
//! own: the test creates it (and deletes it on drop), then runs this very
//! test binary again inside it (`ip netns exec`) with [`INSIDE`] set; that
//! run starts the echo server and drives the association on a UDP socket.
//! The namespace's loopback gets an Ethernet-sized MTU so that usrsctp
//! fragments its echoes as it would on a real path.
//!
//! The echo server reads with a 10 240-byte buffer and echoes only the read
//! that ends a message (`MSG_EOR`): a larger message reaches it whole (its
//! log shows every piece, which must add up to the message), but only its
//! last piece comes back. The test checks exactly that.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rand::{RngCore, SeedableRng};
use rtcwire_interop::{LinePeer, Netns, require_tool};
use rtcwire_sctp::{Association, SctpConfig, SctpEvent, SctpMessage};

/// usrsctp's example programs (Debian package `libusrsctp-examples`).
const ECHO_SERVER: &str = "/usr/lib/usrsctp/echo_server";
/// Set in the environment of the run inside the namespace.
const INSIDE: &str = "RTCWIRE_USRSCTP_INSIDE";
/// The test's own name, to run it again inside the namespace.
const TEST_NAME: &str = "rtcwire_sctp_exchanges_messages_with_usrsctp_echo_server_over_udp";
/// UDP port of usrsctp's encapsulation socket (the namespace is ours alone,
/// so fixed ports cannot collide).
const USRSCTP_UDP_PORT: u16 = 9899;
/// UDP port of our socket.
const RTCWIRE_UDP_PORT: u16 = 9900;
/// SCTP port the echo server listens on.
const ECHO_SCTP_PORT: u16 = 7;
/// Our SCTP port.
const RTCWIRE_SCTP_PORT: u16 = 5000;
/// The echo server's receive buffer: a message longer than this reaches it
/// in several reads, and only the last one is echoed.
const ECHO_BUFFER: usize = 10240;
/// Deadline of the whole exchange, inside the namespace.
const LIMIT: Duration = Duration::from_secs(30);
/// Deadline of the run inside the namespace, seen from outside.
const OUTER_LIMIT: Duration = Duration::from_secs(60);

#[test]
#[ignore = "needs usrsctp's examples and root (network namespaces): scripts/test installs them and runs the interop tests"]
fn rtcwire_sctp_exchanges_messages_with_usrsctp_echo_server_over_udp() {
    if std::env::var_os(INSIDE).is_some() {
        inside_namespace();
        return;
    }
    require_tool("ip");
    require_tool("stdbuf");
    assert!(
        Path::new(ECHO_SERVER).is_file(),
        "`{ECHO_SERVER}` is not installed (Debian package libusrsctp-examples): run scripts/test, which installs it"
    );
    let ns = Netns::create(&format!("rtcwire-usrsctp-{}", std::process::id()));
    ns.run(&["ip", "link", "set", "lo", "mtu", "1500", "up"]);

    ns.run_test_inside(TEST_NAME, INSIDE, OUTER_LIMIT, |_| {});
}

/// One message sent, and what came back.
struct Probe {
    stream_id: u16,
    ppid: u32,
    unordered: bool,
    data: Vec<u8>,
    echo: Option<Vec<u8>>,
}

/// One line of the echo server's log: "Msg of length N received from ADDR
/// on stream S with SSN X and TSN Y, PPID P, context C, complete K."
#[derive(Debug)]
struct Piece {
    len: usize,
    stream_id: u16,
    ppid: u32,
    complete: bool,
}

fn parse_piece(line: &str) -> Option<Piece> {
    let field = |name: &str, end: &str| -> Option<&str> {
        let start = line.find(name)? + name.len();
        let rest = &line[start..];
        Some(&rest[..rest.find(end)?])
    };
    Some(Piece {
        len: field("Msg of length ", " ")?.parse().ok()?,
        stream_id: field(" on stream ", " ")?.parse().ok()?,
        ppid: field(", PPID ", ",")?.parse().ok()?,
        complete: field(", complete ", ".")? == "1",
    })
}

/// Our side: the association, its UDP socket and the echo server's output.
struct Client {
    association: Association,
    socket: UdpSocket,
    usrsctp: SocketAddr,
    buf: Vec<u8>,
    server: LinePeer,
    server_log: Vec<String>,
    sent: usize,
    received: usize,
}

impl Client {
    /// Moves the echo server's output lines that have arrived into
    /// `server_log`.
    fn pump_server_log(&mut self) {
        while let Ok(line) = self.server.try_recv() {
            self.server_log.push(line);
        }
    }

    /// What to show when something goes wrong.
    fn report(&mut self) -> String {
        self.pump_server_log();
        let skipped = self.server_log.len().saturating_sub(40);
        format!(
            "association state {:?}, {} datagrams sent, {} received\n\
             echo server output (last 40 lines):\n{}\n\
             echo server stderr:\n{}",
            self.association.state(),
            self.sent,
            self.received,
            self.server_log[skipped..].join("\n"),
            self.server.stderr_tail(20)
        )
    }

    /// Sends what the association has to send, then waits for datagrams and
    /// timers until it reports an event; panics past `deadline`.
    fn next_event(&mut self, deadline: Instant, waiting_for: &str) -> SctpEvent {
        loop {
            while let Some(packet) = self.association.poll_transmit() {
                self.socket
                    .send_to(&packet, self.usrsctp)
                    .expect("send a datagram to usrsctp");
                self.sent += 1;
            }
            if let Some(event) = self.association.poll_event() {
                return event;
            }
            let now = Instant::now();
            if now >= deadline {
                panic!("no {waiting_for} within {LIMIT:?}: {}", self.report());
            }
            let wake = self
                .association
                .poll_timeout()
                .map_or(deadline, |t| t.min(deadline));
            let wait = wake.saturating_duration_since(now).max(Duration::from_millis(1));
            self.socket
                .set_read_timeout(Some(wait))
                .expect("set read timeout");
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, from)) if from == self.usrsctp => {
                    self.received += 1;
                    self.association.handle_receive(Instant::now(), &self.buf[..n]);
                }
                Ok((_, from)) => panic!("a datagram from {from}, not usrsctp"),
                // An ICMP error for an INIT sent before the echo server was
                // listening: the INIT is sent again on its timer.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("receive from usrsctp: {e}"),
            }
            let now = Instant::now();
            if self.association.poll_timeout().is_some_and(|t| t <= now) {
                self.association.handle_timeout(now);
            }
            self.pump_server_log();
        }
    }
}

/// The test proper, inside the namespace.
fn inside_namespace() {
    let started = Instant::now();
    let deadline = started + LIMIT;
    let mut command = Command::new("stdbuf");
    command.args([
        "-oL",
        ECHO_SERVER,
        &USRSCTP_UDP_PORT.to_string(),
        &RTCWIRE_UDP_PORT.to_string(),
    ]);
    let server = LinePeer::spawn(command);
    let socket = UdpSocket::bind(("127.0.0.1", RTCWIRE_UDP_PORT)).expect("bind our UDP port");
    let mut client = Client {
        association: Association::new(SctpConfig {
            port: RTCWIRE_SCTP_PORT,
            remote_port: ECHO_SCTP_PORT,
            seed: Some(6951),
            ..SctpConfig::default()
        }),
        socket,
        usrsctp: SocketAddr::from(([127, 0, 0, 1], USRSCTP_UDP_PORT)),
        buf: vec![0; 65536],
        server,
        server_log: Vec::new(),
        sent: 0,
        received: 0,
    };

    // The echo server is usually still starting when the first INIT goes
    // out, and nothing answers it (not even an ABORT: the server sets
    // usrsctp's blackhole option); the association sends it again after its
    // initial RTO of 1 s, so the handshake takes about a second.
    client.association.connect(Instant::now());
    match client.next_event(deadline, "handshake") {
        SctpEvent::Connected => {}
        other => panic!("expected Connected, got {other:?}: {}", client.report()),
    }
    println!("connected after {:?}", started.elapsed());

    // Every size on both streams, ordered and unordered; each message has
    // its own PPID so that its echo can be told apart.
    let mut probes = Vec::new();
    for size in [1, 1024, ECHO_BUFFER, 16 * 1024, 64 * 1024] {
        for (stream_id, unordered) in [(0, false), (0, true), (3, false), (3, true)] {
            let ppid = 1000 + probes.len() as u32;
            let mut data = vec![0; size];
            rand::rngs::StdRng::seed_from_u64(u64::from(ppid)).fill_bytes(&mut data);
            probes.push(Probe {
                stream_id,
                ppid,
                unordered,
                data,
                echo: None,
            });
        }
    }
    for p in &probes {
        client
            .association
            .send(Instant::now(), p.stream_id, p.ppid, &p.data, p.unordered)
            .unwrap_or_else(|e| panic!("send {} bytes: {e}", p.data.len()));
    }

    // Collect the echoes, in the order they arrive.
    let mut arrival = Vec::new();
    while probes.iter().any(|p| p.echo.is_none()) {
        let missing = probes.iter().filter(|p| p.echo.is_none()).count();
        let event = client.next_event(deadline, &format!("echo ({missing} of {} missing)", probes.len()));
        let SctpEvent::Message(SctpMessage {
            stream_id,
            ppid,
            data,
        }) = event
        else {
            panic!("expected an echo, got {event:?}: {}", client.report());
        };
        let Some(p) = probes.iter_mut().find(|p| p.ppid == ppid) else {
            panic!("an echo with unknown PPID {ppid}: {}", client.report());
        };
        assert_eq!(stream_id, p.stream_id, "echo of PPID {ppid} on the wrong stream");
        assert!(p.echo.is_none(), "two echoes of PPID {ppid}");
        p.echo = Some(data);
        arrival.push(ppid);
    }
    println!(
        "{} echoes after {:?} ({} datagrams sent, {} received)",
        probes.len(),
        started.elapsed(),
        client.sent,
        client.received
    );

    // Ordered messages come back in the order they were sent, per stream
    // (unordered ones may overtake them).
    for stream_id in [0, 3] {
        let order: Vec<u32> = arrival
            .iter()
            .copied()
            .filter(|ppid| {
                probes
                    .iter()
                    .any(|p| p.ppid == *ppid && p.stream_id == stream_id && !p.unordered)
            })
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted, "ordered echoes on stream {stream_id} out of order");
    }

    // The echo server's log: every message reached it whole (its pieces add
    // up, the last one ends the message), and the echo is that last piece,
    // byte for byte. The echo server logs before it echoes; wait for lines
    // still on their way through the pipe.
    let log_complete = |log: &[String]| {
        probes.iter().all(|p| {
            log.iter()
                .filter_map(|l| parse_piece(l))
                .any(|piece| piece.ppid == p.ppid && piece.complete)
        })
    };
    client.pump_server_log();
    while !log_complete(&client.server_log) {
        match client.server.recv(deadline) {
            Ok(line) => client.server_log.push(line),
            Err(e) => panic!("echo server log incomplete ({e:?}): {}", client.report()),
        }
    }
    let pieces: Vec<Piece> = client.server_log.iter().filter_map(|l| parse_piece(l)).collect();
    for p in &probes {
        let mine: Vec<&Piece> = pieces.iter().filter(|piece| piece.ppid == p.ppid).collect();
        let len = p.data.len();
        let total: usize = mine.iter().map(|piece| piece.len).sum();
        assert_eq!(
            total, len,
            "usrsctp read {total} bytes of the {len}-byte message with PPID {}: {mine:?}",
            p.ppid
        );
        assert!(
            mine.iter().all(|piece| piece.stream_id == p.stream_id),
            "usrsctp saw PPID {} on the wrong stream: {mine:?}",
            p.ppid
        );
        let Some((last, rest)) = mine.split_last() else {
            unreachable!("the log has the complete piece")
        };
        assert!(
            last.complete && rest.iter().all(|piece| !piece.complete),
            "pieces of PPID {}: {mine:?}",
            p.ppid
        );
        if len <= ECHO_BUFFER {
            assert_eq!(mine.len(), 1, "a {len}-byte message read in pieces: {mine:?}");
        }
        let echo = p.echo.as_deref().unwrap_or_default();
        assert!(
            echo == &p.data[len - last.len..],
            "the echo of the {len}-byte message with PPID {} ({} bytes) is not its last {} bytes",
            p.ppid,
            echo.len(),
            last.len
        );
    }

    // Graceful shutdown: SHUTDOWN, SHUTDOWN-ACK, SHUTDOWN-COMPLETE.
    client.association.close(Instant::now());
    match client.next_event(deadline, "end of the shutdown") {
        SctpEvent::Closed => {}
        other => panic!("expected Closed, got {other:?}: {}", client.report()),
    }
    while let Some(p) = client.association.poll_transmit() {
        client
            .socket
            .send_to(&p, client.usrsctp)
            .expect("send SHUTDOWN-COMPLETE");
        client.sent += 1;
    }
    let stderr = client.server.stderr_tail(20);
    assert!(
        !stderr.contains("sctp_sendv"),
        "the echo server could not echo:\n{stderr}"
    );
    println!(
        "closed after {:?} ({} datagrams sent, {} received)",
        started.elapsed(),
        client.sent,
        client.received
    );
}
