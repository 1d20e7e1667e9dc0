//! DTMF between two `Peer`s (RFC 4733 telephone-event): negotiation, the packets a tone
//! becomes on the wire, and the receive side keeping them out of the audio frames; and the
//! RFC 6464 audio level that travels beside the audio.

use core::time::Duration;

use super::tests::{negotiate, Pair, ANSWERER, OFFERER};
use super::*;
use crate::codec::dtmf::TelephoneEvent;
use crate::codec::synth::opus::SILENCE_FRAME;
use crate::rtp::RtpPacket;
use crate::sdp::media::{Codec, Direction, MediaKind};

fn audio_init(direction: Direction) -> TransceiverInit {
    TransceiverInit {
        kind: MediaKind::Audio,
        direction,
        stream_ids: vec!["s".into()],
        track_id: Some("mic".into()),
        from_add_track: true,
        send_encodings: Vec::new(),
    }
}

/// The raw RTP packets `side` received with payload type `pt`, decoded.
fn received_with_pt(pair: &mut Pair, side: usize, pt: u8) -> Vec<(bool, u16, u32, u32, TelephoneEvent)> {
    pair.drain_events();
    pair.media[side]
        .iter()
        .filter(|(rtcp, _)| !rtcp)
        .filter_map(|(_, p)| RtpPacket::parse(p).ok().filter(|r| r.header.payload_type == pt).map(|r| (r.header.marker, r.header.sequence_number, r.header.timestamp, r.header.ssrc, TelephoneEvent::parse(r.payload).unwrap())))
        .collect()
}

fn seq_of_pt(pair: &Pair, side: usize, pt: u8) -> Vec<u16> {
    pair.media[side]
        .iter()
        .filter(|(rtcp, _)| !rtcp)
        .filter_map(|(_, p)| RtpPacket::parse(p).ok().filter(|r| r.header.payload_type == pt).map(|r| r.header.sequence_number))
        .collect()
}

#[test]
fn a_tone_goes_out_as_rfc4733_packets_on_the_audio_stream_and_comes_back_as_one_event() {
    let mut pair = Pair::new(70);
    let t = pair.peers[OFFERER].add_transceiver(audio_init(Direction::SendOnly)).unwrap();
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    assert!(offer.contains("a=rtpmap:110 telephone-event/48000\r\n"), "{offer}");
    assert!(offer.contains("a=fmtp:110 0-15\r\n"), "{offer}");
    assert!(!offer.contains("telephone-event/8000"), "Opus only: no 8 kHz events");
    assert!(!pair.peers[OFFERER].can_insert_dtmf(t), "not before negotiation");
    assert!(!pair.peers[OFFERER].insert_dtmf(pair.now, t, 1, 100, 10).unwrap(), "nothing negotiated yet");
    negotiate(&mut pair, OFFERER);
    assert!(pair.peers[OFFERER].can_insert_dtmf(t));
    let r = pair.peers[ANSWERER].transceivers()[0].id;
    assert!(pair.peers[ANSWERER].transceivers()[0].codecs.iter().any(|c| c.name == "telephone-event" && c.clock_rate == 48_000));

    let start = pair.now;
    assert!(pair.peers[OFFERER].write_frame(start, t, 0, &SILENCE_FRAME, None).unwrap());
    pair.run_until(start + Duration::from_millis(20));
    assert!(pair.peers[OFFERER].insert_dtmf(pair.now, t, 11, 120, 10).unwrap());
    assert!(pair.peers[OFFERER].write_frame(pair.now, t, 20_000, &SILENCE_FRAME, None).unwrap());
    let until = pair.now + Duration::from_millis(400);
    pair.run_until(until);

    let sender_ssrc = pair.peers[OFFERER].transceivers()[0].sender_ssrc;
    let opus_seqs = seq_of_pt(&pair, ANSWERER, 111);
    let got = received_with_pt(&mut pair, ANSWERER, 110);
    let rows: Vec<(bool, bool, u16)> = got.iter().map(|(m, _, _, _, e)| (*m, e.end, e.duration)).collect();
    assert_eq!(rows, vec![(true, false, 2400), (false, false, 4800), (false, true, 5760), (false, true, 5760), (false, true, 5760)]);
    assert!(got.iter().all(|g| g.3 == sender_ssrc && g.4.event == 11 && g.4.volume == 10), "the audio SSRC");
    assert!(got.iter().all(|g| g.2 == got[0].2), "one timestamp for the whole event");
    // 20 ms of 48 kHz audio after the first frame's timestamp (the audio's clock).
    let first_audio_ts = pair.media[ANSWERER]
        .iter()
        .filter_map(|(rtcp, p)| (!rtcp).then(|| RtpPacket::parse(p).ok()).flatten().filter(|r| r.header.payload_type == 111).map(|r| r.header.timestamp))
        .next()
        .unwrap();
    assert_eq!(got[0].2.wrapping_sub(first_audio_ts), 960);
    // One sequence space: the opus packets and the events interleave without gaps.
    let mut all: Vec<u16> = opus_seqs.iter().copied().chain(got.iter().map(|g| g.1)).collect();
    all.sort_unstable();
    assert_eq!(all.len(), 7);
    assert!(all.windows(2).all(|w| w[1] == w[0].wrapping_add(1)), "{all:?}");
    assert_eq!(opus_seqs[0], all[0]);
    assert_eq!(opus_seqs[1], all[2], "the second frame went out after the tone's first packet");

    // The receiver: two opus frames, one telephone-event frame (the final packet's payload).
    let frames: Vec<(String, Vec<u8>)> = std::mem::take(&mut pair.media_events[ANSWERER])
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::MediaFrame { transceiver, mime_type, data, .. } if transceiver == r => Some((mime_type, data)),
            _ => None,
        })
        .collect();
    let events: Vec<&Vec<u8>> = frames.iter().filter(|(m, _)| m == "audio/telephone-event").map(|(_, d)| d).collect();
    assert_eq!(events, vec![&vec![11, 0x80 | 10, 0x16, 0x80]]);
    assert_eq!(frames.iter().filter(|(m, _)| m == "audio/opus").count(), 2);
    let st = pair.peers[ANSWERER].stats();
    assert_eq!((st.dtmf_packets_received, st.dtmf_events_received, st.dtmf_packets_malformed), (5, 1, 0));
    assert_eq!(pair.peers[OFFERER].stats().dtmf_packets_sent, 5);
}

#[test]
fn a_new_tone_finishes_the_previous_one_first() {
    let mut pair = Pair::new(71);
    let t = pair.peers[OFFERER].add_transceiver(audio_init(Direction::SendOnly)).unwrap();
    negotiate(&mut pair, OFFERER);
    let now = pair.now;
    assert!(pair.peers[OFFERER].insert_dtmf(now, t, 1, 1000, 0).unwrap());
    pair.run_until(now + Duration::from_millis(120));
    assert!(pair.peers[OFFERER].insert_dtmf(pair.now, t, 2, 100, 0).unwrap());
    let until = pair.now + Duration::from_millis(400);
    pair.run_until(until);
    let got = received_with_pt(&mut pair, ANSWERER, 110);
    let ev1: Vec<_> = got.iter().filter(|g| g.4.event == 1).collect();
    let ev2: Vec<_> = got.iter().filter(|g| g.4.event == 2).collect();
    assert_eq!(ev1.iter().filter(|g| g.4.end).count(), 3, "the first tone still ends, three times");
    assert!(ev1.iter().all(|g| g.1 < ev2[0].1), "before the second tone starts");
    assert!(ev2[0].0 && ev2[0].2 != ev1[0].2, "the second tone: a new event (marker, new timestamp)");
    assert_eq!(ev2.iter().filter(|g| g.4.end).count(), 3);
    assert_eq!(pair.peers[ANSWERER].stats().dtmf_events_received, 2);
}

#[test]
fn without_telephone_event_no_tone_is_sent_and_bad_event_packets_are_counted() {
    let mut pair = Pair::new(72);
    let t = pair.peers[OFFERER].add_transceiver(audio_init(Direction::SendRecv)).unwrap();
    pair.peers[OFFERER].set_codec_preferences(t, vec![Codec::new(0, "opus", 48_000, Some(2))]).unwrap();
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    assert!(!offer.contains("telephone-event"), "{offer}");
    negotiate(&mut pair, OFFERER);
    assert!(!pair.peers[OFFERER].can_insert_dtmf(t));
    assert!(!pair.peers[OFFERER].insert_dtmf(pair.now, t, 3, 100, 10).unwrap());
    assert!(pair.peers[OFFERER].insert_dtmf(pair.now, t, 16, 100, 10).is_err(), "16 is no DTMF event");
    let until = pair.now + Duration::from_millis(300);
    pair.run_until(until);
    assert!(received_with_pt(&mut pair, ANSWERER, 110).is_empty());
    assert_eq!(pair.peers[OFFERER].stats().dtmf_packets_sent, 0);

    // The other way, negotiated: a truncated event is a counted drop, not a frame.
    let mut pair = Pair::new(73);
    let t = pair.peers[OFFERER].add_transceiver(audio_init(Direction::SendOnly)).unwrap();
    negotiate(&mut pair, OFFERER);
    let mut short = vec![0x80, 110, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0];
    short.extend_from_slice(&[5, 0x80]);
    assert!(pair.peers[OFFERER].write_rtp(pair.now, t, &short).unwrap());
    pair.deliver();
    pair.drain_events();
    let st = pair.peers[ANSWERER].stats();
    assert_eq!((st.dtmf_packets_received, st.dtmf_packets_malformed, st.dtmf_events_received), (1, 1, 0));
    assert!(!pair.media_events[ANSWERER].iter().any(|e| matches!(e, PeerEvent::MediaFrame { .. })));
}

/// RFC 6464: the level we set goes into the ssrc-audio-level extension of our audio packets;
/// the receiver keeps the latest one per SSRC (for `getSynchronizationSources()`).
#[test]
fn audio_levels_travel_in_the_header_extension_and_the_latest_is_kept() {
    let mut pair = Pair::new(74);
    let t = pair.peers[OFFERER].add_transceiver(audio_init(Direction::SendOnly)).unwrap();
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    assert!(offer.contains("a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"), "{offer}");
    negotiate(&mut pair, OFFERER);
    let r = pair.peers[ANSWERER].transceivers()[0].id;
    let ssrc = pair.peers[OFFERER].transceivers()[0].sender_ssrc;
    let now = pair.now;
    assert!(pair.peers[OFFERER].write_frame(now, t, 0, &SILENCE_FRAME, None).unwrap());
    pair.deliver();
    assert!(pair.peers[ANSWERER].audio_levels(r).is_empty(), "no level set: no extension");
    pair.peers[OFFERER].set_send_audio_level(t, Some(30));
    assert!(pair.peers[OFFERER].write_frame(now, t, 20_000, &SILENCE_FRAME, None).unwrap());
    pair.deliver();
    let got: Vec<(u32, u8, bool)> = pair.peers[ANSWERER].audio_levels(r).iter().map(|l| (l.ssrc, l.level, l.voice_activity)).collect();
    assert_eq!(got, vec![(ssrc, 30, false)]);
    pair.peers[OFFERER].set_send_audio_level(t, Some(dbov_audio_level(0.5)));
    assert!(pair.peers[OFFERER].write_frame(now, t, 40_000, &SILENCE_FRAME, None).unwrap());
    pair.deliver();
    let l = pair.peers[ANSWERER].audio_levels(r)[0];
    assert_eq!(l.level, 6);
    assert!((linear_audio_level(l.level) - 0.5).abs() < 0.01);
    assert!(pair.peers[ANSWERER].audio_levels(r + 100).is_empty());
}
