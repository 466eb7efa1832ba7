//! Replay protection (RFC 3711 section 3.3.2) and rollover counter
//! estimation (RFC 3711 appendix A).

use crate::Error;

/// Largest replay window, in packets.
pub const MAX_REPLAY_WINDOW: u16 = 1 << 15;

/// The highest packet index authenticated so far and which of the `size`
/// indices at and below it were seen. The bitmap is circular (index modulo
/// its bit count), so advancing by one packet clears one bit instead of
/// shifting the whole window.
#[derive(Debug, Clone)]
pub(crate) struct ReplayWindow {
    highest: Option<u64>,
    size: u64,
    bits: Box<[u64]>,
}

impl ReplayWindow {
    /// `size` in 1..=[`MAX_REPLAY_WINDOW`] (checked by the configuration).
    pub(crate) fn new(size: u16) -> ReplayWindow {
        let words = usize::from(size).div_ceil(64).next_power_of_two();
        ReplayWindow {
            highest: None,
            size: u64::from(size),
            bits: vec![0; words].into_boxed_slice(),
        }
    }

    pub(crate) fn highest(&self) -> Option<u64> {
        self.highest
    }

    fn slot(&self, index: u64) -> (usize, u64) {
        let nbits = (self.bits.len() as u64) * 64;
        let bit = index & (nbits - 1);
        ((bit / 64) as usize, 1 << (bit % 64))
    }

    /// Whether `index` may still be accepted (before authentication).
    pub(crate) fn check(&self, index: u64) -> Result<(), Error> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if index > highest {
            return Ok(());
        }
        if highest - index >= self.size {
            return Err(Error::Replay("older than the replay window"));
        }
        let (word, mask) = self.slot(index);
        if self.bits[word] & mask != 0 {
            return Err(Error::Replay("duplicate packet index"));
        }
        Ok(())
    }

    /// Records an authenticated `index` (which passed [`Self::check`]).
    pub(crate) fn accept(&mut self, index: u64) {
        match self.highest {
            None => {
                self.bits.fill(0);
                self.highest = Some(index);
            }
            Some(highest) if index > highest => {
                let nbits = (self.bits.len() as u64) * 64;
                if index - highest >= nbits {
                    self.bits.fill(0);
                } else {
                    for i in highest + 1..index {
                        let (word, mask) = self.slot(i);
                        self.bits[word] &= !mask;
                    }
                }
                self.highest = Some(index);
            }
            Some(_) => {}
        }
        let (word, mask) = self.slot(index);
        self.bits[word] |= mask;
    }
}

/// The 48-bit packet index of a packet with sequence number `seq`, given the
/// highest index seen on the stream (RFC 3711 appendix A): the rollover
/// counter is guessed as the one that puts `seq` closest to the highest
/// sequence number. `None` when the guess is a rollover counter below zero
/// (a packet from before the stream's first) or beyond 2^32 - 1.
pub(crate) fn estimate_index(highest: Option<u64>, seq: u16) -> Option<u64> {
    let Some(highest) = highest else {
        return Some(u64::from(seq));
    };
    let roc = highest >> 16;
    let s_l = (highest & 0xffff) as u16;
    let v = if s_l < 0x8000 {
        if seq > s_l && seq - s_l > 0x8000 {
            roc.checked_sub(1)?
        } else {
            roc
        }
    } else if s_l - 0x8000 > seq {
        roc + 1
    } else {
        roc
    };
    if v > u64::from(u32::MAX) {
        return None;
    }
    Some((v << 16) | u64::from(seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_across_rollover() {
        assert_eq!(estimate_index(None, 7), Some(7));
        assert_eq!(estimate_index(Some(65535), 0), Some(65536));
        assert_eq!(estimate_index(Some(65536), 65535), Some(65535));
        assert_eq!(estimate_index(Some(65536 + 10), 40000), Some(40000));
        assert_eq!(estimate_index(Some(10), 40000), None);
        assert_eq!(
            estimate_index(Some(3 << 16 | 0x9000), 0x0100),
            Some(4 << 16 | 0x0100)
        );
        assert_eq!(
            estimate_index(Some(3 << 16 | 0x9000), 0x8000),
            Some(3 << 16 | 0x8000)
        );
        assert_eq!(
            estimate_index(Some((u64::from(u32::MAX) << 16) | 0xffff), 1),
            None
        );
    }

    #[test]
    fn window_rejects_duplicates_and_old() {
        let mut w = ReplayWindow::new(64);
        w.check(100).unwrap();
        w.accept(100);
        assert_eq!(w.check(100), Err(Error::Replay("duplicate packet index")));
        w.check(99).unwrap();
        w.accept(99);
        assert!(w.check(99).is_err());
        w.check(37).unwrap();
        assert_eq!(w.check(36), Err(Error::Replay("older than the replay window")));
        w.accept(300);
        assert!(w.check(100).is_err());
        w.check(299).unwrap();
        w.check(237).unwrap();
        assert!(w.check(300).is_err());
    }

    #[test]
    fn large_window_clears_reused_slots() {
        let mut w = ReplayWindow::new(MAX_REPLAY_WINDOW);
        for i in 0..100_000u64 {
            w.check(i).unwrap();
            w.accept(i);
        }
        assert!(w.check(99_999 - 32_767).is_err());
        assert!(w.check(99_999 - 32_768).is_err());
        w.accept(200_000);
        w.check(199_999).unwrap();
    }
}
