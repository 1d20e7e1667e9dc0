//! Fuzzing entry point (`fuzz/fuzz_targets/srtp_unprotect.rs`, `tests/fuzz_corpus.rs`).
//!
//! The input's first byte picks the profile (`% 3`, [`SrtpProfile::ALL`]); the rest is a
//! sequence of records (`u16` length, bytes), each unprotected as SRTP and as SRTCP by one
//! receiving session (so the replay windows and rollover state carry over between records).
//! Whatever unprotects must have been protected with the receiver's keys: re-protecting its
//! plaintext with a fresh sending session and unprotecting that with a fresh receiver gives
//! the same plaintext back.

use super::{SrtpProfile, SrtpSession};

/// The keying material both sides of the fuzzed session are made from.
fn material(profile: SrtpProfile) -> Vec<u8> {
    (0..profile.keying_material_len()).map(|i| (i * 29 + 7) as u8).collect()
}

fn records(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    core::iter::from_fn(move || {
        let (n, rest) = data.split_first_chunk::<2>()?;
        let n = usize::from(u16::from_be_bytes(*n)).min(rest.len());
        let (r, rest) = rest.split_at(n);
        data = rest;
        Some(r)
    })
}

/// See the module docs. Returns how many records unprotected (as RTP or RTCP).
#[doc(hidden)]
pub fn fuzz_unprotect(data: &[u8]) -> usize {
    let Some((&pick, rest)) = data.split_first() else { return 0 };
    let profile = SrtpProfile::ALL[usize::from(pick) % SrtpProfile::ALL.len()];
    let m = material(profile);
    let Ok(mut rx) = SrtpSession::from_dtls(profile, &m, false) else { return 0 };
    let mut ok = 0;
    for (i, r) in records(rest).enumerate().take(256) {
        for rtcp in [false, true] {
            let mut p = r.to_vec();
            let done = if rtcp { rx.unprotect_rtcp(&mut p) } else { rx.unprotect_rtp(&mut p) };
            if done.is_err() {
                continue;
            }
            ok += 1;
            // A fresh pair keyed the same way carries the plaintext unchanged.
            let (Ok(mut tx2), Ok(mut rx2)) =
                (SrtpSession::from_dtls(profile, &m, true), SrtpSession::from_dtls(profile, &m, false))
            else {
                continue;
            };
            let plain = p.clone();
            let sealed = if rtcp { tx2.protect_rtcp(&mut p) } else { tx2.protect_rtp(&mut p) };
            if sealed.is_ok() {
                let opened = if rtcp { rx2.unprotect_rtcp(&mut p) } else { rx2.unprotect_rtp(&mut p) };
                assert!(opened.is_ok(), "record {i}: our own protection did not unprotect");
                assert_eq!(p, plain, "record {i}: the round trip changed the packet");
            }
        }
    }
    ok
}

/// Seeds: for each profile, a few RTP and RTCP packets protected with the fuzzed keys.
#[doc(hidden)]
pub fn fuzz_unprotect_seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (k, profile) in SrtpProfile::ALL.into_iter().enumerate() {
        let Ok(mut tx) = SrtpSession::from_dtls(profile, &material(profile), true) else { continue };
        let mut script = vec![k as u8];
        for seq in [65_534u16, 65_535, 0, 1] {
            let mut p = vec![0x90, 0x60, 0, 0, 0, 0, 0x0b, 0xb8, 0x12, 0x34, 0x56, 0x78, 0xbe, 0xde, 0, 1, 0x10, 0x01, 0, 0];
            p[2..4].copy_from_slice(&seq.to_be_bytes());
            p.extend([0xab; 40]);
            if tx.protect_rtp(&mut p).is_ok() {
                script.extend((p.len() as u16).to_be_bytes());
                script.extend(p);
            }
        }
        let mut rr = vec![0x81, 201, 0, 7, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 9];
        rr.extend([0u8; 20]);
        if tx.protect_rtcp(&mut rr).is_ok() {
            script.extend((rr.len() as u16).to_be_bytes());
            script.extend(rr);
        }
        out.push((format!("seed-{}", profile.name().to_ascii_lowercase()), script));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_unprotect_and_mutations_do_not_panic() {
        for (name, s) in fuzz_unprotect_seeds() {
            assert_eq!(fuzz_unprotect(&s), 5, "{name}: 4 RTP and 1 RTCP");
            let mut x = 0x2545_f491_4f6c_dd1d_u64;
            for _ in 0..2000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let mut m = s.clone();
                let at = 1 + (x as usize) % (m.len() - 1);
                m[at] ^= 1 + (x >> 32) as u8 % 255;
                let _ = fuzz_unprotect(&m);
            }
        }
    }
}
