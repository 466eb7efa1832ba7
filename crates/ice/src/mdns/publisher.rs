//! A responder for random `.local` host names (RFC 6762 sections 6, 8.3
//! and 10.1), the way browsers hide their host candidates.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::RngCore;

use super::message::{DNS_CLASS_IN, DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_ANY, DnsBuilder, DnsMessage};
use super::resolver::{MAX_RECORDS_PER_MESSAGE, MdnsStats};
use super::{
    MAX_QUEUED_TRANSMITS, MDNS_IPV4, MDNS_IPV6, MDNS_PORT, MdnsError, MdnsTransmit, group_for, name_key,
    push_bounded, validate_local_name,
};

/// RFC 6762 section 6: a record is multicast at most once per second.
const MIN_MULTICAST_INTERVAL: Duration = Duration::from_secs(1);
/// RFC 6762 section 8.3: announcements are at least one second apart.
const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(1);
/// Class ANY in a question.
const CLASS_ANY: u16 = 255;

/// The publisher's settings.
#[derive(Debug, Clone)]
pub struct MdnsPublisherConfig {
    /// TTL of the records, in seconds. Default 120, as browsers use (RFC
    /// 6762 section 10 recommends 120 s for host records).
    pub ttl: u32,
    /// Unsolicited announcements after publishing, one second apart (RFC
    /// 6762 section 8.3 asks for at least two). Default 2; 0 disables them.
    pub announcements: u32,
    /// Announce and say goodbye on 224.0.0.251:5353. Default true. Answers
    /// to queries go to the group of the query's family whatever this says.
    pub ipv4: bool,
    /// Announce and say goodbye on \[ff02::fb\]:5353. Default false.
    pub ipv6: bool,
    /// Most names published at once. Default 16.
    pub max_names: usize,
}

impl Default for MdnsPublisherConfig {
    fn default() -> Self {
        MdnsPublisherConfig {
            ttl: 120,
            announcements: 2,
            ipv4: true,
            ipv6: false,
            max_names: 16,
        }
    }
}

#[derive(Debug)]
struct Published {
    /// Lower case, no trailing dot.
    name: String,
    address: IpAddr,
    last_multicast: Option<Instant>,
    last_unicast: Option<Instant>,
    announcements_left: u32,
    next_announcement: Option<Instant>,
    /// A multicast answer held back by the one-per-second rule: when it is
    /// due and to which group.
    deferred: Option<(Instant, SocketAddr)>,
}

/// A sans-IO mDNS responder for the local host candidates it publishes
/// under random `<uuid-v4>.local` names.
///
/// Driven like every rtcwire state machine:
/// - inputs: [`handle_receive`](MdnsPublisher::handle_receive) for every
///   datagram that arrives on the owner's mDNS socket, and
///   [`handle_timeout`](MdnsPublisher::handle_timeout) once
///   [`poll_timeout`](MdnsPublisher::poll_timeout)'s instant has passed
///   (announcements);
/// - commands: [`publish`](MdnsPublisher::publish),
///   [`publish_name`](MdnsPublisher::publish_name),
///   [`unpublish`](MdnsPublisher::unpublish);
/// - output, drained after every input or command:
///   [`poll_transmit`](MdnsPublisher::poll_transmit) and `poll_timeout`.
///
/// Answers are unique records (cache-flush bit set), sent at once (RFC
/// 6762 section 6). A name is multicast at most once per second: an answer
/// asked for sooner is sent when the second has passed (at most one such
/// answer waits per name), so that a querier's retransmission one second
/// later is still answered. Unicast answers (to QU questions) are limited
/// to one per name per second too; the ones over the limit are dropped.
///
/// ```
/// use std::net::SocketAddr;
/// use std::time::Instant;
/// use rand::SeedableRng;
/// use rtcwire_ice::{DnsBuilder, DnsMessage, DNS_TYPE_A, MdnsPublisher, MdnsPublisherConfig, MDNS_IPV4};
///
/// let now = Instant::now();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// let config = MdnsPublisherConfig { announcements: 0, ..MdnsPublisherConfig::default() };
/// let mut publisher = MdnsPublisher::new(config);
/// let ip: std::net::IpAddr = "192.168.1.2".parse()?;
/// let name = publisher.publish(now, &mut rng, ip)?;
/// assert!(name.ends_with(".local") && name.len() == 36 + 6);
/// // ... signal the candidate as `<name> <port> typ host` ...
///
/// let mut query = DnsBuilder::query();
/// query.question(&name, DNS_TYPE_A, false)?;
/// let from: SocketAddr = "192.168.1.7:5353".parse()?;
/// assert!(publisher.handle_receive(now, from, query.as_bytes()));
/// let answer = publisher.poll_transmit().ok_or("no answer")?;
/// assert_eq!(answer.destination, MDNS_IPV4);
/// let record = DnsMessage::parse(&answer.contents)?.records().next().ok_or("no record")?;
/// assert_eq!(record.address, ip);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MdnsPublisher {
    config: MdnsPublisherConfig,
    names: Vec<Published>,
    transmits: VecDeque<MdnsTransmit>,
    stats: MdnsStats,
}

impl MdnsPublisher {
    /// A publisher with no names.
    pub fn new(config: MdnsPublisherConfig) -> MdnsPublisher {
        MdnsPublisher {
            config,
            names: Vec::new(),
            transmits: VecDeque::new(),
            stats: MdnsStats::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &MdnsPublisherConfig {
        &self.config
    }

    /// Publishes `address` under a new random `<uuid-v4>.local` name (lower
    /// case, as browsers make them) and returns the name. The first
    /// announcement, if any are configured, is queued at once.
    pub fn publish<R: RngCore + ?Sized>(
        &mut self,
        now: Instant,
        rng: &mut R,
        address: IpAddr,
    ) -> Result<String, MdnsError> {
        let mut name = random_uuid_name(rng);
        // 122 random bits: a repeat means a broken generator, but a second
        // try costs nothing.
        for _ in 0..4 {
            if !self.names.iter().any(|p| p.name == name) {
                break;
            }
            name = random_uuid_name(rng);
        }
        self.publish_name(now, &name, address)?;
        Ok(name)
    }

    /// Publishes `address` under `name`, a `.local` host name of the
    /// caller's choosing (see [`validate_local_name`](crate::validate_local_name)).
    /// Publishing a name again replaces its address and announces it anew.
    pub fn publish_name(&mut self, now: Instant, name: &str, address: IpAddr) -> Result<(), MdnsError> {
        validate_local_name(name)?;
        let key = name_key(name);
        let index = match self.names.iter().position(|p| p.name == key) {
            Some(i) => i,
            None if self.names.len() >= self.config.max_names => return Err(MdnsError::TooManyNames),
            None => {
                self.names.push(Published {
                    name: key,
                    address,
                    last_multicast: None,
                    last_unicast: None,
                    announcements_left: 0,
                    next_announcement: None,
                    deferred: None,
                });
                self.names.len() - 1
            }
        };
        if let Some(p) = self.names.get_mut(index) {
            p.address = address;
            p.announcements_left = self.config.announcements;
            p.next_announcement = (p.announcements_left > 0).then_some(now);
        }
        self.handle_timeout(now);
        Ok(())
    }

    /// Stops answering for `name` and multicasts a goodbye (TTL 0, RFC 6762
    /// section 10.1) so that caches drop it. Returns whether it was
    /// published.
    pub fn unpublish(&mut self, name: &str) -> bool {
        let key = name_key(name);
        let Some(i) = self.names.iter().position(|p| p.name == key) else {
            return false;
        };
        let p = self.names.remove(i);
        self.announce(&p.name, p.address, 0);
        true
    }

    /// The published names and their addresses.
    pub fn names(&self) -> impl Iterator<Item = (&str, IpAddr)> {
        self.names.iter().map(|p| (p.name.as_str(), p.address))
    }

    /// Counters.
    pub fn stats(&self) -> MdnsStats {
        self.stats
    }

    /// Feeds a datagram that arrived on the mDNS socket from `source`.
    ///
    /// Returns whether it was a DNS query: it is then consumed, even if it
    /// asked for none of our names. Returns `false` for responses (hand
    /// them to an [`MdnsResolver`](crate::MdnsResolver)) and for datagrams
    /// that do not parse.
    pub fn handle_receive(&mut self, now: Instant, source: SocketAddr, packet: &[u8]) -> bool {
        let message = match DnsMessage::parse(packet) {
            Ok(m) => m,
            Err(_) => {
                self.stats.malformed += 1;
                return false;
            }
        };
        if message.is_response() {
            return false;
        }
        // Legacy unicast queries (RFC 6762 section 6.7, source port other
        // than 5353) are not supported; opcode must be 0 (section 18.3).
        if source.port() != MDNS_PORT || message.opcode() != 0 {
            self.stats.ignored += 1;
            return true;
        }
        let mut multicast = DnsBuilder::response();
        let mut unicast = DnsBuilder::response();
        let (mut any_multicast, mut any_unicast) = (false, false);
        let ttl = self.config.ttl;
        for question in message.questions().take(MAX_RECORDS_PER_MESSAGE) {
            if question.qclass != DNS_CLASS_IN && question.qclass != CLASS_ANY {
                continue;
            }
            for p in &mut self.names {
                let type_matches = match question.qtype {
                    DNS_TYPE_A => p.address.is_ipv4(),
                    DNS_TYPE_AAAA => p.address.is_ipv6(),
                    DNS_TYPE_ANY => true,
                    _ => false,
                };
                if !type_matches || !question.name.matches(&p.name) {
                    continue;
                }
                // Two questions of one query (A and ANY) need one answer.
                if p.last_multicast == Some(now) || p.last_unicast == Some(now) {
                    continue;
                }
                let recent = |last: Option<Instant>, within: Duration| {
                    last.is_some_and(|t| now.saturating_duration_since(t) < within)
                };
                // RFC 6762 section 5.4: answer a QU question by unicast
                // only if the record was multicast within a quarter of its
                // TTL, so that other caches stay fresh.
                let quarter_ttl = Duration::from_secs(u64::from(ttl / 4));
                let use_unicast = question.unicast_response && recent(p.last_multicast, quarter_ttl);
                if use_unicast {
                    if recent(p.last_unicast, MIN_MULTICAST_INTERVAL) {
                        self.stats.rate_limited += 1;
                    } else if unicast.answer(&p.name, p.address, ttl, true).is_ok() {
                        p.last_unicast = Some(now);
                        any_unicast = true;
                    }
                } else if let Some(last) = p
                    .last_multicast
                    .filter(|&t| recent(Some(t), MIN_MULTICAST_INTERVAL))
                {
                    self.stats.rate_limited += 1;
                    if p.deferred.is_none() {
                        let at = last.checked_add(MIN_MULTICAST_INTERVAL).unwrap_or(now);
                        p.deferred = Some((at, group_for(source.ip())));
                    }
                } else if multicast.answer(&p.name, p.address, ttl, true).is_ok() {
                    p.last_multicast = Some(now);
                    p.deferred = None;
                    any_multicast = true;
                }
            }
        }
        if any_multicast {
            self.send(group_for(source.ip()), multicast.finish());
        }
        if any_unicast {
            self.send(source, unicast.finish());
        }
        true
    }

    /// Sends due announcements and held-back answers.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut answers = Vec::new();
        for p in &mut self.names {
            if let Some((_, group)) = p.deferred.filter(|(at, _)| *at <= now) {
                p.deferred = None;
                p.last_multicast = Some(now);
                answers.push((p.name.clone(), p.address, group));
            }
        }
        for (name, address, group) in answers {
            let mut response = DnsBuilder::response();
            if response.answer(&name, address, self.config.ttl, true).is_ok() {
                self.send(group, response.finish());
            }
        }
        let mut due = Vec::new();
        for p in &mut self.names {
            if p.next_announcement.is_some_and(|at| at <= now) {
                p.announcements_left = p.announcements_left.saturating_sub(1);
                p.next_announcement = (p.announcements_left > 0)
                    .then(|| now.checked_add(ANNOUNCE_INTERVAL))
                    .flatten();
                p.last_multicast = Some(now);
                // The announcement answers any held-back query too.
                p.deferred = None;
                due.push((p.name.clone(), p.address));
            }
        }
        for (name, address) in due {
            self.announce(&name, address, self.config.ttl);
        }
    }

    /// Multicasts one record to the configured groups.
    fn announce(&mut self, name: &str, address: IpAddr, ttl: u32) {
        let mut response = DnsBuilder::response();
        if response.answer(name, address, ttl, true).is_err() {
            return;
        }
        let contents = response.finish();
        let v6 = self.config.ipv6;
        let v4 = self.config.ipv4 || !v6;
        for (wanted, group) in [(v4, MDNS_IPV4), (v6, MDNS_IPV6)] {
            if wanted {
                self.send(group, contents.clone());
            }
        }
    }

    fn send(&mut self, destination: SocketAddr, contents: Vec<u8>) {
        self.stats.responses_sent += 1;
        let transmit = MdnsTransmit {
            destination,
            contents,
        };
        if push_bounded(&mut self.transmits, transmit, MAX_QUEUED_TRANSMITS) {
            self.stats.dropped += 1;
        }
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<MdnsTransmit> {
        self.transmits.pop_front()
    }

    /// When to call [`handle_timeout`](MdnsPublisher::handle_timeout): the
    /// next announcement or held-back answer.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.names
            .iter()
            .flat_map(|p| [p.next_announcement, p.deferred.map(|(at, _)| at)])
            .flatten()
            .min()
    }
}

/// A random version-4 UUID (RFC 9562 section 5.4) under `.local`, lower
/// case.
fn random_uuid_name<R: RngCore + ?Sized>(rng: &mut R) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut name = String::with_capacity(42);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            name.push('-');
        }
        let _ = write!(name, "{byte:02x}");
    }
    name.push_str(".local");
    name
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn uuid_names_are_version_4() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let name = random_uuid_name(&mut rng);
            assert_eq!(validate_local_name(&name), Ok(()));
            let uuid = name.strip_suffix(".local").unwrap();
            let groups: Vec<_> = uuid.split('-').map(str::len).collect();
            assert_eq!(groups, [8, 4, 4, 4, 12]);
            assert_eq!(&uuid[14..15], "4");
            assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"));
            assert_eq!(uuid, uuid.to_ascii_lowercase());
        }
    }
}
