//! DTLS 1.2 (RFC 6347) for WebRTC, sans-IO: ECDHE-ECDSA or ECDHE-RSA with AES-GCM (RFC 5289) or
//! ChaCha20-Poly1305 (RFC 7905), x25519 / secp256r1 (RFC 8422), extended master secret
//! (RFC 7627, required), use_srtp (RFC 5764), HelloVerifyRequest cookies, mutual
//! certificate authentication checked against SDP fingerprints (RFC 8122), and the
//! RFC 5705 keying material exporter. Our own certificate is ECDSA P-256 (the default) or RSA
//! (we sign rsa_pkcs1_sha256); the peer's may be ECDSA P-256 or RSA (PKCS#1 v1.5 or PSS
//! signatures). As client we offer both ECDHE_ECDSA and ECDHE_RSA suites (the server's
//! certificate decides); as server we pick only suites our own certificate can sign for.
//!
//! Drive loop: after every input (`start`, `handle_datagram`, `handle_timeout`, `send`,
//! `close`), drain `poll_transmit` and `poll_event` until `None`, then arm a timer for
//! `poll_timeout`. An early `handle_timeout` is harmless.

use std::time::Duration;

use crate::crypto::KeyExchangeGroup;

mod error;
mod flight;
#[doc(hidden)]
pub mod fuzz;
mod record;
mod state;
pub mod wire;

pub use error::{AlertDescription, DtlsError};
pub use record::{CipherSuite, ReplayWindow, REPLAY_WINDOW};
pub use state::{
    DtlsConnection, MAX_APPLICATION_DATA, MAX_BUFFERED_MESSAGES, MAX_EXPORT_LEN, MAX_FRAGMENT_RANGES,
    MAX_QUEUED_EVENTS, MAX_EARLY_DATA_RECORDS,
};

/// SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764 §4.1.2).
pub const SRTP_AES128_CM_HMAC_SHA1_80: u16 = 0x0001;
/// SRTP_AEAD_AES_128_GCM (RFC 7714 §14.2).
pub const SRTP_AEAD_AES_128_GCM: u16 = 0x0007;
/// SRTP_AEAD_AES_256_GCM (RFC 7714 §14.2).
pub const SRTP_AEAD_AES_256_GCM: u16 = 0x0008;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DtlsRole {
    Client,
    Server,
}

#[derive(Clone, Debug)]
pub struct DtlsConfig {
    /// Largest datagram we send during the handshake (default 1200).
    pub mtu: usize,
    /// First retransmission timeout; doubles up to `max_retransmit` (RFC 6347 §4.2.4.1).
    pub initial_retransmit: Duration,
    pub max_retransmit: Duration,
    /// The handshake fails (`HandshakeTimeout`) if not connected this long after start.
    pub handshake_timeout: Duration,
    /// Offered (client) / accepted in preference order (server). As server only the suites
    /// of our certificate's kind are picked (ECDHE_ECDSA for ECDSA, ECDHE_RSA for RSA).
    pub cipher_suites: Vec<CipherSuite>,
    /// ECDHE groups in preference order.
    pub groups: Vec<KeyExchangeGroup>,
    /// SRTP protection profiles in preference order; empty: no use_srtp.
    pub srtp_profiles: Vec<u16>,
    /// Server: answer a ClientHello without a valid cookie with a HelloVerifyRequest.
    pub require_cookie: bool,
}

impl Default for DtlsConfig {
    fn default() -> Self {
        DtlsConfig {
            mtu: 1200,
            initial_retransmit: Duration::from_millis(500),
            max_retransmit: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(30),
            cipher_suites: vec![
                CipherSuite::ECDHE_ECDSA_AES_128_GCM_SHA256,
                CipherSuite::ECDHE_ECDSA_AES_256_GCM_SHA384,
                CipherSuite::ECDHE_ECDSA_CHACHA20_POLY1305_SHA256,
                CipherSuite::ECDHE_RSA_AES_128_GCM_SHA256,
                CipherSuite::ECDHE_RSA_AES_256_GCM_SHA384,
                CipherSuite::ECDHE_RSA_CHACHA20_POLY1305_SHA256,
            ],
            groups: vec![KeyExchangeGroup::X25519, KeyExchangeGroup::P256],
            srtp_profiles: vec![SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM, SRTP_AES128_CM_HMAC_SHA1_80],
            require_cookie: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DtlsEvent {
    /// The handshake completed and the peer's certificate matched a fingerprint.
    Connected { srtp_profile: Option<u16>, peer_certificate: Vec<u8> },
    ApplicationData(Vec<u8>),
    /// close_notify sent or received.
    Closed,
    Failed(DtlsError),
}

/// Counters; records dropped for each reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DtlsStats {
    pub records_received: u64,
    pub records_malformed: u64,
    pub records_wrong_epoch: u64,
    pub records_auth_failed: u64,
    pub records_replayed: u64,
    pub records_unexpected: u64,
    /// Plaintext (epoch 0) alerts ignored: unauthenticated, they cannot end a connection.
    pub alerts_unauthenticated: u64,
    /// ClientHellos ignored: not a retransmission of the one the handshake in progress
    /// started from, or with a message_seq no client would use.
    pub client_hellos_ignored: u64,
    pub records_dropped_queue_full: u64,
    pub application_records_sent: u64,
    pub application_records_received: u64,
    pub flights_sent: u64,
    pub retransmissions: u64,
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod forgery_tests;
