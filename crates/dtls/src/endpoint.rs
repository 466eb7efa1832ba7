//! The DTLS endpoint: record layer, flights with retransmission, and the
//! client and server handshakes (RFC 6347 on top of RFC 5246, with RFC 5764
//! use_srtp and RFC 7627 extended master secret).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::certificate::{DtlsCertificate, Fingerprint, verify_fingerprint};
use crate::cipher::RecordCipher;
use crate::crypto::{self, CipherSuite, HashAlg, KeyExchange, constant_time_eq};
use crate::error::Error;
use crate::extensions::{Extension, ec_point_format, named_group, srtp_profile};
use crate::fragment::{Reassembler, fragment, full_message, handshake_fragments};
use crate::handshake::{
    COMPRESSION_NULL, CertificateMsg, CertificateRequest, CertificateVerify, ClientHello, ClientKeyExchange,
    Finished, HANDSHAKE_HEADER_LEN, HandshakeMessage, HandshakeType, HelloVerifyRequest, ServerHello,
    ServerKeyExchange, certificate_type,
};
use crate::record::{
    ContentType, DTLS_1_0, DTLS_1_2, RECORD_HEADER_LEN, RecordHeader, ReplayWindow, records,
};

/// An SRTP protection profile negotiated with use_srtp (RFC 5764, RFC 7714).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    /// SRTP_AES128_CM_HMAC_SHA1_80 (0x0001).
    Aes128CmHmacSha1_80,
    /// SRTP_AES128_CM_HMAC_SHA1_32 (0x0002).
    Aes128CmHmacSha1_32,
    /// SRTP_AEAD_AES_128_GCM (0x0007).
    AeadAes128Gcm,
    /// SRTP_AEAD_AES_256_GCM (0x0008).
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// The IANA number.
    pub const fn to_u16(self) -> u16 {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => srtp_profile::SRTP_AES128_CM_HMAC_SHA1_80,
            SrtpProfile::Aes128CmHmacSha1_32 => srtp_profile::SRTP_AES128_CM_HMAC_SHA1_32,
            SrtpProfile::AeadAes128Gcm => srtp_profile::SRTP_AEAD_AES_128_GCM,
            SrtpProfile::AeadAes256Gcm => srtp_profile::SRTP_AEAD_AES_256_GCM,
        }
    }

    /// From the IANA number.
    pub const fn from_u16(v: u16) -> Option<SrtpProfile> {
        Some(match v {
            srtp_profile::SRTP_AES128_CM_HMAC_SHA1_80 => SrtpProfile::Aes128CmHmacSha1_80,
            srtp_profile::SRTP_AES128_CM_HMAC_SHA1_32 => SrtpProfile::Aes128CmHmacSha1_32,
            srtp_profile::SRTP_AEAD_AES_128_GCM => SrtpProfile::AeadAes128Gcm,
            srtp_profile::SRTP_AEAD_AES_256_GCM => SrtpProfile::AeadAes256Gcm,
            _ => return None,
        })
    }

    /// Master key and master salt lengths (RFC 5764 section 4.1.2, RFC 7714
    /// section 12).
    pub const fn key_and_salt_len(self) -> (usize, usize) {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 | SrtpProfile::Aes128CmHmacSha1_32 => (16, 14),
            SrtpProfile::AeadAes128Gcm => (16, 12),
            SrtpProfile::AeadAes256Gcm => (32, 12),
        }
    }
}

/// SRTP master keys and salts exported from the handshake (RFC 5764
/// section 4.2): "EXTRACTOR-dtls_srtp", split into client and server parts.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKeyingMaterial {
    /// The negotiated profile.
    pub profile: SrtpProfile,
    /// The DTLS client's master key.
    pub client_key: Vec<u8>,
    /// The DTLS server's master key.
    pub server_key: Vec<u8>,
    /// The DTLS client's master salt.
    pub client_salt: Vec<u8>,
    /// The DTLS server's master salt.
    pub server_salt: Vec<u8>,
}

impl std::fmt::Debug for SrtpKeyingMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpKeyingMaterial")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

/// Which side of the handshake this endpoint plays. In WebRTC, `a=setup`
/// decides: `active` is the client, `passive` the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sends the ClientHello.
    Client,
    /// Answers it.
    Server,
}

/// Settings of an endpoint.
#[derive(Debug, Clone)]
pub struct DtlsConfig {
    /// Our certificate; its fingerprint goes in our SDP. Shared: one
    /// certificate usually serves every connection.
    pub certificate: std::sync::Arc<DtlsCertificate>,
    /// Largest datagram sent (DTLS records and fragments are sized to fit).
    /// Default 1200.
    pub mtu: usize,
    /// First retransmission timeout of a flight. Default 100 ms, as
    /// browsers use.
    pub initial_retransmit: Duration,
    /// Cap on the doubled timeout. Default 6.4 s.
    pub max_retransmit: Duration,
    /// Give up after this many retransmissions of one flight. Default 10.
    pub max_retransmissions: u32,
    /// Cipher suites in our order of preference.
    pub cipher_suites: Vec<CipherSuite>,
    /// SRTP profiles in our order of preference; empty for no use_srtp.
    pub srtp_profiles: Vec<SrtpProfile>,
    /// Server: answer a ClientHello without a valid cookie with a
    /// HelloVerifyRequest (RFC 6347 section 4.2.1), keeping no state.
    /// Default false: in WebRTC, ICE has already verified the peer.
    pub require_cookie: bool,
}

impl DtlsConfig {
    /// Defaults around a certificate.
    pub fn new(certificate: std::sync::Arc<DtlsCertificate>) -> DtlsConfig {
        DtlsConfig {
            certificate,
            mtu: 1200,
            initial_retransmit: Duration::from_millis(100),
            max_retransmit: Duration::from_millis(6400),
            max_retransmissions: 10,
            cipher_suites: vec![
                CipherSuite::EcdheEcdsaAes128Gcm,
                CipherSuite::EcdheEcdsaAes256Gcm,
                CipherSuite::EcdheEcdsaChacha20Poly1305,
                CipherSuite::EcdheRsaAes128Gcm,
                CipherSuite::EcdheRsaAes256Gcm,
                CipherSuite::EcdheRsaChacha20Poly1305,
            ],
            srtp_profiles: vec![
                SrtpProfile::AeadAes128Gcm,
                SrtpProfile::AeadAes256Gcm,
                SrtpProfile::Aes128CmHmacSha1_80,
                SrtpProfile::Aes128CmHmacSha1_32,
            ],
            require_cookie: false,
        }
    }
}

/// An alert (RFC 5246 section 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alert {
    /// 1 warning, 2 fatal.
    pub level: u8,
    /// The description code, e.g. 0 close_notify, 40 handshake_failure,
    /// 42 bad_certificate.
    pub description: u8,
}

impl Alert {
    /// close_notify.
    pub const CLOSE_NOTIFY: Alert = Alert {
        level: 1,
        description: 0,
    };
    const fn fatal(description: u8) -> Alert {
        Alert {
            level: 2,
            description,
        }
    }
}

/// What the endpoint tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtlsEvent {
    /// The handshake finished; application data may flow and SRTP keys can
    /// be exported.
    Connected {
        /// The cipher suite.
        cipher_suite: CipherSuite,
        /// The SRTP profile, if use_srtp was negotiated.
        srtp_profile: Option<SrtpProfile>,
    },
    /// A datagram of application data (for SCTP).
    ApplicationData(Vec<u8>),
    /// The peer sent an alert.
    AlertReceived(Alert),
    /// The connection is over: closed by either side, or failed.
    Closed {
        /// Why, if it failed.
        error: Option<Error>,
    },
}

/// The four DTLS-level states, W3C `RTCDtlsTransportState` style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsState {
    /// Handshaking.
    Connecting,
    /// Handshake done.
    Connected,
    /// close_notify sent or received.
    Closed,
    /// A fatal error.
    Failed,
}

/// A message of a flight, kept for retransmission.
#[derive(Debug, Clone)]
enum FlightItem {
    Handshake {
        msg_type: HandshakeType,
        seq: u16,
        body: Vec<u8>,
        epoch: u16,
    },
    ChangeCipherSpec,
}

/// The flight we sent last, for retransmission.
#[derive(Debug, Default)]
struct Flight {
    items: Vec<FlightItem>,
    /// When to retransmit, if waiting for the peer's next flight.
    retransmit_at: Option<Instant>,
    timeout: Duration,
    retransmissions: u32,
}

/// Where the handshake is. Each state holds what it needs and is consumed
/// by the transition out of it.
#[derive(Debug)]
enum State {
    /// Client: before `start`.
    ClientStart,
    /// Client: ClientHello sent; expecting HelloVerifyRequest or ServerHello.
    ClientHelloSent { hello: ClientHello },
    /// Client: expecting the server's Certificate.
    ExpectServerCertificate,
    /// Client: expecting ServerKeyExchange.
    ExpectServerKeyExchange { certificate: Vec<u8> },
    /// Client: expecting CertificateRequest (required: WebRTC is mutual).
    ExpectCertificateRequest { kx_public: Vec<u8>, group: u16 },
    /// Client: expecting ServerHelloDone.
    ExpectServerHelloDone { kx_public: Vec<u8>, group: u16 },
    /// Server: waiting for a (cookie-verified) ClientHello.
    ServerStart,
    /// Server: flight 4 sent; expecting the client's Certificate.
    ExpectClientCertificate { kx: KeyExchange },
    /// Server: expecting ClientKeyExchange.
    ExpectClientKeyExchange { kx: KeyExchange, certificate: Vec<u8> },
    /// Server: expecting CertificateVerify.
    ExpectCertificateVerify { certificate: Vec<u8> },
    /// Either: expecting the peer's ChangeCipherSpec.
    ExpectChangeCipherSpec,
    /// Either: expecting the peer's Finished (epoch 1).
    ExpectFinished,
    /// Handshake done.
    Connected,
    /// Closed or failed.
    Done,
}

/// Our ECDHE groups, in order of preference.
const OUR_GROUPS: [u16; 2] = [named_group::X25519, named_group::SECP256R1];

/// Alert descriptions (RFC 5246 section 7.2).
mod alert {
    pub(super) const UNEXPECTED_MESSAGE: u8 = 10;
    pub(super) const HANDSHAKE_FAILURE: u8 = 40;
    pub(super) const BAD_CERTIFICATE: u8 = 42;
    pub(super) const ILLEGAL_PARAMETER: u8 = 47;
    pub(super) const DECODE_ERROR: u8 = 50;
    pub(super) const DECRYPT_ERROR: u8 = 51;
    pub(super) const PROTOCOL_VERSION: u8 = 70;
    pub(super) const INTERNAL_ERROR: u8 = 80;
    pub(super) const NO_RENEGOTIATION: u8 = 100;
}

/// Largest handshake transcript kept (a few certificates).
const MAX_TRANSCRIPT: usize = 64 * 1024;
/// Epoch-1 records buffered while waiting for ChangeCipherSpec.
const MAX_EARLY_RECORDS: usize = 8;
/// Events and transmits queued before the owner drains them.
const MAX_QUEUED: usize = 256;

/// A sans-IO DTLS 1.2 endpoint for one peer.
///
/// Inputs: [`handle_receive`](DtlsEndpoint::handle_receive) for every DTLS
/// datagram (RFC 7983: first byte 20..=63) from the peer,
/// [`handle_timeout`](DtlsEndpoint::handle_timeout) at
/// [`poll_timeout`](DtlsEndpoint::poll_timeout); commands:
/// [`start`](DtlsEndpoint::start) (client), [`send`](DtlsEndpoint::send),
/// [`close`](DtlsEndpoint::close); outputs, drained after each call:
/// [`poll_transmit`](DtlsEndpoint::poll_transmit) and
/// [`poll_event`](DtlsEndpoint::poll_event).
#[derive(Debug)]
pub struct DtlsEndpoint {
    config: DtlsConfig,
    role: Role,
    state: State,
    expected_fingerprints: Vec<Fingerprint>,
    cookie_secret: [u8; 32],
    // Handshake context.
    transcript: Vec<u8>,
    client_random: [u8; 32],
    server_random: [u8; 32],
    suite: Option<CipherSuite>,
    srtp_profile: Option<SrtpProfile>,
    master: Option<[u8; 48]>,
    peer_certificate: Option<Vec<u8>>,
    next_send_seq: u16,
    reassembler: Reassembler,
    flight: Flight,
    // Record layer.
    write_seq: [u64; 2],
    read_epoch: u16,
    replay: [ReplayWindow; 2],
    write_cipher: Option<RecordCipher>,
    read_cipher: Option<RecordCipher>,
    pending_read_cipher: Option<RecordCipher>,
    early_records: Vec<Vec<u8>>,
    /// The peer's ChangeCipherSpec arrived before the end of its flight.
    ccs_pending: bool,
    // Outputs.
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<DtlsEvent>,
    dtls_state: DtlsState,
    /// Records dropped: malformed, failed authentication, replayed, wrong
    /// epoch.
    dropped: u64,
}

impl DtlsEndpoint {
    /// A new endpoint. A client starts with [`start`](DtlsEndpoint::start);
    /// a server waits for the ClientHello.
    pub fn new(config: DtlsConfig, role: Role) -> DtlsEndpoint {
        let mut cookie_secret = [0u8; 32];
        // A failing system RNG leaves the secret zero: cookies stay
        // unforgeable only by obscurity then, which the random fails too.
        let _ = crypto::fill_random(&mut cookie_secret);
        DtlsEndpoint {
            config,
            role,
            state: match role {
                Role::Client => State::ClientStart,
                Role::Server => State::ServerStart,
            },
            expected_fingerprints: Vec::new(),
            cookie_secret,
            transcript: Vec::new(),
            client_random: [0; 32],
            server_random: [0; 32],
            suite: None,
            srtp_profile: None,
            master: None,
            peer_certificate: None,
            next_send_seq: 0,
            reassembler: Reassembler::new(0),
            flight: Flight::default(),
            write_seq: [0; 2],
            read_epoch: 0,
            replay: [ReplayWindow::new(), ReplayWindow::new()],
            write_cipher: None,
            read_cipher: None,
            pending_read_cipher: None,
            early_records: Vec::new(),
            ccs_pending: false,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            dtls_state: DtlsState::Connecting,
            dropped: 0,
        }
    }

    /// The fingerprints the peer's certificate must match (from its SDP
    /// `a=fingerprint` lines). Set before the handshake reaches the peer's
    /// Certificate; an empty list accepts none.
    pub fn set_remote_fingerprints(&mut self, fingerprints: Vec<Fingerprint>) {
        self.expected_fingerprints = fingerprints;
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Current state.
    pub fn state(&self) -> DtlsState {
        self.dtls_state
    }

    /// Records dropped so far (malformed, unauthenticated, replayed).
    pub fn dropped_records(&self) -> u64 {
        self.dropped
    }

    /// The negotiated cipher suite, once known.
    pub fn cipher_suite(&self) -> Option<CipherSuite> {
        self.suite
    }

    /// The negotiated SRTP profile, once known.
    pub fn srtp_profile(&self) -> Option<SrtpProfile> {
        self.srtp_profile
    }

    /// The peer's certificate (DER), once received and verified.
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        self.peer_certificate.as_deref()
    }

    /// RFC 5705 keying material exporter (no context), once connected.
    pub fn export_keying_material(&self, label: &str, len: usize) -> Option<Vec<u8>> {
        if self.dtls_state != DtlsState::Connected {
            return None;
        }
        let master = self.master.as_ref()?;
        let hash = self.suite?.hash();
        let mut out = vec![0u8; len];
        crypto::export_keying_material(
            hash,
            master,
            label,
            &self.client_random,
            &self.server_random,
            &mut out,
        );
        Some(out)
    }

    /// The SRTP keys (RFC 5764 section 4.2), once connected with use_srtp.
    pub fn srtp_keying_material(&self) -> Option<SrtpKeyingMaterial> {
        let profile = self.srtp_profile?;
        let (key, salt) = profile.key_and_salt_len();
        let m = self.export_keying_material("EXTRACTOR-dtls_srtp", 2 * (key + salt))?;
        Some(SrtpKeyingMaterial {
            profile,
            client_key: m[..key].to_vec(),
            server_key: m[key..2 * key].to_vec(),
            client_salt: m[2 * key..2 * key + salt].to_vec(),
            server_salt: m[2 * key + salt..].to_vec(),
        })
    }

    /// Client: sends the ClientHello.
    pub fn start(&mut self, now: Instant) {
        if !matches!(self.state, State::ClientStart) {
            return;
        }
        if crypto::fill_random(&mut self.client_random).is_err() {
            self.fail(Error::Crypto("no randomness"), None);
            return;
        }
        let hello = self.client_hello(Vec::new());
        let item = self.handshake_item(HandshakeMessage::ClientHello(hello.clone()));
        self.send_flight(now, vec![item]);
        self.state = State::ClientHelloSent { hello };
    }

    fn client_hello(&self, cookie: Vec<u8>) -> ClientHello {
        let mut extensions = vec![
            Extension::SupportedGroups(OUR_GROUPS.to_vec()),
            Extension::EcPointFormats(vec![ec_point_format::UNCOMPRESSED]),
            Extension::SignatureAlgorithms(crypto::SUPPORTED_SIGNATURE_SCHEMES.to_vec()),
            Extension::ExtendedMasterSecret,
            Extension::RenegotiationInfo(Vec::new()),
        ];
        if !self.config.srtp_profiles.is_empty() {
            extensions.push(Extension::UseSrtp {
                profiles: self.config.srtp_profiles.iter().map(|p| p.to_u16()).collect(),
                mki: Vec::new(),
            });
        }
        ClientHello {
            client_version: DTLS_1_2,
            random: self.client_random,
            session_id: Vec::new(),
            cookie,
            cipher_suites: self.config.cipher_suites.iter().map(|s| s.to_u16()).collect(),
            compression_methods: vec![COMPRESSION_NULL],
            extensions,
        }
    }

    /// Sends application data (one record). Fails before the handshake is
    /// done or if `data` does not fit the MTU.
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        let mut datagram = Vec::with_capacity(data.len() + RECORD_HEADER_LEN + 24);
        self.seal_application_data(data, &mut datagram)?;
        self.queue_transmit(datagram);
        Ok(())
    }

    /// Seals `data` as one application-data record into `out` (cleared
    /// first): the datagram to send. The per-packet path: nothing is
    /// allocated once `out` has room for `data.len() + 37` bytes.
    pub fn seal_application_data(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if self.dtls_state != DtlsState::Connected {
            return Err(Error::UnexpectedMessage(
                "application data before the handshake finished",
            ));
        }
        let overhead = RECORD_HEADER_LEN + self.write_cipher.as_ref().map_or(0, RecordCipher::overhead);
        if data.len() + overhead > self.config.mtu {
            return Err(Error::TooLarge("application data larger than the MTU allows"));
        }
        out.clear();
        self.seal_record_into(ContentType::ApplicationData, 1, data, out)
    }

    /// Bytes of headroom [`seal_application_data_in_place`](DtlsEndpoint::seal_application_data_in_place)
    /// wants in front of the data: the record header and AES-GCM's
    /// explicit nonce.
    pub const RECORD_HEADROOM: usize = RECORD_HEADER_LEN + 8;

    /// Seals, in place, `datagram[headroom..]` as one application-data
    /// record, turning `datagram` into the datagram to send: the header
    /// (and explicit nonce) go into the headroom, the tag at the end. With
    /// `headroom` of [`RECORD_HEADROOM`](DtlsEndpoint::RECORD_HEADROOM) and
    /// 16 bytes of spare capacity nothing moves and nothing is allocated.
    pub fn seal_application_data_in_place(
        &mut self,
        datagram: &mut Vec<u8>,
        headroom: usize,
    ) -> Result<(), Error> {
        if self.dtls_state != DtlsState::Connected {
            return Err(Error::UnexpectedMessage(
                "application data before the handshake finished",
            ));
        }
        let cipher = self
            .write_cipher
            .as_ref()
            .ok_or(Error::UnexpectedMessage("protected record before keys"))?;
        let need = RECORD_HEADER_LEN + cipher.explicit_nonce_len();
        if headroom < need || datagram.len() < headroom {
            return Err(Error::TooLarge("not enough headroom for the record header"));
        }
        if datagram.len() - headroom + RECORD_HEADER_LEN + cipher.overhead() > self.config.mtu {
            return Err(Error::TooLarge("application data larger than the MTU allows"));
        }
        if headroom > need {
            datagram.drain(..headroom - need);
        }
        let sequence = self.write_seq[1];
        if sequence >= 1 << 48 {
            return Err(Error::TooLarge("record sequence numbers exhausted"));
        }
        cipher.seal_reserved(
            1,
            sequence,
            ContentType::ApplicationData.to_u8(),
            DTLS_1_2,
            datagram,
        )?;
        self.write_seq[1] += 1;
        Ok(())
    }

    /// Opens, in place, a datagram that holds exactly one application-data
    /// record, and returns its plaintext: the per-packet path, with no copy
    /// and no event. Returns `None` for anything else (handshake records,
    /// alerts, several records, a record that fails authentication or the
    /// replay check): give those to [`handle_receive`](DtlsEndpoint::handle_receive).
    pub fn open_application_data<'a>(&mut self, datagram: &'a mut [u8]) -> Option<&'a [u8]> {
        if self.dtls_state != DtlsState::Connected {
            return None;
        }
        let (header, fragment_len) = {
            let mut it = records(datagram);
            let (header, fragment) = it.next()?.ok()?;
            if it.next().is_some() {
                return None;
            }
            (header, fragment.len())
        };
        if header.content_type != ContentType::ApplicationData
            || header.epoch != 1
            || !self.replay[1].check(header.sequence)
            || RECORD_HEADER_LEN + fragment_len != datagram.len()
        {
            return None;
        }
        let cipher = self.read_cipher.as_ref()?;
        let fragment = &mut datagram[RECORD_HEADER_LEN..];
        let plaintext = cipher
            .open(
                header.epoch,
                header.sequence,
                header.content_type.to_u8(),
                header.version,
                fragment,
            )
            .ok()?;
        self.replay[1].accept(header.sequence);
        Some(plaintext)
    }

    /// Sends close_notify and closes.
    pub fn close(&mut self) {
        if matches!(self.dtls_state, DtlsState::Closed | DtlsState::Failed) {
            return;
        }
        self.send_alert(Alert::CLOSE_NOTIFY);
        self.finish(None);
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DtlsEvent> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](DtlsEndpoint::handle_timeout).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.flight.retransmit_at
    }

    /// Retransmits the last flight if the peer has not answered it.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(at) = self.flight.retransmit_at else {
            return;
        };
        if now < at {
            return;
        }
        if self.flight.retransmissions >= self.config.max_retransmissions {
            self.fail(Error::Timeout, None);
            return;
        }
        self.flight.retransmissions += 1;
        self.flight.timeout = (self.flight.timeout * 2).min(self.config.max_retransmit);
        self.flight.retransmit_at = Some(now + self.flight.timeout);
        self.transmit_flight();
    }

    /// Handles one datagram from the peer: any number of records.
    pub fn handle_receive(&mut self, now: Instant, datagram: &[u8]) {
        if matches!(self.dtls_state, DtlsState::Closed | DtlsState::Failed) {
            return;
        }
        for item in records(datagram) {
            let Ok((header, fragment)) = item else {
                self.dropped += 1;
                break;
            };
            self.handle_record(now, header, fragment);
            // Handshake messages take effect before the next record: a
            // flight's ChangeCipherSpec comes right after them in the same
            // datagram.
            self.process_handshake(now);
            if matches!(self.dtls_state, DtlsState::Closed | DtlsState::Failed) {
                return;
            }
        }
    }

    fn handle_record(&mut self, now: Instant, header: RecordHeader, fragment: &[u8]) {
        if header.epoch > 1 || (header.version != DTLS_1_2 && header.version != DTLS_1_0) {
            self.dropped += 1;
            return;
        }
        if header.epoch > self.read_epoch {
            // Records of the next epoch can overtake the ChangeCipherSpec:
            // keep a few until it arrives.
            if self.early_records.len() < MAX_EARLY_RECORDS {
                let mut record = Vec::with_capacity(RECORD_HEADER_LEN + fragment.len());
                header.write(&mut record);
                record.extend_from_slice(fragment);
                self.early_records.push(record);
            } else {
                self.dropped += 1;
            }
            return;
        }
        let window = &self.replay[usize::from(header.epoch)];
        if !window.check(header.sequence) {
            self.dropped += 1;
            return;
        }
        let mut buf = fragment.to_vec();
        let plaintext: &[u8] = if header.epoch == 0 {
            &buf
        } else {
            let Some(cipher) = &self.read_cipher else {
                self.dropped += 1;
                return;
            };
            match cipher.open(
                header.epoch,
                header.sequence,
                header.content_type as u8,
                header.version,
                &mut buf,
            ) {
                Ok(p) => p,
                Err(_) => {
                    // RFC 6347 section 4.1.2.7: invalid records are dropped.
                    self.dropped += 1;
                    return;
                }
            }
        };
        let plaintext = plaintext.to_vec();
        self.replay[usize::from(header.epoch)].accept(header.sequence);
        match header.content_type {
            ContentType::Handshake => self.handle_handshake_record(now, header.epoch, &plaintext),
            ContentType::ChangeCipherSpec => self.handle_change_cipher_spec(now, &plaintext),
            ContentType::Alert => self.handle_alert(&plaintext),
            ContentType::ApplicationData => {
                if header.epoch == 1 && self.dtls_state == DtlsState::Connected {
                    self.push_event(DtlsEvent::ApplicationData(plaintext));
                } else {
                    self.dropped += 1;
                }
            }
        }
    }

    fn handle_handshake_record(&mut self, now: Instant, epoch: u16, data: &[u8]) {
        for item in handshake_fragments(data) {
            let Ok((header, frag)) = item else {
                self.dropped += 1;
                return;
            };
            // A Finished must come protected (epoch 1), anything else in
            // epoch 0 (the peer's retransmissions keep their epoch).
            if (header.msg_type == HandshakeType::Finished) != (epoch == 1) {
                self.dropped += 1;
                continue;
            }
            // A message before the one expected was delivered already: the
            // peer is repeating a flight we answered.
            let old = header.message_seq < self.reassembler.next_seq();
            match self.reassembler.push(&header, frag) {
                Ok(false) if old => self.peer_retransmitted(now),
                Ok(_) => {}
                Err(e) => {
                    self.fail(e, Some(Alert::fatal(alert::DECODE_ERROR)));
                    return;
                }
            }
        }
    }

    /// The peer resent a flight we already processed: our answer was lost.
    fn peer_retransmitted(&mut self, now: Instant) {
        // A connected client sent the last flight it ever will (flight 5);
        // the server's repeated flight 6 needs no answer, and answering
        // would ping-pong.
        if self.role == Role::Client && self.dtls_state == DtlsState::Connected {
            return;
        }
        // Resend our last flight at once, unless our own timer is about to
        // (RFC 6347 section 4.2.4).
        if !self.flight.items.is_empty() && self.flight.retransmit_at.is_none_or(|t| t > now) {
            self.transmit_flight();
        }
    }

    fn handle_change_cipher_spec(&mut self, now: Instant, data: &[u8]) {
        if data != [1] {
            self.dropped += 1;
            return;
        }
        match self.state {
            State::ExpectChangeCipherSpec => self.apply_change_cipher_spec(now),
            // A retransmitted CCS after we moved on: the Finished that
            // follows it tells the reassembler the flight was repeated.
            State::ExpectFinished | State::Connected | State::Done => {}
            // Early: it overtook the end of the peer's flight. Apply it when
            // the handshake gets there.
            _ => self.ccs_pending = true,
        }
    }

    /// Switches reading to epoch 1 and replays the records that came early.
    fn apply_change_cipher_spec(&mut self, now: Instant) {
        self.ccs_pending = false;
        let Some(cipher) = self.pending_read_cipher.take() else {
            self.fail(
                Error::UnexpectedMessage("ChangeCipherSpec before keys"),
                Some(Alert::fatal(alert::UNEXPECTED_MESSAGE)),
            );
            return;
        };
        self.read_cipher = Some(cipher);
        self.read_epoch = 1;
        self.state = State::ExpectFinished;
        for record in std::mem::take(&mut self.early_records) {
            for (header, fragment) in records(&record).flatten() {
                self.handle_record(now, header, fragment);
            }
        }
    }

    fn handle_alert(&mut self, data: &[u8]) {
        let [level, description] = data else {
            self.dropped += 1;
            return;
        };
        let alert = Alert {
            level: *level,
            description: *description,
        };
        self.push_event(DtlsEvent::AlertReceived(alert));
        if alert == Alert::CLOSE_NOTIFY {
            // Answer close_notify with close_notify (RFC 5246 section 7.2.1).
            self.send_alert(Alert::CLOSE_NOTIFY);
            self.finish(None);
        } else if alert.level == 2 {
            self.finish(Some(Error::AlertReceived(alert.description)));
        }
    }

    /// Feeds complete handshake messages, in order, to the state machine.
    fn process_handshake(&mut self, now: Instant) {
        while let Some((msg_type, seq, body)) = self.reassembler.pop() {
            if matches!(self.dtls_state, DtlsState::Closed | DtlsState::Failed) {
                return;
            }
            let message = match HandshakeMessage::parse(msg_type, &body) {
                Ok(m) => m,
                Err(e) => {
                    self.fail(e, Some(Alert::fatal(alert::DECODE_ERROR)));
                    return;
                }
            };
            let state = std::mem::replace(&mut self.state, State::Done);
            match self.on_message(now, state, message, seq, &body) {
                Ok(next) => {
                    self.state = next;
                    if self.ccs_pending && matches!(self.state, State::ExpectChangeCipherSpec) {
                        self.apply_change_cipher_spec(now);
                    }
                }
                Err((e, alert)) => {
                    self.fail(e, alert);
                    return;
                }
            }
        }
    }

    /// Appends a received or sent handshake message to the transcript.
    fn record_transcript(
        &mut self,
        msg_type: HandshakeType,
        seq: u16,
        body: &[u8],
    ) -> Result<(), (Error, Option<Alert>)> {
        if self.transcript.len() + HANDSHAKE_HEADER_LEN + body.len() > MAX_TRANSCRIPT {
            return Err((
                Error::TooLarge("handshake transcript"),
                Some(Alert::fatal(alert::INTERNAL_ERROR)),
            ));
        }
        self.transcript
            .extend_from_slice(&full_message(msg_type, seq, body));
        Ok(())
    }

    /// One handshake message in the current state; returns the next state.
    fn on_message(
        &mut self,
        now: Instant,
        state: State,
        message: HandshakeMessage,
        seq: u16,
        body: &[u8],
    ) -> Result<State, (Error, Option<Alert>)> {
        let unexpected = |what: &'static str| {
            (
                Error::UnexpectedMessage(what),
                Some(Alert::fatal(alert::UNEXPECTED_MESSAGE)),
            )
        };
        match (state, message) {
            // ---------------------------------------------------- client
            (State::ClientHelloSent { .. }, HandshakeMessage::HelloVerifyRequest(hvr)) => {
                // RFC 6347 section 4.2.1: the ClientHello and HelloVerifyRequest
                // before the cookie are not part of the transcript.
                self.transcript.clear();
                let hello = self.client_hello(hvr.cookie);
                self.flight = Flight::default();
                let item = self.handshake_item(HandshakeMessage::ClientHello(hello.clone()));
                self.send_flight(now, vec![item]);
                Ok(State::ClientHelloSent { hello })
            }
            (State::ClientHelloSent { hello }, HandshakeMessage::ServerHello(sh)) => {
                self.transcript.clear();
                let hello_body = HandshakeMessage::ClientHello(hello)
                    .to_body()
                    .map_err(|e| (e, None))?;
                // The ClientHello with the cookie was the last one sent, as
                // message 0 or 1.
                let hello_seq = self.next_send_seq.wrapping_sub(1);
                self.record_transcript(HandshakeType::ClientHello, hello_seq, &hello_body)?;
                self.record_transcript(HandshakeType::ServerHello, seq, body)?;
                self.on_server_hello(sh)?;
                self.stop_retransmit();
                Ok(State::ExpectServerCertificate)
            }
            (State::ExpectServerCertificate, HandshakeMessage::Certificate(c)) => {
                self.record_transcript(HandshakeType::Certificate, seq, body)?;
                let certificate = self.verify_peer_certificate(c)?;
                Ok(State::ExpectServerKeyExchange { certificate })
            }
            (State::ExpectServerKeyExchange { certificate }, HandshakeMessage::ServerKeyExchange(ske)) => {
                self.record_transcript(HandshakeType::ServerKeyExchange, seq, body)?;
                // The server signs client_random || server_random || params.
                let mut signed = Vec::with_capacity(64 + ske.public_key.len() + 4);
                signed.extend_from_slice(&self.client_random);
                signed.extend_from_slice(&self.server_random);
                signed.extend_from_slice(&ske.signed_params());
                crypto::verify_signature(&certificate, ske.signature_scheme, &signed, &ske.signature)
                    .map_err(|e| (e, Some(Alert::fatal(alert::DECRYPT_ERROR))))?;
                Ok(State::ExpectCertificateRequest {
                    kx_public: ske.public_key,
                    group: ske.named_group,
                })
            }
            (
                State::ExpectCertificateRequest { kx_public, group, .. },
                HandshakeMessage::CertificateRequest(_),
            ) => {
                self.record_transcript(HandshakeType::CertificateRequest, seq, body)?;
                Ok(State::ExpectServerHelloDone { kx_public, group })
            }
            (State::ExpectCertificateRequest { .. }, HandshakeMessage::ServerHelloDone) => Err((
                Error::UnexpectedMessage(
                    "server did not request a certificate (WebRTC needs mutual authentication)",
                ),
                Some(Alert::fatal(alert::HANDSHAKE_FAILURE)),
            )),
            (State::ExpectServerHelloDone { kx_public, group, .. }, HandshakeMessage::ServerHelloDone) => {
                self.record_transcript(HandshakeType::ServerHelloDone, seq, body)?;
                self.client_flight_5(now, &kx_public, group)?;
                Ok(State::ExpectChangeCipherSpec)
            }
            // ---------------------------------------------------- server
            (State::ServerStart, HandshakeMessage::ClientHello(ch)) => {
                self.on_client_hello(now, ch, seq, body)
            }
            (State::ExpectClientCertificate { kx }, HandshakeMessage::Certificate(c)) => {
                self.stop_retransmit();
                self.record_transcript(HandshakeType::Certificate, seq, body)?;
                let certificate = self.verify_peer_certificate(c)?;
                Ok(State::ExpectClientKeyExchange { kx, certificate })
            }
            (
                State::ExpectClientKeyExchange { kx, certificate },
                HandshakeMessage::ClientKeyExchange(cke),
            ) => {
                self.record_transcript(HandshakeType::ClientKeyExchange, seq, body)?;
                self.derive_keys(kx, &cke.public_key)?;
                Ok(State::ExpectCertificateVerify { certificate })
            }
            (State::ExpectCertificateVerify { certificate }, HandshakeMessage::CertificateVerify(cv)) => {
                // Signed: every handshake message before this one.
                crypto::verify_signature(&certificate, cv.signature_scheme, &self.transcript, &cv.signature)
                    .map_err(|e| (e, Some(Alert::fatal(alert::DECRYPT_ERROR))))?;
                self.record_transcript(HandshakeType::CertificateVerify, seq, body)?;
                Ok(State::ExpectChangeCipherSpec)
            }
            // ---------------------------------------------------- both
            (State::ExpectFinished, HandshakeMessage::Finished(fin)) => {
                let hash = self.suite.map(CipherSuite::hash).unwrap_or(HashAlg::Sha256);
                let master = self.master.ok_or_else(|| unexpected("Finished before keys"))?;
                let expected = crypto::verify_data(
                    hash,
                    &master,
                    self.role == Role::Server,
                    &crypto::hash(hash, &self.transcript),
                );
                // Under cargo-fuzz the Finished is not checked either.
                if !constant_time_eq(&expected, &fin.verify_data) && !cfg!(fuzzing) {
                    return Err((Error::BadFinished, Some(Alert::fatal(alert::DECRYPT_ERROR))));
                }
                self.record_transcript(HandshakeType::Finished, seq, body)?;
                if self.role == Role::Server {
                    self.server_flight_6(now)?;
                } else {
                    // The server's Finished acknowledges our flight 5.
                    self.stop_retransmit();
                }
                self.connected();
                Ok(State::Connected)
            }
            (State::Connected, _) => {
                // Renegotiation is refused (RFC 5746 spirit): warn, stay.
                self.send_alert(Alert {
                    level: 1,
                    description: alert::NO_RENEGOTIATION,
                });
                Ok(State::Connected)
            }
            (_, m) => {
                let _ = m;
                Err(unexpected("handshake message out of order"))
            }
        }
    }

    fn on_server_hello(&mut self, sh: ServerHello) -> Result<(), (Error, Option<Alert>)> {
        if sh.server_version != DTLS_1_2 {
            return Err((
                Error::Negotiation("server chose a version other than DTLS 1.2"),
                Some(Alert::fatal(alert::PROTOCOL_VERSION)),
            ));
        }
        let suite = CipherSuite::from_u16(sh.cipher_suite)
            .filter(|s| self.config.cipher_suites.contains(s))
            .ok_or((
                Error::Negotiation("server chose a cipher suite we did not offer"),
                Some(Alert::fatal(alert::ILLEGAL_PARAMETER)),
            ))?;
        if sh.compression_method != COMPRESSION_NULL {
            return Err((
                Error::Negotiation("compression"),
                Some(Alert::fatal(alert::ILLEGAL_PARAMETER)),
            ));
        }
        let mut ems = false;
        for ext in &sh.extensions {
            match ext {
                Extension::ExtendedMasterSecret => ems = true,
                Extension::UseSrtp { profiles, .. } => {
                    let profile = profiles
                        .first()
                        .and_then(|p| SrtpProfile::from_u16(*p))
                        .filter(|p| self.config.srtp_profiles.contains(p))
                        .ok_or((
                            Error::Negotiation("server chose an SRTP profile we did not offer"),
                            Some(Alert::fatal(alert::ILLEGAL_PARAMETER)),
                        ))?;
                    self.srtp_profile = Some(profile);
                }
                _ => {}
            }
        }
        if !ems {
            return Err((
                Error::Negotiation("extended master secret is required"),
                Some(Alert::fatal(alert::HANDSHAKE_FAILURE)),
            ));
        }
        self.server_random = sh.random;
        self.suite = Some(suite);
        Ok(())
    }

    fn verify_peer_certificate(&mut self, c: CertificateMsg) -> Result<Vec<u8>, (Error, Option<Alert>)> {
        let certificate = c.certificates.into_iter().next().ok_or((
            Error::Certificate("the peer sent no certificate"),
            Some(Alert::fatal(alert::BAD_CERTIFICATE)),
        ))?;
        verify_fingerprint(&certificate, &self.expected_fingerprints)
            .map_err(|e| (e, Some(Alert::fatal(alert::BAD_CERTIFICATE))))?;
        self.peer_certificate = Some(certificate.clone());
        Ok(certificate)
    }

    /// Client flight 5: Certificate, ClientKeyExchange, CertificateVerify,
    /// ChangeCipherSpec, Finished.
    fn client_flight_5(
        &mut self,
        now: Instant,
        server_public: &[u8],
        group: u16,
    ) -> Result<(), (Error, Option<Alert>)> {
        let kx = KeyExchange::new(group).map_err(|e| (e, Some(Alert::fatal(alert::HANDSHAKE_FAILURE))))?;
        let public_key = kx.public_key().to_vec();
        let mut items = Vec::new();

        let cert = HandshakeMessage::Certificate(CertificateMsg {
            certificates: vec![self.config.certificate.der().to_vec()],
        });
        items.push(self.handshake_item_recorded(cert)?);
        items.push(
            self.handshake_item_recorded(HandshakeMessage::ClientKeyExchange(ClientKeyExchange {
                public_key,
            }))?,
        );
        // The keys need the transcript up to ClientKeyExchange (EMS).
        self.derive_keys(kx, server_public)?;
        let signature = self
            .config
            .certificate
            .sign(&self.transcript)
            .map_err(|e| (e, None))?;
        let cv = HandshakeMessage::CertificateVerify(CertificateVerify {
            signature_scheme: self.config.certificate.signature_scheme(),
            signature,
        });
        items.push(self.handshake_item_recorded(cv)?);
        items.push(FlightItem::ChangeCipherSpec);
        let finished = self.finished_message(true)?;
        items.push(self.handshake_item_recorded_epoch(finished, 1)?);
        self.send_flight(now, items);
        Ok(())
    }

    fn on_client_hello(
        &mut self,
        now: Instant,
        ch: ClientHello,
        seq: u16,
        body: &[u8],
    ) -> Result<State, (Error, Option<Alert>)> {
        if self.config.require_cookie {
            let cookie = self.cookie_for(&ch);
            if !constant_time_eq(&ch.cookie, &cookie) {
                // Stateless: answer and forget (RFC 6347 section 4.2.1).
                let hvr = HandshakeMessage::HelloVerifyRequest(HelloVerifyRequest {
                    server_version: DTLS_1_0,
                    cookie,
                });
                let body = hvr.to_body().map_err(|e| (e, None))?;
                for frag in fragment(
                    HandshakeType::HelloVerifyRequest,
                    seq,
                    &body,
                    self.max_fragment(0),
                ) {
                    if let Ok(record) = self.seal_record(ContentType::Handshake, 0, &frag) {
                        self.queue_transmit(record);
                    }
                }
                // The next ClientHello comes as message 1.
                self.reassembler = Reassembler::new(seq.wrapping_add(1));
                return Ok(State::ServerStart);
            }
        }
        // Version: a 1.2 (or 1.3-offering 1.2) client gets 1.2.
        if ch.client_version != DTLS_1_2 && ch.client_version != DTLS_1_0 {
            return Err((
                Error::Negotiation("client version"),
                Some(Alert::fatal(alert::PROTOCOL_VERSION)),
            ));
        }
        let suite = self
            .config
            .cipher_suites
            .iter()
            .copied()
            .find(|s| ch.cipher_suites.contains(&s.to_u16()) && s.uses_ecdsa())
            .ok_or((
                Error::Negotiation("no common cipher suite"),
                Some(Alert::fatal(alert::HANDSHAKE_FAILURE)),
            ))?;
        let mut ems = false;
        let mut groups: &[u16] = &[];
        let mut srtp: Option<SrtpProfile> = None;
        let mut point_formats = false;
        for ext in &ch.extensions {
            match ext {
                Extension::ExtendedMasterSecret => ems = true,
                Extension::SupportedGroups(g) => groups = g,
                Extension::EcPointFormats(_) => point_formats = true,
                Extension::UseSrtp { profiles, .. } => {
                    srtp = self
                        .config
                        .srtp_profiles
                        .iter()
                        .copied()
                        .find(|p| profiles.contains(&p.to_u16()));
                }
                Extension::RenegotiationInfo(data) if !data.is_empty() => {
                    return Err((
                        Error::Negotiation("renegotiation is refused"),
                        Some(Alert::fatal(alert::HANDSHAKE_FAILURE)),
                    ));
                }
                _ => {}
            }
        }
        if !ems {
            return Err((
                Error::Negotiation("extended master secret is required"),
                Some(Alert::fatal(alert::HANDSHAKE_FAILURE)),
            ));
        }
        // Our preference among what the client supports (no groups listed
        // means the RFC 4492 defaults, which include P-256).
        let group = OUR_GROUPS
            .into_iter()
            .find(|g| groups.is_empty() || groups.contains(g))
            .ok_or((
                Error::Negotiation("no common group"),
                Some(Alert::fatal(alert::HANDSHAKE_FAILURE)),
            ))?;
        self.client_random = ch.random;
        crypto::fill_random(&mut self.server_random)
            .map_err(|e| (e, Some(Alert::fatal(alert::INTERNAL_ERROR))))?;
        self.suite = Some(suite);
        self.srtp_profile = srtp;
        self.reassembler = Reassembler::new(seq.wrapping_add(1));
        self.next_send_seq = seq;
        self.transcript.clear();
        self.record_transcript(HandshakeType::ClientHello, seq, body)?;

        let mut extensions = vec![
            Extension::RenegotiationInfo(Vec::new()),
            Extension::ExtendedMasterSecret,
        ];
        if point_formats {
            extensions.push(Extension::EcPointFormats(vec![ec_point_format::UNCOMPRESSED]));
        }
        if let Some(p) = srtp {
            extensions.push(Extension::UseSrtp {
                profiles: vec![p.to_u16()],
                mki: Vec::new(),
            });
        }
        let sh = HandshakeMessage::ServerHello(ServerHello {
            server_version: DTLS_1_2,
            random: self.server_random,
            session_id: Vec::new(),
            cipher_suite: suite.to_u16(),
            compression_method: COMPRESSION_NULL,
            extensions,
        });
        let kx = KeyExchange::new(group).map_err(|e| (e, Some(Alert::fatal(alert::INTERNAL_ERROR))))?;
        let mut ske = ServerKeyExchange {
            named_group: group,
            public_key: kx.public_key().to_vec(),
            signature_scheme: self.config.certificate.signature_scheme(),
            signature: Vec::new(),
        };
        let mut signed = Vec::with_capacity(64 + ske.public_key.len() + 4);
        signed.extend_from_slice(&self.client_random);
        signed.extend_from_slice(&self.server_random);
        signed.extend_from_slice(&ske.signed_params());
        ske.signature = self.config.certificate.sign(&signed).map_err(|e| (e, None))?;
        let cert = HandshakeMessage::Certificate(CertificateMsg {
            certificates: vec![self.config.certificate.der().to_vec()],
        });
        let cr = HandshakeMessage::CertificateRequest(CertificateRequest {
            certificate_types: vec![certificate_type::ECDSA_SIGN, certificate_type::RSA_SIGN],
            signature_schemes: crypto::SUPPORTED_SIGNATURE_SCHEMES.to_vec(),
            authorities: Vec::new(),
        });
        let items = vec![
            self.handshake_item_recorded(sh)?,
            self.handshake_item_recorded(cert)?,
            self.handshake_item_recorded(HandshakeMessage::ServerKeyExchange(ske))?,
            self.handshake_item_recorded(cr)?,
            self.handshake_item_recorded(HandshakeMessage::ServerHelloDone)?,
        ];
        self.send_flight(now, items);
        Ok(State::ExpectClientCertificate { kx })
    }

    /// Server flight 6: ChangeCipherSpec, Finished. It stays as the last
    /// flight, resent if the client's flight 5 comes again.
    fn server_flight_6(&mut self, now: Instant) -> Result<(), (Error, Option<Alert>)> {
        let finished = self.finished_message(false)?;
        let items = vec![
            FlightItem::ChangeCipherSpec,
            self.handshake_item_recorded_epoch(finished, 1)?,
        ];
        self.send_flight(now, items);
        // Nothing answers the last flight: no timer (RFC 6347 section 4.2.4).
        self.flight.retransmit_at = None;
        Ok(())
    }

    fn finished_message(&self, client: bool) -> Result<HandshakeMessage, (Error, Option<Alert>)> {
        let hash = self.suite.map(CipherSuite::hash).unwrap_or(HashAlg::Sha256);
        let master = self.master.ok_or((
            Error::UnexpectedMessage("Finished before keys"),
            Some(Alert::fatal(alert::INTERNAL_ERROR)),
        ))?;
        let verify_data = crypto::verify_data(hash, &master, client, &crypto::hash(hash, &self.transcript));
        Ok(HandshakeMessage::Finished(Finished {
            verify_data: verify_data.to_vec(),
        }))
    }

    /// ECDHE, extended master secret, and the record keys of epoch 1.
    fn derive_keys(&mut self, kx: KeyExchange, peer_public: &[u8]) -> Result<(), (Error, Option<Alert>)> {
        let suite = self.suite.ok_or((
            Error::UnexpectedMessage("keys before a cipher suite"),
            Some(Alert::fatal(alert::INTERNAL_ERROR)),
        ))?;
        let hash = suite.hash();
        let pre_master = kx
            .agree(peer_public)
            .map_err(|e| (e, Some(Alert::fatal(alert::ILLEGAL_PARAMETER))))?;
        let session_hash = crypto::hash(hash, &self.transcript);
        let master = crypto::extended_master_secret(hash, &pre_master, &session_hash);
        let key_block = crypto::key_block(
            hash,
            &master,
            &self.client_random,
            &self.server_random,
            RecordCipher::key_block_len(suite),
        );
        let (ours, theirs) = RecordCipher::pair(suite, &key_block, self.role == Role::Client)
            .map_err(|e| (e, Some(Alert::fatal(alert::INTERNAL_ERROR))))?;
        self.master = Some(master);
        self.write_cipher = Some(ours);
        self.pending_read_cipher = Some(theirs);
        Ok(())
    }

    fn connected(&mut self) {
        self.dtls_state = DtlsState::Connected;
        if let Some(cipher_suite) = self.suite {
            self.push_event(DtlsEvent::Connected {
                cipher_suite,
                srtp_profile: self.srtp_profile,
            });
        }
    }

    /// A stateless cookie: HMAC-SHA256 of what the ClientHello fixes.
    fn cookie_for(&self, ch: &ClientHello) -> Vec<u8> {
        let mut data = Vec::with_capacity(64);
        data.extend_from_slice(&ch.random);
        data.extend_from_slice(&ch.session_id);
        for s in &ch.cipher_suites {
            data.extend_from_slice(&s.to_be_bytes());
        }
        crypto::hmac_sha256(&self.cookie_secret, &data)[..16].to_vec()
    }

    // ------------------------------------------------------------ flights

    fn handshake_item(&mut self, message: HandshakeMessage) -> FlightItem {
        // Our own ClientHello always encodes (it is far below every limit).
        let body = message.to_body().unwrap_or_default();
        let seq = self.next_send_seq;
        self.next_send_seq = self.next_send_seq.wrapping_add(1);
        FlightItem::Handshake {
            msg_type: message.msg_type(),
            seq,
            body,
            epoch: 0,
        }
    }

    fn handshake_item_recorded(
        &mut self,
        message: HandshakeMessage,
    ) -> Result<FlightItem, (Error, Option<Alert>)> {
        self.handshake_item_recorded_epoch(message, 0)
    }

    /// A flight message that also goes into the transcript.
    fn handshake_item_recorded_epoch(
        &mut self,
        message: HandshakeMessage,
        epoch: u16,
    ) -> Result<FlightItem, (Error, Option<Alert>)> {
        let body = message
            .to_body()
            .map_err(|e| (e, Some(Alert::fatal(alert::INTERNAL_ERROR))))?;
        let seq = self.next_send_seq;
        self.next_send_seq = self.next_send_seq.wrapping_add(1);
        self.record_transcript(message.msg_type(), seq, &body)?;
        Ok(FlightItem::Handshake {
            msg_type: message.msg_type(),
            seq,
            body,
            epoch,
        })
    }

    fn send_flight(&mut self, now: Instant, items: Vec<FlightItem>) {
        self.flight = Flight {
            items,
            retransmit_at: Some(now + self.config.initial_retransmit),
            timeout: self.config.initial_retransmit,
            retransmissions: 0,
        };
        self.transmit_flight();
    }

    fn stop_retransmit(&mut self) {
        self.flight.retransmit_at = None;
    }

    /// Largest handshake fragment (header included) that fits a record in
    /// one datagram at `epoch`.
    fn max_fragment(&self, epoch: u16) -> usize {
        let overhead = if epoch == 0 {
            0
        } else {
            self.write_cipher.as_ref().map_or(0, RecordCipher::overhead)
        };
        self.config
            .mtu
            .saturating_sub(RECORD_HEADER_LEN + overhead)
            .max(HANDSHAKE_HEADER_LEN + 1)
    }

    /// (Re)sends the current flight, packing records into datagrams up to
    /// the MTU, with fresh record sequence numbers.
    fn transmit_flight(&mut self) {
        let items = self.flight.items.clone();
        let mut datagram: Vec<u8> = Vec::with_capacity(self.config.mtu);
        for item in &items {
            let records = match item {
                FlightItem::ChangeCipherSpec => self
                    .seal_record(ContentType::ChangeCipherSpec, 0, &[1])
                    .into_iter()
                    .collect(),
                FlightItem::Handshake {
                    msg_type,
                    seq,
                    body,
                    epoch,
                } => {
                    let max = self.max_fragment(*epoch);
                    fragment(*msg_type, *seq, body, max)
                        .iter()
                        .filter_map(|f| self.seal_record(ContentType::Handshake, *epoch, f).ok())
                        .collect::<Vec<_>>()
                }
            };
            for record in records {
                if !datagram.is_empty() && datagram.len() + record.len() > self.config.mtu {
                    self.queue_transmit(std::mem::take(&mut datagram));
                }
                datagram.extend_from_slice(&record);
            }
        }
        if !datagram.is_empty() {
            self.queue_transmit(datagram);
        }
    }

    /// One record at `epoch`: header, then the plaintext or its AEAD
    /// protection.
    fn seal_record(
        &mut self,
        content_type: ContentType,
        epoch: u16,
        payload: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let mut record = Vec::with_capacity(RECORD_HEADER_LEN + payload.len() + 32);
        self.seal_record_into(content_type, epoch, payload, &mut record)?;
        Ok(record)
    }

    /// Appends one record at `epoch` to `out`: header, then the plaintext or
    /// its AEAD protection, sealed in place (the explicit nonce's room is
    /// left before the payload, so nothing moves).
    fn seal_record_into(
        &mut self,
        content_type: ContentType,
        epoch: u16,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let slot = usize::from(epoch.min(1));
        let sequence = self.write_seq[slot];
        if sequence >= 1 << 48 {
            return Err(Error::TooLarge("record sequence numbers exhausted"));
        }
        let version =
            if epoch == 0 && matches!(self.state, State::ClientStart | State::ClientHelloSent { .. }) {
                // Like OpenSSL and browsers: the first ClientHello's record says 1.0.
                DTLS_1_0
            } else {
                DTLS_1_2
            };
        let header = RecordHeader {
            content_type,
            version,
            epoch,
            sequence,
            length: payload.len() as u16,
        };
        let start = out.len();
        if epoch == 0 {
            header.write(out);
            out.extend_from_slice(payload);
        } else {
            let cipher = self
                .write_cipher
                .as_ref()
                .ok_or(Error::UnexpectedMessage("protected record before keys"))?;
            let nonce = cipher.explicit_nonce_len();
            let seal = |record: &mut Vec<u8>| {
                header.write(record);
                record.resize(RECORD_HEADER_LEN + nonce, 0);
                record.extend_from_slice(payload);
                cipher.seal_reserved(epoch, sequence, content_type.to_u8(), version, record)
            };
            if start == 0 {
                // The common case (one record per datagram): in `out` itself.
                if let Err(e) = seal(out) {
                    out.clear();
                    return Err(e);
                }
            } else {
                let mut record = Vec::with_capacity(RECORD_HEADER_LEN + nonce + payload.len() + 16);
                seal(&mut record)?;
                out.extend_from_slice(&record);
            }
        }
        self.write_seq[slot] += 1;
        Ok(())
    }

    fn send_alert(&mut self, alert: Alert) {
        let epoch = if self.write_cipher.is_some() && self.dtls_state == DtlsState::Connected {
            1
        } else {
            0
        };
        if let Ok(record) = self.seal_record(ContentType::Alert, epoch, &[alert.level, alert.description]) {
            self.queue_transmit(record);
        }
    }

    fn fail(&mut self, error: Error, alert: Option<Alert>) {
        if let Some(alert) = alert {
            self.send_alert(alert);
        }
        self.dtls_state = DtlsState::Failed;
        self.state = State::Done;
        self.flight = Flight::default();
        self.push_event(DtlsEvent::Closed { error: Some(error) });
    }

    fn finish(&mut self, error: Option<Error>) {
        self.dtls_state = if error.is_some() {
            DtlsState::Failed
        } else {
            DtlsState::Closed
        };
        self.state = State::Done;
        self.flight = Flight::default();
        self.push_event(DtlsEvent::Closed { error });
    }

    fn queue_transmit(&mut self, datagram: Vec<u8>) {
        if self.transmits.len() >= MAX_QUEUED {
            self.transmits.pop_front();
        }
        self.transmits.push_back(datagram);
    }

    fn push_event(&mut self, event: DtlsEvent) {
        if self.events.len() >= MAX_QUEUED {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }
}
