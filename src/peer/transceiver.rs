//! Transceivers (W3C `RTCRtpTransceiver`, JSEP §4.1.1): one per audio/video m-line, with
//! what the descriptions negotiated for it and the state of its sending and receiving RTP
//! streams. The [`Peer`](super::Peer) owns them; hosts see [`TransceiverInfo`] snapshots.

use crate::codec::{Depacketizer, FrameAssembler, Packetizer};
use crate::sdp::media::{Codec, Direction, HeaderExtension, MediaKind, MediaSection};

/// Handle of one transceiver inside a [`Peer`](super::Peer).
pub type TransceiverId = u32;

/// Most transceivers one peer keeps (stopped ones included until their m-line is gone;
/// each remote offer's audio/video section may create one).
pub const MAX_TRANSCEIVERS: usize = 256;
/// Remote SSRCs routed to transceivers (learned from `a=ssrc`, the MID header extension or a
/// payload type); packets of further SSRCs are dropped and counted.
pub const MAX_ROUTED_SSRCS: usize = 1024;
/// Inbound streams (SSRCs) assembled into frames over all transceivers; each assembler holds
/// at most [`crate::codec::MAX_PENDING_BYTES`], so this bounds what a peer's media can make us
/// hold (`inbound_rtp` still counts the packets of further streams).
pub const MAX_RECEIVE_STREAMS: usize = 32;
/// Largest RTP payload we send (a 1200-byte datagram budget minus header, extensions and the
/// SRTP tag, as browsers keep their packets under common tunnel MTUs).
pub const MAX_RTP_PAYLOAD: usize = 1100;
/// Largest encoded frame accepted from the application (a 4K key frame fits).
pub const MAX_SEND_FRAME_BYTES: usize = crate::codec::MAX_FRAME_BYTES;

/// W3C `RTCRtpEncodingParameters`, as far as the core uses them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Encoding {
    pub rid: Option<String>,
    pub active: bool,
    pub max_bitrate: Option<u32>,
    pub max_framerate: Option<f64>,
    pub scale_resolution_down_by: Option<f64>,
}

/// `addTransceiver()` / `addTrack()` arguments, validated by the JS layer.
#[derive(Clone, Debug, PartialEq)]
pub struct TransceiverInit {
    pub kind: MediaKind,
    pub direction: Direction,
    /// The sender's `MediaStream` ids (`a=msid`).
    pub stream_ids: Vec<String>,
    /// The sender's track id, when it has a track.
    pub track_id: Option<String>,
    /// Created by `addTrack()`: a remote offer's section of the same kind may take it.
    pub from_add_track: bool,
    pub send_encodings: Vec<Encoding>,
}

/// What a host (and the W3C layer) sees of one transceiver.
#[derive(Clone, Debug, PartialEq)]
pub struct TransceiverInfo {
    pub id: TransceiverId,
    pub kind: MediaKind,
    pub mid: Option<String>,
    pub direction: Direction,
    /// The direction negotiated by the last answer (`None` before one, or once stopped).
    pub current_direction: Option<Direction>,
    pub stopping: bool,
    pub stopped: bool,
    /// The `a=msid` stream ids of the remote section.
    pub remote_stream_ids: Vec<String>,
    /// The applied descriptions let this transceiver receive (the answer's direction, or the
    /// remote offer's reversed).
    pub receiving: bool,
    /// The negotiated codecs (the remote section's payload types) and header extensions.
    pub codecs: Vec<Codec>,
    pub header_extensions: Vec<HeaderExtension>,
    pub rtcp_reduced_size: bool,
    pub sender_ssrc: u32,
    pub sender_rtx_ssrc: Option<u32>,
    /// Every stream we send (simulcast layers after the first).
    pub send_layers: Vec<SendLayer>,
    pub remote_ssrcs: Vec<u32>,
    pub stream_ids: Vec<String>,
    pub track_id: Option<String>,
    pub encodings: Vec<Encoding>,
    pub mline_index: Option<usize>,
}

/// The part of a transceiver that descriptions change: saved before an offer is applied and
/// restored by its rollback.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Negotiation {
    pub mid: Option<String>,
    pub current_direction: Option<Direction>,
    pub stopped: bool,
    /// The remote description's section for this transceiver (codecs with its payload types).
    pub remote: Option<MediaSection>,
    /// Our section in the last applied local description.
    pub local: Option<MediaSection>,
    pub receiving: bool,
    /// Its m-line index in the description applied last.
    pub mline_index: Option<usize>,
    /// The rids of the simulcast layers negotiated for sending (RFC 8853), in encoding
    /// order with whether the answer paused them (`~`); `None`: no simulcast, the first
    /// stream only, without a rid.
    pub simulcast: Option<Vec<(String, bool)>>,
}

/// RTCP feedback messages about one RTP stream, by kind (W3C `nackCount`, `pliCount`,
/// `firCount`): those we sent about a remote stream (`inbound-rtp`), or those the peer sent
/// about ours (`outbound-rtp`). Each NACK packet counts once, however many sequence numbers
/// it names; a FIR once per entry for the stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedbackCounts {
    pub nacks: u64,
    pub plis: u64,
    pub firs: u64,
}

/// Most send encodings (simulcast layers) one transceiver has (Chromium's limit too).
pub const MAX_SEND_ENCODINGS: usize = 4;

/// One RTP stream we send: a transceiver has one, or one per simulcast layer (`rid`).
pub(super) struct SendStream {
    pub ssrc: u32,
    /// Its RTX stream (video with RTX negotiated).
    pub rtx_ssrc: u32,
    /// The layer's RTP stream id (RFC 8852), sent in the RID extension while simulcast is
    /// negotiated.
    pub rid: Option<String>,
    pub packetizer: Option<(crate::codec::Codec, Box<dyn Packetizer>)>,
    pub sequence: u16,
    pub timestamp_offset: u32,
    pub packets: u64,
    pub bytes: u64,
    pub frames: u64,
    /// The last frame's RTP timestamp and the time it was sent.
    pub last_timestamp: Option<(u32, crate::time::Time)>,
    /// SR figures and the peer's reports about this stream (from the first packet sent).
    pub stats: Option<crate::media::SendStats>,
    /// Recently sent packets, to answer NACKs (RTX when negotiated).
    pub history: Option<crate::media::RtxHistory>,
    /// What `record_sent` saw: header (and padding) bytes and the payload type last sent.
    pub sent: SentCounters,
}

/// Figures of the packets a [`SendStream`] sent that its other counters do not keep
/// (W3C `headerBytesSent`, and the payload type for `codecId`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct SentCounters {
    pub header_bytes: u64,
    pub payload_type: Option<u8>,
    /// The peer's NACK, PLI and FIR about this stream.
    pub feedback: FeedbackCounts,
}

pub(super) struct ReceiveStream {
    pub ssrc: u32,
    /// Its RTP stream id (RFC 8852, simulcast layers), once a packet carried one.
    pub rid: Option<String>,
    /// The RTX stream repairing it, once learned.
    pub rtx_ssrc: Option<u32>,
    pub codec: crate::codec::Codec,
    pub assembler: FrameAssembler<Box<dyn Depacketizer>>,
    /// Assembled frames (with their MIME type) put back in sequence order before they become
    /// [`PeerEvent::MediaFrame`](super::PeerEvent::MediaFrame)s, waiting a bounded time for
    /// a gap a retransmission may fill.
    pub jitter: crate::media::JitterBuffer<(crate::codec::Frame, String)>,
    pub stats: crate::media::ReceiveStats,
    /// NACK generation, when the codec negotiated `nack`.
    pub nack: Option<crate::media::NackGenerator>,
    pub unwrapper: crate::media::SeqUnwrapper,
    /// RTP timestamps unwrapped from the stream's first frame: `(last raw, last extended)`.
    pub timestamps: Option<(u32, i64)>,
    pub clock_rate: u32,
    /// Video: asks the sender for a key frame (PLI, rate limited) when a frame is lost for
    /// good (the decoder cannot go on from the next delta frame).
    pub keyframes: Option<crate::media::KeyframeRequester>,
    /// The assembler's dropped-frame count when last looked at.
    pub frames_dropped_seen: u64,
    /// NACK, PLI and FIR we sent about this stream.
    pub feedback_sent: FeedbackCounts,
}

impl ReceiveStream {
    /// A frame's presentation time in µs from the stream's first frame (RTP timestamps
    /// unwrapped; a frame before the first one counts as 0).
    pub fn frame_time_us(&mut self, rtp_timestamp: u32) -> u64 {
        let ext = match self.timestamps {
            None => 0,
            Some((raw, ext)) => ext + i64::from(rtp_timestamp.wrapping_sub(raw) as i32),
        };
        if self.timestamps.is_none_or(|(_, e)| ext > e) {
            self.timestamps = Some((rtp_timestamp, ext));
        }
        let ticks = u64::try_from(ext).unwrap_or(0);
        ticks.saturating_mul(1_000_000) / u64::from(self.clock_rate.max(1))
    }
}

pub(super) struct Transceiver {
    pub id: TransceiverId,
    pub kind: MediaKind,
    pub direction: Direction,
    /// The mid `create_offer` gave it before a description carrying it was applied.
    pub proposed_mid: Option<String>,
    pub stopping: bool,
    pub from_add_track: bool,
    /// Created by applying a remote offer (removed by that offer's rollback).
    pub created_by_remote_offer: bool,
    pub codec_preferences: Vec<Codec>,
    pub stream_ids: Vec<String>,
    pub track_id: Option<String>,
    /// W3C `[[SendEncodings]]`: one per [`Transceiver::send`] stream (empty: one stream
    /// with default parameters).
    pub encodings: Vec<Encoding>,
    pub neg: Negotiation,
    /// The streams we send, never empty: the first is the transceiver's (its SSRC sends our
    /// RTCP), the others simulcast layers, in encoding order.
    pub send: Vec<SendStream>,
    pub receive: Vec<ReceiveStream>,
    /// Hand received RTP packets to the host (`PeerEvent::RtpReceived`).
    pub deliver_rtp: bool,
    /// Its simulcast layers were made by a remote offer's `a=simulcast:recv` (undone if that
    /// offer is rolled back).
    pub layers_from_offer: bool,
}

impl Transceiver {
    pub fn info(&self) -> TransceiverInfo {
        let remote = self.neg.remote.as_ref();
        TransceiverInfo {
            id: self.id,
            kind: self.kind,
            mid: self.neg.mid.clone(),
            direction: self.direction,
            current_direction: if self.neg.stopped { None } else { self.neg.current_direction },
            stopping: self.stopping,
            stopped: self.neg.stopped,
            remote_stream_ids: remote
                .map(|r| r.msids.iter().filter(|(s, _)| s != "-").map(|(s, _)| s.clone()).collect())
                .unwrap_or_default(),
            receiving: self.neg.receiving && !self.neg.stopped,
            codecs: remote.map(|r| r.codecs.clone()).unwrap_or_default(),
            header_extensions: remote.map(|r| r.extensions.clone()).unwrap_or_default(),
            rtcp_reduced_size: remote.is_some_and(|r| r.rtcp_rsize),
            sender_ssrc: self.ssrc(),
            sender_rtx_ssrc: (self.kind == MediaKind::Video).then_some(self.send[0].rtx_ssrc),
            send_layers: self
                .send
                .iter()
                .map(|l| SendLayer {
                    rid: l.rid.clone(),
                    ssrc: l.ssrc,
                    rtx_ssrc: (self.kind == MediaKind::Video).then_some(l.rtx_ssrc),
                    sending: self.layer_sending(l),
                })
                .collect(),
            remote_ssrcs: remote.map(|r| r.ssrcs.iter().map(|s| s.ssrc).collect()).unwrap_or_default(),
            stream_ids: self.stream_ids.clone(),
            track_id: self.track_id.clone(),
            encodings: self.encodings.clone(),
            mline_index: self.neg.mline_index,
        }
    }

    /// Whether this transceiver sends now: negotiated to, not stopped, with a track.
    pub fn sending(&self) -> bool {
        !self.neg.stopped && !self.stopping && self.track_id.is_some()
            && self.neg.current_direction.is_some_and(Direction::sends)
    }

    /// The SSRC our RTCP for this transceiver goes out with: its first stream's.
    pub fn ssrc(&self) -> u32 {
        self.send[0].ssrc
    }

    /// Whether stream `l` sends now: the transceiver does, the layer is negotiated (the
    /// first one alone without simulcast), not paused by the answer, and its encoding is
    /// `active`.
    pub fn layer_sending(&self, l: &SendStream) -> bool {
        if !self.sending() {
            return false;
        }
        let index = self.send.iter().position(|s| core::ptr::eq(s, l)).unwrap_or(usize::MAX);
        let negotiated = match (&self.neg.simulcast, &l.rid) {
            (Some(rids), Some(rid)) => rids.iter().any(|(r, paused)| r == rid && !paused),
            _ => index == 0,
        };
        negotiated && self.encodings.get(index).is_none_or(|e| e.active)
    }

    /// The stream index a frame or packet for layer `rid` goes on (`None`: the first).
    pub fn layer_index(&self, rid: Option<&str>) -> Option<usize> {
        match rid {
            None => Some(0),
            Some(r) => self.send.iter().position(|l| l.rid.as_deref() == Some(r)),
        }
    }
}

/// One of our send streams as a host sees it (`RTCRtpSender.getParameters().encodings`,
/// `outbound-rtp` per layer).
#[derive(Clone, Debug, PartialEq)]
pub struct SendLayer {
    pub rid: Option<String>,
    pub ssrc: u32,
    pub rtx_ssrc: Option<u32>,
    /// Negotiated, not paused and `active`: frames written for it go out.
    pub sending: bool,
}
