//! A synthetic capture device (what `getUserMedia()` gives where no camera or microphone
//! exists, like Chromium's fake devices): a frame source for one track, handing out encoded
//! frames in order; the host paces them with its clock.

use super::opus;
use super::vp8::{Vp8PatternStream, Vp8TestPattern};
use super::SynthError;

/// Video frames between key frames (2 s at 30 fps).
pub const SYNTHETIC_KEY_INTERVAL: u64 = 60;

/// One encoded frame of a [`SyntheticSource`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticFrame {
    pub data: Vec<u8>,
    pub keyframe: bool,
    /// Presentation time of this frame from the source's start, in µs.
    pub timestamp_us: u64,
    pub mime_type: &'static str,
}

enum Kind {
    Video { stream: Vp8PatternStream, frame_us: u64 },
    Audio { tone: bool },
}

/// A synthetic track source: VP8 test pattern video (moving box, frame counter) or Opus
/// audio (a ~900 Hz tone, or silence).
pub struct SyntheticSource {
    kind: Kind,
    index: u64,
}

impl SyntheticSource {
    /// Video of `width` x `height` (multiples of 16) at `fps` frames per second (1..=120).
    pub fn video(width: u32, height: u32, fps: u32) -> Result<SyntheticSource, SynthError> {
        let pattern = Vp8TestPattern::new(width, height)?;
        let fps = u64::from(fps.clamp(1, 120));
        Ok(SyntheticSource {
            kind: Kind::Video { stream: Vp8PatternStream::new(pattern, SYNTHETIC_KEY_INTERVAL), frame_us: 1_000_000 / fps },
            index: 0,
        })
    }

    /// 20 ms Opus frames: a tone, or digital silence.
    pub fn audio(tone: bool) -> SyntheticSource {
        SyntheticSource { kind: Kind::Audio { tone }, index: 0 }
    }

    /// Time between frames, in µs.
    pub fn frame_duration_us(&self) -> u64 {
        match &self.kind {
            Kind::Video { frame_us, .. } => *frame_us,
            Kind::Audio { .. } => opus::FRAME_DURATION_US,
        }
    }

    /// The next frame (a key frame first, then every [`SYNTHETIC_KEY_INTERVAL`] frames and
    /// after [`SyntheticSource::request_keyframe`]).
    pub fn next_frame(&mut self) -> SyntheticFrame {
        let i = self.index;
        self.index += 1;
        let timestamp_us = i * self.frame_duration_us();
        match &mut self.kind {
            Kind::Video { stream, .. } => {
                let f = stream.next_frame(i);
                SyntheticFrame { data: f.data, keyframe: f.key_frame, timestamp_us, mime_type: "video/VP8" }
            }
            Kind::Audio { tone } => {
                let data = if *tone { opus::tone_frame() } else { opus::SILENCE_FRAME.to_vec() };
                SyntheticFrame { data, keyframe: true, timestamp_us, mime_type: "audio/opus" }
            }
        }
    }

    /// The next video frame is a key frame (a PLI or FIR from a receiver).
    pub fn request_keyframe(&mut self) {
        if let Kind::Video { stream, .. } = &mut self.kind {
            stream.request_key_frame();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_source_starts_with_a_key_frame_and_paces_timestamps() {
        let mut s = SyntheticSource::video(320, 240, 30).unwrap();
        let frames: Vec<SyntheticFrame> = (0..62).map(|_| s.next_frame()).collect();
        assert!(frames[0].keyframe && !frames[1].keyframe && frames[60].keyframe);
        assert_eq!(frames[3].timestamp_us, 3 * 33_333);
        s.request_keyframe();
        assert!(s.next_frame().keyframe);
        assert!(SyntheticSource::video(321, 240, 30).is_err());
        let mut a = SyntheticSource::audio(false);
        let f = a.next_frame();
        assert_eq!((f.data.as_slice(), f.mime_type), (&opus::SILENCE_FRAME[..], "audio/opus"));
        assert_eq!(a.next_frame().timestamp_us, 20_000);
    }
}
