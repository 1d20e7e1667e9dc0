//! TURN attributes (RFC 8656 §18) on top of the STUN codec, as `Attribute::Other`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::stun::{Attribute, Message, Method, MAGIC_COOKIE};

/// TURN methods (RFC 8656 §17).
pub mod method {
    use crate::stun::Method;
    pub const ALLOCATE: Method = Method(0x003);
    pub const REFRESH: Method = Method(0x004);
    pub const SEND: Method = Method(0x006);
    pub const DATA: Method = Method(0x007);
    pub const CREATE_PERMISSION: Method = Method(0x008);
    pub const CHANNEL_BIND: Method = Method(0x009);
}

/// TURN attribute types (RFC 8656 §18).
pub mod tattr {
    pub const CHANNEL_NUMBER: u16 = 0x000C;
    pub const LIFETIME: u16 = 0x000D;
    pub const XOR_PEER_ADDRESS: u16 = 0x0012;
    pub const DATA: u16 = 0x0013;
    pub const REALM: u16 = 0x0014;
    pub const NONCE: u16 = 0x0015;
    pub const XOR_RELAYED_ADDRESS: u16 = 0x0016;
    pub const REQUESTED_TRANSPORT: u16 = 0x0019;
}

/// RFC 8656 §12: the channel numbers a client may bind.
pub const CHANNEL_MIN: u16 = 0x4000;
pub const CHANNEL_MAX: u16 = 0x4FFF;

/// RFC 8489 §14.2 applied to XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS.
pub fn xor_address(a: SocketAddr, tid: &[u8; 12]) -> Vec<u8> {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let port = a.port() ^ (MAGIC_COOKIE >> 16) as u16;
    let mut out = Vec::with_capacity(20);
    match a.ip() {
        IpAddr::V4(ip) => {
            out.extend_from_slice(&[0, 1]);
            out.extend_from_slice(&port.to_be_bytes());
            for (b, k) in ip.octets().iter().zip(cookie.iter()) {
                out.push(b ^ k);
            }
        }
        IpAddr::V6(ip) => {
            out.extend_from_slice(&[0, 2]);
            out.extend_from_slice(&port.to_be_bytes());
            for (b, k) in ip.octets().iter().zip(cookie.iter().chain(tid.iter())) {
                out.push(b ^ k);
            }
        }
    }
    out
}

/// Inverse of [`xor_address`]; `None` on a malformed value.
pub fn parse_xor_address(v: &[u8], tid: &[u8; 12]) -> Option<SocketAddr> {
    let family = *v.get(1)?;
    let port = u16::from_be_bytes([*v.get(2)?, *v.get(3)?]) ^ (MAGIC_COOKIE >> 16) as u16;
    let rest = v.get(4..)?;
    let cookie = MAGIC_COOKIE.to_be_bytes();
    match family {
        1 => {
            let mut o = <[u8; 4]>::try_from(rest).ok()?;
            for (b, k) in o.iter_mut().zip(cookie.iter()) {
                *b ^= k;
            }
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(o)), port))
        }
        2 => {
            let mut o = <[u8; 16]>::try_from(rest).ok()?;
            for (b, k) in o.iter_mut().zip(cookie.iter().chain(tid.iter())) {
                *b ^= k;
            }
            Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(o)), port))
        }
        _ => None,
    }
}

pub fn other(typ: u16, value: Vec<u8>) -> Attribute {
    Attribute::Other { typ, value }
}

/// The raw value of the first `Other` attribute of type `typ`.
pub fn raw(m: &Message, typ: u16) -> Option<&[u8]> {
    m.attributes.iter().find_map(|a| match a {
        Attribute::Other { typ: t, value } if *t == typ => Some(value.as_slice()),
        _ => None,
    })
}

pub fn text(m: &Message, typ: u16) -> Option<String> {
    raw(m, typ).and_then(|v| String::from_utf8(v.to_vec()).ok())
}

pub fn lifetime(m: &Message) -> Option<u32> {
    let v = raw(m, tattr::LIFETIME)?;
    Some(u32::from_be_bytes(<[u8; 4]>::try_from(v).ok()?))
}

pub fn peer_address(m: &Message, typ: u16) -> Option<SocketAddr> {
    parse_xor_address(raw(m, typ)?, &m.transaction_id)
}

pub fn error(m: &Message) -> Option<(u16, String)> {
    m.attributes.iter().find_map(|a| match a {
        Attribute::ErrorCode { code, reason } => Some((*code, reason.clone())),
        _ => None,
    })
}

/// RFC 8656 §12.4: a ChannelData message; over a stream padded to a multiple of 4.
pub fn channel_data(channel: u16, data: &[u8], pad: bool) -> Vec<u8> {
    let len = u16::try_from(data.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(4 + data.len() + 3);
    out.extend_from_slice(&channel.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data.get(..usize::from(len)).unwrap_or(data));
    if pad {
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

/// Used by [`Method`] users that need the TURN name of a method in logs.
pub fn method_name(m: Method) -> &'static str {
    match m {
        method::ALLOCATE => "Allocate",
        method::REFRESH => "Refresh",
        method::SEND => "Send",
        method::DATA => "Data",
        method::CREATE_PERMISSION => "CreatePermission",
        method::CHANNEL_BIND => "ChannelBind",
        _ => "Other",
    }
}
