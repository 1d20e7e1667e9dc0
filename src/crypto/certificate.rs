//! Self-signed X.509 v3 certificates (RFC 5280) with an ECDSA P-256 key (the default) or an
//! RSA key (RFC 4055 / RFC 3279, sha256WithRSAEncryption), SDP fingerprints
//! (RFC 8122 §5), and a minimal reader for the peer's certificate.

use core::fmt;

use super::der::{self, DerReader};
use super::{CertificateKey, CryptoError, PeerPublicKey, Rng, RsaKey, RsaSigningKey, SigningKey};

/// Largest peer certificate (DER) we accept.
pub const MAX_CERTIFICATE_SIZE: usize = 16 * 1024;

const OID_EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
const OID_PRIME256V1: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
const OID_ECDSA_WITH_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const OID_COMMON_NAME: &[u64] = &[2, 5, 4, 3];
const OID_RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
const OID_SHA256_WITH_RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];

/// The RSA modulus lengths our own certificates may have (what `generateCertificate` offers,
/// as Chromium does).
pub const RSA_MODULUS_LENGTHS: [usize; 3] = [1024, 2048, 4096];

/// The kind of key a [`Certificate`] holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CertificateKeyType {
    EcdsaP256,
    Rsa { modulus_bits: usize },
}

/// A DTLS certificate: the DER of a self-signed X.509 v3 certificate and its private key
/// (ECDSA P-256 or RSA).
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    key: CertificateKey,
    key_type: CertificateKeyType,
    not_after_unix_s: u64,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("fingerprint", &self.fingerprint().to_sdp_value())
            .field("key_type", &self.key_type)
            .field("not_after_unix_s", &self.not_after_unix_s)
            .finish_non_exhaustive()
    }
}

/// Civil date from days since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always Zulu seconds.
fn encode_time(unix_s: u64) -> Result<Vec<u8>, CryptoError> {
    let days = i64::try_from(unix_s / 86_400).map_err(|_| CryptoError::BadValidity)?;
    let secs = unix_s % 86_400;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if y > 9999 {
        return Err(CryptoError::BadValidity);
    }
    if y < 2050 {
        let s = format!("{:02}{:02}{:02}{:02}{:02}{:02}Z", y % 100, m, d, hh, mm, ss);
        Ok(der::tlv(der::TAG_UTC_TIME, &[s.as_bytes()]))
    } else {
        let s = format!("{:04}{:02}{:02}{:02}{:02}{:02}Z", y, m, d, hh, mm, ss);
        Ok(der::tlv(der::TAG_GENERALIZED_TIME, &[s.as_bytes()]))
    }
}

fn alg_ecdsa_sha256() -> Vec<u8> {
    der::tlv(der::TAG_SEQUENCE, &[&der::oid(OID_ECDSA_WITH_SHA256)])
}

fn alg_rsa_sha256() -> Vec<u8> {
    // RFC 4055 §5: the parameters of sha256WithRSAEncryption are NULL.
    der::tlv(der::TAG_SEQUENCE, &[&der::oid(OID_SHA256_WITH_RSA_ENCRYPTION), &der::tlv(der::TAG_NULL, &[])])
}

impl Certificate {
    /// A self-signed certificate, ECDSA P-256 / SHA-256, random 64-bit serial, CN "polyrtc",
    /// valid from `not_before_unix_s` to `not_after_unix_s`.
    pub fn generate(rng: &mut Rng, not_before_unix_s: u64, not_after_unix_s: u64) -> Result<Certificate, CryptoError> {
        if not_after_unix_s < not_before_unix_s {
            return Err(CryptoError::BadValidity);
        }
        let key = SigningKey::generate(rng);
        Certificate::self_signed(rng, CertificateKey::EcdsaP256(key), not_before_unix_s, not_after_unix_s)
    }

    /// A self-signed certificate with a fresh RSA key of `modulus_bits` (one of
    /// [`RSA_MODULUS_LENGTHS`], else [`CryptoError::InvalidKey`]), e = 65537, signed with
    /// sha256WithRSAEncryption. Slow (seconds for 4096 bits): hosts call it off their main
    /// thread.
    pub fn generate_rsa(
        rng: &mut Rng,
        modulus_bits: usize,
        not_before_unix_s: u64,
        not_after_unix_s: u64,
    ) -> Result<Certificate, CryptoError> {
        if !RSA_MODULUS_LENGTHS.contains(&modulus_bits) {
            return Err(CryptoError::InvalidKey);
        }
        if not_after_unix_s < not_before_unix_s {
            return Err(CryptoError::BadValidity);
        }
        let key = RsaSigningKey::generate(rng, modulus_bits)?;
        Certificate::from_rsa_key(rng, key, not_before_unix_s, not_after_unix_s)
    }

    /// A self-signed certificate for an existing RSA key (tests reuse one key to stay fast).
    pub fn from_rsa_key(
        rng: &mut Rng,
        key: RsaSigningKey,
        not_before_unix_s: u64,
        not_after_unix_s: u64,
    ) -> Result<Certificate, CryptoError> {
        if not_after_unix_s < not_before_unix_s {
            return Err(CryptoError::BadValidity);
        }
        Certificate::self_signed(rng, CertificateKey::Rsa(Box::new(key)), not_before_unix_s, not_after_unix_s)
    }

    fn self_signed(
        rng: &mut Rng,
        key: CertificateKey,
        not_before_unix_s: u64,
        not_after_unix_s: u64,
    ) -> Result<Certificate, CryptoError> {
        let mut serial = [0u8; 8];
        rng.fill(&mut serial);
        serial[0] &= 0x7f;
        serial[0] |= 0x01; // non-zero, positive
        let name = der::tlv(
            der::TAG_SEQUENCE,
            &[&der::tlv(
                der::TAG_SET,
                &[&der::tlv(
                    der::TAG_SEQUENCE,
                    &[&der::oid(OID_COMMON_NAME), &der::tlv(der::TAG_UTF8_STRING, &[b"polyrtc"])],
                )],
            )],
        );
        let validity = der::tlv(
            der::TAG_SEQUENCE,
            &[&encode_time(not_before_unix_s)?, &encode_time(not_after_unix_s)?],
        );
        let (spki, sig_alg, key_type) = match &key {
            CertificateKey::EcdsaP256(k) => {
                let mut bits = vec![0u8];
                bits.extend_from_slice(&k.public_sec1());
                let spki = der::tlv(
                    der::TAG_SEQUENCE,
                    &[
                        &der::tlv(der::TAG_SEQUENCE, &[&der::oid(OID_EC_PUBLIC_KEY), &der::oid(OID_PRIME256V1)]),
                        &der::tlv(der::TAG_BIT_STRING, &[&bits]),
                    ],
                );
                (spki, alg_ecdsa_sha256(), CertificateKeyType::EcdsaP256)
            }
            CertificateKey::Rsa(k) => {
                let mut bits = vec![0u8];
                bits.extend_from_slice(&k.public_pkcs1_der());
                // RFC 3279 §2.3.1: rsaEncryption with NULL parameters.
                let spki = der::tlv(
                    der::TAG_SEQUENCE,
                    &[
                        &der::tlv(der::TAG_SEQUENCE, &[&der::oid(OID_RSA_ENCRYPTION), &der::tlv(der::TAG_NULL, &[])]),
                        &der::tlv(der::TAG_BIT_STRING, &[&bits]),
                    ],
                );
                (spki, alg_rsa_sha256(), CertificateKeyType::Rsa { modulus_bits: k.public_key().bits() })
            }
        };
        let version = der::tlv(der::TAG_CONTEXT_0, &[&der::unsigned_integer(&[2])]);
        // RFC 5280 §4.1.2.2: the serial is a positive INTEGER.
        let serial = der::unsigned_integer(&serial);
        let tbs = der::tlv(der::TAG_SEQUENCE, &[&version, &serial, &sig_alg, &name, &validity, &name, &spki]);
        let scheme = key.signature_schemes().first().copied().ok_or(CryptoError::InvalidKey)?;
        let sig = key.sign(rng, scheme, &tbs)?;
        let mut sig_bits = vec![0u8];
        sig_bits.extend_from_slice(&sig);
        let der = der::tlv(der::TAG_SEQUENCE, &[&tbs, &sig_alg, &der::tlv(der::TAG_BIT_STRING, &[&sig_bits])]);
        Ok(Certificate { der, key, key_type, not_after_unix_s })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the DER.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint { algorithm: "sha-256".to_string(), value: super::sha256(&self.der).to_vec() }
    }

    pub fn expires_unix_ms(&self) -> u64 {
        self.not_after_unix_s.saturating_mul(1000)
    }

    /// The private key (for DTLS signatures).
    pub fn signing_key(&self) -> &CertificateKey {
        &self.key
    }

    /// ECDSA P-256 or RSA (with its modulus length).
    pub fn key_type(&self) -> CertificateKeyType {
        self.key_type
    }

    pub fn is_rsa(&self) -> bool {
        self.key.is_rsa()
    }
}

/// Extracts the EC P-256 public key (uncompressed SEC1 point) of a DER certificate.
///
/// RSA and other key types give [`CryptoError::PeerIncompatible`]; see
/// [`parse_peer_public_key`] for a reader that also accepts RSA keys.
pub fn parse_certificate_public_key(cert: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let (alg, bits) = certificate_spki(cert)?;
    match parse_spki(alg, bits, false)? {
        PeerPublicKey::EcdsaP256(point) => Ok(point),
        PeerPublicKey::Rsa(_) => Err(CryptoError::PeerIncompatible),
    }
}

/// Extracts the public key of a DER certificate: ECDSA P-256 or RSA (rsaEncryption, modulus
/// of [`RSA_MIN_MODULUS_BITS`]..=[`RSA_MAX_MODULUS_BITS`] bits). Other key types give
/// [`CryptoError::PeerIncompatible`].
pub fn parse_peer_public_key(cert: &[u8]) -> Result<PeerPublicKey, CryptoError> {
    let (alg, bits) = certificate_spki(cert)?;
    parse_spki(alg, bits, true)
}

/// The SubjectPublicKeyInfo of a certificate: (AlgorithmIdentifier contents, key bytes).
fn certificate_spki(cert: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    const BAD: CryptoError = CryptoError::BadCertificate;
    if cert.len() > MAX_CERTIFICATE_SIZE {
        return Err(BAD);
    }
    let mut top = DerReader::new(cert);
    let mut certificate = DerReader::new(top.read(der::TAG_SEQUENCE).ok_or(BAD)?);
    if !top.is_empty() {
        return Err(BAD);
    }
    let mut tbs = DerReader::new(certificate.read(der::TAG_SEQUENCE).ok_or(BAD)?);
    if tbs.peek_tag() == Some(der::TAG_CONTEXT_0) {
        tbs.read_any().ok_or(BAD)?; // version
    }
    tbs.read(der::TAG_INTEGER).ok_or(BAD)?; // serialNumber
    tbs.read(der::TAG_SEQUENCE).ok_or(BAD)?; // signature
    tbs.read(der::TAG_SEQUENCE).ok_or(BAD)?; // issuer
    tbs.read(der::TAG_SEQUENCE).ok_or(BAD)?; // validity
    tbs.read(der::TAG_SEQUENCE).ok_or(BAD)?; // subject
    let mut spki = DerReader::new(tbs.read(der::TAG_SEQUENCE).ok_or(BAD)?);
    let alg = spki.read(der::TAG_SEQUENCE).ok_or(BAD)?;
    let bits = spki.read(der::TAG_BIT_STRING).ok_or(BAD)?;
    Ok((alg, bits))
}

fn parse_spki(alg: &[u8], bits: &[u8], allow_rsa: bool) -> Result<PeerPublicKey, CryptoError> {
    const BAD: CryptoError = CryptoError::BadCertificate;
    let mut alg = DerReader::new(alg);
    let (_, _, alg_oid) = alg.read_any().ok_or(BAD)?;
    let key = match bits.split_first() {
        Some((0, rest)) => rest,
        _ => return Err(BAD),
    };
    if alg_oid == der::oid(OID_RSA_ENCRYPTION).as_slice() {
        if !allow_rsa {
            return Err(CryptoError::PeerIncompatible);
        }
        // RFC 3279 §2.3.1: the parameters are NULL (tolerate them absent).
        match alg.read_any() {
            None if alg.is_empty() => {}
            Some((der::TAG_NULL, [], _)) if alg.is_empty() => {}
            _ => return Err(BAD),
        }
        return Ok(PeerPublicKey::Rsa(Box::new(RsaKey::from_pkcs1_der(key)?)));
    }
    if alg_oid != der::oid(OID_EC_PUBLIC_KEY).as_slice() {
        return Err(CryptoError::PeerIncompatible);
    }
    let (_, _, curve) = alg.read_any().ok_or(BAD)?;
    if curve != der::oid(OID_PRIME256V1).as_slice() {
        return Err(CryptoError::PeerIncompatible);
    }
    // Validate the point now so later verification errors are about signatures.
    p256::PublicKey::from_sec1_bytes(key).map_err(|_| BAD)?;
    Ok(PeerPublicKey::EcdsaP256(key.to_vec()))
}

/// Fingerprint hash functions weaker than SHA-256, refused in remote descriptions and never
/// matched (RFC 8122 §5 requires the strongest hash the certificate's signature uses; every
/// WebRTC stack signals sha-256). Lower-case names as SDP carries them.
pub const WEAK_FINGERPRINT_ALGORITHMS: &[&str] = &["md2", "md5", "sha-1", "sha-224"];

/// A certificate fingerprint as carried in SDP `a=fingerprint` (RFC 8122 §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// Hash function name, lower-case ("sha-256").
    pub algorithm: String,
    pub value: Vec<u8>,
}

impl Fingerprint {
    /// The fingerprint of `der` with `algorithm` (sha-1, sha-256, sha-384, sha-512; any case).
    pub fn of_der(algorithm: &str, der: &[u8]) -> Option<Fingerprint> {
        let algorithm = algorithm.to_ascii_lowercase();
        let value = match algorithm.as_str() {
            "sha-1" => super::sha1(der).to_vec(),
            "sha-256" => super::sha256(der).to_vec(),
            "sha-384" => super::sha384(der).to_vec(),
            "sha-512" => super::sha512(der).to_vec(),
            _ => return None,
        };
        Some(Fingerprint { algorithm, value })
    }

    /// Parses `"sha-256 AB:CD:..."` (algorithm and hex are case-insensitive).
    pub fn parse_sdp(s: &str) -> Result<Fingerprint, CryptoError> {
        let mut parts = s.split_ascii_whitespace();
        let algorithm = parts.next().ok_or(CryptoError::BadFingerprint)?.to_ascii_lowercase();
        let hex = parts.next().ok_or(CryptoError::BadFingerprint)?;
        if parts.next().is_some() {
            return Err(CryptoError::BadFingerprint);
        }
        let expected = match algorithm.as_str() {
            "sha-1" => 20,
            "sha-224" => 28,
            "sha-256" => 32,
            "sha-384" => 48,
            "sha-512" => 64,
            _ => return Err(CryptoError::BadFingerprint),
        };
        let mut value = Vec::with_capacity(expected);
        for byte in hex.split(':') {
            let b = byte.as_bytes();
            if b.len() != 2 {
                return Err(CryptoError::BadFingerprint);
            }
            let v = u8::from_str_radix(byte, 16).map_err(|_| CryptoError::BadFingerprint)?;
            value.push(v);
            if value.len() > expected {
                return Err(CryptoError::BadFingerprint);
            }
        }
        if value.len() != expected {
            return Err(CryptoError::BadFingerprint);
        }
        Ok(Fingerprint { algorithm, value })
    }

    /// `"sha-256 AB:CD:..."`, upper-case hex.
    pub fn to_sdp_value(&self) -> String {
        let mut s = String::with_capacity(self.algorithm.len() + 1 + self.value.len() * 3);
        s.push_str(&self.algorithm);
        s.push(' ');
        for (i, b) in self.value.iter().enumerate() {
            if i > 0 {
                s.push(':');
            }
            s.push_str(&format!("{:02X}", b));
        }
        s
    }

    /// Whether `algorithm` (any case) is one of [`WEAK_FINGERPRINT_ALGORITHMS`].
    pub fn is_weak_algorithm(algorithm: &str) -> bool {
        WEAK_FINGERPRINT_ALGORITHMS.iter().any(|w| w.eq_ignore_ascii_case(algorithm))
    }

    /// Whether `der` hashes to this fingerprint (unknown and weak algorithms never match: a
    /// SHA-1 collision must not authenticate a certificate).
    pub fn matches(&self, der: &[u8]) -> bool {
        if Fingerprint::is_weak_algorithm(&self.algorithm) {
            return false;
        }
        match Fingerprint::of_der(&self.algorithm, der) {
            Some(f) => super::ct_eq(&f.value, &self.value),
            None => false,
        }
    }
}

#[cfg(test)]
pub(super) fn civil_for_tests(days: i64) -> (i64, u32, u32) {
    civil_from_days(days)
}
