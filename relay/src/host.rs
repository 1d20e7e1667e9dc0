//! The socket host: one `mio` event loop that owns the sockets and drives [`Server`].
//!
//! Ports scheme: one port number P serves TURN over UDP (a UDP socket) and, on a TCP
//! listener bound to the same number, both TURN over TCP and WebSocket: the first bytes
//! of a TCP connection are sniffed; `GET ` starts an HTTP upgrade (subprotocol `turn`,
//! one binary message = one STUN message or ChannelData frame), anything else is a TURN
//! stream. Every allocation gets its own UDP socket bound on the relay IP, port 0.
//!
//! Threads: one event loop thread owns the `Server` and one `mio::Poll` with the UDP
//! socket, the TCP listener, every allocation's UDP socket and a `Waker`; the
//! `poll_timeout` deadline is the poll timeout. No thread per allocation: 1,000 UDP
//! allocations are one thread (`tests/scale.rs`). The poll is edge-triggered, so each
//! readable socket is read until WouldBlock, at most [`READ_BUDGET`] datagrams in a row
//! (a socket with more stays on the ready list and is read on the next turn, after the
//! others); an allocation's socket is registered before its address is given out.
//!
//! TCP connections are accepted by the loop; each then has a reader thread (sniffing,
//! TLS, the HTTP upgrade, WebSocket framing, or the upstream bridge) that sends what it
//! reads to the loop over a channel and wakes the poll, and a writer thread fed by a
//! bounded channel ([`CLIENT_QUEUE`] messages; full: the message is dropped and counted
//! in [`HostStats::dropped_backpressure`]). [`Relay::stop`] ends the loop, closes every
//! socket and joins every thread it started, connection threads included (each sees the
//! stop flag within its read timeout, 100 ms).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::{Events, Interest, Poll, Token, Waker};
use polyrtc::Time;

use crate::tls::{Stream, TlsStream};
use crate::{ClientId, ClientKind, Config, Family, Output, PortId, Server, Stats};

/// Messages queued per TCP/WebSocket client before new ones are dropped.
pub const CLIENT_QUEUE: usize = 256;
/// Largest WebSocket frame payload accepted (a TURN message is far smaller).
pub const MAX_WS_FRAME: usize = 65_536;
/// Largest HTTP upgrade request accepted.
pub const MAX_HTTP_REQUEST: usize = 8192;
/// TCP/WebSocket connections (each has two threads) at once; more are closed at accept.
pub const MAX_CONNECTIONS: usize = 1024;
/// How often blocked readers look at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// Counters kept by the host itself.
#[derive(Clone, Debug, Default)]
pub struct HostStats {
    pub dropped_backpressure: u64,
    /// TCP connections closed at accept because [`MAX_CONNECTIONS`] were open.
    pub refused_connections: u64,
    pub open_ports: usize,
    pub clients: usize,
    /// WebSocket clients bridged to the upstream TURN server now (upstream mode).
    pub upstream_clients: usize,
}

/// How the host runs besides the TURN [`Config`].
#[derive(Clone, Debug, Default)]
pub struct HostOptions {
    /// Upstream mode: each WebSocket client gets its own TCP connection to this TURN
    /// server (coturn, any RFC 8656 server), and its messages are carried as they are
    /// (ChannelData padded for TCP, RFC 8656 §12.5). TURN over UDP and TCP stay served here.
    pub upstream: Option<SocketAddr>,
    /// TLS on the TCP port (from [`crate::tls::load_config`]): a connection that starts
    /// with a TLS ClientHello is `wss:` (HTTP upgrade inside) or `turns:` (TURN inside);
    /// plain ones are served as before.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

enum Event {
    Connect(ClientId, ClientKind, SocketAddr, SyncSender<Vec<u8>>, Stream),
    Data(ClientId, Vec<u8>),
    Gone(ClientId),
    Stop,
}

/// The channel from the connection threads into the event loop: a message, then (once per
/// batch) a wake-up of the loop's `mio::Poll`.
#[derive(Clone)]
struct LoopTx {
    tx: Sender<Event>,
    waker: Arc<Waker>,
    /// Set by a sender that woke the loop, cleared by the loop before it drains the
    /// channel: senders that find it set skip the system call.
    woken: Arc<AtomicBool>,
}

impl LoopTx {
    /// False once the loop is gone.
    fn send(&self, e: Event) -> bool {
        if self.tx.send(e).is_err() {
            return false;
        }
        if !self.woken.swap(true, Ordering::AcqRel) {
            let _ = self.waker.wake();
        }
        true
    }
}

struct Shared {
    stop: AtomicBool,
    next_client: AtomicU64,
    dropped: AtomicU64,
    connections: AtomicUsize,
    refused: AtomicU64,
    stats: Mutex<(Stats, HostStats)>,
    /// Upstream mode: WebSocket clients are bridged to this TURN server over TCP.
    upstream: Option<SocketAddr>,
    /// WebSocket clients bridged to the upstream now.
    bridged: AtomicUsize,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// A running relay.
pub struct Relay {
    pub port: u16,
    pub ip: IpAddr,
    /// TLS is configured: `wss:` and `turns:` are served too.
    pub tls: bool,
    tx: LoopTx,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Relay {
    /// Binds UDP and TCP on `listen` (port 0: a free number shared by both) and starts.
    pub fn start(listen: SocketAddr, config: Config) -> io::Result<Relay> {
        Relay::start_with(listen, config, HostOptions::default())
    }

    /// [`Relay::start`] with host options (upstream mode).
    pub fn start_with(listen: SocketAddr, mut config: Config, options: HostOptions) -> io::Result<Relay> {
        if config.nonce_key == [0; 32] {
            config.nonce_key = random_key();
        }
        let (udp, tcp) = bind_pair(listen)?;
        let local = udp.local_addr()?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            next_client: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
            connections: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            stats: Mutex::new((Stats::default(), HostStats::default())),
            upstream: options.upstream,
            bridged: AtomicUsize::new(0),
            tls: options.tls.clone(),
        });
        udp.set_nonblocking(true)?;
        tcp.set_nonblocking(true)?;
        let mut udp = mio::net::UdpSocket::from_std(udp);
        let mut tcp = mio::net::TcpListener::from_std(tcp);
        let poll = Poll::new()?;
        poll.registry().register(&mut udp, UDP, Interest::READABLE)?;
        poll.registry().register(&mut tcp, TCP, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (tx, rx) = mpsc::channel();
        let tx = LoopTx { tx, waker, woken: Arc::new(AtomicBool::new(false)) };
        let host = Host {
            server: Server::new(config),
            clock: Clock::new(),
            poll,
            udp,
            tcp,
            ip: local.ip(),
            rx,
            tx: tx.clone(),
            shared: shared.clone(),
            udp_clients: HashMap::new(),
            udp_remote: HashMap::new(),
            streams: HashMap::new(),
            ports: HashMap::new(),
            tokens: HashMap::new(),
            next_token: FIRST_PORT_TOKEN,
            ready: Vec::new(),
            accept_retry: None,
            connections: Vec::new(),
            buf: vec![0u8; 65_536],
        };
        let threads = vec![thread::spawn(move || host.run())];
        Ok(Relay { port: local.port(), ip: local.ip(), tls: options.tls.is_some(), tx, shared, threads })
    }
    /// The JSON line the binary prints.
    pub fn urls_json(&self) -> String {
        let h = match self.ip {
            IpAddr::V6(a) => format!("[{a}]"),
            IpAddr::V4(a) => a.to_string(),
        };
        let p = self.port;
        if self.tls {
            format!(
                "{{\"wsUrl\":\"wss://{h}:{p}\",\"turnUrls\":[\"turn:{h}:{p}?transport=udp\",\"turn:{h}:{p}?transport=tcp\",\"turns:{h}:{p}?transport=tcp\"]}}"
            )
        } else {
            format!("{{\"wsUrl\":\"ws://{h}:{p}\",\"turnUrls\":[\"turn:{h}:{p}?transport=udp\",\"turn:{h}:{p}?transport=tcp\"]}}")
        }
    }

    /// Server and host counters (refreshed by the event loop after every event).
    pub fn stats(&self) -> (Stats, HostStats) {
        let g = self.shared.stats.lock().unwrap_or_else(|e| e.into_inner());
        let mut h = g.1.clone();
        h.dropped_backpressure = self.shared.dropped.load(Ordering::Relaxed);
        h.refused_connections = self.shared.refused.load(Ordering::Relaxed);
        h.upstream_clients = self.shared.bridged.load(Ordering::Relaxed);
        (g.0.clone(), h)
    }

    /// [`Relay::stats`] as one JSON object (camelCase), as the binary prints it.
    pub fn stats_json(&self) -> String {
        let (s, h) = self.stats();
        let d = &s.drops;
        format!(
            "{{\"clients\":{},\"allocations\":{},\"allocationsCreated\":{},\"errorResponses\":{},\"authFailures\":{},             \"packetsToPeers\":{},\"bytesToPeers\":{},\"packetsToClients\":{},\"bytesToClients\":{},\"internalDeliveries\":{},             \"drops\":{{\"malformed\":{},\"badFingerprint\":{},\"tooLarge\":{},\"noPermission\":{},\"noChannel\":{},             \"noAllocation\":{},\"forbiddenPeer\":{},\"bandwidth\":{},\"unknownClient\":{},\"unexpected\":{},             \"outputQueueFull\":{},\"backpressure\":{}}},\"refusedConnections\":{},\"openPorts\":{},\"upstreamClients\":{}}}",
            s.clients, s.allocations, s.allocations_created, s.error_responses, s.auth_failures,
            s.packets_to_peers, s.bytes_to_peers, s.packets_to_clients, s.bytes_to_clients, s.internal_deliveries,
            d.malformed, d.bad_fingerprint, d.too_large, d.no_permission, d.no_channel,
            d.no_allocation, d.forbidden_peer, d.bandwidth, d.unknown_client, d.unexpected,
            d.output_queue_full, h.dropped_backpressure, h.refused_connections, h.open_ports, h.upstream_clients,
        )
    }

    /// Stops every thread, closes every socket; returns when they are gone.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.tx.send(Event::Stop);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
impl Drop for Relay {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        if f.read_exact(&mut k).is_ok() {
            return k;
        }
    }
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    let h = polyrtc::crypto::sha1(&t.to_le_bytes());
    k[..20].copy_from_slice(&h);
    k
}

fn bind_pair(listen: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    if listen.port() != 0 {
        return Ok((UdpSocket::bind(listen)?, TcpListener::bind(listen)?));
    }
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no free port pair");
    for _ in 0..20 {
        let tcp = TcpListener::bind(listen)?;
        let mut a = listen;
        a.set_port(tcp.local_addr()?.port());
        match UdpSocket::bind(a) {
            Ok(u) => return Ok((u, tcp)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Monotonic clock anchored to the wall clock at start.
struct Clock {
    start: Instant,
    unix_us: u64,
}

impl Clock {
    fn new() -> Clock {
        let unix_us = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_micros() as u64;
        Clock { start: Instant::now(), unix_us }
    }
    fn now(&self) -> Time {
        Time::from_micros(self.unix_us + self.start.elapsed().as_micros() as u64)
    }
}

/// `mio` tokens: the waker, the UDP socket, the TCP listener; relayed ports from
/// [`FIRST_PORT_TOKEN`] on (one token per port, never reused).
const WAKER: Token = Token(0);
const UDP: Token = Token(1);
const TCP: Token = Token(2);
const FIRST_PORT_TOKEN: usize = 3;
/// Datagrams read from one socket in a row before the loop turns to the others: a flooded
/// socket cannot starve the rest (it stays on the ready list and is read again next turn).
pub const READ_BUDGET: usize = 64;
/// Readiness events taken per `poll` call.
const EVENTS_CAPACITY: usize = 1024;
/// Wait before accepting again after an accept error other than WouldBlock (out of file
/// descriptors: the pending connections stay in the backlog).
const ACCEPT_RETRY: Duration = Duration::from_millis(20);

/// The event loop's state: the `Server`, the UDP socket, the TCP listener and every
/// relayed port, all registered (edge-triggered) with one `mio::Poll`.
struct Host {
    server: Server,
    clock: Clock,
    poll: Poll,
    udp: mio::net::UdpSocket,
    tcp: mio::net::TcpListener,
    ip: IpAddr,
    rx: Receiver<Event>,
    tx: LoopTx,
    shared: Arc<Shared>,
    udp_clients: HashMap<SocketAddr, ClientId>,
    udp_remote: HashMap<ClientId, SocketAddr>,
    streams: HashMap<ClientId, (SyncSender<Vec<u8>>, Stream, bool)>,
    ports: HashMap<PortId, (Token, mio::net::UdpSocket)>,
    tokens: HashMap<Token, PortId>,
    next_token: usize,
    /// Sockets that may still hold datagrams: readable, not yet read to WouldBlock.
    ready: Vec<Token>,
    accept_retry: Option<Instant>,
    /// The connection threads started (finished ones are pruned at accept, the rest
    /// joined when the loop ends).
    connections: Vec<JoinHandle<()>>,
    buf: Vec<u8>,
}

impl Host {
    fn run(mut self) {
        let mut events = Events::with_capacity(EVENTS_CAPACITY);
        'run: loop {
            let now = self.clock.now();
            let mut timeout = if self.ready.is_empty() {
                self.server.poll_timeout().map(|t| Duration::from_micros(t.as_micros().saturating_sub(now.as_micros())))
            } else {
                Some(Duration::ZERO)
            };
            if let Some(at) = self.accept_retry {
                let wait = at.saturating_duration_since(Instant::now());
                timeout = Some(timeout.map_or(wait, |t| t.min(wait)));
            }
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    break;
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {}
                    TCP => self.accept(),
                    t => self.ready.push(t),
                }
            }
            if self.accept_retry.is_some_and(|at| Instant::now() >= at) {
                self.accept_retry = None;
                self.accept();
            }
            // Cleared before the drain: a message sent after it wakes the poll again.
            self.tx.woken.store(false, Ordering::Release);
            while let Ok(e) = self.rx.try_recv() {
                if !self.handle_event(e) {
                    break 'run;
                }
            }
            self.read_ready();
            let now = self.clock.now();
            if self.server.poll_timeout().is_some_and(|t| t <= now) {
                self.server.handle_timeout(now);
                self.drain_outputs();
            }
            self.publish_stats();
        }
        self.close();
    }

    /// A message from a connection thread; false on Stop.
    fn handle_event(&mut self, e: Event) -> bool {
        let now = self.clock.now();
        match e {
            Event::Stop => return false,
            Event::Connect(id, kind, remote, w, stream) => {
                if self.server.add_client(id, kind, remote, now).is_ok() {
                    self.streams.insert(id, (w, stream, kind == ClientKind::WebSocket));
                } else {
                    let _ = stream.shutdown(Shutdown::Both);
                }
            }
            Event::Data(id, data) => {
                if self.streams.contains_key(&id) {
                    self.server.handle_client_data(id, &data, now);
                }
            }
            Event::Gone(id) => {
                if self.streams.remove(&id).is_some() {
                    self.server.client_gone(id, now);
                }
            }
        }
        self.drain_outputs();
        true
    }

    /// Reads every ready socket up to [`READ_BUDGET`] datagrams; those not drained to
    /// WouldBlock stay ready (edge-triggered: no new event would come for them).
    fn read_ready(&mut self) {
        let mut ready = std::mem::take(&mut self.ready);
        ready.sort_unstable_by_key(|t| t.0);
        ready.dedup();
        for t in ready {
            if self.read_socket(t) {
                self.ready.push(t);
            }
        }
    }

    /// True if the budget ran out before WouldBlock.
    fn read_socket(&mut self, t: Token) -> bool {
        let port = if t == UDP {
            None
        } else {
            match self.tokens.get(&t) {
                Some(p) => Some(*p),
                None => return false, // closed since the event
            }
        };
        for _ in 0..READ_BUDGET {
            let r = match port {
                None => self.udp.recv_from(&mut self.buf),
                Some(p) => match self.ports.get(&p) {
                    Some((_, s)) => s.recv_from(&mut self.buf),
                    None => return false,
                },
            };
            let (n, from) = match r {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                // Any other error is consumed by the call: read on.
                Err(_) => continue,
            };
            let now = self.clock.now();
            match port {
                Some(p) => self.server.handle_peer_datagram(p, from, &self.buf[..n], now),
                None => {
                    let id = match self.udp_clients.get(&from) {
                        Some(id) => Some(*id),
                        None => {
                            let id = ClientId(self.shared.next_client.fetch_add(1, Ordering::Relaxed));
                            if self.server.add_client(id, ClientKind::Udp, from, now).is_ok() {
                                self.udp_clients.insert(from, id);
                                self.udp_remote.insert(id, from);
                                Some(id)
                            } else {
                                None
                            }
                        }
                    };
                    if let Some(id) = id {
                        self.server.handle_client_data(id, &self.buf[..n], now);
                    }
                }
            }
            self.drain_outputs();
        }
        true
    }

    /// Accepts until WouldBlock; each connection gets its thread (sniffing, TLS, WebSocket).
    fn accept(&mut self) {
        loop {
            match self.tcp.accept() {
                Ok((s, remote)) => {
                    self.connections.retain(|h| !h.is_finished());
                    if self.shared.connections.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                        self.shared.refused.fetch_add(1, Ordering::Relaxed);
                        drop(s);
                        continue;
                    }
                    self.shared.connections.fetch_add(1, Ordering::Relaxed);
                    let s: TcpStream = s.into();
                    let tx = self.tx.clone();
                    let shared = self.shared.clone();
                    self.connections.push(thread::spawn(move || {
                        let _ = connection(s, remote, tx, &shared);
                        shared.connections.fetch_sub(1, Ordering::Relaxed);
                    }));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.accept_retry = Some(Instant::now() + ACCEPT_RETRY);
                    return;
                }
            }
        }
    }

    /// Drains `poll_output` (after every input).
    fn drain_outputs(&mut self) {
        while let Some(o) = self.server.poll_output() {
            match o {
                Output::ToClient { client, data } => {
                    if let Some(a) = self.udp_remote.get(&client) {
                        // Non-blocking: a full send buffer drops the datagram, as the
                        // network would.
                        let _ = self.udp.send_to(&data, *a);
                    } else if let Some((w, _, ws)) = self.streams.get(&client) {
                        let data = if *ws { ws_frame(0x2, &data) } else { data };
                        match w.try_send(data) {
                            Ok(()) => {}
                            Err(TrySendError::Full(_)) => {
                                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(TrySendError::Disconnected(_)) => {}
                        }
                    }
                }
                Output::ToPeer { port, peer, data } => {
                    if let Some((_, s)) = self.ports.get(&port) {
                        let _ = s.send_to(&data, peer);
                    }
                }
                Output::OpenPort { port, family, even } => {
                    let r = self.open_port(port, family, even);
                    let now = self.clock.now();
                    self.server.port_opened(port, r.map_err(|_| ()), now);
                }
                Output::ClosePort { port } => {
                    if let Some((t, mut s)) = self.ports.remove(&port) {
                        self.tokens.remove(&t);
                        let _ = self.poll.registry().deregister(&mut s);
                    }
                }
                Output::CloseClient { client } => {
                    if let Some(a) = self.udp_remote.remove(&client) {
                        self.udp_clients.remove(&a);
                    }
                    if let Some((_, s, _)) = self.streams.remove(&client) {
                        let _ = s.shutdown(Shutdown::Both);
                    }
                }
            }
        }
    }

    /// Binds a relayed port and registers it with the poll before its address is given
    /// out, so no datagram for it can arrive unseen.
    fn open_port(&mut self, port: PortId, family: Family, even: bool) -> io::Result<SocketAddr> {
        let mut socket = mio::net::UdpSocket::from_std(bind_relayed(family, even, self.ip)?);
        let addr = socket.local_addr()?;
        let t = Token(self.next_token);
        self.poll.registry().register(&mut socket, t, Interest::READABLE)?;
        self.next_token += 1;
        self.tokens.insert(t, port);
        self.ports.insert(port, (t, socket));
        Ok(addr)
    }

    fn publish_stats(&self) {
        if let Ok(mut g) = self.shared.stats.lock() {
            g.0 = self.server.stats();
            g.1.open_ports = self.ports.len();
            g.1.clients = self.udp_remote.len() + self.streams.len();
        }
    }

    /// Closes every client and port, then waits for the connection threads (each sees the
    /// stop flag within its read timeout, [`POLL`]).
    fn close(mut self) {
        for (_, (_, s, _)) in self.streams.drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.tokens.clear();
        self.ports.clear();
        for t in self.connections.drain(..) {
            let _ = t.join();
        }
        if let Ok(mut g) = self.shared.stats.lock() {
            g.1.open_ports = 0;
            g.1.clients = 0;
        }
    }
}

/// Attempts at binding an even port number before giving up.
const EVEN_PORT_TRIES: usize = 64;

/// A non-blocking UDP socket on the relay IP, port chosen by the system (even if asked).
fn bind_relayed(family: Family, even: bool, ip: IpAddr) -> io::Result<UdpSocket> {
    let bind_ip = match (family, ip) {
        (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_)) => ip,
        _ => return Err(io::Error::new(io::ErrorKind::Unsupported, "address family not served")),
    };
    let mut socket = UdpSocket::bind(SocketAddr::new(bind_ip, 0))?;
    let mut tries = 0;
    while even && socket.local_addr()?.port() % 2 == 1 {
        tries += 1;
        if tries > EVEN_PORT_TRIES {
            return Err(io::Error::new(io::ErrorKind::AddrInUse, "no even port"));
        }
        socket = UdpSocket::bind(SocketAddr::new(bind_ip, 0))?;
    }
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Reads until `first` holds at least 4 bytes; false if the stream ended, stalled past
/// `deadline`, or the relay is stopping.
fn sniff(s: &mut impl Read, first: &mut Vec<u8>, buf: &mut [u8], deadline: Instant, shared: &Shared) -> io::Result<bool> {
    while first.len() < 4 {
        if shared.stop.load(Ordering::Relaxed) || Instant::now() > deadline {
            return Ok(false);
        }
        match s.read(buf) {
            Ok(0) => return Ok(false),
            Ok(n) => first.extend_from_slice(&buf[..n]),
            Err(e) if timeout(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn connection(tcp: TcpStream, remote: SocketAddr, tx: LoopTx, shared: &Shared) -> io::Result<()> {
    tcp.set_nonblocking(false)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(POLL))?;
    // Sniff: wait for the first 4 bytes (or a short stream). A TLS ClientHello (record type
    // 22) starts TLS when a certificate is configured; inside it the same sniffing follows.
    let mut first = Vec::new();
    let mut buf = vec![0u8; 16_384];
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut raw = tcp.try_clone()?;
    if !sniff(&mut raw, &mut first, &mut buf, deadline, shared)? {
        return Ok(());
    }
    let mut s = match (&shared.tls, first[0]) {
        (Some(config), 22) => {
            let t = TlsStream::accept(tcp, config.clone(), &first)?;
            first.clear();
            let mut s = Stream::Tls(t);
            if !sniff(&mut s, &mut first, &mut buf, deadline, shared)? {
                return Ok(());
            }
            s
        }
        _ => Stream::Plain(tcp),
    };
    let ws = first.starts_with(b"GET ");
    let mut pending = Vec::new();
    if ws {
        while find(&first, b"\r\n\r\n").is_none() {
            if first.len() > MAX_HTTP_REQUEST || shared.stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                return Ok(());
            }
            match s.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => first.extend_from_slice(&buf[..n]),
                Err(e) if timeout(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        let end = find(&first, b"\r\n\r\n").unwrap_or(0) + 4;
        pending = first[end..].to_vec();
        match upgrade_response(&first[..end]) {
            Ok(resp) => s.write_all(resp.as_bytes())?,
            Err(status) => {
                let _ = s.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
                return Ok(());
            }
        }
    }
    if ws {
        if let Some(upstream) = shared.upstream {
            return upstream_bridge(s, pending, upstream, shared);
        }
    }
    let id = ClientId(shared.next_client.fetch_add(1, Ordering::Relaxed));
    let (wtx, wrx) = mpsc::sync_channel::<Vec<u8>>(CLIENT_QUEUE);
    let kind = if ws { ClientKind::WebSocket } else { ClientKind::Tcp };
    let mut w = s.try_clone()?;
    let writer = thread::spawn(move || {
        for m in wrx {
            if w.write_all(&m).is_err() {
                let _ = w.shutdown(Shutdown::Both);
                break;
            }
        }
    });
    tx.send(Event::Connect(id, kind, remote, wtx.clone(), s.try_clone()?));
    let r = if ws {
        let mut deliver = |m: Vec<u8>| tx.send(Event::Data(id, m));
        ws_reader(&mut s, pending, &mut deliver, &wtx, shared)
    } else {
        tx.send(Event::Data(id, first));
        loop {
            if shared.stop.load(Ordering::Relaxed) {
                break Ok(());
            }
            match s.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    if !tx.send(Event::Data(id, buf[..n].to_vec())) {
                        break Ok(());
                    }
                }
                Err(e) if timeout(&e) => continue,
                Err(e) => break Err(e),
            }
        }
    };
    tx.send(Event::Gone(id));
    drop(wtx);
    let _ = s.shutdown(Shutdown::Both);
    let _ = writer.join();
    r
}

/// Seconds to wait for the upstream's TCP connect.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Upstream mode: bridges one WebSocket client to its own TCP connection to the upstream
/// TURN server until either side closes. The WebSocket's messages are written to the
/// stream (ChannelData padded to 4 bytes); the stream is cut back into messages, each sent
/// as one binary WebSocket message (unpadded). A backed-up WebSocket drops, as in local mode.
fn upstream_bridge(mut ws: Stream, pending: Vec<u8>, upstream: SocketAddr, shared: &Shared) -> io::Result<()> {
    let up = match TcpStream::connect_timeout(&upstream, UPSTREAM_CONNECT_TIMEOUT) {
        Ok(u) => u,
        Err(e) => {
            // 1011: the server cannot serve the request (RFC 6455 §7.4.1).
            let _ = ws.write_all(&ws_frame(0x8, &1011u16.to_be_bytes()));
            return Err(e);
        }
    };
    up.set_nodelay(true)?;
    up.set_read_timeout(Some(POLL))?;
    shared.bridged.fetch_add(1, Ordering::Relaxed);
    let (wtx, wrx) = mpsc::sync_channel::<Vec<u8>>(CLIENT_QUEUE);
    let mut w = ws.try_clone()?;
    let writer = thread::spawn(move || {
        for m in wrx {
            if w.write_all(&m).is_err() {
                let _ = w.shutdown(Shutdown::Both);
                break;
            }
        }
    });
    let done = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicU64::new(0));
    let reader = {
        let mut up = up.try_clone()?;
        let wtx = wtx.clone();
        let (done, dropped) = (done.clone(), dropped.clone());
        let ws = ws.try_clone()?;
        thread::spawn(move || {
            let mut stream = Vec::new();
            let mut buf = vec![0u8; 16_384];
            while !done.load(Ordering::Relaxed) {
                match up.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => stream.extend_from_slice(&buf[..n]),
                    Err(e) if timeout(&e) => continue,
                    Err(_) => break,
                }
                let mut ok = true;
                while let Some(step) = next_stream_frame(&stream) {
                    match step {
                        Ok((frame_len, consumed)) => {
                            let frame = ws_frame(0x2, &stream[..frame_len]);
                            stream.drain(..consumed);
                            if let Err(TrySendError::Full(_)) = wtx.try_send(frame) {
                                dropped.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(()) => {
                            ok = false;
                            break;
                        }
                    }
                }
                if !ok {
                    break;
                }
            }
            // The upstream went away: end the WebSocket too (the client sees it close).
            let _ = wtx.try_send(ws_frame(0x8, &1000u16.to_be_bytes()));
            done.store(true, Ordering::Relaxed);
            let _ = ws.shutdown(Shutdown::Read);
        })
    };
    let mut upw = up.try_clone()?;
    let mut deliver = |m: Vec<u8>| {
        if done.load(Ordering::Relaxed) {
            return false;
        }
        let mut m = m;
        // RFC 8656 §12.5: over TCP a ChannelData message is padded to a multiple of 4.
        if m.first().is_some_and(|b| b & 0xC0 == 0x40) {
            m.resize(m.len().div_ceil(4) * 4, 0);
        }
        upw.write_all(&m).is_ok()
    };
    let r = ws_reader(&mut ws, pending, &mut deliver, &wtx, shared);
    done.store(true, Ordering::Relaxed);
    let _ = up.shutdown(Shutdown::Both);
    let _ = reader.join();
    drop(wtx);
    let _ = writer.join();
    let _ = ws.shutdown(Shutdown::Both);
    shared.dropped.fetch_add(dropped.load(Ordering::Relaxed), Ordering::Relaxed);
    shared.bridged.fetch_sub(1, Ordering::Relaxed);
    r
}

/// The next STUN message or ChannelData frame at the start of a TURN-over-TCP stream:
/// `Ok((frame length, bytes to consume incl. padding))`, `None` if incomplete, `Err` if the
/// stream is not TURN (or the frame is larger than a WebSocket message may be).
fn next_stream_frame(stream: &[u8]) -> Option<Result<(usize, usize), ()>> {
    if stream.len() < 4 {
        return None;
    }
    let len = u16::from_be_bytes([stream[2], stream[3]]) as usize;
    let (frame, consumed) = match stream[0] >> 6 {
        0 => (20 + len, 20 + len),
        1 => (4 + len, (4 + len).div_ceil(4) * 4),
        _ => return Some(Err(())),
    };
    if frame > MAX_WS_FRAME {
        return Some(Err(()));
    }
    (stream.len() >= consumed).then_some(Ok((frame, consumed)))
}

fn timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted)
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// RFC 6455 §4.2: checks the upgrade request, returns the 101 response or an error status.
fn upgrade_response(req: &[u8]) -> Result<String, &'static str> {
    let text = std::str::from_utf8(req).map_err(|_| "400 Bad Request")?;
    let mut key = None;
    let mut upgrade = false;
    let mut protocols = Vec::new();
    for line in text.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "sec-websocket-key" => key = Some(value.to_string()),
            "upgrade" => upgrade = value.eq_ignore_ascii_case("websocket"),
            "sec-websocket-protocol" => protocols.extend(value.split(',').map(|p| p.trim().to_string())),
            _ => {}
        }
    }
    let key = key.ok_or("400 Bad Request")?;
    if !upgrade {
        return Err("400 Bad Request");
    }
    let mut proto = String::new();
    if !protocols.is_empty() {
        if !protocols.iter().any(|p| p == "turn") {
            return Err("400 Bad Request");
        }
        proto = "Sec-WebSocket-Protocol: turn\r\n".into();
    }
    let accept = base64(&polyrtc::crypto::sha1(format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes()));
    Ok(format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{proto}\r\n"
    ))
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An unmasked server frame (FIN set).
pub fn ws_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    let n = payload.len();
    if n < 126 {
        f.push(n as u8);
    } else if n <= 0xffff {
        f.push(126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        f.push(127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

/// Reads a client's WebSocket until it closes; every complete binary message goes to
/// `deliver` (which returns false to stop).
fn ws_reader(
    s: &mut Stream,
    mut buf: Vec<u8>,
    deliver: &mut dyn FnMut(Vec<u8>) -> bool,
    w: &SyncSender<Vec<u8>>,
    shared: &Shared,
) -> io::Result<()> {
    let mut tmp = vec![0u8; 16_384];
    let mut message: Vec<u8> = Vec::new();
    let mut binary = false;
    loop {
        // Parse every complete frame in `buf`.
        loop {
            if buf.len() < 2 {
                break;
            }
            let fin = buf[0] & 0x80 != 0;
            let opcode = buf[0] & 0x0f;
            let masked = buf[1] & 0x80 != 0;
            let mut len = (buf[1] & 0x7f) as usize;
            let mut off = 2;
            if len == 126 {
                if buf.len() < 4 {
                    break;
                }
                len = u16::from_be_bytes([buf[2], buf[3]]) as usize;
                off = 4;
            } else if len == 127 {
                if buf.len() < 10 {
                    break;
                }
                let l = u64::from_be_bytes(buf[2..10].try_into().unwrap_or([0xff; 8]));
                len = usize::try_from(l).unwrap_or(usize::MAX);
                off = 10;
            }
            if !masked || len > MAX_WS_FRAME {
                return Ok(()); // RFC 6455 §5.1: client frames are masked; too big: close.
            }
            if buf.len() < off + 4 + len {
                break;
            }
            let mask = [buf[off], buf[off + 1], buf[off + 2], buf[off + 3]];
            let mut payload: Vec<u8> = buf[off + 4..off + 4 + len].to_vec();
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= mask[i % 4];
            }
            buf.drain(..off + 4 + len);
            match opcode {
                0x0..=0x2 => {
                    if message.len() + payload.len() > MAX_WS_FRAME {
                        return Ok(());
                    }
                    if opcode != 0 {
                        binary = opcode == 0x2;
                    }
                    message.extend_from_slice(&payload);
                    if fin {
                        let m = std::mem::take(&mut message);
                        if binary && !deliver(m) {
                            return Ok(());
                        }
                    }
                }
                0x8 => return Ok(()),
                0x9 => {
                    let _ = w.try_send(ws_frame(0xA, &payload));
                }
                _ => {}
            }
        }
        if buf.len() > MAX_WS_FRAME + 16 {
            return Ok(());
        }
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        match s.read(&mut tmp) {
            Ok(0) => return Ok(()),
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
            Err(e) if timeout(&e) => continue,
            Err(e) => return Err(e),
        }
    }
}
