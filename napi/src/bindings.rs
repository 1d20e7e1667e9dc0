//! The JS-facing surface (`engine-contract.md`): `generateCertificate`, `NativeCertificate`,
//! `NativePeer`. Every entry point returns a `Result` and runs behind `catch_unwind`.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{AsyncTask, FromNapiValue, Uint8Array, ValidateNapiValue};
use napi::threadsafe_function::{ErrorStrategy, ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, JsFunction, JsUnknown, NapiRaw, Task};
use napi_derive::napi;
use polyrtc::crypto::Rng;
use polyrtc::peer::{
    DataChannelInit, Description, ErrorKind, IceCandidateInit, IceServerKind, Peer, PeerConfig, PeerError, SdpType,
};
use polyrtc::Time;

use crate::cert::{self, CertInfo};
use crate::clock;
use crate::error::{self as jserr, JsResult};
use crate::events::Batch;
use crate::host::{lock, Backlog, Engine, EventSink, HostState, PeerHost, TcpLink, MAX_QUEUED_EVENT_BYTES};
use crate::timers::PeerId;
use crate::iface;
use crate::mdns;
use crate::reactor::{panic_message, Reactor, SharedHost};
use crate::resolve;

/// TURN server URLs a peer allocates on (`turn:` over UDP or TCP in `iceServers`); more are
/// ignored.
pub const MAX_TURN_SERVERS: usize = 8;
/// Largest `maxMessageSize` accepted from the config.
pub const MAX_CONFIG_MESSAGE_SIZE: f64 = 1024.0 * 1024.0 * 1024.0;

// The peer is shared with the I/O thread.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<Peer>();
};

static REACTOR: Mutex<Option<Reactor<Peer>>> = Mutex::new(None);

/// The process-wide I/O thread, started on first use.
fn reactor() -> napi::Result<Reactor<Peer>, String> {
    let mut g = lock(&REACTOR);
    if let Some(r) = g.as_ref() {
        return Ok(r.clone());
    }
    let r = Reactor::start().map_err(|e| jserr::new(ErrorKind::Operation, format!("I/O thread: {e}")))?;
    *g = Some(r.clone());
    Ok(r)
}

/// Runs an entry point; a panic becomes an `OperationError` instead of crossing FFI.
pub(crate) fn guard<T>(f: impl FnOnce() -> JsResult<T>) -> JsResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(jserr::new(ErrorKind::Operation, format!("internal error: {}", panic_message(p.as_ref())))),
    }
}

fn rng() -> napi::Result<Rng, String> {
    Rng::from_entropy().map_err(|e| jserr::new(ErrorKind::Operation, format!("no entropy: {e}")))
}

// ---------------------------------------------------------------------------------------
// Certificates

#[napi(object)]
pub struct JsFingerprint {
    pub algorithm: String,
    pub value: String,
}

/// Opaque certificate handle with `fingerprints` and `expires` (ms since the Unix epoch).
#[napi]
pub struct NativeCertificate {
    info: Arc<CertInfo>,
}

#[napi]
impl NativeCertificate {
    #[napi(getter)]
    pub fn fingerprints(&self) -> napi::Result<Vec<JsFingerprint>, String> {
        guard(|| {
            let f = self.info.fingerprints().map_err(jserr::from_peer)?;
            Ok(f.into_iter().map(|f| JsFingerprint { algorithm: f.algorithm, value: f.value }).collect())
        })
    }

    #[napi(getter)]
    pub fn expires(&self) -> f64 {
        // Milliseconds since 1970 fit a double exactly.
        self.info.expires_ms as f64
    }
}

/// `generateCertificate(expiresMs?)`: valid for `expiresMs` from now (default 30 days, at
/// most 365; a non-negative finite number, else `TypeError`).
#[napi]
pub fn generate_certificate(expires_ms: Option<f64>) -> napi::Result<NativeCertificate, String> {
    guard(|| {
        let validity = certificate_validity_ms(expires_ms)?;
        let info = cert::generate_valid_for(validity).map_err(jserr::from_peer)?;
        Ok(NativeCertificate { info: Arc::new(info) })
    })
}

/// `generateRsaCertificate(modulusLength, expiresMs?)`: a promise of an RSA certificate
/// (e = 65537, sha256WithRSAEncryption), generated on a libuv worker thread so the JS
/// thread never waits for the key search. Argument errors reject as `TypeError`, an
/// unsupported modulus as `NotSupportedError`.
#[napi(ts_return_type = "Promise<NativeCertificate>")]
pub fn generate_rsa_certificate(modulus_length: f64, expires_ms: Option<f64>) -> napi::Result<AsyncTask<GenerateRsa>, String> {
    guard(|| {
        let validity = certificate_validity_ms(expires_ms)?;
        if !modulus_length.is_finite() || modulus_length < 0.0 || modulus_length.fract() != 0.0 || modulus_length > 65536.0 {
            return Err(jserr::new(ErrorKind::Type, "modulusLength must be a whole number of bits"));
        }
        // Checked above: a whole number in 0..=65536.
        let modulus_bits = modulus_length as usize;
        Ok(AsyncTask::new(GenerateRsa { modulus_bits, validity_ms: validity }))
    })
}

/// The work of [`generate_rsa_certificate`].
pub struct GenerateRsa {
    modulus_bits: usize,
    validity_ms: u64,
}

impl Task for GenerateRsa {
    type Output = CertInfo;
    type JsValue = NativeCertificate;

    fn compute(&mut self) -> napi::Result<CertInfo> {
        let (bits, validity) = (self.modulus_bits, self.validity_ms);
        match catch_unwind(AssertUnwindSafe(|| cert::generate_rsa_valid_for(bits, validity))) {
            Ok(Ok(info)) => Ok(info),
            // The reason keeps the "<Name>: " prefix, which the JS layer maps to the error class.
            Ok(Err(e)) => Err(napi::Error::from_reason(jserr::from_peer(e).reason)),
            Err(p) => Err(napi::Error::from_reason(format!("OperationError: internal error: {}", panic_message(p.as_ref())))),
        }
    }

    fn resolve(&mut self, _env: Env, info: CertInfo) -> napi::Result<NativeCertificate> {
        Ok(NativeCertificate { info: Arc::new(info) })
    }
}

/// The validity asked of `generateCertificate`, in whole milliseconds, capped at
/// [`cert::MAX_CERT_VALIDITY_MS`].
fn certificate_validity_ms(expires_ms: Option<f64>) -> napi::Result<u64, String> {
    let Some(v) = expires_ms else { return Ok(cert::CERT_VALIDITY_MS) };
    if !v.is_finite() || v < 0.0 {
        return Err(jserr::new(ErrorKind::Type, "expires must be a non-negative finite number of milliseconds"));
    }
    let capped = v.min(cert::MAX_CERT_VALIDITY_MS as f64).trunc();
    // In 0..=MAX_CERT_VALIDITY_MS (< 2^53) after the checks above: the conversion is exact.
    Ok(capped as u64)
}

/// The `CertInfo` behind a JS value, if it really is a `NativeCertificate`.
fn certificate_from_js(env: &Env, v: &JsUnknown) -> napi::Result<Arc<CertInfo>, String> {
    let not_a_cert = || jserr::new(ErrorKind::Type, "certificates must be NativeCertificate objects");
    #[allow(unsafe_code)]
    // SAFETY: `validate` checks `instanceof NativeCertificate` first, so the unwrap below
    // reads a pointer napi stored for this very class (napi_unwrap fails cleanly for an
    // object that merely has the prototype). Both run on the JS thread with its live env.
    let cert: &NativeCertificate = unsafe {
        <&NativeCertificate as ValidateNapiValue>::validate(env.raw(), v.raw()).map_err(|_| not_a_cert())?;
        <&NativeCertificate as FromNapiValue>::from_napi_value(env.raw(), v.raw()).map_err(|_| not_a_cert())?
    };
    Ok(cert.info.clone())
}

// ---------------------------------------------------------------------------------------
// Peer

#[napi(object, object_to_js = false)]
pub struct NativePeerConfig {
    /// "host:port" of each STUN server (`stun:` URLs parsed by the JS layer).
    pub stun_servers: Vec<String>,
    pub certificates: Option<Vec<JsUnknown>>,
    pub include_loopback: Option<bool>,
    /// Nonstandard `mdnsHostCandidates`: signal host candidates under random `.local` names
    /// (answered by the process's mDNS responder), as browsers do.
    pub mdns_host_candidates: Option<bool>,
    /// Nonstandard `sharedUdpPort`: host candidates on this UDP port, one socket per local
    /// address shared by every peer asking for the same port (`shared_port.rs`).
    pub shared_udp_port: Option<u32>,
    /// Nonstandard `iceLite`: run as an ICE-lite agent (host candidates only, no checks).
    pub ice_lite: Option<bool>,
    pub max_message_size: Option<f64>,
    /// W3C `iceTransportPolicy`: `"all"` (default) or `"relay"`.
    pub ice_transport_policy: Option<String>,
    /// `turn:` URLs over UDP or TCP and `turns:` ones over TLS (parsed by the JS layer), one
    /// entry per URL.
    pub turn_servers: Option<Vec<JsTurnServer>>,
    /// PEM certificates trusted for `turns:` servers instead of the system's roots
    /// (nonstandard `turnsCa`).
    pub turns_ca: Option<String>,
}

/// One TURN server URL of `iceServers` (RFC 8656 over UDP or TCP, long-term credentials).
#[napi(object, object_to_js = false)]
pub struct JsTurnServer {
    /// The URL as given (`icecandidateerror`'s `url`).
    pub url: String,
    /// A name, an IPv4 address or a bracketed IPv6 one.
    pub host: String,
    pub port: u32,
    pub username: String,
    pub credential: String,
    /// `"udp"` (default) or `"tcp"` (the URL's `?transport=`), `"tls"` for `turns:`.
    pub transport: Option<String>,
}

/// The local socket (index into `locals`) a TURN server at `server` is reached from: one of
/// its address family, loopback for a loopback server (else any other), never loopback for
/// a server elsewhere.
fn turn_via(locals: &[SocketAddr], server: &SocketAddr) -> Option<usize> {
    let family = |l: &SocketAddr| l.is_ipv4() == server.is_ipv4();
    let loopback = server.ip().is_loopback();
    locals
        .iter()
        .position(|l| family(l) && l.ip().is_loopback() == loopback)
        .or_else(|| locals.iter().position(|l| family(l) && loopback))
}

/// One validated `turn:` or `turns:` entry; `index` orders it among the peer's TURN servers.
#[derive(Clone)]
struct TurnEntry {
    index: usize,
    url: String,
    host: String,
    port: u16,
    tcp: bool,
    /// `turns:`: TLS over the TCP connection, with this configuration.
    tls: Option<Arc<rustls::ClientConfig>>,
    username: String,
    credential: String,
}

/// Checks the TURN entries (a bad port or transport is a `SyntaxError`, unusable `turnsCa`
/// a `TypeError`); more than [`MAX_TURN_SERVERS`] are ignored.
fn turn_entries(servers: &[JsTurnServer], turns_ca: Option<&str>) -> napi::Result<Vec<TurnEntry>, String> {
    let servers = servers.get(..MAX_TURN_SERVERS).unwrap_or(servers);
    let mut out = Vec::new();
    let mut tls_config: Option<Arc<rustls::ClientConfig>> = None;
    for (index, t) in servers.iter().enumerate() {
        let port = u16::try_from(t.port).ok().filter(|p| *p != 0).ok_or_else(|| jserr::new(ErrorKind::Syntax, format!("TURN server {:?}: bad port", t.url)))?;
        let (tcp, tls) = match t.transport.as_deref() {
            None | Some("udp") => (false, None),
            Some("tcp") => (true, None),
            Some("tls") => {
                let config = match (&tls_config, turns_ca) {
                    (Some(c), _) => c.clone(),
                    (None, Some(pem)) => crate::tls::config_with_roots(pem).map_err(|e| jserr::new(ErrorKind::Type, e))?,
                    (None, None) => crate::tls::system_config().map_err(|e| jserr::new(ErrorKind::Operation, e))?,
                };
                tls_config = Some(config.clone());
                (true, Some(config))
            }
            Some(other) => return Err(jserr::new(ErrorKind::Syntax, format!("TURN server {:?}: unknown transport {other:?}", t.url))),
        };
        out.push(TurnEntry { index, url: t.url.clone(), host: t.host.clone(), port, tcp, tls, username: t.username.clone(), credential: t.credential.clone() });
    }
    Ok(out)
}

/// Gives the peer a relay (TURN client, RFC 8656) for a TURN server at `addrs` (its name's
/// addresses, both families): over UDP through the peer's own UDP socket of the server's
/// family, over TCP (TLS for `turns:`) through a connection of its own (a new socket of
/// the host). Relayed transport ids come after every socket's. A server no socket can
/// reach, or whose TCP connect fails at once, still gets its relay, failed from the start:
/// gathering reports it (icecandidateerror 701).
fn configure_turn(h: &mut PeerHost<Peer>, reactor: &Reactor<Peer>, t: &TurnEntry, addrs: &[SocketAddr], now: Time) -> Result<(), PeerError> {
    use crate::host::Link;
    let udp: Vec<(usize, SocketAddr)> =
        h.sockets.iter().enumerate().filter(|(_, s)| matches!(s.link, Link::Udp(_))).map(|(i, s)| (i, s.local)).collect();
    let locals: Vec<SocketAddr> = udp.iter().map(|(_, a)| *a).collect();
    let id = |i: usize| polyrtc::TransportId::try_from(i).map_err(|_| PeerError::new(ErrorKind::Operation, "too many transports"));
    let relay = id(udp.len() + MAX_TURN_SERVERS + t.index)?;
    let mut failure: Option<String> = None;
    let unspecified = SocketAddr::from(([0, 0, 0, 0], t.port));
    let (server, via) = if t.tcp {
        let server = addrs.first().copied().unwrap_or(unspecified);
        let connected = match &t.tls {
            None => TcpLink::connect(server, &t.url).map_err(|e| e.to_string()),
            Some(config) => crate::tls::connect(config, &t.host).and_then(|c| TcpLink::connect_tls(server, &t.url, c).map_err(|e| e.to_string())),
        };
        let link = match connected {
            Ok(link) => link,
            Err(e) => {
                failure = Some(format!("cannot connect to the TURN server: {e}"));
                TcpLink::failed(server, &t.url)
            }
        };
        let via = match reactor.add_socket(h, reactor.make_tcp_socket(link)) {
            Ok(via) => via,
            Err(e) => {
                failure = Some(format!("cannot use a TCP connection to the TURN server: {e}"));
                reactor.add_socket(h, reactor.make_tcp_socket(TcpLink::failed(server, &t.url))).map_err(|e| PeerError::new(ErrorKind::Operation, e.to_string()))?
            }
        };
        (server, via)
    } else {
        match addrs.iter().find_map(|a| turn_via(&locals, a).and_then(|v| udp.get(v)).map(|(i, _)| (*a, *i))) {
            Some((server, via)) => (server, id(via)?),
            None => {
                failure = Some("no local socket can reach the TURN server".to_string());
                (addrs.first().copied().unwrap_or(unspecified), id(udp.first().map_or(0, |(i, _)| *i))?)
            }
        }
    };
    let transport = if t.tcp { polyrtc::turn::TurnTransport::Tcp } else { polyrtc::turn::TurnTransport::Udp };
    let mut config = polyrtc::turn::TurnConfig::new(transport, &t.username, &t.credential);
    config.software = Some("polyrtc".to_string());
    h.engine.add_relay(now, relay, via, server, &t.url, config)?;
    if let Some(text) = failure {
        h.engine.relay_unreachable(now, relay, &t.url, &text)?;
    }
    Ok(())
}

/// Resolves `name` (the host of the ICE server at `url`) for a registered peer: the core
/// waits for it ([`Peer::expect_ice_server`]); on the I/O thread, once the resolver answers,
/// `configure` gets the name's addresses (a late answer is dropped). A name that does not
/// resolve, or that `configure` cannot use, is the server's failure (icecandidateerror 701).
fn resolve_server(
    h: &mut PeerHost<Peer>,
    reactor: &Reactor<Peer>,
    kind: IceServerKind,
    url: &str,
    name: &str,
    now: Time,
    configure: impl FnOnce(&mut PeerHost<Peer>, &Reactor<Peer>, &[std::net::IpAddr], Time) -> Result<(), PeerError> + Send + 'static,
) -> Result<(), PeerError> {
    let token = h.engine.expect_ice_server(now, kind, url)?;
    let (reactor2, peer_id) = (reactor.clone(), h.id);
    resolve::Resolver::global().lookup(name, move |answer| {
        reactor2.post(
            peer_id,
            Box::new(move |h, reactor, now| {
                if !h.engine.ice_server_pending(token) {
                    return; // timed out or replaced: the core took care of it
                }
                match answer.and_then(|ips| configure(h, reactor, &ips, now).map_err(|e| e.message)) {
                    Ok(()) => h.engine.ice_server_settled(now, token),
                    Err(text) => h.engine.ice_server_failed(now, token, &text),
                }
            }),
        );
    });
    Ok(())
}

/// The `.local` names of remote candidates the core asks for (after a call that took a
/// remote description or candidate): looked up by the process's mDNS querier, the answer
/// posted to the peer's I/O thread.
fn start_mdns_lookups(h: &mut PeerHost<Peer>, reactor: &Reactor<Peer>) {
    while let Some(name) = h.engine.poll_mdns_query() {
        let (reactor2, peer_id) = (reactor.clone(), h.id);
        mdns::Querier::global().lookup(&name.clone(), move |answer| {
            reactor2.post(
                peer_id,
                Box::new(move |h, _reactor, now| match answer {
                    Ok(ips) => h.engine.mdns_resolved(now, &name, &ips),
                    Err(_) => h.engine.mdns_failed(now, &name),
                }),
            );
        });
    }
}

/// Configures the TURN servers of a registered peer: an address at once, a host name once
/// the resolver answers ([`resolve_server`]).
fn add_turn_servers(h: &mut PeerHost<Peer>, reactor: &Reactor<Peer>, entries: Vec<TurnEntry>, now: Time) -> Result<(), PeerError> {
    for t in entries {
        if let Some(ip) = resolve::ip_literal(&t.host) {
            configure_turn(h, reactor, &t, &[SocketAddr::new(ip, t.port)], now)?;
            continue;
        }
        let (url, name) = (t.url.clone(), t.host.clone());
        resolve_server(h, reactor, IceServerKind::Turn, &url, &name, now, move |h, reactor, ips, now| {
            configure_turn(h, reactor, &t, &resolve::with_port(ips, t.port), now)
        })?;
    }
    Ok(())
}

/// STUN entries ("host:port", `[v6]:port`) split into addresses and host names to resolve.
/// A malformed entry is a `SyntaxError`.
struct StunEntries {
    addrs: Vec<SocketAddr>,
    names: Vec<(String, u16)>,
}

fn stun_entries(servers: &[String]) -> napi::Result<StunEntries, String> {
    let mut out = StunEntries { addrs: Vec::new(), names: Vec::new() };
    for s in servers {
        let (host, port) = resolve::split_host_port(s).ok_or_else(|| jserr::new(ErrorKind::Syntax, format!("STUN server {s:?} is not host:port")))?;
        match resolve::ip_literal(host) {
            Some(ip) => {
                let a = SocketAddr::new(ip, port);
                if out.addrs.len() < polyrtc::ice::MAX_STUN_SERVERS && !out.addrs.contains(&a) {
                    out.addrs.push(a);
                }
            }
            None => {
                let n = (host.to_string(), port);
                if out.names.len() < polyrtc::peer::MAX_PENDING_ICE_SERVERS && !out.names.contains(&n) {
                    out.names.push(n);
                }
            }
        }
    }
    Ok(out)
}

/// Resolves the STUN servers given by name; their addresses (A and AAAA) join the peer's
/// STUN servers when the resolver answers. A name that does not resolve is an
/// icecandidateerror 701.
fn add_stun_names(h: &mut PeerHost<Peer>, reactor: &Reactor<Peer>, names: Vec<(String, u16)>, now: Time) -> Result<(), PeerError> {
    for (name, port) in names {
        // Names only: address literals never get here (stun_entries).
        let url = format!("stun:{name}:{port}");
        resolve_server(h, reactor, IceServerKind::Stun, &url, &name, now, move |h, _reactor, ips, now| {
            for a in resolve::with_port(ips, port) {
                h.engine.add_stun_server(now, a);
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// `peer.setConfiguration()`: what `RTCPeerConnection.setConfiguration()` may change.
#[napi(object, object_to_js = false)]
pub struct NativePeerIceConfig {
    pub stun_servers: Vec<String>,
    pub ice_transport_policy: Option<String>,
}

/// `iceTransportPolicy` -> relay only?
fn relay_only(policy: Option<&str>) -> napi::Result<bool, String> {
    match policy {
        None | Some("all") => Ok(false),
        Some("relay") => Ok(true),
        Some(p) => Err(jserr::new(ErrorKind::Type, format!("bad iceTransportPolicy {p:?}"))),
    }
}

#[napi(object)]
pub struct JsDescription {
    #[napi(js_name = "type")]
    pub ty: String,
    pub sdp: String,
}

impl From<Description> for JsDescription {
    fn from(d: Description) -> Self {
        JsDescription { ty: d.ty.as_str().to_owned(), sdp: d.sdp }
    }
}

#[napi(object)]
pub struct NativePeerState {
    pub signaling_state: String,
    pub ice_gathering_state: String,
    pub ice_connection_state: String,
    pub connection_state: String,
    pub can_trickle_ice_candidates: Option<bool>,
    pub current_local_description: Option<JsDescription>,
    pub pending_local_description: Option<JsDescription>,
    pub current_remote_description: Option<JsDescription>,
    pub pending_remote_description: Option<JsDescription>,
    pub sctp_max_message_size: Option<f64>,
    pub negotiation_needed: bool,
    /// `fingerprint-failure` / `dtls-failure` once the DTLS transport failed, else null.
    pub dtls_error: Option<String>,
    /// The ICE pair in use, as candidate attributes, once one is selected.
    pub selected_candidate_pair: Option<JsCandidatePair>,
    /// DTLS (non-STUN) datagrams dropped because they did not come over a validated ICE
    /// path (`PeerStats::datagrams_dropped_off_path`).
    pub datagrams_dropped_off_path: f64,
}

#[napi(object)]
pub struct JsCandidatePair {
    pub local: String,
    pub remote: String,
}

#[napi(object, object_to_js = false)]
pub struct JsIceCandidateInit {
    pub candidate: String,
    pub sdp_mid: Option<String>,
    pub sdp_m_line_index: Option<u32>,
    pub username_fragment: Option<String>,
}

#[napi(object, object_to_js = false)]
pub struct JsDataChannelInit {
    pub label: String,
    pub protocol: String,
    pub ordered: bool,
    pub max_packet_life_time: Option<u32>,
    pub max_retransmits: Option<u32>,
    pub negotiated: bool,
    pub id: Option<u32>,
}

#[napi(object)]
pub struct JsEncoding {
    pub rid: Option<String>,
    pub active: Option<bool>,
    pub max_bitrate: Option<f64>,
    pub max_framerate: Option<f64>,
    pub scale_resolution_down_by: Option<f64>,
}

#[napi(object)]
pub struct JsTransceiverInit {
    pub kind: String,
    pub direction: String,
    pub stream_ids: Option<Vec<String>>,
    pub track_id: Option<String>,
    pub from_add_track: Option<bool>,
    pub send_encodings: Option<Vec<JsEncoding>>,
}

#[napi(object)]
pub struct JsCodecCapability {
    pub mime_type: String,
    pub clock_rate: f64,
    pub channels: Option<f64>,
    pub sdp_fmtp_line: Option<String>,
}

#[napi(object)]
pub struct JsFrame {
    pub timestamp: f64,
    pub data: Uint8Array,
    pub mime_type: Option<String>,
    /// The simulcast layer (send encoding rid) it is for; none: the first.
    pub rid: Option<String>,
    /// RFC 6464 level of an audio frame, linear 0..1 (W3C `audioLevel`).
    pub audio_level: Option<f64>,
}

/// `RTCRtpEncodingParameters` from JS (`addTransceiver`'s `sendEncodings`, `setParameters`).
fn encodings_from_js(list: Vec<JsEncoding>) -> napi::Result<Vec<polyrtc::peer::Encoding>, String> {
    let mut out = Vec::with_capacity(list.len());
    for e in list {
        out.push(polyrtc::peer::Encoding {
            rid: e.rid,
            active: e.active.unwrap_or(true),
            max_bitrate: e.max_bitrate.map(|b| whole_u32("maxBitrate", b)).transpose()?,
            max_framerate: e.max_framerate,
            scale_resolution_down_by: e.scale_resolution_down_by,
        });
    }
    Ok(out)
}

/// A synthetic capture source (`getUserMedia()` without devices): VP8 test pattern video
/// or Opus tone/silence, one encoded frame per `nextFrame()`; the JS layer paces it.
#[napi]
pub struct NativeSyntheticSource {
    source: polyrtc::codec::synth::SyntheticSource,
}

#[napi(object)]
pub struct JsSyntheticFrame {
    pub data: napi::bindgen_prelude::Buffer,
    pub keyframe: bool,
    pub timestamp: f64,
    pub mime_type: String,
}

#[napi]
impl NativeSyntheticSource {
    /// `kind` 'video' (width, height multiples of 16; fps) or 'audio' (`tone`: else silence).
    #[napi(constructor)]
    pub fn new(kind: String, width: Option<u32>, height: Option<u32>, fps: Option<u32>, tone: Option<bool>) -> napi::Result<Self, String> {
        let source = match kind.as_str() {
            "video" => polyrtc::codec::synth::SyntheticSource::video(width.unwrap_or(640), height.unwrap_or(480), fps.unwrap_or(30))
                .map_err(|e| jserr::new(ErrorKind::NotSupported, format!("{e}")))?,
            "audio" => polyrtc::codec::synth::SyntheticSource::audio(tone.unwrap_or(true)),
            _ => return Err(jserr::new(ErrorKind::Type, format!("unknown kind {kind:?}"))),
        };
        Ok(NativeSyntheticSource { source })
    }

    /// µs between frames.
    #[napi(getter)]
    pub fn frame_duration(&self) -> f64 {
        self.source.frame_duration_us() as f64
    }

    #[napi]
    pub fn next_frame(&mut self) -> napi::Result<JsSyntheticFrame, String> {
        guard(|| {
            let f = self.source.next_frame();
            Ok(JsSyntheticFrame {
                data: f.data.into(),
                keyframe: f.keyframe,
                timestamp: f.timestamp_us as f64,
                mime_type: f.mime_type.to_owned(),
            })
        })
    }

    #[napi]
    pub fn request_keyframe(&mut self) {
        self.source.request_keyframe();
    }
}

/// W3C `RTCRtpSender.getCapabilities(kind)` (and the receiver's: the same codecs).
#[napi]
pub fn get_capabilities(env: Env, kind: String) -> napi::Result<Option<napi::JsObject>, String> {
    match polyrtc::engine::parse_kind(&kind) {
        Ok(k) => crate::events::obj_to_js(&env, polyrtc::engine::capabilities_obj(k)).map(Some).map_err(jserr::from_napi),
        Err(_) => Ok(None),
    }
}

fn whole_u32(name: &str, v: f64) -> napi::Result<u32, String> {
    if v.is_finite() && v >= 0.0 && v <= f64::from(u32::MAX) && v.fract() == 0.0 {
        Ok(v as u32)
    } else {
        Err(jserr::new(ErrorKind::Type, format!("{name} must be a non-negative integer")))
    }
}

#[napi(object)]
pub struct JsChannelCreated {
    pub channel: u32,
    pub id: Option<u32>,
}

pub(crate) type Tsfn = ThreadsafeFunction<Batch, ErrorStrategy::Fatal>;

/// The peer's event function: each call passes one batch as one array argument. Taking a
/// batch off the queue lowers the peer's backlog and may resume its reading.
pub(crate) fn make_tsfn<E: Engine>(
    on_events: &JsFunction,
    backlog: Arc<Backlog>,
    reactor: Reactor<E>,
    id: PeerId,
) -> JsResult<Tsfn> {
    on_events
        .create_threadsafe_function(0, move |ctx: napi::threadsafe_function::ThreadSafeCallContext<Batch>| {
            if backlog.consumed(ctx.value.weight()) {
                reactor.resume(id);
            }
            Ok(vec![ctx.value.into_js(&ctx.env)?])
        })
        .map_err(jserr::from_napi)
}

pub(crate) struct TsfnSink(pub(crate) Tsfn);

impl EventSink for TsfnSink {
    fn deliver(&mut self, batch: Batch) {
        // Unbounded queue: NonBlocking never fails for lack of room; after the env is gone
        // the call returns `Closing` and the batch is dropped.
        let _ = self.0.call(batch, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

fn u16_field(name: &str, v: Option<u32>) -> napi::Result<Option<u16>, String> {
    v.map(|x| u16::try_from(x).map_err(|_| jserr::new(ErrorKind::Type, format!("{name} out of range"))))
        .transpose()
}

fn max_message_size(v: Option<f64>) -> napi::Result<usize, String> {
    match v {
        None => Ok(polyrtc::datachannel::DEFAULT_MAX_MESSAGE_SIZE),
        Some(x) if (1.0..=MAX_CONFIG_MESSAGE_SIZE).contains(&x) && x.fract() == 0.0 => {
            // Checked integral and within u32 above.
            Ok(x as usize)
        }
        Some(_) => Err(jserr::new(ErrorKind::Type, "maxMessageSize must be a positive integer")),
    }
}

#[napi]
pub struct NativePeer {
    reactor: Reactor<Peer>,
    host: SharedHost<Peer>,
    cert: Arc<CertInfo>,
    /// A handle on the event function used to ref/unref the event loop; dropped on close
    /// (with the sink's handle, that releases the threadsafe function).
    keepalive: Option<Tsfn>,
    started: bool,
}

#[napi]
impl NativePeer {
    #[napi(constructor)]
    pub fn new(env: Env, config: NativePeerConfig, on_events: JsFunction) -> napi::Result<Self, String> {
        guard(|| Self::construct(&env, config, on_events))
    }

    fn construct(env: &Env, config: NativePeerConfig, on_events: JsFunction) -> napi::Result<Self, String> {
        let stun = stun_entries(&config.stun_servers)?;
        let turn = turn_entries(config.turn_servers.as_deref().unwrap_or_default(), config.turns_ca.as_deref())?;
        let max_message_size = max_message_size(config.max_message_size)?;
        let relay_only = relay_only(config.ice_transport_policy.as_deref())?;
        let given = match config.certificates.as_deref() {
            None | Some([]) => Arc::new(cert::for_new_peer().map_err(jserr::from_peer)?),
            Some([first, ..]) => certificate_from_js(env, first)?,
        };
        let unix_time_ms = clock::unix_time_ms();
        let peer_config = PeerConfig {
            stun_servers: stun.addrs,
            certificate: Some(given.cert.clone()),
            max_message_size,
            unix_time_ms,
            include_loopback: config.include_loopback.unwrap_or(false),
            relay_only,
            raw_media_events: false,
            mdns_host_candidates: config.mdns_host_candidates.unwrap_or(false),
            ice_lite: config.ice_lite.unwrap_or(false),
        };
        let mut peer = Peer::new(peer_config, rng()?).map_err(jserr::from_peer)?;
        // js/ answers a peer's channel close with closeChannel() once its own queue is sent.
        peer.set_hold_remote_close(true);
        let cert = given;

        let local = iface::enumerate().map_err(|e| jserr::new(ErrorKind::Operation, format!("interfaces: {e}")))?;
        let wanted = iface::select(&local, config.include_loopback.unwrap_or(false));
        let reactor = reactor()?;
        let sockets = match config.shared_udp_port {
            None => reactor.make_sockets(iface::bind_all(&wanted).0),
            Some(port) => {
                let port = u16::try_from(port).ok().filter(|p| *p != 0).ok_or_else(|| {
                    jserr::new(ErrorKind::Type, format!("sharedUdpPort {port} is not a port number (1-65535)"))
                })?;
                let mut sockets = Vec::new();
                let mut errors = Vec::new();
                for mut a in wanted {
                    a.set_port(port);
                    match reactor.shared_socket(a) {
                        Ok(s) => sockets.push(s),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                if sockets.is_empty() {
                    return Err(jserr::new(ErrorKind::Operation, format!("sharedUdpPort {port}: {}", errors.join("; "))));
                }
                sockets
            }
        };
        if sockets.is_empty() {
            return Err(jserr::new(ErrorKind::Operation, "no local address could be bound"));
        }
        for (i, s) in sockets.iter().enumerate() {
            let transport = polyrtc::TransportId::try_from(i).unwrap_or(polyrtc::TransportId::MAX);
            peer.add_local_transport(transport, s.local);
        }

        let id = reactor.next_peer_id();
        let backlog = Backlog::new(MAX_QUEUED_EVENT_BYTES);
        let tsfn = make_tsfn(&on_events, backlog.clone(), reactor.clone(), id)?;
        let mut keepalive = tsfn.clone();
        // Not started yet: an unused peer does not keep the process alive.
        keepalive.unref(env).map_err(jserr::from_napi)?;

        let host = reactor
            .add(id, peer, sockets, Box::new(TsfnSink(tsfn)), backlog)
            .map_err(|e| jserr::new(ErrorKind::Operation, format!("register sockets: {e}")))?;
        {
            let mut g = lock(&host);
            let now = clock::now();
            let configured = add_turn_servers(&mut g, &reactor, turn, now).and_then(|()| add_stun_names(&mut g, &reactor, stun.names, now));
            if let Err(e) = configured {
                reactor.remove_locked(&mut g);
                return Err(jserr::from_peer(e));
            }
            reactor.after_call(&mut g, now);
        }
        Ok(NativePeer { reactor, host, cert, keepalive: Some(keepalive), started: false })
    }

    /// Runs a mutating call on the core, then drains it. A panic closes the peer.
    fn call<T>(&mut self, f: impl FnOnce(&mut PeerHost<Peer>, Time) -> Result<T, PeerError>) -> napi::Result<T, String> {
        let reactor = self.reactor.clone();
        let host = self.host.clone();
        let r = catch_unwind(AssertUnwindSafe(|| {
            let mut g = lock(&host);
            if g.state == HostState::Failed {
                return Err(jserr::new(ErrorKind::InvalidState, "peer failed after an internal error"));
            }
            let now = clock::now();
            let r = f(&mut g, now);
            start_mdns_lookups(&mut g, &reactor);
            reactor.after_call(&mut g, now);
            r.map_err(jserr::from_peer)
        }));
        match r {
            Ok(r) => r,
            Err(p) => {
                let msg = format!("internal error: {}", panic_message(p.as_ref()));
                reactor.fail(&host, &msg);
                self.keepalive = None;
                Err(jserr::new(ErrorKind::Operation, msg))
            }
        }
    }

    /// Read-only access to the core.
    fn read<T>(&self, f: impl FnOnce(&Peer) -> T) -> napi::Result<T, String> {
        guard(|| Ok(f(&lock(&self.host).engine)))
    }

    /// The peer may now receive traffic: keep the event loop alive until `close()`.
    fn mark_started(&mut self, env: &Env) -> napi::Result<(), String> {
        if !self.started {
            self.started = true;
            if let Some(k) = self.keepalive.as_mut() {
                k.refer(env).map_err(jserr::from_napi)?;
            }
        }
        Ok(())
    }

    /// `iceRestart`: `RTCOfferOptions.iceRestart` (new ICE credentials in this offer).
    #[napi]
    pub fn create_offer(&mut self, ice_restart: Option<bool>) -> napi::Result<String, String> {
        self.call(|h, _| h.engine.create_offer_with(ice_restart.unwrap_or(false)))
    }

    /// W3C `restartIce()`: the next offer restarts ICE; `negotiationNeeded` turns true.
    #[napi]
    pub fn restart_ice(&mut self) -> napi::Result<(), String> {
        self.call(|h, _| {
            h.engine.restart_ice();
            Ok(())
        })
    }

    #[napi]
    pub fn create_answer(&mut self) -> napi::Result<String, String> {
        self.call(|h, _| h.engine.create_answer())
    }

    #[napi]
    pub fn set_local_description(&mut self, env: Env, ty: Option<String>, sdp: Option<String>) -> napi::Result<JsDescription, String> {
        let ty = match ty.as_deref() {
            None | Some("") => None,
            Some(t) => Some(SdpType::parse(t).ok_or_else(|| jserr::new(ErrorKind::Type, format!("bad type {t:?}")))?),
        };
        let d = self.call(|h, now| h.engine.set_local_description(now, ty, sdp.as_deref()))?;
        self.mark_started(&env)?;
        Ok(d.into())
    }

    #[napi]
    pub fn set_remote_description(&mut self, env: Env, ty: String, sdp: String) -> napi::Result<(), String> {
        let ty = SdpType::parse(&ty).ok_or_else(|| jserr::new(ErrorKind::Type, format!("bad type {ty:?}")))?;
        self.call(|h, now| h.engine.set_remote_description(now, ty, &sdp))?;
        self.mark_started(&env)
    }

    #[napi]
    pub fn add_ice_candidate(&mut self, init: Option<JsIceCandidateInit>) -> napi::Result<(), String> {
        let init = match init {
            None => None,
            Some(c) => Some(IceCandidateInit {
                candidate: c.candidate,
                sdp_mid: c.sdp_mid,
                sdp_mline_index: u16_field("sdpMLineIndex", c.sdp_m_line_index)?,
                username_fragment: c.username_fragment,
            }),
        };
        self.call(|h, now| h.engine.add_ice_candidate(now, init))
    }

    #[napi]
    pub fn get_state(&self) -> napi::Result<NativePeerState, String> {
        self.read(|p| NativePeerState {
            signaling_state: p.signaling_state().as_str().to_owned(),
            ice_gathering_state: p.ice_gathering_state().as_str().to_owned(),
            ice_connection_state: p.ice_connection_state().as_str().to_owned(),
            connection_state: p.connection_state().as_str().to_owned(),
            can_trickle_ice_candidates: p.can_trickle_ice_candidates(),
            current_local_description: p.current_local_description().map(Into::into),
            pending_local_description: p.pending_local_description().map(Into::into),
            current_remote_description: p.current_remote_description().map(Into::into),
            pending_remote_description: p.pending_remote_description().map(Into::into),
            sctp_max_message_size: p.sctp_max_message_size().map(|s| s as f64),
            negotiation_needed: p.is_negotiation_needed(),
            dtls_error: p.dtls_failure_detail().map(str::to_owned),
            selected_candidate_pair: p
                .selected_candidate_pair()
                .map(|(local, remote)| JsCandidatePair { local, remote }),
            datagrams_dropped_off_path: p.stats().datagrams_dropped_off_path as f64,
        })
    }

    /// The core's figures for `getStats()` (`engine-contract.md`): transport, candidate
    /// pairs, candidates and certificates with webrtc-stats names.
    #[napi]
    pub fn get_stats(&self, env: Env) -> napi::Result<napi::JsObject, String> {
        let obj = self.read(|p| polyrtc::engine::stats_obj(p, clock::now()))?;
        crate::events::obj_to_js(&env, obj).map_err(jserr::from_napi)
    }

    /// New STUN servers and transport policy, used from the next gathering phase.
    #[napi]
    pub fn set_configuration(&mut self, config: NativePeerIceConfig) -> napi::Result<(), String> {
        let stun = stun_entries(&config.stun_servers)?;
        let relay_only = relay_only(config.ice_transport_policy.as_deref())?;
        let reactor = self.reactor.clone();
        self.call(|h, now| {
            h.engine.set_ice_config(now, stun.addrs, relay_only)?;
            add_stun_names(h, &reactor, stun.names, now)
        })
    }

    #[napi]
    pub fn create_data_channel(&mut self, init: JsDataChannelInit) -> napi::Result<JsChannelCreated, String> {
        let init = DataChannelInit {
            label: init.label,
            protocol: init.protocol,
            ordered: init.ordered,
            max_packet_life_time: u16_field("maxPacketLifeTime", init.max_packet_life_time)?,
            max_retransmits: u16_field("maxRetransmits", init.max_retransmits)?,
            negotiated: init.negotiated,
            id: u16_field("id", init.id)?,
        };
        let (channel, id) = self.call(|h, now| h.engine.create_data_channel(now, init))?;
        Ok(JsChannelCreated { channel, id: id.map(u32::from) })
    }

    #[napi]
    pub fn add_transceiver(&mut self, init: JsTransceiverInit) -> napi::Result<u32, String> {
        let kind = polyrtc::engine::parse_kind(&init.kind).map_err(jserr::from_peer)?;
        let direction = polyrtc::engine::parse_direction(&init.direction).map_err(jserr::from_peer)?;
        let send_encodings = encodings_from_js(init.send_encodings.unwrap_or_default())?;
        let init = polyrtc::peer::TransceiverInit {
            kind,
            direction,
            stream_ids: init.stream_ids.unwrap_or_default(),
            track_id: init.track_id,
            from_add_track: init.from_add_track.unwrap_or(false),
            send_encodings,
        };
        self.call(|h, _| h.engine.add_transceiver(init))
    }

    #[napi]
    pub fn get_transceivers(&self, env: Env) -> napi::Result<napi::JsObject, String> {
        let list = self.read(polyrtc::engine::transceivers_list)?;
        let obj = polyrtc::engine::Obj(vec![("list", polyrtc::engine::Val::List(list))]);
        let js = crate::events::obj_to_js(&env, obj).map_err(jserr::from_napi)?;
        js.get_named_property::<napi::JsObject>("list").map_err(jserr::from_napi)
    }

    #[napi]
    pub fn set_transceiver_direction(&mut self, t: u32, direction: String) -> napi::Result<(), String> {
        let d = polyrtc::engine::parse_direction(&direction).map_err(jserr::from_peer)?;
        self.call(|h, _| h.engine.set_transceiver_direction(t, d))
    }

    #[napi]
    pub fn stop_transceiver(&mut self, t: u32) -> napi::Result<(), String> {
        self.call(|h, _| h.engine.stop_transceiver(t))
    }

    #[napi]
    pub fn set_codec_preferences(&mut self, t: u32, codecs: Vec<JsCodecCapability>) -> napi::Result<(), String> {
        let mut list = Vec::with_capacity(codecs.len());
        for c in &codecs {
            let channels = c.channels.map(|ch| whole_u32("channels", ch).map(|v| v.min(u32::from(u16::MAX)) as u16)).transpose()?;
            let codec = polyrtc::engine::codec_from_capability(&c.mime_type, whole_u32("clockRate", c.clock_rate)?, channels, c.sdp_fmtp_line.as_deref())
                .map_err(jserr::from_peer)?;
            list.push(codec);
        }
        self.call(|h, _| h.engine.set_codec_preferences(t, list))
    }

    #[napi]
    pub fn set_sender_track(&mut self, t: u32, track_id: Option<String>, from_add_track: Option<bool>) -> napi::Result<(), String> {
        self.call(|h, _| h.engine.set_sender_track(t, track_id, from_add_track.unwrap_or(false)))
    }

    #[napi]
    pub fn set_sender_streams(&mut self, t: u32, stream_ids: Vec<String>) -> napi::Result<(), String> {
        self.call(|h, _| h.engine.set_sender_streams(t, stream_ids))
    }

    /// Hand this transceiver's received RTP packets over (`rtp` events) besides its frames.
    #[napi]
    pub fn set_receive_rtp(&mut self, t: u32, on: bool) -> napi::Result<(), String> {
        self.call(|h, _| h.engine.set_deliver_rtp(t, on))
    }

    /// One encoded frame for transceiver `t` (`timestamp` in µs). `false`: not sent (the
    /// transceiver does not send yet), as a browser's sender drops its track's frames then.
    #[napi]
    pub fn write_frame(&mut self, t: u32, frame: JsFrame) -> napi::Result<bool, String> {
        if !(frame.timestamp.is_finite() && frame.timestamp >= 0.0) {
            return Err(jserr::new(ErrorKind::Type, "timestamp must be a non-negative number"));
        }
        let ts = frame.timestamp as u64;
        let codec = frame.mime_type.as_deref().and_then(|m| m.split_once('/')).map(|(_, n)| n);
        let level = frame.audio_level.map(polyrtc::peer::dbov_audio_level);
        self.call(|h, now| {
            h.engine.set_send_audio_level(t, level);
            h.engine.write_layer_frame(now, t, frame.rid.as_deref(), ts, &frame.data, codec)
        })
    }

    /// W3C `setParameters()`: new parameters for the sender's encodings (same number, same
    /// rids).
    #[napi]
    pub fn set_send_encodings(&mut self, t: u32, encodings: Vec<JsEncoding>) -> napi::Result<(), String> {
        let list = encodings_from_js(encodings)?;
        self.call(|h, _| h.engine.set_send_encodings(t, list))
    }

    #[napi]
    pub fn write_rtp(&mut self, t: u32, packet: Uint8Array) -> napi::Result<bool, String> {
        self.call(|h, now| h.engine.write_rtp(now, t, &packet))
    }

    /// One RFC 4733 DTMF tone on transceiver `t` (`event` 0..=15, `duration` ms, `volume`
    /// -dBm0). `false`: not sent (not negotiated, or the transceiver does not send).
    #[napi]
    pub fn insert_dtmf(&mut self, t: u32, event: u32, duration: u32, volume: u32) -> napi::Result<bool, String> {
        let event = u8::try_from(event).unwrap_or(u8::MAX);
        let volume = u8::try_from(volume.min(63)).unwrap_or(63);
        self.call(|h, now| h.engine.insert_dtmf(now, t, event, duration, volume))
    }

    /// The latest RFC 6464 level of each remote SSRC transceiver `t` received, flat:
    /// `[ssrc, linear level 0..1, voice activity 0/1, ...]`.
    #[napi]
    pub fn audio_levels(&mut self, t: u32) -> napi::Result<Vec<f64>, String> {
        self.call(|h, _| Ok(audio_levels_flat(&h.engine, t)))
    }

    /// Whether telephone-event was negotiated for transceiver `t` (W3C `canInsertDTMF`).
    #[napi]
    pub fn can_insert_dtmf(&mut self, t: u32) -> napi::Result<bool, String> {
        self.call(|h, _| Ok(h.engine.can_insert_dtmf(t)))
    }

    #[napi]
    pub fn request_keyframe(&mut self, t: u32) -> napi::Result<(), String> {
        self.call(|h, now| h.engine.request_keyframe(now, t))
    }

    #[napi]
    pub fn send(&mut self, channel: u32, binary: bool, data: Uint8Array) -> napi::Result<(), String> {
        self.call(|h, now| h.engine.send(now, channel, binary, &data))
    }

    /// The channel's SCTP stream id, once it has one (`RTCDataChannel.id`): read right after
    /// a description is applied, as the `channelid` event arrives in a later task.
    #[napi]
    pub fn channel_id(&self, channel: u32) -> napi::Result<Option<u32>, String> {
        self.read(|p| p.channel_id(channel).map(u32::from))
    }

    #[napi]
    pub fn close_channel(&mut self, channel: u32) -> napi::Result<(), String> {
        self.call(|h, now| {
            h.engine.close_channel(now, channel);
            Ok(())
        })
    }

    /// Closes the peer: its last datagrams and events go out, then its sockets, timers and
    /// event function are released (the process may exit). Idempotent.
    #[napi]
    pub fn close(&mut self) -> napi::Result<(), String> {
        let reactor = self.reactor.clone();
        let host = self.host.clone();
        let r = guard(|| {
            let mut g = lock(&host);
            reactor.close(&mut g, clock::now());
            Ok(())
        });
        if r.is_err() {
            reactor.fail(&host, "internal error while closing");
        }
        self.keepalive = None;
        r
    }

    /// The peer's DER certificate once DTLS is connected (`RTCDtlsTransport.getRemoteCertificates()`).
    #[napi]
    pub fn remote_certificates(&self) -> napi::Result<Vec<Uint8Array>, String> {
        self.read(|p| p.remote_certificate().map(|c| Uint8Array::new(c.to_vec())).into_iter().collect())
    }

    #[napi]
    pub fn certificate(&self) -> NativeCertificate {
        NativeCertificate { info: self.cert.clone() }
    }
}

impl Drop for NativePeer {
    /// Finalizer: a peer dropped without `close()` is closed and released.
    fn drop(&mut self) {
        let reactor = self.reactor.clone();
        let host = self.host.clone();
        let r = catch_unwind(AssertUnwindSafe(|| {
            let mut g = lock(&host);
            reactor.close(&mut g, clock::now());
        }));
        if r.is_err() {
            reactor.fail(&host, "internal error while finalizing");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_servers_are_reached_from_a_socket_of_their_family() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let locals = [a("10.0.0.5:4000"), a("127.0.0.1:4001"), a("[2001:db8::1]:4002")];
        assert_eq!(turn_via(&locals, &a("192.0.2.9:3478")), Some(0));
        assert_eq!(turn_via(&locals, &a("127.0.0.1:3478")), Some(1), "loopback from loopback");
        assert_eq!(turn_via(&locals, &a("[2001:db8::9]:3478")), Some(2));
        assert_eq!(turn_via(&locals[..1], &a("127.0.0.1:3478")), Some(0), "loopback reached from another address");
        assert_eq!(turn_via(&locals[1..2], &a("192.0.2.9:3478")), None, "never from loopback to elsewhere");
        assert_eq!(turn_via(&locals[..2], &a("[2001:db8::9]:3478")), None, "no IPv6 socket");
    }

    #[test]
    fn certificate_validity_defaults_caps_and_refuses_bad_numbers() {
        assert_eq!(certificate_validity_ms(None).unwrap(), cert::CERT_VALIDITY_MS);
        assert_eq!(certificate_validity_ms(Some(3_600_000.9)).unwrap(), 3_600_000);
        assert_eq!(certificate_validity_ms(Some(0.0)).unwrap(), 0);
        assert_eq!(certificate_validity_ms(Some(1e300)).unwrap(), cert::MAX_CERT_VALIDITY_MS);
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(certificate_validity_ms(Some(bad)).unwrap_err().status, "TypeError");
        }
    }

    #[test]
    fn stun_entries_split_into_addresses_and_names_or_are_rejected() {
        let e = stun_entries(&["127.0.0.1:3478".into(), "[::1]:19302".into(), "127.0.0.1:3478".into(), "stun.example:3478".into(), "stun.example:3478".into()]).unwrap();
        assert_eq!(e.addrs, vec!["127.0.0.1:3478".parse().unwrap(), "[::1]:19302".parse().unwrap()]);
        assert_eq!(e.names, vec![("stun.example".to_string(), 3478)]);
        for bad in ["127.0.0.1", ":3478", "host:99999", "host:", "host:0"] {
            let e = stun_entries(&[bad.into()]).err().expect(bad);
            assert_eq!(e.status, "SyntaxError", "{bad}");
        }
    }

    #[test]
    fn max_message_size_is_validated() {
        assert_eq!(max_message_size(None).unwrap(), polyrtc::datachannel::DEFAULT_MAX_MESSAGE_SIZE);
        assert_eq!(max_message_size(Some(65536.0)).unwrap(), 65536);
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY, 1e12] {
            assert_eq!(max_message_size(Some(bad)).unwrap_err().status, "TypeError");
        }
    }

    #[test]
    fn ice_transport_policy_is_validated() {
        assert!(!relay_only(None).unwrap());
        assert!(!relay_only(Some("all")).unwrap());
        assert!(relay_only(Some("relay")).unwrap());
        assert_eq!(relay_only(Some("none")).unwrap_err().status, "TypeError");
    }

    #[test]
    fn u16_fields_are_range_checked() {
        assert_eq!(u16_field("id", Some(65535)).unwrap(), Some(65535));
        assert_eq!(u16_field("id", None).unwrap(), None);
        assert_eq!(u16_field("id", Some(65536)).unwrap_err().status, "TypeError");
    }
}

/// [`NativePeer::audio_levels`]'s flat list.
fn audio_levels_flat(peer: &Peer, t: u32) -> Vec<f64> {
    peer.audio_levels(t)
        .iter()
        .flat_map(|l| [f64::from(l.ssrc), polyrtc::peer::linear_audio_level(l.level), f64::from(u8::from(l.voice_activity))])
        .collect()
}
