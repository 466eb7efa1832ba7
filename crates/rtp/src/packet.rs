//! The RTP fixed header, CSRC list and header extension block as a
//! zero-copy view (RFC 3550 section 5.1, section 5.3.1).

use crate::Error;
use crate::bytes::{be16, be32};
use crate::extensions::Extensions;

/// Length of the fixed RTP header, before CSRCs.
pub const FIXED_HEADER_LEN: usize = 12;

/// RTP version carried in every packet (RFC 3550 section 5.1).
pub const RTP_VERSION: u8 = 2;

/// A read (and, over `&mut [u8]`, write) view of an RTP packet.
///
/// [`RtpPacket::new_checked`] validates the version and that the buffer
/// holds the fixed header, every CSRC and the whole header extension block.
/// Once it succeeds no accessor panics. Padding is *not* checked by
/// `new_checked`, because under SRTP the padding count is encrypted; it is
/// checked by [`RtpPacket::payload`] and [`RtpPacket::padding_len`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<T: AsRef<[u8]>> {
    buffer: T,
    header_len: usize,
}

/// Validates the RTP header in `buf` and returns its length: fixed header,
/// CSRCs and extension block (RFC 3550 section 5.1).
pub fn rtp_header_len(buf: &[u8]) -> Result<usize, Error> {
    let first = *buf.first().ok_or(Error::Truncated {
        what: "RTP header",
        needed: FIXED_HEADER_LEN,
        available: 0,
    })?;
    let version = first >> 6;
    if version != RTP_VERSION {
        return Err(Error::BadVersion(version));
    }
    if buf.len() < FIXED_HEADER_LEN {
        return Err(Error::Truncated {
            what: "RTP header",
            needed: FIXED_HEADER_LEN,
            available: buf.len(),
        });
    }
    let mut len = FIXED_HEADER_LEN + 4 * usize::from(first & 0x0f);
    if buf.len() < len {
        return Err(Error::Truncated {
            what: "RTP CSRC list",
            needed: len,
            available: buf.len(),
        });
    }
    if first & 0x10 != 0 {
        if buf.len() < len + 4 {
            return Err(Error::Truncated {
                what: "RTP header extension",
                needed: len + 4,
                available: buf.len(),
            });
        }
        len += 4 + 4 * usize::from(be16(buf, len + 2));
        if buf.len() < len {
            return Err(Error::Truncated {
                what: "RTP header extension",
                needed: len,
                available: buf.len(),
            });
        }
    }
    Ok(len)
}

impl<T: AsRef<[u8]>> RtpPacket<T> {
    /// Wraps `buffer` after checking the version and that the header
    /// (fixed part, CSRCs, extension block) fits.
    pub fn new_checked(buffer: T) -> Result<RtpPacket<T>, Error> {
        let header_len = rtp_header_len(buffer.as_ref())?;
        Ok(RtpPacket { buffer, header_len })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole packet, as wrapped.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn first(&self) -> u8 {
        self.b().first().copied().unwrap_or(0)
    }

    fn second(&self) -> u8 {
        self.b().get(1).copied().unwrap_or(0)
    }

    /// The version field (always 2 for a checked packet).
    pub fn version(&self) -> u8 {
        self.first() >> 6
    }

    /// The padding bit.
    pub fn has_padding(&self) -> bool {
        self.first() & 0x20 != 0
    }

    /// The extension bit: a header extension block follows the CSRCs.
    pub fn has_extension(&self) -> bool {
        self.first() & 0x10 != 0
    }

    /// The CSRC count.
    pub fn csrc_count(&self) -> u8 {
        self.first() & 0x0f
    }

    /// The marker bit.
    pub fn marker(&self) -> bool {
        self.second() & 0x80 != 0
    }

    /// The payload type, 0..=127.
    pub fn payload_type(&self) -> u8 {
        self.second() & 0x7f
    }

    /// The sequence number.
    pub fn sequence_number(&self) -> u16 {
        be16(self.b(), 2)
    }

    /// The RTP timestamp.
    pub fn timestamp(&self) -> u32 {
        be32(self.b(), 4)
    }

    /// The synchronization source.
    pub fn ssrc(&self) -> u32 {
        be32(self.b(), 8)
    }

    /// The contributing sources, in order.
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = u32> + '_ {
        let end = FIXED_HEADER_LEN + 4 * usize::from(self.csrc_count());
        self.b()
            .get(FIXED_HEADER_LEN..end)
            .unwrap_or(&[])
            .chunks_exact(4)
            .map(|c| be32(c, 0))
    }

    /// Length of the header: fixed part, CSRCs and extension block. The
    /// payload (and padding) starts here; SRTP encrypts from here.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    fn extension_start(&self) -> usize {
        FIXED_HEADER_LEN + 4 * usize::from(self.csrc_count())
    }

    /// The header extension's 16-bit profile ("defined by profile") field,
    /// when there is an extension block: 0xBEDE for RFC 8285 one-byte
    /// elements, 0x100X for two-byte elements.
    pub fn extension_profile(&self) -> Option<u16> {
        self.has_extension()
            .then(|| be16(self.b(), self.extension_start()))
    }

    /// The header extension block's data (after its 4-byte header), when
    /// there is one.
    pub fn extension_data(&self) -> Option<&[u8]> {
        if !self.has_extension() {
            return None;
        }
        self.b().get(self.extension_start() + 4..self.header_len)
    }

    /// The RFC 8285 elements of the header extension block. Empty when there
    /// is no block or its profile is neither one-byte nor two-byte; an error
    /// when an element overruns the block.
    pub fn extensions(&self) -> Result<Extensions<'_>, Error> {
        match (self.extension_profile(), self.extension_data()) {
            (Some(profile), Some(data)) => Extensions::new(profile, data),
            _ => Ok(Extensions::empty()),
        }
    }

    /// The data of the RFC 8285 element `id`, if present and the block is
    /// well formed.
    pub fn extension(&self, id: u8) -> Option<&[u8]> {
        self.extensions().ok()?.find(|e| e.id == id).map(|e| e.data)
    }

    /// Bytes after the header, payload and padding together (what SRTP
    /// encrypts).
    pub fn payload_with_padding(&self) -> &[u8] {
        self.b().get(self.header_len..).unwrap_or(&[])
    }

    /// The number of padding bytes at the end of the packet (0 without the
    /// padding bit), checked against the bytes after the header.
    pub fn padding_len(&self) -> Result<usize, Error> {
        if !self.has_padding() {
            return Ok(0);
        }
        let rest = self.payload_with_padding();
        let count = rest.last().copied().unwrap_or(0);
        if count == 0 || usize::from(count) > rest.len() {
            return Err(Error::BadPadding {
                count,
                available: rest.len(),
            });
        }
        Ok(usize::from(count))
    }

    /// The payload, padding removed.
    pub fn payload(&self) -> Result<&[u8], Error> {
        let pad = self.padding_len()?;
        let rest = self.payload_with_padding();
        Ok(rest.get(..rest.len() - pad).unwrap_or(&[]))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RtpPacket<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets or clears the marker bit.
    pub fn set_marker(&mut self, marker: bool) {
        if let Some(b) = self.bm().get_mut(1) {
            *b = (*b & 0x7f) | (u8::from(marker) << 7);
        }
    }

    /// Sets the payload type (the top bit of `pt` is ignored).
    pub fn set_payload_type(&mut self, pt: u8) {
        if let Some(b) = self.bm().get_mut(1) {
            *b = (*b & 0x80) | (pt & 0x7f);
        }
    }

    /// Sets the sequence number.
    pub fn set_sequence_number(&mut self, seq: u16) {
        if let Some(b) = self.bm().get_mut(2..4) {
            b.copy_from_slice(&seq.to_be_bytes());
        }
    }

    /// Sets the RTP timestamp.
    pub fn set_timestamp(&mut self, ts: u32) {
        if let Some(b) = self.bm().get_mut(4..8) {
            b.copy_from_slice(&ts.to_be_bytes());
        }
    }

    /// Sets the synchronization source.
    pub fn set_ssrc(&mut self, ssrc: u32) {
        if let Some(b) = self.bm().get_mut(8..12) {
            b.copy_from_slice(&ssrc.to_be_bytes());
        }
    }

    /// The header extension block's data, writable (e.g. to rewrite an
    /// abs-send-time or transport-wide sequence number in place).
    pub fn extension_data_mut(&mut self) -> Option<&mut [u8]> {
        if !self.has_extension() {
            return None;
        }
        let (start, end) = (self.extension_start() + 4, self.header_len);
        self.bm().get_mut(start..end)
    }

    /// The data of RFC 8285 element `id`, writable in place (same length).
    pub fn extension_mut(&mut self, id: u8) -> Option<&mut [u8]> {
        let range = self.extensions().ok()?.find_range(id)?;
        self.extension_data_mut()?.get_mut(range)
    }

    /// Everything after the header, writable: payload and padding (what
    /// SRTP encrypts in place).
    pub fn payload_with_padding_mut(&mut self) -> &mut [u8] {
        let start = self.header_len;
        self.bm().get_mut(start..).unwrap_or(&mut [])
    }
}
