//! A VP8 test-pattern encoder (RFC 6386).
//!
//! [`Vp8TestPattern::encode_frame`] gives a complete key frame (RFC 6386 §9, §19): the
//! 10-byte uncompressed chunk, then the first partition (frame header and per-macroblock
//! modes), then one token partition (the DCT/WHT coefficients). [`Vp8PatternStream`] adds
//! inter frames (§9.10, §16) between key frames: a macroblock whose colour did not change
//! is a skipped copy of the last frame (reference LAST, `ZEROMV`, coded with the
//! probability the §16.3 neighbour census gives), the others are intra coded as in a key
//! frame.
//!
//! The picture is built from flat 16x16 macroblocks, so each macroblock needs no more than
//! its DC terms:
//! - luma: a 16x16 mode (`DC_PRED`, `V_PRED` or `H_PRED`) with a Y2 (WHT) block carrying only
//!   its DC coefficient; the inverse WHT spreads it as the DC of all 16 Y subblocks, whose own
//!   coefficients are all zero (end of block at once);
//! - chroma: `DC_PRED`, `V_PRED` or `H_PRED`, and the same DC coefficient in the four
//!   subblocks of each plane.
//!
//! The encoder mirrors the decoder: it predicts each macroblock from the already
//! reconstructed neighbours with the edge rules of RFC 6386 §12.2 (`DC_PRED`: the rounded
//! mean of above and left, one edge alone at the frame's edge, 128 at the top-left corner;
//! `V_PRED` 127 above the top row; `H_PRED` 129 left of the first column), dequantizes and
//! inverts as §14 does, and for each mode picks the coefficient whose reconstruction comes
//! closest to the target colour, then keeps the mode with the smallest error and
//! coefficient. Macroblocks that a neighbour of the same colour predicts exactly (most of
//! them) are coded as skipped (RFC 6386 §11.1, `mb_skip_coeff`).
//! The loop filter is off (level 0), so what is reconstructed is what is shown.
//!
//! The pattern ([`Vp8TestPattern::target`]): the top two thirds are eight colour bars (white,
//! yellow, cyan, green, magenta, red, blue, black; BT.601 studio range), below them a dark
//! grey strip where a white box two macroblocks wide slides right by one macroblock every
//! [`BOX_STEP_FRAMES`] frames (wrapping around), and the bottom macroblock row shows the frame
//! index in binary (white = 1, most significant bit at the left). Frames under three
//! macroblock rows draw only the bars and the box.
//!
//! Size: the frame header is about 30 bytes, each macroblock of a key frame costs 3 to 5
//! bits of modes and skip flag, and only the macroblocks no neighbour predicts exactly (a
//! run's first one) carry coefficients (about 20 bytes each: the chroma DC is coded in all
//! four subblocks). An inter frame costs a fraction of a bit per unchanged macroblock plus
//! the changed ones (the box's two edges, the counter bits that flip). Measured (unit test
//! `frame_sizes_are_bounded`), at 30 fps:
//! - key frames only: 320x240 about 435 B a frame, 104 kbit/s; 640x480 about 855 B,
//!   205 kbit/s; 1280x720 about 1.9 KB, 462 kbit/s;
//! - [`Vp8PatternStream`] with a key frame every 60 frames: inter frames 37 B (320x240),
//!   65 B (640x480), 125 B (1280x720); 10, 18 and 37 kbit/s with the key frames.

use super::bool_encoder::BoolEncoder;
use super::tables::{COEFF_UPDATE_PROBS, DC_QLOOKUP, DEFAULT_COEFF_PROBS};
use super::SynthError;

/// Largest width or height taken (a multiple of 16; VP8 itself allows up to 16383).
pub const MAX_DIMENSION: u32 = 4096;
/// The moving box advances by one macroblock every this many frames (16 pixels every
/// 2 frames: 240 pixels a second at 30 fps).
pub const BOX_STEP_FRAMES: u64 = 2;
/// Width of the moving box, in macroblocks.
pub const BOX_WIDTH_MBS: usize = 2;
/// The quantizer index (RFC 6386 §9.6 `y_ac_qi`). Only DC terms are coded, so this sets the
/// colour precision more than the size (a coarser one shortens the coefficients' extra bits):
/// at 16 the luma step is 0.56 and the chroma step 2.25.
pub const Q_INDEX: u8 = 16;
/// Most a reconstructed colour component differs from the pattern's (half the chroma
/// quantizer step at [`Q_INDEX`], rounded up).
pub const MAX_COLOUR_ERROR: u8 = 2;

/// A colour in the decoder's YUV (BT.601 studio range: Y 16..=235, U and V 16..=240).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Yuv {
    pub y: u8,
    pub u: u8,
    pub v: u8,
}

impl Yuv {
    pub const fn new(y: u8, u: u8, v: u8) -> Self {
        Yuv { y, u, v }
    }
}

/// The colour bars, left to right: white, yellow, cyan, green, magenta, red, blue, black.
pub const BARS: [Yuv; 8] = [
    Yuv::new(235, 128, 128),
    Yuv::new(210, 16, 146),
    Yuv::new(170, 166, 16),
    Yuv::new(145, 54, 34),
    Yuv::new(106, 202, 222),
    Yuv::new(81, 90, 240),
    Yuv::new(41, 240, 110),
    Yuv::new(16, 128, 128),
];
/// Background of the strip the box moves in.
pub const STRIP: Yuv = Yuv::new(64, 128, 128);
/// The moving box, and the set bits of the frame counter.
pub const WHITE: Yuv = Yuv::new(235, 128, 128);
/// The clear bits of the frame counter.
pub const BLACK: Yuv = Yuv::new(16, 128, 128);

// RFC 6386 §13: block types (first index of the token probabilities).
const TYPE_Y_AFTER_Y2: usize = 0;
const TYPE_Y2: usize = 1;
const TYPE_CHROMA: usize = 2;

/// RFC 6386 §13.3: coefficient position to band.
const COEFF_BANDS: [usize; 17] = [0, 1, 2, 3, 6, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 0];

/// RFC 6386 §13.2: extra-bit probabilities of the six DCT_CAT tokens, most significant first.
const CAT_PROBS: [&[u8]; 6] = [
    &[159],
    &[165, 145],
    &[173, 148, 140],
    &[176, 155, 140, 135],
    &[180, 157, 141, 134, 130],
    &[254, 254, 243, 230, 196, 177, 153, 140, 133, 130, 129],
];
/// RFC 6386 §13.2: smallest magnitude of each DCT_CAT token.
const CAT_BASE: [u32; 6] = [5, 7, 11, 19, 35, 67];
/// Largest magnitude a token codes (DCT_CAT6 with all 11 extra bits set).
const MAX_COEFF: i32 = 67 + 2047;

/// RFC 6386 §11.2: fixed key-frame luma mode probabilities (`kf_ymode_prob`).
const KF_YMODE_PROB: [u8; 4] = [145, 156, 163, 128];
/// RFC 6386 §11.4: fixed key-frame chroma mode probabilities (`kf_uv_mode_prob`).
const KF_UV_MODE_PROB: [u8; 3] = [142, 114, 183];

/// RFC 6386 §9.10 prob_last as sent: the probability that an inter macroblock uses the
/// last frame (all of them do).
const PROB_LAST: u8 = 255;
/// RFC 6386 §16.1: default inter-frame luma and chroma mode probabilities.
const YMODE_PROB: [u8; 4] = [112, 86, 140, 37];
const UV_MODE_PROB: [u8; 3] = [162, 101, 204];
/// RFC 6386 §16.3 `vp8_mode_contexts`: the mv_ref tree probabilities by neighbour census;
/// only column 0 (ZEROMV against the rest) is used here.
const MODE_CONTEXTS: [[u8; 4]; 6] = [
    [7, 1, 1, 143],
    [14, 18, 14, 107],
    [135, 64, 57, 68],
    [60, 56, 128, 65],
    [159, 134, 128, 34],
    [234, 188, 128, 28],
];
/// RFC 6386 §17.2 `vp8_mv_update_probs`: the probability that a motion vector probability
/// is NOT updated (rows, then columns).
const MV_UPDATE_PROBS: [[u8; 19]; 2] = [
    [
        237, 246, 253, 253, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 250, 250, 252, 254,
        254,
    ],
    [
        231, 243, 245, 253, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 251, 251, 254, 254,
        254,
    ],
];

/// RFC 6386 §9.1: the key frame start code.
pub const START_CODE: [u8; 3] = [0x9d, 0x01, 0x2a];

/// RFC 6386 §11.2 and §11.4: the whole-macroblock intra modes used here.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Dc,
    /// Copy the row above (127 above the top row).
    Vertical,
    /// Copy the column to the left (129 left of the first column).
    Horizontal,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Dc, Mode::Vertical, Mode::Horizontal];

    /// RFC 6386 §12.2: the prediction of a flat macroblock from its flat neighbours, `n`
    /// pixels a side.
    fn predict(self, above: Option<u8>, left: Option<u8>, n: u32) -> u8 {
        match self {
            Mode::Dc => dc_predict(above, left, n),
            Mode::Vertical => above.unwrap_or(127),
            Mode::Horizontal => left.unwrap_or(129),
        }
    }

    /// `kf_ymode_tree` (RFC 6386 §11.2): DC_PRED "100", V_PRED "101", H_PRED "110".
    fn write_luma(self, e: &mut BoolEncoder) {
        e.put(KF_YMODE_PROB[0], true);
        match self {
            Mode::Dc | Mode::Vertical => {
                e.put(KF_YMODE_PROB[1], false);
                e.put(KF_YMODE_PROB[2], self == Mode::Vertical);
            }
            Mode::Horizontal => {
                e.put(KF_YMODE_PROB[1], true);
                e.put(KF_YMODE_PROB[3], false);
            }
        }
    }

    /// `ymode_tree` of inter frames (RFC 6386 §16.1): DC_PRED "0", V_PRED "100", H_PRED
    /// "101", with the default `ymode_prob` (never updated here).
    fn write_inter_frame_luma(self, e: &mut BoolEncoder) {
        match self {
            Mode::Dc => e.put(YMODE_PROB[0], false),
            Mode::Vertical | Mode::Horizontal => {
                e.put(YMODE_PROB[0], true);
                e.put(YMODE_PROB[1], false);
                e.put(YMODE_PROB[2], self == Mode::Horizontal);
            }
        }
    }

    /// `uv_mode_tree` (RFC 6386 §11.4): DC_PRED "0", V_PRED "10", H_PRED "110"; key frames
    /// use `kf_uv_mode_prob`, inter frames the default `uv_mode_prob`.
    fn write_chroma(self, e: &mut BoolEncoder, probs: &[u8; 3]) {
        match self {
            Mode::Dc => e.put(probs[0], false),
            Mode::Vertical => {
                e.put(probs[0], true);
                e.put(probs[1], false);
            }
            Mode::Horizontal => {
                e.put(probs[0], true);
                e.put(probs[1], true);
                e.put(probs[2], false);
            }
        }
    }
}

/// One macroblock's modes and DC coefficients (before dequantization).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct MacroblockCoeffs {
    /// Inter frames only: a copy of the last frame's macroblock (LAST, ZEROMV, skipped).
    inter: bool,
    luma_mode: Mode,
    chroma_mode: Mode,
    y2: i32,
    u: i32,
    v: i32,
}

impl MacroblockCoeffs {
    fn is_zero(&self) -> bool {
        self.y2 == 0 && self.u == 0 && self.v == 0
    }
}

/// RFC 6386 §14.1: the dequantization factors this encoder uses.
#[derive(Copy, Clone, Debug)]
struct Dequant {
    y2_dc: i32,
    uv_dc: i32,
}

impl Dequant {
    fn new(q_index: u8) -> Self {
        let q = usize::from(q_index.min(127));
        let dc = DC_QLOOKUP.get(q).copied().unwrap_or(4);
        Dequant {
            y2_dc: i32::from(dc) * 2,
            uv_dc: i32::from(dc.min(132)),
        }
    }

    /// What a Y2 DC coefficient adds to every luma pixel: the DC-only inverse WHT
    /// (`(x + 3) >> 3`, RFC 6386 §14.3) feeds each subblock a DC whose DC-only inverse DCT is
    /// `(dc + 4) >> 3` (§14.4).
    fn luma_residue(&self, coeff: i32) -> i32 {
        let wht = (coeff * self.y2_dc + 3) >> 3;
        (wht + 4) >> 3
    }

    /// What a chroma DC coefficient adds to the pixels of its 4x4 subblock.
    fn chroma_residue(&self, coeff: i32) -> i32 {
        (coeff * self.uv_dc + 4) >> 3
    }
}

/// The coefficient in `-MAX_COEFF..=MAX_COEFF` whose reconstruction `clamp(pred +
/// residue(c))` is nearest `target`; the smallest such magnitude on ties.
fn best_coeff(pred: u8, target: u8, step: i32, residue: impl Fn(i32) -> i32) -> (i32, u8) {
    let delta = i32::from(target) - i32::from(pred);
    // residue(c) is close to c * step / 64 for luma (step = factor) and c * step / 8 for
    // chroma; the caller passes the scale that makes `estimate` land within a few steps.
    let estimate = (delta * 64 + delta.signum() * step / 2) / step.max(1);
    let reconstruct = |c: i32| (i32::from(pred) + residue(c)).clamp(0, 255);
    let mut best: (i32, i32) = (0, reconstruct(0));
    let window = 8 + 64 / step.max(1);
    for c in (estimate - window)..=(estimate + window) {
        let c = c.clamp(-MAX_COEFF, MAX_COEFF);
        let value = reconstruct(c);
        let err = (value - i32::from(target)).abs();
        let best_err = (best.1 - i32::from(target)).abs();
        if err < best_err || (err == best_err && c.abs() < best.0.abs()) {
            best = (c, value);
        }
    }
    (best.0, best.1.clamp(0, 255) as u8)
}

/// RFC 6386 §12.2 (and §12.3 for 16x16 luma): the `DC_PRED` value of a flat macroblock from
/// its flat neighbours, `n` pixels a side (16 for luma, 8 for chroma).
fn dc_predict(above: Option<u8>, left: Option<u8>, n: u32) -> u8 {
    let shift = n.trailing_zeros();
    let value = match (above, left) {
        (Some(a), Some(l)) => (n * u32::from(a) + n * u32::from(l) + n) >> (shift + 1),
        (Some(edge), None) | (None, Some(edge)) => (n * u32::from(edge) + n / 2) >> shift,
        (None, None) => 128,
    };
    value.min(255) as u8
}

/// The key-frame test pattern encoder. See the module documentation for the pattern and the
/// coding scheme.
#[derive(Clone, Debug)]
pub struct Vp8TestPattern {
    width: u16,
    height: u16,
    mb_cols: usize,
    mb_rows: usize,
    dequant: Dequant,
}

impl Vp8TestPattern {
    /// `width` and `height` must be multiples of 16 from 16 to [`MAX_DIMENSION`].
    pub fn new(width: u32, height: u32) -> Result<Self, SynthError> {
        let ok = |d: u32| (16..=MAX_DIMENSION).contains(&d) && d & 15 == 0;
        if !ok(width) || !ok(height) {
            return Err(SynthError::UnsupportedDimensions { width, height });
        }
        let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
            return Err(SynthError::UnsupportedDimensions { width, height });
        };
        Ok(Vp8TestPattern {
            width: w,
            height: h,
            mb_cols: usize::from(w / 16),
            mb_rows: usize::from(h / 16),
            dequant: Dequant::new(Q_INDEX),
        })
    }

    pub fn width(&self) -> u32 {
        u32::from(self.width)
    }

    pub fn height(&self) -> u32 {
        u32::from(self.height)
    }

    /// Macroblock rows taken by the colour bars.
    fn bar_rows(&self) -> usize {
        if self.mb_rows < 3 {
            self.mb_rows
        } else {
            (self.mb_rows * 2 / 3).max(1)
        }
    }

    /// The leftmost macroblock column of the moving box in frame `frame_index`.
    pub fn box_column(&self, frame_index: u64) -> usize {
        let cols = self.mb_cols as u64;
        ((frame_index / BOX_STEP_FRAMES) % cols) as usize
    }

    /// The colour the pattern asks for at macroblock (`mb_x`, `mb_y`) of frame `frame_index`.
    pub fn target(&self, frame_index: u64, mb_x: usize, mb_y: usize) -> Yuv {
        let bar = BARS
            .get(mb_x * BARS.len() / self.mb_cols.max(1))
            .copied()
            .unwrap_or(BLACK);
        let in_box = {
            let first = self.box_column(frame_index);
            (0..BOX_WIDTH_MBS).any(|i| (first + i) % self.mb_cols == mb_x)
        };
        if self.mb_rows < 3 {
            // Too small for a strip and a counter: the box runs over the bottom bar row.
            return if in_box && mb_y + 1 == self.mb_rows {
                WHITE
            } else {
                bar
            };
        }
        if mb_y < self.bar_rows() {
            bar
        } else if mb_y + 1 < self.mb_rows {
            if in_box {
                WHITE
            } else {
                STRIP
            }
        } else {
            let bits = self.mb_cols.min(64);
            if mb_x >= bits {
                return BLACK;
            }
            let bit = bits - 1 - mb_x;
            if (frame_index >> bit) & 1 == 1 {
                WHITE
            } else {
                BLACK
            }
        }
    }

    /// The colour the pattern asks for at pixel (`x`, `y`) (luma coordinates).
    pub fn target_at(&self, frame_index: u64, x: u32, y: u32) -> Yuv {
        self.target(frame_index, (x / 16) as usize, (y / 16) as usize)
    }

    /// Works out every macroblock's coefficients, mirroring the decoder's reconstruction.
    /// Returns the coefficients and the reconstructed colours, in raster order.
    ///
    /// With a `reference` (the decoder's last frame, for an inter frame), a macroblock whose
    /// reference colour is already within [`MAX_COLOUR_ERROR`] of the target is copied from
    /// it; the others are intra coded as in a key frame.
    fn analyse(
        &self,
        frame_index: u64,
        reference: Option<&[Yuv]>,
    ) -> (Vec<MacroblockCoeffs>, Vec<Yuv>) {
        let count = self.mb_cols * self.mb_rows;
        let mut coeffs = Vec::with_capacity(count);
        let mut recon: Vec<Yuv> = Vec::with_capacity(count);
        for mb_y in 0..self.mb_rows {
            for mb_x in 0..self.mb_cols {
                let above = if mb_y > 0 {
                    recon.get((mb_y - 1) * self.mb_cols + mb_x).copied()
                } else {
                    None
                };
                let left = if mb_x > 0 {
                    recon.last().copied()
                } else {
                    None
                };
                let target = self.target(frame_index, mb_x, mb_y);
                let copied = reference
                    .and_then(|r| r.get(mb_y * self.mb_cols + mb_x))
                    .filter(|r| {
                        r.y.abs_diff(target.y) <= MAX_COLOUR_ERROR
                            && r.u.abs_diff(target.u) <= MAX_COLOUR_ERROR
                            && r.v.abs_diff(target.v) <= MAX_COLOUR_ERROR
                    });
                if let Some(&same) = copied {
                    coeffs.push(MacroblockCoeffs {
                        inter: true,
                        ..MacroblockCoeffs::default()
                    });
                    recon.push(same);
                    continue;
                }
                let dq = self.dequant;
                let luma = |mode: Mode| {
                    let pred = mode.predict(above.map(|c| c.y), left.map(|c| c.y), 16);
                    best_coeff(pred, target.y, dq.y2_dc, |c| dq.luma_residue(c))
                };
                let chroma = |mode: Mode, pick: fn(&Yuv) -> u8, t: u8| {
                    let pred = mode.predict(above.as_ref().map(pick), left.as_ref().map(pick), 8);
                    best_coeff(pred, t, dq.uv_dc * 8, |c| dq.chroma_residue(c))
                };
                // The mode that reaches the target best, then with the smallest coefficients
                // (a neighbour of the same colour gives an exact prediction and no residue).
                let err = |a: u8, b: u8| (i32::from(a) - i32::from(b)).abs();
                let (luma_mode, (y2, y)) = Mode::ALL
                    .iter()
                    .map(|&m| (m, luma(m)))
                    .min_by_key(|(_, (c, value))| (err(*value, target.y), c.abs()))
                    .unwrap_or((Mode::Dc, luma(Mode::Dc)));
                let (chroma_mode, ((u, uu), (v, vv))) = Mode::ALL
                    .iter()
                    .map(|&m| {
                        (
                            m,
                            (chroma(m, |c| c.u, target.u), chroma(m, |c| c.v, target.v)),
                        )
                    })
                    .min_by_key(|(_, ((cu, u), (cv, v)))| {
                        (err(*u, target.u) + err(*v, target.v), cu.abs() + cv.abs())
                    })
                    .unwrap_or((
                        Mode::Dc,
                        (
                            chroma(Mode::Dc, |c| c.u, target.u),
                            chroma(Mode::Dc, |c| c.v, target.v),
                        ),
                    ));
                coeffs.push(MacroblockCoeffs {
                    inter: false,
                    luma_mode,
                    chroma_mode,
                    y2,
                    u,
                    v,
                });
                recon.push(Yuv::new(y, uu, vv));
            }
        }
        (coeffs, recon)
    }

    /// The colours a conforming decoder reconstructs for frame `frame_index`, one per
    /// macroblock in raster order (each macroblock is flat).
    pub fn reconstruction(&self, frame_index: u64) -> Vec<Yuv> {
        self.analyse(frame_index, None).1
    }

    /// Encodes frame `frame_index` as a complete VP8 key frame.
    pub fn encode_frame(&self, frame_index: u64) -> Vec<u8> {
        self.encode(frame_index, None).0
    }

    /// Encodes frame `frame_index` as an inter frame (RFC 6386 §9.10, §16) predicted from
    /// the decoder's last frame, whose reconstruction is `reference` (as returned with the
    /// previous frame). Returns the frame and its reconstruction. `None` when `reference`
    /// is not one colour per macroblock of this size.
    pub fn encode_inter_frame(
        &self,
        frame_index: u64,
        reference: &[Yuv],
    ) -> Option<(Vec<u8>, Vec<Yuv>)> {
        if reference.len() != self.mb_cols * self.mb_rows {
            return None;
        }
        Some(self.encode(frame_index, Some(reference)))
    }

    /// A key frame (no `reference`) or an inter frame, with its reconstruction.
    fn encode(&self, frame_index: u64, reference: Option<&[Yuv]>) -> (Vec<u8>, Vec<Yuv>) {
        let key = reference.is_none();
        let (coeffs, recon) = self.analyse(frame_index, reference);
        let count = coeffs.len().max(1);
        let prob = |n: usize| ((n * 256) / count).clamp(1, 255) as u8;
        // RFC 6386 §9.11 prob_skip_false: the probability that a macroblock is NOT skipped;
        // §9.10 prob_intra: the probability that a macroblock is intra coded.
        let prob_skip_false = prob(coeffs.iter().filter(|c| !c.is_zero()).count());
        let prob_intra = prob(coeffs.iter().filter(|c| !c.inter).count());

        let mut header = BoolEncoder::new();
        if key {
            self.write_frame_header(&mut header, prob_skip_false);
        } else {
            self.write_inter_frame_header(&mut header, prob_skip_false, prob_intra);
        }
        for (i, mb) in coeffs.iter().enumerate() {
            // RFC 6386 §19.3: mb_skip_coeff, then the modes.
            header.put(prob_skip_false, mb.is_zero());
            if key {
                mb.luma_mode.write_luma(&mut header);
                mb.chroma_mode.write_chroma(&mut header, &KF_UV_MODE_PROB);
                continue;
            }
            header.put(prob_intra, mb.inter); // is_inter_mb
            if mb.inter {
                header.put(PROB_LAST, false); // mb_ref_frame_sel1: the last frame
                                              // mv_ref_tree: ZEROMV is "0" at the probability the census gives.
                let p = MODE_CONTEXTS[self.zero_mv_census(&coeffs, i).min(5)][0];
                header.put(p, false);
            } else {
                mb.luma_mode.write_inter_frame_luma(&mut header);
                mb.chroma_mode.write_chroma(&mut header, &UV_MODE_PROB);
            }
        }
        let first_partition = header.finish();

        let mut tokens = BoolEncoder::new();
        self.write_tokens(&mut tokens, &coeffs);
        let token_partition = tokens.finish();

        let mut out = Vec::with_capacity(10 + first_partition.len() + token_partition.len());
        // RFC 6386 §9.1: frame tag: bit 0 the frame type (0 key, 1 inter), version 0,
        // show_frame, then the first partition size in 19 bits, little endian.
        let size = (first_partition.len() as u32).min((1 << 19) - 1);
        let tag = (size << 5) | (1 << 4) | u32::from(!key);
        out.extend_from_slice(&tag.to_le_bytes()[..3]);
        if key {
            out.extend_from_slice(&START_CODE);
            // 14-bit dimensions, scaling bits 0.
            out.extend_from_slice(&self.width.to_le_bytes());
            out.extend_from_slice(&self.height.to_le_bytes());
        }
        out.extend_from_slice(&first_partition);
        out.extend_from_slice(&token_partition);
        (out, recon)
    }

    /// RFC 6386 §16.3 `vp8_find_near_mvs`, for a frame whose motion vectors are all zero:
    /// the census of zero vectors is 2 for an inter macroblock above, 2 for one on the left
    /// and 1 for one above-left (macroblocks outside the frame count as intra).
    fn zero_mv_census(&self, coeffs: &[MacroblockCoeffs], i: usize) -> usize {
        let cols = self.mb_cols;
        let (x, y) = (i % cols, i / cols);
        let inter =
            |xx: usize, yy: usize| usize::from(coeffs.get(yy * cols + xx).is_some_and(|c| c.inter));
        let mut n = 0;
        if y > 0 {
            n += 2 * inter(x, y - 1);
        }
        if x > 0 {
            n += 2 * inter(x - 1, y);
        }
        if x > 0 && y > 0 {
            n += inter(x - 1, y - 1);
        }
        n
    }

    /// RFC 6386 §19.2, inter frame: no golden or altref changes, the new frame replaces the
    /// last frame, no probability updates.
    fn write_inter_frame_header(&self, e: &mut BoolEncoder, prob_skip_false: u8, prob_intra: u8) {
        self.write_common_header(e);
        e.put_flag(false); // refresh_golden_frame
        e.put_flag(false); // refresh_alternate_frame
        e.put_literal(2, 0); // copy_buffer_to_golden: none
        e.put_literal(2, 0); // copy_buffer_to_alternate: none
        e.put_flag(false); // sign_bias_golden
        e.put_flag(false); // sign_bias_alternate
        e.put_flag(false); // refresh_entropy_probs: 0 (nothing is updated anyway)
        e.put_flag(true); // refresh_last
        write_no_token_prob_updates(e);
        e.put_flag(true); // mb_no_skip_coeff
        e.put_literal(8, u32::from(prob_skip_false));
        e.put_literal(8, u32::from(prob_intra));
        e.put_literal(8, u32::from(PROB_LAST));
        e.put_literal(8, 128); // prob_gf (no macroblock uses the golden frame)
        e.put_flag(false); // intra_16x16_prob_update_flag
        e.put_flag(false); // intra_chroma_prob_update_flag
                           // §17.2 mv_prob_update: none.
        for &p in MV_UPDATE_PROBS.iter().flatten() {
            e.put(p, false);
        }
    }

    /// RFC 6386 §19.2, the fields from segmentation to the quantizer (all frames).
    fn write_common_header(&self, e: &mut BoolEncoder) {
        e.put_flag(false); // segmentation_enabled
        e.put_flag(false); // filter_type: normal
        e.put_literal(6, 0); // loop_filter_level: off
        e.put_literal(3, 0); // sharpness_level
        e.put_flag(false); // loop_filter_adj_enable
        e.put_literal(2, 0); // log2_nbr_of_dct_partitions: one partition
        e.put_literal(7, u32::from(Q_INDEX)); // y_ac_qi
        for _ in 0..5 {
            e.put_flag(false); // y_dc, y2_dc, y2_ac, uv_dc, uv_ac deltas absent
        }
    }

    /// RFC 6386 §19.2, key frame: everything off but the quantizer and the skip flag.
    fn write_frame_header(&self, e: &mut BoolEncoder, prob_skip_false: u8) {
        e.put_flag(false); // color_space: YUV (BT.601)
        e.put_flag(false); // clamping_type: the decoder clamps
        self.write_common_header(e);
        e.put_flag(false); // refresh_entropy_probs: 0 (nothing is updated anyway)
        write_no_token_prob_updates(e);
        e.put_flag(true); // mb_no_skip_coeff: each macroblock has a skip flag
        e.put_literal(8, u32::from(prob_skip_false));
    }

    /// RFC 6386 §13: the residue of every macroblock that is not skipped: Y2, 16 Y, 4 U and
    /// 4 V blocks, with the above/left "has coefficients" contexts of §13.3.
    fn write_tokens(&self, e: &mut BoolEncoder, coeffs: &[MacroblockCoeffs]) {
        // Contexts: 1 Y2, 4 Y, 2 U, 2 V entries per macroblock column (above) and per
        // macroblock (left).
        let mut above = vec![[false; 9]; self.mb_cols];
        for row in coeffs.chunks(self.mb_cols.max(1)) {
            let mut left = [false; 9];
            for (mb, above) in row.iter().zip(above.iter_mut()) {
                if mb.is_zero() {
                    // RFC 6386 §13.1 / libvpx: a skipped macroblock leaves every context 0.
                    *above = [false; 9];
                    left = [false; 9];
                    continue;
                }
                // Y2: one block, context index 8.
                let ctx = usize::from(above[8]) + usize::from(left[8]);
                let nonzero = write_dc_block(e, TYPE_Y2, 0, ctx, mb.y2);
                above[8] = nonzero;
                left[8] = nonzero;
                // 16 Y blocks after Y2: coefficients from position 1, all zero.
                for b in 0..16 {
                    let (r, c) = (b / 4, b % 4);
                    let ctx = usize::from(above[c]) + usize::from(left[r]);
                    let nonzero = write_dc_block(e, TYPE_Y_AFTER_Y2, 1, ctx, 0);
                    above[c] = nonzero;
                    left[r] = nonzero;
                }
                // U (contexts 4, 5) then V (6, 7): 2x2 blocks each, the same DC in all four.
                for (base, dc) in [(4, mb.u), (6, mb.v)] {
                    for b in 0..4 {
                        let (r, c) = (b / 2, b % 2);
                        let ctx = usize::from(above[base + c]) + usize::from(left[base + r]);
                        let nonzero = write_dc_block(e, TYPE_CHROMA, 0, ctx, dc);
                        above[base + c] = nonzero;
                        left[base + r] = nonzero;
                    }
                }
            }
        }
    }
}

/// RFC 6386 §13.4 token_prob_update: no probability changes.
fn write_no_token_prob_updates(e: &mut BoolEncoder) {
    for &p in COEFF_UPDATE_PROBS.iter().flatten().flatten().flatten() {
        e.put(p, false);
    }
}

/// Codes one 4x4 block whose only coefficient is `dc` at position `first` (0, or 1 for Y
/// after Y2, where `dc` must be 0). Returns whether the block had a token before its end
/// of block (RFC 6386 §13.3's "has non-zero coefficients").
fn write_dc_block(
    e: &mut BoolEncoder,
    block_type: usize,
    first: usize,
    ctx: usize,
    dc: i32,
) -> bool {
    let probs = |pos: usize, ctx: usize| -> &'static [u8; 11] {
        let band = COEFF_BANDS.get(pos).copied().unwrap_or(0);
        &DEFAULT_COEFF_PROBS[block_type & 3][band & 7][ctx.min(2)]
    };
    let p = probs(first, ctx);
    if dc == 0 {
        e.put(p[0], false); // dct_eob
        return false;
    }
    write_token(e, p, dc.unsigned_abs().min(MAX_COEFF as u32));
    e.put(128, dc < 0); // sign
    if first + 1 < 16 {
        let next_ctx = if dc.abs() == 1 { 1 } else { 2 };
        e.put(probs(first + 1, next_ctx)[0], false); // dct_eob
    }
    true
}

/// RFC 6386 §13.2: a non-zero magnitude through the coefficient token tree (the root's
/// "not end of block" and "not DCT_0" branches included), then its extra bits.
fn write_token(e: &mut BoolEncoder, p: &[u8; 11], v: u32) {
    e.put(p[0], true); // not dct_eob
    e.put(p[1], true); // not DCT_0
    if v == 1 {
        e.put(p[2], false);
        return;
    }
    e.put(p[2], true);
    if v <= 4 {
        e.put(p[3], false);
        if v == 2 {
            e.put(p[4], false);
        } else {
            e.put(p[4], true);
            e.put(p[5], v == 4);
        }
        return;
    }
    e.put(p[3], true);
    let cat = CAT_BASE.iter().rposition(|&base| v >= base).unwrap_or(0);
    match cat {
        0 | 1 => {
            e.put(p[6], false);
            e.put(p[7], cat == 1);
        }
        2 | 3 => {
            e.put(p[6], true);
            e.put(p[8], false);
            e.put(p[9], cat == 3);
        }
        _ => {
            e.put(p[6], true);
            e.put(p[8], true);
            e.put(p[10], cat == 5);
        }
    }
    let extra = v - CAT_BASE[cat];
    let cat_probs = CAT_PROBS[cat];
    for (i, &prob) in cat_probs.iter().enumerate() {
        let bit = cat_probs.len() - 1 - i;
        e.put(prob, (extra >> bit) & 1 == 1);
    }
}

/// One encoded frame of a [`Vp8PatternStream`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedFrame {
    pub data: Vec<u8>,
    pub key_frame: bool,
}

/// The test pattern as a stream: a key frame first, every `key_interval` frames and when
/// asked ([`Vp8PatternStream::request_key_frame`], e.g. on a PLI or FIR), inter frames in
/// between that copy the unchanged macroblocks from the last frame and intra code the rest
/// (the moving box and the counter bits that flip). The frames must reach the decoder in
/// order; after a loss, ask for a key frame.
#[derive(Clone, Debug)]
pub struct Vp8PatternStream {
    pattern: Vp8TestPattern,
    key_interval: u64,
    since_key: u64,
    /// The decoder's reconstruction of the last frame given out.
    last: Option<Vec<Yuv>>,
}

impl Vp8PatternStream {
    /// `key_interval` 0 or 1 makes every frame a key frame.
    pub fn new(pattern: Vp8TestPattern, key_interval: u64) -> Self {
        Vp8PatternStream {
            pattern,
            key_interval,
            since_key: 0,
            last: None,
        }
    }

    pub fn pattern(&self) -> &Vp8TestPattern {
        &self.pattern
    }

    /// The colours the decoder reconstructs for the last frame given out, one per macroblock
    /// in raster order.
    pub fn last_reconstruction(&self) -> Option<&[Yuv]> {
        self.last.as_deref()
    }

    /// The next frame is a key frame.
    pub fn request_key_frame(&mut self) {
        self.last = None;
    }

    /// Encodes the pattern's frame `frame_index` (normally one more than the last call's).
    pub fn next_frame(&mut self, frame_index: u64) -> EncodedFrame {
        let inter = self.key_interval > 1 && self.since_key + 1 < self.key_interval;
        let encoded = match (&self.last, inter) {
            (Some(last), true) => self.pattern.encode_inter_frame(frame_index, last),
            _ => None,
        };
        let (data, recon, key_frame) = match encoded {
            Some((data, recon)) => {
                self.since_key += 1;
                (data, recon, false)
            }
            None => {
                self.since_key = 0;
                let (data, recon) = self.pattern.encode(frame_index, None);
                (data, recon, true)
            }
        };
        self.last = Some(recon);
        EncodedFrame { data, key_frame }
    }
}
