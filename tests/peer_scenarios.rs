//! Whole-peer scenarios: two `Peer`s over the simulated network with the virtual clock.
//!
//! Topics: offerer roles, trickle and non-trickle ICE, candidate timing; data channels
//! (in-band from both sides, many, negotiated, ids, labels); messages (kinds, sizes,
//! `bufferedAmount` accounting); closing a channel and the peer; signaling (rollback, glare,
//! renegotiation, modified descriptions, media sections, a Chromium-style offer); failures
//! (network cut, DTLS never completing, hostile datagrams); bulk transfers under loss.
//!
//! Every drive is bounded in virtual time and in steps; every link has a non-zero delay.

mod common;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use common::{Action, Datagram, Endpoint, LinkConditions, Network};
use polyrtc::crypto::Rng;
use polyrtc::peer::{
    ChannelId, DataChannelInit, DtlsTransportState, ErrorKind, IceCandidateInit, IceConnectionState,
    IceGatheringState, Peer, PeerConfig, PeerConnectionState, PeerEvent, SdpType, SignalingState,
};
use polyrtc::sdp::jsep;
use polyrtc::sdp::SessionDescription;
use polyrtc::{Time, Transmit, TransportId};

const A: usize = 0;
const B: usize = 1;
const ADDR_A: &str = "10.0.0.1:40000";
const ADDR_B: &str = "10.0.0.2:40001";
const MAX_STEPS: usize = 200_000;

// ---------------------------------------------------------------------------------------
// The node: a Peer plus everything it told us
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
struct Incoming {
    channel: ChannelId,
    id: u16,
    label: String,
    protocol: String,
    ordered: bool,
}

struct Node {
    peer: Peer,
    addr: SocketAddr,
    /// Every event but messages, in order.
    log: Vec<PeerEvent>,
    /// Messages per channel (kept out of `log` so checks stay cheap).
    msgs: HashMap<ChannelId, Vec<(bool, Vec<u8>)>>,
    /// Events of any kind seen.
    events_seen: usize,
    /// Local candidates not yet handed to the other side.
    candidates_out: VecDeque<Option<IceCandidateInit>>,
    /// Forward candidates by trickle (else they only travel inside descriptions).
    trickle: bool,
    /// Bytes the application sent, and bytes reported gone, per channel.
    sent: HashMap<ChannelId, u64>,
    decreased: HashMap<ChannelId, u64>,
    trickled_in: usize,
    /// Messages received on a channel when its `DataChannelClosing` came.
    msgs_at_closing: HashMap<ChannelId, usize>,
}

impl Node {
    fn new(seed: u64, transport: TransportId, addr: SocketAddr, config: PeerConfig) -> Node {
        let mut peer = Peer::new(config, Rng::seeded(seed)).expect("Peer::new");
        peer.add_local_transport(transport, addr);
        Node {
            peer,
            addr,
            log: Vec::new(),
            msgs: HashMap::new(),
            events_seen: 0,
            candidates_out: VecDeque::new(),
            trickle: true,
            sent: HashMap::new(),
            decreased: HashMap::new(),
            trickled_in: 0,
            msgs_at_closing: HashMap::new(),
        }
    }

    fn drain(&mut self) {
        while let Some(e) = self.peer.poll_event() {
            self.events_seen += 1;
            if let PeerEvent::DataChannelMessage { channel, binary, data } = e {
                self.msgs.entry(channel).or_default().push((binary, data));
                continue;
            }
            match &e {
                PeerEvent::IceCandidate(c) => self.candidates_out.push_back(c.clone()),
                PeerEvent::DataChannelClosing { channel } => {
                    let n = self.msgs.get(channel).map_or(0, Vec::len);
                    self.msgs_at_closing.insert(*channel, n);
                }
                PeerEvent::DataChannelBufferedAmountDecreased { channel, bytes } => {
                    assert!(*bytes > 0, "a zero decrease is noise");
                    let d = self.decreased.entry(*channel).or_default();
                    *d += *bytes as u64;
                    let s = self.sent.get(channel).copied().unwrap_or(0);
                    assert!(*d <= s, "bufferedAmount of channel {channel} went negative: {d} gone of {s} sent");
                }
                _ => {}
            }
            self.log.push(e);
        }
    }

    fn send(&mut self, now: Time, ch: ChannelId, binary: bool, data: &[u8]) {
        self.peer.send(now, ch, binary, data).expect("send");
        *self.sent.entry(ch).or_default() += data.len() as u64;
        self.drain();
    }

    fn buffered(&self, ch: ChannelId) -> u64 {
        self.sent.get(&ch).copied().unwrap_or(0) - self.decreased.get(&ch).copied().unwrap_or(0)
    }

    fn create(&mut self, now: Time, init: DataChannelInit) -> ChannelId {
        let (ch, _) = self.peer.create_data_channel(now, init).expect("create_data_channel");
        self.drain();
        ch
    }

    fn states(&self) -> Vec<PeerConnectionState> {
        self.log
            .iter()
            .filter_map(|e| match e {
                PeerEvent::ConnectionStateChanged(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    fn ice_states(&self) -> Vec<IceConnectionState> {
        self.log
            .iter()
            .filter_map(|e| match e {
                PeerEvent::IceConnectionStateChanged(s) => Some(*s),
                _ => None,
            })
            .collect()
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

    fn connected(&self) -> bool {
        self.peer.connection_state() == PeerConnectionState::Connected
    }

    fn is_open(&self, ch: ChannelId) -> bool {
        self.log.iter().any(|e| matches!(e, PeerEvent::DataChannelOpen { channel } if *channel == ch))
            || self.incoming().iter().any(|i| i.channel == ch)
    }

    fn incoming(&self) -> Vec<Incoming> {
        self.log
            .iter()
            .filter_map(|e| match e {
                PeerEvent::DataChannelIncoming { channel, id, label, protocol, ordered, .. } => Some(Incoming {
                    channel: *channel,
                    id: *id,
                    label: label.clone(),
                    protocol: protocol.clone(),
                    ordered: *ordered,
                }),
                _ => None,
            })
            .collect()
    }

    fn incoming_labelled(&self, label: &str) -> Option<Incoming> {
        self.incoming().into_iter().find(|i| i.label == label)
    }

    fn messages(&self, ch: ChannelId) -> &[(bool, Vec<u8>)] {
        self.msgs.get(&ch).map(Vec::as_slice).unwrap_or(&[])
    }

    fn count(&self, f: impl Fn(&PeerEvent) -> bool) -> usize {
        self.log.iter().filter(|e| f(e)).count()
    }

    fn closing_count(&self, ch: ChannelId) -> usize {
        self.count(|e| matches!(e, PeerEvent::DataChannelClosing { channel } if *channel == ch))
    }

    fn closed_count(&self, ch: ChannelId) -> usize {
        self.count(|e| matches!(e, PeerEvent::DataChannelClosed { channel } if *channel == ch))
    }

    fn has_remote_description(&self) -> bool {
        self.peer.current_remote_description().is_some() || self.peer.pending_remote_description().is_some()
    }

    fn local_sdp(&self) -> String {
        self.peer
            .pending_local_description()
            .or_else(|| self.peer.current_local_description())
            .expect("a local description")
            .sdp
    }
}

peer_endpoint!(Node);

// ---------------------------------------------------------------------------------------
// Network and signaling helpers
// ---------------------------------------------------------------------------------------

fn link() -> LinkConditions {
    LinkConditions::ideal().delay(Duration::from_millis(10)).mtu(1500)
}

fn lossy() -> LinkConditions {
    LinkConditions::ideal()
        .loss(0.10)
        .duplicate(0.05)
        .delay(Duration::from_millis(15))
        .jitter(Duration::from_millis(10))
        .mtu(1500)
}

fn pair_with(seed: u64, conditions: LinkConditions, ca: PeerConfig, cb: PeerConfig) -> Network<Node> {
    let mut net = Network::new(seed);
    net.set_conditions(conditions);
    let a: SocketAddr = ADDR_A.parse().unwrap();
    let b: SocketAddr = ADDR_B.parse().unwrap();
    assert_eq!(net.add_endpoint(Node::new(seed * 2 + 1, 1, a, ca), &[(1, a)]), A);
    assert_eq!(net.add_endpoint(Node::new(seed * 2 + 2, 2, b, cb), &[(2, b)]), B);
    net
}

fn pair(seed: u64, conditions: LinkConditions) -> Network<Node> {
    pair_with(seed, conditions, PeerConfig::default(), PeerConfig::default())
}

fn other(side: usize) -> usize {
    1 - side
}

/// Application signaling: drains events, trickles candidates to a side that has a remote
/// description (earlier ones wait in the queue).
fn pump(net: &mut Network<Node>) {
    let now = net.now();
    for (from, to) in [(A, B), (B, A)] {
        let (src, dst) = net.pair_mut(from, to);
        src.drain();
        if src.trickle && dst.has_remote_description() {
            while let Some(c) = src.candidates_out.pop_front() {
                dst.peer.add_ice_candidate(now, c).expect("add_ice_candidate");
                dst.trickled_in += 1;
            }
        }
        dst.drain();
    }
}

fn drive(net: &mut Network<Node>, what: &str, max: Duration, mut cond: impl FnMut(&mut Network<Node>) -> bool) {
    let r = net.drive_until(
        |n| {
            pump(n);
            cond(n)
        },
        max,
        MAX_STEPS,
    );
    if let Err(e) = r {
        let (a, b) = (net.endpoint(A), net.endpoint(B));
        panic!(
            "{what}: {e} (A: {:?} ice {:?} dtls {:?}; B: {:?} ice {:?} dtls {:?})",
            a.states(),
            a.ice_states(),
            a.dtls_states(),
            b.states(),
            b.ice_states(),
            b.dtls_states()
        );
    }
    pump(net);
}

/// Runs the network for `d` of virtual time with signaling pumped.
fn run_for(net: &mut Network<Node>, d: Duration) {
    let end = net.now() + d;
    let r = net.drive_until(
        |n| {
            pump(n);
            n.now() >= end
        },
        d,
        MAX_STEPS,
    );
    match r {
        Ok(()) | Err(common::DriveError::Timeout { .. }) | Err(common::DriveError::Idle { .. }) => {}
        Err(e) => panic!("run_for: {e}"),
    }
    pump(net);
}

/// Offer from `offerer` (explicit createOffer + setLocalDescription), answer by implicit
/// `setLocalDescription()`.
fn offer_answer(net: &mut Network<Node>, offerer: usize) {
    let now = net.now();
    let (o, a) = net.pair_mut(offerer, other(offerer));
    let offer = o.peer.create_offer().expect("create_offer");
    let offer = o.peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("offer SLD");
    assert_eq!(o.peer.signaling_state(), SignalingState::HaveLocalOffer);
    a.peer.set_remote_description(now, SdpType::Offer, &offer.sdp).expect("offer SRD");
    assert_eq!(a.peer.signaling_state(), SignalingState::HaveRemoteOffer);
    let answer = a.peer.set_local_description(now, None, None).expect("implicit answer SLD");
    assert_eq!(answer.ty, SdpType::Answer);
    o.peer.set_remote_description(now, SdpType::Answer, &answer.sdp).expect("answer SRD");
    assert_eq!(o.peer.signaling_state(), SignalingState::Stable);
    assert_eq!(a.peer.signaling_state(), SignalingState::Stable);
    o.drain();
    a.drain();
}

fn wait_connected(net: &mut Network<Node>) {
    drive(net, "both peers connect", Duration::from_secs(30), |n| {
        n.endpoint(A).connected()
            && n.endpoint(B).connected()
            && n.endpoint(A).log.iter().any(|e| matches!(e, PeerEvent::SctpConnected { .. }))
            && n.endpoint(B).log.iter().any(|e| matches!(e, PeerEvent::SctpConnected { .. }))
    });
}

/// `offerer` creates a channel labelled `label`, negotiates, and both connect. Returns the
/// offerer's channel and the other side's incoming channel.
fn connect(net: &mut Network<Node>, offerer: usize, label: &str) -> (ChannelId, ChannelId) {
    let now = net.now();
    let ch = net.endpoint_mut(offerer).create(now, init(label));
    assert!(net.endpoint(offerer).peer.is_negotiation_needed());
    offer_answer(net, offerer);
    wait_connected(net);
    let ans = other(offerer);
    drive(net, "the first channel opens", Duration::from_secs(5), |n| {
        n.endpoint(offerer).is_open(ch) && n.endpoint(ans).incoming_labelled(label).is_some()
    });
    let inc = net.endpoint(ans).incoming_labelled(label).unwrap();
    (ch, inc.channel)
}

fn init(label: &str) -> DataChannelInit {
    DataChannelInit { label: label.into(), protocol: "proto".into(), ..Default::default() }
}

fn negotiated(label: &str, id: u16) -> DataChannelInit {
    DataChannelInit { label: label.into(), negotiated: true, id: Some(id), ..Default::default() }
}

/// Sends `data` from `from` on `ch` and drives until `to` has `n_expected` messages on `to_ch`.
fn exchange(net: &mut Network<Node>, from: usize, ch: ChannelId, to_ch: ChannelId, binary: bool, data: &[u8]) {
    let to = other(from);
    let before = net.endpoint(to).messages(to_ch).len();
    let now = net.now();
    net.endpoint_mut(from).send(now, ch, binary, data);
    drive(net, "a message arrives", Duration::from_secs(10), |n| n.endpoint(to).messages(to_ch).len() > before);
    let got = net.endpoint(to).messages(to_ch);
    assert_eq!(got.last().unwrap(), &(binary, data.to_vec()), "message intact with its kind");
}

fn pattern(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill(&mut v);
    v
}

// ---------------------------------------------------------------------------------------
// Roles, trickle, candidates
// ---------------------------------------------------------------------------------------

#[test]
fn either_side_can_offer_and_stream_ids_follow_the_dtls_role() {
    for offerer in [A, B] {
        let mut net = pair(10 + offerer as u64, link());
        let (ch, inc) = connect(&mut net, offerer, "roles");
        let ans = other(offerer);
        // The answerer took setup:active (DTLS client): the offerer is the server and uses
        // odd stream ids (RFC 8832 §6).
        let id = net.endpoint(offerer).peer.channel_id(ch).expect("id assigned");
        assert_eq!(id % 2, 1, "offerer (DTLS server) uses odd ids");
        assert_eq!(net.endpoint(ans).incoming()[0].id, id);
        assert!(net.endpoint(offerer).log.contains(&PeerEvent::DataChannelIdAssigned { channel: ch, id }));
        let now = net.now();
        let ch2 = net.endpoint_mut(ans).create(now, init("from-answerer"));
        drive(&mut net, "answerer's channel arrives", Duration::from_secs(5), |n| {
            n.endpoint(offerer).incoming_labelled("from-answerer").is_some()
        });
        let id2 = net.endpoint(ans).peer.channel_id(ch2).unwrap();
        assert_eq!(id2 % 2, 0, "answerer (DTLS client) uses even ids");
        let inc2 = net.endpoint(offerer).incoming_labelled("from-answerer").unwrap();
        exchange(&mut net, offerer, ch, inc, false, "from the offerer".as_bytes());
        exchange(&mut net, ans, inc, ch, true, b"\x00\x01back");
        exchange(&mut net, ans, ch2, inc2.channel, false, b"second");
        exchange(&mut net, offerer, inc2.channel, ch2, true, b"second back");
        assert!(net.endpoint(ans).trickled_in > 0 && net.endpoint(offerer).trickled_in > 0);
    }
}

#[test]
fn non_trickle_candidates_only_inside_complete_descriptions() {
    let mut net = pair(20, link());
    net.endpoint_mut(A).trickle = false;
    net.endpoint_mut(B).trickle = false;
    let now = net.now();
    let ch = net.endpoint_mut(A).create(now, init("vanilla"));
    let offer = net.endpoint_mut(A).peer.create_offer().unwrap();
    net.endpoint_mut(A).peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    drive(&mut net, "offerer gathers", Duration::from_secs(10), |n| {
        n.endpoint(A).peer.ice_gathering_state() == IceGatheringState::Complete
    });
    let offer = net.endpoint(A).local_sdp();
    assert!(offer.contains("a=candidate:"), "gathered candidates are in the offer:\n{offer}");
    assert!(offer.contains("a=end-of-candidates"), "the offer says gathering is complete");
    let now = net.now();
    net.endpoint_mut(B).peer.set_remote_description(now, SdpType::Offer, &offer).unwrap();
    net.endpoint_mut(B).peer.set_local_description(now, None, None).unwrap();
    drive(&mut net, "answerer gathers", Duration::from_secs(10), |n| {
        n.endpoint(B).peer.ice_gathering_state() == IceGatheringState::Complete
    });
    let answer = net.endpoint(B).local_sdp();
    assert!(answer.contains("a=candidate:") && answer.contains("a=end-of-candidates"), "{answer}");
    let now = net.now();
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer).unwrap();
    wait_connected(&mut net);
    drive(&mut net, "channel opens", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("vanilla").is_some());
    let inc = net.endpoint(B).incoming_labelled("vanilla").unwrap().channel;
    exchange(&mut net, A, ch, inc, false, b"no trickle needed");
    assert_eq!(net.endpoint(A).trickled_in + net.endpoint(B).trickled_in, 0, "nothing trickled");
}

#[test]
fn candidates_before_the_remote_description_are_refused_and_late_ones_accepted() {
    let mut net = pair(30, link());
    let now = net.now();
    let ch = net.endpoint_mut(A).create(now, init("early"));
    let offer = net.endpoint_mut(A).peer.create_offer().unwrap();
    net.endpoint_mut(A).peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    drive(&mut net, "offerer gathers", Duration::from_secs(5), |n| {
        n.endpoint(A).peer.ice_gathering_state() == IceGatheringState::Complete
    });
    let cands: Vec<Option<IceCandidateInit>> = net.endpoint(A).candidates_out.iter().cloned().collect();
    assert!(cands.len() >= 2, "a host candidate and the end marker: {cands:?}");
    // W3C addIceCandidate: no remote description -> InvalidStateError.
    for c in &cands {
        let e = net.endpoint_mut(B).peer.add_ice_candidate(now, c.clone()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidState, "{e}");
    }
    // The offer goes through signaling without its candidates.
    let now = net.now();
    net.endpoint_mut(B).peer.set_remote_description(now, SdpType::Offer, &offer).unwrap();
    let answer = net.endpoint_mut(B).peer.set_local_description(now, None, None).unwrap();
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer.sdp).unwrap();
    // Hold A's candidates back for a while: B cannot reach A yet, but A can reach B once
    // B's candidates trickle, and B learns A as peer-reflexive.
    net.endpoint_mut(A).trickle = true;
    let held: Vec<Option<IceCandidateInit>> = net.endpoint_mut(A).candidates_out.drain(..).collect();
    wait_connected(&mut net);
    // Late candidates (already known, end-of-candidates included) are accepted and harmless.
    let now = net.now();
    for c in held {
        net.endpoint_mut(B).peer.add_ice_candidate(now, c).expect("a late candidate is accepted");
    }
    // A candidate for an unknown mid or generation is an error, not a crash.
    let bad = IceCandidateInit {
        candidate: "candidate:1 1 udp 2122260223 10.9.9.9 5000 typ host".into(),
        sdp_mid: Some("nope".into()),
        ..Default::default()
    };
    assert_eq!(net.endpoint_mut(B).peer.add_ice_candidate(now, Some(bad)).unwrap_err().kind, ErrorKind::Operation);
    let stale = IceCandidateInit {
        candidate: "candidate:1 1 udp 2122260223 10.9.9.9 5000 typ host".into(),
        sdp_mid: Some("0".into()),
        username_fragment: Some("zzzzzzzz".into()),
        ..Default::default()
    };
    assert_eq!(net.endpoint_mut(B).peer.add_ice_candidate(now, Some(stale)).unwrap_err().kind, ErrorKind::Operation);
    drive(&mut net, "channel opens", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("early").is_some());
    let inc = net.endpoint(B).incoming_labelled("early").unwrap().channel;
    exchange(&mut net, A, ch, inc, false, b"late candidates did not hurt");
    assert!(net.endpoint(A).connected() && net.endpoint(B).connected());
    // After close: InvalidState again.
    let now = net.now();
    net.endpoint_mut(B).peer.close(now);
    let e = net.endpoint_mut(B).peer.add_ice_candidate(now, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidState);
}

// ---------------------------------------------------------------------------------------
// Channels
// ---------------------------------------------------------------------------------------

#[test]
fn in_band_channels_from_both_sides_at_once_do_not_collide() {
    let mut net = pair(40, link());
    let (ch, inc) = connect(&mut net, A, "first");
    let now = net.now();
    let mut mine = Vec::new();
    for i in 0..5 {
        let a = net.endpoint_mut(A).create(now, init(&format!("a{i}")));
        let b = net.endpoint_mut(B).create(now, init(&format!("b{i}")));
        mine.push((a, b, i));
    }
    drive(&mut net, "all ten channels arrive", Duration::from_secs(10), |n| {
        n.endpoint(A).incoming().len() == 5 && n.endpoint(B).incoming().len() == 6
    });
    let mut ids = Vec::new();
    for (a, b, i) in &mine {
        let ida = net.endpoint(A).peer.channel_id(*a).unwrap();
        let idb = net.endpoint(B).peer.channel_id(*b).unwrap();
        assert_eq!(ida % 2, 1, "A is the DTLS server");
        assert_eq!(idb % 2, 0, "B is the DTLS client");
        ids.push(ida);
        ids.push(idb);
        let at_b = net.endpoint(B).incoming_labelled(&format!("a{i}")).unwrap();
        let at_a = net.endpoint(A).incoming_labelled(&format!("b{i}")).unwrap();
        assert_eq!((at_b.id, at_a.id), (ida, idb));
        exchange(&mut net, A, *a, at_b.channel, false, format!("to b via a{i}").as_bytes());
        exchange(&mut net, B, *b, at_a.channel, false, format!("to a via b{i}").as_bytes());
        exchange(&mut net, B, at_b.channel, *a, true, &[*i as u8; 3]);
        exchange(&mut net, A, at_a.channel, *b, true, &[*i as u8; 4]);
    }
    ids.push(net.endpoint(A).peer.channel_id(ch).unwrap());
    let mut dedup = ids.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert_eq!(dedup.len(), ids.len(), "every stream id distinct: {ids:?}");
    exchange(&mut net, A, ch, inc, false, b"the first one still works");
}

#[test]
fn a_hundred_channels_before_and_after_connecting() {
    let mut net = pair(50, link());
    let now = net.now();
    let before: Vec<ChannelId> = (0..50).map(|i| net.endpoint_mut(A).create(now, init(&format!("pre-{i}")))).collect();
    offer_answer(&mut net, A);
    wait_connected(&mut net);
    let now = net.now();
    let after: Vec<ChannelId> = (0..50).map(|i| net.endpoint_mut(A).create(now, init(&format!("post-{i}")))).collect();
    drive(&mut net, "100 channels arrive", Duration::from_secs(20), |n| n.endpoint(B).incoming().len() == 100);
    let all: Vec<(String, ChannelId)> = before
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("pre-{i}"), *c))
        .chain(after.iter().enumerate().map(|(i, c)| (format!("post-{i}"), *c)))
        .collect();
    let mut ids = Vec::new();
    let now = net.now();
    for (label, ch) in &all {
        assert!(net.endpoint(A).is_open(*ch), "{label} open");
        let inc = net.endpoint(B).incoming_labelled(label).unwrap_or_else(|| panic!("{label} arrived"));
        assert_eq!(Some(inc.id), net.endpoint(A).peer.channel_id(*ch));
        assert_eq!(inc.protocol, "proto");
        ids.push(inc.id);
        net.endpoint_mut(A).send(now, *ch, false, label.as_bytes());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 100);
    drive(&mut net, "one message per channel", Duration::from_secs(10), |n| {
        n.endpoint(B).incoming().iter().all(|i| !n.endpoint(B).messages(i.channel).is_empty())
    });
    for i in net.endpoint(B).incoming() {
        assert_eq!(net.endpoint(B).messages(i.channel), vec![(false, i.label.as_bytes().to_vec())]);
    }
}

#[test]
fn negotiated_channels_with_the_same_id_on_both_sides() {
    let mut net = pair(60, link());
    let now = net.now();
    let na = net.endpoint_mut(A).create(now, negotiated("shared", 7));
    let nb = net.endpoint_mut(B).create(now, negotiated("shared", 7));
    assert_eq!(net.endpoint(A).peer.channel_id(na), Some(7));
    // Same id twice on one side: OperationError (W3C createDataChannel step).
    let e = net.endpoint_mut(A).peer.create_data_channel(now, negotiated("dup", 7)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Operation);
    // The negotiated channel alone makes negotiation needed (it needs the SCTP transport).
    assert!(net.endpoint(A).peer.is_negotiation_needed());
    offer_answer(&mut net, A);
    wait_connected(&mut net);
    drive(&mut net, "negotiated channels open", Duration::from_secs(5), |n| {
        n.endpoint(A).is_open(na) && n.endpoint(B).is_open(nb)
    });
    exchange(&mut net, A, na, nb, false, "negotiated ✓".as_bytes());
    exchange(&mut net, B, nb, na, true, b"and back");
    assert!(net.endpoint(A).incoming().is_empty() && net.endpoint(B).incoming().is_empty(), "no DCEP open");
    // An in-band channel skips ids taken by negotiated ones; a negotiated one cannot take an
    // id already used by an in-band one.
    let now = net.now();
    let ib = net.endpoint_mut(A).create(now, init("inband"));
    let ib_id = net.endpoint(A).peer.channel_id(ib).unwrap();
    assert_ne!(ib_id, 7);
    let e = net.endpoint_mut(A).peer.create_data_channel(now, negotiated("clash", ib_id)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Operation);
    let e = net.endpoint_mut(B).peer.create_data_channel(now, negotiated("clash", 7)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Operation);
    // 65535 is not a valid id.
    let e = net.endpoint_mut(B).peer.create_data_channel(now, negotiated("max", 65535)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Type);
    drive(&mut net, "in-band arrives", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("inband").is_some());
    let inc = net.endpoint(B).incoming_labelled("inband").unwrap();
    exchange(&mut net, B, inc.channel, ib, false, b"ok");
}

#[test]
fn labels_and_protocols_travel_through_dcep_including_unicode() {
    let mut net = pair(70, link());
    let (_, _) = connect(&mut net, A, "plain");
    let long: String = "ł".repeat(2000);
    let cases: Vec<(String, String, bool, Option<u16>, Option<u16>)> = vec![
        ("".into(), "".into(), true, None, None),
        ("日本語のラベル 🚀".into(), "протокол".into(), false, None, Some(3)),
        ("emoji 👩‍👩‍👧".into(), "x-proto/1.0".into(), true, Some(250), None),
        (long.clone(), long.clone(), false, Some(0), None),
    ];
    let now = net.now();
    let mut made = Vec::new();
    for (i, (label, protocol, ordered, rt, lt)) in cases.iter().enumerate() {
        let c = net.endpoint_mut(B).create(
            now,
            DataChannelInit {
                label: label.clone(),
                protocol: protocol.clone(),
                ordered: *ordered,
                max_retransmits: *rt,
                max_packet_life_time: *lt,
                ..Default::default()
            },
        );
        made.push((i, c));
    }
    drive(&mut net, "all labelled channels arrive", Duration::from_secs(5), |n| n.endpoint(A).incoming().len() == 4);
    let got = net.endpoint(A).incoming();
    for (i, c) in made {
        let (label, protocol, ordered, _, _) = &cases[i];
        let id = net.endpoint(B).peer.channel_id(c).unwrap();
        let inc = got.iter().find(|g| g.id == id).expect("arrived");
        assert_eq!(&inc.label, label);
        assert_eq!(&inc.protocol, protocol);
        assert_eq!(inc.ordered, *ordered);
    }
    let full = net
        .endpoint(A)
        .log
        .iter()
        .find_map(|e| match e {
            PeerEvent::DataChannelIncoming { label, max_retransmits, max_packet_life_time, .. }
                if label.starts_with("emoji") =>
            {
                Some((*max_retransmits, *max_packet_life_time))
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(full, (Some(250), None));
}

#[test]
fn remote_channel_names_are_bounded_in_bytes() {
    // Review regression: 65534 remote channels with 64 KiB labels and protocols each were
    // all kept (8 GiB). Opens past MAX_CHANNEL_NAME_BYTES are ignored.
    let mut net = pair(71, link());
    let (_, _) = connect(&mut net, A, "plain"); // A holds "plain" + "proto": 10 bytes
    let label = "a".repeat(65535);
    let protocol = "b".repeat(65535);
    let per = label.len() + protocol.len();
    let fit = (polyrtc::peer::MAX_CHANNEL_NAME_BYTES - 10) / per;
    let now = net.now();
    for _ in 0..fit + 3 {
        net.endpoint_mut(B).create(
            now,
            DataChannelInit { label: label.clone(), protocol: protocol.clone(), ..Default::default() },
        );
    }
    drive(&mut net, "the channels that fit arrive", Duration::from_secs(60), |n| n.endpoint(A).incoming().len() >= fit);
    run_for(&mut net, Duration::from_secs(3));
    assert_eq!(net.endpoint(A).incoming().len(), fit);
    assert!(net.endpoint(A).connected());
}

// ---------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------

#[test]
fn every_message_kind_and_the_largest_size_both_ways() {
    let mut net = pair(80, link());
    let (ch, inc) = connect(&mut net, A, "kinds");
    let max = net.endpoint(A).peer.sctp_max_message_size().unwrap();
    assert_eq!(max, 256 * 1024);
    assert_eq!(net.endpoint(B).peer.sctp_max_message_size(), Some(max));
    let mut rng = Rng::seeded(81);
    let big = pattern(&mut rng, max);
    let big_text: Vec<u8> = "ü".repeat(max / 2).into_bytes();
    assert_eq!(big_text.len(), max);
    for (from, c, to_c) in [(A, ch, inc), (B, inc, ch)] {
        exchange(&mut net, from, c, to_c, false, "héllo wörld".as_bytes());
        exchange(&mut net, from, c, to_c, true, &[0, 1, 2, 255]);
        exchange(&mut net, from, c, to_c, false, b"");
        exchange(&mut net, from, c, to_c, true, b"");
        exchange(&mut net, from, c, to_c, true, &big);
        exchange(&mut net, from, c, to_c, false, &big_text);
        // One byte over: TypeError, nothing sent, the channel unharmed.
        let now = net.now();
        let over = vec![7u8; max + 1];
        let e = net.endpoint_mut(from).peer.send(now, c, true, &over).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Type, "{e}");
        exchange(&mut net, from, c, to_c, false, b"after the refused one");
    }
    let n = net.endpoint(B).messages(inc).len();
    assert_eq!(n, 7, "exactly the accepted messages arrived (no oversize one)");
    run_for(&mut net, Duration::from_secs(2));
    for (side, c) in [(A, ch), (B, inc)] {
        assert_eq!(net.endpoint(side).buffered(c), 0, "side {side}: every sent byte reported gone");
        assert_eq!(net.endpoint(side).sent[&c], net.endpoint(side).decreased[&c]);
    }
}

#[test]
fn remote_max_message_size_limits_what_we_send() {
    let small = PeerConfig { max_message_size: 16 * 1024, ..PeerConfig::default() };
    let mut net = pair_with(90, link(), PeerConfig::default(), small);
    let (ch, inc) = connect(&mut net, A, "limited");
    assert_eq!(net.endpoint(A).peer.sctp_max_message_size(), Some(16 * 1024));
    assert!(net.endpoint(A).log.iter().any(|e| matches!(e, PeerEvent::SctpConnected { max_message_size, .. } if *max_message_size == 16 * 1024)));
    exchange(&mut net, A, ch, inc, true, &vec![1u8; 16 * 1024]);
    let now = net.now();
    let e = net.endpoint_mut(A).peer.send(now, ch, true, &vec![1u8; 16 * 1024 + 1]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Type);
    let e = net.endpoint_mut(A).peer.send(now, ch, false, &vec![b'x'; 100_000]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Type);
    exchange(&mut net, A, ch, inc, false, b"still fine");
}

#[test]
fn buffered_amount_is_exact_under_loss() {
    let mut net = pair(100, link());
    let (ch, inc) = connect(&mut net, A, "accounting");
    let now = net.now();
    let u = net.endpoint_mut(A).create(now, DataChannelInit { ordered: false, max_retransmits: Some(0), ..init("lossy") });
    drive(&mut net, "second channel", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("lossy").is_some());
    let u_inc = net.endpoint(B).incoming_labelled("lossy").unwrap().channel;
    net.set_conditions(lossy());
    let mut rng = Rng::seeded(101);
    let now = net.now();
    let mut total = 0u64;
    for i in 0..200usize {
        let len = match i % 5 {
            0 => 0,
            1 => 1,
            2 => 1159,
            3 => 5000,
            _ => rng.below(20_000) as usize,
        };
        let m = pattern(&mut rng, len);
        net.endpoint_mut(A).send(now, ch, true, &m);
        net.endpoint_mut(A).send(now, u, true, &m);
        total += len as u64;
    }
    // bufferedAmount falls when data is sent, not when it is acknowledged (webrtc-pc): the
    // first flight is reported gone at once, what congestion control holds back is not.
    let b = net.endpoint(A).buffered(ch);
    assert!(b > 0 && b < total, "{b} of {total} still buffered before any ack");
    drive(&mut net, "reliable channel drains", Duration::from_secs(120), |n| {
        n.endpoint(A).buffered(ch) == 0 && n.endpoint(B).messages(inc).len() == 200
    });
    drive(&mut net, "partially reliable channel drains", Duration::from_secs(60), |n| n.endpoint(A).buffered(u) == 0);
    assert_eq!(net.endpoint(A).decreased[&ch], total);
    assert_eq!(net.endpoint(A).decreased[&u], total, "abandoned messages leave the buffer too");
    assert!(net.endpoint(B).messages(u_inc).len() <= 200);
}

#[test]
fn buffered_amount_falls_when_data_is_sent_not_when_acknowledged() {
    // webrtc-pc: [[BufferedAmount]] is reduced "when the underlying data transport sends
    // data from its queue". On a 10 ms link the acknowledgement of a message reaches the
    // sender 10 ms after the message reached the receiver: by then it must be gone.
    let mut net = pair(102, link());
    let (ch, inc) = connect(&mut net, A, "sent");
    let now = net.now();
    let na = net.endpoint_mut(A).create(now, negotiated("neg", 9));
    let nb = net.endpoint_mut(B).create(now, negotiated("neg", 9));
    drive(&mut net, "negotiated pair open", Duration::from_secs(5), |n| n.endpoint(A).is_open(na) && n.endpoint(B).is_open(nb));
    run_for(&mut net, Duration::from_millis(100));
    for (c, to_c) in [(ch, inc), (na, nb)] {
        for i in 0..5usize {
            let now = net.now();
            net.endpoint_mut(A).send(now, c, false, format!("small {i}").as_bytes());
            let mut buffered_on_arrival = None;
            drive(&mut net, "the message arrives", Duration::from_secs(5), |n| {
                let arrived = n.endpoint(B).messages(to_c).len() > i;
                if arrived {
                    buffered_on_arrival = Some(n.endpoint(A).buffered(c));
                }
                arrived
            });
            assert_eq!(buffered_on_arrival, Some(0), "channel {c}, message {i}: bufferedAmount once received");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Closing
// ---------------------------------------------------------------------------------------

fn close_and_reuse(closer: usize, seed: u64) {
    let mut net = pair(seed, link());
    let (ch, inc) = connect(&mut net, A, "to-close");
    let id = net.endpoint(A).peer.channel_id(ch).unwrap();
    let (mine, theirs) = if closer == A { (ch, inc) } else { (inc, ch) };
    let peer_side = other(closer);
    // Data queued before close still arrives (the reset waits for it).
    let now = net.now();
    net.endpoint_mut(closer).send(now, mine, false, b"last words");
    net.endpoint_mut(closer).peer.close_channel(now, mine);
    net.endpoint_mut(closer).drain();
    let e = net.endpoint_mut(closer).peer.send(now, mine, false, b"too late").unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidState);
    drive(&mut net, "channel closes on both sides", Duration::from_secs(10), |n| {
        n.endpoint(closer).closed_count(mine) > 0 && n.endpoint(peer_side).closed_count(theirs) > 0
    });
    run_for(&mut net, Duration::from_secs(5));
    assert_eq!(net.endpoint(peer_side).messages(theirs), vec![(false, b"last words".to_vec())]);
    assert_eq!(net.endpoint(closer).closed_count(mine), 1);
    assert_eq!(net.endpoint(peer_side).closed_count(theirs), 1);
    assert_eq!(net.endpoint(peer_side).closing_count(theirs), 1, "remote close announced once");
    let closing_at = net.endpoint(peer_side).log.iter().position(|e| *e == PeerEvent::DataChannelClosing { channel: theirs });
    let closed_at = net.endpoint(peer_side).log.iter().position(|e| *e == PeerEvent::DataChannelClosed { channel: theirs });
    assert!(closing_at < closed_at, "closing before closed");
    // Closing again is a no-op; sending on the closed channel fails.
    let now = net.now();
    net.endpoint_mut(closer).peer.close_channel(now, mine);
    net.endpoint_mut(peer_side).peer.close_channel(now, theirs);
    run_for(&mut net, Duration::from_secs(1));
    assert_eq!(net.endpoint(closer).closed_count(mine), 1);
    assert_eq!(net.endpoint(peer_side).closed_count(theirs), 1);
    assert!(net.endpoint_mut(peer_side).peer.send(now, theirs, false, b"x").is_err());
    // The stream id is free again: A's next in-band channel takes it.
    let now = net.now();
    let again = net.endpoint_mut(A).create(now, init("reused"));
    assert_eq!(net.endpoint(A).peer.channel_id(again), Some(id), "lowest free odd id reused");
    drive(&mut net, "reused channel arrives", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("reused").is_some());
    let inc2 = net.endpoint(B).incoming_labelled("reused").unwrap();
    assert_eq!(inc2.id, id);
    exchange(&mut net, A, again, inc2.channel, false, b"new life");
    exchange(&mut net, B, inc2.channel, again, false, b"indeed");
    assert_eq!(net.endpoint(B).messages(inc), vec![(false, b"last words".to_vec())].into_iter().filter(|_| closer == A).collect::<Vec<_>>());
}

#[test]
fn channel_closed_by_the_opener() {
    close_and_reuse(A, 110);
}

#[test]
fn channel_closed_by_the_receiver() {
    close_and_reuse(B, 111);
}

#[test]
fn channel_closed_by_both_sides_at_once() {
    let mut net = pair(112, link());
    let (ch, inc) = connect(&mut net, A, "both");
    let now = net.now();
    net.endpoint_mut(A).peer.close_channel(now, ch);
    net.endpoint_mut(B).peer.close_channel(now, inc);
    drive(&mut net, "both closed", Duration::from_secs(10), |n| {
        n.endpoint(A).closed_count(ch) > 0 && n.endpoint(B).closed_count(inc) > 0
    });
    run_for(&mut net, Duration::from_secs(3));
    assert_eq!(net.endpoint(A).closed_count(ch), 1);
    assert_eq!(net.endpoint(B).closed_count(inc), 1);
    assert!(net.endpoint(A).closing_count(ch) <= 1 && net.endpoint(B).closing_count(inc) <= 1);
    let now = net.now();
    let again = net.endpoint_mut(A).create(now, init("after"));
    drive(&mut net, "new channel", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("after").is_some());
    let i2 = net.endpoint(B).incoming_labelled("after").unwrap();
    exchange(&mut net, A, again, i2.channel, false, b"works");
}

#[test]
fn peer_close_aborts_the_remote_channels_and_goes_quiet() {
    let mut net = pair(120, link());
    let (ch, inc) = connect(&mut net, A, "doomed");
    let now = net.now();
    let ch2 = net.endpoint_mut(B).create(now, init("doomed-too"));
    drive(&mut net, "second channel", Duration::from_secs(5), |n| n.endpoint(A).incoming_labelled("doomed-too").is_some());
    let now = net.now();
    net.endpoint_mut(A).peer.close(now);
    net.endpoint_mut(A).drain();
    assert_eq!(net.endpoint(A).peer.connection_state(), PeerConnectionState::Closed);
    assert_eq!(net.endpoint(A).peer.signaling_state(), SignalingState::Closed);
    assert!(net.endpoint(A).peer.poll_timeout().is_none(), "a closed peer wants no timer");
    let quiet_from = net.endpoint(A).events_seen;
    // Every API call on the closed side: InvalidState.
    let a = &mut net.endpoint_mut(A).peer;
    assert_eq!(a.create_offer().unwrap_err().kind, ErrorKind::InvalidState);
    assert_eq!(a.create_data_channel(now, init("x")).unwrap_err().kind, ErrorKind::InvalidState);
    assert_eq!(a.send(now, ch, false, b"x").unwrap_err().kind, ErrorKind::InvalidState);
    assert_eq!(a.set_local_description(now, None, None).unwrap_err().kind, ErrorKind::InvalidState);
    drive(&mut net, "remote channels close (ABORT)", Duration::from_secs(5), |n| {
        n.endpoint(B).closed_count(inc) == 1 && n.endpoint(B).closed_count(ch2) == 1
    });
    drive(&mut net, "remote connection goes disconnected or failed", Duration::from_secs(60), |n| {
        n.endpoint(B).states().contains(&PeerConnectionState::Failed)
    });
    let states = net.endpoint(B).states();
    let connected = states.iter().position(|s| *s == PeerConnectionState::Connected).unwrap();
    let tail = &states[connected + 1..];
    assert!(tail.iter().all(|s| matches!(s, PeerConnectionState::Disconnected | PeerConnectionState::Failed | PeerConnectionState::Connected)), "{states:?}");
    assert_eq!(net.endpoint(B).ice_states().last(), Some(&IceConnectionState::Failed));
    run_for(&mut net, Duration::from_secs(10));
    assert_eq!(net.endpoint(A).events_seen, quiet_from, "no events after close: {:?}", net.endpoint(A).log.last());
    assert_eq!(net.endpoint(B).closed_count(inc), 1);
    let now = net.now();
    assert!(net.endpoint_mut(A).peer.poll_transmit(now).is_none());
}

// ---------------------------------------------------------------------------------------
// Signaling
// ---------------------------------------------------------------------------------------

#[test]
fn rollback_of_a_local_and_of_a_remote_offer() {
    let mut net = pair(130, link());
    let now = net.now();
    let ch = net.endpoint_mut(A).create(now, init("rb"));
    // Local offer, rolled back.
    let a = &mut net.endpoint_mut(A).peer;
    let first = a.set_local_description(now, None, None).unwrap();
    assert_eq!(first.ty, SdpType::Offer);
    assert_eq!(a.signaling_state(), SignalingState::HaveLocalOffer);
    a.set_local_description(now, Some(SdpType::Rollback), None).unwrap();
    assert_eq!(a.signaling_state(), SignalingState::Stable);
    assert!(a.pending_local_description().is_none() && a.current_local_description().is_none());
    // Rollback in stable: InvalidState.
    assert_eq!(a.set_local_description(now, Some(SdpType::Rollback), None).unwrap_err().kind, ErrorKind::InvalidState);
    assert_eq!(a.set_remote_description(now, SdpType::Rollback, "").unwrap_err().kind, ErrorKind::InvalidState);
    // A remote offer at B, rolled back.
    let offer = a.set_local_description(now, None, None).unwrap();
    let b = &mut net.endpoint_mut(B).peer;
    b.set_remote_description(now, SdpType::Offer, &offer.sdp).unwrap();
    assert_eq!(b.signaling_state(), SignalingState::HaveRemoteOffer);
    b.set_remote_description(now, SdpType::Rollback, "").unwrap();
    assert_eq!(b.signaling_state(), SignalingState::Stable);
    assert!(b.pending_remote_description().is_none() && b.current_remote_description().is_none());
    // Without a remote description again, candidates are refused.
    let e = b.add_ice_candidate(now, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidState);
    // Answering after the rollback: no remote offer -> createAnswer refused.
    assert_eq!(b.create_answer().unwrap_err().kind, ErrorKind::InvalidState);
    // The same offer applied again completes normally.
    b.set_remote_description(now, SdpType::Offer, &offer.sdp).unwrap();
    let answer = b.set_local_description(now, None, None).unwrap();
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer.sdp).unwrap();
    wait_connected(&mut net);
    drive(&mut net, "channel", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("rb").is_some());
    let inc = net.endpoint(B).incoming_labelled("rb").unwrap().channel;
    exchange(&mut net, A, ch, inc, false, b"after two rollbacks");
}

#[test]
fn glare_resolved_by_implicit_rollback_perfect_negotiation() {
    let mut net = pair(140, link());
    let now = net.now();
    let ca = net.endpoint_mut(A).create(now, init("from-a"));
    let cb = net.endpoint_mut(B).create(now, init("from-b"));
    // Both make offers at once.
    let offer_a = net.endpoint_mut(A).peer.set_local_description(now, None, None).unwrap();
    let offer_b = net.endpoint_mut(B).peer.set_local_description(now, None, None).unwrap();
    assert_eq!((offer_a.ty, offer_b.ty), (SdpType::Offer, SdpType::Offer));
    run_for(&mut net, Duration::from_millis(50));
    // A (impolite) ignores B's offer; B (polite) accepts A's, rolling its own back.
    let b = &mut net.endpoint_mut(B).peer;
    b.set_remote_description(now, SdpType::Offer, &offer_a.sdp).expect("implicit rollback");
    assert_eq!(b.signaling_state(), SignalingState::HaveRemoteOffer);
    assert!(b.pending_local_description().is_none());
    let answer = b.set_local_description(now, None, None).unwrap();
    assert_eq!(answer.ty, SdpType::Answer);
    // Implicit rollback only applies to offers: an answer in have-local-offer is wrong
    // at A only if it is not an answer; here it is, and A applies it.
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer.sdp).unwrap();
    wait_connected(&mut net);
    drive(&mut net, "both channels arrive", Duration::from_secs(5), |n| {
        n.endpoint(B).incoming_labelled("from-a").is_some() && n.endpoint(A).incoming_labelled("from-b").is_some()
    });
    let ib = net.endpoint(B).incoming_labelled("from-a").unwrap().channel;
    let ia = net.endpoint(A).incoming_labelled("from-b").unwrap().channel;
    exchange(&mut net, A, ca, ib, false, b"a to b");
    exchange(&mut net, B, cb, ia, false, b"b to a");
    // The rolled-back side can make the next offer (renegotiation from B).
    offer_answer(&mut net, B);
    exchange(&mut net, B, cb, ia, true, b"after renegotiation");
}

#[test]
fn renegotiation_after_connect_keeps_the_association() {
    let mut net = pair(150, link());
    let (ch, inc) = connect(&mut net, A, "kept");
    let sctp_events = |n: &Node| n.count(|e| matches!(e, PeerEvent::SctpConnected { .. }));
    let dtls_before = (net.endpoint(A).dtls_states(), net.endpoint(B).dtls_states());
    for (round, offerer) in [A, B, A].into_iter().enumerate() {
        let now = net.now();
        // Data in flight while renegotiating.
        net.endpoint_mut(A).send(now, ch, false, format!("during {round}").as_bytes());
        offer_answer(&mut net, offerer);
        assert!(!net.endpoint(A).peer.is_negotiation_needed());
        let now = net.now();
        let label = format!("round-{round}");
        let c = net.endpoint_mut(offerer).create(now, init(&label));
        let to = other(offerer);
        drive(&mut net, "new channel after renegotiation", Duration::from_secs(5), |n| {
            n.endpoint(to).incoming_labelled(&label).is_some()
        });
        let i = net.endpoint(to).incoming_labelled(&label).unwrap().channel;
        exchange(&mut net, offerer, c, i, false, label.as_bytes());
        exchange(&mut net, B, inc, ch, false, b"old channel alive");
    }
    assert_eq!(sctp_events(net.endpoint(A)), 1, "one association");
    assert_eq!(sctp_events(net.endpoint(B)), 1, "one association");
    assert_eq!((net.endpoint(A).dtls_states(), net.endpoint(B).dtls_states()), dtls_before, "DTLS untouched");
    let got: Vec<Vec<u8>> = net.endpoint(B).messages(inc).iter().map(|(_, d)| d.clone()).collect();
    for round in 0..3 {
        assert!(got.contains(&format!("during {round}").into_bytes()));
    }
    assert!(net.endpoint(A).connected() && net.endpoint(B).connected());
}

/// Replaces the value of the first line starting with `prefix`.
fn replace_line(sdp: &str, prefix: &str, new_line: &str) -> String {
    let mut done = false;
    let out: Vec<String> = sdp
        .split("\r\n")
        .map(|l| {
            if !done && l.starts_with(prefix) {
                done = true;
                new_line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(done, "{prefix} in\n{sdp}");
    out.join("\r\n")
}

#[test]
fn set_local_description_with_a_modified_sdp_is_refused() {
    let mut net = pair(160, link());
    let now = net.now();
    net.endpoint_mut(A).create(now, init("m"));
    let a = &mut net.endpoint_mut(A).peer;
    let offer = a.create_offer().unwrap();
    for (prefix, line) in [
        ("a=ice-ufrag:", "a=ice-ufrag:hackhack"),
        ("a=ice-pwd:", "a=ice-pwd:0123456789012345678901234"),
        ("a=setup:", "a=setup:active"),
        ("a=mid:", "a=mid:other"),
    ] {
        let bad = replace_line(&offer, prefix, line);
        assert_ne!(bad, offer);
        let e = a.set_local_description(now, Some(SdpType::Offer), Some(&bad)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidModification, "{prefix}: {e}");
        assert_eq!(a.signaling_state(), SignalingState::Stable);
    }
    // An answer never created: InvalidModification (have-remote-offer needed first, so
    // in stable it is InvalidState).
    let e = a.set_local_description(now, Some(SdpType::Answer), Some(&offer)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidState);
    // Unchanged text, or one with only cosmetic changes, is accepted.
    let cosmetic = offer.replace("s=-", "s=renamed");
    a.set_local_description(now, Some(SdpType::Offer), Some(&cosmetic)).expect("cosmetic change accepted");
    // At B: an answer text that B did not create.
    let b = &mut net.endpoint_mut(B).peer;
    b.set_remote_description(now, SdpType::Offer, &cosmetic).unwrap();
    let answer = b.create_answer().unwrap();
    let bad = replace_line(&answer, "a=ice-ufrag:", "a=ice-ufrag:hackhack");
    let e = b.set_local_description(now, Some(SdpType::Answer), Some(&bad)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidModification);
    let bad = replace_line(&answer, "a=setup:", "a=setup:passive");
    let e = b.set_local_description(now, Some(SdpType::Answer), Some(&bad)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidModification);
    b.set_local_description(now, Some(SdpType::Answer), Some(&answer)).expect("the real answer");
}

/// A media section as Chromium writes it (values our own, layout typical).
fn chromium_media(kind: &str, mid: &str, creds: &str, with_candidates: &str) -> String {
    let (proto_fmts, body) = if kind == "audio" {
        (
            "UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
            "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
             a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n\
             a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
             a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
             a=sendrecv\r\n\
             a=msid:s1 t-audio\r\n\
             a=rtcp-mux\r\n\
             a=rtcp-rsize\r\n\
             a=rtpmap:111 opus/48000/2\r\n\
             a=rtcp-fb:111 transport-cc\r\n\
             a=fmtp:111 minptime=10;useinbandfec=1\r\n\
             a=rtpmap:63 red/48000/2\r\n\
             a=fmtp:63 111/111\r\n\
             a=rtpmap:9 G722/8000\r\n\
             a=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:13 CN/8000\r\n\
             a=rtpmap:110 telephone-event/48000\r\n\
             a=rtpmap:126 telephone-event/8000\r\n\
             a=ssrc:1111 cname:Zs9cTWBQj7UqPmTo\r\n\
             a=ssrc:1111 msid:s1 t-audio\r\n",
        )
    } else {
        (
            "UDP/TLS/RTP/SAVPF 96 97 98 99",
            "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n\
             a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n\
             a=extmap:13 urn:3gpp:video-orientation\r\n\
             a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
             a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
             a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n\
             a=sendrecv\r\n\
             a=msid:s1 t-video\r\n\
             a=rtcp-mux\r\n\
             a=rtcp-rsize\r\n\
             a=rtpmap:96 VP8/90000\r\n\
             a=rtcp-fb:96 goog-remb\r\n\
             a=rtcp-fb:96 transport-cc\r\n\
             a=rtcp-fb:96 ccm fir\r\n\
             a=rtcp-fb:96 nack\r\n\
             a=rtcp-fb:96 nack pli\r\n\
             a=rtpmap:97 rtx/90000\r\n\
             a=fmtp:97 apt=96\r\n\
             a=rtpmap:98 VP9/90000\r\n\
             a=fmtp:98 profile-id=0\r\n\
             a=rtpmap:99 rtx/90000\r\n\
             a=fmtp:99 apt=98\r\n\
             a=ssrc-group:FID 2222 3333\r\n\
             a=ssrc:2222 cname:Zs9cTWBQj7UqPmTo\r\n\
             a=ssrc:3333 cname:Zs9cTWBQj7UqPmTo\r\n",
        )
    };
    format!(
        "m={kind} 9 {proto_fmts}\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n{with_candidates}{creds}a=mid:{mid}\r\n{body}"
    )
}

/// Rewrites one of our offers the way Chromium would write an offer with audio, video and
/// data (BUNDLE tagged by the audio section, candidates only there). `data_mid` names the
/// data section; ICE and DTLS values are kept so a connection can still be made.
fn chromium_offer(ours: &str, media_first: bool) -> String {
    let parsed = SessionDescription::parse(ours).unwrap();
    let m = &parsed.media[0];
    let ufrag = m.attr("ice-ufrag").unwrap();
    let pwd = m.attr("ice-pwd").unwrap();
    let fp = m.attr("fingerprint").unwrap();
    let candidates: String = m
        .attrs("candidate")
        .map(|c| format!("a=candidate:{c}\r\n"))
        .chain(m.has_attr("end-of-candidates").then(|| "a=end-of-candidates\r\n".to_string()))
        .collect();
    let creds = format!(
        "a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\na=ice-options:trickle\r\na=fingerprint:{fp}\r\na=setup:actpass\r\n"
    );
    let (audio_mid, video_mid, data_mid) = if media_first { ("0", "1", "2") } else { ("1", "2", "0") };
    let audio = chromium_media("audio", audio_mid, &creds, if media_first { &candidates } else { "" });
    let video = chromium_media("video", video_mid, &creds, "");
    let data = format!(
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n{}{creds}a=mid:{data_mid}\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n",
        if media_first { "" } else { candidates.as_str() }
    );
    let group = "0 1 2";
    let head = format!(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE {group}\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS s1\r\n"
    );
    if media_first {
        format!("{head}{audio}{video}{data}")
    } else {
        format!("{head}{data}{audio}{video}")
    }
}

/// Checks an answer to a three-section offer: data accepted, the bundled audio and video
/// sections accepted to receive (recvonly, codecs Chromium offered, the bundle's transport).
fn check_answer_to_media_offer(answer: &str, data_index: usize) {
    let parsed = SessionDescription::parse(answer).expect("our answer parses");
    assert_eq!(parsed.media.len(), 3, "one answer section per offered section:\n{answer}");
    for (i, m) in parsed.media.iter().enumerate() {
        assert_ne!(m.port, 0, "section {i} accepted:\n{answer}");
        assert_eq!(m.attr("setup"), Some("active"));
        assert!(m.attr("ice-ufrag").is_some() && m.attr("fingerprint").is_some(), "the bundle's transport");
        if i == data_index {
            assert_eq!(m.proto, "UDP/DTLS/SCTP");
            assert_eq!(m.formats, vec!["webrtc-datachannel".to_string()]);
            assert_eq!(m.attr("sctp-port"), Some("5000"));
            assert!(m.attr("max-message-size").is_some());
        } else {
            assert!(m.proto.starts_with("UDP/TLS/RTP/SAVPF"), "same proto kept");
            assert!(m.has_attr("recvonly") && m.has_attr("rtcp-mux"), "receives only, muxed:\n{answer}");
            assert!(!m.formats.is_empty(), "a codec in common");
        }
        if i != 0 {
            assert!(m.attr("candidate").is_none(), "candidates go in the BUNDLE tag (the first section)");
        }
    }
    let mids: Vec<&str> = parsed.media.iter().filter_map(|m| m.mid()).collect();
    assert_eq!(parsed.attr("group"), Some(format!("BUNDLE {}", mids.join(" ")).as_str()), "all bundled");
    let data_mid = parsed.media[data_index].mid().unwrap().to_string();
    let remote = jsep::parse_remote(&parsed, false).expect("the answer is usable by an offerer");
    assert_eq!(remote.data_mline_index, Some(data_index));
    assert_eq!(remote.data_mid.as_deref(), Some(data_mid.as_str()));
    assert!(!remote.rejected);
    assert_eq!(remote.setup, jsep::Setup::Active);
    assert_eq!(remote.fingerprints.len(), 1);
    assert_eq!(remote.media.len(), 2, "both media sections read back");
}

fn b_local_sdp(net: &Network<Node>) -> String {
    net.endpoint(B).peer.current_local_description().map(|d| d.sdp).expect("B has a local description")
}

fn chromium_like_offer_is_answered(media_first: bool, seed: u64) {
    let mut net = pair(seed, link());
    net.endpoint_mut(A).trickle = false;
    let now = net.now();
    let ch = net.endpoint_mut(A).create(now, init("chromium"));
    net.endpoint_mut(A).peer.set_local_description(now, None, None).unwrap();
    drive(&mut net, "A gathers", Duration::from_secs(5), |n| {
        n.endpoint(A).peer.ice_gathering_state() == IceGatheringState::Complete
    });
    let offer = chromium_offer(&net.endpoint(A).local_sdp(), media_first);
    let data_index = if media_first { 2 } else { 0 };
    let now = net.now();
    let b = &mut net.endpoint_mut(B).peer;
    b.set_remote_description(now, SdpType::Offer, &offer).expect("Chromium-style offer accepted");
    assert_eq!(b.can_trickle_ice_candidates(), Some(true));
    let answer = b.create_answer().expect("create_answer");
    check_answer_to_media_offer(&answer, data_index);
    let applied = b.set_local_description(now, Some(SdpType::Answer), Some(&answer)).unwrap();
    check_answer_to_media_offer(&applied.sdp, data_index);
    // B trickles its candidates with the BUNDLE tag's mid and index (the first section).
    drive(&mut net, "B gathers", Duration::from_secs(5), |n| {
        n.endpoint(B).peer.ice_gathering_state() == IceGatheringState::Complete
    });
    assert!(!net.endpoint(B).candidates_out.is_empty());
    for c in net.endpoint(B).candidates_out.iter().flatten() {
        assert_eq!(c.sdp_mid.as_deref(), Some("0"));
        assert_eq!(c.sdp_mline_index, Some(0));
    }
    let gathered = SessionDescription::parse(&b_local_sdp(&net)).expect("B's local description");
    assert!(gathered.media[0].attr("candidate").is_some(), "B's local description has its candidates in the tag");
    // Our own peer plays Chromium's part for the rest: it takes the answer and connects.
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &applied.sdp).expect("answer applied");
    wait_connected(&mut net);
    drive(&mut net, "channel", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("chromium").is_some());
    let inc = net.endpoint(B).incoming_labelled("chromium").unwrap().channel;
    exchange(&mut net, A, ch, inc, false, b"hello from chromium's side");
    exchange(&mut net, B, inc, ch, false, b"hello back");
}

#[test]
fn chromium_style_offer_with_audio_video_and_data_is_answered() {
    chromium_like_offer_is_answered(true, 170);
}

#[test]
fn offer_with_data_first_then_media_is_answered() {
    chromium_like_offer_is_answered(false, 171);
}

// ---------------------------------------------------------------------------------------
// Failures
// ---------------------------------------------------------------------------------------

/// Datagrams `side` sent at or after `since` (from the trace).
fn sent_since(net: &Network<Node>, side: usize, since: Time) -> usize {
    net.trace().filter(|e| e.from == side && e.at >= since).count()
}

/// Drives until both sides are `failed`; returns when each side got there.
fn until_both_failed(net: &mut Network<Node>, max: Duration) -> [Time; 2] {
    let mut failed_at: [Option<Time>; 2] = [None, None];
    drive(net, "failed", max, |n| {
        for side in [A, B] {
            if failed_at[side].is_none() && n.endpoint(side).peer.connection_state() == PeerConnectionState::Failed {
                failed_at[side] = Some(n.now());
            }
        }
        failed_at.iter().all(Option::is_some)
    });
    [failed_at[A].unwrap(), failed_at[B].unwrap()]
}

#[test]
fn network_cut_after_connect_goes_disconnected_then_failed() {
    let mut net = pair(180, link());
    net.enable_trace();
    let (ch, inc) = connect(&mut net, A, "cut");
    let cut_at = net.now();
    net.set_conditions(link().loss(1.0));
    drive(&mut net, "disconnected", Duration::from_secs(20), |n| {
        n.endpoint(A).peer.connection_state() == PeerConnectionState::Disconnected
            && n.endpoint(B).peer.connection_state() == PeerConnectionState::Disconnected
    });
    let disconnected_after = net.now() - cut_at;
    assert!(disconnected_after >= Duration::from_secs(2), "not too eager: {disconnected_after:?}");
    // Consent checks go on while disconnected (that is how the path can come back).
    let disconnected_at = net.now();
    let failed_at = until_both_failed(&mut net, Duration::from_secs(60));
    assert!(sent_since(&net, A, disconnected_at) > sent_since(&net, A, failed_at[A]));
    let failed_after = net.now() - cut_at;
    assert!(failed_after <= Duration::from_secs(45), "consent freshness fails within ~30 s: {failed_after:?}");
    for side in [A, B] {
        let n = net.endpoint(side);
        let ice = n.ice_states();
        let at = ice.iter().rposition(|s| matches!(s, IceConnectionState::Connected | IceConnectionState::Completed)).unwrap();
        assert_eq!(&ice[at + 1..], &[IceConnectionState::Disconnected, IceConnectionState::Failed], "side {side}: {ice:?}");
        let st = n.states();
        let at = st.iter().rposition(|s| *s == PeerConnectionState::Connected).unwrap();
        assert_eq!(&st[at + 1..], &[PeerConnectionState::Disconnected, PeerConnectionState::Failed], "side {side}");
    }
    // The channels are still open (W3C): sending is accepted and queued, not sent.
    let now = net.now();
    net.endpoint_mut(A).send(now, ch, false, b"while failed");
    net.endpoint_mut(B).send(now, inc, true, b"while failed too");
    // And it stays failed when the network comes back.
    net.set_conditions(link());
    run_for(&mut net, Duration::from_secs(10));
    assert_eq!(net.endpoint(A).peer.connection_state(), PeerConnectionState::Failed);
    assert_eq!(net.endpoint(B).peer.connection_state(), PeerConnectionState::Failed);
    // RFC 7675 §5.1: once consent is lost nothing more is sent: no consent check, no DTLS,
    // no SCTP retransmission, heartbeat or SACK, not the message sent meanwhile.
    for side in [A, B] {
        assert_eq!(sent_since(&net, side, failed_at[side]), 0, "side {side} sent after failing");
    }
    assert!(net.endpoint(B).messages(inc).is_empty() && net.endpoint(A).messages(ch).is_empty());
}

/// What the application sends while consent is lost waits (nothing goes on the wire) and
/// arrives, intact and in order, once an ICE restart validated a path again.
#[test]
fn data_sent_while_failed_is_delivered_after_an_ice_restart() {
    let mut net = pair(182, link());
    net.enable_trace();
    let (ch, inc) = connect(&mut net, A, "resume");
    exchange(&mut net, A, ch, inc, false, b"before the cut");
    net.set_conditions(link().loss(1.0));
    let failed_at = until_both_failed(&mut net, Duration::from_secs(60));
    let mut rng = Rng::seeded(183);
    let from_a: Vec<Vec<u8>> = (0..20).map(|i| numbered(&mut rng, i, 3000)).collect();
    let from_b: Vec<Vec<u8>> = (0..5).map(|i| numbered(&mut rng, 100 + i, 500)).collect();
    let now = net.now();
    for m in &from_a {
        net.endpoint_mut(A).send(now, ch, true, m);
    }
    for m in &from_b {
        net.endpoint_mut(B).send(now, inc, true, m);
    }
    net.set_conditions(link());
    run_for(&mut net, Duration::from_secs(5));
    for side in [A, B] {
        assert_eq!(sent_since(&net, side, failed_at[side]), 0, "side {side} sent while failed");
    }
    assert_eq!(net.endpoint(B).messages(inc).len(), 1, "only the message from before the cut");
    // W3C restartIce(): a new offer with new credentials, from the side that wants it.
    net.endpoint_mut(A).peer.restart_ice();
    assert!(net.endpoint(A).peer.is_negotiation_needed());
    offer_answer(&mut net, A);
    let restarted = net.now();
    drive(&mut net, "connected again", Duration::from_secs(30), |n| n.endpoint(A).connected() && n.endpoint(B).connected());
    drive(&mut net, "everything sent while failed arrives", Duration::from_secs(30), |n| {
        n.endpoint(B).messages(inc).len() == 1 + from_a.len() && n.endpoint(A).messages(ch).len() == from_b.len()
    });
    let took = net.now() - restarted;
    assert!(took < Duration::from_secs(2), "resumed {took:?} after the restart (no back-off inherited from the outage)");
    let got_b: Vec<Vec<u8>> = net.endpoint(B).messages(inc)[1..].iter().map(|(_, d)| d.clone()).collect();
    let got_a: Vec<Vec<u8>> = net.endpoint(A).messages(ch).iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(got_b, from_a, "A's messages intact and in order");
    assert_eq!(got_a, from_b, "B's messages intact and in order");
    exchange(&mut net, B, inc, ch, false, b"and on we go");
}

#[test]
fn short_outage_recovers_to_connected() {
    let mut net = pair(181, link());
    let (ch, inc) = connect(&mut net, A, "blip");
    net.set_conditions(link().loss(1.0));
    drive(&mut net, "disconnected", Duration::from_secs(20), |n| {
        n.endpoint(A).peer.connection_state() == PeerConnectionState::Disconnected
    });
    net.set_conditions(link());
    drive(&mut net, "connected again", Duration::from_secs(15), |n| n.endpoint(A).connected() && n.endpoint(B).connected());
    exchange(&mut net, A, ch, inc, false, b"survived the outage");
}

#[test]
fn dtls_never_completing_fails_in_bounded_time() {
    let mut net = pair(190, link());
    net.set_hook(|d: &Datagram| match d.data.first() {
        Some(20..=63) => Action::Drop,
        _ => Action::Deliver,
    });
    let now = net.now();
    net.endpoint_mut(A).create(now, init("never"));
    offer_answer(&mut net, A);
    drive(&mut net, "both DTLS transports fail", Duration::from_secs(90), |n| {
        n.endpoint(A).peer.dtls_state() == DtlsTransportState::Failed
            && n.endpoint(B).peer.dtls_state() == DtlsTransportState::Failed
    });
    assert!(net.now() <= Time::ZERO + Duration::from_secs(45), "bounded: {:?}", net.now());
    for side in [A, B] {
        let n = net.endpoint(side);
        assert_eq!(n.peer.connection_state(), PeerConnectionState::Failed);
        assert!(!n.states().contains(&PeerConnectionState::Connected));
        assert!(n.dtls_states().ends_with(&[DtlsTransportState::Connecting, DtlsTransportState::Failed]));
        // ICE itself was fine.
        assert!(n.ice_states().contains(&IceConnectionState::Connected));
    }
    assert!(net.stats().hook_dropped > 0);
    // DTLS let through again: a failed transport stays failed.
    net.clear_hook();
    run_for(&mut net, Duration::from_secs(20));
    for side in [A, B] {
        assert_eq!(net.endpoint(side).peer.dtls_state(), DtlsTransportState::Failed);
        assert!(!net.endpoint(side).states().contains(&PeerConnectionState::Connected));
    }
}

/// Captures real datagrams from `from`'s side while `n` messages go through.
fn hostile_inputs(net: &mut Network<Node>, rng: &mut Rng, real: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let _ = net;
    let mut out = Vec::new();
    // Seeded random bytes of random lengths (empty included).
    for _ in 0..300 {
        let len = rng.below(1400) as usize;
        out.push(pattern(rng, len));
    }
    // The first byte in each demultiplexing range (RFC 7983), the rest random.
    for first in [0u8, 1, 2, 3, 20, 21, 22, 23, 24, 25, 63, 64, 79, 127, 128, 191, 255] {
        for len in [1usize, 2, 4, 12, 13, 14, 20, 25, 40, 100, 600] {
            let mut d = pattern(rng, len);
            d[0] = first;
            out.push(d);
        }
    }
    // Plausible headers: a STUN binding request with the magic cookie and a DTLS record
    // header (each content type, epochs 0 and 1) with random or short bodies.
    for ty in [0x0001u16, 0x0101, 0x0111, 0x0003] {
        for body_len in [0usize, 4, 8, 24, 100] {
            let mut d = Vec::new();
            d.extend_from_slice(&ty.to_be_bytes());
            d.extend_from_slice(&(body_len as u16).to_be_bytes());
            d.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
            d.extend_from_slice(&pattern(rng, 12));
            d.extend_from_slice(&pattern(rng, body_len));
            out.push(d);
        }
    }
    for ct in 20u8..=25 {
        for epoch in [0u16, 1, 2] {
            for len in [0u16, 1, 2, 16, 40, 300] {
                let mut d = vec![ct, 0xfe, 0xfd];
                d.extend_from_slice(&epoch.to_be_bytes());
                d.extend_from_slice(&[0, 0, 0, 0, 0, 99]);
                d.extend_from_slice(&len.to_be_bytes());
                d.extend_from_slice(&pattern(rng, usize::from(len)));
                out.push(d);
            }
        }
    }
    // Real packets, truncated at every length and with single bit flips.
    for r in real {
        for cut in 0..r.len() {
            out.push(r[..cut].to_vec());
        }
        for _ in 0..8 {
            let mut d = r.clone();
            if !d.is_empty() {
                let i = rng.below(d.len() as u64) as usize;
                d[i] ^= 1 << rng.below(8);
            }
            out.push(d);
        }
        // Replays.
        out.push(r.clone());
    }
    out
}

#[test]
fn hostile_datagrams_never_panic_or_break_the_connection() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let mut net = pair(200, link());
    let captured: Rc<RefCell<Vec<Datagram>>> = Rc::new(RefCell::new(Vec::new()));
    let cap = captured.clone();
    net.set_hook(move |d: &Datagram| {
        let mut c = cap.borrow_mut();
        if c.len() < 400 {
            c.push(d.clone());
        }
        Action::Deliver
    });
    let (ch, inc) = connect(&mut net, A, "target");
    exchange(&mut net, A, ch, inc, false, b"captured");
    exchange(&mut net, B, inc, ch, true, b"captured too");
    net.clear_hook();
    let real: Vec<Datagram> = captured.borrow().clone();
    assert!(real.iter().any(|d| d.data.first().is_some_and(|b| *b <= 3)), "STUN captured");
    assert!(real.iter().any(|d| d.data.first().is_some_and(|b| (20..=63).contains(b))), "DTLS captured");
    let mut rng = Rng::seeded(201);
    // A varied sample of real packets (handshake flights, application data, STUN).
    let sample: Vec<Vec<u8>> = real.iter().step_by((real.len() / 40).max(1)).map(|d| d.data.clone()).collect();
    let inputs = hostile_inputs(&mut net, &mut rng, &sample);
    let stranger: SocketAddr = "10.0.0.99:1234".parse().unwrap();
    let mut count = 0;
    for (i, data) in inputs.into_iter().enumerate() {
        let (to, from_addr) = if i % 2 == 0 { (B, net.endpoint(A).addr) } else { (A, net.endpoint(B).addr) };
        let source = if i % 7 == 0 { stranger } else { from_addr };
        let destination = net.endpoint(to).addr;
        let at = net.now() + Duration::from_micros((i % 50) as u64 * 100);
        net.inject(Datagram { from: other(to), transport: 0, source, to, destination, data, sent_at: at }, at);
        count += 1;
        if i % 200 == 0 {
            run_for(&mut net, Duration::from_millis(20));
        }
    }
    // Every captured datagram replayed to where it first went (handshake flights, old
    // application records, STUN transactions): replay protection, no restart.
    for d in &real {
        let at = net.now() + Duration::from_millis(1);
        net.inject(Datagram { sent_at: at, ..d.clone() }, at);
        count += 1;
    }
    run_for(&mut net, Duration::from_secs(2));
    assert!(count > 1000, "{count} hostile datagrams");
    let sa = net.endpoint(A).peer.stats();
    let sb = net.endpoint(B).peer.stats();
    assert!(sa.stun_errors + sa.dtls_errors + sa.datagrams_dropped_unknown > 100, "{sa:?}");
    assert!(sb.stun_errors + sb.dtls_errors + sb.datagrams_dropped_unknown > 100, "{sb:?}");
    for side in [A, B] {
        let n = net.endpoint(side);
        assert!(n.connected(), "side {side} still connected: {:?}", n.states());
        assert_eq!(n.dtls_states().last(), Some(&DtlsTransportState::Connected));
        assert_eq!(n.closed_count(if side == A { ch } else { inc }), 0, "channel survived");
    }
    exchange(&mut net, A, ch, inc, false, b"still here");
    exchange(&mut net, B, inc, ch, false, b"me too");
    // And a while later (consent checks keep succeeding).
    run_for(&mut net, Duration::from_secs(40));
    assert!(net.endpoint(A).connected() && net.endpoint(B).connected());
    exchange(&mut net, A, ch, inc, true, b"after 40 s");
}

// ---------------------------------------------------------------------------------------
// Bulk under bad conditions
// ---------------------------------------------------------------------------------------

fn numbered(rng: &mut Rng, i: u32, len: usize) -> Vec<u8> {
    let mut m = pattern(rng, len.max(4));
    m[..4].copy_from_slice(&i.to_be_bytes());
    m
}

/// Sends `msgs` each way listed in `dirs` at once (window-paced by bufferedAmount) and
/// checks every message arrives intact, once, in order.
fn bulk(net: &mut Network<Node>, dirs: &[(usize, ChannelId, ChannelId)], msgs: &[Vec<u8>], max: Duration) {
    let window = 1024 * 1024u64;
    let mut next = vec![0usize; dirs.len()];
    let r = net.drive_until(
        |n| {
            pump(n);
            let now = n.now();
            for (k, &(from, ch, _)) in dirs.iter().enumerate() {
                let node = n.endpoint_mut(from);
                while next[k] < msgs.len() && node.buffered(ch) < window {
                    node.send(now, ch, true, &msgs[next[k]]);
                    next[k] += 1;
                }
            }
            dirs.iter().enumerate().all(|(k, &(from, _, to_ch))| {
                next[k] == msgs.len() && n.endpoint(other(from)).messages(to_ch).len() >= msgs.len()
            })
        },
        max,
        MAX_STEPS,
    );
    r.expect("bulk transfer completes");
    for &(from, _, to_ch) in dirs {
        let got = net.endpoint(other(from)).messages(to_ch);
        assert_eq!(got.len(), msgs.len());
        for (i, ((_, g), m)) in got.iter().zip(msgs).enumerate() {
            assert!(g == m, "direction {from}: message {i} intact and in order");
        }
    }
}

#[test]
fn ten_mib_under_loss_with_mtu_1200() {
    let mut net = pair(210, link());
    let (ch, inc) = connect(&mut net, A, "mtu");
    net.set_conditions(lossy().mtu(1200));
    let mut rng = Rng::seeded(211);
    let msgs: Vec<Vec<u8>> = (0..160).map(|i| numbered(&mut rng, i, 64 * 1024)).collect();
    bulk(&mut net, &[(A, ch, inc)], &msgs, Duration::from_secs(900));
    assert_eq!(net.stats().mtu_dropped, 0, "nothing over 1200 bytes was sent");
    assert!(net.stats().lost > 0 && net.stats().duplicated > 0);
}

#[test]
fn handshake_and_transfer_with_mtu_1200_from_the_start() {
    let mut net = pair(212, lossy().mtu(1200));
    let (ch, inc) = connect(&mut net, A, "mtu-from-start");
    let mut rng = Rng::seeded(213);
    let msgs: Vec<Vec<u8>> = (0..20).map(|i| numbered(&mut rng, i, 100_000)).collect();
    bulk(&mut net, &[(A, ch, inc), (B, inc, ch)], &msgs, Duration::from_secs(300));
    assert_eq!(net.stats().mtu_dropped, 0, "DTLS handshake and SCTP stayed under 1200 bytes");
}

#[test]
fn ten_mib_each_way_at_once_under_loss() {
    let mut net = pair(220, link());
    let (ch, inc) = connect(&mut net, A, "duplex");
    net.set_conditions(lossy());
    let mut rng = Rng::seeded(221);
    let msgs: Vec<Vec<u8>> = (0..160).map(|i| numbered(&mut rng, i, 64 * 1024)).collect();
    bulk(&mut net, &[(A, ch, inc), (B, inc, ch)], &msgs, Duration::from_secs(900));
    assert!(net.stats().lost > 0 && net.stats().duplicated > 0);
    run_for(&mut net, Duration::from_secs(5));
    assert_eq!(net.endpoint(A).buffered(ch), 0);
    assert_eq!(net.endpoint(B).buffered(inc), 0);
}

// ---------------------------------------------------------------------------------------
// More edges
// ---------------------------------------------------------------------------------------

/// An offer that insists on a DTLS role (`a=setup:active` or `passive`, as some stacks
/// send) is answered with the other one, and stream id parity follows the real role.
#[test]
fn offers_that_fix_the_dtls_role_are_honoured() {
    for (forced, offerer_is_client) in [("active", true), ("passive", false)] {
        let mut net = pair(230, link());
        let now = net.now();
        let ch = net.endpoint_mut(A).create(now, init("role"));
        let offer = net.endpoint_mut(A).peer.set_local_description(now, None, None).unwrap().sdp;
        let forced_offer = offer.replace("a=setup:actpass", &format!("a=setup:{forced}"));
        assert_ne!(forced_offer, offer);
        let b = &mut net.endpoint_mut(B).peer;
        b.set_remote_description(now, SdpType::Offer, &forced_offer).unwrap();
        let answer = b.set_local_description(now, None, None).unwrap().sdp;
        let want = if offerer_is_client { "a=setup:passive" } else { "a=setup:active" };
        assert!(answer.contains(want), "answer to setup:{forced} says {want}:\n{answer}");
        net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer).unwrap();
        wait_connected(&mut net);
        drive(&mut net, "channel", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("role").is_some());
        let id = net.endpoint(A).peer.channel_id(ch).unwrap();
        assert_eq!(id.is_multiple_of(2), offerer_is_client, "even ids for the DTLS client");
        let inc = net.endpoint(B).incoming_labelled("role").unwrap().channel;
        exchange(&mut net, A, ch, inc, false, forced.as_bytes());
        exchange(&mut net, B, inc, ch, false, b"back");
    }
}

#[test]
fn negotiated_channel_closed_and_reopened_with_the_same_id() {
    let mut net = pair(240, link());
    let now = net.now();
    let na = net.endpoint_mut(A).create(now, negotiated("n", 3));
    let nb = net.endpoint_mut(B).create(now, negotiated("n", 3));
    offer_answer(&mut net, A);
    wait_connected(&mut net);
    drive(&mut net, "open", Duration::from_secs(5), |n| n.endpoint(A).is_open(na) && n.endpoint(B).is_open(nb));
    for i in 0..5u8 {
        exchange(&mut net, A, na, nb, false, &[b'a', i]);
        exchange(&mut net, B, nb, na, false, &[b'b', i]);
    }
    let now = net.now();
    net.endpoint_mut(B).peer.close_channel(now, nb);
    drive(&mut net, "closed both sides", Duration::from_secs(5), |n| {
        n.endpoint(A).closed_count(na) == 1 && n.endpoint(B).closed_count(nb) == 1
    });
    // Same id again on both sides: the stream was reset, sequence numbers start over.
    let now = net.now();
    let na2 = net.endpoint_mut(A).create(now, negotiated("n2", 3));
    let nb2 = net.endpoint_mut(B).create(now, negotiated("n2", 3));
    drive(&mut net, "reopened", Duration::from_secs(5), |n| n.endpoint(A).is_open(na2) && n.endpoint(B).is_open(nb2));
    for i in 0..5u8 {
        exchange(&mut net, A, na2, nb2, false, &[b'A', i]);
        exchange(&mut net, B, nb2, na2, true, &[b'B', i]);
    }
    assert!(net.endpoint(A).messages(na2).len() == 5 && net.endpoint(B).messages(nb2).len() == 5);
}

#[test]
fn peer_closed_during_the_handshake_leaves_the_other_side_failed() {
    let mut net = pair(250, link());
    let now = net.now();
    net.endpoint_mut(A).create(now, init("early-close"));
    offer_answer(&mut net, A);
    // Let ICE connect, then close A before DTLS completes (first DTLS datagram seen).
    drive(&mut net, "ICE connected at B", Duration::from_secs(5), |n| {
        n.endpoint(B).ice_states().contains(&IceConnectionState::Connected)
    });
    let now = net.now();
    net.endpoint_mut(A).peer.close(now);
    net.endpoint_mut(A).drain();
    let quiet = net.endpoint(A).events_seen;
    drive(&mut net, "B fails", Duration::from_secs(60), |n| {
        n.endpoint(B).peer.connection_state() == PeerConnectionState::Failed
    });
    assert!(net.now() < Time::ZERO + Duration::from_secs(50), "bounded: {:?}", net.now());
    assert!(net.endpoint(B).incoming().is_empty() || net.endpoint(B).closed_count(net.endpoint(B).incoming()[0].channel) == 1);
    assert_eq!(net.endpoint(A).events_seen, quiet, "closed side quiet");
}

#[test]
fn provisional_answer_then_final_answer() {
    let mut net = pair(260, link());
    let now = net.now();
    let ch = net.endpoint_mut(A).create(now, init("pr"));
    let offer = net.endpoint_mut(A).peer.set_local_description(now, None, None).unwrap();
    let b = &mut net.endpoint_mut(B).peer;
    b.set_remote_description(now, SdpType::Offer, &offer.sdp).unwrap();
    let pr = b.set_local_description(now, Some(SdpType::Pranswer), None).unwrap();
    assert_eq!(pr.ty, SdpType::Pranswer);
    assert_eq!(b.signaling_state(), SignalingState::HaveLocalPranswer);
    let a = &mut net.endpoint_mut(A).peer;
    a.set_remote_description(now, SdpType::Pranswer, &pr.sdp).unwrap();
    assert_eq!(a.signaling_state(), SignalingState::HaveRemotePranswer);
    run_for(&mut net, Duration::from_millis(200));
    let b = &mut net.endpoint_mut(B).peer;
    let fin = b.set_local_description(now, Some(SdpType::Answer), None).unwrap();
    assert_eq!(b.signaling_state(), SignalingState::Stable);
    let now = net.now();
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &fin.sdp).unwrap();
    assert_eq!(net.endpoint(A).peer.signaling_state(), SignalingState::Stable);
    wait_connected(&mut net);
    drive(&mut net, "channel", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("pr").is_some());
    let inc = net.endpoint(B).incoming_labelled("pr").unwrap().channel;
    exchange(&mut net, A, ch, inc, false, b"after pranswer");
}

#[test]
fn hostile_datagrams_during_the_handshake() {
    let mut net = pair(270, link());
    let now = net.now();
    let ch = net.endpoint_mut(A).create(now, init("noisy"));
    offer_answer(&mut net, A);
    let mut rng = Rng::seeded(271);
    let inputs = hostile_inputs(&mut net, &mut rng, &[]);
    let mut i = 0usize;
    let mut last: Option<Time> = None;
    let r = net.drive_until(
        |n| {
            pump(n);
            // A burst of garbage every 2 ms of virtual time until connected, both ways.
            let due = last.is_none_or(|t| n.now() >= t + Duration::from_millis(2));
            for _ in 0..if due { 20 } else { 0 } {
                last = Some(n.now());
                let data = inputs[i % inputs.len()].clone();
                let to = i % 2;
                let source = n.endpoint(other(to)).addr;
                let destination = n.endpoint(to).addr;
                let at = n.now() + Duration::from_millis(1);
                n.inject(Datagram { from: other(to), transport: 0, source, to, destination, data, sent_at: at }, at);
                i += 1;
            }
            n.endpoint(A).is_open(ch) && n.endpoint(B).incoming_labelled("noisy").is_some()
        },
        Duration::from_secs(30),
        MAX_STEPS,
    );
    r.expect("connects despite garbage during ICE, DTLS and SCTP setup");
    assert!(i > 100, "{i} hostile datagrams");
    let inc = net.endpoint(B).incoming_labelled("noisy").unwrap().channel;
    exchange(&mut net, A, ch, inc, false, b"through the noise");
}

#[test]
fn closing_under_loss_delivers_queued_data_first() {
    let mut net = pair(280, link());
    let (ch, inc) = connect(&mut net, A, "drain-then-close");
    net.set_conditions(lossy());
    let mut rng = Rng::seeded(281);
    let msgs: Vec<Vec<u8>> = (0..64).map(|i| numbered(&mut rng, i, 16 * 1024)).collect();
    let now = net.now();
    for m in &msgs {
        net.endpoint_mut(A).send(now, ch, true, m);
    }
    net.endpoint_mut(A).peer.close_channel(now, ch);
    drive(&mut net, "closed on both sides", Duration::from_secs(120), |n| {
        n.endpoint(A).closed_count(ch) == 1 && n.endpoint(B).closed_count(inc) == 1
    });
    let got = net.endpoint(B).messages(inc);
    assert_eq!(got.len(), msgs.len(), "everything sent before close() arrived");
    for ((_, g), m) in got.iter().zip(&msgs) {
        assert!(g == m);
    }
    // The id is reusable and the new channel works under the same loss.
    let now = net.now();
    let again = net.endpoint_mut(A).create(now, init("again"));
    assert_eq!(net.endpoint(A).peer.channel_id(again), net.endpoint(B).incoming()[0].id.into());
    drive(&mut net, "reused", Duration::from_secs(30), |n| n.endpoint(B).incoming_labelled("again").is_some());
    let i2 = net.endpoint(B).incoming_labelled("again").unwrap().channel;
    exchange(&mut net, A, again, i2, false, b"fresh");
}

#[test]
fn rollbacks_during_renegotiation_keep_the_connection() {
    let mut net = pair(290, link());
    let (ch, inc) = connect(&mut net, A, "steady");
    let now = net.now();
    // A remote re-offer rolled back at B.
    let reoffer = net.endpoint_mut(A).peer.set_local_description(now, None, None).unwrap();
    assert_eq!(reoffer.ty, SdpType::Offer);
    let b = &mut net.endpoint_mut(B).peer;
    b.set_remote_description(now, SdpType::Offer, &reoffer.sdp).unwrap();
    b.set_remote_description(now, SdpType::Rollback, "").unwrap();
    assert_eq!(b.signaling_state(), SignalingState::Stable);
    assert!(b.current_remote_description().is_some(), "the negotiated description stays");
    // Candidates are still accepted (there is a remote description).
    b.add_ice_candidate(now, None).expect("a remote description remains after rollback");
    exchange(&mut net, A, ch, inc, false, b"during");
    // A rolls its re-offer back too.
    let now = net.now();
    net.endpoint_mut(A).peer.set_local_description(now, Some(SdpType::Rollback), None).unwrap();
    assert_eq!(net.endpoint(A).peer.signaling_state(), SignalingState::Stable);
    assert!(net.endpoint(A).peer.current_local_description().is_some());
    exchange(&mut net, B, inc, ch, false, b"after both rollbacks");
    // Then a full renegotiation from B still works.
    offer_answer(&mut net, B);
    let now = net.now();
    let c = net.endpoint_mut(B).create(now, init("later"));
    drive(&mut net, "later", Duration::from_secs(5), |n| n.endpoint(A).incoming_labelled("later").is_some());
    let i = net.endpoint(A).incoming_labelled("later").unwrap().channel;
    exchange(&mut net, B, c, i, false, b"ok");
    assert_eq!(net.endpoint(A).count(|e| matches!(e, PeerEvent::SctpConnected { .. })), 1);
}

#[test]
fn candidates_trickled_seconds_late_still_connect() {
    let mut net = pair(300, link());
    net.endpoint_mut(A).trickle = false;
    net.endpoint_mut(B).trickle = false;
    let now = net.now();
    let ch = net.endpoint_mut(A).create(now, init("patient"));
    // Descriptions without candidates (created before gathering), candidates held back.
    let offer = net.endpoint_mut(A).peer.create_offer().unwrap();
    assert!(!offer.contains("a=candidate"));
    net.endpoint_mut(A).peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    net.endpoint_mut(B).peer.set_remote_description(now, SdpType::Offer, &offer).unwrap();
    let answer = net.endpoint_mut(B).peer.create_answer().unwrap();
    net.endpoint_mut(B).peer.set_local_description(now, Some(SdpType::Answer), Some(&answer)).unwrap();
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer).unwrap();
    run_for(&mut net, Duration::from_secs(15));
    for side in [A, B] {
        let n = net.endpoint(side);
        assert!(!n.ice_states().contains(&IceConnectionState::Failed), "no candidates yet is not failure");
        assert!(!n.candidates_out.is_empty());
    }
    net.endpoint_mut(A).trickle = true;
    net.endpoint_mut(B).trickle = true;
    wait_connected(&mut net);
    drive(&mut net, "channel", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("patient").is_some());
    let inc = net.endpoint(B).incoming_labelled("patient").unwrap().channel;
    exchange(&mut net, A, ch, inc, false, b"worth the wait");
}

#[test]
fn candidates_that_never_answer_then_end_of_candidates_fail_ice() {
    let mut net = pair(310, link());
    // Every candidate A announces points nowhere.
    net.endpoint_mut(A).trickle = false;
    let now = net.now();
    net.endpoint_mut(A).create(now, init("nowhere"));
    offer_answer(&mut net, A);
    // B's datagrams to A are all lost too: no peer-reflexive rescue.
    net.set_link(B, A, link().loss(1.0));
    net.set_link(A, B, link().loss(1.0));
    drive(&mut net, "A gathered", Duration::from_secs(5), |n| {
        n.endpoint(A).candidates_out.iter().any(Option::is_none)
    });
    let cands: Vec<Option<IceCandidateInit>> = net.endpoint_mut(A).candidates_out.drain(..).collect();
    let now = net.now();
    for c in cands {
        net.endpoint_mut(B).peer.add_ice_candidate(now, c).unwrap();
    }
    drive(&mut net, "both fail", Duration::from_secs(60), |n| {
        n.endpoint(B).peer.connection_state() == PeerConnectionState::Failed
    });
    assert!(net.endpoint(B).ice_states().ends_with(&[IceConnectionState::Checking, IceConnectionState::Failed]));
    assert!(!net.endpoint(B).states().contains(&PeerConnectionState::Connected));
}

#[test]
fn bulk_through_a_rate_limited_bottleneck() {
    let mut net = pair(320, link());
    let (ch, inc) = connect(&mut net, A, "bottleneck");
    // 2 MB/s with a 64 KiB queue: tail drops whenever the sender overshoots.
    net.set_link(A, B, link().rate(2_000_000, 64 * 1024).jitter(Duration::from_millis(2)));
    let mut rng = Rng::seeded(321);
    let msgs: Vec<Vec<u8>> = (0..64).map(|i| numbered(&mut rng, i, 64 * 1024)).collect();
    let start = net.now();
    bulk(&mut net, &[(A, ch, inc)], &msgs, Duration::from_secs(120));
    let secs = (net.now() - start).as_secs_f64();
    let rate = 4.0 * 1024.0 * 1024.0 / secs;
    println!("4 MiB through a 2 MB/s bottleneck: {secs:.2} s virtual, {:.0} KB/s, {} queue drops", rate / 1000.0, net.stats().queue_dropped);
    assert!(secs < 30.0, "congestion control makes progress: {secs} s");
}

/// The opener reuses a stream id the moment its channel is closed. Its new OPEN can reach
/// the other side before that side has seen the answer to its own reset request (loss or
/// reordering), while it still holds the old channel as closing: the OPEN must not be lost.
#[test]
fn stream_id_reused_the_moment_it_is_closed_under_reordering() {
    for seed in 0..16u64 {
        let mut net = pair(330 + seed, link());
        let (ch, inc) = connect(&mut net, A, "old");
        let id = net.endpoint(A).peer.channel_id(ch).unwrap();
        net.set_conditions(lossy().jitter(Duration::from_millis(30)));
        let now = net.now();
        // Either side starts the close; A (the opener) reuses the id.
        if seed % 2 == 0 {
            net.endpoint_mut(B).peer.close_channel(now, inc);
        } else {
            net.endpoint_mut(A).peer.close_channel(now, ch);
        }
        let mut reused: Option<ChannelId> = None;
        let r = net.drive_until(|n| {
            pump(n);
            if reused.is_none() && n.endpoint(A).closed_count(ch) == 1 {
                let now = n.now();
                let a = n.endpoint_mut(A);
                let c = a.create(now, init("new"));
                a.send(now, c, false, b"first on the reused id");
                reused = Some(c);
            }
            reused.is_some() && n.endpoint(B).incoming_labelled("new").is_some()
        }, Duration::from_secs(60), MAX_STEPS);
        if let Err(e) = r {
            let a = net.endpoint(A);
            let b = net.endpoint(B);
            panic!("seed {seed}: {e}: A closed {} reused {reused:?} A log tail {:?}\nB log tail {:?}\nB stats {:?}", a.closed_count(ch), &a.log[a.log.len().saturating_sub(5)..], &b.log[b.log.len().saturating_sub(5)..], b.peer.stats());
        }
        let c = reused.unwrap();
        assert_eq!(net.endpoint(A).peer.channel_id(c), Some(id), "seed {seed}: same id");
        let inc2 = net.endpoint(B).incoming_labelled("new").unwrap().channel;
        drive(&mut net, "first message", Duration::from_secs(30), |n| !n.endpoint(B).messages(inc2).is_empty());
        assert_eq!(net.endpoint(B).messages(inc2), &[(false, b"first on the reused id".to_vec())]);
        assert_eq!(net.endpoint(B).closed_count(inc), 1, "seed {seed}: old channel closed once");
        assert_eq!(net.endpoint(B).closed_count(inc2), 0);
        assert!(net.endpoint(B).messages(inc).is_empty(), "nothing for the new channel went to the old one");
    }
}

#[test]
fn large_and_small_messages_on_two_channels_under_loss() {
    let mut net = pair(350, link());
    let (big, big_in) = connect(&mut net, A, "big");
    let now = net.now();
    let small = net.endpoint_mut(A).create(now, DataChannelInit { ordered: true, ..init("small") });
    drive(&mut net, "small arrives", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("small").is_some());
    let small_in = net.endpoint(B).incoming_labelled("small").unwrap().channel;
    net.set_conditions(lossy());
    let mut rng = Rng::seeded(351);
    let bigs: Vec<Vec<u8>> = (0..8).map(|i| numbered(&mut rng, i, 256 * 1024)).collect();
    // Strings are UTF-8 (a string message with invalid UTF-8 is decoded lossily).
    let smalls: Vec<Vec<u8>> =
        (0..400usize).map(|i| format!("{i:06} {}", "é".repeat(i % 150)).into_bytes()).collect();
    let now = net.now();
    for (i, s) in smalls.iter().enumerate() {
        if i % 50 == 0 {
            net.endpoint_mut(A).send(now, big, true, &bigs[i / 50]);
        }
        net.endpoint_mut(A).send(now, small, false, s);
    }
    drive(&mut net, "everything arrives", Duration::from_secs(300), |n| {
        n.endpoint(B).messages(big_in).len() == bigs.len() && n.endpoint(B).messages(small_in).len() == smalls.len()
    });
    for (g, m) in net.endpoint(B).messages(big_in).iter().zip(&bigs) {
        assert!(g.1 == *m && g.0);
    }
    for (i, (g, m)) in net.endpoint(B).messages(small_in).iter().zip(&smalls).enumerate() {
        assert!(!g.0, "small {i} is a string");
        assert!(g.1 == *m, "small {i} intact and in order: got index {:?} len {} want len {}", g.1.get(..4), g.1.len(), m.len());
    }
    run_for(&mut net, Duration::from_secs(5));
    assert_eq!(net.endpoint(A).buffered(big) + net.endpoint(A).buffered(small), 0);
}

#[test]
fn answer_without_or_with_zero_max_message_size() {
    for (line, expect) in [(None, 65536usize), (Some("a=max-message-size:0"), 256 * 1024), (Some("a=max-message-size:1000"), 1000)] {
        let mut net = pair(360, link());
        let now = net.now();
        let ch = net.endpoint_mut(A).create(now, init("mms"));
        let offer = net.endpoint_mut(A).peer.set_local_description(now, None, None).unwrap();
        let b = &mut net.endpoint_mut(B).peer;
        b.set_remote_description(now, SdpType::Offer, &offer.sdp).unwrap();
        let answer = b.set_local_description(now, None, None).unwrap().sdp;
        // RFC 8841 §6: absent means 64 KiB; 0 means no limit from the remote.
        let tampered: String = answer
            .split("\r\n")
            .filter_map(|l| if l.starts_with("a=max-message-size:") { line.map(str::to_string) } else { Some(l.to_string()) })
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_ne!(tampered, answer);
        net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &tampered).unwrap();
        assert_eq!(net.endpoint(A).peer.sctp_max_message_size(), Some(expect), "{line:?}");
        wait_connected(&mut net);
        drive(&mut net, "channel", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("mms").is_some());
        let inc = net.endpoint(B).incoming_labelled("mms").unwrap().channel;
        exchange(&mut net, A, ch, inc, true, &vec![3u8; expect]);
        let now = net.now();
        let e = net.endpoint_mut(A).peer.send(now, ch, true, &vec![3u8; expect + 1]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Type);
    }
}

/// The offer claims `a=ice-lite` (as some servers do) though the offerer is a full agent:
/// both sides then think they control; the role conflict is repaired (RFC 8445 §7.3.1.1).
#[test]
fn ice_role_conflict_is_resolved() {
    let mut net = pair(370, link());
    let now = net.now();
    let ch = net.endpoint_mut(A).create(now, init("conflict"));
    let offer = net.endpoint_mut(A).peer.set_local_description(now, None, None).unwrap().sdp;
    let lite = offer.replacen("t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n", 1);
    assert_ne!(lite, offer);
    let b = &mut net.endpoint_mut(B).peer;
    b.set_remote_description(now, SdpType::Offer, &lite).unwrap();
    let answer = b.set_local_description(now, None, None).unwrap().sdp;
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer).unwrap();
    wait_connected(&mut net);
    drive(&mut net, "channel", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("conflict").is_some());
    let inc = net.endpoint(B).incoming_labelled("conflict").unwrap().channel;
    exchange(&mut net, A, ch, inc, false, b"roles sorted out");
    run_for(&mut net, Duration::from_secs(20));
    assert!(net.endpoint(A).connected() && net.endpoint(B).connected(), "consent keeps working");
}

#[test]
fn descriptions_in_the_wrong_state_are_refused_without_side_effects() {
    let mut net = pair(380, link());
    let now = net.now();
    net.endpoint_mut(A).create(now, init("x"));
    let offer = net.endpoint_mut(A).peer.create_offer().unwrap();
    let b = &mut net.endpoint_mut(B).peer;
    // An answer in stable.
    assert_eq!(b.set_remote_description(now, SdpType::Answer, &offer).unwrap_err().kind, ErrorKind::InvalidState);
    assert_eq!(b.set_remote_description(now, SdpType::Pranswer, &offer).unwrap_err().kind, ErrorKind::InvalidState);
    // Not SDP at all, and SDP without what a data section needs.
    let e = b.set_remote_description(now, SdpType::Offer, "hello").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Operation);
    let nofp: String = offer.split("\r\n").filter(|l| !l.starts_with("a=fingerprint")).collect::<Vec<_>>().join("\r\n");
    assert!(b.set_remote_description(now, SdpType::Offer, &nofp).is_err());
    assert_eq!(b.signaling_state(), SignalingState::Stable);
    assert!(b.pending_remote_description().is_none());
    assert_eq!(b.can_trickle_ice_candidates(), None);
    // A real offer now; then an offer SLD in have-remote-offer is wrong.
    b.set_remote_description(now, SdpType::Offer, &offer).unwrap();
    let own = b.create_offer().unwrap();
    assert_eq!(b.set_local_description(now, Some(SdpType::Offer), Some(&own)).unwrap_err().kind, ErrorKind::InvalidState);
    assert_eq!(b.signaling_state(), SignalingState::HaveRemoteOffer);
    // A local answer in have-local-offer (A) is wrong too.
    let a = &mut net.endpoint_mut(A).peer;
    a.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    assert_eq!(a.set_local_description(now, Some(SdpType::Answer), None).unwrap_err().kind, ErrorKind::InvalidState);
    assert_eq!(a.create_answer().unwrap_err().kind, ErrorKind::InvalidState);
    assert_eq!(a.signaling_state(), SignalingState::HaveLocalOffer);
    // The exchange still completes.
    let answer = net.endpoint_mut(B).peer.set_local_description(now, None, None).unwrap();
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer.sdp).unwrap();
    wait_connected(&mut net);
}

/// Connection setup under a terrible link, many seeds: every handshake (ICE, DTLS with
/// its flights reordered and duplicated, SCTP INIT from both sides, DCEP) completes.
#[test]
fn setup_under_a_terrible_link_many_seeds() {
    // (At 30 % loss a few seeds lose the ClientHello or its answer six times running and
    // hit the 30 s handshake limit: that is the limit working, not a bug.)
    let terrible = LinkConditions::ideal()
        .loss(0.20)
        .duplicate(0.20)
        .delay(Duration::from_millis(20))
        .jitter(Duration::from_millis(80))
        .mtu(1200);
    let mut times = Vec::new();
    for seed in 0..24u64 {
        let mut net = pair(400 + seed, terrible.clone());
        let offerer = (seed % 2) as usize;
        let now = net.now();
        let ch = net.endpoint_mut(offerer).create(now, init("rough"));
        // Half the runs trickle, half put candidates in the descriptions only.
        if seed % 4 >= 2 {
            net.endpoint_mut(A).trickle = false;
            net.endpoint_mut(B).trickle = false;
        }
        offer_answer(&mut net, offerer);
        if seed % 4 >= 2 {
            // Non-trickle: hand over the gathered candidates once, as a late description would.
            drive(&mut net, "gathered", Duration::from_secs(5), |n| {
                n.endpoint(A).peer.ice_gathering_state() == IceGatheringState::Complete
                    && n.endpoint(B).peer.ice_gathering_state() == IceGatheringState::Complete
            });
            net.endpoint_mut(A).trickle = true;
            net.endpoint_mut(B).trickle = true;
        }
        let ans = other(offerer);
        drive(&mut net, &format!("seed {seed}: channel opens"), Duration::from_secs(90), |n| {
            n.endpoint(offerer).is_open(ch) && n.endpoint(ans).incoming_labelled("rough").is_some()
        });
        times.push(net.now().as_micros() / 1000);
        let inc = net.endpoint(ans).incoming_labelled("rough").unwrap().channel;
        exchange(&mut net, offerer, ch, inc, false, b"made it");
        exchange(&mut net, ans, inc, ch, true, b"so did I");
        assert!(net.endpoint(A).connected() && net.endpoint(B).connected());
    }
    times.sort_unstable();
    println!("setup under 20% loss, 20% duplication, 20-100 ms delay: median {} ms, worst {} ms (virtual)", times[times.len() / 2], times[times.len() - 1]);
}

/// The DTLS server can hear the first ClientHello before its own ICE checks succeed (its
/// check responses are lost while the other side already nominated). Its answer must wait
/// for the path, not be dropped (which cost a full client retransmission back-off).
#[test]
fn dtls_answer_before_ice_selected_a_path_is_kept() {
    let mut net = pair(500, link());
    // B offers: B controls ICE and is the DTLS server; A is the DTLS client.
    let now = net.now();
    let ch = net.endpoint_mut(B).create(now, init("path"));
    // For 5 s every STUN response to B is lost: A gets B's nominating checks (and starts
    // DTLS), B gets no answer to its checks.
    let a_addr = net.endpoint(A).addr;
    net.set_hook(move |d: &Datagram| {
        let response = d.data.len() > 2 && d.data[0] == 0x01 && d.data[1] == 0x01;
        if response && d.source == a_addr && d.sent_at < Time::ZERO + Duration::from_secs(5) {
            Action::Drop
        } else {
            Action::Deliver
        }
    });
    offer_answer(&mut net, B);
    let mut b_ice_at: Option<Time> = None;
    drive(&mut net, "connects", Duration::from_secs(30), |n| {
        if b_ice_at.is_none() && n.endpoint(B).ice_states().contains(&IceConnectionState::Connected) {
            b_ice_at = Some(n.now());
        }
        n.endpoint(A).peer.dtls_state() == DtlsTransportState::Connected
            && n.endpoint(B).peer.dtls_state() == DtlsTransportState::Connected
    });
    let b_ice_at = b_ice_at.expect("B's ICE connected");
    assert!(b_ice_at >= Time::ZERO + Duration::from_secs(5), "the hook delayed B's checks: {b_ice_at:?}");
    assert!(net.endpoint(A).dtls_states().contains(&DtlsTransportState::Connecting));
    let after = net.now() - b_ice_at;
    assert!(after < Duration::from_millis(500), "DTLS finished {after:?} after B's path appeared");
    assert_eq!(net.endpoint(B).peer.stats().datagrams_dropped_unknown, 0, "no DTLS datagram dropped for want of a path");
    drive(&mut net, "channel", Duration::from_secs(5), |n| n.endpoint(A).incoming_labelled("path").is_some());
    let inc = net.endpoint(A).incoming_labelled("path").unwrap().channel;
    exchange(&mut net, B, ch, inc, false, b"kept");
}

#[test]
fn answer_delivered_seconds_late_by_slow_signaling() {
    let mut net = pair(510, link());
    let now = net.now();
    let ch = net.endpoint_mut(A).create(now, init("slow"));
    let offer = net.endpoint_mut(A).peer.set_local_description(now, None, None).unwrap();
    let b = &mut net.endpoint_mut(B).peer;
    b.set_remote_description(now, SdpType::Offer, &offer.sdp).unwrap();
    let answer = b.set_local_description(now, None, None).unwrap();
    // B has A's candidates by trickle and starts checking; A learns about B 3 s later.
    run_for(&mut net, Duration::from_secs(3));
    let now = net.now();
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer.sdp).unwrap();
    wait_connected(&mut net);
    drive(&mut net, "channel", Duration::from_secs(5), |n| n.endpoint(B).incoming_labelled("slow").is_some());
    let inc = net.endpoint(B).incoming_labelled("slow").unwrap().channel;
    exchange(&mut net, A, ch, inc, false, b"better late");
}

#[test]
fn renegotiation_while_still_connecting() {
    let mut net = pair(520, link().delay(Duration::from_millis(50)));
    let now = net.now();
    let c1 = net.endpoint_mut(A).create(now, init("one"));
    offer_answer(&mut net, A);
    run_for(&mut net, Duration::from_millis(120));
    assert!(!net.endpoint(A).connected(), "still connecting");
    let now = net.now();
    let c2 = net.endpoint_mut(A).create(now, init("two"));
    offer_answer(&mut net, B);
    offer_answer(&mut net, A);
    wait_connected(&mut net);
    drive(&mut net, "both channels", Duration::from_secs(5), |n| n.endpoint(B).incoming().len() == 2);
    for (c, l) in [(c1, "one"), (c2, "two")] {
        let i = net.endpoint(B).incoming_labelled(l).unwrap().channel;
        exchange(&mut net, A, c, i, false, l.as_bytes());
    }
    assert_eq!(net.endpoint(A).count(|e| matches!(e, PeerEvent::SctpConnected { .. })), 1);
}

#[test]
fn channels_made_before_any_description_and_closed_before_connecting() {
    let mut net = pair(530, link());
    let now = net.now();
    // B makes a channel before it has even seen an offer; A makes two and drops one.
    let early_b = net.endpoint_mut(B).create(now, init("b-early"));
    assert!(net.endpoint(B).peer.channel_id(early_b).is_none(), "no id before the DTLS role is known");
    let keep = net.endpoint_mut(A).create(now, init("keep"));
    let drop = net.endpoint_mut(A).create(now, init("drop"));
    net.endpoint_mut(A).peer.close_channel(now, drop);
    net.endpoint_mut(A).drain();
    assert_eq!(net.endpoint(A).closed_count(drop), 1);
    offer_answer(&mut net, A);
    wait_connected(&mut net);
    drive(&mut net, "channels", Duration::from_secs(5), |n| {
        n.endpoint(B).incoming_labelled("keep").is_some() && n.endpoint(A).incoming_labelled("b-early").is_some()
    });
    run_for(&mut net, Duration::from_secs(1));
    assert!(net.endpoint(B).incoming_labelled("drop").is_none(), "a channel closed before connecting never opens");
    assert_eq!(net.endpoint(A).closed_count(drop), 1);
    assert!(!net.endpoint(A).is_open(drop));
    assert_eq!(net.endpoint(B).peer.channel_id(early_b).map(|id| id % 2), Some(0), "B answered: DTLS client, even");
    let ib = net.endpoint(B).incoming_labelled("keep").unwrap().channel;
    let ia = net.endpoint(A).incoming_labelled("b-early").unwrap().channel;
    exchange(&mut net, A, keep, ib, false, b"kept");
    exchange(&mut net, B, early_b, ia, false, b"early bird");
}

#[test]
fn close_before_anything_and_twice() {
    let mut net = pair(540, link());
    let now = net.now();
    net.endpoint_mut(A).peer.close(now);
    net.endpoint_mut(A).peer.close(now);
    net.endpoint_mut(A).drain();
    assert_eq!(net.endpoint(A).peer.connection_state(), PeerConnectionState::Closed);
    assert!(net.endpoint_mut(A).peer.poll_transmit(now).is_none());
    assert!(net.endpoint(A).peer.poll_timeout().is_none());
    assert_eq!(net.endpoint(A).events_seen, 0, "closing a new peer tells nothing");
    // Datagrams and timeouts after close are ignored.
    let from = net.endpoint(B).addr;
    net.endpoint_mut(A).peer.handle_datagram(now, 1, from, &[0, 1, 0, 0]);
    net.endpoint_mut(A).peer.handle_timeout(now + Duration::from_secs(1));
    net.endpoint_mut(A).drain();
    assert_eq!(net.endpoint(A).events_seen, 0);
}

// ---------------------------------------------------------------------------------------
// Issue 5: fingerprints weaker than SHA-256 in a remote description
// ---------------------------------------------------------------------------------------

/// setRemoteDescription refuses a description whose only fingerprint is sha-1 (or another
/// hash weaker than SHA-256) with an OperationError naming the hash, and changes nothing; the
/// same description with a sha-256 fingerprint beside the weak one connects.
#[test]
fn remote_description_with_only_a_weak_fingerprint_is_refused() {
    let mut net = pair(900, link());
    let now = net.now();
    net.endpoint_mut(A).create(now, init("fp"));
    let offer = {
        let a = &mut net.endpoint_mut(A).peer;
        let offer = a.create_offer().unwrap();
        a.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap().sdp
    };
    let strong = offer.lines().find(|l| l.starts_with("a=fingerprint:sha-256 ")).expect("a sha-256 fingerprint").to_owned();
    let sha1 = format!("a=fingerprint:sha-1 {}", vec!["5A"; 20].join(":"));
    for weak in [sha1.clone(), format!("a=fingerprint:md5 {}", vec!["0F"; 16].join(":"))] {
        let bad = offer.replace(&strong, &weak);
        let b = &mut net.endpoint_mut(B).peer;
        let e = b.set_remote_description(now, SdpType::Offer, &bad).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Operation, "{e}");
        let hash = weak.trim_start_matches("a=fingerprint:").split(' ').next().unwrap().to_owned();
        assert!(e.to_string().contains(&hash), "the error names {hash}: {e}");
        assert_eq!(b.signaling_state(), SignalingState::Stable);
        assert!(b.pending_remote_description().is_none() && b.current_remote_description().is_none());
    }
    // Weak beside strong: accepted, and the handshake authenticates with the sha-256 one.
    let both = offer.replace(&strong, &format!("{sha1}\r\n{strong}"));
    let answer = {
        let b = &mut net.endpoint_mut(B).peer;
        b.set_remote_description(now, SdpType::Offer, &both).expect("weak beside strong is accepted");
        b.set_local_description(now, None, None).unwrap().sdp
    };
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer).unwrap();
    wait_connected(&mut net);
    assert_eq!(net.endpoint(B).peer.dtls_state(), DtlsTransportState::Connected);
}

// ---------------------------------------------------------------------------------------
// Issue 6: RTCPeerConnection.close() and data channel ids (W3C webrtc-pc)
// ---------------------------------------------------------------------------------------

/// The events `node` logged for `ch`: Error (with its kind), Closing, Closed.
fn channel_end(node: &Node, ch: ChannelId) -> Vec<String> {
    node.log
        .iter()
        .filter_map(|e| match e {
            PeerEvent::DataChannelError { channel, error, sctp_cause_code } if *channel == ch => {
                Some(format!("error:{:?}:{sctp_cause_code:?}", error.kind))
            }
            PeerEvent::DataChannelClosing { channel } if *channel == ch => Some("closing".into()),
            PeerEvent::DataChannelClosed { channel } if *channel == ch => Some("closed".into()),
            _ => None,
        })
        .collect()
}

/// A's `close()` ("close the connection"): A's channels are closed without an error (and no
/// closing procedure); B's channels — in-band either way and negotiated — see the ABORT as
/// their transport closing with an error: `DataChannelError` (SctpFailure) then
/// `DataChannelClosed`, after which B's table forgets them and their ids are free.
#[test]
fn peer_close_ends_the_remote_channels_with_an_sctp_failure_and_frees_their_ids() {
    let mut net = pair(600, link());
    let now = net.now();
    let neg_a = net.endpoint_mut(A).create(now, negotiated("neg", 5));
    let neg_b = net.endpoint_mut(B).create(now, negotiated("neg", 5));
    let (ch, inc) = connect(&mut net, A, "inband");
    let now = net.now();
    let from_b = net.endpoint_mut(B).create(now, init("from-b"));
    drive(&mut net, "B's channel arrives and all open", Duration::from_secs(5), |n| {
        n.endpoint(A).incoming_labelled("from-b").is_some() && n.endpoint(A).is_open(neg_a) && n.endpoint(B).is_open(neg_b)
    });
    let from_b_at_a = net.endpoint(A).incoming_labelled("from-b").unwrap().channel;
    let ids_b: Vec<u16> = [inc, neg_b, from_b].iter().map(|c| net.endpoint(B).peer.channel_id(*c).expect("id")).collect();
    let now = net.now();
    net.endpoint_mut(A).peer.close(now);
    net.endpoint_mut(A).drain();
    for c in [ch, neg_a, from_b_at_a] {
        assert_eq!(channel_end(net.endpoint(A), c), ["closed"], "A's own channel {c}: closed, no error");
    }
    drive(&mut net, "B's channels end", Duration::from_secs(5), |n| {
        [inc, neg_b, from_b].iter().all(|c| n.endpoint(B).closed_count(*c) == 1)
    });
    run_for(&mut net, Duration::from_secs(2));
    for c in [inc, neg_b, from_b] {
        assert_eq!(channel_end(net.endpoint(B), c), ["error:SctpFailure:Some(12)", "closed"], "B's channel {c}");
        assert_eq!(net.endpoint(B).peer.channel_id(c), None, "B's table forgot channel {c}");
    }
    // The ids are no longer in use on B: negotiated channels may take them again.
    for id in ids_b {
        let now = net.now();
        let (_, got) = net.endpoint_mut(B).peer.create_data_channel(now, negotiated("again", id)).expect("id free again");
        assert_eq!(got, Some(id));
    }
}

/// RFC 8832 §6 / webrtc-pc createDataChannel: an in-band channel's `id` is ignored; ids of
/// the DTLS role's parity are given the moment the answer fixing the role is applied (on the
/// answerer at its setLocalDescription(answer), on the offerer at setRemoteDescription), and
/// at once to channels created after; an id in use is refused with OperationError.
#[test]
fn in_band_ids_ignore_the_requested_id_and_come_with_the_answer() {
    let mut net = pair(601, link());
    let now = net.now();
    let with_id = DataChannelInit { id: Some(8), ..init("o1") };
    let (o1, got) = net.endpoint_mut(A).peer.create_data_channel(now, with_id).unwrap();
    assert_eq!(got, None, "no id before the role is known, whatever was asked");
    let o_neg = net.endpoint_mut(A).create(now, negotiated("neg", 1));
    let offer = {
        let a = &mut net.endpoint_mut(A).peer;
        let offer = a.create_offer().unwrap();
        a.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap().sdp
    };
    assert_eq!(net.endpoint(A).peer.channel_id(o1), None);
    let b = &mut net.endpoint_mut(B).peer;
    b.set_remote_description(now, SdpType::Offer, &offer).unwrap();
    let (a1, got) = b.create_data_channel(now, DataChannelInit { id: Some(1), ..init("a1") }).unwrap();
    assert_eq!(got, None);
    let answer = b.set_local_description(now, None, None).unwrap().sdp;
    assert!(answer.contains("a=setup:active"), "the answerer is the DTLS client");
    assert_eq!(b.channel_id(a1), Some(0), "even id as soon as the answer is applied");
    let (_, a2) = b.create_data_channel(now, DataChannelInit { id: Some(77), ..init("a2") }).unwrap();
    assert_eq!(a2, Some(2), "created after the role is known: an id at once");
    assert_eq!(b.create_data_channel(now, negotiated("dup", 0)).unwrap_err().kind, ErrorKind::Operation);
    net.endpoint_mut(B).drain();
    assert!(net.endpoint(B).log.contains(&PeerEvent::DataChannelIdAssigned { channel: a1, id: 0 }));
    net.endpoint_mut(A).peer.set_remote_description(now, SdpType::Answer, &answer).unwrap();
    assert_eq!(net.endpoint(A).peer.channel_id(o1), Some(3), "odd, skipping the negotiated channel's 1");
    assert_eq!(net.endpoint(A).peer.channel_id(o_neg), Some(1));
    let a = &mut net.endpoint_mut(A).peer;
    assert_eq!(a.create_data_channel(now, negotiated("dup", 3)).unwrap_err().kind, ErrorKind::Operation);
}

/// webrtc-pc createDataChannel step: both maxPacketLifeTime and maxRetransmits is a
/// TypeError, refused before a channel exists (it used to be accepted and then closed
/// silently when its DCEP OPEN could not be built, keeping its id in use).
#[test]
fn conflicting_reliability_is_refused_at_creation() {
    let mut net = pair(602, link());
    let now = net.now();
    let both = DataChannelInit { max_retransmits: Some(1), max_packet_life_time: Some(10), ..init("both") };
    assert_eq!(net.endpoint_mut(A).peer.create_data_channel(now, both).unwrap_err().kind, ErrorKind::Type);
    assert!(!net.endpoint(A).peer.is_negotiation_needed(), "no channel was created");
}

// ---------------------------------------------------------------------------------------
// Issue 6: the data channel closing procedure delivers what was queued (W3C webrtc-pc §6.2)
// ---------------------------------------------------------------------------------------

/// webrtc-pc "finish sending all currently pending messages of the channel" / RFC 8831 §6.7:
/// `close_channel` right after megabytes of sends (far more than the link carries before the
/// close) resets the stream only after all of it; on a lossy link, every message reaches the
/// remote, in order and intact, before its `DataChannelClosing`, then both sides close once.
#[test]
fn close_channel_after_a_large_queue_delivers_it_all_before_the_reset() {
    for (seed, conditions, closer) in [(700, link(), A), (701, lossy(), A), (702, lossy(), B)] {
        let mut net = pair(seed, conditions);
        let (ch, inc) = connect(&mut net, A, "drain-then-close");
        let (mine, theirs) = if closer == A { (ch, inc) } else { (inc, ch) };
        let remote = other(closer);
        let size = 60_000usize;
        let count = 64u32; // 3.8 MB, queued in one go
        let now = net.now();
        for i in 0..count {
            let mut m = vec![(i & 0xff) as u8; size];
            m[..4].copy_from_slice(&i.to_be_bytes());
            net.endpoint_mut(closer).send(now, mine, true, &m);
        }
        net.endpoint_mut(closer).send(now, mine, false, b"the end");
        net.endpoint_mut(closer).peer.close_channel(now, mine);
        net.endpoint_mut(closer).drain();
        drive(&mut net, "closed on both sides", Duration::from_secs(120), |n| {
            n.endpoint(closer).closed_count(mine) > 0 && n.endpoint(remote).closed_count(theirs) > 0
        });
        run_for(&mut net, Duration::from_secs(2));
        let got = net.endpoint(remote).messages(theirs);
        assert_eq!(got.len(), count as usize + 1, "seed {seed}: {} of {} messages", got.len(), count + 1);
        for (i, (binary, m)) in got[..count as usize].iter().enumerate() {
            assert!(*binary, "seed {seed}: message {i} binary");
            assert_eq!(m.len(), size, "seed {seed}: message {i} length");
            assert_eq!(m[..4], (i as u32).to_be_bytes(), "seed {seed}: message {i} in order");
            assert!(m[4..].iter().all(|b| *b == (i & 0xff) as u8), "seed {seed}: message {i} intact");
        }
        assert_eq!(got[count as usize], (false, b"the end".to_vec()));
        // Every message came before the remote's closing event (the W3C layer drops messages
        // that arrive after it), and each side closed exactly once.
        assert_eq!(
            net.endpoint(remote).msgs_at_closing.get(&theirs),
            Some(&(count as usize + 1)),
            "seed {seed}: messages received when the remote's closing event came"
        );
        assert_eq!(channel_end(net.endpoint(remote), theirs), ["closing", "closed"], "seed {seed}");
        assert_eq!(channel_end(net.endpoint(closer), mine), ["closed"], "seed {seed}");
    }
}

// ---- ICE states and addIceCandidate (issue 6, webrtc-pc) ----------------------------------

fn remote_sdp(node: &Node) -> String {
    node.peer
        .pending_remote_description()
        .or_else(|| node.peer.current_remote_description())
        .map(|d| d.sdp)
        .unwrap_or_default()
}

/// webrtc-pc RTCIceTransportState "completed": both sides trickle their end-of-candidates
/// (pump forwards the null candidate), gathering is done and nomination ended the checks.
#[test]
fn ice_completes_after_end_of_candidates_both_ways() {
    let mut net = pair(701, link());
    connect(&mut net, A, "c");
    run_for(&mut net, Duration::from_secs(2));
    for side in [A, B] {
        let n = net.endpoint(side);
        assert_eq!(n.peer.ice_connection_state(), IceConnectionState::Completed, "side {side}");
        assert_eq!(
            n.ice_states(),
            [IceConnectionState::Checking, IceConnectionState::Connected, IceConnectionState::Completed],
            "side {side}"
        );
        // "completed" is still a connected peer connection.
        assert_eq!(n.peer.connection_state(), PeerConnectionState::Connected);
        assert_eq!(n.states().last(), Some(&PeerConnectionState::Connected));
    }
}

/// Without the peer's end-of-candidates it stays "connected".
#[test]
fn ice_stays_connected_without_remote_end_of_candidates() {
    let mut net = pair(702, link());
    let now = net.now();
    let ch = net.endpoint_mut(A).create(now, init("c"));
    net.endpoint_mut(A).trickle = false;
    net.endpoint_mut(B).trickle = false;
    offer_answer(&mut net, A);
    // Forward real candidates only, never the end-of-candidates.
    let forward = |n: &mut Network<Node>| {
        let now = n.now();
        for (from, to) in [(A, B), (B, A)] {
            let (src, dst) = n.pair_mut(from, to);
            src.drain();
            while let Some(c) = src.candidates_out.pop_front() {
                if c.is_some() {
                    dst.peer.add_ice_candidate(now, c).expect("add_ice_candidate");
                }
            }
            dst.drain();
        }
    };
    drive(&mut net, "connected", Duration::from_secs(30), |n| {
        forward(n);
        n.endpoint(A).connected() && n.endpoint(B).connected() && n.endpoint(A).is_open(ch)
    });
    run_for(&mut net, Duration::from_secs(2));
    assert!(net.endpoint(A).is_open(ch));
    for side in [A, B] {
        assert_eq!(net.endpoint(side).peer.ice_connection_state(), IceConnectionState::Connected);
        assert!(!remote_sdp(net.endpoint(side)).contains("a=end-of-candidates"));
    }
}

/// webrtc-pc addIceCandidate: an applied candidate, and an end-of-candidates indication, are
/// added to the remote description (the m-section named, or all of them).
#[test]
fn add_ice_candidate_updates_the_remote_description() {
    let mut net = pair(703, link());
    connect(&mut net, A, "c");
    run_for(&mut net, Duration::from_secs(1));
    for side in [A, B] {
        let n = net.endpoint(side);
        let sdp = remote_sdp(n);
        let other_addr = net.endpoint(other(side)).addr;
        assert!(sdp.contains("a=end-of-candidates\r\n"), "side {side}: {sdp}");
        assert_eq!(sdp.matches("a=end-of-candidates").count(), 1);
        assert!(
            sdp.lines().any(|l| l.starts_with("a=candidate:") && l.contains(&other_addr.ip().to_string())),
            "side {side}: trickled candidate missing in {sdp}"
        );
        // Still a description the peer accepts.
        SessionDescription::parse(&sdp).expect("parses");
    }
}

#[test]
fn end_of_candidates_for_a_named_section_and_unknown_generations() {
    let mut net = pair(704, link());
    let now = net.now();
    net.endpoint_mut(A).create(now, init("c"));
    net.endpoint_mut(A).trickle = false;
    net.endpoint_mut(B).trickle = false;
    offer_answer(&mut net, A);
    let b = &mut net.endpoint_mut(B).peer;
    assert!(!remote_sdp_of(b).contains("a=end-of-candidates"));
    let mid = SessionDescription::parse(&remote_sdp_of(b))
        .ok()
        .and_then(|d| d.media.first().and_then(|m| m.mid().map(str::to_owned)))
        .expect("mid");
    // A section that does not exist: OperationError, nothing changes.
    let bad = IceCandidateInit { sdp_mid: Some("nope".into()), ..Default::default() };
    assert_eq!(b.add_ice_candidate(now, Some(bad)).unwrap_err().kind, ErrorKind::Operation);
    // A ufrag of no generation: OperationError.
    let stranger = IceCandidateInit { username_fragment: Some("zzzz".into()), ..Default::default() };
    assert_eq!(b.add_ice_candidate(now, Some(stranger)).unwrap_err().kind, ErrorKind::Operation);
    assert!(!remote_sdp_of(b).contains("a=end-of-candidates"));
    // {candidate: '', sdpMid} for the data section.
    let eoc = IceCandidateInit { sdp_mid: Some(mid), ..Default::default() };
    b.add_ice_candidate(now, Some(eoc)).unwrap();
    let sdp = remote_sdp_of(b);
    assert_eq!(sdp.matches("a=end-of-candidates").count(), 1, "{sdp}");
    // Again, and as null: still once.
    b.add_ice_candidate(now, None).unwrap();
    assert_eq!(remote_sdp_of(b).matches("a=end-of-candidates").count(), 1);
    // The answerer's remote description is the current one (stable): it is what changed.
    assert!(b.pending_remote_description().is_none());
    assert!(b.current_remote_description().unwrap().sdp.contains("a=end-of-candidates"));
}

fn remote_sdp_of(p: &Peer) -> String {
    p.pending_remote_description()
        .or_else(|| p.current_remote_description())
        .map(|d| d.sdp)
        .unwrap_or_default()
}

/// Issue 6, remote closes first (webrtc-pc closing procedure: "finish sending all currently
/// pending messages", then RFC 8831 §6.7). With `set_hold_remote_close` (what the Node addon
/// sets for js/), B's close reaches A as `DataChannelClosing` and A's direction stays open:
/// A's host may still send what its application queued before it saw the closing (Blobs
/// being read, sends waiting for room) and resets only with `close_channel`. Everything A
/// sent reaches B before B's channel is closed. Without the hold the reset is answered at
/// once and a send after the closing event is refused.
#[test]
fn remote_close_first_waits_for_the_host_to_send_what_it_queued() {
    for hold in [true, false] {
        let mut net = pair(700, link());
        net.endpoint_mut(A).peer.set_hold_remote_close(hold);
        let (ch, inc) = connect(&mut net, A, "remote-first");
        let now = net.now();
        net.endpoint_mut(A).send(now, ch, true, &[7u8; 40_000]);
        net.endpoint_mut(B).peer.close_channel(now, inc);
        net.endpoint_mut(B).drain();
        drive(&mut net, "A sees closing", Duration::from_secs(5), |n| n.endpoint(A).closing_count(ch) == 1);
        if !hold {
            drive(&mut net, "closed at once", Duration::from_secs(5), |n| {
                n.endpoint(A).closed_count(ch) == 1 && n.endpoint(B).closed_count(inc) == 1
            });
            assert_eq!(net.endpoint(B).messages(inc).len(), 1);
            continue;
        }
        run_for(&mut net, Duration::from_secs(1));
        assert_eq!(net.endpoint(A).closed_count(ch), 0, "A's direction waits for its host");
        assert_eq!(net.endpoint(B).closed_count(inc), 0, "B's channel is not closed before A's reset");
        // What A's application had queued, handed over after the closing event.
        let now = net.now();
        for i in 0..8u8 {
            net.endpoint_mut(A).send(now, ch, true, &[i; 30_000]);
        }
        net.endpoint_mut(A).send(now, ch, false, b"last");
        net.endpoint_mut(A).peer.close_channel(now, ch);
        net.endpoint_mut(A).drain();
        drive(&mut net, "closed on both sides", Duration::from_secs(10), |n| {
            n.endpoint(A).closed_count(ch) == 1 && n.endpoint(B).closed_count(inc) == 1
        });
        let got = net.endpoint(B).messages(inc);
        assert_eq!(got.len(), 10, "every message A sent arrived at B");
        assert_eq!(got[0].1, vec![7u8; 40_000]);
        for i in 0..8u8 {
            assert_eq!(got[usize::from(i) + 1].1, vec![i; 30_000]);
        }
        assert_eq!(got[9], (false, b"last".to_vec()));
        // The id is free again on both sides.
        assert_eq!(net.endpoint(A).peer.channel_id(ch), None);
        assert_eq!(net.endpoint(B).peer.channel_id(inc), None);
    }
}
