//! Every cryptographic call of the crate, behind one small interface so a
//! different backend can be swapped in here alone: AES-CM through RustCrypto
//! `aes` + `ctr`, HMAC-SHA1 through `hmac` + `sha1` (SHA-NI), AES-GCM
//! through `ring` (DESIGN.md, "Crypto and certificates").

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher, StreamCipherCoreWrapper};
use aes::{Aes128, Aes256};
use hmac::{Hmac, Mac};
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use sha1::Sha1;

use crate::Error;

type CtrCore<'a, C> = ctr::CtrCore<&'a C, ctr::flavors::Ctr128BE>;

/// XORs AES-CTR keystream (big-endian 128-bit counter from `iv`) into `data`.
fn ctr_apply<C>(cipher: &C, iv: &[u8; 16], data: &mut [u8])
where
    C: aes::cipher::BlockEncrypt
        + aes::cipher::BlockCipher
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    let core = CtrCore::<C>::inner_iv_init(cipher, iv.into());
    StreamCipherCoreWrapper::from_core(core).apply_keystream(data);
}

/// The key derivation PRF (AES-CM under the master key).
pub(crate) fn aes_cm_prf(master_key: &[u8], iv: &[u8; 16], out: &mut [u8]) {
    if let Ok(aes) = Aes128::new_from_slice(master_key) {
        ctr_apply(&aes, iv, out);
    } else if let Ok(aes) = Aes256::new_from_slice(master_key) {
        ctr_apply(&aes, iv, out);
    }
}

/// AES_CM_128 with HMAC-SHA1 (RFC 3711 sections 4.1.1 and 4.2.1) under one
/// set of session keys. The HMAC key schedule is done once here; every
/// packet clones the keyed state.
#[derive(Clone)]
pub(crate) struct AesCmHmac {
    aes: Aes128,
    salt: [u8; 14],
    mac: Hmac<Sha1>,
}

impl AesCmHmac {
    pub(crate) fn new(key: &[u8], salt: &[u8], auth_key: &[u8]) -> Result<AesCmHmac, Error> {
        let aes = Aes128::new_from_slice(key).map_err(|_| Error::InvalidKey("AES-128 key length"))?;
        let mac = <Hmac<Sha1> as Mac>::new_from_slice(auth_key).map_err(|_| Error::InvalidKey("HMAC key"))?;
        let salt: [u8; 14] = salt
            .try_into()
            .map_err(|_| Error::InvalidKey("AES-CM session salt length"))?;
        Ok(AesCmHmac { aes, salt, mac })
    }

    /// Encrypts or decrypts `data` for packet `index` (48-bit SRTP index or
    /// 31-bit SRTCP index) of `ssrc`: IV = salt * 2^16 XOR SSRC * 2^64 XOR
    /// index * 2^16.
    pub(crate) fn apply_keystream(&self, ssrc: u32, index: u64, data: &mut [u8]) {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(&self.salt);
        for (b, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
            *b ^= s;
        }
        for (b, i) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
            *b ^= i;
        }
        ctr_apply(&self.aes, &iv, data);
    }

    /// HMAC-SHA1 over `data` followed by `trailer` (the ROC for SRTP; empty
    /// for SRTCP, whose index is part of `data`).
    pub(crate) fn tag(&self, data: &[u8], trailer: &[u8]) -> [u8; 20] {
        let mut mac = self.mac.clone();
        mac.update(data);
        mac.update(trailer);
        mac.finalize().into_bytes().into()
    }

    /// Checks a (possibly truncated) tag in constant time.
    pub(crate) fn verify(&self, data: &[u8], trailer: &[u8], tag: &[u8]) -> Result<(), Error> {
        let mut mac = self.mac.clone();
        mac.update(data);
        mac.update(trailer);
        mac.verify_truncated_left(tag).map_err(|_| Error::Authentication)
    }
}

/// AES-GCM (RFC 7714) under one session key and salt.
pub(crate) struct AesGcm {
    key: LessSafeKey,
    salt: [u8; 12],
}

pub(crate) const GCM_TAG_LEN: usize = 16;

impl AesGcm {
    pub(crate) fn new(key: &[u8], salt: &[u8]) -> Result<AesGcm, Error> {
        let algorithm = match key.len() {
            16 => &aead::AES_128_GCM,
            32 => &aead::AES_256_GCM,
            _ => return Err(Error::InvalidKey("AES-GCM key length")),
        };
        let key = UnboundKey::new(algorithm, key).map_err(|_| Error::InvalidKey("AES-GCM key"))?;
        let salt: [u8; 12] = salt
            .try_into()
            .map_err(|_| Error::InvalidKey("AES-GCM session salt length"))?;
        Ok(AesGcm {
            key: LessSafeKey::new(key),
            salt,
        })
    }

    /// The 12-byte IV: 00 00 || SSRC || `middle` || `low`, XOR the salt
    /// (RFC 7714 sections 8.1 and 9.1: ROC and SEQ for SRTP, 00 00 and the
    /// 31-bit index for SRTCP, which share this shape).
    pub(crate) fn nonce(&self, ssrc: u32, high: u32, low: u16) -> Nonce {
        let mut iv = [0u8; 12];
        iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
        iv[6..10].copy_from_slice(&high.to_be_bytes());
        iv[10..12].copy_from_slice(&low.to_be_bytes());
        for (b, s) in iv.iter_mut().zip(self.salt) {
            *b ^= s;
        }
        Nonce::assume_unique_for_key(iv)
    }

    /// Encrypts `in_out` in place and returns the tag.
    pub(crate) fn seal(&self, nonce: Nonce, aad: &[u8], in_out: &mut [u8]) -> Result<[u8; 16], Error> {
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), in_out)
            .map_err(|_| Error::TooShort("AES-GCM refused the payload length"))?;
        let mut out = [0u8; GCM_TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Checks `tag` and decrypts `in_out` in place.
    pub(crate) fn open(&self, nonce: Nonce, aad: &[u8], tag: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        let tag = aead::Tag::try_from(tag).map_err(|_| Error::Authentication)?;
        self.key
            .open_in_place_separate_tag(nonce, Aad::from(aad), tag, in_out, 0..)
            .map(|_| ())
            .map_err(|_| Error::Authentication)
    }
}

/// The transform of one direction of SRTP or SRTCP. Both variants are
/// hundreds of bytes of key schedule; boxing one would add a pointer chase
/// per packet for nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Transform {
    AesCm(AesCmHmac),
    Gcm(AesGcm),
}
