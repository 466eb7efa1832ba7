//! The DNS message format (RFC 1035 section 4) with the mDNS meanings of the
//! top class bits (RFC 6762 sections 5.4 and 10.2).
//!
//! [`DnsMessage::parse`] walks the whole message once and checks every
//! bound; once it succeeds, no accessor or iterator can fail, and they read
//! straight from the caller's buffer.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::MdnsError;

/// Record type A, an IPv4 address.
pub const DNS_TYPE_A: u16 = 1;
/// Record type AAAA, an IPv6 address (RFC 3596).
pub const DNS_TYPE_AAAA: u16 = 28;
/// Question type ANY ("*", RFC 1035 section 3.2.3).
pub const DNS_TYPE_ANY: u16 = 255;
/// Class IN.
pub const DNS_CLASS_IN: u16 = 1;

/// Longest name on the wire, labels and length bytes together (RFC 1035
/// section 2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Most compression pointers one name may follow. Pointers must also point
/// strictly before every position the name has already visited, so a loop
/// is an error even below this limit.
pub const MAX_POINTER_HOPS: usize = 64;
/// Longest message [`DnsBuilder`] writes: RFC 6762 section 17 allows 9000
/// bytes including the IPv6 and UDP headers.
pub const MAX_MESSAGE_LEN: usize = 9000 - 40 - 8;

const HEADER_LEN: usize = 12;
const FLAG_RESPONSE: u16 = 0x8000;
const FLAG_AUTHORITATIVE: u16 = 0x0400;
const FLAG_TRUNCATED: u16 = 0x0200;
/// The top bit of a question's class: unicast response wanted (QU).
const CLASS_UNICAST_RESPONSE: u16 = 0x8000;
/// The top bit of a record's class: cache flush (unique record).
const CLASS_CACHE_FLUSH: u16 = 0x8000;
const MAX_LABEL_LEN: usize = 63;

/// Which section of a message a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnsSection {
    /// The answer section.
    Answer,
    /// The authority section (probes carry their proposed records here).
    Authority,
    /// The additional section.
    Additional,
}

/// A parsed DNS message: a validated view over the datagram.
#[derive(Clone, Copy)]
pub struct DnsMessage<'a> {
    buf: &'a [u8],
    counts: [u16; 4],
    /// Where the answer section starts.
    records_start: usize,
}

impl fmt::Debug for DnsMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsMessage")
            .field("id", &self.id())
            .field("flags", &format_args!("{:#06x}", self.flags()))
            .field("questions", &self.questions().collect::<Vec<_>>())
            .field("records", &self.records().collect::<Vec<_>>())
            .finish()
    }
}

impl<'a> DnsMessage<'a> {
    /// Parses and checks a whole message: every name (following
    /// compression pointers), every field and every record's length, and
    /// that nothing follows the last record.
    pub fn parse(buf: &'a [u8]) -> Result<DnsMessage<'a>, MdnsError> {
        let header = buf.get(..HEADER_LEN).ok_or(MdnsError::Truncated)?;
        let count = |i: usize| u16::from_be_bytes([header[4 + 2 * i], header[5 + 2 * i]]);
        let counts = [count(0), count(1), count(2), count(3)];
        let mut pos = HEADER_LEN;
        for _ in 0..counts[0] {
            pos = read_question(buf, pos)?.1;
        }
        let records_start = pos;
        let records = u32::from(counts[1]) + u32::from(counts[2]) + u32::from(counts[3]);
        for _ in 0..records {
            pos = read_record(buf, pos)?.1;
        }
        if pos != buf.len() {
            return Err(MdnsError::TrailingBytes);
        }
        Ok(DnsMessage {
            buf,
            counts,
            records_start,
        })
    }

    /// The message ID (zero in mDNS multicast messages).
    pub fn id(&self) -> u16 {
        u16::from_be_bytes([self.buf[0], self.buf[1]])
    }

    /// The 16 flag bits of the header.
    pub fn flags(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// Whether this is a response (QR set).
    pub fn is_response(&self) -> bool {
        self.flags() & FLAG_RESPONSE != 0
    }

    /// The opcode (must be 0 in mDNS, RFC 6762 section 18.3).
    pub fn opcode(&self) -> u8 {
        ((self.flags() >> 11) & 0x0f) as u8
    }

    /// Whether the authoritative-answer bit is set.
    pub fn is_authoritative(&self) -> bool {
        self.flags() & FLAG_AUTHORITATIVE != 0
    }

    /// Whether the truncated bit is set (in mDNS queries: more known
    /// answers follow, RFC 6762 section 18.5).
    pub fn is_truncated(&self) -> bool {
        self.flags() & FLAG_TRUNCATED != 0
    }

    /// The response code (must be 0 in mDNS, RFC 6762 section 18.11).
    pub fn rcode(&self) -> u8 {
        (self.flags() & 0x0f) as u8
    }

    /// Number of questions.
    pub fn question_count(&self) -> u16 {
        self.counts[0]
    }

    /// Number of records in the answer, authority and additional sections,
    /// of every type.
    pub fn record_counts(&self) -> [u16; 3] {
        [self.counts[1], self.counts[2], self.counts[3]]
    }

    /// The questions, in order.
    pub fn questions(&self) -> impl Iterator<Item = DnsQuestion<'a>> + use<'a> {
        let buf = self.buf;
        let mut pos = HEADER_LEN;
        (0..self.counts[0]).map_while(move |_| {
            let (question, next) = read_question(buf, pos).ok()?;
            pos = next;
            Some(question)
        })
    }

    /// The A and AAAA records of class IN in the answer, authority and
    /// additional sections, in order. Records of other types and classes
    /// are skipped.
    pub fn records(&self) -> impl Iterator<Item = DnsRecord<'a>> + use<'a> {
        let buf = self.buf;
        let mut pos = self.records_start;
        let [_, answers, authorities, additionals] = self.counts.map(usize::from);
        (0..answers + authorities + additionals)
            .map_while(move |i| {
                let (raw, next) = read_record(buf, pos).ok()?;
                pos = next;
                let section = if i < answers {
                    DnsSection::Answer
                } else if i < answers + authorities {
                    DnsSection::Authority
                } else {
                    DnsSection::Additional
                };
                Some((raw, section))
            })
            .filter_map(|(raw, section)| {
                let address = raw.address?;
                Some(DnsRecord {
                    name: raw.name,
                    section,
                    cache_flush: raw.class & CLASS_CACHE_FLUSH != 0,
                    ttl: raw.ttl,
                    address,
                })
            })
    }
}

/// A question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsQuestion<'a> {
    /// The name asked for.
    pub name: DnsName<'a>,
    /// QTYPE ([`DNS_TYPE_A`], [`DNS_TYPE_AAAA`], [`DNS_TYPE_ANY`], ...).
    pub qtype: u16,
    /// QCLASS without its top bit ([`DNS_CLASS_IN`] for us).
    pub qclass: u16,
    /// The top bit of QCLASS: the querier prefers a unicast response (QU,
    /// RFC 6762 section 5.4).
    pub unicast_response: bool,
}

/// An A or AAAA record of class IN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsRecord<'a> {
    /// The owner name.
    pub name: DnsName<'a>,
    /// Which section it came from.
    pub section: DnsSection,
    /// The top bit of the class: this is the only record set of its name
    /// and type, older ones may be flushed (RFC 6762 section 10.2).
    pub cache_flush: bool,
    /// Time to live in seconds; 0 is a goodbye (RFC 6762 section 10.1).
    pub ttl: u32,
    /// The address (A gives IPv4, AAAA gives IPv6).
    pub address: IpAddr,
}

/// A name in a parsed message, compression pointers and all. Comparing two
/// names compares their labels ASCII case-insensitively.
#[derive(Clone, Copy)]
pub struct DnsName<'a> {
    buf: &'a [u8],
    start: usize,
}

impl<'a> DnsName<'a> {
    /// The labels, from the leftmost; the root is not included.
    pub fn labels(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let mut walker = NameWalker::new(self.buf, self.start);
        std::iter::from_fn(move || walker.next_label().ok().flatten())
    }

    /// Whether this is `name` (dotted, one trailing dot allowed), comparing
    /// ASCII case-insensitively. A label holding a dot never matches.
    pub fn matches(&self, name: &str) -> bool {
        let name = name.strip_suffix('.').unwrap_or(name);
        let mut wanted = name.split('.').filter(|_| !name.is_empty());
        let mut labels = self.labels();
        loop {
            match (labels.next(), wanted.next()) {
                (None, None) => return true,
                (Some(label), Some(w)) if label.eq_ignore_ascii_case(w.as_bytes()) => {}
                _ => return false,
            }
        }
    }

    /// Appends the name in lower case, labels joined by dots, to `out`.
    /// Returns `false` (and leaves `out` unspecified) if a label is not
    /// UTF-8 or holds a dot, since such a name cannot be written as text
    /// unambiguously.
    pub fn write_lowercase(&self, out: &mut String) -> bool {
        for (i, label) in self.labels().enumerate() {
            let Ok(label) = std::str::from_utf8(label) else {
                return false;
            };
            if label.contains('.') {
                return false;
            }
            if i > 0 {
                out.push('.');
            }
            out.extend(label.chars().map(|c| c.to_ascii_lowercase()));
        }
        true
    }
}

impl PartialEq for DnsName<'_> {
    fn eq(&self, other: &Self) -> bool {
        let mut a = self.labels();
        let mut b = other.labels();
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
                _ => return false,
            }
        }
    }
}

impl Eq for DnsName<'_> {}

/// Labels joined by dots; bytes that are not UTF-8 are replaced.
impl fmt::Display for DnsName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(&String::from_utf8_lossy(label))?;
        }
        Ok(())
    }
}

impl fmt::Debug for DnsName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Walks a name's labels through compression pointers.
struct NameWalker<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Every pointer must point below this: the lowest position visited.
    floor: usize,
    /// Where the name ends in its original position (after the first
    /// pointer, or after the root label).
    end: Option<usize>,
    hops: usize,
    len: usize,
    done: bool,
}

impl<'a> NameWalker<'a> {
    fn new(buf: &'a [u8], start: usize) -> Self {
        NameWalker {
            buf,
            pos: start,
            floor: start,
            end: None,
            hops: 0,
            len: 0,
            done: false,
        }
    }

    fn next_label(&mut self) -> Result<Option<&'a [u8]>, MdnsError> {
        if self.done {
            return Ok(None);
        }
        loop {
            let byte = *self.buf.get(self.pos).ok_or(MdnsError::Truncated)?;
            match byte >> 6 {
                0b00 => {
                    let len = usize::from(byte);
                    self.len += 1 + len;
                    if self.len > MAX_NAME_LEN {
                        return Err(MdnsError::NameTooLong);
                    }
                    if len == 0 {
                        self.done = true;
                        self.end.get_or_insert(self.pos + 1);
                        return Ok(None);
                    }
                    let label = self
                        .buf
                        .get(self.pos + 1..self.pos + 1 + len)
                        .ok_or(MdnsError::Truncated)?;
                    self.pos += 1 + len;
                    return Ok(Some(label));
                }
                0b11 => {
                    let low = *self.buf.get(self.pos + 1).ok_or(MdnsError::Truncated)?;
                    let target = usize::from(u16::from_be_bytes([byte & 0x3f, low]));
                    self.end.get_or_insert(self.pos + 2);
                    // RFC 1035 section 4.1.4: a pointer refers to a prior
                    // occurrence. Requiring it to point below everything
                    // this name has visited makes loops impossible.
                    if target >= self.floor {
                        return Err(MdnsError::PointerLoop);
                    }
                    self.hops += 1;
                    if self.hops > MAX_POINTER_HOPS {
                        return Err(MdnsError::TooManyPointers);
                    }
                    self.floor = target;
                    self.pos = target;
                }
                _ => return Err(MdnsError::LabelType),
            }
        }
    }
}

/// Checks the name at `start`; returns it and the offset after it.
fn read_name(buf: &[u8], start: usize) -> Result<(DnsName<'_>, usize), MdnsError> {
    let mut walker = NameWalker::new(buf, start);
    while walker.next_label()?.is_some() {}
    let end = walker.end.ok_or(MdnsError::Truncated)?;
    Ok((DnsName { buf, start }, end))
}

fn read_u16(buf: &[u8], pos: usize) -> Result<u16, MdnsError> {
    let bytes = buf.get(pos..pos + 2).ok_or(MdnsError::Truncated)?;
    Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
}

fn read_question(buf: &[u8], pos: usize) -> Result<(DnsQuestion<'_>, usize), MdnsError> {
    let (name, pos) = read_name(buf, pos)?;
    let qtype = read_u16(buf, pos)?;
    let qclass = read_u16(buf, pos + 2)?;
    let question = DnsQuestion {
        name,
        qtype,
        qclass: qclass & !CLASS_UNICAST_RESPONSE,
        unicast_response: qclass & CLASS_UNICAST_RESPONSE != 0,
    };
    Ok((question, pos + 4))
}

/// A resource record before filtering by type.
struct RawRecord<'a> {
    name: DnsName<'a>,
    class: u16,
    ttl: u32,
    /// Set for A and AAAA records of class IN.
    address: Option<IpAddr>,
}

fn read_record(buf: &[u8], pos: usize) -> Result<(RawRecord<'_>, usize), MdnsError> {
    let (name, pos) = read_name(buf, pos)?;
    let fixed = buf.get(pos..pos + 10).ok_or(MdnsError::Truncated)?;
    let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let class = u16::from_be_bytes([fixed[2], fixed[3]]);
    let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let rdlength = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    let data_start = pos + 10;
    let data = buf
        .get(data_start..data_start + rdlength)
        .ok_or(MdnsError::Truncated)?;
    let address = if class & !CLASS_CACHE_FLUSH != DNS_CLASS_IN {
        None
    } else if rtype == DNS_TYPE_A {
        let octets: [u8; 4] = data.try_into().map_err(|_| MdnsError::RecordLength)?;
        Some(IpAddr::V4(Ipv4Addr::from(octets)))
    } else if rtype == DNS_TYPE_AAAA {
        let octets: [u8; 16] = data.try_into().map_err(|_| MdnsError::RecordLength)?;
        Some(IpAddr::V6(Ipv6Addr::from(octets)))
    } else {
        None
    };
    let record = RawRecord {
        name,
        class,
        ttl,
        address,
    };
    Ok((record, data_start + rdlength))
}

/// Writes a DNS message: questions first, then answers, then additional
/// records. Names are written without compression.
///
/// ```
/// use rtcwire_ice::{DnsBuilder, DnsMessage, DNS_TYPE_A};
///
/// let mut query = DnsBuilder::query();
/// query.question("1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9.local", DNS_TYPE_A, false)?;
/// let bytes = query.finish();
/// let parsed = DnsMessage::parse(&bytes)?;
/// assert!(!parsed.is_response());
/// let q = parsed.questions().next().ok_or("no question")?;
/// assert!(q.name.matches("1F2E3D4C-5B6A-4978-8695-A4B3C2D1E0F9.local"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DnsBuilder {
    buf: Vec<u8>,
    /// Questions, answers, authorities, additionals written so far.
    counts: [u16; 4],
}

impl DnsBuilder {
    fn with_flags(flags: u16) -> DnsBuilder {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(&flags.to_be_bytes());
        buf.extend_from_slice(&[0; 8]);
        DnsBuilder { buf, counts: [0; 4] }
    }

    /// A query with ID 0 and no flags (RFC 6762 section 18).
    pub fn query() -> DnsBuilder {
        Self::with_flags(0)
    }

    /// A response with ID 0 and the QR and AA bits set (RFC 6762 section
    /// 18.4: multicast responses are authoritative).
    pub fn response() -> DnsBuilder {
        Self::with_flags(FLAG_RESPONSE | FLAG_AUTHORITATIVE)
    }

    /// Sets the message ID (0 unless answering a legacy unicast query).
    pub fn set_id(&mut self, id: u16) -> &mut Self {
        self.buf[..2].copy_from_slice(&id.to_be_bytes());
        self
    }

    /// Adds a question of class IN; `unicast_response` sets the QU bit.
    pub fn question(
        &mut self,
        name: &str,
        qtype: u16,
        unicast_response: bool,
    ) -> Result<&mut Self, MdnsError> {
        if self.counts[1..].iter().any(|&c| c > 0) {
            return Err(MdnsError::SectionOrder);
        }
        let class = DNS_CLASS_IN
            | if unicast_response {
                CLASS_UNICAST_RESPONSE
            } else {
                0
            };
        self.entry(0, name, |buf| {
            buf.extend_from_slice(&qtype.to_be_bytes());
            buf.extend_from_slice(&class.to_be_bytes());
        })?;
        Ok(self)
    }

    /// Adds an A (IPv4) or AAAA (IPv6) record of class IN to the answer
    /// section; `cache_flush` marks it unique (RFC 6762 section 10.2).
    pub fn answer(
        &mut self,
        name: &str,
        address: IpAddr,
        ttl: u32,
        cache_flush: bool,
    ) -> Result<&mut Self, MdnsError> {
        if self.counts[3] > 0 {
            return Err(MdnsError::SectionOrder);
        }
        self.record(1, name, address, ttl, cache_flush)
    }

    /// Adds an A or AAAA record to the additional section.
    pub fn additional(
        &mut self,
        name: &str,
        address: IpAddr,
        ttl: u32,
        cache_flush: bool,
    ) -> Result<&mut Self, MdnsError> {
        self.record(3, name, address, ttl, cache_flush)
    }

    fn record(
        &mut self,
        section: usize,
        name: &str,
        address: IpAddr,
        ttl: u32,
        cache_flush: bool,
    ) -> Result<&mut Self, MdnsError> {
        let class = DNS_CLASS_IN | if cache_flush { CLASS_CACHE_FLUSH } else { 0 };
        self.entry(section, name, |buf| {
            let rtype = if address.is_ipv4() {
                DNS_TYPE_A
            } else {
                DNS_TYPE_AAAA
            };
            buf.extend_from_slice(&rtype.to_be_bytes());
            buf.extend_from_slice(&class.to_be_bytes());
            buf.extend_from_slice(&ttl.to_be_bytes());
            match address {
                IpAddr::V4(v4) => {
                    buf.extend_from_slice(&4u16.to_be_bytes());
                    buf.extend_from_slice(&v4.octets());
                }
                IpAddr::V6(v6) => {
                    buf.extend_from_slice(&16u16.to_be_bytes());
                    buf.extend_from_slice(&v6.octets());
                }
            }
        })?;
        Ok(self)
    }

    /// Writes the name and the rest of an entry, or leaves the message as
    /// it was.
    fn entry(
        &mut self,
        section: usize,
        name: &str,
        rest: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), MdnsError> {
        let count = self.counts[section]
            .checked_add(1)
            .ok_or(MdnsError::MessageTooLong)?;
        let mark = self.buf.len();
        let written = write_name(name, &mut self.buf);
        if let Err(e) = written {
            self.buf.truncate(mark);
            return Err(e);
        }
        rest(&mut self.buf);
        if self.buf.len() > MAX_MESSAGE_LEN {
            self.buf.truncate(mark);
            return Err(MdnsError::MessageTooLong);
        }
        self.counts[section] = count;
        let at = 4 + 2 * section;
        self.buf[at..at + 2].copy_from_slice(&count.to_be_bytes());
        Ok(())
    }

    /// The message so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The finished message.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Writes a dotted name (one trailing dot allowed) as labels: every label
/// 1 to 63 bytes, the whole at most [`MAX_NAME_LEN`] bytes.
fn write_name(name: &str, out: &mut Vec<u8>) -> Result<(), MdnsError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err(MdnsError::InvalidName("empty"));
    }
    if name.len() + 2 > MAX_NAME_LEN {
        return Err(MdnsError::NameTooLong);
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Err(MdnsError::InvalidName("labels must be 1 to 63 bytes"));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn builder_round_trip() {
        let mut b = DnsBuilder::response();
        b.set_id(0x1234);
        b.question("a.local", DNS_TYPE_ANY, true).unwrap();
        b.answer("A.local.", "10.0.0.1".parse().unwrap(), 120, true)
            .unwrap();
        b.additional("a.local", "fe80::1".parse().unwrap(), 0, false)
            .unwrap();
        assert_eq!(
            b.question("x.local", DNS_TYPE_A, false).unwrap_err(),
            MdnsError::SectionOrder
        );
        assert_eq!(
            b.answer("x.local", "10.0.0.1".parse().unwrap(), 1, false)
                .unwrap_err(),
            MdnsError::SectionOrder
        );
        let bytes = b.finish();
        let m = DnsMessage::parse(&bytes).unwrap();
        assert_eq!(m.id(), 0x1234);
        assert!(m.is_response() && m.is_authoritative() && !m.is_truncated());
        assert_eq!((m.opcode(), m.rcode()), (0, 0));
        assert_eq!(m.question_count(), 1);
        assert_eq!(m.record_counts(), [1, 0, 1]);
        let q = m.questions().next().unwrap();
        assert_eq!(
            (q.qtype, q.qclass, q.unicast_response),
            (DNS_TYPE_ANY, DNS_CLASS_IN, true)
        );
        let r: Vec<_> = m.records().collect();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name.to_string(), "A.local");
        assert!(r[0].name.matches("a.LOCAL."));
        assert_eq!(r[0].name, q.name);
        assert_eq!(
            (r[0].section, r[0].cache_flush, r[0].ttl),
            (DnsSection::Answer, true, 120)
        );
        assert_eq!(
            (r[1].section, r[1].cache_flush, r[1].ttl),
            (DnsSection::Additional, false, 0)
        );
        assert_eq!(r[1].address, "fe80::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn writer_rejects_bad_names_and_keeps_message_intact() {
        let mut b = DnsBuilder::query();
        let before = b.as_bytes().to_vec();
        for bad in ["", ".", "a..b", ".a", &"x".repeat(64), &"abc.".repeat(64)] {
            assert!(b.question(bad, DNS_TYPE_A, false).is_err(), "{bad:?}");
        }
        assert_eq!(b.as_bytes(), &before[..]);
        b.question(
            &format!("{}.{}", "a".repeat(63), "b".repeat(63)),
            DNS_TYPE_A,
            false,
        )
        .unwrap();
    }

    #[test]
    fn message_size_is_capped() {
        let mut b = DnsBuilder::response();
        let mut n = 0;
        while b.answer("a.local", "10.0.0.1".parse().unwrap(), 1, true).is_ok() {
            n += 1;
        }
        assert!(b.as_bytes().len() <= MAX_MESSAGE_LEN);
        assert_eq!(n, (MAX_MESSAGE_LEN - 12) / (9 + 14));
        assert_eq!(DnsMessage::parse(b.as_bytes()).unwrap().records().count(), n);
    }
}
