//! The one I/O thread per process: a `mio::Poll` with every UDP socket of every peer, a
//! `Waker`, and a timer table (one entry per peer) fed by each peer's `poll_timeout()`.
//!
//! Lock order (never the reverse): peer host -> timers, peer host -> table. The I/O thread
//! never holds the table or the timers while it locks a peer.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use mio::{Events, Poll, Registry, Token, Waker};
use polyrtc::{Time, TransportId};

use crate::clock;
use crate::host::{lock, Backlog, Engine, EventSink, HostState, Link, PeerHost, Socket, TcpLink, RECV_BUFFER_SIZE};
use crate::shared_port::SharedPort;
use crate::timers::{PeerId, TimerTable};

const WAKER: Token = Token(usize::MAX);
/// A timer that is still due right after firing is pushed this far out, so a core that
/// keeps reporting a past deadline costs at most one wake-up per interval, not a hot loop.
pub const MIN_REARM: Duration = Duration::from_millis(1);
/// Readiness events taken per `poll` call.
pub const EVENTS_CAPACITY: usize = 256;
/// Datagrams read from one shared socket per wake-up, so that one busy port does not starve
/// the other sockets and timers; the rest are read on the next turn.
pub const MAX_SHARED_DATAGRAMS_PER_WAKE: usize = 1024;

pub type SharedHost<E> = Arc<Mutex<PeerHost<E>>>;

/// Work another thread hands to the I/O thread for one peer ([`Reactor::post`]).
pub type Posted<E> = Box<dyn FnOnce(&mut PeerHost<E>, &Reactor<E>, Time) + Send>;

struct Table<E: Engine> {
    peers: HashMap<PeerId, SharedHost<E>>,
    tokens: HashMap<Token, (PeerId, TransportId)>,
    /// Shared sockets (`sharedUdpPort`) by token and by address, kept once made.
    shared: HashMap<Token, Arc<SharedPort>>,
    shared_by_addr: HashMap<SocketAddr, Arc<SharedPort>>,
}

struct Shared<E: Engine> {
    registry: Registry,
    waker: Waker,
    table: Mutex<Table<E>>,
    timers: Mutex<TimerTable>,
    /// Peers whose reading was paused by their backlog and may read again.
    resume: Mutex<Vec<PeerId>>,
    /// Work for peers, run on the I/O thread ([`Reactor::post`]).
    posted: Mutex<Vec<(PeerId, Posted<E>)>>,
    /// Shared sockets left readable at the last turn's bound.
    shared_pending: Mutex<Vec<Arc<SharedPort>>>,
    next_token: AtomicU64,
    next_peer: AtomicU64,
    shutdown: AtomicBool,
}

/// Handle to the I/O thread. Cheap to clone.
pub struct Reactor<E: Engine> {
    shared: Arc<Shared<E>>,
}

impl<E: Engine> Clone for Reactor<E> {
    fn clone(&self) -> Self {
        Reactor { shared: self.shared.clone() }
    }
}

/// Turns a caught panic payload into text.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

impl<E: Engine> Reactor<E> {
    /// Starts the I/O thread.
    pub fn start() -> io::Result<Reactor<E>> {
        clock::init();
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let shared = Arc::new(Shared {
            registry,
            waker,
            table: Mutex::new(Table { peers: HashMap::new(), tokens: HashMap::new(), shared: HashMap::new(), shared_by_addr: HashMap::new() }),
            timers: Mutex::new(TimerTable::new()),
            resume: Mutex::new(Vec::new()),
            posted: Mutex::new(Vec::new()),
            shared_pending: Mutex::new(Vec::new()),
            next_token: AtomicU64::new(0),
            next_peer: AtomicU64::new(1),
            shutdown: AtomicBool::new(false),
        });
        let thread_shared = shared.clone();
        thread::Builder::new()
            .name("polyrtc-io".into())
            .spawn(move || io_loop(poll, thread_shared))?;
        Ok(Reactor { shared })
    }

    /// Stops the thread (tests only: the process-wide reactor lives forever).
    pub fn shutdown(&self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        let _ = self.shared.waker.wake();
    }

    pub fn next_peer_id(&self) -> PeerId {
        self.shared.next_peer.fetch_add(1, Ordering::Relaxed)
    }

    fn next_token(&self) -> Token {
        let t = self.shared.next_token.fetch_add(1, Ordering::Relaxed);
        Token(usize::try_from(t).unwrap_or(usize::MAX - 1))
    }

    /// Wraps bound sockets with fresh tokens (call before [`Reactor::add`]).
    pub fn make_sockets(&self, bound: Vec<(mio::net::UdpSocket, std::net::SocketAddr)>) -> Vec<Socket> {
        bound.into_iter().map(|(socket, local)| Socket { link: Link::Udp(socket), local, token: self.next_token() }).collect()
    }

    /// The shared socket bound to `addr` (made, bound and registered on first use; an
    /// unspecified port is refused), as a socket of a peer.
    pub fn shared_socket(&self, addr: SocketAddr) -> io::Result<Socket> {
        if addr.port() == 0 {
            return Err(io::Error::other("a shared port needs a port number"));
        }
        let mut t = lock(&self.shared.table);
        let port = match t.shared_by_addr.get(&addr) {
            Some(p) => p.clone(),
            None => {
                let (socket, local) = crate::iface::bind_all(&[addr]).0.into_iter().next().ok_or_else(|| {
                    io::Error::other(format!("cannot bind the shared port {addr}"))
                })?;
                let token = self.next_token();
                let mut port = SharedPort::new(socket, local, token);
                self.shared.registry.register(&mut port.socket, token, mio::Interest::READABLE)?;
                let port = Arc::new(port);
                t.shared.insert(token, port.clone());
                t.shared_by_addr.insert(addr, port.clone());
                port
            }
        };
        Ok(Socket { local: port.local, token: port.token, link: Link::Shared(port) })
    }

    /// Wraps a TCP link (connecting) with a fresh token.
    pub fn make_tcp_socket(&self, link: TcpLink) -> Socket {
        let local = if link.server.is_ipv4() { SocketAddr::from(([0, 0, 0, 0], 0)) } else { SocketAddr::from(([0u16; 8], 0)) };
        Socket { link: Link::Tcp(link), local, token: self.next_token() }
    }

    /// Registers a peer and its sockets with the I/O thread, then arms its first timer.
    pub fn add(
        &self,
        id: PeerId,
        engine: E,
        sockets: Vec<Socket>,
        sink: Box<dyn EventSink>,
        backlog: Arc<Backlog>,
    ) -> io::Result<SharedHost<E>> {
        let host = Arc::new(Mutex::new(PeerHost::new(id, engine, sockets, sink, backlog)));
        // Table first: a readiness event for a token not yet in the table would be lost
        // (edge-triggered). Then register while holding the host lock.
        {
            let g = lock(&host);
            let mut t = lock(&self.shared.table);
            t.peers.insert(id, host.clone());
            for (i, s) in g.sockets.iter().enumerate() {
                if matches!(s.link, Link::Shared(_)) {
                    continue;
                }
                let transport = TransportId::try_from(i).unwrap_or(TransportId::MAX);
                t.tokens.insert(s.token, (id, transport));
            }
        }
        let mut g = lock(&host);
        let mut result = Ok(());
        for s in g.sockets.iter_mut() {
            let (token, interest) = (s.token, s.interest());
            let Some(source) = s.source() else { continue };
            if let Err(e) = self.shared.registry.register(source, token, interest) {
                result = Err(e);
                break;
            }
        }
        if let Err(e) = result {
            self.remove_locked(&mut g);
            return Err(e);
        }
        drop(g);
        Ok(host)
    }

    /// Adds a socket to a registered peer (locked by the caller); its transport id is its
    /// index. On failure the socket is dropped.
    pub fn add_socket(&self, host: &mut PeerHost<E>, mut socket: Socket) -> io::Result<TransportId> {
        let index = host.sockets.len();
        let transport = TransportId::try_from(index).map_err(|_| io::Error::other("too many sockets"))?;
        let (token, interest) = (socket.token, socket.interest());
        // Table first, as in `add`: an edge-triggered event for an unknown token is lost.
        lock(&self.shared.table).tokens.insert(token, (host.id, transport));
        if let Some(source) = socket.source() {
            if let Err(e) = self.shared.registry.register(source, token, interest) {
                lock(&self.shared.table).tokens.remove(&token);
                return Err(e);
            }
        }
        host.sockets.push(socket);
        Ok(transport)
    }

    /// Runs `work` on the I/O thread against peer `id` (dropped if the peer is gone by
    /// then), then drains the peer and re-arms its timer. Any thread.
    pub fn post(&self, id: PeerId, work: Posted<E>) {
        lock(&self.shared.posted).push((id, work));
        let _ = self.shared.waker.wake();
    }

    /// After a JS-thread call: drain, deliver, re-arm (waking the thread if needed).
    pub fn after_call(&self, host: &mut PeerHost<E>, now: Time) {
        if !host.is_open() {
            return;
        }
        let next = host.drive(now);
        host.flush();
        self.arm(host, next);
    }

    /// Re-arms a peer's timer; wakes the I/O thread when it became the earliest.
    pub fn arm(&self, host: &mut PeerHost<E>, next: Option<Time>) {
        if next == host.armed {
            return;
        }
        host.armed = next;
        let Some(deadline) = next else {
            lock(&self.shared.timers).remove_peer(host.id);
            return;
        };
        let earliest = lock(&self.shared.timers).set(host.id, deadline);
        if earliest && !is_io_thread() {
            let _ = self.shared.waker.wake();
        }
    }

    /// Deregisters and drops a peer's sockets, timers and table entries; releases its sink.
    /// Takes the host already locked. Idempotent.
    pub fn remove_locked(&self, host: &mut PeerHost<E>) {
        let (sockets, sink) = host.take_resources();
        for mut s in sockets {
            if let Link::Shared(port) = &s.link {
                port.remove_peer(host.id);
                continue;
            }
            if let Some(source) = s.source() {
                let _ = self.shared.registry.deregister(source);
            }
            lock(&self.shared.table).tokens.remove(&s.token);
        }
        lock(&self.shared.table).peers.remove(&host.id);
        lock(&self.shared.timers).remove_peer(host.id);
        host.armed = None;
        drop(sink);
    }

    /// Closes a peer: the engine's goodbye is sent, then everything is released.
    pub fn close(&self, host: &mut PeerHost<E>, now: Time) {
        host.close(now);
        self.remove_locked(host);
    }

    /// A panic happened while working on this peer: report it and release everything.
    pub fn fail(&self, host_arc: &SharedHost<E>, message: &str) {
        let mut g = lock(host_arc);
        if g.state == HostState::Open {
            g.fail(message);
        }
        g.state = HostState::Failed;
        self.remove_locked(&mut g);
    }

    /// JS caught up with a paused peer's events: read its sockets again (any thread).
    pub fn resume(&self, id: PeerId) {
        lock(&self.shared.resume).push(id);
        let _ = self.shared.waker.wake();
    }

    pub fn peer_count(&self) -> usize {
        lock(&self.shared.table).peers.len()
    }

    pub fn timer_count(&self) -> usize {
        lock(&self.shared.timers).len()
    }

    fn lookup(&self, id: PeerId) -> Option<SharedHost<E>> {
        lock(&self.shared.table).peers.get(&id).cloned()
    }
}

thread_local! {
    static IS_IO_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn is_io_thread() -> bool {
    IS_IO_THREAD.with(|c| c.get())
}

/// Runs `work` on a peer behind `catch_unwind`; a panic fails (closes) that peer only.
fn guarded<E: Engine>(reactor: &Reactor<E>, host: &SharedHost<E>, work: impl FnOnce(&mut PeerHost<E>)) {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut g = lock(host);
        if g.is_open() {
            work(&mut g);
        }
    }));
    if let Err(payload) = r {
        let msg = format!("internal error: {}", panic_message(payload.as_ref()));
        reactor.fail(host, &msg);
    }
}

fn io_loop<E: Engine>(mut poll: Poll, shared: Arc<Shared<E>>) {
    IS_IO_THREAD.with(|c| c.set(true));
    let reactor = Reactor { shared };
    let mut events = Events::with_capacity(EVENTS_CAPACITY);
    let mut buf = vec![0u8; RECV_BUFFER_SIZE];
    let mut touched: Vec<SharedHost<E>> = Vec::new();
    loop {
        let timeout = lock(&reactor.shared.timers)
            .next_deadline()
            .map(|d| d.saturating_since(clock::now()));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            // Unrecoverable epoll failure: avoid a hot loop, keep trying.
            thread::sleep(Duration::from_millis(10));
            continue;
        }
        if reactor.shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let now = clock::now();
        let pending = std::mem::take(&mut *lock(&reactor.shared.shared_pending));
        for port in pending {
            read_shared(&reactor, &port, now, &mut buf, &mut touched);
        }
        for ev in events.iter() {
            if ev.token() == WAKER {
                continue;
            }
            let (shared_port, entry) = {
                let t = lock(&reactor.shared.table);
                (t.shared.get(&ev.token()).cloned(), t.tokens.get(&ev.token()).copied())
            };
            if let Some(port) = shared_port {
                read_shared(&reactor, &port, now, &mut buf, &mut touched);
                continue;
            }
            let Some((peer, transport)) = entry else {
                continue;
            };
            let Some(host) = reactor.lookup(peer) else { continue };
            guarded(&reactor, &host, |h| {
                let next = h.on_readable(now, transport, &mut buf);
                reactor.arm(h, next);
            });
            touch(&mut touched, host);
        }
        let resumed = std::mem::take(&mut *lock(&reactor.shared.resume));
        for id in resumed {
            let Some(host) = reactor.lookup(id) else { continue };
            guarded(&reactor, &host, |h| {
                let mut next = h.engine.poll_timeout();
                for i in 0..h.sockets.len() {
                    let transport = TransportId::try_from(i).unwrap_or(TransportId::MAX);
                    next = h.on_readable(now, transport, &mut buf);
                }
                reactor.arm(h, next);
            });
            touch(&mut touched, host);
        }
        let posted = std::mem::take(&mut *lock(&reactor.shared.posted));
        for (id, work) in posted {
            let Some(host) = reactor.lookup(id) else { continue };
            guarded(&reactor, &host, |h| {
                work(h, &reactor, now);
                let next = h.drive(now);
                reactor.arm(h, next);
            });
            touch(&mut touched, host);
        }
        let due = lock(&reactor.shared.timers).pop_due(now);
        for peer in due {
            let Some(host) = reactor.lookup(peer) else { continue };
            // The entry left the table: fire even if a call re-armed the peer meanwhile
            // (an early timeout is harmless), and re-arm from what the core says now.
            guarded(&reactor, &host, |h| {
                h.armed = None;
                let next = h.on_timeout(now).map(|d| d.max(now + MIN_REARM));
                reactor.arm(h, next);
            });
            touch(&mut touched, host);
        }
        // One batch per peer per wake-up.
        for host in touched.drain(..) {
            guarded(&reactor, &host, |h| h.flush());
        }
    }
}

/// Reads a shared socket until it would block (bounded per wake-up), each datagram to the
/// peer it routes to.
fn read_shared<E: Engine>(reactor: &Reactor<E>, port: &Arc<SharedPort>, now: Time, buf: &mut [u8], touched: &mut Vec<SharedHost<E>>) {
    let mut errors = 0u32;
    for _ in 0..MAX_SHARED_DATAGRAMS_PER_WAKE {
        match port.socket.recv_from(buf) {
            Ok((len, from)) => {
                errors = 0;
                let Some(data) = buf.get(..len) else { continue };
                let Some(peer) = port.route(data, from) else { continue };
                let Some(host) = reactor.lookup(peer) else { continue };
                guarded(reactor, &host, |h| {
                    let next = h.on_shared_datagram(now, port, from, data);
                    reactor.arm(h, next);
                });
                touch(touched, host);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                // e.g. ECONNREFUSED from an ICMP port unreachable: go on, as a peer's own
                // socket does (`PeerHost::on_readable`).
                errors += 1;
                if errors >= crate::host::MAX_CONSECUTIVE_RECV_ERRORS {
                    return;
                }
            }
        }
    }
    // More is waiting: mio's readiness is edge-triggered, so come back at once.
    let _ = reactor.shared.waker.wake();
    lock(&reactor.shared.shared_pending).push(port.clone());
}

fn touch<E: Engine>(touched: &mut Vec<SharedHost<E>>, host: SharedHost<E>) {
    if !touched.iter().any(|h| Arc::ptr_eq(h, &host)) {
        touched.push(host);
    }
}
