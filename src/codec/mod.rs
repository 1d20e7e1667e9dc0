//! RTP payload formats for media: packetizers, depacketizers and video frame assembly.
//!
//! This layer works on plain RTP payloads (the bytes after the RTP header) and takes the few
//! header fields it needs (marker bit, sequence number, timestamp) as arguments; it knows
//! nothing of SSRCs, header extensions or SRTP.
//!
//! Codecs ([`Codec`]):
//! - Opus, RFC 7587 ([`opus`]): one Opus packet per RTP payload, never fragmented.
//! - VP8, RFC 7741 ([`vp8`]): payload descriptor with the X/I/L/T/K extensions.
//! - VP9, RFC 9628 ([`vp9`]): flexible and non-flexible descriptors, scalability structure.
//! - H.264, RFC 6184 packetization-mode 1 ([`h264`]): single NAL unit, STAP-A, FU-A; frames
//!   are Annex B byte streams on both sides.
//! - AV1, AV1 RTP payload specification v1.0 ([`av1`]): aggregation header, OBU elements,
//!   fragments; frames are temporal units in the low-overhead bitstream format.
//!
//! Beside them, [`dtmf`]: RFC 4733 telephone-event payloads and the packet schedule of a
//! tone (not a [`Codec`]: events, not frames).
//!
//! The shape is the same for each codec:
//! - a [`Packetizer`] turns one frame into payloads no larger than `max_payload` (the MTU
//!   minus the IP, UDP, RTP and SRTP overhead), the last one carrying the marker bit for video;
//! - a [`Depacketizer`] takes payloads in sequence order ([`Depacketizer::push`]) and gives
//!   back frames ([`Depacketizer::poll_frame`]), flagged [`Frame::complete`] when no packet of
//!   the frame was lost;
//! - [`is_keyframe`] tells from one payload whether it starts a key frame (for picture loss
//!   recovery and for a receiver that waits for a key frame).
//!
//! A [`FrameAssembler`] sits in front of a depacketizer for video received over a lossy,
//! reordering network: it collects the packets of each frame (keyed by RTP timestamp) by
//! sequence number, hands a frame to the depacketizer once every packet from its first to its
//! marker is there, drops incomplete frames that get too old, and reports the missing
//! sequence numbers ([`FrameAssembler::missing`]) for a NACK generator.
//!
//! Bounds (peer input never grows memory past them):
//! - [`MAX_FRAME_BYTES`]: one frame, one reassembled NAL unit or OBU;
//! - [`MAX_PACKETS_PER_FRAME`]: packets in one frame (packetizer output too);
//! - [`MAX_FRAMES_PENDING`]: frames the assembler holds, and frames queued for `poll_frame`;
//! - [`MAX_PENDING_BYTES`]: payload bytes the assembler holds in all;
//! - [`MAX_FRAME_AGE_TICKS`]: how far (RTP timestamp) an incomplete frame may fall behind the
//!   newest before it is dropped;
//! - [`MAX_SEQ_REORDER`] and [`MAX_MISSING`]: how far back a packet is still taken, and how
//!   many missing sequence numbers are reported;
//! - [`h264::MAX_PARAMETER_SET_BYTES`]: the cached SPS and PPS;
//! - VP9's scalability structure is bounded by its own fields (8 spatial layers, 255 picture
//!   group entries of up to 3 references each).

pub mod assembler;
pub mod av1;
pub mod dtmf;
#[doc(hidden)]
pub mod fuzz;
pub mod h264;
pub mod opus;
pub mod synth;
#[cfg(test)]
mod tests;
pub mod vp8;
pub mod vp9;

use std::collections::VecDeque;

pub use assembler::{AssemblerStats, FrameAssembler};

/// Largest frame (and largest single NAL unit or OBU) taken from a peer or given to a
/// packetizer: 4 MiB, several times a 4K key frame.
pub const MAX_FRAME_BYTES: usize = 4 << 20;
/// Most packets in one frame (also the most a packetizer produces for one frame).
pub const MAX_PACKETS_PER_FRAME: usize = 4096;
/// Most frames the assembler holds waiting for packets, and most frames queued for
/// `poll_frame` (the oldest is dropped past it).
pub const MAX_FRAMES_PENDING: usize = 32;
/// Most payload bytes the assembler holds across all pending frames.
pub const MAX_PENDING_BYTES: usize = 8 << 20;
/// An incomplete frame whose RTP timestamp is more than this behind the newest one is
/// dropped: one second of the 90 kHz video clock.
pub const MAX_FRAME_AGE_TICKS: u32 = 90_000;
/// A packet more than this many sequence numbers behind the highest one is late and dropped;
/// missing sequence numbers that far behind are no longer reported.
pub const MAX_SEQ_REORDER: u64 = 1024;
/// Most missing sequence numbers reported at once (a larger jump is a restart, not loss).
pub const MAX_MISSING: usize = 512;

/// A media codec with an RTP payload format here.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    Opus,
    Vp8,
    Vp9,
    H264,
    Av1,
}

impl Codec {
    pub const ALL: [Codec; 5] = [Codec::Opus, Codec::Vp8, Codec::Vp9, Codec::H264, Codec::Av1];

    pub const fn is_video(self) -> bool {
        !matches!(self, Codec::Opus)
    }

    /// The SDP encoding name (`a=rtpmap`).
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Opus => "opus",
            Codec::Vp8 => "VP8",
            Codec::Vp9 => "VP9",
            Codec::H264 => "H264",
            Codec::Av1 => "AV1",
        }
    }

    /// The RTP clock rate (RFC 7587 §4.1: Opus is always 48 kHz; video is 90 kHz).
    pub const fn clock_rate(self) -> u32 {
        match self {
            Codec::Opus => 48_000,
            _ => 90_000,
        }
    }
}

/// One media frame: an Opus packet, or a video frame (VP8/VP9 frame, H.264 access unit in
/// Annex B, AV1 temporal unit in the low-overhead format).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub codec: Codec,
    /// The RTP timestamp shared by the frame's packets.
    pub timestamp: u32,
    pub data: Vec<u8>,
    /// A key frame (decodable on its own); always true for audio.
    pub keyframe: bool,
    /// Every packet from the frame's first to its marker arrived and parsed. Always true for
    /// audio and for frames out of a [`FrameAssembler`].
    pub complete: bool,
    /// Sequence numbers of the first and last packet taken.
    pub first_seq: u16,
    pub last_seq: u16,
}

/// One RTP payload out of a packetizer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    pub data: Vec<u8>,
    /// The RTP marker bit: the last packet of a video frame. Never set for Opus (there it
    /// means the start of a talkspurt, RFC 7587 §4.1, which only the encoder knows).
    pub marker: bool,
}

/// What one payload says about its frame, read without state.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PacketInfo {
    /// `Some(true)`: the payload starts a frame; `Some(false)`: it cannot (a continuation);
    /// `None`: the format does not say (H.264, AV1), so the packet before decides.
    pub starts_frame: Option<bool>,
    /// The payload is a whole frame whatever the marker says (audio).
    pub ends_frame: bool,
    /// The payload starts a key frame (see [`is_keyframe`]).
    pub keyframe: bool,
}

/// Why a payload or a frame was refused.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CodecError {
    /// The payload ends inside a header, a length or a unit it announces.
    Truncated,
    /// A field has a value the format forbids (a zero length, start and end on one
    /// fragment, the AV1 forbidden bit, more references than allowed, no media bytes).
    Malformed,
    /// A valid construct outside what we take (H.264 STAP-B, MTAP and FU-B are not
    /// packetization-mode 1; reserved NAL unit types).
    Unsupported,
    /// A frame, NAL unit or OBU past [`MAX_FRAME_BYTES`], or a frame of more than
    /// [`MAX_PACKETS_PER_FRAME`] packets, or more than [`MAX_PENDING_BYTES`] held.
    TooLarge,
    /// API misuse: an empty frame, `max_payload` too small for the format's headers, a
    /// packetizer input that is not the format's byte stream (not Annex B, bad OBU sizes).
    InvalidInput,
}

impl core::fmt::Display for CodecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = match self {
            CodecError::Truncated => "payload truncated",
            CodecError::Malformed => "malformed payload",
            CodecError::Unsupported => "unsupported payload structure",
            CodecError::TooLarge => "frame too large",
            CodecError::InvalidInput => "invalid packetizer input",
        };
        f.write_str(s)
    }
}

impl std::error::Error for CodecError {}

/// Frame bytes and an MTU budget in, payloads out.
pub trait Packetizer: Send {
    fn codec(&self) -> Codec;
    /// Splits one frame into payloads of at most `max_payload` bytes each; for video the last
    /// one is marked. State (a picture ID) advances only when it succeeds.
    fn packetize(&mut self, frame: &[u8], max_payload: usize) -> Result<Vec<Payload>, CodecError>;
}

/// Payloads in sequence order in, frames out.
pub trait Depacketizer: Send {
    fn codec(&self) -> Codec;
    /// Reads what one payload says about its frame, without state. An error here means
    /// `push` refuses the payload too.
    fn inspect(&self, payload: &[u8]) -> Result<PacketInfo, CodecError>;
    /// Takes the next payload. A sequence number that does not follow the previous one marks
    /// the current frame incomplete; a new timestamp, or the marker (audio: every payload),
    /// ends it. A refused payload counts as lost.
    fn push(
        &mut self,
        payload: &[u8],
        marker: bool,
        seq: u16,
        timestamp: u32,
    ) -> Result<(), CodecError>;
    /// The next finished frame.
    fn poll_frame(&mut self) -> Option<Frame>;
    /// Forgets the frame in progress (the next payload starts a frame) and queued frames;
    /// keeps what outlives frames (H.264 parameter sets).
    fn reset(&mut self);
}

impl<D: Depacketizer + ?Sized> Depacketizer for Box<D> {
    fn codec(&self) -> Codec {
        (**self).codec()
    }
    fn inspect(&self, payload: &[u8]) -> Result<PacketInfo, CodecError> {
        (**self).inspect(payload)
    }
    fn push(
        &mut self,
        payload: &[u8],
        marker: bool,
        seq: u16,
        timestamp: u32,
    ) -> Result<(), CodecError> {
        (**self).push(payload, marker, seq, timestamp)
    }
    fn poll_frame(&mut self) -> Option<Frame> {
        (**self).poll_frame()
    }
    fn reset(&mut self) {
        (**self).reset()
    }
}

impl<P: Packetizer + ?Sized> Packetizer for Box<P> {
    fn codec(&self) -> Codec {
        (**self).codec()
    }
    fn packetize(&mut self, frame: &[u8], max_payload: usize) -> Result<Vec<Payload>, CodecError> {
        (**self).packetize(frame, max_payload)
    }
}

/// A packetizer for `codec`; `picture_id` seeds VP8's and VP9's 15-bit picture ID (draw it
/// from the RNG), the others ignore it.
pub fn new_packetizer(codec: Codec, picture_id: u16) -> Box<dyn Packetizer> {
    match codec {
        Codec::Opus => Box::new(opus::OpusPacketizer::new()),
        Codec::Vp8 => Box::new(vp8::Vp8Packetizer::new(picture_id)),
        Codec::Vp9 => Box::new(vp9::Vp9Packetizer::new(picture_id)),
        Codec::H264 => Box::new(h264::H264Packetizer::new()),
        Codec::Av1 => Box::new(av1::Av1Packetizer::new()),
    }
}

/// A depacketizer for `codec`.
pub fn new_depacketizer(codec: Codec) -> Box<dyn Depacketizer> {
    match codec {
        Codec::Opus => Box::new(opus::OpusDepacketizer::new()),
        Codec::Vp8 => Box::new(vp8::Vp8Depacketizer::new()),
        Codec::Vp9 => Box::new(vp9::Vp9Depacketizer::new()),
        Codec::H264 => Box::new(h264::H264Depacketizer::new()),
        Codec::Av1 => Box::new(av1::Av1Depacketizer::new()),
    }
}

/// Whether `payload` starts a key frame of `codec` (false for anything malformed):
/// VP8: start of partition 0 with the P bit 0; VP9: B set and P clear on the base spatial
/// layer; H.264: an IDR slice or an SPS; AV1: the N bit on a packet starting with a sequence
/// header; Opus: always.
pub fn is_keyframe(codec: Codec, payload: &[u8]) -> bool {
    let info = match codec {
        Codec::Opus => opus::inspect(payload),
        Codec::Vp8 => vp8::inspect(payload),
        Codec::Vp9 => vp9::inspect(payload),
        Codec::H264 => h264::inspect(payload),
        Codec::Av1 => av1::inspect(payload),
    };
    info.is_ok_and(|i| i.keyframe)
}

/// Bounds-checked reader over a payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader(buf)
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub(crate) fn remaining(&self) -> usize {
        self.0.len()
    }
    pub(crate) fn u8(&mut self) -> Result<u8, CodecError> {
        let (&b, rest) = self.0.split_first().ok_or(CodecError::Truncated)?;
        self.0 = rest;
        Ok(b)
    }
    pub(crate) fn u16(&mut self) -> Result<u16, CodecError> {
        let (a, rest) = self
            .0
            .split_first_chunk::<2>()
            .ok_or(CodecError::Truncated)?;
        self.0 = rest;
        Ok(u16::from_be_bytes(*a))
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let (a, rest) = self.0.split_at_checked(n).ok_or(CodecError::Truncated)?;
        self.0 = rest;
        Ok(a)
    }
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.0)
    }
}

/// Checks a packetizer's input and budget.
pub(crate) fn check_frame(
    frame: &[u8],
    max_payload: usize,
    min_payload: usize,
) -> Result<(), CodecError> {
    if frame.is_empty() || max_payload < min_payload {
        return Err(CodecError::InvalidInput);
    }
    if frame.len() > MAX_FRAME_BYTES {
        return Err(CodecError::TooLarge);
    }
    Ok(())
}

/// Checks a packetizer's output count.
pub(crate) fn check_count(payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
    if payloads.len() > MAX_PACKETS_PER_FRAME {
        return Err(CodecError::TooLarge);
    }
    Ok(payloads)
}

/// The codec-specific half of a depacketizer: turns payloads into frame bytes.
pub(crate) trait Format {
    const CODEC: Codec;
    fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError>;
    /// Appends the media bytes of `payload` to `data`. `continuous` is false at the start of
    /// a frame and after a lost packet (no fragment from before may be continued). On error
    /// `data` may hold a partial append (the caller truncates it).
    fn parse(
        &mut self,
        payload: &[u8],
        continuous: bool,
        data: &mut Vec<u8>,
    ) -> Result<(), CodecError>;
    /// The frame ends: flush what is pending into `data`; false if a fragment was cut off.
    /// Formats that keep nothing between packets have nothing to flush.
    fn finish(&mut self, _data: &mut Vec<u8>) -> bool {
        true
    }
    /// Drops fragment state (a packet was lost or refused).
    fn discard(&mut self) {}
}

#[derive(Debug)]
struct Partial {
    timestamp: u32,
    first_seq: u16,
    last_seq: u16,
    data: Vec<u8>,
    keyframe: bool,
    complete: bool,
    overflow: bool,
    packets: usize,
}

/// The codec-independent half of a depacketizer: frame boundaries, loss, bounds, the queue.
#[derive(Debug, Default)]
pub(crate) struct Reassembly {
    cur: Option<Partial>,
    out: VecDeque<Frame>,
    /// Sequence number of the last packet that ended a frame.
    last_end: Option<u16>,
    /// The next packet starts a frame (fresh or after `reset`).
    fresh: bool,
}

impl Reassembly {
    pub(crate) fn new() -> Self {
        Reassembly {
            fresh: true,
            ..Default::default()
        }
    }

    pub(crate) fn reset<F: Format>(&mut self, fmt: &mut F) {
        self.cur = None;
        self.out.clear();
        self.last_end = None;
        self.fresh = true;
        // Lets the format forget what it noted about the frame in progress.
        fmt.finish(&mut Vec::new());
        fmt.discard();
    }

    pub(crate) fn poll(&mut self) -> Option<Frame> {
        self.out.pop_front()
    }

    pub(crate) fn push<F: Format>(
        &mut self,
        fmt: &mut F,
        payload: &[u8],
        marker: bool,
        seq: u16,
        timestamp: u32,
    ) -> Result<(), CodecError> {
        let info = match F::inspect(payload) {
            Ok(i) => i,
            Err(e) => {
                if let Some(cur) = self.cur.as_mut() {
                    cur.complete = false;
                }
                fmt.discard();
                return Err(e);
            }
        };
        if self.cur.as_ref().is_some_and(|c| c.timestamp != timestamp) {
            // The previous frame's marker never came.
            self.finish(fmt, false);
        }
        if self.cur.as_ref().is_some_and(|c| c.last_seq == seq)
            || (self.cur.is_none() && self.last_end == Some(seq))
        {
            // A duplicate of the packet just taken.
            return Ok(());
        }
        let continuous = match self.cur.as_mut() {
            Some(cur) => {
                let next = seq == cur.last_seq.wrapping_add(1);
                if !next {
                    cur.complete = false;
                    fmt.discard();
                }
                cur.last_seq = seq;
                next
            }
            None => {
                let start = match info.starts_frame {
                    Some(s) => s,
                    None => self.fresh || self.last_end.map(|e| e.wrapping_add(1)) == Some(seq),
                };
                fmt.discard();
                self.cur = Some(Partial {
                    timestamp,
                    first_seq: seq,
                    last_seq: seq,
                    data: Vec::new(),
                    keyframe: false,
                    complete: start,
                    overflow: false,
                    packets: 0,
                });
                false
            }
        };
        self.fresh = false;
        let mut result = Ok(());
        if let Some(cur) = self.cur.as_mut() {
            cur.packets += 1;
            cur.keyframe |= info.keyframe;
            if cur.packets > MAX_PACKETS_PER_FRAME {
                cur.overflow = true;
            }
            if !cur.overflow {
                let before = cur.data.len();
                match fmt.parse(payload, continuous, &mut cur.data) {
                    Ok(()) if cur.data.len() > MAX_FRAME_BYTES => cur.overflow = true,
                    Ok(()) => {}
                    Err(e) => {
                        cur.data.truncate(before);
                        cur.complete = false;
                        fmt.discard();
                        result = Err(e);
                    }
                }
            }
            if cur.overflow {
                cur.data = Vec::new();
                fmt.discard();
                result = result.and(Err(CodecError::TooLarge));
            }
        }
        if marker || info.ends_frame {
            self.finish(fmt, true);
            self.last_end = Some(seq);
        }
        result
    }

    fn finish<F: Format>(&mut self, fmt: &mut F, ended: bool) {
        let Some(mut cur) = self.cur.take() else {
            return;
        };
        let whole = !cur.overflow && fmt.finish(&mut cur.data);
        fmt.discard();
        if cur.overflow || cur.data.is_empty() || cur.data.len() > MAX_FRAME_BYTES {
            return;
        }
        if self.out.len() >= MAX_FRAMES_PENDING {
            self.out.pop_front();
        }
        self.out.push_back(Frame {
            codec: F::CODEC,
            timestamp: cur.timestamp,
            data: cur.data,
            keyframe: cur.keyframe,
            complete: cur.complete && ended && whole,
            first_seq: cur.first_seq,
            last_seq: cur.last_seq,
        });
    }
}

/// For a struct with `re: Reassembly` and `fmt: $fmt` (a [`Format`] with a `Default`):
/// `new()`, `Default`, and [`Depacketizer`] through the shared [`Reassembly`].
macro_rules! impl_depacketizer {
    ($ty:ident, $fmt:ty) => {
        impl $ty {
            pub fn new() -> Self {
                $ty {
                    re: $crate::codec::Reassembly::new(),
                    fmt: <$fmt>::default(),
                }
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }

        impl $crate::codec::Depacketizer for $ty {
            fn codec(&self) -> $crate::codec::Codec {
                <$fmt as $crate::codec::Format>::CODEC
            }
            fn inspect(
                &self,
                payload: &[u8],
            ) -> Result<$crate::codec::PacketInfo, $crate::codec::CodecError> {
                <$fmt as $crate::codec::Format>::inspect(payload)
            }
            fn push(
                &mut self,
                payload: &[u8],
                marker: bool,
                seq: u16,
                timestamp: u32,
            ) -> Result<(), $crate::codec::CodecError> {
                self.re.push(&mut self.fmt, payload, marker, seq, timestamp)
            }
            fn poll_frame(&mut self) -> Option<$crate::codec::Frame> {
                self.re.poll()
            }
            fn reset(&mut self) {
                self.re.reset(&mut self.fmt)
            }
        }
    };
}
pub(crate) use impl_depacketizer;
