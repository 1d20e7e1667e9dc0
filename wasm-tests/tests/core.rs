//! The sans-IO core inside WebAssembly: entropy from the JS runtime (getrandom's `js`
//! backend), P-256 certificates and AEAD, and two whole `Peer`s (ICE, DTLS, SCTP, data
//! channels) connected through memory with a virtual clock. Runs in Node and in headless
//! Chromium (`scripts/test-wasm.sh`); on the host this file compiles to nothing.
#![cfg(target_arch = "wasm32")]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use polyrtc::crypto::{AeadAlgorithm, AeadKey, Certificate, Fingerprint, Rng};
use polyrtc::peer::{
    ChannelId, DataChannelInit, IceCandidateInit, Peer, PeerConfig, PeerConnectionState, PeerEvent, SdpType,
};
use polyrtc::Time;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn entropy_comes_from_the_js_runtime() {
    let mut a = Rng::from_entropy().expect("getrandom's js backend");
    let mut b = Rng::from_entropy().expect("getrandom's js backend");
    let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
    a.fill(&mut x);
    b.fill(&mut y);
    assert_ne!(x, [0u8; 32]);
    assert_ne!(x, y, "two entropy-seeded generators agree: the seed is not random");
}

#[wasm_bindgen_test]
fn certificates_are_generated_and_fingerprinted_inside_wasm() {
    let mut rng = Rng::from_entropy().unwrap();
    let cert = Certificate::generate(&mut rng, 1_700_000_000, 1_800_000_000).expect("ECDSA P-256 certificate");
    let fp = cert.fingerprint().to_sdp_value();
    assert!(fp.starts_with("sha-256 "), "{fp}");
    let parsed = Fingerprint::parse_sdp(&fp).expect("fingerprint parses back");
    assert_eq!(parsed.to_sdp_value(), fp);
    let other = Certificate::generate(&mut rng, 1_700_000_000, 1_800_000_000).unwrap();
    assert_ne!(other.fingerprint().to_sdp_value(), fp);
}

#[wasm_bindgen_test]
fn aead_seals_and_refuses_a_flipped_bit() {
    for alg in [AeadAlgorithm::Aes128Gcm, AeadAlgorithm::Aes256Gcm, AeadAlgorithm::ChaCha20Poly1305] {
        let key = AeadKey::new(alg, &vec![7u8; alg.key_len()]).unwrap();
        let nonce = [1u8; 12];
        let mut sealed = b"datagram payload".to_vec();
        key.seal(&nonce, b"header", &mut sealed, 0).unwrap();
        let mut opened = sealed.clone();
        let n = key.open(&nonce, b"header", &mut opened).unwrap();
        assert_eq!(&opened[..n], b"datagram payload");
        let mut bad = sealed.clone();
        bad[0] ^= 1;
        assert!(key.open(&nonce, b"header", &mut bad).is_err(), "{alg:?}");
    }
}

/// One peer of the in-memory pair.
struct Node {
    peer: Peer,
    addr: SocketAddr,
    candidates: VecDeque<Option<IceCandidateInit>>,
    open: Vec<ChannelId>,
    incoming: Vec<ChannelId>,
    messages: Vec<(ChannelId, Vec<u8>)>,
}

impl Node {
    fn new(seed: u64, addr: &str) -> Node {
        let addr: SocketAddr = addr.parse().unwrap();
        let mut peer = Peer::new(PeerConfig { include_loopback: true, ..PeerConfig::default() }, Rng::seeded(seed))
            .expect("Peer::new");
        peer.add_local_transport(1, addr);
        Node { peer, addr, candidates: VecDeque::new(), open: Vec::new(), incoming: Vec::new(), messages: Vec::new() }
    }

    fn drain(&mut self) {
        while let Some(e) = self.peer.poll_event() {
            match e {
                PeerEvent::IceCandidate(c) => self.candidates.push_back(c),
                PeerEvent::DataChannelOpen { channel } => self.open.push(channel),
                PeerEvent::DataChannelIncoming { channel, .. } => self.incoming.push(channel),
                PeerEvent::DataChannelMessage { channel, data, .. } => self.messages.push((channel, data)),
                _ => {}
            }
        }
    }
}

/// Moves datagrams and candidates between the two peers and advances a virtual clock to the
/// earliest timer, until `done` or `limit` of virtual time.
fn run(nodes: &mut [Node; 2], now: &mut Time, limit: Duration, done: impl Fn(&[Node; 2]) -> bool) {
    let end = *now + limit;
    while *now < end {
        let mut moved = false;
        for i in 0..2 {
            nodes[i].drain();
            while let Some(c) = nodes[i].candidates.pop_front() {
                nodes[1 - i].peer.add_ice_candidate(*now, c).expect("add_ice_candidate");
            }
            while let Some(t) = nodes[i].peer.poll_transmit(*now) {
                moved = true;
                let from = nodes[i].addr;
                let to = &mut nodes[1 - i];
                if t.destination == to.addr {
                    to.peer.handle_datagram(*now, 1, from, &t.data);
                }
            }
        }
        if done(nodes) {
            return;
        }
        if !moved {
            let next = nodes.iter().filter_map(|n| n.peer.poll_timeout()).min().unwrap_or(end);
            *now = next.max(*now + Duration::from_millis(1)).min(end);
            for n in nodes.iter_mut() {
                n.peer.handle_timeout(*now);
            }
        }
    }
    panic!("not done after {limit:?} of virtual time");
}

#[wasm_bindgen_test]
fn two_peers_connect_and_exchange_messages_inside_wasm() {
    let mut now = Time::from_micros(1_000_000);
    let mut nodes = [Node::new(1, "127.0.0.1:40001"), Node::new(2, "127.0.0.1:40002")];
    let init = DataChannelInit { label: "wasm".into(), ..DataChannelInit::default() };
    let (ch, _) = nodes[0].peer.create_data_channel(now, init).unwrap();
    let offer = nodes[0].peer.create_offer().unwrap();
    let offer = nodes[0].peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    nodes[1].peer.set_remote_description(now, SdpType::Offer, &offer.sdp).unwrap();
    let answer = nodes[1].peer.set_local_description(now, None, None).unwrap();
    nodes[0].peer.set_remote_description(now, SdpType::Answer, &answer.sdp).unwrap();
    run(&mut nodes, &mut now, Duration::from_secs(30), |n| n[0].open.contains(&ch) && !n[1].incoming.is_empty());
    for n in &nodes {
        assert_eq!(n.peer.connection_state(), PeerConnectionState::Connected);
    }
    let theirs = nodes[1].incoming[0];
    let big: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 251) as u8).collect();
    nodes[0].peer.send(now, ch, false, b"hello from wasm").unwrap();
    nodes[0].peer.send(now, ch, true, &big).unwrap();
    nodes[1].peer.send(now, theirs, false, b"and back").unwrap();
    run(&mut nodes, &mut now, Duration::from_secs(30), |n| n[1].messages.len() >= 2 && !n[0].messages.is_empty());
    assert_eq!(nodes[1].messages[0], (theirs, b"hello from wasm".to_vec()));
    assert_eq!(nodes[1].messages[1].1.len(), big.len());
    assert!(nodes[1].messages[1].1 == big, "the 256 KiB message arrived intact");
    assert_eq!(nodes[0].messages[0], (ch, b"and back".to_vec()));
}
