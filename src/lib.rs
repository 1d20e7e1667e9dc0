//! polyrtc: a sans-IO WebRTC agent core.
//!
//! The core owns no socket, thread or clock. A host feeds it datagrams (with an opaque
//! path), the current [`Time`], and API calls, then drains `poll_transmit` / `poll_event`
//! and arms a timer for `poll_timeout`. See `README.md` for the architecture.
// The wasm-bindgen exports expand to unsafe glue: the WASM engine alone is allowed it.
#![cfg_attr(not(feature = "wasm"), forbid(unsafe_code))]
#![cfg_attr(feature = "wasm", deny(unsafe_code))]

mod crc;
pub mod codec;
pub mod crypto;
pub mod datachannel;
pub mod dtls;
pub mod engine;
mod fuzz_script;
pub mod ice;
pub mod net;
pub mod mdns;
pub mod media;
pub mod peer;
pub mod rtp;
pub mod sctp;
pub mod sdp;
pub mod srtp;
pub mod stun;
pub mod time;
pub mod turn;
#[cfg(all(feature = "wasm", target_arch = "wasm32"))]
#[allow(unsafe_code)]
pub mod wasm;

pub use net::{TransportId, Transmit};
pub use time::Time;
