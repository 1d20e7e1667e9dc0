//! A sans-IO TURN client (RFC 8656) with the long-term credential mechanism (RFC 8489 §9.2).
//!
//! The client owns no socket: the host feeds what the server sent with
//! [`TurnClient::handle_input`] (a datagram, a WebSocket message, or any slice of a TCP
//! stream), drives timers with [`TurnClient::handle_timeout`] / [`TurnClient::poll_timeout`],
//! and sends what [`TurnClient::poll_transmit`] yields to the server.
//!
//! - Allocate is sent at construction; a 401 carrying REALM and NONCE is answered with a
//!   signed retry (MESSAGE-INTEGRITY keyed with MD5(username:realm:password)); a 438 with a
//!   retry under the new nonce.
//! - Over UDP requests are retransmitted (RFC 8489 §6.2.1: RTO 500 ms doubling, Rc = 7,
//!   Rm = 16); over TCP/WebSocket a request is sent once and times out after 39.5 s.
//! - The allocation is refreshed [`REFRESH_MARGIN`] before it expires, permissions every
//!   [`PERMISSION_REFRESH`] while used, channel bindings every [`CHANNEL_REFRESH`].
//! - Responses with an unknown transaction id, or whose MESSAGE-INTEGRITY does not verify,
//!   are dropped and counted in [`TurnStats`].

pub mod wire;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use md5::{Digest, Md5};

use crate::crypto::Rng;
use crate::stun::{self, attr, Attribute, Class, Message, HEADER_LEN};
use crate::time::Time;
use wire::{method, tattr, CHANNEL_MAX, CHANNEL_MIN};

/// How the client reaches the server; decides framing and retransmission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnTransport {
    /// One message per datagram; requests are retransmitted.
    Udp,
    /// A byte stream with RFC 8656 §11.5 framing (ChannelData padded to 4 bytes).
    Tcp,
    /// One message per WebSocket message (reliable: no retransmission, no padding).
    WebSocket,
}

impl TurnTransport {
    fn reliable(self) -> bool {
        !matches!(self, TurnTransport::Udp)
    }
}

#[derive(Clone, Debug)]
pub struct TurnConfig {
    pub transport: TurnTransport,
    pub username: String,
    /// The long-term password.
    pub credential: String,
    /// LIFETIME asked for in Allocate and Refresh (the server may shorten it).
    pub requested_lifetime: Duration,
    /// Sent as SOFTWARE in requests when set.
    pub software: Option<String>,
}

impl TurnConfig {
    pub fn new(transport: TurnTransport, username: &str, credential: &str) -> TurnConfig {
        TurnConfig {
            transport,
            username: username.to_string(),
            credential: credential.to_string(),
            requested_lifetime: Duration::from_secs(600),
            software: None,
        }
    }
}

/// What the client reports to the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TurnEvent {
    Allocated {
        relayed: SocketAddr,
        /// XOR-MAPPED-ADDRESS (our address as the server sees it), if given.
        mapped: Option<SocketAddr>,
        lifetime: Duration,
    },
    Refreshed {
        lifetime: Duration,
    },
    PermissionCreated {
        peer: IpAddr,
    },
    PermissionFailed {
        peer: IpAddr,
        code: u16,
        reason: String,
    },
    ChannelBound {
        peer: SocketAddr,
        channel: u16,
    },
    ChannelBindFailed {
        peer: SocketAddr,
        code: u16,
        reason: String,
    },
    /// Application data relayed from `from` (Data indication or ChannelData).
    Data {
        from: SocketAddr,
        bytes: Vec<u8>,
    },
    /// The allocation failed or was lost. `code` is the server's ERROR-CODE, or 0 for a
    /// local reason (timeout, malformed success response) named in `reason`.
    Failed {
        code: u16,
        reason: String,
    },
    /// The allocation was released after [`TurnClient::close`].
    Closed,
}

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnError {
    /// No allocation yet (or any more).
    NotAllocated,
    /// [`MAX_PERMISSIONS`] reached.
    TooManyPermissions,
    /// [`MAX_CHANNELS`] reached, or no channel number is free.
    TooManyChannels,
    /// [`MAX_TRANSACTIONS`] requests in flight.
    TooManyTransactions,
    /// More than [`MAX_PAYLOAD`] bytes.
    PayloadTooLarge,
    /// `send_to` a peer whose IP has no permission (call `create_permission` first).
    NoPermission,
}

impl core::fmt::Display for TurnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for TurnError {}

/// Drop counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TurnStats {
    /// Responses whose transaction id matched nothing in flight.
    pub stray_responses: u64,
    /// Responses dropped for a missing or wrong MESSAGE-INTEGRITY.
    pub bad_integrity: u64,
    /// Input that was neither valid STUN nor ChannelData.
    pub malformed: u64,
    /// ChannelData on a channel number we did not bind.
    pub unknown_channel: u64,
    /// Data events dropped because [`MAX_QUEUED_EVENTS`] were waiting.
    pub dropped_data: u64,
    /// Transmits dropped because [`MAX_QUEUED_TRANSMITS`] were waiting.
    pub dropped_transmits: u64,
    /// TCP stream bytes discarded after a framing error.
    pub stream_resyncs: u64,
}

/// RFC 8489 §6.2.1: initial RTO.
pub const INITIAL_RTO: Duration = Duration::from_millis(500);
/// RFC 8489 §6.2.1: Rc, the number of sends over UDP.
pub const MAX_SENDS: u32 = 7;
/// RFC 8489 §6.2.1: Rm, the last wait in RTOs.
pub const LAST_WAIT_RTOS: u32 = 16;
/// RFC 8489 §6.2.2: a request over a reliable transport times out after 39.5 s.
pub const RELIABLE_TIMEOUT: Duration = Duration::from_millis(39_500);
/// The allocation is refreshed this long before it expires.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Permissions last 300 s (RFC 8656 §9); refreshed this often while used.
pub const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// Channel bindings last 600 s (RFC 8656 §12); refreshed this often.
pub const CHANNEL_REFRESH: Duration = Duration::from_secs(540);
/// Used when a success response lacks LIFETIME (RFC 8656 default).
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(600);
/// Bound of the transmit queue.
pub const MAX_QUEUED_TRANSMITS: usize = 512;
/// Bound of the event queue for Data events (control events are bounded by the tables).
pub const MAX_QUEUED_EVENTS: usize = 512;
/// Bound of the permission table.
pub const MAX_PERMISSIONS: usize = 256;
/// Bound of the channel table.
pub const MAX_CHANNELS: usize = 256;
/// Bound of requests in flight.
pub const MAX_TRANSACTIONS: usize = 64;
/// Retries with a new nonce (438) or first credentials (401) per request.
pub const MAX_AUTH_RETRIES: u8 = 3;
/// Largest frame read from the server, and the bound of the TCP reassembly buffer.
pub const MAX_FRAME_LEN: usize = HEADER_LEN + 0xFFFF;
/// Largest payload sent in one `send_to` (room for headers in a 16-bit length).
pub const MAX_PAYLOAD: usize = 0xFFFF - 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Allocate,
    Refresh { lifetime: u32 },
    Permission { ip: IpAddr },
    ChannelBind { peer: SocketAddr, channel: u16 },
}

struct Transaction {
    tid: [u8; 12],
    kind: Kind,
    bytes: Vec<u8>,
    authenticated: bool,
    sends: u32,
    next: Time,
    auth_retries: u8,
}

struct Auth {
    realm: String,
    nonce: String,
    key: [u8; 16],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Allocating,
    Allocated,
    Closing,
    Closed,
    Failed,
}

struct Permission {
    installed: bool,
    in_flight: bool,
    used: bool,
    refresh_at: Time,
}

struct Channel {
    number: u16,
    bound: bool,
    in_flight: bool,
    refresh_at: Time,
}

/// The client. See the module documentation.
pub struct TurnClient {
    config: TurnConfig,
    rng: Rng,
    state: State,
    auth: Option<Auth>,
    relayed: Option<SocketAddr>,
    refresh_at: Time,
    refresh_in_flight: bool,
    transactions: Vec<Transaction>,
    permissions: HashMap<IpAddr, Permission>,
    channels: HashMap<SocketAddr, Channel>,
    by_number: HashMap<u16, SocketAddr>,
    next_channel: u16,
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<TurnEvent>,
    stream: Vec<u8>,
    stats: TurnStats,
}

/// MD5(username ":" realm ":" password), the long-term key (RFC 8489 §9.2.2).
pub fn long_term_key(username: &str, realm: &str, password: &str) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(username.as_bytes());
    h.update(b":");
    h.update(realm.as_bytes());
    h.update(b":");
    h.update(password.as_bytes());
    h.finalize().into()
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

impl TurnClient {
    /// Creates the client and queues the first Allocate.
    pub fn new(config: TurnConfig, rng: Rng, now: Time) -> TurnClient {
        let mut c = TurnClient {
            config,
            rng,
            state: State::Allocating,
            auth: None,
            relayed: None,
            refresh_at: Time::MAX,
            refresh_in_flight: false,
            transactions: Vec::new(),
            permissions: HashMap::new(),
            channels: HashMap::new(),
            by_number: HashMap::new(),
            next_channel: CHANNEL_MIN,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stream: Vec::new(),
            stats: TurnStats::default(),
        };
        c.start(Kind::Allocate, 0, now);
        c
    }

    pub fn stats(&self) -> TurnStats {
        self.stats
    }

    /// The relayed transport address once allocated.
    pub fn relayed_address(&self) -> Option<SocketAddr> {
        self.relayed
    }

    pub fn is_allocated(&self) -> bool {
        self.state == State::Allocated
    }

    /// The channel bound to `peer`, if the binding succeeded.
    pub fn channel_of(&self, peer: SocketAddr) -> Option<u16> {
        self.channels
            .get(&peer)
            .filter(|c| c.bound)
            .map(|c| c.number)
    }

    /// Next message for the server.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<TurnEvent> {
        self.events.pop_front()
    }

    /// When [`TurnClient::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Time> {
        let mut t = Time::MAX;
        for tx in &self.transactions {
            t = t.min(tx.next);
        }
        if self.state == State::Allocated {
            t = t.min(self.refresh_at);
            for p in self.permissions.values() {
                if p.installed && !p.in_flight {
                    t = t.min(p.refresh_at);
                }
            }
            for c in self.channels.values() {
                if c.bound && !c.in_flight {
                    t = t.min(c.refresh_at);
                }
            }
        }
        (t != Time::MAX).then_some(t)
    }

    /// Asks the server to let `peer` send to (and receive from) the relayed address.
    pub fn create_permission(&mut self, peer: IpAddr, now: Time) -> Result<(), TurnError> {
        self.require_allocated()?;
        if let Some(p) = self.permissions.get_mut(&peer) {
            p.used = true;
            return Ok(());
        }
        if self.permissions.len() >= MAX_PERMISSIONS {
            return Err(TurnError::TooManyPermissions);
        }
        self.room()?;
        self.permissions.insert(
            peer,
            Permission {
                installed: false,
                in_flight: true,
                used: true,
                refresh_at: Time::MAX,
            },
        );
        self.start(Kind::Permission { ip: peer }, 0, now);
        Ok(())
    }

    /// Binds a channel to `peer` (this also installs a permission for its IP).
    pub fn bind_channel(&mut self, peer: SocketAddr, now: Time) -> Result<(), TurnError> {
        self.require_allocated()?;
        if self.channels.contains_key(&peer) {
            return Ok(());
        }
        if self.channels.len() >= MAX_CHANNELS {
            return Err(TurnError::TooManyChannels);
        }
        self.room()?;
        let number = self.free_channel().ok_or(TurnError::TooManyChannels)?;
        self.channels.insert(
            peer,
            Channel {
                number,
                bound: false,
                in_flight: true,
                refresh_at: Time::MAX,
            },
        );
        self.by_number.insert(number, peer);
        self.start(
            Kind::ChannelBind {
                peer,
                channel: number,
            },
            0,
            now,
        );
        Ok(())
    }

    /// Sends `data` to `peer` through the relay: ChannelData if a channel is bound, else a
    /// Send indication. The peer's IP needs a permission (requested, or via a channel).
    pub fn send_to(&mut self, peer: SocketAddr, data: &[u8]) -> Result<(), TurnError> {
        self.require_allocated()?;
        if data.len() > MAX_PAYLOAD {
            return Err(TurnError::PayloadTooLarge);
        }
        let perm = self
            .permissions
            .get_mut(&peer.ip())
            .ok_or(TurnError::NoPermission)?;
        perm.used = true;
        if let Some(ch) = self.channels.get(&peer).filter(|c| c.bound) {
            let pad = self.config.transport == TurnTransport::Tcp;
            let bytes = wire::channel_data(ch.number, data, pad);
            self.push_transmit(bytes);
            return Ok(());
        }
        let mut tid = [0u8; 12];
        self.rng.fill(&mut tid);
        let mut m = Message::new(method::SEND, Class::Indication, tid);
        m.attributes.push(wire::other(
            tattr::XOR_PEER_ADDRESS,
            wire::xor_address(peer, &tid),
        ));
        m.attributes.push(wire::other(tattr::DATA, data.to_vec()));
        let bytes = m.encode_with(None, false);
        self.push_transmit(bytes);
        Ok(())
    }

    /// Releases the allocation (Refresh with LIFETIME 0); [`TurnEvent::Closed`] follows.
    pub fn close(&mut self, now: Time) {
        match self.state {
            State::Allocated => {
                self.state = State::Closing;
                self.transactions
                    .retain(|t| !matches!(t.kind, Kind::Refresh { .. }));
                self.start(Kind::Refresh { lifetime: 0 }, 0, now);
            }
            State::Allocating => {
                self.transactions.clear();
                self.state = State::Closed;
                self.events.push_back(TurnEvent::Closed);
            }
            State::Closing | State::Closed | State::Failed => {}
        }
    }

    /// Bytes from the server: one datagram/message (UDP, WebSocket) or any part of the
    /// stream (TCP).
    pub fn handle_input(&mut self, now: Time, data: &[u8]) {
        if self.config.transport != TurnTransport::Tcp {
            self.handle_frame(now, data);
            return;
        }
        let mut rest = data;
        while !rest.is_empty() {
            let room = MAX_FRAME_LEN.saturating_sub(self.stream.len()).max(1);
            let take = room.min(rest.len());
            let (head, tail) = rest.split_at(take);
            self.stream.extend_from_slice(head);
            rest = tail;
            self.drain_stream(now);
        }
    }

    fn drain_stream(&mut self, now: Time) {
        loop {
            let (Some(&b0), Some(&l0), Some(&l1)) =
                (self.stream.first(), self.stream.get(2), self.stream.get(3))
            else {
                return;
            };
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            let frame_len = match b0 >> 6 {
                0b00 => HEADER_LEN + len,
                0b01 => 4 + ((len + 3) & !3),
                _ => {
                    // Lost framing: nothing after this can be trusted.
                    self.stats.stream_resyncs += 1;
                    self.stream.clear();
                    return;
                }
            };
            if self.stream.len() < frame_len {
                if self.stream.len() >= MAX_FRAME_LEN {
                    self.stats.stream_resyncs += 1;
                    self.stream.clear();
                }
                return;
            }
            let frame: Vec<u8> = self.stream.drain(..frame_len).collect();
            self.handle_frame(now, &frame);
        }
    }

    fn handle_frame(&mut self, now: Time, data: &[u8]) {
        match data.first().map(|b| b >> 6) {
            Some(0b01) => self.handle_channel_data(data),
            Some(0b00) => match Message::decode_with_limit(data, MAX_FRAME_LEN) {
                Ok(m) => self.handle_stun(now, m, data),
                Err(_) => self.stats.malformed += 1,
            },
            _ => self.stats.malformed += 1,
        }
    }

    fn handle_channel_data(&mut self, data: &[u8]) {
        let (Some(h), Some(body)) = (data.get(..4), data.get(4..)) else {
            self.stats.malformed += 1;
            return;
        };
        let number = u16::from_be_bytes([h[0], h[1]]);
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        let Some(payload) = body.get(..len) else {
            self.stats.malformed += 1;
            return;
        };
        if !(CHANNEL_MIN..=CHANNEL_MAX).contains(&number) {
            self.stats.malformed += 1;
            return;
        }
        let Some(&from) = self.by_number.get(&number) else {
            self.stats.unknown_channel += 1;
            return;
        };
        if let Some(p) = self.permissions.get_mut(&from.ip()) {
            p.used = true;
        }
        self.push_data(from, payload.to_vec());
    }

    fn handle_stun(&mut self, now: Time, m: Message, raw: &[u8]) {
        match m.class {
            Class::Indication => {
                if m.method == method::DATA {
                    let from = wire::peer_address(&m, tattr::XOR_PEER_ADDRESS);
                    let bytes = wire::raw(&m, tattr::DATA);
                    match (from, bytes) {
                        (Some(from), Some(bytes)) => {
                            let bytes = bytes.to_vec();
                            if let Some(p) = self.permissions.get_mut(&from.ip()) {
                                p.used = true;
                            }
                            self.push_data(from, bytes)
                        }
                        _ => self.stats.malformed += 1,
                    }
                }
            }
            Class::Request => self.stats.malformed += 1,
            Class::SuccessResponse | Class::ErrorResponse => self.handle_response(now, m, raw),
        }
    }

    fn handle_response(&mut self, now: Time, m: Message, raw: &[u8]) {
        let Some(i) = self
            .transactions
            .iter()
            .position(|t| t.tid == m.transaction_id)
        else {
            self.stats.stray_responses += 1;
            return;
        };
        let has_mi = m.get(attr::MESSAGE_INTEGRITY).is_some();
        let authenticated = self.transactions.get(i).is_some_and(|t| t.authenticated);
        if let (true, Some(auth)) = (authenticated, &self.auth) {
            let ok = has_mi && stun::verify_integrity(raw, &auth.key).is_ok();
            // RFC 8489 §9.2.5: a signed request's response must verify; 401/438 without
            // integrity are accepted (they carry a new challenge).
            let challenge = m.class == Class::ErrorResponse
                && !has_mi
                && matches!(m.error_code(), Some(401 | 438));
            if !ok && !challenge {
                self.stats.bad_integrity += 1;
                return;
            }
        }
        let tx = self.transactions.swap_remove(i);
        if m.class == Class::SuccessResponse {
            self.on_success(now, tx.kind, &m);
            return;
        }
        let (code, reason) =
            wire::error(&m).unwrap_or((0, "error response without ERROR-CODE".into()));
        let realm = wire::text(&m, tattr::REALM);
        let nonce = wire::text(&m, tattr::NONCE);
        let retry = match (code, realm, nonce) {
            (401, Some(realm), Some(nonce)) if !tx.authenticated => Some((realm, nonce)),
            (438, realm, Some(nonce)) => {
                let realm = realm
                    .or_else(|| self.auth.as_ref().map(|a| a.realm.clone()))
                    .unwrap_or_default();
                Some((realm, nonce))
            }
            _ => None,
        };
        if let Some((realm, nonce)) = retry {
            if tx.auth_retries < MAX_AUTH_RETRIES {
                let key = long_term_key(&self.config.username, &realm, &self.config.credential);
                self.auth = Some(Auth { realm, nonce, key });
                self.start(tx.kind, tx.auth_retries + 1, now);
                return;
            }
        }
        self.on_failure(tx.kind, code, reason);
    }

    fn on_success(&mut self, now: Time, kind: Kind, m: &Message) {
        match kind {
            Kind::Allocate => {
                let Some(relayed) = wire::peer_address(m, tattr::XOR_RELAYED_ADDRESS) else {
                    self.on_failure(kind, 0, "no XOR-RELAYED-ADDRESS".into());
                    return;
                };
                if self.state != State::Allocating {
                    return;
                }
                let lifetime = self.lifetime_of(m);
                self.state = State::Allocated;
                self.relayed = Some(relayed);
                self.schedule_refresh(now, lifetime);
                self.events.push_back(TurnEvent::Allocated {
                    relayed,
                    mapped: m.xor_mapped_address(),
                    lifetime,
                });
            }
            Kind::Refresh { lifetime: 0 } => self.closed(),
            Kind::Refresh { .. } => {
                self.refresh_in_flight = false;
                if self.state != State::Allocated {
                    return;
                }
                let lifetime = self.lifetime_of(m);
                self.schedule_refresh(now, lifetime);
                self.events.push_back(TurnEvent::Refreshed { lifetime });
            }
            Kind::Permission { ip } => {
                if let Some(p) = self.permissions.get_mut(&ip) {
                    let first = !p.installed;
                    p.installed = true;
                    p.in_flight = false;
                    p.refresh_at = now + PERMISSION_REFRESH;
                    if first {
                        self.events
                            .push_back(TurnEvent::PermissionCreated { peer: ip });
                    }
                }
            }
            Kind::ChannelBind { peer, channel } => {
                let Some(c) = self.channels.get_mut(&peer).filter(|c| c.number == channel) else {
                    return;
                };
                let first = !c.bound;
                c.bound = true;
                c.in_flight = false;
                c.refresh_at = now + CHANNEL_REFRESH;
                // RFC 8656 §12.2: the binding installs or refreshes the peer's permission.
                let p = self.permissions.entry(peer.ip()).or_insert(Permission {
                    installed: false,
                    in_flight: false,
                    used: true,
                    refresh_at: Time::MAX,
                });
                p.installed = true;
                if !p.in_flight {
                    p.refresh_at = now + PERMISSION_REFRESH;
                }
                if first {
                    self.events
                        .push_back(TurnEvent::ChannelBound { peer, channel });
                }
            }
        }
    }

    fn on_failure(&mut self, kind: Kind, code: u16, reason: String) {
        match kind {
            Kind::Allocate => {
                if self.state == State::Allocating {
                    self.fail(code, reason);
                }
            }
            Kind::Refresh { lifetime: 0 } => self.closed(),
            Kind::Refresh { .. } => {
                self.refresh_in_flight = false;
                if self.state == State::Allocated {
                    self.fail(code, reason);
                }
            }
            Kind::Permission { ip } => {
                self.permissions.remove(&ip);
                self.events.push_back(TurnEvent::PermissionFailed {
                    peer: ip,
                    code,
                    reason,
                });
            }
            Kind::ChannelBind { peer, channel } => {
                if self
                    .channels
                    .get(&peer)
                    .is_some_and(|c| c.number == channel)
                {
                    self.channels.remove(&peer);
                    self.by_number.remove(&channel);
                }
                self.events
                    .push_back(TurnEvent::ChannelBindFailed { peer, code, reason });
            }
        }
    }

    fn fail(&mut self, code: u16, reason: String) {
        self.state = State::Failed;
        self.relayed = None;
        self.transactions.clear();
        self.events.push_back(TurnEvent::Failed { code, reason });
    }

    fn closed(&mut self) {
        if self.state != State::Closed {
            self.state = State::Closed;
            self.relayed = None;
            self.transactions.clear();
            self.events.push_back(TurnEvent::Closed);
        }
    }

    fn lifetime_of(&self, m: &Message) -> Duration {
        wire::lifetime(m)
            .map(|s| Duration::from_secs(u64::from(s)))
            .unwrap_or(DEFAULT_LIFETIME)
    }

    fn schedule_refresh(&mut self, now: Time, lifetime: Duration) {
        let wait = if lifetime > REFRESH_MARGIN * 2 {
            lifetime - REFRESH_MARGIN
        } else {
            lifetime / 2
        };
        self.refresh_at = now + wait.max(Duration::from_secs(1));
    }

    /// Retransmissions, timeouts and refreshes due at `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        let mut i = 0;
        while i < self.transactions.len() {
            let Some(tx) = self.transactions.get_mut(i) else {
                break;
            };
            if tx.next > now {
                i += 1;
                continue;
            }
            let reliable = self.config.transport.reliable();
            if reliable || tx.sends >= MAX_SENDS {
                let tx = self.transactions.swap_remove(i);
                self.on_failure(tx.kind, 0, "transaction timed out".into());
                continue;
            }
            tx.sends += 1;
            tx.next = now + retransmit_wait(tx.sends);
            let bytes = tx.bytes.clone();
            self.push_transmit(bytes);
            i += 1;
        }
        if self.state != State::Allocated {
            return;
        }
        if self.refresh_at <= now && !self.refresh_in_flight {
            self.refresh_in_flight = true;
            self.refresh_at = Time::MAX;
            let lifetime = secs(self.config.requested_lifetime);
            self.start(Kind::Refresh { lifetime }, 0, now);
        }
        let due: Vec<IpAddr> = self
            .permissions
            .iter()
            .filter(|(_, p)| p.installed && !p.in_flight && p.refresh_at <= now)
            .map(|(ip, _)| *ip)
            .collect();
        for ip in due {
            let used = self.permissions.get(&ip).is_some_and(|p| p.used)
                || self.channels.keys().any(|peer| peer.ip() == ip);
            if !used || self.transactions.len() >= MAX_TRANSACTIONS {
                self.permissions.remove(&ip);
                continue;
            }
            if let Some(p) = self.permissions.get_mut(&ip) {
                p.in_flight = true;
                p.used = false;
            }
            self.start(Kind::Permission { ip }, 0, now);
        }
        let due: Vec<(SocketAddr, u16)> = self
            .channels
            .iter()
            .filter(|(_, c)| c.bound && !c.in_flight && c.refresh_at <= now)
            .map(|(peer, c)| (*peer, c.number))
            .collect();
        for (peer, channel) in due {
            if let Some(c) = self.channels.get_mut(&peer) {
                c.in_flight = true;
            }
            self.start(Kind::ChannelBind { peer, channel }, 0, now);
        }
    }

    fn require_allocated(&self) -> Result<(), TurnError> {
        if self.state == State::Allocated {
            Ok(())
        } else {
            Err(TurnError::NotAllocated)
        }
    }

    fn room(&self) -> Result<(), TurnError> {
        if self.transactions.len() >= MAX_TRANSACTIONS {
            Err(TurnError::TooManyTransactions)
        } else {
            Ok(())
        }
    }

    fn free_channel(&mut self) -> Option<u16> {
        let span = CHANNEL_MAX - CHANNEL_MIN + 1;
        for _ in 0..span {
            let n = self.next_channel;
            self.next_channel = if n >= CHANNEL_MAX { CHANNEL_MIN } else { n + 1 };
            if !self.by_number.contains_key(&n) {
                return Some(n);
            }
        }
        None
    }

    fn push_transmit(&mut self, bytes: Vec<u8>) {
        if self.transmits.len() >= MAX_QUEUED_TRANSMITS {
            self.stats.dropped_transmits += 1;
        } else {
            self.transmits.push_back(bytes);
        }
    }

    fn push_data(&mut self, from: SocketAddr, bytes: Vec<u8>) {
        if self.events.len() >= MAX_QUEUED_EVENTS {
            self.stats.dropped_data += 1;
        } else {
            self.events.push_back(TurnEvent::Data { from, bytes });
        }
    }

    /// Builds, records and queues a request.
    fn start(&mut self, kind: Kind, auth_retries: u8, now: Time) {
        let mut tid = [0u8; 12];
        self.rng.fill(&mut tid);
        let (m_method, mut attrs) = match kind {
            Kind::Allocate => {
                let mut a = vec![wire::other(tattr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])];
                a.push(wire::other(
                    tattr::LIFETIME,
                    secs(self.config.requested_lifetime).to_be_bytes().to_vec(),
                ));
                (method::ALLOCATE, a)
            }
            Kind::Refresh { lifetime } => (
                method::REFRESH,
                vec![wire::other(
                    tattr::LIFETIME,
                    lifetime.to_be_bytes().to_vec(),
                )],
            ),
            Kind::Permission { ip } => (
                method::CREATE_PERMISSION,
                vec![wire::other(
                    tattr::XOR_PEER_ADDRESS,
                    wire::xor_address(SocketAddr::new(ip, 0), &tid),
                )],
            ),
            Kind::ChannelBind { peer, channel } => {
                let mut num = channel.to_be_bytes().to_vec();
                num.extend_from_slice(&[0, 0]);
                (
                    method::CHANNEL_BIND,
                    vec![
                        wire::other(tattr::CHANNEL_NUMBER, num),
                        wire::other(tattr::XOR_PEER_ADDRESS, wire::xor_address(peer, &tid)),
                    ],
                )
            }
        };
        if let Some(s) = &self.config.software {
            attrs.push(Attribute::Software(s.clone()));
        }
        let mut m = Message::new(m_method, Class::Request, tid);
        m.attributes = attrs;
        let (bytes, authenticated) = match &self.auth {
            Some(a) => {
                m.attributes
                    .push(Attribute::Username(self.config.username.clone()));
                m.attributes
                    .push(wire::other(tattr::REALM, a.realm.as_bytes().to_vec()));
                m.attributes
                    .push(wire::other(tattr::NONCE, a.nonce.as_bytes().to_vec()));
                (m.encode_with(Some(&a.key), false), true)
            }
            None => (m.encode_with(None, false), false),
        };
        let wait = if self.config.transport.reliable() {
            RELIABLE_TIMEOUT
        } else {
            retransmit_wait(1)
        };
        self.push_transmit(bytes.clone());
        self.transactions.push(Transaction {
            tid,
            kind,
            bytes,
            authenticated,
            sends: 1,
            next: now + wait,
            auth_retries,
        });
    }
}

/// RFC 8489 §6.2.1: the wait after the `sends`-th transmission over UDP.
fn retransmit_wait(sends: u32) -> Duration {
    if sends >= MAX_SENDS {
        INITIAL_RTO * LAST_WAIT_RTOS
    } else {
        INITIAL_RTO * (1u32 << (sends.saturating_sub(1)).min(16))
    }
}
