//! Which lost packets to ask for, and when (RFC 4585 §6.2.1 generic NACK, receive side).

use super::low16;
use crate::Time;
use core::time::Duration;
use std::collections::BTreeMap;

/// Most missing packets tracked at once; beyond it the oldest are given up (counted).
pub const MAX_NACK_PENDING: usize = 500;
/// A jump ahead by more than this many missing packets is an outage, not loss to repair:
/// the list is cleared (counted as given up) and tracking restarts from the new packet.
pub const MAX_NACK_GAP: u64 = 1000;
/// Requests per missing packet, the first included.
pub const MAX_NACK_RETRIES: u8 = 10;
/// A packet missing for longer than this is given up (a retransmission would come too late
/// to be played).
pub const MAX_NACK_AGE: Duration = Duration::from_secs(1);
/// Least time between two requests for the same packet (the RTT when larger).
pub const MIN_NACK_RETRY_INTERVAL: Duration = Duration::from_millis(20);

/// Counters of a [`NackGenerator`] (W3C `nackCount` is `nack_polls`, one NACK per poll
/// that returned something when the caller sends one packet per poll).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NackStats {
    /// Sequence numbers requested, retries included.
    pub seqs_requested: u64,
    /// Polls that returned at least one sequence number.
    pub nack_polls: u64,
    /// Requested packets that arrived afterwards.
    pub recovered: u64,
    /// Missing packets that arrived before being requested (reordering).
    pub reordered: u64,
    /// Missing packets given up: too old, out of retries, or pushed out by a bound.
    pub given_up: u64,
    /// Times the list was cleared after a jump over [`MAX_NACK_GAP`].
    pub resets: u64,
}

#[derive(Clone, Copy, Debug)]
struct Missing {
    since: Time,
    last_sent: Option<Time>,
    sent: u8,
}

/// Tracks gaps in one source's (extended) sequence numbers and says which to NACK:
/// a new gap at once, then again every `max(rtt, MIN_NACK_RETRY_INTERVAL)`, at most
/// [`MAX_NACK_RETRIES`] times and for at most [`MAX_NACK_AGE`].
#[derive(Clone, Debug, Default)]
pub struct NackGenerator {
    highest: Option<u64>,
    missing: BTreeMap<u64, Missing>,
    stats: NackStats,
}

impl NackGenerator {
    pub fn new() -> NackGenerator {
        NackGenerator::default()
    }

    pub fn stats(&self) -> NackStats {
        self.stats
    }

    /// Missing packets now tracked.
    pub fn pending(&self) -> usize {
        self.missing.len()
    }

    /// A packet with this extended sequence number arrived (an RTX packet counts with its
    /// original sequence number).
    pub fn on_packet(&mut self, now: Time, ext_seq: u64) {
        let Some(highest) = self.highest else {
            self.highest = Some(ext_seq);
            return;
        };
        if ext_seq <= highest {
            if let Some(m) = self.missing.remove(&ext_seq) {
                if m.sent > 0 {
                    self.stats.recovered += 1;
                } else {
                    self.stats.reordered += 1;
                }
            }
            return;
        }
        let gap = ext_seq - highest - 1;
        self.highest = Some(ext_seq);
        if gap > MAX_NACK_GAP {
            self.stats.given_up += u64::try_from(self.missing.len()).unwrap_or(u64::MAX);
            self.stats.resets += 1;
            self.missing.clear();
            return;
        }
        // Only the newest MAX_NACK_PENDING of the gap can be kept anyway.
        let keep = gap.min(u64::try_from(MAX_NACK_PENDING).unwrap_or(u64::MAX));
        self.stats.given_up += gap - keep;
        for seq in ext_seq - keep..ext_seq {
            self.missing.insert(
                seq,
                Missing {
                    since: now,
                    last_sent: None,
                    sent: 0,
                },
            );
        }
        while self.missing.len() > MAX_NACK_PENDING {
            self.missing.pop_first();
            self.stats.given_up += 1;
        }
    }

    fn interval(rtt: Duration) -> Duration {
        rtt.max(MIN_NACK_RETRY_INTERVAL)
    }

    /// Drops what is too old or out of retries.
    fn expire(&mut self, now: Time, rtt: Duration) {
        let interval = Self::interval(rtt);
        let before = self.missing.len();
        self.missing.retain(|_, m| {
            let too_old = now.saturating_since(m.since) >= MAX_NACK_AGE;
            let spent = m.sent >= MAX_NACK_RETRIES
                && m.last_sent
                    .is_none_or(|t| now.saturating_since(t) >= interval);
            !too_old && !spent
        });
        self.stats.given_up += u64::try_from(before - self.missing.len()).unwrap_or(0);
    }

    /// The sequence numbers (16-bit, in order) to request now; build NACKs from them with
    /// [`feedback::nacks`](super::feedback::nacks).
    pub fn poll_nack(&mut self, now: Time, rtt: Duration) -> Vec<u16> {
        self.expire(now, rtt);
        let interval = Self::interval(rtt);
        let mut out = Vec::new();
        for (&seq, m) in self.missing.iter_mut() {
            let due = m
                .last_sent
                .is_none_or(|t| now.saturating_since(t) >= interval);
            if due && m.sent < MAX_NACK_RETRIES {
                m.sent += 1;
                m.last_sent = Some(now);
                out.push(low16(seq));
            }
        }
        if !out.is_empty() {
            self.stats.nack_polls += 1;
            self.stats.seqs_requested += u64::try_from(out.len()).unwrap_or(0);
        }
        out
    }

    /// When [`poll_nack`](Self::poll_nack) next has something to do (a retry or an
    /// expiry), `None` when nothing is missing.
    pub fn poll_timeout(&self, rtt: Duration) -> Option<Time> {
        let interval = Self::interval(rtt);
        self.missing
            .values()
            .map(|m| {
                let expiry = m.since + MAX_NACK_AGE;
                match m.last_sent {
                    None => m.since,
                    Some(t) => (t + interval).min(expiry),
                }
            })
            .min()
    }
}
