//! The event objects of the engine contract (`napi/engine-contract.md`): every
//! `PeerEvent` as a small owned tree ([`Obj`] of [`Val`]), built on any thread and free of
//! any JS binding. The Node addon (napi) and the WASM engine (`src/wasm/`) each turn it into
//! their runtime's objects, so both engines hand the JS layer exactly the same events.

use crate::peer::{IceCandidateInit, PeerEvent, TransceiverInfo};
use crate::sdp::media::{default_codecs, default_extensions, Codec, MediaKind};

mod stats;
pub use stats::stats_obj;

/// At most this many events go into one batch; a wake-up producing more sends several.
pub const MAX_BATCH_EVENTS: usize = 1024;

#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Bytes(Vec<u8>),
    Obj(Obj),
    /// An array (getStats lists).
    List(Vec<Val>),
}

impl Val {
    fn weight(&self) -> usize {
        match self {
            Val::Str(x) => x.len(),
            Val::Bytes(x) => x.len(),
            Val::Obj(o) => o.weight(),
            Val::List(l) => l.iter().map(|v| 16 + v.weight()).sum(),
            Val::Num(_) | Val::Bool(_) | Val::Null => 0,
        }
    }
}

/// A plain object; field order is kept (`type` first).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Obj(pub Vec<(&'static str, Val)>);

impl Obj {
    fn with_type(ty: &'static str) -> Obj {
        Obj(vec![("type", Val::Str(ty.to_owned()))])
    }
    fn f(mut self, name: &'static str, v: Val) -> Obj {
        self.0.push((name, v));
        self
    }
    pub fn get(&self, name: &str) -> Option<&Val> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
    /// Approximate memory an event holds until JS takes it (payloads and strings, plus a
    /// fixed cost per field), for the backlog bound.
    pub fn weight(&self) -> usize {
        self.0.iter().map(|(_, v)| 16 + v.weight()).sum()
    }
    pub fn type_name(&self) -> Option<&str> {
        match self.get("type") {
            Some(Val::Str(s)) => Some(s),
            _ => None,
        }
    }
}

fn s(v: &str) -> Val {
    Val::Str(v.to_owned())
}
fn n<T: Into<f64>>(v: T) -> Val {
    Val::Num(v.into())
}
fn size(v: usize) -> Val {
    // usize -> f64 is exact below 2^53, beyond any size this addon handles.
    Val::Num(v as f64)
}
fn opt_n(v: Option<u16>) -> Val {
    v.map_or(Val::Null, n)
}
fn opt_s(v: Option<&str>) -> Val {
    v.map_or(Val::Null, s)
}

pub fn candidate_obj(c: &IceCandidateInit) -> Obj {
    Obj::default()
        .f("candidate", s(&c.candidate))
        .f("sdpMid", opt_s(c.sdp_mid.as_deref()))
        .f("sdpMLineIndex", opt_n(c.sdp_mline_index))
        .f("usernameFragment", opt_s(c.username_fragment.as_deref()))
}

/// Whether a host hands `ev` to the JS layer. The raw feed of every RTP and RTCP packet is
/// not (a call would turn every media packet into a JS object for nothing); frames are, and
/// a transceiver's RTP packets once the application asked for them (`TransceiverRtp`).
pub fn delivered_to_js(ev: &PeerEvent) -> bool {
    !matches!(ev, PeerEvent::RtpReceived(_) | PeerEvent::RtcpReceived(_))
}

/// The event object for one `PeerEvent`.
pub fn to_obj(ev: PeerEvent) -> Obj {
    match ev {
        PeerEvent::IceCandidate(c) => Obj::with_type("icecandidate")
            .f("candidate", c.as_ref().map_or(Val::Null, |c| Val::Obj(candidate_obj(c)))),
        // The local address used towards the server is not known here (null, as the W3C
        // allows when it is not exposed).
        PeerEvent::IceCandidateError { url, error_code, error_text } => Obj::with_type("icecandidateerror")
            .f("address", Val::Null)
            .f("port", Val::Null)
            .f("url", s(&url))
            .f("errorCode", n(error_code))
            .f("errorText", s(&error_text)),
        PeerEvent::IceGatheringStateChanged(st) => {
            Obj::with_type("icegatheringstatechange").f("state", s(st.as_str()))
        }
        PeerEvent::IceConnectionStateChanged(st) => {
            Obj::with_type("iceconnectionstatechange").f("state", s(st.as_str()))
        }
        PeerEvent::SelectedCandidatePairChanged => Obj::with_type("selectedcandidatepairchange"),
        PeerEvent::DtlsStateChanged(st) => Obj::with_type("dtlsstatechange").f("state", s(st.as_str())),
        PeerEvent::ConnectionStateChanged(st) => {
            Obj::with_type("connectionstatechange").f("state", s(st.as_str()))
        }
        PeerEvent::SctpConnected { max_message_size, max_channels } => Obj::with_type("sctpconnected")
            .f("maxMessageSize", size(max_message_size))
            .f("maxChannels", n(max_channels)),
        PeerEvent::DataChannelIdAssigned { channel, id } => {
            Obj::with_type("channelid").f("channel", n(channel)).f("id", n(id))
        }
        PeerEvent::DataChannelOpen { channel } => Obj::with_type("channelopen").f("channel", n(channel)),
        PeerEvent::DataChannelIncoming {
            channel,
            id,
            label,
            protocol,
            ordered,
            max_packet_life_time,
            max_retransmits,
        } => Obj::with_type("datachannel")
            .f("channel", n(channel))
            .f("id", n(id))
            .f("label", Val::Str(label))
            .f("protocol", Val::Str(protocol))
            .f("ordered", Val::Bool(ordered))
            .f("maxPacketLifeTime", opt_n(max_packet_life_time))
            .f("maxRetransmits", opt_n(max_retransmits)),
        PeerEvent::DataChannelMessage { channel, binary, data } => Obj::with_type("message")
            .f("channel", n(channel))
            .f("binary", Val::Bool(binary))
            .f("data", Val::Bytes(data)),
        PeerEvent::DataChannelBufferedAmountDecreased { channel, bytes } => {
            Obj::with_type("bufferedamountdecrease").f("channel", n(channel)).f("bytes", size(bytes))
        }
        PeerEvent::DataChannelClosing { channel } => Obj::with_type("channelclosing").f("channel", n(channel)),
        PeerEvent::DataChannelClosed { channel } => Obj::with_type("channelclose").f("channel", n(channel)),
        PeerEvent::DataChannelError { channel, error, sctp_cause_code } => Obj::with_type("channelerror")
            .f("channel", n(channel))
            .f("name", s(error.kind.as_str()))
            .f("errorDetail", opt_s(error.kind.error_detail()))
            .f("sctpCauseCode", opt_n(sctp_cause_code))
            .f("message", Val::Str(error.message)),
        PeerEvent::RtpReceived(packet) => Obj::with_type("rtppacket").f("packet", Val::Bytes(packet)),
        PeerEvent::RtcpReceived(packet) => Obj::with_type("rtcppacket").f("packet", Val::Bytes(packet)),
        PeerEvent::MediaFrame { transceiver, ssrc, mime_type, keyframe, rtp_timestamp, timestamp_us, rid, data } => Obj::with_type("frame")
            .f("rid", opt_s(rid.as_deref()))
            .f("transceiver", n(transceiver))
            .f("ssrc", n(ssrc))
            .f("mimeType", Val::Str(mime_type))
            .f("keyframe", Val::Bool(keyframe))
            .f("rtpTimestamp", n(rtp_timestamp))
            // µs below 2^53 for 285 years of media.
            .f("timestamp", Val::Num(timestamp_us as f64))
            .f("data", Val::Bytes(data)),
        PeerEvent::TransceiverRtp { transceiver, packet } => {
            Obj::with_type("rtp").f("transceiver", n(transceiver)).f("data", Val::Bytes(packet))
        }
        PeerEvent::KeyframeRequested { transceiver } => {
            Obj::with_type("keyframerequest").f("transceiver", n(transceiver))
        }
    }
}

fn codec_obj(kind: MediaKind, c: &Codec, with_pt: bool) -> Obj {
    let mut o = Obj::default();
    if with_pt {
        o = o.f("payloadType", n(c.payload_type));
    }
    o = o.f("mimeType", Val::Str(c.mime_type(kind))).f("clockRate", n(c.clock_rate));
    if let Some(ch) = c.channels {
        o = o.f("channels", n(ch));
    }
    if !c.fmtp.is_empty() {
        o = o.f("sdpFmtpLine", Val::Str(c.fmtp_line()));
    }
    o
}

/// One `getTransceivers()` entry of the engine contract.
pub fn transceiver_obj(t: &TransceiverInfo) -> Obj {
    let strs = |v: &[String]| Val::List(v.iter().map(|x| s(x)).collect());
    let mut codecs = Vec::new();
    for c in &t.codecs {
        codecs.push(Val::Obj(codec_obj(t.kind, c, true)));
        if let Some(rtx) = c.rtx {
            let r = Codec::new(rtx, "rtx", c.clock_rate, None).with_fmtp(&format!("apt={}", c.payload_type));
            codecs.push(Val::Obj(codec_obj(t.kind, &r, true)));
        }
    }
    Obj::default()
        .f("transceiver", n(t.id))
        .f("kind", s(t.kind.as_str()))
        .f("mid", opt_s(t.mid.as_deref()))
        .f("direction", s(t.direction.as_str()))
        .f("currentDirection", match (t.stopped, t.current_direction) {
            (true, _) => s("stopped"),
            (false, Some(d)) => s(d.as_str()),
            (false, None) => Val::Null,
        })
        .f("stopping", Val::Bool(t.stopping))
        .f("stopped", Val::Bool(t.stopped))
        .f("remoteStreamIds", strs(&t.remote_stream_ids))
        .f("receiving", Val::Bool(t.receiving))
        .f("codecs", Val::List(codecs))
        .f(
            "headerExtensions",
            Val::List(
                t.header_extensions
                    .iter()
                    .map(|e| Val::Obj(Obj::default().f("uri", s(&e.uri)).f("id", n(e.id))))
                    .collect(),
            ),
        )
        .f("rtcpReducedSize", Val::Bool(t.rtcp_reduced_size))
        .f("senderSsrc", n(t.sender_ssrc))
        .f("senderRtxSsrc", t.sender_rtx_ssrc.map_or(Val::Null, n))
        .f(
            "sendLayers",
            Val::List(
                t.send_layers
                    .iter()
                    .map(|l| {
                        Val::Obj(
                            Obj::default()
                                .f("rid", opt_s(l.rid.as_deref()))
                                .f("ssrc", n(l.ssrc))
                                .f("rtxSsrc", l.rtx_ssrc.map_or(Val::Null, n))
                                .f("sending", Val::Bool(l.sending)),
                        )
                    })
                    .collect(),
            ),
        )
        .f("remoteSsrcs", Val::List(t.remote_ssrcs.iter().map(|x| n(*x)).collect()))
        .f("streamIds", strs(&t.stream_ids))
        .f("trackId", opt_s(t.track_id.as_deref()))
        .f("mlineIndex", t.mline_index.map_or(Val::Null, size))
}

/// W3C `RTCRtpSender.getCapabilities(kind)` / `RTCRtpReceiver.getCapabilities(kind)`: our
/// codecs (each RTX once, as browsers list it) and header extensions.
pub fn capabilities_obj(kind: MediaKind) -> Obj {
    let mut codecs = Vec::new();
    let mut rtx = false;
    for c in default_codecs(kind) {
        codecs.push(Val::Obj(codec_obj(kind, &c, false)));
        rtx |= c.rtx.is_some();
    }
    if rtx {
        codecs.push(Val::Obj(Obj::default().f("mimeType", s(&format!("{}/rtx", kind.as_str()))).f("clockRate", n(90_000u32))));
    }
    let exts = default_extensions(kind).iter().map(|e| Val::Obj(Obj::default().f("uri", s(&e.uri)))).collect();
    Obj::default().f("codecs", Val::List(codecs)).f("headerExtensions", Val::List(exts))
}

/// `{ type: 'error', message }`: an internal failure of this peer.
pub fn error_obj(message: &str) -> Obj {
    Obj::with_type("error").f("message", s(message))
}

/// `'audio'` / `'video'` (the JS layer validated it; anything else is a `TypeError`).
pub fn parse_kind(kind: &str) -> Result<MediaKind, crate::peer::PeerError> {
    match kind {
        "audio" => Ok(MediaKind::Audio),
        "video" => Ok(MediaKind::Video),
        _ => Err(crate::peer::PeerError::new(crate::peer::ErrorKind::Type, format!("unknown media kind {kind:?}"))),
    }
}

/// An `RTCRtpTransceiverDirection` other than `stopped`.
pub fn parse_direction(d: &str) -> Result<crate::sdp::media::Direction, crate::peer::PeerError> {
    crate::sdp::media::Direction::parse(d)
        .ok_or_else(|| crate::peer::PeerError::new(crate::peer::ErrorKind::Type, format!("bad direction {d:?}")))
}

/// An `RTCRtpCodec` (`mimeType`, `clockRate`, `channels`, `sdpFmtpLine`) as an SDP codec to
/// match ours against (`setCodecPreferences`).
pub fn codec_from_capability(
    mime_type: &str,
    clock_rate: u32,
    channels: Option<u16>,
    sdp_fmtp_line: Option<&str>,
) -> Result<Codec, crate::peer::PeerError> {
    let name = mime_type
        .split_once('/')
        .map(|(_, n)| n)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| crate::peer::PeerError::new(crate::peer::ErrorKind::InvalidModification, format!("bad mimeType {mime_type:?}")))?;
    let mut c = Codec::new(0, name, clock_rate, channels);
    if let Some(f) = sdp_fmtp_line.filter(|f| !f.is_empty()) {
        c = c.with_fmtp(f);
    }
    Ok(c)
}

/// `getTransceivers()` of the engine contract.
pub fn transceivers_list(peer: &crate::peer::Peer) -> Vec<Val> {
    peer.transceivers().iter().map(|t| Val::Obj(transceiver_obj(t))).collect()
}
