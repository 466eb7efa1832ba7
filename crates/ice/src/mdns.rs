//! Multicast DNS (RFC 6762) for `.local` ICE host candidates.
//!
//! Browsers hide their host addresses behind random names: Chromium, Safari
//! and Firefox signal a host candidate as `<uuid-v4>.local` and answer mDNS
//! queries for that name on the local link (draft-ietf-mmusic-mdns-ice-candidates).
//! To pair with such a candidate, the agent's owner resolves the name with an
//! [`MdnsResolver`]; to hide its own host addresses the same way, it publishes
//! them with an [`MdnsPublisher`]. Both are sans-IO state machines like the
//! rest of the crate: they never open a socket or read a clock. Their
//! transmits ([`MdnsTransmit`]) go to the mDNS group ([`MDNS_IPV4`] or
//! [`MDNS_IPV6`]) or, for unicast replies, to one querier; the owner sends
//! them from a UDP socket bound to port 5353 that joined the group (with
//! `SO_REUSEADDR`/`SO_REUSEPORT`, since the operating system's own responder
//! usually holds the port too), and hands every datagram that arrives on it
//! to `handle_receive`.
//!
//! # Driving a resolver
//!
//! ```
//! use std::net::{IpAddr, SocketAddr};
//! use std::time::{Duration, Instant};
//! use rtcwire_ice::{DnsBuilder, MdnsConfig, MdnsEvent, MdnsResolver, MDNS_IPV4};
//!
//! let start = Instant::now();
//! let mut resolver = MdnsResolver::new(MdnsConfig::default());
//! let name = "6b3a4f8e-1b5c-4c1e-9c3a-2f5e7d1a0b4c.local";
//! resolver.query(start, name, false)?;
//!
//! // The first query goes out at once, to the IPv4 group.
//! let query = resolver.poll_transmit().ok_or("no query")?;
//! assert_eq!(query.destination, MDNS_IPV4);
//! // ... socket.send_to(&query.contents, query.destination) ...
//! assert_eq!(resolver.poll_timeout(), Some(start + Duration::from_secs(1)));
//!
//! // The browser answers (here built by hand, as it would put it on the wire).
//! let mut answer = DnsBuilder::response();
//! let ip: IpAddr = "192.168.1.10".parse()?;
//! answer.answer(name, ip, 120, true)?;
//! let from: SocketAddr = "192.168.1.10:5353".parse()?;
//! assert!(resolver.handle_receive(start + Duration::from_millis(3), from, &answer.finish()));
//!
//! assert_eq!(resolver.poll_event(), Some(MdnsEvent::Resolved { name: name.to_string(), address: ip }));
//! assert_eq!(resolver.lookup(start + Duration::from_secs(60), name), Some(ip));
//! assert_eq!(resolver.poll_timeout(), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The owner polls the resolver like the agent: after every input or
//! command, drain [`poll_transmit`](MdnsResolver::poll_transmit) and
//! [`poll_event`](MdnsResolver::poll_event), then call
//! [`handle_timeout`](MdnsResolver::handle_timeout) once
//! [`poll_timeout`](MdnsResolver::poll_timeout)'s instant has passed.
//!
//! # What is implemented
//!
//! - A DNS message codec (RFC 1035 section 4 with RFC 6762 section 18):
//!   [`DnsMessage`] parses a datagram zero-copy and checks every bound up
//!   front (header, questions, answer, authority and additional records,
//!   compression pointers that must point strictly backwards with a hop
//!   limit, names of at most 255 bytes, A and AAAA records of class IN with
//!   the cache-flush bit, questions with the unicast-response bit; records of
//!   other types or classes are skipped, trailing bytes are an error).
//!   [`DnsBuilder`] writes queries and authoritative responses without
//!   name compression, up to [`MAX_MESSAGE_LEN`] bytes.
//! - One-shot queries (section 5.1 and 5.2): the first query at once, then
//!   retransmissions 1 s, 2 s, 4 s, ... apart up to a configured count, and
//!   failure after a timeout. The unicast-response (QU) bit can be set on
//!   the first query (section 5.4). Query IDs are zero (section 18.1).
//! - Response handling: responses whose source port is not 5353 are ignored
//!   (section 6), as are responses with a non-zero opcode or rcode (section
//!   18), and records for names nobody asked for. Names compare ASCII
//!   case-insensitively (section 16).
//! - A cache honouring TTLs (section 10), the cache-flush bit (section
//!   10.2: other addresses of the same name and family received more than
//!   one second earlier are flushed) and goodbye packets (TTL 0, section
//!   10.1; the record is removed at once rather than after one second).
//! - A responder for unique host records (section 6): immediate answers,
//!   at most one multicast answer per name per second, unicast answers to
//!   QU questions, announcements (section 8.3) and goodbyes on unpublish
//!   (section 10.1), with TTL 120 s as browsers use.
//!
//! # What is not
//!
//! - Probing and conflict resolution (section 8.1, 8.2, 9): published names
//!   are random UUIDs (122 random bits), so a collision is not expected.
//! - Continuous querying, cache maintenance queries at 80 % of the TTL,
//!   known-answer suppression, duplicate question and answer suppression
//!   (sections 5.2, 7) and passive observation of failures (section 10.5).
//! - Negative responses (NSEC, section 6.1): a question for a family the
//!   name has no address of is not answered.
//! - Legacy unicast queries (section 6.7): queries whose source port is not
//!   5353 are ignored.
//! - Checking that a response comes from the local link (section 11: IP
//!   TTL 255 or an on-link source address): the socket layer knows that,
//!   the resolver does not. Drop off-link datagrams before
//!   `handle_receive`.
//! - Service discovery (RFC 6763), record types other than A and AAAA,
//!   truncated (TC) multi-packet known-answer lists, and name compression
//!   in the writer.
//!
//! # Bounds
//!
//! The resolver keeps at most [`MdnsConfig::max_pending`] pending queries
//! and [`MdnsConfig::max_cache`] cached addresses (the oldest is evicted),
//! caps record TTLs at [`MAX_CACHE_TTL`], looks at no more than
//! [`MAX_RECORDS_PER_MESSAGE`] records of a message, and queues at most 256
//! transmits and 256 events (the oldest is dropped, and counted). The
//! publisher holds at most [`MdnsPublisherConfig::max_names`] names and
//! queues at most 256 transmits.

mod message;
mod publisher;
mod resolver;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

pub use message::{
    DNS_CLASS_IN, DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_ANY, DnsBuilder, DnsMessage, DnsName, DnsQuestion,
    DnsRecord, DnsSection, MAX_MESSAGE_LEN, MAX_NAME_LEN, MAX_POINTER_HOPS,
};
pub use publisher::{MdnsPublisher, MdnsPublisherConfig};
pub use resolver::{MAX_CACHE_TTL, MAX_RECORDS_PER_MESSAGE, MdnsConfig, MdnsEvent, MdnsResolver, MdnsStats};

/// The mDNS port.
pub const MDNS_PORT: u16 = 5353;

/// The IPv4 mDNS group, 224.0.0.251:5353.
pub const MDNS_IPV4: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 251), MDNS_PORT));

/// The IPv6 mDNS group, \[ff02::fb\]:5353 (link-local: the owner picks the
/// interface when it sends).
pub const MDNS_IPV6: SocketAddr = SocketAddr::V6(SocketAddrV6::new(
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb),
    MDNS_PORT,
    0,
    0,
));

/// Most transmits a resolver or publisher queues before its owner drains
/// them; past it the oldest is dropped.
const MAX_QUEUED_TRANSMITS: usize = 256;
/// Most events a resolver queues before its owner drains them; past it the
/// oldest is dropped.
const MAX_QUEUED_EVENTS: usize = 256;

/// Why an mDNS message could not be parsed or written, or why a command
/// was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MdnsError {
    /// The message ends in the middle of a field.
    #[error("truncated DNS message")]
    Truncated,
    /// Bytes follow the last record the header announces.
    #[error("trailing bytes after the last DNS record")]
    TrailingBytes,
    /// A label length byte starts with `01` or `10` (RFC 6891 extended
    /// labels, RFC 1035 reserved).
    #[error("unsupported DNS label type")]
    LabelType,
    /// A name is longer than [`MAX_NAME_LEN`] bytes on the wire.
    #[error("DNS name longer than 255 bytes")]
    NameTooLong,
    /// A compression pointer does not point before the labels that led to
    /// it, which would allow a loop.
    #[error("DNS compression pointer loop")]
    PointerLoop,
    /// A name follows more than [`MAX_POINTER_HOPS`] compression pointers.
    #[error("too many DNS compression pointers")]
    TooManyPointers,
    /// An A record whose data is not 4 bytes, or an AAAA record whose data
    /// is not 16.
    #[error("DNS address record with the wrong length")]
    RecordLength,
    /// A name given to the writer or to a command is not acceptable; the
    /// text says why.
    #[error("invalid name: {0}")]
    InvalidName(&'static str),
    /// The message would exceed [`MAX_MESSAGE_LEN`] bytes or 65535 entries
    /// in a section.
    #[error("DNS message too long")]
    MessageTooLong,
    /// Questions must be written before answers, answers before additional
    /// records.
    #[error("DNS sections written out of order")]
    SectionOrder,
    /// The resolver already has [`MdnsConfig::max_pending`] pending queries.
    #[error("too many pending mDNS queries")]
    TooManyQueries,
    /// The publisher already holds [`MdnsPublisherConfig::max_names`] names.
    #[error("too many published mDNS names")]
    TooManyNames,
}

/// A datagram a resolver or publisher wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdnsTransmit {
    /// [`MDNS_IPV4`], [`MDNS_IPV6`], or one querier's address for a unicast
    /// reply. Send from the owner's port-5353 socket of the same family.
    pub destination: SocketAddr,
    /// The DNS message.
    pub contents: Vec<u8>,
}

/// Checks that `name` is a host name under `.local` that the resolver can
/// ask for: at least one label before `local`, every label 1 to 63 letters,
/// digits or hyphens not starting or ending with a hyphen (RFC 952/1123,
/// which every browser's UUID names follow), at most 255 bytes on the wire.
/// One trailing dot is allowed. `local` matches in any case.
pub fn validate_local_name(name: &str) -> Result<(), MdnsError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.len() + 2 > MAX_NAME_LEN {
        return Err(MdnsError::InvalidName("longer than 255 bytes"));
    }
    let Some((host, local)) = name.rsplit_once('.') else {
        return Err(MdnsError::InvalidName("no label before .local"));
    };
    if !local.eq_ignore_ascii_case("local") {
        return Err(MdnsError::InvalidName("does not end in .local"));
    }
    for label in host.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(MdnsError::InvalidName("labels must be 1 to 63 characters"));
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(MdnsError::InvalidName(
                "labels may hold letters, digits and hyphens only",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(MdnsError::InvalidName(
                "labels must not start or end with a hyphen",
            ));
        }
    }
    Ok(())
}

/// The key a name is stored under: lower case, without a trailing dot.
fn name_key(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// The group of an address's family.
fn group_for(address: IpAddr) -> SocketAddr {
    match address {
        IpAddr::V4(_) => MDNS_IPV4,
        IpAddr::V6(_) => MDNS_IPV6,
    }
}

fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, cap: usize) -> bool {
    let dropped = queue.len() >= cap;
    if dropped {
        queue.pop_front();
    }
    queue.push_back(item);
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names() {
        for ok in [
            "6b3a4f8e-1b5c-4c1e-9c3a-2f5e7d1a0b4c.local",
            "A.LOCAL",
            "a.b.local.",
            "x-1.Local",
        ] {
            assert_eq!(validate_local_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "local",
            ".local",
            "a..local",
            "a.local..",
            "a.example",
            "-a.local",
            "a-.local",
            "a_b.local",
            "a b.local",
            "é.local",
        ] {
            assert!(validate_local_name(bad).is_err(), "{bad}");
        }
        let long_label = format!("{}.local", "a".repeat(64));
        assert!(validate_local_name(&long_label).is_err());
        let long = format!("{}local", "abcdefg.".repeat(32));
        assert_eq!(
            validate_local_name(&long),
            Err(MdnsError::InvalidName("longer than 255 bytes"))
        );
    }
}
