//! The Binding method (RFC 8489 section 3): a client that learns its
//! reflexive address from a server, and a stateless server.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::attributes::{Attribute, AttributeType, ErrorCode};
use crate::builder::MessageBuilder;
use crate::integrity::IntegrityKey;
use crate::message::{Class, Message, MessageType, Method, TransactionId};
use crate::transaction::{ClientTransaction, TransactionConfig, TransactionState};
use crate::{Error, Transmit};

/// Largest Binding request the client builds: the header, USERNAME, SOFTWARE,
/// MESSAGE-INTEGRITY and FINGERPRINT fit with room to spare.
const MAX_REQUEST_LEN: usize = 20 + 516 + 768 + 24 + 8;

/// What a [`BindingClient`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingEvent {
    /// The server saw us at `address`.
    Mapped {
        /// The reflexive transport address from XOR-MAPPED-ADDRESS (or
        /// MAPPED-ADDRESS from an RFC 3489 server).
        address: SocketAddr,
        /// Round-trip time, when measurable (no retransmission happened).
        rtt: Option<Duration>,
    },
    /// The transaction failed.
    Failed(BindingFailure),
}

/// Why a Binding transaction failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingFailure {
    /// No response after every retransmission.
    #[error("no response from the STUN server")]
    TimedOut,
    /// The server answered with an error.
    #[error("STUN server answered {code}")]
    ErrorResponse {
        /// The ERROR-CODE number, e.g. 401.
        code: u16,
    },
    /// A success response without a usable address.
    #[error("success response without XOR-MAPPED-ADDRESS")]
    NoAddress,
}

/// Options of a Binding request.
#[derive(Debug, Clone, Default)]
pub struct BindingRequestOptions<'a> {
    /// USERNAME to send (with `key`, for short-term credentials).
    pub username: Option<&'a str>,
    /// Key for MESSAGE-INTEGRITY; responses must then be authenticated too.
    pub key: Option<IntegrityKey>,
    /// SOFTWARE to send.
    pub software: Option<&'a str>,
    /// Retransmission parameters.
    pub transaction: TransactionConfig,
}

/// A client that asks a STUN server for our reflexive address: one Binding
/// transaction with retransmissions (RFC 8489 sections 6.2 and 6.3.4).
///
/// Feed it every datagram that might be the response (`handle_receive`
/// returns `false` for one that is not), call `handle_timeout` at
/// `poll_timeout`, drain `poll_transmit`, and read the outcome from
/// `poll_event`. Responses that fail FINGERPRINT or (when a key is set)
/// MESSAGE-INTEGRITY are dropped and counted, never trusted.
#[derive(Debug)]
pub struct BindingClient {
    transaction: ClientTransaction<Vec<u8>>,
    key: Option<IntegrityKey>,
    event: Option<BindingEvent>,
    done: bool,
    rejected: u64,
}

impl BindingClient {
    /// Builds the request and starts the transaction; the first transmission
    /// is ready at once.
    pub fn new<R: rand::CryptoRng + ?Sized>(
        now: Instant,
        rng: &mut R,
        server: SocketAddr,
        options: BindingRequestOptions<'_>,
    ) -> Result<BindingClient, Error> {
        let mut buf = [0u8; MAX_REQUEST_LEN];
        let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId::random(rng))?;
        if let Some(username) = options.username {
            b.add(&Attribute::Username(username))?;
        }
        if let Some(software) = options.software {
            b.add(&Attribute::Software(software))?;
        }
        if let Some(key) = &options.key {
            b.add_message_integrity(key)?;
        }
        b.add_fingerprint()?;
        let request = b.finish().to_vec();
        Ok(BindingClient {
            transaction: ClientTransaction::new(now, request, server, options.transaction)?,
            key: options.key,
            event: None,
            done: false,
            rejected: 0,
        })
    }

    /// The transaction ID of the request.
    pub fn transaction_id(&self) -> TransactionId {
        self.transaction.transaction_id()
    }

    /// Responses dropped because they failed authentication or were
    /// malformed.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Offers a received datagram. Returns `true` if it was a response to
    /// this client's request (accepted or rejected), `false` if it is for
    /// someone else.
    pub fn handle_receive(&mut self, now: Instant, source: SocketAddr, packet: &[u8]) -> bool {
        let Ok(msg) = Message::parse(packet) else {
            return false;
        };
        if msg.transaction_id() != self.transaction.transaction_id() || msg.method() != Method::BINDING {
            return false;
        }
        if self.done || source != self.transaction.destination() {
            self.rejected += 1;
            return true;
        }
        let authentic = (!msg.has_fingerprint() || msg.verify_fingerprint().is_ok())
            && self.key.as_ref().is_none_or(|k| msg.verify_integrity(k).is_ok());
        if !authentic || !self.transaction.handle_response(now, &msg) {
            self.rejected += 1;
            return true;
        }
        let rtt = match self.transaction.state() {
            TransactionState::Completed { rtt, .. } => rtt,
            _ => None,
        };
        self.done = true;
        self.event = Some(match msg.class() {
            Class::Error => {
                let code = match msg.get(AttributeType::ERROR_CODE) {
                    Some(Ok(Attribute::ErrorCode(e))) => e.code,
                    _ => 0,
                };
                BindingEvent::Failed(BindingFailure::ErrorResponse { code })
            }
            _ => match mapped_address(&msg) {
                Some(address) => BindingEvent::Mapped { address, rtt },
                None => BindingEvent::Failed(BindingFailure::NoAddress),
            },
        });
        true
    }

    /// Retransmits or gives up.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.transaction.handle_timeout(now);
        if !self.done && self.transaction.state() == TransactionState::TimedOut {
            self.done = true;
            self.event = Some(BindingEvent::Failed(BindingFailure::TimedOut));
        }
    }

    /// The request, when it is due to be (re)sent.
    pub fn poll_transmit(&mut self) -> Option<Transmit<'_>> {
        self.transaction.poll_transmit()
    }

    /// When to call `handle_timeout`.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.transaction.poll_timeout()
    }

    /// The outcome, once.
    pub fn poll_event(&mut self) -> Option<BindingEvent> {
        self.event.take()
    }

    /// Whether the transaction is over.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from an old server.
pub fn mapped_address(msg: &Message<'_>) -> Option<SocketAddr> {
    let mut fallback = None;
    for attr in msg.attributes().flatten() {
        match attr {
            Attribute::XorMappedAddress(a) => return Some(a),
            Attribute::MappedAddress(a) => fallback = Some(a),
            _ => {}
        }
    }
    fallback
}

/// Short-term credentials a [`BindingResponder`] checks.
#[derive(Debug, Clone)]
struct Credentials {
    username: String,
    key: IntegrityKey,
}

/// A stateless Binding server (RFC 8489 section 6.3): it answers each
/// request from the request alone and keeps nothing between datagrams.
///
/// ```
/// use rtcwire_stun::{BindingResponder, Message, MessageBuilder, MessageType, TransactionId, mapped_address};
///
/// let responder = BindingResponder::new().software("rtcwire example");
/// let mut req = [0u8; 28];
/// let mut b = MessageBuilder::new(&mut req, MessageType::BINDING_REQUEST, TransactionId::new([3; 12]))?;
/// b.add_fingerprint()?;
/// let len = b.finish().len();
///
/// let client = "203.0.113.9:40000".parse()?;
/// let mut out = [0u8; 128];
/// let n = responder.respond(&req[..len], client, &mut out)?.ok_or("a request gets an answer")?;
/// let resp = Message::parse(&out[..n])?;
/// assert_eq!(mapped_address(&resp), Some(client));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BindingResponder {
    credentials: Option<Credentials>,
    software: Option<String>,
}

impl BindingResponder {
    /// A responder that answers anyone, like a public STUN server.
    pub fn new() -> BindingResponder {
        BindingResponder::default()
    }

    /// Requires short-term credentials (RFC 8489 section 9.1.3): requests
    /// must carry this USERNAME and a MESSAGE-INTEGRITY made with `password`;
    /// responses are signed with it.
    pub fn short_term_credentials(mut self, username: &str, password: &str) -> BindingResponder {
        self.credentials = Some(Credentials {
            username: username.to_owned(),
            key: IntegrityKey::short_term(password),
        });
        self
    }

    /// SOFTWARE to put in responses.
    pub fn software(mut self, software: &str) -> BindingResponder {
        self.software = Some(software.to_owned());
        self
    }

    /// Like [`respond`](BindingResponder::respond), into a new `Vec`: the
    /// answer to send back to `source`, or `None` for anything to drop or
    /// leave unanswered. For tests and simple servers; `respond` is the
    /// allocation-free path.
    pub fn respond_to_vec(&self, request: &[u8], source: SocketAddr) -> Option<Vec<u8>> {
        let mut out = [0u8; 1500];
        let n = self.respond(request, source, &mut out).ok().flatten()?;
        out.get(..n).map(<[u8]>::to_vec)
    }

    /// Answers one datagram. `Ok(Some(n))`: send `out[..n]` back to
    /// `source`. `Ok(None)`: nothing to answer (an indication or a response).
    /// `Err`: the datagram is not a well-formed STUN message or fails its
    /// FINGERPRINT; drop it silently, as RFC 8489 section 6.3 says.
    pub fn respond(
        &self,
        request: &[u8],
        source: SocketAddr,
        out: &mut [u8],
    ) -> Result<Option<usize>, Error> {
        let msg = Message::parse(request)?;
        if msg.class() != Class::Request {
            return Ok(None);
        }
        if msg.has_fingerprint() {
            msg.verify_fingerprint()?;
        }
        let tid = msg.transaction_id();
        let error_type = MessageType::new(msg.method(), Class::Error);
        let fingerprint = msg.has_fingerprint();

        let mut unknown = [AttributeType::new(0); 16];
        let mut n_unknown = 0;
        for (slot, t) in unknown.iter_mut().zip(msg.unknown_comprehension_required()) {
            *slot = t;
            n_unknown += 1;
        }
        if n_unknown > 0 {
            let mut b = MessageBuilder::new(out, error_type, tid)?;
            b.add(&Attribute::ErrorCode(ErrorCode::UNKNOWN_ATTRIBUTE))?;
            b.add_unknown_attributes(&unknown[..n_unknown])?;
            return self.finish(b, None, fingerprint);
        }
        if msg.method() != Method::BINDING {
            return self.error(out, error_type, tid, ErrorCode::BAD_REQUEST, fingerprint);
        }
        let mut sign_with = None;
        if let Some(creds) = &self.credentials {
            let username = match msg.get(AttributeType::USERNAME) {
                Some(Ok(Attribute::Username(u))) => Some(u),
                _ => None,
            };
            let Some(username) = username.filter(|_| msg.has_integrity()) else {
                return self.error(out, error_type, tid, ErrorCode::BAD_REQUEST, fingerprint);
            };
            if username != creds.username || msg.verify_integrity(&creds.key).is_err() {
                return self.error(out, error_type, tid, ErrorCode::UNAUTHENTICATED, fingerprint);
            }
            sign_with = Some(&creds.key);
        }
        let mut b = MessageBuilder::new(out, MessageType::BINDING_SUCCESS, tid)?;
        b.add(&Attribute::XorMappedAddress(source))?;
        self.finish(b, sign_with, fingerprint)
    }

    fn error(
        &self,
        out: &mut [u8],
        message_type: MessageType,
        tid: TransactionId,
        code: ErrorCode<'_>,
        fingerprint: bool,
    ) -> Result<Option<usize>, Error> {
        let mut b = MessageBuilder::new(out, message_type, tid)?;
        b.add(&Attribute::ErrorCode(code))?;
        self.finish(b, None, fingerprint)
    }

    fn finish(
        &self,
        mut b: MessageBuilder<'_>,
        key: Option<&IntegrityKey>,
        fingerprint: bool,
    ) -> Result<Option<usize>, Error> {
        if let Some(software) = &self.software {
            b.add(&Attribute::Software(software))?;
        }
        if let Some(key) = key {
            b.add_message_integrity(key)?;
        }
        if fingerprint {
            b.add_fingerprint()?;
        }
        Ok(Some(b.len()))
    }
}
