//! A sans-IO ICE agent: RFC 8445 (full ICE, one component, as browsers do it with BUNDLE and
//! rtcp-mux), trickle (RFC 8838) and consent freshness (RFC 7675), over the STUN codec in
//! [`crate::stun`].
//!
//! Drive it like every core component: feed `handle_stun` / `handle_timeout` and API calls,
//! then drain [`IceAgent::poll_transmit`] and [`IceAgent::poll_event`] until both return
//! `None`, then wake up at [`IceAgent::poll_timeout`].
//!
//! Behaviour in short:
//! - Local candidates are transports: host sockets (`add_local_transport`) and TURN
//!   allocations (`add_relay_transport`); server-reflexive candidates from `stun_servers` are
//!   signaled but pruned to their base for checks (RFC 8445 §6.1.2.4).
//! - Checks: pairs ordered by priority (§6.1.2.3), one new check per Ta, triggered checks
//!   first, STUN retransmissions with back-off (bounded), peer-reflexive candidates learned
//!   from requests and responses, role conflicts resolved with the tie-breaker (487).
//! - Nomination as browsers do it: the controlling side sends USE-CANDIDATE on a new check of
//!   the best valid pair; the controlled side selects the nominated pair. Before nomination
//!   each side already uses its best valid pair (so DTLS can start).
//! - Consent (RFC 7675): checks on the selected pair every ~5 s (randomized), `disconnected`
//!   after 7 s without a response, `failed` after 30 s; recovery back to `connected`.
//!
//! Simplifications: pairs start `Waiting` (no `Frozen`: one component, one data stream);
//! `completed` is never entered (Chromium does not either).

mod agent;
mod candidate;
mod error;
#[doc(hidden)]
pub mod fuzz;

#[cfg(test)]
mod tests;

use core::time::Duration;
use std::net::SocketAddr;

pub use agent::{IceAgent, PairCounters, PairStats};
pub use candidate::{candidate_priority, foundation_for, pair_priority, Candidate, CandidateKind, RelayProtocol};
pub use error::IceError;

use crate::net::TransportId;

/// Longest candidate attribute accepted by [`Candidate::parse`].
pub const MAX_CANDIDATE_LEN: usize = 1024;
/// Extension key/value pairs kept per candidate.
pub const MAX_CANDIDATE_EXTENSIONS: usize = 16;
/// Remote candidates kept (signaled and peer-reflexive together).
pub const MAX_REMOTE_CANDIDATES: usize = 100;
/// Local transports (host sockets) kept.
pub const MAX_LOCAL_TRANSPORTS: usize = 32;
/// STUN server addresses kept (configured and learned late, both families).
pub const MAX_STUN_SERVERS: usize = 16;
/// Candidate pairs kept.
pub const MAX_PAIRS: usize = 400;
/// Outstanding STUN transactions.
pub const MAX_TRANSACTIONS: usize = 128;
/// Datagrams waiting for `poll_transmit`; more are dropped and counted.
pub const MAX_QUEUED_TRANSMITS: usize = 256;
/// Events waiting for `poll_event`; more are dropped and counted.
pub const MAX_QUEUED_EVENTS: usize = 256;
/// Pairs waiting for a triggered check.
pub const MAX_TRIGGERED: usize = 64;

/// Short-term credentials (RFC 8445 §5.3): ufrag and password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IceCredentials {
    pub ufrag: String,
    pub pwd: String,
}

/// Configuration. `Default` gives browser-like timings.
#[derive(Clone, Debug)]
pub struct IceConfig {
    pub controlling: bool,
    /// STUN servers (resolved by the host).
    pub stun_servers: Vec<SocketAddr>,
    /// Gather loopback host candidates too (tests).
    pub include_loopback: bool,
    /// W3C `iceTransportPolicy: 'relay'` (JSEP §4.1.1): only relayed candidates are signaled
    /// and paired; no host or server-reflexive candidate is gathered.
    pub relay_only: bool,
    /// Ta: pacing between new checks (RFC 8445 §14.2). Default 50 ms.
    pub check_interval: Duration,
    /// First retransmission timeout of a check (RFC 8489 RTO). Default 250 ms.
    pub initial_rto: Duration,
    /// Largest retransmission timeout (back-off cap). Default 1 s, so an unanswered pair fails
    /// after about 7 s, as in browsers.
    pub max_rto: Duration,
    /// Transmissions of one check before the pair fails (RFC 8489 Rc). Default 8.
    pub max_check_transmits: u32,
    /// Give up waiting for STUN servers after this. Default 5 s.
    pub gather_timeout: Duration,
    /// Controlling side: how long to wait for better pairs before nominating the best valid
    /// pair (immediate when no better pair is pending). Default 500 ms.
    pub nomination_delay: Duration,
    /// RFC 7675: consent check period (randomized 0.8..1.2x). Default 5 s.
    pub consent_interval: Duration,
    /// No consent response for this long: `disconnected`. Default 7 s.
    pub disconnected_timeout: Duration,
    /// No consent response for this long: `failed` (RFC 7675 §5.1: 30 s).
    pub consent_timeout: Duration,
    /// Checking without any valid pair for this long: `failed`. Default 30 s.
    pub failed_timeout: Duration,
    /// RFC 8445 §2.5 ICE-lite: host candidates only (no STUN or TURN), always controlled,
    /// no checks sent: a pair is valid once the peer's authenticated check arrives on it and
    /// selected once that check nominates it (USE-CANDIDATE); consent is the peer's checks
    /// still arriving (`disconnected_timeout` / `consent_timeout` of silence).
    pub lite: bool,
}

impl Default for IceConfig {
    fn default() -> Self {
        IceConfig {
            controlling: false,
            stun_servers: Vec::new(),
            include_loopback: false,
            relay_only: false,
            lite: false,
            check_interval: Duration::from_millis(50),
            initial_rto: Duration::from_millis(250),
            max_rto: Duration::from_secs(1),
            max_check_transmits: 8,
            gather_timeout: Duration::from_secs(5),
            nomination_delay: Duration::from_millis(500),
            consent_interval: Duration::from_secs(5),
            disconnected_timeout: Duration::from_secs(7),
            consent_timeout: Duration::from_secs(30),
            failed_timeout: Duration::from_secs(30),
        }
    }
}

/// W3C `RTCIceConnectionState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IceConnectionState {
    New,
    Checking,
    Connected,
    Completed,
    Disconnected,
    Failed,
    Closed,
}

/// W3C `RTCIceGatheringState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IceGatheringState {
    New,
    Gathering,
    Complete,
}

/// What the agent tells its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IceEvent {
    /// A local candidate to signal (trickle).
    LocalCandidate(Candidate),
    /// No more local candidates.
    GatheringComplete,
    ConnectionStateChanged(IceConnectionState),
    /// Application data now goes from `transport` to `remote`.
    SelectedPairChanged {
        transport: TransportId,
        remote: SocketAddr,
    },
}

/// Counters of dropped input and notable events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IceStats {
    pub malformed: u64,
    pub bad_integrity: u64,
    pub unknown_username: u64,
    pub unknown_transaction: u64,
    pub unexpected: u64,
    pub unknown_transport: u64,
    pub role_conflicts: u64,
    pub dropped_transmits: u64,
    pub dropped_events: u64,
    pub dropped_candidates: u64,
    pub checks_sent: u64,
    pub responses_sent: u64,
    pub peer_reflexive_remote: u64,
    pub peer_reflexive_local: u64,
}
