//! RTCP for the transceivers' streams ([`crate::media`] does the arithmetic): SR/RR with
//! SDES on a randomized interval, NACK for lost packets and RTX (or plain resends) to answer
//! the peer's, transport-wide CC feedback, RTT from the peer's report blocks.

use super::*;
use crate::peer::transceiver::FeedbackCounts;
use core::time::Duration;
use crate::media::{feedback, NtpClock, RtcpAction, RtcpScheduler, RtxConfig, RtxHistory, SendStats, REPORT_INTERVAL_VIDEO};
use crate::rtp::rtcp::{self, RtcpPacket};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET_S: u64 = 2_208_988_800;

/// The NTP clock of a peer created at Unix time `unix_ms` (the host's `Time` origin is
/// unknown here: any fixed offset gives correct RTTs, RFC 3550 §6.4.1).
pub(super) fn ntp_clock(unix_ms: u64) -> NtpClock {
    let secs = unix_ms / 1000 + NTP_UNIX_OFFSET_S;
    let frac = ((unix_ms % 1000) << 32) / 1000;
    NtpClock::new((secs << 32) | frac)
}

impl Peer {
    fn rtt(&self) -> Duration {
        self.measured_rtt().unwrap_or(Duration::ZERO)
    }

    pub(super) fn can_send_rtcp(&self) -> bool {
        self.srtp.is_some() && self.send_path().is_some() && !self.closed
    }

    /// What the send side records for one RTP packet stream `li` of transceiver `ti` sent
    /// (`ts` its RTP timestamp).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_sent(&mut self, now: Time, ti: usize, li: usize, packet: &[u8], ts: u32, payload_len: usize, clock_rate: u32) {
        let ntp = self.ntp;
        let first_seq = self.rng.u32() as u16;
        let t = &mut self.transceivers[ti];
        let remote = t.neg.remote.as_ref();
        let l = &mut t.send[li];
        let stats = l.stats.get_or_insert_with(|| SendStats::new(l.ssrc, clock_rate, ntp));
        stats.on_packet_sent(now, ts, payload_len);
        l.sent.header_bytes += packet.len().saturating_sub(payload_len) as u64;
        l.sent.payload_type = packet.get(1).map(|b| b & 0x7f);
        if l.history.is_none() {
            let pts: Vec<(u8, u8)> = remote
                .map(|r| r.codecs.iter().filter_map(|c| c.rtx.map(|x| (c.payload_type, x))).collect())
                .unwrap_or_default();
            let config = (!pts.is_empty()).then_some(RtxConfig { ssrc: l.rtx_ssrc, payload_types: pts, first_seq });
            l.history = Some(RtxHistory::new(config));
        }
        if let Some(h) = l.history.as_mut() {
            h.on_packet_sent(packet);
        }
    }

    /// A received compound: report blocks give RTT, SRs are kept for our reports, NACKs
    /// are answered from the send history, PLI/FIR become [`PeerEvent::KeyframeRequested`].
    pub(super) fn receive_rtcp(&mut self, now: Time, packet: &[u8]) {
        let ours: Vec<u32> = self.transceivers.iter().flat_map(|t| t.send.iter()).flat_map(|l| [l.ssrc, l.rtx_ssrc]).collect();
        let Ok(actions) = self.rtcp_inbound.handle_rtcp(now, packet, |s| ours.contains(&s)) else { return };
        let rtt = self.rtt();
        for a in actions {
            match a {
                RtcpAction::SenderReportReceived { ssrc, info } => {
                    for t in &mut self.transceivers {
                        for r in t.receive.iter_mut().filter(|r| r.ssrc == ssrc) {
                            r.stats.on_sender_report(now, info);
                        }
                    }
                }
                RtcpAction::ReportBlockReceived { block, .. } => {
                    let layer = self.transceivers.iter_mut().flat_map(|t| t.send.iter_mut()).find(|l| l.ssrc == block.ssrc);
                    if let Some(s) = layer.and_then(|l| l.stats.as_mut()) {
                        s.on_report_block(now, &block);
                    }
                }
                RtcpAction::NackReceived { media_ssrc, seqs } => {
                    let Some(t) = self.transceivers.iter_mut().find(|t| t.send.iter().any(|l| l.ssrc == media_ssrc)) else { continue };
                    if let Some(l) = t.send.iter_mut().find(|l| l.ssrc == media_ssrc) {
                        l.sent.feedback.nacks += 1;
                    }
                    let remote = t.neg.remote.as_ref();
                    let twcc_id = remote.and_then(|r| r.extension_id(crate::sdp::media::ext::TRANSPORT_CC));
                    // RFC 8852 §3.2: a layer's retransmissions name it in repaired-rid.
                    let rid_ids = t.neg.simulcast.as_ref().and(remote).and_then(|r| {
                        r.extension_id(crate::sdp::media::ext::RID).zip(r.extension_id(crate::sdp::media::ext::REPAIRED_RID))
                    });
                    let Some(h) = t.send.iter_mut().find(|l| l.ssrc == media_ssrc).and_then(|l| l.history.as_mut()) else { continue };
                    let resend = h.on_nack(now, rtt, &seqs);
                    self.stats.rtp_retransmitted += resend.len() as u64;
                    for r in resend {
                        // A retransmission is a packet of its own for transport-wide CC: a
                        // fresh sequence number, not the original's.
                        let twcc = twcc_id.map(|id| {
                            let seq = self.twcc_sequence;
                            self.twcc_sequence = seq.wrapping_add(1);
                            (id, seq)
                        });
                        let rid = rid_ids.filter(|_| r.is_rtx);
                        let packet = if twcc.is_some() || rid.is_some() {
                            rewrite_extensions(&r.packet, twcc, rid).unwrap_or(r.packet)
                        } else {
                            r.packet
                        };
                        if self.protect_and_queue(&packet, false).is_err() {
                            break;
                        }
                    }
                }
                RtcpAction::KeyframeRequested { media_ssrc, kind } => {
                    if let Some(l) = self.transceivers.iter_mut().flat_map(|t| t.send.iter_mut()).find(|l| l.ssrc == media_ssrc) {
                        let counts = &mut l.sent.feedback;
                        match kind {
                            crate::media::KeyframeKind::Pli => counts.plis += 1,
                            crate::media::KeyframeKind::Fir { .. } => counts.firs += 1,
                        }
                    }
                    if let Some(t) = self.transceivers.iter().find(|t| t.send.iter().any(|l| l.ssrc == media_ssrc) && t.sending()) {
                        let ev = PeerEvent::KeyframeRequested { transceiver: t.id };
                        if !self.events.contains(&ev) {
                            self.events.push_back(ev);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Whether the compound went out (encoded, protected and queued).
    fn send_compound(&mut self, packets: &[RtcpPacket]) -> bool {
        let mut out = Vec::new();
        let sent = rtcp::encode_compound(packets, &mut out).is_ok() && self.protect_and_queue(&out, true).is_ok();
        if sent {
            self.stats.rtcp_sent += 1;
        }
        sent
    }

    /// Feedback alone when the section negotiated reduced-size RTCP, else behind an RR.
    /// What went out is counted on the remote stream it is about (`nackCount`, `pliCount`,
    /// `firCount`), whichever path asked for it (NACK generator, keyframe requester, the
    /// application's `request_keyframe`).
    pub(super) fn send_feedback(&mut self, reduced: bool, sender_ssrc: u32, fb: Vec<RtcpPacket>) {
        if fb.is_empty() {
            return;
        }
        let packets = if reduced { fb } else { feedback::with_report(sender_ssrc, &self.cname, fb) };
        if self.send_compound(&packets) {
            for p in &packets {
                self.count_feedback_sent(p);
            }
        }
    }

    fn count_feedback_sent(&mut self, packet: &RtcpPacket) {
        let mut bump = |ssrc: u32, f: fn(&mut FeedbackCounts)| {
            let stream = self.transceivers.iter_mut().flat_map(|t| t.receive.iter_mut()).find(|r| r.ssrc == ssrc);
            if let Some(r) = stream {
                f(&mut r.feedback_sent);
            }
        };
        match packet {
            RtcpPacket::Nack(n) => bump(n.media_ssrc, |c| c.nacks += 1),
            RtcpPacket::Pli(p) => bump(p.media_ssrc, |c| c.plis += 1),
            RtcpPacket::Fir(f) => {
                for e in &f.entries {
                    bump(e.ssrc, |c| c.firs += 1);
                }
            }
            _ => {}
        }
    }

    /// Due RTCP: the regular reports, NACKs, keyframe requests' retries, TWCC feedback.
    pub(super) fn handle_rtcp_timeout(&mut self, now: Time) {
        if !self.can_send_rtcp() || self.transceivers.iter().all(|t| t.neg.remote.is_none()) {
            return;
        }
        let receiver_ssrc = self.transceivers.first().map_or(1, Transceiver::ssrc);
        let scheduler = self.rtcp_scheduler.get_or_insert_with(|| RtcpScheduler::new(now, REPORT_INTERVAL_VIDEO, self.rng.fork()));
        if scheduler.poll_due(now) {
            let mut senders = Vec::new();
            let mut receivers = Vec::new();
            for t in &mut self.transceivers {
                let Transceiver { send, receive, .. } = t;
                senders.extend(send.iter_mut().filter_map(|l| l.stats.as_mut()));
                receivers.extend(receive.iter_mut().map(|r| &mut r.stats));
            }
            let compounds = crate::media::build_reports(now, senders, receivers, receiver_ssrc, &self.cname);
            for c in compounds {
                self.send_compound(&c);
            }
        }
        let rtt = self.rtt();
        let mut fb: Vec<(bool, u32, Vec<RtcpPacket>)> = Vec::new();
        for t in &mut self.transceivers {
            let reduced = t.neg.remote.as_ref().is_some_and(|r| r.rtcp_rsize);
            let ssrc = t.ssrc();
            for r in &mut t.receive {
                if let Some(n) = r.nack.as_mut() {
                    let lost = n.poll_nack(now, rtt);
                    if !lost.is_empty() {
                        fb.push((reduced, ssrc, feedback::nacks(ssrc, r.ssrc, &lost)));
                    }
                }
                if let Some(pli) = r.keyframes.as_mut().and_then(|k| k.poll_request(now)) {
                    fb.push((reduced, ssrc, vec![pli]));
                }
            }
        }
        if let Some(tw) = self.twcc.as_mut() {
            let packets: Vec<RtcpPacket> = tw.poll_feedback(now).into_iter().map(feedback::transport_cc).collect();
            if !packets.is_empty() {
                let reduced = self.transceivers.iter().any(|t| t.neg.remote.as_ref().is_some_and(|r| r.rtcp_rsize));
                fb.push((reduced, receiver_ssrc, packets));
            }
        }
        for (reduced, ssrc, packets) in fb {
            self.send_feedback(reduced, ssrc, packets);
        }
    }

    /// The earliest RTCP deadline (reports, NACK retries, TWCC feedback).
    pub(super) fn rtcp_timeout(&self) -> Option<Time> {
        if !self.can_send_rtcp() || self.transceivers.iter().all(|t| t.neg.remote.is_none()) {
            return None;
        }
        // No scheduler yet: the first report is scheduled at the next wake-up.
        let Some(scheduler) = self.rtcp_scheduler.as_ref() else { return Some(Time::ZERO) };
        let rtt = self.rtt();
        let mut t = Some(scheduler.poll_timeout());
        for tr in &self.transceivers {
            for r in &tr.receive {
                t = earliest(t, r.nack.as_ref().and_then(|n| n.poll_timeout(rtt)));
                t = earliest(t, r.keyframes.as_ref().and_then(|k| k.poll_timeout()));
            }
        }
        earliest(t, self.twcc.as_ref().and_then(|w| w.poll_timeout()))
    }
}

/// A retransmission's header extensions rewritten: its transport-cc extension (`twcc`: id
/// and sequence number) set to a fresh number, and (`rid`: the RID and repaired-RID ids) its
/// RID moved to repaired-RID; `None` when it has no transport-cc extension to set or does
/// not parse.
fn rewrite_extensions(packet: &[u8], twcc: Option<(u8, u16)>, rid: Option<(u8, u8)>) -> Option<Vec<u8>> {
    let p = crate::rtp::RtpPacket::parse(packet).ok()?;
    if let Some((id, _)) = twcc {
        p.header.extensions.get(id)?;
    }
    let value = twcc.map(|(_, seq)| seq.to_be_bytes());
    let mut ext = crate::rtp::HeaderExtensions::new();
    for (eid, data) in p.header.extensions.iter() {
        match (twcc, value.as_ref(), rid) {
            (Some((id, _)), Some(v), _) if eid == id => ext.push(eid, v).ok()?,
            (_, _, Some((rid_id, repaired_id))) if eid == rid_id => ext.push(repaired_id, data).ok()?,
            _ => ext.push(eid, data).ok()?,
        }
    }
    let mut header = p.header;
    header.extensions = ext;
    let mut out = Vec::with_capacity(packet.len());
    crate::rtp::RtpPacket { header, payload: p.payload, padding: p.padding }.encode(&mut out).ok()?;
    Some(out)
}

/// What one of our RTP streams sent, and what the peer reported about it (W3C
/// `RTCOutboundRtpStreamStats` and `RTCRemoteInboundRtpStreamStats`).
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundRtp {
    pub transceiver: TransceiverId,
    pub ssrc: u32,
    pub mid: Option<String>,
    /// The simulcast layer's rid (W3C `rid`), while simulcast is negotiated.
    pub rid: Option<String>,
    pub kind: crate::sdp::media::MediaKind,
    pub packets: u64,
    /// Payload bytes.
    pub bytes: u64,
    pub frames: u64,
    pub retransmitted_packets: u64,
    pub retransmitted_bytes: u64,
    /// RTP header and padding bytes of the packets sent (`headerBytesSent`).
    pub header_bytes: u64,
    /// The codec of the last packet sent (payload type and all, from the remote section:
    /// the payload types we send are the ones the peer's description gave).
    pub codec: Option<crate::sdp::media::Codec>,
    /// The layer's encoding is `active` (W3C `active`).
    pub active: bool,
    /// NACK, PLI and FIR the peer sent about this stream.
    pub feedback_received: FeedbackCounts,
    /// From the peer's report blocks, once one came.
    pub remote: Option<crate::media::RemoteInbound>,
}

/// What we know of one remote stream beyond its packets: loss and jitter (RFC 3550 A.3,
/// A.8), the feedback we sent about it, and its last SR (`remote-outbound-rtp`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct InboundFeedback {
    pub ssrc: u32,
    /// Polls of the NACK generator that asked for something (each one NACK packet unless
    /// more than [`crate::media::feedback::NACK_ITEMS_PER_PACKET`] items were due).
    pub nacks_sent: u64,
    /// NACK, PLI and FIR packets sent about this stream (`nackCount`, `pliCount`, `firCount`).
    pub feedback_sent: FeedbackCounts,
    pub packets_lost: i64,
    pub jitter_s: f64,
    /// The RTX stream repairing it, once one packet of it came.
    pub rtx_ssrc: Option<u32>,
    /// The last SR of this source, if one came.
    pub remote_sender: Option<crate::media::RemoteSender>,
}

impl Peer {
    /// Our sending streams (those that sent at least one packet).
    pub fn outbound_rtp(&self) -> Vec<OutboundRtp> {
        self.transceivers
            .iter()
            .flat_map(|t| t.send.iter().map(move |l| (t, l)))
            .filter(|(_, l)| l.packets > 0)
            .map(|(t, l)| {
                let rtx = l.history.as_ref().map(RtxHistory::stats).unwrap_or_default();
                OutboundRtp {
                    transceiver: t.id,
                    ssrc: l.ssrc,
                    mid: t.neg.mid.clone(),
                    rid: l.rid.clone().filter(|_| t.neg.simulcast.is_some()),
                    kind: t.kind,
                    packets: l.packets,
                    bytes: l.bytes,
                    frames: l.frames,
                    retransmitted_packets: rtx.retransmitted_packets,
                    retransmitted_bytes: rtx.retransmitted_payload_bytes,
                    header_bytes: l.sent.header_bytes,
                    codec: l.sent.payload_type.and_then(|pt| t.neg.remote.as_ref()?.codec_for(pt).cloned()),
                    // The layer's encoding (by rid), else the only one.
                    active: t.encodings.iter().find(|e| e.rid == l.rid).or(t.encodings.first()).is_none_or(|e| e.active),
                    feedback_received: l.sent.feedback,
                    remote: l.stats.as_ref().filter(|s| s.remote_inbound().reports_received > 0).map(|s| *s.remote_inbound()),
                }
            })
            .collect()
    }

    /// Forgets what was sent (tests: a loss nothing can repair).
    #[cfg(test)]
    pub(crate) fn forget_send_history(&mut self) {
        for l in self.transceivers.iter_mut().flat_map(|t| t.send.iter_mut()) {
            l.history = None;
        }
    }

    /// Loss, jitter and NACKs of the remote streams we receive.
    pub fn inbound_feedback(&self) -> Vec<InboundFeedback> {
        let mut out = Vec::new();
        for t in &self.transceivers {
            for r in &t.receive {
                out.push(InboundFeedback {
                    ssrc: r.ssrc,
                    nacks_sent: r.nack.as_ref().map_or(0, |n| n.stats().nack_polls),
                    feedback_sent: r.feedback_sent,
                    packets_lost: r.stats.lost(),
                    jitter_s: r.stats.jitter_seconds(),
                    rtx_ssrc: r.rtx_ssrc,
                    remote_sender: r.stats.last_sender_report().copied(),
                });
            }
        }
        out
    }
}
