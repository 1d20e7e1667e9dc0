//! Fuzzing entry point for JSEP (`fuzz/fuzz_targets/sdp_jsep.rs`, `tests/fuzz_corpus.rs`).
//! The plain SDP round trip is [`super::wire::fuzz_round_trip`].

use super::media::{self, Direction, MediaSection};
use super::{create_answer, parse_remote, LocalParams, MediaDescription, SessionDescription, Setup};

fn local_params() -> LocalParams {
    LocalParams {
        ice_ufrag: "fUzZ".to_string(),
        ice_pwd: "fuzzfuzzfuzzfuzzfuzzfuzz".to_string(),
        fingerprints: vec![(
            "sha-256".to_string(),
            "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
                .to_string(),
        )],
        setup: Setup::Active,
        sctp_port: 5000,
        max_message_size: 262_144,
        candidates: vec!["candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host".to_string()],
        end_of_candidates: true,
        session_id: 1,
        session_version: 2,
        mid: "0".to_string(),
        ice_lite: false,
    }
}

/// Parses `data` as SDP, reads it as a remote offer and as a remote answer, and answers
/// it. Our answer must serialize and parse back to the same model, and when the offer
/// had a usable data section, our answer must read as a remote answer accepting that
/// same section.
#[doc(hidden)]
pub fn fuzz_jsep(data: &[u8]) {
    let Ok(offer) = SessionDescription::parse_bytes(data) else {
        return;
    };
    let as_answer = parse_remote(&offer, false);
    let as_offer = parse_remote(&offer, true);
    let _ = as_answer;
    // Each audio/video section read, negotiated against our codecs, and our answer section
    // written and read back unchanged.
    for m in &offer.media {
        if let Ok(Some(section)) = MediaSection::parse(m) {
            let ours = media::default_codecs(section.kind);
            let exts = media::default_extensions(section.kind);
            if let Some(answer) = media::negotiate(&section, &ours, &exts, Direction::SendRecv) {
                let mut out = MediaDescription::new(section.kind.media_type(), 9, media::PROTO_RTP_SAVPF, &[]);
                answer.write(&mut out);
                let mut sd = SessionDescription::parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")
                    .expect("a fixed description");
                sd.media.push(out);
                let text = sd.serialize();
                let back = SessionDescription::parse(&text).ok().and_then(|d| MediaSection::parse(&d.media[0]).ok());
                let mut expected = answer.clone();
                expected.mid = None;
                assert_eq!(back, Some(Some(expected)), "our media answer does not round-trip:\n{text}");
            }
        }
    }
    if let Ok(answer) = create_answer(&offer, &local_params()) {
        let text = answer.serialize();
        let again = SessionDescription::parse(&text);
        assert_eq!(again.as_ref(), Ok(&answer), "our answer does not round-trip:\n{text}");
        if let Ok(remote) = as_offer {
            if !remote.rejected {
                match parse_remote(&answer, false) {
                    Ok(read) => assert!(
                        !read.rejected && read.data_mline_index == remote.data_mline_index,
                        "our answer reads as another section ({read:?}):\n{text}"
                    ),
                    Err(e) => panic!("our answer is not readable ({e:?}):\n{text}"),
                }
            }
        }
    }
}
