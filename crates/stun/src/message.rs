//! The STUN message: header fields and a zero-copy view over a datagram
//! (RFC 8489 sections 5 and 6).

use crate::Error;
use crate::attributes::{Attribute, AttributeType};
use crate::integrity::IntegrityKey;

/// The fixed value in bytes 4..8 of every RFC 5389/8489 message.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// Size of the STUN header.
pub const HEADER_LEN: usize = 20;
/// XOR-ed into the CRC-32 of the message to form FINGERPRINT (RFC 8489 14.7).
pub(crate) const FINGERPRINT_XOR: u32 = 0x5354_554e;

/// The class of a message: the two C bits of the message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// A request, answered by a success or error response.
    Request,
    /// An indication: no response.
    Indication,
    /// A success response.
    Success,
    /// An error response, carrying ERROR-CODE.
    Error,
}

impl Class {
    const fn bits(self) -> u16 {
        match self {
            Class::Request => 0b00,
            Class::Indication => 0b01,
            Class::Success => 0b10,
            Class::Error => 0b11,
        }
    }
}

/// A STUN method: 12 bits (RFC 8489 section 5, TURN's in RFC 8656).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Method(u16);

impl Method {
    /// Binding (RFC 8489).
    pub const BINDING: Method = Method(0x001);
    /// Allocate (RFC 8656).
    pub const ALLOCATE: Method = Method(0x003);
    /// Refresh (RFC 8656).
    pub const REFRESH: Method = Method(0x004);
    /// Send, as an indication (RFC 8656).
    pub const SEND: Method = Method(0x006);
    /// Data, as an indication (RFC 8656).
    pub const DATA: Method = Method(0x007);
    /// CreatePermission (RFC 8656).
    pub const CREATE_PERMISSION: Method = Method(0x008);
    /// ChannelBind (RFC 8656).
    pub const CHANNEL_BIND: Method = Method(0x009);

    /// A method from its 12-bit number; `None` if it does not fit in 12 bits.
    pub const fn new(value: u16) -> Option<Method> {
        if value <= 0xfff { Some(Method(value)) } else { None }
    }

    /// The method number.
    pub const fn value(self) -> u16 {
        self.0
    }
}

impl std::fmt::Debug for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match *self {
            Method::BINDING => "Binding",
            Method::ALLOCATE => "Allocate",
            Method::REFRESH => "Refresh",
            Method::SEND => "Send",
            Method::DATA => "Data",
            Method::CREATE_PERMISSION => "CreatePermission",
            Method::CHANNEL_BIND => "ChannelBind",
            Method(other) => return write!(f, "Method({other:#05x})"),
        };
        f.write_str(name)
    }
}

/// Method and class: the first 14 bits of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType {
    /// The method.
    pub method: Method,
    /// The class.
    pub class: Class,
}

impl MessageType {
    /// A Binding request.
    pub const BINDING_REQUEST: MessageType = MessageType::new(Method::BINDING, Class::Request);
    /// A Binding success response.
    pub const BINDING_SUCCESS: MessageType = MessageType::new(Method::BINDING, Class::Success);
    /// A Binding error response.
    pub const BINDING_ERROR: MessageType = MessageType::new(Method::BINDING, Class::Error);
    /// A Binding indication (ICE keepalive, RFC 8445 section 11).
    pub const BINDING_INDICATION: MessageType = MessageType::new(Method::BINDING, Class::Indication);

    /// Combines a method and a class.
    pub const fn new(method: Method, class: Class) -> MessageType {
        MessageType { method, class }
    }

    /// The 16-bit wire form: method bits M11..M0 interleaved with C1 and C0.
    pub const fn to_u16(self) -> u16 {
        let m = self.method.0;
        let c = self.class.bits();
        (m & 0x000f) | ((m & 0x0070) << 1) | ((m & 0x0f80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
    }

    /// Decodes the wire form; `None` if one of the two top bits is set.
    pub const fn from_u16(value: u16) -> Option<MessageType> {
        if value & 0xc000 != 0 {
            return None;
        }
        let m = (value & 0x000f) | ((value >> 1) & 0x0070) | ((value >> 2) & 0x0f80);
        let class = match ((value >> 4) & 1) | ((value >> 7) & 2) {
            0 => Class::Request,
            1 => Class::Indication,
            2 => Class::Success,
            _ => Class::Error,
        };
        Some(MessageType {
            method: Method(m),
            class,
        })
    }
}

/// The 96-bit transaction ID that pairs responses with requests.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId([u8; 12]);

impl TransactionId {
    /// A transaction ID with the given bytes.
    pub const fn new(bytes: [u8; 12]) -> TransactionId {
        TransactionId(bytes)
    }

    /// A fresh ID from `rng`. RFC 8489 section 5 asks for a uniform and
    /// random value so that an off-path attacker cannot forge a response:
    /// pass a cryptographically secure generator, such as `rand::rng()`.
    pub fn random<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> TransactionId {
        let mut bytes = [0u8; 12];
        rng.fill_bytes(&mut bytes);
        TransactionId(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }
}

impl std::fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransactionId(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Cheap test for RFC 7983 demultiplexing: could `packet` be STUN? Looks at
/// the first byte (0..=3), the length (multiple of 4, matching) and the magic
/// cookie, without parsing attributes.
pub fn is_stun(packet: &[u8]) -> bool {
    packet.len() >= HEADER_LEN
        && packet[0] < 4
        && packet[4..8] == MAGIC_COOKIE.to_be_bytes()
        && usize::from(u16::from_be_bytes([packet[2], packet[3]])) == packet.len() - HEADER_LEN
}

/// On a byte stream (TCP, TLS), the size of the STUN message that starts
/// `stream`, read from its header; `None` until 4 bytes are there.
pub fn stream_message_len(stream: &[u8]) -> Option<usize> {
    let len = u16::from_be_bytes([*stream.get(2)?, *stream.get(3)?]);
    Some(HEADER_LEN + usize::from(len))
}

/// A parsed STUN message: a zero-copy view over the datagram it came from.
///
/// [`Message::parse`] checks the header and walks every attribute's TLV once;
/// after that nothing can fail on bounds. Attribute values are decoded only
/// when asked for, by [`Message::attributes`] or [`Message::get`].
///
/// Attributes after MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 are not
/// authenticated, so the view hides them, keeping only the integrity
/// attributes and FINGERPRINT (RFC 8489 sections 14.5 and 14.6).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    buf: &'a [u8],
    typ: MessageType,
    /// End of the attributes the view exposes: the first integrity attribute,
    /// or FINGERPRINT, or the end of the message.
    visible_end: usize,
    integrity: Option<usize>,
    integrity_sha256: Option<usize>,
    fingerprint: Option<usize>,
}

impl<'a> Message<'a> {
    /// Parses the STUN message that fills `buf` (one datagram). The header's
    /// length must match `buf` exactly; for a byte stream, cut the message out
    /// with [`stream_message_len`] first.
    pub fn parse(buf: &'a [u8]) -> Result<Message<'a>, Error> {
        if buf.len() < HEADER_LEN {
            return Err(Error::TooShort { len: buf.len() });
        }
        let typ = MessageType::from_u16(u16::from_be_bytes([buf[0], buf[1]])).ok_or(Error::NotStun)?;
        let declared = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        let cookie = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        if cookie != MAGIC_COOKIE {
            return Err(Error::BadMagicCookie(cookie));
        }
        if declared % 4 != 0 {
            return Err(Error::LengthNotMultipleOf4(declared));
        }
        if declared != buf.len() - HEADER_LEN {
            return Err(Error::LengthMismatch {
                declared,
                actual: buf.len() - HEADER_LEN,
            });
        }

        let mut msg = Message {
            buf,
            typ,
            visible_end: buf.len(),
            integrity: None,
            integrity_sha256: None,
            fingerprint: None,
        };
        let mut offset = HEADER_LEN;
        let mut protected = false;
        while offset < buf.len() {
            if msg.fingerprint.is_some() {
                return Err(Error::FingerprintNotLast);
            }
            let (attr_type, value_len) = tlv_header(buf, offset)?;
            let end = offset + 4 + value_len;
            match attr_type {
                AttributeType::MESSAGE_INTEGRITY
                    if msg.integrity.is_none() && msg.integrity_sha256.is_none() =>
                {
                    if value_len != 20 {
                        return Err(Error::InvalidAttribute {
                            attr_type: attr_type.value(),
                            reason: "MESSAGE-INTEGRITY must be 20 bytes",
                        });
                    }
                    msg.integrity = Some(offset);
                }
                // MESSAGE-INTEGRITY-SHA256 may follow MESSAGE-INTEGRITY
                // (RFC 8489 section 14.5); a second one is ignored.
                AttributeType::MESSAGE_INTEGRITY_SHA256 if msg.integrity_sha256.is_none() => {
                    if !(16..=32).contains(&value_len) || value_len % 4 != 0 {
                        return Err(Error::InvalidAttribute {
                            attr_type: attr_type.value(),
                            reason: "MESSAGE-INTEGRITY-SHA256 must be 16 to 32 bytes, a multiple of 4",
                        });
                    }
                    msg.integrity_sha256 = Some(offset);
                }
                AttributeType::FINGERPRINT => {
                    if value_len != 4 {
                        return Err(Error::InvalidAttribute {
                            attr_type: attr_type.value(),
                            reason: "FINGERPRINT must be 4 bytes",
                        });
                    }
                    msg.fingerprint = Some(offset);
                }
                _ => {}
            }
            if !protected
                && (msg.integrity.is_some() || msg.integrity_sha256.is_some() || msg.fingerprint.is_some())
            {
                protected = true;
                msg.visible_end = offset;
            }
            offset = end + padding(value_len);
        }
        Ok(msg)
    }

    /// Method and class.
    pub fn message_type(&self) -> MessageType {
        self.typ
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.typ.method
    }

    /// The class.
    pub fn class(&self) -> Class {
        self.typ.class
    }

    /// The transaction ID.
    pub fn transaction_id(&self) -> TransactionId {
        let mut id = [0u8; 12];
        id.copy_from_slice(&self.buf[8..HEADER_LEN]);
        TransactionId(id)
    }

    /// The whole message as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Iterates over the attributes a receiver may act on: those before the
    /// first integrity attribute, then MESSAGE-INTEGRITY,
    /// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT if present. Each item is
    /// decoded on the way; a malformed value yields an error and iteration
    /// continues with the next attribute.
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            buf: self.buf,
            offset: HEADER_LEN,
            visible_end: self.visible_end,
            tail: [self.integrity, self.integrity_sha256, self.fingerprint],
            tail_index: 0,
            transaction_id: self.transaction_id(),
        }
    }

    /// The raw (type, value) pairs in the visible part of the message, in
    /// order, without decoding values.
    pub fn raw_attributes(&self) -> RawAttributes<'a> {
        RawAttributes {
            buf: self.buf,
            offset: HEADER_LEN,
            end: self.visible_end,
        }
    }

    /// The value of the first visible attribute of type `attr_type`, undecoded.
    pub fn get_raw(&self, attr_type: AttributeType) -> Option<&'a [u8]> {
        self.raw_attributes()
            .find(|(t, _)| *t == attr_type)
            .map(|(_, v)| v)
    }

    /// The first visible attribute of type `attr_type`, decoded.
    pub fn get(&self, attr_type: AttributeType) -> Option<Result<Attribute<'a>, Error>> {
        let value = self.get_raw(attr_type)?;
        Some(Attribute::decode(attr_type, value, &self.transaction_id()))
    }

    /// Whether an attribute of this type is present in the visible part.
    pub fn contains(&self, attr_type: AttributeType) -> bool {
        self.get_raw(attr_type).is_some()
    }

    /// Comprehension-required attributes (type below 0x8000) that this crate
    /// does not know. A server answers a request that has any with a 420
    /// error listing them in UNKNOWN-ATTRIBUTES (RFC 8489 section 6.3.1).
    pub fn unknown_comprehension_required(&self) -> impl Iterator<Item = AttributeType> + 'a {
        self.raw_attributes()
            .map(|(t, _)| t)
            .filter(|t| t.is_comprehension_required() && !t.is_known())
    }

    /// Whether the message carries MESSAGE-INTEGRITY or
    /// MESSAGE-INTEGRITY-SHA256.
    pub fn has_integrity(&self) -> bool {
        self.integrity.is_some() || self.integrity_sha256.is_some()
    }

    /// Whether the message ends with FINGERPRINT.
    pub fn has_fingerprint(&self) -> bool {
        self.fingerprint.is_some()
    }

    /// Checks FINGERPRINT (RFC 8489 section 14.7).
    pub fn verify_fingerprint(&self) -> Result<(), Error> {
        let at = self.fingerprint.ok_or(Error::MissingFingerprint)?;
        let expected = crate::crypto::crc32(&[&self.buf[..at]]) ^ FINGERPRINT_XOR;
        let got = read_u32(self.buf, at + 4);
        if got == expected {
            Ok(())
        } else {
            Err(Error::BadFingerprint)
        }
    }

    /// Checks the message's integrity with `key`: MESSAGE-INTEGRITY-SHA256
    /// when present (the stronger one), MESSAGE-INTEGRITY otherwise. Compares
    /// in constant time.
    pub fn verify_integrity(&self, key: &IntegrityKey) -> Result<(), Error> {
        match (self.integrity_sha256, self.integrity) {
            (Some(at), _) => self.verify_at(at, key, true),
            (None, Some(at)) => self.verify_at(at, key, false),
            (None, None) => Err(Error::MissingIntegrity),
        }
    }

    /// Checks MESSAGE-INTEGRITY (HMAC-SHA1) only.
    pub fn verify_message_integrity(&self, key: &IntegrityKey) -> Result<(), Error> {
        let at = self.integrity.ok_or(Error::MissingIntegrity)?;
        self.verify_at(at, key, false)
    }

    /// Checks MESSAGE-INTEGRITY-SHA256 only.
    pub fn verify_message_integrity_sha256(&self, key: &IntegrityKey) -> Result<(), Error> {
        let at = self.integrity_sha256.ok_or(Error::MissingIntegrity)?;
        self.verify_at(at, key, true)
    }

    fn verify_at(&self, at: usize, key: &IntegrityKey, sha256: bool) -> Result<(), Error> {
        let value_len = usize::from(u16::from_be_bytes([self.buf[at + 2], self.buf[at + 3]]));
        let received = &self.buf[at + 4..at + 4 + value_len];
        // The HMAC covers the message up to the integrity attribute, with the
        // header's length rewritten as if that attribute ended the message.
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&self.buf[..HEADER_LEN]);
        let covered_len = (at + 4 + value_len - HEADER_LEN) as u16;
        header[2..4].copy_from_slice(&covered_len.to_be_bytes());
        let parts: [&[u8]; 2] = [&header, &self.buf[HEADER_LEN..at]];
        let ok = if sha256 {
            let mac = key.hmac_sha256(&parts);
            crate::crypto::constant_time_eq(&mac[..value_len], received)
        } else {
            let mac = key.hmac_sha1(&parts);
            crate::crypto::constant_time_eq(&mac, received)
        };
        if ok { Ok(()) } else { Err(Error::BadIntegrity) }
    }
}

impl std::fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_struct("Message");
        list.field("type", &self.typ)
            .field("transaction_id", &self.transaction_id())
            .field("len", &self.buf.len());
        struct Attrs<'m>(&'m Message<'m>);
        impl std::fmt::Debug for Attrs<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list().entries(self.0.attributes()).finish()
            }
        }
        list.field("attributes", &Attrs(self)).finish()
    }
}

/// Iterator over the visible attributes of a [`Message`], decoded.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    buf: &'a [u8],
    offset: usize,
    visible_end: usize,
    tail: [Option<usize>; 3],
    tail_index: usize,
    transaction_id: TransactionId,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<Attribute<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = if self.offset < self.visible_end {
            let at = self.offset;
            let len = usize::from(u16::from_be_bytes([self.buf[at + 2], self.buf[at + 3]]));
            self.offset = at + 4 + len + padding(len);
            at
        } else {
            loop {
                let slot = *self.tail.get(self.tail_index)?;
                self.tail_index += 1;
                if let Some(at) = slot {
                    break at;
                }
            }
        };
        let (attr_type, value) = tlv_at(self.buf, at);
        Some(Attribute::decode(attr_type, value, &self.transaction_id))
    }
}

/// Iterator over `(type, value)` pairs of the visible attributes.
#[derive(Debug, Clone)]
pub struct RawAttributes<'a> {
    buf: &'a [u8],
    offset: usize,
    end: usize,
}

impl<'a> Iterator for RawAttributes<'a> {
    type Item = (AttributeType, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.offset >= self.end {
            return None;
        }
        let (t, v) = tlv_at(self.buf, self.offset);
        self.offset += 4 + v.len() + padding(v.len());
        Some((t, v))
    }
}

/// Reads a TLV header at `offset` and checks that value and padding fit.
fn tlv_header(buf: &[u8], offset: usize) -> Result<(AttributeType, usize), Error> {
    let header = buf.get(offset..offset + 4).ok_or(Error::AttributeOverrun {
        attr_type: buf
            .get(offset..offset + 2)
            .map_or(0, |b| u16::from_be_bytes([b[0], b[1]])),
        offset,
    })?;
    let attr_type = u16::from_be_bytes([header[0], header[1]]);
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let end = offset + 4 + len;
    if end > buf.len() {
        return Err(Error::AttributeOverrun { attr_type, offset });
    }
    if end + padding(len) > buf.len() {
        return Err(Error::BadPadding { attr_type, offset });
    }
    Ok((AttributeType::new(attr_type), len))
}

/// A TLV already validated by [`Message::parse`].
fn tlv_at(buf: &[u8], offset: usize) -> (AttributeType, &[u8]) {
    let attr_type = u16::from_be_bytes([buf[offset], buf[offset + 1]]);
    let len = usize::from(u16::from_be_bytes([buf[offset + 2], buf[offset + 3]]));
    (AttributeType::new(attr_type), &buf[offset + 4..offset + 4 + len])
}

/// Bytes of padding after a value of `len` bytes.
pub(crate) const fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

fn read_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}
