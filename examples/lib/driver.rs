//! An [`Rtc`] on real UDP sockets, driven by one blocking loop.
//!
//! [`Endpoint::poll`] sends what the connection wants sent, hands out its
//! next event, and otherwise waits for a datagram or the connection's
//! timer (whichever comes first, but never past the caller's `until`).
//! The application calls it in a loop and does its own work (sending,
//! checking its deadline) between calls.
//!
//! With one socket the loop reads it directly with a read timeout. With
//! several, one thread per socket reads and hands datagrams over a channel.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rtcwire::{Event, Input, Output, Receive, Rtc, RtcConfig, Transmit};

use crate::Error;

/// Largest datagram read.
const RECV_BUFFER: usize = 65_536;
/// How often a reader thread checks whether its endpoint is gone.
const READER_TICK: Duration = Duration::from_millis(200);

/// A datagram read by a reader thread: (source, local address, bytes).
type Datagram = (SocketAddr, SocketAddr, Vec<u8>);

enum Io {
    One {
        socket: UdpSocket,
        local: SocketAddr,
    },
    Many {
        sockets: Vec<(SocketAddr, UdpSocket)>,
        datagrams: mpsc::Receiver<Datagram>,
    },
}

/// A peer connection with its sockets.
pub struct Endpoint {
    /// The connection: create channels, send, read state through it.
    pub rtc: Rtc,
    io: Io,
    buf: Vec<u8>,
    timeout: Instant,
    send_errors: u64,
    read_timeout: Option<Duration>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("local", &self.local_addrs())
            .field("send_errors", &self.send_errors)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Binds a UDP socket on each of `binds` (port 0 picks one) and makes
    /// each a host candidate of a new connection.
    pub fn bind(config: RtcConfig, binds: &[SocketAddr]) -> Result<Endpoint, Error> {
        if binds.is_empty() {
            return Err("no address to bind".into());
        }
        let now = Instant::now();
        let mut rtc = Rtc::new(config, now)?;
        let mut sockets = Vec::new();
        for bind in binds {
            if bind.ip().is_unspecified() {
                return Err(format!(
                    "cannot bind {bind}: a host candidate needs a specific address (e.g. 127.0.0.1:0)"
                )
                .into());
            }
            let socket = UdpSocket::bind(bind).map_err(|e| format!("bind {bind}: {e}"))?;
            let local = socket.local_addr()?;
            rtc.add_local_candidate(local)?;
            sockets.push((local, socket));
        }
        let io = if sockets.len() == 1 {
            let Some((local, socket)) = sockets.pop() else {
                return Err("no socket".into());
            };
            Io::One { socket, local }
        } else {
            let (tx, datagrams) = mpsc::channel();
            for (local, socket) in &sockets {
                let reader = socket.try_clone()?;
                reader.set_read_timeout(Some(READER_TICK))?;
                let (tx, local) = (tx.clone(), *local);
                std::thread::spawn(move || read_forever(&reader, local, &tx));
            }
            Io::Many { sockets, datagrams }
        };
        Ok(Endpoint {
            rtc,
            io,
            buf: vec![0; RECV_BUFFER],
            timeout: now,
            send_errors: 0,
            read_timeout: None,
        })
    }

    /// The sockets' addresses (the host candidates).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        match &self.io {
            Io::One { local, .. } => vec![*local],
            Io::Many { sockets, .. } => sockets.iter().map(|(a, _)| *a).collect(),
        }
    }

    /// Datagrams the operating system refused to send (e.g. to a candidate
    /// address this host cannot reach); ICE tries the other pairs.
    pub fn send_errors(&self) -> u64 {
        self.send_errors
    }

    /// Sends what the connection has to send and returns its next event.
    /// Without one, waits until a datagram arrives, the connection's timer
    /// expires or `until` passes, hands that to the connection and returns
    /// `None`: the caller does its own work and calls again.
    pub fn poll(&mut self, until: Instant) -> Result<Option<Event>, Error> {
        if let Some(e) = self.drain()? {
            return Ok(Some(e));
        }
        let now = Instant::now();
        if self.timeout <= now {
            self.rtc.handle_input(Input::Timeout(now))?;
            return Ok(None);
        }
        let wake = self.timeout.min(until);
        if wake <= now {
            return Ok(None);
        }
        let wait = wake - now;
        match &mut self.io {
            Io::One { socket, local } => {
                // The timeout is set in power-of-two steps at or below the
                // wait, so a busy loop rarely pays for the system call; a
                // wake-up that comes early only goes round once more.
                let step = read_timeout_step(wait);
                if self.read_timeout != Some(step) {
                    socket.set_read_timeout(Some(step))?;
                    self.read_timeout = Some(step);
                }
                if let Some((n, source)) = recv(socket, &mut self.buf)? {
                    let receive = Receive {
                        source,
                        destination: *local,
                        contents: &self.buf[..n],
                    };
                    self.rtc.handle_input(Input::Receive(Instant::now(), receive))?;
                    return Ok(None);
                }
            }
            Io::Many { datagrams, .. } => match datagrams.recv_timeout(wait) {
                // An empty one is a reader's liveness probe.
                Ok((_, _, contents)) if contents.is_empty() => {}
                Ok((source, destination, contents)) => {
                    let receive = Receive {
                        source,
                        destination,
                        contents: &contents,
                    };
                    self.rtc.handle_input(Input::Receive(Instant::now(), receive))?;
                    return Ok(None);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err("every socket reader stopped".into()),
            },
        }
        let now = Instant::now();
        if self.timeout <= now {
            self.rtc.handle_input(Input::Timeout(now))?;
        }
        Ok(None)
    }

    /// Sends everything queued and returns the first event, if any, without
    /// waiting. After [`Rtc::close`], call it until it returns `None` so
    /// the peer hears of the close.
    pub fn drain(&mut self) -> Result<Option<Event>, Error> {
        loop {
            match self.rtc.poll_output()? {
                Output::Transmit(t) => self.send(&t),
                Output::Event(e) => return Ok(Some(e)),
                // The examples configure TURN over UDP only.
                Output::Connect(_) | Output::StreamTransmit(_) | Output::Disconnect(_) => {}
                Output::Timeout(at) => {
                    self.timeout = at;
                    return Ok(None);
                }
            }
        }
    }

    /// Closes the connection and sends the close (SCTP, DTLS close_notify)
    /// to the peer.
    pub fn close(&mut self) {
        self.rtc.close();
        while let Ok(Some(_)) = self.drain() {}
    }

    fn send(&mut self, t: &Transmit) {
        let socket = match &self.io {
            Io::One { socket, .. } => Some(socket),
            Io::Many { sockets, .. } => sockets.iter().find(|(a, _)| *a == t.source).map(|(_, s)| s),
        };
        let sent = socket.map(|s| s.send_to(&t.contents, t.destination));
        if !matches!(sent, Some(Ok(_))) {
            self.send_errors += 1;
        }
    }
}

/// The largest power of two of microseconds at or below `wait` (at least
/// one microsecond: a zero timeout would mean "block forever").
fn read_timeout_step(wait: Duration) -> Duration {
    let micros = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX).max(1);
    Duration::from_micros(1 << (63 - micros.leading_zeros()))
}

/// One datagram, or `None` if the wait ended without one. Errors that one
/// bad peer can cause (ICMP unreachable reported on the socket) are not
/// fatal.
fn recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Option<(usize, SocketAddr)>> {
    match socket.recv_from(buf) {
        Ok(r) => Ok(Some(r)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::Interrupted
                    | io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn read_forever(socket: &UdpSocket, local: SocketAddr, tx: &mpsc::Sender<Datagram>) {
    let mut buf = vec![0; RECV_BUFFER];
    loop {
        match recv(socket, &mut buf) {
            Ok(Some((n, source))) => {
                if tx.send((source, local, buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            // Nothing within the tick: stop if the endpoint is gone. A
            // send of nothing is the cheapest way to ask.
            Ok(None) => {
                if tx.send((local, local, Vec::new())).is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}
