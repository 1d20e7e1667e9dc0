//! Round trips, hand-built vectors from the RFC figures, malformed input, and seeded
//! random / mutated input through the fuzz helpers.

use super::extension::{
    parse_sdes_value, parse_transport_cc, transport_cc_bytes, uri, ONE_BYTE_PROFILE,
};
use super::fuzz::{fuzz_rtcp, fuzz_rtcp_seeds, fuzz_rtp, fuzz_rtp_seeds};
use super::rtcp::*;
use super::*;
use crate::crypto::Rng;
use crate::Time;

fn encode(p: &RtpPacket<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    p.encode(&mut out).unwrap();
    assert_eq!(out.len(), p.encoded_len());
    out
}

fn compound(packets: &[RtcpPacket]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_compound(packets, &mut out).unwrap();
    out
}

/// Parse -> serialize gives the same bytes, and serialize -> parse the same value.
fn rtcp_canonical(bytes: &[u8]) -> Vec<RtcpPacket> {
    let packets = parse_compound(bytes).unwrap();
    assert_eq!(compound(&packets), bytes, "not canonical: {packets:?}");
    packets
}

// ---------------------------------------------------------------------------------------
// RTP
// ---------------------------------------------------------------------------------------

/// RFC 3550 §5.1: V=2, P=0, X=0, CC=0, M=0, PT=96, then sequence number, timestamp, SSRC.
#[test]
fn rtp_fixed_header() {
    let bytes = [
        0x80, 0x60, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb, 0xcc,
    ];
    let p = RtpPacket::parse(&bytes).unwrap();
    assert!(!p.header.marker);
    assert_eq!(p.header.payload_type, 96);
    assert_eq!(p.header.sequence_number, 0x1234);
    assert_eq!(p.header.timestamp, 0xdead_beef);
    assert_eq!(p.header.ssrc, 0x0102_0304);
    assert!(p.header.csrcs.is_empty() && p.header.extensions.is_empty());
    assert_eq!(p.payload, &[0xaa, 0xbb, 0xcc]);
    assert_eq!((p.padding, p.header_len()), (0, RTP_HEADER_LEN));
    assert_eq!(encode(&p), bytes);
}

#[test]
fn rtp_marker_csrcs_padding() {
    // V=2 P=1 X=0 CC=2, M=1 PT=111; two CSRCs; payload 2 bytes; 3 bytes of padding.
    let bytes = [
        0xa2, 0xef, 0x00, 0x01, 0x00, 0x00, 0x03, 0xc0, 0x11, 0x11, 0x11, 0x11, 0x00, 0x00, 0x00,
        0x07, 0x00, 0x00, 0x00, 0x08, 0x55, 0x66, 0x00, 0x00, 0x03,
    ];
    let p = RtpPacket::parse(&bytes).unwrap();
    assert!(p.header.marker);
    assert_eq!(p.header.payload_type, 111);
    assert_eq!(p.header.csrcs.as_slice(), &[7, 8]);
    assert_eq!(p.payload, &[0x55, 0x66]);
    assert_eq!(p.padding, 3);
    assert_eq!(encode(&p), bytes);
    // Padding fills the whole rest: a padding-only packet.
    let probe = [0xa0, 0x61, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4];
    let p = RtpPacket::parse(&probe).unwrap();
    assert_eq!((p.payload.len(), p.padding), (0, 4));
    assert_eq!(encode(&p), probe);
}

#[test]
fn rtp_errors() {
    let good = [0x80, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    for v in [0x00, 0x40, 0xc0] {
        let mut b = good;
        b[0] = v;
        assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadVersion));
    }
    // Padding count zero, and longer than what follows the header.
    let mut b = good.to_vec();
    b[0] |= 0x20;
    b.extend_from_slice(&[1, 2, 0]);
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadPadding));
    *b.last_mut().unwrap() = 4;
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadPadding));
    *b.last_mut().unwrap() = 3;
    assert_eq!(RtpPacket::parse(&b).unwrap().payload, &[] as &[u8]);
    let mut b = good.to_vec();
    b[0] |= 0x20;
    assert_eq!(
        RtpPacket::parse(&b),
        Err(RtpError::BadPadding),
        "P bit and nothing after the header"
    );
    // CC says 3 CSRCs, 2 are there.
    let mut b = good.to_vec();
    b[0] |= 3;
    b.extend_from_slice(&[0; 8]);
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::Truncated));
    // Extension length lies.
    let mut b = good.to_vec();
    b[0] |= 0x10;
    b.extend_from_slice(&[0xbe, 0xde, 0, 2, 0x10, 0xaa, 0, 0]);
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::Truncated));
    // One-byte element longer than the block.
    let mut b = good.to_vec();
    b[0] |= 0x10;
    b.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x13, 0xaa, 0xbb, 0xcc]);
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadExtension));
    // Two-byte element without its length byte.
    let mut b = good.to_vec();
    b[0] |= 0x10;
    b.extend_from_slice(&[0x10, 0x00, 0, 1, 0, 0, 0, 0x05]);
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadExtension));
    // Two-byte element running past the block.
    let mut b = good.to_vec();
    b[0] |= 0x10;
    b.extend_from_slice(&[0x10, 0x00, 0, 1, 0x05, 0x03, 1, 2]);
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadExtension));
    // More elements than MAX_EXTENSIONS.
    let mut b = good.to_vec();
    b[0] |= 0x10;
    b.extend_from_slice(&[0xbe, 0xde, 0, 9]);
    b.extend(core::iter::repeat_n([0x10, 0xaa], 18).flatten());
    assert_eq!(RtpPacket::parse(&b), Err(RtpError::TooMany));
    assert_eq!(RtpPacket::parse(&[]), Err(RtpError::Truncated));
}

#[test]
fn rtp_truncated_at_every_length() {
    for (_, bytes) in fuzz_rtp_seeds() {
        let p = RtpPacket::parse(&bytes).unwrap();
        for n in 0..bytes.len() {
            let r = RtpPacket::parse(&bytes[..n]);
            if n < p.header_len() {
                assert!(r.is_err(), "prefix of {n} bytes parsed");
            } else if p.padding == 0 {
                // A shorter payload, still a packet.
                assert_eq!(r.unwrap().payload, &p.payload[..n - p.header_len()]);
            }
        }
    }
}

/// RFC 8285 §4.2 figure: elements of 1, 2 and 4 bytes, two padding bytes between the
/// second and the third; length 3 words.
#[test]
fn rfc8285_one_byte_figure() {
    let mut b = vec![0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    b.extend_from_slice(&[0xbe, 0xde, 0x00, 0x03]);
    b.extend_from_slice(&[
        0x10, 0xa1, 0x21, 0xb1, 0xb2, 0x00, 0x00, 0x33, 0xc1, 0xc2, 0xc3, 0xc4,
    ]);
    b.extend_from_slice(b"payload");
    let p = RtpPacket::parse(&b).unwrap();
    let ext = p.header.extensions;
    assert_eq!(ext.form(), Some(ExtensionForm::OneByte));
    let items: Vec<(u8, &[u8])> = ext.iter().collect();
    assert_eq!(
        items,
        vec![
            (1, &[0xa1][..]),
            (2, &[0xb1, 0xb2][..]),
            (3, &[0xc1, 0xc2, 0xc3, 0xc4][..])
        ]
    );
    assert_eq!(p.payload, b"payload");
    // We write no padding between elements: 10 bytes, padded to 12 at the end.
    let out = encode(&p);
    assert_eq!(
        &out[12..28],
        &[0xbe, 0xde, 0, 3, 0x10, 0xa1, 0x21, 0xb1, 0xb2, 0x33, 0xc1, 0xc2, 0xc3, 0xc4, 0, 0]
    );
    assert_eq!(RtpPacket::parse(&out).unwrap(), p);
    assert_eq!(encode(&RtpPacket::parse(&out).unwrap()), out);
}

/// RFC 8285 §4.3 figure: elements of 0, 1 and 4 bytes, one padding byte before the third.
#[test]
fn rfc8285_two_byte_figure() {
    let mut b = vec![0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    b.extend_from_slice(&[0x10, 0x00, 0x00, 0x03]);
    b.extend_from_slice(&[
        0x01, 0x00, 0x02, 0x01, 0xb1, 0x00, 0x03, 0x04, 0xc1, 0xc2, 0xc3, 0xc4,
    ]);
    let p = RtpPacket::parse(&b).unwrap();
    let ext = p.header.extensions;
    assert_eq!(ext.form(), Some(ExtensionForm::TwoByte { appbits: 0 }));
    assert_eq!(ext.get(1), Some(&[][..]));
    assert_eq!(ext.get(2), Some(&[0xb1][..]));
    assert_eq!(ext.get(3), Some(&[0xc1, 0xc2, 0xc3, 0xc4][..]));
    assert_eq!(ext.get(4), None);
    let out = encode(&p);
    assert_eq!(
        &out[12..],
        &[0x10, 0x00, 0, 3, 1, 0, 2, 1, 0xb1, 3, 4, 0xc1, 0xc2, 0xc3, 0xc4, 0]
    );
    assert_eq!(RtpPacket::parse(&out).unwrap(), p);
    // Application bits are kept.
    let mut b2 = b.clone();
    b2[13] = 0x07;
    let p = RtpPacket::parse(&b2).unwrap();
    assert_eq!(
        p.header.extensions.form(),
        Some(ExtensionForm::TwoByte { appbits: 7 })
    );
    assert_eq!(encode(&p)[13], 0x07);
}

#[test]
fn wire_header_len_for_srtp() {
    // One CSRC, a one-byte block of 3 words holding one element and padding: 32 bytes of
    // header on the wire, 24 once rewritten without the padding.
    let mut b = vec![0x91, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 9];
    b.extend_from_slice(&[0xbe, 0xde, 0x00, 0x03]);
    b.extend_from_slice(&[
        0x10, 0xa1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    b.extend_from_slice(b"encrypted");
    assert_eq!(wire_header_len(&b), Ok(32));
    assert_eq!(
        RtpPacket::parse(&b).unwrap().header_len(),
        24,
        "canonical: one element"
    );
    assert_eq!(wire_header_len(&b[..31]), Err(RtpError::Truncated));
    assert_eq!(
        wire_header_len(&[0x80, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]),
        Ok(12)
    );
    assert_eq!(
        wire_header_len(&[0x40, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]),
        Err(RtpError::BadVersion)
    );
    assert_eq!(wire_header_len(&[]), Err(RtpError::Truncated));
    // Padding is not looked at (it is encrypted under SRTP).
    assert_eq!(
        wire_header_len(&[0xa0, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0]),
        Ok(12)
    );
}

#[test]
fn one_byte_id_15_stops_parsing() {
    let mut b = vec![0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    b.extend_from_slice(&[
        0xbe, 0xde, 0x00, 0x02, 0x10, 0xaa, 0xf3, 0x20, 0xbb, 0, 0, 0,
    ]);
    let p = RtpPacket::parse(&b).unwrap();
    assert_eq!(
        p.header.extensions.iter().collect::<Vec<_>>(),
        vec![(1, &[0xaa][..])]
    );
    // An empty RFC 8285 block is no extension at all once rewritten.
    let mut e = vec![
        0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xbe, 0xde, 0, 1, 0, 0, 0, 0, 9,
    ];
    let p = RtpPacket::parse(&e).unwrap();
    assert!(p.header.extensions.is_empty());
    assert_eq!(encode(&p), [0x80, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9]);
    e[0] = 0x80;
    assert_eq!(RtpPacket::parse(&e).unwrap().payload.len(), 9);
}

#[test]
fn extension_form_is_chosen() {
    let long = [7u8; 17];
    type Row<'a> = (&'a str, &'a [(u8, &'a [u8])], Option<ExtensionForm>);
    let rows: [Row<'_>; 5] = [
        (
            "fits one-byte",
            &[(1, b"a"), (14, b"0123456789abcdef")],
            Some(ExtensionForm::OneByte),
        ),
        (
            "id above 14",
            &[(1, b"a"), (15, b"b")],
            Some(ExtensionForm::TwoByte { appbits: 0 }),
        ),
        (
            "17 bytes",
            &[(2, &long)],
            Some(ExtensionForm::TwoByte { appbits: 0 }),
        ),
        (
            "empty value",
            &[(3, b"")],
            Some(ExtensionForm::TwoByte { appbits: 0 }),
        ),
        ("none", &[], None),
    ];
    for (name, items, form) in rows {
        let mut h = RtpHeader::new(100, 1, 2, 3);
        for (id, d) in items {
            h.extensions.push(*id, d).unwrap();
        }
        assert_eq!(h.extensions.form(), form, "{name}");
        let p = RtpPacket::new(h, b"x");
        let out = encode(&p);
        assert_eq!(RtpPacket::parse(&out).unwrap(), p, "{name}");
        assert_eq!(out.len() % 4, 1, "{name}: header is whole words");
    }
    let mut h = RtpHeader::new(100, 1, 2, 3);
    h.extensions.push(1, b"a").unwrap();
    h.extensions.use_two_byte(0x15);
    assert_eq!(
        h.extensions.form(),
        Some(ExtensionForm::TwoByte { appbits: 5 })
    );
    let p = RtpPacket::new(h, b"");
    assert_eq!(RtpPacket::parse(&encode(&p)).unwrap(), p);
}

#[test]
fn rtp_values_that_cannot_be_written() {
    let mut out = vec![1, 2, 3];
    let p = RtpPacket::new(RtpHeader::new(128, 1, 2, 3), b"x");
    assert_eq!(p.encode(&mut out), Err(RtpError::InvalidValue));
    assert_eq!(out, [1, 2, 3], "nothing appended on error");
    let mut e = HeaderExtensions::new();
    assert_eq!(e.push(0, b"a"), Err(RtpError::InvalidValue));
    assert_eq!(e.push(1, &[0; 256]), Err(RtpError::InvalidValue));
    for _ in 0..MAX_EXTENSIONS {
        e.push(1, b"a").unwrap();
    }
    assert_eq!(e.push(1, b"a"), Err(RtpError::TooMany));
    assert_eq!(
        e.set_raw(ONE_BYTE_PROFILE, &[]),
        Err(RtpError::InvalidValue)
    );
    assert_eq!(e.set_raw(0x1003, &[]), Err(RtpError::InvalidValue));
    assert_eq!(e.set_raw(0x1234, &[1, 2, 3]), Err(RtpError::InvalidValue));
    e.set_raw(0x1234, &[1, 2, 3, 4]).unwrap();
    assert_eq!(
        (e.len(), e.raw(), e.form()),
        (0, Some((0x1234, &[1, 2, 3, 4][..])), None)
    );
    assert_eq!(e.push(1, b"a"), Err(RtpError::InvalidValue));
    let mut h = RtpHeader::new(0, 0, 0, 0);
    h.extensions = e;
    let p = RtpPacket::new(h, b"");
    assert_eq!(RtpPacket::parse(&encode(&p)).unwrap(), p);
    assert_eq!(Csrcs::from_slice(&[0; 16]), Err(RtpError::TooMany));
    assert_eq!(Csrcs::from_slice(&[0; 15]).unwrap().len(), MAX_CSRCS);
}

#[test]
fn known_extensions_through_the_map() {
    let mut map = ExtensionMap::new();
    map.insert(1, uri::MID).unwrap();
    map.insert(2, uri::RTP_STREAM_ID).unwrap();
    map.insert(3, uri::REPAIRED_RTP_STREAM_ID).unwrap();
    map.insert(4, uri::ABS_SEND_TIME).unwrap();
    map.insert(5, uri::TRANSPORT_CC).unwrap();
    map.insert_kind(6, ExtensionKind::AudioLevel).unwrap();
    map.insert(7, "urn:example:other").unwrap();
    assert_eq!(map.kind(6), Some(ExtensionKind::AudioLevel));
    assert_eq!(map.kind(7), None);
    assert_eq!(map.id(ExtensionKind::TransportCc), Some(5));
    assert_eq!(map.uri(7), Some("urn:example:other"));
    let ast = AbsSendTime::from_time(Time::from_micros(1_500_000));
    assert_eq!(ast.raw(), 3 << 17, "1.5 s in 6.18 fixed point");
    assert_eq!(ast.to_micros(), 1_500_000);
    let ast_bytes = ast.to_bytes();
    let tcc = transport_cc_bytes(0xbeef);
    let level = AudioLevel::new(true, 30).unwrap().to_bytes();
    assert_eq!(level, [0x9e]);
    let mut h = RtpHeader::new(96, 1, 2, 3);
    for (kind, d) in [
        (ExtensionKind::Mid, &b"v0"[..]),
        (ExtensionKind::RtpStreamId, b"hi\0"),
        (ExtensionKind::RepairedRtpStreamId, b"lo"),
        (ExtensionKind::AbsSendTime, &ast_bytes),
        (ExtensionKind::TransportCc, &tcc),
        (ExtensionKind::AudioLevel, &level),
    ] {
        assert_eq!(map.push(&mut h.extensions, kind, d), Ok(true));
    }
    assert_eq!(
        ExtensionMap::new().push(&mut h.extensions, ExtensionKind::Mid, b"x"),
        Ok(false)
    );
    h.extensions.push(7, b"zz").unwrap();
    let p = RtpPacket::new(h, b"frame");
    let bytes = encode(&p);
    let q = RtpPacket::parse(&bytes).unwrap();
    let k = map.read(&q.header.extensions);
    assert_eq!(k.mid, Some("v0"));
    assert_eq!(k.rid, Some("hi"), "a trailing NUL is cut");
    assert_eq!(k.repaired_rid, Some("lo"));
    assert_eq!(k.abs_send_time, Some(ast));
    assert_eq!(k.transport_cc, Some(0xbeef));
    let a = k.audio_level.unwrap();
    assert!(a.voice_activity);
    assert_eq!(a.level(), 30);
    // Nothing known without a map.
    assert_eq!(
        ExtensionMap::new().read(&q.header.extensions),
        KnownExtensions::default()
    );
}

#[test]
fn typed_extension_values() {
    assert_eq!(parse_sdes_value(b""), None);
    assert_eq!(parse_sdes_value(b"\0abc"), None);
    assert_eq!(parse_sdes_value(b"ab\0c"), Some("ab"));
    assert_eq!(parse_sdes_value(&[0xff]), None);
    assert_eq!(parse_transport_cc(&[1]), None);
    assert_eq!(
        parse_transport_cc(&[1, 2, 3, 4]),
        Some(0x0102),
        "transport-cc-02 appends 2 bytes"
    );
    assert_eq!(AbsSendTime::parse(&[1, 2]), None);
    assert_eq!(
        AbsSendTime::parse(&[0xff, 0xff, 0xff]).map(AbsSendTime::raw),
        Some(0xff_ffff)
    );
    // 64 s wrap, and 2^-18 s resolution rounded down.
    assert_eq!(
        AbsSendTime::from_time(Time::from_micros(64_000_000)).raw(),
        0
    );
    assert_eq!(
        AbsSendTime::from_time(Time::from_micros(65_000_000)).raw(),
        1 << 18
    );
    assert_eq!(AbsSendTime::from_time(Time::from_micros(3)).raw(), 0);
    assert_eq!(AbsSendTime::from_time(Time::from_micros(4)).raw(), 1);
    assert_eq!(AbsSendTime::from_raw(0x1ff_ffff).raw(), 0xff_ffff);
    assert_eq!(AudioLevel::new(false, 128), None);
    assert_eq!(AudioLevel::parse(&[0x7f, 0]), AudioLevel::new(false, 127));
    assert_eq!(AudioLevel::parse(&[]), None);
    assert_eq!(
        ExtensionKind::from_uri(uri::AUDIO_LEVEL),
        Some(ExtensionKind::AudioLevel)
    );
    for k in ExtensionKind::ALL {
        assert_eq!(ExtensionKind::from_uri(k.uri()), Some(k));
    }
}

#[test]
fn extension_map_bounds() {
    let mut m = ExtensionMap::new();
    assert_eq!(m.insert(0, uri::MID), Err(RtpError::InvalidValue));
    assert_eq!(m.insert(1, ""), Err(RtpError::InvalidValue));
    assert_eq!(
        m.insert(1, &"x".repeat(MAX_EXTENSION_URI_LEN + 1)),
        Err(RtpError::InvalidValue)
    );
    m.insert(1, uri::MID).unwrap();
    m.insert(1, uri::TRANSPORT_CC).unwrap();
    assert_eq!(
        (m.len(), m.uri(1)),
        (1, Some(uri::TRANSPORT_CC)),
        "an id is remapped"
    );
    m.insert(2, uri::TRANSPORT_CC).unwrap();
    assert_eq!(
        (m.len(), m.id(ExtensionKind::TransportCc)),
        (1, Some(2)),
        "a URI moves"
    );
    for id in 1..=u8::try_from(MAX_EXTENSION_MAP_ENTRIES).unwrap() {
        m.insert(id, &format!("urn:x:{id}")).unwrap();
    }
    assert_eq!(m.len(), MAX_EXTENSION_MAP_ENTRIES);
    assert_eq!(m.insert(200, "urn:x:more"), Err(RtpError::TooMany));
    m.remove(3);
    assert_eq!((m.len(), m.uri(3)), (MAX_EXTENSION_MAP_ENTRIES - 1, None));
    assert_eq!(m.iter().count(), m.len());
}

#[test]
fn rtp_rtcp_demux() {
    assert!(is_rtcp(&[0x80, 200]));
    assert!(is_rtcp(&[0x81, 206]));
    assert!(!is_rtcp(&[0x80, 0x60]));
    assert!(!is_rtcp(&[0x80, 0xe0]), "marker set, PT 96");
    assert!(!is_rtcp(&[0x80]));
}

// ---------------------------------------------------------------------------------------
// RTCP
// ---------------------------------------------------------------------------------------

fn block_bytes() -> [u8; 24] {
    [
        0x0a, 0x0b, 0x0c, 0x0d, // SSRC
        0x40, 0xff, 0xff, 0xfe, // fraction lost 64/256, cumulative lost -2
        0x00, 0x01, 0x12, 0x34, // extended highest sequence number
        0x00, 0x00, 0x00, 0x55, // jitter
        0x12, 0x34, 0x56, 0x78, // LSR
        0x00, 0x01, 0x00, 0x00, // DLSR (1 s)
    ]
}

fn block() -> ReportBlock {
    ReportBlock {
        ssrc: 0x0a0b_0c0d,
        fraction_lost: 64,
        cumulative_lost: -2,
        extended_highest_seq: 0x0001_1234,
        jitter: 0x55,
        last_sr: 0x1234_5678,
        delay_since_last_sr: 0x10000,
    }
}

/// RFC 3550 §6.4.1 layout: header (RC=1, PT=200, length 12), SSRC, sender info, one block.
#[test]
fn sender_report() {
    let mut b = vec![0x81, 200, 0x00, 0x0c, 0x11, 0x22, 0x33, 0x44];
    b.extend_from_slice(&[0xe8, 0xf0, 0x12, 0x34, 0x80, 0x00, 0x00, 0x00]); // NTP
    b.extend_from_slice(&[0x00, 0x01, 0x5f, 0x90]); // RTP timestamp 90000
    b.extend_from_slice(&[0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x2e, 0xe0]); // 10 packets, 12000 octets
    b.extend_from_slice(&block_bytes());
    let packets = rtcp_canonical(&b);
    let want = RtcpPacket::SenderReport(SenderReport {
        ssrc: 0x1122_3344,
        info: SenderInfo {
            ntp_time: 0xe8f0_1234_8000_0000,
            rtp_time: 90000,
            packet_count: 10,
            octet_count: 12000,
        },
        reports: vec![block()],
        extension: Vec::new(),
    });
    assert_eq!(packets, vec![want]);
}

/// RFC 3550 §6.4.2: RR with two blocks, then one with none and a profile extension.
#[test]
fn receiver_report() {
    let mut b = vec![0x82, 201, 0x00, 0x0d, 0, 0, 0, 1];
    b.extend_from_slice(&block_bytes());
    b.extend_from_slice(&block_bytes());
    b.extend_from_slice(&[0x80, 201, 0x00, 0x02, 0, 0, 0, 2, 0xca, 0xfe, 0xba, 0xbe]);
    let packets = rtcp_canonical(&b);
    assert_eq!(
        packets,
        vec![
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: 1,
                reports: vec![block(), block()],
                extension: vec![]
            }),
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: 2,
                reports: vec![],
                extension: vec![0xca, 0xfe, 0xba, 0xbe]
            }),
        ]
    );
    // RC says 2 blocks, one is there.
    let mut short = vec![0x82, 201, 0x00, 0x07, 0, 0, 0, 1];
    short.extend_from_slice(&block_bytes());
    assert_eq!(parse_compound(&short), Err(RtpError::Truncated));
    let big = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 1,
        reports: vec![block(); 32],
        extension: vec![],
    });
    assert_eq!(big.encode(&mut Vec::new()), Err(RtpError::TooMany));
    let mut bad = block();
    bad.cumulative_lost = 1 << 23;
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 1,
        reports: vec![bad],
        extension: vec![],
    });
    assert_eq!(rr.encode(&mut Vec::new()), Err(RtpError::InvalidValue));
    bad.cumulative_lost = -(1 << 23);
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 1,
        reports: vec![bad],
        extension: vec![],
    });
    let mut out = Vec::new();
    rr.encode(&mut out).unwrap();
    assert_eq!(parse_compound(&out).unwrap(), vec![rr]);
}

/// RFC 3550 §6.5: one chunk with a 16-byte CNAME (4 + 18 + null = 23, padded to 24), one
/// with CNAME and NOTE, one with no item (SSRC and four nulls).
#[test]
fn sdes() {
    let mut b = vec![0x83, 202, 0x00, 0x0c, 0x11, 0x22, 0x33, 0x44, 1, 16];
    b.extend_from_slice(b"user@example.org");
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&[0, 0, 0, 2, 1, 1, b'a', 7, 3, b'h', b'e', b'y', 0, 0, 0, 0]);
    b.extend_from_slice(&[0, 0, 0, 3, 0, 0, 0, 0]);
    let packets = rtcp_canonical(&b);
    let RtcpPacket::Sdes(s) = &packets[0] else {
        panic!("{packets:?}")
    };
    assert_eq!(s.chunks.len(), 3);
    assert_eq!(
        s.chunks[0],
        SdesChunk::cname(0x1122_3344, "user@example.org")
    );
    assert_eq!(s.chunks[1].item(sdes::NOTE), Some(&b"hey"[..]));
    assert_eq!(s.chunks[1].item(sdes::CNAME), Some(&b"a"[..]));
    assert!(s.chunks[2].items.is_empty());
    // No null item before the end.
    let cut = [0x81, 202, 0x00, 0x02, 0, 0, 0, 1, 1, 2, b'a', b'b'];
    assert_eq!(parse_compound(&cut), Err(RtpError::Truncated));
    // An item's length runs past the packet.
    let lie = [0x81, 202, 0x00, 0x02, 0, 0, 0, 1, 1, 9, b'a', 0];
    assert_eq!(parse_compound(&lie), Err(RtpError::Truncated));
    // Bytes after the SC chunks.
    let extra = [0x81, 202, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4];
    assert_eq!(parse_compound(&extra), Err(RtpError::TrailingBytes));
    let items = vec![
        SdesItem {
            kind: sdes::TOOL,
            value: b"x".to_vec()
        };
        MAX_SDES_ITEMS + 1
    ];
    let many = RtcpPacket::Sdes(Sdes {
        chunks: vec![SdesChunk { ssrc: 1, items }],
    });
    let mut out = Vec::new();
    assert_eq!(many.encode(&mut out), Err(RtpError::TooMany));
    assert!(out.is_empty());
    // Parsing refuses the same.
    let mut b = vec![0x81, 202, 0x00, 0x00, 0, 0, 0, 1];
    for _ in 0..=MAX_SDES_ITEMS {
        b.extend_from_slice(&[6, 1, b'x']);
    }
    b.push(0);
    while b.len() % 4 != 0 {
        b.push(0);
    }
    b[3] = u8::try_from(b.len() / 4 - 1).unwrap();
    assert_eq!(parse_compound(&b), Err(RtpError::TooMany));
    let long = RtcpPacket::Sdes(Sdes {
        chunks: vec![SdesChunk {
            ssrc: 1,
            items: vec![SdesItem {
                kind: 1,
                value: vec![b'a'; 256],
            }],
        }],
    });
    assert_eq!(long.encode(&mut Vec::new()), Err(RtpError::TooMany));
    let end = RtcpPacket::Sdes(Sdes {
        chunks: vec![SdesChunk {
            ssrc: 1,
            items: vec![SdesItem {
                kind: 0,
                value: vec![],
            }],
        }],
    });
    assert_eq!(end.encode(&mut Vec::new()), Err(RtpError::InvalidValue));
}

/// RFC 3550 §6.6: BYE with two SSRCs and a reason, and with none.
#[test]
fn bye() {
    let b = [
        0x82, 203, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 3, b'b', b'y', b'e',
    ];
    let packets = rtcp_canonical(&b);
    assert_eq!(
        packets,
        vec![RtcpPacket::Bye(Bye {
            ssrcs: vec![1, 2],
            reason: Some(b"bye".to_vec())
        })]
    );
    let b = [
        0x81, 203, 0x00, 0x03, 0, 0, 0, 1, 5, b'l', b'e', b'a', b'v', b'e', 0, 0,
    ];
    assert_eq!(
        rtcp_canonical(&b),
        vec![RtcpPacket::Bye(Bye {
            ssrcs: vec![1],
            reason: Some(b"leave".to_vec())
        })]
    );
    let b = [0x81, 203, 0x00, 0x01, 0, 0, 0, 9];
    assert_eq!(
        rtcp_canonical(&b),
        vec![RtcpPacket::Bye(Bye {
            ssrcs: vec![9],
            reason: None
        })]
    );
    let lie = [0x81, 203, 0x00, 0x02, 0, 0, 0, 1, 9, b'a', 0, 0];
    assert_eq!(parse_compound(&lie), Err(RtpError::Truncated));
    let extra = [0x81, 203, 0x00, 0x03, 0, 0, 0, 1, 1, b'a', 0, 0, 0, 0, 0, 0];
    assert_eq!(parse_compound(&extra), Err(RtpError::TrailingBytes));
}

/// RFC 3550 §6.7: APP kept opaque; data that is not whole words is padded with the P bit.
#[test]
fn app() {
    let b = [
        0x85, 204, 0x00, 0x03, 0, 0, 0, 7, b'T', b'E', b'S', b'T', 1, 2, 3, 4,
    ];
    let want = App {
        subtype: 5,
        ssrc: 7,
        name: *b"TEST",
        data: vec![1, 2, 3, 4],
    };
    assert_eq!(rtcp_canonical(&b), vec![RtcpPacket::App(want)]);
    let odd = RtcpPacket::App(App {
        subtype: 0,
        ssrc: 7,
        name: *b"ODD!",
        data: vec![1, 2, 3, 4, 5],
    });
    let out = compound(core::slice::from_ref(&odd));
    assert_eq!(
        out,
        [0xa0, 204, 0, 4, 0, 0, 0, 7, b'O', b'D', b'D', b'!', 1, 2, 3, 4, 5, 0, 0, 3]
    );
    assert_eq!(parse_compound(&out).unwrap(), vec![odd]);
    let bad = RtcpPacket::App(App {
        subtype: 32,
        ..App::default()
    });
    assert_eq!(bad.encode(&mut Vec::new()), Err(RtpError::InvalidValue));
}

/// RFC 4585 §6.2.1: PID 1000 with BLP bits 1 and 3 set: 1000, 1001, 1003 lost.
#[test]
fn generic_nack() {
    let b = [
        0x81, 205, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0x03, 0xe8, 0x00, 0x05,
    ];
    let packets = rtcp_canonical(&b);
    let RtcpPacket::Nack(n) = &packets[0] else {
        panic!()
    };
    assert_eq!((n.sender_ssrc, n.media_ssrc), (1, 2));
    assert_eq!(n.items, vec![NackItem { pid: 1000, blp: 5 }]);
    assert_eq!(n.lost(), vec![1000, 1001, 1003]);
    // From lost numbers and back, across the wrap.
    let lost = [65530, 65531, 65535, 0, 10, 11, 27, 28, 100];
    let n = Nack::from_lost(1, 2, &lost);
    assert_eq!(
        n.items,
        vec![
            NackItem {
                pid: 65530,
                blp: 1 | 1 << 4 | 1 << 5 | 1 << 15
            },
            NackItem {
                pid: 11,
                blp: 1 << 15
            },
            NackItem { pid: 28, blp: 0 },
            NackItem { pid: 100, blp: 0 },
        ]
    );
    assert_eq!(n.lost(), lost);
    assert_eq!(nack_items(&[5, 5, 6]), vec![NackItem { pid: 5, blp: 1 }]);
    assert_eq!(nack_items(&[]), vec![]);
    let lost: Vec<u16> = (0..2000u16).filter(|s| s % 3 != 0).collect();
    let items = nack_items(&lost);
    assert_eq!(
        items.iter().flat_map(|i| i.lost()).collect::<Vec<_>>(),
        lost
    );
    let out = compound(&[RtcpPacket::Nack(Nack {
        sender_ssrc: 1,
        media_ssrc: 2,
        items: items.clone(),
    })]);
    let RtcpPacket::Nack(back) = &parse_compound(&out).unwrap()[0] else {
        panic!()
    };
    assert_eq!(back.lost(), lost);
    // Bounds and lengths.
    let many = RtcpPacket::Nack(Nack {
        sender_ssrc: 1,
        media_ssrc: 2,
        items: vec![NackItem::default(); MAX_NACK_ITEMS + 1],
    });
    assert_eq!(many.encode(&mut Vec::new()), Err(RtpError::TooMany));
    let mut b = vec![0x81, 205, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2];
    b.extend(core::iter::repeat_n(0u8, 4 * (MAX_NACK_ITEMS + 1)));
    let words = u16::try_from(b.len() / 4 - 1).unwrap().to_be_bytes();
    b[2..4].copy_from_slice(&words);
    assert_eq!(parse_compound(&b), Err(RtpError::TooMany));
    // An FCI that is not whole items (padding took 2 bytes off).
    let b = [
        0xa1, 205, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0x03, 0xe8, 0x00, 0x02,
    ];
    assert_eq!(parse_compound(&b), Err(RtpError::BadLength));
}

/// RFC 4585 §6.3.1 (PLI) and RFC 5104 §4.3.1 (FIR).
#[test]
fn pli_and_fir() {
    let b = [0x81, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2];
    assert_eq!(
        rtcp_canonical(&b),
        vec![RtcpPacket::Pli(Pli {
            sender_ssrc: 1,
            media_ssrc: 2
        })]
    );
    let extra = [0x81, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0];
    assert_eq!(parse_compound(&extra), Err(RtpError::TrailingBytes));
    let b = [
        0x84, 206, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 7, 0, 0, 0, 0, 0, 0, 6, 8, 0, 0,
        0,
    ];
    let want = Fir {
        sender_ssrc: 1,
        media_ssrc: 0,
        entries: vec![FirEntry { ssrc: 5, seq: 7 }, FirEntry { ssrc: 6, seq: 8 }],
    };
    assert_eq!(rtcp_canonical(&b), vec![RtcpPacket::Fir(want)]);
    let half = [0x84, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5];
    assert_eq!(parse_compound(&half), Err(RtpError::BadLength));
    let many = RtcpPacket::Fir(Fir {
        entries: vec![FirEntry::default(); MAX_FIR_ENTRIES + 1],
        ..Fir::default()
    });
    assert_eq!(many.encode(&mut Vec::new()), Err(RtpError::TooMany));
}

/// draft-alvestrand-rmcat-remb §2.2: 'REMB', 1 SSRC, exponent 2 and mantissa 250000:
/// 1 Mbit/s.
#[test]
fn remb() {
    let v: u32 = (2 << 18) | 250_000;
    let [_, e0, e1, e2] = v.to_be_bytes();
    let b = [
        0x8f, 206, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 0, b'R', b'E', b'M', b'B', 1, e0, e1, e2, 0x11,
        0x22, 0x33, 0x44,
    ];
    let packets = rtcp_canonical(&b);
    let RtcpPacket::Remb(r) = &packets[0] else {
        panic!()
    };
    assert_eq!(
        (r.exponent, r.mantissa, r.bitrate()),
        (2, 250_000, 1_000_000)
    );
    assert_eq!(r.ssrcs, vec![0x1122_3344]);
    assert_eq!(*r, Remb::new(1, 1_000_000, vec![0x1122_3344]));
    // Rounded down to 18 significant bits; saturating on the way back.
    let r = Remb::new(1, 1_000_001, vec![]);
    assert_eq!(
        (r.exponent, r.mantissa, r.bitrate()),
        (2, 250_000, 1_000_000)
    );
    assert_eq!(Remb::new(1, 262_143, vec![]).exponent, 0);
    let r = Remb::new(1, u64::MAX, vec![]);
    assert_eq!((r.exponent, r.mantissa), (46, (1 << 18) - 1));
    let r = Remb {
        exponent: 63,
        mantissa: (1 << 18) - 1,
        ..Remb::default()
    };
    assert_eq!(r.bitrate(), u64::MAX);
    let bad = RtcpPacket::Remb(Remb {
        exponent: 64,
        ..Remb::default()
    });
    assert_eq!(bad.encode(&mut Vec::new()), Err(RtpError::InvalidValue));
    let bad = RtcpPacket::Remb(Remb {
        mantissa: 1 << 18,
        ..Remb::default()
    });
    assert_eq!(bad.encode(&mut Vec::new()), Err(RtpError::InvalidValue));
    // The SSRC count lies; other application feedback stays opaque.
    let mut lie = b;
    lie[16] = 2;
    assert_eq!(parse_compound(&lie), Err(RtpError::Truncated));
    let mut other = b;
    other[12..16].copy_from_slice(b"GOOG");
    let p = rtcp_canonical(&other);
    assert!(
        matches!(&p[0], RtcpPacket::Unknown(u) if u.packet_type == 206 && u.count == 15 && u.body.len() == 20)
    );
}

// ---------------------------------------------------------------------------------------
// Transport-wide CC feedback
// ---------------------------------------------------------------------------------------

fn twcc_bytes(base: u16, count: u16, chunks_and_deltas: &[u8]) -> Vec<u8> {
    let mut b = vec![0x8f, 205, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2];
    b.extend_from_slice(&base.to_be_bytes());
    b.extend_from_slice(&count.to_be_bytes());
    b.extend_from_slice(&[0x00, 0x00, 0x10, 0x07]); // reference time 16 (x 64 ms), fb count 7
    b.extend_from_slice(chunks_and_deltas);
    while b.len() % 4 != 0 {
        b.push(0);
    }
    let words = u16::try_from(b.len() / 4 - 1).unwrap().to_be_bytes();
    b[2..4].copy_from_slice(&words);
    b
}

fn twcc(packets: &[RtcpPacket]) -> &TransportCc {
    match packets.first() {
        Some(RtcpPacket::TransportCc(t)) => t,
        other => panic!("{other:?}"),
    }
}

/// §3.1.3 example: a run length chunk `0 00 0000011011101`, 221 packets not received.
#[test]
fn twcc_run_length_chunk() {
    let b = twcc_bytes(100, 221, &[0x00, 0xdd]);
    let p = rtcp_canonical(&b);
    let t = twcc(&p);
    assert_eq!((t.base_seq, t.reference_time, t.fb_count), (100, 16, 7));
    assert_eq!(t.statuses, vec![PacketStatus::NotReceived; 221]);
    // A run of 24 small deltas (`0 01 0000000011000`), each one byte.
    let mut body = vec![0x20, 0x18];
    body.extend(1..=24u8);
    let p = rtcp_canonical(&twcc_bytes(0, 24, &body));
    let t = twcc(&p);
    assert_eq!(
        t.statuses,
        (1..=24).map(PacketStatus::SmallDelta).collect::<Vec<_>>()
    );
}

/// §3.1.4 example: a one-bit status vector `1 0 0 1 1 1 1 1 0 0 0 1 1 1 0 0` (not received,
/// 5 received, 3 not received, 3 received, 2 not received), and a two-bit vector
/// `1 1 01 10 00 00 01 01 00` (small, large, 2 not received, 2 small, not received).
#[test]
fn twcc_status_vector_chunks() {
    let mut body = vec![0x9f, 0x1c];
    body.extend(10..18u8);
    let p = rtcp_canonical(&twcc_bytes(0, 14, &body));
    let got: Vec<Option<i64>> = twcc(&p).statuses.iter().map(|s| s.delta()).collect();
    let r = |d: i64| Some(d);
    assert_eq!(
        got,
        vec![
            None,
            r(10),
            r(11),
            r(12),
            r(13),
            r(14),
            None,
            None,
            None,
            r(15),
            r(16),
            r(17),
            None,
            None
        ]
    );
    let body = [0xd8, 0x14, 4, 0xff, 0xfe, 5, 6];
    let p = rtcp_canonical(&twcc_bytes(0, 7, &body));
    use PacketStatus::*;
    assert_eq!(
        twcc(&p).statuses,
        vec![
            SmallDelta(4),
            LargeDelta(-2),
            NotReceived,
            NotReceived,
            SmallDelta(5),
            SmallDelta(6),
            NotReceived
        ]
    );
    // The vector covers more symbols than the count: the rest is ignored.
    let p = parse_compound(&twcc_bytes(0, 2, &[0xd8, 0x14, 4, 0xff, 0xfe])).unwrap();
    assert_eq!(twcc(&p).statuses, vec![SmallDelta(4), LargeDelta(-2)]);
}

/// libwebrtc pads its feedback with the P bit (the last byte counts the padding) rather
/// than with zeros inside the FCI.
#[test]
fn twcc_with_padding_bit() {
    let mut b = vec![
        0xaf, 205, 0x00, 0x07, 0, 0, 0, 1, 0, 0, 0, 2, 0, 100, 0, 14, 0, 0, 0x10, 7, 0x9f, 0x1c,
    ];
    b.extend(10..18u8);
    b.extend_from_slice(&[0, 2]);
    let p = parse_compound(&b).unwrap();
    let t = twcc(&p);
    assert_eq!((t.base_seq, t.statuses.len(), t.fb_count), (100, 14, 7));
    assert_eq!(t.arrivals().filter(|(_, a)| a.is_some()).count(), 8);
    // Written back with zero padding inside the FCI and no P bit.
    let out = compound(&p);
    assert_eq!(out[0], 0x8f);
    assert_eq!(parse_compound(&out).unwrap(), p);
}

#[test]
fn twcc_malformed() {
    // Reserved symbol 11 in a run and in a vector.
    assert_eq!(
        parse_compound(&twcc_bytes(0, 3, &[0x60, 0x03])),
        Err(RtpError::InvalidValue)
    );
    assert_eq!(
        parse_compound(&twcc_bytes(0, 3, &[0xf0, 0x00])),
        Err(RtpError::InvalidValue)
    );
    // Too many statuses for the bound (2 bytes claiming 8191 + 8191 packets).
    let n = u16::try_from(MAX_TWCC_STATUSES + 1).unwrap();
    assert_eq!(
        parse_compound(&twcc_bytes(0, n, &[0x1f, 0xff, 0x1f, 0xff])),
        Err(RtpError::TooMany)
    );
    // Deltas missing, chunks missing.
    assert_eq!(
        parse_compound(&twcc_bytes(0, 4, &[0x20, 0x04, 1, 2])),
        Err(RtpError::Truncated)
    );
    assert_eq!(
        parse_compound(&twcc_bytes(0, 40, &[0x00, 0x10])),
        Err(RtpError::Truncated)
    );
    // More than padding after the deltas.
    assert_eq!(
        parse_compound(&twcc_bytes(0, 1, &[0x20, 0x01, 1, 0, 0, 0, 0])),
        Err(RtpError::TrailingBytes)
    );
    // A run longer than the count is cut to the count.
    let p = parse_compound(&twcc_bytes(0, 2, &[0x00, 0x10])).unwrap();
    assert_eq!(twcc(&p).statuses.len(), 2);
    let bad = TransportCc {
        sender_ssrc: 0,
        media_ssrc: 0,
        base_seq: 0,
        reference_time: 1 << 23,
        fb_count: 0,
        statuses: vec![],
    };
    assert_eq!(
        RtcpPacket::TransportCc(bad).encode(&mut Vec::new()),
        Err(RtpError::InvalidValue)
    );
    let bad = TransportCc {
        sender_ssrc: 0,
        media_ssrc: 0,
        base_seq: 0,
        reference_time: 0,
        fb_count: 0,
        statuses: vec![PacketStatus::NotReceived; MAX_TWCC_STATUSES + 1],
    };
    assert_eq!(
        RtcpPacket::TransportCc(bad).encode(&mut Vec::new()),
        Err(RtpError::TooMany)
    );
}

/// Feedback built from (sequence number, arrival time) with losses, a reordered arrival and
/// a wrap of the sequence number, parsed back to the same list at 250 µs resolution.
#[test]
fn twcc_from_arrivals_round_trip() {
    let base = 65_500u16;
    let start = 3_600_000_123u64; // an hour in, not on a 64 ms boundary
    let mut received: Vec<(u16, Time)> = Vec::new();
    let mut rng = Rng::seeded(0x7cc);
    let mut at = start;
    for i in 0..600u16 {
        let seq = base.wrapping_add(i);
        // Losses: a burst of 30, then one in 7.
        if (100..130).contains(&i) || i % 7 == 3 {
            continue;
        }
        at += rng.below(3000);
        if i == 200 {
            at += 500_000; // a large delta
        }
        let t = if i == 300 { at - 20_000 } else { at }; // arrives before the previous one
        received.push((seq, Time::from_micros(t)));
    }
    let fb = TransportCc::from_arrivals(1, 2, 9, base, &received).unwrap();
    assert_eq!(
        fb.statuses.len(),
        600,
        "up to the last received packet (599)"
    );
    assert_eq!(fb.reference_time, i32::try_from(start / 64_000).unwrap());
    assert!(fb
        .statuses
        .iter()
        .any(|s| matches!(s, PacketStatus::LargeDelta(d) if *d < 0)));
    assert!(fb
        .statuses
        .iter()
        .any(|s| matches!(s, PacketStatus::LargeDelta(d) if *d > 255)));
    let bytes = compound(&[RtcpPacket::TransportCc(fb.clone())]);
    let packets = rtcp_canonical(&bytes);
    let back = twcc(&packets);
    assert_eq!(*back, fb);
    let got: Vec<(u16, i64)> = back
        .arrivals()
        .filter_map(|(s, t)| t.map(|t| (s, t)))
        .collect();
    assert_eq!(got.len(), received.len());
    for ((seq, t), (gseq, gt)) in received.iter().zip(&got) {
        assert_eq!(seq, gseq);
        let t = i64::try_from(t.as_micros()).unwrap();
        assert!((gt - t).abs() <= 125, "seq {seq}: {gt} vs {t}");
        assert_eq!(gt % 250, 0);
    }
    let lost: Vec<u16> = back
        .arrivals()
        .filter(|(_, t)| t.is_none())
        .map(|(s, _)| s)
        .collect();
    assert!(lost.contains(&base.wrapping_add(100)) && lost.contains(&base.wrapping_add(3)));
    assert_eq!(lost.len(), 600 - received.len());
    // Times on the 250 µs grid come back exactly.
    let exact: Vec<(u16, Time)> = [
        (7, 1_000_250),
        (8, 1_000_500),
        (10, 1_064_000),
        (11, 1_000_000),
    ]
    .into_iter()
    .map(|(s, us)| (s, Time::from_micros(us)))
    .collect();
    let fb = TransportCc::from_arrivals(1, 2, 0, 5, &exact).unwrap();
    let arrivals: Vec<(u16, Option<i64>)> = fb.arrivals().collect();
    assert_eq!(
        arrivals,
        vec![
            (5, None),
            (6, None),
            (7, Some(1_000_250)),
            (8, Some(1_000_500)),
            (9, None),
            (10, Some(1_064_000)),
            (11, Some(1_000_000))
        ]
    );
}

#[test]
fn twcc_from_arrivals_errors() {
    let t = Time::from_micros;
    assert_eq!(
        TransportCc::from_arrivals(1, 2, 0, 10, &[(11, t(0)), (11, t(1))]),
        Err(RtpError::InvalidValue)
    );
    assert_eq!(
        TransportCc::from_arrivals(1, 2, 0, 10, &[(12, t(0)), (11, t(1))]),
        Err(RtpError::InvalidValue)
    );
    assert_eq!(
        TransportCc::from_arrivals(1, 2, 0, 10, &[(9, t(0))]),
        Err(RtpError::InvalidValue)
    );
    let far = u16::try_from(MAX_TWCC_STATUSES).unwrap() + 10;
    assert_eq!(
        TransportCc::from_arrivals(1, 2, 0, 10, &[(far, t(0))]),
        Err(RtpError::TooMany)
    );
    // 9 s between two arrivals does not fit a signed 16-bit delta of 250 µs.
    assert_eq!(
        TransportCc::from_arrivals(1, 2, 0, 0, &[(0, t(0)), (1, t(9_000_000))]),
        Err(RtpError::InvalidValue)
    );
    let empty = TransportCc::from_arrivals(1, 2, 0, 0, &[]).unwrap();
    assert!(empty.statuses.is_empty());
    let packets = rtcp_canonical(&compound(&[RtcpPacket::TransportCc(empty.clone())]));
    assert_eq!(*twcc(&packets), empty);
    // The reference time wraps to a signed 24-bit value.
    let late = TransportCc::from_arrivals(1, 2, 0, 0, &[(0, t(64_000 * ((1 << 23) + 5)))]).unwrap();
    assert_eq!(late.reference_time, 5 - (1 << 23));
    let packets = rtcp_canonical(&compound(&[RtcpPacket::TransportCc(late.clone())]));
    assert_eq!(*twcc(&packets), late);
}

#[test]
fn twcc_chunk_choice_round_trips() {
    // Every mix of symbols, long and short runs: serialize -> parse equal, and stable.
    let mut rng = Rng::seeded(0x5eed);
    for _ in 0..300 {
        let n = usize::try_from(rng.below(400)).unwrap();
        let mut statuses = Vec::with_capacity(n);
        while statuses.len() < n {
            let s = match rng.below(3) {
                0 => PacketStatus::NotReceived,
                1 => PacketStatus::SmallDelta(u8::try_from(rng.below(256)).unwrap()),
                _ => PacketStatus::LargeDelta(i16::try_from(rng.below(65536)).unwrap_or(-7)),
            };
            let run = if rng.below(4) == 0 { rng.below(40) } else { 1 };
            for _ in 0..run {
                statuses.push(s);
            }
        }
        statuses.truncate(n);
        let fb = TransportCc {
            sender_ssrc: 1,
            media_ssrc: 2,
            base_seq: 3,
            reference_time: -4,
            fb_count: 5,
            statuses,
        };
        let bytes = compound(&[RtcpPacket::TransportCc(fb.clone())]);
        assert_eq!(*twcc(&rtcp_canonical(&bytes)), fb);
    }
}

// ---------------------------------------------------------------------------------------
// Compounds
// ---------------------------------------------------------------------------------------

#[test]
fn compound_round_trips_and_opaque_packets() {
    for (name, bytes) in fuzz_rtcp_seeds() {
        let p = rtcp_canonical(&bytes);
        assert!(!p.is_empty(), "{name}");
    }
    // XR (207) and an unknown RTPFB format are kept, however short.
    let b = [0x80, 207, 0x00, 0x01, 0, 0, 0, 1, 0x83, 205, 0x00, 0x00];
    assert_eq!(
        rtcp_canonical(&b),
        vec![
            RtcpPacket::Unknown(UnknownPacket {
                packet_type: 207,
                count: 0,
                body: vec![0, 0, 0, 1]
            }),
            RtcpPacket::Unknown(UnknownPacket {
                packet_type: 205,
                count: 3,
                body: vec![]
            }),
        ]
    );
    let senders: Vec<Option<u32>> = fuzz_rtcp_seeds()
        .iter()
        .flat_map(|(_, b)| parse_compound(b).unwrap())
        .map(|p| p.sender_ssrc())
        .collect();
    assert_eq!(
        senders,
        [0x1122_3344, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 9, 0]
            .map(|s| if s == 0 { None } else { Some(s) })
            .to_vec()
    );
    // Reduced-size (RFC 5506): a lone PLI is a valid compound.
    assert_eq!(
        parse_compound(&[0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn compound_padding() {
    // P bit on the last packet: 4 bytes of padding (count 4) after an RR with no block.
    let b = [0xa0, 201, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 4];
    let p = parse_compound(&b).unwrap();
    assert_eq!(
        p,
        vec![RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 1,
            reports: vec![],
            extension: vec![]
        })]
    );
    assert_eq!(compound(&p), [0x80, 201, 0x00, 0x01, 0, 0, 0, 1]);
    // Padding count zero, longer than the packet, or with no body at all.
    let zero = [0xa0, 201, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0];
    assert_eq!(parse_compound(&zero), Err(RtpError::BadPadding));
    let long = [0xa0, 201, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 9];
    assert_eq!(parse_compound(&long), Err(RtpError::BadPadding));
    assert_eq!(
        parse_compound(&[0xa0, 201, 0, 0]),
        Err(RtpError::BadPadding)
    );
    // Padding that eats into the RR's SSRC.
    let eat = [0xa0, 201, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 6];
    assert_eq!(parse_compound(&eat), Err(RtpError::Truncated));
}

#[test]
fn compound_malformed() {
    assert_eq!(parse_compound(&[]), Err(RtpError::Truncated));
    for v in [0x00, 0x40, 0xc0] {
        assert_eq!(
            parse_compound(&[v | 1, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]),
            Err(RtpError::BadVersion)
        );
    }
    // Second packet has a bad version.
    assert_eq!(
        parse_compound(&[0x80, 201, 0, 1, 0, 0, 0, 1, 0x40, 201, 0, 1, 0, 0, 0, 1]),
        Err(RtpError::BadVersion)
    );
    // Length says 3 words, 2 follow.
    assert_eq!(
        parse_compound(&[0x81, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2]),
        Err(RtpError::Truncated)
    );
    // Length too short for the type.
    assert_eq!(
        parse_compound(&[0x81, 206, 0, 1, 0, 0, 0, 1]),
        Err(RtpError::Truncated)
    );
    assert_eq!(
        parse_compound(&[0x80, 200, 0, 1, 0, 0, 0, 1]),
        Err(RtpError::Truncated)
    );
    // Trailing bytes that are not a packet.
    assert_eq!(
        parse_compound(&[0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0x80]),
        Err(RtpError::Truncated)
    );
    // Too many packets in one compound.
    let pli = RtcpPacket::Pli(Pli {
        sender_ssrc: 1,
        media_ssrc: 2,
    });
    let many = vec![pli; MAX_COMPOUND_PACKETS + 1];
    let mut out = vec![9];
    assert_eq!(encode_compound(&many, &mut out), Err(RtpError::TooMany));
    assert_eq!(out, [9]);
    let mut bytes = Vec::new();
    for p in &many {
        p.encode(&mut bytes).unwrap();
    }
    assert_eq!(parse_compound(&bytes), Err(RtpError::TooMany));
    assert_eq!(
        parse_compound(&bytes[12..]).unwrap().len(),
        MAX_COMPOUND_PACKETS
    );
    // A failed packet in the middle leaves nothing behind.
    let bad = RtcpPacket::App(App {
        subtype: 40,
        ..App::default()
    });
    let mut out = vec![];
    assert_eq!(
        encode_compound(&[many[0].clone(), bad], &mut out),
        Err(RtpError::InvalidValue)
    );
    assert!(out.is_empty());
}

#[test]
fn compound_truncated_at_every_length() {
    for (name, bytes) in fuzz_rtcp_seeds() {
        let packets = parse_compound(&bytes).unwrap();
        // Packet boundaries: a prefix that ends on one is a shorter compound.
        let mut ends = Vec::new();
        let mut at = 0;
        for p in &packets {
            let mut one = Vec::new();
            p.encode(&mut one).unwrap();
            at += one.len();
            ends.push(at);
        }
        for n in 0..bytes.len() {
            let r = parse_compound(&bytes[..n]);
            match ends.iter().position(|&e| e == n) {
                Some(i) => assert_eq!(r.unwrap(), packets[..=i].to_vec(), "{name} at {n}"),
                None => assert!(r.is_err(), "{name}: prefix of {n} bytes parsed"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fuzz helpers over pseudo-random and mutated input
// ---------------------------------------------------------------------------------------

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = u64::try_from(b.len()).unwrap_or(0);
        match rng.below(5) {
            0 | 1 if len > 0 => {
                let i = usize::try_from(rng.below(len)).unwrap();
                b[i] = u8::try_from(rng.below(256)).unwrap();
            }
            2 if len > 0 => {
                let i = usize::try_from(rng.below(len)).unwrap();
                b[i] ^= 1 << rng.below(8);
            }
            3 if len > 0 => b.truncate(usize::try_from(rng.below(len)).unwrap()),
            _ => {
                let i = usize::try_from(rng.below(len + 1)).unwrap();
                b.insert(i, u8::try_from(rng.below(256)).unwrap());
            }
        }
    }
    b
}

#[test]
fn fuzz_helpers_on_random_and_mutated_input() {
    let mut rng = Rng::seeded(0x2b7c);
    let mut buf = vec![0u8; 300];
    let (mut rtp_ok, mut rtcp_ok) = (0, 0);
    for i in 0..4000 {
        let n = usize::try_from(rng.below(300)).unwrap();
        let b = &mut buf[..n];
        rng.fill(b);
        // Half with a plausible first byte, so the version check is passed.
        if i % 2 == 0 {
            if let Some(f) = b.first_mut() {
                *f = 0x80 | (*f & 0x3f);
            }
        }
        fuzz_rtp(b);
        fuzz_rtcp(b);
        rtp_ok += usize::from(RtpPacket::parse(b).is_ok());
    }
    let rtp_seeds = fuzz_rtp_seeds();
    let rtcp_seeds = fuzz_rtcp_seeds();
    for _ in 0..3000 {
        let (_, s) = &rtp_seeds[usize::try_from(rng.below(rtp_seeds.len() as u64)).unwrap()];
        let m = mutate(&mut rng, s);
        fuzz_rtp(&m);
        rtp_ok += usize::from(RtpPacket::parse(&m).is_ok());
        let (_, s) = &rtcp_seeds[usize::try_from(rng.below(rtcp_seeds.len() as u64)).unwrap()];
        let m = mutate(&mut rng, s);
        fuzz_rtcp(&m);
        rtcp_ok += usize::from(parse_compound(&m).is_ok());
    }
    // The mutations reach the serializers, not only the first length check.
    assert!(
        rtp_ok > 1000 && rtcp_ok > 300,
        "{rtp_ok} RTP / {rtcp_ok} RTCP parsed"
    );
}

#[test]
fn seeds_are_what_they_say() {
    let rtp = fuzz_rtp_seeds();
    let rtcp = fuzz_rtcp_seeds();
    assert_eq!((rtp.len(), rtcp.len()), (5, 5), "every seed serialized");
    for (_, b) in &rtp {
        let p = RtpPacket::parse(b).unwrap();
        assert_eq!(&encode(&p), b);
        fuzz_rtp(b);
    }
    let two = &rtp.iter().find(|(n, _)| *n == "seed-two-byte").unwrap().1;
    assert!(matches!(
        RtpPacket::parse(two).unwrap().header.extensions.form(),
        Some(ExtensionForm::TwoByte { .. })
    ));
    for (_, b) in &rtcp {
        fuzz_rtcp(b);
    }
    let tw = &rtcp.iter().find(|(n, _)| *n == "seed-twcc").unwrap().1;
    // Run length, one-bit and two-bit chunks all appear (first chunk bits at offset 20).
    let t = twcc(&parse_compound(tw).unwrap()).clone();
    assert!(t
        .statuses
        .iter()
        .any(|s| matches!(s, PacketStatus::LargeDelta(_))));
    assert!(t.statuses.contains(&PacketStatus::NotReceived));
}
