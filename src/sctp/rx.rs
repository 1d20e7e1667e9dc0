//! The receiving half: TSN tracking with gaps and duplicates, SACK generation,
//! reassembly, ordered and unordered delivery, FORWARD TSN (RFC 3758 §3.6) and
//! incoming stream resets (RFC 6525 §5.2.2). Every held byte counts against the window.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::tx::{lo32, unwrap_tsn};
use super::wire::{DataChunk, ForwardTsnChunk, GapBlock, SackChunk};
use super::{MAX_DUP_TSNS, MAX_GAP_BLOCKS, MAX_RECEIVE_BUFFER_FACTOR, MAX_TSN_AHEAD};

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

#[derive(Default)]
struct StreamIn {
    next_ssn: u16,
    /// Complete ordered messages waiting for an earlier SSN.
    ready: BTreeMap<u16, (u32, Vec<u8>)>,
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
    streams: HashMap<u16, StreamIn>,
    /// Bytes held: reassembly, ordering queues and delivered-but-undrained messages.
    pub buffered: usize,
    window: usize,
    max_message_size: usize,
    pub delivered: Vec<Delivered>,
    /// A SACK must go out now (gap, duplicate, FORWARD TSN, every second packet).
    pub sack_now: bool,
    pub data_packets: u32,
    /// We advertised less than a quarter of the window.
    window_closed: bool,
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
            streams: HashMap::new(),
            buffered: 0,
            window,
            max_message_size,
            delivered: Vec::new(),
            sack_now: false,
            data_packets: 0,
            window_closed: false,
        }
    }

    pub fn a_rwnd(&self) -> u32 {
        u32::try_from(self.window.saturating_sub(self.buffered)).unwrap_or(u32::MAX)
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
        let fills_hole = self.received.last().is_some_and(|h| tsn < h);
        let limit = if fills_hole {
            self.window * MAX_RECEIVE_BUFFER_FACTOR
        } else {
            self.window
        };
        if self.buffered + len > limit {
            self.sack_now = true;
            if self.partial_at_cum_bytes() > self.max_message_size {
                // The message in progress can never complete within our limits.
                return DataOutcome::TooBig;
            }
            return DataOutcome::Dropped;
        }
        // Record the TSN.
        if tsn == self.cum + 1 {
            self.cum = tsn;
            if let Some(e) = self.received.take_run_at(self.cum + 1) {
                self.cum = e;
            }
            if !self.received.is_empty() {
                self.sack_now = true;
            }
        } else {
            self.received.insert(tsn);
            self.sack_now = true;
        }
        self.buffered += len;
        if d.beginning && d.ending {
            self.deliver(d.stream, d.ssn, d.unordered, d.ppid, d.payload);
            return DataOutcome::Accepted;
        }
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
            data.extend_from_slice(&c.payload);
        }
        self.deliver(stream, ssn, unordered, ppid, data);
        DataOutcome::Accepted
    }

    fn deliver(&mut self, stream: u16, ssn: u16, unordered: bool, ppid: u32, data: Vec<u8>) {
        if unordered {
            self.delivered.push(Delivered { stream, ppid, data });
            return;
        }
        let st = self.streams.entry(stream).or_default();
        if ssn == st.next_ssn {
            st.next_ssn = st.next_ssn.wrapping_add(1);
            self.delivered.push(Delivered { stream, ppid, data });
            while let Some((ppid, data)) = st.ready.remove(&st.next_ssn) {
                st.next_ssn = st.next_ssn.wrapping_add(1);
                self.delivered.push(Delivered { stream, ppid, data });
            }
        } else if serial_gt16(ssn, st.next_ssn) {
            st.ready.insert(ssn, (ppid, data));
        } else {
            // Stale (already delivered or skipped).
            self.buffered = self.buffered.saturating_sub(data.len());
        }
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

    /// The user took a delivered message: its bytes leave the buffer. If our window had
    /// closed and has now reopened, a window update SACK is due (RFC 9260 §6.2).
    pub fn consumed(&mut self, bytes: usize) {
        self.buffered = self.buffered.saturating_sub(bytes);
        if self.window_closed && self.buffered <= self.window / 2 {
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
                self.buffered = self.buffered.saturating_sub(c.payload.len());
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
            let st = self.streams.entry(stream).or_default();
            if serial_gt16(st.next_ssn, ssn) {
                continue;
            }
            // Deliver the held messages with SSNs in [next_ssn, ssn] (serial order) by
            // walking the map, not every SSN: one entry may skip 32767 SSNs and a packet
            // carries thousands of entries.
            let lo = st.next_ssn;
            let skipped: Vec<u16> = if lo <= ssn {
                st.ready.range(lo..=ssn).map(|(&k, _)| k).collect()
            } else {
                st.ready.range(lo..).chain(st.ready.range(..=ssn)).map(|(&k, _)| k).collect()
            };
            for k in skipped {
                if let Some((ppid, data)) = st.ready.remove(&k) {
                    self.delivered.push(Delivered { stream, ppid, data });
                }
            }
            st.next_ssn = ssn.wrapping_add(1);
            while let Some((ppid, data)) = st.ready.remove(&st.next_ssn) {
                st.next_ssn = st.next_ssn.wrapping_add(1);
                self.delivered.push(Delivered { stream, ppid, data });
            }
        }
        // Complete messages that no longer wait for skipped fragments may exist: none,
        // since whole messages are abandoned.
    }

    /// RFC 6525 §5.2.2: the peer reset its outgoing streams (empty list: all streams).
    /// Returns the streams reset.
    pub fn reset_streams(&mut self, streams: &[u16]) -> Vec<u16> {
        let list: Vec<u16> = if streams.is_empty() {
            self.streams.keys().copied().collect()
        } else {
            streams.to_vec()
        };
        for s in &list {
            if let Some(st) = self.streams.remove(s) {
                for (_, (_, d)) in st.ready {
                    self.buffered = self.buffered.saturating_sub(d.len());
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
            .take(MAX_GAP_BLOCKS)
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
            .streams
            .iter()
            .filter(|(_, st)| !st.ready.is_empty())
            .map(|(s, st)| {
                format!(
                    "stream {s} next {} ready {:?}",
                    st.next_ssn,
                    st.ready.keys().collect::<Vec<_>>()
                )
            })
            .collect();
        v.sort();
        format!("{v:?} reasm {}", self.reasm.len())
    }
}
