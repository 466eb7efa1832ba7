//! SRTP protection profiles (RFC 5764 section 4.1.2, RFC 7714 section 14.2).

/// An SRTP protection profile, as negotiated by DTLS use_srtp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtectionProfile {
    /// SRTP_AES128_CM_HMAC_SHA1_80 (0x0001): AES-128 counter mode, 80-bit
    /// HMAC-SHA1 tags on SRTP and SRTCP.
    Aes128CmHmacSha1_80,
    /// SRTP_AES128_CM_HMAC_SHA1_32 (0x0002): as above with 32-bit tags on
    /// SRTP; SRTCP keeps 80-bit tags (RFC 5764 section 4.1.2).
    Aes128CmHmacSha1_32,
    /// SRTP_AEAD_AES_128_GCM (0x0007), RFC 7714.
    AeadAes128Gcm,
    /// SRTP_AEAD_AES_256_GCM (0x0008), RFC 7714.
    AeadAes256Gcm,
}

impl ProtectionProfile {
    /// Every profile, in the order WebRTC endpoints usually prefer them.
    pub const ALL: [ProtectionProfile; 4] = [
        ProtectionProfile::AeadAes128Gcm,
        ProtectionProfile::AeadAes256Gcm,
        ProtectionProfile::Aes128CmHmacSha1_80,
        ProtectionProfile::Aes128CmHmacSha1_32,
    ];

    /// The IANA number used by DTLS use_srtp.
    pub const fn to_u16(self) -> u16 {
        match self {
            ProtectionProfile::Aes128CmHmacSha1_80 => 0x0001,
            ProtectionProfile::Aes128CmHmacSha1_32 => 0x0002,
            ProtectionProfile::AeadAes128Gcm => 0x0007,
            ProtectionProfile::AeadAes256Gcm => 0x0008,
        }
    }

    /// From the IANA number.
    pub const fn from_u16(value: u16) -> Option<ProtectionProfile> {
        Some(match value {
            0x0001 => ProtectionProfile::Aes128CmHmacSha1_80,
            0x0002 => ProtectionProfile::Aes128CmHmacSha1_32,
            0x0007 => ProtectionProfile::AeadAes128Gcm,
            0x0008 => ProtectionProfile::AeadAes256Gcm,
            _ => return None,
        })
    }

    /// Master key length in bytes (also the session encryption key length).
    pub const fn master_key_len(self) -> usize {
        match self {
            ProtectionProfile::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Master salt length in bytes: 112 bits for AES-CM, 96 for AES-GCM.
    pub const fn master_salt_len(self) -> usize {
        if self.is_aead() { 12 } else { 14 }
    }

    /// Bytes an SRTP packet grows by when protected (the tag).
    pub const fn rtp_overhead(self) -> usize {
        match self {
            ProtectionProfile::Aes128CmHmacSha1_80 => 10,
            ProtectionProfile::Aes128CmHmacSha1_32 => 4,
            ProtectionProfile::AeadAes128Gcm | ProtectionProfile::AeadAes256Gcm => 16,
        }
    }

    /// Bytes an SRTCP packet grows by when protected (tag and E-flag with
    /// SRTCP index).
    pub const fn rtcp_overhead(self) -> usize {
        self.rtcp_tag_len() + 4
    }

    pub(crate) const fn rtcp_tag_len(self) -> usize {
        if self.is_aead() { 16 } else { 10 }
    }

    /// Whether the profile is an AEAD (AES-GCM) one.
    pub const fn is_aead(self) -> bool {
        matches!(
            self,
            ProtectionProfile::AeadAes128Gcm | ProtectionProfile::AeadAes256Gcm
        )
    }
}
