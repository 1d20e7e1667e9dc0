//! Record protection (RFC 5288 AES-GCM with explicit nonce, RFC 7905 ChaCha20-Poly1305)
//! and the anti-replay window (RFC 6347 §4.1.2.6).

use crate::crypto::{AeadAlgorithm, AeadKey, CryptoError, PrfHash, AEAD_TAG_LEN};

use super::error::DtlsError;
use super::wire::{put_u16, RecordHeader, DTLS_1_2};

/// A cipher suite we implement.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CipherSuite(pub u16);

impl CipherSuite {
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (RFC 5289), mandatory for WebRTC.
    pub const ECDHE_ECDSA_AES_128_GCM_SHA256: CipherSuite = CipherSuite(0xc02b);
    /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (RFC 5289).
    pub const ECDHE_ECDSA_AES_256_GCM_SHA384: CipherSuite = CipherSuite(0xc02c);
    /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905).
    pub const ECDHE_ECDSA_CHACHA20_POLY1305_SHA256: CipherSuite = CipherSuite(0xcca9);
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 5289); client side only (our key is ECDSA).
    pub const ECDHE_RSA_AES_128_GCM_SHA256: CipherSuite = CipherSuite(0xc02f);
    /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (RFC 5289); client side only.
    pub const ECDHE_RSA_AES_256_GCM_SHA384: CipherSuite = CipherSuite(0xc030);
    /// TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905); client side only.
    pub const ECDHE_RSA_CHACHA20_POLY1305_SHA256: CipherSuite = CipherSuite(0xcca8);

    /// Whether the server authenticates with an RSA key (ECDHE_RSA); otherwise ECDSA.
    pub fn is_rsa(self) -> bool {
        matches!(self.0, 0xc02f | 0xc030 | 0xcca8)
    }

    pub fn is_supported(self) -> bool {
        self.aead().is_some()
    }

    /// The suite's name in the IANA TLS Cipher Suites registry (what webrtc-stats
    /// `dtlsCipher` reports), `None` for a suite we do not implement.
    pub fn iana_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            _ => return None,
        })
    }

    pub fn aead(self) -> Option<AeadAlgorithm> {
        match self.0 {
            0xc02b | 0xc02f => Some(AeadAlgorithm::Aes128Gcm),
            0xc02c | 0xc030 => Some(AeadAlgorithm::Aes256Gcm),
            0xcca9 | 0xcca8 => Some(AeadAlgorithm::ChaCha20Poly1305),
            _ => None,
        }
    }

    pub fn prf_hash(self) -> PrfHash {
        if matches!(self.0, 0xc02c | 0xc030) {
            PrfHash::Sha384
        } else {
            PrfHash::Sha256
        }
    }

    /// Length of the fixed IV taken from the key block (4 for GCM, 12 for ChaCha).
    pub fn fixed_iv_len(self) -> usize {
        if matches!(self.0, 0xcca9 | 0xcca8) {
            12
        } else {
            4
        }
    }

    /// Bytes a protected record adds to its plaintext (explicit nonce + tag).
    pub fn overhead(self) -> usize {
        if matches!(self.0, 0xcca9 | 0xcca8) {
            AEAD_TAG_LEN
        } else {
            8 + AEAD_TAG_LEN
        }
    }
}

/// One direction's record protection for epoch 1.
#[derive(Debug)]
pub struct RecordCipher {
    key: AeadKey,
    iv: [u8; 12],
    explicit_nonce: bool,
}

fn aad(epoch: u16, seq: u64, content_type: u8, len: usize) -> [u8; 13] {
    let mut a = [0u8; 13];
    let es = (u64::from(epoch) << 48) | (seq & 0xffff_ffff_ffff);
    a[..8].copy_from_slice(&es.to_be_bytes());
    a[8] = content_type;
    a[9..11].copy_from_slice(&DTLS_1_2.to_be_bytes());
    a[11..13].copy_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    a
}

impl RecordCipher {
    pub fn new(suite: CipherSuite, key: &[u8], fixed_iv: &[u8]) -> Result<RecordCipher, CryptoError> {
        let alg = suite.aead().ok_or(CryptoError::InvalidKey)?;
        let mut iv = [0u8; 12];
        let explicit_nonce = suite.fixed_iv_len() == 4;
        iv.get_mut(..fixed_iv.len()).ok_or(CryptoError::InvalidKey)?.copy_from_slice(fixed_iv);
        Ok(RecordCipher { key: AeadKey::new(alg, key)?, iv, explicit_nonce })
    }

    fn nonce(&self, epoch: u16, seq: u64) -> [u8; 12] {
        let es = ((u64::from(epoch) << 48) | (seq & 0xffff_ffff_ffff)).to_be_bytes();
        let mut n = self.iv;
        if self.explicit_nonce {
            // RFC 5288 §3: salt (4) || nonce_explicit (8); we use epoch||seq as the explicit part.
            n[4..].copy_from_slice(&es);
        } else {
            // RFC 7905 §2: the padded sequence number XORed into the 12-byte IV.
            for (d, s) in n[4..].iter_mut().zip(es.iter()) {
                *d ^= s;
            }
        }
        n
    }

    /// Appends a protected record (header, explicit nonce, ciphertext, tag) to `out`.
    pub fn seal_record(
        &self,
        out: &mut Vec<u8>,
        content_type: u8,
        epoch: u16,
        seq: u64,
        parts: &[&[u8]],
    ) -> Result<(), CryptoError> {
        let plain_len: usize = parts.iter().map(|p| p.len()).sum();
        let explicit = if self.explicit_nonce { 8 } else { 0 };
        let length = u16::try_from(plain_len + explicit + AEAD_TAG_LEN).map_err(|_| CryptoError::InvalidKey)?;
        RecordHeader { content_type, version: DTLS_1_2, epoch, sequence: seq, length }.encode(out);
        if self.explicit_nonce {
            put_u16(out, epoch);
            super::wire::put_u48(out, seq);
        }
        let start = out.len();
        for p in parts {
            out.extend_from_slice(p);
        }
        let nonce = self.nonce(epoch, seq);
        self.key.seal(&nonce, &aad(epoch, seq, content_type, plain_len), out, start)
    }

    /// Decrypts a record fragment into `scratch`; returns the plaintext length.
    pub fn open_record(&self, header: &RecordHeader, fragment: &[u8], scratch: &mut Vec<u8>) -> Result<usize, CryptoError> {
        let nonce = if self.explicit_nonce {
            let explicit = fragment.get(..8).ok_or(CryptoError::Decrypt)?;
            let mut n = self.iv;
            n[4..].copy_from_slice(explicit);
            n
        } else {
            self.nonce(header.epoch, header.sequence)
        };
        let body = fragment.get(if self.explicit_nonce { 8 } else { 0 }..).ok_or(CryptoError::Decrypt)?;
        let plain_len = body.len().checked_sub(AEAD_TAG_LEN).ok_or(CryptoError::Decrypt)?;
        scratch.clear();
        scratch.extend_from_slice(body);
        let a = aad(header.epoch, header.sequence, header.content_type, plain_len);
        self.key.open(&nonce, &a, scratch)
    }
}

/// RFC 6347 §4.1.2.6 sliding window of the last 64 sequence numbers.
#[derive(Clone, Debug, Default)]
pub struct ReplayWindow {
    /// Highest sequence number accepted so far (valid when `any`).
    top: u64,
    /// Bit i set: `top - i` was received.
    bits: u64,
    any: bool,
}

/// Width of the anti-replay window.
pub const REPLAY_WINDOW: u64 = 64;

impl ReplayWindow {
    /// Whether `seq` may be accepted (not seen, not too old). Call before decryption.
    pub fn check(&self, seq: u64) -> bool {
        if !self.any || seq > self.top {
            return true;
        }
        let back = self.top - seq;
        back < REPLAY_WINDOW && self.bits & (1u64 << back) == 0
    }

    /// Marks `seq` as received. Call after successful decryption.
    pub fn update(&mut self, seq: u64) {
        if !self.any {
            self.any = true;
            self.top = seq;
            self.bits = 1;
        } else if seq > self.top {
            let shift = seq - self.top;
            self.bits = if shift >= REPLAY_WINDOW { 0 } else { self.bits << shift };
            self.bits |= 1;
            self.top = seq;
        } else {
            let back = self.top - seq;
            if back < REPLAY_WINDOW {
                self.bits |= 1u64 << back;
            }
        }
    }
}

/// The sending half of the record layer: per-epoch sequence numbers and epoch-1 keys.
#[derive(Debug, Default)]
pub struct RecordWriter {
    /// Next sequence number for epochs 0 and 1.
    seq: [u64; 2],
    cipher: Option<RecordCipher>,
    overhead: usize,
}

/// RFC 6347 §4.1: sequence numbers are 48 bits and must not wrap.
const MAX_SEQUENCE: u64 = (1u64 << 48) - 1;

impl RecordWriter {
    pub fn set_cipher(&mut self, cipher: RecordCipher, overhead: usize) {
        self.cipher = Some(cipher);
        self.overhead = overhead;
    }

    pub fn has_cipher(&self) -> bool {
        self.cipher.is_some()
    }

    /// Bytes protection adds to a record of `epoch`.
    pub fn overhead(&self, epoch: u16) -> usize {
        if epoch == 0 {
            0
        } else {
            self.overhead
        }
    }

    /// Appends one record with the next sequence number of `epoch` (0 or 1).
    pub fn write(&mut self, out: &mut Vec<u8>, ct: u8, epoch: u16, parts: &[&[u8]]) -> Result<(), DtlsError> {
        let slot = self.seq.get_mut(usize::from(epoch)).ok_or(DtlsError::NotConnected)?;
        let seq = *slot;
        if seq >= MAX_SEQUENCE {
            return Err(DtlsError::NotConnected);
        }
        *slot = seq + 1;
        if epoch == 0 {
            let len: usize = parts.iter().map(|p| p.len()).sum();
            let length = u16::try_from(len).map_err(|_| DtlsError::MessageTooLarge)?;
            RecordHeader { content_type: ct, version: DTLS_1_2, epoch: 0, sequence: seq, length }.encode(out);
            for p in parts {
                out.extend_from_slice(p);
            }
            Ok(())
        } else {
            let cipher = self.cipher.as_ref().ok_or(DtlsError::NotConnected)?;
            cipher.seal_record(out, ct, epoch, seq, parts).map_err(DtlsError::Crypto)
        }
    }
}
