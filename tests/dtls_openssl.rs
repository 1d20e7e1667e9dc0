//! Interop against the `openssl` command line tool over real UDP on loopback.
//! Needs the `openssl` command (Debian's package; scripts/setup-tests.sh installs it):
//! `cargo test --test dtls_openssl -- --nocapture` shows OpenSSL's side too.
//!
//! The clock here is virtual (advanced by each socket read timeout), so no system clock is
//! read even in tests.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use polyrtc::dtls::*;
use polyrtc::crypto::{Certificate, Fingerprint, Rng};
use polyrtc::Time;

const TICK_MS: u64 = 20;

struct Openssl {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Openssl {
    fn spawn(args: &[&str]) -> Openssl {
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl");
        let output = Arc::new(Mutex::new(String::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let out = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    out.lock().unwrap().push_str(&(line + "\n"));
                }
            });
        }
        Openssl { child, output }
    }

    fn write_line(&mut self, s: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(s.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

impl Drop for Openssl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Generates an ECDSA P-256 (or, with `rsa`, an RSA 2048) key and self-signed certificate
/// with openssl; returns (cert path, key path, DER).
fn openssl_cert(dir: &std::path::Path, rsa: bool) -> (String, String, Vec<u8>) {
    let key = dir.join("k.pem");
    let cert = dir.join("c.pem");
    let der = dir.join("c.der");
    let run = |args: &[&str]| {
        let st = Command::new("openssl").args(args).stderr(Stdio::null()).status().unwrap();
        assert!(st.success(), "{args:?}");
    };
    if rsa {
        run(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key.to_str().unwrap()]);
    } else {
        run(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key.to_str().unwrap()]);
    }
    run(&["req", "-new", "-x509", "-key", key.to_str().unwrap(), "-out", cert.to_str().unwrap(), "-days", "30", "-subj", "/CN=openssl"]);
    run(&["x509", "-in", cert.to_str().unwrap(), "-outform", "der", "-out", der.to_str().unwrap()]);
    (cert.to_str().unwrap().to_string(), key.to_str().unwrap().to_string(), std::fs::read(der).unwrap())
}

/// Runs one connection over a UDP socket until `done` or `max_ms` of idle virtual time.
fn drive(
    conn: &mut DtlsConnection,
    sock: &UdpSocket,
    peer: &mut Option<SocketAddr>,
    now: &mut Time,
    events: &mut Vec<DtlsEvent>,
    mut done: impl FnMut(&[DtlsEvent]) -> bool,
    max_ms: u64,
) {
    sock.set_read_timeout(Some(Duration::from_millis(TICK_MS))).unwrap();
    let mut waited = 0;
    let mut buf = vec![0u8; 65536];
    loop {
        while let Some(d) = conn.poll_transmit() {
            if let Some(p) = peer {
                sock.send_to(&d, *p).unwrap();
            }
        }
        while let Some(e) = conn.poll_event() {
            events.push(e);
        }
        if done(events) || waited > max_ms {
            return;
        }
        match sock.recv_from(&mut buf) {
            Ok((n, from)) => {
                peer.get_or_insert(from);
                let _ = conn.handle_datagram(*now, &buf[..n]);
            }
            Err(_) => {
                *now += Duration::from_millis(TICK_MS);
                waited += TICK_MS;
                conn.handle_timeout(*now);
            }
        }
    }
}

fn keying_material(output: &str) -> Option<Vec<u8>> {
    let line = output.lines().find(|l| l.contains("Keying material:"))?;
    let hex = line.split(':').nth(1)?.trim();
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

fn have_openssl() -> bool {
    Command::new("openssl").arg("version").stdout(Stdio::null()).status().map(|s| s.success()).unwrap_or(false)
}

fn interop_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("polyrtc-dtls-interop-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SUITES: [(&str, CipherSuite); 3] = [
    ("ECDHE-ECDSA-AES128-GCM-SHA256", CipherSuite::ECDHE_ECDSA_AES_128_GCM_SHA256),
    ("ECDHE-ECDSA-AES256-GCM-SHA384", CipherSuite::ECDHE_ECDSA_AES_256_GCM_SHA384),
    ("ECDHE-ECDSA-CHACHA20-POLY1305", CipherSuite::ECDHE_ECDSA_CHACHA20_POLY1305_SHA256),
];

const RSA_SUITES: [(&str, CipherSuite); 3] = [
    ("ECDHE-RSA-AES128-GCM-SHA256", CipherSuite::ECDHE_RSA_AES_128_GCM_SHA256),
    ("ECDHE-RSA-AES256-GCM-SHA384", CipherSuite::ECDHE_RSA_AES_256_GCM_SHA384),
    ("ECDHE-RSA-CHACHA20-POLY1305", CipherSuite::ECDHE_RSA_CHACHA20_POLY1305_SHA256),
];

/// OpenSSL signature algorithm lists for the RSA peer: PSS, PKCS#1 v1.5, SHA-384/512.
const RSA_SIGALGS: [&str; 4] = ["RSA-PSS+SHA256", "RSA+SHA256", "RSA+SHA384", "RSA-PSS+SHA512"];

#[test]
fn polyrtc_client_against_openssl_server() {
    client_cases(&SUITES, &["X25519:P-256", "P-256"], 1200, false, &[""]);
}

#[test]
fn polyrtc_client_against_openssl_server_small_mtu() {
    client_cases(&SUITES[..1], &["P-256"], 300, false, &[""]);
}

/// The server has an RSA certificate: ECDHE_RSA suites, every RSA signature scheme.
#[test]
fn polyrtc_client_against_openssl_server_rsa() {
    client_cases(&RSA_SUITES, &["X25519:P-256"], 1200, true, &RSA_SIGALGS);
    client_cases(&RSA_SUITES[..1], &["P-256"], 300, true, &[""]);
}

fn client_cases(suites: &[(&str, CipherSuite)], group_sets: &[&str], mtu: usize, rsa: bool, sigalg_sets: &[&str]) {
    assert!(have_openssl(), "the openssl command line tool is missing (scripts/setup-tests.sh installs Debian's openssl)");
    let dir = interop_dir(if rsa { "client-rsa" } else { "client" });
    let (cert_pem, key_pem, der) = openssl_cert(&dir, rsa);
    let mtu_s = mtu.to_string();
    for (i, (name, suite)) in suites.iter().enumerate() {
        for (&groups, &sigalgs) in group_sets.iter().flat_map(|g| sigalg_sets.iter().map(move |s| (g, s))) {
            let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
            let port = probe.local_addr().unwrap().port();
            drop(probe);
            let mut server = Openssl::spawn(&[
                "s_server", "-dtls1_2", "-accept", &format!("127.0.0.1:{port}"), "-cert", &cert_pem, "-key", &key_pem,
                "-Verify", "1", "-cipher", name, "-groups", groups, "-use_srtp", "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
                "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60", "-mtu", &mtu_s,
                "-sigalgs", if sigalgs.is_empty() { "ECDSA+SHA256:RSA-PSS+SHA256:RSA+SHA256" } else { sigalgs },
                // What the CertificateRequest asks for (our certificate is ECDSA).
                "-client_sigalgs", "ECDSA+SHA256",
            ]);
            std::thread::sleep(Duration::from_millis(400));
            let ours = Arc::new(Certificate::generate(&mut Rng::seeded(i as u64), 1_700_000_000, 1_900_000_000).unwrap());
            let fp = Fingerprint::of_der("sha-256", &der).unwrap();
            // Only the suite under test: connecting proves it was negotiated.
            let config = DtlsConfig { mtu, cipher_suites: vec![*suite], ..DtlsConfig::default() };
            let mut conn = DtlsConnection::new(DtlsRole::Client, ours, vec![fp], config, Rng::seeded(7 + i as u64));
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut peer = Some(SocketAddr::from(([127, 0, 0, 1], port)));
            let mut now = Time::from_millis(1);
            let mut events = Vec::new();
            conn.start(now);
            drive(&mut conn, &sock, &mut peer, &mut now, &mut events, |e| !e.is_empty(), 10_000);
            assert!(conn.is_connected(), "{name}/{groups}: {events:?}\n{}", server.output());
            assert!(matches!(events[0], DtlsEvent::Connected { srtp_profile: Some(SRTP_AEAD_AES_128_GCM), .. }));
            conn.send(b"hello from polyrtc\n").unwrap();
            server.write_line("hello from openssl");
            drive(&mut conn, &sock, &mut peer, &mut now, &mut events, |e| e.len() >= 2, 5_000);
            assert!(
                events.iter().any(|e| matches!(e, DtlsEvent::ApplicationData(d) if d.starts_with(b"hello from openssl"))),
                "{events:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
            let out = server.output();
            assert!(out.contains("hello from polyrtc"), "{out}");
            let km = keying_material(&out).expect("keying material");
            assert_eq!(conn.export_keying_material(b"EXTRACTOR-dtls_srtp", 60).unwrap(), km);
            conn.close();
            drive(&mut conn, &sock, &mut peer, &mut now, &mut events, |_| false, 200);
            eprintln!("client vs openssl s_server: {name} {groups} {sigalgs} mtu {mtu} OK");
        }
    }
}

#[test]
fn openssl_client_against_polyrtc_server() {
    server_cases(&SUITES, &["X25519:P-256", "P-256"], 1200, false, &[""]);
}

#[test]
fn openssl_client_against_polyrtc_server_small_mtu() {
    server_cases(&SUITES[..1], &["P-256"], 300, false, &[""]);
}

/// The client has an RSA certificate: our ECDSA suites, its CertificateVerify with every RSA
/// signature scheme.
#[test]
fn openssl_client_against_polyrtc_server_rsa() {
    server_cases(&SUITES[..1], &["X25519:P-256"], 1200, true, &RSA_SIGALGS);
    server_cases(&SUITES[1..], &["P-256"], 300, true, &[""]);
}

fn server_cases(suites: &[(&str, CipherSuite)], group_sets: &[&str], mtu: usize, rsa: bool, sigalg_sets: &[&str]) {
    assert!(have_openssl(), "the openssl command line tool is missing (scripts/setup-tests.sh installs Debian's openssl)");
    let dir = interop_dir(if rsa { "server-rsa" } else { "server" });
    let (cert_pem, key_pem, der) = openssl_cert(&dir, rsa);
    let mtu_s = mtu.to_string();
    for (i, (name, suite)) in suites.iter().enumerate() {
        for (&groups, &sigalgs) in group_sets.iter().flat_map(|g| sigalg_sets.iter().map(move |s| (g, s))) {
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            let port = sock.local_addr().unwrap().port();
            let ours = Arc::new(Certificate::generate(&mut Rng::seeded(i as u64), 1_700_000_000, 1_900_000_000).unwrap());
            let fp = Fingerprint::of_der("sha-256", &der).unwrap();
            // Only the suite under test: connecting proves it was negotiated.
            let config = DtlsConfig { mtu, cipher_suites: vec![*suite], ..DtlsConfig::default() };
            let mut conn = DtlsConnection::new(DtlsRole::Server, ours, vec![fp], config, Rng::seeded(9 + i as u64));
            let mut client = Openssl::spawn(&[
                "s_client", "-dtls1_2", "-connect", &format!("127.0.0.1:{port}"), "-cert", &cert_pem, "-key", &key_pem,
                "-cipher", name, "-groups", groups, "-use_srtp", "SRTP_AES128_CM_SHA1_80",
                "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60", "-mtu", &mtu_s,
                "-client_sigalgs", if sigalgs.is_empty() { "ECDSA+SHA256:RSA-PSS+SHA256:RSA+SHA256" } else { sigalgs },
            ]);
            let mut peer = None;
            let mut now = Time::from_millis(1);
            let mut events = Vec::new();
            conn.start(now);
            drive(&mut conn, &sock, &mut peer, &mut now, &mut events, |e| !e.is_empty(), 10_000);
            assert!(conn.is_connected(), "{name}/{groups}: {events:?}\n{}", client.output());
            assert!(matches!(events[0], DtlsEvent::Connected { srtp_profile: Some(SRTP_AES128_CM_HMAC_SHA1_80), .. }));
            client.write_line("hello from openssl");
            drive(&mut conn, &sock, &mut peer, &mut now, &mut events, |e| e.len() >= 2, 5_000);
            assert!(
                events.iter().any(|e| matches!(e, DtlsEvent::ApplicationData(d) if d.starts_with(b"hello from openssl"))),
                "{events:?}"
            );
            conn.send(b"hello from polyrtc\n").unwrap();
            drive(&mut conn, &sock, &mut peer, &mut now, &mut events, |_| false, 300);
            let out = client.output();
            assert!(out.contains("hello from polyrtc"), "{out}");
            let km = keying_material(&out).expect("keying material");
            assert_eq!(conn.export_keying_material(b"EXTRACTOR-dtls_srtp", 60).unwrap(), km);
            conn.close();
            drive(&mut conn, &sock, &mut peer, &mut now, &mut events, |e| e.contains(&DtlsEvent::Closed), 300);
            eprintln!("openssl s_client vs server: {name} {groups} {sigalgs} mtu {mtu} OK");
        }
    }
}
