//! Certificates as the addon exposes them (`NativeCertificate`): the core's
//! `Certificate` plus its W3C view (fingerprints, expiry).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use polyrtc::crypto::{Certificate, CryptoError, Rng, RSA_MODULUS_LENGTHS};
use polyrtc::peer::{ErrorKind, PeerError};

use crate::clock;
use crate::host::lock;

/// Validity of a generated certificate (the W3C default for `generateCertificate`).
pub const CERT_VALIDITY_MS: u64 = 30 * 24 * 3600 * 1000;
/// Longest validity `generateCertificate` gives (webrtc-pc caps `expires` at 365 days).
pub const MAX_CERT_VALIDITY_MS: u64 = 365 * 24 * 3600 * 1000;
/// How far back `notBefore` is set, for peers whose clock is behind ours.
pub const NOT_BEFORE_SLACK_S: u64 = 24 * 3600;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub algorithm: String,
    pub value: String,
}

pub struct CertInfo {
    pub cert: Arc<Certificate>,
    pub expires_ms: u64,
}

impl CertInfo {
    pub fn new(cert: Arc<Certificate>, expires_ms: u64) -> CertInfo {
        CertInfo { cert, expires_ms }
    }

    /// The certificate's fingerprints (`RTCCertificate.getFingerprints()`).
    pub fn fingerprints(&self) -> Result<Vec<Fingerprint>, PeerError> {
        let sdp = self.cert.fingerprint().to_sdp_value();
        let (algorithm, value) = sdp
            .split_once(' ')
            .ok_or_else(|| PeerError::new(ErrorKind::Operation, "malformed fingerprint"))?;
        Ok(vec![Fingerprint { algorithm: algorithm.to_string(), value: value.to_string() }])
    }
}

/// A default certificate (ECDSA P-256, valid for [`CERT_VALIDITY_MS`]).
pub fn generate() -> Result<CertInfo, PeerError> {
    generate_valid_for(CERT_VALIDITY_MS)
}

/// `RTCPeerConnection.generateCertificate()` (ECDSA P-256): a certificate valid from a day
/// ago until `validity_ms` from now (capped at [`MAX_CERT_VALIDITY_MS`]), in whole seconds
/// and never later than asked. `expires` is the DER's notAfter.
pub fn generate_valid_for(validity_ms: u64) -> Result<CertInfo, PeerError> {
    generate_with(validity_ms, Certificate::generate)
}

/// `generateCertificate({ name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: 65537,
/// hash: 'SHA-256' })`: an RSA key of `modulus_bits` (one of `RSA_MODULUS_LENGTHS`, else
/// `NotSupportedError`), otherwise as [`generate_valid_for`]. Takes from tens of milliseconds
/// to seconds: the addon runs it on a worker thread.
pub fn generate_rsa_valid_for(modulus_bits: usize, validity_ms: u64) -> Result<CertInfo, PeerError> {
    if !RSA_MODULUS_LENGTHS.contains(&modulus_bits) {
        return Err(PeerError::new(
            ErrorKind::NotSupported,
            format!("RSA modulusLength {modulus_bits} is not supported (supported: {RSA_MODULUS_LENGTHS:?})"),
        ));
    }
    generate_with(validity_ms, |rng, not_before, not_after| {
        Certificate::generate_rsa(rng, modulus_bits, not_before, not_after)
    })
}

fn generate_with(
    validity_ms: u64,
    make: impl FnOnce(&mut Rng, u64, u64) -> Result<Certificate, CryptoError>,
) -> Result<CertInfo, PeerError> {
    let unix = clock::unix_time_ms();
    let mut rng = Rng::from_entropy().map_err(|e| PeerError::new(ErrorKind::Operation, format!("no entropy: {e}")))?;
    let (not_before, not_after) = validity_window(unix, validity_ms);
    let cert = make(&mut rng, not_before, not_after)
        .map_err(|e| PeerError::new(ErrorKind::Operation, format!("certificate generation failed: {e:?}")))?;
    let expires = cert.expires_unix_ms();
    Ok(CertInfo::new(Arc::new(cert), expires))
}

/// (notBefore, notAfter) in Unix seconds for a certificate made at `now_ms` that must be
/// valid for at most `validity_ms`.
fn validity_window(now_ms: u64, validity_ms: u64) -> (u64, u64) {
    let not_after = now_ms.saturating_add(validity_ms.min(MAX_CERT_VALIDITY_MS)) / 1000;
    let not_before = (now_ms / 1000).saturating_sub(NOT_BEFORE_SLACK_S);
    (not_before, not_after)
}

/// Certificates generated ahead of use, on a background thread (`polyrtc-certs`), for peers
/// created without one. Each peer still gets a certificate of its own (never shared); it
/// just does not pay the ECDSA key generation and self-signature (~0.4 ms) in
/// `new RTCPeerConnection`.
pub const SPARE_CERTIFICATES: usize = 2;
/// A spare older than this is discarded rather than used.
pub const SPARE_MAX_AGE_MS: u64 = 3600 * 1000;

struct Spares {
    /// (generated at, unix ms; certificate)
    ready: Vec<(u64, CertInfo)>,
    /// The generator thread was started (it then lives with the process, asleep when full).
    started: bool,
}

static SPARES: Mutex<Spares> = Mutex::new(Spares { ready: Vec::new(), started: false });
static WANTED: Condvar = Condvar::new();

/// A fresh certificate for a new peer: a ready spare if there is one, else generated now.
/// Either way the spares are refilled in the background.
pub fn for_new_peer() -> Result<CertInfo, PeerError> {
    let now = clock::unix_time_ms();
    let taken = {
        let mut g = lock(&SPARES);
        g.ready.retain(|(made, _)| now.saturating_sub(*made) < SPARE_MAX_AGE_MS);
        let taken = g.ready.pop();
        if !g.started {
            g.started = thread::Builder::new().name("polyrtc-certs".into()).spawn(generator).is_ok();
        }
        taken
    };
    WANTED.notify_one();
    match taken {
        Some((_, c)) => Ok(c),
        None => generate(),
    }
}

/// The generator thread: keeps [`SPARE_CERTIFICATES`] ready, sleeps otherwise.
fn generator() {
    let r = catch_unwind(AssertUnwindSafe(|| loop {
        {
            let mut g = lock(&SPARES);
            while g.ready.len() >= SPARE_CERTIFICATES {
                g = WANTED.wait(g).unwrap_or_else(|p| p.into_inner());
            }
        }
        let Ok(c) = generate() else { return };
        lock(&SPARES).ready.push((clock::unix_time_ms(), c));
    }));
    // Gone (entropy failure or a panic): peers generate their own, as without spares.
    let _ = r;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_has_a_sha256_fingerprint_and_future_expiry() {
        let info = generate().expect("generate");
        let f = info.fingerprints().expect("fingerprints");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].algorithm, "sha-256");
        assert_eq!(f[0].value.split(':').count(), 32);
        assert!(info.expires_ms > clock::unix_time_ms());
    }

    #[test]
    fn generated_certificate_is_valid_for_what_was_asked_in_whole_seconds() {
        let before = clock::unix_time_ms();
        let info = generate_valid_for(7_200_500).expect("generate");
        let after = clock::unix_time_ms();
        assert_eq!(info.expires_ms % 1000, 0);
        // Never later than asked, and at most a second (plus the time taken) earlier.
        assert!(info.expires_ms <= after + 7_200_500, "{} > {}", info.expires_ms, after + 7_200_500);
        assert!(info.expires_ms + 1000 > before + 7_200_500, "{} too early", info.expires_ms);
        assert_eq!(info.cert.expires_unix_ms(), info.expires_ms);
    }

    #[test]
    fn validity_is_capped_at_a_year_and_starts_a_day_back() {
        let now = 1_700_000_000_123;
        assert_eq!(validity_window(now, u64::MAX), (1_700_000_000 - 86_400, (now + MAX_CERT_VALIDITY_MS) / 1000));
        assert_eq!(validity_window(now, 0), (1_700_000_000 - 86_400, 1_700_000_000));
        assert_eq!(validity_window(now, 1_877), (1_700_000_000 - 86_400, 1_700_000_002));
    }

    #[test]
    fn peers_get_distinct_certificates_from_the_spares() {
        let mut seen = Vec::new();
        for i in 0..6 {
            let c = for_new_peer().expect("certificate");
            let fp = c.fingerprints().expect("fingerprints")[0].value.clone();
            assert!(!seen.contains(&fp), "certificate {i} reused");
            seen.push(fp);
            if i == 2 {
                // Let the background thread refill.
                for _ in 0..200 {
                    if lock(&SPARES).ready.len() >= SPARE_CERTIFICATES {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                assert_eq!(lock(&SPARES).ready.len(), SPARE_CERTIFICATES);
            }
        }
    }
}
