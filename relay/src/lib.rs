//! polyrtc-relay: a TURN server (RFC 8656) whose protocol logic is sans-IO.
//!
//! [`Server`] owns no socket, thread or clock. The host:
//!
//! 1. gives every client connection an opaque [`ClientId`] and announces it with
//!    [`Server::add_client`] (a WebSocket connection, a TCP connection, or a UDP 5-tuple
//!    seen for the first time; the [`ClientKind`] decides the framing: TCP is a stream of
//!    STUN messages and padded ChannelData frames, RFC 8656 §12.5; a UDP datagram or a
//!    binary WebSocket message is exactly one message or frame);
//! 2. feeds what arrives: [`Server::handle_client_data`], [`Server::handle_peer_datagram`]
//!    (a datagram on a relayed port), [`Server::client_gone`] (connection closed);
//! 3. after every input drains [`Server::poll_output`]: bytes to a client, a datagram
//!    from a relayed port to a peer, open a relayed port ([`Output::OpenPort`]: the host
//!    binds a UDP socket and answers [`Server::port_opened`] with its address or an error;
//!    the Allocate response goes out then), close a port, close a client;
//! 4. arms one timer at [`Server::poll_timeout`] and calls [`Server::handle_timeout`].
//!
//! Every `now` is a [`polyrtc::Time`] counting microseconds since the Unix epoch (REST
//! credentials and nonces carry Unix times), taken from a monotonic clock anchored to the
//! wall clock at start. Tests drive it with a virtual clock.

#![forbid(unsafe_code)]

pub mod auth;
#[cfg(feature = "host")]
pub mod host;
#[cfg(feature = "host")]
pub mod tls;
#[doc(hidden)]
pub mod fuzz;
mod server;
pub mod wire;

pub use server::{
    is_restricted, ClientId, ClientKind, Config, Drops, Family, Output, PortId, Server, Stats,
    CHANNEL_LIFETIME, MAX_CHANNELS, MAX_CLIENTS, MAX_PERMISSIONS, MAX_QUEUED_OUTPUTS,
    MAX_STREAM_BUFFER, OPEN_PORT_TIMEOUT, PERMISSION_LIFETIME,
};
