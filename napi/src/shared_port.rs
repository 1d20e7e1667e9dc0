//! One UDP port for many peers (the nonstandard `sharedUdpPort`): per local address, one
//! socket that every peer asking for that port uses as its host candidate. A datagram that
//! arrives on it goes to one peer:
//!
//! - an ICE Binding request to the peer whose username fragment opens its USERNAME
//!   (`<ours>:<theirs>`; the peer then checks MESSAGE-INTEGRITY, so a forged one is dropped
//!   there, as on a socket of its own);
//! - a STUN response to the peer that sent the request (by transaction id);
//! - anything else (DTLS, SRTP) to the peer that last answered an ICE check from its source
//!   address with a success response: only a check that passed that peer's
//!   MESSAGE-INTEGRITY claims an address, so a client cannot divert another client's
//!   datagrams by making its own connection send checks to that client's address.
//!
//! What matches no peer is dropped and counted ([`PortStats`]). Ports stay bound for the
//! life of the process once made: a server keeps its port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use mio::Token;

use polyrtc::stun::Class;

use crate::host::lock;
use crate::timers::PeerId;

/// Addresses routed per shared socket; beyond it a new address is not claimed (its
/// datagrams are then dropped and counted) until a peer leaves.
pub const MAX_ROUTED_ADDRESSES: usize = 1 << 18;
/// Requests in flight remembered per shared socket (their responses route by transaction
/// id); the oldest are forgotten first.
pub const MAX_PENDING_REQUESTS: usize = 1 << 16;
/// Username fragments kept per peer: the current one and the one an ICE restart replaced
/// (checks on the old path go on until the new one works).
pub const UFRAGS_PER_PEER: usize = 2;

/// Counters of one shared socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortStats {
    pub datagrams_routed: u64,
    /// Binding requests whose username fragment no peer has.
    pub dropped_unknown_ufrag: u64,
    /// STUN responses to no request a peer sent from here.
    pub dropped_unknown_transaction: u64,
    /// Other datagrams from an address no peer has validated.
    pub dropped_unknown_address: u64,
    /// Addresses not claimed because [`MAX_ROUTED_ADDRESSES`] were routed.
    pub routes_refused: u64,
}

#[derive(Default)]
struct Routes {
    by_ufrag: HashMap<String, PeerId>,
    by_addr: HashMap<SocketAddr, PeerId>,
    ufrags_of: HashMap<PeerId, Vec<String>>,
    /// Requests sent from here: transaction id -> peer, and their order (for the bound).
    requests: HashMap<[u8; 12], PeerId>,
    request_order: std::collections::VecDeque<[u8; 12]>,
    stats: PortStats,
}

/// A STUN message's class and transaction id (the caller checked `is_stun`).
fn stun_kind(data: &[u8]) -> Option<(Class, [u8; 12])> {
    let ty = u16::from_be_bytes([*data.first()?, *data.get(1)?]);
    let tid: [u8; 12] = data.get(8..20)?.try_into().ok()?;
    Some((polyrtc::stun::split_message_type(ty).1, tid))
}

pub struct SharedPort {
    pub socket: mio::net::UdpSocket,
    pub local: SocketAddr,
    pub token: Token,
    routes: Mutex<Routes>,
}

impl SharedPort {
    pub fn new(socket: mio::net::UdpSocket, local: SocketAddr, token: Token) -> SharedPort {
        SharedPort { socket, local, token, routes: Mutex::new(Routes::default()) }
    }

    /// The peer a datagram from `from` is for, if any (counted either way).
    pub fn route(&self, data: &[u8], from: SocketAddr) -> Option<PeerId> {
        let mut r = lock(&self.routes);
        let found = match polyrtc::stun::binding_request_local_ufrag(data) {
            Some(ufrag) => {
                let p = r.by_ufrag.get(ufrag).copied();
                if p.is_none() {
                    r.stats.dropped_unknown_ufrag += 1;
                }
                p
            }
            None => match polyrtc::stun::is_stun(data).then(|| stun_kind(data)).flatten() {
                // A response (success or error) goes to whoever asked.
                Some((Class::SuccessResponse | Class::ErrorResponse, tid)) => {
                    let p = r.requests.get(&tid).copied();
                    if p.is_none() {
                        r.stats.dropped_unknown_transaction += 1;
                    }
                    p
                }
                _ => {
                    let p = r.by_addr.get(&from).copied();
                    if p.is_none() {
                        r.stats.dropped_unknown_address += 1;
                    }
                    p
                }
            },
        };
        if found.is_some() {
            r.stats.datagrams_routed += 1;
        }
        found
    }

    /// Peer `peer` sent `data` to `to` from this socket: a request is remembered for its
    /// response; a success response (to a check the peer authenticated) claims the address.
    pub fn sent(&self, peer: PeerId, to: SocketAddr, data: &[u8]) {
        if !polyrtc::stun::is_stun(data) {
            return;
        }
        let Some((class, tid)) = stun_kind(data) else { return };
        let mut r = lock(&self.routes);
        if class == Class::Request {
            if r.requests.insert(tid, peer).is_none() {
                r.request_order.push_back(tid);
                while r.request_order.len() > MAX_PENDING_REQUESTS {
                    if let Some(old) = r.request_order.pop_front() {
                        r.requests.remove(&old);
                    }
                }
            }
            return;
        }
        if class != Class::SuccessResponse || r.by_addr.get(&to) == Some(&peer) {
            return;
        }
        if r.by_addr.len() >= MAX_ROUTED_ADDRESSES && !r.by_addr.contains_key(&to) {
            r.stats.routes_refused += 1;
            return;
        }
        r.by_addr.insert(to, peer);
    }

    /// `peer`'s username fragment is now `ufrag` (it keeps the previous one too).
    pub fn set_ufrag(&self, peer: PeerId, ufrag: &str) {
        let mut r = lock(&self.routes);
        let mut list = r.ufrags_of.remove(&peer).unwrap_or_default();
        if !list.iter().any(|u| u == ufrag) {
            list.push(ufrag.to_string());
            r.by_ufrag.insert(ufrag.to_string(), peer);
            while list.len() > UFRAGS_PER_PEER {
                let old = list.remove(0);
                if r.by_ufrag.get(&old) == Some(&peer) {
                    r.by_ufrag.remove(&old);
                }
            }
        }
        r.ufrags_of.insert(peer, list);
    }

    /// `peer` is gone: its fragments and addresses route nowhere.
    pub fn remove_peer(&self, peer: PeerId) {
        let mut r = lock(&self.routes);
        for u in r.ufrags_of.remove(&peer).unwrap_or_default() {
            if r.by_ufrag.get(&u) == Some(&peer) {
                r.by_ufrag.remove(&u);
            }
        }
        r.by_addr.retain(|_, p| *p != peer);
        r.requests.retain(|_, p| *p != peer);
        let requests = std::mem::take(&mut r.requests);
        r.request_order.retain(|t| requests.contains_key(t));
        r.requests = requests;
    }

    pub fn stats(&self) -> PortStats {
        lock(&self.routes).stats
    }

    /// Peers and addresses routed now (tests, stats).
    pub fn routed(&self) -> (usize, usize) {
        let r = lock(&self.routes);
        (r.ufrags_of.len(), r.by_addr.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyrtc::stun::{binding_request, BindingRequest};

    fn port() -> SharedPort {
        let socket = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let local = socket.local_addr().unwrap();
        SharedPort::new(socket, local, Token(1))
    }

    fn success(tid: [u8; 12]) -> Vec<u8> {
        polyrtc::stun::binding_success(tid, "192.0.2.9:9".parse().unwrap(), Some(b"pw"))
    }

    fn check(username: &str) -> Vec<u8> {
        let req = BindingRequest { transaction_id: [1; 12], username, priority: 1, controlling: true, tie_breaker: 1, use_candidate: false };
        binding_request(&req, b"pw")
    }

    #[test]
    fn checks_route_by_ufrag_responses_by_transaction_and_the_rest_by_the_address_a_peer_validated() {
        let p = port();
        let (a, b): (SocketAddr, SocketAddr) = ("192.0.2.1:1000".parse().unwrap(), "192.0.2.2:2000".parse().unwrap());
        p.set_ufrag(1, "uOne");
        p.set_ufrag(2, "uTwo");
        assert_eq!(p.route(&check("uTwo:remote"), a), Some(2));
        assert_eq!(p.route(&check("nobody:remote"), a), None);
        // DTLS from `a` before any peer sent to it: dropped.
        let dtls = [22u8, 0xfe, 0xfd, 0, 0];
        assert_eq!(p.route(&dtls, a), None);
        // Peer 1 sends DTLS and a check to `b`: neither claims `b` (a check goes anywhere
        // the peer's remote candidates say, which another client may have made up); the
        // check's response comes back to peer 1 by its transaction id.
        p.sent(1, b, &dtls);
        p.sent(1, b, &check("x:y"));
        assert_eq!(p.route(&dtls, b), None);
        assert_eq!(p.route(&success([1; 12]), b), Some(1));
        assert_eq!(p.route(&success([9; 12]), b), None, "a response to nothing we asked");
        // Peer 2 answers a check from `a` (success): `a` is its.
        p.sent(2, a, &success([5; 12]));
        assert_eq!(p.route(&dtls, a), Some(2));
        let s = p.stats();
        assert_eq!((s.datagrams_routed, s.dropped_unknown_ufrag, s.dropped_unknown_address, s.dropped_unknown_transaction), (3, 1, 2, 1));
        // A restart: the old fragment still routes, the one before it no more.
        p.set_ufrag(2, "uTwoB");
        p.set_ufrag(2, "uTwoC");
        assert_eq!(p.route(&check("uTwoB:r"), a), Some(2));
        assert_eq!(p.route(&check("uTwo:r"), a), None);
        p.remove_peer(2);
        assert_eq!(p.route(&check("uTwoC:r"), a), None);
        assert_eq!(p.route(&dtls, a), None);
        assert_eq!(p.routed(), (1, 0));
    }
}
