//! Small helpers for writing SDP text quickly: no formatting machinery on the
//! hot path.

use std::borrow::Cow;

/// Appends the decimal form of `n`.
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
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
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// Appends `' '` then `s`.
pub(crate) fn push_sp(out: &mut String, s: &str) {
    out.push(' ');
    out.push_str(s);
}

/// Appends `' '` then the decimal form of `n`.
pub(crate) fn push_sp_u64(out: &mut String, n: u64) {
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
            let mut s = String::new();
            super::push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
