//! The one door to RustCrypto: every primitive the protocols use is called from here,
//! so a backend can change in one place.

mod rng;

pub use rng::Rng;

/// A DTLS certificate with its private key (placeholder until `crypto/certificate.rs` lands).
#[derive(Debug)]
pub struct Certificate {
    _private: (),
}
