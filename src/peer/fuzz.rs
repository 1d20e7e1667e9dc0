//! Fuzzing entry point for a whole [`Peer`] (`fuzz/fuzz_targets/peer.rs`,
//! `tests/fuzz_corpus.rs`).
//!
//! A fresh answerer completes a real offer/answer (and candidate exchange) with an
//! offerer, then is fed a script of steps as if from the offerer's address: an even tag
//! byte is a datagram (`tag, u16 length, bytes`), an odd tag a clock tick (`tag, u16
//! milliseconds`). [`fuzz_peer_seed`] records the offerer's real datagrams (ICE, DTLS,
//! SCTP, DCEP, messages) in this form.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::{DataChannelInit, Peer, PeerConfig, PeerEvent, SdpType};
use crate::fuzz_script::{push_datagram, push_tick, steps, Step, START};
use crate::crypto::Rng;
use crate::{Time, TransportId};

const TRANSPORT: TransportId = 0;
const ADDR_ANSWERER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 50_000);
const ADDR_OFFERER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), 50_001);


/// The answerer under test: applies one step, then drains it.
struct Answerer {
    peer: Peer,
    now: Time,
    messages: usize,
}

impl Answerer {
    fn apply(&mut self, step: Step<'_>) -> Vec<Vec<u8>> {
        match step {
            Step::Datagram { data: d, .. } => self.peer.handle_datagram(self.now, TRANSPORT, ADDR_OFFERER, d),
            Step::Tick(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                self.peer.handle_timeout(self.now);
            }
        }
        while let Some(e) = self.peer.poll_event() {
            if let PeerEvent::DataChannelMessage { channel, binary, data } = e {
                self.messages += 1;
                let _ = self.peer.send(self.now, channel, binary, &data);
                if self.messages == 2 {
                    self.peer.close_channel(self.now, channel);
                }
            }
        }
        let _ = (self.peer.poll_timeout(), self.peer.stats(), self.peer.sctp_max_message_size());
        let now = self.now;
        core::iter::from_fn(|| self.peer.poll_transmit(now)).map(|t| t.data).collect()
    }
}

/// Offer/answer and candidate exchange between a fresh offerer and the answerer.
fn setup() -> Option<(Peer, Answerer)> {
    let mut rng = Rng::seeded(0x9ee7);
    let config = PeerConfig { unix_time_ms: 1_700_000_000_000, ..PeerConfig::default() };
    let mut offerer = Peer::new(config.clone(), rng.fork()).ok()?;
    let mut answerer = Peer::new(config, rng.fork()).ok()?;
    offerer.add_local_transport(TRANSPORT, ADDR_OFFERER);
    answerer.add_local_transport(TRANSPORT, ADDR_ANSWERER);
    let now = START;
    offerer.create_data_channel(now, DataChannelInit { label: "fuzz".into(), ..DataChannelInit::default() }).ok()?;
    let offer = offerer.create_offer().ok()?;
    offerer.set_local_description(now, Some(SdpType::Offer), Some(&offer)).ok()?;
    answerer.set_remote_description(now, SdpType::Offer, &offer).ok()?;
    let answer = answerer.create_answer().ok()?;
    answerer.set_local_description(now, Some(SdpType::Answer), Some(&answer)).ok()?;
    offerer.set_remote_description(now, SdpType::Answer, &answer).ok()?;
    for _ in 0..2 {
        while let Some(e) = offerer.poll_event() {
            if let PeerEvent::IceCandidate(c) = e {
                answerer.add_ice_candidate(now, c).ok()?;
            }
        }
        while let Some(e) = answerer.poll_event() {
            if let PeerEvent::IceCandidate(c) = e {
                offerer.add_ice_candidate(now, c).ok()?;
            }
        }
    }
    Some((offerer, Answerer { peer: answerer, now, messages: 0 }))
}

/// Feeds the step script in `data` to a freshly negotiated answerer. Returns the number
/// of data-channel messages it received.
#[doc(hidden)]
pub fn fuzz_peer(data: &[u8]) -> usize {
    let Some((_, mut answerer)) = setup() else {
        return 0;
    };
    for step in steps(data) {
        answerer.apply(step);
    }
    answerer.peer.close(answerer.now);
    while answerer.peer.poll_transmit(answerer.now).is_some() {}
    answerer.messages
}

/// Records a real offerer's datagrams to the answerer (ICE checks, DTLS handshake, SCTP
/// association, DCEP, three messages, a channel close) as a step script for [`fuzz_peer`].
#[doc(hidden)]
pub fn fuzz_peer_seed() -> Vec<u8> {
    let Some((mut offerer, mut answerer)) = setup() else {
        return Vec::new();
    };
    let mut script = Vec::new();
    let mut queue: VecDeque<Vec<u8>> = VecDeque::new();
    let mut echoes = 0usize;
    let mut closed_at: Option<Time> = None;
    for _ in 0..3000 {
        let now = answerer.now;
        queue.extend(core::iter::from_fn(|| offerer.poll_transmit(now)).map(|t| t.data));
        while let Some(d) = queue.pop_front() {
            push_datagram(&mut script, &d);
            for reply in answerer.apply(Step::Datagram { tag: 0, data: &d }) {
                offerer.handle_datagram(now, TRANSPORT, ADDR_ANSWERER, &reply);
            }
            while let Some(e) = offerer.poll_event() {
                match e {
                    PeerEvent::DataChannelOpen { channel } => {
                        let _ = offerer.send(now, channel, false, b"hello");
                        let _ = offerer.send(now, channel, true, &[1, 2, 3]);
                        let _ = offerer.send(now, channel, true, &[]);
                    }
                    PeerEvent::DataChannelMessage { .. } => echoes += 1,
                    _ => {}
                }
            }
            queue.extend(core::iter::from_fn(|| offerer.poll_transmit(now)).map(|t| t.data));
        }
        if echoes >= 2 && closed_at.is_none() {
            closed_at = Some(now);
        }
        if closed_at.is_some_and(|t| now.saturating_since(t) > Duration::from_secs(2)) {
            break;
        }
        let next = [offerer.poll_timeout(), answerer.peer.poll_timeout()].into_iter().flatten().min();
        let Some(next) = next else { break };
        let ms = push_tick(&mut script, now, next);
        for reply in answerer.apply(Step::Tick(ms)) {
            offerer.handle_datagram(answerer.now, TRANSPORT, ADDR_ANSWERER, &reply);
        }
        offerer.handle_timeout(answerer.now);
    }
    script
}
