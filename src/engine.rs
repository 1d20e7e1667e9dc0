//! The event objects of the engine contract (`napi/engine-contract.md`): every
//! `PeerEvent` as a small owned tree ([`Obj`] of [`Val`]), built on any thread and free of
//! any JS binding. The Node addon (napi) and the WASM engine (`src/wasm/`) each turn it into
//! their runtime's objects, so both engines hand the JS layer exactly the same events.

use crate::peer::{IceCandidateInit, PeerEvent};

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

/// Whether a host hands `ev` to the JS layer. Received RTP and RTCP packets are not handed
/// over yet: nothing in the W3C layer takes them, and a call would turn every media packet
/// into a JS object for nothing (getStats reports what they carried).
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
        PeerEvent::RtpReceived(packet) => Obj::with_type("rtp").f("packet", Val::Bytes(packet)),
        PeerEvent::RtcpReceived(packet) => Obj::with_type("rtcp").f("packet", Val::Bytes(packet)),
    }
}

/// `{ type: 'error', message }`: an internal failure of this peer.
pub fn error_obj(message: &str) -> Obj {
    Obj::with_type("error").f("message", s(message))
}
