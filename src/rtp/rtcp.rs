//! RTCP (RFC 3550 §6): compound packets of SR, RR, SDES, BYE and APP, and the feedback
//! messages WebRTC uses: generic NACK (RFC 4585 §6.2.1), PLI (RFC 4585 §6.3.1), FIR
//! (RFC 5104 §4.3.1), REMB (draft-alvestrand-rmcat-remb-03 §2.2) and transport-wide CC
//! feedback ([`TransportCc`]).
//!
//! A compound need not start with an SR or RR (RFC 5506 reduced-size RTCP). Packet types
//! and feedback formats we do not know are kept as [`RtcpPacket::Unknown`], not an error.
//! Every packet is `V=2 | P | count/FMT (5 bits) | packet type | length (words - 1)`; the
//! P bit's padding is removed before the body is parsed, and we set it only to align a body
//! that is not a whole number of words (an opaque one).

use super::reader::{pad4, put_u16, put_u24, put_u32, Reader};
use super::twcc::TransportCc;
use super::RtpError;

/// The only RTCP version.
pub const RTCP_VERSION: u8 = 2;
/// Size of the common header.
pub const RTCP_HEADER_LEN: usize = 4;
/// Most report blocks in an SR or RR (the 5-bit count).
pub const MAX_REPORT_BLOCKS: usize = 31;
/// Most chunks in an SDES packet (the 5-bit count).
pub const MAX_SDES_CHUNKS: usize = 31;
/// Most items in one SDES chunk (there are 8 item types).
pub const MAX_SDES_ITEMS: usize = 16;
/// Longest SDES item value (an 8-bit length).
pub const MAX_SDES_VALUE_LEN: usize = 255;
/// Most SSRCs in a BYE (the 5-bit count).
pub const MAX_BYE_SSRCS: usize = 31;
/// Longest BYE reason (an 8-bit length).
pub const MAX_BYE_REASON_LEN: usize = 255;
/// Most NACK items (PID + BLP, 17 sequence numbers each) in one generic NACK.
pub const MAX_NACK_ITEMS: usize = 256;
/// Most FIR entries in one FIR.
pub const MAX_FIR_ENTRIES: usize = 64;
/// Most SSRCs in a REMB (an 8-bit count).
pub const MAX_REMB_SSRCS: usize = 255;
/// Most packets in one compound RTCP packet.
pub const MAX_COMPOUND_PACKETS: usize = 32;
/// Largest 5-bit count / FMT / APP subtype.
const MAX_COUNT: u8 = 31;

/// RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1).
pub mod packet_type {
    pub const SR: u8 = 200;
    pub const RR: u8 = 201;
    pub const SDES: u8 = 202;
    pub const BYE: u8 = 203;
    pub const APP: u8 = 204;
    /// Transport-layer feedback.
    pub const RTPFB: u8 = 205;
    /// Payload-specific feedback.
    pub const PSFB: u8 = 206;
}

/// Feedback message types (the FMT field).
pub mod fmt {
    /// RTPFB: generic NACK (RFC 4585 §6.2.1).
    pub const NACK: u8 = 1;
    /// RTPFB: transport-wide CC feedback.
    pub const TRANSPORT_CC: u8 = 15;
    /// PSFB: picture loss indication (RFC 4585 §6.3.1).
    pub const PLI: u8 = 1;
    /// PSFB: full intra request (RFC 5104 §4.3.1).
    pub const FIR: u8 = 4;
    /// PSFB: application layer feedback (RFC 4585 §6.4), REMB among them.
    pub const AFB: u8 = 15;
}

/// SDES item types (RFC 3550 §6.5).
pub mod sdes {
    pub const END: u8 = 0;
    pub const CNAME: u8 = 1;
    pub const NAME: u8 = 2;
    pub const EMAIL: u8 = 3;
    pub const PHONE: u8 = 4;
    pub const LOC: u8 = 5;
    pub const TOOL: u8 = 6;
    pub const NOTE: u8 = 7;
    /// Kept opaque: prefix length, prefix and value are all in the item's value.
    pub const PRIV: u8 = 8;
}

/// The identifier that starts a REMB's feedback control information.
pub const REMB_IDENTIFIER: [u8; 4] = *b"REMB";

/// A reception report block (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportBlock {
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative number of packets lost, signed 24-bit (duplicates can make it negative).
    pub cumulative_lost: i32,
    pub extended_highest_seq: u32,
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR.
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

const REPORT_BLOCK_LEN: usize = 24;
const CUMULATIVE_LOST_MIN: i32 = -(1 << 23);
const CUMULATIVE_LOST_MAX: i32 = (1 << 23) - 1;

impl ReportBlock {
    fn parse(r: &mut Reader<'_>) -> Result<ReportBlock, RtpError> {
        let ssrc = r.u32()?;
        let fraction_lost = r.u8()?;
        let [a, b, c] = r.array::<3>()?;
        let cumulative_lost = i32::from_be_bytes([if a & 0x80 != 0 { 0xff } else { 0 }, a, b, c]);
        Ok(ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost,
            extended_highest_seq: r.u32()?,
            jitter: r.u32()?,
            last_sr: r.u32()?,
            delay_since_last_sr: r.u32()?,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), RtpError> {
        if !(CUMULATIVE_LOST_MIN..=CUMULATIVE_LOST_MAX).contains(&self.cumulative_lost) {
            return Err(RtpError::InvalidValue);
        }
        put_u32(out, self.ssrc);
        out.push(self.fraction_lost);
        put_u24(
            out,
            u32::from_be_bytes(self.cumulative_lost.to_be_bytes()) & 0x00ff_ffff,
        );
        put_u32(out, self.extended_highest_seq);
        put_u32(out, self.jitter);
        put_u32(out, self.last_sr);
        put_u32(out, self.delay_since_last_sr);
        Ok(())
    }
}

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp (seconds since 1900 in the high 32 bits, fraction in the low).
    pub ntp_time: u64,
    pub rtp_time: u32,
    pub packet_count: u32,
    pub octet_count: u32,
}

/// SR (RFC 3550 §6.4.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SenderReport {
    pub ssrc: u32,
    pub info: SenderInfo,
    /// At most [`MAX_REPORT_BLOCKS`].
    pub reports: Vec<ReportBlock>,
    /// Profile-specific extension after the report blocks, kept opaque.
    pub extension: Vec<u8>,
}

/// RR (RFC 3550 §6.4.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiverReport {
    pub ssrc: u32,
    /// At most [`MAX_REPORT_BLOCKS`].
    pub reports: Vec<ReportBlock>,
    /// Profile-specific extension after the report blocks, kept opaque.
    pub extension: Vec<u8>,
}

/// One SDES item: its type (see [`sdes`]) and value (at most [`MAX_SDES_VALUE_LEN`]
/// bytes; UTF-8 text by RFC 3550, kept as bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdesItem {
    pub kind: u8,
    pub value: Vec<u8>,
}

/// The items of one source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SdesChunk {
    pub ssrc: u32,
    /// At most [`MAX_SDES_ITEMS`].
    pub items: Vec<SdesItem>,
}

impl SdesChunk {
    /// A chunk with one CNAME item.
    pub fn cname(ssrc: u32, cname: &str) -> SdesChunk {
        SdesChunk {
            ssrc,
            items: vec![SdesItem {
                kind: sdes::CNAME,
                value: cname.as_bytes().to_vec(),
            }],
        }
    }
    /// The value of the first item of this type.
    pub fn item(&self, kind: u8) -> Option<&[u8]> {
        self.items
            .iter()
            .find(|i| i.kind == kind)
            .map(|i| i.value.as_slice())
    }
}

/// SDES (RFC 3550 §6.5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sdes {
    /// At most [`MAX_SDES_CHUNKS`].
    pub chunks: Vec<SdesChunk>,
}

/// BYE (RFC 3550 §6.6).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bye {
    /// At most [`MAX_BYE_SSRCS`].
    pub ssrcs: Vec<u32>,
    /// Reason for leaving, at most [`MAX_BYE_REASON_LEN`] bytes (text by RFC 3550).
    pub reason: Option<Vec<u8>>,
}

/// APP (RFC 3550 §6.7), kept opaque.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct App {
    /// 0-31.
    pub subtype: u8,
    pub ssrc: u32,
    pub name: [u8; 4],
    pub data: Vec<u8>,
}

/// One generic NACK item (RFC 4585 §6.2.1): packet `pid` is lost, and `pid + i` for every
/// bit `i` (1 = least significant) set in `blp`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NackItem {
    pub pid: u16,
    pub blp: u16,
}

impl NackItem {
    /// The lost sequence numbers this item reports, in order.
    pub fn lost(self) -> impl Iterator<Item = u16> {
        let NackItem { pid, blp } = self;
        core::iter::once(pid).chain(
            (0..16u16)
                .filter(move |i| blp & (1 << i) != 0)
                .map(move |i| pid.wrapping_add(i + 1)),
        )
    }
}

/// NACK items for lost sequence numbers given in increasing (wrapping) order: each item
/// covers its PID and the 16 that follow. Repeats are merged; a number that goes back
/// starts a new item. Split the result in pieces of [`MAX_NACK_ITEMS`] per packet.
pub fn nack_items(lost: &[u16]) -> Vec<NackItem> {
    let mut items: Vec<NackItem> = Vec::new();
    for &seq in lost {
        if let Some(last) = items.last_mut() {
            let d = seq.wrapping_sub(last.pid);
            if d == 0 {
                continue;
            }
            if d <= 16 {
                last.blp |= 1 << (d - 1);
                continue;
            }
        }
        items.push(NackItem { pid: seq, blp: 0 });
    }
    items
}

/// Generic NACK (RTPFB, FMT 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Nack {
    pub sender_ssrc: u32,
    pub media_ssrc: u32,
    /// At most [`MAX_NACK_ITEMS`].
    pub items: Vec<NackItem>,
}

impl Nack {
    /// A NACK for lost sequence numbers (see [`nack_items`]).
    pub fn from_lost(sender_ssrc: u32, media_ssrc: u32, lost: &[u16]) -> Nack {
        Nack {
            sender_ssrc,
            media_ssrc,
            items: nack_items(lost),
        }
    }
    /// Every lost sequence number reported, item by item.
    pub fn lost(&self) -> Vec<u16> {
        self.items.iter().flat_map(|i| i.lost()).collect()
    }
}

/// Picture loss indication (PSFB, FMT 1): no FCI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pli {
    pub sender_ssrc: u32,
    pub media_ssrc: u32,
}

/// One FIR entry (RFC 5104 §4.3.1.1): the SSRC asked to send a decoder refresh point, and
/// the command sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FirEntry {
    pub ssrc: u32,
    pub seq: u8,
}

/// Full intra request (PSFB, FMT 4). RFC 5104 sets the media SSRC to 0: the entries name
/// the sources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fir {
    pub sender_ssrc: u32,
    pub media_ssrc: u32,
    /// At most [`MAX_FIR_ENTRIES`].
    pub entries: Vec<FirEntry>,
}

/// Receiver estimated maximum bitrate (PSFB, FMT 15, `REMB`): `mantissa x 2^exponent`
/// bits per second for the listed SSRCs. The media SSRC is 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Remb {
    pub sender_ssrc: u32,
    pub media_ssrc: u32,
    /// 6 bits.
    pub exponent: u8,
    /// 18 bits.
    pub mantissa: u32,
    /// At most [`MAX_REMB_SSRCS`].
    pub ssrcs: Vec<u32>,
}

const REMB_MANTISSA_MAX: u32 = (1 << 18) - 1;
const REMB_EXPONENT_MAX: u8 = 63;

impl Remb {
    /// A REMB for `bitrate` bits per second, rounded down to 18 significant bits.
    pub fn new(sender_ssrc: u32, bitrate: u64, ssrcs: Vec<u32>) -> Remb {
        let mut exponent = 0u8;
        while bitrate >> exponent > u64::from(REMB_MANTISSA_MAX) {
            exponent += 1;
        }
        let mantissa = u32::try_from(bitrate >> exponent).unwrap_or(REMB_MANTISSA_MAX);
        Remb {
            sender_ssrc,
            media_ssrc: 0,
            exponent,
            mantissa,
            ssrcs,
        }
    }
    /// The bitrate in bits per second (saturating at `u64::MAX`).
    pub fn bitrate(&self) -> u64 {
        let v = u128::from(self.mantissa) << self.exponent.min(REMB_EXPONENT_MAX);
        u64::try_from(v).unwrap_or(u64::MAX)
    }
}

/// A packet of a type or feedback format this module does not parse, kept as it came.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnknownPacket {
    pub packet_type: u8,
    /// The 5-bit count / FMT field.
    pub count: u8,
    /// Everything after the 4-byte header, padding removed.
    pub body: Vec<u8>,
}

/// One packet of a compound RTCP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtcpPacket {
    SenderReport(SenderReport),
    ReceiverReport(ReceiverReport),
    Sdes(Sdes),
    Bye(Bye),
    App(App),
    Nack(Nack),
    TransportCc(TransportCc),
    Pli(Pli),
    Fir(Fir),
    Remb(Remb),
    Unknown(UnknownPacket),
}

/// Parses a compound RTCP packet (the whole datagram after SRTCP unprotection) into at
/// most [`MAX_COMPOUND_PACKETS`] packets. Any packet that fails to parse fails the whole
/// compound (its lengths cannot be trusted).
pub fn parse_compound(buf: &[u8]) -> Result<Vec<RtcpPacket>, RtpError> {
    let mut r = Reader::new(buf);
    if r.is_empty() {
        return Err(RtpError::Truncated);
    }
    let mut packets = Vec::new();
    while !r.is_empty() {
        if packets.len() >= MAX_COMPOUND_PACKETS {
            return Err(RtpError::TooMany);
        }
        packets.push(RtcpPacket::parse_one(&mut r)?);
    }
    Ok(packets)
}

/// Appends the packets as one compound packet. Appends nothing on error.
pub fn encode_compound(packets: &[RtcpPacket], out: &mut Vec<u8>) -> Result<(), RtpError> {
    if packets.len() > MAX_COMPOUND_PACKETS {
        return Err(RtpError::TooMany);
    }
    let start = out.len();
    for p in packets {
        if let Err(e) = p.encode(out) {
            out.truncate(start);
            return Err(e);
        }
    }
    Ok(())
}

fn check_len(n: usize, max: usize) -> Result<u8, RtpError> {
    if n > max {
        return Err(RtpError::TooMany);
    }
    u8::try_from(n).map_err(|_| RtpError::TooMany)
}

fn parse_reports(r: &mut Reader<'_>, count: u8) -> Result<Vec<ReportBlock>, RtpError> {
    if r.remaining() < usize::from(count) * REPORT_BLOCK_LEN {
        return Err(RtpError::Truncated);
    }
    (0..count).map(|_| ReportBlock::parse(r)).collect()
}

fn encode_reports(reports: &[ReportBlock], out: &mut Vec<u8>) -> Result<(), RtpError> {
    reports.iter().try_for_each(|b| b.encode(out))
}

impl RtcpPacket {
    /// The packet type this value is written with.
    pub fn packet_type(&self) -> u8 {
        match self {
            RtcpPacket::SenderReport(_) => packet_type::SR,
            RtcpPacket::ReceiverReport(_) => packet_type::RR,
            RtcpPacket::Sdes(_) => packet_type::SDES,
            RtcpPacket::Bye(_) => packet_type::BYE,
            RtcpPacket::App(_) => packet_type::APP,
            RtcpPacket::Nack(_) | RtcpPacket::TransportCc(_) => packet_type::RTPFB,
            RtcpPacket::Pli(_) | RtcpPacket::Fir(_) | RtcpPacket::Remb(_) => packet_type::PSFB,
            RtcpPacket::Unknown(u) => u.packet_type,
        }
    }

    /// The SSRC of the packet's sender (SR, RR, APP and the feedback messages); `None` for
    /// SDES, BYE and opaque packets, which name sources in their bodies.
    pub fn sender_ssrc(&self) -> Option<u32> {
        match self {
            RtcpPacket::SenderReport(p) => Some(p.ssrc),
            RtcpPacket::ReceiverReport(p) => Some(p.ssrc),
            RtcpPacket::App(p) => Some(p.ssrc),
            RtcpPacket::Nack(p) => Some(p.sender_ssrc),
            RtcpPacket::TransportCc(p) => Some(p.sender_ssrc),
            RtcpPacket::Pli(p) => Some(p.sender_ssrc),
            RtcpPacket::Fir(p) => Some(p.sender_ssrc),
            RtcpPacket::Remb(p) => Some(p.sender_ssrc),
            RtcpPacket::Sdes(_) | RtcpPacket::Bye(_) | RtcpPacket::Unknown(_) => None,
        }
    }

    /// Parses one packet of a compound, consuming its length.
    fn parse_one(r: &mut Reader<'_>) -> Result<RtcpPacket, RtpError> {
        let b0 = r.u8()?;
        let pt = r.u8()?;
        let words = usize::from(r.u16()?);
        if b0 >> 6 != RTCP_VERSION {
            return Err(RtpError::BadVersion);
        }
        let mut body = r.take(words * 4)?;
        if b0 & 0x20 != 0 {
            let (&pad, _) = body.split_last().ok_or(RtpError::BadPadding)?;
            let end = body
                .len()
                .checked_sub(usize::from(pad))
                .filter(|_| pad > 0)
                .ok_or(RtpError::BadPadding)?;
            body = body.get(..end).ok_or(RtpError::BadPadding)?;
        }
        let count = b0 & 0x1f;
        Self::parse_body(pt, count, body)
    }

    fn parse_body(pt: u8, count: u8, body: &[u8]) -> Result<RtcpPacket, RtpError> {
        let mut r = Reader::new(body);
        let unknown = || {
            RtcpPacket::Unknown(UnknownPacket {
                packet_type: pt,
                count,
                body: body.to_vec(),
            })
        };
        let p = match pt {
            packet_type::SR => {
                let ssrc = r.u32()?;
                let info = SenderInfo {
                    ntp_time: r.u64()?,
                    rtp_time: r.u32()?,
                    packet_count: r.u32()?,
                    octet_count: r.u32()?,
                };
                let reports = parse_reports(&mut r, count)?;
                RtcpPacket::SenderReport(SenderReport {
                    ssrc,
                    info,
                    reports,
                    extension: r.rest().to_vec(),
                })
            }
            packet_type::RR => {
                let ssrc = r.u32()?;
                let reports = parse_reports(&mut r, count)?;
                RtcpPacket::ReceiverReport(ReceiverReport {
                    ssrc,
                    reports,
                    extension: r.rest().to_vec(),
                })
            }
            packet_type::SDES => RtcpPacket::Sdes(parse_sdes(&mut r, count)?),
            packet_type::BYE => {
                let ssrcs = (0..count).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?;
                let reason = if r.is_empty() {
                    None
                } else {
                    let n = usize::from(r.u8()?);
                    Some(r.take(n)?.to_vec())
                };
                if r.remaining() >= 4 {
                    return Err(RtpError::TrailingBytes);
                }
                RtcpPacket::Bye(Bye { ssrcs, reason })
            }
            packet_type::APP => RtcpPacket::App(App {
                subtype: count,
                ssrc: r.u32()?,
                name: r.array()?,
                data: r.rest().to_vec(),
            }),
            packet_type::RTPFB | packet_type::PSFB if is_known_feedback(pt, count, body) => {
                let sender_ssrc = r.u32()?;
                let media_ssrc = r.u32()?;
                let fci = r.rest();
                match (pt, count) {
                    (packet_type::RTPFB, fmt::NACK) => {
                        if !fci.len().is_multiple_of(4) {
                            return Err(RtpError::BadLength);
                        }
                        if fci.len() / 4 > MAX_NACK_ITEMS {
                            return Err(RtpError::TooMany);
                        }
                        let mut f = Reader::new(fci);
                        let mut items = Vec::with_capacity(fci.len() / 4);
                        while !f.is_empty() {
                            items.push(NackItem {
                                pid: f.u16()?,
                                blp: f.u16()?,
                            });
                        }
                        RtcpPacket::Nack(Nack {
                            sender_ssrc,
                            media_ssrc,
                            items,
                        })
                    }
                    (packet_type::RTPFB, fmt::TRANSPORT_CC) => RtcpPacket::TransportCc(
                        TransportCc::parse_fci(sender_ssrc, media_ssrc, fci)?,
                    ),
                    (packet_type::PSFB, fmt::PLI) => {
                        if !fci.is_empty() {
                            return Err(RtpError::TrailingBytes);
                        }
                        RtcpPacket::Pli(Pli {
                            sender_ssrc,
                            media_ssrc,
                        })
                    }
                    (packet_type::PSFB, fmt::FIR) => {
                        if !fci.len().is_multiple_of(8) {
                            return Err(RtpError::BadLength);
                        }
                        if fci.len() / 8 > MAX_FIR_ENTRIES {
                            return Err(RtpError::TooMany);
                        }
                        let mut f = Reader::new(fci);
                        let mut entries = Vec::with_capacity(fci.len() / 8);
                        while !f.is_empty() {
                            let ssrc = f.u32()?;
                            let seq = f.u8()?;
                            let _reserved = f.take(3)?;
                            entries.push(FirEntry { ssrc, seq });
                        }
                        RtcpPacket::Fir(Fir {
                            sender_ssrc,
                            media_ssrc,
                            entries,
                        })
                    }
                    (packet_type::PSFB, fmt::AFB) => {
                        let mut f = Reader::new(fci);
                        let _ = f.take(4)?;
                        let n = f.u8()?;
                        let v = f.u24()?;
                        let exponent = u8::try_from(v >> 18).map_err(|_| RtpError::InvalidValue)?;
                        let mantissa = v & REMB_MANTISSA_MAX;
                        let ssrcs = (0..n).map(|_| f.u32()).collect::<Result<Vec<_>, _>>()?;
                        if !f.is_empty() {
                            return Err(RtpError::TrailingBytes);
                        }
                        RtcpPacket::Remb(Remb {
                            sender_ssrc,
                            media_ssrc,
                            exponent,
                            mantissa,
                            ssrcs,
                        })
                    }
                    _ => unknown(),
                }
            }
            _ => unknown(),
        };
        Ok(p)
    }

    /// Appends this packet (header, body, and padding if the body is not whole words).
    /// Appends nothing on error: a list over its bound, a value too large for its field.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), RtpError> {
        let start = out.len();
        let r = self.encode_inner(start, out);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    fn encode_inner(&self, start: usize, out: &mut Vec<u8>) -> Result<(), RtpError> {
        out.extend_from_slice(&[0; RTCP_HEADER_LEN]);
        let count = match self {
            RtcpPacket::SenderReport(sr) => {
                let n = check_len(sr.reports.len(), MAX_REPORT_BLOCKS)?;
                put_u32(out, sr.ssrc);
                out.extend_from_slice(&sr.info.ntp_time.to_be_bytes());
                put_u32(out, sr.info.rtp_time);
                put_u32(out, sr.info.packet_count);
                put_u32(out, sr.info.octet_count);
                encode_reports(&sr.reports, out)?;
                out.extend_from_slice(&sr.extension);
                n
            }
            RtcpPacket::ReceiverReport(rr) => {
                let n = check_len(rr.reports.len(), MAX_REPORT_BLOCKS)?;
                put_u32(out, rr.ssrc);
                encode_reports(&rr.reports, out)?;
                out.extend_from_slice(&rr.extension);
                n
            }
            RtcpPacket::Sdes(s) => encode_sdes(s, out)?,
            RtcpPacket::Bye(b) => {
                let n = check_len(b.ssrcs.len(), MAX_BYE_SSRCS)?;
                b.ssrcs.iter().for_each(|&s| put_u32(out, s));
                if let Some(reason) = &b.reason {
                    out.push(check_len(reason.len(), MAX_BYE_REASON_LEN)?);
                    out.extend_from_slice(reason);
                    pad4(out, start);
                }
                n
            }
            RtcpPacket::App(a) => {
                if a.subtype > MAX_COUNT {
                    return Err(RtpError::InvalidValue);
                }
                put_u32(out, a.ssrc);
                out.extend_from_slice(&a.name);
                out.extend_from_slice(&a.data);
                a.subtype
            }
            RtcpPacket::Nack(n) => {
                // The count is not a header field (the length says it): only the bound applies.
                if n.items.len() > MAX_NACK_ITEMS {
                    return Err(RtpError::TooMany);
                }
                put_u32(out, n.sender_ssrc);
                put_u32(out, n.media_ssrc);
                for i in &n.items {
                    put_u16(out, i.pid);
                    put_u16(out, i.blp);
                }
                fmt::NACK
            }
            RtcpPacket::TransportCc(t) => {
                put_u32(out, t.sender_ssrc);
                put_u32(out, t.media_ssrc);
                t.encode_fci(out)?;
                fmt::TRANSPORT_CC
            }
            RtcpPacket::Pli(p) => {
                put_u32(out, p.sender_ssrc);
                put_u32(out, p.media_ssrc);
                fmt::PLI
            }
            RtcpPacket::Fir(f) => {
                check_len(f.entries.len(), MAX_FIR_ENTRIES)?;
                put_u32(out, f.sender_ssrc);
                put_u32(out, f.media_ssrc);
                for e in &f.entries {
                    put_u32(out, e.ssrc);
                    out.extend_from_slice(&[e.seq, 0, 0, 0]);
                }
                fmt::FIR
            }
            RtcpPacket::Remb(m) => {
                let n = check_len(m.ssrcs.len(), MAX_REMB_SSRCS)?;
                if m.exponent > REMB_EXPONENT_MAX || m.mantissa > REMB_MANTISSA_MAX {
                    return Err(RtpError::InvalidValue);
                }
                put_u32(out, m.sender_ssrc);
                put_u32(out, m.media_ssrc);
                out.extend_from_slice(&REMB_IDENTIFIER);
                out.push(n);
                put_u24(out, (u32::from(m.exponent) << 18) | m.mantissa);
                m.ssrcs.iter().for_each(|&s| put_u32(out, s));
                fmt::AFB
            }
            RtcpPacket::Unknown(u) => {
                if u.count > MAX_COUNT {
                    return Err(RtpError::InvalidValue);
                }
                out.extend_from_slice(&u.body);
                u.count
            }
        };
        // An opaque body that is not whole words: pad it, the P bit says how much.
        let body_len = out.len() - start - RTCP_HEADER_LEN;
        let pad = (4 - body_len % 4) % 4;
        if pad > 0 {
            out.extend(core::iter::repeat_n(0, pad - 1));
            out.push(u8::try_from(pad).unwrap_or(0));
        }
        let words = u16::try_from((out.len() - start) / 4 - 1).map_err(|_| RtpError::BadLength)?;
        let [w0, w1] = words.to_be_bytes();
        let header = [
            (RTCP_VERSION << 6) | (u8::from(pad > 0) << 5) | count,
            self.packet_type(),
            w0,
            w1,
        ];
        if let Some(slot) = out.get_mut(start..start + RTCP_HEADER_LEN) {
            slot.copy_from_slice(&header);
        }
        Ok(())
    }
}

/// A feedback message this module parses (others are kept opaque, however short).
fn is_known_feedback(pt: u8, format: u8, body: &[u8]) -> bool {
    match (pt, format) {
        (packet_type::RTPFB, fmt::NACK | fmt::TRANSPORT_CC)
        | (packet_type::PSFB, fmt::PLI | fmt::FIR) => true,
        (packet_type::PSFB, fmt::AFB) => body.get(8..12) == Some(&REMB_IDENTIFIER[..]),
        _ => false,
    }
}

/// RFC 3550 §6.5: each chunk is an SSRC, items (type, length, value), a null type byte and
/// zeros to the next 32-bit boundary.
fn parse_sdes(r: &mut Reader<'_>, count: u8) -> Result<Sdes, RtpError> {
    let mut chunks = Vec::with_capacity(usize::from(count));
    let body_len = r.remaining();
    for _ in 0..count {
        let ssrc = r.u32()?;
        let mut items = Vec::new();
        loop {
            let kind = r.u8()?;
            if kind == sdes::END {
                break;
            }
            if items.len() >= MAX_SDES_ITEMS {
                return Err(RtpError::TooMany);
            }
            let n = usize::from(r.u8()?);
            items.push(SdesItem {
                kind,
                value: r.take(n)?.to_vec(),
            });
        }
        // Chunks start on word boundaries of the body.
        let used = body_len - r.remaining();
        let pad = (4 - used % 4) % 4;
        r.take(pad.min(r.remaining()))?;
        chunks.push(SdesChunk { ssrc, items });
    }
    if !r.is_empty() {
        return Err(RtpError::TrailingBytes);
    }
    Ok(Sdes { chunks })
}

fn encode_sdes(s: &Sdes, out: &mut Vec<u8>) -> Result<u8, RtpError> {
    let n = check_len(s.chunks.len(), MAX_SDES_CHUNKS)?;
    for c in &s.chunks {
        check_len(c.items.len(), MAX_SDES_ITEMS)?;
        let chunk_start = out.len();
        put_u32(out, c.ssrc);
        for i in &c.items {
            if i.kind == sdes::END {
                return Err(RtpError::InvalidValue);
            }
            out.push(i.kind);
            out.push(check_len(i.value.len(), MAX_SDES_VALUE_LEN)?);
            out.extend_from_slice(&i.value);
        }
        out.push(sdes::END);
        pad4(out, chunk_start);
    }
    Ok(n)
}
