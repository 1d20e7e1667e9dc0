//! AV1, the AV1 RTP payload specification v1.0 (aomediacodec.github.io/av1-rtp-spec).
//!
//! §4.4, the aggregation header, then OBU elements:
//! ```text
//!  0 1 2 3 4 5 6 7
//! +-+-+-+-+-+-+-+-+
//! |Z|Y| W |N|-|-|-|
//! +-+-+-+-+-+-+-+-+
//! ```
//! Z: the first OBU element continues an OBU fragment of the previous packet; Y: the last one
//! continues in the next packet; W: the number of OBU elements (0: each is preceded by its
//! LEB128 length; 1..=3: all but the last are); N: the packet is the first of a coded video
//! sequence. An OBU element is an OBU (AV1 §5.3: header, optional extension byte, payload),
//! normally without its size field.
//!
//! The packetizer takes a temporal unit in the low-overhead bitstream format (AV1 §5.2: OBUs
//! with `obu_has_size_field`, the last one may omit it), drops temporal delimiters and tile
//! list OBUs (§5 of the RTP spec), strips the size fields and packs the OBUs into packets,
//! fragmenting where one does not fit; N is set on the first packet when the temporal unit
//! holds a sequence header. The depacketizer writes each OBU back with its size field, after
//! one temporal delimiter per frame, so a frame is a low-overhead temporal unit.

use super::{
    check_count, check_frame, impl_depacketizer, Codec, CodecError, Format, PacketInfo, Packetizer,
    Payload, Reader, Reassembly, MAX_FRAME_BYTES,
};

pub const OBU_SEQUENCE_HEADER: u8 = 1;
pub const OBU_TEMPORAL_DELIMITER: u8 = 2;
pub const OBU_FRAME_HEADER: u8 = 3;
pub const OBU_TILE_GROUP: u8 = 4;
pub const OBU_METADATA: u8 = 5;
pub const OBU_FRAME: u8 = 6;
pub const OBU_TILE_LIST: u8 = 8;
pub const OBU_PADDING: u8 = 15;

/// AV1 §4.10.5: leb128() reads at most 8 bytes.
const MAX_LEB128_BYTES: usize = 8;
/// The temporal delimiter each depacketized frame starts with (type 2, size field, size 0).
pub const TEMPORAL_DELIMITER: [u8; 2] = [0x12, 0x00];

const OBU_FORBIDDEN: u8 = 0x80;
const OBU_EXTENSION: u8 = 0x04;
const OBU_HAS_SIZE: u8 = 0x02;

/// Reads an AV1 leb128 (at most 8 bytes, value below 2^32).
pub(crate) fn read_leb128(r: &mut Reader<'_>) -> Result<usize, CodecError> {
    let mut v = 0u64;
    for i in 0..MAX_LEB128_BYTES {
        let b = r.u8()?;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if v > u64::from(u32::MAX) {
                return Err(CodecError::Malformed);
            }
            return usize::try_from(v).map_err(|_| CodecError::TooLarge);
        }
    }
    Err(CodecError::Malformed)
}

pub(crate) fn write_leb128(mut v: usize, out: &mut Vec<u8>) {
    loop {
        let b = u8::try_from(v & 0x7f).unwrap_or(0);
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

pub(crate) fn leb128_len(v: usize) -> usize {
    let mut n = 1;
    let mut v = v >> 7;
    while v != 0 {
        n += 1;
        v >>= 7;
    }
    n
}

fn obu_type(header: u8) -> u8 {
    (header >> 3) & 0x0f
}

/// The aggregation header and the OBU elements of one payload.
struct Packet<'a> {
    z: bool,
    y: bool,
    n: bool,
    elements: Vec<&'a [u8]>,
}

fn parse_packet(payload: &[u8]) -> Result<Packet<'_>, CodecError> {
    let mut r = Reader::new(payload);
    let agg = r.u8()?;
    let w = usize::from((agg >> 4) & 0x03);
    let mut elements = Vec::new();
    while !r.is_empty() {
        let last = w != 0 && elements.len() + 1 == w;
        let len = if last {
            r.remaining()
        } else {
            read_leb128(&mut r)?
        };
        let e = r.take(len)?;
        if e.is_empty() {
            return Err(CodecError::Malformed);
        }
        elements.push(e);
        if last {
            break;
        }
    }
    if elements.is_empty() || (w != 0 && elements.len() != w) {
        return Err(CodecError::Malformed);
    }
    Ok(Packet {
        z: agg & 0x80 != 0,
        y: agg & 0x40 != 0,
        n: agg & 0x08 != 0,
        elements,
    })
}

/// A frame cannot start at a continuation (Z) and starts a coded video sequence with N; a
/// key frame is N on a packet whose first element is a whole sequence header OBU.
pub fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError> {
    let p = parse_packet(payload)?;
    let starts = if p.z {
        Some(false)
    } else if p.n {
        Some(true)
    } else {
        None
    };
    let first_is_sequence_header = p
        .elements
        .first()
        .and_then(|e| e.first())
        .is_some_and(|&h| obu_type(h) == OBU_SEQUENCE_HEADER);
    Ok(PacketInfo {
        starts_frame: starts,
        ends_frame: false,
        keyframe: p.n && !p.z && first_is_sequence_header,
    })
}

/// Splits a low-overhead temporal unit into OBU elements (size fields stripped), without its
/// temporal delimiters and tile lists.
pub fn split_obus(frame: &[u8]) -> Result<Vec<Vec<u8>>, CodecError> {
    let bad = |_| CodecError::InvalidInput;
    let mut r = Reader::new(frame);
    let mut out = Vec::new();
    while !r.is_empty() {
        let h = r.u8().map_err(bad)?;
        if h & OBU_FORBIDDEN != 0 {
            return Err(CodecError::InvalidInput);
        }
        let ext = if h & OBU_EXTENSION != 0 {
            Some(r.u8().map_err(bad)?)
        } else {
            None
        };
        let body = if h & OBU_HAS_SIZE != 0 {
            let n = read_leb128(&mut r).map_err(bad)?;
            r.take(n).map_err(bad)?
        } else {
            r.rest()
        };
        let t = obu_type(h);
        if t == OBU_TEMPORAL_DELIMITER || t == OBU_TILE_LIST {
            continue;
        }
        let mut e = Vec::with_capacity(2 + body.len());
        e.push(h & !OBU_HAS_SIZE);
        e.extend(ext);
        e.extend_from_slice(body);
        out.push(e);
    }
    Ok(out)
}

/// Low-overhead temporal units in, AV1 RTP payloads out.
#[derive(Debug, Default)]
pub struct Av1Packetizer;

impl Av1Packetizer {
    pub fn new() -> Self {
        Av1Packetizer
    }
}

/// One packet being filled: Z, Y and its elements (whole OBUs or fragments).
struct Pending<'a> {
    z: bool,
    y: bool,
    elements: Vec<&'a [u8]>,
}

impl Packetizer for Av1Packetizer {
    fn codec(&self) -> Codec {
        Codec::Av1
    }
    /// Needs `max_payload` of at least 3 (aggregation header, a length, one byte).
    fn packetize(&mut self, frame: &[u8], max_payload: usize) -> Result<Vec<Payload>, CodecError> {
        check_frame(frame, max_payload, 3)?;
        let obus = split_obus(frame)?;
        if obus.is_empty() {
            return Err(CodecError::InvalidInput);
        }
        let sequence_start = obus.iter().any(|e| {
            e.first()
                .is_some_and(|&h| obu_type(h) == OBU_SEQUENCE_HEADER)
        });
        // Room after the aggregation header; every element is sized as if it had a length
        // (W = 0), the last one's is dropped below when W can count the elements.
        let cap = max_payload - 1;
        let mut packets: Vec<Pending<'_>> = Vec::new();
        let mut cur = Pending {
            z: false,
            y: false,
            elements: Vec::new(),
        };
        let mut used = 0;
        for e in &obus {
            let mut rest: &[u8] = e;
            loop {
                let avail = cap - used;
                if avail < 2 {
                    packets.push(core::mem::replace(
                        &mut cur,
                        Pending {
                            z: false,
                            y: false,
                            elements: Vec::new(),
                        },
                    ));
                    used = 0;
                    continue;
                }
                let whole = leb128_len(rest.len()) + rest.len();
                if whole <= avail {
                    cur.elements.push(rest);
                    used += whole;
                    break;
                }
                let mut n = avail - 1;
                while n > 1 && leb128_len(n) + n > avail {
                    n -= 1;
                }
                let (head, tail) = rest.split_at(n.min(rest.len()));
                cur.elements.push(head);
                cur.y = true;
                packets.push(core::mem::replace(
                    &mut cur,
                    Pending {
                        z: true,
                        y: false,
                        elements: Vec::new(),
                    },
                ));
                used = 0;
                rest = tail;
                if packets.len() > super::MAX_PACKETS_PER_FRAME {
                    return Err(CodecError::TooLarge);
                }
            }
        }
        if !cur.elements.is_empty() {
            packets.push(cur);
        }
        let count = packets.len();
        let mut out = Vec::with_capacity(count);
        for (i, p) in packets.into_iter().enumerate() {
            let k = p.elements.len();
            let w = if k <= 3 { k } else { 0 };
            let mut agg = u8::try_from(w).unwrap_or(0) << 4;
            if p.z {
                agg |= 0x80;
            }
            if p.y {
                agg |= 0x40;
            }
            if i == 0 && sequence_start {
                agg |= 0x08;
            }
            let mut data = Vec::with_capacity(max_payload);
            data.push(agg);
            for (j, e) in p.elements.iter().enumerate() {
                if w == 0 || j + 1 < k {
                    write_leb128(e.len(), &mut data);
                }
                data.extend_from_slice(e);
            }
            out.push(Payload {
                data,
                marker: i + 1 == count,
            });
        }
        check_count(out)
    }
}

/// Depacketizer state: the OBU fragment in progress.
#[derive(Debug, Default)]
pub(crate) struct Av1Format {
    fragment: Option<Vec<u8>>,
    /// A fragment was cut off or its start missing although no packet was lost.
    broken: bool,
}

/// Writes one whole OBU element as a sized OBU; drops temporal delimiters and tile lists.
fn emit(obu: &[u8], data: &mut Vec<u8>) -> Result<(), CodecError> {
    let mut r = Reader::new(obu);
    let h = r.u8()?;
    if h & OBU_FORBIDDEN != 0 {
        return Err(CodecError::Malformed);
    }
    let ext = if h & OBU_EXTENSION != 0 {
        Some(r.u8()?)
    } else {
        None
    };
    let body = if h & OBU_HAS_SIZE != 0 {
        let n = read_leb128(&mut r)?;
        let body = r.take(n)?;
        if !r.is_empty() {
            return Err(CodecError::Malformed);
        }
        body
    } else {
        r.rest()
    };
    let t = obu_type(h);
    if t == OBU_TEMPORAL_DELIMITER || t == OBU_TILE_LIST {
        return Ok(());
    }
    if data.len() + 2 + MAX_LEB128_BYTES + body.len() > MAX_FRAME_BYTES {
        return Err(CodecError::TooLarge);
    }
    data.push(h | OBU_HAS_SIZE);
    data.extend(ext);
    write_leb128(body.len(), data);
    data.extend_from_slice(body);
    Ok(())
}

impl Format for Av1Format {
    const CODEC: Codec = Codec::Av1;
    fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError> {
        inspect(payload)
    }
    fn parse(
        &mut self,
        payload: &[u8],
        continuous: bool,
        data: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let p = parse_packet(payload)?;
        if !continuous {
            self.fragment = None;
        } else if !p.z && self.fragment.take().is_some() {
            // Y said the OBU goes on, Z says it does not.
            self.broken = true;
        }
        let k = p.elements.len();
        for (i, e) in p.elements.into_iter().enumerate() {
            let mut obu = if i == 0 && p.z {
                match self.fragment.take() {
                    Some(mut f) => {
                        if data.len() + f.len() + e.len() > MAX_FRAME_BYTES {
                            return Err(CodecError::TooLarge);
                        }
                        f.extend_from_slice(e);
                        f
                    }
                    None => {
                        // Its start was lost (or never sent): skip the rest of that OBU.
                        if continuous {
                            self.broken = true;
                        }
                        continue;
                    }
                }
            } else {
                e.to_vec()
            };
            if i + 1 == k && p.y {
                self.fragment = Some(core::mem::take(&mut obu));
                break;
            }
            emit(&obu, data)?;
        }
        Ok(())
    }
    fn finish(&mut self, data: &mut Vec<u8>) -> bool {
        let whole = self.fragment.take().is_none() && !self.broken;
        self.broken = false;
        if !data.is_empty() && data.len() + TEMPORAL_DELIMITER.len() <= MAX_FRAME_BYTES {
            data.splice(0..0, TEMPORAL_DELIMITER);
        }
        whole
    }
    fn discard(&mut self) {
        self.fragment = None;
    }
}

/// AV1 temporal units (low-overhead format) out of payloads in sequence order.
#[derive(Debug)]
pub struct Av1Depacketizer {
    re: Reassembly,
    fmt: Av1Format,
}

impl_depacketizer!(Av1Depacketizer, Av1Format);
