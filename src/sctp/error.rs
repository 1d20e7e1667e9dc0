//! Errors of the SCTP layer: bad bytes on the wire and API misuse.

use core::fmt;

/// A packet or chunk could not be decoded. The packet is dropped and counted.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes than a header or a length field announced.
    Truncated,
    /// A length field is below its minimum or above its maximum.
    BadLength,
    /// The CRC-32C does not match.
    BadChecksum,
    /// A field holds a value the RFC forbids (e.g. an INIT with a zero Initiate Tag).
    InvalidValue,
    /// Bytes left over after a structure that must fill its container.
    TrailingBytes,
}

/// Errors returned to the caller of [`Association`](super::Association).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SctpError {
    Wire(WireError),
    /// `send` before the association is established.
    NotConnected,
    /// The association is shutting down, closed or aborted.
    Closed,
    /// The message is larger than the remote's max-message-size.
    MessageTooLarge,
    /// SCTP carries no zero-length user messages.
    EmptyMessage,
    /// The stream id is beyond the negotiated number of outbound streams.
    InvalidStream,
    /// An outgoing reset of this stream is in progress.
    StreamResetting,
    /// Queuing the message would take the send buffer past
    /// [`MAX_SEND_BUFFER`](super::MAX_SEND_BUFFER); nothing was queued.
    SendBufferFull,
}

impl From<WireError> for SctpError {
    fn from(e: WireError) -> Self {
        SctpError::Wire(e)
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl fmt::Display for SctpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for WireError {}
impl std::error::Error for SctpError {}
