//! The SRTP key derivation function (RFC 3711 §4.3, AES-CM PRF of §4.3.3), with a key
//! derivation rate of zero as DTLS-SRTP uses it (RFC 5764 §4.1.2): the session keys are
//! derived once from the master key and salt. AES-256 master keys use AES-256 as the PRF
//! (RFC 6188 §6); the GCM profiles' 96-bit master salts are padded with zeros to 112 bits
//! (RFC 7714 §11).

use crate::crypto::{AesCtr, CryptoError};

/// RFC 3711 §4.3.2: the SRTP encryption key.
pub const LABEL_RTP_ENCRYPTION: u8 = 0x00;
/// The SRTP authentication key.
pub const LABEL_RTP_AUTH: u8 = 0x01;
/// The SRTP salting key.
pub const LABEL_RTP_SALT: u8 = 0x02;
/// RFC 3711 §4.3.2: the SRTCP encryption key.
pub const LABEL_RTCP_ENCRYPTION: u8 = 0x03;
/// The SRTCP authentication key.
pub const LABEL_RTCP_AUTH: u8 = 0x04;
/// The SRTCP salting key.
pub const LABEL_RTCP_SALT: u8 = 0x05;

/// Length of the PRF input `x` (the master salt's full length in AES-CM).
const X_LEN: usize = 14;

/// Fills `out` with the key for `label`: `AES-CM(master_key, IV = (master_salt XOR label
/// << 48) * 2^16)` over zeros (r = index DIV kdr is zero).
pub fn derive(master_key: &[u8], master_salt: &[u8], label: u8, out: &mut [u8]) -> Result<(), CryptoError> {
    if master_salt.len() > X_LEN {
        return Err(CryptoError::InvalidKey);
    }
    let prf = AesCtr::new(master_key)?;
    let mut iv = [0u8; 16];
    iv[..master_salt.len()].copy_from_slice(master_salt);
    // key_id = label || r (48 bits of zero), right-aligned on the 112-bit x.
    iv[X_LEN - 7] ^= label;
    out.fill(0);
    prf.apply_keystream(&iv, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srtp::tests::hex;

    #[test]
    fn rfc3711_appendix_b3() {
        let key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
        let salt = hex("0EC675AD498AFEEBB6960B3AABE6");
        let mut out = [0u8; 16];
        derive(&key, &salt, LABEL_RTP_ENCRYPTION, &mut out).unwrap();
        assert_eq!(out.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
        let mut out = [0u8; 14];
        derive(&key, &salt, LABEL_RTP_SALT, &mut out).unwrap();
        assert_eq!(out.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
        // The RFC lists 94 octets of authentication key (the PRF over several blocks).
        let mut out = [0u8; 94];
        derive(&key, &salt, LABEL_RTP_AUTH, &mut out).unwrap();
        assert_eq!(
            out.to_vec(),
            hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE\
                 E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25\
                 6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2")
        );
    }

    #[test]
    fn srtcp_labels_on_the_rfc3711_master_key() {
        let key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
        let salt = hex("0EC675AD498AFEEBB6960B3AABE6");
        let mut k = [0u8; 16];
        derive(&key, &salt, LABEL_RTCP_ENCRYPTION, &mut k).unwrap();
        assert_eq!(k.to_vec(), hex("4c1aa45a81f73d61c800bbb00fbb1eaa"));
        let mut a = [0u8; 20];
        derive(&key, &salt, LABEL_RTCP_AUTH, &mut a).unwrap();
        assert_eq!(a.to_vec(), hex("8d54534feb49ae8e7993a6bd0b844fc323a93dfd"));
        let mut s = [0u8; 14];
        derive(&key, &salt, LABEL_RTCP_SALT, &mut s).unwrap();
        assert_eq!(s.to_vec(), hex("9581c7ad87b3e530bf3e4454a8b3"));
    }

    #[test]
    fn rfc6188_aes256_prf() {
        let key = hex("F0F04914B513F2763A1B1FA130F10E2998F6F6E43E4309D1E622A0E332B9F1B6");
        let salt = hex("3B04803DE51EE7C96423AB5B78D2");
        let mut out = [0u8; 32];
        derive(&key, &salt, LABEL_RTP_ENCRYPTION, &mut out).unwrap();
        assert_eq!(out.to_vec(), hex("5BA1064E30EC51613CAD926C5A28EF731EC7FB397F70A960653CAF06554CD8C4"));
        let mut s = [0u8; 14];
        derive(&key, &salt, LABEL_RTP_SALT, &mut s).unwrap();
        assert_eq!(s.to_vec(), hex("FA31791685CA444A9E07C6C64E93"));
    }

    #[test]
    fn gcm_master_salts_are_padded() {
        let key = hex("000102030405060708090a0b0c0d0e0f");
        let salt = hex("a0a1a2a3a4a5a6a7a8a9aaab");
        let mut k = [0u8; 16];
        derive(&key, &salt, LABEL_RTP_ENCRYPTION, &mut k).unwrap();
        assert_eq!(k.to_vec(), hex("077c6143cb221bc355ff23d5f984a16e"));
        let mut s = [0u8; 12];
        derive(&key, &salt, LABEL_RTP_SALT, &mut s).unwrap();
        assert_eq!(s.to_vec(), hex("9af3e95364ebac9c99c5a7c4"));
    }

    #[test]
    fn bad_lengths_are_errors() {
        let mut out = [0u8; 16];
        assert!(derive(&[0; 15], &[0; 14], 0, &mut out).is_err());
        assert!(derive(&[0; 16], &[0; 15], 0, &mut out).is_err());
    }
}
