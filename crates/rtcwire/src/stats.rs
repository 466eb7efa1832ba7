//! A snapshot of a peer connection, in the spirit of W3C `getStats()`.

use std::net::SocketAddr;
use std::time::Duration;

use rtcwire_dtls::{CipherSuite, SrtpProfile};
use rtcwire_ice::{IceConnectionState, IceStats};
use rtcwire_sctp::{ChannelState, SctpStats};

use crate::event::{ChannelId, DtlsTransportState, PeerConnectionState};

/// Datagrams through the connection's 5-tuples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Datagrams handed out to send.
    pub packets_sent: u64,
    /// Their bytes.
    pub bytes_sent: u64,
    /// Datagrams received.
    pub packets_received: u64,
    /// Their bytes.
    pub bytes_received: u64,
    /// Datagrams (or messages) dropped: not for any protocol here, from an
    /// address ICE did not validate, or not polled in time.
    pub dropped: u64,
}

/// Media received (this version receives and counts; tracks come later).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// SRTP packets that authenticated.
    pub rtp_packets_received: u64,
    /// Their decrypted bytes (header and payload).
    pub rtp_bytes_received: u64,
    /// SRTCP packets that authenticated.
    pub rtcp_packets_received: u64,
    /// Packets that failed authentication or replay checks.
    pub unprotect_failures: u64,
}

/// One data channel (W3C `RTCDataChannelStats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelStats {
    /// Its id.
    pub id: ChannelId,
    /// Its SCTP stream, once known.
    pub stream_id: Option<u16>,
    /// Label.
    pub label: String,
    /// Sub-protocol.
    pub protocol: String,
    /// State.
    pub state: Option<ChannelState>,
    /// Messages sent.
    pub messages_sent: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Messages received.
    pub messages_received: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Bytes queued and not yet acknowledged.
    pub buffered_amount: usize,
}

/// The whole connection.
#[derive(Debug, Clone, PartialEq)]
pub struct RtcStats {
    /// W3C `connectionState`.
    pub peer_connection_state: PeerConnectionState,
    /// W3C `iceConnectionState`.
    pub ice_connection_state: IceConnectionState,
    /// DTLS transport state.
    pub dtls_state: DtlsTransportState,
    /// The selected candidate pair: (local, remote).
    pub selected_pair: Option<(SocketAddr, SocketAddr)>,
    /// Smoothed round-trip time, as SCTP measures it on the selected pair.
    pub rtt: Option<Duration>,
    /// Datagrams and bytes.
    pub transport: TransportStats,
    /// The DTLS cipher suite.
    pub dtls_cipher: Option<CipherSuite>,
    /// The SRTP profile negotiated with use_srtp.
    pub srtp_profile: Option<SrtpProfile>,
    /// Media received.
    pub media: MediaStats,
    /// ICE counters.
    pub ice: IceStats,
    /// SCTP congestion control and counters.
    pub sctp: Option<SctpStats>,
    /// Every open data channel.
    pub channels: Vec<ChannelStats>,
}
