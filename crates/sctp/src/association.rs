//! The SCTP association (RFC 9260): the four-way handshake with a stateless
//! cookie, reliable ordered and unordered DATA with SACKs (delayed, with
//! gap blocks and duplicates), retransmission on the T3 timer and by fast
//! retransmit, model-based congestion control with pacing ([`crate::cc`]),
//! partial reliability (RFC 3758), stream reset (RFC 6525), the zero
//! checksum over DTLS (RFC 9653), and the SHUTDOWN sequence. The receiving
//! half lives in [`crate::receive`].
//!
//! Not yet: I-DATA interleaving (RFC 8260) and heartbeats of our own.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::cc::Controller;
use crate::chunk::{Chunk, DataChunk, Init, Sack};
use crate::chunk::{FORWARD_TSN, I_DATA, I_FORWARD_TSN, IDataChunk, RE_CONFIG};
use crate::error::Error;
use crate::packet::{COMMON_HEADER_LEN, CommonHeader, PacketWriter, parse_packet};
use crate::param::{Param, ReconfigParam, reconfig_result};
use crate::receive::{DataVerdict, Receiver, UserData};
use crate::send::{MessageSpec, SendQueue};

/// A message's bytes, as handed to [`Association::send_payload`] and
/// [`crate::DataChannels::send_payload`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload<'a> {
    /// Borrowed: copied into the send queue once the message is accepted.
    Borrowed(&'a [u8]),
    /// Shared: queued as they are, without a copy.
    Shared(Bytes),
}

impl Payload<'_> {
    /// Its length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Payload::Borrowed(b) => b.len(),
            Payload::Shared(b) => b.len(),
        }
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Payload::Borrowed(b) => Bytes::copy_from_slice(b),
            Payload::Shared(b) => b,
        }
    }
}

/// Settings of an association.
#[derive(Debug, Clone)]
pub struct SctpConfig {
    /// Our SCTP port; WebRTC uses 5000 (`a=sctp-port`).
    pub port: u16,
    /// The peer's SCTP port; WebRTC uses 5000 on both sides.
    pub remote_port: u16,
    /// Largest packet handed to the lower layer: over DTLS, its datagram
    /// size less the record overhead (37 bytes with AES-GCM). Default 1200;
    /// at least 128 is used.
    pub mtu: usize,
    /// Our receive window: the most bytes buffered for the application.
    /// Default 1 MiB.
    pub receive_window: u32,
    /// Most bytes queued to send (unsent and unacknowledged). Default 4 MiB.
    pub send_buffer: usize,
    /// Largest message accepted for sending or reassembly. Default 256 KiB.
    pub max_message_size: usize,
    /// Initial retransmission timeout (RFC 9260: 1 s; WebRTC stacks use
    /// less). Default 1 s.
    pub rto_initial: Duration,
    /// Lower bound of the RTO. Default 300 ms: above `sack_delay`, so a
    /// delayed SACK does not look like a loss.
    pub rto_min: Duration,
    /// Upper bound of the RTO. Default 60 s.
    pub rto_max: Duration,
    /// Longest a SACK waits for a second packet to acknowledge with it
    /// (RFC 9260 section 6.2). Default 200 ms.
    pub sack_delay: Duration,
    /// Consecutive T3-rtx expiries or unanswered heartbeats before the
    /// peer is declared unreachable and the association aborted
    /// (Association.Max.Retrans, RFC 9260 section 8.1). Default 10.
    pub max_retransmits: u32,
    /// How often an idle association sends a HEARTBEAT to check the path
    /// and measure the RTT (RFC 9260 section 8.3); `None` sends none.
    /// Default 30 s.
    pub heartbeat_interval: Option<Duration>,
    /// Give up after this many retransmissions of INIT or COOKIE-ECHO.
    /// Default 8.
    pub max_init_retransmits: u32,
    /// Seed for tags and initial TSNs; `None` draws from the system.
    pub seed: Option<u64>,
    /// Offer RFC 9653's zero checksum for DTLS (which already protects
    /// every packet): when both sides offer it, packets after the handshake
    /// carry 0 instead of a CRC32c. Set it only when the association runs
    /// over DTLS, as WebRTC's does. Default false.
    pub zero_checksum: bool,
    /// Offer message interleaving (I-DATA, RFC 8260): when the peer also
    /// offers it, fragments of messages on different streams interleave,
    /// so a large message does not hold up the others. Default true.
    pub interleaving: bool,
    /// Bytes left free at the front of every packet that
    /// [`poll_transmit`](Association::poll_transmit) returns (the packet is
    /// `&v[headroom..]`), with room for 32 more at the end, so the layer
    /// below can add its header and trailer in place: DTLS seals a record
    /// around the packet without copying it (21 bytes for AES-GCM). Default 0.
    pub headroom: usize,
}

impl Default for SctpConfig {
    fn default() -> Self {
        SctpConfig {
            port: 5000,
            remote_port: 5000,
            mtu: 1200,
            receive_window: 1 << 20,
            send_buffer: 4 << 20,
            max_message_size: 256 * 1024,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(300),
            sack_delay: Duration::from_millis(200),
            rto_max: Duration::from_secs(60),
            max_retransmits: 10,
            heartbeat_interval: Some(Duration::from_secs(30)),
            max_init_retransmits: 8,
            seed: None,
            zero_checksum: false,
            interleaving: true,
            headroom: 0,
        }
    }
}

/// Where the association is (RFC 9260 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssociationState {
    /// Nothing sent or received yet, or shut down gracefully.
    Closed,
    /// INIT sent, waiting for INIT-ACK.
    CookieWait,
    /// COOKIE-ECHO sent, waiting for COOKIE-ACK.
    CookieEchoed,
    /// Data may flow.
    Established,
    /// [`close`](Association::close) was called; waiting for our data to be
    /// acknowledged before sending SHUTDOWN.
    ShutdownPending,
    /// SHUTDOWN sent, waiting for SHUTDOWN-ACK.
    ShutdownSent,
    /// The peer sent SHUTDOWN; finishing our outstanding data.
    ShutdownReceived,
    /// SHUTDOWN-ACK sent, waiting for SHUTDOWN-COMPLETE.
    ShutdownAckSent,
    /// Aborted or failed.
    Aborted,
}

/// A message delivered to, or sent by, the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SctpMessage {
    /// Stream identifier.
    pub stream_id: u16,
    /// Payload protocol identifier.
    pub ppid: u32,
    /// The message.
    pub data: Vec<u8>,
}

/// What the association tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SctpEvent {
    /// The handshake finished.
    Connected,
    /// A whole message arrived.
    Message(SctpMessage),
    /// The association ended: the peer aborted or a timer gave up.
    Aborted,
    /// The graceful shutdown finished: everything either side sent was
    /// acknowledged.
    Closed,
    /// The peer reset these of its outgoing streams (RFC 6525): their next
    /// message starts again at sequence number 0. Data channels close this
    /// way (RFC 8831 section 6.7).
    IncomingStreamsReset(Vec<u16>),
    /// The peer performed the reset of these of our outgoing streams that
    /// [`reset_streams`](Association::reset_streams) asked for.
    OutgoingStreamsReset(Vec<u16>),
}

/// How one message is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Deliver as soon as it is whole, regardless of order.
    pub unordered: bool,
    /// Partial reliability (RFC 3758): give up after this many
    /// retransmissions. Needs the peer's FORWARD-TSN support; without it
    /// the message is sent reliably.
    pub max_retransmits: Option<u32>,
    /// Partial reliability: give up once the message is this old, sent or
    /// not.
    pub lifetime: Option<Duration>,
}

/// Counters and the congestion state of an association, for statistics
/// and diagnosis.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SctpStats {
    /// Congestion window, bytes.
    pub cwnd: usize,
    /// Bytes sent and not yet acknowledged (nor marked lost).
    pub flight_bytes: usize,
    /// The peer's receive window as last advertised.
    pub peer_rwnd: u32,
    /// Smoothed round-trip time, once measured.
    pub srtt: Option<Duration>,
    /// Current retransmission timeout.
    pub rto: Duration,
    /// Estimated bottleneck bandwidth, bytes per second.
    pub bandwidth: f64,
    /// DATA chunks sent for the first time.
    pub data_chunks_sent: u64,
    /// DATA chunks retransmitted after fast retransmit.
    pub fast_retransmits: u64,
    /// T3-rtx expiries.
    pub t3_expiries: u64,
    /// DATA chunks received that were duplicates.
    pub duplicates_received: u64,
    /// Bytes received and held: beyond a gap, in reassembly, or waiting
    /// for an earlier message of their stream.
    pub receive_buffered: usize,
}

/// T2-shutdown expiries before the association is given up
/// (Association.Max.Retrans, RFC 9260 section 16).
const MAX_SHUTDOWN_RETRANSMITS: u32 = 10;
/// Packet buffers an association keeps for reuse (see
/// [`Association::recycle`]): more than one flush writes when the window
/// opens, and at most ~80 kB held with a 1200-byte MTU.
pub const MAX_RECYCLED_BUFFERS: usize = 64;
/// Of those, what an association with no data of its own queued or in
/// flight keeps: enough for its SACKs while it receives (~2.5 kB).
pub const MAX_IDLE_RECYCLED_BUFFERS: usize = 2;

/// A sans-IO SCTP association.
#[derive(Debug)]
pub struct Association {
    config: SctpConfig,
    state: AssociationState,
    rng: u64,
    cookie_secret: [u8; 32],
    my_tag: u32,
    peer_tag: u32,
    // Sending.
    /// Our initial TSN (in INIT, INIT-ACK and the cookie).
    initial_tsn: u32,
    queue: SendQueue,
    peer_rwnd: u32,
    cc: Controller,
    /// When pacing lets the next packet leave.
    pacing_timer: Option<Instant>,
    rto: Duration,
    srtt: Option<Duration>,
    rttvar: Duration,
    t3: Option<Instant>,
    // Shutdown retransmission (T2-shutdown, RFC 9260 section 9.2).
    t2: Option<Instant>,
    t2_retransmits: u32,
    // Handshake retransmission.
    init_packet: Option<Vec<u8>>,
    init_timer: Option<Instant>,
    init_retransmits: u32,
    /// Streams we may send on: the peer's inbound stream count.
    outbound_streams: u16,
    /// Both sides offered the zero checksum (RFC 9653).
    peer_accepts_zero_checksum: bool,
    /// The peer offered I-DATA (RFC 8260).
    peer_supports_idata: bool,
    send_zero_checksum: bool,
    // Partial reliability (RFC 3758).
    peer_supports_pr: bool,
    forward_tsn_due: bool,
    // Stream reconfiguration (RFC 6525).
    peer_supports_reconfig: bool,
    next_request_seq: u32,
    /// Outgoing streams waiting for a reset request.
    reset_queue: Vec<u16>,
    /// The reset request in flight: sequence number, streams, last TSN.
    reset_in_flight: Option<(u32, Vec<u16>, u32)>,
    reconfig_timer: Option<Instant>,
    /// The peer's next request sequence number.
    peer_request_seq: u32,
    /// Our answer to the peer's last request, repeated if it asks again.
    last_response: Option<(u32, u32)>,
    receiver: Receiver,
    sack_due: bool,
    /// Delayed SACK: when it must go at the latest.
    sack_timer: Option<Instant>,
    heartbeat_timer: Option<Instant>,
    /// The HEARTBEAT waiting for its ACK: nonce and send time.
    heartbeat_outstanding: Option<(u64, Instant)>,
    /// Consecutive T3 expiries and unanswered heartbeats.
    error_count: u32,
    stats: SctpStats,
    /// Messages were queued since the last flush (flushed lazily, so many
    /// small sends share packets).
    send_pending: bool,
    /// The time of the latest input.
    last_now: Option<Instant>,
    // Outputs.
    transmits: VecDeque<Vec<u8>>,
    /// Packet buffers given back ([`Association::recycle`]), at most
    /// [`MAX_RECYCLED_BUFFERS`].
    recycled: Vec<Vec<u8>>,
    events: VecDeque<SctpEvent>,
}

/// Size of our state cookie: six 32-bit fields and an HMAC-SHA256.
const COOKIE_LEN: usize = 24 + 32;

/// Size of a DATA chunk header.
const DATA_HEADER_LEN: usize = 16;

impl Association {
    /// A new association; the client side calls [`connect`](Association::connect),
    /// the other waits for INIT.
    pub fn new(mut config: SctpConfig) -> Association {
        config.mtu = config.mtu.clamp(128, usize::from(u16::MAX));
        let mut seed_bytes = [0u8; 8];
        let rng = match config.seed {
            Some(s) => s ^ 0x9e37_79b9_7f4a_7c15,
            None => {
                let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed_bytes);
                u64::from_le_bytes(seed_bytes)
            }
        };
        let mut cookie_secret = [0u8; 32];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut cookie_secret);
        let receiver = Receiver::new(config.receive_window as usize, config.max_message_size);
        let mut a = Association {
            rto: config.rto_initial,
            cc: Controller::new(config.mtu),
            pacing_timer: None,
            config,
            state: AssociationState::Closed,
            rng,
            cookie_secret,
            my_tag: 0,
            peer_tag: 0,
            initial_tsn: 0,
            queue: SendQueue::new(0, 1),
            peer_rwnd: 0,
            srtt: None,
            rttvar: Duration::ZERO,
            t3: None,
            t2: None,
            t2_retransmits: 0,
            init_packet: None,
            init_timer: None,
            init_retransmits: 0,
            outbound_streams: u16::MAX,
            peer_accepts_zero_checksum: false,
            peer_supports_idata: false,
            send_zero_checksum: false,
            peer_supports_pr: false,
            forward_tsn_due: false,
            peer_supports_reconfig: false,
            next_request_seq: 0,
            reset_queue: Vec::new(),
            reset_in_flight: None,
            reconfig_timer: None,
            peer_request_seq: 0,
            last_response: None,
            receiver,
            sack_due: false,
            sack_timer: None,
            heartbeat_timer: None,
            heartbeat_outstanding: None,
            error_count: 0,
            stats: SctpStats::default(),
            send_pending: false,
            last_now: None,
            transmits: VecDeque::new(),
            recycled: Vec::new(),
            events: VecDeque::new(),
        };
        a.my_tag = a.random_nonzero();
        a.initial_tsn = a.random_nonzero();
        a.queue = SendQueue::new(a.initial_tsn, a.max_payload(false));
        a.next_request_seq = a.initial_tsn;
        a
    }

    fn random_nonzero(&mut self) -> u32 {
        loop {
            // SplitMix64: tags and TSNs need not be secret, only unguessable
            // by an off-path attacker when seeded from the system.
            self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            let v = (z ^ (z >> 31)) as u32;
            if v != 0 {
                return v;
            }
        }
    }

    /// Current state.
    pub fn state(&self) -> AssociationState {
        self.state
    }

    /// The most user data in one chunk: what fits in the MTU after the
    /// common header and the DATA (16) or I-DATA (20) chunk header, with
    /// the chunk padded to a multiple of 4 bytes.
    fn max_payload(&self, interleaved: bool) -> usize {
        let header = if interleaved { 20 } else { DATA_HEADER_LEN };
        let room = self.config.mtu.saturating_sub(COMMON_HEADER_LEN) & !3;
        room.saturating_sub(header).max(1)
    }

    /// The extensions we offer in INIT and INIT-ACK: FORWARD-TSN (RFC 3758),
    /// RE-CONFIG (RFC 6525) and, if configured, the zero checksum (RFC
    /// 9653).
    fn extension_params(&self, out: &mut Vec<u8>) {
        crate::param::write_param(&Param::ForwardTsnSupported, out);
        if self.config.interleaving {
            crate::param::write_param(
                &Param::SupportedExtensions(&[RE_CONFIG, FORWARD_TSN, I_DATA, I_FORWARD_TSN]),
                out,
            );
        } else {
            crate::param::write_param(&Param::SupportedExtensions(&[RE_CONFIG, FORWARD_TSN]), out);
        }
        if self.config.zero_checksum {
            crate::param::write_param(
                &Param::ZeroChecksumAcceptable {
                    edmid: crate::param::EDMID_DTLS,
                },
                out,
            );
        }
    }

    /// Which of our extensions the peer's INIT or INIT-ACK offers, as
    /// flags: 1 partial reliability, 2 stream reconfiguration, 4 zero
    /// checksum over DTLS, 8 I-DATA; the upper 16 bits hold how many inbound streams
    /// the peer accepts (our outbound streams).
    fn peer_extensions(init: &Init<'_>) -> u32 {
        let mut flags = u32::from(init.inbound_streams) << 16;
        for p in init.params().map_while(Result::ok) {
            match p {
                Param::ForwardTsnSupported => flags |= 1,
                Param::SupportedExtensions(list) => {
                    if list.contains(&FORWARD_TSN) {
                        flags |= 1;
                    }
                    if list.contains(&RE_CONFIG) {
                        flags |= 2;
                    }
                    if list.contains(&I_DATA) && list.contains(&I_FORWARD_TSN) {
                        flags |= 8;
                    }
                }
                Param::ZeroChecksumAcceptable {
                    edmid: crate::param::EDMID_DTLS,
                } => flags |= 4,
                _ => {}
            }
        }
        flags
    }

    fn set_peer_extensions(&mut self, flags: u32) {
        self.peer_supports_pr = flags & 1 != 0;
        self.peer_supports_reconfig = flags & 2 != 0;
        self.peer_accepts_zero_checksum = flags & 4 != 0;
        self.peer_supports_idata = flags & 8 != 0;
        self.outbound_streams = (flags >> 16) as u16;
    }

    /// Client: sends INIT.
    pub fn connect(&mut self, now: Instant) {
        if self.state != AssociationState::Closed {
            return;
        }
        let mut params = Vec::new();
        self.extension_params(&mut params);
        let init = Init {
            initiate_tag: self.my_tag,
            a_rwnd: self.config.receive_window,
            outbound_streams: u16::MAX,
            inbound_streams: u16::MAX,
            initial_tsn: self.initial_tsn,
            params: &params,
        };
        let packet = self.packet(0, &[Chunk::Init(init)]);
        self.init_packet = Some(packet.clone());
        self.init_timer = Some(now + self.rto);
        self.transmits.push_back(packet);
        self.state = AssociationState::CookieWait;
    }

    /// Queues a message. Fails if the association is not established, the
    /// message is larger than `max_message_size`, or the send buffer is
    /// full (never silently dropped).
    pub fn send(
        &mut self,
        now: Instant,
        stream_id: u16,
        ppid: u32,
        data: &[u8],
        unordered: bool,
    ) -> Result<(), Error> {
        let options = SendOptions {
            unordered,
            ..SendOptions::default()
        };
        self.send_with(now, stream_id, ppid, data, options)
    }

    /// Queues a message with per-message options: ordering and partial
    /// reliability. Fails as [`send`](Association::send) does, and while
    /// the stream is being reset.
    pub fn send_with(
        &mut self,
        now: Instant,
        stream_id: u16,
        ppid: u32,
        data: &[u8],
        options: SendOptions,
    ) -> Result<(), Error> {
        self.send_payload(now, stream_id, ppid, Payload::Borrowed(data), options)
    }

    /// [`Association::send_with`] for a message in a borrowed slice
    /// (copied into the send queue once it is accepted) or in shared
    /// [`Bytes`] (queued as they are: no copy).
    pub fn send_payload(
        &mut self,
        now: Instant,
        stream_id: u16,
        ppid: u32,
        data: Payload<'_>,
        options: SendOptions,
    ) -> Result<(), Error> {
        let unordered = options.unordered;
        if self.state != AssociationState::Established {
            return Err(Error::NotEstablished);
        }
        if stream_id >= self.outbound_streams {
            return Err(Error::InvalidStream);
        }
        if self.reset_queue.contains(&stream_id)
            || self
                .reset_in_flight
                .as_ref()
                .is_some_and(|(_, streams, _)| streams.contains(&stream_id))
        {
            return Err(Error::StreamResetting);
        }
        if data.is_empty() {
            return Err(Error::EmptyMessage);
        }
        if data.len() > self.config.max_message_size {
            return Err(Error::TooLarge("message larger than max-message-size"));
        }
        if self.queue.queued() + data.len() > self.config.send_buffer {
            return Err(Error::SendBufferFull);
        }
        let spec = MessageSpec {
            stream_id,
            ppid,
            unordered,
            max_retransmits: options.max_retransmits,
            expires: options.lifetime.map(|l| now + l),
        };
        self.queue.push(spec, data.into_bytes());
        // Sent at the next poll_transmit or timeout, with whatever else is
        // queued by then.
        self.send_pending = true;
        self.last_now = Some(now);
        Ok(())
    }

    /// Starts the graceful shutdown (RFC 9260 section 9.2): no new messages
    /// are accepted, what is queued is still delivered, then SHUTDOWN,
    /// SHUTDOWN-ACK and SHUTDOWN-COMPLETE end the association and
    /// [`SctpEvent::Closed`] is reported. Before the handshake finished
    /// there is nothing to deliver, so the association is aborted instead.
    pub fn close(&mut self, now: Instant) {
        match self.state {
            AssociationState::Established => {
                self.state = AssociationState::ShutdownPending;
                self.try_shutdown(now);
            }
            AssociationState::CookieWait | AssociationState::CookieEchoed => {
                if self.peer_tag != 0 {
                    let abort = self.packet(
                        self.peer_tag,
                        &[Chunk::Abort {
                            t_bit: false,
                            causes: &[],
                        }],
                    );
                    self.transmits.push_back(abort);
                }
                self.abort_locally();
            }
            _ => {}
        }
    }

    /// Sends SHUTDOWN or SHUTDOWN-ACK once all our data is acknowledged.
    fn try_shutdown(&mut self, now: Instant) {
        if !self.queue.is_empty() {
            return;
        }
        match self.state {
            AssociationState::ShutdownPending => {
                self.state = AssociationState::ShutdownSent;
                self.send_shutdown_chunk(now, true);
            }
            AssociationState::ShutdownReceived => {
                self.state = AssociationState::ShutdownAckSent;
                self.send_shutdown_chunk(now, true);
            }
            _ => {}
        }
    }

    /// (Re)sends the chunk the shutdown state calls for and arms T2.
    fn send_shutdown_chunk(&mut self, now: Instant, first: bool) {
        let chunk = match self.state {
            AssociationState::ShutdownSent => Chunk::Shutdown {
                cumulative_tsn_ack: self.receiver.cumulative_tsn(),
            },
            AssociationState::ShutdownAckSent => Chunk::ShutdownAck,
            _ => return,
        };
        if first {
            self.t2_retransmits = 0;
        }
        let packet = self.packet(self.peer_tag, &[chunk]);
        self.transmits.push_back(packet);
        self.t2 = Some(now + self.rto);
    }

    /// Whether DATA and SACK still flow.
    fn transferring(&self) -> bool {
        matches!(
            self.state,
            AssociationState::Established
                | AssociationState::ShutdownPending
                | AssociationState::ShutdownSent
                | AssociationState::ShutdownReceived
        )
    }

    /// Counters and congestion state.
    pub fn stats(&self) -> SctpStats {
        SctpStats {
            cwnd: self.cc.cwnd(),
            flight_bytes: self.queue.flight(),
            peer_rwnd: self.peer_rwnd,
            srtt: self.srtt,
            rto: self.rto,
            bandwidth: self.cc.bandwidth(),
            receive_buffered: self.receiver.buffered(),
            ..self.stats.clone()
        }
    }

    /// Bytes queued and not yet acknowledged.
    pub fn buffered_amount(&self) -> usize {
        self.queue.queued()
    }

    /// Bytes queued on one stream and not yet acknowledged (nor abandoned).
    pub fn stream_buffered_amount(&self, stream_id: u16) -> usize {
        self.queue.stream_queued(stream_id)
    }

    /// Whether the peer accepts FORWARD-TSN (partial reliability).
    pub fn peer_supports_partial_reliability(&self) -> bool {
        self.peer_supports_pr
    }

    /// Resets outgoing streams (RFC 6525 Outgoing SSN Reset Request): data
    /// already queued on them is still delivered, then their sequence
    /// numbers start again at 0; [`SctpEvent::OutgoingStreamsReset`] says
    /// when the peer performed it. Sending on them fails until then. Data
    /// channels close by resetting their stream.
    pub fn reset_streams(&mut self, now: Instant, streams: &[u16]) -> Result<(), Error> {
        if self.state != AssociationState::Established {
            return Err(Error::NotEstablished);
        }
        if !self.peer_supports_reconfig {
            return Err(Error::Unsupported(
                "the peer does not support stream reconfiguration",
            ));
        }
        for &s in streams {
            let in_flight = self
                .reset_in_flight
                .as_ref()
                .is_some_and(|(_, list, _)| list.contains(&s));
            if !in_flight && !self.reset_queue.contains(&s) {
                self.reset_queue.push(s);
            }
        }
        self.send_reset_request(now);
        Ok(())
    }

    /// Whether no reset of this outgoing stream is waiting or in flight.
    pub fn stream_reset_done(&self, stream_id: u16) -> bool {
        !self.reset_queue.contains(&stream_id)
            && self
                .reset_in_flight
                .as_ref()
                .is_none_or(|(_, streams, _)| !streams.contains(&stream_id))
    }

    /// Sends the queued stream resets as one request, unless one is in
    /// flight already (RFC 6525 section 5.1.1: one at a time).
    fn send_reset_request(&mut self, now: Instant) {
        if self.reset_in_flight.is_some() || self.reset_queue.is_empty() {
            return;
        }
        // Streams whose queued messages all have TSNs (the request names
        // the last TSN sent before the reset), at most what fits in one
        // packet.
        let most = (self.config.mtu.saturating_sub(64) / 2).max(1);
        let mut streams = Vec::new();
        let queue = &self.queue;
        self.reset_queue.retain(|&s| {
            if streams.len() < most && !queue.has_unscheduled(s) {
                streams.push(s);
                false
            } else {
                true
            }
        });
        if streams.is_empty() {
            return;
        }
        let seq = self.next_request_seq;
        self.next_request_seq = seq.wrapping_add(1);
        self.reset_in_flight = Some((seq, streams, self.queue.last_assigned_tsn()));
        self.transmit_reset_request(now);
    }

    fn transmit_reset_request(&mut self, now: Instant) {
        let Some((seq, streams, last_tsn)) = &self.reset_in_flight else {
            return;
        };
        let mut list = Vec::with_capacity(streams.len() * 2);
        crate::param::encode_stream_ids(streams, &mut list);
        let mut value = Vec::new();
        crate::param::write_reconfig_param(
            &ReconfigParam::OutgoingResetRequest {
                request_seq: *seq,
                response_seq: self.peer_request_seq.wrapping_sub(1),
                last_tsn: *last_tsn,
                streams: &list,
            },
            &mut value,
        );
        let packet = self.packet(self.peer_tag, &[Chunk::ReConfig(&value)]);
        self.transmits.push_back(packet);
        self.reconfig_timer = Some(now + self.rto);
    }

    /// A RE-CONFIG chunk from the peer: its requests and our answers.
    fn on_reconfig(&mut self, now: Instant, value: &[u8]) {
        for param in crate::param::reconfig_params(value).map_while(Result::ok) {
            match param {
                ReconfigParam::OutgoingResetRequest {
                    request_seq,
                    last_tsn,
                    streams,
                    ..
                } => {
                    let result = self.on_outgoing_reset_request(request_seq, last_tsn, streams);
                    self.send_reconfig_response(request_seq, result);
                }
                ReconfigParam::IncomingResetRequest { request_seq, .. }
                | ReconfigParam::AddOutgoingStreams { request_seq, .. }
                | ReconfigParam::AddIncomingStreams { request_seq, .. } => {
                    // Not used by WebRTC; we already offer the most streams.
                    let result = if request_seq == self.peer_request_seq {
                        self.peer_request_seq = request_seq.wrapping_add(1);
                        reconfig_result::DENIED
                    } else {
                        reconfig_result::ERROR_BAD_SEQUENCE_NUMBER
                    };
                    self.send_reconfig_response(request_seq, result);
                }
                ReconfigParam::Response {
                    response_seq, result, ..
                } => self.on_reconfig_response(now, response_seq, result),
                ReconfigParam::Unknown { .. } => {}
            }
        }
    }

    /// RFC 6525 section 5.2.2.
    fn on_outgoing_reset_request(&mut self, seq: u32, last_tsn: u32, streams: &[u8]) -> u32 {
        if seq == self.peer_request_seq.wrapping_sub(1) {
            // A retransmission: the same answer, updated if the deferred
            // reset happened meanwhile.
            return match self.last_response {
                // The deferred reset happened meanwhile.
                Some((s, reconfig_result::IN_PROGRESS))
                    if s == seq && self.receiver.deferred_reset() != Some(s) =>
                {
                    self.last_response = Some((s, reconfig_result::SUCCESS_PERFORMED));
                    reconfig_result::SUCCESS_PERFORMED
                }
                Some((s, r)) if s == seq => r,
                _ => reconfig_result::ERROR_BAD_SEQUENCE_NUMBER,
            };
        }
        if seq != self.peer_request_seq {
            return reconfig_result::ERROR_BAD_SEQUENCE_NUMBER;
        }
        self.peer_request_seq = seq.wrapping_add(1);
        let ids: Vec<u16> = crate::param::stream_ids(streams).collect();
        let result = if self.receiver.deferred_reset().is_some() {
            reconfig_result::ERROR_REQUEST_IN_PROGRESS
        } else if self.receiver.reset_incoming(seq, last_tsn, ids, &mut self.events) {
            reconfig_result::SUCCESS_PERFORMED
        } else {
            reconfig_result::IN_PROGRESS
        };
        self.last_response = Some((seq, result));
        result
    }

    fn send_reconfig_response(&mut self, seq: u32, result: u32) {
        let mut value = Vec::new();
        crate::param::write_reconfig_param(
            &ReconfigParam::Response {
                response_seq: seq,
                result,
                next_tsns: None,
            },
            &mut value,
        );
        let packet = self.packet(self.peer_tag, &[Chunk::ReConfig(&value)]);
        self.transmits.push_back(packet);
    }

    fn on_reconfig_response(&mut self, now: Instant, seq: u32, result: u32) {
        if self.reset_in_flight.as_ref().is_none_or(|(s, _, _)| *s != seq) {
            return;
        }
        match result {
            // The peer waits for data still on its way: ask again later.
            reconfig_result::IN_PROGRESS => {}
            reconfig_result::SUCCESS_PERFORMED | reconfig_result::SUCCESS_NOTHING_TO_DO => {
                self.reconfig_timer = None;
                if let Some((_, streams, _)) = self.reset_in_flight.take() {
                    for &s in &streams {
                        self.queue.reset_sequence(s);
                    }
                    self.events.push_back(SctpEvent::OutgoingStreamsReset(streams));
                }
                self.send_reset_request(now);
            }
            // Denied or an error: the streams stay as they are.
            _ => {
                self.reconfig_timer = None;
                self.reset_in_flight = None;
                self.send_reset_request(now);
            }
        }
    }

    /// Gives back a packet's buffer once the lower layer is done with it
    /// (sent, or copied): the next data packets are written into such
    /// buffers instead of new allocations. Keeps at most
    /// [`MAX_RECYCLED_BUFFERS`]; any `Vec` will do.
    ///
    /// More than [`MAX_IDLE_RECYCLED_BUFFERS`] are kept only while data of
    /// its own is queued or in flight.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if self.recycled.len() < self.recycled_cap() {
            self.recycled.push(buf);
        }
    }

    fn recycled_cap(&self) -> usize {
        if self.queue.is_empty() {
            MAX_IDLE_RECYCLED_BUFFERS
        } else {
            MAX_RECYCLED_BUFFERS
        }
    }

    /// Packet buffers held for reuse.
    pub fn recycled_buffers(&self) -> usize {
        self.recycled.len()
    }

    /// A writer for the next data packet, in a recycled buffer if any.
    fn data_writer(&mut self) -> PacketWriter {
        let buf = self.recycled.pop().unwrap_or_default();
        PacketWriter::with_buffer(
            buf,
            self.header(self.peer_tag),
            self.config.mtu,
            self.config.headroom,
        )
    }

    /// The next packet to hand to DTLS.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.transmits.is_empty()
            && self.send_pending
            && let Some(now) = self.last_now
        {
            self.flush(now);
        }
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SctpEvent> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Association::handle_timeout).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.send_pending {
            // Queued messages not flushed yet: at once.
            return self.last_now;
        }
        [
            self.init_timer,
            self.t3,
            self.t2,
            self.sack_timer,
            self.pacing_timer,
            self.reconfig_timer,
            self.heartbeat_timer,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs expired timers: INIT/COOKIE-ECHO retransmission, T3-rtx,
    /// T2-shutdown, the delayed SACK and pacing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = Some(now);
        let mut flush = false;
        if self.sack_timer.is_some_and(|t| t <= now) {
            self.sack_timer = None;
            self.sack_due = true;
            flush = true;
        }
        if self.pacing_timer.is_some_and(|t| t <= now) {
            self.pacing_timer = None;
            flush = true;
        }
        if self.reconfig_timer.is_some_and(|t| t <= now) {
            self.reconfig_timer = None;
            self.transmit_reset_request(now);
        }
        if self.heartbeat_timer.is_some_and(|t| t <= now) && !self.on_heartbeat_timer(now) {
            return;
        }
        if self.t2.is_some_and(|t| t <= now) {
            self.t2 = None;
            if self.t2_retransmits >= MAX_SHUTDOWN_RETRANSMITS {
                self.abort_locally();
                return;
            }
            self.t2_retransmits += 1;
            self.rto = (self.rto * 2).min(self.config.rto_max);
            self.send_shutdown_chunk(now, false);
        }
        if self.init_timer.is_some_and(|t| t <= now) {
            if self.init_retransmits >= self.config.max_init_retransmits {
                self.abort_locally();
                return;
            }
            self.init_retransmits += 1;
            self.rto = (self.rto * 2).min(self.config.rto_max);
            self.init_timer = Some(now + self.rto);
            if let Some(p) = &self.init_packet {
                self.transmits.push_back(p.clone());
            }
        }
        if self.t3.is_some_and(|t| t <= now) {
            // RFC 9260 section 6.3.3: back off, collapse the window, resend
            // what is outstanding.
            self.rto = (self.rto * 2).min(self.config.rto_max);
            self.cc.on_timeout();
            self.stats.t3_expiries += 1;
            if !self.count_error() {
                return;
            }
            self.queue.mark_all_lost();
            self.t3 = None;
            self.forward_tsn_due |= self.queue.forward_pending();
            flush = true;
        }
        if flush || self.send_pending {
            self.flush(now);
        }
    }

    /// Handles one SCTP packet from the lower layer.
    pub fn handle_receive(&mut self, now: Instant, packet: &[u8]) {
        self.last_now = Some(now);
        if self.state == AssociationState::Aborted {
            return;
        }
        let Ok((header, chunks)) = parse_packet(packet, self.config.zero_checksum) else {
            return;
        };
        // The first chunk decides how the tag is checked; the iterator is
        // cloned to peek at it, so no list of chunks is built per packet.
        let first = chunks.clone().next().and_then(Result::ok);
        let is_init = matches!(first, Some(Chunk::Init(_)));
        // RFC 9260 section 8.5: the verification tag must be ours, except
        // on INIT (tag 0) and a few cases we do not need yet.
        if is_init {
            if header.verification_tag != 0 {
                return;
            }
        } else if header.verification_tag != self.my_tag
            && !matches!(first, Some(Chunk::CookieEcho(_)))
            // T bit: the sender reflected our peer's tag (section 8.5.1).
            && !(header.verification_tag == self.peer_tag
                && matches!(
                    first,
                    Some(Chunk::ShutdownComplete { t_bit: true } | Chunk::Abort { t_bit: true, .. })
                ))
        {
            return;
        }
        let mut got_data = false;
        let mut immediate = false;
        // Unrecognized chunks to report in one ERROR (RFC 9260 section 3.2).
        let mut unrecognized = Vec::new();
        for chunk in chunks.map_while(Result::ok) {
            let chunk = &chunk;
            match chunk {
                Chunk::Init(init) => self.on_init(init),
                Chunk::InitAck(init) => self.on_init_ack(now, init),
                Chunk::CookieEcho(cookie) => self.on_cookie_echo(now, header.verification_tag, cookie),
                Chunk::CookieAck if self.state == AssociationState::CookieEchoed => self.established(),
                // RFC 9260 section 9.2: after receiving SHUTDOWN the peer
                // sends no new DATA, so none is accepted then.
                Chunk::Data(_) | Chunk::IData(_)
                    if self.transferring() && self.state != AssociationState::ShutdownReceived =>
                {
                    // RFC 8260 section 2.2: I-DATA exactly when negotiated.
                    let user = match chunk {
                        Chunk::Data(d) if !self.queue.interleaved() => UserData::from(d),
                        Chunk::IData(d) if self.queue.interleaved() => UserData::from(d),
                        _ => {
                            self.protocol_violation("DATA and I-DATA mixed up");
                            return;
                        }
                    };
                    got_data = true;
                    immediate |= matches!(
                        chunk,
                        Chunk::Data(DataChunk { immediate: true, .. })
                            | Chunk::IData(IDataChunk { immediate: true, .. })
                    );
                    match self.receiver.on_data(user, &mut self.events) {
                        Ok(DataVerdict::Duplicate) => self.stats.duplicates_received += 1,
                        Ok(DataVerdict::Accepted | DataVerdict::Dropped) => {}
                        Err(violation) => {
                            self.protocol_violation(violation);
                            return;
                        }
                    }
                }
                Chunk::Sack(s) if self.transferring() => self.on_sack(now, s),
                Chunk::ForwardTsn {
                    new_cumulative_tsn,
                    streams,
                } if self.transferring() && !self.queue.interleaved() => {
                    got_data = true;
                    let streams =
                        crate::chunk::forward_tsn_streams(streams).map(|(s, ssn)| (s, false, u32::from(ssn)));
                    if let Err(violation) =
                        self.receiver
                            .forward(*new_cumulative_tsn, streams, &mut self.events)
                    {
                        self.protocol_violation(violation);
                        return;
                    }
                }
                Chunk::IForwardTsn {
                    new_cumulative_tsn,
                    streams,
                } if self.transferring() && self.queue.interleaved() => {
                    got_data = true;
                    let streams = crate::chunk::i_forward_tsn_streams(streams);
                    if let Err(violation) =
                        self.receiver
                            .forward(*new_cumulative_tsn, streams, &mut self.events)
                    {
                        self.protocol_violation(violation);
                        return;
                    }
                }
                Chunk::ReConfig(value) if self.state == AssociationState::Established => {
                    self.on_reconfig(now, value);
                }
                Chunk::Shutdown { cumulative_tsn_ack } => self.on_shutdown(now, *cumulative_tsn_ack),
                Chunk::ShutdownAck
                    if matches!(
                        self.state,
                        AssociationState::ShutdownSent | AssociationState::ShutdownAckSent
                    ) =>
                {
                    let complete = self.packet(self.peer_tag, &[Chunk::ShutdownComplete { t_bit: false }]);
                    self.transmits.push_back(complete);
                    self.closed();
                    return;
                }
                Chunk::ShutdownComplete { .. } if self.state == AssociationState::ShutdownAckSent => {
                    self.closed();
                    return;
                }
                // Our SHUTDOWN-COMPLETE was lost and the peer repeats its
                // SHUTDOWN-ACK: answer with the tag reflected (section 8.4).
                Chunk::ShutdownAck if self.state == AssociationState::Closed && self.peer_tag != 0 => {
                    let complete = self.packet(
                        header.verification_tag,
                        &[Chunk::ShutdownComplete { t_bit: true }],
                    );
                    self.transmits.push_back(complete);
                    return;
                }
                Chunk::HeartbeatAck(info) => self.on_heartbeat_ack(now, info),
                Chunk::Unknown {
                    chunk_type,
                    flags,
                    value,
                } => {
                    let (skip, report) = crate::chunk::unknown_action(*chunk_type);
                    let quoted_len = 4 + value.len();
                    if report
                        && self.peer_tag != 0
                        && unrecognized.len() + 4 + quoted_len <= self.config.mtu / 2
                    {
                        let mut quoted = Vec::with_capacity(quoted_len);
                        quoted.extend_from_slice(&[*chunk_type, *flags]);
                        quoted
                            .extend_from_slice(&u16::try_from(quoted_len).unwrap_or(u16::MAX).to_be_bytes());
                        quoted.extend_from_slice(value);
                        crate::param::write_cause(
                            crate::param::UNRECOGNIZED_CHUNK,
                            &quoted,
                            &mut unrecognized,
                        );
                    }
                    if !skip {
                        break;
                    }
                }
                Chunk::Heartbeat(info) => {
                    let ack = self.packet(self.peer_tag, &[Chunk::HeartbeatAck(info)]);
                    self.transmits.push_back(ack);
                }
                Chunk::Abort { .. } => {
                    self.abort_locally();
                    return;
                }
                _ => {}
            }
        }
        if !unrecognized.is_empty() {
            let error = self.packet(self.peer_tag, &[Chunk::Error(&unrecognized)]);
            self.transmits.push_back(error);
        }
        if let Err(violation) = self.receiver.deliver(&mut self.events) {
            self.protocol_violation(violation);
            return;
        }
        if got_data {
            // RFC 9260 section 6.2: acknowledge at least every second
            // packet, within `sack_delay`, and at once when something is
            // missing or duplicated, when the sender asks (the I bit, RFC
            // 7053), or while shutting down.
            if self.sack_timer.is_some()
                || immediate
                || self.receiver.needs_immediate_sack()
                || self.state != AssociationState::Established
            {
                self.sack_due = true;
            } else {
                self.sack_timer = Some(now + self.config.sack_delay);
            }
        }
        self.flush(now);
        self.try_shutdown(now);
    }

    /// One more consecutive failure to reach the peer; false (and aborted)
    /// past Association.Max.Retrans.
    fn count_error(&mut self) -> bool {
        self.error_count += 1;
        if self.error_count > self.config.max_retransmits {
            self.abort_locally();
            return false;
        }
        true
    }

    /// The heartbeat timer: an unanswered HEARTBEAT counts as an error;
    /// an idle association sends a new one. False once aborted.
    fn on_heartbeat_timer(&mut self, now: Instant) -> bool {
        let Some(interval) = self.config.heartbeat_interval else {
            self.heartbeat_timer = None;
            return true;
        };
        if self.heartbeat_outstanding.take().is_some() && !self.count_error() {
            return false;
        }
        // With data in flight T3 watches the path already.
        if self.queue.flight() == 0 && self.state == AssociationState::Established {
            let nonce = (u64::from(self.random_nonzero()) << 32) | u64::from(self.random_nonzero());
            let mut info = Vec::with_capacity(12);
            info.extend_from_slice(&1u16.to_be_bytes()); // Heartbeat Info
            info.extend_from_slice(&12u16.to_be_bytes());
            info.extend_from_slice(&nonce.to_be_bytes());
            let packet = self.packet(self.peer_tag, &[Chunk::Heartbeat(&info)]);
            self.transmits.push_back(packet);
            self.heartbeat_outstanding = Some((nonce, now));
        }
        self.heartbeat_timer = Some(now + interval + self.rto);
        true
    }

    /// HEARTBEAT-ACK: the path works; its round trip is an RTT sample.
    fn on_heartbeat_ack(&mut self, now: Instant, info: &[u8]) {
        let Some((nonce, sent)) = self.heartbeat_outstanding else {
            return;
        };
        if info.get(4..12) != Some(&nonce.to_be_bytes()[..]) {
            return;
        }
        self.heartbeat_outstanding = None;
        self.error_count = 0;
        self.update_rto(now.saturating_duration_since(sent));
    }

    /// SHUTDOWN carries a cumulative acknowledgement and says the peer has
    /// no more new data (RFC 9260 section 9.2).
    fn on_shutdown(&mut self, now: Instant, cumulative_tsn_ack: u32) {
        match self.state {
            AssociationState::Established
            | AssociationState::ShutdownPending
            | AssociationState::ShutdownReceived => {
                let ack = Sack::new(cumulative_tsn_ack, self.peer_rwnd, &[], &[]);
                self.on_sack(now, &ack);
                self.state = AssociationState::ShutdownReceived;
            }
            // Both sides closed at once: answer with SHUTDOWN-ACK.
            AssociationState::ShutdownSent => {
                self.state = AssociationState::ShutdownAckSent;
                self.send_shutdown_chunk(now, true);
            }
            _ => {}
        }
    }

    fn closed(&mut self) {
        self.stop_timers();
        self.state = AssociationState::Closed;
        self.events.push_back(SctpEvent::Closed);
    }

    fn stop_timers(&mut self) {
        self.heartbeat_timer = None;
        self.reconfig_timer = None;
        self.sack_timer = None;
        self.pacing_timer = None;
        self.init_timer = None;
        self.t2 = None;
        self.t3 = None;
    }

    fn established(&mut self) {
        // T1-init/T1-cookie end here, also when the peer's COOKIE-ECHO
        // established us while our own INIT or COOKIE-ECHO was out (both
        // ends of a WebRTC association send INIT at once): left running,
        // it retransmitted our COOKIE-ECHO with a doubling RTO and aborted
        // the association after Max.Init.Retransmits.
        self.init_timer = None;
        self.init_packet = None;
        self.rto = self.config.rto_initial;
        // RFC 9653 section 5: only once both offered it, and never on the
        // INIT, INIT-ACK or COOKIE-ECHO before this.
        self.send_zero_checksum = self.config.zero_checksum && self.peer_accepts_zero_checksum;
        // RFC 8260 section 2.2: I-DATA only when both offered it, and then
        // for all user messages in both directions.
        let interleaved = self.config.interleaving && self.peer_supports_idata;
        self.queue
            .set_interleaved(interleaved, self.max_payload(interleaved));
        self.receiver.set_interleaved(interleaved);
        if let (Some(interval), Some(now)) = (self.config.heartbeat_interval, self.last_now) {
            self.heartbeat_timer = Some(now + interval);
        }
        self.state = AssociationState::Established;
        self.events.push_back(SctpEvent::Connected);
    }

    /// The peer broke the protocol in a way that cannot be ignored
    /// safely: ABORT with a Protocol Violation cause (RFC 9260 section
    /// 3.3.10.13) naming it.
    fn protocol_violation(&mut self, reason: &'static str) {
        let mut causes = Vec::new();
        crate::param::write_cause(crate::param::PROTOCOL_VIOLATION, reason.as_bytes(), &mut causes);
        let abort = self.packet(
            self.peer_tag,
            &[Chunk::Abort {
                t_bit: false,
                causes: &causes,
            }],
        );
        self.transmits.push_back(abort);
        self.abort_locally();
    }

    fn abort_locally(&mut self) {
        self.stop_timers();
        self.state = AssociationState::Aborted;
        self.events.push_back(SctpEvent::Aborted);
    }

    /// Server: answers INIT statelessly with an INIT-ACK whose cookie holds
    /// everything needed later, signed (RFC 9260 section 5.1.3).
    fn on_init(&mut self, init: &Init<'_>) {
        let cookie = self.make_cookie(
            init.initiate_tag,
            init.initial_tsn,
            init.a_rwnd,
            Self::peer_extensions(init),
        );
        let mut params = Vec::new();
        crate::param::write_param(&Param::StateCookie(&cookie), &mut params);
        self.extension_params(&mut params);
        let ack = Init {
            initiate_tag: self.my_tag,
            a_rwnd: self.config.receive_window,
            outbound_streams: u16::MAX,
            inbound_streams: u16::MAX,
            initial_tsn: self.initial_tsn,
            params: &params,
        };
        let packet = self.packet(init.initiate_tag, &[Chunk::InitAck(ack)]);
        self.transmits.push_back(packet);
    }

    /// Cookie: peer tag, peer initial TSN, peer window, our tag, our initial
    /// TSN, the peer's extensions, then an HMAC-SHA256 over them.
    fn make_cookie(&self, peer_tag: u32, peer_tsn: u32, peer_rwnd: u32, extensions: u32) -> Vec<u8> {
        let mut c = Vec::with_capacity(COOKIE_LEN);
        for v in [
            peer_tag,
            peer_tsn,
            peer_rwnd,
            self.my_tag,
            self.initial_tsn,
            extensions,
        ] {
            c.extend_from_slice(&v.to_be_bytes());
        }
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.cookie_secret);
        let tag = ring::hmac::sign(&key, &c);
        c.extend_from_slice(&tag.as_ref()[..32]);
        c
    }

    fn on_cookie_echo(&mut self, now: Instant, verification_tag: u32, cookie: &[u8]) {
        if cookie.len() != COOKIE_LEN || verification_tag != self.my_tag {
            return;
        }
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.cookie_secret);
        if ring::hmac::verify(&key, &cookie[..24], &cookie[24..]).is_err() {
            return;
        }
        let field = |i: usize| u32::from_be_bytes([cookie[i], cookie[i + 1], cookie[i + 2], cookie[i + 3]]);
        if field(12) != self.my_tag || field(16) != self.initial_tsn {
            return;
        }
        if self.state != AssociationState::Established {
            self.peer_tag = field(0);
            self.receiver.start(field(4));
            self.peer_rwnd = field(8);
            self.peer_request_seq = field(4);
            self.set_peer_extensions(field(20));
            self.established();
        }
        let ack = self.packet(self.peer_tag, &[Chunk::CookieAck]);
        self.transmits.push_back(ack);
        let _ = now;
    }

    fn on_init_ack(&mut self, now: Instant, init: &Init<'_>) {
        if self.state != AssociationState::CookieWait {
            return;
        }
        let cookie = init.params().map_while(Result::ok).find_map(|p| match p {
            Param::StateCookie(c) => Some(c.to_vec()),
            _ => None,
        });
        let Some(cookie) = cookie else { return };
        self.peer_tag = init.initiate_tag;
        self.receiver.start(init.initial_tsn);
        self.peer_rwnd = init.a_rwnd;
        self.peer_request_seq = init.initial_tsn;
        self.set_peer_extensions(Self::peer_extensions(init));
        let packet = self.packet(self.peer_tag, &[Chunk::CookieEcho(&cookie)]);
        // T1-cookie has its own Max.Init.Retransmits budget (RFC 9260
        // section 5.1 C).
        self.init_retransmits = 0;
        self.init_packet = Some(packet.clone());
        self.init_timer = Some(now + self.rto);
        self.transmits.push_back(packet);
        self.state = AssociationState::CookieEchoed;
    }

    fn on_sack(&mut self, now: Instant, sack: &Sack<'_>) {
        let Some(acked) = self
            .queue
            .on_sack(now, sack.cumulative_tsn_ack, sack.gap_blocks())
        else {
            // Older than a SACK already processed (reordered).
            return;
        };
        self.peer_rwnd = sack.a_rwnd;
        self.stats.fast_retransmits += acked.fast_retransmits;
        if acked.bytes > 0 || acked.cum_advanced {
            self.error_count = 0;
        }
        // RFC 3758 section 3.5 C3: the peer has not skipped what we gave
        // up yet: tell it (again).
        self.forward_tsn_due |= self.queue.forward_pending();
        if let Some(rtt) = acked.rtt {
            self.update_rto(rtt);
        } else if acked.bytes > 0 || acked.cum_advanced {
            // The path works again: drop the T3 back-off even without a
            // fresh sample (all acknowledged chunks were retransmissions),
            // as Linux does; otherwise a lossy tail keeps the RTO at its
            // maximum long after the loss.
            self.rto = self.computed_rto();
        }
        let flight = self.queue.flight();
        self.cc.on_ack(now, acked.bytes, acked.newest, acked.rtt, flight);
        // T3 also guards a FORWARD-TSN the peer has not acted on yet.
        self.t3 = if flight > 0 || self.queue.forward_pending() || self.queue.has_retransmits() {
            if acked.bytes > 0 || self.t3.is_none() {
                Some(now + self.rto)
            } else {
                self.t3
            }
        } else {
            None
        };
    }

    fn update_rto(&mut self, rtt: Duration) {
        // RFC 9260 section 6.3.1.
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                let diff = srtt.abs_diff(rtt);
                self.rttvar = self.rttvar * 3 / 4 + diff / 4;
                self.srtt = Some(srtt * 7 / 8 + rtt / 8);
            }
        }
        self.rto = self.computed_rto();
    }

    /// RTO = SRTT + 4 RTTVAR, within the configured bounds.
    fn computed_rto(&self) -> Duration {
        let Some(srtt) = self.srtt else {
            return self.config.rto_initial;
        };
        (srtt + (self.rttvar * 4).max(Duration::from_millis(1)))
            .clamp(self.config.rto_min, self.config.rto_max)
    }

    /// Sends what the congestion and receive windows and pacing allow: a
    /// SACK if due, retransmissions first, then new data, bundled into
    /// MTU-sized packets.
    fn flush(&mut self, now: Instant) {
        self.send_pending = false;
        if self.recycled.len() > self.recycled_cap() {
            // Sent all: the buffers of the transfer wait no more.
            self.recycled.truncate(MAX_IDLE_RECYCLED_BUFFERS);
            self.recycled.shrink_to_fit();
        }
        if !self.transferring() {
            return;
        }
        let control_due = self.sack_due || (self.forward_tsn_due && self.peer_supports_pr);
        if !control_due && !self.queue.has_sendable() {
            self.send_reset_request(now);
            return;
        }
        let mut writer = self.data_writer();
        if self.sack_due {
            let max_blocks = self.config.mtu.saturating_sub(COMMON_HEADER_LEN + 16 + 64) / 4;
            let gaps = self.receiver.gap_blocks(max_blocks);
            let dups = self.receiver.take_duplicates();
            let sack = Sack::new(
                self.receiver.cumulative_tsn(),
                self.receiver.a_rwnd(),
                &gaps,
                &dups,
            );
            let _ = writer.push(&Chunk::Sack(sack));
            self.sack_due = false;
            self.sack_timer = None;
        }
        self.push_forward_tsn(&mut writer);
        let window = self.cc.cwnd().min(self.peer_rwnd as usize);
        let mut ran_out = true;
        let interleaved = self.queue.interleaved();
        while let Some((i, last)) = self.queue.next_to_send(now, self.peer_supports_pr) {
            let Some(o) = self.queue.get(i) else {
                break;
            };
            // Partial reliability: too old, or retransmitted enough.
            if self.peer_supports_pr && o.expired(now) {
                self.queue.abandon(i);
                self.forward_tsn_due |= self.queue.forward_pending();
                continue;
            }
            let flight = self.queue.flight();
            if flight + o.payload.len() > window && flight > 0 {
                ran_out = false;
                break;
            }
            if let Some(at) = self.cc.pacing_delay(now) {
                self.pacing_timer = Some(at);
                ran_out = false;
                break;
            }
            let first_time = o.transmissions == 0;
            let len = o.payload.len();
            // The last chunk queued asks for an immediate SACK (RFC 7053),
            // so a lone message is not held by delayed SACK.
            let chunk = if interleaved {
                Chunk::IData(IDataChunk {
                    tsn: o.tsn,
                    stream_id: o.stream_id,
                    mid: o.mid,
                    ppid_or_fsn: if o.beginning { o.ppid } else { o.fsn },
                    unordered: o.unordered,
                    beginning: o.beginning,
                    ending: o.ending,
                    immediate: last,
                    payload: &o.payload,
                })
            } else {
                Chunk::Data(DataChunk {
                    tsn: o.tsn,
                    stream_id: o.stream_id,
                    ssn: o.mid as u16,
                    ppid: o.ppid,
                    unordered: o.unordered,
                    beginning: o.beginning,
                    ending: o.ending,
                    immediate: last,
                    payload: &o.payload,
                })
            };
            if !writer.push(&chunk).unwrap_or(false) {
                if writer.is_empty() {
                    break;
                }
                // (`data_writer`, written out: `o` borrows the queue.)
                let buf = self.recycled.pop().unwrap_or_default();
                let fresh = PacketWriter::with_buffer(
                    buf,
                    self.header(self.peer_tag),
                    self.config.mtu,
                    self.config.headroom,
                );
                let full = std::mem::replace(&mut writer, fresh);
                self.transmits
                    .push_back(full.into_packet(self.send_zero_checksum));
                if !writer.push(&chunk).unwrap_or(false) {
                    break;
                }
            }
            let stamp = self.cc.on_send(now, flight, len + DATA_HEADER_LEN);
            self.queue.mark_sent(i, now, stamp);
            if first_time {
                self.stats.data_chunks_sent += 1;
            }
            if self.t3.is_none() {
                self.t3 = Some(now + self.rto);
            }
        }
        // Abandoned while flushing: the FORWARD-TSN goes right away.
        self.push_forward_tsn(&mut writer);
        if self.t3.is_none() && self.queue.forward_pending() {
            self.t3 = Some(now + self.rto);
        }
        if ran_out && self.queue.flight() < window {
            self.cc.on_app_limited(self.queue.flight());
        }
        if writer.is_empty() {
            self.recycle(writer.into_buffer());
        } else {
            self.transmits
                .push_back(writer.into_packet(self.send_zero_checksum));
        }
        // Stream resets that waited for their streams' data to get TSNs.
        self.send_reset_request(now);
    }

    /// Adds a FORWARD-TSN if one is due (alone in a packet if it does not
    /// fit in `writer`).
    fn push_forward_tsn(&mut self, writer: &mut PacketWriter) {
        if !(self.forward_tsn_due && self.peer_supports_pr) {
            return;
        }
        self.forward_tsn_due = false;
        let (new_cumulative_tsn, streams) = self.queue.forward_tsn();
        let mut list = Vec::with_capacity(streams.len() * 8);
        let chunk = if self.queue.interleaved() {
            crate::chunk::encode_i_forward_tsn_streams(&streams, &mut list);
            Chunk::IForwardTsn {
                new_cumulative_tsn,
                streams: &list,
            }
        } else {
            let ordered: Vec<(u16, u16)> = streams.iter().map(|&(s, _, ssn)| (s, ssn as u16)).collect();
            crate::chunk::encode_forward_tsn_streams(&ordered, &mut list);
            Chunk::ForwardTsn {
                new_cumulative_tsn,
                streams: &list,
            }
        };
        if !writer.push(&chunk).unwrap_or(false) {
            let packet = self.packet(self.peer_tag, &[chunk]);
            self.transmits.push_back(packet);
        }
    }

    fn header(&self, tag: u32) -> CommonHeader {
        CommonHeader {
            source_port: self.config.port,
            destination_port: self.config.remote_port,
            verification_tag: tag,
            checksum: 0,
        }
    }

    fn packet(&self, tag: u32, chunks: &[Chunk<'_>]) -> Vec<u8> {
        let mut writer = PacketWriter::new(self.header(tag), self.config.mtu.max(1500), self.config.headroom);
        for c in chunks {
            let _ = writer.push(c);
        }
        // The handshake always carries a real CRC32c (RFC 9653 section 5.2).
        let handshake = matches!(
            chunks.first(),
            Some(Chunk::Init(_) | Chunk::InitAck(_) | Chunk::CookieEcho(_))
        );
        writer.into_packet(self.send_zero_checksum && !handshake)
    }
}
