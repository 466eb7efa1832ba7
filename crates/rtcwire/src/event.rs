//! What goes into and comes out of a peer connection, and its W3C states.

use std::net::SocketAddr;
use std::time::Instant;

pub use rtcwire_ice::IceConnectionState;

/// A datagram that arrived on one of the caller's sockets.
#[derive(Debug, Clone, Copy)]
pub struct Receive<'a> {
    /// Who sent it.
    pub source: SocketAddr,
    /// The local address it arrived on (the socket's bound address; the
    /// one given to [`Rtc::add_local_candidate`](crate::Rtc::add_local_candidate)).
    pub destination: SocketAddr,
    /// Its bytes.
    pub contents: &'a [u8],
}

/// Input to [`Rtc::handle_input`](crate::Rtc::handle_input).
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A datagram arrived at this instant.
    Receive(Instant, Receive<'a>),
    /// Time passed: the instant of the last [`Output::Timeout`], or any
    /// later one.
    Timeout(Instant),
    /// The TCP connection [`Output::Connect`] asked for, to this address,
    /// is established: bytes may be written to it.
    Connected(Instant, SocketAddr),
    /// Bytes read from the TCP connection to this address, as they came
    /// (any split).
    StreamReceive(Instant, SocketAddr, &'a [u8]),
    /// The TCP connection to this address could not be made, or closed.
    Disconnected(Instant, SocketAddr),
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local address to send from (one of the candidates' sockets).
    pub source: SocketAddr,
    /// Where to.
    pub destination: SocketAddr,
    /// The bytes.
    pub contents: Vec<u8>,
}

/// Bytes for a TCP connection the peer connection asked for with
/// [`Output::Connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTransmit {
    /// The connection's remote address.
    pub destination: SocketAddr,
    /// The bytes, to write in order after those before.
    pub contents: Vec<u8>,
}

/// What [`Rtc::poll_output`](crate::Rtc::poll_output) hands out; drain it
/// until it returns `Timeout`.
#[derive(Debug)]
pub enum Output {
    /// Send this datagram.
    Transmit(Transmit),
    /// Open a TCP connection to this address (a TURN server reached over
    /// TCP or TLS), and answer with [`Input::Connected`] or
    /// [`Input::Disconnected`]. Nothing is written to it before.
    Connect(SocketAddr),
    /// Write these bytes to the TCP connection to `destination`, in order.
    StreamTransmit(StreamTransmit),
    /// Close the TCP connection to this address.
    Disconnect(SocketAddr),
    /// Something the application should know.
    Event(Event),
    /// Nothing more to do before this instant, unless a datagram arrives
    /// or the application calls a method first.
    Timeout(Instant),
}

/// A data channel, as the application knows it. Stable for the channel's
/// life, also before its SCTP stream id is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub(crate) u32);

impl std::fmt::Display for ChannelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "channel#{}", self.0)
    }
}

/// A local candidate to signal to the peer (trickle ICE, RFC 8838).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCandidate {
    /// `candidate:...`, as in `RTCIceCandidate.candidate`.
    pub candidate: String,
    /// The m-section it belongs to (`sdpMid`): the BUNDLE-tagged one.
    pub sdp_mid: String,
    /// Its index (`sdpMLineIndex`).
    pub sdp_m_line_index: u16,
}

/// W3C `RTCPeerConnectionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerConnectionState {
    /// Nothing has happened yet.
    New,
    /// ICE is checking or DTLS is handshaking.
    Connecting,
    /// ICE and DTLS are connected.
    Connected,
    /// ICE lost the path; it may come back.
    Disconnected,
    /// ICE or DTLS failed; only an ICE restart (for ICE) helps.
    Failed,
    /// Closed: by [`Rtc::close`](crate::Rtc::close), or because the peer
    /// ended DTLS with close_notify (nothing can come back then).
    Closed,
}

/// W3C `RTCDtlsTransportState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsTransportState {
    /// Not started.
    New,
    /// Handshaking.
    Connecting,
    /// Handshake done, keys verified against the peer's fingerprint.
    Connected,
    /// close_notify sent or received.
    Closed,
    /// The handshake or a record failed (e.g. wrong fingerprint).
    Failed,
}

/// W3C `RTCSignalingState` (provisional answers are not supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalingState {
    /// No offer outstanding.
    Stable,
    /// We applied an offer and wait for the answer.
    HaveLocalOffer,
    /// The peer's offer is applied; we owe an answer.
    HaveRemoteOffer,
    /// Closed.
    Closed,
}

/// W3C `RTCIceGatheringState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceGatheringState {
    /// No candidates yet.
    New,
    /// Gathering (e.g. waiting for a STUN server).
    Gathering,
    /// Every local candidate is known.
    Complete,
}

/// A message that arrived on a data channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelData {
    /// Which channel.
    pub id: ChannelId,
    /// Binary (true) or text (false).
    pub binary: bool,
    /// The message.
    pub data: Vec<u8>,
}

/// What the peer connection tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A local candidate to send to the peer (trickle): one learned after
    /// the local description was applied (those known before are in it).
    IceCandidate(IceCandidate),
    /// W3C `icegatheringstatechange`.
    IceGatheringStateChange(IceGatheringState),
    /// A TURN server refused or never answered the allocation (W3C
    /// `icecandidateerror`); ICE goes on with the other candidates.
    IceServerError {
        /// The server.
        server: SocketAddr,
        /// Why, as the TURN client says it.
        reason: String,
    },
    /// W3C `iceconnectionstatechange`.
    IceConnectionStateChange(IceConnectionState),
    /// The DTLS transport's state changed.
    DtlsStateChange(DtlsTransportState),
    /// W3C `connectionstatechange`.
    PeerConnectionStateChange(PeerConnectionState),
    /// W3C `signalingstatechange`.
    SignalingStateChange(SignalingState),
    /// Something was added that the peer must hear of through a new offer
    /// (a data channel before any was negotiated, an ICE restart).
    NegotiationNeeded,
    /// The pair that carries data changed (W3C `selectedcandidatepairchange`).
    SelectedPairChange {
        /// Our address.
        local: SocketAddr,
        /// The peer's.
        remote: SocketAddr,
    },
    /// A data channel opened: one we created, or the peer's (W3C
    /// `datachannel` then `open`).
    ChannelOpen {
        /// Its id.
        id: ChannelId,
        /// Its label.
        label: String,
        /// Its sub-protocol.
        protocol: String,
        /// The peer created it.
        remote: bool,
    },
    /// A message arrived.
    ChannelData(ChannelData),
    /// The channel's buffered amount fell to its threshold.
    ChannelBufferedAmountLow(ChannelId),
    /// The channel is closing.
    ChannelClosing(ChannelId),
    /// The channel is closed; its id is no longer valid.
    ChannelClosed(ChannelId),
}
