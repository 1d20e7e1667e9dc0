//! Which local addresses a peer binds UDP sockets on.
//!
//! One socket per usable interface address (IPv4 and IPv6), port 0. Loopback only when the
//! config asks for it or when nothing else exists; IPv6 link-local only when it is all there
//! is (it needs a scope id and reaches only the local link).

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};

use mio::net::UdpSocket;

/// At most this many sockets per peer (each becomes host candidates).
pub const MAX_SOCKETS_PER_PEER: usize = 16;
/// SO_RCVBUF asked for each socket (the kernel caps it at `net.core.rmem_max`). The default
/// (~208 KiB, about 90 full-size datagrams) overflows while a bulk transfer's window is in
/// flight and each drop costs SCTP a fast retransmit and half its window. Kernel memory is
/// only used while datagrams wait, so an idle socket costs nothing more.
pub const SOCKET_RECV_BUFFER_SIZE: usize = 4 * 1024 * 1024;
/// SO_SNDBUF asked for each socket (capped by `net.core.wmem_max`); a full send buffer
/// drops the datagram (counted in `HostStats::send_would_block`).
pub const SOCKET_SEND_BUFFER_SIZE: usize = 1024 * 1024;

/// One address of one local interface, as the OS reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalAddr {
    pub ip: IpAddr,
    /// Interface index (the scope id a link-local IPv6 address needs).
    pub index: Option<u32>,
    /// The interface is reported down.
    pub down: bool,
}

fn is_v6_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
        IpAddr::V4(_) => false,
    }
}

fn bind_addr(a: &LocalAddr) -> SocketAddr {
    match a.ip {
        IpAddr::V6(v6) if is_v6_link_local(&a.ip) => {
            SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, a.index.unwrap_or(0)))
        }
        ip => SocketAddr::new(ip, 0),
    }
}

/// Chooses the bind addresses (port 0) from the interface list. Pure, for tests.
pub fn select(addrs: &[LocalAddr], include_loopback: bool) -> Vec<SocketAddr> {
    let up: Vec<&LocalAddr> = addrs.iter().filter(|a| !a.down && polyrtc::net::is_unicast(&a.ip)).collect();
    let mut chosen: Vec<&LocalAddr> =
        up.iter().copied().filter(|a| !a.ip.is_loopback() && !is_v6_link_local(&a.ip)).collect();
    if chosen.is_empty() {
        chosen = up.iter().copied().filter(|a| !a.ip.is_loopback() && is_v6_link_local(&a.ip)).collect();
    }
    if include_loopback || chosen.is_empty() {
        chosen.extend(up.iter().copied().filter(|a| a.ip.is_loopback()));
    }
    let mut out: Vec<SocketAddr> = Vec::new();
    for a in chosen {
        let s = bind_addr(a);
        if !out.contains(&s) && out.len() < MAX_SOCKETS_PER_PEER {
            out.push(s);
        }
    }
    out
}

/// The machine's interface addresses.
pub fn enumerate() -> io::Result<Vec<LocalAddr>> {
    let list = if_addrs::get_if_addrs()?;
    Ok(list
        .into_iter()
        .map(|i| LocalAddr {
            ip: i.ip(),
            index: i.index,
            down: i.oper_status == if_addrs::IfOperStatus::Down,
        })
        .collect())
}

/// Binds one non-blocking UDP socket per address; addresses that fail to bind are skipped
/// (e.g. IPv6 disabled). Returns the sockets with their actual local addresses.
pub fn bind_all(addrs: &[SocketAddr]) -> (Vec<(UdpSocket, SocketAddr)>, Vec<io::Error>) {
    let mut sockets = Vec::new();
    let mut errors = Vec::new();
    for a in addrs {
        match bind_one(*a).and_then(|s| s.local_addr().map(|l| (s, l))) {
            Ok(pair) => sockets.push(pair),
            Err(e) => errors.push(e),
        }
    }
    (sockets, errors)
}

/// One non-blocking UDP socket with enlarged kernel buffers (best effort: a refused size
/// keeps the default).
fn bind_one(addr: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    let _ = socket.set_recv_buffer_size(SOCKET_RECV_BUFFER_SIZE);
    let _ = socket.set_send_buffer_size(SOCKET_SEND_BUFFER_SIZE);
    socket.bind(&addr.into())?;
    Ok(UdpSocket::from_std(socket.into()))
}

/// Loopback addresses, for tests and `includeLoopback`-only setups.
pub fn loopback() -> Vec<LocalAddr> {
    vec![
        LocalAddr { ip: IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), index: None, down: false },
        LocalAddr { ip: IpAddr::V6(Ipv6Addr::LOCALHOST), index: None, down: false },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn la(s: &str, index: u32) -> LocalAddr {
        LocalAddr { ip: s.parse().unwrap(), index: Some(index), down: false }
    }

    fn ips(v: &[SocketAddr]) -> Vec<String> {
        v.iter().map(|a| a.ip().to_string()).collect()
    }

    fn host() -> Vec<LocalAddr> {
        vec![
            la("127.0.0.1", 1),
            la("::1", 1),
            la("192.0.2.2", 2),
            la("fd00::2", 2),
            la("fe80::fc:ff:fe00:1", 2),
        ]
    }

    #[test]
    fn skips_loopback_and_link_local_when_others_exist() {
        assert_eq!(ips(&select(&host(), false)), vec!["192.0.2.2", "fd00::2"]);
    }

    #[test]
    fn include_loopback_adds_both_families() {
        assert_eq!(ips(&select(&host(), true)), vec!["192.0.2.2", "fd00::2", "127.0.0.1", "::1"]);
    }

    #[test]
    fn link_local_v6_only_when_alone_and_carries_scope_id() {
        let list = vec![la("127.0.0.1", 1), la("fe80::1", 3)];
        let s = select(&list, false);
        assert_eq!(ips(&s), vec!["fe80::1"]);
        match s[0] {
            SocketAddr::V6(v6) => assert_eq!(v6.scope_id(), 3),
            SocketAddr::V4(_) => panic!("expected v6"),
        }
    }

    #[test]
    fn loopback_when_nothing_else() {
        let list = vec![la("127.0.0.1", 1), la("::1", 1)];
        assert_eq!(ips(&select(&list, false)), vec!["127.0.0.1", "::1"]);
        assert!(select(&[], false).is_empty());
    }

    #[test]
    fn skips_down_unspecified_multicast_and_duplicates() {
        let mut list = vec![la("0.0.0.0", 1), la("ff02::1", 1), la("10.0.0.1", 2), la("10.0.0.1", 2)];
        list.push(LocalAddr { ip: "10.0.0.9".parse().unwrap(), index: Some(4), down: true });
        assert_eq!(ips(&select(&list, false)), vec!["10.0.0.1"]);
    }

    #[test]
    fn caps_socket_count() {
        let list: Vec<LocalAddr> = (1..=40).map(|i| la(&format!("10.0.0.{i}"), 2)).collect();
        assert_eq!(select(&list, false).len(), MAX_SOCKETS_PER_PEER);
    }

    #[test]
    fn binds_loopback_sockets_on_ephemeral_ports() {
        let (socks, _errors) = bind_all(&select(&loopback(), true));
        assert!(!socks.is_empty(), "at least 127.0.0.1 binds");
        for (_, local) in &socks {
            assert!(local.ip().is_loopback());
            assert_ne!(local.port(), 0);
        }
    }

    #[test]
    fn enumerate_finds_loopback() {
        let list = enumerate().expect("getifaddrs");
        assert!(list.iter().any(|a| a.ip.is_loopback()));
    }
}
