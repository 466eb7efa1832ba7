//! Every cryptographic primitive the crate uses, behind one small module so a
//! different backend can be swapped in by changing this file alone.
//!
//! HMAC-SHA1 comes from RustCrypto (`hmac` + `sha1`, which uses SHA-NI where
//! the CPU has it; `ring`'s SHA-1 has no such path and is about 4x slower on
//! STUN-sized inputs). HMAC-SHA256 and SHA-256 come from `ring`, MD5 (needed
//! only for RFC 8489 long-term keys) from RustCrypto `md-5`, CRC-32 from
//! `crc32fast`.

use hmac::{Mac, digest::KeyInit};
use sha1::Digest;

/// HMAC-SHA1 whose inner and outer pads were hashed once, at key time.
pub(crate) type HmacSha1 = hmac::Hmac<sha1::Sha1>;

pub(crate) fn hmac_sha1_key(key: &[u8]) -> HmacSha1 {
    // RFC 2104: a key longer than the 64-byte block is hashed first, a
    // shorter one zero-padded; doing that here makes keying infallible.
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..20].copy_from_slice(&sha1::Sha1::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    <HmacSha1 as KeyInit>::new(&block.into())
}

/// HMAC-SHA1 of `parts` concatenated, with a pre-keyed context.
pub(crate) fn hmac_sha1(key: &HmacSha1, parts: &[&[u8]]) -> [u8; 20] {
    let mut mac = key.clone();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

pub(crate) fn hmac_sha256_key(key: &[u8]) -> ring::hmac::Key {
    ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key)
}

/// HMAC-SHA256 of `parts` concatenated.
pub(crate) fn hmac_sha256(key: &ring::hmac::Key, parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = ring::hmac::Context::with_key(key);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

pub(crate) fn md5(parts: &[&[u8]]) -> [u8; 16] {
    use md5::Digest;
    let mut h = md5::Md5::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

pub(crate) fn crc32(parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for part in parts {
        h.update(part);
    }
    h.finalize()
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // `black_box` keeps the optimiser from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_known_answer() {
        // RFC 1321 test suite: MD5("abc").
        assert_eq!(
            md5(&[b"a", b"bc"]),
            [
                0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0, 0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f,
                0x72
            ]
        );
    }

    #[test]
    fn hmac_sha1_rfc2202_case_2() {
        let key = hmac_sha1_key(b"Jefe");
        let tag = hmac_sha1(&key, &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            tag,
            [
                0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84, 0xdf,
                0x9c, 0x25, 0x9a, 0x7c, 0x79
            ]
        );
    }

    #[test]
    fn hmac_sha1_keys_longer_than_a_block_are_hashed() {
        // RFC 2202 test case 6: an 80-byte key.
        let key = hmac_sha1_key(&[0xaa; 80]);
        let tag = hmac_sha1(&key, &[b"Test Using Larger Than Block-Size Key - Hash Key First"]);
        assert_eq!(
            tag,
            [
                0xaa, 0x4a, 0xe5, 0xe1, 0x52, 0x72, 0xd0, 0x0e, 0x95, 0x70, 0x56, 0x37, 0xce, 0x8a, 0x3b,
                0x55, 0xed, 0x40, 0x21, 0x12
            ]
        );
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
