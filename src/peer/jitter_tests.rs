//! The receive side's jitter buffer between two peers on a simulated path that delays, loses
//! and reorders RTP: frames come out as `MediaFrame` events in sequence order, repaired by
//! NACK and RTX when they can be, and released within the wait's bound when they cannot.

use core::time::Duration;
use std::net::SocketAddr;

use super::*;
use crate::crypto::Rng;
use crate::media::MAX_VIDEO_WAIT;
use crate::sdp::media::{Direction, MediaKind};
use crate::time::Time;

const SENDER: usize = 0;
const RECEIVER: usize = 1;
/// One-way delay of every datagram.
const DELAY: Duration = Duration::from_millis(10);
/// Extra delay of the datagrams the path holds back: more than a frame interval, so a held
/// packet's frame completes after the next one.
const HOLD: Duration = Duration::from_millis(45);
const FRAME_INTERVAL_US: u64 = 33_333;
const VP8: u8 = 96;

/// What the path does to one datagram from the sender: `None` drops it, else its delay.
type Policy = Box<dyn FnMut(&[u8]) -> Option<Duration>>;

struct Net {
    peers: [Peer; 2],
    addrs: [SocketAddr; 2],
    now: Time,
    /// Datagrams on the way: delivery time, destination, data.
    wire: Vec<(Time, usize, Vec<u8>)>,
    candidates: [Vec<IceCandidateInit>; 2],
    /// `MediaFrame`s the receiver got, with the time they came out.
    frames: Vec<(Time, PeerEvent)>,
    keyframe_requests: usize,
    connected: [bool; 2],
    policy: Policy,
}

impl Net {
    fn new(seed: u64) -> Net {
        let addrs: [SocketAddr; 2] = [
            "192.0.2.1:5000".parse().unwrap(),
            "192.0.2.2:6000".parse().unwrap(),
        ];
        let mk = |i: usize| {
            let mut p = Peer::new(PeerConfig::default(), Rng::seeded(seed * 2 + i as u64))
                .expect("Peer::new");
            p.add_local_transport(0, addrs[i]);
            p
        };
        Net {
            peers: [mk(0), mk(1)],
            addrs,
            now: Time::ZERO,
            wire: Vec::new(),
            candidates: [vec![], vec![]],
            frames: Vec::new(),
            keyframe_requests: 0,
            connected: [false; 2],
            policy: Box::new(|_| Some(DELAY)),
        }
    }

    /// Events out, transmits onto the wire.
    fn collect(&mut self) {
        for i in 0..2 {
            while let Some(e) = self.peers[i].poll_event() {
                match e {
                    PeerEvent::ConnectionStateChanged(PeerConnectionState::Connected) => {
                        self.connected[i] = true
                    }
                    PeerEvent::IceCandidate(Some(c)) => self.candidates[i].push(c),
                    e @ PeerEvent::MediaFrame { .. } if i == RECEIVER => {
                        self.frames.push((self.now, e))
                    }
                    PeerEvent::KeyframeRequested { .. } if i == SENDER => {
                        self.keyframe_requests += 1
                    }
                    _ => {}
                }
            }
            while let Some(t) = self.peers[i].poll_transmit(self.now) {
                let Some(to) = self.addrs.iter().position(|a| *a == t.destination) else {
                    continue;
                };
                let delay = if i == SENDER {
                    (self.policy)(&t.data)
                } else {
                    Some(DELAY)
                };
                if let Some(d) = delay {
                    self.wire.push((self.now + d, to, t.data));
                }
            }
        }
    }

    /// Runs the path and the timers until `until` (virtual time), jumping to each next event.
    fn run_until(&mut self, until: Time) {
        for _ in 0..1_000_000 {
            self.collect();
            let arrival = self.wire.iter().map(|w| w.0).min();
            let timer = self.peers.iter().filter_map(|p| p.poll_timeout()).min();
            let next = [arrival, timer].into_iter().flatten().min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.wire)
                        .into_iter()
                        .partition(|w| w.0 <= now);
                    self.wire = rest;
                    for (_, to, data) in due {
                        let from = self.addrs[1 - to];
                        self.peers[to].handle_datagram(now, 0, from, &data);
                    }
                    for p in &mut self.peers {
                        if p.poll_timeout().is_some_and(|t| t <= now) {
                            p.handle_timeout(now);
                        }
                    }
                }
                _ => {
                    self.now = until;
                    return;
                }
            }
        }
        panic!("the simulation never went idle");
    }

    /// A video transceiver sending from `SENDER`, negotiated and connected (clean path).
    fn connected(seed: u64) -> (Net, TransceiverId) {
        let mut net = Net::new(seed);
        let init = TransceiverInit {
            kind: MediaKind::Video,
            direction: Direction::SendOnly,
            stream_ids: vec!["s".into()],
            track_id: Some("t".into()),
            from_add_track: true,
            send_encodings: Vec::new(),
        };
        let t = net.peers[SENDER].add_transceiver(init).unwrap();
        let now = net.now;
        let offer = net.peers[SENDER].create_offer().unwrap();
        net.peers[SENDER]
            .set_local_description(now, Some(SdpType::Offer), Some(&offer))
            .unwrap();
        net.peers[RECEIVER]
            .set_remote_description(now, SdpType::Offer, &offer)
            .unwrap();
        let answer = net.peers[RECEIVER].create_answer().unwrap();
        net.peers[RECEIVER]
            .set_local_description(now, Some(SdpType::Answer), Some(&answer))
            .unwrap();
        net.peers[SENDER]
            .set_remote_description(now, SdpType::Answer, &answer)
            .unwrap();
        net.collect();
        for from in [SENDER, RECEIVER] {
            for c in std::mem::take(&mut net.candidates[from]) {
                net.peers[1 - from].add_ice_candidate(now, Some(c)).unwrap();
            }
        }
        net.run_until(now + Duration::from_secs(2));
        assert!(net.connected.iter().all(|c| *c), "connected");
        (net, t)
    }

    /// The receiver's frames: (time out, RTP timestamp, data).
    fn received(&self) -> Vec<(Time, u32, Vec<u8>)> {
        self.frames
            .iter()
            .filter_map(|(at, e)| match e {
                PeerEvent::MediaFrame {
                    rtp_timestamp,
                    data,
                    ..
                } => Some((*at, *rtp_timestamp, data.clone())),
                _ => None,
            })
            .collect()
    }
}

/// A VP8 frame of `len` bytes tagged with its index (RFC 6386 §9.1: the first byte's low bit
/// clear marks a key frame).
fn vp8_frame(i: u64, len: usize) -> Vec<u8> {
    let mut f = vec![i as u8; len];
    f[0] = if i == 0 { 0x10 } else { 0x11 };
    f[1] = (i >> 8) as u8;
    f
}

/// RTP with payload type `pt` (the header is in the clear under SRTP).
fn is_rtp(data: &[u8], pt: u8) -> bool {
    matches!(data.first(), Some(128..=191)) && data.get(1).is_some_and(|b| b & 0x7f == pt)
}

/// Every 7th first transmission is lost, every 5th held back past the next frame; RTX
/// packets and everything else go through with the plain delay.
fn lossy_reordering_path() -> Policy {
    let mut n = 0u32;
    Box::new(move |data| {
        if !is_rtp(data, VP8) {
            return Some(DELAY);
        }
        n += 1;
        if n.is_multiple_of(7) {
            None
        } else if n.is_multiple_of(5) {
            Some(DELAY + HOLD)
        } else {
            Some(DELAY)
        }
    })
}

/// Whether `b` comes after `a` in RTP timestamp order.
fn ts_after(a: u32, b: u32) -> bool {
    b != a && b.wrapping_sub(a) < 0x8000_0000
}

#[test]
fn frames_come_out_in_order_every_one_repaired_over_loss_and_reordering() {
    let (mut net, t) = Net::connected(61);
    net.policy = lossy_reordering_path();
    let mut sent = Vec::new();
    for i in 0..60u64 {
        let now = net.now;
        let f = vp8_frame(i, 2500);
        assert!(net.peers[SENDER]
            .write_frame(now, t, i * FRAME_INTERVAL_US, &f, None)
            .unwrap());
        sent.push(f);
        net.run_until(now + Duration::from_micros(FRAME_INTERVAL_US));
    }
    // The last losses are seen from the packets after them; then everything settles.
    net.policy = Box::new(|_| Some(DELAY));
    for i in 60..63u64 {
        let now = net.now;
        let f = vp8_frame(i, 2500);
        net.peers[SENDER]
            .write_frame(now, t, i * FRAME_INTERVAL_US, &f, None)
            .unwrap();
        sent.push(f);
        net.run_until(now + Duration::from_micros(FRAME_INTERVAL_US));
    }
    let until = net.now + Duration::from_secs(2);
    net.run_until(until);

    let got = net.received();
    let datas: Vec<Vec<u8>> = got.iter().map(|g| g.2.clone()).collect();
    assert_eq!(datas.len(), sent.len(), "every frame repaired");
    assert!(datas == sent, "frames out in the order sent");
    assert!(
        got.windows(2).all(|w| ts_after(w[0].1, w[1].1)),
        "RTP timestamps increase"
    );
    assert!(
        net.peers[SENDER].stats().rtp_retransmitted > 0,
        "repairs went over RTX"
    );
    let stats = net.peers[RECEIVER].jitter_stats();
    assert_eq!(stats.len(), 1);
    let s = stats[0];
    assert!(
        s.frames_waited > 0,
        "frames completed out of order and were held: {s:?}"
    );
    assert_eq!((s.gaps_given_up, s.frames_late), (0, 0), "{s:?}");
    assert_eq!(s.frames_released, sent.len() as u64);
    assert_eq!(net.peers[RECEIVER].inbound_rtp()[0].frames_dropped, 0);
}

#[test]
fn a_loss_nothing_repairs_is_given_up_within_the_bound_and_counted() {
    let (mut net, t) = Net::connected(62);
    // Reordering throughout; one packet of frames 10 and 38 lost, and no history to resend
    // from. Nothing is sent after frame 39, so only the peer's timer can release it.
    let mut n = 0u32;
    let mut frame = 0u64;
    let mut in_frame = 0u32;
    let current = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let seen = current.clone();
    net.policy = Box::new(move |data| {
        if !is_rtp(data, VP8) {
            return Some(DELAY);
        }
        let f = seen.get();
        if f != frame {
            frame = f;
            in_frame = 0;
        }
        in_frame += 1;
        n += 1;
        if (frame == 10 || frame == 38) && in_frame == 2 {
            return None;
        }
        Some(if n.is_multiple_of(5) {
            DELAY + HOLD
        } else {
            DELAY
        })
    });
    let mut written = Vec::new();
    for i in 0..40u64 {
        current.set(i);
        let now = net.now;
        assert!(net.peers[SENDER]
            .write_frame(now, t, i * FRAME_INTERVAL_US, &vp8_frame(i, 2500), None)
            .unwrap());
        net.peers[SENDER].forget_send_history();
        written.push(now);
        net.run_until(now + Duration::from_micros(FRAME_INTERVAL_US));
    }
    let until = net.now + Duration::from_secs(2);
    net.run_until(until);

    let got = net.received();
    let index = |d: &[u8]| (u64::from(d[1]) << 8) | u64::from(d[2]);
    let order: Vec<u64> = got.iter().map(|g| index(&g.2)).collect();
    let want: Vec<u64> = (0..40).filter(|&i| i != 10 && i != 38).collect();
    assert_eq!(order, want, "every other frame, in order");
    // Each frame after the loss came out within its path delay and the wait's bound.
    let bound = DELAY + HOLD + MAX_VIDEO_WAIT;
    for (at, _, d) in &got {
        let i = index(d);
        let waited = *at - written[i as usize];
        assert!(waited <= bound, "frame {i} took {waited:?}");
    }
    let late = got
        .iter()
        .filter(|(at, _, d)| *at - written[index(d) as usize] > DELAY + HOLD)
        .count();
    assert!(late >= 1, "frames after the gap waited for it");
    let s = net.peers[RECEIVER].jitter_stats()[0];
    assert_eq!(s.gaps_given_up, 2, "{s:?}");
    assert_eq!(s.frames_late, 0, "{s:?}");
    // Frame 10 counts as dropped once a later packet updates the stream's stats (none came
    // after frame 38's), and the sender was asked for a key frame.
    assert_eq!(net.peers[RECEIVER].inbound_rtp()[0].frames_dropped, 1);
    assert!(net.keyframe_requests >= 1);
}
