//! Proves the simulated network in `common/`: delivery and delay, loss rate, reordering by
//! jitter, MTU drops, duplication, rate limit with tail drop, the hook, routing, seeding,
//! and that a broken endpoint fails a drive instead of hanging it.

mod common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use common::{Action, Datagram, DriveError, Endpoint, Fate, LinkConditions, Network, Step};
use polyrtc::{Time, Transmit, TransportId};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A trivial endpoint: sends scheduled datagrams at their times, records what arrives, and
/// optionally echoes it back to the sender.
#[derive(Default)]
struct TestNode {
    transport: TransportId,
    echo: bool,
    schedule: VecDeque<(Time, SocketAddr, Vec<u8>)>,
    out: VecDeque<Transmit>,
    received: Vec<(Time, SocketAddr, Vec<u8>)>,
}

impl TestNode {
    fn new(transport: TransportId) -> Self {
        TestNode { transport, ..Default::default() }
    }
    fn echo(transport: TransportId) -> Self {
        TestNode { transport, echo: true, ..Default::default() }
    }
    /// `count` datagrams to `to`, one every `every`, starting at `start`; each begins with
    /// its index (u32, big endian) and is `size` bytes long.
    fn with_stream(mut self, to: SocketAddr, start: Time, every: Duration, count: u32, size: usize) -> Self {
        for i in 0..count {
            self.schedule.push_back((start + every * i, to, packet(i, size)));
        }
        self
    }
    fn indices(&self) -> Vec<u32> {
        self.received.iter().map(|(_, _, d)| index(d)).collect()
    }
}

fn packet(i: u32, size: usize) -> Vec<u8> {
    let mut p = i.to_be_bytes().to_vec();
    p.resize(size.max(4), 0xab);
    p
}

fn index(d: &[u8]) -> u32 {
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

impl Endpoint for TestNode {
    fn handle_datagram(&mut self, now: Time, transport: TransportId, from: SocketAddr, data: &[u8]) {
        assert_eq!(transport, self.transport);
        self.received.push((now, from, data.to_vec()));
        if self.echo {
            self.out.push_back(Transmit { transport, destination: from, data: data.to_vec() });
        }
    }
    fn handle_timeout(&mut self, now: Time) {
        while self.schedule.front().is_some_and(|(t, _, _)| *t <= now) {
            let (_, to, data) = self.schedule.pop_front().unwrap();
            self.out.push_back(Transmit { transport: self.transport, destination: to, data });
        }
    }
    fn poll_transmit(&mut self, _now: Time) -> Option<Transmit> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Time> {
        self.schedule.front().map(|(t, _, _)| *t)
    }
}

const A: &str = "10.0.0.1:5000";
const B: &str = "10.0.0.2:6000";

/// A streams `count` packets of `size` bytes to B (one per ms) under `cond`; runs until all
/// were sent and the network drained. Returns the network.
fn one_way(seed: u64, cond: LinkConditions, count: u32, size: usize) -> Network<TestNode> {
    let mut net = Network::new(seed);
    net.set_conditions(cond);
    let a = TestNode::new(1).with_stream(addr(B), Time::ZERO, Duration::from_millis(1), count, size);
    net.add_endpoint(a, &[(1, addr(A))]);
    net.add_endpoint(TestNode::new(2), &[(2, addr(B))]);
    net.drive_until(
        |n| n.endpoint(0).schedule.is_empty() && n.in_flight() == 0,
        Duration::from_secs(3600),
        1000,
    )
    .unwrap();
    net
}

#[test]
fn delivery_with_fixed_delay_and_echo() {
    let mut net = Network::new(1);
    net.set_conditions(LinkConditions::ideal().delay(Duration::from_millis(20)));
    let a = TestNode::new(1).with_stream(addr(B), Time::ZERO, Duration::from_millis(1), 100, 50);
    let a = net.add_endpoint(a, &[(1, addr(A))]);
    let b = net.add_endpoint(TestNode::echo(2), &[(2, addr(B))]);
    net.drive_until(|n| n.endpoint(a).received.len() == 100, Duration::from_secs(10), 1000).unwrap();

    let got_b = &net.endpoint(b).received;
    assert_eq!(got_b.len(), 100);
    for (i, (t, from, data)) in got_b.iter().enumerate() {
        assert_eq!(*from, addr(A));
        assert_eq!(data, &packet(i as u32, 50));
        assert_eq!(*t, Time::from_millis(i as u64 + 20), "one-way delay");
    }
    for (i, (t, from, data)) in net.endpoint(a).received.iter().enumerate() {
        assert_eq!(*from, addr(B));
        assert_eq!(index(data), i as u32);
        assert_eq!(*t, Time::from_millis(i as u64 + 40), "round trip");
    }
    assert_eq!(net.now(), Time::from_millis(99 + 40));
    let s = net.stats();
    assert_eq!((s.sent, s.delivered, s.lost), (200, 200, 0));
    assert_eq!(net.local_addr(b, 2), Some(addr(B)));
}

#[test]
fn loss_rate_roughly_as_set() {
    for (seed, loss) in [(1, 0.1), (2, 0.3), (3, 0.5)] {
        let net = one_way(seed, LinkConditions::ideal().loss(loss), 10_000, 20);
        let got = net.endpoint(1).received.len() as f64 / 10_000.0;
        assert!((got - (1.0 - loss)).abs() < 0.02, "loss {loss}: delivered {got}");
        let s = net.stats();
        assert_eq!(s.sent, 10_000);
        assert_eq!(s.delivered + s.lost, 10_000);
        // Survivors keep their order without jitter.
        let idx = net.endpoint(1).indices();
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
    }
    let net = one_way(4, LinkConditions::ideal().loss(1.0), 100, 20);
    assert!(net.endpoint(1).received.is_empty());
}

fn inversions(idx: &[u32]) -> usize {
    idx.windows(2).filter(|w| w[0] > w[1]).count()
}

#[test]
fn jitter_reorders_within_bounds() {
    let cond = LinkConditions::ideal().delay(Duration::from_millis(10)).jitter(Duration::from_millis(15));
    let net = one_way(5, cond, 1000, 20);
    let node = net.endpoint(1);
    assert_eq!(node.received.len(), 1000);
    let idx = node.indices();
    assert!(inversions(&idx) > 100, "jitter of 15 ms over 1 ms spacing reorders: {}", inversions(&idx));
    let mut sorted = idx.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..1000).collect::<Vec<_>>(), "nothing lost or duplicated");
    for (t, _, d) in &node.received {
        let sent = Time::from_millis(u64::from(index(d)));
        let delay = *t - sent;
        assert!(delay >= Duration::from_millis(10) && delay <= Duration::from_millis(25), "{delay:?}");
    }
    // No jitter, no reordering.
    let net = one_way(5, LinkConditions::ideal().delay(Duration::from_millis(10)), 1000, 20);
    assert_eq!(inversions(&net.endpoint(1).indices()), 0);
}

#[test]
fn mtu_drops_oversize_datagrams() {
    let mut net = Network::new(6);
    net.set_conditions(LinkConditions::ideal().mtu(1200));
    let mut a = TestNode::new(1);
    for i in 0..100u32 {
        let size = if i % 2 == 0 { 1200 } else { 1201 };
        a.schedule.push_back((Time::from_millis(u64::from(i)), addr(B), packet(i, size)));
    }
    net.add_endpoint(a, &[(1, addr(A))]);
    net.add_endpoint(TestNode::new(2), &[(2, addr(B))]);
    net.drive_until(|n| n.endpoint(0).schedule.is_empty() && n.in_flight() == 0, Duration::from_secs(1), 100)
        .unwrap();
    let idx = net.endpoint(1).indices();
    assert_eq!(idx, (0..100).step_by(2).collect::<Vec<_>>());
    assert_eq!(net.stats().mtu_dropped, 50);
}

#[test]
fn duplication_delivers_copies() {
    let net = one_way(7, LinkConditions::ideal().duplicate(0.25), 4000, 20);
    let node = net.endpoint(1);
    let n = node.received.len();
    assert!((4800..=5200).contains(&n), "{n}");
    assert_eq!(net.stats().duplicated as usize, n - 4000);
    let mut idx = node.indices();
    idx.sort_unstable();
    idx.dedup();
    assert_eq!(idx.len(), 4000, "every original arrives");
}

#[test]
fn rate_limit_queues_and_tail_drops() {
    // 100 kB/s, 10 kB queue, 50 datagrams of 1000 bytes sent at once: 10 fit, 40 are
    // tail-dropped, and the 10 leave 10 ms apart.
    let mut net = Network::new(8);
    net.set_conditions(LinkConditions::ideal().delay(Duration::from_millis(5)).rate(100_000, 10_000));
    let mut a = TestNode::new(1);
    for i in 0..50u32 {
        a.schedule.push_back((Time::ZERO, addr(B), packet(i, 1000)));
    }
    // A later one, after the queue drained, gets through again.
    a.schedule.push_back((Time::from_millis(500), addr(B), packet(50, 1000)));
    net.add_endpoint(a, &[(1, addr(A))]);
    net.add_endpoint(TestNode::new(2), &[(2, addr(B))]);
    net.drive_until(|n| n.endpoint(0).schedule.is_empty() && n.in_flight() == 0, Duration::from_secs(2), 100)
        .unwrap();
    let node = net.endpoint(1);
    let got: Vec<(u64, u32)> = node.received.iter().map(|(t, _, d)| (t.as_millis(), index(d))).collect();
    let mut want: Vec<(u64, u32)> = (0..10).map(|i| (10 * (u64::from(i) + 1) + 5, i)).collect();
    want.push((515, 50));
    assert_eq!(got, want);
    assert_eq!(net.stats().queue_dropped, 40);
}

#[test]
fn per_link_conditions_override_default() {
    let mut net = Network::new(9);
    net.set_conditions(LinkConditions::ideal().delay(Duration::from_millis(50)));
    let a = TestNode::new(1).with_stream(addr(B), Time::ZERO, Duration::from_millis(1), 10, 8);
    let a = net.add_endpoint(a, &[(1, addr(A))]);
    let b = net.add_endpoint(TestNode::echo(2), &[(2, addr(B))]);
    net.set_link(a, b, LinkConditions::ideal().delay(Duration::from_millis(1)));
    net.drive_until(|n| n.endpoint(a).received.len() == 10, Duration::from_secs(1), 100).unwrap();
    assert_eq!(net.endpoint(b).received[0].0, Time::from_millis(1));
    assert_eq!(net.endpoint(a).received[0].0, Time::from_millis(51));
}

#[test]
fn hook_drops_replaces_and_holds() {
    let mut net = Network::new(10);
    let a = TestNode::new(1).with_stream(addr(B), Time::ZERO, Duration::from_millis(1), 30, 8);
    net.add_endpoint(a, &[(1, addr(A))]);
    net.add_endpoint(TestNode::new(2), &[(2, addr(B))]);
    let held: Rc<RefCell<Vec<Datagram>>> = Rc::default();
    let h = held.clone();
    net.set_hook(move |d| match index(&d.data) % 3 {
        0 => Action::Drop,
        1 => Action::Replace(packet(index(&d.data) + 1000, 8)),
        _ => {
            if index(&d.data) == 29 {
                h.borrow_mut().push(d.clone());
                Action::Drop
            } else {
                assert_eq!((d.from, d.to, d.source, d.destination), (0, 1, addr(A), addr(B)));
                Action::Deliver
            }
        }
    });
    net.drive_until(|n| n.endpoint(0).schedule.is_empty() && n.in_flight() == 0, Duration::from_secs(1), 100)
        .unwrap();
    let want: Vec<u32> = (0..29).filter(|i| i % 3 != 0).map(|i| if i % 3 == 1 { i + 1000 } else { i }).collect();
    assert_eq!(net.endpoint(1).indices(), want);
    assert_eq!(net.stats().hook_dropped, 11);
    assert_eq!(net.stats().hook_replaced, 10);

    // Release the held datagram later.
    net.clear_hook();
    let d = held.borrow_mut().pop().unwrap();
    let at = net.now() + Duration::from_millis(100);
    net.inject(d, at);
    net.drive_until(|n| n.endpoint(1).received.len() == want.len() + 1, Duration::from_secs(1), 100).unwrap();
    assert_eq!(net.now(), at);
    assert_eq!(net.endpoint(1).received.last().map(|r| index(&r.2)), Some(29));
}

#[test]
fn unroutable_and_bad_source_are_counted() {
    let mut net = Network::new(11);
    let mut a = TestNode::new(1);
    a.out.push_back(Transmit { transport: 1, destination: addr("192.0.2.1:1"), data: vec![0; 4] });
    a.out.push_back(Transmit { transport: 7, destination: addr(B), data: vec![0; 4] });
    net.add_endpoint(a, &[(1, addr(A))]);
    net.add_endpoint(TestNode::new(2), &[(2, addr(B))]);
    assert_eq!(net.step(), Ok(Step::Worked));
    assert_eq!(net.step(), Ok(Step::Idle));
    assert_eq!((net.stats().unroutable, net.stats().bad_source), (1, 1));
    assert!(net.endpoint(1).received.is_empty());
}

#[test]
fn multiple_transports_route_by_destination() {
    let mut net: Network<TestNode> = Network::new(12);
    let mut a = TestNode::new(1);
    a.out.push_back(Transmit { transport: 1, destination: addr("10.0.0.3:1"), data: packet(1, 4) });
    a.out.push_back(Transmit { transport: 1, destination: addr("10.0.0.3:2"), data: packet(2, 4) });
    net.add_endpoint(a, &[(1, addr(A))]);
    net.add_endpoint(TestNode::new(5), &[(5, addr("10.0.0.3:1"))]);
    net.add_endpoint(TestNode::new(6), &[(6, addr("10.0.0.3:2"))]);
    net.drive_until(|n| n.in_flight() == 0 && n.stats().delivered == 2, Duration::from_secs(1), 10).unwrap();
    assert_eq!(net.endpoint(1).indices(), vec![1]);
    assert_eq!(net.endpoint(2).indices(), vec![2]);
}

#[test]
fn same_seed_same_run_other_seed_differs() {
    let cond = LinkConditions::ideal()
        .loss(0.2)
        .duplicate(0.1)
        .delay(Duration::from_millis(5))
        .jitter(Duration::from_millis(5));
    let run = |seed| {
        let net = one_way(seed, cond.clone(), 500, 16);
        net.endpoint(1).received.iter().map(|(t, _, d)| (*t, index(d))).collect::<Vec<_>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn clock_jumps_to_the_next_event() {
    // A 30-minute scenario with one datagram every minute takes a few steps, not 30 minutes.
    let mut net = Network::new(13);
    let a = TestNode::new(1).with_stream(addr(B), Time::ZERO, Duration::from_secs(60), 30, 8);
    net.add_endpoint(a, &[(1, addr(A))]);
    net.add_endpoint(TestNode::new(2), &[(2, addr(B))]);
    let mut steps = 0;
    net.drive_until(
        |n| {
            steps += 1;
            n.endpoint(1).received.len() == 30
        },
        Duration::from_secs(3600),
        10,
    )
    .unwrap();
    assert!(steps < 200, "{steps}");
    assert_eq!(net.now(), Time::from_millis(29 * 60_000));
}

/// Wants a timeout in the past forever and never moves it: time cannot advance.
struct Stuck;
impl Endpoint for Stuck {
    fn handle_datagram(&mut self, _: Time, _: TransportId, _: SocketAddr, _: &[u8]) {}
    fn handle_timeout(&mut self, _: Time) {}
    fn poll_transmit(&mut self, _: Time) -> Option<Transmit> {
        None
    }
    fn poll_timeout(&self) -> Option<Time> {
        Some(Time::ZERO)
    }
}

/// Sends to itself with no delay forever: work at one instant, never ending.
struct PingSelf(VecDeque<Transmit>);
impl Endpoint for PingSelf {
    fn handle_datagram(&mut self, _: Time, t: TransportId, from: SocketAddr, d: &[u8]) {
        self.0.push_back(Transmit { transport: t, destination: from, data: d.to_vec() });
    }
    fn handle_timeout(&mut self, _: Time) {}
    fn poll_transmit(&mut self, _: Time) -> Option<Transmit> {
        self.0.pop_front()
    }
    fn poll_timeout(&self) -> Option<Time> {
        None
    }
}

/// Never stops producing datagrams from one `poll_transmit` loop.
struct Flood;
impl Endpoint for Flood {
    fn handle_datagram(&mut self, _: Time, _: TransportId, _: SocketAddr, _: &[u8]) {}
    fn handle_timeout(&mut self, _: Time) {}
    fn poll_transmit(&mut self, _: Time) -> Option<Transmit> {
        Some(Transmit { transport: 1, destination: "10.0.0.9:9".parse().unwrap(), data: vec![1] })
    }
    fn poll_timeout(&self) -> Option<Time> {
        None
    }
}

#[test]
fn livelock_is_detected() {
    let mut net = Network::new(14);
    net.add_endpoint(Stuck, &[(1, addr(A))]);
    let err = net.drive_until(|_| false, Duration::from_secs(10), 1000).unwrap_err();
    assert_eq!(err, DriveError::Livelock { now: Time::ZERO, steps: 1001 });

    let mut net = Network::new(15);
    let mut p = PingSelf(VecDeque::new());
    p.0.push_back(Transmit { transport: 1, destination: addr(A), data: vec![0] });
    net.add_endpoint(p, &[(1, addr(A))]);
    assert!(matches!(net.drive_until(|_| false, Duration::from_secs(10), 500), Err(DriveError::Livelock { .. })));

    let mut net = Network::new(16);
    net.add_endpoint(Flood, &[(1, addr(A))]);
    assert_eq!(
        net.drive_until(|_| false, Duration::from_secs(10), 500),
        Err(DriveError::TransmitFlood { now: Time::ZERO, endpoint: 0 })
    );
}

#[test]
fn timeout_and_idle_are_reported() {
    // Something keeps happening, but the condition never holds: virtual timeout.
    let mut net = Network::new(17);
    let a = TestNode::new(1).with_stream(addr(B), Time::ZERO, Duration::from_millis(10), 1000, 8);
    net.add_endpoint(a, &[(1, addr(A))]);
    net.add_endpoint(TestNode::new(2), &[(2, addr(B))]);
    assert_eq!(
        net.drive_until(|_| false, Duration::from_secs(1), 100),
        Err(DriveError::Timeout { now: Time::from_millis(1000) })
    );
    // Nothing left to happen: idle.
    let mut net: Network<TestNode> = Network::new(18);
    net.add_endpoint(TestNode::new(1), &[(1, addr(A))]);
    assert_eq!(net.drive_until(|_| false, Duration::from_secs(1), 100), Err(DriveError::Idle { now: Time::ZERO }));
    // drive_for ends exactly at the requested time even when idle.
    net.drive_for(Duration::from_secs(3), 10).unwrap();
    assert_eq!(net.now(), Time::from_millis(3000));
}

#[test]
fn trace_records_every_fate() {
    let mut net = Network::new(19);
    net.enable_trace();
    net.set_conditions(LinkConditions::ideal().loss(0.2).duplicate(0.2).mtu(100).delay(Duration::from_millis(3)));
    let mut a = TestNode::new(1);
    for i in 0..200u32 {
        let size = if i % 10 == 0 { 101 } else { 100 };
        a.schedule.push_back((Time::from_millis(u64::from(i)), addr(B), packet(i, size)));
    }
    a.schedule.push_back((Time::from_millis(300), addr("10.9.9.9:9"), packet(999, 8)));
    net.add_endpoint(a, &[(1, addr(A))]);
    net.add_endpoint(TestNode::new(2), &[(2, addr(B))]);
    net.drive_until(|n| n.endpoint(0).schedule.is_empty() && n.in_flight() == 0, Duration::from_secs(1), 100)
        .unwrap();
    let s = net.stats().clone();
    let count = |f: fn(&Fate) -> bool| net.trace().filter(|e| f(&e.fate)).count() as u64;
    assert_eq!(count(|f| matches!(f, Fate::Scheduled(_))), s.delivered);
    assert_eq!(count(|f| *f == Fate::Lost), s.lost);
    assert_eq!(count(|f| *f == Fate::MtuDropped), 20);
    assert_eq!(count(|f| *f == Fate::Unroutable), 1);
    assert_eq!(net.trace().count() as u64, s.sent + s.duplicated);
    for e in net.trace() {
        if let Fate::Scheduled(t) = e.fate {
            assert_eq!(t - e.at, Duration::from_millis(3));
        }
    }
    assert!(net.trace_dump().lines().count() > 200);
}

/// A tiny stop-and-wait ARQ (send, wait for the ack, retransmit on a timer), to show the
/// harness drives timer-based state machines through a bad link to completion.
struct Arq {
    transport: TransportId,
    peer: SocketAddr,
    to_send: VecDeque<u32>,
    in_flight: Option<(u32, Time)>,
    out: VecDeque<Transmit>,
    delivered: Vec<u32>,
    retransmissions: u32,
}

const ARQ_RTO: Duration = Duration::from_millis(60);

impl Arq {
    fn new(transport: TransportId, peer: SocketAddr, count: u32) -> Arq {
        Arq {
            transport,
            peer,
            to_send: (0..count).collect(),
            in_flight: None,
            out: VecDeque::new(),
            delivered: Vec::new(),
            retransmissions: 0,
        }
    }
    fn push(&mut self, kind: u8, seq: u32) {
        let mut data = vec![kind];
        data.extend_from_slice(&seq.to_be_bytes());
        self.out.push_back(Transmit { transport: self.transport, destination: self.peer, data });
    }
    fn send_next(&mut self, now: Time) {
        if self.in_flight.is_none() {
            if let Some(seq) = self.to_send.pop_front() {
                self.push(b'D', seq);
                self.in_flight = Some((seq, now + ARQ_RTO));
            }
        }
    }
}

impl Endpoint for Arq {
    fn handle_datagram(&mut self, now: Time, _: TransportId, _: SocketAddr, data: &[u8]) {
        let [kind, a, b, c, d] = data else { return };
        let seq = u32::from_be_bytes([*a, *b, *c, *d]);
        match kind {
            b'D' => {
                // In order only: a retransmission of an old one is acked again, not delivered.
                if self.delivered.last().map_or(seq == 0, |l| seq == l + 1) {
                    self.delivered.push(seq);
                }
                self.push(b'A', seq);
            }
            b'A' if self.in_flight.is_some_and(|(s, _)| s == seq) => {
                self.in_flight = None;
                self.send_next(now);
            }
            _ => {}
        }
    }
    fn handle_timeout(&mut self, now: Time) {
        if let Some((seq, deadline)) = self.in_flight {
            if deadline <= now {
                self.retransmissions += 1;
                self.push(b'D', seq);
                self.in_flight = Some((seq, now + ARQ_RTO));
            }
        }
        self.send_next(now);
    }
    fn poll_transmit(&mut self, _: Time) -> Option<Transmit> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Time> {
        match self.in_flight {
            Some((_, deadline)) => Some(deadline),
            None if !self.to_send.is_empty() => Some(Time::ZERO),
            None => None,
        }
    }
}

#[test]
fn timer_driven_endpoints_complete_over_a_bad_link() {
    let mut net = Network::new(20);
    net.set_conditions(
        LinkConditions::ideal()
            .loss(0.3)
            .duplicate(0.1)
            .delay(Duration::from_millis(10))
            .jitter(Duration::from_millis(10)),
    );
    let a = net.add_endpoint(Arq::new(1, addr(B), 200), &[(1, addr(A))]);
    let b = net.add_endpoint(Arq::new(2, addr(A), 0), &[(2, addr(B))]);
    net.drive_until(|n| n.endpoint(b).delivered.len() == 200, Duration::from_secs(600), 1000).unwrap();
    assert_eq!(net.endpoint(b).delivered, (0..200).collect::<Vec<_>>());
    assert!(net.endpoint(a).retransmissions > 50, "{}", net.endpoint(a).retransmissions);
    // Afterwards everything goes quiet: no timer left, nothing in flight.
    net.drive_until(|n| n.in_flight() == 0 && n.next_event().is_none(), Duration::from_secs(10), 1000).unwrap();
}
