//! `__EchoProbe`: a test-only export (not part of the engine contract) that runs a tiny
//! echo engine on its own loopback UDP socket through the same plumbing as `NativePeer`
//! (I/O thread, threadsafe function, event batches with `Buffer`s, keep-alive, release),
//! so Node tests cover that plumbing independently of the core.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Mutex;

use napi::{Env, JsFunction};
use napi_derive::napi;
use polyrtc::peer::{ErrorKind, PeerConnectionState, PeerEvent};
use polyrtc::{Time, Transmit, TransportId};

use crate::bindings::{guard, make_tsfn, Tsfn, TsfnSink};
use crate::clock;
use crate::error::{self as jserr, JsResult};
use crate::host::{lock, Backlog, Engine, MAX_QUEUED_EVENT_BYTES};
use crate::iface;
use crate::reactor::{Reactor, SharedHost};

/// Echoes every datagram and reports it as a `message` event; `b"panic"` panics.
#[derive(Default)]
pub struct EchoEngine {
    out: VecDeque<Transmit>,
    events: VecDeque<PeerEvent>,
}

impl Engine for EchoEngine {
    fn handle_datagram(&mut self, _now: Time, transport: TransportId, from: SocketAddr, data: &[u8]) {
        if data == b"panic" {
            panic!("echo probe asked to panic");
        }
        self.out.push_back(Transmit { transport, destination: from, data: data.to_vec() });
        self.events.push_back(PeerEvent::DataChannelMessage { channel: transport, binary: true, data: data.to_vec() });
    }
    fn handle_timeout(&mut self, _now: Time) {}
    fn poll_transmit(&mut self, _now: Time) -> Option<Transmit> {
        self.out.pop_front()
    }
    fn poll_event(&mut self) -> Option<PeerEvent> {
        self.events.pop_front()
    }
    fn poll_timeout(&self) -> Option<Time> {
        None
    }
    fn close(&mut self, _now: Time) {
        self.events.push_back(PeerEvent::ConnectionStateChanged(PeerConnectionState::Closed));
    }
}

static PROBE_REACTOR: Mutex<Option<Reactor<EchoEngine>>> = Mutex::new(None);

fn probe_reactor() -> JsResult<Reactor<EchoEngine>> {
    let mut g = lock(&PROBE_REACTOR);
    if let Some(r) = g.as_ref() {
        return Ok(r.clone());
    }
    let r = Reactor::start().map_err(|e| jserr::new(ErrorKind::Operation, format!("I/O thread: {e}")))?;
    *g = Some(r.clone());
    Ok(r)
}

#[napi(js_name = "__EchoProbe")]
pub struct EchoProbe {
    reactor: Reactor<EchoEngine>,
    host: SharedHost<EchoEngine>,
    keepalive: Option<Tsfn>,
    port: u32,
}

#[napi]
impl EchoProbe {
    /// Binds 127.0.0.1:0. Like `NativePeer`, it keeps the event loop alive only once
    /// started (`keepAlive` here, `start()` later) and until `close()`.
    #[napi(constructor)]
    pub fn new(env: Env, on_events: JsFunction, keep_alive: bool) -> napi::Result<Self, String> {
        guard(|| {
            let reactor = probe_reactor()?;
            let addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
            let (bound, _) = iface::bind_all(&[addr]);
            let port = bound.first().map(|(_, l)| u32::from(l.port())).unwrap_or(0);
            if port == 0 {
                return Err(jserr::new(ErrorKind::Operation, "cannot bind 127.0.0.1"));
            }
            let id = reactor.next_peer_id();
            let backlog = Backlog::new(MAX_QUEUED_EVENT_BYTES);
            let tsfn = make_tsfn(&on_events, backlog.clone(), reactor.clone(), id)?;
            let mut keepalive = tsfn.clone();
            keepalive.unref(&env).map_err(jserr::from_napi)?;
            if keep_alive {
                keepalive.refer(&env).map_err(jserr::from_napi)?;
            }
            let sockets = reactor.make_sockets(bound);
            let host = reactor
                .add(id, EchoEngine::default(), sockets, Box::new(TsfnSink(tsfn)), backlog)
                .map_err(|e| jserr::new(ErrorKind::Operation, format!("register: {e}")))?;
            Ok(EchoProbe { reactor, host, keepalive: Some(keepalive), port })
        })
    }

    /// Keeps the event loop alive from now on (as `setLocalDescription` does for a peer).
    #[napi]
    pub fn start(&mut self, env: Env) -> napi::Result<(), String> {
        if let Some(k) = self.keepalive.as_mut() {
            k.refer(&env).map_err(jserr::from_napi)?;
        }
        Ok(())
    }

    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.port
    }

    #[napi]
    pub fn close(&mut self) -> napi::Result<(), String> {
        let r = guard(|| {
            self.reactor.close(&mut lock(&self.host), clock::now());
            Ok(())
        });
        self.keepalive = None;
        r
    }
}

impl Drop for EchoProbe {
    fn drop(&mut self) {
        let reactor = self.reactor.clone();
        let host = self.host.clone();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            reactor.close(&mut lock(&host), clock::now());
        }));
    }
}

/// `__srtpBench(profile, packets, size)`: a benchmark-only export (bench/srtp.js, not part
/// of the engine contract): protects `packets` RTP packets of `size` payload bytes with the
/// core's SRTP (`profile`: 'AES_CM_128_HMAC_SHA1_80' | 'AEAD_AES_128_GCM' |
/// 'AEAD_AES_256_GCM'), then unprotects them on a second session keyed as the peer. Returns
/// `[protect ns, unprotect ns]` (the packets are built before the clock starts).
#[napi(js_name = "__srtpBench")]
pub fn srtp_bench(profile: String, packets: u32, size: u32) -> napi::Result<Vec<f64>, String> {
    use polyrtc::srtp::{SrtpProfile, SrtpSession};
    guard(|| {
        let p = match profile.as_str() {
            "AES_CM_128_HMAC_SHA1_80" => SrtpProfile::Aes128CmHmacSha1_80,
            "AEAD_AES_128_GCM" => SrtpProfile::AeadAes128Gcm,
            "AEAD_AES_256_GCM" => SrtpProfile::AeadAes256Gcm,
            _ => return Err(jserr::new(ErrorKind::NotSupported, format!("unknown profile {profile}"))),
        };
        let material: Vec<u8> = (0..p.keying_material_len()).map(|i| (i * 7) as u8).collect();
        let bad = |e: polyrtc::srtp::SrtpError| jserr::new(ErrorKind::Operation, format!("{e:?}"));
        let mut tx = SrtpSession::from_dtls(p, &material, true).map_err(bad)?;
        let mut rx = SrtpSession::from_dtls(p, &material, false).map_err(bad)?;
        let mut list: Vec<Vec<u8>> = (0..packets)
            .map(|i| {
                let mut v = vec![0x80, 96];
                v.extend((i as u16).to_be_bytes());
                v.extend((i * 3000).to_be_bytes());
                v.extend(0x1234_5678u32.to_be_bytes());
                v.resize(12 + size as usize, 0xab);
                v.reserve(16);
                v
            })
            .collect();
        let t0 = std::time::Instant::now();
        for pkt in &mut list {
            tx.protect_rtp(pkt).map_err(bad)?;
        }
        let protect = t0.elapsed().as_nanos() as f64;
        let t1 = std::time::Instant::now();
        for pkt in &mut list {
            rx.unprotect_rtp(pkt).map_err(bad)?;
        }
        let unprotect = t1.elapsed().as_nanos() as f64;
        Ok(vec![protect, unprotect])
    })
}
