//! H.264, RFC 6184 in packetization-mode 1 (non-interleaved): single NAL unit packets
//! (types 1..=23), STAP-A (24) and FU-A (28). STAP-B, MTAP16, MTAP24 and FU-B belong to the
//! interleaved mode and are refused as [`CodecError::Unsupported`], as are the reserved types
//! 0, 30 and 31.
//!
//! RFC 6184 §5.3, the NAL unit header: `|F|NRI| Type |`.
//! RFC 6184 §5.7.1, STAP-A: the STAP-A NAL header, then for each NAL unit a 16-bit size and
//! the unit.
//! RFC 6184 §5.8, FU-A:
//! ```text
//!    FU indicator     FU header
//!  +---------------+---------------+
//!  |0|1|2|3|4|5|6|7|0|1|2|3|4|5|6|7|
//!  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!  |F|NRI|  Type   |S|E|R|  Type   |
//!  +---------------+---------------+
//! ```
//! Frames are Annex B byte streams on both sides (ITU-T H.264 Annex B): the packetizer splits
//! its input at start codes, aggregates consecutive small NAL units (SPS and PPS, typically)
//! into STAP-A packets and fragments large ones into FU-A; the depacketizer writes each NAL
//! unit after a 4-byte start code. It remembers the last SPS and PPS (at most
//! [`MAX_PARAMETER_SET_BYTES`] each) and prepends them to an IDR frame that lacks them.

use super::{
    check_count, check_frame, impl_depacketizer, Codec, CodecError, Format, PacketInfo, Packetizer,
    Payload, Reader, Reassembly, MAX_FRAME_BYTES,
};

/// Largest SPS or PPS remembered (a larger one passes through, uncached).
pub const MAX_PARAMETER_SET_BYTES: usize = 1024;

pub const NAL_SLICE: u8 = 1;
pub const NAL_IDR: u8 = 5;
pub const NAL_SEI: u8 = 6;
pub const NAL_SPS: u8 = 7;
pub const NAL_PPS: u8 = 8;
pub const NAL_AUD: u8 = 9;
pub const NAL_STAP_A: u8 = 24;
pub const NAL_STAP_B: u8 = 25;
pub const NAL_MTAP16: u8 = 26;
pub const NAL_MTAP24: u8 = 27;
pub const NAL_FU_A: u8 = 28;
pub const NAL_FU_B: u8 = 29;

/// The 4-byte Annex B start code written before each NAL unit.
pub const START_CODE: [u8; 4] = [0, 0, 0, 1];

const FU_START: u8 = 0x80;
const FU_END: u8 = 0x40;

fn nal_type(header: u8) -> u8 {
    header & 0x1f
}

/// The shape of one payload.
enum Packet<'a> {
    /// One whole NAL unit.
    Single(&'a [u8]),
    /// The NAL units of a STAP-A (each non-empty).
    Stap(Vec<&'a [u8]>),
    /// A FU-A fragment: the reconstructed NAL header, start and end bits, bytes.
    Fu {
        header: u8,
        start: bool,
        end: bool,
        data: &'a [u8],
    },
}

fn parse_packet(payload: &[u8]) -> Result<Packet<'_>, CodecError> {
    let mut r = Reader::new(payload);
    let h = r.u8()?;
    if h & 0x80 != 0 {
        // RFC 6184 §5.3: F = 1 marks a unit with bit errors or a syntax violation.
        return Err(CodecError::Malformed);
    }
    match nal_type(h) {
        1..=23 => Ok(Packet::Single(payload)),
        NAL_STAP_A => {
            let mut units = Vec::new();
            while !r.is_empty() {
                let n = usize::from(r.u16()?);
                if n == 0 {
                    return Err(CodecError::Malformed);
                }
                let unit = r.take(n)?;
                // A unit inside a STAP-A is a plain NAL unit (types 1..=23), F clear.
                if unit
                    .first()
                    .is_some_and(|&b| b & 0x80 != 0 || !(1..=23).contains(&nal_type(b)))
                {
                    return Err(CodecError::Malformed);
                }
                units.push(unit);
            }
            if units.is_empty() {
                return Err(CodecError::Truncated);
            }
            Ok(Packet::Stap(units))
        }
        NAL_FU_A => {
            let fu = r.u8()?;
            let (start, end) = (fu & FU_START != 0, fu & FU_END != 0);
            if start && end {
                // RFC 6184 §5.8: a NAL unit in one FU is not allowed.
                return Err(CodecError::Malformed);
            }
            let data = r.rest();
            if data.is_empty() {
                return Err(CodecError::Truncated);
            }
            Ok(Packet::Fu {
                header: (h & 0xe0) | nal_type(fu),
                start,
                end,
                data,
            })
        }
        NAL_STAP_B | NAL_MTAP16 | NAL_MTAP24 | NAL_FU_B => Err(CodecError::Unsupported),
        _ => Err(CodecError::Unsupported),
    }
}

/// Whether a NAL unit beginning with `unit` (header byte first; a FU-A start's rebuilt header
/// and its first byte will do) opens an access unit (ITU-T H.264 §7.4.1.2.3): an access unit
/// delimiter or an SPS does (`Some(true)`); a slice whose `first_mb_in_slice` is not 0 (its
/// ue(v) code starts with a 0 bit) cannot (`Some(false)`); the first slice of a picture, a
/// PPS or an SEI may or may not, as parameter sets and SEI may come before (`None`).
fn opens_access_unit(unit: &[u8]) -> Option<bool> {
    let t = unit.first().map(|&h| nal_type(h))?;
    match t {
        NAL_AUD | NAL_SPS => Some(true),
        NAL_SLICE | NAL_IDR => match unit.get(1) {
            Some(b) if b & 0x80 == 0 => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Where a payload sits in its frame (see `opens_access_unit`; a FU-A continuation never
/// starts one), and whether it is a key frame: an IDR slice or an SPS (in a single NAL unit,
/// a STAP-A, or any FU-A fragment).
pub fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError> {
    let key = |t: u8| t == NAL_IDR || t == NAL_SPS;
    let (starts, keyframe) = match parse_packet(payload)? {
        Packet::Single(u) => (
            opens_access_unit(u),
            u.first().is_some_and(|&h| key(nal_type(h))),
        ),
        Packet::Stap(units) => (
            units.first().and_then(|u| opens_access_unit(u)),
            units
                .iter()
                .any(|u| u.first().is_some_and(|&h| key(nal_type(h)))),
        ),
        Packet::Fu {
            header,
            start,
            data,
            ..
        } => {
            let starts = if start {
                opens_access_unit(&[header, data.first().copied().unwrap_or(0)])
            } else {
                Some(false)
            };
            (starts, key(nal_type(header)))
        }
    };
    Ok(PacketInfo {
        starts_frame: starts,
        ends_frame: false,
        keyframe,
    })
}

/// Splits an Annex B byte stream into its NAL units (start codes of 3 or 4 bytes; trailing
/// zero bytes of a unit dropped). The stream must begin with a start code (leading zero
/// bytes allowed).
pub fn split_annex_b(stream: &[u8]) -> Result<Vec<&[u8]>, CodecError> {
    let lead = stream.iter().take_while(|&&b| b == 0).count();
    if lead < 2 || stream.get(lead) != Some(&1) {
        return Err(CodecError::InvalidInput);
    }
    let mut units = Vec::new();
    let mut rest = stream.get(lead + 1..).unwrap_or(&[]);
    loop {
        // Find the next 00 00 01.
        let next = rest.windows(3).position(|w| w == [0, 0, 1]);
        let (unit, after) = match next {
            Some(i) => (
                rest.get(..i).unwrap_or(&[]),
                rest.get(i + 3..).unwrap_or(&[]),
            ),
            None => (rest, &[][..]),
        };
        let trimmed = unit.len() - unit.iter().rev().take_while(|&&b| b == 0).count();
        let unit = unit.get(..trimmed).unwrap_or(&[]);
        if !unit.is_empty() {
            units.push(unit);
        }
        if next.is_none() {
            break;
        }
        rest = after;
    }
    Ok(units)
}

/// Annex B in, packetization-mode 1 payloads out.
#[derive(Debug, Default)]
pub struct H264Packetizer;

impl H264Packetizer {
    pub fn new() -> Self {
        H264Packetizer
    }
}

/// Flushes the aggregate `group` as one payload: a single NAL unit alone, else a STAP-A.
fn flush_group(group: &mut Vec<&[u8]>, out: &mut Vec<Payload>) {
    match group.as_slice() {
        [] => {}
        [one] => out.push(Payload {
            data: one.to_vec(),
            marker: false,
        }),
        units => {
            let nri = units
                .iter()
                .filter_map(|u| u.first())
                .map(|h| h & 0x60)
                .max()
                .unwrap_or(0);
            let mut data = vec![nri | NAL_STAP_A];
            for u in units {
                let n = u16::try_from(u.len()).unwrap_or(u16::MAX);
                data.extend_from_slice(&n.to_be_bytes());
                data.extend_from_slice(u);
            }
            out.push(Payload {
                data,
                marker: false,
            });
        }
    }
    group.clear();
}

impl Packetizer for H264Packetizer {
    fn codec(&self) -> Codec {
        Codec::H264
    }
    /// Aggregates consecutive NAL units while a STAP-A fits `max_payload`; a unit larger than
    /// `max_payload` goes as FU-A fragments (needs `max_payload` of at least 3).
    fn packetize(&mut self, frame: &[u8], max_payload: usize) -> Result<Vec<Payload>, CodecError> {
        check_frame(frame, max_payload, 3)?;
        let units = split_annex_b(frame)?;
        if units.is_empty() {
            return Err(CodecError::InvalidInput);
        }
        if units
            .iter()
            .any(|u| u.first().is_some_and(|h| h & 0x80 != 0))
        {
            return Err(CodecError::InvalidInput);
        }
        let mut out = Vec::new();
        let mut group: Vec<&[u8]> = Vec::new();
        let mut group_len = 1; // the STAP-A header
        for unit in units {
            if unit.len() > max_payload {
                flush_group(&mut group, &mut out);
                group_len = 1;
                // FU-A: indicator and header, then the unit without its header byte.
                let (&h, body) = unit.split_first().ok_or(CodecError::InvalidInput)?;
                let cap = max_payload - 2;
                let n = body.len().div_ceil(cap);
                if out.len() + n > super::MAX_PACKETS_PER_FRAME {
                    return Err(CodecError::TooLarge);
                }
                for (i, chunk) in body.chunks(cap).enumerate() {
                    let mut fu = nal_type(h);
                    if i == 0 {
                        fu |= FU_START;
                    }
                    if i + 1 == n {
                        fu |= FU_END;
                    }
                    let mut data = Vec::with_capacity(2 + chunk.len());
                    data.push((h & 0xe0) | NAL_FU_A);
                    data.push(fu);
                    data.extend_from_slice(chunk);
                    out.push(Payload {
                        data,
                        marker: false,
                    });
                }
                continue;
            }
            if unit.len() > usize::from(u16::MAX) {
                // Too long for a STAP-A size field: alone in its packet.
                flush_group(&mut group, &mut out);
                group.push(unit);
                flush_group(&mut group, &mut out);
                group_len = 1;
                continue;
            }
            let add = 2 + unit.len();
            if !group.is_empty() && group_len + add > max_payload {
                flush_group(&mut group, &mut out);
                group_len = 1;
            }
            group.push(unit);
            group_len += add;
            if out.len() > super::MAX_PACKETS_PER_FRAME {
                return Err(CodecError::TooLarge);
            }
        }
        flush_group(&mut group, &mut out);
        if let Some(last) = out.last_mut() {
            last.marker = true;
        }
        check_count(out)
    }
}

/// Depacketizer state: the FU-A in progress, the cached parameter sets, what the frame holds.
#[derive(Debug, Default)]
pub(crate) struct H264Format {
    /// The NAL unit being reassembled from FU-A fragments (header byte first).
    fu: Option<Vec<u8>>,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
    has_sps: bool,
    has_pps: bool,
    has_idr: bool,
    /// A FU-A was cut off or continued without its start although no packet was lost.
    broken: bool,
}

impl H264Format {
    fn emit(&mut self, unit: &[u8], data: &mut Vec<u8>) -> Result<(), CodecError> {
        if data.len() + START_CODE.len() + unit.len() > MAX_FRAME_BYTES {
            return Err(CodecError::TooLarge);
        }
        let t = unit.first().map(|&h| nal_type(h)).unwrap_or(0);
        match t {
            NAL_SPS => {
                self.has_sps = true;
                if unit.len() <= MAX_PARAMETER_SET_BYTES {
                    self.sps = Some(unit.to_vec());
                }
            }
            NAL_PPS => {
                self.has_pps = true;
                if unit.len() <= MAX_PARAMETER_SET_BYTES {
                    self.pps = Some(unit.to_vec());
                }
            }
            NAL_IDR => self.has_idr = true,
            _ => {}
        }
        data.extend_from_slice(&START_CODE);
        data.extend_from_slice(unit);
        Ok(())
    }
}

impl Format for H264Format {
    const CODEC: Codec = Codec::H264;
    fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError> {
        inspect(payload)
    }
    fn parse(
        &mut self,
        payload: &[u8],
        continuous: bool,
        data: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let packet = parse_packet(payload)?;
        if !continuous {
            self.fu = None;
        }
        let starts_unit = !matches!(packet, Packet::Fu { start: false, .. });
        if starts_unit && self.fu.take().is_some() {
            self.broken = true;
        }
        match packet {
            Packet::Single(u) => self.emit(u, data),
            Packet::Stap(units) => units.into_iter().try_for_each(|u| self.emit(u, data)),
            Packet::Fu {
                header,
                start,
                end,
                data: bytes,
            } => {
                if start {
                    let mut unit = Vec::with_capacity(1 + bytes.len());
                    unit.push(header);
                    self.fu = Some(unit);
                }
                let Some(mut unit) = self.fu.take() else {
                    // The start fragment was lost: nothing to continue.
                    if continuous {
                        self.broken = true;
                    }
                    return Ok(());
                };
                if unit.first() != Some(&header) {
                    return Err(CodecError::Malformed);
                }
                if data.len() + unit.len() + bytes.len() > MAX_FRAME_BYTES {
                    return Err(CodecError::TooLarge);
                }
                unit.extend_from_slice(bytes);
                if end {
                    self.emit(&unit, data)
                } else {
                    self.fu = Some(unit);
                    Ok(())
                }
            }
        }
    }
    fn finish(&mut self, data: &mut Vec<u8>) -> bool {
        let whole = self.fu.take().is_none() && !self.broken;
        self.broken = false;
        if self.has_idr && !(self.has_sps && self.has_pps) {
            let mut prefix = Vec::new();
            for (has, set) in [(self.has_sps, &self.sps), (self.has_pps, &self.pps)] {
                if let (false, Some(set)) = (has, set) {
                    prefix.extend_from_slice(&START_CODE);
                    prefix.extend_from_slice(set);
                }
            }
            if !prefix.is_empty() && data.len() + prefix.len() <= MAX_FRAME_BYTES {
                data.splice(0..0, prefix);
            }
        }
        self.has_sps = false;
        self.has_pps = false;
        self.has_idr = false;
        whole
    }
    fn discard(&mut self) {
        self.fu = None;
    }
}

/// H.264 access units (Annex B) out of payloads in sequence order.
#[derive(Debug)]
pub struct H264Depacketizer {
    re: Reassembly,
    fmt: H264Format,
}

impl_depacketizer!(H264Depacketizer, H264Format);
