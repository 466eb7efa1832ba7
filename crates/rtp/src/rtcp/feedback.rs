//! Transport and payload-specific feedback (RFC 4585): generic NACK, PLI,
//! FIR (RFC 5104) and REMB (draft-alvestrand-rmcat-remb-03).

use crate::Error;
use crate::bytes::{be16, be32, byte};
use crate::rtcp::items::{Items, WireItem};
use crate::rtcp::{PSFB, RTPFB};

/// A generic NACK entry (RFC 4585 section 6.2.1): packet `pid` lost, and
/// `pid + i + 1` lost for each bit `i` set in `blp`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NackPair {
    /// Packet ID: the first lost sequence number.
    pub pid: u16,
    /// Bitmask of following lost packets.
    pub blp: u16,
}

impl NackPair {
    /// Every sequence number this entry reports lost, in order.
    pub fn lost(self) -> impl Iterator<Item = u16> {
        core::iter::once(self.pid).chain(
            (0..16u16)
                .filter(move |i| self.blp & (1 << i) != 0)
                .map(move |i| self.pid.wrapping_add(i + 1)),
        )
    }
}

impl WireItem for NackPair {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> NackPair {
        NackPair {
            pid: be16(b, 0),
            blp: be16(b, 2),
        }
    }
    fn write(&self, out: &mut [u8]) {
        out[..2].copy_from_slice(&self.pid.to_be_bytes());
        out[2..4].copy_from_slice(&self.blp.to_be_bytes());
    }
}

/// Groups lost sequence numbers, given in ascending (serial) order, into
/// NACK entries.
pub fn nack_pairs<I: IntoIterator<Item = u16>>(lost: I) -> NackPairs<I::IntoIter> {
    NackPairs {
        lost: lost.into_iter().peekable(),
    }
}

/// Iterator returned by [`nack_pairs`].
#[derive(Debug, Clone)]
pub struct NackPairs<I: Iterator<Item = u16>> {
    lost: core::iter::Peekable<I>,
}

impl<I: Iterator<Item = u16>> Iterator for NackPairs<I> {
    type Item = NackPair;
    fn next(&mut self) -> Option<NackPair> {
        let pid = self.lost.next()?;
        let mut blp = 0u16;
        while let Some(&seq) = self.lost.peek() {
            let d = seq.wrapping_sub(pid);
            if d == 0 {
                self.lost.next();
            } else if d <= 16 {
                blp |= 1 << (d - 1);
                self.lost.next();
            } else {
                break;
            }
        }
        Some(NackPair { pid, blp })
    }
}

/// Generic NACK (RTPFB, FMT 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Nack<'a> {
    /// SSRC of the packet sender (the one asking).
    pub sender_ssrc: u32,
    /// SSRC of the media source that lost packets.
    pub media_ssrc: u32,
    /// The lost packets.
    pub pairs: Items<'a, NackPair>,
}

impl<'a> Nack<'a> {
    pub(crate) fn parse(body: &'a [u8]) -> Result<Nack<'a>, Error> {
        let fci = fci(RTPFB, body)?;
        if fci.len() % NackPair::SIZE != 0 {
            return Err(Error::BadRtcp {
                packet_type: RTPFB,
                reason: "NACK FCI is not a multiple of 4 bytes",
            });
        }
        Ok(Nack {
            sender_ssrc: be32(body, 0),
            media_ssrc: be32(body, 4),
            pairs: Items::Wire(fci),
        })
    }

    /// Every sequence number reported lost.
    pub fn lost(&self) -> impl Iterator<Item = u16> + 'a {
        self.pairs.iter().flat_map(NackPair::lost)
    }
}

/// Picture Loss Indication (PSFB, FMT 1; RFC 4585 section 6.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Pli {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source asked for a key frame.
    pub media_ssrc: u32,
}

/// One Full Intra Request entry (RFC 5104 section 4.3.1.1), 8 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FirEntry {
    /// The media sender asked for a decoder refresh.
    pub ssrc: u32,
    /// Command sequence number, increased for each new request.
    pub sequence: u8,
}

impl WireItem for FirEntry {
    const SIZE: usize = 8;
    fn read(b: &[u8]) -> FirEntry {
        FirEntry {
            ssrc: be32(b, 0),
            sequence: byte(b, 4),
        }
    }
    fn write(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.ssrc.to_be_bytes());
        out[4..8].copy_from_slice(&[self.sequence, 0, 0, 0]);
    }
}

/// Full Intra Request (PSFB, FMT 4; RFC 5104 section 4.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fir<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// Media source field: 0 per RFC 5104 (the entries name the sources).
    pub media_ssrc: u32,
    /// Requests.
    pub entries: Items<'a, FirEntry>,
}

impl<'a> Fir<'a> {
    pub(crate) fn parse(body: &'a [u8]) -> Result<Fir<'a>, Error> {
        let fci = fci(PSFB, body)?;
        if fci.len() % FirEntry::SIZE != 0 {
            return Err(Error::BadRtcp {
                packet_type: PSFB,
                reason: "FIR FCI is not a multiple of 8 bytes",
            });
        }
        Ok(Fir {
            sender_ssrc: be32(body, 0),
            media_ssrc: be32(body, 4),
            entries: Items::Wire(fci),
        })
    }
}

/// A REMB bitrate: an 18-bit mantissa times 2 to a 6-bit exponent, in
/// bits per second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RembBitrate {
    /// Exponent, 0..=63.
    pub exponent: u8,
    /// Mantissa, 0..=0x3ffff.
    pub mantissa: u32,
}

impl RembBitrate {
    /// The largest encodable bitrate not above `bps` (exact up to 2^18).
    pub fn from_bps(bps: u64) -> RembBitrate {
        let mut exponent = 0u8;
        let mut mantissa = bps;
        while mantissa > 0x3ffff {
            mantissa >>= 1;
            exponent += 1;
        }
        RembBitrate {
            exponent,
            mantissa: mantissa as u32,
        }
    }

    /// The bitrate in bits per second, saturating at `u64::MAX`.
    pub fn bps(self) -> u64 {
        let m = u64::from(self.mantissa);
        let e = u32::from(self.exponent);
        if m == 0 {
            0
        } else if e >= m.leading_zeros() {
            u64::MAX
        } else {
            m << e
        }
    }
}

/// Receiver Estimated Maximum Bitrate (PSFB, FMT 15, "REMB").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Remb<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// Media source field: 0 per the draft.
    pub media_ssrc: u32,
    /// The estimate.
    pub bitrate: RembBitrate,
    /// The media sources the estimate applies to, at most 255.
    pub ssrcs: Items<'a, u32>,
}

/// The REMB unique identifier.
pub(crate) const REMB_ID: &[u8; 4] = b"REMB";

impl<'a> Remb<'a> {
    /// Whether a PSFB FMT 15 body is REMB.
    pub(crate) fn is_remb(body: &[u8]) -> bool {
        body.get(8..12) == Some(&REMB_ID[..])
    }

    pub(crate) fn parse(body: &'a [u8]) -> Result<Remb<'a>, Error> {
        let bad = |reason| Error::BadRtcp {
            packet_type: PSFB,
            reason,
        };
        if body.len() < 16 {
            return Err(bad("REMB shorter than 16 bytes"));
        }
        let n = 4 * usize::from(byte(body, 12));
        let ssrcs = body
            .get(16..16 + n)
            .ok_or(bad("REMB SSRC list overruns the packet"))?;
        let br = be32(body, 12) & 0x00ff_ffff;
        Ok(Remb {
            sender_ssrc: be32(body, 0),
            media_ssrc: be32(body, 4),
            bitrate: RembBitrate {
                exponent: (br >> 18) as u8,
                mantissa: br & 0x3ffff,
            },
            ssrcs: Items::Wire(ssrcs),
        })
    }
}

/// The feedback control information after the two SSRCs.
pub(crate) fn fci(packet_type: u8, body: &[u8]) -> Result<&[u8], Error> {
    body.get(8..).ok_or(Error::BadRtcp {
        packet_type,
        reason: "feedback shorter than its two SSRCs",
    })
}
