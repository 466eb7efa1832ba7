//! WebRTC data channels (RFC 8831) on an SCTP association, opened in band
//! with DCEP (RFC 8832) or negotiated out of band with a fixed stream id.
//!
//! [`DataChannels`] owns the [`Association`] and is driven the same way:
//! packets in with [`handle_receive`](DataChannels::handle_receive), timers
//! with [`handle_timeout`](DataChannels::handle_timeout), packets out with
//! [`poll_transmit`](DataChannels::poll_transmit), and
//! [`ChannelEvent`]s from [`poll_event`](DataChannels::poll_event).
//!
//! - Stream ids: the DTLS client opens even ids, the server odd ones (RFC
//!   8832 section 6), so both can open channels at once without clashing.
//! - Messages: text and binary with their PPIDs; empty messages travel as
//!   one byte with the `*_EMPTY` PPIDs (RFC 8831 section 6.6).
//! - Closing resets the channel's stream in both directions (RFC 8831
//!   section 6.7); the id can be used again once [`ChannelEvent::Closed`]
//!   was reported.
//! - `buffered_amount` per channel, with a low-threshold event; a send that
//!   does not fit the association's send buffer fails with
//!   [`Error::SendBufferFull`] (never dropped silently).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use crate::association::{Association, Payload, SctpEvent, SendOptions};
use crate::dcep::{ChannelType, DataChannelOpen, DcepMessage, ppid};
use crate::error::Error;

/// Most channels open at once. Stream ids are 16 bits; each side uses half.
pub const MAX_CHANNELS: usize = 65_534;

/// Most events waiting to be polled before incoming messages are dropped
/// (and counted); the owner polls after every input.
pub const MAX_PENDING_EVENTS: usize = 65_536;

/// How a channel is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelOptions {
    /// In-order delivery (default true).
    pub ordered: bool,
    /// Partial reliability: retransmit each message at most this often.
    pub max_retransmits: Option<u16>,
    /// Partial reliability: give a message up after this many
    /// milliseconds. Exclusive with `max_retransmits`.
    pub max_packet_life_time: Option<u16>,
    /// Sub-protocol name.
    pub protocol: String,
    /// Negotiated out of band with this stream id: no DCEP, the channel is
    /// open at once (both sides must create it).
    pub negotiated: Option<u16>,
    /// DCEP priority (256 is normal).
    pub priority: u16,
}

impl Default for ChannelOptions {
    fn default() -> Self {
        ChannelOptions {
            ordered: true,
            max_retransmits: None,
            max_packet_life_time: None,
            protocol: String::new(),
            negotiated: None,
            priority: 256,
        }
    }
}

impl ChannelOptions {
    fn channel_type(&self) -> ChannelType {
        match (self.ordered, self.max_retransmits, self.max_packet_life_time) {
            (true, Some(n), _) => ChannelType::PartialReliableRexmit(u32::from(n)),
            (false, Some(n), _) => ChannelType::PartialReliableRexmitUnordered(u32::from(n)),
            (true, None, Some(ms)) => ChannelType::PartialReliableTimed(u32::from(ms)),
            (false, None, Some(ms)) => ChannelType::PartialReliableTimedUnordered(u32::from(ms)),
            (true, None, None) => ChannelType::Reliable,
            (false, None, None) => ChannelType::ReliableUnordered,
        }
    }

    fn from_open(open: &DataChannelOpen) -> ChannelOptions {
        let clamp = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
        let (max_retransmits, max_packet_life_time) = match open.channel_type {
            ChannelType::PartialReliableRexmit(n) | ChannelType::PartialReliableRexmitUnordered(n) => {
                (Some(clamp(n)), None)
            }
            ChannelType::PartialReliableTimed(n) | ChannelType::PartialReliableTimedUnordered(n) => {
                (None, Some(clamp(n)))
            }
            ChannelType::Reliable | ChannelType::ReliableUnordered => (None, None),
        };
        ChannelOptions {
            ordered: open.channel_type.is_ordered(),
            max_retransmits,
            max_packet_life_time,
            protocol: open.protocol.clone(),
            negotiated: None,
            priority: open.priority,
        }
    }
}

/// Where a channel is (W3C `RTCDataChannelState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelState {
    /// DATA_CHANNEL_OPEN sent, waiting for the ACK.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// One side started closing; queued messages are still delivered.
    Closing,
    /// Both directions of the stream are reset.
    Closed,
}

/// What the data-channel layer tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelEvent {
    /// The association is up: channels can be created.
    Connected,
    /// A channel opened: one we created was acknowledged, or the peer
    /// opened one.
    Open {
        /// Stream id.
        id: u16,
        /// The channel's label.
        label: String,
        /// Its sub-protocol.
        protocol: String,
        /// True when the peer opened it.
        remote: bool,
    },
    /// A message arrived.
    Message {
        /// Stream id.
        id: u16,
        /// The message (empty messages are really empty here).
        data: Vec<u8>,
        /// Binary (true) or text (false).
        binary: bool,
    },
    /// The channel's buffered amount fell to its low threshold or below.
    BufferedAmountLow(u16),
    /// The channel started closing (either side).
    Closing(u16),
    /// The channel is closed in both directions; its id is free again.
    Closed(u16),
    /// The association ended (aborted, or shut down).
    Disconnected,
}

#[derive(Debug)]
struct Channel {
    label: String,
    options: ChannelOptions,
    state: ChannelState,
    low_threshold: usize,
    /// Our outgoing stream was reset (or is being reset).
    reset_sent: bool,
    /// The peer reset its outgoing stream.
    reset_received: bool,
}

/// Data channels over one association.
#[derive(Debug)]
pub struct DataChannels {
    assoc: Association,
    /// DTLS client: opens even stream ids.
    dtls_client: bool,
    channels: BTreeMap<u16, Channel>,
    /// Channels whose buffered amount is above their low threshold.
    above_threshold: BTreeSet<u16>,
    events: VecDeque<ChannelEvent>,
    dropped_messages: u64,
}

impl DataChannels {
    /// Data channels on `assoc`; `dtls_client` decides the stream-id parity.
    pub fn new(assoc: Association, dtls_client: bool) -> DataChannels {
        DataChannels {
            assoc,
            dtls_client,
            channels: BTreeMap::new(),
            above_threshold: BTreeSet::new(),
            events: VecDeque::new(),
            dropped_messages: 0,
        }
    }

    /// The association underneath.
    pub fn association(&self) -> &Association {
        &self.assoc
    }

    /// The association underneath, for `connect`, `close` and statistics.
    pub fn association_mut(&mut self) -> &mut Association {
        &mut self.assoc
    }

    /// Messages dropped because events were not polled (see
    /// [`MAX_PENDING_EVENTS`]).
    pub fn dropped_messages(&self) -> u64 {
        self.dropped_messages
    }

    /// Creates a channel: sends DATA_CHANNEL_OPEN on the next free stream
    /// id of our parity, or uses the negotiated id. Returns the stream id.
    pub fn create(&mut self, now: Instant, label: &str, options: ChannelOptions) -> Result<u16, Error> {
        if self.channels.len() >= MAX_CHANNELS {
            return Err(Error::TooLarge("too many data channels"));
        }
        let id = match options.negotiated {
            Some(id) if self.channels.contains_key(&id) => {
                return Err(Error::ChannelIdInUse);
            }
            Some(id) => id,
            None => self.free_id().ok_or(Error::TooLarge("no free stream id"))?,
        };
        if options.negotiated.is_none() {
            let open = DcepMessage::Open(DataChannelOpen {
                channel_type: options.channel_type(),
                priority: options.priority,
                label: label.to_owned(),
                protocol: options.protocol.clone(),
            });
            let mut bytes = Vec::with_capacity(open.encoded_len());
            open.write(&mut bytes)?;
            // RFC 8832 section 6: DCEP messages go reliable and ordered.
            self.assoc.send(now, id, ppid::DCEP, &bytes, false)?;
        }
        let state = if options.negotiated.is_some() {
            ChannelState::Open
        } else {
            ChannelState::Connecting
        };
        if state == ChannelState::Open {
            self.events.push_back(ChannelEvent::Open {
                id,
                label: label.to_owned(),
                protocol: options.protocol.clone(),
                remote: false,
            });
        }
        self.channels.insert(
            id,
            Channel {
                label: label.to_owned(),
                options,
                state,
                low_threshold: 0,
                reset_sent: false,
                reset_received: false,
            },
        );
        Ok(id)
    }

    fn free_id(&self) -> Option<u16> {
        let first = if self.dtls_client { 0 } else { 1 };
        (first..=u16::MAX - 1)
            .step_by(2)
            .find(|id| !self.channels.contains_key(id))
    }

    /// A channel's state; `None` once closed and forgotten.
    pub fn state(&self, id: u16) -> Option<ChannelState> {
        self.channels.get(&id).map(|c| c.state)
    }

    /// A channel's label.
    pub fn label(&self, id: u16) -> Option<&str> {
        self.channels.get(&id).map(|c| c.label.as_str())
    }

    /// A channel's options (for channels the peer opened, as its
    /// DATA_CHANNEL_OPEN said).
    pub fn options(&self, id: u16) -> Option<&ChannelOptions> {
        self.channels.get(&id).map(|c| &c.options)
    }

    /// Ids of the channels not yet closed.
    pub fn ids(&self) -> impl Iterator<Item = u16> + '_ {
        self.channels.keys().copied()
    }

    /// Bytes sent on the channel and not yet acknowledged.
    pub fn buffered_amount(&self, id: u16) -> usize {
        self.assoc.stream_buffered_amount(id)
    }

    /// Sets the level at or below which [`ChannelEvent::BufferedAmountLow`]
    /// is reported (default 0).
    pub fn set_buffered_amount_low_threshold(&mut self, id: u16, threshold: usize) {
        if let Some(c) = self.channels.get_mut(&id) {
            c.low_threshold = threshold;
        }
    }

    /// Sends a text (`binary == false`) or binary message. Fails when the
    /// channel is not open (or connecting), the message exceeds
    /// max-message-size, or the send buffer cannot take it.
    pub fn send(&mut self, now: Instant, id: u16, data: &[u8], binary: bool) -> Result<(), Error> {
        self.send_payload(now, id, Payload::Borrowed(data), binary)
    }

    /// [`DataChannels::send`] for a message borrowed (copied once accepted)
    /// or in shared [`bytes::Bytes`] (queued without a copy).
    pub fn send_payload(
        &mut self,
        now: Instant,
        id: u16,
        data: Payload<'_>,
        binary: bool,
    ) -> Result<(), Error> {
        let Some(c) = self.channels.get(&id) else {
            return Err(Error::ChannelNotOpen);
        };
        if !matches!(c.state, ChannelState::Open | ChannelState::Connecting) {
            return Err(Error::ChannelNotOpen);
        }
        // Before the ACK, messages go ordered so that they cannot overtake
        // the DATA_CHANNEL_OPEN (RFC 8832 section 6).
        let options = SendOptions {
            unordered: !c.options.ordered && c.state == ChannelState::Open,
            max_retransmits: c.options.max_retransmits.map(u32::from),
            lifetime: c
                .options
                .max_packet_life_time
                .map(|ms| Duration::from_millis(u64::from(ms))),
        };
        // An empty message goes as one zero byte (RFC 8831 section 6.6).
        let (payload, ppid) = match (data.is_empty(), binary) {
            (true, false) => (Payload::Borrowed(&[0]), ppid::STRING_EMPTY),
            (true, true) => (Payload::Borrowed(&[0]), ppid::BINARY_EMPTY),
            (false, false) => (data, ppid::STRING),
            (false, true) => (data, ppid::BINARY),
        };
        let threshold = c.low_threshold;
        self.assoc.send_payload(now, id, ppid, payload, options)?;
        if self.assoc.stream_buffered_amount(id) > threshold {
            self.above_threshold.insert(id);
        }
        Ok(())
    }

    /// Closes a channel: what is queued is still delivered, then the
    /// stream is reset both ways and [`ChannelEvent::Closed`] follows.
    pub fn close(&mut self, now: Instant, id: u16) -> Result<(), Error> {
        let Some(c) = self.channels.get_mut(&id) else {
            return Err(Error::ChannelNotOpen);
        };
        if c.reset_sent {
            return Ok(());
        }
        c.reset_sent = true;
        if c.state != ChannelState::Closing {
            c.state = ChannelState::Closing;
            self.events.push_back(ChannelEvent::Closing(id));
        }
        self.assoc.reset_streams(now, &[id])
    }

    /// Handles one SCTP packet from DTLS.
    pub fn handle_receive(&mut self, now: Instant, packet: &[u8]) {
        self.assoc.handle_receive(now, packet);
        self.process(now);
    }

    /// Runs expired timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.assoc.handle_timeout(now);
        self.process(now);
    }

    /// When to call [`handle_timeout`](DataChannels::handle_timeout).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.assoc.poll_timeout()
    }

    /// The next packet for DTLS.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.assoc.poll_transmit()
    }

    /// Gives back a packet's buffer for the next packets (see
    /// [`Association::recycle`]).
    pub fn recycle(&mut self, buf: Vec<u8>) {
        self.assoc.recycle(buf);
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ChannelEvent> {
        self.events.pop_front()
    }

    fn process(&mut self, now: Instant) {
        while let Some(event) = self.assoc.poll_event() {
            match event {
                SctpEvent::Connected => self.events.push_back(ChannelEvent::Connected),
                SctpEvent::Message(m) => self.on_message(now, m.stream_id, m.ppid, m.data),
                SctpEvent::IncomingStreamsReset(ids) => {
                    for id in ids {
                        self.on_incoming_reset(now, id);
                    }
                }
                SctpEvent::OutgoingStreamsReset(ids) => {
                    for id in ids {
                        self.maybe_closed(id);
                    }
                }
                SctpEvent::Aborted | SctpEvent::Closed => {
                    for (id, _) in std::mem::take(&mut self.channels) {
                        self.events.push_back(ChannelEvent::Closed(id));
                    }
                    self.above_threshold.clear();
                    self.events.push_back(ChannelEvent::Disconnected);
                }
            }
        }
        // Buffered-amount-low, only for channels that were above.
        let drained: Vec<u16> = self
            .above_threshold
            .iter()
            .copied()
            .filter(|&id| {
                let threshold = self.channels.get(&id).map_or(usize::MAX, |c| c.low_threshold);
                self.assoc.stream_buffered_amount(id) <= threshold
            })
            .collect();
        for id in drained {
            self.above_threshold.remove(&id);
            if self.channels.contains_key(&id) {
                self.events.push_back(ChannelEvent::BufferedAmountLow(id));
            }
        }
    }

    fn on_message(&mut self, now: Instant, id: u16, ppid: u32, data: Vec<u8>) {
        if ppid == ppid::DCEP {
            self.on_dcep(now, id, &data);
            return;
        }
        let Some(c) = self.channels.get_mut(&id) else {
            // A message on a stream with no channel: dropped (RFC 8832
            // section 6 lets the peer send only after its OPEN).
            self.dropped_messages += 1;
            return;
        };
        if c.state == ChannelState::Closed {
            return;
        }
        // Any message on a channel we opened means the peer has it open
        // (the ACK may have been overtaken by unordered data).
        self.acknowledged(id);
        let (data, binary) = match ppid {
            ppid::STRING | ppid::STRING_PARTIAL => (data, false),
            ppid::BINARY | ppid::BINARY_PARTIAL => (data, true),
            ppid::STRING_EMPTY => (Vec::new(), false),
            ppid::BINARY_EMPTY => (Vec::new(), true),
            _ => {
                self.dropped_messages += 1;
                return;
            }
        };
        if self.events.len() >= MAX_PENDING_EVENTS {
            self.dropped_messages += 1;
            return;
        }
        self.events.push_back(ChannelEvent::Message { id, data, binary });
    }

    /// A channel we opened is open at the peer: DATA_CHANNEL_ACK, or data.
    fn acknowledged(&mut self, id: u16) {
        if let Some(c) = self.channels.get_mut(&id)
            && c.state == ChannelState::Connecting
        {
            c.state = ChannelState::Open;
            let open = ChannelEvent::Open {
                id,
                label: c.label.clone(),
                protocol: c.options.protocol.clone(),
                remote: false,
            };
            self.events.push_back(open);
        }
    }

    fn on_dcep(&mut self, now: Instant, id: u16, data: &[u8]) {
        let Ok(message) = DcepMessage::parse(data) else {
            return;
        };
        match message {
            DcepMessage::Ack => self.acknowledged(id),
            DcepMessage::Open(open) => {
                // The peer must use its own parity; an id in use is a
                // protocol error we answer by ignoring the OPEN.
                let peer_parity = if self.dtls_client { 1 } else { 0 };
                if id % 2 != peer_parity
                    || self.channels.contains_key(&id)
                    || self.channels.len() >= MAX_CHANNELS
                {
                    return;
                }
                let mut ack = Vec::with_capacity(1);
                if DcepMessage::Ack.write(&mut ack).is_err()
                    || self.assoc.send(now, id, ppid::DCEP, &ack, false).is_err()
                {
                    return;
                }
                let options = ChannelOptions::from_open(&open);
                self.events.push_back(ChannelEvent::Open {
                    id,
                    label: open.label.clone(),
                    protocol: open.protocol.clone(),
                    remote: true,
                });
                self.channels.insert(
                    id,
                    Channel {
                        label: open.label,
                        options,
                        state: ChannelState::Open,
                        low_threshold: 0,
                        reset_sent: false,
                        reset_received: false,
                    },
                );
            }
        }
    }

    /// The peer reset its side of the stream: the channel closes, and we
    /// reset ours in turn (RFC 8831 section 6.7).
    fn on_incoming_reset(&mut self, now: Instant, id: u16) {
        let Some(c) = self.channels.get_mut(&id) else {
            return;
        };
        c.reset_received = true;
        if c.state != ChannelState::Closing {
            c.state = ChannelState::Closing;
            self.events.push_back(ChannelEvent::Closing(id));
        }
        if !c.reset_sent {
            c.reset_sent = true;
            let _ = self.assoc.reset_streams(now, &[id]);
        }
        self.maybe_closed(id);
    }

    /// Closed once both directions are reset and ours was performed.
    fn maybe_closed(&mut self, id: u16) {
        let Some(c) = self.channels.get(&id) else {
            return;
        };
        if !(c.reset_received && c.reset_sent && self.assoc.stream_reset_done(id)) {
            return;
        }
        self.channels.remove(&id);
        self.above_threshold.remove(&id);
        self.events.push_back(ChannelEvent::Closed(id));
    }
}
