//! Handshake fragmentation and reassembly (RFC 6347 section 4.2.3).
//!
//! A handshake message longer than what fits in one datagram is sent as
//! several fragments, each with the full 12-byte handshake header plus its
//! `fragment_offset` and `fragment_length`. Fragments can be lost,
//! duplicated, reordered and retransmitted with a different split (a
//! smaller MTU after a timeout), so [`Reassembler`] accepts any pieces in
//! any order and delivers whole messages in `message_seq` order.
//!
//! Bounds, so a peer cannot make us buffer without limit:
//! - a message longer than [`MAX_MESSAGE_LEN`] (64 KiB) is refused with
//!   [`Error::TooLarge`] (a WebRTC certificate chain is ~0.5-2 KiB);
//! - only messages with `message_seq` below `next_seq` +
//!   [`MAX_MESSAGES_AHEAD`] (16) are buffered, later ones are dropped;
//! - at most [`MAX_BUFFERED`] (256 KiB) of message bodies are held; when a
//!   new message does not fit, messages further ahead are evicted for it
//!   (the peer retransmits them), so the next message always has room.

use crate::Error;
use crate::codec::Reader;
use crate::handshake::{HANDSHAKE_HEADER_LEN, HandshakeHeader, HandshakeType, MAX_HANDSHAKE_BODY};

/// Longest handshake message [`Reassembler`] accepts.
pub(crate) const MAX_MESSAGE_LEN: usize = 64 * 1024;
/// How many messages past the next expected one [`Reassembler`] buffers.
pub(crate) const MAX_MESSAGES_AHEAD: u16 = 16;
/// Most message body bytes [`Reassembler`] holds at once.
pub(crate) const MAX_BUFFERED: usize = 256 * 1024;

/// Splits one handshake message (type, message_seq, body) into handshake
/// fragments (12-byte header + fragment bytes) each at most `max_len` bytes
/// long (header included; `max_len` >= 13, smaller values count as 13). An
/// empty body gives one fragment.
///
/// `body` is at most 2^24 - 1 bytes, as
/// [`HandshakeMessage::write_body`](crate::handshake::HandshakeMessage::write_body)
/// guarantees; the lengths of a longer one would be cut to 24 bits.
pub(crate) fn fragment(
    msg_type: HandshakeType,
    message_seq: u16,
    body: &[u8],
    max_len: usize,
) -> Vec<Vec<u8>> {
    debug_assert!(body.len() <= MAX_HANDSHAKE_BODY, "handshake body too long");
    let room = max_len.max(HANDSHAKE_HEADER_LEN + 1) - HANDSHAKE_HEADER_LEN;
    let length = u24(body.len());
    let piece = |offset: usize, bytes: &[u8]| {
        let mut out = Vec::with_capacity(HANDSHAKE_HEADER_LEN + bytes.len());
        HandshakeHeader {
            msg_type,
            length,
            message_seq,
            fragment_offset: u24(offset),
            fragment_length: u24(bytes.len()),
        }
        .write(&mut out);
        out.extend_from_slice(bytes);
        out
    };
    if body.is_empty() {
        return vec![piece(0, &[])];
    }
    body.chunks(room)
        .enumerate()
        .map(|(i, chunk)| piece(i * room, chunk))
        .collect()
}

/// The full, unfragmented encoding (header with fragment_offset 0 and
/// fragment_length = length, then body): what the handshake transcript
/// hashes (RFC 6347 section 4.2.6).
pub(crate) fn full_message(msg_type: HandshakeType, message_seq: u16, body: &[u8]) -> Vec<u8> {
    debug_assert!(body.len() <= MAX_HANDSHAKE_BODY, "handshake body too long");
    let mut out = Vec::with_capacity(HANDSHAKE_HEADER_LEN + body.len());
    HandshakeHeader {
        msg_type,
        length: u24(body.len()),
        message_seq,
        fragment_offset: 0,
        fragment_length: u24(body.len()),
    }
    .write(&mut out);
    out.extend_from_slice(body);
    out
}

/// The low 24 bits of a length.
fn u24(n: usize) -> u32 {
    (n & MAX_HANDSHAKE_BODY) as u32
}

/// Splits the plaintext of a handshake record into fragments: yields
/// `Ok((header, fragment bytes))` for each, `Err` once when a header is
/// malformed or its fragment runs past the record (then stops).
pub(crate) fn handshake_fragments(record: &[u8]) -> HandshakeFragments<'_> {
    HandshakeFragments {
        rest: record,
        failed: false,
    }
}

/// Iterator returned by [`handshake_fragments`].
#[derive(Debug, Clone)]
pub(crate) struct HandshakeFragments<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for HandshakeFragments<'a> {
    type Item = Result<(HandshakeHeader, &'a [u8]), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let mut r = Reader::new(self.rest);
        let item = HandshakeHeader::parse(&mut r).and_then(|h| {
            // fragment_length < 2^24 fits a usize.
            let n = usize::try_from(h.fragment_length)
                .map_err(|_| Error::Decode("handshake fragment: too long"))?;
            let bytes = r
                .take(n)
                .map_err(|_| Error::Decode("handshake fragment: runs past the record"))?;
            Ok((h, bytes))
        });
        match item {
            Ok(_) => self.rest = r.rest(),
            Err(_) => self.failed = true,
        }
        Some(item)
    }
}

/// A message being reassembled.
#[derive(Debug, Clone)]
struct Partial {
    message_seq: u16,
    msg_type: HandshakeType,
    body: Vec<u8>,
    /// One bit per body byte: received.
    have: Vec<u64>,
    /// Bytes received so far.
    received: usize,
}

impl Partial {
    fn has(&self, i: usize) -> bool {
        self.have.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn is_complete(&self) -> bool {
        self.received == self.body.len()
    }
}

/// Reassembles fragments in any order, with duplicates and overlaps,
/// delivering whole messages in message_seq order starting at `next_seq`.
/// Bounded as the [module documentation](self) says.
#[derive(Debug, Clone)]
pub(crate) struct Reassembler {
    /// Next message_seq to deliver; 65536 once message 65535 was delivered.
    next: u32,
    /// Messages at or after `next`, at most [`MAX_MESSAGES_AHEAD`], unordered.
    pending: Vec<Partial>,
    /// Sum of the body lengths in `pending`.
    buffered: usize,
}

impl Reassembler {
    /// A reassembler expecting `next_seq` first.
    pub(crate) fn new(next_seq: u16) -> Self {
        Reassembler {
            next: u32::from(next_seq),
            pending: Vec::new(),
            buffered: 0,
        }
    }

    /// The message_seq of the next message [`pop`](Self::pop) will return
    /// (65535 also once message 65535 was delivered, after which every
    /// fragment is old).
    pub(crate) fn next_seq(&self) -> u16 {
        u16::try_from(self.next).unwrap_or(u16::MAX)
    }

    /// Body bytes currently buffered (at most [`MAX_BUFFERED`]).
    #[allow(dead_code)] // bounds read-outs for tests
    pub(crate) fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Messages currently buffered, complete or not (at most
    /// [`MAX_MESSAGES_AHEAD`]).
    #[allow(dead_code)] // bounds read-outs for tests
    pub(crate) fn buffered_messages(&self) -> usize {
        self.pending.len()
    }

    /// One fragment (header parsed, fragment bytes). Fragments of
    /// already-delivered messages (message_seq < next_seq) return
    /// `Ok(false)` (the caller may use that to detect a retransmitted
    /// flight); so do fragments bringing nothing new (all their bytes
    /// already received) and fragments dropped by the bounds (too far
    /// ahead, no room). `Ok(true)`: the fragment started a message or added
    /// bytes to one.
    ///
    /// Errors, leaving the state unchanged, on inconsistent fragments:
    /// `fragment` not `fragment_length` long, a fragment overrunning
    /// `length`, a type or length disagreeing with earlier fragments of the
    /// same message, or bytes differing from ones already received
    /// ([`Error::Decode`]); a message longer than [`MAX_MESSAGE_LEN`]
    /// ([`Error::TooLarge`]).
    pub(crate) fn push(&mut self, header: &HandshakeHeader, fragment: &[u8]) -> Result<bool, Error> {
        let length = header.length as usize;
        let offset = header.fragment_offset as usize;
        if fragment.len() != header.fragment_length as usize {
            return Err(Error::Decode(
                "handshake fragment: length disagrees with its header",
            ));
        }
        let end = offset
            .checked_add(fragment.len())
            .filter(|&end| end <= length)
            .ok_or(Error::Decode("handshake fragment: outside the message"))?;
        let seq = u32::from(header.message_seq);
        if seq < self.next || seq >= self.next + u32::from(MAX_MESSAGES_AHEAD) {
            return Ok(false);
        }
        if length > MAX_MESSAGE_LEN {
            return Err(Error::TooLarge("handshake message longer than 64 KiB"));
        }

        let Some(index) = self
            .pending
            .iter()
            .position(|p| p.message_seq == header.message_seq)
        else {
            if !self.make_room(header.message_seq, length) {
                return Ok(false);
            }
            let mut p = Partial {
                message_seq: header.message_seq,
                msg_type: header.msg_type,
                body: vec![0; length],
                have: vec![0; length.div_ceil(64)],
                received: 0,
            };
            fill(&mut p, offset, fragment);
            self.buffered += length;
            self.pending.push(p);
            return Ok(true);
        };

        let p = &mut self.pending[index];
        if p.msg_type != header.msg_type || p.body.len() != length {
            return Err(Error::Decode(
                "handshake fragment: disagrees with earlier fragments",
            ));
        }
        let differs = (offset..end)
            .zip(fragment)
            .any(|(i, &b)| p.has(i) && p.body.get(i) != Some(&b));
        if differs {
            return Err(Error::Decode("handshake fragment: overlap with different bytes"));
        }
        Ok(fill(p, offset, fragment) > 0)
    }

    /// Frees space for a new message of `length` bytes with `message_seq`,
    /// evicting messages further ahead, farthest first. False if it still
    /// does not fit (only messages nearer than it are buffered).
    fn make_room(&mut self, message_seq: u16, length: usize) -> bool {
        while self.buffered + length > MAX_BUFFERED || self.pending.len() >= usize::from(MAX_MESSAGES_AHEAD) {
            let farthest = self
                .pending
                .iter()
                .enumerate()
                .filter(|(_, p)| p.message_seq > message_seq)
                .max_by_key(|(_, p)| p.message_seq)
                .map(|(i, _)| i);
            let Some(i) = farthest else { return false };
            let evicted = self.pending.swap_remove(i);
            self.buffered -= evicted.body.len();
        }
        true
    }

    /// The next complete message: (type, message_seq, body).
    pub(crate) fn pop(&mut self) -> Option<(HandshakeType, u16, Vec<u8>)> {
        let index = self
            .pending
            .iter()
            .position(|p| u32::from(p.message_seq) == self.next && p.is_complete())?;
        let p = self.pending.swap_remove(index);
        self.buffered -= p.body.len();
        self.next += 1;
        Some((p.msg_type, p.message_seq, p.body))
    }
}

/// Copies `fragment` into `p` at `offset` (already checked to fit) and
/// marks it received; returns how many bytes were new.
fn fill(p: &mut Partial, offset: usize, fragment: &[u8]) -> usize {
    let mut new = 0;
    for (i, &b) in (offset..).zip(fragment) {
        if !p.has(i) {
            if let (Some(slot), Some(word)) = (p.body.get_mut(i), p.have.get_mut(i / 64)) {
                *slot = b;
                *word |= 1 << (i % 64);
                new += 1;
            }
        }
    }
    p.received += new;
    new
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use proptest::prelude::*;

    fn header(bytes: &[u8]) -> (HandshakeHeader, &[u8]) {
        let mut r = Reader::new(bytes);
        let h = HandshakeHeader::parse(&mut r).unwrap();
        let f = r.rest();
        assert_eq!(f.len(), h.fragment_length as usize);
        (h, f)
    }

    fn hdr(seq: u16, length: u32, offset: u32, fragment_length: u32) -> HandshakeHeader {
        HandshakeHeader {
            msg_type: HandshakeType::Certificate,
            length,
            message_seq: seq,
            fragment_offset: offset,
            fragment_length,
        }
    }

    #[test]
    fn fragment_layout() {
        let body: Vec<u8> = (0..30).collect();
        let frags = fragment(HandshakeType::Certificate, 2, &body, 12 + 10);
        assert_eq!(frags.len(), 3);
        assert_eq!(
            frags[1],
            [
                &[0x0b, 0, 0, 30, 0, 2, 0, 0, 10, 0, 0, 10][..],
                &[10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
            ]
            .concat()
        );
        assert!(frags.iter().all(|f| f.len() <= 22));
        // One byte per fragment at the smallest size, and sizes below it are clamped.
        assert_eq!(fragment(HandshakeType::Finished, 0, &body, 13).len(), 30);
        assert_eq!(fragment(HandshakeType::Finished, 0, &body, 0).len(), 30);
        // Empty body: one fragment, the header alone.
        assert_eq!(
            fragment(HandshakeType::ServerHelloDone, 4, &[], 100),
            [vec![0x0e, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0]]
        );
        assert_eq!(
            full_message(HandshakeType::Finished, 5, &[1, 2]),
            [0x14, 0, 0, 2, 0, 5, 0, 0, 0, 0, 0, 2, 1, 2]
        );
    }

    #[test]
    fn chromium_client_hello_in_two_records() {
        let body = crate::test_vectors::chromium_client_hello();
        // 1,200-byte records: 13 record header + 12 handshake header + 1,175.
        let frags = fragment(HandshakeType::ClientHello, 0, &body, 1200 - 13);
        assert_eq!(frags.len(), 2);
        assert_eq!(frags[0].len(), 1187);
        assert_eq!(frags[1].len(), 12 + 1402 - 1175);
        let mut r = Reassembler::new(0);
        let (h, f) = header(&frags[1]);
        assert_eq!(r.push(&h, f), Ok(true));
        assert_eq!(r.pop(), None);
        let (h, f) = header(&frags[0]);
        assert_eq!(r.push(&h, f), Ok(true));
        assert_eq!(r.pop(), Some((HandshakeType::ClientHello, 0, body)));
        assert_eq!(r.next_seq(), 1);
        assert_eq!(r.buffered_bytes(), 0);
        // A retransmission of the delivered message is reported as old.
        assert_eq!(r.push(&h, f), Ok(false));
    }

    #[test]
    fn fragments_iterator() {
        let mut record = full_message(HandshakeType::ServerHelloDone, 3, &[]);
        record.extend(full_message(HandshakeType::Finished, 4, &[7; 12]));
        let got: Vec<_> = handshake_fragments(&record).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0.message_seq, 4);
        assert_eq!(got[1].1, &[7; 12]);
        // A fragment longer than the record: one error, then nothing.
        record.pop();
        let items: Vec<_> = handshake_fragments(&record).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[1],
            Err(Error::Decode("handshake fragment: runs past the record"))
        );
    }

    #[test]
    fn messages_delivered_in_order() {
        let mut r = Reassembler::new(1);
        let m2 = full_message(HandshakeType::ServerHelloDone, 2, &[]);
        let m1 = full_message(HandshakeType::Certificate, 1, &[0, 0, 0]);
        let (h, f) = header(&m2);
        assert_eq!(r.push(&h, f), Ok(true));
        assert_eq!(r.pop(), None, "message 1 comes first");
        let (h, f) = header(&m1);
        assert_eq!(r.push(&h, f), Ok(true));
        assert_eq!(r.push(&h, f), Ok(false), "duplicate");
        assert_eq!(r.pop(), Some((HandshakeType::Certificate, 1, vec![0, 0, 0])));
        assert_eq!(r.pop(), Some((HandshakeType::ServerHelloDone, 2, vec![])));
        assert_eq!(r.pop(), None);
        assert_eq!(r.next_seq(), 3);
        // Message 0, before the start, is old.
        let m0 = full_message(HandshakeType::ClientHello, 0, &[1]);
        let (h, f) = header(&m0);
        assert_eq!(r.push(&h, f), Ok(false));
    }

    #[test]
    fn inconsistent_fragments_are_errors_and_change_nothing() {
        let mut r = Reassembler::new(0);
        assert_eq!(r.push(&hdr(0, 10, 0, 6), &[1, 2, 3, 4, 5, 6]), Ok(true));
        // Overlap with a different byte.
        assert_eq!(
            r.push(&hdr(0, 10, 4, 6), &[5, 0, 7, 8, 9, 10]),
            Err(Error::Decode("handshake fragment: overlap with different bytes"))
        );
        // Different total length, different type.
        assert!(r.push(&hdr(0, 11, 6, 4), &[7, 8, 9, 10]).is_err());
        let mut other_type = hdr(0, 10, 6, 4);
        other_type.msg_type = HandshakeType::Finished;
        assert!(r.push(&other_type, &[7, 8, 9, 10]).is_err());
        // Fragment bytes not matching fragment_length; fragment past the end.
        assert!(r.push(&hdr(0, 10, 6, 4), &[7, 8, 9]).is_err());
        assert!(r.push(&hdr(0, 10, 8, 4), &[9, 10, 11, 12]).is_err());
        assert_eq!(r.pop(), None);
        // Consistent overlap completes it.
        assert_eq!(r.push(&hdr(0, 10, 4, 6), &[5, 6, 7, 8, 9, 10]), Ok(true));
        assert_eq!(r.pop(), Some((HandshakeType::Certificate, 0, (1..=10).collect())));
    }

    #[test]
    fn bounds() {
        let mut r = Reassembler::new(0);
        // Too large.
        assert_eq!(
            r.push(&hdr(0, 65537, 0, 1), &[0]),
            Err(Error::TooLarge("handshake message longer than 64 KiB"))
        );
        assert_eq!(r.push(&hdr(0, 65536, 0, 1), &[0]), Ok(true));
        // Too far ahead.
        assert_eq!(r.push(&hdr(16, 1, 0, 1), &[0]), Ok(false));
        assert_eq!(r.push(&hdr(15, 1, 0, 1), &[0]), Ok(true));
        assert_eq!(r.buffered_messages(), 2);
        // Byte cap: 0 (64 KiB) + 15 (1 byte) + 1, 2 (64 KiB each), then 3
        // fits only by evicting 15, which is farther ahead.
        for seq in [1, 2, 3] {
            assert_eq!(r.push(&hdr(seq, 65536, 0, 1), &[0]), Ok(true));
        }
        assert_eq!(r.buffered_bytes(), MAX_BUFFERED);
        assert_eq!(r.buffered_messages(), 4);
        assert_eq!(
            r.push(&hdr(15, 1, 0, 1), &[0]),
            Ok(false),
            "15 was evicted, no room now"
        );
        assert_eq!(
            r.push(&hdr(4, 65536, 0, 1), &[0]),
            Ok(false),
            "nothing farther than 4 to evict"
        );
        assert_eq!(r.buffered_bytes(), MAX_BUFFERED);
        // Message 1 with another length is an error.
        assert!(r.push(&hdr(1, 10, 0, 1), &[0]).is_err());
        // A nearer message evicts farther ones: restart with 3 big ahead.
        let mut r = Reassembler::new(0);
        for seq in [1, 2, 3, 4] {
            assert_eq!(r.push(&hdr(seq, 65536, 0, 1), &[0]), Ok(true));
        }
        assert_eq!(r.buffered_bytes(), MAX_BUFFERED);
        assert_eq!(
            r.push(&hdr(0, 65536, 0, 1), &[0]),
            Ok(true),
            "the next message always fits"
        );
        assert_eq!(r.buffered_bytes(), MAX_BUFFERED);
        assert_eq!(r.buffered_messages(), 4);
        // Message 4 was evicted, and there is no room to start it again.
        assert_eq!(r.push(&hdr(4, 65536, 1, 1), &[0]), Ok(false));
        assert_eq!(r.push(&hdr(3, 65536, 1, 1), &[0]), Ok(true));
    }

    #[test]
    fn sixteen_messages_ahead_at_most() {
        let mut r = Reassembler::new(0);
        for seq in (1..16).rev() {
            assert_eq!(r.push(&hdr(seq, 1, 0, 1), &[seq as u8]), Ok(true));
        }
        assert_eq!(r.buffered_messages(), 15);
        assert_eq!(r.push(&hdr(0, 1, 0, 1), &[0]), Ok(true));
        assert_eq!(r.buffered_messages(), 16);
        for seq in 0..16u16 {
            assert_eq!(r.pop(), Some((HandshakeType::Certificate, seq, vec![seq as u8])));
        }
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn last_sequence_number() {
        let mut r = Reassembler::new(u16::MAX);
        assert_eq!(r.push(&hdr(u16::MAX, 0, 0, 0), &[]), Ok(true));
        assert!(r.pop().is_some());
        assert_eq!(r.next_seq(), u16::MAX);
        assert_eq!(r.push(&hdr(u16::MAX, 0, 0, 0), &[]), Ok(false));
        assert_eq!(r.pop(), None);
    }

    /// Splits `body` into pieces at the cut points `cuts` (fractions of the length).
    fn pieces(len: usize, cuts: &[u16]) -> Vec<(usize, usize)> {
        let mut points: Vec<usize> = cuts.iter().map(|&c| usize::from(c) * len / 65536).collect();
        points.push(0);
        points.push(len);
        points.sort_unstable();
        points.dedup();
        points.windows(2).map(|w| (w[0], w[1])).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_split_any_order_arrives_intact(
            bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..3000), 1..4),
            mtus in prop::collection::vec(13usize..1500, 1..4),
            extra in prop::collection::vec((any::<u16>(), any::<u16>()), 0..8),
            order in any::<u64>(),
            dups in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
            first_seq in 0u16..100,
        ) {
            // Every message split at every MTU (as after MTU back-off
            // retransmissions), plus arbitrary overlapping ranges.
            let mut frags: Vec<Vec<u8>> = Vec::new();
            for (i, body) in bodies.iter().enumerate() {
                let seq = first_seq + i as u16;
                for &mtu in &mtus {
                    frags.extend(fragment(HandshakeType::Certificate, seq, body, mtu));
                }
                for &(a, b) in extra.iter().filter(|_| !body.is_empty()) {
                    let (lo, hi) = pieces(body.len(), &[a, b])[0];
                    let h = HandshakeHeader {
                        msg_type: HandshakeType::Certificate,
                        length: body.len() as u32,
                        message_seq: seq,
                        fragment_offset: lo as u32,
                        fragment_length: (hi - lo) as u32,
                    };
                    let mut f = Vec::new();
                    h.write(&mut f);
                    f.extend_from_slice(&body[lo..hi]);
                    frags.push(f);
                }
            }
            for d in &dups {
                let f = d.get(&frags).clone();
                frags.push(f);
            }
            // Deterministic shuffle from `order`.
            let mut state = order | 1;
            for i in (1..frags.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                frags.swap(i, (state % (i as u64 + 1)) as usize);
            }

            let mut r = Reassembler::new(first_seq);
            let mut delivered = Vec::new();
            for f in &frags {
                let (h, bytes) = header(f);
                r.push(&h, bytes).unwrap();
                prop_assert!(r.buffered_bytes() <= MAX_BUFFERED);
                prop_assert!(r.buffered_messages() <= usize::from(MAX_MESSAGES_AHEAD));
                while let Some(m) = r.pop() {
                    delivered.push(m);
                }
            }
            let expected: Vec<_> = bodies
                .iter()
                .enumerate()
                .map(|(i, b)| (HandshakeType::Certificate, first_seq + i as u16, b.clone()))
                .collect();
            prop_assert_eq!(delivered, expected);
            prop_assert_eq!(r.buffered_bytes(), 0);
            prop_assert_eq!(r.next_seq(), first_seq + bodies.len() as u16);
        }

        #[test]
        fn a_changed_byte_in_an_overlap_is_caught(
            body in prop::collection::vec(any::<u8>(), 2..2000),
            cut in any::<u16>(),
            at in any::<prop::sample::Index>(),
        ) {
            // Two fragments that overlap at least at `i`; the second has that byte changed.
            let i = at.index(body.len());
            let split = (usize::from(cut) * body.len() / 65536).max(1);
            let (a, b) = if i < split { ((0, split), (i, body.len())) } else { ((i, body.len()), (0, i + 1)) };
            let mut r = Reassembler::new(0);
            let len = body.len() as u32;
            let h = |(lo, hi): (usize, usize)| hdr(0, len, lo as u32, (hi - lo) as u32);
            prop_assert_eq!(r.push(&h(a), &body[a.0..a.1]), Ok(true));
            let mut changed = body[b.0..b.1].to_vec();
            changed[i - b.0] ^= 0x5a;
            prop_assert!(r.push(&h(b), &changed).is_err());
            // The unchanged one completes the message.
            prop_assert!(r.push(&h(b), &body[b.0..b.1]).is_ok());
            let complete = a.0 == 0 && b.1 == body.len() || b.0 == 0 && a.1 == body.len();
            prop_assert_eq!(r.pop().map(|m| m.2), complete.then(|| body.clone()));
        }

        #[test]
        fn arbitrary_headers_respect_the_bounds(
            frags in prop::collection::vec(
                (0u16..40, 0u32..200_000, any::<u32>(), 0usize..300, any::<bool>()),
                0..200,
            ),
        ) {
            let mut r = Reassembler::new(3);
            for (seq, length, offset, flen, ty) in frags {
                let h = HandshakeHeader {
                    msg_type: if ty { HandshakeType::Certificate } else { HandshakeType::Finished },
                    length,
                    message_seq: seq,
                    fragment_offset: offset % (length + 1),
                    fragment_length: flen as u32,
                };
                let _ = r.push(&h, &vec![seq as u8; flen]);
                prop_assert!(r.buffered_bytes() <= MAX_BUFFERED);
                prop_assert!(r.buffered_messages() <= usize::from(MAX_MESSAGES_AHEAD));
                while let Some((_, seq, body)) = r.pop() {
                    prop_assert!(body.len() <= MAX_MESSAGE_LEN);
                    prop_assert!(body.iter().all(|&b| b == seq as u8));
                }
            }
        }
    }
}
