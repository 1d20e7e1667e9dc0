//! The ICE agent state machine (RFC 8445 §6-§8, RFC 8838, RFC 7675).

use core::time::Duration;
use std::collections::VecDeque;
use std::net::SocketAddr;

use super::candidate::{
    candidate_priority, foundation_for, pair_priority, Candidate, CandidateKind,
};
use super::*;

mod checklist;
mod selection;
mod stats;
pub use stats::{PairCounters, PairStats};
use crate::crypto::Rng;
use crate::net::{Transmit, TransportId};
use crate::stun::{self, Class, Message, Method};
use crate::time::Time;

/// Check-list pair states (RFC 8445 §6.1.2.6), without `Frozen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PairState {
    Waiting,
    InProgress,
    Succeeded,
    Failed,
}

/// How the remote part of a request's USERNAME ("ours:theirs") relates to what we know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RemotePart {
    Matches,
    /// No remote credentials yet (the remote description has not arrived).
    NotYetKnown,
    /// A new ufrag of the peer answering our restart, before its answer arrived.
    AheadOfSignaling,
    /// Missing, or not the peer's ufrag: another session or generation.
    Wrong,
}

#[derive(Debug)]
struct LocalTransport {
    id: TransportId,
    /// The candidate address (the relayed address for a relay transport).
    addr: SocketAddr,
    /// `Host` or `Relayed`.
    kind: CandidateKind,
    /// For a relay transport: the host/mapped address the allocation was made from.
    related: Option<SocketAddr>,
    /// Candidate priority (also decides pair priority).
    priority: u32,
    /// Used for pairing and signaled (false for excluded loopback/unspecified).
    usable: bool,
    signaled: bool,
}

#[derive(Debug)]
struct Pair {
    transport: usize,
    remote: usize,
    priority: u64,
    state: PairState,
    /// Both directions proven (we got a success response).
    valid: bool,
    nominated: bool,
    /// Controlled side: the peer sent USE-CANDIDATE on this pair.
    remote_nominated: bool,
    /// Controlling side: the next check carries USE-CANDIDATE.
    nominate_next: bool,
    /// The valid pair's local candidate when it is not the transport's own: the candidate
    /// matching the XOR-MAPPED-ADDRESS of the last success response (RFC 8445 §7.2.5.3.2), a
    /// server- or peer-reflexive candidate of the same base. `None`: the transport's.
    valid_local: Option<MappedLocal>,
    /// What `getStats()` reports for the pair.
    counters: PairCounters,
}

/// A local candidate learned from a check response, sent from its base (the pair's transport).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MappedLocal {
    address: SocketAddr,
    kind: MappedKind,
    priority: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MappedKind {
    /// Another transport's address (multi-homed hairpin): that host candidate.
    Host,
    ServerReflexive,
    PeerReflexive,
}

#[derive(Debug, Clone, Copy)]
enum TxKind {
    Check {
        pair: usize,
        nominate: bool,
        consent: bool,
        sent_controlling: bool,
    },
    Gather {
        transport: usize,
        server: SocketAddr,
    },
}

#[derive(Debug)]
struct Transaction {
    id: [u8; 12],
    kind: TxKind,
    transport: TransportId,
    destination: SocketAddr,
    raw: Vec<u8>,
    sends: u32,
    max_sends: u32,
    rto: Duration,
    next_at: Time,
}

/// The ICE agent for one component. See the module documentation.
pub struct IceAgent {
    config: IceConfig,
    rng: Rng,
    local_creds: IceCredentials,
    /// During an ICE restart: the previous local credentials, still answered and still used
    /// for our own requests until the peer shows it has the new ones.
    previous_local_creds: Option<IceCredentials>,
    remote_creds: Option<IceCredentials>,
    controlling: bool,
    tie_breaker: u64,
    transports: Vec<LocalTransport>,
    /// Signaled local candidates (host and server-reflexive), for deduplication.
    local_candidates: Vec<Candidate>,
    /// Local peer-reflexive candidates learned from check responses: (address, base
    /// transport). Their priority is the PRIORITY our checks from the base carry.
    local_prflx: Vec<(SocketAddr, usize)>,
    remote_candidates: Vec<Candidate>,
    pairs: Vec<Pair>,
    triggered: VecDeque<usize>,
    transactions: Vec<Transaction>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<IceEvent>,
    connection_state: IceConnectionState,
    gathering_state: IceGatheringState,
    gather_deadline: Option<Time>,
    next_check_at: Time,
    checking_since: Option<Time>,
    first_valid_at: Option<Time>,
    selected: Option<usize>,
    last_consent: Time,
    next_consent: Time,
    remote_end_of_candidates: bool,
    /// Relayed transports (TURN allocations) the host is still making: gathering is not
    /// complete before they are settled (or the gathering deadline passes).
    pending_relays: usize,
    /// ICE servers whose host names the host is still resolving: gathering is not complete
    /// while any is (or before the gathering deadline passes). A level, set by the host.
    pending_servers: usize,
    stats: IceStats,
    /// (server-reflexive address, STUN server it came from), for `getStats()` `url`; at
    /// most [`MAX_LOCAL_TRANSPORTS`].
    srflx_servers: Vec<(SocketAddr, SocketAddr)>,
}

impl IceAgent {
    /// Creates an agent with fresh credentials (ufrag 16 chars, pwd 24 chars) and tie-breaker.
    pub fn new(config: IceConfig, mut rng: Rng) -> IceAgent {
        let local_creds = IceCredentials {
            ufrag: rng.ice_string(16),
            pwd: rng.ice_string(24),
        };
        let tie_breaker = rng.u64();
        IceAgent {
            controlling: config.controlling && !config.lite,
            config,
            rng,
            local_creds,
            previous_local_creds: None,
            remote_creds: None,
            tie_breaker,
            transports: Vec::new(),
            local_candidates: Vec::new(),
            local_prflx: Vec::new(),
            remote_candidates: Vec::new(),
            pairs: Vec::new(),
            triggered: VecDeque::new(),
            transactions: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            connection_state: IceConnectionState::New,
            gathering_state: IceGatheringState::New,
            gather_deadline: None,
            next_check_at: Time::ZERO,
            checking_since: None,
            first_valid_at: None,
            selected: None,
            last_consent: Time::ZERO,
            next_consent: Time::MAX,
            remote_end_of_candidates: false,
            pending_relays: 0,
            pending_servers: 0,
            stats: IceStats::default(),
            srflx_servers: Vec::new(),
        }
    }

    // ---- getters ----------------------------------------------------------------------

    pub fn local_credentials(&self) -> &IceCredentials {
        &self.local_creds
    }

    pub fn remote_credentials(&self) -> Option<&IceCredentials> {
        self.remote_creds.as_ref()
    }

    pub fn controlling(&self) -> bool {
        self.controlling
    }

    /// An ICE-lite agent ([`IceConfig::lite`]).
    pub fn is_lite(&self) -> bool {
        self.config.lite
    }

    /// The tie-breaker sent in ICE-CONTROLLING / ICE-CONTROLLED.
    pub fn tie_breaker(&self) -> u64 {
        self.tie_breaker
    }

    pub fn selected_pair(&self) -> Option<(TransportId, SocketAddr)> {
        let p = self.pairs.get(self.selected?)?;
        Some((
            self.transports.get(p.transport)?.id,
            self.remote_candidates.get(p.remote)?.address,
        ))
    }

    /// W3C `RTCIceTransport.getSelectedCandidatePair()`: the selected valid pair's local
    /// candidate (RFC 8445 §7.2.5.3.2: the one the peer saw us as, server- or peer-reflexive
    /// with the transport as its base, else the transport's own) and its remote candidate.
    pub fn selected_candidates(&self) -> Option<(Candidate, Candidate)> {
        let p = self.pairs.get(self.selected?)?;
        let lt = self.transports.get(p.transport)?;
        let local = match p.valid_local {
            None => Self::transport_candidate(lt),
            Some(m) => self.mapped_candidate(lt, m),
        };
        Some((local, self.remote_candidates.get(p.remote)?.clone()))
    }

    /// Whether a datagram that is not STUN (DTLS, later SRTP), received on `transport` from
    /// `from`, comes over a validated path: a valid pair (a check of ours on it got an
    /// authenticated answer, so the peer is there; this includes pairs that succeeded while
    /// nomination is in progress, and the old path kept during an ICE restart) or the
    /// selected pair. Nothing is validated once consent is lost (RFC 7675 §5.1: `failed`)
    /// or the agent is closed; after an ICE restart from `failed`, only new checks validate.
    pub fn is_validated_path(&self, transport: TransportId, from: SocketAddr) -> bool {
        self.path_pairs(transport, from)
            .any(|(i, p)| p.valid || Some(i) == self.selected)
    }

    /// Whether `from` on `transport` is a remote candidate paired with that transport
    /// (signaled, or peer-reflexive learned from an authenticated check), validated or not:
    /// the peer may already send DTLS there (its checks succeeded before ours).
    pub fn is_candidate_path(&self, transport: TransportId, from: SocketAddr) -> bool {
        self.path_pairs(transport, from).next().is_some()
    }

    /// Pairs (with their index) of `transport` and a remote candidate at `from`; none once
    /// failed or closed.
    fn path_pairs(&self, transport: TransportId, from: SocketAddr) -> impl Iterator<Item = (usize, &Pair)> {
        let live = !matches!(
            self.connection_state,
            IceConnectionState::Failed | IceConnectionState::Closed
        );
        let t = self.transports.iter().position(|lt| lt.id == transport).filter(|_| live);
        self.pairs.iter().enumerate().filter(move |(_, p)| {
            Some(p.transport) == t
                && self
                    .remote_candidates
                    .get(p.remote)
                    .is_some_and(|c| c.address == from)
        })
    }

    pub fn connection_state(&self) -> IceConnectionState {
        self.connection_state
    }

    pub fn gathering_state(&self) -> IceGatheringState {
        self.gathering_state
    }

    #[cfg(test)]
    pub(crate) fn debug_state(&self) -> String {
        format!(
            "state {:?} ctl {} sel {:?} pairs {:?} trig {:?} tx {:?} next_check {:?} consent {:?}/{:?} fv {:?}",
            self.connection_state,
            self.controlling,
            self.selected,
            self.pairs,
            self.triggered,
            self.transactions.iter().map(|t| (t.kind, t.next_at, t.sends)).collect::<Vec<_>>(),
            self.next_check_at,
            self.last_consent,
            self.next_consent,
            self.first_valid_at
        )
    }

    /// How many pairs are nominated (0 or 1 in practice).
    pub fn pairs_nominated(&self) -> usize {
        self.pairs.iter().filter(|p| p.nominated).count()
    }

    pub fn stats(&self) -> IceStats {
        self.stats.clone()
    }

    /// Local candidates signaled so far (host and server-reflexive).
    pub fn local_candidates(&self) -> &[Candidate] {
        &self.local_candidates
    }

    /// Remote candidates known (signaled and peer-reflexive).
    pub fn remote_candidates(&self) -> &[Candidate] {
        &self.remote_candidates
    }

    // ---- mutators ---------------------------------------------------------------------

    /// The peer's ufrag and password. A ufrag different from the one already known is an ICE
    /// restart by the peer (RFC 8445 §9): remote candidates and pairs are dropped, the selected
    /// path stays in use (and is re-checked) until a new pair is selected.
    ///
    /// The first credentials also settle what checks received before them claimed (RFC 8445
    /// §7.3): candidates (and their pairs) of another ufrag are dropped.
    pub fn set_remote_credentials(&mut self, creds: IceCredentials) {
        let restart = self
            .remote_creds
            .as_ref()
            .is_some_and(|old| old.ufrag != creds.ufrag);
        if self.remote_creds.is_none() {
            self.drop_remote_candidates(|c| c.ufrag().is_some_and(|u| u != creds.ufrag));
        }
        self.remote_creds = Some(creds);
        if restart {
            // The peer answers or offers with new credentials: it has seen ours if we
            // restarted first.
            self.previous_local_creds = None;
            self.reset_remote_side();
        }
    }

    /// ICE restart (W3C `restartIce()`, RFC 8445 §9): new local credentials; gathering starts
    /// again with the next `start_gathering`. The current path keeps working, and requests
    /// using the old credentials are still answered until the peer uses the new ones.
    pub fn restart(&mut self) {
        let fresh = IceCredentials {
            ufrag: self.rng.ice_string(16),
            pwd: self.rng.ice_string(24),
        };
        self.restart_with_credentials(fresh);
    }

    /// [`IceAgent::restart`] with credentials chosen by the caller (JSEP: the restart offer
    /// created by `createOffer` carries them before it is applied).
    ///
    /// From `failed` (W3C: `restartIce()` is how an application recovers) checks start over:
    /// no pair is kept and the state goes back to `checking`.
    pub fn restart_with_credentials(&mut self, fresh: IceCredentials) {
        if self.is_closed() {
            return;
        }
        let old = std::mem::replace(&mut self.local_creds, fresh);
        if self.connection_state == IceConnectionState::Failed {
            self.pairs.clear();
            self.triggered.clear();
            self.selected = None;
            self.first_valid_at = None;
            self.checking_since = None;
            self.previous_local_creds = None;
            self.set_state(IceConnectionState::Checking);
        } else if self.remote_creds.is_some() && self.previous_local_creds.is_none() {
            self.previous_local_creds = Some(old);
        }
        self.gathering_state = IceGatheringState::New;
        // Gathering runs again: no longer "completed".
        self.update_completed();
        self.transactions
            .retain(|tx| !matches!(tx.kind, TxKind::Gather { .. }));
        self.local_candidates.clear();
        self.local_prflx.clear();
        // The next gathering phase is where a new transport policy applies (JSEP §4.1.18):
        // host candidates become usable again after 'relay' gave way to 'all', and the other
        // way round. Pairs form with the peer's candidates of the new generation.
        self.refresh_usable();
        for t in &mut self.transports {
            t.signaled = false;
        }
    }

    /// Marks each transport usable or not under the current configuration ([`Self::may_use`]).
    fn refresh_usable(&mut self) {
        for i in 0..self.transports.len() {
            let Some(lt) = self.transports.get(i) else { continue };
            let usable = self.may_use(lt.addr, &lt.kind);
            if let Some(lt) = self.transports.get_mut(i) {
                lt.usable = usable;
            }
        }
    }

    /// Rollback of a restart offer (JSEP §5.7): `creds` (the ones in use before the restart)
    /// are the local credentials again; the candidates gathered meanwhile stay (same bases).
    pub fn restore_local_credentials(&mut self, creds: IceCredentials) {
        if self.is_closed() {
            return;
        }
        self.local_creds = creds;
        self.previous_local_creds = None;
    }

    /// Drops remote candidates and pairs, keeping the selected path (to be re-checked).
    fn reset_remote_side(&mut self) {
        let keep = self
            .selected
            .and_then(|s| self.pairs.get(s))
            .and_then(|p| Some((p.transport, self.remote_candidates.get(p.remote)?.clone(), p.valid_local)));
        self.pairs.clear();
        self.remote_candidates.clear();
        self.triggered.clear();
        self.transactions
            .retain(|tx| matches!(tx.kind, TxKind::Gather { .. }));
        self.remote_end_of_candidates = false;
        self.selected = None;
        if let Some((t, rc, valid_local)) = keep {
            self.remote_candidates.push(rc);
            if let Some(p) = self.find_or_form_pair(t, 0) {
                if let Some(pair) = self.pairs.get_mut(p) {
                    pair.valid = true;
                    pair.valid_local = valid_local;
                }
                self.recompute_pair_priority(p);
                self.selected = Some(p);
            }
        }
        // The kept path is not nominated in the new generation: "connected" again.
        self.update_completed();
    }

    /// Removes the remote candidates `drop` selects, with their pairs, triggered checks and
    /// check transactions; indices of what stays are renumbered.
    fn drop_remote_candidates(&mut self, drop: impl Fn(&Candidate) -> bool) {
        if !self.remote_candidates.iter().any(&drop) {
            return;
        }
        let mut remote_map = Vec::with_capacity(self.remote_candidates.len());
        let mut kept = Vec::with_capacity(self.remote_candidates.len());
        for c in std::mem::take(&mut self.remote_candidates) {
            if drop(&c) {
                remote_map.push(None);
            } else {
                remote_map.push(Some(kept.len()));
                kept.push(c);
            }
        }
        self.remote_candidates = kept;
        let mut pair_map = Vec::with_capacity(self.pairs.len());
        let mut pairs = Vec::with_capacity(self.pairs.len());
        for mut p in std::mem::take(&mut self.pairs) {
            match remote_map.get(p.remote).copied().flatten() {
                Some(r) => {
                    p.remote = r;
                    pair_map.push(Some(pairs.len()));
                    pairs.push(p);
                }
                None => pair_map.push(None),
            }
        }
        self.pairs = pairs;
        let new_index = |p: usize| pair_map.get(p).copied().flatten();
        self.triggered = self.triggered.iter().filter_map(|&p| new_index(p)).collect();
        self.transactions.retain_mut(|tx| match &mut tx.kind {
            TxKind::Check { pair, .. } => match new_index(*pair) {
                Some(n) => {
                    *pair = n;
                    true
                }
                None => false,
            },
            TxKind::Gather { .. } => true,
        });
        self.selected = self.selected.and_then(new_index);
    }

    /// The local credentials our requests carry (the previous ones during a restart).
    fn sending_local_ufrag(&self) -> &str {
        match &self.previous_local_creds {
            Some(c) => &c.ufrag,
            None => &self.local_creds.ufrag,
        }
    }

    pub fn set_controlling(&mut self, controlling: bool) {
        // A lite agent is always controlled (RFC 8445 §6.1.1).
        let controlling = controlling && !self.config.lite;
        if self.controlling != controlling {
            self.controlling = controlling;
            self.recompute_priorities();
        }
    }

    /// A host socket the agent may use. Its host candidate is signaled once gathering runs.
    pub fn add_local_transport(&mut self, transport: TransportId, addr: SocketAddr) {
        self.add_transport(transport, addr, CandidateKind::Host, None, None);
    }

    /// A relayed transport (a TURN allocation the host reaches through `transport`, e.g. over
    /// the WebSocket relay): `relayed` is the allocation's public address, `base` the address
    /// the allocation was made from (signaled as `raddr`). Datagrams to and from the peer go
    /// through `transport` like any other path. `protocol`: how the server is reached (its
    /// candidate's priority: UDP above TCP above TLS).
    pub fn add_relay_transport(
        &mut self,
        transport: TransportId,
        relayed: SocketAddr,
        base: SocketAddr,
        protocol: RelayProtocol,
    ) {
        self.add_transport(transport, relayed, CandidateKind::Relayed, Some(base), Some(protocol));
    }

    /// The host is making a relayed transport (a TURN allocation): gathering waits for it,
    /// up to the gathering deadline. Call before `start_gathering` for allocations that start
    /// with it; settle it with [`IceAgent::relay_settled`].
    pub fn expect_relay(&mut self) {
        self.pending_relays = self.pending_relays.saturating_add(1);
    }

    /// A relayed transport announced by [`IceAgent::expect_relay`] was added, or failed.
    pub fn relay_settled(&mut self, now: Time) {
        self.pending_relays = self.pending_relays.saturating_sub(1);
        self.update_gathering(now);
    }

    /// How many ICE servers the host is still resolving (their host names): gathering waits
    /// while this is not zero, up to the gathering deadline.
    pub fn set_pending_servers(&mut self, now: Time, n: usize) {
        self.pending_servers = n;
        self.update_gathering(now);
    }

    /// A STUN server learned late (its host name resolved): used from now on; while gathering,
    /// server-reflexive candidates are gathered from it at once. At most
    /// [`MAX_STUN_SERVERS`] are kept.
    pub fn add_stun_server(&mut self, now: Time, server: SocketAddr) {
        if self.is_closed()
            || self.config.lite
            || self.config.stun_servers.contains(&server)
            || self.config.stun_servers.len() >= MAX_STUN_SERVERS
        {
            return;
        }
        self.config.stun_servers.push(server);
        if self.gathering_state == IceGatheringState::Gathering {
            self.gather_from(now, server);
        }
    }

    /// Binding requests to `server` from each usable host transport of its family.
    fn gather_from(&mut self, now: Time, server: SocketAddr) {
        for t in 0..self.transports.len() {
            let Some(lt) = self.transports.get(t) else {
                continue;
            };
            if !lt.usable || lt.kind != CandidateKind::Host || lt.addr.is_ipv6() != server.is_ipv6() {
                continue;
            }
            let tid_local = lt.id;
            let id = self.new_tid();
            let raw = stun::plain_binding_request(id);
            self.start_transaction(
                now,
                id,
                TxKind::Gather { transport: t, server },
                tid_local,
                server,
                raw,
                self.config.max_check_transmits,
            );
        }
    }

    fn add_transport(
        &mut self,
        transport: TransportId,
        addr: SocketAddr,
        kind: CandidateKind,
        related: Option<SocketAddr>,
        relay: Option<RelayProtocol>,
    ) {
        if self.is_closed()
            || self.transports.len() >= MAX_LOCAL_TRANSPORTS
            || self.transports.iter().any(|t| t.id == transport)
        {
            return;
        }
        let usable = self.may_use(addr, &kind);
        // Local preference: IPv6 above IPv4, earlier transports above later ones; for relays
        // the protocol to the server first.
        let index = u16::try_from(self.transports.len()).unwrap_or(u16::MAX);
        let base: u16 = match relay {
            Some(p) => p.local_preference_base() - if addr.is_ipv6() { 0 } else { 4096 },
            None if addr.is_ipv6() => 65535,
            None => 32767,
        };
        let local_pref = base.saturating_sub(index.saturating_mul(64));
        let priority = candidate_priority(&kind, local_pref, 1);
        self.transports.push(LocalTransport {
            id: transport,
            addr,
            kind,
            related,
            priority,
            usable,
            signaled: false,
        });
        let t = self.transports.len() - 1;
        if self.gathering_state == IceGatheringState::Gathering {
            self.signal_transport(t);
        }
        if usable {
            for r in 0..self.remote_candidates.len() {
                self.form_pair(t, r);
            }
        }
    }

    /// Whether a transport may be signaled and paired under the current configuration.
    fn may_use(&self, addr: SocketAddr, kind: &CandidateKind) -> bool {
        let ip = addr.ip();
        // A relayed address is what the TURN server reports: on loopback only when the
        // server itself is (tests on one machine), so it is not a host address to hide.
        !ip.is_unspecified()
            && (!self.config.lite || *kind == CandidateKind::Host)
            && (self.config.include_loopback || !ip.is_loopback() || *kind == CandidateKind::Relayed)
            && (!self.config.relay_only || *kind == CandidateKind::Relayed)
    }

    /// W3C `setConfiguration()`: new STUN servers and transport policy. JSEP §4.1.18: they
    /// apply from the next gathering phase; before the first one they apply at once.
    pub fn set_gathering_config(&mut self, stun_servers: Vec<SocketAddr>, relay_only: bool) {
        self.config.stun_servers = stun_servers;
        if self.config.relay_only == relay_only || self.is_closed() {
            return;
        }
        self.config.relay_only = relay_only;
        if self.gathering_state != IceGatheringState::New || !self.pairs.is_empty() {
            return; // pairs already formed: the policy waits for the next gathering phase
        }
        self.refresh_usable();
    }

    /// Starts gathering: host candidates now, server-reflexive ones as STUN servers answer,
    /// then `GatheringComplete`.
    pub fn start_gathering(&mut self, now: Time) {
        if self.is_closed() || self.gathering_state != IceGatheringState::New {
            return;
        }
        self.gathering_state = IceGatheringState::Gathering;
        for t in 0..self.transports.len() {
            self.signal_transport(t);
        }
        let servers = if self.config.lite { Vec::new() } else { self.config.stun_servers.clone() };
        for server in servers {
            self.gather_from(now, server);
        }
        self.gather_deadline = Some(now + self.config.gather_timeout);
        self.update_gathering(now);
    }

    /// Adds a remote candidate (trickle or from the SDP). TCP candidates, other components
    /// and address families we cannot reach are accepted and ignored.
    pub fn add_remote_candidate(&mut self, now: Time, c: Candidate) -> Result<(), IceError> {
        if self.is_closed() {
            return Err(IceError::Closed);
        }
        if c.component != 1 || !c.protocol.eq_ignore_ascii_case("udp") {
            return Ok(());
        }
        // RFC 8838 §11.4: a candidate of another ICE generation (ufrag) is discarded.
        if let (Some(u), Some(creds)) = (c.ufrag(), &self.remote_creds) {
            if u != creds.ufrag {
                return Ok(());
            }
        }
        if let Some(i) = self
            .remote_candidates
            .iter()
            .position(|r| r.address == c.address)
        {
            // Signaled after being learned as peer-reflexive: keep the pair, take the
            // signaled type (priority stays the one the peer put in PRIORITY).
            if let Some(r) = self.remote_candidates.get_mut(i) {
                if r.kind == CandidateKind::PeerReflexive {
                    r.kind = c.kind;
                    r.foundation = c.foundation;
                    r.related_address = c.related_address;
                }
            }
            return Ok(());
        }
        if self.remote_candidates.len() >= MAX_REMOTE_CANDIDATES {
            self.stats.dropped_candidates += 1;
            return Err(IceError::TooManyCandidates);
        }
        self.remote_candidates.push(c);
        // A new candidate once "completed": the peer was not done after all (W3C:
        // "completed" needs the indication that there are no more), so the state goes back
        // to "connected" until it says so again. Before that, a candidate trickled after the
        // indication (signaling reordered them) keeps it.
        if self.connection_state == IceConnectionState::Completed {
            self.remote_end_of_candidates = false;
        }
        let r = self.remote_candidates.len() - 1;
        for t in 0..self.transports.len() {
            self.form_pair(t, r);
        }
        self.update_state(now);
        Ok(())
    }

    /// RFC 8838 §8.2: the peer will send no more candidates.
    pub fn set_remote_end_of_candidates(&mut self) {
        if self.is_closed() {
            return;
        }
        self.remote_end_of_candidates = true;
        self.update_completed();
    }

    /// Stops everything; `Closed` is reported.
    pub fn close(&mut self) {
        if self.is_closed() {
            return;
        }
        self.transactions.clear();
        self.transmits.clear();
        self.triggered.clear();
        self.set_state(IceConnectionState::Closed);
    }

    // ---- input ------------------------------------------------------------------------

    /// One STUN datagram received on `transport` from `from` (the caller demultiplexes per
    /// RFC 7983). Errors mean the datagram was dropped (and counted).
    pub fn handle_stun(
        &mut self,
        now: Time,
        transport: TransportId,
        from: SocketAddr,
        data: &[u8],
    ) -> Result<(), IceError> {
        if self.is_closed() {
            return Err(IceError::Closed);
        }
        if self.connection_state == IceConnectionState::Failed {
            // RFC 7675 §5.1: once consent is lost nothing more is sent, answers included.
            return Err(IceError::Failed);
        }
        let Some(t) = self.transports.iter().position(|lt| lt.id == transport) else {
            self.stats.unknown_transport += 1;
            return Err(IceError::UnknownTransport);
        };
        let msg = match Message::decode(data) {
            Ok(m) => m,
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e.into());
            }
        };
        if msg.method != Method::BINDING {
            self.stats.unexpected += 1;
            return Err(IceError::Unexpected);
        }
        let r = match msg.class {
            Class::Request => self.handle_request(now, t, from, data, &msg),
            Class::SuccessResponse | Class::ErrorResponse => {
                self.handle_response(now, t, from, data, &msg)
            }
            Class::Indication => Ok(()), // keepalive indications are fine to ignore
        };
        self.after_input(now);
        r
    }

    /// RFC 8445 §7.3: answer a check, learn peer-reflexive candidates, trigger checks.
    fn handle_request(
        &mut self,
        now: Time,
        t: usize,
        from: SocketAddr,
        raw: &[u8],
        msg: &Message,
    ) -> Result<(), IceError> {
        if !msg.has_fingerprint() {
            self.stats.malformed += 1;
            return Err(IceError::Stun(stun::StunError::MissingFingerprint));
        }
        // USERNAME "ours:theirs" (RFC 8445 §7.3). "ours" picks the password (the current or,
        // during a restart, the previous credentials) and MESSAGE-INTEGRITY under it
        // authenticates the sender; "theirs" is checked below, once the sender is known to
        // hold our password.
        let Some(username) = msg.username() else {
            self.stats.unexpected += 1;
            return Err(IceError::Unexpected);
        };
        let (ours, theirs) = match username.split_once(':') {
            Some((o, t)) => (o, Some(t)),
            None => (username, None),
        };
        let key = if ours == self.local_creds.ufrag {
            self.local_creds.pwd.clone()
        } else if let Some(prev) = self
            .previous_local_creds
            .as_ref()
            .filter(|c| c.ufrag == ours)
        {
            prev.pwd.clone()
        } else {
            self.stats.unknown_username += 1;
            return Err(IceError::UnknownUsername);
        };
        if stun::verify_integrity(raw, key.as_bytes()).is_err() {
            self.stats.bad_integrity += 1;
            return Err(IceError::BadIntegrity);
        }
        let lt_id = self.transports.get(t).map(|lt| lt.id).unwrap_or_default();
        let remote_part = match (theirs, &self.remote_creds) {
            (None, _) => RemotePart::Wrong,
            // §7.3: a check may come before the remote description; answered now, the pair
            // and candidate it makes are checked when the credentials arrive
            // (`set_remote_credentials` drops them if "theirs" was not the peer's ufrag).
            (Some(_), None) => RemotePart::NotYetKnown,
            (Some(t), Some(c)) if t == c.ufrag => RemotePart::Matches,
            // We restarted and the peer uses our new ufrag: it has our restart offer and may
            // answer with a new ufrag of its own before that answer reaches us. Answered; no
            // pair or candidate of that generation is formed (the answer resets them anyway).
            (Some(_), Some(_)) if self.previous_local_creds.is_some() && ours == self.local_creds.ufrag => {
                RemotePart::AheadOfSignaling
            }
            (Some(_), Some(_)) => RemotePart::Wrong,
        };
        if remote_part == RemotePart::Wrong {
            // RFC 8489 §9.1.3: a username not valid here gets a 401, without
            // MESSAGE-INTEGRITY; nothing is learned from the request.
            self.stats.unknown_username += 1;
            let resp = stun::binding_error(msg.transaction_id, 401, None);
            self.queue_transmit(lt_id, from, resp);
            return Err(IceError::UnknownUsername);
        }
        if ours == self.local_creds.ufrag && remote_part == RemotePart::Matches {
            // The peer uses our new credentials: the restart is known on both sides. (Ahead
            // of its answer, the answer's own credentials settle it.)
            self.previous_local_creds = None;
        }
        let unknown = msg.unknown_comprehension_required();
        if !unknown.is_empty() {
            let resp =
                stun::binding_error_unknown(msg.transaction_id, unknown, Some(key.as_bytes()));
            self.queue_transmit(lt_id, from, resp);
            self.stats.unexpected += 1;
            return Err(IceError::Unexpected);
        }
        let Some(priority) = msg.priority() else {
            self.stats.unexpected += 1;
            return Err(IceError::Unexpected);
        };

        // RFC 8445 §7.3.1.1: role conflicts.
        if self.controlling {
            if let Some(theirs) = msg.ice_controlling() {
                self.stats.role_conflicts += 1;
                if self.tie_breaker >= theirs {
                    let resp = stun::binding_error(msg.transaction_id, 487, Some(key.as_bytes()));
                    self.queue_transmit(lt_id, from, resp);
                    return Ok(());
                }
                self.set_controlling(false);
            }
        } else if let Some(theirs) = msg.ice_controlled() {
            self.stats.role_conflicts += 1;
            if self.tie_breaker >= theirs {
                self.set_controlling(true);
            } else {
                let resp = stun::binding_error(msg.transaction_id, 487, Some(key.as_bytes()));
                self.queue_transmit(lt_id, from, resp);
                return Ok(());
            }
        }

        let resp = stun::binding_success(msg.transaction_id, from, Some(key.as_bytes()));
        self.queue_transmit(lt_id, from, resp);
        self.stats.responses_sent += 1;
        if remote_part == RemotePart::AheadOfSignaling {
            return Ok(());
        }

        // RFC 8445 §7.3.1.3: learn a peer-reflexive remote candidate.
        let r = match self
            .remote_candidates
            .iter()
            .position(|c| c.address == from)
        {
            Some(r) => r,
            None => {
                if self.remote_candidates.len() >= MAX_REMOTE_CANDIDATES {
                    self.stats.dropped_candidates += 1;
                    return Ok(());
                }
                self.stats.peer_reflexive_remote += 1;
                let foundation = foundation_for(&CandidateKind::PeerReflexive, from.ip(), None);
                // Before the remote credentials: remember the generation the request claimed.
                let extensions = match (remote_part, theirs) {
                    (RemotePart::NotYetKnown, Some(u)) => vec![("ufrag".to_owned(), u.to_owned())],
                    _ => Vec::new(),
                };
                self.remote_candidates.push(Candidate {
                    foundation,
                    component: 1,
                    protocol: "udp".into(),
                    priority,
                    address: from,
                    kind: CandidateKind::PeerReflexive,
                    related_address: None,
                    tcp_type: None,
                    extensions,
                });
                self.remote_candidates.len() - 1
            }
        };
        let Some(p) = self.find_or_form_pair(t, r) else {
            return Ok(());
        };
        if let Some(pair) = self.pairs.get_mut(p) {
            pair.counters.requests_received += 1;
            pair.counters.responses_sent += 1;
        }
        // An in-progress check that already needed a retransmission is restarted (§7.3.1.4):
        // the peer evidently hears us less well than we hear it.
        let stalled = self.transactions.iter().any(|tx| {
            tx.sends >= 2
                && matches!(tx.kind, TxKind::Check { pair, consent: false, .. } if pair == p)
        });
        let use_candidate = msg.use_candidate() && !self.controlling;
        if self.config.lite {
            // §2.5: no check of our own; the peer's authenticated check validates the pair
            // (and, on the selected one, is its consent), USE-CANDIDATE nominates it.
            if let Some(pair) = self.pairs.get_mut(p) {
                pair.state = PairState::Succeeded;
                pair.valid = true;
                if use_candidate {
                    pair.remote_nominated = true;
                    pair.nominated = true;
                }
            }
            if self.first_valid_at.is_none() {
                self.first_valid_at = Some(now);
            }
            if Some(p) == self.selected {
                self.last_consent = now;
            }
            self.update_selected(now);
            self.update_state(now);
            return Ok(());
        }
        if let Some(pair) = self.pairs.get_mut(p) {
            if use_candidate {
                pair.remote_nominated = true;
                if pair.valid {
                    pair.nominated = true;
                }
            }
            // §7.3.1.4: triggered check unless already succeeded or freshly in progress.
            let trigger = match pair.state {
                PairState::Waiting | PairState::Failed => true,
                PairState::InProgress => stalled,
                PairState::Succeeded => false,
            };
            if trigger {
                if pair.state != PairState::InProgress {
                    pair.state = PairState::Waiting;
                }
                self.push_triggered(p);
            }
        }
        self.update_selected(now);
        Ok(())
    }

    fn handle_response(
        &mut self,
        now: Time,
        t: usize,
        from: SocketAddr,
        raw: &[u8],
        msg: &Message,
    ) -> Result<(), IceError> {
        let Some(ti) = self
            .transactions
            .iter()
            .position(|tx| tx.id == msg.transaction_id)
        else {
            self.stats.unknown_transaction += 1;
            return Err(IceError::UnknownTransaction);
        };
        let Some(tx) = self.transactions.get(ti) else {
            return Err(IceError::UnknownTransaction);
        };
        let (kind, tx_transport, tx_dest) = (tx.kind, tx.transport, tx.destination);
        // When the request was last (re)sent: `next_at` is that send plus `rto`.
        let tx_sent_at = tx.next_at - tx.rto;
        let lt_id = self.transports.get(t).map(|lt| lt.id);
        match kind {
            TxKind::Gather { transport, server } => {
                if from != server || lt_id != Some(tx_transport) {
                    self.stats.unexpected += 1;
                    return Err(IceError::Unexpected);
                }
                self.transactions.remove(ti);
                if msg.class == Class::SuccessResponse {
                    if let Some(mapped) = msg.mapped_address() {
                        self.add_srflx(transport, server, mapped);
                    }
                }
                self.update_gathering(now);
                Ok(())
            }
            TxKind::Check {
                pair,
                nominate,
                consent,
                sent_controlling,
            } => {
                let key = match &self.remote_creds {
                    Some(c) => c.pwd.clone(),
                    None => return Err(IceError::UnknownTransaction),
                };
                if !msg.has_fingerprint() {
                    self.stats.malformed += 1;
                    return Err(IceError::Stun(stun::StunError::MissingFingerprint));
                }
                if stun::verify_integrity(raw, key.as_bytes()).is_err() {
                    self.stats.bad_integrity += 1;
                    return Err(IceError::BadIntegrity);
                }
                self.transactions.remove(ti);
                if let Some(p) = self.pairs.get_mut(pair) {
                    p.counters.responses_received += 1;
                    if msg.class == Class::SuccessResponse {
                        p.counters.record_rtt(now.saturating_since(tx_sent_at));
                    }
                }
                // RFC 8445 §7.2.5.2.1: addresses must be symmetric.
                if from != tx_dest || lt_id != Some(tx_transport) {
                    self.fail_pair(now, pair);
                    return Ok(());
                }
                if msg.class == Class::ErrorResponse {
                    if msg.error_code() == Some(487) {
                        // §7.2.5.1: switch role, retry.
                        self.stats.role_conflicts += 1;
                        self.set_controlling(!sent_controlling);
                        if let Some(p) = self.pairs.get_mut(pair) {
                            p.state = PairState::Waiting;
                        }
                        self.push_triggered(pair);
                    } else if !consent {
                        self.fail_pair(now, pair);
                    }
                    return Ok(());
                }
                // Success. §7.2.5.3.2: the valid pair's local candidate is the one whose address
                // is the mapped address (a new peer-reflexive one if none is), its priority
                // the pair's; the remote candidate is the one the check went to.
                let valid_local = match msg.xor_mapped_address() {
                    Some(mapped) => self.local_for_mapped(t, mapped),
                    None => None,
                };
                if consent || Some(pair) == self.selected {
                    self.last_consent = now;
                }
                let controlled = !self.controlling;
                if let Some(p) = self.pairs.get_mut(pair) {
                    p.state = PairState::Succeeded;
                    p.valid = true;
                    p.valid_local = valid_local;
                }
                self.recompute_pair_priority(pair);
                if let Some(p) = self.pairs.get_mut(pair) {
                    if nominate && !controlled {
                        p.nominated = true;
                    }
                    if controlled && p.remote_nominated {
                        p.nominated = true;
                    }
                }
                if self.first_valid_at.is_none() {
                    self.first_valid_at = Some(now);
                }
                self.update_selected(now);
                Ok(())
            }
        }
    }

    /// Runs every timer due at `now`. Calling it early is harmless.
    pub fn handle_timeout(&mut self, now: Time) {
        if self.is_closed() || self.connection_state == IceConnectionState::Failed {
            return;
        }
        // Retransmissions and transaction timeouts.
        let mut i = 0;
        while i < self.transactions.len() {
            let Some(tx) = self.transactions.get_mut(i) else {
                break;
            };
            if tx.next_at > now {
                i += 1;
                continue;
            }
            if tx.sends >= tx.max_sends {
                let kind = tx.kind;
                self.transactions.remove(i);
                self.transaction_timed_out(now, kind);
                continue;
            }
            tx.sends += 1;
            // Consent checks retransmit at a steady pace so one lost datagram does not look
            // like lost consent; other transactions back off (RFC 8489 §6.2.1).
            if !matches!(tx.kind, TxKind::Check { consent: true, .. }) {
                tx.rto = (tx.rto * 2).min(self.config.max_rto);
            }
            tx.next_at = now + tx.rto;
            let out = Transmit {
                transport: tx.transport,
                destination: tx.destination,
                data: tx.raw.clone(),
            };
            self.push_transmit(out);
            i += 1;
        }
        self.update_gathering(now);
        // Paced checks (RFC 8445 §6.1.4.2): one per Ta (none from a lite agent).
        if !self.config.lite && now >= self.next_check_at {
            if let Some((p, nominate)) = self.next_check() {
                self.send_check(now, p, nominate, false);
                self.next_check_at = now + self.config.check_interval;
            }
        }
        self.update_nomination(now);
        self.update_consent(now);
        self.update_state(now);
    }

    // ---- output -----------------------------------------------------------------------

    /// The next datagram to send. Runs due timers first, so a host that only polls works.
    pub fn poll_transmit(&mut self, now: Time) -> Option<Transmit> {
        if self.transmits.is_empty() {
            self.handle_timeout(now);
        }
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<IceEvent> {
        self.events.pop_front()
    }

    /// The earliest time `handle_timeout` has work to do.
    pub fn poll_timeout(&self) -> Option<Time> {
        if self.is_closed() || self.connection_state == IceConnectionState::Failed {
            return None;
        }
        let mut t = Time::MAX;
        if self.gathering_state == IceGatheringState::Gathering {
            if let Some(d) = self.gather_deadline {
                t = t.min(d);
            }
        }
        for tx in &self.transactions {
            t = t.min(tx.next_at);
        }
        if self.remote_creds.is_some() && self.has_pending_check() && !self.config.lite {
            t = t.min(self.next_check_at);
        }
        if self.controlling && !self.nomination_in_progress() && !self.any_nominated() {
            if let Some(v) = self.first_valid_at {
                if self.pairs.iter().any(|p| p.valid) {
                    t = t.min(v + self.config.nomination_delay);
                }
            }
        }
        if self.selected.is_some() {
            if !self.config.lite {
                t = t.min(self.next_consent);
            }
            match self.connection_state {
                IceConnectionState::Connected | IceConnectionState::Completed => {
                    t = t.min(self.last_consent + self.config.disconnected_timeout)
                }
                IceConnectionState::Disconnected => {
                    t = t.min(self.last_consent + self.config.consent_timeout)
                }
                _ => {}
            }
        } else if self.first_valid_at.is_some() {
            t = t.min(self.last_consent + self.config.consent_timeout);
        } else if let Some(since) = self.checking_since {
            t = t.min(since + self.config.failed_timeout);
        }
        (t != Time::MAX).then_some(t)
    }

    // ---- internals --------------------------------------------------------------------

    fn is_closed(&self) -> bool {
        self.connection_state == IceConnectionState::Closed
    }

    fn new_tid(&mut self) -> [u8; 12] {
        let mut id = [0u8; 12];
        self.rng.fill(&mut id);
        id
    }

    fn after_input(&mut self, now: Time) {
        self.update_nomination(now);
        self.update_state(now);
    }

    fn push_event(&mut self, e: IceEvent) {
        if self.events.len() >= MAX_QUEUED_EVENTS {
            self.stats.dropped_events += 1;
            return;
        }
        self.events.push_back(e);
    }

    fn push_transmit(&mut self, t: Transmit) {
        if self.transmits.len() >= MAX_QUEUED_TRANSMITS {
            self.stats.dropped_transmits += 1;
            return;
        }
        self.transmits.push_back(t);
    }

    fn queue_transmit(&mut self, transport: TransportId, destination: SocketAddr, data: Vec<u8>) {
        self.push_transmit(Transmit {
            transport,
            destination,
            data,
        });
    }

    fn push_triggered(&mut self, p: usize) {
        if !self.config.lite && !self.triggered.contains(&p) && self.triggered.len() < MAX_TRIGGERED {
            self.triggered.push_back(p);
        }
    }

    fn set_state(&mut self, s: IceConnectionState) {
        if matches!(s, IceConnectionState::Failed | IceConnectionState::Closed) {
            // Terminal: nothing more is sent (RFC 7675 §5.1: once consent is lost, not even
            // what was already queued); gathering ends too.
            self.transactions.clear();
            self.triggered.clear();
            self.transmits.clear();
            if s == IceConnectionState::Failed {
                self.update_gathering(Time::MAX);
            }
        }
        if self.connection_state != s {
            self.connection_state = s;
            self.push_event(IceEvent::ConnectionStateChanged(s));
        }
    }

    /// The candidate a local transport is signaled as (host or relayed).
    fn transport_candidate(lt: &LocalTransport) -> Candidate {
        let base_ip = lt.related.map(|r| r.ip()).unwrap_or(lt.addr.ip());
        Candidate {
            foundation: foundation_for(&lt.kind, base_ip, None),
            component: 1,
            protocol: "udp".into(),
            priority: lt.priority,
            address: lt.addr,
            kind: lt.kind.clone(),
            related_address: lt.related,
            tcp_type: None,
            extensions: vec![("generation".into(), "0".into())],
        }
    }

    fn signal_transport(&mut self, t: usize) {
        let Some(lt) = self.transports.get_mut(t) else {
            return;
        };
        if lt.signaled || !lt.usable {
            return;
        }
        lt.signaled = true;
        let c = Self::transport_candidate(lt);
        self.local_candidates.push(c.clone());
        self.push_event(IceEvent::LocalCandidate(c));
    }

    fn add_srflx(&mut self, t: usize, server: SocketAddr, mapped: SocketAddr) {
        let Some(lt) = self.transports.get(t) else {
            return;
        };
        if self.local_candidates.iter().any(|c| c.address == mapped) {
            return; // same as a host candidate or already known: deduplicated
        }
        let local_pref = u16::try_from((lt.priority >> 8) & 0xffff).unwrap_or(0);
        let c = Candidate {
            foundation: foundation_for(&CandidateKind::ServerReflexive, lt.addr.ip(), Some(server)),
            component: 1,
            protocol: "udp".into(),
            priority: candidate_priority(&CandidateKind::ServerReflexive, local_pref, 1),
            address: mapped,
            kind: CandidateKind::ServerReflexive,
            related_address: Some(lt.addr),
            tcp_type: None,
            extensions: vec![("generation".into(), "0".into())],
        };
        self.local_candidates.push(c.clone());
        self.push_event(IceEvent::LocalCandidate(c));
        if self.srflx_servers.len() < MAX_LOCAL_TRANSPORTS && self.srflx_server(mapped).is_none() {
            self.srflx_servers.push((mapped, server));
        }
    }

    /// The local candidate of base `t` whose address is `mapped` (RFC 8445 §7.2.5.3.2), or
    /// `None` when it is the transport's own address. A mapped address no local candidate
    /// has becomes a peer-reflexive candidate of base `t` (§7.2.5.3.1), with the priority
    /// our checks from `t` carry in PRIORITY.
    fn local_for_mapped(&mut self, t: usize, mapped: SocketAddr) -> Option<MappedLocal> {
        let lt = self.transports.get(t)?;
        if lt.addr == mapped {
            return None;
        }
        let base = lt.addr;
        if let Some(other) = self.transports.iter().find(|o| o.addr == mapped) {
            return Some(MappedLocal { address: mapped, kind: MappedKind::Host, priority: other.priority });
        }
        if let Some(c) = self
            .local_candidates
            .iter()
            .find(|c| c.address == mapped && c.kind == CandidateKind::ServerReflexive && c.related_address == Some(base))
        {
            return Some(MappedLocal { address: mapped, kind: MappedKind::ServerReflexive, priority: c.priority });
        }
        let priority = self.local_priority_for(t, &CandidateKind::PeerReflexive);
        let known = self.local_candidates.iter().any(|c| c.address == mapped)
            || self.local_prflx.contains(&(mapped, t));
        if !known && self.local_prflx.len() < MAX_LOCAL_TRANSPORTS {
            self.stats.peer_reflexive_local += 1;
            self.local_prflx.push((mapped, t));
        }
        Some(MappedLocal { address: mapped, kind: MappedKind::PeerReflexive, priority })
    }

    /// The candidate a valid pair's mapped local candidate is reported as (a gathered
    /// server-reflexive one as it was signaled).
    fn mapped_candidate(&self, lt: &LocalTransport, m: MappedLocal) -> Candidate {
        if m.kind == MappedKind::ServerReflexive {
            if let Some(c) = self.local_candidates.iter().find(|c| {
                c.address == m.address && c.kind == CandidateKind::ServerReflexive && c.related_address == Some(lt.addr)
            }) {
                return c.clone();
            }
        }
        let kind = match m.kind {
            MappedKind::Host => CandidateKind::Host,
            MappedKind::ServerReflexive => CandidateKind::ServerReflexive,
            MappedKind::PeerReflexive => CandidateKind::PeerReflexive,
        };
        let related = (m.kind != MappedKind::Host).then_some(lt.addr);
        Candidate {
            foundation: foundation_for(&kind, related.unwrap_or(m.address).ip(), None),
            component: 1,
            protocol: "udp".into(),
            priority: m.priority,
            address: m.address,
            kind,
            related_address: related,
            tcp_type: None,
            extensions: vec![("generation".into(), "0".into())],
        }
    }

    fn update_gathering(&mut self, now: Time) {
        if self.gathering_state != IceGatheringState::Gathering {
            return;
        }
        let pending = self
            .transactions
            .iter()
            .any(|tx| matches!(tx.kind, TxKind::Gather { .. }))
            || self.pending_relays > 0
            || self.pending_servers > 0;
        let expired = self.gather_deadline.is_some_and(|d| now >= d);
        if !pending || expired {
            self.transactions
                .retain(|tx| !matches!(tx.kind, TxKind::Gather { .. }));
            self.pending_relays = 0;
            self.gathering_state = IceGatheringState::Complete;
            self.push_event(IceEvent::GatheringComplete);
            self.update_completed();
        }
    }
}
