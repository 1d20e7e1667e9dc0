//! VP8, RFC 7741.
//!
//! RFC 7741 §4.2, the payload descriptor:
//! ```text
//!       0 1 2 3 4 5 6 7
//!      +-+-+-+-+-+-+-+-+
//!      |X|R|N|S|R| PID | (REQUIRED)
//!      +-+-+-+-+-+-+-+-+
//! X:   |I|L|T|K| RSV   | (OPTIONAL)
//!      +-+-+-+-+-+-+-+-+
//! I:   |M| PictureID   | (OPTIONAL)
//!      +-+-+-+-+-+-+-+-+
//! M:   | PictureID     | (OPTIONAL, 15-bit picture ID)
//!      +-+-+-+-+-+-+-+-+
//! L:   |   TL0PICIDX   | (OPTIONAL)
//!      +-+-+-+-+-+-+-+-+
//! T/K: |TID|Y| KEYIDX  | (OPTIONAL)
//!      +-+-+-+-+-+-+-+-+
//! ```
//! RFC 7741 §4.3, the VP8 payload header that opens a frame (first packet, S = 1, PID = 0):
//! `|Size0|H| VER |P|`, then Size1, Size2; P = 0 is a key frame.
//!
//! The packetizer sends every frame as partition 0 (S on its first packet only, as
//! libwebrtc does), with a 15-bit picture ID that advances per frame. The depacketizer
//! concatenates the VP8 bytes of a frame's packets.

use super::{
    check_count, check_frame, impl_depacketizer, Codec, CodecError, Format, PacketInfo, Packetizer,
    Payload, Reader, Reassembly,
};

/// A 7- or 15-bit picture ID (RFC 7741 §4.2 I/M, RFC 9628 §4.2 I/M).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum PictureId {
    /// 7 bits (M = 0).
    Short(u8),
    /// 15 bits (M = 1).
    Long(u16),
}

impl PictureId {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<PictureId, CodecError> {
        let b = r.u8()?;
        if b & 0x80 == 0 {
            return Ok(PictureId::Short(b));
        }
        let lo = r.u8()?;
        Ok(PictureId::Long(u16::from_be_bytes([b & 0x7f, lo])))
    }
    /// Encodes the low 7 or 15 bits.
    pub(crate) fn encode(self, out: &mut Vec<u8>) {
        match self {
            PictureId::Short(v) => out.push(v & 0x7f),
            PictureId::Long(v) => out.extend_from_slice(&((v & 0x7fff) | 0x8000).to_be_bytes()),
        }
    }
    pub fn value(self) -> u16 {
        match self {
            PictureId::Short(v) => u16::from(v & 0x7f),
            PictureId::Long(v) => v & 0x7fff,
        }
    }
}

/// RFC 7741 §4.2's payload descriptor. The R bits are sent as 0 and ignored on receipt.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Vp8Descriptor {
    /// N: the frame is not a reference frame.
    pub non_reference: bool,
    /// S: the payload starts a VP8 partition.
    pub start_of_partition: bool,
    /// PID: the partition index (0..=7).
    pub partition_index: u8,
    /// I (and M): the picture ID.
    pub picture_id: Option<PictureId>,
    /// L: TL0PICIDX.
    pub tl0_pic_idx: Option<u8>,
    /// T: the temporal layer index (0..=3) and the layer sync bit Y.
    pub temporal: Option<(u8, bool)>,
    /// K: KEYIDX (0..=31).
    pub key_idx: Option<u8>,
}

impl Vp8Descriptor {
    /// Reads the descriptor at the start of `payload`; returns it and the VP8 bytes after it.
    pub fn parse(payload: &[u8]) -> Result<(Vp8Descriptor, &[u8]), CodecError> {
        let mut r = Reader::new(payload);
        let b0 = r.u8()?;
        let mut d = Vp8Descriptor {
            non_reference: b0 & 0x20 != 0,
            start_of_partition: b0 & 0x10 != 0,
            partition_index: b0 & 0x07,
            ..Default::default()
        };
        if b0 & 0x80 != 0 {
            let x = r.u8()?;
            if x & 0x80 != 0 {
                d.picture_id = Some(PictureId::decode(&mut r)?);
            }
            if x & 0x40 != 0 {
                d.tl0_pic_idx = Some(r.u8()?);
            }
            let (t, k) = (x & 0x20 != 0, x & 0x10 != 0);
            if t || k {
                let b = r.u8()?;
                if t {
                    d.temporal = Some((b >> 6, b & 0x20 != 0));
                }
                if k {
                    d.key_idx = Some(b & 0x1f);
                }
            }
        }
        Ok((d, r.rest()))
    }

    /// Writes the descriptor (fields masked to their widths).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let ext = self.picture_id.is_some()
            || self.tl0_pic_idx.is_some()
            || self.temporal.is_some()
            || self.key_idx.is_some();
        let mut b0 = self.partition_index & 0x07;
        if ext {
            b0 |= 0x80;
        }
        if self.non_reference {
            b0 |= 0x20;
        }
        if self.start_of_partition {
            b0 |= 0x10;
        }
        out.push(b0);
        if !ext {
            return;
        }
        let mut x = 0u8;
        if self.picture_id.is_some() {
            x |= 0x80;
        }
        if self.tl0_pic_idx.is_some() {
            x |= 0x40;
        }
        if self.temporal.is_some() {
            x |= 0x20;
        }
        if self.key_idx.is_some() {
            x |= 0x10;
        }
        out.push(x);
        if let Some(p) = self.picture_id {
            p.encode(out);
        }
        if let Some(t) = self.tl0_pic_idx {
            out.push(t);
        }
        if self.temporal.is_some() || self.key_idx.is_some() {
            let mut b = 0u8;
            if let Some((tid, y)) = self.temporal {
                b |= (tid & 0x03) << 6;
                if y {
                    b |= 0x20;
                }
            }
            if let Some(k) = self.key_idx {
                b |= k & 0x1f;
            }
            out.push(b);
        }
    }
}

/// Reads a payload's descriptor: a frame starts with S = 1 and PID = 0, and is a key frame
/// when the VP8 payload header's P bit (RFC 7741 §4.3) is 0. A payload with no VP8 byte
/// after the descriptor is refused.
pub fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError> {
    let (d, rest) = Vp8Descriptor::parse(payload)?;
    let first = rest.first().ok_or(CodecError::Malformed)?;
    let starts = d.start_of_partition && d.partition_index == 0;
    Ok(PacketInfo {
        starts_frame: Some(starts),
        ends_frame: false,
        keyframe: starts && first & 0x01 == 0,
    })
}

/// Descriptor size the packetizer writes: X, I with M (15-bit picture ID).
const PACKETIZER_DESCRIPTOR_LEN: usize = 4;

/// Splits a VP8 frame into partition-0 packets with a 15-bit picture ID.
#[derive(Debug)]
pub struct Vp8Packetizer {
    picture_id: u16,
}

impl Vp8Packetizer {
    /// `picture_id`: the first frame's (low 15 bits), from the RNG.
    pub fn new(picture_id: u16) -> Self {
        Vp8Packetizer {
            picture_id: picture_id & 0x7fff,
        }
    }
    /// The picture ID the next frame gets.
    pub fn picture_id(&self) -> u16 {
        self.picture_id
    }
}

impl Packetizer for Vp8Packetizer {
    fn codec(&self) -> Codec {
        Codec::Vp8
    }
    fn packetize(&mut self, frame: &[u8], max_payload: usize) -> Result<Vec<Payload>, CodecError> {
        check_frame(frame, max_payload, PACKETIZER_DESCRIPTOR_LEN + 1)?;
        let cap = max_payload - PACKETIZER_DESCRIPTOR_LEN;
        if frame.len().div_ceil(cap) > super::MAX_PACKETS_PER_FRAME {
            return Err(CodecError::TooLarge);
        }
        let n = frame.len().div_ceil(cap);
        let mut out = Vec::with_capacity(n);
        for (i, chunk) in frame.chunks(cap).enumerate() {
            let d = Vp8Descriptor {
                start_of_partition: i == 0,
                picture_id: Some(PictureId::Long(self.picture_id)),
                ..Default::default()
            };
            let mut data = Vec::with_capacity(PACKETIZER_DESCRIPTOR_LEN + chunk.len());
            d.encode(&mut data);
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

/// VP8 keeps no state between packets: a frame is its packets' VP8 bytes in order.
#[derive(Debug, Default)]
pub(crate) struct Vp8Format;

impl Format for Vp8Format {
    const CODEC: Codec = Codec::Vp8;
    fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError> {
        inspect(payload)
    }
    fn parse(
        &mut self,
        payload: &[u8],
        _continuous: bool,
        data: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let (_, rest) = Vp8Descriptor::parse(payload)?;
        data.extend_from_slice(rest);
        Ok(())
    }
}

/// VP8 frames out of payloads in sequence order.
#[derive(Debug)]
pub struct Vp8Depacketizer {
    re: Reassembly,
    fmt: Vp8Format,
}

impl_depacketizer!(Vp8Depacketizer, Vp8Format);
