//! The sending half: message queue, fragmentation, in-flight chunks keyed by TSN,
//! SACK processing, retransmission (T3-rtx and fast retransmit), congestion control
//! (RFC 9260 §6-7) and PR-SCTP abandonment (RFC 3758).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::wire::{ForwardTsnChunk, SackChunk, COMMON_HEADER_LEN, CT_DATA, DATA_HEADER_LEN};
use super::{SctpStats, SendOptions, MAX_INFLIGHT_CHUNKS, MAX_SEND_BUFFER};
use super::{IMMEDIATE_SACK_CWND_MTUS, MAX_BURST, SLOW_START_MAX_MTUS_PER_SACK};
use super::{SEND_CHUNK_OVERHEAD, SEND_MESSAGE_OVERHEAD};
use crate::Time;
use core::time::Duration;

/// The low 32 bits of an extended (64-bit, never wrapping) TSN: the wire value.
pub(super) fn lo32(x: u64) -> u32 {
    u32::try_from(x & 0xffff_ffff).unwrap_or(0)
}

/// RFC 9260 §1.6 serial arithmetic: the extended TSN closest to `reference` whose low
/// 32 bits are `tsn`. Extended TSNs start at 2^32 so this never underflows.
pub(super) fn unwrap_tsn(reference: u64, tsn: u32) -> u64 {
    let diff = i64::from(i32::from_be_bytes(
        tsn.wrapping_sub(lo32(reference)).to_be_bytes(),
    ));
    reference.saturating_add_signed(diff)
}

/// A user message not yet completely handed to DATA chunks.
pub(super) struct OutMsg {
    id: u64,
    stream: u16,
    ppid: u32,
    data: Vec<u8>,
    offset: usize,
    ssn: Option<u16>,
    unordered: bool,
    max_rtx: Option<u32>,
    expires: Option<Time>,
}

/// A DATA chunk that has a TSN and is not yet cumulatively acknowledged.
pub(super) struct Sent {
    tsn: u64,
    msg_id: u64,
    stream: u16,
    ssn: u16,
    ppid: u32,
    flags: u8,
    payload: Vec<u8>,
    sent_at: Time,
    tx_count: u32,
    miss: u32,
    acked: bool,
    abandoned: bool,
    in_flight: bool,
    needs_rtx: bool,
    fast_rtx_done: bool,
    max_rtx: Option<u32>,
    expires: Option<Time>,
}

impl Sent {
    fn unordered(&self) -> bool {
        self.flags & 4 != 0
    }
}

/// Result of processing a SACK.
#[derive(Default)]
pub(super) struct SackOutcome {
    pub cum_advanced: bool,
    /// Some chunk not acknowledged before (cumulatively or by a gap block) is now.
    pub newly_acked: bool,
    pub rtt: Option<Duration>,
}

pub(super) struct Tx {
    pending: VecDeque<OutMsg>,
    inflight: VecDeque<Sent>,
    rtx: BTreeSet<u64>,
    next_tsn: u64,
    cum_ack: u64,
    next_ssn: HashMap<u16, u16>,
    /// Bytes accepted by `enqueue` and not yet sent (first put into a packet) or
    /// abandoned, per stream: the W3C `bufferedAmount` (webrtc-pc: reduced "when the
    /// underlying data transport sends data from its queue", not on acknowledgement).
    buffered: HashMap<u16, usize>,
    pub buffered_total: usize,
    /// What the queued messages and unacknowledged chunks cost (see [`MAX_SEND_BUFFER`]).
    memory: usize,
    /// Bytes released per stream since the last drain (for BufferedAmountDecreased).
    released: BTreeMap<u16, usize>,
    /// Streams a send was refused on ([`MAX_SEND_BUFFER`] reached) since the last drain
    /// that found room freed, and `memory` at the latest refusal. Acknowledgements free
    /// memory without changing `buffered`, so these streams get a zero-byte release as the
    /// signal to try again. At most one entry per stream.
    refused: BTreeSet<u16>,
    refused_memory: usize,
    next_msg_id: u64,
    pub flight_size: usize,
    pub cwnd: usize,
    pub ssthresh: usize,
    partial_bytes_acked: usize,
    /// Max.Burst allowance left: packets of new DATA we may still send before the next
    /// transmit opportunity (a SACK, or a `send`) adds more.
    burst_credit: usize,
    /// The last time we tried to send new data, congestion control (cwnd or Max.Burst)
    /// stopped us while data was waiting: the window is being fully used (RFC 9260 §7.2.1),
    /// so SACKs may grow it. Kept across SACKs handled together before one drain.
    cwnd_limited: bool,
    /// When we last sent a DATA chunk (for the idle decay of cwnd, RFC 9260 §7.2.1).
    last_data_sent: Option<Time>,
    pub peer_rwnd: usize,
    mtu: usize,
    fast_recovery_exit: Option<u64>,
    fast_rtx_pending: bool,
    pub pr_supported: bool,
    pub forward_tsn_pending: bool,
    pub t3: Option<Time>,
    /// RFC 9260 §6.1 zero window probing: T3-rtx expired with nothing outstanding and
    /// data queued behind the peer's closed window, so one chunk may go out.
    probe_due: bool,
    /// What is in flight is one chunk sent into the peer's closed window (a probe) ...
    probe_outstanding: bool,
    /// ... and the peer has answered since it was sent: its timeout is no error.
    probe_answered: bool,
    pub rto: Duration,
    pub srtt: Option<Duration>,
    /// Smallest RTT sample: the path's round trip without our queues in it.
    pub min_rtt: Option<Duration>,
    rttvar: Duration,
    rto_min: Duration,
    rto_max: Duration,
}

impl Tx {
    pub fn new(
        initial_tsn: u32,
        peer_rwnd: u32,
        mtu: usize,
        rto: (Duration, Duration, Duration),
    ) -> Tx {
        let next = (1u64 << 32) | u64::from(initial_tsn);
        let peer_rwnd = usize::try_from(peer_rwnd).unwrap_or(usize::MAX);
        Tx {
            pending: VecDeque::new(),
            inflight: VecDeque::new(),
            rtx: BTreeSet::new(),
            next_tsn: next,
            cum_ack: next - 1,
            next_ssn: HashMap::new(),
            buffered: HashMap::new(),
            buffered_total: 0,
            memory: 0,
            released: BTreeMap::new(),
            refused: BTreeSet::new(),
            refused_memory: 0,
            next_msg_id: 0,
            flight_size: 0,
            // RFC 9260 §7.2.1: min(4*MTU, max(2*MTU, 4380)).
            cwnd: (4 * mtu).min((2 * mtu).max(4380)),
            // §7.2.1: "arbitrarily high", e.g. the largest window that can be advertised (the
            // peer's window may grow during the association).
            ssthresh: usize::try_from(u32::MAX).unwrap_or(usize::MAX),
            partial_bytes_acked: 0,
            burst_credit: MAX_BURST,
            cwnd_limited: false,
            last_data_sent: None,
            peer_rwnd,
            mtu,
            fast_recovery_exit: None,
            fast_rtx_pending: false,
            pr_supported: false,
            forward_tsn_pending: false,
            t3: None,
            probe_due: false,
            probe_outstanding: false,
            probe_answered: false,
            rto: rto.0,
            srtt: None,
            min_rtt: None,
            rttvar: Duration::ZERO,
            rto_min: rto.1,
            rto_max: rto.2,
        }
    }

    /// Largest DATA payload in one packet.
    fn max_fragment(&self) -> usize {
        (self.mtu - COMMON_HEADER_LEN - DATA_HEADER_LEN) & !3
    }

    /// Whether a message of `len` bytes fits in the send buffer ([`MAX_SEND_BUFFER`]).
    pub fn has_room(&self, len: usize) -> bool {
        self.memory
            .saturating_add(len)
            .saturating_add(SEND_MESSAGE_OVERHEAD)
            <= MAX_SEND_BUFFER
    }

    /// Takes the oldest chunk off the in-flight queue (it is cumulatively acknowledged).
    fn pop_acked(&mut self) -> Option<Sent> {
        let s = self.inflight.pop_front()?;
        self.memory = self
            .memory
            .saturating_sub(s.payload.len() + SEND_CHUNK_OVERHEAD);
        Some(s)
    }

    /// Takes the message at the front of the queue (sent completely or abandoned);
    /// `len` is its full length.
    fn pop_pending(&mut self, len: usize) -> Option<OutMsg> {
        let m = self.pending.pop_front()?;
        self.memory = self.memory.saturating_sub(len + SEND_MESSAGE_OVERHEAD);
        Some(m)
    }

    pub fn enqueue(&mut self, now: Time, stream: u16, ppid: u32, data: Vec<u8>, opts: SendOptions) {
        let len = data.len();
        self.memory += len + SEND_MESSAGE_OVERHEAD;
        let (max_rtx, expires) = if self.pr_supported {
            (opts.max_retransmits, opts.max_lifetime.map(|d| now + d))
        } else {
            (None, None)
        };
        self.pending.push_back(OutMsg {
            id: self.next_msg_id,
            stream,
            ppid,
            data,
            offset: 0,
            ssn: None,
            unordered: opts.unordered,
            max_rtx,
            expires,
        });
        self.next_msg_id += 1;
        *self.buffered.entry(stream).or_insert(0) += len;
        self.buffered_total += len;
    }

    pub fn buffered_amount(&self, stream: u16) -> usize {
        self.buffered.get(&stream).copied().unwrap_or(0)
    }

    fn release(&mut self, stream: u16, bytes: usize) {
        if bytes == 0 {
            return;
        }
        if let Some(b) = self.buffered.get_mut(&stream) {
            *b = b.saturating_sub(bytes);
            if *b == 0 {
                self.buffered.remove(&stream);
            }
        }
        self.buffered_total = self.buffered_total.saturating_sub(bytes);
        *self.released.entry(stream).or_insert(0) += bytes;
    }

    /// A send on `stream` was refused for want of room (see `refused`).
    pub fn note_refused(&mut self, stream: u16) {
        self.refused.insert(stream);
        self.refused_memory = self.memory;
    }

    /// Streams whose buffered amount decreased since the last call, with the bytes; and,
    /// with 0 bytes unless already listed, the streams refused a send since then if the
    /// send buffer has freed room.
    pub fn drain_released(&mut self) -> Vec<(u16, usize)> {
        if !self.refused.is_empty() && self.memory < self.refused_memory {
            for stream in std::mem::take(&mut self.refused) {
                self.released.entry(stream).or_insert(0);
            }
        }
        std::mem::take(&mut self.released).into_iter().collect()
    }

    /// No queued or unacknowledged data.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.inflight.is_empty()
    }

    pub fn has_unsent(&self, stream: u16) -> bool {
        self.pending.iter().any(|m| m.stream == stream)
    }

    pub fn has_sendable(&self) -> bool {
        !self.rtx.is_empty() || !self.pending.is_empty()
    }

    pub fn last_assigned_tsn(&self) -> u32 {
        lo32(self.next_tsn - 1)
    }

    pub fn reset_ssn(&mut self, stream: u16) {
        self.next_ssn.remove(&stream);
    }

    /// Appends DATA chunks (retransmissions first) to `out` while they fit in `max` bytes
    /// and the congestion and receive windows allow.
    pub fn fill(&mut self, now: Time, out: &mut Vec<u8>, max: usize, stats: &mut SctpStats) {
        let bypass = std::mem::take(&mut self.fast_rtx_pending);
        self.decay_after_idle(now);
        // Retransmissions.
        while let Some(&tsn) = self.rtx.iter().next() {
            if !bypass && self.flight_size >= self.cwnd {
                self.cwnd_limited = true;
                self.burst_credit = 0;
                return;
            }
            let Some(idx) = self.index(tsn) else {
                self.rtx.remove(&tsn);
                continue;
            };
            let expired =
                matches!(self.inflight.get(idx), Some(s) if s.expires.is_some_and(|e| now >= e));
            if expired {
                self.abandon(idx, stats);
                continue;
            }
            // RFC 9260 §6.1 A: into a closed window, one chunk in flight (the probe).
            let len = self.inflight.get(idx).map_or(0, |s| s.payload.len());
            let probe = self.peer_rwnd < len;
            if probe && self.flight_size > 0 {
                return;
            }
            let add = match self.inflight.get(idx) {
                Some(s) if !s.in_flight => s.payload.len(),
                _ => 0,
            };
            let immediate = fills_small_cwnd(self.cwnd, self.mtu, self.flight_size, add);
            let Some(s) = self.inflight.get_mut(idx) else {
                break;
            };
            let need = DATA_HEADER_LEN + ((s.payload.len() + 3) & !3);
            if out.len() + need > max {
                return;
            }
            encode_data(
                out,
                s.flags | (u8::from(immediate) << 3),
                lo32(s.tsn),
                s.stream,
                s.ssn,
                s.ppid,
                &s.payload,
            );
            s.tx_count += 1;
            s.sent_at = now;
            s.needs_rtx = false;
            s.miss = 0;
            if !s.in_flight {
                s.in_flight = true;
                self.flight_size += s.payload.len();
            }
            self.rtx.remove(&tsn);
            self.note_sent(now, probe);
            stats.retransmissions += 1;
            stats.data_chunks_sent += 1;
            if self.t3.is_none() {
                self.t3 = Some(now + self.rto);
            }
        }
        // New data.
        let frag_max = self.max_fragment();
        if self.flight_size == 0 {
            // Nothing outstanding, so no SACK will come to open a burst: this call is the
            // transmit opportunity.
            self.burst_credit = self.burst_credit.max(MAX_BURST);
        }
        let mut new_in_packet = false;
        loop {
            if self.pending.is_empty() {
                // Application-limited: what earlier SACKs allowed is not saved up for a
                // later burst; the next data gets one Max.Burst (RFC 9260 §6.1 D).
                self.cwnd_limited = false;
                self.burst_credit = MAX_BURST;
                return;
            }
            let only_message = self.pending.len() == 1;
            let Some(msg) = self.pending.front_mut() else {
                return;
            };
            if msg.offset == 0 && msg.expires.is_some_and(|e| now >= e) {
                let len = msg.data.len();
                if let Some(m) = self.pop_pending(len) {
                    stats.messages_abandoned += 1;
                    self.release(m.stream, m.data.len());
                }
                continue;
            }
            let remaining = msg.data.len() - msg.offset;
            let size = remaining.min(frag_max);
            let need = DATA_HEADER_LEN + ((size + 3) & !3);
            if out.len() + need > max {
                return;
            }
            // RFC 9260 §6.1 A: the peer's window has no room for this chunk. Once nothing
            // is outstanding, one chunk may probe it, sent on T3-rtx one RTO later.
            let probe = self.peer_rwnd < size;
            if probe && !(self.flight_size == 0 && self.probe_due) {
                if self.inflight.is_empty() && self.t3.is_none() {
                    self.t3 = Some(now + self.rto);
                }
                // Limited by the peer's window, not by congestion control; an opportunity
                // that cannot be used is not saved up for a later burst (the allowance only
                // adds up over SACKs handled before one drain).
                self.cwnd_limited = false;
                self.burst_credit = 0;
                return;
            }
            // Keep the TSN spread well inside what a receiver accepts (tiny messages).
            if self.flight_size >= self.cwnd || self.inflight.len() >= MAX_INFLIGHT_CHUNKS {
                self.cwnd_limited = true;
                self.burst_credit = 0;
                return;
            }
            if !new_in_packet && self.burst_credit == 0 {
                self.cwnd_limited = true;
                return;
            }
            let ssn = match msg.ssn {
                Some(s) => s,
                None => {
                    let s = if msg.unordered {
                        0
                    } else {
                        let n = self.next_ssn.entry(msg.stream).or_insert(0);
                        let s = *n;
                        *n = n.wrapping_add(1);
                        s
                    };
                    msg.ssn = Some(s);
                    s
                }
            };
            let beginning = msg.offset == 0;
            let ending = size == remaining;
            // RFC 9260 §3.3.1 I bit: the last chunk before the queue runs dry asks for a
            // SACK at once, not after the peer's delayed-ack timer: a lone message is
            // acknowledged (and its RTT sampled) in one round trip. So does the chunk
            // that fills a small cwnd (`fills_small_cwnd`).
            let last = (ending && only_message)
                || fills_small_cwnd(self.cwnd, self.mtu, self.flight_size, size);
            let flags = (u8::from(last) << 3)
                | (u8::from(msg.unordered) << 2)
                | (u8::from(beginning) << 1)
                | u8::from(ending);
            let payload = if beginning && ending {
                std::mem::take(&mut msg.data)
            } else {
                msg.data
                    .get(msg.offset..msg.offset + size)
                    .unwrap_or(&[])
                    .to_vec()
            };
            msg.offset += size;
            let stream = msg.stream;
            let tsn = self.next_tsn;
            self.next_tsn += 1;
            encode_data(out, flags, lo32(tsn), msg.stream, ssn, msg.ppid, &payload);
            let sent = Sent {
                tsn,
                msg_id: msg.id,
                stream: msg.stream,
                ssn,
                ppid: msg.ppid,
                flags,
                payload,
                sent_at: now,
                tx_count: 1,
                miss: 0,
                acked: false,
                abandoned: false,
                in_flight: true,
                needs_rtx: false,
                fast_rtx_done: false,
                max_rtx: msg.max_rtx,
                expires: msg.expires,
            };
            let total = msg.offset;
            self.memory += sent.payload.len() + SEND_CHUNK_OVERHEAD;
            if ending {
                self.pop_pending(total);
                stats.messages_sent += 1;
            }
            self.flight_size += sent.payload.len();
            self.peer_rwnd = self.peer_rwnd.saturating_sub(sent.payload.len());
            self.inflight.push_back(sent);
            // Sent from the queue: it leaves bufferedAmount now (reported per burst).
            self.release(stream, size);
            if !new_in_packet {
                new_in_packet = true;
                self.burst_credit = self.burst_credit.saturating_sub(1);
            }
            self.note_sent(now, probe);
            stats.data_chunks_sent += 1;
            if self.t3.is_none() {
                self.t3 = Some(now + self.rto);
            }
        }
    }

    /// RFC 9260 §7.2.1 (and §7.2.2): while no DATA is sent for an RTO, cwnd halves per
    /// RTO down to 4 MTUs. Applied when we next send, from the time we last sent.
    fn decay_after_idle(&mut self, now: Time) {
        let Some(last) = self.last_data_sent else {
            return;
        };
        if self.rto.is_zero() || now < last + self.rto {
            return;
        }
        let floor = 4 * self.mtu;
        let mut at = last;
        // Bounded: 64 halvings take any cwnd to the floor.
        for _ in 0..64 {
            if now < at + self.rto || self.cwnd <= floor {
                break;
            }
            self.cwnd = (self.cwnd / 2).max(floor);
            at += self.rto;
        }
        self.partial_bytes_acked = 0;
        // The next halving is one RTO of silence after the last one applied.
        self.last_data_sent = Some(at);
    }

    /// A DATA chunk went out at `now`, into a closed window (`probe`) or not.
    fn note_sent(&mut self, now: Time, probe: bool) {
        self.last_data_sent = Some(now);
        self.probe_due = false;
        self.probe_outstanding = probe;
        self.probe_answered = false;
    }

    /// A SACK arrived (after `handle_sack`): an outstanding zero window probe is answered,
    /// so its timeout does not count as an error (RFC 9260 §6.1: the receiver may keep its
    /// window closed as long as it likes, as long as it answers).
    pub fn on_sack(&mut self) {
        if self.inflight.is_empty() {
            self.probe_outstanding = false;
        }
        self.probe_answered = self.probe_outstanding;
    }

    fn index(&self, tsn: u64) -> Option<usize> {
        let i = tsn.checked_sub(self.cum_ack + 1)?;
        let i = usize::try_from(i).ok()?;
        (i < self.inflight.len()).then_some(i)
    }

    /// Abandons the whole message that the chunk at `idx` belongs to (RFC 3758 §3.5).
    fn abandon(&mut self, idx: usize, stats: &mut SctpStats) {
        let Some(msg_id) = self.inflight.get(idx).map(|s| s.msg_id) else {
            return;
        };
        let mut start = idx;
        while start > 0
            && self
                .inflight
                .get(start - 1)
                .is_some_and(|s| s.msg_id == msg_id)
        {
            start -= 1;
        }
        let mut i = start;
        while let Some(s) = self.inflight.get_mut(i) {
            if s.msg_id != msg_id {
                break;
            }
            if !s.abandoned {
                s.abandoned = true;
                s.needs_rtx = false;
                if s.in_flight {
                    s.in_flight = false;
                    self.flight_size = self.flight_size.saturating_sub(s.payload.len());
                }
                self.rtx.remove(&s.tsn);
            }
            i += 1;
        }
        // Chunks with a TSN left bufferedAmount when sent; the rest of a partly sent
        // message is dropped too, and leaves it now.
        if let Some(len) = self
            .pending
            .front()
            .filter(|m| m.id == msg_id)
            .map(|m| m.data.len())
        {
            if let Some(m) = self.pop_pending(len) {
                self.release(m.stream, m.data.len().saturating_sub(m.offset));
            }
        }
        stats.messages_abandoned += 1;
        self.update_forward_tsn();
    }

    /// Marks the chunk at `idx` for retransmission, or abandons its message if its
    /// PR-SCTP policy says so. Returns true if marked.
    fn mark_rtx(&mut self, now: Time, idx: usize, stats: &mut SctpStats) -> bool {
        let Some(s) = self.inflight.get(idx) else {
            return false;
        };
        if s.acked || s.abandoned {
            return false;
        }
        let exhausted = s.max_rtx.is_some_and(|m| s.tx_count > m);
        let expired = s.expires.is_some_and(|e| now >= e);
        if exhausted || expired {
            self.abandon(idx, stats);
            return false;
        }
        let Some(s) = self.inflight.get_mut(idx) else {
            return false;
        };
        s.needs_rtx = true;
        if s.in_flight {
            s.in_flight = false;
            self.flight_size = self.flight_size.saturating_sub(s.payload.len());
        }
        self.rtx.insert(s.tsn);
        true
    }

    /// RFC 3758 §3.5 C1-C3: advance the Advanced.Peer.Ack.Point over abandoned chunks.
    fn update_forward_tsn(&mut self) {
        if self.inflight.front().is_some_and(|s| s.abandoned) {
            self.forward_tsn_pending = true;
        }
    }

    /// The FORWARD TSN to send: past the abandoned chunks at the front (RFC 3758 §3.5 C2),
    /// and also past unordered messages the peer has acknowledged whole (it delivered them
    /// on completion, so skipping their TSNs loses nothing). Without that, a lossy tail
    /// needs one round trip per such message before the ack point moves again.
    pub fn forward_tsn(&self) -> Option<ForwardTsnChunk> {
        let mut adv = self.cum_ack;
        let mut streams: BTreeMap<u16, u16> = BTreeMap::new();
        for s in &self.inflight {
            if s.abandoned {
                adv = s.tsn;
                if !s.unordered() {
                    streams.insert(s.stream, s.ssn);
                }
            } else if s.acked && s.unordered() {
                // Only up to the end of such a message: never split one.
                if s.flags & 1 != 0 {
                    adv = s.tsn;
                }
            } else {
                break;
            }
        }
        (adv > self.cum_ack).then(|| ForwardTsnChunk {
            new_cum_tsn: lo32(adv),
            streams: streams.into_iter().collect(),
        })
    }

    fn update_rtt(&mut self, r: Duration) {
        self.min_rtt = Some(self.min_rtt.map_or(r, |m| m.min(r)));
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + delta / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        // RFC 9260 §6.3.1 with G = 1 ms clock granularity.
        self.rto = (srtt + (self.rttvar * 4).max(Duration::from_millis(1)))
            .clamp(self.rto_min, self.rto_max);
    }

    pub fn on_rtt_sample(&mut self, r: Duration) {
        self.update_rtt(r);
    }

    /// RFC 9260 §6.2.1 and §7.2.
    pub fn handle_sack(
        &mut self,
        now: Time,
        sack: &SackChunk,
        stats: &mut SctpStats,
    ) -> SackOutcome {
        let mut out = SackOutcome::default();
        let cum = unwrap_tsn(self.cum_ack, sack.cum_tsn_ack);
        if cum < self.cum_ack || cum >= self.next_tsn {
            return out;
        }
        let mut bytes_acked = 0usize;
        let mut rtt_from: Option<Time> = None;
        let in_recovery_before = self.fast_recovery_exit.is_some();
        // Cumulative ack.
        while self.cum_ack < cum {
            let Some(s) = self.pop_acked() else {
                break;
            };
            self.cum_ack = s.tsn;
            if !s.acked && !s.abandoned {
                bytes_acked += s.payload.len();
                if s.tx_count == 1 {
                    rtt_from = Some(s.sent_at);
                }
            }
            if s.in_flight {
                self.flight_size = self.flight_size.saturating_sub(s.payload.len());
            }
            if s.needs_rtx {
                self.rtx.remove(&s.tsn);
            }
            out.cum_advanced = true;
        }
        // Gap ack blocks.
        let mut highest_newly_acked: Option<usize> = None;
        // The highest TSN any block reports received (as an index), newly or not.
        let mut highest_reported: Option<usize> = None;
        let len = self.inflight.len();
        // Blocks must ascend without overlap; others are ignored, so one SACK costs at
        // most one pass over the in-flight queue.
        let mut prev_end = 0u16;
        for g in &sack.gaps {
            if g.start == 0 || g.end < g.start || g.start <= prev_end {
                continue;
            }
            prev_end = g.end;
            let start = usize::from(g.start) - 1;
            let end = (usize::from(g.end) - 1).min(len.saturating_sub(1));
            if start >= len {
                continue;
            }
            highest_reported = Some(end);
            for i in start..=end {
                let Some(s) = self.inflight.get_mut(i) else {
                    break;
                };
                if s.acked || s.abandoned {
                    continue;
                }
                s.acked = true;
                bytes_acked += s.payload.len();
                if s.tx_count == 1 {
                    rtt_from = Some(rtt_from.map_or(s.sent_at, |t| t.max(s.sent_at)));
                }
                if s.in_flight {
                    s.in_flight = false;
                    self.flight_size = self.flight_size.saturating_sub(s.payload.len());
                }
                if s.needs_rtx {
                    s.needs_rtx = false;
                    self.rtx.remove(&s.tsn);
                }
                highest_newly_acked = Some(highest_newly_acked.map_or(i, |h: usize| h.max(i)));
            }
        }
        out.newly_acked = bytes_acked > 0;
        if let Some(t) = rtt_from {
            let r = now - t;
            self.update_rtt(r);
            out.rtt = Some(r);
        }
        // Fast retransmit (RFC 9260 §7.2.4): miss indications below the highest newly
        // acknowledged TSN (HTNA); and in Fast Recovery, a SACK that advances the cum ack
        // counts one for every TSN it reports missing, below its highest block, whether
        // that block is new or not. (Without that, a second loss in the window was only
        // counted by SACKs for data sent after it, too few at a small cwnd: T3-rtx had to
        // find it.)
        let missing_below = if in_recovery_before && out.cum_advanced {
            highest_reported.max(highest_newly_acked)
        } else {
            highest_newly_acked
        };
        if let Some(h) = missing_below {
            let mut marked = false;
            for i in 0..h {
                let Some(s) = self.inflight.get_mut(i) else {
                    break;
                };
                if s.acked || s.abandoned || s.needs_rtx || s.fast_rtx_done {
                    continue;
                }
                s.miss += 1;
                if s.miss >= 3 {
                    s.fast_rtx_done = true;
                    if self.mark_rtx(now, i, stats) {
                        stats.fast_retransmits += 1;
                        marked = true;
                    }
                }
            }
            if marked && self.fast_recovery_exit.is_none() {
                self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
                self.cwnd = self.ssthresh;
                self.partial_bytes_acked = 0;
                self.fast_recovery_exit = Some(self.next_tsn - 1);
                self.fast_rtx_pending = true;
            } else if marked {
                self.fast_rtx_pending = true;
            }
        }
        // Congestion window (RFC 9260 §7.2.1, §7.2.2): on every SACK that acknowledges new
        // data, while congestion control limited the last send (the window is in use).
        let in_recovery = self.fast_recovery_exit.is_some();
        if bytes_acked > 0 && self.cwnd_limited {
            if self.cwnd <= self.ssthresh {
                if !in_recovery {
                    self.cwnd += bytes_acked.min(SLOW_START_MAX_MTUS_PER_SACK * self.mtu);
                }
            } else {
                self.partial_bytes_acked += bytes_acked;
                if self.partial_bytes_acked >= self.cwnd {
                    self.partial_bytes_acked -= self.cwnd;
                    self.cwnd += self.mtu;
                }
            }
        }
        if self.fast_recovery_exit.is_some_and(|e| self.cum_ack >= e) {
            self.fast_recovery_exit = None;
        }
        // Each SACK is a transmit opportunity for up to Max.Burst new packets (§6.1 D).
        self.burst_credit = self.burst_credit.saturating_add(MAX_BURST);
        let a_rwnd = usize::try_from(sack.a_rwnd).unwrap_or(usize::MAX);
        self.peer_rwnd = a_rwnd.saturating_sub(self.flight_size);
        // T3-rtx (RFC 9260 §6.3.2 R2, R3).
        if self.inflight.is_empty() {
            self.t3 = None;
            // §7.2.2: all data acknowledged.
            self.partial_bytes_acked = 0;
        } else if out.cum_advanced {
            self.t3 = Some(now + self.rto);
        }
        if self.cum_ack < cum {
            self.cum_ack = cum;
        }
        self.update_forward_tsn();
        if !self.forward_tsn_pending && self.inflight.front().is_some_and(|s| s.abandoned) {
            self.forward_tsn_pending = true;
        }
        out
    }

    /// Treats a cumulative TSN (from SHUTDOWN) like a SACK without gaps.
    pub fn handle_cum_ack(&mut self, now: Time, cum_tsn: u32, stats: &mut SctpStats) {
        let sack = SackChunk {
            cum_tsn_ack: cum_tsn,
            a_rwnd: u32::try_from(self.peer_rwnd + self.flight_size).unwrap_or(u32::MAX),
            gaps: Vec::new(),
            dup_tsns: Vec::new(),
        };
        self.handle_sack(now, &sack, stats);
    }

    /// T3-rtx expiry (RFC 9260 §6.3.3). Returns whether it counts against
    /// Association.Max.Retrans: not if nothing was outstanding (then it was the timer of
    /// the first zero window probe), nor if the outstanding probe was answered.
    pub fn on_t3(&mut self, now: Time, stats: &mut SctpStats) -> bool {
        self.t3 = None;
        if self.inflight.is_empty() {
            self.probe_due = !self.pending.is_empty();
            return false;
        }
        let answered_probe = self.probe_outstanding && self.probe_answered;
        stats.t3_expirations += 1;
        self.rto = (self.rto * 2).min(self.rto_max);
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.partial_bytes_acked = 0;
        self.fast_recovery_exit = None;
        for i in 0..self.inflight.len() {
            let skip = self
                .inflight
                .get(i)
                .is_none_or(|s| s.acked || s.abandoned || s.needs_rtx);
            if !skip {
                self.mark_rtx(now, i, stats);
            }
        }
        self.update_forward_tsn();
        if !self.inflight.is_empty() {
            self.t3 = Some(now + self.rto);
        }
        !answered_probe
    }

    pub fn stats_into(&self, stats: &mut SctpStats) {
        stats.cwnd = self.cwnd;
        stats.ssthresh = self.ssthresh;
        stats.flight_size = self.flight_size;
        stats.peer_rwnd = self.peer_rwnd;
        stats.srtt_micros = self
            .srtt
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        stats.rto_micros = u64::try_from(self.rto.as_micros()).unwrap_or(u64::MAX);
        stats.buffered_amount = self.buffered_total;
        stats.send_memory = self.memory;
    }
}

/// Whether a chunk of `len` more bytes in flight fills a small cwnd (below
/// [`IMMEDIATE_SACK_CWND_MTUS`]): nothing more may be sent until a SACK comes, and with so
/// few packets in flight the peer's delayed-ack timer (200 ms, ten round trips of a 20 ms
/// path) may be what sends it, after a T3-rtx (cwnd 1 MTU) or while loss keeps cwnd at a
/// few MTUs. Such a chunk gets the I bit (RFC 9260 §3.3.1: the sender benefits from the
/// SACK being sent back without delay).
fn fills_small_cwnd(cwnd: usize, mtu: usize, flight_size: usize, len: usize) -> bool {
    cwnd < IMMEDIATE_SACK_CWND_MTUS * mtu && flight_size.saturating_add(len) >= cwnd
}

/// Writes one DATA chunk.
fn encode_data(
    out: &mut Vec<u8>,
    flags: u8,
    tsn: u32,
    stream: u16,
    ssn: u16,
    ppid: u32,
    payload: &[u8],
) {
    let len = u16::try_from(DATA_HEADER_LEN + payload.len()).unwrap_or(u16::MAX);
    out.push(CT_DATA);
    out.push(flags);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&tsn.to_be_bytes());
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(&ssn.to_be_bytes());
    out.extend_from_slice(&ppid.to_be_bytes());
    out.extend_from_slice(payload);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_unwrap() {
        let r = (1u64 << 32) | 0xffff_fff0;
        assert_eq!(unwrap_tsn(r, 0xffff_fff5), r + 5);
        assert_eq!(unwrap_tsn(r, 5), r + 21);
        assert_eq!(unwrap_tsn(r, 0xffff_ffe0), r - 16);
        assert_eq!(lo32(r + 21), 5);
    }

    impl Tx {
        pub fn debug_state(&self) -> String {
            let front: Vec<String> = self
                .inflight
                .iter()
                .take(8)
                .map(|s| {
                    format!(
                        "tsn{} ssn{} f{} tx{} a{} ab{} if{} rtx{}",
                        lo32(s.tsn),
                        s.ssn,
                        s.flags,
                        s.tx_count,
                        s.acked,
                        s.abandoned,
                        s.in_flight,
                        s.needs_rtx
                    )
                })
                .collect();
            format!(
                "cum {} next {} rtx {:?} fwd {} t3 {:?} pending {} front {:?}",
                lo32(self.cum_ack),
                lo32(self.next_tsn),
                self.rtx,
                self.forward_tsn_pending,
                self.t3,
                self.pending.len(),
                front
            )
        }
    }
}
