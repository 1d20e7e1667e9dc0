//! RFC 3550 arithmetic with numbers worked by hand, wrap-around, NACK timing on a virtual
//! clock, RTX bytes, RTT over a real SR / RR exchange, TWCC feedback round trips, bounds
//! and hostile input.

use super::*;
use crate::crypto::Rng;
use crate::rtp::rtcp::sdes;
use crate::rtp::{
    encode_compound, parse_compound, Nack, ReceiverReport, ReportBlock, RtcpPacket, RtpHeader,
    RtpPacket, SenderInfo, MAX_NACK_ITEMS,
};
use crate::Time;
use core::time::Duration;

fn ms(n: u64) -> Time {
    Time::from_millis(n)
}

fn encode(packets: &[RtcpPacket]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_compound(packets, &mut out).unwrap();
    out
}

fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    RtpPacket::new(RtpHeader::new(pt, seq, ts, ssrc), payload)
        .encode(&mut out)
        .unwrap();
    out
}

// ---------------------------------------------------------------------------------------
// NTP helpers
// ---------------------------------------------------------------------------------------

#[test]
fn ntp_clock_and_short_format() {
    let clock = NtpClock::new(0x0000_0010_8000_0000); // 16.5 s
                                                      // 1.25 s later: 17.75 s = 0x11 . 0xC0000000.
    assert_eq!(clock.ntp(Time::from_millis(1250)), 0x0000_0011_C000_0000);
    assert_eq!(clock.compact(Time::from_millis(1250)), 0x0011_C000);
    assert_eq!(ntp_compact(0x0001_0002_0003_0004), 0x0002_0003);
    assert_eq!(to_ntp_short(Duration::from_millis(500)), 32768);
    assert_eq!(from_ntp_short(65536), Duration::from_secs(1));
    assert_eq!(to_ntp_short(Duration::from_secs(1 << 20)), u32::MAX);
}

#[test]
fn seq_unwrapper_wraps_both_ways() {
    let mut u = SeqUnwrapper::new();
    let a = u.unwrap(65534);
    assert_eq!(u.unwrap(65535), a + 1);
    assert_eq!(u.unwrap(1), a + 3);
    assert_eq!(u.unwrap(65533), a - 1); // late, from before the wrap
    assert_eq!(u.peek(2), a + 4);
    let mut u = SeqUnwrapper::new();
    let first = u.unwrap(3);
    assert_eq!(first, 65539);
    assert_eq!(u.unwrap(65535), 65535); // behind the first, across the wrap
}

// ---------------------------------------------------------------------------------------
// ReceiveStats (RFC 3550 A.1, A.3, A.8)
// ---------------------------------------------------------------------------------------

#[test]
fn loss_and_fraction_by_hand() {
    let mut r = ReceiveStats::new(0xabc);
    assert!(r.report_block(ms(0)).is_none());
    // 0..=9 with 3 and 7 lost: expected 10, received 8.
    for seq in [0u16, 1, 2, 4, 5, 6, 8, 9] {
        r.on_packet(ms(u64::from(seq) * 20), seq, u32::from(seq) * 960, 48_000);
    }
    assert_eq!(r.expected(), 10);
    assert_eq!(r.lost(), 2);
    let b = r.report_block(ms(200)).unwrap();
    assert_eq!(b.ssrc, 0xabc);
    // 2 of 10 lost: (2 << 8) / 10 = 51.
    assert_eq!(b.fraction_lost, 51);
    assert_eq!(b.cumulative_lost, 2);
    assert_eq!(b.extended_highest_seq, 9);
    assert_eq!((b.last_sr, b.delay_since_last_sr), (0, 0));
    // Next interval: 10..=19 all arrive, and late 3 as well: 11 received for 10 expected.
    for seq in 10u16..20 {
        r.on_packet(ms(u64::from(seq) * 20), seq, u32::from(seq) * 960, 48_000);
    }
    assert_eq!(r.on_packet(ms(400), 3, 3 * 960, 48_000), SeqOutcome::Late);
    let b = r.report_block(ms(400)).unwrap();
    assert_eq!(b.fraction_lost, 0);
    assert_eq!(b.cumulative_lost, 1);
    assert_eq!(b.extended_highest_seq, 19);
}

#[test]
fn sequence_wrap_and_duplicates() {
    let mut r = ReceiveStats::new(1);
    for (i, seq) in (65530u16..=65535).chain(0..=5).enumerate() {
        let outcome = r.on_packet(ms(i as u64 * 20), seq, 0, 90_000);
        assert_eq!(outcome, SeqOutcome::New);
    }
    // Cycles count 1 << 16: extended highest 65536 + 5.
    assert_eq!(r.extended_highest_seq(), 65541);
    assert_eq!(r.expected(), 12);
    assert_eq!(r.on_packet(ms(300), 5, 0, 90_000), SeqOutcome::Duplicate);
    assert_eq!(
        r.on_packet(ms(300), 65533, 0, 90_000),
        SeqOutcome::Duplicate
    );
    assert_eq!(r.duplicates(), 2);
    assert_eq!(r.received(), 12);
    assert_eq!(r.lost(), 0);
    let b = r.report_block(ms(300)).unwrap();
    assert_eq!(b.extended_highest_seq, 0x0001_0005);
    assert_eq!(b.cumulative_lost, 0);
}

#[test]
fn jitter_by_hand() {
    // 90 kHz, one packet per 20 ms (1800 ticks). The second arrives 10 ms (900 ticks) late:
    // |D| = 900, J = 900 / 16 (x16: 900, reported 56). The third is on time again: |D| =
    // 900, J x16 = 900 + 900 - (908 >> 4) = 1744, reported 109 (exactly 108.98).
    let mut r = ReceiveStats::new(1);
    r.on_packet(ms(1000), 0, 0, 90_000);
    r.on_packet(ms(1030), 1, 1800, 90_000);
    assert_eq!(r.jitter(), 56);
    r.on_packet(ms(1040), 2, 3600, 90_000);
    assert_eq!(r.jitter(), 109);
    assert!((r.jitter_seconds() - 109.0 / 90_000.0).abs() < 1e-12);
}

#[test]
fn jitter_survives_timestamp_wrap() {
    // Perfectly paced packets whose timestamps wrap past 2^32: jitter stays 0.
    let mut r = ReceiveStats::new(1);
    let start = u32::MAX - 3 * 1800;
    for i in 0..8u32 {
        r.on_packet(
            ms(5000 + u64::from(i) * 20),
            u16::try_from(i).unwrap(),
            start.wrapping_add(i * 1800),
            90_000,
        );
    }
    assert_eq!(r.jitter(), 0);
}

#[test]
fn large_jump_restarts_on_second_packet() {
    let mut r = ReceiveStats::new(1);
    for seq in 0u16..10 {
        r.on_packet(ms(0), seq, 0, 90_000);
    }
    assert_eq!(r.on_packet(ms(0), 20_000, 0, 90_000), SeqOutcome::Jumped);
    assert_eq!(r.expected(), 10);
    assert_eq!(r.on_packet(ms(0), 20_001, 0, 90_000), SeqOutcome::Restarted);
    assert_eq!(r.restarts(), 1);
    assert_eq!(r.expected(), 1);
    assert_eq!(r.extended_highest_seq(), 20_001);
}

#[test]
fn cumulative_lost_is_clamped_to_24_bits() {
    let mut r = ReceiveStats::new(1);
    let mut seq = 0u16;
    r.on_packet(ms(0), seq, 0, 8000);
    // Jumps of 2999 (under MAX_DROPOUT): 2998 lost each, 2800 times = 8_394_400 lost.
    for _ in 0..2800 {
        seq = seq.wrapping_add(2999);
        r.on_packet(ms(0), seq, 0, 8000);
    }
    assert_eq!(r.lost(), 2800 * 2998);
    let b = r.report_block(ms(0)).unwrap();
    assert_eq!(b.cumulative_lost, (1 << 23) - 1);
    assert_eq!(b.fraction_lost, 255);
    // It still encodes.
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 9,
        reports: vec![b],
        extension: Vec::new(),
    });
    assert_eq!(
        parse_compound(&encode(std::slice::from_ref(&rr))).unwrap(),
        vec![rr]
    );
}

#[test]
fn lsr_and_dlsr_from_the_last_sr() {
    let mut r = ReceiveStats::new(7);
    r.on_packet(ms(900), 1, 0, 90_000);
    let info = SenderInfo {
        ntp_time: 0x0001_0002_0003_0004,
        rtp_time: 5,
        packet_count: 10,
        octet_count: 1000,
    };
    r.on_sender_report(ms(1000), info);
    let b = r.report_block(ms(1500)).unwrap();
    assert_eq!(b.last_sr, 0x0002_0003);
    // 0.5 s in 1/65536 s.
    assert_eq!(b.delay_since_last_sr, 32768);
    let sr = r.last_sender_report().unwrap();
    assert_eq!(
        (sr.info, sr.received_at, sr.reports_received),
        (info, ms(1000), 1)
    );
}

// ---------------------------------------------------------------------------------------
// SendStats and RTT
// ---------------------------------------------------------------------------------------

#[test]
fn sender_report_extrapolates_rtp_time() {
    let mut s = SendStats::new(0x55, 90_000, NtpClock::new(0x0000_0100_0000_0000));
    assert!(!s.has_sent());
    s.on_packet_sent(ms(1000), 1_000_000, 1200);
    s.on_packet_sent(ms(1020), 1_001_800, 800);
    let sr = s.sender_report(ms(1120));
    assert_eq!(sr.ssrc, 0x55);
    // 100 ms after the last packet: 9000 ticks more.
    assert_eq!(sr.info.rtp_time, 1_010_800);
    assert_eq!(sr.info.packet_count, 2);
    assert_eq!(sr.info.octet_count, 2000);
    // 256 s + 1.12 s.
    assert_eq!(sr.info.ntp_time >> 32, 257);
    assert_eq!(s.reports_sent(), 1);
}

/// A sends media and SRs; B receives, reports back; A measures the RTT. One-way delay 50
/// ms each way, B holds the SR 200 ms before its report: RTT 100 ms.
#[test]
fn rtt_from_an_sr_rr_exchange() {
    let (a_ssrc, b_ssrc) = (0x0a0a_0a0a, 0x0b0b_0b0b);
    let mut a = SendStats::new(a_ssrc, 90_000, NtpClock::new(0xe000_0000_0000_0000));
    let mut b_recv = ReceiveStats::new(a_ssrc);
    let mut a_inbound = RtcpInbound::new();
    let mut b_inbound = RtcpInbound::new();
    for i in 0..10u16 {
        let t = ms(900 + u64::from(i) * 10);
        a.on_packet_sent(t, u32::from(i) * 900, 100);
        b_recv.on_packet(t + Duration::from_millis(50), i, u32::from(i) * 900, 90_000);
    }
    // A's compound at 1.0 s.
    let a_compounds = build_reports(ms(1000), [&mut a], [], 0, "a@example");
    assert_eq!(a_compounds.len(), 1);
    let bytes = encode(&a_compounds[0]);
    let actions = b_inbound
        .handle_rtcp(ms(1050), &bytes, |s| s == b_ssrc)
        .unwrap();
    for action in actions {
        if let RtcpAction::SenderReportReceived { ssrc, info } = action {
            assert_eq!(ssrc, a_ssrc);
            b_recv.on_sender_report(ms(1050), info);
        }
    }
    // B's RR at 1.25 s, at A at 1.30 s.
    let b_compounds = build_reports(ms(1250), [], [&mut b_recv], b_ssrc, "b@example");
    let bytes = encode(&b_compounds[0]);
    let actions = a_inbound
        .handle_rtcp(ms(1300), &bytes, |s| s == a_ssrc)
        .unwrap();
    let mut rtt = None;
    for action in actions {
        if let RtcpAction::ReportBlockReceived { reporter, block } = action {
            assert_eq!(reporter, b_ssrc);
            rtt = a.on_report_block(ms(1300), &block);
        }
    }
    let rtt = rtt.unwrap();
    assert!(
        rtt.abs_diff(Duration::from_millis(100)) < Duration::from_micros(50),
        "{rtt:?}"
    );
    let remote = a.remote_inbound();
    assert_eq!(remote.round_trip_time_measurements, 1);
    assert_eq!(remote.total_round_trip_time, rtt);
    assert_eq!(remote.packets_lost, 0);
    assert_eq!(remote.extended_highest_seq, 9);
    assert_eq!(remote.reports_received, 1);
}

#[test]
fn rtt_needs_an_lsr_we_sent() {
    let mut a = SendStats::new(1, 90_000, NtpClock::new(0));
    let block = ReportBlock {
        ssrc: 1,
        fraction_lost: 64,
        cumulative_lost: 3,
        jitter: 900,
        ..ReportBlock::default()
    };
    // LSR 0: no SR received yet.
    assert_eq!(a.on_report_block(ms(10), &block), None);
    // An LSR we never sent.
    let forged = ReportBlock {
        last_sr: 0x1234_5678,
        ..block
    };
    assert_eq!(a.on_report_block(ms(10), &forged), None);
    assert_eq!(a.unmatched_lsr(), 2);
    assert_eq!(a.remote_inbound().fraction_lost, 0.25);
    assert_eq!(a.remote_inbound().jitter, 0.01);
    // Another SSRC: ignored.
    let other = ReportBlock { ssrc: 2, ..block };
    assert_eq!(a.on_report_block(ms(10), &other), None);
    assert_eq!(a.remote_inbound().reports_received, 2);
    // A DLSR larger than the time since our SR (a lying or skewed peer): zero, not huge.
    a.on_packet_sent(ms(100), 0, 10);
    let sr = a.sender_report(ms(1000));
    let skewed = ReportBlock {
        last_sr: ntp_compact(sr.info.ntp_time),
        delay_since_last_sr: 65536 * 10,
        ..block
    };
    assert_eq!(a.on_report_block(ms(1100), &skewed), Some(Duration::ZERO));
}

// ---------------------------------------------------------------------------------------
// NackGenerator (RFC 4585)
// ---------------------------------------------------------------------------------------

#[test]
fn nack_timing_retries_and_recovery() {
    let mut n = NackGenerator::new();
    let rtt = Duration::ZERO;
    for seq in [100u64, 101, 104] {
        n.on_packet(ms(0), seq);
    }
    assert_eq!(n.pending(), 2);
    assert_eq!(n.poll_timeout(rtt), Some(ms(0)));
    // At once.
    assert_eq!(n.poll_nack(ms(0), rtt), vec![102, 103]);
    assert_eq!(n.poll_nack(ms(10), rtt), Vec::<u16>::new());
    assert_eq!(n.poll_timeout(rtt), Some(ms(20)));
    // Every max(rtt, 20 ms).
    assert_eq!(n.poll_nack(ms(20), rtt), vec![102, 103]);
    let rtt = Duration::from_millis(50);
    assert_eq!(n.poll_nack(ms(60), rtt), Vec::<u16>::new());
    assert_eq!(n.poll_timeout(rtt), Some(ms(70)));
    n.on_packet(ms(65), 102);
    assert_eq!(n.poll_nack(ms(70), rtt), vec![103]);
    let s = n.stats();
    assert_eq!((s.recovered, s.seqs_requested, s.nack_polls), (1, 5, 3));
    // 105 came; 106 arrives before being asked for: reordering, not recovery.
    n.on_packet(ms(71), 107);
    n.on_packet(ms(72), 106);
    assert_eq!(n.stats().reordered, 1);
}

#[test]
fn nack_gives_up_after_retries_and_age() {
    let mut n = NackGenerator::new();
    n.on_packet(ms(0), 10);
    n.on_packet(ms(0), 12);
    let rtt = Duration::ZERO;
    let mut sent = 0;
    let mut t = 0;
    while t < 2000 {
        sent += n.poll_nack(ms(t), rtt).len();
        t += 20;
    }
    assert_eq!(sent, usize::from(MAX_NACK_RETRIES));
    assert_eq!(n.pending(), 0);
    assert_eq!(n.stats().given_up, 1);
    // With a long RTT the age limit comes first: 1 s.
    let mut n = NackGenerator::new();
    n.on_packet(ms(0), 10);
    n.on_packet(ms(0), 12);
    let rtt = Duration::from_millis(400);
    assert_eq!(n.poll_nack(ms(0), rtt).len(), 1);
    assert_eq!(n.poll_nack(ms(400), rtt).len(), 1);
    assert_eq!(n.poll_nack(ms(800), rtt).len(), 1);
    assert_eq!(n.poll_timeout(rtt), Some(ms(1000)));
    assert!(n.poll_nack(ms(1000), rtt).is_empty());
    assert_eq!(n.pending(), 0);
    assert_eq!(n.stats().given_up, 1);
    assert_eq!(n.poll_timeout(rtt), None);
}

#[test]
fn nack_list_is_bounded() {
    let mut n = NackGenerator::new();
    n.on_packet(ms(0), 0);
    // 900 missing: the newest MAX_NACK_PENDING are kept.
    n.on_packet(ms(0), 901);
    assert_eq!(n.pending(), MAX_NACK_PENDING);
    assert_eq!(n.stats().given_up, 900 - MAX_NACK_PENDING as u64);
    let asked = n.poll_nack(ms(0), Duration::ZERO);
    assert_eq!(asked.len(), MAX_NACK_PENDING);
    assert_eq!(asked.first(), Some(&(901 - MAX_NACK_PENDING as u16)));
    // More small gaps push the oldest out.
    n.on_packet(ms(1), 910);
    assert_eq!(n.pending(), MAX_NACK_PENDING);
    // A jump over MAX_NACK_GAP: an outage, everything reset.
    n.on_packet(ms(2), 910 + MAX_NACK_GAP + 2);
    assert_eq!(n.pending(), 0);
    assert_eq!(n.stats().resets, 1);
    // 16-bit values across the wrap.
    let mut n = NackGenerator::new();
    n.on_packet(ms(0), 65534);
    n.on_packet(ms(0), 65538);
    assert_eq!(n.poll_nack(ms(0), Duration::ZERO), vec![65535, 0, 1]);
}

// ---------------------------------------------------------------------------------------
// RtxHistory (RFC 4588)
// ---------------------------------------------------------------------------------------

fn rtx_config() -> RtxConfig {
    RtxConfig {
        ssrc: 0x2222_2222,
        payload_types: vec![(96, 97), (100, 101)],
        first_seq: 500,
    }
}

#[test]
fn rtx_packet_field_by_field() {
    let tcc = crate::rtp::extension::transport_cc_bytes(0x0102);
    let mut header = RtpHeader::new(96, 1000, 0x1234_5678, 0x1111_1111);
    header.marker = true;
    header.csrcs.push(0x3333_3333).unwrap();
    header.extensions.push(3, &tcc).unwrap();
    let mut original = Vec::new();
    let mut p = RtpPacket::new(header, b"hello");
    p.padding = 4;
    p.encode(&mut original).unwrap();

    let mut h = RtxHistory::new(Some(rtx_config()));
    h.on_packet_sent(&original);
    let out = h.on_nack(ms(0), Duration::ZERO, &[1000]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].original_seq, 1000);
    assert!(out[0].is_rtx);
    let bytes = &out[0].packet;
    // V=2, no padding, X=1, CC=1; M=1, PT=97; RTX seq 500; same timestamp; RTX SSRC.
    assert_eq!(bytes[0], 0x80 | 0x10 | 0x01);
    assert_eq!(bytes[1], 0x80 | 97);
    assert_eq!(&bytes[2..4], &500u16.to_be_bytes());
    assert_eq!(&bytes[4..8], &0x1234_5678u32.to_be_bytes());
    assert_eq!(&bytes[8..12], &0x2222_2222u32.to_be_bytes());
    assert_eq!(&bytes[12..16], &0x3333_3333u32.to_be_bytes());
    // One-byte extension block: 0xBEDE, 1 word, id 3 len 2 (L=1), 0x0102, padding.
    assert_eq!(&bytes[16..24], &[0xbe, 0xde, 0, 1, 0x31, 0x01, 0x02, 0]);
    // OSN, then the original payload.
    assert_eq!(&bytes[24..], &[0x03, 0xe8, b'h', b'e', b'l', b'l', b'o']);
    let parsed = RtpPacket::parse(bytes).unwrap();
    assert_eq!(parsed.header.payload_type, 97);
    assert_eq!(parsed.header.sequence_number, 500);
    assert_eq!(parsed.header.timestamp, 0x1234_5678);
    assert_eq!(parsed.header.ssrc, 0x2222_2222);
    assert!(parsed.header.marker);
    assert_eq!(parsed.header.csrcs.as_slice(), &[0x3333_3333]);
    assert_eq!(parsed.header.extensions.get(3), Some(&tcc[..]));
    assert_eq!(parsed.payload, b"\x03\xe8hello");
    assert_eq!(parsed.padding, 0);
    assert_eq!(h.next_rtx_seq(), 501);
    let s = h.stats();
    assert_eq!(
        (s.retransmitted_packets, s.retransmitted_payload_bytes),
        (1, 7)
    );
}

#[test]
fn rtx_rate_limit_unknown_and_plain_resend() {
    let mut h = RtxHistory::new(Some(rtx_config()));
    for seq in 65534u16..=65535 {
        h.on_packet_sent(&rtp(96, seq, 0, 1, b"x"));
    }
    for seq in 0u16..3 {
        h.on_packet_sent(&rtp(100, seq, 0, 1, b"y"));
    }
    let rtt = Duration::from_millis(30);
    let out = h.on_nack(ms(0), rtt, &[65535, 0, 7, 2]);
    let osns: Vec<u16> = out.iter().map(|r| r.original_seq).collect();
    assert_eq!(osns, vec![65535, 0, 2]);
    // The second one was PT 100: RTX PT 101. RTX sequence numbers follow each other.
    let second = RtpPacket::parse(&out[1].packet).unwrap();
    assert_eq!(second.header.payload_type, 101);
    assert_eq!(second.header.sequence_number, 501);
    assert_eq!(h.stats().unknown_seqs, 1);
    // Asked again within the RTT: not resent.
    assert!(h.on_nack(ms(20), rtt, &[65535]).is_empty());
    assert_eq!(h.stats().rate_limited, 1);
    assert_eq!(h.on_nack(ms(30), rtt, &[65535]).len(), 1);

    // No RTX negotiated: the original bytes, unchanged.
    let mut plain = RtxHistory::new(None);
    let original = rtp(96, 42, 9, 1, b"abc");
    plain.on_packet_sent(&original);
    let out = plain.on_nack(ms(0), Duration::ZERO, &[42]);
    assert_eq!(out.len(), 1);
    assert!(!out[0].is_rtx);
    assert_eq!(out[0].packet, original);
    // Garbage and going backwards are not stored.
    plain.on_packet_sent(&[1, 2, 3]);
    plain.on_packet_sent(&rtp(96, 41, 9, 1, b"abc"));
    assert_eq!(plain.stats().unparsable, 2);
    assert_eq!(plain.len(), 1);
}

#[test]
fn rtx_history_bounded_by_count_and_bytes() {
    let mut h = RtxHistory::with_limits(None, 10, usize::MAX);
    for seq in 0u16..20 {
        h.on_packet_sent(&rtp(96, seq, 0, 1, &[0; 100]));
    }
    assert_eq!(h.len(), 10);
    assert_eq!(h.stats().evicted, 10);
    assert_eq!(h.on_nack(ms(0), Duration::ZERO, &[9]).len(), 0);
    assert_eq!(h.on_nack(ms(0), Duration::ZERO, &[10]).len(), 1);

    let mut h = RtxHistory::with_limits(None, usize::MAX, 5000);
    for seq in 0u16..20 {
        h.on_packet_sent(&rtp(96, seq, 0, 1, &[0; 1000]));
        assert!(h.bytes() <= 5000);
    }
    // Each entry costs its 1012-byte copy plus the entry itself: 4 fit.
    assert_eq!(h.len(), 4);
    assert!(h.bytes() > 4 * 1012);
    // Default bounds hold under a long stream.
    let mut h = RtxHistory::new(None);
    for i in 0u32..5000 {
        h.on_packet_sent(&rtp(
            96,
            u16::try_from(i % 65536).unwrap(),
            0,
            1,
            &[0; 1200],
        ));
    }
    assert!(h.len() <= MAX_RTX_HISTORY_PACKETS);
    assert!(h.bytes() <= MAX_RTX_HISTORY_BYTES);
}

#[test]
fn hostile_nack_of_every_seq_does_bounded_work() {
    let mut h = RtxHistory::with_limits(Some(rtx_config()), 100, usize::MAX);
    for seq in 0u16..100 {
        h.on_packet_sent(&rtp(96, seq, 0, 1, b"z"));
    }
    let all: Vec<u16> = (0..=65535u16).collect();
    let out = h.on_nack(ms(0), Duration::ZERO, &all);
    // Only what the history has, and only the first MAX_NACK_SEQS_PER_CALL looked at.
    assert_eq!(out.len(), 100);
    assert_eq!(
        h.stats().ignored_seqs,
        65536 - MAX_NACK_SEQS_PER_CALL as u64
    );
    // The same through the wire: a NACK of 256 items with every bit set (written by hand:
    // our encoder stops at 255 items).
    let mut wire = vec![0x81, 205];
    wire.extend_from_slice(&u16::try_from(2 + MAX_NACK_ITEMS).unwrap().to_be_bytes());
    wire.extend_from_slice(&5u32.to_be_bytes());
    wire.extend_from_slice(&1u32.to_be_bytes());
    for i in 0..MAX_NACK_ITEMS {
        wire.extend_from_slice(&u16::try_from(i * 17).unwrap().to_be_bytes());
        wire.extend_from_slice(&[0xff, 0xff]);
    }
    let mut inbound = RtcpInbound::new();
    let actions = inbound.handle_rtcp(ms(0), &wire, |s| s == 1).unwrap();
    let [RtcpAction::NackReceived {
        media_ssrc: 1,
        seqs,
    }] = &actions[..]
    else {
        panic!("{actions:?}");
    };
    assert_eq!(seqs.len(), MAX_NACK_SEQS_PER_CALL);
    let out = h.on_nack(ms(100), Duration::ZERO, seqs);
    assert_eq!(out.len(), 100);
}

// ---------------------------------------------------------------------------------------
// Keyframe requests (RFC 4585 PLI, RFC 5104 FIR)
// ---------------------------------------------------------------------------------------

#[test]
fn keyframe_requests_are_rate_limited() {
    let mut k = KeyframeRequester::new(1, 2, false);
    assert!(k.poll_request(ms(0)).is_none());
    k.request();
    assert_eq!(k.poll_request(ms(1000)), Some(feedback::pli(1, 2)));
    k.request();
    k.request();
    assert!(k.poll_request(ms(1100)).is_none());
    assert_eq!(k.poll_timeout(), Some(ms(1500)));
    assert_eq!(k.poll_request(ms(1500)), Some(feedback::pli(1, 2)));
    assert!(k.poll_request(ms(3000)).is_none());
    assert_eq!(k.stats().pli_sent, 2);
    assert_eq!(k.stats().coalesced, 1);

    // FIR: the command sequence number goes up with each new request.
    let mut k = KeyframeRequester::new(1, 2, true);
    k.request();
    assert_eq!(k.poll_request(ms(0)), Some(feedback::fir(1, 2, 1)));
    k.request();
    assert_eq!(k.poll_request(ms(600)), Some(feedback::fir(1, 2, 2)));
    assert_eq!(k.stats().fir_sent, 2);
}

#[test]
fn inbound_keyframe_requests_and_fir_dedupe() {
    let mut inbound = RtcpInbound::new();
    let ours = |s: u32| s == 2;
    let fir = encode(&[feedback::fir(9, 2, 7)]);
    let first = inbound.handle_rtcp(ms(0), &fir, ours).unwrap();
    assert_eq!(
        first,
        vec![RtcpAction::KeyframeRequested {
            media_ssrc: 2,
            kind: KeyframeKind::Fir { seq: 7 }
        }]
    );
    // The same FIR again (a repetition): nothing.
    assert!(inbound.handle_rtcp(ms(10), &fir, ours).unwrap().is_empty());
    assert_eq!(inbound.stats().fir_repeats, 1);
    let next = encode(&[feedback::fir(9, 2, 8)]);
    assert_eq!(inbound.handle_rtcp(ms(20), &next, ours).unwrap().len(), 1);
    let pli = encode(&[feedback::pli(9, 2), feedback::pli(9, 3)]);
    assert_eq!(
        inbound.handle_rtcp(ms(30), &pli, ours).unwrap(),
        vec![RtcpAction::KeyframeRequested {
            media_ssrc: 2,
            kind: KeyframeKind::Pli
        }]
    );
    assert_eq!(inbound.stats().foreign_feedback, 1);
    // Many FIR senders: the memory stays bounded.
    for sender in 0..1000u32 {
        let fir = encode(&[feedback::fir(sender, 2, 1)]);
        inbound.handle_rtcp(ms(40), &fir, ours).unwrap();
    }
    assert!(inbound.fir_seen.len() <= MAX_FIR_SOURCES);
}

// ---------------------------------------------------------------------------------------
// TwccRecorder
// ---------------------------------------------------------------------------------------

fn roundtrip_twcc(fb: &crate::rtp::TransportCc) -> crate::rtp::TransportCc {
    let bytes = encode(&[feedback::transport_cc(fb.clone())]);
    match parse_compound(&bytes).unwrap().as_slice() {
        [RtcpPacket::TransportCc(t)] => t.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn twcc_feedback_round_trips_with_wrap_and_loss() {
    let mut r = TwccRecorder::new(0xfeed, 0xbeef);
    let arrivals: [(u16, u64); 4] = [(65534, 10_000), (65535, 10_250), (0, 11_000), (2, 12_500)];
    for &(seq, us) in &arrivals {
        r.on_packet(Time::from_micros(us), seq);
    }
    r.on_packet(Time::from_micros(13_000), 0); // duplicate
    assert_eq!(r.stats().duplicates, 1);
    assert_eq!(r.poll_timeout(), Some(Time::ZERO));
    let fbs = r.poll_feedback(ms(20));
    assert_eq!(fbs.len(), 1);
    let fb = roundtrip_twcc(&fbs[0]);
    assert_eq!(fb, fbs[0]);
    assert_eq!(
        (fb.sender_ssrc, fb.media_ssrc, fb.fb_count, fb.base_seq),
        (0xfeed, 0xbeef, 0, 65534)
    );
    let got: Vec<(u16, Option<i64>)> = fb.arrivals().collect();
    assert_eq!(
        got,
        vec![
            (65534, Some(10_000)),
            (65535, Some(10_250)),
            (0, Some(11_000)),
            (1, None),
            (2, Some(12_500)),
        ]
    );
    // Not before the interval; a late 1 is dropped (already reported lost); 3 and 5 next.
    r.on_packet(ms(30), 1);
    assert_eq!(r.stats().late, 1);
    r.on_packet(ms(40), 3);
    r.on_packet(ms(50), 5);
    assert!(r.poll_feedback(ms(100)).is_empty());
    assert_eq!(r.poll_timeout(), Some(ms(120)));
    let fbs = r.poll_feedback(ms(120));
    assert_eq!(fbs.len(), 1);
    let fb = roundtrip_twcc(&fbs[0]);
    assert_eq!((fb.fb_count, fb.base_seq), (1, 3));
    let got: Vec<(u16, Option<i64>)> = fb.arrivals().collect();
    assert_eq!(got, vec![(3, Some(40_000)), (4, None), (5, Some(50_000))]);
    assert_eq!(r.pending(), 0);
    assert_eq!(r.poll_timeout(), None);
}

#[test]
fn twcc_splits_long_spans_and_bounds_history() {
    let mut r = TwccRecorder::new(1, 2);
    for i in 0..1000u64 {
        r.on_packet(
            Time::from_micros(1_000_000 + i * 100),
            u16::try_from(i).unwrap(),
        );
    }
    let fbs = r.poll_feedback(ms(2000));
    assert_eq!(fbs.len(), 3);
    let mut next = 0u16;
    for (i, fb) in fbs.iter().enumerate() {
        assert!(fb.statuses.len() <= MAX_TWCC_FEEDBACK_STATUSES);
        assert_eq!(usize::from(fb.fb_count), i);
        assert_eq!(fb.base_seq, next);
        let back = roundtrip_twcc(fb);
        for (seq, at) in back.arrivals() {
            let want = 1_000_000 + i64::from(seq) * 100;
            // Rounded to 250 µs.
            assert!((at.unwrap() - want).abs() <= 125, "{seq} {at:?} {want}");
        }
        assert!(encode(&[feedback::transport_cc(fb.clone())]).len() < 1200);
        next = next.wrapping_add(u16::try_from(fb.statuses.len()).unwrap());
    }
    assert_eq!(next, 1000);
    // A flood without feedback: history stays bounded, the oldest go.
    let mut r = TwccRecorder::new(1, 2);
    for i in 0..20_000u64 {
        r.on_packet(Time::from_micros(i), u16::try_from(i % 65536).unwrap());
        assert!(r.pending() <= MAX_TWCC_HISTORY);
    }
    assert_eq!(r.stats().evicted, 20_000 - MAX_TWCC_HISTORY as u64);
    let fbs = r.flush();
    assert_eq!(
        fbs.iter().map(|f| f.statuses.len()).sum::<usize>(),
        MAX_TWCC_HISTORY
    );
    // A gap of more than one packet's worth between arrivals, and a long pause.
    let mut r = TwccRecorder::new(1, 2);
    r.on_packet(ms(0), 10);
    r.on_packet(ms(1), 5000);
    r.on_packet(ms(20_000), 5001);
    let fbs = r.flush();
    assert_eq!(
        fbs.iter().map(|f| f.base_seq).collect::<Vec<_>>(),
        vec![10, 5000, 5001]
    );
}

// ---------------------------------------------------------------------------------------
// Scheduling and building the regular compound (RFC 3550 §6)
// ---------------------------------------------------------------------------------------

#[test]
fn scheduler_randomizes_within_half_to_one_and_a_half() {
    let interval = REPORT_INTERVAL_VIDEO;
    let mut s = RtcpScheduler::new(ms(0), interval, Rng::seeded(7));
    let first = s.poll_timeout();
    assert!(first >= ms(250) && first <= ms(750), "{first:?}");
    assert!(!s.poll_due(first - Duration::from_micros(1)));
    let mut now = first;
    let mut seen = Vec::new();
    for _ in 0..200 {
        assert!(s.poll_due(now));
        let gap = s.poll_timeout() - now;
        assert!(gap >= interval / 2 && gap <= interval * 3 / 2, "{gap:?}");
        seen.push(gap);
        now = s.poll_timeout();
    }
    // Actually random: spread over the range.
    assert!(seen.iter().any(|g| *g < interval * 3 / 4));
    assert!(seen.iter().any(|g| *g > interval * 5 / 4));
    // Seeded: reproducible.
    let again = RtcpScheduler::new(ms(0), interval, Rng::seeded(7));
    assert_eq!(again.poll_timeout(), first);
}

fn receivers(n: u32) -> Vec<ReceiveStats> {
    (0..n)
        .map(|i| {
            let mut r = ReceiveStats::new(1000 + i);
            r.on_packet(ms(0), 1, 0, 90_000);
            r
        })
        .collect()
}

fn check_compound(packets: &[RtcpPacket], cname: &str) -> Vec<ReportBlock> {
    let bytes = encode(packets);
    assert!(bytes.len() <= MAX_RTCP_COMPOUND_LEN, "{}", bytes.len());
    let parsed = parse_compound(&bytes).unwrap();
    assert_eq!(parsed, packets);
    assert!(matches!(
        parsed.first(),
        Some(RtcpPacket::SenderReport(_) | RtcpPacket::ReceiverReport(_))
    ));
    let Some(s) = parsed.iter().find_map(|p| match p {
        RtcpPacket::Sdes(s) => Some(s),
        _ => None,
    }) else {
        panic!("no SDES: {parsed:?}");
    };
    let first_ssrc = parsed[0].sender_ssrc().unwrap();
    let chunk = s.chunks.iter().find(|c| c.ssrc == first_ssrc).unwrap();
    assert_eq!(chunk.item(sdes::CNAME), Some(cname.as_bytes()));
    parsed
        .iter()
        .flat_map(|p| match p {
            RtcpPacket::SenderReport(sr) => sr.reports.clone(),
            RtcpPacket::ReceiverReport(rr) => rr.reports.clone(),
            _ => Vec::new(),
        })
        .collect()
}

#[test]
fn build_reports_sr_with_blocks_split_over_31() {
    let mut sender = SendStats::new(0x5e, 90_000, NtpClock::new(0));
    sender.on_packet_sent(ms(0), 0, 100);
    let mut idle = SendStats::new(0x5f, 90_000, NtpClock::new(0));
    let mut recv = receivers(40);
    let compounds = build_reports(ms(1000), [&mut sender, &mut idle], recv.iter_mut(), 7, "me");
    assert_eq!(compounds.len(), 1);
    let c = &compounds[0];
    // SR (31 blocks), RR from the same SSRC (9), SDES. The idle sender sends no SR.
    let RtcpPacket::SenderReport(sr) = &c[0] else {
        panic!()
    };
    assert_eq!((sr.ssrc, sr.reports.len()), (0x5e, 31));
    let RtcpPacket::ReceiverReport(rr) = &c[1] else {
        panic!()
    };
    assert_eq!((rr.ssrc, rr.reports.len()), (0x5e, 9));
    assert_eq!(c.len(), 3);
    assert!(matches!(c.last(), Some(RtcpPacket::Sdes(_))));
    let blocks = check_compound(c, "me");
    let mut ssrcs: Vec<u32> = blocks.iter().map(|b| b.ssrc).collect();
    ssrcs.sort_unstable();
    assert_eq!(ssrcs, (1000..1040).collect::<Vec<_>>());
}

#[test]
fn build_reports_receiver_only_and_many_blocks() {
    // Nothing at all: still an RR and an SDES.
    let compounds = build_reports(ms(0), [], [], 7, "x");
    assert_eq!(compounds.len(), 1);
    assert!(check_compound(&compounds[0], "x").is_empty());
    let RtcpPacket::ReceiverReport(rr) = &compounds[0][0] else {
        panic!()
    };
    assert_eq!(rr.ssrc, 7);
    // 100 receive sources, several senders, a long CNAME: split over compounds that each
    // fit, start with SR/RR and carry the CNAME.
    let mut senders: Vec<SendStats> = (0..5)
        .map(|i| {
            let mut s = SendStats::new(0x100 + i, 90_000, NtpClock::new(0));
            s.on_packet_sent(ms(0), 0, 10);
            s
        })
        .collect();
    let mut recv = receivers(100);
    let cname = "c".repeat(300);
    let compounds = build_reports(ms(10), senders.iter_mut(), recv.iter_mut(), 7, &cname);
    assert!(compounds.len() >= 3);
    let mut total = 0;
    let mut srs = 0;
    for c in &compounds {
        total += check_compound(c, &cname[..255]).len();
        assert!(matches!(c.last(), Some(RtcpPacket::Sdes(_))));
        srs += c
            .iter()
            .filter(|p| matches!(p, RtcpPacket::SenderReport(_)))
            .count();
    }
    assert_eq!(total, 100);
    assert_eq!(srs, 5);
    assert!(senders.iter().all(|s| s.reports_sent() == 1));
}

#[test]
fn feedback_builders_split_and_wrap() {
    // 300 sequence numbers 20 apart: one item each, 255 per packet.
    let lost: Vec<u16> = (0..300u16).map(|i| i.wrapping_mul(20)).collect();
    let nacks = feedback::nacks(1, 2, &lost);
    assert_eq!(nacks.len(), 2);
    let mut back = Vec::new();
    for n in &nacks {
        let parsed = parse_compound(&encode(std::slice::from_ref(n))).unwrap();
        let [RtcpPacket::Nack(n)] = parsed.as_slice() else {
            panic!()
        };
        back.extend(n.lost());
    }
    assert_eq!(back, lost);
    // Without rtcp-rsize: RR and SDES first.
    let full = feedback::with_report(1, "me", vec![feedback::pli(1, 2)]);
    check_compound(&full, "me");
    assert_eq!(full.len(), 3);
    let remb = feedback::remb(1, 1_500_000, vec![2]);
    let parsed = parse_compound(&encode(&[remb])).unwrap();
    let mut inbound = RtcpInbound::new();
    let actions = inbound
        .handle_rtcp(ms(0), &encode(&parsed), |_| true)
        .unwrap();
    let [RtcpAction::RembReceived { bitrate, ssrcs }] = actions.as_slice() else {
        panic!()
    };
    assert!(*bitrate <= 1_500_000 && *bitrate > 1_499_000);
    assert_eq!(ssrcs, &vec![2]);
}

// ---------------------------------------------------------------------------------------
// Inbound handling, hostile input
// ---------------------------------------------------------------------------------------

#[test]
fn inbound_routes_every_kind() {
    let sr = RtcpPacket::SenderReport(crate::rtp::SenderReport {
        ssrc: 50,
        info: SenderInfo::default(),
        reports: vec![
            ReportBlock {
                ssrc: 1,
                ..ReportBlock::default()
            },
            ReportBlock {
                ssrc: 99,
                ..ReportBlock::default()
            },
        ],
        extension: Vec::new(),
    });
    let sdes = RtcpPacket::Sdes(crate::rtp::Sdes {
        chunks: vec![crate::rtp::SdesChunk::cname(50, "peer")],
    });
    let bye = RtcpPacket::Bye(crate::rtp::Bye {
        ssrcs: vec![50],
        reason: None,
    });
    let nack = RtcpPacket::Nack(Nack::from_lost(50, 1, &[3, 5]));
    let mut tcc = TwccRecorder::new(50, 1);
    tcc.on_packet(ms(1), 1);
    let tcc = feedback::transport_cc(tcc.flush().remove(0));
    let bytes = encode(&[sr, sdes, nack, tcc.clone(), bye]);
    let mut inbound = RtcpInbound::new();
    let actions = inbound.handle_rtcp(ms(5), &bytes, |s| s == 1).unwrap();
    let RtcpPacket::TransportCc(tcc) = tcc else {
        panic!()
    };
    assert_eq!(
        actions,
        vec![
            RtcpAction::SenderReportReceived {
                ssrc: 50,
                info: SenderInfo::default()
            },
            RtcpAction::ReportBlockReceived {
                reporter: 50,
                block: ReportBlock {
                    ssrc: 1,
                    ..ReportBlock::default()
                }
            },
            RtcpAction::CnameReceived {
                ssrc: 50,
                cname: b"peer".to_vec()
            },
            RtcpAction::NackReceived {
                media_ssrc: 1,
                seqs: vec![3, 5]
            },
            RtcpAction::TransportCcReceived(tcc),
            RtcpAction::ByeReceived { ssrc: 50 },
        ]
    );
    assert_eq!(inbound.stats().foreign_blocks, 1);
}

#[test]
fn rr_with_31_random_blocks_is_bounded() {
    let mut rng = Rng::seeded(3);
    let mut a = SendStats::new(0x1234, 90_000, NtpClock::new(0));
    let mut inbound = RtcpInbound::new();
    let rrs: Vec<RtcpPacket> = (0..crate::rtp::MAX_COMPOUND_PACKETS)
        .map(|_| {
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: rng.u32(),
                reports: (0..31)
                    .map(|_| ReportBlock {
                        ssrc: rng.u32(),
                        last_sr: rng.u32(),
                        delay_since_last_sr: rng.u32(),
                        ..ReportBlock::default()
                    })
                    .collect(),
                extension: Vec::new(),
            })
        })
        .collect();
    let actions = inbound
        .handle_rtcp(ms(0), &encode(&rrs), |s| s == 0x1234)
        .unwrap();
    assert!(actions.is_empty());
    assert_eq!(inbound.stats().foreign_blocks, 32 * 31);
    // Even if every block named us, the RTT would need an LSR we sent.
    for rr in &rrs {
        let RtcpPacket::ReceiverReport(rr) = rr else {
            panic!()
        };
        for b in &rr.reports {
            assert_eq!(
                a.on_report_block(ms(0), &ReportBlock { ssrc: 0x1234, ..*b }),
                None
            );
        }
    }
    assert_eq!(a.remote_inbound().round_trip_time_measurements, 0);
}

#[test]
fn fuzz_inbound_with_random_and_mutated_rtcp() {
    let mut rng = Rng::seeded(11);
    let mut inbound = RtcpInbound::new();
    let mut seeds: Vec<Vec<u8>> = vec![
        encode(&feedback::with_report(1, "me", vec![feedback::pli(1, 2)])),
        encode(&[feedback::fir(1, 2, 3)]),
        encode(&[RtcpPacket::Nack(Nack::from_lost(1, 2, &[1, 2, 3, 40]))]),
        encode(&[feedback::remb(1, 12345, vec![1, 2])]),
    ];
    let mut tcc = TwccRecorder::new(1, 2);
    for i in 0..50u16 {
        tcc.on_packet(ms(u64::from(i) * 3), i * 2);
    }
    seeds.extend(
        tcc.flush()
            .into_iter()
            .map(|f| encode(&[feedback::transport_cc(f)])),
    );
    let mut recv = receivers(3);
    let mut s = SendStats::new(9, 90_000, NtpClock::new(0));
    s.on_packet_sent(ms(0), 0, 1);
    for c in build_reports(ms(5), [&mut s], recv.iter_mut(), 9, "c") {
        seeds.push(encode(&c));
    }
    let mut ok = 0;
    for i in 0..30_000u64 {
        let data = if i % 2 == 0 {
            let len = usize::try_from(rng.below(160)).unwrap();
            let mut d = vec![0u8; len];
            rng.fill(&mut d);
            if let Some(b) = d.first_mut() {
                *b = 0x80 | (*b & 0x3f);
            }
            d
        } else {
            let mut d = seeds[usize::try_from(rng.below(seeds.len() as u64)).unwrap()].clone();
            for _ in 0..=rng.below(4) {
                if d.is_empty() {
                    break;
                }
                let at = usize::try_from(rng.below(d.len() as u64)).unwrap();
                d[at] = u8::try_from(rng.below(256)).unwrap();
            }
            if rng.below(4) == 0 {
                d.truncate(usize::try_from(rng.below(d.len() as u64 + 1)).unwrap());
            }
            d
        };
        if let Ok(actions) = inbound.handle_rtcp(ms(i), &data, |s| s % 2 == 0) {
            ok += 1;
            assert!(actions.len() <= 32 * 64);
            for a in actions {
                match a {
                    RtcpAction::ReportBlockReceived { block, .. } => {
                        s.on_report_block(ms(i), &block);
                    }
                    RtcpAction::SenderReportReceived { info, .. } => {
                        recv[0].on_sender_report(ms(i), info);
                    }
                    RtcpAction::NackReceived { seqs, .. } => {
                        assert!(seqs.len() <= MAX_NACK_SEQS_PER_CALL);
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(ok > 1000, "{ok}");
    assert!(inbound.stats().malformed > 1000);
}

#[test]
fn reports_only_cover_sources_heard_since_the_last_one() {
    let mut recv = receivers(2);
    let mut sched = RtcpScheduler::new(ms(0), REPORT_INTERVAL_AUDIO, Rng::seeded(1));
    assert!(sched
        .poll_reports(ms(0), [], recv.iter_mut(), 7, "x")
        .is_none());
    let at = sched.poll_timeout();
    let c = sched.poll_reports(at, [], recv.iter_mut(), 7, "x").unwrap();
    assert_eq!(check_compound(&c[0], "x").len(), 2);
    // Only the second source sends again.
    recv[1].on_packet(at, 2, 0, 90_000);
    assert!(!recv[0].heard_since_report());
    let c = build_reports(at, [], recv.iter_mut(), 7, "x");
    let blocks = check_compound(&c[0], "x");
    assert_eq!(
        blocks.iter().map(|b| b.ssrc).collect::<Vec<_>>(),
        vec![1001]
    );
}

#[test]
fn remote_timestamp_from_ntp() {
    let sender = RemoteSender {
        info: SenderInfo {
            // 2001-09-09T01:46:40Z (10^9 s after 1970) and a half.
            ntp_time: ((2_208_988_800u64 + 1_000_000_000) << 32) | 0x8000_0000,
            ..SenderInfo::default()
        },
        received_at: ms(0),
        reports_received: 1,
    };
    assert_eq!(sender.remote_timestamp_ms(), Some(1_000_000_000_500.0));
    let early = RemoteSender {
        info: SenderInfo::default(),
        ..sender
    };
    assert_eq!(early.remote_timestamp_ms(), None);
}

/// Sender and receiver over a lossy path: the receiver NACKs what is missing, the sender
/// answers with RTX, the receiver reads the OSN and counts the recovery.
#[test]
fn nack_to_rtx_loop_recovers_losses() {
    let (media, rtx_ssrc, receiver) = (0x1111, 0x2222, 0x3333);
    let mut history = RtxHistory::new(Some(RtxConfig {
        ssrc: rtx_ssrc,
        payload_types: vec![(96, 97)],
        first_seq: 9000,
    }));
    let mut nacker = NackGenerator::new();
    let mut unwrap = SeqUnwrapper::new();
    let mut sender_inbound = RtcpInbound::new();
    let mut got = std::collections::BTreeSet::new();
    let rtt = Duration::from_millis(40);
    let lost = [65533u16, 65534, 2, 7];
    for i in 0..20u16 {
        let seq = 65530u16.wrapping_add(i);
        let now = ms(u64::from(i) * 10);
        let packet = rtp(
            96,
            seq,
            u32::from(i) * 3000,
            media,
            &[u8::try_from(i).unwrap(); 50],
        );
        history.on_packet_sent(&packet);
        if !lost.contains(&seq) {
            let p = RtpPacket::parse(&packet).unwrap();
            nacker.on_packet(now, unwrap.unwrap(p.header.sequence_number));
            got.insert(seq);
        }
        // The receiver asks, the sender answers 20 ms later, the RTX arrives 20 ms after.
        let ask = nacker.poll_nack(now, rtt);
        if ask.is_empty() {
            continue;
        }
        for nack in feedback::nacks(receiver, media, &ask) {
            let bytes = encode(&[nack]);
            let actions = sender_inbound
                .handle_rtcp(now + Duration::from_millis(20), &bytes, |s| s == media)
                .unwrap();
            for a in actions {
                let RtcpAction::NackReceived { seqs, .. } = a else {
                    panic!()
                };
                for r in history.on_nack(now + Duration::from_millis(20), rtt, &seqs) {
                    let p = RtpPacket::parse(&r.packet).unwrap();
                    assert_eq!(p.header.ssrc, rtx_ssrc);
                    let (osn, payload) = p.payload.split_at(2);
                    let osn = u16::from_be_bytes([osn[0], osn[1]]);
                    assert_eq!(osn, r.original_seq);
                    assert_eq!(payload.len(), 50);
                    nacker.on_packet(now + Duration::from_millis(40), unwrap.unwrap(osn));
                    got.insert(osn);
                }
            }
        }
    }
    assert_eq!(got.len(), 20);
    assert_eq!(nacker.pending(), 0);
    assert_eq!(nacker.stats().recovered, 4);
    assert_eq!(history.stats().retransmitted_packets, 4);
    assert_eq!(history.next_rtx_seq(), 9004);
}

/// ReceiveStats against a plain model: seeded loss, reordering and duplicates over a
/// sequence wrap. Expected, received, lost and duplicates must match exactly.
#[test]
fn receive_stats_match_a_model_under_loss_reorder_and_duplicates() {
    for seed in 0..20u64 {
        let mut rng = Rng::seeded(seed);
        let start = u16::try_from(rng.below(65536)).unwrap();
        // Sender order: 0..3000 (true index), with 10% loss.
        let mut arrivals: Vec<u64> = (0..3000u64)
            .filter(|i| *i == 0 || rng.below(10) != 0)
            .collect();
        // Swap neighbours (never the first packet), and repeat some recent packets.
        for i in 1..arrivals.len() - 1 {
            if rng.below(20) == 0 {
                arrivals.swap(i, i + 1);
            }
        }
        let mut fed: Vec<u64> = Vec::new();
        let mut duplicates = 0u64;
        for (i, &a) in arrivals.iter().enumerate() {
            fed.push(a);
            if i > 0 && rng.below(30) == 0 {
                let back = usize::try_from(rng.below(5)).unwrap().min(i);
                fed.push(arrivals[i - back]);
                duplicates += 1;
            }
        }
        let mut r = ReceiveStats::new(1);
        for (k, &i) in fed.iter().enumerate() {
            let seq = start.wrapping_add(u16::try_from(i % 65536).unwrap());
            r.on_packet(ms(k as u64), seq, 0, 90_000);
        }
        let max = *arrivals.iter().max().unwrap();
        let unique = u64::try_from(arrivals.len()).unwrap();
        assert_eq!(r.expected(), i64::try_from(max + 1).unwrap(), "seed {seed}");
        assert_eq!(r.received(), unique, "seed {seed}");
        assert_eq!(r.duplicates(), duplicates, "seed {seed}");
        assert_eq!(
            r.lost(),
            i64::try_from(max + 1 - unique).unwrap(),
            "seed {seed}"
        );
        let wrapped = u64::from(start) + max >= 65536;
        assert_eq!(
            r.extended_highest_seq() >> 16,
            u32::from(wrapped),
            "seed {seed}"
        );
    }
}
