//! The sans-IO TURN server driven by a virtual clock and an in-test client.

mod common;

use std::time::Duration;

use common::*;
use polyrtc::stun::{attr, Attribute, Class, Message};
use polyrtc_relay::wire::{self, method, tattr};
use polyrtc_relay::{auth, ClientKind, Config};

const PEER: &str = "198.51.100.7:5000";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn alice(h: &mut Host, id: u64) -> Client {
    let c = h.add(id, ClientKind::Udp, &format!("192.0.2.1:{}", 1000 + id));
    Client::new(c, "alice", "secret")
}

fn open_config() -> Config {
    let mut c = config();
    c.allow_private = true;
    c
}

#[test]
fn unauthenticated_request_gets_401_with_realm_and_nonce() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    let (m, _) = c.once(&mut h, method::ALLOCATE, vec![wire::other(tattr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])]);
    assert_eq!(code(&m), Some(401));
    assert_eq!(other(&m, attr::REALM), Some(&b"test.realm"[..]));
    assert!(other(&m, attr::NONCE).is_some());
    assert_eq!(h.server.stats().allocations, 0);
}

#[test]
fn wrong_password_and_unknown_user_get_401() {
    let mut h = Host::new(config());
    let id = h.add(1, ClientKind::Udp, "192.0.2.1:1");
    let mut c = Client::new(id, "alice", "wrong");
    assert_eq!(code(&c.allocate_with(&mut h, vec![])), Some(401));
    let id = h.add(2, ClientKind::Udp, "192.0.2.1:2");
    let mut c = Client::new(id, "mallory", "secret");
    assert_eq!(code(&c.allocate_with(&mut h, vec![])), Some(401));
    assert_eq!(h.server.stats().allocations, 0);
    assert!(h.server.stats().auth_failures >= 4);
    // The right password works.
    let mut ok = alice(&mut h, 3);
    ok.allocate(&mut h);
}

#[test]
fn tampered_request_gets_401() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    c.allocate_with(&mut h, vec![]); // learn the nonce (and allocate)
    let tid = c.next_tid();
    let mut raw = c.build(method::REFRESH, tid, vec![wire::other(tattr::LIFETIME, 600u32.to_be_bytes().to_vec())]);
    // Change the LIFETIME value, then fix the FINGERPRINT so only the integrity is wrong.
    raw[HEADER + 4 + 3] ^= 1;
    let n = raw.len();
    let f = polyrtc::stun::fingerprint_of(&raw[..n - 8]);
    raw[n - 4..].copy_from_slice(&f.to_be_bytes());
    h.send(c.id, &raw);
    let m = Message::decode(&h.recv(c.id).unwrap()).unwrap();
    assert_eq!(code(&m), Some(401));
}

const HEADER: usize = 20;

#[test]
fn rest_credentials_from_shared_secret() {
    let mut cfg = config();
    cfg.secret = Some("fleet-secret".into());
    let mut h = Host::new(cfg);
    let good = format!("{}:carol", h.unix() + 3600);
    let id = h.add(1, ClientKind::Udp, "192.0.2.1:1");
    let mut c = Client::new(id, &good, &auth::rest_password(b"fleet-secret", &good));
    c.allocate(&mut h);

    // Expired (expiry in the past) -> 401.
    let old = format!("{}:carol", h.unix() - 1);
    let id = h.add(2, ClientKind::Udp, "192.0.2.1:2");
    let mut c = Client::new(id, &old, &auth::rest_password(b"fleet-secret", &old));
    assert_eq!(code(&c.allocate_with(&mut h, vec![])), Some(401));

    // Wrong secret -> 401.
    let id = h.add(3, ClientKind::Udp, "192.0.2.1:3");
    let mut c = Client::new(id, &good, &auth::rest_password(b"other", &good));
    assert_eq!(code(&c.allocate_with(&mut h, vec![])), Some(401));
    assert_eq!(h.server.stats().allocations, 1);
}

#[test]
fn rest_credential_expires_against_the_clock() {
    let mut cfg = config();
    cfg.secret = Some("s".into());
    let mut h = Host::new(cfg);
    let user = format!("{}:dave", h.unix() + 100);
    let id = h.add(1, ClientKind::Udp, "192.0.2.1:1");
    let mut c = Client::new(id, &user, &auth::rest_password(b"s", &user));
    c.allocate(&mut h);
    assert_eq!(c.refresh(&mut h, 600).class, Class::SuccessResponse);
    h.advance(secs(101));
    assert_eq!(code(&c.refresh(&mut h, 600)), Some(401));
}

#[test]
fn stale_nonce_gets_438_then_success() {
    let mut cfg = config();
    cfg.nonce_lifetime = secs(60);
    let mut h = Host::new(cfg);
    let mut c = alice(&mut h, 1);
    c.allocate(&mut h);
    let old = c.nonce.clone();
    h.advance(secs(61));
    let (m, _) = c.once(&mut h, method::REFRESH, vec![]);
    assert_eq!(code(&m), Some(438));
    assert!(other(&m, attr::NONCE).is_some());
    // `request` retries with the new nonce.
    let m = c.refresh(&mut h, 600);
    assert_eq!(m.class, Class::SuccessResponse);
    assert_ne!(c.nonce, old);
}

#[test]
fn message_integrity_sha256_accepted() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    c.sha256 = true;
    c.allocate(&mut h);
    let (m, raw) = c.once(&mut h, method::REFRESH, vec![]);
    assert_eq!(m.class, Class::SuccessResponse);
    let p = wire::Parsed::parse(&raw).unwrap();
    assert_eq!(wire::verify(&p, &c.key()), Some(wire::Integrity::Sha256));
}

#[test]
fn allocate_rules() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    // TCP relaying -> 442.
    let m = c.request(&mut h, method::ALLOCATE, vec![wire::other(tattr::REQUESTED_TRANSPORT, vec![6, 0, 0, 0])]);
    assert_eq!(code(&m), Some(442));
    // No REQUESTED-TRANSPORT -> 400.
    assert_eq!(code(&c.request(&mut h, method::ALLOCATE, vec![])), Some(400));
    // Lifetime: default 600, asked 7200 -> 3600, asked 10 -> 600.
    let m = c.allocate_with(&mut h, vec![wire::other(tattr::LIFETIME, 7200u32.to_be_bytes().to_vec())]);
    assert_eq!(other(&m, tattr::LIFETIME), Some(&3600u32.to_be_bytes()[..]));
    assert_eq!(m.xor_mapped_address(), Some("192.0.2.1:1001".parse().unwrap()));
    // Retransmission (same transaction) gets the same answer; a new Allocate gets 437.
    let tid = c.next_tid();
    let raw = c.build(method::ALLOCATE, tid, vec![wire::other(tattr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])]);
    h.send(c.id, &raw);
    assert_eq!(code(&Message::decode(&h.recv(c.id).unwrap()).unwrap()), Some(437));
    let mut d = alice(&mut h, 2);
    let m = d.allocate_with(&mut h, vec![wire::other(tattr::LIFETIME, 10u32.to_be_bytes().to_vec())]);
    assert_eq!(other(&m, tattr::LIFETIME), Some(&600u32.to_be_bytes()[..]));
    assert_eq!(c.refresh(&mut h, 1).class, Class::SuccessResponse);
    // Unknown comprehension-required attribute -> 420 listing it.
    let mut e = alice(&mut h, 3);
    let m = e.allocate_with(&mut h, vec![wire::other(0x7777, vec![1, 2, 3, 4])]);
    assert_eq!(code(&m), Some(420));
    assert_eq!(m.get(attr::UNKNOWN_ATTRIBUTES), Some(&Attribute::UnknownAttributes(vec![0x7777])));
}

#[test]
fn allocate_retransmission_gets_the_same_success() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    c.allocate_with(&mut h, vec![wire::other(tattr::LIFETIME, 0u32.to_be_bytes().to_vec())]); // nonce
    c.refresh(&mut h, 0);
    let tid = c.next_tid();
    let raw = c.build(method::ALLOCATE, tid, vec![wire::other(tattr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])]);
    h.send(c.id, &raw);
    let first = h.recv(c.id).unwrap();
    h.send(c.id, &raw);
    let again = h.recv(c.id).unwrap();
    assert_eq!(first, again);
    assert_eq!(Message::decode(&first).unwrap().class, Class::SuccessResponse);
    assert_eq!(h.server.stats().allocations, 1);
}

#[test]
fn port_bind_failure_gets_508() {
    let mut h = Host::new(config());
    h.fail_open = true;
    let mut c = alice(&mut h, 1);
    assert_eq!(code(&c.allocate_with(&mut h, vec![])), Some(508));
    assert_eq!(h.server.stats().allocations, 0);
    h.fail_open = false;
    c.allocate(&mut h);
}

#[test]
fn private_peers_refused_by_default() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    c.allocate(&mut h);
    for p in ["127.0.0.1:9", "10.1.2.3:9", "172.16.0.1:9", "192.168.1.1:9", "169.254.1.1:9", "0.0.0.0:9", "224.0.0.1:9", "255.255.255.255:9"] {
        assert_eq!(code(&c.permission(&mut h, &[p])), Some(403), "{p}");
        assert_eq!(code(&c.channel_bind(&mut h, 0x4000, p)), Some(403), "{p}");
    }
    assert_eq!(c.permission(&mut h, &[PEER]).class, Class::SuccessResponse);
    // An IPv6 peer on an IPv4 allocation: 443.
    assert_eq!(code(&c.permission(&mut h, &["[2001:db8::1]:9"])), Some(443));
    // Send indications to a refused address are dropped and counted.
    c.send_indication(&mut h, "10.1.2.3:9", b"x");
    assert_eq!(h.server.stats().drops.forbidden_peer, 1);
    assert!(h.to_peer.is_empty());
    for ip in ["::1", "::", "fc00::1", "fd12::1", "fe80::1", "ff02::1", "::ffff:10.0.0.1"] {
        assert!(polyrtc_relay::is_restricted(ip.parse().unwrap()), "{ip}");
    }
    for ip in ["2001:db8::1", "198.51.100.7", "8.8.8.8"] {
        assert!(!polyrtc_relay::is_restricted(ip.parse().unwrap()), "{ip}");
    }
}

#[test]
fn private_peers_allowed_with_allow_private() {
    let mut h = Host::new(open_config());
    let mut c = alice(&mut h, 1);
    c.allocate(&mut h);
    assert_eq!(c.permission(&mut h, &["127.0.0.1:9", "10.1.2.3:9"]).class, Class::SuccessResponse);
    c.send_indication(&mut h, "127.0.0.1:9", b"hi");
    assert_eq!(h.to_peer.pop_front().map(|t| (t.1, t.2)), Some(("127.0.0.1:9".parse().unwrap(), b"hi".to_vec())));
}

#[test]
fn quota_per_user() {
    let mut cfg = config();
    cfg.max_allocations_per_user = 2;
    let mut h = Host::new(cfg);
    let mut a = alice(&mut h, 1);
    let mut b = alice(&mut h, 2);
    let mut c = alice(&mut h, 3);
    a.allocate(&mut h);
    b.allocate(&mut h);
    assert_eq!(code(&c.allocate_with(&mut h, vec![])), Some(486));
    // Another user is not affected.
    let id = h.add(4, ClientKind::Udp, "192.0.2.9:1");
    Client::new(id, "bob", "hunter2").allocate(&mut h);
    // Freeing one makes room.
    a.refresh(&mut h, 0);
    c.allocate(&mut h);
}

#[test]
fn quota_in_total() {
    let mut cfg = config();
    cfg.max_allocations = 2;
    let mut h = Host::new(cfg);
    alice(&mut h, 1).allocate(&mut h);
    alice(&mut h, 2).allocate(&mut h);
    let id = h.add(3, ClientKind::Udp, "192.0.2.9:1");
    let mut bob = Client::new(id, "bob", "hunter2");
    assert_eq!(code(&bob.allocate_with(&mut h, vec![])), Some(486));
    h.server.client_gone(polyrtc_relay::ClientId(1), h.now);
    h.pump();
    bob.allocate(&mut h);
}

#[test]
fn bandwidth_quota_drops_and_counts() {
    let mut cfg = config();
    cfg.bandwidth = Some(10_000);
    let mut h = Host::new(cfg);
    let mut c = alice(&mut h, 1);
    c.allocate(&mut h);
    c.permission(&mut h, &[PEER]);
    let payload = [0u8; 1000];
    for _ in 0..12 {
        c.send_indication(&mut h, PEER, &payload);
    }
    assert_eq!(h.to_peer.len(), 10, "one second of burst");
    assert_eq!(h.server.stats().drops.bandwidth, 2);
    h.to_peer.clear();
    h.advance(Duration::from_millis(100));
    c.send_indication(&mut h, PEER, &payload);
    c.send_indication(&mut h, PEER, &payload);
    assert_eq!(h.to_peer.len(), 1, "100 ms refill 1000 bytes");
    assert_eq!(h.server.stats().drops.bandwidth, 3);
}

#[test]
fn idle_client_without_allocation_is_closed() {
    let mut cfg = config();
    cfg.idle_timeout = secs(30);
    let mut h = Host::new(cfg);
    let idle = h.add(1, ClientKind::Tcp, "192.0.2.1:1");
    let mut busy = alice(&mut h, 2);
    busy.allocate(&mut h);
    h.advance(secs(29));
    assert!(h.closed_clients.is_empty());
    h.advance(secs(2));
    assert_eq!(h.closed_clients, vec![idle]);
    assert_eq!(h.server.stats().clients, 1, "a client with an allocation stays");
}

#[test]
fn allocation_expires_on_time_and_refresh_extends() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    let relayed = c.allocate(&mut h);
    let port = h.port_of(relayed);
    h.advance(secs(599));
    assert_eq!(h.server.stats().allocations, 1);
    assert!(h.closed_ports.is_empty());
    h.advance(secs(2));
    assert_eq!(h.server.stats().allocations, 0);
    assert_eq!(h.closed_ports, vec![port]);
    // The client's idle timeout starts when its allocation goes.
    assert!(h.closed_clients.is_empty());
    assert_eq!(code(&c.refresh(&mut h, 600)), Some(437));
    h.advance(secs(61));
    assert_eq!(h.closed_clients, vec![c.id]);

    // Refresh extends: at 500 s, ask for 1200 s more.
    let mut d = alice(&mut h, 2);
    d.allocate(&mut h);
    h.advance(secs(500));
    let m = d.refresh(&mut h, 1200);
    assert_eq!(other(&m, tattr::LIFETIME), Some(&1200u32.to_be_bytes()[..]));
    h.advance(secs(1199));
    assert_eq!(h.server.stats().allocations, 1);
    h.advance(secs(2));
    assert_eq!(h.server.stats().allocations, 0);
}

#[test]
fn refresh_zero_deletes() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    let relayed = c.allocate(&mut h);
    let port = h.port_of(relayed);
    let m = c.refresh(&mut h, 0);
    assert_eq!(m.class, Class::SuccessResponse);
    assert_eq!(other(&m, tattr::LIFETIME), Some(&0u32.to_be_bytes()[..]));
    assert_eq!(h.closed_ports, vec![port]);
    assert_eq!(h.server.stats().allocations, 0);
}

#[test]
fn client_gone_frees_allocation() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    let relayed = c.allocate(&mut h);
    let port = h.port_of(relayed);
    h.server.client_gone(c.id, h.now);
    h.pump();
    assert_eq!(h.closed_ports, vec![port]);
    let s = h.server.stats();
    assert_eq!((s.allocations, s.clients), (0, 0));
    assert_eq!(h.server.poll_timeout(), h.server.poll_timeout());
    // Peer datagrams to the old port are dropped.
    h.peer_datagram(port, PEER, b"late");
    assert_eq!(h.server.stats().drops.no_allocation, 1);
}

#[test]
fn permission_expires_after_300_s() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    let relayed = c.allocate(&mut h);
    let port = h.port_of(relayed);
    // No permission yet: dropped and counted.
    h.peer_datagram(port, PEER, b"early");
    assert_eq!(h.server.stats().drops.no_permission, 1);
    assert!(h.recv(c.id).is_none());
    c.permission(&mut h, &[PEER]);
    h.advance(secs(299));
    h.peer_datagram(port, "198.51.100.7:6000", b"any port of the IP");
    let (from, data) = data_indication(&h.recv(c.id).unwrap());
    assert_eq!((from, data), ("198.51.100.7:6000".parse().unwrap(), b"any port of the IP".to_vec()));
    h.advance(secs(2));
    h.peer_datagram(port, PEER, b"late");
    assert!(h.recv(c.id).is_none());
    assert_eq!(h.server.stats().drops.no_permission, 2);
    c.send_indication(&mut h, PEER, b"out");
    assert!(h.to_peer.is_empty());
    assert_eq!(h.server.stats().drops.no_permission, 3);
    // Refreshing the permission before it expires keeps it.
    c.refresh(&mut h, 3600);
    c.permission(&mut h, &[PEER]);
    h.advance(secs(200));
    c.permission(&mut h, &[PEER]);
    h.advance(secs(200));
    h.peer_datagram(port, PEER, b"kept");
    assert!(h.recv(c.id).is_some());
}

#[test]
fn indications_relay_both_ways() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    let relayed = c.allocate(&mut h);
    let port = h.port_of(relayed);
    c.permission(&mut h, &[PEER]);
    c.send_indication(&mut h, PEER, b"to peer");
    assert_eq!(h.to_peer.pop_front(), Some((port, PEER.parse().unwrap(), b"to peer".to_vec())));
    h.peer_datagram(port, PEER, b"to client");
    assert_eq!(data_indication(&h.recv(c.id).unwrap()), (PEER.parse().unwrap(), b"to client".to_vec()));
    let s = h.server.stats();
    assert_eq!((s.packets_to_peers, s.packets_to_clients), (1, 1));
}

#[test]
fn channel_data_relays_both_ways_and_channel_expires() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    let relayed = c.allocate(&mut h);
    let port = h.port_of(relayed);
    c.refresh(&mut h, 3600);
    assert_eq!(c.channel_bind(&mut h, 0x4001, PEER).class, Class::SuccessResponse);
    // ChannelBind installs a permission too.
    h.send(c.id, &wire::channel_data(0x4001, b"abc", false));
    assert_eq!(h.to_peer.pop_front(), Some((port, PEER.parse().unwrap(), b"abc".to_vec())));
    h.peer_datagram(port, PEER, b"xyz");
    assert_eq!(h.recv(c.id), Some(wire::channel_data(0x4001, b"xyz", false)));
    // Unbound channel: dropped and counted.
    h.send(c.id, &wire::channel_data(0x4002, b"abc", false));
    assert!(h.to_peer.is_empty());
    assert_eq!(h.server.stats().drops.no_channel, 1);
    // Keep the permission alive but not the channel: it expires at 600 s.
    h.advance(secs(290));
    c.permission(&mut h, &[PEER]);
    h.advance(secs(290));
    c.permission(&mut h, &[PEER]);
    h.advance(secs(19));
    h.send(c.id, &wire::channel_data(0x4001, b"at 599", false));
    assert_eq!(h.to_peer.len(), 1);
    h.advance(secs(2));
    h.send(c.id, &wire::channel_data(0x4001, b"at 601", false));
    assert_eq!(h.to_peer.len(), 1);
    assert_eq!(h.server.stats().drops.no_channel, 2);
    // Peer data now comes as a Data indication.
    h.peer_datagram(port, PEER, b"ind");
    assert_eq!(data_indication(&h.recv(c.id).unwrap()).1, b"ind".to_vec());
}

#[test]
fn channel_bind_conflicts() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    c.allocate(&mut h);
    assert_eq!(c.channel_bind(&mut h, 0x4000, PEER).class, Class::SuccessResponse);
    // Same binding again: a refresh.
    assert_eq!(c.channel_bind(&mut h, 0x4000, PEER).class, Class::SuccessResponse);
    // The number is taken by another peer.
    assert_eq!(code(&c.channel_bind(&mut h, 0x4000, "198.51.100.8:5000")), Some(400));
    // The peer is bound to another number.
    assert_eq!(code(&c.channel_bind(&mut h, 0x4001, PEER)), Some(400));
    // Out of range.
    assert_eq!(code(&c.channel_bind(&mut h, 0x3FFF, "198.51.100.8:5000")), Some(400));
    assert_eq!(code(&c.channel_bind(&mut h, 0x5000, "198.51.100.8:5000")), Some(400));
    assert_eq!(c.channel_bind(&mut h, 0x4FFF, "198.51.100.8:5000").class, Class::SuccessResponse);
}

#[test]
fn relays_between_two_own_allocations() {
    // Relayed addresses are 127.0.0.1 here: the server's own are allowed even without
    // allow_private.
    let mut h = Host::new(config());
    let mut a = alice(&mut h, 1);
    let mut b = alice(&mut h, 2);
    let ra = a.allocate(&mut h);
    let rb = b.allocate(&mut h);
    a.permission(&mut h, &[&rb.to_string()]);
    b.permission(&mut h, &[&ra.to_string()]);
    a.send_indication(&mut h, &rb.to_string(), b"a->b");
    assert!(h.to_peer.is_empty(), "delivered inside the server");
    assert_eq!(data_indication(&h.recv(b.id).unwrap()), (ra, b"a->b".to_vec()));
    assert_eq!(b.channel_bind(&mut h, 0x4444, &ra.to_string()).class, Class::SuccessResponse);
    h.send(b.id, &wire::channel_data(0x4444, b"b->a", false));
    assert_eq!(data_indication(&h.recv(a.id).unwrap()), (rb, b"b->a".to_vec()));
    a.send_indication(&mut h, &rb.to_string(), b"a->b on channel");
    assert_eq!(h.recv(b.id), Some(wire::channel_data(0x4444, b"a->b on channel", false)));
    assert_eq!(h.server.stats().internal_deliveries, 3);
    // Without a permission on the receiving side the datagram is dropped.
    let mut c = alice(&mut h, 3);
    let rc = c.allocate(&mut h);
    a.permission(&mut h, &[&rc.to_string()]);
    a.send_indication(&mut h, &rc.to_string(), b"a->c");
    assert!(h.recv(c.id).is_none());
    assert_eq!(h.server.stats().drops.no_permission, 1);
}

#[test]
fn tcp_framing_split_and_padded() {
    let mut h = Host::new(config());
    let id = h.add(1, ClientKind::Tcp, "192.0.2.1:1");
    let mut c = Client::new(id, "alice", "secret");
    let relayed = c.allocate(&mut h);
    let port = h.port_of(relayed);
    c.channel_bind(&mut h, 0x4000, PEER);
    // Two ChannelData frames (padded) and a Send indication, fed one byte at a time.
    let mut stream = wire::channel_data(0x4000, b"one", true);
    stream.extend(wire::channel_data(0x4000, b"three", true));
    let tid = c.next_tid();
    let mut m = Message::new(method::SEND, Class::Indication, tid);
    m.attributes.push(xor_peer(PEER, &tid));
    m.attributes.push(wire::other(tattr::DATA, b"ind".to_vec()));
    stream.extend(m.encode_with(None, true));
    for b in &stream {
        h.send(c.id, std::slice::from_ref(b));
    }
    let got: Vec<Vec<u8>> = h.to_peer.drain(..).map(|t| t.2).collect();
    assert_eq!(got, vec![b"one".to_vec(), b"three".to_vec(), b"ind".to_vec()]);
    // ChannelData to a TCP client is padded.
    h.peer_datagram(port, PEER, b"12345");
    let out = h.recv(c.id).unwrap();
    assert_eq!(out.len(), 12);
    assert_eq!(out, wire::channel_data(0x4000, b"12345", true));
    // Garbage on the stream closes the connection and frees the allocation.
    h.send(c.id, &[0xff, 0, 0, 0]);
    assert_eq!(h.closed_clients, vec![c.id]);
    assert_eq!(h.server.stats().allocations, 0);
    assert_eq!(h.closed_ports, vec![port]);
}

#[test]
fn websocket_one_message_per_frame() {
    let mut h = Host::new(config());
    let id = h.add(1, ClientKind::WebSocket, "192.0.2.1:1");
    let mut c = Client::new(id, "alice", "secret");
    let relayed = c.allocate(&mut h);
    let port = h.port_of(relayed);
    c.channel_bind(&mut h, 0x4000, PEER);
    // Two frames in one message are not a message: dropped.
    let mut two = wire::channel_data(0x4000, b"one", true);
    two.extend(wire::channel_data(0x4000, b"two", true));
    h.send(c.id, &two);
    assert!(h.to_peer.is_empty());
    assert_eq!(h.server.stats().drops.malformed, 1);
    h.send(c.id, &wire::channel_data(0x4000, b"one", false));
    assert_eq!(h.to_peer.len(), 1);
    h.peer_datagram(port, PEER, b"12345");
    assert_eq!(h.recv(c.id), Some(wire::channel_data(0x4000, b"12345", false)));
}

#[test]
fn forged_and_malformed_input_dropped_and_counted() {
    let mut h = Host::new(config());
    let mut c = alice(&mut h, 1);
    c.allocate(&mut h);
    let before = h.server.stats().drops;
    // Not STUN, not ChannelData.
    h.send(c.id, &[0xC0, 1, 2, 3]);
    // Truncated STUN header.
    h.send(c.id, &[0, 1, 0]);
    // STUN with a length past the end.
    let tid = c.next_tid();
    let mut raw = c.build(method::REFRESH, tid, vec![]);
    raw[3] = raw[3].wrapping_add(4);
    h.send(c.id, &raw);
    // A bad FINGERPRINT.
    let tid = c.next_tid();
    let mut raw = c.build(method::REFRESH, tid, vec![]);
    let n = raw.len();
    raw[n - 1] ^= 0xff;
    h.send(c.id, &raw);
    // ChannelData whose length is past the end.
    h.send(c.id, &[0x40, 0x00, 0x00, 0x10, 1, 2]);
    // A Send indication without DATA.
    let tid = c.next_tid();
    let mut m = Message::new(method::SEND, Class::Indication, tid);
    m.attributes.push(xor_peer(PEER, &tid));
    h.send(c.id, &m.encode_with(None, true));
    // A response from the client.
    h.send(c.id, &Message::new(method::ALLOCATE, Class::SuccessResponse, [1; 12]).encode_with(None, true));
    // Input from a client the server does not know.
    h.server.handle_client_data(polyrtc_relay::ClientId(99), b"hello", h.now);
    let d = h.server.stats().drops;
    assert_eq!(d.malformed - before.malformed, 5);
    assert_eq!(d.bad_fingerprint - before.bad_fingerprint, 1);
    assert_eq!(d.unexpected - before.unexpected, 1);
    assert_eq!(d.unknown_client - before.unknown_client, 1);
    assert!(h.recv(c.id).is_none(), "nothing answered");
    assert!(h.to_peer.is_empty());
    // Requests on another client's allocation with that client's username: 441 (the
    // allocation belongs to alice, bob signs in on the same 5-tuple).
    let mut bob = Client::new(c.id, "bob", "hunter2");
    assert_eq!(code(&bob.refresh(&mut h, 600)), Some(441));
}

#[test]
fn binding_request_answered_without_auth() {
    let mut h = Host::new(config());
    let c = alice(&mut h, 1);
    h.send(c.id, &polyrtc::stun::plain_binding_request([9; 12]));
    let m = Message::decode(&h.recv(c.id).unwrap()).unwrap();
    assert_eq!(m.class, Class::SuccessResponse);
    assert_eq!(m.xor_mapped_address(), Some("192.0.2.1:1001".parse().unwrap()));
}
