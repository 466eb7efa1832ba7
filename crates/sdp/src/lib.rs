//! # rtcwire-sdp
//!
//! Session descriptions as browsers really write them: a typed,
//! zero-copy, lossless model of SDP and the attributes WebRTC negotiates.
//!
//! Implements the SDP grammar of RFC 8866 (line order `v o s i u e p c b t r
//! z k a`, then media sections `m i c b k a`) and typed attributes from:
//! RFC 9143 (BUNDLE, `bundle-only`), RFC 8839 (ICE: `candidate`,
//! `ice-ufrag`, `ice-pwd`, `ice-options`, `ice-lite`, `end-of-candidates`),
//! RFC 8122/8842 (`fingerprint`, `setup`), RFC 8843/5888 (`mid`, `group`),
//! RFC 8285 (`extmap`, `extmap-allow-mixed`), RFC 8830 (`msid`), RFC 3605
//! (`rtcp`), RFC 5761 and 8858 (`rtcp-mux`, `rtcp-mux-only`), RFC 5506
//! (`rtcp-rsize`), RFC 4585 (`rtcp-fb`), RFC 5576 (`ssrc`, `ssrc-group`),
//! RFC 8851/8853 (`rid`, `simulcast`), RFC 8841 (`sctp-port`,
//! `max-message-size`), and `sctp-init` (SCTP negotiation acceleration).
//!
//! Not implemented: JSEP itself (offer/answer state lives in the `rtcwire`
//! crate), SDP capability negotiation (RFC 5939), and interpreting `r=` and
//! `z=` (kept as text).
//!
//! ## Shape
//!
//! [`SessionDescription::parse`] borrows from the text it reads: strings are
//! `Cow::Borrowed` slices, so parsing allocates little more than the line
//! vectors. Every line is kept in order, known ones typed and unknown ones
//! verbatim, so `parse` then [`SessionDescription::to_sdp`] gives back the
//! same text for the descriptions browsers send. [`SessionDescription::into_owned`]
//! detaches the model from the input. Parsing is bounded by [`Limits`] and
//! a malformed line is reported with its number, its text and what was
//! expected.
//!
//! ```
//! use rtcwire_sdp::{Attribute, SessionDescription};
//!
//! let text = "v=0\r\n\
//!     o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
//!     s=-\r\n\
//!     t=0 0\r\n\
//!     a=group:BUNDLE 0\r\n\
//!     m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
//!     c=IN IP4 0.0.0.0\r\n\
//!     a=ice-ufrag:EsAw\r\n\
//!     a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n\
//!     a=fingerprint:sha-256 0F:74:31:25:CB:A2:13:EC:28:6F:6D:2C:61:FF:5D:C2:BC:B9:DB:3D:98:14:8D:1A:BB:EA:33:0C:A4:60:A8:8E\r\n\
//!     a=setup:actpass\r\n\
//!     a=mid:0\r\n\
//!     a=sctp-port:5000\r\n\
//!     a=max-message-size:262144\r\n";
//! let sdp = SessionDescription::parse(text)?;
//! assert_eq!(sdp.bundle_mids().ok_or("no BUNDLE")?.collect::<Vec<_>>(), ["0"]);
//! let data = &sdp.media[0];
//! assert_eq!(sdp.ice_credentials(data), Some(("EsAw", "bP+XJMM09aR8AiX1jdukzR6Y")));
//! assert_eq!(data.sctp_port(), Some(5000));
//! assert_eq!(sdp.to_sdp(), text);
//!
//! let err = SessionDescription::parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=rtpmap:x\r\n").unwrap_err();
//! assert_eq!(err.to_string(), "SDP line 4: rtpmap: `PT encoding/clock-rate[/channels]`, found `a=rtpmap:x`");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod attribute;
mod candidate;
mod error;
mod media;
mod session;
mod write;

pub use attribute::{
    Attribute, Direction, Extmap, Fingerprint, Fmtp, Group, Msid, PayloadType, Rid, RidDirection, Rtcp,
    RtcpFb, Rtpmap, Setup, Simulcast, SimulcastStream, Ssrc, SsrcGroup,
};
pub use candidate::{Candidate, CandidateType, MAX_CANDIDATE_EXTENSIONS, Protocol, TcpType};
pub use error::ParseError;
pub use media::{Codec, MediaDescription};
pub use session::{Bandwidth, Connection, Limits, Line, Origin, SessionDescription};
