//! The SCTP association (RFC 9260): the four-way handshake with a stateless
//! cookie, reliable ordered and unordered DATA with SACKs, retransmission
//! on the T3 timer and by fast retransmit, and congestion control.
//!
//! In progress: partial reliability (FORWARD-TSN), stream reconfiguration,
//! I-DATA and the SHUTDOWN sequence are not written yet.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::cc::{Controller, SendStamp};
use crate::chunk::{Chunk, DataChunk, Init, Sack};
use crate::error::Error;
use crate::packet::{COMMON_HEADER_LEN, CommonHeader, PacketWriter, parse_packet};
use crate::param::Param;

/// Settings of an association.
#[derive(Debug, Clone)]
pub struct SctpConfig {
    /// Our SCTP port; WebRTC uses 5000 (`a=sctp-port`).
    pub port: u16,
    /// The peer's SCTP port; WebRTC uses 5000 on both sides.
    pub remote_port: u16,
    /// Largest packet handed to the lower layer (DTLS). Default 1200.
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
    /// Give up after this many retransmissions of INIT or COOKIE-ECHO.
    /// Default 8.
    pub max_init_retransmits: u32,
    /// Seed for tags and initial TSNs; `None` draws from the system.
    pub seed: Option<u64>,
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
            max_init_retransmits: 8,
            seed: None,
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
}

/// A fragment of a message waiting for its first transmission or for an
/// acknowledgement.
#[derive(Debug, Clone)]
struct Outstanding {
    tsn: u32,
    stream_id: u16,
    ssn: u16,
    ppid: u32,
    unordered: bool,
    beginning: bool,
    ending: bool,
    payload: Vec<u8>,
    /// When it was last sent; `None` before its first transmission.
    sent_at: Option<Instant>,
    transmissions: u32,
    /// Reported missing by this many SACKs (fast retransmit at 3).
    missing_reports: u32,
    /// What congestion control noted when it was last sent.
    stamp: Option<SendStamp>,
    acked: bool,
    retransmit: bool,
}

/// A message being reassembled.
#[derive(Debug, Default)]
struct Partial {
    data: Vec<u8>,
    ppid: u32,
}

/// Per-stream receive state for ordered delivery.
#[derive(Debug, Default)]
struct InStream {
    next_ssn: u16,
    /// Complete ordered messages waiting for their turn, by SSN.
    waiting: BTreeMap<u16, SctpMessage>,
}

/// T2-shutdown expiries before the association is given up
/// (Association.Max.Retrans, RFC 9260 section 16).
const MAX_SHUTDOWN_RETRANSMITS: u32 = 10;

/// Most out-of-order TSNs remembered for gap reports.
const MAX_GAPS: usize = 4096;

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
    next_tsn: u32,
    next_ssn: BTreeMap<u16, u16>,
    outstanding: VecDeque<Outstanding>,
    queued_bytes: usize,
    peer_rwnd: u32,
    cc: Controller,
    /// When pacing lets the next packet leave.
    pacing_timer: Option<Instant>,
    flight_bytes: usize,
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
    // Receiving.
    cumulative_tsn: u32,
    received_ahead: BTreeMap<u32, DataFragment>,
    duplicates: Vec<u32>,
    sack_due: bool,
    /// Delayed SACK: when it must go at the latest.
    sack_timer: Option<Instant>,
    partial: BTreeMap<(u16, bool, u16), Partial>,
    in_streams: BTreeMap<u16, InStream>,
    stats: SctpStats,
    // Outputs.
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<SctpEvent>,
}

/// A received fragment kept until the cumulative TSN reaches it.
#[derive(Debug, Clone)]
struct DataFragment {
    stream_id: u16,
    ssn: u16,
    ppid: u32,
    unordered: bool,
    beginning: bool,
    ending: bool,
    payload: Vec<u8>,
}

/// Size of a DATA chunk header.
const DATA_HEADER_LEN: usize = 16;

impl Association {
    /// A new association; the client side calls [`connect`](Association::connect),
    /// the other waits for INIT.
    pub fn new(config: SctpConfig) -> Association {
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
            next_tsn: 0,
            next_ssn: BTreeMap::new(),
            outstanding: VecDeque::new(),
            queued_bytes: 0,
            peer_rwnd: 0,
            flight_bytes: 0,
            srtt: None,
            rttvar: Duration::ZERO,
            t3: None,
            t2: None,
            t2_retransmits: 0,
            init_packet: None,
            init_timer: None,
            init_retransmits: 0,
            cumulative_tsn: 0,
            received_ahead: BTreeMap::new(),
            duplicates: Vec::new(),
            sack_due: false,
            sack_timer: None,
            partial: BTreeMap::new(),
            in_streams: BTreeMap::new(),
            stats: SctpStats::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        a.my_tag = a.random_nonzero();
        a.next_tsn = a.random_nonzero();
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

    /// Client: sends INIT.
    pub fn connect(&mut self, now: Instant) {
        if self.state != AssociationState::Closed {
            return;
        }
        let init = Init {
            initiate_tag: self.my_tag,
            a_rwnd: self.config.receive_window,
            outbound_streams: u16::MAX,
            inbound_streams: u16::MAX,
            initial_tsn: self.next_tsn,
            params: &[],
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
        if self.state != AssociationState::Established {
            return Err(Error::NotEstablished);
        }
        if data.is_empty() {
            return Err(Error::EmptyMessage);
        }
        if data.len() > self.config.max_message_size {
            return Err(Error::TooLarge("message larger than max-message-size"));
        }
        if self.queued_bytes + data.len() > self.config.send_buffer {
            return Err(Error::SendBufferFull);
        }
        let ssn = if unordered {
            0
        } else {
            let next = self.next_ssn.entry(stream_id).or_insert(0);
            let ssn = *next;
            *next = next.wrapping_add(1);
            ssn
        };
        let max_payload = self
            .config
            .mtu
            .saturating_sub(COMMON_HEADER_LEN + DATA_HEADER_LEN)
            .max(1);
        let pieces: Vec<&[u8]> = data.chunks(max_payload).collect();
        let last = pieces.len() - 1;
        for (i, piece) in pieces.into_iter().enumerate() {
            let tsn = self.next_tsn;
            self.next_tsn = self.next_tsn.wrapping_add(1);
            self.outstanding.push_back(Outstanding {
                tsn,
                stream_id,
                ssn,
                ppid,
                unordered,
                beginning: i == 0,
                ending: i == last,
                payload: piece.to_vec(),
                sent_at: None,
                transmissions: 0,
                missing_reports: 0,
                stamp: None,
                acked: false,
                retransmit: false,
            });
            self.queued_bytes += piece.len();
        }
        self.flush(now);
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
        if !self.outstanding.is_empty() {
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
                cumulative_tsn_ack: self.cumulative_tsn,
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
            flight_bytes: self.flight_bytes,
            peer_rwnd: self.peer_rwnd,
            srtt: self.srtt,
            rto: self.rto,
            bandwidth: self.cc.bandwidth(),
            ..self.stats.clone()
        }
    }

    /// Bytes queued and not yet acknowledged.
    pub fn buffered_amount(&self) -> usize {
        self.queued_bytes
    }

    /// The next packet to hand to DTLS.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SctpEvent> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Association::handle_timeout).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.init_timer,
            self.t3,
            self.t2,
            self.sack_timer,
            self.pacing_timer,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs expired timers: INIT/COOKIE-ECHO retransmission, T3-rtx,
    /// T2-shutdown, the delayed SACK and pacing.
    pub fn handle_timeout(&mut self, now: Instant) {
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
            for o in self
                .outstanding
                .iter_mut()
                .filter(|o| o.sent_at.is_some() && !o.acked)
            {
                o.retransmit = true;
            }
            self.flight_bytes = 0;
            self.t3 = None;
            flush = true;
        }
        if flush {
            self.flush(now);
        }
    }

    /// Handles one SCTP packet from the lower layer.
    pub fn handle_receive(&mut self, now: Instant, packet: &[u8]) {
        if self.state == AssociationState::Aborted {
            return;
        }
        let Ok((header, chunks)) = parse_packet(packet, false) else {
            return;
        };
        let chunks: Vec<Chunk<'_>> = chunks.map_while(Result::ok).collect();
        let is_init = matches!(chunks.first(), Some(Chunk::Init(_)));
        // RFC 9260 section 8.5: the verification tag must be ours, except
        // on INIT (tag 0) and a few cases we do not need yet.
        if is_init {
            if header.verification_tag != 0 {
                return;
            }
        } else if header.verification_tag != self.my_tag
            && !matches!(chunks.first(), Some(Chunk::CookieEcho(_)))
            // T bit: the sender reflected our peer's tag (section 8.5.1).
            && !(header.verification_tag == self.peer_tag
                && matches!(
                    chunks.first(),
                    Some(Chunk::ShutdownComplete { t_bit: true } | Chunk::Abort { t_bit: true, .. })
                ))
        {
            return;
        }
        let mut got_data = false;
        let mut immediate = false;
        for chunk in &chunks {
            match chunk {
                Chunk::Init(init) => self.on_init(init),
                Chunk::InitAck(init) => self.on_init_ack(now, init),
                Chunk::CookieEcho(cookie) => self.on_cookie_echo(now, header.verification_tag, cookie),
                Chunk::CookieAck if self.state == AssociationState::CookieEchoed => {
                    self.init_timer = None;
                    self.init_packet = None;
                    self.rto = self.config.rto_initial;
                    self.established();
                }
                // RFC 9260 section 9.2: after receiving SHUTDOWN the peer
                // sends no new DATA, so none is accepted then.
                Chunk::Data(d) if self.transferring() && self.state != AssociationState::ShutdownReceived => {
                    got_data = true;
                    immediate |= d.immediate;
                    self.on_data(d);
                }
                Chunk::Sack(s) if self.transferring() => self.on_sack(now, s),
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
                Chunk::Heartbeat(info) => {
                    let ack = self.packet(self.peer_tag, &[Chunk::HeartbeatAck(info)]);
                    self.transmits.push_back(ack);
                }
                Chunk::Abort { .. } => {
                    self.state = AssociationState::Aborted;
                    self.events.push_back(SctpEvent::Aborted);
                    return;
                }
                _ => {}
            }
        }
        self.deliver();
        if got_data {
            // RFC 9260 section 6.2: acknowledge at least every second
            // packet, within `sack_delay`, and at once when something is
            // missing or duplicated, when the sender asks (the I bit, RFC
            // 7053), or while shutting down.
            if self.sack_timer.is_some()
                || immediate
                || !self.received_ahead.is_empty()
                || !self.duplicates.is_empty()
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
        self.state = AssociationState::Closed;
        self.t2 = None;
        self.t3 = None;
        self.init_timer = None;
        self.events.push_back(SctpEvent::Closed);
    }

    fn established(&mut self) {
        self.state = AssociationState::Established;
        self.events.push_back(SctpEvent::Connected);
    }

    fn abort_locally(&mut self) {
        self.state = AssociationState::Aborted;
        self.init_timer = None;
        self.t3 = None;
        self.t2 = None;
        self.events.push_back(SctpEvent::Aborted);
    }

    /// Server: answers INIT statelessly with an INIT-ACK whose cookie holds
    /// everything needed later, signed (RFC 9260 section 5.1.3).
    fn on_init(&mut self, init: &Init<'_>) {
        let cookie = self.make_cookie(init.initiate_tag, init.initial_tsn, init.a_rwnd);
        let mut params = Vec::new();
        crate::param::write_param(&Param::StateCookie(&cookie), &mut params);
        let ack = Init {
            initiate_tag: self.my_tag,
            a_rwnd: self.config.receive_window,
            outbound_streams: u16::MAX,
            inbound_streams: u16::MAX,
            initial_tsn: self.next_tsn,
            params: &params,
        };
        let packet = self.packet(init.initiate_tag, &[Chunk::InitAck(ack)]);
        self.transmits.push_back(packet);
    }

    /// Cookie: peer tag, peer initial TSN, peer window, our tag, our initial
    /// TSN, then an HMAC-SHA256 over them.
    fn make_cookie(&self, peer_tag: u32, peer_tsn: u32, peer_rwnd: u32) -> Vec<u8> {
        let mut c = Vec::with_capacity(52);
        for v in [peer_tag, peer_tsn, peer_rwnd, self.my_tag, self.next_tsn] {
            c.extend_from_slice(&v.to_be_bytes());
        }
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.cookie_secret);
        let tag = ring::hmac::sign(&key, &c);
        c.extend_from_slice(&tag.as_ref()[..32]);
        c
    }

    fn on_cookie_echo(&mut self, now: Instant, verification_tag: u32, cookie: &[u8]) {
        if cookie.len() != 52 || verification_tag != self.my_tag {
            return;
        }
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.cookie_secret);
        if ring::hmac::verify(&key, &cookie[..20], &cookie[20..]).is_err() {
            return;
        }
        let field = |i: usize| u32::from_be_bytes([cookie[i], cookie[i + 1], cookie[i + 2], cookie[i + 3]]);
        if field(12) != self.my_tag || field(16) != self.next_tsn {
            return;
        }
        if self.state != AssociationState::Established {
            self.peer_tag = field(0);
            self.cumulative_tsn = field(4).wrapping_sub(1);
            self.peer_rwnd = field(8);
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
        self.cumulative_tsn = init.initial_tsn.wrapping_sub(1);
        self.peer_rwnd = init.a_rwnd;
        let packet = self.packet(self.peer_tag, &[Chunk::CookieEcho(&cookie)]);
        self.init_packet = Some(packet.clone());
        self.init_timer = Some(now + self.rto);
        self.transmits.push_back(packet);
        self.state = AssociationState::CookieEchoed;
    }

    fn on_data(&mut self, d: &DataChunk<'_>) {
        let offset = d.tsn.wrapping_sub(self.cumulative_tsn);
        // Already received (at or below the cumulative TSN), or a duplicate.
        if offset == 0 || offset > u32::MAX / 2 || self.received_ahead.contains_key(&d.tsn) {
            self.stats.duplicates_received += 1;
            if self.duplicates.len() < 16 {
                self.duplicates.push(d.tsn);
            }
            return;
        }
        if self.received_ahead.len() >= MAX_GAPS {
            return;
        }
        self.received_ahead.insert(
            d.tsn,
            DataFragment {
                stream_id: d.stream_id,
                ssn: d.ssn,
                ppid: d.ppid,
                unordered: d.unordered,
                beginning: d.beginning,
                ending: d.ending,
                payload: d.payload.to_vec(),
            },
        );
    }

    /// Moves the cumulative TSN forward and assembles whole messages.
    fn deliver(&mut self) {
        loop {
            let next = self.cumulative_tsn.wrapping_add(1);
            let Some(frag) = self.received_ahead.remove(&next) else {
                break;
            };
            self.cumulative_tsn = next;
            let key = (frag.stream_id, frag.unordered, frag.ssn);
            let partial = self.partial.entry(key).or_default();
            if frag.beginning {
                partial.data.clear();
                partial.ppid = frag.ppid;
            }
            partial.data.extend_from_slice(&frag.payload);
            if !frag.ending {
                continue;
            }
            let Some(done) = self.partial.remove(&key) else {
                continue;
            };
            let message = SctpMessage {
                stream_id: frag.stream_id,
                ppid: done.ppid,
                data: done.data,
            };
            if frag.unordered {
                self.events.push_back(SctpEvent::Message(message));
                continue;
            }
            let stream = self.in_streams.entry(frag.stream_id).or_default();
            stream.waiting.insert(frag.ssn, message);
            while let Some(m) = stream.waiting.remove(&stream.next_ssn) {
                stream.next_ssn = stream.next_ssn.wrapping_add(1);
                self.events.push_back(SctpEvent::Message(m));
            }
        }
    }

    fn on_sack(&mut self, now: Instant, sack: &Sack<'_>) {
        let cum = sack.cumulative_tsn_ack;
        // A SACK from before the last one (reordered) says nothing new.
        if self
            .outstanding
            .front()
            .is_some_and(|f| tsn_gt(f.tsn.wrapping_sub(1), cum))
        {
            return;
        }
        self.peer_rwnd = sack.a_rwnd;
        let mut acked_bytes = 0;
        let mut rtt_sample = None;
        let mut newest: Option<SendStamp> = None;
        let mut note = |o: &Outstanding, acked_bytes: &mut usize| {
            *acked_bytes += o.payload.len();
            if let Some(stamp) = o.stamp {
                // The RTT from the most recently sent chunk, unless it was
                // retransmitted (Karn's rule: which copy was acknowledged?).
                if newest.is_none_or(|n| stamp.sent_after(&n)) {
                    newest = Some(stamp);
                    rtt_sample = (o.transmissions == 1)
                        .then(|| o.sent_at.map(|t| now.saturating_duration_since(t)))
                        .flatten();
                }
            }
        };
        // Cumulatively acknowledged.
        while let Some(front) = self.outstanding.front() {
            if front.sent_at.is_none() || tsn_gt(front.tsn, cum) {
                break;
            }
            let Some(o) = self.outstanding.pop_front() else {
                break;
            };
            if !o.acked {
                note(&o, &mut acked_bytes);
            }
            self.queued_bytes -= o.payload.len();
        }
        // Gap blocks: acknowledged out of order; the others below the
        // highest acknowledged TSN are reported missing.
        // RFC 9260 section 7.2.4: a TSN counts as missing only when a later
        // TSN was *newly* acknowledged by this SACK, so duplicated or
        // reordered SACKs do not trigger spurious fast retransmits.
        let mut highest_newly_acked: Option<usize> = None;
        for (start, end) in sack.gap_blocks() {
            let first = cum.wrapping_add(u32::from(start));
            let Some(front) = self.outstanding.front().map(|o| o.tsn) else {
                break;
            };
            let from = first.wrapping_sub(front) as usize;
            let Some(span) = end.checked_sub(start) else {
                continue;
            };
            let to = from
                .saturating_add(usize::from(span) + 1)
                .min(self.outstanding.len());
            for i in from.min(to)..to {
                let o = &mut self.outstanding[i];
                if o.acked || o.sent_at.is_none() {
                    continue;
                }
                o.acked = true;
                note(o, &mut acked_bytes);
                highest_newly_acked = Some(highest_newly_acked.map_or(i, |h| h.max(i)));
            }
        }
        if let Some(highest) = highest_newly_acked {
            // Only a chunk sent after this one's latest transmission says
            // it is missing: a retransmission is not reported lost by
            // acknowledgements of what was sent before it.
            let highest_sent = self.outstanding[highest].sent_at;
            for o in self.outstanding.range_mut(..highest) {
                if o.sent_at.is_some() && o.sent_at <= highest_sent && !o.acked && !o.retransmit {
                    o.missing_reports += 1;
                    if o.missing_reports == 3 {
                        o.retransmit = true;
                        self.stats.fast_retransmits += 1;
                    }
                }
            }
        }
        if let Some(rtt) = rtt_sample {
            self.update_rto(rtt);
        }
        self.flight_bytes = self
            .outstanding
            .iter()
            .take_while(|o| o.sent_at.is_some())
            .filter(|o| !o.acked && !o.retransmit)
            .map(|o| o.payload.len())
            .sum();
        self.cc
            .on_ack(now, acked_bytes, newest, rtt_sample, self.flight_bytes);
        self.t3 = if self.flight_bytes > 0 || self.outstanding.iter().any(|o| o.retransmit) {
            if acked_bytes > 0 || self.t3.is_none() {
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
        let rto = self.srtt.unwrap_or(rtt) + (self.rttvar * 4).max(Duration::from_millis(1));
        self.rto = rto.clamp(self.config.rto_min, self.config.rto_max);
    }

    /// Sends what the congestion and receive windows and pacing allow: a
    /// SACK if due, retransmissions first, then new data, bundled into
    /// MTU-sized packets.
    fn flush(&mut self, now: Instant) {
        if !self.transferring() {
            return;
        }
        let mut writer = PacketWriter::new(self.header(self.peer_tag), self.config.mtu);
        if self.sack_due {
            let gaps = self.gap_blocks();
            let dups: Vec<u8> = self.duplicates.drain(..).flat_map(u32::to_be_bytes).collect();
            let a_rwnd = self
                .config
                .receive_window
                .saturating_sub(self.buffered_receive() as u32);
            let sack = Sack::new(self.cumulative_tsn, a_rwnd, &gaps, &dups);
            let _ = writer.push(&Chunk::Sack(sack));
            self.sack_due = false;
            self.sack_timer = None;
        }
        let window = self.cc.cwnd().min(self.peer_rwnd as usize);
        let mut ran_out = true;
        for i in 0..self.outstanding.len() {
            let o = &self.outstanding[i];
            let first_time = o.sent_at.is_none();
            if o.acked || !(first_time || o.retransmit) {
                continue;
            }
            if self.flight_bytes + o.payload.len() > window && self.flight_bytes > 0 {
                ran_out = false;
                break;
            }
            if let Some(at) = self.cc.pacing_delay(now) {
                self.pacing_timer = Some(at);
                ran_out = false;
                break;
            }
            let chunk = Chunk::Data(DataChunk {
                tsn: o.tsn,
                stream_id: o.stream_id,
                ssn: o.ssn,
                ppid: o.ppid,
                unordered: o.unordered,
                beginning: o.beginning,
                ending: o.ending,
                // The last chunk queued asks for an immediate SACK (RFC
                // 7053), so a lone message is not held by delayed SACK.
                immediate: i + 1 == self.outstanding.len(),
                payload: &o.payload,
            });
            let fits = writer.push(&chunk).unwrap_or(false);
            if !fits {
                if writer.is_empty() {
                    break;
                }
                let packet = writer.finish(false).to_vec();
                self.transmits.push_back(packet);
                writer = PacketWriter::new(self.header(self.peer_tag), self.config.mtu);
                if !writer.push(&chunk).unwrap_or(false) {
                    break;
                }
            }
            let len = o.payload.len();
            let stamp = self.cc.on_send(now, self.flight_bytes, len + DATA_HEADER_LEN);
            let o = &mut self.outstanding[i];
            o.stamp = Some(stamp);
            o.sent_at = Some(now);
            if o.transmissions == 0 {
                self.stats.data_chunks_sent += 1;
            }
            o.transmissions += 1;
            o.retransmit = false;
            o.missing_reports = 0;
            self.flight_bytes += len;
            if self.t3.is_none() {
                self.t3 = Some(now + self.rto);
            }
        }
        if ran_out && self.flight_bytes < window {
            self.cc.on_app_limited(self.flight_bytes);
        }
        if !writer.is_empty() {
            let packet = writer.finish(false).to_vec();
            self.transmits.push_back(packet);
        }
    }

    fn buffered_receive(&self) -> usize {
        self.received_ahead
            .values()
            .map(|f| f.payload.len())
            .sum::<usize>()
            + self.partial.values().map(|p| p.data.len()).sum::<usize>()
    }

    /// Gap ack blocks, relative to the cumulative TSN: as many as fit in a
    /// packet with the SACK's 16 header bytes and room for 16 duplicate
    /// TSNs. Reporting every block matters: a block reported late looks to
    /// the sender like a burst of deliveries.
    fn gap_blocks(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut current: Option<(u16, u16)> = None;
        let mut blocks = 0;
        let max_blocks = self.config.mtu.saturating_sub(COMMON_HEADER_LEN + 16 + 64) / 4;
        for &tsn in self.received_ahead.keys() {
            let off = tsn.wrapping_sub(self.cumulative_tsn);
            if off > u32::from(u16::MAX) {
                break;
            }
            let off = off as u16;
            current = match current {
                Some((s, e)) if e.wrapping_add(1) == off => Some((s, off)),
                Some((s, e)) => {
                    out.extend_from_slice(&s.to_be_bytes());
                    out.extend_from_slice(&e.to_be_bytes());
                    blocks += 1;
                    if blocks == max_blocks {
                        return out;
                    }
                    Some((off, off))
                }
                None => Some((off, off)),
            };
        }
        if let Some((s, e)) = current {
            out.extend_from_slice(&s.to_be_bytes());
            out.extend_from_slice(&e.to_be_bytes());
        }
        out
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
        let mut writer = PacketWriter::new(self.header(tag), self.config.mtu.max(1500));
        for c in chunks {
            let _ = writer.push(c);
        }
        writer.finish(false).to_vec()
    }
}

/// Serial number arithmetic on TSNs (RFC 1982): whether `a` comes after `b`.
fn tsn_gt(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < (1 << 31)
}
