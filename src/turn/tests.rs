use super::wire::{self, method, tattr};
use super::*;
use crate::stun::{Attribute, Class, Message};

const REALM: &str = "example.org";
const NONCE: &str = "nonce-1";

fn relayed() -> SocketAddr {
    "192.0.2.10:50000".parse().unwrap()
}
fn mapped() -> SocketAddr {
    "198.51.100.7:4000".parse().unwrap()
}
fn peer() -> SocketAddr {
    "203.0.113.5:7000".parse().unwrap()
}

fn client(transport: TurnTransport) -> TurnClient {
    TurnClient::new(
        TurnConfig::new(transport, "alice", "secret"),
        Rng::seeded(7),
        Time::ZERO,
    )
}

fn key() -> [u8; 16] {
    long_term_key("alice", REALM, "secret")
}

fn take(c: &mut TurnClient) -> Message {
    let b = c.poll_transmit().expect("a transmit");
    Message::decode_with_limit(&b, MAX_FRAME_LEN).expect("valid STUN")
}

fn challenge(req: &Message, code: u16, nonce: &str) -> Vec<u8> {
    let mut m = Message::new(req.method, Class::ErrorResponse, req.transaction_id);
    m.attributes.push(Attribute::ErrorCode {
        code,
        reason: "Unauthorized".into(),
    });
    m.attributes
        .push(wire::other(tattr::REALM, REALM.as_bytes().to_vec()));
    m.attributes
        .push(wire::other(tattr::NONCE, nonce.as_bytes().to_vec()));
    m.encode_with(None, false)
}

fn success(req: &Message, attrs: Vec<Attribute>, k: Option<&[u8]>) -> Vec<u8> {
    let mut m = Message::new(req.method, Class::SuccessResponse, req.transaction_id);
    m.attributes = attrs;
    m.encode_with(k, true)
}

fn allocate_ok(req: &Message) -> Vec<u8> {
    let tid = req.transaction_id;
    success(
        req,
        vec![
            wire::other(
                tattr::XOR_RELAYED_ADDRESS,
                wire::xor_address(relayed(), &tid),
            ),
            Attribute::XorMappedAddress(mapped()),
            wire::other(tattr::LIFETIME, 600u32.to_be_bytes().to_vec()),
        ],
        Some(&key()),
    )
}

/// Runs the 401 dance and the signed Allocate; returns the allocated client.
fn allocated(transport: TurnTransport) -> TurnClient {
    let mut c = client(transport);
    let first = take(&mut c);
    assert_eq!(first.method, method::ALLOCATE);
    assert!(first.get(attr::MESSAGE_INTEGRITY).is_none());
    c.handle_input(Time::ZERO, &challenge(&first, 401, NONCE));
    let b = c.poll_transmit().unwrap();
    stun::verify_integrity(&b, &key()).unwrap();
    let second = Message::decode(&b).unwrap();
    assert_eq!(second.username(), Some("alice"));
    assert_eq!(wire::text(&second, tattr::NONCE).as_deref(), Some(NONCE));
    c.handle_input(Time::ZERO, &allocate_ok(&second));
    assert_eq!(
        c.poll_event(),
        Some(TurnEvent::Allocated {
            relayed: relayed(),
            mapped: Some(mapped()),
            lifetime: Duration::from_secs(600)
        })
    );
    c
}

#[test]
fn allocate_after_401_challenge() {
    let c = allocated(TurnTransport::Udp);
    assert_eq!(c.relayed_address(), Some(relayed()));
}

#[test]
fn wrong_password_fails_with_401() {
    let mut c = client(TurnTransport::Udp);
    let first = take(&mut c);
    c.handle_input(Time::ZERO, &challenge(&first, 401, NONCE));
    let second = take(&mut c);
    c.handle_input(Time::ZERO, &challenge(&second, 401, NONCE));
    assert!(matches!(
        c.poll_event(),
        Some(TurnEvent::Failed { code: 401, .. })
    ));
    assert!(c.poll_transmit().is_none());
}

#[test]
fn stale_nonce_retries_with_new_nonce() {
    let mut c = client(TurnTransport::Udp);
    let first = take(&mut c);
    c.handle_input(Time::ZERO, &challenge(&first, 401, NONCE));
    let second = take(&mut c);
    c.handle_input(Time::ZERO, &challenge(&second, 438, "nonce-2"));
    let third = take(&mut c);
    assert_eq!(wire::text(&third, tattr::NONCE).as_deref(), Some("nonce-2"));
    assert_ne!(third.transaction_id, second.transaction_id);
}

#[test]
fn success_with_bad_integrity_is_dropped() {
    let mut c = client(TurnTransport::Udp);
    let first = take(&mut c);
    c.handle_input(Time::ZERO, &challenge(&first, 401, NONCE));
    let second = take(&mut c);
    let tid = second.transaction_id;
    let forged = success(
        &second,
        vec![wire::other(
            tattr::XOR_RELAYED_ADDRESS,
            wire::xor_address(relayed(), &tid),
        )],
        Some(b"wrong key"),
    );
    c.handle_input(Time::ZERO, &forged);
    assert_eq!(c.stats().bad_integrity, 1);
    assert!(c.poll_event().is_none());
    c.handle_input(Time::ZERO, &allocate_ok(&second));
    assert!(matches!(c.poll_event(), Some(TurnEvent::Allocated { .. })));
}

#[test]
fn unknown_transaction_is_counted() {
    let mut c = client(TurnTransport::Udp);
    let mut other = take(&mut c);
    other.transaction_id = [9; 12];
    c.handle_input(Time::ZERO, &challenge(&other, 401, NONCE));
    assert_eq!(c.stats().stray_responses, 1);
    assert!(c.poll_transmit().is_none());
}

#[test]
fn udp_retransmits_with_doubling_rto_then_fails() {
    let mut c = client(TurnTransport::Udp);
    let first = c.poll_transmit().unwrap();
    let mut times = Vec::new();
    while let Some(t) = c.poll_timeout() {
        c.handle_timeout(t);
        if let Some(b) = c.poll_transmit() {
            assert_eq!(b, first);
            times.push(t.as_millis());
        }
        if let Some(e) = c.poll_event() {
            assert!(matches!(e, TurnEvent::Failed { code: 0, .. }));
            assert_eq!(t.as_millis(), 39_500);
            break;
        }
    }
    assert_eq!(times, vec![500, 1500, 3500, 7500, 15500, 31500]);
}

#[test]
fn tcp_does_not_retransmit() {
    let mut c = client(TurnTransport::Tcp);
    c.poll_transmit().unwrap();
    assert_eq!(c.poll_timeout(), Some(Time::from_millis(39_500)));
    c.handle_timeout(Time::from_millis(39_500));
    assert!(c.poll_transmit().is_none());
    assert!(matches!(
        c.poll_event(),
        Some(TurnEvent::Failed { code: 0, .. })
    ));
}

#[test]
fn tcp_stream_reassembly_byte_by_byte() {
    let mut c = client(TurnTransport::Tcp);
    let first = take(&mut c);
    let resp = challenge(&first, 401, NONCE);
    for b in &resp {
        c.handle_input(Time::ZERO, std::slice::from_ref(b));
    }
    assert!(c.poll_transmit().is_some(), "signed retry after reassembly");
}

fn permission(c: &mut TurnClient, now: Time) -> Message {
    c.create_permission(peer().ip(), now).unwrap();
    let req = take(c);
    assert_eq!(req.method, method::CREATE_PERMISSION);
    assert_eq!(
        wire::peer_address(&req, tattr::XOR_PEER_ADDRESS).map(|a| a.ip()),
        Some(peer().ip())
    );
    c.handle_input(now, &success(&req, vec![], Some(&key())));
    req
}

#[test]
fn permission_send_indication_and_data_indication() {
    let mut c = allocated(TurnTransport::Udp);
    assert_eq!(c.send_to(peer(), b"x"), Err(TurnError::NoPermission));
    permission(&mut c, Time::ZERO);
    assert_eq!(
        c.poll_event(),
        Some(TurnEvent::PermissionCreated { peer: peer().ip() })
    );
    c.send_to(peer(), b"hello").unwrap();
    let send = take(&mut c);
    assert_eq!((send.method, send.class), (method::SEND, Class::Indication));
    assert_eq!(wire::raw(&send, tattr::DATA), Some(&b"hello"[..]));
    assert_eq!(
        wire::peer_address(&send, tattr::XOR_PEER_ADDRESS),
        Some(peer())
    );

    let tid = [3u8; 12];
    let mut data = Message::new(method::DATA, Class::Indication, tid);
    data.attributes.push(wire::other(
        tattr::XOR_PEER_ADDRESS,
        wire::xor_address(peer(), &tid),
    ));
    data.attributes
        .push(wire::other(tattr::DATA, vec![7u8; 3000]));
    c.handle_input(Time::ZERO, &data.encode_with(None, false));
    assert_eq!(
        c.poll_event(),
        Some(TurnEvent::Data {
            from: peer(),
            bytes: vec![7u8; 3000]
        })
    );
}

#[test]
fn channel_bind_then_channel_data_both_ways_tcp_padding() {
    let mut c = allocated(TurnTransport::Tcp);
    c.bind_channel(peer(), Time::ZERO).unwrap();
    let req = take(&mut c);
    assert_eq!(req.method, method::CHANNEL_BIND);
    c.handle_input(Time::ZERO, &success(&req, vec![], Some(&key())));
    assert_eq!(
        c.poll_event(),
        Some(TurnEvent::ChannelBound {
            peer: peer(),
            channel: 0x4000
        })
    );
    c.send_to(peer(), b"abcde").unwrap();
    let cd = c.poll_transmit().unwrap();
    assert_eq!(
        cd,
        [&[0x40, 0, 0, 5][..], b"abcde", &[0, 0, 0][..]].concat()
    );
    // Two padded frames in one stream chunk.
    let mut input = wire::channel_data(0x4000, b"xyz", true);
    input.extend(wire::channel_data(0x4000, b"", true));
    input.extend(wire::channel_data(0x4001, b"?", true));
    c.handle_input(Time::ZERO, &input);
    assert_eq!(
        c.poll_event(),
        Some(TurnEvent::Data {
            from: peer(),
            bytes: b"xyz".to_vec()
        })
    );
    assert_eq!(
        c.poll_event(),
        Some(TurnEvent::Data {
            from: peer(),
            bytes: vec![]
        })
    );
    assert_eq!(c.stats().unknown_channel, 1);
}

#[test]
fn refreshes_allocation_permission_and_channel() {
    let mut c = allocated(TurnTransport::Udp);
    permission(&mut c, Time::ZERO);
    c.poll_event();
    c.bind_channel(peer(), Time::ZERO).unwrap();
    let bind = take(&mut c);
    c.handle_input(Time::ZERO, &success(&bind, vec![], Some(&key())));
    c.poll_event();
    c.send_to(peer(), b"keep").unwrap();
    c.poll_transmit();
    // Permission refresh at 240 s.
    assert_eq!(c.poll_timeout(), Some(Time::from_millis(240_000)));
    c.handle_timeout(Time::from_millis(240_000));
    let p = take(&mut c);
    assert_eq!(p.method, method::CREATE_PERMISSION);
    c.handle_input(
        Time::from_millis(240_000),
        &success(&p, vec![], Some(&key())),
    );
    // Channel refresh at 540 s, allocation refresh at 540 s (600 - 60).
    c.handle_timeout(Time::from_millis(540_000));
    let mut methods = Vec::new();
    while let Some(b) = c.poll_transmit() {
        methods.push(Message::decode(&b).unwrap().method);
    }
    assert!(methods.contains(&method::REFRESH), "{methods:?}");
    assert!(methods.contains(&method::CHANNEL_BIND), "{methods:?}");
    assert!(methods.contains(&method::CREATE_PERMISSION), "{methods:?}");
}

#[test]
fn unused_permission_lapses() {
    let mut c = allocated(TurnTransport::Udp);
    c.create_permission(peer().ip(), Time::ZERO).unwrap();
    let req = take(&mut c);
    c.handle_input(Time::ZERO, &success(&req, vec![], Some(&key())));
    // Creation counts as use once; the 240 s refresh goes out, the 480 s one does not.
    c.handle_timeout(Time::from_millis(240_000));
    let p = take(&mut c);
    c.handle_input(
        Time::from_millis(240_000),
        &success(&p, vec![], Some(&key())),
    );
    c.handle_timeout(Time::from_millis(480_000));
    assert!(c.poll_transmit().is_none());
    assert_eq!(c.send_to(peer(), b"x"), Err(TurnError::NoPermission));
}

#[test]
fn close_sends_refresh_zero() {
    let mut c = allocated(TurnTransport::WebSocket);
    c.close(Time::ZERO);
    let r = take(&mut c);
    assert_eq!(r.method, method::REFRESH);
    assert_eq!(wire::lifetime(&r), Some(0));
    c.handle_input(Time::ZERO, &success(&r, vec![], Some(&key())));
    assert_eq!(c.poll_event(), Some(TurnEvent::Closed));
    assert_eq!(c.send_to(peer(), b"x"), Err(TurnError::NotAllocated));
}

#[test]
fn garbage_never_panics() {
    let mut c = allocated(TurnTransport::Tcp);
    let mut rng = Rng::seeded(1);
    for _ in 0..2000 {
        let mut b = vec![0u8; (rng.below(80)) as usize];
        rng.fill(&mut b);
        c.handle_input(Time::ZERO, &b);
    }
    let mut u = allocated(TurnTransport::Udp);
    for _ in 0..2000 {
        let mut b = vec![0u8; (rng.below(80)) as usize];
        rng.fill(&mut b);
        if let Some(f) = b.first_mut() {
            *f &= 0x7f;
        }
        u.handle_input(Time::ZERO, &b);
    }
    assert!(u.stats().malformed > 0);
}
