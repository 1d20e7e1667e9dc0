//! Reception statistics of one remote source (RFC 3550 §6.4.1, A.1, A.3, A.8).

use super::to_ntp_short;
use crate::rtp::{ReportBlock, SenderInfo};
use crate::Time;

/// RFC 3550 A.1: a jump ahead of at most this many packets is a gap (loss), not a restart.
pub const MAX_DROPOUT: u16 = 3000;
/// RFC 3550 A.1: a packet at most this far behind the highest is late (reordered or
/// duplicate); further behind, it starts a suspected restart.
pub const MAX_MISORDER: u16 = 100;
/// Sequence numbers behind the highest whose reception we remember, to count duplicates:
/// [`MAX_MISORDER`] rounded up to whole words (a packet further behind is not late).
const DUPLICATE_WINDOW: u64 = 128;
const CUMULATIVE_LOST_MIN: i64 = -(1 << 23);
const CUMULATIVE_LOST_MAX: i64 = (1 << 23) - 1;

/// What [`ReceiveStats::on_packet`] made of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqOutcome {
    /// The first packet, or ahead of the highest (possibly after a gap).
    New,
    /// Behind the highest, not seen before: reordered (or a retransmission).
    Late,
    /// Already received (within the last [`MAX_MISORDER`]): counted in `duplicates`, not in
    /// `received`.
    Duplicate,
    /// A jump beyond [`MAX_DROPOUT`] / [`MAX_MISORDER`]: ignored until the next packet
    /// follows it, which restarts the sequence (RFC 3550 A.1, the source restarted).
    Jumped,
    /// The packet after a jump: the counts restarted from it.
    Restarted,
}

/// What the last SR of this source said, and when it came (`remote-outbound-rtp`, and the
/// LSR / DLSR of our report block).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteSender {
    pub info: SenderInfo,
    pub received_at: Time,
    /// SRs received from this source.
    pub reports_received: u64,
}

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

impl RemoteSender {
    /// The SR's NTP time as milliseconds since the Unix epoch (W3C `remoteTimestamp`),
    /// `None` before 1970 (a sender whose NTP clock is not wall-clock time).
    pub fn remote_timestamp_ms(&self) -> Option<f64> {
        let secs = (self.info.ntp_time >> 32).checked_sub(NTP_UNIX_OFFSET_SECS)?;
        let frac = (self.info.ntp_time & 0xffff_ffff) as f64 / 4_294_967_296.0;
        Some((secs as f64 + frac) * 1000.0)
    }
}

/// Reception statistics of one remote SSRC: feed every packet to
/// [`on_packet`](Self::on_packet), every SR of that SSRC to
/// [`on_sender_report`](Self::on_sender_report), and ask for a
/// [`report_block`](Self::report_block) at each report.
///
/// RFC 3550 A.1 without probation: the first packet is taken as valid. Jitter (A.8) is
/// computed on packets that advance the sequence (not on late or duplicate ones), in
/// timestamp units, with the integer form of the estimator (`J += |D| - J/16`, kept x16).
#[derive(Clone, Debug)]
pub struct ReceiveStats {
    ssrc: u32,
    started: bool,
    base_seq: u32,
    max_seq: u16,
    /// Sequence number cycles, shifted (a multiple of 65536), as in A.1.
    cycles: u32,
    bad_seq: Option<u16>,
    /// Packets received (duplicates not counted).
    received: u64,
    expected_prior: i64,
    received_prior: u64,
    /// Bit i: extended highest - i was received.
    window: [u64; (DUPLICATE_WINDOW / 64) as usize],
    /// Arrival minus timestamp of the last packet, modulo 2^32.
    transit: Option<u32>,
    clock_rate: u32,
    /// Jitter x 16, in timestamp units.
    jitter_q4: u64,
    duplicates: u64,
    restarts: u64,
    last_sr: Option<RemoteSender>,
    last_packet_at: Option<Time>,
    /// Packets (duplicates included) when the last report block was made.
    packets_at_report: u64,
}

impl ReceiveStats {
    pub fn new(ssrc: u32) -> ReceiveStats {
        ReceiveStats {
            ssrc,
            started: false,
            base_seq: 0,
            max_seq: 0,
            cycles: 0,
            bad_seq: None,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            window: [0; (DUPLICATE_WINDOW / 64) as usize],
            transit: None,
            clock_rate: 0,
            jitter_q4: 0,
            duplicates: 0,
            restarts: 0,
            last_sr: None,
            last_packet_at: None,
            packets_at_report: 0,
        }
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    fn init_seq(&mut self, seq: u16) {
        self.started = true;
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.cycles = 0;
        self.bad_seq = None;
        self.received = 0;
        self.expected_prior = 0;
        self.received_prior = 0;
        self.window = [0; (DUPLICATE_WINDOW / 64) as usize];
        self.transit = None;
        self.packets_at_report = 0;
    }

    /// The packet `back` behind the highest: was it received? (marks it).
    fn mark(&mut self, back: u64) -> bool {
        if back >= DUPLICATE_WINDOW {
            return false;
        }
        let (word, bit) = (usize::try_from(back / 64).unwrap_or(0), back % 64);
        match self.window.get_mut(word) {
            Some(w) => {
                let seen = *w & (1 << bit) != 0;
                *w |= 1 << bit;
                seen
            }
            None => false,
        }
    }

    /// Moves the window forward by `n` packets.
    fn shift(&mut self, n: u64) {
        if n >= DUPLICATE_WINDOW {
            self.window = [0; (DUPLICATE_WINDOW / 64) as usize];
            return;
        }
        let (words, bits) = (usize::try_from(n / 64).unwrap_or(0), n % 64);
        let len = self.window.len();
        for i in (0..len).rev() {
            let src = i.checked_sub(words);
            let hi = src.and_then(|s| self.window.get(s)).copied().unwrap_or(0);
            let lo = src
                .and_then(|s| s.checked_sub(1))
                .and_then(|s| self.window.get(s))
                .copied()
                .unwrap_or(0);
            let v = if bits == 0 {
                hi
            } else {
                (hi << bits) | (lo >> (64 - bits))
            };
            if let Some(w) = self.window.get_mut(i) {
                *w = v;
            }
        }
    }

    /// One RTP packet of this source arrived at `now` (RFC 3550 A.1 `update_seq`, A.8).
    pub fn on_packet(
        &mut self,
        now: Time,
        seq: u16,
        rtp_timestamp: u32,
        clock_rate: u32,
    ) -> SeqOutcome {
        self.track(now, seq, Some((rtp_timestamp, clock_rate)))
    }

    /// A retransmission of this source's packet `seq` (RFC 4588: the original sequence
    /// number of an RTX packet) arrived at `now`: it counts as received (a repaired loss is
    /// no loss, RFC 3550 A.3 counts late packets), a second copy as a duplicate, but not in
    /// the jitter (its transit time is the sender's repair delay, not the network's). One
    /// before the stream's first packet starts nothing: ignored.
    pub fn on_retransmitted(&mut self, now: Time, seq: u16) -> Option<SeqOutcome> {
        self.started.then(|| self.track(now, seq, None))
    }

    /// RFC 3550 A.1 `update_seq`; the jitter too for `Some((rtp_timestamp, clock_rate))`.
    fn track(&mut self, now: Time, seq: u16, timing: Option<(u32, u32)>) -> SeqOutcome {
        self.last_packet_at = Some(now);
        if !self.started {
            self.init_seq(seq);
            self.mark(0);
            self.received = 1;
            if let Some((ts, rate)) = timing {
                self.update_jitter(now, ts, rate);
            }
            return SeqOutcome::New;
        }
        let udelta = seq.wrapping_sub(self.max_seq);
        let outcome = if udelta == 0 {
            SeqOutcome::Duplicate
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(1 << 16);
            }
            self.max_seq = seq;
            self.shift(u64::from(udelta));
            self.mark(0);
            SeqOutcome::New
        } else if udelta <= u16::MAX - MAX_MISORDER {
            // A very large jump: a restart if the next packet follows it.
            if self.bad_seq == Some(seq) {
                self.restarts += 1;
                self.init_seq(seq);
                self.mark(0);
                self.received = 1;
                if let Some((ts, rate)) = timing {
                    self.update_jitter(now, ts, rate);
                }
                return SeqOutcome::Restarted;
            }
            self.bad_seq = Some(seq.wrapping_add(1));
            return SeqOutcome::Jumped;
        } else if self.mark(u64::from(self.max_seq.wrapping_sub(seq))) {
            SeqOutcome::Duplicate
        } else {
            SeqOutcome::Late
        };
        match outcome {
            SeqOutcome::Duplicate => self.duplicates += 1,
            SeqOutcome::New => {
                self.received += 1;
                if let Some((ts, rate)) = timing {
                    self.update_jitter(now, ts, rate);
                }
            }
            _ => self.received += 1,
        }
        self.bad_seq = None;
        outcome
    }

    /// RFC 3550 A.8 with the arrival time in timestamp units.
    fn update_jitter(&mut self, now: Time, rtp_timestamp: u32, clock_rate: u32) {
        if clock_rate == 0 {
            return;
        }
        if clock_rate != self.clock_rate {
            self.clock_rate = clock_rate;
            self.transit = None;
            self.jitter_q4 = 0;
        }
        let arrival = u128::from(now.as_micros()) * u128::from(clock_rate) / 1_000_000;
        // Modulo 2^32 like the timestamps themselves: only differences count.
        let arrival = u32::try_from(arrival & 0xffff_ffff).unwrap_or(0);
        let transit = arrival.wrapping_sub(rtp_timestamp);
        if let Some(prev) = self.transit {
            let d = u64::from(signed(transit.wrapping_sub(prev)).unsigned_abs());
            // J += (|D| - J) / 16, with J kept x16.
            self.jitter_q4 = self.jitter_q4 + d - ((self.jitter_q4 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// RFC 3550 A.3: the extended highest sequence number received (cycles in the high 16
    /// bits).
    pub fn extended_highest_seq(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected: extended highest - base + 1.
    pub fn expected(&self) -> i64 {
        if !self.started {
            return 0;
        }
        i64::from(self.cycles) + i64::from(self.max_seq) - i64::from(self.base_seq) + 1
    }

    /// Packets received (duplicates not counted).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Duplicates received.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Times the sequence restarted after a jump.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// Cumulative packets lost: expected - received (negative with late packets from before
    /// the first one), not clamped.
    pub fn lost(&self) -> i64 {
        self.expected()
            .saturating_sub(i64::try_from(self.received).unwrap_or(i64::MAX))
    }

    /// Interarrival jitter in timestamp units (RFC 3550 A.8).
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter_q4 >> 4).unwrap_or(u32::MAX)
    }

    /// Interarrival jitter in seconds (W3C `jitter`), with the last clock rate.
    pub fn jitter_seconds(&self) -> f64 {
        if self.clock_rate == 0 {
            return 0.0;
        }
        f64::from(self.jitter()) / f64::from(self.clock_rate)
    }

    /// Whether a packet came since the last report block (RFC 3550 §6.4: reports cover
    /// the sources heard from since the last report).
    pub fn heard_since_report(&self) -> bool {
        self.started && self.received + self.duplicates != self.packets_at_report
    }

    /// When the last packet came.
    pub fn last_packet_at(&self) -> Option<Time> {
        self.last_packet_at
    }

    /// An SR from this source arrived.
    pub fn on_sender_report(&mut self, now: Time, info: SenderInfo) {
        let reports_received = self.last_sr.map_or(0, |s| s.reports_received) + 1;
        self.last_sr = Some(RemoteSender {
            info,
            received_at: now,
            reports_received,
        });
    }

    /// The last SR of this source (`remote-outbound-rtp`).
    pub fn last_sender_report(&self) -> Option<&RemoteSender> {
        self.last_sr.as_ref()
    }

    /// The report block about this source (RFC 3550 §6.4.1, A.3), `None` before its first
    /// packet. Starts a new interval for the fraction lost.
    pub fn report_block(&mut self, now: Time) -> Option<ReportBlock> {
        if !self.started {
            return None;
        }
        self.packets_at_report = self.received + self.duplicates;
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        self.expected_prior = expected;
        let received_interval =
            i64::try_from(self.received - self.received_prior.min(self.received))
                .unwrap_or(i64::MAX);
        self.received_prior = self.received;
        let lost_interval = expected_interval - received_interval;
        let fraction_lost = if expected_interval <= 0 || lost_interval <= 0 {
            0
        } else {
            u8::try_from((lost_interval << 8) / expected_interval).unwrap_or(u8::MAX)
        };
        let cumulative_lost =
            i32::try_from(self.lost().clamp(CUMULATIVE_LOST_MIN, CUMULATIVE_LOST_MAX)).unwrap_or(0);
        let (last_sr, delay_since_last_sr) = match &self.last_sr {
            Some(sr) => (
                super::ntp_compact(sr.info.ntp_time),
                to_ntp_short(now.saturating_since(sr.received_at)),
            ),
            None => (0, 0),
        };
        Some(ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost,
            extended_highest_seq: self.extended_highest_seq(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        })
    }
}

/// A 32-bit difference read as signed.
fn signed(v: u32) -> i32 {
    i32::from_be_bytes(v.to_be_bytes())
}
