//! The I/O thread's timer table: at most one entry per peer.
//!
//! A peer re-arms by replacing its entry; the old deadline is removed at once, not left in
//! the table until it comes due. The table therefore never holds more than
//! [`MAX_TIMER_ENTRIES_PER_PEER`] entries per registered peer, however often a busy peer's
//! deadline moves (a deadline that moves on every `send()` would otherwise leave one stale
//! entry per call, each kept until its time, up to the 30 s of the longest timers).

use std::collections::{BTreeSet, HashMap};

use polyrtc::Time;

/// Identifies one peer inside the addon.
pub type PeerId = u64;

/// The bound on the table: entries per registered peer.
pub const MAX_TIMER_ENTRIES_PER_PEER: usize = 1;

#[derive(Default, Debug)]
pub struct TimerTable {
    /// Ordered by deadline, then peer id: the earliest entry is the first.
    by_deadline: BTreeSet<(Time, PeerId)>,
    /// Each peer's current deadline, to find and replace its entry.
    by_peer: HashMap<PeerId, Time>,
}

impl TimerTable {
    pub fn new() -> TimerTable {
        TimerTable::default()
    }

    /// Sets `peer`'s deadline, replacing the one it had; returns `true` when it became the
    /// earliest one (the I/O thread must then be woken to shorten its sleep).
    pub fn set(&mut self, peer: PeerId, deadline: Time) -> bool {
        self.remove_peer(peer);
        let earliest = self.next_deadline().is_none_or(|d| deadline < d);
        self.by_deadline.insert((deadline, peer));
        self.by_peer.insert(peer, deadline);
        earliest
    }

    pub fn next_deadline(&self) -> Option<Time> {
        self.by_deadline.first().map(|&(d, _)| d)
    }

    /// Removes and returns the peers whose deadline is due at `now`, earliest first.
    pub fn pop_due(&mut self, now: Time) -> Vec<PeerId> {
        let mut due = Vec::new();
        while let Some(&(deadline, peer)) = self.by_deadline.first() {
            if deadline > now {
                break;
            }
            self.by_deadline.pop_first();
            self.by_peer.remove(&peer);
            due.push(peer);
        }
        due
    }

    /// Drops a peer's entry (disarmed or closed).
    pub fn remove_peer(&mut self, peer: PeerId) {
        if let Some(old) = self.by_peer.remove(&peer) {
            self.by_deadline.remove(&(old, peer));
        }
    }

    pub fn len(&self) -> usize {
        self.by_deadline.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_deadline.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Time {
        Time::from_millis(v)
    }

    #[test]
    fn pops_in_deadline_order_and_only_when_due() {
        let mut h = TimerTable::new();
        assert!(h.set(1, ms(30)));
        assert!(h.set(2, ms(10)));
        assert!(!h.set(3, ms(20)));
        assert!(!h.set(4, ms(10)), "equal deadline is not earlier");
        assert_eq!(h.next_deadline(), Some(ms(10)));
        assert!(h.pop_due(ms(9)).is_empty());
        assert_eq!(h.pop_due(ms(20)), vec![2, 4, 3]);
        assert_eq!(h.len(), 1);
        assert_eq!(h.pop_due(Time::MAX), vec![1]);
        assert!(h.is_empty());
        assert_eq!(h.next_deadline(), None);
    }

    #[test]
    fn a_moved_deadline_replaces_the_old_entry() {
        let mut h = TimerTable::new();
        // A busy peer whose deadline moves on every call, and an idle one.
        h.set(8, ms(5_000));
        for i in 0..100_000u64 {
            h.set(7, ms(30_000 + i));
        }
        assert_eq!(h.len(), 2 * MAX_TIMER_ENTRIES_PER_PEER);
        // Moving earlier is reported as the new earliest; the later one is gone.
        assert!(h.set(7, ms(1_000)));
        assert_eq!(h.len(), 2);
        assert_eq!(h.pop_due(ms(1_000)), vec![7]);
        assert_eq!(h.pop_due(Time::MAX), vec![8]);
    }

    #[test]
    fn remove_peer_drops_its_entry_only() {
        let mut h = TimerTable::new();
        h.set(7, ms(10));
        h.set(8, ms(10));
        h.remove_peer(7);
        h.remove_peer(9);
        assert_eq!(h.len(), 1);
        assert_eq!(h.pop_due(Time::MAX), vec![8]);
    }
}
