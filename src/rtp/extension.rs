//! RTP header extensions (RFC 8285): the one-byte (`0xBEDE`) and two-byte (`0x100X`) forms,
//! the generic RFC 3550 §5.3.1 block kept opaque for other profiles, the id <-> URI map the
//! SDP layer fills from `a=extmap`, and typed readers and writers for the extensions WebRTC
//! uses.

use super::reader::{pad4, put_u16};
use super::RtpError;
use crate::Time;

/// Most extension elements one packet may carry (RFC 8285 has room for 14 one-byte ids or
/// 255 two-byte ids; browsers send fewer than ten). More is [`RtpError::TooMany`].
pub const MAX_EXTENSIONS: usize = 16;
/// "Defined by profile" value of the one-byte form (RFC 8285 §4.2).
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// "Defined by profile" value of the two-byte form (RFC 8285 §4.3); the low 4 bits are the
/// application bits ("appbits").
pub const TWO_BYTE_PROFILE: u16 = 0x1000;
/// Highest id of the one-byte form: id 15 is reserved and stops parsing (RFC 8285 §4.2).
pub const MAX_ONE_BYTE_ID: u8 = 14;
/// Longest element of the one-byte form (a 4-bit length of `len - 1`).
pub const MAX_ONE_BYTE_LEN: usize = 16;
/// Longest element of the two-byte form (an 8-bit length).
pub const MAX_TWO_BYTE_LEN: usize = 255;
/// Most `a=extmap` entries an [`ExtensionMap`] holds.
pub const MAX_EXTENSION_MAP_ENTRIES: usize = 32;
/// Longest URI an [`ExtensionMap`] stores.
pub const MAX_EXTENSION_URI_LEN: usize = 256;

/// The header extensions of one RTP packet: up to [`MAX_EXTENSIONS`] RFC 8285 elements
/// `(id, data)` in wire order, borrowed from the packet, or one opaque RFC 3550 block with
/// another profile value.
///
/// Written in the one-byte form when every element fits it (id 1-14, 1-16 bytes), in the
/// two-byte form otherwise or when the packet it was parsed from used that form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderExtensions<'a> {
    items: [(u8, &'a [u8]); MAX_EXTENSIONS],
    len: usize,
    /// `Some(appbits)`: written in the two-byte form.
    two_byte: Option<u8>,
    /// A block of another profile (RFC 3550 §5.3.1): profile value and data.
    raw: Option<(u16, &'a [u8])>,
}

impl Default for HeaderExtensions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Which RFC 8285 form a [`HeaderExtensions`] is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionForm {
    /// `0xBEDE`.
    OneByte,
    /// `0x100X`, with the 4 application bits.
    TwoByte { appbits: u8 },
}

fn fits_one_byte(id: u8, data: &[u8]) -> bool {
    (1..=MAX_ONE_BYTE_ID).contains(&id) && (1..=MAX_ONE_BYTE_LEN).contains(&data.len())
}

impl<'a> HeaderExtensions<'a> {
    /// No extension (the X bit stays clear).
    pub const fn new() -> Self {
        HeaderExtensions {
            items: [(0, &[]); MAX_EXTENSIONS],
            len: 0,
            two_byte: None,
            raw: None,
        }
    }

    /// No element and no opaque block: the packet has no extension header.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && self.raw.is_none()
    }

    /// Number of RFC 8285 elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends an element. Id 0 is padding and cannot be used; data is at most
    /// [`MAX_TWO_BYTE_LEN`] bytes. An element that does not fit the one-byte form switches
    /// the block to the two-byte form.
    pub fn push(&mut self, id: u8, data: &'a [u8]) -> Result<(), RtpError> {
        if id == 0 || data.len() > MAX_TWO_BYTE_LEN || self.raw.is_some() {
            return Err(RtpError::InvalidValue);
        }
        let slot = self.items.get_mut(self.len).ok_or(RtpError::TooMany)?;
        *slot = (id, data);
        self.len += 1;
        if !fits_one_byte(id, data) && self.two_byte.is_none() {
            self.two_byte = Some(0);
        }
        Ok(())
    }

    /// The data of the first element with this id.
    pub fn get(&self, id: u8) -> Option<&'a [u8]> {
        self.iter().find(|(i, _)| *i == id).map(|(_, d)| d)
    }

    /// The elements in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &'a [u8])> + '_ {
        self.items.iter().take(self.len).copied()
    }

    /// The form the elements are written in (`None` for an opaque block or no extension).
    pub fn form(&self) -> Option<ExtensionForm> {
        if self.raw.is_some() || self.len == 0 {
            return None;
        }
        Some(match self.two_byte {
            Some(appbits) => ExtensionForm::TwoByte { appbits },
            None => ExtensionForm::OneByte,
        })
    }

    /// Writes the elements in the two-byte form with these application bits (low 4 bits),
    /// even when they would fit the one-byte form.
    pub fn use_two_byte(&mut self, appbits: u8) {
        self.two_byte = Some(appbits & 0x0f);
    }

    /// The opaque block of another profile, if that is what the packet carried.
    pub fn raw(&self) -> Option<(u16, &'a [u8])> {
        self.raw
    }

    /// Replaces everything with an opaque RFC 3550 §5.3.1 block. The profile must not be an
    /// RFC 8285 one and the data must be a whole number of 32-bit words.
    pub fn set_raw(&mut self, profile: u16, data: &'a [u8]) -> Result<(), RtpError> {
        if is_rfc8285(profile)
            || !data.len().is_multiple_of(4)
            || data.len() / 4 > usize::from(u16::MAX)
        {
            return Err(RtpError::InvalidValue);
        }
        *self = HeaderExtensions {
            raw: Some((profile, data)),
            ..Self::new()
        };
        Ok(())
    }

    /// Parses the extension block of a packet: its profile value and its data (the words the
    /// length field counts).
    pub(crate) fn parse(profile: u16, data: &'a [u8]) -> Result<Self, RtpError> {
        let mut ext = Self::new();
        if profile == ONE_BYTE_PROFILE {
            ext.parse_one_byte(data)?;
        } else if profile & 0xfff0 == TWO_BYTE_PROFILE {
            ext.parse_two_byte(data)?;
            if ext.len > 0 {
                ext.two_byte = Some(u8::try_from(profile & 0x0f).unwrap_or(0));
            }
        } else {
            ext.raw = Some((profile, data));
        }
        Ok(ext)
    }

    fn add_parsed(&mut self, id: u8, data: &'a [u8]) -> Result<(), RtpError> {
        let slot = self.items.get_mut(self.len).ok_or(RtpError::TooMany)?;
        *slot = (id, data);
        self.len += 1;
        Ok(())
    }

    /// RFC 8285 §4.2: a byte of id and `len - 1`; zero bytes are padding; id 15 ends the
    /// processing of the whole block.
    fn parse_one_byte(&mut self, mut data: &'a [u8]) -> Result<(), RtpError> {
        while let Some((&b, rest)) = data.split_first() {
            let id = b >> 4;
            if id == 0 {
                // Padding (libwebrtc also skips an id 0 byte whatever its length nibble).
                data = rest;
                continue;
            }
            if id == 15 {
                break;
            }
            let n = usize::from(b & 0x0f) + 1;
            let (value, rest) = rest.split_at_checked(n).ok_or(RtpError::BadExtension)?;
            self.add_parsed(id, value)?;
            data = rest;
        }
        Ok(())
    }

    /// RFC 8285 §4.3: an id byte, a length byte, the data; a zero id byte is padding.
    fn parse_two_byte(&mut self, mut data: &'a [u8]) -> Result<(), RtpError> {
        while let Some((&id, rest)) = data.split_first() {
            if id == 0 {
                data = rest;
                continue;
            }
            let (&n, rest) = rest.split_first().ok_or(RtpError::BadExtension)?;
            let (value, rest) = rest
                .split_at_checked(usize::from(n))
                .ok_or(RtpError::BadExtension)?;
            self.add_parsed(id, value)?;
            data = rest;
        }
        Ok(())
    }

    /// Bytes of the extension header on the wire (profile, length, data, padding); 0 when
    /// [`is_empty`](Self::is_empty).
    pub fn encoded_len(&self) -> usize {
        if let Some((_, data)) = self.raw {
            return 4 + data.len();
        }
        if self.len == 0 {
            return 0;
        }
        let per_item = if self.two_byte.is_some() { 2 } else { 1 };
        let body: usize = self.iter().map(|(_, d)| per_item + d.len()).sum();
        4 + body.div_ceil(4) * 4
    }

    /// Appends the extension header (nothing when empty).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), RtpError> {
        if let Some((profile, data)) = self.raw {
            put_u16(out, profile);
            put_u16(
                out,
                u16::try_from(data.len() / 4).map_err(|_| RtpError::InvalidValue)?,
            );
            out.extend_from_slice(data);
            return Ok(());
        }
        if self.len == 0 {
            return Ok(());
        }
        let start = out.len();
        match self.two_byte {
            None => put_u16(out, ONE_BYTE_PROFILE),
            Some(appbits) => put_u16(out, TWO_BYTE_PROFILE | u16::from(appbits & 0x0f)),
        }
        put_u16(out, 0);
        for (id, data) in self.iter() {
            match self.two_byte {
                None => {
                    if !fits_one_byte(id, data) {
                        return Err(RtpError::InvalidValue);
                    }
                    let l = u8::try_from(data.len() - 1).map_err(|_| RtpError::InvalidValue)?;
                    out.push((id << 4) | l);
                }
                Some(_) => {
                    if id == 0 {
                        return Err(RtpError::InvalidValue);
                    }
                    out.push(id);
                    out.push(u8::try_from(data.len()).map_err(|_| RtpError::InvalidValue)?);
                }
            }
            out.extend_from_slice(data);
        }
        pad4(out, start);
        let words =
            u16::try_from((out.len() - start - 4) / 4).map_err(|_| RtpError::InvalidValue)?;
        if let Some(slot) = out.get_mut(start + 2..start + 4) {
            slot.copy_from_slice(&words.to_be_bytes());
        }
        Ok(())
    }
}

fn is_rfc8285(profile: u16) -> bool {
    profile == ONE_BYTE_PROFILE || profile & 0xfff0 == TWO_BYTE_PROFILE
}

/// URIs of the header extensions WebRTC negotiates (`a=extmap:<id> <uri>`).
pub mod uri {
    /// RFC 8843 §15.2: the MID of the m-section (BUNDLE demultiplexing).
    pub const MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
    /// RFC 8852 §3.1: the RID of a simulcast stream.
    pub const RTP_STREAM_ID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    /// RFC 8852 §3.2: the RID of the stream a redundancy (RTX, FEC) stream repairs.
    pub const REPAIRED_RTP_STREAM_ID: &str =
        "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    /// Absolute send time, 24-bit 6.18 fixed-point seconds.
    pub const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    /// draft-holmer-rmcat-transport-wide-cc-extensions-01 §2: a 16-bit transport-wide
    /// sequence number.
    pub const TRANSPORT_CC: &str =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    /// RFC 6464: client-to-mixer audio level.
    pub const AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
}

/// The header extensions this module knows how to read and write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExtensionKind {
    Mid,
    RtpStreamId,
    RepairedRtpStreamId,
    AbsSendTime,
    TransportCc,
    AudioLevel,
}

impl ExtensionKind {
    pub const ALL: [ExtensionKind; 6] = [
        ExtensionKind::Mid,
        ExtensionKind::RtpStreamId,
        ExtensionKind::RepairedRtpStreamId,
        ExtensionKind::AbsSendTime,
        ExtensionKind::TransportCc,
        ExtensionKind::AudioLevel,
    ];

    pub fn uri(self) -> &'static str {
        match self {
            ExtensionKind::Mid => uri::MID,
            ExtensionKind::RtpStreamId => uri::RTP_STREAM_ID,
            ExtensionKind::RepairedRtpStreamId => uri::REPAIRED_RTP_STREAM_ID,
            ExtensionKind::AbsSendTime => uri::ABS_SEND_TIME,
            ExtensionKind::TransportCc => uri::TRANSPORT_CC,
            ExtensionKind::AudioLevel => uri::AUDIO_LEVEL,
        }
    }

    pub fn from_uri(uri: &str) -> Option<ExtensionKind> {
        Self::ALL.into_iter().find(|k| k.uri() == uri)
    }
}

/// The negotiated `a=extmap` ids of a session (RFC 8285 §5): id (1-255) <-> URI, at most
/// [`MAX_EXTENSION_MAP_ENTRIES`] entries of URIs up to [`MAX_EXTENSION_URI_LEN`] bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtensionMap {
    entries: Vec<(u8, String)>,
}

impl ExtensionMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `id` to `uri`, replacing what `id` or `uri` was mapped to before.
    pub fn insert(&mut self, id: u8, uri: &str) -> Result<(), RtpError> {
        if id == 0 || uri.is_empty() || uri.len() > MAX_EXTENSION_URI_LEN {
            return Err(RtpError::InvalidValue);
        }
        self.entries.retain(|(i, u)| *i != id && u != uri);
        if self.entries.len() >= MAX_EXTENSION_MAP_ENTRIES {
            return Err(RtpError::TooMany);
        }
        self.entries.push((id, uri.to_owned()));
        Ok(())
    }

    /// Maps `id` to a known extension.
    pub fn insert_kind(&mut self, id: u8, kind: ExtensionKind) -> Result<(), RtpError> {
        self.insert(id, kind.uri())
    }

    pub fn remove(&mut self, id: u8) {
        self.entries.retain(|(i, _)| *i != id);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The URI mapped to `id`.
    pub fn uri(&self, id: u8) -> Option<&str> {
        self.entries
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, u)| u.as_str())
    }

    /// The id mapped to `uri`.
    pub fn id_of_uri(&self, uri: &str) -> Option<u8> {
        self.entries.iter().find(|(_, u)| u == uri).map(|(i, _)| *i)
    }

    /// The id of a known extension.
    pub fn id(&self, kind: ExtensionKind) -> Option<u8> {
        self.id_of_uri(kind.uri())
    }

    /// The known extension mapped to `id`.
    pub fn kind(&self, id: u8) -> Option<ExtensionKind> {
        self.uri(id).and_then(ExtensionKind::from_uri)
    }

    /// `(id, uri)` in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &str)> + '_ {
        self.entries.iter().map(|(i, u)| (*i, u.as_str()))
    }

    /// Reads every known extension of a packet through this map. An element whose data does
    /// not parse as its type is left out (as if absent).
    pub fn read<'a>(&self, ext: &HeaderExtensions<'a>) -> KnownExtensions<'a> {
        let mut k = KnownExtensions::default();
        for (id, data) in ext.iter() {
            match self.kind(id) {
                Some(ExtensionKind::Mid) => k.mid = k.mid.or(parse_sdes_value(data)),
                Some(ExtensionKind::RtpStreamId) => k.rid = k.rid.or(parse_sdes_value(data)),
                Some(ExtensionKind::RepairedRtpStreamId) => {
                    k.repaired_rid = k.repaired_rid.or(parse_sdes_value(data))
                }
                Some(ExtensionKind::AbsSendTime) => {
                    k.abs_send_time = k.abs_send_time.or(AbsSendTime::parse(data))
                }
                Some(ExtensionKind::TransportCc) => {
                    k.transport_cc = k.transport_cc.or(parse_transport_cc(data))
                }
                Some(ExtensionKind::AudioLevel) => {
                    k.audio_level = k.audio_level.or(AudioLevel::parse(data))
                }
                None => {}
            }
        }
        k
    }

    /// Appends `data` as the element of `kind` if the map has an id for it; `Ok(false)` when
    /// it has none (the extension was not negotiated).
    pub fn push<'a>(
        &self,
        ext: &mut HeaderExtensions<'a>,
        kind: ExtensionKind,
        data: &'a [u8],
    ) -> Result<bool, RtpError> {
        match self.id(kind) {
            Some(id) => ext.push(id, data).map(|()| true),
            None => Ok(false),
        }
    }
}

/// The known extensions of one packet, as read by [`ExtensionMap::read`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KnownExtensions<'a> {
    pub mid: Option<&'a str>,
    pub rid: Option<&'a str>,
    pub repaired_rid: Option<&'a str>,
    pub abs_send_time: Option<AbsSendTime>,
    pub transport_cc: Option<u16>,
    pub audio_level: Option<AudioLevel>,
}

/// The value of an SDES-item extension (`sdes:mid`, `sdes:rtp-stream-id`,
/// `sdes:repaired-rtp-stream-id`): text up to the first NUL (some senders terminate it),
/// non-empty UTF-8.
pub fn parse_sdes_value(data: &[u8]) -> Option<&str> {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let text = data.get(..end)?;
    if text.is_empty() {
        return None;
    }
    core::str::from_utf8(text).ok()
}

/// Transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2):
/// the first two bytes, big endian (the "-02" variant appends two more).
pub fn parse_transport_cc(data: &[u8]) -> Option<u16> {
    let (b, _) = data.split_first_chunk::<2>()?;
    Some(u16::from_be_bytes(*b))
}

/// Data of a transport-wide sequence number element.
pub fn transport_cc_bytes(seq: u16) -> [u8; 2] {
    seq.to_be_bytes()
}

/// Microseconds in the 64-second period of abs-send-time.
const ABS_SEND_TIME_PERIOD_US: u64 = 64_000_000;

/// abs-send-time: seconds in 6.18 fixed point, 24 bits, wrapping every 64 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AbsSendTime(u32);

impl AbsSendTime {
    /// From the 24-bit wire value (higher bits are dropped).
    pub const fn from_raw(v: u32) -> Self {
        AbsSendTime(v & 0x00ff_ffff)
    }
    pub const fn raw(self) -> u32 {
        self.0
    }
    /// The send time modulo 64 s, rounded down to 2^-18 s (about 3.8 µs).
    pub fn from_time(t: Time) -> Self {
        let us = t.as_micros() % ABS_SEND_TIME_PERIOD_US;
        Self::from_raw(u32::try_from((us << 18) / 1_000_000).unwrap_or(0))
    }
    /// Microseconds into the 64-second period.
    pub fn to_micros(self) -> u64 {
        (u64::from(self.0) * 1_000_000) >> 18
    }
    pub fn to_bytes(self) -> [u8; 3] {
        let [_, a, b, c] = self.0.to_be_bytes();
        [a, b, c]
    }
    /// Exactly three bytes.
    pub fn parse(data: &[u8]) -> Option<Self> {
        match data {
            [a, b, c] => Some(AbsSendTime(u32::from_be_bytes([0, *a, *b, *c]))),
            _ => None,
        }
    }
}

/// RFC 6464 §3: voice activity flag and level in -dBov (0 loudest, 127 silence).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AudioLevel {
    pub voice_activity: bool,
    level: u8,
}

impl AudioLevel {
    /// `None` when `level` is above 127.
    pub fn new(voice_activity: bool, level: u8) -> Option<Self> {
        (level <= 127).then_some(AudioLevel {
            voice_activity,
            level,
        })
    }
    /// The level in -dBov (0-127).
    pub fn level(self) -> u8 {
        self.level
    }
    pub fn to_bytes(self) -> [u8; 1] {
        [(u8::from(self.voice_activity) << 7) | self.level]
    }
    /// The first byte (the two-byte form may pad the element).
    pub fn parse(data: &[u8]) -> Option<Self> {
        let &b = data.first()?;
        Some(AudioLevel {
            voice_activity: b & 0x80 != 0,
            level: b & 0x7f,
        })
    }
}
