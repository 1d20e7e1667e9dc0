//! One UDP port for many peers (the nonstandard `sharedUdpPort`): per local address, one
//! socket that every peer asking for that port uses as its host candidate. A datagram that
//! arrives on it goes to one peer:
//!
//! - an ICE Binding request to the peer whose username fragment opens its USERNAME
//!   (`<ours>:<theirs>`; the peer then checks MESSAGE-INTEGRITY, so a forged one is dropped
//!   there, as on a socket of its own);
//! - anything else (STUN responses, DTLS, SRTP) to the peer that last sent a STUN message
//!   to its source address (its checks, responses and consent checks go out from here, so a
//!   path a peer uses is always claimed by it; nobody else can claim an address for it).
//!
//! What matches no peer is dropped and counted ([`PortStats`]). Ports stay bound for the
//! life of the process once made: a server keeps its port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use mio::Token;

use crate::host::lock;
use crate::timers::PeerId;

/// Addresses routed per shared socket; beyond it a new address is not claimed (its
/// datagrams are then dropped and counted) until a peer leaves.
pub const MAX_ROUTED_ADDRESSES: usize = 1 << 18;
/// Username fragments kept per peer: the current one and the one an ICE restart replaced
/// (checks on the old path go on until the new one works).
pub const UFRAGS_PER_PEER: usize = 2;

/// Counters of one shared socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortStats {
    pub datagrams_routed: u64,
    /// Binding requests whose username fragment no peer has.
    pub dropped_unknown_ufrag: u64,
    /// Other datagrams from an address no peer has sent STUN to.
    pub dropped_unknown_address: u64,
    /// Addresses not claimed because [`MAX_ROUTED_ADDRESSES`] were routed.
    pub routes_refused: u64,
}

#[derive(Default)]
struct Routes {
    by_ufrag: HashMap<String, PeerId>,
    by_addr: HashMap<SocketAddr, PeerId>,
    ufrags_of: HashMap<PeerId, Vec<String>>,
    stats: PortStats,
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
            None => {
                let p = r.by_addr.get(&from).copied();
                if p.is_none() {
                    r.stats.dropped_unknown_address += 1;
                }
                p
            }
        };
        if found.is_some() {
            r.stats.datagrams_routed += 1;
        }
        found
    }

    /// Peer `peer` sent `data` to `to` from this socket: a STUN message claims the address.
    pub fn sent(&self, peer: PeerId, to: SocketAddr, data: &[u8]) {
        if !polyrtc::stun::is_stun(data) {
            return;
        }
        let mut r = lock(&self.routes);
        if r.by_addr.get(&to) == Some(&peer) {
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

    fn check(username: &str) -> Vec<u8> {
        let req = BindingRequest { transaction_id: [1; 12], username, priority: 1, controlling: true, tie_breaker: 1, use_candidate: false };
        binding_request(&req, b"pw")
    }

    #[test]
    fn checks_route_by_ufrag_and_the_rest_by_the_address_a_peer_sent_stun_to() {
        let p = port();
        let (a, b): (SocketAddr, SocketAddr) = ("192.0.2.1:1000".parse().unwrap(), "192.0.2.2:2000".parse().unwrap());
        p.set_ufrag(1, "uOne");
        p.set_ufrag(2, "uTwo");
        assert_eq!(p.route(&check("uTwo:remote"), a), Some(2));
        assert_eq!(p.route(&check("nobody:remote"), a), None);
        // DTLS from `a` before any peer sent to it: dropped.
        let dtls = [22u8, 0xfe, 0xfd, 0, 0];
        assert_eq!(p.route(&dtls, a), None);
        // Peer 2 answers (STUN) to `a`: `a` is its. Non-STUN sends claim nothing.
        p.sent(1, b, &dtls);
        p.sent(2, a, &check("x:y"));
        assert_eq!(p.route(&dtls, a), Some(2));
        assert_eq!(p.route(&dtls, b), None);
        let s = p.stats();
        assert_eq!((s.datagrams_routed, s.dropped_unknown_ufrag, s.dropped_unknown_address), (2, 1, 2));
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
