//! What a hostile peer can make one SCTP association hold, measured on the heap.
//!
//! A counting global allocator (this file is its own test binary) tracks the live heap
//! bytes as glibc's malloc lays them out (8-byte header, 16-byte granules, 32-byte smallest
//! block). A forged peer, after a genuine handshake, sends about a million 1-byte ordered
//! DATA chunks across 65,000 streams with SSN 0 of every stream missing (every message
//! waits for an earlier SSN), then 1-byte fragments at every other TSN (every one waits
//! for reassembly). The heap held must stay under `max_receive_memory(window)`, the charge
//! must not undercount what is really held, and the association must keep working: once
//! the holes are filled every message is delivered and the memory is given back.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use polyrtc::crypto::Rng;
use polyrtc::sctp::wire::{Chunk, CommonHeader, DataChunk, Packet};
use polyrtc::sctp::{max_receive_memory, Association, SctpConfig, SctpEvent, SendOptions};
use polyrtc::sctp::{MAX_STREAM_STATE_MEMORY, MAX_TSN_AHEAD};
use polyrtc::Time;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The block glibc's malloc uses for a request of `size` bytes.
fn block(size: usize) -> usize {
    ((size + 8 + 15) & !15).max(32)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(block(layout.size()), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(block(layout.size()), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(block(layout.size()), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(block(layout.size()), Ordering::Relaxed);
            LIVE.fetch_add(block(new_size), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Heap the test itself may hold beside the association (a packet or two, SACKs).
const SLACK: usize = 64 * 1024;

const STREAMS: u16 = 65_000;
const SSNS: u16 = 16;
/// 1-byte DATA chunks per forged packet (16-byte header + 1 byte, padded to 20): about
/// what fits in one 1200-byte datagram.
const PER_PACKET: usize = 57;
/// The helper's genuine message goes on a stream the attack does not use.
const PROBE_STREAM: u16 = 65_100;

struct Forger {
    vtag: u32,
    next_tsn: u32,
    now: Time,
}

impl Forger {
    fn chunk(&mut self, stream: u16, ssn: u16, unordered: bool, b: bool, e: bool, byte: u8) -> DataChunk {
        let tsn = self.next_tsn;
        self.next_tsn = self.next_tsn.wrapping_add(1);
        DataChunk {
            immediate: false,
            unordered,
            beginning: b,
            ending: e,
            tsn,
            stream,
            ssn,
            ppid: 53,
            payload: vec![byte],
        }
    }

    fn packet(&self, chunks: Vec<DataChunk>) -> Vec<u8> {
        Packet {
            header: CommonHeader { src_port: 5000, dst_port: 5000, verification_tag: self.vtag },
            chunks: chunks.into_iter().map(Chunk::Data).collect(),
        }
        .encode()
    }
}

/// Feeds one packet and discards what the association answers (SACKs).
fn feed(a: &mut Association, now: Time, pkt: &[u8]) {
    a.handle_packet(now, pkt);
    while a.poll_transmit(now).is_some() {}
}

fn take_messages(a: &mut Association, now: Time, out: &mut Vec<(u16, Vec<u8>)>) {
    while let Some(e) = a.poll_event() {
        if let SctpEvent::Message { stream, data, .. } = e {
            out.push((stream, data));
        }
    }
    while a.poll_transmit(now).is_some() {}
}

/// A genuine handshake between `a` (under test) and a helper, then one message from the
/// helper: returns the forger (A's tag, the helper's next TSN).
fn established(a: &mut Association) -> Forger {
    let mut rng = Rng::seeded(0x5c7b_0005);
    let mut b = Association::new(SctpConfig::default(), rng.fork());
    let now = Time::from_millis(1000);
    b.connect(now);
    for _ in 0..20 {
        while let Some(p) = b.poll_transmit(now) {
            a.handle_packet(now, &p);
        }
        while let Some(p) = a.poll_transmit(now) {
            b.handle_packet(now, &p);
        }
    }
    assert!(a.is_established() && b.is_established());
    b.send(now, PROBE_STREAM, 51, b"probe", SendOptions::default()).unwrap();
    let pkt = b.poll_transmit(now).unwrap();
    let decoded = Packet::decode(&pkt).unwrap();
    let tsn = decoded
        .chunks
        .iter()
        .find_map(|c| match c {
            Chunk::Data(d) => Some(d.tsn),
            _ => None,
        })
        .unwrap();
    a.handle_packet(now, &pkt);
    let mut got = Vec::new();
    take_messages(a, now, &mut got);
    assert_eq!(got, vec![(PROBE_STREAM, b"probe".to_vec())]);
    Forger { vtag: decoded.header.verification_tag, next_tsn: tsn.wrapping_add(1), now }
}

#[test]
fn a_million_tiny_held_chunks_stay_within_the_named_receive_bound() {
    let config = SctpConfig::default();
    let window = config.receive_window;
    let bound = max_receive_memory(window);
    let rng = Rng::seeded(5);
    let mut a = Association::new(config, rng);
    let mut f = established(&mut a);
    let base = live();
    let now = f.now;
    eprintln!(
        "costs: CHUNK_OVERHEAD {} MESSAGE_OVERHEAD {} TSN_RUN_OVERHEAD {} TSN_MARK_OVERHEAD {} MAX_STREAM_STATE_MEMORY {}",
        polyrtc::sctp::CHUNK_OVERHEAD,
        polyrtc::sctp::MESSAGE_OVERHEAD,
        polyrtc::sctp::TSN_RUN_OVERHEAD,
        polyrtc::sctp::TSN_MARK_OVERHEAD,
        MAX_STREAM_STATE_MEMORY
    );

    // Phase 1: ordered 1-byte messages with SSNs 1..=16 on 65,000 streams; SSN 0 of every
    // stream never comes. Every accepted one waits for an earlier SSN.
    let mut peak = 0usize;
    let mut charged_at_peak = 0usize;
    let mut batch = Vec::with_capacity(PER_PACKET);
    let first_tsn = f.next_tsn;
    let total = usize::from(SSNS) * usize::from(STREAMS);
    for i in 0..total {
        let (ssn, stream) = (1 + i / usize::from(STREAMS), i % usize::from(STREAMS));
        let (ssn, stream) = (u16::try_from(ssn).unwrap(), u16::try_from(stream).unwrap());
        {
            batch.push(f.chunk(stream, ssn, false, true, true, (stream % 251) as u8));
            if batch.len() == PER_PACKET || i + 1 == total {
                let pkt = f.packet(std::mem::take(&mut batch));
                feed(&mut a, now, &pkt);
                let held = live().saturating_sub(base);
                if held > peak {
                    peak = held;
                    charged_at_peak = a.stats().receive_buffered;
                }
            }
        }
    }
    let stats = a.stats();
    eprintln!(
        "phase 1: {total} chunks sent, {} dropped, peak heap held {peak} B (bound {bound} B), charged {charged_at_peak} B",
        stats.dropped_receive_window
    );
    assert!(peak <= bound + SLACK, "held {peak} B, bound {bound} B");
    // The charge is honest: what is held beyond the stream table is charged.
    assert!(
        peak <= charged_at_peak + MAX_STREAM_STATE_MEMORY + SLACK,
        "held {peak} B but charged {charged_at_peak} B"
    );
    assert!(stats.receive_buffered <= window * polyrtc::sctp::MAX_RECEIVE_BUFFER_FACTOR);
    assert!(stats.dropped_receive_window > 0, "the bound was reached");
    assert!(a.is_established());

    // The accepted chunks are the first ones (TSNs in order until the memory ran out):
    // SSN 1 of streams 0..k. Their SSN 0 fills the holes.
    let accepted = total - usize::try_from(stats.dropped_receive_window).unwrap();
    assert!(accepted > 0 && accepted < usize::from(STREAMS), "{accepted}");
    f.next_tsn = first_tsn.wrapping_add(u32::try_from(accepted).unwrap());
    let mut got = Vec::new();
    let streams: Vec<u16> = (0..u16::try_from(accepted).unwrap()).collect();
    for group in streams.chunks(PER_PACKET) {
        let chunks = group.iter().map(|&s| f.chunk(s, 0, false, true, true, 0xee)).collect();
        let pkt = f.packet(chunks);
        feed(&mut a, now, &pkt);
        take_messages(&mut a, now, &mut got);
    }
    assert_eq!(got.len(), 2 * accepted, "SSN 0 and the held SSN 1 of every stream");
    for (i, (stream, data)) in got.iter().enumerate() {
        assert_eq!(usize::from(*stream), i / 2);
        let want = if i % 2 == 0 { 0xee } else { (stream % 251) as u8 };
        assert_eq!(data, &vec![want]);
    }
    drop(got);
    assert_eq!(a.stats().receive_buffered, 0);
    let after = live().saturating_sub(base);
    assert!(after <= MAX_STREAM_STATE_MEMORY + SLACK, "{after} B still held after delivery");

    // Phase 2: out-of-order TSNs. Unordered 2-fragment messages, only the first fragment
    // (B) of each sent, at every other TSN: each waits for reassembly behind a hole.
    let start = f.next_tsn;
    let pairs = usize::try_from(MAX_TSN_AHEAD).unwrap() / 2;
    let dropped_before = a.stats().dropped_receive_window;
    let mut peak = 0usize;
    let mut batch = Vec::new();
    for k in 0..pairs {
        f.next_tsn = start.wrapping_add(u32::try_from(2 * k).unwrap());
        batch.push(f.chunk(7, 0, true, true, false, (k % 251) as u8));
        if batch.len() == PER_PACKET || k + 1 == pairs {
            let pkt = f.packet(std::mem::take(&mut batch));
            feed(&mut a, now, &pkt);
            peak = peak.max(live().saturating_sub(base));
        }
    }
    let dropped = usize::try_from(a.stats().dropped_receive_window - dropped_before).unwrap();
    let held_b = pairs - dropped;
    eprintln!("phase 2: {pairs} lone fragments sent, {dropped} dropped, peak heap held {peak} B");
    assert!(peak <= bound + SLACK, "held {peak} B, bound {bound} B");
    assert!(dropped > 0 && held_b > 0);
    // The second fragments fill the holes (accepted from the reserve): every message whose
    // first fragment was kept completes.
    let mut got = Vec::new();
    let mut batch = Vec::new();
    for k in 0..held_b {
        f.next_tsn = start.wrapping_add(u32::try_from(2 * k + 1).unwrap());
        batch.push(f.chunk(7, 0, true, false, true, 0xff));
        if batch.len() == PER_PACKET || k + 1 == held_b {
            let pkt = f.packet(std::mem::take(&mut batch));
            feed(&mut a, now, &pkt);
            take_messages(&mut a, now, &mut got);
            peak = peak.max(live().saturating_sub(base));
        }
    }
    assert!(peak <= bound + SLACK, "held {peak} B, bound {bound} B");
    assert_eq!(got.len(), held_b);
    for (k, (_, data)) in got.iter().enumerate() {
        assert_eq!(data, &vec![(k % 251) as u8, 0xff]);
    }
    drop(got);
    assert_eq!(a.stats().receive_buffered, 0);
    assert!(a.is_established());

    // And ordinary traffic after it all.
    f.next_tsn = start.wrapping_add(u32::try_from(2 * held_b).unwrap());
    let last = f.chunk(1, 0, true, true, true, 0x42);
    let pkt = f.packet(vec![last]);
    let later = f.now + Duration::from_millis(10);
    feed(&mut a, later, &pkt);
    let mut got = Vec::new();
    take_messages(&mut a, later, &mut got);
    assert_eq!(got, vec![(1, vec![0x42])]);
}
