//! Per-pair counters and the candidate / pair views `getStats()` reports (W3C webrtc-stats
//! `RTCIceCandidatePairStats`, `RTCIceCandidateStats`).

use core::time::Duration;
use std::net::SocketAddr;

use super::*;

/// Counters of one candidate pair (webrtc-stats §8.21 semantics).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairCounters {
    /// Connectivity checks sent, retransmissions not included (consent checks apart).
    pub requests_sent: u64,
    /// Consent freshness checks sent on the selected pair (RFC 7675), retransmissions not included.
    pub consent_requests_sent: u64,
    /// Authenticated check requests received (retransmissions included).
    pub requests_received: u64,
    /// Success responses sent to those requests.
    pub responses_sent: u64,
    /// Authenticated responses (success or error) received to our checks.
    pub responses_received: u64,
    /// Sum of the round-trip times measured from success responses.
    pub total_round_trip_time: Duration,
    /// The last round-trip time measured.
    pub current_round_trip_time: Option<Duration>,
    /// Datagrams other than STUN (DTLS) sent / received on the pair, and their bytes
    /// (payload of the UDP datagram, as webrtc-stats counts them: no IP/UDP header, no ICE
    /// connectivity check).
    pub packets_sent: u64,
    pub packets_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub last_packet_sent: Option<Time>,
    pub last_packet_received: Option<Time>,
}

impl PairCounters {
    pub(super) fn record_rtt(&mut self, rtt: Duration) {
        self.total_round_trip_time = self.total_round_trip_time.saturating_add(rtt);
        self.current_round_trip_time = Some(rtt);
    }
}

/// One candidate pair as `getStats()` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairStats {
    /// The pair's local candidate: the transport's, or the server- / peer-reflexive one a
    /// check response named (RFC 8445 §7.2.5.3.2).
    pub local: Candidate,
    pub remote: Candidate,
    /// webrtc-stats `RTCStatsIceCandidatePairState`: "waiting", "in-progress",
    /// "succeeded", "failed" ("frozen" never: pairs start waiting, see the module docs).
    pub state: &'static str,
    pub nominated: bool,
    /// The pair application data goes over.
    pub selected: bool,
    pub counters: PairCounters,
}

impl IceAgent {
    /// Every candidate pair (at most [`MAX_PAIRS`]), in formation order.
    pub fn pair_stats(&self) -> Vec<PairStats> {
        self.pairs
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let lt = self.transports.get(p.transport)?;
                let local = match p.valid_local {
                    None => Self::transport_candidate(lt),
                    Some(m) => self.mapped_candidate(lt, m),
                };
                Some(PairStats {
                    local,
                    remote: self.remote_candidates.get(p.remote)?.clone(),
                    state: match p.state {
                        PairState::Waiting => "waiting",
                        PairState::InProgress => "in-progress",
                        PairState::Succeeded => "succeeded",
                        PairState::Failed => "failed",
                    },
                    nominated: p.nominated,
                    selected: Some(i) == self.selected,
                    counters: p.counters.clone(),
                })
            })
            .collect()
    }

    /// The STUN server a server-reflexive local candidate at `address` was learned from.
    pub fn srflx_server(&self, address: SocketAddr) -> Option<SocketAddr> {
        self.srflx_servers.iter().find(|(a, _)| *a == address).map(|(_, s)| *s)
    }

    /// The relayed transport whose candidate address is `address`.
    pub fn relay_transport(&self, address: SocketAddr) -> Option<TransportId> {
        self.transports
            .iter()
            .find(|lt| lt.kind == CandidateKind::Relayed && lt.addr == address)
            .map(|lt| lt.id)
    }

    /// Counts a datagram that is not STUN (DTLS) sent to / received from `remote` on
    /// `transport`, on the pair of that path (the selected one first). Returns whether a
    /// pair of the agent has that path.
    pub fn note_datagram(&mut self, now: Time, sent: bool, transport: TransportId, remote: SocketAddr, len: usize) -> bool {
        let on_path = |a: &IceAgent, i: usize| {
            a.pairs.get(i).is_some_and(|p| {
                a.transports.get(p.transport).is_some_and(|lt| lt.id == transport)
                    && a.remote_candidates.get(p.remote).is_some_and(|c| c.address == remote)
            })
        };
        let i = match self.selected.filter(|&s| on_path(self, s)) {
            Some(s) => Some(s),
            None => self.path_pairs(transport, remote).map(|(i, _)| i).next(),
        };
        let Some(c) = i.and_then(|i| self.pairs.get_mut(i)).map(|p| &mut p.counters) else {
            return false;
        };
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        if sent {
            c.packets_sent += 1;
            c.bytes_sent = c.bytes_sent.saturating_add(len);
            c.last_packet_sent = Some(now);
        } else {
            c.packets_received += 1;
            c.bytes_received = c.bytes_received.saturating_add(len);
            c.last_packet_received = Some(now);
        }
        true
    }
}
