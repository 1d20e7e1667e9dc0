//! Fuzzing entry points (`fuzz/fuzz_targets/sctp_packet.rs`, `sctp_association.rs`,
//! `tests/fuzz_corpus.rs`).
//!
//! The association input is a script of steps. An even tag byte is a packet (`tag, u16
//! length, bytes`; with tag bit 1 set the CRC-32C is left as it is, otherwise it is
//! recomputed so mutations reach the chunk handlers); an odd tag is a clock tick (`tag,
//! u16 milliseconds`). [`fuzz_association_seed`] records a real exchange in this form.

use std::collections::VecDeque;
use std::time::Duration;

use super::wire::{finish_packet, Packet};
use super::{Association, SctpConfig, SctpEvent, SendOptions};
use crate::fuzz_script::{push_datagram, push_tick, steps, Step, START};
use crate::crypto::Rng;
use crate::Time;


/// Decodes `data` as an SCTP packet, as it is and with its checksum fixed; whatever
/// decodes must survive encode -> decode unchanged.
#[doc(hidden)]
pub fn fuzz_packet(data: &[u8]) {
    let mut fixed = data.to_vec();
    finish_packet(&mut fixed);
    for bytes in [data, fixed.as_slice()] {
        if let Ok(p) = Packet::decode(bytes) {
            let out = p.encode();
            assert_eq!(Packet::decode(&out).as_ref(), Ok(&p), "SCTP round trip changed the packet");
        }
    }
}


/// The association under test (the passive side): applies one step, then drains it.
struct Passive {
    assoc: Association,
    now: Time,
    messages: usize,
}

impl Passive {
    fn apply(&mut self, step: Step<'_>) -> Vec<Vec<u8>> {
        match step {
            Step::Datagram { tag, data } => {
                let mut p = data.to_vec();
                // Tag bit 1 set: feed the packet as is; clear: recompute its CRC-32C.
                if tag & 2 == 0 {
                    finish_packet(&mut p);
                }
                self.assoc.handle_packet(self.now, &p);
            }
            Step::Tick(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                self.assoc.handle_timeout(self.now);
            }
        }
        while let Some(e) = self.assoc.poll_event() {
            match e {
                SctpEvent::Message { stream, ppid, data } => {
                    self.messages += 1;
                    // Echo, and close the stream after the second message.
                    let _ = self.assoc.send(self.now, stream, ppid, &data, SendOptions::default());
                    if self.messages == 2 {
                        self.assoc.reset_stream(self.now, stream);
                    }
                }
                SctpEvent::IncomingStreamReset { stream } => self.assoc.reset_stream(self.now, stream),
                _ => {}
            }
        }
        let _ = (self.assoc.poll_timeout(), self.assoc.stats(), self.assoc.buffered_amount(1));
        core::iter::from_fn(|| self.assoc.poll_transmit(self.now)).collect()
    }
}

fn pair() -> (Association, Passive) {
    let mut rng = Rng::seeded(0x5c7b);
    let active = Association::new(SctpConfig::default(), rng.fork());
    let assoc = Association::new(SctpConfig::default(), rng.fork());
    (active, Passive { assoc, now: START, messages: 0 })
}

/// Feeds the step script in `data` to a fresh passive association. Returns the number of
/// messages it received.
#[doc(hidden)]
pub fn fuzz_association(data: &[u8]) -> usize {
    let (_, mut passive) = pair();
    for step in steps(data) {
        passive.apply(step);
    }
    passive.assoc.shutdown(passive.now);
    while passive.assoc.poll_transmit(passive.now).is_some() {}
    passive.messages
}

/// Records a real active association's packets (handshake, ordered and unordered
/// messages, partial reliability, a stream reset, shutdown) as a step script for
/// [`fuzz_association`].
#[doc(hidden)]
pub fn fuzz_association_seed() -> Vec<u8> {
    let (mut active, mut passive) = pair();
    active.connect(START);
    let mut script = Vec::new();
    let mut queue: VecDeque<Vec<u8>> = VecDeque::new();
    let mut sent = false;
    let mut echoes = 0usize;
    let mut shut = false;
    for _ in 0..2000 {
        let now = passive.now;
        queue.extend(core::iter::from_fn(|| active.poll_transmit(now)));
        while let Some(d) = queue.pop_front() {
            push_datagram(&mut script, &d);
            for reply in passive.apply(Step::Datagram { tag: 2, data: &d }) {
                active.handle_packet(now, &reply);
            }
            while let Some(e) = active.poll_event() {
                match e {
                    SctpEvent::Connected if !sent => {
                        sent = true;
                        let big = vec![0x42u8; 3000];
                        let _ = active.send(now, 1, 51, b"hello", SendOptions::default());
                        let _ = active.send(now, 1, 53, &big, SendOptions::default());
                        let unordered = SendOptions { unordered: true, max_retransmits: Some(0), max_lifetime: None };
                        let _ = active.send(now, 3, 53, b"unordered", unordered);
                        let timed = SendOptions { unordered: false, max_retransmits: None, max_lifetime: Some(Duration::from_millis(1)) };
                        let _ = active.send(now, 5, 51, b"timed", timed);
                    }
                    SctpEvent::Message { .. } => echoes += 1,
                    _ => {}
                }
            }
            queue.extend(core::iter::from_fn(|| active.poll_transmit(now)));
        }
        if echoes >= 3 && !shut {
            shut = true;
            active.reset_stream(now, 3);
            active.shutdown(now);
            continue;
        }
        let next = [active.poll_timeout(), passive.assoc.poll_timeout()].into_iter().flatten().min();
        let Some(next) = next else { break };
        if shut && !active.is_established() && queue.is_empty() && next > now + Duration::from_secs(5) {
            break;
        }
        let ms = push_tick(&mut script, now, next);
        let replies = passive.apply(Step::Tick(ms));
        for reply in replies {
            active.handle_packet(passive.now, &reply);
        }
        active.handle_timeout(passive.now);
    }
    script
}
