//! Extending 16-bit sequence numbers and 32-bit timestamps to 64 bits
//! across wrap-arounds (RFC 3550 appendix A.1 keeps cycles the same way).

/// Extends 16-bit RTP sequence numbers to a 64-bit counter.
///
/// Each value is placed at the extension closest to the highest one seen
/// (within half the 16-bit space either way), so reordered and duplicate
/// packets land where they belong and 65535 -> 0 moves into the next cycle.
/// The first value is extended as itself. A value before the first cycle
/// (e.g. 65535 arriving just after a first packet 0) comes out negative,
/// which is why the result is `i64`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceUnwrapper {
    highest: Option<i64>,
}

impl SequenceUnwrapper {
    /// A fresh unwrapper.
    pub fn new() -> SequenceUnwrapper {
        SequenceUnwrapper { highest: None }
    }

    /// The extended value of `seq`; advances the highest seen when `seq`
    /// is newer.
    pub fn extend(&mut self, seq: u16) -> i64 {
        let ext = self.peek(seq);
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        ext
    }

    /// The extended value `seq` would get, without recording it.
    pub fn peek(&self, seq: u16) -> i64 {
        match self.highest {
            None => i64::from(seq),
            Some(h) => h + i64::from(seq.wrapping_sub(h as u16) as i16),
        }
    }

    /// The highest extended value seen.
    pub fn highest(&self) -> Option<i64> {
        self.highest
    }
}

/// Extends 32-bit RTP timestamps to a 64-bit counter, like
/// [`SequenceUnwrapper`] within half the 32-bit space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimestampUnwrapper {
    highest: Option<i64>,
}

impl TimestampUnwrapper {
    /// A fresh unwrapper.
    pub fn new() -> TimestampUnwrapper {
        TimestampUnwrapper { highest: None }
    }

    /// The extended value of `ts`; advances the highest seen when newer.
    pub fn extend(&mut self, ts: u32) -> i64 {
        let ext = self.peek(ts);
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        ext
    }

    /// The extended value `ts` would get, without recording it.
    pub fn peek(&self, ts: u32) -> i64 {
        match self.highest {
            None => i64::from(ts),
            Some(h) => h + i64::from(ts.wrapping_sub(h as u32) as i32),
        }
    }

    /// The highest extended value seen.
    pub fn highest(&self) -> Option<i64> {
        self.highest
    }
}

/// Whether sequence number `a` is newer than `b` in 16-bit serial
/// arithmetic (RFC 1982).
pub fn seq_newer(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_wraps_forward_and_back() {
        let mut u = SequenceUnwrapper::new();
        assert_eq!(u.extend(65534), 65534);
        assert_eq!(u.extend(65535), 65535);
        assert_eq!(u.extend(0), 65536);
        assert_eq!(u.extend(65535), 65535); // late packet from the old cycle
        assert_eq!(u.extend(1), 65537);
        assert_eq!(u.highest(), Some(65537));
        let mut v = SequenceUnwrapper::new();
        assert_eq!(v.extend(0), 0);
        assert_eq!(v.extend(65535), -1);
        // Many cycles.
        let mut w = SequenceUnwrapper::new();
        for i in 0..300_000i64 {
            assert_eq!(w.extend(i as u16), i);
        }
    }

    #[test]
    fn timestamp_wraps() {
        let mut u = TimestampUnwrapper::new();
        assert_eq!(u.extend(u32::MAX - 959), i64::from(u32::MAX) - 959);
        assert_eq!(u.extend(960), i64::from(u32::MAX) + 961);
        assert_eq!(u.extend(u32::MAX), i64::from(u32::MAX));
    }

    #[test]
    fn newer() {
        assert!(seq_newer(1, 0));
        assert!(seq_newer(0, 65535));
        assert!(!seq_newer(65535, 0));
        assert!(!seq_newer(5, 5));
    }
}
