//! Keyframe requests, receive side: PLI (RFC 4585 §6.3.1) or FIR (RFC 5104 §4.3.1), rate
//! limited.

use crate::rtp::{Fir, FirEntry, Pli, RtcpPacket};
use crate::Time;
use core::time::Duration;

/// Least time between two keyframe requests for one source. A request made sooner is
/// held and sent when the interval ends (one, however many were made).
pub const MIN_KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// Counters of a [`KeyframeRequester`] (W3C `pliCount`, `firCount`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyframeStats {
    pub pli_sent: u64,
    pub fir_sent: u64,
    /// Requests folded into one already pending or sent within the interval.
    pub coalesced: u64,
}

/// Asks one remote source for a keyframe: [`request`](Self::request) when the decoder needs
/// one, then [`poll_request`](Self::poll_request) gives the PLI or FIR to send, at most one
/// per [`MIN_KEYFRAME_REQUEST_INTERVAL`].
#[derive(Clone, Debug)]
pub struct KeyframeRequester {
    sender_ssrc: u32,
    media_ssrc: u32,
    use_fir: bool,
    /// RFC 5104 §4.3.1.2: incremented for each new request, not for repetitions.
    fir_seq: u8,
    pending: bool,
    last_sent: Option<Time>,
    stats: KeyframeStats,
}

impl KeyframeRequester {
    /// `use_fir`: send FIR (`a=rtcp-fb:* ccm fir`) instead of PLI (`nack pli`).
    pub fn new(sender_ssrc: u32, media_ssrc: u32, use_fir: bool) -> KeyframeRequester {
        KeyframeRequester {
            sender_ssrc,
            media_ssrc,
            use_fir,
            fir_seq: 0,
            pending: false,
            last_sent: None,
            stats: KeyframeStats::default(),
        }
    }

    pub fn stats(&self) -> KeyframeStats {
        self.stats
    }

    /// The decoder wants a keyframe.
    pub fn request(&mut self) {
        if self.pending {
            self.stats.coalesced += 1;
        }
        self.pending = true;
    }

    fn ready_at(&self) -> Option<Time> {
        if !self.pending {
            return None;
        }
        Some(
            self.last_sent
                .map_or(Time::ZERO, |t| t + MIN_KEYFRAME_REQUEST_INTERVAL),
        )
    }

    /// The PLI or FIR to send now, if one is pending and the interval has passed.
    pub fn poll_request(&mut self, now: Time) -> Option<RtcpPacket> {
        if self.ready_at()? > now {
            return None;
        }
        self.pending = false;
        self.last_sent = Some(now);
        Some(if self.use_fir {
            self.stats.fir_sent += 1;
            self.fir_seq = self.fir_seq.wrapping_add(1);
            RtcpPacket::Fir(Fir {
                sender_ssrc: self.sender_ssrc,
                media_ssrc: 0,
                entries: vec![FirEntry {
                    ssrc: self.media_ssrc,
                    seq: self.fir_seq,
                }],
            })
        } else {
            self.stats.pli_sent += 1;
            RtcpPacket::Pli(Pli {
                sender_ssrc: self.sender_ssrc,
                media_ssrc: self.media_ssrc,
            })
        })
    }

    /// When a held request can go.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.ready_at()
    }
}
