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
