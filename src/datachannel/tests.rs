use super::*;
use crate::crypto::Rng;

fn open(ordered: bool, rel: Reliability, label: &str, protocol: &str) -> DcepMessage {
    DcepMessage::Open(
        DataChannelOpen::new(ordered, rel, PRIORITY_NORMAL, label.into(), protocol.into()).unwrap(),
    )
}

fn encoded(m: &DcepMessage) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(&mut out);
    out
}

/// Valid fixtures: every channel type, plus ACK.
fn fixtures() -> Vec<(&'static str, DcepMessage)> {
    vec![
        ("reliable", open(true, Reliability::Reliable, "chat", "")),
        ("reliable unordered", open(false, Reliability::Reliable, "", "proto")),
        ("rexmit", open(true, Reliability::MaxRetransmits(3), "rexmit", "x")),
        ("rexmit unordered", open(false, Reliability::MaxRetransmits(0), "ü label", "")),
        ("timed", open(true, Reliability::MaxPacketLifeTime(150), "timed", "p")),
        ("timed unordered", open(false, Reliability::MaxPacketLifeTime(70_000), "t", "pp")),
        ("ack", DcepMessage::Ack),
    ]
}

#[test]
fn round_trip_every_channel_type() {
    for (name, m) in fixtures() {
        let bytes = encoded(&m);
        assert_eq!(DcepMessage::decode(&bytes), Ok(m.clone()), "{name}");
    }
    let types: Vec<u8> = fixtures()
        .iter()
        .filter_map(|(_, m)| match m {
            DcepMessage::Open(o) => Some(o.channel_type().to_u8()),
            DcepMessage::Ack => None,
        })
        .collect();
    assert_eq!(types, vec![0x00, 0x80, 0x01, 0x81, 0x02, 0x82]);
}

#[test]
fn channel_type_byte_round_trip_and_unknown() {
    for ct in ChannelType::ALL {
        assert_eq!(ChannelType::from_u8(ct.to_u8()), Ok(ct));
    }
    for b in 0..=255u8 {
        let known = ChannelType::ALL.iter().any(|c| c.to_u8() == b);
        assert_eq!(ChannelType::from_u8(b).is_ok(), known, "{b:#x}");
    }
}

#[test]
fn chromium_style_open_bytes() {
    // Hand-written from RFC 8832 §5.1: reliable ordered channel "chat", priority 256,
    // empty protocol (what Chromium sends for `createDataChannel("chat")`).
    let bytes = [
        0x03, // DATA_CHANNEL_OPEN
        0x00, // DATA_CHANNEL_RELIABLE
        0x01, 0x00, // priority 256
        0x00, 0x00, 0x00, 0x00, // reliability parameter
        0x00, 0x04, // label length
        0x00, 0x00, // protocol length
        b'c', b'h', b'a', b't',
    ];
    let m = DcepMessage::decode(&bytes).unwrap();
    let DcepMessage::Open(o) = &m else { panic!("not an open") };
    assert!(o.ordered());
    assert_eq!(o.reliability(), Reliability::Reliable);
    assert_eq!(o.priority(), PRIORITY_NORMAL);
    assert_eq!(o.label(), "chat");
    assert_eq!(o.protocol(), "");
    assert_eq!(encoded(&m), bytes);

    // Unordered, maxRetransmits 5, label "a", protocol "bc".
    let bytes = [
        0x03, 0x81, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01, 0x00, 0x02, b'a', b'b', b'c',
    ];
    let DcepMessage::Open(o) = DcepMessage::decode(&bytes).unwrap() else { panic!() };
    assert!(!o.ordered());
    assert_eq!(o.reliability(), Reliability::MaxRetransmits(5));
    assert_eq!(o.reliability().max_retransmits(), Some(5));
    assert_eq!(o.reliability().max_packet_life_time(), None);
    assert_eq!((o.label(), o.protocol()), ("a", "bc"));

    // Ordered, maxPacketLifeTime 3000 ms.
    let bytes = [0x03, 0x02, 0x02, 0x00, 0x00, 0x00, 0x0b, 0xb8, 0x00, 0x00, 0x00, 0x00];
    let DcepMessage::Open(o) = DcepMessage::decode(&bytes).unwrap() else { panic!() };
    assert!(o.ordered());
    assert_eq!(o.priority(), PRIORITY_HIGH);
    assert_eq!(o.reliability().max_packet_life_time(), Some(3000));

    assert_eq!(DcepMessage::decode(&[0x02]), Ok(DcepMessage::Ack));
}

#[test]
fn reliability_mapping() {
    assert_eq!(Reliability::from_init(None, None), Ok(Reliability::Reliable));
    assert_eq!(Reliability::from_init(Some(7), None), Ok(Reliability::MaxRetransmits(7)));
    assert_eq!(Reliability::from_init(None, Some(9)), Ok(Reliability::MaxPacketLifeTime(9)));
    assert_eq!(Reliability::from_init(Some(1), Some(1)), Err(DcepError::ConflictingReliability));
    for ordered in [true, false] {
        for rel in [Reliability::Reliable, Reliability::MaxRetransmits(4), Reliability::MaxPacketLifeTime(500)] {
            let (ct, p) = rel.to_wire(ordered);
            assert_eq!(ct.ordered(), ordered);
            assert_eq!(Reliability::from_wire(ct, p), (ordered, rel));
        }
    }
    // The wire parameter is 32 bits, the W3C attribute 16: saturate.
    assert_eq!(Reliability::MaxRetransmits(70_000).max_retransmits(), Some(u16::MAX));
    assert_eq!(Reliability::MaxPacketLifeTime(u32::MAX).max_packet_life_time(), Some(u16::MAX));
    // A reliable channel's parameter is ignored on receipt (RFC 8832 §5.1).
    assert_eq!(Reliability::from_wire(ChannelType::Reliable, 99), (true, Reliability::Reliable));
}

#[test]
fn api_length_limits() {
    let long = "x".repeat(MAX_LABEL_LEN + 1);
    assert_eq!(
        DataChannelOpen::new(true, Reliability::Reliable, 0, long.clone(), String::new()),
        Err(DcepError::LabelTooLong)
    );
    assert_eq!(
        DataChannelOpen::new(true, Reliability::Reliable, 0, String::new(), long),
        Err(DcepError::ProtocolTooLong)
    );
    let max = "y".repeat(MAX_LABEL_LEN);
    let m = DcepMessage::Open(
        DataChannelOpen::new(true, Reliability::Reliable, 0, max.clone(), max).unwrap(),
    );
    let bytes = encoded(&m);
    assert_eq!(bytes.len(), OPEN_HEADER_LEN + 2 * MAX_LABEL_LEN);
    assert_eq!(DcepMessage::decode(&bytes), Ok(m));
    assert!(!DcepError::LabelTooLong.is_bad_bytes());
    assert!(DcepError::Truncated.is_bad_bytes());
}

#[test]
fn malformed_rejected() {
    let good = encoded(&open(true, Reliability::Reliable, "abc", "de"));
    // Every truncation of every fixture is an error, never a panic.
    for (name, m) in fixtures() {
        let bytes = encoded(&m);
        for n in 0..bytes.len() {
            assert!(DcepMessage::decode(&bytes[..n]).is_err(), "{name} truncated to {n}");
        }
    }
    assert_eq!(DcepMessage::decode(&[]), Err(DcepError::Truncated));
    // Label length larger than the message.
    let mut b = good.clone();
    b[8] = 0xff;
    b[9] = 0xff;
    assert_eq!(DcepMessage::decode(&b), Err(DcepError::Truncated));
    // Protocol length one too long / one too short.
    let mut b = good.clone();
    b[11] = 3;
    assert_eq!(DcepMessage::decode(&b), Err(DcepError::Truncated));
    let mut b = good.clone();
    b[11] = 1;
    assert_eq!(DcepMessage::decode(&b), Err(DcepError::TrailingBytes));
    // Trailing bytes after a valid message / ACK.
    let mut b = good.clone();
    b.push(0);
    assert_eq!(DcepMessage::decode(&b), Err(DcepError::TrailingBytes));
    assert_eq!(DcepMessage::decode(&[0x02, 0x00]), Err(DcepError::TrailingBytes));
    // Unknown message and channel types.
    assert_eq!(DcepMessage::decode(&[0x01]), Err(DcepError::UnknownMessageType(0x01)));
    let mut b = good.clone();
    b[1] = 0x03;
    assert_eq!(DcepMessage::decode(&b), Err(DcepError::UnknownChannelType(0x03)));
    // Label not UTF-8.
    let mut b = good.clone();
    b[12] = 0xff;
    assert_eq!(DcepMessage::decode(&b), Err(DcepError::InvalidUtf8));
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::seeded(8832);
    let mut buf = [0u8; 64];
    for i in 0..20_000 {
        let len = rng.below(64) as usize;
        rng.fill(&mut buf[..len]);
        // Make a good share look like an OPEN so the deeper paths run.
        if len > 0 && i % 2 == 0 {
            buf[0] = MESSAGE_TYPE_OPEN;
        }
        if len > 1 && i % 4 == 0 {
            buf[1] = 0x00;
        }
        if let Ok(m) = DcepMessage::decode(&buf[..len]) {
            assert_eq!(encoded(&m), &buf[..len]);
        }
        let ppid = [50, 51, 52, 53, 54, 55, 56, 57, rng.u32()][rng.below(9) as usize];
        let _ = decode_payload(ppid, buf[..len].to_vec());
    }
}

#[test]
fn payload_framing() {
    assert_eq!(ppid_for(false, 3), ppid::STRING);
    assert_eq!(ppid_for(true, 3), ppid::BINARY);
    assert_eq!(ppid_for(false, 0), ppid::STRING_EMPTY);
    assert_eq!(ppid_for(true, 0), ppid::BINARY_EMPTY);
    assert_eq!(encode_payload(false, b""), (56, vec![0]));
    assert_eq!(encode_payload(true, b""), (57, vec![0]));
    assert_eq!(encode_payload(true, b"\x01\x02"), (53, vec![1, 2]));

    for binary in [false, true] {
        for data in [&b""[..], b"hello"] {
            let (p, wire) = encode_payload(binary, data);
            assert_eq!(decode_payload(p, wire), Ok((binary, data.to_vec())));
        }
    }
    // Empty PPIDs ignore whatever the single byte is.
    assert_eq!(decode_payload(56, vec![7]), Ok((false, vec![])));
    assert_eq!(decode_payload(57, vec![]), Ok((true, vec![])));
    // Deprecated partial PPIDs are treated as complete messages.
    assert_eq!(decode_payload(52, b"ab".to_vec()), Ok((false, b"ab".to_vec())));
    assert_eq!(decode_payload(54, vec![9]), Ok((true, vec![9])));
    // Invalid UTF-8 in a string message is delivered with replacement characters.
    assert_eq!(decode_payload(51, vec![b'a', 0xff, b'b']), Ok((false, "a\u{fffd}b".as_bytes().to_vec())));
    // Binary is passed through untouched.
    assert_eq!(decode_payload(53, vec![0xff]), Ok((true, vec![0xff])));
    assert_eq!(decode_payload(50, vec![2]), Err(DcepError::NotUserMessage));
    assert_eq!(decode_payload(55, vec![1]), Err(DcepError::UnknownPpid(55)));
    assert_eq!(decode_payload(0, vec![1]), Err(DcepError::UnknownPpid(0)));
}

#[test]
fn stream_id_parity() {
    assert!(stream_id_is_ours(0, true));
    assert!(stream_id_is_ours(2, true));
    assert!(!stream_id_is_ours(1, true));
    assert!(stream_id_is_ours(1, false));
    assert!(!stream_id_is_ours(0, false));
    assert!(stream_id_is_ours(65534, true));
    assert!(stream_id_is_ours(65533, false));
}

#[test]
fn allocator_lowest_free_of_our_parity() {
    let mut client = StreamIdAllocator::new(true);
    assert_eq!(client.allocate(), Some(0));
    assert_eq!(client.allocate(), Some(2));
    // A negotiated channel or the peer's channel occupies an id.
    assert!(client.reserve(4));
    assert!(!client.reserve(4));
    assert!(client.reserve(1));
    assert_eq!(client.allocate(), Some(6));
    client.release(2);
    assert_eq!(client.allocate(), Some(2));
    assert_eq!(client.in_use(), 5);
    client.release(2);
    client.release(2);
    assert_eq!(client.in_use(), 4);
    assert!(!client.is_used(2));

    let mut server = StreamIdAllocator::new(false);
    assert_eq!(server.allocate(), Some(1));
    assert_eq!(server.allocate(), Some(3));
    assert!(!server.reserve(65535), "65535 is reserved");
}

#[test]
fn allocator_exhaustion() {
    let mut client = StreamIdAllocator::new(true);
    let mut n = 0;
    let mut last = 0;
    while let Some(id) = client.allocate() {
        assert!(stream_id_is_ours(id, true));
        last = id;
        n += 1;
    }
    assert_eq!(n, 32768); // 0, 2, ..., 65534
    assert_eq!(last, MAX_STREAM_ID);
    client.release(1000);
    assert_eq!(client.allocate(), Some(1000));
    assert_eq!(client.allocate(), None);

    let mut server = StreamIdAllocator::new(false);
    let mut n = 0;
    while server.allocate().is_some() {
        n += 1;
    }
    assert_eq!(n, 32767); // 1, 3, ..., 65533
    assert!(n + 32768 <= MAX_CHANNELS);

    // A negotiated stream count bounds the ids.
    let mut small = StreamIdAllocator::new(false);
    small.set_stream_limit(4);
    assert_eq!(small.allocate(), Some(1));
    assert_eq!(small.allocate(), Some(3));
    assert_eq!(small.allocate(), None);
    assert!(!small.reserve(4));
    assert!(small.reserve(2));
}
