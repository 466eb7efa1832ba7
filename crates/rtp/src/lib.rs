//! # rtcwire-rtp
//!
//! RTP and RTCP wire formats for WebRTC, as zero-copy views over received
//! bytes and allocation-free builders into caller buffers.
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
