//! The I/O thread, timers and sockets, driven with a fake engine over real loopback UDP
//! (the real `Peer` is exercised from Node once the core lands).

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use polyrtc::peer::{PeerConnectionState, PeerEvent};
use polyrtc::{Time, Transmit, TransportId};

use crate::clock;
use crate::events::{Batch, Val};
use crate::host::{lock, Backlog, Engine, EventSink, HostState, TcpLink, MAX_QUEUED_EVENT_BYTES};
use crate::iface;
use crate::reactor::{Reactor, SharedHost};

/// Echoes datagrams, reports them as messages, fires `channelopen` on its deadline and
/// panics on the datagram `b"panic"`.
#[derive(Default)]
struct Echo {
    out: VecDeque<Transmit>,
    events: VecDeque<PeerEvent>,
    deadline: Option<Time>,
    fired: u32,
    /// Reports a past deadline forever (a misbehaving core).
    stuck: bool,
    timeouts: u64,
    /// `link_failed` calls: (transport, url).
    failed_links: Vec<(TransportId, String)>,
}

impl Engine for Echo {
    fn handle_datagram(&mut self, _now: Time, transport: TransportId, from: SocketAddr, data: &[u8]) {
        if data == b"panic" {
            panic!("echo engine asked to panic");
        }
        self.out.push_back(Transmit { transport, destination: from, data: data.to_vec() });
        self.events.push_back(PeerEvent::DataChannelMessage { channel: transport, binary: true, data: data.to_vec() });
    }
    fn handle_timeout(&mut self, now: Time) {
        self.timeouts += 1;
        if self.deadline.is_some_and(|d| d <= now) {
            self.deadline = None;
            self.fired += 1;
            self.events.push_back(PeerEvent::DataChannelOpen { channel: self.fired });
        }
    }
    fn poll_transmit(&mut self, _now: Time) -> Option<Transmit> {
        self.out.pop_front()
    }
    fn poll_event(&mut self) -> Option<PeerEvent> {
        self.events.pop_front()
    }
    fn poll_timeout(&self) -> Option<Time> {
        if self.stuck {
            return Some(Time::ZERO);
        }
        self.deadline
    }
    fn close(&mut self, _now: Time) {
        self.events.push_back(PeerEvent::ConnectionStateChanged(PeerConnectionState::Closed));
    }
    fn link_failed(&mut self, _now: Time, transport: TransportId, url: &str, _reason: &str) {
        self.failed_links.push((transport, url.to_string()));
    }
}

struct ChanSink(mpsc::Sender<Batch>);

impl EventSink for ChanSink {
    fn deliver(&mut self, batch: Batch) {
        let _ = self.0.send(batch);
    }
}

struct Fixture {
    reactor: Reactor<Echo>,
    host: SharedHost<Echo>,
    local: SocketAddr,
    batches: mpsc::Receiver<Batch>,
    id: crate::timers::PeerId,
}

fn fixture(engine: Echo) -> Fixture {
    fixture_with_limit(engine, MAX_QUEUED_EVENT_BYTES)
}

fn fixture_with_limit(engine: Echo, limit: usize) -> Fixture {
    let reactor = Reactor::<Echo>::start().expect("reactor");
    let (bound, _) = iface::bind_all(&["127.0.0.1:0".parse().unwrap()]);
    let local = bound[0].1;
    let sockets = reactor.make_sockets(bound);
    let (tx, rx) = mpsc::channel();
    let id = reactor.next_peer_id();
    let host = reactor.add(id, engine, sockets, Box::new(ChanSink(tx)), Backlog::new(limit)).expect("add");
    reactor.after_call(&mut lock(&host), clock::now());
    Fixture { reactor, host, local, batches: rx, id }
}

fn types(b: &Batch) -> Vec<String> {
    b.0.iter().filter_map(|o| o.type_name().map(str::to_owned)).collect()
}

fn client() -> StdUdpSocket {
    let c = StdUdpSocket::bind("127.0.0.1:0").unwrap();
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    c
}

#[test]
fn datagrams_are_echoed_and_reported_in_batches() {
    let f = fixture(Echo::default());
    let c = client();
    c.send_to(b"hello", f.local).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = c.recv_from(&mut buf).expect("echo");
    assert_eq!(&buf[..n], b"hello");
    assert_eq!(from, f.local);
    let b = f.batches.recv_timeout(Duration::from_secs(2)).expect("batch");
    assert_eq!(types(&b), vec!["message"]);
    assert_eq!(b.0[0].get("data"), Some(&Val::Bytes(b"hello".to_vec())));
    {
        let g = lock(&f.host);
        assert_eq!(g.stats.datagrams_received, 1);
        assert_eq!(g.stats.datagrams_sent, 1);
    }

    // Close: last events delivered, everything released.
    f.reactor.close(&mut lock(&f.host), clock::now());
    let b = f.batches.recv_timeout(Duration::from_secs(2)).expect("close batch");
    assert_eq!(types(&b), vec!["connectionstatechange"]);
    assert_eq!(f.reactor.peer_count(), 0);
    assert!(lock(&f.host).sockets.is_empty());
    // The sink is released: the channel disconnects.
    assert!(matches!(f.batches.recv_timeout(Duration::from_millis(200)), Err(mpsc::RecvTimeoutError::Disconnected)));
    // Nothing answers any more.
    c.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let _ = c.send_to(b"again", f.local);
    assert!(c.recv_from(&mut buf).is_err());
    f.reactor.shutdown();
}

#[test]
fn timers_fire_and_an_earlier_rearm_wakes_the_thread() {
    let start = Instant::now();
    let engine = Echo { deadline: Some(clock::now() + Duration::from_millis(30)), ..Echo::default() };
    let f = fixture(engine);
    let b = f.batches.recv_timeout(Duration::from_secs(2)).expect("timer batch");
    assert_eq!(types(&b), vec!["channelopen"]);
    assert!(start.elapsed() >= Duration::from_millis(30));

    // Arm far away, then earlier from "the JS thread": the waker must shorten the sleep.
    {
        let mut g = lock(&f.host);
        g.engine.deadline = Some(clock::now() + Duration::from_secs(30));
        f.reactor.after_call(&mut g, clock::now());
    }
    std::thread::sleep(Duration::from_millis(20));
    let t = Instant::now();
    {
        let mut g = lock(&f.host);
        g.engine.deadline = Some(clock::now() + Duration::from_millis(20));
        f.reactor.after_call(&mut g, clock::now());
    }
    let b = f.batches.recv_timeout(Duration::from_secs(5)).expect("re-armed timer");
    assert_eq!(b.0[0].get("channel"), Some(&Val::Num(2.0)));
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(lock(&f.host).engine.fired, 2, "the stale 30 s entry did not fire");

    // A deadline that moves on every call leaves one entry, not one per call.
    for i in 0..10_000u64 {
        let mut g = lock(&f.host);
        g.engine.deadline = Some(clock::now() + Duration::from_secs(30) + Duration::from_micros(i));
        f.reactor.after_call(&mut g, clock::now());
    }
    assert_eq!(f.reactor.timer_count(), crate::timers::MAX_TIMER_ENTRIES_PER_PEER);
    // Disarming removes it.
    {
        let mut g = lock(&f.host);
        g.engine.deadline = None;
        f.reactor.after_call(&mut g, clock::now());
    }
    assert_eq!(f.reactor.timer_count(), 0);

    // Closing drops the peer's timer entries.
    {
        let mut g = lock(&f.host);
        g.engine.deadline = Some(clock::now() + Duration::from_secs(60));
        f.reactor.after_call(&mut g, clock::now());
    }
    assert!(f.reactor.timer_count() >= 1);
    f.reactor.close(&mut lock(&f.host), clock::now());
    assert_eq!(f.reactor.timer_count(), 0);
    f.reactor.shutdown();
}

#[test]
fn a_panicking_peer_is_failed_and_others_survive() {
    let f = fixture(Echo::default());
    let (bound, _) = iface::bind_all(&["127.0.0.1:0".parse().unwrap()]);
    let other_local = bound[0].1;
    let (tx, other_rx) = mpsc::channel();
    let other_id = f.reactor.next_peer_id();
    let sockets = f.reactor.make_sockets(bound);
    let _other = f
        .reactor
        .add(other_id, Echo::default(), sockets, Box::new(ChanSink(tx)), Backlog::new(MAX_QUEUED_EVENT_BYTES))
        .unwrap();

    let c = client();
    c.send_to(b"panic", f.local).unwrap();
    let b = f.batches.recv_timeout(Duration::from_secs(2)).expect("error batch");
    assert_eq!(types(&b), vec!["error"]);
    let Some(Val::Str(msg)) = b.0[0].get("message") else { panic!("message") };
    assert!(msg.contains("echo engine asked to panic"), "{msg}");
    assert_eq!(lock(&f.host).state, HostState::Failed);
    assert!(lock(&f.host).sockets.is_empty());

    // The I/O thread is still serving the other peer.
    c.send_to(b"still here", other_local).unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = c.recv_from(&mut buf).expect("other peer echoes");
    assert_eq!(&buf[..n], b"still here");
    assert_eq!(types(&other_rx.recv_timeout(Duration::from_secs(2)).unwrap()), vec!["message"]);
    assert_eq!(f.reactor.peer_count(), 1);
    f.reactor.shutdown();
}

#[test]
fn a_burst_is_drained_until_would_block() {
    let f = fixture(Echo::default());
    let c = client();
    for i in 0..200u32 {
        c.send_to(&i.to_be_bytes(), f.local).unwrap();
    }
    let mut got = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while got < 200 && Instant::now() < deadline {
        if let Ok(b) = f.batches.recv_timeout(Duration::from_millis(500)) {
            got += b.0.len();
        }
    }
    // Loopback may drop under pressure; most must arrive and none be left unread.
    assert!(got >= 150, "only {got} of 200 reported");
    assert_eq!(lock(&f.host).stats.datagrams_received as usize, got);
    f.reactor.shutdown();
}

#[test]
fn a_core_stuck_in_the_past_does_not_spin_the_thread() {
    let f = fixture(Echo { stuck: true, ..Echo::default() });
    std::thread::sleep(Duration::from_millis(200));
    let n = lock(&f.host).engine.timeouts;
    // About one per MIN_REARM (1 ms), not millions; allow slack for a loaded machine.
    assert!((5..=400).contains(&n), "{n} timeouts in 200 ms");
    f.reactor.close(&mut lock(&f.host), clock::now());
    f.reactor.shutdown();
}

#[test]
fn a_backlog_over_its_bound_pauses_reading_until_js_catches_up() {
    // Each echoed 100-byte datagram makes a ~150-byte event; pause above 400 bytes.
    let f = fixture_with_limit(Echo::default(), 400);
    let c = client();
    for i in 0..20u8 {
        c.send_to(&[i; 100], f.local).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(100));
    let (received, backlog) = {
        let g = lock(&f.host);
        (g.stats.datagrams_received, g.backlog.clone())
    };
    assert!(backlog.is_paused(), "paused");
    assert!((3..20).contains(&received), "read {received} before pausing");

    // "JS" takes every batch queued so far; the last one resumes reading.
    let mut taken = 0;
    while let Ok(b) = f.batches.recv_timeout(Duration::from_millis(100)) {
        taken += b.0.len();
        if backlog.consumed(b.weight()) {
            f.reactor.resume(f.id);
        }
    }
    assert!(taken >= 3);
    let deadline = Instant::now() + Duration::from_secs(3);
    while lock(&f.host).stats.datagrams_received < 20 && Instant::now() < deadline {
        // Keep draining, as the JS thread would.
        if let Ok(b) = f.batches.recv_timeout(Duration::from_millis(50)) {
            if backlog.consumed(b.weight()) {
                f.reactor.resume(f.id);
            }
        }
    }
    assert_eq!(lock(&f.host).stats.datagrams_received, 20, "everything read after resuming");
    f.reactor.close(&mut lock(&f.host), clock::now());
    f.reactor.shutdown();
}

#[test]
fn backlog_accounting() {
    let b = Backlog::new(100);
    b.add(150);
    assert!(b.should_pause());
    assert!(b.is_paused());
    assert!(!b.consumed(40), "110 left: still above half");
    assert!(b.consumed(60), "50 left: resume once");
    assert!(!b.consumed(10), "already resumed");
    assert!(!b.should_pause());
    assert_eq!(b.queued(), 40);
    assert!(!b.consumed(1000));
    assert_eq!(b.queued(), 0);
}

/// Polls `cond` on the host for up to 2 s.
fn wait_for(host: &SharedHost<Echo>, cond: impl Fn(&crate::host::PeerHost<Echo>) -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if cond(&lock(host)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn a_tcp_link_carries_bytes_both_ways_and_reports_its_end_once() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    // A port nobody listens on: the connect is refused after it started.
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let reactor = Reactor::<Echo>::start().expect("reactor");
    let sockets = vec![
        reactor.make_tcp_socket(TcpLink::connect(server, "turn:a?transport=tcp").unwrap()),
        reactor.make_tcp_socket(TcpLink::connect(refused, "turn:b?transport=tcp").unwrap()),
    ];
    let (tx, _rx) = mpsc::channel();
    let id = reactor.next_peer_id();
    let host = reactor.add(id, Echo::default(), sockets, Box::new(ChanSink(tx)), Backlog::new(MAX_QUEUED_EVENT_BYTES)).expect("add");
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    // The echo engine sends what it got back to the server over the same link.
    conn.write_all(b"stream bytes").unwrap();
    let mut got = [0u8; 12];
    conn.read_exact(&mut got).expect("echoed over the link");
    assert_eq!(&got, b"stream bytes");
    assert!(wait_for(&host, |h| h.engine.failed_links == vec![(1, "turn:b?transport=tcp".to_string())]), "refused connect reported");
    // The server closes: reported once, and nothing more is sent on the link.
    drop(conn);
    assert!(wait_for(&host, |h| h.engine.failed_links.len() == 2), "closed link reported");
    {
        let g = lock(&host);
        assert_eq!(g.engine.failed_links[1], (0, "turn:a?transport=tcp".to_string()));
        assert_eq!(g.stats.links_failed, 2);
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(lock(&host).engine.failed_links.len(), 2);
    reactor.close(&mut lock(&host), clock::now());
    reactor.shutdown();
}
