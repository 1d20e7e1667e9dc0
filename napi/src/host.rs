//! One peer as the addon hosts it: the sans-IO engine, its UDP sockets, its event sink,
//! and the bookkeeping that drains the engine after every input.

use std::io::ErrorKind as IoErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mio::net::UdpSocket;
use mio::Token;
use polyrtc::peer::{Peer, PeerEvent};
use polyrtc::{Time, Transmit, TransportId};

use crate::events::{error_obj, to_obj, Batch, Obj, MAX_BATCH_EVENTS};
use crate::timers::PeerId;

/// Largest UDP payload read (one reused buffer per I/O thread).
pub const RECV_BUFFER_SIZE: usize = 64 * 1024;
/// Datagrams fed to the engine between two drains while a socket has a backlog: the core
/// answers them together (one packet bundling the SACK chunks taken for every second DATA
/// packet, instead of one SACK packet per pair).
pub const MAX_DATAGRAMS_PER_DRAIN: u32 = 32;
/// A socket that keeps failing this many reads in a row is left alone until next readiness.
pub const MAX_CONSECUTIVE_RECV_ERRORS: u32 = 64;

/// Bytes of events a peer may have handed to JS and not yet seen taken by the JS thread;
/// above it the host stops reading that peer's sockets (the kernel buffer then drops, like
/// a congested network) until JS catches up to half of it.
pub const MAX_QUEUED_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// Events queued towards JS, shared by the host (adds) and the JS-thread callback (takes).
#[derive(Debug)]
pub struct Backlog {
    queued: AtomicUsize,
    limit: usize,
    paused: AtomicBool,
}

impl Backlog {
    pub fn new(limit: usize) -> Arc<Backlog> {
        Arc::new(Backlog { queued: AtomicUsize::new(0), limit, paused: AtomicBool::new(false) })
    }

    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    pub(crate) fn add(&self, n: usize) {
        self.queued.fetch_add(n, Ordering::SeqCst);
    }

    /// JS took a batch of `n` bytes. Returns `true` when reading must resume.
    pub fn consumed(&self, n: usize) -> bool {
        let prev = self
            .queued
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |q| Some(q.saturating_sub(n)))
            .unwrap_or(0);
        prev.saturating_sub(n) <= self.limit / 2 && self.paused.swap(false, Ordering::SeqCst)
    }

    /// Called before reading a datagram: `true` means stop reading (paused).
    pub(crate) fn should_pause(&self) -> bool {
        if self.queued() <= self.limit {
            return false;
        }
        self.paused.store(true, Ordering::SeqCst);
        // JS may have drained between the check and the store: then take the pause back.
        if self.queued() <= self.limit && self.paused.swap(false, Ordering::SeqCst) {
            return false;
        }
        true
    }
}

/// What the host needs from a sans-IO core. `Peer` implements it; tests use a fake.
pub trait Engine: Send + 'static {
    fn handle_datagram(&mut self, now: Time, transport: TransportId, from: SocketAddr, data: &[u8]);
    fn handle_timeout(&mut self, now: Time);
    fn poll_transmit(&mut self, now: Time) -> Option<Transmit>;
    fn poll_event(&mut self) -> Option<PeerEvent>;
    fn poll_timeout(&self) -> Option<Time>;
    fn close(&mut self, now: Time);
    /// Counters printed on close when `POLYRTC_DEBUG_STATS=1` (profiling aid).
    fn debug_stats(&self) -> String {
        String::new()
    }
}

/// `POLYRTC_DEBUG_STATS=1`: each peer prints its host and core counters to stderr on close.
fn debug_stats_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("POLYRTC_DEBUG_STATS").is_some_and(|v| v == "1"))
}

impl Engine for Peer {
    fn handle_datagram(&mut self, now: Time, transport: TransportId, from: SocketAddr, data: &[u8]) {
        Peer::handle_datagram(self, now, transport, from, data)
    }
    fn handle_timeout(&mut self, now: Time) {
        Peer::handle_timeout(self, now)
    }
    fn poll_transmit(&mut self, now: Time) -> Option<Transmit> {
        Peer::poll_transmit(self, now)
    }
    fn poll_event(&mut self) -> Option<PeerEvent> {
        Peer::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Time> {
        Peer::poll_timeout(self)
    }
    fn close(&mut self, now: Time) {
        Peer::close(self, now)
    }
    fn debug_stats(&self) -> String {
        format!("{:?} {:?}", self.stats(), self.sctp_stats())
    }
}

/// Where a peer's event batches go (a napi threadsafe function, or a Vec in tests).
pub trait EventSink: Send + 'static {
    fn deliver(&mut self, batch: Batch);
}

/// Counters of what the host dropped, like a network would.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct HostStats {
    pub datagrams_received: u64,
    pub datagrams_sent: u64,
    /// Send buffer full (WouldBlock): dropped.
    pub send_would_block: u64,
    /// Other send failures (unreachable, family mismatch...): dropped.
    pub send_errors: u64,
    /// Transmit for a transport this host does not have: dropped.
    pub send_unknown_transport: u64,
    pub recv_errors: u64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HostState {
    Open,
    Closed,
    /// A panic was caught while working on this peer; it is closed.
    Failed,
}

pub struct Socket {
    pub socket: UdpSocket,
    pub local: SocketAddr,
    pub token: Token,
}

pub struct PeerHost<E: Engine> {
    pub id: PeerId,
    pub engine: E,
    /// Index = `TransportId`.
    pub sockets: Vec<Socket>,
    sink: Option<Box<dyn EventSink>>,
    outbox: Vec<Obj>,
    pub backlog: Arc<Backlog>,
    pub state: HostState,
    pub stats: HostStats,
    /// The deadline this peer has in the I/O thread's timer table, if any.
    pub armed: Option<Time>,
}

/// Locks a host even if a panic poisoned it; `state` tells whether it is still usable.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<E: Engine> PeerHost<E> {
    pub fn new(id: PeerId, engine: E, sockets: Vec<Socket>, sink: Box<dyn EventSink>, backlog: Arc<Backlog>) -> PeerHost<E> {
        PeerHost {
            id,
            engine,
            sockets,
            sink: Some(sink),
            outbox: Vec::new(),
            backlog,
            state: HostState::Open,
            stats: HostStats::default(),
            armed: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.state == HostState::Open
    }

    /// Sends one transmit on its socket; failures are counted and the datagram dropped.
    fn send(&mut self, t: &Transmit) {
        let Some(sock) = usize::try_from(t.transport).ok().and_then(|i| self.sockets.get(i)) else {
            self.stats.send_unknown_transport += 1;
            return;
        };
        match sock.socket.send_to(&t.data, t.destination) {
            Ok(_) => self.stats.datagrams_sent += 1,
            Err(e) if e.kind() == IoErrorKind::WouldBlock => self.stats.send_would_block += 1,
            Err(_) => self.stats.send_errors += 1,
        }
    }

    /// Drains the engine after an input: transmits first, then events (queued in the
    /// outbox, see [`PeerHost::flush`]). Returns the engine's next deadline.
    pub fn drive(&mut self, now: Time) -> Option<Time> {
        while let Some(t) = self.engine.poll_transmit(now) {
            self.send(&t);
        }
        while let Some(ev) = self.engine.poll_event() {
            if !polyrtc::engine::delivered_to_js(&ev) {
                continue;
            }
            self.outbox.push(to_obj(ev));
            if self.outbox.len() >= MAX_BATCH_EVENTS {
                self.flush();
            }
        }
        self.engine.poll_timeout()
    }

    /// Hands the queued events to JS as one batch.
    pub fn flush(&mut self) {
        if self.outbox.is_empty() {
            return;
        }
        let batch = Batch(std::mem::take(&mut self.outbox));
        if let Some(sink) = self.sink.as_mut() {
            self.backlog.add(batch.weight());
            sink.deliver(batch);
        }
    }

    /// Reads a socket until it would block, feeding every datagram to the engine.
    pub fn on_readable(&mut self, now: Time, transport: TransportId, buf: &mut [u8]) -> Option<Time> {
        let Some(index) = usize::try_from(transport).ok() else { return self.engine.poll_timeout() };
        let mut errors = 0u32;
        let mut undrained = 0u32;
        loop {
            if self.backlog.should_pause() {
                break;
            }
            let Some(sock) = self.sockets.get(index) else { break };
            match sock.socket.recv_from(buf) {
                Ok((len, from)) => {
                    errors = 0;
                    self.stats.datagrams_received += 1;
                    if let Some(data) = buf.get(..len) {
                        self.engine.handle_datagram(now, transport, from, data);
                    }
                    // Drain every few datagrams so replies leave promptly and outputs stay
                    // small, and at the end (below).
                    undrained += 1;
                    if undrained >= MAX_DATAGRAMS_PER_DRAIN {
                        undrained = 0;
                        self.drive(now);
                    }
                }
                Err(e) if e.kind() == IoErrorKind::WouldBlock => break,
                Err(e) if e.kind() == IoErrorKind::Interrupted => continue,
                Err(_) => {
                    // e.g. ECONNREFUSED from an ICMP port unreachable: count and go on.
                    self.stats.recv_errors += 1;
                    errors += 1;
                    if errors >= MAX_CONSECUTIVE_RECV_ERRORS {
                        break;
                    }
                }
            }
        }
        self.drive(now)
    }

    pub fn on_timeout(&mut self, now: Time) -> Option<Time> {
        self.engine.handle_timeout(now);
        self.drive(now)
    }

    /// Closes the engine (its last datagrams are sent, its last events delivered) and
    /// marks the host closed. Sockets are dropped by the caller after deregistration.
    pub fn close(&mut self, now: Time) {
        if self.state != HostState::Open {
            return;
        }
        if debug_stats_enabled() {
            eprintln!("polyrtc peer {}: {:?} {}", self.id, self.stats, self.engine.debug_stats());
        }
        self.engine.close(now);
        self.drive(now);
        self.flush();
        self.state = HostState::Closed;
    }

    /// Reports an internal failure as an `error` event and marks the host failed.
    pub fn fail(&mut self, message: &str) {
        self.outbox.clear();
        self.outbox.push(error_obj(message));
        self.flush();
        self.state = HostState::Failed;
    }

    /// Takes the sockets out (for deregistration) and releases the sink, so nothing of
    /// this peer keeps the Node event loop alive.
    pub fn take_resources(&mut self) -> (Vec<Socket>, Option<Box<dyn EventSink>>) {
        (std::mem::take(&mut self.sockets), self.sink.take())
    }

    pub fn sink_mut(&mut self) -> Option<&mut Box<dyn EventSink>> {
        self.sink.as_mut()
    }
}
