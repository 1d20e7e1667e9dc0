//! Video frame assembly over a lossy, reordering network.
//!
//! A [`FrameAssembler`] keeps the packets of each pending frame (keyed by RTP timestamp) by
//! extended sequence number. A frame is complete when it has a packet ending it (the marker,
//! or any packet for audio), every sequence number from a first packet up to that one, and
//! that first packet is known to start the frame: the payload format says so
//! ([`PacketInfo::starts_frame`]), or the packet before it belongs to another frame. The
//! complete frame's payloads then go, in order, through the depacketizer, and the frame is
//! queued for [`FrameAssembler::poll_frame`]. Frames come out as they complete, so a frame
//! completed by a retransmission may come out after a newer one (compare timestamps); the
//! peer puts them back in order with a [`crate::media::JitterBuffer`], and drops what it gave
//! up waiting for with [`FrameAssembler::drop_before`].
//!
//! VP8, VP9 and Opus payloads say where a frame starts. H.264 and AV1 payloads mostly do
//! not (an SPS or an access unit delimiter does, and AV1's N bit; a slice with
//! `first_mb_in_slice` not 0 or an AV1 continuation certainly does not), so there a frame
//! completes once the packet before its first is known to be another frame's: when the last
//! packet of a frame is lost, the next frame waits for its retransmission (or ages out).
//!
//! Incomplete frames are dropped when they fall [`MAX_FRAME_AGE_TICKS`] behind the newest
//! timestamp, when more than [`MAX_FRAMES_PENDING`] are pending (oldest first), or when the
//! held bytes pass [`MAX_PENDING_BYTES`]. Missing sequence numbers (gaps below the highest one
//! seen, at most [`MAX_MISSING`], none older than [`MAX_SEQ_REORDER`]) are listed by
//! [`FrameAssembler::missing`] for a NACK generator.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{
    CodecError, Depacketizer, Frame, PacketInfo, MAX_FRAMES_PENDING, MAX_FRAME_AGE_TICKS,
    MAX_FRAME_BYTES, MAX_MISSING, MAX_PACKETS_PER_FRAME, MAX_PENDING_BYTES, MAX_SEQ_REORDER,
};

/// Finished (emitted or dropped) frames remembered, so their late packets are ignored.
const HISTORY_LEN: usize = 2 * MAX_FRAMES_PENDING;
/// Consecutive packets too far behind before the stream is taken as restarted.
const MAX_OLD_BEFORE_RESET: u32 = 16;
/// Extended sequence numbers start here, so unwrapping backwards never underflows.
const EXT_SEQ_BASE: u64 = 1 << 32;

/// Counters of what the assembler did with its input.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct AssemblerStats {
    pub frames_emitted: u64,
    /// Incomplete frames dropped (too old, too many, too large), and frames whose payloads the
    /// depacketizer refused.
    pub frames_dropped: u64,
    pub packets_duplicate: u64,
    /// Packets of a finished frame, or too far behind.
    pub packets_late: u64,
    /// Payloads refused by the depacketizer's `inspect`.
    pub packets_malformed: u64,
    /// Restarts of the sequence space (a run of packets far behind, or `reset`).
    pub resets: u64,
}

#[derive(Debug)]
struct Packet {
    payload: Vec<u8>,
    marker: bool,
    info: PacketInfo,
}

#[derive(Debug)]
struct PendingFrame {
    timestamp: u32,
    packets: BTreeMap<u64, Packet>,
    bytes: usize,
}

/// A finished frame: its extended sequence numbers, and whether `last` ended it.
#[derive(Copy, Clone, Debug)]
struct Finished {
    first: u64,
    last: u64,
    ended: bool,
}

/// A pending frame to check for completion.
#[derive(Copy, Clone, Debug)]
enum Candidate {
    Timestamp(u32),
    Holding(u64),
}

/// Frames out of packets in any order (see the module docs).
#[derive(Debug)]
pub struct FrameAssembler<D> {
    depacketizer: D,
    pending: Vec<PendingFrame>,
    out: VecDeque<Frame>,
    highest: Option<u64>,
    newest_timestamp: Option<u32>,
    missing: BTreeSet<u64>,
    history: VecDeque<Finished>,
    pending_bytes: usize,
    old_run: u32,
    stats: AssemblerStats,
}

/// `a` is newer than `b` in RTP timestamp order (RFC 3550 §5.1 wrap-around).
fn ts_newer(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

fn low16(ext: u64) -> u16 {
    u16::try_from(ext & 0xffff).unwrap_or(0)
}

impl<D: Depacketizer> FrameAssembler<D> {
    pub fn new(depacketizer: D) -> Self {
        FrameAssembler {
            depacketizer,
            pending: Vec::new(),
            out: VecDeque::new(),
            highest: None,
            newest_timestamp: None,
            missing: BTreeSet::new(),
            history: VecDeque::new(),
            pending_bytes: 0,
            old_run: 0,
            stats: AssemblerStats::default(),
        }
    }

    pub fn depacketizer(&self) -> &D {
        &self.depacketizer
    }

    pub fn stats(&self) -> AssemblerStats {
        self.stats
    }

    /// Frames waiting for packets.
    pub fn pending_frames(&self) -> usize {
        self.pending.len()
    }

    /// Payload bytes held for pending frames.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Forgets every pending frame, gap and queued frame (a new SSRC, a seek).
    pub fn reset(&mut self) {
        self.pending.clear();
        self.out.clear();
        self.highest = None;
        self.newest_timestamp = None;
        self.missing.clear();
        self.history.clear();
        self.pending_bytes = 0;
        self.old_run = 0;
        self.depacketizer.reset();
        self.stats.resets += 1;
    }

    /// The next complete frame.
    pub fn poll_frame(&mut self) -> Option<Frame> {
        self.out.pop_front()
    }

    /// Sequence numbers not received below the highest one, oldest first.
    pub fn missing(&self) -> impl Iterator<Item = u16> + '_ {
        self.missing.iter().map(|&e| low16(e))
    }

    /// Stops reporting sequence numbers up to `seq` (inclusive): given up, or asked enough.
    pub fn forget_missing_through(&mut self, seq: u16) {
        let Some(ext) = self.highest.map(|_| self.extend(seq)) else {
            return;
        };
        self.missing.retain(|&s| s > ext);
    }

    /// Drops (and counts) the incomplete frames whose packets all come before `seq`: a
    /// jitter buffer gave up waiting for them, so completing them later would be of no use.
    pub fn drop_before(&mut self, seq: u16) {
        if self.highest.is_none() {
            return;
        }
        let ext = self.extend(seq);
        let mut i = 0;
        while let Some(f) = self.pending.get(i) {
            if f.packets.keys().next_back().is_some_and(|&last| last < ext) {
                self.drop_at(i);
            } else {
                i += 1;
            }
        }
        self.missing.retain(|&s| s >= ext);
    }

    fn extend(&self, seq: u16) -> u64 {
        match self.highest {
            None => EXT_SEQ_BASE + u64::from(seq),
            Some(h) => {
                let d = seq.wrapping_sub(low16(h));
                if d < 0x8000 {
                    h + u64::from(d)
                } else {
                    h.saturating_sub(u64::from(0x1_0000 - u32::from(d)))
                }
            }
        }
    }

    /// Takes one RTP payload with its marker bit, sequence number and timestamp. Errors
    /// (counted in [`AssemblerStats`]) mean the payload, or the frame it completed or
    /// overflowed, was dropped; the assembler stays usable.
    pub fn handle_packet(
        &mut self,
        payload: &[u8],
        marker: bool,
        seq: u16,
        timestamp: u32,
    ) -> Result<(), CodecError> {
        let info = match self.depacketizer.inspect(payload) {
            Ok(i) => i,
            Err(e) => {
                self.stats.packets_malformed += 1;
                return Err(e);
            }
        };
        if payload.len() > MAX_FRAME_BYTES {
            self.stats.packets_malformed += 1;
            return Err(CodecError::TooLarge);
        }
        let mut ext = self.extend(seq);
        if let Some(h) = self.highest {
            if ext + MAX_SEQ_REORDER < h {
                self.old_run += 1;
                if self.old_run < MAX_OLD_BEFORE_RESET {
                    self.stats.packets_late += 1;
                    return Ok(());
                }
                // A long run from far behind: the sender restarted its sequence numbers.
                self.reset();
                ext = self.extend(seq);
            }
        }
        self.old_run = 0;
        if self
            .history
            .iter()
            .any(|f| (f.first..=f.last).contains(&ext))
        {
            self.stats.packets_late += 1;
            return Ok(());
        }
        if let Some(n) = self.newest_timestamp {
            if ts_newer(n, timestamp) && n.wrapping_sub(timestamp) > MAX_FRAME_AGE_TICKS {
                self.stats.packets_late += 1;
                return Ok(());
            }
        }
        self.track_seq(ext);
        if self.newest_timestamp.is_none_or(|n| ts_newer(timestamp, n)) {
            self.newest_timestamp = Some(timestamp);
        }
        self.drop_aged();

        let idx = match self.pending.iter().position(|f| f.timestamp == timestamp) {
            Some(i) => i,
            None => {
                while self.pending.len() >= MAX_FRAMES_PENDING {
                    self.drop_oldest(None);
                }
                self.pending.push(PendingFrame {
                    timestamp,
                    packets: BTreeMap::new(),
                    bytes: 0,
                });
                self.pending.len() - 1
            }
        };
        let Some(frame) = self.pending.get(idx) else {
            return Ok(());
        };
        if frame.packets.contains_key(&ext) {
            self.stats.packets_duplicate += 1;
            return Ok(());
        }
        if frame.packets.len() >= MAX_PACKETS_PER_FRAME
            || frame.bytes + payload.len() > MAX_FRAME_BYTES
        {
            self.drop_at(idx);
            return Err(CodecError::TooLarge);
        }
        while self.pending_bytes + payload.len() > MAX_PENDING_BYTES {
            if !self.drop_oldest(Some(timestamp)) {
                self.drop_at_timestamp(timestamp);
                return Err(CodecError::TooLarge);
            }
        }
        let Some(frame) = self.pending.iter_mut().find(|f| f.timestamp == timestamp) else {
            return Ok(());
        };
        frame.packets.insert(
            ext,
            Packet {
                payload: payload.to_vec(),
                marker,
                info,
            },
        );
        frame.bytes += payload.len();
        self.pending_bytes += payload.len();
        self.complete_around(timestamp, ext)
    }

    fn track_seq(&mut self, ext: u64) {
        match self.highest {
            Some(h) if ext > h => {
                let gap = ext - h - 1;
                if gap <= MAX_MISSING as u64 {
                    self.missing.extend(h + 1..ext);
                } else {
                    self.missing.clear();
                }
                self.highest = Some(ext);
            }
            Some(_) => {
                self.missing.remove(&ext);
            }
            None => self.highest = Some(ext),
        }
        let h = self.highest.unwrap_or(ext);
        while let Some(&first) = self.missing.first() {
            if first + MAX_SEQ_REORDER < h || self.missing.len() > MAX_MISSING {
                self.missing.pop_first();
            } else {
                break;
            }
        }
    }

    fn drop_aged(&mut self) {
        let Some(newest) = self.newest_timestamp else {
            return;
        };
        let mut i = 0;
        while let Some(f) = self.pending.get(i) {
            if ts_newer(newest, f.timestamp)
                && newest.wrapping_sub(f.timestamp) > MAX_FRAME_AGE_TICKS
            {
                self.drop_at(i);
            } else {
                i += 1;
            }
        }
    }

    /// Drops the pending frame with the lowest sequence numbers, other than `keep`'s; false if
    /// there is none.
    fn drop_oldest(&mut self, keep: Option<u32>) -> bool {
        let oldest = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, f)| Some(f.timestamp) != keep)
            .min_by_key(|(_, f)| f.packets.keys().next().copied().unwrap_or(u64::MAX))
            .map(|(i, _)| i);
        match oldest {
            Some(i) => {
                self.drop_at(i);
                true
            }
            None => false,
        }
    }

    fn drop_at_timestamp(&mut self, timestamp: u32) {
        if let Some(i) = self.pending.iter().position(|f| f.timestamp == timestamp) {
            self.drop_at(i);
        }
    }

    fn drop_at(&mut self, i: usize) {
        if i >= self.pending.len() {
            return;
        }
        let f = self.pending.swap_remove(i);
        self.pending_bytes = self.pending_bytes.saturating_sub(f.bytes);
        let first = f.packets.keys().next().copied();
        let last = f
            .packets
            .iter()
            .next_back()
            .map(|(&s, p)| (s, p.marker || p.info.ends_frame));
        if let (Some(first), Some((last, ended))) = (first, last) {
            self.remember(Finished { first, last, ended });
            self.stats.frames_dropped += 1;
        }
    }

    fn remember(&mut self, f: Finished) {
        if self.history.len() >= HISTORY_LEN {
            self.history.pop_front();
        }
        self.history.push_back(f);
    }

    /// Whether the packet at `seq` is known to belong to another frame than `timestamp`.
    fn other_frame_at(&self, seq: u64, timestamp: u32) -> bool {
        self.history.iter().any(|f| f.ended && f.last == seq)
            || self
                .pending
                .iter()
                .any(|f| f.timestamp != timestamp && f.packets.contains_key(&seq))
    }

    /// The first and last sequence number of `frame` if it is complete.
    fn complete_range(&self, frame: &PendingFrame) -> Option<(u64, u64)> {
        let (&last, _) = frame
            .packets
            .iter()
            .find(|(_, p)| p.marker || p.info.ends_frame)?;
        let mut first = last;
        while first > 0 && frame.packets.contains_key(&(first - 1)) {
            first -= 1;
        }
        let start = frame.packets.get(&first)?;
        let starts = match start.info.starts_frame {
            Some(s) => s,
            None => first > 0 && self.other_frame_at(first - 1, frame.timestamp),
        };
        starts.then_some((first, last))
    }

    /// Tries the frame that just got the packet at `ext`, then the frame holding `ext + 1`
    /// (its start may now be known), then after each completion the frame right after it.
    fn complete_around(&mut self, timestamp: u32, ext: u64) -> Result<(), CodecError> {
        let mut result = Ok(());
        // (Dropping a frame never completes another: a packet of a pending frame already
        // counts as "another frame's" for the frame after it.)
        let mut candidates = vec![Candidate::Holding(ext + 1), Candidate::Timestamp(timestamp)];
        let mut rounds = 0;
        while let Some(c) = candidates.pop() {
            rounds += 1;
            if rounds > 4 * MAX_FRAMES_PENDING {
                break;
            }
            let i = match c {
                Candidate::Timestamp(ts) => self.pending.iter().position(|f| f.timestamp == ts),
                Candidate::Holding(seq) => self
                    .pending
                    .iter()
                    .position(|f| f.packets.contains_key(&seq)),
            };
            let Some(i) = i else { continue };
            let Some((first, last)) = self.pending.get(i).and_then(|f| self.complete_range(f))
            else {
                continue;
            };
            if let Err(e) = self.emit(i, first, last) {
                result = Err(e);
            }
            candidates.push(Candidate::Holding(last + 1));
        }
        result
    }

    fn emit(&mut self, i: usize, first: u64, last: u64) -> Result<(), CodecError> {
        if i >= self.pending.len() {
            return Ok(());
        }
        let f = self.pending.swap_remove(i);
        self.pending_bytes = self.pending_bytes.saturating_sub(f.bytes);
        self.remember(Finished {
            first,
            last,
            ended: true,
        });
        self.depacketizer.reset();
        let mut result = Ok(());
        for (&s, p) in f.packets.range(first..=last) {
            if let Err(e) =
                self.depacketizer
                    .push(&p.payload, p.marker || s == last, low16(s), f.timestamp)
            {
                result = Err(e);
            }
        }
        let mut emitted = false;
        while let Some(frame) = self.depacketizer.poll_frame() {
            if result.is_ok() && frame.complete && !emitted {
                if self.out.len() >= MAX_FRAMES_PENDING {
                    self.out.pop_front();
                    self.stats.frames_dropped += 1;
                }
                self.out.push_back(frame);
                emitted = true;
            }
        }
        if emitted {
            self.stats.frames_emitted += 1;
            Ok(())
        } else {
            self.stats.frames_dropped += 1;
            result.and(Err(CodecError::Malformed))
        }
    }
}
