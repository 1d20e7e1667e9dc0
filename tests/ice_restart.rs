//! ICE restart end to end (W3C `restartIce()`, `RTCOfferOptions.iceRestart`, JSEP §5.2.1 /
//! §5.3.1, RFC 8445 §9): two `Peer`s over the simulated network with the virtual clock.
//!
//! A restart from either side while a channel streams: new credentials in both new
//! descriptions, gathering again, checks with the new credentials, no message lost and no
//! DTLS/SCTP renegotiation; the same with the old path cut right after the restart (each
//! peer has two addresses, so another pair takes over); rollback of a restart offer; stale
//! and unknown `usernameFragment`s in `addIceCandidate`.

mod common;

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use common::{Action, Datagram, Endpoint, LinkConditions, Network};
use polyrtc::crypto::Rng;
use polyrtc::peer::{
    ChannelId, DataChannelInit, DtlsTransportState, ErrorKind, IceCandidateInit, IceConnectionState,
    IceGatheringState, Peer, PeerConfig, PeerConnectionState, PeerEvent, SdpType, SignalingState,
};
use polyrtc::{Time, Transmit, TransportId};

const A: usize = 0;
const B: usize = 1;
const MAX_STEPS: usize = 400_000;

struct Node {
    peer: Peer,
    log: Vec<PeerEvent>,
    msgs: HashMap<ChannelId, Vec<Vec<u8>>>,
    candidates_out: VecDeque<Option<IceCandidateInit>>,
    /// Forward candidates by trickle (off while an offer never signaled is pending).
    trickle: bool,
}

impl Node {
    fn new(seed: u64, transports: &[(TransportId, SocketAddr)]) -> Node {
        let mut peer = Peer::new(PeerConfig::default(), Rng::seeded(seed)).expect("Peer::new");
        for (t, a) in transports {
            peer.add_local_transport(*t, *a);
        }
        Node { peer, log: Vec::new(), msgs: HashMap::new(), candidates_out: VecDeque::new(), trickle: true }
    }

    fn drain(&mut self) {
        while let Some(e) = self.peer.poll_event() {
            match e {
                PeerEvent::DataChannelMessage { channel, data, .. } => {
                    self.msgs.entry(channel).or_default().push(data);
                }
                e => {
                    if let PeerEvent::IceCandidate(c) = &e {
                        self.candidates_out.push_back(c.clone());
                    }
                    self.log.push(e);
                }
            }
        }
    }

    fn connected(&self) -> bool {
        self.peer.connection_state() == PeerConnectionState::Connected
    }

    fn local_ufrag(&self) -> String {
        let d = self.peer.pending_local_description().or_else(|| self.peer.current_local_description());
        ufrag_of(&d.expect("a local description").sdp)
    }
}

peer_endpoint!(Node);

fn ufrag_of(sdp: &str) -> String {
    sdp.lines()
        .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
        .expect("an a=ice-ufrag line")
        .trim()
        .to_string()
}

fn pwd_of(sdp: &str) -> String {
    sdp.lines().find_map(|l| l.strip_prefix("a=ice-pwd:")).expect("an a=ice-pwd line").trim().to_string()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

/// Two peers; with `two_paths` each has a second address (a second usable pair).
fn pair(seed: u64, two_paths: bool) -> Network<Node> {
    let mut net = Network::new(seed);
    net.set_conditions(LinkConditions::ideal().delay(Duration::from_millis(10)).mtu(1500));
    let mut ta = vec![(1, addr("10.0.0.1:40000"))];
    let mut tb = vec![(2, addr("10.0.0.2:40001"))];
    if two_paths {
        ta.push((3, addr("10.1.0.1:40002")));
        tb.push((4, addr("10.1.0.2:40003")));
    }
    assert_eq!(net.add_endpoint(Node::new(seed * 2 + 1, &ta), &ta), A);
    assert_eq!(net.add_endpoint(Node::new(seed * 2 + 2, &tb), &tb), B);
    net
}

/// Signaling: candidates go to the other side once it has a remote description; every one
/// must be accepted (a restart's candidates follow the description that announced them).
fn pump(net: &mut Network<Node>) {
    let now = net.now();
    for (from, to) in [(A, B), (B, A)] {
        let (src, dst) = net.pair_mut(from, to);
        src.drain();
        let has_remote =
            dst.peer.current_remote_description().is_some() || dst.peer.pending_remote_description().is_some();
        if has_remote && src.trickle {
            while let Some(c) = src.candidates_out.pop_front() {
                dst.peer.add_ice_candidate(now, c.clone()).unwrap_or_else(|e| panic!("add_ice_candidate {c:?}: {e}"));
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
        panic!("{what}: {e}");
    }
    pump(net);
}

fn run_for(net: &mut Network<Node>, d: Duration) {
    let end = net.now() + d;
    match net.drive_until(
        |n| {
            pump(n);
            n.now() >= end
        },
        d,
        MAX_STEPS,
    ) {
        Ok(()) | Err(common::DriveError::Timeout { .. }) | Err(common::DriveError::Idle { .. }) => {}
        Err(e) => panic!("run_for: {e}"),
    }
    pump(net);
}

/// Offer by `offerer` (`ice_restart` as in `RTCOfferOptions`), answer by the other side.
/// Returns (offer, answer).
fn offer_answer(net: &mut Network<Node>, offerer: usize, ice_restart: bool) -> (String, String) {
    let now = net.now();
    let (o, a) = net.pair_mut(offerer, 1 - offerer);
    let offer = o.peer.create_offer_with(ice_restart).expect("create_offer");
    o.peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("offer SLD");
    a.peer.set_remote_description(now, SdpType::Offer, &offer).expect("offer SRD");
    let answer = a.peer.set_local_description(now, None, None).expect("answer SLD").sdp;
    o.peer.set_remote_description(now, SdpType::Answer, &answer).expect("answer SRD");
    assert_eq!(o.peer.signaling_state(), SignalingState::Stable);
    assert_eq!(a.peer.signaling_state(), SignalingState::Stable);
    o.drain();
    a.drain();
    (offer, answer)
}

/// A connects a channel with B (A offers). Returns (A's channel, B's channel).
fn connect(net: &mut Network<Node>) -> (ChannelId, ChannelId) {
    let now = net.now();
    let (ch, _) = net.endpoint_mut(A).peer.create_data_channel(now, init()).expect("channel");
    offer_answer(net, A, false);
    drive(net, "connected and the channel announced", Duration::from_secs(30), |n| {
        n.endpoint(A).connected()
            && n.endpoint(B).connected()
            && n.endpoint(A).log.iter().any(|e| matches!(e, PeerEvent::DataChannelOpen { channel } if *channel == ch))
            && incoming(n.endpoint(B)).is_some()
    });
    (ch, incoming(net.endpoint(B)).expect("incoming"))
}

fn init() -> DataChannelInit {
    DataChannelInit { label: "stream".into(), ..Default::default() }
}

fn incoming(n: &Node) -> Option<ChannelId> {
    n.log.iter().find_map(|e| match e {
        PeerEvent::DataChannelIncoming { channel, .. } => Some(*channel),
        _ => None,
    })
}

/// A stream of numbered messages from one side, one every 20 ms of virtual time.
struct Stream {
    from: usize,
    ch: ChannelId,
    to_ch: ChannelId,
    sent: u32,
}

impl Stream {
    fn run(&mut self, net: &mut Network<Node>, d: Duration) {
        let end = net.now() + d;
        while net.now() < end {
            let now = net.now();
            let msg = format!("message {}", self.sent);
            net.endpoint_mut(self.from).peer.send(now, self.ch, false, msg.as_bytes()).expect("send");
            self.sent += 1;
            run_for(net, Duration::from_millis(20));
        }
    }

    /// Everything sent arrives, once and in order.
    fn all_delivered(&self, net: &mut Network<Node>, max: Duration) {
        let (to, to_ch, sent) = (1 - self.from, self.to_ch, self.sent);
        drive(net, "every streamed message arrives", max, |n| {
            n.endpoint(to).msgs.get(&to_ch).map_or(0, Vec::len) >= sent as usize
        });
        let got = &net.endpoint(to).msgs[&to_ch];
        let want: Vec<Vec<u8>> = (0..sent).map(|i| format!("message {i}").into_bytes()).collect();
        assert_eq!(got, &want, "messages lost, duplicated or reordered");
    }
}

fn count(n: &Node, since: usize, f: impl Fn(&PeerEvent) -> bool) -> usize {
    n.log.iter().skip(since).filter(|e| f(e)).count()
}

/// Records every STUN datagram's bytes.
fn capture_stun(net: &mut Network<Node>) -> Rc<RefCell<Vec<Vec<u8>>>> {
    let seen: Rc<RefCell<Vec<Vec<u8>>>> = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    net.set_hook(move |d: &Datagram| {
        if d.data.first().is_some_and(|b| *b <= 3) {
            s.borrow_mut().push(d.data.clone());
        }
        Action::Deliver
    });
    seen
}

/// The USERNAME attribute (0x0006) of a STUN message, if any.
fn username(d: &[u8]) -> Option<String> {
    let mut i = 20;
    while i + 4 <= d.len() {
        let ty = u16::from_be_bytes([d[i], d[i + 1]]);
        let len = usize::from(u16::from_be_bytes([d[i + 2], d[i + 3]]));
        let v = d.get(i + 4..i + 4 + len)?;
        if ty == 0x0006 {
            return String::from_utf8(v.to_vec()).ok();
        }
        i += 4 + len.div_ceil(4) * 4;
    }
    None
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// `restarter` restarts ICE (`restartIce()` or `iceRestart`) while A streams to B.
fn restart_while_streaming(seed: u64, restarter: usize, use_option: bool) {
    let mut net = pair(seed, false);
    let (ch, inc) = connect(&mut net);
    let mut stream = Stream { from: A, ch, to_ch: inc, sent: 0 };
    stream.run(&mut net, Duration::from_secs(1));
    let old = [net.endpoint(A).local_ufrag(), net.endpoint(B).local_ufrag()];
    let old_pwd = pwd_of(&net.endpoint(restarter).peer.current_local_description().unwrap().sdp);
    let marks = [net.endpoint(A).log.len(), net.endpoint(B).log.len()];
    let stun = capture_stun(&mut net);

    let r = net.endpoint_mut(restarter);
    assert!(!r.peer.is_negotiation_needed());
    if !use_option {
        r.peer.restart_ice();
        assert!(r.peer.is_negotiation_needed(), "restartIce() makes negotiation needed");
    }
    let (offer, answer) = offer_answer(&mut net, restarter, use_option);
    let responder = 1 - restarter;
    assert_ne!(ufrag_of(&offer), old[restarter], "a restart offer has a new ufrag");
    assert_ne!(pwd_of(&offer), old_pwd, "and a new password");
    assert!(!offer.contains("a=candidate:"), "a restart offer carries no old candidate");
    assert_ne!(ufrag_of(&answer), old[responder], "the answer to a restart has new credentials too");
    assert!(!net.endpoint(restarter).peer.is_negotiation_needed(), "restart negotiated");
    let new = [net.endpoint(A).local_ufrag(), net.endpoint(B).local_ufrag()];

    stream.run(&mut net, Duration::from_secs(3));
    stream.all_delivered(&mut net, Duration::from_secs(10));
    // Past a consent period (5 s +- 20 %), so both sides sent checks with what they use now.
    run_for(&mut net, Duration::from_secs(8));

    for side in [A, B] {
        let n = net.endpoint(side);
        // Gathering ran again: gathering -> new candidates (new ufrag) -> complete.
        assert_eq!(
            count(n, marks[side], |e| matches!(e, PeerEvent::IceGatheringStateChanged(IceGatheringState::Gathering))),
            1,
            "side {side}: {:?}",
            &n.log[marks[side]..]
        );
        assert_eq!(
            count(n, marks[side], |e| matches!(e, PeerEvent::IceGatheringStateChanged(IceGatheringState::Complete))),
            1
        );
        let fresh = count(n, marks[side], |e| {
            matches!(e, PeerEvent::IceCandidate(Some(c)) if c.username_fragment.as_deref() == Some(new[side].as_str()))
        });
        assert!(fresh >= 1, "side {side}: candidates of the new generation");
        // No interruption, no DTLS or SCTP renegotiation. ICE goes from "completed" to
        // "connected" while the new generation gathers and is nominated, then back
        // (webrtc-pc RTCIceTransportState), and nowhere else.
        assert_eq!(
            count(n, marks[side], |e| matches!(
                e,
                PeerEvent::IceConnectionStateChanged(
                    IceConnectionState::New
                        | IceConnectionState::Checking
                        | IceConnectionState::Disconnected
                        | IceConnectionState::Failed
                        | IceConnectionState::Closed
                ) | PeerEvent::ConnectionStateChanged(_)
                    | PeerEvent::DtlsStateChanged(_)
                    | PeerEvent::SctpConnected { .. }
                    | PeerEvent::DataChannelClosed { .. }
            )),
            0,
            "side {side}: {:?}",
            &n.log[marks[side]..]
        );
        assert!(
            matches!(n.peer.ice_connection_state(), IceConnectionState::Connected | IceConnectionState::Completed),
            "side {side}"
        );
        assert_eq!(n.peer.dtls_state(), DtlsTransportState::Connected);
        assert!(n.peer.selected_candidate_pair().is_some());
    }
    // The checks of the end use the new credentials only (USERNAME "theirs:ours").
    let stun = stun.borrow();
    let both_new = format!("{}:{}", new[B], new[A]);
    let both_new_rev = format!("{}:{}", new[A], new[B]);
    let names: Vec<String> = stun.iter().filter_map(|d| username(d)).collect();
    assert!(names.contains(&both_new) && names.contains(&both_new_rev), "new {new:?} old {old:?}: {names:?}");
    let tail = &stun[stun.len().saturating_sub(4)..];
    assert!(!tail.is_empty());
    for d in tail {
        assert!(!contains(d, &old[A]) && !contains(d, &old[B]), "old credentials still in use");
    }
}

#[test]
fn restart_ice_by_the_offerer_while_a_channel_streams() {
    restart_while_streaming(1, A, false);
}

#[test]
fn restart_ice_by_the_answerer_is_a_remote_restart_for_the_other() {
    restart_while_streaming(2, B, false);
}

#[test]
fn ice_restart_offer_option_restarts_too() {
    restart_while_streaming(3, A, true);
    restart_while_streaming(4, B, true);
}

/// The selected path dies right after the restart: the new checks find the other pair.
fn restart_with_old_path_cut(seed: u64, restarter: usize) {
    let mut net = pair(seed, true);
    let (ch, inc) = connect(&mut net);
    let mut stream = Stream { from: A, ch, to_ch: inc, sent: 0 };
    stream.run(&mut net, Duration::from_secs(1));
    let (la, ra) = net.endpoint(A).peer.selected_candidate_pair().expect("a selected pair");
    let ip = |c: &str| -> String { c.split_whitespace().nth(4).expect("address field").to_string() };
    let (cut_a, cut_b) = (ip(&la), ip(&ra));
    let marks = [net.endpoint(A).log.len(), net.endpoint(B).log.len()];

    net.endpoint_mut(restarter).peer.restart_ice();
    offer_answer(&mut net, restarter, false);
    let (ca, cb) = (cut_a.clone(), cut_b.clone());
    net.set_hook(move |d: &Datagram| {
        let (s, t) = (d.source.ip().to_string(), d.destination.ip().to_string());
        if (s == ca && t == cb) || (s == cb && t == ca) {
            Action::Drop
        } else {
            Action::Deliver
        }
    });
    stream.run(&mut net, Duration::from_secs(3));
    stream.all_delivered(&mut net, Duration::from_secs(20));
    for side in [A, B] {
        let n = net.endpoint(side);
        let (l, r) = n.peer.selected_candidate_pair().expect("a selected pair");
        let (l, r) = (ip(&l), ip(&r));
        assert!(
            !((l == cut_a && r == cut_b) || (l == cut_b && r == cut_a)),
            "side {side} still on the cut path {l} -> {r}"
        );
        assert_eq!(n.peer.dtls_state(), DtlsTransportState::Connected);
        assert!(
            !n.log[marks[side]..].iter().any(|e| matches!(
                e,
                PeerEvent::DataChannelClosed { .. } | PeerEvent::SctpConnected { .. } | PeerEvent::DtlsStateChanged(_)
            )),
            "side {side}: {:?}",
            &n.log[marks[side]..]
        );
    }
    assert!(net.endpoint(A).connected() && net.endpoint(B).connected());
}

#[test]
fn old_path_cut_right_after_a_restart_by_the_offerer() {
    restart_with_old_path_cut(10, A);
}

#[test]
fn old_path_cut_right_after_a_restart_by_the_answerer() {
    restart_with_old_path_cut(11, B);
}

#[test]
fn rollback_of_a_restart_offer_restores_the_credentials() {
    let mut net = pair(20, false);
    let (ch, inc) = connect(&mut net);
    let mut stream = Stream { from: A, ch, to_ch: inc, sent: 0 };
    let before = net.endpoint(A).peer.current_local_description().unwrap().sdp;
    let now = net.now();
    let a = net.endpoint_mut(A);
    // The restart offer never reaches B, nor do its candidates.
    a.trickle = false;
    a.peer.restart_ice();
    let offer = a.peer.create_offer().unwrap();
    assert_ne!(ufrag_of(&offer), ufrag_of(&before));
    a.peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    assert_eq!(a.local_ufrag(), ufrag_of(&offer));
    stream.run(&mut net, Duration::from_millis(500));
    let now = net.now();
    let a = net.endpoint_mut(A);
    a.peer.set_local_description(now, Some(SdpType::Rollback), None).unwrap();
    assert_eq!(a.peer.signaling_state(), SignalingState::Stable);
    assert_eq!(a.local_ufrag(), ufrag_of(&before));
    a.candidates_out.clear();
    a.trickle = true;
    // restartIce() still wants a restart: the credentials to replace are in use again.
    assert!(a.peer.is_negotiation_needed());
    // B never saw the restart offer and keeps checking with A's old credentials: consent
    // (answered with the old password) must keep the path alive well past 30 s.
    stream.run(&mut net, Duration::from_secs(40));
    stream.all_delivered(&mut net, Duration::from_secs(5));
    for side in [A, B] {
        let st = net.endpoint(side).peer.ice_connection_state();
        assert!(matches!(st, IceConnectionState::Connected | IceConnectionState::Completed), "side {side}: {st:?}");
    }
    // The restart can then be negotiated for real, with credentials different from both.
    let (offer2, _) = offer_answer(&mut net, A, false);
    assert_ne!(ufrag_of(&offer2), ufrag_of(&before));
    assert_ne!(ufrag_of(&offer2), ufrag_of(&offer));
    assert!(!net.endpoint(A).peer.is_negotiation_needed());
    stream.run(&mut net, Duration::from_secs(2));
    stream.all_delivered(&mut net, Duration::from_secs(5));
}

#[test]
fn candidates_with_an_old_or_unknown_ufrag_are_ignored_or_refused() {
    let mut net = pair(30, false);
    let (ch, inc) = connect(&mut net);
    let old_a = net.endpoint(A).local_ufrag();
    let cand = |ufrag: &str| IceCandidateInit {
        candidate: "candidate:1 1 udp 2122260223 10.9.9.9 40009 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
        username_fragment: Some(ufrag.into()),
    };
    // A restarts; B holds the offer (pending): a late candidate of the current generation
    // is accepted and ignored, one of no generation is refused.
    let now = net.now();
    let (a, b) = net.pair_mut(A, B);
    a.peer.restart_ice();
    let offer = a.peer.create_offer().unwrap();
    a.peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    b.peer.set_remote_description(now, SdpType::Offer, &offer).unwrap();
    b.peer.add_ice_candidate(now, Some(cand(&old_a))).expect("old generation while the restart is pending");
    let e = b.peer.add_ice_candidate(now, Some(cand("nosuchufrag"))).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Operation, "{e}");
    let answer = b.peer.set_local_description(now, None, None).unwrap().sdp;
    a.peer.set_remote_description(now, SdpType::Answer, &answer).unwrap();
    // Once the answer is applied the old generation is gone: OperationError.
    let e = b.peer.add_ice_candidate(now, Some(cand(&old_a))).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Operation, "{e}");
    let old_end = IceCandidateInit {
        candidate: String::new(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: None,
        username_fragment: Some(old_a.clone()),
    };
    assert_eq!(b.peer.add_ice_candidate(now, Some(old_end)).unwrap_err().kind, ErrorKind::Operation);
    // The new generation's ufrag is accepted.
    let new_a = ufrag_of(&offer);
    b.peer.add_ice_candidate(now, Some(cand(&new_a))).expect("new generation");
    a.drain();
    b.drain();
    let mut stream = Stream { from: A, ch, to_ch: inc, sent: 0 };
    stream.run(&mut net, Duration::from_secs(2));
    stream.all_delivered(&mut net, Duration::from_secs(5));
}

#[test]
fn restart_ice_before_any_negotiation_does_nothing() {
    let mut net = pair(40, false);
    let a = net.endpoint_mut(A);
    a.peer.restart_ice();
    assert!(!a.peer.is_negotiation_needed());
    let (ch, inc) = connect(&mut net);
    let mut stream = Stream { from: A, ch, to_ch: inc, sent: 0 };
    stream.run(&mut net, Duration::from_millis(500));
    stream.all_delivered(&mut net, Duration::from_secs(5));
}

#[test]
fn restart_ice_recovers_a_failed_connection() {
    let mut net = pair(50, false);
    let (ch, inc) = connect(&mut net);
    // The network goes away until consent is lost on both sides (RFC 7675: failed).
    net.set_hook(|_: &Datagram| Action::Drop);
    drive(&mut net, "both sides fail", Duration::from_secs(60), |n| {
        n.endpoint(A).peer.ice_connection_state() == IceConnectionState::Failed
            && n.endpoint(B).peer.ice_connection_state() == IceConnectionState::Failed
    });
    net.clear_hook();
    let now = net.now();
    net.endpoint_mut(A).peer.send(now, ch, false, b"queued while failed").expect("send");
    net.endpoint_mut(A).peer.restart_ice();
    assert!(net.endpoint(A).peer.is_negotiation_needed());
    offer_answer(&mut net, A, false);
    drive(&mut net, "connected again after the restart", Duration::from_secs(30), |n| {
        n.endpoint(A).connected() && n.endpoint(B).connected()
    });
    drive(&mut net, "the message sent while failed arrives", Duration::from_secs(90), |n| {
        n.endpoint(B).msgs.get(&inc).is_some_and(|m| m.len() == 1)
    });
    assert_eq!(net.endpoint(B).msgs[&inc], vec![b"queued while failed".to_vec()]);
    let mut stream = Stream { from: A, ch, to_ch: inc, sent: 0 };
    net.endpoint_mut(B).msgs.clear();
    stream.run(&mut net, Duration::from_secs(1));
    stream.all_delivered(&mut net, Duration::from_secs(10));
}

/// A browser restarting ICE offers `actpass` again (Chromium does): the answer keeps the
/// negotiated DTLS role (RFC 8842 §5.5) and the association carries on.
#[test]
fn remote_restart_offer_with_actpass_keeps_the_dtls_role() {
    let mut net = pair(60, false);
    let (ch, inc) = connect(&mut net);
    assert!(net.endpoint(B).peer.current_local_description().unwrap().sdp.contains("a=setup:active"));
    let mut stream = Stream { from: A, ch, to_ch: inc, sent: 0 };
    stream.run(&mut net, Duration::from_millis(300));
    let now = net.now();
    let (a, b) = net.pair_mut(A, B);
    b.peer.restart_ice();
    let offer = b.peer.create_offer().unwrap();
    b.peer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    let browser_like = offer.replace("a=setup:active", "a=setup:actpass");
    assert_ne!(browser_like, offer);
    a.peer.set_remote_description(now, SdpType::Offer, &browser_like).unwrap();
    let answer = a.peer.set_local_description(now, None, None).unwrap().sdp;
    assert!(answer.contains("a=setup:passive"), "{answer}");
    b.peer.set_remote_description(now, SdpType::Answer, &answer).unwrap();
    a.drain();
    b.drain();
    stream.run(&mut net, Duration::from_secs(2));
    stream.all_delivered(&mut net, Duration::from_secs(10));
    assert_eq!(net.endpoint(A).peer.dtls_state(), DtlsTransportState::Connected);
}
