//! The ICE agent (RFC 8445): candidates, the checklist, connectivity checks,
//! nomination, consent freshness (RFC 7675) and trickle (RFC 8838).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::{Rng, RngCore, SeedableRng};
use rtcwire_stun::{
    Attribute, AttributeType, BindingClient, BindingEvent, BindingRequestOptions, Class, ClientTransaction,
    ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType, Method, TransactionConfig, TransactionId,
    TransactionState,
};

use crate::candidate::{Candidate, CandidateKind, pair_priority};
use crate::error::IceError;
use crate::event::{IceConnectionState, IceEvent, IceRole};
use crate::mdns::{MdnsConfig, MdnsEvent, MdnsPublisher, MdnsPublisherConfig, MdnsResolver, MdnsTransmit};
use crate::pair::{CandidatePair, PairState};

/// Largest STUN message the agent builds: a check with a 513-byte USERNAME
/// would not fit, but ufrags are capped at 256 bytes each.
const MAX_CHECK_LEN: usize = 20 + 4 + 516 + 8 + 12 + 4 + 24 + 8;

/// The agent's settings. `Default` gives a full agent with RFC timings.
#[derive(Debug, Clone)]
pub struct IceConfig {
    /// ICE-lite (RFC 8445 section 2.5): host candidates only, answers checks
    /// but sends none, selects on USE-CANDIDATE. For servers with public
    /// addresses.
    pub lite: bool,
    /// Ta: pacing between new checks. Default 50 ms.
    pub ta: Duration,
    /// Transmissions of one check before its pair fails. Default 7.
    pub check_transmissions: u32,
    /// Cap on a check's retransmission timeout. Default 1.6 s.
    pub check_max_rto: Duration,
    /// STUN servers to learn server-reflexive candidates from.
    pub stun_servers: Vec<SocketAddr>,
    /// How long, after the first valid pair, the controlling agent waits
    /// for higher-priority pairs before nominating. Default 250 ms.
    pub nomination_delay: Duration,
    /// Interval between consent checks on the selected pair, randomised by
    /// +-20 % (RFC 7675 section 5.1). Default 5 s.
    pub consent_interval: Duration,
    /// Without consent for this long the state becomes `Disconnected`.
    /// Default 8 s.
    pub disconnected_timeout: Duration,
    /// Without consent for this long the state becomes `Failed` (RFC 7675:
    /// 30 s).
    pub consent_timeout: Duration,
    /// Most remote candidates kept (signalled and peer-reflexive). Default 64.
    pub max_remote_candidates: usize,
    /// Most local candidates. Default 16.
    pub max_local_candidates: usize,
    /// Most candidate pairs. Default 256.
    pub max_pairs: usize,
    /// Most STUN responses the agent sends per second, so that it cannot be
    /// used to amplify traffic. Default 200.
    pub max_responses_per_second: u32,
    /// Publish host candidates under random `<uuid>.local` mDNS names and
    /// signal those instead of the IP addresses, as browsers do. The owner
    /// carries mDNS traffic ([`IceAgent::poll_mdns_transmit`],
    /// [`IceAgent::handle_mdns_receive`]). Default off.
    pub mdns_publish: bool,
    /// Settings of the resolver for remote `.local` candidates.
    pub mdns: MdnsConfig,
    /// Renomination (draft-thatcher-ice-renomination, `a=ice-options:renomination`
    /// in SDP): the controlling agent may nominate a better pair after one is
    /// selected, numbering nominations with the NOMINATION attribute; the
    /// controlled agent follows the highest number. Enable only when both
    /// sides signalled it. Default off.
    pub renomination: bool,
    /// Seed for everything random the agent does (tie-breaker, credentials,
    /// transaction IDs, jitter); `None` seeds from the operating system.
    /// The generator is a CSPRNG either way; seed only in tests.
    pub seed: Option<u64>,
}

impl Default for IceConfig {
    fn default() -> Self {
        IceConfig {
            lite: false,
            ta: Duration::from_millis(50),
            check_transmissions: 7,
            check_max_rto: Duration::from_millis(1600),
            stun_servers: Vec::new(),
            nomination_delay: Duration::from_millis(250),
            consent_interval: Duration::from_secs(5),
            disconnected_timeout: Duration::from_secs(8),
            consent_timeout: Duration::from_secs(30),
            max_remote_candidates: 64,
            max_local_candidates: 16,
            max_pairs: 256,
            max_responses_per_second: 200,
            renomination: false,
            mdns_publish: false,
            mdns: MdnsConfig::default(),
            seed: None,
        }
    }
}

/// ICE username fragment and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `ice-ufrag`.
    pub ufrag: String,
    /// `ice-pwd`.
    pub pwd: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("ufrag", &self.ufrag)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Random credentials: an 8-character ufrag and a 24-character password
    /// from the ice-char alphabet (more than RFC 8839's 24 and 128 bits).
    pub fn random<R: RngCore + ?Sized>(rng: &mut R) -> Credentials {
        const ICE_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut pick = |n: usize| -> String {
            (0..n)
                .map(|_| char::from(ICE_CHARS[(rng.next_u32() % 64) as usize]))
                .collect()
        };
        Credentials {
            ufrag: pick(8),
            pwd: pick(24),
        }
    }

    /// Checks RFC 8839 section 5.4: ufrag 4-256 and pwd 22-256 ice-chars.
    pub fn validate(&self) -> Result<(), IceError> {
        let ice_chars = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        };
        if !(4..=256).contains(&self.ufrag.len()) || !ice_chars(&self.ufrag) {
            return Err(IceError::InvalidCredentials("ufrag must be 4 to 256 ice-chars"));
        }
        if !(22..=256).contains(&self.pwd.len()) || !ice_chars(&self.pwd) {
            return Err(IceError::InvalidCredentials("pwd must be 22 to 256 ice-chars"));
        }
        Ok(())
    }
}

/// A datagram the agent wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Local address to send from: a host candidate's socket, or a relayed
    /// address (send it through the TURN client that owns it).
    pub source: SocketAddr,
    /// Where to.
    pub destination: SocketAddr,
    /// The STUN message.
    pub contents: Vec<u8>,
}

/// Counters of what the agent dropped or refused, for debugging and
/// metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IceStats {
    /// STUN messages that failed to parse or failed FINGERPRINT.
    pub malformed: u64,
    /// Requests or responses that failed MESSAGE-INTEGRITY or USERNAME.
    pub unauthenticated: u64,
    /// Responses matching no transaction.
    pub unmatched_responses: u64,
    /// Responses not sent because of the rate limit.
    pub rate_limited: u64,
    /// Candidates or pairs refused because a cap was reached.
    pub capped: u64,
    /// Connectivity checks sent (first transmissions).
    pub checks_sent: u64,
    /// Requests answered with success.
    pub checks_answered: u64,
    /// Remote `.local` candidates whose name did not resolve.
    pub mdns_unresolved: u64,
}

/// A remote candidate waiting for its `.local` name to resolve.
#[derive(Debug, Clone)]
struct Unresolved {
    name: String,
    port: u16,
    kind: CandidateKind,
    priority: u32,
    foundation: String,
}

/// Most remote `.local` candidates waiting for resolution.
const MAX_UNRESOLVED: usize = 16;

/// A local candidate and whether checks may use it.
#[derive(Debug, Clone)]
struct Local {
    candidate: Candidate,
    /// Server-reflexive candidates are only signalled: their pairs would be
    /// redundant with their base's (RFC 8445 section 6.1.2.4).
    pairable: bool,
}

/// Consent freshness of the selected pair (RFC 7675).
#[derive(Debug)]
struct Consent {
    pair: usize,
    last_fresh: Instant,
    next_check: Instant,
    check: Option<ClientTransaction<Vec<u8>>>,
}

/// One srflx gathering transaction.
#[derive(Debug)]
struct Gather {
    base: SocketAddr,
    server: SocketAddr,
    client: BindingClient,
}

/// A sans-IO ICE agent for one component (WebRTC's bundled transport).
///
/// Like every rtcwire state machine it is driven by its owner:
/// - inputs: [`handle_receive`](IceAgent::handle_receive) for every datagram
///   that arrives on one of the local candidates' sockets (it returns
///   `false` for datagrams that are not ICE's, such as DTLS and SRTP), and
///   [`handle_timeout`](IceAgent::handle_timeout) once
///   [`poll_timeout`](IceAgent::poll_timeout)'s instant has passed;
/// - commands: [`add_host_candidate`](IceAgent::add_host_candidate),
///   [`add_remote_candidate`](IceAgent::add_remote_candidate),
///   [`set_remote_credentials`](IceAgent::set_remote_credentials),
///   [`restart`](IceAgent::restart), [`close`](IceAgent::close);
/// - outputs, drained after every input or command:
///   [`poll_transmit`](IceAgent::poll_transmit),
///   [`poll_event`](IceAgent::poll_event) and `poll_timeout`.
///
/// Relayed candidates plug in through the same interface: the caller's TURN
/// client allocates an address and hands it over with
/// [`add_local_candidate`](IceAgent::add_local_candidate); transmits whose
/// `source` is that relayed address go out through the TURN client, and
/// datagrams the TURN client delivers are given to `handle_receive` with the
/// relayed address as their destination.
#[derive(Debug)]
pub struct IceAgent {
    config: IceConfig,
    rng: rand::rngs::StdRng,
    role: IceRole,
    tie_breaker: u64,
    local_credentials: Credentials,
    local_key: IntegrityKey,
    remote_credentials: Option<Credentials>,
    remote_key: Option<IntegrityKey>,
    locals: Vec<Local>,
    remotes: Vec<Candidate>,
    remote_end_of_candidates: bool,
    pairs: Vec<CandidatePair>,
    triggered: VecDeque<usize>,
    gathers: Vec<Gather>,
    gathering_complete_sent: bool,
    next_check: Option<Instant>,
    nominate_at: Option<Instant>,
    nominating: Option<usize>,
    /// Renomination: the number of our last nomination (controlling), or
    /// the highest number seen from the peer (controlled).
    nomination: u32,
    selected: Option<usize>,
    /// After a restart, the pair data keeps flowing on until a new one is
    /// selected.
    previous_selected: Option<(SocketAddr, SocketAddr)>,
    consent: Option<Consent>,
    /// Consent expired: the agent stays failed until an ICE restart.
    consent_expired: bool,
    state: IceConnectionState,
    transmits: VecDeque<Transmit>,
    events: VecDeque<IceEvent>,
    tokens: u32,
    tokens_refilled: Option<Instant>,
    stats: IceStats,
    mdns: MdnsResolver,
    publisher: Option<MdnsPublisher>,
    unresolved: Vec<Unresolved>,
}

/// Most transmits queued before the owner drains them.
const MAX_QUEUED_TRANSMITS: usize = 512;
/// Most events queued before the owner drains them.
const MAX_QUEUED_EVENTS: usize = 512;

impl IceAgent {
    /// A new agent with fresh random credentials and tie-breaker.
    pub fn new(config: IceConfig, role: IceRole) -> IceAgent {
        let mut rng = match config.seed {
            Some(seed) => rand::rngs::StdRng::seed_from_u64(seed),
            None => rand::rngs::StdRng::from_os_rng(),
        };
        let local_credentials = Credentials::random(&mut rng);
        let tie_breaker = rng.next_u64();
        // A lite agent is always controlled against a full one (RFC 8445
        // section 6.1.1); it never acts as controlling.
        let role = if config.lite { IceRole::Controlled } else { role };
        let config_mdns = config.mdns.clone();
        let config_publish = config.mdns_publish;
        IceAgent {
            local_key: IntegrityKey::short_term(&local_credentials.pwd),
            local_credentials,
            tokens: config.max_responses_per_second,
            config,
            rng,
            role,
            tie_breaker,
            remote_credentials: None,
            remote_key: None,
            locals: Vec::new(),
            remotes: Vec::new(),
            remote_end_of_candidates: false,
            pairs: Vec::new(),
            triggered: VecDeque::new(),
            gathers: Vec::new(),
            gathering_complete_sent: false,
            next_check: None,
            nominate_at: None,
            nominating: None,
            nomination: 0,
            selected: None,
            previous_selected: None,
            consent: None,
            consent_expired: false,
            state: IceConnectionState::New,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            tokens_refilled: None,
            stats: IceStats::default(),
            mdns: MdnsResolver::new(config_mdns),
            publisher: config_publish.then(|| MdnsPublisher::new(MdnsPublisherConfig::default())),
            unresolved: Vec::new(),
        }
    }

    /// Our ufrag and password, to signal to the peer.
    pub fn local_credentials(&self) -> &Credentials {
        &self.local_credentials
    }

    /// Replaces the local credentials (for example with ones from an SDP
    /// the application wrote). Call before any check is exchanged.
    pub fn set_local_credentials(&mut self, credentials: Credentials) -> Result<(), IceError> {
        credentials.validate()?;
        self.local_key = IntegrityKey::short_term(&credentials.pwd);
        self.local_credentials = credentials;
        Ok(())
    }

    /// The peer's ufrag and password, from its description.
    pub fn set_remote_credentials(&mut self, now: Instant, credentials: Credentials) -> Result<(), IceError> {
        credentials.validate()?;
        self.remote_key = Some(IntegrityKey::short_term(&credentials.pwd));
        self.remote_credentials = Some(credentials);
        self.schedule_checks(now);
        self.update_state(now);
        Ok(())
    }

    /// Current role.
    pub fn role(&self) -> IceRole {
        self.role
    }

    /// Sets the role before or between negotiations: the offerer is
    /// controlling, the answerer controlled, and a full agent facing a lite
    /// one always controls (RFC 8445 section 6.1.1). Pair priorities are
    /// recomputed. A lite agent stays controlled.
    pub fn set_role(&mut self, role: IceRole) {
        if self.config.lite || role == self.role {
            return;
        }
        self.role = role;
        for i in 0..self.pairs.len() {
            let (l, r) = (self.pairs[i].local, self.pairs[i].remote);
            if let (Some(l), Some(r)) = (self.locals.get(l), self.remotes.get(r)) {
                let priority = self.priority_of(l.candidate.priority(), r.priority());
                self.pairs[i].priority = priority;
            }
        }
    }

    /// Whether this is a lite agent.
    pub fn is_lite(&self) -> bool {
        self.config.lite
    }

    /// Current connection state.
    pub fn state(&self) -> IceConnectionState {
        self.state
    }

    /// Counters of dropped and refused input.
    pub fn stats(&self) -> IceStats {
        self.stats
    }

    /// Local candidates gathered so far.
    pub fn local_candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.locals.iter().map(|l| &l.candidate)
    }

    /// Remote candidates known so far (signalled and peer-reflexive).
    pub fn remote_candidates(&self) -> &[Candidate] {
        &self.remotes
    }

    /// The checklist.
    pub fn pairs(&self) -> &[CandidatePair] {
        &self.pairs
    }

    /// Where data goes now: `(local, remote)` of the selected pair, or of the
    /// pair selected before an ICE restart until a new one is selected.
    pub fn selected_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        match self.selected {
            Some(i) => Some(self.pair_addresses(i)),
            None => self.previous_selected,
        }
    }

    /// Adds a host candidate on a local socket address. The first one added
    /// is preferred. Server-reflexive candidates are gathered from it
    /// through every configured STUN server of the same address family.
    pub fn add_host_candidate(&mut self, now: Instant, address: SocketAddr) -> Result<Candidate, IceError> {
        let preference = u16::MAX - self.locals.len().min(u16::MAX as usize) as u16;
        let mut candidate = Candidate::host(address, preference);
        if let Some(publisher) = &mut self.publisher {
            if let Ok(name) = publisher.publish(now, &mut self.rng, address.ip()) {
                candidate.set_mdns_name(name);
            }
        }
        self.add_local(now, candidate.clone(), true)?;
        if !self.config.lite {
            for server in self.config.stun_servers.clone() {
                if server.is_ipv4() != address.is_ipv4() {
                    continue;
                }
                let options = BindingRequestOptions {
                    transaction: TransactionConfig {
                        initial_rto: Duration::from_millis(250),
                        max_rto: Some(Duration::from_millis(1600)),
                        max_transmissions: 7,
                        last_wait_multiplier: 8,
                        ..TransactionConfig::default()
                    },
                    ..BindingRequestOptions::default()
                };
                if let Ok(client) = BindingClient::new(now, &mut self.rng, server, options) {
                    self.gathers.push(Gather {
                        base: address,
                        server,
                        client,
                    });
                }
            }
        }
        // A new host candidate reopens gathering; without STUN servers (or
        // for a lite agent) it completes at once.
        self.gathering_complete_sent = false;
        self.drain_gathers();
        Ok(candidate)
    }

    /// Adds a local candidate made elsewhere, such as a relayed candidate
    /// allocated by the caller's TURN client.
    pub fn add_local_candidate(&mut self, now: Instant, candidate: Candidate) -> Result<(), IceError> {
        if self.config.lite && candidate.kind() != CandidateKind::Host {
            return Err(IceError::LiteAgent);
        }
        let pairable = candidate.kind() != CandidateKind::ServerReflexive;
        self.add_local(now, candidate, pairable)
    }

    fn add_local(&mut self, now: Instant, candidate: Candidate, pairable: bool) -> Result<(), IceError> {
        if self.state == IceConnectionState::Closed {
            return Err(IceError::Closed);
        }
        if self
            .locals
            .iter()
            .any(|l| l.candidate.address() == candidate.address())
        {
            return Err(IceError::DuplicateCandidate);
        }
        if self.locals.len() >= self.config.max_local_candidates {
            self.stats.capped += 1;
            return Err(IceError::TooManyCandidates("local"));
        }
        self.locals.push(Local {
            candidate: candidate.clone(),
            pairable,
        });
        self.push_event(IceEvent::LocalCandidate(candidate));
        if pairable {
            let local = self.locals.len() - 1;
            for remote in 0..self.remotes.len() {
                self.add_pair(local, remote);
            }
            self.schedule_checks(now);
        }
        Ok(())
    }

    /// Adds a candidate the peer signalled (trickled or in its description).
    pub fn add_remote_candidate(&mut self, now: Instant, candidate: Candidate) -> Result<(), IceError> {
        if self.state == IceConnectionState::Closed {
            return Err(IceError::Closed);
        }
        if let Some(r) = self
            .remotes
            .iter()
            .position(|r| r.address() == candidate.address())
        {
            // A peer-reflexive candidate learned from a check is replaced by
            // the signalled one (RFC 8445 section 7.3.1.3), keeping its pairs
            // but taking its priority.
            if self.remotes[r].kind() != CandidateKind::PeerReflexive
                || candidate.kind() == CandidateKind::PeerReflexive
            {
                return Err(IceError::DuplicateCandidate);
            }
            self.remotes[r] = candidate;
            for i in 0..self.pairs.len() {
                if self.pairs[i].remote == r {
                    let local = self.locals[self.pairs[i].local].candidate.priority();
                    self.pairs[i].priority = self.priority_of(local, self.remotes[r].priority());
                }
            }
            // A pair that got better may be worth (re)nominating.
            self.maybe_nominate(now);
            self.update_state(now);
            return Ok(());
        }
        self.insert_remote(now, candidate).map(|_| ())
    }

    /// Adds a remote candidate whose address is an mDNS `.local` name
    /// (browsers hide host addresses this way). The agent resolves it with
    /// its mDNS resolver and pairs it once resolved; an unresolved name is
    /// dropped after the resolver's timeout.
    pub fn add_remote_mdns_candidate(
        &mut self,
        now: Instant,
        name: &str,
        port: u16,
        kind: CandidateKind,
        priority: u32,
        foundation: &str,
    ) -> Result<(), IceError> {
        if self.state == IceConnectionState::Closed {
            return Err(IceError::Closed);
        }
        crate::mdns::validate_local_name(name).map_err(|_| IceError::Mdns("not a .local host name"))?;
        if foundation.is_empty() || foundation.len() > crate::candidate::MAX_FOUNDATION_LEN {
            return Err(IceError::Mdns("invalid foundation"));
        }
        if let Some(ip) = self.mdns.lookup(now, name) {
            let candidate = Candidate::remote(kind, SocketAddr::new(ip, port), priority, foundation, None)
                .ok_or(IceError::Mdns("invalid foundation"))?;
            return self.add_remote_candidate(now, candidate);
        }
        if self.unresolved.len() >= MAX_UNRESOLVED {
            self.stats.capped += 1;
            return Err(IceError::TooManyCandidates("unresolved mDNS"));
        }
        if !self.mdns.is_pending(name) {
            let want_ipv6 = self.config.mdns.ipv6;
            self.mdns
                .query(now, name, want_ipv6)
                .map_err(|_| IceError::Mdns("too many mDNS queries pending"))?;
        }
        self.unresolved.push(Unresolved {
            name: name.to_owned(),
            port,
            kind,
            priority,
            foundation: foundation.to_owned(),
        });
        self.drain_mdns(now);
        Ok(())
    }

    /// Offers a datagram that arrived on the owner's mDNS socket (port
    /// 5353). Returns whether it was mDNS the agent used.
    pub fn handle_mdns_receive(&mut self, now: Instant, source: SocketAddr, packet: &[u8]) -> bool {
        let used = self.mdns.handle_receive(now, source, packet)
            || self
                .publisher
                .as_mut()
                .is_some_and(|p| p.handle_receive(now, source, packet));
        self.drain_mdns(now);
        used
    }

    /// The next mDNS datagram to send from the owner's port-5353 socket
    /// (to the multicast group, or to one querier).
    pub fn poll_mdns_transmit(&mut self) -> Option<MdnsTransmit> {
        self.mdns
            .poll_transmit()
            .or_else(|| self.publisher.as_mut().and_then(MdnsPublisher::poll_transmit))
    }

    /// Turns resolver events into remote candidates.
    fn drain_mdns(&mut self, now: Instant) {
        while let Some(event) = self.mdns.poll_event() {
            let (name, address) = match event {
                MdnsEvent::Resolved { name, address } => (name, Some(address)),
                MdnsEvent::Failed { name } => (name, None),
            };
            let mut i = 0;
            while i < self.unresolved.len() {
                if !self.unresolved[i].name.eq_ignore_ascii_case(&name) {
                    i += 1;
                    continue;
                }
                let u = self.unresolved.swap_remove(i);
                match address {
                    Some(ip) => {
                        let addr = SocketAddr::new(ip, u.port);
                        if let Some(c) = Candidate::remote(u.kind, addr, u.priority, &u.foundation, None) {
                            let _ = self.add_remote_candidate(now, c);
                        }
                    }
                    None => self.stats.mdns_unresolved += 1,
                }
            }
        }
        self.update_state(now);
    }

    /// The peer signalled `end-of-candidates` (RFC 8838 section 13): once
    /// every pair has failed, the agent fails instead of waiting for more.
    /// The agent knows of its own STUN gathering only: a caller that adds
    /// relayed candidates from TURN clients it runs should hold this until
    /// they are added or have failed, as `rtcwire::Rtc` does, or a
    /// relay-only agent with no pair yet fails at once.
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.remote_end_of_candidates = true;
        self.update_state(now);
    }

    fn insert_remote(&mut self, now: Instant, candidate: Candidate) -> Result<usize, IceError> {
        if self.remotes.len() >= self.config.max_remote_candidates {
            self.stats.capped += 1;
            return Err(IceError::TooManyCandidates("remote"));
        }
        self.remotes.push(candidate);
        let remote = self.remotes.len() - 1;
        for local in 0..self.locals.len() {
            if self.locals[local].pairable {
                self.add_pair(local, remote);
            }
        }
        self.schedule_checks(now);
        self.update_state(now);
        Ok(remote)
    }

    /// Pairs local and remote candidates of the same address family, keeps
    /// the list sorted by priority and capped.
    fn add_pair(&mut self, local: usize, remote: usize) -> Option<usize> {
        let l = &self.locals[local].candidate;
        let r = &self.remotes[remote];
        if l.base().is_ipv4() != r.address().is_ipv4() {
            return None;
        }
        if let Some(i) = self.find_pair(l.base(), r.address()) {
            return Some(i);
        }
        if self.pairs.len() >= self.config.max_pairs {
            self.stats.capped += 1;
            return None;
        }
        let priority = self.priority_of(l.priority(), r.priority());
        let foundation = (l.foundation().to_owned(), r.foundation().to_owned());
        // The first pair of each foundation starts Waiting, the others Frozen
        // (RFC 8445 section 6.1.2.6).
        let state = if self.pairs.iter().any(|p| p.foundation == foundation) {
            PairState::Frozen
        } else {
            PairState::Waiting
        };
        self.pairs.push(CandidatePair {
            local,
            remote,
            local_address: l.base(),
            remote_address: r.address(),
            priority,
            foundation,
            state,
            nominated: false,
            remote_nominated: false,
            check: None,
            use_candidate: false,
            cancelled: Vec::new(),
        });
        Some(self.pairs.len() - 1)
    }

    fn priority_of(&self, local: u32, remote: u32) -> u64 {
        match self.role {
            IceRole::Controlling => pair_priority(local, remote),
            IceRole::Controlled => pair_priority(remote, local),
        }
    }

    fn find_pair(&self, local: SocketAddr, remote: SocketAddr) -> Option<usize> {
        self.pairs
            .iter()
            .position(|p| p.local_address == local && p.remote_address == remote)
    }

    fn pair_addresses(&self, i: usize) -> (SocketAddr, SocketAddr) {
        (self.pairs[i].local_address, self.pairs[i].remote_address)
    }

    /// ICE restart (RFC 8445 section 9): new local credentials, a new
    /// checklist. Local candidates are kept and signalled again; the
    /// selected pair keeps carrying data until a new one is selected.
    pub fn restart(&mut self, now: Instant) -> Credentials {
        self.previous_selected = self.selected_pair();
        self.local_credentials = Credentials::random(&mut self.rng);
        self.local_key = IntegrityKey::short_term(&self.local_credentials.pwd);
        self.remote_credentials = None;
        self.remote_key = None;
        self.remotes.clear();
        self.pairs.clear();
        self.triggered.clear();
        self.remote_end_of_candidates = false;
        self.nominating = None;
        self.nominate_at = None;
        self.nomination = 0;
        self.selected = None;
        self.consent = None;
        self.consent_expired = false;
        self.next_check = None;
        // Peer-reflexive locals belong to the old checklist.
        self.locals
            .retain(|l| l.candidate.kind() != CandidateKind::PeerReflexive);
        let candidates: Vec<Candidate> = self.locals.iter().map(|l| l.candidate.clone()).collect();
        for c in candidates {
            self.push_event(IceEvent::LocalCandidate(c));
        }
        if self.gathering_complete_sent {
            self.push_event(IceEvent::GatheringComplete);
        }
        if self.state != IceConnectionState::Closed && self.previous_selected.is_none() {
            self.set_state(IceConnectionState::New);
        }
        self.update_state(now);
        self.local_credentials.clone()
    }

    /// Stops the agent: no more checks, transmits or timeouts.
    pub fn close(&mut self) {
        self.pairs.iter_mut().for_each(|p| p.check = None);
        self.gathers.clear();
        self.consent = None;
        self.next_check = None;
        self.nominate_at = None;
        self.transmits.clear();
        self.set_state(IceConnectionState::Closed);
    }

    /// Offers a datagram that arrived from `source` on local address
    /// `destination`. Returns `false` if it is not a STUN message for ICE (so
    /// the caller routes it elsewhere, e.g. to DTLS); `true` if the agent
    /// consumed it, whether it used or dropped it.
    pub fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        packet: &[u8],
    ) -> bool {
        if !rtcwire_stun::is_stun(packet) {
            return false;
        }
        if self.state == IceConnectionState::Closed {
            return true;
        }
        let msg = match Message::parse(packet) {
            Ok(m) if m.method() == Method::BINDING => m,
            Ok(_) => return false,
            Err(_) => {
                self.stats.malformed += 1;
                return true;
            }
        };
        if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
            self.stats.malformed += 1;
            return true;
        }
        match msg.class() {
            Class::Request => self.handle_request(now, source, destination, &msg),
            Class::Success | Class::Error => self.handle_response(now, source, destination, packet, &msg),
            // Binding indications are keepalives (RFC 8445 section 11).
            Class::Indication => {}
        }
        self.update_state(now);
        true
    }

    fn handle_request(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        msg: &Message<'_>,
    ) {
        let tid = msg.transaction_id();
        // USERNAME is "our-ufrag:their-ufrag" (RFC 8445 section 7.2.2).
        let username = match msg.get(AttributeType::USERNAME) {
            Some(Ok(Attribute::Username(u))) => Some(u),
            _ => None,
        };
        let Some(username) = username.filter(|_| msg.has_integrity()) else {
            self.stats.unauthenticated += 1;
            self.respond_error(now, source, destination, tid, ErrorCode::BAD_REQUEST);
            return;
        };
        let ours = username
            .split_once(':')
            .is_some_and(|(local, _)| local == self.local_credentials.ufrag);
        if !ours || msg.verify_integrity(&self.local_key).is_err() {
            self.stats.unauthenticated += 1;
            self.respond_error(now, source, destination, tid, ErrorCode::UNAUTHENTICATED);
            return;
        }
        // Only now, authenticated, may the request change anything.
        let Some(local) = self
            .locals
            .iter()
            .position(|l| l.candidate.base() == destination && l.pairable)
        else {
            return;
        };
        if !self.resolve_role_conflict(now, source, destination, msg) {
            return;
        }
        self.respond_success(now, source, destination, tid);

        let remote = match self.remotes.iter().position(|r| r.address() == source) {
            Some(r) => r,
            None => {
                let priority = match msg.get(AttributeType::PRIORITY) {
                    Some(Ok(Attribute::Priority(p))) => p,
                    _ => return,
                };
                match self.insert_remote(now, Candidate::remote_peer_reflexive(source, priority)) {
                    Ok(r) => r,
                    Err(_) => return,
                }
            }
        };
        let Some(pair) = self.add_pair(local, remote) else {
            return;
        };
        if self.config.lite {
            self.liveness(now, pair);
            if msg.contains(AttributeType::USE_CANDIDATE) {
                self.pairs[pair].state = PairState::Succeeded;
                self.pairs[pair].remote_nominated = true;
                self.select(now, pair);
            }
            return;
        }
        if msg.contains(AttributeType::USE_CANDIDATE)
            && self.role == IceRole::Controlled
            && self.accept_nomination(msg)
        {
            // With renomination, an earlier nomination loses its flag.
            if self.config.renomination {
                self.pairs.iter_mut().for_each(|p| p.remote_nominated = false);
            }
            self.pairs[pair].remote_nominated = true;
            if self.pairs[pair].state == PairState::Succeeded {
                self.select(now, pair);
                return;
            }
        }
        // Triggered check (RFC 8445 section 7.3.1.4).
        match self.pairs[pair].state {
            PairState::Succeeded => {}
            PairState::Frozen | PairState::Waiting | PairState::Failed | PairState::InProgress => {
                // A check in progress is cancelled: no more retransmissions,
                // but a late response still counts (RFC 8445 section 7.3.1.4).
                self.pairs[pair].cancel_check();
                self.pairs[pair].state = PairState::Waiting;
                if !self.triggered.contains(&pair) {
                    self.triggered.push_back(pair);
                }
                self.schedule_checks(now);
            }
        }
    }

    /// With renomination, a USE-CANDIDATE counts only if its NOMINATION is
    /// the highest seen; without it, every USE-CANDIDATE counts.
    fn accept_nomination(&mut self, msg: &Message<'_>) -> bool {
        if !self.config.renomination {
            return true;
        }
        let value = msg
            .get_raw(NOMINATION)
            .and_then(|v| <[u8; 4]>::try_from(v).ok())
            .map_or(0, u32::from_be_bytes);
        if value < self.nomination {
            return false;
        }
        self.nomination = value;
        true
    }

    /// RFC 8445 section 7.3.1.1. Returns `false` if the request was answered
    /// with 487 and must not be processed further.
    fn resolve_role_conflict(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        msg: &Message<'_>,
    ) -> bool {
        let theirs = msg.attributes().flatten().find_map(|a| match a {
            Attribute::IceControlling(t) => Some((IceRole::Controlling, t)),
            Attribute::IceControlled(t) => Some((IceRole::Controlled, t)),
            _ => None,
        });
        let Some((their_role, their_tie)) = theirs else {
            return true;
        };
        if their_role != self.role || self.config.lite {
            return true;
        }
        let we_win = self.tie_breaker >= their_tie;
        match (self.role, we_win) {
            (IceRole::Controlling, true) | (IceRole::Controlled, false) => {
                self.respond_error(
                    now,
                    source,
                    destination,
                    msg.transaction_id(),
                    ErrorCode::ROLE_CONFLICT,
                );
                false
            }
            _ => {
                self.switch_role();
                true
            }
        }
    }

    fn switch_role(&mut self) {
        self.role = match self.role {
            IceRole::Controlling => IceRole::Controlled,
            IceRole::Controlled => IceRole::Controlling,
        };
        // Pair priorities depend on who controls (RFC 8445 section 6.1.2.3).
        for i in 0..self.pairs.len() {
            let (l, r) = (self.pairs[i].local, self.pairs[i].remote);
            self.pairs[i].priority =
                self.priority_of(self.locals[l].candidate.priority(), self.remotes[r].priority());
        }
        self.push_event(IceEvent::RoleChanged(self.role));
    }

    fn handle_response(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        packet: &[u8],
        msg: &Message<'_>,
    ) {
        let tid = msg.transaction_id();
        // Server-reflexive gathering.
        if let Some(g) = self.gathers.iter_mut().find(|g| g.client.transaction_id() == tid) {
            g.client.handle_receive(now, source, packet);
            self.drain_gathers();
            return;
        }
        let Some(remote_key) = &self.remote_key else {
            self.stats.unmatched_responses += 1;
            return;
        };
        // Consent check on the selected pair.
        if let Some(c) = &mut self.consent {
            if c.check.as_ref().is_some_and(|t| t.transaction_id() == tid) {
                if msg.verify_integrity(remote_key).is_err() {
                    self.stats.unauthenticated += 1;
                    return;
                }
                if msg.class() == Class::Success {
                    c.last_fresh = now;
                }
                c.check = None;
                return;
            }
        }
        let Some(i) = self.pairs.iter().position(|p| {
            p.check.as_ref().is_some_and(|t| t.transaction_id() == tid) || p.cancelled.contains(&tid)
        }) else {
            self.stats.unmatched_responses += 1;
            return;
        };
        if msg.verify_integrity(remote_key).is_err() {
            self.stats.unauthenticated += 1;
            return;
        }
        self.pairs[i].check = None;
        self.pairs[i].cancelled.clear();
        if msg.class() == Class::Error {
            let code = match msg.get(AttributeType::ERROR_CODE) {
                Some(Ok(Attribute::ErrorCode(e))) => e.code,
                _ => 0,
            };
            if code == ErrorCode::ROLE_CONFLICT.code {
                // Switch role and check again (RFC 8445 section 7.2.5.1).
                self.switch_role();
                self.pairs[i].state = PairState::Waiting;
                self.triggered.push_back(i);
                self.schedule_checks(now);
            } else {
                self.fail_pair(i);
            }
            return;
        }
        // The response must come back on the same 5-tuple (RFC 8445
        // section 7.2.5.2.1), or the pair fails.
        let (local, remote) = self.pair_addresses(i);
        if source != remote || destination != local {
            self.fail_pair(i);
            return;
        }
        let mapped = rtcwire_stun::mapped_address(msg);
        if let Some(mapped) = mapped {
            if !self.locals.iter().any(|l| l.candidate.address() == mapped)
                && self.locals.len() < self.config.max_local_candidates
            {
                // A peer-reflexive local candidate (RFC 8445 section 7.2.5.3.1):
                // kept for diagnostics, never signalled, checks keep using the base.
                let priority = prflx_priority(self.locals[self.pairs[i].local].candidate.priority());
                self.locals.push(Local {
                    candidate: Candidate::local_peer_reflexive(mapped, local, priority),
                    pairable: false,
                });
            }
        }
        self.pair_succeeded(now, i);
    }

    fn pair_succeeded(&mut self, now: Instant, i: usize) {
        self.pairs[i].state = PairState::Succeeded;
        self.liveness(now, i);
        // Unfreeze pairs of the same foundation (RFC 8445 section 7.2.5.3.3).
        let foundation = self.pairs[i].foundation.clone();
        for p in &mut self.pairs {
            if p.state == PairState::Frozen && p.foundation == foundation {
                p.state = PairState::Waiting;
            }
        }
        let use_candidate = self.pairs[i].use_candidate;
        match self.role {
            IceRole::Controlling if use_candidate => {
                self.pairs[i].nominated = true;
                self.select(now, i);
            }
            IceRole::Controlling => {
                if self.nominating.is_none() && self.nominate_at.is_none() && self.selected.is_none() {
                    self.nominate_at = Some(now + self.config.nomination_delay);
                }
                self.maybe_nominate(now);
            }
            IceRole::Controlled if self.pairs[i].remote_nominated => self.select(now, i),
            IceRole::Controlled => {}
        }
        self.schedule_checks(now);
    }

    /// Regular nomination (RFC 8445 section 8.1.1): once the best valid pair
    /// can no longer be beaten by a pair still being checked, or the
    /// nomination delay has passed, check it again with USE-CANDIDATE.
    fn maybe_nominate(&mut self, now: Instant) {
        if self.role != IceRole::Controlling || self.nominating.is_some() {
            return;
        }
        let Some(best) = self.best_valid() else {
            return;
        };
        if let Some(selected) = self.selected {
            // Only renomination may move a selected pair, and only upward.
            if !self.config.renomination || self.pairs[best].priority <= self.pairs[selected].priority {
                return;
            }
        }
        let pending_better = self.pairs.iter().any(|p| {
            p.priority > self.pairs[best].priority
                && matches!(p.state, PairState::Waiting | PairState::InProgress)
        });
        let due = self.nominate_at.is_some_and(|t| now >= t);
        if pending_better && !due {
            return;
        }
        self.nominate_at = None;
        self.nominating = Some(best);
        self.nomination = self.nomination.saturating_add(1);
        self.pairs[best].use_candidate = true;
        self.start_check(now, best);
    }

    fn best_valid(&self) -> Option<usize> {
        (0..self.pairs.len())
            .filter(|&i| self.pairs[i].state == PairState::Succeeded)
            .max_by_key(|&i| self.pairs[i].priority)
    }

    fn fail_pair(&mut self, i: usize) {
        self.pairs[i].state = PairState::Failed;
        self.pairs[i].check = None;
        if self.nominating == Some(i) {
            self.nominating = None;
            self.pairs[i].use_candidate = false;
        }
    }

    fn select(&mut self, now: Instant, i: usize) {
        if self.selected == Some(i) {
            return;
        }
        self.selected = Some(i);
        self.previous_selected = None;
        self.nominating = None;
        self.consent = Some(Consent {
            pair: i,
            last_fresh: now,
            next_check: now + self.consent_jitter(),
            check: None,
        });
        let (local, remote) = self.pair_addresses(i);
        self.push_event(IceEvent::SelectedPairChanged { local, remote });
    }

    fn consent_jitter(&mut self) -> Duration {
        // RFC 7675 section 5.1: uniformly within 0.8 and 1.2 times the interval.
        let factor = self.rng.random_range(0.8..1.2);
        self.config.consent_interval.mul_f64(factor)
    }

    /// Records that the selected pair is alive.
    fn liveness(&mut self, now: Instant, pair: usize) {
        if let Some(c) = &mut self.consent {
            // A lite agent sends no consent checks: authenticated checks
            // from the peer are its only sign of life.
            if c.pair == pair && self.config.lite {
                c.last_fresh = now;
            }
        }
    }

    /// Starts the checklist timer if there is anything to check.
    fn schedule_checks(&mut self, now: Instant) {
        if self.config.lite || self.remote_key.is_none() || self.next_check.is_some() {
            return;
        }
        if !self.triggered.is_empty()
            || self
                .pairs
                .iter()
                .any(|p| matches!(p.state, PairState::Waiting | PairState::Frozen))
        {
            self.next_check = Some(now);
        }
    }

    /// One paced step of the checklist (RFC 8445 section 6.1.4.2).
    fn check_tick(&mut self, now: Instant) {
        let next = loop {
            if let Some(i) = self.triggered.pop_front() {
                if self.pairs.get(i).is_some_and(|p| p.state == PairState::Waiting) {
                    break Some(i);
                }
                continue;
            }
            let waiting = (0..self.pairs.len())
                .filter(|&i| self.pairs[i].state == PairState::Waiting)
                .max_by_key(|&i| self.pairs[i].priority);
            if waiting.is_some() {
                break waiting;
            }
            // Nothing waiting: unfreeze the best frozen pair.
            let frozen = (0..self.pairs.len())
                .filter(|&i| self.pairs[i].state == PairState::Frozen)
                .max_by_key(|&i| self.pairs[i].priority);
            break frozen;
        };
        match next {
            Some(i) => {
                self.start_check(now, i);
                self.next_check = Some(now + self.config.ta);
            }
            None => self.next_check = None,
        }
    }

    /// Sends a connectivity check on pair `i`.
    fn start_check(&mut self, now: Instant, i: usize) {
        let Some(request) = self.build_check(i, self.pairs[i].use_candidate) else {
            return;
        };
        let active = self
            .pairs
            .iter()
            .filter(|p| matches!(p.state, PairState::Waiting | PairState::InProgress))
            .count()
            .max(1) as u32;
        // RFC 8445 section 14.3: RTO = MAX(500 ms, Ta * (waiting + in progress)).
        let rto = (self.config.ta * active)
            .max(Duration::from_millis(500))
            .min(self.config.check_max_rto);
        let config = TransactionConfig {
            initial_rto: rto,
            max_rto: Some(self.config.check_max_rto),
            max_transmissions: self.config.check_transmissions,
            last_wait_multiplier: 2,
            ..TransactionConfig::default()
        };
        let destination = self.pairs[i].remote_address;
        if let Ok(tx) = ClientTransaction::new(now, request, destination, config) {
            self.pairs[i].cancel_check();
            self.pairs[i].check = Some(tx);
            self.pairs[i].state = PairState::InProgress;
            self.stats.checks_sent += 1;
            self.drain_check(i);
        }
    }

    fn build_check(&mut self, i: usize, use_candidate: bool) -> Option<Vec<u8>> {
        let remote = self.remote_credentials.as_ref()?;
        let key = self.remote_key.as_ref()?;
        let local = &self.locals[self.pairs[i].local].candidate;
        let mut buf = [0u8; MAX_CHECK_LEN];
        let tid = TransactionId::random(&mut self.rng);
        let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, tid).ok()?;
        let mut username = String::with_capacity(remote.ufrag.len() + 1 + self.local_credentials.ufrag.len());
        username.push_str(&remote.ufrag);
        username.push(':');
        username.push_str(&self.local_credentials.ufrag);
        b.add(&Attribute::Username(&username)).ok()?;
        b.add(&Attribute::Priority(prflx_priority(local.priority())))
            .ok()?;
        b.add(&match self.role {
            IceRole::Controlling => Attribute::IceControlling(self.tie_breaker),
            IceRole::Controlled => Attribute::IceControlled(self.tie_breaker),
        })
        .ok()?;
        if use_candidate && self.role == IceRole::Controlling {
            b.add(&Attribute::UseCandidate).ok()?;
            if self.config.renomination {
                b.add_raw(NOMINATION, &self.nomination.to_be_bytes()).ok()?;
            }
        }
        b.add_message_integrity(key).ok()?;
        b.add_fingerprint().ok()?;
        Some(b.finish().to_vec())
    }

    /// Moves a pair's due (re)transmission into the transmit queue.
    fn drain_check(&mut self, i: usize) {
        let source = self.pairs[i].local_address;
        if let Some(tx) = &mut self.pairs[i].check {
            if let Some(t) = tx.poll_transmit() {
                let transmit = Transmit {
                    source,
                    destination: t.destination,
                    contents: t.contents.to_vec(),
                };
                push_bounded(&mut self.transmits, transmit, MAX_QUEUED_TRANSMITS);
            }
        }
    }

    fn drain_gathers(&mut self) {
        let mut found = Vec::new();
        for g in &mut self.gathers {
            if let Some(t) = g.client.poll_transmit() {
                let transmit = Transmit {
                    source: g.base,
                    destination: t.destination,
                    contents: t.contents.to_vec(),
                };
                push_bounded(&mut self.transmits, transmit, MAX_QUEUED_TRANSMITS);
            }
            if let Some(BindingEvent::Mapped { address, .. }) = g.client.poll_event() {
                if address != g.base {
                    found.push((address, g.base, g.server));
                }
            }
        }
        for (address, base, server) in found {
            if self.locals.iter().any(|l| l.candidate.address() == address) {
                continue;
            }
            let preference = self
                .locals
                .iter()
                .find(|l| l.candidate.address() == base)
                .map_or(0, |l| (l.candidate.priority() >> 8) as u16);
            let candidate = Candidate::server_reflexive(address, base, server, preference);
            // Server-reflexive pairs would duplicate their base's pairs.
            let _ = self.add_local_candidate_inner(candidate);
        }
        if !self.gathering_complete_sent && self.gathers.iter().all(|g| g.client.is_done()) {
            self.gathering_complete_sent = true;
            self.gathers.clear();
            self.push_event(IceEvent::GatheringComplete);
        }
    }

    fn add_local_candidate_inner(&mut self, candidate: Candidate) -> Result<(), IceError> {
        if self.locals.len() >= self.config.max_local_candidates {
            self.stats.capped += 1;
            return Err(IceError::TooManyCandidates("local"));
        }
        self.locals.push(Local {
            candidate: candidate.clone(),
            pairable: false,
        });
        self.push_event(IceEvent::LocalCandidate(candidate));
        Ok(())
    }

    /// Advances timers: gathering, check pacing and retransmissions,
    /// nomination, consent.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == IceConnectionState::Closed {
            return;
        }
        for g in &mut self.gathers {
            if g.client.poll_timeout().is_some_and(|t| t <= now) {
                g.client.handle_timeout(now);
            }
        }
        self.drain_gathers();
        if self.mdns.poll_timeout().is_some_and(|t| t <= now) {
            self.mdns.handle_timeout(now);
        }
        if let Some(p) = &mut self.publisher {
            if p.poll_timeout().is_some_and(|t| t <= now) {
                p.handle_timeout(now);
            }
        }
        self.drain_mdns(now);

        for i in 0..self.pairs.len() {
            let Some(tx) = &mut self.pairs[i].check else {
                continue;
            };
            if tx.poll_timeout().is_some_and(|t| t <= now) {
                tx.handle_timeout(now);
                if tx.state() == TransactionState::TimedOut {
                    self.fail_pair(i);
                } else {
                    self.drain_check(i);
                }
            }
        }
        if self.next_check.is_some_and(|t| t <= now) {
            self.check_tick(now);
        }
        if self.nominate_at.is_some_and(|t| t <= now) {
            self.maybe_nominate(now);
        }
        self.consent_tick(now);
        self.update_state(now);
    }

    fn consent_tick(&mut self, now: Instant) {
        if self.config.lite {
            return;
        }
        let Some(c) = &mut self.consent else { return };
        let pair = c.pair;
        if let Some(tx) = &mut c.check {
            if tx.poll_timeout().is_some_and(|t| t <= now) {
                tx.handle_timeout(now);
            }
            if tx.state() == TransactionState::TimedOut {
                c.check = None;
            } else if let Some(t) = tx.poll_transmit() {
                let transmit = Transmit {
                    source: self.pairs[pair].local_address,
                    destination: t.destination,
                    contents: t.contents.to_vec(),
                };
                push_bounded(&mut self.transmits, transmit, MAX_QUEUED_TRANSMITS);
            }
        }
        let due = self
            .consent
            .as_ref()
            .is_some_and(|c| c.check.is_none() && c.next_check <= now);
        if !due {
            return;
        }
        let jitter = self.consent_jitter();
        let Some(request) = self.build_check(pair, false) else {
            return;
        };
        let config = TransactionConfig {
            initial_rto: Duration::from_millis(500),
            max_rto: Some(self.config.check_max_rto),
            max_transmissions: self.config.check_transmissions,
            last_wait_multiplier: 2,
            ..TransactionConfig::default()
        };
        let destination = self.pairs[pair].remote_address;
        let source = self.pairs[pair].local_address;
        if let (Ok(mut tx), Some(c)) = (
            ClientTransaction::new(now, request, destination, config),
            &mut self.consent,
        ) {
            if let Some(t) = tx.poll_transmit() {
                let transmit = Transmit {
                    source,
                    destination: t.destination,
                    contents: t.contents.to_vec(),
                };
                push_bounded(&mut self.transmits, transmit, MAX_QUEUED_TRANSMITS);
            }
            c.check = Some(tx);
            c.next_check = now + jitter;
        }
    }

    /// Recomputes the connection state from the checklist and consent.
    fn update_state(&mut self, now: Instant) {
        if self.state == IceConnectionState::Closed {
            return;
        }
        let next = if self.consent_expired {
            IceConnectionState::Failed
        } else if let Some(c) = &self.consent {
            let quiet = now.saturating_duration_since(c.last_fresh);
            if quiet >= self.config.consent_timeout {
                IceConnectionState::Failed
            } else if quiet >= self.config.disconnected_timeout {
                IceConnectionState::Disconnected
            } else if self.remote_end_of_candidates
                && self.gathering_complete_sent
                && !self.pairs.iter().any(|p| {
                    matches!(
                        p.state,
                        PairState::Waiting | PairState::InProgress | PairState::Frozen
                    )
                })
            {
                IceConnectionState::Completed
            } else {
                IceConnectionState::Connected
            }
        } else if self.previous_selected.is_some() {
            // Restarting: data still flows on the old pair.
            self.state
        } else if self.pairs.is_empty() && self.remotes.is_empty() && !self.remote_end_of_candidates {
            if self.state == IceConnectionState::Failed {
                IceConnectionState::Failed
            } else {
                IceConnectionState::New
            }
        } else if self.remote_end_of_candidates
            && self.gathers.is_empty()
            && self.unresolved.is_empty()
            && self.pairs.iter().all(|p| p.state == PairState::Failed)
        {
            IceConnectionState::Failed
        } else if self.remote_key.is_some() || self.config.lite {
            IceConnectionState::Checking
        } else {
            IceConnectionState::New
        };
        // Consent expiry is final (RFC 7675 section 5.1): stop using the pair.
        if next == IceConnectionState::Failed && self.consent.is_some() {
            self.consent_expired = true;
            self.consent = None;
            self.selected = None;
            self.pairs.iter_mut().for_each(|p| {
                p.check = None;
                p.state = PairState::Failed;
            });
            self.next_check = None;
        }
        self.set_state(next);
    }

    fn set_state(&mut self, state: IceConnectionState) {
        // W3C order: a connection passes through `connected` on its way to
        // `completed`, even when both happen at the same instant.
        if state == IceConnectionState::Completed
            && matches!(self.state, IceConnectionState::New | IceConnectionState::Checking)
        {
            self.state = IceConnectionState::Connected;
            self.push_event(IceEvent::StateChanged(IceConnectionState::Connected));
        }
        if self.state != state {
            self.state = state;
            self.push_event(IceEvent::StateChanged(state));
        }
    }

    fn push_event(&mut self, event: IceEvent) {
        push_bounded(&mut self.events, event, MAX_QUEUED_EVENTS);
    }

    fn take_token(&mut self, now: Instant) -> bool {
        let refill = self
            .tokens_refilled
            .is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1));
        if refill {
            self.tokens = self.config.max_responses_per_second;
            self.tokens_refilled = Some(now);
        }
        if self.tokens == 0 {
            self.stats.rate_limited += 1;
            return false;
        }
        self.tokens -= 1;
        true
    }

    fn respond_success(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        tid: TransactionId,
    ) {
        if !self.take_token(now) {
            return;
        }
        let mut buf = [0u8; 80];
        let Ok(mut b) = MessageBuilder::new(&mut buf, MessageType::BINDING_SUCCESS, tid) else {
            return;
        };
        let ok = b.add(&Attribute::XorMappedAddress(source)).is_ok()
            && b.add_message_integrity(&self.local_key).is_ok()
            && b.add_fingerprint().is_ok();
        if ok {
            self.stats.checks_answered += 1;
            let contents = b.finish().to_vec();
            self.queue_answer(source, destination, contents);
        }
    }

    fn respond_error(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        tid: TransactionId,
        code: ErrorCode<'_>,
    ) {
        if !self.take_token(now) {
            return;
        }
        let mut buf = [0u8; 80];
        let Ok(mut b) = MessageBuilder::new(&mut buf, MessageType::BINDING_ERROR, tid) else {
            return;
        };
        // A 487 is signed (the request was authenticated); 400 and 401 are not.
        let signed = code.code == ErrorCode::ROLE_CONFLICT.code;
        let ok = b.add(&Attribute::ErrorCode(code)).is_ok()
            && (!signed || b.add_message_integrity(&self.local_key).is_ok())
            && b.add_fingerprint().is_ok();
        if ok {
            let contents = b.finish().to_vec();
            self.queue_answer(source, destination, contents);
        }
    }

    /// Queues an answer to a request that came from `source` to our
    /// `destination`.
    fn queue_answer(&mut self, source: SocketAddr, destination: SocketAddr, contents: Vec<u8>) {
        let transmit = Transmit {
            source: destination,
            destination: source,
            contents,
        };
        push_bounded(&mut self.transmits, transmit, MAX_QUEUED_TRANSMITS);
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<IceEvent> {
        self.events.pop_front()
    }

    /// When to call [`IceAgent::handle_timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == IceConnectionState::Closed {
            return None;
        }
        let checks = self.pairs.iter().filter_map(|p| p.check.as_ref()?.poll_timeout());
        let gathers = self.gathers.iter().filter_map(|g| g.client.poll_timeout());
        let consent = self.consent.as_ref().into_iter().flat_map(|c| {
            let check = c.check.as_ref().and_then(ClientTransaction::poll_timeout);
            // The next consent check, once the one in flight is over.
            let wake = (!self.config.lite && c.check.is_none()).then_some(c.next_check);
            // Wake up when the state would change for lack of consent; an
            // instant already acted on is not returned again.
            let disconnect = matches!(
                self.state,
                IceConnectionState::Connected | IceConnectionState::Completed
            )
            .then(|| c.last_fresh + self.config.disconnected_timeout);
            let fail = c.last_fresh + self.config.consent_timeout;
            [check, wake, disconnect, Some(fail)].into_iter().flatten()
        });
        checks
            .chain(gathers)
            .chain(consent)
            .chain(self.next_check)
            .chain(self.nominate_at)
            .chain(self.mdns.poll_timeout())
            .chain(self.publisher.as_ref().and_then(MdnsPublisher::poll_timeout))
            .min()
    }
}

/// NOMINATION (draft-thatcher-ice-renomination): a comprehension-optional
/// attribute carrying the nomination's number.
const NOMINATION: AttributeType = AttributeType::new(0xC001);

/// The PRIORITY a check carries: what a peer-reflexive candidate learned
/// from it would have (RFC 8445 section 7.1.1).
fn prflx_priority(local_priority: u32) -> u32 {
    (CandidateKind::PeerReflexive.type_preference() << 24) | (local_priority & 0x00ff_ffff)
}

fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, cap: usize) {
    if queue.len() >= cap {
        queue.pop_front();
    }
    queue.push_back(item);
}
