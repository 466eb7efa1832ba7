//! The sending half of an association: messages wait per stream until a
//! round-robin scheduler cuts them into chunks, which get their TSN when
//! first sent and stay until acknowledged or abandoned.
//!
//! With DATA the scheduler moves to another stream only between messages
//! (a message's fragments need consecutive TSNs); with I-DATA (RFC 8260)
//! it moves after every fragment, so a large message does not hold up the
//! others. Sequence numbers (SSN, or MID with I-DATA) are taken when a
//! message's first fragment is scheduled, so a message given up before
//! that leaves no hole in its stream.
//!
//! The in-flight queue is a `VecDeque` whose front is the first TSN the
//! peer has not acknowledged cumulatively, so a TSN's index is its
//! distance from the front. Three figures are kept as the queue changes
//! instead of being recomputed per packet: the index of the first chunk
//! never sent, the set of chunks waiting for retransmission, and the bytes
//! in flight. Payloads are slices of one shared buffer per message
//! ([`Bytes`]): a message is copied once when it is queued and once into
//! each packet.

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
    /// SSN (DATA, 16 bits) or MID (I-DATA).
    pub(crate) mid: u32,
    /// Fragment Sequence Number (I-DATA).
    pub(crate) fsn: u32,
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

/// How a message is sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MessageSpec {
    pub(crate) stream_id: u16,
    pub(crate) ppid: u32,
    pub(crate) unordered: bool,
    pub(crate) max_retransmits: Option<u32>,
    pub(crate) expires: Option<Instant>,
}

/// A message waiting for (the rest of) its chunks to be scheduled.
#[derive(Debug)]
struct Pending {
    spec: MessageSpec,
    data: Bytes,
    /// Bytes already cut into chunks.
    offset: usize,
    /// Its SSN or MID, once the first fragment was scheduled.
    mid: Option<u32>,
    next_fsn: u32,
}

/// Per-stream sequence numbers for the next message.
#[derive(Debug, Default, Clone, Copy)]
struct Sequence {
    ordered: u32,
    unordered: u32,
}

/// The send queue.
#[derive(Debug)]
pub(crate) struct SendQueue {
    /// Messages not yet (fully) cut into chunks, per stream.
    pending: BTreeMap<u16, VecDeque<Pending>>,
    sequence: BTreeMap<u16, Sequence>,
    /// The stream served last (round robin).
    last_stream: Option<u16>,
    /// I-DATA (RFC 8260) negotiated: interleave fragments.
    interleaved: bool,
    max_payload: usize,
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
    /// Streams (and whether unordered, with I-DATA) with abandoned
    /// messages up to the forward point: the highest abandoned SSN or MID.
    forward_streams: BTreeMap<(u16, bool), u32>,
}

impl SendQueue {
    pub(crate) fn new(initial_tsn: u32, max_payload: usize) -> SendQueue {
        SendQueue {
            pending: BTreeMap::new(),
            sequence: BTreeMap::new(),
            last_stream: None,
            interleaved: false,
            max_payload: max_payload.max(1),
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

    /// Uses I-DATA from now on (both sides support it), with chunks of at
    /// most `max_payload` bytes.
    pub(crate) fn set_interleaved(&mut self, interleaved: bool, max_payload: usize) {
        self.interleaved = interleaved;
        self.max_payload = max_payload.max(1);
    }

    pub(crate) fn interleaved(&self) -> bool {
        self.interleaved
    }

    /// The last TSN assigned.
    pub(crate) fn last_assigned_tsn(&self) -> u32 {
        self.next_tsn.wrapping_sub(1)
    }

    /// Whether messages on the stream still wait for TSNs.
    pub(crate) fn has_unscheduled(&self, stream_id: u16) -> bool {
        self.pending.get(&stream_id).is_some_and(|q| !q.is_empty())
    }

    /// After an outgoing stream reset: its sequence numbers start at 0.
    pub(crate) fn reset_sequence(&mut self, stream_id: u16) {
        self.sequence.remove(&stream_id);
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
        self.chunks.is_empty() && self.pending.is_empty()
    }

    /// Whether something waits for retransmission.
    pub(crate) fn has_retransmits(&self) -> bool {
        !self.retransmits.is_empty()
    }

    /// Whether a FORWARD-TSN is still to be acted on by the peer.
    pub(crate) fn forward_pending(&self) -> bool {
        tsn_gt(self.forward_point, self.peer_cum_ack)
    }

    /// The FORWARD-TSN to send: new cumulative TSN and
    /// `(stream, unordered, SSN or MID)`s.
    pub(crate) fn forward_tsn(&self) -> (u32, Vec<(u16, bool, u32)>) {
        let streams = self
            .forward_streams
            .iter()
            .map(|(&(s, u), &n)| (s, u, n))
            .collect();
        (self.forward_point, streams)
    }

    /// Queues a message.
    pub(crate) fn push(&mut self, spec: MessageSpec, data: Bytes) {
        self.queued += data.len();
        *self.per_stream.entry(spec.stream_id).or_insert(0) += data.len();
        self.pending
            .entry(spec.stream_id)
            .or_default()
            .push_back(Pending {
                spec,
                data,
                offset: 0,
                mid: None,
                next_fsn: 0,
            });
    }

    /// The chunk at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&Outstanding> {
        self.chunks.get(index)
    }

    /// The index of the next chunk to send: retransmissions first (lowest
    /// TSN first), then chunks already cut, then a new one from the
    /// scheduler; with whether nothing else is queued after it. Messages
    /// whose lifetime ran out before being scheduled are dropped here
    /// (when `may_abandon`).
    pub(crate) fn next_to_send(&mut self, now: Instant, may_abandon: bool) -> Option<(usize, bool)> {
        if let Some(&tsn) = self.retransmits.first() {
            let front = self.chunks.front()?.tsn;
            let index = tsn.wrapping_sub(front) as usize;
            return (index < self.chunks.len()).then_some((index, false));
        }
        if self.next_unsent >= self.chunks.len() && !self.schedule(now, may_abandon) {
            return None;
        }
        let index = self.next_unsent;
        let last = index + 1 == self.chunks.len() && self.pending.is_empty();
        Some((index, last))
    }

    /// Whether anything waits to be sent.
    pub(crate) fn has_sendable(&self) -> bool {
        !self.retransmits.is_empty() || self.next_unsent < self.chunks.len() || !self.pending.is_empty()
    }

    /// Cuts the next chunk from the pending messages, round robin over
    /// streams. False when nothing is pending.
    fn schedule(&mut self, now: Instant, may_abandon: bool) -> bool {
        loop {
            // With DATA a message started must finish first.
            let in_progress = (!self.interleaved)
                .then_some(self.last_stream)
                .flatten()
                .filter(|s| {
                    self.pending
                        .get(s)
                        .and_then(|q| q.front())
                        .is_some_and(|m| m.offset > 0)
                });
            let stream = in_progress.or_else(|| {
                let after = self.last_stream.map_or(0, |s| u32::from(s) + 1);
                self.pending
                    .range(u16::try_from(after).unwrap_or(u16::MAX)..)
                    .next()
                    .filter(|_| after <= u32::from(u16::MAX))
                    .or_else(|| self.pending.iter().next())
                    .map(|(&s, _)| s)
            });
            let Some(stream) = stream else {
                return false;
            };
            self.last_stream = Some(stream);
            let Some(queue) = self.pending.get_mut(&stream) else {
                return false;
            };
            let Some(message) = queue.front_mut() else {
                self.pending.remove(&stream);
                continue;
            };
            // A message whose lifetime ended before any of it was sent is
            // dropped without a trace on the wire.
            if may_abandon && message.offset == 0 && message.spec.expires.is_some_and(|e| now >= e) {
                let len = message.data.len();
                queue.pop_front();
                if queue.is_empty() {
                    self.pending.remove(&stream);
                }
                self.release(stream, len);
                continue;
            }
            let mid = match message.mid {
                Some(mid) => mid,
                None => {
                    let seq = self.sequence.entry(stream).or_default();
                    let counter = if message.spec.unordered && self.interleaved {
                        &mut seq.unordered
                    } else {
                        &mut seq.ordered
                    };
                    let mid = if message.spec.unordered && !self.interleaved {
                        0
                    } else {
                        let mid = *counter;
                        *counter = if self.interleaved {
                            mid.wrapping_add(1)
                        } else {
                            (mid + 1) & 0xffff
                        };
                        mid
                    };
                    message.mid = Some(mid);
                    mid
                }
            };
            let start = message.offset;
            let end = (start + self.max_payload).min(message.data.len());
            let payload = message.data.slice(start..end);
            message.offset = end;
            let fsn = message.next_fsn;
            message.next_fsn = fsn.wrapping_add(1);
            let spec = message.spec;
            let ending = end == message.data.len();
            if ending {
                queue.pop_front();
                if queue.is_empty() {
                    self.pending.remove(&stream);
                }
            }
            let tsn = self.next_tsn;
            self.next_tsn = tsn.wrapping_add(1);
            self.chunks.push_back(Outstanding {
                tsn,
                stream_id: stream,
                mid,
                fsn,
                ppid: spec.ppid,
                unordered: spec.unordered,
                beginning: start == 0,
                ending,
                payload,
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
            return true;
        }
    }

    /// Bytes leave the queue, acknowledged or abandoned.
    fn release(&mut self, stream_id: u16, len: usize) {
        self.queued -= len;
        if let Some(b) = self.per_stream.get_mut(&stream_id) {
            *b = b.saturating_sub(len);
            if *b == 0 {
                self.per_stream.remove(&stream_id);
            }
        }
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
                settle(o, &mut self.flight, &mut self.retransmits);
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
        self.release(o.stream_id, o.payload.len());
        Some(o)
    }

    /// Gives up the message the chunk at `index` belongs to (RFC 3758),
    /// every fragment of it, including those the peer already has (the
    /// message can no longer complete) and those not yet cut.
    pub(crate) fn abandon(&mut self, index: usize) {
        let Some(target) = self.chunks.get(index) else {
            return;
        };
        let (stream, unordered, mid) = (target.stream_id, target.unordered, target.mid);
        let same = |o: &Outstanding| o.stream_id == stream && o.unordered == unordered && o.mid == mid;
        let mut ended = false;
        let mut i = index;
        // Back to the first fragment still queued (with I-DATA, fragments
        // of other messages may sit in between; with DATA, unordered
        // messages of a stream share the key, but fragments are
        // consecutive).
        let mut first = index;
        while i > 0 && !self.chunks[first].beginning {
            i -= 1;
            if same(&self.chunks[i]) {
                first = i;
                if self.chunks[i].beginning {
                    break;
                }
            }
        }
        let mut i = first;
        while let Some(o) = self.chunks.get_mut(i) {
            i += 1;
            if !(o.stream_id == stream && o.unordered == unordered && o.mid == mid) {
                continue;
            }
            o.acked = true;
            o.abandoned = true;
            settle(o, &mut self.flight, &mut self.retransmits);
            if o.ending {
                ended = true;
                break;
            }
        }
        // Cut but never sent: skipped by moving the unsent index over
        // abandoned chunks.
        while self.chunks.get(self.next_unsent).is_some_and(|o| o.abandoned) {
            self.next_unsent += 1;
        }
        if !ended
            && let Some(queue) = self.pending.get_mut(&stream)
            && queue
                .front()
                .is_some_and(|m| m.mid == Some(mid) && m.spec.unordered == unordered)
            && let Some(rest) = queue.pop_front()
        {
            if queue.is_empty() {
                self.pending.remove(&stream);
            }
            self.release(stream, rest.data.len() - rest.offset);
        }
        self.advance_forward_point();
    }

    /// Moves Advanced.Peer.Ack.Point over abandoned chunks at the front
    /// (RFC 3758 section 3.5 C2), which leave the queue.
    fn advance_forward_point(&mut self) {
        while self.chunks.front().is_some_and(|o| o.abandoned) {
            let Some(o) = self.pop_front() else {
                break;
            };
            self.forward_point = o.tsn;
            // DATA's FORWARD-TSN lists ordered streams only; I-DATA's lists
            // unordered ones too.
            if !o.unordered || self.interleaved {
                let key = (o.stream_id, o.unordered && self.interleaved);
                let mid = self.forward_streams.entry(key).or_insert(o.mid);
                let newer = if self.interleaved {
                    tsn_gt(o.mid, *mid)
                } else {
                    ssn_gt(o.mid as u16, *mid as u16)
                };
                if newer {
                    *mid = o.mid;
                }
            }
        }
        if tsn_gt(self.peer_cum_ack, self.forward_point) {
            self.forward_point = self.peer_cum_ack;
        }
    }
}

/// Takes a chunk out of the bytes in flight and out of the retransmission
/// set: it was acknowledged or given up.
fn settle(o: &mut Outstanding, flight: &mut usize, retransmits: &mut BTreeSet<u32>) {
    if o.in_flight {
        o.in_flight = false;
        *flight -= o.payload.len();
    }
    if o.retransmit {
        o.retransmit = false;
        retransmits.remove(&o.tsn);
    }
}
