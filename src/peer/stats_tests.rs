//! Media statistics of two `Peer`s on a hand-driven network (instant delivery, a virtual
//! clock that jumps to the earliest deadline, a hook that drops chosen RTP datagrams): what
//! one end counts about a stream must agree with what the other end counts about it, and
//! the engine's stats object must carry it under the webrtc-stats names.

use core::time::Duration;

use super::tests::{negotiate, Pair};
use super::*;
use crate::engine::{stats_obj, Obj, Val};
use crate::sdp::media::{Direction, MediaKind};

const OFFERER: usize = 0;
const ANSWERER: usize = 1;
/// The VP8 payload type the offer gives (its RTX is another one).
const VP8_PT: u8 = 96;
/// 2020-01-01T00:00:00Z, the offerer's wall clock at `Time::ZERO`.
const OFFERER_UNIX_MS: u64 = 1_577_836_800_000;

/// Two peers whose wall clocks differ by 7 s (the offerer's at [`OFFERER_UNIX_MS`]).
fn pair(seed: u64) -> Pair {
    Pair::with_config(seed, |i| PeerConfig { unix_time_ms: OFFERER_UNIX_MS + 7_000 * i as u64, ..PeerConfig::default() })
}

fn run_for(pair: &mut Pair, d: Duration) {
    let until = pair.now + d;
    pair.run_until(until);
}

/// The keyframe requests that reached `side`'s application so far.
fn keyframe_requests(pair: &mut Pair, side: usize) -> usize {
    pair.drain_events();
    pair.media_events[side].iter().filter(|e| matches!(e, PeerEvent::KeyframeRequested { .. })).count()
}

fn init(kind: MediaKind, direction: Direction, track: Option<&str>) -> TransceiverInit {
    TransceiverInit {
        kind,
        direction,
        stream_ids: vec!["s".into()],
        track_id: track.map(str::to_owned),
        from_add_track: false,
        send_encodings: Vec::new(),
    }
}

/// A VP8 frame of `len` bytes (RFC 6386 §9.1: the first byte's low bit clear on a key frame).
fn vp8_frame(key: bool, len: usize, fill: u8) -> Vec<u8> {
    let mut f = vec![fill; len];
    f[0] = if key { 0x10 } else { 0x11 };
    f
}

fn is_rtp(data: &[u8], pt: u8) -> bool {
    data.first().is_some_and(|b| (128..=191).contains(b)) && data.get(1).is_some_and(|b| b & 0x7f == pt)
}

fn num(o: &Obj, name: &str) -> f64 {
    match o.get(name) {
        Some(Val::Num(n)) => *n,
        other => panic!("{name}: {other:?}"),
    }
}

fn obj<'a>(o: &'a Obj, name: &str) -> &'a Obj {
    match o.get(name) {
        Some(Val::Obj(x)) => x,
        other => panic!("{name}: {other:?}"),
    }
}

fn list<'a>(o: &'a Obj, name: &str) -> Vec<&'a Obj> {
    match o.get(name) {
        Some(Val::List(l)) => l.iter().map(|v| if let Val::Obj(x) = v { x } else { panic!("{v:?}") }).collect(),
        other => panic!("{name}: {other:?}"),
    }
}

/// A video stream from the offerer over a path that loses every 7th VP8 datagram once
/// (RTX gets through): the receiver's NACK count is the sender's, every loss is repaired by
/// RTX and counted as retransmitted on both ends, and the receiver's packets are the
/// sender's originals that arrived plus the retransmissions.
#[test]
fn nack_and_rtx_counts_agree_on_both_ends() {
    let mut pair = pair(70);
    let t = pair.peers[OFFERER].add_transceiver(init(MediaKind::Video, Direction::SendOnly, Some("v"))).unwrap();
    negotiate(&mut pair, OFFERER);
    let mut seen = 0u32;
    let mut dropped = 0u64;
    let mut drop = |from: usize, data: &[u8]| {
        if from != OFFERER || !is_rtp(data, VP8_PT) {
            return false;
        }
        seen += 1;
        let lose = seen.is_multiple_of(7);
        dropped += u64::from(lose);
        lose
    };
    for i in 0..40u64 {
        let now = pair.now;
        pair.peers[OFFERER].write_frame(now, t, i * 33_333, &vp8_frame(i % 20 == 0, 3000, i as u8), None).unwrap();
        let until = pair.now + Duration::from_millis(33);
        pair.run_until_with(until, &mut drop);
    }
    // Frames on a clean path make the last losses visible, then time for the repairs.
    for i in 40..43u64 {
        let now = pair.now;
        pair.peers[OFFERER].write_frame(now, t, i * 33_333, &vp8_frame(false, 3000, i as u8), None).unwrap();
        run_for(&mut pair, Duration::from_millis(33));
    }
    run_for(&mut pair, Duration::from_secs(3));
    assert!(dropped >= 10, "{dropped} lost");

    let out = pair.peers[OFFERER].outbound_rtp();
    assert_eq!(out.len(), 1);
    let out = &out[0];
    let fb = pair.peers[ANSWERER].inbound_feedback();
    assert_eq!(fb.len(), 1);
    let fb = fb[0];
    let inbound = pair.peers[ANSWERER].inbound_rtp().iter().find(|r| r.ssrc == out.ssrc).cloned().expect("inbound-rtp");
    assert!(fb.feedback_sent.nacks > 0);
    assert_eq!(fb.feedback_sent.nacks, out.feedback_received.nacks, "NACK packets sent = received");
    assert_eq!(fb.feedback_sent.nacks, fb.nacks_sent, "one NACK packet per generator poll here");
    assert!(out.retransmitted_packets >= dropped, "{} resent for {dropped} lost", out.retransmitted_packets);
    assert!(inbound.rtx_negotiated);
    assert_eq!(inbound.retransmitted_packets, out.retransmitted_packets, "every RTX packet arrived");
    assert_eq!(inbound.retransmitted_bytes, out.retransmitted_bytes, "RTX payloads, OSN included, as the sender counts them");
    assert_eq!(inbound.packets, out.packets - dropped + out.retransmitted_packets);
    if out.retransmitted_packets == dropped {
        // Each loss resent once: what arrived is what was written, plus the RTX OSNs.
        assert_eq!(inbound.payload_bytes, out.bytes + 2 * dropped);
    }
    assert_eq!(fb.packets_lost, 0, "all repaired: {fb:?}");
    assert!(out.header_bytes >= 12 * out.packets, "{out:?}");
    assert_eq!(out.codec.as_ref().map(|c| c.payload_type), Some(VP8_PT));
    assert!(out.active);

    // The engine object: the same figures under the webrtc-stats names.
    let o = stats_obj(&pair.peers[ANSWERER], pair.now);
    let r = list(&o, "inboundRtp").into_iter().find(|r| num(r, "ssrc") == f64::from(out.ssrc)).expect("inboundRtp");
    assert_eq!(num(r, "nackCount"), fb.feedback_sent.nacks as f64);
    assert_eq!(num(r, "retransmittedPacketsReceived"), inbound.retransmitted_packets as f64);
    assert_eq!(num(r, "packetsLost"), 0.0);
    assert!(num(r, "jitter") >= 0.0);
    assert_eq!(num(r, "pliCount"), 0.0);
    let o = stats_obj(&pair.peers[OFFERER], pair.now);
    let s = list(&o, "outboundRtp")[0];
    assert_eq!(num(s, "nackCount"), out.feedback_received.nacks as f64);
    assert_eq!(num(s, "packetsSent"), (out.packets + out.retransmitted_packets) as f64, "retransmissions included");
    assert_eq!(num(s, "headerBytesSent"), out.header_bytes as f64);
    assert_eq!(num(s, "payloadType"), f64::from(VP8_PT));
    assert!(matches!(s.get("mimeType"), Some(Val::Str(m)) if m == "video/VP8"));
    assert!(matches!(s.get("active"), Some(Val::Bool(true))));
    let remote = obj(s, "remote");
    let report_at = out.remote.and_then(|r| r.last_report_at).expect("a report block came");
    assert_eq!(num(remote, "receivedAgeMs"), pair.now.saturating_since(report_at).as_secs_f64() * 1000.0);
    assert_eq!(num(remote, "reportsReceived"), out.remote.map_or(0, |r| r.reports_received) as f64);
}

/// Keyframe requests are counted where they are sent and where they arrive, whichever path
/// made them: the application's `request_keyframe` and the receiver's own request after a
/// frame lost for good (no history to repair it from). PLI and FIR only exist for video.
#[test]
fn pli_counts_agree_on_both_ends() {
    let mut pair = pair(71);
    let t = pair.peers[OFFERER].add_transceiver(init(MediaKind::Video, Direction::SendOnly, Some("v"))).unwrap();
    negotiate(&mut pair, OFFERER);
    let mut lost = false;
    for i in 0..60u64 {
        let now = pair.now;
        pair.peers[OFFERER].write_frame(now, t, i * 33_333, &vp8_frame(i == 0, 2500, i as u8), None).unwrap();
        pair.peers[OFFERER].forget_send_history();
        let mut k = 0;
        let mut drop = |from: usize, data: &[u8]| {
            let media = from == OFFERER && is_rtp(data, VP8_PT);
            k += usize::from(media);
            // The middle packet of frame 10, once: that frame cannot complete.
            let lose = i == 10 && media && k == 2 && !lost;
            lost |= lose;
            lose
        };
        let until = pair.now + Duration::from_millis(33);
        pair.run_until_with(until, &mut drop);
    }
    run_for(&mut pair, Duration::from_secs(1));
    assert!(lost);
    let receiver_side = pair.peers[ANSWERER].transceivers()[0].id;
    for _ in 0..3 {
        let now = pair.now;
        pair.peers[ANSWERER].request_keyframe(now, receiver_side).unwrap();
        run_for(&mut pair, Duration::from_millis(100));
    }
    run_for(&mut pair, Duration::from_secs(1));
    let fb = pair.peers[ANSWERER].inbound_feedback()[0];
    let out = &pair.peers[OFFERER].outbound_rtp()[0];
    assert!(fb.feedback_sent.plis >= 4, "three asked by the application, one after the loss: {fb:?}");
    assert_eq!(fb.feedback_sent.plis, out.feedback_received.plis, "PLIs sent = received");
    assert_eq!(out.feedback_received.firs, 0);
    assert_eq!(keyframe_requests(&mut pair, OFFERER) as u64, out.feedback_received.plis, "each one reached the sender's application");
    let o = stats_obj(&pair.peers[ANSWERER], pair.now);
    let r = list(&o, "inboundRtp")[0];
    assert_eq!(num(r, "pliCount"), fb.feedback_sent.plis as f64);
    assert_eq!(num(r, "firCount"), 0.0);
    let o = stats_obj(&pair.peers[OFFERER], pair.now);
    assert_eq!(num(list(&o, "outboundRtp")[0], "pliCount"), out.feedback_received.plis as f64);
}

/// Audio: the receiver's `remote-outbound-rtp` (from the sender's last SR) has the packet
/// and byte counts the sender had when it reported, an SR count, and the
/// peer's NTP time as Unix milliseconds; no PLI or FIR counts for audio.
#[test]
fn sender_reports_give_remote_outbound_rtp() {
    let mut pair = pair(72);
    let a = pair.peers[OFFERER].add_transceiver(init(MediaKind::Audio, Direction::SendOnly, Some("a"))).unwrap();
    negotiate(&mut pair, OFFERER);
    let frame = vec![0xfcu8; 80];
    for i in 0..100u64 {
        let now = pair.now;
        pair.peers[OFFERER].write_frame(now, a, i * 20_000, &frame, None).unwrap();
        run_for(&mut pair, Duration::from_millis(20));
    }
    // No more media: the next SRs carry the final counts.
    run_for(&mut pair, Duration::from_secs(4));
    let out = &pair.peers[OFFERER].outbound_rtp()[0];
    assert_eq!(out.packets, 100);
    let fb = pair.peers[ANSWERER].inbound_feedback()[0];
    let sr = fb.remote_sender.expect("an SR came");
    assert_eq!(u64::from(sr.info.packet_count), out.packets);
    assert_eq!(u64::from(sr.info.octet_count), out.bytes);
    assert!(sr.reports_received >= 2, "{sr:?}");
    assert!(pair.now.saturating_since(sr.received_at) < Duration::from_secs(3), "a recent one");
    // The offerer's NTP clock: its wall clock at Time::ZERO plus the time since.
    let expected_ms = OFFERER_UNIX_MS as f64 + sr.received_at.as_micros() as f64 / 1000.0;
    let got_ms = sr.remote_timestamp_ms().expect("after 1970");
    assert!((got_ms - expected_ms).abs() < 1.0, "{got_ms} vs {expected_ms}");

    let o = stats_obj(&pair.peers[ANSWERER], pair.now);
    let r = list(&o, "inboundRtp")[0];
    let remote = obj(r, "remote");
    assert_eq!(num(remote, "packetsSent"), out.packets as f64);
    assert_eq!(num(remote, "bytesSent"), out.bytes as f64);
    assert_eq!(num(remote, "reportsSent"), sr.reports_received as f64);
    assert!((num(remote, "remoteTimestamp") - expected_ms).abs() < 1.0);
    let age = num(remote, "receivedAgeMs");
    assert!((age - pair.now.saturating_since(sr.received_at).as_secs_f64() * 1000.0).abs() < 1e-6);
    assert_eq!(num(r, "packetsReceived"), out.packets as f64);
    assert_eq!(num(r, "packetsLost"), 0.0);
    assert!(r.get("pliCount").is_none() && r.get("firCount").is_none(), "video only");
    assert!(r.get("retransmittedPacketsReceived").is_none(), "no RTX for audio");
    let o = stats_obj(&pair.peers[OFFERER], pair.now);
    let s = list(&o, "outboundRtp")[0];
    assert!(s.get("pliCount").is_none());
    assert!(matches!(s.get("mimeType"), Some(Val::Str(m)) if m == "audio/opus"), "{:?}", s.get("mimeType"));
    assert_eq!(num(s, "nackCount"), 0.0);
}
