//! Fuzzing entry point (`fuzz/fuzz_targets/stun_message.rs`, `tests/fuzz_corpus.rs`).

use super::{verify_fingerprint, verify_integrity, Attribute, Header, Message};

/// Decodes `data` as a STUN message; whatever decodes must survive encode -> decode
/// unchanged, and re-signing it must give a message that verifies. The integrity and fingerprint checks and the
/// accessors run on every input. Panics only on a codec bug.
#[doc(hidden)]
pub fn fuzz_message(data: &[u8]) {
    let _ = Header::decode(data);
    let _ = verify_integrity(data, b"fuzz-password");
    let _ = verify_fingerprint(data);
    if let Ok(m) = Message::decode(data) {
        let _ = (m.username(), m.xor_mapped_address(), m.mapped_address(), m.priority());
        let _ = (m.use_candidate(), m.ice_controlling(), m.ice_controlled(), m.error_code());
        let _ = (m.has_fingerprint(), m.unknown_comprehension_required());
        // A raw re-encoding zeroes the padding, so a FINGERPRINT computed over the
        // original bytes no longer matches: compare without it.
        let mut plain = m.clone();
        plain.attributes.retain(|a| !matches!(a, Attribute::Fingerprint(_)));
        let mut out = Vec::new();
        plain.encode(&mut out);
        let again = Message::decode(&out);
        assert_eq!(again.as_ref(), Ok(&plain), "STUN round trip changed the message");
        // Re-signing must produce a message that verifies.
        let signed = m.encode_with(Some(b"fuzz-password"), true);
        if signed.len() <= super::MAX_MESSAGE_LEN {
            assert_eq!(verify_integrity(&signed, b"fuzz-password"), Ok(()));
            assert_eq!(verify_fingerprint(&signed), Ok(()));
            assert!(Message::decode(&signed).is_ok(), "signed message does not decode");
        }
    }
}
