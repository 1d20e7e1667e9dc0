//! Host names of STUN and TURN servers, resolved off the JS thread and off the I/O thread:
//! a few resolver threads of the addon's own (not libuv's pool, which a slow name would take
//! from the application's file system calls) run the system resolver (`getaddrinfo` with no
//! family: A and AAAA records together, `/etc/hosts` included). Lookups of one name at the
//! same time share one resolution, and answers are kept a while so that a server creating
//! many connections to one TURN server does not resolve its name for each.
//!
//! The resolver does not time lookups out: the core gives up a server whose name takes too
//! long (`polyrtc::peer::ICE_SERVER_RESOLVE_TIMEOUT`) and drops the late answer.

use std::collections::{HashMap, VecDeque};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::host::lock;

/// Threads resolving at once (each blocks in `getaddrinfo` for as long as it takes).
pub const MAX_RESOLVER_THREADS: usize = 2;
/// Distinct names waiting for a thread; more fail at once.
pub const MAX_QUEUED_NAMES: usize = 256;
/// Callers waiting for one name; more fail at once.
pub const MAX_WAITERS_PER_NAME: usize = 4096;
/// Addresses kept per name (both families together).
pub const MAX_ADDRESSES_PER_NAME: usize = 8;
/// Answers kept; the oldest goes first.
pub const MAX_CACHED_NAMES: usize = 64;
/// How long an answer is reused (the system resolver gives no TTL).
pub const CACHE_TTL: Duration = Duration::from_secs(60);
/// How long a failure is reused.
pub const NEGATIVE_CACHE_TTL: Duration = Duration::from_secs(5);
/// Longest host name accepted (RFC 1035: 253 characters in text form).
pub const MAX_NAME_LEN: usize = 253;

/// What a lookup gives: the name's addresses (port 0), or why there are none.
pub type Answer = Result<Vec<std::net::IpAddr>, String>;
type Waiter = Box<dyn FnOnce(Answer) + Send>;
type ResolveFn = dyn Fn(&str) -> Answer + Send + Sync;

struct State {
    queue: VecDeque<String>,
    /// Names queued or being resolved, with who waits for them.
    waiting: HashMap<String, Vec<Waiter>>,
    cache: HashMap<String, (Instant, Answer)>,
    threads: usize,
    idle: usize,
}

/// A pool of resolver threads. [`Resolver::global`] runs the system resolver; tests give
/// their own function.
pub struct Resolver {
    state: Mutex<State>,
    work: Condvar,
    resolve: Box<ResolveFn>,
}

/// The system resolver: the name's A and AAAA addresses, in the order it gives them.
pub fn system_resolve(name: &str) -> Answer {
    match (name, 0u16).to_socket_addrs() {
        Ok(addrs) => {
            let mut out = Vec::new();
            for a in addrs {
                if out.len() < MAX_ADDRESSES_PER_NAME && !out.contains(&a.ip()) {
                    out.push(a.ip());
                }
            }
            if out.is_empty() {
                Err(format!("the host name {name:?} has no address"))
            } else {
                Ok(out)
            }
        }
        Err(e) => Err(format!("cannot resolve the host name {name:?}: {e}")),
    }
}

impl Resolver {
    /// The process's resolver (the system's).
    pub fn global() -> &'static Arc<Resolver> {
        static GLOBAL: OnceLock<Arc<Resolver>> = OnceLock::new();
        GLOBAL.get_or_init(|| Resolver::new(Box::new(system_resolve)))
    }

    pub fn new(resolve: Box<ResolveFn>) -> Arc<Resolver> {
        Arc::new(Resolver {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                waiting: HashMap::new(),
                cache: HashMap::new(),
                threads: 0,
                idle: 0,
            }),
            work: Condvar::new(),
            resolve,
        })
    }

    /// Resolves `name`; `done` runs once with the answer, on a resolver thread (or on this
    /// one when the answer is known already or the lookup cannot be taken). Never blocks.
    pub fn lookup(self: &Arc<Self>, name: &str, done: impl FnOnce(Answer) + Send + 'static) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return done(Err(format!("{name:?} is not a host name")));
        }
        let mut s = lock(&self.state);
        let now = Instant::now();
        if let Some((at, answer)) = s.cache.get(&name) {
            let ttl = if answer.is_ok() { CACHE_TTL } else { NEGATIVE_CACHE_TTL };
            if now.duration_since(*at) < ttl {
                let answer = answer.clone();
                drop(s);
                return done(answer);
            }
            s.cache.remove(&name);
        }
        if let Some(waiters) = s.waiting.get_mut(&name) {
            if waiters.len() >= MAX_WAITERS_PER_NAME {
                drop(s);
                return done(Err(format!("too many lookups of {name:?} at once")));
            }
            waiters.push(Box::new(done));
            return;
        }
        if s.queue.len() >= MAX_QUEUED_NAMES {
            drop(s);
            return done(Err("too many host names being resolved at once".to_string()));
        }
        s.waiting.insert(name.clone(), vec![Box::new(done)]);
        s.queue.push_back(name);
        if s.idle == 0 && s.threads < MAX_RESOLVER_THREADS {
            let me = self.clone();
            let spawned = std::thread::Builder::new().name("polyrtc-dns".into()).spawn(move || me.run());
            match spawned {
                Ok(_) => s.threads += 1,
                Err(e) if s.threads == 0 => {
                    // No thread to resolve anything: fail what waits.
                    let text = format!("cannot start a resolver thread: {e}");
                    let names: Vec<String> = s.queue.drain(..).collect();
                    let failed: Vec<Waiter> = names.iter().flat_map(|n| s.waiting.remove(n).unwrap_or_default()).collect();
                    drop(s);
                    for w in failed {
                        w(Err(text.clone()));
                    }
                    return;
                }
                Err(_) => {}
            }
        }
        drop(s);
        self.work.notify_one();
    }

    /// A resolver thread: takes names until the process ends.
    fn run(self: Arc<Self>) {
        let mut s = lock(&self.state);
        loop {
            let Some(name) = s.queue.pop_front() else {
                s.idle += 1;
                s = self.work.wait(s).unwrap_or_else(|p| p.into_inner());
                s.idle -= 1;
                continue;
            };
            drop(s);
            let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.resolve)(&name)))
                .unwrap_or_else(|_| Err(format!("resolving {name:?} failed")));
            s = lock(&self.state);
            if s.cache.len() >= MAX_CACHED_NAMES {
                if let Some(oldest) = s.cache.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone()) {
                    s.cache.remove(&oldest);
                }
            }
            s.cache.insert(name.clone(), (Instant::now(), answer.clone()));
            let waiters = s.waiting.remove(&name).unwrap_or_default();
            drop(s);
            for w in waiters {
                // A waiter that panics must not take the thread with it.
                let a = answer.clone();
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || w(a)));
            }
            s = lock(&self.state);
        }
    }
}

/// `host` as an IP address literal (IPv6 with or without brackets), if it is one.
pub fn ip_literal(host: &str) -> Option<std::net::IpAddr> {
    let h = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    h.parse().ok()
}

/// Splits a `host:port` entry (`[v6]:port` for IPv6); `None` when malformed.
pub fn split_host_port(s: &str) -> Option<(&str, u16)> {
    let (h, p) = s.rsplit_once(':')?;
    let port = p.parse::<u16>().ok().filter(|p| *p != 0)?;
    let h = h.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(h);
    (!h.is_empty()).then_some((h, port))
}

/// The addresses of an answer with `port`.
pub fn with_port(ips: &[std::net::IpAddr], port: u16) -> Vec<SocketAddr> {
    ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    #[test]
    fn the_system_resolver_gives_localhost_and_fails_an_invalid_name() {
        let a = system_resolve("localhost").expect("localhost resolves");
        assert!(a.iter().all(|ip| ip.is_loopback()), "{a:?}");
        assert!(system_resolve("name.invalid").is_err());
    }

    #[test]
    fn lookups_do_not_block_share_one_resolution_and_are_cached() {
        let calls = Arc::new(AtomicUsize::new(0));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let c = calls.clone();
        let r = Resolver::new(Box::new(move |name: &str| {
            c.fetch_add(1, Ordering::SeqCst);
            if name == "slow.example" {
                let _ = lock(&release_rx).recv();
            }
            if name.ends_with(".invalid") {
                Err("no".into())
            } else {
                Ok(vec!["192.0.2.7".parse().unwrap(), "2001:db8::7".parse().unwrap()])
            }
        }));
        let (tx, rx) = mpsc::channel::<(u32, Answer)>();
        for i in 0..3 {
            let tx = tx.clone();
            r.lookup("Slow.Example.", move |a| {
                let _ = tx.send((i, a));
            });
        }
        // The slow name holds one thread; another name still resolves on the second.
        let tx2 = tx.clone();
        r.lookup("fast.example", move |a| {
            let _ = tx2.send((10, a));
        });
        let (i, a) = rx.recv_timeout(Duration::from_secs(5)).expect("the fast name is not held up");
        assert_eq!(i, 10);
        assert_eq!(a.unwrap().len(), 2, "A and AAAA");
        release_tx.send(()).unwrap();
        let mut got: Vec<u32> = (0..3).map(|_| rx.recv_timeout(Duration::from_secs(5)).expect("slow answer").0).collect();
        got.sort();
        assert_eq!(got, vec![0, 1, 2]);
        assert_eq!(calls.load(Ordering::SeqCst), 2, "three lookups of one name resolved it once");
        // Cached: answered at once, on this thread, without resolving.
        let (tx3, rx3) = mpsc::channel();
        r.lookup("slow.example", move |a| {
            let _ = tx3.send(a);
        });
        assert!(rx3.try_recv().expect("answered from the cache").is_ok());
        r.lookup("x.invalid", move |a| {
            let _ = tx.send((20, a));
        });
        let (i, a) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(i, 20);
        assert!(a.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Bad names fail at once.
        let (tx4, rx4) = mpsc::channel();
        r.lookup(&"a".repeat(300), move |a| {
            let _ = tx4.send(a);
        });
        assert!(rx4.try_recv().unwrap().is_err());
    }

    #[test]
    fn host_port_entries_split() {
        assert_eq!(split_host_port("stun.example:3478"), Some(("stun.example", 3478)));
        assert_eq!(split_host_port("[::1]:19302"), Some(("::1", 19302)));
        assert_eq!(split_host_port("127.0.0.1:0"), None);
        assert_eq!(split_host_port(":3478"), None);
        assert_eq!(split_host_port("host"), None);
        assert_eq!(ip_literal("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(ip_literal("example.com"), None);
    }
}
