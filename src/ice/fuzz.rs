//! Fuzzing entry point (`fuzz/fuzz_targets/ice_candidate.rs`, `tests/fuzz_corpus.rs`).

use super::Candidate;

/// Parses `data` (as UTF-8, lossily) as an SDP candidate; whatever parses must survive
/// `to_sdp_string` -> `parse` unchanged. Panics only on a codec bug.
#[doc(hidden)]
pub fn fuzz_candidate(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(c) = Candidate::parse(&text) {
        let _ = c.ufrag();
        let s = c.to_sdp_string();
        if s.len() <= super::MAX_CANDIDATE_LEN {
            assert_eq!(Candidate::parse(&s).as_ref(), Ok(&c), "candidate round trip: {s}");
        }
    }
}
