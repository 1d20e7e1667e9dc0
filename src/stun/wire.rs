//! STUN message codec (RFC 8489 §5, §14; ICE attributes RFC 8445 §16.1).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::error::StunError;
use super::{
    fingerprint_of, hmac_sha1, ATTRIBUTE_MAX_LEN, HEADER_LEN, MAGIC_COOKIE, MAX_ATTRIBUTES,
    MAX_MESSAGE_LEN,
};

/// RFC 8489 §5: the class is carried in two bits spread over the message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Request,
    Indication,
    SuccessResponse,
    ErrorResponse,
}

impl Class {
    fn bits(self) -> u16 {
        match self {
            Class::Request => 0b00,
            Class::Indication => 0b01,
            Class::SuccessResponse => 0b10,
            Class::ErrorResponse => 0b11,
        }
    }
    fn from_bits(b: u16) -> Class {
        match b & 0b11 {
            0b00 => Class::Request,
            0b01 => Class::Indication,
            0b10 => Class::SuccessResponse,
            _ => Class::ErrorResponse,
        }
    }
}

/// A 12-bit STUN method. Unknown values round-trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Method(pub u16);

impl Method {
    /// RFC 8489 §18.2.
    pub const BINDING: Method = Method(0x001);
}

/// RFC 8489 §5: `M11..M7 C1 M6..M4 C0 M3..M0`.
pub fn message_type(method: Method, class: Class) -> u16 {
    let m = method.0 & 0x0fff;
    let c = class.bits();
    (m & 0x000f) | ((m & 0x0070) << 1) | ((m & 0x0f80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
}

/// Inverse of [`message_type`]; the top two bits must already be known to be zero.
pub fn split_message_type(t: u16) -> (Method, Class) {
    let m = (t & 0x000f) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0f80);
    let c = ((t >> 4) & 1) | ((t >> 7) & 2);
    (Method(m), Class::from_bits(c))
}

/// Attribute type codes (RFC 8489 §18.3, RFC 8445 §16.1).
pub mod attr {
    pub const MAPPED_ADDRESS: u16 = 0x0001;
    pub const USERNAME: u16 = 0x0006;
    pub const MESSAGE_INTEGRITY: u16 = 0x0008;
    pub const ERROR_CODE: u16 = 0x0009;
    pub const UNKNOWN_ATTRIBUTES: u16 = 0x000A;
    pub const REALM: u16 = 0x0014;
    pub const NONCE: u16 = 0x0015;
    pub const MESSAGE_INTEGRITY_SHA256: u16 = 0x001C;
    pub const XOR_MAPPED_ADDRESS: u16 = 0x0020;
    pub const PRIORITY: u16 = 0x0024;
    pub const USE_CANDIDATE: u16 = 0x0025;
    pub const SOFTWARE: u16 = 0x8022;
    pub const FINGERPRINT: u16 = 0x8028;
    pub const ICE_CONTROLLED: u16 = 0x8029;
    pub const ICE_CONTROLLING: u16 = 0x802A;

    /// RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required.
    pub fn is_comprehension_required(t: u16) -> bool {
        t < 0x8000
    }
}

/// Maximum USERNAME length in bytes (RFC 8489 §14.3: < 513 bytes).
pub const MAX_USERNAME_LEN: usize = 512;
/// Maximum ERROR-CODE reason phrase / SOFTWARE length in bytes (RFC 8489: < 128 chars, 763 bytes).
pub const MAX_TEXT_LEN: usize = 763;

/// One STUN attribute. Unknown ones are kept as raw bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attribute {
    MappedAddress(SocketAddr),
    XorMappedAddress(SocketAddr),
    Username(String),
    /// HMAC-SHA1 over the message up to this attribute (RFC 8489 §14.5).
    MessageIntegrity([u8; 20]),
    /// RFC 8489 §14.6 (parsed only, 16..=32 bytes).
    MessageIntegritySha256(Vec<u8>),
    /// CRC-32 of the message XOR 0x5354554e (RFC 8489 §14.7).
    Fingerprint(u32),
    /// RFC 8489 §14.8: code 300..=699.
    ErrorCode {
        code: u16,
        reason: String,
    },
    UnknownAttributes(Vec<u16>),
    Software(String),
    /// RFC 8445 §16.1.
    Priority(u32),
    UseCandidate,
    IceControlled(u64),
    IceControlling(u64),
    Other {
        typ: u16,
        value: Vec<u8>,
    },
}

impl Attribute {
    pub fn typ(&self) -> u16 {
        match self {
            Attribute::MappedAddress(_) => attr::MAPPED_ADDRESS,
            Attribute::XorMappedAddress(_) => attr::XOR_MAPPED_ADDRESS,
            Attribute::Username(_) => attr::USERNAME,
            Attribute::MessageIntegrity(_) => attr::MESSAGE_INTEGRITY,
            Attribute::MessageIntegritySha256(_) => attr::MESSAGE_INTEGRITY_SHA256,
            Attribute::Fingerprint(_) => attr::FINGERPRINT,
            Attribute::ErrorCode { .. } => attr::ERROR_CODE,
            Attribute::UnknownAttributes(_) => attr::UNKNOWN_ATTRIBUTES,
            Attribute::Software(_) => attr::SOFTWARE,
            Attribute::Priority(_) => attr::PRIORITY,
            Attribute::UseCandidate => attr::USE_CANDIDATE,
            Attribute::IceControlled(_) => attr::ICE_CONTROLLED,
            Attribute::IceControlling(_) => attr::ICE_CONTROLLING,
            Attribute::Other { typ, .. } => *typ,
        }
    }

    fn encode_value(&self, tid: &[u8; 12], out: &mut Vec<u8>) {
        match self {
            Attribute::MappedAddress(a) => encode_address(*a, None, out),
            Attribute::XorMappedAddress(a) => encode_address(*a, Some(tid), out),
            Attribute::Username(s) | Attribute::Software(s) => out.extend_from_slice(s.as_bytes()),
            Attribute::MessageIntegrity(m) => out.extend_from_slice(m),
            Attribute::MessageIntegritySha256(m) => out.extend_from_slice(m),
            Attribute::Fingerprint(f) => out.extend_from_slice(&f.to_be_bytes()),
            Attribute::ErrorCode { code, reason } => {
                out.extend_from_slice(&[0, 0, ((code / 100) & 0x07) as u8, (code % 100) as u8]);
                out.extend_from_slice(reason.as_bytes());
            }
            Attribute::UnknownAttributes(list) => {
                for t in list {
                    out.extend_from_slice(&t.to_be_bytes());
                }
            }
            Attribute::Priority(p) => out.extend_from_slice(&p.to_be_bytes()),
            Attribute::UseCandidate => {}
            Attribute::IceControlled(t) | Attribute::IceControlling(t) => {
                out.extend_from_slice(&t.to_be_bytes())
            }
            Attribute::Other { value, .. } => out.extend_from_slice(value),
        }
    }

    fn decode(typ: u16, v: &[u8], tid: &[u8; 12]) -> Result<Attribute, StunError> {
        let bad = StunError::BadAttribute(typ);
        Ok(match typ {
            attr::MAPPED_ADDRESS => Attribute::MappedAddress(decode_address(v, None)?),
            attr::XOR_MAPPED_ADDRESS => Attribute::XorMappedAddress(decode_address(v, Some(tid))?),
            attr::USERNAME => {
                if v.len() > MAX_USERNAME_LEN {
                    return Err(bad);
                }
                Attribute::Username(String::from_utf8(v.to_vec()).map_err(|_| bad)?)
            }
            attr::SOFTWARE => {
                if v.len() > MAX_TEXT_LEN {
                    return Err(bad);
                }
                Attribute::Software(String::from_utf8(v.to_vec()).map_err(|_| bad)?)
            }
            attr::MESSAGE_INTEGRITY => {
                Attribute::MessageIntegrity(<[u8; 20]>::try_from(v).map_err(|_| bad)?)
            }
            attr::MESSAGE_INTEGRITY_SHA256 => {
                if v.len() < 16 || v.len() > 32 || !v.len().is_multiple_of(4) {
                    return Err(bad);
                }
                Attribute::MessageIntegritySha256(v.to_vec())
            }
            attr::FINGERPRINT => {
                Attribute::Fingerprint(u32::from_be_bytes(<[u8; 4]>::try_from(v).map_err(|_| bad)?))
            }
            attr::ERROR_CODE => {
                let (head, reason) = split(v, 4).ok_or(bad)?;
                let class = u16::from(*head.get(2).ok_or(bad)? & 0x07);
                let number = u16::from(*head.get(3).ok_or(bad)?);
                if !(3..=6).contains(&class) || number > 99 || reason.len() > MAX_TEXT_LEN {
                    return Err(bad);
                }
                Attribute::ErrorCode {
                    code: class * 100 + number,
                    reason: String::from_utf8(reason.to_vec()).map_err(|_| bad)?,
                }
            }
            attr::UNKNOWN_ATTRIBUTES => {
                if !v.len().is_multiple_of(2) {
                    return Err(bad);
                }
                Attribute::UnknownAttributes(
                    v.chunks_exact(2)
                        .filter_map(|c| <[u8; 2]>::try_from(c).ok())
                        .map(u16::from_be_bytes)
                        .collect(),
                )
            }
            attr::PRIORITY => {
                Attribute::Priority(u32::from_be_bytes(<[u8; 4]>::try_from(v).map_err(|_| bad)?))
            }
            attr::USE_CANDIDATE => {
                if !v.is_empty() {
                    return Err(bad);
                }
                Attribute::UseCandidate
            }
            attr::ICE_CONTROLLED => Attribute::IceControlled(u64::from_be_bytes(
                <[u8; 8]>::try_from(v).map_err(|_| bad)?,
            )),
            attr::ICE_CONTROLLING => Attribute::IceControlling(u64::from_be_bytes(
                <[u8; 8]>::try_from(v).map_err(|_| bad)?,
            )),
            _ => Attribute::Other {
                typ,
                value: v.to_vec(),
            },
        })
    }
}

fn split(v: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    if v.len() < at {
        None
    } else {
        Some(v.split_at(at))
    }
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(<[u8; 4]>::try_from(s).ok()?))
}

/// RFC 8489 §14.1/§14.2: family, port and address, optionally XORed.
fn encode_address(a: SocketAddr, xor_tid: Option<&[u8; 12]>, out: &mut Vec<u8>) {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let mut port = a.port();
    if xor_tid.is_some() {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    match a.ip() {
        IpAddr::V4(ip) => {
            out.extend_from_slice(&[0, 1]);
            out.extend_from_slice(&port.to_be_bytes());
            let mut o = ip.octets();
            if xor_tid.is_some() {
                for (b, k) in o.iter_mut().zip(cookie.iter()) {
                    *b ^= k;
                }
            }
            out.extend_from_slice(&o);
        }
        IpAddr::V6(ip) => {
            out.extend_from_slice(&[0, 2]);
            out.extend_from_slice(&port.to_be_bytes());
            let mut o = ip.octets();
            if let Some(tid) = xor_tid {
                for (b, k) in o.iter_mut().zip(cookie.iter().chain(tid.iter())) {
                    *b ^= k;
                }
            }
            out.extend_from_slice(&o);
        }
    }
}

fn decode_address(v: &[u8], xor_tid: Option<&[u8; 12]>) -> Result<SocketAddr, StunError> {
    let family = read_u16(v, 0).ok_or(StunError::Truncated)?;
    let mut port = read_u16(v, 2).ok_or(StunError::Truncated)?;
    let cookie = MAGIC_COOKIE.to_be_bytes();
    if xor_tid.is_some() {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    let rest = v.get(4..).ok_or(StunError::Truncated)?;
    match family & 0xff {
        1 => {
            let mut o = <[u8; 4]>::try_from(rest).map_err(|_| StunError::BadLength)?;
            if xor_tid.is_some() {
                for (b, k) in o.iter_mut().zip(cookie.iter()) {
                    *b ^= k;
                }
            }
            Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(o)), port))
        }
        2 => {
            let mut o = <[u8; 16]>::try_from(rest).map_err(|_| StunError::BadLength)?;
            if let Some(tid) = xor_tid {
                for (b, k) in o.iter_mut().zip(cookie.iter().chain(tid.iter())) {
                    *b ^= k;
                }
            }
            Ok(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(o)), port))
        }
        _ => Err(StunError::BadAddressFamily),
    }
}

/// A decoded (or to-be-encoded) STUN message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub method: Method,
    pub class: Class,
    pub transaction_id: [u8; 12],
    /// In wire order. When decoding, attributes after MESSAGE-INTEGRITY other than
    /// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored (RFC 8489 §14.5).
    pub attributes: Vec<Attribute>,
}

/// The fixed 20-byte header (RFC 8489 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub method: Method,
    pub class: Class,
    /// Length of the attributes section.
    pub length: u16,
    pub transaction_id: [u8; 12],
}

impl Header {
    pub fn decode(b: &[u8]) -> Result<Header, StunError> {
        let t = read_u16(b, 0).ok_or(StunError::Truncated)?;
        if t & 0xC000 != 0 {
            return Err(StunError::NotStun);
        }
        let length = read_u16(b, 2).ok_or(StunError::Truncated)?;
        if read_u32(b, 4).ok_or(StunError::Truncated)? != MAGIC_COOKIE {
            return Err(StunError::BadMagicCookie);
        }
        let tid = b.get(8..HEADER_LEN).ok_or(StunError::Truncated)?;
        let transaction_id = <[u8; 12]>::try_from(tid).map_err(|_| StunError::Truncated)?;
        let (method, class) = split_message_type(t);
        Ok(Header {
            method,
            class,
            length,
            transaction_id,
        })
    }
}

impl Message {
    pub fn new(method: Method, class: Class, transaction_id: [u8; 12]) -> Message {
        Message {
            method,
            class,
            transaction_id,
            attributes: Vec::new(),
        }
    }

    /// Decodes a whole datagram. The header length must match the datagram exactly
    /// (trailing bytes are rejected). A present FINGERPRINT is verified.
    pub fn decode(b: &[u8]) -> Result<Message, StunError> {
        Message::decode_with_limit(b, MAX_MESSAGE_LEN)
    }

    /// [`Message::decode`] with a larger bound on the message (and on one attribute value),
    /// for TURN over TCP/WebSocket or Data indications carrying big payloads. `max_len` is
    /// capped at the largest message the header can describe (20 + 65535).
    pub fn decode_with_limit(b: &[u8], max_len: usize) -> Result<Message, StunError> {
        let max_len = max_len.min(HEADER_LEN + 0xFFFF);
        let max_attr = max_len.max(ATTRIBUTE_MAX_LEN);
        if b.len() > max_len {
            return Err(StunError::TooLarge);
        }
        let h = Header::decode(b)?;
        let body_len = usize::from(h.length);
        if !body_len.is_multiple_of(4) {
            return Err(StunError::BadLength);
        }
        let total = HEADER_LEN + body_len;
        if b.len() < total {
            return Err(StunError::Truncated);
        }
        if b.len() > total {
            return Err(StunError::BadLength);
        }
        let mut msg = Message::new(h.method, h.class, h.transaction_id);
        let mut pos = HEADER_LEN;
        let mut seen_integrity = false;
        let mut count = 0usize;
        while pos < total {
            count += 1;
            if count > MAX_ATTRIBUTES {
                return Err(StunError::TooManyAttributes);
            }
            let typ = read_u16(b, pos).ok_or(StunError::Truncated)?;
            let len = usize::from(read_u16(b, pos + 2).ok_or(StunError::Truncated)?);
            if len > max_attr {
                return Err(StunError::BadLength);
            }
            let vstart = pos + 4;
            let value = b.get(vstart..vstart + len).ok_or(StunError::Truncated)?;
            let padded = (len + 3) & !3;
            if vstart + padded > total {
                return Err(StunError::Truncated);
            }
            let next = vstart + padded;
            if typ == attr::FINGERPRINT {
                let a = Attribute::decode(typ, value, &h.transaction_id)?;
                if next != total {
                    return Err(StunError::BadFingerprint);
                }
                if let Attribute::Fingerprint(f) = a {
                    if fingerprint_of(b.get(..pos).ok_or(StunError::Truncated)?) != f {
                        return Err(StunError::BadFingerprint);
                    }
                }
                msg.attributes.push(a);
            } else if !seen_integrity || typ == attr::MESSAGE_INTEGRITY_SHA256 {
                let a = Attribute::decode(typ, value, &h.transaction_id)?;
                if typ == attr::MESSAGE_INTEGRITY {
                    seen_integrity = true;
                }
                msg.attributes.push(a);
            }
            pos = next;
        }
        Ok(msg)
    }

    /// Encodes the attributes as they are (no integrity or fingerprint computed).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        self.encode_header(out);
        for a in &self.attributes {
            encode_attribute(a, &self.transaction_id, out);
        }
        patch_length(out, start);
    }

    /// Encodes the message skipping any MESSAGE-INTEGRITY / FINGERPRINT in `attributes`,
    /// then appends MESSAGE-INTEGRITY keyed with `integrity_key` and FINGERPRINT if asked.
    pub fn encode_with(&self, integrity_key: Option<&[u8]>, fingerprint: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.encode_header(&mut out);
        for a in &self.attributes {
            match a {
                Attribute::MessageIntegrity(_)
                | Attribute::MessageIntegritySha256(_)
                | Attribute::Fingerprint(_) => {}
                _ => encode_attribute(a, &self.transaction_id, &mut out),
            }
        }
        if let Some(key) = integrity_key {
            // RFC 8489 §14.5: the length covers up to and including MESSAGE-INTEGRITY.
            let l = out.len() - HEADER_LEN + 24;
            set_length(&mut out, l);
            let mac = hmac_sha1(key, &out);
            encode_attribute(
                &Attribute::MessageIntegrity(mac),
                &self.transaction_id,
                &mut out,
            );
        }
        if fingerprint {
            let l = out.len() - HEADER_LEN + 8;
            set_length(&mut out, l);
            let f = fingerprint_of(&out);
            encode_attribute(&Attribute::Fingerprint(f), &self.transaction_id, &mut out);
        }
        let l = out.len() - HEADER_LEN;
        set_length(&mut out, l);
        out
    }

    fn encode_header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&message_type(self.method, self.class).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        out.extend_from_slice(&self.transaction_id);
    }

    /// The first attribute of the given type.
    pub fn get(&self, typ: u16) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.typ() == typ)
    }

    pub fn username(&self) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Username(s) => Some(s.as_str()),
            _ => None,
        })
    }

    pub fn xor_mapped_address(&self) -> Option<SocketAddr> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::XorMappedAddress(s) => Some(*s),
            _ => None,
        })
    }

    /// XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS.
    pub fn mapped_address(&self) -> Option<SocketAddr> {
        self.xor_mapped_address().or_else(|| {
            self.attributes.iter().find_map(|a| match a {
                Attribute::MappedAddress(s) => Some(*s),
                _ => None,
            })
        })
    }

    pub fn priority(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Priority(p) => Some(*p),
            _ => None,
        })
    }

    pub fn use_candidate(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::UseCandidate))
    }

    pub fn ice_controlling(&self) -> Option<u64> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::IceControlling(t) => Some(*t),
            _ => None,
        })
    }

    pub fn ice_controlled(&self) -> Option<u64> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::IceControlled(t) => Some(*t),
            _ => None,
        })
    }

    pub fn error_code(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::ErrorCode { code, .. } => Some(*code),
            _ => None,
        })
    }

    pub fn has_fingerprint(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::Fingerprint(_)))
    }

    /// Comprehension-required attribute types this codec does not know (RFC 8489 §6.3).
    pub fn unknown_comprehension_required(&self) -> Vec<u16> {
        self.attributes
            .iter()
            .filter_map(|a| match a {
                Attribute::Other { typ, .. }
                    if attr::is_comprehension_required(*typ)
                        && !matches!(*typ, attr::REALM | attr::NONCE) =>
                {
                    Some(*typ)
                }
                _ => None,
            })
            .collect()
    }
}

fn encode_attribute(a: &Attribute, tid: &[u8; 12], out: &mut Vec<u8>) {
    out.extend_from_slice(&a.typ().to_be_bytes());
    let len_at = out.len();
    out.extend_from_slice(&[0, 0]);
    let vstart = out.len();
    a.encode_value(tid, out);
    let len = out.len() - vstart;
    let len16 = u16::try_from(len).unwrap_or(u16::MAX);
    if let Some(s) = out.get_mut(len_at..len_at + 2) {
        s.copy_from_slice(&len16.to_be_bytes());
    }
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn set_length(out: &mut [u8], len: usize) {
    let len16 = u16::try_from(len).unwrap_or(u16::MAX);
    if let Some(s) = out.get_mut(2..4) {
        s.copy_from_slice(&len16.to_be_bytes());
    }
}

fn patch_length(out: &mut [u8], start: usize) {
    let len = out.len().saturating_sub(start + HEADER_LEN);
    if let Some(msg) = out.get_mut(start..) {
        set_length(msg, len);
    }
}

/// Finds the MESSAGE-INTEGRITY attribute in a raw message and checks it against `key`
/// (RFC 8489 §14.5: HMAC over the message up to the attribute, with the header length
/// adjusted to end just after it).
pub fn verify_integrity(raw: &[u8], key: &[u8]) -> Result<(), StunError> {
    let h = Header::decode(raw)?;
    let total = HEADER_LEN + usize::from(h.length);
    if raw.len() < total {
        return Err(StunError::Truncated);
    }
    let mut pos = HEADER_LEN;
    while pos + 4 <= total {
        let typ = read_u16(raw, pos).ok_or(StunError::Truncated)?;
        let len = usize::from(read_u16(raw, pos + 2).ok_or(StunError::Truncated)?);
        if typ == attr::MESSAGE_INTEGRITY {
            let mac = raw.get(pos + 4..pos + 24).ok_or(StunError::Truncated)?;
            if len != 20 {
                return Err(StunError::BadAttribute(typ));
            }
            let mut prefix = raw.get(..pos).ok_or(StunError::Truncated)?.to_vec();
            set_length(&mut prefix, pos + 24 - HEADER_LEN);
            let expect = hmac_sha1(key, &prefix);
            // Constant-time enough for our purposes: compare all bytes.
            let diff = expect
                .iter()
                .zip(mac.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            return if diff == 0 {
                Ok(())
            } else {
                Err(StunError::BadIntegrity)
            };
        }
        pos = pos + 4 + ((len + 3) & !3);
    }
    Err(StunError::MissingIntegrity)
}

/// Checks that the message ends with a correct FINGERPRINT (RFC 8489 §14.7).
pub fn verify_fingerprint(raw: &[u8]) -> Result<(), StunError> {
    let m = Message::decode(raw)?; // decode verifies a present fingerprint
    if m.has_fingerprint() {
        Ok(())
    } else {
        Err(StunError::MissingFingerprint)
    }
}
