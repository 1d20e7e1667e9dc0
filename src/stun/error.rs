//! Errors of the STUN layer.

/// Why a STUN message was rejected or could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StunError {
    // Bad bytes.
    /// Shorter than the header or than a length field says.
    Truncated,
    /// The top two bits of the first byte are not zero (RFC 8489 §5).
    NotStun,
    /// The magic cookie is not 0x2112A442.
    BadMagicCookie,
    /// The header length is not a multiple of 4 or disagrees with the datagram size.
    BadLength,
    /// More than [`MAX_MESSAGE_LEN`](super::MAX_MESSAGE_LEN) bytes.
    TooLarge,
    /// More than [`MAX_ATTRIBUTES`](super::MAX_ATTRIBUTES) attributes.
    TooManyAttributes,
    /// An attribute value has the wrong size or content for its type.
    BadAttribute(u16),
    /// An address family other than IPv4 (1) or IPv6 (2).
    BadAddressFamily,
    /// FINGERPRINT is present and does not match, or is not the last attribute.
    BadFingerprint,
    /// FINGERPRINT is required but absent.
    MissingFingerprint,
    // Authentication.
    /// No MESSAGE-INTEGRITY where one was required.
    MissingIntegrity,
    /// MESSAGE-INTEGRITY does not match the key.
    BadIntegrity,
    // API misuse.
    /// The message to encode would exceed the STUN size limits.
    EncodeTooLarge,
}

impl core::fmt::Display for StunError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for StunError {}
