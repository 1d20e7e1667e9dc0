use core::fmt;

/// Errors of the data channel wire layer. The caller drops the message and counts it
/// ([`DcepError::is_bad_bytes`]), or reports an API misuse.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DcepError {
    // -- bad bytes from the peer --
    /// The message ended before a field or a declared length was complete.
    Truncated,
    /// Bytes remain after a complete message.
    TrailingBytes,
    /// RFC 8832 §8.2.1: a message type this implementation does not know.
    UnknownMessageType(u8),
    /// RFC 8832 §8.2.2: a channel type this implementation does not know.
    UnknownChannelType(u8),
    /// The label or protocol of a `DATA_CHANNEL_OPEN` is not UTF-8 (RFC 8832 §5.1).
    InvalidUtf8,
    /// An SCTP user message with a PPID that is not a data channel PPID.
    UnknownPpid(u32),
    /// The PPID is DCEP (50): the message is a control message, not user data.
    NotUserMessage,
    // -- API misuse --
    /// Both `maxRetransmits` and `maxPacketLifeTime` were given (W3C: TypeError).
    ConflictingReliability,
    /// A label longer than [`super::MAX_LABEL_LEN`] bytes.
    LabelTooLong,
    /// A protocol longer than [`super::MAX_PROTOCOL_LEN`] bytes.
    ProtocolTooLong,
}

impl DcepError {
    /// True when the error is caused by the peer's bytes (drop and count), false when it is
    /// a local API misuse.
    pub fn is_bad_bytes(self) -> bool {
        !matches!(
            self,
            DcepError::ConflictingReliability | DcepError::LabelTooLong | DcepError::ProtocolTooLong
        )
    }
}

impl fmt::Display for DcepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DcepError::Truncated => f.write_str("truncated DCEP message"),
            DcepError::TrailingBytes => f.write_str("trailing bytes after DCEP message"),
            DcepError::UnknownMessageType(t) => write!(f, "unknown DCEP message type {t:#04x}"),
            DcepError::UnknownChannelType(t) => write!(f, "unknown DCEP channel type {t:#04x}"),
            DcepError::InvalidUtf8 => f.write_str("DCEP label or protocol is not UTF-8"),
            DcepError::UnknownPpid(p) => write!(f, "unknown data channel PPID {p}"),
            DcepError::NotUserMessage => f.write_str("DCEP control message, not user data"),
            DcepError::ConflictingReliability => {
                f.write_str("maxRetransmits and maxPacketLifeTime are mutually exclusive")
            }
            DcepError::LabelTooLong => f.write_str("label longer than 65535 bytes"),
            DcepError::ProtocolTooLong => f.write_str("protocol longer than 65535 bytes"),
        }
    }
}

impl std::error::Error for DcepError {}
