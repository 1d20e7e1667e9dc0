//! The one door to RustCrypto: every primitive the protocols use is called from here,
//! so a backend can change in one place.

mod rng;

pub use rng::Rng;
