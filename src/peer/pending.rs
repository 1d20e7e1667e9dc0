//! ICE servers (STUN or TURN) whose host names the host is still resolving. The host says
//! it expects one ([`super::Peer::expect_ice_server`]), resolves the name its own way, and
//! then configures the server (a STUN address, a relay) and settles it, or reports that the
//! name did not resolve. Gathering waits for every expected server, up to its deadline; one
//! that neither settles nor fails within [`ICE_SERVER_RESOLVE_TIMEOUT`] fails by itself.
//! Failures are W3C `icecandidateerror`s (701), reported once gathering runs.

use core::time::Duration;

use crate::time::Time;

/// How long the host may take to resolve an ICE server's name before the server is given up
/// (701 "timed out"). Below the gathering deadline, so that a server resolved just in time
/// can still answer within the same gathering phase.
pub const ICE_SERVER_RESOLVE_TIMEOUT: Duration = Duration::from_secs(4);

/// Servers being resolved at once, per peer (one per configured URL: the W3C configuration
/// is not bounded, but the host bounds what it resolves to this).
pub const MAX_PENDING_ICE_SERVERS: usize = 32;

/// Which kind of server a pending entry is: `setConfiguration()` replaces STUN servers, so
/// pending STUN lookups of the old configuration are dropped then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IceServerKind {
    Stun,
    Turn,
}

#[derive(Debug)]
struct Entry {
    token: u32,
    kind: IceServerKind,
    url: String,
    deadline: Time,
    /// Failed (the text says why): waiting to be reported while gathering has not started.
    failed: Option<String>,
}

/// The expected servers of one peer.
#[derive(Debug, Default)]
pub(super) struct PendingServers {
    entries: Vec<Entry>,
    next_token: u32,
}

impl PendingServers {
    /// A new pending server; `None` when [`MAX_PENDING_ICE_SERVERS`] are pending.
    pub fn add(&mut self, now: Time, kind: IceServerKind, url: &str) -> Option<u32> {
        if self.entries.len() >= MAX_PENDING_ICE_SERVERS {
            return None;
        }
        self.next_token = self.next_token.wrapping_add(1);
        let token = self.next_token;
        self.entries.push(Entry {
            token,
            kind,
            url: url.to_string(),
            deadline: now + ICE_SERVER_RESOLVE_TIMEOUT,
            failed: None,
        });
        Some(token)
    }

    /// Still waiting for the host (neither settled, failed nor timed out).
    pub fn is_pending(&self, token: u32) -> bool {
        self.entries.iter().any(|e| e.token == token && e.failed.is_none())
    }

    /// Servers gathering waits for.
    pub fn waiting(&self) -> usize {
        self.entries.iter().filter(|e| e.failed.is_none()).count()
    }

    /// The host configured the server: forgotten. False if it was no longer pending.
    pub fn settle(&mut self, token: u32) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| !(e.token == token && e.failed.is_none()));
        self.entries.len() != before
    }

    /// The server's name did not resolve: to be reported. False if it was no longer pending.
    pub fn fail(&mut self, token: u32, text: &str) -> bool {
        match self.entries.iter_mut().find(|e| e.token == token && e.failed.is_none()) {
            Some(e) => {
                e.failed = Some(text.to_string());
                true
            }
            None => false,
        }
    }

    /// Fails every server whose deadline passed; true if any did.
    pub fn handle_timeout(&mut self, now: Time) -> bool {
        let mut any = false;
        for e in self.entries.iter_mut().filter(|e| e.failed.is_none() && now >= e.deadline) {
            e.failed = Some(format!("timed out resolving the host name of {}", e.url));
            any = true;
        }
        any
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        self.entries.iter().filter(|e| e.failed.is_none()).map(|e| e.deadline).min()
    }

    /// Drops the pending STUN servers (a new configuration replaced them), failed or not.
    pub fn cancel_stun(&mut self) {
        self.entries.retain(|e| e.kind != IceServerKind::Stun);
    }

    /// The failed servers, as (url, text), removed.
    pub fn take_failed(&mut self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.entries.retain_mut(|e| match e.failed.take() {
            Some(text) => {
                out.push((core::mem::take(&mut e.url), text));
                false
            }
            None => true,
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_pending_until_settled_failed_or_timed_out() {
        let t0 = Time::ZERO;
        let mut p = PendingServers::default();
        let a = p.add(t0, IceServerKind::Turn, "turn:a.example:3478").unwrap();
        let b = p.add(t0, IceServerKind::Stun, "stun:b.example:3478").unwrap();
        let c = p.add(t0 + Duration::from_secs(1), IceServerKind::Turn, "turn:c.example:3478").unwrap();
        assert_eq!(p.waiting(), 3);
        assert!(p.settle(a));
        assert!(!p.settle(a), "settled twice");
        assert!(!p.is_pending(a));
        assert!(p.fail(b, "no such name"));
        assert!(!p.fail(b, "again"));
        assert_eq!(p.waiting(), 1);
        assert_eq!(p.poll_timeout(), Some(t0 + Duration::from_secs(1) + ICE_SERVER_RESOLVE_TIMEOUT));
        assert!(!p.handle_timeout(t0 + ICE_SERVER_RESOLVE_TIMEOUT));
        assert!(p.handle_timeout(t0 + Duration::from_secs(1) + ICE_SERVER_RESOLVE_TIMEOUT));
        assert!(!p.is_pending(c), "a timed-out server is no longer pending: its late answer is dropped");
        assert_eq!(p.poll_timeout(), None);
        let failed = p.take_failed();
        assert_eq!(failed.len(), 2);
        assert_eq!(failed[0], ("stun:b.example:3478".to_string(), "no such name".to_string()));
        assert!(failed[1].1.contains("timed out") && failed[1].0 == "turn:c.example:3478");
        assert!(p.take_failed().is_empty());
    }

    #[test]
    fn pending_servers_are_bounded_and_stun_ones_cancelled_by_a_new_configuration() {
        let mut p = PendingServers::default();
        for i in 0..MAX_PENDING_ICE_SERVERS {
            let kind = if i % 2 == 0 { IceServerKind::Stun } else { IceServerKind::Turn };
            assert!(p.add(Time::ZERO, kind, "stun:x.example").is_some());
        }
        assert!(p.add(Time::ZERO, IceServerKind::Turn, "turn:y.example").is_none());
        p.cancel_stun();
        assert_eq!(p.waiting(), MAX_PENDING_ICE_SERVERS / 2);
    }
}
