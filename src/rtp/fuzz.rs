//! Fuzzing entry points (`fuzz/fuzz_targets/rtp_packet.rs`, `rtcp_compound.rs`,
//! `tests/fuzz_corpus.rs`).

use super::{
    encode_compound, is_rtcp, parse_compound, ExtensionKind, ExtensionMap, RtcpPacket, RtpPacket,
};

/// Ids 1-6 are the known extensions (in [`ExtensionKind::ALL`] order), 20 repeats the MID
/// in the two-byte range.
fn fuzz_map() -> ExtensionMap {
    let mut map = ExtensionMap::new();
    for (id, kind) in (1u8..).zip(ExtensionKind::ALL) {
        let _ = map.insert_kind(id, kind);
    }
    let _ = map.insert(20, "urn:example:two-byte");
    map
}

/// Parses `data` as an RTP packet; whatever parses must re-serialize (to exactly
/// `encoded_len` bytes), parse back equal, and serialize again to the same bytes. The known
/// extensions are read through a map of ids 1-6.
#[doc(hidden)]
pub fn fuzz_rtp(data: &[u8]) {
    let _ = is_rtcp(data);
    // wire_header_len measures the header the parser walks (and fails where it fails to
    // find one).
    match super::RtpHeader::parse(data) {
        Ok((_, rest, _)) => assert_eq!(super::wire_header_len(data), Ok(data.len() - rest.len())),
        Err(_) => {
            let _ = super::wire_header_len(data);
        }
    }
    let Ok(p) = RtpPacket::parse(data) else {
        return;
    };
    let mut out = Vec::new();
    p.encode(&mut out)
        .expect("a parsed RTP packet must serialize");
    assert_eq!(
        out.len(),
        p.encoded_len(),
        "encoded_len differs from the bytes written"
    );
    let q = RtpPacket::parse(&out).expect("a serialized RTP packet must parse");
    assert_eq!(q, p, "RTP round trip changed the packet");
    let mut again = Vec::new();
    q.encode(&mut again).expect("serialize twice");
    assert_eq!(again, out, "RTP serialization is not stable");
    let known = fuzz_map().read(&p.header.extensions);
    assert_eq!(known, fuzz_map().read(&q.header.extensions));
    if let Some(t) = known.abs_send_time {
        let _ = t.to_micros();
    }
}

/// Parses `data` as a compound RTCP packet; whatever parses must re-serialize, parse back
/// equal and serialize again to the same bytes.
#[doc(hidden)]
pub fn fuzz_rtcp(data: &[u8]) {
    let Ok(packets) = parse_compound(data) else {
        return;
    };
    let mut out = Vec::new();
    encode_compound(&packets, &mut out).expect("a parsed RTCP compound must serialize");
    let back = parse_compound(&out).expect("a serialized RTCP compound must parse");
    assert_eq!(back, packets, "RTCP round trip changed the packets");
    let mut again = Vec::new();
    encode_compound(&back, &mut again).expect("serialize twice");
    assert_eq!(again, out, "RTCP serialization is not stable");
    for p in &packets {
        match p {
            RtcpPacket::Nack(n) => {
                let _ = n.lost();
            }
            RtcpPacket::TransportCc(t) => {
                assert_eq!(t.arrivals().count(), t.statuses.len());
            }
            RtcpPacket::Remb(r) => {
                let _ = r.bitrate();
            }
            _ => {}
        }
    }
}

/// Seed inputs for `fuzz/corpus/rtp_packet/` (written by `write_seed_corpus` in
/// `tests/fuzz_corpus.rs`): what a browser sends, in both extension forms.
#[doc(hidden)]
pub fn fuzz_rtp_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use super::{AbsSendTime, AudioLevel, Csrcs, RtpHeader};
    let map = fuzz_map();
    let payload = [0x90u8, 0x80, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef];
    let ast = AbsSendTime::from_raw(0x12_3456).to_bytes();
    let tcc = super::extension::transport_cc_bytes(4242);
    let level = AudioLevel::new(true, 42)
        .map(AudioLevel::to_bytes)
        .unwrap_or([0]);
    let mut seeds = Vec::new();
    let mut push = |name: &'static str, p: &RtpPacket<'_>| {
        let mut out = Vec::new();
        if p.encode(&mut out).is_ok() {
            seeds.push((name, out));
        }
    };
    let mut video = RtpHeader::new(96, 0xfffe, 0x1234_5678, 0x1122_3344);
    video.marker = true;
    for (kind, data) in [
        (ExtensionKind::Mid, &b"0"[..]),
        (ExtensionKind::RtpStreamId, &b"hi"[..]),
        (ExtensionKind::AbsSendTime, &ast[..]),
        (ExtensionKind::TransportCc, &tcc[..]),
    ] {
        let _ = map.push(&mut video.extensions, kind, data);
    }
    push("seed-video-one-byte", &RtpPacket::new(video, &payload));
    let mut audio = RtpHeader::new(111, 7, 960, 0x5555_aaaa);
    let _ = map.push(&mut audio.extensions, ExtensionKind::AudioLevel, &level);
    let _ = map.push(&mut audio.extensions, ExtensionKind::Mid, b"audio");
    audio.csrcs = Csrcs::from_slice(&[1, 2, 3]).unwrap_or_default();
    push("seed-audio-csrcs", &RtpPacket::new(audio, &payload));
    let mut two = RtpHeader::new(97, 1, 2, 3);
    let _ = two.extensions.push(20, b"");
    let _ = two.extensions.push(5, &tcc);
    let long = [0x61u8; 40];
    let _ = two.extensions.push(1, &long);
    push("seed-two-byte", &RtpPacket::new(two, &payload));
    // A padding-only probe (libwebrtc sends these for bandwidth estimation).
    let probe = RtpPacket {
        header: RtpHeader::new(97, 2, 3, 4),
        payload: &[],
        padding: 224,
    };
    push("seed-padding-probe", &probe);
    let mut raw = RtpHeader::new(0, 1, 2, 3);
    let _ = raw.extensions.set_raw(0xabcd, &[1, 2, 3, 4]);
    push(
        "seed-rfc3550-extension",
        &RtpPacket {
            header: raw,
            payload: &payload,
            padding: 3,
        },
    );
    seeds
}

/// Seed inputs for `fuzz/corpus/rtcp_compound/`: a sender's compound, a receiver's
/// reduced-size feedback, TWCC with every chunk kind, and opaque packets.
#[doc(hidden)]
pub fn fuzz_rtcp_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use super::rtcp::*;
    use super::TransportCc;
    use crate::Time;
    let block = ReportBlock {
        ssrc: 0x0102_0304,
        fraction_lost: 12,
        cumulative_lost: -3,
        extended_highest_seq: 0x0001_0203,
        jitter: 77,
        last_sr: 0xaabb_ccdd,
        delay_since_last_sr: 65536,
    };
    let sr = RtcpPacket::SenderReport(SenderReport {
        ssrc: 0x1122_3344,
        info: SenderInfo {
            ntp_time: 0xe8f0_0000_8000_0000,
            rtp_time: 90000,
            packet_count: 10,
            octet_count: 12000,
        },
        reports: vec![block],
        extension: Vec::new(),
    });
    let sdes = RtcpPacket::Sdes(Sdes {
        chunks: vec![SdesChunk::cname(0x1122_3344, "user@example.org")],
    });
    let bye = RtcpPacket::Bye(Bye {
        ssrcs: vec![0x1122_3344],
        reason: Some(b"done".to_vec()),
    });
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 1,
        reports: vec![block, block],
        extension: Vec::new(),
    });
    let nack = RtcpPacket::Nack(Nack::from_lost(
        1,
        0x1122_3344,
        &[100, 101, 103, 117, 118, 65535, 0],
    ));
    let pli = RtcpPacket::Pli(Pli {
        sender_ssrc: 1,
        media_ssrc: 0x1122_3344,
    });
    let fir = RtcpPacket::Fir(Fir {
        sender_ssrc: 1,
        media_ssrc: 0,
        entries: vec![FirEntry {
            ssrc: 0x1122_3344,
            seq: 9,
        }],
    });
    let remb = RtcpPacket::Remb(Remb::new(1, 1_500_000, vec![0x1122_3344, 0x5566_7788]));
    let ms = |m: u64| Time::from_micros(1_000_000 + m * 1000);
    let mut arrivals: Vec<(u16, Time)> = (0..20u16).map(|i| (i, ms(u64::from(i)))).collect();
    arrivals.extend([(40, ms(30)), (41, ms(29)), (42, ms(200)), (43, ms(201))]);
    let twcc =
        TransportCc::from_arrivals(1, 0x1122_3344, 3, 0, &arrivals).map(RtcpPacket::TransportCc);
    let app = RtcpPacket::App(App {
        subtype: 3,
        ssrc: 9,
        name: *b"TEST",
        data: vec![1, 2, 3, 4, 5],
    });
    let xr = RtcpPacket::Unknown(UnknownPacket {
        packet_type: 207,
        count: 0,
        body: vec![0, 0, 0, 1, 4, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0],
    });
    let mut seeds = Vec::new();
    let mut push = |name: &'static str, packets: &[RtcpPacket]| {
        let mut out = Vec::new();
        if encode_compound(packets, &mut out).is_ok() {
            seeds.push((name, out));
        }
    };
    push("seed-sender", &[sr, sdes.clone(), bye]);
    push("seed-receiver", &[rr, sdes, remb.clone()]);
    push("seed-reduced-size", &[nack, pli, fir, remb]);
    if let Ok(t) = twcc {
        push("seed-twcc", &[t]);
    }
    push("seed-opaque", &[app, xr]);
    seeds
}
