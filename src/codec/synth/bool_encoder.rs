//! RFC 6386 §7: the boolean entropy encoder.
//!
//! The coder keeps an interval `[bottom, bottom + range)` with `range` in 128..=255 once
//! normalized. A bool with probability `prob / 256` of being false splits the range at
//! `split = 1 + ((range - 1) * prob) >> 8`: false keeps the low part, true the high part.
//! Each doubling of `range` shifts one bit of `bottom` towards the output; a byte is written
//! every 8 shifts, and a carry out of `bottom` is propagated into the bytes already written.

/// RFC 6386 §7.3 boolean encoder writing into its own buffer.
#[derive(Debug)]
pub(crate) struct BoolEncoder {
    out: Vec<u8>,
    /// 128..=255 between calls.
    range: u32,
    /// Low end of the interval; its top bits are the bits not yet written out.
    bottom: u32,
    /// Shifts left before the next byte is complete (24 at the start, then 8).
    shifts_to_byte: u32,
}

impl BoolEncoder {
    pub(crate) fn new() -> Self {
        BoolEncoder {
            out: Vec::new(),
            range: 255,
            bottom: 0,
            shifts_to_byte: 24,
        }
    }

    /// Codes `bit`, whose probability of being false is `prob / 256`.
    pub(crate) fn put(&mut self, prob: u8, bit: bool) {
        let split = 1 + (((self.range - 1) * u32::from(prob)) >> 8);
        if bit {
            self.bottom = self.bottom.wrapping_add(split);
            self.range -= split;
        } else {
            self.range = split;
        }
        while self.range < 128 {
            self.range <<= 1;
            if self.bottom & (1 << 31) != 0 {
                self.propagate_carry();
            }
            self.bottom <<= 1;
            self.shifts_to_byte -= 1;
            if self.shifts_to_byte == 0 {
                self.out.push((self.bottom >> 24) as u8);
                self.bottom &= 0x00ff_ffff;
                self.shifts_to_byte = 8;
            }
        }
    }

    /// RFC 6386 §8.1 `L(n)`: an unsigned `n`-bit literal, most significant bit first, each
    /// bit at probability one half.
    pub(crate) fn put_literal(&mut self, bits: u32, value: u32) {
        for i in (0..bits).rev() {
            self.put(128, (value >> i) & 1 == 1);
        }
    }

    /// RFC 6386 §8.1 `L(1)`.
    pub(crate) fn put_flag(&mut self, bit: bool) {
        self.put(128, bit);
    }

    fn propagate_carry(&mut self) {
        for byte in self.out.iter_mut().rev() {
            if *byte == 0xff {
                *byte = 0;
            } else {
                *byte += 1;
                return;
            }
        }
    }

    /// Pads the interval out with 32 false bools at probability one half, which pushes every
    /// pending bit of `bottom` into the output, and returns the bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        for _ in 0..32 {
            self.put(128, false);
        }
        self.out
    }
}
