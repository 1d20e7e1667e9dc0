//! TURN wire format on top of the core's STUN codec (RFC 8656 §11, §12, §18).
//!
//! Requests and indications from clients are read with [`Parsed::parse`], a zero-copy walk
//! over the attributes: the core's `Message::decode` stops at 1500 bytes, and a Send
//! indication over TCP or WebSocket may carry up to [`MAX_FRAME_LEN`]. Integrity is
//! checked on the raw bytes (the core's `verify_integrity` for MESSAGE-INTEGRITY,
//! [`verify_integrity_sha256`] here). Responses are built with the core's `Message`
//! (TURN attributes as `Attribute::Other`) and signed by [`sign`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use polyrtc::crypto;
use polyrtc::stun::{self, attr, Class, Message, Method, HEADER_LEN, MAGIC_COOKIE};

/// TURN methods (RFC 8656 §17).
pub mod method {
    use polyrtc::stun::Method;
    pub use polyrtc::turn::wire::method::*;
    pub const BINDING: Method = Method(0x001);
}

/// TURN attribute types (RFC 8656 §18) and the STUN ones the server reads.
pub mod tattr {
    pub use polyrtc::turn::wire::tattr::{
        CHANNEL_NUMBER, DATA, LIFETIME, REQUESTED_TRANSPORT, XOR_PEER_ADDRESS, XOR_RELAYED_ADDRESS,
    };
    pub const REQUESTED_ADDRESS_FAMILY: u16 = 0x0017;
    pub const EVEN_PORT: u16 = 0x0018;
    pub const DONT_FRAGMENT: u16 = 0x001A;
    pub const RESERVATION_TOKEN: u16 = 0x0022;
    pub const ADDITIONAL_ADDRESS_FAMILY: u16 = 0x8000;
    pub const ADDRESS_ERROR_CODE: u16 = 0x8001;
    pub const ICMP: u16 = 0x8004;
}

/// Largest message accepted from a client in one frame (a STUN message with the largest
/// header length, or a ChannelData frame with the largest length and its padding). Also
/// the bound of a TCP client's stream buffer.
pub const MAX_FRAME_LEN: usize = HEADER_LEN + 0xFFFF;
/// Largest number of attributes read from one message (the core's bound).
pub const MAX_ATTRIBUTES: usize = stun::MAX_ATTRIBUTES;
/// Largest application payload relayed in either direction (ChannelData's length is 16
/// bits; a Data indication also needs room for its header and XOR-PEER-ADDRESS).
pub const MAX_PAYLOAD: usize = 0xFFFF - 64;

/// RFC 8656 §12: channel numbers a client may bind.
pub use polyrtc::turn::wire::{CHANNEL_MAX, CHANNEL_MIN};

/// A STUN message from a client, read without copying.
#[derive(Debug)]
pub struct Parsed<'a> {
    pub method: Method,
    pub class: Class,
    pub tid: [u8; 12],
    pub raw: &'a [u8],
    /// (type, value, offset of the attribute header) in wire order, up to and including
    /// the integrity attributes and FINGERPRINT (later ones are ignored, RFC 8489 §14.5).
    attrs: Vec<(u16, &'a [u8], usize)>,
}

/// Why a client message was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    Malformed,
    BadFingerprint,
    TooLarge,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

impl<'a> Parsed<'a> {
    /// Reads one whole STUN message (`raw` must be exactly the message).
    pub fn parse(raw: &'a [u8]) -> Result<Parsed<'a>, ParseError> {
        if raw.len() > MAX_FRAME_LEN {
            return Err(ParseError::TooLarge);
        }
        let h = stun::Header::decode(raw).map_err(|_| ParseError::Malformed)?;
        let body = usize::from(h.length);
        if body % 4 != 0 || raw.len() != HEADER_LEN + body {
            return Err(ParseError::Malformed);
        }
        let mut attrs = Vec::new();
        let mut pos = HEADER_LEN;
        let mut seen_integrity = false;
        while pos < raw.len() {
            if attrs.len() >= MAX_ATTRIBUTES {
                return Err(ParseError::Malformed);
            }
            let typ = be16(raw, pos).ok_or(ParseError::Malformed)?;
            let len = usize::from(be16(raw, pos + 2).ok_or(ParseError::Malformed)?);
            let vstart = pos + 4;
            let value = raw.get(vstart..vstart + len).ok_or(ParseError::Malformed)?;
            let next = vstart + ((len + 3) & !3);
            if next > raw.len() {
                return Err(ParseError::Malformed);
            }
            if typ == attr::FINGERPRINT {
                if next != raw.len() || len != 4 {
                    return Err(ParseError::BadFingerprint);
                }
                let f = u32::from_be_bytes(<[u8; 4]>::try_from(value).map_err(|_| ParseError::Malformed)?);
                if stun::fingerprint_of(raw.get(..pos).ok_or(ParseError::Malformed)?) != f {
                    return Err(ParseError::BadFingerprint);
                }
                attrs.push((typ, value, pos));
            } else if !seen_integrity || typ == attr::MESSAGE_INTEGRITY_SHA256 {
                if typ == attr::MESSAGE_INTEGRITY || typ == attr::MESSAGE_INTEGRITY_SHA256 {
                    seen_integrity = true;
                }
                attrs.push((typ, value, pos));
            }
            pos = next;
        }
        Ok(Parsed { method: h.method, class: h.class, tid: h.transaction_id, raw, attrs })
    }

    /// The first attribute of this type.
    pub fn get(&self, typ: u16) -> Option<&'a [u8]> {
        self.attrs.iter().find(|a| a.0 == typ).map(|a| a.1)
    }

    /// Every attribute of this type.
    pub fn all(&self, typ: u16) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.attrs.iter().filter(move |a| a.0 == typ).map(|a| a.1)
    }

    pub fn has(&self, typ: u16) -> bool {
        self.get(typ).is_some()
    }

    pub fn text(&self, typ: u16) -> Option<&'a str> {
        self.get(typ).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Comprehension-required attribute types the server does not understand.
    pub fn unknown_required(&self) -> Vec<u16> {
        const KNOWN: &[u16] = &[
            attr::MAPPED_ADDRESS,
            attr::USERNAME,
            attr::MESSAGE_INTEGRITY,
            attr::ERROR_CODE,
            attr::UNKNOWN_ATTRIBUTES,
            attr::REALM,
            attr::NONCE,
            attr::MESSAGE_INTEGRITY_SHA256,
            attr::XOR_MAPPED_ADDRESS,
            attr::PRIORITY,
            attr::USE_CANDIDATE,
            tattr::CHANNEL_NUMBER,
            tattr::LIFETIME,
            tattr::XOR_PEER_ADDRESS,
            tattr::DATA,
            tattr::REQUESTED_ADDRESS_FAMILY,
            tattr::EVEN_PORT,
            tattr::REQUESTED_TRANSPORT,
            tattr::DONT_FRAGMENT,
            tattr::RESERVATION_TOKEN,
        ];
        let mut v: Vec<u16> = self
            .attrs
            .iter()
            .map(|a| a.0)
            .filter(|t| attr::is_comprehension_required(*t) && !KNOWN.contains(t))
            .collect();
        v.dedup();
        v
    }

    /// The XOR-PEER-ADDRESS values, each decoded (an undecodable one is `None`).
    pub fn peer_addresses(&self) -> Vec<Option<SocketAddr>> {
        self.all(tattr::XOR_PEER_ADDRESS).map(|v| decode_xor_address(v, &self.tid)).collect()
    }

    /// LIFETIME in seconds.
    pub fn lifetime(&self) -> Option<u32> {
        let v = self.get(tattr::LIFETIME)?;
        Some(u32::from_be_bytes(<[u8; 4]>::try_from(v).ok()?))
    }

    /// Offset of the attribute header of the first attribute of this type.
    fn offset_of(&self, typ: u16) -> Option<usize> {
        self.attrs.iter().find(|a| a.0 == typ).map(|a| a.2)
    }
}

/// Decodes an XOR-*-ADDRESS value (RFC 8489 §14.2).
pub fn decode_xor_address(v: &[u8], tid: &[u8; 12]) -> Option<SocketAddr> {
    let family = *v.get(1)?;
    let port = be16(v, 2)? ^ (MAGIC_COOKIE >> 16) as u16;
    let mut key = [0u8; 16];
    key[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    key[4..].copy_from_slice(tid);
    match (family, v.len()) {
        (1, 8) => {
            let mut o = [0u8; 4];
            for (i, b) in o.iter_mut().enumerate() {
                *b = v.get(4 + i)? ^ key.get(i)?;
            }
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(o)), port))
        }
        (2, 20) => {
            let mut o = [0u8; 16];
            for (i, b) in o.iter_mut().enumerate() {
                *b = v.get(4 + i)? ^ key.get(i)?;
            }
            Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(o)), port))
        }
        _ => None,
    }
}

/// Encodes an XOR-*-ADDRESS value.
pub fn encode_xor_address(a: SocketAddr, tid: &[u8; 12]) -> Vec<u8> {
    let mut key = [0u8; 16];
    key[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    key[4..].copy_from_slice(tid);
    let port = a.port() ^ (MAGIC_COOKIE >> 16) as u16;
    let mut out = Vec::with_capacity(20);
    match a.ip() {
        IpAddr::V4(ip) => {
            out.extend_from_slice(&[0, 1]);
            out.extend_from_slice(&port.to_be_bytes());
            out.extend(ip.octets().iter().zip(key.iter()).map(|(b, k)| b ^ k));
        }
        IpAddr::V6(ip) => {
            out.extend_from_slice(&[0, 2]);
            out.extend_from_slice(&port.to_be_bytes());
            out.extend(ip.octets().iter().zip(key.iter()).map(|(b, k)| b ^ k));
        }
    }
    out
}

/// An attribute the core's codec carries as raw bytes.
pub fn other(typ: u16, value: Vec<u8>) -> stun::Attribute {
    stun::Attribute::Other { typ, value }
}

/// Which integrity attribute a request carried (and the response gets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integrity {
    Sha1,
    Sha256,
}

/// Encodes `m`, then MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 keyed with `key` (if
/// given) and FINGERPRINT.
pub fn sign(m: &Message, key: Option<(&[u8], Integrity)>) -> Vec<u8> {
    match key {
        None => m.encode_with(None, true),
        Some((k, Integrity::Sha1)) => m.encode_with(Some(k), true),
        Some((k, Integrity::Sha256)) => {
            let mut out = m.encode_with(None, false);
            let len = out.len() - HEADER_LEN + 4 + 32;
            set_len(&mut out, len);
            let mac = crypto::hmac_sha256(k, &[&out]);
            out.extend_from_slice(&attr::MESSAGE_INTEGRITY_SHA256.to_be_bytes());
            out.extend_from_slice(&32u16.to_be_bytes());
            out.extend_from_slice(&mac);
            let len = out.len() - HEADER_LEN + 8;
            set_len(&mut out, len);
            let f = stun::fingerprint_of(&out);
            out.extend_from_slice(&attr::FINGERPRINT.to_be_bytes());
            out.extend_from_slice(&4u16.to_be_bytes());
            out.extend_from_slice(&f.to_be_bytes());
            out
        }
    }
}

fn set_len(out: &mut [u8], len: usize) {
    let l = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    if let Some(s) = out.get_mut(2..4) {
        s.copy_from_slice(&l);
    }
}

/// Checks the message's integrity with `key`: MESSAGE-INTEGRITY-SHA256 if present (RFC
/// 8489 §14.6), else MESSAGE-INTEGRITY. Returns which one matched.
pub fn verify(p: &Parsed<'_>, key: &[u8]) -> Option<Integrity> {
    if p.has(attr::MESSAGE_INTEGRITY_SHA256) {
        verify_integrity_sha256(p, key).then_some(Integrity::Sha256)
    } else if p.has(attr::MESSAGE_INTEGRITY) {
        stun::verify_integrity(p.raw, key).ok().map(|_| Integrity::Sha1)
    } else {
        None
    }
}

/// RFC 8489 §14.6: HMAC-SHA256 over the message up to the attribute (length adjusted),
/// truncated to the attribute's length (16..=32, a multiple of 4).
pub fn verify_integrity_sha256(p: &Parsed<'_>, key: &[u8]) -> bool {
    let (Some(at), Some(mac)) = (p.offset_of(attr::MESSAGE_INTEGRITY_SHA256), p.get(attr::MESSAGE_INTEGRITY_SHA256)) else {
        return false;
    };
    if mac.len() < 16 || mac.len() > 32 || mac.len() % 4 != 0 {
        return false;
    }
    let Some(prefix) = p.raw.get(..at) else { return false };
    let mut prefix = prefix.to_vec();
    set_len(&mut prefix, at + 4 + mac.len() - HEADER_LEN);
    let expect = crypto::hmac_sha256(key, &[&prefix]);
    expect.get(..mac.len()).is_some_and(|e| crypto::ct_eq(e, mac))
}

/// A ChannelData frame (RFC 8656 §12.4), padded to 4 bytes if `pad` (TCP).
pub fn channel_data(channel: u16, data: &[u8], pad: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + data.len() + 3);
    out.extend_from_slice(&channel.to_be_bytes());
    out.extend_from_slice(&u16::try_from(data.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(data);
    if pad {
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

/// Reads a ChannelData frame: (channel, payload). Trailing padding is allowed.
pub fn parse_channel_data(b: &[u8]) -> Option<(u16, &[u8])> {
    let ch = be16(b, 0)?;
    let len = usize::from(be16(b, 2)?);
    let data = b.get(4..4 + len)?;
    if b.len() > ((4 + len + 3) & !3) {
        return None;
    }
    Some((ch, data))
}

/// Length of the next frame on a TCP stream (RFC 8656 §12.5): a STUN message (header
/// length + 20) or a ChannelData frame padded to 4. `Ok(None)`: not enough bytes yet to
/// tell; `Err(())`: not a STUN or ChannelData frame (the stream cannot be resynchronized).
#[allow(clippy::result_unit_err)] // one failure, named in the doc above
pub fn stream_frame_len(b: &[u8]) -> Result<Option<usize>, ()> {
    let (Some(&first), Some(len)) = (b.first(), be16(b, 2)) else {
        return Ok(None);
    };
    let len = usize::from(len);
    match first >> 6 {
        0 => Ok(Some(HEADER_LEN + len)),
        1 => Ok(Some((4 + len + 3) & !3)),
        _ => Err(()),
    }
}

/// The reason phrase the server sends with an error code.
pub fn reason(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        420 => "Unknown Attribute",
        437 => "Allocation Mismatch",
        438 => "Stale Nonce",
        440 => "Address Family not Supported",
        441 => "Wrong Credentials",
        442 => "Unsupported Transport Protocol",
        443 => "Peer Address Family Mismatch",
        486 => "Allocation Quota Reached",
        500 => "Server Error",
        508 => "Insufficient Capacity",
        _ => "Error",
    }
}
