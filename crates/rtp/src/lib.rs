//! # rtcwire-rtp
//!
//! RTP and RTCP wire formats for WebRTC: zero-copy views over received
//! bytes and allocation-free builders into caller buffers. Sans-IO: nothing
//! here reads a clock or touches a socket; SRTP (`rtcwire-srtp`) protects
//! what this crate builds, in place.
//!
//! Implements:
//! - RFC 3550 RTP: the fixed header, CSRCs, the header extension block,
//!   padding ([`RtpPacket`], [`RtpBuilder`]); sequence number and timestamp
//!   extension to 64 bits across wrap-around ([`SequenceUnwrapper`],
//!   [`TimestampUnwrapper`]).
//! - RFC 8285 header extensions in one-byte and two-byte form
//!   ([`Extensions`], [`RtpBuilder::add_extension`]), and typed values by
//!   negotiated id ([`ExtensionIds`], [`ExtensionValues`]): mid, rid,
//!   repaired-rid, abs-send-time, transport-wide sequence number, audio
//!   level (RFC 6464), video orientation (3GPP TS 26.114), playout delay.
//! - RFC 5761 RTP/RTCP demultiplexing on one port ([`classify`]).
//! - RTCP compound packets (RFC 3550 section 6, RFC 5506 reduced-size
//!   accepted: no order is enforced) through [`Compound`] and
//!   [`RtcpWriter`]: SR, RR with report blocks, SDES, BYE, APP; XR RRTR and
//!   DLRR blocks (RFC 3611; other XR blocks as bytes); generic NACK
//!   (RFC 4585); transport-wide congestion control feedback
//!   (draft-holmer-rmcat-transport-wide-cc-extensions-01); PLI (RFC 4585),
//!   FIR (RFC 5104), REMB (draft-alvestrand-rmcat-remb). Other packet types
//!   and feedback formats come out as [`UnknownPacket`] and are written back
//!   unchanged.
//!
//! Not implemented: RTCP profile-specific semantics (SR/RR extensions are
//! kept as bytes), XR block types other than RRTR and DLRR, the other
//! RFC 5104 messages (TSTR, TSTN, VBCM, TMMBR/TMMBN arrive as
//! [`UnknownPacket`]), transport-wide-cc-02's feedback-request bytes,
//! RFC 6904 encrypted header extensions, and the RTP/RTCP statistics state
//! machines (jitter, loss, RTT from SR/RR) that sit on top of these formats.
//! The compound rules of RFC 3550 (first packet SR/RR, CNAME present) are
//! left to the caller.
//!
//! ## Shape
//!
//! [`RtpPacket::new_checked`] checks the version and that the header (CSRCs
//! and extension block) fits; then no accessor can panic. Padding is only
//! checked by [`RtpPacket::payload`], because under SRTP the padding count
//! is encrypted: [`RtpPacket::header_len`] is where SRTP starts encrypting.
//! RTCP packets decode into [`RtcpPacket`], whose lists ([`Items`],
//! [`SdesChunks`], [`XrBlocks`], [`PacketStatuses`]) are either the undecoded
//! bytes of a received packet or a sender's slice, so one type is both the
//! parsed view and what [`RtcpWriter::push`] writes, and the two compare
//! equal item by item.
//!
//! ## Example: RTP with extensions, then RTCP feedback
//!
//! ```
//! use rtcwire_rtp::*;
//!
//! // Negotiated in SDP: a=extmap:1 ...sdes:mid, a=extmap:3 ...transport-wide-cc...
//! let mut ids = ExtensionIds::default();
//! ids.set_by_uri(uri::MID, 1);
//! ids.set_by_uri(uri::TRANSPORT_CC, 3);
//!
//! let mut buf = [0u8; 1500];
//! let header = RtpHeader { marker: true, payload_type: 96, sequence_number: 65535, timestamp: 90_000, ssrc: 0xfeed, csrcs: &[] };
//! let mut b = RtpBuilder::new(&mut buf, &header)?;
//! b.add_extension(ExtensionForm::OneByte, 1, b"video")?;
//! b.add_extension(ExtensionForm::OneByte, 3, &7u16.to_be_bytes())?;
//! b.payload(&[0x90, 0x80, 0x00])?;
//! let len = b.finish()?;
//!
//! assert_eq!(classify(&buf[..len]), Some(MediaKind::Rtp));
//! let packet = RtpPacket::new_checked(&buf[..len])?;
//! let values = ids.read(packet.extensions()?);
//! assert_eq!((values.mid, values.transport_cc), (Some("video"), Some(7)));
//! assert_eq!(packet.payload()?, &[0x90, 0x80, 0x00]);
//! let mut seqs = SequenceUnwrapper::new();
//! assert_eq!(seqs.extend(packet.sequence_number()), 65535);
//! assert_eq!(seqs.extend(0), 65536);
//!
//! // The receiver answers with a reduced-size NACK and a PLI in one compound.
//! let pairs: Vec<NackPair> = nack_pairs([65535, 1, 2]).collect();
//! let mut out = [0u8; 256];
//! let mut w = RtcpWriter::new(&mut out);
//! w.push(&RtcpPacket::Nack(Nack { sender_ssrc: 1, media_ssrc: 0xfeed, pairs: Items::Slice(&pairs) }))?;
//! w.push(&RtcpPacket::Pli(Pli { sender_ssrc: 1, media_ssrc: 0xfeed }))?;
//! let n = w.finish();
//!
//! assert!(is_rtcp(&out[..n]));
//! let mut lost = Vec::new();
//! for packet in Compound::validate(&out[..n])? {
//!     match packet? {
//!         RtcpPacket::Nack(nack) => lost.extend(nack.lost()),
//!         RtcpPacket::Pli(pli) => assert_eq!(pli.media_ssrc, 0xfeed),
//!         other => assert!(false, "unexpected {other:?}"),
//!     }
//! }
//! assert_eq!(lost, [65535, 1, 2]);
//! # Ok::<(), rtcwire_rtp::Error>(())
//! ```
#![forbid(unsafe_code)]

mod builder;
mod bytes;
mod demux;
mod error;
mod extensions;
mod packet;
mod rtcp;
mod unwrap;

pub use builder::{RtpBuilder, RtpHeader};
pub use demux::{MediaKind, classify, is_rtcp, is_rtp_or_rtcp};
pub use error::Error;
pub use extensions::{
    AbsSendTime, AudioLevel, Extension, ExtensionForm, ExtensionIds, ExtensionValues, Extensions,
    ONE_BYTE_PROFILE, PlayoutDelay, TWO_BYTE_PROFILE, VideoOrientation, parse_text, parse_transport_cc, uri,
};
pub use packet::{FIXED_HEADER_LEN, RTP_VERSION, RtpPacket, rtp_header_len};
pub use rtcp::feedback::{Fir, FirEntry, Nack, NackPair, NackPairs, Pli, Remb, RembBitrate, nack_pairs};
pub use rtcp::items::{Items, ItemsIter, WireItem};
pub use rtcp::report::{ReceiverReport, ReportBlock, SenderReport};
pub use rtcp::sdes::{
    App, Bye, Sdes, SdesChunk, SdesChunks, SdesChunksIter, SdesItem, SdesItems, SdesItemsIter, sdes_type,
};
pub use rtcp::twcc::{PacketStatuses, PacketStatusesIter, TransportCc};
pub use rtcp::xr::{DlrrItem, XR_DLRR, XR_RRTR, Xr, XrBlock, XrBlocks, XrBlocksIter};
pub use rtcp::{
    APP, BYE, Compound, FMT_AFB, FMT_FIR, FMT_NACK, FMT_PLI, FMT_TRANSPORT_CC, PSFB, RR, RTCP_HEADER_LEN,
    RTPFB, RtcpPacket, RtcpWriter, SDES, SR, UnknownPacket, XR,
};
pub use unwrap::{SequenceUnwrapper, TimestampUnwrapper, seq_newer};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::bool_assert_comparison)]
mod rtp_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod rtcp_tests;
