//! Standalone feedback packets (RFC 4585 §6, RFC 5104 §4.3.1, transport-wide CC), each
//! sendable on its own as reduced-size RTCP (RFC 5506) when `a=rtcp-rsize` was negotiated,
//! or after [`with_report`] otherwise (RFC 3550 §6.1: a compound starts with an SR or RR
//! and carries an SDES CNAME).

use crate::rtp::rtcp::MAX_SDES_VALUE_LEN;
use crate::rtp::{
    nack_items, Fir, FirEntry, Nack, Pli, ReceiverReport, Remb, RtcpPacket, Sdes, SdesChunk,
    TransportCc, MAX_NACK_ITEMS,
};

/// NACK items per packet we build: one under [`MAX_NACK_ITEMS`], which the parser accepts
/// but `RtcpPacket::encode` refuses (its count check goes through a `u8`).
pub const NACK_ITEMS_PER_PACKET: usize = MAX_NACK_ITEMS - 1;

/// Generic NACKs for these lost sequence numbers (in increasing, wrapping order): one
/// packet per [`NACK_ITEMS_PER_PACKET`] items.
pub fn nacks(sender_ssrc: u32, media_ssrc: u32, lost: &[u16]) -> Vec<RtcpPacket> {
    nack_items(lost)
        .chunks(NACK_ITEMS_PER_PACKET)
        .map(|items| {
            RtcpPacket::Nack(Nack {
                sender_ssrc,
                media_ssrc,
                items: items.to_vec(),
            })
        })
        .collect()
}

/// A picture loss indication.
pub fn pli(sender_ssrc: u32, media_ssrc: u32) -> RtcpPacket {
    RtcpPacket::Pli(Pli {
        sender_ssrc,
        media_ssrc,
    })
}

/// A full intra request for one source (RFC 5104 §4.3.1: the media SSRC field is 0).
pub fn fir(sender_ssrc: u32, media_ssrc: u32, seq: u8) -> RtcpPacket {
    RtcpPacket::Fir(Fir {
        sender_ssrc,
        media_ssrc: 0,
        entries: vec![FirEntry {
            ssrc: media_ssrc,
            seq,
        }],
    })
}

/// A REMB for `bitrate` bits per second.
pub fn remb(sender_ssrc: u32, bitrate: u64, ssrcs: Vec<u32>) -> RtcpPacket {
    RtcpPacket::Remb(Remb::new(sender_ssrc, bitrate, ssrcs))
}

/// A transport-wide CC feedback packet.
pub fn transport_cc(feedback: TransportCc) -> RtcpPacket {
    RtcpPacket::TransportCc(feedback)
}

/// The feedback as a full compound (no `rtcp-rsize`): an empty RR from `ssrc`, its SDES
/// CNAME (cut to 255 bytes), then the feedback packets.
pub fn with_report(ssrc: u32, cname: &str, feedback: Vec<RtcpPacket>) -> Vec<RtcpPacket> {
    let cname = cname.as_bytes();
    let cname = cname.get(..MAX_SDES_VALUE_LEN).unwrap_or(cname);
    let mut out = vec![
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc,
            reports: Vec::new(),
            extension: Vec::new(),
        }),
        RtcpPacket::Sdes(Sdes {
            chunks: vec![SdesChunk {
                ssrc,
                items: vec![crate::rtp::SdesItem {
                    kind: crate::rtp::rtcp::sdes::CNAME,
                    value: cname.to_vec(),
                }],
            }],
        }),
    ];
    out.extend(feedback);
    out
}
