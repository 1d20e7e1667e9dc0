//! Table-driven reflected CRC-32 for the WASM build: CRC-32 (ISO-HDLC, polynomial 0xEDB88320,
//! the STUN FINGERPRINT of RFC 8489 §14.7) and CRC-32C (Castagnoli, 0x82F63B78, the SCTP
//! checksum of RFC 9260 §6.8).
//!
//! Native builds use the `crc32fast` and `crc32c` crates through [`crc32`] and [`crc32c`]
//! (they pick CPU instructions at run time). On wasm32 those crates bring 24 KiB of precomputed tables into the `.wasm` for no
//! speed-up, so this module builds its slicing-by-8 tables (8 KiB per polynomial) in memory on
//! first use instead. It compiles on every target so that native tests check it against the
//! crates.

// Natively the tables serve only as the tests' reference.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use std::sync::OnceLock;

/// Polynomial of CRC-32 (ISO-HDLC), reflected.
pub const POLY_CRC32: u32 = 0xEDB8_8320;
/// Polynomial of CRC-32C (Castagnoli), reflected.
pub const POLY_CRC32C: u32 = 0x82F6_3B78;

type Tables = [[u32; 256]; 8];

fn build(poly: u32) -> Box<Tables> {
    let mut t: Box<Tables> = Box::new([[0u32; 256]; 8]);
    for i in 0..256u32 {
        let mut c = i;
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
        }
        t[0][i as usize] = c;
    }
    for s in 1..8 {
        for i in 0..256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
        }
    }
    t
}

fn tables(poly: u32) -> &'static Tables {
    static CRC32: OnceLock<Box<Tables>> = OnceLock::new();
    static CRC32C: OnceLock<Box<Tables>> = OnceLock::new();
    let cell = if poly == POLY_CRC32C { &CRC32C } else { &CRC32 };
    cell.get_or_init(|| build(poly))
}

/// Continues a reflected CRC over `data` from a raw (not finalized) state `crc`. Start with
/// `!0` and finalize with `!`.
pub fn update(poly: u32, mut crc: u32, data: &[u8]) -> u32 {
    let t = tables(poly);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let lo = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) ^ crc;
        let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        let b = |w: u32, k: u32| ((w >> (8 * k)) & 0xff) as usize;
        crc = t[7][b(lo, 0)]
            ^ t[6][b(lo, 1)]
            ^ t[5][b(lo, 2)]
            ^ t[4][b(lo, 3)]
            ^ t[3][b(hi, 0)]
            ^ t[2][b(hi, 1)]
            ^ t[1][b(hi, 2)]
            ^ t[0][b(hi, 3)];
    }
    for &byte in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ u32::from(byte)) & 0xff) as usize];
    }
    crc
}

/// CRC-32 (ISO-HDLC) of `data`: `crc32fast` natively, the tables here on wasm32.
pub fn crc32(data: &[u8]) -> u32 {
    #[cfg(not(target_arch = "wasm32"))]
    return crc32fast::hash(data);
    #[cfg(target_arch = "wasm32")]
    return table_crc32(data);
}

/// CRC-32C (Castagnoli) of `data`: the `crc32c` crate natively, the tables here on wasm32.
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c_append(0, data)
}

/// Continues the finalized CRC-32C `crc` of earlier bytes over `data`.
pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    #[cfg(not(target_arch = "wasm32"))]
    return ::crc32c::crc32c_append(crc, data);
    #[cfg(target_arch = "wasm32")]
    return !update(POLY_CRC32C, !crc, data);
}

/// CRC-32 (ISO-HDLC) of `data` from the tables here.
pub fn table_crc32(data: &[u8]) -> u32 {
    !update(POLY_CRC32, !0, data)
}

/// CRC-32C (Castagnoli) of `data` from the tables here.
#[cfg(test)]
pub fn table_crc32c(data: &[u8]) -> u32 {
    !update(POLY_CRC32C, !0, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        // The CRC catalogue's check values (the CRC of the ASCII string "123456789").
        assert_eq!(table_crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(table_crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(table_crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c_append(crc32c(b"1234"), b"56789"), 0xE306_9283);
    }

    #[test]
    fn matches_the_native_crates_at_every_length_and_alignment() {
        let data: Vec<u8> = (0..2100u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in 0..data.len() {
            let s = &data[len % 11..len.max(len % 11)];
            assert_eq!(table_crc32(s), crc32fast::hash(s), "crc32 len {}", s.len());
            assert_eq!(table_crc32c(s), ::crc32c::crc32c(s), "crc32c len {}", s.len());
        }
    }

    #[test]
    fn update_continues_across_splits() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for cut in 0..data.len() {
            let (a, b) = data.split_at(cut);
            assert_eq!(!update(POLY_CRC32C, update(POLY_CRC32C, !0, a), b), table_crc32c(&data));
        }
    }
}
