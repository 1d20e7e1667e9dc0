//! Errors of the RTP / RTCP wire layer: bad bytes from the peer, and values the caller asked
//! us to write that the format cannot carry.

use core::fmt;

/// An RTP or RTCP packet could not be parsed, or a value cannot be serialized. A parse error
/// means the packet is dropped and counted; it is never a panic.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RtpError {
    /// Fewer bytes than a header or a length field announced.
    Truncated,
    /// The version field is not 2 (RFC 3550 §5.1, §6.4.1).
    BadVersion,
    /// The padding count is zero or longer than the packet (RFC 3550 §5.1).
    BadPadding,
    /// A length field is below its minimum or does not match the data it covers.
    BadLength,
    /// A header extension element is malformed (RFC 8285 §4): its length runs past the
    /// extension block.
    BadExtension,
    /// More items than the named bound allows (extensions, report blocks, SDES items, NACK
    /// items, TWCC statuses, packets in a compound).
    TooMany,
    /// A field holds a value the format forbids (a reserved TWCC status symbol, a zero
    /// extension id, a payload type above 127, a value too large for its field).
    InvalidValue,
    /// Bytes left over after a structure that must fill its container.
    TrailingBytes,
}

impl fmt::Display for RtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for RtpError {}
