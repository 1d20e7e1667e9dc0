//! RTP session feedback, sans-IO: the per-stream state that turns RTP traffic into RTCP
//! reports and feedback, and RTCP back into actions. Each part is a plain struct the
//! owner (`Peer`, one per stream) feeds with calls, passing the time in; nothing here owns
//! a socket, a clock or a thread, and nothing panics on peer input.
//!
//! * [`ReceiveStats`] (one per remote SSRC, RFC 3550 §6.4.1, A.1, A.3, A.8): sequence
//!   tracking, loss, jitter, the report block we send about that source, and what its
//!   SRs said (`remote-outbound-rtp`).
//! * [`SendStats`] (one per local SSRC): counts for our SR, and what the far end reports
//!   about us: round-trip time (RFC 3550 §6.4.1), loss, jitter (`remote-inbound-rtp`).
//! * [`NackGenerator`] (receive side, RFC 4585 §6.2.1): which lost packets to ask for, when.
//! * [`RtxHistory`] (send side, RFC 4588): recently sent packets, answered as RTX packets.
//! * [`KeyframeRequester`] (receive side, RFC 4585 §6.3.1 PLI, RFC 5104 §4.3.1 FIR): rate
//!   limited keyframe requests.
//! * [`JitterBuffer`] (receive side): assembled frames out in sequence order, waiting a
//!   bounded time for a gap a retransmission may fill.
//! * [`TwccRecorder`] (receive side, draft-holmer-rmcat-transport-wide-cc-extensions-01):
//!   arrival times and the feedback built from them.
//! * [`RtcpScheduler`] and [`build_reports`] (RFC 3550 §6.1, §6.3.5, §6.4): when to send the
//!   regular compound and what goes in it; [`feedback`] builds standalone (RFC 5506
//!   reduced-size) feedback packets.
//! * [`RtcpInbound`]: a received compound turned into [`RtcpAction`]s for the owner to
//!   route (report blocks to the [`SendStats`] of that SSRC, NACKs to its [`RtxHistory`] ...).
//!
//! # How the owner drives it
//!
//! Per remote SSRC: a [`ReceiveStats`], a [`NackGenerator`] (if `nack` was negotiated) and a
//! [`KeyframeRequester`]. Per local SSRC: a [`SendStats`] and an [`RtxHistory`]. Per
//! transport: a [`TwccRecorder`], an [`RtcpScheduler`] and an [`RtcpInbound`].
//!
//! * RTP received: `ReceiveStats::on_packet`, `NackGenerator::on_packet` (extended
//!   sequence number; for an RTX packet the OSN of its payload), `TwccRecorder::on_packet`
//!   with the transport-cc extension's value.
//! * RTP sent: `SendStats::on_packet_sent`, `RtxHistory::on_packet_sent`.
//! * RTCP received: `RtcpInbound::handle_rtcp`, then route each [`RtcpAction`] by SSRC.
//! * On a timer (the earliest of the `poll_timeout`s): `RtcpScheduler::poll_reports`,
//!   `NackGenerator::poll_nack` → [`feedback::nacks`], `KeyframeRequester::poll_request`,
//!   `TwccRecorder::poll_feedback` → [`feedback::transport_cc`]. Feedback goes out alone
//!   with `rtcp-rsize`, else through [`feedback::with_report`]. The RTT for NACK and RTX
//!   pacing is `SendStats::rtt` of any local stream (zero before the first measurement).
//!
//! # Time
//!
//! [`Time`] is the host's monotonic clock in µs. RTCP wants NTP wall-clock time in SRs; an
//! [`NtpClock`] maps one to the other with a fixed offset (the NTP time at `Time::ZERO`),
//! which the host reads once from its wall clock when it creates the session. Only
//! differences of NTP times matter to the far end (RTT, lip sync between our own streams),
//! so any fixed offset is correct; a real wall-clock one helps the far end's stats.
//!
//! # Bounds
//!
//! Every list that grows with peer input has a named bound: [`MAX_NACK_PENDING`] missing
//! packets (and [`MAX_NACK_GAP`] for one jump), [`MAX_RTX_HISTORY_PACKETS`] and
//! [`MAX_RTX_HISTORY_BYTES`] of send history, [`MAX_NACK_SEQS_PER_CALL`] sequence numbers
//! looked up per NACK, [`MAX_TWCC_HISTORY`] arrivals and [`MAX_TWCC_FEEDBACK_STATUSES`] per
//! feedback, [`MAX_FIR_SOURCES`] FIR senders remembered, [`MAX_SENT_SRS`] SRs remembered for
//! RTT. What falls off a bound is counted in the owner's stats.

pub mod feedback;
mod inbound;
mod jitter;
mod keyframe;
mod nack;
mod receive;
mod rtx;
mod schedule;
mod send;
mod twcc;

#[cfg(test)]
mod tests;

pub use inbound::{KeyframeKind, RtcpAction, RtcpInbound, RtcpInboundStats, MAX_FIR_SOURCES};
pub use jitter::{
    JitterBuffer, JitterKind, JitterStats, DEFAULT_RTT, MAX_AUDIO_WAIT, MAX_JITTER_BYTES,
    MAX_JITTER_FRAMES, MAX_SEQ_BEHIND, MAX_SKIPPED, MAX_VIDEO_WAIT, MIN_AUDIO_WAIT, MIN_VIDEO_WAIT,
    WAIT_MARGIN,
};
pub use keyframe::{KeyframeRequester, KeyframeStats, MIN_KEYFRAME_REQUEST_INTERVAL};
pub use nack::{
    NackGenerator, NackStats, MAX_NACK_AGE, MAX_NACK_GAP, MAX_NACK_PENDING, MAX_NACK_RETRIES,
    MIN_NACK_RETRY_INTERVAL,
};
pub use receive::{ReceiveStats, RemoteSender, SeqOutcome, MAX_DROPOUT, MAX_MISORDER};
pub use rtx::{
    Retransmission, RtxConfig, RtxHistory, RtxStats, MAX_NACK_SEQS_PER_CALL, MAX_RTX_HISTORY_BYTES,
    MAX_RTX_HISTORY_PACKETS, MAX_RTX_PAYLOAD_TYPES, MIN_RESEND_INTERVAL,
};
pub use schedule::{
    build_reports, RtcpScheduler, MAX_RTCP_COMPOUND_LEN, REPORT_INTERVAL_AUDIO,
    REPORT_INTERVAL_VIDEO,
};
pub use send::{RemoteInbound, SendStats, MAX_SENT_SRS};
pub use twcc::{
    TwccRecorder, TwccStats, MAX_TWCC_FEEDBACK_STATUSES, MAX_TWCC_HISTORY, TWCC_FEEDBACK_INTERVAL,
};

use crate::Time;
use core::time::Duration;

const MICROS_PER_SEC: u64 = 1_000_000;

/// Maps [`Time`] to NTP time (RFC 3550 §4: seconds since 1900 in the high 32 bits, the
/// fraction in the low 32) by a fixed offset: the NTP time at `Time::ZERO`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NtpClock {
    ntp_at_zero: u64,
}

impl NtpClock {
    /// `ntp_at_zero`: the 64-bit NTP time the host's clock read when [`Time`] was zero.
    pub const fn new(ntp_at_zero: u64) -> NtpClock {
        NtpClock { ntp_at_zero }
    }

    /// The 64-bit NTP time at `now` (wrapping, as NTP time does in 2036).
    pub fn ntp(&self, now: Time) -> u64 {
        self.ntp_at_zero
            .wrapping_add(micros_to_ntp(now.as_micros()))
    }

    /// The middle 32 bits of [`ntp`](Self::ntp): the NTP short format (16.16 seconds) used
    /// by LSR and for RTT (RFC 3550 §6.4.1).
    pub fn compact(&self, now: Time) -> u32 {
        ntp_compact(self.ntp(now))
    }
}

/// The middle 32 bits of a 64-bit NTP timestamp.
pub fn ntp_compact(ntp: u64) -> u32 {
    u32::try_from((ntp >> 16) & 0xffff_ffff).unwrap_or(0)
}

/// Microseconds as a 64-bit NTP duration (32.32 fixed point seconds).
fn micros_to_ntp(us: u64) -> u64 {
    let secs = us / MICROS_PER_SEC;
    let frac = ((us % MICROS_PER_SEC) << 32) / MICROS_PER_SEC;
    (secs << 32).wrapping_add(frac)
}

/// A duration in 1/65536 s (DLSR, RFC 3550 §6.4.1), saturating at `u32::MAX`.
fn to_ntp_short(d: Duration) -> u32 {
    let us = d.as_micros();
    u32::try_from(us.saturating_mul(65536) / u128::from(MICROS_PER_SEC)).unwrap_or(u32::MAX)
}

/// 1/65536 s units as a duration (rounded to the microsecond).
fn from_ntp_short(units: u32) -> Duration {
    let us = (u64::from(units) * MICROS_PER_SEC + 32768) / 65536;
    Duration::from_micros(us)
}

/// Extends 16-bit sequence numbers to 64 bits, each taken as the value nearest to the last
/// one seen. The first is placed at `2^16 + seq` so going back never underflows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqUnwrapper {
    last: Option<u64>,
}

impl SeqUnwrapper {
    pub const fn new() -> SeqUnwrapper {
        SeqUnwrapper { last: None }
    }

    /// The extended value of `seq` (and remembers it when it is ahead of the last one).
    pub fn unwrap(&mut self, seq: u16) -> u64 {
        let ext = self.peek(seq);
        if self.last.is_none_or(|l| ext > l) {
            self.last = Some(ext);
        }
        ext
    }

    /// The extended value of `seq` without remembering it.
    pub fn peek(&self, seq: u16) -> u64 {
        match self.last {
            None => (1 << 16) + u64::from(seq),
            Some(last) => nearest(last, seq),
        }
    }
}

/// The 64-bit value whose low 16 bits are `seq` nearest to `reference` (exactly half the
/// space away counts as behind; never below zero).
fn nearest(reference: u64, seq: u16) -> u64 {
    let low = u16::try_from(reference & 0xffff).unwrap_or(0);
    let forward = seq.wrapping_sub(low);
    if forward < 0x8000 {
        reference.saturating_add(u64::from(forward))
    } else {
        let back = u64::from(low.wrapping_sub(seq));
        reference.checked_sub(back).unwrap_or(u64::from(seq))
    }
}

/// The low 16 bits of an extended sequence number.
fn low16(ext: u64) -> u16 {
    u16::try_from(ext & 0xffff).unwrap_or(0)
}
