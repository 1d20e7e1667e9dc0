//! Upstream mode in front of Debian's coturn (`turnserver`): a peer with no socket of its
//! own (as the WASM engine is) reaches our relay over a WebSocket; the relay bridges that
//! WebSocket over TCP to coturn, which authenticates it and owns the allocation; the far
//! peer is an ordinary UDP peer. Real sockets, real time, the core's Peer on both ends.
//! Fails (does not skip) if `turnserver` is not installed.

mod common;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::ws::Ws;
use polyrtc::crypto::Rng;
use polyrtc::peer::{DataChannelInit, Peer, PeerConfig, PeerConnectionState, PeerEvent, SdpType};
use polyrtc::turn::{TurnConfig, TurnTransport};
use polyrtc::Time;
use polyrtc_relay::host::{HostOptions, Relay};
use polyrtc_relay::Config;

struct Coturn(Child);
impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free for both UDP and TCP.
fn free_port() -> u16 {
    loop {
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        let p = u.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

/// coturn with relayed ports in 40000-40999 (so its allocations are recognisable).
fn start_coturn() -> (Coturn, SocketAddr) {
    let port = free_port();
    let child = Command::new("turnserver")
        .args([
            "-n",
            "--listening-ip=127.0.0.1",
            &format!("--listening-port={port}"),
            "--relay-ip=127.0.0.1",
            "--lt-cred-mech",
            "--user=alice:secret",
            "--realm=coturn.test",
            "--no-tls",
            "--no-dtls",
            "--allow-loopback-peers",
            "--no-cli",
            "--no-stdout-log",
            "--log-file=/dev/null",
            "--min-port=40000",
            "--max-port=40999",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("turnserver must be installed (Debian package coturn, scripts/setup-tests.sh)");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < end, "coturn did not start listening on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Coturn(child), addr)
}

const VIA: u32 = 1;
const RELAYED: u32 = 10;
const WS_SERVER: &str = "0.0.0.0:0";

struct Clock(Instant);
impl Clock {
    fn now(&self) -> Time {
        Time::from_micros(self.0.elapsed().as_micros() as u64 + 1_000_000)
    }
}

fn drain(p: &mut Peer, out: &mut Vec<PeerEvent>) {
    while let Some(e) = p.poll_event() {
        out.push(e);
    }
}

#[test]
fn a_websocket_peer_connects_through_the_relay_bridged_to_coturn() {
    let (_coturn, coturn_addr) = start_coturn();
    // Our relay has no users: only coturn can admit the WebSocket client.
    let relay = Relay::start_with(
        "127.0.0.1:0".parse().unwrap(),
        Config::default(),
        HostOptions { upstream: Some(coturn_addr), ..HostOptions::default() },
    )
    .expect("relay starts");
    let mut ws = Ws::connect(relay.port);

    let clock = Clock(Instant::now());
    let mut a = Peer::new(PeerConfig { relay_only: true, unix_time_ms: 1_700_000_000_000, ..PeerConfig::default() }, Rng::seeded(21)).unwrap();
    let turn = TurnConfig::new(TurnTransport::WebSocket, "alice", "secret");
    a.add_relay(clock.now(), RELAYED, VIA, WS_SERVER.parse().unwrap(), "ws://upstream.test", turn).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let b_addr = udp.local_addr().unwrap();
    let mut b = Peer::new(PeerConfig { include_loopback: true, unix_time_ms: 1_700_000_000_000, ..PeerConfig::default() }, Rng::seeded(22)).unwrap();
    b.add_local_transport(2, b_addr);

    let now = clock.now();
    let (ch, _) = a.create_data_channel(now, DataChannelInit { label: "up".into(), ..DataChannelInit::default() }).unwrap();
    let offer = a.create_offer().unwrap();
    a.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    b.set_remote_description(now, SdpType::Offer, &offer).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(now, Some(SdpType::Answer), Some(&answer)).unwrap();
    a.set_remote_description(now, SdpType::Answer, &answer).unwrap();

    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    let big: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
    let mut sent = false;
    let mut b_channel = None;
    let mut got_at_b = Vec::new();
    let mut got_at_a = Vec::new();
    let end = Instant::now() + Duration::from_secs(30);
    let mut buf = vec![0u8; 65536];
    while got_at_b.is_empty() || got_at_a.is_empty() {
        assert!(Instant::now() < end, "timed out\nA: {ea:?}\nB: {eb:?}\nA stats {:?}", a.stats());
        let now = clock.now();
        while let Some(t) = a.poll_transmit(now) {
            assert_eq!(t.transport, VIA);
            ws.send(&t.data);
        }
        while let Some(t) = b.poll_transmit(now) {
            let _ = udp.send_to(&t.data, t.destination);
        }
        while let Some(m) = ws.try_recv().expect("the WebSocket stays open") {
            a.handle_datagram(clock.now(), VIA, WS_SERVER.parse().unwrap(), &m);
        }
        while let Ok((n, from)) = udp.recv_from(&mut buf) {
            b.handle_datagram(clock.now(), 2, from, &buf[..n]);
        }
        let now = clock.now();
        if a.poll_timeout().is_some_and(|t| t <= now) {
            a.handle_timeout(now);
        }
        if b.poll_timeout().is_some_and(|t| t <= now) {
            b.handle_timeout(now);
        }
        let (na, nb) = (ea.len(), eb.len());
        drain(&mut a, &mut ea);
        drain(&mut b, &mut eb);
        for e in &ea[na..] {
            match e {
                PeerEvent::IceCandidate(Some(c)) => b.add_ice_candidate(now, Some(c.clone())).unwrap(),
                PeerEvent::DataChannelMessage { data, .. } => got_at_a.push(data.clone()),
                _ => {}
            }
        }
        for e in &eb[nb..] {
            match e {
                PeerEvent::IceCandidate(Some(c)) => a.add_ice_candidate(now, Some(c.clone())).unwrap(),
                PeerEvent::DataChannelIncoming { channel, .. } => b_channel = Some(*channel),
                PeerEvent::DataChannelMessage { data, .. } => got_at_b.push(data.clone()),
                _ => {}
            }
        }
        let open = ea.iter().any(|e| matches!(e, PeerEvent::DataChannelOpen { .. }));
        if open && !sent {
            if let Some(bc) = b_channel {
                a.send(now, ch, true, &big).unwrap();
                b.send(now, bc, false, b"hello through coturn").unwrap();
                sent = true;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(ea.iter().any(|e| matches!(e, PeerEvent::ConnectionStateChanged(PeerConnectionState::Connected))));
    assert_eq!(got_at_b[0], big);
    assert_eq!(got_at_a[0], b"hello through coturn");
    // The relayed candidate is coturn's allocation (its port range), not one of ours.
    let cand = ea
        .iter()
        .find_map(|e| match e {
            PeerEvent::IceCandidate(Some(c)) => Some(c.candidate.clone()),
            _ => None,
        })
        .unwrap();
    let port: u16 = cand.split(' ').nth(5).unwrap().parse().unwrap();
    assert!(cand.contains("typ relay") && (40000..=40999).contains(&port), "{cand}");
    assert_eq!(relay.stats().0.allocations_created, 0, "our relay allocated nothing itself");
    assert_eq!(relay.stats().1.upstream_clients, 1);

    // The client goes away: the bridge ends.
    drop(ws);
    let end = Instant::now() + Duration::from_secs(5);
    while relay.stats().1.upstream_clients != 0 {
        assert!(Instant::now() < end, "the bridge outlived its WebSocket");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_unreachable_upstream_closes_the_websocket_with_1011() {
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut config = Config::default();
    config.users.insert("alice".into(), "secret".into());
    let options = HostOptions { upstream: Some(closed), ..HostOptions::default() };
    let relay = Relay::start_with("127.0.0.1:0".parse().unwrap(), config, options).unwrap();
    let mut ws = Ws::connect(relay.port);
    assert_eq!(ws.recv_close(), Some(1011));
    assert_eq!(relay.stats().1.upstream_clients, 0);
}
