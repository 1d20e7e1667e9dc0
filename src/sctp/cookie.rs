//! The State Cookie (RFC 9260 §5.1.3): everything needed to create the association,
//! signed with HMAC-SHA-256 under a key only we know, so the INIT side stays stateless.
//! The MAC goes through the crypto door ([`crate::crypto::hmac_sha256`]).

use super::error::WireError;
use super::wire::Reader;
use crate::Time;

const MAC_LEN: usize = 32;
const VERSION: u8 = 1;

/// What the INIT side remembers about the peer, carried inside the cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CookieData {
    pub my_tag: u32,
    pub my_initial_tsn: u32,
    pub peer_tag: u32,
    pub peer_initial_tsn: u32,
    pub peer_a_rwnd: u32,
    pub peer_outbound_streams: u16,
    pub peer_inbound_streams: u16,
    pub peer_forward_tsn: bool,
    pub peer_reconfig: bool,
    pub tie_my: u32,
    pub tie_peer: u32,
    pub created_micros: u64,
    pub lifetime_ms: u32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum CookieError {
    Malformed,
    BadSignature,
    Stale,
}

impl From<WireError> for CookieError {
    fn from(_: WireError) -> Self {
        CookieError::Malformed
    }
}

fn mac(key: &[u8; 32], body: &[u8]) -> [u8; MAC_LEN] {
    crate::crypto::hmac_sha256(key, &[body])
}

impl CookieData {
    pub fn seal(&self, key: &[u8; 32]) -> Vec<u8> {
        let mut b = Vec::with_capacity(64);
        b.push(VERSION);
        b.push(u8::from(self.peer_forward_tsn) | (u8::from(self.peer_reconfig) << 1));
        for v in [
            self.my_tag,
            self.my_initial_tsn,
            self.peer_tag,
            self.peer_initial_tsn,
            self.peer_a_rwnd,
        ] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(&self.peer_outbound_streams.to_be_bytes());
        b.extend_from_slice(&self.peer_inbound_streams.to_be_bytes());
        b.extend_from_slice(&self.tie_my.to_be_bytes());
        b.extend_from_slice(&self.tie_peer.to_be_bytes());
        b.extend_from_slice(&self.created_micros.to_be_bytes());
        b.extend_from_slice(&self.lifetime_ms.to_be_bytes());
        let tag = mac(key, &b);
        b.extend_from_slice(&tag);
        b
    }

    pub fn open(bytes: &[u8], key: &[u8; 32], now: Time) -> Result<CookieData, CookieError> {
        let body_len = bytes
            .len()
            .checked_sub(MAC_LEN)
            .ok_or(CookieError::Malformed)?;
        let (body, tag) = bytes.split_at(body_len);
        let expected = mac(key, body);
        // Constant-time comparison.
        let diff = expected
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 || tag.len() != MAC_LEN {
            return Err(CookieError::BadSignature);
        }
        let mut r = Reader::new(body);
        if r.u8()? != VERSION {
            return Err(CookieError::Malformed);
        }
        let flags = r.u8()?;
        let c = CookieData {
            my_tag: r.u32()?,
            my_initial_tsn: r.u32()?,
            peer_tag: r.u32()?,
            peer_initial_tsn: r.u32()?,
            peer_a_rwnd: r.u32()?,
            peer_outbound_streams: r.u16()?,
            peer_inbound_streams: r.u16()?,
            peer_forward_tsn: flags & 1 != 0,
            peer_reconfig: flags & 2 != 0,
            tie_my: r.u32()?,
            tie_peer: r.u32()?,
            created_micros: {
                let hi = u64::from(r.u32()?);
                let lo = u64::from(r.u32()?);
                (hi << 32) | lo
            },
            lifetime_ms: r.u32()?,
        };
        if !r.is_empty() {
            return Err(CookieError::Malformed);
        }
        let age_ms = now.as_micros().saturating_sub(c.created_micros) / 1000;
        if age_ms > u64::from(c.lifetime_ms) || now.as_micros() < c.created_micros {
            return Err(CookieError::Stale);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CookieData {
        CookieData {
            my_tag: 1,
            my_initial_tsn: 2,
            peer_tag: 3,
            peer_initial_tsn: 4,
            peer_a_rwnd: 5,
            peer_outbound_streams: 6,
            peer_inbound_streams: 7,
            peer_forward_tsn: true,
            peer_reconfig: false,
            tie_my: 8,
            tie_peer: 9,
            created_micros: 1_000_000,
            lifetime_ms: 60_000,
        }
    }

    #[test]
    fn seal_open_round_trip() {
        let key = [7u8; 32];
        let c = sample();
        let b = c.seal(&key);
        assert_eq!(
            CookieData::open(&b, &key, Time::from_millis(2000)).unwrap(),
            c
        );
    }

    #[test]
    fn rejects_tamper_wrong_key_stale_truncated() {
        let key = [7u8; 32];
        let b = sample().seal(&key);
        let now = Time::from_millis(2000);
        let mut t = b.clone();
        t[3] ^= 1;
        assert_eq!(
            CookieData::open(&t, &key, now),
            Err(CookieError::BadSignature)
        );
        assert_eq!(
            CookieData::open(&b, &[8u8; 32], now),
            Err(CookieError::BadSignature)
        );
        assert_eq!(
            CookieData::open(&b, &key, Time::from_millis(62_000)),
            Err(CookieError::Stale)
        );
        for n in 0..b.len() {
            assert!(CookieData::open(&b[..n], &key, now).is_err());
        }
    }
}
