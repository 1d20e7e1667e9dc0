//! Tests of the payload formats: RFC figures, round trips, keyframes, malformed input, bounds.

use super::av1::{self, Av1Depacketizer, Av1Packetizer};
use super::fuzz::{
    fuzz_depacketize, fuzz_depacketize_seeds, sample_bytes, sample_frames, sample_obu,
};
use super::h264::{self, H264Depacketizer, H264Packetizer, START_CODE};
use super::opus::{OpusDepacketizer, OpusPacketizer};
use super::vp8::{self, PictureId, Vp8Depacketizer, Vp8Descriptor, Vp8Packetizer};
use super::vp9::{
    self, ScalabilityStructure, Vp9Depacketizer, Vp9Descriptor, Vp9Layer, Vp9Packetizer,
    Vp9PictureGroupEntry,
};
use super::*;

/// A small deterministic generator (xorshift64*), for shuffles and mutations.
struct Rand(u64);

impl Rand {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// Pushes payloads in order from `seq`, returns the frames that came out.
fn depacketize(d: &mut dyn Depacketizer, payloads: &[Payload], seq: u16, ts: u32) -> Vec<Frame> {
    for (i, p) in payloads.iter().enumerate() {
        d.push(
            &p.data,
            p.marker,
            seq.wrapping_add(u16::try_from(i).unwrap()),
            ts,
        )
        .unwrap();
    }
    std::iter::from_fn(|| d.poll_frame()).collect()
}

fn annex_b(units: &[&[u8]]) -> Vec<u8> {
    units
        .iter()
        .flat_map(|u| START_CODE.iter().chain(u.iter()).copied())
        .collect()
}

/// A frame of `n` bytes in `codec`'s format (what the depacketizer gives back exactly).
fn frame_of(codec: Codec, n: usize, key: bool, seed: u8) -> Vec<u8> {
    match codec {
        Codec::Opus => sample_bytes(n, seed),
        Codec::Vp8 => {
            let mut v = sample_bytes(n, seed);
            v[0] = if key { 0x50 } else { 0x51 };
            v
        }
        Codec::Vp9 => {
            let mut v = sample_bytes(n, seed);
            v[0] = if key { 0x82 } else { 0x86 };
            v
        }
        Codec::H264 => {
            let sps = [0x67, 0x42, 0xc0, 0x1f, 0xda];
            let pps = [0x68, 0xce, 0x3c, 0x80];
            let mut slice = sample_bytes(n.max(2), seed);
            // first_mb_in_slice 0: the slice opens the picture.
            slice[0] = if key { 0x65 } else { 0x41 };
            slice[1] = 0x88;
            if key {
                annex_b(&[&sps, &pps, &slice])
            } else {
                annex_b(&[&slice])
            }
        }
        Codec::Av1 => {
            let mut v = av1::TEMPORAL_DELIMITER.to_vec();
            if key {
                v.extend(sample_obu(
                    av1::OBU_SEQUENCE_HEADER,
                    &sample_bytes(11, seed),
                ));
            }
            v.extend(sample_obu(av1::OBU_FRAME, &sample_bytes(n, seed)));
            v
        }
    }
}

const SIZES: [usize; 14] = [
    1, 2, 3, 7, 50, 100, 999, 1000, 1188, 1189, 1190, 2400, 3601, 9000,
];

#[test]
fn round_trip_every_codec_many_sizes_in_order_and_shuffled() {
    let mut rng = Rand(0x1234_5678);
    for codec in Codec::ALL {
        for &n in &SIZES {
            for max_payload in [1188, 300, 50] {
                if codec == Codec::Opus && n > max_payload {
                    continue;
                }
                for key in [true, false] {
                    let frame = frame_of(codec, n, key, u8::try_from(n % 251).unwrap());
                    let mut p = new_packetizer(codec, 0x7ff0);
                    let payloads = p.packetize(&frame, max_payload).unwrap();
                    assert!(
                        payloads.iter().all(|pl| pl.data.len() <= max_payload),
                        "{codec:?} {n} {max_payload}"
                    );
                    if codec.is_video() {
                        assert!(payloads.last().unwrap().marker);
                        assert!(payloads.iter().rev().skip(1).all(|pl| !pl.marker));
                    }
                    assert_eq!(
                        is_keyframe(codec, &payloads[0].data),
                        key || codec == Codec::Opus,
                        "{codec:?} {n}"
                    );
                    // In order, through the depacketizer alone.
                    let mut d = new_depacketizer(codec);
                    let frames = depacketize(&mut *d, &payloads, 65_530, 9000);
                    assert_eq!(frames.len(), 1, "{codec:?} {n} {max_payload}");
                    assert_eq!(frames[0].data, frame, "{codec:?} {n} {max_payload}");
                    assert!(frames[0].complete);
                    assert_eq!(frames[0].keyframe, key || codec == Codec::Opus);
                    assert_eq!(frames[0].timestamp, 9000);
                    // Shuffled, through an assembler (sequence numbers wrap on the way).
                    let mut order: Vec<usize> = (0..payloads.len()).collect();
                    rng.shuffle(&mut order);
                    let mut a = FrameAssembler::new(new_depacketizer(codec));
                    if !key && matches!(codec, Codec::H264 | Codec::Av1) {
                        // These payloads cannot say a delta frame starts: the packet before
                        // (the end of some earlier frame) has to.
                        let end: &[u8] = if codec == Codec::H264 {
                            &[0x41, 0x88]
                        } else {
                            &[0x10, 0x30, 0x01]
                        };
                        a.handle_packet(end, true, 65_529, 6000).unwrap();
                    }
                    for &i in &order {
                        let pl = &payloads[i];
                        a.handle_packet(
                            &pl.data,
                            pl.marker,
                            65_530u16.wrapping_add(u16::try_from(i).unwrap()),
                            9000,
                        )
                        .unwrap();
                    }
                    let f = a
                        .poll_frame()
                        .unwrap_or_else(|| panic!("{codec:?} {n} {max_payload} not assembled"));
                    assert_eq!(f.data, frame);
                    assert!(f.complete);
                    assert_eq!(f.first_seq, 65_530);
                    assert!(a.poll_frame().is_none());
                    assert_eq!(a.missing().count(), 0);
                }
            }
        }
    }
}

#[test]
fn assembler_interleaved_frames_out_of_order() {
    // Three frames, all their packets shuffled together; each comes out once, whole.
    let mut rng = Rand(99);
    for codec in [Codec::Vp8, Codec::Vp9, Codec::H264, Codec::Av1] {
        let mut p = new_packetizer(codec, 1);
        let mut packets = Vec::new();
        let mut frames = Vec::new();
        let mut seq = 100u16;
        for k in 0..3u32 {
            let frame = frame_of(codec, 500 + 300 * usize::try_from(k).unwrap(), k == 0, 3);
            for pl in p.packetize(&frame, 200).unwrap() {
                packets.push((pl, seq, 3000 * k));
                seq = seq.wrapping_add(1);
            }
            frames.push(frame);
        }
        rng.shuffle(&mut packets);
        let mut a = FrameAssembler::new(new_depacketizer(codec));
        for (pl, s, ts) in &packets {
            a.handle_packet(&pl.data, pl.marker, *s, *ts).unwrap();
        }
        let mut out: Vec<Frame> = std::iter::from_fn(|| a.poll_frame()).collect();
        out.sort_by_key(|f| f.timestamp);
        assert_eq!(out.len(), 3, "{codec:?}");
        for (f, want) in out.iter().zip(&frames) {
            assert_eq!(&f.data, want, "{codec:?}");
        }
        assert_eq!(a.pending_frames(), 0);
        assert_eq!(a.stats().frames_emitted, 3);
    }
}

#[test]
fn assembler_drops_incomplete_frames_a_jitter_buffer_gave_up() {
    // Frame 0 lost its middle packet, frame 1 is whole; dropping before frame 1's first
    // packet drops frame 0 (counted), and its late packet then completes nothing.
    let mut p = new_packetizer(Codec::Vp8, 1);
    let mut a = FrameAssembler::new(new_depacketizer(Codec::Vp8));
    let mut seq = 65534u16;
    let mut lost = None;
    for k in 0..2u32 {
        let frame = frame_of(Codec::Vp8, 600, k == 0, 5);
        let payloads = p.packetize(&frame, 200).unwrap();
        for (i, pl) in payloads.iter().enumerate() {
            if k == 0 && i == 1 {
                lost = Some((pl.clone(), seq));
            } else {
                a.handle_packet(&pl.data, pl.marker, seq, 3000 * k).unwrap();
            }
            seq = seq.wrapping_add(1);
        }
    }
    let out: Vec<Frame> = std::iter::from_fn(|| a.poll_frame()).collect();
    assert_eq!(out.len(), 1);
    assert_eq!(a.pending_frames(), 1);
    a.drop_before(65535);
    assert_eq!(a.pending_frames(), 1, "frame 0 has a packet at 65535 and after: kept");
    a.drop_before(out[0].first_seq);
    assert_eq!(a.pending_frames(), 0);
    assert_eq!(a.stats().frames_dropped, 1);
    assert_eq!(a.missing().count(), 0);
    let (pl, s) = lost.unwrap();
    a.handle_packet(&pl.data, pl.marker, s, 0).unwrap();
    assert!(a.poll_frame().is_none(), "a dropped frame does not come back");
}

// ---- Opus (RFC 7587) ----

#[test]
fn opus_one_packet_per_frame() {
    let mut p = OpusPacketizer::new();
    let out = p.packetize(&[0xfc, 0xff, 0xfe], 1200).unwrap();
    assert_eq!(
        out,
        vec![Payload {
            data: vec![0xfc, 0xff, 0xfe],
            marker: false
        }]
    );
    assert_eq!(p.packetize(&[0; 1201], 1200), Err(CodecError::TooLarge));
    assert_eq!(p.packetize(&[], 1200), Err(CodecError::InvalidInput));
    let mut d = OpusDepacketizer::new();
    // Every payload is a frame, lost packets in between or not, marker or not.
    d.push(&[0x78, 1], false, 10, 960).unwrap();
    d.push(&[0x78, 2], false, 12, 1920).unwrap();
    assert_eq!(d.push(&[], false, 13, 2880), Err(CodecError::Truncated));
    let f: Vec<Frame> = std::iter::from_fn(|| d.poll_frame()).collect();
    assert_eq!(f.len(), 2);
    assert!(f.iter().all(|f| f.complete && f.keyframe));
    assert_eq!(f[1].data, [0x78, 2]);
    assert_eq!(
        (f[1].timestamp, f[1].first_seq, f[1].last_seq),
        (1920, 12, 12)
    );
}

// ---- VP8 (RFC 7741) ----

#[test]
fn vp8_descriptor_rfc7741_fields() {
    // RFC 7741 §4.2: X=1, N=1, S=1, PID=0; I L T K; M=1 picture ID 0x1234; TL0PICIDX 5;
    // TID 2, Y 1, KEYIDX 7; then a key frame's payload header (P = 0).
    let payload = [
        0xb0, 0xf0, 0x92, 0x34, 0x05, 0xa7, 0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a,
    ];
    let (d, rest) = Vp8Descriptor::parse(&payload).unwrap();
    assert_eq!(
        d,
        Vp8Descriptor {
            non_reference: true,
            start_of_partition: true,
            partition_index: 0,
            picture_id: Some(PictureId::Long(0x1234)),
            tl0_pic_idx: Some(5),
            temporal: Some((2, true)),
            key_idx: Some(7),
        }
    );
    assert_eq!(rest, &payload[6..]);
    let mut enc = Vec::new();
    d.encode(&mut enc);
    assert_eq!(enc, &payload[..6]);
    assert!(vp8::inspect(&payload).unwrap().keyframe);

    // The minimal descriptor: one byte, S=0, PID=3.
    let (d, rest) = Vp8Descriptor::parse(&[0x03, 0xaa]).unwrap();
    assert_eq!(
        (d.start_of_partition, d.partition_index, d.picture_id),
        (false, 3, None)
    );
    assert_eq!(rest, [0xaa]);
    // 7-bit picture ID; K without T.
    let (d, _) = Vp8Descriptor::parse(&[0x90, 0x90, 0x11, 0x1f, 0x00]).unwrap();
    assert_eq!(
        (d.picture_id, d.temporal, d.key_idx),
        (Some(PictureId::Short(0x11)), None, Some(0x1f))
    );
    let mut enc = Vec::new();
    d.encode(&mut enc);
    assert_eq!(enc, [0x90, 0x90, 0x11, 0x1f]);
}

#[test]
fn vp8_keyframe_detection() {
    assert!(is_keyframe(Codec::Vp8, &[0x10, 0x50]));
    assert!(!is_keyframe(Codec::Vp8, &[0x10, 0x51]), "P = 1: interframe");
    assert!(
        !is_keyframe(Codec::Vp8, &[0x00, 0x50]),
        "not a partition start"
    );
    assert!(!is_keyframe(Codec::Vp8, &[0x11, 0x50]), "partition 1");
    assert!(is_keyframe(Codec::Vp8, &[0x90, 0x80, 0x80, 0x01, 0x50]));
    assert!(!is_keyframe(Codec::Vp8, &[0x90, 0x80, 0x80]), "truncated");
}

#[test]
fn vp8_picture_id_advances_and_wraps() {
    let mut p = Vp8Packetizer::new(0x7fff);
    let a = p.packetize(&[0x50; 10], 100).unwrap();
    let b = p.packetize(&[0x51; 10], 100).unwrap();
    let id = |pl: &Payload| Vp8Descriptor::parse(&pl.data).unwrap().0.picture_id;
    assert_eq!(id(&a[0]), Some(PictureId::Long(0x7fff)));
    assert_eq!(id(&b[0]), Some(PictureId::Long(0)));
    assert_eq!(p.picture_id(), 1);
    assert_eq!(
        p.packetize(&[1; 10], 4),
        Err(CodecError::InvalidInput),
        "no room after the descriptor"
    );
    assert_eq!(p.picture_id(), 1, "a refused frame takes no picture ID");
}

#[test]
fn depacketizer_ignores_an_immediate_duplicate() {
    let pl = Vp8Packetizer::new(0)
        .packetize(&frame_of(Codec::Vp8, 300, true, 1), 100)
        .unwrap();
    let mut d = Vp8Depacketizer::new();
    for (i, x) in pl.iter().enumerate() {
        let seq = u16::try_from(i).unwrap();
        d.push(&x.data, x.marker, seq, 0).unwrap();
        d.push(&x.data, x.marker, seq, 0).unwrap();
    }
    let f = d.poll_frame().unwrap();
    assert!(f.complete);
    assert_eq!(f.data, frame_of(Codec::Vp8, 300, true, 1));
    assert!(d.poll_frame().is_none());
}

#[test]
fn vp8_loss_marks_frame_incomplete() {
    let mut p = Vp8Packetizer::new(0);
    let frame = frame_of(Codec::Vp8, 300, true, 1);
    let pl = p.packetize(&frame, 100).unwrap();
    assert_eq!(pl.len(), 4);
    let mut d = Vp8Depacketizer::new();
    for (i, x) in pl.iter().enumerate() {
        if i != 2 {
            d.push(&x.data, x.marker, u16::try_from(i).unwrap(), 0)
                .unwrap();
        }
    }
    let f = d.poll_frame().unwrap();
    assert!(!f.complete);
    assert!(f.keyframe);
    // The first packet lost: the frame is incomplete too.
    let mut d = Vp8Depacketizer::new();
    for (i, x) in pl.iter().enumerate().skip(1) {
        d.push(&x.data, x.marker, u16::try_from(i).unwrap(), 0)
            .unwrap();
    }
    assert!(!d.poll_frame().unwrap().complete);
    // A marker lost: the next timestamp ends the frame, incomplete.
    let mut d = Vp8Depacketizer::new();
    for (i, x) in pl.iter().enumerate().take(3) {
        d.push(&x.data, x.marker, u16::try_from(i).unwrap(), 0)
            .unwrap();
    }
    assert!(d.poll_frame().is_none());
    d.push(&[0x10, 0x51], true, 4, 3000).unwrap();
    let f = d.poll_frame().unwrap();
    assert!(!f.complete);
    assert_eq!(f.timestamp, 0);
    let g = d.poll_frame().unwrap();
    assert!(
        g.complete,
        "S and PID 0: it starts its frame, whatever came before"
    );
    assert_eq!(g.data, [0x51]);
}

// ---- VP9 (RFC 9628) ----

#[test]
fn vp9_flexible_descriptor_with_references() {
    // I P L F B, picture ID 0x0102 (M), L: TID 1 U SID 1 D, two P_DIFFs (3 with N, 5).
    let payload = [0xf8, 0x81, 0x02, 0x33, 0x07, 0x0a, 0xee];
    let (d, rest) = Vp9Descriptor::parse(&payload).unwrap();
    assert_eq!(
        d,
        Vp9Descriptor {
            inter_picture: true,
            flexible: true,
            begins_frame: true,
            picture_id: Some(PictureId::Long(0x0102)),
            layer: Some(Vp9Layer {
                temporal_id: 1,
                switching_up: true,
                spatial_id: 1,
                inter_layer_dependency: true,
                tl0_pic_idx: None
            }),
            p_diffs: vec![3, 5],
            ..Default::default()
        }
    );
    assert_eq!(rest, [0xee]);
    let mut enc = Vec::new();
    d.encode(&mut enc);
    assert_eq!(enc, &payload[..6]);
    assert!(!vp9::inspect(&payload).unwrap().keyframe);
    assert_eq!(
        vp9::inspect(&payload).unwrap().starts_frame,
        Some(false),
        "SID 1 is not the base layer"
    );
    // Four references: malformed. Flexible without a picture ID: malformed.
    assert_eq!(
        Vp9Descriptor::parse(&[0x50, 0x03, 0x05, 0x07, 0x09, 0xee]),
        Err(CodecError::Malformed)
    );
    assert_eq!(
        Vp9Descriptor::parse(&[0x18, 0xee]),
        Err(CodecError::Malformed)
    );
}

#[test]
fn vp9_non_flexible_with_scalability_structure() {
    let ss = ScalabilityStructure {
        spatial_layers: 2,
        resolutions: vec![(320, 180), (640, 360)],
        picture_group: Some(vec![
            Vp9PictureGroupEntry {
                temporal_id: 0,
                switching_up: false,
                p_diffs: vec![1],
            },
            Vp9PictureGroupEntry {
                temporal_id: 1,
                switching_up: true,
                p_diffs: vec![1, 2],
            },
        ]),
    };
    let d = Vp9Descriptor {
        begins_frame: true,
        picture_id: Some(PictureId::Short(0x33)),
        layer: Some(Vp9Layer {
            temporal_id: 0,
            spatial_id: 0,
            tl0_pic_idx: Some(9),
            ..Default::default()
        }),
        ss: Some(ss),
        ..Default::default()
    };
    let mut enc = Vec::new();
    d.encode(&mut enc);
    // RFC 9628 §4.2.1: I L B V | PID | L | TL0PICIDX | N_S=1 Y G | 2x (W, H) | N_G=2 |
    // TID 0 R 1, P_DIFF 1 | TID 1 U R 2, P_DIFFs 1 2.
    assert_eq!(
        enc,
        [
            0xaa, 0x33, 0x00, 0x09, 0x38, 0x01, 0x40, 0x00, 0xb4, 0x02, 0x80, 0x01, 0x68, 0x02,
            0x04, 0x01, 0x38, 0x01, 0x02
        ]
    );
    enc.push(0x82);
    let (back, rest) = Vp9Descriptor::parse(&enc).unwrap();
    assert_eq!(back, d);
    assert_eq!(rest, [0x82]);
    assert!(vp9::inspect(&enc).unwrap().keyframe);
    // Truncated anywhere inside: an error, never a panic.
    for n in 0..enc.len() - 1 {
        assert!(vp9::inspect(&enc[..n]).is_err(), "{n}");
    }
}

#[test]
fn vp9_keyframe_detection() {
    assert!(is_keyframe(Codec::Vp9, &[0x08, 0x82]), "B, no P");
    assert!(!is_keyframe(Codec::Vp9, &[0x48, 0x86]), "P set");
    assert!(!is_keyframe(Codec::Vp9, &[0x00, 0x82]), "not B");
    assert!(!is_keyframe(Codec::Vp9, &[0x28, 0x02, 0x00, 0x82]), "SID 1");
    assert!(is_keyframe(Codec::Vp9, &[0x28, 0x00, 0x00, 0x82]), "SID 0");
    assert!(vp9::frame_is_keyframe(&[0x82]));
    assert!(!vp9::frame_is_keyframe(&[0x86]));
    assert!(!vp9::frame_is_keyframe(&[0x88]), "show_existing_frame");
    assert!(
        vp9::frame_is_keyframe(&[0xb1]),
        "profile 3: reserved bit, then show_existing 0, key"
    );
    assert!(!vp9::frame_is_keyframe(&[0x02]), "no frame marker");
}

#[test]
fn vp9_packetizer_sends_ss_on_keyframes() {
    let mut p = Vp9Packetizer::new(5);
    p.set_scalability_structure(Some(ScalabilityStructure {
        spatial_layers: 1,
        resolutions: vec![(1280, 720)],
        picture_group: None,
    }));
    let key = p
        .packetize(&frame_of(Codec::Vp9, 500, true, 1), 200)
        .unwrap();
    let (d, _) = Vp9Descriptor::parse(&key[0].data).unwrap();
    assert_eq!(d.ss.unwrap().resolutions, [(1280, 720)]);
    assert!(d.begins_frame && !d.inter_picture && !d.ends_frame);
    let (last, _) = Vp9Descriptor::parse(&key.last().unwrap().data).unwrap();
    assert!(last.ends_frame && !last.begins_frame && last.ss.is_none());
    let delta = p
        .packetize(&frame_of(Codec::Vp9, 50, false, 1), 200)
        .unwrap();
    let (d, _) = Vp9Descriptor::parse(&delta[0].data).unwrap();
    assert!(d.ss.is_none() && d.inter_picture && d.begins_frame && d.ends_frame);
    assert_eq!(d.picture_id, Some(PictureId::Long(6)));
    // The SS does not fit with a byte of frame: refused.
    assert_eq!(
        p.packetize(&frame_of(Codec::Vp9, 50, true, 1), 8),
        Err(CodecError::InvalidInput)
    );
}

#[test]
fn vp9_spatial_layers_one_picture() {
    // Two layer frames in one picture (one timestamp): SID 0 then SID 1, marker on the last.
    let l0 = [0xac, 0x00, 0x00, 0x05, 0x82, 0x01];
    let l1 = [0x2c, 0x02, 0x05, 0x86, 0x02];
    let mut a = FrameAssembler::new(Vp9Depacketizer::new());
    a.handle_packet(&l1, true, 11, 90).unwrap();
    assert!(a.poll_frame().is_none(), "SID 1 does not start the picture");
    a.handle_packet(&l0, false, 10, 90).unwrap();
    let f = a.poll_frame().unwrap();
    assert_eq!(f.data, [0x82, 0x01, 0x86, 0x02]);
    assert!(f.keyframe);
}

// ---- H.264 (RFC 6184) ----

#[test]
fn h264_stap_a_rfc6184_figure7() {
    // RFC 6184 §5.7.1 Figure 7: STAP-A with two NAL units (here SPS and PPS).
    let sps = [0x67, 0x42, 0x00, 0x1f];
    let pps = [0x68, 0xce, 0x3c, 0x80];
    let mut payload = vec![0x78, 0x00, 0x04];
    payload.extend_from_slice(&sps);
    payload.extend_from_slice(&[0x00, 0x04]);
    payload.extend_from_slice(&pps);
    let info = h264::inspect(&payload).unwrap();
    assert!(info.keyframe);
    assert_eq!(info.starts_frame, Some(true), "an SPS opens an access unit");
    assert_eq!(
        h264::inspect(&[0x78, 0x00, 0x01, 0x06])
            .unwrap()
            .starts_frame,
        None,
        "SEI: cannot tell"
    );
    let mut d = H264Depacketizer::new();
    d.push(&payload, true, 1, 0).unwrap();
    assert_eq!(d.poll_frame().unwrap().data, annex_b(&[&sps, &pps]));
    // The packetizer aggregates them the same way (NRI 3 from the units).
    let frames = H264Packetizer::new()
        .packetize(&annex_b(&[&sps, &pps]), 1200)
        .unwrap();
    assert_eq!(
        frames,
        vec![Payload {
            data: payload,
            marker: true
        }]
    );
}

#[test]
fn h264_fu_a_rfc6184_figure14() {
    // RFC 6184 §5.8 Figure 14/15: FU indicator (NRI 3, type 28), FU header S/E + type 5.
    let p1 = [0x7c, 0x85, 0x88, 0x84];
    let p2 = [0x7c, 0x05, 0x21, 0x22];
    let p3 = [0x7c, 0x45, 0x33];
    assert!(h264::inspect(&p1).unwrap().keyframe);
    assert_eq!(
        h264::inspect(&p1).unwrap().starts_frame,
        None,
        "first_mb_in_slice 0: an SPS may come before"
    );
    assert_eq!(
        h264::inspect(&[0x7c, 0x85, 0x48]).unwrap().starts_frame,
        Some(false),
        "first_mb_in_slice 1"
    );
    assert_eq!(h264::inspect(&p2).unwrap().starts_frame, Some(false));
    let mut d = H264Depacketizer::new();
    d.push(&p1, false, 7, 0).unwrap();
    d.push(&p2, false, 8, 0).unwrap();
    d.push(&p3, true, 9, 0).unwrap();
    let f = d.poll_frame().unwrap();
    assert_eq!(f.data, annex_b(&[&[0x65, 0x88, 0x84, 0x21, 0x22, 0x33]]));
    assert!(f.complete && f.keyframe);
    // The middle fragment lost: the NAL unit is dropped, the frame is incomplete.
    let mut d = H264Depacketizer::new();
    d.push(&[0x41, 0x81], false, 1, 0).unwrap();
    d.push(&p1, false, 2, 0).unwrap();
    d.push(&p3, true, 4, 0).unwrap();
    let f = d.poll_frame().unwrap();
    assert!(!f.complete);
    assert_eq!(f.data, annex_b(&[&[0x41, 0x81]]));
}

#[test]
fn h264_packetizer_fragments_large_units() {
    let big = frame_of(Codec::H264, 1000, false, 3);
    let out = H264Packetizer::new().packetize(&big, 300).unwrap();
    assert_eq!(out.len(), 4, "999 bytes after the header, 298 per FU-A");
    assert_eq!(out[0].data[..2], [0x5c, 0x81]);
    assert_eq!(out[1].data[..2], [0x5c, 0x01]);
    assert_eq!(out[3].data[..2], [0x5c, 0x41]);
    assert!(out[3].marker);
    // 3-byte start codes, leading zeros and trailing zeros are taken.
    let odd = [0, 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x41, 0x9a, 0x01, 0, 0];
    let out = H264Packetizer::new().packetize(&odd, 1200).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].data,
        [0x58, 0x00, 0x02, 0x09, 0xf0, 0x00, 0x03, 0x41, 0x9a, 0x01]
    );
    assert_eq!(
        H264Packetizer::new().packetize(&[0x65, 1, 2], 1200),
        Err(CodecError::InvalidInput),
        "no start code"
    );
    assert_eq!(
        H264Packetizer::new().packetize(&[0, 0, 1], 1200),
        Err(CodecError::InvalidInput),
        "no unit"
    );
    assert_eq!(
        H264Packetizer::new().packetize(&big, 2),
        Err(CodecError::InvalidInput)
    );
}

#[test]
fn h264_parameter_sets_cached_and_prepended() {
    let sps = [0x67, 0x42, 0xc0, 0x1f];
    let pps = [0x68, 0xce, 0x3c, 0x80];
    let idr = [0x65, 0x88, 0x80];
    let mut d = H264Depacketizer::new();
    // An IDR before any parameter set: nothing to prepend.
    d.push(&idr, true, 1, 0).unwrap();
    assert_eq!(d.poll_frame().unwrap().data, annex_b(&[&idr]));
    let mut stap = vec![0x78];
    for u in [&sps[..], &pps[..]] {
        stap.extend_from_slice(&u16::try_from(u.len()).unwrap().to_be_bytes());
        stap.extend_from_slice(u);
    }
    d.push(&stap, false, 2, 3000).unwrap();
    d.push(&idr, true, 3, 3000).unwrap();
    assert_eq!(d.poll_frame().unwrap().data, annex_b(&[&sps, &pps, &idr]));
    // A later IDR without them gets both; a delta frame gets nothing.
    d.push(&[0x41, 0x9a], true, 4, 6000).unwrap();
    assert_eq!(d.poll_frame().unwrap().data, annex_b(&[&[0x41, 0x9a]]));
    d.push(&idr, true, 5, 9000).unwrap();
    let f = d.poll_frame().unwrap();
    assert_eq!(f.data, annex_b(&[&sps, &pps, &idr]));
    assert!(f.keyframe);
}

#[test]
fn h264_refused_structures() {
    let cases: &[(&str, &[u8], CodecError)] = &[
        ("empty", &[], CodecError::Truncated),
        ("F bit", &[0xe5, 0x01], CodecError::Malformed),
        ("type 0", &[0x00, 0x01], CodecError::Unsupported),
        ("type 30", &[0x1e, 0x01], CodecError::Unsupported),
        (
            "STAP-B",
            &[0x19, 0x00, 0x00, 0x01, 0x41],
            CodecError::Unsupported,
        ),
        ("MTAP16", &[0x1a, 0x00], CodecError::Unsupported),
        ("MTAP24", &[0x1b, 0x00], CodecError::Unsupported),
        (
            "FU-B",
            &[0x1d, 0x85, 0x00, 0x00, 0x01],
            CodecError::Unsupported,
        ),
        ("FU-A S and E", &[0x7c, 0xc5, 0x01], CodecError::Malformed),
        ("FU-A no header", &[0x7c], CodecError::Truncated),
        ("FU-A no bytes", &[0x7c, 0x85], CodecError::Truncated),
        ("STAP-A empty", &[0x78], CodecError::Truncated),
        (
            "STAP-A zero size",
            &[0x78, 0x00, 0x00, 0x41],
            CodecError::Malformed,
        ),
        (
            "STAP-A overrun",
            &[0x78, 0x00, 0x05, 0x41, 0x01],
            CodecError::Truncated,
        ),
        (
            "STAP-A half size",
            &[0x78, 0x00, 0x01, 0x41, 0x00],
            CodecError::Truncated,
        ),
        (
            "STAP-A nested",
            &[0x78, 0x00, 0x02, 0x7c, 0x85],
            CodecError::Malformed,
        ),
        (
            "STAP-A absurd size",
            &[0x78, 0xff, 0xff, 0x41],
            CodecError::Truncated,
        ),
    ];
    for (name, payload, want) in cases {
        assert_eq!(h264::inspect(payload).err(), Some(*want), "{name}");
        let mut d = H264Depacketizer::new();
        assert_eq!(d.push(payload, true, 0, 0).err(), Some(*want), "{name}");
        assert!(d.poll_frame().is_none(), "{name}");
    }
}

#[test]
fn h264_keyframe_detection() {
    assert!(is_keyframe(Codec::H264, &[0x65, 0x88]), "IDR");
    assert!(is_keyframe(Codec::H264, &[0x67, 0x42]), "SPS");
    assert!(!is_keyframe(Codec::H264, &[0x68, 0xce]), "PPS alone");
    assert!(!is_keyframe(Codec::H264, &[0x41, 0x9a]), "non-IDR slice");
    assert!(
        is_keyframe(Codec::H264, &[0x7c, 0x05, 0x01]),
        "FU-A of an IDR (middle)"
    );
    assert!(
        !is_keyframe(Codec::H264, &[0x5c, 0x81, 0x01]),
        "FU-A of a non-IDR slice"
    );
    assert!(
        is_keyframe(
            Codec::H264,
            &[0x78, 0x00, 0x01, 0x06, 0x00, 0x02, 0x65, 0x88]
        ),
        "STAP-A with an IDR"
    );
}

// ---- AV1 ----

#[test]
fn av1_aggregation_header_and_elements() {
    // W = 2: the first element has a length, the last takes the rest. N = 1: a sequence
    // header starts a coded video sequence.
    let sh = [0x08, 0x00, 0x00, 0x00, 0x42];
    let fr = [0x30, 0x10, 0x20, 0x30];
    let mut payload = vec![0x28, 0x05];
    payload.extend_from_slice(&sh);
    payload.extend_from_slice(&fr);
    let info = av1::inspect(&payload).unwrap();
    assert!(info.keyframe);
    assert_eq!(info.starts_frame, Some(true));
    let mut d = Av1Depacketizer::new();
    d.push(&payload, true, 0, 0).unwrap();
    let f = d.poll_frame().unwrap();
    let want = [
        &av1::TEMPORAL_DELIMITER[..],
        &sample_obu(1, &sh[1..]),
        &sample_obu(6, &fr[1..]),
    ]
    .concat();
    assert_eq!(f.data, want);
    assert!(f.keyframe && f.complete);
    // W = 0: every element has a length; an element with its own size field is taken too.
    let payload = [0x00, 0x03, 0x32, 0x01, 0xaa, 0x02, 0x30, 0xbb];
    let mut d = Av1Depacketizer::new();
    d.push(&payload, true, 0, 0).unwrap();
    let want = [
        &av1::TEMPORAL_DELIMITER[..],
        &sample_obu(6, &[0xaa]),
        &sample_obu(6, &[0xbb]),
    ]
    .concat();
    assert_eq!(d.poll_frame().unwrap().data, want);
}

#[test]
fn av1_fragment_across_packets() {
    // One frame OBU in three fragments: Y, Z+Y, Z.
    let p1 = [0x50, 0x30, 0x01, 0x02];
    let p2 = [0xd0, 0x03, 0x04];
    let p3 = [0x90, 0x05];
    assert_eq!(av1::inspect(&p2).unwrap().starts_frame, Some(false));
    let mut d = Av1Depacketizer::new();
    d.push(&p1, false, 1, 0).unwrap();
    d.push(&p2, false, 2, 0).unwrap();
    d.push(&p3, true, 3, 0).unwrap();
    let f = d.poll_frame().unwrap();
    assert_eq!(
        f.data,
        [
            &av1::TEMPORAL_DELIMITER[..],
            &sample_obu(6, &[1, 2, 3, 4, 5])
        ]
        .concat()
    );
    assert!(f.complete);
    // The middle one lost: the OBU is dropped.
    let mut d = Av1Depacketizer::new();
    d.push(&p1, false, 1, 0).unwrap();
    d.push(&p3, true, 3, 0).unwrap();
    assert!(d.poll_frame().is_none(), "nothing left of the frame");
}

#[test]
fn av1_packetizer_drops_temporal_delimiters_and_sets_n() {
    let tu = frame_of(Codec::Av1, 30, true, 1);
    let out = Av1Packetizer::new().packetize(&tu, 1200).unwrap();
    assert_eq!(out.len(), 1);
    // N, W = 2; sequence header (no size field) with its length, then the frame OBU.
    assert_eq!(out[0].data[0], 0x28);
    assert_eq!(out[0].data[1], 12);
    assert_eq!(out[0].data[2], 0x08);
    assert_eq!(out[0].data[14], 0x30);
    let delta = frame_of(Codec::Av1, 3000, false, 1);
    let out = Av1Packetizer::new().packetize(&delta, 1000).unwrap();
    assert_eq!(out.len(), 4);
    assert_eq!(out[0].data[0], 0x50, "Y, W = 1");
    assert_eq!(out[1].data[0], 0xd0, "Z, Y, W = 1");
    assert_eq!(out[3].data[0], 0x90, "Z, W = 1");
    assert_eq!(
        Av1Packetizer::new().packetize(&av1::TEMPORAL_DELIMITER, 1200),
        Err(CodecError::InvalidInput)
    );
    assert_eq!(
        Av1Packetizer::new().packetize(&[0x32, 0x05, 0x01], 1200),
        Err(CodecError::InvalidInput),
        "size past the end"
    );
    assert_eq!(
        Av1Packetizer::new().packetize(&[0xb2, 0x00], 1200),
        Err(CodecError::InvalidInput),
        "forbidden bit"
    );
    // An OBU without a size field runs to the end.
    let out = Av1Packetizer::new()
        .packetize(&[0x30, 0x01, 0x02], 1200)
        .unwrap();
    assert_eq!(out[0].data, [0x10, 0x30, 0x01, 0x02]);
}

#[test]
fn av1_refused_payloads() {
    let cases: &[(&str, &[u8], CodecError)] = &[
        ("empty", &[], CodecError::Truncated),
        ("no element", &[0x00], CodecError::Malformed),
        ("zero length", &[0x00, 0x00], CodecError::Malformed),
        (
            "length past the end",
            &[0x00, 0x05, 0x30],
            CodecError::Truncated,
        ),
        (
            "leb128 of 9 bytes",
            &[0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
            CodecError::Malformed,
        ),
        (
            "leb128 past 2^32",
            &[0x00, 0x80, 0x80, 0x80, 0x80, 0x10, 0x30],
            CodecError::Malformed,
        ),
        (
            "W = 3, two elements",
            &[0x30, 0x01, 0x30, 0x01, 0x30],
            CodecError::Malformed,
        ),
    ];
    for (name, payload, want) in cases {
        assert_eq!(av1::inspect(payload).err(), Some(*want), "{name}");
    }
    // Structure fine, OBU not: the forbidden bit, an inner size that disagrees.
    for (name, payload, want) in [
        ("forbidden", &[0x10, 0xb0, 0x01][..], CodecError::Malformed),
        (
            "inner size short",
            &[0x10, 0x32, 0x00, 0x01][..],
            CodecError::Malformed,
        ),
        (
            "inner size past the end",
            &[0x10, 0x32, 0x05, 0x01][..],
            CodecError::Truncated,
        ),
    ] {
        let mut d = Av1Depacketizer::new();
        assert_eq!(d.push(payload, true, 0, 0), Err(want), "{name}");
        assert!(d.poll_frame().is_none());
    }
}

#[test]
fn av1_keyframe_detection() {
    assert!(
        is_keyframe(Codec::Av1, &[0x18, 0x08, 0x00]),
        "N, sequence header first"
    );
    assert!(!is_keyframe(Codec::Av1, &[0x10, 0x08, 0x00]), "no N");
    assert!(
        !is_keyframe(Codec::Av1, &[0x18, 0x30, 0x00]),
        "N on a frame OBU"
    );
    assert!(
        !is_keyframe(Codec::Av1, &[0x98, 0x08, 0x00]),
        "a continuation"
    );
}

#[test]
fn leb128_round_trip() {
    for v in [
        0usize,
        1,
        127,
        128,
        300,
        16_383,
        16_384,
        1 << 21,
        (1 << 28) + 5,
        0xffff_ffff,
    ] {
        let mut b = Vec::new();
        av1::write_leb128(v, &mut b);
        assert_eq!(b.len(), av1::leb128_len(v));
        assert_eq!(av1::read_leb128(&mut Reader::new(&b)), Ok(v));
    }
}

#[test]
fn descriptors_round_trip_over_every_short_prefix() {
    // Every 1- and 2-byte start (then fixed filler), for both formats: whatever parses
    // re-encodes to a descriptor that parses the same.
    for a in 0..=255u8 {
        for b in 0..=255u8 {
            let payload = [a, b, 0x81, 0x02, 0x03, 0x24, 0x05, 0x06, 0x07, 0x08, 0x09];
            super::fuzz::descriptor_round_trip(Codec::Vp8, &payload);
            super::fuzz::descriptor_round_trip(Codec::Vp9, &payload);
        }
    }
}

// ---- malformed input, every codec ----

#[test]
fn truncated_at_every_length_never_panics() {
    for codec in Codec::ALL {
        for frame in sample_frames(codec) {
            for max_payload in [40, 1200] {
                let Ok(payloads) = new_packetizer(codec, 3).packetize(&frame, max_payload) else {
                    continue;
                };
                for p in &payloads {
                    for n in 0..=p.data.len() {
                        let cut = &p.data[..n];
                        let _ = is_keyframe(codec, cut);
                        let mut d = new_depacketizer(codec);
                        let _ = d.push(cut, true, 0, 0);
                        while let Some(f) = d.poll_frame() {
                            assert!(f.data.len() <= MAX_FRAME_BYTES);
                        }
                        let mut a = FrameAssembler::new(new_depacketizer(codec));
                        let _ = a.handle_packet(cut, true, 0, 0);
                        while a.poll_frame().is_some() {}
                    }
                    assert!(
                        new_depacketizer(codec).inspect(&[]).is_err(),
                        "{codec:?} empty payload"
                    );
                }
            }
        }
    }
    // Descriptors cut short are truncated, not misread.
    assert_eq!(vp8::inspect(&[0x80]), Err(CodecError::Truncated));
    assert_eq!(
        vp8::inspect(&[0x80, 0x80, 0x80]),
        Err(CodecError::Truncated)
    );
    assert_eq!(
        vp8::inspect(&[0x10]),
        Err(CodecError::Malformed),
        "no VP8 byte"
    );
    assert_eq!(vp9::inspect(&[0x80]), Err(CodecError::Truncated));
    assert_eq!(
        vp9::inspect(&[0x02, 0xf8]),
        Err(CodecError::Truncated),
        "SS cut short"
    );
    assert_eq!(
        vp9::inspect(&[0x08]),
        Err(CodecError::Malformed),
        "no VP9 byte"
    );
}

#[test]
fn packetizer_bounds() {
    let huge = vec![1u8; MAX_FRAME_BYTES + 1];
    for codec in Codec::ALL {
        let mut p = new_packetizer(codec, 0);
        assert_eq!(
            p.packetize(&huge, 1200).err(),
            Some(CodecError::TooLarge),
            "{codec:?}"
        );
        assert_eq!(
            p.packetize(&[], 1200).err(),
            Some(CodecError::InvalidInput),
            "{codec:?}"
        );
        assert_eq!(
            p.packetize(&frame_of(codec, 10, true, 0), 0).err(),
            Some(CodecError::InvalidInput),
            "{codec:?}"
        );
    }
    // More packets than a frame may have.
    let big = vec![0x51u8; MAX_PACKETS_PER_FRAME * 12];
    assert_eq!(
        Vp8Packetizer::new(0).packetize(&big, 12).err(),
        Some(CodecError::TooLarge)
    );
    assert_eq!(
        Vp9Packetizer::new(0).packetize(&big, 12).err(),
        Some(CodecError::TooLarge)
    );
    let h = annex_b(&[&big]);
    assert_eq!(
        H264Packetizer::new().packetize(&h, 12).err(),
        Some(CodecError::TooLarge)
    );
    let a = sample_obu(6, &big);
    assert_eq!(
        Av1Packetizer::new().packetize(&a, 12).err(),
        Some(CodecError::TooLarge)
    );
}

#[test]
fn depacketizer_frame_bytes_bounded() {
    // A FU-A that never ends, and VP8 packets that never carry a marker, stop at the bound.
    let mut d = H264Depacketizer::new();
    let chunk = vec![0x01u8; 60_000];
    let mut first = vec![0x7c, 0x85];
    first.extend_from_slice(&chunk);
    let mut mid = vec![0x7c, 0x05];
    mid.extend_from_slice(&chunk);
    d.push(&first, false, 0, 0).unwrap();
    let mut errors = 0;
    for i in 1..=(MAX_FRAME_BYTES / chunk.len() + 2) {
        if d.push(&mid, false, u16::try_from(i).unwrap(), 0) == Err(CodecError::TooLarge) {
            errors += 1;
        }
    }
    assert!(errors >= 1);
    d.push(&[0x7c, 0x45, 0x01], true, 200, 0).ok();
    assert!(d.poll_frame().is_none(), "an oversized frame is dropped");
    // The depacketizer works on afterwards.
    d.push(&[0x41, 0x81], true, 201, 3000).unwrap();
    assert_eq!(d.poll_frame().unwrap().data, annex_b(&[&[0x41, 0x81]]));

    let mut d = Vp8Depacketizer::new();
    let mut p = vec![0x10];
    p.extend_from_slice(&chunk);
    let mut last = Ok(());
    for i in 0..(MAX_FRAME_BYTES / chunk.len() + 2) {
        last = d.push(&p, false, u16::try_from(i).unwrap(), 0);
        p[0] = 0x00;
    }
    assert_eq!(last, Err(CodecError::TooLarge));
}

// ---- the assembler ----

/// VP8 payloads of a frame of `n` packets, picture start first, marker last.
fn vp8_frame(n: usize, key: bool) -> Vec<Payload> {
    let frame = frame_of(Codec::Vp8, 50 * n, key, 1);
    let out = Vp8Packetizer::new(0).packetize(&frame, 54).unwrap();
    assert_eq!(out.len(), n);
    out
}

#[test]
fn assembler_reports_gaps_and_completes_on_retransmission() {
    let pl = vp8_frame(5, true);
    let mut a = FrameAssembler::new(Vp8Depacketizer::new());
    for i in [0usize, 1, 4] {
        a.handle_packet(
            &pl[i].data,
            pl[i].marker,
            1000 + u16::try_from(i).unwrap(),
            0,
        )
        .unwrap();
    }
    assert!(a.poll_frame().is_none());
    assert_eq!(a.missing().collect::<Vec<_>>(), [1002, 1003]);
    a.handle_packet(&pl[3].data, pl[3].marker, 1003, 0).unwrap();
    assert_eq!(a.missing().collect::<Vec<_>>(), [1002]);
    assert!(a.poll_frame().is_none());
    a.handle_packet(&pl[2].data, pl[2].marker, 1002, 0).unwrap();
    let f = a.poll_frame().unwrap();
    assert!(f.complete && f.keyframe);
    assert_eq!((f.first_seq, f.last_seq), (1000, 1004));
    assert_eq!(a.missing().count(), 0);
    // A duplicate of the finished frame is late, not a new frame.
    a.handle_packet(&pl[4].data, pl[4].marker, 1004, 0).unwrap();
    assert!(a.poll_frame().is_none());
    assert_eq!(a.stats().packets_late, 1);
    assert_eq!(a.pending_frames(), 0);
}

#[test]
fn assembler_h264_start_known_from_previous_frame() {
    // A frame led by an SEI does not say where it starts: the packet before must be another
    // frame's (here: the previous frame's marker).
    let sei = sample_bytes(150, 1)
        .into_iter()
        .enumerate()
        .map(|(i, b)| if i == 0 { 0x06 } else { b })
        .collect::<Vec<_>>();
    let frame = |seed| {
        let mut slice = sample_bytes(300, seed);
        slice[0] = 0x41;
        slice[1] = 0x88;
        annex_b(&[&sei, &slice])
    };
    let mut p = H264Packetizer::new();
    let f1 = p.packetize(&frame(1), 200).unwrap();
    let f2 = p.packetize(&frame(2), 200).unwrap();
    assert_eq!((f1.len(), f2.len()), (3, 3));
    assert_eq!(h264::inspect(&f2[0].data).unwrap().starts_frame, None);
    let mut a = FrameAssembler::new(H264Depacketizer::new());
    // Frame 2 first (seq 13..=15): its start is unknown until frame 1's marker (12) is seen.
    for (i, x) in f2.iter().enumerate() {
        a.handle_packet(&x.data, x.marker, 13 + u16::try_from(i).unwrap(), 3000)
            .unwrap();
    }
    assert!(a.poll_frame().is_none());
    a.handle_packet(&f1[2].data, f1[2].marker, 12, 0).unwrap();
    let g = a.poll_frame().unwrap();
    assert_eq!(g.timestamp, 3000);
    assert_eq!(g.data, frame(2));
    // Frame 1 still waits for 10 and 11 (its start is not known either: 9 was never seen).
    a.handle_packet(&f1[1].data, f1[1].marker, 11, 0).unwrap();
    a.handle_packet(&f1[0].data, f1[0].marker, 10, 0).unwrap();
    assert!(a.poll_frame().is_none());
    assert_eq!(a.pending_frames(), 1);
    // 9: the end of an earlier frame; now frame 1 is known to start at 10 (while that
    // earlier frame's own start is not known).
    a.handle_packet(&[0x41, 0x88], true, 9, 0u32.wrapping_sub(3000))
        .unwrap();
    assert_eq!(a.poll_frame().unwrap().data, frame(1));
    assert!(a.poll_frame().is_none());
    assert_eq!(a.pending_frames(), 1);
}

#[test]
fn assembler_drops_old_and_excess_frames() {
    let mut a = FrameAssembler::new(Vp8Depacketizer::new());
    let pl = vp8_frame(3, false);
    // Frames with their middle packet lost, one per 3000 ticks.
    let mut seq = 0u16;
    for k in 0..40u32 {
        a.handle_packet(&pl[0].data, false, seq, k * 3000).unwrap();
        a.handle_packet(&pl[2].data, true, seq + 2, k * 3000)
            .unwrap();
        seq += 3;
        assert!(a.pending_frames() <= MAX_FRAMES_PENDING);
    }
    // 1 s of 90 kHz ticks: frames older than 30 * 3000 behind the newest are gone.
    assert_eq!(a.pending_frames(), 31);
    assert_eq!(a.stats().frames_dropped, 9);
    // The count bound: timestamps close together.
    let mut a = FrameAssembler::new(Vp8Depacketizer::new());
    for k in 0..100u16 {
        a.handle_packet(&pl[0].data, false, k * 3, u32::from(k))
            .unwrap();
        assert!(a.pending_frames() <= MAX_FRAMES_PENDING);
    }
    assert_eq!(a.pending_frames(), MAX_FRAMES_PENDING);
    assert_eq!(a.stats().frames_dropped, 100 - MAX_FRAMES_PENDING as u64);
    // A packet of a frame that old is late.
    let mut a = FrameAssembler::new(Vp8Depacketizer::new());
    a.handle_packet(&pl[0].data, false, 10, 200_000).unwrap();
    a.handle_packet(&pl[0].data, false, 5, 100_000).unwrap();
    assert_eq!(a.pending_frames(), 1);
    assert_eq!(a.stats().packets_late, 1);
}

#[test]
fn assembler_bounds_bytes_packets_and_gaps() {
    let mut a = FrameAssembler::new(Vp8Depacketizer::new());
    let mut big = vec![0x00u8];
    big.extend(vec![0x51u8; 60_000]);
    let mut refused = 0;
    for k in 0..200u16 {
        if a.handle_packet(&big, false, k, 0).is_err() {
            refused += 1;
        }
        assert!(a.pending_bytes() <= MAX_PENDING_BYTES);
    }
    assert!(refused > 0, "a frame past MAX_FRAME_BYTES is dropped");
    // A frame of too many packets.
    let mut a = FrameAssembler::new(Vp8Depacketizer::new());
    let mut errs = 0;
    for k in 0..=(MAX_PACKETS_PER_FRAME + 1) {
        if a.handle_packet(&[0x00, 0x51], false, u16::try_from(k).unwrap(), 7)
            .is_err()
        {
            errs += 1;
        }
    }
    assert_eq!(errs, 1);
    // Gaps: at most MAX_MISSING, none older than MAX_SEQ_REORDER, a huge jump is a restart.
    let mut a = FrameAssembler::new(Vp8Depacketizer::new());
    let mut seq = 0u16;
    for _ in 0..100 {
        a.handle_packet(&[0x00, 0x51], false, seq, 0).unwrap();
        seq = seq.wrapping_add(11);
        assert!(a.missing().count() <= MAX_MISSING);
    }
    assert!(a
        .missing()
        .all(|s| u64::from(seq.wrapping_sub(s)) <= MAX_SEQ_REORDER + 11));
    a.handle_packet(&[0x00, 0x51], false, seq.wrapping_add(5000), 0)
        .unwrap();
    assert_eq!(a.missing().count(), 0);
    a.forget_missing_through(0);
}

#[test]
fn assembler_restarts_after_a_run_from_far_behind() {
    let mut a = FrameAssembler::new(OpusDepacketizer::new());
    for s in 0..20u16 {
        a.handle_packet(&[0x78], false, 40_000 + s, u32::from(s) * 960)
            .unwrap();
    }
    assert_eq!(std::iter::from_fn(|| a.poll_frame()).count(), 20);
    // The sender restarts at 30000 (10000 behind): dropped at first, then taken.
    for s in 0..20u16 {
        a.handle_packet(&[0x78], false, 30_000 + s, 100_000 + u32::from(s) * 960)
            .unwrap();
    }
    assert_eq!(a.stats().resets, 1);
    assert!(std::iter::from_fn(|| a.poll_frame()).count() >= 4);
}

// ---- fuzz helper ----

#[test]
fn fuzz_helper_over_seeds_random_and_mutated_inputs() {
    let seeds = fuzz_depacketize_seeds();
    assert_eq!(seeds.len(), 2 * Codec::ALL.len());
    for (_, s) in &seeds {
        fuzz_depacketize(s);
    }
    let mut rng = Rand(0xfeed_beef);
    for i in 0..4000 {
        let mut data = if i % 4 == 0 {
            let n = rng.below(600);
            (0..n)
                .map(|_| u8::try_from(rng.next() & 0xff).unwrap())
                .collect()
        } else {
            seeds[rng.below(seeds.len())].1.clone()
        };
        for _ in 0..=rng.below(8) {
            if data.is_empty() {
                break;
            }
            let at = rng.below(data.len());
            match rng.below(4) {
                0 => data[at] ^= 1 << rng.below(8),
                1 => data[at] = u8::try_from(rng.next() & 0xff).unwrap(),
                2 => {
                    data.remove(at);
                }
                _ => data.insert(at, u8::try_from(rng.next() & 0xff).unwrap()),
            }
        }
        fuzz_depacketize(&data);
    }
}

#[test]
fn seeds_assemble_every_frame() {
    // The in-order and the reordered seeds give every sample frame back through the
    // assembler: the helper's record format means what its docs say.
    for codec in Codec::ALL {
        for (name, s) in fuzz_depacketize_seeds()
            .iter()
            .filter(|(n, _)| n.starts_with(&format!("seed-{}", codec.name().to_ascii_lowercase())))
        {
            let mut a = FrameAssembler::new(new_depacketizer(codec));
            let (mut seq, mut ts) = (0u16, 0u32);
            let mut rest = &s[1..];
            while let [len, flags, tail @ ..] = rest {
                let (p, after) = tail.split_at(usize::from(*len));
                rest = after;
                if flags & 2 != 0 {
                    ts += 3000;
                }
                let j = seq
                    .wrapping_add(u16::from((flags >> 2) & 7))
                    .wrapping_sub(3);
                a.handle_packet(p, flags & 1 != 0, j, ts).unwrap();
                seq += 1;
            }
            let got: Vec<Vec<u8>> = std::iter::from_fn(|| a.poll_frame())
                .map(|f| f.data)
                .collect();
            assert_eq!(got, sample_frames(codec), "{name}");
        }
    }
}
