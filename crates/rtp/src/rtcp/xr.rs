//! Extended reports (XR, RFC 3611): receiver reference time and DLRR
//! blocks, other blocks kept as bytes.

use core::fmt;

use crate::Error;
use crate::bytes::{be16, be32, be64, byte};
use crate::rtcp::XR;
use crate::rtcp::items::{Items, WireItem};

/// XR block type of a Receiver Reference Time Report block (RFC 3611 section 4.4).
pub const XR_RRTR: u8 = 4;
/// XR block type of a DLRR Report block (RFC 3611 section 4.5).
pub const XR_DLRR: u8 = 5;

/// One DLRR sub-block (RFC 3611 section 4.5), 12 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DlrrItem {
    /// The receiver the sub-block answers.
    pub ssrc: u32,
    /// Middle 32 bits of the NTP timestamp of its last RRTR (LRR).
    pub last_rr: u32,
    /// Delay since that RRTR, in 1/65536 seconds (DLRR).
    pub delay_since_last_rr: u32,
}

impl WireItem for DlrrItem {
    const SIZE: usize = 12;
    fn read(b: &[u8]) -> DlrrItem {
        DlrrItem {
            ssrc: be32(b, 0),
            last_rr: be32(b, 4),
            delay_since_last_rr: be32(b, 8),
        }
    }
    fn write(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.ssrc.to_be_bytes());
        out[4..8].copy_from_slice(&self.last_rr.to_be_bytes());
        out[8..12].copy_from_slice(&self.delay_since_last_rr.to_be_bytes());
    }
}

/// One XR report block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrBlock<'a> {
    /// Receiver Reference Time Report: the receiver's NTP time.
    Rrtr {
        /// NTP timestamp (32.32).
        ntp_time: u64,
    },
    /// DLRR Report: answers to RRTRs.
    Dlrr(Items<'a, DlrrItem>),
    /// Any other block type, as bytes.
    Other {
        /// Block type.
        block_type: u8,
        /// The type-specific byte.
        type_specific: u8,
        /// Block contents (a multiple of 4 bytes).
        data: &'a [u8],
    },
}

/// The report blocks of an XR packet.
#[derive(Clone, Copy)]
pub enum XrBlocks<'a> {
    /// Encoded blocks (validated when parsed).
    Wire(&'a [u8]),
    /// Blocks given by the caller.
    Slice(&'a [XrBlock<'a>]),
}

impl<'a> XrBlocks<'a> {
    /// The blocks in order.
    pub fn iter(&self) -> XrBlocksIter<'a> {
        XrBlocksIter {
            blocks: *self,
            pos: 0,
        }
    }
}

impl PartialEq for XrBlocks<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for XrBlocks<'_> {}

impl fmt::Debug for XrBlocks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

fn read_block(b: &[u8], pos: usize) -> Result<(XrBlock<'_>, usize), Error> {
    let bad = |reason| Error::BadRtcp {
        packet_type: XR,
        reason,
    };
    if b.len() < pos + 4 {
        return Err(bad("block header truncated"));
    }
    let block_type = byte(b, pos);
    let type_specific = byte(b, pos + 1);
    let len = 4 * usize::from(be16(b, pos + 2));
    let data = b
        .get(pos + 4..pos + 4 + len)
        .ok_or(bad("block overruns the packet"))?;
    let block = match block_type {
        XR_RRTR => {
            if len != 8 {
                return Err(bad("RRTR block is not 8 bytes"));
            }
            XrBlock::Rrtr {
                ntp_time: be64(data, 0),
            }
        }
        XR_DLRR => {
            if len % DlrrItem::SIZE != 0 {
                return Err(bad("DLRR block is not a multiple of 12 bytes"));
            }
            XrBlock::Dlrr(Items::Wire(data))
        }
        _ => XrBlock::Other {
            block_type,
            type_specific,
            data,
        },
    };
    Ok((block, pos + 4 + len))
}

/// Iterator over [`XrBlocks`].
#[derive(Debug, Clone)]
pub struct XrBlocksIter<'a> {
    blocks: XrBlocks<'a>,
    pos: usize,
}

impl<'a> Iterator for XrBlocksIter<'a> {
    type Item = XrBlock<'a>;
    fn next(&mut self) -> Option<XrBlock<'a>> {
        match self.blocks {
            XrBlocks::Wire(b) => {
                if self.pos >= b.len() {
                    return None;
                }
                let (block, next) = read_block(b, self.pos).ok()?;
                self.pos = next;
                Some(block)
            }
            XrBlocks::Slice(s) => {
                let block = s.get(self.pos).copied()?;
                self.pos += 1;
                Some(block)
            }
        }
    }
}

/// An extended report packet (XR, packet type 207).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xr<'a> {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// Report blocks.
    pub blocks: XrBlocks<'a>,
}

impl<'a> Xr<'a> {
    pub(crate) fn parse(body: &'a [u8]) -> Result<Xr<'a>, Error> {
        let blocks = body.get(4..).ok_or(Error::BadRtcp {
            packet_type: XR,
            reason: "no SSRC",
        })?;
        let mut pos = 0;
        while pos < blocks.len() {
            pos = read_block(blocks, pos)?.1;
        }
        Ok(Xr {
            ssrc: be32(body, 0),
            blocks: XrBlocks::Wire(blocks),
        })
    }
}
