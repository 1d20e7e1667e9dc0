use core::fmt;

use crate::crypto::CryptoError;

/// TLS alert descriptions (RFC 5246 §7.2), as a newtype so unknown values round-trip.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct AlertDescription(pub u8);

impl AlertDescription {
    pub const CLOSE_NOTIFY: AlertDescription = AlertDescription(0);
    pub const UNEXPECTED_MESSAGE: AlertDescription = AlertDescription(10);
    pub const BAD_RECORD_MAC: AlertDescription = AlertDescription(20);
    pub const HANDSHAKE_FAILURE: AlertDescription = AlertDescription(40);
    pub const BAD_CERTIFICATE: AlertDescription = AlertDescription(42);
    pub const UNSUPPORTED_CERTIFICATE: AlertDescription = AlertDescription(43);
    pub const ILLEGAL_PARAMETER: AlertDescription = AlertDescription(47);
    pub const DECODE_ERROR: AlertDescription = AlertDescription(50);
    pub const DECRYPT_ERROR: AlertDescription = AlertDescription(51);
    pub const PROTOCOL_VERSION: AlertDescription = AlertDescription(70);
    pub const INTERNAL_ERROR: AlertDescription = AlertDescription(80);
    pub const USER_CANCELED: AlertDescription = AlertDescription(90);
}

/// Errors of the DTLS layer, split as bad bytes / peer misbehaved / peer incompatible /
/// API misuse. [`DtlsError::alert`] maps each to the fatal alert we send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DtlsError {
    // --- bad bytes
    /// A message could not be decoded (truncated, trailing bytes, length over a bound).
    Decode,
    // --- peer misbehaved
    /// A message arrived in a state that does not expect it.
    UnexpectedMessage,
    /// A parameter the peer chose is not one we offered (suite, group, profile...).
    IllegalParameter,
    /// A signature (ServerKeyExchange / CertificateVerify) did not verify.
    BadSignature,
    /// Finished verify_data did not match.
    BadFinished,
    /// The peer's certificate could not be parsed.
    BadCertificate,
    /// The peer sent no certificate.
    NoCertificate,
    /// The peer's certificate hash matches none of the fingerprints from SDP.
    FingerprintMismatch,
    /// The peer sent a fatal alert.
    PeerAlert(AlertDescription),
    // --- peer incompatible
    /// No common cipher suite / group / signature scheme, or no extended master secret.
    HandshakeFailure,
    /// The peer's certificate key is unsupported (not ECDSA P-256 or RSA 1024..=8192 bits),
    /// or does not fit the negotiated cipher suite or signature scheme.
    PeerIncompatible,
    /// The peer does not speak DTLS 1.2.
    ProtocolVersion,
    // --- local
    /// The handshake did not complete within `DtlsConfig::handshake_timeout`.
    HandshakeTimeout,
    /// A crypto operation failed unexpectedly.
    Crypto(CryptoError),
    // --- API misuse
    /// `send` before the handshake completed, or after close/failure.
    NotConnected,
    /// `send` with more than [`super::MAX_APPLICATION_DATA`] bytes.
    MessageTooLarge,
    /// `export_keying_material` with a reserved label or an absurd length.
    InvalidExport,
}

impl DtlsError {
    /// The fatal alert we send for this error (`None`: send nothing).
    pub fn alert(&self) -> Option<AlertDescription> {
        Some(match self {
            DtlsError::Decode => AlertDescription::DECODE_ERROR,
            DtlsError::UnexpectedMessage => AlertDescription::UNEXPECTED_MESSAGE,
            DtlsError::IllegalParameter => AlertDescription::ILLEGAL_PARAMETER,
            DtlsError::BadSignature | DtlsError::BadFinished => AlertDescription::DECRYPT_ERROR,
            DtlsError::BadCertificate | DtlsError::NoCertificate | DtlsError::FingerprintMismatch => {
                AlertDescription::BAD_CERTIFICATE
            }
            DtlsError::PeerIncompatible => AlertDescription::UNSUPPORTED_CERTIFICATE,
            DtlsError::HandshakeFailure => AlertDescription::HANDSHAKE_FAILURE,
            DtlsError::ProtocolVersion => AlertDescription::PROTOCOL_VERSION,
            DtlsError::Crypto(_) => AlertDescription::INTERNAL_ERROR,
            DtlsError::PeerAlert(_)
            | DtlsError::HandshakeTimeout
            | DtlsError::NotConnected
            | DtlsError::MessageTooLarge
            | DtlsError::InvalidExport => return None,
        })
    }
}

impl From<CryptoError> for DtlsError {
    fn from(e: CryptoError) -> DtlsError {
        match e {
            CryptoError::BadSignature => DtlsError::BadSignature,
            CryptoError::BadCertificate => DtlsError::BadCertificate,
            CryptoError::PeerIncompatible => DtlsError::PeerIncompatible,
            CryptoError::InvalidKey | CryptoError::WeakSharedSecret => DtlsError::IllegalParameter,
            other => DtlsError::Crypto(other),
        }
    }
}

impl fmt::Display for DtlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for DtlsError {}
