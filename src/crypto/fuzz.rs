//! Fuzzing entry point (`fuzz/fuzz_targets/x509_certificate.rs`, `tests/fuzz_corpus.rs`).

use super::{ecdsa_p256_verify, parse_certificate_public_key, parse_peer_public_key, signature_scheme, CryptoError, Fingerprint};

/// Parses `data` as a DER certificate. A key that parses is a valid P-256 point, so a
/// verification with a junk signature must fail on the signature, never on the key. The
/// same bytes, read as text, go through the SDP fingerprint parser, whose output must
/// round-trip through `to_sdp_value`.
#[doc(hidden)]
pub fn fuzz_certificate(data: &[u8]) {
    if let Ok(point) = parse_certificate_public_key(data) {
        assert_eq!(ecdsa_p256_verify(&point, b"msg", &[0x30, 0]), Err(CryptoError::BadSignature));
        assert!(Fingerprint::of_der("sha-256", data).is_some_and(|f| f.matches(data)));
    }
    // The general reader (RSA too): a parsed key never verifies a junk signature.
    if let Ok(key) = parse_peer_public_key(data) {
        for scheme in signature_scheme::VERIFIABLE {
            assert!(key.verify(scheme, b"msg", &[0x30, 0]).is_err());
        }
    }
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(f) = Fingerprint::parse_sdp(text) {
            assert_eq!(Fingerprint::parse_sdp(&f.to_sdp_value()).as_ref(), Ok(&f));
        }
    }
}
