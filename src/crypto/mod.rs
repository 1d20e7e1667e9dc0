//! The one door to RustCrypto: every primitive the protocols use is called from here,
//! so a backend can change in one place.
//!
//! - hashes: SHA-1 (STUN), SHA-256, SHA-384, SHA-512 (fingerprints)
//! - HMAC-SHA1 / HMAC-SHA256, TLS 1.2 PRF (RFC 5246 §5, P_SHA256 / P_SHA384)
//! - AEAD: AES-128/256-GCM, ChaCha20-Poly1305 (in-place seal / open)
//! - SRTP's own: AES-128/256 in counter mode ([`AesCtr`]) and a keyed HMAC-SHA1
//!   ([`HmacSha1Key`]), each keyed once per session key
//! - ECDHE: X25519, P-256 (ephemeral keys from the injected [`Rng`])
//! - ECDSA P-256 / SHA-256 sign (DER signature) and verify
//! - RSA verify (peer certificates): RSASSA-PKCS1-v1_5 and RSASSA-PSS with SHA-256/384/512
//! - RSA key generation (1024 / 2048 / 4096 bits, e = 65537) and RSASSA-PKCS1-v1_5 / SHA-256
//!   signatures, for our own RSA certificates
//! - self-signed X.509 [`Certificate`]s and SDP [`Fingerprint`]s

mod certificate;
mod der;
#[doc(hidden)]
pub mod fuzz;
mod rng;

pub use certificate::{
    parse_certificate_public_key, parse_peer_public_key, Certificate, CertificateKeyType, Fingerprint,
    MAX_CERTIFICATE_SIZE, RSA_MODULUS_LENGTHS, WEAK_FINGERPRINT_ALGORITHMS,
};
pub use rng::Rng;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use core::fmt;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::{Signer, Verifier};
use sha2::Digest;

/// Errors of the crypto layer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// A key had the wrong length or was not a valid point.
    InvalidKey,
    /// AEAD authentication failed (or the input was shorter than a tag).
    Decrypt,
    /// A signature did not verify or was malformed.
    BadSignature,
    /// The DER of a certificate could not be parsed.
    BadCertificate,
    /// A certificate uses a key type we do not support (e.g. DSA, or a curve other than P-256).
    PeerIncompatible,
    /// The key exchange produced a non-contributory (all-zero) secret.
    WeakSharedSecret,
    /// A fingerprint string could not be parsed or names an unknown hash.
    BadFingerprint,
    /// A validity date cannot be encoded.
    BadValidity,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for CryptoError {}

pub fn sha1(data: &[u8]) -> [u8; 20] {
    sha1::Sha1::digest(data).into()
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

pub fn sha384(data: &[u8]) -> [u8; 48] {
    sha2::Sha384::digest(data).into()
}

pub fn sha512(data: &[u8]) -> [u8; 64] {
    sha2::Sha512::digest(data).into()
}

pub fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    // HMAC accepts keys of any length.
    let mut mac = match <Hmac<sha1::Sha1> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 20],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = match <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn hmac_sha384(key: &[u8], parts: &[&[u8]]) -> [u8; 48] {
    let mut mac = match <Hmac<sha2::Sha384> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 48],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The hash behind a TLS 1.2 PRF and the handshake transcript.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PrfHash {
    Sha256,
    Sha384,
}

impl PrfHash {
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            PrfHash::Sha256 => sha256(data).to_vec(),
            PrfHash::Sha384 => sha384(data).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        match self {
            PrfHash::Sha256 => hmac_sha256(key, parts).to_vec(),
            PrfHash::Sha384 => hmac_sha384(key, parts).to_vec(),
        }
    }
}

/// RFC 5246 §5: `PRF(secret, label, seed) = P_hash(secret, label + seed)`, filling `out`.
pub fn prf(hash: PrfHash, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    // A(1) = HMAC(secret, label + seed); A(i) = HMAC(secret, A(i-1))
    let mut a = hash.hmac(secret, &[label, seed]);
    let mut filled = 0;
    while filled < out.len() {
        let block = hash.hmac(secret, &[&a, label, seed]);
        let n = block.len().min(out.len() - filled);
        if let (Some(dst), Some(src)) = (out.get_mut(filled..filled + n), block.get(..n)) {
            dst.copy_from_slice(src);
        }
        filled += n;
        a = hash.hmac(secret, &[&a]);
    }
}

/// AES in counter mode as SRTP uses it (RFC 3711 §4.1.1): the 128-bit counter block starts
/// at an IV and is incremented as a big-endian integer. Keyed once (the key schedule is kept),
/// so a packet costs only its blocks.
#[derive(Clone)]
pub enum AesCtr {
    Aes128(Box<aes_gcm::aes::Aes128>),
    Aes256(Box<aes_gcm::aes::Aes256>),
}

impl fmt::Debug for AesCtr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesCtr(..)")
    }
}

/// Counter blocks encrypted per call of the block cipher (lets AES-NI pipeline them).
const CTR_BATCH: usize = 8;

impl AesCtr {
    /// AES-128 for a 16-byte key, AES-256 for a 32-byte one.
    pub fn new(key: &[u8]) -> Result<AesCtr, CryptoError> {
        Ok(match key.len() {
            16 => AesCtr::Aes128(Box::new(
                aes_gcm::aes::Aes128::new_from_slice(key).map_err(|_| CryptoError::InvalidKey)?,
            )),
            32 => AesCtr::Aes256(Box::new(
                aes_gcm::aes::Aes256::new_from_slice(key).map_err(|_| CryptoError::InvalidKey)?,
            )),
            _ => return Err(CryptoError::InvalidKey),
        })
    }

    /// XORs the keystream that starts at counter block `iv` into `data`.
    pub fn apply_keystream(&self, iv: &[u8; 16], data: &mut [u8]) {
        use aes_gcm::aes::cipher::BlockEncrypt;
        let mut counter = u128::from_be_bytes(*iv);
        let mut blocks = [aes_gcm::aes::Block::default(); CTR_BATCH];
        for chunk in data.chunks_mut(16 * CTR_BATCH) {
            let n = chunk.len().div_ceil(16);
            let batch = &mut blocks[..n];
            for b in batch.iter_mut() {
                b.copy_from_slice(&counter.to_be_bytes());
                counter = counter.wrapping_add(1);
            }
            match self {
                AesCtr::Aes128(c) => c.encrypt_blocks(batch),
                AesCtr::Aes256(c) => c.encrypt_blocks(batch),
            }
            for (d, k) in chunk.iter_mut().zip(batch.iter().flat_map(|b| b.iter())) {
                *d ^= k;
            }
        }
    }
}

/// HMAC-SHA1 keyed once: each MAC starts from a copy of the keyed state (RFC 3711's
/// HMAC-SHA1 authentication of SRTP and SRTCP).
#[derive(Clone)]
pub struct HmacSha1Key(Hmac<sha1::Sha1>);

impl fmt::Debug for HmacSha1Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacSha1Key(..)")
    }
}

impl HmacSha1Key {
    pub fn new(key: &[u8]) -> HmacSha1Key {
        // HMAC takes keys of any length.
        HmacSha1Key(<Hmac<sha1::Sha1> as Mac>::new_from_slice(key).unwrap_or_else(|_| {
            <Hmac<sha1::Sha1> as Mac>::new(&Default::default())
        }))
    }

    /// The MAC of the concatenation of `parts`.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 20] {
        let mut m = self.0.clone();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

/// AEAD algorithms used by DTLS (and SRTP).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AeadAlgorithm {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl AeadAlgorithm {
    pub fn key_len(self) -> usize {
        match self {
            AeadAlgorithm::Aes128Gcm => 16,
            AeadAlgorithm::Aes256Gcm | AeadAlgorithm::ChaCha20Poly1305 => 32,
        }
    }
}

/// Authentication tag length of every supported AEAD.
pub const AEAD_TAG_LEN: usize = 16;
/// Nonce length of every supported AEAD.
pub const AEAD_NONCE_LEN: usize = 12;

/// A keyed AEAD cipher.
#[derive(Clone)]
pub enum AeadKey {
    Aes128Gcm(Box<aes_gcm::Aes128Gcm>),
    Aes256Gcm(Box<aes_gcm::Aes256Gcm>),
    ChaCha20Poly1305(Box<chacha20poly1305::ChaCha20Poly1305>),
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AeadKey(..)")
    }
}

impl AeadKey {
    pub fn new(alg: AeadAlgorithm, key: &[u8]) -> Result<AeadKey, CryptoError> {
        Ok(match alg {
            AeadAlgorithm::Aes128Gcm => AeadKey::Aes128Gcm(Box::new(
                aes_gcm::Aes128Gcm::new_from_slice(key).map_err(|_| CryptoError::InvalidKey)?,
            )),
            AeadAlgorithm::Aes256Gcm => AeadKey::Aes256Gcm(Box::new(
                aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::InvalidKey)?,
            )),
            AeadAlgorithm::ChaCha20Poly1305 => AeadKey::ChaCha20Poly1305(Box::new(
                chacha20poly1305::ChaCha20Poly1305::new_from_slice(key)
                    .map_err(|_| CryptoError::InvalidKey)?,
            )),
        })
    }

    /// Encrypts `buf[start..]` in place and appends the 16-byte tag.
    pub fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut Vec<u8>, start: usize) -> Result<(), CryptoError> {
        let body = buf.get_mut(start..).ok_or(CryptoError::InvalidKey)?;
        let tag = self.seal_detached(nonce, aad, body)?;
        buf.extend_from_slice(&tag);
        Ok(())
    }

    /// Encrypts `body` in place and returns the tag (the caller places it).
    pub fn seal_detached(&self, nonce: &[u8; 12], aad: &[u8], body: &mut [u8]) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
        let n = aes_gcm::Nonce::from_slice(nonce);
        let tag = match self {
            AeadKey::Aes128Gcm(c) => c.encrypt_in_place_detached(n, aad, body),
            AeadKey::Aes256Gcm(c) => c.encrypt_in_place_detached(n, aad, body),
            AeadKey::ChaCha20Poly1305(c) => c.encrypt_in_place_detached(n, aad, body),
        }
        .map_err(|_| CryptoError::InvalidKey)?;
        Ok(tag.into())
    }

    /// Checks `tag` and decrypts `body` in place (left as it was if the tag is wrong).
    pub fn open_detached(&self, nonce: &[u8; 12], aad: &[u8], body: &mut [u8], tag: &[u8]) -> Result<(), CryptoError> {
        if tag.len() != AEAD_TAG_LEN {
            return Err(CryptoError::Decrypt);
        }
        let n = aes_gcm::Nonce::from_slice(nonce);
        let tag = aes_gcm::Tag::from_slice(tag);
        match self {
            AeadKey::Aes128Gcm(c) => c.decrypt_in_place_detached(n, aad, body, tag),
            AeadKey::Aes256Gcm(c) => c.decrypt_in_place_detached(n, aad, body, tag),
            AeadKey::ChaCha20Poly1305(c) => c.decrypt_in_place_detached(n, aad, body, tag),
        }
        .map_err(|_| CryptoError::Decrypt)
    }

    /// Decrypts `buf` (ciphertext followed by the tag) in place; returns the plaintext length.
    pub fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Result<usize, CryptoError> {
        let len = buf.len().checked_sub(AEAD_TAG_LEN).ok_or(CryptoError::Decrypt)?;
        let (body, tag) = buf.split_at_mut(len);
        let n = aes_gcm::Nonce::from_slice(nonce);
        let tag = aes_gcm::Tag::from_slice(tag);
        match self {
            AeadKey::Aes128Gcm(c) => c.decrypt_in_place_detached(n, aad, body, tag),
            AeadKey::Aes256Gcm(c) => c.decrypt_in_place_detached(n, aad, body, tag),
            AeadKey::ChaCha20Poly1305(c) => c.decrypt_in_place_detached(n, aad, body, tag),
        }
        .map_err(|_| CryptoError::Decrypt)?;
        Ok(len)
    }
}

/// Named groups for ECDHE (IANA TLS Supported Groups values).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum KeyExchangeGroup {
    /// secp256r1 (23)
    P256,
    /// x25519 (29)
    X25519,
}

impl KeyExchangeGroup {
    pub fn iana(self) -> u16 {
        match self {
            KeyExchangeGroup::P256 => 23,
            KeyExchangeGroup::X25519 => 29,
        }
    }
    pub fn from_iana(v: u16) -> Option<KeyExchangeGroup> {
        match v {
            23 => Some(KeyExchangeGroup::P256),
            29 => Some(KeyExchangeGroup::X25519),
            _ => None,
        }
    }
}

enum EphemeralInner {
    P256(p256::ecdh::EphemeralSecret),
    X25519(x25519_dalek::EphemeralSecret),
}

/// An ephemeral ECDHE key pair; the secret is consumed by [`EphemeralKey::agree`].
pub struct EphemeralKey {
    inner: EphemeralInner,
    public: Vec<u8>,
}

impl fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EphemeralKey(..)")
    }
}

impl EphemeralKey {
    pub fn generate(group: KeyExchangeGroup, rng: &mut Rng) -> EphemeralKey {
        match group {
            KeyExchangeGroup::P256 => {
                let s = p256::ecdh::EphemeralSecret::random(rng);
                let public = p256::EncodedPoint::from(s.public_key()).as_bytes().to_vec();
                EphemeralKey { inner: EphemeralInner::P256(s), public }
            }
            KeyExchangeGroup::X25519 => {
                let s = x25519_dalek::EphemeralSecret::random_from_rng(rng);
                let public = x25519_dalek::PublicKey::from(&s).as_bytes().to_vec();
                EphemeralKey { inner: EphemeralInner::X25519(s), public }
            }
        }
    }

    /// Our public value: an uncompressed SEC1 point (P-256) or 32 bytes (X25519).
    pub fn public(&self) -> &[u8] {
        &self.public
    }

    /// The shared secret with the peer's public value.
    pub fn agree(self, peer_public: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self.inner {
            EphemeralInner::P256(s) => {
                // Only uncompressed points (RFC 8422 §5.1.2 with ec_point_formats uncompressed).
                if peer_public.first() != Some(&4) || peer_public.len() != 65 {
                    return Err(CryptoError::InvalidKey);
                }
                let pk = p256::PublicKey::from_sec1_bytes(peer_public).map_err(|_| CryptoError::InvalidKey)?;
                Ok(s.diffie_hellman(&pk).raw_secret_bytes().to_vec())
            }
            EphemeralInner::X25519(s) => {
                let arr: [u8; 32] = peer_public.try_into().map_err(|_| CryptoError::InvalidKey)?;
                let shared = s.diffie_hellman(&x25519_dalek::PublicKey::from(arr));
                if !shared.was_contributory() {
                    return Err(CryptoError::WeakSharedSecret);
                }
                Ok(shared.as_bytes().to_vec())
            }
        }
    }
}

/// An ECDSA P-256 private key.
#[derive(Clone)]
pub struct SigningKey(p256::ecdsa::SigningKey);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    pub fn generate(rng: &mut Rng) -> SigningKey {
        SigningKey(p256::ecdsa::SigningKey::random(rng))
    }

    /// ECDSA P-256 with SHA-256 over `msg`; DER-encoded `Ecdsa-Sig-Value`.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let sig: p256::ecdsa::Signature = self.0.sign(msg);
        sig.to_der().as_bytes().to_vec()
    }

    /// The uncompressed SEC1 public point (65 bytes).
    pub fn public_sec1(&self) -> Vec<u8> {
        self.0.verifying_key().to_encoded_point(false).as_bytes().to_vec()
    }
}

/// An RSA private key of ours (RSASSA-PKCS1-v1_5 / SHA-256 signatures).
///
/// On wasm32 the type is uninhabited: the WASM engine makes ECDSA certificates only (it still
/// verifies a peer's RSA certificate), and RSA key generation and signing would add their code
/// to every `.wasm`. [`RsaSigningKey::generate`] is then [`CryptoError::PeerIncompatible`].
#[derive(Clone)]
pub struct RsaSigningKey(
    #[cfg(not(target_arch = "wasm32"))] rsa::RsaPrivateKey,
    #[cfg(target_arch = "wasm32")] std::convert::Infallible,
);

impl fmt::Debug for RsaSigningKey {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(not(target_arch = "wasm32"))]
        return write!(_f, "RsaSigningKey({} bits)", rsa::traits::PublicKeyParts::n(&self.0).bits());
        #[cfg(target_arch = "wasm32")]
        match self.0 {}
    }
}

#[cfg(target_arch = "wasm32")]
impl RsaSigningKey {
    /// Not available on wasm32.
    pub fn generate(_rng: &mut Rng, _bits: usize) -> Result<RsaSigningKey, CryptoError> {
        Err(CryptoError::PeerIncompatible)
    }

    pub fn public_pkcs1_der(&self) -> Vec<u8> {
        match self.0 {}
    }

    pub fn public_key(&self) -> RsaKey {
        match self.0 {}
    }

    pub fn sign_pkcs1_sha256(&self, _rng: &mut Rng, _msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self.0 {}
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl RsaSigningKey {
    /// A fresh key of `bits` bits with e = 65537 (slow: about a second for 2048 bits in a
    /// release build, several for 4096; hosts run it off their main thread).
    pub fn generate(rng: &mut Rng, bits: usize) -> Result<RsaSigningKey, CryptoError> {
        if !(RSA_MIN_MODULUS_BITS..=RSA_MAX_MODULUS_BITS).contains(&bits) {
            return Err(CryptoError::InvalidKey);
        }
        let e = rsa::BigUint::from(65_537u32);
        rsa::RsaPrivateKey::new_with_exp(rng, bits, &e).map(RsaSigningKey).map_err(|_| CryptoError::InvalidKey)
    }

    /// The PKCS#1 `RSAPublicKey` DER (RFC 8017 §A.1.1): `SEQUENCE { n, e }`.
    pub fn public_pkcs1_der(&self) -> Vec<u8> {
        use rsa::traits::PublicKeyParts;
        der::tlv(
            der::TAG_SEQUENCE,
            &[&der::unsigned_integer(&self.0.n().to_bytes_be()), &der::unsigned_integer(&self.0.e().to_bytes_be())],
        )
    }

    /// The public half, as a peer would see it.
    pub fn public_key(&self) -> RsaKey {
        RsaKey(self.0.to_public_key())
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `msg` (RFC 8017 §8.2), with blinding from `rng`;
    /// the signature is as long as the modulus.
    pub fn sign_pkcs1_sha256(&self, rng: &mut Rng, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.0
            .sign_with_rng(rng, rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &sha256(msg))
            .map_err(|_| CryptoError::InvalidKey)
    }
}

/// The private key of one of our certificates: ECDSA P-256 (the default) or RSA.
#[derive(Clone, Debug)]
pub enum CertificateKey {
    EcdsaP256(SigningKey),
    Rsa(Box<RsaSigningKey>),
}

impl CertificateKey {
    pub fn is_rsa(&self) -> bool {
        matches!(self, CertificateKey::Rsa(_))
    }

    /// The TLS signature schemes this key signs with, in our order of preference.
    pub fn signature_schemes(&self) -> &'static [u16] {
        match self {
            CertificateKey::EcdsaP256(_) => &[signature_scheme::ECDSA_SECP256R1_SHA256],
            CertificateKey::Rsa(_) => &[signature_scheme::RSA_PKCS1_SHA256],
        }
    }

    /// Signs `msg` with `scheme` (one of [`CertificateKey::signature_schemes`], else
    /// [`CryptoError::PeerIncompatible`]). `rng` blinds RSA; ECDSA nonces are RFC 6979.
    pub fn sign(&self, rng: &mut Rng, scheme: u16, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if !self.signature_schemes().contains(&scheme) {
            return Err(CryptoError::PeerIncompatible);
        }
        match self {
            CertificateKey::EcdsaP256(k) => Ok(k.sign(msg)),
            CertificateKey::Rsa(k) => k.sign_pkcs1_sha256(rng, msg),
        }
    }

    /// The ECDSA key, if this is one.
    pub fn ecdsa(&self) -> Option<&SigningKey> {
        match self {
            CertificateKey::EcdsaP256(k) => Some(k),
            CertificateKey::Rsa(_) => None,
        }
    }
}

/// Verifies an ECDSA P-256 / SHA-256 DER signature over `msg` with a SEC1 public point.
pub fn ecdsa_p256_verify(public_sec1: &[u8], msg: &[u8], der_sig: &[u8]) -> Result<(), CryptoError> {
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_sec1).map_err(|_| CryptoError::InvalidKey)?;
    let sig = p256::ecdsa::Signature::from_der(der_sig).map_err(|_| CryptoError::BadSignature)?;
    vk.verify(msg, &sig).map_err(|_| CryptoError::BadSignature)
}

/// TLS `SignatureScheme` values (RFC 8446 §4.2.3, usable in TLS 1.2) that we verify.
pub mod signature_scheme {
    pub const ECDSA_SECP256R1_SHA256: u16 = 0x0403;
    pub const RSA_PKCS1_SHA256: u16 = 0x0401;
    pub const RSA_PKCS1_SHA384: u16 = 0x0501;
    pub const RSA_PKCS1_SHA512: u16 = 0x0601;
    pub const RSA_PSS_RSAE_SHA256: u16 = 0x0804;
    pub const RSA_PSS_RSAE_SHA384: u16 = 0x0805;
    pub const RSA_PSS_RSAE_SHA512: u16 = 0x0806;
    /// Everything [`super::PeerPublicKey::verify`] accepts, in our order of preference.
    /// SHA-1 schemes are deliberately absent.
    pub const VERIFIABLE: [u16; 7] = [
        ECDSA_SECP256R1_SHA256,
        RSA_PSS_RSAE_SHA256,
        RSA_PKCS1_SHA256,
        RSA_PSS_RSAE_SHA384,
        RSA_PKCS1_SHA384,
        RSA_PSS_RSAE_SHA512,
        RSA_PKCS1_SHA512,
    ];
}

/// Smallest RSA modulus we accept from a peer, in bits.
pub const RSA_MIN_MODULUS_BITS: usize = 1024;
/// Largest RSA modulus we accept from a peer, in bits (bounds the verification cost).
pub const RSA_MAX_MODULUS_BITS: usize = 8192;

/// An RSA public key (verification only).
#[derive(Clone, PartialEq, Eq)]
pub struct RsaKey(rsa::RsaPublicKey);

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaKey({} bits)", self.bits())
    }
}

impl RsaKey {
    /// Parses a PKCS#1 `RSAPublicKey` (RFC 8017 §A.1.1): `SEQUENCE { n INTEGER, e INTEGER }`.
    /// The modulus must be positive, odd and of [`RSA_MIN_MODULUS_BITS`]..=[`RSA_MAX_MODULUS_BITS`]
    /// bits; the exponent odd and at least 3.
    pub fn from_pkcs1_der(data: &[u8]) -> Result<RsaKey, CryptoError> {
        const BAD: CryptoError = CryptoError::BadCertificate;
        let mut top = der::DerReader::new(data);
        let mut seq = der::DerReader::new(top.read(der::TAG_SEQUENCE).ok_or(BAD)?);
        if !top.is_empty() {
            return Err(BAD);
        }
        let n = positive_integer(seq.read(der::TAG_INTEGER).ok_or(BAD)?).ok_or(BAD)?;
        let e = positive_integer(seq.read(der::TAG_INTEGER).ok_or(BAD)?).ok_or(BAD)?;
        if !seq.is_empty() {
            return Err(BAD);
        }
        // Bound the size before building big integers (a byte more for the bit check below).
        if n.len() > RSA_MAX_MODULUS_BITS / 8 || e.len() > 8 {
            return Err(CryptoError::PeerIncompatible);
        }
        let n = rsa::BigUint::from_bytes_be(n);
        let e = rsa::BigUint::from_bytes_be(e);
        let bits = n.bits();
        if !(RSA_MIN_MODULUS_BITS..=RSA_MAX_MODULUS_BITS).contains(&bits) {
            return Err(CryptoError::PeerIncompatible);
        }
        let one = rsa::BigUint::from(1u8);
        if (&n & &one) != one || (&e & &one) != one || e < rsa::BigUint::from(3u8) {
            return Err(BAD);
        }
        rsa::RsaPublicKey::new_with_max_size(n, e, RSA_MAX_MODULUS_BITS)
            .map(RsaKey)
            .map_err(|_| CryptoError::PeerIncompatible)
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        rsa::traits::PublicKeyParts::n(&self.0).bits()
    }

    /// Verifies an RSA signature over `msg` with one of the `rsa_pkcs1_*` / `rsa_pss_rsae_*`
    /// [`signature_scheme`]s (PSS salt length = hash length, RFC 8446 §4.2.3).
    pub fn verify(&self, scheme: u16, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        use signature_scheme as ss;
        use sha2::{Sha256, Sha384, Sha512};
        let k = rsa::traits::PublicKeyParts::size(&self.0);
        if sig.len() != k {
            return Err(CryptoError::BadSignature);
        }
        let r = match scheme {
            ss::RSA_PKCS1_SHA256 => self.0.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &sha256(msg), sig),
            ss::RSA_PKCS1_SHA384 => self.0.verify(rsa::Pkcs1v15Sign::new::<Sha384>(), &sha384(msg), sig),
            ss::RSA_PKCS1_SHA512 => self.0.verify(rsa::Pkcs1v15Sign::new::<Sha512>(), &sha512(msg), sig),
            ss::RSA_PSS_RSAE_SHA256 => self.0.verify(rsa::Pss::new::<Sha256>(), &sha256(msg), sig),
            ss::RSA_PSS_RSAE_SHA384 => self.0.verify(rsa::Pss::new::<Sha384>(), &sha384(msg), sig),
            ss::RSA_PSS_RSAE_SHA512 => self.0.verify(rsa::Pss::new::<Sha512>(), &sha512(msg), sig),
            _ => return Err(CryptoError::PeerIncompatible),
        };
        r.map_err(|_| CryptoError::BadSignature)
    }
}

/// The magnitude of a DER INTEGER that must be positive (minimal encoding, no sign bit).
fn positive_integer(v: &[u8]) -> Option<&[u8]> {
    match v {
        [] => None,
        [0] => None,
        [0, rest @ ..] if rest.first().is_some_and(|b| b & 0x80 != 0) => Some(rest),
        [0, ..] => None, // not minimal
        [b, ..] if b & 0x80 != 0 => None, // negative
        _ => Some(v),
    }
}

/// A peer certificate's public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerPublicKey {
    /// Uncompressed SEC1 point of a P-256 key.
    EcdsaP256(Vec<u8>),
    Rsa(Box<RsaKey>),
}

impl PeerPublicKey {
    pub fn is_rsa(&self) -> bool {
        matches!(self, PeerPublicKey::Rsa(_))
    }

    /// Whether `scheme` is one this key can verify.
    pub fn supports(&self, scheme: u16) -> bool {
        use signature_scheme as ss;
        match self {
            PeerPublicKey::EcdsaP256(_) => scheme == ss::ECDSA_SECP256R1_SHA256,
            PeerPublicKey::Rsa(_) => ss::VERIFIABLE.contains(&scheme) && scheme != ss::ECDSA_SECP256R1_SHA256,
        }
    }

    /// Verifies a TLS signature with `scheme` over `msg`; a scheme the key cannot use gives
    /// [`CryptoError::PeerIncompatible`].
    pub fn verify(&self, scheme: u16, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        if !self.supports(scheme) {
            return Err(CryptoError::PeerIncompatible);
        }
        match self {
            PeerPublicKey::EcdsaP256(point) => ecdsa_p256_verify(point, msg, sig),
            PeerPublicKey::Rsa(key) => key.verify(scheme, msg, sig),
        }
    }
}

/// Constant-time equality of two byte strings (length is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut d = 0u8;
    for (x, y) in a.iter().zip(b) {
        d |= x ^ y;
    }
    d == 0
}

#[cfg(test)]
mod tests;
