//! Opaque datagram paths shared by every layer.
//!
//! A path is a local transport id (chosen by the host: a UDP socket, a TURN allocation
//! reached over WebSocket, ...) plus the remote address. ICE treats them all alike.

use std::net::{IpAddr, SocketAddr};

/// Whether `ip` can be one end of a unicast path: not unspecified, multicast or (IPv4)
/// broadcast. For interface addresses and for addresses learned from peers alike.
pub fn is_unicast(ip: &IpAddr) -> bool {
    !ip.is_unspecified() && !ip.is_multicast() && !matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

/// A host-chosen identifier of a local transport (e.g. one UDP socket).
pub type TransportId = u32;

/// A datagram the host must send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The local transport to send it from.
    pub transport: TransportId,
    /// Where to send it.
    pub destination: SocketAddr,
    pub data: Vec<u8>,
}
