//! Known answers from the RFCs (RFC 3711 Appendix B, RFC 7714 §16 and §17) and libsrtp's
//! validation packets, then properties of sessions: round trips in every profile, replay and
//! forgery refused without changing state, rollover, bounds.

use super::*;

pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

const RFC3711_MASTER_KEY: &str = "E1F97A0D3E018BE0D64FA32C06DE4139";
const RFC3711_MASTER_SALT: &str = "0EC675AD498AFEEBB6960B3AABE6";

fn cm_session() -> SrtpSession {
    let (k, s) = (hex(RFC3711_MASTER_KEY), hex(RFC3711_MASTER_SALT));
    SrtpSession::from_master_keys(SrtpProfile::Aes128CmHmacSha1_80, &k, &s, &k, &s).unwrap()
}

#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let c = AesCtr::new(&hex("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
    let salt: [u8; 14] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD").try_into().unwrap();
    let iv = cm_iv(&salt, 0, 0);
    assert_eq!(iv.to_vec(), hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
    let mut ks = vec![0u8; 65_282 * 16];
    c.apply_keystream(&iv, &mut ks);
    assert_eq!(ks[..48].to_vec(), hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0"));
    assert_eq!(ks[0xFEFF * 16..].to_vec(), hex("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE 6A2CC3787889374FBEB4C81B17BA6C44"));
    // The keystream does not depend on how the data is split into calls.
    let mut parts = [0u8; 100];
    c.apply_keystream(&iv, &mut parts[..37]);
    assert_eq!(parts[..37], ks[..37]);
}

#[test]
fn libsrtp_aes_cm_hmac_sha1_80_rtp_packet() {
    let plain = hex("800f1234 decafbad cafebabe abababab abababab abababab abababab");
    let wire = hex("800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402 b78d6acc 99ea179b 8dbb");
    let mut tx = cm_session();
    let mut p = plain.clone();
    tx.protect_rtp(&mut p).unwrap();
    assert_eq!(p, wire);
    let mut rx = cm_session();
    let mut p = wire.clone();
    rx.unprotect_rtp(&mut p).unwrap();
    assert_eq!(p, plain);
    let mut again = wire;
    assert_eq!(rx.unprotect_rtp(&mut again), Err(SrtpError::Replayed));
    assert_eq!(rx.stats().replayed, 1);
}

#[test]
fn libsrtp_aes_cm_hmac_sha1_80_rtcp_packet() {
    let plain = hex("81c8000b cafebabe abababab abababab abababab abababab");
    let wire = hex("81c8000b cafebabe 7128035b e487b9bd bef89041 f977a5a8 80000001 993e08cd 54d6c123 0798");
    let mut tx = cm_session();
    tx.set_rtcp_index(0xcafebabe, 1);
    let mut p = plain.clone();
    tx.protect_rtcp(&mut p).unwrap();
    assert_eq!(p, wire);
    let mut rx = cm_session();
    let mut p = wire.clone();
    rx.unprotect_rtcp(&mut p).unwrap();
    assert_eq!(p, plain);
    let mut again = wire;
    assert_eq!(rx.unprotect_rtcp(&mut again), Err(SrtpError::Replayed));
}

const RFC7714_KEY_128: &str = "000102030405060708090a0b0c0d0e0f";
const RFC7714_KEY_256: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const RFC7714_SALT: &str = "517569642070726f2071756f";
const RFC7714_RTP: &str = "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
    69736120 696e2070 61727465 73207472 6573";
const RFC7714_RTCP: &str = "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
    deadbeef deadbeef deadbeef deadbeef deadbeef";

fn gcm(profile: SrtpProfile) -> SrtpSession {
    let key = if profile == SrtpProfile::AeadAes128Gcm { RFC7714_KEY_128 } else { RFC7714_KEY_256 };
    SrtpSession::with_session_keys(profile, &hex(key), &[], &hex(RFC7714_SALT))
}

#[test]
fn rfc7714_16_srtp_aead_aes_128_and_256_gcm() {
    let cases = [
        (
            SrtpProfile::AeadAes128Gcm,
            "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a
             51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce",
        ),
        (
            SrtpProfile::AeadAes256Gcm,
            "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3 b50b2a02
             76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13",
        ),
    ];
    for (profile, wire) in cases {
        assert_eq!(gcm_rtp_iv(&hex(RFC7714_SALT).try_into().unwrap(), 0x5501_a0b2, 0, 0xf17b).to_vec(), hex("51753c6580c2726f20718414"));
        let mut p = hex(RFC7714_RTP);
        gcm(profile).protect_rtp(&mut p).unwrap();
        assert_eq!(p, hex(wire), "{profile:?}");
        let mut rx = gcm(profile);
        rx.unprotect_rtp(&mut p).unwrap();
        assert_eq!(p, hex(RFC7714_RTP));
        // One flipped bit anywhere (header included: it is the AAD) fails.
        for i in [0usize, 5, 11, 12, 40, hex(wire).len() - 1] {
            let mut bad = hex(wire);
            bad[i] ^= 0x10;
            if i == 0 {
                bad[0] = 0x80 | (bad[0] & 0x3f); // keep version 2: the tag must catch it
                bad[0] ^= 0x01;
            }
            assert!(gcm(profile).unprotect_rtp(&mut bad).is_err(), "bit flip at {i}");
        }
    }
}

#[test]
fn rfc7714_17_srtcp_aead_aes_128_and_256_gcm() {
    assert_eq!(gcm_rtcp_iv(&hex(RFC7714_SALT).try_into().unwrap(), 0x4d61_7273, 0x5d4).to_vec(), hex("517524055203726f207170bb"));
    // §17.1 / §17.2: encrypted (E set), SRTCP index 0x5d4.
    let encrypted = [
        (
            SrtpProfile::AeadAes128Gcm,
            "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda
             4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4",
        ),
        (
            SrtpProfile::AeadAes256Gcm,
            "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1 110555be
             8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4",
        ),
    ];
    for (profile, wire) in encrypted {
        let mut tx = gcm(profile);
        tx.set_rtcp_index(0x4d61_7273, 0x5d4);
        let mut p = hex(RFC7714_RTCP);
        tx.protect_rtcp(&mut p).unwrap();
        assert_eq!(p, hex(wire), "{profile:?}");
        let mut rx = gcm(profile);
        rx.unprotect_rtcp(&mut p).unwrap();
        assert_eq!(p, hex(RFC7714_RTCP));
    }
    // §17.3 / §17.4: authenticated only (E clear): the packet stays readable.
    let tag_only = [
        (SrtpProfile::AeadAes128Gcm, "841dd968 3dd78ec9 2ae58790 125f62b3"),
        (SrtpProfile::AeadAes256Gcm, "91db4afb feee5a97 8fab4393 ed2615fe"),
    ];
    for (profile, tag) in tag_only {
        let mut p = hex(RFC7714_RTCP);
        p.extend(hex(tag));
        p.extend(hex("000005d4"));
        let mut forged = p.clone();
        let mut rx = gcm(profile);
        rx.unprotect_rtcp(&mut p).unwrap();
        assert_eq!(p, hex(RFC7714_RTCP), "{profile:?}");
        forged[20] ^= 1;
        assert_eq!(gcm(profile).unprotect_rtcp(&mut forged), Err(SrtpError::Authentication));
    }
}

/// Two sessions keyed as the DTLS client and server of one export.
fn pair(profile: SrtpProfile) -> (SrtpSession, SrtpSession) {
    let material: Vec<u8> = (0..profile.keying_material_len()).map(|i| (i * 7 + 1) as u8).collect();
    (
        SrtpSession::from_dtls(profile, &material, true).unwrap(),
        SrtpSession::from_dtls(profile, &material, false).unwrap(),
    )
}

fn rtp(seq: u16, ssrc: u32, payload_len: usize) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend(seq.to_be_bytes());
    p.extend((u32::from(seq) * 960).to_be_bytes());
    p.extend(ssrc.to_be_bytes());
    p.extend((0..payload_len).map(|i| (i as u8) ^ (seq as u8)));
    p
}

#[test]
fn every_profile_round_trips_both_ways_with_extensions_csrcs_and_padding() {
    for profile in SrtpProfile::ALL {
        let (mut a, mut b) = pair(profile);
        // CSRC count 2, extension (one-byte form, 1 word), padding bit.
        let mut p = vec![0xb2, 0x60, 0x00, 0x07, 0, 0, 0, 1, 0, 0, 0, 9, 1, 1, 1, 1, 2, 2, 2, 2, 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0];
        p.extend([5u8; 31]);
        p.push(1);
        let original = p.clone();
        a.protect_rtp(&mut p).unwrap();
        assert_eq!(p.len(), original.len() + profile.rtp_overhead());
        assert_eq!(p[..28], original[..28], "the header stays in the clear");
        assert_ne!(p[28..original.len()], original[28..], "the payload is encrypted");
        b.unprotect_rtp(&mut p).unwrap();
        assert_eq!(p, original, "{profile:?}");
        for dir in 0..2 {
            let (tx, rx) = if dir == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
            for n in [0usize, 1, 15, 16, 17, 1200] {
                let original = rtp(n as u16, 0x1234, n);
                let mut p = original.clone();
                tx.protect_rtp(&mut p).unwrap();
                rx.unprotect_rtp(&mut p).unwrap();
                assert_eq!(p, original);
                let rtcp = vec![0x81, 201, 0, 7, 0, 0, 0x12, 0x34, 9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
                let mut p = rtcp.clone();
                tx.protect_rtcp(&mut p).unwrap();
                assert_eq!(p.len(), rtcp.len() + profile.rtcp_overhead());
                rx.unprotect_rtcp(&mut p).unwrap();
                assert_eq!(p, rtcp);
            }
        }
    }
}

#[test]
fn the_other_directions_keys_do_not_open_a_packet() {
    for profile in SrtpProfile::ALL {
        let (mut a, _) = pair(profile);
        let (mut a2, _) = pair(profile);
        let mut p = rtp(1, 5, 50);
        a.protect_rtp(&mut p).unwrap();
        // a2 has the same keys as `a`, but reads with the server's keys.
        assert_eq!(a2.unprotect_rtp(&mut p), Err(SrtpError::Authentication), "{profile:?}");
        assert_eq!(a2.stats().auth_failures, 1);
    }
}

#[test]
fn forged_and_replayed_packets_change_no_state() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile);
        let mut good = Vec::new();
        for seq in 100..110u16 {
            let mut p = rtp(seq, 7, 40);
            tx.protect_rtp(&mut p).unwrap();
            good.push(p);
        }
        // A forgery of a far-future sequence number must not move the window or the ROC.
        let mut forged = rtp(30_000, 7, 40);
        forged.extend([0u8; 16][..profile.rtp_overhead()].iter());
        let mut p = good[0].clone();
        rx.unprotect_rtp(&mut p).unwrap();
        assert_eq!(rx.unprotect_rtp(&mut forged.clone()), Err(SrtpError::Authentication));
        assert_eq!(rx.inbound.streams[&7].s_l, 100, "a forgery moved the highest sequence number");
        for p in &good[1..] {
            let mut p = p.clone();
            rx.unprotect_rtp(&mut p).unwrap();
        }
        // Truncated packets are errors at every length, never a panic.
        for n in 0..good[0].len() {
            let mut p = good[0][..n].to_vec();
            assert!(rx.unprotect_rtp(&mut p).is_err());
            let mut q = good[0][..n].to_vec();
            assert!(rx.unprotect_rtcp(&mut q).is_err());
        }
        assert_eq!(rx.stats().rtp_unprotected, 10, "{profile:?}");
        // A forged packet of an unknown SSRC creates no stream.
        let mut stranger = rtp(1, 0xdead, 10);
        stranger.extend(vec![0u8; profile.rtp_overhead()]);
        assert!(rx.unprotect_rtp(&mut stranger).is_err());
        assert_eq!(rx.stream_counts().1, 1);
    }
}

#[test]
fn rollover_and_reordering_across_the_wrap() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile);
        // 65,000 .. 65,535 then 0 .. 3000 (ROC 1), delivered with a reorder across the wrap.
        let seqs: Vec<u16> = (65_000..=65_535u32).chain(0..3000).map(|s| s as u16).collect();
        let mut wire: Vec<Vec<u8>> = seqs
            .iter()
            .map(|&s| {
                let mut p = rtp(s, 99, 20);
                tx.protect_rtp(&mut p).unwrap();
                p
            })
            .collect();
        wire.swap(530, 540); // 65530 after 4 (roc 1), and back
        for p in wire {
            let mut q = p.clone();
            rx.unprotect_rtp(&mut q).unwrap_or_else(|e| panic!("{profile:?} seq {}: {e:?}", u16::from_be_bytes([p[2], p[3]])));
        }
        let s = rx.inbound.streams.get(&99).unwrap();
        assert_eq!((s.roc, s.s_l), (1, 2999));
        assert_eq!(rx.stats().rtp_unprotected, seqs.len() as u64);
    }
}

#[test]
fn stream_state_is_bounded() {
    let (mut tx, mut rx) = pair(SrtpProfile::AeadAes128Gcm);
    for ssrc in 0..MAX_SRTP_STREAMS as u32 {
        let mut p = rtp(1, ssrc, 4);
        tx.protect_rtp(&mut p).unwrap();
        rx.unprotect_rtp(&mut p).unwrap();
    }
    let mut p = rtp(1, 1 << 20, 4);
    assert_eq!(tx.protect_rtp(&mut p), Err(SrtpError::TooManyStreams));
    assert_eq!((tx.stream_counts().0, rx.stream_counts().1), (MAX_SRTP_STREAMS, MAX_SRTP_STREAMS));
    // Known SSRCs still work.
    let mut p = rtp(2, 3, 4);
    tx.protect_rtp(&mut p).unwrap();
    rx.unprotect_rtp(&mut p).unwrap();
}

#[test]
fn keying_material_must_fit_the_profile() {
    assert_eq!(SrtpProfile::Aes128CmHmacSha1_80.keying_material_len(), 60);
    assert_eq!(SrtpProfile::AeadAes128Gcm.keying_material_len(), 56);
    assert_eq!(SrtpProfile::AeadAes256Gcm.keying_material_len(), 88);
    for profile in SrtpProfile::ALL {
        let n = profile.keying_material_len();
        assert!(SrtpSession::from_dtls(profile, &vec![1; n - 1], true).is_err());
        assert!(SrtpSession::from_dtls(profile, &vec![1; n + 1], false).is_err());
        assert_eq!(SrtpProfile::from_id(profile.id()), Some(profile));
    }
    assert_eq!(SrtpProfile::from_id(0x0002), None);
}

#[test]
fn malformed_rtp_headers() {
    assert_eq!(rtp_header_len(&[]), None);
    assert_eq!(rtp_header_len(&[0x40; 12]), None, "version 1");
    assert_eq!(rtp_header_len(&[0x80; 11]), None);
    assert_eq!(rtp_header_len(&[0x8f; 20]), None, "15 CSRCs do not fit");
    let mut ext = vec![0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0xff, 0xff];
    assert_eq!(rtp_header_len(&ext), None, "the extension claims 256 KiB");
    ext[14] = 0;
    ext[15] = 0;
    assert_eq!(rtp_header_len(&ext), Some(16));
}

#[test]
fn random_and_mutated_input_never_panics() {
    let (mut tx, _) = pair(SrtpProfile::Aes128CmHmacSha1_80);
    let mut seeds = Vec::new();
    for profile in SrtpProfile::ALL {
        let (mut a, _) = pair(profile);
        let mut p = rtp(5, 1, 30);
        a.protect_rtp(&mut p).unwrap();
        seeds.push(p);
    }
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for profile in SrtpProfile::ALL {
        let (_, mut rx) = pair(profile);
        for i in 0..5000 {
            let mut p = if i % 2 == 0 {
                let n = (next() % 80) as usize;
                (0..n).map(|_| next() as u8).collect::<Vec<u8>>()
            } else {
                let mut p = seeds[i % seeds.len()].clone();
                let at = (next() as usize) % p.len();
                p[at] ^= 1 + (next() % 255) as u8; // always a change
                p.truncate(p.len() - (next() % 3) as usize);
                p
            };
            let mut q = p.clone();
            let _ = rx.unprotect_rtp(&mut p);
            let _ = rx.unprotect_rtcp(&mut q);
        }
        assert_eq!(rx.stats().rtp_unprotected + rx.stats().rtcp_unprotected, 0, "{profile:?}: junk was accepted");
    }
    // Protecting junk is an error, not a panic.
    for n in 0..20 {
        let mut p = vec![0x9f; n];
        let _ = tx.protect_rtp(&mut p);
        let mut q = vec![0x80; n];
        let _ = tx.protect_rtcp(&mut q);
    }
}
