//! The pair harness: any number of sans-IO endpoints on a simulated network with a virtual
//! clock. Used by every integration test in `tests/`.
//!
//! - Each endpoint owns one or more local addresses (`TransportId -> SocketAddr`); datagrams
//!   are routed by destination address.
//! - Link conditions (seeded): loss, fixed delay plus jitter (which reorders), duplication,
//!   MTU (oversize dropped), rate limit with a bounded queue (tail drop). One default for
//!   every link, overridable per directed link.
//! - A hook sees every datagram before the link conditions and may deliver, drop or replace
//!   it; [`Network::inject`] puts a held datagram back later.
//! - The clock jumps to the earliest of the next delivery and the endpoints' `poll_timeout`.
//!   [`Network::drive_until`] fails on livelock (too many steps at one instant), on a
//!   transmit flood, when nothing is left to happen, or at the virtual deadline, so a broken
//!   endpoint fails the test instead of hanging it.
//!
//! Nothing here reads the wall clock.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use polyrtc::crypto::Rng;
use polyrtc::{Time, Transmit, TransportId};

/// A sans-IO endpoint the network can drive.
pub trait Endpoint {
    fn handle_datagram(&mut self, now: Time, transport: TransportId, from: SocketAddr, data: &[u8]);
    fn handle_timeout(&mut self, now: Time);
    fn poll_transmit(&mut self, now: Time) -> Option<Transmit>;
    fn poll_timeout(&self) -> Option<Time>;
}

/// Implements [`Endpoint`] for a test wrapper of a `polyrtc::peer::Peer` held in its field
/// `peer`, calling the wrapper's own `drain()` (events into its logs) after every input.
/// The wrapper's file must import `SocketAddr`, `Time`, `Transmit` and `TransportId`.
#[macro_export]
macro_rules! peer_endpoint {
    ($node:ty) => {
        impl Endpoint for $node {
            fn handle_datagram(&mut self, now: Time, transport: TransportId, from: SocketAddr, data: &[u8]) {
                self.peer.handle_datagram(now, transport, from, data);
                self.drain();
            }
            fn handle_timeout(&mut self, now: Time) {
                self.peer.handle_timeout(now);
                self.drain();
            }
            fn poll_transmit(&mut self, now: Time) -> Option<Transmit> {
                self.peer.poll_transmit(now)
            }
            fn poll_timeout(&self) -> Option<Time> {
                self.peer.poll_timeout()
            }
        }
    };
}

/// Index of an endpoint in its [`Network`].
pub type EndpointId = usize;

/// A datagram as the hook sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// The sending endpoint and its local transport.
    pub from: EndpointId,
    pub transport: TransportId,
    pub source: SocketAddr,
    /// The receiving endpoint (routing already resolved).
    pub to: EndpointId,
    pub destination: SocketAddr,
    pub data: Vec<u8>,
    pub sent_at: Time,
}

/// What the hook decides for one datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Hand it to the link conditions as sent.
    Deliver,
    /// Drop it (hold it by keeping a copy and [`Network::inject`] it later).
    Drop,
    /// Send these bytes instead.
    Replace(Vec<u8>),
}

pub type Hook = Box<dyn FnMut(&Datagram) -> Action>;

/// Conditions of one directed link. `Default` is a perfect link: no loss, no delay.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConditions {
    /// Probability in 0..=1 that a datagram is lost.
    pub loss: f64,
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Extra delay, uniform in `0..=jitter`, drawn per datagram (so datagrams reorder when
    /// the jitter exceeds their spacing).
    pub jitter: Duration,
    /// Probability in 0..=1 that a datagram is delivered twice (the copy has its own jitter).
    pub duplicate: f64,
    /// Datagrams longer than this are dropped.
    pub mtu: Option<usize>,
    /// Bottleneck rate in bytes per second; datagrams queue behind each other.
    pub rate: Option<u64>,
    /// Most bytes waiting in the bottleneck queue (including the one being sent);
    /// a datagram that would exceed it is tail-dropped. Only used with `rate`.
    pub queue_limit: usize,
}

impl Default for LinkConditions {
    fn default() -> Self {
        LinkConditions {
            loss: 0.0,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            duplicate: 0.0,
            mtu: None,
            rate: None,
            queue_limit: 64 * 1024,
        }
    }
}

impl LinkConditions {
    pub fn ideal() -> Self {
        Self::default()
    }
    pub fn loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
    pub fn jitter(mut self, d: Duration) -> Self {
        self.jitter = d;
        self
    }
    pub fn duplicate(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }
    pub fn mtu(mut self, mtu: usize) -> Self {
        self.mtu = Some(mtu);
        self
    }
    pub fn rate(mut self, bytes_per_sec: u64, queue_limit: usize) -> Self {
        self.rate = Some(bytes_per_sec);
        self.queue_limit = queue_limit;
        self
    }
}

/// Counters of what the network did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams endpoints sent (routable or not).
    pub sent: u64,
    /// Datagrams handed to an endpoint (duplicates and injections included).
    pub delivered: u64,
    pub lost: u64,
    pub mtu_dropped: u64,
    pub queue_dropped: u64,
    pub duplicated: u64,
    pub hook_dropped: u64,
    pub hook_replaced: u64,
    pub injected: u64,
    /// No endpoint owns the destination address.
    pub unroutable: u64,
    /// The endpoint sent from a transport id it does not own.
    pub bad_source: u64,
}

/// Why a drive failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriveError {
    /// The condition did not hold by the virtual deadline.
    Timeout { now: Time },
    /// `steps` steps ran without the clock advancing.
    Livelock { now: Time, steps: usize },
    /// An endpoint produced more than [`MAX_TRANSMITS_PER_DRAIN`] datagrams in one drain.
    TransmitFlood { now: Time, endpoint: EndpointId },
    /// Nothing in flight and no endpoint wants a timeout: the condition can never become true.
    Idle { now: Time },
}

impl fmt::Display for DriveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for DriveError {}

/// Bound on one endpoint's datagrams per drain, so `poll_transmit` returning `Some` forever
/// fails the test instead of hanging it.
pub const MAX_TRANSMITS_PER_DRAIN: usize = 100_000;

/// Most trace entries kept (the oldest are discarded beyond it).
pub const MAX_TRACE: usize = 100_000;

/// What happened to one sent datagram (see [`Network::enable_trace`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Scheduled to arrive at this time.
    Scheduled(Time),
    Lost,
    MtuDropped,
    QueueDropped,
    HookDropped,
    Unroutable,
    BadSource,
}

/// One line of the trace: a datagram sent at `at` by `from` (to `to` when routable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    pub at: Time,
    pub from: EndpointId,
    pub to: Option<EndpointId>,
    pub len: usize,
    /// The first bytes (enough to tell STUN, DTLS and SRTP apart).
    pub head: [u8; 4],
    pub fate: Fate,
}

/// What one [`Network::step`] did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Datagrams were sent or delivered or timeouts fired at the current instant.
    Worked,
    /// Nothing was due: the clock jumped to the next event.
    Advanced,
    /// Nothing is due and nothing is scheduled.
    Idle,
}

struct InFlight {
    arrive: Time,
    seq: u64,
    to: EndpointId,
    to_transport: TransportId,
    source: SocketAddr,
    data: Vec<u8>,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        (self.arrive, self.seq) == (other.arrive, other.seq)
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for InFlight {
    /// Reversed: the max-heap pops the earliest arrival (then the earliest sent).
    fn cmp(&self, other: &Self) -> Ordering {
        (other.arrive, other.seq).cmp(&(self.arrive, self.seq))
    }
}

/// The simulated network. All endpoints have the same type `E` (use an enum to mix kinds).
pub struct Network<E> {
    now: Time,
    nodes: Vec<E>,
    routes: HashMap<SocketAddr, (EndpointId, TransportId)>,
    locals: HashMap<(EndpointId, TransportId), SocketAddr>,
    default_link: LinkConditions,
    links: HashMap<(EndpointId, EndpointId), LinkConditions>,
    /// Per directed link: when the bottleneck finishes sending what is queued.
    busy_until: HashMap<(EndpointId, EndpointId), Time>,
    in_flight: BinaryHeap<InFlight>,
    seq: u64,
    rng: Rng,
    hook: Option<Hook>,
    stats: Stats,
    trace: Option<std::collections::VecDeque<TraceEntry>>,
}

impl<E: Endpoint> Network<E> {
    /// A network whose randomness (loss, jitter, duplication) comes from `seed`.
    pub fn new(seed: u64) -> Self {
        Network {
            now: Time::ZERO,
            nodes: Vec::new(),
            routes: HashMap::new(),
            locals: HashMap::new(),
            default_link: LinkConditions::default(),
            links: HashMap::new(),
            busy_until: HashMap::new(),
            in_flight: BinaryHeap::new(),
            seq: 0,
            rng: Rng::seeded(seed),
            hook: None,
            stats: Stats::default(),
            trace: None,
        }
    }

    /// Starts recording the fate of every sent datagram (at most [`MAX_TRACE`] entries).
    pub fn enable_trace(&mut self) {
        self.trace.get_or_insert_with(Default::default);
    }

    pub fn trace(&self) -> impl Iterator<Item = &TraceEntry> {
        self.trace.iter().flatten()
    }

    /// The trace, one datagram a line, for a failing test's output.
    pub fn trace_dump(&self) -> String {
        let mut out = String::new();
        for e in self.trace() {
            out.push_str(&format!(
                "{:>10}us {} -> {:?} {:>5}B {:02x?} {:?}\n",
                e.at.as_micros(),
                e.from,
                e.to,
                e.len,
                e.head,
                e.fate
            ));
        }
        out
    }

    fn record(&mut self, from: EndpointId, to: Option<EndpointId>, data: &[u8], fate: Fate) {
        if let Some(trace) = self.trace.as_mut() {
            if trace.len() >= MAX_TRACE {
                trace.pop_front();
            }
            let mut head = [0u8; 4];
            for (h, b) in head.iter_mut().zip(data) {
                *h = *b;
            }
            trace.push_back(TraceEntry { at: self.now, from, to, len: data.len(), head, fate });
        }
    }

    /// Adds an endpoint owning `addrs` (its transports). Panics on an address already taken
    /// (a mistake in the test's setup).
    pub fn add_endpoint(&mut self, endpoint: E, addrs: &[(TransportId, SocketAddr)]) -> EndpointId {
        let id = self.nodes.len();
        for &(transport, addr) in addrs {
            assert!(self.routes.insert(addr, (id, transport)).is_none(), "address {addr} taken twice");
            assert!(self.locals.insert((id, transport), addr).is_none(), "transport {transport} twice");
        }
        self.nodes.push(endpoint);
        id
    }

    /// Conditions for every link without its own.
    pub fn set_conditions(&mut self, conditions: LinkConditions) {
        self.default_link = conditions;
    }

    /// Conditions for the directed link `from -> to`.
    pub fn set_link(&mut self, from: EndpointId, to: EndpointId, conditions: LinkConditions) {
        self.links.insert((from, to), conditions);
    }

    pub fn set_hook(&mut self, hook: impl FnMut(&Datagram) -> Action + 'static) {
        self.hook = Some(Box::new(hook));
    }

    pub fn clear_hook(&mut self) {
        self.hook = None;
    }

    pub fn now(&self) -> Time {
        self.now
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn endpoint(&self, id: EndpointId) -> &E {
        &self.nodes[id]
    }

    /// For API calls and draining events between steps.
    pub fn endpoint_mut(&mut self, id: EndpointId) -> &mut E {
        &mut self.nodes[id]
    }

    /// Two endpoints at once (e.g. to pass an offer from one to the other).
    pub fn pair_mut(&mut self, a: EndpointId, b: EndpointId) -> (&mut E, &mut E) {
        assert_ne!(a, b);
        if a < b {
            let (l, r) = self.nodes.split_at_mut(b);
            (&mut l[a], &mut r[0])
        } else {
            let (l, r) = self.nodes.split_at_mut(a);
            (&mut r[0], &mut l[b])
        }
    }

    /// The address an endpoint owns for a transport.
    pub fn local_addr(&self, id: EndpointId, transport: TransportId) -> Option<SocketAddr> {
        self.locals.get(&(id, transport)).copied()
    }

    /// Number of datagrams on the wire.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Delivers `datagram` (e.g. one the hook held) at `at`, bypassing the hook and the link
    /// conditions. `at` before now means now.
    pub fn inject(&mut self, datagram: Datagram, at: Time) {
        self.stats.injected += 1;
        let Some(&(to, to_transport)) = self.routes.get(&datagram.destination) else {
            self.stats.unroutable += 1;
            return;
        };
        self.schedule(at.max(self.now), to, to_transport, datagram.source, datagram.data);
    }

    fn schedule(&mut self, arrive: Time, to: EndpointId, to_transport: TransportId, source: SocketAddr, data: Vec<u8>) {
        self.seq += 1;
        self.in_flight.push(InFlight { arrive, seq: self.seq, to, to_transport, source, data });
    }

    fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        let unit = (self.rng.u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit < p
    }

    fn jitter(&mut self, jitter: Duration) -> Duration {
        let us = u64::try_from(jitter.as_micros()).unwrap_or(u64::MAX);
        if us == 0 {
            Duration::ZERO
        } else {
            Duration::from_micros(self.rng.below(us.saturating_add(1)))
        }
    }

    /// One datagram from endpoint `from` through hook and link conditions.
    fn send(&mut self, from: EndpointId, t: Transmit) {
        self.stats.sent += 1;
        let Some(&source) = self.locals.get(&(from, t.transport)) else {
            self.stats.bad_source += 1;
            self.record(from, None, &t.data, Fate::BadSource);
            return;
        };
        let Some(&(to, to_transport)) = self.routes.get(&t.destination) else {
            self.stats.unroutable += 1;
            self.record(from, None, &t.data, Fate::Unroutable);
            return;
        };
        let mut data = t.data;
        if let Some(hook) = self.hook.as_mut() {
            let d = Datagram {
                from,
                transport: t.transport,
                source,
                to,
                destination: t.destination,
                data,
                sent_at: self.now,
            };
            match hook(&d) {
                Action::Deliver => data = d.data,
                Action::Drop => {
                    self.stats.hook_dropped += 1;
                    self.record(from, Some(to), &d.data, Fate::HookDropped);
                    return;
                }
                Action::Replace(new) => {
                    self.stats.hook_replaced += 1;
                    data = new;
                }
            }
        }
        let link = self.links.get(&(from, to)).unwrap_or(&self.default_link).clone();
        if link.mtu.is_some_and(|mtu| data.len() > mtu) {
            self.stats.mtu_dropped += 1;
            self.record(from, Some(to), &data, Fate::MtuDropped);
            return;
        }
        let mut depart = self.now;
        if let Some(rate) = link.rate.filter(|&r| r > 0) {
            let busy = self.busy_until.get(&(from, to)).copied().unwrap_or(Time::ZERO).max(self.now);
            let backlog_us = (busy - self.now).as_micros();
            let backlog_bytes = backlog_us * u128::from(rate) / 1_000_000;
            if backlog_bytes + data.len() as u128 > link.queue_limit as u128 {
                self.stats.queue_dropped += 1;
                self.record(from, Some(to), &data, Fate::QueueDropped);
                return;
            }
            let tx_us = (data.len() as u128 * 1_000_000).div_ceil(u128::from(rate));
            depart = busy + Duration::from_micros(u64::try_from(tx_us).unwrap_or(u64::MAX));
            self.busy_until.insert((from, to), depart);
        }
        if self.chance(link.loss) {
            self.stats.lost += 1;
            self.record(from, Some(to), &data, Fate::Lost);
            return;
        }
        if self.chance(link.duplicate) {
            self.stats.duplicated += 1;
            let arrive = depart + link.delay + self.jitter(link.jitter);
            self.record(from, Some(to), &data, Fate::Scheduled(arrive));
            self.schedule(arrive, to, to_transport, source, data.clone());
        }
        let arrive = depart + link.delay + self.jitter(link.jitter);
        self.record(from, Some(to), &data, Fate::Scheduled(arrive));
        self.schedule(arrive, to, to_transport, source, data);
    }

    /// Drains every endpoint's transmits.
    fn drain_transmits(&mut self) -> Result<bool, DriveError> {
        let mut worked = false;
        for id in 0..self.nodes.len() {
            let mut n = 0;
            while let Some(t) = self.nodes[id].poll_transmit(self.now) {
                n += 1;
                if n > MAX_TRANSMITS_PER_DRAIN {
                    return Err(DriveError::TransmitFlood { now: self.now, endpoint: id });
                }
                worked = true;
                self.send(id, t);
            }
        }
        Ok(worked)
    }

    /// The earliest future event: a delivery or an endpoint's timeout.
    pub fn next_event(&self) -> Option<Time> {
        let arrival = self.in_flight.peek().map(|f| f.arrive);
        let timeout = self.nodes.iter().filter_map(|n| n.poll_timeout()).min();
        match (arrival, timeout) {
            (Some(a), Some(t)) => Some(a.min(t)),
            (a, t) => a.or(t),
        }
    }

    /// One step: drain transmits, deliver what is due, fire due timeouts; if none of that
    /// happened, jump the clock to the next event, but never past `limit`.
    pub fn step_until(&mut self, limit: Time) -> Result<Step, DriveError> {
        let mut worked = self.drain_transmits()?;
        while self.in_flight.peek().is_some_and(|f| f.arrive <= self.now) {
            let Some(f) = self.in_flight.pop() else { break };
            self.stats.delivered += 1;
            self.nodes[f.to].handle_datagram(self.now, f.to_transport, f.source, &f.data);
            worked = true;
        }
        for id in 0..self.nodes.len() {
            if self.nodes[id].poll_timeout().is_some_and(|t| t <= self.now) {
                self.nodes[id].handle_timeout(self.now);
                worked = true;
            }
        }
        worked |= self.drain_transmits()?;
        if worked {
            return Ok(Step::Worked);
        }
        match self.next_event() {
            None => Ok(Step::Idle),
            Some(t) => {
                self.now = t.min(limit).max(self.now);
                Ok(Step::Advanced)
            }
        }
    }

    pub fn step(&mut self) -> Result<Step, DriveError> {
        self.step_until(Time::MAX)
    }

    /// Steps until `cond` holds. Fails when `max_time` of virtual time passes, when
    /// `max_steps` steps run without the clock advancing (livelock), on a transmit flood, or
    /// when nothing is left to happen.
    pub fn drive_until(
        &mut self,
        mut cond: impl FnMut(&mut Self) -> bool,
        max_time: Duration,
        max_steps: usize,
    ) -> Result<(), DriveError> {
        let deadline = self.now + max_time;
        let mut last = self.now;
        let mut same = 0usize;
        loop {
            if cond(self) {
                return Ok(());
            }
            if self.now >= deadline {
                return Err(DriveError::Timeout { now: self.now });
            }
            if self.step_until(deadline)? == Step::Idle {
                // One more look: the condition may have become true on the last step.
                if cond(self) {
                    return Ok(());
                }
                return Err(DriveError::Idle { now: self.now });
            }
            if self.now == last {
                same += 1;
                if same > max_steps {
                    return Err(DriveError::Livelock { now: self.now, steps: same });
                }
            } else {
                last = self.now;
                same = 0;
            }
        }
    }

    /// Runs for `duration` of virtual time (the clock ends exactly there, even if idle).
    pub fn drive_for(&mut self, duration: Duration, max_steps: usize) -> Result<(), DriveError> {
        let end = self.now + duration;
        match self.drive_until(|n| n.now >= end, duration, max_steps) {
            Ok(()) | Err(DriveError::Timeout { .. }) => {}
            Err(DriveError::Idle { .. }) => {}
            Err(e) => return Err(e),
        }
        self.now = self.now.max(end);
        Ok(())
    }
}
