//! The `Peer` state machine: JSEP on the API side, then ICE -> DTLS -> SCTP -> channels.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use super::channels::Channels;
use super::transceiver::{Transceiver, TransceiverId};
use super::relay::{Relay, RelayOutput};
use super::*;
use crate::crypto::{Certificate, Fingerprint, Rng};
use crate::dtls::{DtlsConfig, DtlsConnection, DtlsError, DtlsEvent, DtlsRole};
use crate::ice::{self, Candidate, IceAgent, IceConfig, IceCredentials, IceEvent};
use crate::net::{TransportId, Transmit};
use crate::sctp::{Association, SctpConfig, SctpEvent};
use crate::sdp::jsep::{self, DescriptionType, LocalParams, RemoteParams, Setup};
use crate::sdp::SessionDescription;
use crate::srtp::{SrtpProfile, SrtpSession, SrtpStats};
use crate::time::Time;

/// Validity of a generated certificate (browsers use 30 days).
const CERTIFICATE_LIFETIME_S: u64 = 30 * 24 * 3600;
/// The SCTP port we use and expect (RFC 8841 default).
const SCTP_PORT: u16 = 5000;
/// A DTLS transport not connected this long after ICE found a path is `failed`, whatever
/// its role: a DTLS server otherwise waits forever for a ClientHello that never comes
/// (its own handshake clock starts with the first ClientHello).
const DTLS_CONNECT_TIMEOUT: core::time::Duration = core::time::Duration::from_secs(30);
/// An ICE-lite peer is `disconnected` after this long without the peer's checks.
pub(super) const LITE_DISCONNECTED_TIMEOUT: core::time::Duration = core::time::Duration::from_secs(15);

mod audio_level;
mod dtmf;
mod mdns;
pub use mdns::{MAX_LOCAL_MDNS_NAMES, MAX_PENDING_MDNS_CANDIDATES, MDNS_RESOLVE_TIMEOUT};
mod media;
mod rtcp;
pub use audio_level::{dbov_audio_level, linear_audio_level, SourceAudioLevel};
pub use rtcp::{InboundFeedback, OutboundRtp};

/// Counted drops and other figures worth exposing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerStats {
    pub datagrams_received: u64,
    pub datagrams_dropped_unknown: u64,
    pub datagrams_dropped_early: u64,
    /// Non-STUN datagrams dropped because they did not come over a validated ICE path
    /// (from a stranger, or from the peer once consent was lost).
    pub datagrams_dropped_off_path: u64,
    pub stun_errors: u64,
    pub dtls_errors: u64,
    pub messages_dropped: u64,
    /// Datagrams for a relayed path that its TURN client refused (no allocation any more,
    /// permission or channel table full, too large).
    pub relay_send_errors: u64,
    /// W3C `RTCTransportStats` packets / bytes: the datagrams other than STUN (webrtc-stats
    /// counts no ICE connectivity check) sent on an ICE path (before a relayed one's TURN
    /// framing), and the ones received over an ICE candidate path; bytes are UDP payload.
    pub packets_sent: u64,
    pub bytes_sent: u64,
    pub packets_received: u64,
    pub bytes_received: u64,
    /// RTP/RTCP datagrams from the validated path that arrived before SRTP was keyed (or
    /// without a negotiated SRTP profile).
    pub media_dropped_no_srtp: u64,
    /// RTP/RTCP packets dropped because [`MAX_QUEUED_MEDIA_EVENTS`] were waiting to be polled.
    pub media_dropped_queue_full: u64,
    /// RTP packets that belong to no transceiver (unknown SSRC, MID and payload type).
    pub media_dropped_unrouted: u64,
    /// Frames and packets the application wrote while its transceiver could not send (not
    /// negotiated to, no track, no keys or path yet): dropped, as a browser's sender does.
    pub media_frames_not_sent: u64,
    /// RTP packets sent again for the peer's NACKs (RTX or plain).
    pub rtp_retransmitted: u64,
    /// RTCP compounds we sent (reports and feedback).
    pub rtcp_sent: u64,
    /// RFC 4733 telephone-event packets sent ([`Peer::insert_dtmf`]) and received (kept out
    /// of the audio frames), received ones too short to hold an event, and received events
    /// reported (once each, when they end).
    pub dtmf_packets_sent: u64,
    pub dtmf_packets_received: u64,
    pub dtmf_packets_malformed: u64,
    pub dtmf_events_received: u64,
    /// Remote `.local` (mDNS) candidates that joined ICE once their name resolved, and the
    /// ones dropped: not resolved within [`MDNS_RESOLVE_TIMEOUT`], no usable address, of an
    /// older ICE generation, or more than [`MAX_PENDING_MDNS_CANDIDATES`] waiting.
    pub mdns_candidates_resolved: u64,
    pub mdns_candidates_unresolved: u64,
}

/// What one remote RTP stream (an SSRC) delivered, for W3C `RTCInboundRtpStreamStats`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundRtp {
    pub ssrc: u32,
    pub payload_type: u8,
    /// The media section its payload type belongs to (mid, kind, codec), when known.
    pub mid: Option<String>,
    pub kind: Option<crate::sdp::media::MediaKind>,
    pub codec: Option<crate::sdp::media::Codec>,
    pub packets: u64,
    /// Payload bytes (headers and padding excluded), as `bytesReceived` counts them.
    pub payload_bytes: u64,
    pub header_bytes: u64,
    pub last_received: Time,
    /// Video: complete frames the stream's packets assembled into (W3C `framesReceived`),
    /// and those of more than one packet (`framesAssembledFromMultiplePackets`).
    pub frames: u64,
    pub frames_multi_packet: u64,
    /// Video: frames dropped incomplete (a packet lost for good, or a bound reached).
    pub frames_dropped: u64,
    /// The stream's codec has an RTX payload type: retransmissions are told apart.
    pub rtx_negotiated: bool,
    /// RTX packets that repaired this stream (W3C `retransmittedPacketsReceived`, also in
    /// `packets`), and their RTP payload bytes, original sequence number included (also in
    /// `payload_bytes`).
    pub retransmitted_packets: u64,
    pub retransmitted_bytes: u64,
}

/// What was negotiated once an answer is applied.
struct Negotiated {
    remote: RemoteParams,
    dtls_role: DtlsRole,
}

pub struct Peer {
    rng: Rng,
    certificate: Arc<Certificate>,
    max_message_size: usize,
    ice: IceAgent,
    dtls: Option<DtlsConnection>,
    sctp: Option<Association>,
    channels: Channels,

    signaling: SignalingState,
    current_local: Option<Description>,
    pending_local: Option<Description>,
    current_remote: Option<Description>,
    pending_remote: Option<Description>,
    /// The last offer / answer createOffer / createAnswer produced.
    last_offer: Option<String>,
    last_answer: Option<String>,
    session_id: u64,
    session_version: u64,
    data_mid: String,
    data_mline_index: u16,
    /// A data channel was created here: our offers carry an `m=application` section from
    /// then on (JSEP §5.2.1; before it, and before any negotiated one, offers have none).
    data_channel_created: bool,

    /// Remote parameters from the latest remote offer/answer (pending or current).
    remote: Option<RemoteParams>,
    negotiated: Option<Negotiated>,
    /// Candidates we gathered, as SDP strings, for descriptions and `createOffer`.
    local_candidates: Vec<String>,
    gathering_started: bool,
    gathering: IceGatheringState,
    /// ICE servers whose host names the host is still resolving.
    pending_servers: super::pending::PendingServers,
    /// Remote `.local` candidates waiting for the host to resolve their names.
    mdns: mdns::PendingMdns,
    /// Our host candidates are signaled under `.local` names (`PeerConfig::mdns_host_candidates`).
    local_names: Option<mdns::LocalNames>,
    ice_state: IceConnectionState,
    dtls_state: DtlsTransportState,
    /// The DTLS transport failed because the peer's certificate matched no a=fingerprint.
    dtls_fingerprint_failure: bool,
    /// The peer's DER certificate once DTLS is connected (size bounded by the DTLS layer).
    remote_certificate: Option<Vec<u8>>,
    connection: PeerConnectionState,
    /// DTLS datagrams held with their path (transport, source): the DTLS endpoint does not
    /// exist yet, or the source is a remote candidate whose pair is not validated yet (the
    /// peer's checks can succeed before ours). Replayed once both hold, in arrival order.
    early_dtls: VecDeque<(TransportId, SocketAddr, Vec<u8>)>,
    /// Our DTLS datagrams waiting for ICE to select a path.
    dtls_without_path: VecDeque<Vec<u8>>,
    dtls_started: bool,
    /// While connecting: when the DTLS transport fails if still not connected.
    dtls_deadline: Option<Time>,
    closed: bool,
    /// W3C `[[LocalIceCredentialsToReplace]]` (set by `restartIce()`): the local ufrag that
    /// the next offer replaces; negotiation is needed until an answer makes it history.
    ice_ufrag_to_replace: Option<String>,
    /// New credentials carried by the last offer `create_offer` made (an ICE restart), given
    /// to the ICE agent when that offer is applied.
    restart_offer_credentials: Option<IceCredentials>,
    /// While a local restart offer is pending: the credentials it replaced (for rollback).
    credentials_before_restart: Option<IceCredentials>,

    /// TURN relays; their allocations are relayed transports of the ICE agent.
    relays: Vec<Relay>,
    /// SRTP keyed from DTLS (when use_srtp negotiated a profile).
    srtp: Option<SrtpSession>,
    /// Per remote SSRC: what arrived (W3C `inbound-rtp`), at most `MAX_SRTP_STREAMS`.
    inbound_rtp: Vec<InboundRtp>,
    /// Transceivers in creation order (at most [`super::MAX_TRANSCEIVERS`]).
    transceivers: Vec<Transceiver>,
    next_transceiver_id: TransceiverId,
    /// The transceivers' negotiation state before the offer being applied (for rollback).
    transceivers_before_offer: Option<Vec<(TransceiverId, super::transceiver::Negotiation, Option<String>)>>,
    /// Remote SSRC -> transceiver, at most [`super::MAX_ROUTED_SSRCS`].
    ssrc_routes: Vec<(u32, TransceiverId)>,
    /// RTCP CNAME of our streams (RFC 7022: random, per peer connection).
    cname: String,
    /// The next transport-wide sequence number (transport-cc header extension).
    twcc_sequence: u16,
    /// Every received RTP/RTCP packet also becomes `RtpReceived` / `RtcpReceived`.
    raw_media_events: bool,
    ntp: crate::media::NtpClock,
    rtcp_scheduler: Option<crate::media::RtcpScheduler>,
    rtcp_inbound: crate::media::RtcpInbound,
    /// Arrival times for transport-wide CC feedback (once a packet carried the extension).
    twcc: Option<crate::media::TwccRecorder>,
    /// RTP/RTCP events in `events` not yet polled (bounded by [`MAX_QUEUED_MEDIA_EVENTS`]).
    media_events_queued: usize,
    transmits: VecDeque<Transmit>,
    events: VecDeque<PeerEvent>,
    stats: PeerStats,
    /// DTMF tones being sent, at most one per transceiver.
    dtmf_sends: Vec<dtmf::DtmfSend>,
    /// Per remote SSRC, the timestamp of the last received DTMF event reported (at most
    /// [`dtmf::MAX_DTMF_RECEIVE_STATES`]).
    dtmf_received: Vec<(u32, Option<u32>)>,
    /// The latest RFC 6464 level per remote SSRC (at most
    /// [`audio_level::MAX_AUDIO_LEVEL_SOURCES`]).
    audio_levels: Vec<SourceAudioLevel>,
    /// The level our audio packets carry, per transceiver (one entry each at most).
    send_audio_levels: Vec<(TransceiverId, crate::rtp::extension::AudioLevel)>,
}

fn err(kind: ErrorKind, msg: impl Into<String>) -> PeerError {
    PeerError::new(kind, msg)
}

fn to_jsep_type(t: SdpType) -> DescriptionType {
    match t {
        SdpType::Offer => DescriptionType::Offer,
        SdpType::Pranswer => DescriptionType::Pranswer,
        SdpType::Answer => DescriptionType::Answer,
        SdpType::Rollback => DescriptionType::Rollback,
    }
}

fn parse_sdp(sdp: &str) -> Result<SessionDescription, PeerError> {
    if sdp.len() > MAX_SDP_SIZE {
        return Err(err(ErrorKind::Operation, "session description too large"));
    }
    SessionDescription::parse(sdp)
        .map_err(|e| err(ErrorKind::Operation, format!("failed to parse session description: {e}")))
}

impl Peer {
    pub fn new(config: PeerConfig, mut rng: Rng) -> Result<Peer, PeerError> {
        let certificate = match config.certificate {
            Some(c) => c,
            None => {
                let now_s = config.unix_time_ms / 1000;
                let cert = Certificate::generate(
                    &mut rng,
                    now_s.saturating_sub(24 * 3600),
                    now_s.saturating_add(CERTIFICATE_LIFETIME_S),
                )
                .map_err(|e| err(ErrorKind::Operation, format!("certificate generation failed: {e:?}")))?;
                Arc::new(cert)
            }
        };
        let ice = IceAgent::new(
            IceConfig {
                controlling: true,
                stun_servers: config.stun_servers.clone(),
                include_loopback: config.include_loopback,
                relay_only: config.relay_only,
                lite: config.ice_lite,
                // A lite agent hears of the path only through the peer's checks (browsers
                // send one every few seconds): a little more silence before `disconnected`.
                disconnected_timeout: if config.ice_lite { LITE_DISCONNECTED_TIMEOUT } else { IceConfig::default().disconnected_timeout },
                ..IceConfig::default()
            },
            rng.fork(),
        );
        let session_id = rng.u64() >> 2; // keep it positive when read as i64 (RFC 3264 §5)
        Ok(Peer {
            certificate,
            max_message_size: config.max_message_size,
            ice,
            dtls: None,
            sctp: None,
            channels: Channels::new(),
            signaling: SignalingState::Stable,
            current_local: None,
            pending_local: None,
            current_remote: None,
            pending_remote: None,
            last_offer: None,
            last_answer: None,
            session_id,
            session_version: 1,
            data_mid: "0".to_string(),
            data_mline_index: 0,
            data_channel_created: false,
            remote: None,
            negotiated: None,
            local_candidates: Vec::new(),
            gathering_started: false,
            pending_servers: Default::default(),
            mdns: Default::default(),
            local_names: config.mdns_host_candidates.then(Default::default),
            gathering: IceGatheringState::New,
            ice_state: IceConnectionState::New,
            dtls_state: DtlsTransportState::New,
            dtls_fingerprint_failure: false,
            remote_certificate: None,
            connection: PeerConnectionState::New,
            early_dtls: VecDeque::new(),
            dtls_without_path: VecDeque::new(),
            dtls_started: false,
            dtls_deadline: None,
            closed: false,
            ice_ufrag_to_replace: None,
            restart_offer_credentials: None,
            credentials_before_restart: None,
            relays: Vec::new(),
            srtp: None,
            inbound_rtp: Vec::new(),
            transceivers: Vec::new(),
            next_transceiver_id: 1,
            transceivers_before_offer: None,
            ssrc_routes: Vec::new(),
            cname: rng.ice_string(16),
            twcc_sequence: 1,
            raw_media_events: config.raw_media_events,
            ntp: rtcp::ntp_clock(config.unix_time_ms),
            rtcp_scheduler: None,
            rtcp_inbound: crate::media::RtcpInbound::new(),
            twcc: None,
            media_events_queued: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: PeerStats::default(),
            dtmf_sends: Vec::new(),
            dtmf_received: Vec::new(),
            audio_levels: Vec::new(),
            send_audio_levels: Vec::new(),
            rng,
        })
    }

    pub fn certificate(&self) -> &Arc<Certificate> {
        &self.certificate
    }

    pub fn stats(&self) -> PeerStats {
        self.stats.clone()
    }

    /// The SCTP association's counters and congestion state, once it exists.
    pub fn sctp_stats(&self) -> Option<crate::sctp::SctpStats> {
        self.sctp.as_ref().map(|s| s.stats())
    }

    pub fn add_local_transport(&mut self, transport: TransportId, local_addr: SocketAddr) {
        self.ice.add_local_transport(transport, local_addr);
    }

    /// A TURN server the peer allocates a relayed candidate on, reached through the host's
    /// transport `via` at `server` (for a WebSocket, any fixed address: the host sends what
    /// is addressed to it over the socket and feeds back what arrives with that address).
    /// `relay` is the transport id ICE uses for the relayed candidate. The allocation starts
    /// with ICE gathering (at once if gathering runs); a failure is an
    /// [`PeerEvent::IceCandidateError`].
    pub fn add_relay(
        &mut self,
        now: Time,
        relay: TransportId,
        via: TransportId,
        server: SocketAddr,
        url: &str,
        config: crate::turn::TurnConfig,
    ) -> Result<(), PeerError> {
        self.check_open()?;
        if self.ice.is_lite() {
            // RFC 8445 §2.5: a lite agent has host candidates only.
            return Err(err(ErrorKind::InvalidAccess, "an ICE-lite peer uses no TURN server"));
        }
        if self.relays.len() >= MAX_RELAYS {
            return Err(err(ErrorKind::Operation, format!("at most {MAX_RELAYS} relays")));
        }
        if self.relays.iter().any(|r| r.id == relay || r.id == via || r.via == relay) {
            return Err(err(ErrorKind::Operation, "relay transport id already in use"));
        }
        self.relays.push(Relay::new(relay, via, server, url.to_string(), config));
        if self.gathering_started && self.gathering == IceGatheringState::Gathering {
            self.start_relays(now);
            self.pump(now);
        }
        Ok(())
    }

    /// Starts the allocations still waiting; ICE gathering waits for each.
    fn start_relays(&mut self, now: Time) {
        let mut out = Vec::new();
        for i in 0..self.relays.len() {
            let waiting = self.relays.get(i).is_some_and(|r| r.is_waiting());
            if waiting {
                let rng = self.rng.fork();
                if self.relays.get_mut(i).is_some_and(|r| r.start(rng, now, &mut out)) {
                    self.ice.expect_relay();
                }
            }
        }
        self.on_relay_outputs(now, out);
    }

    /// The host's connection to the TURN server of the relay reached through `via` failed
    /// or closed. `next_url`: the host now tries that server instead (the error is reported
    /// and the allocation goes on there); none: the relay is done (an allocation being made
    /// fails, one made is lost). Reported as [`PeerEvent::IceCandidateError`] (701) once
    /// gathering runs.
    pub fn relay_server_failed(
        &mut self,
        now: Time,
        via: TransportId,
        failed_url: &str,
        text: &str,
        next_url: Option<&str>,
    ) -> Result<(), PeerError> {
        let Some(i) = self.relays.iter().position(|r| r.via == via) else {
            return Err(err(ErrorKind::Operation, "no relay on that transport"));
        };
        self.fail_relay_server(now, i, failed_url, text, next_url);
        Ok(())
    }

    /// The host cannot reach the TURN server of the relay whose relayed transport is `relay`
    /// (its name does not resolve, no local socket reaches it): as
    /// [`Peer::relay_server_failed`] with no next server, for relays that share their `via`.
    pub fn relay_unreachable(&mut self, now: Time, relay: TransportId, url: &str, text: &str) -> Result<(), PeerError> {
        let Some(i) = self.relays.iter().position(|r| r.id == relay) else {
            return Err(err(ErrorKind::Operation, "no such relay"));
        };
        self.fail_relay_server(now, i, url, text, None);
        Ok(())
    }

    /// The host is resolving the host name of the ICE server at `url` (the W3C
    /// configuration's): gathering waits for it. The host then configures it
    /// ([`Peer::add_stun_server`], [`Peer::add_relay`]) and calls
    /// [`Peer::ice_server_settled`], or calls [`Peer::ice_server_failed`]. Without either
    /// within [`super::ICE_SERVER_RESOLVE_TIMEOUT`] the server is given up. A failure is an
    /// [`PeerEvent::IceCandidateError`] (701) once gathering runs.
    pub fn expect_ice_server(&mut self, now: Time, kind: super::IceServerKind, url: &str) -> Result<u32, PeerError> {
        self.check_open()?;
        let token = self
            .pending_servers
            .add(now, kind, url)
            .ok_or_else(|| err(ErrorKind::Operation, format!("at most {} ICE servers resolved at once", super::MAX_PENDING_ICE_SERVERS)))?;
        self.ice.set_pending_servers(now, self.pending_servers.waiting());
        Ok(token)
    }

    /// Whether the server of `token` is still awaited: a late answer (the server timed out,
    /// or a new configuration dropped it) is to be dropped by the host.
    pub fn ice_server_pending(&self, token: u32) -> bool {
        self.pending_servers.is_pending(token)
    }

    /// The server of `token` is configured: gathering no longer waits for its name.
    pub fn ice_server_settled(&mut self, now: Time, token: u32) {
        if self.pending_servers.settle(token) {
            self.on_pending_servers(now);
        }
    }

    /// The host name of the server of `token` did not resolve (`text` says how).
    pub fn ice_server_failed(&mut self, now: Time, token: u32, text: &str) {
        if self.pending_servers.fail(token, text) {
            self.on_pending_servers(now);
        }
    }

    /// A STUN server whose name resolved late ([`Peer::expect_ice_server`]): used from now
    /// on, at once if gathering runs.
    pub fn add_stun_server(&mut self, now: Time, server: SocketAddr) {
        if !self.closed {
            self.ice.add_stun_server(now, server);
            self.pump(now);
        }
    }

    /// Reports the failed pending servers (once gathering runs) and tells ICE how many are
    /// still awaited.
    fn on_pending_servers(&mut self, now: Time) {
        if self.gathering_started && !self.closed {
            for (url, text) in self.pending_servers.take_failed() {
                self.events.push_back(PeerEvent::IceCandidateError { url, error_code: super::UNREACHABLE_ERROR_CODE, error_text: text });
            }
        }
        self.ice.set_pending_servers(now, self.pending_servers.waiting());
        self.pump(now);
    }

    fn fail_relay_server(&mut self, now: Time, i: usize, failed_url: &str, text: &str, next_url: Option<&str>) {
        let mut out = Vec::new();
        if let Some(r) = self.relays.get_mut(i) {
            r.server_failed(failed_url, text, next_url, &mut out);
        }
        self.on_relay_outputs(now, out);
        self.pump(now);
    }

    /// Acts on what relays reported: relayed transports to ICE, errors to the application,
    /// relayed datagrams to the layers above (as if they arrived on the relayed transport).
    fn on_relay_outputs(&mut self, now: Time, outputs: Vec<RelayOutput>) {
        for o in outputs {
            match o {
                RelayOutput::Allocated { id, relayed, base, protocol } => {
                    self.ice.add_relay_transport(id, relayed, base, protocol);
                    self.ice.relay_settled(now);
                }
                RelayOutput::AllocationFailed { url, code, text } => {
                    self.ice.relay_settled(now);
                    if !self.closed {
                        self.events.push_back(PeerEvent::IceCandidateError { url, error_code: code, error_text: text });
                    }
                }
                RelayOutput::ServerError { url, code, text } => {
                    if !self.closed {
                        self.events.push_back(PeerEvent::IceCandidateError { url, error_code: code, error_text: text });
                    }
                }
                RelayOutput::Datagram { id, from, data } => self.handle_path_datagram(now, id, from, &data),
            }
        }
    }

    fn check_open(&self) -> Result<(), PeerError> {
        if self.closed {
            Err(err(ErrorKind::InvalidState, "the peer connection is closed"))
        } else {
            Ok(())
        }
    }

    /// `restart`: new credentials for an ICE restart offer, which carries no candidate of
    /// the old generation.
    fn local_params(&mut self, setup: Setup, restart: Option<&IceCredentials>) -> LocalParams {
        let creds = restart.unwrap_or(self.ice.local_credentials());
        let fp = self.certificate.fingerprint().to_sdp_value();
        let (algo, value) = fp.split_once(' ').unwrap_or(("sha-256", ""));
        self.session_version += 1;
        LocalParams {
            ice_ufrag: creds.ufrag.clone(),
            ice_pwd: creds.pwd.clone(),
            fingerprints: vec![(algo.to_string(), value.to_string())],
            setup,
            sctp_port: SCTP_PORT,
            max_message_size: self.max_message_size,
            candidates: if restart.is_some() { Vec::new() } else { self.local_candidates.clone() },
            end_of_candidates: restart.is_none() && self.gathering_started && self.gathering == IceGatheringState::Complete,
            session_id: self.session_id,
            session_version: self.session_version,
            mid: self.data_mid.clone(),
            ice_lite: self.ice.is_lite(),
        }
    }

    pub fn create_offer(&mut self) -> Result<String, PeerError> {
        self.create_offer_with(false)
    }

    /// W3C `restartIce()`: the next offer restarts ICE (RFC 8445 §9, JSEP §5.2.1). Before
    /// any local description there is nothing to restart (the first offer has fresh
    /// credentials anyway).
    pub fn restart_ice(&mut self) {
        if self.closed || (self.current_local.is_none() && self.pending_local.is_none()) {
            return;
        }
        self.ice_ufrag_to_replace = Some(self.ice.local_credentials().ufrag.clone());
    }

    /// `createOffer(options)`; `ice_restart` is `RTCOfferOptions.iceRestart`.
    pub fn create_offer_with(&mut self, ice_restart: bool) -> Result<String, PeerError> {
        self.check_open()?;
        let restart = self.negotiated.is_some()
            && (ice_restart || self.ice_ufrag_to_replace.as_deref() == Some(self.ice.local_credentials().ufrag.as_str()));
        self.restart_offer_credentials = restart.then(|| IceCredentials {
            ufrag: self.rng.ice_string(16),
            pwd: self.rng.ice_string(24),
        });
        let setup = match &self.negotiated {
            // JSEP §5.2.2: a subsequent offer keeps the negotiated role.
            Some(n) if n.dtls_role == DtlsRole::Client => Setup::Active,
            Some(_) => Setup::Passive,
            None => Setup::Actpass,
        };
        let fresh = self.restart_offer_credentials.clone();
        let params = self.local_params(setup, fresh.as_ref());
        // JSEP §5.2.1: the data section exists once a channel was created or negotiated
        // (a negotiated section is never removed from later offers).
        let data_wanted = self.data_channel_created || self.negotiated.as_ref().is_some_and(|n| n.remote.data_mline_index.is_some());
        let (sections, bundle) = self.offer_sections(data_wanted);
        let bundle: Vec<&str> = bundle.iter().map(String::as_str).collect();
        let sdp = jsep::build_description(&params, &sections, &bundle, params.setup).to_string();
        self.last_offer = Some(sdp.clone());
        Ok(sdp)
    }

    pub fn create_answer(&mut self) -> Result<String, PeerError> {
        self.check_open()?;
        if !matches!(self.signaling, SignalingState::HaveRemoteOffer | SignalingState::HaveLocalPranswer) {
            return Err(err(ErrorKind::InvalidState, "createAnswer needs a remote offer"));
        }
        let offer = self
            .pending_remote
            .as_ref()
            .ok_or_else(|| err(ErrorKind::InvalidState, "no remote offer"))?
            .sdp
            .clone();
        let offer = parse_sdp(&offer)?;
        let setup = match (&self.negotiated, self.remote.as_ref().map(|r| r.setup)) {
            // RFC 8842 §5.5: a subsequent answer keeps the negotiated DTLS role (a browser
            // restarting ICE offers actpass again).
            (Some(n), _) if n.dtls_role == DtlsRole::Client => Setup::Active,
            (Some(_), _) => Setup::Passive,
            (None, Some(Setup::Active)) => Setup::Passive,
            (None, _) => Setup::Active,
        };
        let params = self.local_params(setup, None);
        let answer = jsep::create_answer_with(&offer, &params, |_, offered| self.answer_section(offered))
            .map_err(|e| err(ErrorKind::Operation, format!("cannot answer: {e}")))?
            .to_string();
        self.last_answer = Some(answer.clone());
        Ok(answer)
    }

    pub fn set_local_description(
        &mut self,
        now: Time,
        ty: Option<SdpType>,
        sdp: Option<&str>,
    ) -> Result<Description, PeerError> {
        self.check_open()?;
        let sdp = sdp.filter(|s| !s.is_empty());
        // W3C "setLocalDescription": an implicit description picks its own type.
        let ty = match ty {
            Some(t) => t,
            None => match self.signaling {
                SignalingState::Stable | SignalingState::HaveLocalOffer | SignalingState::HaveRemotePranswer => {
                    SdpType::Offer
                }
                _ => SdpType::Answer,
            },
        };
        if ty == SdpType::Rollback {
            return self.rollback(true).map(|_| Description { ty, sdp: String::new() });
        }
        let next = jsep::transition(self.signaling, true, to_jsep_type(ty))
            .map_err(|e| err(ErrorKind::InvalidState, format!("{e}")))?;
        let text = match (ty, sdp) {
            (SdpType::Offer, None) => match self.last_offer.clone() {
                Some(s) if self.signaling == SignalingState::Stable || self.signaling == SignalingState::HaveLocalOffer => s,
                _ => self.create_offer()?,
            },
            // Answer or pranswer (a rollback returned above).
            (_, None) => match self.last_answer.clone() {
                Some(s) => s,
                None => self.create_answer()?,
            },
            (_, Some(s)) => {
                let given = parse_sdp(s)?;
                let ours = match ty {
                    SdpType::Offer => self.last_offer.clone(),
                    _ => self.last_answer.clone(),
                };
                let ours = ours.ok_or_else(|| {
                    err(ErrorKind::InvalidModification, "the description was not created by this peer")
                })?;
                let ours_parsed = parse_sdp(&ours)?;
                if !jsep::same_session(&given, &ours_parsed) {
                    return Err(err(
                        ErrorKind::InvalidModification,
                        "the description differs from the one created by createOffer/createAnswer",
                    ));
                }
                s.to_string()
            }
        };
        // Only a description with a usable section creates (and gathers for) a transport.
        let parsed = parse_sdp(&text)?;
        let transport = jsep::has_usable_section(&parsed);
        if ty == SdpType::Offer && self.signaling == SignalingState::Stable {
            self.snapshot_transceivers();
        }
        self.apply_local_media(&parsed, ty == SdpType::Answer);
        let desc = Description { ty, sdp: text };
        match ty {
            SdpType::Offer => {
                self.pending_local = Some(desc.clone());
                if self.negotiated.is_none() {
                    self.ice.set_controlling(true);
                }
                if let Some(fresh) = self.restart_offer_credentials.take() {
                    // Our ICE restart (RFC 8445 §9): new credentials, gathering again; the
                    // selected path keeps carrying DTLS until new checks succeed.
                    if self.credentials_before_restart.is_none() {
                        self.credentials_before_restart = Some(self.ice.local_credentials().clone());
                    }
                    self.ice.restart_with_credentials(fresh);
                    self.regather();
                }
            }
            SdpType::Pranswer => {
                self.pending_local = Some(desc.clone());
            }
            SdpType::Answer => {
                self.current_local = Some(desc.clone());
                self.pending_local = None;
                if let Some(r) = self.pending_remote.take() {
                    self.current_remote = Some(r);
                }
                self.last_answer = None;
                self.last_offer = None;
                self.credentials_before_restart = None;
                self.ice_restart_done();
                // Our answer took `active` unless the offerer insisted on being active.
                let role = match self.remote.as_ref().map(|r| r.setup) {
                    Some(Setup::Active) => DtlsRole::Server,
                    _ => DtlsRole::Client,
                };
                if transport && !self.remote.as_ref().is_some_and(|r| r.rejected) {
                    self.apply_negotiation(now, role)?;
                }
            }
            SdpType::Rollback => {}
        }
        self.signaling = next;
        // webrtc-pc: gathering begins for a transport the description creates; one without
        // a data section changes no gathering state.
        if transport && !self.gathering_started {
            self.gathering_started = true;
            self.local_candidates.clear();
            self.gathering = IceGatheringState::Gathering;
            self.events.push_back(PeerEvent::IceGatheringStateChanged(IceGatheringState::Gathering));
            self.start_relays(now);
            self.ice.start_gathering(now);
            self.on_pending_servers(now);
        }
        self.pump(now);
        Ok(desc)
    }

    fn rollback(&mut self, local: bool) -> Result<(), PeerError> {
        let allowed = if local {
            matches!(self.signaling, SignalingState::HaveLocalOffer | SignalingState::HaveLocalPranswer)
        } else {
            matches!(self.signaling, SignalingState::HaveRemoteOffer | SignalingState::HaveRemotePranswer)
        };
        if !allowed {
            return Err(err(ErrorKind::InvalidState, "nothing to roll back in this signaling state"));
        }
        self.rollback_transceivers();
        if local {
            self.pending_local = None;
            self.last_offer = None;
            self.restart_offer_credentials = None;
            if let Some(creds) = self.credentials_before_restart.take() {
                // Rollback of a restart offer: the previous credentials again.
                self.ice.restore_local_credentials(creds);
            }
        } else {
            self.pending_remote = None;
            self.last_answer = None;
            // Forget the remote parameters of the offer we rolled back.
            self.remote = self.negotiated.as_ref().map(|n| n.remote.clone());
            if let Some(creds) = self.credentials_before_restart.take() {
                // Rollback of a remote restart offer: both generations back as they were.
                self.ice.restore_local_credentials(creds);
                if let Some(r) = self.remote.as_ref() {
                    self.ice.set_remote_credentials(IceCredentials {
                        ufrag: r.ice_ufrag.clone(),
                        pwd: r.ice_pwd.clone(),
                    });
                }
            }
        }
        self.signaling = SignalingState::Stable;
        Ok(())
    }

    pub fn set_remote_description(&mut self, now: Time, ty: SdpType, sdp: &str) -> Result<(), PeerError> {
        self.check_open()?;
        if ty == SdpType::Rollback {
            return self.rollback(false);
        }
        let parsed = parse_sdp(sdp)?;
        if ty == SdpType::Offer && self.signaling == SignalingState::HaveLocalOffer {
            // W3C setRemoteDescription step: an offer in have-local-offer implies a rollback
            // of our own offer first (what perfect negotiation relies on).
            self.rollback(true)?;
        }
        let next = jsep::transition(self.signaling, false, to_jsep_type(ty))
            .map_err(|e| err(ErrorKind::InvalidState, format!("{e}")))?;
        let remote = match jsep::parse_remote(&parsed, ty == SdpType::Offer) {
            // The answer to an offer of ours without a usable section has none either.
            Err(_) if ty != SdpType::Offer && parsed.media.is_empty() && !self.local_offer_has_sections() => {
                RemoteParams::none()
            }
            r => r.map_err(|e| err(ErrorKind::Operation, format!("unusable remote description: {e}")))?,
        };
        if ty == SdpType::Offer {
            self.check_mline_order(&parsed)?;
        }
        if ty == SdpType::Offer && self.signaling == SignalingState::Stable {
            self.snapshot_transceivers();
        }
        if let Err(e) = self.apply_remote_media(&parsed, &remote, ty == SdpType::Offer) {
            // Nothing of a refused description stays (the transceivers it made are gone).
            if ty == SdpType::Offer && self.signaling == SignalingState::Stable {
                self.rollback_transceivers();
            }
            return Err(e);
        }
        for (algo, value) in &remote.fingerprints {
            if Fingerprint::parse_sdp(&format!("{algo} {value}")).is_err() {
                return Err(err(ErrorKind::Operation, format!("bad fingerprint {algo} {value}")));
            }
        }
        if let Some(mid) = &remote.data_mid {
            self.data_mid = mid.clone();
        }
        if let Some(idx) = remote.data_mline_index {
            self.data_mline_index = u16::try_from(idx).unwrap_or(0);
        }
        let desc = Description { ty, sdp: sdp.to_string() };
        // No usable data section: no ICE parameters to take (nothing to connect).
        let remote_restart =
            !remote.rejected && self.ice.remote_credentials().is_some_and(|c| c.ufrag != remote.ice_ufrag);
        if !remote.rejected {
            self.ice.set_remote_credentials(IceCredentials {
                ufrag: remote.ice_ufrag.clone(),
                pwd: remote.ice_pwd.clone(),
            });
        }
        if remote_restart && ty == SdpType::Offer {
            // RFC 8445 §9 / JSEP §5.3.1: the peer restarted ICE, so do we; the answer
            // carries new credentials and gathering runs again when it is applied.
            if self.credentials_before_restart.is_none() {
                self.credentials_before_restart = Some(self.ice.local_credentials().clone());
            }
            self.ice.restart();
            self.regather();
        }
        for c in &remote.candidates {
            match Candidate::parse(c) {
                Ok(c) => {
                    let _ = self.ice.add_remote_candidate(now, c);
                }
                Err(ice::IceError::MdnsCandidate) => self.add_mdns_candidate(now, c),
                Err(_) => {}
            }
        }
        if remote.end_of_candidates && !remote.rejected {
            self.ice.set_remote_end_of_candidates();
        }
        self.remote = Some(remote.clone());
        match ty {
            SdpType::Offer => {
                self.pending_remote = Some(desc);
                if self.negotiated.is_none() {
                    // RFC 8445 §6.1.1: the offerer is controlling (unless it is ICE lite).
                    self.ice.set_controlling(remote.ice_lite);
                }
            }
            SdpType::Pranswer => {
                self.pending_remote = Some(desc);
            }
            SdpType::Answer => {
                let offered_data = self
                    .pending_local
                    .as_ref()
                    .is_some_and(|d| parse_sdp(&d.sdp).is_ok_and(|p| jsep::has_usable_data_section(&p)));
                let sctp_up = self.negotiated.as_ref().is_some_and(|n| n.remote.data_mline_index.is_some());
                if offered_data && remote.data_mline_index.is_none() && !sctp_up {
                    // The answer rejected our data section (a media-only answerer): the
                    // channels waiting for it can never open (webrtc-pc: they close), and the
                    // next offer has no data section unless a channel is created again.
                    self.channels.close_all(&mut self.events);
                    self.data_channel_created = false;
                }
                self.current_remote = Some(desc);
                self.pending_remote = None;
                if let Some(l) = self.pending_local.take() {
                    self.current_local = Some(l);
                }
                self.last_offer = None;
                self.last_answer = None;
                self.credentials_before_restart = None;
                self.ice_restart_done();
                if remote.rejected {
                    // The remote refused data channels: nothing to connect.
                } else {
                    let role = match remote.setup {
                        Setup::Active => DtlsRole::Server,
                        _ => DtlsRole::Client,
                    };
                    self.apply_negotiation(now, role)?;
                }
            }
            SdpType::Rollback => {}
        }
        self.signaling = next;
        self.pump(now);
        Ok(())
    }

    /// JSEP §5.2.2 / §5.8: a subsequent offer keeps every m-line of the negotiated session in
    /// its place with its mid (only a rejected one may be recycled with another mid), and
    /// drops none. Otherwise `InvalidAccessError`, as browsers refuse it.
    fn check_mline_order(&self, offer: &SessionDescription) -> Result<(), PeerError> {
        let Some(prev) = self.current_local.as_ref().and_then(|d| SessionDescription::parse(&d.sdp).ok()) else {
            return Ok(());
        };
        for (i, pm) in prev.media.iter().enumerate() {
            let Some(nm) = offer.media.get(i) else {
                return Err(err(ErrorKind::InvalidAccess, "the offer has fewer m-lines than the negotiated session"));
            };
            if pm.port != 0 && nm.mid() != pm.mid() {
                return Err(err(ErrorKind::InvalidAccess, format!("m-line {i} changed its mid or its place")));
            }
        }
        Ok(())
    }

    /// Whether the local offer being answered (pending) has a usable section.
    fn local_offer_has_sections(&self) -> bool {
        self.pending_local.as_ref().is_some_and(|d| parse_sdp(&d.sdp).is_ok_and(|p| jsep::has_usable_section(&p)))
    }

    /// The offer/answer exchange is complete: fix the DTLS role and create the transports.
    fn apply_negotiation(&mut self, now: Time, role: DtlsRole) -> Result<(), PeerError> {
        let remote = self
            .remote
            .clone()
            .ok_or_else(|| err(ErrorKind::InvalidState, "no remote description"))?;
        if self.negotiated.is_some() {
            // Renegotiation of the same association keeps the transports; a data section
            // negotiated only now starts SCTP over the DTLS transport already there.
            if let Some(n) = self.negotiated.as_mut() {
                n.remote = remote;
            }
            if self.dtls_state == DtlsTransportState::Connected {
                self.start_sctp(now);
            }
            return Ok(());
        }
        let fingerprints: Vec<Fingerprint> = remote
            .fingerprints
            .iter()
            .filter_map(|(a, v)| Fingerprint::parse_sdp(&format!("{a} {v}")).ok())
            .collect();
        let dtls = DtlsConnection::new(
            role,
            self.certificate.clone(),
            fingerprints,
            // No HelloVerifyRequest round trip: ICE already proved the path, and every DTLS
            // datagram we send goes to the ICE-selected address, never to the (spoofable)
            // source of a ClientHello, so there is nothing for a cookie to protect.
            DtlsConfig { require_cookie: false, ..DtlsConfig::default() },
            self.rng.fork(),
        );
        self.dtls = Some(dtls);
        self.set_dtls_state(DtlsTransportState::Connecting);
        self.channels.set_dtls_role(role == DtlsRole::Client, &mut self.events);
        self.negotiated = Some(Negotiated { remote, dtls_role: role });
        // Datagrams that arrived before we could handle them.
        self.replay_early_dtls(now);
        self.maybe_start_dtls(now);
        Ok(())
    }

    /// After an ICE restart of our agent: candidates are gathered (and signaled) again from
    /// the next `set_local_description`.
    fn regather(&mut self) {
        self.gathering_started = false;
        self.local_candidates.clear();
    }

    /// W3C: an answer applied with credentials other than the ones `restartIce()` marked
    /// ends the need for a restart.
    fn ice_restart_done(&mut self) {
        if self.ice_ufrag_to_replace.as_deref() != Some(self.ice.local_credentials().ufrag.as_str()) {
            self.ice_ufrag_to_replace = None;
        }
    }

    /// Where DTLS (and SCTP inside it) may send: the selected pair, except once consent is
    /// lost (RFC 7675 §5.1: ICE `failed`), when nothing more is sent on it until an ICE
    /// restart validates a path again. Without a path the DTLS and SCTP clocks stand still
    /// (no retransmission into the void, no error counted for it); what the application
    /// sends meanwhile waits in the association, as the W3C spec wants for an open channel.
    fn send_path(&self) -> Option<(TransportId, SocketAddr)> {
        if self.ice.connection_state() == IceConnectionState::Failed {
            return None;
        }
        self.ice.selected_pair()
    }

    fn maybe_start_dtls(&mut self, now: Time) {
        if self.dtls_started || self.send_path().is_none() {
            return;
        }
        if let Some(d) = self.dtls.as_mut() {
            self.dtls_started = true;
            self.dtls_deadline = Some(now + DTLS_CONNECT_TIMEOUT);
            d.start(now);
        }
    }

    pub fn add_ice_candidate(&mut self, now: Time, candidate: Option<IceCandidateInit>) -> Result<(), PeerError> {
        self.check_open()?;
        let Some(remote_rejected) = self.remote.as_ref().map(|r| r.rejected) else {
            return Err(err(ErrorKind::InvalidState, "no remote description"));
        };
        if remote_rejected {
            // No media section of the remote description carries ICE: a candidate (or an
            // end-of-candidates naming a section) has nowhere to go; a general
            // end-of-candidates has nothing to mark.
            let general_eoc = candidate
                .as_ref()
                .is_none_or(|c| c.candidate.is_empty() && c.sdp_mid.is_none() && c.sdp_mline_index.is_none());
            if general_eoc {
                return Ok(());
            }
            return Err(err(ErrorKind::Operation, "the remote description has no media section for this candidate"));
        }
        let cand = match candidate {
            Some(c) if !c.candidate.is_empty() => c,
            other => {
                // End-of-candidates (webrtc-pc addIceCandidate): for the section named by
                // sdpMid / sdpMLineIndex, for all of them when both are null.
                let c = other.unwrap_or_default();
                let named = c.sdp_mid.is_some() || c.sdp_mline_index.is_some();
                let section = if named { Some(self.check_candidate_section(&c)?) } else { None };
                if !self.is_current_remote_generation(c.username_fragment.as_deref())? {
                    return Ok(());
                }
                self.ice.set_remote_end_of_candidates();
                self.add_to_remote_descriptions(None, section);
                self.pump(now);
                return Ok(());
            }
        };
        let section = self.check_candidate_section(&cand)?;
        if !self.is_current_remote_generation(cand.username_fragment.as_deref())? {
            return Ok(());
        }
        match Candidate::parse(&cand.candidate) {
            Ok(c) => {
                self.ice
                    .add_remote_candidate(now, c)
                    .map_err(|e| err(ErrorKind::Operation, format!("candidate refused: {e:?}")))?;
                self.add_to_remote_descriptions(Some(&cand.candidate), Some(section));
            }
            // A `.local` name waits for the host to resolve it (it is in the remote
            // description at once, as browsers put it there).
            Err(ice::IceError::MdnsCandidate) => {
                self.add_mdns_candidate(now, &cand.candidate);
                self.add_to_remote_descriptions(Some(&cand.candidate), Some(section));
            }
            // Candidates we cannot use are accepted and ignored, as browsers do; a candidate
            // that does not parse is an error.
            Err(e) if is_ignorable_candidate_error(&e) => {}
            Err(e) => return Err(err(ErrorKind::Operation, format!("bad candidate: {e:?}"))),
        }
        self.pump(now);
        Ok(())
    }

    /// webrtc-pc addIceCandidate: `sdpMid` (else `sdpMLineIndex`) must name a media
    /// section of the remote description that carries our transport (the data section or a
    /// section BUNDLEd with it). Returns that section's m-line index.
    fn check_candidate_section(&self, cand: &IceCandidateInit) -> Result<usize, PeerError> {
        let data = usize::from(self.data_mline_index);
        let bundled = self.remote.as_ref().map(|r| r.bundled.as_slice()).unwrap_or(&[]);
        if let Some(mid) = &cand.sdp_mid {
            if mid == &self.data_mid {
                return Ok(data);
            }
            return bundled
                .iter()
                .find(|(m, _)| m == mid)
                .map(|(_, i)| *i)
                .ok_or_else(|| err(ErrorKind::Operation, format!("no m-line with mid {mid}")));
        }
        if let Some(idx) = cand.sdp_mline_index {
            let idx = usize::from(idx);
            if idx != data && !bundled.iter().any(|(_, i)| *i == idx) {
                return Err(err(ErrorKind::Operation, format!("no m-line with index {idx}")));
            }
            return Ok(idx);
        }
        Ok(data)
    }

    /// webrtc-pc addIceCandidate, once applied: the candidate (`None`: `a=end-of-candidates`)
    /// is added to the pending and current remote descriptions of its ICE generation (the
    /// remote ufrag in use), in section `section` or, for `None`, in every section that is
    /// not rejected.
    fn add_to_remote_descriptions(&mut self, line: Option<&str>, section: Option<usize>) {
        let Some(ufrag) = self.remote.as_ref().map(|r| r.ice_ufrag.clone()) else { return };
        for desc in [self.pending_remote.as_mut(), self.current_remote.as_mut()].into_iter().flatten() {
            let Ok(mut parsed) = SessionDescription::parse(&desc.sdp) else { continue };
            let session_ufrag = parsed.attr("ice-ufrag").map(str::to_owned);
            let mut changed = false;
            for idx in 0..parsed.media.len() {
                let Some(m) = parsed.media.get(idx) else { continue };
                let m_ufrag = m.attr("ice-ufrag").map(str::to_owned).or_else(|| session_ufrag.clone());
                let wanted = match section {
                    Some(s) => s == idx,
                    None => m.port != 0,
                };
                if !wanted || m_ufrag.as_deref().map(str::trim) != Some(ufrag.as_str()) {
                    continue;
                }
                let done = match line {
                    Some(l) => jsep::add_candidate(&mut parsed, idx, l),
                    None => jsep::add_end_of_candidates(&mut parsed, idx),
                };
                changed |= done.is_ok();
            }
            if changed {
                desc.sdp = parsed.to_string();
            }
        }
    }

    /// W3C `addIceCandidate`: a `usernameFragment` must be one of an applied remote
    /// description (else `OperationError`). `Ok(false)`: the one of the current description
    /// while a restart offer is pending, an old generation whose candidate is ignored.
    fn is_current_remote_generation(&self, ufrag: Option<&str>) -> Result<bool, PeerError> {
        let (Some(u), Some(r)) = (ufrag, self.remote.as_ref()) else { return Ok(true) };
        if u == r.ice_ufrag {
            return Ok(true);
        }
        let older = self.negotiated.as_ref().map(|n| n.remote.ice_ufrag.as_str());
        if self.pending_remote.is_some() && older == Some(u) {
            return Ok(false);
        }
        Err(err(ErrorKind::Operation, "candidate for an unknown ICE generation (username fragment)"))
    }

    pub fn current_local_description(&self) -> Option<Description> {
        self.current_local.clone()
    }
    pub fn pending_local_description(&self) -> Option<Description> {
        self.pending_local.clone()
    }
    pub fn current_remote_description(&self) -> Option<Description> {
        self.current_remote.clone()
    }
    pub fn pending_remote_description(&self) -> Option<Description> {
        self.pending_remote.clone()
    }
    pub fn signaling_state(&self) -> SignalingState {
        if self.closed {
            SignalingState::Closed
        } else {
            self.signaling
        }
    }
    pub fn ice_gathering_state(&self) -> IceGatheringState {
        self.gathering
    }
    pub fn ice_connection_state(&self) -> IceConnectionState {
        self.ice_state
    }
    pub fn connection_state(&self) -> PeerConnectionState {
        self.connection
    }
    pub fn dtls_state(&self) -> DtlsTransportState {
        self.dtls_state
    }
    /// Our current ICE username fragment: a host that shares one port among many peers
    /// routes Binding requests by it ([`crate::stun::binding_request_local_ufrag`]).
    pub fn local_ice_ufrag(&self) -> &str {
        &self.ice.local_credentials().ufrag
    }

    /// W3C `RTCIceTransport.getSelectedCandidatePair()`: (local, remote) as SDP candidate
    /// attributes (`candidate:...`), once ICE selected a pair.
    pub fn selected_candidate_pair(&self) -> Option<(String, String)> {
        let (local, remote) = self.ice.selected_candidates()?;
        Some((local.to_sdp_string(), remote.to_sdp_string()))
    }

    /// W3C `RTCDtlsTransport.getRemoteCertificates()`: the peer's DER certificate once the
    /// DTLS handshake completed (the chain is the leaf only, as WebRTC peers send).
    pub fn remote_certificate(&self) -> Option<&[u8]> {
        self.remote_certificate.as_deref()
    }

    /// W3C `RTCErrorEvent` on a failed `RTCDtlsTransport`: `fingerprint-failure` when the
    /// peer's certificate matched no signaled fingerprint (webrtc-pc §5.5), else `dtls-failure`.
    pub fn dtls_failure_detail(&self) -> Option<&'static str> {
        match (self.dtls_state, self.dtls_fingerprint_failure) {
            (DtlsTransportState::Failed, true) => Some("fingerprint-failure"),
            (DtlsTransportState::Failed, false) => Some("dtls-failure"),
            _ => None,
        }
    }

    pub fn can_trickle_ice_candidates(&self) -> Option<bool> {
        self.remote.as_ref().map(|r| r.trickle)
    }
    pub fn is_negotiation_needed(&self) -> bool {
        let data_negotiated = self.negotiated.as_ref().is_some_and(|n| n.remote.data_mline_index.is_some());
        !self.closed
            && ((!data_negotiated && self.channels.any_non_closed())
                || self.ice_ufrag_to_replace.is_some()
                || self.media_negotiation_needed())
    }

    pub fn create_data_channel(
        &mut self,
        now: Time,
        init: DataChannelInit,
    ) -> Result<(ChannelId, Option<u16>), PeerError> {
        self.check_open()?;
        let r = self.channels.create(init)?;
        self.data_channel_created = true;
        self.channels.open_pending(now, self.sctp.as_mut(), &mut self.events);
        self.pump(now);
        Ok(r)
    }

    pub fn send(&mut self, now: Time, channel: ChannelId, binary: bool, data: &[u8]) -> Result<(), PeerError> {
        self.check_open()?;
        let limit = self.sctp_max_message_size().unwrap_or(self.max_message_size);
        if data.len() > limit {
            return Err(err(ErrorKind::Type, format!("message of {} bytes exceeds maxMessageSize {limit}", data.len())));
        }
        let sctp = self
            .sctp
            .as_mut()
            .ok_or_else(|| err(ErrorKind::InvalidState, "the data channel is not open"))?;
        self.channels.send(now, sctp, channel, binary, data)?;
        self.pump(now);
        Ok(())
    }

    /// When the peer closes a channel (resets its stream), emit `DataChannelClosing` and
    /// reset our direction only when the host calls [`Peer::close_channel`] (meanwhile sends
    /// are still taken): the W3C closing procedure "finishes sending all currently pending
    /// messages" first, and a JS host may hold some of them (Blobs being read, sends waiting
    /// for room). Off by default: the reset is answered at once, after what is queued here.
    pub fn set_hold_remote_close(&mut self, hold: bool) {
        self.channels.set_hold_remote_close(hold);
    }

    pub fn close_channel(&mut self, now: Time, channel: ChannelId) {
        self.channels.close(now, self.sctp.as_mut(), channel, &mut self.events);
        self.pump(now);
    }

    pub fn channel_id(&self, channel: ChannelId) -> Option<u16> {
        self.channels.stream_of(channel)
    }

    pub fn sctp_max_message_size(&self) -> Option<usize> {
        let n = self.negotiated.as_ref()?;
        // RFC 8841 §6: no attribute means 64 KiB; 0 means "no limit" (we keep ours).
        let remote = match n.remote.max_message_size {
            None => 65536,
            Some(0) => usize::MAX,
            Some(m) => m,
        };
        Some(remote.min(self.max_message_size.max(1)).max(1))
    }

    /// W3C `setConfiguration()`: STUN servers and `iceTransportPolicy` for the next gathering
    /// phase (at once if gathering has not started).
    /// Pending STUN servers of the old configuration are dropped.
    pub fn set_ice_config(&mut self, now: Time, stun_servers: Vec<SocketAddr>, relay_only: bool) -> Result<(), PeerError> {
        self.check_open()?;
        self.pending_servers.cancel_stun();
        self.ice.set_gathering_config(stun_servers, relay_only);
        self.on_pending_servers(now);
        Ok(())
    }

    pub fn close(&mut self, now: Time) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.stats.mdns_candidates_unresolved += self.mdns.clear() as u64;
        // W3C "close the connection": our channels are closed abruptly, without the closing
        // procedure and without an error; only the peer's channels see the ABORT as one.
        self.channels.close_all(&mut self.events);
        if let Some(s) = self.sctp.as_mut() {
            s.abort(now);
        }
        self.drain_sctp(now, true);
        if let Some(d) = self.dtls.as_mut() {
            d.close();
        }
        self.drain_dtls_transmits();
        self.ice.close();
        // The ABORT and close_notify just queued for a relayed path go into their TURN
        // messages now, while the allocation still takes them.
        self.wrap_relayed_transmits(now);
        // Allocations are released (Refresh with lifetime 0): the host keeps polling the
        // relays' transmits and timeouts until they are done.
        for r in &mut self.relays {
            r.close(now);
        }
        self.ice_state = IceConnectionState::Closed;
        self.dtls_state = DtlsTransportState::Closed;
        self.connection = PeerConnectionState::Closed;
        self.signaling = SignalingState::Closed;
    }

    /// Datagrams queued for a relayed path are handed to its TURN client (which queues the
    /// ChannelData / Send indication); the others stay queued, in order.
    fn wrap_relayed_transmits(&mut self, now: Time) {
        if self.relays.is_empty() {
            return;
        }
        let queued = std::mem::take(&mut self.transmits);
        for t in queued {
            match self.relays.iter_mut().find(|r| r.id == t.transport) {
                Some(r) => {
                    if r.send(now, t.destination, &t.data).is_err() {
                        self.stats.relay_send_errors += 1;
                    }
                }
                None => self.transmits.push_back(t),
            }
        }
    }

    pub fn handle_datagram(&mut self, now: Time, transport: TransportId, from: SocketAddr, data: &[u8]) {
        if let Some(r) = self.relays.iter_mut().find(|r| r.is_server_path(transport, from) && r.takes(data)) {
            // From a TURN server (also after close: the answer to our deallocation).
            let mut out = Vec::new();
            r.handle_input(now, data, &mut out);
            self.on_relay_outputs(now, out);
            self.pump_with(now, false);
            return;
        }
        self.handle_path_datagram(now, transport, from, data);
    }

    /// A datagram on an ICE path: a host transport, or a relayed one.
    fn handle_path_datagram(&mut self, now: Time, transport: TransportId, from: SocketAddr, data: &[u8]) {
        if self.closed {
            return;
        }
        self.stats.datagrams_received += 1;
        // RFC 7983 demultiplexing on the first byte.
        match data.first().copied() {
            Some(0..=3) => {
                if self.ice.handle_stun(now, transport, from, data).is_err() {
                    self.stats.stun_errors += 1;
                }
                // A check may have validated the path of held DTLS datagrams.
                self.replay_early_dtls(now);
            }
            Some(20..=63) => {
                if self.ice.note_datagram(now, false, transport, from, data.len()) {
                    self.stats.packets_received += 1;
                    self.stats.bytes_received += data.len() as u64;
                }
                self.on_dtls_datagram(now, transport, from, data)
            }
            Some(128..=191) => self.on_media_datagram(now, transport, from, data),
            _ => self.stats.datagrams_dropped_unknown += 1,
        }
        // SCTP packets are assembled when the host asks for transmits: the SACK chunks taken
        // for every second DATA packet of a batch the host fed before draining go out
        // bundled in one packet, not one packet each.
        self.pump_with(now, false);
    }

    /// Only the ICE-validated peer steers DTLS (and SCTP inside it), as libwebrtc and Pion
    /// do: a record from anywhere else could end or stall the handshake or the association
    /// (a forged plaintext alert, a ClientHello with a far-ahead message_seq). A datagram
    /// from a remote candidate whose pair is still being checked is held, not dropped: the
    /// peer's checks often succeed before ours, and its ClientHello follows at once.
    fn on_dtls_datagram(&mut self, now: Time, transport: TransportId, from: SocketAddr, data: &[u8]) {
        let validated = self.ice.is_validated_path(transport, from);
        // Order matters per path only: held datagrams of other paths do not hold this one.
        let held_before = self.early_dtls.iter().any(|(t, f, _)| *t == transport && *f == from);
        if validated && self.dtls.is_some() && !held_before {
            self.feed_dtls(now, data);
        } else if validated || self.ice.is_candidate_path(transport, from) {
            if early_cost(data) > MAX_EARLY_DTLS_BYTES {
                self.stats.datagrams_dropped_early += 1;
                return;
            }
            // The oldest go: a flight is retransmitted whole, the newest copy is as good.
            while self.early_dtls.len() >= MAX_EARLY_DTLS_DATAGRAMS
                || self.early_dtls.iter().map(|(_, _, d)| early_cost(d)).sum::<usize>() + early_cost(data)
                    > MAX_EARLY_DTLS_BYTES
            {
                if self.early_dtls.pop_front().is_none() {
                    break;
                }
                self.stats.datagrams_dropped_early += 1;
            }
            self.early_dtls.push_back((transport, from, data.to_vec()));
            self.replay_early_dtls(now);
        } else {
            self.stats.datagrams_dropped_off_path += 1;
        }
    }

    /// Feeds the held DTLS datagrams whose path is validated now (once the DTLS endpoint
    /// exists); the others stay, in order.
    fn replay_early_dtls(&mut self, now: Time) {
        if self.dtls.is_none() || self.early_dtls.is_empty() {
            return;
        }
        let held = core::mem::take(&mut self.early_dtls);
        for (transport, from, data) in held {
            if self.ice.is_validated_path(transport, from) {
                self.feed_dtls(now, &data);
            } else {
                self.early_dtls.push_back((transport, from, data));
            }
        }
    }

    /// RFC 5764 §4.2: the SRTP master keys and salts of both directions from the DTLS
    /// exporter, once the handshake negotiated a profile.
    fn key_srtp(&mut self, profile: Option<u16>) {
        let (Some(profile), Some(dtls), Some(n)) =
            (profile.and_then(SrtpProfile::from_id), self.dtls.as_ref(), self.negotiated.as_ref())
        else {
            return;
        };
        let material = dtls.export_keying_material(b"EXTRACTOR-dtls_srtp", profile.keying_material_len());
        if let Ok(m) = material {
            self.srtp = SrtpSession::from_dtls(profile, &m, n.dtls_role == DtlsRole::Client).ok();
        }
    }

    fn feed_dtls(&mut self, now: Time, data: &[u8]) {
        if let Some(d) = self.dtls.as_mut() {
            if d.handle_datagram(now, data).is_err() {
                self.stats.dtls_errors += 1;
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Time) {
        let mut out = Vec::new();
        for r in &mut self.relays {
            if r.poll_timeout().is_some_and(|t| now >= t) {
                r.handle_timeout(now, &mut out);
            }
        }
        self.on_relay_outputs(now, out);
        if self.closed {
            return;
        }
        if self.pending_servers.handle_timeout(now) {
            self.on_pending_servers(now);
        }
        self.handle_mdns_timeout(now);
        self.ice.handle_timeout(now);
        if self.send_path().is_some() {
            if let Some(d) = self.dtls.as_mut() {
                d.handle_timeout(now);
            }
            if let Some(s) = self.sctp.as_mut() {
                s.handle_timeout(now);
            }
        }
        self.handle_rtcp_timeout(now);
        self.handle_jitter_timeout(now);
        self.handle_dtmf_timeout(now);
        self.pump(now);
        if self.dtls_deadline.is_some_and(|t| now >= t) && self.dtls_state == DtlsTransportState::Connecting {
            self.dtls_deadline = None;
            self.dtls = None;
            self.set_dtls_state(DtlsTransportState::Failed);
            self.channels.close_all(&mut self.events);
        }
    }

    pub fn poll_transmit(&mut self, now: Time) -> Option<Transmit> {
        loop {
            // The relays' own messages to their servers first (and after close: deallocation).
            if let Some(t) = self.relays.iter_mut().find_map(|r| r.poll_transmit()) {
                return Some(t);
            }
            if self.transmits.is_empty() && !self.closed {
                self.pump(now);
            }
            let t = self.transmits.pop_front()?;
            if !matches!(t.data.first(), Some(0..=3)) {
                // Not STUN: counted for getStats (transport and candidate pair).
                self.stats.packets_sent += 1;
                self.stats.bytes_sent += t.data.len() as u64;
                self.ice.note_datagram(now, true, t.transport, t.destination, t.data.len());
            }
            let Some(r) = self.relays.iter_mut().find(|r| r.id == t.transport) else {
                return Some(t);
            };
            // A datagram on a relayed path goes to the server inside a TURN message.
            if r.send(now, t.destination, &t.data).is_err() {
                self.stats.relay_send_errors += 1;
            }
        }
    }

    /// The ICE agent, read-only (candidates, pairs and their counters for getStats).
    pub fn ice_agent(&self) -> &IceAgent {
        &self.ice
    }

    /// The DTLS role once negotiated.
    pub fn dtls_role(&self) -> Option<DtlsRole> {
        self.negotiated.as_ref().map(|n| n.dtls_role)
    }

    /// The URL of the TURN relay whose allocation is ICE transport `transport`.
    pub fn relay_url(&self, transport: TransportId) -> Option<&str> {
        self.relays.iter().find(|r| r.id == transport).map(|r| r.url.as_str())
    }

    /// The DTLS cipher suite once the handshake chose one.
    pub fn dtls_cipher_suite(&self) -> Option<crate::dtls::CipherSuite> {
        self.dtls.as_ref().and_then(|d| d.cipher_suite())
    }

    pub fn poll_event(&mut self) -> Option<PeerEvent> {
        let ev = self.events.pop_front();
        if matches!(ev, Some(PeerEvent::RtpReceived(_) | PeerEvent::RtcpReceived(_))) {
            self.media_events_queued = self.media_events_queued.saturating_sub(1);
        }
        ev
    }

    /// The SRTP profile DTLS negotiated, once it is connected.
    pub fn srtp_profile(&self) -> Option<SrtpProfile> {
        self.srtp.as_ref().map(SrtpSession::profile)
    }

    /// The SRTP session's counters, once keyed.
    pub fn srtp_stats(&self) -> Option<SrtpStats> {
        self.srtp.as_ref().map(SrtpSession::stats)
    }

    /// The transport-wide congestion control receiver's counters (packets recorded, feedback
    /// sent), once a packet with a transport-wide sequence number has arrived.
    pub fn twcc_stats(&self) -> Option<crate::media::TwccStats> {
        self.twcc.as_ref().map(crate::media::TwccRecorder::stats)
    }

    /// Sends one RTP packet (header and payload, as RFC 3550 lays it out) to the peer: SRTP
    /// protects it and it goes on the selected path. `InvalidState` before DTLS has keyed SRTP
    /// or while there is no path; `Operation` for a packet SRTP refuses (not RTP version 2,
    /// too many SSRCs, index space used up).
    pub fn send_rtp(&mut self, now: Time, packet: &[u8]) -> Result<(), PeerError> {
        self.send_media(now, packet, false)
    }

    /// Sends one (compound) RTCP packet to the peer, SRTCP protected; see [`Peer::send_rtp`].
    pub fn send_rtcp(&mut self, now: Time, packet: &[u8]) -> Result<(), PeerError> {
        self.send_media(now, packet, true)
    }

    fn send_media(&mut self, now: Time, packet: &[u8], rtcp: bool) -> Result<(), PeerError> {
        self.check_open()?;
        self.protect_and_queue(packet, rtcp)?;
        self.pump(now);
        Ok(())
    }

    /// The remote streams that delivered RTP, with their counters.
    pub fn inbound_rtp(&self) -> &[InboundRtp] {
        &self.inbound_rtp
    }

    /// Counts an RTP packet that SRTP accepted on its SSRC's stream. Retransmissions (an RTX
    /// payload type) are not a stream of their own.
    fn count_inbound_rtp(&mut self, now: Time, packet: &[u8], assembled: (u64, u64, u64)) {
        let (Some(h), Some(&pt), Some(ssrc)) = (
            crate::srtp::rtp_header_len(packet),
            packet.get(1),
            packet.get(8..12).and_then(|b| <[u8; 4]>::try_from(b).ok()),
        ) else {
            return;
        };
        let pt = pt & 0x7f;
        let ssrc = u32::from_be_bytes(ssrc);
        let padding = if packet[0] & 0x20 != 0 { packet.last().map_or(0, |p| usize::from(*p)) } else { 0 };
        let payload = packet.len().saturating_sub(h + padding) as u64;
        let section = self.remote.as_ref().and_then(|r| r.media.iter().find(|(_, m)| m.codec_for(pt).is_some()));
        if section.is_some_and(|(_, m)| m.codecs.iter().any(|c| c.rtx == Some(pt))) {
            // RFC 4588 §4: an RTX packet counts on the stream it repairs (the one it was
            // seen repairing), with its whole RTP payload (the original sequence number
            // included, as the sender's `retransmittedBytesSent` counts it). Padding-only RTX
            // packets (bandwidth probes) repair nothing.
            let osn = packet.get(h..h + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
            let stream = self.transceivers.iter_mut().flat_map(|t| &mut t.receive).find(|r| r.rtx_ssrc == Some(ssrc));
            let repaired = stream.map(|r| {
                if let Some(seq) = osn.filter(|_| payload >= 2) {
                    r.stats.on_retransmitted(now, seq);
                }
                r.ssrc
            });
            let stream = repaired.filter(|_| payload >= 2).and_then(|m| self.inbound_rtp.iter_mut().find(|s| s.ssrc == m));
            if let Some(s) = stream {
                s.packets += 1;
                s.payload_bytes += payload;
                s.header_bytes += (packet.len() as u64).saturating_sub(payload);
                s.retransmitted_packets += 1;
                s.retransmitted_bytes += payload;
                s.last_received = now;
            }
            return;
        }
        let rtx_negotiated = section.and_then(|(_, m)| m.codec_for(pt)).is_some_and(|c| c.rtx.is_some());
        let video = section.is_some_and(|(_, m)| m.kind == crate::sdp::media::MediaKind::Video);
        let (frames, multi, dropped) = if video { assembled } else { (0, 0, 0) };
        let room = self.inbound_rtp.len() < crate::srtp::MAX_SRTP_STREAMS;
        match self.inbound_rtp.iter_mut().find(|s| s.ssrc == ssrc) {
            Some(s) => {
                s.packets += 1;
                s.payload_bytes += payload;
                s.header_bytes += (packet.len() as u64).saturating_sub(payload);
                s.last_received = now;
                s.frames += frames;
                s.frames_multi_packet += multi;
                s.frames_dropped = dropped;
            }
            None if room => {
                self.inbound_rtp.push(InboundRtp {
                    ssrc,
                    payload_type: pt,
                    mid: section.and_then(|(_, m)| m.mid.clone()),
                    kind: section.map(|(_, m)| m.kind),
                    codec: section.and_then(|(_, m)| m.codec_for(pt).cloned()),
                    packets: 1,
                    payload_bytes: payload,
                    header_bytes: (packet.len() as u64).saturating_sub(payload),
                    last_received: now,
                    frames,
                    frames_multi_packet: multi,
                    frames_dropped: dropped,
                    rtx_negotiated,
                    retransmitted_packets: 0,
                    retransmitted_bytes: 0,
                });
            }
            None => {}
        }
    }

    /// RFC 7983 (first byte 128..=191) from the ICE-validated path only, like DTLS; RFC 5761 §4:
    /// RTCP packet types 192..=223 in the second byte, RTP otherwise.
    fn on_media_datagram(&mut self, now: Time, transport: TransportId, from: SocketAddr, data: &[u8]) {
        if !self.ice.is_validated_path(transport, from) {
            self.stats.datagrams_dropped_off_path += 1;
            return;
        }
        if self.ice.note_datagram(now, false, transport, from, data.len()) {
            self.stats.packets_received += 1;
            self.stats.bytes_received += data.len() as u64;
        }
        let Some(srtp) = self.srtp.as_mut() else {
            self.stats.media_dropped_no_srtp += 1;
            return;
        };
        let rtcp = matches!(data.get(1), Some(192..=223));
        let mut packet = data.to_vec();
        let r = if rtcp { srtp.unprotect_rtcp(&mut packet) } else { srtp.unprotect_rtp(&mut packet) };
        if r.is_err() {
            return; // counted by the SRTP session, by reason
        }
        if rtcp {
            self.receive_rtcp(now, &packet);
        } else {
            let assembled = self.receive_rtp(now, &packet);
            self.count_inbound_rtp(now, &packet, assembled);
        }
        if self.raw_media_events {
            self.queue_media_event(if rtcp { PeerEvent::RtcpReceived(packet) } else { PeerEvent::RtpReceived(packet) });
        }
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        let relays = self.relays.iter().filter_map(|r| r.poll_timeout()).min();
        if self.closed {
            return relays;
        }
        let mut t = earliest(self.ice.poll_timeout(), relays);
        t = earliest(t, self.pending_servers.poll_timeout());
        t = earliest(t, self.mdns.poll_timeout());
        let dtls_deadline = self.dtls_deadline.filter(|_| self.dtls_state == DtlsTransportState::Connecting);
        // Without a path DTLS and SCTP wait (see `send_path`).
        let path = self.send_path().is_some();
        for c in [
            dtls_deadline,
            self.dtls.as_ref().filter(|_| path).and_then(|d| d.poll_timeout()),
            self.sctp.as_ref().filter(|_| path).and_then(|s| s.poll_timeout()),
            self.rtcp_timeout(),
            self.jitter_timeout(),
            self.dtmf_timeout(),
        ] {
            t = earliest(t, c);
        }
        t
    }

    /// Moves everything that is ready between the layers, iteratively, until quiet.
    fn pump(&mut self, now: Time) {
        self.pump_with(now, true);
    }

    /// [`Peer::pump`]; with `sctp_transmits` false, SCTP packets stay in the association
    /// until the next `poll_transmit` (events are still moved).
    fn pump_with(&mut self, now: Time, sctp_transmits: bool) {
        if self.closed {
            return;
        }
        // Bounded: each round makes progress or we stop.
        for _ in 0..64 {
            let mut progress = false;
            while let Some(ev) = self.ice.poll_event() {
                progress = true;
                self.on_ice_event(now, ev);
            }
            while let Some(t) = self.ice.poll_transmit(now) {
                self.transmits.push_back(t);
            }
            let mut dtls_events = Vec::new();
            if let Some(dtls) = self.dtls.as_mut() {
                while let Some(ev) = dtls.poll_event() {
                    dtls_events.push(ev);
                }
            }
            for ev in dtls_events {
                progress = true;
                self.on_dtls_event(now, ev);
            }
            if self.drain_sctp(now, sctp_transmits) {
                progress = true;
            }
            self.drain_dtls_transmits();
            if !progress {
                break;
            }
        }
    }

    /// SCTP packets into DTLS records, SCTP events to channels. Returns whether anything moved.
    fn drain_sctp(&mut self, now: Time, transmits: bool) -> bool {
        let mut progress = false;
        // Packets stay in the association while there is no path to send them on.
        let transmits = transmits && self.send_path().is_some();
        let Some(sctp) = self.sctp.as_mut() else { return false };
        while let Some(packet) = if transmits { sctp.poll_transmit(now) } else { None } {
            progress = true;
            if let Some(d) = self.dtls.as_mut() {
                if d.send(&packet).is_err() {
                    self.stats.dtls_errors += 1;
                }
            }
        }
        let mut evs = Vec::new();
        while let Some(ev) = sctp.poll_event() {
            evs.push(ev);
        }
        for ev in evs {
            progress = true;
            self.on_sctp_event(now, ev);
        }
        progress
    }

    fn drain_dtls_transmits(&mut self) {
        let path = self.send_path();
        if let Some((transport, destination)) = path {
            // What the DTLS layer said before ICE found a path goes first.
            while let Some(data) = self.dtls_without_path.pop_front() {
                self.transmits.push_back(Transmit { transport, destination, data });
            }
        }
        let Some(dtls) = self.dtls.as_mut() else { return };
        while let Some(data) = dtls.poll_transmit() {
            match path {
                Some((transport, destination)) => self.transmits.push_back(Transmit { transport, destination, data }),
                None if self.dtls_without_path.len() < MAX_DTLS_DATAGRAMS_WITHOUT_PATH => {
                    self.dtls_without_path.push_back(data)
                }
                None => self.stats.datagrams_dropped_unknown += 1,
            }
        }
    }

    fn on_ice_event(&mut self, now: Time, ev: IceEvent) {
        match ev {
            IceEvent::LocalCandidate(c) => {
                let line = match self.local_names.as_mut() {
                    Some(names) => names.hide(&c, &mut self.rng),
                    None => c.to_sdp_string(),
                };
                self.local_candidates.push(line.clone());
                let (index, mid) = self.add_candidate_to_local_descriptions(Some(&line));
                self.events.push_back(PeerEvent::IceCandidate(Some(IceCandidateInit {
                    candidate: line,
                    sdp_mid: Some(mid),
                    sdp_mline_index: Some(index),
                    username_fragment: Some(self.ice.local_credentials().ufrag.clone()),
                })));
            }
            IceEvent::GatheringComplete => {
                if self.gathering != IceGatheringState::Complete {
                    self.gathering = IceGatheringState::Complete;
                    self.add_candidate_to_local_descriptions(None);
                    self.events.push_back(PeerEvent::IceGatheringStateChanged(IceGatheringState::Complete));
                    self.events.push_back(PeerEvent::IceCandidate(None));
                }
            }
            IceEvent::ConnectionStateChanged(s) => {
                if s != self.ice_state {
                    self.ice_state = s;
                    self.events.push_back(PeerEvent::IceConnectionStateChanged(s));
                    self.update_connection_state();
                }
            }
            IceEvent::SelectedPairChanged { .. } => {
                self.events.push_back(PeerEvent::SelectedCandidatePairChanged);
                self.maybe_start_dtls(now);
            }
        }
    }

    /// Browsers add gathered candidates to the local description as they come: in the
    /// section that carries the transport (the BUNDLE tag; the data section when it is the
    /// tag). Returns that section's m-line index and mid, which are also the `sdpMLineIndex`
    /// and `sdpMid` of our candidates.
    fn add_candidate_to_local_descriptions(&mut self, line: Option<&str>) -> (u16, String) {
        let mut section = (self.data_mline_index, self.data_mid.clone());
        // A pending offer may be an ICE restart: new candidates belong to it, not to the
        // current description of the previous generation.
        let desc = match self.pending_local.as_mut() {
            Some(d) => Some(d),
            None => self.current_local.as_mut(),
        };
        if let Some(desc) = desc {
            if let Ok(mut parsed) = SessionDescription::parse(&desc.sdp) {
                if let Some((i, mid)) = jsep::transport_section(&parsed) {
                    if let Ok(i) = u16::try_from(i) {
                        section = (i, mid);
                    }
                }
                let idx = usize::from(section.0);
                let _ = match line {
                    Some(l) => jsep::add_candidate(&mut parsed, idx, l),
                    None => jsep::add_end_of_candidates(&mut parsed, idx),
                };
                desc.sdp = parsed.to_string();
            }
        }
        section
    }

    /// Starts the SCTP association once DTLS is connected, when a data section was
    /// negotiated (a media-only session has none).
    fn start_sctp(&mut self, now: Time) {
        if self.sctp.is_some() {
            return;
        }
        let Some(n) = self.negotiated.as_ref().filter(|n| n.remote.data_mline_index.is_some()) else { return };
        let mut assoc = Association::new(
            SctpConfig {
                local_port: SCTP_PORT,
                remote_port: n.remote.sctp_port,
                max_message_size: self.max_message_size,
                ..SctpConfig::default()
            },
            self.rng.fork(),
        );
        if let Some(m) = self.sctp_max_message_size() {
            assoc.set_remote_max_message_size(m);
        }
        // Both sides send INIT (as Chromium does); SCTP resolves the collision.
        assoc.connect(now);
        self.sctp = Some(assoc);
    }

    fn on_dtls_event(&mut self, now: Time, ev: DtlsEvent) {
        match ev {
            DtlsEvent::Connected { peer_certificate, srtp_profile } => {
                if !peer_certificate.is_empty() {
                    self.remote_certificate = Some(peer_certificate);
                }
                self.key_srtp(srtp_profile);
                self.set_dtls_state(DtlsTransportState::Connected);
                self.start_sctp(now);
            }
            DtlsEvent::ApplicationData(data) => {
                if let Some(s) = self.sctp.as_mut() {
                    s.handle_packet(now, &data);
                }
            }
            DtlsEvent::Closed => {
                // The peer's close_notify (its ABORT, sent first, may have been lost): the
                // association under the channels is gone without a shutdown.
                self.channels.abort_all("the DTLS transport was closed by the peer", None, &mut self.events);
                self.set_dtls_state(DtlsTransportState::Closed);
            }
            DtlsEvent::Failed(e) => {
                self.dtls_fingerprint_failure = e == DtlsError::FingerprintMismatch;
                self.set_dtls_state(DtlsTransportState::Failed);
                self.channels.close_all(&mut self.events);
            }
        }
    }

    fn on_sctp_event(&mut self, now: Time, ev: SctpEvent) {
        match ev {
            SctpEvent::Connected => {
                let max = self.sctp_max_message_size().unwrap_or(self.max_message_size);
                self.events.push_back(PeerEvent::SctpConnected {
                    max_message_size: max,
                    max_channels: u16::MAX,
                });
                self.channels.open_pending(now, self.sctp.as_mut(), &mut self.events);
            }
            SctpEvent::Message { stream, ppid, data } => {
                if !self.channels.on_message(now, self.sctp.as_mut(), stream, ppid, data, &mut self.events) {
                    self.stats.messages_dropped += 1;
                }
            }
            SctpEvent::BufferedAmountDecreased { stream, bytes } => {
                self.channels.on_buffered_decrease(stream, bytes, &mut self.events);
                self.channels.retry_deferred_opens(now, self.sctp.as_mut(), &mut self.events);
            }
            SctpEvent::IncomingStreamReset { stream } => {
                self.channels.on_incoming_reset(now, self.sctp.as_mut(), stream, &mut self.events);
            }
            SctpEvent::OutgoingStreamReset { stream } => {
                self.channels.on_outgoing_reset(now, self.sctp.as_mut(), stream, &mut self.events);
            }
            SctpEvent::Closed => {
                self.channels.close_all(&mut self.events);
            }
            SctpEvent::Aborted { reason, cause } => {
                self.channels.abort_all(&reason, cause, &mut self.events);
            }
        }
    }

    fn set_dtls_state(&mut self, s: DtlsTransportState) {
        if self.dtls_state != s {
            self.dtls_state = s;
            self.events.push_back(PeerEvent::DtlsStateChanged(s));
            self.update_connection_state();
        }
    }

    /// W3C `RTCPeerConnectionState` from the ICE and DTLS transport states.
    fn update_connection_state(&mut self) {
        use DtlsTransportState as D;
        use IceConnectionState as I;
        let ice = self.ice_state;
        let dtls = self.dtls_state;
        let s = if self.closed {
            PeerConnectionState::Closed
        } else if ice == I::Failed || dtls == D::Failed {
            PeerConnectionState::Failed
        } else if ice == I::Disconnected {
            PeerConnectionState::Disconnected
        } else if matches!(ice, I::New | I::Closed) && matches!(dtls, D::New | D::Closed) {
            PeerConnectionState::New
        } else if matches!(ice, I::New | I::Checking) || matches!(dtls, D::New | D::Connecting) {
            PeerConnectionState::Connecting
        } else {
            PeerConnectionState::Connected
        };
        if s != self.connection {
            self.connection = s;
            self.events.push_back(PeerEvent::ConnectionStateChanged(s));
        }
    }
}


/// What a held early DTLS datagram costs against [`MAX_EARLY_DTLS_BYTES`].
/// The earlier of two optional deadlines.
fn earliest(a: Option<Time>, b: Option<Time>) -> Option<Time> {
    a.into_iter().chain(b).min()
}

fn early_cost(data: &[u8]) -> usize {
    data.len() + core::mem::size_of::<(TransportId, SocketAddr, Vec<u8>)>()
}

fn is_ignorable_candidate_error(e: &ice::IceError) -> bool {
    matches!(e, ice::IceError::MdnsCandidate | ice::IceError::UnresolvedHostname)
}
