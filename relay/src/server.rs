//! The sans-IO TURN server (RFC 8656): no sockets, threads or clocks inside.
//!
//! See the crate documentation for the host's contract.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use polyrtc::stun::{attr, Attribute, Class, Message, Method};
use polyrtc::Time;

use crate::auth;
use crate::wire::{self, method, tattr, Integrity, Parsed};

/// Most clients (connections or UDP 5-tuples) the server tracks at once;
/// [`Server::add_client`] refuses more.
pub const MAX_CLIENTS: usize = 100_000;
/// Most permissions (peer IP addresses) one allocation holds.
pub const MAX_PERMISSIONS: usize = 64;
/// Most channel bindings one allocation holds.
pub const MAX_CHANNELS: usize = 64;
/// Most outputs queued for the host; past it new outputs are dropped and counted (the
/// host drains the queue after every input, so this is only reached by a host bug).
pub const MAX_QUEUED_OUTPUTS: usize = 65_536;
/// A TCP client's stream buffer holds at most one partial frame.
pub const MAX_STREAM_BUFFER: usize = wire::MAX_FRAME_LEN;
/// RFC 8656 §9: a permission lasts 300 s.
pub const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
/// RFC 8656 §12: a channel binding lasts 600 s.
pub const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);
/// How long the server waits for the host to answer an [`Output::OpenPort`].
pub const OPEN_PORT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client connection, chosen by the host: one WebSocket, one TCP connection, or one UDP
/// 5-tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub u64);

/// A relayed UDP port (one per allocation), chosen by the server in [`Output::OpenPort`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId(pub u64);

/// How a client reaches the server (RFC 8656 §3.1): this decides the framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// One datagram is one STUN message or one ChannelData frame.
    Udp,
    /// A byte stream: STUN messages and ChannelData frames (padded to 4) back to back
    /// (RFC 8656 §12.5).
    Tcp,
    /// One binary WebSocket message is one STUN message or one ChannelData frame.
    WebSocket,
}

/// Address family of a relayed port (REQUESTED-ADDRESS-FAMILY).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// What the server asks the host to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send these bytes to the client (one datagram, a chunk of the TCP stream, or one
    /// binary WebSocket message).
    ToClient { client: ClientId, data: Vec<u8> },
    /// Send a datagram from the relayed port to a peer.
    ToPeer { port: PortId, peer: SocketAddr, data: Vec<u8> },
    /// Bind a UDP socket of this family for a new allocation, then call
    /// [`Server::port_opened`] with its address as peers see it (or an error). `even`:
    /// the client sent EVEN-PORT (R bit clear): the port number must be even (RFC 8656
    /// §7.2; the host answers an error when it cannot find one).
    OpenPort { port: PortId, family: Family, even: bool },
    /// Close the relayed port's socket.
    ClosePort { port: PortId },
    /// Close the client's connection (idle, or its TCP stream is unreadable); for UDP,
    /// forget the 5-tuple. The server has already forgotten the client.
    CloseClient { client: ClientId },
}

/// Server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// REALM (RFC 8489 §14.9).
    pub realm: String,
    /// Static long-term credentials: username → password.
    pub users: HashMap<String, String>,
    /// coturn `use-auth-secret`: REST usernames `expiry:user` with password
    /// base64(HMAC-SHA1(secret, username)).
    pub secret: Option<String>,
    /// Allow peers at loopback, private, link-local addresses (tests on one machine).
    pub allow_private: bool,
    /// Key of the stateless nonces (random, from the host).
    pub nonce_key: [u8; 32],
    /// How long a nonce stays valid (then 438).
    pub nonce_lifetime: Duration,
    /// RFC 8656 §7.2: default allocation lifetime.
    pub default_lifetime: Duration,
    /// Longest allocation lifetime granted.
    pub max_lifetime: Duration,
    /// Allocations at once, in total (486 past it).
    pub max_allocations: usize,
    /// Allocations at once per user (486 past it).
    pub max_allocations_per_user: usize,
    /// Bytes per second per allocation, both directions together (token bucket with one
    /// second of burst); `None`: unlimited.
    pub bandwidth: Option<u64>,
    /// A client without an allocation that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// SOFTWARE sent in responses.
    pub software: Option<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            realm: "polyrtc".into(),
            users: HashMap::new(),
            secret: None,
            allow_private: false,
            nonce_key: [0; 32],
            nonce_lifetime: Duration::from_secs(600),
            default_lifetime: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(3600),
            max_allocations: 10_000,
            max_allocations_per_user: 100,
            bandwidth: None,
            idle_timeout: Duration::from_secs(60),
            software: None,
        }
    }
}

/// Dropped input, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    /// Not STUN or ChannelData, or a STUN message that does not parse.
    pub malformed: u64,
    /// FINGERPRINT present and wrong.
    pub bad_fingerprint: u64,
    /// Larger than the server relays.
    pub too_large: u64,
    /// A peer datagram or Send indication without a permission for the peer.
    pub no_permission: u64,
    /// ChannelData on an unbound (or expired) channel.
    pub no_channel: u64,
    /// Send indication or ChannelData from a client without an allocation, or a datagram
    /// on an unknown port.
    pub no_allocation: u64,
    /// A Send indication to a refused (private...) address.
    pub forbidden_peer: u64,
    /// Over the allocation's bandwidth.
    pub bandwidth: u64,
    /// Input from a client the server does not know.
    pub unknown_client: u64,
    /// Responses or indications the server does not handle.
    pub unexpected: u64,
    /// The output queue was full.
    pub output_queue_full: u64,
}

/// Counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub clients: usize,
    pub allocations: usize,
    pub allocations_created: u64,
    /// Requests answered with an error (any code).
    pub error_responses: u64,
    /// Requests answered 401 or 438 (authentication).
    pub auth_failures: u64,
    pub packets_to_peers: u64,
    pub bytes_to_peers: u64,
    pub packets_to_clients: u64,
    pub bytes_to_clients: u64,
    /// Datagrams delivered from one of the server's allocations to another directly.
    pub internal_deliveries: u64,
    pub drops: Drops,
}

struct Client {
    kind: ClientKind,
    remote: SocketAddr,
    last_seen: Time,
    stream: Vec<u8>,
}

#[derive(Clone, Copy)]
enum AllocState {
    /// Waiting for the host to bind the port.
    Pending { tid: [u8; 12], lifetime: Duration, integrity: Integrity, deadline: Time },
    Active { relayed: SocketAddr },
}

struct Bucket {
    /// Byte-microseconds available.
    tokens: u64,
    last: Time,
}

struct Allocation {
    port: PortId,
    state: AllocState,
    username: String,
    quota_user: String,
    key: [u8; 16],
    expires: Time,
    /// The Allocate transaction and its success response (for retransmissions).
    alloc_tid: [u8; 12],
    alloc_response: Vec<u8>,
    permissions: HashMap<IpAddr, Time>,
    channels: HashMap<u16, (SocketAddr, Time)>,
    channel_of_peer: HashMap<SocketAddr, u16>,
    bucket: Bucket,
}

/// An authenticated request.
struct Auth {
    username: String,
    quota_user: String,
    key: [u8; 16],
    integrity: Integrity,
}

/// The TURN server. See the crate documentation.
pub struct Server {
    config: Config,
    clients: HashMap<ClientId, Client>,
    allocations: HashMap<ClientId, Allocation>,
    ports: HashMap<PortId, ClientId>,
    relayed: HashMap<SocketAddr, PortId>,
    per_user: HashMap<String, usize>,
    next_port: u64,
    indications: u64,
    out: VecDeque<Output>,
    stats: Stats,
    next_check: Time,
}

fn unix_secs(now: Time) -> u64 {
    now.as_micros() / 1_000_000
}

impl Server {
    /// `now` everywhere is Unix time in microseconds (the host takes it from a monotonic
    /// clock anchored to the wall clock once, so it never goes back): REST credentials and
    /// nonces carry Unix times.
    pub fn new(config: Config) -> Server {
        Server {
            config,
            clients: HashMap::new(),
            allocations: HashMap::new(),
            ports: HashMap::new(),
            relayed: HashMap::new(),
            per_user: HashMap::new(),
            next_port: 1,
            indications: 0,
            out: VecDeque::new(),
            stats: Stats::default(),
            next_check: Time::MAX,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        s.clients = self.clients.len();
        s.allocations = self.allocations.len();
        s
    }

    /// The relayed address of a client's allocation, once the host has bound it.
    pub fn relayed_address(&self, client: ClientId) -> Option<SocketAddr> {
        match self.allocations.get(&client)?.state {
            AllocState::Active { relayed } => Some(relayed),
            AllocState::Pending { .. } => None,
        }
    }

    /// A new client connection (or UDP 5-tuple) at `remote`. `Err` if the server already
    /// tracks [`MAX_CLIENTS`] clients (the host closes the connection) or the id is in use.
    #[allow(clippy::result_unit_err)] // the only failure is named in the doc above
    pub fn add_client(&mut self, id: ClientId, kind: ClientKind, remote: SocketAddr, now: Time) -> Result<(), ()> {
        if self.clients.len() >= MAX_CLIENTS || self.clients.contains_key(&id) {
            return Err(());
        }
        self.clients.insert(id, Client { kind, remote, last_seen: now, stream: Vec::new() });
        self.arm(now + self.config.idle_timeout);
        Ok(())
    }

    /// The client's connection closed (or the host gave up on it): its allocation is freed.
    pub fn client_gone(&mut self, id: ClientId, _now: Time) {
        self.clients.remove(&id);
        self.delete_allocation(id);
    }

    /// Bytes from a client: one datagram (UDP), one binary message (WebSocket), or the next
    /// chunk of the stream (TCP).
    pub fn handle_client_data(&mut self, id: ClientId, data: &[u8], now: Time) {
        let Some(c) = self.clients.get_mut(&id) else {
            self.stats.drops.unknown_client += 1;
            return;
        };
        c.last_seen = now;
        if c.kind != ClientKind::Tcp {
            self.handle_message(id, data, now);
            return;
        }
        c.stream.extend_from_slice(data);
        let mut stream = std::mem::take(&mut c.stream);
        let mut pos = 0;
        loop {
            let rest = stream.get(pos..).unwrap_or(&[]);
            match wire::stream_frame_len(rest) {
                Ok(Some(n)) if n > wire::MAX_FRAME_LEN => {
                    self.stats.drops.too_large += 1;
                    return self.close_client(id);
                }
                Ok(Some(n)) if n <= rest.len() => {
                    let frame = rest.get(..n).unwrap_or(&[]).to_vec();
                    pos += n;
                    self.handle_message(id, &frame, now);
                    if !self.clients.contains_key(&id) {
                        return;
                    }
                }
                Ok(_) => break,
                Err(()) => {
                    self.stats.drops.malformed += 1;
                    return self.close_client(id);
                }
            }
        }
        stream.drain(..pos.min(stream.len()));
        if stream.len() > MAX_STREAM_BUFFER {
            self.stats.drops.too_large += 1;
            return self.close_client(id);
        }
        if let Some(c) = self.clients.get_mut(&id) {
            c.stream = stream;
        }
    }

    /// The host bound (or failed to bind) the port asked for in [`Output::OpenPort`];
    /// `addr` is the relayed transport address peers see.
    pub fn port_opened(&mut self, port: PortId, addr: Result<SocketAddr, ()>, now: Time) {
        let Some(&client) = self.ports.get(&port) else {
            if addr.is_ok() {
                self.push(Output::ClosePort { port });
            }
            return;
        };
        let Some(a) = self.allocations.get_mut(&client) else { return };
        let AllocState::Pending { tid, lifetime, integrity, .. } = a.state else { return };
        let key = a.key;
        let relayed = match addr {
            Ok(r) if !self.relayed.contains_key(&r) => r,
            _ => {
                self.delete_allocation(client);
                self.error(client, method::ALLOCATE, tid, 508, Some((&key, integrity)), Vec::new());
                return;
            }
        };
        a.state = AllocState::Active { relayed };
        a.expires = now + lifetime;
        self.relayed.insert(relayed, port);
        self.stats.allocations_created += 1;
        let mapped = self.clients.get(&client).map(|c| c.remote);
        let mut m = self.message(method::ALLOCATE, Class::SuccessResponse, tid);
        m.attributes.push(wire::other(tattr::XOR_RELAYED_ADDRESS, wire::encode_xor_address(relayed, &tid)));
        m.attributes.push(wire::other(tattr::LIFETIME, secs(lifetime).to_be_bytes().to_vec()));
        if let Some(mapped) = mapped {
            m.attributes.push(Attribute::XorMappedAddress(mapped));
        }
        let bytes = wire::sign(&m, Some((&key, integrity)));
        if let Some(a) = self.allocations.get_mut(&client) {
            a.alloc_response = bytes.clone();
        }
        self.arm(now + lifetime);
        self.send_client(client, bytes);
    }

    /// A datagram arrived on a relayed port from a peer.
    pub fn handle_peer_datagram(&mut self, port: PortId, from: SocketAddr, data: &[u8], now: Time) {
        let Some(&client) = self.ports.get(&port) else {
            self.stats.drops.no_allocation += 1;
            return;
        };
        self.deliver_to_client(client, from, data, now);
    }

    /// The next output for the host, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Server::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Time> {
        (self.next_check != Time::MAX).then_some(self.next_check)
    }

    /// Expires allocations, permissions, channels, nonces-in-waiting and idle clients.
    pub fn handle_timeout(&mut self, now: Time) {
        if now < self.next_check {
            return;
        }
        let mut next = Time::MAX;
        let mut expired = Vec::new();
        for (id, a) in self.allocations.iter_mut() {
            let deadline = match a.state {
                AllocState::Pending { deadline, .. } => deadline,
                AllocState::Active { .. } => a.expires,
            };
            if deadline <= now {
                expired.push(*id);
                continue;
            }
            next = next.min(deadline);
            a.permissions.retain(|_, t| *t > now);
            let channels = &mut a.channels;
            channels.retain(|_, (_, t)| *t > now);
            a.channel_of_peer.retain(|_, n| channels.contains_key(n));
            for t in a.permissions.values() {
                next = next.min(*t);
            }
            for (_, t) in a.channels.values() {
                next = next.min(*t);
            }
        }
        for id in expired {
            self.delete_allocation(id);
            // The idle timeout of a client starts when its allocation goes.
            if let Some(c) = self.clients.get_mut(&id) {
                c.last_seen = c.last_seen.max(now);
            }
        }
        let mut idle = Vec::new();
        for (id, c) in &self.clients {
            if self.allocations.contains_key(id) {
                continue;
            }
            let deadline = c.last_seen + self.config.idle_timeout;
            if deadline <= now {
                idle.push(*id);
            } else {
                next = next.min(deadline);
            }
        }
        for id in idle {
            self.close_client(id);
        }
        self.next_check = next;
    }

    // ---- internals ----

    fn arm(&mut self, t: Time) {
        self.next_check = self.next_check.min(t);
    }

    fn push(&mut self, o: Output) {
        if self.out.len() >= MAX_QUEUED_OUTPUTS {
            self.stats.drops.output_queue_full += 1;
        } else {
            self.out.push_back(o);
        }
    }

    fn send_client(&mut self, client: ClientId, data: Vec<u8>) {
        self.push(Output::ToClient { client, data });
    }

    fn close_client(&mut self, id: ClientId) {
        self.clients.remove(&id);
        self.delete_allocation(id);
        self.push(Output::CloseClient { client: id });
    }

    fn delete_allocation(&mut self, id: ClientId) {
        let Some(a) = self.allocations.remove(&id) else { return };
        if let Some(n) = self.per_user.get_mut(&a.quota_user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_user.remove(&a.quota_user);
            }
        }
        if let AllocState::Active { relayed } = a.state {
            self.relayed.remove(&relayed);
            self.ports.remove(&a.port);
            self.push(Output::ClosePort { port: a.port });
        } else {
            // The host may still answer OpenPort: port_opened then asks it to close.
            self.ports.remove(&a.port);
        }
    }

    fn message(&self, m: Method, class: Class, tid: [u8; 12]) -> Message {
        let mut msg = Message::new(m, class, tid);
        if let Some(s) = &self.config.software {
            msg.attributes.push(Attribute::Software(s.clone()));
        }
        msg
    }

    fn error(&mut self, client: ClientId, m: Method, tid: [u8; 12], code: u16, key: Option<(&[u8], Integrity)>, extra: Vec<Attribute>) {
        self.stats.error_responses += 1;
        let mut msg = self.message(m, Class::ErrorResponse, tid);
        msg.attributes.push(Attribute::ErrorCode { code, reason: wire::reason(code).into() });
        msg.attributes.extend(extra);
        let bytes = wire::sign(&msg, key);
        self.send_client(client, bytes);
    }

    /// 401 or 438 with REALM and a fresh NONCE (unsigned).
    fn challenge(&mut self, client: ClientId, m: Method, tid: [u8; 12], code: u16, now: Time) {
        self.stats.auth_failures += 1;
        let expiry = unix_secs(now).saturating_add(self.config.nonce_lifetime.as_secs());
        let nonce = auth::make_nonce(&self.config.nonce_key, expiry);
        let extra = vec![
            wire::other(attr::REALM, self.config.realm.as_bytes().to_vec()),
            wire::other(attr::NONCE, nonce.into_bytes()),
        ];
        self.error(client, m, tid, code, None, extra);
    }

    fn handle_message(&mut self, id: ClientId, msg: &[u8], now: Time) {
        match msg.first().map(|b| b >> 6) {
            Some(1) => self.handle_channel_data(id, msg, now),
            Some(0) => match Parsed::parse(msg) {
                Ok(p) => self.handle_stun(id, &p, now),
                Err(wire::ParseError::BadFingerprint) => self.stats.drops.bad_fingerprint += 1,
                Err(wire::ParseError::TooLarge) => self.stats.drops.too_large += 1,
                Err(wire::ParseError::Malformed) => self.stats.drops.malformed += 1,
            },
            _ => self.stats.drops.malformed += 1,
        }
    }

    fn handle_channel_data(&mut self, id: ClientId, msg: &[u8], now: Time) {
        let Some((ch, data)) = wire::parse_channel_data(msg) else {
            self.stats.drops.malformed += 1;
            return;
        };
        let Some(a) = self.allocations.get(&id) else {
            self.stats.drops.no_allocation += 1;
            return;
        };
        match a.channels.get(&ch) {
            Some((peer, t)) if *t > now => {
                let peer = *peer;
                self.send_to_peer(id, peer, data, now);
            }
            _ => self.stats.drops.no_channel += 1,
        }
    }

    fn handle_stun(&mut self, id: ClientId, p: &Parsed<'_>, now: Time) {
        match (p.class, p.method) {
            (Class::Request, method::BINDING) => {
                let Some(remote) = self.clients.get(&id).map(|c| c.remote) else { return };
                let mut m = self.message(method::BINDING, Class::SuccessResponse, p.tid);
                m.attributes.push(Attribute::XorMappedAddress(remote));
                let bytes = wire::sign(&m, None);
                self.send_client(id, bytes);
            }
            (Class::Request, method::ALLOCATE | method::REFRESH | method::CREATE_PERMISSION | method::CHANNEL_BIND) => {
                let Some(auth) = self.authenticate(id, p, now) else { return };
                let unknown = p.unknown_required();
                if !unknown.is_empty() {
                    let key = auth.key;
                    self.error(id, p.method, p.tid, 420, Some((&key, auth.integrity)), vec![Attribute::UnknownAttributes(unknown)]);
                    return;
                }
                match p.method {
                    method::ALLOCATE => self.allocate(id, p, auth, now),
                    method::REFRESH => self.refresh(id, p, auth, now),
                    method::CREATE_PERMISSION => self.create_permission(id, p, auth, now),
                    _ => self.channel_bind(id, p, auth, now),
                }
            }
            (Class::Request, m) => self.error(id, m, p.tid, 400, None, Vec::new()),
            (Class::Indication, method::SEND) => self.send_indication(id, p, now),
            _ => self.stats.drops.unexpected += 1,
        }
    }

    /// RFC 8489 §9.2.4. `None`: an error response was sent.
    fn authenticate(&mut self, id: ClientId, p: &Parsed<'_>, now: Time) -> Option<Auth> {
        if !p.has(attr::MESSAGE_INTEGRITY) && !p.has(attr::MESSAGE_INTEGRITY_SHA256) {
            self.challenge(id, p.method, p.tid, 401, now);
            return None;
        }
        let (Some(username), Some(_realm), Some(nonce)) = (p.text(attr::USERNAME), p.text(attr::REALM), p.text(attr::NONCE)) else {
            self.error(id, p.method, p.tid, 400, None, Vec::new());
            return None;
        };
        if nonce.len() > auth::MAX_NONCE_LEN || auth::check_nonce(&self.config.nonce_key, nonce, unix_secs(now)).is_err() {
            self.challenge(id, p.method, p.tid, 438, now);
            return None;
        }
        let realm = self.config.realm.clone();
        let found = self.password(username, now);
        let Some((password, quota_user)) = found else {
            self.challenge(id, p.method, p.tid, 401, now);
            return None;
        };
        let key = auth::long_term_key(username, &realm, &password);
        let Some(integrity) = wire::verify(p, &key) else {
            self.challenge(id, p.method, p.tid, 401, now);
            return None;
        };
        if let Some(a) = self.allocations.get(&id) {
            if a.username != username {
                self.error(id, p.method, p.tid, 441, Some((&key, integrity)), Vec::new());
                return None;
            }
        }
        Some(Auth { username: username.to_string(), quota_user, key, integrity })
    }

    /// The password of a username and the name its quota is counted under: a static user,
    /// or an unexpired REST username.
    fn password(&self, username: &str, now: Time) -> Option<(String, String)> {
        if let Some(p) = self.config.users.get(username) {
            return Some((p.clone(), username.to_string()));
        }
        let secret = self.config.secret.as_ref()?;
        let (expiry, user) = auth::rest_expiry(username)?;
        if expiry <= unix_secs(now) {
            return None;
        }
        Some((auth::rest_password(secret.as_bytes(), username), user.to_string()))
    }

    fn lifetime(&self, requested: Option<u32>) -> Duration {
        let d = self.config.default_lifetime;
        match requested {
            None => d,
            Some(s) => Duration::from_secs(u64::from(s)).min(self.config.max_lifetime).max(d),
        }
    }

    fn allocate(&mut self, id: ClientId, p: &Parsed<'_>, auth: Auth, now: Time) {
        let k = Some((&auth.key[..], auth.integrity));
        if let Some(a) = self.allocations.get(&id) {
            match a.state {
                AllocState::Pending { tid, .. } if tid == p.tid => {}
                AllocState::Active { .. } if a.alloc_tid == p.tid => {
                    let r = a.alloc_response.clone();
                    self.send_client(id, r);
                }
                _ => self.error(id, method::ALLOCATE, p.tid, 437, k, Vec::new()),
            }
            return;
        }
        match p.get(tattr::REQUESTED_TRANSPORT) {
            None => return self.error(id, method::ALLOCATE, p.tid, 400, k, Vec::new()),
            Some(v) if v.first() != Some(&17) => {
                return self.error(id, method::ALLOCATE, p.tid, 442, k, Vec::new());
            }
            _ => {}
        }
        if p.has(tattr::DONT_FRAGMENT) {
            // We cannot set DF on the relayed socket: treat it as unknown (RFC 8656 §7.2).
            let extra = vec![Attribute::UnknownAttributes(vec![tattr::DONT_FRAGMENT])];
            return self.error(id, method::ALLOCATE, p.tid, 420, k, extra);
        }
        // EVEN-PORT without the R bit is honoured (an even port); reservations are not
        // supported (508).
        let even = match p.get(tattr::EVEN_PORT) {
            None => false,
            Some(v) if v.first().is_some_and(|b| b & 0x80 == 0) => true,
            Some(_) => return self.error(id, method::ALLOCATE, p.tid, 508, k, Vec::new()),
        };
        if p.has(tattr::RESERVATION_TOKEN) {
            return self.error(id, method::ALLOCATE, p.tid, 508, k, Vec::new());
        }
        let family = match p.get(tattr::REQUESTED_ADDRESS_FAMILY).map(|v| v.first().copied()) {
            None | Some(Some(1)) => Family::V4,
            Some(Some(2)) => Family::V6,
            _ => return self.error(id, method::ALLOCATE, p.tid, 440, k, Vec::new()),
        };
        let user_count = self.per_user.get(&auth.quota_user).copied().unwrap_or(0);
        if self.allocations.len() >= self.config.max_allocations || user_count >= self.config.max_allocations_per_user {
            return self.error(id, method::ALLOCATE, p.tid, 486, k, Vec::new());
        }
        let lifetime = self.lifetime(p.lifetime());
        let port = PortId(self.next_port);
        self.next_port += 1;
        let deadline = now + OPEN_PORT_TIMEOUT;
        let rate = self.config.bandwidth.unwrap_or(0);
        self.allocations.insert(
            id,
            Allocation {
                port,
                state: AllocState::Pending { tid: p.tid, lifetime, integrity: auth.integrity, deadline },
                username: auth.username,
                quota_user: auth.quota_user.clone(),
                key: auth.key,
                expires: deadline,
                alloc_tid: p.tid,
                alloc_response: Vec::new(),
                permissions: HashMap::new(),
                channels: HashMap::new(),
                channel_of_peer: HashMap::new(),
                bucket: Bucket { tokens: rate.saturating_mul(1_000_000), last: now },
            },
        );
        *self.per_user.entry(auth.quota_user).or_insert(0) += 1;
        self.ports.insert(port, id);
        self.arm(deadline);
        self.push(Output::OpenPort { port, family, even });
    }

    fn refresh(&mut self, id: ClientId, p: &Parsed<'_>, auth: Auth, now: Time) {
        let k = Some((&auth.key[..], auth.integrity));
        let active = matches!(self.allocations.get(&id).map(|a| a.state), Some(AllocState::Active { .. }));
        if !active {
            return self.error(id, method::REFRESH, p.tid, 437, k, Vec::new());
        }
        let lifetime = if p.lifetime() == Some(0) {
            self.delete_allocation(id);
            Duration::ZERO
        } else {
            let l = self.lifetime(p.lifetime());
            if let Some(a) = self.allocations.get_mut(&id) {
                a.expires = now + l;
            }
            self.arm(now + l);
            l
        };
        let mut m = self.message(method::REFRESH, Class::SuccessResponse, p.tid);
        m.attributes.push(wire::other(tattr::LIFETIME, secs(lifetime).to_be_bytes().to_vec()));
        let bytes = wire::sign(&m, k);
        self.send_client(id, bytes);
    }

    /// Checks the XOR-PEER-ADDRESS values of a CreatePermission or ChannelBind; `Err` is the
    /// error code.
    fn check_peers(&self, id: ClientId, peers: &[Option<SocketAddr>]) -> Result<Vec<SocketAddr>, u16> {
        let Some(a) = self.allocations.get(&id) else { return Err(437) };
        let AllocState::Active { relayed } = a.state else { return Err(437) };
        if peers.is_empty() {
            return Err(400);
        }
        let mut out = Vec::new();
        for p in peers {
            let p = p.ok_or(400u16)?;
            if p.is_ipv4() != relayed.is_ipv4() {
                return Err(443);
            }
            if self.forbidden(p) {
                return Err(403);
            }
            out.push(p);
        }
        Ok(out)
    }

    fn create_permission(&mut self, id: ClientId, p: &Parsed<'_>, auth: Auth, now: Time) {
        let k = Some((&auth.key[..], auth.integrity));
        let peers = match self.check_peers(id, &p.peer_addresses()) {
            Ok(v) => v,
            Err(code) => return self.error(id, method::CREATE_PERMISSION, p.tid, code, k, Vec::new()),
        };
        let Some(a) = self.allocations.get_mut(&id) else { return };
        let new: std::collections::HashSet<IpAddr> = peers.iter().map(|s| s.ip()).filter(|ip| !a.permissions.contains_key(ip)).collect();
        if a.permissions.len() + new.len() > MAX_PERMISSIONS {
            return self.error(id, method::CREATE_PERMISSION, p.tid, 508, k, Vec::new());
        }
        let until = now + PERMISSION_LIFETIME;
        for s in &peers {
            a.permissions.insert(s.ip(), until);
        }
        self.arm(until);
        let m = self.message(method::CREATE_PERMISSION, Class::SuccessResponse, p.tid);
        let bytes = wire::sign(&m, k);
        self.send_client(id, bytes);
    }

    fn channel_bind(&mut self, id: ClientId, p: &Parsed<'_>, auth: Auth, now: Time) {
        let k = Some((&auth.key[..], auth.integrity));
        let number = p.get(tattr::CHANNEL_NUMBER).and_then(|v| <[u8; 4]>::try_from(v).ok()).map(|v| u16::from_be_bytes([v[0], v[1]]));
        let Some(number) = number.filter(|n| (wire::CHANNEL_MIN..=wire::CHANNEL_MAX).contains(n)) else {
            let code = if self.allocations.contains_key(&id) { 400 } else { 437 };
            return self.error(id, method::CHANNEL_BIND, p.tid, code, k, Vec::new());
        };
        let mut peers = p.peer_addresses();
        peers.truncate(1);
        let peer = match self.check_peers(id, &peers) {
            Ok(v) => match v.first() {
                Some(s) => *s,
                None => return self.error(id, method::CHANNEL_BIND, p.tid, 400, k, Vec::new()),
            },
            Err(code) => return self.error(id, method::CHANNEL_BIND, p.tid, code, k, Vec::new()),
        };
        let Some(a) = self.allocations.get_mut(&id) else { return };
        // RFC 8656 §11.2: the number must not be bound to another peer, nor the peer to
        // another number.
        let conflict = a.channels.get(&number).is_some_and(|(p2, t)| *p2 != peer && *t > now)
            || a.channel_of_peer.get(&peer).is_some_and(|n| *n != number && a.channels.get(n).is_some_and(|(_, t)| *t > now));
        let room = a.channels.contains_key(&number) || a.channels.len() < MAX_CHANNELS;
        let perm_room = a.permissions.contains_key(&peer.ip()) || a.permissions.len() < MAX_PERMISSIONS;
        if conflict {
            return self.error(id, method::CHANNEL_BIND, p.tid, 400, k, Vec::new());
        }
        if !room || !perm_room {
            return self.error(id, method::CHANNEL_BIND, p.tid, 508, k, Vec::new());
        }
        if let Some((old, _)) = a.channels.insert(number, (peer, now + CHANNEL_LIFETIME)) {
            if old != peer {
                a.channel_of_peer.remove(&old);
            }
        }
        if let Some(n) = a.channel_of_peer.insert(peer, number) {
            if n != number {
                a.channels.remove(&n);
            }
        }
        a.permissions.insert(peer.ip(), now + PERMISSION_LIFETIME);
        self.arm(now + PERMISSION_LIFETIME);
        let m = self.message(method::CHANNEL_BIND, Class::SuccessResponse, p.tid);
        let bytes = wire::sign(&m, k);
        self.send_client(id, bytes);
    }

    fn send_indication(&mut self, id: ClientId, p: &Parsed<'_>, now: Time) {
        let Some(a) = self.allocations.get(&id) else {
            self.stats.drops.no_allocation += 1;
            return;
        };
        let (Some(Some(peer)), Some(data)) = (p.peer_addresses().first().copied(), p.get(tattr::DATA)) else {
            self.stats.drops.malformed += 1;
            return;
        };
        if self.forbidden(peer) {
            self.stats.drops.forbidden_peer += 1;
            return;
        }
        if a.permissions.get(&peer.ip()).is_none_or(|t| *t <= now) {
            self.stats.drops.no_permission += 1;
            return;
        }
        self.send_to_peer(id, peer, data, now);
    }

    /// Takes `n` bytes from the allocation's bucket; false if over the bandwidth.
    fn take_tokens(&mut self, id: ClientId, n: usize, now: Time) -> bool {
        let Some(rate) = self.config.bandwidth else { return true };
        let Some(a) = self.allocations.get_mut(&id) else { return false };
        let cap = rate.saturating_mul(1_000_000);
        let elapsed = now.as_micros().saturating_sub(a.bucket.last.as_micros());
        a.bucket.tokens = a.bucket.tokens.saturating_add(rate.saturating_mul(elapsed)).min(cap);
        a.bucket.last = a.bucket.last.max(now);
        let need = (n as u64).saturating_mul(1_000_000);
        if a.bucket.tokens >= need {
            a.bucket.tokens -= need;
            true
        } else {
            self.stats.drops.bandwidth += 1;
            false
        }
    }

    fn send_to_peer(&mut self, id: ClientId, peer: SocketAddr, data: &[u8], now: Time) {
        if data.len() > wire::MAX_PAYLOAD {
            self.stats.drops.too_large += 1;
            return;
        }
        let Some(AllocState::Active { relayed }) = self.allocations.get(&id).map(|a| a.state) else {
            self.stats.drops.no_allocation += 1;
            return;
        };
        if !self.take_tokens(id, data.len(), now) {
            return;
        }
        self.stats.packets_to_peers += 1;
        self.stats.bytes_to_peers += data.len() as u64;
        if let Some(&target_port) = self.relayed.get(&peer) {
            // One of our own allocations: deliver without a round trip through the host.
            if let Some(&target) = self.ports.get(&target_port) {
                self.stats.internal_deliveries += 1;
                self.deliver_to_client(target, relayed, data, now);
            }
            return;
        }
        let Some(port) = self.allocations.get(&id).map(|a| a.port) else { return };
        self.push(Output::ToPeer { port, peer, data: data.to_vec() });
    }

    fn deliver_to_client(&mut self, client: ClientId, from: SocketAddr, data: &[u8], now: Time) {
        if data.len() > wire::MAX_PAYLOAD {
            self.stats.drops.too_large += 1;
            return;
        }
        let Some(a) = self.allocations.get(&client) else {
            self.stats.drops.no_allocation += 1;
            return;
        };
        if a.permissions.get(&from.ip()).is_none_or(|t| *t <= now) {
            self.stats.drops.no_permission += 1;
            return;
        }
        let channel = a.channel_of_peer.get(&from).copied().filter(|n| a.channels.get(n).is_some_and(|(_, t)| *t > now));
        if !self.take_tokens(client, data.len(), now) {
            return;
        }
        let pad = self.clients.get(&client).is_some_and(|c| c.kind == ClientKind::Tcp);
        let bytes = match channel {
            Some(n) => wire::channel_data(n, data, pad),
            None => {
                self.indications += 1;
                let mut tid = [0u8; 12];
                let mac = polyrtc::crypto::hmac_sha1(&self.config.nonce_key, &[b"tid", &self.indications.to_be_bytes()]);
                tid.copy_from_slice(mac.get(..12).unwrap_or(&[0; 12]));
                let mut m = Message::new(method::DATA, Class::Indication, tid);
                m.attributes.push(wire::other(tattr::XOR_PEER_ADDRESS, wire::encode_xor_address(from, &tid)));
                m.attributes.push(wire::other(tattr::DATA, data.to_vec()));
                let mut out = Vec::with_capacity(data.len() + 48);
                m.encode(&mut out);
                out
            }
        };
        self.stats.packets_to_clients += 1;
        self.stats.bytes_to_clients += data.len() as u64;
        self.send_client(client, bytes);
    }

    /// RFC 8656 §21.1 and the issue: peers at loopback, private, unique-local,
    /// link-local, unspecified, multicast (and broadcast) addresses are refused unless
    /// `allow_private`; the server's own relayed addresses are always allowed.
    fn forbidden(&self, peer: SocketAddr) -> bool {
        !self.config.allow_private && !self.relayed.contains_key(&peer) && is_restricted(peer.ip())
    }
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// Whether an address is one a relay must not reach by default.
pub fn is_restricted(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_restricted(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}
