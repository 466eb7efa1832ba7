//! The sending half of an association: messages split into DATA chunks
//! with consecutive TSNs, kept until acknowledged or abandoned.
//!
//! The queue is a `VecDeque` whose front is the first TSN the peer has not
//! acknowledged cumulatively, so a TSN's index is its distance from the
//! front. Three figures are kept as the queue changes instead of being
//! recomputed per packet: the index of the first chunk never sent, the
//! set of chunks waiting for retransmission, and the bytes in flight.
//! Payloads are slices of one shared buffer per message ([`Bytes`]): a
//! message is copied once when it is queued and once into each packet.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::cc::SendStamp;
use crate::receive::{ssn_gt, tsn_gt};

/// A fragment of a message waiting for its first transmission or for an
/// acknowledgement.
#[derive(Debug, Clone)]
pub(crate) struct Outstanding {
    pub(crate) tsn: u32,
    pub(crate) stream_id: u16,
    pub(crate) ssn: u16,
    pub(crate) ppid: u32,
    pub(crate) unordered: bool,
    pub(crate) beginning: bool,
    pub(crate) ending: bool,
    pub(crate) payload: Bytes,
    /// When it was last sent; `None` before its first transmission.
    pub(crate) sent_at: Option<Instant>,
    pub(crate) transmissions: u32,
    /// Reported missing by this many SACKs (fast retransmit at 3).
    missing_reports: u32,
    /// What congestion control noted when it was last sent.
    stamp: Option<SendStamp>,
    /// Partial reliability: retransmissions allowed, and when to give up.
    max_retransmits: Option<u32>,
    expires: Option<Instant>,
    /// Given up (RFC 3758): skipped by FORWARD-TSN.
    abandoned: bool,
    /// Acknowledged by a gap block, or abandoned.
    acked: bool,
    /// Waiting in the retransmission set.
    retransmit: bool,
    /// Counted in the bytes in flight.
    in_flight: bool,
}

impl Outstanding {
    /// Whether partial reliability gives this chunk up at `now`.
    pub(crate) fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|e| now >= e)
            || (self.retransmit && self.max_retransmits.is_some_and(|m| self.transmissions > m))
    }
}

/// What one SACK acknowledged.
#[derive(Debug, Default)]
pub(crate) struct Acked {
    /// Bytes newly acknowledged (cumulatively or by gap blocks).
    pub(crate) bytes: usize,
    /// The stamp of the most recently sent chunk among them.
    pub(crate) newest: Option<SendStamp>,
    /// Its RTT, if it was sent only once (Karn's rule).
    pub(crate) rtt: Option<Duration>,
    /// The cumulative TSN moved.
    pub(crate) cum_advanced: bool,
    /// Chunks newly marked for fast retransmission.
    pub(crate) fast_retransmits: u64,
}

impl Acked {
    fn note(&mut self, o: &Outstanding, now: Instant) {
        self.bytes += o.payload.len();
        if let Some(stamp) = o.stamp
            && self.newest.is_none_or(|n| stamp.sent_after(&n))
        {
            self.newest = Some(stamp);
            self.rtt = (o.transmissions == 1)
                .then(|| o.sent_at.map(|t| now.saturating_duration_since(t)))
                .flatten();
        }
    }
}

/// How a message is split and how hard it is sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MessageSpec {
    pub(crate) stream_id: u16,
    pub(crate) ssn: u16,
    pub(crate) ppid: u32,
    pub(crate) unordered: bool,
    pub(crate) max_retransmits: Option<u32>,
    pub(crate) expires: Option<Instant>,
}

/// The send queue.
#[derive(Debug)]
pub(crate) struct SendQueue {
    chunks: VecDeque<Outstanding>,
    /// Index of the first chunk never sent.
    next_unsent: usize,
    /// TSNs waiting for retransmission.
    retransmits: BTreeSet<u32>,
    flight: usize,
    queued: usize,
    per_stream: BTreeMap<u16, usize>,
    next_tsn: u32,
    /// Highest cumulative TSN acknowledgement the peer sent.
    peer_cum_ack: u32,
    /// Advanced.Peer.Ack.Point (RFC 3758): the peer may skip up to here.
    forward_point: u32,
    /// Ordered streams with abandoned messages up to the forward point:
    /// the highest abandoned SSN of each.
    forward_streams: BTreeMap<u16, u16>,
}

impl SendQueue {
    pub(crate) fn new(initial_tsn: u32) -> SendQueue {
        SendQueue {
            chunks: VecDeque::new(),
            next_unsent: 0,
            retransmits: BTreeSet::new(),
            flight: 0,
            queued: 0,
            per_stream: BTreeMap::new(),
            next_tsn: initial_tsn,
            peer_cum_ack: initial_tsn.wrapping_sub(1),
            forward_point: initial_tsn.wrapping_sub(1),
            forward_streams: BTreeMap::new(),
        }
    }

    /// The next TSN to assign.
    pub(crate) fn next_tsn(&self) -> u32 {
        self.next_tsn
    }

    /// Bytes queued and not yet acknowledged or abandoned.
    pub(crate) fn queued(&self) -> usize {
        self.queued
    }

    pub(crate) fn stream_queued(&self, stream_id: u16) -> usize {
        self.per_stream.get(&stream_id).copied().unwrap_or(0)
    }

    /// Bytes sent and neither acknowledged nor marked lost.
    pub(crate) fn flight(&self) -> usize {
        self.flight
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Whether something waits for retransmission.
    pub(crate) fn has_retransmits(&self) -> bool {
        !self.retransmits.is_empty()
    }

    /// Whether a FORWARD-TSN is still to be acted on by the peer.
    pub(crate) fn forward_pending(&self) -> bool {
        tsn_gt(self.forward_point, self.peer_cum_ack)
    }

    /// The FORWARD-TSN to send: new cumulative TSN and `(stream, SSN)`s.
    pub(crate) fn forward_tsn(&self) -> (u32, Vec<(u16, u16)>) {
        let streams = self.forward_streams.iter().map(|(&s, &n)| (s, n)).collect();
        (self.forward_point, streams)
    }

    /// Queues a message as chunks of at most `max_payload` bytes.
    pub(crate) fn push(&mut self, spec: MessageSpec, data: &[u8], max_payload: usize) {
        let data = Bytes::copy_from_slice(data);
        let count = data.len().div_ceil(max_payload).max(1);
        for i in 0..count {
            let piece = data.slice(i * max_payload..((i + 1) * max_payload).min(data.len()));
            let tsn = self.next_tsn;
            self.next_tsn = tsn.wrapping_add(1);
            self.queued += piece.len();
            self.chunks.push_back(Outstanding {
                tsn,
                stream_id: spec.stream_id,
                ssn: spec.ssn,
                ppid: spec.ppid,
                unordered: spec.unordered,
                beginning: i == 0,
                ending: i + 1 == count,
                payload: piece,
                sent_at: None,
                transmissions: 0,
                missing_reports: 0,
                stamp: None,
                max_retransmits: spec.max_retransmits,
                expires: spec.expires,
                abandoned: false,
                acked: false,
                retransmit: false,
                in_flight: false,
            });
        }
        *self.per_stream.entry(spec.stream_id).or_insert(0) += data.len();
    }

    /// The chunk at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&Outstanding> {
        self.chunks.get(index)
    }

    /// The index of the next chunk to send: retransmissions first (lowest
    /// TSN first), then new data; with whether it is the last one queued.
    pub(crate) fn next_to_send(&self) -> Option<(usize, bool)> {
        let front = self.chunks.front()?.tsn;
        let index = match self.retransmits.first() {
            Some(&tsn) => tsn.wrapping_sub(front) as usize,
            None => self.next_unsent,
        };
        (index < self.chunks.len()).then_some((index, index + 1 == self.chunks.len()))
    }

    /// Records that the chunk at `index` was (re)sent.
    pub(crate) fn mark_sent(&mut self, index: usize, now: Instant, stamp: SendStamp) {
        let Some(o) = self.chunks.get_mut(index) else {
            return;
        };
        if o.retransmit {
            o.retransmit = false;
            self.retransmits.remove(&o.tsn);
        }
        if !o.in_flight {
            o.in_flight = true;
            self.flight += o.payload.len();
        }
        o.stamp = Some(stamp);
        o.sent_at = Some(now);
        o.transmissions += 1;
        o.missing_reports = 0;
        if index == self.next_unsent {
            self.next_unsent += 1;
        }
    }

    /// The T3 timer expired: everything in flight is to be sent again.
    pub(crate) fn mark_all_lost(&mut self) {
        for o in self.chunks.iter_mut().take(self.next_unsent) {
            if o.in_flight {
                o.in_flight = false;
                o.retransmit = true;
                self.retransmits.insert(o.tsn);
            }
        }
        self.flight = 0;
    }

    /// Processes a SACK's cumulative TSN and gap blocks (RFC 9260 section
    /// 6.2.1), with the miss indications of section 7.2.4. Returns `None`
    /// for a SACK older than one already processed.
    pub(crate) fn on_sack(
        &mut self,
        now: Instant,
        cum: u32,
        gap_blocks: impl Iterator<Item = (u16, u16)>,
    ) -> Option<Acked> {
        if tsn_gt(self.peer_cum_ack, cum) {
            return None;
        }
        let mut acked = Acked {
            cum_advanced: cum != self.peer_cum_ack,
            ..Acked::default()
        };
        self.peer_cum_ack = cum;
        // Cumulatively acknowledged.
        while let Some(front) = self.chunks.front() {
            if front.sent_at.is_none() || tsn_gt(front.tsn, cum) {
                break;
            }
            let Some(o) = self.pop_front() else {
                break;
            };
            if !o.acked {
                acked.note(&o, now);
            }
        }
        self.advance_forward_point();
        if !self.forward_pending() {
            self.forward_streams.clear();
        }
        // Gap blocks: acknowledged out of order.
        let mut highest_newly_acked: Option<usize> = None;
        for (start, end) in gap_blocks {
            let Some(front) = self.chunks.front().map(|o| o.tsn) else {
                break;
            };
            let Some(span) = end.checked_sub(start) else {
                continue;
            };
            let from = cum.wrapping_add(u32::from(start)).wrapping_sub(front) as usize;
            let to = from.saturating_add(usize::from(span) + 1).min(self.next_unsent);
            for i in from.min(to)..to {
                let o = &mut self.chunks[i];
                if o.acked {
                    continue;
                }
                o.acked = true;
                if o.in_flight {
                    o.in_flight = false;
                    self.flight -= o.payload.len();
                }
                if o.retransmit {
                    o.retransmit = false;
                    self.retransmits.remove(&o.tsn);
                }
                acked.note(o, now);
                highest_newly_acked = Some(highest_newly_acked.map_or(i, |h| h.max(i)));
            }
        }
        // A TSN counts as missing only when a later TSN was newly
        // acknowledged by this SACK, so duplicated or reordered SACKs do
        // not trigger spurious fast retransmits; and only when that TSN was
        // sent after this one's latest transmission, so a retransmission is
        // not reported lost by acknowledgements of what was sent before it.
        if let Some(highest) = highest_newly_acked {
            let highest_sent = self.chunks[highest].sent_at;
            for o in self.chunks.range_mut(..highest) {
                if o.in_flight && o.sent_at <= highest_sent {
                    o.missing_reports += 1;
                    if o.missing_reports == 3 {
                        o.in_flight = false;
                        self.flight -= o.payload.len();
                        o.retransmit = true;
                        self.retransmits.insert(o.tsn);
                        acked.fast_retransmits += 1;
                    }
                }
            }
        }
        Some(acked)
    }

    /// Takes the front chunk off the queue.
    fn pop_front(&mut self) -> Option<Outstanding> {
        let o = self.chunks.pop_front()?;
        self.next_unsent = self.next_unsent.saturating_sub(1);
        if o.in_flight {
            self.flight -= o.payload.len();
        }
        if o.retransmit {
            self.retransmits.remove(&o.tsn);
        }
        self.queued -= o.payload.len();
        if let Some(b) = self.per_stream.get_mut(&o.stream_id) {
            *b = b.saturating_sub(o.payload.len());
            if *b == 0 {
                self.per_stream.remove(&o.stream_id);
            }
        }
        Some(o)
    }

    /// Gives up the message the chunk at `index` belongs to (RFC 3758),
    /// every fragment of it, including those the peer already has: the
    /// message can no longer complete. Returns how many chunks left the
    /// front of the queue.
    pub(crate) fn abandon(&mut self, index: usize) -> usize {
        let mut first = index.min(self.chunks.len().saturating_sub(1));
        while first > 0 && !self.chunks[first].beginning {
            first -= 1;
        }
        let mut i = first;
        while let Some(o) = self.chunks.get_mut(i) {
            o.acked = true;
            o.abandoned = true;
            if o.in_flight {
                o.in_flight = false;
                self.flight -= o.payload.len();
            }
            if o.retransmit {
                o.retransmit = false;
                self.retransmits.remove(&o.tsn);
            }
            let ending = o.ending;
            if i == self.next_unsent {
                // Never sent and never will be.
                self.next_unsent += 1;
            }
            i += 1;
            if ending {
                break;
            }
        }
        let before = self.chunks.len();
        self.advance_forward_point();
        before - self.chunks.len()
    }

    /// Moves Advanced.Peer.Ack.Point over abandoned chunks at the front
    /// (RFC 3758 section 3.5 C2), which leave the queue.
    fn advance_forward_point(&mut self) {
        while self.chunks.front().is_some_and(|o| o.abandoned) {
            let Some(o) = self.pop_front() else {
                break;
            };
            self.forward_point = o.tsn;
            if !o.unordered {
                let ssn = self.forward_streams.entry(o.stream_id).or_insert(o.ssn);
                if ssn_gt(o.ssn, *ssn) {
                    *ssn = o.ssn;
                }
            }
        }
        if tsn_gt(self.peer_cum_ack, self.forward_point) {
            self.forward_point = self.peer_cum_ack;
        }
    }
}
