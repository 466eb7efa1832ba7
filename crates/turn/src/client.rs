//! The TURN client: one allocation on one server (RFC 8656).

use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rtcwire_stun::{
    AddressFamily, Attribute, AttributeType, ChannelData, Class, ClientTransaction, IntegrityKey,
    MAX_CHANNEL, MIN_CHANNEL, Message, MessageBuilder, MessageType, Method, TransactionConfig, TransactionId,
    TransactionState, Transmit, is_channel_data,
};

use crate::TurnError;
use crate::stream::{StreamBuffer, frame_len};

/// REQUESTED-TRANSPORT value for UDP relays (the protocol number).
const UDP_PROTOCOL: u8 = 17;

/// Hard cap on [`TurnConfig::max_permissions`].
pub const MAX_PERMISSIONS: usize = 256;
/// Hard cap on [`TurnConfig::max_channels`].
pub const MAX_CHANNELS: usize = 256;
/// Datagrams queued by [`TurnClient::send_to`] and not yet polled; beyond it
/// `send_to` fails with [`TurnError::Limit`].
pub const MAX_QUEUED_TRANSMITS: usize = 256;
/// Events queued and not yet polled. Relayed data take at most half of it
/// ([`MAX_QUEUED_DATA_EVENTS`]); control events are bounded by the number of
/// permissions and channels.
pub const MAX_QUEUED_EVENTS: usize = 2 * MAX_QUEUED_DATA_EVENTS + MAX_PERMISSIONS + MAX_CHANNELS + 8;
/// [`TurnEvent::Data`] events queued (stream transports only); more are
/// dropped and counted in [`TurnClient::dropped`].
pub const MAX_QUEUED_DATA_EVENTS: usize = 256;
/// How many times one request is re-sent after 401 (first challenge) or 438
/// (stale nonce) before giving up.
const MAX_AUTH_RETRIES: u8 = 3;
/// Buffers kept for reuse by the transmit queue.
const POOL_LEN: usize = 16;
/// Largest request we build: header, USERNAME (512), REALM and NONCE (763
/// characters each, up to 4 bytes per character), SOFTWARE and the rest.
const MAX_REQUEST_LEN: usize = 8192;

/// Cap on rustls' buffers of plaintext written before the handshake ends
/// and of TLS records not yet polled.
pub const MAX_TLS_BUFFER: usize = 256 * 1024;

/// Permissions last 300 s (RFC 8656 section 9); refresh a minute early.
pub const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// Channel bindings last 600 s (RFC 8656 section 12), but binding a channel
/// also installs the peer's permission for 300 s, and refreshing the binding
/// refreshes it: so channels are refreshed on the permission schedule.
pub const CHANNEL_REFRESH: Duration = Duration::from_secs(240);

/// How the client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnTransport {
    /// Datagrams: requests are retransmitted (RFC 8489 section 6.2.1).
    Udp,
    /// A TCP connection owned by the caller: bytes go in through
    /// [`TurnClient::handle_stream`]; requests are sent once; ChannelData is
    /// padded to 4 bytes (RFC 8656 section 12.5).
    Tcp,
    /// Like [`TurnTransport::Tcp`], inside TLS: run by the client itself
    /// when made with [`TurnClient::new_tls`] (the caller moves the TCP
    /// bytes), or by the caller, who then moves plaintext, with
    /// [`TurnClient::new`].
    Tls,
}

impl TurnTransport {
    fn is_stream(self) -> bool {
        self != TurnTransport::Udp
    }
}

/// What a [`TurnClient`] asks for. Its `Debug` output hides the password.
#[derive(Clone)]
pub struct TurnConfig {
    /// The server's address (the caller resolves names).
    pub server: SocketAddr,
    /// UDP, TCP or TLS to the server. The relay is always UDP.
    pub transport: TurnTransport,
    /// Long-term credential username.
    pub username: String,
    /// Long-term credential password.
    pub password: String,
    /// Requested allocation lifetime (the server may grant less, or more).
    /// Refreshes go out 60 s before the shorter of this and the granted
    /// lifetime ends, or halfway through it when it is under 2 minutes.
    pub lifetime: Duration,
    /// REQUESTED-ADDRESS-FAMILY: `Some(AddressFamily::V6)` asks for an IPv6
    /// relayed address; `None` takes the server's default (IPv4).
    pub address_family: Option<AddressFamily>,
    /// Ask the server to set DF on relayed datagrams (DONT-FRAGMENT in the
    /// Allocate request, RFC 8656 section 7.2). A server that does not
    /// support it answers 420, reported as [`TurnError::UnknownAttribute`].
    pub dont_fragment: bool,
    /// SOFTWARE in requests, if any.
    pub software: Option<String>,
    /// Retransmission schedule over UDP; `reliable` is set from `transport`.
    pub transaction: TransactionConfig,
    /// Most permissions (peer IPs) at once; capped at [`MAX_PERMISSIONS`].
    pub max_permissions: usize,
    /// Most channel bindings at once; capped at [`MAX_CHANNELS`].
    pub max_channels: usize,
    /// How often to refresh each permission: [`PERMISSION_REFRESH`] unless
    /// the server is known to use a shorter permission lifetime (at least
    /// 1 s).
    pub permission_refresh: Duration,
    /// How often to refresh each channel binding: [`CHANNEL_REFRESH`]
    /// unless the server is known to use shorter lifetimes (at least 1 s).
    pub channel_refresh: Duration,
}

impl std::fmt::Debug for TurnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnConfig")
            .field("server", &self.server)
            .field("transport", &self.transport)
            .field("username", &self.username)
            .field("password", &"..")
            .field("lifetime", &self.lifetime)
            .field("address_family", &self.address_family)
            .field("dont_fragment", &self.dont_fragment)
            .field("software", &self.software)
            .field("transaction", &self.transaction)
            .field("max_permissions", &self.max_permissions)
            .field("max_channels", &self.max_channels)
            .field("permission_refresh", &self.permission_refresh)
            .field("channel_refresh", &self.channel_refresh)
            .finish()
    }
}

impl TurnConfig {
    /// A UDP configuration with defaults: 600 s lifetime, IPv4, no DF, 64
    /// permissions and 64 channels.
    pub fn new(server: SocketAddr, username: &str, password: &str) -> TurnConfig {
        TurnConfig {
            server,
            transport: TurnTransport::Udp,
            username: username.to_owned(),
            password: password.to_owned(),
            lifetime: Duration::from_secs(600),
            address_family: None,
            dont_fragment: false,
            software: None,
            transaction: TransactionConfig::default(),
            max_permissions: 64,
            max_channels: 64,
            permission_refresh: PERMISSION_REFRESH,
            channel_refresh: CHANNEL_REFRESH,
        }
    }
}

/// What the application should know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnEvent {
    /// The allocation exists.
    Allocated {
        /// The relayed transport address peers send to.
        relayed: SocketAddr,
        /// Our address as the server saw it (XOR-MAPPED-ADDRESS), a free
        /// server-reflexive candidate.
        mapped: Option<SocketAddr>,
        /// Granted lifetime.
        lifetime: Duration,
    },
    /// The allocation could not be made, or was lost (a failed refresh, 437,
    /// expiry). The client is done; make a new one to retry.
    AllocationFailed(TurnError),
    /// A refresh succeeded.
    Refreshed {
        /// Granted lifetime.
        lifetime: Duration,
    },
    /// A permission is installed (first time only; refreshes are silent).
    PermissionCreated(IpAddr),
    /// A permission could not be installed or refreshed; it is gone.
    PermissionFailed {
        /// The peer IP.
        ip: IpAddr,
        /// Why.
        error: TurnError,
    },
    /// A channel is bound (first time only; refreshes are silent). Data to
    /// `peer` now goes as ChannelData.
    ChannelBound {
        /// The peer.
        peer: SocketAddr,
        /// The channel number, 0x4000..=0x4FFF.
        channel: u16,
    },
    /// A channel could not be bound or refreshed; it is gone (data to the
    /// peer falls back to Send indications while its permission lasts).
    ChannelBindFailed {
        /// The peer.
        peer: SocketAddr,
        /// Why.
        error: TurnError,
    },
    /// Data relayed from a peer, received on a stream transport (over UDP,
    /// [`TurnClient::handle_receive`] returns it without copying).
    Data {
        /// The peer that sent it to the relayed address.
        peer: SocketAddr,
        /// The payload.
        data: Vec<u8>,
    },
    /// The allocation was released after [`TurnClient::close`].
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestKind {
    Allocate,
    Refresh { lifetime: u32 },
    CreatePermission(IpAddr),
    ChannelBind { peer: SocketAddr, channel: u16 },
}

impl RequestKind {
    fn method(self) -> Method {
        match self {
            RequestKind::Allocate => Method::ALLOCATE,
            RequestKind::Refresh { .. } => Method::REFRESH,
            RequestKind::CreatePermission(_) => Method::CREATE_PERMISSION,
            RequestKind::ChannelBind { .. } => Method::CHANNEL_BIND,
        }
    }

    fn name(self) -> &'static str {
        match self {
            RequestKind::Allocate => "Allocate",
            RequestKind::Refresh { .. } => "Refresh",
            RequestKind::CreatePermission(_) => "CreatePermission",
            RequestKind::ChannelBind { .. } => "ChannelBind",
        }
    }
}

#[derive(Debug)]
struct Pending {
    tx: ClientTransaction,
    kind: RequestKind,
    /// Whether the request carried MESSAGE-INTEGRITY.
    authenticated: bool,
    retries: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Allocating,
    Allocated {
        relayed: SocketAddr,
        expires: Instant,
        /// When to send the next Refresh; `None` while one is in flight.
        refresh_at: Option<Instant>,
    },
    Closing,
    /// Done: closed, failed or expired.
    Done,
}

#[derive(Debug, Clone, Copy)]
struct Permission {
    installed: bool,
    /// `None` while a CreatePermission is in flight.
    refresh_at: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Channel {
    number: u16,
    bound: bool,
    /// `None` while a ChannelBind is in flight.
    refresh_at: Option<Instant>,
}

/// The long-term credential state (RFC 8489 section 9.2).
#[derive(Debug)]
struct Credentials {
    realm: String,
    nonce: String,
    key: IntegrityKey,
}

/// A sans-IO TURN client: one allocation on one server, its permissions and
/// channels, and the data relayed through them.
///
/// The contract, as in every rtcwire state machine:
/// - **Construct** with [`TurnClient::new`]: the Allocate request is queued
///   at once.
/// - **Feed** what the server sends: [`TurnClient::handle_receive`] for UDP
///   datagrams (relayed data comes back from it, borrowed),
///   [`TurnClient::handle_stream`] for bytes read from a TCP or TLS
///   connection; and [`TurnClient::handle_timeout`] once
///   [`TurnClient::poll_timeout`]'s instant has passed.
/// - **Command**: [`TurnClient::create_permission`],
///   [`TurnClient::bind_channel`], [`TurnClient::send_to`],
///   [`TurnClient::close`].
/// - **Drain** after every call, in this order: [`TurnClient::poll_transmit`]
///   (everything goes to the server), [`TurnClient::poll_event`], then
///   [`TurnClient::poll_timeout`].
///
/// Every response is matched to an outstanding transaction by its ID and
/// method, and must pass MESSAGE-INTEGRITY with the long-term key (and
/// FINGERPRINT when present) before it changes anything. The exceptions are
/// the ones the RFC forces: 401 and 438 challenges, and error responses to
/// the first Allocate, which is sent before any key exists; those are only
/// accepted for a request's own random 96-bit transaction ID, and re-sends
/// are capped.
#[derive(Debug)]
pub struct TurnClient {
    config: TurnConfig,
    rng: StdRng,
    state: State,
    credentials: Option<Credentials>,
    pending: Vec<Pending>,
    permissions: BTreeMap<IpAddr, Permission>,
    channels: BTreeMap<SocketAddr, Channel>,
    channel_peers: BTreeMap<u16, SocketAddr>,
    next_channel: u16,
    transmits: VecDeque<Vec<u8>>,
    current: Vec<u8>,
    pool: Vec<Vec<u8>>,
    events: VecDeque<TurnEvent>,
    data_events: usize,
    stream: StreamBuffer,
    /// rustls' sans-IO client when the client runs TLS itself.
    tls: Option<Box<rustls::ClientConnection>>,
    /// Plaintext on its way into TLS.
    scratch: Vec<u8>,
    rejected: u64,
    dropped: u64,
}

impl TurnClient {
    /// A client for `config`; the Allocate request is ready to poll. `rng`
    /// seeds the transaction IDs (pass a seeded one to replay a run).
    pub fn new<R: rand::RngCore + ?Sized>(now: Instant, rng: &mut R, mut config: TurnConfig) -> TurnClient {
        config.transaction.reliable = config.transport.is_stream();
        config.max_permissions = config.max_permissions.min(MAX_PERMISSIONS);
        config.max_channels = config.max_channels.min(MAX_CHANNELS);
        config.permission_refresh = config.permission_refresh.max(Duration::from_secs(1));
        config.channel_refresh = config.channel_refresh.max(Duration::from_secs(1));
        let mut client = TurnClient {
            config,
            rng: StdRng::from_rng(&mut &mut *rng),
            state: State::Allocating,
            credentials: None,
            pending: Vec::new(),
            permissions: BTreeMap::new(),
            channels: BTreeMap::new(),
            channel_peers: BTreeMap::new(),
            next_channel: MIN_CHANNEL,
            transmits: VecDeque::new(),
            current: Vec::new(),
            pool: Vec::new(),
            events: VecDeque::new(),
            data_events: 0,
            stream: StreamBuffer::default(),
            tls: None,
            scratch: Vec::new(),
            rejected: 0,
            dropped: 0,
        };
        if let Err(e) = client.start(now, RequestKind::Allocate, 0) {
            client.fail(e);
        }
        client
    }

    /// A client that reaches the server over TLS (`turns:`, RFC 8656 section
    /// 3.1) through rustls' sans-IO connection: the caller connects TCP to
    /// `config.server`, hands every byte read to
    /// [`TurnClient::handle_stream`] and writes every
    /// [`TurnClient::poll_transmit`] to the socket. `server_name` is checked
    /// against the server's certificate by `tls_config`.
    pub fn new_tls<R: rand::RngCore + ?Sized>(
        now: Instant,
        rng: &mut R,
        mut config: TurnConfig,
        tls_config: Arc<rustls::ClientConfig>,
        server_name: rustls::pki_types::ServerName<'static>,
    ) -> Result<TurnClient, TurnError> {
        let mut conn =
            rustls::ClientConnection::new(tls_config, server_name).map_err(|e| TurnError::from_tls(&e))?;
        conn.set_buffer_limit(Some(MAX_TLS_BUFFER));
        config.transport = TurnTransport::Tls;
        let mut client = TurnClient::new(now, rng, config);
        client.tls = Some(Box::new(conn));
        Ok(client)
    }

    /// The server's address: every transmit goes there.
    pub fn server(&self) -> SocketAddr {
        self.config.server
    }

    /// The relayed address, once allocated.
    pub fn relayed_address(&self) -> Option<SocketAddr> {
        match self.state {
            State::Allocated { relayed, .. } => Some(relayed),
            _ => None,
        }
    }

    /// Whether the allocation exists.
    pub fn is_allocated(&self) -> bool {
        matches!(self.state, State::Allocated { .. })
    }

    /// Whether the client is finished (closed, failed or expired).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Messages from the server that were dropped: unknown transaction,
    /// failed integrity or fingerprint, wrong source, unparsable.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Bytes waiting in the stream reassembly buffer (at most
    /// [`crate::MAX_STREAM_BUFFER`]).
    pub fn buffered(&self) -> usize {
        self.stream.len()
    }

    /// Relayed data dropped because the event queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The channel bound to `peer`, if the server confirmed it.
    pub fn channel(&self, peer: SocketAddr) -> Option<u16> {
        self.channels.get(&peer).filter(|c| c.bound).map(|c| c.number)
    }

    /// Whether a permission for `ip` is installed.
    pub fn has_permission(&self, ip: IpAddr) -> bool {
        self.permissions.get(&ip).is_some_and(|p| p.installed)
    }

    /// Requests a permission for `ip` (CreatePermission) and keeps it
    /// refreshed. Needed before a peer's datagrams reach us and before ours
    /// reach it, unless a channel is bound to the peer.
    pub fn create_permission(&mut self, now: Instant, ip: IpAddr) -> Result<(), TurnError> {
        self.check_peer_family(ip)?;
        if self.permissions.contains_key(&ip) {
            return Ok(());
        }
        if self.permissions.len() >= self.config.max_permissions {
            return Err(TurnError::Limit("permissions"));
        }
        self.start(now, RequestKind::CreatePermission(ip), 0)?;
        self.permissions.insert(
            ip,
            Permission {
                installed: false,
                refresh_at: None,
            },
        );
        Ok(())
    }

    /// Binds a channel to `peer` (ChannelBind) and keeps it refreshed;
    /// returns the channel number. Binding also installs the peer's
    /// permission on the server.
    pub fn bind_channel(&mut self, now: Instant, peer: SocketAddr) -> Result<u16, TurnError> {
        self.check_peer_family(peer.ip())?;
        if let Some(c) = self.channels.get(&peer) {
            return Ok(c.number);
        }
        if self.channels.len() >= self.config.max_channels {
            return Err(TurnError::Limit("channels"));
        }
        // Numbers are handed out in order and wrap; with at most
        // MAX_CHANNELS bound, a free one is found within that many steps.
        let mut channel = self.next_channel;
        while self.channel_peers.contains_key(&channel) {
            channel = if channel >= MAX_CHANNEL {
                MIN_CHANNEL
            } else {
                channel + 1
            };
        }
        self.next_channel = if channel >= MAX_CHANNEL {
            MIN_CHANNEL
        } else {
            channel + 1
        };
        self.start(now, RequestKind::ChannelBind { peer, channel }, 0)?;
        self.channels.insert(
            peer,
            Channel {
                number: channel,
                bound: false,
                refresh_at: None,
            },
        );
        self.channel_peers.insert(channel, peer);
        Ok(channel)
    }

    /// Queues `data` for `peer` through the relay: as ChannelData when a
    /// channel is bound, as a Send indication when only a permission exists
    /// (or is being created).
    pub fn send_to(&mut self, peer: SocketAddr, data: &[u8]) -> Result<(), TurnError> {
        if !self.is_allocated() {
            return Err(TurnError::NotAllocated);
        }
        if self.transmits.len() >= MAX_QUEUED_TRANSMITS {
            return Err(TurnError::Limit("queued datagrams"));
        }
        let mut out = self.pool.pop().unwrap_or_default();
        out.clear();
        let result = if let Some(channel) = self.channel(peer) {
            self.encode_channel_data(channel, data, &mut out)
        } else if self.permissions.contains_key(&peer.ip()) || self.channels.contains_key(&peer) {
            self.encode_send_indication(peer, data, &mut out)
        } else {
            Err(TurnError::NoPermission)
        };
        match result {
            Ok(()) => {
                self.transmits.push_back(out);
                Ok(())
            }
            Err(e) => {
                self.recycle(out);
                Err(e)
            }
        }
    }

    /// Releases the allocation (Refresh with LIFETIME 0); [`TurnEvent::Closed`]
    /// follows the server's answer, or its absence.
    pub fn close(&mut self, now: Instant) {
        match self.state {
            State::Allocated { .. } => {
                self.pending.clear();
                self.transmits.clear();
                self.state = State::Closing;
                if self.start(now, RequestKind::Refresh { lifetime: 0 }, 0).is_err() {
                    self.finish_closed();
                }
            }
            State::Allocating => {
                self.pending.clear();
                self.finish_closed();
            }
            State::Closing | State::Done => {}
        }
    }

    /// Offers a UDP datagram received from `source`. Relayed data (a Data
    /// indication or ChannelData) is returned as (peer, payload), borrowed
    /// from `datagram`; control messages update the state and queue events.
    pub fn handle_receive<'a>(
        &mut self,
        now: Instant,
        source: SocketAddr,
        datagram: &'a [u8],
    ) -> Option<(SocketAddr, &'a [u8])> {
        if source != self.config.server {
            self.rejected += 1;
            return None;
        }
        self.handle_frame(now, datagram)
    }

    /// Offers bytes read from the TCP connection to the server: TLS records
    /// for a client made with [`TurnClient::new_tls`], STUN and ChannelData
    /// frames otherwise. They may hold any number of frames, cut anywhere;
    /// relayed data comes out as [`TurnEvent::Data`]. The reassembly buffer
    /// holds at most [`crate::MAX_STREAM_BUFFER`] bytes (rustls' own buffers
    /// are bounded by [`MAX_TLS_BUFFER`]). An error means the stream lost its
    /// framing or TLS failed: the client is done (an
    /// [`TurnEvent::AllocationFailed`] says why), and once
    /// [`TurnClient::poll_transmit`] has flushed any TLS alert the connection
    /// should be closed. Bytes that arrive after the client is done are
    /// ignored.
    pub fn handle_stream(&mut self, now: Instant, bytes: &[u8]) -> Result<(), TurnError> {
        // Once done (closed, or TLS failed and sent its fatal alert), rustls
        // must not be fed again.
        if self.state == State::Done {
            return Ok(());
        }
        let Some(mut tls) = self.tls.take() else {
            return self.handle_plain_stream(now, bytes);
        };
        let result = self.handle_tls(now, &mut tls, bytes);
        self.tls = Some(tls);
        if let Err(e) = result {
            self.fail(e);
        }
        result
    }

    /// TLS records in, plaintext out to the framing.
    fn handle_tls(
        &mut self,
        now: Instant,
        tls: &mut rustls::ClientConnection,
        mut bytes: &[u8],
    ) -> Result<(), TurnError> {
        let mut plain = [0u8; 4096];
        while !bytes.is_empty() {
            let n = tls
                .read_tls(&mut bytes)
                .map_err(|_| TurnError::Tls("TLS receive buffer full"))?;
            tls.process_new_packets().map_err(|e| TurnError::from_tls(&e))?;
            loop {
                match tls.reader().read(&mut plain) {
                    Ok(0) => break,
                    Ok(k) => self.handle_plain_stream(now, &plain[..k])?,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => return Err(TurnError::Tls("the connection was cut without close_notify")),
                }
            }
            if n == 0 {
                break;
            }
        }
        Ok(())
    }

    fn handle_plain_stream(&mut self, now: Instant, mut bytes: &[u8]) -> Result<(), TurnError> {
        if self.state == State::Done {
            return Ok(());
        }
        loop {
            let taken = self.stream.fill(bytes);
            bytes = &bytes[taken..];
            let buf = self.stream.take();
            let mut at = 0;
            let result = loop {
                match frame_len(&buf[at..]) {
                    Ok(Some(len)) if buf.len() - at >= len => {
                        let frame = &buf[at..at + len];
                        at += len;
                        if let Some((peer, data)) = self.handle_frame(now, frame) {
                            self.push_data_event(peer, data);
                        }
                    }
                    Ok(_) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            self.stream.restore(buf, at);
            if let Err(e) = result {
                self.stream.clear();
                self.fail(e);
                return Err(e);
            }
            if bytes.is_empty() || taken == 0 && at == 0 {
                return Ok(());
            }
        }
    }

    /// The next datagram (or stream chunk, or TLS records) for the server.
    pub fn poll_transmit(&mut self) -> Option<Transmit<'_>> {
        if self.tls.is_none() {
            return self.poll_plain();
        }
        // Everything due goes into TLS; what comes out is one chunk of
        // records.
        let mut scratch = std::mem::take(&mut self.scratch);
        loop {
            scratch.clear();
            match self.poll_plain() {
                Some(t) => scratch.extend_from_slice(t.contents),
                None => break,
            }
            if let Some(tls) = &mut self.tls
                && tls.writer().write_all(&scratch).is_err()
            {
                self.dropped += 1;
            }
        }
        self.scratch = scratch;
        let tls = self.tls.as_mut()?;
        if !tls.wants_write() {
            return None;
        }
        let mut out = self.pool.pop().unwrap_or_default();
        out.clear();
        while tls.wants_write() {
            if tls.write_tls(&mut out).is_err() {
                break;
            }
        }
        let old = std::mem::replace(&mut self.current, out);
        self.recycle(old);
        Some(Transmit {
            destination: self.config.server,
            contents: &self.current,
        })
    }

    fn poll_plain(&mut self) -> Option<Transmit<'_>> {
        let destination = self.config.server;
        let due = self
            .pending
            .iter_mut()
            .position(|p| p.tx.poll_transmit().is_some());
        if let Some(i) = due {
            return Some(Transmit {
                destination,
                contents: self.pending[i].tx.request(),
            });
        }
        let next = self.transmits.pop_front()?;
        let old = std::mem::replace(&mut self.current, next);
        self.recycle(old);
        Some(Transmit {
            destination,
            contents: &self.current,
        })
    }

    /// When to call [`TurnClient::handle_timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let transactions = self.pending.iter().filter_map(|p| p.tx.poll_timeout());
        let allocation = match self.state {
            State::Allocated {
                expires, refresh_at, ..
            } => [Some(expires), refresh_at],
            _ => [None, None],
        };
        let permissions = self.permissions.values().filter_map(|p| p.refresh_at);
        let channels = self.channels.values().filter_map(|c| c.refresh_at);
        transactions
            .chain(allocation.into_iter().flatten())
            .chain(permissions)
            .chain(channels)
            .min()
    }

    /// Retransmits, gives up on silent requests, refreshes what is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.pending.len() {
            self.pending[i].tx.handle_timeout(now);
            if self.pending[i].tx.state() == TransactionState::TimedOut {
                let p = self.pending.swap_remove(i);
                self.request_failed(
                    p.kind,
                    TurnError::Timeout {
                        request: p.kind.name(),
                    },
                );
            } else {
                i += 1;
            }
        }
        let State::Allocated {
            expires, refresh_at, ..
        } = self.state
        else {
            return;
        };
        if now >= expires {
            self.fail(TurnError::Expired);
            return;
        }
        if refresh_at.is_some_and(|at| now >= at) {
            self.set_refresh_at(None);
            let lifetime = lifetime_secs(self.config.lifetime);
            if let Err(e) = self.start(now, RequestKind::Refresh { lifetime }, 0) {
                self.fail(e);
                return;
            }
        }
        let due: Vec<IpAddr> = self
            .permissions
            .iter()
            .filter(|(_, p)| p.refresh_at.is_some_and(|at| now >= at))
            .map(|(ip, _)| *ip)
            .collect();
        for ip in due {
            if let Some(p) = self.permissions.get_mut(&ip) {
                p.refresh_at = None;
            }
            if let Err(e) = self.start(now, RequestKind::CreatePermission(ip), 0) {
                self.request_failed(RequestKind::CreatePermission(ip), e);
            }
        }
        let due: Vec<(SocketAddr, u16)> = self
            .channels
            .iter()
            .filter(|(_, c)| c.refresh_at.is_some_and(|at| now >= at))
            .map(|(peer, c)| (*peer, c.number))
            .collect();
        for (peer, channel) in due {
            if let Some(c) = self.channels.get_mut(&peer) {
                c.refresh_at = None;
            }
            let kind = RequestKind::ChannelBind { peer, channel };
            if let Err(e) = self.start(now, kind, 0) {
                self.request_failed(kind, e);
            }
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<TurnEvent> {
        let event = self.events.pop_front()?;
        if matches!(event, TurnEvent::Data { .. }) {
            self.data_events -= 1;
        }
        Some(event)
    }

    fn check_peer_family(&self, ip: IpAddr) -> Result<(), TurnError> {
        match self.state {
            State::Allocated { relayed, .. } if relayed.is_ipv4() != ip.is_ipv4() => {
                Err(TurnError::PeerFamily)
            }
            State::Allocated { .. } => Ok(()),
            _ => Err(TurnError::NotAllocated),
        }
    }

    fn set_refresh_at(&mut self, at: Option<Instant>) {
        if let State::Allocated { refresh_at, .. } = &mut self.state {
            *refresh_at = at;
        }
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        if self.pool.len() < POOL_LEN && buf.capacity() > 0 {
            self.pool.push(buf);
        }
    }

    fn push_event(&mut self, event: TurnEvent) {
        if self.events.len() < MAX_QUEUED_EVENTS {
            self.events.push_back(event);
        } else {
            self.dropped += 1;
        }
    }

    fn push_data_event(&mut self, peer: SocketAddr, data: &[u8]) {
        if self.data_events >= MAX_QUEUED_DATA_EVENTS || self.events.len() >= MAX_QUEUED_EVENTS {
            self.dropped += 1;
            return;
        }
        self.data_events += 1;
        self.events.push_back(TurnEvent::Data {
            peer,
            data: data.to_vec(),
        });
    }

    /// The allocation is lost: one event, and nothing more happens.
    fn fail(&mut self, error: TurnError) {
        if self.state == State::Done {
            return;
        }
        self.state = State::Done;
        self.clear_allocation();
        self.push_event(TurnEvent::AllocationFailed(error));
    }

    fn finish_closed(&mut self) {
        self.state = State::Done;
        self.clear_allocation();
        if let Some(tls) = &mut self.tls {
            tls.send_close_notify();
        }
        self.push_event(TurnEvent::Closed);
    }

    fn clear_allocation(&mut self) {
        self.pending.clear();
        self.permissions.clear();
        self.channels.clear();
        self.channel_peers.clear();
        self.transmits.clear();
    }

    /// Builds and queues a request.
    fn start(&mut self, now: Instant, kind: RequestKind, retries: u8) -> Result<(), TurnError> {
        let (request, authenticated) = self.build_request(kind)?;
        let tx = ClientTransaction::new(now, request, self.config.server, self.config.transaction)?;
        self.pending.push(Pending {
            tx,
            kind,
            authenticated,
            retries,
        });
        Ok(())
    }

    fn build_request(&mut self, kind: RequestKind) -> Result<(Vec<u8>, bool), TurnError> {
        // Built on the stack, then copied at its real size: the transaction
        // keeps it for retransmissions.
        let mut buf = [0u8; MAX_REQUEST_LEN];
        let tid = TransactionId::random(&mut self.rng);
        let mut b = MessageBuilder::new(&mut buf, MessageType::new(kind.method(), Class::Request), tid)?;
        match kind {
            RequestKind::Allocate => {
                b.add(&Attribute::RequestedTransport(UDP_PROTOCOL))?;
                b.add(&Attribute::Lifetime(lifetime_secs(self.config.lifetime)))?;
                if let Some(family) = self.config.address_family {
                    b.add(&Attribute::RequestedAddressFamily(family))?;
                }
                if self.config.dont_fragment {
                    b.add(&Attribute::DontFragment)?;
                }
            }
            RequestKind::Refresh { lifetime } => b.add(&Attribute::Lifetime(lifetime))?,
            RequestKind::CreatePermission(ip) => b.add(&Attribute::XorPeerAddress(SocketAddr::new(ip, 0)))?,
            RequestKind::ChannelBind { peer, channel } => {
                b.add(&Attribute::ChannelNumber(channel))?;
                b.add(&Attribute::XorPeerAddress(peer))?;
            }
        }
        if let Some(software) = &self.config.software {
            b.add(&Attribute::Software(software))?;
        }
        let authenticated = if let Some(c) = &self.credentials {
            b.add(&Attribute::Username(&self.config.username))?;
            b.add(&Attribute::Realm(&c.realm))?;
            b.add(&Attribute::Nonce(&c.nonce))?;
            b.add_message_integrity(&c.key)?;
            true
        } else {
            false
        };
        b.add_fingerprint()?;
        Ok((b.finish().to_vec(), authenticated))
    }

    fn encode_send_indication(
        &mut self,
        peer: SocketAddr,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), TurnError> {
        // Header, XOR-PEER-ADDRESS (IPv6 at most), DATA, FINGERPRINT.
        out.resize(20 + 24 + 4 + data.len() + 3 + 8, 0);
        let tid = TransactionId::random(&mut self.rng);
        let mut b = MessageBuilder::new(out, MessageType::new(Method::SEND, Class::Indication), tid)?;
        b.add(&Attribute::XorPeerAddress(peer))?;
        b.add(&Attribute::Data(data))?;
        b.add_fingerprint()?;
        let len = b.len();
        out.truncate(len);
        Ok(())
    }

    fn encode_channel_data(&self, channel: u16, data: &[u8], out: &mut Vec<u8>) -> Result<(), TurnError> {
        let cd = ChannelData::new(channel, data)?;
        let padded = self.config.transport.is_stream();
        out.resize(cd.encoded_len(padded), 0);
        cd.encode(out, padded)?;
        Ok(())
    }

    /// One datagram, or one frame cut from the stream.
    fn handle_frame<'a>(&mut self, now: Instant, frame: &'a [u8]) -> Option<(SocketAddr, &'a [u8])> {
        if self.state == State::Done {
            return None;
        }
        if is_channel_data(frame) {
            let Ok(cd) = ChannelData::parse(frame) else {
                self.rejected += 1;
                return None;
            };
            let Some(&peer) = self.channel_peers.get(&cd.channel()) else {
                self.rejected += 1;
                return None;
            };
            return Some((peer, cd.data()));
        }
        let Ok(msg) = Message::parse(frame) else {
            self.rejected += 1;
            return None;
        };
        if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
            self.rejected += 1;
            return None;
        }
        match msg.class() {
            Class::Indication if msg.method() == Method::DATA => {
                let data = self.data_indication(&msg);
                if data.is_none() {
                    self.rejected += 1;
                }
                data
            }
            Class::Success | Class::Error => {
                self.response(now, &msg);
                None
            }
            _ => {
                self.rejected += 1;
                None
            }
        }
    }

    fn data_indication<'a>(&self, msg: &Message<'a>) -> Option<(SocketAddr, &'a [u8])> {
        if !self.is_allocated() {
            return None;
        }
        let Some(Ok(Attribute::XorPeerAddress(peer))) = msg.get(AttributeType::XOR_PEER_ADDRESS) else {
            return None;
        };
        let Some(Ok(Attribute::Data(data))) = msg.get(AttributeType::DATA) else {
            return None;
        };
        // The server only relays from peers with a permission; a Data
        // indication from anyone else is not from our server.
        (self.permissions.contains_key(&peer.ip()) || self.channels.contains_key(&peer))
            .then_some((peer, data))
    }

    fn response(&mut self, now: Instant, msg: &Message<'_>) {
        let Some(i) = self
            .pending
            .iter()
            .position(|p| p.tx.transaction_id() == msg.transaction_id() && p.kind.method() == msg.method())
        else {
            self.rejected += 1;
            return;
        };
        let code = error_code(msg);
        let challenge = matches!(code, Some(401 | 438));
        let key = self.credentials.as_ref().map(|c| &c.key);
        let authentic = match key {
            Some(key) if self.pending[i].authenticated => challenge || msg.verify_integrity(key).is_ok(),
            // Sent before any key existed: only error responses can be taken
            // as they are (RFC 8489 section 9.2.5); a success must be signed.
            _ => msg.class() == Class::Error,
        };
        if !authentic || !self.pending[i].tx.handle_response(now, msg) {
            self.rejected += 1;
            return;
        }
        let p = self.pending.swap_remove(i);
        match (msg.class(), code) {
            (Class::Success, _) => self.success(now, p.kind, msg),
            (_, Some(401)) if !p.authenticated => self.challenged(now, p, msg),
            (_, Some(438)) => self.challenged(now, p, msg),
            (_, Some(300)) if p.kind == RequestKind::Allocate => {
                let error = match msg.get(AttributeType::ALTERNATE_SERVER) {
                    Some(Ok(Attribute::AlternateServer(alternate))) => TurnError::TryAlternate { alternate },
                    _ => TurnError::MalformedResponse("300 without ALTERNATE-SERVER"),
                };
                self.fail(error);
            }
            (_, code) => self.request_failed(p.kind, TurnError::from_code(code.unwrap_or(0))),
        }
    }

    /// A 401 to an unauthenticated request or a 438: learn REALM and NONCE,
    /// then send the request again.
    fn challenged(&mut self, now: Instant, p: Pending, msg: &Message<'_>) {
        let stale = error_code(msg) == Some(438);
        let failure = if stale {
            TurnError::StaleNonce
        } else {
            TurnError::Unauthorized
        };
        let nonce = match msg.get(AttributeType::NONCE) {
            Some(Ok(Attribute::Nonce(n))) => n,
            _ => return self.request_failed(p.kind, TurnError::MalformedResponse("challenge without NONCE")),
        };
        let realm = match (msg.get(AttributeType::REALM), &self.credentials) {
            (Some(Ok(Attribute::Realm(r))), _) => r.to_owned(),
            (_, Some(c)) => c.realm.clone(),
            _ => return self.request_failed(p.kind, TurnError::MalformedResponse("challenge without REALM")),
        };
        if p.retries >= MAX_AUTH_RETRIES {
            return self.request_failed(p.kind, failure);
        }
        let same_realm = self.credentials.as_ref().is_some_and(|c| c.realm == realm);
        match &mut self.credentials {
            Some(c) if same_realm => nonce.clone_into(&mut c.nonce),
            _ => {
                let key = IntegrityKey::long_term(&self.config.username, &realm, &self.config.password);
                self.credentials = Some(Credentials {
                    realm,
                    nonce: nonce.to_owned(),
                    key,
                });
            }
        }
        if let Err(e) = self.start(now, p.kind, p.retries + 1) {
            self.request_failed(p.kind, e);
        }
    }

    fn success(&mut self, now: Instant, kind: RequestKind, msg: &Message<'_>) {
        match kind {
            RequestKind::Allocate => {
                let Some(Ok(Attribute::XorRelayedAddress(relayed))) =
                    msg.get(AttributeType::XOR_RELAYED_ADDRESS)
                else {
                    return self.fail(TurnError::MalformedResponse(
                        "Allocate success without XOR-RELAYED-ADDRESS",
                    ));
                };
                let mapped = match msg.get(AttributeType::XOR_MAPPED_ADDRESS) {
                    Some(Ok(Attribute::XorMappedAddress(a))) => Some(a),
                    _ => None,
                };
                let lifetime = granted_lifetime(msg, self.config.lifetime);
                self.state = State::Allocated {
                    relayed,
                    expires: now + lifetime,
                    refresh_at: Some(now + self.refresh_after(lifetime)),
                };
                self.push_event(TurnEvent::Allocated {
                    relayed,
                    mapped,
                    lifetime,
                });
            }
            RequestKind::Refresh { lifetime: 0 } => self.finish_closed(),
            RequestKind::Refresh { .. } => {
                let lifetime = granted_lifetime(msg, self.config.lifetime);
                let refresh = self.refresh_after(lifetime);
                if let State::Allocated {
                    expires, refresh_at, ..
                } = &mut self.state
                {
                    *expires = now + lifetime;
                    *refresh_at = Some(now + refresh);
                    self.push_event(TurnEvent::Refreshed { lifetime });
                }
            }
            RequestKind::CreatePermission(ip) => {
                if let Some(p) = self.permissions.get_mut(&ip) {
                    p.refresh_at = Some(now + self.config.permission_refresh);
                    if !p.installed {
                        p.installed = true;
                        self.push_event(TurnEvent::PermissionCreated(ip));
                    }
                }
            }
            RequestKind::ChannelBind { peer, channel } => {
                if let Some(c) = self.channels.get_mut(&peer).filter(|c| c.number == channel) {
                    c.refresh_at = Some(now + self.config.channel_refresh);
                    if !c.bound {
                        c.bound = true;
                        self.push_event(TurnEvent::ChannelBound { peer, channel });
                    }
                }
            }
        }
    }

    /// When to refresh after the server granted `lifetime`: by the shorter
    /// of the granted and the requested lifetime, so a client configured
    /// with a short lifetime refreshes that often even when the server
    /// grants more (coturn raises short Refresh lifetimes to 600 s).
    fn refresh_after(&self, granted: Duration) -> Duration {
        refresh_after(granted.min(self.config.lifetime))
    }

    fn request_failed(&mut self, kind: RequestKind, error: TurnError) {
        match kind {
            RequestKind::Allocate => self.fail(error),
            RequestKind::Refresh { lifetime: 0 } => self.finish_closed(),
            RequestKind::Refresh { .. } => self.fail(error),
            RequestKind::CreatePermission(ip) => {
                if self.permissions.remove(&ip).is_some() {
                    self.push_event(TurnEvent::PermissionFailed { ip, error });
                }
            }
            RequestKind::ChannelBind { peer, channel } => {
                if self.channels.get(&peer).is_some_and(|c| c.number == channel) {
                    self.channels.remove(&peer);
                    self.channel_peers.remove(&channel);
                    self.push_event(TurnEvent::ChannelBindFailed { peer, error });
                }
            }
        }
    }
}

fn error_code(msg: &Message<'_>) -> Option<u16> {
    if msg.class() != Class::Error {
        return None;
    }
    match msg.get(AttributeType::ERROR_CODE) {
        Some(Ok(Attribute::ErrorCode(e))) => Some(e.code),
        _ => Some(0),
    }
}

fn lifetime_secs(lifetime: Duration) -> u32 {
    u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX)
}

fn granted_lifetime(msg: &Message<'_>, requested: Duration) -> Duration {
    match msg.get(AttributeType::LIFETIME) {
        Some(Ok(Attribute::Lifetime(secs))) => Duration::from_secs(u64::from(secs)),
        _ => requested,
    }
}

/// A minute before expiry, or halfway through a lifetime under 2 minutes.
pub(crate) fn refresh_after(lifetime: Duration) -> Duration {
    if lifetime >= Duration::from_secs(120) {
        lifetime - Duration::from_secs(60)
    } else {
        lifetime / 2
    }
}
