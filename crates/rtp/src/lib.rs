//! # rtcwire-rtp
//!
//! RTP and RTCP wire formats for WebRTC, as zero-copy views over received
//! bytes and allocation-free builders into caller buffers.
#![forbid(unsafe_code)]

mod builder;
mod demux;
mod error;
mod extensions;
mod packet;
mod unwrap;

pub use builder::{RtpBuilder, RtpHeader};
pub use demux::{MediaKind, classify, is_rtcp, is_rtp_or_rtcp};
pub use error::Error;
pub use extensions::{
    AbsSendTime, AudioLevel, Extension, ExtensionForm, ExtensionIds, ExtensionValues, Extensions,
    ONE_BYTE_PROFILE, PlayoutDelay, TWO_BYTE_PROFILE, VideoOrientation, parse_text, parse_transport_cc, uri,
};
pub use packet::{FIXED_HEADER_LEN, RTP_VERSION, RtpPacket, rtp_header_len};
pub use unwrap::{SequenceUnwrapper, TimestampUnwrapper, seq_newer};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::bool_assert_comparison)]
mod rtp_tests;
