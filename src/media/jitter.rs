//! A frame-level jitter buffer (receive side): frames out in decode order, waiting a bounded
//! time for the ones a retransmission (RFC 4585 NACK, RFC 4588 RTX) may still repair.
//!
//! A frame assembler emits frames as they complete, so a frame completed by a retransmission
//! comes out after newer ones. A [`JitterBuffer`] takes those frames with the sequence
//! numbers of their first and last packet and releases them in sequence order: a frame goes
//! out once the frame before it (the one whose last packet is right before its first) has
//! gone out, or once waiting for that gap has run out.
//!
//! # Rules
//!
//! * **In order.** Frames are held by their extended first sequence number. The head is
//!   released when its first sequence number is the one after the last released frame's last
//!   (sequence numbers marked with [`JitterBuffer::skip`], padding-only packets, are stepped
//!   over).
//! * **Bounded wait.** A held frame waits at most [`JitterBuffer::wait`] from its arrival.
//!   When any held frame has waited that long, the gaps before it are given up: it and every
//!   frame before it go out in order. With a repair path (`nack` negotiated) the wait is two
//!   round trips plus [`WAIT_MARGIN`] (a NACK, its retransmission, and one retry), with
//!   [`DEFAULT_RTT`] before an RTT is known, clamped to the kind's floor and cap
//!   ([`MIN_VIDEO_WAIT`]..=[`MAX_VIDEO_WAIT`], [`MIN_AUDIO_WAIT`]..=[`MAX_AUDIO_WAIT`]);
//!   without one only the floor (reordering is all that can fill a gap). Both caps stay
//!   under [`MAX_NACK_AGE`](super::MAX_NACK_AGE), after which the NACK generator gives up.
//! * **Audio waits little.** Playout cannot stop for long: a 20 ms Opus frame late by more
//!   than a few frames is better concealed than waited for, so audio's cap is
//!   [`MAX_AUDIO_WAIT`].
//! * **The start.** The first frame goes out at once when it is a key frame (audio frames
//!   always are): nothing before it is needed. A delta frame first waits like a gap, since
//!   the key frame before it may still be repaired.
//! * **Given-up gaps.** Each is counted ([`JitterStats::gaps_given_up`]) and, for the owner,
//!   flagged ([`JitterBuffer::take_gap_given_up`]): video then asks for a key frame, since the
//!   deltas after a lost frame do not decode. Those deltas are still delivered, unmarked: an
//!   SFU forwarding them wants them, and a decoder knows what it cannot decode.
//! * **Late frames.** A frame older than the last released one is dropped and counted
//!   ([`JitterStats::frames_late`]), as a decoder could not take it any more. One far behind
//!   (more than [`MAX_SEQ_BEHIND`]) is a restarted sequence space instead: what is held goes
//!   out and the buffer starts over from it.
//! * **Bounds.** At most [`MAX_JITTER_FRAMES`] frames and [`MAX_JITTER_BYTES`] bytes (the
//!   caller's count of each frame's real size) are held; a frame that does not fit gives up
//!   the gap at the head early (counted in [`JitterStats::bound_releases`]), so nothing is
//!   lost to the bound. At most [`MAX_SKIPPED`] skipped sequence numbers are remembered.
//!
//! Sans-IO: every call takes the time; [`JitterBuffer::poll_timeout`] says when the next held
//! frame's wait ends and [`JitterBuffer::handle_timeout`] releases what is due. Released
//! frames queue for [`JitterBuffer::poll_frame`], which the owner drains after every call.

use super::SeqUnwrapper;
use crate::Time;
use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Most frames held waiting for a gap (about two seconds of 30 fps video; audio waits far
/// less than its frames would fill).
pub const MAX_JITTER_FRAMES: usize = 64;
/// Most bytes of frames held, counted by the caller at each frame's real size: two of the
/// largest frames an assembler emits ([`crate::codec::MAX_FRAME_BYTES`]).
pub const MAX_JITTER_BYTES: usize = 2 * crate::codec::MAX_FRAME_BYTES;
/// Most sequence numbers remembered as skipped (padding-only packets ahead of the released
/// ones); the oldest is forgotten past it.
pub const MAX_SKIPPED: usize = 512;
/// A frame more than this many sequence numbers behind the next expected one is taken as a
/// restart of the sender's sequence space, not as a late frame (an assembler drops packets
/// that far behind unless it restarted too).
pub const MAX_SEQ_BEHIND: u64 = 1024;
/// Least wait for a video gap: reordering on the path, or a quick repair.
pub const MIN_VIDEO_WAIT: Duration = Duration::from_millis(40);
/// Most wait for a video gap; well under [`MAX_NACK_AGE`](super::MAX_NACK_AGE).
pub const MAX_VIDEO_WAIT: Duration = Duration::from_millis(500);
/// Least wait for an audio gap (one 20 ms frame).
pub const MIN_AUDIO_WAIT: Duration = Duration::from_millis(20);
/// Most wait for an audio gap: playout cannot stall longer than a few frames.
pub const MAX_AUDIO_WAIT: Duration = Duration::from_millis(60);
/// Added to two round trips: the NACK's own scheduling and the sender's pacing.
pub const WAIT_MARGIN: Duration = Duration::from_millis(20);
/// The round-trip time assumed before one is measured (a receive-only peer never measures
/// one: RTT comes from report blocks about streams it sends).
pub const DEFAULT_RTT: Duration = Duration::from_millis(100);

/// Counters of a [`JitterBuffer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Frames released, in order.
    pub frames_released: u64,
    /// Frames released after waiting for a gap before them (not immediately on arrival).
    pub frames_waited: u64,
    /// Frames dropped as older than the last released one (or duplicates of a held one).
    pub frames_late: u64,
    /// Gaps (missing sequence numbers before a frame) given up: the wait ran out or a bound
    /// was reached.
    pub gaps_given_up: u64,
    /// Sequence numbers in the given-up gaps.
    pub seqs_given_up: u64,
    /// Gaps given up early because a frame did not fit in the bounds.
    pub bound_releases: u64,
    /// Restarts of the sequence space (a frame far behind).
    pub resets: u64,
}

/// Which floor and cap the wait has.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum JitterKind {
    Audio,
    Video,
}

#[derive(Debug)]
struct Held<T> {
    last: u64,
    arrived: Time,
    bytes: usize,
    keyframe: bool,
    waited: bool,
    item: T,
}

/// Frames in, frames out in sequence order (see the module docs).
#[derive(Debug)]
pub struct JitterBuffer<T> {
    kind: JitterKind,
    repairable: bool,
    rtt: Option<Duration>,
    unwrapper: SeqUnwrapper,
    held: BTreeMap<u64, Held<T>>,
    held_bytes: usize,
    /// The first sequence number expected next (the last released frame's last plus one).
    next: Option<u64>,
    skipped: BTreeSet<u64>,
    out: VecDeque<T>,
    gap_given_up: bool,
    stats: JitterStats,
}

impl<T> JitterBuffer<T> {
    /// `repairable`: lost packets are asked for again (NACK negotiated), so a gap is worth
    /// waiting round trips for.
    pub fn new(kind: JitterKind, repairable: bool) -> Self {
        JitterBuffer {
            kind,
            repairable,
            rtt: None,
            unwrapper: SeqUnwrapper::new(),
            held: BTreeMap::new(),
            held_bytes: 0,
            next: None,
            skipped: BTreeSet::new(),
            out: VecDeque::new(),
            gap_given_up: false,
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Frames held waiting.
    pub fn held_frames(&self) -> usize {
        self.held.len()
    }

    /// Bytes of the frames held waiting.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// The latest round-trip estimate (`None`: not measured, [`DEFAULT_RTT`] is used).
    pub fn set_rtt(&mut self, rtt: Option<Duration>) {
        self.rtt = rtt.filter(|r| !r.is_zero());
    }

    /// How long a held frame may wait for the gap before it.
    pub fn wait(&self) -> Duration {
        let (floor, cap) = match self.kind {
            JitterKind::Audio => (MIN_AUDIO_WAIT, MAX_AUDIO_WAIT),
            JitterKind::Video => (MIN_VIDEO_WAIT, MAX_VIDEO_WAIT),
        };
        if !self.repairable {
            return floor;
        }
        let rtt = self.rtt.unwrap_or(DEFAULT_RTT);
        rtt.saturating_mul(2)
            .saturating_add(WAIT_MARGIN)
            .clamp(floor, cap)
    }

    /// Whether a gap was given up since the last call (video: ask for a key frame).
    pub fn take_gap_given_up(&mut self) -> bool {
        core::mem::take(&mut self.gap_given_up)
    }

    /// The next released frame, in sequence order.
    pub fn poll_frame(&mut self) -> Option<T> {
        self.out.pop_front()
    }

    /// The first sequence number expected next (16 bits), once a frame was released.
    pub fn next_seq(&self) -> Option<u16> {
        self.next.map(super::low16)
    }

    /// When the next held frame's wait runs out.
    pub fn poll_timeout(&self) -> Option<Time> {
        let wait = self.wait();
        self.held.values().map(|h| h.arrived + wait).min()
    }

    /// Releases what has waited long enough.
    pub fn handle_timeout(&mut self, now: Time) {
        self.release(now);
    }

    /// Sequence number `seq` carries no frame (a padding-only packet): a gap over it is no
    /// gap.
    pub fn skip(&mut self, seq: u16) {
        let ext = self.unwrapper.peek(seq);
        if self.next.is_some_and(|n| ext < n) || self.held.contains_key(&ext) {
            return;
        }
        self.skipped.insert(ext);
        while self.skipped.len() > MAX_SKIPPED {
            self.skipped.pop_first();
        }
    }

    /// A frame out of the assembler: its first and last packet's sequence numbers, whether
    /// it is a key frame, its size in bytes, and the frame. It goes out now or later through
    /// [`poll_frame`](Self::poll_frame), or is dropped as late (counted).
    pub fn push(
        &mut self,
        now: Time,
        first_seq: u16,
        last_seq: u16,
        keyframe: bool,
        bytes: usize,
        item: T,
    ) {
        let mut first = self.unwrapper.peek(first_seq);
        if let Some(next) = self.next {
            if first < next {
                if first + MAX_SEQ_BEHIND < next {
                    // The sender restarted its sequence numbers: out with the old, start anew.
                    self.flush();
                    self.stats.resets += 1;
                    self.next = None;
                    self.skipped.clear();
                    self.unwrapper = SeqUnwrapper::new();
                    first = self.unwrapper.peek(first_seq);
                } else {
                    self.stats.frames_late += 1;
                    return;
                }
            }
        }
        if self.held.contains_key(&first) {
            self.stats.frames_late += 1;
            return;
        }
        self.unwrapper.unwrap(first_seq);
        let last = first + u64::from(last_seq.wrapping_sub(first_seq));
        while !self.held.is_empty()
            && (self.held.len() >= MAX_JITTER_FRAMES
                || self.held_bytes.saturating_add(bytes) > MAX_JITTER_BYTES)
        {
            self.stats.bound_releases += 1;
            self.release_head();
        }
        if bytes > MAX_JITTER_BYTES {
            // Larger than the whole buffer (the caller's frames never are): not held.
            self.stats.frames_late += 1;
            return;
        }
        if self.next.is_some_and(|n| first < n) {
            // The early releases above passed it.
            self.stats.frames_late += 1;
            return;
        }
        self.held_bytes += bytes;
        self.held.insert(
            first,
            Held {
                last,
                arrived: now,
                bytes,
                keyframe,
                waited: false,
                item,
            },
        );
        self.release(now);
    }

    /// Releases every held frame in order, giving up the gaps between them (the stream
    /// restarted or ended).
    pub fn flush(&mut self) {
        while !self.held.is_empty() {
            self.release_head();
        }
    }

    /// Steps `next` over skipped sequence numbers no held frame starts at.
    fn step_over_skipped(&mut self) {
        let Some(mut next) = self.next else { return };
        while self.skipped.first().is_some_and(|&s| s < next) {
            self.skipped.pop_first();
        }
        while !self.held.contains_key(&next) && self.skipped.remove(&next) {
            next += 1;
        }
        self.next = Some(next);
    }

    /// Releases the head frame, whatever gap is before it (counted as given up).
    fn release_head(&mut self) {
        let Some((first, h)) = self.held.pop_first() else {
            return;
        };
        if let Some(next) = self.next {
            if first > next {
                self.stats.gaps_given_up += 1;
                self.stats.seqs_given_up += first - next;
                self.gap_given_up = true;
            }
        }
        self.emit(h);
    }

    fn emit(&mut self, h: Held<T>) {
        self.held_bytes = self.held_bytes.saturating_sub(h.bytes);
        self.next = Some(self.next.map_or(h.last + 1, |n| n.max(h.last + 1)));
        self.stats.frames_released += 1;
        self.stats.frames_waited += u64::from(h.waited);
        // One call releases at most what is held and the frame it brought; the owner drains
        // after each call, so this bound only guards an owner that does not.
        if self.out.len() >= 2 * MAX_JITTER_FRAMES {
            self.out.pop_front();
            self.stats.frames_late += 1;
        }
        self.out.push_back(h.item);
    }

    fn release(&mut self, now: Time) {
        let wait = self.wait();
        loop {
            self.step_over_skipped();
            let Some((&first, head)) = self.held.first_key_value() else {
                return;
            };
            let in_order = match self.next {
                Some(next) => first <= next,
                None => head.keyframe,
            };
            if in_order {
                if let Some((_, h)) = self.held.pop_first() {
                    self.emit(h);
                }
                continue;
            }
            // A gap before the head: it goes once any held frame has waited the whole wait.
            let expired = self.held.values().any(|h| h.arrived + wait <= now);
            if !expired {
                for h in self.held.values_mut() {
                    h.waited = true;
                }
                return;
            }
            self.release_head();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn at(ms: u64) -> Time {
        Time::from_millis(ms)
    }

    fn video() -> JitterBuffer<u32> {
        JitterBuffer::new(JitterKind::Video, true)
    }

    fn drain(j: &mut JitterBuffer<u32>) -> Vec<u32> {
        core::iter::from_fn(|| j.poll_frame()).collect()
    }

    /// Frame `n` of `packets` packets each, numbered from `base`.
    fn push_frame(j: &mut JitterBuffer<u32>, now: Time, base: u16, n: u16, packets: u16) {
        let first = base.wrapping_add(n * packets);
        j.push(
            now,
            first,
            first.wrapping_add(packets - 1),
            n == 0,
            100,
            u32::from(n),
        );
    }

    #[test]
    fn in_order_frames_go_out_at_once() {
        let mut j = video();
        for n in 0..5 {
            push_frame(&mut j, at(n.into()), 100, n, 3);
            assert_eq!(drain(&mut j), [u32::from(n)]);
        }
        assert_eq!(j.poll_timeout(), None);
        assert_eq!(j.stats().frames_released, 5);
        assert_eq!(j.held_frames(), 0);
        assert_eq!(j.held_bytes(), 0);
    }

    #[test]
    fn reordered_frames_are_put_back_in_order_when_the_gap_fills() {
        let mut j = video();
        push_frame(&mut j, at(0), 0, 0, 2);
        push_frame(&mut j, at(1), 0, 2, 2);
        push_frame(&mut j, at(2), 0, 3, 2);
        assert_eq!(drain(&mut j), [0], "1 is missing: 2 and 3 wait");
        assert_eq!(j.held_frames(), 2);
        assert_eq!(j.held_bytes(), 200);
        assert_eq!(j.poll_timeout(), Some(at(1) + j.wait()));
        j.handle_timeout(at(30));
        assert!(drain(&mut j).is_empty(), "still within the wait");
        push_frame(&mut j, at(30), 0, 1, 2);
        assert_eq!(drain(&mut j), [1, 2, 3]);
        let s = j.stats();
        assert_eq!((s.frames_waited, s.gaps_given_up, s.frames_late), (2, 0, 0));
        assert!(!j.take_gap_given_up());
    }

    #[test]
    fn a_gap_is_given_up_after_the_wait_and_the_rest_goes_out_in_order() {
        let mut j = video();
        j.set_rtt(Some(50 * MS));
        assert_eq!(j.wait(), 120 * MS, "two round trips and the margin");
        push_frame(&mut j, at(0), 0, 0, 1);
        push_frame(&mut j, at(10), 0, 2, 1);
        push_frame(&mut j, at(20), 0, 4, 1);
        push_frame(&mut j, at(25), 0, 5, 1);
        assert_eq!(drain(&mut j), [0]);
        let deadline = j.poll_timeout().unwrap();
        assert_eq!(deadline, at(130));
        j.handle_timeout(deadline - MS);
        assert!(drain(&mut j).is_empty());
        j.handle_timeout(deadline);
        // Frame 2 waited long enough; 4 has not, and 3 may still come.
        assert_eq!(drain(&mut j), [2]);
        assert!(j.take_gap_given_up());
        assert!(!j.take_gap_given_up(), "the flag is taken once");
        assert_eq!(j.poll_timeout(), Some(at(140)));
        push_frame(&mut j, at(135), 0, 3, 1);
        assert_eq!(drain(&mut j), [3, 4, 5]);
        // Frame 1 comes now: older than what went out, dropped.
        push_frame(&mut j, at(150), 0, 1, 1);
        assert!(drain(&mut j).is_empty());
        let s = j.stats();
        assert_eq!((s.gaps_given_up, s.seqs_given_up, s.frames_late), (1, 1, 1));
        assert_eq!(s.frames_released, 5);
    }

    #[test]
    fn the_wait_follows_the_rtt_within_its_floor_and_cap() {
        let mut j = video();
        assert_eq!(j.wait(), 2 * DEFAULT_RTT + WAIT_MARGIN, "no RTT yet");
        j.set_rtt(Some(MS));
        assert_eq!(j.wait(), MIN_VIDEO_WAIT);
        j.set_rtt(Some(Duration::from_secs(2)));
        assert_eq!(j.wait(), MAX_VIDEO_WAIT);
        assert!(MAX_VIDEO_WAIT < super::super::MAX_NACK_AGE);
        let mut a: JitterBuffer<u32> = JitterBuffer::new(JitterKind::Audio, true);
        a.set_rtt(Some(Duration::from_secs(1)));
        assert_eq!(a.wait(), MAX_AUDIO_WAIT);
        let a: JitterBuffer<u32> = JitterBuffer::new(JitterKind::Audio, false);
        assert_eq!(a.wait(), MIN_AUDIO_WAIT, "nothing repairs: only reordering");
    }

    #[test]
    fn audio_gives_up_a_gap_quickly() {
        let mut j: JitterBuffer<u32> = JitterBuffer::new(JitterKind::Audio, false);
        j.push(at(0), 10, 10, true, 60, 10);
        assert_eq!(drain(&mut j), [10]);
        j.push(at(20), 12, 12, true, 60, 12);
        assert!(drain(&mut j).is_empty());
        j.handle_timeout(at(39));
        assert!(drain(&mut j).is_empty());
        j.handle_timeout(at(40));
        assert_eq!(drain(&mut j), [12], "12 waited its 20 ms");
        j.push(at(41), 13, 13, true, 60, 13);
        assert_eq!(drain(&mut j), [13]);
        assert_eq!(j.stats().gaps_given_up, 1);
    }

    #[test]
    fn a_delta_frame_first_waits_for_the_key_frame_before_it() {
        let mut j = video();
        j.push(at(0), 10, 11, false, 100, 2);
        assert!(
            drain(&mut j).is_empty(),
            "a key frame before it may still come"
        );
        j.push(at(5), 5, 9, true, 100, 1);
        assert_eq!(drain(&mut j), [1, 2]);
        // Alone, a delta frame goes out after the wait, without a gap counted.
        let mut j = video();
        j.push(at(0), 10, 11, false, 100, 2);
        j.handle_timeout(j.poll_timeout().unwrap());
        assert_eq!(drain(&mut j), [2]);
        assert_eq!(j.stats().gaps_given_up, 0);
    }

    #[test]
    fn padding_sequence_numbers_are_no_gap() {
        let mut j = video();
        j.push(at(0), 0, 1, true, 100, 0);
        j.skip(2);
        j.skip(3);
        j.push(at(1), 4, 4, false, 100, 1);
        assert_eq!(drain(&mut j), [0, 1]);
        // Skipped before the frame ahead of it is known to be missing, as well.
        j.push(at(2), 7, 7, false, 100, 3);
        j.skip(6);
        assert!(drain(&mut j).is_empty());
        j.push(at(3), 5, 5, false, 100, 2);
        assert_eq!(drain(&mut j), [2, 3]);
        // Old skips do not pile up.
        for s in 0..2000u16 {
            j.skip(s.wrapping_add(100));
        }
        assert!(j.skipped.len() <= MAX_SKIPPED);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut j = video();
        push_frame(&mut j, at(0), 65530, 0, 3); // 65530..=65532
        push_frame(&mut j, at(1), 65530, 2, 3); // 0..=2
        push_frame(&mut j, at(2), 65530, 3, 3); // 3..=5
        assert_eq!(drain(&mut j), [0]);
        push_frame(&mut j, at(3), 65530, 1, 3); // 65533..=65535
        assert_eq!(drain(&mut j), [1, 2, 3]);
        assert_eq!(j.next_seq(), Some(6));
        // A frame just before the wrap is late, not a restart.
        j.push(at(4), 65535, 65535, false, 10, 9);
        assert!(drain(&mut j).is_empty());
        assert_eq!((j.stats().frames_late, j.stats().resets), (1, 0));
    }

    #[test]
    fn a_frame_far_behind_restarts_the_sequence_space() {
        let mut j = video();
        push_frame(&mut j, at(0), 30_000, 0, 1);
        push_frame(&mut j, at(1), 30_000, 2, 1);
        assert_eq!(drain(&mut j), [0]);
        j.push(at(2), 100, 100, true, 10, 7);
        assert_eq!(
            drain(&mut j),
            [2, 7],
            "the held frame first, then the new start"
        );
        j.push(at(3), 101, 101, false, 10, 8);
        assert_eq!(drain(&mut j), [8]);
        assert_eq!(j.stats().resets, 1);
    }

    #[test]
    fn the_frame_bound_releases_early_in_order() {
        let mut j = video();
        push_frame(&mut j, at(0), 0, 0, 1);
        // Frame 1 is missing; the rest piles up to the bound.
        let n = u16::try_from(MAX_JITTER_FRAMES).unwrap();
        let mut out = drain(&mut j);
        for k in 2..=n + 2 {
            push_frame(&mut j, at(1), 0, k, 1);
            assert!(j.held_frames() <= MAX_JITTER_FRAMES);
            out.extend(drain(&mut j));
        }
        assert_eq!(out.first(), Some(&0));
        assert!(out.windows(2).all(|w| w[0] < w[1]), "{out:?}");
        assert_eq!(out.len() + j.held_frames(), usize::from(n) + 2, "none lost");
        let s = j.stats();
        assert!(s.bound_releases >= 1 && s.gaps_given_up == 1, "{s:?}");
    }

    #[test]
    fn the_byte_bound_counts_real_sizes() {
        let mut j = video();
        j.push(at(0), 0, 0, true, 10, 0);
        let big = MAX_JITTER_BYTES / 2;
        j.push(at(1), 2, 2, false, big, 2);
        j.push(at(1), 3, 3, false, big, 3);
        assert_eq!(j.held_bytes(), 2 * big);
        assert_eq!(drain(&mut j), [0]);
        j.push(at(2), 4, 4, false, 1, 4);
        assert!(j.held_bytes() <= MAX_JITTER_BYTES);
        assert_eq!(
            drain(&mut j),
            [2, 3, 4],
            "the head went early to make room, the rest follows"
        );
        assert_eq!(j.stats().bound_releases, 1);
        // Larger than the whole buffer: never held.
        j.push(at(3), 9, 9, false, MAX_JITTER_BYTES + 1, 9);
        assert!(j.held_bytes() <= MAX_JITTER_BYTES);
    }

    /// Frames of a shuffled, lossy stream with padding, across the wrap: whatever comes in,
    /// what goes out is in strictly increasing sequence order, within the bounds, each frame
    /// at most once, every frame out by the end, and every held frame within its wait.
    #[test]
    fn random_streams_keep_the_invariants() {
        for seed in 0..40u64 {
            let mut rng = crate::crypto::Rng::seeded(seed);
            let mut j = video();
            j.set_rtt(Some(Duration::from_millis(rng.below(300))));
            // Frames of 1..=4 packets, some sequence numbers padding, starting near the wrap.
            let mut seq = 65_000u16.wrapping_add(rng.below(1000) as u16);
            let mut frames = Vec::new();
            for n in 0..300u32 {
                if rng.below(10) == 0 {
                    frames.push((seq, seq, None));
                    seq = seq.wrapping_add(1);
                }
                let len = 1 + rng.below(4) as u16;
                frames.push((seq, seq.wrapping_add(len - 1), Some(n)));
                seq = seq.wrapping_add(len);
            }
            // Displace each by up to 8 places; lose one in 20.
            let mut order: Vec<(u64, usize)> = (0..frames.len())
                .map(|i| (i as u64 + rng.below(9), i))
                .collect();
            order.sort();
            let mut now = at(0);
            let mut out: Vec<u32> = Vec::new();
            let mut sent = Vec::new();
            for (_, i) in order {
                now += Duration::from_millis(rng.below(20));
                j.handle_timeout(now);
                let (first, last, n) = frames[i];
                match n {
                    None => j.skip(first),
                    Some(_) if rng.below(20) == 0 => {}
                    Some(n) => {
                        sent.push(n);
                        j.push(now, first, last, n == 0, 1 + rng.below(5000) as usize, n);
                    }
                }
                assert!(j.held_frames() <= MAX_JITTER_FRAMES);
                assert!(j.held_bytes() <= MAX_JITTER_BYTES);
                if let Some(t) = j.poll_timeout() {
                    assert!(t <= now + j.wait(), "seed {seed}");
                }
                out.extend(drain(&mut j));
            }
            j.handle_timeout(now + MAX_VIDEO_WAIT);
            out.extend(drain(&mut j));
            assert!(out.windows(2).all(|w| w[0] < w[1]), "seed {seed}: {out:?}");
            assert_eq!(j.held_frames(), 0, "seed {seed}");
            let s = j.stats();
            assert_eq!(out.len() as u64, s.frames_released, "seed {seed}");
            assert_eq!(
                sent.len() as u64,
                s.frames_released + s.frames_late,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn duplicates_and_flush() {
        let mut j = video();
        j.push(at(0), 0, 0, true, 10, 0);
        j.push(at(1), 2, 2, false, 10, 2);
        j.push(at(1), 2, 2, false, 10, 2);
        j.push(at(1), 0, 0, true, 10, 0);
        assert_eq!(j.stats().frames_late, 2);
        j.flush();
        assert_eq!(drain(&mut j), [0, 2]);
        assert_eq!(j.poll_timeout(), None);
    }
}
