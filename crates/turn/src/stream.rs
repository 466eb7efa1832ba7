//! Framing on a byte stream (TCP, TLS): RFC 8656 section 12.5.
//!
//! Over a stream, STUN messages follow each other (their header gives the
//! length) and ChannelData messages are padded to a multiple of 4 bytes. The
//! first byte tells them apart (RFC 7983): 0..=3 STUN, 0x40..=0x4F
//! ChannelData. Anything else means the stream is out of sync.

use rtcwire_stun::{ChannelData, HEADER_LEN, stream_message_len};

use crate::TurnError;

/// Largest frame a stream can carry: a STUN header and 65535 bytes of
/// attributes (a padded ChannelData frame is at most 4 + 65536 bytes).
pub const MAX_FRAME_LEN: usize = HEADER_LEN + 65_535;

/// The reassembly buffer never holds more than one maximal frame.
pub const MAX_STREAM_BUFFER: usize = MAX_FRAME_LEN;

/// The length of the frame that starts `stream`, `Ok(None)` until enough of
/// its header is there.
pub(crate) fn frame_len(stream: &[u8]) -> Result<Option<usize>, TurnError> {
    match stream.first() {
        None => Ok(None),
        Some(0..=3) => {
            let Some(len) = stream_message_len(stream) else {
                return Ok(None);
            };
            if len % 4 != 0 {
                return Err(TurnError::StreamCorrupt("STUN length not a multiple of 4"));
            }
            Ok(Some(len))
        }
        Some(0x40..=0x4f) => Ok(ChannelData::stream_frame_len(stream)),
        Some(_) => Err(TurnError::StreamCorrupt("neither STUN nor ChannelData")),
    }
}

/// A bounded reassembly buffer: bytes in, whole frames out.
#[derive(Debug, Default)]
pub(crate) struct StreamBuffer {
    buf: Vec<u8>,
}

impl StreamBuffer {
    /// Appends as much of `input` as fits under [`MAX_STREAM_BUFFER`];
    /// returns how many bytes were taken.
    pub(crate) fn fill(&mut self, input: &[u8]) -> usize {
        let n = input.len().min(MAX_STREAM_BUFFER - self.buf.len());
        self.buf.extend_from_slice(&input[..n]);
        n
    }

    /// Bytes buffered.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Lends the buffer out (to parse frames in place) and empties it.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Takes the buffer back, minus the `consumed` bytes at its front.
    pub(crate) fn restore(&mut self, mut buf: Vec<u8>, consumed: usize) {
        buf.drain(..consumed.min(buf.len()));
        self.buf = buf;
    }

    /// Forgets everything (after a framing error).
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lengths() {
        assert_eq!(frame_len(&[]), Ok(None));
        assert_eq!(frame_len(&[0x00, 0x01, 0x00]), Ok(None));
        assert_eq!(frame_len(&[0x01, 0x01, 0x00, 0x08]), Ok(Some(28)));
        assert!(frame_len(&[0x01, 0x01, 0x00, 0x07]).is_err());
        assert_eq!(frame_len(&[0x40, 0x00, 0x00, 0x05]), Ok(Some(12)));
        assert_eq!(frame_len(&[0x40, 0x00, 0x00, 0x04]), Ok(Some(8)));
        assert!(frame_len(&[0x17]).is_err());
        assert!(frame_len(&[0x80]).is_err());
    }

    #[test]
    fn buffer_is_bounded() {
        let mut b = StreamBuffer::default();
        let big = vec![0u8; MAX_STREAM_BUFFER + 10];
        assert_eq!(b.fill(&big), MAX_STREAM_BUFFER);
        assert_eq!(b.fill(&big), 0);
        let buf = b.take();
        b.restore(buf, 100);
        assert_eq!(b.len(), MAX_STREAM_BUFFER - 100);
    }
}
