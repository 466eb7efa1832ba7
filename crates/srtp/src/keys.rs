//! Master keys, the SRTP key derivation function (RFC 3711 section 4.3)
//! and the keying material DTLS exports (RFC 5764 section 4.2).

use crate::crypto;
use crate::{Error, ProtectionProfile};

/// A master key and master salt for one direction of one profile.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    profile: ProtectionProfile,
    key: [u8; 32],
    salt: [u8; 14],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// A master key and salt of the lengths the profile takes (16 or 32
    /// bytes of key; 14 bytes of salt for AES-CM, 12 for AES-GCM).
    pub fn new(profile: ProtectionProfile, key: &[u8], salt: &[u8]) -> Result<MasterKey, Error> {
        if key.len() != profile.master_key_len() {
            return Err(Error::InvalidKey("master key length does not fit the profile"));
        }
        if salt.len() != profile.master_salt_len() {
            return Err(Error::InvalidKey("master salt length does not fit the profile"));
        }
        let mut master = MasterKey {
            profile,
            key: [0; 32],
            salt: [0; 14],
        };
        master.key[..key.len()].copy_from_slice(key);
        master.salt[..salt.len()].copy_from_slice(salt);
        Ok(master)
    }

    /// The profile.
    pub fn profile(&self) -> ProtectionProfile {
        self.profile
    }

    /// The master key.
    pub fn key(&self) -> &[u8] {
        &self.key[..self.profile.master_key_len()]
    }

    /// The master salt.
    pub fn salt(&self) -> &[u8] {
        &self.salt[..self.profile.master_salt_len()]
    }

    /// The SRTP key derivation function with a key derivation rate of zero
    /// (RFC 3711 section 4.3.1, the only rate WebRTC uses): AES in counter
    /// mode under the master key, starting from the master salt with the
    /// label XORed into its eighth byte, fills `out`. A 96-bit AES-GCM salt
    /// is extended with two zero bytes to the 112 bits the PRF takes
    /// (RFC 7714 section 11, as libsrtp does); AES-256 keys use AES-256 in
    /// counter mode (RFC 6188 section 7).
    pub fn derive(&self, label: u8, out: &mut [u8]) {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(&self.salt);
        iv[7] ^= label;
        out.fill(0);
        crypto::aes_cm_prf(self.key(), &iv, out);
    }
}

/// The key derivation labels of RFC 3711 section 4.3.1 (and section 4.3.2
/// for SRTCP).
pub(crate) mod label {
    pub(crate) const RTP_ENCRYPTION: u8 = 0x00;
    pub(crate) const RTP_AUTH: u8 = 0x01;
    pub(crate) const RTP_SALT: u8 = 0x02;
    pub(crate) const RTCP_ENCRYPTION: u8 = 0x03;
    pub(crate) const RTCP_AUTH: u8 = 0x04;
    pub(crate) const RTCP_SALT: u8 = 0x05;
}

/// Which side of the DTLS handshake this endpoint played.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sent the ClientHello (`a=setup:active`).
    Client,
    /// Answered it (`a=setup:passive`).
    Server,
}

/// The two master keys carried by the DTLS-SRTP exporter output
/// ("EXTRACTOR-dtls_srtp", RFC 5764 section 4.2), laid out as client
/// key, server key, client salt, server salt.
///
/// rtcwire-dtls hands the same split over already
/// (`DtlsEndpoint::srtp_keying_material`); its halves go straight into
/// [`MasterKey::new`], with the profile from
/// [`ProtectionProfile::from_u16`] of the DTLS profile's IANA number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtlsSrtpKeys {
    /// What the DTLS client protects with (and the server unprotects with).
    pub client: MasterKey,
    /// What the DTLS server protects with (and the client unprotects with).
    pub server: MasterKey,
}

impl DtlsSrtpKeys {
    /// Bytes to export for `profile`: twice its key and salt lengths.
    pub const fn exporter_len(profile: ProtectionProfile) -> usize {
        2 * (profile.master_key_len() + profile.master_salt_len())
    }

    /// Splits the exporter output. `material` must be exactly
    /// [`DtlsSrtpKeys::exporter_len`] bytes.
    pub fn from_exporter(profile: ProtectionProfile, material: &[u8]) -> Result<DtlsSrtpKeys, Error> {
        if material.len() != Self::exporter_len(profile) {
            return Err(Error::InvalidKey(
                "exporter output length does not fit the profile",
            ));
        }
        let k = profile.master_key_len();
        let s = profile.master_salt_len();
        Ok(DtlsSrtpKeys {
            client: MasterKey::new(profile, &material[..k], &material[2 * k..2 * k + s])?,
            server: MasterKey::new(profile, &material[k..2 * k], &material[2 * k + s..])?,
        })
    }

    /// (ours, theirs): the key we protect with and the key we unprotect with.
    pub fn split(&self, role: Role) -> (&MasterKey, &MasterKey) {
        match role {
            Role::Client => (&self.client, &self.server),
            Role::Server => (&self.server, &self.client),
        }
    }
}
