//! The SCTP packet: common header, CRC32c and the chunk sequence (RFC 9260
//! sections 3 and 3.1, appendix B), with the zero checksum of RFC 9653.
//!
//! [`parse_packet`] checks the header, the checksum and the framing of every
//! chunk (a chunk header, a length of at least 4 that stays inside the
//! packet, padding to the next multiple of 4) before it returns; [`Chunks`]
//! then decodes one chunk per step. So a packet with a broken chunk list is
//! dropped whole, before the association acts on any of its chunks.
//!
//! Padding: RFC 9260 section 3.2 says the receiver ignores padding bytes,
//! so their value is not checked. The RFC only asks receivers to tolerate
//! a missing padding for the last *parameter* inside a chunk; we extend the
//! same tolerance to the last chunk of a packet (its padding carries no
//! information and the datagram ends the chunk anyway). 1 to 3 bytes after
//! a padded chunk are an error, as is a packet without chunks.
//! Bundling rules (INIT alone, and so on) are the association's business.
#![allow(dead_code)] // used by the association in progress

use crate::Error;
use crate::chunk::Chunk;
use crate::param::padded;

/// Size of the common header.
pub(crate) const COMMON_HEADER_LEN: usize = 12;
/// Size of a chunk header: type, flags, length.
pub(crate) const CHUNK_HEADER_LEN: usize = 4;
/// The largest chunk, header included and padding excluded: its length
/// field has 16 bits.
pub(crate) const MAX_CHUNK_LEN: usize = u16::MAX as usize;

/// A cursor over a byte slice that reads big-endian integers; every read is
/// bounds-checked and fails with [`Error::Decode`] carrying the caller's
/// reason.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        let (head, tail) = self.buf.split_at_checked(n).ok_or(Error::Decode(what))?;
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Error> {
        let (head, tail) = self.buf.split_first_chunk::<N>().ok_or(Error::Decode(what))?;
        self.buf = tail;
        Ok(*head)
    }

    /// A byte.
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, Error> {
        let [b] = self.array(what)?;
        Ok(b)
    }

    /// A big-endian u16.
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// A big-endian u32.
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Everything not read yet (the reader is then empty).
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// True when every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// `Err(Decode(what))` if bytes remain.
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Decode(what))
        }
    }
}

/// The common header of every SCTP packet (RFC 9260 section 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommonHeader {
    /// Source port; WebRTC uses 5000 unless SDP `a=sctp-port` says
    /// otherwise (RFC 8841).
    pub source_port: u16,
    /// Destination port.
    pub destination_port: u16,
    /// The receiver's Initiate Tag (0 in an INIT).
    pub verification_tag: u32,
    /// The checksum as a number: the CRC32c as [`crc32c::crc32c`] computes
    /// it, whose wire form is little-endian (RFC 9260 appendix B reflects
    /// the bits). 0 when the sender used RFC 9653's zero checksum.
    /// [`PacketWriter`] ignores this field and computes it.
    pub checksum: u32,
}

impl CommonHeader {
    fn parse(buf: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "packet: shorter than the common header";
        let mut r = Reader::new(buf);
        Ok(CommonHeader {
            source_port: r.u16(WHAT)?,
            destination_port: r.u16(WHAT)?,
            verification_tag: r.u32(WHAT)?,
            checksum: u32::from_le_bytes(r.array(WHAT)?),
        })
    }

    fn write(&self, out: &mut Vec<u8>, checksum: u32) {
        out.extend_from_slice(&self.source_port.to_be_bytes());
        out.extend_from_slice(&self.destination_port.to_be_bytes());
        out.extend_from_slice(&self.verification_tag.to_be_bytes());
        out.extend_from_slice(&checksum.to_le_bytes());
    }
}

/// The CRC32c of a packet, computed with its checksum field taken as zero
/// (RFC 9260 section 6.8). `packet` holds at least the common header;
/// shorter input gives the CRC of what is there.
pub(crate) fn packet_crc32c(packet: &[u8]) -> u32 {
    let head = packet.get(..8).unwrap_or(packet);
    let tail = packet.get(COMMON_HEADER_LEN..).unwrap_or_default();
    let crc = crc32c::crc32c(head);
    let crc = crc32c::crc32c_append(crc, &[0; 4]);
    crc32c::crc32c_append(crc, tail)
}

/// Parses a packet: the common header, its CRC32c (skipped when
/// `accept_zero_checksum` is true and the checksum field is 0, RFC 9653
/// section 5.3) and the framing of every chunk. Returns the header and an
/// iterator that decodes the chunks.
pub(crate) fn parse_packet(
    buf: &[u8],
    accept_zero_checksum: bool,
) -> Result<(CommonHeader, Chunks<'_>), Error> {
    let header = CommonHeader::parse(buf)?;
    let chunks = buf.get(COMMON_HEADER_LEN..).unwrap_or_default();
    if !(accept_zero_checksum && header.checksum == 0) && packet_crc32c(buf) != header.checksum {
        return Err(Error::BadChecksum);
    }
    if chunks.is_empty() {
        return Err(Error::Decode("packet: no chunks"));
    }
    let mut rest = chunks;
    while !rest.is_empty() {
        let (_, tail) = split_chunk(rest)?;
        rest = tail;
    }
    Ok((header, Chunks { rest: chunks }))
}

/// A chunk's header fields and value, not decoded yet.
struct RawChunk<'a> {
    chunk_type: u8,
    flags: u8,
    value: &'a [u8],
}

/// Splits the first chunk off `buf`: the chunk, and what follows its
/// padding.
fn split_chunk(buf: &[u8]) -> Result<(RawChunk<'_>, &[u8]), Error> {
    const WHAT: &str = "chunk: header truncated (stray bytes after a chunk)";
    let mut r = Reader::new(buf);
    let chunk_type = r.u8(WHAT)?;
    let flags = r.u8(WHAT)?;
    let len = usize::from(r.u16(WHAT)?);
    let value_len = len
        .checked_sub(CHUNK_HEADER_LEN)
        .ok_or(Error::Decode("chunk: length below 4"))?;
    let value = r.take(value_len, "chunk: length runs past the end of the packet")?;
    let rest = r.rest();
    let rest = rest.get(padded(len) - len..).unwrap_or_default();
    Ok((
        RawChunk {
            chunk_type,
            flags,
            value,
        },
        rest,
    ))
}

/// The chunks of a packet from [`parse_packet`], decoded one per step. An
/// error item (a chunk whose content is malformed) ends the iteration.
#[derive(Debug, Clone)]
pub(crate) struct Chunks<'a> {
    rest: &'a [u8],
}

impl<'a> Chunks<'a> {
    /// The undecoded bytes from the next chunk on, padding included.
    pub(crate) fn remaining_bytes(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<Chunk<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let item = split_chunk(self.rest).and_then(|(raw, rest)| {
            self.rest = rest;
            Chunk::decode(raw.chunk_type, raw.flags, raw.value)
        });
        if item.is_err() {
            self.rest = &[];
        }
        Some(item)
    }
}

impl std::iter::FusedIterator for Chunks<'_> {}

/// Builds one packet at a time in a reusable `Vec`: the common header, then
/// chunks while they fit the MTU, then the checksum.
///
/// The MTU here is the size of the SCTP packet (the DTLS record's payload),
/// not of the IP datagram.
#[derive(Debug, Clone)]
pub(crate) struct PacketWriter {
    buf: Vec<u8>,
    mtu: usize,
    /// Where the packet starts in `buf`: bytes before it are left for the
    /// lower layer's header.
    base: usize,
}

/// Room left after a packet when the writer has headroom: an AEAD tag.
const TAILROOM: usize = 32;

impl PacketWriter {
    /// A writer for packets of at most `mtu` bytes, starting one with
    /// `header`, `headroom` bytes into its buffer.
    pub(crate) fn new(header: CommonHeader, mtu: usize, headroom: usize) -> Self {
        PacketWriter::with_buffer(Vec::new(), header, mtu, headroom)
    }

    /// [`PacketWriter::new`] in a buffer given back by the lower layer
    /// (its contents are dropped, its allocation kept and grown if short).
    pub(crate) fn with_buffer(mut buf: Vec<u8>, header: CommonHeader, mtu: usize, headroom: usize) -> Self {
        let tail = if headroom > 0 { TAILROOM } else { 0 };
        buf.clear();
        buf.reserve(headroom + mtu.min(1 << 16) + tail);
        let mut w = PacketWriter {
            buf,
            mtu,
            base: headroom,
        };
        w.reset(header);
        w
    }

    /// The buffer, for another packet (when nothing was written).
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// Starts a new packet with `header`, keeping the buffer's allocation.
    pub(crate) fn reset(&mut self, header: CommonHeader) {
        self.buf.clear();
        self.buf.resize(self.base, 0);
        header.write(&mut self.buf, 0);
    }

    /// Changes the packet size limit (path MTU discovery); chunks already
    /// written stay.
    pub(crate) fn set_mtu(&mut self, mtu: usize) {
        self.mtu = mtu;
    }

    /// Bytes still available for chunks, their padding included.
    pub(crate) fn remaining(&self) -> usize {
        self.mtu.saturating_sub(self.buf.len() - self.base)
    }

    /// True when no chunk has been written since the last reset.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.len() <= self.base + COMMON_HEADER_LEN
    }

    /// Appends `chunk` with its padding if it fits: `Ok(false)`, with
    /// nothing written, if it does not. An invalid chunk (see
    /// [`Chunk::validate`]) is an error.
    pub(crate) fn push(&mut self, chunk: &Chunk<'_>) -> Result<bool, Error> {
        chunk.validate()?;
        if padded(chunk.encoded_len()) > self.remaining() {
            return Ok(false);
        }
        chunk.write(&mut self.buf);
        Ok(true)
    }

    /// Finishes the packet (see [`PacketWriter::finish`]) and hands over
    /// its buffer, headroom included, without copying.
    pub(crate) fn into_packet(mut self, zero_checksum: bool) -> Vec<u8> {
        self.finish(zero_checksum);
        self.buf
    }

    /// Writes the checksum (the CRC32c, or 0 when `zero_checksum`: only
    /// when the peer announced Zero Checksum Acceptable, RFC 9653) and
    /// returns the packet. Call [`PacketWriter::reset`] before the next one.
    pub(crate) fn finish(&mut self, zero_checksum: bool) -> &[u8] {
        let packet = &mut self.buf[self.base..];
        let crc = if zero_checksum { 0 } else { packet_crc32c(packet) };
        if let Some(field) = packet.get_mut(8..COMMON_HEADER_LEN) {
            field.copy_from_slice(&crc.to_le_bytes());
        }
        &self.buf[self.base..]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::chunk::{DataChunk, Sack};
    use proptest::prelude::*;

    /// `chunks` behind a common header (ports 5000, tag 0x0a0b0c0d) with a
    /// correct checksum.
    pub(crate) fn packet(chunks: &[u8]) -> Vec<u8> {
        let mut p = vec![0x13, 0x88, 0x13, 0x88, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 0];
        p.extend_from_slice(chunks);
        let crc = packet_crc32c(&p);
        p[8..12].copy_from_slice(&crc.to_le_bytes());
        p
    }

    /// Every chunk of `p`, or the first error.
    pub(crate) fn chunks_of(p: &[u8]) -> Result<Vec<Chunk<'_>>, Error> {
        let (_, chunks) = parse_packet(p, false)?;
        chunks.collect()
    }

    /// RFC 9260 appendix B / RFC 3720 B.4: the CRC32c check value, and the
    /// iSCSI vector of 32 zero bytes (whose wire form is `aa 36 91 8a`).
    #[test]
    fn crc32c_check_values() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c::crc32c(&[0; 32]).to_le_bytes(), [0xaa, 0x36, 0x91, 0x8a]);
    }

    /// A Chromium INIT as Wireshark captured it (the capture behind the
    /// dcSCTP packet tests; Wireshark shows its checksum as 0xaa019d33, the
    /// wire bytes read big-endian). Cross-checked with this Python CRC32c:
    ///
    /// ```text
    /// def crc32c(data):
    ///     crc = 0xFFFFFFFF
    ///     for b in data:
    ///         crc ^= b
    ///         for _ in range(8):
    ///             crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    ///     return crc ^ 0xFFFFFFFF
    /// crc32c(pkt[:8] + b"\0" * 4 + pkt[12:]) == 0x339d01aa  # bytes aa 01 9d 33
    /// ```
    pub(crate) const CHROME_INIT: [u8; 104] = [
        0x13, 0x88, 0x13, 0x88, 0x00, 0x00, 0x00, 0x00, 0xaa, 0x01, 0x9d, 0x33, 0x01, 0x00, 0x00, 0x5a, 0x0e,
        0xdd, 0xca, 0x08, 0x00, 0x02, 0x00, 0x00, 0x03, 0xe8, 0x03, 0xe8, 0x55, 0x08, 0x36, 0x37, 0x80, 0x00,
        0x00, 0x04, 0xc0, 0x00, 0x00, 0x04, 0x80, 0x08, 0x00, 0x09, 0xc0, 0x0f, 0xc1, 0x80, 0x82, 0x00, 0x00,
        0x00, 0x80, 0x02, 0x00, 0x24, 0xc5, 0xa8, 0x61, 0x55, 0x09, 0x0e, 0x6f, 0x42, 0x00, 0x50, 0x63, 0x4c,
        0xc8, 0xd6, 0xb9, 0x08, 0xdf, 0xd5, 0x3e, 0x17, 0xc9, 0x9c, 0xb1, 0x43, 0x28, 0x4e, 0xaf, 0x64, 0x68,
        0x2a, 0xc2, 0x97, 0x80, 0x04, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x80, 0x03, 0x00, 0x06, 0x80, 0xc1,
        0x00, 0x00,
    ];

    #[test]
    fn chrome_init_checksum_and_header() {
        assert_eq!(packet_crc32c(&CHROME_INIT), 0x339d_01aa);
        let (header, chunks) = parse_packet(&CHROME_INIT, false).unwrap();
        assert_eq!(
            header,
            CommonHeader {
                source_port: 5000,
                destination_port: 5000,
                verification_tag: 0,
                checksum: 0x339d_01aa,
            }
        );
        let chunks: Vec<_> = chunks.collect::<Result<_, _>>().unwrap();
        assert_eq!(chunks.len(), 1);
        let Chunk::Init(init) = chunks[0] else {
            panic!("not an INIT: {:?}", chunks[0])
        };
        assert_eq!(init.initiate_tag, 0x0edd_ca08);
        assert_eq!(init.a_rwnd, 131_072);
        assert_eq!((init.outbound_streams, init.inbound_streams), (1000, 1000));
        assert_eq!(init.initial_tsn, 1_426_601_527);
        assert_eq!(init.params().count(), 6);
        assert!(init.params().all(|p| p.is_ok()));
    }

    /// A DATA packet written by `PacketWriter`; the checksum computed with
    /// the Python CRC32c above: `83 71 a3 67` (0x67a37183).
    #[test]
    fn writer_data_packet_checksum() {
        const EXPECTED: [u8; 36] = [
            0x13, 0x88, 0x13, 0x88, 0x0a, 0x0b, 0x0c, 0x0d, 0x83, 0x71, 0xa3, 0x67, // header
            0x00, 0x03, 0x00, 0x15, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x33,
            b'h', b'e', b'l', b'l', b'o', 0, 0, 0,
        ];
        let header = CommonHeader {
            source_port: 5000,
            destination_port: 5000,
            verification_tag: 0x0a0b_0c0d,
            checksum: 0xdead_beef, // ignored
        };
        let mut w = PacketWriter::new(header, 1200, 0);
        let data = Chunk::Data(DataChunk {
            tsn: 1,
            stream_id: 1,
            ssn: 0,
            ppid: 51,
            unordered: false,
            beginning: true,
            ending: true,
            immediate: false,
            payload: b"hello",
        });
        assert!(w.push(&data).unwrap());
        assert_eq!(w.finish(false), EXPECTED);
        let (h, _) = parse_packet(&EXPECTED, false).unwrap();
        assert_eq!(h.checksum, 0x67a3_7183);

        // With headroom the same packet follows the free bytes, the MTU
        // counts only the packet, and the buffer has room for a trailer.
        let mut w = PacketWriter::new(header, EXPECTED.len(), 21);
        assert!(w.push(&data).unwrap());
        assert_eq!(w.remaining(), 0);
        assert_eq!(w.finish(false), EXPECTED);
        let v = w.into_packet(false);
        assert_eq!(&v[21..], EXPECTED);
        assert!(v.capacity() >= v.len() + 16);
    }

    /// dcSCTP's `WritePacketWithCalculatedChecksum`: another stack's
    /// checksum for the same SACK.
    #[test]
    fn writer_matches_dcsctp_sack() {
        let header = CommonHeader {
            source_port: 5000,
            destination_port: 5000,
            verification_tag: 0x1234_5678,
            checksum: 0,
        };
        let mut w = PacketWriter::new(header, 1200, 0);
        assert!(w.push(&Chunk::Sack(Sack::new(999, 456, &[], &[]))).unwrap());
        assert_eq!(
            w.finish(false),
            [
                0x13, 0x88, 0x13, 0x88, 0x12, 0x34, 0x56, 0x78, 0x07, 0xe8, 0x38, 0x77, 0x03, 0x00, 0x00,
                0x10, 0x00, 0x00, 0x03, 0xe7, 0x00, 0x00, 0x01, 0xc8, 0x00, 0x00, 0x00, 0x00
            ]
        );
    }

    #[test]
    fn bad_checksum_rejected() {
        let mut p = CHROME_INIT;
        p[40] ^= 1;
        assert_eq!(parse_packet(&p, false).err(), Some(Error::BadChecksum));
        assert_eq!(parse_packet(&p, true).err(), Some(Error::BadChecksum));
        let mut p = CHROME_INIT;
        p[8] ^= 0x80;
        assert_eq!(parse_packet(&p, true).err(), Some(Error::BadChecksum));
    }

    /// RFC 9653 section 5.3: a zero checksum is accepted only once both
    /// sides agreed on it; a wrong non-zero one never.
    #[test]
    fn zero_checksum_only_when_allowed() {
        let mut p = CHROME_INIT;
        p[8..12].fill(0);
        assert_eq!(parse_packet(&p, false).err(), Some(Error::BadChecksum));
        let (h, chunks) = parse_packet(&p, true).unwrap();
        assert_eq!(h.checksum, 0);
        assert_eq!(chunks.count(), 1);
        // A correct checksum is fine either way.
        assert!(parse_packet(&CHROME_INIT, true).is_ok());
        p[8] = 1;
        assert_eq!(parse_packet(&p, true).err(), Some(Error::BadChecksum));
    }

    #[test]
    fn short_and_empty_packets() {
        for n in 0..COMMON_HEADER_LEN {
            assert!(matches!(
                parse_packet(&CHROME_INIT[..n], true),
                Err(Error::Decode(_))
            ));
        }
        let p = packet(&[]);
        assert_eq!(
            parse_packet(&p, false).err(),
            Some(Error::Decode("packet: no chunks"))
        );
    }

    /// A chunk length that is not a multiple of 4, followed by its padding,
    /// and another chunk after it; the padding bytes' value is ignored.
    #[test]
    fn padding_between_chunks() {
        let chunks = [
            0x0a, 0x00, 0x00, 0x07, 1, 2, 3, 0xff, // COOKIE ECHO, 3 bytes, non-zero pad
            0x0b, 0x00, 0x00, 0x04, // COOKIE ACK
        ];
        let p = packet(&chunks);
        assert_eq!(
            chunks_of(&p).unwrap(),
            [Chunk::CookieEcho(&[1, 2, 3]), Chunk::CookieAck]
        );
    }

    /// Our choice: the last chunk may lack (part of) its padding, as Linux
    /// accepts; stray bytes after a padded chunk and a missing padding
    /// before another chunk are errors.
    #[test]
    fn final_padding_may_be_missing() {
        let full = [0x0a, 0x00, 0x00, 0x07, 1, 2, 3, 0];
        for cut in 7..=8 {
            let p = packet(&full[..cut]);
            assert_eq!(chunks_of(&p).unwrap(), [Chunk::CookieEcho(&[1, 2, 3])]);
        }
        for stray in 1..4 {
            let mut c = full.to_vec();
            c.extend(std::iter::repeat_n(0, stray));
            let p = packet(&c);
            assert!(
                matches!(parse_packet(&p, false), Err(Error::Decode(_))),
                "{stray} stray bytes"
            );
        }
        // Without padding the next chunk's header is misread: here its
        // length 0x0b00 runs past the packet.
        let p = packet(&[0x0a, 0x00, 0x00, 0x07, 1, 2, 3, 0x0b, 0x00, 0x00, 0x04]);
        assert!(parse_packet(&p, false).is_err());
    }

    #[test]
    fn bad_chunk_lengths() {
        for len in 0..4u8 {
            let p = packet(&[0x0b, 0x00, 0x00, len]);
            assert_eq!(
                parse_packet(&p, false).err(),
                Some(Error::Decode("chunk: length below 4"))
            );
        }
        let p = packet(&[0x0a, 0x00, 0x00, 0x09, 1, 2, 3, 4]);
        assert!(matches!(parse_packet(&p, false), Err(Error::Decode(_))));
    }

    /// A framing error anywhere rejects the packet before any chunk is
    /// decoded; a content error ends the iteration at that chunk.
    #[test]
    fn content_error_ends_iteration() {
        let p = packet(&[
            0x0b, 0x00, 0x00, 0x04, // COOKIE ACK
            0x07, 0x00, 0x00, 0x04, // SHUTDOWN without its TSN
            0x0b, 0x00, 0x00, 0x04, // COOKIE ACK
        ]);
        let (_, mut chunks) = parse_packet(&p, false).unwrap();
        assert_eq!(chunks.next(), Some(Ok(Chunk::CookieAck)));
        assert!(matches!(chunks.next(), Some(Err(Error::Decode(_)))));
        assert_eq!(chunks.next(), None);
        assert_eq!(chunks.next(), None);
    }

    #[test]
    fn writer_respects_mtu() {
        let header = CommonHeader {
            source_port: 5000,
            destination_port: 5000,
            verification_tag: 7,
            checksum: 0,
        };
        let mut w = PacketWriter::new(header, 12 + 8 + 8, 0);
        assert!(w.is_empty());
        assert_eq!(w.remaining(), 16);
        // 4 + 3 = 7 bytes, 8 with padding.
        assert!(w.push(&Chunk::CookieEcho(&[1, 2, 3])).unwrap());
        assert!(!w.is_empty());
        assert_eq!(w.remaining(), 8);
        // 9 bytes padded to 12 does not fit: nothing written.
        assert!(!w.push(&Chunk::CookieEcho(&[1, 2, 3, 4, 5])).unwrap());
        assert_eq!(w.remaining(), 8);
        assert!(
            w.push(&Chunk::Shutdown {
                cumulative_tsn_ack: 9
            })
            .unwrap()
        );
        assert_eq!(w.remaining(), 0);
        assert!(!w.push(&Chunk::CookieAck).unwrap());
        let bytes = w.finish(true).to_vec();
        assert_eq!(bytes.len(), 28);
        assert_eq!(bytes[8..12], [0, 0, 0, 0]);
        assert!(parse_packet(&bytes, false).is_err());
        assert_eq!(
            chunks_of(&packet(&bytes[12..])).unwrap(),
            [
                Chunk::CookieEcho(&[1, 2, 3]),
                Chunk::Shutdown {
                    cumulative_tsn_ack: 9
                }
            ]
        );
        // An invalid chunk is an error, not a refusal.
        assert!(
            w.push(&Chunk::Data(DataChunk {
                tsn: 1,
                stream_id: 0,
                ssn: 0,
                ppid: 53,
                unordered: false,
                beginning: true,
                ending: true,
                immediate: false,
                payload: &[],
            }))
            .is_err()
        );
        // Reset keeps the buffer and starts over.
        w.reset(CommonHeader {
            verification_tag: 8,
            ..header
        });
        assert!(w.is_empty());
        assert_eq!(w.remaining(), 16);
        let p = w.finish(false).to_vec();
        assert_eq!(p[4..8], [0, 0, 0, 8]);
        // An MTU below the header leaves no room rather than underflowing.
        let w = PacketWriter::new(header, 4, 0);
        assert_eq!(w.remaining(), 0);
    }

    /// The fuzz harness, on a packet as given and on one with its
    /// checksum fixed.
    fn exercise(data: &[u8]) {
        let mut input = vec![0];
        input.extend_from_slice(data);
        crate::fuzzing::sctp_packet(&input);
        input[0] = 1;
        crate::fuzzing::sctp_packet(&input);
    }

    /// Builds one of every chunk kind from fuzz-like material; may be
    /// invalid (the writer must then refuse it).
    pub(crate) fn make_chunk(kind: u8, n: [u32; 3], flags: u8, bytes: &[u8]) -> Chunk<'_> {
        let half = bytes.len() / 2;
        let (a, b) = bytes.split_at(half);
        let [x, y, z] = n;
        let (lo, hi) = (x as u16, (x >> 16) as u16);
        let bit = |m: u8| flags & m != 0;
        match kind % 19 {
            0 => Chunk::Data(DataChunk {
                tsn: x,
                stream_id: lo,
                ssn: hi,
                ppid: y,
                unordered: bit(1),
                beginning: bit(2),
                ending: bit(4),
                immediate: bit(8),
                payload: bytes,
            }),
            1 | 2 => {
                let init = crate::chunk::Init {
                    initiate_tag: x,
                    a_rwnd: y,
                    outbound_streams: z as u16,
                    inbound_streams: (z >> 16) as u16,
                    initial_tsn: x ^ y,
                    params: bytes,
                };
                if kind % 19 == 1 {
                    Chunk::Init(init)
                } else {
                    Chunk::InitAck(init)
                }
            }
            3 => Chunk::Sack(Sack::new(x, y, &a[..a.len() / 4 * 4], &b[..b.len() / 4 * 4])),
            4 => Chunk::Heartbeat(bytes),
            5 => Chunk::HeartbeatAck(bytes),
            6 => Chunk::Abort {
                t_bit: bit(1),
                causes: bytes,
            },
            7 => Chunk::Shutdown {
                cumulative_tsn_ack: x,
            },
            8 => Chunk::ShutdownAck,
            9 => Chunk::Error(bytes),
            10 => Chunk::CookieEcho(bytes),
            11 => Chunk::CookieAck,
            12 => Chunk::ShutdownComplete { t_bit: bit(1) },
            13 => Chunk::ReConfig(bytes),
            14 => Chunk::ForwardTsn {
                new_cumulative_tsn: x,
                streams: bytes,
            },
            15 => Chunk::IData(crate::chunk::IDataChunk {
                tsn: x,
                stream_id: lo,
                mid: y,
                ppid_or_fsn: z,
                unordered: bit(1),
                beginning: bit(2),
                ending: bit(4),
                immediate: bit(8),
                payload: bytes,
            }),
            16 => Chunk::IForwardTsn {
                new_cumulative_tsn: x,
                streams: bytes,
            },
            _ => Chunk::Unknown {
                chunk_type: y as u8,
                flags,
                value: bytes,
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            exercise(&data);
        }

        #[test]
        fn arbitrary_chunk_lists_never_panic(chunks in proptest::collection::vec(
            (any::<u8>(), any::<u8>(), 0u16..64, proptest::collection::vec(any::<u8>(), 0..40)), 1..6)
        ) {
            // Chunk headers with plausible lengths make the walk go deep.
            let mut body = Vec::new();
            for (t, f, len, v) in &chunks {
                body.extend_from_slice(&[*t, *f]);
                body.extend_from_slice(&len.to_be_bytes());
                body.extend_from_slice(v);
            }
            exercise(&packet(&body));
        }

        #[test]
        fn accepted_chunks_parse_back_equal(
            specs in proptest::collection::vec(
                (any::<u8>(), any::<[u32; 3]>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..48)),
                1..8,
            ),
            mtu in 16usize..400,
            zero in any::<bool>(),
        ) {
            let header = CommonHeader { source_port: 1, destination_port: 2, verification_tag: 3, checksum: 0 };
            let mut w = PacketWriter::new(header, mtu, 0);
            let chunks: Vec<Chunk<'_>> = specs.iter().map(|(k, n, f, b)| make_chunk(*k, *n, *f, b)).collect();
            let mut accepted = Vec::new();
            for c in &chunks {
                let before = w.remaining();
                match w.push(c) {
                    Ok(true) => {
                        prop_assert_eq!(before - w.remaining(), padded(c.encoded_len()));
                        accepted.push(*c);
                    }
                    Ok(false) => prop_assert_eq!(before, w.remaining()),
                    Err(_) => prop_assert!(c.validate().is_err()),
                }
            }
            let bytes = w.finish(zero).to_vec();
            prop_assert!(bytes.len() <= mtu.max(COMMON_HEADER_LEN));
            if accepted.is_empty() {
                prop_assert!(parse_packet(&bytes, true).is_err());
            } else {
                let (h, parsed) = parse_packet(&bytes, zero).unwrap();
                prop_assert_eq!(h.verification_tag, 3);
                let parsed: Vec<Chunk<'_>> = parsed.collect::<Result<_, _>>().unwrap();
                prop_assert_eq!(parsed, accepted);
            }
        }
    }
}
