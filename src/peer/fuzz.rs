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
use crate::crypto::Rng;
use crate::{Time, TransportId};

/// Steps beyond this are ignored (keeps one fuzz run short).
const MAX_STEPS: usize = 256;
const START: Time = Time::from_millis(1_000);
const TRANSPORT: TransportId = 0;
const ADDR_ANSWERER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 50_000);
const ADDR_OFFERER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), 50_001);

enum Step<'a> {
    Datagram(&'a [u8]),
    Tick(u16),
}

fn steps(mut data: &[u8]) -> impl Iterator<Item = Step<'_>> {
    core::iter::from_fn(move || {
        let (&tag, rest) = data.split_first()?;
        let (n, rest) = rest.split_first_chunk::<2>()?;
        let n = u16::from_be_bytes(*n);
        if tag & 1 == 1 {
            data = rest;
            return Some(Step::Tick(n));
        }
        let (body, rest) = rest.split_at(usize::from(n).min(rest.len()));
        data = rest;
        Some(Step::Datagram(body))
    })
    .take(MAX_STEPS)
}

/// The answerer under test: applies one step, then drains it.
struct Answerer {
    peer: Peer,
    now: Time,
    messages: usize,
}

impl Answerer {
    fn apply(&mut self, step: Step<'_>) -> Vec<Vec<u8>> {
        match step {
            Step::Datagram(d) => self.peer.handle_datagram(self.now, TRANSPORT, ADDR_OFFERER, d),
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
            script.push(0);
            script.extend_from_slice(&u16::try_from(d.len()).unwrap_or(u16::MAX).to_be_bytes());
            script.extend_from_slice(&d);
            for reply in answerer.apply(Step::Datagram(&d)) {
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
        let ms = next.saturating_since(now).as_millis().clamp(1, 60_000);
        let ms = u16::try_from(ms).unwrap_or(u16::MAX);
        script.push(1);
        script.extend_from_slice(&ms.to_be_bytes());
        for reply in answerer.apply(Step::Tick(ms)) {
            offerer.handle_datagram(answerer.now, TRANSPORT, ADDR_ANSWERER, &reply);
        }
        offerer.handle_timeout(answerer.now);
    }
    script
}
