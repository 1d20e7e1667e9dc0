//! The TURN client against the real coturn `turnserver` on loopback (UDP).
//! Fails (does not skip) if `turnserver` is not installed.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use polyrtc::crypto::Rng;
use polyrtc::turn::{TurnClient, TurnConfig, TurnEvent, TurnTransport};
use polyrtc::Time;

struct Coturn(Child);
impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_coturn() -> (Coturn, SocketAddr) {
    start_coturn_with(&[])
}

/// coturn with `extra` arguments too.
fn start_coturn_with(extra: &[&str]) -> (Coturn, SocketAddr) {
    let port = free_port();
    let child = Command::new("turnserver")
        .args(extra)
        .args([
            "-n",
            "--listening-ip=127.0.0.1",
            &format!("--listening-port={port}"),
            "--relay-ip=127.0.0.1",
            "--lt-cred-mech",
            "--user=alice:secret",
            "--realm=polyrtc",
            "--no-tls",
            "--no-dtls",
            "--allow-loopback-peers",
            "--no-cli",
            "--no-stdout-log",
            "--log-file=/dev/null",
            "--min-port=49152",
            "--max-port=65535",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("turnserver must be installed (scripts/setup-tests.sh installs coturn)");
    (Coturn(child), format!("127.0.0.1:{port}").parse().unwrap())
}

struct Harness {
    sock: UdpSocket,
    server: SocketAddr,
    client: TurnClient,
    start: Instant,
    /// The STUN message type (or ChannelData channel) of every datagram sent.
    sent_types: Vec<u16>,
}

impl Harness {
    fn now(&self) -> Time {
        Time::from_micros(self.start.elapsed().as_micros() as u64)
    }
    fn flush(&mut self) {
        while let Some(b) = self.client.poll_transmit() {
            self.send(&b);
        }
    }
    fn send(&mut self, b: &[u8]) {
        if b.len() >= 2 {
            self.sent_types.push(u16::from_be_bytes([b[0], b[1]]));
        }
        self.sock.send_to(b, self.server).unwrap();
    }
    /// Pumps I/O until `pred` accepts an event or the deadline passes.
    fn until(&mut self, what: &str, mut pred: impl FnMut(&TurnEvent) -> bool) -> TurnEvent {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = vec![0u8; 70_000];
        loop {
            self.flush();
            while let Some(e) = self.client.poll_event() {
                if pred(&e) {
                    return e;
                }
                if let TurnEvent::Failed { .. } = e {
                    panic!("waiting for {what}: {e:?}");
                }
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                let now = self.now();
                self.client.handle_input(now, &buf[..n]);
            }
            let now = self.now();
            if self.client.poll_timeout().is_some_and(|t| t <= now) {
                self.client.handle_timeout(now);
            }
        }
    }
}

fn harness(server: SocketAddr, password: &str) -> Harness {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let cfg = TurnConfig::new(TurnTransport::Udp, "alice", password);
    Harness {
        sock,
        server,
        client: TurnClient::new(cfg, Rng::seeded(1), Time::ZERO),
        start: Instant::now(),
        sent_types: Vec::new(),
    }
}

#[test]
fn coturn_udp_allocate_permission_send_and_channel() {
    let (_coturn, server) = start_coturn();
    std::thread::sleep(Duration::from_millis(500));
    let mut h = harness(server, "secret");
    let relayed = match h.until("Allocated", |e| matches!(e, TurnEvent::Allocated { .. })) {
        TurnEvent::Allocated { relayed, .. } => relayed,
        _ => unreachable!(),
    };
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let now = h.now();
    h.client.create_permission(peer_addr.ip(), now).unwrap();
    h.until("PermissionCreated", |e| {
        matches!(e, TurnEvent::PermissionCreated { .. })
    });

    // Send indication out, Data indication back.
    h.client.send_to(peer_addr, b"via send indication").unwrap();
    h.flush();
    let mut buf = [0u8; 2000];
    let (n, from) = peer
        .recv_from(&mut buf)
        .expect("peer receives relayed data");
    assert_eq!(&buf[..n], b"via send indication");
    assert_eq!(from, relayed);
    peer.send_to(b"hello back", relayed).unwrap();
    let e = h.until("Data", |e| matches!(e, TurnEvent::Data { .. }));
    assert_eq!(
        e,
        TurnEvent::Data {
            from: peer_addr,
            bytes: b"hello back".to_vec()
        }
    );

    // ChannelData both ways.
    let now = h.now();
    h.client.bind_channel(peer_addr, now).unwrap();
    h.until("ChannelBound", |e| {
        matches!(e, TurnEvent::ChannelBound { .. })
    });
    assert!(h.client.channel_of(peer_addr).is_some());
    h.client.send_to(peer_addr, b"via channel").unwrap();
    h.flush();
    let (n, _) = peer
        .recv_from(&mut buf)
        .expect("peer receives channel data");
    assert_eq!(&buf[..n], b"via channel");
    peer.send_to(&[0xAB; 1200], relayed).unwrap();
    let e = h.until("Data", |e| matches!(e, TurnEvent::Data { .. }));
    assert_eq!(
        e,
        TurnEvent::Data {
            from: peer_addr,
            bytes: vec![0xAB; 1200]
        }
    );

    let now = h.now();
    h.client.close(now);
    h.until("Closed", |e| *e == TurnEvent::Closed);
}

#[test]
fn coturn_wrong_password_fails_401() {
    let (_coturn, server) = start_coturn();
    std::thread::sleep(Duration::from_millis(500));
    let mut h = harness(server, "wrong");
    let e = h.until("Failed", |e| matches!(e, TurnEvent::Failed { .. }));
    assert!(matches!(e, TurnEvent::Failed { code: 401, .. }), "{e:?}");
}

#[test]
fn coturn_tcp_allocate_permission_and_channel_data() {
    use std::io::{Read, Write};
    let (_coturn, server) = start_coturn();
    std::thread::sleep(Duration::from_millis(500));
    let mut tcp = std::net::TcpStream::connect(server).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let start = Instant::now();
    let now = |s: Instant| Time::from_micros(s.elapsed().as_micros() as u64);
    let cfg = TurnConfig::new(TurnTransport::Tcp, "alice", "secret");
    let mut c = TurnClient::new(cfg, Rng::seeded(2), Time::ZERO);
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let mut buf = vec![0u8; 70_000];
    let mut pump = |c: &mut TurnClient, what: &str, pred: &dyn Fn(&TurnEvent) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            while let Some(b) = c.poll_transmit() {
                tcp.write_all(&b).unwrap();
            }
            if what == "flush" {
                return TurnEvent::Closed;
            }
            while let Some(e) = c.poll_event() {
                if pred(&e) {
                    return e;
                }
                assert!(!matches!(e, TurnEvent::Failed { .. }), "{what}: {e:?}");
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            if let Ok(n) = tcp.read(&mut buf) {
                c.handle_input(now(start), &buf[..n]);
            }
        }
    };
    let relayed = match pump(&mut c, "Allocated", &|e| {
        matches!(e, TurnEvent::Allocated { .. })
    }) {
        TurnEvent::Allocated { relayed, .. } => relayed,
        _ => unreachable!(),
    };
    c.bind_channel(peer_addr, now(start)).unwrap();
    pump(&mut c, "ChannelBound", &|e| {
        matches!(e, TurnEvent::ChannelBound { .. })
    });
    c.send_to(peer_addr, b"odd length!").unwrap();
    pump(&mut c, "flush", &|_| false);
    let mut pb = [0u8; 2000];
    let (n, from) = peer
        .recv_from(&mut pb)
        .expect("peer receives channel data over TCP");
    assert_eq!((&pb[..n], from), (&b"odd length!"[..], relayed));
    peer.send_to(b"abc", relayed).unwrap();
    peer.send_to(b"defgh", relayed).unwrap();
    let e = pump(&mut c, "Data", &|e| matches!(e, TurnEvent::Data { .. }));
    assert_eq!(
        e,
        TurnEvent::Data {
            from: peer_addr,
            bytes: b"abc".to_vec()
        }
    );
    let e = pump(&mut c, "Data", &|e| matches!(e, TurnEvent::Data { .. }));
    assert_eq!(
        e,
        TurnEvent::Data {
            from: peer_addr,
            bytes: b"defgh".to_vec()
        }
    );
}

/// RFC 8656 §9 / RFC 8489 §9.2: coturn's nonces expire after 2 s here (`--stale-nonce`), so
/// a CreatePermission after that gets 438 Stale Nonce: the client signs it again with the
/// new nonce and the permission is created, with no error surfaced.
#[test]
fn coturn_stale_nonce_438_is_retried_with_the_new_nonce() {
    let (_coturn, server) = start_coturn_with(&["--stale-nonce=2"]);
    std::thread::sleep(Duration::from_millis(500));
    let mut h = harness(server, "secret");
    h.until("Allocated", |e| matches!(e, TurnEvent::Allocated { .. }));
    std::thread::sleep(Duration::from_secs(3));
    const CREATE_PERMISSION_REQUEST: u16 = 0x0008;
    let before = h.sent_types.iter().filter(|t| **t == CREATE_PERMISSION_REQUEST).count();
    assert_eq!(before, 0);
    let now = h.now();
    h.client.create_permission("127.0.0.1".parse().unwrap(), now).unwrap();
    h.until("PermissionCreated after the stale nonce", |e| matches!(e, TurnEvent::PermissionCreated { .. }));
    let sent = h.sent_types.iter().filter(|t| **t == CREATE_PERMISSION_REQUEST).count();
    assert_eq!(sent, 2, "the request, refused with 438, then signed with the new nonce");
    let now = h.now();
    h.client.close(now);
    h.until("Closed", |e| *e == TurnEvent::Closed);
}
