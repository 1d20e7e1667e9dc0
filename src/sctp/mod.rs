//! SCTP over DTLS for WebRTC data channels.
//!
//! RFC 9260 (SCTP), RFC 8261 (one SCTP packet per DTLS record, no IP layer), RFC 3758
//! (partial reliability, FORWARD TSN), RFC 6525 (stream reset). Single-homed, one
//! association, sans-IO.
//!
//! # Driving an [`Association`]
//!
//! * inputs: [`Association::handle_packet`] (one DTLS application-data record),
//!   [`Association::handle_timeout`] (an early call is harmless), and the API calls
//!   (`connect`, `send`, `reset_stream`, `shutdown`, `abort`).
//! * outputs: after every input drain [`Association::poll_transmit`] (one SCTP packet per
//!   call, chunks bundled) and [`Association::poll_event`] until both return `None`, then
//!   arm a timer for [`Association::poll_timeout`]. Taking a message with `poll_event`
//!   frees receive window and can make a window-update SACK due, so drain
//!   `poll_transmit` once more after draining events.
//!
//! # Layout
//!
//! * `wire`: codec of the common header, every chunk and parameter; `crc32c`: checksum.
//! * `cookie`: the HMAC-signed state cookie (the INIT side keeps no state).
//! * `assoc`: handshake (INIT collisions, §5.2), dispatch by state, timers, heartbeats,
//!   shutdown, stream reset, packet assembly.
//! * `tx`: send queue, fragmentation, in-flight chunks keyed by TSN, SACK processing,
//!   T3-rtx / fast retransmit, congestion control, PR-SCTP abandonment.
//! * `rx`: TSN tracking, SACK generation, reassembly, ordered/unordered delivery.
//!
//! # Receive window
//!
//! The window advertised starts at `receive_window` and doubles up to
//! `max_receive_window` (at most [`MAX_RECEIVE_WINDOW`]) while whole windows arrive
//! within two of the path's smallest round trips (the bandwidth-delay product exceeds the
//! window) and the application keeps up; the bounds below then hold for that window.
//!
//! # Bounds
//!
//! Everything the peer can grow is bounded by the constants below, counted at what it costs
//! on the heap, not by its payload alone:
//!
//! * receive side: payload bytes held by the receive window, and their cost (payload plus
//!   [`CHUNK_OVERHEAD`] per fragment held for reassembly, [`MESSAGE_OVERHEAD`] per message
//!   waiting for an earlier SSN or for the user, [`TSN_RUN_OVERHEAD`] per run of TSNs kept
//!   above the cumulative TSN, [`TSN_MARK_OVERHEAD`] per B/E mark) by
//!   [`MAX_RECEIVE_BUFFER_FACTOR`] x the window; chunks that fill no hole (nor release
//!   held messages) stop at three quarters of that and the advertised window shrinks with
//!   it. Per-stream ordering state is bounded by the stream id space
//!   ([`MAX_STREAM_STATE_MEMORY`]). In all, [`max_receive_memory`] of the window
//!   ([`MAX_RECEIVE_MEMORY`] for the default one); `tests/sctp_memory.rs` measures it with a
//!   counting allocator under the many-tiny-messages attack.
//! * the out-of-order TSN range by [`MAX_TSN_AHEAD`], message size by `max_message_size`
//!   (a larger message aborts the association), queued responses by
//!   [`MAX_CONTROL_CHUNKS`] and [`MAX_QUEUED_PACKETS`].
//! * send side: [`MAX_SEND_BUFFER`] (`send` refuses more); a peer that keeps its window
//!   closed gets one zero window probe in flight (RFC 9260 §6.1), nothing else grows.

mod assoc;
mod cookie;
pub mod crc32c;
mod error;
#[doc(hidden)]
pub mod fuzz;
mod rx;
mod tx;
pub mod wire;

#[cfg(test)]
mod tests;

use core::time::Duration;

pub use assoc::Association;
pub use error::{SctpError, WireError};

/// Default largest user message we reassemble (and accept to send unless the SDP says otherwise).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 256 * 1024;
/// Default SCTP packet size: a 1200-byte path minus DTLS and UDP overhead.
pub const DEFAULT_MAX_PACKET_SIZE: usize = 1160;
/// Default receive window (advertised a_rwnd): bytes buffered for reassembly, ordering and
/// undrained events.
pub const DEFAULT_RECEIVE_WINDOW: usize = 1024 * 1024;
/// Default largest receive window the association grows to (see `max_receive_window`):
/// 4 MiB per round trip is 200 MiB/s at 20 ms, 40 MiB/s at 100 ms.
pub const DEFAULT_MAX_RECEIVE_WINDOW: usize = 4 * 1024 * 1024;
/// Hard ceiling on any configured receive window. With [`MAX_RECEIVE_BUFFER_FACTOR`] it
/// bounds what one association may hold on the receive side.
pub const MAX_RECEIVE_WINDOW: usize = 16 * 1024 * 1024;
/// Hard ceiling on what the receive side holds at its cost (payload and bookkeeping), as a
/// multiple of the receive window. Chunks that fill a hole (or release messages held for
/// an earlier SSN) may use the last quarter, and payload beyond the window, so a full
/// buffer cannot deadlock.
pub const MAX_RECEIVE_BUFFER_FACTOR: usize = 2;
/// Streams we announce in each direction (RFC 8831 §6.2: 65535).
pub const MAX_STREAMS: u16 = 65535;
/// Smallest and largest configurable packet sizes.
pub const MIN_PACKET_SIZE: usize = 256;
pub const MAX_PACKET_SIZE: usize = 65535;
/// Max.Burst (RFC 9260 §6.1 rule D, §16): most packets of new DATA one transmit opportunity
/// may release. Each SACK received is one opportunity (so SACKs handled together before a
/// drain add up); so is a send after our queue ran dry or with nothing in flight. An
/// opportunity that cwnd or the peer's window leaves unused is not saved up.
pub const MAX_BURST: usize = 4;
/// Slow start (RFC 9260 §7.2.1): one SACK grows cwnd by the bytes it newly acknowledges,
/// at most this many MTUs. The per-SACK bound protects against ACK splitting; RFC 4960's
/// text put it at one MTU, which with a SACK for every second packet (§6.2) grows cwnd
/// by only half of what was acknowledged. Two is the L of appropriate byte counting
/// (RFC 3465 §2.2): one MTU per packet acknowledged, so cwnd doubles per round trip.
pub const SLOW_START_MAX_MTUS_PER_SACK: usize = 2;
/// Below this many MTUs of cwnd, the DATA chunk that fills cwnd carries the I bit (RFC
/// 9260 §3.3.1), so the peer acknowledges it at once instead of on its delayed-ack timer:
/// with a window of a few packets (after a retransmission timeout, or under steady loss)
/// an odd packet would otherwise wait up to 200 ms for its SACK. Above it, more packets
/// follow soon enough to trigger the every-second-packet SACK.
pub const IMMEDIATE_SACK_CWND_MTUS: usize = 8;
/// Most SACKs waiting to be sent. One is taken for every second DATA packet when it
/// arrives (RFC 9260 §6.2), so a host that feeds many datagrams before draining still
/// acknowledges each pair; past the bound the oldest is dropped (a later SACK covers it).
pub const MAX_QUEUED_SACKS: usize = 32;
/// Most gap ack blocks we put in one SACK. RFC 9260 §6.2: as many as fit in one packet
/// (a SACK chunk is 16 bytes, 4 per block and per duplicate TSN): at the default packet
/// size that is 267 with [`MAX_DUP_TSNS`] duplicates, so this bound only cuts in for
/// larger packets, where it keeps a SACK's cost per packet received small. With fewer
/// blocks than gaps (the 64 of before: a 10 % loss across a 1 MiB window opens about
/// 90) the sender never learns what arrived above the last block reported.
pub const MAX_GAP_BLOCKS: usize = 512;
/// Most duplicate TSNs we remember and report in one SACK.
pub const MAX_DUP_TSNS: usize = 16;
/// Farthest a received TSN may be ahead of our cumulative TSN (bounds the out-of-order
/// TSN set and the reassembly map by count, whatever the chunk sizes).
pub const MAX_TSN_AHEAD: u64 = 65_535;
/// Most DATA chunks we keep in flight (half of what a receiver like us accepts ahead).
pub const MAX_INFLIGHT_CHUNKS: usize = 32_768;
/// Most bytes queued on the send side of one association (browsers use 16 MiB), counted at
/// their cost: payload plus [`SEND_MESSAGE_OVERHEAD`] per queued message and
/// [`SEND_CHUNK_OVERHEAD`] per DATA chunk waiting for its acknowledgement (a fragmented
/// message's chunks are copies, so the message being fragmented counts twice until its last
/// chunk is sent). Past it `send` returns [`SctpError::SendBufferFull`] and queues nothing.
pub const MAX_SEND_BUFFER: usize = 16 * 1024 * 1024;

// ---- What held data costs ----
//
// Peer-driven buffers are charged what they occupy on the heap, not their payload alone:
// each stored item costs its slot in the container that holds it (`size_of` of the real
// entry, times the container's worst-case slack) plus the allocator's overhead of its
// payload block. The costs are checked against a counting allocator by
// `tests/sctp_memory.rs`.

/// Heap overhead of one allocation beyond the bytes asked for: the allocator's header and
/// rounding (glibc: an 8-byte header, 16-byte granules, 32-byte smallest block).
pub const ALLOCATION_OVERHEAD: usize = 32;

/// Worst-case heap bytes per entry of a `BTreeMap`/`BTreeSet` whose entries (key and
/// value) take `entry` bytes: a node holds at most 11 entries behind a 16-byte header and
/// is at least 5/11 full except for the root; an internal node (12 more child pointers)
/// comes with at least 6 children.
pub const fn btree_entry_cost(entry: usize) -> usize {
    let leaf = 16 + 11 * entry + ALLOCATION_OVERHEAD;
    let internal = leaf + 12 * core::mem::size_of::<usize>();
    (leaf + internal / 5).div_ceil(5)
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// Receive side: charged per DATA fragment held for reassembly on top of its payload (its
/// entry in the reassembly map, the payload block).
pub const CHUNK_OVERHEAD: usize =
    btree_entry_cost(core::mem::size_of::<(u64, wire::DataChunk)>()) + ALLOCATION_OVERHEAD;

/// Receive side: charged per complete message on top of its payload while it waits for an
/// earlier SSN (its entry in the ordering map) or for the user to take it (its slot in
/// the event queue, which can be twice its length, and in the delivery list), plus the
/// payload block.
pub const MESSAGE_OVERHEAD: usize = max(
    btree_entry_cost(core::mem::size_of::<((u16, u16), (u32, Vec<u8>))>()),
    2 * core::mem::size_of::<SctpEvent>() + 2 * core::mem::size_of::<rx::Delivered>(),
) + ALLOCATION_OVERHEAD;

/// Receive side: charged per run of consecutive TSNs kept above the cumulative TSN (the
/// received set and the reassembly index each keep one entry per run).
pub const TSN_RUN_OVERHEAD: usize = btree_entry_cost(core::mem::size_of::<(u64, u64)>());

/// Receive side: charged per held fragment that carries the B or E bit (its index entry).
pub const TSN_MARK_OVERHEAD: usize = btree_entry_cost(core::mem::size_of::<u64>());

/// Per-stream ordering state (the next SSN of each stream id that has carried an ordered
/// message) at its largest: a hash table of every 16-bit stream id, at most 7/8 full.
pub const MAX_STREAM_STATE_MEMORY: usize =
    2 * 65536 * (core::mem::size_of::<(u16, u16)>() + 1) + 16 + ALLOCATION_OVERHEAD;

/// The most the receive side of an association holds, at its cost, with a receive window
/// of `window` bytes.
pub const fn max_receive_memory(window: usize) -> usize {
    window * MAX_RECEIVE_BUFFER_FACTOR + MAX_STREAM_STATE_MEMORY
}

/// [`max_receive_memory`] of the default receive window.
pub const MAX_RECEIVE_MEMORY: usize = max_receive_memory(DEFAULT_RECEIVE_WINDOW);

/// Send side: charged per queued message on top of its payload (its slot in the queue,
/// which can be twice its length, and its payload block).
pub const SEND_MESSAGE_OVERHEAD: usize =
    2 * core::mem::size_of::<tx::OutMsg>() + ALLOCATION_OVERHEAD;

/// Send side: charged per DATA chunk awaiting acknowledgement on top of its payload (its
/// slot in the in-flight queue, its entry in the retransmission set, its payload block).
pub const SEND_CHUNK_OVERHEAD: usize = 2 * core::mem::size_of::<tx::Sent>()
    + btree_entry_cost(core::mem::size_of::<u64>())
    + ALLOCATION_OVERHEAD;
/// Most control chunks (heartbeat acks, error reports, reconfig responses) queued for sending.
pub const MAX_CONTROL_CHUNKS: usize = 64;
/// Most stand-alone packets (INIT ACKs) queued for sending.
pub const MAX_QUEUED_PACKETS: usize = 16;
/// Largest state cookie we echo back.
pub const MAX_COOKIE_LEN: usize = 4096;
/// Most streams remembered as waiting for an outgoing reset.
pub const MAX_PENDING_RESETS: usize = 65535;

/// Configuration of one association.
#[derive(Clone, Debug)]
pub struct SctpConfig {
    pub local_port: u16,
    pub remote_port: u16,
    /// Largest message we reassemble; a larger one aborts the association.
    pub max_message_size: usize,
    /// Largest SCTP packet we send (the DTLS record payload).
    pub max_packet_size: usize,
    /// Our receive buffer, advertised as a_rwnd (raised to hold at least one largest message).
    /// This is where it starts: see `max_receive_window`.
    pub receive_window: usize,
    /// The receive window doubles, up to this, each time a whole window of data has
    /// arrived within two of the smallest RTTs measured and while the application kept up
    /// (held less than a quarter of it): a bulk transfer over a long path is then not
    /// limited to `receive_window` per round trip, while a short path, an idle or a
    /// slow-reading association keeps the small window. At most [`MAX_RECEIVE_WINDOW`];
    /// below `receive_window` means no growth.
    pub max_receive_window: usize,
    pub rto_initial: Duration,
    pub rto_min: Duration,
    pub rto_max: Duration,
    /// Association.Max.Retrans: consecutive unanswered retransmission timeouts or heartbeats.
    pub max_retransmissions: u32,
    /// Max.Init.Retransmits.
    pub max_init_retransmissions: u32,
    pub heartbeat_interval: Duration,
    pub delayed_ack: Duration,
    pub cookie_lifetime: Duration,
}

impl Default for SctpConfig {
    fn default() -> Self {
        SctpConfig {
            local_port: 5000,
            remote_port: 5000,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_packet_size: DEFAULT_MAX_PACKET_SIZE,
            receive_window: DEFAULT_RECEIVE_WINDOW,
            max_receive_window: DEFAULT_MAX_RECEIVE_WINDOW,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(60),
            max_retransmissions: 10,
            max_init_retransmissions: 8,
            heartbeat_interval: Duration::from_secs(30),
            delayed_ack: Duration::from_millis(200),
            cookie_lifetime: Duration::from_secs(60),
        }
    }
}

/// Per-message reliability and ordering (RFC 3758 policies).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SendOptions {
    pub unordered: bool,
    /// Abandon the message after this many retransmissions (0: never retransmitted).
    pub max_retransmits: Option<u32>,
    /// Abandon the message once it has been queued this long.
    pub max_lifetime: Option<Duration>,
}

/// What the association reports to its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SctpEvent {
    Connected,
    Message {
        stream: u16,
        ppid: u32,
        data: Vec<u8>,
    },
    /// `bytes` of user data on `stream` left the send queue: sent for the first time, or
    /// abandoned unsent (webrtc-pc: bufferedAmount falls "when the underlying data
    /// transport sends data from its queue"). Reported once per input and per burst sent
    /// (when `poll_transmit` has nothing more), not per chunk or packet.
    /// `bytes` 0: a send on `stream` was refused ([`SctpError::SendBufferFull`]) and
    /// acknowledgements have since freed room in the send buffer: try again.
    BufferedAmountDecreased {
        stream: u16,
        bytes: usize,
    },
    /// The peer reset its outgoing stream (it closed the channel); data before the reset was delivered.
    IncomingStreamReset {
        stream: u16,
    },
    /// Our outgoing reset of `stream` completed.
    OutgoingStreamReset {
        stream: u16,
    },
    /// Graceful shutdown done.
    Closed,
    Aborted {
        reason: String,
        /// The first error cause code of the peer's ABORT (RFC 9260 §3.3.10; 12 is
        /// User-Initiated Abort), `None` when the association failed on our side.
        cause: Option<u16>,
    },
}

/// Counters and congestion state, for `getStats` and debugging.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SctpStats {
    pub packets_sent: u64,
    pub packets_received: u64,
    /// Packets dropped: undecodable or bad checksum.
    pub dropped_malformed: u64,
    /// Packets dropped: wrong verification tag, out of the blue, or not expected in this state.
    pub dropped_unexpected: u64,
    /// DATA chunks dropped because the receive buffer was full.
    pub dropped_receive_window: u64,
    /// Invalid or stale cookies.
    pub dropped_cookies: u64,
    pub data_chunks_sent: u64,
    pub data_chunks_received: u64,
    pub duplicate_tsns_received: u64,
    pub retransmissions: u64,
    pub fast_retransmits: u64,
    pub t3_expirations: u64,
    pub messages_sent: u64,
    pub messages_received: u64,
    pub messages_abandoned: u64,
    pub cwnd: usize,
    pub ssthresh: usize,
    pub flight_size: usize,
    pub peer_rwnd: usize,
    pub srtt_micros: Option<u64>,
    pub rto_micros: u64,
    /// Bytes accepted by `send` and not yet sent (put into a packet for the first time)
    /// or abandoned, all streams: what W3C `bufferedAmount` counts. Unacknowledged data in
    /// flight is in `send_memory`.
    pub buffered_amount: usize,
    /// Bytes held on the receive side (reassembly, ordering, undrained events), at their
    /// cost (payload and bookkeeping, see [`CHUNK_OVERHEAD`] and [`MESSAGE_OVERHEAD`]).
    pub receive_buffered: usize,
    /// Our current receive window (what a_rwnd is computed from).
    pub receive_window: usize,
    /// What the send side holds at its cost, against [`MAX_SEND_BUFFER`].
    pub send_memory: usize,
}
