//! Pair formation, check scheduling and STUN transactions (RFC 8445 §6.1.2-§6.1.4, §7.2).

use std::net::SocketAddr;

use super::*;
use crate::stun;

impl IceAgent {
    pub(super) fn local_priority_for(&self, t: usize, kind: &CandidateKind) -> u32 {
        let p = self.transports.get(t).map(|lt| lt.priority).unwrap_or(0);
        let local_pref = u16::try_from((p >> 8) & 0xffff).unwrap_or(0);
        candidate_priority(kind, local_pref, 1)
    }

    pub(super) fn compute_pair_priority(&self, t: usize, r: usize) -> u64 {
        let local = self.transports.get(t).map(|lt| lt.priority).unwrap_or(0);
        self.pair_priority_with(local, r)
    }

    /// RFC 8445 §6.1.2.3 with `local` as our candidate's priority.
    fn pair_priority_with(&self, local: u32, r: usize) -> u64 {
        let remote = self
            .remote_candidates
            .get(r)
            .map(|c| c.priority)
            .unwrap_or(0);
        if self.controlling {
            pair_priority(local, remote)
        } else {
            pair_priority(remote, local)
        }
    }

    pub(super) fn recompute_priorities(&mut self) {
        for i in 0..self.pairs.len() {
            self.recompute_pair_priority(i);
        }
    }

    /// A pair's priority from its local candidate: the transport's, or once valid the one
    /// the mapped address named (RFC 8445 §7.2.5.3.2).
    pub(super) fn recompute_pair_priority(&mut self, i: usize) {
        let Some(p) = self.pairs.get(i) else { return };
        let prio = match p.valid_local {
            Some(m) => self.pair_priority_with(m.priority, p.remote),
            None => self.compute_pair_priority(p.transport, p.remote),
        };
        if let Some(p) = self.pairs.get_mut(i) {
            p.priority = prio;
        }
    }

    /// Pairs a usable local transport with a remote candidate of the same family.
    pub(super) fn form_pair(&mut self, t: usize, r: usize) -> Option<usize> {
        let lt = self.transports.get(t)?;
        let rc = self.remote_candidates.get(r)?;
        if !lt.usable || lt.addr.is_ipv6() != rc.address.is_ipv6() || rc.address.port() == 0 {
            return None;
        }
        self.find_or_form_pair(t, r)
    }

    /// The pair of `t` and `r`, created if needed (a request that arrived on an excluded
    /// transport still pairs). `None` only at [`MAX_PAIRS`].
    pub(super) fn find_or_form_pair(&mut self, t: usize, r: usize) -> Option<usize> {
        if let Some(p) = self
            .pairs
            .iter()
            .position(|p| p.transport == t && p.remote == r)
        {
            return Some(p);
        }
        if self.pairs.len() >= MAX_PAIRS {
            return None;
        }
        let priority = self.compute_pair_priority(t, r);
        self.pairs.push(Pair {
            transport: t,
            remote: r,
            priority,
            state: PairState::Waiting,
            valid: false,
            nominated: false,
            remote_nominated: false,
            nominate_next: false,
            valid_local: None,
            counters: PairCounters::default(),
        });
        Some(self.pairs.len() - 1)
    }

    pub(super) fn nomination_in_progress(&self) -> bool {
        self.pairs.iter().any(|p| p.nominate_next)
            || self
                .transactions
                .iter()
                .any(|tx| matches!(tx.kind, TxKind::Check { nominate: true, .. }))
    }

    pub(super) fn any_nominated(&self) -> bool {
        self.pairs.iter().any(|p| p.nominated)
    }

    pub(super) fn has_pending_check(&self) -> bool {
        !self.triggered.is_empty()
            || (!self.any_nominated() && self.pairs.iter().any(|p| p.state == PairState::Waiting))
    }

    /// The next check to send: triggered first, then the best waiting pair.
    pub(super) fn next_check(&mut self) -> Option<(usize, bool)> {
        self.remote_creds.as_ref()?;
        while let Some(p) = self.triggered.pop_front() {
            let Some(pair) = self.pairs.get_mut(p) else {
                continue;
            };
            let nominate = std::mem::take(&mut pair.nominate_next);
            return Some((p, nominate));
        }
        if self.any_nominated() {
            return None;
        }
        let best = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.state == PairState::Waiting)
            .max_by_key(|(_, p)| p.priority)
            .map(|(i, _)| i)?;
        Some((best, false))
    }

    pub(super) fn send_check(&mut self, now: Time, p: usize, nominate: bool, consent: bool) {
        let Some(creds) = self.remote_creds.clone() else {
            return;
        };
        let Some(pair) = self.pairs.get(p) else {
            return;
        };
        let (t, r) = (pair.transport, pair.remote);
        let (Some(lt), Some(rc)) = (self.transports.get(t), self.remote_candidates.get(r)) else {
            return;
        };
        let (transport, destination) = (lt.id, rc.address);
        // Cancel an older transaction of the same pair (a newer check supersedes it).
        if !consent {
            self.transactions.retain(
                |tx| !matches!(tx.kind, TxKind::Check { pair, consent: false, .. } if pair == p),
            );
        }
        let username = format!("{}:{}", creds.ufrag, self.sending_local_ufrag());
        let id = self.new_tid();
        let req = stun::BindingRequest {
            transaction_id: id,
            username: &username,
            priority: self.local_priority_for(t, &CandidateKind::PeerReflexive),
            controlling: self.controlling,
            tie_breaker: self.tie_breaker,
            use_candidate: nominate && self.controlling,
        };
        let raw = stun::binding_request(&req, creds.pwd.as_bytes());
        let kind = TxKind::Check {
            pair: p,
            nominate,
            consent,
            sent_controlling: self.controlling,
        };
        let max_sends = if consent {
            // Until the next consent check replaces it (bounded).
            let per = (self.config.initial_rto * 2).as_millis().max(1);
            u32::try_from(self.config.consent_interval.as_millis() / per)
                .unwrap_or(20)
                .clamp(1, 20)
        } else {
            self.config.max_check_transmits
        };
        self.start_transaction(now, id, kind, transport, destination, raw, max_sends);
        if let Some(pair) = self.pairs.get_mut(p) {
            if consent {
                pair.counters.consent_requests_sent += 1;
            } else {
                pair.counters.requests_sent += 1;
            }
        }
        if !consent {
            if let Some(pair) = self.pairs.get_mut(p) {
                if pair.state != PairState::Succeeded {
                    pair.state = PairState::InProgress;
                }
            }
        }
        self.stats.checks_sent += 1;
        if self.checking_since.is_none() {
            self.checking_since = Some(now);
        }
        if self.connection_state == IceConnectionState::New {
            self.set_state(IceConnectionState::Checking);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_transaction(
        &mut self,
        now: Time,
        id: [u8; 12],
        kind: TxKind,
        transport: TransportId,
        destination: SocketAddr,
        raw: Vec<u8>,
        max_sends: u32,
    ) {
        if self.transactions.len() >= MAX_TRANSACTIONS {
            // Drop the oldest consent/check transaction to make room.
            self.transactions.remove(0);
        }
        let rto = match kind {
            TxKind::Check { consent: true, .. } => self.config.initial_rto * 2,
            _ => self.config.initial_rto,
        };
        self.push_transmit(Transmit {
            transport,
            destination,
            data: raw.clone(),
        });
        self.transactions.push(Transaction {
            id,
            kind,
            transport,
            destination,
            raw,
            sends: 1,
            max_sends: max_sends.max(1),
            rto,
            next_at: now + rto,
        });
    }

    pub(super) fn transaction_timed_out(&mut self, now: Time, kind: TxKind) {
        match kind {
            TxKind::Gather { .. } => self.update_gathering(now),
            TxKind::Check { consent: true, .. } => {} // consent: judged by time since last response
            TxKind::Check { pair, .. } => {
                // The selected pair is judged by consent, unless another pair is valid: after
                // an ICE restart the old path is re-checked, and a dead one gives way.
                let other_valid = self.pairs.iter().enumerate().any(|(i, p)| i != pair && p.valid);
                let keep = Some(pair) == self.selected && !other_valid;
                if !keep {
                    self.fail_pair(now, pair);
                }
            }
        }
    }

    pub(super) fn fail_pair(&mut self, now: Time, p: usize) {
        if let Some(pair) = self.pairs.get_mut(p) {
            pair.state = PairState::Failed;
            pair.valid = false;
            pair.nominated = false;
            pair.nominate_next = false;
        }
        if self.selected == Some(p) {
            self.selected = None;
        }
        self.update_selected(now);
    }
}
