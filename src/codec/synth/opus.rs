//! Opus frames for a synthetic audio track (RFC 6716).
//!
//! What this produces, 20 ms mono CELT-only packets (48 kHz):
//! - [`SILENCE_FRAME`], a fixed 3-byte packet that decodes as silence;
//! - [`tone_frame`], a fixed 41-byte packet (16.4 kbit/s) whose output is a narrow band of
//!   energy between 800 and 1000 Hz at about -20 dBFS: a tone-like hum, not a pure sine (only
//!   the band energies are coded, see there).
//!
//! The silence packet:
//! - TOC byte `0xf8` (RFC 6716 §3.1): configuration 31 (CELT-only, fullband, 20 ms),
//!   `s` = 0 (mono), `c` = 0 (one frame in the packet).
//! - Range-coded body `0xff 0xfe` (§4.1): the first CELT symbol is the silence flag
//!   (§4.3, Table 56, probability 1/32768 of being set); these bytes put the decoder's value
//!   in that sliver of the range, so the frame decodes as silence and the rest is skipped.
//!
//! A decoder gives [`SAMPLES_PER_FRAME`] samples of zero per packet (at 48 kHz).

/// RFC 6716 §3.1: configuration 31 (CELT-only, fullband, 20 ms), mono, one frame.
pub const SILENCE_TOC: u8 = 31 << 3; // config 31, s = 0, c = 0
/// One 20 ms mono Opus packet that decodes as silence.
pub const SILENCE_FRAME: [u8; 3] = [SILENCE_TOC, 0xff, 0xfe];
/// Opus's sample rate on the wire and in RTP (RFC 7587 §4.1).
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples per channel in one 20 ms frame at 48 kHz (also the RTP timestamp step).
pub const SAMPLES_PER_FRAME: u32 = 960;
/// Duration of one frame in microseconds.
pub const FRAME_DURATION_US: u64 = 20_000;

/// The fields of a TOC byte (RFC 6716 §3.1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Toc {
    /// 0..=31: mode, bandwidth and frame size (Table 2).
    pub config: u8,
    pub stereo: bool,
    /// Frame count code `c`: 0 one frame, 1 two equal, 2 two different, 3 arbitrary.
    pub code: u8,
}

impl Toc {
    pub fn parse(byte: u8) -> Self {
        Toc {
            config: byte >> 3,
            stereo: byte & 0b100 != 0,
            code: byte & 0b11,
        }
    }

    /// RFC 6716 §3.1 Table 2: configurations 16..=31 are CELT-only.
    pub fn is_celt_only(&self) -> bool {
        self.config >= 16
    }

    /// Frame duration in microseconds (Table 2).
    pub fn frame_duration_us(&self) -> u32 {
        let c = self.config;
        match c {
            0..=11 => [10_000, 20_000, 40_000, 60_000][usize::from(c % 4)],
            12..=15 => [10_000, 20_000][usize::from(c % 2)],
            _ => [2_500, 5_000, 10_000, 20_000][usize::from(c % 4)],
        }
    }
}

/// Makes the 20 ms frames of a silent Opus track.
#[derive(Clone, Debug, Default)]
pub struct OpusSilence {
    frames: u64,
}

impl OpusSilence {
    pub fn new() -> Self {
        OpusSilence { frames: 0 }
    }

    /// The next packet: always [`SILENCE_FRAME`].
    pub fn next_frame(&mut self) -> &'static [u8] {
        self.frames = self.frames.saturating_add(1);
        &SILENCE_FRAME
    }

    /// RTP timestamp (48 kHz ticks from 0) of the packet `next_frame` returns next.
    pub fn next_timestamp(&self) -> u32 {
        (self.frames.wrapping_mul(u64::from(SAMPLES_PER_FRAME)) & 0xffff_ffff) as u32
    }

    /// Packets given so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }
}

/// RFC 6716 §5.1: the range encoder (the encoder side of the §4.1 range decoder): `val` is
/// the low end of the interval and `rng` its size, renormalized a byte at a time; a byte
/// held back in `rem` and a run of `ext` 0xff bytes take the carry.
#[derive(Debug)]
struct RangeEncoder {
    out: Vec<u8>,
    val: u32,
    rng: u32,
    rem: Option<u8>,
    ext: usize,
    bits_total: u32,
}

const CODE_TOP: u32 = 1 << 31;
const CODE_BOT: u32 = 1 << 23;
const CODE_SHIFT: u32 = 23;

impl RangeEncoder {
    fn new() -> Self {
        RangeEncoder {
            out: Vec::new(),
            val: 0,
            rng: CODE_TOP,
            rem: None,
            ext: 0,
            bits_total: 33,
        }
    }

    /// §4.1.6 `ec_tell()`: whole bits used so far, as the decoder counts them.
    fn tell(&self) -> u32 {
        self.bits_total - (32 - self.rng.leading_zeros())
    }

    fn carry_out(&mut self, c: u32) {
        if c == 0xff {
            self.ext += 1;
            return;
        }
        let carry = c >> 8;
        if let Some(rem) = self.rem {
            self.out.push(rem.wrapping_add(carry as u8));
        }
        for _ in 0..self.ext {
            self.out.push((0xffu32.wrapping_add(carry) & 0xff) as u8);
        }
        self.ext = 0;
        self.rem = Some((c & 0xff) as u8);
    }

    fn normalize(&mut self) {
        while self.rng <= CODE_BOT {
            self.carry_out(self.val >> CODE_SHIFT);
            self.val = (self.val << 8) & (CODE_TOP - 1);
            self.rng <<= 8;
            self.bits_total += 8;
        }
    }

    /// Codes the symbol whose cumulative frequencies are `fl..fh` out of `1 << bits`.
    fn encode_bin(&mut self, fl: u32, fh: u32, bits: u32) {
        let r = self.rng >> bits;
        if fl > 0 {
            self.val = self.val.wrapping_add(self.rng - r * ((1 << bits) - fl));
            self.rng = r * (fh - fl);
        } else {
            self.rng -= r * ((1 << bits) - fh);
        }
        self.normalize();
    }

    /// §4.1.3.2 `ec_dec_bit_logp()`'s encoder: a bit whose probability of being 1 is
    /// `1 / 2^logp`.
    fn bit_logp(&mut self, bit: bool, logp: u32) {
        let s = self.rng >> logp;
        let r = self.rng - s;
        if bit {
            self.val = self.val.wrapping_add(r);
            self.rng = s;
        } else {
            self.rng = r;
        }
        self.normalize();
    }

    /// §4.3.2.1: a coarse energy delta with the Laplace-like model (`fs` the probability of
    /// 0 in Q15, `decay` in Q14 as the decoder takes them). Returns false, writing nothing,
    /// for a magnitude beyond the model's decaying part (not needed here).
    fn laplace(&mut self, value: i32, fs0: u32, decay: u32) -> bool {
        const MIN_P: u32 = 1;
        const N_MIN: u32 = 16;
        let (mut fl, mut fs) = (0u32, fs0);
        if value != 0 {
            let magnitude = value.unsigned_abs();
            fl = fs0;
            fs = ((32768 - MIN_P * 2 * N_MIN - fs0) * (16384 - decay)) >> 15;
            let mut i = 1;
            while fs > 0 && i < magnitude {
                fs *= 2;
                fl += fs + 2 * MIN_P;
                fs = (fs * decay) >> 15;
                i += 1;
            }
            if fs == 0 {
                return false;
            }
            fs += MIN_P;
            if value > 0 {
                fl += fs;
            }
        }
        self.encode_bin(fl, (fl + fs).min(32768), 15);
        true
    }

    /// Flushes the interval with as few bits as pin it down, then pads with zeros to `len`.
    fn finish(mut self, len: usize) -> Vec<u8> {
        let mut l = 32 - (32 - self.rng.leading_zeros()) as i32;
        let mut mask = (CODE_TOP - 1) >> l;
        let mut end = (self.val.wrapping_add(mask)) & !mask;
        if (end | mask) >= self.val.wrapping_add(self.rng) {
            l += 1;
            mask >>= 1;
            end = (self.val.wrapping_add(mask)) & !mask;
        }
        while l > 0 {
            self.carry_out(end >> CODE_SHIFT);
            end = (end << 8) & (CODE_TOP - 1);
            l -= 8;
        }
        if self.rem.is_some() || self.ext > 0 {
            self.carry_out(0);
        }
        self.out.resize(len.max(self.out.len()), 0);
        self.out
    }
}

/// RFC 6716 reference `e_prob_model[3][1]`: the coarse energy model of 20 ms intra frames,
/// (probability of 0 in Q8, decay in Q8) per band.
const E_PROB_MODEL_20MS_INTRA: [u8; 42] = [
    22, 178, 63, 114, 74, 82, 84, 83, 92, 82, 103, 62, 96, 72, 96, 67, 101, 73, 107, 72, 113, 55,
    118, 52, 125, 52, 118, 52, 117, 55, 135, 49, 137, 39, 157, 32, 145, 29, 97, 33, 77, 40,
];

/// Coarse energy deltas (6 dB steps; with intra prediction a band's energy is the running
/// sum of the steps before it, each less 15%, plus its own): band 4 (800 to 1000 Hz at
/// 20 ms) 5 steps up, band 5 brought back down, the rest at 0 (about 30 dB below band 4).
/// Both steps are within what the bands' models code (8 and 7).
const TONE_ENERGY_DELTAS: [i32; 21] = [
    0, 0, 0, 0, 5, -5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// Bytes of a tone packet after the TOC byte (16 kbit/s at 50 packets a second).
pub const TONE_FRAME_BYTES: usize = 40;
/// The band the tone's energy sits in, in Hz (CELT band 4 of a 20 ms frame).
pub const TONE_BAND_HZ: (u32, u32) = (800, 1000);

/// One 20 ms mono CELT-only packet (TOC [`SILENCE_TOC`]) whose spectrum is one narrow band:
/// a tone-like signal between [`TONE_BAND_HZ`]. Only the header flags (no silence, no
/// post-filter, not transient, intra energy) and the coarse band energies (§4.3.2.1) are
/// coded; the decoder reads the rest of the frame (fine energy, band shapes) from the zero
/// padding, which changes the shape inside each band but not the band energies, so the
/// energy stays in band 4. The packet is the same every time (the energy is intra coded).
pub fn tone_frame() -> Vec<u8> {
    encode_tone().0
}

/// The tone packet, and whether every band's energy was coded as intended.
fn encode_tone() -> (Vec<u8>, bool) {
    let mut all_coded = true;
    let mut e = RangeEncoder::new();
    let total_bits = (TONE_FRAME_BYTES * 8) as u32;
    e.bit_logp(false, 15); // silence
    e.bit_logp(false, 1); // post-filter off (coded: tell + 16 <= total_bits)
    e.bit_logp(false, 3); // transient: no
    e.bit_logp(true, 3); // intra energy
    for (band, &q) in TONE_ENERGY_DELTAS.iter().enumerate() {
        if total_bits.saturating_sub(e.tell()) < 15 {
            all_coded = false; // not reached at this size (checked by the tests)
            break;
        }
        let fs = u32::from(E_PROB_MODEL_20MS_INTRA[2 * band]) << 7;
        let decay = u32::from(E_PROB_MODEL_20MS_INTRA[2 * band + 1]) << 6;
        if !e.laplace(q, fs, decay) {
            all_coded = false;
            e.laplace(0, fs, decay);
        }
    }
    let mut out = Vec::with_capacity(1 + TONE_FRAME_BYTES);
    out.push(SILENCE_TOC);
    out.extend_from_slice(&e.finish(TONE_FRAME_BYTES));
    all_coded &= out.len() == 1 + TONE_FRAME_BYTES;
    out.truncate(1 + TONE_FRAME_BYTES);
    (out, all_coded)
}

#[cfg(test)]
pub(super) fn tone_is_fully_coded() -> bool {
    encode_tone().1
}

#[cfg(test)]
mod tests {
    use super::RangeEncoder;

    /// RFC 6716 §4.1 range decoder (test side only).
    struct RangeDecoder<'a> {
        data: &'a [u8],
        pos: usize,
        rng: u32,
        val: u32,
        rem: u32,
    }

    impl<'a> RangeDecoder<'a> {
        fn new(data: &'a [u8]) -> Self {
            let mut d = RangeDecoder {
                data,
                pos: 0,
                rng: 128,
                val: 0,
                rem: 0,
            };
            d.rem = d.byte();
            d.val = 127 - (d.rem >> 1);
            d.normalize();
            d
        }

        fn byte(&mut self) -> u32 {
            let b = self.data.get(self.pos).copied().unwrap_or(0);
            self.pos += 1;
            u32::from(b)
        }

        fn normalize(&mut self) {
            while self.rng <= 1 << 23 {
                self.rng <<= 8;
                let sym = self.rem;
                self.rem = self.byte();
                let sym = ((sym << 8) | self.rem) >> 1;
                self.val = ((self.val << 8) + (255 & !sym)) & ((1 << 31) - 1);
            }
        }

        fn bit_logp(&mut self, logp: u32) -> bool {
            let s = self.rng >> logp;
            let bit = self.val < s;
            if bit {
                self.rng = s;
            } else {
                self.val -= s;
                self.rng -= s;
            }
            self.normalize();
            bit
        }

        /// §4.1.1 `ec_decode_bin()` then `ec_dec_update()`, through `pick`, which maps the
        /// decoded frequency to the symbol's `fl..fh`.
        fn bin(&mut self, bits: u32, pick: impl FnOnce(u32) -> (u32, u32)) {
            let ext = self.rng >> bits;
            let s = self.val / ext;
            let fm = (1 << bits) - (s + 1).min(1 << bits);
            let (fl, fh) = pick(fm);
            let s = ext * ((1 << bits) - fh);
            self.val -= s;
            self.rng = if fl > 0 {
                ext * (fh - fl)
            } else {
                self.rng - s
            };
            self.normalize();
        }

        /// §4.3.2.1 `ec_laplace_decode()`.
        fn laplace(&mut self, fs0: u32, decay: u32) -> i32 {
            let mut value = 0i32;
            self.bin(15, |fm| {
                let (mut fl, mut fs) = (0u32, fs0);
                if fm >= fs0 {
                    value = 1;
                    fl = fs0;
                    fs = (((32768 - 32 - fs0) * (16384 - decay)) >> 15) + 1;
                    while fs > 1 && fm >= fl + 2 * fs {
                        fs *= 2;
                        fl += fs;
                        fs = (((fs - 2) * decay) >> 15) + 1;
                        value += 1;
                    }
                    if fs <= 1 {
                        let di = (fm - fl) >> 1;
                        value += di as i32;
                        fl += 2 * di;
                    }
                    if fm < fl + fs {
                        value = -value;
                    } else {
                        fl += fs;
                    }
                }
                (fl, (fl + fs).min(32768))
            });
            value
        }
    }

    #[test]
    fn range_coder_round_trips() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for _ in 0..50 {
            let mut symbols = Vec::new();
            let mut e = RangeEncoder::new();
            for _ in 0..(next() % 300) {
                let r = next();
                if r & 1 == 0 {
                    let logp = 1 + (r >> 1) as u32 % 15;
                    let bit = (r >> 8) % 4 == 0;
                    e.bit_logp(bit, logp);
                    symbols.push((0, logp, i32::from(bit)));
                } else {
                    let fs = 1024 + ((r >> 1) as u32 % 24000);
                    let decay = 2000 + ((r >> 20) as u32 % 12000);
                    let v = ((r >> 40) % 9) as i32 - 4;
                    if e.laplace(v, fs, decay) {
                        symbols.push((1, fs | decay << 16, v));
                    }
                }
            }
            let tell = e.tell();
            let len = (tell as usize).div_ceil(8) + 1;
            let bytes = e.finish(len);
            assert!(bytes.len() <= len, "{} bytes for {tell} bits", bytes.len());
            let mut d = RangeDecoder::new(&bytes);
            for &(kind, p, v) in &symbols {
                if kind == 0 {
                    assert_eq!(i32::from(d.bit_logp(p)), v);
                } else {
                    assert_eq!(d.laplace(p & 0xffff, p >> 16), v);
                }
            }
        }
    }
}
