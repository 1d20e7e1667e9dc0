use std::sync::Arc;
use std::time::Duration;

use super::wire::*;
use super::*;
use crate::crypto::{Certificate, Fingerprint, KeyExchangeGroup, Rng};
use crate::time::Time;

fn cert(seed: u64) -> Arc<Certificate> {
    Arc::new(Certificate::generate(&mut Rng::seeded(seed), 1_700_000_000, 1_800_000_000).unwrap())
}

/// Two connections over an in-memory network with a virtual clock.
struct Pair {
    client: DtlsConnection,
    server: DtlsConnection,
    now: Time,
    net: Rng,
    loss_percent: u64,
    /// Max extra random delay per datagram (reordering).
    jitter_ms: u64,
    latency_ms: u64,
    in_flight: Vec<(Time, bool, Vec<u8>)>,
    client_events: Vec<DtlsEvent>,
    server_events: Vec<DtlsEvent>,
    /// Every datagram sent, (to_server, bytes).
    log: Vec<(bool, Vec<u8>)>,
    max_datagram: usize,
    /// Drop everything the server sends.
    blackhole_server: bool,
}

impl Pair {
    fn new(cc: DtlsConfig, sc: DtlsConfig) -> Pair {
        let (ccert, scert) = (cert(1), cert(2));
        Pair::with_fingerprints(cc, sc, ccert.clone(), scert.clone(), vec![scert.fingerprint()], vec![ccert.fingerprint()])
    }

    fn with_fingerprints(
        cc: DtlsConfig,
        sc: DtlsConfig,
        ccert: Arc<Certificate>,
        scert: Arc<Certificate>,
        client_expects: Vec<Fingerprint>,
        server_expects: Vec<Fingerprint>,
    ) -> Pair {
        Pair {
            client: DtlsConnection::new(DtlsRole::Client, ccert, client_expects, cc, Rng::seeded(10)),
            server: DtlsConnection::new(DtlsRole::Server, scert, server_expects, sc, Rng::seeded(20)),
            now: Time::from_millis(1000),
            net: Rng::seeded(30),
            loss_percent: 0,
            jitter_ms: 0,
            latency_ms: 10,
            in_flight: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            log: Vec::new(),
            max_datagram: 0,
            blackhole_server: false,
        }
    }

    fn collect(&mut self) {
        while let Some(d) = self.client.poll_transmit() {
            self.enqueue(true, d);
        }
        while let Some(d) = self.server.poll_transmit() {
            if !self.blackhole_server {
                self.enqueue(false, d);
            }
        }
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
        }
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
    }

    fn enqueue(&mut self, to_server: bool, d: Vec<u8>) {
        self.max_datagram = self.max_datagram.max(d.len());
        self.log.push((to_server, d.clone()));
        if self.net.below(100) < self.loss_percent {
            return;
        }
        let delay = self.latency_ms + if self.jitter_ms > 0 { self.net.below(self.jitter_ms) } else { 0 };
        self.in_flight.push((self.now + Duration::from_millis(delay), to_server, d));
    }

    /// Runs until `done` or idle; bounded.
    fn run_until(&mut self, done: impl Fn(&Pair) -> bool) {
        self.run_tampered(&mut |_, d| d, done);
    }

    fn handshake(&mut self) {
        self.client.start(self.now);
        self.server.start(self.now);
        self.run_until(|p| p.client.is_connected() && p.server.is_connected());
        assert!(self.client.is_connected(), "client events {:?}", self.client_events);
        assert!(self.server.is_connected(), "server events {:?}", self.server_events);
    }
}

fn app_data(events: &[DtlsEvent]) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            DtlsEvent::ApplicationData(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

fn connected_profile(events: &[DtlsEvent]) -> Option<Option<u16>> {
    events.iter().find_map(|e| match e {
        DtlsEvent::Connected { srtp_profile, .. } => Some(*srtp_profile),
        _ => None,
    })
}

fn exchange_data(p: &mut Pair) {
    p.client.send(b"hello server").unwrap();
    p.server.send(b"hello client").unwrap();
    let big = vec![7u8; MAX_APPLICATION_DATA];
    p.client.send(&big).unwrap();
    p.run_until(|p| app_data(&p.server_events).len() == 2 && app_data(&p.client_events).len() == 1);
    assert_eq!(app_data(&p.server_events), vec![b"hello server".to_vec(), big]);
    assert_eq!(app_data(&p.client_events), vec![b"hello client".to_vec()]);
}

#[test]
fn handshake_data_and_exporter() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.handshake();
    assert_eq!(connected_profile(&p.client_events), Some(Some(SRTP_AEAD_AES_128_GCM)));
    assert_eq!(connected_profile(&p.server_events), Some(Some(SRTP_AEAD_AES_128_GCM)));
    // Each side reports the other's certificate.
    let peer_of_client = p.client_events.iter().find_map(|e| match e {
        DtlsEvent::Connected { peer_certificate, .. } => Some(peer_certificate.clone()),
        _ => None,
    });
    assert_eq!(peer_of_client.unwrap(), cert(2).der());
    exchange_data(&mut p);
    let a = p.client.export_keying_material(b"EXTRACTOR-dtls_srtp", 60).unwrap();
    let b = p.server.export_keying_material(b"EXTRACTOR-dtls_srtp", 60).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 60);
    assert_ne!(a, p.client.export_keying_material(b"other", 60).unwrap());
    assert_eq!(p.client.export_keying_material(b"master secret", 8), Err(DtlsError::InvalidExport));
    assert_eq!(p.client.send(&vec![0; MAX_APPLICATION_DATA + 1]), Err(DtlsError::MessageTooLarge));
    assert_eq!(p.client.poll_timeout(), None);
    assert_eq!(p.server.poll_timeout(), None);
}

#[test]
fn every_cipher_suite_and_group() {
    for suite in [
        CipherSuite::ECDHE_ECDSA_AES_128_GCM_SHA256,
        CipherSuite::ECDHE_ECDSA_AES_256_GCM_SHA384,
        CipherSuite::ECDHE_ECDSA_CHACHA20_POLY1305_SHA256,
    ] {
        for group in [KeyExchangeGroup::X25519, KeyExchangeGroup::P256] {
            let cc = DtlsConfig { cipher_suites: vec![suite], groups: vec![group], ..DtlsConfig::default() };
            let mut p = Pair::new(cc, DtlsConfig::default());
            p.handshake();
            exchange_data(&mut p);
            assert_eq!(
                p.client.export_keying_material(b"EXTRACTOR-dtls_srtp", 32).unwrap(),
                p.server.export_keying_material(b"EXTRACTOR-dtls_srtp", 32).unwrap()
            );
        }
    }
}

#[test]
fn srtp_profile_negotiation() {
    let cc = DtlsConfig { srtp_profiles: vec![SRTP_AES128_CM_HMAC_SHA1_80], ..DtlsConfig::default() };
    let mut p = Pair::new(cc, DtlsConfig::default());
    p.handshake();
    assert_eq!(connected_profile(&p.client_events), Some(Some(SRTP_AES128_CM_HMAC_SHA1_80)));
    let cc = DtlsConfig { srtp_profiles: vec![], ..DtlsConfig::default() };
    let mut p = Pair::new(cc, DtlsConfig::default());
    p.handshake();
    assert_eq!(connected_profile(&p.server_events), Some(None));
}

#[test]
fn no_common_suite_fails_with_handshake_failure() {
    let cc = DtlsConfig { cipher_suites: vec![CipherSuite::ECDHE_ECDSA_CHACHA20_POLY1305_SHA256], ..DtlsConfig::default() };
    let sc = DtlsConfig { cipher_suites: vec![CipherSuite::ECDHE_ECDSA_AES_128_GCM_SHA256], ..DtlsConfig::default() };
    let mut p = Pair::new(cc, sc);
    p.client.start(p.now);
    p.run_until(|p| !p.client_events.is_empty() && !p.server_events.is_empty());
    assert_eq!(p.server_events, vec![DtlsEvent::Failed(DtlsError::HandshakeFailure)]);
    assert_eq!(
        p.client_events,
        vec![DtlsEvent::Failed(DtlsError::PeerAlert(AlertDescription::HANDSHAKE_FAILURE))]
    );
}

#[test]
fn lossy_reordering_network_still_connects() {
    let seeds: u64 = std::env::var("DTLS_LOSS_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    for seed in 0..seeds {
        let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
        p.net = Rng::seeded(100 + seed);
        p.loss_percent = 30;
        p.jitter_ms = 80;
        p.handshake();
        assert!(p.client.stats().retransmissions + p.server.stats().retransmissions > 0 || seed > 0);
        // Data still flows (with retries by the "application").
        for _ in 0..20 {
            p.client.send(b"ping").unwrap();
        }
        p.run_until(|p| !app_data(&p.server_events).is_empty());
        assert!(!app_data(&p.server_events).is_empty());
    }
}

#[test]
fn small_mtu_forces_fragmentation() {
    let cc = DtlsConfig { mtu: 300, ..DtlsConfig::default() };
    let sc = DtlsConfig { mtu: 300, ..DtlsConfig::default() };
    let mut p = Pair::new(cc, sc);
    p.handshake();
    assert!(p.max_datagram <= 300, "{}", p.max_datagram);
    // The certificate (> 300 bytes with headers) must have been fragmented.
    let fragments = p
        .log
        .iter()
        .filter(|(_, d)| {
            let mut r = Reader::new(d);
            let mut found = false;
            while let Ok((h, body)) = RecordHeader::decode(&mut r) {
                if h.epoch == 0 && h.content_type == content_type::HANDSHAKE {
                    if let Ok((hh, _)) = HandshakeHeader::decode(&mut Reader::new(body)) {
                        found |= hh.fragment_length < hh.length;
                    }
                }
            }
            found
        })
        .count();
    assert!(fragments > 0);
    exchange_data(&mut p);
}

#[test]
fn small_mtu_with_loss() {
    for seed in 0..4 {
        let cc = DtlsConfig { mtu: 300, ..DtlsConfig::default() };
        let sc = DtlsConfig { mtu: 300, ..DtlsConfig::default() };
        let mut p = Pair::new(cc, sc);
        p.net = Rng::seeded(200 + seed);
        p.loss_percent = 20;
        p.jitter_ms = 50;
        p.handshake();
    }
}

#[test]
fn wrong_fingerprint_fails_and_delivers_nothing() {
    let (ccert, scert) = (cert(1), cert(2));
    let wrong = cert(3).fingerprint();
    // The client expects another server certificate.
    let mut p = Pair::with_fingerprints(
        DtlsConfig::default(),
        DtlsConfig::default(),
        ccert.clone(),
        scert.clone(),
        vec![wrong.clone()],
        vec![ccert.fingerprint()],
    );
    p.client.start(p.now);
    p.run_until(|p| !p.client_events.is_empty() && !p.server_events.is_empty());
    assert_eq!(p.client_events, vec![DtlsEvent::Failed(DtlsError::FingerprintMismatch)]);
    assert!(!p.client.is_connected() && !p.server.is_connected());
    assert_eq!(p.client.send(b"x"), Err(DtlsError::NotConnected));
    assert!(app_data(&p.server_events).is_empty());
    assert!(p.server_events.iter().all(|e| !matches!(e, DtlsEvent::Connected { .. })));

    // The server expects another client certificate: the server fails; the client, which
    // may already have sent Finished, never connects.
    let mut p = Pair::with_fingerprints(
        DtlsConfig::default(),
        DtlsConfig::default(),
        ccert,
        scert.clone(),
        vec![scert.fingerprint()],
        vec![wrong],
    );
    p.client.start(p.now);
    p.run_until(|p| !p.client_events.is_empty() && !p.server_events.is_empty());
    assert_eq!(p.server_events, vec![DtlsEvent::Failed(DtlsError::FingerprintMismatch)]);
    assert!(p.client_events.iter().all(|e| !matches!(e, DtlsEvent::Connected { .. })));
    assert!(app_data(&p.client_events).is_empty());
}

#[test]
fn other_fingerprint_algorithms_match() {
    let (ccert, scert) = (cert(1), cert(2));
    let mut p = Pair::with_fingerprints(
        DtlsConfig::default(),
        DtlsConfig::default(),
        ccert.clone(),
        scert.clone(),
        vec![cert(9).fingerprint(), Fingerprint::of_der("sha-384", scert.der()).unwrap()],
        vec![Fingerprint::of_der("sha-512", ccert.der()).unwrap()],
    );
    p.handshake();
}

#[test]
fn replayed_records_are_dropped() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.handshake();
    p.client.send(b"once").unwrap();
    let d = p.client.poll_transmit().unwrap();
    p.server.handle_datagram(p.now, &d).unwrap();
    p.server.handle_datagram(p.now, &d).unwrap();
    p.collect();
    assert_eq!(app_data(&p.server_events), vec![b"once".to_vec()]);
    assert_eq!(p.server.stats().records_replayed, 1);
    // A tampered record fails authentication and is dropped and counted.
    p.client.send(b"twice").unwrap();
    let mut d = p.client.poll_transmit().unwrap();
    let last = d.len() - 1;
    d[last] ^= 1;
    p.server.handle_datagram(p.now, &d).unwrap();
    assert_eq!(p.server.stats().records_auth_failed, 1);
    // A record of an unknown epoch is dropped and counted.
    let mut d2 = d.clone();
    d2[3] = 0;
    d2[4] = 7;
    p.server.handle_datagram(p.now, &d2).unwrap();
    assert_eq!(p.server.stats().records_wrong_epoch, 1);
    assert!(p.server.is_connected());
}

#[test]
fn replay_window_slides() {
    let mut w = ReplayWindow::default();
    assert!(w.check(5));
    w.update(5);
    assert!(!w.check(5));
    assert!(w.check(4));
    w.update(100);
    assert!(!w.check(5)); // too old now
    assert!(w.check(99));
    assert!(w.check(100 - 63));
    assert!(!w.check(100 - 64));
    w.update(99);
    assert!(!w.check(99));
    w.update(1000);
    assert!(w.check(999));
}

#[test]
fn close_notify_both_ways() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.handshake();
    p.client.close();
    p.run_until(|p| p.server_events.contains(&DtlsEvent::Closed));
    assert!(p.client_events.contains(&DtlsEvent::Closed));
    assert!(p.server_events.contains(&DtlsEvent::Closed));
    assert_eq!(p.server.send(b"x"), Err(DtlsError::NotConnected));

    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.handshake();
    p.server.close();
    p.run_until(|p| p.client_events.contains(&DtlsEvent::Closed));
    assert!(p.client_events.contains(&DtlsEvent::Closed));
    assert_eq!(p.client.send(b"x"), Err(DtlsError::NotConnected));
}

#[test]
fn handshake_timeout_fails() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.blackhole_server = true;
    let start = p.now;
    p.client.start(p.now);
    p.run_until(|p| !p.client_events.is_empty());
    assert_eq!(p.client_events, vec![DtlsEvent::Failed(DtlsError::HandshakeTimeout)]);
    let elapsed = p.now - start;
    assert!(elapsed >= Duration::from_secs(30) && elapsed < Duration::from_secs(31), "{elapsed:?}");
    // Retransmitted with back-off: 0.5 + 1 + 2 + 4 + 8 + 16 s.
    let stats = p.client.stats();
    assert_eq!(stats.retransmissions, 5);
    assert_eq!(p.client.poll_timeout(), None);
}

#[test]
fn early_timeout_is_harmless() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.client.start(p.now);
    let first = p.client.poll_transmit().unwrap();
    p.client.handle_timeout(p.now);
    assert!(p.client.poll_transmit().is_none());
    let again = p.client.poll_timeout().unwrap();
    p.client.handle_timeout(again);
    assert_eq!(p.client.poll_transmit().unwrap().len(), first.len());
}

/// Captures every datagram of a clean handshake and data exchange.
fn captured() -> Vec<(bool, Vec<u8>)> {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.handshake();
    exchange_data(&mut p);
    p.client.close();
    p.run_until(|p| p.server_events.contains(&DtlsEvent::Closed));
    p.log
}

#[test]
fn handshake_messages_round_trip() {
    let log = captured();
    let mut seen = std::collections::HashSet::new();
    for (_, d) in &log {
        let mut r = Reader::new(d);
        while !r.is_empty() {
            let (h, body) = RecordHeader::decode(&mut r).unwrap();
            let mut enc = Vec::new();
            h.encode(&mut enc);
            enc.extend_from_slice(body);
            let mut r2 = Reader::new(&enc);
            assert_eq!(RecordHeader::decode(&mut r2).unwrap(), (h, body));
            if h.epoch != 0 || h.content_type != content_type::HANDSHAKE {
                continue;
            }
            let (hh, msg) = HandshakeHeader::decode(&mut Reader::new(body)).unwrap();
            assert_eq!(hh.fragment_length, hh.length, "default MTU: no fragmentation");
            seen.insert(hh.msg_type);
            let mut out = Vec::new();
            match hh.msg_type {
                handshake_type::CLIENT_HELLO => ClientHello::decode(msg).unwrap().encode(&mut out),
                handshake_type::SERVER_HELLO => ServerHello::decode(msg).unwrap().encode(&mut out),
                handshake_type::HELLO_VERIFY_REQUEST => HelloVerifyRequest::decode(msg).unwrap().encode(&mut out),
                handshake_type::CERTIFICATE => CertificateMsg::decode(msg).unwrap().encode(&mut out),
                handshake_type::SERVER_KEY_EXCHANGE => ServerKeyExchange::decode(msg).unwrap().encode(&mut out),
                handshake_type::CERTIFICATE_REQUEST => CertificateRequest::decode(msg).unwrap().encode(&mut out),
                handshake_type::CLIENT_KEY_EXCHANGE => ClientKeyExchange::decode(msg).unwrap().encode(&mut out),
                handshake_type::CERTIFICATE_VERIFY => CertificateVerify::decode(msg).unwrap().encode(&mut out),
                _ => out.extend_from_slice(msg),
            }
            assert_eq!(out, msg, "type {}", hh.msg_type);
        }
    }
    for t in [1u8, 2, 3, 11, 12, 13, 14, 15, 16] {
        assert!(seen.contains(&t), "missing message type {t}");
    }
}

#[test]
fn extensions_round_trip_with_unknown() {
    let e = Extensions {
        supported_groups: Some(vec![29, 23]),
        ec_point_formats: Some(vec![0]),
        signature_algorithms: Some(vec![0x0403, 0x0804]),
        use_srtp: Some((vec![7, 1], vec![1, 2])),
        extended_master_secret: true,
        renegotiation_info: Some(vec![]),
        unknown: vec![(0x1234, vec![9, 9, 9]), (0x0017 + 100, vec![])],
    };
    let mut out = Vec::new();
    e.encode(&mut out);
    assert_eq!(Extensions::decode(&mut Reader::new(&out)).unwrap(), e);
    // Duplicate extension: rejected.
    let dup = [0, 8, 0, 23, 0, 0, 0, 23, 0, 0];
    assert_eq!(Extensions::decode(&mut Reader::new(&dup)), Err(DtlsError::Decode));
}

#[test]
fn decoders_reject_every_truncation() {
    let log = captured();
    for (_, d) in &log {
        let mut r = Reader::new(d);
        while let Ok((h, body)) = RecordHeader::decode(&mut r) {
            if h.epoch != 0 || h.content_type != content_type::HANDSHAKE {
                continue;
            }
            let (hh, msg) = HandshakeHeader::decode(&mut Reader::new(body)).unwrap();
            for n in 0..msg.len() {
                let m = &msg[..n];
                let bad = match hh.msg_type {
                    handshake_type::CLIENT_HELLO => ClientHello::decode(m).is_err(),
                    handshake_type::SERVER_HELLO => ServerHello::decode(m).is_err(),
                    handshake_type::HELLO_VERIFY_REQUEST => HelloVerifyRequest::decode(m).is_err(),
                    handshake_type::CERTIFICATE => CertificateMsg::decode(m).is_err(),
                    handshake_type::SERVER_KEY_EXCHANGE => ServerKeyExchange::decode(m).is_err(),
                    handshake_type::CERTIFICATE_REQUEST => CertificateRequest::decode(m).is_err(),
                    handshake_type::CLIENT_KEY_EXCHANGE => ClientKeyExchange::decode(m).is_err(),
                    handshake_type::CERTIFICATE_VERIFY => CertificateVerify::decode(m).is_err(),
                    _ => true,
                };
                // A ClientHello / ServerHello cut right before its extensions block is valid.
                let hello_without_ext = matches!(hh.msg_type, 1 | 2) && Extensions::decode(&mut Reader::new(&msg[n..])).is_ok() && n + 2 + usize::from(u16::from_be_bytes([msg[n], msg[n + 1]])) == msg.len();
                assert!(bad || hello_without_ext, "type {} accepted truncation to {n}", hh.msg_type);
            }
            for n in 0..body.len() {
                assert!(HandshakeHeader::decode(&mut Reader::new(&body[..n])).is_err() || n >= HANDSHAKE_HEADER_LEN);
            }
        }
    }
}

/// Feeds mangled datagrams to fresh connections in every role: nothing panics.
#[test]
fn malformed_input_never_panics() {
    let log = captured();
    let mut rng = Rng::seeded(99);
    let fresh = |role: DtlsRole| {
        let (ccert, scert) = (cert(1), cert(2));
        let (mine, theirs) = if role == DtlsRole::Client { (ccert, scert) } else { (scert, ccert) };
        let mut c = DtlsConnection::new(role, mine, vec![theirs.fingerprint()], DtlsConfig::default(), Rng::seeded(5));
        c.start(Time::ZERO);
        c
    };
    let mut client = fresh(DtlsRole::Client);
    let mut server = fresh(DtlsRole::Server);
    let feed = |to_server: bool, d: &[u8], client: &mut DtlsConnection, server: &mut DtlsConnection| {
        let target = if to_server { server } else { client };
        let _ = target.handle_datagram(Time::from_millis(1), d);
        while target.poll_transmit().is_some() {}
        while target.poll_event().is_some() {}
    };
    for (to_server, d) in &log {
        for n in 0..d.len() {
            feed(*to_server, &d[..n], &mut client, &mut server);
        }
    }
    for round in 0..3000 {
        let (to_server, d) = &log[rng.below(log.len() as u64) as usize];
        let mut m = d.clone();
        for _ in 0..=rng.below(4) {
            let pos = rng.below(m.len() as u64) as usize;
            m[pos] ^= 1 << rng.below(8);
        }
        feed(*to_server, &m, &mut client, &mut server);
        let mut junk = vec![0u8; rng.below(200) as usize];
        rng.fill(&mut junk);
        if junk.len() > 3 && round % 2 == 0 {
            junk[0] = 22;
            junk[1] = 0xfe;
            junk[2] = 0xfd;
        }
        feed(round % 3 == 0, &junk, &mut client, &mut server);
        if round % 100 == 0 {
            client = fresh(DtlsRole::Client);
            server = fresh(DtlsRole::Server);
        }
    }
    // Bit-flipped handshakes between two live peers: see
    // `bit_flipped_handshakes_connect_with_equal_keys_or_fail_cleanly`, which asserts the
    // outcome of each.
}

#[test]
fn unexpected_message_is_fatal() {
    // A ServerHelloDone sent to a server waiting for a ClientHello.
    let (c, s) = (cert(1), cert(2));
    let mut server = DtlsConnection::new(DtlsRole::Server, s, vec![c.fingerprint()], DtlsConfig::default(), Rng::seeded(1));
    let mut rec = Vec::new();
    let mut hs = Vec::new();
    encode_handshake(handshake_type::SERVER_HELLO_DONE, 0, &[], &mut hs);
    RecordHeader { content_type: 22, version: DTLS_1_2, epoch: 0, sequence: 0, length: hs.len() as u16 }.encode(&mut rec);
    rec.extend_from_slice(&hs);
    assert_eq!(server.handle_datagram(Time::ZERO, &rec), Err(DtlsError::UnexpectedMessage));
    let alert = server.poll_transmit().unwrap();
    assert_eq!(&alert[alert.len() - 2..], &[2, AlertDescription::UNEXPECTED_MESSAGE.0]);
    assert_eq!(server.poll_event(), Some(DtlsEvent::Failed(DtlsError::UnexpectedMessage)));
}

#[test]
fn client_hello_without_extended_master_secret_is_refused() {
    let (c, s) = (cert(1), cert(2));
    let cfg = DtlsConfig { require_cookie: false, ..DtlsConfig::default() };
    let mut server = DtlsConnection::new(DtlsRole::Server, s, vec![c.fingerprint()], cfg, Rng::seeded(1));
    let ch = ClientHello {
        version: DTLS_1_2,
        random: [1; 32],
        session_id: vec![],
        cookie: vec![],
        cipher_suites: vec![0xc02b],
        compression_methods: vec![0],
        extensions: Extensions { supported_groups: Some(vec![29]), ..Extensions::default() },
    };
    let mut body = Vec::new();
    ch.encode(&mut body);
    let mut hs = Vec::new();
    encode_handshake(handshake_type::CLIENT_HELLO, 0, &body, &mut hs);
    let mut rec = Vec::new();
    RecordHeader { content_type: 22, version: DTLS_1_2, epoch: 0, sequence: 0, length: hs.len() as u16 }.encode(&mut rec);
    rec.extend_from_slice(&hs);
    assert_eq!(server.handle_datagram(Time::ZERO, &rec), Err(DtlsError::HandshakeFailure));
    let alert = server.poll_transmit().unwrap();
    assert_eq!(&alert[alert.len() - 2..], &[2, AlertDescription::HANDSHAKE_FAILURE.0]);
}

#[test]
fn application_data_ahead_of_finished_is_held_until_connected() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.client.start(p.now);
    p.run_until(|p| p.server.is_connected());
    assert!(!p.client.is_connected());
    let flight6: Vec<Vec<u8>> = p.in_flight.iter().filter(|(_, to_server, _)| !to_server).map(|(_, _, d)| d.clone()).collect();
    p.in_flight.clear();
    assert!(!flight6.is_empty());
    p.server.send(b"early").unwrap();
    let early = p.server.poll_transmit().unwrap();
    p.client.handle_datagram(p.now, &early).unwrap();
    p.collect();
    assert!(p.client_events.is_empty());
    for d in flight6 {
        p.client.handle_datagram(p.now, &d).unwrap();
    }
    p.collect();
    assert!(matches!(p.client_events[0], DtlsEvent::Connected { .. }));
    assert_eq!(p.client_events[1], DtlsEvent::ApplicationData(b"early".to_vec()));
}

#[test]
fn server_waits_without_timer_until_first_datagram() {
    let (c, s) = (cert(1), cert(2));
    let mut server = DtlsConnection::new(DtlsRole::Server, s, vec![c.fingerprint()], DtlsConfig::default(), Rng::seeded(1));
    server.start(Time::ZERO);
    assert_eq!(server.poll_timeout(), None);
    server.handle_timeout(Time::from_millis(100_000));
    assert!(server.poll_event().is_none());
    assert!(server.poll_transmit().is_none());
}

#[test]
fn stateless_cookie_exchange() {
    // The first ClientHello is answered by a HelloVerifyRequest and nothing else.
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.client.start(p.now);
    let ch1 = p.client.poll_transmit().unwrap();
    p.server.handle_datagram(p.now, &ch1).unwrap();
    let hvr = p.server.poll_transmit().unwrap();
    assert!(p.server.poll_transmit().is_none());
    // No retransmission timer for a HelloVerifyRequest, only the handshake deadline.
    assert_eq!(p.server.poll_timeout(), Some(p.now + Duration::from_secs(30)));
    let (_, body) = RecordHeader::decode(&mut Reader::new(&hvr)).unwrap();
    let (hh, msg) = HandshakeHeader::decode(&mut Reader::new(body)).unwrap();
    assert_eq!(hh.msg_type, handshake_type::HELLO_VERIFY_REQUEST);
    let cookie = HelloVerifyRequest::decode(msg).unwrap().cookie;
    assert_eq!(cookie.len(), 32);
    // The client resends its hello with the cookie.
    p.client.handle_datagram(p.now, &hvr).unwrap();
    let ch2 = p.client.poll_transmit().unwrap();
    let (_, body) = RecordHeader::decode(&mut Reader::new(&ch2)).unwrap();
    let (hh, msg) = HandshakeHeader::decode(&mut Reader::new(body)).unwrap();
    assert_eq!(hh.message_seq, 1);
    assert_eq!(ClientHello::decode(msg).unwrap().cookie, cookie);
    // A forged cookie gets another HelloVerifyRequest, not a ServerHello.
    let mut forged = ch2.clone();
    let idx = forged.len() - msg.len() + 2 + 32 + 1 + 1; // version, random, session_id len 0, cookie len
    forged[idx] ^= 0xff;
    p.server.handle_datagram(p.now, &forged).unwrap();
    let again = p.server.poll_transmit().unwrap();
    let (_, body) = RecordHeader::decode(&mut Reader::new(&again)).unwrap();
    assert_eq!(HandshakeHeader::decode(&mut Reader::new(body)).unwrap().0.msg_type, handshake_type::HELLO_VERIFY_REQUEST);
    p.server.handle_datagram(p.now, &ch2).unwrap();
    let f4 = p.server.poll_transmit().unwrap();
    let (_, body) = RecordHeader::decode(&mut Reader::new(&f4)).unwrap();
    assert_eq!(HandshakeHeader::decode(&mut Reader::new(body)).unwrap().0.msg_type, handshake_type::SERVER_HELLO);
}

#[test]
fn early_change_cipher_spec_is_not_a_state_change() {
    // A CCS injected before the key exchange is ignored, and the handshake still completes.
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    let mut ccs = Vec::new();
    RecordHeader { content_type: content_type::CHANGE_CIPHER_SPEC, version: DTLS_1_2, epoch: 0, sequence: 99, length: 1 }.encode(&mut ccs);
    ccs.push(1);
    p.server.handle_datagram(p.now, &ccs).unwrap();
    p.client.start(p.now);
    p.client.handle_datagram(p.now, &ccs).unwrap();
    p.handshake();
    assert!(p.server.stats().records_unexpected >= 1);
}

#[test]
fn connection_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<DtlsConnection>();
    assert_send::<DtlsEvent>();
}

#[test]
fn close_before_start_sends_nothing() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.client.close();
    assert!(p.client.poll_transmit().is_none());
    assert_eq!(p.client.poll_event(), Some(DtlsEvent::Closed));
    p.client.start(p.now);
    assert!(p.client.poll_transmit().is_none(), "closed connections do not start");
}

#[test]
fn fingerprints_set_after_the_handshake() {
    let (ccert, scert) = (cert(1), cert(2));
    // Neither side knows the other's fingerprint yet: the handshake finishes but
    // nothing connects, and nothing can be sent.
    let mut p = Pair::with_fingerprints(DtlsConfig::default(), DtlsConfig::default(), ccert.clone(), scert.clone(), vec![], vec![]);
    p.client.start(p.now);
    // HelloVerifyRequest, flight 4, flight 6 sent and delivered.
    p.run_until(|p| p.server.stats().flights_sent == 3 && p.in_flight.is_empty());
    assert!(!p.client.is_connected() && !p.server.is_connected());
    assert!(p.client_events.is_empty() && p.server_events.is_empty(), "{:?} {:?}", p.client_events, p.server_events);
    assert_eq!(p.client.send(b"x"), Err(DtlsError::NotConnected));
    // The handshake deadline stays armed while waiting for the fingerprint.
    assert!(p.client.poll_timeout().is_some());
    p.client.set_remote_fingerprints(vec![scert.fingerprint()]).unwrap();
    p.collect();
    assert!(p.client.is_connected());
    p.client.send(b"before the server knows").unwrap();
    p.run_until(|p| p.client.stats().application_records_sent == 1 && p.in_flight.is_empty());
    assert!(app_data(&p.server_events).is_empty(), "held until the fingerprint is checked");
    p.server.set_remote_fingerprints(vec![ccert.fingerprint()]).unwrap();
    p.collect();
    assert!(p.server.is_connected());
    assert_eq!(app_data(&p.server_events), vec![b"before the server knows".to_vec()]);

    // A late mismatch fails with FingerprintMismatch and delivers nothing.
    let mut p = Pair::with_fingerprints(DtlsConfig::default(), DtlsConfig::default(), ccert.clone(), scert.clone(), vec![scert.fingerprint()], vec![]);
    p.handshake_until_client();
    p.client.send(b"secret").unwrap();
    p.run_until(|p| p.in_flight.is_empty());
    assert!(!p.server.is_connected());
    assert_eq!(p.server.set_remote_fingerprints(vec![cert(7).fingerprint()]), Err(DtlsError::FingerprintMismatch));
    p.collect();
    assert_eq!(p.server_events, vec![DtlsEvent::Failed(DtlsError::FingerprintMismatch)]);
    p.run_until(|p| !p.client_events.iter().all(|e| matches!(e, DtlsEvent::Connected { .. })));
    assert_eq!(
        p.client_events.last(),
        Some(&DtlsEvent::Failed(DtlsError::PeerAlert(AlertDescription::BAD_CERTIFICATE)))
    );
}

impl Pair {
    fn handshake_until_client(&mut self) {
        self.client.start(self.now);
        self.run_until(|p| p.client.is_connected());
        assert!(self.client.is_connected());
    }
}

#[test]
fn roles_swapped() {
    // The certificate that served above now acts as the client.
    let (a, b) = (cert(2), cert(1));
    let mut p = Pair::with_fingerprints(DtlsConfig::default(), DtlsConfig::default(), a.clone(), b.clone(), vec![b.fingerprint()], vec![a.fingerprint()]);
    p.handshake();
    exchange_data(&mut p);
}

#[test]
fn many_records_flow_in_linear_time() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.handshake();
    let payload = vec![0x5a; 1100];
    for round in 0..6 {
        for _ in 0..500 {
            p.client.send(&payload).unwrap();
            p.server.send(&payload).unwrap();
        }
        // Events: Connected + data (counted without cloning, to keep the harness linear).
        let want = 1 + 500 * (round + 1);
        p.run_until(|p| p.server_events.len() == want && p.client_events.len() == want);
        assert_eq!(p.server_events.len(), want);
    }
    assert_eq!(p.server.stats().application_records_received, 3_000);
    assert_eq!(p.client.stats().records_replayed, 0);
}

#[test]
fn direct_record_throughput_smoke() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.handshake();
    let payload = vec![0x5a; 1100];
    let mut n = 0;
    for _ in 0..2_000 {
        p.client.send(&payload).unwrap();
        let d = p.client.poll_transmit().unwrap();
        p.server.handle_datagram(p.now, &d).unwrap();
        while let Some(DtlsEvent::ApplicationData(x)) = p.server.poll_event() {
            n += x.len();
        }
    }
    assert_eq!(n, 2_200_000);
}

#[test]
fn connected_peer_survives_garbage() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.handshake();
    p.client.send(b"model").unwrap();
    let good = p.client.poll_transmit().unwrap();
    let mut rng = Rng::seeded(77);
    for i in 0..3000 {
        let mut m = good.clone();
        if i % 2 == 0 {
            let pos = rng.below(m.len() as u64) as usize;
            m[pos] ^= 1 << rng.below(8);
        } else {
            m.truncate(rng.below(m.len() as u64) as usize);
        }
        // Bit flips in the header may hit content type / epoch / length: all dropped
        // unless they only touch the (authenticated) sequence number copy.
        let _ = p.server.handle_datagram(p.now, &m);
    }
    p.collect();
    assert!(p.server.is_connected());
    assert!(app_data(&p.server_events).len() <= 1);
    p.server.handle_datagram(p.now, &good).unwrap();
    p.client.send(b"after").unwrap();
    p.run_until(|p| app_data(&p.server_events).contains(&b"after".to_vec()));
}

#[test]
fn reassembly_handles_overlap_and_reordering() {
    use super::flight::Partial;
    let msg: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    let mut p = Partial { msg_type: 11, epoch: 0, data: vec![0; 1000], ranges: Vec::new() };
    assert!(p.insert(500, &msg[500..800]));
    assert!(p.insert(100, &msg[100..200]));
    assert!(!p.complete());
    assert!(p.insert(150, &msg[150..600]));
    assert!(p.insert(800, &msg[800..1000]));
    assert_eq!(p.ranges, vec![(100, 1000)]);
    assert!(!p.insert(990, &msg[0..20]), "past the end");
    assert!(p.insert(0, &msg[0..100]));
    assert!(p.complete());
    assert_eq!(p.data, msg);
    // The range list is bounded.
    let mut q = Partial { msg_type: 11, epoch: 0, data: vec![0; 1000], ranges: Vec::new() };
    let mut ok = true;
    for i in 0..200 {
        ok &= q.insert(i * 4, &[1]);
    }
    assert!(!ok);
    assert!(q.ranges.len() <= MAX_FRAGMENT_RANGES);
}

#[test]
fn packed_flights_fit_every_mtu_and_reassemble() {
    use super::flight::{pack_flight, FlightItem, Partial};
    use super::record::RecordWriter;
    let body: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    for mtu in [90usize, 150, 300, 576, 1200, 1500] {
        let flight = vec![
            FlightItem::Handshake { epoch: 0, msg_type: 11, seq: 3, body: body.clone() },
            FlightItem::Handshake { epoch: 0, msg_type: 14, seq: 4, body: vec![] },
            FlightItem::ChangeCipherSpec,
        ];
        let mut out = std::collections::VecDeque::new();
        pack_flight(&flight, &mut RecordWriter::default(), mtu, &mut out).unwrap();
        let mut p = Partial { msg_type: 11, epoch: 0, data: vec![0; body.len()], ranges: Vec::new() };
        let (mut done14, mut ccs) = (false, false);
        let limit = mtu.max(RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + 64);
        for d in &out {
            assert!(d.len() <= limit, "mtu {mtu}: {}", d.len());
            let mut r = Reader::new(d);
            while !r.is_empty() {
                let (h, frag) = RecordHeader::decode(&mut r).unwrap();
                if h.content_type == content_type::CHANGE_CIPHER_SPEC {
                    ccs = true;
                    continue;
                }
                let (hh, part) = HandshakeHeader::decode(&mut Reader::new(frag)).unwrap();
                if hh.msg_type == 14 {
                    done14 = hh.length == 0;
                } else {
                    assert!(p.insert(hh.fragment_offset as usize, part));
                }
            }
        }
        assert!(p.complete() && p.data == body && done14 && ccs, "mtu {mtu}");
    }
}

#[test]
fn fuzz_helper_on_captures_and_noise() {
    let log = captured();
    let mut rng = Rng::seeded(4242);
    for (_, d) in &log {
        fuzz_round_trip(d);
        for _ in 0..50 {
            let mut m = d.clone();
            let pos = rng.below(m.len() as u64) as usize;
            m[pos] ^= 1 << rng.below(8);
            fuzz_round_trip(&m);
        }
    }
    for _ in 0..2000 {
        let mut junk = vec![0u8; rng.below(400) as usize];
        rng.fill(&mut junk);
        fuzz_round_trip(&junk);
    }
}

#[test]
fn server_never_picks_an_ecdhe_rsa_suite() {
    // Our certificate is ECDSA: a client offering only ECDHE_RSA suites finds no common suite,
    // even though the server's configuration lists them (they are for the client role).
    let cc = DtlsConfig {
        cipher_suites: vec![CipherSuite::ECDHE_RSA_AES_128_GCM_SHA256, CipherSuite::ECDHE_RSA_CHACHA20_POLY1305_SHA256],
        ..DtlsConfig::default()
    };
    let mut p = Pair::new(cc, DtlsConfig::default());
    assert!(DtlsConfig::default().cipher_suites.contains(&CipherSuite::ECDHE_RSA_AES_128_GCM_SHA256));
    p.client.start(p.now);
    p.run_until(|p| !p.client_events.is_empty() && !p.server_events.is_empty());
    assert_eq!(p.server_events, vec![DtlsEvent::Failed(DtlsError::HandshakeFailure)]);
}

#[test]
fn client_refuses_an_ecdhe_rsa_suite_signed_with_an_ecdsa_key() {
    // A server that picks ECDHE_RSA but presents an ECDSA certificate: rewrite the suite in
    // our server's ServerHello (record header 13 + handshake header 12 + version 2 + random 32
    // + empty session id 1 = offset 60) before the client sees it.
    let (c, s) = (cert(1), cert(2));
    let sc = DtlsConfig { require_cookie: false, ..DtlsConfig::default() };
    let mut client =
        DtlsConnection::new(DtlsRole::Client, c.clone(), vec![s.fingerprint()], DtlsConfig::default(), Rng::seeded(3));
    let mut server = DtlsConnection::new(DtlsRole::Server, s, vec![c.fingerprint()], sc, Rng::seeded(4));
    client.start(Time::ZERO);
    while let Some(d) = client.poll_transmit() {
        server.handle_datagram(Time::ZERO, &d).unwrap();
    }
    let mut flight4: Vec<Vec<u8>> = std::iter::from_fn(|| server.poll_transmit()).collect();
    assert!(!flight4.is_empty());
    let first = &mut flight4[0];
    assert_eq!(first[13], handshake_type::SERVER_HELLO);
    assert_eq!(&first[60..62], &[0xc0, 0x2b]);
    first[60..62].copy_from_slice(&[0xc0, 0x2f]);
    let results: Vec<_> = flight4.iter().map(|d| client.handle_datagram(Time::ZERO, d)).collect();
    assert!(results.contains(&Err(DtlsError::PeerIncompatible)), "{results:?}");
    assert_eq!(client.poll_event(), Some(DtlsEvent::Failed(DtlsError::PeerIncompatible)));
}

#[test]
fn hellos_advertise_rsa_signature_schemes() {
    // The ClientHello offers every scheme we verify (RSA ones included, no SHA-1), and the
    // CertificateRequest accepts rsa_sign certificates with the same schemes.
    let (c, s) = (cert(1), cert(2));
    let sc = DtlsConfig { require_cookie: false, ..DtlsConfig::default() };
    let mut client =
        DtlsConnection::new(DtlsRole::Client, c.clone(), vec![s.fingerprint()], DtlsConfig::default(), Rng::seeded(3));
    let mut server = DtlsConnection::new(DtlsRole::Server, s, vec![c.fingerprint()], sc, Rng::seeded(4));
    client.start(Time::ZERO);
    let ch_dgram = client.poll_transmit().unwrap();
    let ch = ClientHello::decode(&ch_dgram[25..]).unwrap();
    let offered = ch.extensions.signature_algorithms.unwrap();
    assert_eq!(offered, crate::crypto::signature_scheme::VERIFIABLE.to_vec());
    assert!(offered.contains(&0x0401) && offered.contains(&0x0804) && !offered.contains(&0x0201));
    assert!(ch.cipher_suites.contains(&0xc02f) && ch.cipher_suites.contains(&0xc030) && ch.cipher_suites.contains(&0xcca8));
    server.handle_datagram(Time::ZERO, &ch_dgram).unwrap();
    let flight4: Vec<u8> = std::iter::from_fn(|| server.poll_transmit()).flatten().collect();
    // Find the CertificateRequest handshake message (type 13) by scanning the records.
    let mut at = 0;
    let mut found = None;
    while at + 13 <= flight4.len() {
        let len = usize::from(u16::from_be_bytes([flight4[at + 11], flight4[at + 12]]));
        let rec = &flight4[at + 13..at + 13 + len];
        if rec[0] == handshake_type::CERTIFICATE_REQUEST {
            found = Some(CertificateRequest::decode(&rec[12..]).unwrap());
        }
        at += 13 + len;
    }
    let cr = found.expect("a CertificateRequest");
    assert_eq!(cr.certificate_types, vec![CERT_TYPE_ECDSA_SIGN, CERT_TYPE_RSA_SIGN]);
    assert_eq!(cr.signature_schemes, offered);
}

// ---- issue 5: tests that catch a regression in the handshake's own checks -----------------
//
// A man in the middle rewrites the peer's plaintext (epoch 0) handshake messages and re-frames
// the records (lengths fixed, record sequence numbers kept), so the record and message
// decoders accept them and only the check under test can refuse them. Each test asserts the
// exact error, the fatal alert on the wire, and that the victim never sent its next flight
// (without the check it would go on and fail later on Finished, with another error).

/// Rewrites every epoch-0 handshake message in one datagram: `f(msg_type, message_seq,
/// body)` may change the body; records are re-encoded with their new length.
fn rewrite_handshake(d: &[u8], f: &mut dyn FnMut(u8, u16, &mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(d.len() + 80);
    let mut r = Reader::new(d);
    while !r.is_empty() {
        let (mut h, frag) = RecordHeader::decode(&mut r).unwrap();
        if h.epoch != 0 || h.content_type != content_type::HANDSHAKE {
            h.encode(&mut out);
            out.extend_from_slice(frag);
            continue;
        }
        let mut body = Vec::with_capacity(frag.len() + 80);
        let mut hr = Reader::new(frag);
        while !hr.is_empty() {
            let (hh, msg) = HandshakeHeader::decode(&mut hr).unwrap();
            assert_eq!(hh.fragment_length, hh.length, "default MTU: whole messages");
            let mut m = msg.to_vec();
            f(hh.msg_type, hh.message_seq, &mut m);
            encode_handshake(hh.msg_type, hh.message_seq, &m, &mut body);
        }
        h.length = u16::try_from(body.len()).unwrap();
        h.encode(&mut out);
        out.extend_from_slice(&body);
    }
    out
}

/// The epoch-0 handshake message types and the alerts `(level, description)` in a datagram.
fn handshake_types_and_alerts(d: &[u8]) -> (Vec<u8>, Vec<(u8, u8)>) {
    let (mut types, mut alerts) = (Vec::new(), Vec::new());
    let mut r = Reader::new(d);
    while let Ok((h, frag)) = RecordHeader::decode(&mut r) {
        if h.epoch == 0 && h.content_type == content_type::HANDSHAKE {
            if let Ok((hh, _)) = HandshakeHeader::decode(&mut Reader::new(frag)) {
                types.push(hh.msg_type);
            }
        }
        if h.epoch == 0 && h.content_type == content_type::ALERT && frag.len() == 2 {
            alerts.push((frag[0], frag[1]));
        }
    }
    (types, alerts)
}

impl Pair {
    /// Runs until `done` holds or both sides are idle (bounded; a livelock panics), with
    /// every datagram passing through `tamper(to_server, datagram)` on its way.
    fn run_tampered(&mut self, tamper: &mut dyn FnMut(bool, Vec<u8>) -> Vec<u8>, done: impl Fn(&Pair) -> bool) {
        for _ in 0..100_000 {
            self.collect();
            if done(self) {
                return;
            }
            let mut next = self.in_flight.iter().map(|(t, _, _)| *t).min();
            for t in [self.client.poll_timeout(), self.server.poll_timeout()].into_iter().flatten() {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
            let Some(next) = next else { return };
            self.now = self.now.max(next);
            let now = self.now;
            let mut due = Vec::new();
            self.in_flight.retain(|(t, to_server, d)| {
                if *t <= now {
                    due.push((*to_server, d.clone()));
                    false
                } else {
                    true
                }
            });
            for (to_server, d) in due {
                let d = tamper(to_server, d);
                if to_server {
                    let _ = self.server.handle_datagram(now, &d);
                } else {
                    let _ = self.client.handle_datagram(now, &d);
                }
            }
            self.client.handle_timeout(now);
            self.server.handle_timeout(now);
        }
        panic!("livelock: did not settle");
    }

    /// Starts both sides and runs the handshake through `tamper` until both settled.
    fn handshake_tampered(&mut self, tamper: &mut dyn FnMut(bool, Vec<u8>) -> Vec<u8>) {
        self.client.start(self.now);
        self.server.start(self.now);
        let settled = |e: &[DtlsEvent]| e.iter().any(|e| matches!(e, DtlsEvent::Connected { .. } | DtlsEvent::Failed(_)));
        self.run_tampered(tamper, |p| settled(&p.client_events) && settled(&p.server_events));
    }

    /// Every epoch-0 handshake type and alert one side sent (`to_server`: the client's).
    fn sent_by(&self, to_server: bool) -> (Vec<u8>, Vec<(u8, u8)>) {
        let (mut types, mut alerts) = (Vec::new(), Vec::new());
        for (dir, d) in &self.log {
            if *dir == to_server {
                let (t, a) = handshake_types_and_alerts(d);
                types.extend(t);
                alerts.extend(a);
            }
        }
        (types, alerts)
    }
}

/// The MITM's view of the handshake: the randoms and the transcript, as the peers see them
/// (each message once, in the order it travels; no cookie exchange in these tests).
#[derive(Default)]
struct Observed {
    client_random: Option<[u8; 32]>,
    server_random: Option<[u8; 32]>,
    transcript: Vec<u8>,
    seen: Vec<(bool, u16)>,
}

impl Observed {
    fn record(&mut self, to_server: bool, msg_type: u8, seq: u16, body: &[u8]) {
        if self.seen.contains(&(to_server, seq)) {
            return; // a retransmission
        }
        self.seen.push((to_server, seq));
        if msg_type == handshake_type::CLIENT_HELLO {
            self.client_random = Some(ClientHello::decode(body).unwrap().random);
        }
        if msg_type == handshake_type::SERVER_HELLO {
            self.server_random = Some(ServerHello::decode(body).unwrap().random);
        }
        encode_handshake(msg_type, seq, body, &mut self.transcript);
    }
}

fn no_cookie() -> DtlsConfig {
    DtlsConfig { require_cookie: false, ..DtlsConfig::default() }
}

/// How the MITM changes the ServerKeyExchange.
#[derive(Clone, Copy, Debug, PartialEq)]
enum SkeChange {
    /// A byte of the signed ECDH public value flipped, signature kept.
    FlipParams,
    /// A byte of the signature flipped (DER stays well-formed: last byte of `s`).
    FlipSignature,
    /// Signed again over the right data with this certificate's key.
    ResignedBy(u64),
}

fn handshake_with_ske_change(change: SkeChange) -> Pair {
    let mut p = Pair::new(no_cookie(), no_cookie());
    let mut obs = Observed::default();
    let mut tamper = |to_server: bool, d: Vec<u8>| {
        rewrite_handshake(&d, &mut |msg_type, seq, body| {
            if !to_server && msg_type == handshake_type::SERVER_KEY_EXCHANGE {
                let mut ske = ServerKeyExchange::decode(body).unwrap();
                match change {
                    SkeChange::FlipParams => ske.public[5] ^= 0x10,
                    SkeChange::FlipSignature => *ske.signature.last_mut().unwrap() ^= 0x01,
                    SkeChange::ResignedBy(seed) => {
                        let mut signed = Vec::new();
                        signed.extend_from_slice(&obs.client_random.unwrap());
                        signed.extend_from_slice(&obs.server_random.unwrap());
                        signed.extend_from_slice(&ske.params());
                        ske.signature = cert(seed).signing_key().ecdsa().unwrap().sign(&signed);
                    }
                }
                body.clear();
                ske.encode(body);
            }
            obs.record(to_server, msg_type, seq, body);
        })
    };
    p.handshake_tampered(&mut tamper);
    p
}

#[test]
fn tampered_or_resigned_server_key_exchange_fails_the_client() {
    // Control: re-signed with the server's own key (cert(2)) over what the MITM observed:
    // the MITM's reconstruction is right, so the only difference below is the key or a byte.
    let p = handshake_with_ske_change(SkeChange::ResignedBy(2));
    assert!(p.client.is_connected() && p.server.is_connected(), "{:?} {:?}", p.client_events, p.server_events);

    for change in [SkeChange::FlipParams, SkeChange::FlipSignature, SkeChange::ResignedBy(7)] {
        let p = handshake_with_ske_change(change);
        assert_eq!(p.client_events, vec![DtlsEvent::Failed(DtlsError::BadSignature)], "{change:?}");
        let (types, alerts) = p.sent_by(true);
        assert_eq!(alerts, vec![(2, AlertDescription::DECRYPT_ERROR.0)], "{change:?}: the client's alert");
        assert!(
            !types.contains(&handshake_type::CLIENT_KEY_EXCHANGE),
            "{change:?}: the client must not answer a ServerKeyExchange it could not verify"
        );
        // The server learns it from the alert.
        assert_eq!(
            p.server_events,
            vec![DtlsEvent::Failed(DtlsError::PeerAlert(AlertDescription::DECRYPT_ERROR))],
            "{change:?}"
        );
    }
}

/// How the MITM changes the client's CertificateVerify.
#[derive(Clone, Copy, Debug, PartialEq)]
enum CvChange {
    FlipSignature,
    ResignedBy(u64),
}

fn handshake_with_cv_change(change: CvChange) -> Pair {
    let mut p = Pair::new(no_cookie(), no_cookie());
    let mut obs = Observed::default();
    let mut tamper = |to_server: bool, d: Vec<u8>| {
        rewrite_handshake(&d, &mut |msg_type, seq, body| {
            if to_server && msg_type == handshake_type::CERTIFICATE_VERIFY {
                let mut cv = CertificateVerify::decode(body).unwrap();
                match change {
                    CvChange::FlipSignature => *cv.signature.last_mut().unwrap() ^= 0x01,
                    // RFC 5246 §7.4.8: the signature covers every handshake message before it.
                    CvChange::ResignedBy(seed) => cv.signature = cert(seed).signing_key().ecdsa().unwrap().sign(&obs.transcript),
                }
                body.clear();
                cv.encode(body);
            }
            obs.record(to_server, msg_type, seq, body);
        })
    };
    p.handshake_tampered(&mut tamper);
    p
}

#[test]
fn tampered_or_resigned_certificate_verify_fails_the_server() {
    // Control: re-signed with the client's own key (cert(1)) over the observed transcript.
    let p = handshake_with_cv_change(CvChange::ResignedBy(1));
    assert!(p.client.is_connected() && p.server.is_connected(), "{:?} {:?}", p.client_events, p.server_events);

    for change in [CvChange::FlipSignature, CvChange::ResignedBy(7)] {
        let p = handshake_with_cv_change(change);
        assert_eq!(p.server_events, vec![DtlsEvent::Failed(DtlsError::BadSignature)], "{change:?}");
        let (_, alerts) = p.sent_by(false);
        assert_eq!(alerts, vec![(2, AlertDescription::DECRYPT_ERROR.0)], "{change:?}: the server's alert");
        // The server never sent its Finished flight: nothing of epoch 1 from it, no CCS.
        let sent_epoch1_or_ccs = p.log.iter().filter(|(to_server, _)| !to_server).any(|(_, d)| {
            let mut r = Reader::new(d);
            std::iter::from_fn(|| RecordHeader::decode(&mut r).ok())
                .any(|(h, _)| h.epoch == 1 || h.content_type == content_type::CHANGE_CIPHER_SPEC)
        });
        assert!(!sent_epoch1_or_ccs, "{change:?}");
        assert!(!p.client.is_connected(), "{change:?}");
        assert_eq!(
            p.client_events,
            vec![DtlsEvent::Failed(DtlsError::PeerAlert(AlertDescription::DECRYPT_ERROR))],
            "{change:?}"
        );
    }
}

#[test]
fn server_hello_without_extended_master_secret_is_refused() {
    // RFC 7627 is required: a ServerHello that drops the extension (a downgrade by a MITM or a
    // server without EMS) fails the client before it sends anything keyed.
    let mut p = Pair::new(no_cookie(), no_cookie());
    let mut tamper = |to_server: bool, d: Vec<u8>| {
        rewrite_handshake(&d, &mut |msg_type, _, body| {
            if !to_server && msg_type == handshake_type::SERVER_HELLO {
                let mut sh = ServerHello::decode(body).unwrap();
                assert!(sh.extensions.extended_master_secret);
                sh.extensions.extended_master_secret = false;
                body.clear();
                sh.encode(body);
            }
        })
    };
    p.handshake_tampered(&mut tamper);
    assert_eq!(p.client_events, vec![DtlsEvent::Failed(DtlsError::HandshakeFailure)]);
    let (types, alerts) = p.sent_by(true);
    assert_eq!(alerts, vec![(2, AlertDescription::HANDSHAKE_FAILURE.0)]);
    assert_eq!(types, vec![handshake_type::CLIENT_HELLO], "nothing after the ClientHello");
    assert_eq!(p.server_events, vec![DtlsEvent::Failed(DtlsError::PeerAlert(AlertDescription::HANDSHAKE_FAILURE))]);
}

/// A ClientHello on an established connection (a renegotiation attempt, or a peer whose DTLS
/// restarted). Policy: we never renegotiate (RFC 5746 is only signalled); such a ClientHello
/// is ignored and counted, whatever its message_seq, with no answer but at most the
/// retransmission of our last flight (RFC 6347 §4.2.4, for a message_seq already seen).
/// RFC 5246 §7.2.2 also allows a `no_renegotiation` warning; ignoring gives a stranger who
/// forges one nothing to trigger. The connection keeps its keys and keeps carrying data.
#[test]
fn client_hello_after_the_handshake_is_ignored_and_the_connection_keeps_working() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    p.handshake();
    exchange_data(&mut p);
    let label = b"EXTRACTOR-dtls_srtp";
    let keys = (p.client.export_keying_material(label, 60).unwrap(), p.server.export_keying_material(label, 60).unwrap());
    assert_eq!(keys.0, keys.1);
    // A real ClientHello body, from a fresh client.
    let mut fresh = DtlsConnection::new(DtlsRole::Client, cert(5), vec![], DtlsConfig::default(), Rng::seeded(55));
    fresh.start(p.now);
    let first = fresh.poll_transmit().unwrap();
    let mut r = Reader::new(&first);
    let (_, frag) = RecordHeader::decode(&mut r).unwrap();
    let (hh, ch_body) = HandshakeHeader::decode(&mut Reader::new(frag)).unwrap();
    assert_eq!(hh.msg_type, handshake_type::CLIENT_HELLO);
    // With the cookie exchange the client used message_seq 0..=5: 0 and 5 were seen, 6 is
    // the next one, 7 and 200 are ahead. Fresh record sequence numbers each time.
    for (i, seq) in [0u16, 5, 6, 7, 200].into_iter().enumerate() {
        let mut hs = Vec::new();
        encode_handshake(handshake_type::CLIENT_HELLO, seq, ch_body, &mut hs);
        let mut rec = Vec::new();
        let header = RecordHeader {
            content_type: content_type::HANDSHAKE,
            version: DTLS_1_2,
            epoch: 0,
            sequence: 1000 + i as u64,
            length: hs.len() as u16,
        };
        header.encode(&mut rec);
        rec.extend_from_slice(&hs);
        let log_mark = p.log.len();
        assert_eq!(p.server.handle_datagram(p.now, &rec), Ok(()), "seq {seq}");
        // The same record to the client: a ClientHello is never for a client, and must not
        // move one either.
        assert_eq!(p.client.handle_datagram(p.now, &rec), Ok(()), "seq {seq}");
        p.collect();
        assert!(p.server.is_connected() && p.client.is_connected(), "seq {seq}");
        for (types, alerts) in p.log[log_mark..].iter().map(|(_, d)| handshake_types_and_alerts(d)) {
            assert!(alerts.is_empty(), "seq {seq}: no alert, {alerts:?}");
            assert!(
                !types.iter().any(|t| matches!(*t, handshake_type::SERVER_HELLO | handshake_type::HELLO_VERIFY_REQUEST)),
                "seq {seq}: no new handshake, sent {types:?}"
            );
        }
        // Data still flows both ways, under the same keys.
        let (c0, s0) = (app_data(&p.client_events).len(), app_data(&p.server_events).len());
        p.client.send(format!("after {seq}").as_bytes()).unwrap();
        p.server.send(format!("back {seq}").as_bytes()).unwrap();
        p.run_until(|p| app_data(&p.server_events).len() == s0 + 1 && app_data(&p.client_events).len() == c0 + 1);
        assert_eq!(app_data(&p.server_events).last().unwrap(), format!("after {seq}").as_bytes());
        assert_eq!(app_data(&p.client_events).last().unwrap(), format!("back {seq}").as_bytes());
        let now_keys =
            (p.client.export_keying_material(label, 60).unwrap(), p.server.export_keying_material(label, 60).unwrap());
        assert_eq!(now_keys, keys, "seq {seq}: same keys");
    }
    let fatal = |e: &DtlsEvent| matches!(e, DtlsEvent::Failed(_) | DtlsEvent::Closed);
    assert!(!p.client_events.iter().any(fatal) && !p.server_events.iter().any(fatal));
    // Every one of the five was counted as ignored (as a ClientHello outside the handshake
    // in progress, or as an unexpected record).
    let st = p.server.stats();
    assert!(st.client_hellos_ignored + st.records_unexpected >= 5, "{st:?}");
}

/// What a handshake with corrupted datagrams ended as.
#[derive(Debug, PartialEq)]
enum FlipOutcome {
    /// Both connected: same keys, the expected certificates, data both ways.
    Connected,
    /// Neither connected; each side that took part failed with one error.
    Failed(Option<DtlsError>, Option<DtlsError>),
}

/// Runs a handshake (cookie exchange on) in which `flip(index, to_server, datagram)` may
/// corrupt datagrams, with timers, until both sides settled; then checks what must hold
/// whatever was flipped and returns the outcome. Panics on anything else.
///
/// `single`: one datagram is corrupted, so the last flight always gets through in the end
/// and one side connected alone is a failure; with many corrupted datagrams it may happen
/// (every copy of the last flight lost), and is then allowed if the other side failed.
fn flipped_handshake(single: bool, flip: &mut dyn FnMut(usize, bool, &mut Vec<u8>)) -> FlipOutcome {
    let (ccert, scert) = (cert(1), cert(2));
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
    let start = p.now;
    let mut index = 0usize;
    let mut tamper = |to_server: bool, mut d: Vec<u8>| {
        flip(index, to_server, &mut d);
        index += 1;
        d
    };
    p.handshake_tampered(&mut tamper);
    // Never a hang: settled within the handshake timeout (plus the last flight's travel).
    let limit = start + DtlsConfig::default().handshake_timeout + Duration::from_secs(1);
    assert!(p.now <= limit, "settled at {:?}", p.now);
    let failed = |e: &[DtlsEvent]| {
        let f: Vec<&DtlsError> = e.iter().filter_map(|e| if let DtlsEvent::Failed(x) = e { Some(x) } else { None }).collect();
        assert!(f.len() <= 1, "one failure at most: {e:?}");
        f.first().map(|x| (*x).clone())
    };
    let (cf, sf) = (failed(&p.client_events), failed(&p.server_events));
    let peer_cert = |e: &[DtlsEvent]| {
        e.iter().find_map(|e| if let DtlsEvent::Connected { peer_certificate, .. } = e { Some(peer_certificate.clone()) } else { None })
    };
    match (p.client.is_connected(), p.server.is_connected()) {
        (true, true) => {
            assert_eq!((&cf, &sf), (&None, &None));
            let label = b"EXTRACTOR-dtls_srtp";
            assert_eq!(
                p.client.export_keying_material(label, 48).unwrap(),
                p.server.export_keying_material(label, 48).unwrap(),
                "connected with different keys"
            );
            assert_eq!(peer_cert(&p.client_events).as_deref(), Some(scert.der()));
            assert_eq!(peer_cert(&p.server_events).as_deref(), Some(ccert.der()));
            exchange_data(&mut p);
            FlipOutcome::Connected
        }
        (false, false) => {
            // Nothing was ever delivered, and whoever is not failed never got far enough
            // to have a handshake (a server that saw no valid ClientHello).
            assert!(app_data(&p.client_events).is_empty() && app_data(&p.server_events).is_empty());
            assert!(peer_cert(&p.client_events).is_none() && peer_cert(&p.server_events).is_none());
            assert!(cf.is_some(), "the client always settles: {:?}", p.client_events);
            assert!(sf.is_some() || p.server.poll_timeout().is_none(), "{:?}", p.server_events);
            FlipOutcome::Failed(cf, sf)
        }
        (c, s) => {
            assert!(!single, "only one side connected (client {c}, server {s}): {:?} / {:?}", p.client_events, p.server_events);
            assert!(cf.is_some() || sf.is_some(), "{:?} / {:?}", p.client_events, p.server_events);
            FlipOutcome::Failed(cf, sf)
        }
    }
}

/// The error that ended a failed handshake and the side that detected it (`true`: the
/// client): the side's own error, not the alert it caused the other side to receive.
fn root_error(outcome: &FlipOutcome) -> Option<(bool, DtlsError)> {
    match outcome {
        FlipOutcome::Connected => None,
        FlipOutcome::Failed(c, s) => [(true, c), (false, s)]
            .into_iter()
            .filter_map(|(side, e)| e.clone().map(|e| (side, e)))
            .find(|(_, e)| !matches!(e, DtlsError::PeerAlert(_)))
            .or_else(|| c.clone().map(|e| (true, e))),
    }
}

/// Where a flipped byte is, in the clean handshake's datagram.
#[derive(Clone, Copy, Debug, PartialEq)]
enum FlipSite {
    /// A record header, a ChangeCipherSpec body or an epoch-1 (AEAD) record body: the record
    /// is dropped (or its damage is authenticated away), the retransmission recovers.
    RecordLayer,
    /// A handshake header field (type, length, message_seq, fragment offset / length).
    HandshakeHeader,
    /// The body of an epoch-0 handshake message of this type.
    Body(u8),
}

/// Sites of every byte of an unfragmented clean datagram.
fn flip_sites(d: &[u8]) -> Vec<FlipSite> {
    let mut sites = Vec::with_capacity(d.len());
    let mut r = Reader::new(d);
    while let Ok((h, frag)) = RecordHeader::decode(&mut r) {
        sites.extend(std::iter::repeat_n(FlipSite::RecordLayer, RECORD_HEADER_LEN));
        if h.epoch == 0 && h.content_type == content_type::HANDSHAKE {
            sites.extend(std::iter::repeat_n(FlipSite::HandshakeHeader, HANDSHAKE_HEADER_LEN));
            sites.extend(std::iter::repeat_n(FlipSite::Body(frag[0]), frag.len() - HANDSHAKE_HEADER_LEN));
        } else {
            sites.extend(std::iter::repeat_n(FlipSite::RecordLayer, frag.len()));
        }
    }
    assert_eq!(sites.len(), d.len());
    sites
}

/// Every datagram of a clean handshake (with the cookie exchange), with one bit flipped at
/// every byte position in turn (bit `position % 8`), each flip in its own handshake. What
/// must happen, by where the flip lands:
/// - anywhere: both connect with identical keys, the expected certificates and data both
///   ways, or neither connects and each side failed once; never one side alone, never a
///   panic, never past the handshake timeout;
/// - a record header, a ChangeCipherSpec or an AEAD-protected record: the record is dropped
///   and the retransmission connects;
/// - the body of a message that is signed, fingerprinted or in the Finished transcript
///   (everything but the first ClientHello and the HelloVerifyRequest, RFC 6347 §4.2.6):
///   never connects with the flipped copy; it fails with the error of the check that guards
///   that message (a clean retransmission may connect, if a flipped copy is ignored);
/// - a handshake header field: connects or fails cleanly. Today a ClientHello whose
///   message_seq is pushed ahead stalls the handshake to its timeout, and a wrong message
///   type at the expected message_seq is fatal (see the off-path forgery items of issue 5).
#[test]
fn bit_flipped_handshakes_connect_with_equal_keys_or_fail_cleanly() {
    // The clean handshake's datagrams, in delivery order (deterministic seeds).
    let mut clean: Vec<(bool, Vec<u8>)> = Vec::new();
    let outcome = flipped_handshake(true, &mut |_, to_server, d| clean.push((to_server, d.clone())));
    assert_eq!(outcome, FlipOutcome::Connected);
    assert_eq!(clean.len(), 6, "CH, HVR, CH, flight 4, flight 5, flight 6");
    use handshake_type as t;
    use DtlsError as E;
    // (sent to the server, message type, what the client may catch, what the server may).
    #[allow(clippy::type_complexity)]
    let guarded: [(bool, u8, &[DtlsError], &[DtlsError]); 9] = [
        // The server random is signed in the ServerKeyExchange; a suite or extension the
        // client accepts changes its transcript, which its CertificateVerify signs.
        (false, t::SERVER_HELLO, &[E::ProtocolVersion, E::IllegalParameter, E::HandshakeFailure, E::Decode, E::BadSignature, E::UnexpectedMessage], &[E::BadSignature]),
        (false, t::CERTIFICATE, &[E::FingerprintMismatch, E::BadCertificate, E::Decode, E::PeerIncompatible, E::NoCertificate], &[]),
        (false, t::SERVER_KEY_EXCHANGE, &[E::BadSignature, E::IllegalParameter, E::Decode], &[]),
        (false, t::CERTIFICATE_REQUEST, &[E::HandshakeFailure, E::Decode], &[E::BadSignature]),
        (false, t::SERVER_HELLO_DONE, &[E::Decode], &[]),
        // The second ClientHello: its cookie no longer matches, the server asks again.
        (true, t::CLIENT_HELLO, &[E::UnexpectedMessage], &[E::Decode, E::HandshakeFailure, E::IllegalParameter, E::ProtocolVersion]),
        (true, t::CERTIFICATE, &[], &[E::FingerprintMismatch, E::BadCertificate, E::Decode, E::PeerIncompatible, E::NoCertificate]),
        (true, t::CLIENT_KEY_EXCHANGE, &[], &[E::BadSignature, E::IllegalParameter, E::Decode]),
        (true, t::CERTIFICATE_VERIFY, &[], &[E::BadSignature, E::IllegalParameter, E::Decode]),
    ];
    let mut outcomes: std::collections::BTreeMap<String, usize> = Default::default();
    for (k, (to_server, d)) in clean.iter().enumerate() {
        for (pos, site) in flip_sites(d).into_iter().enumerate() {
            let outcome = flipped_handshake(true, &mut |i, _, d| {
                if i == k {
                    d[pos] ^= 1 << (pos % 8);
                }
            });
            let what = format!("datagram {k} byte {pos} ({site:?}): {outcome:?}");
            match site {
                FlipSite::RecordLayer => assert_eq!(outcome, FlipOutcome::Connected, "{what}"),
                FlipSite::HandshakeHeader => {}
                // Not in the transcript: the first ClientHello and the HelloVerifyRequest.
                FlipSite::Body(_) if k < 2 => {}
                FlipSite::Body(msg_type) => {
                    if outcome != FlipOutcome::Connected {
                        let (_, _, by_client, by_server) = guarded
                            .iter()
                            .find(|(dir, m, _, _)| dir == to_server && *m == msg_type)
                            .expect("a guarded message");
                        let (client, root) = root_error(&outcome).expect("a root error");
                        let allowed = if client { by_client } else { by_server };
                        assert!(
                            allowed.contains(&root),
                            "{what}: caught by the {} with {root:?}, expected one of {allowed:?}",
                            if client { "client" } else { "server" }
                        );
                    }
                }
            }
            *outcomes.entry(format!("{site:?} {:?}", root_error(&outcome))).or_default() += 1;
        }
    }
    eprintln!("{} flips: {outcomes:#?}", clean.iter().map(|c| c.1.len()).sum::<usize>());
    // Many corrupted datagrams, retransmissions included: the same invariants.
    for seed in 0..30 {
        let mut r = Rng::seeded(seed);
        flipped_handshake(false, &mut |_, _, d| {
            if r.below(4) == 0 {
                let pos = r.below(d.len() as u64) as usize;
                d[pos] ^= 1 << r.below(8);
            }
        });
    }
}


/// Found by the bit-flip loop: one fragment whose total-length field is wrong made a
/// reassembly slot that no retransmission of the real message could fill (they all
/// "mismatched"), so the handshake stalled until its timeout. The real message must win.
#[test]
fn a_fragment_with_a_wrong_total_length_does_not_block_the_real_message() {
    for (to_server, victim) in [(false, handshake_type::CERTIFICATE), (true, handshake_type::CLIENT_KEY_EXCHANGE)] {
        let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default());
        let mut done = false;
        let mut tamper = |dir: bool, mut d: Vec<u8>| {
            if dir == to_server && !done {
                let mut at = 0;
                while at + RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN <= d.len() {
                    let len = usize::from(u16::from_be_bytes([d[at + 11], d[at + 12]]));
                    let hs = at + RECORD_HEADER_LEN;
                    if d[at] == content_type::HANDSHAKE && d[hs] == victim {
                        // length (u24) one more than the fragment: an incomplete message.
                        let l = u32::from_be_bytes([0, d[hs + 1], d[hs + 2], d[hs + 3]]) + 1;
                        d[hs + 1..hs + 4].copy_from_slice(&l.to_be_bytes()[1..]);
                        done = true;
                    }
                    at += RECORD_HEADER_LEN + len;
                }
            }
            d
        };
        let start = p.now;
        p.handshake_tampered(&mut tamper);
        assert!(done);
        assert!(p.client.is_connected() && p.server.is_connected(), "{:?} / {:?}", p.client_events, p.server_events);
        assert!(p.now < start + Duration::from_secs(5), "recovered by the first retransmissions: {:?}", p.now - start);
        let label = b"EXTRACTOR-dtls_srtp";
        assert_eq!(p.client.export_keying_material(label, 32), p.server.export_keying_material(label, 32));
        exchange_data(&mut p);
    }
}

fn rsa_cert(seed: u64, bits: usize) -> Arc<Certificate> {
    Arc::new(
        Certificate::generate_rsa(&mut Rng::seeded(seed), bits, 1_700_000_000, 1_800_000_000)
            .unwrap(),
    )
}

fn negotiated_suite(events: &[DtlsEvent]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, DtlsEvent::Connected { .. }))
}

/// Our own RSA certificate on either side (and both): the server picks an ECDHE_RSA suite
/// for an RSA certificate and signs ServerKeyExchange with RSA; a client with an RSA
/// certificate signs CertificateVerify with RSA. Both sides then check fingerprints and
/// exchange data.
#[test]
fn rsa_certificates_in_both_roles() {
    let ecdsa = cert(1);
    let rsa = rsa_cert(3, 1024);
    assert!(rsa.is_rsa());
    for (ccert, scert) in [
        (ecdsa.clone(), rsa.clone()),
        (rsa.clone(), ecdsa.clone()),
        (rsa.clone(), rsa_cert(4, 1024)),
    ] {
        let (cfp, sfp) = (ccert.fingerprint(), scert.fingerprint());
        let mut p = Pair::with_fingerprints(
            DtlsConfig::default(),
            DtlsConfig::default(),
            ccert.clone(),
            scert.clone(),
            vec![sfp],
            vec![cfp],
        );
        p.handshake();
        assert!(negotiated_suite(&p.client_events) && negotiated_suite(&p.server_events));
        let peer_of_client = p.client_events.iter().find_map(|e| match e {
            DtlsEvent::Connected {
                peer_certificate, ..
            } => Some(peer_certificate.clone()),
            _ => None,
        });
        assert_eq!(peer_of_client.unwrap(), scert.der());
        exchange_data(&mut p);
    }
}

#[test]
fn rsa_certificate_2048_as_server() {
    let (ccert, scert) = (cert(1), rsa_cert(5, 2048));
    let (cfp, sfp) = (ccert.fingerprint(), scert.fingerprint());
    let mut p = Pair::with_fingerprints(
        DtlsConfig::default(),
        DtlsConfig::default(),
        ccert,
        scert,
        vec![sfp],
        vec![cfp],
    );
    p.handshake();
    exchange_data(&mut p);
}

/// A client that offers only ECDHE_ECDSA suites cannot talk to a server whose certificate is
/// RSA: a clean handshake_failure on both sides, no panic.
#[test]
fn rsa_server_with_ecdsa_only_client_fails_cleanly() {
    let cc = DtlsConfig {
        cipher_suites: vec![
            CipherSuite::ECDHE_ECDSA_AES_128_GCM_SHA256,
            CipherSuite::ECDHE_ECDSA_AES_256_GCM_SHA384,
        ],
        ..DtlsConfig::default()
    };
    let (ccert, scert) = (cert(1), rsa_cert(3, 1024));
    let (cfp, sfp) = (ccert.fingerprint(), scert.fingerprint());
    let mut p = Pair::with_fingerprints(
        cc,
        DtlsConfig::default(),
        ccert,
        scert,
        vec![sfp],
        vec![cfp],
    );
    p.client.start(p.now);
    p.run_until(|p| !p.client_events.is_empty() && !p.server_events.is_empty());
    assert_eq!(
        p.server_events,
        vec![DtlsEvent::Failed(DtlsError::HandshakeFailure)]
    );
    assert_eq!(
        p.client_events,
        vec![DtlsEvent::Failed(DtlsError::PeerAlert(
            AlertDescription::HANDSHAKE_FAILURE
        ))]
    );
}
