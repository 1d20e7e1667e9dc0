//! Data channels (RFC 8831) and the Data Channel Establishment Protocol, DCEP (RFC 8832).
//!
//! This folder is the wire layer only: SCTP payload protocol identifiers (PPIDs), the DCEP
//! `DATA_CHANNEL_OPEN` / `DATA_CHANNEL_ACK` codec, the mapping between the DCEP channel type
//! and the W3C `RTCDataChannelInit` reliability settings, stream id parity and allocation,
//! and the framing of user messages (empty messages included). The channel state machine
//! lives in `peer/`, which feeds SCTP user messages here and gets plain values back.
//!
//! Nothing here panics on peer bytes: every decoder returns a [`DcepError`].

mod error;
#[doc(hidden)]
pub mod fuzz;
mod ids;
mod payload;
mod wire;

#[cfg(test)]
mod tests;

pub use error::DcepError;
pub use ids::{stream_id_is_ours, StreamIdAllocator, MAX_CHANNELS, MAX_STREAM_ID};
pub use payload::{decode_payload, encode_payload, ppid_for, EMPTY_PAYLOAD};
pub use wire::{
    ChannelType, DataChannelOpen, DcepMessage, Reliability, MAX_LABEL_LEN, MAX_PROTOCOL_LEN,
    MESSAGE_TYPE_ACK, MESSAGE_TYPE_OPEN, OPEN_HEADER_LEN, PRIORITY_BELOW_NORMAL, PRIORITY_EXTRA_HIGH,
    PRIORITY_HIGH, PRIORITY_NORMAL,
};

/// Default largest message we accept (advertised as `a=max-message-size`).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 256 * 1024;

/// SCTP payload protocol identifiers used by WebRTC (RFC 8831 §8, IANA "SCTP Payload
/// Protocol Identifiers").
pub mod ppid {
    /// RFC 8832 §8.1: DCEP messages (`DATA_CHANNEL_OPEN`, `DATA_CHANNEL_ACK`).
    pub const DCEP: u32 = 50;
    /// RFC 8831 §6.6: a UTF-8 string message.
    pub const STRING: u32 = 51;
    /// Deprecated "WebRTC String Partial" (RFC 8831 §8: MUST NOT be sent). Recognised on
    /// receipt and treated as a complete [`STRING`] message: SCTP already reassembles user
    /// messages, so no peer we interoperate with relies on fragment joining above SCTP.
    pub const STRING_PARTIAL: u32 = 52;
    /// RFC 8831 §6.6: a binary message.
    pub const BINARY: u32 = 53;
    /// Deprecated "WebRTC Binary Partial", treated like [`STRING_PARTIAL`]: as a complete
    /// [`BINARY`] message.
    pub const BINARY_PARTIAL: u32 = 54;
    /// RFC 8831 §6.6: an empty string, carried as a single ignored byte.
    pub const STRING_EMPTY: u32 = 56;
    /// RFC 8831 §6.6: an empty binary message, carried as a single ignored byte.
    pub const BINARY_EMPTY: u32 = 57;
}
