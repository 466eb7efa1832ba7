//! TURN ChannelData framing (RFC 8656 section 12.4).
//!
//! A ChannelData message is a 4-byte header (channel number, length) and the
//! application data, padded to a multiple of 4 bytes over TCP and TLS. Its
//! first byte is 0x40..=0x4F, which is how RFC 7983 tells it apart from STUN,
//! DTLS and RTP on the same 5-tuple.

use crate::Error;

/// Smallest channel number a client may bind.
pub const MIN_CHANNEL: u16 = 0x4000;
/// Largest channel number a client may bind (RFC 8656 section 12).
pub const MAX_CHANNEL: u16 = 0x4FFF;
/// Size of the ChannelData header.
pub const CHANNEL_DATA_HEADER_LEN: usize = 4;

/// A parsed ChannelData message, borrowing its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelData<'a> {
    channel: u16,
    data: &'a [u8],
}

impl<'a> ChannelData<'a> {
    /// Parses one ChannelData message at the start of `buf`. Over UDP the
    /// datagram may end right after the data or carry up to 3 bytes of
    /// padding; anything longer is rejected. Over a stream, cut the frame with
    /// [`ChannelData::stream_frame_len`] first.
    pub fn parse(buf: &'a [u8]) -> Result<ChannelData<'a>, Error> {
        let header = buf
            .get(..CHANNEL_DATA_HEADER_LEN)
            .ok_or(Error::InvalidChannelData("shorter than the 4-byte header"))?;
        let channel = u16::from_be_bytes([header[0], header[1]]);
        if !(MIN_CHANNEL..=MAX_CHANNEL).contains(&channel) {
            return Err(Error::InvalidChannelData(
                "channel number outside 0x4000..=0x4FFF",
            ));
        }
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let data = buf
            .get(CHANNEL_DATA_HEADER_LEN..CHANNEL_DATA_HEADER_LEN + len)
            .ok_or(Error::InvalidChannelData("length overruns the datagram"))?;
        if buf.len() - CHANNEL_DATA_HEADER_LEN - len > 3 {
            return Err(Error::InvalidChannelData("trailing bytes after data and padding"));
        }
        Ok(ChannelData { channel, data })
    }

    /// A ChannelData message to encode.
    pub fn new(channel: u16, data: &'a [u8]) -> Result<ChannelData<'a>, Error> {
        if !(MIN_CHANNEL..=MAX_CHANNEL).contains(&channel) {
            return Err(Error::InvalidChannelData(
                "channel number outside 0x4000..=0x4FFF",
            ));
        }
        if data.len() > usize::from(u16::MAX) {
            return Err(Error::InvalidChannelData("data longer than 65535 bytes"));
        }
        Ok(ChannelData { channel, data })
    }

    /// The channel number.
    pub fn channel(&self) -> u16 {
        self.channel
    }

    /// The application data.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Encoded size: header and data, plus padding when `padded`.
    pub fn encoded_len(&self, padded: bool) -> usize {
        let len = CHANNEL_DATA_HEADER_LEN + self.data.len();
        if padded {
            len + crate::message::padding(len)
        } else {
            len
        }
    }

    /// Writes the message into `out` and returns its size. `padded` adds the
    /// padding to 4 bytes that TCP and TLS require (RFC 8656 section 12.5).
    pub fn encode(&self, out: &mut [u8], padded: bool) -> Result<usize, Error> {
        let n = self.encoded_len(padded);
        let available = out.len();
        let out = out
            .get_mut(..n)
            .ok_or(Error::BufferTooSmall { needed: n, available })?;
        out[..2].copy_from_slice(&self.channel.to_be_bytes());
        out[2..4].copy_from_slice(&(self.data.len() as u16).to_be_bytes());
        out[4..4 + self.data.len()].copy_from_slice(self.data);
        out[4 + self.data.len()..].fill(0);
        Ok(n)
    }

    /// On a byte stream, the size of the padded ChannelData frame that starts
    /// `stream`; `None` until its 4-byte header is there.
    pub fn stream_frame_len(stream: &[u8]) -> Option<usize> {
        let len = usize::from(u16::from_be_bytes([*stream.get(2)?, *stream.get(3)?]));
        let n = CHANNEL_DATA_HEADER_LEN + len;
        Some(n + crate::message::padding(n))
    }
}

/// Whether a packet's first byte marks TURN ChannelData (64..=79, RFC 7983).
pub fn is_channel_data(packet: &[u8]) -> bool {
    matches!(packet.first(), Some(0x40..=0x4f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_padded_and_unpadded() {
        let cd = ChannelData::new(0x4001, b"hello").unwrap();
        let mut buf = [0u8; 16];
        let n = cd.encode(&mut buf, false).unwrap();
        assert_eq!(&buf[..n], b"\x40\x01\x00\x05hello");
        assert_eq!(ChannelData::parse(&buf[..n]).unwrap(), cd);
        let n = cd.encode(&mut buf, true).unwrap();
        assert_eq!(n, 12);
        assert_eq!(ChannelData::parse(&buf[..n]).unwrap(), cd);
        assert_eq!(ChannelData::stream_frame_len(&buf[..4]), Some(12));
    }

    #[test]
    fn rejects_malformed() {
        assert!(ChannelData::parse(b"\x40\x01\x00").is_err());
        assert!(ChannelData::parse(b"\x50\x00\x00\x00").is_err());
        assert!(ChannelData::parse(b"\x3f\xff\x00\x00").is_err());
        assert!(ChannelData::parse(b"\x40\x00\x00\x05abc").is_err());
        assert!(ChannelData::parse(b"\x40\x00\x00\x01abcde").is_err());
        assert!(ChannelData::new(0x5000, b"").is_err());
    }
}
