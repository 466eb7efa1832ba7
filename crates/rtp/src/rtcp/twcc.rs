//! Transport-wide congestion control feedback (RTPFB, FMT 15;
//! draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1).

use core::fmt;

use crate::Error;
use crate::bytes::{be16, be24, be32, byte};
use crate::rtcp::RTPFB;
use crate::rtcp::feedback::fci;

/// Symbol: packet not received.
const NOT_RECEIVED: u8 = 0;
/// Symbol: received, delta fits one unsigned byte.
const SMALL_DELTA: u8 = 1;
/// Symbol: received, delta needs two signed bytes.
const LARGE_DELTA: u8 = 2;

fn symbol(status: Option<i16>) -> u8 {
    match status {
        None => NOT_RECEIVED,
        Some(0..=255) => SMALL_DELTA,
        Some(_) => LARGE_DELTA,
    }
}

/// The per-packet statuses of a feedback message: for each sequence number
/// from the base, `None` when not received, or `Some(delta)` with the
/// receive-time delta in 250 µs ticks (from the previous received packet,
/// or from the reference time for the first).
#[derive(Clone, Copy)]
pub enum PacketStatuses<'a> {
    /// Encoded chunks and deltas from a received packet (validated).
    Wire {
        /// Packet status count.
        count: u16,
        /// The packet status chunks.
        chunks: &'a [u8],
        /// The receive deltas.
        deltas: &'a [u8],
    },
    /// Statuses given by the caller, at most 65535.
    Slice(&'a [Option<i16>]),
}

impl<'a> PacketStatuses<'a> {
    /// Number of packets described (the packet status count).
    pub fn len(&self) -> usize {
        match self {
            PacketStatuses::Wire { count, .. } => usize::from(*count),
            PacketStatuses::Slice(s) => s.len(),
        }
    }

    /// Whether no packet is described.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The statuses in sequence-number order.
    pub fn iter(&self) -> PacketStatusesIter<'a> {
        PacketStatusesIter {
            statuses: *self,
            emitted: 0,
            chunk: 0,
            in_chunk: 0,
            delta: 0,
        }
    }
}

impl PartialEq for PacketStatuses<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for PacketStatuses<'_> {}

impl fmt::Debug for PacketStatuses<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Receive-delta bytes a symbol needs; `None` for the reserved symbol.
fn delta_size(symbol: u8) -> Option<usize> {
    match symbol {
        NOT_RECEIVED => Some(0),
        SMALL_DELTA => Some(1),
        LARGE_DELTA => Some(2),
        _ => None,
    }
}

/// Number of symbols a chunk carries and the symbol at `i`.
fn chunk_len(c: u16) -> usize {
    if c & 0x8000 == 0 {
        usize::from(c & 0x1fff)
    } else if c & 0x4000 == 0 {
        14
    } else {
        7
    }
}

fn chunk_symbol(c: u16, i: usize) -> u8 {
    if c & 0x8000 == 0 {
        ((c >> 13) & 3) as u8
    } else if c & 0x4000 == 0 {
        ((c >> (13 - i)) & 1) as u8
    } else {
        ((c >> (12 - 2 * i)) & 3) as u8
    }
}

/// Iterator over [`PacketStatuses`].
#[derive(Debug, Clone)]
pub struct PacketStatusesIter<'a> {
    statuses: PacketStatuses<'a>,
    emitted: usize,
    chunk: usize,
    in_chunk: usize,
    delta: usize,
}

impl Iterator for PacketStatusesIter<'_> {
    type Item = Option<i16>;

    fn next(&mut self) -> Option<Option<i16>> {
        match self.statuses {
            PacketStatuses::Slice(s) => {
                let st = s.get(self.emitted).copied()?;
                self.emitted += 1;
                Some(st)
            }
            PacketStatuses::Wire {
                count,
                chunks,
                deltas,
            } => {
                if self.emitted >= usize::from(count) {
                    return None;
                }
                let sym = loop {
                    if self.chunk + 2 > chunks.len() {
                        return None;
                    }
                    let c = be16(chunks, self.chunk);
                    if self.in_chunk < chunk_len(c) {
                        let s = chunk_symbol(c, self.in_chunk);
                        self.in_chunk += 1;
                        break s;
                    }
                    self.chunk += 2;
                    self.in_chunk = 0;
                };
                self.emitted += 1;
                match sym {
                    NOT_RECEIVED => Some(None),
                    SMALL_DELTA => {
                        let d = *deltas.get(self.delta)?;
                        self.delta += 1;
                        Some(Some(i16::from(d)))
                    }
                    LARGE_DELTA => {
                        if self.delta + 2 > deltas.len() {
                            return None;
                        }
                        let d = be16(deltas, self.delta) as i16;
                        self.delta += 2;
                        Some(Some(d))
                    }
                    _ => None,
                }
            }
        }
    }
}

/// Transport-wide congestion control feedback (RTPFB, FMT 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportCc<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source (unused by the draft; usually that of the
    /// first stream).
    pub media_ssrc: u32,
    /// Transport-wide sequence number of the first packet described.
    pub base_sequence: u16,
    /// Reference time in 64 ms units, a 24-bit signed value.
    pub reference_time: i32,
    /// Feedback packet count, incremented for each feedback sent.
    pub feedback_count: u8,
    /// One status per packet from `base_sequence`.
    pub statuses: PacketStatuses<'a>,
}

impl<'a> TransportCc<'a> {
    pub(crate) fn parse(body: &'a [u8]) -> Result<TransportCc<'a>, Error> {
        let bad = |reason| Error::BadRtcp {
            packet_type: RTPFB,
            reason,
        };
        let fci = fci(RTPFB, body)?;
        if fci.len() < 8 {
            return Err(bad("transport-cc FCI shorter than 8 bytes"));
        }
        let count = be16(fci, 2);
        let rest = fci.get(8..).unwrap_or(&[]);
        // Walk the chunks once to find where they end and how many delta
        // bytes the received packets need.
        let (mut at, mut left, mut delta_len) = (0usize, usize::from(count), 0usize);
        while left > 0 {
            if at + 2 > rest.len() {
                return Err(bad("transport-cc status chunks truncated"));
            }
            let c = be16(rest, at);
            at += 2;
            let n = chunk_len(c).min(left);
            if c & 0x8000 == 0 {
                delta_len +=
                    n * delta_size(chunk_symbol(c, 0)).ok_or(bad("transport-cc reserved status symbol"))?;
            } else {
                for i in 0..n {
                    delta_len +=
                        delta_size(chunk_symbol(c, i)).ok_or(bad("transport-cc reserved status symbol"))?;
                }
            }
            left -= n;
        }
        let chunks = rest.get(..at).unwrap_or(&[]);
        let deltas = rest
            .get(at..at + delta_len)
            .ok_or(bad("transport-cc receive deltas truncated"))?;
        if rest.len() - at - delta_len > 3 {
            return Err(bad("transport-cc trailing bytes after receive deltas"));
        }
        let rt = be24(fci, 4);
        Ok(TransportCc {
            sender_ssrc: be32(body, 0),
            media_ssrc: be32(body, 4),
            base_sequence: be16(fci, 0),
            reference_time: ((rt << 8) as i32) >> 8,
            feedback_count: byte(fci, 7),
            statuses: PacketStatuses::Wire {
                count,
                chunks,
                deltas,
            },
        })
    }

    /// Each packet's transport-wide sequence number and status.
    pub fn packets(&self) -> impl Iterator<Item = (u16, Option<i16>)> + 'a {
        let base = self.base_sequence;
        self.statuses
            .iter()
            .enumerate()
            .map(move |(i, s)| (base.wrapping_add(i as u16), s))
    }
}

/// Writes the status chunks of `statuses` through `put`, choosing for each
/// stretch a run-length chunk, a 14-symbol one-bit vector or a 7-symbol
/// two-bit vector.
pub(crate) fn write_chunks(
    statuses: PacketStatusesIter<'_>,
    mut put: impl FnMut(u16) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut it = statuses.map(symbol);
    loop {
        let mut ahead = it.clone();
        let Some(first) = ahead.next() else { return Ok(()) };
        let run = 1 + it
            .clone()
            .skip(1)
            .take(0x1fff - 1)
            .take_while(|&s| s == first)
            .count();
        let next14 = it.clone().take(14);
        let (chunk, used) = if run >= 14 {
            ((u16::from(first) << 13) | run as u16, run)
        } else if next14.clone().all(|s| s <= 1) {
            let mut c = 0x8000u16;
            for (i, s) in next14.enumerate() {
                c |= u16::from(s) << (13 - i);
            }
            (c, 14)
        } else if run >= 7 {
            ((u16::from(first) << 13) | run as u16, run)
        } else {
            let mut c = 0xc000u16;
            for (i, s) in it.clone().take(7).enumerate() {
                c |= u16::from(s) << (12 - 2 * i);
            }
            (c, 7)
        };
        put(chunk)?;
        for _ in 0..used {
            if it.next().is_none() {
                break;
            }
        }
    }
}

/// The delta bytes of one status (none when not received).
pub(crate) fn delta_bytes(status: Option<i16>) -> ([u8; 2], usize) {
    match status {
        None => ([0, 0], 0),
        Some(d @ 0..=255) => ([d as u8, 0], 1),
        Some(d) => (d.to_be_bytes(), 2),
    }
}
