//! Certificates as the addon exposes them (`NativeCertificate`): the core's
//! `Certificate` plus its W3C view (fingerprints, expiry).

use std::sync::Arc;

use polyrtc::crypto::{Certificate, Rng};
use polyrtc::peer::{ErrorKind, PeerError};

use crate::clock;

/// Validity of a generated certificate (the W3C default for `generateCertificate`).
pub const CERT_VALIDITY_MS: u64 = 30 * 24 * 3600 * 1000;

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

/// `RTCPeerConnection.generateCertificate()` (ECDSA P-256).
pub fn generate() -> Result<CertInfo, PeerError> {
    let unix = clock::unix_time_ms();
    let mut rng = Rng::from_entropy().map_err(|e| PeerError::new(ErrorKind::Operation, format!("no entropy: {e}")))?;
    let not_before = (unix / 1000).saturating_sub(24 * 3600);
    let not_after = (unix.saturating_add(CERT_VALIDITY_MS)) / 1000;
    let cert = Certificate::generate(&mut rng, not_before, not_after)
        .map_err(|e| PeerError::new(ErrorKind::Operation, format!("certificate generation failed: {e:?}")))?;
    let expires = cert.expires_unix_ms();
    Ok(CertInfo::new(Arc::new(cert), expires))
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
}
