//! Long-term credentials (RFC 8489 §9.2), coturn-compatible REST credentials, nonces.

use polyrtc::crypto;

/// Longest nonce the server accepts back (ours are 32 characters).
pub const MAX_NONCE_LEN: usize = 64;

/// RFC 8489 §9.2.2: the long-term key, MD5(username ":" realm ":" password), the core's
/// (its TURN client signs with the same).
pub use polyrtc::turn::long_term_key;

/// coturn's `use-auth-secret` (the "TURN REST API" draft): the password of the username
/// `expiry:user` is base64(HMAC-SHA1(secret, username)).
pub fn rest_password(secret: &[u8], username: &str) -> String {
    base64(&crypto::hmac_sha1(secret, &[username.as_bytes()]))
}

/// The expiry (Unix seconds) of a REST username `expiry[:user]`, and the user part (the
/// whole username if there is none).
pub fn rest_expiry(username: &str) -> Option<(u64, &str)> {
    let (ts, user) = match username.split_once(':') {
        Some((ts, user)) => (ts, user),
        None => (username, username),
    };
    if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((ts.parse().ok()?, user))
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b0 = c.first().copied().unwrap_or(0);
        let b1 = c.get(1).copied().unwrap_or(0);
        let b2 = c.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for i in 0..4 {
            if i <= c.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                s.push(char::from(T.get(idx).copied().unwrap_or(b'A')));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// A stateless nonce: 16 hex digits of its expiry (Unix seconds) and 16 of an HMAC of the
/// expiry keyed with the server's nonce key, so any nonce the server issued can be checked
/// without keeping it.
pub fn make_nonce(key: &[u8], expiry_unix: u64) -> String {
    let mac = crypto::hmac_sha1(key, &[b"nonce", &expiry_unix.to_be_bytes()]);
    let mut s = format!("{expiry_unix:016x}");
    for b in mac.iter().take(8) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Whether a nonce is ours and unexpired; `Err(true)` if it is ours but stale,
/// `Err(false)` if it is not ours at all.
pub fn check_nonce(key: &[u8], nonce: &str, now_unix: u64) -> Result<(), bool> {
    if nonce.len() != 32 || !nonce.is_ascii() {
        return Err(false);
    }
    let expiry = nonce.get(..16).and_then(|h| u64::from_str_radix(h, 16).ok()).ok_or(false)?;
    if !crypto::ct_eq(make_nonce(key, expiry).as_bytes(), nonce.as_bytes()) {
        return Err(false);
    }
    if expiry <= now_unix {
        return Err(true);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        // RFC 4648 §10.
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn long_term_key_rfc5769() {
        // RFC 5769 §2.4: a request with long-term authentication; username
        // "マトリックス", password "TheMatrIX" (after SASLprep), realm "example.org".
        let hex = "000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e383aae38383e382afe382b90000\
                   0015001c662f2f3439396b39353464364f4c33346f4c39465354767936347341\
                   0014000b6578616d706c652e6f72670000080014f67024656dd64a3e02b8e0712e85c9a28ca89666";
        let raw: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let key = long_term_key("\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}", "example.org", "TheMatrIX");
        let p = crate::wire::Parsed::parse(&raw).unwrap();
        assert_eq!(p.text(polyrtc::stun::attr::REALM), Some("example.org"));
        assert_eq!(crate::wire::verify(&p, &key), Some(crate::wire::Integrity::Sha1));
        let wrong = long_term_key("\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}", "example.org", "TheMatrix");
        assert_eq!(crate::wire::verify(&p, &wrong), None);
    }

    #[test]
    fn rest_username() {
        assert_eq!(rest_expiry("1700000000:alice"), Some((1_700_000_000, "alice")));
        assert_eq!(rest_expiry("1700000000"), Some((1_700_000_000, "1700000000")));
        assert_eq!(rest_expiry("alice"), None);
        assert_eq!(rest_expiry(":alice"), None);
        assert_eq!(rest_expiry("99999999999999999999999:x"), None);
    }

    #[test]
    fn nonce_round_trip() {
        let n = make_nonce(b"k", 100);
        assert_eq!(check_nonce(b"k", &n, 99), Ok(()));
        assert_eq!(check_nonce(b"k", &n, 100), Err(true));
        assert_eq!(check_nonce(b"other", &n, 99), Err(false));
        assert_eq!(check_nonce(b"k", "short", 0), Err(false));
    }
}
