//! A virtual-clock host and an in-test TURN client built on the core's STUN codec.

#![allow(dead_code)]

pub mod ws;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use polyrtc::stun::{attr, Attribute, Class, Message, Method};
use polyrtc::Time;
use polyrtc_relay::wire::{self, method, tattr};
use polyrtc_relay::{auth, ClientId, ClientKind, Config, Output, PortId, Server};

/// 2023-11-14T22:13:20Z.
pub const START_UNIX: u64 = 1_700_000_000;

pub fn config() -> Config {
    let mut c = Config { realm: "test.realm".into(), nonce_key: [7; 32], ..Config::default() };
    c.users.insert("alice".into(), "secret".into());
    c.users.insert("bob".into(), "hunter2".into());
    c
}

/// The host: answers OpenPort at once with 127.0.0.1:40000+n (or an error), collects the
/// rest of the outputs.
pub struct Host {
    pub server: Server,
    pub now: Time,
    pub ports: HashMap<PortId, SocketAddr>,
    pub to_client: HashMap<ClientId, VecDeque<Vec<u8>>>,
    pub to_peer: VecDeque<(PortId, SocketAddr, Vec<u8>)>,
    pub closed_ports: Vec<PortId>,
    pub closed_clients: Vec<ClientId>,
    pub fail_open: bool,
    next_port: u16,
}

impl Host {
    pub fn new(config: Config) -> Host {
        Host {
            server: Server::new(config),
            now: Time::from_micros(START_UNIX * 1_000_000),
            ports: HashMap::new(),
            to_client: HashMap::new(),
            to_peer: VecDeque::new(),
            closed_ports: Vec::new(),
            closed_clients: Vec::new(),
            fail_open: false,
            next_port: 40000,
        }
    }

    pub fn unix(&self) -> u64 {
        self.now.as_micros() / 1_000_000
    }

    pub fn pump(&mut self) {
        while let Some(o) = self.server.poll_output() {
            match o {
                Output::ToClient { client, data } => self.to_client.entry(client).or_default().push_back(data),
                Output::ToPeer { port, peer, data } => self.to_peer.push_back((port, peer, data)),
                Output::OpenPort { port, .. } => {
                    let r = if self.fail_open {
                        Err(())
                    } else {
                        self.next_port += 1;
                        let a: SocketAddr = format!("127.0.0.1:{}", self.next_port).parse().unwrap();
                        self.ports.insert(port, a);
                        Ok(a)
                    };
                    self.server.port_opened(port, r, self.now);
                }
                Output::ClosePort { port } => {
                    self.ports.remove(&port);
                    self.closed_ports.push(port);
                }
                Output::CloseClient { client } => self.closed_clients.push(client),
            }
        }
    }

    /// Advances the virtual clock, firing every timer on time.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.server.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.server.handle_timeout(self.now);
            self.pump();
        }
        self.now = end;
    }

    pub fn add(&mut self, id: u64, kind: ClientKind, remote: &str) -> ClientId {
        let c = ClientId(id);
        self.server.add_client(c, kind, remote.parse().unwrap(), self.now).unwrap();
        c
    }

    pub fn send(&mut self, c: ClientId, data: &[u8]) {
        self.server.handle_client_data(c, data, self.now);
        self.pump();
    }

    pub fn recv(&mut self, c: ClientId) -> Option<Vec<u8>> {
        self.to_client.get_mut(&c)?.pop_front()
    }

    pub fn peer_datagram(&mut self, port: PortId, from: &str, data: &[u8]) {
        self.server.handle_peer_datagram(port, from.parse().unwrap(), data, self.now);
        self.pump();
    }

    pub fn port_of(&self, relayed: SocketAddr) -> PortId {
        *self.ports.iter().find(|(_, a)| **a == relayed).unwrap().0
    }
}

/// An in-test TURN client.
pub struct Client {
    pub id: ClientId,
    pub username: String,
    pub password: String,
    pub realm: String,
    pub nonce: Option<String>,
    pub sha256: bool,
    tid: u64,
}

/// With a client that stopped reading: floods its allocation at `relayed` from `peer`
/// (far more than the socket buffers and the bounded per-client queue hold) until the relay
/// counts a backpressure drop; panics after 20 s without one.
pub fn flood_until_backpressure(relay: &polyrtc_relay::host::Relay, peer: &std::net::UdpSocket, relayed: SocketAddr) {
    let data = [0x55u8; 1200];
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while relay.stats().1.dropped_backpressure == 0 {
        assert!(std::time::Instant::now() < deadline, "no backpressure drop counted");
        for _ in 0..200 {
            let _ = peer.send_to(&data, relayed);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

pub fn xor_peer(a: &str, tid: &[u8; 12]) -> Attribute {
    wire::other(tattr::XOR_PEER_ADDRESS, wire::encode_xor_address(a.parse().unwrap(), tid))
}

pub fn other(m: &Message, typ: u16) -> Option<&[u8]> {
    m.attributes.iter().find_map(|a| match a {
        Attribute::Other { typ: t, value } if *t == typ => Some(value.as_slice()),
        _ => None,
    })
}

impl Client {
    pub fn new(id: ClientId, username: &str, password: &str) -> Client {
        Client {
            id,
            username: username.into(),
            password: password.into(),
            realm: String::new(),
            nonce: None,
            sha256: false,
            tid: 0,
        }
    }

    pub fn next_tid(&mut self) -> [u8; 12] {
        self.tid += 1;
        let mut t = [0u8; 12];
        t[..8].copy_from_slice(&self.tid.to_be_bytes());
        t[8..].copy_from_slice(&(self.id.0 as u32).to_be_bytes());
        t
    }

    pub fn key(&self) -> [u8; 16] {
        auth::long_term_key(&self.username, &self.realm, &self.password)
    }

    /// Builds a request, signed if a nonce is known.
    pub fn build(&self, m: Method, tid: [u8; 12], attrs: Vec<Attribute>) -> Vec<u8> {
        let mut msg = Message::new(m, Class::Request, tid);
        msg.attributes.extend(attrs);
        match &self.nonce {
            None => msg.encode_with(None, true),
            Some(n) => {
                msg.attributes.push(Attribute::Username(self.username.clone()));
                msg.attributes.push(wire::other(attr::REALM, self.realm.as_bytes().to_vec()));
                msg.attributes.push(wire::other(attr::NONCE, n.as_bytes().to_vec()));
                let integrity = if self.sha256 { wire::Integrity::Sha256 } else { wire::Integrity::Sha1 };
                wire::sign(&msg, Some((&self.key(), integrity)))
            }
        }
    }

    /// Sends one request and returns the decoded response (panics if none).
    pub fn once(&mut self, h: &mut Host, m: Method, attrs: Vec<Attribute>) -> (Message, Vec<u8>) {
        let tid = self.next_tid();
        let raw = self.build(m, tid, attrs);
        h.send(self.id, &raw);
        let resp = h.recv(self.id).expect("no response");
        let msg = Message::decode(&resp).expect("response decodes");
        assert_eq!(msg.transaction_id, tid);
        (msg, resp)
    }

    /// Sends a request, following 401 (first challenge) and 438 with the new nonce.
    pub fn request(&mut self, h: &mut Host, m: Method, attrs: Vec<Attribute>) -> Message {
        for _ in 0..3 {
            let (msg, raw) = self.once(h, m, attrs.clone());
            let code = msg.error_code();
            let retry = (code == Some(401) && self.nonce.is_none()) || code == Some(438);
            if retry {
                self.realm = String::from_utf8(other(&msg, attr::REALM).unwrap().to_vec()).unwrap();
                self.nonce = Some(String::from_utf8(other(&msg, attr::NONCE).unwrap().to_vec()).unwrap());
                continue;
            }
            if msg.class == Class::SuccessResponse {
                // Responses to authenticated requests are signed with our key.
                if self.sha256 {
                    assert!(msg.get(attr::MESSAGE_INTEGRITY_SHA256).is_some());
                } else {
                    polyrtc::stun::verify_integrity(&raw, &self.key()).expect("response integrity");
                }
            }
            return msg;
        }
        panic!("no answer after retries");
    }

    pub fn allocate_with(&mut self, h: &mut Host, extra: Vec<Attribute>) -> Message {
        let mut attrs = vec![wire::other(tattr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])];
        attrs.extend(extra);
        self.request(h, method::ALLOCATE, attrs)
    }

    /// Allocates and returns the relayed address.
    pub fn allocate(&mut self, h: &mut Host) -> SocketAddr {
        let m = self.allocate_with(h, Vec::new());
        assert_eq!(m.class, Class::SuccessResponse, "allocate failed: {:?}", m.error_code());
        wire::decode_xor_address(other(&m, tattr::XOR_RELAYED_ADDRESS).unwrap(), &m.transaction_id).unwrap()
    }

    pub fn refresh(&mut self, h: &mut Host, lifetime: u32) -> Message {
        self.request(h, method::REFRESH, vec![wire::other(tattr::LIFETIME, lifetime.to_be_bytes().to_vec())])
    }

    pub fn permission(&mut self, h: &mut Host, peers: &[&str]) -> Message {
        self.request_tid_bound(h, method::CREATE_PERMISSION, peers, None)
    }

    pub fn channel_bind(&mut self, h: &mut Host, number: u16, peer: &str) -> Message {
        self.request_tid_bound(h, method::CHANNEL_BIND, &[peer], Some(number))
    }

    /// A request with XOR-PEER-ADDRESS attributes: they are rebuilt for each transaction
    /// id (retries get a new one).
    fn request_tid_bound(&mut self, h: &mut Host, m: Method, peers: &[&str], channel: Option<u16>) -> Message {
        for _ in 0..3 {
            let tid = self.next_tid();
            let mut attrs = Vec::new();
            if let Some(n) = channel {
                let mut v = n.to_be_bytes().to_vec();
                v.extend_from_slice(&[0, 0]);
                attrs.push(wire::other(tattr::CHANNEL_NUMBER, v));
            }
            attrs.extend(peers.iter().map(|p| xor_peer(p, &tid)));
            let raw = self.build(m, tid, attrs);
            h.send(self.id, &raw);
            let resp = h.recv(self.id).expect("no response");
            let msg = Message::decode(&resp).expect("response decodes");
            let code = msg.error_code();
            if (code == Some(401) && self.nonce.is_none()) || code == Some(438) {
                self.realm = String::from_utf8(other(&msg, attr::REALM).unwrap().to_vec()).unwrap();
                self.nonce = Some(String::from_utf8(other(&msg, attr::NONCE).unwrap().to_vec()).unwrap());
                continue;
            }
            return msg;
        }
        panic!("no answer after retries");
    }

    /// A Send indication to `peer`.
    pub fn send_indication(&mut self, h: &mut Host, peer: &str, data: &[u8]) {
        let tid = self.next_tid();
        let mut m = Message::new(method::SEND, Class::Indication, tid);
        m.attributes.push(xor_peer(peer, &tid));
        m.attributes.push(wire::other(tattr::DATA, data.to_vec()));
        let raw = m.encode_with(None, true);
        h.send(self.id, &raw);
    }
}

/// Reads a Data indication: (peer, data).
pub fn data_indication(raw: &[u8]) -> (SocketAddr, Vec<u8>) {
    let m = Message::decode(raw).expect("data indication decodes");
    assert_eq!((m.method, m.class), (method::DATA, Class::Indication));
    let peer = wire::decode_xor_address(other(&m, tattr::XOR_PEER_ADDRESS).unwrap(), &m.transaction_id).unwrap();
    (peer, other(&m, tattr::DATA).unwrap().to_vec())
}

pub fn code(m: &Message) -> Option<u16> {
    m.error_code()
}
