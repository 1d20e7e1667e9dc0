//! The socket host against coturn's `turnutils_uclient` (UDP, TCP) and an in-test
//! WebSocket TURN client.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use common::ws::Ws;
use common::{code, data_indication, other, xor_peer, Client};
use polyrtc::stun::{attr, Class, Message};
use polyrtc_relay::host::Relay;
use polyrtc_relay::wire::{self, method, tattr};
use polyrtc_relay::{ClientId, Config};

fn config() -> Config {
    let mut c = Config { realm: "host.test".into(), allow_private: true, ..Config::default() };
    c.users.insert("alice".into(), "secret".into());
    c
}

fn start() -> Relay {
    Relay::start("127.0.0.1:0".parse().unwrap(), config()).expect("relay starts")
}

/// Runs coturn's uclient in client-to-client mode (`-y`) with Send indications (`-s`:
/// uclient picks channel numbers up to 0x7FFF, RFC 5766's range, which RFC 8656 rejects)
/// and no RTCP (`-c`); returns its output.
fn uclient(relay: &Relay, extra: &[&str], password: &str) -> String {
    let mut args = vec!["-s", "-c", "-y", "-n", "20", "-u", "alice", "-w", password];
    args.extend_from_slice(extra);
    let port = relay.port.to_string();
    args.extend_from_slice(&["-p", &port, "127.0.0.1"]);
    let out = Command::new("turnutils_uclient")
        .args(&args)
        .output()
        .expect("turnutils_uclient must be installed (Debian package coturn, scripts/setup-tests.sh)");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn assert_delivered(out: &str) {
    assert!(out.contains("tot_send_msgs=40, tot_recv_msgs=40"), "uclient output:\n{out}");
    assert!(out.contains("Total lost packets 0 (0.000000%)"), "uclient output:\n{out}");
}

#[test]
fn coturn_uclient_over_udp() {
    let relay = start();
    assert_delivered(&uclient(&relay, &[], "secret"));
    assert!(relay.stats().0.allocations_created >= 2);
}

#[test]
fn coturn_uclient_over_tcp() {
    let relay = start();
    assert_delivered(&uclient(&relay, &["-t"], "secret"));
}

#[test]
fn coturn_uclient_wrong_password_rejected() {
    let relay = start();
    let out = uclient(&relay, &[], "wrong");
    assert!(!out.contains("tot_recv_msgs=40"), "uclient output:\n{out}");
    assert_eq!(relay.stats().0.allocations_created, 0);
    assert!(relay.stats().0.auth_failures >= 1);
}

fn transport() -> Vec<polyrtc::stun::Attribute> {
    vec![wire::other(tattr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])]
}

#[test]
fn websocket_allocate_permission_send_and_data() {
    let relay = start();
    let mut ws = Ws::connect(relay.port);
    let mut c = Client::new(ClientId(1), "alice", "secret");

    // Unauthenticated -> 401 with realm and nonce.
    let r = ws.request(&mut c, method::ALLOCATE, transport());
    assert_eq!(code(&r), Some(401));
    c.realm = String::from_utf8(other(&r, attr::REALM).unwrap().to_vec()).unwrap();
    c.nonce = Some(String::from_utf8(other(&r, attr::NONCE).unwrap().to_vec()).unwrap());

    // Wrong password -> 401 again.
    let mut bad = Client::new(ClientId(2), "alice", "nope");
    bad.realm = c.realm.clone();
    bad.nonce = c.nonce.clone();
    assert_eq!(code(&ws.request(&mut bad, method::ALLOCATE, transport())), Some(401));

    let r = ws.request(&mut c, method::ALLOCATE, transport());
    assert_eq!(r.class, Class::SuccessResponse, "{r:?}");
    let relayed = wire::decode_xor_address(other(&r, tattr::XOR_RELAYED_ADDRESS).unwrap(), &r.transaction_id).unwrap();
    assert_eq!(relayed.ip().to_string(), "127.0.0.1");

    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let peer_addr = peer.local_addr().unwrap().to_string();
    let tid = c.next_tid();
    let r = ws.request(&mut c, method::CREATE_PERMISSION, vec![xor_peer(&peer_addr, &tid)]);
    assert_eq!(r.class, Class::SuccessResponse, "{r:?}");

    // Send indication -> datagram at the peer from the relayed address.
    let tid = c.next_tid();
    let mut m = Message::new(method::SEND, Class::Indication, tid);
    m.attributes.push(xor_peer(&peer_addr, &tid));
    m.attributes.push(wire::other(tattr::DATA, b"hello peer".to_vec()));
    ws.send(&m.encode_with(None, true));
    let mut buf = [0u8; 1500];
    let (n, from) = peer.recv_from(&mut buf).expect("datagram at the peer");
    assert_eq!(&buf[..n], b"hello peer");
    assert_eq!(from, relayed);

    // Datagram back -> Data indication over the WebSocket.
    peer.send_to(b"hello client", relayed).unwrap();
    let (src, data) = data_indication(&ws.recv());
    assert_eq!(src, peer.local_addr().unwrap());
    assert_eq!(data, b"hello client");
    assert_eq!(relay.stats().1.open_ports, 1);

    // Closing the WebSocket frees the allocation and its port.
    drop(ws);
    let deadline = Instant::now() + Duration::from_secs(5);
    while relay.stats().1.open_ports != 0 {
        assert!(Instant::now() < deadline, "port not closed after client_gone");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Nothing listens on the relayed port now: we can bind it ourselves.
    UdpSocket::bind(relayed).expect("relayed port freed");
}

#[test]
fn stopping_the_relay_frees_its_ports() {
    let relay = start();
    let port = relay.port;
    let mut ws = Ws::connect(port);
    let mut c = Client::new(ClientId(1), "alice", "secret");
    let r = ws.request(&mut c, method::ALLOCATE, transport());
    c.realm = String::from_utf8(other(&r, attr::REALM).unwrap().to_vec()).unwrap();
    c.nonce = Some(String::from_utf8(other(&r, attr::NONCE).unwrap().to_vec()).unwrap());
    let r = ws.request(&mut c, method::ALLOCATE, transport());
    let relayed: SocketAddr = wire::decode_xor_address(other(&r, tattr::XOR_RELAYED_ADDRESS).unwrap(), &r.transaction_id).unwrap();
    relay.stop();
    UdpSocket::bind(relayed).expect("relayed port freed");
    UdpSocket::bind(("127.0.0.1", port)).expect("UDP listener freed");
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("TCP listener freed");
}

#[test]
fn binary_prints_urls_json_and_help() {
    let exe = env!("CARGO_BIN_EXE_polyrtc-relay");
    let help = Command::new(exe).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in ["--listen", "--user", "--secret", "--realm", "--allow-private", "--max-allocations", "--max-allocations-per-user", "--bandwidth"] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    let mut child = Command::new(exe)
        .args(["--listen", "127.0.0.1:0", "--user", "alice:secret", "--allow-private", "--exit-on-stdin-close"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while out.read(&mut b).unwrap() == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    let line = String::from_utf8(line).unwrap();
    let port = line.split("ws://127.0.0.1:").nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
    assert_eq!(
        line,
        format!("{{\"wsUrl\":\"ws://127.0.0.1:{port}\",\"turnUrls\":[\"turn:127.0.0.1:{port}?transport=udp\",\"turn:127.0.0.1:{port}?transport=tcp\"]}}")
    );
    // It serves WebSocket on that port.
    let _ws = Ws::connect(port.parse().unwrap());
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("relay did not exit on stdin EOF");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn backed_up_websocket_client_gets_drops_not_a_queue() {
    let relay = start();
    let mut ws = Ws::connect(relay.port);
    let mut c = Client::new(ClientId(1), "alice", "secret");
    let r = ws.request(&mut c, method::ALLOCATE, transport());
    c.realm = String::from_utf8(other(&r, attr::REALM).unwrap().to_vec()).unwrap();
    c.nonce = Some(String::from_utf8(other(&r, attr::NONCE).unwrap().to_vec()).unwrap());
    let r = ws.request(&mut c, method::ALLOCATE, transport());
    let relayed = wire::decode_xor_address(other(&r, tattr::XOR_RELAYED_ADDRESS).unwrap(), &r.transaction_id).unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tid = c.next_tid();
    let r = ws.request(&mut c, method::CREATE_PERMISSION, vec![xor_peer(&peer.local_addr().unwrap().to_string(), &tid)]);
    assert_eq!(r.class, Class::SuccessResponse);
    // The client stops reading; the peer floods until the relay drops.
    common::flood_until_backpressure(&relay, &peer, relayed);
    // The relay still answers other clients.
    let mut ws2 = Ws::connect(relay.port);
    let mut c2 = Client::new(ClientId(2), "alice", "secret");
    assert_eq!(code(&ws2.request(&mut c2, method::ALLOCATE, transport())), Some(401));
    drop(ws);
}

/// Reads until the relay closes the connection (a reset counts); what came before.
fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        match s.read(&mut tmp) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&tmp[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("relay did not close the connection: {e}"),
        }
    }
}

#[test]
fn a_request_that_is_not_an_upgrade_gets_400_and_an_oversized_one_is_closed() {
    let relay = start();
    let mut s = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let got = read_to_close(&mut s);
    assert!(got.starts_with(b"HTTP/1.1 400 Bad Request\r\n"), "{}", String::from_utf8_lossy(&got));

    // MAX_HTTP_REQUEST (8192) bytes and no end of headers: closed without an answer.
    let mut s = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    let mut req = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
    req.resize(9000, b'a');
    s.write_all(&req).unwrap();
    assert_eq!(read_to_close(&mut s), b"");

    // The relay still serves.
    let mut ws = Ws::connect(relay.port);
    let mut c = Client::new(ClientId(1), "alice", "secret");
    assert_eq!(code(&ws.request(&mut c, method::ALLOCATE, transport())), Some(401));
}

#[test]
fn websocket_ping_gets_its_pong() {
    let relay = start();
    let mut ws = Ws::connect(relay.port);
    let mask = [9u8, 8, 7, 6];
    let mut f = vec![0x89, 0x80 | 4];
    f.extend_from_slice(&mask);
    f.extend(b"ping".iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    ws.s.write_all(&f).unwrap();
    let mut got = [0u8; 6];
    ws.s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"\x8a\x04ping");
}
