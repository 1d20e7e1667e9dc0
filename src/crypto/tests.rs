use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn prf_sha256_vector() {
    // Widely used TLS 1.2 P_SHA256 vector (cross-checked with `openssl kdf TLS1-PRF`).
    let secret = hex("9bbe436ba940f017b17652849a71db35");
    let seed = hex("a0ba9f936cda311827a6f796ffd5198c");
    let mut out = [0u8; 100];
    prf(PrfHash::Sha256, &secret, b"test label", &seed, &mut out);
    let expected = hex(
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66",
    );
    assert_eq!(out.to_vec(), expected);
}

#[test]
fn prf_sha384_vector() {
    let secret = hex("b80b733d6ceefcdc71566ea48e5567df");
    let seed = hex("cd665cf6a8447dd6ff8b27555edb7465");
    let mut out = [0u8; 148];
    prf(PrfHash::Sha384, &secret, b"test label", &seed, &mut out);
    let expected = hex(include_str!("testdata/prf384.hex"));
    assert_eq!(out.to_vec(), expected);
}

#[test]
fn aes128_gcm_nist_case_4() {
    let key = AeadKey::new(AeadAlgorithm::Aes128Gcm, &hex("feffe9928665731c6d6a8f9467308308")).unwrap();
    let p = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let nonce: [u8; 12] = hex("cafebabefacedbaddecaf888").try_into().unwrap();
    let mut buf = vec![9, 9];
    buf.extend_from_slice(&p);
    key.seal(&nonce, &aad, &mut buf, 2).unwrap();
    let expected = hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091 5bc94fbc3221a5db94fae95ae7121a47");
    assert_eq!(&buf[2..], &expected[..]);
    let mut ct = buf[2..].to_vec();
    let n = key.open(&nonce, &aad, &mut ct).unwrap();
    assert_eq!(&ct[..n], &p[..]);
    ct[0] ^= 1;
    assert_eq!(key.open(&nonce, &aad, &mut ct.clone()), Err(CryptoError::Decrypt));
    assert_eq!(key.open(&nonce, &aad, &mut [0u8; 15]), Err(CryptoError::Decrypt));
}

#[test]
fn aes256_gcm_nist_case_16() {
    let key = AeadKey::new(
        AeadAlgorithm::Aes256Gcm,
        &hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
    )
    .unwrap();
    let p = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let nonce: [u8; 12] = hex("cafebabefacedbaddecaf888").try_into().unwrap();
    let mut buf = p.clone();
    key.seal(&nonce, &aad, &mut buf, 0).unwrap();
    let expected = hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662 76fc6ece0f4e1768cddf8853bb2d551b");
    assert_eq!(buf, expected);
}

#[test]
fn chacha20_poly1305_rfc8439_2_8_2() {
    let key = AeadKey::new(
        AeadAlgorithm::ChaCha20Poly1305,
        &hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"),
    )
    .unwrap();
    let nonce: [u8; 12] = hex("070000004041424344454647").try_into().unwrap();
    let aad = hex("50515253c0c1c2c3c4c5c6c7");
    let p = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let mut buf = p.to_vec();
    key.seal(&nonce, &aad, &mut buf, 0).unwrap();
    let expected = hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116 1ae10b594f09e26a7e902ecbd0600691");
    assert_eq!(buf, expected);
    let n = key.open(&nonce, &aad, &mut buf).unwrap();
    assert_eq!(&buf[..n], &p[..]);
}

#[test]
fn ecdhe_both_groups_agree() {
    let mut rng = Rng::seeded(1);
    for g in [KeyExchangeGroup::P256, KeyExchangeGroup::X25519] {
        let a = EphemeralKey::generate(g, &mut rng);
        let b = EphemeralKey::generate(g, &mut rng);
        let (pa, pb) = (a.public().to_vec(), b.public().to_vec());
        assert_eq!(a.agree(&pb).unwrap(), b.agree(&pa).unwrap());
        let c = EphemeralKey::generate(g, &mut rng);
        assert!(c.agree(&[1, 2, 3]).is_err());
    }
    let x = EphemeralKey::generate(KeyExchangeGroup::X25519, &mut rng);
    assert_eq!(x.agree(&[0u8; 32]), Err(CryptoError::WeakSharedSecret));
}

#[test]
fn ecdsa_sign_verify_round_trip() {
    let mut rng = Rng::seeded(2);
    let key = SigningKey::generate(&mut rng);
    let sig = key.sign(b"hello");
    let pk = key.public_sec1();
    assert_eq!(pk.len(), 65);
    ecdsa_p256_verify(&pk, b"hello", &sig).unwrap();
    assert_eq!(ecdsa_p256_verify(&pk, b"hellp", &sig), Err(CryptoError::BadSignature));
    let mut bad = sig.clone();
    bad[10] ^= 0x40;
    assert!(ecdsa_p256_verify(&pk, b"hello", &bad).is_err());
    assert!(ecdsa_p256_verify(&pk[..30], b"hello", &sig).is_err());
}

#[test]
fn certificate_generate_parse_fingerprint() {
    let mut rng = Rng::seeded(3);
    let cert = Certificate::generate(&mut rng, 1_700_000_000, 1_700_000_000 + 30 * 86_400).unwrap();
    let pk = parse_certificate_public_key(cert.der()).unwrap();
    assert_eq!(pk, cert.signing_key().ecdsa().unwrap().public_sec1());
    let fp = cert.fingerprint();
    assert_eq!(fp.algorithm, "sha-256");
    assert_eq!(fp.value, sha256(cert.der()).to_vec());
    assert!(fp.matches(cert.der()));
    assert_eq!(cert.expires_unix_ms(), (1_700_000_000 + 30 * 86_400) * 1000);
    // Debug does not leak the key.
    let dbg = format!("{:?}", cert);
    assert!(dbg.contains("sha-256"));
    // The self-signature verifies: split the DER into TBS and signature.
    let mut top = der::DerReader::new(cert.der());
    let mut c = der::DerReader::new(top.read(der::TAG_SEQUENCE).unwrap());
    let (_, _, tbs) = c.read_any().unwrap();
    c.read(der::TAG_SEQUENCE).unwrap();
    let bits = c.read(der::TAG_BIT_STRING).unwrap();
    ecdsa_p256_verify(&pk, tbs, &bits[1..]).unwrap();
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Certificate>();
}

#[test]
fn certificate_far_future_uses_generalized_time() {
    let mut rng = Rng::seeded(4);
    // 2100-01-01
    let cert = Certificate::generate(&mut rng, 0, 4_102_444_800).unwrap();
    let d = cert.der();
    assert!(d.windows(15).any(|w| w == b"21000101000000Z"));
    assert!(d.windows(13).any(|w| w == b"700101000000Z"));
    assert_eq!(certificate::civil_for_tests(19_000), (2022, 1, 8));
}

#[test]
fn certificate_parser_never_panics() {
    let mut rng = Rng::seeded(5);
    let cert = Certificate::generate(&mut rng, 0, 1000).unwrap();
    let d = cert.der().to_vec();
    for n in 0..d.len() {
        assert!(parse_certificate_public_key(&d[..n]).is_err());
    }
    for i in 0..2000 {
        let mut m = d.clone();
        let pos = rng.below(m.len() as u64) as usize;
        m[pos] ^= 1 << (i % 8);
        let _ = parse_certificate_public_key(&m);
        let mut junk = vec![0u8; rng.below(300) as usize];
        rng.fill(&mut junk);
        let _ = parse_certificate_public_key(&junk);
    }
}

#[test]
fn rsa_certificate_is_peer_incompatible() {
    // A tiny synthetic certificate whose SPKI names rsaEncryption.
    let spki = der::tlv(
        der::TAG_SEQUENCE,
        &[&der::tlv(der::TAG_SEQUENCE, &[&der::oid(&[1, 2, 840, 113549, 1, 1, 1])]), &der::tlv(der::TAG_BIT_STRING, &[&[0, 1, 2]])],
    );
    let empty = der::tlv(der::TAG_SEQUENCE, &[]);
    let tbs = der::tlv(der::TAG_SEQUENCE, &[&der::unsigned_integer(&[1]), &empty, &empty, &empty, &empty, &spki]);
    let cert = der::tlv(der::TAG_SEQUENCE, &[&tbs, &empty, &der::tlv(der::TAG_BIT_STRING, &[&[0]])]);
    assert_eq!(parse_certificate_public_key(&cert), Err(CryptoError::PeerIncompatible));
}

#[test]
fn fingerprint_sdp_parse_and_format() {
    let fp = Fingerprint::parse_sdp("SHA-256 ab:CD:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e").unwrap();
    assert_eq!(fp.algorithm, "sha-256");
    assert_eq!(fp.value[0], 0xab);
    assert_eq!(
        fp.to_sdp_value(),
        "sha-256 AB:CD:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E"
    );
    assert_eq!(Fingerprint::parse_sdp(&fp.to_sdp_value()).unwrap(), fp);
    for bad in ["", "sha-256", "sha-256 AB:CD", "md5 AB", "sha-256 ABC:DE", "sha-1 zz:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00", "sha-256 AB x"] {
        assert!(Fingerprint::parse_sdp(bad).is_err(), "{bad}");
    }
    let d = b"der bytes";
    for alg in ["sha-1", "sha-256", "SHA-384", "sha-512"] {
        let f = Fingerprint::of_der(alg, d).unwrap();
        // Weak hashes (sha-1) parse and format but never match (issue 5).
        assert_eq!(f.matches(d), alg != "sha-1", "{alg}");
        assert_eq!(Fingerprint::parse_sdp(&f.to_sdp_value()).unwrap(), f);
    }
    for weak in ["md2", "MD5", "sha-1", "sha-224"] {
        assert!(Fingerprint::is_weak_algorithm(weak), "{weak}");
    }
    assert!(!Fingerprint::is_weak_algorithm("sha-256"));
    assert!(Fingerprint::of_der("md5", d).is_none());
}

// RSA fixtures: a 2048-bit self-signed certificate and signatures over `rsa_msg.bin` made with
// `openssl dgst -sign` (PKCS#1 v1.5 and PSS with salt length = digest length).
const RSA_CERT: &[u8] = include_bytes!("testdata/rsa2048_cert.der");
const RSA_MSG: &[u8] = include_bytes!("testdata/rsa_msg.bin");
const RSA_VECTORS: [(u16, &[u8]); 6] = [
    (signature_scheme::RSA_PKCS1_SHA256, include_bytes!("testdata/rsa2048_pkcs1_sha256.sig")),
    (signature_scheme::RSA_PKCS1_SHA384, include_bytes!("testdata/rsa2048_pkcs1_sha384.sig")),
    (signature_scheme::RSA_PKCS1_SHA512, include_bytes!("testdata/rsa2048_pkcs1_sha512.sig")),
    (signature_scheme::RSA_PSS_RSAE_SHA256, include_bytes!("testdata/rsa2048_pss_sha256.sig")),
    (signature_scheme::RSA_PSS_RSAE_SHA384, include_bytes!("testdata/rsa2048_pss_sha384.sig")),
    (signature_scheme::RSA_PSS_RSAE_SHA512, include_bytes!("testdata/rsa2048_pss_sha512.sig")),
];

fn rsa_fixture_key() -> PeerPublicKey {
    parse_peer_public_key(RSA_CERT).expect("fixture parses")
}

#[test]
fn rsa_certificate_key_is_extracted() {
    let key = rsa_fixture_key();
    assert!(key.is_rsa());
    let PeerPublicKey::Rsa(rsa) = &key else { panic!("not RSA") };
    assert_eq!(rsa.bits(), 2048);
    // The EC-only reader still refuses it.
    assert_eq!(parse_certificate_public_key(RSA_CERT), Err(CryptoError::PeerIncompatible));
    // Our own ECDSA certificates go through the general reader too.
    let mut rng = Rng::from_seed([5; 32]);
    let cert = Certificate::generate(&mut rng, 1_700_000_000, 1_800_000_000).unwrap();
    let ec = parse_peer_public_key(cert.der()).unwrap();
    assert!(!ec.is_rsa());
    let sig = cert.signing_key().ecdsa().unwrap().sign(b"m");
    assert_eq!(ec.verify(signature_scheme::ECDSA_SECP256R1_SHA256, b"m", &sig), Ok(()));
    assert_eq!(ec.verify(signature_scheme::RSA_PKCS1_SHA256, b"m", &sig), Err(CryptoError::PeerIncompatible));
}

#[test]
fn rsa_signature_vectors_verify_and_tampering_fails() {
    let key = rsa_fixture_key();
    for (scheme, sig) in RSA_VECTORS {
        assert_eq!(key.verify(scheme, RSA_MSG, sig), Ok(()), "scheme {scheme:#06x}");
        // Another message, a flipped signature bit, a wrong scheme, a short signature.
        assert_eq!(key.verify(scheme, b"other message", sig), Err(CryptoError::BadSignature));
        let mut bad = sig.to_vec();
        bad[100] ^= 0x10;
        assert_eq!(key.verify(scheme, RSA_MSG, &bad), Err(CryptoError::BadSignature));
        assert_eq!(key.verify(scheme, RSA_MSG, &sig[1..]), Err(CryptoError::BadSignature));
        let mut long = sig.to_vec();
        long.push(0);
        assert_eq!(key.verify(scheme, RSA_MSG, &long), Err(CryptoError::BadSignature));
    }
    // PKCS#1 signature checked as PSS (same hash) and vice versa.
    assert_eq!(key.verify(signature_scheme::RSA_PSS_RSAE_SHA256, RSA_MSG, RSA_VECTORS[0].1), Err(CryptoError::BadSignature));
    assert_eq!(key.verify(signature_scheme::RSA_PKCS1_SHA256, RSA_MSG, RSA_VECTORS[3].1), Err(CryptoError::BadSignature));
    // SHA-1 (0x0201) and ECDSA are not schemes for an RSA key.
    assert_eq!(key.verify(0x0201, RSA_MSG, RSA_VECTORS[0].1), Err(CryptoError::PeerIncompatible));
    assert_eq!(key.verify(signature_scheme::ECDSA_SECP256R1_SHA256, RSA_MSG, RSA_VECTORS[0].1), Err(CryptoError::PeerIncompatible));
    // All-zero and all-0xff signatures of the right length.
    assert_eq!(key.verify(signature_scheme::RSA_PKCS1_SHA256, RSA_MSG, &[0; 256]), Err(CryptoError::BadSignature));
    assert_eq!(key.verify(signature_scheme::RSA_PSS_RSAE_SHA256, RSA_MSG, &[0xff; 256]), Err(CryptoError::BadSignature));
}

#[test]
fn rsa_modulus_bounds() {
    // 512 bits: below RSA_MIN_MODULUS_BITS.
    assert_eq!(parse_peer_public_key(include_bytes!("testdata/rsa512_cert.der")), Err(CryptoError::PeerIncompatible));
    let int = |m: &[u8]| der::unsigned_integer(m);
    let key = |n: &[u8], e: &[u8]| der::tlv(der::TAG_SEQUENCE, &[&int(n), &int(e)]);
    let odd = |bits: usize| {
        let mut n = vec![0xffu8; bits / 8];
        n[0] |= 0x80;
        n
    };
    assert!(RsaKey::from_pkcs1_der(&key(&odd(RSA_MIN_MODULUS_BITS), &[1, 0, 1])).is_ok());
    assert!(RsaKey::from_pkcs1_der(&key(&odd(RSA_MAX_MODULUS_BITS), &[1, 0, 1])).is_ok());
    assert_eq!(RsaKey::from_pkcs1_der(&key(&odd(RSA_MIN_MODULUS_BITS - 8), &[1, 0, 1])), Err(CryptoError::PeerIncompatible));
    assert_eq!(RsaKey::from_pkcs1_der(&key(&odd(RSA_MAX_MODULUS_BITS + 8), &[1, 0, 1])), Err(CryptoError::PeerIncompatible));
    // Even modulus, even / tiny exponent, negative or non-minimal integers, trailing data.
    let mut even = odd(2048);
    even[255] = 0xfe;
    assert_eq!(RsaKey::from_pkcs1_der(&key(&even, &[1, 0, 1])), Err(CryptoError::BadCertificate));
    assert_eq!(RsaKey::from_pkcs1_der(&key(&odd(2048), &[1, 0, 0])), Err(CryptoError::BadCertificate));
    assert_eq!(RsaKey::from_pkcs1_der(&key(&odd(2048), &[1])), Err(CryptoError::BadCertificate));
    let neg = der::tlv(der::TAG_SEQUENCE, &[&der::tlv(der::TAG_INTEGER, &[&odd(2048)]), &int(&[1, 0, 1])]);
    assert_eq!(RsaKey::from_pkcs1_der(&neg), Err(CryptoError::BadCertificate));
    let mut padded = vec![0, 0];
    padded.extend_from_slice(&odd(2048));
    let nonmin = der::tlv(der::TAG_SEQUENCE, &[&der::tlv(der::TAG_INTEGER, &[&padded]), &int(&[1, 0, 1])]);
    assert_eq!(RsaKey::from_pkcs1_der(&nonmin), Err(CryptoError::BadCertificate));
    let mut trailing = key(&odd(2048), &[1, 0, 1]);
    trailing.push(0);
    assert_eq!(RsaKey::from_pkcs1_der(&trailing), Err(CryptoError::BadCertificate));
}

#[test]
fn malformed_rsa_certificates_never_panic() {
    // Every truncation and every single-byte corruption of the fixture certificate.
    for n in 0..RSA_CERT.len() {
        assert!(parse_peer_public_key(&RSA_CERT[..n]).is_err());
    }
    let key = rsa_fixture_key();
    let mut seen_ok_other = 0;
    for i in 0..RSA_CERT.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut m = RSA_CERT.to_vec();
            m[i] ^= flip;
            if let Ok(k) = parse_peer_public_key(&m) {
                // A corrupted modulus or exponent must not verify the fixture signature.
                if k != key {
                    seen_ok_other += 1;
                    for (scheme, sig) in RSA_VECTORS {
                        assert!(k.verify(scheme, RSA_MSG, sig).is_err());
                    }
                }
            }
        }
    }
    // Some corruptions inside the modulus still parse as a (different) key.
    assert!(seen_ok_other > 0);
    // Random junk signatures of every length around the modulus size.
    let mut rng = Rng::from_seed([9; 32]);
    for len in [0usize, 1, 128, 255, 256, 257, 1024] {
        let mut sig = vec![0u8; len];
        rng.fill(&mut sig);
        for scheme in signature_scheme::VERIFIABLE {
            assert!(key.verify(scheme, RSA_MSG, &sig).is_err());
        }
    }
}
