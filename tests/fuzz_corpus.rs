//! Replays every file under `fuzz/corpus/<target>/` through the same `fuzz_*` helper the
//! cargo-fuzz target calls, so crashes found by fuzzing stay fixed under plain `cargo test`
//! (no nightly needed). Also checks that the recorded session seeds still drive their
//! endpoint all the way (so the stateful targets start from a real exchange).
//!
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpus` regenerates the seeds
//! that come from live exchanges (`seed-*` files); see `fuzz/README.md`.

use std::fs;
use std::path::{Path, PathBuf};

use polyrtc::{codec, crypto, datachannel, dtls, ice, peer, rtp, sctp, sdp, srtp, stun};

/// A `fuzz_*` helper, as a fuzz target calls it.
type Helper = fn(&[u8]);

/// Target name (directory under `fuzz/corpus/` and file under `fuzz/fuzz_targets/`) and
/// the helper it calls.
const TARGETS: &[(&str, Helper)] = &[
    ("stun_message", stun::fuzz::fuzz_message),
    ("ice_candidate", ice::fuzz::fuzz_candidate),
    ("sdp", sdp::wire::fuzz_round_trip),
    ("sdp_jsep", sdp::fuzz::fuzz_jsep),
    ("dtls_wire", dtls::wire::fuzz_round_trip),
    ("dtls_server", |d| {
        dtls::fuzz::fuzz_dtls_server(d);
    }),
    ("sctp_packet", sctp::fuzz::fuzz_packet),
    ("sctp_association", |d| {
        sctp::fuzz::fuzz_association(d);
    }),
    ("dcep", datachannel::fuzz::fuzz_dcep),
    ("datachannel_payload", datachannel::fuzz::fuzz_payload),
    ("x509_certificate", crypto::fuzz::fuzz_certificate),
    ("codec_depacketize", codec::fuzz::fuzz_depacketize),
    ("srtp_unprotect", |d| {
        srtp::fuzz::fuzz_unprotect(d);
    }),
    ("peer", |d| {
        peer::fuzz::fuzz_peer(d);
    }),
    ("rtp_packet", rtp::fuzz::fuzz_rtp),
    ("rtcp_compound", rtp::fuzz::fuzz_rtcp),
];

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("corpus")
}

fn files(target: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match fs::read_dir(corpus_root().join(target)) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

#[test]
fn every_target_has_a_corpus_and_replays_it() {
    let mut total = 0;
    for (name, helper) in TARGETS {
        let list = files(name);
        assert!(!list.is_empty(), "fuzz/corpus/{name} is empty or missing");
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fuzz/fuzz_targets/{name}.rs")).is_file(),
            "no fuzz target for {name}"
        );
        for path in list {
            let data = fs::read(&path).unwrap();
            let r = std::panic::catch_unwind(|| helper(&data));
            assert!(r.is_ok(), "{} panicked", path.display());
            total += 1;
        }
    }
    assert!(total >= TARGETS.len());
}

#[test]
fn every_corpus_directory_is_replayed() {
    for e in fs::read_dir(corpus_root()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(TARGETS.iter().any(|(t, _)| *t == name), "fuzz/corpus/{name} has no replay entry");
    }
}

#[test]
fn recorded_seeds_still_drive_their_endpoint() {
    assert!(dtls::fuzz::fuzz_dtls_server(&dtls::fuzz::fuzz_dtls_server_seed()));
    assert!(sctp::fuzz::fuzz_association(&sctp::fuzz::fuzz_association_seed()) >= 3);
    assert!(peer::fuzz::fuzz_peer(&peer::fuzz::fuzz_peer_seed()) >= 2);
    // The committed copies too (a change in a protocol may make them stale: regenerate).
    let committed = |t: &str| fs::read(corpus_root().join(t).join("seed-session")).unwrap();
    assert!(dtls::fuzz::fuzz_dtls_server(&committed("dtls_server")));
    assert!(sctp::fuzz::fuzz_association(&committed("sctp_association")) >= 3);
    assert!(peer::fuzz::fuzz_peer(&committed("peer")) >= 2);
}

#[test]
fn a_truncated_seed_stops_short() {
    // The check above can fail: cutting the recorded session in half never completes it.
    let seed = dtls::fuzz::fuzz_dtls_server_seed();
    assert!(!dtls::fuzz::fuzz_dtls_server(seed.get(..seed.len() / 2).unwrap()));
    let seed = sctp::fuzz::fuzz_association_seed();
    assert_eq!(sctp::fuzz::fuzz_association(seed.get(..40).unwrap()), 0);
}

/// Splits a step script (see `src/dtls/fuzz.rs`) into its datagrams.
fn datagrams(script: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = script;
    while let [tag, a, b, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*a, *b]));
        if tag & 1 == 1 {
            rest = tail;
            continue;
        }
        let n = n.min(tail.len());
        out.push(tail[..n].to_vec());
        rest = &tail[n..];
    }
    out
}

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = corpus_root().join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), data).unwrap();
}

/// Writes the `seed-*` files: recorded sessions and what can be cut out of them.
#[test]
#[ignore]
fn write_seed_corpus() {
    let dtls_script = dtls::fuzz::fuzz_dtls_server_seed();
    let sctp_script = sctp::fuzz::fuzz_association_seed();
    let peer_script = peer::fuzz::fuzz_peer_seed();
    write("dtls_server", "seed-session", &dtls_script);
    write("sctp_association", "seed-session", &sctp_script);
    write("peer", "seed-session", &peer_script);
    for (i, d) in datagrams(&dtls_script).iter().enumerate().take(12) {
        write("dtls_wire", &format!("seed-client-{i:02}"), d);
    }
    for (i, d) in datagrams(&sctp_script).iter().enumerate().take(16) {
        write("sctp_packet", &format!("seed-active-{i:02}"), d);
    }
    let (mut stun_n, mut dtls_n) = (0, 0);
    for d in datagrams(&peer_script) {
        if stun::is_stun(&d) && stun_n < 6 {
            write("stun_message", &format!("seed-peer-{stun_n:02}"), &d);
            stun_n += 1;
        } else if d.first().is_some_and(|b| (20..=63).contains(b)) && dtls_n < 6 {
            // RFC 7983: DTLS records, here the offerer's side (the DTLS server's flights).
            write("dtls_wire", &format!("seed-peer-{dtls_n:02}"), &d);
            dtls_n += 1;
        }
    }
    // Certificates: two generated ones and the one inside the recorded DTLS flight.
    let mut rng = crypto::Rng::seeded(7);
    let cert = crypto::Certificate::generate(&mut rng, 1_700_000_000, 1_800_000_000).unwrap();
    write("x509_certificate", "seed-generated", cert.der());
    write("x509_certificate", "seed-fingerprint", cert.fingerprint().to_sdp_value().as_bytes());
    let cert = crypto::Certificate::generate(&mut rng, 0, 253_402_300_799).unwrap();
    write("x509_certificate", "seed-generated-long", cert.der());
    // DCEP and payloads.
    let open = datachannel::DataChannelOpen::new(
        false,
        datachannel::Reliability::MaxRetransmits(3),
        datachannel::PRIORITY_NORMAL,
        "chat".into(),
        "proto".into(),
    )
    .unwrap();
    let mut b = Vec::new();
    datachannel::DcepMessage::Open(open).encode(&mut b);
    write("dcep", "seed-open", &b);
    write("dcep", "seed-ack", &[datachannel::MESSAGE_TYPE_ACK]);
    for (name, ppid, body) in [
        ("seed-string", datachannel::ppid::STRING, &b"hello"[..]),
        ("seed-binary", datachannel::ppid::BINARY, &[0, 1, 2][..]),
        ("seed-string-empty", datachannel::ppid::STRING_EMPTY, &[0][..]),
        ("seed-bad-utf8", datachannel::ppid::STRING, &[0xf0, 0x28, 0x8c, 0x28][..]),
    ] {
        let mut d = ppid.to_be_bytes().to_vec();
        d.extend_from_slice(body);
        write("datachannel_payload", name, &d);
    }
    // SRTP and SRTCP packets of every profile, protected with the fuzzed session's keys.
    for (name, data) in srtp::fuzz::fuzz_unprotect_seeds() {
        write("srtp_unprotect", &name, &data);
    }
    // RTP payloads of every codec's sample frames, in order and reordered.
    for (name, data) in codec::fuzz::fuzz_depacketize_seeds() {
        write("codec_depacketize", &name, &data);
    }
    for (name, c) in [
        ("seed-host", "candidate:1 1 udp 2122260223 192.168.1.10 50000 typ host generation 0 ufrag abcd network-id 1"),
        ("seed-srflx", "candidate:842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 192.168.1.10 rport 50000"),
        ("seed-v6-tcp", "a=candidate:2 1 TCP 1518280447 2001:db8::1 9 typ host tcptype active"),
        ("seed-mdns", "candidate:3 1 udp 2122262783 1f4712db-ea17-4bcf-a596-105139dfd8bf.local 54321 typ host"),
        ("seed-relay", "candidate:4 1 udp 41885439 198.51.100.9 3478 typ relay raddr 0.0.0.0 rport 0"),
    ] {
        write("ice_candidate", name, c.as_bytes());
    }
    // RTP and RTCP as a browser sends them (built with the public API).
    for (name, bytes) in rtp::fuzz::fuzz_rtp_seeds() {
        write("rtp_packet", name, &bytes);
    }
    for (name, bytes) in rtp::fuzz::fuzz_rtcp_seeds() {
        write("rtcp_compound", name, &bytes);
    }
}
