//! State-machine tests: two associations over a simulated network (seeded loss,
//! duplication, jitter/reordering) with a virtual clock that jumps to the next event.

use std::collections::BTreeMap;

use core::time::Duration;

use super::*;
use crate::crypto::Rng;
use crate::Time;

#[derive(Clone, Copy, Default)]
struct NetConfig {
    /// Per-mille probabilities.
    loss: u64,
    dup: u64,
    /// One-way delay and extra random jitter (reorders packets).
    delay: Duration,
    jitter: Duration,
}

struct Pair {
    sides: [Association; 2],
    now: Time,
    net: NetConfig,
    rng: Rng,
    queue: BTreeMap<(Time, u64), (usize, Vec<u8>)>,
    seq: u64,
    events: [Vec<SctpEvent>; 2],
    drain: [bool; 2],
    /// Drop everything sent by this side (a dead peer).
    mute: [bool; 2],
    delivered: u64,
    trace: bool,
    /// Packets handed to an association before its output is drained, as a host that
    /// reads a socket backlog does (the napi host feeds up to 32). 1: drain after each.
    batch: usize,
}

impl Pair {
    fn new(seed: u64, net: NetConfig) -> Pair {
        Self::with_config(seed, net, SctpConfig::default(), SctpConfig::default())
    }

    fn with_config(seed: u64, net: NetConfig, ca: SctpConfig, cb: SctpConfig) -> Pair {
        let mut rng = Rng::seeded(seed);
        let a = Association::new(ca, rng.fork());
        let b = Association::new(cb, rng.fork());
        Pair {
            sides: [a, b],
            now: Time::from_millis(1_000),
            net,
            rng,
            queue: BTreeMap::new(),
            seq: 0,
            events: [Vec::new(), Vec::new()],
            drain: [true, true],
            mute: [false, false],
            delivered: 0,
            trace: std::env::var("SCTP_TRACE").is_ok(),
            batch: 1,
        }
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        per_mille > 0 && self.rng.below(1000) < per_mille
    }

    fn pump(&mut self) {
        for i in 0..2 {
            while let Some(p) = self.sides[i].poll_transmit(self.now) {
                assert!(p.len() <= 1160, "packet of {} bytes", p.len());
                if self.mute[i] || self.chance(self.net.loss) {
                    if self.trace {
                        eprintln!("{:>10} lost from {i}", self.now.as_millis());
                    }
                    continue;
                }
                let copies = if self.chance(self.net.dup) { 2 } else { 1 };
                let mut p = Some(p);
                for c in 0..copies {
                    let data = if c + 1 == copies {
                        p.take().unwrap_or_default()
                    } else {
                        p.clone().unwrap_or_default()
                    };
                    let jitter = if self.net.jitter.is_zero() {
                        Duration::ZERO
                    } else {
                        Duration::from_micros(self.rng.below(self.net.jitter.as_micros() as u64))
                    };
                    let at = self.now + self.net.delay + jitter;
                    self.seq += 1;
                    self.queue.insert((at, self.seq), (1 - i, data));
                }
            }
            if self.drain[i] {
                while let Some(e) = self.sides[i].poll_event() {
                    self.events[i].push(e);
                }
            }
        }
    }

    /// One step of the virtual clock. Returns false if nothing at all is pending.
    fn step(&mut self) -> bool {
        self.pump();
        let next_pkt = self.queue.keys().next().map(|k| k.0);
        let next_timer = self.sides.iter().filter_map(|s| s.poll_timeout()).min();
        let Some(next) = [next_pkt, next_timer].into_iter().flatten().min() else {
            return false;
        };
        if next > self.now {
            self.now = next;
        }
        let mut undrained = 0;
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let (to, data) = entry.remove();
            self.delivered += 1;
            undrained += 1;
            if self.trace {
                if let Ok(pkt) = wire::Packet::decode(&data) {
                    let names: Vec<String> = pkt
                        .chunks
                        .iter()
                        .map(|c| match c {
                            wire::Chunk::Data(d) => format!("DATA{}/{}{}", d.tsn, d.ssn, d.flags()),
                            wire::Chunk::Sack(s) => format!("SACK{} {:?}", s.cum_tsn_ack, s.gaps),
                            wire::Chunk::ForwardTsn(f) => {
                                format!("FWD{} {:?}", f.new_cum_tsn, f.streams)
                            }
                            other => format!("{}", other.typ()),
                        })
                        .collect();
                    eprintln!("{:>10} -> {to} {names:?}", self.now.as_millis());
                }
            }
            self.sides[to].handle_packet(self.now, &data);
            if undrained >= self.batch {
                undrained = 0;
                self.pump();
            }
        }
        self.pump();
        for i in 0..2 {
            if self.sides[i].poll_timeout().is_some_and(|t| t <= self.now) {
                self.sides[i].handle_timeout(self.now);
            }
        }
        self.pump();
        true
    }

    /// Runs until `done` holds; fails after `limit` of virtual time or too many steps.
    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Pair) -> bool) {
        let end = self.now + limit;
        let mut steps = 0u64;
        while !done(self) {
            assert!(
                self.now < end,
                "not done after {limit:?} of virtual time\nA {:?}\nB {:?}\nA {}\nB {}",
                self.sides[0].stats(),
                self.sides[1].stats(),
                self.sides[0].debug_state(),
                self.sides[1].debug_state()
            );
            steps += 1;
            assert!(steps < 50_000_000, "livelock");
            if !self.step() {
                assert!(done(self), "idle before done");
                return;
            }
        }
    }

    fn connect(&mut self, both: bool) {
        let now = self.now;
        self.sides[0].connect(now);
        if both {
            self.sides[1].connect(now);
        }
        self.run_until(Duration::from_secs(120), |p| {
            p.sides[0].is_established() && p.sides[1].is_established()
        });
        self.pump();
    }

    fn take_messages(&mut self, side: usize) -> Vec<(u16, u32, Vec<u8>)> {
        let mut out = Vec::new();
        self.events[side].retain(|e| match e {
            SctpEvent::Message { stream, ppid, data } => {
                out.push((*stream, *ppid, data.clone()));
                false
            }
            _ => true,
        });
        out
    }

    fn count(&self, side: usize, f: impl Fn(&SctpEvent) -> bool) -> usize {
        self.events[side].iter().filter(|e| f(e)).count()
    }
}

fn lossy() -> NetConfig {
    NetConfig {
        loss: 100,
        dup: 50,
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(15),
    }
}

fn message(id: u32, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&id.to_be_bytes());
    while v.len() < len {
        v.push((v.len() as u32 ^ id) as u8);
    }
    v.truncate(len.max(4));
    v
}

#[test]
fn one_sided_connect() {
    let mut p = Pair::new(
        1,
        NetConfig {
            delay: Duration::from_millis(10),
            ..Default::default()
        },
    );
    p.connect(false);
    assert_eq!(p.count(0, |e| *e == SctpEvent::Connected), 1);
    assert_eq!(p.count(1, |e| *e == SctpEvent::Connected), 1);
}

#[test]
fn simultaneous_connect_yields_one_association() {
    for seed in 0..20 {
        let net = NetConfig {
            delay: Duration::from_millis(10),
            jitter: Duration::from_millis(5),
            ..Default::default()
        };
        let mut p = Pair::new(seed, net);
        p.connect(true);
        // Settle, then check each side saw exactly one Connected and data flows both ways.
        p.run_until(Duration::from_secs(1), |p| p.queue.is_empty());
        assert_eq!(p.count(0, |e| *e == SctpEvent::Connected), 1, "seed {seed}");
        assert_eq!(p.count(1, |e| *e == SctpEvent::Connected), 1, "seed {seed}");
        let now = p.now;
        p.sides[0]
            .send(now, 1, 51, b"from a", SendOptions::default())
            .unwrap();
        p.sides[1]
            .send(now, 1, 51, b"from b", SendOptions::default())
            .unwrap();
        p.run_until(Duration::from_secs(5), |p| {
            p.count(0, |e| matches!(e, SctpEvent::Message { .. })) == 1
                && p.count(1, |e| matches!(e, SctpEvent::Message { .. })) == 1
        });
    }
}

#[test]
fn simultaneous_connect_under_loss() {
    for seed in 0..20 {
        let mut p = Pair::new(
            100 + seed,
            NetConfig {
                loss: 300,
                ..lossy()
            },
        );
        p.connect(true);
        p.run_until(Duration::from_secs(3), |p| p.queue.is_empty());
        assert_eq!(p.count(0, |e| *e == SctpEvent::Connected), 1, "seed {seed}");
        assert_eq!(p.count(1, |e| *e == SctpEvent::Connected), 1, "seed {seed}");
    }
}

#[test]
fn ten_mib_ordered_reliable_over_lossy_network() {
    let mut p = Pair::new(7, lossy());
    p.connect(true);
    let mut rng = Rng::seeded(99);
    let mut sent = Vec::new();
    let mut total = 0usize;
    let mut id = 0u32;
    while total < 10 * 1024 * 1024 {
        let len = match rng.below(4) {
            0 => 1 + rng.below(100) as usize,
            1 => 1 + rng.below(2000) as usize,
            2 => 1 + rng.below(20_000) as usize,
            _ => 1 + rng.below(200_000) as usize,
        };
        let m = message(id, len);
        total += m.len();
        sent.push(m);
        id += 1;
    }
    let now = p.now;
    for m in &sent {
        p.sides[0]
            .send(now, 3, 53, m, SendOptions::default())
            .unwrap();
    }
    assert_eq!(p.sides[0].buffered_amount(3), total);
    let n = sent.len();
    let mut got = Vec::new();
    p.run_until(Duration::from_secs(600), |p| {
        got.extend(p.take_messages(1));
        got.len() == n
    });
    for (i, (stream, ppid, data)) in got.iter().enumerate() {
        assert_eq!((*stream, *ppid), (3, 53));
        assert!(data == &sent[i], "message {i} differs");
    }
    p.run_until(Duration::from_secs(60), |p| {
        p.sides[0].buffered_amount(3) == 0
    });
    let decreased: usize = p.events[0]
        .iter()
        .map(|e| match e {
            SctpEvent::BufferedAmountDecreased { stream: 3, bytes } => *bytes,
            _ => 0,
        })
        .sum();
    assert_eq!(decreased, total);
    let s = p.sides[0].stats();
    assert!(s.retransmissions > 0 && s.fast_retransmits > 0, "{s:?}");
    eprintln!("10 MiB lossy: {:?} virtual, stats {s:?}", p.now - now);
}

#[test]
fn unordered_delivery_is_complete() {
    let mut p = Pair::new(8, lossy());
    p.connect(false);
    let now = p.now;
    let opts = SendOptions {
        unordered: true,
        ..Default::default()
    };
    for i in 0..500u32 {
        p.sides[0]
            .send(now, 0, 51, &message(i, 10 + (i as usize * 37) % 3000), opts)
            .unwrap();
    }
    let mut got = Vec::new();
    p.run_until(Duration::from_secs(120), |p| {
        got.extend(p.take_messages(1));
        got.len() == 500
    });
    let mut ids: Vec<u32> = got
        .iter()
        .map(|(_, _, d)| u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
        .collect();
    let in_order = ids.windows(2).all(|w| w[0] < w[1]);
    ids.sort();
    assert_eq!(ids, (0..500).collect::<Vec<_>>());
    for (_, _, d) in &got {
        let id = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
        assert_eq!(d, &message(id, 10 + (id as usize * 37) % 3000));
    }
    assert!(
        !in_order,
        "with reordering, unordered delivery should not be strictly ordered"
    );
}

fn partial_reliability(opts: SendOptions, seed: u64) {
    let mut p = Pair::new(seed, lossy());
    p.connect(false);
    let mut t = p.now;
    for i in 0..300u32 {
        let now = p.now;
        p.sides[0]
            .send(now, 2, 51, &message(i, 100 + (i as usize % 7) * 700), opts)
            .unwrap();
        t += Duration::from_millis(5);
        p.run_until(Duration::from_secs(10), |p| p.now >= t);
    }
    let now = p.now;
    p.sides[0]
        .send(now, 2, 51, b"END!", SendOptions::default())
        .unwrap();
    let mut got = Vec::new();
    p.run_until(Duration::from_secs(600), |p| {
        got.extend(p.take_messages(1));
        got.last().is_some_and(|m| m.2 == b"END!")
    });
    let ids: Vec<u32> = got[..got.len() - 1]
        .iter()
        .map(|(_, _, d)| u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ordered stream stays in order"
    );
    for (_, _, d) in &got[..got.len() - 1] {
        let id = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
        assert_eq!(d, &message(id, 100 + (id as usize % 7) * 700));
    }
    assert!(
        ids.len() < 300,
        "some messages are abandoned under 10% loss"
    );
    assert!(ids.len() > 100, "most messages arrive: {}", ids.len());
    p.run_until(Duration::from_secs(60), |p| {
        p.sides[0].buffered_amount(2) == 0
    });
    assert!(p.sides[0].stats().messages_abandoned > 0);
}

#[test]
fn max_retransmits_zero_under_loss_does_not_stall() {
    partial_reliability(
        SendOptions {
            max_retransmits: Some(0),
            ..Default::default()
        },
        16,
    );
}

#[test]
fn max_lifetime_under_loss_does_not_stall() {
    partial_reliability(
        SendOptions {
            max_lifetime: Some(Duration::from_millis(50)),
            ..Default::default()
        },
        12,
    );
}

#[test]
fn unordered_max_retransmits_zero() {
    partial_reliability_unordered(13);
}

fn partial_reliability_unordered(seed: u64) {
    let mut p = Pair::new(
        seed,
        NetConfig {
            loss: 200,
            ..lossy()
        },
    );
    p.connect(false);
    let opts = SendOptions {
        unordered: true,
        max_retransmits: Some(0),
        ..Default::default()
    };
    let now = p.now;
    for i in 0..300u32 {
        p.sides[0]
            .send(now, 4, 51, &message(i, 3000), opts)
            .unwrap();
    }
    p.run_until(Duration::from_secs(120), |p| {
        p.sides[0].buffered_amount(4) == 0
    });
    let got = p.take_messages(1);
    assert!(got.len() < 300 && got.len() > 50, "{}", got.len());
}

#[test]
fn stream_reset_both_ways() {
    let mut p = Pair::new(21, lossy());
    p.connect(true);
    let now = p.now;
    for i in 0..20u32 {
        p.sides[0]
            .send(now, 5, 51, &message(i, 5000), SendOptions::default())
            .unwrap();
    }
    p.sides[0].reset_stream(now, 5);
    assert_eq!(
        p.sides[0].send(now, 5, 51, b"x", SendOptions::default()),
        Err(SctpError::StreamResetting)
    );
    p.run_until(Duration::from_secs(60), |p| {
        p.count(0, |e| *e == SctpEvent::OutgoingStreamReset { stream: 5 }) == 1
            && p.count(1, |e| *e == SctpEvent::IncomingStreamReset { stream: 5 }) == 1
    });
    // Everything sent before the reset was delivered before the reset event.
    let pos_reset = p.events[1]
        .iter()
        .position(|e| *e == SctpEvent::IncomingStreamReset { stream: 5 })
        .unwrap();
    let before = p.events[1][..pos_reset]
        .iter()
        .filter(|e| matches!(e, SctpEvent::Message { stream: 5, .. }))
        .count();
    assert_eq!(before, 20);
    // The other direction, then the stream is reused from SSN 0.
    let now = p.now;
    p.sides[1].reset_stream(now, 5);
    p.run_until(Duration::from_secs(60), |p| {
        p.count(1, |e| *e == SctpEvent::OutgoingStreamReset { stream: 5 }) == 1
            && p.count(0, |e| *e == SctpEvent::IncomingStreamReset { stream: 5 }) == 1
    });
    let now = p.now;
    p.take_messages(1);
    p.sides[0]
        .send(now, 5, 51, b"again", SendOptions::default())
        .unwrap();
    p.sides[0]
        .send(now, 5, 51, b"again2", SendOptions::default())
        .unwrap();
    let mut got = Vec::new();
    p.run_until(Duration::from_secs(60), |p| {
        got.extend(p.take_messages(1));
        got.len() == 2
    });
    assert_eq!(got[0].2, b"again");
    assert_eq!(got[1].2, b"again2");
}

#[test]
fn graceful_shutdown_delivers_everything() {
    let mut p = Pair::new(31, lossy());
    p.connect(true);
    let now = p.now;
    for i in 0..50u32 {
        p.sides[0]
            .send(now, 1, 51, &message(i, 4000), SendOptions::default())
            .unwrap();
    }
    p.sides[0].shutdown(now);
    assert_eq!(
        p.sides[0].send(now, 1, 51, b"late", SendOptions::default()),
        Err(SctpError::Closed)
    );
    p.run_until(Duration::from_secs(120), |p| {
        p.count(0, |e| *e == SctpEvent::Closed) == 1 && p.count(1, |e| *e == SctpEvent::Closed) == 1
    });
    assert_eq!(p.take_messages(1).len(), 50);
    assert!(!p.sides[0].is_established());
    assert!(p.sides.iter().all(|s| s.poll_timeout().is_none()));
}

#[test]
fn abort_is_reported_on_both_sides() {
    let mut p = Pair::new(
        41,
        NetConfig {
            delay: Duration::from_millis(5),
            ..Default::default()
        },
    );
    p.connect(false);
    let now = p.now;
    p.sides[1].abort(now);
    p.run_until(Duration::from_secs(5), |p| {
        p.count(0, |e| matches!(e, SctpEvent::Aborted { .. })) == 1
            && p.count(1, |e| matches!(e, SctpEvent::Aborted { .. })) == 1
    });
    assert_eq!(
        p.sides[0].send(p.now, 0, 51, b"x", SendOptions::default()),
        Err(SctpError::Closed)
    );
}

#[test]
fn silent_peer_is_aborted_after_max_retransmissions() {
    let mut p = Pair::new(
        51,
        NetConfig {
            delay: Duration::from_millis(5),
            ..Default::default()
        },
    );
    p.connect(false);
    p.mute[1] = true;
    let now = p.now;
    p.sides[0]
        .send(now, 0, 51, b"anyone?", SendOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(3600), |p| {
        p.count(0, |e| matches!(e, SctpEvent::Aborted { .. })) == 1
    });
    assert!(p.sides[0].stats().t3_expirations >= 10);
}

#[test]
fn silent_idle_peer_is_detected_by_heartbeats() {
    let mut p = Pair::new(
        52,
        NetConfig {
            delay: Duration::from_millis(5),
            ..Default::default()
        },
    );
    p.connect(false);
    p.mute[1] = true;
    p.run_until(Duration::from_secs(7200), |p| {
        p.count(0, |e| matches!(e, SctpEvent::Aborted { .. })) == 1
    });
}

#[test]
fn init_to_nobody_times_out() {
    let mut p = Pair::new(
        53,
        NetConfig {
            delay: Duration::from_millis(5),
            ..Default::default()
        },
    );
    p.mute[0] = true;
    let now = p.now;
    p.sides[0].connect(now);
    p.run_until(Duration::from_secs(3600), |p| {
        p.count(0, |e| matches!(e, SctpEvent::Aborted { .. })) == 1
    });
}

#[test]
fn receive_window_bounds_memory_when_not_drained() {
    let cfg = SctpConfig {
        receive_window: 128 * 1024,
        max_message_size: 64 * 1024,
        ..Default::default()
    };
    let mut p = Pair::with_config(61, lossy(), SctpConfig::default(), cfg.clone());
    p.connect(true);
    p.drain[1] = false;
    let now = p.now;
    let total = 2 * 1024 * 1024;
    for i in 0..(total / 8192) as u32 {
        p.sides[0]
            .send(now, 1, 51, &message(i, 8192), SendOptions::default())
            .unwrap();
    }
    let end = p.now + Duration::from_secs(900);
    let mut max_held = 0;
    p.run_until(Duration::from_secs(901), |p| {
        max_held = max_held.max(p.sides[1].stats().receive_buffered);
        p.now >= end
    });
    assert!(
        max_held <= cfg.receive_window * MAX_RECEIVE_BUFFER_FACTOR,
        "{max_held}"
    );
    assert!(
        p.sides[0].buffered_amount(1) > total / 2,
        "the sender is held back"
    );
    assert!(p.sides[0].is_established());
    // Draining resumes the flow.
    p.drain[1] = true;
    let mut n = 0;
    p.run_until(Duration::from_secs(600), |p| {
        n += p.take_messages(1).len();
        n == total / 8192
    });
}

#[test]
fn send_validation() {
    let mut p = Pair::new(71, NetConfig::default());
    let now = p.now;
    assert_eq!(
        p.sides[0].send(now, 0, 51, b"x", SendOptions::default()),
        Err(SctpError::NotConnected)
    );
    p.connect(false);
    assert_eq!(
        p.sides[0].send(now, 0, 51, b"", SendOptions::default()),
        Err(SctpError::EmptyMessage)
    );
    p.sides[0].set_remote_max_message_size(1000);
    assert_eq!(
        p.sides[0].send(now, 0, 51, &[0; 1001], SendOptions::default()),
        Err(SctpError::MessageTooLarge)
    );
    assert!(p.sides[0]
        .send(now, 0, 51, &[0; 1000], SendOptions::default())
        .is_ok());
}

#[test]
fn oversized_incoming_message_aborts() {
    let small = SctpConfig {
        max_message_size: 10_000,
        ..Default::default()
    };
    let mut p = Pair::with_config(72, NetConfig::default(), SctpConfig::default(), small);
    p.connect(false);
    let now = p.now;
    p.sides[0]
        .send(now, 0, 51, &[1; 20_000], SendOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(10), |p| {
        p.count(1, |e| matches!(e, SctpEvent::Aborted { .. })) == 1
    });
}

#[test]
fn garbage_and_truncated_packets_never_panic() {
    let mut p = Pair::new(81, NetConfig::default());
    // Capture real packets of a handshake and a transfer.
    let mut captured = Vec::new();
    let now = p.now;
    p.sides[0].connect(now);
    for _ in 0..10 {
        for i in 0..2 {
            while let Some(pkt) = p.sides[i].poll_transmit(p.now) {
                captured.push(pkt.clone());
                p.sides[1 - i].handle_packet(p.now, &pkt);
            }
        }
    }
    assert!(p.sides[0].is_established());
    p.sides[0]
        .send(now, 0, 51, &[5; 3000], SendOptions::default())
        .unwrap();
    while let Some(pkt) = p.sides[0].poll_transmit(p.now) {
        captured.push(pkt);
    }
    let mut victim = Association::new(SctpConfig::default(), Rng::seeded(5));
    let mut rng = Rng::seeded(82);
    for pkt in &captured {
        for n in 0..pkt.len() {
            victim.handle_packet(now, &pkt[..n]);
            p.sides[1].handle_packet(now, &pkt[..n]);
        }
        // Bit flips with a fixed-up checksum exercise the state machine on bad values.
        for _ in 0..200 {
            let mut m = pkt.clone();
            let i = rng.below(m.len() as u64) as usize;
            m[i] ^= 1 << rng.below(8);
            wire::finish_packet(&mut m);
            p.sides[1].handle_packet(now, &m);
            victim.handle_packet(now, &m);
        }
    }
    for _ in 0..5000 {
        let mut buf = vec![0u8; rng.below(200) as usize + 12];
        rng.fill(&mut buf);
        wire::finish_packet(&mut buf);
        victim.handle_packet(now, &buf);
        p.sides[1].handle_packet(now, &buf);
    }
    while victim.poll_transmit(now).is_some() {}
    assert!(victim.stats().dropped_malformed > 0);
}

/// Connects a pair without loss and returns (tag B expects, next TSN A would use).
fn connected_pair_and_tags(seed: u64) -> (Pair, u32, u32) {
    let mut p = Pair::new(seed, NetConfig::default());
    p.connect(false);
    p.run_until(Duration::from_secs(1), |p| p.queue.is_empty());
    let now = p.now;
    p.sides[0]
        .send(now, 9, 51, b"probe", SendOptions::default())
        .unwrap();
    let pkt = p.sides[0].poll_transmit(now).unwrap();
    let decoded = wire::Packet::decode(&pkt).unwrap();
    let tsn = decoded
        .chunks
        .iter()
        .find_map(|c| match c {
            wire::Chunk::Data(d) => Some(d.tsn),
            _ => None,
        })
        .unwrap();
    p.sides[1].handle_packet(now, &pkt);
    p.pump();
    (p, decoded.header.verification_tag, tsn.wrapping_add(1))
}

fn data(tsn: u32, payload: &[u8]) -> wire::Chunk {
    wire::Chunk::Data(wire::DataChunk {
        immediate: false,
        unordered: true,
        beginning: true,
        ending: true,
        tsn,
        stream: 9,
        ssn: 0,
        ppid: 51,
        payload: payload.to_vec(),
    })
}

fn packet(vtag: u32, chunks: Vec<wire::Chunk>) -> Vec<u8> {
    wire::Packet {
        header: wire::CommonHeader {
            src_port: 5000,
            dst_port: 5000,
            verification_tag: vtag,
        },
        chunks,
    }
    .encode()
}

fn sent_error_cause(p: &mut Pair, side: usize) -> Option<u16> {
    let now = p.now;
    let mut found = None;
    while let Some(pkt) = p.sides[side].poll_transmit(now) {
        for c in wire::Packet::decode(&pkt).unwrap().chunks {
            if let wire::Chunk::Error { causes } = c {
                found = causes.first().map(|c| c.code);
            }
        }
    }
    found
}

#[test]
fn unknown_chunks_follow_the_upper_two_bits() {
    let (mut p, vtag, mut tsn) = connected_pair_and_tags(90);
    let now = p.now;
    let unknown = |typ: u8| wire::Chunk::Unknown {
        typ,
        flags: 0,
        value: vec![1, 2, 3],
    };
    // (type, data processed?, error reported?)
    for (typ, processed, reported) in [
        (0x3Fu8, false, false),
        (0x41, false, true),
        (0x81, true, false),
        (0xC1, true, true),
    ] {
        p.take_messages(1);
        p.sides[1].handle_packet(now, &packet(vtag, vec![unknown(typ), data(tsn, b"x")]));
        let cause = sent_error_cause(&mut p, 1);
        while let Some(e) = p.sides[1].poll_event() {
            p.events[1].push(e);
        }
        let got = p.take_messages(1);
        assert_eq!(!got.is_empty(), processed, "type {typ:#x}");
        assert_eq!(
            cause == Some(wire::CAUSE_UNRECOGNIZED_CHUNK),
            reported,
            "type {typ:#x}"
        );
        if processed {
            tsn = tsn.wrapping_add(1);
        }
    }
    // A wrong verification tag drops the packet.
    let before = p.sides[1].stats().dropped_unexpected;
    p.sides[1].handle_packet(now, &packet(vtag ^ 1, vec![data(tsn, b"y")]));
    assert_eq!(p.sides[1].stats().dropped_unexpected, before + 1);
    assert!(p.sides[1].poll_event().is_none());
}

#[test]
fn tampered_and_stale_cookies_are_refused() {
    for stale in [false, true] {
        let mut a = Association::new(SctpConfig::default(), Rng::seeded(1));
        let mut b = Association::new(SctpConfig::default(), Rng::seeded(2));
        let now = Time::from_millis(5000);
        a.connect(now);
        let init = a.poll_transmit(now).unwrap();
        b.handle_packet(now, &init);
        let init_ack = b.poll_transmit(now).unwrap();
        a.handle_packet(now, &init_ack);
        let echo = a.poll_transmit(now).unwrap();
        let mut bad = echo.clone();
        let n = bad.len();
        bad[n - 5] ^= 0x40;
        wire::finish_packet(&mut bad);
        b.handle_packet(now, &bad);
        assert_eq!(b.stats().dropped_cookies, 1);
        assert!(!b.is_established());
        let later = if stale {
            now + Duration::from_secs(61)
        } else {
            now
        };
        b.handle_packet(later, &echo);
        assert_eq!(b.is_established(), !stale);
        // B answered the INIT without keeping state.
        assert_eq!(b.poll_event().is_some(), !stale);
    }
}

#[test]
fn staggered_connects_yield_one_association() {
    for offset_ms in [0u64, 3, 9, 10, 11, 15, 20, 25, 40] {
        for seed in 0..5 {
            let mut p = Pair::new(
                200 + seed,
                NetConfig {
                    delay: Duration::from_millis(10),
                    ..Default::default()
                },
            );
            let now = p.now;
            p.sides[0].connect(now);
            let t = now + Duration::from_millis(offset_ms);
            p.run_until(Duration::from_secs(1), |p| p.now >= t || p.queue.is_empty());
            let now = p.now;
            p.sides[1].connect(now);
            p.run_until(Duration::from_secs(30), |p| {
                p.sides[0].is_established() && p.sides[1].is_established()
            });
            p.run_until(Duration::from_secs(1), |p| p.queue.is_empty());
            assert_eq!(
                p.count(0, |e| *e == SctpEvent::Connected),
                1,
                "offset {offset_ms} seed {seed}"
            );
            assert_eq!(
                p.count(1, |e| *e == SctpEvent::Connected),
                1,
                "offset {offset_ms} seed {seed}"
            );
            let now = p.now;
            p.sides[0]
                .send(now, 1, 51, b"a", SendOptions::default())
                .unwrap();
            p.sides[1]
                .send(now, 1, 51, b"b", SendOptions::default())
                .unwrap();
            p.run_until(Duration::from_secs(5), |p| {
                p.count(0, |e| matches!(e, SctpEvent::Message { .. })) == 1
                    && p.count(1, |e| matches!(e, SctpEvent::Message { .. })) == 1
            });
        }
    }
}

#[test]
fn peer_initiated_shutdown_with_data_both_ways() {
    let mut p = Pair::new(301, lossy());
    p.connect(true);
    let now = p.now;
    for i in 0..30u32 {
        p.sides[0]
            .send(now, 1, 51, &message(i, 3000), SendOptions::default())
            .unwrap();
        p.sides[1]
            .send(now, 2, 51, &message(i, 2000), SendOptions::default())
            .unwrap();
    }
    p.sides[1].shutdown(now);
    p.run_until(Duration::from_secs(300), |p| {
        p.count(0, |e| *e == SctpEvent::Closed) == 1 && p.count(1, |e| *e == SctpEvent::Closed) == 1
    });
    assert_eq!(p.take_messages(0).len(), 30);
    assert_eq!(p.take_messages(1).len(), 30);
}

/// Several seeds, mixed reliable / partially reliable / unordered traffic on different
/// streams, with resets in the middle, corrupted and truncated packets: the reliable
/// ordered stream always arrives intact and in order, nothing panics or livelocks.
#[test]
fn chaos_mixed_traffic_many_seeds() {
    let mut malformed = 0;
    for seed in 0..8u64 {
        let mut p = Pair::new(400 + seed, lossy());
        p.connect(seed % 2 == 0);
        let mut rng = Rng::seeded(seed);
        let mut reliable = Vec::new();
        let mut t = p.now;
        for i in 0..400u32 {
            let now = p.now;
            let len = 1 + rng.below(5000) as usize;
            match rng.below(5) {
                0 | 1 => {
                    let m = message(i, len.max(4));
                    p.sides[0]
                        .send(now, 1, 51, &m, SendOptions::default())
                        .unwrap();
                    reliable.push(m);
                }
                2 => {
                    let o = SendOptions {
                        max_retransmits: Some(rng.below(3) as u32),
                        ..Default::default()
                    };
                    let _ = p.sides[0].send(now, 2, 51, &message(i, len), o);
                }
                3 => {
                    let o = SendOptions {
                        unordered: true,
                        max_lifetime: Some(Duration::from_millis(30)),
                        ..Default::default()
                    };
                    let _ = p.sides[0].send(now, 3, 51, &message(i, len), o);
                }
                _ => {
                    let _ = p.sides[1].send(now, 4, 51, &message(i, len), SendOptions::default());
                    if rng.below(20) == 0 {
                        p.sides[0].reset_stream(now, 2);
                    }
                }
            }
            // Now and then, garbage: a corrupted or truncated copy of a real packet.
            if rng.below(10) == 0 {
                if let Some(mut pkt) = p.sides[0].poll_transmit(now) {
                    let good = pkt.clone();
                    let n = pkt.len();
                    let i = rng.below(n as u64) as usize;
                    pkt[i] ^= 0x10;
                    p.sides[1].handle_packet(now, &pkt);
                    p.sides[1].handle_packet(now, &good[..rng.below(n as u64) as usize]);
                    p.sides[1].handle_packet(now, &good);
                }
            }
            t += Duration::from_millis(rng.below(10));
            p.run_until(Duration::from_secs(30), |p| p.now >= t);
        }
        let n = reliable.len();
        let mut got = Vec::new();
        p.run_until(Duration::from_secs(600), |p| {
            got.extend(p.take_messages(1).into_iter().filter(|m| m.0 == 1));
            got.len() == n
        });
        for (i, m) in got.iter().enumerate() {
            assert!(m.2 == reliable[i], "seed {seed} message {i}");
        }
        assert!(
            p.sides[0].is_established() && p.sides[1].is_established(),
            "seed {seed}"
        );
        malformed += p.sides[1].stats().dropped_malformed;
    }
    assert!(malformed > 0);
}

/// Packets corrupted with a recomputed checksum reach the state machine: whatever
/// happens (the association may legitimately abort), nothing panics or livelocks.
#[test]
fn checksummed_garbage_during_traffic_never_panics() {
    for seed in 0..30u64 {
        let mut p = Pair::new(500 + seed, lossy());
        p.connect(true);
        let mut rng = Rng::seeded(seed + 1000);
        let mut t = p.now;
        for i in 0..150u32 {
            let now = p.now;
            let o = SendOptions {
                unordered: i % 3 == 0,
                max_retransmits: (i % 2 == 0).then_some(1),
                ..Default::default()
            };
            let _ = p.sides[0].send(
                now,
                (i % 4) as u16,
                51,
                &message(i, 1 + rng.below(3000) as usize),
                o,
            );
            let _ = p.sides[1].send(now, 7, 51, &message(i, 100), SendOptions::default());
            if i % 50 == 0 {
                p.sides[1].reset_stream(now, 7);
            }
            for side in 0..2 {
                if let Some(mut pkt) = p.sides[side].poll_transmit(now) {
                    for _ in 0..1 + rng.below(3) {
                        let n = pkt.len();
                        let j = 12 + rng.below((n - 12) as u64) as usize;
                        pkt[j] = rng.below(256) as u8;
                    }
                    wire::finish_packet(&mut pkt);
                    p.sides[1 - side].handle_packet(now, &pkt);
                }
            }
            t += Duration::from_millis(rng.below(10));
            p.run_until(Duration::from_secs(30), |p| p.now >= t);
        }
        let end = p.now + Duration::from_secs(60);
        p.run_until(Duration::from_secs(61), |p| {
            p.now >= end || p.queue.is_empty()
        });
    }
}

#[test]
fn many_tiny_messages_are_bundled_and_delivered() {
    let mut p = Pair::new(
        601,
        NetConfig {
            loss: 20,
            delay: Duration::from_millis(5),
            ..Default::default()
        },
    );
    p.connect(false);
    let now = p.now;
    let n = 50_000u32;
    for i in 0..n {
        p.sides[0]
            .send(
                now,
                (i % 3) as u16,
                51,
                &[(i % 251) as u8],
                SendOptions::default(),
            )
            .unwrap();
    }
    let mut got = Vec::new();
    p.run_until(Duration::from_secs(300), |p| {
        got.extend(p.take_messages(1));
        got.len() == n as usize
    });
    // Per stream, in order.
    for s in 0..3u16 {
        let seq: Vec<u8> = got.iter().filter(|m| m.0 == s).map(|m| m.2[0]).collect();
        let want: Vec<u8> = (0..n)
            .filter(|i| (i % 3) as u16 == s)
            .map(|i| (i % 251) as u8)
            .collect();
        assert_eq!(seq, want);
    }
    let st = p.sides[0].stats();
    assert!(st.packets_sent < u64::from(n) / 10, "bundling: {st:?}");
}

#[test]
fn out_of_the_blue_shutdown_ack_gets_shutdown_complete() {
    let mut a = Association::new(SctpConfig::default(), Rng::seeded(9));
    let now = Time::from_millis(1);
    a.handle_packet(now, &packet(0x1234_5678, vec![wire::Chunk::ShutdownAck]));
    let reply = wire::Packet::decode(&a.poll_transmit(now).unwrap()).unwrap();
    assert_eq!(reply.header.verification_tag, 0x1234_5678);
    assert_eq!(
        reply.chunks,
        vec![wire::Chunk::ShutdownComplete { reflected: true }]
    );
    assert!(a.poll_transmit(now).is_none());
}

/// Review regressions for the receive half (peer-steered FORWARD TSN).
mod rx_review {
    use super::super::rx::{DataOutcome, Rx};
    use super::super::wire::{DataChunk, ForwardTsnChunk};

    fn whole(tsn: u32, ssn: u16, byte: u8) -> DataChunk {
        DataChunk {
            immediate: false,
            unordered: false,
            beginning: true,
            ending: true,
            tsn,
            stream: 1,
            ssn,
            ppid: 53,
            payload: vec![byte],
        }
    }

    fn forward(rx: &mut Rx, new_cum_tsn: u32, streams: Vec<(u16, u16)>) {
        rx.handle_forward_tsn(&ForwardTsnChunk { new_cum_tsn, streams });
    }

    fn taken(rx: &mut Rx) -> Vec<u8> {
        rx.delivered.drain(..).flat_map(|d| d.data).collect()
    }

    #[test]
    fn skipping_across_the_ssn_wrap_delivers_held_messages_in_order() {
        let mut rx = Rx::new(100, 1 << 20, 1 << 16);
        // Walk the stream's next SSN up to 0xfff1 (each step < 2^15).
        forward(&mut rx, 100, vec![(1, 0x7000)]);
        forward(&mut rx, 101, vec![(1, 0xe000)]);
        forward(&mut rx, 102, vec![(1, 0xfff0)]);
        assert!(taken(&mut rx).is_empty());
        // TSN 103 is lost; 104..106 carry SSNs 0xfff3, 0x0002 and 0x0005.
        assert_eq!(rx.handle_data(whole(104, 0xfff3, b'a')), DataOutcome::Accepted);
        assert_eq!(rx.handle_data(whole(105, 0x0002, b'b')), DataOutcome::Accepted);
        assert_eq!(rx.handle_data(whole(106, 0x0005, b'd')), DataOutcome::Accepted);
        assert!(taken(&mut rx).is_empty());
        // The sender abandons TSN 103 (SSN 0x0003): 0xfff3 and 0x0002 become deliverable.
        forward(&mut rx, 103, vec![(1, 0x0003)]);
        assert_eq!(taken(&mut rx), b"ab");
        assert_eq!(rx.cum_tsn(), 106);
        // SSN 4 releases the held 5.
        assert_eq!(rx.handle_data(whole(107, 0x0004, b'c')), DataOutcome::Accepted);
        assert_eq!(taken(&mut rx), b"cd");
    }

    fn fragment(tsn: u32, beginning: bool, ending: bool, unordered: bool, byte: u8) -> DataChunk {
        DataChunk { beginning, ending, unordered, ..whole(tsn, 0, byte) }
    }

    #[test]
    fn a_message_filled_in_backwards_is_reassembled_without_rescanning() {
        // Before the review fix every fragment rescanned the run up to the E fragment:
        // a peer sending E first and then the rest backwards cost O(n^2) lookups.
        let n: u32 = 20_000;
        // 20k one-byte fragments cost ~5 MiB of bookkeeping: a window that holds them.
        let mut rx = Rx::new(1, 8 << 20, 1 << 20);
        let byte = |t: u32| u8::try_from(t % 251).unwrap_or(0);
        for t in (1..=n).rev() {
            let c = fragment(t, t == 1, t == n, false, byte(t));
            assert_eq!(rx.handle_data(c), DataOutcome::Accepted, "tsn {t}");
            if t > 1 {
                assert!(rx.delivered.is_empty());
            }
        }
        let want: Vec<u8> = (1..=n).map(byte).collect();
        assert_eq!(taken(&mut rx), want);
        assert_eq!(rx.cum_tsn(), n);
    }

    #[test]
    fn interleaved_unordered_fragments_only_join_their_own_run() {
        let mut rx = Rx::new(1, 1 << 20, 1 << 20);
        // 1..=3 is one message, 4 an E without its B (lost 0 is below cum: ignored),
        // 5..=6 a second message; arrival order mixed.
        assert_eq!(rx.handle_data(fragment(3, false, true, true, b'c')), DataOutcome::Accepted);
        assert_eq!(rx.handle_data(fragment(6, false, true, true, b'f')), DataOutcome::Accepted);
        assert_eq!(rx.handle_data(fragment(1, true, false, true, b'a')), DataOutcome::Accepted);
        assert!(taken(&mut rx).is_empty());
        assert_eq!(rx.handle_data(fragment(5, true, false, true, b'e')), DataOutcome::Accepted);
        assert_eq!(taken(&mut rx), b"ef");
        assert_eq!(rx.handle_data(fragment(2, false, false, true, b'b')), DataOutcome::Accepted);
        assert_eq!(taken(&mut rx), b"abc");
        // 4 has an E but the B before it belongs to a finished message: never delivered.
        assert_eq!(rx.handle_data(fragment(4, false, true, true, b'd')), DataOutcome::Accepted);
        assert!(taken(&mut rx).is_empty());
        // A fresh message right after it still assembles.
        assert_eq!(rx.handle_data(fragment(7, true, false, true, b'g')), DataOutcome::Accepted);
        assert_eq!(rx.handle_data(fragment(8, false, true, true, b'h')), DataOutcome::Accepted);
        assert_eq!(taken(&mut rx), b"gh");
        assert_eq!(rx.cum_tsn(), 8);
    }

    #[test]
    fn sack_gap_blocks_come_from_runs() {
        // Before the review fix each SACK walked every TSN received above a hole (up to
        // 65535 per SACK, and a duplicate chunk forces a SACK).
        use super::super::wire::GapBlock;
        let mut rx = Rx::new(1, 1 << 20, 1 << 16);
        for t in (3..=60_002).chain([60_004]) {
            assert_eq!(rx.handle_data(whole(t, 0, 0)), DataOutcome::Accepted);
        }
        for _ in 0..1000 {
            assert_eq!(rx.handle_data(whole(5, 0, 0)), DataOutcome::Duplicate);
            let sack = rx.make_sack();
            assert_eq!(sack.cum_tsn_ack, 0);
            assert_eq!(
                sack.gaps,
                vec![GapBlock { start: 3, end: 60_002 }, GapBlock { start: 60_004, end: 60_004 }]
            );
            assert_eq!(sack.dup_tsns, vec![5]);
        }
        // TSN 1 arrives: cum moves to 1, the gaps shift by one.
        assert_eq!(rx.handle_data(whole(1, 0, 0)), DataOutcome::Accepted);
        assert_eq!(rx.make_sack().gaps[0], GapBlock { start: 2, end: 60_001 });
        // TSN 2 fills the hole: cum jumps over the run to 60002.
        assert_eq!(rx.handle_data(whole(2, 0, 0)), DataOutcome::Accepted);
        let sack = rx.make_sack();
        assert_eq!(sack.cum_tsn_ack, 60_002);
        assert_eq!(sack.gaps, vec![GapBlock { start: 2, end: 2 }]);
        // FORWARD TSN to 60003 absorbs the last run.
        forward(&mut rx, 60_003, vec![]);
        assert_eq!(rx.cum_tsn(), 60_004);
        assert!(rx.make_sack().gaps.is_empty());
    }

    #[test]
    fn a_forward_tsn_with_thousands_of_wide_skips_costs_per_entry_not_per_ssn() {
        // Before the review fix each entry stepped through up to 32767 SSNs one by one:
        // 16k entries in one 64 KiB packet meant ~5e8 map operations on the I/O thread.
        let mut rx = Rx::new(100, 1 << 20, 1 << 16);
        let mut ssn = 0u16;
        let entries: Vec<(u16, u16)> = (0..16_000)
            .map(|_| {
                ssn = ssn.wrapping_add(0x7ffe);
                (1, ssn)
            })
            .collect();
        forward(&mut rx, 100, entries);
        assert!(taken(&mut rx).is_empty());
        let next = ssn.wrapping_add(1);
        assert_eq!(rx.handle_data(whole(101, next, b'x')), DataOutcome::Accepted);
        assert_eq!(taken(&mut rx), b"x");
    }
}

// ---- Congestion control and SACK timing (RFC 9260 §6.2, §7.2; issue 5) ----

mod congestion {
    use super::*;

    const MSG: usize = 16 * 1024;

    /// Moves `total` bytes A -> B in 16 KiB ordered reliable messages (A keeps at most
    /// 4 MiB buffered, like the benchmark) and checks every message arrives intact and in
    /// order. Returns the virtual time taken and both sides' stats.
    fn bulk(seed: u64, net: NetConfig, total: usize) -> (Duration, SctpStats, SctpStats) {
        let mut p = Pair::new(seed, net);
        p.connect(false);
        // Like the napi host: up to 32 datagrams fed before a drain.
        p.batch = 32;
        rtt_sample_for_b(&mut p);
        let n = total / MSG;
        let start = p.now;
        let end = start + Duration::from_secs(600);
        let mut sent = 0usize;
        let mut got = 0usize;
        while got < n {
            assert!(p.now < end, "{} of {n} messages after 600 s", got);
            let now = p.now;
            while sent < n && p.sides[0].buffered_amount(0) < 4 * 1024 * 1024 {
                let m = message(u32::try_from(sent).unwrap(), MSG);
                p.sides[0]
                    .send(now, 0, 51, &m, SendOptions::default())
                    .unwrap();
                sent += 1;
            }
            assert!(p.step(), "idle before the transfer completed");
            for (stream, ppid, data) in p.take_messages(1) {
                assert_eq!((stream, ppid), (0, 51));
                assert!(
                    data == message(u32::try_from(got).unwrap(), MSG),
                    "message {got} corrupted or out of order"
                );
                got += 1;
            }
            p.events[0].clear();
        }
        (p.now - start, p.sides[0].stats(), p.sides[1].stats())
    }

    /// B sends one message and gets its SACK: B has an RTT sample, as a data channel's
    /// receiver has from the DCEP open exchange.
    fn rtt_sample_for_b(p: &mut Pair) {
        let now = p.now;
        p.sides[1]
            .send(now, 1, 50, b"open", SendOptions::default())
            .unwrap();
        p.run_until(Duration::from_secs(5), |p| {
            p.sides[1].stats().srtt_micros.is_some() && p.queue.is_empty()
        });
        assert_eq!(p.take_messages(0).len(), 1);
    }

    /// Time the initial 1 MiB receive window allows for `total` bytes: a window per RTT.
    fn window_limited(total: usize, rtt: Duration) -> Duration {
        rtt.mul_f64(total as f64 / DEFAULT_RECEIVE_WINDOW as f64)
    }

    fn figure(
        name: &str,
        total: usize,
        rtt: Duration,
        took: Duration,
        a: &SctpStats,
        b: &SctpStats,
    ) -> f64 {
        let limit = window_limited(total, rtt);
        let ratio = limit.as_secs_f64() / took.as_secs_f64();
        eprintln!(
            "{name}: {} MiB over {rtt:?} RTT in {took:?} (virtual) = {:.1} MB/s; \
             window-limited (1 MiB / RTT) {limit:?} = {:.1} MB/s; {:.0} % of it; \
             sender cwnd {} ssthresh {} SACKs received {} fast rtx {} T3 {}; \
             receiver window {} dropped {}",
            total >> 20,
            total as f64 / took.as_secs_f64() / 1e6,
            total as f64 / limit.as_secs_f64() / 1e6,
            ratio * 100.0,
            a.cwnd,
            a.ssthresh,
            a.packets_received,
            a.fast_retransmits,
            a.t3_expirations,
            b.receive_window,
            b.dropped_receive_window,
        );
        ratio
    }

    /// 16 MiB over a lossless 20 ms RTT path (virtual clock, so the figure is
    /// deterministic), with the receiver fed 32 datagrams per drain like the napi host: at
    /// least 60 % of what the initial 1 MiB window allows (issue 5). Before this change
    /// (one SACK per drain, 1 MTU of growth per SACK, ssthresh at the first a_rwnd) it
    /// took 3.3 s, 10 %; now 0.33 s, 97 % (the window grows to 4 MiB on the way).
    #[test]
    fn sixteen_mib_over_20ms_rtt_reaches_60_percent_of_window_limited() {
        let rtt = Duration::from_millis(20);
        let net = NetConfig {
            delay: rtt / 2,
            ..NetConfig::default()
        };
        let total = 16 << 20;
        let (took, a, b) = bulk(5, net, total);
        let ratio = figure("20 ms RTT", total, rtt, took, &a, &b);
        assert!(ratio >= 0.6, "{:.0} % of window-limited", ratio * 100.0);
    }

    /// The same over 100 ms RTT: the window grows past 1 MiB, so more than the initial
    /// window allows is possible; asserted: at least half of the 1 MiB figure (before:
    /// 16.7 s, 10 %; now 1.65 s, 97 %).
    #[test]
    fn sixteen_mib_over_100ms_rtt() {
        let rtt = Duration::from_millis(100);
        let net = NetConfig {
            delay: rtt / 2,
            ..NetConfig::default()
        };
        let total = 16 << 20;
        let (took, a, b) = bulk(6, net, total);
        let ratio = figure("100 ms RTT", total, rtt, took, &a, &b);
        assert!(ratio >= 0.5, "{:.0} % of window-limited", ratio * 100.0);
        assert!(
            b.receive_window > DEFAULT_RECEIVE_WINDOW,
            "window stayed at {}",
            b.receive_window
        );
    }

    /// 10 % loss each way, 5 % duplication, reordering (jitter), 20 ms RTT: everything is
    /// delivered intact and in order (checked in `bulk`); the time is printed (22.3 s;
    /// 23.6 s before the loss-recovery changes of `loss_recovery` below, 29.2 s before the
    /// congestion-control change: at 10 % loss a loss-based cwnd stays at a few MTUs,
    /// about MTU / RTT x 1.2 / sqrt(p)). Most T3-rtx expiries left are fast
    /// retransmissions lost again, which RFC 9260 §7.2.4 leaves to T3-rtx.
    #[test]
    fn four_mib_with_10_percent_loss_arrive_intact() {
        let net = NetConfig {
            loss: 100,
            dup: 50,
            delay: Duration::from_millis(10),
            jitter: Duration::from_millis(5),
        };
        let total = 4 << 20;
        let (took, a, b) = bulk(7, net, total);
        figure(
            "10 % loss, 20 ms RTT",
            total,
            Duration::from_millis(20),
            took,
            &a,
            &b,
        );
        assert!(a.fast_retransmits > 0);
    }

    /// A quiet connected pair (lossless, no delay).
    fn quiet_pair(seed: u64, cb: SctpConfig) -> Pair {
        let mut p = Pair::with_config(seed, NetConfig::default(), SctpConfig::default(), cb);
        p.connect(false);
        p.run_until(Duration::from_secs(1), |p| p.queue.is_empty());
        p
    }

    /// Everything `side` wants to send now, without delivering it.
    fn outputs(p: &mut Pair, side: usize) -> Vec<Vec<u8>> {
        let now = p.now;
        std::iter::from_fn(|| p.sides[side].poll_transmit(now)).collect()
    }

    fn chunks(pkt: &[u8]) -> Vec<wire::Chunk> {
        wire::Packet::decode(pkt).unwrap().chunks
    }

    fn sacks(pkts: &[Vec<u8>]) -> Vec<wire::SackChunk> {
        pkts.iter()
            .flat_map(|p| chunks(p))
            .filter_map(|c| match c {
                wire::Chunk::Sack(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    fn data_packets(pkts: &[Vec<u8>]) -> usize {
        pkts.iter()
            .filter(|p| chunks(p).iter().any(|c| matches!(c, wire::Chunk::Data(_))))
            .count()
    }

    /// A full-sized DATA packet carries this much payload.
    const FULL: usize = 1160 - 12 - 16;

    /// RFC 9260 §6.2: a SACK for at least every second DATA packet, even when the host
    /// feeds a whole backlog before it drains (before: one SACK for the lot; now one SACK
    /// chunk per pair, bundled); a lone packet waits for the 200 ms delayed-ack timer
    /// unless it has the I bit, which we set on the last chunk before our queue runs dry;
    /// a gap is acknowledged at once.
    #[test]
    fn a_sack_for_every_second_data_packet_fed_in_one_batch() {
        let mut p = quiet_pair(40, SctpConfig::default());
        let now = p.now;
        p.sides[0]
            .send(now, 0, 51, &vec![7u8; 4 * FULL], SendOptions::default())
            .unwrap();
        let pkts = outputs(&mut p, 0);
        assert_eq!(data_packets(&pkts), 4);
        for pkt in &pkts {
            p.sides[1].handle_packet(now, pkt);
        }
        let out = outputs(&mut p, 1);
        let acks = sacks(&out);
        assert_eq!(acks.len(), 2, "{acks:?}");
        assert!(
            acks[0].cum_tsn_ack.wrapping_add(2) == acks[1].cum_tsn_ack,
            "{acks:?}"
        );
        for pkt in &out {
            p.sides[0].handle_packet(now, pkt);
        }

        // A lone packet from a sender that does not set the I bit: no SACK until the
        // delayed-ack timer.
        let vtag = wire::Packet::decode(&pkts[0])
            .unwrap()
            .header
            .verification_tag;
        let next_tsn = acks[1].cum_tsn_ack.wrapping_add(1);
        p.sides[1].handle_packet(now, &packet(vtag, vec![data(next_tsn, b"lone")]));
        assert!(sacks(&outputs(&mut p, 1)).is_empty());
        let due = p.sides[1].poll_timeout().unwrap();
        assert!(due <= now + Duration::from_millis(200));
        p.sides[1].handle_timeout(due);
        let out = outputs(&mut p, 1);
        assert_eq!(sacks(&out).len(), 1);
        for pkt in &out {
            p.sides[0].handle_packet(now, pkt);
        }

        // Our own lone message carries the I bit (RFC 9260 §3.3.1): acknowledged at once.
        p.sides[0]
            .send(now, 0, 51, &[8u8; 100], SendOptions::default())
            .unwrap();
        let pkts = outputs(&mut p, 0);
        assert_eq!(pkts.len(), 1);
        assert!(chunks(&pkts[0])
            .iter()
            .any(|c| matches!(c, wire::Chunk::Data(d) if d.immediate)));
        p.sides[1].handle_packet(now, &pkts[0]);
        let out = outputs(&mut p, 1);
        assert_eq!(sacks(&out).len(), 1);
        for pkt in &out {
            p.sides[0].handle_packet(now, pkt);
        }

        // Out of order: the packet after a hole is acknowledged at once, with the gap.
        p.sides[0]
            .send(now, 0, 51, &vec![9u8; 2 * FULL], SendOptions::default())
            .unwrap();
        let pkts = outputs(&mut p, 0);
        assert_eq!(pkts.len(), 2);
        p.sides[1].handle_packet(now, &pkts[1]);
        let acks = sacks(&outputs(&mut p, 1));
        assert_eq!(acks.len(), 1);
        assert_eq!(acks[0].gaps.len(), 1);
    }

    /// RFC 9260 §7.2.1 with byte counting: a SACK newly acknowledging two full packets
    /// while the window was in use grows cwnd by those bytes (at most 2 MTUs), not by
    /// one MTU as before.
    #[test]
    fn slow_start_grows_cwnd_by_the_bytes_a_sack_acknowledges() {
        let mut p = quiet_pair(41, SctpConfig::default());
        let now = p.now;
        let initial = p.sides[0].stats().cwnd;
        assert_eq!(initial, 4380);
        p.sides[0]
            .send(now, 0, 51, &vec![1u8; 20 * FULL], SendOptions::default())
            .unwrap();
        let pkts = outputs(&mut p, 0);
        assert_eq!(data_packets(&pkts), 4, "cwnd 4380 takes four full packets");
        p.sides[1].handle_packet(now, &pkts[0]);
        p.sides[1].handle_packet(now, &pkts[1]);
        let acks = outputs(&mut p, 1);
        assert_eq!(sacks(&acks).len(), 1);
        p.sides[0].handle_packet(now, &acks[0]);
        assert_eq!(p.sides[0].stats().cwnd, initial + 2 * FULL);
    }

    /// Grows A's cwnd with a lossless transfer that ends application-limited, everything
    /// acknowledged. Returns A's cwnd.
    fn grown_cwnd(p: &mut Pair) -> usize {
        let now = p.now;
        for i in 0..40u32 {
            p.sides[0]
                .send(now, 0, 51, &message(i, 8 * 1024), SendOptions::default())
                .unwrap();
        }
        p.run_until(Duration::from_secs(5), |p| {
            p.sides[0].buffered_amount(0) == 0 && p.queue.is_empty()
        });
        let cwnd = p.sides[0].stats().cwnd;
        assert!(cwnd >= 30 * 1160, "cwnd only {cwnd}");
        assert_eq!(p.sides[0].stats().flight_size, 0);
        cwnd
    }

    /// RFC 9260 §6.1 D (Max.Burst = 4): with a large cwnd and nothing in flight, new data
    /// goes out 4 packets at a time, and each SACK releases at most 4 more (before: the
    /// whole cwnd in one burst).
    #[test]
    fn max_burst_limits_new_packets_per_transmit_opportunity() {
        let mut p = quiet_pair(42, SctpConfig::default());
        grown_cwnd(&mut p);
        let now = p.now;
        p.sides[0]
            .send(now, 0, 51, &vec![2u8; 40 * FULL], SendOptions::default())
            .unwrap();
        let first = outputs(&mut p, 0);
        assert_eq!(data_packets(&first), MAX_BURST);
        // One SACK (for two packets): 4 more.
        p.sides[1].handle_packet(now, &first[0]);
        p.sides[1].handle_packet(now, &first[1]);
        let acks = outputs(&mut p, 1);
        assert_eq!(sacks(&acks).len(), 1);
        p.sides[0].handle_packet(now, &acks[0]);
        let second = outputs(&mut p, 0);
        assert_eq!(data_packets(&second), MAX_BURST);
        // Three SACKs handled before one drain (bundled in one packet): three
        // opportunities, 12 packets.
        for pkt in first[2..].iter().chain(&second) {
            p.sides[1].handle_packet(now, pkt);
        }
        let acks = outputs(&mut p, 1);
        assert_eq!((acks.len(), sacks(&acks).len()), (1, 3));
        p.sides[0].handle_packet(now, &acks[0]);
        assert_eq!(data_packets(&outputs(&mut p, 0)), 3 * MAX_BURST);
    }

    /// RFC 9260 §7.2.1: no data sent for an RTO halves cwnd, per RTO, down to 4 MTUs
    /// (before: the old cwnd was used after any pause).
    #[test]
    fn cwnd_halves_per_rto_of_silence_down_to_four_mtus() {
        // (silence, halvings expected)
        for (seed, silence_rtos, halvings) in [(43, 0.9, 0), (46, 2.5, 2), (47, 100_000.0, 64)] {
            let mut p = quiet_pair(seed, SctpConfig::default());
            let cwnd = grown_cwnd(&mut p);
            let rto = Duration::from_micros(p.sides[0].stats().rto_micros);
            // The last DATA went out before the transfer's last SACK came back.
            p.now += rto.mul_f64(silence_rtos);
            let now = p.now;
            p.sides[0]
                .send(now, 0, 51, b"x", SendOptions::default())
                .unwrap();
            outputs(&mut p, 0);
            let mut expected = cwnd;
            for _ in 0..halvings {
                expected = (expected / 2).max(4 * 1160);
            }
            assert_eq!(
                p.sides[0].stats().cwnd,
                expected,
                "after {silence_rtos} RTOs"
            );
        }
    }

    /// Runs everything due up to `at`, then sets the clock to `at`.
    fn advance_to(p: &mut Pair, at: Time) {
        while p.now < at {
            let next_pkt = p.queue.keys().next().map(|k| k.0);
            let next_timer = p.sides.iter().filter_map(|s| s.poll_timeout()).min();
            match [next_pkt, next_timer].into_iter().flatten().min() {
                Some(t) if t <= at => {
                    p.step();
                }
                _ => p.now = at,
            }
        }
        p.pump();
    }

    /// Sends 5 MiB A -> B over `delay` each way (B has an RTT sample), B reading as it
    /// goes unless `reader` is false; A sends all at once, or with `paced` 64 KiB every
    /// 5 ms (12.5 MiB/s, like a sender that CPU or the application limits). Returns B's
    /// stats.
    fn window_after(
        seed: u64,
        delay: Duration,
        reader: bool,
        paced: bool,
        cb: SctpConfig,
    ) -> SctpStats {
        let net = NetConfig {
            delay,
            ..NetConfig::default()
        };
        let mut p = Pair::with_config(seed, net, SctpConfig::default(), cb);
        p.connect(false);
        rtt_sample_for_b(&mut p);
        p.drain[1] = reader;
        let now = p.now;
        if paced {
            for i in 0..320u32 {
                if i % 4 == 0 {
                    advance_to(&mut p, now + Duration::from_millis(5) * (i / 4));
                }
                let t = p.now;
                p.sides[0]
                    .send(t, 0, 51, &message(i, MSG), SendOptions::default())
                    .unwrap();
            }
        } else {
            for i in 0..320u32 {
                p.sides[0]
                    .send(now, 0, 51, &message(i, MSG), SendOptions::default())
                    .unwrap();
            }
        }
        if reader {
            p.run_until(Duration::from_secs(30), |p| {
                p.sides[0].buffered_amount(0) == 0
            });
        } else {
            p.run_until(Duration::from_secs(30), |p| {
                p.sides[1].stats().receive_buffered >= 900 << 10
            });
            p.run_until(Duration::from_secs(5), |p| p.queue.is_empty());
        }
        p.sides[1].stats()
    }

    /// The receive window doubles, up to `max_receive_window`, while whole windows arrive
    /// within two round trips (the window limits the sender: 20 ms RTT, bulk) and the
    /// application keeps up. It stays at 1 MiB when windows take many round trips (a
    /// sender limited by something else, 1 ms RTT: growing would only queue more) and
    /// for an application that does not read (the bytes held stay within the window).
    #[test]
    fn receive_window_grows_where_the_bandwidth_delay_product_needs_it() {
        let cb = SctpConfig {
            max_receive_window: 2 << 20,
            ..SctpConfig::default()
        };
        let b = window_after(44, Duration::from_millis(10), true, false, cb.clone());
        assert_eq!(b.receive_window, 2 << 20);
        let b = window_after(45, Duration::from_micros(500), true, true, cb.clone());
        assert_eq!(b.receive_window, DEFAULT_RECEIVE_WINDOW);
        let b = window_after(46, Duration::from_millis(10), false, false, cb);
        assert_eq!(b.receive_window, DEFAULT_RECEIVE_WINDOW);
        assert!(b.receive_buffered <= DEFAULT_RECEIVE_WINDOW * MAX_RECEIVE_BUFFER_FACTOR);
    }

    /// RFC 3758 §3.5 C2 moves the ack point over abandoned chunks; also passing unordered
    /// messages the peer acknowledged whole lets one FORWARD TSN skip a whole lossy
    /// stretch (before: one round trip per such message, and lossy tails took minutes).
    #[test]
    fn forward_tsn_passes_abandoned_chunks_and_wholly_acked_unordered_messages() {
        let rto = (
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(60),
        );
        let mut tx = tx::Tx::new(100, 1 << 20, 1160, rto);
        tx.pr_supported = true;
        let now = Time::from_millis(1000);
        let opts = SendOptions {
            unordered: true,
            max_retransmits: Some(0),
            ..Default::default()
        };
        for _ in 0..3 {
            tx.enqueue(now, 3, 51, vec![5u8; 100], opts);
        }
        let mut stats = SctpStats::default();
        let mut out = Vec::new();
        tx.fill(now, &mut out, 1160, &mut stats);
        assert_eq!(stats.data_chunks_sent, 3);
        // TSNs 100, 101, 102: the peer has only 101.
        let sack = wire::SackChunk {
            cum_tsn_ack: 99,
            a_rwnd: 1 << 20,
            gaps: vec![wire::GapBlock { start: 2, end: 2 }],
            dup_tsns: Vec::new(),
        };
        tx.handle_sack(now, &sack, &mut stats);
        // T3: 100 and 102 are abandoned (no retransmission allowed).
        assert!(tx.on_t3(now + Duration::from_secs(1), &mut stats));
        let f = tx.forward_tsn().unwrap();
        assert_eq!(f.new_cum_tsn, 102);
    }
}

// ---- issue 5: memory bounds, zero window, error counter, heartbeat RTT ----

/// Steps `side` alone through its own timers until it sends a HEARTBEAT; returns its info
/// and the time it was sent. Whatever else the side sends is dropped.
fn next_heartbeat(p: &mut Pair, side: usize) -> (Vec<u8>, Time) {
    for _ in 0..100 {
        let Some(t) = p.sides[side].poll_timeout() else { break };
        p.now = p.now.max(t);
        let now = p.now;
        p.sides[side].handle_timeout(now);
        while let Some(pkt) = p.sides[side].poll_transmit(now) {
            for c in wire::Packet::decode(&pkt).unwrap().chunks {
                if let wire::Chunk::Heartbeat { info } = c {
                    return (info, now);
                }
            }
        }
    }
    panic!("no heartbeat");
}

#[test]
fn heartbeat_rtt_comes_from_our_send_time_not_the_echoed_bytes() {
    // B has sent no data, so it has no RTT sample yet: the heartbeat gives the first.
    let (mut p, vtag_b, _) = connected_pair_and_tags(501);
    p.run_until(Duration::from_secs(1), |p| p.queue.is_empty());
    let before = p.sides[1].stats();
    assert_eq!(before.srtt_micros, None);
    let (info, sent) = next_heartbeat(&mut p, 1);
    assert!(info.len() >= 8, "the info starts with our nonce");
    let ack = |info: Vec<u8>| packet(vtag_b, vec![wire::Chunk::HeartbeatAck { info }]);
    p.now = sent + Duration::from_millis(40);
    let now = p.now;
    // The nonce echoed with a forged send time 50 s in the past.
    let forged_time = (sent - Duration::from_secs(50)).as_micros();
    let mut forged = info[..8].to_vec();
    forged.extend_from_slice(&forged_time.to_be_bytes());
    if forged != info {
        p.sides[1].handle_packet(now, &ack(forged));
    }
    // An unknown nonce.
    let mut unknown = info.clone();
    unknown[0] ^= 0x80;
    p.sides[1].handle_packet(now, &ack(unknown));
    let after = p.sides[1].stats();
    assert_eq!(after.srtt_micros, None, "a forged echo gave an RTT sample");
    assert_eq!(after.rto_micros, before.rto_micros);
    // The genuine echo, 40 ms after we sent it: that is the sample.
    p.sides[1].handle_packet(now, &ack(info.clone()));
    let genuine = p.sides[1].stats();
    assert_eq!(genuine.srtt_micros, Some(40_000));
    // RTO = srtt + 4 * rttvar = 40 + 4 * 20 ms, raised to rto_min (200 ms).
    assert_eq!(genuine.rto_micros, 200_000);
    // The same echo again is stale: no second sample.
    p.now += Duration::from_secs(20);
    let now = p.now;
    p.sides[1].handle_packet(now, &ack(info));
    assert_eq!(p.sides[1].stats().srtt_micros, Some(40_000));
}

#[test]
fn send_buffer_is_bounded_and_keeps_what_it_accepted() {
    let mut p = Pair::new(511, NetConfig { delay: Duration::from_millis(5), ..Default::default() });
    p.connect(false);
    let now = p.now;
    // Large messages, queued faster than anything can leave.
    let mut accepted = 0usize;
    let mut sent = Vec::new();
    let mut refused = None;
    for i in 0..1024u32 {
        let m = message(i, 64 * 1024);
        match p.sides[0].send(now, 1, 53, &m, SendOptions::default()) {
            Ok(()) => {
                accepted += m.len();
                sent.push(m);
            }
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    assert_eq!(refused, Some(SctpError::SendBufferFull), "after {accepted} bytes");
    let stats = p.sides[0].stats();
    assert!(stats.send_memory <= MAX_SEND_BUFFER, "{}", stats.send_memory);
    assert!(accepted + 64 * 1024 + SEND_MESSAGE_OVERHEAD > MAX_SEND_BUFFER - sent.len() * SEND_MESSAGE_OVERHEAD);
    // The refused message is not counted; the channel still works once the buffer drains.
    assert_eq!(p.sides[0].buffered_amount(1), accepted);
    assert_eq!(
        p.sides[0].send(now, 1, 53, &message(0, 64 * 1024), SendOptions::default()),
        Err(SctpError::SendBufferFull)
    );
    assert_eq!(p.sides[0].buffered_amount(1), accepted);
    let mut got = Vec::new();
    p.run_until(Duration::from_secs(600), |p| {
        got.extend(p.take_messages(1).into_iter().map(|(_, _, d)| d));
        got.len() == sent.len()
    });
    assert!(got == sent, "every accepted message arrives intact and in order");
    // bufferedAmount is 0 once all is sent; the memory is free once all is acknowledged.
    assert_eq!(p.sides[0].buffered_amount(1), 0);
    p.run_until(Duration::from_secs(60), |p| p.sides[0].stats().send_memory == 0);
    let now = p.now;
    assert_eq!(p.sides[0].send(now, 1, 53, b"again", SendOptions::default()), Ok(()));
}

#[test]
fn send_buffer_counts_per_message_cost_of_tiny_messages() {
    let mut p = Pair::new(512, NetConfig { delay: Duration::from_millis(5), ..Default::default() });
    p.connect(false);
    let now = p.now;
    let mut n = 0u32;
    while p.sides[0].send(now, 2, 51, &n.to_be_bytes(), SendOptions::default()).is_ok() {
        n += 1;
        assert!(n < 10_000_000, "no bound on tiny messages");
    }
    let per = 4 + SEND_MESSAGE_OVERHEAD;
    eprintln!("{n} messages of 4 bytes fill the send buffer (SEND_MESSAGE_OVERHEAD {SEND_MESSAGE_OVERHEAD}, SEND_CHUNK_OVERHEAD {SEND_CHUNK_OVERHEAD})");
    assert_eq!(n as usize, MAX_SEND_BUFFER / per);
    assert!(p.sides[0].stats().send_memory <= MAX_SEND_BUFFER);
    let mut got = 0u32;
    p.run_until(Duration::from_secs(600), |p| {
        for (_, _, d) in p.take_messages(1) {
            assert_eq!(d, got.to_be_bytes());
            got += 1;
        }
        got == n
    });
}

/// Side 0 of a connected pair, talking to a script instead of side 1: runs side 0 alone
/// until `until`, handing each packet it sends to `peer`, whose answer (if any) side 0
/// receives at once. Returns side 0's events.
fn talk_to_script(
    p: &mut Pair,
    until: Time,
    mut peer: impl FnMut(Time, &wire::Packet, &mut Association) -> Option<Vec<u8>>,
) -> Vec<SctpEvent> {
    let mut events = Vec::new();
    loop {
        let now = p.now;
        while let Some(pkt) = p.sides[0].poll_transmit(now) {
            let decoded = wire::Packet::decode(&pkt).unwrap();
            if let Some(reply) = peer(now, &decoded, &mut p.sides[0]) {
                p.sides[0].handle_packet(now, &reply);
            }
        }
        while let Some(e) = p.sides[0].poll_event() {
            events.push(e);
        }
        let Some(next) = p.sides[0].poll_timeout() else { break };
        if next > until {
            break;
        }
        p.now = p.now.max(next);
        let now = p.now;
        p.sides[0].handle_timeout(now);
    }
    events
}

fn data_tsns(pkt: &wire::Packet) -> Vec<u32> {
    pkt.chunks
        .iter()
        .filter_map(|c| match c {
            wire::Chunk::Data(d) => Some(d.tsn),
            _ => None,
        })
        .collect()
}

fn sack(vtag: u32, cum_tsn_ack: u32, a_rwnd: u32) -> Vec<u8> {
    packet(
        vtag,
        vec![wire::Chunk::Sack(wire::SackChunk { cum_tsn_ack, a_rwnd, gaps: vec![], dup_tsns: vec![] })],
    )
}

#[test]
fn sacks_that_acknowledge_nothing_new_do_not_keep_a_dead_peer_alive() {
    // The peer answers every packet with a SACK that acknowledges nothing and advertises
    // 1100 bytes: room for every chunk outstanding. Before the fix a SACK leaving us less
    // than a packet of window reset the error counter, so this went on forever.
    let (mut p, _, next_tsn) = connected_pair_and_tags(521);
    let tag_a = p.sides[0].debug_my_tag();
    let cum = next_tsn.wrapping_sub(1);
    let now = p.now;
    for i in 0..10u8 {
        p.sides[0].send(now, 9, 51, &[i; 100], SendOptions::default()).unwrap();
    }
    let until = p.now + Duration::from_secs(6 * 3600);
    let events = talk_to_script(&mut p, until, |_, pkt, _| {
        (!data_tsns(pkt).is_empty()).then(|| sack(tag_a, cum, 1100))
    });
    assert!(
        events.iter().any(|e| matches!(e, SctpEvent::Aborted { .. })),
        "still up after 6 h of SACKs that acknowledge nothing: {}",
        p.sides[0].debug_state()
    );
    let t3 = p.sides[0].stats().t3_expirations;
    assert!((10..=11).contains(&t3), "{t3} timeouts");
}

#[test]
fn a_peer_that_keeps_its_window_closed_gets_one_probe_per_timeout_and_nothing_grows() {
    let (mut p, _, next_tsn) = connected_pair_and_tags(522);
    let tag_a = p.sides[0].debug_my_tag();
    let now = p.now;
    for i in 0..20u8 {
        p.sides[0].send(now, 9, 51, &[i; 100], SendOptions::default()).unwrap();
    }
    // The receiver takes these 20 and closes its window.
    let mut acked = next_tsn.wrapping_sub(1);
    let until = p.now + Duration::from_secs(1);
    talk_to_script(&mut p, until, |_, pkt, _| {
        let tsns = data_tsns(pkt);
        let last = *tsns.last()?;
        acked = last;
        let window = if last == next_tsn.wrapping_add(19) { 0 } else { 64 * 1024 };
        Some(sack(tag_a, last, window))
    });
    assert_eq!(acked, next_tsn.wrapping_add(19));
    assert_eq!(p.sides[0].stats().flight_size, 0);
    // More data for a closed window; from now on the receiver answers every probe with
    // its closed window and acknowledges nothing.
    let closed_at = p.now;
    let now = p.now;
    for i in 0..100u8 {
        p.sides[0].send(now, 9, 51, &[i; 100], SendOptions::default()).unwrap();
    }
    let mut probes: Vec<(Time, Vec<u32>)> = Vec::new();
    let mut refused = 0;
    let until = p.now + Duration::from_secs(3 * 3600);
    let events = talk_to_script(&mut p, until, |now, pkt, a| {
        // The application keeps queueing: the send buffer stops it.
        let mut n = 0;
        while a.send(now, 9, 51, &[7; 64 * 1024], SendOptions::default()).is_ok() {
            n += 1;
            assert!(n < 1000);
        }
        refused += 1;
        assert!(a.stats().send_memory <= MAX_SEND_BUFFER);
        assert_eq!(a.debug_control_len(), 0, "control chunks pile up");
        let tsns = data_tsns(pkt);
        if tsns.is_empty() {
            return None;
        }
        probes.push((now, tsns));
        Some(sack(tag_a, acked, 0))
    });
    assert!(!events.iter().any(|e| matches!(e, SctpEvent::Aborted { .. })), "an answering peer may keep its window closed");
    assert!(p.sides[0].is_established());
    assert!(refused > 0);
    // One chunk per probe, always the same one, the first one RTO after the window closed,
    // then at doubling intervals up to rto_max.
    assert!(probes.len() >= 10, "{} probes", probes.len());
    let probe_tsn = acked.wrapping_add(1);
    for (_, tsns) in &probes {
        assert_eq!(tsns, &vec![probe_tsn]);
    }
    let rto_min = SctpConfig::default().rto_min;
    let rto_max = SctpConfig::default().rto_max;
    assert!(probes[0].0 - closed_at >= rto_min, "first probe {:?} after the window closed", probes[0].0 - closed_at);
    let gaps: Vec<Duration> = probes.windows(2).map(|w| w[1].0 - w[0].0).collect();
    for w in gaps.windows(2) {
        assert!(w[1] >= w[0], "probe intervals {gaps:?}");
    }
    assert_eq!(*gaps.last().unwrap(), rto_max);
    let stats = p.sides[0].stats();
    assert!(stats.send_memory <= MAX_SEND_BUFFER);
    // The peer falls silent: Association.Max.Retrans unanswered probes end it.
    let until = p.now + Duration::from_secs(3600);
    let events = talk_to_script(&mut p, until, |_, _, _| None);
    assert!(events.iter().any(|e| matches!(e, SctpEvent::Aborted { .. })));
}

// ---- Recovery from loss (RFC 9260 §6.2, §6.7, §7.2.4; the lossy benchmark row) ----

mod loss_recovery {
    use super::super::rx::{DataOutcome, Rx};
    use super::super::tx::Tx;
    use super::super::wire::{DataChunk, GapBlock, SackChunk};
    use super::*;

    /// Full-sized DATA payload of a 1160-byte packet.
    const FULL: usize = 1160 - 12 - 16;

    fn whole(tsn: u32) -> DataChunk {
        DataChunk {
            immediate: false,
            unordered: false,
            beginning: true,
            ending: true,
            tsn,
            stream: 1,
            ssn: u16::try_from(tsn).unwrap_or(0),
            ppid: 53,
            payload: vec![1; 100],
        }
    }

    /// RFC 9260 §6.7 (and RFC 5681 §4.2): the packet that fills the last gap is
    /// acknowledged at once: it is usually a retransmission the sender waits on. Before,
    /// only a packet leaving a gap open was; one that closed it waited for the second
    /// packet or the 200 ms delayed-ack timer.
    #[test]
    fn the_packet_that_fills_the_last_gap_is_acknowledged_at_once() {
        let mut rx = Rx::new(1, 1 << 20, 1 << 16);
        assert_eq!(rx.handle_data(whole(1)), DataOutcome::Accepted);
        assert!(!rx.sack_now, "in order: the SACK may wait");
        assert_eq!(rx.handle_data(whole(3)), DataOutcome::Accepted);
        assert!(rx.sack_now, "a gap");
        let sack = rx.make_sack();
        assert_eq!(sack.gaps, vec![GapBlock { start: 2, end: 2 }]);
        assert!(!rx.sack_now);
        assert_eq!(rx.handle_data(whole(2)), DataOutcome::Accepted);
        assert!(rx.sack_now, "the gap is filled: a SACK at once");
        assert_eq!(rx.make_sack().cum_tsn_ack, 3);
        // In order again, no gap: may wait.
        assert_eq!(rx.handle_data(whole(4)), DataOutcome::Accepted);
        assert!(!rx.sack_now);
    }

    /// RFC 9260 §6.2: "The SCTP endpoint MUST report as many Gap Ack Blocks as can fit in
    /// a single SACK chunk limited by the current path MTU" (before: at most 64, fewer
    /// than a 10 % loss opens across a 1 MiB window, and the sender then never hears of
    /// what arrived above the 64th).
    #[test]
    fn a_sack_reports_as_many_gap_blocks_as_fit_in_a_packet() {
        let mut rx = Rx::new(1, 1 << 20, 1 << 16);
        rx.set_packet_size(1160);
        // 400 holes: every second TSN lost.
        for t in (1..=801).step_by(2) {
            assert_eq!(rx.handle_data(whole(t)), DataOutcome::Accepted);
        }
        for _ in 0..MAX_DUP_TSNS {
            assert_eq!(rx.handle_data(whole(3)), DataOutcome::Duplicate);
        }
        let sack = rx.make_sack();
        assert_eq!(sack.cum_tsn_ack, 1);
        assert_eq!(sack.dup_tsns.len(), MAX_DUP_TSNS);
        let mut encoded = Vec::new();
        wire::Chunk::Sack(sack.clone()).encode(&mut encoded);
        assert!(12 + encoded.len() <= 1160, "{} bytes", encoded.len());
        assert!(12 + encoded.len() + 4 > 1160, "room for one more block: {}", sack.gaps.len());
        assert_eq!(sack.gaps.len(), (1160 - 12 - 16 - 4 * MAX_DUP_TSNS) / 4);
        for (i, g) in sack.gaps.iter().enumerate() {
            let off = u16::try_from(2 * i + 2).unwrap();
            assert_eq!(*g, GapBlock { start: off, end: off });
        }
    }

    fn new_tx() -> Tx {
        Tx::new(
            1,
            1 << 20,
            1160,
            (Duration::from_secs(1), Duration::from_millis(200), Duration::from_secs(60)),
        )
    }

    /// The DATA chunks of what `fill` sends now, one packet per call: (TSN, I bit).
    fn fill_all(tx: &mut Tx, now: Time, stats: &mut SctpStats) -> Vec<(u32, bool)> {
        let mut sent = Vec::new();
        loop {
            let mut out = vec![0u8; 12];
            tx.fill(now, &mut out, 1160, stats);
            if out.len() == 12 {
                return sent;
            }
            let mut rest = out.get(12..).unwrap_or(&[]);
            while rest.len() >= 16 {
                let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
                sent.push((u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]), rest[1] & 8 != 0));
                rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
            }
        }
    }

    fn sack(cum_tsn_ack: u32, gaps: &[(u16, u16)]) -> SackChunk {
        SackChunk {
            cum_tsn_ack,
            a_rwnd: 1 << 20,
            gaps: gaps.iter().map(|&(start, end)| GapBlock { start, end }).collect(),
            dup_tsns: vec![],
        }
    }

    /// RFC 9260 §3.3.1: the chunk that fills a small cwnd carries the I bit, so the peer
    /// does not hold its SACK for the delayed-ack timer while we can send nothing (before:
    /// only the last chunk before the queue ran dry had it). After a T3-rtx (cwnd one MTU)
    /// that is the retransmission itself.
    #[test]
    fn the_chunk_that_fills_a_small_cwnd_asks_for_an_immediate_sack() {
        let mut tx = new_tx();
        let mut stats = SctpStats::default();
        let now = Time::from_millis(1_000);
        for i in 0..8u32 {
            tx.enqueue(now, 1, 53, message(i, FULL), SendOptions::default());
        }
        // cwnd 4380: four full packets, the fourth fills it.
        let sent = fill_all(&mut tx, now, &mut stats);
        assert_eq!(sent, vec![(1, false), (2, false), (3, false), (4, true)]);
        // T3-rtx: cwnd one MTU (of which 1132 payload bytes: a second chunk may start
        // below it, RFC 9260 §6.1 B); the one that fills it has the I bit.
        let later = now + tx.rto;
        tx.on_t3(later, &mut stats);
        assert_eq!(tx.cwnd, 1160);
        assert_eq!(fill_all(&mut tx, later, &mut stats), vec![(1, false), (2, true)]);
        // A large cwnd: no I bit, the every-second-packet SACK rule suffices.
        let mut tx = new_tx();
        tx.cwnd = 64 * 1160;
        for i in 0..8u32 {
            tx.enqueue(now, 1, 53, message(i, FULL), SendOptions::default());
        }
        let sent = fill_all(&mut tx, now, &mut stats);
        assert_eq!(sent.len(), MAX_BURST);
        assert!(sent.iter().all(|&(_, i)| !i), "{sent:?}");
    }

    /// RFC 9260 §7.2.4: "If an endpoint is in Fast Recovery and a SACK arrives that
    /// advances the Cumulative TSN Ack Point, the miss indications are incremented for all
    /// TSNs reported missing in the SACK." Before, only TSNs below a newly acknowledged one
    /// were counted, so the second loss of a window was left to T3-rtx when few SACKs for
    /// later data came.
    #[test]
    fn in_fast_recovery_a_cum_ack_advance_counts_every_tsn_reported_missing() {
        let mut tx = new_tx();
        tx.cwnd = 64 * 1160;
        let mut stats = SctpStats::default();
        let now = Time::from_millis(1_000);
        for i in 0..12u32 {
            tx.enqueue(now, 1, 53, message(i, FULL), SendOptions::default());
        }
        // Max.Burst: four packets per transmit opportunity (each SACK is one).
        let tsns = |sent: Vec<(u32, bool)>| sent.into_iter().map(|s| s.0).collect::<Vec<_>>();
        assert_eq!(tsns(fill_all(&mut tx, now, &mut stats)), [1, 2, 3, 4]);
        // TSN 1 is lost: three SACKs report it missing.
        tx.handle_sack(now, &sack(0, &[(2, 2)]), &mut stats);
        assert_eq!(tsns(fill_all(&mut tx, now, &mut stats)), [5, 6, 7, 8]);
        tx.handle_sack(now, &sack(0, &[(2, 3)]), &mut stats);
        assert_eq!(tsns(fill_all(&mut tx, now, &mut stats)), [9, 10, 11, 12]);
        tx.handle_sack(now, &sack(0, &[(2, 4)]), &mut stats);
        assert_eq!(stats.fast_retransmits, 1, "TSN 1");
        assert_eq!(tsns(fill_all(&mut tx, now, &mut stats)), [1]);
        // TSN 5 is lost as well: two SACKs report it missing (6 and 7 newly acked).
        tx.handle_sack(now, &sack(0, &[(2, 4), (6, 6)]), &mut stats);
        tx.handle_sack(now, &sack(0, &[(2, 4), (6, 7)]), &mut stats);
        assert_eq!(stats.fast_retransmits, 1);
        // The retransmission of TSN 1 arrives: cum 4, nothing new above it. In Fast
        // Recovery this is TSN 5's third miss indication.
        tx.handle_sack(now, &sack(4, &[(2, 3)]), &mut stats);
        assert_eq!(stats.fast_retransmits, 2, "TSN 5");
        let sent = fill_all(&mut tx, now, &mut stats);
        assert_eq!(sent.first().map(|s| s.0), Some(5), "{sent:?}");
    }
}

/// Sum of the bytes of the BufferedAmountDecreased events of `side` on `stream`, and how
/// many there were.
fn decreases(p: &Pair, side: usize, stream: u16) -> (usize, usize) {
    p.events[side].iter().fold((0, 0), |(b, n), e| match e {
        SctpEvent::BufferedAmountDecreased { stream: s, bytes } if *s == stream => (b + bytes, n + 1),
        _ => (b, n),
    })
}

#[test]
fn buffered_amount_falls_when_data_is_first_sent_not_when_acknowledged() {
    // webrtc-pc: bufferedAmount falls "when the underlying data transport sends data from
    // its queue". A 50 ms path: the packet is on its way, nothing is acknowledged yet.
    let mut p = Pair::new(601, NetConfig { delay: Duration::from_millis(50), ..Default::default() });
    p.connect(false);
    p.events[0].clear();
    let now = p.now;
    p.sides[0].send(now, 5, 51, b"hello", SendOptions::default()).unwrap();
    assert_eq!(p.sides[0].buffered_amount(5), 5);
    assert_eq!(p.sides[0].stats().buffered_amount, 5);
    let pkt = p.sides[0].poll_transmit(now).expect("the DATA packet");
    assert_eq!(p.sides[0].buffered_amount(5), 0, "sent, so no longer buffered");
    // Reported once the burst is drained.
    assert_eq!(p.sides[0].poll_transmit(now), None);
    assert_eq!(p.sides[0].stats().buffered_amount, 0);
    // The memory bound still counts the unacknowledged chunk.
    assert!(p.sides[0].stats().send_memory >= 5 + SEND_CHUNK_OVERHEAD);
    let mut evs = Vec::new();
    while let Some(e) = p.sides[0].poll_event() {
        evs.push(e);
    }
    assert_eq!(evs, vec![SctpEvent::BufferedAmountDecreased { stream: 5, bytes: 5 }]);
    // Delivered; the acknowledgement frees the memory but reports no second decrease.
    p.sides[1].handle_packet(now, &pkt);
    p.run_until(Duration::from_secs(10), |p| p.sides[0].stats().send_memory == 0);
    assert!(p.take_messages(1).iter().any(|(s, _, d)| *s == 5 && d == b"hello"));
    assert_eq!(decreases(&p, 0, 5), (0, 0), "nothing more after the ack");
}

#[test]
fn buffered_amount_counts_only_what_congestion_control_holds_back() {
    // 1 MiB on a 100 ms path: the first flight leaves the queue at once, the rest as
    // SACKs open the window; every byte is reported exactly once, per packet at most.
    let mut p = Pair::new(602, NetConfig { delay: Duration::from_millis(50), ..Default::default() });
    p.connect(false);
    p.events[0].clear();
    let now = p.now;
    let total = 1024 * 1024;
    for i in 0..16u32 {
        p.sides[0].send(now, 2, 53, &message(i, total / 16), SendOptions::default()).unwrap();
    }
    let mut packets = 0usize;
    while p.sides[0].poll_transmit(now).is_some() {
        packets += 1;
    }
    while let Some(e) = p.sides[0].poll_event() {
        p.events[0].push(e);
    }
    let (first, n) = decreases(&p, 0, 2);
    assert!(packets > 0 && n <= packets, "{n} events for {packets} packets");
    assert!(first > 0 && first < total, "{first}");
    assert_eq!(p.sides[0].buffered_amount(2), total - first);
    let mut got = 0;
    p.run_until(Duration::from_secs(60), |p| {
        got += p.take_messages(1).len();
        got == 16
    });
    assert_eq!(p.sides[0].buffered_amount(2), 0);
    assert_eq!(decreases(&p, 0, 2).0, total);
    let s = p.sides[0].stats();
    assert!(decreases(&p, 0, 2).1 <= usize::try_from(s.packets_sent).unwrap_or(usize::MAX));
}

#[test]
fn refused_send_gets_a_retry_signal_when_acknowledgements_free_room() {
    // Acknowledgements free send-buffer memory without changing bufferedAmount. A sender
    // that retries a refused message only when a decrease is reported on its stream (as
    // the JS layer does) must not be left with room it never hears of: here the receiver
    // stops reading, so the last acknowledgements free memory while nothing more can be
    // sent, and only the zero-byte decrease reports it.
    let mut p = Pair::new(603, NetConfig { delay: Duration::from_millis(5), ..Default::default() });
    p.connect(false);
    p.drain[1] = false;
    let now = p.now;
    let mut n = 0u32;
    while p.sides[0].send(now, 7, 53, &message(n, 64 * 1024), SendOptions::default()).is_ok() {
        n += 1;
    }
    let mut signals = 0u32;
    let mut zero_signals = 0u32;
    let mut retried_ok = 0u32;
    p.run_until(Duration::from_secs(120), |p| {
        let mut retry = false;
        for e in p.events[0].drain(..) {
            if let SctpEvent::BufferedAmountDecreased { stream: 7, bytes } = e {
                signals += 1;
                zero_signals += u32::from(bytes == 0);
                retry = true;
            }
        }
        while retry {
            match p.sides[0].send(p.now, 7, 53, &message(n, 64 * 1024), SendOptions::default()) {
                Ok(()) => {
                    n += 1;
                    retried_ok += 1;
                }
                Err(e) => {
                    assert_eq!(e, SctpError::SendBufferFull);
                    retry = false;
                }
            }
        }
        p.now > now + Duration::from_secs(10)
    });
    eprintln!("{signals} decreases ({zero_signals} of 0 bytes), {retried_ok} retries accepted");
    assert!(zero_signals > 0 && retried_ok > 0);
    // The receiver's window is closed (zero window probes only): whatever room the
    // acknowledgements freed, the retries took it.
    assert_eq!(
        p.sides[0].send(p.now, 7, 53, &message(n, 64 * 1024), SendOptions::default()),
        Err(SctpError::SendBufferFull)
    );
    // The reader resumes: everything accepted arrives.
    p.drain[1] = true;
    let mut got = 0u32;
    p.run_until(Duration::from_secs(600), |p| {
        got += u32::try_from(p.take_messages(1).len()).unwrap_or(0);
        got == n
    });
    p.run_until(Duration::from_secs(60), |p| p.sides[0].stats().send_memory == 0);
}

#[test]
fn abandoned_unsent_message_leaves_buffered_amount_once() {
    // A message that expires in the queue leaves bufferedAmount unsent; one already sent
    // and then abandoned is not counted again.
    let mut p = Pair::new(604, NetConfig { delay: Duration::from_millis(50), ..Default::default() });
    p.connect(false);
    p.events[0].clear();
    let now = p.now;
    let opts = SendOptions { max_lifetime: Some(Duration::from_millis(10)), ..Default::default() };
    let mut total = 0;
    for i in 0..64u32 {
        let m = message(i, 16 * 1024);
        total += m.len();
        p.sides[0].send(now, 4, 53, &m, opts).unwrap();
    }
    p.mute[0] = true;
    p.run_until(Duration::from_secs(5), |p| p.sides[0].buffered_amount(4) == 0);
    p.mute[0] = false;
    p.run_until(Duration::from_secs(60), |p| p.sides[0].stats().send_memory == 0);
    assert_eq!(decreases(&p, 0, 4).0, total);
    assert!(p.sides[0].stats().messages_abandoned > 0);
}
