//! # rtcwire-srtp
//!
//! SRTP and SRTCP for WebRTC (in progress).
#![forbid(unsafe_code)]
