//! Writing STUN messages into a caller's buffer (RFC 8489 section 5).

use crate::attributes::{Attribute, AttributeType, PasswordAlgorithm};
use crate::integrity::IntegrityKey;
use crate::message::{FINGERPRINT_XOR, HEADER_LEN, MAGIC_COOKIE, MessageType, TransactionId, padding};
use crate::{Error, crypto};

/// Where the builder is in the order RFC 8489 imposes on the last attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Attributes,
    Integrity,
    IntegritySha256,
    Fingerprint,
}

/// Writes one STUN message into a caller-supplied buffer, without
/// allocating.
///
/// Attributes are appended in call order; the header's length is kept
/// current, so MESSAGE-INTEGRITY and FINGERPRINT can be computed in place.
/// The builder enforces the RFC's order: MESSAGE-INTEGRITY, then
/// MESSAGE-INTEGRITY-SHA256, then FINGERPRINT, and nothing after them.
///
/// ```
/// use rtcwire_stun::{Attribute, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId};
///
/// let key = IntegrityKey::short_term("pass");
/// let mut buf = [0u8; 128];
/// let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId::new([7; 12]))?;
/// b.add(&Attribute::Username("a:b"))?;
/// b.add(&Attribute::Priority(1))?;
/// b.add_message_integrity(&key)?;
/// b.add_fingerprint()?;
/// let bytes = b.finish();
///
/// let msg = Message::parse(bytes)?;
/// msg.verify_integrity(&key)?;
/// msg.verify_fingerprint()?;
/// # Ok::<(), rtcwire_stun::Error>(())
/// ```
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    len: usize,
    transaction_id: TransactionId,
    stage: Stage,
}

impl<'b> MessageBuilder<'b> {
    /// Starts a message of type `message_type` in `buf`.
    pub fn new(
        buf: &'b mut [u8],
        message_type: MessageType,
        transaction_id: TransactionId,
    ) -> Result<MessageBuilder<'b>, Error> {
        let available = buf.len();
        let header = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall {
            needed: HEADER_LEN,
            available,
        })?;
        header[..2].copy_from_slice(&message_type.to_u16().to_be_bytes());
        header[2..4].fill(0);
        header[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        header[8..].copy_from_slice(transaction_id.as_bytes());
        Ok(MessageBuilder {
            buf,
            len: HEADER_LEN,
            transaction_id,
            stage: Stage::Attributes,
        })
    }

    /// Appends a typed attribute. For MESSAGE-INTEGRITY,
    /// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT use the dedicated methods,
    /// which compute the value.
    pub fn add(&mut self, attr: &Attribute<'_>) -> Result<(), Error> {
        let t = attr.attr_type();
        if matches!(
            t,
            AttributeType::MESSAGE_INTEGRITY
                | AttributeType::MESSAGE_INTEGRITY_SHA256
                | AttributeType::FINGERPRINT
        ) {
            return Err(Error::CannotEncode {
                attr_type: t.value(),
                reason: "computed by add_message_integrity*/add_fingerprint",
            });
        }
        attr.validate()?;
        let tid = self.transaction_id;
        let value = self.reserve(t, attr.value_len(), Stage::Attributes)?;
        attr.encode_value(value, &tid);
        Ok(())
    }

    /// Appends an attribute from its raw value, for types this crate does not
    /// know.
    pub fn add_raw(&mut self, attr_type: AttributeType, value: &[u8]) -> Result<(), Error> {
        self.add(&Attribute::Unknown { attr_type, value })
    }

    /// Appends UNKNOWN-ATTRIBUTES listing `types`, for a 420 response.
    pub fn add_unknown_attributes(&mut self, types: &[AttributeType]) -> Result<(), Error> {
        let value = self.reserve(
            AttributeType::UNKNOWN_ATTRIBUTES,
            types.len() * 2,
            Stage::Attributes,
        )?;
        for (chunk, t) in value.chunks_exact_mut(2).zip(types) {
            chunk.copy_from_slice(&t.value().to_be_bytes());
        }
        Ok(())
    }

    /// Appends PASSWORD-ALGORITHMS listing `algorithms` in order of
    /// preference.
    pub fn add_password_algorithms(&mut self, algorithms: &[PasswordAlgorithm<'_>]) -> Result<(), Error> {
        for a in algorithms {
            Attribute::PasswordAlgorithm(*a).validate()?;
        }
        let len = algorithms
            .iter()
            .map(|a| 4 + a.parameters.len() + padding(a.parameters.len()))
            .sum();
        let value = self.reserve(AttributeType::PASSWORD_ALGORITHMS, len, Stage::Attributes)?;
        let mut at = 0;
        for a in algorithms {
            let entry = Attribute::PasswordAlgorithm(*a);
            let n = entry.value_len();
            entry.encode_value(&mut value[at..at + n], &crate::TransactionId::new([0; 12]));
            at += n;
        }
        Ok(())
    }

    /// Appends MESSAGE-INTEGRITY: HMAC-SHA1 with `key` over everything so far.
    pub fn add_message_integrity(&mut self, key: &IntegrityKey) -> Result<(), Error> {
        let start = self.len;
        self.reserve(AttributeType::MESSAGE_INTEGRITY, 20, Stage::Integrity)?;
        let mac = key.hmac_sha1(&[&self.buf[..start]]);
        self.buf[start + 4..start + 24].copy_from_slice(&mac);
        Ok(())
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 (32 bytes): HMAC-SHA256 with `key`.
    pub fn add_message_integrity_sha256(&mut self, key: &IntegrityKey) -> Result<(), Error> {
        let start = self.len;
        self.reserve(
            AttributeType::MESSAGE_INTEGRITY_SHA256,
            32,
            Stage::IntegritySha256,
        )?;
        let mac = key.hmac_sha256(&[&self.buf[..start]]);
        self.buf[start + 4..start + 36].copy_from_slice(&mac);
        Ok(())
    }

    /// Appends FINGERPRINT; nothing can follow it.
    pub fn add_fingerprint(&mut self) -> Result<(), Error> {
        let start = self.len;
        self.reserve(AttributeType::FINGERPRINT, 4, Stage::Fingerprint)?;
        let crc = crypto::crc32(&[&self.buf[..start]]) ^ FINGERPRINT_XOR;
        self.buf[start + 4..start + 8].copy_from_slice(&crc.to_be_bytes());
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether only the header has been written.
    pub fn is_empty(&self) -> bool {
        self.len == HEADER_LEN
    }

    /// The finished message: the front of the caller's buffer.
    pub fn finish(self) -> &'b [u8] {
        let MessageBuilder { buf, len, .. } = self;
        &buf[..len]
    }

    /// Writes an attribute header for a value of `value_len` bytes, zeroes
    /// its padding, updates the message length, and returns the value's
    /// bytes for the caller to fill.
    fn reserve(&mut self, t: AttributeType, value_len: usize, stage: Stage) -> Result<&mut [u8], Error> {
        // Integrity attributes may only move forward; ordinary attributes only
        // come before any of them.
        let order_ok = match stage {
            Stage::Attributes => self.stage == Stage::Attributes,
            _ => stage > self.stage,
        };
        if !order_ok {
            return Err(Error::CannotEncode {
                attr_type: t.value(),
                reason: "attribute after MESSAGE-INTEGRITY or FINGERPRINT",
            });
        }
        let value_len16 = u16::try_from(value_len).map_err(|_| Error::CannotEncode {
            attr_type: t.value(),
            reason: "value longer than 65535 bytes",
        })?;
        let start = self.len;
        let end = start + 4 + value_len + padding(value_len);
        let message_len = u16::try_from(end - HEADER_LEN).map_err(|_| Error::CannotEncode {
            attr_type: t.value(),
            reason: "message longer than 65535 bytes",
        })?;
        if end > self.buf.len() {
            return Err(Error::BufferTooSmall {
                needed: end,
                available: self.buf.len(),
            });
        }
        self.buf[start..start + 2].copy_from_slice(&t.value().to_be_bytes());
        self.buf[start + 2..start + 4].copy_from_slice(&value_len16.to_be_bytes());
        self.buf[start + 4 + value_len..end].fill(0);
        self.buf[2..4].copy_from_slice(&message_len.to_be_bytes());
        self.len = end;
        self.stage = stage;
        Ok(&mut self.buf[start + 4..start + 4 + value_len])
    }
}
