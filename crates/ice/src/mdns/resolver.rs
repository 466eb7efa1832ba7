//! One-shot mDNS queries for `.local` names (RFC 6762 sections 5 and 10).

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::message::{DNS_TYPE_A, DNS_TYPE_AAAA, DnsBuilder, DnsMessage, DnsSection};
use super::{
    MAX_QUEUED_EVENTS, MAX_QUEUED_TRANSMITS, MDNS_IPV4, MDNS_IPV6, MDNS_PORT, MdnsError, MdnsTransmit,
    name_key, push_bounded, validate_local_name,
};

/// Longest time a record stays cached, whatever TTL it came with: 75
/// minutes, RFC 6762 section 10's recommended TTL for records other than
/// host names. A hostile response cannot pin an entry for longer.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(75 * 60);

/// Most records of one message the resolver looks at; real answers carry
/// one or two.
pub const MAX_RECORDS_PER_MESSAGE: usize = 64;

/// A cache-flush record only flushes records older than this (RFC 6762
/// section 10.2), so that a responder's answer split across packets
/// survives.
const FLUSH_GRACE: Duration = Duration::from_secs(1);

/// The resolver's settings. `Default` gives RFC 6762 timings and a 5 s
/// timeout, like browsers.
#[derive(Debug, Clone)]
pub struct MdnsConfig {
    /// A query that got no answer for this long fails. Default 5 s.
    pub query_timeout: Duration,
    /// Transmissions of one query, the first included (at least one is
    /// always sent). Transmissions that would fall at or after the timeout
    /// are not sent. Default 3: at 0 s, 1 s and 3 s.
    pub max_transmissions: u32,
    /// Gap between the first and second transmission; each following gap
    /// doubles (RFC 6762 section 5.2). Default 1 s.
    pub initial_interval: Duration,
    /// Send queries to 224.0.0.251:5353. Default true. If neither `ipv4`
    /// nor `ipv6` is set, IPv4 is used.
    pub ipv4: bool,
    /// Send queries to \[ff02::fb\]:5353. Default false.
    pub ipv6: bool,
    /// Set the unicast-response (QU) bit on the first transmission of each
    /// query (RFC 6762 section 5.4). Default false, as browsers do.
    pub unicast_response: bool,
    /// Most queries pending at once. Default 32.
    pub max_pending: usize,
    /// Most cached addresses; past it the least recently received is
    /// evicted. Default 256.
    pub max_cache: usize,
}

impl Default for MdnsConfig {
    fn default() -> Self {
        MdnsConfig {
            query_timeout: Duration::from_secs(5),
            max_transmissions: 3,
            initial_interval: Duration::from_secs(1),
            ipv4: true,
            ipv6: false,
            unicast_response: false,
            max_pending: 32,
            max_cache: 256,
        }
    }
}

/// What a resolver tells its owner, drained with
/// [`MdnsResolver::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MdnsEvent {
    /// A pending query was answered.
    Resolved {
        /// The name as given to [`MdnsResolver::query`].
        name: String,
        /// The first address of a wanted family that arrived.
        address: IpAddr,
    },
    /// A query got no answer within [`MdnsConfig::query_timeout`].
    Failed {
        /// The name as given to [`MdnsResolver::query`].
        name: String,
    },
}

/// Counters of what a resolver or publisher sent, dropped or ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MdnsStats {
    /// Datagrams that are not valid DNS messages.
    pub malformed: u64,
    /// Valid messages ignored whole: a source port other than 5353, or a
    /// non-zero opcode or rcode.
    pub ignored: u64,
    /// Records for names nobody asked for (resolver).
    pub unsolicited: u64,
    /// Cache entries evicted to make room (resolver).
    pub evicted: u64,
    /// Query transmissions (resolver).
    pub queries_sent: u64,
    /// Responses sent: answers, announcements and goodbyes (publisher).
    pub responses_sent: u64,
    /// Answers held back by the one-per-second limit (publisher).
    pub rate_limited: u64,
    /// Transmits or events dropped because the owner did not drain them.
    pub dropped: u64,
}

/// A query waiting for its answer.
#[derive(Debug)]
struct Pending {
    /// As the caller gave it.
    name: String,
    key: String,
    want_ipv6: bool,
    transmissions: u32,
    /// When the next transmission is due, if one is left.
    next_transmit: Option<Instant>,
    /// The gap after the next transmission.
    gap: Duration,
    deadline: Instant,
}

#[derive(Debug)]
struct CacheEntry {
    key: String,
    address: IpAddr,
    received: Instant,
    expires: Instant,
}

/// A sans-IO mDNS resolver for `.local` names (one-shot queries, RFC 6762
/// section 5.1, with retransmission) with a TTL cache.
///
/// Like every rtcwire state machine it is driven by its owner:
/// - inputs: [`handle_receive`](MdnsResolver::handle_receive) for every
///   datagram that arrives on the owner's mDNS socket, and
///   [`handle_timeout`](MdnsResolver::handle_timeout) once
///   [`poll_timeout`](MdnsResolver::poll_timeout)'s instant has passed;
/// - commands: [`query`](MdnsResolver::query),
///   [`cancel`](MdnsResolver::cancel), and the read-only
///   [`lookup`](MdnsResolver::lookup);
/// - outputs, drained after every input or command:
///   [`poll_transmit`](MdnsResolver::poll_transmit),
///   [`poll_event`](MdnsResolver::poll_event) and `poll_timeout`.
///
/// Every query ends in exactly one event, [`MdnsEvent::Resolved`] or
/// [`MdnsEvent::Failed`], unless it is cancelled.
#[derive(Debug)]
pub struct MdnsResolver {
    config: MdnsConfig,
    pending: Vec<Pending>,
    cache: Vec<CacheEntry>,
    transmits: VecDeque<MdnsTransmit>,
    events: VecDeque<MdnsEvent>,
    stats: MdnsStats,
    /// Reused to spell out names of incoming records.
    scratch: String,
}

impl MdnsResolver {
    /// A resolver with nothing pending and an empty cache.
    pub fn new(config: MdnsConfig) -> MdnsResolver {
        MdnsResolver {
            config,
            pending: Vec::new(),
            cache: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: MdnsStats::default(),
            scratch: String::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &MdnsConfig {
        &self.config
    }

    /// Starts resolving `name`, a `.local` host name (see
    /// [`validate_local_name`](crate::validate_local_name)). The resolver
    /// asks for its A record, and also for its AAAA record if `want_ipv6`;
    /// the first address of a wanted family resolves it.
    ///
    /// If the cache already holds a wanted address, [`MdnsEvent::Resolved`]
    /// is queued at once and nothing is sent. If the name is already
    /// pending, nothing changes except that `want_ipv6` widens the query
    /// from its next transmission on. Otherwise the first query is queued
    /// at once.
    pub fn query(&mut self, now: Instant, name: &str, want_ipv6: bool) -> Result<(), MdnsError> {
        validate_local_name(name)?;
        self.expire(now);
        let key = name_key(name);
        if let Some(p) = self.pending.iter_mut().find(|p| p.key == key) {
            p.want_ipv6 |= want_ipv6;
            return Ok(());
        }
        if let Some(address) = self.cached(&key, want_ipv6) {
            self.push_event(MdnsEvent::Resolved {
                name: name.to_string(),
                address,
            });
            return Ok(());
        }
        if self.pending.len() >= self.config.max_pending {
            return Err(MdnsError::TooManyQueries);
        }
        let deadline = now.checked_add(self.config.query_timeout).unwrap_or(now);
        let mut pending = Pending {
            name: name.to_string(),
            key,
            want_ipv6,
            transmissions: 0,
            next_transmit: Some(now),
            gap: self.config.initial_interval,
            deadline,
        };
        self.transmit(now, &mut pending);
        self.pending.push(pending);
        Ok(())
    }

    /// Stops resolving `name`; no event will come for it. Returns whether
    /// it was pending.
    pub fn cancel(&mut self, name: &str) -> bool {
        let key = name_key(name);
        let before = self.pending.len();
        self.pending.retain(|p| p.key != key);
        self.pending.len() != before
    }

    /// Whether `name` is being resolved.
    pub fn is_pending(&self, name: &str) -> bool {
        let key = name_key(name);
        self.pending.iter().any(|p| p.key == key)
    }

    /// Number of pending queries.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Number of cached addresses, expired ones included until the next
    /// input removes them.
    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    /// The most recently received unexpired address of `name`, of either
    /// family.
    pub fn lookup(&self, now: Instant, name: &str) -> Option<IpAddr> {
        let key = name_key(name);
        self.cache
            .iter()
            .filter(|e| e.key == key && e.expires > now)
            .max_by_key(|e| e.received)
            .map(|e| e.address)
    }

    /// Counters.
    pub fn stats(&self) -> MdnsStats {
        self.stats
    }

    /// Feeds a datagram that arrived on the mDNS socket from `source`.
    ///
    /// Returns whether it was a DNS response: it is then consumed, even if
    /// none of it was used. Returns `false` for queries (hand them to an
    /// [`MdnsPublisher`](crate::MdnsPublisher)) and for datagrams that do
    /// not parse.
    pub fn handle_receive(&mut self, now: Instant, source: SocketAddr, packet: &[u8]) -> bool {
        let message = match DnsMessage::parse(packet) {
            Ok(m) => m,
            Err(_) => {
                self.stats.malformed += 1;
                return false;
            }
        };
        if !message.is_response() {
            return false;
        }
        // RFC 6762 section 6: responses from another port are not mDNS
        // responses; sections 18.3 and 18.11: non-zero opcode or rcode
        // must be ignored.
        if source.port() != MDNS_PORT || message.opcode() != 0 || message.rcode() != 0 {
            self.stats.ignored += 1;
            return true;
        }
        self.expire(now);
        let mut name = std::mem::take(&mut self.scratch);
        let records = message
            .records()
            .filter(|r| r.section != DnsSection::Authority)
            .take(MAX_RECORDS_PER_MESSAGE);
        for record in records {
            name.clear();
            if !record.name.write_lowercase(&mut name) {
                self.stats.unsolicited += 1;
                continue;
            }
            self.accept(now, &name, record.address, record.ttl, record.cache_flush);
        }
        self.scratch = name;
        true
    }

    /// One A or AAAA record for the lower-case `key`.
    fn accept(&mut self, now: Instant, key: &str, address: IpAddr, ttl: u32, cache_flush: bool) {
        let pending = self.pending.iter().position(|p| p.key == key);
        if pending.is_none() && !self.cache.iter().any(|e| e.key == key) {
            // Never trust an answer nobody asked for: it would let anyone
            // on the link fill the cache.
            self.stats.unsolicited += 1;
            return;
        }
        // RFC 2181 section 8: a TTL with the top bit set means zero.
        let ttl = if ttl >= 1 << 31 { 0 } else { ttl };
        if ttl == 0 {
            self.cache.retain(|e| !(e.key == key && e.address == address));
            return;
        }
        if cache_flush {
            self.cache.retain(|e| {
                !(e.key == key
                    && e.address.is_ipv4() == address.is_ipv4()
                    && e.address != address
                    && now.saturating_duration_since(e.received) >= FLUSH_GRACE)
            });
        }
        let lifetime = Duration::from_secs(u64::from(ttl)).min(MAX_CACHE_TTL);
        let expires = now.checked_add(lifetime).unwrap_or(now);
        if let Some(e) = self
            .cache
            .iter_mut()
            .find(|e| e.key == key && e.address == address)
        {
            e.received = now;
            e.expires = expires;
        } else if self.config.max_cache > 0 {
            if self.cache.len() >= self.config.max_cache {
                let oldest = self
                    .cache
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, e)| e.received)
                    .map(|(i, _)| i);
                if let Some(i) = oldest {
                    self.cache.remove(i);
                    self.stats.evicted += 1;
                }
            }
            self.cache.push(CacheEntry {
                key: key.to_string(),
                address,
                received: now,
                expires,
            });
        }
        if let Some(i) = pending {
            let wanted = self
                .pending
                .get(i)
                .is_some_and(|p| address.is_ipv4() || p.want_ipv6);
            if wanted {
                let p = self.pending.remove(i);
                self.push_event(MdnsEvent::Resolved {
                    name: p.name,
                    address,
                });
            }
        }
    }

    /// Retransmits due queries and fails expired ones.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire(now);
        let mut pending = std::mem::take(&mut self.pending);
        pending.retain_mut(|p| {
            if p.deadline <= now {
                self.push_event(MdnsEvent::Failed {
                    name: std::mem::take(&mut p.name),
                });
                return false;
            }
            if p.next_transmit.is_some_and(|at| at <= now) {
                self.transmit(now, p);
            }
            true
        });
        self.pending = pending;
    }

    /// Queues a transmission of `p` and schedules the next one.
    fn transmit(&mut self, now: Instant, p: &mut Pending) {
        let Some(scheduled) = p.next_transmit else {
            return;
        };
        let first = p.transmissions == 0;
        let mut query = DnsBuilder::query();
        let qu = first && self.config.unicast_response;
        let name = p.name.strip_suffix('.').unwrap_or(&p.name);
        // The name was validated, so the builder accepts it.
        let mut built = query.question(name, DNS_TYPE_A, qu).is_ok();
        if p.want_ipv6 {
            built &= query.question(name, DNS_TYPE_AAAA, qu).is_ok();
        }
        if built {
            let contents = query.finish();
            let v6 = self.config.ipv6;
            let v4 = self.config.ipv4 || !v6;
            for (wanted, destination) in [(v4, MDNS_IPV4), (v6, MDNS_IPV6)] {
                if wanted {
                    let transmit = MdnsTransmit {
                        destination,
                        contents: contents.clone(),
                    };
                    if push_bounded(&mut self.transmits, transmit, MAX_QUEUED_TRANSMITS) {
                        self.stats.dropped += 1;
                    }
                }
            }
            self.stats.queries_sent += 1;
        }
        p.transmissions += 1;
        p.next_transmit = None;
        if p.transmissions < self.config.max_transmissions {
            if let Some(next) = scheduled.checked_add(p.gap) {
                // Late handling must not bunch transmissions together.
                let next = next.max(now);
                if next < p.deadline {
                    p.next_transmit = Some(next);
                }
            }
            p.gap = p.gap.saturating_mul(2);
        }
    }

    fn cached(&self, key: &str, want_ipv6: bool) -> Option<IpAddr> {
        self.cache
            .iter()
            .filter(|e| e.key == key && (e.address.is_ipv4() || want_ipv6))
            .max_by_key(|e| e.received)
            .map(|e| e.address)
    }

    fn expire(&mut self, now: Instant) {
        self.cache.retain(|e| e.expires > now);
    }

    fn push_event(&mut self, event: MdnsEvent) {
        if push_bounded(&mut self.events, event, MAX_QUEUED_EVENTS) {
            self.stats.dropped += 1;
        }
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<MdnsTransmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<MdnsEvent> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](MdnsResolver::handle_timeout): the
    /// next retransmission or failure of a pending query. Cache expiry
    /// needs no wake-up; expired entries are never returned.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending
            .iter()
            .map(|p| p.next_transmit.map_or(p.deadline, |t| t.min(p.deadline)))
            .min()
    }
}
