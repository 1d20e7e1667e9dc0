//! RTP and RTCP wire formats: parse and serialize, no state.
//!
//! * [`packet`]: the RTP packet (RFC 3550 §5.1). [`RtpPacket::parse`] borrows from the
//!   datagram (header fields, CSRCs and extension elements inline, payload as a slice,
//!   padding removed); [`RtpPacket::encode`] appends to the caller's `Vec<u8>`.
//! * [`extension`]: RFC 8285 header extensions, one-byte (`0xBEDE`) and two-byte
//!   (`0x100X`) forms, written in the one-byte form when every element fits it;
//!   [`ExtensionMap`] (the `a=extmap` ids) and typed values for `sdes:mid`,
//!   `sdes:rtp-stream-id`, `sdes:repaired-rtp-stream-id`, abs-send-time, transport-wide CC
//!   sequence numbers and audio level (RFC 6464), read at once with [`ExtensionMap::read`].
//! * [`rtcp`]: compound RTCP (RFC 3550 §6; RFC 5506 reduced-size allowed): SR, RR, SDES,
//!   BYE, APP, generic NACK (RFC 4585 §6.2.1, with [`nack_items`] from lost sequence
//!   numbers), PLI (RFC 4585 §6.3.1), FIR (RFC 5104 §4.3.1), REMB
//!   (draft-alvestrand-rmcat-remb), and unknown types kept opaque.
//! * [`twcc`]: transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
//!   §3.1), built from arrival times with [`TransportCc::from_arrivals`].
//! * [`wire_header_len`]: where the payload of a (protected) packet starts, for SRTP.
//! * [`is_rtcp`]: RFC 5761 §4 demultiplexing of RTP and RTCP on one port.
//!
//! Parsers never panic: bad input is an [`RtpError`], and the caller drops the packet.
//! What parses re-serializes to bytes that parse back equal (`fuzz`, and byte for byte for
//! canonical input, as the tests check).
//!
//! # Bounds
//!
//! An RTP packet allocates nothing: at most [`MAX_CSRCS`] CSRCs and [`MAX_EXTENSIONS`]
//! extension elements, held inline. RTCP lists are bounded by the packet's length and by:
//! [`MAX_COMPOUND_PACKETS`] packets per compound, [`MAX_REPORT_BLOCKS`] report blocks,
//! [`MAX_SDES_CHUNKS`] chunks of [`MAX_SDES_ITEMS`] items, [`MAX_BYE_SSRCS`],
//! [`MAX_NACK_ITEMS`], [`MAX_FIR_ENTRIES`], [`MAX_REMB_SSRCS`] and
//! [`MAX_TWCC_STATUSES`] statuses per feedback (a run length chunk could otherwise make 2
//! bytes claim 8191 packets). An [`ExtensionMap`] holds at most
//! [`MAX_EXTENSION_MAP_ENTRIES`] URIs of [`MAX_EXTENSION_URI_LEN`] bytes.

mod error;
pub mod extension;
#[doc(hidden)]
pub mod fuzz;
pub mod packet;
mod reader;
pub mod rtcp;
pub mod twcc;

#[cfg(test)]
mod tests;

pub use error::RtpError;
pub use extension::{
    AbsSendTime, AudioLevel, ExtensionForm, ExtensionKind, ExtensionMap, HeaderExtensions,
    KnownExtensions, MAX_EXTENSIONS, MAX_EXTENSION_MAP_ENTRIES, MAX_EXTENSION_URI_LEN,
};
pub use packet::{wire_header_len, Csrcs, RtpHeader, RtpPacket, MAX_CSRCS, RTP_HEADER_LEN};
pub use rtcp::{
    encode_compound, nack_items, parse_compound, App, Bye, Fir, FirEntry, Nack, NackItem, Pli,
    ReceiverReport, Remb, ReportBlock, RtcpPacket, Sdes, SdesChunk, SdesItem, SenderInfo,
    SenderReport, UnknownPacket, MAX_BYE_SSRCS, MAX_COMPOUND_PACKETS, MAX_FIR_ENTRIES,
    MAX_NACK_ITEMS, MAX_REMB_SSRCS, MAX_REPORT_BLOCKS, MAX_SDES_CHUNKS, MAX_SDES_ITEMS,
};
pub use twcc::{PacketStatus, TransportCc, MAX_TWCC_STATUSES};

/// RFC 5761 §4: on a port shared by RTP and RTCP, a packet whose second byte (marker bit
/// and payload type) is 192-223 is RTCP (packet types 200-206 live there; RTP payload
/// types 64-95 must not be used). Call it on a packet already known to be RTP or RTCP
/// (RFC 7983: first byte 128-191).
pub fn is_rtcp(packet: &[u8]) -> bool {
    matches!(packet.get(1), Some(192..=223))
}
