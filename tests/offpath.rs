//! Off-path attackers: two `Peer`s over the simulated network with the virtual clock, and a
//! stranger who knows both ports and sends forged DTLS records (a plaintext fatal alert, a
//! close_notify, a ClientHello with a far-ahead message_seq), each with fresh record
//! sequence numbers so the replay window is not what stops them, while the pair is still
//! connecting. Only the ICE-validated peer steers DTLS: every forged datagram is dropped and
//! counted (`PeerStats::datagrams_dropped_off_path`), and the connection comes up as if the
//! stranger were not there. The DTLS-level defences on the accepted path are tested in
//! `src/dtls/forgery_tests.rs`.

mod common;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use common::{Datagram, Endpoint, LinkConditions, Network};
use polyrtc::crypto::Rng;
use polyrtc::dtls::wire::{
    content_type, encode_handshake, handshake_type, ClientHello, Extensions, RecordHeader, DTLS_1_2,
};
use polyrtc::peer::{
    ChannelId, DataChannelInit, DtlsTransportState, IceCandidateInit, IceConnectionState, Peer, PeerConfig, PeerConnectionState,
    PeerEvent, SdpType,
};
use polyrtc::{Time, Transmit, TransportId};

const A: usize = 0;
const B: usize = 1;
const MAX_STEPS: usize = 200_000;

struct Node {
    peer: Peer,
    addr: SocketAddr,
    log: Vec<PeerEvent>,
    msgs: HashMap<ChannelId, Vec<Vec<u8>>>,
    candidates_out: VecDeque<Option<IceCandidateInit>>,
}

impl Node {
    fn new(seed: u64, transport: TransportId, addr: SocketAddr) -> Node {
        let mut peer = Peer::new(PeerConfig::default(), Rng::seeded(seed)).expect("Peer::new");
        peer.add_local_transport(transport, addr);
        Node { peer, addr, log: Vec::new(), msgs: HashMap::new(), candidates_out: VecDeque::new() }
    }

    fn drain(&mut self) {
        while let Some(e) = self.peer.poll_event() {
            match e {
                PeerEvent::DataChannelMessage { channel, data, .. } => self.msgs.entry(channel).or_default().push(data),
                e => {
                    if let PeerEvent::IceCandidate(c) = &e {
                        self.candidates_out.push_back(c.clone());
                    }
                    self.log.push(e);
                }
            }
        }
    }

    fn dtls_states(&self) -> Vec<DtlsTransportState> {
        self.log
            .iter()
            .filter_map(|e| match e {
                PeerEvent::DtlsStateChanged(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    fn incoming(&self) -> Option<ChannelId> {
        self.log.iter().find_map(|e| match e {
            PeerEvent::DataChannelIncoming { channel, .. } => Some(*channel),
            _ => None,
        })
    }

    fn is_open(&self, ch: ChannelId) -> bool {
        self.log.iter().any(|e| matches!(e, PeerEvent::DataChannelOpen { channel } if *channel == ch))
    }

    fn has_remote_description(&self) -> bool {
        self.peer.current_remote_description().is_some() || self.peer.pending_remote_description().is_some()
    }
}

peer_endpoint!(Node);

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

fn pair(seed: u64) -> Network<Node> {
    let mut net = Network::new(seed);
    net.set_conditions(LinkConditions::ideal().delay(Duration::from_millis(10)).mtu(1500));
    let (a, b) = (addr("10.0.0.1:40000"), addr("10.0.0.2:40001"));
    assert_eq!(net.add_endpoint(Node::new(seed * 2 + 1, 1, a), &[(1, a)]), A);
    assert_eq!(net.add_endpoint(Node::new(seed * 2 + 2, 2, b), &[(2, b)]), B);
    net
}

/// Signaling: candidates go to a side once it has a remote description.
fn pump(net: &mut Network<Node>) {
    let now = net.now();
    for (from, to) in [(A, B), (B, A)] {
        let (src, dst) = net.pair_mut(from, to);
        src.drain();
        if dst.has_remote_description() {
            while let Some(c) = src.candidates_out.pop_front() {
                dst.peer.add_ice_candidate(now, c).expect("add_ice_candidate");
            }
        }
        dst.drain();
    }
}

fn drive(net: &mut Network<Node>, what: &str, max: Duration, mut cond: impl FnMut(&mut Network<Node>) -> bool) {
    if let Err(e) = net.drive_until(
        |n| {
            pump(n);
            cond(n)
        },
        max,
        MAX_STEPS,
    ) {
        let (a, b) = (net.endpoint(A), net.endpoint(B));
        panic!(
            "{what}: {e} (A dtls {:?} stats {:?}; B dtls {:?} stats {:?})",
            a.dtls_states(),
            a.peer.stats(),
            b.dtls_states(),
            b.peer.stats()
        );
    }
    pump(net);
}

// ---------------------------------------------------------------------------------------
// Forged records
// ---------------------------------------------------------------------------------------

#[derive(Copy, Clone, Debug)]
enum Forgery {
    /// A plaintext (epoch 0) fatal handshake_failure alert: 15 bytes.
    FatalAlert,
    /// A plaintext close_notify.
    CloseNotify,
    /// A well-formed ClientHello with a far-ahead message_seq.
    ClientHello,
}

fn record(ct: u8, sequence: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(13 + body.len());
    RecordHeader { content_type: ct, version: DTLS_1_2, epoch: 0, sequence, length: body.len() as u16 }
        .encode(&mut out);
    out.extend_from_slice(body);
    out
}

/// A ClientHello a server would accept (suite, group, signature scheme, extended master
/// secret), at handshake `message_seq`.
fn client_hello(rng: &mut Rng, message_seq: u16) -> Vec<u8> {
    let mut random = [0u8; 32];
    rng.fill(&mut random);
    let ch = ClientHello {
        version: DTLS_1_2,
        random,
        session_id: Vec::new(),
        cookie: Vec::new(),
        cipher_suites: vec![0xc02b, 0xc02c],
        compression_methods: vec![0],
        extensions: Extensions {
            supported_groups: Some(vec![29, 23]),
            ec_point_formats: Some(vec![0]),
            signature_algorithms: Some(vec![0x0403]),
            extended_master_secret: true,
            renegotiation_info: Some(Vec::new()),
            ..Extensions::default()
        },
    };
    let mut body = Vec::new();
    ch.encode(&mut body);
    let mut hs = Vec::new();
    encode_handshake(handshake_type::CLIENT_HELLO, message_seq, &body, &mut hs);
    hs
}

/// Forged datagram number `i` of `kind`; record sequence numbers are fresh for every one.
fn forged(kind: Forgery, rng: &mut Rng, i: u64) -> Vec<u8> {
    let sequence = 1000 + i;
    match kind {
        Forgery::FatalAlert => record(content_type::ALERT, sequence, &[2, 40]),
        Forgery::CloseNotify => record(content_type::ALERT, sequence, &[1, 0]),
        Forgery::ClientHello => {
            // Far ahead, and just ahead (what the server expects next mid-handshake).
            let seq = [1000u16, 1, 5][(i % 3) as usize];
            record(content_type::HANDSHAKE, sequence, &client_hello(rng, seq))
        }
    }
}

/// Sources a stranger uses: another host, and the peer's own IP with another port.
fn stranger_sources(net: &Network<Node>, to: usize) -> [SocketAddr; 2] {
    let peer_ip = net.endpoint(1 - to).addr.ip();
    [addr("10.0.0.99:1234"), SocketAddr::new(peer_ip, 40999)]
}

/// Injects a burst of `n` forged datagrams of `kind` into both peers, arriving in 1 ms.
/// Returns how many went to each peer.
fn burst(net: &mut Network<Node>, kind: Forgery, rng: &mut Rng, next: &mut u64, n: usize) -> [u64; 2] {
    let mut sent = [0u64; 2];
    for _ in 0..n {
        let to = (*next % 2) as usize;
        let source = stranger_sources(net, to)[(*next / 2 % 2) as usize];
        let data = forged(kind, rng, *next);
        let destination = net.endpoint(to).addr;
        let at = net.now() + Duration::from_millis(1);
        net.inject(Datagram { from: 1 - to, transport: 0, source, to, destination, data, sent_at: at }, at);
        sent[to] += 1;
        *next += 1;
    }
    sent
}

/// A offers a channel, B answers (so A is the DTLS server, B the client); from the moment
/// both have applied the descriptions a stranger floods both ports with `kind` every 2 ms of
/// virtual time, through the whole handshake and a while after.
fn stranger_floods_the_handshake(seed: u64, kind: Forgery) {
    let mut net = pair(seed);
    let mut rng = Rng::seeded(seed + 1000);
    let now = net.now();
    let (ch, _) = net.endpoint_mut(A).peer.create_data_channel(now, init()).expect("channel");
    let (o, a) = net.pair_mut(A, B);
    let offer = o.peer.create_offer().expect("offer");
    o.peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("offer SLD");
    a.peer.set_remote_description(now, SdpType::Offer, &offer).expect("offer SRD");
    let answer = a.peer.set_local_description(now, None, None).expect("answer SLD");
    o.peer.set_remote_description(now, SdpType::Answer, &answer.sdp).expect("answer SRD");
    pump(&mut net);
    let start = net.now();
    let (mut next, mut sent) = (0u64, [0u64; 2]);
    let connected = |n: &Network<Node>| n.endpoint(A).is_open(ch) && n.endpoint(B).incoming().is_some();
    // A burst every 2 ms of virtual time until the channel is open (at most 10 s).
    while !connected(&net) {
        assert!(net.now() < start + Duration::from_secs(10), "{kind:?}: the channel never opened");
        let s = burst(&mut net, kind, &mut rng, &mut next, 8);
        sent = [sent[0] + s[0], sent[1] + s[1]];
        let end = net.now() + Duration::from_millis(2);
        drive(&mut net, "flood during the handshake", Duration::from_millis(2), |n| n.now() >= end || connected(n));
    }
    // The handshake took its usual few round trips (a stalled one waits for retransmissions).
    let took = net.now() - start;
    assert!(took < Duration::from_millis(500), "{kind:?}: connected after {took:?}");
    assert!(sent[A] > 20 && sent[B] > 20, "{kind:?}: {sent:?} forged datagrams during the handshake");
    // Some more after connecting, then data both ways.
    for _ in 0..50 {
        let s = burst(&mut net, kind, &mut rng, &mut next, 8);
        sent = [sent[0] + s[0], sent[1] + s[1]];
        let end = net.now() + Duration::from_millis(2);
        drive(&mut net, "flood after connect", Duration::from_millis(2), |n| n.now() >= end);
    }
    let inc = net.endpoint(B).incoming().expect("incoming channel");
    let now = net.now();
    net.endpoint_mut(A).peer.send(now, ch, true, b"from A").expect("send");
    net.endpoint_mut(B).peer.send(now, inc, true, b"from B").expect("send");
    drive(&mut net, "messages arrive", Duration::from_secs(5), |n| {
        n.endpoint(B).msgs.contains_key(&inc) && n.endpoint(A).msgs.contains_key(&ch)
    });
    assert_eq!(net.endpoint(B).msgs[&inc], vec![b"from A".to_vec()]);
    assert_eq!(net.endpoint(A).msgs[&ch], vec![b"from B".to_vec()]);
    for side in [A, B] {
        let n = net.endpoint(side);
        assert_eq!(
            n.dtls_states(),
            vec![DtlsTransportState::Connecting, DtlsTransportState::Connected],
            "{kind:?}: side {side}"
        );
        assert_eq!(n.peer.connection_state(), PeerConnectionState::Connected);
        let stats = n.peer.stats();
        assert!(sent[side] > 200, "{kind:?}: {} forged datagrams to side {side}", sent[side]);
        assert_eq!(stats.datagrams_dropped_off_path, sent[side], "{kind:?}: side {side}: {stats:?}");
        assert_eq!(stats.dtls_errors, 0, "{kind:?}: side {side}: {stats:?}");
    }
}

fn init() -> DataChannelInit {
    DataChannelInit { label: "target".into(), ..Default::default() }
}

#[test]
fn forged_fatal_alert_from_a_stranger_mid_handshake_is_dropped() {
    stranger_floods_the_handshake(10, Forgery::FatalAlert);
}

#[test]
fn forged_close_notify_from_a_stranger_mid_handshake_is_dropped() {
    stranger_floods_the_handshake(20, Forgery::CloseNotify);
}

#[test]
fn forged_client_hello_from_a_stranger_mid_handshake_is_dropped() {
    stranger_floods_the_handshake(30, Forgery::ClientHello);
}

/// The answer reaches A two seconds late: B's checks already succeeded (A answered them),
/// so B's ClientHello arrives before A has a DTLS endpoint or a validated pair. A stranger
/// floods A meanwhile with every kind of forgery: it must neither fill the queue of early
/// datagrams (pushing the real ClientHello out) nor get replayed into the new endpoint.
#[test]
fn a_stranger_cannot_fill_the_early_dtls_queue() {
    let mut net = pair(40);
    let mut rng = Rng::seeded(41);
    let now = net.now();
    let (ch, _) = net.endpoint_mut(A).peer.create_data_channel(now, init()).expect("channel");
    let (o, a) = net.pair_mut(A, B);
    let offer = o.peer.create_offer().expect("offer");
    o.peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("offer SLD");
    a.peer.set_remote_description(now, SdpType::Offer, &offer).expect("offer SRD");
    let answer = a.peer.set_local_description(now, None, None).expect("answer SLD").sdp;
    let mut next = 0u64;
    let mut to_a = 0u64;
    let kinds = [Forgery::FatalAlert, Forgery::CloseNotify, Forgery::ClientHello];
    // Two seconds of slow signaling, a burst every 20 ms.
    for k in 0..100 {
        to_a += burst(&mut net, kinds[k % 3], &mut rng, &mut next, 8)[A];
        let end = net.now() + Duration::from_millis(20);
        drive(&mut net, "slow signaling", Duration::from_millis(20), |n| n.now() >= end);
    }
    // B's checks succeeded (A answered them): B's DTLS client has sent its ClientHello.
    assert_eq!(net.endpoint(B).peer.ice_connection_state(), IceConnectionState::Connected);
    let now = net.now();
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer).expect("answer SRD");
    let answered = net.now();
    drive(&mut net, "connects once the answer is in", Duration::from_secs(10), |n| {
        n.endpoint(A).is_open(ch) && n.endpoint(B).incoming().is_some()
    });
    let took = net.now() - answered;
    // B's ClientHello was held, not pushed out by the stranger: no wait for B's next
    // retransmission (which by now is seconds away).
    assert!(took < Duration::from_millis(300), "connected {took:?} after the answer");
    let a = net.endpoint(A);
    assert_eq!(a.dtls_states(), vec![DtlsTransportState::Connecting, DtlsTransportState::Connected]);
    let stats = a.peer.stats();
    assert!(to_a >= 400, "{to_a} forged datagrams to A");
    assert_eq!(stats.datagrams_dropped_off_path, to_a, "{stats:?}");
    assert_eq!(stats.datagrams_dropped_early, 0, "{stats:?}");
}

/// Datagrams held before the answer is applied are bounded in bytes, not only in number:
/// big DTLS-looking datagrams from the peer's own address (spoofed, or a broken peer) push
/// the oldest out, and the handshake still completes from B's retransmitted ClientHello.
#[test]
fn held_early_datagrams_are_bounded_in_bytes() {
    let mut net = pair(50);
    let now = net.now();
    let (ch, _) = net.endpoint_mut(A).peer.create_data_channel(now, init()).expect("channel");
    let (o, a) = net.pair_mut(A, B);
    let offer = o.peer.create_offer().expect("offer");
    o.peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("offer SLD");
    a.peer.set_remote_description(now, SdpType::Offer, &offer).expect("offer SRD");
    let answer = a.peer.set_local_description(now, None, None).expect("answer SLD").sdp;
    let end = net.now() + Duration::from_millis(200);
    drive(&mut net, "B's checks succeed", Duration::from_millis(200), |n| n.now() >= end);
    assert_eq!(net.endpoint(B).peer.ice_connection_state(), IceConnectionState::Connected);
    let (source, destination) = (net.endpoint(B).addr, net.endpoint(A).addr);
    let big = 20_000usize;
    for i in 0..8u64 {
        let data = record(content_type::APPLICATION_DATA, 5000 + i, &vec![0xab; big]);
        let at = net.now() + Duration::from_millis(1);
        net.inject(Datagram { from: B, transport: 0, source, to: A, destination, data, sent_at: at }, at);
    }
    let end = net.now() + Duration::from_millis(10);
    drive(&mut net, "delivered", Duration::from_millis(10), |n| n.now() >= end);
    let held = polyrtc::peer::MAX_EARLY_DTLS_BYTES / big;
    let dropped = net.endpoint(A).peer.stats().datagrams_dropped_early;
    assert!(dropped >= 8 + 1 - held as u64, "{dropped} dropped early, at most {held} of {big} bytes held");
    let now = net.now();
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer).expect("answer SRD");
    drive(&mut net, "connects from B's retransmission", Duration::from_secs(10), |n| {
        n.endpoint(A).is_open(ch) && n.endpoint(B).incoming().is_some()
    });
    assert_eq!(net.endpoint(A).dtls_states(), vec![DtlsTransportState::Connecting, DtlsTransportState::Connected]);
}
