//! Transport-wide CC, receive side: the arrival time of each transport-wide sequence
//! number, and the feedback built from them
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).

use super::SeqUnwrapper;
use crate::rtp::TransportCc;
use crate::Time;
use core::time::Duration;
use std::collections::BTreeMap;

/// How often feedback is sent (the draft leaves it to the receiver; libwebrtc uses 100 ms).
pub const TWCC_FEEDBACK_INTERVAL: Duration = Duration::from_millis(100);
/// Most arrivals held between two feedbacks; beyond it the oldest are dropped (counted).
pub const MAX_TWCC_HISTORY: usize = 4096;
/// Most statuses (sequence numbers, received or not) in one feedback packet: it stays near
/// 1 KB at worst (two-byte deltas), within one MTU. Longer spans are split.
pub const MAX_TWCC_FEEDBACK_STATUSES: usize = 400;
/// Largest receive delta one feedback can carry (a signed 16-bit count of 250 µs).
const MAX_DELTA_US: u64 = 8_000_000;

/// Counters of a [`TwccRecorder`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TwccStats {
    pub recorded: u64,
    pub duplicates: u64,
    /// Arrived after the feedback that covered their sequence number: dropped.
    pub late: u64,
    /// Dropped to stay within [`MAX_TWCC_HISTORY`].
    pub evicted: u64,
    pub feedback_sent: u64,
}

/// Arrival times by transport-wide sequence number (the transport-cc header extension of
/// every packet on the transport), turned into feedback every [`TWCC_FEEDBACK_INTERVAL`].
///
/// Each feedback starts where the previous one ended, so packets lost in between are
/// reported as not received. A packet arriving after the feedback that covered its
/// sequence number is dropped and counted (`late`): the sender has already judged it lost,
/// and reporting it again would reorder the sender's view.
#[derive(Clone, Debug)]
pub struct TwccRecorder {
    sender_ssrc: u32,
    media_ssrc: u32,
    unwrap: SeqUnwrapper,
    arrivals: BTreeMap<u64, Time>,
    /// The first sequence number the next feedback reports.
    next_base: Option<u64>,
    fb_count: u8,
    last_feedback: Option<Time>,
    stats: TwccStats,
}

impl TwccRecorder {
    /// `sender_ssrc`: ours (the feedback's packet sender); `media_ssrc`: one of the remote
    /// sources (the feedback is about the whole transport).
    pub fn new(sender_ssrc: u32, media_ssrc: u32) -> TwccRecorder {
        TwccRecorder {
            sender_ssrc,
            media_ssrc,
            unwrap: SeqUnwrapper::new(),
            arrivals: BTreeMap::new(),
            next_base: None,
            fb_count: 0,
            last_feedback: None,
            stats: TwccStats::default(),
        }
    }

    pub fn stats(&self) -> TwccStats {
        self.stats
    }

    /// Arrivals waiting for feedback.
    pub fn pending(&self) -> usize {
        self.arrivals.len()
    }

    /// A packet with this transport-wide sequence number arrived at `now`.
    pub fn on_packet(&mut self, now: Time, seq: u16) {
        let ext = self.unwrap.unwrap(seq);
        if self.next_base.is_some_and(|b| ext < b) {
            self.stats.late += 1;
            return;
        }
        if self.arrivals.contains_key(&ext) {
            self.stats.duplicates += 1;
            return;
        }
        self.arrivals.insert(ext, now);
        self.stats.recorded += 1;
        while self.arrivals.len() > MAX_TWCC_HISTORY {
            if let Some((old, _)) = self.arrivals.pop_first() {
                self.next_base = Some(old + 1);
                self.stats.evicted += 1;
            }
        }
    }

    /// When the next feedback is due (`None` with nothing to report).
    pub fn poll_timeout(&self) -> Option<Time> {
        if self.arrivals.is_empty() {
            return None;
        }
        Some(
            self.last_feedback
                .map_or(Time::ZERO, |t| t + TWCC_FEEDBACK_INTERVAL),
        )
    }

    /// The feedback packets to send now: every arrival recorded, in packets of at most
    /// [`MAX_TWCC_FEEDBACK_STATUSES`] statuses; empty before the interval has passed.
    pub fn poll_feedback(&mut self, now: Time) -> Vec<TransportCc> {
        if self.poll_timeout().is_none_or(|t| t > now) {
            return Vec::new();
        }
        self.last_feedback = Some(now);
        self.flush()
    }

    /// The feedback for everything recorded, whatever the time.
    pub fn flush(&mut self) -> Vec<TransportCc> {
        let mut out = Vec::new();
        let mut batch: Vec<(u16, Time)> = Vec::new();
        while let Some((&first, _)) = self.arrivals.first_key_value() {
            // Start at the previous end unless that leaves more than one packet's worth of
            // losses before the first arrival.
            let base = match self.next_base {
                Some(b) if first - b < MAX_TWCC_FEEDBACK_STATUSES as u64 => b,
                _ => first,
            };
            batch.clear();
            let mut last_ext = base;
            let mut prev_at: Option<Time> = None;
            while let Some((&ext, &at)) = self.arrivals.first_key_value() {
                let span_ok = ext - base < MAX_TWCC_FEEDBACK_STATUSES as u64;
                let delta_ok =
                    prev_at.is_none_or(|p| at.as_micros().abs_diff(p.as_micros()) < MAX_DELTA_US);
                if !span_ok || !delta_ok {
                    break;
                }
                self.arrivals.pop_first();
                batch.push((super::low16(ext), at));
                prev_at = Some(at);
                last_ext = ext;
            }
            self.next_base = Some(last_ext + 1);
            let built = TransportCc::from_arrivals(
                self.sender_ssrc,
                self.media_ssrc,
                self.fb_count,
                super::low16(base),
                &batch,
            );
            if let Ok(fb) = built {
                self.fb_count = self.fb_count.wrapping_add(1);
                self.stats.feedback_sent += 1;
                out.push(fb);
            }
        }
        out
    }
}
