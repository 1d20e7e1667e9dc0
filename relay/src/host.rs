//! The socket host: one `mio` event loop that owns every socket and drives [`Server`].
//!
//! Ports scheme: one port number P serves TURN over UDP (a UDP socket) and, on a TCP
//! listener bound to the same number, both TURN over TCP and WebSocket: the first bytes
//! of a TCP connection are sniffed; `GET ` starts an HTTP upgrade (subprotocol `turn`,
//! one binary message = one STUN message or ChannelData frame), anything else is a TURN
//! stream. Every allocation gets its own UDP socket bound on the relay IP, port 0.
//!
//! Threads: one. The event loop thread owns the `Server` and one `mio::Poll` with the UDP
//! socket, the TCP listener, every allocation's UDP socket, every TCP connection (and in
//! upstream mode each WebSocket's connection to the upstream) and a `Waker` (for
//! [`Relay::stop`]); the `poll_timeout` deadline, or an earlier connection deadline, is the
//! poll timeout. 1,000 UDP allocations are still one thread (`tests/scale.rs`).
//!
//! The poll is edge-triggered, so a readable socket is read until WouldBlock, at most
//! [`READ_BUDGET`] reads in a row (a socket with more stays on the ready list and is read
//! on the next turn, after the others); a socket is registered before its address is
//! given out or its first byte can arrive. A connection (`host/conn.rs`) is non-blocking end to
//! end: its read buffer is bounded in every phase ([`MAX_HTTP_REQUEST`], [`MAX_WS_FRAME`];
//! TURN stream bytes go straight to the `Server`, which bounds them), TLS is a rustls
//! `ServerConnection` fed the socket's bytes, and what goes out waits in a queue of at
//! most [`CLIENT_QUEUE`] messages: when it is full the message is dropped and counted in
//! [`HostStats::dropped_backpressure`], so a slow client costs a bounded amount of memory.
//! [`Relay::stop`] ends the loop, which closes every socket; no other thread exists.

mod conn;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::{Events, Interest, Poll, Token, Waker};
use polyrtc::Time;

use crate::{ClientId, ClientKind, Config, Family, Output, PortId, Server, Stats};
use conn::{Close, Conn, Context, Input, Phase};
pub use conn::{ws_frame, TLS_FLIGHT};

/// Messages queued per TCP/WebSocket client before new ones are dropped.
pub const CLIENT_QUEUE: usize = 256;
/// Largest WebSocket frame payload accepted (a TURN message is far smaller).
pub const MAX_WS_FRAME: usize = 65_536;
/// Largest HTTP upgrade request accepted.
pub const MAX_HTTP_REQUEST: usize = 8192;
/// TCP/WebSocket connections at once; more are closed at accept.
pub const MAX_CONNECTIONS: usize = 1024;
/// A connection that has not finished sniffing (and its HTTP upgrade) by then is closed.
pub const SNIFF_TIMEOUT: Duration = Duration::from_secs(10);
/// Upstream mode: how long the upstream's TCP connect may take.
pub const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a closing connection may take to flush its last bytes (an HTTP error, a
/// WebSocket close frame) before it is closed anyway.
pub const CLOSE_LINGER: Duration = Duration::from_secs(1);
/// Reads from one socket in a row before the loop turns to the others: a flooded socket
/// cannot starve the rest (it stays on the ready list and is read again next turn).
pub const READ_BUDGET: usize = 64;

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

struct Shared {
    stop: AtomicBool,
    next_client: AtomicU64,
    dropped: AtomicU64,
    refused: AtomicU64,
    stats: Mutex<(Stats, HostStats)>,
    /// WebSocket clients bridged to the upstream now.
    bridged: AtomicUsize,
}

/// A running relay.
pub struct Relay {
    pub port: u16,
    pub ip: IpAddr,
    /// TLS is configured: `wss:` and `turns:` are served too.
    pub tls: bool,
    waker: Arc<Waker>,
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
            refused: AtomicU64::new(0),
            stats: Mutex::new((Stats::default(), HostStats::default())),
            bridged: AtomicUsize::new(0),
        });
        udp.set_nonblocking(true)?;
        tcp.set_nonblocking(true)?;
        let mut udp = mio::net::UdpSocket::from_std(udp);
        let mut tcp = mio::net::TcpListener::from_std(tcp);
        let poll = Poll::new()?;
        poll.registry().register(&mut udp, UDP, Interest::READABLE)?;
        poll.registry().register(&mut tcp, TCP, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let host = Host {
            server: Server::new(config),
            clock: Clock::new(),
            poll,
            udp,
            tcp,
            ip: local.ip(),
            shared: shared.clone(),
            tls: options.tls.clone(),
            upstream: options.upstream,
            udp_clients: HashMap::new(),
            udp_remote: HashMap::new(),
            conns: HashMap::new(),
            clients: HashMap::new(),
            ports: HashMap::new(),
            slots: HashMap::new(),
            next_token: FIRST_TOKEN,
            ready: Vec::new(),
            deadlines: BinaryHeap::new(),
            accept_retry: None,
            bridged: 0,
            buf: vec![0u8; 65_536],
        };
        let threads = vec![thread::spawn(move || host.run())];
        Ok(Relay { port: local.port(), ip: local.ip(), tls: options.tls.is_some(), waker, shared, threads })
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

    /// Stops the event loop, which closes every socket; returns when it is gone.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let _ = self.waker.wake();
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

/// `mio` tokens: the waker, the UDP socket, the TCP listener; relayed ports, connections
/// and upstream connections from [`FIRST_TOKEN`] on (one token each, never reused).
const WAKER: Token = Token(0);
const UDP: Token = Token(1);
const TCP: Token = Token(2);
const FIRST_TOKEN: usize = 3;
/// Readiness events taken per `poll` call.
const EVENTS_CAPACITY: usize = 1024;
/// Wait before accepting again after an accept error other than WouldBlock (out of file
/// descriptors: the pending connections stay in the backlog).
const ACCEPT_RETRY: Duration = Duration::from_millis(20);

/// What a token stands for.
#[derive(Clone, Copy)]
enum Slot {
    Port(PortId),
    Conn,
    /// The upstream connection of the connection with this token.
    Upstream(Token),
}

/// The event loop's state: the `Server` and every socket, all registered (edge-triggered)
/// with one `mio::Poll`.
struct Host {
    server: Server,
    clock: Clock,
    poll: Poll,
    udp: mio::net::UdpSocket,
    tcp: mio::net::TcpListener,
    ip: IpAddr,
    shared: Arc<Shared>,
    tls: Option<Arc<rustls::ServerConfig>>,
    upstream: Option<SocketAddr>,
    udp_clients: HashMap<SocketAddr, ClientId>,
    udp_remote: HashMap<ClientId, SocketAddr>,
    conns: HashMap<Token, Conn>,
    /// TURN-over-TCP and WebSocket clients known to the `Server`, by connection.
    clients: HashMap<ClientId, Token>,
    ports: HashMap<PortId, (Token, mio::net::UdpSocket)>,
    slots: HashMap<Token, Slot>,
    next_token: usize,
    /// Sockets that may still hold data: readable, not yet read to WouldBlock.
    ready: Vec<Token>,
    /// Connection deadlines (an entry is stale unless it equals the connection's own).
    deadlines: BinaryHeap<Reverse<(Instant, Token)>>,
    accept_retry: Option<Instant>,
    bridged: usize,
    buf: Vec<u8>,
}

impl Host {
    fn run(mut self) {
        let mut events = Events::with_capacity(EVENTS_CAPACITY);
        while !self.shared.stop.load(Ordering::Relaxed) {
            let now = self.clock.now();
            let mut timeout = if self.ready.is_empty() {
                self.server.poll_timeout().map(|t| Duration::from_micros(t.as_micros().saturating_sub(now.as_micros())))
            } else {
                Some(Duration::ZERO)
            };
            let next = self.deadlines.peek().map(|Reverse((at, _))| *at);
            for at in [self.accept_retry, next].into_iter().flatten() {
                let wait = at.saturating_duration_since(Instant::now());
                timeout = Some(timeout.map_or(wait, |t| t.min(wait)));
            }
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    break;
                }
            }
            for ev in events.iter() {
                let t = ev.token();
                match t {
                    WAKER => {}
                    TCP => self.accept(),
                    UDP => self.ready.push(t),
                    _ => match self.slots.get(&t).copied() {
                        Some(Slot::Port(_)) => self.ready.push(t),
                        Some(Slot::Conn) => {
                            if ev.is_writable() {
                                self.conn_writable(t);
                            }
                            self.ready.push(t);
                        }
                        Some(Slot::Upstream(c)) => {
                            if ev.is_writable() || ev.is_error() {
                                self.upstream_writable(c);
                            }
                            self.ready.push(t);
                        }
                        None => {}
                    },
                }
            }
            if self.accept_retry.is_some_and(|at| Instant::now() >= at) {
                self.accept_retry = None;
                self.accept();
            }
            self.read_ready();
            self.expire();
            let now = self.clock.now();
            if self.server.poll_timeout().is_some_and(|t| t <= now) {
                self.server.handle_timeout(now);
                self.drain_outputs();
            }
            self.publish_stats();
        }
        self.close();
    }

    /// Reads every ready socket up to [`READ_BUDGET`] times; those not drained to
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
        let port = match (t, self.slots.get(&t).copied()) {
            (UDP, _) => None,
            (_, Some(Slot::Port(p))) => Some(p),
            (_, Some(Slot::Conn)) => return self.conn_readable(t),
            (_, Some(Slot::Upstream(c))) => return self.upstream_readable(c),
            (_, None) => return false, // closed since the event
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

    fn conn_readable(&mut self, t: Token) -> bool {
        let Some(c) = self.conns.get_mut(&t) else { return false };
        let mut cx = Context {
            tls: self.tls.as_ref(),
            upstream: self.upstream.is_some(),
            next_client: &self.shared.next_client,
            dropped: 0,
        };
        let mut inputs = Vec::new();
        let r = c.read(&mut self.buf, READ_BUDGET, &mut cx, &mut inputs);
        let dropped = cx.dropped;
        self.count_dropped(dropped);
        self.apply(t, inputs);
        self.settle(t, r)
    }

    fn conn_writable(&mut self, t: Token) {
        let Some(c) = self.conns.get_mut(&t) else { return };
        match c.flush() {
            Ok(true) if c.closing => self.close_conn(t),
            Ok(_) => {}
            Err(_) => self.close_conn(t),
        }
        self.drain_outputs();
    }

    fn upstream_readable(&mut self, c: Token) -> bool {
        let Some(conn) = self.conns.get_mut(&c) else { return false };
        let mut cx = Context {
            tls: self.tls.as_ref(),
            upstream: self.upstream.is_some(),
            next_client: &self.shared.next_client,
            dropped: 0,
        };
        let r = conn.upstream_read(&mut self.buf, READ_BUDGET, &mut cx);
        let dropped = cx.dropped;
        self.count_dropped(dropped);
        self.settle(c, r)
    }

    fn upstream_writable(&mut self, c: Token) {
        let Some(conn) = self.conns.get_mut(&c) else { return };
        let was = conn.up.as_ref().is_some_and(|u| u.connected);
        let r = conn.upstream_writable();
        if !was && conn.up.as_ref().is_some_and(|u| u.connected) {
            conn.deadline = None;
            self.bridged += 1;
        }
        self.settle(c, r.map(|()| false));
    }

    /// Hands a connection's inputs to the `Server` (draining its outputs after each).
    fn apply(&mut self, t: Token, inputs: Vec<Input>) {
        for input in inputs {
            let now = self.clock.now();
            let Some(c) = self.conns.get_mut(&t) else { return };
            match input {
                Input::Open(id, kind) => {
                    if self.server.add_client(id, kind, c.remote, now).is_ok() {
                        c.deadline = None;
                        self.clients.insert(id, t);
                    } else {
                        self.close_conn(t);
                    }
                }
                Input::Data(id, data) => {
                    if self.clients.contains_key(&id) {
                        self.server.handle_client_data(id, &data, now);
                    }
                }
                Input::Bridge => self.start_bridge(t),
            }
            self.drain_outputs();
        }
    }

    /// Acts on how a connection's read or write ended; returns "read again".
    fn settle(&mut self, t: Token, r: Result<bool, Close>) -> bool {
        let more = match r {
            Ok(more) => more,
            Err(Close::Now) => {
                self.close_conn(t);
                false
            }
            Err(Close::AfterFlush) => {
                if let Some(c) = self.conns.get_mut(&t) {
                    c.closing = true;
                    match c.flush() {
                        Ok(false) => {
                            let at = Instant::now() + CLOSE_LINGER;
                            self.set_deadline(t, at);
                        }
                        _ => self.close_conn(t),
                    }
                }
                false
            }
        };
        self.drain_outputs();
        more
    }

    /// Upstream mode: connects this WebSocket's own TCP connection to the upstream.
    fn start_bridge(&mut self, t: Token) {
        let Some(addr) = self.upstream else { return };
        let token = Token(self.next_token);
        self.next_token += 1;
        let r = mio::net::TcpStream::connect(addr).and_then(|mut s| {
            self.poll.registry().register(&mut s, token, Interest::READABLE | Interest::WRITABLE)?;
            let _ = s.set_nodelay(true);
            Ok(s)
        });
        let Some(c) = self.conns.get_mut(&t) else { return };
        let r = match r {
            Ok(s) => {
                self.slots.insert(token, Slot::Upstream(t));
                let mut cx = Context {
                    tls: self.tls.as_ref(),
                    upstream: true,
                    next_client: &self.shared.next_client,
                    dropped: 0,
                };
                let mut inputs = Vec::new();
                let r = c.bridge(s, token, &mut cx, &mut inputs);
                let dropped = cx.dropped;
                self.count_dropped(dropped);
                self.set_deadline(t, Instant::now() + UPSTREAM_CONNECT_TIMEOUT);
                r.map(|()| false)
            }
            Err(_) => Err(c.close_bridge(1011)),
        };
        self.settle(t, r);
    }

    fn set_deadline(&mut self, t: Token, at: Instant) {
        if let Some(c) = self.conns.get_mut(&t) {
            c.deadline = Some(at);
            self.deadlines.push(Reverse((at, t)));
        }
    }

    /// Connections past their deadline: still sniffing (or reading the HTTP request)
    /// after [`SNIFF_TIMEOUT`], an upstream connect past [`UPSTREAM_CONNECT_TIMEOUT`]
    /// (the client gets a 1011 close), a close not flushed within [`CLOSE_LINGER`].
    fn expire(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, t))) = self.deadlines.peek().copied() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            let Some(c) = self.conns.get_mut(&t) else { continue };
            if c.deadline != Some(at) {
                continue;
            }
            c.deadline = None;
            if !c.closing && c.phase == Phase::Bridge {
                let r = Err(c.close_bridge(1011));
                self.settle(t, r);
            } else {
                self.close_conn(t);
            }
        }
        self.drain_outputs();
    }

    /// Accepts until WouldBlock; each connection is registered before it is read.
    fn accept(&mut self) {
        loop {
            match self.tcp.accept() {
                Ok((mut s, remote)) => {
                    if self.conns.len() >= MAX_CONNECTIONS {
                        self.shared.refused.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let _ = s.set_nodelay(true);
                    let t = Token(self.next_token);
                    self.next_token += 1;
                    if self.poll.registry().register(&mut s, t, Interest::READABLE | Interest::WRITABLE).is_err() {
                        continue;
                    }
                    self.slots.insert(t, Slot::Conn);
                    self.conns.insert(t, Conn::new(s, remote));
                    self.set_deadline(t, Instant::now() + SNIFF_TIMEOUT);
                    self.ready.push(t);
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

    /// Closes a connection (and its upstream); a client the `Server` knows is
    /// `client_gone` (the caller drains the outputs).
    fn close_conn(&mut self, t: Token) {
        let Some(mut c) = self.conns.remove(&t) else { return };
        self.slots.remove(&t);
        let _ = self.poll.registry().deregister(&mut c.tcp);
        if let Some(up) = &mut c.up {
            self.slots.remove(&up.token);
            let _ = self.poll.registry().deregister(&mut up.tcp);
            if up.connected {
                self.bridged -= 1;
            }
        }
        if let Some(id) = c.client() {
            if self.clients.remove(&id).is_some() {
                self.server.client_gone(id, self.clock.now());
            }
        }
    }

    fn count_dropped(&self, n: u64) {
        if n > 0 {
            self.shared.dropped.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Drains `poll_output` (after every input).
    fn drain_outputs(&mut self) {
        while let Some(o) = self.server.poll_output() {
            match o {
                Output::ToClient { client, data } => {
                    // Counters first: a client that reads this answer and then asks for
                    // them sees what led to it.
                    self.publish_stats();
                    if let Some(a) = self.udp_remote.get(&client) {
                        // Non-blocking: a full send buffer drops the datagram, as the
                        // network would.
                        let _ = self.udp.send_to(&data, *a);
                    } else if let Some(&t) = self.clients.get(&client) {
                        let Some(c) = self.conns.get_mut(&t) else { continue };
                        let data = if matches!(c.phase, Phase::WebSocket(_)) { ws_frame(0x2, &data) } else { data };
                        match c.send(data) {
                            Ok(true) => {}
                            Ok(false) => self.count_dropped(1),
                            Err(_) => self.close_conn(t),
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
                        self.slots.remove(&t);
                        let _ = self.poll.registry().deregister(&mut s);
                    }
                }
                Output::CloseClient { client } => {
                    if let Some(a) = self.udp_remote.remove(&client) {
                        self.udp_clients.remove(&a);
                    }
                    if let Some(t) = self.clients.remove(&client) {
                        self.close_conn(t);
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
        self.slots.insert(t, Slot::Port(port));
        self.ports.insert(port, (t, socket));
        Ok(addr)
    }

    fn publish_stats(&self) {
        self.shared.bridged.store(self.bridged, Ordering::Relaxed);
        if let Ok(mut g) = self.shared.stats.lock() {
            g.0 = self.server.stats();
            g.1.open_ports = self.ports.len();
            g.1.clients = self.udp_remote.len() + self.clients.len();
        }
    }

    /// Closes every connection and port (dropping them closes their sockets).
    fn close(mut self) {
        self.conns.clear();
        self.ports.clear();
        self.shared.bridged.store(0, Ordering::Relaxed);
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

