//! Client transactions: retransmission and timeout (RFC 8489 section 6.2).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::message::{Class, Message, TransactionId};
use crate::{Error, Transmit};

/// Retransmission parameters (RFC 8489 section 6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionConfig {
    /// First retransmission timeout (RTO); each retransmission doubles it.
    /// RFC default 500 ms.
    pub initial_rto: Duration,
    /// Cap on the doubled RTO, if any. The RFC sets none; ICE and TURN
    /// clients may want one.
    pub max_rto: Option<Duration>,
    /// Rc: how many times the request is sent in all, over unreliable
    /// transports. RFC default 7.
    pub max_transmissions: u32,
    /// Rm: after the last transmission, wait this many initial RTOs for a
    /// response. RFC default 16.
    pub last_wait_multiplier: u32,
    /// Over TCP or TLS the request is sent once and never retransmitted.
    pub reliable: bool,
    /// Ti: how long to wait for a response over a reliable transport.
    /// RFC default 39.5 s.
    pub reliable_timeout: Duration,
}

impl Default for TransactionConfig {
    fn default() -> Self {
        TransactionConfig {
            initial_rto: Duration::from_millis(500),
            max_rto: None,
            max_transmissions: 7,
            last_wait_multiplier: 16,
            reliable: false,
            reliable_timeout: Duration::from_millis(39_500),
        }
    }
}

/// Where a client transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionState {
    /// Waiting for a response; may retransmit.
    InProgress,
    /// A response with the transaction's ID arrived.
    Completed {
        /// Its class: [`Class::Success`] or [`Class::Error`].
        class: Class,
        /// Round-trip time, when the request was not retransmitted (Karn's
        /// rule: after a retransmission the sample would be ambiguous).
        rtt: Option<Duration>,
    },
    /// No response in time (RFC 8489 section 6.2.1).
    TimedOut,
}

/// One STUN client transaction: it owns the encoded request, says when to
/// (re)send it and when to give up.
///
/// The sans-IO contract, as in every rtcwire state machine: feed it
/// `handle_response` (for messages whose transaction ID it
/// [matches](ClientTransaction::transaction_id) and that the caller has
/// authenticated, if the request used integrity) and `handle_timeout` at the
/// instant `poll_timeout` gave; drain `poll_transmit` after each call.
///
/// ```
/// use std::time::{Duration, Instant};
/// use rtcwire_stun::{ClientTransaction, MessageBuilder, MessageType, TransactionConfig, TransactionId, TransactionState};
///
/// let mut buf = [0u8; 20];
/// let req = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId::new([1; 12]))?.finish().to_vec();
/// let start = Instant::now();
/// let mut tx = ClientTransaction::new(start, req, "192.0.2.1:3478".parse()?, TransactionConfig::default())?;
/// let mut sent = 0;
/// while tx.state() == TransactionState::InProgress {
///     while tx.poll_transmit().is_some() { sent += 1; }
///     let Some(at) = tx.poll_timeout() else { break };
///     tx.handle_timeout(at);
/// }
/// assert_eq!(sent, 7);
/// assert_eq!(tx.state(), TransactionState::TimedOut);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientTransaction<B = Vec<u8>> {
    request: B,
    destination: SocketAddr,
    transaction_id: TransactionId,
    config: TransactionConfig,
    first_sent: Instant,
    /// Transmissions so far, including one that is due but not yet polled.
    transmissions: u32,
    /// The interval that follows the last transmission.
    rto: Duration,
    transmit_due: bool,
    /// When to retransmit next, or give up if no transmissions are left.
    next_timeout: Instant,
    state: TransactionState,
}

impl<B: AsRef<[u8]>> ClientTransaction<B> {
    /// Starts a transaction for `request` (an encoded STUN request), to be
    /// sent to `destination` right away.
    pub fn new(
        now: Instant,
        request: B,
        destination: SocketAddr,
        config: TransactionConfig,
    ) -> Result<ClientTransaction<B>, Error> {
        let transaction_id = Message::parse(request.as_ref())?.transaction_id();
        let first_wait = if config.reliable {
            config.reliable_timeout
        } else if config.max_transmissions <= 1 {
            config.initial_rto * config.last_wait_multiplier
        } else {
            config.initial_rto
        };
        Ok(ClientTransaction {
            request,
            destination,
            transaction_id,
            config,
            first_sent: now,
            transmissions: 1,
            rto: config.initial_rto,
            transmit_due: true,
            next_timeout: now + first_wait,
            state: TransactionState::InProgress,
        })
    }

    /// The ID responses must carry.
    pub fn transaction_id(&self) -> TransactionId {
        self.transaction_id
    }

    /// Where the request goes.
    pub fn destination(&self) -> SocketAddr {
        self.destination
    }

    /// The encoded request.
    pub fn request(&self) -> &[u8] {
        self.request.as_ref()
    }

    /// Current state.
    pub fn state(&self) -> TransactionState {
        self.state
    }

    /// How many times the request has been handed out for sending.
    pub fn transmissions(&self) -> u32 {
        self.transmissions - u32::from(self.transmit_due)
    }

    /// The request to send, when a (re)transmission is due.
    pub fn poll_transmit(&mut self) -> Option<Transmit<'_>> {
        if !self.transmit_due || self.state != TransactionState::InProgress {
            return None;
        }
        self.transmit_due = false;
        Some(Transmit {
            destination: self.destination,
            contents: self.request.as_ref(),
        })
    }

    /// When to call [`ClientTransaction::handle_timeout`]; `None` once the
    /// transaction is over.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        (self.state == TransactionState::InProgress).then_some(self.next_timeout)
    }

    /// Retransmits or times out if `now` has reached
    /// [`ClientTransaction::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state != TransactionState::InProgress || now < self.next_timeout {
            return;
        }
        if self.config.reliable || self.transmissions >= self.config.max_transmissions {
            self.state = TransactionState::TimedOut;
            return;
        }
        self.transmissions += 1;
        self.transmit_due = true;
        let doubled = self.rto.saturating_mul(2);
        self.rto = self.config.max_rto.map_or(doubled, |max| doubled.min(max));
        let wait = if self.transmissions >= self.config.max_transmissions {
            self.config
                .initial_rto
                .saturating_mul(self.config.last_wait_multiplier)
        } else {
            self.rto
        };
        self.next_timeout = now + wait;
    }

    /// Offers a received response. Returns `true` and completes the
    /// transaction if `response` is a success or error response with this
    /// transaction's ID; otherwise the message is not for this transaction
    /// and nothing changes.
    ///
    /// If the request carried MESSAGE-INTEGRITY, authenticate the response
    /// *before* offering it: a response that fails the check must be
    /// discarded and the transaction left running (RFC 8489 section 9.1.4).
    pub fn handle_response(&mut self, now: Instant, response: &Message<'_>) -> bool {
        if self.state != TransactionState::InProgress
            || response.transaction_id() != self.transaction_id
            || !matches!(response.class(), Class::Success | Class::Error)
        {
            return false;
        }
        let rtt = (self.transmissions() == 1).then(|| now.saturating_duration_since(self.first_sent));
        self.state = TransactionState::Completed {
            class: response.class(),
            rtt,
        };
        true
    }
}
