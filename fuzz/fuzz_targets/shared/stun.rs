//! Shared by the fuzz targets that play a STUN or TURN server.

use rtcwire_stun::{AttributeType, IntegrityKey, MessageBuilder};

/// Ends a message: `attrs` appended as raw attributes (two bytes of type,
/// one of length, the value; a length past the end is cut), then
/// MESSAGE-INTEGRITY with `key` if given, then FINGERPRINT. Returns the
/// message's length, `None` if it does not fit.
pub fn finish(mut b: MessageBuilder<'_>, mut attrs: &[u8], key: Option<&IntegrityKey>) -> Option<usize> {
    while attrs.len() >= 3 {
        let attr_type = AttributeType::new(u16::from_be_bytes([attrs[0], attrs[1]]));
        let len = usize::from(attrs[2]).min(attrs.len() - 3);
        let _ = b.add_raw(attr_type, &attrs[3..3 + len]);
        attrs = &attrs[3 + len..];
    }
    if let Some(key) = key {
        b.add_message_integrity(key).ok()?;
    }
    b.add_fingerprint().ok()?;
    Some(b.len())
}
