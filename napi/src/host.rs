//! One peer as the addon hosts it: the sans-IO engine, its UDP sockets (and TCP connections
//! to TURN servers), its event sink, and the bookkeeping that drains the engine after every
//! input.

use std::io::ErrorKind as IoErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mio::net::{TcpStream, UdpSocket};
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

/// Bytes a TCP connection to a TURN server may hold unsent (the kernel buffer is full, or it
/// is still connecting); a transmit that does not fit is dropped whole (framing survives),
/// like a datagram on a full UDP socket.
pub const MAX_TCP_SEND_QUEUE: usize = 256 * 1024;

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
    /// The host's stream to the server at `url` (reached through `transport`) failed or
    /// closed: whatever relies on it stops (a TURN allocation fails, 701).
    /// Engines without such streams ignore it.
    fn link_failed(&mut self, _now: Time, _transport: TransportId, _url: &str, _reason: &str) {}
    /// A `.local` name the engine signals for one of our addresses (mDNS-hidden host
    /// candidates): the host answers for it while the peer lives.
    fn poll_mdns_name(&mut self) -> Option<(String, std::net::IpAddr)> {
        None
    }
    /// The engine's current ICE username fragment, for routing on a shared port.
    fn local_ice_ufrag(&self) -> Option<&str> {
        None
    }
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
    fn poll_mdns_name(&mut self) -> Option<(String, std::net::IpAddr)> {
        Peer::poll_mdns_name(self)
    }
    fn local_ice_ufrag(&self) -> Option<&str> {
        Some(Peer::local_ice_ufrag(self))
    }
    fn link_failed(&mut self, now: Time, transport: TransportId, url: &str, reason: &str) {
        // Err only when no relay uses the transport: nothing then to tell.
        let _ = self.relay_server_failed(now, transport, url, reason, None);
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
    /// TCP streams to TURN servers that failed to connect, broke or were closed.
    pub links_failed: u64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HostState {
    Open,
    Closed,
    /// A panic was caught while working on this peer; it is closed.
    Failed,
}

/// A TCP connection to one TURN server (RFC 8656 §3.1 over TCP, or over TLS for `turns:`:
/// the core frames and reassembles; here bytes only move, through rustls when `tls` is set).
pub struct TcpLink {
    /// `None` once failed or closed (dropping the stream also takes it out of the poll).
    pub stream: Option<TcpStream>,
    pub server: SocketAddr,
    /// The server's URL, for the error the core reports when the stream fails.
    pub url: String,
    connected: bool,
    /// Bytes not yet taken by the kernel (with TLS: plaintext not yet given to rustls, which
    /// takes it once the handshake is done and its previous records are written), at most
    /// [`MAX_TCP_SEND_QUEUE`].
    unsent: Vec<u8>,
    tls: Option<Box<rustls::ClientConnection>>,
}

impl TcpLink {
    /// Starts a non-blocking connect to `server`.
    pub fn connect(server: SocketAddr, url: &str) -> std::io::Result<TcpLink> {
        let stream = TcpStream::connect(server)?;
        Ok(TcpLink { stream: Some(stream), server, url: url.to_string(), connected: false, unsent: Vec::new(), tls: None })
    }

    /// Starts a non-blocking connect to `server`, then TLS over it (`turns:`).
    pub fn connect_tls(server: SocketAddr, url: &str, tls: rustls::ClientConnection) -> std::io::Result<TcpLink> {
        let mut link = TcpLink::connect(server, url)?;
        link.tls = Some(Box::new(tls));
        Ok(link)
    }

    /// A link that never connected (its failure is reported by whoever made it).
    pub fn failed(server: SocketAddr, url: &str) -> TcpLink {
        TcpLink { stream: None, server, url: url.to_string(), connected: false, unsent: Vec::new(), tls: None }
    }

    fn what(&self) -> &'static str {
        if self.tls.is_some() {
            "TLS"
        } else {
            "TCP"
        }
    }

    /// Writes what can be written now. `Err` means the stream is broken.
    fn flush(&mut self) -> std::io::Result<()> {
        let Some(stream) = self.stream.as_mut() else { return Ok(()) };
        let Some(tls) = self.tls.as_mut() else { return flush_unsent(stream, &mut self.unsent) };
        use std::io::Write;
        loop {
            if !tls.is_handshaking() && !self.unsent.is_empty() && !tls.wants_write() {
                // No buffer limit (tls.rs): rustls takes it all, as records to write.
                tls.writer().write_all(&self.unsent)?;
                self.unsent.clear();
            }
            if !tls.wants_write() {
                return Ok(());
            }
            match tls.write_tls(stream) {
                Ok(0) => return Err(std::io::Error::new(IoErrorKind::WriteZero, "connection closed")),
                Ok(_) => {}
                Err(e) if e.kind() == IoErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == IoErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the next bytes of the stream into `buf` (with TLS: decrypted).
    fn read_chunk(&mut self, buf: &mut [u8]) -> Chunk {
        use std::io::Read;
        let Some(stream) = self.stream.as_mut() else { return Chunk::WouldBlock };
        let Some(tls) = self.tls.as_mut() else {
            return match stream.read(buf) {
                Ok(0) => Chunk::Failed("the TURN server closed the TCP connection".into()),
                Ok(n) => Chunk::Data(n),
                Err(e) if e.kind() == IoErrorKind::WouldBlock => Chunk::WouldBlock,
                Err(e) if e.kind() == IoErrorKind::Interrupted => Chunk::Again,
                Err(e) => Chunk::Failed(format!("TCP connection to the TURN server failed: {e}")),
            };
        };
        match tls.reader().read(buf) {
            Ok(0) => return Chunk::Failed("the TURN server closed the TLS connection".into()),
            Ok(n) => return Chunk::Data(n),
            Err(e) if e.kind() == IoErrorKind::WouldBlock => {}
            Err(e) => return Chunk::Failed(format!("TLS connection to the TURN server failed: {e}")),
        }
        match tls.read_tls(stream) {
            Ok(0) => Chunk::Failed("the TURN server closed the TLS connection".into()),
            Ok(_) => {
                if let Err(e) = tls.process_new_packets() {
                    // rustls queued an alert for the server: a last try to send it.
                    let _ = tls.write_tls(stream);
                    return Chunk::Failed(format!("TLS with the TURN server failed: {e}"));
                }
                // Handshake messages to answer, or plaintext that may go now.
                match self.flush() {
                    Ok(()) => Chunk::Again,
                    Err(e) => Chunk::Failed(format!("TLS connection to the TURN server failed: {e}")),
                }
            }
            Err(e) if e.kind() == IoErrorKind::WouldBlock => Chunk::WouldBlock,
            Err(e) if e.kind() == IoErrorKind::Interrupted => Chunk::Again,
            Err(e) => Chunk::Failed(format!("TLS connection to the TURN server failed: {e}")),
        }
    }
}

/// What one read of a link gave.
enum Chunk {
    /// Bytes for the engine, at the start of the buffer.
    Data(usize),
    /// Nothing for the engine yet; read again.
    Again,
    WouldBlock,
    Failed(String),
}

pub enum Link {
    Udp(UdpSocket),
    Tcp(TcpLink),
    /// A socket shared with other peers (`sharedUdpPort`): the reactor reads it and routes.
    Shared(std::sync::Arc<crate::shared_port::SharedPort>),
}

pub struct Socket {
    pub link: Link,
    /// The socket's bound address (a TCP link's is the unspecified address until known).
    pub local: SocketAddr,
    pub token: Token,
}

impl Socket {
    /// The registered I/O source, if it is still open.
    pub fn source(&mut self) -> Option<&mut dyn mio::event::Source> {
        match &mut self.link {
            Link::Udp(s) => Some(s),
            Link::Tcp(t) => t.stream.as_mut().map(|s| s as &mut dyn mio::event::Source),
            // Registered once by the reactor, not per peer.
            Link::Shared(_) => None,
        }
    }

    pub fn interest(&self) -> mio::Interest {
        match self.link {
            Link::Udp(_) | Link::Shared(_) => mio::Interest::READABLE,
            Link::Tcp(_) => mio::Interest::READABLE | mio::Interest::WRITABLE,
        }
    }
}

/// Writes what the kernel takes of `unsent`. `Err` means the stream is broken.
fn flush_unsent(stream: &mut TcpStream, unsent: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Write;
    let mut written = 0;
    while written < unsent.len() {
        match stream.write(unsent.get(written..).unwrap_or_default()) {
            Ok(0) => return Err(std::io::Error::new(IoErrorKind::WriteZero, "connection closed")),
            Ok(n) => written += n,
            Err(e) if e.kind() == IoErrorKind::WouldBlock => break,
            Err(e) if e.kind() == IoErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    unsent.drain(..written);
    Ok(())
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
    /// Our `.local` names the process's mDNS responder answers for (dropped with the peer's
    /// other resources: the responder then forgets them).
    mdns_names: Vec<crate::mdns::Registration>,
    /// The ICE username fragment last given to this peer's shared ports.
    shared_ufrag: String,
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
            mdns_names: Vec::new(),
            shared_ufrag: String::new(),
        }
    }

    pub fn is_open(&self) -> bool {
        self.state == HostState::Open
    }

    /// Sends one transmit on its socket; failures are counted and the datagram dropped.
    fn send(&mut self, now: Time, t: &Transmit) {
        let Some(sock) = usize::try_from(t.transport).ok().and_then(|i| self.sockets.get_mut(i)) else {
            self.stats.send_unknown_transport += 1;
            return;
        };
        let link = match &mut sock.link {
            Link::Udp(socket) => {
                match socket.send_to(&t.data, t.destination) {
                    Ok(_) => self.stats.datagrams_sent += 1,
                    Err(e) if e.kind() == IoErrorKind::WouldBlock => self.stats.send_would_block += 1,
                    Err(_) => self.stats.send_errors += 1,
                }
                return;
            }
            Link::Shared(port) => {
                match port.socket.send_to(&t.data, t.destination) {
                    Ok(_) => {
                        self.stats.datagrams_sent += 1;
                        port.sent(self.id, t.destination, &t.data);
                    }
                    Err(e) if e.kind() == IoErrorKind::WouldBlock => self.stats.send_would_block += 1,
                    Err(_) => self.stats.send_errors += 1,
                }
                return;
            }
            Link::Tcp(link) => link,
        };
        // A stream carries the server's messages only; the core addresses them to it.
        if t.destination != link.server {
            self.stats.send_errors += 1;
            return;
        }
        if link.stream.is_none() {
            self.stats.send_errors += 1;
            return;
        }
        if link.unsent.len() + t.data.len() > MAX_TCP_SEND_QUEUE {
            self.stats.send_would_block += 1;
            return;
        }
        link.unsent.extend_from_slice(&t.data);
        self.stats.datagrams_sent += 1;
        if link.connected {
            if let Err(e) = link.flush() {
                let text = format!("{} connection to the TURN server failed: {e}", link.what());
                self.fail_link(now, t.transport, &text);
            }
        }
    }

    /// Closes the TCP link of `transport` and tells the engine (once).
    fn fail_link(&mut self, now: Time, transport: TransportId, reason: &str) {
        let Some(Socket { link: Link::Tcp(link), .. }) = usize::try_from(transport).ok().and_then(|i| self.sockets.get_mut(i)) else {
            return;
        };
        if link.stream.take().is_none() {
            return;
        }
        link.unsent = Vec::new();
        link.tls = None;
        self.stats.links_failed += 1;
        let url = link.url.clone();
        self.engine.link_failed(now, transport, &url, reason);
    }

    /// A TCP link is ready: finish connecting, write what waits, read what arrived (each
    /// read is one input to the engine, which reassembles the stream's frames).
    fn on_tcp_ready(&mut self, now: Time, transport: TransportId, index: usize, buf: &mut [u8]) {
        let Some(Socket { link: Link::Tcp(link), local, .. }) = self.sockets.get_mut(index) else { return };
        let Some(stream) = link.stream.as_mut() else { return };
        if !link.connected {
            // mio: a connect is done once writable; take_error then peer_addr tell how.
            match stream.take_error() {
                Ok(Some(e)) | Err(e) => return self.fail_link(now, transport, &format!("cannot connect to the TURN server: {e}")),
                Ok(None) => {}
            }
            match stream.peer_addr() {
                Ok(_) => {
                    link.connected = true;
                    if let Ok(a) = stream.local_addr() {
                        *local = a;
                    }
                }
                Err(e) if e.kind() == IoErrorKind::NotConnected => return,
                Err(e) => return self.fail_link(now, transport, &format!("cannot connect to the TURN server: {e}")),
            }
        }
        if let Err(e) = link.flush() {
            let text = format!("{} connection to the TURN server failed: {e}", link.what());
            return self.fail_link(now, transport, &text);
        }
        let server = link.server;
        loop {
            if self.backlog.should_pause() {
                return;
            }
            let Some(Socket { link: Link::Tcp(link), .. }) = self.sockets.get_mut(index) else { return };
            match link.read_chunk(buf) {
                Chunk::Data(len) => {
                    self.stats.datagrams_received += 1;
                    if let Some(data) = buf.get(..len) {
                        self.engine.handle_datagram(now, transport, server, data);
                    }
                    self.drive(now);
                }
                Chunk::Again => {}
                Chunk::WouldBlock => return,
                Chunk::Failed(text) => return self.fail_link(now, transport, &text),
            }
        }
    }

    /// Drains the engine after an input: transmits first, then events (queued in the
    /// outbox, see [`PeerHost::flush`]). Returns the engine's next deadline.
    pub fn drive(&mut self, now: Time) -> Option<Time> {
        // Before the candidates that carry them reach JS (and the peer that asks).
        while let Some((name, ip)) = self.engine.poll_mdns_name() {
            if let Some(r) = crate::mdns::Querier::global().register(&name, ip) {
                self.mdns_names.push(r);
            }
        }
        while let Some(t) = self.engine.poll_transmit(now) {
            self.send(now, &t);
        }
        self.update_shared_ufrag();
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

    /// Tells the shared ports a new ICE username fragment (an ICE restart), so that checks
    /// for it reach this peer.
    fn update_shared_ufrag(&mut self) {
        let Some(ufrag) = self.engine.local_ice_ufrag() else { return };
        if ufrag == self.shared_ufrag {
            return;
        }
        let ufrag = ufrag.to_string();
        for s in &self.sockets {
            if let Link::Shared(port) = &s.link {
                port.set_ufrag(self.id, &ufrag);
            }
        }
        self.shared_ufrag = ufrag;
    }

    /// One datagram the reactor routed here from a shared socket.
    pub fn on_shared_datagram(&mut self, now: Time, port: &crate::shared_port::SharedPort, from: SocketAddr, data: &[u8]) -> Option<Time> {
        let Some(index) = self.sockets.iter().position(|s| matches!(&s.link, Link::Shared(p) if std::ptr::eq(&**p, port))) else {
            return self.engine.poll_timeout();
        };
        self.stats.datagrams_received += 1;
        let transport = TransportId::try_from(index).unwrap_or(TransportId::MAX);
        self.engine.handle_datagram(now, transport, from, data);
        self.drive(now)
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
        if matches!(self.sockets.get(index), Some(Socket { link: Link::Tcp(_), .. })) {
            self.on_tcp_ready(now, transport, index, buf);
            return self.drive(now);
        }
        let mut errors = 0u32;
        let mut undrained = 0u32;
        loop {
            if self.backlog.should_pause() {
                break;
            }
            let Some(Socket { link: Link::Udp(socket), .. }) = self.sockets.get(index) else { break };
            match socket.recv_from(buf) {
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
        self.mdns_names.clear();
        (std::mem::take(&mut self.sockets), self.sink.take())
    }

    pub fn sink_mut(&mut self) -> Option<&mut Box<dyn EventSink>> {
        self.sink.as_mut()
    }
}
