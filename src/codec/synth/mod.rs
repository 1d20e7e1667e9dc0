//! Synthetic media sources for `getUserMedia()` where no device exists (Node, WASM), like
//! Chromium's fake-device mode: real encoded frames a browser decodes and shows.
//!
//! - [`vp8::Vp8TestPattern`]: a moving VP8 test pattern (RFC 6386) as key frames, about
//!   104 kbit/s at 320x240 and 205 kbit/s at 640x480 at 30 fps;
//!   [`vp8::Vp8PatternStream`]: the same with inter frames between key frames, about
//!   10 kbit/s at 320x240 and 18 kbit/s at 640x480 with a key frame every 2 seconds.
//! - [`opus`]: 20 ms Opus frames (RFC 6716): silence (3 bytes), and a tone-like narrow band
//!   around 800 to 1000 Hz at about -20 dBFS (41 bytes, 16.4 kbit/s).
//!
//! Pure functions and structs: the host owns the clock and asks for frame `n`.

mod bool_encoder;
pub mod opus;
mod tables;
#[cfg(test)]
mod tests;
pub mod vp8;
mod source;
pub use source::{SyntheticFrame, SyntheticSource, SYNTHETIC_KEY_INTERVAL};

pub use opus::{tone_frame, OpusSilence};
pub use vp8::{EncodedFrame, Vp8PatternStream, Vp8TestPattern};

/// Errors from the synthetic sources (API misuse only: they take no peer input).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SynthError {
    /// Width and height must be multiples of 16 from 16 to [`vp8::MAX_DIMENSION`].
    UnsupportedDimensions { width: u32, height: u32 },
}

impl core::fmt::Display for SynthError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SynthError::UnsupportedDimensions { width, height } => write!(
                f,
                "unsupported test pattern size {width}x{height} (multiples of 16 up to {})",
                vp8::MAX_DIMENSION
            ),
        }
    }
}

impl std::error::Error for SynthError {}
