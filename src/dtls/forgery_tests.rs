//! Forged records on the accepted path, injected mid-handshake (the Peer drops them from
//! strangers, `tests/offpath.rs`; these come from wherever the peer is): a plaintext fatal
//! alert, a plaintext close_notify, ClientHellos that belong to no handshake in progress.
//! Each has a fresh record sequence number, so the replay window is not what stops it. The
//! handshake must complete as if nothing had been sent.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::wire::*;
use super::*;
use crate::crypto::{Certificate, Rng};
use crate::time::Time;

fn cert(seed: u64) -> Arc<Certificate> {
    Arc::new(Certificate::generate(&mut Rng::seeded(seed), 1_700_000_000, 1_800_000_000).unwrap())
}

/// A client and a server on a perfect link that the test drives step by step.
struct Link {
    client: DtlsConnection,
    server: DtlsConnection,
    now: Time,
    to_client: VecDeque<Vec<u8>>,
    to_server: VecDeque<Vec<u8>>,
    client_events: Vec<DtlsEvent>,
    server_events: Vec<DtlsEvent>,
}

impl Link {
    fn new(require_cookie: bool) -> Link {
        let (cc, sc) = (cert(1), cert(2));
        let config = DtlsConfig { require_cookie, ..DtlsConfig::default() };
        Link {
            client: DtlsConnection::new(DtlsRole::Client, cc.clone(), vec![sc.fingerprint()], config.clone(), Rng::seeded(3)),
            server: DtlsConnection::new(DtlsRole::Server, sc, vec![cc.fingerprint()], config, Rng::seeded(4)),
            now: Time::from_millis(1000),
            to_client: VecDeque::new(),
            to_server: VecDeque::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
        }
    }

    fn collect(&mut self) {
        while let Some(d) = self.client.poll_transmit() {
            self.to_server.push_back(d);
        }
        while let Some(d) = self.server.poll_transmit() {
            self.to_client.push_back(d);
        }
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
        }
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
    }

    /// Delivers what is queued for the server (`to_server`) or the client; returns how many.
    fn deliver(&mut self, to_server: bool) -> usize {
        self.collect();
        let queue = if to_server { core::mem::take(&mut self.to_server) } else { core::mem::take(&mut self.to_client) };
        let n = queue.len();
        for d in queue {
            let r = if to_server { self.server.handle_datagram(self.now, &d) } else { self.client.handle_datagram(self.now, &d) };
            let _ = r;
        }
        self.collect();
        n
    }

    fn inject(&mut self, to_server: bool, d: &[u8]) {
        let r = if to_server { self.server.handle_datagram(self.now, d) } else { self.client.handle_datagram(self.now, d) };
        assert_eq!(r, Ok(()), "a forged record ends the handshake");
        self.collect();
    }

    fn connected(&self) -> bool {
        self.client.is_connected() && self.server.is_connected()
    }

    /// Runs until both are connected (true) or something ends it, within 60 s of virtual
    /// time; timers fire as they come due.
    fn run(&mut self) -> bool {
        let limit = self.now + Duration::from_secs(60);
        for _ in 0..10_000 {
            self.collect();
            if self.connected() {
                return true;
            }
            if self.deliver(true) + self.deliver(false) > 0 {
                continue;
            }
            let next = [self.client.poll_timeout(), self.server.poll_timeout()].into_iter().flatten().min();
            match next {
                Some(t) if t <= limit => {
                    self.now = self.now.max(t);
                    self.client.handle_timeout(self.now);
                    self.server.handle_timeout(self.now);
                }
                _ => return false,
            }
        }
        false
    }

    /// Both connected, no failure or close on either side, within one retransmission
    /// timeout of `since` (a stalled handshake needs a retransmission, or never ends).
    fn assert_connected_promptly(&mut self, since: Time, what: &str) {
        assert!(self.run(), "{what}: not connected (client {:?}, server {:?})", self.client_events, self.server_events);
        let took = self.now - since;
        assert!(took < Duration::from_millis(500), "{what}: connected only after {took:?}");
        for events in [&self.client_events, &self.server_events] {
            assert!(
                events.iter().all(|e| matches!(e, DtlsEvent::Connected { .. })),
                "{what}: {events:?}"
            );
        }
        // And data flows both ways.
        self.client.send(b"to server").unwrap();
        self.server.send(b"to client").unwrap();
        self.deliver(true);
        self.deliver(false);
        assert!(self.server_events.contains(&DtlsEvent::ApplicationData(b"to server".to_vec())), "{what}");
        assert!(self.client_events.contains(&DtlsEvent::ApplicationData(b"to client".to_vec())), "{what}");
    }
}

fn record(ct: u8, sequence: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    RecordHeader { content_type: ct, version: DTLS_1_2, epoch: 0, sequence, length: body.len() as u16 }.encode(&mut out);
    out.extend_from_slice(body);
    out
}

fn alert(sequence: u64, level: u8, desc: AlertDescription) -> Vec<u8> {
    record(content_type::ALERT, sequence, &[level, desc.0])
}

/// The body of a ClientHello a server accepts.
fn client_hello_body(random: u8) -> Vec<u8> {
    let ch = ClientHello {
        version: DTLS_1_2,
        random: [random; 32],
        session_id: Vec::new(),
        cookie: Vec::new(),
        cipher_suites: vec![CipherSuite::ECDHE_ECDSA_AES_128_GCM_SHA256.0],
        compression_methods: vec![0],
        extensions: Extensions {
            supported_groups: Some(vec![KeyExchangeGroup::X25519.iana()]),
            ec_point_formats: Some(vec![0]),
            signature_algorithms: Some(vec![ECDSA_SECP256R1_SHA256]),
            extended_master_secret: true,
            ..Extensions::default()
        },
    };
    let mut body = Vec::new();
    ch.encode(&mut body);
    body
}

/// A ClientHello record at `message_seq` (one fragment).
fn client_hello(sequence: u64, message_seq: u16, random: u8) -> Vec<u8> {
    let mut hs = Vec::new();
    encode_handshake(handshake_type::CLIENT_HELLO, message_seq, &client_hello_body(random), &mut hs);
    record(content_type::HANDSHAKE, sequence, &hs)
}

/// The first `n` bytes of a ClientHello at `message_seq`, as a fragment of a longer message.
fn client_hello_fragment(sequence: u64, message_seq: u16, length: u32, n: usize) -> Vec<u8> {
    let body = client_hello_body(9);
    let part = &body[..n.min(body.len())];
    let mut hs = Vec::new();
    HandshakeHeader {
        msg_type: handshake_type::CLIENT_HELLO,
        length,
        message_seq,
        fragment_offset: 0,
        fragment_length: part.len() as u32,
    }
    .encode(&mut hs);
    hs.extend_from_slice(part);
    record(content_type::HANDSHAKE, sequence, &hs)
}

/// Starts the client and delivers its ClientHello: the server has answered (flight 4 is
/// queued for the client), the client waits for it.
fn mid_handshake() -> Link {
    let mut l = Link::new(false);
    l.client.start(l.now);
    l.server.start(l.now);
    assert_eq!(l.deliver(true), 1, "the ClientHello");
    assert!(!l.to_client.is_empty(), "flight 4 queued");
    l
}

#[test]
fn plaintext_fatal_alert_mid_handshake_is_ignored() {
    let mut l = mid_handshake();
    let start = l.now;
    // To both, before flight 4 reaches the client and before flight 5 reaches the server.
    for (i, desc) in [AlertDescription::HANDSHAKE_FAILURE, AlertDescription::BAD_CERTIFICATE, AlertDescription::DECRYPT_ERROR]
        .into_iter()
        .enumerate()
    {
        l.inject(false, &alert(10_000 + i as u64, 2, desc));
        l.inject(true, &alert(20_000 + i as u64, 2, desc));
    }
    l.deliver(false);
    assert!(!l.to_server.is_empty(), "flight 5 queued");
    l.inject(true, &alert(20_100, 2, AlertDescription::HANDSHAKE_FAILURE));
    l.assert_connected_promptly(start, "forged fatal alerts");
    assert_eq!(l.client.stats().alerts_unauthenticated, 3);
    assert_eq!(l.server.stats().alerts_unauthenticated, 4);
}

#[test]
fn plaintext_close_notify_mid_handshake_is_ignored() {
    let mut l = mid_handshake();
    let start = l.now;
    l.inject(false, &alert(10_000, 1, AlertDescription::CLOSE_NOTIFY));
    l.inject(true, &alert(20_000, 1, AlertDescription::CLOSE_NOTIFY));
    l.deliver(false);
    // Flight 5 is on its way to the server; a fatal-level close_notify too.
    l.inject(true, &alert(20_001, 2, AlertDescription::CLOSE_NOTIFY));
    l.inject(false, &alert(10_001, 1, AlertDescription::CLOSE_NOTIFY));
    l.assert_connected_promptly(start, "forged close_notify");
    assert!(!l.client_events.contains(&DtlsEvent::Closed) && !l.server_events.contains(&DtlsEvent::Closed));
    assert_eq!(l.client.stats().alerts_unauthenticated, 2);
    assert_eq!(l.server.stats().alerts_unauthenticated, 2);
    // Once connected a plaintext close_notify is ignored as well; an encrypted one closes.
    l.inject(true, &alert(20_002, 1, AlertDescription::CLOSE_NOTIFY));
    assert!(l.server.is_connected());
    l.client.close();
    l.deliver(true);
    assert!(l.server_events.contains(&DtlsEvent::Closed));
}

#[test]
fn a_real_plaintext_refusal_ends_in_the_handshake_timeout_with_its_alert() {
    // No common suite: the server fails and says so in plaintext. The client cannot tell
    // that alert from a forged one, so it waits for its handshake timeout, then reports it.
    let cc = DtlsConfig { cipher_suites: vec![CipherSuite::ECDHE_ECDSA_CHACHA20_POLY1305_SHA256], ..DtlsConfig::default() };
    let sc = DtlsConfig { cipher_suites: vec![CipherSuite::ECDHE_ECDSA_AES_128_GCM_SHA256], ..DtlsConfig::default() };
    let mut l = Link::new(false);
    l.client = DtlsConnection::new(DtlsRole::Client, cert(1), vec![cert(2).fingerprint()], cc, Rng::seeded(3));
    l.server = DtlsConnection::new(DtlsRole::Server, cert(2), vec![cert(1).fingerprint()], sc, Rng::seeded(4));
    let start = l.now;
    l.client.start(l.now);
    assert!(!l.run());
    assert_eq!(l.server_events, vec![DtlsEvent::Failed(DtlsError::HandshakeFailure)]);
    assert_eq!(l.client_events, vec![DtlsEvent::Failed(DtlsError::PeerAlert(AlertDescription::HANDSHAKE_FAILURE))]);
    assert_eq!(l.now - start, Duration::from_secs(30));
}

#[test]
fn client_hello_with_a_far_ahead_message_seq_is_ignored() {
    for require_cookie in [false, true] {
        let mut l = Link::new(require_cookie);
        l.client.start(l.now);
        l.server.start(l.now);
        let start = l.now;
        // Before the real ClientHello: well-formed ones far ahead (and one just past what
        // a client after a HelloVerifyRequest would use).
        for (i, seq) in [1000u16, 2, 7, 65535].into_iter().enumerate() {
            l.inject(true, &client_hello(30_000 + i as u64, seq, 0xee));
        }
        assert!(l.to_client.is_empty(), "no answer to a forged ClientHello");
        l.assert_connected_promptly(start, &format!("far-ahead ClientHello, cookie {require_cookie}"));
        assert_eq!(l.server.stats().client_hellos_ignored, 4);
    }
}

#[test]
fn client_hellos_that_belong_to_no_handshake_in_progress_are_ignored() {
    let mut l = mid_handshake();
    let start = l.now;
    let retransmissions = l.server.stats().retransmissions;
    // The server expects message_seq 1 (the client's Certificate) next: a ClientHello there,
    // another one at message_seq 0 (not the one this handshake started from), one ahead.
    l.inject(true, &client_hello(40_000, 1, 0x11));
    l.inject(true, &client_hello(40_001, 0, 0x22));
    l.inject(true, &client_hello(40_002, 3, 0x33));
    assert!(l.to_client.len() <= 4, "no flight resent for a foreign ClientHello");
    assert_eq!(l.server.stats().retransmissions, retransmissions);
    // The client waits for a ServerHello: a ClientHello at the message_seq it expects.
    l.inject(false, &client_hello(40_003, 0, 0x44));
    l.deliver(false);
    l.inject(true, &client_hello(40_004, 1, 0x55));
    l.assert_connected_promptly(start, "foreign ClientHellos");
    assert_eq!(l.server.stats().client_hellos_ignored, 4);
    assert_eq!(l.client.stats().client_hellos_ignored, 1);
}

#[test]
fn a_copy_of_the_real_client_hello_still_brings_the_flight_again() {
    // The other side of the rule above: the client's own retransmission is not "foreign".
    let mut l = Link::new(false);
    l.client.start(l.now);
    let hello = l.client.poll_transmit().expect("ClientHello");
    l.server.handle_datagram(l.now, &hello).unwrap();
    l.collect();
    let flight4 = core::mem::take(&mut l.to_client);
    assert!(!flight4.is_empty());
    // Flight 4 lost; the client's retransmission (a new record, same message) arrives.
    l.now += Duration::from_millis(600);
    l.client.handle_timeout(l.now);
    l.collect();
    let again = l.to_server.pop_front().expect("retransmitted ClientHello");
    assert_ne!(again, hello, "a new record sequence number");
    l.server.handle_datagram(l.now, &again).unwrap();
    l.collect();
    assert_eq!(l.server.stats().retransmissions, 1);
    assert_eq!(l.to_client.len(), flight4.len(), "flight 4 again");
    assert!(l.run());
    assert_eq!(l.server.stats().client_hellos_ignored, 0);
}

#[test]
fn forged_client_hello_fragments_and_garbage_do_not_block_the_real_one() {
    for require_cookie in [false, true] {
        let mut l = Link::new(require_cookie);
        l.server.start(l.now);
        let start = l.now;
        // At the message_seq the real ClientHello will use: a fragment of a longer message
        // that never completes, then (another seq) a whole "ClientHello" that is garbage.
        l.inject(true, &client_hello_fragment(50_000, 0, 3000, 64));
        let mut hs = Vec::new();
        encode_handshake(handshake_type::CLIENT_HELLO, 1, &[0xde, 0xad, 0xbe, 0xef], &mut hs);
        l.inject(true, &record(content_type::HANDSHAKE, 50_001, &hs));
        assert!(l.to_client.is_empty());
        l.client.start(l.now);
        l.assert_connected_promptly(start, &format!("forged fragments, cookie {require_cookie}"));
        assert!(l.server.stats().records_malformed >= 1);
    }
}
