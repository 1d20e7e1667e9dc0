//! The receiving half: TSN tracking with gaps and duplicates, SACK generation,
//! reassembly, ordered and unordered delivery, FORWARD TSN (RFC 3758 §3.6) and
//! incoming stream resets (RFC 6525 §5.2.2).
//!
//! Two counts bound what a peer can make us hold: the payload bytes (the advertised
//! window), and what the held data costs on the heap (payload plus per-fragment,
//! per-message and per-TSN-run bookkeeping, see the costs in `mod.rs`), which may not pass
//! `MAX_RECEIVE_BUFFER_FACTOR` x the window.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::tx::{lo32, unwrap_tsn};
use super::wire::{DataChunk, ForwardTsnChunk, GapBlock, SackChunk, COMMON_HEADER_LEN};
use super::{MAX_DUP_TSNS, MAX_GAP_BLOCKS, MAX_RECEIVE_BUFFER_FACTOR, MAX_TSN_AHEAD};
use super::{CHUNK_OVERHEAD, MESSAGE_OVERHEAD, TSN_MARK_OVERHEAD, TSN_RUN_OVERHEAD};

/// Delivery lists and event queues longer than this are freed when they empty, so that a
/// burst does not leave its capacity behind, uncharged.
pub(super) const KEEP_CAPACITY: usize = 256;

/// A SACK chunk without gap ack blocks and duplicate TSNs (RFC 9260 §3.3.4).
const SACK_HEADER_LEN: usize = 16;

/// A complete message ready for the user.
pub(super) struct Delivered {
    pub stream: u16,
    pub ppid: u32,
    pub data: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum DataOutcome {
    Accepted,
    Duplicate,
    /// Receive buffer full (or TSN implausibly far ahead): not recorded, the peer retransmits.
    Dropped,
    /// A reassembled message exceeds the maximum message size.
    TooBig,
}

pub(super) struct Rx {
    /// Cumulative TSN (extended).
    pub cum: u64,
    /// TSNs above `cum` received, as runs (a SACK walks runs, not TSNs).
    received: TsnRuns,
    dups: Vec<u32>,
    reasm: BTreeMap<u64, DataChunk>,
    /// Index over `reasm` so that a fragment costs O(log n), not a scan of its neighbours
    /// (a peer filling a long run backwards made every fragment rescan the run):
    /// runs of consecutive TSNs held (start -> inclusive end), and the TSNs held that
    /// carry the B and E bits.
    runs: BTreeMap<u64, u64>,
    begins: BTreeSet<u64>,
    ends: BTreeSet<u64>,
    /// `partial_at_cum_bytes` for (cum, reasm.len()): it is asked for every chunk dropped
    /// on a full window. Fragments are only added above `cum` (or move `cum`); removals
    /// clear it.
    partial_cache: Option<(u64, usize, usize)>,
    /// The next SSN to deliver, per stream that has seen an ordered message (at most one
    /// entry per stream id: `MAX_STREAM_STATE_MEMORY`).
    next_ssn: HashMap<u16, u16>,
    /// Complete ordered messages waiting for an earlier SSN, by (stream, SSN): one map for
    /// all streams, so a stream with one waiting message does not cost a B-tree node.
    held: BTreeMap<(u16, u16), (u32, Vec<u8>)>,
    /// Payload bytes held: reassembly, ordering and delivered-but-undrained messages. The
    /// window counts these.
    payload: usize,
    /// What the held items cost: payload plus `CHUNK_OVERHEAD` per fragment and
    /// `MESSAGE_OVERHEAD` per message (the TSN index is added by `memory`).
    items: usize,
    window: usize,
    max_message_size: usize,
    pub delivered: Vec<Delivered>,
    /// A SACK must go out now (gap, duplicate, FORWARD TSN, every second packet).
    pub sack_now: bool,
    pub data_packets: u32,
    /// We advertised less than a quarter of the window.
    window_closed: bool,
    /// Most gap ack blocks per SACK: what fits in one packet, at most `MAX_GAP_BLOCKS`.
    gap_blocks: usize,
}

/// A set of TSNs kept as runs of consecutive values (start -> inclusive end).
#[derive(Default)]
struct TsnRuns {
    runs: BTreeMap<u64, u64>,
}

impl TsnRuns {
    fn contains(&self, t: &u64) -> bool {
        self.runs.range(..=*t).next_back().is_some_and(|(_, &e)| e >= *t)
    }

    fn last(&self) -> Option<u64> {
        self.runs.last_key_value().map(|(_, &e)| e)
    }

    fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    fn insert(&mut self, t: u64) {
        if self.contains(&t) {
            return;
        }
        let mut start = t;
        let mut end = t;
        if let Some((&s, &e)) = self.runs.range(..t).next_back() {
            if e.saturating_add(1) == t {
                start = s;
            }
        }
        if let Some(e) = self.runs.remove(&t.saturating_add(1)) {
            end = e;
        }
        self.runs.insert(start, end);
    }

    /// Removes the run starting at `t`; returns its end.
    fn take_run_at(&mut self, t: u64) -> Option<u64> {
        self.runs.remove(&t)
    }

    /// Forgets every TSN up to `t`.
    fn remove_through(&mut self, t: u64) {
        let above = t.saturating_add(1);
        let mut kept = self.runs.split_off(&above);
        if let Some((_, &e)) = self.runs.iter().next_back() {
            if e >= above {
                kept.insert(above, e);
            }
        }
        self.runs = kept;
    }
}

fn serial_gt16(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000
}

impl Rx {
    pub fn new(peer_initial_tsn: u32, window: usize, max_message_size: usize) -> Rx {
        Rx {
            cum: ((1u64 << 32) | u64::from(peer_initial_tsn)) - 1,
            received: TsnRuns::default(),
            dups: Vec::new(),
            reasm: BTreeMap::new(),
            runs: BTreeMap::new(),
            begins: BTreeSet::new(),
            ends: BTreeSet::new(),
            partial_cache: None,
            next_ssn: HashMap::new(),
            held: BTreeMap::new(),
            payload: 0,
            items: 0,
            window,
            max_message_size,
            delivered: Vec::new(),
            sack_now: false,
            data_packets: 0,
            window_closed: false,
            gap_blocks: MAX_GAP_BLOCKS,
        }
    }

    /// Fits the SACKs we build in packets of `packet_size` bytes (RFC 9260 §6.2: as many
    /// gap ack blocks as fit, with the duplicate TSNs).
    pub fn set_packet_size(&mut self, packet_size: usize) {
        let room = packet_size.saturating_sub(COMMON_HEADER_LEN + SACK_HEADER_LEN + 4 * MAX_DUP_TSNS);
        self.gap_blocks = (room / 4).clamp(1, MAX_GAP_BLOCKS);
    }

    /// What the receive side holds, at its cost: the items plus the TSN index (runs of
    /// the received set and of the reassembly index, B and E marks).
    pub fn memory(&self) -> usize {
        let runs = self.received.runs.len() + self.runs.len();
        let marks = self.begins.len() + self.ends.len();
        self.items + runs * TSN_RUN_OVERHEAD + marks * TSN_MARK_OVERHEAD
    }

    /// Hard ceiling on `memory`: only chunks that fill a hole may use the last quarter.
    fn memory_limit(&self) -> usize {
        self.window.saturating_mul(MAX_RECEIVE_BUFFER_FACTOR)
    }

    fn memory_soft_limit(&self) -> usize {
        self.memory_limit() / 4 * 3
    }

    /// The advertised window: payload room, or less when the held data's bookkeeping
    /// (many small chunks) brings the memory near its limit.
    pub fn a_rwnd(&self) -> u32 {
        let by_payload = self.window.saturating_sub(self.payload);
        let by_memory = self.memory_soft_limit().saturating_sub(self.memory());
        u32::try_from(by_payload.min(by_memory)).unwrap_or(u32::MAX)
    }

    /// Whether ordered messages of `stream` wait for an earlier SSN.
    fn holds_on(&self, stream: u16) -> bool {
        self.held.range((stream, 0)..=(stream, u16::MAX)).next().is_some()
    }

    /// A chunk of the message that ordered messages of its stream wait for.
    fn releases_held(&self, d: &DataChunk) -> bool {
        !d.unordered
            && self.next_ssn.get(&d.stream).copied().unwrap_or(0) == d.ssn
            && self.holds_on(d.stream)
    }

    /// Forgets a message that was held or delivered.
    fn uncharge_message(&mut self, len: usize) {
        self.payload = self.payload.saturating_sub(len);
        self.items = self.items.saturating_sub(len + MESSAGE_OVERHEAD);
    }

    pub fn cum_tsn(&self) -> u32 {
        lo32(self.cum)
    }

    pub fn handle_data(&mut self, d: DataChunk) -> DataOutcome {
        let tsn = unwrap_tsn(self.cum, d.tsn);
        if tsn <= self.cum || self.received.contains(&tsn) {
            if self.dups.len() < MAX_DUP_TSNS {
                self.dups.push(d.tsn);
            }
            self.sack_now = true;
            return DataOutcome::Duplicate;
        }
        if tsn > self.cum + MAX_TSN_AHEAD || d.payload.is_empty() {
            return DataOutcome::Dropped;
        }
        let len = d.payload.len();
        let whole = d.beginning && d.ending;
        // What accepting it costs at most: its item, its index entries, a new run of the
        // received set if it is out of order.
        let mut cost = len
            + if whole {
                MESSAGE_OVERHEAD
            } else {
                CHUNK_OVERHEAD + TSN_RUN_OVERHEAD + TSN_MARK_OVERHEAD
            };
        if tsn != self.cum + 1 {
            cost += TSN_RUN_OVERHEAD;
        }
        // Chunks that fill a TSN hole, or that ordered messages held wait for, may use the
        // reserve: a full buffer can then always make progress.
        let needed = self.received.last().is_some_and(|h| tsn < h) || self.releases_held(&d);
        let (payload_limit, memory_limit) = if needed {
            (self.window.saturating_mul(MAX_RECEIVE_BUFFER_FACTOR), self.memory_limit())
        } else {
            (self.window, self.memory_soft_limit())
        };
        if self.payload + len > payload_limit || self.memory() + cost > memory_limit {
            self.sack_now = true;
            if self.partial_at_cum_bytes() > self.max_message_size {
                // The message in progress can never complete within our limits.
                return DataOutcome::TooBig;
            }
            return DataOutcome::Dropped;
        }
        // Record the TSN.
        if tsn == self.cum + 1 {
            // RFC 9260 §6.7: a SACK for every packet while a gap is open, and (as RFC 5681
            // §4.2 has for TCP) at once for the one that fills a gap, wholly or in part:
            // the sender is recovering from a loss and waits for this SACK (its cum ack
            // ends fast recovery and restarts T3-rtx), not for our delayed-ack timer.
            if !self.received.is_empty() {
                self.sack_now = true;
            }
            self.cum = tsn;
            if let Some(e) = self.received.take_run_at(self.cum + 1) {
                self.cum = e;
            }
        } else {
            self.received.insert(tsn);
            self.sack_now = true;
        }
        self.payload += len;
        if whole {
            self.items += len + MESSAGE_OVERHEAD;
            self.deliver(d.stream, d.ssn, d.unordered, d.ppid, d.payload);
            return DataOutcome::Accepted;
        }
        self.items += len + CHUNK_OVERHEAD;
        self.hold(tsn, d);
        self.try_reassemble(tsn)
    }

    /// Puts a fragment in `reasm` and its index.
    fn hold(&mut self, tsn: u64, d: DataChunk) {
        if d.beginning {
            self.begins.insert(tsn);
        }
        if d.ending {
            self.ends.insert(tsn);
        }
        if self.reasm.insert(tsn, d).is_some() {
            return;
        }
        let mut start = tsn;
        let mut end = tsn;
        if let Some((&s, &e)) = self.runs.range(..tsn).next_back() {
            if e.saturating_add(1) == tsn {
                start = s;
            }
        }
        if let Some(e) = self.runs.remove(&tsn.saturating_add(1)) {
            end = e;
        }
        self.runs.insert(start, end);
    }

    /// Takes the fragments `lo..=hi` (all held, in one run) out of `reasm` and its index.
    fn release_range(&mut self, lo: u64, hi: u64) -> Vec<DataChunk> {
        self.partial_cache = None;
        let mut out = Vec::new();
        for t in lo..=hi {
            if let Some(c) = self.reasm.remove(&t) {
                out.push(c);
            }
            self.begins.remove(&t);
            self.ends.remove(&t);
        }
        if let Some((&s, &e)) = self.runs.range(..=lo).next_back() {
            if e >= lo {
                self.runs.remove(&s);
                if s < lo {
                    self.runs.insert(s, lo - 1);
                }
                if hi < e {
                    self.runs.insert(hi + 1, e);
                }
            }
        }
        out
    }

    fn try_reassemble(&mut self, tsn: u64) -> DataOutcome {
        // The run of consecutive held TSNs around `tsn`, the nearest B at or before it and
        // the nearest E at or after it; no other E or B may sit in between.
        let Some((&rs, &re)) = self.runs.range(..=tsn).next_back() else {
            return DataOutcome::Accepted;
        };
        if re < tsn {
            return DataOutcome::Accepted;
        }
        let Some(&start) = self.begins.range(rs..=tsn).next_back() else {
            return DataOutcome::Accepted;
        };
        let Some(&end) = self.ends.range(tsn..=re).next() else {
            return DataOutcome::Accepted;
        };
        if self.ends.range(start..tsn).next().is_some()
            || (tsn < end && self.begins.range(tsn + 1..=end).next().is_some())
        {
            return DataOutcome::Accepted;
        }
        // A complete candidate: reached once per B..E range, since all of it is now held.
        let Some(first) = self.reasm.get(&start) else {
            return DataOutcome::Accepted;
        };
        let (stream, ssn, unordered, ppid) = (first.stream, first.ssn, first.unordered, first.ppid);
        let mut total = 0usize;
        for c in self.reasm.range(start..=end).map(|(_, c)| c) {
            if c.stream != stream || c.unordered != unordered || (!unordered && c.ssn != ssn) {
                return DataOutcome::Accepted;
            }
            total = total.saturating_add(c.payload.len());
        }
        if total > self.max_message_size {
            return DataOutcome::TooBig;
        }
        let mut data = Vec::with_capacity(total);
        for c in self.release_range(start, end) {
            self.items = self.items.saturating_sub(c.payload.len() + CHUNK_OVERHEAD);
            data.extend_from_slice(&c.payload);
        }
        // The fragments' payload is now the message's.
        self.items += total + MESSAGE_OVERHEAD;
        self.deliver(stream, ssn, unordered, ppid, data);
        DataOutcome::Accepted
    }

    /// A complete message (charged as one): to the user, or held for an earlier SSN.
    fn deliver(&mut self, stream: u16, ssn: u16, unordered: bool, ppid: u32, data: Vec<u8>) {
        if unordered {
            self.delivered.push(Delivered { stream, ppid, data });
            return;
        }
        let next = self.next_ssn.entry(stream).or_insert(0);
        if ssn == *next {
            self.delivered.push(Delivered { stream, ppid, data });
            self.release_held(stream, ssn.wrapping_add(1));
        } else if serial_gt16(ssn, *next) {
            // A second message with the same SSN (a confused or hostile peer) replaces the
            // first: forget the first's charge.
            if let Some((_, old)) = self.held.insert((stream, ssn), (ppid, data)) {
                self.uncharge_message(old.len());
            }
        } else {
            // Stale (already delivered or skipped).
            self.uncharge_message(data.len());
        }
    }

    /// Delivers the held messages of `stream` from SSN `from` on while they are
    /// consecutive; the stream's next SSN becomes the first one missing.
    fn release_held(&mut self, stream: u16, from: u16) {
        let mut next = from;
        while let Some((ppid, data)) = self.held.remove(&(stream, next)) {
            self.delivered.push(Delivered { stream, ppid, data });
            next = next.wrapping_add(1);
        }
        self.next_ssn.insert(stream, next);
    }

    /// Bytes of the partial message whose last fragment received is at the cumulative TSN.
    fn partial_at_cum_bytes(&mut self) -> usize {
        if let Some((cum, len, bytes)) = self.partial_cache {
            if cum == self.cum && len == self.reasm.len() {
                return bytes;
            }
        }
        let mut total = 0usize;
        let mut t = self.cum;
        while let Some(c) = self.reasm.get(&t) {
            total += c.payload.len();
            if c.beginning {
                break;
            }
            t -= 1;
        }
        self.partial_cache = Some((self.cum, self.reasm.len(), total));
        total
    }

    /// The user took a delivered message of `len` bytes: it leaves the buffer. If our
    /// window had closed and has now reopened, a window update SACK is due (RFC 9260 §6.2).
    pub fn consumed(&mut self, len: usize) {
        self.uncharge_message(len);
        if self.window_closed
            && usize::try_from(self.a_rwnd()).unwrap_or(usize::MAX) >= self.window / 2
        {
            self.window_closed = false;
            self.sack_now = true;
        }
    }

    pub fn handle_forward_tsn(&mut self, f: &ForwardTsnChunk) {
        self.sack_now = true;
        let new = unwrap_tsn(self.cum, f.new_cum_tsn);
        if new <= self.cum || new > self.cum + MAX_TSN_AHEAD {
            return;
        }
        // Forget everything up to the new cumulative TSN.
        self.received.remove_through(new);
        self.cum = new;
        if let Some(e) = self.received.take_run_at(self.cum + 1) {
            self.cum = e;
        }
        // Only fragments the sender skipped: those above `new` may belong to a message
        // still being reassembled.
        while let Some((&t, _)) = self.reasm.first_key_value() {
            if t > new {
                break;
            }
            if let Some(c) = self.reasm.remove(&t) {
                self.payload = self.payload.saturating_sub(c.payload.len());
                self.items = self.items.saturating_sub(c.payload.len() + CHUNK_OVERHEAD);
            }
        }
        self.partial_cache = None;
        let above = new.saturating_add(1);
        self.begins = self.begins.split_off(&above);
        self.ends = self.ends.split_off(&above);
        let mut kept = self.runs.split_off(&above);
        if let Some((_, &e)) = self.runs.iter().next_back() {
            if e >= above {
                kept.insert(above, e);
            }
        }
        self.runs = kept;
        // Skip the abandoned SSNs, delivering what became deliverable.
        for &(stream, ssn) in &f.streams {
            let lo = self.next_ssn.get(&stream).copied().unwrap_or(0);
            if serial_gt16(lo, ssn) {
                continue;
            }
            // Deliver the held messages with SSNs in [next_ssn, ssn] (serial order) by
            // walking the map, not every SSN: one entry may skip 32767 SSNs and a packet
            // carries thousands of entries.
            let skipped: Vec<u16> = if lo <= ssn {
                self.held.range((stream, lo)..=(stream, ssn)).map(|(&(_, k), _)| k).collect()
            } else {
                self.held
                    .range((stream, lo)..=(stream, u16::MAX))
                    .chain(self.held.range((stream, 0)..=(stream, ssn)))
                    .map(|(&(_, k), _)| k)
                    .collect()
            };
            for k in skipped {
                if let Some((ppid, data)) = self.held.remove(&(stream, k)) {
                    self.delivered.push(Delivered { stream, ppid, data });
                }
            }
            self.release_held(stream, ssn.wrapping_add(1));
        }
        // Complete messages that no longer wait for skipped fragments may exist: none,
        // since whole messages are abandoned.
    }

    /// RFC 6525 §5.2.2: the peer reset its outgoing streams (empty list: all streams).
    /// Returns the streams reset.
    pub fn reset_streams(&mut self, streams: &[u16]) -> Vec<u16> {
        let list: Vec<u16> = if streams.is_empty() {
            self.next_ssn.keys().copied().collect()
        } else {
            streams.to_vec()
        };
        for &s in &list {
            self.next_ssn.remove(&s);
            let ssns: Vec<u16> = self
                .held
                .range((s, 0)..=(s, u16::MAX))
                .map(|(&(_, k), _)| k)
                .collect();
            for k in ssns {
                if let Some((_, d)) = self.held.remove(&(s, k)) {
                    self.uncharge_message(d.len());
                }
            }
        }
        list
    }

    /// Builds a SACK (RFC 9260 §3.3.4) and clears the pending-ack state.
    pub fn make_sack(&mut self) -> SackChunk {
        let off = |t: u64| u16::try_from(t.saturating_sub(self.cum)).unwrap_or(u16::MAX);
        let gaps: Vec<GapBlock> = self
            .received
            .runs
            .iter()
            .take(self.gap_blocks)
            .map(|(&s, &e)| GapBlock { start: off(s), end: off(e) })
            .collect();
        self.sack_now = false;
        self.data_packets = 0;
        let a_rwnd = self.a_rwnd();
        if usize::try_from(a_rwnd).unwrap_or(usize::MAX) < self.window / 4 {
            self.window_closed = true;
        }
        SackChunk {
            cum_tsn_ack: lo32(self.cum),
            a_rwnd,
            gaps,
            dup_tsns: std::mem::take(&mut self.dups),
        }
    }

    /// Payload bytes held (charged against the window; the application has not taken them).
    pub fn payload(&self) -> usize {
        self.payload
    }

    /// The receive window a_rwnd is computed from.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Changes the receive window (the association grows it for bulk transfers).
    pub fn set_window(&mut self, window: usize) {
        self.window = window;
    }
}

#[cfg(test)]
impl Rx {
    pub fn debug_streams(&self) -> String {
        let mut v: Vec<String> = self
            .next_ssn
            .iter()
            .filter(|(&s, _)| self.holds_on(s))
            .map(|(&s, next)| {
                let ready: Vec<u16> = self
                    .held
                    .range((s, 0)..=(s, u16::MAX))
                    .map(|(&(_, k), _)| k)
                    .collect();
                format!("stream {s} next {next} ready {ready:?}")
            })
            .collect();
        v.sort();
        format!("{v:?} reasm {}", self.reasm.len())
    }
}
