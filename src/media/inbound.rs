//! A received compound RTCP packet turned into actions for the owner of the streams.

use crate::rtp::rtcp::sdes;
use crate::rtp::{parse_compound, ReportBlock, RtcpPacket, RtpError, SenderInfo, TransportCc};
use crate::Time;

/// Most remote senders of FIR whose last command sequence number we remember (RFC 5104
/// §4.3.1.2: a repeated FIR with the same number is the same request). The oldest is
/// forgotten beyond it.
pub const MAX_FIR_SOURCES: usize = 32;

/// Which keyframe request came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyframeKind {
    Pli,
    Fir { seq: u8 },
}

/// What a received RTCP packet asks of the owner. Route by SSRC: report blocks to the
/// `SendStats` of `block.ssrc`, SRs to the `ReceiveStats` of `ssrc`, NACKs to the
/// `RtxHistory` of `media_ssrc`, keyframe requests to that source's encoder.
#[derive(Clone, Debug, PartialEq)]
pub enum RtcpAction {
    /// A remote source's SR (for LSR / DLSR and `remote-outbound-rtp`).
    SenderReportReceived { ssrc: u32, info: SenderInfo },
    /// A report block about one of our sources, from `reporter`.
    ReportBlockReceived { reporter: u32, block: ReportBlock },
    /// Retransmit these packets of our source `media_ssrc`.
    NackReceived { media_ssrc: u32, seqs: Vec<u16> },
    /// Send a keyframe on our source `media_ssrc` (FIRs already deduplicated).
    KeyframeRequested { media_ssrc: u32, kind: KeyframeKind },
    /// The far end's receive bitrate estimate for these sources.
    RembReceived { bitrate: u64, ssrcs: Vec<u32> },
    /// Transport-wide CC feedback, for a congestion controller.
    TransportCcReceived(TransportCc),
    /// A remote source's CNAME.
    CnameReceived { ssrc: u32, cname: Vec<u8> },
    /// A remote source left (RFC 3550 §6.6).
    ByeReceived { ssrc: u32 },
}

/// Counters of an [`RtcpInbound`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtcpInboundStats {
    pub compounds: u64,
    /// Compounds that did not parse: dropped whole.
    pub malformed: u64,
    /// Report blocks about an SSRC that is not ours.
    pub foreign_blocks: u64,
    /// Feedback about an SSRC that is not ours.
    pub foreign_feedback: u64,
    /// FIRs repeating a command sequence number already seen.
    pub fir_repeats: u64,
    pub nacks: u64,
    pub plis: u64,
    pub firs: u64,
    /// Packets of types or formats nothing here uses (APP, unknown feedback).
    pub ignored: u64,
}

/// Turns received compounds into [`RtcpAction`]s. Knows which SSRCs are ours (to ignore
/// feedback about others) and the last FIR number of each remote sender.
#[derive(Clone, Debug, Default)]
pub struct RtcpInbound {
    /// `(sender ssrc, media ssrc, last FIR seq)`, oldest first.
    pub(super) fir_seen: Vec<(u32, u32, u8)>,
    stats: RtcpInboundStats,
}

impl RtcpInbound {
    pub fn new() -> RtcpInbound {
        RtcpInbound::default()
    }

    pub fn stats(&self) -> RtcpInboundStats {
        self.stats
    }

    /// Handles one compound (after SRTCP): `ours` says whether an SSRC is one of our
    /// sources. Malformed input is an error and yields nothing. Work and output are bounded
    /// by the parser's bounds (at most 32 packets of at most 31 blocks, 256 NACK items ...).
    pub fn handle_rtcp(
        &mut self,
        _now: Time,
        compound: &[u8],
        ours: impl Fn(u32) -> bool,
    ) -> Result<Vec<RtcpAction>, RtpError> {
        let packets = match parse_compound(compound) {
            Ok(p) => p,
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e);
            }
        };
        self.stats.compounds += 1;
        let mut out = Vec::new();
        for p in packets {
            self.handle_packet(p, &ours, &mut out);
        }
        Ok(out)
    }

    fn blocks(
        &mut self,
        reporter: u32,
        blocks: Vec<ReportBlock>,
        ours: &impl Fn(u32) -> bool,
        out: &mut Vec<RtcpAction>,
    ) {
        for block in blocks {
            if ours(block.ssrc) {
                out.push(RtcpAction::ReportBlockReceived { reporter, block });
            } else {
                self.stats.foreign_blocks += 1;
            }
        }
    }

    fn handle_packet(
        &mut self,
        p: RtcpPacket,
        ours: &impl Fn(u32) -> bool,
        out: &mut Vec<RtcpAction>,
    ) {
        match p {
            RtcpPacket::SenderReport(sr) => {
                out.push(RtcpAction::SenderReportReceived {
                    ssrc: sr.ssrc,
                    info: sr.info,
                });
                self.blocks(sr.ssrc, sr.reports, ours, out);
            }
            RtcpPacket::ReceiverReport(rr) => self.blocks(rr.ssrc, rr.reports, ours, out),
            RtcpPacket::Sdes(s) => {
                for c in s.chunks {
                    if let Some(cname) = c.item(sdes::CNAME) {
                        out.push(RtcpAction::CnameReceived {
                            ssrc: c.ssrc,
                            cname: cname.to_vec(),
                        });
                    }
                }
            }
            RtcpPacket::Bye(b) => {
                out.extend(
                    b.ssrcs
                        .into_iter()
                        .map(|ssrc| RtcpAction::ByeReceived { ssrc }),
                );
            }
            RtcpPacket::Nack(n) => {
                if !ours(n.media_ssrc) {
                    self.stats.foreign_feedback += 1;
                    return;
                }
                self.stats.nacks += 1;
                out.push(RtcpAction::NackReceived {
                    media_ssrc: n.media_ssrc,
                    seqs: n.lost(),
                });
            }
            RtcpPacket::Pli(p) => {
                if !ours(p.media_ssrc) {
                    self.stats.foreign_feedback += 1;
                    return;
                }
                self.stats.plis += 1;
                out.push(RtcpAction::KeyframeRequested {
                    media_ssrc: p.media_ssrc,
                    kind: KeyframeKind::Pli,
                });
            }
            RtcpPacket::Fir(f) => {
                for e in f.entries {
                    if !ours(e.ssrc) {
                        self.stats.foreign_feedback += 1;
                        continue;
                    }
                    if !self.fir_is_new(f.sender_ssrc, e.ssrc, e.seq) {
                        self.stats.fir_repeats += 1;
                        continue;
                    }
                    self.stats.firs += 1;
                    out.push(RtcpAction::KeyframeRequested {
                        media_ssrc: e.ssrc,
                        kind: KeyframeKind::Fir { seq: e.seq },
                    });
                }
            }
            RtcpPacket::Remb(r) => out.push(RtcpAction::RembReceived {
                bitrate: r.bitrate(),
                ssrcs: r.ssrcs,
            }),
            RtcpPacket::TransportCc(t) => out.push(RtcpAction::TransportCcReceived(t)),
            RtcpPacket::App(_) | RtcpPacket::Unknown(_) => self.stats.ignored += 1,
        }
    }

    /// RFC 5104 §4.3.1.2: a FIR whose sequence number equals the last one from the same
    /// sender for the same source is a repetition.
    fn fir_is_new(&mut self, sender: u32, media: u32, seq: u8) -> bool {
        if let Some(i) = self
            .fir_seen
            .iter()
            .position(|&(s, m, _)| s == sender && m == media)
        {
            let (_, _, last) = self.fir_seen.remove(i);
            self.fir_seen.push((sender, media, seq));
            return last != seq;
        }
        if self.fir_seen.len() >= MAX_FIR_SOURCES {
            self.fir_seen.remove(0);
        }
        self.fir_seen.push((sender, media, seq));
        true
    }
}
