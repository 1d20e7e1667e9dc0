//! The peer: orchestrates JSEP, ICE, DTLS, SCTP and data channels for one
//! `RTCPeerConnection`. Sans-IO: the host feeds datagrams, time and API calls, then drains
//! [`Peer::poll_transmit`] and [`Peer::poll_event`] and arms a timer for
//! [`Peer::poll_timeout`].
//!
//! Drain order after every input: `poll_transmit` until `None`, `poll_event` until `None`,
//! then `poll_timeout`. An early `handle_timeout` is harmless.
//!
//! W3C event ordering is not decided here: the JS layer fires events in the order the spec
//! gives, from the results of these calls and the events below.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::crypto::Certificate;
pub use crate::ice::{IceConnectionState, IceGatheringState};
pub use crate::sdp::jsep::SignalingState;

mod error;
pub use error::{ErrorKind, PeerError};

/// Handle of one data channel inside a [`Peer`] (not the SCTP stream id).
pub type ChannelId = u32;

#[derive(Clone, Debug)]
pub struct PeerConfig {
    /// STUN servers, already resolved by the host (`stun:` URLs of `iceServers`).
    pub stun_servers: Vec<SocketAddr>,
    /// The DTLS certificate; one is generated when `None`.
    pub certificate: Option<Arc<Certificate>>,
    /// Largest message we accept, advertised as `a=max-message-size`.
    pub max_message_size: usize,
    /// Unix time in milliseconds, used only for a generated certificate's validity.
    pub unix_time_ms: u64,
    /// Offer loopback host candidates too (tests on one machine).
    pub include_loopback: bool,
    /// W3C `iceTransportPolicy: 'relay'`: signal and use relayed candidates only.
    pub relay_only: bool,
    /// Every RTP/RTCP packet received also becomes [`PeerEvent::RtpReceived`] /
    /// [`PeerEvent::RtcpReceived`] (tests, hosts that take all media raw).
    pub raw_media_events: bool,
    /// Signal host candidates under random `.local` names instead of their addresses, as
    /// browsers do (draft-ietf-mmusic-mdns-ice-candidates); the host answers mDNS queries
    /// for them ([`Peer::poll_mdns_name`]). Off by default: a server's addresses are public.
    pub mdns_host_candidates: bool,
    /// Run as an ICE-lite agent (RFC 8445 §2.5; `a=ice-lite`): host candidates only, no
    /// checks of our own, always controlled. For servers with public addresses, where
    /// every client runs full ICE.
    pub ice_lite: bool,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            stun_servers: Vec::new(),
            certificate: None,
            max_message_size: crate::datachannel::DEFAULT_MAX_MESSAGE_SIZE,
            unix_time_ms: 0,
            include_loopback: false,
            relay_only: false,
            raw_media_events: false,
            mdns_host_candidates: false,
            ice_lite: false,
        }
    }
}

/// `RTCSdpType`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SdpType {
    Offer,
    Pranswer,
    Answer,
    Rollback,
}

impl SdpType {
    pub fn as_str(self) -> &'static str {
        match self {
            SdpType::Offer => "offer",
            SdpType::Pranswer => "pranswer",
            SdpType::Answer => "answer",
            SdpType::Rollback => "rollback",
        }
    }
    pub fn parse(s: &str) -> Option<SdpType> {
        Some(match s {
            "offer" => SdpType::Offer,
            "pranswer" => SdpType::Pranswer,
            "answer" => SdpType::Answer,
            "rollback" => SdpType::Rollback,
            _ => return None,
        })
    }
}

/// `RTCSessionDescriptionInit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    pub ty: SdpType,
    pub sdp: String,
}

/// `RTCIceCandidateInit`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IceCandidateInit {
    /// `candidate:...` attribute value; empty means end-of-candidates.
    pub candidate: String,
    pub sdp_mid: Option<String>,
    pub sdp_mline_index: Option<u16>,
    pub username_fragment: Option<String>,
}

/// `RTCDataChannelInit`, already validated by the JS layer's WebIDL conversion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataChannelInit {
    pub label: String,
    pub protocol: String,
    pub ordered: bool,
    pub max_packet_life_time: Option<u16>,
    pub max_retransmits: Option<u16>,
    pub negotiated: bool,
    pub id: Option<u16>,
}

impl Default for DataChannelInit {
    fn default() -> Self {
        DataChannelInit {
            label: String::new(),
            protocol: String::new(),
            ordered: true,
            max_packet_life_time: None,
            max_retransmits: None,
            negotiated: false,
            id: None,
        }
    }
}

impl SignalingState {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalingState::Stable => "stable",
            SignalingState::HaveLocalOffer => "have-local-offer",
            SignalingState::HaveRemoteOffer => "have-remote-offer",
            SignalingState::HaveLocalPranswer => "have-local-pranswer",
            SignalingState::HaveRemotePranswer => "have-remote-pranswer",
            SignalingState::Closed => "closed",
        }
    }
}

impl IceGatheringState {
    pub fn as_str(self) -> &'static str {
        match self {
            IceGatheringState::New => "new",
            IceGatheringState::Gathering => "gathering",
            IceGatheringState::Complete => "complete",
        }
    }
}

impl IceConnectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            IceConnectionState::New => "new",
            IceConnectionState::Checking => "checking",
            IceConnectionState::Connected => "connected",
            IceConnectionState::Completed => "completed",
            IceConnectionState::Disconnected => "disconnected",
            IceConnectionState::Failed => "failed",
            IceConnectionState::Closed => "closed",
        }
    }
}

/// `RTCDtlsTransportState`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DtlsTransportState {
    New,
    Connecting,
    Connected,
    Closed,
    Failed,
}

impl DtlsTransportState {
    pub fn as_str(self) -> &'static str {
        match self {
            DtlsTransportState::New => "new",
            DtlsTransportState::Connecting => "connecting",
            DtlsTransportState::Connected => "connected",
            DtlsTransportState::Closed => "closed",
            DtlsTransportState::Failed => "failed",
        }
    }
}

/// `RTCPeerConnectionState`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PeerConnectionState {
    New,
    Connecting,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

impl PeerConnectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerConnectionState::New => "new",
            PeerConnectionState::Connecting => "connecting",
            PeerConnectionState::Connected => "connected",
            PeerConnectionState::Disconnected => "disconnected",
            PeerConnectionState::Failed => "failed",
            PeerConnectionState::Closed => "closed",
        }
    }
}

/// What the application must be told. The JS layer turns these into W3C events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerEvent {
    /// A local candidate was gathered; `None` is the end-of-candidates marker.
    IceCandidate(Option<IceCandidateInit>),
    /// W3C `icecandidateerror`: a TURN server (added with [`Peer::add_relay`]) gave no
    /// candidate, or an ICE server's host name did not resolve
    /// ([`Peer::expect_ice_server`]). `error_code` is the server's STUN error code, or 701
    /// when it could not be reached.
    IceCandidateError { url: String, error_code: u16, error_text: String },
    IceGatheringStateChanged(IceGatheringState),
    IceConnectionStateChanged(IceConnectionState),
    /// ICE selected another candidate pair (W3C `selectedcandidatepairchange`); the pair is
    /// [`Peer::selected_candidate_pair`]'s.
    SelectedCandidatePairChanged,
    DtlsStateChanged(DtlsTransportState),
    ConnectionStateChanged(PeerConnectionState),
    /// The SCTP association is up (`RTCSctpTransport` becomes `connected`).
    SctpConnected { max_message_size: usize, max_channels: u16 },
    /// A channel created locally got its SCTP stream id (when the DTLS role became known).
    DataChannelIdAssigned { channel: ChannelId, id: u16 },
    /// A locally created channel is open.
    DataChannelOpen { channel: ChannelId },
    /// The remote peer opened a channel (DCEP); it is already open.
    DataChannelIncoming {
        channel: ChannelId,
        id: u16,
        label: String,
        protocol: String,
        ordered: bool,
        max_packet_life_time: Option<u16>,
        max_retransmits: Option<u16>,
    },
    DataChannelMessage { channel: ChannelId, binary: bool, data: Vec<u8> },
    /// `bytes` of messages given to `send` left the send queue (were sent, or abandoned
    /// unsent): the W3C bufferedAmount falls by that. 0: the send buffer, full when a
    /// send was refused, has room again.
    DataChannelBufferedAmountDecreased { channel: ChannelId, bytes: usize },
    /// The remote side began closing the channel.
    DataChannelClosing { channel: ChannelId },
    DataChannelClosed { channel: ChannelId },
    /// `sctp_cause_code`: the first cause code of the SCTP ABORT that ended the channel
    /// (W3C `RTCError.sctpCauseCode`), when the error is one.
    DataChannelError { channel: ChannelId, error: PeerError, sctp_cause_code: Option<u16> },
    /// An RTP packet from the peer, SRTP checked and decrypted (header and payload), when
    /// [`PeerConfig::raw_media_events`] asks for every one. At most
    /// [`MAX_QUEUED_MEDIA_EVENTS`] media events (this, RTCP, frames, transceiver RTP) wait to
    /// be polled; more are dropped and counted ([`PeerStats::media_dropped_queue_full`]).
    RtpReceived(Vec<u8>),
    /// A (compound) RTCP packet from the peer, SRTCP checked and decrypted (as `RtpReceived`).
    RtcpReceived(Vec<u8>),
    /// A complete encoded frame received on a transceiver (an Opus packet, a VP8/VP9 frame,
    /// an H.264 access unit in Annex B, an AV1 temporal unit).
    /// `timestamp_us`: its presentation time from the stream's first frame (RTP time).
    MediaFrame {
        transceiver: TransceiverId,
        ssrc: u32,
        mime_type: String,
        keyframe: bool,
        rtp_timestamp: u32,
        timestamp_us: u64,
        /// The simulcast layer (RTP stream id) it came on, when the stream has one.
        rid: Option<String>,
        data: Vec<u8>,
    },
    /// An RTP packet received on a transceiver whose host asked for them
    /// ([`Peer::set_deliver_rtp`]).
    TransceiverRtp { transceiver: TransceiverId, packet: Vec<u8> },
    /// The peer asked (RTCP PLI or FIR) for a key frame of what this transceiver sends.
    KeyframeRequested { transceiver: TransceiverId },
}


mod channels;
mod connection;
mod transceiver;
pub use transceiver::{
    Encoding, FeedbackCounts, SendLayer, TransceiverId, TransceiverInfo, TransceiverInit, MAX_RECEIVE_STREAMS, MAX_ROUTED_SSRCS, MAX_RTP_PAYLOAD,
    MAX_SEND_ENCODINGS, MAX_SEND_FRAME_BYTES,
    MAX_TRANSCEIVERS,
};
mod pending;
pub use pending::{IceServerKind, ICE_SERVER_RESOLVE_TIMEOUT, MAX_PENDING_ICE_SERVERS};
mod relay;
pub use relay::UNREACHABLE_ERROR_CODE;
#[doc(hidden)]
pub mod fuzz;

pub use connection::{dbov_audio_level, linear_audio_level, InboundFeedback, InboundRtp, OutboundRtp, MAX_LOCAL_MDNS_NAMES, MAX_PENDING_MDNS_CANDIDATES, MDNS_RESOLVE_TIMEOUT, Peer, PeerStats, SourceAudioLevel};

/// Largest number of DTLS datagrams kept while the DTLS endpoint does not exist yet
/// (a ClientHello can arrive before our answer is applied) or the pair they came over is not
/// validated yet (the peer's checks succeeded before ours).
pub const MAX_EARLY_DTLS_DATAGRAMS: usize = 16;
/// Most bytes those held datagrams may take, each counted as its length plus its path and
/// queue entry (a flight of real datagrams is a few kB; a 64 KiB UDP datagram is not one).
pub const MAX_EARLY_DTLS_BYTES: usize = 64 * 1024;
/// Largest number of DTLS datagrams we keep while ICE has not selected a path yet (a DTLS
/// server answers the first ClientHello before its own checks have succeeded).
pub const MAX_DTLS_DATAGRAMS_WITHOUT_PATH: usize = 16;
/// RTP and RTCP packets received and not yet polled as events; more are dropped (a host that
/// does not drain its events must not grow our memory with what the peer sends).
pub const MAX_QUEUED_MEDIA_EVENTS: usize = 4096;
/// Largest number of TURN relays one peer uses (W3C `iceServers` and the `relay` member
/// together; each holds one allocation).
pub const MAX_RELAYS: usize = 16;
/// Largest number of data channels one peer keeps (open, opening or closing).
pub const MAX_DATA_CHANNELS: usize = 65534;
/// Most messages held, over all streams, for stream ids the remote reused before our half
/// of the old channel's reset was answered (they belong to the new channel).
pub const MAX_REOPEN_HELD_MESSAGES: usize = 64;
/// Most bytes held that way, over all streams.
pub const MAX_REOPEN_HELD_BYTES: usize = 512 * 1024;
/// Label and protocol bytes kept over all data channels. A remote DATA_CHANNEL_OPEN that
/// would exceed it is ignored (each name may be 64 KiB, and there may be 65534 channels).
pub const MAX_CHANNEL_NAME_BYTES: usize = 16 * 1024 * 1024;
/// Largest SDP we accept from the application or the remote side.
pub const MAX_SDP_SIZE: usize = 256 * 1024;

#[cfg(test)]
mod jitter_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod stats_tests;
#[cfg(test)]
mod dtmf_tests;
