//! Nomination, pair selection, consent freshness (RFC 7675) and the connection state.

use core::time::Duration;

use super::*;

impl IceAgent {
    /// Controlling side: nominate the best valid pair once no better pair is pending or
    /// `nomination_delay` after the first success (RFC 8445 §8.1.1, browser style).
    pub(super) fn update_nomination(&mut self, now: Time) {
        if !self.controlling || self.any_nominated() || self.remote_creds.is_none() {
            return;
        }
        if self.nomination_in_progress() {
            return;
        }
        let Some(best) = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.valid)
            .max_by_key(|(_, p)| p.priority)
            .map(|(i, p)| (i, p.priority))
        else {
            return;
        };
        let better_pending = self.pairs.iter().any(|p| {
            p.priority > best.1 && matches!(p.state, PairState::Waiting | PairState::InProgress)
        });
        let waited = self
            .first_valid_at
            .is_some_and(|v| now >= v + self.config.nomination_delay);
        if !better_pending || waited {
            if let Some(p) = self.pairs.get_mut(best.0) {
                p.nominate_next = true;
            }
            // Nomination goes first.
            self.triggered.retain(|&x| x != best.0);
            self.triggered.push_front(best.0);
        }
    }

    /// Selected pair: the best nominated pair, else the best valid pair.
    pub(super) fn update_selected(&mut self, now: Time) {
        let pick = |nominated: bool| {
            self.pairs
                .iter()
                .enumerate()
                .filter(|(_, p)| p.valid && (!nominated || p.nominated))
                .max_by_key(|(_, p)| p.priority)
                .map(|(i, _)| i)
        };
        let current_nominated = self
            .selected
            .and_then(|s| self.pairs.get(s))
            .is_some_and(|p| p.nominated);
        let choice = match pick(true) {
            Some(n) => Some(n),
            None if current_nominated => self.selected,
            None => pick(false),
        };
        if choice != self.selected {
            self.selected = choice;
            if let Some((transport, remote)) = self.selected_pair() {
                // Only a pair that just proved valid gets selected: consent is fresh.
                self.last_consent = now;
                self.schedule_consent(now);
                self.push_event(IceEvent::SelectedPairChanged { transport, remote });
            }
        }
        if self.selected.is_some()
            && matches!(
                self.connection_state,
                IceConnectionState::New | IceConnectionState::Checking
            )
        {
            let s = self.connected_state();
            self.set_state(s);
        }
        self.update_completed();
    }

    /// W3C webrtc-pc `RTCIceTransportState` "completed": gathering finished, the peer said
    /// it has no more candidates (RFC 8838 end-of-candidates), and checking is over with a
    /// connection found: the selected pair is nominated (RFC 8445 §8.1.2: nomination ends
    /// the checks of the component; the one component carries everything, BUNDLE and
    /// rtcp-mux). Otherwise a working connection is "connected".
    pub(super) fn connected_state(&self) -> IceConnectionState {
        let nominated = self
            .selected
            .and_then(|s| self.pairs.get(s))
            .is_some_and(|p| p.nominated && p.valid);
        if nominated
            && self.gathering_state == IceGatheringState::Complete
            && self.remote_end_of_candidates
        {
            IceConnectionState::Completed
        } else {
            IceConnectionState::Connected
        }
    }

    /// Moves between "connected" and "completed" as [`IceAgent::connected_state`] says
    /// (both ways: a restart or a new remote candidate goes back to "connected").
    pub(super) fn update_completed(&mut self) {
        if matches!(
            self.connection_state,
            IceConnectionState::Connected | IceConnectionState::Completed
        ) {
            let s = self.connected_state();
            self.set_state(s);
        }
    }

    pub(super) fn schedule_consent(&mut self, now: Time) {
        let base = self.config.consent_interval;
        let interval = if self.connection_state == IceConnectionState::Disconnected {
            // Probe faster while disconnected so recovery is quick.
            base / 5
        } else {
            base
        };
        // RFC 7675 §5.1: randomized 0.8..1.2 of the interval.
        let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        let jitter = self.rng.below(ms.saturating_mul(4) / 10 + 1);
        self.next_consent = now + Duration::from_millis(ms.saturating_mul(8) / 10 + jitter);
    }

    /// RFC 7675: periodic checks on the selected pair; no answer means disconnected, then failed.
    pub(super) fn update_consent(&mut self, now: Time) {
        let Some(sel) = self.selected else { return };
        // A lite agent sends no consent checks: the peer's keep arriving (handle_request).
        if !self.config.lite && now >= self.next_consent {
            self.transactions
                .retain(|tx| !matches!(tx.kind, TxKind::Check { consent: true, .. }));
            self.send_check(now, sel, false, true);
            self.schedule_consent(now);
        }
        let silent = now - self.last_consent;
        match self.connection_state {
            IceConnectionState::Connected | IceConnectionState::Completed
                if silent >= self.config.disconnected_timeout =>
            {
                self.set_state(IceConnectionState::Disconnected);
                self.schedule_consent(now);
            }
            IceConnectionState::Disconnected if silent >= self.config.consent_timeout => {
                self.transactions.clear();
                self.triggered.clear();
                self.set_state(IceConnectionState::Failed);
            }
            IceConnectionState::Disconnected if silent < self.config.disconnected_timeout => {
                let s = self.connected_state();
                self.set_state(s);
            }
            _ => {}
        }
    }

    /// Overall failure: every pair failed and the peer sent end-of-candidates, or no pair
    /// became valid within `failed_timeout`.
    pub(super) fn update_state(&mut self, now: Time) {
        if self.is_closed() || self.connection_state == IceConnectionState::Failed {
            return;
        }
        if self.connection_state == IceConnectionState::Disconnected
            && now - self.last_consent < self.config.disconnected_timeout
        {
            let s = self.connected_state();
            self.set_state(s);
        }
        if self.selected.is_some() {
            self.update_completed();
            return;
        }
        let all_failed = !self.pairs.is_empty()
            && self.pairs.iter().all(|p| p.state == PairState::Failed)
            && self.triggered.is_empty();
        let timed_out = match self.first_valid_at {
            None => self
                .checking_since
                .is_some_and(|s| now >= s + self.config.failed_timeout),
            Some(_) => now >= self.last_consent + self.config.consent_timeout,
        };
        if (all_failed && self.remote_end_of_candidates) || timed_out {
            self.transactions
                .retain(|tx| matches!(tx.kind, TxKind::Gather { .. }));
            self.set_state(IceConnectionState::Failed);
        } else if matches!(
            self.connection_state,
            IceConnectionState::Connected | IceConnectionState::Completed
        ) {
            // The selected pair failed and nothing else is valid.
            self.set_state(IceConnectionState::Disconnected);
        }
    }
}
