//! Sender and receiver reports (RFC 3550 sections 6.4.1 and 6.4.2).

use crate::Error;
use crate::bytes::{be24, be32, be64, byte};
use crate::rtcp::items::{Items, WireItem};
use crate::rtcp::{RR, SR};

/// One reception report block (RFC 3550 section 6.4.1), 24 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction of packets lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative number of packets lost: a 24-bit signed value
    /// (-8388608..=8388607; duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_sequence: u32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received (LSR).
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 seconds (DLSR).
    pub delay_since_last_sr: u32,
}

impl WireItem for ReportBlock {
    const SIZE: usize = 24;

    fn read(b: &[u8]) -> ReportBlock {
        let lost = be24(b, 5);
        // Sign-extend the 24-bit count.
        let cumulative_lost = ((lost << 8) as i32) >> 8;
        ReportBlock {
            ssrc: be32(b, 0),
            fraction_lost: byte(b, 4),
            cumulative_lost,
            extended_highest_sequence: be32(b, 8),
            jitter: be32(b, 12),
            last_sr: be32(b, 16),
            delay_since_last_sr: be32(b, 20),
        }
    }

    fn write(&self, out: &mut [u8]) {
        let lost = (self.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32).to_be_bytes();
        let mut b = [0u8; 24];
        b[..4].copy_from_slice(&self.ssrc.to_be_bytes());
        b[4] = self.fraction_lost;
        b[5..8].copy_from_slice(&lost[1..]);
        b[8..12].copy_from_slice(&self.extended_highest_sequence.to_be_bytes());
        b[12..16].copy_from_slice(&self.jitter.to_be_bytes());
        b[16..20].copy_from_slice(&self.last_sr.to_be_bytes());
        b[20..24].copy_from_slice(&self.delay_since_last_sr.to_be_bytes());
        out.copy_from_slice(&b);
    }
}

/// A sender report (SR, packet type 200).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderReport<'a> {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// NTP timestamp (32.32 fixed-point seconds since 1900).
    pub ntp_time: u64,
    /// The RTP timestamp corresponding to `ntp_time`.
    pub rtp_time: u32,
    /// Packets sent.
    pub packet_count: u32,
    /// Payload octets sent.
    pub octet_count: u32,
    /// Reception report blocks, at most 31.
    pub reports: Items<'a, ReportBlock>,
    /// Profile-specific extension after the report blocks (usually empty).
    pub extension: &'a [u8],
}

/// A receiver report (RR, packet type 201).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    /// The receiver's SSRC.
    pub ssrc: u32,
    /// Reception report blocks, at most 31.
    pub reports: Items<'a, ReportBlock>,
    /// Profile-specific extension after the report blocks (usually empty).
    pub extension: &'a [u8],
}

fn blocks<'a>(pt: u8, count: u8, rest: &'a [u8]) -> Result<(Items<'a, ReportBlock>, &'a [u8]), Error> {
    let n = usize::from(count) * ReportBlock::SIZE;
    let (Some(b), Some(ext)) = (rest.get(..n), rest.get(n..)) else {
        return Err(Error::BadRtcp {
            packet_type: pt,
            reason: "report blocks overrun the packet",
        });
    };
    Ok((Items::Wire(b), ext))
}

impl<'a> SenderReport<'a> {
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<SenderReport<'a>, Error> {
        let rest = body.get(24..).ok_or(Error::BadRtcp {
            packet_type: SR,
            reason: "shorter than sender info",
        })?;
        let (reports, extension) = blocks(SR, count, rest)?;
        Ok(SenderReport {
            ssrc: be32(body, 0),
            ntp_time: be64(body, 4),
            rtp_time: be32(body, 12),
            packet_count: be32(body, 16),
            octet_count: be32(body, 20),
            reports,
            extension,
        })
    }
}

impl<'a> ReceiverReport<'a> {
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<ReceiverReport<'a>, Error> {
        let rest = body.get(4..).ok_or(Error::BadRtcp {
            packet_type: RR,
            reason: "no SSRC",
        })?;
        let (reports, extension) = blocks(RR, count, rest)?;
        Ok(ReceiverReport {
            ssrc: be32(body, 0),
            reports,
            extension,
        })
    }
}
