//! STUN (RFC 8489) message codec with the ICE attributes (RFC 8445 §16.1).
//!
//! - [`Message::decode`] / [`Message::encode_with`]: the wire format.
//! - [`verify_integrity`] / [`verify_fingerprint`]: short-term credential checks.
//! - [`is_stun`]: the RFC 7983 demultiplexing test.
//! - [`binding_request`] / [`binding_success`] / [`binding_error`]: ICE helpers.

mod error;
#[doc(hidden)]
pub mod fuzz;
mod wire;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;

pub use error::StunError;
pub use wire::{
    attr, message_type, split_message_type, verify_fingerprint, verify_integrity, Attribute, Class,
    Header, Message, Method, MAX_TEXT_LEN, MAX_USERNAME_LEN,
};

/// RFC 8489 §5.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// RFC 8489 §5: the fixed header size.
pub const HEADER_LEN: usize = 20;
/// Largest STUN message accepted (a UDP datagram on any sane path).
pub const MAX_MESSAGE_LEN: usize = 1500;
/// Largest attribute value accepted.
pub const ATTRIBUTE_MAX_LEN: usize = MAX_MESSAGE_LEN;
/// Maximum number of attributes in one message.
pub const MAX_ATTRIBUTES: usize = 64;
/// RFC 8489 §14.7: the FINGERPRINT XOR constant.
pub const FINGERPRINT_XOR: u32 = 0x5354_554e;

/// RFC 7983 §7: a datagram whose first byte is 0..=3 is STUN; we also require the magic
/// cookie (RFC 8489 §6.3) so that stray bytes are not taken for STUN.
pub fn is_stun(data: &[u8]) -> bool {
    match (data.first(), data.get(4..8)) {
        (Some(&b), Some(c)) => {
            b <= 3 && c == MAGIC_COOKIE.to_be_bytes() && data.len() >= HEADER_LEN
        }
        _ => false,
    }
}

/// For hosts that share one port among many peers: the local (first) part of the USERNAME
/// of an ICE Binding request (`<ours>:<theirs>`, RFC 8445 §7.2.2), which names the peer it
/// is for. Reads only the header and walks the attributes (bounded by the message length);
/// `None` for anything else. The peer still checks the whole message.
pub fn binding_request_local_ufrag(data: &[u8]) -> Option<&str> {
    if !is_stun(data) || data.get(0..2)? != [0x00, 0x01] {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    let body = data.get(HEADER_LEN..HEADER_LEN.checked_add(len)?)?;
    let mut at = 0;
    while let Some(head) = body.get(at..at + 4) {
        let ty = u16::from_be_bytes([head[0], head[1]]);
        let vlen = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let value = body.get(at + 4..at + 4 + vlen)?;
        if ty == attr::USERNAME {
            let name = core::str::from_utf8(value).ok()?;
            return name.split(':').next().filter(|u| !u.is_empty());
        }
        at += 4 + vlen.div_ceil(4) * 4;
    }
    None
}

/// HMAC-SHA1 (RFC 2104) as used by MESSAGE-INTEGRITY, through the crypto door
/// ([`crate::crypto::hmac_sha1`]).
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    crate::crypto::hmac_sha1(key, &[data])
}

/// RFC 8489 §14.7: CRC-32 of `data` XOR 0x5354554e.
pub fn fingerprint_of(data: &[u8]) -> u32 {
    crate::crc::crc32(data) ^ FINGERPRINT_XOR
}

/// A Binding request as ICE sends it (RFC 8445 §7.2.2): USERNAME `remote:local`,
/// PRIORITY, ICE-CONTROLLING/CONTROLLED, optional USE-CANDIDATE, MESSAGE-INTEGRITY keyed
/// with the remote password, FINGERPRINT.
#[derive(Clone, Debug)]
pub struct BindingRequest<'a> {
    pub transaction_id: [u8; 12],
    pub username: &'a str,
    pub priority: u32,
    /// Sends `tie_breaker` as ICE-CONTROLLING if set, else as ICE-CONTROLLED.
    pub controlling: bool,
    pub tie_breaker: u64,
    pub use_candidate: bool,
}

/// Builds an ICE connectivity-check request.
pub fn binding_request(req: &BindingRequest<'_>, key: &[u8]) -> Vec<u8> {
    let mut m = Message::new(Method::BINDING, Class::Request, req.transaction_id);
    m.attributes
        .push(Attribute::Username(req.username.to_string()));
    m.attributes.push(Attribute::Priority(req.priority));
    m.attributes.push(if req.controlling {
        Attribute::IceControlling(req.tie_breaker)
    } else {
        Attribute::IceControlled(req.tie_breaker)
    });
    if req.use_candidate {
        m.attributes.push(Attribute::UseCandidate);
    }
    m.encode_with(Some(key), true)
}

/// A plain Binding request (to a STUN server), FINGERPRINT only.
pub fn plain_binding_request(transaction_id: [u8; 12]) -> Vec<u8> {
    Message::new(Method::BINDING, Class::Request, transaction_id).encode_with(None, true)
}

/// A Binding success response with XOR-MAPPED-ADDRESS, integrity (if `key`) and FINGERPRINT.
pub fn binding_success(
    transaction_id: [u8; 12],
    mapped: SocketAddr,
    key: Option<&[u8]>,
) -> Vec<u8> {
    let mut m = Message::new(Method::BINDING, Class::SuccessResponse, transaction_id);
    m.attributes.push(Attribute::XorMappedAddress(mapped));
    m.encode_with(key, true)
}

/// A Binding error response (e.g. 400, 401, 487) with integrity (if `key`) and FINGERPRINT.
pub fn binding_error(transaction_id: [u8; 12], code: u16, key: Option<&[u8]>) -> Vec<u8> {
    binding_error_with(transaction_id, code, Vec::new(), key)
}

/// RFC 8489 §6.3.1.1: a 420 response listing the unknown comprehension-required attributes.
pub fn binding_error_unknown(
    transaction_id: [u8; 12],
    unknown: Vec<u16>,
    key: Option<&[u8]>,
) -> Vec<u8> {
    binding_error_with(
        transaction_id,
        420,
        vec![Attribute::UnknownAttributes(unknown)],
        key,
    )
}

fn binding_error_with(
    transaction_id: [u8; 12],
    code: u16,
    extra: Vec<Attribute>,
    key: Option<&[u8]>,
) -> Vec<u8> {
    let reason = match code {
        400 => "Bad Request",
        401 => "Unauthorized",
        420 => "Unknown Attribute",
        487 => "Role Conflict",
        _ => "Error",
    };
    let mut m = Message::new(Method::BINDING, Class::ErrorResponse, transaction_id);
    m.attributes.push(Attribute::ErrorCode {
        code,
        reason: reason.to_string(),
    });
    m.attributes.extend(extra);
    m.encode_with(key, true)
}
