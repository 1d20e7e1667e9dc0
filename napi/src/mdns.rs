//! Multicast DNS lookups of the `.local` names browsers put in their host candidates
//! (draft-ietf-mmusic-mdns-ice-candidates), for every peer of the process: one querier
//! thread, started on the first lookup and gone once nothing waits, with one UDP socket on
//! port 5353 (shared with other mDNS software through `SO_REUSEADDR`/`SO_REUSEPORT`) that
//! joins 224.0.0.251 on each IPv4 interface that is up. Each name is asked on every such
//! interface (RFC 6762 §5.2: again after 1 s and 2 s more) until an answer comes or
//! [`MDNS_QUERY_TIMEOUT`]; lookups of one name at the same time share one query, and
//! answers are kept for their TTL (at most [`MAX_CACHE_TTL`]).
//!
//! What is believed (RFC 6762 §11): responses from port 5353 whose source is on the link of
//! one of our interfaces, and only their records for names we asked about; everything else
//! is ignored. A forged answer from the link can at worst point ICE checks at a wrong
//! address, which the peer's ICE password then fails.
//!
//! The same thread answers for the names of our own host candidates when a peer hides them
//! (`mdnsHostCandidates`): a query for a registered name gets a multicast answer (A or AAAA,
//! TTL 120 s), at most one per name per second (RFC 6762 §6); a name is answered from the
//! moment its [`Registration`] exists until it is dropped with its peer. A lookup of a
//! name registered in this process is answered at once.
//!
//! IPv4 only: the query also asks for AAAA records, so an IPv6 address sent over the IPv4
//! group is used, but no IPv6 group is joined.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use polyrtc::mdns::{self as wire, MDNS_GROUP_V4, MDNS_PORT};

use crate::host::lock;

/// How long a name is asked for before its lookup fails: under the core's
/// `polyrtc::peer::MDNS_RESOLVE_TIMEOUT`, so the core hears of the failure.
pub const MDNS_QUERY_TIMEOUT: Duration = Duration::from_secs(4);
/// The waits before a name still unanswered is asked again (RFC 6762 §5.2: at least 1 s,
/// then doubling).
const RETRANSMIT_INTERVALS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];
/// Distinct names asked at once, over all peers; more fail at once.
pub const MAX_PENDING_NAMES: usize = 256;
/// Callers waiting for one name; more fail at once.
pub const MAX_WAITERS_PER_NAME: usize = 1024;
/// Answers kept; when full, expired ones go, then the one expiring first.
pub const MAX_CACHED_NAMES: usize = 256;
/// Longest an answer is reused, whatever TTL it carries.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(120);
/// Interfaces the querier joins the group on.
pub const MAX_INTERFACES: usize = 16;
/// Names of our own answered at once, over all peers; more are signaled but not answered.
pub const MAX_REGISTERED_NAMES: usize = 4096;
/// The TTL of our answers (RFC 6762 §10: 120 s for records with a host name).
const ANSWER_TTL: u32 = 120;
/// At most one answer per name per this long (RFC 6762 §6).
const MIN_ANSWER_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait in one read, so that retransmissions and deadlines are kept.
const MAX_READ_WAIT: Duration = Duration::from_millis(250);

/// What a lookup gives: the name's addresses, or why there are none.
pub type Answer = Result<Vec<IpAddr>, String>;
type Waiter = Box<dyn FnOnce(Answer) + Send>;

/// The network side of the querier (a real socket, or a test's fake link).
pub trait Link: Send {
    /// Multicasts a query on every interface.
    fn send(&mut self, message: &[u8]);
    /// Waits up to `wait` for a datagram; `None` when none came.
    fn recv(&mut self, buf: &mut [u8], wait: Duration) -> Option<(usize, SocketAddr)>;
    /// Whether `source` is on the link of one of our interfaces.
    fn on_link(&self, source: IpAddr) -> bool;
}

type OpenFn = dyn Fn() -> io::Result<Box<dyn Link>> + Send + Sync;

struct Pending {
    deadline: Instant,
    next_send: Instant,
    sent: usize,
    waiters: Vec<Waiter>,
}

/// One of our names: its address and when it was last answered.
struct Local {
    ip: IpAddr,
    answered: Option<Instant>,
}

#[derive(Default)]
struct State {
    pending: HashMap<String, Pending>,
    cache: HashMap<String, (Instant, Vec<IpAddr>)>,
    names: HashMap<String, Local>,
    running: bool,
}

/// A name of ours the querier answers for until this is dropped.
pub struct Registration {
    querier: Arc<Querier>,
    name: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.querier.state).names.remove(&self.name);
    }
}

/// The process's mDNS querier ([`Querier::global`]); tests make their own on a fake link.
pub struct Querier {
    state: Mutex<State>,
    open: Box<OpenFn>,
}

impl Querier {
    pub fn global() -> &'static Arc<Querier> {
        static GLOBAL: OnceLock<Arc<Querier>> = OnceLock::new();
        GLOBAL.get_or_init(|| Querier::new(Box::new(|| UdpLink::open().map(|l| Box::new(l) as Box<dyn Link>))))
    }

    pub fn new(open: Box<OpenFn>) -> Arc<Querier> {
        Arc::new(Querier { state: Mutex::new(State::default()), open })
    }

    /// Resolves `name`; `done` runs once, on the querier's thread (or this one, for an
    /// answer known already or a lookup refused at once).
    pub fn lookup(self: &Arc<Self>, name: &str, done: impl FnOnce(Answer) + Send + 'static) {
        let name = wire::normalize(name);
        if !wire::is_local_name(&name) {
            return done(Err(format!("{name:?} is not an mDNS .local name")));
        }
        let now = Instant::now();
        let mut st = lock(&self.state);
        if let Some(l) = st.names.get(&name) {
            let ip = l.ip;
            drop(st);
            return done(Ok(vec![ip]));
        }
        if let Some((expires, ips)) = st.cache.get(&name) {
            if now < *expires {
                let ips = ips.clone();
                drop(st);
                return done(Ok(ips));
            }
        }
        let full = st.pending.len() >= MAX_PENDING_NAMES;
        match st.pending.get_mut(&name) {
            Some(p) if p.waiters.len() < MAX_WAITERS_PER_NAME => p.waiters.push(Box::new(done)),
            Some(_) => {
                drop(st);
                return done(Err(format!("more than {MAX_WAITERS_PER_NAME} lookups of {name:?} at once")));
            }
            None if full => {
                drop(st);
                return done(Err(format!("more than {MAX_PENDING_NAMES} mDNS names asked at once")));
            }
            None => {
                let p = Pending { deadline: now + MDNS_QUERY_TIMEOUT, next_send: now, sent: 0, waiters: vec![Box::new(done)] };
                st.pending.insert(name, p);
            }
        }
        self.ensure_running(st);
    }

    /// Answers mDNS queries for `name` (one of our addresses, `ip`) until the registration
    /// is dropped. `None` for a name that is not a `.local` one, or beyond
    /// [`MAX_REGISTERED_NAMES`].
    pub fn register(self: &Arc<Self>, name: &str, ip: IpAddr) -> Option<Registration> {
        let name = wire::normalize(name);
        if !wire::is_local_name(&name) {
            return None;
        }
        let mut st = lock(&self.state);
        if st.names.len() >= MAX_REGISTERED_NAMES || st.names.contains_key(&name) {
            return None;
        }
        st.names.insert(name.clone(), Local { ip, answered: None });
        self.ensure_running(st);
        Some(Registration { querier: self.clone(), name })
    }

    /// Starts the thread unless it runs (the lock is released here).
    fn ensure_running(self: &Arc<Self>, mut st: std::sync::MutexGuard<'_, State>) {
        if st.running {
            return;
        }
        st.running = true;
        drop(st);
        let me = self.clone();
        let spawned = std::thread::Builder::new().name("polyrtc-mdns".into()).spawn(move || me.run());
        if let Err(e) = spawned {
            self.fail_all(&format!("cannot start the mDNS thread: {e}"));
        }
    }

    /// Fails every lookup and marks the thread stopped.
    fn fail_all(&self, why: &str) {
        let drained: Vec<Pending> = {
            let mut st = lock(&self.state);
            st.running = false;
            st.pending.drain().map(|(_, p)| p).collect()
        };
        for p in drained {
            for w in p.waiters {
                w(Err(why.to_string()));
            }
        }
    }

    fn run(self: Arc<Self>) {
        let mut link = match (self.open)() {
            Ok(l) => l,
            Err(e) => return self.fail_all(&format!("multicast DNS is unavailable: {e}")),
        };
        let mut buf = vec![0u8; wire::MAX_MESSAGE_LEN];
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            let mut expired = Vec::new();
            let wait = {
                let mut st = lock(&self.state);
                st.pending.retain(|name, p| {
                    if now >= p.deadline {
                        expired.push((name.clone(), std::mem::take(&mut p.waiters)));
                        return false;
                    }
                    if now >= p.next_send {
                        due.push(name.clone());
                        p.next_send = RETRANSMIT_INTERVALS.get(p.sent).map_or(p.deadline, |d| now + *d);
                        p.sent += 1;
                    }
                    true
                });
                if st.pending.is_empty() && expired.is_empty() && st.names.is_empty() {
                    st.running = false;
                    return;
                }
                let next = st.pending.values().map(|p| p.next_send.min(p.deadline)).min();
                next.map_or(MAX_READ_WAIT, |t| t.saturating_duration_since(now)).clamp(Duration::from_millis(1), MAX_READ_WAIT)
            };
            for (name, waiters) in expired {
                for w in waiters {
                    w(Err(format!("no mDNS answer for {name:?} within {MDNS_QUERY_TIMEOUT:?}")));
                }
            }
            for name in due {
                if let Some(q) = wire::query(&name, true) {
                    link.send(&q);
                }
            }
            if let Some((n, from)) = link.recv(&mut buf, wait) {
                if from.port() == MDNS_PORT && link.on_link(from.ip()) {
                    self.on_message(&buf[..n], link.as_mut());
                }
            }
        }
    }

    /// Answers the questions for names of ours (at most once per name per
    /// [`MIN_ANSWER_INTERVAL`]).
    fn answer(&self, query: &wire::Message, link: &mut dyn Link) {
        let now = Instant::now();
        let mut answers = Vec::new();
        {
            let mut st = lock(&self.state);
            for q in &query.questions {
                let Some(l) = st.names.get_mut(&q.name) else { continue };
                let recent = l.answered.is_some_and(|t| now.duration_since(t) < MIN_ANSWER_INTERVAL);
                if q.asks(l.ip.is_ipv6()) && !recent {
                    l.answered = Some(now);
                    answers.extend(wire::answer(&q.name, &[l.ip], ANSWER_TTL));
                }
            }
        }
        for a in answers {
            link.send(&a);
        }
    }

    /// A datagram from the link: a query for names of ours is answered; a response's
    /// addresses for names we asked about settle them.
    fn on_message(&self, data: &[u8], link: &mut dyn Link) {
        let Ok(msg) = wire::parse(data) else { return };
        if !msg.response {
            return self.answer(&msg, link);
        }
        let now = Instant::now();
        let mut settled: Vec<(Vec<Waiter>, Vec<IpAddr>)> = Vec::new();
        {
            let mut st = lock(&self.state);
            let mut found: Vec<(String, Vec<IpAddr>, u32)> = Vec::new();
            for r in msg.addresses.iter().filter(|r| r.ttl > 0 && st.pending.contains_key(&r.name)) {
                match found.iter_mut().find(|(n, _, _)| *n == r.name) {
                    Some((_, ips, ttl)) => {
                        if !ips.contains(&r.address) {
                            ips.push(r.address);
                        }
                        *ttl = (*ttl).min(r.ttl);
                    }
                    None => found.push((r.name.clone(), vec![r.address], r.ttl)),
                }
            }
            for (name, ips, ttl) in found {
                let Some(p) = st.pending.remove(&name) else { continue };
                let ttl = Duration::from_secs(u64::from(ttl)).min(MAX_CACHE_TTL);
                insert_cache(&mut st.cache, now, name, now + ttl, ips.clone());
                settled.push((p.waiters, ips));
            }
        }
        for (waiters, ips) in settled {
            for w in waiters {
                w(Ok(ips.clone()));
            }
        }
    }
}

fn insert_cache(cache: &mut HashMap<String, (Instant, Vec<IpAddr>)>, now: Instant, name: String, expires: Instant, ips: Vec<IpAddr>) {
    if cache.len() >= MAX_CACHED_NAMES && !cache.contains_key(&name) {
        cache.retain(|_, (e, _)| *e > now);
        if cache.len() >= MAX_CACHED_NAMES {
            if let Some(first) = cache.iter().min_by_key(|(_, (e, _))| *e).map(|(n, _)| n.clone()) {
                cache.remove(&first);
            }
        }
    }
    cache.insert(name, (expires, ips));
}

/// The real link: one UDP socket on port 5353 in the IPv4 group on each interface.
struct UdpLink {
    socket: std::net::UdpSocket,
    /// (address, netmask) of each interface joined.
    interfaces: Vec<(Ipv4Addr, Ipv4Addr)>,
}

impl UdpLink {
    fn open() -> io::Result<UdpLink> {
        use socket2::{Domain, Protocol, Socket, Type};
        let mut interfaces = Vec::new();
        for i in if_addrs::get_if_addrs()? {
            if let if_addrs::IfAddr::V4(v4) = &i.addr {
                let up = i.oper_status != if_addrs::IfOperStatus::Down;
                if up && !v4.ip.is_loopback() && interfaces.len() < MAX_INTERFACES {
                    interfaces.push((v4.ip, v4.netmask));
                }
            }
        }
        if interfaces.is_empty() {
            return Err(io::Error::other("no IPv4 interface other than loopback is up"));
        }
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_reuse_address(true)?;
        #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
        socket.set_reuse_port(true)?;
        let port = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, MDNS_PORT));
        if socket.bind(&port.into()).is_err() {
            // Port 5353 is taken without sharing: ask from another port (RFC 6762 §6.7
            // legacy unicast: responders answer such a query to its source).
            socket.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).into())?;
        }
        let mut joined = 0;
        for (ip, _) in &interfaces {
            if socket.join_multicast_v4(&MDNS_GROUP_V4, ip).is_ok() {
                joined += 1;
            }
        }
        if joined == 0 {
            return Err(io::Error::other("could not join the mDNS group on any interface"));
        }
        socket.set_multicast_ttl_v4(255)?;
        socket.set_multicast_loop_v4(true)?;
        Ok(UdpLink { socket: socket.into(), interfaces })
    }
}

impl Link for UdpLink {
    fn send(&mut self, message: &[u8]) {
        let group = SocketAddr::V4(SocketAddrV4::new(MDNS_GROUP_V4, MDNS_PORT));
        for (ip, _) in &self.interfaces {
            if socket2::SockRef::from(&self.socket).set_multicast_if_v4(ip).is_ok() {
                let _ = self.socket.send_to(message, group);
            }
        }
    }

    fn recv(&mut self, buf: &mut [u8], wait: Duration) -> Option<(usize, SocketAddr)> {
        self.socket.set_read_timeout(Some(wait.max(Duration::from_millis(1)))).ok()?;
        self.socket.recv_from(buf).ok()
    }

    fn on_link(&self, source: IpAddr) -> bool {
        let IpAddr::V4(src) = source else { return false };
        self.interfaces.iter().any(|(ip, mask)| {
            let m = u32::from(*mask);
            u32::from(*ip) & m == u32::from(src) & m
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Datagrams a test puts on the fake link, with their source.
    type Inbox = Arc<Mutex<Vec<(Vec<u8>, SocketAddr)>>>;

    /// A link whose reads return what the test put in its inbox.
    struct FakeLink {
        /// The queries sent, for the test.
        sent: mpsc::Sender<Vec<u8>>,
        /// What the next reads return.
        inbox: Inbox,
    }

    impl Link for FakeLink {
        fn send(&mut self, message: &[u8]) {
            let _ = self.sent.send(message.to_vec());
        }
        fn recv(&mut self, buf: &mut [u8], wait: Duration) -> Option<(usize, SocketAddr)> {
            let next = lock(&self.inbox).pop();
            match next {
                Some((m, from)) => {
                    buf[..m.len()].copy_from_slice(&m);
                    Some((m.len(), from))
                }
                None => {
                    std::thread::sleep(wait.min(Duration::from_millis(5)));
                    None
                }
            }
        }
        fn on_link(&self, source: IpAddr) -> bool {
            matches!(source, IpAddr::V4(v4) if v4.octets()[..3] == [192, 0, 2])
        }
    }

    fn querier() -> (Arc<Querier>, mpsc::Receiver<Vec<u8>>, Inbox) {
        let (tx, rx) = mpsc::channel();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let inbox2 = inbox.clone();
        let tx = Mutex::new(tx);
        let q = Querier::new(Box::new(move || {
            Ok(Box::new(FakeLink { sent: lock(&tx).clone(), inbox: inbox2.clone() }) as Box<dyn Link>)
        }));
        (q, rx, inbox)
    }

    fn wait_answer(rx: &mpsc::Receiver<Answer>) -> Answer {
        rx.recv_timeout(Duration::from_secs(10)).expect("an answer within 10 s")
    }

    #[test]
    fn a_name_is_asked_answered_shared_and_cached() {
        let (q, sent, inbox) = querier();
        let (tx, rx) = mpsc::channel();
        for _ in 0..2 {
            let tx = tx.clone();
            q.lookup("ABC-1.local.", move |a| tx.send(a).unwrap());
        }
        let query = sent.recv_timeout(Duration::from_secs(5)).expect("a query");
        let msg = wire::parse(&query).unwrap();
        assert!(!msg.response);
        assert_eq!(msg.questions[0].name, "abc-1.local");
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let answer = wire::answer("abc-1.local", &[ip], 120).unwrap();
        // Off the link, and from another port: ignored.
        lock(&inbox).push((answer.clone(), "198.51.100.1:5353".parse().unwrap()));
        lock(&inbox).push((answer.clone(), "192.0.2.7:40000".parse().unwrap()));
        std::thread::sleep(Duration::from_millis(100));
        assert!(rx.try_recv().is_err(), "no answer believed yet");
        lock(&inbox).push((answer, "192.0.2.7:5353".parse().unwrap()));
        assert_eq!(wait_answer(&rx), Ok(vec![ip]));
        assert_eq!(wait_answer(&rx), Ok(vec![ip]), "both lookups settled by one answer");
        // From the cache, without a query.
        let tx2 = tx.clone();
        q.lookup("abc-1.local", move |a| tx2.send(a).unwrap());
        assert_eq!(wait_answer(&rx), Ok(vec![ip]));
        while sent.try_recv().is_ok() {}
        std::thread::sleep(Duration::from_millis(50));
        assert!(sent.try_recv().is_err(), "a cached name is not asked again");
    }

    #[test]
    fn an_unanswered_name_is_asked_again_then_fails() {
        let (q, sent, _inbox) = querier();
        let (tx, rx) = mpsc::channel();
        let t0 = Instant::now();
        q.lookup("silent.local", move |a| tx.send(a).unwrap());
        let a = wait_answer(&rx);
        assert!(a.is_err(), "{a:?}");
        assert!(t0.elapsed() >= MDNS_QUERY_TIMEOUT);
        let queries = sent.try_iter().count();
        assert_eq!(queries, 1 + RETRANSMIT_INTERVALS.len(), "asked at 0 s, 1 s and 3 s");
        let stopped = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            !lock(&q.state).running
        });
        assert!(stopped, "the thread stops once nothing waits");
    }

    #[test]
    fn bad_names_and_too_many_lookups_fail_at_once() {
        let (q, _sent, _inbox) = querier();
        let (tx, rx) = mpsc::channel();
        let t = tx.clone();
        q.lookup("example.com", move |a| t.send(a).unwrap());
        assert!(wait_answer(&rx).is_err());
        for i in 0..MAX_PENDING_NAMES {
            q.lookup(&format!("n{i}.local"), |_| {});
        }
        let t = tx.clone();
        q.lookup("one-more.local", move |a| t.send(a).unwrap());
        let a = rx.recv_timeout(Duration::from_millis(100)).expect("refused at once");
        assert!(a.unwrap_err().contains("at once"));
    }

    #[test]
    fn our_names_are_answered_at_most_once_a_second_until_dropped() {
        let (q, sent, inbox) = querier();
        let ip: IpAddr = "192.0.2.3".parse().unwrap();
        let reg = q.register("5e1f0c3a-1b2c-4d5e-8f90-123456789abc.local", ip).expect("registered");
        assert!(q.register("5e1f0c3a-1b2c-4d5e-8f90-123456789abc.local", ip).is_none(), "a name is registered once");
        let query = wire::query("5E1F0C3A-1b2c-4d5e-8f90-123456789abc.local", false).unwrap();
        let from: SocketAddr = "192.0.2.9:5353".parse().unwrap();
        lock(&inbox).push((query.clone(), from));
        let answer = sent.recv_timeout(Duration::from_secs(5)).expect("an answer");
        let msg = wire::parse(&answer).unwrap();
        assert!(msg.response);
        assert_eq!(msg.addresses.iter().map(|r| (r.name.as_str(), r.address)).collect::<Vec<_>>(),
            [("5e1f0c3a-1b2c-4d5e-8f90-123456789abc.local", ip)]);
        // Again at once: not answered (one per second); a lookup here needs no network.
        lock(&inbox).push((query.clone(), from));
        let (tx, rx) = mpsc::channel();
        q.lookup("5e1f0c3a-1b2c-4d5e-8f90-123456789abc.local", move |a| tx.send(a).unwrap());
        assert_eq!(wait_answer(&rx), Ok(vec![ip]));
        std::thread::sleep(Duration::from_millis(100));
        assert!(sent.try_recv().is_err(), "no second answer within a second");
        std::thread::sleep(MIN_ANSWER_INTERVAL);
        drop(reg);
        lock(&inbox).push((query, from));
        std::thread::sleep(Duration::from_millis(100));
        assert!(sent.try_recv().is_err(), "a dropped name is not answered");
        let stopped = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            !lock(&q.state).running
        });
        assert!(stopped, "the thread stops once no name is registered");
    }

    #[test]
    fn a_link_that_cannot_open_fails_the_lookups() {
        let q = Querier::new(Box::new(|| Err(io::Error::other("no interface"))));
        let (tx, rx) = mpsc::channel();
        q.lookup("x.local", move |a| tx.send(a).unwrap());
        let a = wait_answer(&rx);
        assert!(a.unwrap_err().contains("no interface"));
        assert!(!lock(&q.state).running);
    }
}
