//! Fuzzing entry points (`fuzz/fuzz_targets/dcep.rs`, `datachannel_payload.rs`, and
//! `tests/fuzz_corpus.rs`).

use super::{decode_payload, encode_payload, DcepMessage};

/// Decodes `data` as a DCEP message; whatever decodes must re-encode to the same bytes
/// (the format has no slack) and decode to the same message.
#[doc(hidden)]
pub fn fuzz_dcep(data: &[u8]) {
    if let Ok(m) = DcepMessage::decode(data) {
        let mut out = Vec::new();
        m.encode(&mut out);
        assert_eq!(out.as_slice(), data, "DCEP re-encoding differs");
        assert_eq!(DcepMessage::decode(&out).as_ref(), Ok(&m));
    }
}

/// The first 4 bytes are the PPID (big endian), the rest the SCTP user message. Whatever
/// decodes must survive `encode_payload` -> `decode_payload` unchanged, and a string
/// message must come out as valid UTF-8.
#[doc(hidden)]
pub fn fuzz_payload(data: &[u8]) {
    let (ppid, body) = match data.split_first_chunk::<4>() {
        Some((p, b)) => (u32::from_be_bytes(*p), b),
        None => return,
    };
    if let Ok((binary, bytes)) = decode_payload(ppid, body.to_vec()) {
        if !binary {
            assert!(core::str::from_utf8(&bytes).is_ok(), "string message is not UTF-8");
        }
        let (ppid2, body2) = encode_payload(binary, &bytes);
        assert_eq!(decode_payload(ppid2, body2), Ok((binary, bytes)));
    }
}
