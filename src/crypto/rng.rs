//! The one injected source of randomness.
//!
//! Every ICE credential, DTLS random, SCTP tag and key comes from an [`Rng`]. The host
//! seeds it from the operating system (`Rng::from_entropy`, getrandom behind it, with its
//! JS backend on wasm32) and tests seed it with a fixed value so runs are reproducible.

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};

/// A ChaCha20 CSPRNG. Cheap to [`fork`](Rng::fork) so each component owns its own.
pub struct Rng(ChaCha20Rng);

impl Rng {
    /// Seeded from the operating system's entropy source.
    pub fn from_entropy() -> Result<Rng, getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)?;
        Ok(Rng(ChaCha20Rng::from_seed(seed)))
    }

    /// Deterministic, for tests and simulations.
    pub fn from_seed(seed: [u8; 32]) -> Rng {
        Rng(ChaCha20Rng::from_seed(seed))
    }

    /// Deterministic from a small number, for tests.
    pub fn seeded(n: u64) -> Rng {
        Rng(ChaCha20Rng::seed_from_u64(n))
    }

    /// A new independent generator seeded from this one.
    pub fn fork(&mut self) -> Rng {
        let mut seed = [0u8; 32];
        self.0.fill_bytes(&mut seed);
        Rng::from_seed(seed)
    }

    pub fn u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        self.0.fill_bytes(buf)
    }

    /// A uniformly random value in `0..n` (`n > 0`; returns 0 for `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Rejection sampling to avoid modulo bias.
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.0.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// Random string over the ICE character set (RFC 8839 `ice-char`: ALPHA / DIGIT / "+" / "/").
    pub fn ice_string(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..len)
            .map(|_| CHARS[self.below(CHARS.len() as u64) as usize] as char)
            .collect()
    }
}

impl RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl CryptoRng for Rng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_deterministic_and_forks_differ() {
        let mut a = Rng::seeded(7);
        let mut b = Rng::seeded(7);
        assert_eq!(a.u64(), b.u64());
        let mut fa = a.fork();
        assert_ne!(fa.u64(), a.u64());
    }

    #[test]
    fn ice_string_uses_ice_chars() {
        let s = Rng::seeded(1).ice_string(200);
        assert_eq!(s.len(), 200);
        assert!(s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/'));
    }

    #[test]
    fn below_is_in_range() {
        let mut r = Rng::seeded(3);
        for n in 1..50 {
            assert!(r.below(n) < n);
        }
    }
}
