//! The peer connection: one state machine over ICE, DTLS, SCTP and SRTP.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{RngCore, SeedableRng};
use rtcwire_dtls::{DtlsCertificate, DtlsConfig, DtlsEndpoint, DtlsEvent, DtlsState, Role};
use rtcwire_ice::{Credentials, IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole};
use rtcwire_sctp::{
    Association, ChannelEvent, ChannelOptions, ChannelState, DataChannels, Payload, SctpConfig,
};
use rtcwire_sdp::Setup;

use crate::RtcError;
use crate::event::{
    ChannelData, ChannelId, DtlsTransportState, Event, IceCandidate, IceGatheringState, Input, Output,
    PeerConnectionState, Receive, SignalingState, StreamTransmit, Transmit,
};
use crate::jsep::{
    self, LocalParams, Remote, RemoteCandidate, SdpType, Section, SectionKind, SessionDescription,
};
use crate::relay::{IceServer, IceTransportPolicy, MAX_RELAYS, Relay, ServerUrl, StreamState};
use crate::stats::{ChannelStats, MediaStats, RtcStats, TransportStats};

/// DTLS record overhead with AES-GCM: 13 bytes of header, 8 of explicit
/// nonce and 16 of tag (ChaCha20-Poly1305 needs 29: 37 covers both).
const DTLS_RECORD_OVERHEAD: usize = 37;
/// DTLS datagrams that arrive before the handshake can take them (the
/// DTLS role or the ICE pair is not known yet), kept until it can.
const MAX_EARLY_DTLS: usize = 8;
/// Events waiting for the application; beyond it, data-channel messages
/// are dropped and counted (state changes are always kept).
const MAX_EVENTS: usize = 65_536;
/// Most data channels created before the association is up.
const MAX_PENDING_CHANNELS: usize = 1024;
/// Most remote candidates waiting for the remote description's credentials.
const MAX_PENDING_CANDIDATES: usize = 64;
/// How long `poll_output` lets an idle connection sleep.
const IDLE_TIMEOUT: Duration = Duration::from_secs(1);

/// Settings of a peer connection.
#[derive(Debug, Clone)]
pub struct RtcConfig {
    /// Our DTLS certificate; `None` generates an ECDSA P-256 one. Share one
    /// across connections to save the key generation.
    pub certificate: Option<Arc<DtlsCertificate>>,
    /// The ICE agent: `lite` for a server with public addresses, STUN
    /// servers, timings, caps, seed.
    pub ice: IceConfig,
    /// SCTP settings. `mtu`, `headroom` and `zero_checksum` are set by the peer
    /// connection; `max_message_size` is what we announce in
    /// `a=max-message-size` and the largest message we receive.
    pub sctp: SctpConfig,
    /// Largest UDP payload sent. Default 1200.
    pub mtu: usize,
    /// Offer SCTP's zero checksum (RFC 9653) over DTLS. Default true.
    pub zero_checksum: bool,
    /// Seed for everything random that shapes behaviour (ICE, SCTP, SDP
    /// session ids); `None` draws from the system. Keys never come from it.
    pub seed: Option<u64>,
    /// STUN and TURN servers (W3C `iceServers`), by IP address: STUN ones
    /// join `ice.stun_servers`; each TURN one allocates a relayed address,
    /// over UDP from the first host candidate's socket, over TCP and TLS
    /// on a connection the caller opens when asked ([`Output::Connect`]).
    /// At most 4 TURN.
    pub ice_servers: Vec<IceServer>,
    /// Which candidates ICE uses (W3C `iceTransportPolicy`).
    pub ice_transport_policy: IceTransportPolicy,
    /// Trust anchors (and any other TLS settings) for `turns:` servers;
    /// needed when one is configured.
    pub tls_config: Option<Arc<rustls::ClientConfig>>,
}

impl Default for RtcConfig {
    fn default() -> Self {
        RtcConfig {
            certificate: None,
            ice: IceConfig::default(),
            sctp: SctpConfig::default(),
            mtu: 1200,
            zero_checksum: true,
            seed: None,
            ice_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            tls_config: None,
        }
    }
}

/// A channel as the application sees it.
#[derive(Debug)]
struct Channel {
    label: String,
    options: ChannelOptions,
    /// SCTP stream id once the association has the channel.
    stream: Option<u16>,
    /// Before the association: waiting to be created.
    pending: bool,
    messages_sent: u64,
    bytes_sent: u64,
    messages_received: u64,
    bytes_received: u64,
    low_threshold: usize,
}

/// The offer or answer we created and have not applied yet.
#[derive(Debug, Clone)]
struct Created {
    kind: SdpType,
    sdp: String,
    sections: Vec<Section>,
    credentials: Credentials,
    /// How many local candidates the description holds: those gathered
    /// after it trickle once it is applied.
    candidates: usize,
}

/// A WebRTC peer connection, sans-IO.
///
/// The caller owns the sockets and the clock. It gives every datagram and
/// every expired timeout to [`handle_input`](Rtc::handle_input), and
/// drains [`poll_output`](Rtc::poll_output) until it returns
/// [`Output::Timeout`]:
///
/// ```no_run
/// # use std::net::SocketAddr;
/// # use std::time::Instant;
/// # use rtcwire::{Input, Output, Receive, Rtc, RtcError};
/// // The caller's I/O, passed in: `send` writes a datagram from `local` (the
/// // address given to `add_local_candidate`); `wait` reads one into `buf`
/// // before `deadline` and says when it arrived and from where, or returns
/// // `None` at the deadline. `examples/lib/driver.rs` is this loop on a
/// // `std` UDP socket.
/// fn run(
///     rtc: &mut Rtc,
///     local: SocketAddr,
///     mut send: impl FnMut(&[u8], SocketAddr),
///     mut wait: impl FnMut(Instant, &mut [u8]) -> Option<(usize, SocketAddr, Instant)>,
/// ) -> Result<(), RtcError> {
///     let mut buf = vec![0; 2048];
///     loop {
///         let deadline = match rtc.poll_output()? {
///             Output::Transmit(t) => {
///                 send(&t.contents, t.destination);
///                 rtc.recycle(t.contents); // optional: the buffer is reused
///                 continue;
///             }
///             Output::Event(event) => { println!("{event:?}"); continue; }
///             // Only with TURN over TCP or TLS: open, write, close the
///             // caller's TCP connection to that server (see `Input::Connected`).
///             Output::Connect(_) | Output::StreamTransmit(_) | Output::Disconnect(_) => continue,
///             Output::Timeout(at) => at,
///         };
///         let input = match wait(deadline, &mut buf) {
///             Some((n, source, at)) => {
///                 Input::Receive(at, Receive { source, destination: local, contents: &buf[..n] })
///             }
///             None => Input::Timeout(deadline),
///         };
///         rtc.handle_input(input)?;
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Rtc {
    config: RtcConfig,
    now: Instant,
    rng: rand::rngs::StdRng,
    certificate: Arc<DtlsCertificate>,
    fingerprint: String,

    ice: IceAgent,
    /// TURN allocations (relay candidates).
    relays: Vec<Relay>,
    /// `IceTransportPolicy::Relay`: host addresses stay out of ICE.
    relay_only: bool,
    /// ICE reported its gathering complete (or has nothing to gather).
    ice_gathered: bool,
    /// The agent's `poll_timeout`, as of its last input.
    ice_timeout: Option<Instant>,
    /// The agent was lent out: drain it at the next `poll_output`.
    ice_touched: bool,
    /// Local candidates' `candidate:` values, for complete descriptions.
    local_candidates: Vec<String>,
    gathering: IceGatheringState,
    pending_remote_candidates: Vec<RemoteCandidate>,
    /// End-of-candidates trickled before the remote description: applied
    /// after the candidates held with it (otherwise ICE, with no remote
    /// candidate yet, would fail at once).
    pending_end_of_candidates: bool,
    selected: Option<(SocketAddr, SocketAddr)>,
    ice_restart: bool,

    dtls: Option<DtlsEndpoint>,
    dtls_started: bool,
    early_dtls: VecDeque<(SocketAddr, Vec<u8>)>,
    srtp_rx: Option<rtcwire_srtp::Context>,
    srtp_profile: Option<rtcwire_dtls::SrtpProfile>,
    sctp: Option<DataChannels>,
    sctp_connected: bool,

    // JSEP.
    signaling: SignalingState,
    session_id: u64,
    session_version: u64,
    /// The negotiated sections.
    sections: Vec<Section>,
    /// Our offer or answer, created but not applied yet.
    created: Option<Created>,
    /// Our applied offer, waiting for the answer.
    local_offer: Option<Created>,
    /// The peer's applied offer, waiting for our answer.
    remote_offer: Option<Remote>,
    /// The peer's current description.
    remote: Option<Remote>,
    negotiated_once: bool,
    /// A local description was applied: new local candidates trickle.
    local_description_applied: bool,
    negotiation_needed: bool,
    /// `a=setup` we state in our next description.
    dtls_role: Option<Role>,

    // Data channels.
    channels: BTreeMap<ChannelId, Channel>,
    by_stream: HashMap<u16, ChannelId>,
    next_channel: u32,
    remote_max_message_size: usize,

    // States.
    ice_state: IceConnectionState,
    dtls_state: DtlsTransportState,
    pc_state: PeerConnectionState,
    closed: bool,

    // Outputs.
    transmits: VecDeque<Transmit>,
    /// TCP connections to open, bytes for them, connections to close (TURN
    /// over TCP and TLS). Bounded by the TURN clients' own queues.
    stream_out: VecDeque<Output>,
    /// Data the TURN clients received over TCP or TLS, to handle as
    /// datagrams arriving on their relayed addresses: (relay, peer, data).
    /// Drained after each stream input; the clients bound how much one
    /// input yields.
    relay_data: Vec<(usize, SocketAddr, Vec<u8>)>,
    events: VecDeque<Event>,
    stats: TransportStats,
    media: MediaStats,
    scratch: Vec<u8>,
}

impl Rtc {
    /// A new peer connection. `now` starts its clock; every later instant
    /// comes with an input.
    pub fn new(config: RtcConfig, now: Instant) -> Result<Rtc, RtcError> {
        let certificate = match &config.certificate {
            Some(c) => c.clone(),
            None => Arc::new(DtlsCertificate::generate()?),
        };
        let fp = certificate.fingerprint();
        let fingerprint = format!("{} {}", fp.hash_function(), fp.to_sdp_value());
        let mut rng = match config.seed {
            Some(seed) => rand::rngs::StdRng::seed_from_u64(seed),
            None => rand::rngs::StdRng::from_os_rng(),
        };
        let mut ice_config = config.ice.clone();
        if ice_config.seed.is_none() {
            ice_config.seed = config.seed;
        }
        let relay_only = config.ice_transport_policy == IceTransportPolicy::Relay;
        let mut relays = Vec::new();
        for server in &config.ice_servers {
            for url in &server.urls {
                match crate::relay::parse_url(url)? {
                    ServerUrl::Stun(address) if !relay_only => ice_config.stun_servers.push(address),
                    ServerUrl::Stun(_) => {}
                    ServerUrl::Turn(address, transport) => {
                        if relays.len() >= MAX_RELAYS {
                            return Err(RtcError::Config("more than 4 TURN servers"));
                        }
                        let stream = transport != rtcwire_turn::TurnTransport::Udp;
                        if stream
                            && relays
                                .iter()
                                .any(|x: &Relay| x.stream.is_some() && x.client.server() == address)
                        {
                            return Err(RtcError::Config("two TCP or TLS TURN URLs with one address"));
                        }
                        relays.push(Relay::new(
                            now,
                            &mut rng,
                            address,
                            transport,
                            server,
                            config.tls_config.as_ref(),
                        )?);
                    }
                }
            }
        }
        if relay_only && relays.is_empty() {
            return Err(RtcError::Config("relay-only needs a TURN server"));
        }
        let ice = IceAgent::new(ice_config, IceRole::Controlling);
        let session_id = rng.next_u64() >> 2;
        let stream_out = relays
            .iter()
            .filter(|x| x.stream.is_some())
            .map(|x| Output::Connect(x.client.server()))
            .collect();
        Ok(Rtc {
            now,
            rng,
            certificate,
            fingerprint,
            ice,
            relays,
            relay_only,
            ice_gathered: relay_only,
            ice_timeout: None,
            ice_touched: false,
            local_candidates: Vec::new(),
            gathering: IceGatheringState::New,
            pending_remote_candidates: Vec::new(),
            pending_end_of_candidates: false,
            selected: None,
            ice_restart: false,
            dtls: None,
            dtls_started: false,
            early_dtls: VecDeque::new(),
            srtp_rx: None,
            srtp_profile: None,
            sctp: None,
            sctp_connected: false,
            signaling: SignalingState::Stable,
            session_id,
            session_version: 1,
            sections: Vec::new(),
            created: None,
            local_offer: None,
            remote_offer: None,
            remote: None,
            negotiated_once: false,
            local_description_applied: false,
            negotiation_needed: false,
            dtls_role: None,
            channels: BTreeMap::new(),
            by_stream: HashMap::new(),
            next_channel: 0,
            remote_max_message_size: 65_536,
            ice_state: IceConnectionState::New,
            dtls_state: DtlsTransportState::New,
            pc_state: PeerConnectionState::New,
            closed: false,
            transmits: VecDeque::new(),
            stream_out,
            relay_data: Vec::new(),
            events: VecDeque::new(),
            stats: TransportStats::default(),
            media: MediaStats::default(),
            scratch: Vec::with_capacity(2048),
            config,
        })
    }

    // ----------------------------------------------------------------- ICE

    /// Adds a host candidate: the address of a socket the caller reads and
    /// sends on. Its datagrams come back through [`Receive::destination`].
    pub fn add_local_candidate(&mut self, address: SocketAddr) -> Result<(), RtcError> {
        if self.closed {
            return Err(RtcError::Closed);
        }
        if !self.relay_only {
            self.ice.add_host_candidate(self.now, address)?;
        }
        // TURN runs on the first socket of the family.
        for relay in &mut self.relays {
            if relay.stream.is_none()
                && relay.base.is_none()
                && relay.client.server().is_ipv4() == address.is_ipv4()
            {
                relay.base = Some(address);
            }
        }
        self.pump_ice();
        self.pump_relays();
        Ok(())
    }

    /// Adds a candidate the peer trickled (`RTCIceCandidate.candidate`,
    /// with or without `a=`); an empty string means the end of its
    /// candidates. Candidates ICE cannot use (TCP) are ignored.
    pub fn add_remote_candidate(&mut self, candidate: &str) -> Result<(), RtcError> {
        if self.closed {
            return Err(RtcError::Closed);
        }
        let text = candidate.trim();
        if text.is_empty() || text.trim_start_matches("a=") == "end-of-candidates" {
            self.end_of_remote_candidates();
            return Ok(());
        }
        let Some(c) = jsep::parse_candidate(text)? else {
            return Ok(());
        };
        if self.remote.is_none() && self.remote_offer.is_none() {
            if self.pending_remote_candidates.len() >= MAX_PENDING_CANDIDATES {
                return Err(RtcError::Candidate(
                    "too many candidates before the remote description",
                ));
            }
            self.pending_remote_candidates.push(c);
            return Ok(());
        }
        self.give_remote_candidate(c);
        self.pump_ice();
        Ok(())
    }

    /// The peer has no more candidates (RFC 8838). Before the remote
    /// description it is held, as trickled candidates are; and while a TURN
    /// allocation is pending, since ICE would otherwise give up on pairs
    /// its relay candidate has yet to form.
    pub fn end_of_remote_candidates(&mut self) {
        self.pending_end_of_candidates = true;
        self.release_end_of_candidates();
    }

    /// Hands ICE the peer's end-of-candidates once it has the remote
    /// description and every TURN server has answered.
    fn release_end_of_candidates(&mut self) {
        if !self.pending_end_of_candidates
            || (self.remote.is_none() && self.remote_offer.is_none())
            || self.relays_pending()
        {
            return;
        }
        self.pending_end_of_candidates = false;
        self.ice.end_of_remote_candidates(self.now);
        self.pump_ice();
    }

    /// Some TURN server has neither allocated nor failed yet.
    fn relays_pending(&self) -> bool {
        self.relays.iter().any(|x| !x.done && x.relayed.is_none())
    }

    fn give_remote_candidate(&mut self, c: RemoteCandidate) {
        // A candidate ICE refuses (a cap, a family we do not have) is
        // dropped: it cannot be used, and the others still can.
        let _ = match c {
            RemoteCandidate::Address(c) => {
                self.permit(c.address().ip());
                self.ice.add_remote_candidate(self.now, c)
            }
            RemoteCandidate::Mdns {
                name,
                port,
                kind,
                priority,
                foundation,
            } => self
                .ice
                .add_remote_mdns_candidate(self.now, &name, port, kind, priority, &foundation),
        };
    }

    /// Restarts ICE (RFC 8445 section 9) with the next offer: new
    /// credentials; the current pair carries data until a new one is
    /// selected. Reports [`Event::NegotiationNeeded`].
    pub fn restart_ice(&mut self) {
        if !self.ice_restart {
            self.ice_restart = true;
            self.need_negotiation();
        }
    }

    /// mDNS datagrams for the agent's resolver and publisher (when
    /// [`IceConfig::mdns_publish`] is on or the peer signals `.local`
    /// candidates): the caller carries them on its multicast socket.
    pub fn ice_agent_mut(&mut self) -> &mut IceAgent {
        // Whatever the caller does to it shows at the next `poll_output`.
        self.ice_touched = true;
        &mut self.ice
    }

    // ---------------------------------------------------------------- JSEP

    /// An offer (RFC 9429 section 5.2.1): every negotiated section, and a
    /// data-channel section if none is. Apply it with
    /// [`set_local_description`](Rtc::set_local_description).
    pub fn create_offer(&mut self) -> Result<SessionDescription, RtcError> {
        if self.closed {
            return Err(RtcError::Closed);
        }
        if !matches!(
            self.signaling,
            SignalingState::Stable | SignalingState::HaveLocalOffer
        ) {
            return Err(RtcError::InvalidState(
                "create_offer needs stable or have-local-offer",
            ));
        }
        let mut sections = self.sections.clone();
        if !sections.iter().any(|s| s.kind == SectionKind::Application) {
            let mut n = sections.len();
            while sections.iter().any(|s| s.mid == n.to_string()) {
                n += 1;
            }
            sections.push(Section::application(n.to_string()));
        }
        let credentials = if self.ice_restart {
            Credentials::random(&mut self.rng)
        } else {
            self.ice.local_credentials().clone()
        };
        // RFC 8842: offers say actpass; after the first exchange the
        // established role stays.
        let setup = match (self.negotiated_once, self.dtls_role) {
            (true, Some(Role::Client)) => "active",
            (true, Some(Role::Server)) => "passive",
            _ => "actpass",
        };
        let sdp = self.write(&sections, &credentials, setup);
        self.created = Some(Created {
            kind: SdpType::Offer,
            sdp: sdp.clone(),
            sections,
            credentials,
            candidates: self.local_candidates.len(),
        });
        Ok(SessionDescription::offer(sdp))
    }

    /// An answer to the applied remote offer (RFC 9429 section 5.3.1):
    /// data channels accepted, audio and video received (`recvonly`, one
    /// codec) or `inactive`, anything else rejected.
    pub fn create_answer(&mut self) -> Result<SessionDescription, RtcError> {
        if self.closed {
            return Err(RtcError::Closed);
        }
        let Some(remote) = &self.remote_offer else {
            return Err(RtcError::InvalidState("create_answer needs a remote offer"));
        };
        let sections = jsep::answer_sections(remote);
        // RFC 8842 section 5.3: answer actpass with active (we are the DTLS
        // client); otherwise take the other role.
        let role = match (self.negotiated_once, self.dtls_role, remote.setup) {
            (true, Some(role), _) => role,
            (_, _, Setup::Active) => Role::Server,
            _ => Role::Client,
        };
        let setup = match role {
            Role::Client => "active",
            Role::Server => "passive",
        };
        let credentials = self.ice.local_credentials().clone();
        let sdp = self.write(&sections, &credentials, setup);
        self.created = Some(Created {
            kind: SdpType::Answer,
            sdp: sdp.clone(),
            sections,
            credentials,
            candidates: self.local_candidates.len(),
        });
        Ok(SessionDescription::answer(sdp))
    }

    fn write(&mut self, sections: &[Section], credentials: &Credentials, setup: &'static str) -> String {
        self.session_version += 1;
        let params = LocalParams {
            session_id: self.session_id,
            session_version: self.session_version,
            ufrag: &credentials.ufrag,
            pwd: &credentials.pwd,
            fingerprint: &self.fingerprint,
            setup,
            ice_lite: self.ice.is_lite(),
            candidates: &self.local_candidates,
            end_of_candidates: self.gathering == IceGatheringState::Complete,
            sctp_port: self.config.sctp.port,
            max_message_size: self.config.sctp.max_message_size,
        };
        jsep::write_description(&params, sections)
    }

    /// Applies our offer or answer (or rolls back our offer). It must be
    /// the description [`create_offer`](Rtc::create_offer) or
    /// [`create_answer`](Rtc::create_answer) returned last; edits to its
    /// text are not applied.
    pub fn set_local_description(&mut self, description: &SessionDescription) -> Result<(), RtcError> {
        if self.closed {
            return Err(RtcError::Closed);
        }
        match description.kind {
            SdpType::Rollback => {
                if self.signaling != SignalingState::HaveLocalOffer {
                    return Err(RtcError::InvalidState("nothing to roll back"));
                }
                self.local_offer = None;
                self.set_signaling(SignalingState::Stable);
                Ok(())
            }
            SdpType::Offer => {
                if !matches!(
                    self.signaling,
                    SignalingState::Stable | SignalingState::HaveLocalOffer
                ) {
                    return Err(RtcError::InvalidState(
                        "a local offer needs stable or have-local-offer",
                    ));
                }
                let created = self.take_created(description)?;
                self.trickle_missed(created.candidates);
                if self.ice_restart {
                    self.ice.restart(self.now);
                    self.ice.set_local_credentials(created.credentials.clone())?;
                    self.ice_restart = false;
                }
                if !self.negotiated_once {
                    self.ice.set_role(IceRole::Controlling);
                }
                self.negotiation_needed = false;
                self.local_offer = Some(created);
                self.set_signaling(SignalingState::HaveLocalOffer);
                self.pump_ice();
                Ok(())
            }
            SdpType::Answer => {
                if self.signaling != SignalingState::HaveRemoteOffer {
                    return Err(RtcError::InvalidState("a local answer needs have-remote-offer"));
                }
                let created = self.take_created(description)?;
                self.trickle_missed(created.candidates);
                let Some(remote) = self.remote_offer.take() else {
                    return Err(RtcError::InvalidState("no remote offer"));
                };
                let role = if created.sdp.contains("a=setup:passive") {
                    Role::Server
                } else {
                    Role::Client
                };
                self.sections = created.sections;
                self.complete_negotiation(remote, role);
                Ok(())
            }
        }
    }

    /// Applying a local description starts trickle: candidates gathered
    /// since it was created (the first `in_description` are in it) go out
    /// as events now.
    fn trickle_missed(&mut self, in_description: usize) {
        self.local_description_applied = true;
        let missed: Vec<String> = self
            .local_candidates
            .iter()
            .skip(in_description)
            .cloned()
            .collect();
        for candidate in missed {
            let (sdp_mid, index) = self.tagged_mid();
            self.push_event(Event::IceCandidate(IceCandidate {
                candidate,
                sdp_mid,
                sdp_m_line_index: index,
            }));
        }
    }

    fn take_created(&mut self, description: &SessionDescription) -> Result<Created, RtcError> {
        match self.created.take() {
            Some(c) if c.kind == description.kind => Ok(c),
            other => {
                self.created = other;
                Err(RtcError::InvalidState(
                    "set_local_description takes the description create_offer/create_answer returned",
                ))
            }
        }
    }

    /// Applies the peer's offer or answer (or rolls back its offer).
    pub fn set_remote_description(&mut self, description: &SessionDescription) -> Result<(), RtcError> {
        if self.closed {
            return Err(RtcError::Closed);
        }
        match description.kind {
            SdpType::Rollback => {
                if self.signaling != SignalingState::HaveRemoteOffer {
                    return Err(RtcError::InvalidState("nothing to roll back"));
                }
                self.remote_offer = None;
                self.set_signaling(SignalingState::Stable);
                Ok(())
            }
            SdpType::Offer => {
                if !matches!(
                    self.signaling,
                    SignalingState::Stable | SignalingState::HaveRemoteOffer
                ) {
                    return Err(RtcError::InvalidState(
                        "a remote offer needs stable or have-remote-offer",
                    ));
                }
                let remote = jsep::parse_remote(&description.sdp)?;
                if self.negotiated_once && remote.sections.len() < self.sections.len() {
                    return Err(RtcError::Negotiation("an offer may not remove m-sections"));
                }
                if !self.negotiated_once {
                    // The answerer is controlled, unless the offerer is lite.
                    let role = if remote.ice_lite && !self.ice.is_lite() {
                        IceRole::Controlling
                    } else {
                        IceRole::Controlled
                    };
                    self.ice.set_role(role);
                }
                self.apply_remote_transport(&remote, true)?;
                self.remote_offer = Some(remote);
                self.set_signaling(SignalingState::HaveRemoteOffer);
                self.pump_ice();
                Ok(())
            }
            SdpType::Answer => {
                if self.signaling != SignalingState::HaveLocalOffer {
                    return Err(RtcError::InvalidState("a remote answer needs have-local-offer"));
                }
                let remote = jsep::parse_remote(&description.sdp)?;
                let Some(offer) = self.local_offer.take() else {
                    return Err(RtcError::InvalidState("no local offer"));
                };
                let mids_match = remote.sections.len() == offer.sections.len()
                    && remote
                        .sections
                        .iter()
                        .zip(&offer.sections)
                        .all(|(r, o)| r.mid == o.mid);
                let role = match remote.setup {
                    Setup::Active => Some(Role::Server),
                    Setup::Passive => Some(Role::Client),
                    _ => None,
                };
                let (true, Some(role)) = (mids_match, role) else {
                    self.local_offer = Some(offer);
                    return Err(RtcError::Negotiation(
                        "the answer must have the offer's m-sections and a=setup active or passive",
                    ));
                };
                if remote.ice_lite && !self.ice.is_lite() {
                    self.ice.set_role(IceRole::Controlling);
                }
                if let Err(e) = self.apply_remote_transport(&remote, false) {
                    self.local_offer = Some(offer);
                    return Err(e);
                }
                let mut sections = offer.sections;
                for (s, r) in sections.iter_mut().zip(&remote.sections) {
                    if r.rejected {
                        s.kind = SectionKind::Rejected;
                    }
                }
                self.sections = sections;
                self.complete_negotiation(remote, role);
                self.pump_ice();
                Ok(())
            }
        }
    }

    /// Credentials and candidates of a remote description. A change of
    /// credentials is an ICE restart by the peer (RFC 8445 section 9).
    fn apply_remote_transport(&mut self, remote: &Remote, is_offer: bool) -> Result<(), RtcError> {
        let credentials = Credentials {
            ufrag: remote.ufrag.clone(),
            pwd: remote.pwd.clone(),
        };
        credentials
            .validate()
            .map_err(|_| RtcError::Negotiation("ice-ufrag or ice-pwd out of RFC 8839's range"))?;
        let known = self.remote.as_ref().map(|r| (&r.ufrag, &r.pwd));
        if known != Some((&remote.ufrag, &remote.pwd)) {
            if known.is_some() && is_offer {
                // The peer restarts: we restart too, with new credentials
                // in our answer.
                self.ice.restart(self.now);
            }
            self.ice.set_remote_credentials(self.now, credentials)?;
        }
        for c in remote.candidates.clone() {
            self.give_remote_candidate(c);
        }
        for c in std::mem::take(&mut self.pending_remote_candidates) {
            self.give_remote_candidate(c);
        }
        if remote.end_of_candidates {
            self.pending_end_of_candidates = true;
        }
        if self.pending_end_of_candidates && !self.relays_pending() {
            self.pending_end_of_candidates = false;
            self.ice.end_of_remote_candidates(self.now);
        }
        Ok(())
    }

    /// An offer/answer exchange finished: start or update the transports.
    fn complete_negotiation(&mut self, remote: Remote, role: Role) {
        self.negotiated_once = true;
        if self.dtls_role.is_none() {
            self.dtls_role = Some(role);
        }
        if let Some(max) = remote.max_message_size {
            // RFC 8841 section 6: 0 means "no limit"; ours still applies.
            self.remote_max_message_size = if max == 0 {
                usize::MAX
            } else {
                usize::try_from(max).unwrap_or(usize::MAX)
            };
        }
        let fingerprints = remote.fingerprints.clone();
        let has_data = remote.application().is_some()
            && self.sections.iter().any(|s| s.kind == SectionKind::Application);
        self.remote = Some(remote);
        self.set_signaling(SignalingState::Stable);
        if self.dtls.is_none() {
            let role = self.dtls_role.unwrap_or(role);
            let mut config = DtlsConfig::new(self.certificate.clone());
            config.mtu = self.config.mtu;
            let mut dtls = DtlsEndpoint::new(config, role);
            dtls.set_remote_fingerprints(fingerprints);
            self.dtls = Some(dtls);
            self.set_dtls_state(DtlsTransportState::Connecting);
            self.maybe_start_dtls();
            // Datagrams that came before we knew our role.
            for (source, d) in std::mem::take(&mut self.early_dtls) {
                self.receive_dtls(source, &d);
            }
        }
        if has_data && self.sctp.is_none() {
            let mut sctp = self.config.sctp.clone();
            sctp.mtu = self.config.mtu.saturating_sub(DTLS_RECORD_OVERHEAD);
            sctp.zero_checksum = self.config.zero_checksum;
            sctp.headroom = DtlsEndpoint::RECORD_HEADROOM;
            if let Some(port) = self.remote.as_ref().and_then(|r| r.sctp_port) {
                sctp.remote_port = port;
            }
            if sctp.seed.is_none() {
                sctp.seed = self.config.seed.map(|s| s ^ 0x5c7f);
            }
            let client = self.dtls_role == Some(Role::Client);
            self.sctp = Some(DataChannels::new(Association::new(sctp), client));
            self.maybe_connect_sctp();
        }
        if self.negotiation_needed_now() {
            self.need_negotiation();
        }
    }

    fn negotiation_needed_now(&self) -> bool {
        let wants_data = self.channels.values().any(|c| c.pending);
        let has_data = self.sections.iter().any(|s| s.kind == SectionKind::Application);
        (wants_data && !has_data) || self.ice_restart
    }

    fn need_negotiation(&mut self) {
        if self.negotiated_once && self.signaling == SignalingState::Stable {
            self.negotiation_needed = true;
            self.push_event(Event::NegotiationNeeded);
        }
    }

    /// The signalling state.
    pub fn signaling_state(&self) -> SignalingState {
        self.signaling
    }

    /// Whether an offer is owed to the peer (see [`Event::NegotiationNeeded`]).
    pub fn is_negotiation_needed(&self) -> bool {
        self.negotiation_needed
    }

    fn set_signaling(&mut self, state: SignalingState) {
        if self.signaling != state {
            self.signaling = state;
            self.push_event(Event::SignalingStateChange(state));
        }
    }

    // ------------------------------------------------------- data channels

    /// Creates a data channel. It opens once the association is up (after
    /// the first offer/answer exchange; adding the first channel after it
    /// reports [`Event::NegotiationNeeded`]); [`Event::ChannelOpen`] says so.
    pub fn create_data_channel(
        &mut self,
        label: &str,
        options: ChannelOptions,
    ) -> Result<ChannelId, RtcError> {
        if self.closed {
            return Err(RtcError::Closed);
        }
        if label.len() > u16::MAX as usize || options.protocol.len() > u16::MAX as usize {
            return Err(RtcError::Sctp(rtcwire_sctp::Error::TooLarge(
                "label or protocol longer than 65535 bytes",
            )));
        }
        if options.max_retransmits.is_some() && options.max_packet_life_time.is_some() {
            return Err(RtcError::Sctp(rtcwire_sctp::Error::TooLarge(
                "max_retransmits and max_packet_life_time exclude each other",
            )));
        }
        let id = ChannelId(self.next_channel);
        self.next_channel = self.next_channel.wrapping_add(1);
        let mut channel = Channel {
            label: label.to_owned(),
            options,
            stream: None,
            pending: true,
            messages_sent: 0,
            bytes_sent: 0,
            messages_received: 0,
            bytes_received: 0,
            low_threshold: 0,
        };
        if self.sctp_connected {
            let stream = self.open_stream(label, &channel.options)?;
            channel.stream = Some(stream);
            channel.pending = false;
            self.by_stream.insert(stream, id);
        } else if self.channels.values().filter(|c| c.pending).count() >= MAX_PENDING_CHANNELS {
            return Err(RtcError::Sctp(rtcwire_sctp::Error::TooLarge(
                "too many channels waiting for the association",
            )));
        }
        self.channels.insert(id, channel);
        if self.negotiation_needed_now() {
            self.need_negotiation();
        }
        self.pump_sctp();
        Ok(id)
    }

    fn open_stream(&mut self, label: &str, options: &ChannelOptions) -> Result<u16, RtcError> {
        let sctp = self.sctp.as_mut().ok_or(RtcError::ChannelNotOpen)?;
        Ok(sctp.create(self.now, label, options.clone())?)
    }

    /// Sends a message: text (`binary == false`, UTF-8 expected by
    /// browsers) or binary. Fails if the channel is not open, the message
    /// exceeds the peer's max-message-size, or the send buffer is full
    /// ([`rtcwire_sctp::Error::SendBufferFull`]: wait for
    /// [`Event::ChannelBufferedAmountLow`]).
    pub fn send(&mut self, id: ChannelId, data: &[u8], binary: bool) -> Result<(), RtcError> {
        self.send_payload(id, Payload::Borrowed(data), binary)
    }

    /// [`send`](Rtc::send) without the copy into the send queue: the
    /// message's `Bytes` are queued as they are (shared, not cloned) until
    /// the peer acknowledges them.
    pub fn send_bytes(&mut self, id: ChannelId, data: bytes::Bytes, binary: bool) -> Result<(), RtcError> {
        self.send_payload(id, Payload::Shared(data), binary)
    }

    fn send_payload(&mut self, id: ChannelId, data: Payload<'_>, binary: bool) -> Result<(), RtcError> {
        let channel = self.channels.get(&id).ok_or(RtcError::UnknownChannel)?;
        let Some(stream) = channel.stream else {
            return Err(RtcError::ChannelNotOpen);
        };
        let max = self.max_message_size();
        if data.len() > max {
            return Err(RtcError::MessageTooLarge {
                size: data.len(),
                max,
            });
        }
        let sctp = self.sctp.as_mut().ok_or(RtcError::ChannelNotOpen)?;
        if sctp.state(stream) != Some(ChannelState::Open) {
            return Err(RtcError::ChannelNotOpen);
        }
        let len = data.len();
        sctp.send_payload(self.now, stream, data, binary)?;
        if let Some(c) = self.channels.get_mut(&id) {
            c.messages_sent += 1;
            c.bytes_sent += len as u64;
        }
        Ok(())
    }

    /// Sends a text message.
    pub fn send_text(&mut self, id: ChannelId, text: &str) -> Result<(), RtcError> {
        self.send(id, text.as_bytes(), false)
    }

    /// Closes a data channel (both directions, RFC 8831 section 6.7);
    /// [`Event::ChannelClosed`] follows.
    pub fn close_data_channel(&mut self, id: ChannelId) -> Result<(), RtcError> {
        let channel = self.channels.get_mut(&id).ok_or(RtcError::UnknownChannel)?;
        match channel.stream {
            Some(stream) => {
                if let Some(sctp) = &mut self.sctp {
                    sctp.close(self.now, stream)?;
                }
            }
            None => {
                self.channels.remove(&id);
                self.push_event(Event::ChannelClosed(id));
            }
        }
        self.pump_sctp();
        Ok(())
    }

    /// The largest message [`send`](Rtc::send) takes: the smaller of the
    /// peer's `a=max-message-size` and ours.
    pub fn max_message_size(&self) -> usize {
        self.remote_max_message_size
            .min(self.config.sctp.max_message_size)
    }

    /// Bytes queued on the channel and not yet acknowledged.
    pub fn buffered_amount(&self, id: ChannelId) -> usize {
        match (self.channels.get(&id).and_then(|c| c.stream), &self.sctp) {
            (Some(stream), Some(sctp)) => sctp.buffered_amount(stream),
            _ => 0,
        }
    }

    /// Sets the level at or below which [`Event::ChannelBufferedAmountLow`]
    /// is reported (W3C `bufferedAmountLowThreshold`; default 0).
    pub fn set_buffered_amount_low_threshold(&mut self, id: ChannelId, threshold: usize) {
        if let Some(c) = self.channels.get_mut(&id) {
            c.low_threshold = threshold;
            if let (Some(stream), Some(sctp)) = (c.stream, &mut self.sctp) {
                sctp.set_buffered_amount_low_threshold(stream, threshold);
            }
        }
    }

    /// A channel's state (W3C `RTCDataChannelState`); `None` once closed.
    pub fn channel_state(&self, id: ChannelId) -> Option<ChannelState> {
        let c = self.channels.get(&id)?;
        match (c.stream, &self.sctp) {
            (Some(stream), Some(sctp)) => sctp.state(stream),
            _ => Some(ChannelState::Connecting),
        }
    }

    /// A channel's label.
    pub fn channel_label(&self, id: ChannelId) -> Option<&str> {
        self.channels.get(&id).map(|c| c.label.as_str())
    }

    /// A channel's options (for the peer's channels, as it opened them).
    pub fn channel_options(&self, id: ChannelId) -> Option<&ChannelOptions> {
        self.channels.get(&id).map(|c| &c.options)
    }

    /// The channel's SCTP stream id, once known (W3C `RTCDataChannel.id`).
    pub fn channel_stream_id(&self, id: ChannelId) -> Option<u16> {
        self.channels.get(&id).and_then(|c| c.stream)
    }

    // ------------------------------------------------------------- driving

    /// [`Input::Receive`] for a datagram the caller lends mutably (its
    /// receive buffer): data-channel traffic is then decrypted where it
    /// lies instead of being copied out first, the one copy of the receive
    /// path. Anything else is handled as [`handle_input`](Rtc::handle_input)
    /// would. Afterwards `contents` holds unspecified bytes.
    pub fn handle_receive_in_place(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        contents: &mut [u8],
    ) -> Result<(), RtcError> {
        let application_data = contents.first() == Some(&23)
            && !self.closed
            && self.selected == Some((destination, source))
            && self.sctp.is_some();
        if application_data && let Some(dtls) = &mut self.dtls {
            let len = contents.len();
            if let Some(plain) = dtls.open_application_data(contents) {
                self.advance(now);
                self.stats.packets_received += 1;
                self.stats.bytes_received += len as u64;
                if let Some(sctp) = &mut self.sctp {
                    sctp.handle_receive(self.now, plain);
                }
                self.pump_sctp();
                return Ok(());
            }
            // Not a lone application-data record of the current epoch
            // (left as it was), or one that failed to authenticate (now
            // garbled, and dropped below as it would have been).
        }
        self.handle_input(Input::Receive(
            now,
            Receive {
                source,
                destination,
                contents,
            },
        ))
    }

    /// Gives the connection a datagram or the passing of time.
    pub fn handle_input(&mut self, input: Input<'_>) -> Result<(), RtcError> {
        match input {
            Input::Receive(now, receive) => {
                self.advance(now);
                self.handle_receive(receive);
            }
            Input::Timeout(now) => {
                self.advance(now);
                self.handle_timeout();
            }
            Input::Connected(now, remote) => {
                self.advance(now);
                if let Some(relay) = self.stream_relay(remote)
                    && relay.stream == Some(StreamState::Connecting)
                {
                    relay.stream = Some(StreamState::Open);
                }
                self.pump_relays();
            }
            Input::StreamReceive(now, remote, bytes) => {
                self.advance(now);
                self.handle_stream_receive(remote, bytes);
            }
            Input::Disconnected(now, remote) => {
                self.advance(now);
                if let Some(relay) = self.stream_relay(remote)
                    && relay.stream != Some(StreamState::Closed)
                {
                    relay.stream = Some(StreamState::Closed);
                    // Over TCP the allocation lives as long as the
                    // connection (RFC 8656 section 3.1).
                    relay.client.close(now);
                    if !relay.done {
                        relay.done = true;
                        self.events.push_back(Event::IceServerError {
                            server: remote,
                            reason: "the TCP connection to the TURN server closed".to_owned(),
                        });
                    }
                }
                self.pump_relays();
                self.update_gathering();
            }
        }
        Ok(())
    }

    /// The TURN client over TCP or TLS whose server is `remote`.
    fn stream_relay(&mut self, remote: SocketAddr) -> Option<&mut Relay> {
        self.relays
            .iter_mut()
            .find(|x| x.stream.is_some() && x.client.server() == remote)
    }

    /// Bytes from a TURN server's TCP connection: its answers, and data
    /// relayed from peers, handled as datagrams on the relayed address.
    fn handle_stream_receive(&mut self, remote: SocketAddr, bytes: &[u8]) {
        self.stats.bytes_received += bytes.len() as u64;
        if self.closed {
            return;
        }
        let now = self.now;
        let Some(i) = self
            .relays
            .iter()
            .position(|x| x.stream == Some(StreamState::Open) && x.client.server() == remote)
        else {
            self.stats.dropped += 1;
            return;
        };
        let failed = self.relays[i].client.handle_stream(now, bytes).is_err();
        // After a failure this flushes the TLS alert, if any.
        self.pump_relays();
        if failed {
            // The framing or TLS is lost: the client failed (its event
            // said why) and the connection is useless.
            self.relays[i].stream = Some(StreamState::Closed);
            self.stream_out.push_back(Output::Disconnect(remote));
        }
        let relayed = self.relays[i].relayed;
        for (_, peer, data) in std::mem::take(&mut self.relay_data) {
            self.stats.packets_received += 1;
            if let Some(destination) = relayed {
                self.dispatch(Receive {
                    source: peer,
                    destination,
                    contents: &data,
                });
            }
        }
    }

    /// Whether this datagram belongs to this connection: a STUN request
    /// for our ufrag, or anything from the selected pair's remote address.
    /// For servers that route many connections on one socket.
    pub fn accepts(&self, receive: &Receive<'_>) -> bool {
        if self
            .selected
            .is_some_and(|(l, r)| l == receive.destination && r == receive.source)
        {
            return true;
        }
        if rtcwire_stun::is_stun(receive.contents) {
            let ufrag = &self.ice.local_credentials().ufrag;
            if let Ok(m) = rtcwire_stun::Message::parse(receive.contents)
                && let Some(Ok(rtcwire_stun::Attribute::Username(u))) =
                    m.get(rtcwire_stun::AttributeType::USERNAME)
            {
                return u.split(':').next() == Some(ufrag.as_str());
            }
        }
        false
    }

    fn advance(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }

    fn handle_receive(&mut self, r: Receive<'_>) {
        self.stats.packets_received += 1;
        self.stats.bytes_received += r.contents.len() as u64;
        if self.closed {
            return;
        }
        // From a TURN server to the socket its client runs on: TURN's
        // own answers, or data relayed from a peer, which arrives as if
        // on the relayed address.
        if let Some(i) = self
            .relays
            .iter()
            .position(|x| x.client.server() == r.source && x.base == Some(r.destination))
        {
            let relayed = self.relays[i].relayed;
            let data = self.relays[i]
                .client
                .handle_receive(self.now, r.source, r.contents);
            self.pump_relays();
            if let (Some((peer, contents)), Some(destination)) = (data, relayed) {
                self.dispatch(Receive {
                    source: peer,
                    destination,
                    contents,
                });
            }
            return;
        }
        self.dispatch(r);
    }

    /// Routes a datagram by its first byte (RFC 7983).
    fn dispatch(&mut self, r: Receive<'_>) {
        let Some(&first) = r.contents.first() else {
            self.stats.dropped += 1;
            return;
        };
        match first {
            // RFC 7983: STUN.
            0..=3 => {
                if !self
                    .ice
                    .handle_receive(self.now, r.source, r.destination, r.contents)
                {
                    self.stats.dropped += 1;
                }
                self.pump_ice();
            }
            // DTLS.
            20..=63 => {
                let from_pair = self
                    .selected
                    .is_some_and(|(l, s)| l == r.destination && s == r.source);
                if self.dtls.is_none() || !from_pair {
                    // Before the role or the pair is known: keep a few, from
                    // addresses ICE knows, for when they are.
                    if self.early_dtls.len() < MAX_EARLY_DTLS && self.is_remote_candidate(r.source) {
                        self.early_dtls.push_back((r.source, r.contents.to_vec()));
                    } else {
                        self.stats.dropped += 1;
                    }
                    return;
                }
                self.receive_dtls(r.source, r.contents);
            }
            // SRTP and SRTCP.
            128..=191 => self.receive_srtp(r),
            _ => self.stats.dropped += 1,
        }
    }

    fn is_remote_candidate(&self, source: SocketAddr) -> bool {
        self.ice.pairs().iter().any(|p| p.remote() == source)
            || self.ice.remote_candidates().iter().any(|c| c.address() == source)
    }

    fn receive_dtls(&mut self, source: SocketAddr, datagram: &[u8]) {
        if self.selected.is_some_and(|(_, r)| r != source) {
            self.stats.dropped += 1;
            return;
        }
        let Some(dtls) = &mut self.dtls else { return };
        // The per-packet path: one application-data record opened in place.
        if self.sctp.is_some() && datagram.first() == Some(&23) {
            self.scratch.clear();
            self.scratch.extend_from_slice(datagram);
            if let Some(plain) = dtls.open_application_data(&mut self.scratch) {
                if let Some(sctp) = &mut self.sctp {
                    sctp.handle_receive(self.now, plain);
                }
                self.pump_sctp();
                return;
            }
        }
        dtls.handle_receive(self.now, datagram);
        self.pump_dtls();
    }

    fn receive_srtp(&mut self, r: Receive<'_>) {
        let from_pair = self
            .selected
            .is_some_and(|(l, s)| l == r.destination && s == r.source);
        let Some(ctx) = self.srtp_rx.as_mut().filter(|_| from_pair) else {
            self.stats.dropped += 1;
            return;
        };
        self.scratch.clear();
        self.scratch.extend_from_slice(r.contents);
        let rtcp = rtcwire_rtp::is_rtcp(&self.scratch);
        let result = if rtcp {
            ctx.unprotect_rtcp(&mut self.scratch)
        } else {
            ctx.unprotect_rtp(&mut self.scratch)
        };
        match (result, rtcp) {
            (Ok(n), false) => {
                self.media.rtp_packets_received += 1;
                self.media.rtp_bytes_received += n as u64;
            }
            (Ok(_), true) => self.media.rtcp_packets_received += 1,
            (Err(_), _) => self.media.unprotect_failures += 1,
        }
    }

    fn handle_timeout(&mut self) {
        let now = self.now;
        self.ice.handle_timeout(now);
        self.pump_ice();
        for relay in &mut self.relays {
            relay.client.handle_timeout(now);
        }
        self.pump_relays();
        if let Some(dtls) = &mut self.dtls {
            dtls.handle_timeout(now);
            self.pump_dtls();
        }
        if let Some(sctp) = &mut self.sctp {
            sctp.handle_timeout(now);
            self.pump_sctp();
        }
    }

    /// Gives back a sent [`Transmit`]'s buffer: the data channels write
    /// their next packets into it instead of a new allocation, so a caller
    /// that recycles sends without allocating per datagram. Optional; at
    /// most [`rtcwire_sctp::MAX_RECYCLED_BUFFERS`] are kept.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if let Some(sctp) = &mut self.sctp {
            sctp.recycle(buf);
        }
    }

    /// The next thing to do: a datagram to send, an event, or the instant
    /// to call [`handle_input`](Rtc::handle_input) with
    /// [`Input::Timeout`] if no datagram arrives before.
    pub fn poll_output(&mut self) -> Result<Output, RtcError> {
        if let Some(t) = self.transmits.pop_front() {
            return Ok(Output::Transmit(t));
        }
        if let Some(o) = self.stream_out.pop_front() {
            return Ok(o);
        }
        if self.ice_touched {
            self.ice_touched = false;
            self.pump_ice();
        }
        // SCTP builds its packets lazily, so small messages share them.
        self.pump_sctp();
        if let Some(t) = self.transmits.pop_front() {
            return Ok(Output::Transmit(t));
        }
        if let Some(o) = self.stream_out.pop_front() {
            return Ok(o);
        }
        if let Some(e) = self.events.pop_front() {
            return Ok(Output::Event(e));
        }
        Ok(Output::Timeout(self.poll_timeout()))
    }

    fn poll_timeout(&self) -> Instant {
        let idle = self.now + IDLE_TIMEOUT;
        if self.closed {
            return idle;
        }
        [
            self.ice_timeout,
            self.dtls.as_ref().and_then(DtlsEndpoint::poll_timeout),
            self.sctp.as_ref().and_then(DataChannels::poll_timeout),
            self.relays.iter().filter_map(|x| x.client.poll_timeout()).min(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map_or(idle, |t| t.min(idle))
    }

    // ----------------------------------------------------- moving between layers

    fn pump_ice(&mut self) {
        // Every call into the agent is followed by this, so its timeout is
        // read here once rather than on every `poll_output`.
        self.ice_timeout = self.ice.poll_timeout();
        while let Some(t) = self.ice.poll_transmit() {
            self.push_transmit(t.source, t.destination, t.contents);
        }
        while let Some(e) = self.ice.poll_event() {
            match e {
                IceEvent::StateChanged(state) => {
                    self.ice_state = state;
                    self.push_event(Event::IceConnectionStateChange(state));
                    self.update_pc_state();
                }
                IceEvent::LocalCandidate(c) => {
                    let candidate = c.to_sdp_attribute();
                    if !self.local_candidates.contains(&candidate) {
                        self.local_candidates.push(candidate.clone());
                    }
                    if self.gathering != IceGatheringState::Gathering {
                        self.gathering = IceGatheringState::Gathering;
                        self.push_event(Event::IceGatheringStateChange(IceGatheringState::Gathering));
                    }
                    // JSEP: candidates trickle once a local description is
                    // applied; earlier ones are in that description.
                    if self.local_description_applied {
                        let (sdp_mid, index) = self.tagged_mid();
                        self.push_event(Event::IceCandidate(IceCandidate {
                            candidate,
                            sdp_mid,
                            sdp_m_line_index: index,
                        }));
                    }
                }
                IceEvent::GatheringComplete => {
                    self.ice_gathered = true;
                    self.update_gathering();
                }
                IceEvent::SelectedPairChanged { local, remote } => {
                    self.selected = Some((local, remote));
                    // Data through a relay goes as ChannelData (4 bytes of
                    // overhead instead of a Send indication's 36).
                    if let Some(relay) = self.relays.iter_mut().find(|x| x.relayed == Some(local)) {
                        let _ = relay.client.bind_channel(self.now, remote);
                    }
                    self.push_event(Event::SelectedPairChange { local, remote });
                    self.maybe_start_dtls();
                    let early: Vec<_> = std::mem::take(&mut self.early_dtls).into();
                    for (source, d) in early {
                        if self.dtls.is_some() {
                            self.receive_dtls(source, &d);
                        } else if self.early_dtls.len() < MAX_EARLY_DTLS {
                            self.early_dtls.push_back((source, d));
                        }
                    }
                    self.pump_dtls();
                }
                _ => {}
            }
        }
    }

    /// The BUNDLE-tagged mid and its index, for trickled candidates.
    fn tagged_mid(&self) -> (String, u16) {
        let sections = self.local_offer.as_ref().map_or(&self.sections, |o| &o.sections);
        sections
            .iter()
            .enumerate()
            .find(|(_, s)| !s.is_rejected())
            .map_or_else(
                || ("0".to_owned(), 0),
                |(i, s)| (s.mid.clone(), u16::try_from(i).unwrap_or(u16::MAX)),
            )
    }

    fn maybe_start_dtls(&mut self) {
        if self.dtls_started || self.selected.is_none() {
            return;
        }
        if let Some(dtls) = &mut self.dtls {
            if dtls.role() == Role::Client {
                dtls.start(self.now);
            }
            self.dtls_started = true;
            self.pump_dtls();
        }
    }

    fn pump_dtls(&mut self) {
        let Some(dtls) = &mut self.dtls else { return };
        let mut events = Vec::new();
        while let Some(e) = dtls.poll_event() {
            events.push(e);
        }
        let mut datagrams = Vec::new();
        if self.selected.is_some() {
            while let Some(d) = dtls.poll_transmit() {
                datagrams.push(d);
            }
        }
        if let Some((local, remote)) = self.selected {
            for d in datagrams {
                self.push_transmit(local, remote, d);
            }
        }
        for e in events {
            match e {
                DtlsEvent::Connected { srtp_profile, .. } => {
                    self.set_dtls_state(DtlsTransportState::Connected);
                    if let Some(profile) = srtp_profile {
                        self.setup_srtp(profile);
                    }
                    self.maybe_connect_sctp();
                }
                DtlsEvent::ApplicationData(packet) => {
                    if let Some(sctp) = &mut self.sctp {
                        sctp.handle_receive(self.now, &packet);
                    }
                }
                DtlsEvent::Closed { error } => {
                    let state = if error.is_some() {
                        DtlsTransportState::Failed
                    } else {
                        DtlsTransportState::Closed
                    };
                    self.set_dtls_state(state);
                }
                _ => {}
            }
        }
        self.pump_sctp();
    }

    fn setup_srtp(&mut self, profile: rtcwire_dtls::SrtpProfile) {
        let Some(dtls) = &self.dtls else { return };
        let Some(p) = rtcwire_srtp::ProtectionProfile::from_u16(profile.to_u16()) else {
            return;
        };
        let len = rtcwire_srtp::DtlsSrtpKeys::exporter_len(p);
        let Some(material) = dtls.export_keying_material("EXTRACTOR-dtls_srtp", len) else {
            return;
        };
        let Ok(keys) = rtcwire_srtp::DtlsSrtpKeys::from_exporter(p, &material) else {
            return;
        };
        let role = match dtls.role() {
            Role::Client => rtcwire_srtp::Role::Client,
            Role::Server => rtcwire_srtp::Role::Server,
        };
        let (_, theirs) = keys.split(role);
        let config = rtcwire_srtp::Config {
            accept_unknown_ssrc: true,
            ..rtcwire_srtp::Config::default()
        };
        self.srtp_rx = rtcwire_srtp::Context::new(theirs, config).ok();
        self.srtp_profile = Some(profile);
    }

    fn maybe_connect_sctp(&mut self) {
        if self.dtls_state != DtlsTransportState::Connected {
            return;
        }
        if let Some(sctp) = &mut self.sctp
            && self.dtls_role == Some(Role::Client)
        {
            sctp.association_mut().connect(self.now);
        }
        self.pump_sctp();
    }

    fn pump_sctp(&mut self) {
        let via_relay = self
            .selected
            .is_some_and(|(local, _)| self.relays.iter().any(|x| x.relayed == Some(local)));
        let mut relayed = Vec::new();
        let (Some(sctp), Some(dtls)) = (&mut self.sctp, &mut self.dtls) else {
            return;
        };
        if let Some((local, remote)) = self.selected
            && dtls.state() == DtlsState::Connected
        {
            // SCTP leaves room for the record header in front of each
            // packet: DTLS seals it where it is, so the packet's buffer is
            // the datagram.
            while let Some(mut datagram) = sctp.poll_transmit() {
                if dtls
                    .seal_application_data_in_place(&mut datagram, DtlsEndpoint::RECORD_HEADROOM)
                    .is_err()
                {
                    continue;
                }
                if via_relay {
                    relayed.push(datagram);
                    continue;
                }
                self.stats.packets_sent += 1;
                self.stats.bytes_sent += datagram.len() as u64;
                self.transmits.push_back(Transmit {
                    source: local,
                    destination: remote,
                    contents: datagram,
                });
            }
        }
        if let Some((local, remote)) = self.selected {
            for datagram in relayed {
                self.push_transmit(local, remote, datagram);
            }
        }
        while let Some(e) = self.sctp.as_mut().and_then(DataChannels::poll_event) {
            self.on_channel_event(e);
        }
    }

    fn on_channel_event(&mut self, e: ChannelEvent) {
        match e {
            ChannelEvent::Connected => {
                self.sctp_connected = true;
                let pending: Vec<ChannelId> = self
                    .channels
                    .iter()
                    .filter(|(_, c)| c.pending)
                    .map(|(id, _)| *id)
                    .collect();
                for id in pending {
                    let Some(c) = self.channels.get(&id) else { continue };
                    let (label, options, threshold) = (c.label.clone(), c.options.clone(), c.low_threshold);
                    match self.open_stream(&label, &options) {
                        Ok(stream) => {
                            if let Some(sctp) = &mut self.sctp {
                                sctp.set_buffered_amount_low_threshold(stream, threshold);
                            }
                            if let Some(c) = self.channels.get_mut(&id) {
                                c.stream = Some(stream);
                                c.pending = false;
                            }
                            self.by_stream.insert(stream, id);
                        }
                        Err(_) => {
                            self.channels.remove(&id);
                            self.push_event(Event::ChannelClosed(id));
                        }
                    }
                }
            }
            ChannelEvent::Open {
                id: stream,
                label,
                protocol,
                remote,
            } => {
                let id = match self.by_stream.get(&stream) {
                    Some(id) => *id,
                    None => {
                        let id = ChannelId(self.next_channel);
                        self.next_channel = self.next_channel.wrapping_add(1);
                        let options = self
                            .sctp
                            .as_ref()
                            .and_then(|s| s.options(stream).cloned())
                            .unwrap_or_default();
                        self.channels.insert(
                            id,
                            Channel {
                                label: label.clone(),
                                options,
                                stream: Some(stream),
                                pending: false,
                                messages_sent: 0,
                                bytes_sent: 0,
                                messages_received: 0,
                                bytes_received: 0,
                                low_threshold: 0,
                            },
                        );
                        self.by_stream.insert(stream, id);
                        id
                    }
                };
                self.push_event(Event::ChannelOpen {
                    id,
                    label,
                    protocol,
                    remote,
                });
            }
            ChannelEvent::Message {
                id: stream,
                data,
                binary,
            } => {
                let Some(&id) = self.by_stream.get(&stream) else {
                    return;
                };
                if let Some(c) = self.channels.get_mut(&id) {
                    c.messages_received += 1;
                    c.bytes_received += data.len() as u64;
                }
                if self.events.len() >= MAX_EVENTS {
                    self.stats.dropped += 1;
                    return;
                }
                self.events
                    .push_back(Event::ChannelData(ChannelData { id, binary, data }));
            }
            ChannelEvent::BufferedAmountLow(stream) => {
                if let Some(&id) = self.by_stream.get(&stream) {
                    self.push_event(Event::ChannelBufferedAmountLow(id));
                }
            }
            ChannelEvent::Closing(stream) => {
                if let Some(&id) = self.by_stream.get(&stream) {
                    self.push_event(Event::ChannelClosing(id));
                }
            }
            ChannelEvent::Closed(stream) => {
                if let Some(id) = self.by_stream.remove(&stream) {
                    self.channels.remove(&id);
                    self.push_event(Event::ChannelClosed(id));
                }
            }
            ChannelEvent::Disconnected => {
                self.sctp_connected = false;
                for (id, c) in std::mem::take(&mut self.channels) {
                    if c.stream.is_some() {
                        self.push_event(Event::ChannelClosed(id));
                    } else {
                        self.channels.insert(id, c);
                    }
                }
                self.by_stream.clear();
            }
            _ => {}
        }
    }

    /// Lets `ip` send to our relayed addresses (and us send to it).
    fn permit(&mut self, ip: std::net::IpAddr) {
        for relay in &mut self.relays {
            if relay.relayed.is_some() && !relay.client.has_permission(ip) {
                let _ = relay.client.create_permission(self.now, ip);
            }
        }
    }

    /// Sends `contents` from relay `i`'s relayed address to `peer`. Without
    /// a permission yet, one is asked for and this datagram is dropped
    /// (ICE retransmits; DTLS and SCTP recover).
    fn relay_send(&mut self, i: usize, peer: SocketAddr, contents: &[u8]) {
        let Some(relay) = self.relays.get_mut(i) else {
            return;
        };
        if let Err(rtcwire_turn::TurnError::NoPermission) = relay.client.send_to(peer, contents) {
            let _ = relay.client.create_permission(self.now, peer.ip());
            self.stats.dropped += 1;
        }
        self.pump_relays();
    }

    /// Moves TURN datagrams out and acts on TURN events.
    fn pump_relays(&mut self) {
        let mut allocated = Vec::new();
        for i in 0..self.relays.len() {
            let relay = &mut self.relays[i];
            match (relay.stream, relay.base) {
                (Some(StreamState::Open), _) => {
                    while let Some(t) = relay.client.poll_transmit() {
                        self.stats.bytes_sent += t.contents.len() as u64;
                        self.stream_out.push_back(Output::StreamTransmit(StreamTransmit {
                            destination: t.destination,
                            contents: t.contents.to_vec(),
                        }));
                    }
                }
                (None, Some(base)) => {
                    while let Some(t) = relay.client.poll_transmit() {
                        self.stats.packets_sent += 1;
                        self.stats.bytes_sent += t.contents.len() as u64;
                        self.transmits.push_back(Transmit {
                            source: base,
                            destination: t.destination,
                            contents: t.contents.to_vec(),
                        });
                    }
                }
                // Not connected (yet, or any more): the client keeps what
                // it has to send, within its bounds.
                _ => {}
            }
            while let Some(e) = relay.client.poll_event() {
                match e {
                    rtcwire_turn::TurnEvent::Allocated { relayed, mapped, .. } => {
                        relay.relayed = Some(relayed);
                        allocated.push((relayed, relay.client.server(), mapped, relay.local_preference()));
                    }
                    rtcwire_turn::TurnEvent::Data { peer, data } => self.relay_data.push((i, peer, data)),
                    rtcwire_turn::TurnEvent::AllocationFailed(error) => {
                        relay.done = true;
                        let server = relay.client.server();
                        self.events.push_back(Event::IceServerError {
                            server,
                            reason: error.to_string(),
                        });
                    }
                    rtcwire_turn::TurnEvent::Closed => relay.done = true,
                    _ => {}
                }
            }
        }
        if allocated.is_empty() {
            // A TURN server that failed may have been the last one pending.
            self.update_gathering();
            return;
        }
        for (relayed, server, mapped, preference) in allocated {
            // The mapped address is the related address (`raddr`) in SDP:
            // relay-only keeps it out, as it keeps the host addresses out
            // (the server's XOR-MAPPED-ADDRESS is the host's public address).
            let mapped = if self.relay_only { None } else { mapped };
            let candidate = rtcwire_ice::Candidate::relayed(relayed, server, mapped, preference);
            let _ = self.ice.add_local_candidate(self.now, candidate);
        }
        // Peers already known may use the new relays.
        let ips: Vec<std::net::IpAddr> = self
            .ice
            .remote_candidates()
            .iter()
            .map(|c| c.address().ip())
            .collect();
        for ip in ips {
            self.permit(ip);
        }
        self.pump_ice();
        self.update_gathering();
    }

    /// Gathering is complete when ICE's is and every TURN server answered.
    /// Also releases an end-of-candidates held for the TURN servers.
    fn update_gathering(&mut self) {
        let relays_pending = self.relays_pending();
        if self.ice_gathered && !relays_pending && self.gathering != IceGatheringState::Complete {
            self.gathering = IceGatheringState::Complete;
            self.push_event(Event::IceGatheringStateChange(IceGatheringState::Complete));
        }
        self.release_end_of_candidates();
    }

    fn push_transmit(&mut self, source: SocketAddr, destination: SocketAddr, contents: Vec<u8>) {
        if let Some(i) = self.relays.iter().position(|x| x.relayed == Some(source)) {
            self.relay_send(i, destination, &contents);
            return;
        }
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += contents.len() as u64;
        self.transmits.push_back(Transmit {
            source,
            destination,
            contents,
        });
    }

    fn push_event(&mut self, e: Event) {
        self.events.push_back(e);
    }

    fn set_dtls_state(&mut self, state: DtlsTransportState) {
        if self.dtls_state != state {
            self.dtls_state = state;
            self.push_event(Event::DtlsStateChange(state));
            self.update_pc_state();
        }
    }

    fn update_pc_state(&mut self) {
        use IceConnectionState as I;
        let state = if self.closed || self.dtls_state == DtlsTransportState::Closed {
            PeerConnectionState::Closed
        } else if self.ice_state == I::Failed || self.dtls_state == DtlsTransportState::Failed {
            PeerConnectionState::Failed
        } else if self.ice_state == I::Disconnected {
            PeerConnectionState::Disconnected
        } else if matches!(self.ice_state, I::Connected | I::Completed)
            && self.dtls_state == DtlsTransportState::Connected
        {
            PeerConnectionState::Connected
        } else if self.ice_state == I::New && self.dtls_state == DtlsTransportState::New {
            PeerConnectionState::New
        } else {
            PeerConnectionState::Connecting
        };
        if state != self.pc_state {
            self.pc_state = state;
            self.push_event(Event::PeerConnectionStateChange(state));
        }
    }

    // ------------------------------------------------------ state and stats

    /// W3C `connectionState`.
    pub fn peer_connection_state(&self) -> PeerConnectionState {
        self.pc_state
    }

    /// W3C `iceConnectionState`.
    pub fn ice_connection_state(&self) -> IceConnectionState {
        self.ice_state
    }

    /// W3C `iceGatheringState`.
    pub fn ice_gathering_state(&self) -> IceGatheringState {
        self.gathering
    }

    /// The DTLS transport's state.
    pub fn dtls_state(&self) -> DtlsTransportState {
        self.dtls_state
    }

    /// The pair data flows on: (local, remote).
    pub fn selected_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.selected
    }

    /// Our ICE credentials (the ufrag routes STUN in servers).
    pub fn local_credentials(&self) -> &Credentials {
        self.ice.local_credentials()
    }

    /// A snapshot like W3C `getStats()`.
    pub fn stats(&self) -> RtcStats {
        let sctp = self.sctp.as_ref().map(|s| s.association().stats());
        let channels = self
            .channels
            .iter()
            .map(|(id, c)| ChannelStats {
                id: *id,
                stream_id: c.stream,
                label: c.label.clone(),
                protocol: c.options.protocol.clone(),
                state: self.channel_state(*id),
                messages_sent: c.messages_sent,
                bytes_sent: c.bytes_sent,
                messages_received: c.messages_received,
                bytes_received: c.bytes_received,
                buffered_amount: self.buffered_amount(*id),
            })
            .collect();
        RtcStats {
            peer_connection_state: self.pc_state,
            ice_connection_state: self.ice_state,
            dtls_state: self.dtls_state,
            selected_pair: self.selected,
            rtt: sctp.as_ref().and_then(|s| s.srtt),
            transport: self.stats,
            dtls_cipher: self.dtls.as_ref().and_then(DtlsEndpoint::cipher_suite),
            srtp_profile: self.srtp_profile,
            media: self.media,
            ice: self.ice.stats(),
            sctp,
            channels,
        }
    }

    /// Closes the connection: channels, SCTP, DTLS (close_notify), ICE.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        if let Some(sctp) = &mut self.sctp {
            sctp.association_mut().close(self.now);
        }
        self.pump_sctp();
        if let Some(dtls) = &mut self.dtls {
            dtls.close();
        }
        self.pump_dtls();
        self.ice.close();
        for relay in &mut self.relays {
            relay.client.close(self.now);
        }
        self.pump_relays();
        for relay in &mut self.relays {
            if relay.stream.is_some_and(|s| s != StreamState::Closed) {
                relay.stream = Some(StreamState::Closed);
                self.stream_out
                    .push_back(Output::Disconnect(relay.client.server()));
            }
        }
        self.closed = true;
        for (id, _) in std::mem::take(&mut self.channels) {
            self.push_event(Event::ChannelClosed(id));
        }
        self.by_stream.clear();
        self.set_signaling(SignalingState::Closed);
        self.update_pc_state();
    }

    /// Whether [`close`](Rtc::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

#[cfg(test)]
mod tests {
    // Test code: the inputs are constants, not network input.
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn events(rtc: &mut Rtc) -> Vec<Event> {
        let mut v = Vec::new();
        loop {
            match rtc.poll_output().unwrap() {
                Output::Event(e) => v.push(e),
                Output::Transmit(_)
                | Output::StreamTransmit(_)
                | Output::Connect(_)
                | Output::Disconnect(_) => {}
                Output::Timeout(_) => return v,
            }
        }
    }

    /// A trickled candidate and end-of-candidates that arrive before the
    /// remote description (Chromium trickles while the offer is still on
    /// its way) are both held: ICE checks the candidate instead of failing
    /// at once for want of candidates.
    #[test]
    fn end_of_candidates_before_the_remote_description_is_held() {
        // Virtual time: nothing under crates/ reads the clock.
        let now = rtcwire_netsim::Sim::new(1).now();
        let mut a = Rtc::new(RtcConfig::default(), now).unwrap();
        let mut b = Rtc::new(RtcConfig::default(), now).unwrap();
        a.add_local_candidate("127.0.0.1:40001".parse().unwrap()).unwrap();
        b.add_local_candidate("127.0.0.1:40002".parse().unwrap()).unwrap();
        a.create_data_channel("chat", ChannelOptions::default()).unwrap();
        let offer = a.create_offer().unwrap();
        a.set_local_description(&offer).unwrap();
        let candidate = offer
            .sdp
            .lines()
            .find_map(|l| l.strip_prefix("a=candidate:"))
            .map(|c| format!("candidate:{c}"))
            .unwrap();
        let bare: String = offer
            .sdp
            .split_inclusive('\n')
            .filter(|l| !l.starts_with("a=candidate:") && !l.starts_with("a=end-of-candidates"))
            .collect();
        b.add_remote_candidate(&candidate).unwrap();
        b.add_remote_candidate("").unwrap();
        assert_eq!(b.ice_connection_state(), IceConnectionState::New);
        b.set_remote_description(&SessionDescription::offer(bare))
            .unwrap();
        let answer = b.create_answer().unwrap();
        b.set_local_description(&answer).unwrap();
        let seen = events(&mut b);
        assert!(
            !seen.contains(&Event::IceConnectionStateChange(IceConnectionState::Failed)),
            "{seen:?}"
        );
        assert_eq!(b.ice_connection_state(), IceConnectionState::Checking);
    }

    /// A candidate gathered between creating and applying a description is
    /// not in it: it trickles when the description is applied.
    #[test]
    fn a_candidate_gathered_after_create_offer_trickles() {
        let now = rtcwire_netsim::Sim::new(1).now();
        let mut a = Rtc::new(RtcConfig::default(), now).unwrap();
        a.add_local_candidate("127.0.0.1:40001".parse().unwrap()).unwrap();
        let offer = a.create_offer().unwrap();
        a.add_local_candidate("127.0.0.1:40003".parse().unwrap()).unwrap();
        assert!(!offer.sdp.contains("40003"));
        assert!(!events(&mut a).iter().any(|e| matches!(e, Event::IceCandidate(_))));
        a.set_local_description(&offer).unwrap();
        let trickled: Vec<String> = events(&mut a)
            .into_iter()
            .filter_map(|e| match e {
                Event::IceCandidate(c) => Some(c.candidate),
                _ => None,
            })
            .collect();
        assert_eq!(trickled.len(), 1, "{trickled:?}");
        assert!(trickled[0].contains("127.0.0.1 40003"));
    }

    /// Every output until `Timeout`.
    fn outputs(rtc: &mut Rtc) -> Vec<Output> {
        let mut v = Vec::new();
        loop {
            match rtc.poll_output().unwrap() {
                Output::Timeout(_) => return v,
                o => v.push(o),
            }
        }
    }

    #[test]
    fn turn_over_tcp_asks_for_a_connection_and_writes_only_once_it_is_open() {
        let now = rtcwire_netsim::Sim::new(1).now();
        let server: SocketAddr = "192.0.2.1:3478".parse().unwrap();
        let config = RtcConfig {
            ice_servers: vec![IceServer::turn("turn:192.0.2.1?transport=tcp", "u", "p")],
            ice_transport_policy: IceTransportPolicy::Relay,
            ..RtcConfig::default()
        };
        let mut a = Rtc::new(config, now).unwrap();
        a.add_local_candidate("127.0.0.1:40001".parse().unwrap()).unwrap();
        let first = outputs(&mut a);
        assert!(
            matches!(first.as_slice(), [Output::Connect(s)] if *s == server),
            "{first:?}"
        );
        a.handle_input(Input::Connected(now, server)).unwrap();
        let written = outputs(&mut a);
        let [Output::StreamTransmit(t)] = written.as_slice() else {
            panic!("{written:?}");
        };
        assert_eq!(t.destination, server);
        let request = rtcwire_stun::Message::parse(&t.contents).unwrap();
        assert_eq!(request.method(), rtcwire_stun::Method::ALLOCATE);
        // Bytes from elsewhere are not the server's.
        let other: SocketAddr = "192.0.2.9:3478".parse().unwrap();
        a.handle_input(Input::StreamReceive(now, other, &t.contents))
            .unwrap();
        assert!(outputs(&mut a).is_empty());
        // The connection closes: the relay is gone, and gathering ends.
        a.handle_input(Input::Disconnected(now, server)).unwrap();
        let events = events(&mut a);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::IceServerError { server: s, .. } if *s == server)),
            "{events:?}"
        );
        assert_eq!(a.ice_gathering_state(), IceGatheringState::Complete);
    }

    #[test]
    fn a_turn_stream_out_of_sync_is_closed() {
        let now = rtcwire_netsim::Sim::new(1).now();
        let server: SocketAddr = "192.0.2.1:3478".parse().unwrap();
        let config = RtcConfig {
            ice_servers: vec![IceServer::turn("turn:192.0.2.1?transport=tcp", "u", "p")],
            ..RtcConfig::default()
        };
        let mut a = Rtc::new(config, now).unwrap();
        a.handle_input(Input::Connected(now, server)).unwrap();
        outputs(&mut a);
        // Neither STUN nor ChannelData: the framing is lost.
        a.handle_input(Input::StreamReceive(now, server, &[0xff; 8]))
            .unwrap();
        let out = outputs(&mut a);
        assert!(
            out.iter()
                .any(|o| matches!(o, Output::Disconnect(s) if *s == server)),
            "{out:?}"
        );
        assert!(
            out.iter()
                .any(|o| matches!(o, Output::Event(Event::IceServerError { server: s, .. }) if *s == server)),
            "{out:?}"
        );
        // Nothing more is written to it.
        a.handle_input(Input::Timeout(now + Duration::from_secs(5)))
            .unwrap();
        assert!(
            !outputs(&mut a)
                .iter()
                .any(|o| matches!(o, Output::StreamTransmit(_)))
        );
    }

    #[test]
    fn end_of_candidates_waits_for_a_pending_turn_allocation() {
        let now = rtcwire_netsim::Sim::new(1).now();
        let server: SocketAddr = "192.0.2.1:3478".parse().unwrap();
        let mut b = Rtc::new(RtcConfig::default(), now).unwrap();
        b.add_local_candidate("127.0.0.1:40002".parse().unwrap()).unwrap();
        b.create_data_channel("x", ChannelOptions::default()).unwrap();
        let offer = b.create_offer().unwrap();
        let config = RtcConfig {
            ice_servers: vec![IceServer::turn("turn:192.0.2.1?transport=tcp", "u", "p")],
            ice_transport_policy: IceTransportPolicy::Relay,
            ..RtcConfig::default()
        };
        let mut a = Rtc::new(config, now).unwrap();
        a.set_remote_description(&offer).unwrap();
        a.end_of_remote_candidates();
        // Without a local candidate yet ICE has no pair, but the relay may
        // still bring one: not failed.
        assert_ne!(a.ice_connection_state(), IceConnectionState::Failed);
        // The TURN server is unreachable: now nothing can come.
        a.handle_input(Input::Disconnected(now, server)).unwrap();
        assert_eq!(a.ice_connection_state(), IceConnectionState::Failed);
    }

    #[test]
    fn turns_needs_trust_anchors_and_a_valid_name() {
        let now = rtcwire_netsim::Sim::new(1).now();
        let config = RtcConfig {
            ice_servers: vec![IceServer::turn("turns:192.0.2.1", "u", "p")],
            ..RtcConfig::default()
        };
        assert!(matches!(Rtc::new(config, now), Err(RtcError::Config(_))));
        let twice = RtcConfig {
            ice_servers: vec![IceServer {
                urls: vec![
                    "turn:192.0.2.1?transport=tcp".into(),
                    "turn:192.0.2.1:3478?transport=tcp".into(),
                ],
                ..IceServer::turn("", "u", "p")
            }],
            ..RtcConfig::default()
        };
        assert!(matches!(Rtc::new(twice, now), Err(RtcError::Config(_))));
    }
}
