//! Candidate syntax tests and two agents over a small simulated network with a virtual clock.

use super::*;
use crate::crypto::Rng;
use crate::net::Transmit;
use crate::stun::{self, Class, Message};
use crate::time::Time;
use core::time::Duration;
use std::net::SocketAddr;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

// ---- candidate syntax ---------------------------------------------------------------------

const CHROME_SRFLX: &str = "candidate:842163049 1 udp 1677729535 1.2.3.4 56143 typ srflx raddr 10.0.0.1 rport 56143 generation 0 ufrag abcd network-cost 999";
const FIREFOX_HOST: &str = "candidate:0 1 UDP 2122252543 192.168.1.5 49203 typ host";
const FIREFOX_SRFLX: &str =
    "candidate:1 1 UDP 1686052863 203.0.113.4 49203 typ srflx raddr 192.168.1.5 rport 49203";
const CHROME_V6: &str =
    "candidate:3372349383 1 udp 2122262783 2001:db8:85a3::8a2e:370:7334 51000 typ host generation 0 ufrag EsAw network-id 2";
const CHROME_MDNS: &str = "candidate:1510613869 1 udp 2122260223 5d9a2b8b-6a7e-4d8b-9c3e-2f1a0b9c8d7e.local 54321 typ host generation 0 ufrag EsAw network-id 1 network-cost 10";
const CHROME_TCP: &str =
    "candidate:1876313031 1 tcp 1518280447 192.168.1.5 9 typ host tcptype active generation 0 ufrag EsAw network-id 1";
const FIREFOX_TCP: &str = "candidate:2 1 TCP 2105524479 192.168.1.5 9 typ host tcptype passive";
const AIORTC_HOST: &str =
    "candidate:0c4c1e1b1f3e6c8f4d0a6c2b9b1e7f3a 1 udp 2130706431 192.168.1.10 54042 typ host";
const AIORTC_RELAY: &str = "candidate:95f5d1ac62a5c7e6e1c8b19e8ce16d1b 1 udp 16777215 198.51.100.7 61234 typ relay raddr 192.168.1.10 rport 54042";
const CHROME_PRIVACY_RADDR: &str = "candidate:842163049 1 udp 1677729535 1.2.3.4 56143 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag abcd network-cost 999";

#[test]
fn parses_chromium_srflx() {
    let c = Candidate::parse(CHROME_SRFLX).unwrap();
    assert_eq!(c.foundation, "842163049");
    assert_eq!(c.component, 1);
    assert_eq!(c.protocol, "udp");
    assert_eq!(c.priority, 1677729535);
    assert_eq!(c.address, sa("1.2.3.4:56143"));
    assert_eq!(c.kind, CandidateKind::ServerReflexive);
    assert_eq!(c.related_address, Some(sa("10.0.0.1:56143")));
    assert_eq!(c.ufrag(), Some("abcd"));
    assert_eq!(
        c.extensions,
        vec![
            ("generation".to_string(), "0".to_string()),
            ("ufrag".to_string(), "abcd".to_string()),
            ("network-cost".to_string(), "999".to_string())
        ]
    );
    assert_eq!(c.to_sdp_string(), CHROME_SRFLX);
}

#[test]
fn parses_firefox_and_aiortc_and_ipv6() {
    let c = Candidate::parse(FIREFOX_HOST).unwrap();
    assert_eq!(c.protocol, "udp");
    assert_eq!(c.kind, CandidateKind::Host);
    assert_eq!(c.address, sa("192.168.1.5:49203"));
    let c = Candidate::parse(FIREFOX_SRFLX).unwrap();
    assert_eq!(c.related_address, Some(sa("192.168.1.5:49203")));
    let c = Candidate::parse(CHROME_V6).unwrap();
    assert_eq!(c.address, sa("[2001:db8:85a3::8a2e:370:7334]:51000"));
    let c = Candidate::parse(AIORTC_HOST).unwrap();
    assert_eq!(c.foundation.len(), 32);
    assert_eq!(c.priority, 2130706431);
    let c = Candidate::parse(AIORTC_RELAY).unwrap();
    assert_eq!(c.kind, CandidateKind::Relayed);
    let c = Candidate::parse(CHROME_PRIVACY_RADDR).unwrap();
    assert_eq!(c.related_address, Some(sa("0.0.0.0:0")));
    // Without the "candidate:" prefix and with "a=".
    let bare = FIREFOX_HOST.strip_prefix("candidate:").unwrap();
    assert_eq!(
        Candidate::parse(bare).unwrap(),
        Candidate::parse(FIREFOX_HOST).unwrap()
    );
    let a = format!("a={CHROME_SRFLX}");
    assert_eq!(
        Candidate::parse(&a).unwrap(),
        Candidate::parse(CHROME_SRFLX).unwrap()
    );
}

#[test]
fn parses_tcp_and_rejects_mdns_distinctly() {
    let c = Candidate::parse(CHROME_TCP).unwrap();
    assert_eq!(c.protocol, "tcp");
    assert_eq!(c.tcp_type.as_deref(), Some("active"));
    let c = Candidate::parse(FIREFOX_TCP).unwrap();
    assert_eq!(c.tcp_type.as_deref(), Some("passive"));
    assert_eq!(Candidate::parse(CHROME_MDNS), Err(IceError::MdnsCandidate));
    assert_eq!(
        Candidate::parse("candidate:1 1 udp 1 example.com 9 typ host"),
        Err(IceError::UnresolvedHostname)
    );
}

#[test]
fn candidate_round_trips() {
    for s in [
        CHROME_SRFLX,
        FIREFOX_HOST,
        FIREFOX_SRFLX,
        CHROME_V6,
        CHROME_TCP,
        FIREFOX_TCP,
        AIORTC_HOST,
        AIORTC_RELAY,
        CHROME_PRIVACY_RADDR,
    ] {
        let c = Candidate::parse(s).unwrap();
        let again = Candidate::parse(&c.to_sdp_string()).unwrap();
        assert_eq!(again, c, "{s}");
    }
}

#[test]
fn malformed_candidates_fail_cleanly() {
    for s in [
        "",
        "candidate:",
        "candidate:1",
        "candidate:1 1 udp 1 1.2.3.4 9 host",
        "candidate:1 1 udp 1 1.2.3.4 9 typ",
        "candidate:1 1 udp 1 1.2.3.4 9 typ bogus",
        "candidate:1 1 udp 1 1.2.3.4 70000 typ host",
        "candidate:1 1 udp -1 1.2.3.4 9 typ host",
        "candidate:1 0 udp 1 1.2.3.4 9 typ host",
        "candidate:1 x udp 1 1.2.3.4 9 typ host",
        "candidate:f!o 1 udp 1 1.2.3.4 9 typ host",
        "candidate:1 1 udp 1 1.2.3.4 9 typ srflx raddr 1.2.3.4 rport nope",
        "candidate:1 1 udp 1 1.2.3.4:9 9 typ host",
    ] {
        assert!(Candidate::parse(s).is_err(), "{s:?}");
    }
    assert_eq!(
        Candidate::parse(&"x".repeat(5000)),
        Err(IceError::CandidateTooLong)
    );
    // Every truncation and random bytes never panic.
    for s in [CHROME_SRFLX, CHROME_V6, CHROME_MDNS, AIORTC_RELAY] {
        for n in 0..s.len() {
            let _ = Candidate::parse(&s[..n]);
        }
    }
    let mut rng = Rng::seeded(9);
    let alphabet = b"candite:0123456789 .:abcdfhostypudprelaxsrfl-";
    for _ in 0..5000 {
        let n = rng.below(80) as usize;
        let s: String = (0..n)
            .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize] as char)
            .collect();
        let _ = Candidate::parse(&s);
    }
}

#[test]
fn priorities_follow_rfc8445() {
    // §5.1.2.1 with type 126, local 65535, component 1.
    assert_eq!(
        candidate_priority(&CandidateKind::Host, 65535, 1),
        2130706431
    );
    assert_eq!(
        candidate_priority(&CandidateKind::Relayed, 65535, 1),
        16777215
    );
    // §6.1.2.3.
    assert_eq!(pair_priority(10, 20), (10u64 << 32) + 40);
    assert_eq!(pair_priority(20, 10), (10u64 << 32) + 41);
    assert!(pair_priority(20, 10) > pair_priority(10, 20));
    // Review regression: two maximal priorities overflowed (a debug-build panic).
    assert_eq!(pair_priority(u32::MAX, u32::MAX), u64::MAX);
    assert!(pair_priority(u32::MAX, u32::MAX - 1) >= pair_priority(u32::MAX - 1, u32::MAX));
}

// ---- simulated network --------------------------------------------------------------------

struct Node {
    agent: IceAgent,
    events: Vec<(Time, IceEvent)>,
    /// Forward local candidates to the other node as they appear.
    trickle: bool,
    /// Candidates held back when `trickle` is off.
    held: Vec<Candidate>,
}

struct Packet {
    at: Time,
    from: SocketAddr,
    to: SocketAddr,
    data: Vec<u8>,
}

/// One-to-one full-cone NAT: `private` is seen outside as `public`; `private` is unreachable.
struct Nat {
    private: SocketAddr,
    public: SocketAddr,
}

struct Sim {
    now: Time,
    nodes: Vec<Node>,
    /// (node, transport, address)
    sockets: Vec<(usize, u32, SocketAddr)>,
    in_flight: Vec<Packet>,
    rng: Rng,
    loss_percent: u64,
    delay: Duration,
    stun_server: Option<SocketAddr>,
    nats: Vec<Nat>,
    /// Drop every packet (consent-loss tests).
    cut: bool,
    /// Extra random delay up to this (reorders packets).
    jitter: Duration,
    /// Percentage of packets delivered twice.
    dup_percent: u64,
    /// Sockets whose datagrams are all dropped (firewalled).
    blocked: Vec<SocketAddr>,
    /// USERNAME of every request delivered to a node.
    usernames: Vec<String>,
    delivered: u64,
}

fn creds_of(a: &IceAgent) -> IceCredentials {
    a.local_credentials().clone()
}

impl Sim {
    fn new(cfg_a: IceConfig, cfg_b: IceConfig, seed: u64) -> Sim {
        let mut rng = Rng::seeded(seed);
        let a = IceAgent::new(cfg_a, rng.fork());
        let b = IceAgent::new(cfg_b, rng.fork());
        let node = |agent| Node {
            agent,
            events: Vec::new(),
            trickle: true,
            held: Vec::new(),
        };
        Sim {
            now: Time::from_millis(1000),
            nodes: vec![node(a), node(b)],
            sockets: Vec::new(),
            in_flight: Vec::new(),
            rng,
            loss_percent: 0,
            delay: Duration::from_millis(20),
            stun_server: None,
            nats: Vec::new(),
            cut: false,
            jitter: Duration::ZERO,
            dup_percent: 0,
            blocked: Vec::new(),
            usernames: Vec::new(),
            delivered: 0,
        }
    }

    fn agent(&mut self, n: usize) -> &mut IceAgent {
        &mut self.nodes[n].agent
    }

    fn add_socket(&mut self, n: usize, transport: u32, addr: &str) {
        let addr = sa(addr);
        self.sockets.push((n, transport, addr));
        self.nodes[n].agent.add_local_transport(transport, addr);
    }

    fn exchange_credentials(&mut self) {
        let ca = creds_of(&self.nodes[0].agent);
        let cb = creds_of(&self.nodes[1].agent);
        self.nodes[0].agent.set_remote_credentials(cb);
        self.nodes[1].agent.set_remote_credentials(ca);
    }

    fn start(&mut self) {
        let now = self.now;
        for n in &mut self.nodes {
            n.agent.start_gathering(now);
        }
    }

    /// Where a packet sent from `src` is seen to come from.
    fn outside(&self, src: SocketAddr) -> SocketAddr {
        self.nats
            .iter()
            .find(|n| n.private == src)
            .map(|n| n.public)
            .unwrap_or(src)
    }

    fn send(&mut self, from_node: usize, t: Transmit) {
        let Some(&(_, _, src)) = self
            .sockets
            .iter()
            .find(|(n, id, _)| *n == from_node && *id == t.transport)
        else {
            panic!("unknown transport {}", t.transport)
        };
        if self.blocked.contains(&src) {
            return;
        }
        let from = self.outside(src);
        self.route(from, t.destination, t.data);
    }

    fn route(&mut self, from: SocketAddr, to: SocketAddr, data: Vec<u8>) {
        if self.cut || self.rng.below(100) < self.loss_percent {
            return;
        }
        let jitter_us = u64::try_from(self.jitter.as_micros()).unwrap();
        let at = self.now + self.delay + Duration::from_micros(self.rng.below(jitter_us + 1));
        if self.rng.below(100) < self.dup_percent {
            let later = at + Duration::from_micros(self.rng.below(jitter_us + 1));
            self.in_flight.push(Packet {
                at: later,
                from,
                to,
                data: data.clone(),
            });
        }
        self.in_flight.push(Packet { at, from, to, data });
    }

    fn deliver(&mut self, p: Packet) {
        self.delivered += 1;
        if Some(p.to) == self.stun_server {
            let Ok(m) = Message::decode(&p.data) else {
                return;
            };
            if m.class == Class::Request {
                let resp = stun::binding_success(m.transaction_id, p.from, None);
                let server = p.to;
                self.route(server, p.from, resp);
            }
            return;
        }
        // Through a NAT to the private socket; private addresses behind a NAT are unreachable.
        let to = match self.nats.iter().find(|n| n.public == p.to) {
            Some(n) => n.private,
            None if self.nats.iter().any(|n| n.private == p.to) => return,
            None => p.to,
        };
        let Some(&(n, id, _)) = self.sockets.iter().find(|(_, _, a)| *a == to) else {
            return;
        };
        if let Ok(m) = Message::decode(&p.data) {
            if let (Class::Request, Some(u)) = (m.class, m.username()) {
                self.usernames.push(u.to_string());
            }
        }
        let now = self.now;
        let _ = self.nodes[n].agent.handle_stun(now, id, p.from, &p.data);
    }

    fn drain(&mut self) {
        let now = self.now;
        for i in 0..self.nodes.len() {
            while let Some(t) = self.nodes[i].agent.poll_transmit(now) {
                self.send(i, t);
            }
            while let Some(e) = self.nodes[i].agent.poll_event() {
                if let IceEvent::LocalCandidate(c) = &e {
                    if self.nodes[i].trickle {
                        let _ = self.nodes[1 - i].agent.add_remote_candidate(now, c.clone());
                    } else {
                        self.nodes[i].held.push(c.clone());
                    }
                }
                self.nodes[i].events.push((now, e));
            }
        }
    }

    /// Sends the candidates held back by node `n` to the other node.
    fn release(&mut self, n: usize) {
        let now = self.now;
        for c in std::mem::take(&mut self.nodes[n].held) {
            self.nodes[1 - n]
                .agent
                .add_remote_candidate(now, c)
                .unwrap();
        }
        self.nodes[n].trickle = true;
    }

    /// Advances the virtual clock to the next event, at most to `limit`.
    fn step(&mut self, limit: Time) {
        self.drain();
        let mut next = limit;
        for p in &self.in_flight {
            next = next.min(p.at);
        }
        for n in &self.nodes {
            if let Some(t) = n.agent.poll_timeout() {
                next = next.min(t);
            }
        }
        self.now = next.max(self.now);
        let now = self.now;
        let mut i = 0;
        while i < self.in_flight.len() {
            if self.in_flight[i].at <= now {
                let p = self.in_flight.remove(i);
                self.deliver(p);
            } else {
                i += 1;
            }
        }
        for n in &mut self.nodes {
            if n.agent.poll_timeout().is_some_and(|t| t <= now) {
                n.agent.handle_timeout(now);
            }
        }
        self.drain();
    }

    /// Runs until `cond` holds or `max` virtual time passes. Returns whether `cond` held.
    fn run_until(&mut self, max: Duration, mut cond: impl FnMut(&Sim) -> bool) -> bool {
        let limit = self.now + max;
        let mut steps = 0u32;
        while self.now < limit {
            if cond(self) {
                return true;
            }
            self.step(limit);
            steps += 1;
            assert!(
                steps < 200_000,
                "livelock at {:?}: {:?} {:?} / {:?}",
                self.now,
                self.nodes[0].agent.poll_timeout(),
                self.nodes[1].agent.poll_timeout(),
                self.nodes[1].agent.debug_state()
            );
        }
        cond(self)
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(d, |_| false);
    }

    fn state(&self, n: usize) -> IceConnectionState {
        self.nodes[n].agent.connection_state()
    }

    fn both_connected(&self) -> bool {
        self.state(0) == IceConnectionState::Connected
            && self.state(1) == IceConnectionState::Connected
    }

    fn states(&self, n: usize) -> Vec<IceConnectionState> {
        self.nodes[n]
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                IceEvent::ConnectionStateChanged(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    fn time_of(&self, n: usize, s: IceConnectionState) -> Option<Time> {
        self.nodes[n].events.iter().find_map(|(t, e)| match e {
            IceEvent::ConnectionStateChanged(x) if *x == s => Some(*t),
            _ => None,
        })
    }
}

fn controlling() -> IceConfig {
    IceConfig {
        controlling: true,
        ..IceConfig::default()
    }
}

fn controlled() -> IceConfig {
    IceConfig::default()
}

/// [`host_pair`] with node 0 behind a NAT (10.0.0.1:1000 seen as 203.0.113.9:40000) and
/// gathering from a STUN server at 198.51.100.1:3478 (agent RNG seeded with `rng_seed`).
fn behind_nat_with_stun(seed: u64, rng_seed: u64) -> Sim {
    let mut s = host_pair(seed);
    s.stun_server = Some(sa("198.51.100.1:3478"));
    s.nodes[0].agent = IceAgent::new(
        IceConfig {
            stun_servers: vec![sa("198.51.100.1:3478")],
            ..controlling()
        },
        Rng::seeded(rng_seed),
    );
    s.nodes[0].agent.add_local_transport(1, sa("10.0.0.1:1000"));
    s.nats.push(Nat {
        private: sa("10.0.0.1:1000"),
        public: sa("203.0.113.9:40000"),
    });
    s
}

fn host_pair(seed: u64) -> Sim {
    let mut s = Sim::new(controlling(), controlled(), seed);
    s.add_socket(0, 1, "10.0.0.1:1000");
    s.add_socket(1, 7, "10.0.0.2:2000");
    s
}

fn assert_selected(s: &Sim) {
    assert_eq!(
        s.nodes[0].agent.selected_pair(),
        Some((1, sa("10.0.0.2:2000")))
    );
    assert_eq!(
        s.nodes[1].agent.selected_pair(),
        Some((7, sa("10.0.0.1:1000")))
    );
}

// ---- agent tests --------------------------------------------------------------------------

#[test]
fn credentials_are_random_and_long_enough() {
    let a = IceAgent::new(IceConfig::default(), Rng::seeded(1));
    let b = IceAgent::new(IceConfig::default(), Rng::seeded(2));
    assert_eq!(a.local_credentials().ufrag.len(), 16);
    assert_eq!(a.local_credentials().pwd.len(), 24);
    assert_ne!(a.local_credentials(), b.local_credentials());
}

#[test]
fn gathering_emits_host_candidates_and_completes() {
    let mut a = IceAgent::new(IceConfig::default(), Rng::seeded(1));
    a.add_local_transport(1, sa("192.168.1.2:5000"));
    a.add_local_transport(2, sa("127.0.0.1:5001"));
    a.add_local_transport(3, sa("[2001:db8::2]:5002"));
    assert_eq!(a.gathering_state(), IceGatheringState::New);
    a.start_gathering(Time::ZERO);
    let events: Vec<_> = std::iter::from_fn(|| a.poll_event()).collect();
    let cands: Vec<&Candidate> = events
        .iter()
        .filter_map(|e| match e {
            IceEvent::LocalCandidate(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(cands.len(), 2, "loopback excluded: {events:?}");
    assert!(cands
        .iter()
        .all(|c| c.kind == CandidateKind::Host && c.component == 1));
    // IPv6 host preferred over IPv4.
    assert!(cands[1].priority > cands[0].priority);
    assert_eq!(events.last(), Some(&IceEvent::GatheringComplete));
    assert_eq!(a.gathering_state(), IceGatheringState::Complete);
    // Candidates re-parse.
    for c in cands {
        assert_eq!(&Candidate::parse(&c.to_sdp_string()).unwrap(), c);
    }
    let mut b = IceAgent::new(
        IceConfig {
            include_loopback: true,
            ..IceConfig::default()
        },
        Rng::seeded(1),
    );
    b.add_local_transport(2, sa("127.0.0.1:5001"));
    b.start_gathering(Time::ZERO);
    assert!(matches!(b.poll_event(), Some(IceEvent::LocalCandidate(_))));
}

#[test]
fn connects_with_host_candidates() {
    let mut s = host_pair(1);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    assert_selected(&s);
    assert_eq!(
        s.states(0),
        vec![IceConnectionState::Checking, IceConnectionState::Connected]
    );
    assert_eq!(
        s.states(1)[..],
        [IceConnectionState::Checking, IceConnectionState::Connected]
    );
    // Connected quickly (a few round trips).
    assert!(s.time_of(0, IceConnectionState::Connected).unwrap() < Time::from_millis(1300));
    // Nomination happened: the controlled side saw USE-CANDIDATE on the selected pair.
    s.run_for(Duration::from_secs(1));
    assert!(s.nodes[0].agent.pairs_nominated() >= 1);
    assert!(s.nodes[1].agent.pairs_nominated() >= 1);
    // Stays connected for a minute thanks to consent checks, which keep flowing.
    let before = s.delivered;
    s.run_for(Duration::from_secs(60));
    assert!(s.both_connected());
    assert!(
        s.delivered - before >= 20,
        "consent traffic {}",
        s.delivered - before
    );
    assert_selected(&s);
    assert!(s.nodes[0].agent.controlling() && !s.nodes[1].agent.controlling());
}

#[test]
fn trickle_in_either_order_and_late_candidates() {
    for first in [0usize, 1] {
        let mut s = host_pair(2 + first as u64);
        s.nodes[0].trickle = false;
        s.nodes[1].trickle = false;
        s.exchange_credentials();
        s.start();
        s.run_for(Duration::from_millis(500));
        assert_eq!(s.state(0), IceConnectionState::New);
        s.release(first);
        assert!(
            s.run_until(Duration::from_secs(3), |s| s.both_connected()),
            "first={first}"
        );
        assert_selected(&s);
        // The late candidates of the other side change nothing.
        s.release(1 - first);
        s.run_for(Duration::from_secs(2));
        assert!(s.both_connected());
        assert_selected(&s);
    }
}

#[test]
fn answers_before_remote_credentials_are_known() {
    let mut s = host_pair(4);
    // A knows B's credentials; B learns A's only after 2 s.
    let cb = creds_of(&s.nodes[1].agent);
    s.agent(0).set_remote_credentials(cb);
    s.start();
    s.run_for(Duration::from_secs(2));
    // A got answers already (B answers with its own password).
    assert_eq!(s.state(0), IceConnectionState::Connected);
    assert_eq!(s.state(1), IceConnectionState::New);
    let ca = creds_of(&s.nodes[0].agent);
    s.agent(1).set_remote_credentials(ca);
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    assert_selected(&s);
}

#[test]
fn resolves_role_conflicts() {
    for (a_ctl, b_ctl) in [(true, true), (false, false)] {
        for seed in 10..14 {
            let mut s = Sim::new(
                IceConfig {
                    controlling: a_ctl,
                    ..IceConfig::default()
                },
                IceConfig {
                    controlling: b_ctl,
                    ..IceConfig::default()
                },
                seed,
            );
            s.add_socket(0, 1, "10.0.0.1:1000");
            s.add_socket(1, 7, "10.0.0.2:2000");
            s.exchange_credentials();
            s.start();
            assert!(
                s.run_until(Duration::from_secs(5), |s| s.both_connected()),
                "{a_ctl} {seed}"
            );
            s.run_for(Duration::from_secs(2));
            let (a, b) = (&s.nodes[0].agent, &s.nodes[1].agent);
            assert_ne!(a.controlling(), b.controlling(), "{a_ctl} seed {seed}");
            // The larger tie-breaker wins control.
            assert_eq!(a.controlling(), a.tie_breaker() > b.tie_breaker());
            assert!(a.stats().role_conflicts + b.stats().role_conflicts >= 1);
            assert_selected(&s);
            assert!(
                s.nodes[0].agent.pairs_nominated() >= 1 && s.nodes[1].agent.pairs_nominated() >= 1
            );
        }
    }
}

#[test]
fn learns_peer_reflexive_remote_candidate() {
    let mut s = host_pair(5);
    // A never signals its candidates: B only learns A from A's checks.
    s.nodes[0].trickle = false;
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    assert_selected(&s);
    let b = &s.nodes[1].agent;
    assert_eq!(b.stats().peer_reflexive_remote, 1);
    assert_eq!(b.remote_candidates()[0].kind, CandidateKind::PeerReflexive);
    // Signaling the host candidate later upgrades the type, no new pair.
    s.release(0);
    s.run_for(Duration::from_secs(1));
    let b = &s.nodes[1].agent;
    assert_eq!(b.remote_candidates().len(), 1);
    assert_eq!(b.remote_candidates()[0].kind, CandidateKind::Host);
    assert!(s.both_connected());
}

#[test]
fn learns_peer_reflexive_local_behind_nat() {
    // A is behind a NAT and signals only its (unreachable) host candidate; B's checks to it
    // fail, A's checks reach B from the public address: B learns prflx remote, A prflx local.
    let mut s = host_pair(6);
    s.nats.push(Nat {
        private: sa("10.0.0.1:1000"),
        public: sa("203.0.113.9:40000"),
    });
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(5), |s| s.both_connected()));
    assert_eq!(
        s.nodes[1].agent.selected_pair(),
        Some((7, sa("203.0.113.9:40000")))
    );
    assert_eq!(
        s.nodes[0].agent.selected_pair(),
        Some((1, sa("10.0.0.2:2000")))
    );
    assert_eq!(s.nodes[0].agent.stats().peer_reflexive_local, 1);
    assert_eq!(s.nodes[1].agent.stats().peer_reflexive_remote, 1);
}

#[test]
fn connects_with_30_percent_loss() {
    let mut ok = 0;
    for seed in 100..110 {
        let mut s = host_pair(seed);
        s.loss_percent = 30;
        s.exchange_credentials();
        s.start();
        if s.run_until(Duration::from_secs(10), |s| s.both_connected()) {
            ok += 1;
            assert_selected(&s);
        } else {
            println!("seed {seed} failed");
        }
    }
    assert_eq!(ok, 10);
}

#[test]
fn consent_loss_disconnects_then_fails() {
    let mut s = host_pair(7);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    s.run_for(Duration::from_secs(2));
    s.cut = true;
    let cut_at = s.now;
    assert!(s.run_until(Duration::from_secs(20), |s| s.state(0)
        == IceConnectionState::Disconnected));
    let d = s.now - cut_at;
    assert!(
        d >= Duration::from_secs(4) && d <= Duration::from_secs(8),
        "disconnected after {d:?}"
    );
    assert!(s.run_until(Duration::from_secs(40), |s| s.state(0)
        == IceConnectionState::Failed
        && s.state(1) == IceConnectionState::Failed));
    let f = s.now - cut_at;
    assert!(
        f >= Duration::from_secs(25) && f <= Duration::from_secs(32),
        "failed after {f:?}"
    );
    assert_eq!(
        s.states(0),
        vec![
            IceConnectionState::Checking,
            IceConnectionState::Connected,
            IceConnectionState::Disconnected,
            IceConnectionState::Failed
        ]
    );
    // Failed is final: no more timers, no more traffic.
    assert_eq!(s.nodes[0].agent.poll_timeout(), None);
    s.cut = false;
    s.run_for(Duration::from_secs(10));
    assert!(s.in_flight.is_empty());
}

#[test]
fn consent_recovers_after_short_outage() {
    let mut s = host_pair(8);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    s.cut = true;
    assert!(s.run_until(Duration::from_secs(20), |s| s.state(0)
        == IceConnectionState::Disconnected
        && s.state(1) == IceConnectionState::Disconnected));
    s.run_for(Duration::from_secs(5));
    s.cut = false;
    let back = s.now;
    assert!(s.run_until(Duration::from_secs(5), |s| s.both_connected()));
    assert!(
        s.now - back <= Duration::from_secs(3),
        "recovered after {:?}",
        s.now - back
    );
    assert_selected(&s);
    s.run_for(Duration::from_secs(60));
    assert!(s.both_connected());
}

#[test]
fn stun_server_gives_srflx_and_connects_through_nat() {
    let mut s = behind_nat_with_stun(9, 99);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(5), |s| s.both_connected()));
    let cands: Vec<Candidate> = s.nodes[0]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            IceEvent::LocalCandidate(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(cands.len(), 2);
    assert_eq!(cands[1].kind, CandidateKind::ServerReflexive);
    assert_eq!(cands[1].address, sa("203.0.113.9:40000"));
    assert_eq!(cands[1].related_address, Some(sa("10.0.0.1:1000")));
    assert!(cands[1].priority < cands[0].priority);
    assert!(s.nodes[0]
        .events
        .iter()
        .any(|(_, e)| *e == IceEvent::GatheringComplete));
    assert_eq!(
        s.nodes[0].agent.gathering_state(),
        IceGatheringState::Complete
    );
    assert_eq!(
        s.nodes[1].agent.selected_pair(),
        Some((7, sa("203.0.113.9:40000")))
    );
}

#[test]
fn srflx_deduplicated_and_gathering_times_out() {
    // Two servers mapping to the same public address give one srflx candidate; a dead
    // server makes gathering complete at the timeout.
    let cfg = IceConfig {
        stun_servers: vec![
            sa("198.51.100.1:3478"),
            sa("198.51.100.2:3478"),
            sa("198.51.100.3:3478"),
        ],
        ..IceConfig::default()
    };
    let mut a = IceAgent::new(cfg, Rng::seeded(3));
    a.add_local_transport(1, sa("10.0.0.1:1000"));
    let t0 = Time::from_millis(0);
    a.start_gathering(t0);
    let sent: Vec<Transmit> = std::iter::from_fn(|| a.poll_transmit(t0)).collect();
    assert_eq!(sent.len(), 3);
    for tx in &sent[..2] {
        let m = Message::decode(&tx.data).unwrap();
        let resp = stun::binding_success(m.transaction_id, sa("203.0.113.9:40000"), None);
        a.handle_stun(Time::from_millis(30), 1, tx.destination, &resp)
            .unwrap();
    }
    let srflx = std::iter::from_fn(|| a.poll_event())
        .filter(|e| matches!(e, IceEvent::LocalCandidate(c) if c.kind == CandidateKind::ServerReflexive))
        .count();
    assert_eq!(srflx, 1);
    assert_eq!(a.gathering_state(), IceGatheringState::Gathering);
    let mut now = t0;
    while a.gathering_state() == IceGatheringState::Gathering {
        now = a.poll_timeout().unwrap();
        a.handle_timeout(now);
        while a.poll_transmit(now).is_some() {}
    }
    assert!(now <= Time::from_millis(5000));
    assert_eq!(a.poll_event(), Some(IceEvent::GatheringComplete));
}

#[test]
fn fails_when_all_pairs_fail_after_end_of_candidates() {
    let mut s = host_pair(11);
    s.nats.push(Nat {
        private: sa("10.0.0.2:2000"),
        public: sa("203.0.113.2:2000"),
    });
    s.nats.push(Nat {
        private: sa("10.0.0.1:1000"),
        public: sa("203.0.113.1:1000"),
    });
    s.exchange_credentials();
    s.agent(0).set_remote_end_of_candidates();
    s.agent(1).set_remote_end_of_candidates();
    s.start();
    assert!(s.run_until(Duration::from_secs(40), |s| s.state(0)
        == IceConnectionState::Failed));
    let t = s.time_of(0, IceConnectionState::Failed).unwrap() - Time::from_millis(1000);
    assert!(t < Duration::from_secs(20), "{t:?}");
    assert_eq!(
        s.states(0),
        vec![IceConnectionState::Checking, IceConnectionState::Failed]
    );
}

#[test]
fn close_stops_everything() {
    let mut s = host_pair(12);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    s.agent(0).close();
    assert_eq!(s.state(0), IceConnectionState::Closed);
    assert_eq!(s.nodes[0].agent.poll_timeout(), None);
    let now = s.now;
    assert!(s.agent(0).poll_transmit(now).is_none());
    assert_eq!(
        s.agent(0)
            .handle_stun(now, 1, sa("10.0.0.2:2000"), &[0; 20]),
        Err(IceError::Closed)
    );
}

#[test]
fn drops_and_counts_bad_input() {
    let mut s = host_pair(13);
    s.exchange_credentials();
    let now = s.now;
    let b_creds = creds_of(&s.nodes[1].agent);
    let a = s.agent(0);
    let from = sa("10.0.0.2:2000");
    let local = a.local_credentials().clone();
    // Garbage and truncated.
    assert!(a
        .handle_stun(now, 1, from, b"hello world, not stun")
        .is_err());
    // Unknown transport.
    assert_eq!(
        a.handle_stun(now, 99, from, b"x"),
        Err(IceError::UnknownTransport)
    );
    // Wrong password.
    let req = |user: &str, key: &[u8]| {
        stun::binding_request(
            &stun::BindingRequest {
                transaction_id: [1; 12],
                username: user,
                priority: 1,
                controlling: false,
                tie_breaker: 1,
                use_candidate: false,
            },
            key,
        )
    };
    let good_user = format!("{}:{}", local.ufrag, b_creds.ufrag);
    assert_eq!(
        a.handle_stun(now, 1, from, &req(&good_user, b"wrong")),
        Err(IceError::BadIntegrity)
    );
    assert_eq!(
        a.handle_stun(now, 1, from, &req("nope:nope", local.pwd.as_bytes())),
        Err(IceError::UnknownUsername)
    );
    // A response nobody asked for.
    let resp = stun::binding_success([5; 12], from, Some(b_creds.pwd.as_bytes()));
    assert_eq!(
        a.handle_stun(now, 1, from, &resp),
        Err(IceError::UnknownTransaction)
    );
    let st = a.stats();
    assert_eq!(
        (
            st.malformed,
            st.bad_integrity,
            st.unknown_username,
            st.unknown_transaction
        ),
        (1, 1, 1, 1)
    );
    assert!(a.poll_transmit(now).is_none(), "nothing answered");
    // A good request is answered with a verified success response carrying the source.
    a.handle_stun(now, 1, from, &req(&good_user, local.pwd.as_bytes()))
        .unwrap();
    let out = a.poll_transmit(now).unwrap();
    assert_eq!(out.destination, from);
    stun::verify_integrity(&out.data, local.pwd.as_bytes()).unwrap();
    let m = Message::decode(&out.data).unwrap();
    assert_eq!(m.class, Class::SuccessResponse);
    assert_eq!(m.xor_mapped_address(), Some(from));
    // Random bytes never panic.
    let mut rng = Rng::seeded(77);
    let mut buf = [0u8; 120];
    for i in 0..20_000 {
        let n = rng.below(buf.len() as u64) as usize;
        rng.fill(&mut buf[..n]);
        if i % 2 == 0 && n >= 20 {
            buf[0] &= 1;
            buf[4..8].copy_from_slice(&stun::MAGIC_COOKIE.to_be_bytes());
            let l = (n as u16 - 20) & !3;
            buf[2..4].copy_from_slice(&l.to_be_bytes());
        }
        let _ = a.handle_stun(now, 1, from, &buf[..n]);
    }
}

#[test]
fn remote_candidate_bounds_and_filters() {
    let mut a = IceAgent::new(controlling(), Rng::seeded(1));
    a.add_local_transport(1, sa("10.0.0.1:1000"));
    let now = Time::ZERO;
    a.add_remote_candidate(now, Candidate::parse(CHROME_TCP).unwrap())
        .unwrap();
    assert!(a.remote_candidates().is_empty(), "tcp ignored");
    for i in 0..MAX_REMOTE_CANDIDATES {
        let c = Candidate::parse(&format!(
            "candidate:1 1 udp 1 10.1.{}.{} 9 typ host",
            i / 200,
            i % 200 + 1
        ))
        .unwrap();
        a.add_remote_candidate(now, c).unwrap();
    }
    let extra = Candidate::parse("candidate:1 1 udp 1 10.9.9.9 9 typ host").unwrap();
    assert_eq!(
        a.add_remote_candidate(now, extra),
        Err(IceError::TooManyCandidates)
    );
    assert_eq!(a.stats().dropped_candidates, 1);
}

#[test]
fn checks_are_paced_and_retransmissions_bounded() {
    // Ten unreachable remote candidates: new checks go out one per Ta, and each pair is
    // tried exactly `max_check_transmits` times before it fails.
    let cfg = controlling();
    let (ta, max) = (cfg.check_interval, cfg.max_check_transmits);
    let mut a = IceAgent::new(cfg, Rng::seeded(5));
    a.add_local_transport(1, sa("10.0.0.1:1000"));
    a.set_remote_credentials(IceCredentials {
        ufrag: "abcd".into(),
        pwd: "p".repeat(22),
    });
    for i in 0..10 {
        let c = Candidate::parse(&format!(
            "candidate:{i} 1 udp {} 10.9.0.{} 9 typ host",
            1000 + i,
            i + 1
        ))
        .unwrap();
        a.add_remote_candidate(Time::ZERO, c).unwrap();
    }
    a.set_remote_end_of_candidates();
    let mut now = Time::ZERO;
    let mut sent: Vec<(Time, SocketAddr, [u8; 12])> = Vec::new();
    while let Some(t) = a.poll_timeout() {
        now = t;
        a.handle_timeout(now);
        while let Some(tx) = a.poll_transmit(now) {
            let m = Message::decode(&tx.data).unwrap();
            sent.push((now, tx.destination, m.transaction_id));
        }
        assert!(now < Time::from_millis(60_000));
    }
    assert_eq!(a.connection_state(), IceConnectionState::Failed);
    // One transaction per pair, each sent `max` times (retransmissions reuse the id).
    let mut ids: Vec<[u8; 12]> = sent.iter().map(|s| s.2).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10);
    assert_eq!(sent.len(), 10 * max as usize);
    // First transmissions: highest priority first, spaced by at least Ta.
    let mut firsts: Vec<(Time, SocketAddr)> = Vec::new();
    for (t, d, id) in &sent {
        if sent.iter().find(|s| s.2 == *id).map(|s| s.0) == Some(*t)
            && !firsts.iter().any(|f| f.1 == *d)
        {
            firsts.push((*t, *d));
        }
    }
    assert_eq!(firsts[0].1, sa("10.9.0.10:9"));
    assert_eq!(firsts[9].1, sa("10.9.0.1:9"));
    for w in firsts.windows(2) {
        assert!(w[1].0 - w[0].0 >= ta, "{:?}", w);
    }
    // Failed well before the 30 s fallback.
    assert!(now < Time::from_millis(20_000), "{now:?}");
}

#[test]
fn connects_over_ipv6_and_prefers_it() {
    let mut s = Sim::new(controlling(), controlled(), 21);
    s.add_socket(0, 1, "10.0.0.1:1000");
    s.add_socket(0, 2, "[2001:db8::1]:1000");
    s.add_socket(1, 7, "10.0.0.2:2000");
    s.add_socket(1, 8, "[2001:db8::2]:2000");
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    s.run_for(Duration::from_secs(2));
    assert_eq!(
        s.nodes[0].agent.selected_pair(),
        Some((2, sa("[2001:db8::2]:2000")))
    );
    assert_eq!(
        s.nodes[1].agent.selected_pair(),
        Some((8, sa("[2001:db8::1]:1000")))
    );
    assert_eq!(s.nodes[1].agent.pairs_nominated(), 1);
}

#[test]
fn falls_back_to_a_lower_priority_reachable_pair() {
    // B's preferred (first) socket sits behind a NAT nobody can reach; its second works.
    let mut s = Sim::new(controlling(), controlled(), 22);
    s.add_socket(0, 1, "10.0.0.1:1000");
    s.add_socket(1, 7, "10.0.0.2:2000");
    s.add_socket(1, 8, "10.0.0.3:3000");
    s.nats.push(Nat {
        private: sa("10.0.0.2:2000"),
        public: sa("203.0.113.2:2000"),
    });
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(5), |s| s.both_connected()));
    s.run_for(Duration::from_secs(15));
    assert!(s.both_connected());
    assert_eq!(
        s.nodes[0].agent.selected_pair(),
        Some((1, sa("10.0.0.3:3000")))
    );
    assert_eq!(
        s.nodes[1].agent.selected_pair(),
        Some((8, sa("10.0.0.1:1000")))
    );
}

#[test]
fn unknown_required_attribute_gets_420() {
    let mut a = IceAgent::new(controlled(), Rng::seeded(5));
    a.add_local_transport(1, sa("10.0.0.1:1000"));
    let local = a.local_credentials().clone();
    let mut m = Message::new(stun::Method::BINDING, Class::Request, [4; 12]);
    m.attributes
        .push(stun::Attribute::Username(format!("{}:peer", local.ufrag)));
    m.attributes.push(stun::Attribute::Priority(1));
    m.attributes.push(stun::Attribute::IceControlling(1));
    m.attributes.push(stun::Attribute::Other {
        typ: 0x7001,
        value: vec![1, 2, 3, 4],
    });
    let raw = m.encode_with(Some(local.pwd.as_bytes()), true);
    assert_eq!(
        a.handle_stun(Time::ZERO, 1, sa("10.0.0.2:2"), &raw),
        Err(IceError::Unexpected)
    );
    let out = a.poll_transmit(Time::ZERO).unwrap();
    let resp = Message::decode(&out.data).unwrap();
    assert_eq!(resp.error_code(), Some(420));
    assert_eq!(
        resp.get(stun::attr::UNKNOWN_ATTRIBUTES),
        Some(&stun::Attribute::UnknownAttributes(vec![0x7001]))
    );
}

#[test]
fn lossy_link_stays_mostly_connected() {
    // 20 % loss for five minutes after connecting: consent retransmissions keep the session
    // up (a short `disconnected` is allowed, `failed` is not).
    for seed in 200..203 {
        let mut s = host_pair(seed);
        s.loss_percent = 20;
        s.exchange_credentials();
        s.start();
        assert!(s.run_until(Duration::from_secs(10), |s| s.both_connected()));
        s.run_for(Duration::from_secs(300));
        assert_ne!(s.state(0), IceConnectionState::Failed);
        assert_ne!(s.state(1), IceConnectionState::Failed);
    }
}

#[test]
fn survives_jitter_reordering_and_duplication() {
    for seed in 300..306 {
        let mut s = host_pair(seed);
        s.jitter = Duration::from_millis(200);
        s.dup_percent = 30;
        s.loss_percent = 10;
        s.exchange_credentials();
        s.start();
        assert!(
            s.run_until(Duration::from_secs(10), |s| s.both_connected()),
            "seed {seed}"
        );
        assert_selected(&s);
        s.run_for(Duration::from_secs(60));
        assert_ne!(s.state(0), IceConnectionState::Failed);
        assert_eq!(s.nodes[0].agent.pairs_nominated(), 1);
        assert_eq!(s.nodes[1].agent.pairs_nominated(), 1);
    }
}

#[test]
fn connects_through_a_relay_transport() {
    // A's host socket is firewalled; its TURN allocation (reached through transport 2) has the
    // public relayed address 198.51.100.50:6000.
    let mut s = host_pair(31);
    s.blocked.push(sa("10.0.0.1:1000"));
    s.sockets.push((0, 2, sa("100.64.0.1:1")));
    s.nats.push(Nat {
        private: sa("100.64.0.1:1"),
        public: sa("198.51.100.50:6000"),
    });
    s.agent(0)
        .add_relay_transport(2, sa("198.51.100.50:6000"), sa("10.0.0.1:1000"), RelayProtocol::Udp);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(10), |s| s.both_connected()));
    s.run_for(Duration::from_secs(10));
    assert!(s.both_connected());
    assert_eq!(
        s.nodes[0].agent.selected_pair(),
        Some((2, sa("10.0.0.2:2000")))
    );
    assert_eq!(
        s.nodes[1].agent.selected_pair(),
        Some((7, sa("198.51.100.50:6000")))
    );
    let relay = s.nodes[0]
        .agent
        .local_candidates()
        .iter()
        .find(|c| c.kind == CandidateKind::Relayed);
    let relay = relay.expect("relay candidate signaled");
    assert_eq!(relay.related_address, Some(sa("10.0.0.1:1000")));
    assert!(relay.priority < s.nodes[0].agent.local_candidates()[0].priority);
    assert!(relay
        .to_sdp_string()
        .contains("typ relay raddr 10.0.0.1 rport 1000"));
}

#[test]
fn ice_restart_keeps_the_path_and_switches_credentials() {
    let mut s = host_pair(41);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    s.run_for(Duration::from_secs(3));
    let events_before = (s.nodes[0].events.len(), s.nodes[1].events.len());
    // A restarts (new offer), B takes the offer and restarts too (new answer), with
    // signaling delays in between; traffic keeps flowing meanwhile.
    s.agent(0).restart();
    let a_new = creds_of(&s.nodes[0].agent);
    s.run_for(Duration::from_millis(300));
    s.agent(1).set_remote_credentials(a_new.clone());
    s.agent(1).restart();
    let b_new = creds_of(&s.nodes[1].agent);
    let now = s.now;
    s.agent(1).start_gathering(now);
    s.run_for(Duration::from_millis(300));
    s.agent(0).set_remote_credentials(b_new.clone());
    let now = s.now;
    s.agent(0).start_gathering(now);
    s.usernames.clear();
    s.run_for(Duration::from_secs(10));
    assert!(s.both_connected());
    assert_selected(&s);
    // No disconnection during the restart.
    for n in 0..2 {
        let after = &s.nodes[n].events[if n == 0 {
            events_before.0
        } else {
            events_before.1
        }..];
        assert!(
            !after
                .iter()
                .any(|(_, e)| matches!(e, IceEvent::ConnectionStateChanged(_))),
            "{after:?}"
        );
        assert!(after
            .iter()
            .any(|(_, e)| matches!(e, IceEvent::LocalCandidate(_))));
    }
    // Only the new credentials are in use now, and both sides nominated again.
    let a_req = format!("{}:{}", b_new.ufrag, a_new.ufrag);
    let b_req = format!("{}:{}", a_new.ufrag, b_new.ufrag);
    assert!(!s.usernames.is_empty());
    assert!(
        s.usernames.iter().all(|u| *u == a_req || *u == b_req),
        "{:?}",
        s.usernames
    );
    assert_eq!(s.nodes[0].agent.pairs_nominated(), 1);
    assert_eq!(s.nodes[1].agent.pairs_nominated(), 1);
}

#[test]
#[ignore]
fn print_timeline() {
    let seed = std::env::var("SEED")
        .map(|s| s.parse().unwrap())
        .unwrap_or(200);
    let loss = std::env::var("LOSS")
        .map(|s| s.parse().unwrap())
        .unwrap_or(20);
    let secs = std::env::var("SECS")
        .map(|s| s.parse().unwrap())
        .unwrap_or(300);
    let mut s = host_pair(seed);
    s.loss_percent = loss;
    s.exchange_credentials();
    s.start();
    s.run_for(Duration::from_secs(secs));
    for n in 0..2 {
        println!("{}", s.nodes[n].agent.debug_state());
        for (t, e) in &s.nodes[n].events {
            println!("{n} {:>8} {:?}", t.as_millis(), e);
        }
        println!("{:?}", s.nodes[n].agent.stats());
    }
}

#[test]
#[ignore]
fn loss_sweep() {
    let loss = std::env::var("LOSS")
        .map(|s| s.parse().unwrap())
        .unwrap_or(30);
    let mut fails = Vec::new();
    let mut worst = Duration::ZERO;
    for seed in 0..300 {
        let mut s = host_pair(seed);
        s.loss_percent = loss;
        s.exchange_credentials();
        s.start();
        let t0 = s.now;
        if s.run_until(Duration::from_secs(10), |s| s.both_connected()) {
            worst = worst.max(s.now - t0);
            if s.now - t0 > Duration::from_secs(4) {
                println!("slow seed {seed}: {:?}", s.now - t0);
            }
        } else {
            fails.push(seed);
        }
    }
    println!("loss {loss}: failures {fails:?}, slowest {worst:?}");
}

/// W3C `iceTransportPolicy: 'relay'`: no host or server-reflexive candidate, no STUN
/// request to a server, gathering still completes; a relayed transport is signaled.
#[test]
fn relay_only_gathers_relayed_candidates_only() {
    let drain = |a: &mut IceAgent| std::iter::from_fn(|| a.poll_event()).collect::<Vec<_>>();
    for set_later in [false, true] {
        let mut a = IceAgent::new(
            IceConfig {
                relay_only: !set_later,
                stun_servers: vec![sa("198.51.100.1:3478")],
                ..IceConfig::default()
            },
            Rng::seeded(7),
        );
        a.add_local_transport(1, sa("192.0.2.10:5000"));
        if set_later {
            a.set_gathering_config(vec![sa("198.51.100.1:3478")], true);
        }
        a.start_gathering(Time::ZERO);
        let events = drain(&mut a);
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, IceEvent::LocalCandidate(_))),
            "set_later={set_later}: {events:?}"
        );
        assert!(
            a.poll_transmit(Time::ZERO).is_none(),
            "no STUN server request"
        );
        assert_eq!(a.gathering_state(), IceGatheringState::Complete);
        // A relayed transport known when gathering starts is signaled.
        let mut a = IceAgent::new(
            IceConfig {
                relay_only: true,
                ..IceConfig::default()
            },
            Rng::seeded(7),
        );
        a.add_local_transport(1, sa("192.0.2.10:5000"));
        a.add_relay_transport(2, sa("203.0.113.5:40000"), sa("192.0.2.10:5000"), RelayProtocol::Udp);
        a.start_gathering(Time::ZERO);
        let events = drain(&mut a);
        let relayed: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                IceEvent::LocalCandidate(c) => Some(c.kind.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(relayed, vec![CandidateKind::Relayed]);
    }
    // The same transport under the default policy is signaled.
    let mut b = IceAgent::new(IceConfig::default(), Rng::seeded(7));
    b.add_local_transport(1, sa("192.0.2.10:5000"));
    b.start_gathering(Time::ZERO);
    assert!(matches!(b.poll_event(), Some(IceEvent::LocalCandidate(_))));
}

/// Fuzz regression (`fuzz/corpus/ice_candidate/crash-vertical-tab`): a trailing U+000B
/// was a token for the tokenizer but trimmed away on re-parse, so an extension vanished.
#[test]
fn candidate_with_vertical_tab_tokens_round_trips() {
    let input = "163049 1 udp 1677729535 203.0.113.7 61234 typ srflx \u{b}\r!/\u{b}.113.7 61234 typ srflx \u{b}\r!/\u{b}\u{b}";
    let c = Candidate::parse(input).unwrap();
    assert_eq!(c.extensions.last(), Some(&("srflx".to_string(), "\u{b}".to_string())));
    assert_eq!(Candidate::parse(&c.to_sdp_string()), Ok(c));
}

// ---- issue 5: the whole USERNAME of a request is checked (RFC 8445 §7.3) ------------------

/// A check request as the peer sends it.
/// A check request as the controlling peer sends it (tie-breaker 1: never a role conflict
/// with a controlled agent); `use_candidate` only matters to a controlled agent.
fn check_request(tid: u8, username: &str, key: &str, use_candidate: bool) -> Vec<u8> {
    check_request_from(true, tid, username, key, use_candidate)
}

/// The same from a controlled peer (tie-breaker 1: no conflict with a controlling agent).
fn check_request_from(controlling: bool, tid: u8, username: &str, key: &str, use_candidate: bool) -> Vec<u8> {
    stun::binding_request(
        &stun::BindingRequest {
            transaction_id: [tid; 12],
            username,
            priority: 1_000_000,
            controlling,
            tie_breaker: 1,
            use_candidate,
        },
        key.as_bytes(),
    )
}

/// Everything `agent` sends now and in the next second, as (destination, message).
fn sent(agent: &mut IceAgent, now: Time) -> Vec<(SocketAddr, Message)> {
    let mut out = Vec::new();
    for step in 0..=20u64 {
        let t = now + Duration::from_millis(step * 50);
        while let Some(tx) = agent.poll_transmit(t) {
            out.push((tx.destination, Message::decode(&tx.data).unwrap()));
        }
    }
    out
}

/// A controlled agent on 10.0.0.2:2000 and the credentials of its peer.
fn lone_agent(seed: u64) -> (IceAgent, IceCredentials) {
    let peer = IceAgent::new(controlling(), Rng::seeded(seed + 1000));
    let mut b = IceAgent::new(controlled(), Rng::seeded(seed));
    b.add_local_transport(7, sa("10.0.0.2:2000"));
    (b, peer.local_credentials().clone())
}

#[test]
fn request_for_another_remote_ufrag_gets_401_and_makes_no_pair() {
    let (mut b, peer) = lone_agent(60);
    b.set_remote_credentials(peer.clone());
    let ours = b.local_credentials().clone();
    let now = Time::from_millis(1000);
    let stranger = sa("10.0.0.9:3000");
    // Signed with our password (the sender knows it: a forked answer, another session or a
    // stale generation), but "theirs" is not the peer's ufrag, or missing.
    let wrong = [format!("{}:{}", ours.ufrag, "someoneelse"), format!("{}:", ours.ufrag), ours.ufrag.clone()];
    for (i, user) in wrong.iter().enumerate() {
        let req = check_request(i as u8, user, &ours.pwd, true);
        assert_eq!(b.handle_stun(now, 7, stranger, &req), Err(IceError::UnknownUsername), "{user}");
        let out = sent(&mut b, now);
        assert_eq!(out.len(), 1, "{user}: only the 401, no check: {out:?}");
        let (to, m) = &out[0];
        assert_eq!(*to, stranger);
        assert_eq!((m.class, m.error_code()), (Class::ErrorResponse, Some(401)), "{user}");
        assert_eq!(m.transaction_id, [i as u8; 12]);
        assert!(m.xor_mapped_address().is_none());
    }
    let st = b.stats();
    assert_eq!((st.unknown_username, st.responses_sent, st.peer_reflexive_remote), (3, 0, 0));
    assert!(b.remote_candidates().is_empty(), "no peer-reflexive candidate");
    assert_eq!(b.pairs_nominated(), 0);
    assert_eq!(b.connection_state(), IceConnectionState::New);
    // The same request with the peer's ufrag: answered, learned, checked back.
    let req = check_request(9, &format!("{}:{}", ours.ufrag, peer.ufrag), &ours.pwd, false);
    b.handle_stun(now, 7, stranger, &req).unwrap();
    let out = sent(&mut b, now);
    assert_eq!(out[0].1.class, Class::SuccessResponse);
    assert!(out[1..].iter().any(|(to, m)| *to == stranger && m.class == Class::Request), "{out:?}");
    assert_eq!(b.remote_candidates().len(), 1);
    assert_eq!(b.remote_candidates()[0].kind, CandidateKind::PeerReflexive);
}

#[test]
fn checks_before_the_remote_credentials_are_settled_when_they_arrive() {
    // RFC 8445 §7.3: a check may come before the remote description. It is answered at
    // once; what it taught is kept only if it named the ufrag the description then brings.
    let (mut b, peer) = lone_agent(61);
    let ours = b.local_credentials().clone();
    let now = Time::from_millis(1000);
    let (real, other) = (sa("10.0.0.1:1000"), sa("10.0.0.9:3000"));
    let req = check_request(1, &format!("{}:{}", ours.ufrag, "otherufrag"), &ours.pwd, true);
    b.handle_stun(now, 7, other, &req).unwrap();
    let req = check_request(2, &format!("{}:{}", ours.ufrag, peer.ufrag), &ours.pwd, false);
    b.handle_stun(now, 7, real, &req).unwrap();
    let out = sent(&mut b, now);
    assert_eq!(out.len(), 2, "both answered, no check without credentials: {out:?}");
    assert!(out.iter().all(|(_, m)| m.class == Class::SuccessResponse));
    assert_eq!(b.remote_candidates().len(), 2);
    // The description arrives: the other generation's candidate and pair are gone, the
    // queued triggered check goes to the real peer only.
    b.set_remote_credentials(peer.clone());
    let addrs: Vec<SocketAddr> = b.remote_candidates().iter().map(|c| c.address).collect();
    assert_eq!(addrs, vec![real]);
    let out = sent(&mut b, now);
    assert!(!out.is_empty());
    assert!(out.iter().all(|(to, m)| *to == real && m.class == Class::Request), "{out:?}");
    assert_eq!(out[0].1.username(), Some(format!("{}:{}", peer.ufrag, ours.ufrag).as_str()));
    // A candidate signaled for another generation before the credentials is dropped too
    // (RFC 8838 §11.4), one for this generation kept.
    let (mut c, peer) = lone_agent(62);
    let mut signaled = Candidate::parse("candidate:1 1 udp 2122260223 10.0.0.5 5000 typ host").unwrap();
    let mut stale = signaled.clone();
    stale.address = sa("10.0.0.6:5000");
    stale.extensions.push(("ufrag".into(), "oldgeneration".into()));
    signaled.extensions.push(("ufrag".into(), peer.ufrag.clone()));
    c.add_remote_candidate(now, stale).unwrap();
    c.add_remote_candidate(now, signaled).unwrap();
    c.set_remote_credentials(peer);
    let addrs: Vec<SocketAddr> = c.remote_candidates().iter().map(|c| c.address).collect();
    assert_eq!(addrs, vec![sa("10.0.0.5:5000")]);
}

#[test]
fn restart_generations_are_told_apart_by_the_remote_ufrag() {
    let mut s = host_pair(63);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    let (a_old, b_old) = (creds_of(&s.nodes[0].agent), creds_of(&s.nodes[1].agent));
    // A restarts; B answers with new credentials of its own, which A does not have yet.
    s.agent(0).restart();
    let a_new = creds_of(&s.nodes[0].agent);
    s.agent(1).set_remote_credentials(a_new.clone());
    s.agent(1).restart();
    let b_new = creds_of(&s.nodes[1].agent);
    let now = s.now;
    let newcomer = sa("10.0.0.8:4000");
    // B's new generation, ahead of its answer: answered (B may rely on it), nothing learned.
    let req = check_request_from(false, 1, &format!("{}:{}", a_new.ufrag, b_new.ufrag), &a_new.pwd, false);
    assert_eq!(s.agent(0).handle_stun(now, 1, newcomer, &req), Ok(()));
    let out = sent(s.agent(0), now);
    let answers: Vec<&Message> = out.iter().filter(|(to, _)| *to == newcomer).map(|(_, m)| m).collect();
    assert_eq!(answers.len(), 1, "{out:?}");
    assert_eq!(answers[0].class, Class::SuccessResponse);
    assert!(!s.nodes[0].agent.remote_candidates().iter().any(|c| c.address == newcomer));
    // The answer arrives; the restart completes.
    s.agent(0).set_remote_credentials(b_new.clone());
    let now = s.now;
    s.agent(0).start_gathering(now);
    s.agent(1).start_gathering(now);
    s.run_for(Duration::from_secs(5));
    assert!(s.both_connected());
    assert_selected(&s);
    // Requests of the old generation of B's ufrag, signed with A's current password (as a
    // stale or forked peer would): 401, nothing learned, the connection unaffected.
    let now = s.now;
    for (i, user) in [format!("{}:{}", a_new.ufrag, b_old.ufrag), format!("{}:{}", a_new.ufrag, a_old.ufrag)].iter().enumerate() {
        let req = check_request_from(false, 10 + i as u8, user, &a_new.pwd, false);
        assert_eq!(s.agent(0).handle_stun(now, 1, newcomer, &req), Err(IceError::UnknownUsername), "{user}");
    }
    let out = sent(s.agent(0), now);
    let to_newcomer: Vec<&Message> = out.iter().filter(|(to, _)| *to == newcomer).map(|(_, m)| m).collect();
    assert_eq!(to_newcomer.len(), 2, "{out:?}");
    assert!(to_newcomer.iter().all(|m| m.error_code() == Some(401)));
    assert!(!s.nodes[0].agent.remote_candidates().iter().any(|c| c.address == newcomer));
    s.run_for(Duration::from_secs(2));
    assert!(s.both_connected());
    assert_selected(&s);
}

// ---- issue 5: valid pairs from the XOR-MAPPED-ADDRESS (RFC 8445 §7.2.5.3.2) ---------------

#[test]
fn valid_pair_local_candidate_is_the_mapped_address() {
    // A behind a NAT: its checks' responses carry the public mapping, so its valid pair is
    // (peer-reflexive 203.0.113.9:40000 based on 10.0.0.1:1000, B), not the host pair.
    let mut s = host_pair(70);
    s.nats.push(Nat {
        private: sa("10.0.0.1:1000"),
        public: sa("203.0.113.9:40000"),
    });
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(5), |s| s.both_connected()));
    s.run_for(Duration::from_secs(1));
    let a = &s.nodes[0].agent;
    assert_eq!(a.selected_pair(), Some((1, sa("10.0.0.2:2000"))), "sent from the base");
    let (local, remote) = a.selected_candidates().unwrap();
    assert_eq!(local.kind, CandidateKind::PeerReflexive);
    assert_eq!(local.address, sa("203.0.113.9:40000"));
    assert_eq!(local.related_address, Some(sa("10.0.0.1:1000")));
    // Its priority is the PRIORITY our checks carried (§7.2.5.3.1): peer-reflexive type.
    let host_prio = creds_prio_of_host(a);
    assert_eq!(local.priority, candidate_priority(&CandidateKind::PeerReflexive, ((host_prio >> 8) & 0xffff) as u16, 1));
    assert_eq!(remote.address, sa("10.0.0.2:2000"));
    assert_eq!(a.stats().peer_reflexive_local, 1);
    // B is not behind a NAT: its valid pair's local candidate is its host candidate.
    let (b_local, b_remote) = s.nodes[1].agent.selected_candidates().unwrap();
    assert_eq!((b_local.kind, b_local.address), (CandidateKind::Host, sa("10.0.0.2:2000")));
    assert_eq!(b_remote.address, sa("203.0.113.9:40000"));
    // Re-parses as an SDP candidate (getSelectedCandidatePair / stats use that form).
    assert_eq!(Candidate::parse(&local.to_sdp_string()).unwrap(), local);
}

/// The host candidate priority of A's only transport, as signaled.
fn creds_prio_of_host(a: &IceAgent) -> u32 {
    a.local_candidates().iter().find(|c| c.kind == CandidateKind::Host).unwrap().priority
}

#[test]
fn mapped_address_sets_the_valid_pair_priority() {
    // A has two sockets: the first (higher local preference) is behind a NAT, the second
    // reaches B directly. Both checks succeed; the NATed one's valid pair has a
    // peer-reflexive local candidate and so a lower priority than the direct host pair,
    // which A must nominate (and both sides select).
    let mut s = Sim::new(controlling(), controlled(), 71);
    s.add_socket(0, 1, "10.0.0.1:1000");
    s.add_socket(0, 2, "10.0.0.3:1001");
    s.add_socket(1, 7, "10.0.0.2:2000");
    s.nats.push(Nat {
        private: sa("10.0.0.1:1000"),
        public: sa("203.0.113.9:40000"),
    });
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(5), |s| s.both_connected()
        && s.nodes[0].agent.pairs_nominated() > 0
        && s.nodes[1].agent.pairs_nominated() > 0));
    s.run_for(Duration::from_secs(2));
    assert_eq!(s.nodes[0].agent.selected_pair(), Some((2, sa("10.0.0.2:2000"))));
    assert_eq!(s.nodes[1].agent.selected_pair(), Some((7, sa("10.0.0.3:1001"))));
    let (local, _) = s.nodes[0].agent.selected_candidates().unwrap();
    assert_eq!((local.kind, local.address), (CandidateKind::Host, sa("10.0.0.3:1001")));
    assert!(s.both_connected());
}

#[test]
fn mapped_address_equal_to_a_gathered_srflx_names_that_candidate() {
    // Behind a NAT with a STUN server: the check's mapped address is the server-reflexive
    // candidate already gathered, so that is the valid pair's local candidate (no new
    // peer-reflexive one once it is known; consent responses keep it current).
    let mut s = behind_nat_with_stun(72, 72);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(5), |s| s.both_connected()));
    s.run_for(Duration::from_secs(8));
    let a = &s.nodes[0].agent;
    let srflx = a.local_candidates().iter().find(|c| c.kind == CandidateKind::ServerReflexive).unwrap().clone();
    let (local, _) = a.selected_candidates().unwrap();
    assert_eq!(local, srflx, "the signaled server-reflexive candidate");
    assert_eq!(local.related_address, Some(sa("10.0.0.1:1000")));
    assert_eq!(a.stats().peer_reflexive_local, 0);
    assert_eq!(a.selected_pair(), Some((1, sa("10.0.0.2:2000"))));
}

// ---- W3C "completed" (webrtc-pc RTCIceTransportState) --------------------------------------

fn both_in(s: &Sim, st: IceConnectionState) -> bool {
    s.state(0) == st && s.state(1) == st
}

#[test]
fn completed_needs_end_of_candidates_gathering_done_and_nomination() {
    let mut s = host_pair(31);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    s.run_for(Duration::from_secs(1));
    // Gathering finished and the pair is nominated, but the peer never said it has no more
    // candidates: still "connected".
    assert_eq!(s.nodes[0].agent.gathering_state(), IceGatheringState::Complete);
    assert!(s.nodes[0].agent.pairs_nominated() == 1 && s.nodes[1].agent.pairs_nominated() == 1);
    assert!(s.both_connected());
    s.agent(0).set_remote_end_of_candidates();
    assert_eq!(s.state(0), IceConnectionState::Completed);
    assert_eq!(s.state(1), IceConnectionState::Connected);
    s.agent(1).set_remote_end_of_candidates();
    s.run_for(Duration::from_millis(100));
    assert!(both_in(&s, IceConnectionState::Completed));
    let want = vec![
        IceConnectionState::Checking,
        IceConnectionState::Connected,
        IceConnectionState::Completed,
    ];
    assert_eq!(s.states(0), want);
    assert_eq!(s.states(1), want);
    // Consent checks keep it there.
    s.run_for(Duration::from_secs(30));
    assert!(both_in(&s, IceConnectionState::Completed));
    assert_selected(&s);
}

#[test]
fn completed_when_end_of_candidates_came_first() {
    let mut s = host_pair(32);
    s.exchange_credentials();
    s.start();
    s.run_for(Duration::from_millis(1));
    s.agent(0).set_remote_end_of_candidates();
    s.agent(1).set_remote_end_of_candidates();
    assert!(s.run_until(Duration::from_secs(3), |s| both_in(s, IceConnectionState::Completed)));
    // Both reach it after "connected" (the controlled side once USE-CANDIDATE came).
    for n in 0..2 {
        let st = s.states(n);
        assert_eq!(st.first(), Some(&IceConnectionState::Checking), "{st:?}");
        assert_eq!(st.last(), Some(&IceConnectionState::Completed), "{st:?}");
        assert!(st.contains(&IceConnectionState::Connected), "{st:?}");
    }
}

#[test]
fn completed_goes_back_to_connected_on_a_new_remote_candidate_or_restart() {
    let mut s = host_pair(33);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(3), |s| s.both_connected()));
    s.run_for(Duration::from_secs(1));
    s.agent(0).set_remote_end_of_candidates();
    s.agent(1).set_remote_end_of_candidates();
    assert!(both_in(&s, IceConnectionState::Completed));
    // A new remote candidate: the peer is not done after all.
    let now = s.now;
    let mut c = s.nodes[1].agent.local_candidates()[0].clone();
    c.address = sa("10.0.0.2:2001");
    s.agent(0).add_remote_candidate(now, c).unwrap();
    assert_eq!(s.state(0), IceConnectionState::Connected);
    s.agent(0).set_remote_end_of_candidates();
    assert_eq!(s.state(0), IceConnectionState::Completed);
    // A duplicate changes nothing.
    let dup = s.nodes[1].agent.local_candidates()[0].clone();
    s.agent(0).add_remote_candidate(now, dup).unwrap();
    assert_eq!(s.state(0), IceConnectionState::Completed);
    // ICE restart: gathering runs again, so not completed.
    s.agent(0).restart();
    assert_eq!(s.state(0), IceConnectionState::Connected);
}

#[test]
fn completed_consent_loss_disconnects_fails_and_recovers_to_completed() {
    let mut s = host_pair(34);
    s.exchange_credentials();
    s.start();
    s.agent(0).set_remote_end_of_candidates();
    s.agent(1).set_remote_end_of_candidates();
    assert!(s.run_until(Duration::from_secs(3), |s| both_in(s, IceConnectionState::Completed)));
    // A short outage: disconnected, then straight back to completed.
    s.cut = true;
    assert!(s.run_until(Duration::from_secs(20), |s| both_in(s, IceConnectionState::Disconnected)));
    s.cut = false;
    assert!(s.run_until(Duration::from_secs(5), |s| both_in(s, IceConnectionState::Completed)));
    let st = s.states(0);
    assert_eq!(
        st[st.len() - 2..],
        [IceConnectionState::Disconnected, IceConnectionState::Completed]
    );
    // A long one: disconnected, then failed.
    s.cut = true;
    assert!(s.run_until(Duration::from_secs(40), |s| both_in(s, IceConnectionState::Failed)));
    let st = s.states(0);
    assert_eq!(
        st[st.len() - 3..],
        [
            IceConnectionState::Completed,
            IceConnectionState::Disconnected,
            IceConnectionState::Failed
        ]
    );
}

#[test]
fn pair_stats_count_checks_and_name_the_srflx_server() {
    let mut s = behind_nat_with_stun(9, 99);
    s.exchange_credentials();
    s.start();
    assert!(s.run_until(Duration::from_secs(5), |s| s.both_connected()));
    // Consent checks every ~5 s on the selected pair.
    s.run_for(Duration::from_secs(12));
    assert!(s.both_connected());
    let a = &s.nodes[0].agent;
    assert_eq!(a.srflx_server(sa("203.0.113.9:40000")), Some(sa("198.51.100.1:3478")));
    assert_eq!(a.srflx_server(sa("10.0.0.1:1000")), None);
    for n in 0..2 {
        let pairs = s.nodes[n].agent.pair_stats();
        let sel: Vec<_> = pairs.iter().filter(|p| p.selected).collect();
        assert_eq!(sel.len(), 1, "node {n}: {pairs:?}");
        let p = sel[0];
        assert_eq!((p.state, p.nominated), ("succeeded", true), "node {n}");
        let c = &p.counters;
        assert!(c.requests_sent >= 1 && c.responses_received >= 1, "node {n}: {c:?}");
        assert!(c.requests_received >= 1 && c.responses_sent == c.requests_received, "node {n}: {c:?}");
        assert!(c.consent_requests_sent >= 1, "node {n}: {c:?}");
        assert!(c.current_round_trip_time.is_some() && c.total_round_trip_time >= c.current_round_trip_time.unwrap());
        // No application data went through the agent's counters.
        assert_eq!((c.packets_sent, c.bytes_received), (0, 0));
        for q in &pairs {
            assert!(["waiting", "in-progress", "succeeded", "failed"].contains(&q.state));
        }
    }
    // The controlling side's pair is seen by the peer through the NAT: its local candidate
    // is the server-reflexive one (the mapped address of the check responses).
    let sel = s.nodes[0].agent.pair_stats().into_iter().find(|p| p.selected).unwrap();
    assert_eq!(sel.local.address, sa("203.0.113.9:40000"));
    assert_eq!(sel.local.kind, CandidateKind::ServerReflexive);
    // note_datagram counts on the selected path only when a pair has it.
    let a = &mut s.nodes[0].agent;
    let now = Time::from_millis(60_000);
    assert!(a.note_datagram(now, true, 1, sa("10.0.0.2:2000"), 100));
    assert!(!a.note_datagram(now, true, 1, sa("10.9.9.9:9"), 100));
    let sel = a.pair_stats().into_iter().find(|p| p.selected).unwrap();
    assert_eq!((sel.counters.packets_sent, sel.counters.bytes_sent, sel.counters.last_packet_sent), (1, 100, Some(now)));
}

/// RFC 8445 §5.1.2.1: among relayed candidates, one over UDP outranks one over TCP, which
/// outranks one over TLS, whatever their address family and order; all stay below a host
/// candidate (type preference).
#[test]
fn relayed_candidates_rank_by_protocol_to_the_server() {
    let mut a = IceAgent::new(IceConfig::default(), Rng::seeded(9));
    a.add_local_transport(1, sa("192.0.2.10:5000"));
    a.add_relay_transport(10, sa("[2001:db8::5]:40003"), sa("192.0.2.10:5000"), RelayProtocol::Tls);
    a.add_relay_transport(11, sa("203.0.113.5:40002"), sa("192.0.2.10:5000"), RelayProtocol::Tcp);
    a.add_relay_transport(12, sa("203.0.113.5:40001"), sa("192.0.2.10:5000"), RelayProtocol::Udp);
    a.start_gathering(Time::ZERO);
    let mut by_port = std::collections::HashMap::new();
    while let Some(e) = a.poll_event() {
        if let IceEvent::LocalCandidate(c) = e {
            by_port.insert(c.address.port(), c.priority);
        }
    }
    let (host, udp, tcp, tls) = (by_port[&5000], by_port[&40001], by_port[&40002], by_port[&40003]);
    assert!(host > udp && udp > tcp && tcp > tls, "host {host} udp {udp} tcp {tcp} tls {tls}");
}
