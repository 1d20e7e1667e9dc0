//! Two `Peer`s driven by hand: instant delivery between two addresses and a virtual clock
//! that jumps to the earliest deadline. Scenarios about timing of the pieces together.

use core::time::Duration;
use std::net::SocketAddr;

use super::*;
use crate::crypto::Rng;
use crate::time::Time;

pub(super) const OFFERER: usize = 0;
pub(super) const ANSWERER: usize = 1;

pub(super) struct Pair {
    pub(super) peers: [Peer; 2],
    addrs: [SocketAddr; 2],
    pub(super) now: Time,
    pub(super) connected_at: [Option<Time>; 2],
    /// Candidates each side gathered, not yet given to the other one.
    candidates: [Vec<IceCandidateInit>; 2],
    /// RTP and RTCP packets each side received (`(rtcp, packet)`).
    pub(super) media: [Vec<(bool, Vec<u8>)>; 2],
    /// Frames and keyframe requests each side received.
    pub(super) media_events: [Vec<PeerEvent>; 2],
}

impl Pair {
    pub(super) fn new(seed: u64) -> Pair {
        Pair::with_config(seed, |_| PeerConfig { raw_media_events: true, ..PeerConfig::default() })
    }

    /// Peer `i` made with `config(i)`.
    pub(super) fn with_config(seed: u64, config: impl Fn(usize) -> PeerConfig) -> Pair {
        let addrs: [SocketAddr; 2] = ["192.0.2.1:5000".parse().unwrap(), "192.0.2.2:6000".parse().unwrap()];
        let mk = |i: usize| {
            let mut p = Peer::new(config(i), Rng::seeded(seed * 2 + i as u64)).expect("Peer::new");
            p.add_local_transport(0, addrs[i]);
            p
        };
        Pair {
            peers: [mk(0), mk(1)],
            addrs,
            now: Time::ZERO,
            connected_at: [None, None],
            candidates: [vec![], vec![]],
            media: [vec![], vec![]],
            media_events: [vec![], vec![]],
        }
    }

    pub(super) fn drain_events(&mut self) {
        for i in 0..2 {
            while let Some(e) = self.peers[i].poll_event() {
                match e {
                    PeerEvent::ConnectionStateChanged(PeerConnectionState::Connected) => {
                        self.connected_at[i].get_or_insert(self.now);
                    }
                    PeerEvent::IceCandidate(Some(c)) => self.candidates[i].push(c),
                    PeerEvent::RtpReceived(p) => self.media[i].push((false, p)),
                    PeerEvent::RtcpReceived(p) => self.media[i].push((true, p)),
                    e @ (PeerEvent::MediaFrame { .. } | PeerEvent::KeyframeRequested { .. }) => self.media_events[i].push(e),
                    _ => {}
                }
            }
        }
    }

    /// Delivers datagrams until none is left (bounded).
    pub(super) fn deliver(&mut self) {
        self.deliver_with(&mut |_, _| false);
    }

    /// [`Pair::deliver`] where `drop` sees each datagram (sender, bytes) and may lose it.
    pub(super) fn deliver_with(&mut self, drop: &mut dyn FnMut(usize, &[u8]) -> bool) {
        for _ in 0..10_000 {
            let mut wire = Vec::new();
            for i in 0..2 {
                while let Some(t) = self.peers[i].poll_transmit(self.now) {
                    wire.push((i, t));
                }
            }
            self.drain_events();
            if wire.is_empty() {
                return;
            }
            for (from, t) in wire {
                if drop(from, &t.data) {
                    continue;
                }
                if let Some(to) = self.addrs.iter().position(|a| *a == t.destination) {
                    self.peers[to].handle_datagram(self.now, 0, self.addrs[from], &t.data);
                }
            }
        }
        panic!("datagrams kept flowing: livelock");
    }

    /// Runs the network and the timers until `until` (virtual time).
    pub(super) fn run_until(&mut self, until: Time) {
        self.run_until_with(until, &mut |_, _| false);
    }

    /// [`Pair::run_until`] on a path where `drop` may lose datagrams (see `deliver_with`).
    pub(super) fn run_until_with(&mut self, until: Time, drop: &mut dyn FnMut(usize, &[u8]) -> bool) {
        loop {
            self.deliver_with(drop);
            let next = self.peers.iter().filter_map(|p| p.poll_timeout()).min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    for p in &mut self.peers {
                        p.handle_timeout(self.now);
                    }
                }
                _ => {
                    self.now = until;
                    return;
                }
            }
        }
    }

    fn trickle(&mut self, from: usize) {
        let to = 1 - from;
        for c in std::mem::take(&mut self.candidates[from]) {
            self.peers[to].add_ice_candidate(self.now, Some(c)).expect("add_ice_candidate");
        }
    }
}

/// Offer (with a data channel) and answer between the pair's peers, their events drained;
/// the candidates gathered wait in `pair.candidates` (nothing trickled yet).
fn negotiate_data(pair: &mut Pair) {
    let now = pair.now;
    let a = &mut pair.peers[OFFERER];
    a.create_data_channel(now, DataChannelInit { label: "c".into(), ..DataChannelInit::default() }).expect("channel");
    let offer = a.create_offer().expect("offer");
    a.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD offer");
    pair.drain_events();
    pair.peers[ANSWERER].set_remote_description(now, SdpType::Offer, &offer).expect("SRD offer");
    let answer = pair.peers[ANSWERER].create_answer().expect("answer");
    pair.peers[ANSWERER].set_local_description(now, Some(SdpType::Answer), Some(&answer)).expect("SLD answer");
    pair.peers[OFFERER].set_remote_description(now, SdpType::Answer, &answer).expect("SRD answer");
    pair.drain_events();
}

/// The answerer starts DTLS (as client) as soon as its ICE check succeeds, so its
/// ClientHello reaches the offerer before the offerer has applied the answer and before its
/// ICE has a selected pair. The reply must wait for that pair, not be dropped: dropping it
/// cost the client's 500 ms retransmission timer on every connection.
#[test]
fn dtls_reply_to_an_early_client_hello_waits_for_the_ice_pair() {
    let mut pair = Pair::new(7);
    let ms = Duration::from_millis;
    let now = pair.now;
    let a = &mut pair.peers[OFFERER];
    a.create_data_channel(now, DataChannelInit { label: "c".into(), ..DataChannelInit::default() }).expect("channel");
    let offer = a.create_offer().expect("offer");
    a.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD offer");
    pair.drain_events();
    pair.peers[ANSWERER].set_remote_description(now, SdpType::Offer, &offer).expect("SRD offer");
    pair.trickle(OFFERER);
    let answer = pair.peers[ANSWERER].create_answer().expect("answer");
    pair.peers[ANSWERER].set_local_description(now, Some(SdpType::Answer), Some(&answer)).expect("SLD answer");
    pair.drain_events();

    // The answer travels slowly; meanwhile the answerer's checks and ClientHello arrive.
    pair.run_until(Time::ZERO + ms(100));
    assert!(pair.connected_at[OFFERER].is_none(), "offerer cannot be connected without the answer");
    assert!(pair.peers[ANSWERER].dtls_state() != DtlsTransportState::New, "answerer started DTLS");

    pair.peers[OFFERER].set_remote_description(pair.now, SdpType::Answer, &answer).expect("SRD answer");
    pair.trickle(ANSWERER);
    pair.run_until(Time::ZERO + ms(2000));

    let (a_at, b_at) = (pair.connected_at[OFFERER], pair.connected_at[ANSWERER]);
    let deadline = Time::ZERO + ms(100) + ms(300);
    assert!(a_at.is_some_and(|t| t < deadline), "offerer connected at {a_at:?}, deadline {deadline:?}");
    assert!(b_at.is_some_and(|t| t < deadline), "answerer connected at {b_at:?}, deadline {deadline:?}");
    assert_eq!(pair.peers[OFFERER].stats().datagrams_dropped_unknown, 0);
}

/// Datagrams fed to a peer before its transmits are drained are acknowledged together: the
/// SCTP packets (SACKs) are assembled at `poll_transmit`, not after every datagram, so a
/// host that reads a burst sends one SACK for it instead of one per second packet.
#[test]
fn a_burst_fed_before_draining_gets_one_sack() {
    let mut pair = Pair::new(11);
    let now = pair.now;
    let (channel, _) = pair.peers[OFFERER]
        .create_data_channel(now, DataChannelInit { label: "c".into(), ..DataChannelInit::default() })
        .expect("channel");
    let offer = pair.peers[OFFERER].create_offer().expect("offer");
    pair.peers[OFFERER].set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD");
    pair.drain_events();
    pair.peers[ANSWERER].set_remote_description(now, SdpType::Offer, &offer).expect("SRD");
    pair.trickle(OFFERER);
    let answer = pair.peers[ANSWERER].create_answer().expect("answer");
    pair.peers[ANSWERER].set_local_description(now, Some(SdpType::Answer), Some(&answer)).expect("SLD");
    pair.peers[OFFERER].set_remote_description(now, SdpType::Answer, &answer).expect("SRD");
    pair.drain_events();
    pair.trickle(ANSWERER);
    pair.run_until(Time::ZERO + Duration::from_secs(2));
    assert!(pair.connected_at.iter().all(Option::is_some), "connected");

    // Four DATA packets (1100-byte messages are not bundled), all inside the initial cwnd.
    for i in 0..4u8 {
        pair.peers[OFFERER].send(pair.now, channel, true, &[i; 1100]).expect("send");
    }
    let mut burst = Vec::new();
    while let Some(t) = pair.peers[OFFERER].poll_transmit(pair.now) {
        burst.push(t);
    }
    assert_eq!(burst.len(), 4, "four DATA datagrams");
    let from = pair.addrs[OFFERER];
    for t in &burst {
        pair.peers[ANSWERER].handle_datagram(pair.now, 0, from, &t.data);
    }
    let mut replies = 0;
    while pair.peers[ANSWERER].poll_transmit(pair.now).is_some() {
        replies += 1;
    }
    assert_eq!(replies, 1, "one SACK for the burst");
    let mut delivered = 0;
    while let Some(e) = pair.peers[ANSWERER].poll_event() {
        if let PeerEvent::DataChannelMessage { data, .. } = e {
            assert_eq!(data.len(), 1100);
            delivered += 1;
        }
    }
    assert_eq!(delivered, 4);
}

fn gathering_events(p: &mut Peer) -> Vec<IceGatheringState> {
    let mut out = Vec::new();
    while let Some(e) = p.poll_event() {
        if let PeerEvent::IceGatheringStateChanged(s) = e {
            out.push(s);
        }
    }
    out
}

/// JSEP §5.2.1: an offer made before any data channel has no media section; applying it
/// (and the answer to it, which has none either) creates no transport, so gathering does not
/// start. The first data channel makes negotiation needed and puts `m=application` in the
/// next offer, which the other side answers with one (the remote-offer case); that exchange
/// gathers and connects. Once negotiated the section stays, even with no channel left.
#[test]
fn no_media_section_before_the_first_data_channel() {
    let mut pair = Pair::new(21);
    let now = pair.now;
    let offer = pair.peers[OFFERER].create_offer().expect("offer");
    assert!(!offer.contains("m="), "no m-section without a channel:\n{offer}");
    pair.peers[OFFERER].set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD");
    assert_eq!(gathering_events(&mut pair.peers[OFFERER]), vec![]);
    assert_eq!(pair.peers[OFFERER].ice_gathering_state(), IceGatheringState::New);
    pair.peers[ANSWERER].set_remote_description(now, SdpType::Offer, &offer).expect("SRD");
    let answer = pair.peers[ANSWERER].create_answer().expect("answer");
    assert!(!answer.contains("m="), "the answer to it has none:\n{answer}");
    pair.peers[ANSWERER].set_local_description(now, Some(SdpType::Answer), Some(&answer)).expect("SLD answer");
    assert_eq!(gathering_events(&mut pair.peers[ANSWERER]), vec![]);
    pair.peers[OFFERER].set_remote_description(now, SdpType::Answer, &answer).expect("SRD answer");
    assert_eq!(pair.peers[OFFERER].signaling_state(), SignalingState::Stable);
    // A candidate has no section to go to; end-of-candidates for all of them marks nothing.
    let c = IceCandidateInit {
        candidate: "candidate:1 1 udp 2122260223 192.0.2.2 6000 typ host".into(),
        sdp_mid: Some("0".into()),
        ..IceCandidateInit::default()
    };
    assert_eq!(pair.peers[OFFERER].add_ice_candidate(now, Some(c)).unwrap_err().kind, ErrorKind::Operation);
    pair.peers[OFFERER].add_ice_candidate(now, None).expect("general end-of-candidates");
    pair.run_until(Time::ZERO + Duration::from_millis(500));
    assert_eq!(pair.peers[OFFERER].ice_gathering_state(), IceGatheringState::New);
    assert_eq!(pair.peers[ANSWERER].ice_gathering_state(), IceGatheringState::New);
    assert!(!pair.peers[OFFERER].is_negotiation_needed());

    let (channel, _) = pair.peers[OFFERER]
        .create_data_channel(pair.now, DataChannelInit { label: "c".into(), ..DataChannelInit::default() })
        .expect("channel");
    assert!(pair.peers[OFFERER].is_negotiation_needed());
    let now = pair.now;
    let offer = pair.peers[OFFERER].create_offer().expect("offer 2");
    assert!(offer.contains("\r\nm=application "), "{offer}");
    pair.peers[OFFERER].set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD 2");
    assert_ne!(pair.peers[OFFERER].ice_gathering_state(), IceGatheringState::New);
    pair.drain_events();
    pair.peers[ANSWERER].set_remote_description(now, SdpType::Offer, &offer).expect("SRD 2");
    pair.trickle(OFFERER);
    let answer = pair.peers[ANSWERER].create_answer().expect("answer 2");
    assert!(answer.contains("\r\nm=application "), "{answer}");
    pair.peers[ANSWERER].set_local_description(now, Some(SdpType::Answer), Some(&answer)).expect("SLD answer 2");
    pair.peers[OFFERER].set_remote_description(now, SdpType::Answer, &answer).expect("SRD answer 2");
    pair.drain_events();
    pair.trickle(ANSWERER);
    pair.run_until(Time::ZERO + Duration::from_secs(3));
    assert!(pair.connected_at.iter().all(Option::is_some), "connected");
    assert_eq!(pair.peers[ANSWERER].ice_gathering_state(), IceGatheringState::Complete);
    assert!(!pair.peers[OFFERER].is_negotiation_needed());

    // The negotiated section stays in later offers, from either side, channel or not.
    pair.peers[OFFERER].close_channel(pair.now, channel);
    pair.run_until(pair.now + Duration::from_secs(1));
    for i in [OFFERER, ANSWERER] {
        let again = pair.peers[i].create_offer().expect("later offer");
        assert!(again.contains("\r\nm=application "), "{again}");
    }
}

/// A relay whose servers the host cannot reach: each failed URL is an icecandidateerror (701)
/// once gathering runs, the next URL takes over the allocation, and when none is left
/// gathering stops waiting for it at once.
#[test]
fn relay_servers_that_fail_are_reported_and_the_last_one_ends_the_wait() {
    use crate::turn::{TurnConfig, TurnTransport};
    let now = Time::ZERO;
    let mut p = Peer::new(PeerConfig::default(), Rng::seeded(77)).expect("Peer::new");
    let server: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let turn = TurnConfig::new(TurnTransport::WebSocket, "u", "p");
    p.add_relay(now, 2, 1, server, "ws://a", turn.clone()).expect("add_relay");
    assert!(p.relay_server_failed(now, 9, "ws://x", "no such relay", None).is_err());
    // Before gathering: nothing reported yet.
    p.relay_server_failed(now, 1, "ws://a", "refused", Some("ws://b")).expect("failed a");
    let errors = |p: &mut Peer| {
        let mut v = Vec::new();
        while let Some(e) = p.poll_event() {
            if let PeerEvent::IceCandidateError { url, error_code, .. } = e {
                v.push((url, error_code));
            }
        }
        v
    };
    assert!(errors(&mut p).is_empty());
    p.create_data_channel(now, DataChannelInit { label: "c".into(), ..DataChannelInit::default() }).expect("channel");
    let offer = p.create_offer().expect("offer");
    p.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD");
    assert_eq!(errors(&mut p), vec![("ws://a".to_string(), 701)]);
    // The allocation is being made on ws://b: gathering waits for it.
    assert_eq!(p.ice_gathering_state(), IceGatheringState::Gathering);
    assert!(p.poll_transmit(now).is_some_and(|t| t.transport == 1), "the Allocate goes out on the relay's transport");
    p.relay_server_failed(now, 1, "ws://b", "closed", None).expect("failed b");
    assert_eq!(errors(&mut p), vec![("ws://b".to_string(), 701)]);
    let mut t = now;
    for _ in 0..50 {
        if p.ice_gathering_state() == IceGatheringState::Complete {
            break;
        }
        t = p.poll_timeout().unwrap_or(t).max(t);
        p.handle_timeout(t);
        while p.poll_transmit(t).is_some() {}
    }
    assert_eq!(p.ice_gathering_state(), IceGatheringState::Complete);
    assert!(t < Time::ZERO + Duration::from_secs(2), "gathering did not wait for the TURN client: {t:?}");
    assert!(errors(&mut p).is_empty(), "reported once");
}

/// Connects a pair with a data channel (the offer/answer, candidates both ways).
fn connected_pair(seed: u64) -> Pair {
    let mut pair = Pair::new(seed);
    negotiate_data(&mut pair);
    pair.trickle(OFFERER);
    pair.trickle(ANSWERER);
    pair.run_until(Time::ZERO + Duration::from_secs(2));
    assert!(pair.connected_at.iter().all(Option::is_some), "connected");
    pair
}

fn rtp_packet(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0x60 | if seq.is_multiple_of(10) { 0x80 } else { 0 }];
    p.extend(seq.to_be_bytes());
    p.extend((u32::from(seq) * 3000).to_be_bytes());
    p.extend(ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// DTLS negotiates an SRTP profile (use_srtp) and both peers key SRTP from its exporter: RTP
/// and RTCP sent by one arrive decrypted and intact at the other, in both directions; on the
/// wire they are encrypted.
#[test]
fn srtp_keyed_from_dtls_carries_rtp_and_rtcp_both_ways() {
    let mut pair = connected_pair(21);
    for i in 0..2 {
        assert_eq!(pair.peers[i].srtp_profile(), Some(crate::srtp::SrtpProfile::AeadAes128Gcm));
    }
    let now = pair.now;
    let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    let sent: Vec<Vec<u8>> = (0..50u16).map(|s| rtp_packet(65_500u16.wrapping_add(s), 0xabcd, &payload)).collect();
    for p in &sent {
        pair.peers[OFFERER].send_rtp(now, p).expect("send_rtp");
    }
    // On the wire: not the plaintext payload.
    let wire = pair.peers[OFFERER].poll_transmit(now).expect("a datagram");
    assert_eq!(wire.data.len(), sent[0].len() + 16);
    assert!(!wire.data.windows(32).any(|w| w == &payload[..32]), "the payload went out in the clear");
    pair.peers[ANSWERER].handle_datagram(now, 0, pair.addrs[OFFERER], &wire.data);
    // An RTCP receiver report the other way.
    let rr = vec![0x81, 201, 0, 7, 0, 0, 0x12, 0x34, 0, 0, 0xab, 0xcd, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0];
    pair.peers[ANSWERER].send_rtcp(now, &rr).expect("send_rtcp");
    pair.deliver();
    let got: Vec<Vec<u8>> = pair.media[ANSWERER].iter().filter(|(rtcp, _)| !rtcp).map(|(_, p)| p.clone()).collect();
    assert_eq!(got, sent, "every RTP packet, intact and in order (across the sequence number wrap)");
    assert_eq!(pair.media[OFFERER], vec![(true, rr)]);
    let st = pair.peers[ANSWERER].srtp_stats().expect("keyed");
    assert_eq!((st.rtp_unprotected, st.auth_failures), (50, 0));
    // inbound-rtp: one stream, its packets and payload bytes (no media section names it here).
    let inbound = pair.peers[ANSWERER].inbound_rtp();
    assert_eq!(inbound.len(), 1);
    assert_eq!((inbound[0].ssrc, inbound[0].packets, inbound[0].payload_bytes), (0xabcd, 50, 50 * 1000));
    assert_eq!(inbound[0].header_bytes, 50 * 12);
    assert_eq!((inbound[0].kind, inbound[0].mid.as_deref()), (None, None));
}

/// Anyone who learns the port can send SRTP-looking datagrams: a well-formed RTP packet with
/// a forged tag from the peer's own address is refused by SRTP; a real one replayed is
/// refused; one from another address never reaches SRTP (off-path).
#[test]
fn forged_replayed_and_off_path_rtp_is_dropped_and_counted() {
    let mut pair = connected_pair(22);
    let now = pair.now;
    let b = ANSWERER;
    let peer_addr = pair.addrs[OFFERER];
    let mut forged = rtp_packet(7, 0xabcd, &[1, 2, 3, 4]);
    forged.extend([0u8; 16]);
    pair.peers[b].handle_datagram(now, 0, peer_addr, &forged);
    pair.peers[OFFERER].send_rtp(now, &rtp_packet(8, 0xabcd, &[9; 20])).unwrap();
    let real = pair.peers[OFFERER].poll_transmit(now).unwrap();
    pair.peers[b].handle_datagram(now, 0, peer_addr, &real.data);
    pair.peers[b].handle_datagram(now, 0, peer_addr, &real.data);
    let stranger: SocketAddr = "192.0.2.99:5000".parse().unwrap();
    let off_before = pair.peers[b].stats().datagrams_dropped_off_path;
    pair.peers[b].handle_datagram(now, 0, stranger, &real.data);
    pair.drain_events();
    assert_eq!(pair.media[b].len(), 1, "only the real packet, once");
    let st = pair.peers[b].srtp_stats().unwrap();
    assert_eq!((st.auth_failures, st.replayed, st.rtp_unprotected), (1, 1, 1));
    assert_eq!(pair.peers[b].stats().datagrams_dropped_off_path, off_before + 1);
    // Bad input from our own host is an error, not a panic.
    assert!(pair.peers[OFFERER].send_rtp(now, &[0x40, 0, 0]).is_err());
}

/// A host that does not poll its events is not made to hold more than the bound.
#[test]
fn received_media_waiting_to_be_polled_is_bounded() {
    let mut pair = connected_pair(23);
    let now = pair.now;
    let peer_addr = pair.addrs[OFFERER];
    for seq in 0..(MAX_QUEUED_MEDIA_EVENTS as u16 + 10) {
        pair.peers[OFFERER].send_rtp(now, &rtp_packet(seq, 1, &[0; 8])).unwrap();
        while let Some(t) = pair.peers[OFFERER].poll_transmit(now) {
            pair.peers[ANSWERER].handle_datagram(now, 0, peer_addr, &t.data);
        }
    }
    assert_eq!(pair.peers[ANSWERER].stats().media_dropped_queue_full, 10);
    let mut n = 0;
    while let Some(e) = pair.peers[ANSWERER].poll_event() {
        n += usize::from(matches!(e, PeerEvent::RtpReceived(_)));
    }
    assert_eq!(n, MAX_QUEUED_MEDIA_EVENTS);
    // Polled, there is room again.
    pair.peers[OFFERER].send_rtp(now, &rtp_packet(9000, 1, &[0; 8])).unwrap();
    pair.deliver();
    assert_eq!(pair.media[ANSWERER].len(), 1);
}

// ---------------------------------------------------------------------------------------
// Transceivers and media
// ---------------------------------------------------------------------------------------

fn video_init(direction: crate::sdp::media::Direction, track: Option<&str>) -> TransceiverInit {
    TransceiverInit {
        kind: crate::sdp::media::MediaKind::Video,
        direction,
        stream_ids: vec!["stream-a".into()],
        track_id: track.map(str::to_owned),
        from_add_track: track.is_some(),
        send_encodings: Vec::new(),
    }
}

/// Offer from `from`, answer from the other side, candidates both ways, then run.
pub(super) fn negotiate(pair: &mut Pair, from: usize) {
    negotiate_munged(pair, from, |o| o, |a| a);
}

/// A VP8 frame of `len` bytes: the first byte's low bit clear marks a key frame (RFC 6386 §9.1).
fn vp8_frame(key: bool, len: usize, fill: u8) -> Vec<u8> {
    let mut f = vec![fill; len];
    f[0] = if key { 0x10 } else { 0x11 };
    f
}

fn frames_received(pair: &mut Pair, side: usize) -> Vec<(TransceiverId, bool, u32, Vec<u8>)> {
    let mut out = Vec::new();
    pair.drain_events();
    for e in std::mem::take(&mut pair.media_events[side]) {
        if let PeerEvent::MediaFrame { transceiver, keyframe, rtp_timestamp, data, mime_type, .. } = e {
            assert_eq!(mime_type, "video/VP8");
            out.push((transceiver, keyframe, rtp_timestamp, data));
        }
    }
    out
}

/// A media-only session (no data channel): our offer has one video section, the answerer
/// gets a transceiver for it (recvonly), DTLS connects without SCTP, and the frames written
/// on one side come out whole, in order, as frames on the other.
#[test]
fn video_only_session_carries_frames() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(40);
    let t = pair.peers[OFFERER].add_transceiver(video_init(Direction::SendRecv, Some("track-1"))).unwrap();
    assert!(pair.peers[OFFERER].is_negotiation_needed());
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    assert!(offer.contains("m=video 9 UDP/TLS/RTP/SAVPF 96 97"), "{offer}");
    assert!(offer.contains("a=msid:stream-a track-1"), "{offer}");
    assert!(offer.contains("a=group:BUNDLE 0"), "{offer}");
    assert!(!offer.contains("m=application"), "{offer}");
    negotiate(&mut pair, OFFERER);
    assert!(pair.connected_at.iter().all(Option::is_some), "connected without SCTP");
    assert!(!pair.peers[OFFERER].is_negotiation_needed());
    let remote = pair.peers[ANSWERER].transceivers();
    assert_eq!(remote.len(), 1);
    let r = &remote[0];
    assert_eq!((r.mid.as_deref(), r.direction, r.current_direction), (Some("0"), Direction::RecvOnly, Some(Direction::RecvOnly)));
    assert!(r.receiving);
    assert_eq!(r.remote_stream_ids, ["stream-a"]);
    assert_eq!(r.codecs[0].name, "VP8");
    let local = &pair.peers[OFFERER].transceivers()[0];
    assert_eq!((local.current_direction, local.receiving), (Some(Direction::SendOnly), false));

    let now = pair.now;
    let mut sent = Vec::new();
    for i in 0..10u64 {
        let f = vp8_frame(i == 0, 500 + 1000 * i as usize, i as u8);
        assert!(pair.peers[OFFERER].write_frame(now, t, i * 33_333, &f, None).unwrap());
        sent.push(f);
    }
    pair.deliver();
    let got = frames_received(&mut pair, ANSWERER);
    assert_eq!(got.len(), 10);
    for (i, (tid, key, ts, data)) in got.iter().enumerate() {
        assert_eq!(*tid, r.id);
        assert_eq!(*key, i == 0);
        assert_eq!(data, &sent[i]);
        assert_eq!(ts.wrapping_sub(got[0].2) as u64, i as u64 * 33_333 * 90 / 1000, "90 kHz from µs");
    }
    // Keyframe request travels back as RTCP PLI.
    pair.peers[ANSWERER].request_keyframe(now, r.id).unwrap();
    pair.deliver();
    pair.drain_events();
    assert!(pair.media_events[OFFERER].contains(&PeerEvent::KeyframeRequested { transceiver: t }), "PLI reached the sender");
}

/// The answerer's `addTrack` transceiver is taken by the offered section of its kind, so its
/// answer sends: frames flow both ways on one m-line.
#[test]
fn add_track_transceiver_is_reused_by_a_remote_offer_and_sends_back() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(41);
    let a = pair.peers[OFFERER].add_transceiver(video_init(Direction::SendRecv, Some("ta"))).unwrap();
    let b = pair.peers[ANSWERER].add_transceiver(video_init(Direction::SendRecv, Some("tb"))).unwrap();
    negotiate(&mut pair, OFFERER);
    let tb = pair.peers[ANSWERER].transceivers();
    assert_eq!(tb.len(), 1, "reused, not a second transceiver");
    assert_eq!((tb[0].id, tb[0].current_direction), (b, Some(Direction::SendRecv)));
    let ta = &pair.peers[OFFERER].transceivers()[0];
    assert_eq!(ta.current_direction, Some(Direction::SendRecv));
    let now = pair.now;
    assert!(pair.peers[ANSWERER].write_frame(now, b, 0, &vp8_frame(true, 3000, 7), None).unwrap());
    assert!(pair.peers[OFFERER].write_frame(now, a, 0, &vp8_frame(true, 200, 9), None).unwrap());
    pair.deliver();
    assert_eq!(frames_received(&mut pair, OFFERER).len(), 1);
    assert_eq!(frames_received(&mut pair, ANSWERER).len(), 1);
    assert!(!pair.peers[ANSWERER].is_negotiation_needed());
    // A direction change needs negotiation; after it the answerer only receives.
    pair.peers[ANSWERER].set_transceiver_direction(b, Direction::RecvOnly).unwrap();
    assert!(pair.peers[ANSWERER].is_negotiation_needed());
    negotiate(&mut pair, ANSWERER);
    assert!(!pair.peers[ANSWERER].is_negotiation_needed());
    assert_eq!(pair.peers[ANSWERER].transceivers()[0].current_direction, Some(Direction::RecvOnly));
    let now = pair.now;
    assert!(!pair.peers[ANSWERER].write_frame(now, b, 40_000, &vp8_frame(true, 100, 1), None).unwrap(), "not sending now");
}

/// Media first, then a data channel: the re-offer keeps the video m-line first and adds the
/// data section; SCTP starts over the DTLS transport already connected.
#[test]
fn data_channel_added_to_a_media_session_by_renegotiation() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(42);
    pair.peers[OFFERER].add_transceiver(video_init(Direction::SendOnly, Some("t"))).unwrap();
    negotiate(&mut pair, OFFERER);
    let now = pair.now;
    let c = pair.peers[OFFERER].create_data_channel(now, DataChannelInit { label: "late".into(), ..DataChannelInit::default() }).unwrap().0;
    assert!(pair.peers[OFFERER].is_negotiation_needed());
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    let v = offer.find("m=video").unwrap();
    let d = offer.find("m=application").unwrap();
    assert!(v < d, "{offer}");
    assert!(offer.contains("a=group:BUNDLE 0 1"), "{offer}");
    negotiate(&mut pair, OFFERER);
    let mut open = false;
    let until = pair.now + Duration::from_secs(2);
    pair.run_until(until);
    while let Some(e) = pair.peers[OFFERER].poll_event() {
        open |= e == PeerEvent::DataChannelOpen { channel: c };
    }
    // drain_events in run_until may have taken it: the channel's SCTP id is the sign either way.
    assert!(open || pair.peers[OFFERER].sctp_stats().is_some(), "SCTP started");
    assert!(pair.peers[OFFERER].sctp_stats().is_some());
}

/// Rollback of a remote offer removes the transceiver it created; stop() rejects the m-line
/// in the next offer and the transceiver ends stopped on both sides.
#[test]
fn rollback_and_stop() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(43);
    let a = pair.peers[OFFERER].add_transceiver(video_init(Direction::SendRecv, Some("t"))).unwrap();
    let now = pair.now;
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    pair.peers[ANSWERER].set_remote_description(now, SdpType::Offer, &offer).unwrap();
    assert_eq!(pair.peers[ANSWERER].transceivers().len(), 1);
    pair.peers[ANSWERER].set_remote_description(now, SdpType::Rollback, "").unwrap();
    assert!(pair.peers[ANSWERER].transceivers().is_empty(), "created by the offer, gone with it");
    // Our own offer rolled back: the mid it gave is taken back.
    pair.peers[OFFERER].set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    assert_eq!(pair.peers[OFFERER].transceivers()[0].mid.as_deref(), Some("0"));
    pair.peers[OFFERER].set_local_description(now, Some(SdpType::Rollback), None).unwrap();
    assert_eq!(pair.peers[OFFERER].transceivers()[0].mid, None);
    negotiate(&mut pair, OFFERER);
    assert_eq!(pair.peers[ANSWERER].transceivers().len(), 1);
    pair.peers[OFFERER].stop_transceiver(a).unwrap();
    assert!(pair.peers[OFFERER].transceivers()[0].stopping);
    assert!(pair.peers[OFFERER].is_negotiation_needed());
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    assert!(offer.contains("m=video 0 "), "{offer}");
    negotiate(&mut pair, OFFERER);
    for side in [OFFERER, ANSWERER] {
        let t = &pair.peers[side].transceivers()[0];
        assert!(t.stopped && t.current_direction.is_none(), "side {side}: {t:?}");
    }
    assert!(!pair.peers[OFFERER].is_negotiation_needed());
}

/// Packets of an SSRC no section names, with no MID and a payload type no transceiver has,
/// are dropped and counted; a frame too large is an error, not a panic.
#[test]
fn unrouted_media_is_counted_and_bad_frames_refused() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(44);
    let t = pair.peers[OFFERER].add_transceiver(video_init(Direction::SendOnly, Some("t"))).unwrap();
    negotiate(&mut pair, OFFERER);
    let now = pair.now;
    let mut stray = rtp_packet(1, 0x1234, &[0; 10]);
    stray[1] = 120; // a payload type no section has
    pair.peers[OFFERER].send_rtp(now, &stray).unwrap();
    pair.deliver();
    assert_eq!(pair.peers[ANSWERER].stats().media_dropped_unrouted, 1);
    let huge = vec![0u8; MAX_SEND_FRAME_BYTES + 1];
    assert!(pair.peers[OFFERER].write_frame(now, t, 0, &huge, None).is_err());
    assert!(pair.peers[OFFERER].write_frame(now, 999, 0, &[1], None).is_err());
    assert!(pair.peers[OFFERER].write_frame(now, t, 0, &[0x10, 1, 2], Some("H264")).is_err(), "not negotiated");
}

/// On a path that loses every 5th RTP datagram the receiver NACKs what is missing and the
/// sender answers with RTX, so every frame completes; both ends send reports, and the sender
/// measures a round-trip time from the receiver's report blocks.
#[test]
fn lost_packets_are_nacked_and_repaired_with_rtx_and_reports_give_rtt() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(45);
    let t = pair.peers[OFFERER].add_transceiver(video_init(Direction::SendOnly, Some("t"))).unwrap();
    negotiate(&mut pair, OFFERER);
    let mut sent = Vec::new();
    let mut n = 0u32;
    for i in 0..30u64 {
        let now = pair.now;
        let f = vp8_frame(i % 10 == 0, 2500, i as u8);
        pair.peers[OFFERER].write_frame(now, t, i * 33_333, &f, None).unwrap();
        sent.push(f);
        // Lose every 5th first transmission on the way (RTX packets are not dropped here).
        while let Some(tx) = pair.peers[OFFERER].poll_transmit(now) {
            n += 1;
            if n.is_multiple_of(5) && tx.data.get(1).is_some_and(|b| b & 0x7f == 96) {
                continue;
            }
            pair.peers[ANSWERER].handle_datagram(now, 0, pair.addrs[OFFERER], &tx.data);
        }
        let until = pair.now + Duration::from_millis(33);
        pair.run_until(until);
    }
    // A loss is seen from the packets after it: a few more frames, on a clean path.
    for i in 30..33u64 {
        let now = pair.now;
        let f = vp8_frame(false, 2500, i as u8);
        pair.peers[OFFERER].write_frame(now, t, i * 33_333, &f, None).unwrap();
        sent.push(f);
        let until = pair.now + Duration::from_millis(33);
        pair.run_until(until);
    }
    let until = pair.now + Duration::from_secs(3);
    pair.run_until(until);
    let got = frames_received(&mut pair, ANSWERER);
    assert_eq!(got.len(), 33, "every frame repaired");
    let mut datas: Vec<Vec<u8>> = got.into_iter().map(|(_, _, _, d)| d).collect();
    datas.sort_by_key(|d| d[1]);
    sent.sort_by_key(|d| d[1]);
    assert_eq!(datas, sent);
    assert!(pair.peers[OFFERER].stats().rtp_retransmitted > 0);
    // Retransmissions took fresh transport-wide sequence numbers: on this in-order path they
    // arrive increasing (a resend with its original's number would go back).
    let tcc: Vec<u16> = pair.media[ANSWERER]
        .iter()
        .filter(|(rtcp, _)| !rtcp)
        .filter_map(|(_, p)| {
            let rtp = crate::rtp::RtpPacket::parse(p).ok()?;
            let v = rtp.header.extensions.get(3)?;
            Some(u16::from_be_bytes([v[0], v[1]]))
        })
        .collect();
    assert!(tcc.len() > 80, "{} packets", tcc.len());
    assert!(tcc.windows(2).all(|w| w[1] > w[0]), "{tcc:?}");
    assert!(pair.peers[ANSWERER].inbound_feedback()[0].nacks_sent > 0);
    assert!(pair.peers[ANSWERER].stats().rtcp_sent > 0 && pair.peers[OFFERER].stats().rtcp_sent > 0);
    let out = pair.peers[OFFERER].outbound_rtp();
    assert_eq!(out.len(), 1);
    assert!(out[0].retransmitted_packets > 0);
    let remote = out[0].remote.expect("a report block about our stream");
    assert!(remote.round_trip_time.is_some(), "{remote:?}");
}

/// A remote offer has at most `MAX_MEDIA_SECTIONS` sections (more is refused with an error,
/// no transceiver left behind); transceivers stopped by an answer are dropped when the next
/// offer is applied, so stopping and adding sections again and again stays bounded.
#[test]
fn a_remote_offer_cannot_create_unbounded_transceivers() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(46);
    pair.peers[OFFERER].add_transceiver(video_init(Direction::SendRecv, Some("t"))).unwrap();
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    let start = offer.find("m=video").unwrap();
    let section = offer[start..].to_owned();
    let offer_of = |n: usize| {
        let mids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let head = offer[..start].replace("a=group:BUNDLE 0", &format!("a=group:BUNDLE {}", mids.join(" ")));
        // The first section carries the transport; the others are the smallest usable ones.
        let rest: String = mids[1..]
            .iter()
            .map(|m| format!("m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=sendonly\r\na=mid:{m}\r\n"))
            .collect();
        format!("{head}{section}{rest}")
    };
    let now = pair.now;
    let b = &mut pair.peers[ANSWERER];
    let e = b.set_remote_description(now, SdpType::Offer, &offer_of(crate::sdp::wire::MAX_MEDIA_SECTIONS + 1)).unwrap_err();
    assert!(e.message.contains("TooManyMediaSections"), "{e:?}");
    assert_eq!(b.signaling_state(), SignalingState::Stable);
    assert!(b.transceivers().is_empty(), "none left from the refused offer");
    b.set_remote_description(now, SdpType::Offer, &offer_of(8)).unwrap();
    assert_eq!(b.transceivers().len(), 8);
    let answer = b.create_answer().unwrap();
    assert_eq!(answer.matches("m=video 9 ").count(), 8, "each bundled section answered");
    b.set_local_description(now, Some(SdpType::Answer), Some(&answer)).unwrap();
    // A subsequent offer that moves or renames negotiated m-lines is refused.
    let renamed = offer_of(8).replace("a=mid:3\r\n", "a=mid:x3\r\n").replace("BUNDLE 0 1 2 3", "BUNDLE 0 1 2 x3");
    let e = b.set_remote_description(now, SdpType::Offer, &renamed).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidAccess, "{e:?}");
    // Round after round the remote rejects every section, then recycles the m-lines with new
    // mids: the stopped transceivers go, the count stays bounded.
    let mut mids: Vec<String> = (0..8).map(|i| i.to_string()).collect();
    let with_mids = |mids: &[String], rejected: bool| {
        let mut text = offer_of(8).replace("a=group:BUNDLE 0 1 2 3 4 5 6 7", &format!("a=group:BUNDLE {}", mids.join(" ")));
        for i in (0..8).rev() {
            text = text.replace(&format!("a=mid:{i}\r\n"), &format!("a=mid:{}\r\n", mids[i]));
        }
        if rejected {
            text = text.replace("m=video 9 ", "m=video 0 ").replace("a=group:BUNDLE", "a=x-nogroup:");
        }
        text
    };
    for round in 1..=40usize {
        for (text, fresh) in [(with_mids(&mids, true), false), (String::new(), true)] {
            let text = if fresh {
                mids = (0..8).map(|i| format!("r{round}m{i}")).collect();
                with_mids(&mids, false)
            } else {
                text
            };
            b.set_remote_description(now, SdpType::Offer, &text).unwrap_or_else(|e| panic!("round {round}: {e:?}"));
            let answer = b.create_answer().unwrap();
            b.set_local_description(now, Some(SdpType::Answer), Some(&answer)).unwrap();
        }
        assert!(b.transceivers().len() <= 16, "round {round}: {}", b.transceivers().len());
    }
}

/// A frame lost for good (no RTX answers here: the sender's history is emptied) makes the
/// receiver ask for a key frame (PLI, `nack pli` negotiated), once per loss and rate limited.
#[test]
fn a_frame_lost_for_good_brings_a_keyframe_request() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(47);
    let t = pair.peers[OFFERER].add_transceiver(video_init(Direction::SendOnly, Some("t"))).unwrap();
    negotiate(&mut pair, OFFERER);
    let mut lost = false;
    for i in 0..80u64 {
        let now = pair.now;
        pair.peers[OFFERER].write_frame(now, t, i * 33_333, &vp8_frame(i == 0, 2500, i as u8), None).unwrap();
        pair.peers[OFFERER].forget_send_history(); // nothing to retransmit from
        let mut k = 0;
        while let Some(tx) = pair.peers[OFFERER].poll_transmit(now) {
            let media = tx.data.get(1).is_some_and(|b| b & 0x7f == 96);
            k += usize::from(media);
            // Lose the middle packet of frame 10 only.
            if i == 10 && media && k == 2 && !lost {
                lost = true;
                continue;
            }
            pair.peers[ANSWERER].handle_datagram(now, 0, pair.addrs[OFFERER], &tx.data);
        }
        let until = pair.now + Duration::from_millis(33);
        pair.run_until(until);
    }
    let until = pair.now + Duration::from_secs(3);
    pair.run_until(until);
    pair.drain_events();
    let asked = pair.media_events[OFFERER].iter().filter(|e| **e == PeerEvent::KeyframeRequested { transceiver: t }).count();
    assert!(lost);
    assert!(asked >= 1, "the receiver asked for a key frame after the loss");
    let got = frames_received(&mut pair, ANSWERER);
    assert_eq!(got.len(), 79, "one frame could not be completed");
}

/// However many SSRCs a peer sends on however many transceivers, at most
/// `MAX_RECEIVE_STREAMS` are assembled into frames (each assembler's memory is bounded).
#[test]
fn receive_streams_are_bounded_over_all_transceivers() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(48);
    for i in 0..9 {
        let track = format!("t{i}");
        pair.peers[OFFERER].add_transceiver(video_init(Direction::SendOnly, Some(&track))).unwrap();
    }
    negotiate(&mut pair, OFFERER);
    assert_eq!(pair.peers[ANSWERER].transceivers().len(), 9);
    let now = pair.now;
    for mid in 0..9u32 {
        for k in 0..5u32 {
            let mid_text = mid.to_string();
            let mut header = crate::rtp::RtpHeader::new(96, 1, 0, 0x1000 + mid * 16 + k);
            header.extensions.push(4, mid_text.as_bytes()).unwrap();
            let mut p = Vec::new();
            // A key frame's first packet without its marker: the assembler keeps it.
            crate::rtp::RtpPacket::new(header, &[0x90, 0x80, 0x00, 0x10, 1, 2, 3]).encode(&mut p).unwrap();
            pair.peers[OFFERER].send_rtp(now, &p).unwrap();
        }
    }
    pair.deliver();
    let streams = pair.peers[ANSWERER].inbound_feedback().len();
    assert_eq!(streams, MAX_RECEIVE_STREAMS, "9 transceivers x 4 streams each would be 36");
    assert_eq!(pair.peers[ANSWERER].inbound_rtp().len(), 45, "every SSRC is still counted");
}

/// An answer that rejects our data section (an answerer without data channels) closes the
/// channels waiting for it and ends the need to negotiate; the media still connects.
#[test]
fn an_answer_rejecting_the_data_section_closes_the_waiting_channels() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(49);
    let now = pair.now;
    pair.peers[OFFERER].add_transceiver(video_init(Direction::SendOnly, Some("t"))).unwrap();
    let c = pair.peers[OFFERER].create_data_channel(now, DataChannelInit { label: "x".into(), ..DataChannelInit::default() }).unwrap().0;
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    pair.peers[OFFERER].set_local_description(now, Some(SdpType::Offer), Some(&offer)).unwrap();
    pair.peers[ANSWERER].set_remote_description(now, SdpType::Offer, &offer).unwrap();
    let answer = pair.peers[ANSWERER].create_answer().unwrap();
    pair.peers[ANSWERER].set_local_description(now, Some(SdpType::Answer), Some(&answer)).unwrap();
    // What an answerer without SCTP says: the data section rejected, out of the group.
    let start = answer.find("m=application").unwrap();
    let rejected = format!("{}m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n", &answer[..start])
        .replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0");
    pair.peers[OFFERER].set_remote_description(now, SdpType::Answer, &rejected).unwrap();
    let mut closed = false;
    while let Some(e) = pair.peers[OFFERER].poll_event() {
        closed |= e == PeerEvent::DataChannelClosed { channel: c };
        if let PeerEvent::IceCandidate(Some(cand)) = e {
            pair.candidates[OFFERER].push(cand);
        }
    }
    assert!(closed, "the channel closed");
    pair.drain_events();
    assert!(!pair.peers[OFFERER].is_negotiation_needed());
    pair.trickle(OFFERER);
    pair.trickle(ANSWERER);
    let until = pair.now + Duration::from_secs(2);
    pair.run_until(until);
    assert_eq!(pair.peers[OFFERER].dtls_state(), DtlsTransportState::Connected);
    assert!(pair.peers[OFFERER].sctp_stats().is_none(), "no SCTP for a rejected data section");
    assert!(!pair.peers[OFFERER].create_offer().unwrap().contains("m=application 9"), "not offered again");
}

// ---------------------------------------------------------------------------------------
// Simulcast send (RFC 8853, RFC 8852; W3C sendEncodings)
// ---------------------------------------------------------------------------------------

fn simulcast_init(rids: &[&str]) -> TransceiverInit {
    let mut init = video_init(crate::sdp::media::Direction::SendOnly, Some("sim-track"));
    init.send_encodings =
        rids.iter().map(|r| Encoding { rid: Some((*r).into()), active: true, ..Encoding::default() }).collect();
    init
}

/// Offer from `from` (`munge_offer` may edit it), answer from the other side (`munge_answer`
/// may edit it), candidates both ways, then run.
pub(super) fn negotiate_munged(pair: &mut Pair, from: usize, munge_offer: impl Fn(String) -> String, munge_answer: impl Fn(String) -> String) {
    let to = 1 - from;
    let now = pair.now;
    let offer = pair.peers[from].create_offer().expect("offer");
    pair.peers[from].set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD offer");
    pair.peers[to].set_remote_description(now, SdpType::Offer, &munge_offer(offer)).expect("SRD offer");
    let answer = pair.peers[to].create_answer().expect("answer");
    pair.peers[to].set_local_description(now, Some(SdpType::Answer), Some(&answer)).expect("SLD answer");
    pair.peers[from].set_remote_description(now, SdpType::Answer, &munge_answer(answer)).expect("SRD answer");
    pair.drain_events();
    pair.trickle(from);
    pair.trickle(to);
    let until = pair.now + Duration::from_secs(2);
    pair.run_until(until);
}

/// `(rid, keyframe, data)` of the frames `side` received, with the SSRC each came on.
fn layer_frames(pair: &mut Pair, side: usize) -> Vec<(Option<String>, u32, bool, Vec<u8>)> {
    pair.drain_events();
    std::mem::take(&mut pair.media_events[side])
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::MediaFrame { rid, ssrc, keyframe, data, .. } => Some((rid, ssrc, keyframe, data)),
            _ => None,
        })
        .collect()
}

/// Three send encodings become a simulcast offer (one `a=rid` each, no signaled SSRCs), the
/// answerer takes all three, each layer's frames go out on their own SSRC carrying their rid
/// and come out as that layer's frames; an inactive encoding (setParameters) sends nothing;
/// losses on a layer are repaired by RTX that names the layer in repaired-rid.
#[test]
fn simulcast_layers_are_offered_sent_and_received_per_rid() {
    let mut pair = Pair::new(60);
    let t = pair.peers[OFFERER].add_transceiver(simulcast_init(&["h", "m", "l"])).unwrap();
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    for line in ["a=rid:h send", "a=rid:m send", "a=rid:l send", "a=simulcast:send h;m;l", "a=msid:stream-a sim-track"] {
        assert!(offer.contains(line), "{line} in {offer}");
    }
    assert!(!offer.contains("a=ssrc:"), "layers are told apart by rid: {offer}");
    assert!(offer.contains("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), "{offer}");
    negotiate_munged(&mut pair, OFFERER, |o| o, |a| {
        assert!(a.contains("a=simulcast:recv h;m;l"), "{a}");
        assert!(a.contains("a=rid:h recv"), "{a}");
        a
    });
    let info = &pair.peers[OFFERER].transceivers()[0];
    let layers: Vec<(Option<&str>, bool)> = info.send_layers.iter().map(|l| (l.rid.as_deref(), l.sending)).collect();
    assert_eq!(layers, [(Some("h"), true), (Some("m"), true), (Some("l"), true)]);
    let ssrcs: std::collections::BTreeSet<u32> = info.send_layers.iter().flat_map(|l| [l.ssrc, l.rtx_ssrc.unwrap()]).collect();
    assert_eq!(ssrcs.len(), 6, "every layer has its own SSRC and RTX SSRC");

    let mut n = 0u32;
    let mut sent: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..14u64 {
        for (li, rid) in ["h", "m", "l"].into_iter().enumerate() {
            let now = pair.now;
            let f = vp8_frame(i == 0, 3000 / (li + 1), (i * 3 + li as u64) as u8);
            assert!(pair.peers[OFFERER].write_layer_frame(now, t, Some(rid), i * 33_333, &f, None).unwrap());
            sent.push((rid.into(), f));
        }
        // Lose every 4th first transmission (RTX packets, type 97, pass), once each stream
        // has begun and not in the last rounds (a loss is seen from the packets around it).
        let now = pair.now;
        while let Some(tx) = pair.peers[OFFERER].poll_transmit(now) {
            n += 1;
            if (1..12).contains(&i) && n.is_multiple_of(4) && tx.data.get(1).is_some_and(|b| b & 0x7f == 96) {
                continue;
            }
            pair.peers[ANSWERER].handle_datagram(now, 0, pair.addrs[OFFERER], &tx.data);
        }
        let until = pair.now + Duration::from_millis(33);
        pair.run_until(until);
    }
    let until = pair.now + Duration::from_secs(2);
    pair.run_until(until);
    let got = layer_frames(&mut pair, ANSWERER);
    for rid in ["h", "m", "l"] {
        // Frames by their fill byte (each unique), whole.
        let mut want: Vec<(u8, usize)> = sent.iter().filter(|(r, _)| r == rid).map(|(_, f)| (f[1], f.len())).collect();
        let mut have: Vec<(u8, usize)> =
            got.iter().filter(|(r, ..)| r.as_deref() == Some(rid)).map(|(.., d)| (d[1], d.len())).collect();
        want.sort();
        have.sort();
        assert_eq!(have, want, "layer {rid}: every frame, repaired");
        assert!(got.iter().filter(|(r, ..)| r.as_deref() == Some(rid)).all(|(.., d)| d[2..].iter().all(|b| *b == d[1])));
        let ssrcs: std::collections::BTreeSet<u32> =
            got.iter().filter(|(r, ..)| r.as_deref() == Some(rid)).map(|(_, s, ..)| *s).collect();
        assert_eq!(ssrcs.len(), 1, "layer {rid} on one SSRC");
    }
    assert!(pair.peers[OFFERER].stats().rtp_retransmitted > 0);
    // The retransmissions name their layer in repaired-rid (id 11 of our defaults), not rid.
    type RidAndRepaired = (Option<Vec<u8>>, Option<Vec<u8>>);
    let rtx: Vec<RidAndRepaired> = pair.media[ANSWERER]
        .iter()
        .filter(|(rtcp, p)| !rtcp && p.get(1).is_some_and(|b| b & 0x7f == 97))
        .filter_map(|(_, p)| {
            let r = crate::rtp::RtpPacket::parse(p).ok()?;
            Some((r.header.extensions.get(10).map(<[u8]>::to_vec), r.header.extensions.get(11).map(<[u8]>::to_vec)))
        })
        .collect();
    assert!(!rtx.is_empty());
    assert!(rtx.iter().all(|(rid, repaired)| rid.is_none() && repaired.is_some()), "{rtx:?}");
    let out = pair.peers[OFFERER].outbound_rtp();
    let rids: Vec<Option<&str>> = out.iter().map(|o| o.rid.as_deref()).collect();
    assert_eq!(rids, [Some("h"), Some("m"), Some("l")]);

    // setParameters: the middle layer inactive; the rids cannot change.
    let enc = |active_m: bool| {
        ["h", "m", "l"].map(|r| Encoding { rid: Some(r.into()), active: r != "m" || active_m, ..Encoding::default() }).to_vec()
    };
    let renamed = vec![Encoding { rid: Some("x".into()), active: true, ..Encoding::default() }; 3];
    let e = pair.peers[OFFERER].set_send_encodings(t, renamed).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidModification);
    pair.peers[OFFERER].set_send_encodings(t, enc(false)).unwrap();
    let now = pair.now;
    assert!(!pair.peers[OFFERER].write_layer_frame(now, t, Some("m"), 500_000, &vp8_frame(true, 100, 1), None).unwrap());
    assert!(pair.peers[OFFERER].write_layer_frame(now, t, Some("l"), 500_000, &vp8_frame(true, 100, 2), None).unwrap());
    assert!(pair.peers[OFFERER].write_layer_frame(now, t, Some("zz"), 500_000, &vp8_frame(true, 100, 2), None).is_err());
    assert!(!pair.peers[OFFERER].transceivers()[0].send_layers[1].sending);
    pair.deliver();
    let got = layer_frames(&mut pair, ANSWERER);
    assert_eq!(got.iter().map(|(r, ..)| r.as_deref()).collect::<Vec<_>>(), [Some("l")]);
}

/// An answer without `a=simulcast` refuses simulcast: the first encoding alone is kept and
/// sent without a rid; an answer taking a subset (one paused) drops the others.
#[test]
fn simulcast_answers_that_refuse_or_narrow_the_layers() {
    let strip = |a: String| {
        a.split("\r\n").filter(|l| !l.starts_with("a=simulcast") && !l.starts_with("a=rid")).collect::<Vec<_>>().join("\r\n")
    };
    let mut pair = Pair::new(61);
    let t = pair.peers[OFFERER].add_transceiver(simulcast_init(&["h", "l"])).unwrap();
    negotiate_munged(&mut pair, OFFERER, |o| o, strip);
    let info = &pair.peers[OFFERER].transceivers()[0];
    assert_eq!(info.send_layers.len(), 1);
    assert_eq!(info.encodings.len(), 1);
    let now = pair.now;
    assert!(pair.peers[OFFERER].write_frame(now, t, 0, &vp8_frame(true, 900, 7), None).unwrap());
    assert!(pair.peers[OFFERER].write_layer_frame(now, t, Some("l"), 0, &vp8_frame(true, 900, 7), None).is_err());
    pair.deliver();
    let got = layer_frames(&mut pair, ANSWERER);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, None, "no rid without simulcast");
    assert!(pair.media[ANSWERER].iter().filter(|(rtcp, _)| !rtcp).all(|(_, p)| {
        crate::rtp::RtpPacket::parse(p).is_ok_and(|r| r.header.extensions.get(10).is_none())
    }));
    // Re-offers after that are plain (one encoding).
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    assert!(!offer.contains("a=simulcast"), "{offer}");

    let mut pair = Pair::new(62);
    let t = pair.peers[OFFERER].add_transceiver(simulcast_init(&["h", "m", "l"])).unwrap();
    let narrow = |a: String| a.replace("a=simulcast:recv h;m;l", "a=simulcast:recv h;~l");
    negotiate_munged(&mut pair, OFFERER, |o| o, narrow);
    let info = &pair.peers[OFFERER].transceivers()[0];
    let layers: Vec<(Option<&str>, bool)> = info.send_layers.iter().map(|l| (l.rid.as_deref(), l.sending)).collect();
    assert_eq!(layers, [(Some("h"), true), (Some("l"), false)], "m dropped, l paused");
    let now = pair.now;
    assert!(pair.peers[OFFERER].write_layer_frame(now, t, Some("h"), 0, &vp8_frame(true, 900, 7), None).unwrap());
    assert!(!pair.peers[OFFERER].write_layer_frame(now, t, Some("l"), 0, &vp8_frame(true, 900, 7), None).unwrap());
    assert!(pair.peers[OFFERER].write_layer_frame(now, t, Some("m"), 0, &vp8_frame(true, 900, 7), None).is_err());
}

/// A remote offer asking to receive simulcast (`a=simulcast:recv`) gives our sender those
/// layers (W3C setRemoteDescription): the answer sends them, each with its rid.
#[test]
fn a_remote_offer_asking_for_simulcast_gets_our_layers() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(63);
    pair.peers[OFFERER].add_transceiver(video_init(Direction::RecvOnly, None)).unwrap();
    let t = pair.peers[ANSWERER].add_transceiver(video_init(Direction::SendRecv, Some("cam"))).unwrap();
    let ask = |o: String| o.replace("a=rtcp-mux\r\n", "a=rtcp-mux\r\na=rid:f recv\r\na=rid:q recv\r\na=simulcast:recv f;q\r\n");
    negotiate_munged(&mut pair, OFFERER, ask, |a| {
        assert!(a.contains("a=simulcast:send f;q"), "{a}");
        assert!(a.contains("a=rid:f send") && a.contains("a=rid:q send"), "{a}");
        a
    });
    let info = pair.peers[ANSWERER].transceivers().into_iter().find(|i| i.id == t).unwrap();
    let rids: Vec<Option<&str>> = info.send_layers.iter().map(|l| l.rid.as_deref()).collect();
    assert_eq!(rids, [Some("f"), Some("q")]);
    assert_eq!(info.encodings.iter().map(|e| e.rid.as_deref()).collect::<Vec<_>>(), [Some("f"), Some("q")]);
    let now = pair.now;
    for rid in ["f", "q"] {
        assert!(pair.peers[ANSWERER].write_layer_frame(now, t, Some(rid), 0, &vp8_frame(true, 700, 3), None).unwrap());
    }
    pair.deliver();
    let got = layer_frames(&mut pair, OFFERER);
    let mut rids: Vec<Option<String>> = got.into_iter().map(|(r, ..)| r).collect();
    rids.sort();
    assert_eq!(rids, [Some("f".into()), Some("q".into())]);
}

/// The layers a remote offer's `a=simulcast:recv` gave our sender are taken back when that
/// offer is rolled back (webrtc-pc), and our next offer is plain.
#[test]
fn rolling_back_a_simulcast_asking_offer_takes_its_layers_back() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(64);
    pair.peers[OFFERER].add_transceiver(video_init(Direction::RecvOnly, None)).unwrap();
    let t = pair.peers[ANSWERER].add_transceiver(video_init(Direction::SendRecv, Some("cam"))).unwrap();
    let now = pair.now;
    let offer = pair.peers[OFFERER].create_offer().unwrap();
    let offer = offer.replace("a=rtcp-mux\r\n", "a=rtcp-mux\r\na=rid:f recv\r\na=rid:q recv\r\na=simulcast:recv f;q\r\n");
    pair.peers[ANSWERER].set_remote_description(now, SdpType::Offer, &offer).unwrap();
    let layers = |p: &Peer| p.transceivers().into_iter().find(|i| i.id == t).unwrap().send_layers.len();
    assert_eq!(layers(&pair.peers[ANSWERER]), 2);
    pair.peers[ANSWERER].set_remote_description(now, SdpType::Rollback, "").unwrap();
    assert_eq!(layers(&pair.peers[ANSWERER]), 1);
    let info = pair.peers[ANSWERER].transceivers().into_iter().find(|i| i.id == t).unwrap();
    assert!(info.send_layers[0].rid.is_none());
    assert!(info.encodings.iter().all(|e| e.rid.is_none()));
    let ours = pair.peers[ANSWERER].create_offer().unwrap();
    assert!(!ours.contains("a=simulcast"), "{ours}");
}

/// Every authenticated RTP packet with a transport-wide sequence number is recorded for
/// transport-cc feedback, including the ones the receive path then drops: a sender's
/// bandwidth probes are padding-only RTX packets on an SSRC not seen before, and a packet
/// of a payload type no section has still used a sequence number of the transport. Left
/// out of the feedback, the sender would take them for lost and cut its bitrate.
#[test]
fn padding_probes_and_unrouted_packets_are_in_transport_cc_feedback() {
    use crate::sdp::media::Direction;
    let mut pair = Pair::new(49);
    pair.peers[OFFERER].add_transceiver(video_init(Direction::SendOnly, Some("t"))).unwrap();
    negotiate(&mut pair, OFFERER);
    let now = pair.now;
    let before = pair.peers[ANSWERER].twcc_stats().map_or(0, |s| s.recorded);
    let with_twcc = |pt: u8, seq: u16, ssrc: u32, twcc: u16, padding: bool| {
        let mut header = crate::rtp::RtpHeader::new(pt, seq, 0, ssrc);
        let twcc = twcc.to_be_bytes();
        header.extensions.push(3, &twcc).unwrap();
        let mut packet = crate::rtp::RtpPacket::new(header, if padding { &[] } else { &[1, 2, 3] });
        packet.padding = if padding { 8 } else { 0 };
        let mut p = Vec::new();
        packet.encode(&mut p).unwrap();
        p
    };
    // Five padding-only probes on an RTX SSRC never announced (payload type 97, VP8's RTX).
    for i in 0..5u16 {
        pair.peers[OFFERER].send_rtp(now, &with_twcc(97, 100 + i, 0x5eed, 40_000 + i, true)).unwrap();
    }
    // One of a payload type nobody negotiated, on an unknown SSRC: dropped, still recorded.
    pair.peers[OFFERER].send_rtp(now, &with_twcc(120, 1, 0x7777, 40_005, false)).unwrap();
    pair.deliver();
    assert_eq!(pair.peers[ANSWERER].stats().media_dropped_unrouted, 1);
    let stats = pair.peers[ANSWERER].twcc_stats().expect("transport-cc recorded");
    assert_eq!(stats.recorded - before, 6, "{stats:?}");
    // The feedback goes out in the next interval.
    pair.run_until(now + crate::media::TWCC_FEEDBACK_INTERVAL * 3);
    assert!(pair.peers[ANSWERER].twcc_stats().unwrap().feedback_sent > 0);
}

/// ICE servers whose host names the host is resolving: gathering waits for them; one that
/// resolves late is used at once (a STUN server gets its binding request then), one whose
/// name fails is an icecandidateerror 701 once gathering runs, one never answered times out
/// (701) and its late answer is no longer wanted.
#[test]
fn ice_servers_resolved_late_are_used_failed_or_timed_out() {
    use super::{IceServerKind, ICE_SERVER_RESOLVE_TIMEOUT};
    let now = Time::ZERO;
    let mut p = Peer::new(PeerConfig::default(), Rng::seeded(78)).expect("Peer::new");
    p.add_local_transport(0, "192.0.2.1:5000".parse().unwrap());
    let a = p.expect_ice_server(now, IceServerKind::Stun, "stun:a.example:3478").unwrap();
    let b = p.expect_ice_server(now, IceServerKind::Turn, "turn:b.example:3478").unwrap();
    let c = p.expect_ice_server(now, IceServerKind::Stun, "stun:c.example:3478").unwrap();
    p.ice_server_failed(now, b, "no such name");
    let errors = |p: &mut Peer| {
        let mut v = Vec::new();
        while let Some(e) = p.poll_event() {
            if let PeerEvent::IceCandidateError { url, error_code, error_text } = e {
                v.push((url, error_code, error_text));
            }
        }
        v
    };
    assert!(errors(&mut p).is_empty(), "nothing is reported before gathering");
    p.create_data_channel(now, DataChannelInit { label: "c".into(), ..DataChannelInit::default() }).expect("channel");
    let offer = p.create_offer().expect("offer");
    p.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD");
    let e = errors(&mut p);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0.as_str(), e[0].1, e[0].2.as_str()), ("turn:b.example:3478", 701, "no such name"));
    while p.poll_transmit(now).is_some() {}
    assert_eq!(p.ice_gathering_state(), IceGatheringState::Gathering);

    let t1 = now + Duration::from_millis(100);
    let stun: SocketAddr = "198.51.100.1:3478".parse().unwrap();
    assert!(p.ice_server_pending(a));
    p.add_stun_server(t1, stun);
    p.ice_server_settled(t1, a);
    assert!(!p.ice_server_pending(a));
    let mut to_stun = 0;
    while let Some(t) = p.poll_transmit(t1) {
        if t.destination == stun && t.transport == 0 {
            to_stun += 1;
        }
    }
    assert_eq!(to_stun, 1, "the late STUN server gets a binding request from the host socket");

    // c is never answered: it times out by itself.
    assert!(p.poll_timeout().is_some_and(|d| d <= now + ICE_SERVER_RESOLVE_TIMEOUT));
    let mut t = t1;
    while t < now + ICE_SERVER_RESOLVE_TIMEOUT {
        t = p.poll_timeout().unwrap_or(t).max(t).min(now + ICE_SERVER_RESOLVE_TIMEOUT);
        p.handle_timeout(t);
        while p.poll_transmit(t).is_some() {}
    }
    let e = errors(&mut p);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0.as_str(), e[0].1), ("stun:c.example:3478", 701));
    assert!(e[0].2.contains("timed out"), "{}", e[0].2);
    assert!(!p.ice_server_pending(c), "a late answer is dropped");
    p.ice_server_settled(t, c);
    assert!(errors(&mut p).is_empty());
}

/// One server as both STUN and TURN server over UDP (`stun:` and `turn:` at one address, as
/// is common): the answer to ICE's Binding request arrives on the relay's server path, and
/// still reaches ICE (a server-reflexive candidate), not the TURN client.
#[test]
fn a_stun_answer_from_the_turn_server_reaches_ice() {
    use crate::turn::{TurnConfig, TurnTransport};
    let now = Time::ZERO;
    let server: SocketAddr = "198.51.100.1:3478".parse().unwrap();
    let config = PeerConfig { stun_servers: vec![server], ..PeerConfig::default() };
    let mut p = Peer::new(config, Rng::seeded(79)).expect("Peer::new");
    p.add_local_transport(0, "192.0.2.1:5000".parse().unwrap());
    p.add_relay(now, 9, 0, server, "turn:198.51.100.1:3478", TurnConfig::new(TurnTransport::Udp, "u", "p")).expect("relay");
    p.create_data_channel(now, DataChannelInit { label: "c".into(), ..DataChannelInit::default() }).expect("channel");
    let offer = p.create_offer().expect("offer");
    p.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD");
    let mut binding = None;
    while let Some(t) = p.poll_transmit(now) {
        if t.destination == server && t.data.get(..2) == Some(&[0x00, 0x01][..]) {
            binding = Some(t.data.clone());
        }
    }
    let binding = binding.expect("a Binding request to the STUN server");
    let id: [u8; 12] = binding[8..20].try_into().unwrap();
    let mapped: SocketAddr = "203.0.113.9:40000".parse().unwrap();
    p.handle_datagram(now, 0, server, &crate::stun::binding_success(id, mapped, None));
    let mut srflx = false;
    while let Some(e) = p.poll_event() {
        if let PeerEvent::IceCandidate(Some(c)) = e {
            srflx |= c.candidate.contains("typ srflx") && c.candidate.contains("203.0.113.9 40000");
        }
    }
    assert!(srflx, "a server-reflexive candidate from the shared server");
}

/// A candidate line with its address replaced by `name` (how a browser hides host addresses).
fn hide_behind(c: &IceCandidateInit, name: &str) -> IceCandidateInit {
    let mut tokens: Vec<&str> = c.candidate.split(' ').collect();
    tokens[4] = name;
    IceCandidateInit { candidate: tokens.join(" "), ..c.clone() }
}

/// Both sides hide their host candidate behind a `.local` name: nothing connects until the
/// host resolves the names; once it does, the candidates join ICE and the peers connect over
/// the resolved addresses. What is not resolved in time, or resolves to nothing usable, is
/// dropped and counted.
#[test]
fn mdns_candidates_connect_once_their_names_resolve() {
    let mut pair = Pair::new(31);
    negotiate_data(&mut pair);
    let now = pair.now;
    let names = ["0f6a2e3c-offerer.local", "8d1b77e0-Answerer.local."];
    for from in [OFFERER, ANSWERER] {
        let cands = std::mem::take(&mut pair.candidates[from]);
        assert_eq!(cands.len(), 1, "one host candidate");
        let hidden = hide_behind(&cands[0], names[from]);
        pair.peers[1 - from].add_ice_candidate(now, Some(hidden.clone())).expect("a .local candidate is accepted");
        // Twice (a duplicate signal): still one query for the name.
        pair.peers[1 - from].add_ice_candidate(now, Some(hidden)).expect("again");
    }
    // Names come back normalised (lower case, no trailing dot), each once.
    assert_eq!(pair.peers[OFFERER].poll_mdns_query().as_deref(), Some("8d1b77e0-answerer.local"));
    assert_eq!(pair.peers[OFFERER].poll_mdns_query(), None);
    assert_eq!(pair.peers[ANSWERER].poll_mdns_query().as_deref(), Some("0f6a2e3c-offerer.local"));
    let remote = pair.peers[OFFERER].current_remote_description().expect("remote").sdp;
    assert!(remote.contains("8d1b77e0-Answerer.local."), "the .local line is in the remote description");
    pair.run_until(Time::ZERO + Duration::from_millis(500));
    assert!(pair.connected_at.iter().all(Option::is_none), "nothing to check before the names resolve");

    // A multicast or unspecified answer is no address: the answerer's name stays unusable.
    let bogus: [std::net::IpAddr; 2] = ["224.0.0.251".parse().unwrap(), "0.0.0.0".parse().unwrap()];
    pair.peers[OFFERER].mdns_resolved(pair.now, "8D1B77E0-answerer.local", &bogus);
    assert_eq!(pair.peers[OFFERER].stats().mdns_candidates_unresolved, 2);
    // The offerer's name resolves (an IPv6 address the pair cannot reach rides along).
    let (addr0, addr1) = (pair.addrs[OFFERER].ip(), pair.addrs[ANSWERER].ip());
    let now = pair.now;
    pair.peers[ANSWERER].mdns_resolved(now, "0f6a2e3c-offerer.local", &["fe80::1".parse().unwrap(), addr0]);
    assert_eq!(pair.peers[ANSWERER].stats().mdns_candidates_resolved, 2);
    // A second answer for the same name finds nothing waiting.
    pair.peers[ANSWERER].mdns_resolved(now, "0f6a2e3c-offerer.local", &[addr1]);
    assert_eq!(pair.peers[ANSWERER].stats().mdns_candidates_resolved, 2);
    pair.run_until(Time::ZERO + Duration::from_secs(3));
    // The answerer's checks reached the offerer, which learned the answerer's address as a
    // peer-reflexive candidate: both connect although one name never resolved.
    assert!(pair.connected_at.iter().all(Option::is_some), "connected over the resolved address");
    let (_, remote) = pair.peers[ANSWERER].selected_candidate_pair().expect("pair");
    let want = format!(" {} {} typ host", pair.addrs[OFFERER].ip(), pair.addrs[OFFERER].port());
    assert!(remote.contains(&want), "the answerer's pair goes to the address the name resolved to: {remote}");
}

/// A `.local` candidate whose name is never answered times out; one whose host failed is
/// dropped at once; both are counted, and neither keeps a timer armed.
#[test]
fn mdns_candidates_not_resolved_are_dropped_and_counted() {
    let mut pair = Pair::new(32);
    let now = pair.now;
    let a = &mut pair.peers[OFFERER];
    a.create_data_channel(now, DataChannelInit { label: "c".into(), ..DataChannelInit::default() }).expect("channel");
    let offer = a.create_offer().expect("offer");
    a.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD offer");
    let b = &mut pair.peers[ANSWERER];
    b.set_remote_description(now, SdpType::Offer, &offer).expect("SRD offer");
    let line = |name: &str, port: u16| IceCandidateInit {
        candidate: format!("candidate:1 1 udp 2122260223 {name} {port} typ host"),
        sdp_mid: Some("0".into()),
        ..IceCandidateInit::default()
    };
    b.add_ice_candidate(now, Some(line("never.local", 1000))).expect("accepted");
    b.add_ice_candidate(now, Some(line("fails.local", 1001))).expect("accepted");
    assert_eq!(b.poll_mdns_query().as_deref(), Some("never.local"));
    assert_eq!(b.poll_mdns_query().as_deref(), Some("fails.local"));
    b.mdns_failed(now, "fails.local");
    assert_eq!(b.stats().mdns_candidates_unresolved, 1);
    assert!(b.poll_timeout().is_some_and(|t| t <= now + MDNS_RESOLVE_TIMEOUT));
    b.handle_timeout(now + MDNS_RESOLVE_TIMEOUT);
    assert_eq!(b.stats().mdns_candidates_unresolved, 2);
    // Too late: the answer finds nothing.
    b.mdns_resolved(now + MDNS_RESOLVE_TIMEOUT, "never.local", &["192.0.2.9".parse().unwrap()]);
    assert_eq!(b.stats().mdns_candidates_resolved, 0);
    // A bounded number wait; the rest are counted at once.
    for i in 0..MAX_PENDING_MDNS_CANDIDATES + 3 {
        b.add_ice_candidate(now, Some(line(&format!("n{i}.local"), 2000))).expect("accepted");
    }
    assert_eq!(b.stats().mdns_candidates_unresolved, 5);
    // Closing drops what still waits.
    b.close(now);
    assert_eq!(b.stats().mdns_candidates_unresolved, 5 + MAX_PENDING_MDNS_CANDIDATES as u64);
    assert_eq!(b.poll_mdns_query(), None);
}

/// With `mdns_host_candidates`, a peer signals its host candidate under a random `.local`
/// name (the same one again after an ICE restart) and gives the host that name to answer
/// for; a peer that resolves it connects.
#[test]
fn host_candidates_hidden_behind_mdns_names_connect_once_resolved() {
    let mut pair = Pair::with_config(33, |i| PeerConfig { mdns_host_candidates: i == OFFERER, ..PeerConfig::default() });
    let now = pair.now;
    let a = &mut pair.peers[OFFERER];
    a.create_data_channel(now, DataChannelInit { label: "c".into(), ..DataChannelInit::default() }).expect("channel");
    let offer = a.create_offer().expect("offer");
    a.set_local_description(now, Some(SdpType::Offer), Some(&offer)).expect("SLD offer");
    let (name, ip) = pair.peers[OFFERER].poll_mdns_name().expect("a name for the host address");
    assert_eq!(ip, pair.addrs[OFFERER].ip());
    assert!(crate::mdns::is_local_name(&name) && name.len() == 36 + 6, "a UUID name: {name}");
    assert_eq!(pair.peers[OFFERER].poll_mdns_name(), None, "each name once");
    assert_eq!(pair.peers[ANSWERER].poll_mdns_name(), None, "off by default");
    pair.drain_events();
    let cands = std::mem::take(&mut pair.candidates[OFFERER]);
    assert_eq!(cands.len(), 1);
    assert!(cands[0].candidate.contains(&format!(" {name} ")), "signaled under its name: {}", cands[0].candidate);
    assert!(!cands[0].candidate.contains(&ip.to_string()), "the address is not signaled");
    let local = pair.peers[OFFERER].pending_local_description().expect("local").sdp;
    assert!(local.contains(&name) && !local.contains(&format!(" {ip} ")), "the local description hides it too");

    pair.peers[ANSWERER].set_remote_description(now, SdpType::Offer, &offer).expect("SRD offer");
    let answer = pair.peers[ANSWERER].create_answer().expect("answer");
    pair.peers[ANSWERER].set_local_description(now, Some(SdpType::Answer), Some(&answer)).expect("SLD answer");
    pair.peers[OFFERER].set_remote_description(now, SdpType::Answer, &answer).expect("SRD answer");
    pair.drain_events();
    pair.candidates[ANSWERER].clear(); // the offerer must be reached first: no checks from it yet
    for c in cands {
        pair.peers[ANSWERER].add_ice_candidate(now, Some(c)).expect("a .local candidate");
    }
    assert_eq!(pair.peers[ANSWERER].poll_mdns_query().as_deref(), Some(name.as_str()));
    pair.peers[ANSWERER].mdns_resolved(now, &name, &[ip]);
    pair.run_until(Time::ZERO + Duration::from_secs(3));
    assert!(pair.connected_at.iter().all(Option::is_some), "connected through the resolved name");

    // An ICE restart gathers again under the same name: nothing new to announce.
    let a = &mut pair.peers[OFFERER];
    a.restart_ice();
    let offer = a.create_offer().expect("restart offer");
    a.set_local_description(pair.now, Some(SdpType::Offer), Some(&offer)).expect("SLD restart");
    pair.drain_events();
    assert_eq!(pair.peers[OFFERER].poll_mdns_name(), None);
    assert!(pair.candidates[OFFERER].iter().all(|c| c.candidate.contains(&name)), "{:?}", pair.candidates[OFFERER]);
}

/// Offer/answer and trickle between the pair's peers, then time until `until`; `drop` sees
/// every datagram (sender, bytes).
fn negotiate_and_run(pair: &mut Pair, until: Time, drop: &mut dyn FnMut(usize, &[u8]) -> bool) {
    negotiate_data(pair);
    pair.trickle(OFFERER);
    pair.trickle(ANSWERER);
    pair.run_until_with(until, drop);
}

fn is_binding_request(d: &[u8]) -> bool {
    crate::stun::is_stun(d) && d[0..2] == [0, 1]
}

/// An ICE-lite peer (RFC 8445 §2.5), as answerer and as offerer: it signals `a=ice-lite`,
/// sends no check of its own, and connects through the full peer's checks; once those stop
/// it goes `disconnected`, then `failed`.
#[test]
fn an_ice_lite_peer_connects_without_checks_and_loses_the_path_when_checks_stop() {
    for lite in [ANSWERER, OFFERER] {
        let mut pair = Pair::with_config(40 + lite as u64, |i| PeerConfig { ice_lite: i == lite, ..PeerConfig::default() });
        let mut lite_requests = 0;
        let mut full_requests = 0;
        negotiate_and_run(&mut pair, Time::ZERO + Duration::from_secs(3), &mut |from, d| {
            if is_binding_request(d) {
                if from == lite { lite_requests += 1 } else { full_requests += 1 }
            }
            false
        });
        let sdp = pair.peers[lite].current_local_description().expect("local description").sdp;
        assert!(sdp.contains("a=ice-lite\r\n"), "{sdp}");
        assert!(pair.connected_at.iter().all(Option::is_some), "connected (lite = {lite})");
        assert_eq!(lite_requests, 0, "the lite peer sends no checks");
        assert!(full_requests > 0);
        // The full peer's consent checks keep the lite one connected...
        pair.run_until(Time::ZERO + Duration::from_secs(40));
        assert_eq!(pair.peers[lite].ice_connection_state(), IceConnectionState::Connected);
        // ...and once nothing arrives any more, it notices.
        let t = pair.now;
        pair.run_until_with(t + super::connection::LITE_DISCONNECTED_TIMEOUT + Duration::from_secs(1), &mut |_, _| true);
        assert_eq!(pair.peers[lite].ice_connection_state(), IceConnectionState::Disconnected);
        pair.run_until_with(t + Duration::from_secs(31), &mut |_, _| true);
        assert_eq!(pair.peers[lite].ice_connection_state(), IceConnectionState::Failed);
    }
}
