//! 1,000 allocations at once on one in-process relay, made over UDP with the core's TURN
//! client, plus 100 WebSocket and 100 TURN-over-TCP clients: the process's thread count
//! does not grow with them, data still flows both ways on a sample of the allocations,
//! every connection is answered, and `Relay::stop` frees every relayed port.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use common::ws::Ws;
use polyrtc::crypto::Rng;
use polyrtc::stun::{Class, Message};
use polyrtc::turn::{TurnClient, TurnConfig, TurnEvent, TurnTransport};
use polyrtc::Time;
use polyrtc_relay::host::Relay;
use polyrtc_relay::wire::method;
use polyrtc_relay::Config;

const ALLOCATIONS: usize = 1000;
/// WebSocket clients, and as many TURN-over-TCP clients, at once beside the allocations.
const CONNECTIONS: usize = 100;
/// Every SAMPLE-th allocation exchanges data with its own peer.
const SAMPLE: usize = 50;
/// The whole process (test harness, test thread, relay) stays under this many threads.
const MAX_THREADS: usize = 20;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").expect("/proc/self/task").count()
}

/// Two sockets per allocation (ours and the relay's) in one process: more than a 1024
/// soft limit allows, so the soft limit is raised toward the hard one.
fn raise_fd_limit(want: u64) {
    let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system calls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) != 0 || l.rlim_cur >= want {
            return;
        }
        l.rlim_cur = want.min(l.rlim_max);
        libc::setrlimit(libc::RLIMIT_NOFILE, &l);
    }
}

struct Alloc {
    sock: UdpSocket,
    client: TurnClient,
    relayed: Option<SocketAddr>,
    channel: Option<u16>,
    data: Vec<(SocketAddr, Vec<u8>)>,
}

impl Alloc {
    /// Sends what the client wants sent, feeds it what arrived, fires its timer.
    fn pump(&mut self, now: Time, buf: &mut [u8]) {
        while let Some(m) = self.client.poll_transmit() {
            let _ = self.sock.send(&m);
        }
        while let Ok(n) = self.sock.recv(buf) {
            self.client.handle_input(now, &buf[..n]);
        }
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        while let Some(m) = self.client.poll_transmit() {
            let _ = self.sock.send(&m);
        }
        while let Some(ev) = self.client.poll_event() {
            match ev {
                TurnEvent::Allocated { relayed, .. } => self.relayed = Some(relayed),
                TurnEvent::ChannelBound { channel, .. } => self.channel = Some(channel),
                TurnEvent::Data { from, bytes } => self.data.push((from, bytes)),
                TurnEvent::Failed { code, reason } => panic!("allocation failed: {code} {reason}"),
                TurnEvent::ChannelBindFailed { code, reason, .. } => panic!("channel bind failed: {code} {reason}"),
                _ => {}
            }
        }
    }
}

/// Pumps `allocs` until `done` holds for all of them (at most `secs` seconds).
fn drive(allocs: &mut [&mut Alloc], clock: &dyn Fn() -> Time, secs: u64, what: &str, done: impl Fn(&Alloc) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut buf = [0u8; 2048];
    loop {
        let mut pending = 0;
        for a in allocs.iter_mut() {
            a.pump(clock(), &mut buf);
            if !done(a) {
                pending += 1;
            }
        }
        if pending == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{pending} of {} not {what} after {secs} s", allocs.len());
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_thousand_allocations_on_one_relay_without_a_thread_each() {
    raise_fd_limit(4 * ALLOCATIONS as u64 + 256);
    let before = threads();
    let mut config = Config {
        realm: "scale.test".into(),
        allow_private: true,
        max_allocations: ALLOCATIONS + 10,
        max_allocations_per_user: ALLOCATIONS + 10,
        ..Config::default()
    };
    config.users.insert("alice".into(), "secret".into());
    let relay = Relay::start("127.0.0.1:0".parse().unwrap(), config).expect("relay starts");
    let server: SocketAddr = format!("127.0.0.1:{}", relay.port).parse().unwrap();
    let started = threads();

    let start = Instant::now();
    let clock = move || Time::from_micros(start.elapsed().as_micros() as u64 + 1_000_000);
    let mut rng = Rng::seeded(7);
    let mut allocs: Vec<Alloc> = (0..ALLOCATIONS)
        .map(|_| {
            let sock = UdpSocket::bind("127.0.0.1:0").expect("client socket (file descriptor limit?)");
            sock.set_nonblocking(true).unwrap();
            sock.connect(server).unwrap();
            let client = TurnClient::new(TurnConfig::new(TurnTransport::Udp, "alice", "secret"), rng.fork(), clock());
            Alloc { sock, client, relayed: None, channel: None, data: Vec::new() }
        })
        .collect();
    drive(&mut allocs.iter_mut().collect::<Vec<_>>(), &clock, 60, "allocated", |a| a.relayed.is_some());

    let during = threads();
    let (stats, host) = relay.stats();
    assert_eq!(stats.allocations, ALLOCATIONS, "{stats:?}");
    assert_eq!(host.open_ports, ALLOCATIONS, "{host:?}");
    assert!(during <= started, "threads grew with the allocations: {before} before the relay, {started} after start, {during} with {ALLOCATIONS} allocations");
    assert!(during < MAX_THREADS, "{during} threads with {ALLOCATIONS} allocations");

    // A sample exchanges data with its own peer, both ways, over a channel.
    let peers: Vec<UdpSocket> = (0..ALLOCATIONS / SAMPLE)
        .map(|_| {
            let p = UdpSocket::bind("127.0.0.1:0").unwrap();
            p.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            p
        })
        .collect();
    let mut sample: Vec<&mut Alloc> = allocs.iter_mut().step_by(SAMPLE).collect();
    for (a, p) in sample.iter_mut().zip(&peers) {
        a.client.bind_channel(p.local_addr().unwrap(), clock()).expect("bind");
    }
    drive(&mut sample, &clock, 20, "channel-bound", |a| a.channel.is_some());
    let mut buf = [0u8; 2048];
    for (i, (a, p)) in sample.iter_mut().zip(&peers).enumerate() {
        let msg = format!("to peer {i}");
        a.client.send_to(p.local_addr().unwrap(), msg.as_bytes()).expect("send");
        a.pump(clock(), &mut buf);
        let (n, from) = p.recv_from(&mut buf).expect("datagram at the peer");
        assert_eq!(&buf[..n], msg.as_bytes());
        assert_eq!(Some(from), a.relayed);
        p.send_to(format!("to client {i}").as_bytes(), from).unwrap();
    }
    drive(&mut sample, &clock, 20, "answered", |a| !a.data.is_empty());
    for (i, (a, p)) in sample.iter().zip(&peers).enumerate() {
        assert_eq!(a.data, vec![(p.local_addr().unwrap(), format!("to client {i}").into_bytes())]);
    }

    // WebSocket and TCP clients: each gets its 401 to an unauthenticated Allocate, and
    // the thread count stays where it was.
    let allocate = |i: usize| {
        let mut tid = [0u8; 12];
        tid[..8].copy_from_slice(&(i as u64).to_be_bytes());
        (tid, Message::new(method::ALLOCATE, Class::Request, tid).encode_with(None, true))
    };
    let mut wss: Vec<Ws> = (0..CONNECTIONS).map(|_| Ws::connect(relay.port)).collect();
    let mut tcps: Vec<TcpStream> = (0..CONNECTIONS)
        .map(|_| {
            let s = TcpStream::connect(server).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s
        })
        .collect();
    for (i, ws) in wss.iter_mut().enumerate() {
        ws.send(&allocate(i).1);
    }
    for (i, s) in tcps.iter_mut().enumerate() {
        s.write_all(&allocate(CONNECTIONS + i).1).unwrap();
    }
    for (i, ws) in wss.iter_mut().enumerate() {
        let r = Message::decode(&ws.recv()).expect("a STUN answer over WebSocket");
        assert_eq!((r.class, r.transaction_id), (Class::ErrorResponse, allocate(i).0));
    }
    for (i, s) in tcps.iter_mut().enumerate() {
        let mut head = [0u8; 20];
        s.read_exact(&mut head).expect("a STUN answer over TCP");
        let mut m = head.to_vec();
        m.resize(20 + u16::from_be_bytes([head[2], head[3]]) as usize, 0);
        s.read_exact(&mut m[20..]).unwrap();
        let r = Message::decode(&m).expect("a STUN message");
        assert_eq!((r.class, r.transaction_id), (Class::ErrorResponse, allocate(CONNECTIONS + i).0));
    }
    let with_connections = threads();
    assert!(with_connections <= started, "threads grew with {CONNECTIONS} WebSocket and {CONNECTIONS} TCP clients: {with_connections} (after start: {started})");
    assert_eq!(relay.stats().1.clients, ALLOCATIONS + 2 * CONNECTIONS);

    // Stopping frees every relayed port and joins every thread the relay started.
    let relayed: Vec<SocketAddr> = allocs.iter().filter_map(|a| a.relayed).collect();
    assert_eq!(relayed.len(), ALLOCATIONS);
    relay.stop();
    for r in &relayed {
        UdpSocket::bind(r).unwrap_or_else(|e| panic!("relayed port {r} not freed by stop(): {e}"));
    }
    UdpSocket::bind(server).expect("UDP listener freed");
    std::net::TcpListener::bind(server).expect("TCP listener freed");
    assert_eq!(threads(), before, "threads left after stop()");
}
