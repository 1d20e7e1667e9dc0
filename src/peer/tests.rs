//! Two `Peer`s driven by hand: instant delivery between two addresses and a virtual clock
//! that jumps to the earliest deadline. Scenarios about timing of the pieces together.

use core::time::Duration;
use std::net::SocketAddr;

use super::*;
use crate::crypto::Rng;
use crate::time::Time;

const OFFERER: usize = 0;
const ANSWERER: usize = 1;

struct Pair {
    peers: [Peer; 2],
    addrs: [SocketAddr; 2],
    now: Time,
    connected_at: [Option<Time>; 2],
    /// Candidates each side gathered, not yet given to the other one.
    candidates: [Vec<IceCandidateInit>; 2],
    /// RTP and RTCP packets each side received (`(rtcp, packet)`).
    media: [Vec<(bool, Vec<u8>)>; 2],
}

impl Pair {
    fn new(seed: u64) -> Pair {
        let addrs: [SocketAddr; 2] = ["192.0.2.1:5000".parse().unwrap(), "192.0.2.2:6000".parse().unwrap()];
        let mk = |i: usize| {
            let mut p = Peer::new(PeerConfig::default(), Rng::seeded(seed * 2 + i as u64)).expect("Peer::new");
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
        }
    }

    fn drain_events(&mut self) {
        for i in 0..2 {
            while let Some(e) = self.peers[i].poll_event() {
                match e {
                    PeerEvent::ConnectionStateChanged(PeerConnectionState::Connected) => {
                        self.connected_at[i].get_or_insert(self.now);
                    }
                    PeerEvent::IceCandidate(Some(c)) => self.candidates[i].push(c),
                    PeerEvent::RtpReceived(p) => self.media[i].push((false, p)),
                    PeerEvent::RtcpReceived(p) => self.media[i].push((true, p)),
                    _ => {}
                }
            }
        }
    }

    /// Delivers datagrams until none is left (bounded).
    fn deliver(&mut self) {
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
                if let Some(to) = self.addrs.iter().position(|a| *a == t.destination) {
                    self.peers[to].handle_datagram(self.now, 0, self.addrs[from], &t.data);
                }
            }
        }
        panic!("datagrams kept flowing: livelock");
    }

    /// Runs the network and the timers until `until` (virtual time).
    fn run_until(&mut self, until: Time) {
        loop {
            self.deliver();
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
