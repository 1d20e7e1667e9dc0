//! VP9, RFC 9628.
//!
//! RFC 9628 §4.2, the payload descriptor (flexible mode, F = 1):
//! ```text
//!         0 1 2 3 4 5 6 7
//!        +-+-+-+-+-+-+-+-+
//!        |I|P|L|F|B|E|V|Z| (REQUIRED)
//!        +-+-+-+-+-+-+-+-+
//!   I:   |M| PICTURE ID  | (REQUIRED)
//!        +-+-+-+-+-+-+-+-+
//!   M:   | EXTENDED PID  | (RECOMMENDED)
//!        +-+-+-+-+-+-+-+-+
//!   L:   | TID |U| SID |D| (Conditionally RECOMMENDED)
//!        +-+-+-+-+-+-+-+-+                             -\
//!   P,F: | P_DIFF      |N| (Conditionally REQUIRED)    - up to 3 times
//!        +-+-+-+-+-+-+-+-+                             -/
//!   V:   | SS            |
//!        | ..            |
//!        +-+-+-+-+-+-+-+-+
//! ```
//! Non-flexible mode (F = 0): no P_DIFF; the layer byte is followed by TL0PICIDX.
//!
//! RFC 9628 §4.2.1, the scalability structure:
//! ```text
//!        +-+-+-+-+-+-+-+-+
//!   V:   | N_S |Y|G|-|-|-|
//!        +-+-+-+-+-+-+-+-+              -\
//!   Y:   |     WIDTH     | (OPTIONAL)    .
//!        +               +               .
//!        |               | (OPTIONAL)    .
//!        +-+-+-+-+-+-+-+-+               . - N_S + 1 times
//!        |     HEIGHT    | (OPTIONAL)    .
//!        +               +               .
//!        |               | (OPTIONAL)    .
//!        +-+-+-+-+-+-+-+-+              -/
//!   G:   |      N_G      | (OPTIONAL)
//!        +-+-+-+-+-+-+-+-+                           -\
//!   N_G: | TID |U| R |-|-| (OPTIONAL)                 .
//!        +-+-+-+-+-+-+-+-+              -\            . - N_G times
//!        |    P_DIFF     | (OPTIONAL)    . - R times  .
//!        +-+-+-+-+-+-+-+-+              -/            -/
//! ```
//! Its size is bounded by its fields: at most [`MAX_SPATIAL_LAYERS`] resolutions and 255
//! picture group entries of at most [`MAX_REFERENCES`] references.
//!
//! The packetizer sends non-flexible descriptors with a 15-bit picture ID, B on the first
//! packet and E on the last, P from the frame header's frame_type (VP9 bitstream §6.2), and a
//! scalability structure on key frames when one is set. The depacketizer concatenates the VP9
//! bytes of a picture's packets (every spatial layer frame of the picture, back to back).

use super::vp8::PictureId;
use super::{
    check_count, check_frame, impl_depacketizer, Codec, CodecError, Format, PacketInfo, Packetizer,
    Payload, Reader, Reassembly,
};

/// N_S + 1 is at most 8.
pub const MAX_SPATIAL_LAYERS: usize = 8;
/// P_DIFF entries per picture (flexible mode) or per picture group entry (R is 2 bits).
pub const MAX_REFERENCES: usize = 3;

/// The L byte (RFC 9628 §4.2): layer indices.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct Vp9Layer {
    /// TID (0..=7).
    pub temporal_id: u8,
    /// U: switching up point.
    pub switching_up: bool,
    /// SID (0..=7).
    pub spatial_id: u8,
    /// D: inter-layer dependency.
    pub inter_layer_dependency: bool,
    /// TL0PICIDX: present exactly in non-flexible mode.
    pub tl0_pic_idx: Option<u8>,
}

/// One picture group entry of the scalability structure.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Vp9PictureGroupEntry {
    pub temporal_id: u8,
    pub switching_up: bool,
    /// P_DIFF of each reference (at most [`MAX_REFERENCES`]).
    pub p_diffs: Vec<u8>,
}

/// The scalability structure (RFC 9628 §4.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalabilityStructure {
    /// N_S + 1 (1..=8).
    pub spatial_layers: u8,
    /// Y: width and height of each spatial layer (empty when Y = 0). When encoding, exactly
    /// `spatial_layers` entries are written ((0, 0) fills a short list).
    pub resolutions: Vec<(u16, u16)>,
    /// G: the picture group description, if present (at most 255 entries).
    pub picture_group: Option<Vec<Vp9PictureGroupEntry>>,
}

impl ScalabilityStructure {
    fn decode(r: &mut Reader<'_>) -> Result<ScalabilityStructure, CodecError> {
        let b = r.u8()?;
        let spatial_layers = (b >> 5) + 1;
        let mut resolutions = Vec::new();
        if b & 0x10 != 0 {
            for _ in 0..spatial_layers {
                resolutions.push((r.u16()?, r.u16()?));
            }
        }
        let picture_group = if b & 0x08 != 0 {
            let n = r.u8()?;
            let mut v = Vec::with_capacity(usize::from(n));
            for _ in 0..n {
                let e = r.u8()?;
                let refs = usize::from((e >> 2) & 0x03);
                let mut p_diffs = Vec::with_capacity(refs);
                for _ in 0..refs {
                    p_diffs.push(r.u8()?);
                }
                v.push(Vp9PictureGroupEntry {
                    temporal_id: e >> 5,
                    switching_up: e & 0x10 != 0,
                    p_diffs,
                });
            }
            Some(v)
        } else {
            None
        };
        Ok(ScalabilityStructure {
            spatial_layers,
            resolutions,
            picture_group,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let n_s = self.spatial_layers.clamp(1, 8) - 1;
        let mut b = n_s << 5;
        if !self.resolutions.is_empty() {
            b |= 0x10;
        }
        if self.picture_group.is_some() {
            b |= 0x08;
        }
        out.push(b);
        if !self.resolutions.is_empty() {
            for i in 0..=usize::from(n_s) {
                let (w, h) = self.resolutions.get(i).copied().unwrap_or((0, 0));
                out.extend_from_slice(&w.to_be_bytes());
                out.extend_from_slice(&h.to_be_bytes());
            }
        }
        if let Some(g) = &self.picture_group {
            let g = g.get(..g.len().min(255)).unwrap_or(&[]);
            out.push(u8::try_from(g.len()).unwrap_or(u8::MAX));
            for e in g {
                let refs = e
                    .p_diffs
                    .get(..e.p_diffs.len().min(MAX_REFERENCES))
                    .unwrap_or(&[]);
                let r = u8::try_from(refs.len()).unwrap_or(0);
                let mut b = ((e.temporal_id & 0x07) << 5) | (r << 2);
                if e.switching_up {
                    b |= 0x10;
                }
                out.push(b);
                out.extend_from_slice(refs);
            }
        }
    }
}

/// RFC 9628 §4.2's payload descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Vp9Descriptor {
    /// P: inter-picture predicted (not a key frame when on the base layer).
    pub inter_picture: bool,
    /// F: flexible mode.
    pub flexible: bool,
    /// B: start of a (layer) frame.
    pub begins_frame: bool,
    /// E: end of a (layer) frame.
    pub ends_frame: bool,
    /// Z: not used as a reference by upper spatial layers.
    pub not_upper_reference: bool,
    /// I (and M).
    pub picture_id: Option<PictureId>,
    /// L.
    pub layer: Option<Vp9Layer>,
    /// Flexible mode with P: the reference P_DIFFs (1..=3 of them, 7 bits each).
    pub p_diffs: Vec<u8>,
    /// V.
    pub ss: Option<ScalabilityStructure>,
}

impl Vp9Descriptor {
    /// Reads the descriptor at the start of `payload`; returns it and the VP9 bytes after it.
    /// Flexible mode without a picture ID, or with more than 3 references, is malformed.
    pub fn parse(payload: &[u8]) -> Result<(Vp9Descriptor, &[u8]), CodecError> {
        let mut r = Reader::new(payload);
        let b0 = r.u8()?;
        let mut d = Vp9Descriptor {
            inter_picture: b0 & 0x40 != 0,
            flexible: b0 & 0x10 != 0,
            begins_frame: b0 & 0x08 != 0,
            ends_frame: b0 & 0x04 != 0,
            not_upper_reference: b0 & 0x01 != 0,
            ..Default::default()
        };
        if b0 & 0x80 != 0 {
            d.picture_id = Some(PictureId::decode(&mut r)?);
        } else if d.flexible {
            // RFC 9628 §4.2: the picture ID is required in flexible mode (P_DIFF refers to it).
            return Err(CodecError::Malformed);
        }
        if b0 & 0x20 != 0 {
            let l = r.u8()?;
            let tl0_pic_idx = if d.flexible { None } else { Some(r.u8()?) };
            d.layer = Some(Vp9Layer {
                temporal_id: l >> 5,
                switching_up: l & 0x10 != 0,
                spatial_id: (l >> 1) & 0x07,
                inter_layer_dependency: l & 0x01 != 0,
                tl0_pic_idx,
            });
        }
        if d.flexible && d.inter_picture {
            loop {
                let b = r.u8()?;
                if d.p_diffs.len() == MAX_REFERENCES {
                    return Err(CodecError::Malformed);
                }
                d.p_diffs.push(b >> 1);
                if b & 0x01 == 0 {
                    break;
                }
            }
        }
        if b0 & 0x02 != 0 {
            d.ss = Some(ScalabilityStructure::decode(&mut r)?);
        }
        Ok((d, r.rest()))
    }

    /// Writes the descriptor. In flexible mode with P, at most 3 P_DIFFs are written; in
    /// non-flexible mode a layer's missing TL0PICIDX is written as 0.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut b0 = 0u8;
        for (on, bit) in [
            (self.picture_id.is_some(), 0x80),
            (self.inter_picture, 0x40),
            (self.layer.is_some(), 0x20),
            (self.flexible, 0x10),
            (self.begins_frame, 0x08),
            (self.ends_frame, 0x04),
            (self.ss.is_some(), 0x02),
            (self.not_upper_reference, 0x01),
        ] {
            if on {
                b0 |= bit;
            }
        }
        out.push(b0);
        if let Some(p) = self.picture_id {
            p.encode(out);
        }
        if let Some(l) = self.layer {
            let mut b = ((l.temporal_id & 0x07) << 5) | ((l.spatial_id & 0x07) << 1);
            if l.switching_up {
                b |= 0x10;
            }
            if l.inter_layer_dependency {
                b |= 0x01;
            }
            out.push(b);
            if !self.flexible {
                out.push(l.tl0_pic_idx.unwrap_or(0));
            }
        }
        if self.flexible && self.inter_picture {
            let refs = self
                .p_diffs
                .get(..self.p_diffs.len().min(MAX_REFERENCES))
                .unwrap_or(&[]);
            let refs = if refs.is_empty() { &[0u8][..] } else { refs };
            for (i, p) in refs.iter().enumerate() {
                let more = u8::from(i + 1 < refs.len());
                out.push((p << 1) | more);
            }
        }
        if let Some(ss) = &self.ss {
            ss.encode(out);
        }
    }
}

/// Reads a payload's descriptor: a picture starts with B on the base spatial layer (SID 0
/// or no layer byte) and is a key frame when P is clear there too. A payload with no VP9
/// byte after the descriptor is refused.
pub fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError> {
    let (d, rest) = Vp9Descriptor::parse(payload)?;
    if rest.is_empty() {
        return Err(CodecError::Malformed);
    }
    let base = d.layer.is_none_or(|l| l.spatial_id == 0);
    let starts = d.begins_frame && base;
    Ok(PacketInfo {
        starts_frame: Some(starts),
        ends_frame: false,
        keyframe: starts && !d.inter_picture,
    })
}

/// VP9 bitstream §6.2 (uncompressed header): frame_marker, profile, show_existing_frame,
/// frame_type; true for a key frame (frame_type 0).
pub fn frame_is_keyframe(frame: &[u8]) -> bool {
    let Some(&b) = frame.first() else {
        return false;
    };
    if b >> 6 != 0b10 {
        return false;
    }
    let profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
    // Bit position (from the LSB) of show_existing_frame: profile 3 has a reserved bit first.
    let pos = if profile == 3 { 2 } else { 3 };
    (b >> pos) & 1 == 0 && (b >> (pos - 1)) & 1 == 0
}

/// The packetizer's descriptor: B/E/P byte and a 15-bit picture ID.
const PACKETIZER_DESCRIPTOR_LEN: usize = 3;

/// Non-flexible, single-layer VP9 packetizer.
#[derive(Debug)]
pub struct Vp9Packetizer {
    picture_id: u16,
    ss: Option<ScalabilityStructure>,
}

impl Vp9Packetizer {
    /// `picture_id`: the first frame's (low 15 bits), from the RNG.
    pub fn new(picture_id: u16) -> Self {
        Vp9Packetizer {
            picture_id: picture_id & 0x7fff,
            ss: None,
        }
    }
    /// A scalability structure to send on the first packet of each key frame.
    pub fn set_scalability_structure(&mut self, ss: Option<ScalabilityStructure>) {
        self.ss = ss;
    }
    pub fn picture_id(&self) -> u16 {
        self.picture_id
    }
}

impl Packetizer for Vp9Packetizer {
    fn codec(&self) -> Codec {
        Codec::Vp9
    }
    fn packetize(&mut self, frame: &[u8], max_payload: usize) -> Result<Vec<Payload>, CodecError> {
        check_frame(frame, max_payload, PACKETIZER_DESCRIPTOR_LEN + 1)?;
        let key = frame_is_keyframe(frame);
        let mut ss_bytes = Vec::new();
        if key {
            if let Some(ss) = &self.ss {
                ss.encode(&mut ss_bytes);
            }
        }
        let first_cap = max_payload.saturating_sub(PACKETIZER_DESCRIPTOR_LEN + ss_bytes.len());
        if first_cap == 0 {
            return Err(CodecError::InvalidInput);
        }
        let cap = max_payload - PACKETIZER_DESCRIPTOR_LEN;
        let (head, tail) = frame.split_at(first_cap.min(frame.len()));
        if 1 + tail.len().div_ceil(cap) > super::MAX_PACKETS_PER_FRAME {
            return Err(CodecError::TooLarge);
        }
        let chunks: Vec<&[u8]> = core::iter::once(head).chain(tail.chunks(cap)).collect();
        let n = chunks.len();
        let mut out = Vec::with_capacity(n);
        for (i, chunk) in chunks.into_iter().enumerate() {
            let d = Vp9Descriptor {
                inter_picture: !key,
                begins_frame: i == 0,
                ends_frame: i + 1 == n,
                picture_id: Some(PictureId::Long(self.picture_id)),
                ..Default::default()
            };
            let mut data = Vec::with_capacity(max_payload);
            d.encode(&mut data);
            if i == 0 && !ss_bytes.is_empty() {
                // V set by hand: the structure was encoded above.
                if let Some(b0) = data.first_mut() {
                    *b0 |= 0x02;
                }
                data.extend_from_slice(&ss_bytes);
            }
            data.extend_from_slice(chunk);
            out.push(Payload {
                data,
                marker: i + 1 == n,
            });
        }
        let out = check_count(out)?;
        self.picture_id = (self.picture_id + 1) & 0x7fff;
        Ok(out)
    }
}

/// VP9 keeps no state between packets: a picture is its packets' VP9 bytes in order.
#[derive(Debug, Default)]
pub(crate) struct Vp9Format;

impl Format for Vp9Format {
    const CODEC: Codec = Codec::Vp9;
    fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError> {
        inspect(payload)
    }
    fn parse(
        &mut self,
        payload: &[u8],
        _continuous: bool,
        data: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let (_, rest) = Vp9Descriptor::parse(payload)?;
        data.extend_from_slice(rest);
        Ok(())
    }
}

/// VP9 pictures out of payloads in sequence order.
#[derive(Debug)]
pub struct Vp9Depacketizer {
    re: Reassembly,
    fmt: Vp9Format,
}

impl_depacketizer!(Vp9Depacketizer, Vp9Format);
