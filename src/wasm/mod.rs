//! The WASM engine (feature `wasm`, target wasm32): the core's [`Peer`] behind wasm-bindgen,
//! with the same methods and the same event objects as the Node addon's `NativePeer`
//! (`napi/engine-contract.md`), so one JS layer drives both.
//!
//! What the addon does with sockets, an I/O thread and timers, the JS glue of the WASM
//! build does with the runtime's own: it owns the transports (a WebSocket to a TURN relay),
//! feeds what arrives to [`WasmPeer::handle_datagram`], sends what
//! [`WasmPeer::poll_transmit`] gives, arms one timer for [`WasmPeer::poll_timeout`] and calls
//! [`WasmPeer::handle_timeout`], and hands [`WasmPeer::poll_events`] batches to the layer.
//! Every time is in milliseconds on the caller's monotonic clock (`performance.now()`):
//! nothing here reads a clock (`Instant::now` panics on wasm32-unknown-unknown).
//!
//! A Rust panic aborts a WebAssembly instance (there is no unwinding to catch), so the core
//! must not panic on any input; its fuzz targets check that.

use std::net::SocketAddr;
use std::sync::Arc;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::crypto::{Certificate, Rng};
use crate::engine::{to_obj, Obj, Val, MAX_BATCH_EVENTS};
use crate::peer::{DataChannelInit, Description, ErrorKind, IceCandidateInit, Peer, PeerConfig, PeerError, SdpType};
use crate::Time;

/// Validity of a certificate generated here (the W3C default for `generateCertificate`).
const CERT_VALIDITY_MS: f64 = 30.0 * 24.0 * 3600.0 * 1000.0;
/// Longest validity `generateCertificate` gives (webrtc-pc caps `expires` at 365 days).
const MAX_CERT_VALIDITY_MS: f64 = 365.0 * 24.0 * 3600.0 * 1000.0;
/// How far back `notBefore` is set, for peers whose clock is behind ours.
const NOT_BEFORE_SLACK_S: u64 = 24 * 3600;

/// An `Error` whose message is `"<Name>: <text>"` and whose `code` is `<Name>`, as the addon
/// throws (the JS layer maps it to a `DOMException`).
fn js_error(e: PeerError) -> JsValue {
    let name = e.kind.as_str();
    let err = js_sys::Error::new(&format!("{name}: {}", e.message));
    let _ = Reflect::set(&err, &"code".into(), &name.into());
    err.into()
}

fn type_error(text: &str) -> JsValue {
    js_error(PeerError::new(ErrorKind::Type, text))
}

/// Milliseconds on the caller's clock -> the core's time.
fn time(now_ms: f64) -> Time {
    // Negative or NaN clamp to 0; a monotonic clock in ms stays far below 2^53 µs.
    Time::from_micros((now_ms.max(0.0) * 1000.0) as u64)
}

fn obj_to_js(o: Obj) -> JsValue {
    let js = Object::new();
    for (name, v) in o.0 {
        let value: JsValue = match v {
            Val::Str(x) => x.into(),
            Val::Num(x) => x.into(),
            Val::Bool(x) => x.into(),
            Val::Null => JsValue::NULL,
            Val::Bytes(x) => Uint8Array::from(x.as_slice()).into(),
            Val::Obj(inner) => obj_to_js(inner),
            Val::List(items) => list_to_js(items),
        };
        let _ = Reflect::set(&js, &name.into(), &value);
    }
    js.into()
}

fn list_to_js(items: Vec<Val>) -> JsValue {
    let arr = Array::new();
    for v in items {
        let value: JsValue = match v {
            Val::Str(x) => x.into(),
            Val::Num(x) => x.into(),
            Val::Bool(x) => x.into(),
            Val::Null => JsValue::NULL,
            Val::Bytes(x) => Uint8Array::from(x.as_slice()).into(),
            Val::Obj(inner) => obj_to_js(inner),
            Val::List(inner) => list_to_js(inner),
        };
        arr.push(&value);
    }
    arr.into()
}

fn description_to_js(d: Option<Description>) -> JsValue {
    match d {
        None => JsValue::NULL,
        Some(d) => {
            let o = Object::new();
            let _ = Reflect::set(&o, &"type".into(), &d.ty.as_str().into());
            let _ = Reflect::set(&o, &"sdp".into(), &d.sdp.into());
            o.into()
        }
    }
}

fn get(obj: &JsValue, name: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &name.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn get_string(obj: &JsValue, name: &str) -> Option<String> {
    get(obj, name).as_string()
}

fn get_bool(obj: &JsValue, name: &str) -> Option<bool> {
    get(obj, name).as_bool()
}

/// An optional 16-bit field (`null` / `undefined` are absent).
fn get_u16(obj: &JsValue, name: &str) -> Result<Option<u16>, JsValue> {
    let v = get(obj, name);
    if v.is_null() || v.is_undefined() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) => Ok(Some(n as u16)),
        _ => Err(type_error(&format!("{name} must be an integer in 0..=65535"))),
    }
}

/// A certificate made inside the WASM instance (ECDSA P-256).
#[wasm_bindgen]
pub struct WasmCertificate {
    cert: Arc<Certificate>,
}

#[wasm_bindgen]
impl WasmCertificate {
    /// `[{ algorithm, value }]`, the value upper-case hex as SDP writes it.
    #[wasm_bindgen(getter)]
    pub fn fingerprints(&self) -> Array {
        let sdp = self.cert.fingerprint().to_sdp_value();
        let out = Array::new();
        if let Some((algorithm, value)) = sdp.split_once(' ') {
            let o = Object::new();
            let _ = Reflect::set(&o, &"algorithm".into(), &algorithm.into());
            let _ = Reflect::set(&o, &"value".into(), &value.into());
            out.push(&o);
        }
        out
    }

    /// A second handle on the same certificate. `new WasmPeer(config, cert)` consumes the
    /// handle it is given (wasm-bindgen moves an owned argument), so the JS engine passes a
    /// clone and one `RTCCertificate` serves many connections.
    #[wasm_bindgen(js_name = clone)]
    pub fn clone_handle(&self) -> WasmCertificate {
        WasmCertificate { cert: self.cert.clone() }
    }

    /// The certificate's notAfter, in ms since the Unix epoch.
    #[wasm_bindgen(getter)]
    pub fn expires(&self) -> f64 {
        self.cert.expires_unix_ms() as f64
    }
}

/// `generateCertificate(unixNowMs, expiresMs?)`: an ECDSA P-256 certificate valid from a day
/// before `unixNowMs` (the caller's `Date.now()`) until `expiresMs` after it (default 30
/// days, at most 365), in whole seconds and never later.
/// The synthetic device of `getUserMedia()` (VP8 test pattern, Opus tone), as the addon's
/// `NativeSyntheticSource`.
#[wasm_bindgen]
pub struct WasmSyntheticSource {
    source: crate::codec::synth::SyntheticSource,
}

#[wasm_bindgen]
impl WasmSyntheticSource {
    #[wasm_bindgen(constructor)]
    pub fn new(kind: &str, width: u32, height: u32, fps: u32) -> Result<WasmSyntheticSource, JsValue> {
        let source = match kind {
            "video" => crate::codec::synth::SyntheticSource::video(width, height, fps)
                .map_err(|e| js_error(PeerError::new(ErrorKind::NotSupported, format!("{e}"))))?,
            "audio" => crate::codec::synth::SyntheticSource::audio(true),
            _ => return Err(type_error("unknown kind")),
        };
        Ok(WasmSyntheticSource { source })
    }

    /// `{ data, keyframe, timestamp (µs), mimeType }`.
    #[wasm_bindgen(js_name = nextFrame)]
    pub fn next_frame(&mut self) -> JsValue {
        let f = self.source.next_frame();
        let o = Object::new();
        let _ = Reflect::set(&o, &"data".into(), &Uint8Array::from(f.data.as_slice()).into());
        let _ = Reflect::set(&o, &"keyframe".into(), &f.keyframe.into());
        let _ = Reflect::set(&o, &"timestamp".into(), &(f.timestamp_us as f64).into());
        let _ = Reflect::set(&o, &"mimeType".into(), &f.mime_type.into());
        o.into()
    }

    #[wasm_bindgen(js_name = requestKeyframe)]
    pub fn request_keyframe(&mut self) {
        self.source.request_keyframe();
    }
}

/// W3C `RTCRtpSender/RTCRtpReceiver.getCapabilities(kind)`: `null` for another kind.
#[wasm_bindgen(js_name = getCapabilities)]
pub fn get_capabilities(kind: &str) -> JsValue {
    match crate::engine::parse_kind(kind) {
        Ok(k) => obj_to_js(crate::engine::capabilities_obj(k)),
        Err(_) => JsValue::NULL,
    }
}

#[wasm_bindgen(js_name = generateCertificate)]
pub fn generate_certificate(unix_now_ms: f64, expires_ms: Option<f64>) -> Result<WasmCertificate, JsValue> {
    let validity = expires_ms.unwrap_or(CERT_VALIDITY_MS);
    if !validity.is_finite() || validity < 0.0 || !unix_now_ms.is_finite() || unix_now_ms < 0.0 {
        return Err(type_error("expires must be a non-negative finite number of milliseconds"));
    }
    let now_s = (unix_now_ms / 1000.0) as u64;
    let not_after = ((unix_now_ms + validity.min(MAX_CERT_VALIDITY_MS)) / 1000.0) as u64;
    let mut rng = Rng::from_entropy().map_err(|e| js_error(PeerError::new(ErrorKind::Operation, format!("no entropy: {e}"))))?;
    let cert = Certificate::generate(&mut rng, now_s.saturating_sub(NOT_BEFORE_SLACK_S), not_after)
        .map_err(|e| js_error(PeerError::new(ErrorKind::Operation, format!("certificate generation failed: {e:?}"))))?;
    Ok(WasmCertificate { cert: Arc::new(cert) })
}

/// One peer connection: the core plus the batch of events not yet taken.
#[wasm_bindgen]
pub struct WasmPeer {
    peer: Peer,
    closed: bool,
}

#[wasm_bindgen]
impl WasmPeer {
    /// `config`: `{ unixTimeMs, maxMessageSize?, iceTransportPolicy?: 'all' | 'relay',
    /// includeLoopback? }`, and `certificate`, a [`WasmCertificate`] (or `undefined` for a
    /// fresh one).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, certificate: Option<WasmCertificate>) -> Result<WasmPeer, JsValue> {
        let mut pc = PeerConfig::default();
        if let Some(ms) = get(&config, "unixTimeMs").as_f64() {
            pc.unix_time_ms = ms.max(0.0) as u64;
        }
        let max = get(&config, "maxMessageSize");
        if let Some(n) = max.as_f64() {
            if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0) {
                return Err(type_error("maxMessageSize must be a non-negative integer"));
            }
            pc.max_message_size = n.min(1024.0 * 1024.0 * 1024.0) as usize;
        }
        match get_string(&config, "iceTransportPolicy").as_deref() {
            None | Some("all") => {}
            Some("relay") => pc.relay_only = true,
            Some(other) => return Err(type_error(&format!("bad iceTransportPolicy {other:?}"))),
        }
        pc.include_loopback = get_bool(&config, "includeLoopback").unwrap_or(false);
        pc.certificate = certificate.map(|c| c.cert);
        let rng = Rng::from_entropy().map_err(|e| js_error(PeerError::new(ErrorKind::Operation, format!("no entropy: {e}"))))?;
        let peer = Peer::new(pc, rng).map_err(js_error)?;
        Ok(WasmPeer { peer, closed: false })
    }

    /// A local transport (the glue's relayed address on a TURN allocation, or any path it
    /// owns), known to the core by `transport`.
    #[wasm_bindgen(js_name = addLocalTransport)]
    pub fn add_local_transport(&mut self, transport: u32, address: &str) -> Result<(), JsValue> {
        let addr: SocketAddr = address.parse().map_err(|_| type_error("address must be ip:port"))?;
        let id = crate::TransportId::try_from(transport).map_err(|_| type_error("transport id out of range"))?;
        self.peer.add_local_transport(id, addr);
        Ok(())
    }

    /// A TURN relay reached over the glue's WebSocket `via` (one message per TURN message):
    /// its allocation becomes the relayed transport `relay` (candidate `typ relay`). What the
    /// core sends to the server comes out of `pollTransmit` on `via` addressed to `server`
    /// (any fixed "ip:port", e.g. "0.0.0.0:0"); every message from the socket goes back in
    /// with `handleDatagram(nowMs, via, server, bytes)`. A failure is an `icecandidateerror`
    /// event.
    #[wasm_bindgen(js_name = addRelay)]
    #[allow(clippy::too_many_arguments)]
    pub fn add_relay(
        &mut self,
        now_ms: f64,
        relay: u32,
        via: u32,
        server: &str,
        url: &str,
        username: &str,
        credential: &str,
    ) -> Result<(), JsValue> {
        let server: SocketAddr = server.parse().map_err(|_| type_error("server must be ip:port"))?;
        let mut config = crate::turn::TurnConfig::new(crate::turn::TurnTransport::WebSocket, username, credential);
        config.software = Some("polyrtc".to_string());
        self.peer
            .add_relay(time(now_ms), relay, via, server, url, config)
            .map_err(js_error)
    }

    /// The host's WebSocket to the relay reached through `via` failed or closed: see
    /// [`Peer::relay_server_failed`] (`nextUrl`: the URL tried next).
    #[wasm_bindgen(js_name = relayServerFailed)]
    pub fn relay_server_failed(
        &mut self,
        now_ms: f64,
        via: u32,
        url: &str,
        text: &str,
        next_url: Option<String>,
    ) -> Result<(), JsValue> {
        self.peer
            .relay_server_failed(time(now_ms), via, url, text, next_url.as_deref())
            .map_err(js_error)
    }

    #[wasm_bindgen(js_name = createOffer)]
    pub fn create_offer(&mut self, ice_restart: Option<bool>) -> Result<String, JsValue> {
        self.peer.create_offer_with(ice_restart.unwrap_or(false)).map_err(js_error)
    }

    /// The addon's `setConfiguration()` minus STUN servers (no UDP here): the
    /// `iceTransportPolicy` (`'all'` | `'relay'`) for the next gathering phase.
    #[wasm_bindgen(js_name = setIceTransportPolicy)]
    pub fn set_ice_transport_policy(&mut self, now_ms: f64, policy: Option<String>) -> Result<(), JsValue> {
        let relay_only = match policy.as_deref() {
            None | Some("all") => false,
            Some("relay") => true,
            Some(other) => return Err(type_error(&format!("bad iceTransportPolicy {other:?}"))),
        };
        self.peer.set_ice_config(time(now_ms), Vec::new(), relay_only).map_err(js_error)
    }

    #[wasm_bindgen(js_name = restartIce)]
    pub fn restart_ice(&mut self) {
        self.peer.restart_ice();
    }

    #[wasm_bindgen(js_name = createAnswer)]
    pub fn create_answer(&mut self) -> Result<String, JsValue> {
        self.peer.create_answer().map_err(js_error)
    }

    #[wasm_bindgen(js_name = setLocalDescription)]
    pub fn set_local_description(&mut self, now_ms: f64, ty: Option<String>, sdp: Option<String>) -> Result<JsValue, JsValue> {
        let ty = match ty.as_deref() {
            None | Some("") => None,
            Some(t) => Some(SdpType::parse(t).ok_or_else(|| type_error(&format!("bad type {t:?}")))?),
        };
        let d = self.peer.set_local_description(time(now_ms), ty, sdp.as_deref()).map_err(js_error)?;
        Ok(description_to_js(Some(d)))
    }

    #[wasm_bindgen(js_name = setRemoteDescription)]
    pub fn set_remote_description(&mut self, now_ms: f64, ty: &str, sdp: &str) -> Result<(), JsValue> {
        let ty = SdpType::parse(ty).ok_or_else(|| type_error(&format!("bad type {ty:?}")))?;
        self.peer.set_remote_description(time(now_ms), ty, sdp).map_err(js_error)
    }

    /// `init`: `{ candidate, sdpMid?, sdpMLineIndex?, usernameFragment? }`, or `null` for the
    /// end of candidates.
    #[wasm_bindgen(js_name = addIceCandidate)]
    pub fn add_ice_candidate(&mut self, now_ms: f64, init: JsValue) -> Result<(), JsValue> {
        let init = if init.is_null() || init.is_undefined() {
            None
        } else {
            Some(IceCandidateInit {
                candidate: get_string(&init, "candidate").unwrap_or_default(),
                sdp_mid: get_string(&init, "sdpMid"),
                sdp_mline_index: get_u16(&init, "sdpMLineIndex")?,
                username_fragment: get_string(&init, "usernameFragment"),
            })
        };
        self.peer.add_ice_candidate(time(now_ms), init).map_err(js_error)
    }

    /// The addon's `getState()` object.
    #[wasm_bindgen(js_name = getState)]
    pub fn get_state(&self) -> JsValue {
        let p = &self.peer;
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        set("signalingState", p.signaling_state().as_str().into());
        set("iceGatheringState", p.ice_gathering_state().as_str().into());
        set("iceConnectionState", p.ice_connection_state().as_str().into());
        set("connectionState", p.connection_state().as_str().into());
        set("canTrickleIceCandidates", p.can_trickle_ice_candidates().map_or(JsValue::NULL, JsValue::from));
        set("currentLocalDescription", description_to_js(p.current_local_description()));
        set("pendingLocalDescription", description_to_js(p.pending_local_description()));
        set("currentRemoteDescription", description_to_js(p.current_remote_description()));
        set("pendingRemoteDescription", description_to_js(p.pending_remote_description()));
        set("sctpMaxMessageSize", p.sctp_max_message_size().map_or(JsValue::NULL, |s| (s as f64).into()));
        set("negotiationNeeded", p.is_negotiation_needed().into());
        set("dtlsError", p.dtls_failure_detail().map_or(JsValue::NULL, JsValue::from));
        let pair = match p.selected_candidate_pair() {
            None => JsValue::NULL,
            Some((local, remote)) => {
                let pr = Object::new();
                let _ = Reflect::set(&pr, &"local".into(), &local.into());
                let _ = Reflect::set(&pr, &"remote".into(), &remote.into());
                pr.into()
            }
        };
        set("selectedCandidatePair", pair);
        set("datagramsDroppedOffPath", (p.stats().datagrams_dropped_off_path as f64).into());
        o.into()
    }

    /// The addon's `getStats()` object (`now_ms` on the clock the other calls use).
    #[wasm_bindgen(js_name = getStats)]
    pub fn get_stats(&self, now_ms: f64) -> JsValue {
        obj_to_js(crate::engine::stats_obj(&self.peer, time(now_ms)))
    }

    /// `init`: `{ label, protocol, ordered, maxPacketLifeTime?, maxRetransmits?, negotiated,
    /// id? }` (validated by the JS layer). Returns `{ channel, id }`.
    #[wasm_bindgen(js_name = createDataChannel)]
    pub fn create_data_channel(&mut self, now_ms: f64, init: JsValue) -> Result<JsValue, JsValue> {
        let init = DataChannelInit {
            label: get_string(&init, "label").unwrap_or_default(),
            protocol: get_string(&init, "protocol").unwrap_or_default(),
            ordered: get_bool(&init, "ordered").unwrap_or(true),
            max_packet_life_time: get_u16(&init, "maxPacketLifeTime")?,
            max_retransmits: get_u16(&init, "maxRetransmits")?,
            negotiated: get_bool(&init, "negotiated").unwrap_or(false),
            id: get_u16(&init, "id")?,
        };
        let (channel, id) = self.peer.create_data_channel(time(now_ms), init).map_err(js_error)?;
        let o = Object::new();
        let _ = Reflect::set(&o, &"channel".into(), &f64::from(channel).into());
        let _ = Reflect::set(&o, &"id".into(), &id.map_or(JsValue::NULL, |i| f64::from(i).into()));
        Ok(o.into())
    }

    pub fn send(&mut self, now_ms: f64, channel: u32, binary: bool, data: &[u8]) -> Result<(), JsValue> {
        self.peer.send(time(now_ms), channel, binary, data).map_err(js_error)
    }

    #[wasm_bindgen(js_name = channelId)]
    pub fn channel_id(&self, channel: u32) -> Option<u32> {
        self.peer.channel_id(channel).map(u32::from)
    }

    #[wasm_bindgen(js_name = closeChannel)]
    pub fn close_channel(&mut self, now_ms: f64, channel: u32) {
        self.peer.close_channel(time(now_ms), channel);
    }

    /// Closes the connection (an SCTP ABORT and a DTLS close_notify go out through
    /// `pollTransmit`). Idempotent.
    pub fn close(&mut self, now_ms: f64) {
        if !self.closed {
            self.closed = true;
            self.peer.close(time(now_ms));
        }
    }

    /// The peer's DER certificate once DTLS is connected, else `[]`.
    #[wasm_bindgen(js_name = remoteCertificates)]
    pub fn remote_certificates(&self) -> Array {
        let out = Array::new();
        if let Some(der) = self.peer.remote_certificate() {
            out.push(&Uint8Array::from(der));
        }
        out
    }

    /// A datagram that arrived on `transport` from `from` (`ip:port`). Malformed input is
    /// the core's to drop and count.
    #[wasm_bindgen(js_name = handleDatagram)]
    pub fn handle_datagram(&mut self, now_ms: f64, transport: u32, from: &str, data: &[u8]) -> Result<(), JsValue> {
        let from: SocketAddr = from.parse().map_err(|_| type_error("from must be ip:port"))?;
        let id = crate::TransportId::try_from(transport).map_err(|_| type_error("transport id out of range"))?;
        self.peer.handle_datagram(time(now_ms), id, from, data);
        Ok(())
    }

    /// The next datagram to send, `{ transport, destination: 'ip:port', data: Uint8Array }`,
    /// or `undefined`.
    #[wasm_bindgen(js_name = pollTransmit)]
    pub fn poll_transmit(&mut self, now_ms: f64) -> JsValue {
        match self.peer.poll_transmit(time(now_ms)) {
            None => JsValue::UNDEFINED,
            Some(t) => {
                let o = Object::new();
                let _ = Reflect::set(&o, &"transport".into(), &(t.transport as f64).into());
                let _ = Reflect::set(&o, &"destination".into(), &t.destination.to_string().into());
                let _ = Reflect::set(&o, &"data".into(), &Uint8Array::from(t.data.as_slice()).into());
                o.into()
            }
        }
    }

    /// When [`WasmPeer::handle_timeout`] is next due, in ms on the caller's clock.
    #[wasm_bindgen(js_name = pollTimeout)]
    pub fn poll_timeout(&self) -> Option<f64> {
        self.peer.poll_timeout().map(|t| t.as_micros() as f64 / 1000.0)
    }

    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now_ms: f64) {
        self.peer.handle_timeout(time(now_ms));
    }

    // ---- media (napi/engine-contract.md "Media") ----

    #[wasm_bindgen(js_name = addTransceiver)]
    pub fn add_transceiver(&mut self, init: JsValue) -> Result<u32, JsValue> {
        let kind = crate::engine::parse_kind(&get_string(&init, "kind").unwrap_or_default()).map_err(js_error)?;
        let direction =
            crate::engine::parse_direction(&get_string(&init, "direction").unwrap_or_default()).map_err(js_error)?;
        let strings = |name: &str| -> Vec<String> {
            Array::from(&get(&init, name)).iter().filter_map(|v| v.as_string()).collect()
        };
        let send_encodings = encodings_from_js(&get(&init, "sendEncodings"));
        let init = crate::peer::TransceiverInit {
            kind,
            direction,
            stream_ids: strings("streamIds"),
            track_id: get_string(&init, "trackId"),
            from_add_track: get_bool(&init, "fromAddTrack").unwrap_or(false),
            send_encodings,
        };
        self.peer.add_transceiver(init).map_err(js_error)
    }

    #[wasm_bindgen(js_name = getTransceivers)]
    pub fn get_transceivers(&self) -> JsValue {
        list_to_js(crate::engine::transceivers_list(&self.peer))
    }

    #[wasm_bindgen(js_name = setTransceiverDirection)]
    pub fn set_transceiver_direction(&mut self, t: u32, direction: &str) -> Result<(), JsValue> {
        let d = crate::engine::parse_direction(direction).map_err(js_error)?;
        self.peer.set_transceiver_direction(t, d).map_err(js_error)
    }

    #[wasm_bindgen(js_name = stopTransceiver)]
    pub fn stop_transceiver(&mut self, t: u32) -> Result<(), JsValue> {
        self.peer.stop_transceiver(t).map_err(js_error)
    }

    #[wasm_bindgen(js_name = setCodecPreferences)]
    pub fn set_codec_preferences(&mut self, t: u32, codecs: JsValue) -> Result<(), JsValue> {
        let mut list = Vec::new();
        for c in Array::from(&codecs).iter() {
            let clock = get(&c, "clockRate").as_f64().unwrap_or(0.0).clamp(0.0, f64::from(u32::MAX)) as u32;
            let channels = get(&c, "channels").as_f64().map(|ch| ch.clamp(0.0, 65535.0) as u16);
            let codec = crate::engine::codec_from_capability(
                &get_string(&c, "mimeType").unwrap_or_default(),
                clock,
                channels,
                get_string(&c, "sdpFmtpLine").as_deref(),
            )
            .map_err(js_error)?;
            list.push(codec);
        }
        self.peer.set_codec_preferences(t, list).map_err(js_error)
    }

    #[wasm_bindgen(js_name = setSenderTrack)]
    pub fn set_sender_track(&mut self, t: u32, track_id: Option<String>, from_add_track: Option<bool>) -> Result<(), JsValue> {
        self.peer.set_sender_track(t, track_id, from_add_track.unwrap_or(false)).map_err(js_error)
    }

    #[wasm_bindgen(js_name = setSenderStreams)]
    pub fn set_sender_streams(&mut self, t: u32, stream_ids: Vec<String>) -> Result<(), JsValue> {
        self.peer.set_sender_streams(t, stream_ids).map_err(js_error)
    }

    #[wasm_bindgen(js_name = setReceiveRtp)]
    pub fn set_receive_rtp(&mut self, t: u32, on: bool) -> Result<(), JsValue> {
        self.peer.set_deliver_rtp(t, on).map_err(js_error)
    }

    /// One encoded frame (`timestamp` in µs) for the send encoding `rid` (none: the first);
    /// `false`: not sent (the transceiver or that layer does not send yet).
    #[wasm_bindgen(js_name = writeFrame)]
    pub fn write_frame(
        &mut self,
        now_ms: f64,
        t: u32,
        timestamp_us: f64,
        data: &[u8],
        mime_type: Option<String>,
        rid: Option<String>,
    ) -> Result<bool, JsValue> {
        if !(timestamp_us.is_finite() && timestamp_us >= 0.0) {
            return Err(type_error("timestamp must be a non-negative number"));
        }
        let codec = mime_type.as_deref().and_then(|m| m.split_once('/')).map(|(_, n)| n);
        self.peer.write_layer_frame(time(now_ms), t, rid.as_deref(), timestamp_us as u64, data, codec).map_err(js_error)
    }

    /// W3C `setParameters()`: new parameters for the sender's encodings.
    #[wasm_bindgen(js_name = setSendEncodings)]
    pub fn set_send_encodings(&mut self, t: u32, encodings: JsValue) -> Result<(), JsValue> {
        self.peer.set_send_encodings(t, encodings_from_js(&encodings)).map_err(js_error)
    }

    #[wasm_bindgen(js_name = writeRtp)]
    pub fn write_rtp(&mut self, now_ms: f64, t: u32, packet: &[u8]) -> Result<bool, JsValue> {
        self.peer.write_rtp(time(now_ms), t, packet).map_err(js_error)
    }

    /// One RFC 4733 DTMF tone (see the addon's `insertDtmf`).
    #[wasm_bindgen(js_name = insertDtmf)]
    pub fn insert_dtmf(&mut self, now_ms: f64, t: u32, event: u32, duration: u32, volume: u32) -> Result<bool, JsValue> {
        let event = u8::try_from(event).unwrap_or(u8::MAX);
        let volume = u8::try_from(volume.min(63)).unwrap_or(63);
        self.peer.insert_dtmf(time(now_ms), t, event, duration, volume).map_err(js_error)
    }

    /// RFC 6464 level of the next audio frames (linear 0..1; `undefined`: none).
    #[wasm_bindgen(js_name = setSendAudioLevel)]
    pub fn set_send_audio_level(&mut self, t: u32, level: Option<f64>) {
        self.peer.set_send_audio_level(t, level.map(crate::peer::dbov_audio_level));
    }

    /// The latest RFC 6464 levels received on `t`, flat `[ssrc, linear, voice 0/1, ...]`.
    #[wasm_bindgen(js_name = audioLevels)]
    pub fn audio_levels(&self, t: u32) -> Vec<f64> {
        self.peer
            .audio_levels(t)
            .iter()
            .flat_map(|l| [f64::from(l.ssrc), crate::peer::linear_audio_level(l.level), f64::from(u8::from(l.voice_activity))])
            .collect()
    }

    #[wasm_bindgen(js_name = canInsertDtmf)]
    pub fn can_insert_dtmf(&self, t: u32) -> bool {
        self.peer.can_insert_dtmf(t)
    }

    #[wasm_bindgen(js_name = requestKeyframe)]
    pub fn request_keyframe(&mut self, now_ms: f64, t: u32) -> Result<(), JsValue> {
        self.peer.request_keyframe(time(now_ms), t).map_err(js_error)
    }

    /// Up to [`MAX_BATCH_EVENTS`] events, in the order the core produced them, as the
    /// contract's objects (`[]` when none).
    #[wasm_bindgen(js_name = pollEvents)]
    pub fn poll_events(&mut self) -> Array {
        let out = Array::new();
        while out.length() < MAX_BATCH_EVENTS as u32 {
            let Some(ev) = self.peer.poll_event() else { break };
            if crate::engine::delivered_to_js(&ev) {
                out.push(&obj_to_js(to_obj(ev)));
            }
        }
        out
    }
}

/// `RTCRtpEncodingParameters` from JS (`addTransceiver`'s `sendEncodings`, `setParameters`).
fn encodings_from_js(list: &JsValue) -> Vec<crate::peer::Encoding> {
    Array::from(list)
        .iter()
        .map(|e| crate::peer::Encoding {
            rid: get_string(&e, "rid"),
            active: get_bool(&e, "active").unwrap_or(true),
            max_bitrate: get(&e, "maxBitrate").as_f64().map(|b| b.clamp(0.0, f64::from(u32::MAX)) as u32),
            max_framerate: get(&e, "maxFramerate").as_f64(),
            scale_resolution_down_by: get(&e, "scaleResolutionDownBy").as_f64(),
        })
        .collect()
}
