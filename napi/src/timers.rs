//! The I/O thread's timer heap: one entry per (deadline, peer, generation).
//!
//! A peer re-arms by bumping its generation and pushing a new entry; an entry whose
//! generation is no longer the peer's current one is stale and skipped when it pops
//! (an early `handle_timeout` is harmless anyway, the generation only saves work).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use polyrtc::Time;

/// Identifies one peer inside the addon.
pub type PeerId = u64;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerEntry {
    pub deadline: Time,
    pub peer: PeerId,
    pub generation: u64,
}

#[derive(Default, Debug)]
pub struct TimerHeap {
    heap: BinaryHeap<Reverse<TimerEntry>>,
}

impl TimerHeap {
    pub fn new() -> TimerHeap {
        TimerHeap::default()
    }

    /// Adds an entry; returns `true` when it became the earliest one (the I/O thread must
    /// then be woken to shorten its sleep).
    pub fn push(&mut self, entry: TimerEntry) -> bool {
        let earliest = self.next_deadline().is_none_or(|d| entry.deadline < d);
        self.heap.push(Reverse(entry));
        earliest
    }

    pub fn next_deadline(&self) -> Option<Time> {
        self.heap.peek().map(|Reverse(e)| e.deadline)
    }

    /// Removes and returns every entry due at `now`, earliest first.
    pub fn pop_due(&mut self, now: Time) -> Vec<TimerEntry> {
        let mut due = Vec::new();
        while let Some(Reverse(e)) = self.heap.peek() {
            if e.deadline > now {
                break;
            }
            due.push(*e);
            self.heap.pop();
        }
        due
    }

    /// Drops every entry of a peer (on close).
    pub fn remove_peer(&mut self, peer: PeerId) {
        self.heap.retain(|Reverse(e)| e.peer != peer);
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(ms: u64, peer: PeerId, generation: u64) -> TimerEntry {
        TimerEntry { deadline: Time::from_millis(ms), peer, generation }
    }

    #[test]
    fn pops_in_deadline_order_and_only_when_due() {
        let mut h = TimerHeap::new();
        assert!(h.push(e(30, 1, 0)));
        assert!(h.push(e(10, 2, 0)));
        assert!(!h.push(e(20, 3, 0)));
        assert!(!h.push(e(10, 4, 0)), "equal deadline is not earlier");
        assert_eq!(h.next_deadline(), Some(Time::from_millis(10)));
        assert!(h.pop_due(Time::from_millis(9)).is_empty());
        let due = h.pop_due(Time::from_millis(20));
        let peers: Vec<PeerId> = due.iter().map(|e| e.peer).collect();
        assert_eq!(peers, vec![2, 4, 3]);
        assert_eq!(h.len(), 1);
        assert_eq!(h.pop_due(Time::MAX).len(), 1);
        assert!(h.is_empty());
        assert_eq!(h.next_deadline(), None);
    }

    #[test]
    fn remove_peer_drops_all_its_entries() {
        let mut h = TimerHeap::new();
        for g in 0..5 {
            h.push(e(10 + g, 7, g));
            h.push(e(10 + g, 8, g));
        }
        h.remove_peer(7);
        assert_eq!(h.len(), 5);
        assert!(h.pop_due(Time::MAX).iter().all(|e| e.peer == 8));
    }
}
