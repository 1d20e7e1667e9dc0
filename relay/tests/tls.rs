//! TLS on the relay's TCP port: `turns:` with coturn's `turnutils_uclient -S`, `wss:` with a
//! rustls client that checks the certificate, and plain `ws:` still served on the same port.
//! The certificate is made by the `openssl` CLI (installed by scripts/setup-tests.sh).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::net::UdpSocket;
use std::time::Duration;

use common::ws::Ws;
use common::{code, other, xor_peer, Client};
use polyrtc::stun::{attr, Class, Message};
use polyrtc_relay::host::{HostOptions, Relay};
use polyrtc_relay::wire::{self, method, tattr};
use polyrtc_relay::{ClientId, Config};

fn openssl(args: &[&str], dir: &std::path::Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (scripts/setup-tests.sh)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A test CA and a P-256 server certificate it issued for IP 127.0.0.1:
/// (dir, ca.pem, cert.pem, key.pem).
fn certificate(tag: &str) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("polyrtc-relay-tls-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(&[&["req", "-x509"], &ec[..], &["-days", "1", "-subj", "/CN=polyrtc test CA", "-keyout", "ca.key", "-out", "ca.pem"]].concat(), &dir);
    openssl(&[&["req"], &ec[..], &["-subj", "/CN=127.0.0.1", "-keyout", "key.pem", "-out", "leaf.csr"]].concat(), &dir);
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    openssl(
        &["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "leaf.ext", "-out", "cert.pem"],
        &dir,
    );
    (dir.clone(), dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"))
}

fn start(tag: &str) -> (Relay, PathBuf) {
    let (_dir, ca, cert, key) = certificate(tag);
    let mut config = Config::default();
    config.users.insert("alice".into(), "secret".into());
    config.allow_private = true;
    let tls = polyrtc_relay::tls::load_config(&cert, &key).expect("certificate loads");
    let relay = Relay::start_with("127.0.0.1:0".parse().unwrap(), config, HostOptions { tls: Some(tls), ..HostOptions::default() })
        .expect("relay starts");
    (relay, ca)
}

#[test]
fn turns_with_coturn_uclient() {
    let (relay, _) = start("uclient");
    assert!(relay.urls_json().contains(&format!("\"turns:127.0.0.1:{}?transport=tcp\"", relay.port)));
    assert!(relay.urls_json().contains(&format!("\"wsUrl\":\"wss://127.0.0.1:{}\"", relay.port)));
    let port = relay.port.to_string();
    let out = Command::new("turnutils_uclient")
        .args(["-t", "-S", "-s", "-c", "-y", "-n", "20", "-u", "alice", "-w", "secret", "-p", &port, "127.0.0.1"])
        .output()
        .expect("turnutils_uclient must be installed (Debian package coturn)");
    let out = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.contains("tot_send_msgs=40, tot_recv_msgs=40"), "uclient output:\n{out}");
    assert!(relay.stats().0.allocations_created >= 2);
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A `wss:` connection that verifies the relay's certificate against `ca`, upgraded;
/// with the bytes read past the 101 response.
fn wss(relay: &Relay, ca: &Path) -> (Tls, Vec<u8>) {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca).unwrap();
    use rustls::pki_types::pem::PemObject;
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let req = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: turn\r\n\r\n",
        relay.port
    );
    tls.write_all(req.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut tmp = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut tmp).expect("the upgrade response over TLS");
        assert!(n > 0);
        got.extend_from_slice(&tmp[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&got));
    let end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (tls, got[end..].to_vec())
}

#[test]
fn wss_with_a_verifying_client_and_plain_ws_on_the_same_port() {
    let (relay, ca) = start("wss");
    let (mut tls, mut rest) = wss(&relay, &ca);
    let mut tmp = [0u8; 4096];
    // An unauthenticated Allocate in one masked binary frame: a 401 comes back in one frame.
    let allocate = Message::new(method::ALLOCATE, Class::Request, [9; 12]).encode_with(None, true);
    let mask = [1u8, 2, 3, 4];
    let mut frame = vec![0x82, 0x80 | allocate.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(allocate.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    tls.write_all(&frame).unwrap();
    while rest.len() < 2 || rest.len() < 2 + rest[1] as usize {
        let n = tls.read(&mut tmp).expect("a frame over TLS");
        assert!(n > 0);
        rest.extend_from_slice(&tmp[..n]);
    }
    assert_eq!(rest[0], 0x82);
    let resp = Message::decode(&rest[2..2 + rest[1] as usize]).expect("a STUN response");
    assert_eq!(resp.class, Class::ErrorResponse);
    assert_eq!(resp.transaction_id, [9; 12]);
    assert!(relay.stats().0.auth_failures >= 1);

    // Plain WebSocket on the same port.
    let mut ws = Ws::connect(relay.port);
    ws.send(&Message::new(method::ALLOCATE, Class::Request, [8; 12]).encode_with(None, true));
    let r = Message::decode(&ws.recv()).unwrap();
    assert_eq!(r.transaction_id, [8; 12]);
}

/// One masked binary frame.
fn send_frame(tls: &mut Tls, data: &[u8]) {
    tls.write_all(&common::ws::masked_frame(data, [1, 2, 3, 4])).unwrap();
}

/// The next binary frame's payload.
fn recv_frame(tls: &mut Tls, buf: &mut Vec<u8>) -> Vec<u8> {
    let mut tmp = [0u8; 4096];
    loop {
        if buf.len() >= 2 {
            let (len, off) = match buf[1] & 0x7f {
                126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
                126 => (usize::MAX, 0),
                n => (n as usize, 2),
            };
            if len != usize::MAX && buf.len() >= off + len {
                assert_eq!(buf[0], 0x82);
                let p = buf[off..off + len].to_vec();
                buf.drain(..off + len);
                return p;
            }
        }
        let n = tls.read(&mut tmp).expect("a frame over TLS");
        assert!(n > 0, "relay closed the connection");
        buf.extend_from_slice(&tmp[..n]);
    }
}

#[test]
fn backed_up_wss_client_gets_drops_not_a_queue() {
    let (relay, ca) = start("backpressure");
    let (mut tls, mut buf) = wss(&relay, &ca);
    let mut c = Client::new(ClientId(1), "alice", "secret");
    let request = |tls: &mut Tls, buf: &mut Vec<u8>, c: &mut Client, m, attrs| {
        let tid = c.next_tid();
        send_frame(tls, &c.build(m, tid, attrs));
        let r = Message::decode(&recv_frame(tls, buf)).expect("a STUN response");
        assert_eq!(r.transaction_id, tid);
        r
    };
    let transport = || vec![wire::other(tattr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])];
    let r = request(&mut tls, &mut buf, &mut c, method::ALLOCATE, transport());
    c.realm = String::from_utf8(other(&r, attr::REALM).unwrap().to_vec()).unwrap();
    c.nonce = Some(String::from_utf8(other(&r, attr::NONCE).unwrap().to_vec()).unwrap());
    let r = request(&mut tls, &mut buf, &mut c, method::ALLOCATE, transport());
    assert_eq!(r.class, Class::SuccessResponse, "{r:?}");
    let relayed = wire::decode_xor_address(other(&r, tattr::XOR_RELAYED_ADDRESS).unwrap(), &r.transaction_id).unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tid = c.next_tid();
    let r = request(&mut tls, &mut buf, &mut c, method::CREATE_PERMISSION, vec![xor_peer(&peer.local_addr().unwrap().to_string(), &tid)]);
    assert_eq!(r.class, Class::SuccessResponse, "{r:?}");
    // The client stops reading; the peer floods until the relay drops.
    common::flood_until_backpressure(&relay, &peer, relayed);
    // The relay still answers other clients, over TLS too.
    let (mut tls2, mut buf2) = wss(&relay, &ca);
    let mut c2 = Client::new(ClientId(2), "alice", "secret");
    assert_eq!(code(&request(&mut tls2, &mut buf2, &mut c2, method::ALLOCATE, transport())), Some(401));
    drop(tls);
}
