//! # rtcwire
//!
//! A WebRTC peer connection as a sans-IO state machine: ICE (RFC 8445),
//! DTLS 1.2 with DTLS-SRTP (RFC 6347, 5764), SCTP data channels (RFC 8831,
//! 8832) and SRTP (RFC 3711, 7714) behind one [`Rtc`], negotiated with
//! JSEP (RFC 9429) and demultiplexed per RFC 7983 on one 5-tuple
//! (max-bundle, rtcp-mux).
//!
//! The caller owns sockets and clock: every datagram and every expired
//! timeout goes into [`Rtc::handle_input`]; [`Rtc::poll_output`] hands out
//! datagrams to send, [`Event`]s, and the instant to wake up, and is
//! drained until it returns [`Output::Timeout`]. Nothing here reads the
//! clock, sleeps, opens a socket or spawns a thread, so the same code runs
//! under tokio, with `std::net`, in a simulator and under a fuzzer.
//!
//! - **Signalling**: [`Rtc::create_offer`], [`Rtc::create_answer`],
//!   [`Rtc::set_local_description`], [`Rtc::set_remote_description`]
//!   (and rollback); trickle with [`Event::IceCandidate`] and
//!   [`Rtc::add_remote_candidate`], or complete descriptions; ICE restart
//!   with [`Rtc::restart_ice`]; [`Event::NegotiationNeeded`].
//! - **Data channels**: [`Rtc::create_data_channel`] with [`ChannelOptions`]
//!   (ordered or not, max retransmits, max lifetime, protocol, negotiated
//!   id), [`Rtc::send`], [`Rtc::close_data_channel`], buffered amount and
//!   its low-threshold event; the peer's max-message-size is enforced.
//! - **Media**: audio and video m-sections are answered `recvonly` with
//!   one codec (or `inactive`); SRTP is keyed from DTLS and received
//!   packets are authenticated and counted. Sending media and tracks come
//!   in a later version.
//! - **States and stats**: W3C connection, ICE, DTLS and signalling
//!   states with events; [`Rtc::stats`].
//! - **ICE servers**: [`RtcConfig::ice_servers`] with STUN and TURN
//!   servers by IP address, TURN over UDP, TCP or TLS (on a TCP connection
//!   the caller opens when asked: [`Output::Connect`]);
//!   [`IceTransportPolicy::Relay`] uses relay candidates only and keeps the
//!   host's addresses out of the SDP.
//! - **Servers**: [`Server`] answers many peers on one socket as ICE-lite.
#![forbid(unsafe_code)]

mod error;
mod event;
mod jsep;
mod relay;
mod rtc;
mod server;
mod stats;

/// The shared byte buffers [`Rtc::send_bytes`] takes.
pub use bytes::Bytes;
pub use error::RtcError;
pub use event::{
    ChannelData, ChannelId, DtlsTransportState, Event, IceCandidate, IceConnectionState, IceGatheringState,
    Input, Output, PeerConnectionState, Receive, SignalingState, StreamTransmit, Transmit,
};
pub use jsep::{SdpType, SessionDescription};
pub use relay::{IceServer, IceTransportPolicy};
pub use rtc::{Rtc, RtcConfig};
pub use server::{PeerId, Server, ServerConfig, ServerOutput};
pub use stats::{ChannelStats, MediaStats, RtcStats, TransportStats};

pub use rtcwire_dtls::{CipherSuite, DtlsCertificate, SrtpProfile};
pub use rtcwire_ice::IceConfig;
pub use rtcwire_sctp::{ChannelOptions, ChannelState, SctpConfig};

/// The protocol crates, for settings and types beyond the facade's.
pub mod proto {
    pub use rtcwire_dtls as dtls;
    pub use rtcwire_ice as ice;
    pub use rtcwire_rtp as rtp;
    pub use rtcwire_sctp as sctp;
    pub use rtcwire_sdp as sdp;
    pub use rtcwire_srtp as srtp;
    pub use rtcwire_stun as stun;
    pub use rtcwire_turn as turn;
}
