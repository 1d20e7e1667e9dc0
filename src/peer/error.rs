use core::fmt;

/// Which `DOMException` (or JS error) an API failure maps to. The JS layer turns
/// `ErrorKind::as_str()` into the exception's `name`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidState,
    InvalidAccess,
    InvalidModification,
    Syntax,
    Operation,
    NotSupported,
    Type,
    Range,
    /// An `RTCError` with `errorDetail` `data-channel-failure` / `sctp-failure` etc.
    DataChannelFailure,
    /// An `RTCError` with `errorDetail` `sctp-failure`: the SCTP association under a data
    /// channel went away abruptly (an ABORT from the peer, W3C webrtc-pc §6.2 "announcing a
    /// data channel as closed" with an error).
    SctpFailure,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidState => "InvalidStateError",
            ErrorKind::InvalidAccess => "InvalidAccessError",
            ErrorKind::InvalidModification => "InvalidModificationError",
            ErrorKind::Syntax => "SyntaxError",
            ErrorKind::Operation => "OperationError",
            ErrorKind::NotSupported => "NotSupportedError",
            ErrorKind::Type => "TypeError",
            ErrorKind::Range => "RangeError",
            ErrorKind::DataChannelFailure => "OperationError",
            ErrorKind::SctpFailure => "OperationError",
        }
    }

    /// The `RTCError.errorDetail` of the kinds that are `RTCError`s.
    pub fn error_detail(self) -> Option<&'static str> {
        match self {
            ErrorKind::DataChannelFailure => Some("data-channel-failure"),
            ErrorKind::SctpFailure => Some("sctp-failure"),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerError {
    pub kind: ErrorKind,
    pub message: String,
}

impl PeerError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> PeerError {
        PeerError { kind, message: message.into() }
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for PeerError {}
