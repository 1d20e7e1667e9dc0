//! The regular compound RTCP packet (RFC 3550 §6.1, §6.4): when to send it and what goes in.

use super::{ReceiveStats, SendStats};
use crate::crypto::Rng;
use crate::rtp::rtcp::MAX_SDES_VALUE_LEN;
use crate::rtp::{
    ReceiverReport, ReportBlock, RtcpPacket, Sdes, SdesChunk, SenderReport, MAX_COMPOUND_PACKETS,
    MAX_REPORT_BLOCKS, MAX_SDES_CHUNKS,
};
use crate::Time;
use core::time::Duration;
use std::collections::VecDeque;

/// Report interval for a session with video (libwebrtc's 1 s). RFC 3550 §6.2 derives the
/// interval from the session bandwidth (5% for RTCP); with the bitrates of WebRTC media
/// that is well under a second, so a fixed interval it is, as browsers do.
pub const REPORT_INTERVAL_VIDEO: Duration = Duration::from_secs(1);
/// Report interval for an audio-only session (libwebrtc's 5 s, RFC 3550 §6.2's minimum).
pub const REPORT_INTERVAL_AUDIO: Duration = Duration::from_secs(5);
/// Largest compound we build (bytes before SRTCP's tag and index): fits a 1280-byte IPv6
/// MTU with the UDP, IP and SRTCP overhead. More report blocks than fit go into further
/// compounds.
pub const MAX_RTCP_COMPOUND_LEN: usize = 1100;

const SR_LEN: usize = 28;
const RR_LEN: usize = 8;
const BLOCK_LEN: usize = 24;
const SDES_HEADER_LEN: usize = 4;

/// When to send the regular compound: every interval times a random factor in 0.5-1.5
/// (RFC 3550 §6.3.5, so reports of many endpoints do not synchronize), the first after half
/// an interval (§6.2, "initial" halving). Call [`poll_due`](Self::poll_due) at
/// [`poll_timeout`](Self::poll_timeout) or later.
pub struct RtcpScheduler {
    interval: Duration,
    next: Time,
    rng: Rng,
}

impl RtcpScheduler {
    /// `rng`: the injected source (fork it from the session's).
    pub fn new(now: Time, interval: Duration, mut rng: Rng) -> RtcpScheduler {
        let first = now + randomized(interval / 2, &mut rng);
        RtcpScheduler {
            interval,
            next: first,
            rng,
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The interval for the next reports (audio-only to video, say); the one scheduled stays.
    pub fn set_interval(&mut self, interval: Duration) {
        self.interval = interval;
    }

    /// When the next compound is due.
    pub fn poll_timeout(&self) -> Time {
        self.next
    }

    /// If the regular report is due at `now`, schedules the next one and builds it (see
    /// [`build_reports`]).
    pub fn poll_reports<'a>(
        &mut self,
        now: Time,
        senders: impl IntoIterator<Item = &'a mut SendStats>,
        receivers: impl IntoIterator<Item = &'a mut ReceiveStats>,
        receiver_ssrc: u32,
        cname: &str,
    ) -> Option<Vec<Vec<RtcpPacket>>> {
        if !self.poll_due(now) {
            return None;
        }
        Some(build_reports(now, senders, receivers, receiver_ssrc, cname))
    }

    /// Whether the compound is due at `now`; if so, schedules the next one.
    pub fn poll_due(&mut self, now: Time) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now + randomized(self.interval, &mut self.rng);
        true
    }
}

impl core::fmt::Debug for RtcpScheduler {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RtcpScheduler")
            .field("interval", &self.interval)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// `d` times a uniform factor in [0.5, 1.5], to the microsecond.
fn randomized(d: Duration, rng: &mut Rng) -> Duration {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 2);
    let permille = 500 + rng.below(1001);
    Duration::from_micros(
        u64::try_from(u128::from(us) * u128::from(permille) / 1000).unwrap_or(u64::MAX),
    )
}

fn sdes_chunk_len(cname: &[u8]) -> usize {
    // SSRC, CNAME type and length, value, the END byte, padded to a word.
    4 + (2 + cname.len() + 1).div_ceil(4) * 4
}

/// The regular compound packets at `now` (RFC 3550 §6.1, §6.4): an SR for every sender
/// that has sent, report blocks for every receive source heard from since the last report
/// ([`ReceiveStats::heard_since_report`]), and an SDES CNAME
/// chunk for each SSRC reporting. Each compound starts with an SR or RR and ends with the
/// SDES; blocks go into the first SR (at most 31), then into RRs stacked after it (§6.4.2);
/// what does not fit in [`MAX_RTCP_COMPOUND_LEN`] starts another compound. Without a sender
/// the reports come from `receiver_ssrc` in an RR. There is always at least one compound.
/// The CNAME is cut to 255 bytes. Encode each with `encode_compound`.
pub fn build_reports<'a>(
    now: Time,
    senders: impl IntoIterator<Item = &'a mut SendStats>,
    receivers: impl IntoIterator<Item = &'a mut ReceiveStats>,
    receiver_ssrc: u32,
    cname: &str,
) -> Vec<Vec<RtcpPacket>> {
    let cname = cname.as_bytes();
    let cname = cname.get(..MAX_SDES_VALUE_LEN).unwrap_or(cname);
    let chunk_len = sdes_chunk_len(cname);
    let mut srs: VecDeque<SenderReport> = senders
        .into_iter()
        .filter(|s| s.has_sent())
        .map(|s| s.sender_report(now))
        .collect();
    let mut blocks: VecDeque<ReportBlock> = receivers
        .into_iter()
        .filter(|r| r.heard_since_report())
        .filter_map(|r| r.report_block(now))
        .collect();
    let reporter = srs.front().map_or(receiver_ssrc, |s| s.ssrc);
    let mut compounds = Vec::new();
    while compounds.is_empty() || !srs.is_empty() || !blocks.is_empty() {
        let mut budget = MAX_RTCP_COMPOUND_LEN - SDES_HEADER_LEN;
        let mut packets: Vec<RtcpPacket> = Vec::new();
        let mut cnames: Vec<u32> = Vec::new();
        // Room for blocks once a packet of `fixed` bytes is placed.
        let take_blocks = |budget: usize, fixed: usize, blocks: &mut VecDeque<ReportBlock>| {
            let n = (budget.saturating_sub(fixed) / BLOCK_LEN)
                .min(MAX_REPORT_BLOCKS)
                .min(blocks.len());
            blocks.drain(..n).collect::<Vec<_>>()
        };
        while packets.len() + 1 < MAX_COMPOUND_PACKETS {
            if let Some(sr) = srs.front() {
                let fixed = SR_LEN + chunk_len;
                if fixed > budget || cnames.len() >= MAX_SDES_CHUNKS {
                    break;
                }
                let ssrc = sr.ssrc;
                let mut sr = srs.pop_front().unwrap_or_default();
                sr.reports = take_blocks(budget, fixed, &mut blocks);
                budget -= fixed + sr.reports.len() * BLOCK_LEN;
                cnames.push(ssrc);
                packets.push(RtcpPacket::SenderReport(sr));
            } else if !blocks.is_empty() || packets.is_empty() {
                let fixed = RR_LEN + if packets.is_empty() { chunk_len } else { 0 };
                if fixed + BLOCK_LEN > budget && !packets.is_empty() {
                    break;
                }
                let reports = take_blocks(budget, fixed, &mut blocks);
                budget = budget.saturating_sub(fixed + reports.len() * BLOCK_LEN);
                if packets.is_empty() {
                    cnames.push(reporter);
                }
                packets.push(RtcpPacket::ReceiverReport(ReceiverReport {
                    ssrc: reporter,
                    reports,
                    extension: Vec::new(),
                }));
            } else {
                break;
            }
        }
        packets.push(RtcpPacket::Sdes(Sdes {
            chunks: cnames
                .into_iter()
                .map(|ssrc| SdesChunk {
                    ssrc,
                    items: vec![crate::rtp::SdesItem {
                        kind: crate::rtp::rtcp::sdes::CNAME,
                        value: cname.to_vec(),
                    }],
                })
                .collect(),
        }));
        compounds.push(packets);
    }
    compounds
}
