//! The relay's fuzz target under plain `cargo test` (no nightly): replays every file of
//! `relay/fuzz-corpus/relay_server/` through `fuzz_server`, checks the committed session
//! seed still reaches an allocation and relays both ways, and runs a bounded number of
//! random scripts (seeded, so a failure reproduces), plus mutations of the seed.

use std::fs;
use std::path::{Path, PathBuf};

use polyrtc::crypto::Rng;
use polyrtc_relay::fuzz::{fuzz_server, fuzz_server_seed};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-corpus").join("relay_server")
}

#[test]
fn the_corpus_replays_without_panicking() {
    let mut n = 0;
    for e in fs::read_dir(corpus()).expect("relay/fuzz-corpus/relay_server") {
        let path = e.unwrap().path();
        let data = fs::read(&path).unwrap();
        let r = std::panic::catch_unwind(|| fuzz_server(&data));
        assert!(r.is_ok(), "{} panicked", path.display());
        n += 1;
    }
    assert!(n > 0, "the corpus is empty");
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/fuzz_targets/relay_server.rs").is_file());
}

#[test]
fn the_session_seed_allocates_and_relays_both_ways() {
    for seed in [fuzz_server_seed(), fs::read(corpus().join("seed-session")).expect("committed seed")] {
        let o = fuzz_server(&seed);
        assert!(o.allocations >= 1, "{o:?}");
        assert!(o.to_peer >= 2, "Send indication and ChannelData reach the peer: {o:?}");
        // 401, Allocate, CreatePermission, ChannelBind, the peer's datagram, Refresh.
        assert!(o.to_client >= 6, "{o:?}");
    }
    // The check can fail: the seed cut short never allocates.
    let seed = fuzz_server_seed();
    assert_eq!(fuzz_server(&seed[..9]).allocations, 0);
}

#[test]
fn random_and_mutated_scripts_never_panic() {
    let mut rng = Rng::seeded(0x7e1a7);
    let seed = fuzz_server_seed();
    let mut reached = 0;
    for i in 0..20_000u32 {
        let data = if i % 2 == 0 {
            let mut d = vec![0u8; rng.below(600) as usize];
            rng.fill(&mut d);
            d
        } else {
            // The seed with a few bytes changed, inserted or cut: stays close to real sessions.
            let mut d = seed.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(d.len() as u64 + 1) as usize;
                match rng.below(3) {
                    0 if at < d.len() => d[at] = rng.below(256) as u8,
                    1 => d.insert(at, rng.below(256) as u8),
                    _ => d.truncate(at.max(3)),
                }
            }
            d
        };
        let r = std::panic::catch_unwind(|| fuzz_server(&data));
        assert!(r.is_ok(), "script {i} panicked: {data:?}");
        if r.unwrap().allocations > 0 {
            reached += 1;
        }
    }
    assert!(reached > 1000, "mutations should often still allocate ({reached})");
}

/// Writes the committed seed: `cargo test -p polyrtc-relay --test fuzz -- --ignored`.
#[test]
#[ignore]
fn write_seed_corpus() {
    fs::create_dir_all(corpus()).unwrap();
    let seed = fuzz_server_seed();
    fs::write(corpus().join("seed-session"), &seed).unwrap();
    // The same session over a TCP stream and over a WebSocket (the kind byte of step one).
    for (name, kind) in [("seed-session-tcp", 1u8), ("seed-session-websocket", 2)] {
        let mut s = seed.clone();
        s[2] = kind;
        fs::write(corpus().join(name), s).unwrap();
    }
}
