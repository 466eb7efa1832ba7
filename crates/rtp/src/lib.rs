//! # rtcwire-rtp
//!
//! RTP and RTCP wire formats for WebRTC (in progress).
#![forbid(unsafe_code)]
