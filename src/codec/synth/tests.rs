//! Unit tests: the bool encoder against an RFC 6386 §7.3 decoder written here, the key
//! frame header bit by bit, and a decoder for the subset the pattern uses (DC_PRED modes,
//! DC-only blocks) that checks the reconstruction the encoder promises.

#![allow(clippy::needless_range_loop)]

use super::bool_encoder::BoolEncoder;
use super::opus::{self, Toc};
use super::tables::{AC_QLOOKUP, COEFF_UPDATE_PROBS, DC_QLOOKUP, DEFAULT_COEFF_PROBS};
use super::vp8::{self, Vp8TestPattern, Yuv};
use super::SynthError;

/// RFC 6386 §7.3 boolean decoder (test side only).
struct BoolDecoder<'a> {
    data: &'a [u8],
    pos: usize,
    value: u32,
    range: u32,
    bit_count: u32,
}

impl<'a> BoolDecoder<'a> {
    fn new(data: &'a [u8]) -> Self {
        let mut d = BoolDecoder {
            data,
            pos: 0,
            value: 0,
            range: 255,
            bit_count: 0,
        };
        d.value = (u32::from(d.next_byte()) << 8) | u32::from(d.next_byte());
        d
    }

    fn next_byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn bool(&mut self, prob: u8) -> bool {
        let split = 1 + (((self.range - 1) * u32::from(prob)) >> 8);
        let big_split = split << 8;
        let bit = if self.value >= big_split {
            self.range -= split;
            self.value -= big_split;
            true
        } else {
            self.range = split;
            false
        };
        while self.range < 128 {
            self.value <<= 1;
            self.range <<= 1;
            self.bit_count += 1;
            if self.bit_count == 8 {
                self.bit_count = 0;
                self.value |= u32::from(self.next_byte());
            }
        }
        bit
    }

    fn literal(&mut self, bits: u32) -> u32 {
        (0..bits).fold(0, |v, _| (v << 1) | u32::from(self.bool(128)))
    }
}

/// A deterministic pseudo-random sequence (xorshift) for the round trips.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn bool_coder_round_trips() {
    for seed in 1..20u64 {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let n = 1 + (xorshift(&mut s) % 5000) as usize;
        let mut symbols = Vec::with_capacity(n);
        for _ in 0..n {
            let r = xorshift(&mut s);
            let prob = ((r & 0xff) as u8).max(1);
            // Mostly bits that follow the probability, some against it, to exercise carries.
            let bit = if r & 0x100 != 0 {
                ((r >> 9) & 0xff) as u8 >= prob
            } else {
                (r >> 20) & 1 == 1
            };
            symbols.push((prob, bit));
        }
        let mut e = BoolEncoder::new();
        for &(p, b) in &symbols {
            e.put(p, b);
        }
        let bytes = e.finish();
        let mut d = BoolDecoder::new(&bytes);
        for (i, &(p, b)) in symbols.iter().enumerate() {
            assert_eq!(d.bool(p), b, "seed {seed} symbol {i}");
        }
    }
}

#[test]
fn bool_coder_literals_and_extremes() {
    let mut e = BoolEncoder::new();
    e.put_literal(7, 0x55);
    e.put_literal(16, 0xbeef);
    for _ in 0..1000 {
        e.put(255, true); // the unlikely branch of the most skewed probability
        e.put(1, false);
    }
    e.put_flag(true);
    let bytes = e.finish();
    let mut d = BoolDecoder::new(&bytes);
    assert_eq!(d.literal(7), 0x55);
    assert_eq!(d.literal(16), 0xbeef);
    for _ in 0..1000 {
        assert!(d.bool(255));
        assert!(!d.bool(1));
    }
    assert!(d.bool(128));
}

#[test]
fn tables_are_whole() {
    // Spot checks against RFC 6386 §13.4, §13.5 and §14.1.
    assert_eq!(
        COEFF_UPDATE_PROBS[0][1][0],
        [176, 246, 255, 255, 255, 255, 255, 255, 255, 255, 255]
    );
    assert_eq!(
        DEFAULT_COEFF_PROBS[0][1][0],
        [253, 136, 254, 255, 228, 219, 128, 128, 128, 128, 128]
    );
    assert_eq!(DEFAULT_COEFF_PROBS[0][0][0], [128; 11]);
    assert_eq!((DC_QLOOKUP[0], DC_QLOOKUP[127]), (4, 157));
    assert_eq!((AC_QLOOKUP[0], AC_QLOOKUP[127]), (4, 284));
    assert!(DC_QLOOKUP.windows(2).all(|w| w[0] <= w[1]));
    assert!(AC_QLOOKUP.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn rejects_sizes_that_are_not_macroblock_multiples() {
    for (w, h) in [
        (0, 240),
        (320, 0),
        (321, 240),
        (320, 248),
        (8, 8),
        (4112, 16),
    ] {
        assert_eq!(
            Vp8TestPattern::new(w, h).unwrap_err(),
            SynthError::UnsupportedDimensions {
                width: w,
                height: h
            }
        );
    }
    for (w, h) in [(16, 16), (320, 240), (640, 480), (1280, 720), (4096, 16)] {
        let p = Vp8TestPattern::new(w, h).unwrap();
        assert_eq!((p.width(), p.height()), (w, h));
    }
}

/// The first partition's fields, decoded bit by bit in RFC 6386 §19.2 order.
struct KeyFrame<'a> {
    key: bool,
    first_partition_size: usize,
    width: u16,
    height: u16,
    q_index: u32,
    prob_skip_false: u8,
    /// Inter frames: prob_intra and prob_last.
    prob_intra: u8,
    prob_last: u8,
    header: BoolDecoder<'a>,
    tokens: BoolDecoder<'a>,
}

fn parse_key_frame(frame: &[u8]) -> KeyFrame<'_> {
    let k = parse_frame(frame, None);
    assert!(k.key, "key frame");
    k
}

/// `size`: the dimensions from the last key frame, for an inter frame.
fn parse_frame(frame: &[u8], size: Option<(u16, u16)>) -> KeyFrame<'_> {
    let tag = u32::from(frame[0]) | u32::from(frame[1]) << 8 | u32::from(frame[2]) << 16;
    let key = tag & 1 == 0;
    assert_eq!((tag >> 1) & 7, 0, "version 0");
    assert_eq!((tag >> 4) & 1, 1, "show_frame");
    let first_partition_size = (tag >> 5) as usize;
    let (start, width, height) = if key {
        assert_eq!(&frame[3..6], &vp8::START_CODE);
        let width = u16::from_le_bytes([frame[6], frame[7]]);
        let height = u16::from_le_bytes([frame[8], frame[9]]);
        assert_eq!(width >> 14, 0, "no horizontal scaling");
        assert_eq!(height >> 14, 0, "no vertical scaling");
        (10, width, height)
    } else {
        let (w, h) = size.expect("an inter frame follows a key frame");
        (3, w, h)
    };
    assert!(start + first_partition_size <= frame.len());
    let mut h = BoolDecoder::new(&frame[start..start + first_partition_size]);
    if key {
        assert_eq!(h.literal(1), 0, "color_space");
        assert_eq!(h.literal(1), 0, "clamping_type");
    }
    assert_eq!(h.literal(1), 0, "segmentation_enabled");
    assert_eq!(h.literal(1), 0, "filter_type");
    assert_eq!(h.literal(6), 0, "loop_filter_level");
    assert_eq!(h.literal(3), 0, "sharpness_level");
    assert_eq!(h.literal(1), 0, "loop_filter_adj_enable");
    assert_eq!(h.literal(2), 0, "log2_nbr_of_dct_partitions");
    let q_index = h.literal(7);
    for name in ["y_dc", "y2_dc", "y2_ac", "uv_dc", "uv_ac"] {
        assert_eq!(h.literal(1), 0, "{name}_delta_present");
    }
    if !key {
        assert_eq!(h.literal(1), 0, "refresh_golden_frame");
        assert_eq!(h.literal(1), 0, "refresh_alternate_frame");
        assert_eq!(h.literal(2), 0, "copy_buffer_to_golden");
        assert_eq!(h.literal(2), 0, "copy_buffer_to_alternate");
        assert_eq!(h.literal(1), 0, "sign_bias_golden");
        assert_eq!(h.literal(1), 0, "sign_bias_alternate");
    }
    assert_eq!(h.literal(1), 0, "refresh_entropy_probs");
    if !key {
        assert_eq!(h.literal(1), 1, "refresh_last");
    }
    for &p in COEFF_UPDATE_PROBS.iter().flatten().flatten().flatten() {
        assert!(!h.bool(p), "coeff_prob_update_flag");
    }
    assert_eq!(h.literal(1), 1, "mb_no_skip_coeff");
    let prob_skip_false = h.literal(8) as u8;
    let (mut prob_intra, mut prob_last) = (0, 0);
    if !key {
        prob_intra = h.literal(8) as u8;
        prob_last = h.literal(8) as u8;
        let _prob_gf = h.literal(8);
        assert_eq!(h.literal(1), 0, "intra_16x16_prob_update_flag");
        assert_eq!(h.literal(1), 0, "intra_chroma_prob_update_flag");
        // RFC 6386 §17.2 vp8_mv_update_probs.
        let mv_update: [[u8; 19]; 2] = [
            [
                237, 246, 253, 253, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 250, 250,
                252, 254, 254,
            ],
            [
                231, 243, 245, 253, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 251, 251,
                254, 254, 254,
            ],
        ];
        for &p in mv_update.iter().flatten() {
            assert!(!h.bool(p), "mv_prob_update_flag");
        }
    }
    KeyFrame {
        key,
        first_partition_size,
        width,
        height,
        q_index,
        prob_skip_false,
        prob_intra,
        prob_last,
        header: h,
        tokens: BoolDecoder::new(&frame[start + first_partition_size..]),
    }
}

#[test]
fn key_frame_header_fields() {
    let p = Vp8TestPattern::new(320, 240).unwrap();
    let frame = p.encode_frame(7);
    // Frame tag: bit 0 key frame (0), bits 1-3 version, bit 4 show_frame, bits 5-23 size.
    assert_eq!(frame[0] & 0x1f, 0x10);
    assert_eq!(&frame[3..10], &[0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00]);
    let k = parse_key_frame(&frame);
    assert_eq!((k.width, k.height), (320, 240));
    assert_eq!(k.q_index, u32::from(vp8::Q_INDEX));
    assert!(k.first_partition_size > 0);
    assert!(k.prob_skip_false >= 1);
}

const COEFF_BANDS: [usize; 16] = [0, 1, 2, 3, 6, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7];
const CAT_BASE: [i32; 6] = [5, 7, 11, 19, 35, 67];
const CAT_PROBS: [&[u8]; 6] = [
    &[159],
    &[165, 145],
    &[173, 148, 140],
    &[176, 155, 140, 135],
    &[180, 157, 141, 134, 130],
    &[254, 254, 243, 230, 196, 177, 153, 140, 133, 130, 129],
];

/// RFC 6386 §13: decodes one block's tokens (any block, not only the pattern's); returns
/// the coefficients in zigzag order and whether a token preceded the end of block.
fn read_block(
    d: &mut BoolDecoder,
    block_type: usize,
    first: usize,
    ctx: usize,
) -> ([i32; 16], bool) {
    let mut out = [0i32; 16];
    let mut ctx = ctx;
    let mut skip_eob = false;
    let mut i = first;
    while i < 16 {
        let p = &DEFAULT_COEFF_PROBS[block_type][COEFF_BANDS[i]][ctx];
        if !skip_eob && !d.bool(p[0]) {
            break; // dct_eob
        }
        if !d.bool(p[1]) {
            // DCT_0
            ctx = 0;
            skip_eob = true;
            i += 1;
            continue;
        }
        let v = if !d.bool(p[2]) {
            1
        } else if !d.bool(p[3]) {
            if !d.bool(p[4]) {
                2
            } else {
                3 + i32::from(d.bool(p[5]))
            }
        } else {
            let cat = if !d.bool(p[6]) {
                usize::from(d.bool(p[7]))
            } else if !d.bool(p[8]) {
                2 + usize::from(d.bool(p[9]))
            } else {
                4 + usize::from(d.bool(p[10]))
            };
            let extra = CAT_PROBS[cat]
                .iter()
                .fold(0, |v, &p| (v << 1) | i32::from(d.bool(p)));
            CAT_BASE[cat] + extra
        };
        out[i] = if d.bool(128) { -v } else { v };
        ctx = if v == 1 { 1 } else { 2 };
        skip_eob = false;
        i += 1;
    }
    (out, i > first)
}

/// Decodes a whole pattern frame with the subset decoder: checks that every macroblock is
/// 16x16 DC_PRED / DC_PRED with DC-only blocks and returns the reconstructed colours.
fn decode_pattern_frame(frame: &[u8]) -> (u16, u16, Vec<Yuv>) {
    decode_stream_frame(frame, None)
}

/// Decodes a key frame (`last` None) or an inter frame predicted from `last`: the size and
/// the reconstruction of the previous frame.
fn decode_stream_frame(frame: &[u8], last: Option<(u16, u16, &[Yuv])>) -> (u16, u16, Vec<Yuv>) {
    let mut k = parse_frame(frame, last.map(|(w, h, _)| (w, h)));
    assert_eq!(k.key, last.is_none());
    // RFC 6386 §16.3 vp8_mode_contexts, column 0 (ZEROMV).
    const ZERO_MV_PROB: [u8; 6] = [7, 14, 135, 60, 159, 234];
    let mut inter_mbs: Vec<bool> = Vec::new();
    let (cols, rows) = (usize::from(k.width / 16), usize::from(k.height / 16));
    let dc = i32::from(DC_QLOOKUP[k.q_index as usize]);
    let (y2_dc, uv_dc) = (dc * 2, dc.min(132));
    let mut recon: Vec<Yuv> = Vec::new();
    let mut above_ctx = vec![[false; 9]; cols];
    for mb_y in 0..rows {
        let mut left_ctx = [false; 9];
        for mb_x in 0..cols {
            let skip = k.header.bool(k.prob_skip_false);
            let inter = !k.key && k.header.bool(k.prob_intra);
            inter_mbs.push(inter);
            if inter {
                assert!(!k.header.bool(k.prob_last), "reference: last frame");
                let at = |x: usize, y: usize| usize::from(inter_mbs[y * cols + x]);
                let mut census = 0;
                if mb_y > 0 {
                    census += 2 * at(mb_x, mb_y - 1);
                }
                if mb_x > 0 {
                    census += 2 * at(mb_x - 1, mb_y);
                }
                if mb_x > 0 && mb_y > 0 {
                    census += at(mb_x - 1, mb_y - 1);
                }
                assert!(!k.header.bool(ZERO_MV_PROB[census]), "ZEROMV");
                assert!(skip, "copied macroblocks have no residue");
                above_ctx[mb_x] = [false; 9];
                left_ctx = [false; 9];
                recon.push(last.unwrap().2[mb_y * cols + mb_x]);
                continue;
            }
            // 0 DC_PRED, 1 V_PRED, 2 H_PRED (TM_PRED and B_PRED are not used).
            let luma_mode = if k.key {
                assert!(k.header.bool(145), "not B_PRED");
                if !k.header.bool(156) {
                    usize::from(k.header.bool(163))
                } else {
                    assert!(!k.header.bool(128), "not TM_PRED");
                    2
                }
            } else if !k.header.bool(112) {
                0
            } else {
                assert!(!k.header.bool(86), "not TM_PRED or B_PRED");
                1 + usize::from(k.header.bool(140))
            };
            let uv_probs: [u8; 3] = if k.key {
                [142, 114, 183]
            } else {
                [162, 101, 204]
            };
            let chroma_mode = if !k.header.bool(uv_probs[0]) {
                0
            } else if !k.header.bool(uv_probs[1]) {
                1
            } else {
                assert!(!k.header.bool(uv_probs[2]), "not TM_PRED");
                2
            };
            let above = (mb_y > 0).then(|| recon[(mb_y - 1) * cols + mb_x]);
            let left = (mb_x > 0).then(|| recon[recon.len() - 1]);
            let pred = |mode: usize, f: fn(&Yuv) -> u8, n: i32| -> i32 {
                let (a, l) = (above.as_ref().map(f), left.as_ref().map(f));
                match (mode, a, l) {
                    (1, a, _) => a.map_or(127, i32::from),
                    (2, _, l) => l.map_or(129, i32::from),
                    (_, Some(a), Some(l)) => {
                        (n * i32::from(a) + n * i32::from(l) + n) >> (n.trailing_zeros() + 1)
                    }
                    (_, Some(e), None) | (_, None, Some(e)) => {
                        (n * i32::from(e) + n / 2) >> n.trailing_zeros()
                    }
                    (_, None, None) => 128,
                }
            };
            let (mut y2, mut u, mut v) = (0, [0; 4], [0; 4]);
            let ac = &mut above_ctx[mb_x];
            if skip {
                *ac = [false; 9];
                left_ctx = [false; 9];
            } else {
                let (c, nz) = read_block(
                    &mut k.tokens,
                    1,
                    0,
                    usize::from(ac[8]) + usize::from(left_ctx[8]),
                );
                assert!(c[1..].iter().all(|&x| x == 0), "Y2 is DC only");
                y2 = c[0];
                ac[8] = nz;
                left_ctx[8] = nz;
                for b in 0..16 {
                    let (r, col) = (b / 4, b % 4);
                    let (c, nz) = read_block(
                        &mut k.tokens,
                        0,
                        1,
                        usize::from(ac[col]) + usize::from(left_ctx[r]),
                    );
                    assert!(c.iter().all(|&x| x == 0), "Y blocks are empty");
                    ac[col] = nz;
                    left_ctx[r] = nz;
                }
                for (base, out) in [(4, &mut u), (6, &mut v)] {
                    for b in 0..4 {
                        let (r, col) = (b / 2, b % 2);
                        let ctx = usize::from(ac[base + col]) + usize::from(left_ctx[base + r]);
                        let (c, nz) = read_block(&mut k.tokens, 2, 0, ctx);
                        assert!(c[1..].iter().all(|&x| x == 0), "chroma is DC only");
                        out[b] = c[0];
                        ac[base + col] = nz;
                        left_ctx[base + r] = nz;
                    }
                }
                assert!(
                    u.iter().all(|&x| x == u[0]) && v.iter().all(|&x| x == v[0]),
                    "flat chroma"
                );
            }
            let luma = ((((y2 * y2_dc) + 3) >> 3) + 4) >> 3;
            let chroma = |c: i32| (c * uv_dc + 4) >> 3;
            let px = |p: i32, r: i32| (p + r).clamp(0, 255) as u8;
            recon.push(Yuv::new(
                px(pred(luma_mode, |c| c.y, 16), luma),
                px(pred(chroma_mode, |c| c.u, 8), chroma(u[0])),
                px(pred(chroma_mode, |c| c.v, 8), chroma(v[0])),
            ));
        }
    }
    (k.width, k.height, recon)
}

#[test]
fn frames_decode_to_the_promised_reconstruction() {
    for (w, h) in [(16, 16), (48, 32), (320, 240), (640, 480)] {
        let p = Vp8TestPattern::new(w, h).unwrap();
        for frame_index in [0u64, 1, 10, 255, 1 << 20] {
            let frame = p.encode_frame(frame_index);
            let (dw, dh, recon) = decode_pattern_frame(&frame);
            assert_eq!((u32::from(dw), u32::from(dh)), (w, h));
            assert_eq!(
                recon,
                p.reconstruction(frame_index),
                "{w}x{h} frame {frame_index}"
            );
            for (i, got) in recon.iter().enumerate() {
                let (mb_x, mb_y) = (i % (w as usize / 16), i / (w as usize / 16));
                let want = p.target(frame_index, mb_x, mb_y);
                let close = |a: u8, b: u8| a.abs_diff(b) <= vp8::MAX_COLOUR_ERROR;
                assert!(
                    close(got.y, want.y) && close(got.u, want.u) && close(got.v, want.v),
                    "{w}x{h} frame {frame_index} mb {mb_x},{mb_y}: {got:?} vs {want:?}"
                );
            }
        }
    }
}

#[test]
fn streams_decode_to_the_promised_reconstruction() {
    for (w, h) in [(16, 16), (48, 32), (320, 240), (640, 480)] {
        let mut stream = vp8::Vp8PatternStream::new(Vp8TestPattern::new(w, h).unwrap(), 8);
        let mut last: Option<Vec<Yuv>> = None;
        for n in 0..20u64 {
            if n == 13 {
                stream.request_key_frame();
            }
            let frame = stream.next_frame(n);
            // Key frames at 0 and 8, on request at 13, then 8 after that.
            assert_eq!(frame.key_frame, [0, 8, 13].contains(&n), "frame {n}");
            let reference = if frame.key_frame {
                None
            } else {
                last.as_deref()
            };
            let (dw, dh, recon) =
                decode_stream_frame(&frame.data, reference.map(|r| (w as u16, h as u16, r)));
            assert_eq!((u32::from(dw), u32::from(dh)), (w, h));
            assert_eq!(
                Some(recon.as_slice()),
                stream.last_reconstruction(),
                "{w}x{h} {n}"
            );
            for (i, got) in recon.iter().enumerate() {
                let cols = w as usize / 16;
                let want = stream.pattern().target(n, i % cols, i / cols);
                let e = vp8::MAX_COLOUR_ERROR;
                assert!(
                    got.y.abs_diff(want.y) <= e
                        && got.u.abs_diff(want.u) <= e
                        && got.v.abs_diff(want.v) <= e,
                    "{w}x{h} frame {n} mb {i}: {got:?} vs {want:?}"
                );
            }
            last = Some(recon);
        }
    }
}

#[test]
fn pattern_moves_and_counts() {
    let p = Vp8TestPattern::new(320, 240).unwrap();
    // 20x15 macroblocks: bars in rows 0..10, the strip in rows 10..14, the counter in row 14.
    assert_eq!(p.target(0, 0, 0), vp8::BARS[0]);
    assert_eq!(p.target(0, 19, 9), vp8::BARS[7]);
    assert_eq!(p.target(0, 0, 12), vp8::WHITE);
    assert_eq!(p.target(0, 5, 12), vp8::STRIP);
    assert_eq!(p.target(10, 5, 12), vp8::WHITE);
    assert_eq!(p.target(10, 0, 12), vp8::STRIP);
    assert_eq!(p.box_column(10), 5);
    // Frame 5 = ...101 in the counter's last three columns.
    assert_eq!(p.target(5, 17, 14), vp8::WHITE);
    assert_eq!(p.target(5, 18, 14), vp8::BLACK);
    assert_eq!(p.target(5, 19, 14), vp8::WHITE);
    assert_ne!(p.encode_frame(0), p.encode_frame(10));
}

#[test]
fn frame_sizes_are_bounded() {
    let mut report = Vec::new();
    for ((w, h), limit) in [((320, 240), 600), ((640, 480), 1500), ((1280, 720), 4000)] {
        let p = Vp8TestPattern::new(w, h).unwrap();
        let sizes: Vec<usize> = (0..64).map(|i| p.encode_frame(i).len()).collect();
        let max = *sizes.iter().max().unwrap();
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        assert!(max <= limit, "{w}x{h}: {max} bytes");
        report.push(format!(
            "{w}x{h}: mean {mean} B, max {max} B, {} kbit/s at 30 fps",
            mean * 8 * 30 / 1000
        ));
    }
    for (w, h) in [(320, 240), (640, 480), (1280, 720)] {
        let mut stream = vp8::Vp8PatternStream::new(Vp8TestPattern::new(w, h).unwrap(), 60);
        let sizes: Vec<usize> = (0..60).map(|i| stream.next_frame(i).data.len()).collect();
        let inter = &sizes[1..];
        let mean = inter.iter().sum::<usize>() / inter.len();
        let max = *inter.iter().max().unwrap();
        assert!(max * 4 < sizes[0], "{w}x{h}: inter frames up to {max} B");
        let kbps = sizes.iter().sum::<usize>() * 8 * 30 / 60 / 1000;
        report.push(format!(
            "{w}x{h} stream (key every 60): inter mean {mean} B, max {max} B, {kbps} kbit/s at 30 fps"
        ));
    }
    println!("{}", report.join("\n"));
}

#[test]
fn opus_silence_toc() {
    let toc = Toc::parse(opus::SILENCE_FRAME[0]);
    assert_eq!(
        toc,
        Toc {
            config: 31,
            stereo: false,
            code: 0
        }
    );
    assert!(toc.is_celt_only());
    assert_eq!(toc.frame_duration_us(), 20_000);
    assert_eq!(u64::from(toc.frame_duration_us()), opus::FRAME_DURATION_US);
    assert_eq!(
        opus::SAMPLES_PER_FRAME * 1_000_000 / opus::SAMPLE_RATE,
        20_000
    );
    let mut s = opus::OpusSilence::new();
    assert_eq!(s.next_timestamp(), 0);
    assert_eq!(s.next_frame(), &[0xf8, 0xff, 0xfe]);
    assert_eq!(s.next_timestamp(), 960);
    assert_eq!(s.frames(), 1);
}

#[test]
fn opus_tone_packet() {
    assert!(opus::tone_is_fully_coded());
    let tone = opus::tone_frame();
    assert_eq!(tone.len(), 1 + opus::TONE_FRAME_BYTES);
    assert_eq!(
        Toc::parse(tone[0]),
        Toc {
            config: 31,
            stereo: false,
            code: 0
        }
    );
    assert_eq!(tone, opus::tone_frame());
}

#[test]
fn any_size_and_frame_index_decodes() {
    let mut s = 0x1234_5678_9abc_def1u64;
    for _ in 0..40 {
        let w = 16 * (1 + (xorshift(&mut s) % 64) as u32);
        let h = 16 * (1 + (xorshift(&mut s) % 48) as u32);
        let n = xorshift(&mut s);
        let p = Vp8TestPattern::new(w, h).unwrap();
        let (dw, dh, recon) = decode_pattern_frame(&p.encode_frame(n));
        assert_eq!((u32::from(dw), u32::from(dh)), (w, h));
        assert_eq!(recon, p.reconstruction(n), "{w}x{h} frame {n}");
    }
    // The extremes encode (first partition well under its 19-bit size field).
    for (w, h) in [(vp8::MAX_DIMENSION, 16), (16, vp8::MAX_DIMENSION)] {
        let frame = Vp8TestPattern::new(w, h).unwrap().encode_frame(u64::MAX);
        let k = parse_key_frame(&frame);
        assert!(k.first_partition_size < 1 << 19);
    }
}
