//! Fuzzing entry point (`fuzz/fuzz_targets/codec_depacketize.rs`, `tests/fuzz_corpus.rs`).

use super::{
    is_keyframe, new_depacketizer, new_packetizer, Codec, Frame, FrameAssembler,
    MAX_FRAMES_PENDING, MAX_FRAME_BYTES, MAX_MISSING, MAX_PENDING_BYTES,
};

/// The first byte picks the codec ([`Codec::ALL`], modulo 5); the rest is a sequence of
/// records `len: u8, flags: u8, payload (len bytes)`. Flags: bit 0 the marker; bit 1 a new
/// timestamp (+3000) from this record on; bits 2..=4 a reordering offset (-3..=+4) applied
/// to the sequence number the assembler sees; bit 5 one sequence number skipped (a loss).
/// VP8 and VP9 descriptors must round-trip (parse, encode, parse equal). Each payload goes
/// to an in-order depacketizer and to a [`FrameAssembler`]; every bound
/// must hold, assembled frames must be complete, and every complete frame out of the
/// depacketizer (H.264 aside: its NAL units may hold start codes) must survive
/// packetize -> depacketize unchanged.
#[doc(hidden)]
pub fn fuzz_depacketize(data: &[u8]) {
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    let Some(&codec) = Codec::ALL.get(usize::from(pick) % Codec::ALL.len()) else {
        return;
    };
    let mut depacketizer = new_depacketizer(codec);
    let mut assembler = FrameAssembler::new(new_depacketizer(codec));
    let (mut seq, mut ts) = (0u16, 0u32);
    let mut frames = Vec::new();
    while let [len, flags, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (payload, after) = tail.split_at(n);
        rest = after;
        let marker = flags & 0x01 != 0;
        if flags & 0x02 != 0 {
            ts = ts.wrapping_add(3000);
        }
        if flags & 0x20 != 0 {
            seq = seq.wrapping_add(1);
        }
        let jittered = seq
            .wrapping_add(u16::from((flags >> 2) & 0x07))
            .wrapping_sub(3);
        let _ = is_keyframe(codec, payload);
        descriptor_round_trip(codec, payload);
        let _ = depacketizer.push(payload, marker, seq, ts);
        let _ = assembler.handle_packet(payload, marker, jittered, ts);
        while let Some(f) = depacketizer.poll_frame() {
            check(&f, codec);
            frames.push(f);
        }
        while let Some(f) = assembler.poll_frame() {
            check(&f, codec);
            assert!(f.complete, "the assembler emitted an incomplete frame");
        }
        assert!(assembler.pending_frames() <= MAX_FRAMES_PENDING);
        assert!(assembler.pending_bytes() <= MAX_PENDING_BYTES);
        assert!(assembler.missing().count() <= MAX_MISSING);
        seq = seq.wrapping_add(1);
    }
    for f in frames
        .iter()
        .filter(|f| f.complete && f.codec != Codec::H264)
    {
        round_trip(f);
    }
}

/// A VP8 or VP9 payload descriptor that parses re-encodes to one that parses the same.
#[doc(hidden)]
pub fn descriptor_round_trip(codec: Codec, payload: &[u8]) {
    match codec {
        Codec::Vp8 => {
            if let Ok((d, _)) = super::vp8::Vp8Descriptor::parse(payload) {
                let mut out = Vec::new();
                d.encode(&mut out);
                let again = super::vp8::Vp8Descriptor::parse(&out);
                assert_eq!(again, Ok((d, &[][..])), "VP8 descriptor round trip");
            }
        }
        Codec::Vp9 => {
            if let Ok((d, _)) = super::vp9::Vp9Descriptor::parse(payload) {
                let mut out = Vec::new();
                d.encode(&mut out);
                let again = super::vp9::Vp9Descriptor::parse(&out);
                assert_eq!(again, Ok((d, &[][..])), "VP9 descriptor round trip");
            }
        }
        _ => {}
    }
}

fn check(f: &Frame, codec: Codec) {
    assert_eq!(f.codec, codec);
    assert!(!f.data.is_empty() && f.data.len() <= MAX_FRAME_BYTES);
}

fn round_trip(f: &Frame) {
    for max_payload in [1200, 40] {
        let mut p = new_packetizer(f.codec, 0);
        let Ok(payloads) = p.packetize(&f.data, max_payload) else {
            // Opus larger than the budget is the only refusal.
            assert!(
                f.codec == Codec::Opus && f.data.len() > max_payload,
                "{:?} frame did not packetize",
                f.codec
            );
            continue;
        };
        let mut d = new_depacketizer(f.codec);
        for (i, pl) in payloads.iter().enumerate() {
            assert!(pl.data.len() <= max_payload);
            let seq = u16::try_from(i % 65536).unwrap_or(0);
            assert!(
                d.push(&pl.data, pl.marker, seq, 1).is_ok(),
                "re-packetized payload refused"
            );
        }
        let back = d.poll_frame();
        assert_eq!(
            back.as_ref().map(|b| &b.data),
            Some(&f.data),
            "{:?} round trip differs",
            f.codec
        );
        assert!(back.is_some_and(|b| b.complete));
    }
}

/// Seeds for the corpus: each codec's packetizer output for sample frames as records of the
/// format above, in order, and with each pair of packets inside a frame swapped (the offsets
/// give the assembler their true sequence numbers).
#[doc(hidden)]
pub fn fuzz_depacketize_seeds() -> Vec<(String, Vec<u8>)> {
    fn record(out: &mut Vec<u8>, data: &[u8], flags: u8) {
        if let Ok(len) = u8::try_from(data.len()) {
            out.push(len);
            out.push(flags);
            out.extend_from_slice(data);
        }
    }
    const SAME: u8 = 3 << 2;
    const PLUS_ONE: u8 = 4 << 2;
    const MINUS_ONE: u8 = 2 << 2;
    let mut out = Vec::new();
    for (k, codec) in Codec::ALL.into_iter().enumerate() {
        let mut script = vec![u8::try_from(k).unwrap_or(0)];
        let mut reordered = script.clone();
        for frame in sample_frames(codec) {
            let max_payload = if codec == Codec::Opus { 200 } else { 60 };
            let Ok(payloads) = new_packetizer(codec, 100).packetize(&frame, max_payload) else {
                continue;
            };
            for (i, p) in payloads.iter().enumerate() {
                let new_ts = if i == 0 { 0x02 } else { 0 };
                record(&mut script, &p.data, u8::from(p.marker) | new_ts | SAME);
            }
            for (pair, chunk) in payloads.chunks(2).enumerate() {
                let new_ts = if pair == 0 { 0x02 } else { 0 };
                match chunk {
                    [a, b] => {
                        record(
                            &mut reordered,
                            &b.data,
                            u8::from(b.marker) | new_ts | PLUS_ONE,
                        );
                        record(&mut reordered, &a.data, u8::from(a.marker) | MINUS_ONE);
                    }
                    [a] => record(&mut reordered, &a.data, u8::from(a.marker) | new_ts | SAME),
                    _ => {}
                }
            }
        }
        let name = codec.name().to_ascii_lowercase();
        out.push((format!("seed-{name}"), script));
        out.push((format!("seed-{name}-reordered"), reordered));
    }
    out
}

/// `n` bytes in 1..=255 (never zero, so no H.264 start code can appear inside a unit).
#[doc(hidden)]
pub fn sample_bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| u8::try_from((i * 7 + usize::from(seed)) % 255).unwrap_or(0) + 1)
        .collect()
}

/// AV1 OBU with its size field: type `t`, payload `body`.
#[doc(hidden)]
pub fn sample_obu(t: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![(t << 3) | 0x02];
    super::av1::write_leb128(body.len(), &mut v);
    v.extend_from_slice(body);
    v
}

/// A key frame and a delta frame (Opus: two packets) in each codec's frame format.
#[doc(hidden)]
pub fn sample_frames(codec: Codec) -> Vec<Vec<u8>> {
    let with_first = |first: &[u8], n: usize, seed: u8| {
        let mut v = first.to_vec();
        v.extend(sample_bytes(n, seed));
        v
    };
    match codec {
        Codec::Opus => vec![with_first(&[0x78], 60, 1), with_first(&[0xfc], 120, 2)],
        // RFC 7741 §4.3 / RFC 6386 §9.1: P = 0, the key frame start code 9d 01 2a, 640x480.
        Codec::Vp8 => vec![
            with_first(
                &[0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01],
                150,
                3,
            ),
            with_first(&[0x31, 0x06, 0x00], 90, 4),
        ],
        // VP9 §6.2: frame_marker 2, profile 0, frame_type 0 (key) / 1.
        Codec::Vp9 => vec![
            with_first(&[0x82, 0x49, 0x83, 0x42], 150, 5),
            with_first(&[0x86], 90, 6),
        ],
        Codec::H264 => {
            let sc = super::h264::START_CODE;
            let mut key = Vec::new();
            for unit in [
                &[0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8][..],
                &[0x68, 0xce, 0x3c, 0x80][..],
            ] {
                key.extend_from_slice(&sc);
                key.extend_from_slice(unit);
            }
            key.extend_from_slice(&sc);
            key.extend(with_first(&[0x65, 0x88], 200, 7));
            let mut delta = sc.to_vec();
            delta.extend(with_first(&[0x41, 0x9a], 100, 8));
            vec![key, delta]
        }
        Codec::Av1 => {
            let td = super::av1::TEMPORAL_DELIMITER.to_vec();
            let key = [
                td.clone(),
                sample_obu(1, &sample_bytes(12, 9)),
                sample_obu(6, &sample_bytes(180, 10)),
            ]
            .concat();
            let delta = [td, sample_obu(6, &sample_bytes(70, 11))].concat();
            vec![key, delta]
        }
    }
}
