//! Recently sent packets of one source, and their retransmission on NACK (RFC 4588 RTX,
//! or the original packet again when no RTX is negotiated).

use super::SeqUnwrapper;
use crate::rtp::{RtpHeader, RtpPacket};
use crate::Time;
use core::time::Duration;
use std::collections::VecDeque;

/// Most packets kept for retransmission (about 1.5 s of 3 Mbit/s video).
pub const MAX_RTX_HISTORY_PACKETS: usize = 600;
/// Most bytes the history holds, each packet counted at its allocation plus its entry.
pub const MAX_RTX_HISTORY_BYTES: usize = 1024 * 1024;
/// Least time between two retransmissions of the same packet (the RTT when larger): a
/// NACK repeated before the first retransmission could arrive is not answered again.
pub const MIN_RESEND_INTERVAL: Duration = Duration::from_millis(10);
/// Most sequence numbers looked up per [`RtxHistory::on_nack`] call (a full generic NACK
/// lists at most 256 x 17); the rest are ignored and counted.
pub const MAX_NACK_SEQS_PER_CALL: usize = crate::rtp::MAX_NACK_ITEMS * 17;
/// Most payload type pairs of an [`RtxConfig`].
pub const MAX_RTX_PAYLOAD_TYPES: usize = 32;

/// The negotiated RTX stream (RFC 4588 §8: `a=rtpmap:<rtx> rtx/...`, `a=fmtp:<rtx> apt=`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtxConfig {
    pub ssrc: u32,
    /// `(original payload type, RTX payload type)`, at most [`MAX_RTX_PAYLOAD_TYPES`]. A
    /// packet whose type is not listed is resent unchanged.
    pub payload_types: Vec<(u8, u8)>,
    /// The first RTX sequence number (random, RFC 3550 §5.1).
    pub first_seq: u16,
}

/// Counters of an [`RtxHistory`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtxStats {
    /// Packets stored.
    pub stored: u64,
    /// Packets dropped from the history to stay within its bounds.
    pub evicted: u64,
    /// Packets given to [`RtxHistory::on_packet_sent`] that did not parse: not stored.
    pub unparsable: u64,
    /// Retransmissions produced (W3C `retransmittedPacketsSent`).
    pub retransmitted_packets: u64,
    /// Their bytes on the wire, before SRTP (W3C `retransmittedBytesSent` counts payload:
    /// see `retransmitted_payload_bytes`).
    pub retransmitted_bytes: u64,
    pub retransmitted_payload_bytes: u64,
    /// NACKed sequence numbers not in the history (too old, never sent).
    pub unknown_seqs: u64,
    /// NACKed sequence numbers resent too recently to be resent again.
    pub rate_limited: u64,
    /// NACKed sequence numbers beyond [`MAX_NACK_SEQS_PER_CALL`].
    pub ignored_seqs: u64,
}

/// One packet to send again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retransmission {
    /// The sequence number that was asked for.
    pub original_seq: u16,
    /// The RTP packet (before SRTP): an RTX packet, or the original.
    pub packet: Vec<u8>,
    /// Whether `packet` is an RTX packet (on the RTX SSRC) rather than the original.
    pub is_rtx: bool,
}

#[derive(Clone, Debug)]
struct Sent {
    ext_seq: u64,
    packet: Vec<u8>,
    last_resent: Option<Time>,
}

impl Sent {
    fn cost(&self) -> usize {
        self.packet.capacity() + core::mem::size_of::<Sent>()
    }
}

/// The send history of one SSRC, bounded by [`MAX_RTX_HISTORY_PACKETS`] and
/// [`MAX_RTX_HISTORY_BYTES`] (or smaller bounds given to [`with_limits`](Self::with_limits)).
#[derive(Clone, Debug)]
pub struct RtxHistory {
    writer: RtxWriter,
    packets: VecDeque<Sent>,
    bytes: usize,
    max_packets: usize,
    max_bytes: usize,
    unwrap: SeqUnwrapper,
    stats: RtxStats,
}

impl RtxHistory {
    /// `rtx`: the RTX stream, or `None` to resend original packets unchanged. Payload type
    /// pairs beyond [`MAX_RTX_PAYLOAD_TYPES`] are dropped.
    pub fn new(rtx: Option<RtxConfig>) -> RtxHistory {
        Self::with_limits(rtx, MAX_RTX_HISTORY_PACKETS, MAX_RTX_HISTORY_BYTES)
    }

    /// Like [`new`](Self::new) with bounds of its own (capped at the named ones).
    pub fn with_limits(rtx: Option<RtxConfig>, max_packets: usize, max_bytes: usize) -> Self {
        let rtx = rtx.map(|mut c| {
            c.payload_types.truncate(MAX_RTX_PAYLOAD_TYPES);
            c
        });
        RtxHistory {
            writer: RtxWriter {
                next_seq: rtx.as_ref().map_or(0, |c| c.first_seq),
                rtx,
            },
            packets: VecDeque::new(),
            bytes: 0,
            max_packets: max_packets.min(MAX_RTX_HISTORY_PACKETS),
            max_bytes: max_bytes.min(MAX_RTX_HISTORY_BYTES),
            unwrap: SeqUnwrapper::new(),
            stats: RtxStats::default(),
        }
    }

    pub fn stats(&self) -> RtxStats {
        self.stats
    }

    /// Packets held.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Bytes held, as counted against the bound.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The next RTX sequence number.
    pub fn next_rtx_seq(&self) -> u16 {
        self.writer.next_seq
    }

    /// An RTP packet (before SRTP) was sent: keep a copy. Sequence numbers must go forward
    /// (a packet behind the newest one is not stored, counted as unparsable).
    pub fn on_packet_sent(&mut self, packet: &[u8]) {
        let Ok(p) = RtpPacket::parse(packet) else {
            self.stats.unparsable += 1;
            return;
        };
        let ext_seq = self.unwrap.unwrap(p.header.sequence_number);
        if self.packets.back().is_some_and(|b| b.ext_seq >= ext_seq) {
            self.stats.unparsable += 1;
            return;
        }
        let sent = Sent {
            ext_seq,
            packet: packet.to_vec(),
            last_resent: None,
        };
        let cost = sent.cost();
        if cost > self.max_bytes {
            self.stats.evicted += 1;
            return;
        }
        while self.packets.len() >= self.max_packets || self.bytes + cost > self.max_bytes {
            match self.packets.pop_front() {
                Some(old) => {
                    self.bytes -= old.cost();
                    self.stats.evicted += 1;
                }
                None => break,
            }
        }
        self.bytes += cost;
        self.packets.push_back(sent);
        self.stats.stored += 1;
    }

    /// A NACK asked for these sequence numbers (at most [`MAX_NACK_SEQS_PER_CALL`] are
    /// looked at): the packets to send, each at most once per `max(rtt,
    /// MIN_RESEND_INTERVAL)`.
    pub fn on_nack(&mut self, now: Time, rtt: Duration, seqs: &[u16]) -> Vec<Retransmission> {
        let interval = rtt.max(MIN_RESEND_INTERVAL);
        let extra = seqs.len().saturating_sub(MAX_NACK_SEQS_PER_CALL);
        self.stats.ignored_seqs += u64::try_from(extra).unwrap_or(u64::MAX);
        let mut out = Vec::new();
        for &seq in seqs.iter().take(MAX_NACK_SEQS_PER_CALL) {
            let ext = self.unwrap.peek(seq);
            let Ok(i) = self.packets.binary_search_by_key(&ext, |s| s.ext_seq) else {
                self.stats.unknown_seqs += 1;
                continue;
            };
            let Some(sent) = self.packets.get_mut(i) else {
                continue;
            };
            if sent
                .last_resent
                .is_some_and(|t| now.saturating_since(t) < interval)
            {
                self.stats.rate_limited += 1;
                continue;
            }
            sent.last_resent = Some(now);
            if let Some(r) = self.writer.write(seq, &sent.packet, &mut self.stats) {
                self.stats.retransmitted_packets += 1;
                self.stats.retransmitted_bytes += u64::try_from(r.packet.len()).unwrap_or(0);
                out.push(r);
            }
        }
        out
    }
}

/// Writes retransmissions: the RTX stream and its next sequence number.
#[derive(Clone, Debug)]
struct RtxWriter {
    rtx: Option<RtxConfig>,
    next_seq: u16,
}

impl RtxWriter {
    /// RFC 4588 §4: the RTX packet for a stored one: RTX SSRC and payload type, the next
    /// RTX sequence number, the original timestamp, marker, CSRCs and header extensions,
    /// and a payload of the original sequence number (2 bytes) then the original payload
    /// (padding not kept).
    fn write(&mut self, seq: u16, original: &[u8], stats: &mut RtxStats) -> Option<Retransmission> {
        let p = RtpPacket::parse(original).ok()?;
        let rtx_pt = self.rtx.as_ref().and_then(|c| {
            c.payload_types
                .iter()
                .find(|(o, _)| *o == p.header.payload_type)
                .map(|&(_, r)| (c.ssrc, r))
        });
        let payload_len = u64::try_from(p.payload.len()).unwrap_or(0);
        let Some((ssrc, pt)) = rtx_pt else {
            stats.retransmitted_payload_bytes += payload_len;
            return Some(Retransmission {
                original_seq: seq,
                packet: original.to_vec(),
                is_rtx: false,
            });
        };
        let mut payload = Vec::with_capacity(p.payload.len() + 2);
        payload.extend_from_slice(&p.header.sequence_number.to_be_bytes());
        payload.extend_from_slice(p.payload);
        let header = RtpHeader {
            payload_type: pt,
            sequence_number: self.next_seq,
            ssrc,
            ..p.header
        };
        let mut packet = Vec::new();
        RtpPacket::new(header, &payload).encode(&mut packet).ok()?;
        self.next_seq = self.next_seq.wrapping_add(1);
        stats.retransmitted_payload_bytes += payload_len + 2;
        Some(Retransmission {
            original_seq: seq,
            packet,
            is_rtx: true,
        })
    }
}
