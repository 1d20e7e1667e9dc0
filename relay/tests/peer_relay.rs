//! Two core peers connected through the relay's sans-IO server on a virtual clock: one peer
//! has no socket of its own and reaches the relay over a WebSocket-like client link (as the
//! WASM engine does), the other is an ordinary host peer. The relay's protocol logic, the
//! core's TURN client and the peer's relayed transport are all the real code.

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use common::{config, Host};
use polyrtc::peer::{DataChannelInit, Peer, PeerConfig, PeerConnectionState, PeerEvent, SdpType};
use polyrtc::turn::{TurnConfig, TurnTransport};
use polyrtc::crypto::Rng;
use polyrtc::Time;
use polyrtc_relay::{ClientId, ClientKind};

/// The WebSocket's "server address": any fixed value.
const WS_SERVER: &str = "0.0.0.0:0";
/// The WASM-like peer's WebSocket, as the relay sees it (XOR-MAPPED-ADDRESS).
const WS_REMOTE: &str = "127.0.0.1:50000";
const VIA: u32 = 1;
const RELAYED: u32 = 10;
const HOST_ADDR: &str = "127.0.0.2:5000";

struct World {
    relay: Host,
    ws: ClientId,
    /// The WASM-like peer: only a relayed transport.
    a: Peer,
    /// The host peer.
    b: Peer,
    a_events: Vec<PeerEvent>,
    b_events: Vec<PeerEvent>,
    /// Datagrams to B from the relay's ports, delivered on the next step.
    to_b: VecDeque<(SocketAddr, Vec<u8>)>,
    /// The relayed port's address, kept after the port closes (for what it sent last).
    relayed: Option<SocketAddr>,
}

fn now_of(w: &World) -> Time {
    w.relay.now
}

impl World {
    fn new(password: &str, seed: u64) -> World {
        let mut cfg = config();
        cfg.allow_private = true;
        let mut relay = Host::new(cfg);
        let ws = relay.add(1, ClientKind::WebSocket, WS_REMOTE);
        let now = relay.now;
        let mut a = Peer::new(
            PeerConfig { relay_only: true, unix_time_ms: 1_700_000_000_000, ..PeerConfig::default() },
            Rng::seeded(seed),
        )
        .unwrap();
        let mut turn = TurnConfig::new(TurnTransport::WebSocket, "alice", password);
        turn.software = Some("test".into());
        a.add_relay(now, RELAYED, VIA, WS_SERVER.parse().unwrap(), "ws://relay.test", turn).unwrap();
        let mut b = Peer::new(
            PeerConfig { include_loopback: true, unix_time_ms: 1_700_000_000_000, ..PeerConfig::default() },
            Rng::seeded(seed + 1),
        )
        .unwrap();
        b.add_local_transport(2, HOST_ADDR.parse().unwrap());
        World { relay, ws, a, b, a_events: Vec::new(), b_events: Vec::new(), to_b: VecDeque::new(), relayed: None }
    }

    /// Moves every datagram until the network is quiet, then trickles candidates.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            let now = now_of(self);
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit(now) {
                moved = true;
                assert_eq!(t.transport, VIA, "the relay-only peer sends only over its WebSocket");
                assert_eq!(t.destination, WS_SERVER.parse::<SocketAddr>().unwrap());
                self.relay.send(self.ws, &t.data);
            }
            while let Some(data) = self.relay.recv(self.ws) {
                moved = true;
                self.a.handle_datagram(now, VIA, WS_SERVER.parse().unwrap(), &data);
            }
            if let Some(a) = self.relay.ports.values().next() {
                self.relayed = Some(*a);
            }
            while let Some((_, peer, data)) = self.relay.to_peer.pop_front() {
                moved = true;
                if peer == HOST_ADDR.parse::<SocketAddr>().unwrap() {
                    // The relayed port's address is the source B sees (also for the last
                    // datagrams a port sent before a deallocation in the same step closed it).
                    let from = self.relayed.unwrap_or_else(|| self.relayed_addr());
                    self.to_b.push_back((from, data));
                }
            }
            while let Some((from, data)) = self.to_b.pop_front() {
                moved = true;
                self.b.handle_datagram(now, 2, from, &data);
            }
            while let Some(t) = self.b.poll_transmit(now) {
                moved = true;
                let relayed = self.relayed_addr();
                if t.destination == relayed {
                    let port = self.relay.port_of(relayed);
                    self.relay.peer_datagram(port, HOST_ADDR, &t.data);
                }
            }
            let (ea, eb) = (drain(&mut self.a), drain(&mut self.b));
            for e in &ea {
                if let PeerEvent::IceCandidate(Some(c)) = e {
                    self.b.add_ice_candidate(now, Some(c.clone())).unwrap();
                    moved = true;
                }
            }
            for e in &eb {
                if let PeerEvent::IceCandidate(Some(c)) = e {
                    self.a.add_ice_candidate(now, Some(c.clone())).unwrap();
                    moved = true;
                }
            }
            self.a_events.extend(ea);
            self.b_events.extend(eb);
            if !moved {
                return;
            }
        }
        panic!("the network never went quiet");
    }

    fn relayed_addr(&self) -> SocketAddr {
        self.relay.ports.values().next().copied().unwrap_or("0.0.0.0:0".parse().unwrap())
    }

    /// Advances the virtual clock to the next timer of anyone (at most `max`), then settles.
    fn tick(&mut self, max: Duration) {
        let now = now_of(self);
        let mut next = now + max;
        for t in [self.a.poll_timeout(), self.b.poll_timeout(), self.relay.server.poll_timeout()].into_iter().flatten() {
            next = next.min(t.max(now));
        }
        let step = Duration::from_micros(next.as_micros() - now.as_micros());
        self.relay.advance(step);
        let now = now_of(self);
        self.a.handle_timeout(now);
        self.b.handle_timeout(now);
        self.settle();
    }

    fn run_until(&mut self, what: &str, limit: Duration, mut done: impl FnMut(&World) -> bool) {
        let end = now_of(self) + limit;
        self.settle();
        while !done(self) {
            if now_of(self) >= end {
                panic!(
                    "timed out waiting for {what}\nA: {:?}\nB: {:?}\nA stats {:?}\nrelay {:?}",
                    self.a_events, self.b_events, self.a.stats(), self.relay.server.stats()
                );
            }
            self.tick(Duration::from_millis(50));
        }
    }

    fn negotiate(&mut self) -> u32 {
        let now = now_of(self);
        let (ch, _) = self.a.create_data_channel(now, DataChannelInit { label: "relay".into(), ..DataChannelInit::default() }).unwrap();
        let offer = self.a.create_offer().unwrap();
        self.a.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
        self.b.set_remote_description(now, SdpType::Offer, &offer).unwrap();
        let answer = self.b.create_answer().unwrap();
        self.b.set_local_description(now, Some(SdpType::Answer), Some(&answer)).unwrap();
        self.a.set_remote_description(now, SdpType::Answer, &answer).unwrap();
        ch
    }
}

fn drain(p: &mut Peer) -> Vec<PeerEvent> {
    let mut v = Vec::new();
    while let Some(e) = p.poll_event() {
        v.push(e);
    }
    v
}

fn connected(events: &[PeerEvent]) -> bool {
    events.iter().any(|e| matches!(e, PeerEvent::ConnectionStateChanged(PeerConnectionState::Connected)))
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn received(events: &[PeerEvent]) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            PeerEvent::DataChannelMessage { data, .. } => Some(data.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_peer_without_sockets_connects_through_the_relay_and_exchanges_data_both_ways() {
    let mut w = World::new("secret", 7);
    let ch = w.negotiate();
    w.run_until("both peers connected", Duration::from_secs(30), |w| connected(&w.a_events) && connected(&w.b_events));

    // The relay-only peer signaled exactly one candidate: relayed, on the relay's port, with
    // the address the relay saw as raddr/rport.
    let cands: Vec<String> = w
        .a_events
        .iter()
        .filter_map(|e| match e {
            PeerEvent::IceCandidate(Some(c)) => Some(c.candidate.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(cands.len(), 1, "{cands:?}");
    let relayed = w.relayed_addr();
    assert!(cands[0].contains(&format!(" {} {} typ relay", relayed.ip(), relayed.port())), "{}", cands[0]);
    assert!(cands[0].contains("raddr 127.0.0.1 rport 50000"), "{}", cands[0]);
    assert!(w.a_events.iter().any(|e| matches!(e, PeerEvent::IceCandidate(None))), "gathering completes");
    let (local, _) = w.a.selected_candidate_pair().expect("a selected pair");
    assert!(local.contains("typ relay"), "{local}");

    w.run_until("the channel open", Duration::from_secs(10), |w| {
        w.a_events.iter().any(|e| matches!(e, PeerEvent::DataChannelOpen { .. }))
            && w.b_events.iter().any(|e| matches!(e, PeerEvent::DataChannelIncoming { .. }))
    });
    let b_ch = w
        .b_events
        .iter()
        .find_map(|e| match e {
            PeerEvent::DataChannelIncoming { channel, .. } => Some(*channel),
            _ => None,
        })
        .unwrap();

    let big = payload(256 * 1024, 3);
    let now = now_of(&w);
    w.a.send(now, ch, true, &big).unwrap();
    w.a.send(now, ch, true, b"hello from the relayed side").unwrap();
    w.b.send(now, b_ch, true, &payload(256 * 1024, 9)).unwrap();
    w.run_until("messages both ways", Duration::from_secs(30), |w| {
        received(&w.b_events).len() == 2 && received(&w.a_events).len() == 1
    });
    let at_b = received(&w.b_events);
    assert_eq!(at_b[0], big);
    assert_eq!(at_b[1], b"hello from the relayed side");
    assert_eq!(received(&w.a_events)[0], payload(256 * 1024, 9));
    assert_eq!(w.a.stats().relay_send_errors, 0);
    // getStats: the relayed candidate names its server and how it is reached; the inner
    // datagrams (not their TURN framing) are counted, on the relayed pair.
    let stats = polyrtc::engine::stats_obj(&w.a, now_of(&w));
    let Some(polyrtc::engine::Val::List(locals)) = stats.get("localCandidates") else { panic!("localCandidates") };
    let relay = locals
        .iter()
        .find_map(|c| match c {
            polyrtc::engine::Val::Obj(o) if o.get("candidateType") == Some(&polyrtc::engine::Val::Str("relay".into())) => Some(o),
            _ => None,
        })
        .expect("the relayed candidate");
    assert_eq!(relay.get("url"), Some(&polyrtc::engine::Val::Str("ws://relay.test".into())));
    assert_eq!(relay.get("relayProtocol"), Some(&polyrtc::engine::Val::Str("tcp".into())));
    let (sa, sb) = (w.a.stats(), w.b.stats());
    assert!(sa.bytes_sent >= big.len() as u64 && sb.bytes_received >= big.len() as u64, "{sa:?} {sb:?}");
    let sel = w.a.ice_agent().pair_stats().into_iter().find(|p| p.selected).expect("selected pair");
    assert_eq!(sel.local.kind, polyrtc::ice::CandidateKind::Relayed);
    assert!(sel.counters.bytes_sent >= big.len() as u64, "{sel:?}");

    // Closing releases the allocation: the relay frees the port.
    assert_eq!(w.relay.server.stats().allocations, 1);
    let now = now_of(&w);
    w.a.close(now);
    w.run_until("the allocation released", Duration::from_secs(10), |w| w.relay.server.stats().allocations == 0);
    assert_eq!(w.relay.closed_ports.len(), 1);
    // What close() queued on the relayed path (the SCTP ABORT) went out before the
    // deallocation: the host peer's channel ends.
    assert_eq!(w.a.stats().relay_send_errors, 0);
    w.run_until("the host peer's channel closed by the ABORT", Duration::from_secs(5), |w| {
        w.b_events.iter().any(|e| matches!(e, PeerEvent::DataChannelClosed { .. }))
    });
    assert_eq!(w.a.poll_timeout(), None, "nothing left to do after the deallocation");
}

#[test]
fn a_forged_datagram_from_the_peers_ip_on_another_port_is_dropped_off_path() {
    let mut w = World::new("secret", 11);
    let ch = w.negotiate();
    w.run_until("the channel open", Duration::from_secs(30), |w| {
        w.a_events.iter().any(|e| matches!(e, PeerEvent::DataChannelOpen { .. }))
    });
    // The permission is per IP (RFC 8656 §9), so the relay lets this through; the peer's ICE
    // has not validated that path, so the datagram (a well-formed DTLS record header) dies
    // there.
    let before = w.a.stats().datagrams_dropped_off_path;
    let relayed = w.relayed_addr();
    let port = w.relay.port_of(relayed);
    let mut forged = vec![23u8, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 16];
    forged.extend_from_slice(&[0xAA; 16]);
    w.relay.peer_datagram(port, "127.0.0.2:6666", &forged);
    w.settle();
    assert_eq!(w.a.stats().datagrams_dropped_off_path, before + 1);
    // The connection carries on.
    let now = now_of(&w);
    w.a.send(now, ch, false, b"still here").unwrap();
    w.run_until("the message", Duration::from_secs(10), |w| received(&w.b_events).len() == 1);
    assert_eq!(received(&w.b_events)[0], b"still here");
}

#[test]
fn a_wrong_password_gives_an_ice_candidate_error_and_no_candidate() {
    let mut w = World::new("wrong", 13);
    w.negotiate();
    w.run_until("gathering complete", Duration::from_secs(60), |w| {
        w.a_events.iter().any(|e| matches!(e, PeerEvent::IceCandidate(None)))
    });
    let errors: Vec<_> = w
        .a_events
        .iter()
        .filter_map(|e| match e {
            PeerEvent::IceCandidateError { url, error_code, error_text } => Some((url.clone(), *error_code, error_text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "ws://relay.test");
    assert_eq!(errors[0].1, 401);
    assert!(!w.a_events.iter().any(|e| matches!(e, PeerEvent::IceCandidate(Some(_)))));
    assert_eq!(w.relay.server.stats().allocations, 0);
}

#[test]
fn the_relayed_connection_outlives_allocation_permission_and_channel_lifetimes() {
    // Allocation 600 s, permissions 300 s, channels 600 s (RFC 8656): the client refreshes
    // them all while the connection is used; 40 minutes later it still carries data, over
    // the same allocation.
    let mut w = World::new("secret", 17);
    let ch = w.negotiate();
    w.run_until("the channel open", Duration::from_secs(30), |w| {
        w.a_events.iter().any(|e| matches!(e, PeerEvent::DataChannelOpen { .. }))
    });
    let relayed = w.relayed_addr();
    for minute in 0..40u8 {
        let now = now_of(&w);
        w.a.send(now, ch, true, &[minute; 64]).unwrap();
        let want = minute as usize + 1;
        w.run_until("the message of this minute", Duration::from_secs(10), |w| received(&w.b_events).len() == want);
        let end = now_of(&w) + Duration::from_secs(60);
        while now_of(&w) < end {
            w.tick(Duration::from_secs(5));
        }
    }
    let at_b = received(&w.b_events);
    assert_eq!(at_b.len(), 40);
    assert!(at_b.iter().enumerate().all(|(i, m)| m == &vec![i as u8; 64]));
    assert_eq!(w.relay.server.stats().allocations, 1);
    assert_eq!(w.relay.server.stats().allocations_created, 1, "never re-allocated");
    assert_eq!(w.relayed_addr(), relayed);
    assert!(!w.a_events.iter().any(|e| matches!(e, PeerEvent::ConnectionStateChanged(PeerConnectionState::Disconnected | PeerConnectionState::Failed))));
    assert_eq!(w.relay.server.stats().drops.no_permission, 0, "permissions never lapsed");
}
