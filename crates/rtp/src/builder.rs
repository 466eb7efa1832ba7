//! Writing RTP packets into a caller's buffer (RFC 3550 section 5.1,
//! RFC 8285).

use crate::Error;
use crate::extensions::{ExtensionForm, ExtensionIds, ExtensionValues, ONE_BYTE_PROFILE, TWO_BYTE_PROFILE};
use crate::packet::{FIXED_HEADER_LEN, RTP_VERSION};

/// The fields of an RTP header that a sender chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader<'a> {
    /// The marker bit.
    pub marker: bool,
    /// The payload type, 0..=127.
    pub payload_type: u8,
    /// The sequence number.
    pub sequence_number: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The synchronization source.
    pub ssrc: u32,
    /// Contributing sources, at most 15.
    pub csrcs: &'a [u32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    None,
    Elements { start: usize, form: ExtensionForm },
    Raw,
}

/// Writes one RTP packet into a caller-supplied buffer, without
/// allocating: header, then extension elements, then payload, then
/// padding, in that order.
///
/// ```
/// use rtcwire_rtp::{ExtensionForm, RtpBuilder, RtpHeader, RtpPacket};
///
/// let mut buf = [0u8; 1500];
/// let header = RtpHeader { payload_type: 111, sequence_number: 7, timestamp: 960, ssrc: 0x1234, ..Default::default() };
/// let mut b = RtpBuilder::new(&mut buf, &header)?;
/// b.add_extension(ExtensionForm::OneByte, 1, &[0x30])?;
/// b.payload(b"opus frame")?;
/// let len = b.finish()?;
///
/// let packet = RtpPacket::new_checked(&buf[..len])?;
/// assert_eq!(packet.extension(1), Some(&[0x30][..]));
/// assert_eq!(packet.payload()?, b"opus frame");
/// # Ok::<(), rtcwire_rtp::Error>(())
/// ```
#[derive(Debug)]
pub struct RtpBuilder<'b> {
    buf: &'b mut [u8],
    len: usize,
    block: Block,
    payload_started: bool,
}

impl<'b> RtpBuilder<'b> {
    /// Writes the fixed header and CSRCs of `header` into `buf`.
    pub fn new(buf: &'b mut [u8], header: &RtpHeader<'_>) -> Result<RtpBuilder<'b>, Error> {
        if header.csrcs.len() > 15 {
            return Err(Error::CannotEncode("more than 15 CSRCs"));
        }
        if header.payload_type > 127 {
            return Err(Error::CannotEncode("payload type above 127"));
        }
        let mut b = RtpBuilder {
            buf,
            len: 0,
            block: Block::None,
            payload_started: false,
        };
        let first = (RTP_VERSION << 6) | header.csrcs.len() as u8;
        let second = (u8::from(header.marker) << 7) | header.payload_type;
        let seq = header.sequence_number.to_be_bytes();
        b.put(&[first, second, seq[0], seq[1]])?;
        b.put(&header.timestamp.to_be_bytes())?;
        b.put(&header.ssrc.to_be_bytes())?;
        for c in header.csrcs {
            b.put(&c.to_be_bytes())?;
        }
        debug_assert_eq!(b.len, FIXED_HEADER_LEN + 4 * header.csrcs.len());
        Ok(b)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self.len + bytes.len();
        let available = self.buf.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(Error::BufferTooSmall {
            needed: end,
            available,
        })?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn set_first_bit(&mut self, mask: u8) {
        if let Some(b) = self.buf.first_mut() {
            *b |= mask;
        }
    }

    /// Appends an RFC 8285 element. The first element opens the block in
    /// `form`; later ones must use the same form.
    pub fn add_extension(&mut self, form: ExtensionForm, id: u8, data: &[u8]) -> Result<(), Error> {
        if self.payload_started {
            return Err(Error::CannotEncode("extension after payload"));
        }
        if !form.fits(id, data.len()) {
            return Err(Error::CannotEncode(
                "extension id or length does not fit the form",
            ));
        }
        match self.block {
            Block::None => {
                let start = self.len;
                let profile = match form {
                    ExtensionForm::OneByte => ONE_BYTE_PROFILE,
                    ExtensionForm::TwoByte => TWO_BYTE_PROFILE,
                };
                self.put(&profile.to_be_bytes())?;
                self.put(&[0, 0])?;
                self.block = Block::Elements { start, form };
                self.set_first_bit(0x10);
            }
            Block::Elements { form: f, .. } if f == form => {}
            _ => return Err(Error::CannotEncode("extension form differs from the block's")),
        }
        match form {
            ExtensionForm::OneByte => self.put(&[(id << 4) | (data.len() as u8 - 1)])?,
            ExtensionForm::TwoByte => self.put(&[id, data.len() as u8])?,
        }
        self.put(data)
    }

    /// Appends every value in `values` whose id is negotiated in `ids`, in
    /// `form`.
    pub fn add_extension_values(
        &mut self,
        form: ExtensionForm,
        ids: &ExtensionIds,
        values: &ExtensionValues<'_>,
    ) -> Result<(), Error> {
        if let (Some(id), Some(v)) = (ids.mid, values.mid) {
            self.add_extension(form, id, v.as_bytes())?;
        }
        if let (Some(id), Some(v)) = (ids.rid, values.rid) {
            self.add_extension(form, id, v.as_bytes())?;
        }
        if let (Some(id), Some(v)) = (ids.repaired_rid, values.repaired_rid) {
            self.add_extension(form, id, v.as_bytes())?;
        }
        if let (Some(id), Some(v)) = (ids.abs_send_time, values.abs_send_time) {
            self.add_extension(form, id, &v.to_bytes())?;
        }
        if let (Some(id), Some(v)) = (ids.transport_cc, values.transport_cc) {
            self.add_extension(form, id, &v.to_be_bytes())?;
        }
        if let (Some(id), Some(v)) = (ids.audio_level, values.audio_level) {
            self.add_extension(form, id, &v.to_bytes())?;
        }
        if let (Some(id), Some(v)) = (ids.video_orientation, values.video_orientation) {
            self.add_extension(form, id, &v.to_bytes())?;
        }
        if let (Some(id), Some(v)) = (ids.playout_delay, values.playout_delay) {
            self.add_extension(form, id, &v.to_bytes())?;
        }
        Ok(())
    }

    /// Writes a whole RFC 3550 extension block with any profile value;
    /// `data` must be a multiple of 4 bytes. Only one block, and not
    /// together with [`RtpBuilder::add_extension`].
    pub fn raw_extension(&mut self, profile: u16, data: &[u8]) -> Result<(), Error> {
        if self.payload_started || self.block != Block::None {
            return Err(Error::CannotEncode(
                "extension block already written or after payload",
            ));
        }
        if data.len() % 4 != 0 || data.len() / 4 > usize::from(u16::MAX) {
            return Err(Error::CannotEncode(
                "raw extension length is not a multiple of 4 up to 2^18",
            ));
        }
        self.put(&profile.to_be_bytes())?;
        self.put(&((data.len() / 4) as u16).to_be_bytes())?;
        self.put(data)?;
        self.block = Block::Raw;
        self.set_first_bit(0x10);
        Ok(())
    }

    fn close_block(&mut self) -> Result<(), Error> {
        if let Block::Elements { start, .. } = self.block {
            while (self.len - start) % 4 != 0 {
                self.put(&[0])?;
            }
            let words = (self.len - start - 4) / 4;
            let words = u16::try_from(words).map_err(|_| Error::CannotEncode("extension block too long"))?;
            if let Some(w) = self.buf.get_mut(start + 2..start + 4) {
                w.copy_from_slice(&words.to_be_bytes());
            }
            self.block = Block::Raw;
        }
        Ok(())
    }

    /// Closes the extension block and appends `payload`.
    pub fn payload(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.close_block()?;
        self.payload_started = true;
        self.put(payload)
    }

    /// Closes the extension block and reserves `len` payload bytes for the
    /// caller to fill (e.g. an encoder writing in place).
    pub fn payload_mut(&mut self, len: usize) -> Result<&mut [u8], Error> {
        self.close_block()?;
        self.payload_started = true;
        let start = self.len;
        let end = start + len;
        let available = self.buf.len();
        if end > available {
            return Err(Error::BufferTooSmall {
                needed: end,
                available,
            });
        }
        self.len = end;
        Ok(&mut self.buf[start..end])
    }

    /// Appends `count` (1..=255) bytes of padding, the last holding the
    /// count, and sets the padding bit. Ends the packet.
    pub fn padding(mut self, count: u8) -> Result<usize, Error> {
        if count == 0 {
            return Err(Error::CannotEncode("padding count 0"));
        }
        self.close_block()?;
        let end = self.len + usize::from(count);
        let available = self.buf.len();
        let pad = self.buf.get_mut(self.len..end).ok_or(Error::BufferTooSmall {
            needed: end,
            available,
        })?;
        pad.fill(0);
        if let Some(last) = pad.last_mut() {
            *last = count;
        }
        self.len = end;
        self.set_first_bit(0x20);
        Ok(self.len)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is written (never true: the header is written by
    /// [`RtpBuilder::new`]).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Closes the extension block and returns the packet's length.
    pub fn finish(mut self) -> Result<usize, Error> {
        self.close_block()?;
        Ok(self.len)
    }
}
