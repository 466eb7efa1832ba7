//! Small helpers for writing SDP text quickly: no formatting machinery on the
//! hot path.

use std::borrow::Cow;

/// The serialiser's buffer: bytes, turned into a `String` once at the end
/// (everything written comes from `&str`s and ASCII, so it is UTF-8).
#[derive(Debug, Default)]
pub(crate) struct Out(pub(crate) Vec<u8>);

impl Out {
    #[inline]
    pub(crate) fn push_str(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }

    #[inline]
    pub(crate) fn push(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.0.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    pub(crate) fn into_string(self) -> String {
        String::from_utf8(self.0).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// Appends the decimal form of `n`.
pub(crate) fn push_u64(out: &mut Out, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.0.extend_from_slice(&digits[i..]);
}

/// Appends `' '` then `s`.
pub(crate) fn push_sp(out: &mut Out, s: &str) {
    out.push(' ');
    out.push_str(s);
}

/// Appends `' '` then the decimal form of `n`.
pub(crate) fn push_sp_u64(out: &mut Out, n: u64) {
    out.push(' ');
    push_u64(out, n);
}

/// Turns a borrowed `Cow` into an owned one.
pub(crate) fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn push_u64_matches_display() {
        for n in [0u64, 1, 9, 10, 99, 100, 12345, u32::MAX as u64, u64::MAX] {
            let mut s = super::Out::default();
            super::push_u64(&mut s, n);
            assert_eq!(s.into_string(), n.to_string());
        }
    }
}
