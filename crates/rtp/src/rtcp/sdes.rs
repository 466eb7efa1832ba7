//! Source description, goodbye and application-defined packets (RFC 3550
//! sections 6.5, 6.6 and 6.7).

use core::fmt;

use crate::Error;
use crate::bytes::{be32, byte};
use crate::rtcp::items::Items;
use crate::rtcp::{APP, BYE, SDES};

/// SDES item types (RFC 3550 section 6.5).
pub mod sdes_type {
    /// Canonical end-point identifier.
    pub const CNAME: u8 = 1;
    /// User name.
    pub const NAME: u8 = 2;
    /// Electronic mail address.
    pub const EMAIL: u8 = 3;
    /// Phone number.
    pub const PHONE: u8 = 4;
    /// Geographic user location.
    pub const LOC: u8 = 5;
    /// Application or tool name.
    pub const TOOL: u8 = 6;
    /// Notice/status.
    pub const NOTE: u8 = 7;
    /// Private extensions.
    pub const PRIV: u8 = 8;
}

/// One SDES item: a type (1..=255; 0 ends a chunk on the wire) and up to
/// 255 bytes of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SdesItem<'a> {
    /// Item type, see [`sdes_type`].
    pub kind: u8,
    /// The value (UTF-8 text by the RFC; not checked).
    pub value: &'a [u8],
}

/// The items of one SDES chunk.
#[derive(Clone, Copy)]
pub enum SdesItems<'a> {
    /// Encoded items (validated when parsed), without the terminator.
    Wire(&'a [u8]),
    /// Items given by the caller.
    Slice(&'a [SdesItem<'a>]),
}

impl<'a> SdesItems<'a> {
    /// The items in order.
    pub fn iter(&self) -> SdesItemsIter<'a> {
        SdesItemsIter { items: *self, pos: 0 }
    }
}

impl PartialEq for SdesItems<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SdesItems<'_> {}

impl fmt::Debug for SdesItems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`SdesItems`].
#[derive(Debug, Clone)]
pub struct SdesItemsIter<'a> {
    items: SdesItems<'a>,
    pos: usize,
}

impl<'a> Iterator for SdesItemsIter<'a> {
    type Item = SdesItem<'a>;
    fn next(&mut self) -> Option<SdesItem<'a>> {
        match self.items {
            SdesItems::Wire(b) => {
                let kind = *b.get(self.pos)?;
                let len = usize::from(*b.get(self.pos + 1)?);
                let value = b.get(self.pos + 2..self.pos + 2 + len)?;
                self.pos += 2 + len;
                Some(SdesItem { kind, value })
            }
            SdesItems::Slice(s) => {
                let item = s.get(self.pos).copied()?;
                self.pos += 1;
                Some(item)
            }
        }
    }
}

/// One SDES chunk: a source and its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: u32,
    /// Its items.
    pub items: SdesItems<'a>,
}

/// The chunks of an SDES packet.
#[derive(Clone, Copy)]
pub enum SdesChunks<'a> {
    /// Encoded chunks from a received packet (validated when parsed).
    Wire {
        /// The bytes of all chunks.
        data: &'a [u8],
        /// Number of chunks.
        count: u8,
    },
    /// Chunks given by the caller.
    Slice(&'a [SdesChunk<'a>]),
}

impl<'a> SdesChunks<'a> {
    /// Number of chunks.
    pub fn len(&self) -> usize {
        match self {
            SdesChunks::Wire { count, .. } => usize::from(*count),
            SdesChunks::Slice(s) => s.len(),
        }
    }

    /// Whether there are no chunks.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The chunks in order.
    pub fn iter(&self) -> SdesChunksIter<'a> {
        SdesChunksIter {
            chunks: *self,
            pos: 0,
            index: 0,
        }
    }
}

impl PartialEq for SdesChunks<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for SdesChunks<'_> {}

impl fmt::Debug for SdesChunks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`SdesChunks`].
#[derive(Debug, Clone)]
pub struct SdesChunksIter<'a> {
    chunks: SdesChunks<'a>,
    pos: usize,
    index: usize,
}

/// Walks one encoded chunk at `pos`: returns its SSRC, its items' bytes
/// and where the next chunk starts.
fn walk_chunk(b: &[u8], pos: usize) -> Result<(u32, &[u8], usize), Error> {
    let bad = |reason| Error::BadRtcp {
        packet_type: SDES,
        reason,
    };
    if b.len() < pos + 4 {
        return Err(bad("chunk SSRC truncated"));
    }
    let ssrc = be32(b, pos);
    let start = pos + 4;
    let mut at = start;
    loop {
        let kind = *b.get(at).ok_or(bad("chunk lacks its null terminator"))?;
        if kind == 0 {
            let items = b.get(start..at).ok_or(bad("chunk items"))?;
            // The terminator, then padding to the next 32-bit boundary.
            let next = (at + 1).next_multiple_of(4);
            if next > b.len() {
                return Err(bad("chunk padding truncated"));
            }
            return Ok((ssrc, items, next));
        }
        let len = usize::from(*b.get(at + 1).ok_or(bad("item header truncated"))?);
        at += 2 + len;
        if at > b.len() {
            return Err(bad("item overruns the packet"));
        }
    }
}

impl<'a> Iterator for SdesChunksIter<'a> {
    type Item = SdesChunk<'a>;
    fn next(&mut self) -> Option<SdesChunk<'a>> {
        match self.chunks {
            SdesChunks::Wire { data, count } => {
                if self.index >= usize::from(count) {
                    return None;
                }
                let (ssrc, items, next) = walk_chunk(data, self.pos).ok()?;
                self.pos = next;
                self.index += 1;
                Some(SdesChunk {
                    ssrc,
                    items: SdesItems::Wire(items),
                })
            }
            SdesChunks::Slice(s) => {
                let c = s.get(self.index).copied()?;
                self.index += 1;
                Some(c)
            }
        }
    }
}

/// A source description packet (SDES, packet type 202).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdes<'a> {
    /// Chunks, at most 31.
    pub chunks: SdesChunks<'a>,
}

impl<'a> Sdes<'a> {
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<Sdes<'a>, Error> {
        let mut pos = 0;
        for _ in 0..count {
            pos = walk_chunk(body, pos)?.2;
        }
        let data = body.get(..pos).unwrap_or(&[]);
        Ok(Sdes {
            chunks: SdesChunks::Wire { data, count },
        })
    }

    /// The CNAME of the first chunk that has one.
    pub fn cname(&self) -> Option<&'a [u8]> {
        self.chunks.iter().find_map(|c| {
            c.items
                .iter()
                .find(|i| i.kind == sdes_type::CNAME)
                .map(|i| i.value)
        })
    }
}

/// A goodbye packet (BYE, packet type 203).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bye<'a> {
    /// Sources leaving, at most 31.
    pub sources: Items<'a, u32>,
    /// Optional reason for leaving, at most 255 bytes.
    pub reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<Bye<'a>, Error> {
        let n = 4 * usize::from(count);
        let (Some(sources), Some(rest)) = (body.get(..n), body.get(n..)) else {
            return Err(Error::BadRtcp {
                packet_type: BYE,
                reason: "SSRC list overruns the packet",
            });
        };
        let reason = match rest.first() {
            None => None,
            Some(&len) => Some(rest.get(1..1 + usize::from(len)).ok_or(Error::BadRtcp {
                packet_type: BYE,
                reason: "reason overruns the packet",
            })?),
        };
        Ok(Bye {
            sources: Items::Wire(sources),
            reason,
        })
    }
}

/// An application-defined packet (APP, packet type 204).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct App<'a> {
    /// Subtype, 0..=31.
    pub subtype: u8,
    /// The sender's SSRC.
    pub ssrc: u32,
    /// Four ASCII characters naming the application.
    pub name: [u8; 4],
    /// Application data.
    pub data: &'a [u8],
}

impl<'a> App<'a> {
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<App<'a>, Error> {
        let data = body.get(8..).ok_or(Error::BadRtcp {
            packet_type: APP,
            reason: "shorter than SSRC and name",
        })?;
        let name = [byte(body, 4), byte(body, 5), byte(body, 6), byte(body, 7)];
        Ok(App {
            subtype: count,
            ssrc: be32(body, 0),
            name,
            data,
        })
    }
}
