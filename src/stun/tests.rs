use super::*;
use std::net::SocketAddr;

const PWD: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";
const TID: [u8; 12] = [
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
];

/// RFC 5769 §2.1 sample request.
const REQUEST: [u8; 108] = [
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
];

/// RFC 5769 §2.2 sample IPv4 response.
const RESPONSE_V4: [u8; 80] = [
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
];

/// RFC 5769 §2.3 sample IPv6 response.
const RESPONSE_V6: [u8; 92] = [
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
];

fn vectors() -> [&'static [u8]; 3] {
    [&REQUEST, &RESPONSE_V4, &RESPONSE_V6]
}

#[test]
fn rfc5769_request() {
    let m = Message::decode(&REQUEST).unwrap();
    assert_eq!(m.method, Method::BINDING);
    assert_eq!(m.class, Class::Request);
    assert_eq!(m.transaction_id, TID);
    assert_eq!(m.username(), Some("evtj:h6vY"));
    assert_eq!(m.priority(), Some(0x6e0001ff));
    assert_eq!(m.ice_controlled(), Some(0x932ff9b151263b36));
    assert_eq!(
        m.get(attr::SOFTWARE),
        Some(&Attribute::Software("STUN test client".into()))
    );
    assert!(m.has_fingerprint());
    verify_integrity(&REQUEST, PWD).unwrap();
    verify_fingerprint(&REQUEST).unwrap();
    assert!(m.unknown_comprehension_required().is_empty());
}

#[test]
fn rfc5769_ipv4_response() {
    let m = Message::decode(&RESPONSE_V4).unwrap();
    assert_eq!(m.class, Class::SuccessResponse);
    assert_eq!(
        m.xor_mapped_address(),
        Some("192.0.2.1:32853".parse().unwrap())
    );
    assert_eq!(
        m.get(attr::SOFTWARE),
        Some(&Attribute::Software("test vector".into()))
    );
    verify_integrity(&RESPONSE_V4, PWD).unwrap();
    verify_fingerprint(&RESPONSE_V4).unwrap();
}

#[test]
fn rfc5769_ipv6_response() {
    let m = Message::decode(&RESPONSE_V6).unwrap();
    let want: SocketAddr = "[2001:db8:1234:5678:11:2233:4455:6677]:32853"
        .parse()
        .unwrap();
    assert_eq!(m.xor_mapped_address(), Some(want));
    verify_integrity(&RESPONSE_V6, PWD).unwrap();
    verify_fingerprint(&RESPONSE_V6).unwrap();
}

#[test]
fn reencoding_vectors_reproduces_integrity_and_fingerprint() {
    // The responses use zero padding only where the value is aligned, so they re-encode
    // byte for byte except the SOFTWARE padding (0x20 in the RFC, 0x00 here).
    for v in vectors() {
        let m = Message::decode(v).unwrap();
        let out = m.encode_with(Some(PWD), true);
        assert_eq!(out.len(), v.len());
        verify_integrity(&out, PWD).unwrap();
        verify_fingerprint(&out).unwrap();
        let back = Message::decode(&out).unwrap();
        // Attributes equal except MI/FP values (the padding bytes differ inside the MAC).
        let strip = |m: &Message| -> Vec<Attribute> {
            m.attributes
                .iter()
                .filter(|a| {
                    !matches!(
                        a,
                        Attribute::MessageIntegrity(_) | Attribute::Fingerprint(_)
                    )
                })
                .cloned()
                .collect()
        };
        assert_eq!(strip(&back), strip(&m));
    }
    // The IPv4 response's only unaligned value is SOFTWARE; with its padding set to zero
    // the MAC must differ, proving padding is covered.
    let m = Message::decode(&RESPONSE_V4).unwrap();
    assert_ne!(m.encode_with(Some(PWD), true), RESPONSE_V4.to_vec());
}

#[test]
fn raw_encode_is_identity_on_aligned_message() {
    let m = Message::decode(&RESPONSE_V6).unwrap();
    let mut out = Vec::new();
    m.encode(&mut out);
    // Only the SOFTWARE padding (0x20 -> 0x00) differs.
    assert_eq!(out.len(), RESPONSE_V6.len());
    let diffs = out
        .iter()
        .zip(RESPONSE_V6.iter())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(diffs, 1);
}

#[test]
fn bad_integrity_and_fingerprint_rejected() {
    assert_eq!(
        verify_integrity(&REQUEST, b"wrong"),
        Err(StunError::BadIntegrity)
    );
    for v in vectors() {
        // Flip one byte of the SOFTWARE value: fingerprint must fail.
        let mut b = v.to_vec();
        b[24] ^= 1;
        assert_eq!(Message::decode(&b), Err(StunError::BadFingerprint));
        assert_eq!(verify_integrity(&b, PWD), Err(StunError::BadIntegrity));
        // Flip the fingerprint itself.
        let mut b = v.to_vec();
        let n = b.len();
        b[n - 1] ^= 0x80;
        assert_eq!(Message::decode(&b), Err(StunError::BadFingerprint));
        assert_eq!(verify_integrity(&b, PWD), Ok(()));
    }
}

#[test]
fn every_truncation_fails_cleanly() {
    for v in vectors() {
        for n in 0..v.len() {
            assert!(Message::decode(&v[..n]).is_err(), "len {n}");
            let _ = verify_integrity(&v[..n], PWD);
            let _ = verify_fingerprint(&v[..n]);
            let _ = is_stun(&v[..n]);
        }
        // Trailing bytes are rejected too.
        let mut b = v.to_vec();
        b.extend_from_slice(&[0, 0, 0, 0]);
        assert!(Message::decode(&b).is_err());
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = crate::crypto::Rng::seeded(42);
    let mut buf = [0u8; 200];
    for i in 0..20_000 {
        let n = rng.below(buf.len() as u64) as usize;
        rng.fill(&mut buf[..n]);
        let data = &mut buf[..n];
        if i % 2 == 0 && n >= 20 {
            // Make the header plausible so attribute parsing is exercised.
            data[0] &= 0x01;
            data[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
            let len = (n - 20) as u16 & !3;
            data[2..4].copy_from_slice(&len.to_be_bytes());
        }
        let _ = Message::decode(data);
        let _ = verify_integrity(data, PWD);
        let _ = is_stun(data);
    }
    // Mutations of valid vectors.
    for v in vectors() {
        for _ in 0..5_000 {
            let mut b = v.to_vec();
            let i = 20 + rng.below((b.len() - 20) as u64) as usize;
            b[i] = rng.u32() as u8;
            let _ = Message::decode(&b);
            let _ = verify_integrity(&b, PWD);
        }
    }
}

#[test]
fn message_type_bits() {
    assert_eq!(message_type(Method::BINDING, Class::Request), 0x0001);
    assert_eq!(
        message_type(Method::BINDING, Class::SuccessResponse),
        0x0101
    );
    assert_eq!(message_type(Method::BINDING, Class::ErrorResponse), 0x0111);
    assert_eq!(message_type(Method::BINDING, Class::Indication), 0x0011);
    for m in [0u16, 1, 3, 0x0abc, 0x0fff] {
        for c in [
            Class::Request,
            Class::Indication,
            Class::SuccessResponse,
            Class::ErrorResponse,
        ] {
            assert_eq!(
                split_message_type(message_type(Method(m), c)),
                (Method(m), c)
            );
        }
    }
}

#[test]
fn ice_helpers_round_trip() {
    let req = BindingRequest {
        transaction_id: [7; 12],
        username: "abcd:efgh",
        priority: 12345,
        controlling: true,
        tie_breaker: 0x0102030405060708,
        use_candidate: true,
    };
    let raw = binding_request(&req, b"secretpassword");
    assert!(is_stun(&raw));
    verify_integrity(&raw, b"secretpassword").unwrap();
    let m = Message::decode(&raw).unwrap();
    assert_eq!(m.username(), Some("abcd:efgh"));
    assert_eq!(m.priority(), Some(12345));
    assert_eq!(m.ice_controlling(), Some(0x0102030405060708));
    assert!(m.use_candidate());

    let addr: SocketAddr = "[::1]:9".parse().unwrap();
    let raw = binding_success([9; 12], addr, Some(b"k"));
    verify_integrity(&raw, b"k").unwrap();
    assert_eq!(
        Message::decode(&raw).unwrap().xor_mapped_address(),
        Some(addr)
    );

    let raw = binding_error([9; 12], 487, Some(b"k"));
    let m = Message::decode(&raw).unwrap();
    assert_eq!(m.class, Class::ErrorResponse);
    assert_eq!(m.error_code(), Some(487));

    let raw = plain_binding_request([1; 12]);
    assert_eq!(raw.len(), 28);
    assert_eq!(
        verify_integrity(&raw, b"k"),
        Err(StunError::MissingIntegrity)
    );
}

#[test]
fn attribute_round_trips() {
    let attrs = vec![
        Attribute::MappedAddress("1.2.3.4:5".parse().unwrap()),
        Attribute::MappedAddress("[fe80::1]:5".parse().unwrap()),
        Attribute::XorMappedAddress("255.0.0.1:65535".parse().unwrap()),
        Attribute::Username("a".into()),
        Attribute::ErrorCode {
            code: 420,
            reason: "Unknown".into(),
        },
        Attribute::UnknownAttributes(vec![0x0031, 0x7fff, 0x0002]),
        Attribute::Software("x y".into()),
        Attribute::Priority(u32::MAX),
        Attribute::UseCandidate,
        Attribute::IceControlled(1),
        Attribute::IceControlling(u64::MAX),
        Attribute::Other {
            typ: 0x7777,
            value: vec![1, 2, 3],
        },
        Attribute::Other {
            typ: 0xC001,
            value: vec![],
        },
        Attribute::MessageIntegritySha256(vec![5; 32]),
    ];
    let mut m = Message::new(Method::BINDING, Class::Indication, [3; 12]);
    m.attributes = attrs;
    let mut out = Vec::new();
    m.encode(&mut out);
    let back = Message::decode(&out).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.unknown_comprehension_required(), vec![0x7777]);
}

#[test]
fn attributes_after_integrity_ignored() {
    let mut m = Message::new(Method::BINDING, Class::Request, [3; 12]);
    m.attributes.push(Attribute::Username("u:v".into()));
    let mut raw = m.encode_with(Some(b"k"), false);
    // Append PRIORITY after MESSAGE-INTEGRITY and fix the length.
    raw.extend_from_slice(&[0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1]);
    let len = (raw.len() - 20) as u16;
    raw[2..4].copy_from_slice(&len.to_be_bytes());
    let back = Message::decode(&raw).unwrap();
    assert_eq!(back.priority(), None);
    verify_integrity(&raw, b"k").unwrap();
}

#[test]
fn is_stun_demux() {
    assert!(is_stun(&REQUEST));
    assert!(!is_stun(&[22, 254, 253, 0, 0, 0, 0, 0])); // DTLS
    let mut b = REQUEST.to_vec();
    b[0] = 0x80; // RTP
    assert!(!is_stun(&b));
    b[0] = 0x00;
    b[5] = 0;
    assert!(!is_stun(&b));
}

#[test]
fn the_local_ufrag_of_a_binding_request_is_read_for_demultiplexing() {
    let req = BindingRequest {
        transaction_id: [7; 12],
        username: "srvU:clientU",
        priority: 1,
        controlling: true,
        tie_breaker: 9,
        use_candidate: false,
    };
    let bytes = binding_request(&req, b"pwd");
    assert_eq!(binding_request_local_ufrag(&bytes), Some("srvU"));
    // A response, a truncated message, an attribute running past the end: nothing.
    let mut response = bytes.clone();
    response[0..2].copy_from_slice(&[0x01, 0x01]);
    assert_eq!(binding_request_local_ufrag(&response), None);
    assert_eq!(binding_request_local_ufrag(&bytes[..bytes.len() - 4]), None);
    let mut bad = bytes[..HEADER_LEN].to_vec();
    bad.extend_from_slice(&[0x00, 0x06, 0x00, 0xff, b'a', b'b', b'c', b'd']);
    bad[2..4].copy_from_slice(&8u16.to_be_bytes());
    assert_eq!(binding_request_local_ufrag(&bad), None);
    assert_eq!(binding_request_local_ufrag(b"not stun at all, not at all"), None);
}
