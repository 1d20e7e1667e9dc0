//! The replay list of RFC 3711 §3.3.2: a sliding window of packet indices already accepted,
//! as a bitmap behind the highest index seen.

/// Packets behind the highest accepted index that are still remembered: older ones are
/// refused as too old. Large enough for video with retransmissions and reordering.
pub const REPLAY_WINDOW: u64 = 1024;

const WORDS: usize = (REPLAY_WINDOW / 64) as usize;

/// Why a packet index is refused.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// Accepted before.
    Replayed,
    /// Behind the window: it cannot be told apart from a replay.
    TooOld,
}

/// Bit `i` of the map is the index `highest - i`.
#[derive(Clone, Debug, Default)]
pub struct ReplayWindow {
    highest: Option<u64>,
    bits: [u64; WORDS],
}

impl ReplayWindow {
    /// Whether `index` may be accepted (checked before authentication; nothing changes).
    pub fn check(&self, index: u64) -> Result<(), ReplayError> {
        let Some(highest) = self.highest else { return Ok(()) };
        if index > highest {
            return Ok(());
        }
        let behind = highest - index;
        if behind >= REPLAY_WINDOW {
            return Err(ReplayError::TooOld);
        }
        if self.bit(behind) {
            Err(ReplayError::Replayed)
        } else {
            Ok(())
        }
    }

    /// Records `index` as accepted (after authentication; [`ReplayWindow::check`] passed).
    pub fn accept(&mut self, index: u64) {
        match self.highest {
            None => {
                self.highest = Some(index);
                self.bits = [0; WORDS];
                self.bits[0] = 1;
            }
            Some(highest) if index > highest => {
                self.shift(index - highest);
                self.bits[0] |= 1;
                self.highest = Some(index);
            }
            Some(highest) => {
                let behind = highest - index;
                if behind < REPLAY_WINDOW {
                    self.bits[(behind / 64) as usize] |= 1 << (behind % 64);
                }
            }
        }
    }

    /// The highest index accepted.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    fn bit(&self, behind: u64) -> bool {
        self.bits[(behind / 64) as usize] & (1 << (behind % 64)) != 0
    }

    /// Moves every bit `n` places towards older indices.
    fn shift(&mut self, n: u64) {
        if n >= REPLAY_WINDOW {
            self.bits = [0; WORDS];
            return;
        }
        let words = (n / 64) as usize;
        let bits = (n % 64) as u32;
        for i in (0..WORDS).rev() {
            let from = i.checked_sub(words);
            let hi = from.map_or(0, |f| self.bits[f]);
            let lo = from.and_then(|f| f.checked_sub(1)).map_or(0, |f| self.bits[f]);
            self.bits[i] = if bits == 0 { hi } else { (hi << bits) | (lo >> (64 - bits)) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_index_once_in_any_order_within_the_window() {
        let mut w = ReplayWindow::default();
        for i in [10u64, 12, 11, 5, 200, 199, 150] {
            assert_eq!(w.check(i), Ok(()), "{i}");
            w.accept(i);
            assert_eq!(w.check(i), Err(ReplayError::Replayed), "{i} again");
        }
        for i in [10u64, 12, 11, 5, 200, 199, 150] {
            assert_eq!(w.check(i), Err(ReplayError::Replayed), "{i} later");
        }
        assert_eq!(w.check(6), Ok(()));
        assert_eq!(w.highest(), Some(200));
    }

    #[test]
    fn the_window_edge_and_big_jumps() {
        let mut w = ReplayWindow::default();
        w.accept(5000);
        assert_eq!(w.check(5000 - REPLAY_WINDOW + 1), Ok(()));
        assert_eq!(w.check(5000 - REPLAY_WINDOW), Err(ReplayError::TooOld));
        w.accept(5000 - 700);
        w.accept(5000 + 65);
        // The shift moved the older bits with it (across words).
        assert_eq!(w.check(5000), Err(ReplayError::Replayed));
        assert_eq!(w.check(5000 - 700), Err(ReplayError::Replayed));
        assert_eq!(w.check(5000 - 699), Ok(()));
        w.accept(1 << 40);
        assert_eq!(w.check(5000), Err(ReplayError::TooOld));
        assert_eq!(w.check((1 << 40) - 1), Ok(()));
    }

    #[test]
    fn matches_a_set_model_over_a_pseudo_random_walk() {
        let mut w = ReplayWindow::default();
        let mut seen = std::collections::BTreeSet::new();
        let mut x = 0x1234_5678_u64;
        let mut base = 100_000u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            base += x % 5;
            let i = base.saturating_sub(x % 1500);
            let expected = match seen.last() {
                Some(&h) if i + REPLAY_WINDOW <= h => Err(ReplayError::TooOld),
                _ if seen.contains(&i) => Err(ReplayError::Replayed),
                _ => Ok(()),
            };
            assert_eq!(w.check(i), expected, "index {i}");
            if expected.is_ok() {
                w.accept(i);
                seen.insert(i);
            }
        }
    }
}
