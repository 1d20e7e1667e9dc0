//! Certificates as the addon exposes them (`NativeCertificate`).
//!
//! The core's `Certificate` does not expose its fingerprint or expiry yet (placeholder in
//! `src/crypto/mod.rs`). Until it does, this module learns them through the `Peer` API
//! contract only: a throwaway peer using the certificate creates an offer and the
//! `a=fingerprint` lines are read back. Expiry is the generation time plus
//! [`CERT_VALIDITY_MS`]. When the core gains `Certificate::fingerprint*()` /
//! `expires()`, only this file changes.

use std::sync::{Arc, OnceLock};

use polyrtc::crypto::{Certificate, Rng};
use polyrtc::peer::{DataChannelInit, ErrorKind, Peer, PeerConfig, PeerError};

use crate::clock;

/// Assumed validity of a generated certificate (the W3C default for `generateCertificate`).
pub const CERT_VALIDITY_MS: u64 = 30 * 24 * 3600 * 1000;
/// At most this many fingerprints are read from an SDP.
pub const MAX_FINGERPRINTS: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub algorithm: String,
    pub value: String,
}

pub struct CertInfo {
    pub cert: Arc<Certificate>,
    pub expires_ms: u64,
    fingerprints: OnceLock<Vec<Fingerprint>>,
}

impl CertInfo {
    pub fn new(cert: Arc<Certificate>, expires_ms: u64) -> CertInfo {
        CertInfo { cert, expires_ms, fingerprints: OnceLock::new() }
    }

    /// The certificate's fingerprints (computed once).
    pub fn fingerprints(&self) -> Result<Vec<Fingerprint>, PeerError> {
        if let Some(f) = self.fingerprints.get() {
            return Ok(f.clone());
        }
        let f = fingerprints_of(&self.cert)?;
        Ok(self.fingerprints.get_or_init(|| f).clone())
    }
}

fn rng() -> Result<Rng, PeerError> {
    Rng::from_entropy().map_err(|e| PeerError::new(ErrorKind::Operation, format!("no entropy: {e}")))
}

/// `RTCPeerConnection.generateCertificate()` (ECDSA P-256, as the core generates).
pub fn generate() -> Result<CertInfo, PeerError> {
    let unix = clock::unix_time_ms();
    let config = PeerConfig { unix_time_ms: unix, ..PeerConfig::default() };
    let peer = Peer::new(config, rng()?)?;
    let cert = peer.certificate().clone();
    Ok(CertInfo::new(cert, unix.saturating_add(CERT_VALIDITY_MS)))
}

fn fingerprints_of(cert: &Arc<Certificate>) -> Result<Vec<Fingerprint>, PeerError> {
    let config = PeerConfig {
        certificate: Some(cert.clone()),
        unix_time_ms: clock::unix_time_ms(),
        ..PeerConfig::default()
    };
    let mut peer = Peer::new(config, rng()?)?;
    // A data channel makes the offer carry an m=application section (and its fingerprint).
    peer.create_data_channel(clock::now(), DataChannelInit::default())?;
    let offer = peer.create_offer()?;
    peer.close(clock::now());
    let f = parse_fingerprints(&offer);
    if f.is_empty() {
        return Err(PeerError::new(ErrorKind::Operation, "offer carries no a=fingerprint"));
    }
    Ok(f)
}

/// Reads the distinct `a=fingerprint:<algorithm> <value>` lines of an SDP.
pub fn parse_fingerprints(sdp: &str) -> Vec<Fingerprint> {
    let mut out: Vec<Fingerprint> = Vec::new();
    for line in sdp.lines() {
        let Some(rest) = line.trim_end_matches('\r').strip_prefix("a=fingerprint:") else { continue };
        let mut parts = rest.split_whitespace();
        let (Some(alg), Some(value), None) = (parts.next(), parts.next(), parts.next()) else { continue };
        let fp = Fingerprint { algorithm: alg.to_ascii_lowercase(), value: value.to_ascii_uppercase() };
        if !out.contains(&fp) && out.len() < MAX_FINGERPRINTS {
            out.push(fp);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_dedupes_fingerprints() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:SHA-256 ab:CD:01\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:sha-256 AB:CD:01\r\na=fingerprint:sha-1 00:11\r\na=fingerprint:broken\r\n";
        let f = parse_fingerprints(sdp);
        assert_eq!(
            f,
            vec![
                Fingerprint { algorithm: "sha-256".into(), value: "AB:CD:01".into() },
                Fingerprint { algorithm: "sha-1".into(), value: "00:11".into() },
            ]
        );
        assert!(parse_fingerprints("").is_empty());
        assert!(parse_fingerprints("a=fingerprint:\n").is_empty());
    }
}
