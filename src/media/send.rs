//! Send statistics of one local source: our SR (RFC 3550 §6.4.1) and what the far end
//! reports about us (`remote-inbound-rtp`, RTT by RFC 3550 §6.4.1).

use super::{from_ntp_short, NtpClock};
use crate::rtp::{ReportBlock, SenderInfo, SenderReport};
use crate::Time;
use core::time::Duration;

/// SRs we remember having sent, to accept only LSR values we wrote (RTT from a forged or
/// stale LSR would be garbage). At 1 report per second, 8 s of reports.
pub const MAX_SENT_SRS: usize = 8;

/// What the far end reports about one of our sources (W3C `RTCRemoteInboundRtpStreamStats`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RemoteInbound {
    /// `roundTripTime`: the latest measurement.
    pub round_trip_time: Option<Duration>,
    /// `totalRoundTripTime`.
    pub total_round_trip_time: Duration,
    /// `roundTripTimeMeasurements`.
    pub round_trip_time_measurements: u64,
    /// `fractionLost` (0.0-1.0) of the last report.
    pub fraction_lost: f64,
    /// `packetsLost`: cumulative (signed 24-bit on the wire).
    pub packets_lost: i64,
    /// `jitter` in seconds.
    pub jitter: f64,
    /// The extended highest sequence number the far end received.
    pub extended_highest_seq: u32,
    /// `reportsReceived`.
    pub reports_received: u64,
    /// When the last report came.
    pub last_report_at: Option<Time>,
}

/// Send statistics of one local SSRC: feed each packet sent to
/// [`on_packet_sent`](Self::on_packet_sent), ask for a
/// [`sender_report`](Self::sender_report) at each report, and give it the report blocks
/// about this SSRC ([`on_report_block`](Self::on_report_block)).
#[derive(Clone, Debug)]
pub struct SendStats {
    ssrc: u32,
    clock_rate: u32,
    ntp: NtpClock,
    packets_sent: u64,
    /// Payload octets (RFC 3550 §6.4.1: not headers, not padding).
    octets_sent: u64,
    last_rtp: Option<(u32, Time)>,
    /// Compact NTP of the SRs we sent, newest last.
    sent_srs: [u32; MAX_SENT_SRS],
    sent_srs_len: usize,
    sent_srs_next: usize,
    reports_sent: u64,
    remote: RemoteInbound,
    /// Report blocks whose LSR we did not send (or 0): no RTT from them.
    unmatched_lsr: u64,
}

impl SendStats {
    /// `clock_rate`: of the RTP timestamps, to extrapolate the SR's RTP time. `ntp`: see
    /// [`NtpClock`] (the NTP time at `Time::ZERO`).
    pub fn new(ssrc: u32, clock_rate: u32, ntp: NtpClock) -> SendStats {
        SendStats {
            ssrc,
            clock_rate,
            ntp,
            packets_sent: 0,
            octets_sent: 0,
            last_rtp: None,
            sent_srs: [0; MAX_SENT_SRS],
            sent_srs_len: 0,
            sent_srs_next: 0,
            reports_sent: 0,
            remote: RemoteInbound::default(),
            unmatched_lsr: 0,
        }
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// A packet with this RTP timestamp and `payload_len` payload bytes was sent at `now`.
    pub fn on_packet_sent(&mut self, now: Time, rtp_timestamp: u32, payload_len: usize) {
        self.packets_sent += 1;
        self.octets_sent = self
            .octets_sent
            .saturating_add(u64::try_from(payload_len).unwrap_or(u64::MAX));
        self.last_rtp = Some((rtp_timestamp, now));
    }

    pub fn packets_sent(&self) -> u64 {
        self.packets_sent
    }

    pub fn octets_sent(&self) -> u64 {
        self.octets_sent
    }

    /// Whether anything was sent: an SR only makes sense then (RFC 3550 §6.4).
    pub fn has_sent(&self) -> bool {
        self.last_rtp.is_some()
    }

    /// SRs built.
    pub fn reports_sent(&self) -> u64 {
        self.reports_sent
    }

    /// The RTP time at `now`: the last timestamp sent plus the time since, at the clock
    /// rate (RFC 3550 §6.4.1: the same instant as the NTP timestamp).
    pub fn rtp_time_at(&self, now: Time) -> u32 {
        match self.last_rtp {
            None => 0,
            Some((ts, at)) => {
                let ticks =
                    now.saturating_since(at).as_micros() * u128::from(self.clock_rate) / 1_000_000;
                ts.wrapping_add(u32::try_from(ticks & 0xffff_ffff).unwrap_or(0))
            }
        }
    }

    /// Our SR at `now`, with no report block (see `build_reports`). Remembers its NTP time
    /// to match the LSR of reports that come back.
    pub fn sender_report(&mut self, now: Time) -> SenderReport {
        let ntp_time = self.ntp.ntp(now);
        if let Some(slot) = self.sent_srs.get_mut(self.sent_srs_next) {
            *slot = super::ntp_compact(ntp_time);
        }
        self.sent_srs_next = (self.sent_srs_next + 1) % MAX_SENT_SRS;
        self.sent_srs_len = (self.sent_srs_len + 1).min(MAX_SENT_SRS);
        self.reports_sent += 1;
        SenderReport {
            ssrc: self.ssrc,
            info: SenderInfo {
                ntp_time,
                rtp_time: self.rtp_time_at(now),
                // Both wrap modulo 2^32 on the wire (RFC 3550 §6.4.1).
                packet_count: u32::try_from(self.packets_sent & 0xffff_ffff).unwrap_or(0),
                octet_count: u32::try_from(self.octets_sent & 0xffff_ffff).unwrap_or(0),
            },
            reports: Vec::new(),
            extension: Vec::new(),
        }
    }

    /// A report block about this SSRC arrived at `now` (in an SR or RR). Updates the
    /// `remote-inbound-rtp` numbers, and the RTT when the block's LSR is one of our SRs:
    /// RFC 3550 §6.4.1, `RTT = A - LSR - DLSR` in NTP short format, A our NTP time now; a
    /// negative result (clock granularity) counts as zero. Returns the RTT measured.
    /// Blocks about another SSRC are ignored.
    pub fn on_report_block(&mut self, now: Time, block: &ReportBlock) -> Option<Duration> {
        if block.ssrc != self.ssrc {
            return None;
        }
        let r = &mut self.remote;
        r.reports_received += 1;
        r.last_report_at = Some(now);
        r.fraction_lost = f64::from(block.fraction_lost) / 256.0;
        r.packets_lost = i64::from(block.cumulative_lost);
        r.extended_highest_seq = block.extended_highest_seq;
        if self.clock_rate > 0 {
            r.jitter = f64::from(block.jitter) / f64::from(self.clock_rate);
        }
        let ours = self
            .sent_srs
            .iter()
            .take(self.sent_srs_len)
            .any(|&s| s == block.last_sr);
        if block.last_sr == 0 || !ours {
            self.unmatched_lsr += 1;
            return None;
        }
        let a = self.ntp.compact(now);
        let raw = a
            .wrapping_sub(block.last_sr)
            .wrapping_sub(block.delay_since_last_sr);
        // More than half the 16.16 range (~9 hours): negative.
        let rtt = if raw >= 0x8000_0000 {
            Duration::ZERO
        } else {
            from_ntp_short(raw)
        };
        let r = &mut self.remote;
        r.round_trip_time = Some(rtt);
        r.total_round_trip_time = r.total_round_trip_time.saturating_add(rtt);
        r.round_trip_time_measurements += 1;
        Some(rtt)
    }

    /// The latest RTT, if any was measured.
    pub fn rtt(&self) -> Option<Duration> {
        self.remote.round_trip_time
    }

    /// What the far end reports about this source.
    pub fn remote_inbound(&self) -> &RemoteInbound {
        &self.remote
    }

    /// Report blocks about this SSRC whose LSR was 0 or not one of our recent SRs.
    pub fn unmatched_lsr(&self) -> u64 {
        self.unmatched_lsr
    }
}
