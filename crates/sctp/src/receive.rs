//! The receiving half of an association: TSN tracking for SACKs (the
//! cumulative TSN, gaps and duplicates), reassembly of fragmented messages,
//! ordered delivery per stream, FORWARD-TSN and incoming stream resets.
//!
//! Everything the peer makes us hold is counted in one figure,
//! [`Receiver::buffered`]: fragments beyond a gap, messages in reassembly
//! and complete messages waiting for an earlier SSN. It backs the
//! advertised window, and a peer that ignores the window cannot make it
//! grow: out-of-order DATA beyond the window is dropped (the peer sends it
//! again), and a peer that overruns it in order, or sends a message over
//! max-message-size, breaks the protocol and is aborted.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};

use crate::association::{SctpEvent, SctpMessage};
use crate::chunk::{DataChunk, IDataChunk};

/// Most out-of-order TSNs remembered for gap reports.
pub(crate) const MAX_GAPS: usize = 4096;
/// Most duplicate TSNs reported in one SACK.
const MAX_DUPLICATES: usize = 16;

/// A DATA or I-DATA chunk, as the receiver needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserData<'a> {
    pub(crate) tsn: u32,
    pub(crate) stream_id: u16,
    /// SSN (DATA) or MID (I-DATA).
    pub(crate) mid: u32,
    /// The PPID (with I-DATA only in the first fragment).
    pub(crate) ppid: u32,
    pub(crate) unordered: bool,
    pub(crate) beginning: bool,
    pub(crate) ending: bool,
    pub(crate) payload: &'a [u8],
}

impl<'a> From<&DataChunk<'a>> for UserData<'a> {
    fn from(d: &DataChunk<'a>) -> Self {
        UserData {
            tsn: d.tsn,
            stream_id: d.stream_id,
            mid: u32::from(d.ssn),
            ppid: d.ppid,
            unordered: d.unordered,
            beginning: d.beginning,
            ending: d.ending,
            payload: d.payload,
        }
    }
}

impl<'a> From<&IDataChunk<'a>> for UserData<'a> {
    fn from(d: &IDataChunk<'a>) -> Self {
        UserData {
            tsn: d.tsn,
            stream_id: d.stream_id,
            mid: d.mid,
            ppid: if d.beginning { d.ppid_or_fsn } else { 0 },
            unordered: d.unordered,
            beginning: d.beginning,
            ending: d.ending,
            payload: d.payload,
        }
    }
}

/// What reassembly needs of a fragment besides its bytes.
#[derive(Debug, Clone, Copy)]
struct Head {
    stream_id: u16,
    mid: u32,
    ppid: u32,
    unordered: bool,
    beginning: bool,
    ending: bool,
}

/// A received fragment kept until the cumulative TSN reaches it.
#[derive(Debug, Clone)]
struct Fragment {
    stream_id: u16,
    mid: u32,
    ppid: u32,
    unordered: bool,
    beginning: bool,
    ending: bool,
    payload: Vec<u8>,
}

/// A message being reassembled.
#[derive(Debug, Default)]
struct Partial {
    data: Vec<u8>,
    ppid: u32,
}

/// Per-stream state for ordered delivery.
#[derive(Debug, Default)]
struct InStream {
    /// The next SSN (DATA) or MID (I-DATA) to deliver.
    next: u32,
    /// Complete ordered messages waiting for their turn.
    waiting: BTreeMap<u32, SctpMessage>,
}

/// What became of a DATA chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataVerdict {
    /// New: kept (and acknowledged).
    Accepted,
    /// Already had it: reported as a duplicate.
    Duplicate,
    /// No room: not acknowledged, the peer will send it again.
    Dropped,
}

/// A protocol violation that ends the association.
pub(crate) type Violation = &'static str;

/// The receiving half of an association.
#[derive(Debug)]
pub(crate) struct Receiver {
    cumulative_tsn: u32,
    received_ahead: BTreeMap<u32, Fragment>,
    duplicates: Vec<u32>,
    partial: BTreeMap<(u16, bool, u32), Partial>,
    in_streams: BTreeMap<u16, InStream>,
    /// Bytes in `received_ahead`, `partial` and the streams' `waiting`.
    buffered: usize,
    window: usize,
    max_message_size: usize,
    /// A peer's outgoing stream reset waiting for its last TSN: request
    /// sequence number, last TSN, streams.
    deferred_reset: Option<(u32, u32, Vec<u16>)>,
    /// I-DATA (RFC 8260): 32-bit MIDs instead of 16-bit SSNs.
    interleaved: bool,
}

impl Receiver {
    pub(crate) fn new(window: usize, max_message_size: usize) -> Receiver {
        Receiver {
            cumulative_tsn: 0,
            received_ahead: BTreeMap::new(),
            duplicates: Vec::new(),
            partial: BTreeMap::new(),
            in_streams: BTreeMap::new(),
            buffered: 0,
            window,
            max_message_size,
            deferred_reset: None,
            interleaved: false,
        }
    }

    /// Expects I-DATA from now on.
    pub(crate) fn set_interleaved(&mut self, interleaved: bool) {
        self.interleaved = interleaved;
    }

    /// The sequence number after `n`.
    fn next_mid(&self, n: u32) -> u32 {
        next_in_sequence(n, self.interleaved)
    }

    /// Serial comparison of SSNs or MIDs.
    fn mid_gt(&self, a: u32, b: u32) -> bool {
        if self.interleaved {
            tsn_gt(a, b)
        } else {
            ssn_gt(a as u16, b as u16)
        }
    }

    /// Starts at the peer's initial TSN.
    pub(crate) fn start(&mut self, initial_tsn: u32) {
        self.cumulative_tsn = initial_tsn.wrapping_sub(1);
    }

    pub(crate) fn cumulative_tsn(&self) -> u32 {
        self.cumulative_tsn
    }

    /// Bytes held for the application.
    pub(crate) fn buffered(&self) -> usize {
        self.buffered
    }

    /// The window to advertise.
    pub(crate) fn a_rwnd(&self) -> u32 {
        u32::try_from(self.window.saturating_sub(self.buffered)).unwrap_or(u32::MAX)
    }

    /// Whether a SACK should go at once: something is missing or
    /// duplicated.
    pub(crate) fn needs_immediate_sack(&self) -> bool {
        !self.received_ahead.is_empty() || !self.duplicates.is_empty()
    }

    /// Takes one DATA chunk.
    pub(crate) fn on_data(
        &mut self,
        d: UserData<'_>,
        events: &mut VecDeque<SctpEvent>,
    ) -> Result<DataVerdict, Violation> {
        let offset = d.tsn.wrapping_sub(self.cumulative_tsn);
        // At or below the cumulative TSN, or held already.
        if offset == 0 || offset > u32::MAX / 2 || self.received_ahead.contains_key(&d.tsn) {
            if self.duplicates.len() < MAX_DUPLICATES {
                self.duplicates.push(d.tsn);
            }
            return Ok(DataVerdict::Duplicate);
        }
        let len = d.payload.len();
        if offset > 1 && (self.buffered + len > self.window || self.received_ahead.len() >= MAX_GAPS) {
            return Ok(DataVerdict::Dropped);
        }
        // The next in sequence is always taken (refusing it could stall
        // the association), but never far beyond the window.
        if self.buffered + len > self.window + self.max_message_size {
            return Err("peer overran the receive window");
        }
        self.buffered += len;
        if offset == 1 && self.received_ahead.is_empty() {
            // Next in sequence with nothing waiting: straight from the
            // packet into its message, without an intermediate copy.
            self.run_deferred_reset(events);
            self.cumulative_tsn = d.tsn;
            let head = Head {
                stream_id: d.stream_id,
                mid: d.mid,
                ppid: d.ppid,
                unordered: d.unordered,
                beginning: d.beginning,
                ending: d.ending,
            };
            self.assemble(head, Cow::Borrowed(d.payload), events)?;
            return Ok(DataVerdict::Accepted);
        }
        self.received_ahead.insert(
            d.tsn,
            Fragment {
                stream_id: d.stream_id,
                mid: d.mid,
                ppid: d.ppid,
                unordered: d.unordered,
                beginning: d.beginning,
                ending: d.ending,
                payload: d.payload.to_vec(),
            },
        );
        Ok(DataVerdict::Accepted)
    }

    /// Moves the cumulative TSN forward and hands whole messages over in
    /// order.
    pub(crate) fn deliver(&mut self, events: &mut VecDeque<SctpEvent>) -> Result<(), Violation> {
        loop {
            // A peer's stream reset takes effect right after its last TSN,
            // before anything sent after it.
            self.run_deferred_reset(events);
            let next = self.cumulative_tsn.wrapping_add(1);
            let Some(frag) = self.received_ahead.remove(&next) else {
                return Ok(());
            };
            self.cumulative_tsn = next;
            let head = Head {
                stream_id: frag.stream_id,
                mid: frag.mid,
                ppid: frag.ppid,
                unordered: frag.unordered,
                beginning: frag.beginning,
                ending: frag.ending,
            };
            self.assemble(head, Cow::Owned(frag.payload), events)?;
        }
    }

    /// Adds the fragment at the cumulative TSN (its bytes already counted
    /// in `buffered`) to its message, and delivers what is complete.
    fn assemble(
        &mut self,
        head: Head,
        payload: Cow<'_, [u8]>,
        events: &mut VecDeque<SctpEvent>,
    ) -> Result<(), Violation> {
        let len = payload.len();
        // With DATA an unordered message's SSN means nothing.
        let mid = if head.unordered && !self.interleaved {
            0
        } else {
            head.mid
        };
        let key = (head.stream_id, head.unordered, mid);
        if !head.beginning && !self.partial.contains_key(&key) {
            // The rest of a message whose start was skipped.
            self.buffered -= len;
            return Ok(());
        }
        if len > self.max_message_size {
            return Err("message larger than max-message-size");
        }
        let (data, ppid) = if head.beginning && head.ending {
            // A whole message in one chunk.
            if let Some(stale) = self.partial.remove(&key) {
                self.buffered -= stale.data.len();
            }
            (payload.into_owned(), head.ppid)
        } else {
            let partial = self.partial.entry(key).or_default();
            if head.beginning {
                self.buffered -= partial.data.len();
                // The first fragment's buffer grows into the message.
                partial.data = payload.into_owned();
                partial.ppid = head.ppid;
            } else {
                if partial.data.len() + len > self.max_message_size {
                    return Err("message larger than max-message-size");
                }
                partial.data.extend_from_slice(&payload);
            }
            if !head.ending {
                return Ok(());
            }
            let Some(done) = self.partial.remove(&key) else {
                return Ok(());
            };
            (done.data, done.ppid)
        };
        let message = SctpMessage {
            stream_id: head.stream_id,
            ppid,
            data,
        };
        if head.unordered {
            self.buffered -= message.data.len();
            events.push_back(SctpEvent::Message(message));
            return Ok(());
        }
        let stream = self.in_streams.entry(head.stream_id).or_default();
        stream.waiting.insert(head.mid, message);
        self.deliver_waiting(head.stream_id, events);
        Ok(())
    }

    /// Hands over the stream's ordered messages that are next in sequence.
    fn deliver_waiting(&mut self, stream_id: u16, events: &mut VecDeque<SctpEvent>) {
        let interleaved = self.interleaved;
        let Some(stream) = self.in_streams.get_mut(&stream_id) else {
            return;
        };
        while let Some(m) = stream.waiting.remove(&stream.next) {
            stream.next = next_in_sequence(stream.next, interleaved);
            self.buffered -= m.data.len();
            events.push_back(SctpEvent::Message(m));
        }
    }

    /// FORWARD-TSN or I-FORWARD-TSN: the peer gave up everything up to
    /// `new_cumulative_tsn` (RFC 3758 section 3.6, RFC 8260 section 2.3);
    /// `streams` holds `(stream, unordered, SSN or MID)` of the last message
    /// skipped on each stream (only ordered ones with FORWARD-TSN).
    pub(crate) fn forward(
        &mut self,
        new_cumulative_tsn: u32,
        streams: impl Iterator<Item = (u16, bool, u32)>,
        events: &mut VecDeque<SctpEvent>,
    ) -> Result<(), Violation> {
        if !tsn_gt(new_cumulative_tsn, self.cumulative_tsn) {
            // Old news; the SACK that follows tells the peer where we are.
            return Ok(());
        }
        // Bound the work a forged FORWARD-TSN can cause.
        if new_cumulative_tsn.wrapping_sub(self.cumulative_tsn) > (MAX_GAPS as u32) * 16 {
            return Ok(());
        }
        while let Some(entry) = self.received_ahead.first_entry() {
            if tsn_gt(*entry.key(), new_cumulative_tsn) {
                break;
            }
            self.buffered -= entry.remove().payload.len();
        }
        self.cumulative_tsn = new_cumulative_tsn;
        if !self.interleaved {
            // DATA fragments of one message have consecutive TSNs, so a
            // message in reassembly now can never complete.
            for (_, p) in std::mem::take(&mut self.partial) {
                self.buffered -= p.data.len();
            }
        }
        for (stream, unordered, mid) in streams {
            if self.interleaved {
                // Messages of this stream up to `mid` will not complete.
                let dead: Vec<(u16, bool, u32)> = self
                    .partial
                    .range((stream, unordered, 0)..=(stream, unordered, u32::MAX))
                    .map(|(k, _)| *k)
                    .filter(|k| !self.mid_gt(k.2, mid))
                    .collect();
                for k in dead {
                    if let Some(p) = self.partial.remove(&k) {
                        self.buffered -= p.data.len();
                    }
                }
            }
            if unordered {
                continue;
            }
            let next = self.next_mid(mid);
            let interleaved = self.interleaved;
            let gt = |a: u32, b: u32| {
                if interleaved {
                    tsn_gt(a, b)
                } else {
                    ssn_gt(a as u16, b as u16)
                }
            };
            let st = self.in_streams.entry(stream).or_default();
            if !gt(st.next, mid) {
                st.next = next;
                let skipped: Vec<u32> = st.waiting.keys().copied().filter(|s| !gt(*s, mid)).collect();
                for s in skipped {
                    if let Some(m) = st.waiting.remove(&s) {
                        self.buffered -= m.data.len();
                    }
                }
            }
            self.deliver_waiting(stream, events);
        }
        self.deliver(events)
    }

    /// The peer resets these of its outgoing streams after `last_tsn`
    /// (RFC 6525 section 5.2.2): done now if everything up to it arrived,
    /// else deferred. Returns whether it was done.
    pub(crate) fn reset_incoming(
        &mut self,
        seq: u32,
        last_tsn: u32,
        ids: Vec<u16>,
        events: &mut VecDeque<SctpEvent>,
    ) -> bool {
        if tsn_gt(last_tsn, self.cumulative_tsn) {
            self.deferred_reset = Some((seq, last_tsn, ids));
            return false;
        }
        self.reset_now(ids, events);
        true
    }

    /// The request sequence number of a reset still waiting for its data.
    pub(crate) fn deferred_reset(&self) -> Option<u32> {
        self.deferred_reset.as_ref().map(|(seq, _, _)| *seq)
    }

    fn run_deferred_reset(&mut self, events: &mut VecDeque<SctpEvent>) {
        let due = self
            .deferred_reset
            .as_ref()
            .is_some_and(|(_, last, _)| !tsn_gt(*last, self.cumulative_tsn));
        if due && let Some((_, _, ids)) = self.deferred_reset.take() {
            self.reset_now(ids, events);
        }
    }

    /// Restarts incoming streams at SSN 0 (all of them for an empty list).
    fn reset_now(&mut self, ids: Vec<u16>, events: &mut VecDeque<SctpEvent>) {
        let dropped: Vec<InStream> = if ids.is_empty() {
            std::mem::take(&mut self.in_streams).into_values().collect()
        } else {
            ids.iter().filter_map(|id| self.in_streams.remove(id)).collect()
        };
        for st in dropped {
            self.buffered -= st.waiting.values().map(|m| m.data.len()).sum::<usize>();
        }
        events.push_back(SctpEvent::IncomingStreamsReset(ids));
    }

    /// Duplicate TSNs for the next SACK, in wire form.
    pub(crate) fn take_duplicates(&mut self) -> Vec<u8> {
        self.duplicates.drain(..).flat_map(u32::to_be_bytes).collect()
    }

    /// Gap ack blocks relative to the cumulative TSN, at most `max_blocks`.
    /// Reporting every block matters: a block reported late looks to the
    /// sender like a burst of deliveries.
    pub(crate) fn gap_blocks(&self, max_blocks: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut current: Option<(u16, u16)> = None;
        let mut blocks = 0;
        for &tsn in self.received_ahead.keys() {
            let off = tsn.wrapping_sub(self.cumulative_tsn);
            let Ok(off) = u16::try_from(off) else {
                break;
            };
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
}

/// The SSN (16 bits, DATA) or MID (32 bits, I-DATA) after `n`.
fn next_in_sequence(n: u32, interleaved: bool) -> u32 {
    if interleaved {
        n.wrapping_add(1)
    } else {
        n.wrapping_add(1) & 0xffff
    }
}

/// Serial number arithmetic on SSNs (RFC 1982).
pub(crate) fn ssn_gt(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < (1 << 15)
}

/// Serial number arithmetic on TSNs (RFC 1982): whether `a` comes after `b`.
pub(crate) fn tsn_gt(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < (1 << 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(tsn: u32, ssn: u16, beginning: bool, ending: bool, payload: &[u8]) -> DataChunk<'_> {
        DataChunk {
            tsn,
            stream_id: 1,
            ssn,
            ppid: 53,
            unordered: false,
            beginning,
            ending,
            immediate: false,
            payload,
        }
    }

    #[test]
    fn out_of_order_data_beyond_the_window_is_dropped() {
        let mut events = VecDeque::new();
        let mut r = Receiver::new(10_000, 5_000);
        r.start(100);
        let chunk = [0u8; 1000];
        let mut verdicts = Vec::new();
        // TSN 100 missing: everything else waits beyond a gap.
        for tsn in 101..200 {
            verdicts.push(
                r.on_data(UserData::from(&data(tsn, 0, true, true, &chunk)), &mut events)
                    .unwrap(),
            );
        }
        assert_eq!(
            verdicts.iter().filter(|v| **v == DataVerdict::Accepted).count(),
            10
        );
        assert!(r.buffered() <= 10_000);
        assert_eq!(r.a_rwnd(), 0);
        // The chunk that fills the gap is still taken.
        assert_eq!(
            r.on_data(UserData::from(&data(100, 0, true, true, &chunk)), &mut events),
            Ok(DataVerdict::Accepted)
        );
    }

    #[test]
    fn a_peer_overrunning_the_window_in_order_is_a_violation() {
        let mut r = Receiver::new(10_000, 5_000);
        r.start(0);
        let mut events = VecDeque::new();
        // Ordered messages that skip SSN 0 pile up waiting for it.
        let chunk = [0u8; 1000];
        let mut result = Ok(DataVerdict::Accepted);
        for tsn in 0..100u32 {
            result = r.on_data(
                UserData::from(&data(tsn, tsn as u16 + 1, true, true, &chunk)),
                &mut events,
            );
            if result.is_err() {
                break;
            }
            r.deliver(&mut events).unwrap();
        }
        assert!(events.is_empty());
        assert_eq!(result, Err("peer overran the receive window"));
        assert!(r.buffered() <= 15_000);
    }

    #[test]
    fn a_message_over_max_message_size_is_a_violation() {
        let mut r = Receiver::new(1 << 20, 2_000);
        r.start(0);
        let mut events = VecDeque::new();
        let chunk = [0u8; 1000];
        r.on_data(UserData::from(&data(0, 0, true, false, &chunk)), &mut events)
            .unwrap();
        r.on_data(UserData::from(&data(1, 0, false, false, &chunk)), &mut events)
            .unwrap();
        assert_eq!(
            r.on_data(UserData::from(&data(2, 0, false, true, &chunk)), &mut events),
            Err("message larger than max-message-size")
        );
        // The same when the fragments arrive out of order and reassembly
        // happens on delivery.
        let mut r = Receiver::new(1 << 20, 2_000);
        r.start(0);
        for tsn in [2, 1, 0] {
            r.on_data(
                UserData::from(&data(tsn, 0, tsn == 0, tsn == 2, &chunk)),
                &mut events,
            )
            .unwrap();
        }
        assert_eq!(
            r.deliver(&mut events),
            Err("message larger than max-message-size")
        );
    }

    #[test]
    fn buffered_returns_to_zero_after_delivery_and_forward_tsn() {
        let mut r = Receiver::new(1 << 20, 1 << 16);
        r.start(0);
        let mut events = VecDeque::new();
        let chunk = [7u8; 500];
        // 0..3 one message; 3 lost; 4..6 the start of another, then the
        // peer gives up TSN 3..5 with FORWARD-TSN.
        r.on_data(UserData::from(&data(0, 0, true, false, &chunk)), &mut events)
            .unwrap();
        r.on_data(UserData::from(&data(1, 0, false, false, &chunk)), &mut events)
            .unwrap();
        r.on_data(UserData::from(&data(2, 0, false, true, &chunk)), &mut events)
            .unwrap();
        r.on_data(UserData::from(&data(4, 1, false, false, &chunk)), &mut events)
            .unwrap();
        r.on_data(UserData::from(&data(6, 2, true, true, &chunk)), &mut events)
            .unwrap();
        r.deliver(&mut events).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(r.buffered(), 1000);
        r.forward(5, [(1u16, false, 1u32)].into_iter(), &mut events)
            .unwrap();
        assert_eq!(events.len(), 2, "the message after the skipped one");
        assert_eq!(r.buffered(), 0);
        assert_eq!(r.cumulative_tsn(), 6);
    }
}
