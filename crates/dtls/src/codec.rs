//! Reading and writing the TLS presentation language (RFC 8446 section 3,
//! RFC 5246 section 4): big-endian integers of 1, 2, 3, 4 and 6 bytes and
//! opaque vectors with a 1, 2 or 3-byte length prefix.
//!
//! [`Reader`] never panics: every read is bounds-checked and fails with
//! [`Error::Decode`]. A message parser ends with [`Reader::finish`], which
//! rejects trailing bytes (as rustls' codec does). Writers append to a
//! `Vec<u8>`; the only way they fail is a length that does not fit its
//! prefix ([`Error::TooLarge`]).

use crate::Error;

/// Reason given when a read runs past the end of the input.
pub(crate) const TRUNCATED: &str = "input: ends inside a field";

/// A cursor over a byte slice that reads TLS wire types.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).ok_or(Error::Decode(TRUNCATED))?;
        let bytes = self.buf.get(self.pos..end).ok_or(Error::Decode(TRUNCATED))?;
        self.pos = end;
        Ok(bytes)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A `uint8`.
    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    /// A big-endian `uint16`.
    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A big-endian `uint24`.
    pub(crate) fn u24(&mut self) -> Result<u32, Error> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// A big-endian `uint32`.
    #[allow(dead_code)] // codec completeness
    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A big-endian `uint48` (the DTLS record sequence number).
    pub(crate) fn u48(&mut self) -> Result<u64, Error> {
        let [a, b, c, d, e, f] = self.array()?;
        Ok(u64::from_be_bytes([0, 0, a, b, c, d, e, f]))
    }

    /// An opaque vector with a 1-byte length prefix.
    pub(crate) fn vec8(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// An opaque vector with a 2-byte length prefix.
    pub(crate) fn vec16(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// An opaque vector with a 3-byte length prefix.
    pub(crate) fn vec24(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u24()?;
        // A u24 always fits a usize on the 32 and 64-bit targets we build for.
        let n = usize::try_from(n).map_err(|_| Error::Decode(TRUNCATED))?;
        self.take(n)
    }

    /// Everything not read yet (the reader is then empty).
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        rest
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// True when every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// `Err(Decode(what))` if bytes remain: a structure must fill exactly
    /// the space its length prefix gave it.
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Decode(what))
        }
    }
}

/// Appends a `uint8`.
pub(crate) fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

/// Appends a big-endian `uint16`.
pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends the low 24 bits of `v`, big-endian. Callers pass values below
/// 2^24 (lengths they have checked); higher bits are not written.
pub(crate) fn put_u24(out: &mut Vec<u8>, v: u32) {
    debug_assert!(v < 1 << 24, "u24 out of range");
    let [_, a, b, c] = v.to_be_bytes();
    out.extend_from_slice(&[a, b, c]);
}

/// Appends a big-endian `uint32`.
#[allow(dead_code)] // codec completeness
pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends the low 48 bits of `v`, big-endian. Callers pass values below
/// 2^48 (record sequence numbers); higher bits are not written.
pub(crate) fn put_u48(out: &mut Vec<u8>, v: u64) {
    debug_assert!(v < 1 << 48, "u48 out of range");
    let [_, _, a, b, c, d, e, f] = v.to_be_bytes();
    out.extend_from_slice(&[a, b, c, d, e, f]);
}

/// Appends `data` with a 1-byte length prefix.
pub(crate) fn put_vec8(out: &mut Vec<u8>, data: &[u8]) -> Result<(), Error> {
    let n = u8::try_from(data.len()).map_err(|_| Error::TooLarge("vector for a u8 length prefix"))?;
    put_u8(out, n);
    out.extend_from_slice(data);
    Ok(())
}

/// Appends `data` with a 2-byte length prefix.
pub(crate) fn put_vec16(out: &mut Vec<u8>, data: &[u8]) -> Result<(), Error> {
    let n = u16::try_from(data.len()).map_err(|_| Error::TooLarge("vector for a u16 length prefix"))?;
    put_u16(out, n);
    out.extend_from_slice(data);
    Ok(())
}

/// Appends `data` with a 3-byte length prefix.
pub(crate) fn put_vec24(out: &mut Vec<u8>, data: &[u8]) -> Result<(), Error> {
    let n = u24_len(data.len())?;
    put_u24(out, n);
    out.extend_from_slice(data);
    Ok(())
}

/// The size of a length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LengthPrefix {
    /// `uint8`.
    U8,
    /// `uint16`.
    U16,
    /// `uint24`.
    U24,
}

impl LengthPrefix {
    fn size(self) -> usize {
        match self {
            LengthPrefix::U8 => 1,
            LengthPrefix::U16 => 2,
            LengthPrefix::U24 => 3,
        }
    }

    fn max(self) -> usize {
        match self {
            LengthPrefix::U8 => 0xff,
            LengthPrefix::U16 => 0xffff,
            LengthPrefix::U24 => 0xff_ffff,
        }
    }
}

/// Appends a length-prefixed structure written by `body`: a placeholder
/// prefix first, patched once the length is known. If `body` fails, or
/// writes more than the prefix can count, `out` is restored to its length
/// before the call and the error returned.
pub(crate) fn put_nested(
    out: &mut Vec<u8>,
    prefix: LengthPrefix,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    let start = out.len();
    out.resize(start + prefix.size(), 0);
    if let Err(e) = body(out) {
        out.truncate(start);
        return Err(e);
    }
    let len = out.len() - start - prefix.size();
    if len > prefix.max() {
        out.truncate(start);
        return Err(Error::TooLarge("structure for its length prefix"));
    }
    let bytes = (len as u32).to_be_bytes();
    let prefix_bytes = &bytes[4 - prefix.size()..];
    out[start..start + prefix.size()].copy_from_slice(prefix_bytes);
    Ok(())
}

/// `len` as a u24, or `TooLarge`.
pub(crate) fn u24_len(len: usize) -> Result<u32, Error> {
    u32::try_from(len)
        .ok()
        .filter(|&n| n < 1 << 24)
        .ok_or(Error::TooLarge("vector for a u24 length prefix"))
}

/// Reads a vector of big-endian `uint16`s from `bytes` (the contents of a
/// length-prefixed vector): an odd length is `Decode(what)`.
pub(crate) fn u16_list(bytes: &[u8], what: &'static str) -> Result<Vec<u16>, Error> {
    if bytes.len() % 2 != 0 {
        return Err(Error::Decode(what));
    }
    Ok(bytes
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

/// Appends a list of `uint16`s as the contents of a length-prefixed vector.
pub(crate) fn put_u16_list(out: &mut Vec<u8>, prefix: LengthPrefix, list: &[u16]) -> Result<(), Error> {
    put_nested(out, prefix, |out| {
        for &v in list {
            put_u16(out, v);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn reads_integers_big_endian() {
        let buf = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        let mut r = Reader::new(&buf);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 0x0203);
        assert_eq!(r.u24().unwrap(), 0x04_0506);
        assert_eq!(r.u32().unwrap(), 0x0708_090a);
        assert_eq!(r.u48().unwrap(), 0x0b0c_0d0e_0f10);
        assert!(r.is_empty());
        r.finish("x").unwrap();
        assert_eq!(r.u8(), Err(Error::Decode(TRUNCATED)));
    }

    #[test]
    fn every_read_past_the_end_is_an_error() {
        let buf = [0xffu8; 5];
        for n in 0..buf.len() {
            let mut r = Reader::new(&buf[..n]);
            assert!(r.u48().is_err());
            let mut r = Reader::new(&buf[..n]);
            let ok = r.u32().is_ok();
            assert_eq!(ok, n >= 4);
            // A failed read consumes nothing.
            let mut r = Reader::new(&buf[..n]);
            let _ = r.take(n + 1);
            assert_eq!(r.remaining(), n);
        }
        let mut r = Reader::new(&[]);
        assert!(r.take(usize::MAX).is_err());
    }

    #[test]
    fn vectors_read_their_prefix() {
        let buf = [2, 0xaa, 0xbb, 0, 1, 0xcc, 0, 0, 2, 0xdd, 0xee, 0xff];
        let mut r = Reader::new(&buf);
        assert_eq!(r.vec8().unwrap(), &[0xaa, 0xbb]);
        assert_eq!(r.vec16().unwrap(), &[0xcc]);
        assert_eq!(r.vec24().unwrap(), &[0xdd, 0xee]);
        assert_eq!(r.finish("trailer"), Err(Error::Decode("trailer")));
        assert_eq!(r.rest(), &[0xff]);
        assert!(r.is_empty());
        assert_eq!(r.rest(), &[] as &[u8]);

        // A prefix longer than what follows.
        assert!(Reader::new(&[3, 1, 2]).vec8().is_err());
        assert!(Reader::new(&[0, 3, 1, 2]).vec16().is_err());
        assert!(Reader::new(&[0, 0, 3, 1, 2]).vec24().is_err());
    }

    #[test]
    fn writes_mirror_reads() {
        let mut out = Vec::new();
        put_u8(&mut out, 1);
        put_u16(&mut out, 0x0203);
        put_u24(&mut out, 0x04_0506);
        put_u32(&mut out, 0x0708_090a);
        put_u48(&mut out, 0x0b0c_0d0e_0f10);
        put_vec8(&mut out, &[0xaa]).unwrap();
        put_vec16(&mut out, &[0xbb]).unwrap();
        put_vec24(&mut out, &[0xcc]).unwrap();
        assert_eq!(
            out,
            [
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, 0xaa, 0, 1, 0xbb, 0, 0, 1, 0xcc
            ]
        );
    }

    #[test]
    fn lengths_that_do_not_fit_are_refused() {
        let mut out = vec![9];
        assert!(matches!(put_vec8(&mut out, &[0; 256]), Err(Error::TooLarge(_))));
        assert!(matches!(
            put_vec16(&mut out, &[0; 65536]),
            Err(Error::TooLarge(_))
        ));
        assert!(matches!(
            put_vec24(&mut out, &vec![0; 1 << 24]),
            Err(Error::TooLarge(_))
        ));
        assert_eq!(out, [9]);
        put_vec8(&mut out, &[0; 255]).unwrap();
        assert_eq!(out.len(), 1 + 1 + 255);
    }

    #[test]
    fn nested_patches_the_prefix_and_rolls_back() {
        let mut out = vec![7];
        put_nested(&mut out, LengthPrefix::U16, |out| {
            put_u8(out, 1);
            put_nested(out, LengthPrefix::U24, |out| {
                put_u16(out, 0xabcd);
                Ok(())
            })
        })
        .unwrap();
        assert_eq!(out, [7, 0, 6, 1, 0, 0, 2, 0xab, 0xcd]);

        let too_long = put_nested(&mut out, LengthPrefix::U8, |out| {
            out.extend_from_slice(&[0; 256]);
            Ok(())
        });
        assert!(matches!(too_long, Err(Error::TooLarge(_))));
        let failed = put_nested(&mut out, LengthPrefix::U8, |out| {
            put_u8(out, 1);
            Err(Error::TooLarge("inner"))
        });
        assert_eq!(failed, Err(Error::TooLarge("inner")));
        assert_eq!(out, [7, 0, 6, 1, 0, 0, 2, 0xab, 0xcd]);
    }

    #[test]
    fn u16_lists() {
        assert_eq!(u16_list(&[0, 1, 0xff, 0xfe], "l").unwrap(), [1, 0xfffe]);
        assert_eq!(u16_list(&[0, 1, 2], "l"), Err(Error::Decode("l")));
        let mut out = Vec::new();
        put_u16_list(&mut out, LengthPrefix::U8, &[0xfefc, 0xfefd]).unwrap();
        assert_eq!(out, [4, 0xfe, 0xfc, 0xfe, 0xfd]);
        assert!(put_u16_list(&mut out, LengthPrefix::U8, &[0; 128]).is_err());
    }
}
