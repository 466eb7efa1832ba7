//! An [`Rtc`] on real UDP sockets (and the TCP connections TURN over TCP
//! and TLS asks for), driven by one blocking loop.
//!
//! [`Endpoint::poll`] sends what the connection wants sent, hands out its
//! next event, and otherwise waits for a datagram, bytes on a TCP
//! connection or the connection's timer (whichever comes first, but never
//! past the caller's `until`). The application calls it in a loop and does
//! its own work (sending, checking its deadline) between calls.
//!
//! With one socket and no TCP connection, the loop reads the socket
//! directly with a read timeout. Otherwise every source has a thread that
//! hands what it reads over one channel, and the loop waits on that
//! channel: a thread per UDP socket (from the start with several sockets,
//! from the first TCP connection with one), and a thread per TCP
//! connection.
//!
//! TURN over TCP or TLS (`turn:ADDR?transport=tcp`, `turns:ADDR`): on
//! [`Output::Connect`] a new thread connects (at most
//! [`CONNECT_TIMEOUT`]), hands the loop a handle to write with, and reads
//! until the end of the stream; the loop answers [`Input::Connected`],
//! [`Input::StreamReceive`] and [`Input::Disconnected`] from what it hands
//! over, so it never blocks on a connect. [`Output::StreamTransmit`] is
//! written at once, blocking (at most [`CONNECT_TIMEOUT`]; a failed write
//! closes the connection and reports it). [`Output::Disconnect`] shuts the
//! connection down, which ends its thread; so does dropping the endpoint.
//! TLS is inside the peer connection: the stream carries its records.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rtcwire::{Event, Input, Output, Rtc, RtcConfig, StreamTransmit, Transmit};

use crate::Error;

/// Largest datagram read.
const RECV_BUFFER: usize = 65_536;
/// Largest read from a TCP connection.
const STREAM_BUFFER: usize = 16_384;
/// How often a UDP reader thread checks whether its endpoint is gone.
const READER_TICK: Duration = Duration::from_millis(200);
/// Longest TCP connect, and longest blocking TCP write.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a reader thread hands the loop.
enum Incoming {
    /// A datagram: (source, local address, bytes). Empty: a UDP reader's
    /// liveness probe.
    Datagram(SocketAddr, SocketAddr, Vec<u8>),
    /// A UDP reader stopped on this error.
    SocketStopped(SocketAddr, io::Error),
    /// TCP connection `id` to the server is up; the handle writes to it.
    Connected(u64, SocketAddr, TcpStream),
    /// Bytes read from TCP connection `id`.
    StreamData(u64, SocketAddr, Vec<u8>),
    /// TCP connection `id` could not be made (the error) or ended (`None`
    /// at the end of the stream).
    StreamClosed(u64, SocketAddr, Option<io::Error>),
}

/// A TCP connection the peer connection asked for. `id` tells its reader
/// thread's messages from those of an earlier connection to the same
/// server.
struct Stream {
    id: u64,
    /// `None` while connecting.
    tcp: Option<TcpStream>,
}

/// The reader threads' channel.
struct Channel {
    tx: mpsc::Sender<Incoming>,
    rx: mpsc::Receiver<Incoming>,
    /// UDP reader threads still running.
    udp_readers: usize,
}

/// A peer connection with its sockets.
pub struct Endpoint {
    /// The connection: create channels, send, read state through it.
    pub rtc: Rtc,
    sockets: Vec<(SocketAddr, UdpSocket)>,
    /// `None`: one socket, read directly by [`Endpoint::poll`].
    channel: Option<Channel>,
    streams: HashMap<SocketAddr, Stream>,
    next_stream: u64,
    stream_errors: Vec<String>,
    buf: Vec<u8>,
    timeout: Instant,
    send_errors: u64,
    read_timeout: Option<Duration>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("local", &self.local_addrs())
            .field("streams", &self.streams.keys().collect::<Vec<_>>())
            .field("send_errors", &self.send_errors)
            .field("stream_errors", &self.stream_errors)
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
        let rtc = Rtc::new(config, now)?;
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
            sockets.push((local, socket));
        }
        let mut ep = Endpoint {
            rtc,
            sockets,
            channel: None,
            streams: HashMap::new(),
            next_stream: 0,
            stream_errors: Vec::new(),
            buf: vec![0; RECV_BUFFER],
            timeout: now,
            send_errors: 0,
            read_timeout: None,
        };
        if ep.sockets.len() > 1 {
            ep.channel()?;
        }
        let locals = ep.local_addrs();
        for local in locals {
            ep.rtc.add_local_candidate(local)?;
        }
        Ok(ep)
    }

    /// The sockets' addresses (the host candidates).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.sockets.iter().map(|(a, _)| *a).collect()
    }

    /// Datagrams the operating system refused to send (e.g. to a candidate
    /// address this host cannot reach); ICE tries the other pairs.
    pub fn send_errors(&self) -> u64 {
        self.send_errors
    }

    /// Why TCP connections (TURN over TCP or TLS) failed or ended, oldest
    /// first: the peer connection only hears that they did.
    pub fn stream_errors(&self) -> &[String] {
        &self.stream_errors
    }

    /// Sends what the connection has to send and returns its next event.
    /// Without one, waits until a datagram or TCP bytes arrive, the
    /// connection's timer expires or `until` passes, hands that to the
    /// connection and returns `None`: the caller does its own work and
    /// calls again.
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
        if let Some(channel) = &mut self.channel {
            match channel.rx.recv_timeout(wait) {
                Ok(incoming) => {
                    self.handle_incoming(incoming)?;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // The endpoint holds a sender: cannot happen.
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err("reader channel closed".into()),
            }
        } else if let Some((local, socket)) = self.sockets.first() {
            // The timeout is set in power-of-two steps at or below the
            // wait, so a busy loop rarely pays for the system call; a
            // wake-up that comes early only goes round once more.
            let step = read_timeout_step(wait);
            if self.read_timeout != Some(step) {
                socket.set_read_timeout(Some(step))?;
                self.read_timeout = Some(step);
            }
            if let Some((n, source)) = recv(socket, &mut self.buf)? {
                // Data-channel datagrams are decrypted in the buffer.
                self.rtc
                    .handle_receive_in_place(Instant::now(), source, *local, &mut self.buf[..n])?;
                return Ok(None);
            }
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
                Output::Transmit(t) => {
                    self.send(&t);
                    // The buffer carries a later datagram: no allocation
                    // per datagram.
                    self.rtc.recycle(t.contents);
                }
                Output::Event(e) => return Ok(Some(e)),
                Output::Connect(server) => self.connect(server)?,
                Output::StreamTransmit(t) => self.write(&t)?,
                Output::Disconnect(server) => {
                    if let Some(stream) = self.streams.remove(&server) {
                        close(stream);
                    }
                }
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
        let socket = match self.sockets.as_slice() {
            [(_, socket)] => Some(socket),
            sockets => sockets.iter().find(|(a, _)| *a == t.source).map(|(_, s)| s),
        };
        let sent = socket.map(|s| s.send_to(&t.contents, t.destination));
        if !matches!(sent, Some(Ok(_))) {
            self.send_errors += 1;
        }
    }

    /// The reader threads' channel; the first call starts a reader thread
    /// per UDP socket.
    fn channel(&mut self) -> Result<&mut Channel, Error> {
        if self.channel.is_none() {
            let (tx, rx) = mpsc::channel();
            for (local, socket) in &self.sockets {
                let reader = socket.try_clone()?;
                reader.set_read_timeout(Some(READER_TICK))?;
                let (tx, local) = (tx.clone(), *local);
                std::thread::spawn(move || read_forever(&reader, local, &tx));
            }
            self.channel = Some(Channel {
                tx,
                rx,
                udp_readers: self.sockets.len(),
            });
        }
        self.channel.as_mut().ok_or_else(|| "no reader channel".into())
    }

    /// Starts a thread that connects to `server` and reads from it.
    fn connect(&mut self, server: SocketAddr) -> Result<(), Error> {
        let id = self.next_stream;
        self.next_stream += 1;
        let tx = self.channel()?.tx.clone();
        if let Some(old) = self.streams.insert(server, Stream { id, tcp: None }) {
            close(old);
        }
        std::thread::spawn(move || connect_and_read(id, server, &tx));
        Ok(())
    }

    /// Writes to the connection `t` is for; a failed write closes it and
    /// tells the peer connection.
    fn write(&mut self, t: &StreamTransmit) -> Result<(), Error> {
        let written = match self.streams.get_mut(&t.destination) {
            Some(Stream { tcp: Some(tcp), .. }) => tcp.write_all(&t.contents),
            // Not asked for, or not connected yet (the peer connection
            // writes only after `Connected`): nowhere to write.
            _ => Err(io::Error::new(io::ErrorKind::NotConnected, "no connection")),
        };
        if let Err(e) = written {
            self.stream_errors
                .push(format!("TCP write to {}: {e}", t.destination));
            if let Some(stream) = self.streams.remove(&t.destination) {
                close(stream);
            }
            self.rtc
                .handle_input(Input::Disconnected(Instant::now(), t.destination))?;
        }
        Ok(())
    }

    /// Hands what a reader thread read to the connection.
    fn handle_incoming(&mut self, incoming: Incoming) -> Result<(), Error> {
        let now = Instant::now();
        let current = |streams: &HashMap<SocketAddr, Stream>, id, server| {
            streams.get(&server).is_some_and(|s| s.id == id)
        };
        match incoming {
            Incoming::Datagram(_, _, contents) if contents.is_empty() => {}
            Incoming::Datagram(source, destination, mut contents) => {
                self.rtc
                    .handle_receive_in_place(now, source, destination, &mut contents)?;
            }
            Incoming::SocketStopped(local, e) => {
                let channel = self.channel()?;
                channel.udp_readers = channel.udp_readers.saturating_sub(1);
                if channel.udp_readers == 0 {
                    return Err(format!("every socket reader stopped; the last, {local}: {e}").into());
                }
            }
            Incoming::Connected(id, server, tcp) => match self.streams.get_mut(&server) {
                Some(stream) if stream.id == id => {
                    stream.tcp = Some(tcp);
                    self.rtc.handle_input(Input::Connected(now, server))?;
                }
                // Given up on while connecting: its reader sees the end.
                _ => {
                    let _ = tcp.shutdown(Shutdown::Both);
                }
            },
            Incoming::StreamData(id, server, bytes) => {
                if current(&self.streams, id, server) {
                    self.rtc.handle_input(Input::StreamReceive(now, server, &bytes))?;
                }
            }
            Incoming::StreamClosed(id, server, error) => {
                if current(&self.streams, id, server) {
                    self.stream_errors.push(match error {
                        Some(e) => format!("TCP connection to {server}: {e}"),
                        None => format!("TCP connection to {server}: closed by the server"),
                    });
                    if let Some(stream) = self.streams.remove(&server) {
                        close(stream);
                    }
                    self.rtc.handle_input(Input::Disconnected(now, server))?;
                }
            }
        }
        Ok(())
    }
}

impl Drop for Endpoint {
    /// Shuts the TCP connections down, which ends their reader threads.
    fn drop(&mut self) {
        for (_, stream) in self.streams.drain() {
            close(stream);
        }
    }
}

/// Shuts a TCP connection down (its reader thread then reads the end).
fn close(stream: Stream) {
    if let Some(tcp) = stream.tcp {
        let _ = tcp.shutdown(Shutdown::Both);
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

/// A UDP socket's reader thread: until the endpoint is gone.
fn read_forever(socket: &UdpSocket, local: SocketAddr, tx: &mpsc::Sender<Incoming>) {
    let mut buf = vec![0; RECV_BUFFER];
    loop {
        let incoming = match recv(socket, &mut buf) {
            Ok(Some((n, source))) => Incoming::Datagram(source, local, buf[..n].to_vec()),
            // Nothing within the tick: stop if the endpoint is gone. A
            // send of nothing is the cheapest way to ask.
            Ok(None) => Incoming::Datagram(local, local, Vec::new()),
            Err(e) => {
                let _ = tx.send(Incoming::SocketStopped(local, e));
                return;
            }
        };
        if tx.send(incoming).is_err() {
            return;
        }
    }
}

/// A TCP connection's thread: connects to `server`, hands the loop a
/// handle to write with, then reads until the end of the stream (the
/// server's, or the endpoint's shutdown) or until the endpoint is gone.
fn connect_and_read(id: u64, server: SocketAddr, tx: &mpsc::Sender<Incoming>) {
    let connected = TcpStream::connect_timeout(&server, CONNECT_TIMEOUT).and_then(|tcp| {
        tcp.set_nodelay(true)?;
        tcp.set_write_timeout(Some(CONNECT_TIMEOUT))?;
        let writer = tcp.try_clone()?;
        Ok((tcp, writer))
    });
    let mut tcp = match connected {
        Ok((tcp, writer)) => {
            if tx.send(Incoming::Connected(id, server, writer)).is_err() {
                return;
            }
            tcp
        }
        Err(e) => {
            let _ = tx.send(Incoming::StreamClosed(id, server, Some(e)));
            return;
        }
    };
    let mut buf = vec![0; STREAM_BUFFER];
    loop {
        let incoming = match tcp.read(&mut buf) {
            Ok(0) => Incoming::StreamClosed(id, server, None),
            Ok(n) => Incoming::StreamData(id, server, buf[..n].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Incoming::StreamClosed(id, server, Some(e)),
        };
        let end = matches!(incoming, Incoming::StreamClosed(..));
        if tx.send(incoming).is_err() || end {
            return;
        }
    }
}
