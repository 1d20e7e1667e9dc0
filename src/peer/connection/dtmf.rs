//! DTMF (RFC 4733 telephone-event) on a [`Peer`]'s audio transceivers: tones sent on the
//! audio sender's SSRC and sequence space (the schedule is [`ToneSender`]'s, its timer part of
//! `poll_timeout`), and received events routed away from the audio frame path: counted, and
//! each ended event given to the host as one [`PeerEvent::MediaFrame`] of mime type
//! `audio/telephone-event` whose data is the 4-byte RFC 4733 payload of its final packet.

use super::*;
use crate::codec::dtmf::{self, TelephoneEvent, ToneSender};
use crate::rtp::{HeaderExtensions, RtpHeader, RtpPacket};
use crate::sdp::media as sdpmedia;

/// Received events remembered to report each once (its final packet comes three times), one
/// per remote SSRC: at most this many SSRCs; a new one replaces the oldest.
pub(super) const MAX_DTMF_RECEIVE_STATES: usize = 16;

/// A tone being sent on one transceiver.
pub(super) struct DtmfSend {
    transceiver: TransceiverId,
    payload_type: u8,
    clock_rate: u32,
    /// The RTP timestamp of the tone's first segment.
    timestamp: u32,
    tone: ToneSender,
}

impl Peer {
    /// W3C `RTCDTMFSender` playing one tone, RFC 4733: sends `event` (0..=15, the DTMF
    /// digits, see [`dtmf::event_code`]) for `duration_ms` at `volume` (-dBm0, 0..=63) on
    /// transceiver `id`'s audio stream, starting now. A tone still being sent there is
    /// finished at once first. `Ok(false)`: not sent (the transceiver does not send, no keys
    /// or path yet, or telephone-event at the audio's clock rate was not negotiated).
    pub fn insert_dtmf(&mut self, now: Time, id: TransceiverId, event: u8, duration_ms: u32, volume: u8) -> Result<bool, PeerError> {
        self.check_open()?;
        if event > dtmf::MAX_DTMF_EVENT {
            return Err(err(ErrorKind::Type, "not a DTMF event (0..=15)"));
        }
        let ti = self.transceivers.iter().position(|t| t.id == id).ok_or_else(|| err(ErrorKind::InvalidState, "no such transceiver"))?;
        let Some((payload_type, clock_rate)) = self.dtmf_codec(ti) else { return Ok(false) };
        if !self.transceivers[ti].sending() || self.srtp.is_none() || self.send_path().is_none() {
            self.stats.media_frames_not_sent += 1;
            return Ok(false);
        }
        self.finish_dtmf(now, id);
        let t = &self.transceivers[ti];
        // The tone's timestamp is the audio's now (RFC 4733 §2.3.1): the last frame's
        // timestamp moved on by the time since, else the stream's offset for `now`.
        let rate = u64::from(clock_rate);
        let timestamp = match t.send[0].last_timestamp {
            Some((ts, at)) => ts.wrapping_add((now.saturating_since(at).as_micros() as u64 * rate / 1_000_000) as u32),
            None => t.send[0].timestamp_offset.wrapping_add((u128::from(now.as_micros()) * u128::from(rate) / 1_000_000) as u32),
        };
        let tone = ToneSender::new(now, event, duration_ms, volume, clock_rate);
        self.dtmf_sends.push(DtmfSend { transceiver: id, payload_type, clock_rate, timestamp, tone });
        self.handle_dtmf_timeout(now);
        Ok(true)
    }

    /// Whether transceiver `id` can send DTMF now (W3C `canInsertDTMF`, besides the JS
    /// layer's own checks): telephone-event was negotiated for it.
    pub fn can_insert_dtmf(&self, id: TransceiverId) -> bool {
        self.transceivers.iter().position(|t| t.id == id).is_some_and(|ti| self.dtmf_codec(ti).is_some())
    }

    /// The negotiated telephone-event (payload type, clock rate) of transceiver `ti`: the one
    /// at the clock rate of the first audio codec it sends (RFC 4733 §2.1).
    fn dtmf_codec(&self, ti: usize) -> Option<(u8, u32)> {
        let t = &self.transceivers[ti];
        let remote = t.neg.remote.as_ref()?;
        if t.kind != sdpmedia::MediaKind::Audio {
            return None;
        }
        let is_te = |c: &&sdpmedia::Codec| c.name.eq_ignore_ascii_case(dtmf::NAME);
        let audio_rate = remote.codecs.iter().find(|c| !is_te(c))?.clock_rate;
        remote.codecs.iter().filter(is_te).find(|c| c.clock_rate == audio_rate).map(|c| (c.payload_type, c.clock_rate))
    }

    /// Sends every packet left of a tone on `id` now (a new tone replaces it).
    fn finish_dtmf(&mut self, now: Time, id: TransceiverId) {
        let Some(i) = self.dtmf_sends.iter().position(|d| d.transceiver == id) else { return };
        let mut d = self.dtmf_sends.swap_remove(i);
        let mut out = Vec::new();
        d.tone.flush(&mut out);
        self.send_dtmf_packets(now, &d, &out);
    }

    /// The earliest packet due of the tones being sent.
    pub(super) fn dtmf_timeout(&self) -> Option<Time> {
        self.dtmf_sends.iter().filter_map(|d| d.tone.next_due()).min()
    }

    /// Sends the tones' packets that are due.
    pub(super) fn handle_dtmf_timeout(&mut self, now: Time) {
        if self.dtmf_sends.is_empty() {
            return;
        }
        let mut sends = core::mem::take(&mut self.dtmf_sends);
        let mut out = Vec::new();
        for d in &mut sends {
            out.clear();
            d.tone.poll(now, &mut out);
            self.send_dtmf_packets(now, d, &out);
        }
        sends.retain(|d| !d.tone.is_done() && self.transceivers.iter().any(|t| t.id == d.transceiver && t.sending()));
        sends.append(&mut self.dtmf_sends);
        self.dtmf_sends = sends;
        self.pump(now);
    }

    fn send_dtmf_packets(&mut self, now: Time, d: &DtmfSend, packets: &[dtmf::DtmfPacket]) {
        let Some(ti) = self.transceivers.iter().position(|t| t.id == d.transceiver) else { return };
        for p in packets {
            let twcc = self.twcc_sequence.to_be_bytes();
            let t = &mut self.transceivers[ti];
            if !t.sending() {
                return;
            }
            let (mid_id, twcc_id) = match t.neg.remote.as_ref() {
                Some(r) => (r.extension_id(sdpmedia::ext::MID), r.extension_id(sdpmedia::ext::TRANSPORT_CC)),
                None => (None, None),
            };
            let mid = t.neg.mid.clone().unwrap_or_default();
            let mut ext = HeaderExtensions::new();
            if let Some(id) = mid_id.filter(|_| !mid.is_empty()) {
                let _ = ext.push(id, mid.as_bytes());
            }
            if let Some(id) = twcc_id {
                let _ = ext.push(id, &twcc);
                self.twcc_sequence = self.twcc_sequence.wrapping_add(1);
            }
            let t = &mut self.transceivers[ti];
            let seq = t.send[0].sequence;
            t.send[0].sequence = seq.wrapping_add(1);
            let timestamp = d.timestamp.wrapping_add(p.timestamp_offset);
            let mut header = RtpHeader::new(d.payload_type, seq, timestamp, t.ssrc());
            header.marker = p.marker;
            header.extensions = ext;
            let payload = p.payload.encode();
            let mut rtp = Vec::with_capacity(header.encoded_len() + payload.len());
            if RtpPacket::new(header, &payload).encode(&mut rtp).is_err() {
                return;
            }
            t.send[0].packets += 1;
            t.send[0].bytes += payload.len() as u64;
            self.stats.dtmf_packets_sent += 1;
            self.record_sent(now, ti, 0, &rtp, timestamp, payload.len(), d.clock_rate);
            if self.protect_and_queue(&rtp, false).is_err() {
                return;
            }
        }
    }

    /// A received RTP packet whose payload type is telephone-event on transceiver `ti`
    /// (`receive_rtp` routes it here instead of to frame assembly): counted, and reported
    /// once per event when it ends. Malformed payloads are counted drops.
    pub(super) fn receive_dtmf(&mut self, ti: usize, rtp: &RtpPacket<'_>) {
        self.stats.dtmf_packets_received += 1;
        let Some(ev) = TelephoneEvent::parse(rtp.payload) else {
            self.stats.dtmf_packets_malformed += 1;
            return;
        };
        if !ev.end {
            return;
        }
        let (ssrc, ts) = (rtp.header.ssrc, rtp.header.timestamp);
        match self.dtmf_received.iter_mut().find(|(s, _)| *s == ssrc) {
            Some((_, last)) if *last == Some(ts) => return,
            Some((_, last)) => *last = Some(ts),
            None => {
                if self.dtmf_received.len() >= MAX_DTMF_RECEIVE_STATES {
                    self.dtmf_received.remove(0);
                }
                self.dtmf_received.push((ssrc, Some(ts)));
            }
        }
        let t = &self.transceivers[ti];
        let ev_frame = PeerEvent::MediaFrame {
            transceiver: t.id,
            ssrc,
            mime_type: dtmf::MIME_TYPE.to_owned(),
            keyframe: true,
            rtp_timestamp: ts,
            // The event's duration is in the payload; it has no media time of its own.
            timestamp_us: 0,
            rid: None,
            data: ev.encode().to_vec(),
        };
        self.stats.dtmf_events_received += 1;
        self.queue_media_event(ev_frame);
    }
}
