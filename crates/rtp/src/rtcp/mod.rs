//! RTCP packets and compound packets (RFC 3550 section 6, RFC 5506
//! reduced-size), parsed as zero-copy views and written into caller
//! buffers.

pub(crate) mod feedback;
pub(crate) mod items;
pub(crate) mod report;
pub(crate) mod sdes;
pub(crate) mod twcc;
pub(crate) mod xr;

use crate::Error;
use crate::bytes::{be16, be32, byte};
use feedback::{Fir, Nack, Pli, Remb};
use items::{Items, WireItem};
use report::{ReceiverReport, SenderReport};
use sdes::{App, Bye, Sdes};
use twcc::TransportCc;
use xr::{Xr, XrBlock};

/// Packet type of a sender report.
pub const SR: u8 = 200;
/// Packet type of a receiver report.
pub const RR: u8 = 201;
/// Packet type of a source description.
pub const SDES: u8 = 202;
/// Packet type of a goodbye.
pub const BYE: u8 = 203;
/// Packet type of an application-defined packet.
pub const APP: u8 = 204;
/// Packet type of transport-layer feedback (RFC 4585).
pub const RTPFB: u8 = 205;
/// Packet type of payload-specific feedback (RFC 4585).
pub const PSFB: u8 = 206;
/// Packet type of an extended report (RFC 3611).
pub const XR: u8 = 207;

/// RTPFB format of a generic NACK.
pub const FMT_NACK: u8 = 1;
/// RTPFB format of transport-wide congestion control feedback.
pub const FMT_TRANSPORT_CC: u8 = 15;
/// PSFB format of a picture loss indication.
pub const FMT_PLI: u8 = 1;
/// PSFB format of a full intra request.
pub const FMT_FIR: u8 = 4;
/// PSFB format of application-layer feedback (REMB).
pub const FMT_AFB: u8 = 15;

/// Length of the RTCP common header.
pub const RTCP_HEADER_LEN: usize = 4;

/// A packet this crate does not decode (another packet type or feedback
/// format), kept as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownPacket<'a> {
    /// Packet type.
    pub packet_type: u8,
    /// The 5-bit count / format / subtype field.
    pub count: u8,
    /// The body after the 4-byte header, padding removed.
    pub body: &'a [u8],
}

/// One RTCP packet, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// Sender report.
    SenderReport(SenderReport<'a>),
    /// Receiver report.
    ReceiverReport(ReceiverReport<'a>),
    /// Source description.
    Sdes(Sdes<'a>),
    /// Goodbye.
    Bye(Bye<'a>),
    /// Application-defined.
    App(App<'a>),
    /// Extended report.
    Xr(Xr<'a>),
    /// Generic NACK.
    Nack(Nack<'a>),
    /// Transport-wide congestion control feedback.
    TransportCc(TransportCc<'a>),
    /// Picture loss indication.
    Pli(Pli),
    /// Full intra request.
    Fir(Fir<'a>),
    /// Receiver estimated maximum bitrate.
    Remb(Remb<'a>),
    /// Anything else.
    Unknown(UnknownPacket<'a>),
}

/// Splits the first RTCP packet off `buf`: returns its count field, packet
/// type, body (padding removed) and total length.
fn split(buf: &[u8]) -> Result<(u8, u8, &[u8], usize), Error> {
    if buf.len() < RTCP_HEADER_LEN {
        return Err(Error::Truncated {
            what: "RTCP header",
            needed: RTCP_HEADER_LEN,
            available: buf.len(),
        });
    }
    let first = byte(buf, 0);
    if first >> 6 != 2 {
        return Err(Error::BadVersion(first >> 6));
    }
    let packet_type = byte(buf, 1);
    let total = 4 * (usize::from(be16(buf, 2)) + 1);
    let packet = buf.get(..total).ok_or(Error::Truncated {
        what: "RTCP packet",
        needed: total,
        available: buf.len(),
    })?;
    let mut body = packet.get(RTCP_HEADER_LEN..).unwrap_or(&[]);
    if first & 0x20 != 0 {
        // RFC 3550 section 6.4.1: the last byte counts the padding,
        // itself included.
        let count = body.last().copied().unwrap_or(0);
        if count == 0 || usize::from(count) > body.len() {
            return Err(Error::BadPadding {
                count,
                available: body.len(),
            });
        }
        body = body.get(..body.len() - usize::from(count)).unwrap_or(&[]);
    }
    Ok((first & 0x1f, packet_type, body, total))
}

impl<'a> RtcpPacket<'a> {
    /// Parses the first RTCP packet in `buf` and returns it with its length
    /// on the wire.
    pub fn parse_first(buf: &'a [u8]) -> Result<(RtcpPacket<'a>, usize), Error> {
        let (count, packet_type, body, total) = split(buf)?;
        Ok((RtcpPacket::parse_body(packet_type, count, body)?, total))
    }

    /// Decodes a body (after the 4-byte header, padding removed).
    fn parse_body(packet_type: u8, count: u8, body: &'a [u8]) -> Result<RtcpPacket<'a>, Error> {
        Ok(match (packet_type, count) {
            (SR, _) => RtcpPacket::SenderReport(SenderReport::parse(count, body)?),
            (RR, _) => RtcpPacket::ReceiverReport(ReceiverReport::parse(count, body)?),
            (SDES, _) => RtcpPacket::Sdes(Sdes::parse(count, body)?),
            (BYE, _) => RtcpPacket::Bye(Bye::parse(count, body)?),
            (APP, _) => RtcpPacket::App(App::parse(count, body)?),
            (XR, _) => RtcpPacket::Xr(Xr::parse(body)?),
            (RTPFB, FMT_NACK) => RtcpPacket::Nack(Nack::parse(body)?),
            (RTPFB, FMT_TRANSPORT_CC) => RtcpPacket::TransportCc(TransportCc::parse(body)?),
            (PSFB, FMT_PLI) => {
                feedback::fci(PSFB, body)?;
                RtcpPacket::Pli(Pli {
                    sender_ssrc: be32(body, 0),
                    media_ssrc: be32(body, 4),
                })
            }
            (PSFB, FMT_FIR) => RtcpPacket::Fir(Fir::parse(body)?),
            (PSFB, FMT_AFB) if Remb::is_remb(body) => RtcpPacket::Remb(Remb::parse(body)?),
            _ => RtcpPacket::Unknown(UnknownPacket {
                packet_type,
                count,
                body,
            }),
        })
    }

    /// The packet type (200 SR, 201 RR, ...).
    pub fn packet_type(&self) -> u8 {
        match self {
            RtcpPacket::SenderReport(_) => SR,
            RtcpPacket::ReceiverReport(_) => RR,
            RtcpPacket::Sdes(_) => SDES,
            RtcpPacket::Bye(_) => BYE,
            RtcpPacket::App(_) => APP,
            RtcpPacket::Xr(_) => XR,
            RtcpPacket::Nack(_) | RtcpPacket::TransportCc(_) => RTPFB,
            RtcpPacket::Pli(_) | RtcpPacket::Fir(_) | RtcpPacket::Remb(_) => PSFB,
            RtcpPacket::Unknown(u) => u.packet_type,
        }
    }
}

/// Iterator over the packets of a compound RTCP packet.
///
/// Yields each packet or the first error, then stops. RFC 3550 wants a
/// compound to start with SR or RR; RFC 5506 reduced-size RTCP (one
/// feedback packet alone) is just as common in WebRTC, so no order is
/// enforced.
#[derive(Debug, Clone)]
pub struct Compound<'a> {
    rest: &'a [u8],
}

impl<'a> Compound<'a> {
    /// The packets of `buf`.
    pub fn new(buf: &'a [u8]) -> Compound<'a> {
        Compound { rest: buf }
    }

    /// Checks every packet of `buf`, so later iteration yields no errors.
    pub fn validate(buf: &'a [u8]) -> Result<Compound<'a>, Error> {
        if buf.is_empty() {
            return Err(Error::Truncated {
                what: "RTCP header",
                needed: RTCP_HEADER_LEN,
                available: 0,
            });
        }
        for p in Compound::new(buf) {
            p?;
        }
        Ok(Compound::new(buf))
    }
}

impl<'a> Iterator for Compound<'a> {
    type Item = Result<RtcpPacket<'a>, Error>;

    fn next(&mut self) -> Option<Result<RtcpPacket<'a>, Error>> {
        if self.rest.is_empty() {
            return None;
        }
        match RtcpPacket::parse_first(self.rest) {
            Ok((p, len)) => {
                self.rest = self.rest.get(len..).unwrap_or(&[]);
                Some(Ok(p))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Writes RTCP packets one after another into a caller's buffer, forming a
/// compound packet, without allocating.
///
/// Each [`RtcpWriter::push`] writes a whole packet or, on error, nothing.
/// Bodies that are not a multiple of 4 bytes are padded with the padding bit
/// (as libwebrtc does for transport-cc feedback).
#[derive(Debug)]
pub struct RtcpWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> RtcpWriter<'b> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'b mut [u8]) -> RtcpWriter<'b> {
        RtcpWriter { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Length of the compound written.
    pub fn finish(self) -> usize {
        self.len
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

    fn put32(&mut self, v: u32) -> Result<(), Error> {
        self.put(&v.to_be_bytes())
    }

    fn put_items<T: WireItem>(&mut self, items: Items<'_, T>) -> Result<(), Error> {
        let mut tmp = [0u8; 32];
        for item in items.iter() {
            let t = tmp
                .get_mut(..T::SIZE)
                .ok_or(Error::CannotEncode("item too large"))?;
            item.write(t);
            self.put(t)?;
        }
        Ok(())
    }

    /// Appends `packet`.
    pub fn push(&mut self, packet: &RtcpPacket<'_>) -> Result<(), Error> {
        let start = self.len;
        let r = self.write(packet, start);
        if r.is_err() {
            self.len = start;
        }
        r
    }

    fn write(&mut self, packet: &RtcpPacket<'_>, start: usize) -> Result<(), Error> {
        let count_err = |what| Error::CannotEncode(what);
        self.put(&[0, packet.packet_type(), 0, 0])?;
        let count: usize = match packet {
            RtcpPacket::SenderReport(sr) => {
                self.put32(sr.ssrc)?;
                self.put(&sr.ntp_time.to_be_bytes())?;
                self.put32(sr.rtp_time)?;
                self.put32(sr.packet_count)?;
                self.put32(sr.octet_count)?;
                self.put_items(sr.reports)?;
                self.put(sr.extension)?;
                sr.reports.len()
            }
            RtcpPacket::ReceiverReport(rr) => {
                self.put32(rr.ssrc)?;
                self.put_items(rr.reports)?;
                self.put(rr.extension)?;
                rr.reports.len()
            }
            RtcpPacket::Sdes(s) => {
                for chunk in s.chunks.iter() {
                    self.put32(chunk.ssrc)?;
                    let items_start = self.len;
                    for item in chunk.items.iter() {
                        if item.kind == 0 {
                            return Err(count_err("SDES item type 0"));
                        }
                        let len = u8::try_from(item.value.len())
                            .map_err(|_| count_err("SDES item over 255 bytes"))?;
                        self.put(&[item.kind, len])?;
                        self.put(item.value)?;
                    }
                    // Null terminator, then zeros to the 32-bit boundary.
                    self.put(&[0])?;
                    while (self.len - items_start) % 4 != 0 {
                        self.put(&[0])?;
                    }
                }
                s.chunks.len()
            }
            RtcpPacket::Bye(b) => {
                self.put_items(b.sources)?;
                if let Some(reason) = b.reason {
                    let len =
                        u8::try_from(reason.len()).map_err(|_| count_err("BYE reason over 255 bytes"))?;
                    self.put(&[len])?;
                    self.put(reason)?;
                    while (self.len - start) % 4 != 0 {
                        self.put(&[0])?;
                    }
                }
                b.sources.len()
            }
            RtcpPacket::App(a) => {
                self.put32(a.ssrc)?;
                self.put(&a.name)?;
                self.put(a.data)?;
                usize::from(a.subtype)
            }
            RtcpPacket::Xr(x) => {
                self.put32(x.ssrc)?;
                for block in x.blocks.iter() {
                    let (bt, ts) = match block {
                        XrBlock::Rrtr { .. } => (xr::XR_RRTR, 0),
                        XrBlock::Dlrr(_) => (xr::XR_DLRR, 0),
                        XrBlock::Other {
                            block_type,
                            type_specific,
                            ..
                        } => (block_type, type_specific),
                    };
                    let block_start = self.len;
                    self.put(&[bt, ts, 0, 0])?;
                    match block {
                        XrBlock::Rrtr { ntp_time } => self.put(&ntp_time.to_be_bytes())?,
                        XrBlock::Dlrr(items) => self.put_items(items)?,
                        XrBlock::Other { data, .. } => {
                            if data.len() % 4 != 0 {
                                return Err(count_err("XR block data is not a multiple of 4 bytes"));
                            }
                            self.put(data)?;
                        }
                    }
                    let words = u16::try_from((self.len - block_start - 4) / 4)
                        .map_err(|_| count_err("XR block too long"))?;
                    self.buf[block_start + 2..block_start + 4].copy_from_slice(&words.to_be_bytes());
                }
                0
            }
            RtcpPacket::Nack(n) => {
                self.put32(n.sender_ssrc)?;
                self.put32(n.media_ssrc)?;
                self.put_items(n.pairs)?;
                usize::from(FMT_NACK)
            }
            RtcpPacket::TransportCc(t) => {
                self.put32(t.sender_ssrc)?;
                self.put32(t.media_ssrc)?;
                let count = u16::try_from(t.statuses.len())
                    .map_err(|_| count_err("more than 65535 packet statuses"))?;
                self.put(&t.base_sequence.to_be_bytes())?;
                self.put(&count.to_be_bytes())?;
                let rt = (t.reference_time as u32).to_be_bytes();
                self.put(&[rt[1], rt[2], rt[3], t.feedback_count])?;
                twcc::write_chunks(t.statuses.iter(), |c| self.put(&c.to_be_bytes()))?;
                for s in t.statuses.iter() {
                    let (b, n) = twcc::delta_bytes(s);
                    self.put(&b[..n])?;
                }
                usize::from(FMT_TRANSPORT_CC)
            }
            RtcpPacket::Pli(p) => {
                self.put32(p.sender_ssrc)?;
                self.put32(p.media_ssrc)?;
                usize::from(FMT_PLI)
            }
            RtcpPacket::Fir(f) => {
                self.put32(f.sender_ssrc)?;
                self.put32(f.media_ssrc)?;
                self.put_items(f.entries)?;
                usize::from(FMT_FIR)
            }
            RtcpPacket::Remb(r) => {
                self.put32(r.sender_ssrc)?;
                self.put32(r.media_ssrc)?;
                self.put(feedback::REMB_ID)?;
                let n =
                    u8::try_from(r.ssrcs.len()).map_err(|_| count_err("REMB with more than 255 SSRCs"))?;
                if r.bitrate.exponent > 63 || r.bitrate.mantissa > 0x3ffff {
                    return Err(count_err("REMB exponent or mantissa out of range"));
                }
                let br = (u32::from(r.bitrate.exponent) << 18) | r.bitrate.mantissa;
                self.put32((u32::from(n) << 24) | br)?;
                self.put_items(r.ssrcs)?;
                usize::from(FMT_AFB)
            }
            RtcpPacket::Unknown(u) => {
                self.put(u.body)?;
                usize::from(u.count)
            }
        };
        if count > 31 {
            return Err(count_err("count field above 31"));
        }
        let mut first = 0x80 | count as u8;
        let body_len = self.len - start - RTCP_HEADER_LEN;
        if body_len % 4 != 0 {
            let pad = 4 - body_len % 4;
            for i in 1..=pad {
                self.put(&[if i == pad { pad as u8 } else { 0 }])?;
            }
            first |= 0x20;
        }
        let words =
            u16::try_from((self.len - start) / 4 - 1).map_err(|_| count_err("RTCP packet over 256 KiB"))?;
        self.buf[start] = first;
        self.buf[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
        Ok(())
    }
}
