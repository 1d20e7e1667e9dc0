//! Opus frames for a synthetic audio track (RFC 6716).
//!
//! What this produces: 20 ms mono silence, one fixed 3-byte CELT-only packet per frame.
//! - TOC byte `0xf8` (RFC 6716 §3.1): configuration 31 (CELT-only, fullband, 20 ms),
//!   `s` = 0 (mono), `c` = 0 (one frame in the packet).
//! - Range-coded body `0xff 0xfe` (§4.1): the first CELT symbol is the silence flag
//!   (§4.3, Table 56, probability 1/32768 of being set); these bytes put the decoder's value
//!   in that sliver of the range, so the frame decodes as silence and the rest is skipped.
//!
//! A decoder gives [`SAMPLES_PER_FRAME`] samples of zero per packet (at 48 kHz). No tone is
//! made here (that needs a CELT encoder: band energies and PVQ); see the crate's report.

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
