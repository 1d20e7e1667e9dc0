//! `polyrtc-napi`: the Node native addon hosting the sans-IO `polyrtc` core.
//!
//! The core does no I/O; this crate owns it: one UDP socket per usable local address per
//! peer, ONE I/O thread per process (`mio` epoll loop + timer table, [`reactor`]), and
//! event batches delivered to JS through one threadsafe function per peer. The JS surface
//! is described in `engine-contract.md`.
#![deny(unsafe_code)]

pub mod bindings;
pub mod cert;
pub mod clock;
pub mod error;
pub mod events;
pub mod host;
pub mod iface;
pub mod mdns;
pub mod probe;
pub mod reactor;
pub mod resolve;
pub mod shared_port;
pub mod timers;
pub mod tls;

#[cfg(test)]
mod tests;
