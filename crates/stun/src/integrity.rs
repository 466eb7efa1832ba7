//! Keys for MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256
//! (RFC 8489 sections 9.1 and 9.2).

use crate::crypto;

/// A STUN credential's key, with its HMAC contexts prepared once so that
/// signing or checking a message never re-keys (the pads are hashed here, not
/// per packet). Build one per credential and keep it.
#[derive(Clone)]
pub struct IntegrityKey {
    sha1: crypto::HmacSha1,
    sha256: ring::hmac::Key,
}

impl IntegrityKey {
    /// The short-term credential key (RFC 8489 section 9.1.1): the password
    /// itself. ICE uses the peer's `ice-pwd`.
    ///
    /// The RFC runs the password through the PRECIS OpaqueString profile; for
    /// the ASCII passwords ICE and TURN use in practice that is the identity,
    /// and this crate does not apply Unicode normalisation.
    pub fn short_term(password: &str) -> IntegrityKey {
        IntegrityKey::from_bytes(password.as_bytes())
    }

    /// The long-term credential key with the MD5 password algorithm
    /// (RFC 8489 section 9.2.2): MD5(username ":" realm ":" password).
    pub fn long_term(username: &str, realm: &str, password: &str) -> IntegrityKey {
        let key = crypto::md5(&[
            username.as_bytes(),
            b":",
            realm.as_bytes(),
            b":",
            password.as_bytes(),
        ]);
        IntegrityKey::from_bytes(&key)
    }

    /// The long-term credential key with the SHA-256 password algorithm
    /// (RFC 8489 section 9.2.2): SHA-256(username ":" realm ":" password).
    pub fn long_term_sha256(username: &str, realm: &str, password: &str) -> IntegrityKey {
        let key = crypto::sha256(&[
            username.as_bytes(),
            b":",
            realm.as_bytes(),
            b":",
            password.as_bytes(),
        ]);
        IntegrityKey::from_bytes(&key)
    }

    /// A key from raw bytes.
    pub fn from_bytes(key: &[u8]) -> IntegrityKey {
        IntegrityKey {
            sha1: crypto::hmac_sha1_key(key),
            sha256: crypto::hmac_sha256_key(key),
        }
    }

    pub(crate) fn hmac_sha1(&self, parts: &[&[u8]]) -> [u8; 20] {
        crypto::hmac_sha1(&self.sha1, parts)
    }

    pub(crate) fn hmac_sha256(&self, parts: &[&[u8]]) -> [u8; 32] {
        crypto::hmac_sha256(&self.sha256, parts)
    }
}

impl std::fmt::Debug for IntegrityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntegrityKey(..)")
    }
}

/// USERHASH (RFC 8489 section 14.4): SHA-256(username ":" realm), sent in
/// place of USERNAME when the server offers anonymity.
pub fn user_hash(username: &str, realm: &str) -> [u8; 32] {
    crypto::sha256(&[username.as_bytes(), b":", realm.as_bytes()])
}
