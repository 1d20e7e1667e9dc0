//! Fuzzing the sans-IO [`Server`] from a script of bytes: the cargo-fuzz target
//! `relay_server` (`fuzz/fuzz_targets/relay_server.rs`) calls [`fuzz_server`], and
//! `relay/tests/fuzz.rs` replays the committed corpus (`relay/fuzz-corpus/`) and a bounded
//! number of random scripts under plain `cargo test`.
//!
//! A script is a sequence of steps, each a tag byte and its operands. Besides raw bytes
//! from clients and peers, a step can send a well-formed request signed with the right
//! long-term key and the nonce the server last gave that client, so the fuzzer reaches
//! allocations, permissions and channels instead of stopping at the 401.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use polyrtc::stun::{attr, Attribute, Class, Message};
use polyrtc::Time;

use crate::wire::{self, method, tattr, Parsed};
use crate::{auth, ClientId, ClientKind, Config, Output, PortId, Server};

/// Clients a script can address (ids 0..MAX).
const FUZZ_CLIENTS: usize = 4;
/// Relayed ports remembered for peer datagrams.
const FUZZ_PORTS: usize = 8;
/// Steps after which a script stops (a bound on one run's work).
const MAX_STEPS: usize = 512;
/// The user every signed request authenticates as.
const USER: &str = "alice";
const PASSWORD: &str = "secret";
const REALM: &str = "fuzz.realm";
/// 2023-11-14T22:13:20Z: REST credentials and nonces carry Unix times.
const START_UNIX_US: u64 = 1_700_000_000_000_000;

/// What one run reached, for seeds that must keep driving the server that far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FuzzOutcome {
    /// Allocate success responses seen.
    pub allocations: usize,
    /// Datagrams the server sent to peers.
    pub to_peer: usize,
    /// Messages or frames the server sent to clients.
    pub to_client: usize,
}

struct Fuzz {
    server: Server,
    now: Time,
    /// Per client: the nonce from its last 401/438, and its next transaction id.
    nonces: [Option<String>; FUZZ_CLIENTS],
    tids: [u64; FUZZ_CLIENTS],
    ports: Vec<PortId>,
    next_port: u16,
    outcome: FuzzOutcome,
}

/// Runs one script; never panics on any input (the server's contract). Returns what it
/// reached.
pub fn fuzz_server(data: &[u8]) -> FuzzOutcome {
    let mut config = Config {
        realm: REALM.into(),
        secret: Some("fleet-secret".into()),
        allow_private: true,
        nonce_key: [9; 32],
        max_allocations: 3,
        max_allocations_per_user: 2,
        bandwidth: Some(64 * 1024),
        ..Config::default()
    };
    config.users.insert(USER.into(), PASSWORD.into());
    let mut f = Fuzz {
        server: Server::new(config),
        now: Time::from_micros(START_UNIX_US),
        nonces: Default::default(),
        tids: [0; FUZZ_CLIENTS],
        ports: Vec::new(),
        next_port: 40000,
        outcome: FuzzOutcome::default(),
    };
    let mut s = Script(data);
    for _ in 0..MAX_STEPS {
        let Some(tag) = s.byte() else { break };
        f.step(tag, &mut s);
        f.pump();
        let stats = f.server.stats();
        assert!(stats.allocations <= 3, "allocation quota exceeded: {stats:?}");
    }
    f.outcome
}

/// The unread rest of a script.
struct Script<'a>(&'a [u8]);

impl<'a> Script<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn or0(&mut self) -> u8 {
        self.byte().unwrap_or(0)
    }

    /// A length-prefixed (one byte, times 8) slice, cut to what is left.
    fn bytes(&mut self) -> &'a [u8] {
        let n = (usize::from(self.or0()) * 8).min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fn client_addr(n: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), 50000 + u16::from(n))
}

fn peer_addr(n: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + n % 4)), 60000 + u16::from(n % 16))
}

impl Fuzz {
    fn step(&mut self, tag: u8, s: &mut Script<'_>) {
        let client = usize::from(s.or0()) % FUZZ_CLIENTS;
        let id = ClientId(client as u64);
        match tag % 8 {
            0 => {
                let kind = [ClientKind::Udp, ClientKind::Tcp, ClientKind::WebSocket][usize::from(s.or0()) % 3];
                let _ = self.server.add_client(id, kind, client_addr(client as u8), self.now);
            }
            1 => self.server.handle_client_data(id, s.bytes(), self.now),
            2 => {
                let raw = self.signed_request(client, s);
                self.server.handle_client_data(id, &raw, self.now);
            }
            3 => {
                if self.ports.is_empty() {
                    return;
                }
                let port = self.ports[usize::from(s.or0()) % self.ports.len()];
                let from = peer_addr(s.or0());
                self.server.handle_peer_datagram(port, from, s.bytes(), self.now);
            }
            4 => {
                self.now += Duration::from_millis(u64::from(s.or0()) * 250);
                self.server.handle_timeout(self.now);
            }
            5 => self.server.client_gone(id, self.now),
            6 => {
                let channel = wire::CHANNEL_MIN + u16::from(s.or0() % 4);
                let frame = wire::channel_data(channel, s.bytes(), s.or0() & 1 == 1);
                self.server.handle_client_data(id, &frame, self.now);
            }
            _ => {
                // Jump to the server's next deadline, as a host's timer would.
                if let Some(t) = self.server.poll_timeout() {
                    self.now = self.now.max(t);
                    self.server.handle_timeout(self.now);
                }
            }
        }
    }

    /// A request the server will accept as authentic when the client holds a nonce:
    /// method, attributes and credentials chosen by the script.
    fn signed_request(&mut self, client: usize, s: &mut Script<'_>) -> Vec<u8> {
        self.tids[client] += 1;
        let mut tid = [0u8; 12];
        tid[..8].copy_from_slice(&self.tids[client].to_be_bytes());
        tid[8] = client as u8;
        let which = s.or0();
        let m = [method::ALLOCATE, method::REFRESH, method::CREATE_PERMISSION, method::CHANNEL_BIND, method::SEND]
            [usize::from(which) % 5];
        let class = if m == method::SEND { Class::Indication } else { Class::Request };
        let mut msg = Message::new(m, class, tid);
        let peer = peer_addr(s.or0());
        let xor_peer = wire::other(tattr::XOR_PEER_ADDRESS, wire::encode_xor_address(peer, &tid));
        match m {
            method::ALLOCATE => {
                let transport = if s.or0() % 8 == 7 { 6 } else { 17 };
                msg.attributes.push(wire::other(tattr::REQUESTED_TRANSPORT, vec![transport, 0, 0, 0]));
            }
            method::REFRESH => {
                let lifetime = u32::from(s.or0()) * 30;
                msg.attributes.push(wire::other(tattr::LIFETIME, lifetime.to_be_bytes().to_vec()));
            }
            method::CREATE_PERMISSION => msg.attributes.push(xor_peer),
            method::CHANNEL_BIND => {
                let n = wire::CHANNEL_MIN.wrapping_add(u16::from(s.or0() % 6)).wrapping_sub(1);
                let mut v = n.to_be_bytes().to_vec();
                v.extend_from_slice(&[0, 0]);
                msg.attributes.push(wire::other(tattr::CHANNEL_NUMBER, v));
                msg.attributes.push(xor_peer);
            }
            _ => {
                msg.attributes.push(xor_peer);
                msg.attributes.push(wire::other(tattr::DATA, s.bytes().to_vec()));
            }
        }
        let flags = s.or0();
        let Some(nonce) = self.nonces[client].clone() else {
            return msg.encode_with(None, true);
        };
        // REST credentials for some steps (valid or expired), the static user otherwise.
        let (username, password) = if flags & 2 == 2 {
            let expiry = self.now.as_micros() / 1_000_000 + if flags & 4 == 4 { 3600 } else { 0 };
            let name = format!("{expiry}:{USER}");
            let password = auth::rest_password(b"fleet-secret", &name);
            (name, password)
        } else {
            (USER.to_string(), if flags & 8 == 8 { "wrong".to_string() } else { PASSWORD.to_string() })
        };
        msg.attributes.push(Attribute::Username(username.clone()));
        msg.attributes.push(wire::other(attr::REALM, REALM.as_bytes().to_vec()));
        msg.attributes.push(wire::other(attr::NONCE, nonce.into_bytes()));
        let key = auth::long_term_key(&username, REALM, &password);
        let integrity = if flags & 1 == 1 { wire::Integrity::Sha256 } else { wire::Integrity::Sha1 };
        wire::sign(&msg, Some((&key, integrity)))
    }

    /// Drains the outputs, answering OpenPort as a host would (every fifth one fails).
    fn pump(&mut self) {
        while let Some(o) = self.server.poll_output() {
            match o {
                Output::ToClient { client, data } => {
                    self.outcome.to_client += 1;
                    self.learn(client, &data);
                }
                Output::ToPeer { .. } => self.outcome.to_peer += 1,
                Output::OpenPort { port, .. } => {
                    self.next_port = self.next_port.wrapping_add(1);
                    let r = if self.next_port.is_multiple_of(5) {
                        Err(())
                    } else {
                        if self.ports.len() >= FUZZ_PORTS {
                            self.ports.remove(0);
                        }
                        self.ports.push(port);
                        Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), self.next_port))
                    };
                    self.server.port_opened(port, r, self.now);
                }
                Output::ClosePort { port } => self.ports.retain(|p| *p != port),
                Output::CloseClient { client } => {
                    if let Some(n) = self.nonces.get_mut(client.0 as usize) {
                        *n = None;
                    }
                }
            }
        }
    }

    /// Remembers the nonce of a 401/438 and counts Allocate successes.
    fn learn(&mut self, client: ClientId, data: &[u8]) {
        let Ok(p) = Parsed::parse(data) else { return };
        if p.method == method::ALLOCATE && p.class == Class::SuccessResponse {
            self.outcome.allocations += 1;
        }
        if p.class == Class::ErrorResponse {
            if let (Some(nonce), Some(slot)) = (p.text(attr::NONCE), self.nonces.get_mut(client.0 as usize)) {
                *slot = Some(nonce.to_string());
            }
        }
    }
}

/// A script that allocates for client 0 over UDP, creates a permission, binds a channel,
/// sends through both, and has a peer answer: the committed seed (`seed-session`).
pub fn fuzz_server_seed() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&[0, 0, 0]); // add client 0, UDP
    s.extend_from_slice(&[2, 0, 0, 0, 0, 0]); // unsigned Allocate (401 with a nonce)
    s.extend_from_slice(&[2, 0, 0, 0, 1, 0]); // signed Allocate, UDP, static user
    s.extend_from_slice(&[2, 0, 2, 1, 0]); // CreatePermission for peer 1
    s.extend_from_slice(&[2, 0, 3, 1, 1, 0]); // ChannelBind 0x4000 to peer 1
    s.extend_from_slice(&[2, 0, 4, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0]); // Send indication, 8 bytes
    s.extend_from_slice(&[6, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9, 0]); // ChannelData on 0x4000
    s.extend_from_slice(&[3, 0, 0, 1, 1, 7, 7, 7, 7, 7, 7, 7, 7]); // peer 1 answers
    s.extend_from_slice(&[4, 0, 200]); // 50 s later
    s.extend_from_slice(&[2, 0, 1, 0, 2, 0]); // Refresh lifetime 60
    s
}
