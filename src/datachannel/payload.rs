//! Framing of user messages into SCTP user messages (RFC 8831 §6.6).

use super::{ppid, DcepError};

/// RFC 8831 §6.6: an empty message is sent as one byte (ignored by the receiver) with the
/// `_EMPTY` PPID, because SCTP cannot carry an empty user message.
pub const EMPTY_PAYLOAD: [u8; 1] = [0];

/// The PPID for a message of `len` bytes: `STRING`/`BINARY`, or the `_EMPTY` variants for
/// `len == 0`.
pub fn ppid_for(binary: bool, len: usize) -> u32 {
    match (binary, len == 0) {
        (false, false) => ppid::STRING,
        (true, false) => ppid::BINARY,
        (false, true) => ppid::STRING_EMPTY,
        (true, true) => ppid::BINARY_EMPTY,
    }
}

/// The PPID and SCTP payload for a user message (empty messages become [`EMPTY_PAYLOAD`]).
pub fn encode_payload(binary: bool, data: &[u8]) -> (u32, Vec<u8>) {
    let ppid = ppid_for(binary, data.len());
    if data.is_empty() {
        (ppid, EMPTY_PAYLOAD.to_vec())
    } else {
        (ppid, data.to_vec())
    }
}

/// Turns a received SCTP user message into `(binary, bytes)` for the application.
///
/// - `STRING_EMPTY` / `BINARY_EMPTY`: the payload is ignored (RFC 8831 §6.6), an empty
///   message is returned.
/// - The deprecated partial PPIDs 52 and 54 are treated as complete `STRING` / `BINARY`
///   messages (see [`ppid::STRING_PARTIAL`]).
/// - Strings that are not valid UTF-8 are **delivered** with U+FFFD replacement characters,
///   as the W3C spec's "UTF-8 decode" (Encoding standard) would produce; the returned bytes
///   are then always valid UTF-8 for a string message. Valid strings are passed through
///   without a copy.
/// - `DCEP` (50) is [`DcepError::NotUserMessage`] (give it to [`super::DcepMessage::decode`]);
///   any other PPID is [`DcepError::UnknownPpid`]: drop and count.
pub fn decode_payload(ppid: u32, data: Vec<u8>) -> Result<(bool, Vec<u8>), DcepError> {
    match ppid {
        ppid::STRING | ppid::STRING_PARTIAL => {
            let data = match String::from_utf8(data) {
                Ok(s) => s.into_bytes(),
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned().into_bytes(),
            };
            Ok((false, data))
        }
        ppid::BINARY | ppid::BINARY_PARTIAL => Ok((true, data)),
        ppid::STRING_EMPTY => Ok((false, Vec::new())),
        ppid::BINARY_EMPTY => Ok((true, Vec::new())),
        ppid::DCEP => Err(DcepError::NotUserMessage),
        other => Err(DcepError::UnknownPpid(other)),
    }
}
