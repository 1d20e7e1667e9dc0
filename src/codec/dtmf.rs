//! DTMF over RTP, RFC 4733 `telephone-event`: the 4-byte event payload (§2.3) and the packet
//! schedule of one tone on the send side (§2.5.1).
//!
//! A tone is one event with one RTP timestamp (the moment it starts): a first packet with the
//! marker bit, updates every [`UPDATE_INTERVAL_MS`] carrying the growing duration, and a final
//! packet with the E bit sent [`END_PACKETS`] times (§2.5.1.4: "a total of three times at the
//! interval used by the source for updates"). Every packet takes the audio stream's next
//! sequence number; the timestamp stays the event's. The duration a packet carries is the
//! duration of the event through the end of the interval that packet covers, so the first
//! packet already says one interval (a zero-duration start is allowed by §2.5.1.2 but some
//! receivers ignore it). Durations are 16 bits of clock ticks (1.36 s at 48 kHz); a longer
//! tone is cut into segments (§2.5.1.3): the next segment's timestamp is the previous one's
//! plus its duration, without the marker bit, and only the last segment ends with E.

use core::time::Duration;

use crate::time::Time;

/// The SDP encoding name (RFC 4733 §7.1.1).
pub const NAME: &str = "telephone-event";
/// W3C `RTCRtpCodec.mimeType` of the codec, and of the frames received DTMF events become.
pub const MIME_TYPE: &str = "audio/telephone-event";
/// The events we offer and accept (`a=fmtp:<pt> 0-15`, RFC 4733 §2.4.1): the DTMF digits.
pub const EVENTS_FMTP: &str = "0-15";
/// Highest DTMF event code (`D`, RFC 4733 §3.2 table 7).
pub const MAX_DTMF_EVENT: u8 = 15;
/// Highest volume (RFC 4733 §2.3.4: 0 to -63 dBm0, stored as its magnitude).
pub const MAX_VOLUME: u8 = 63;
/// How often an update is sent while a tone plays (RFC 4733 §2.5.1.2 recommends the audio
/// packetization interval; 50 ms is what browsers use).
pub const UPDATE_INTERVAL_MS: u64 = 50;
/// How many times the final (E bit) packet goes out.
pub const END_PACKETS: u8 = 3;
/// Longest tone we send (W3C `insertDTMF` clamps `duration` to 6000 ms; the core takes a bit
/// more for other hosts).
pub const MAX_TONE_MS: u32 = 8000;
/// Largest duration of one segment, in clock ticks (the field's 16 bits).
const MAX_SEGMENT_TICKS: u64 = 0xFFFF;

/// One RFC 4733 §2.3 event payload:
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// |     event     |E|R| volume    |          duration             |
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub event: u8,
    /// E: the event ended (this is a final packet).
    pub end: bool,
    /// The power level as -dBm0 (0..=63).
    pub volume: u8,
    /// In RTP clock ticks since the event's (segment's) timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    pub fn encode(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [self.event, (u8::from(self.end) << 7) | (self.volume & 0x3f), d[0], d[1]]
    }

    /// The first event of a payload (§2.3: several may follow one another; the R bit is
    /// ignored on receipt). `None`: shorter than one event.
    pub fn parse(payload: &[u8]) -> Option<TelephoneEvent> {
        let b = payload.get(..4)?;
        Some(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }
}

/// The event code of a W3C `insertDTMF` tone character (RFC 4733 §3.2: 0-9, `*` 10, `#` 11,
/// A-D 12-15); `None` for anything else (`,` is a pause, not an event).
pub fn event_code(tone: char) -> Option<u8> {
    match tone.to_ascii_uppercase() {
        c @ '0'..='9' => Some(c as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        c @ 'A'..='D' => Some(c as u8 - b'A' + 12),
        _ => None,
    }
}

/// One packet of a tone: the RTP marker bit, the offset of its timestamp from the tone's
/// first timestamp (non-zero in a later segment), and the payload.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DtmfPacket {
    pub marker: bool,
    pub timestamp_offset: u32,
    pub payload: TelephoneEvent,
}

/// The send schedule of one tone (see the module doc), driven by [`ToneSender::poll`] at the
/// times [`ToneSender::next_due`] asks for.
#[derive(Clone, Debug)]
pub struct ToneSender {
    event: u8,
    volume: u8,
    start: Time,
    /// Ticks of the whole tone and of one update interval.
    total: u64,
    interval: u64,
    /// Updates sent so far (the next one is due at `start + updates * interval`).
    updates: u64,
    /// Final packets still to send, and when the next is due.
    ends_left: u8,
    next_end: Time,
    /// Ticks of the tone before the current segment.
    segment_base: u64,
}

impl ToneSender {
    /// A tone of `event` (0..=[`MAX_DTMF_EVENT`]) starting at `now`, lasting `duration_ms`
    /// (1..=[`MAX_TONE_MS`], clamped) at `volume` (clamped to [`MAX_VOLUME`]), for a clock of
    /// `clock_rate` Hz.
    pub fn new(now: Time, event: u8, duration_ms: u32, volume: u8, clock_rate: u32) -> ToneSender {
        let ms = u64::from(duration_ms.clamp(1, MAX_TONE_MS));
        let rate = u64::from(clock_rate.max(1));
        ToneSender {
            event,
            volume: volume.min(MAX_VOLUME),
            start: now,
            total: (ms * rate / 1000).max(1),
            interval: (UPDATE_INTERVAL_MS * rate / 1000).max(1),
            updates: 0,
            ends_left: END_PACKETS,
            next_end: Time::MAX,
            segment_base: 0,
        }
    }

    /// When the next packet is due; `None` once the last final packet went out.
    pub fn next_due(&self) -> Option<Time> {
        if self.ends_left == 0 {
            None
        } else if self.ending() {
            Some(self.next_end)
        } else {
            Some(self.start + Duration::from_millis(self.updates * UPDATE_INTERVAL_MS))
        }
    }

    pub fn is_done(&self) -> bool {
        self.ends_left == 0
    }

    fn ending(&self) -> bool {
        self.updates > 0 && self.updates * self.interval >= self.total
    }

    /// The packets due at `now`, in order (usually one; a segment boundary adds one).
    pub fn poll(&mut self, now: Time, out: &mut Vec<DtmfPacket>) {
        while self.next_due().is_some_and(|t| t <= now) {
            self.step(out);
        }
    }

    /// Every packet still to come, at once: a new tone replaces this one, and its final
    /// packets must not trail the new tone's.
    pub fn flush(&mut self, out: &mut Vec<DtmfPacket>) {
        while self.next_due().is_some() {
            self.step(out);
        }
    }

    fn step(&mut self, out: &mut Vec<DtmfPacket>) {
        if self.ending() {
            out.push(self.packet(self.total, true, false));
            self.ends_left -= 1;
            self.next_end += Duration::from_millis(UPDATE_INTERVAL_MS);
            return;
        }
        let first = self.updates == 0;
        self.updates += 1;
        let through = (self.updates * self.interval).min(self.total);
        // §2.5.1.3: a segment full, its last packet says so; the tone goes on in a new one.
        while through - self.segment_base > MAX_SEGMENT_TICKS {
            out.push(self.packet(self.segment_base + MAX_SEGMENT_TICKS, false, false));
            self.segment_base += MAX_SEGMENT_TICKS;
        }
        if self.ending() {
            // This interval reaches the end: the final packets start now.
            self.next_end = self.start + Duration::from_millis((self.updates - 1) * UPDATE_INTERVAL_MS);
            out.push(self.packet(self.total, true, first));
            self.ends_left -= 1;
            self.next_end += Duration::from_millis(UPDATE_INTERVAL_MS);
        } else {
            out.push(self.packet(through, false, first));
        }
    }

    fn packet(&self, through: u64, end: bool, marker: bool) -> DtmfPacket {
        DtmfPacket {
            marker,
            timestamp_offset: self.segment_base as u32,
            payload: TelephoneEvent {
                event: self.event,
                end,
                volume: self.volume,
                duration: (through - self.segment_base).min(MAX_SEGMENT_TICKS) as u16,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &mut ToneSender) -> Vec<(u64, DtmfPacket)> {
        let mut all = Vec::new();
        let mut out = Vec::new();
        while let Some(at) = t.next_due() {
            t.poll(at, &mut out);
            all.extend(out.drain(..).map(|p| (at.as_millis(), p)));
            assert!(all.len() < 1000, "the tone never ends");
        }
        all
    }

    #[test]
    fn payload_round_trips_with_bit_layout() {
        let e = TelephoneEvent { event: 11, end: true, volume: 10, duration: 0x1234 };
        assert_eq!(e.encode(), [11, 0x8a, 0x12, 0x34]);
        assert_eq!(TelephoneEvent::parse(&e.encode()), Some(e));
        // The R bit is ignored, trailing events are not read, short payloads are refused.
        assert_eq!(TelephoneEvent::parse(&[5, 0x40 | 7, 0, 160, 9, 9, 9, 9]), Some(TelephoneEvent { event: 5, end: false, volume: 7, duration: 160 }));
        assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), None);
    }

    #[test]
    fn tone_characters_map_to_rfc4733_codes() {
        let codes: Vec<Option<u8>> = "0123456789*#ABCDa,x".chars().map(event_code).collect();
        let want: Vec<Option<u8>> = (0..=15).map(Some).chain([Some(12), None, None]).collect();
        assert_eq!(codes, want);
    }

    #[test]
    fn a_tone_is_start_updates_and_three_ends_at_48khz() {
        let mut t = ToneSender::new(Time::from_millis(1000), 5, 120, 10, 48_000);
        let got = run(&mut t);
        let rows: Vec<(u64, bool, bool, u16, u32)> =
            got.iter().map(|(at, p)| (*at, p.marker, p.payload.end, p.payload.duration, p.timestamp_offset)).collect();
        assert_eq!(
            rows,
            vec![
                (1000, true, false, 2400, 0),
                (1050, false, false, 4800, 0),
                (1100, false, true, 5760, 0),
                (1150, false, true, 5760, 0),
                (1200, false, true, 5760, 0),
            ]
        );
        assert!(got.iter().all(|(_, p)| p.payload.event == 5 && p.payload.volume == 10));
        assert!(t.is_done());
    }

    #[test]
    fn a_tone_shorter_than_an_interval_starts_with_its_end() {
        let mut t = ToneSender::new(Time::ZERO, 0, 40, 0, 8000);
        let rows: Vec<(u64, bool, bool, u16)> = run(&mut t).iter().map(|(at, p)| (*at, p.marker, p.payload.end, p.payload.duration)).collect();
        assert_eq!(rows, vec![(0, true, true, 320), (50, false, true, 320), (100, false, true, 320)]);
    }

    #[test]
    fn a_long_tone_is_cut_into_segments() {
        // 2 s at 48 kHz = 96000 ticks: one full segment of 65535, then 30465 more.
        let mut t = ToneSender::new(Time::ZERO, 9, 2000, 3, 48_000);
        let got = run(&mut t);
        let seg_end = got.iter().position(|(_, p)| p.payload.duration == 0xFFFF && p.timestamp_offset == 0).unwrap();
        let (at, next) = got[seg_end + 1];
        assert_eq!(at, got[seg_end].0, "the new segment starts in the same interval");
        assert_eq!((next.marker, next.timestamp_offset, next.payload.end), (false, 0xFFFF, false));
        let ends: Vec<_> = got.iter().filter(|(_, p)| p.payload.end).collect();
        assert_eq!(ends.len(), 3);
        assert!(ends.iter().all(|(_, p)| p.timestamp_offset == 0xFFFF && p.payload.duration == (96_000 - 0xFFFF) as u16));
        assert_eq!(got.iter().filter(|(_, p)| p.marker).count(), 1);
        // Durations never go down within a segment.
        for w in got.windows(2) {
            if w[0].1.timestamp_offset == w[1].1.timestamp_offset {
                assert!(w[1].1.payload.duration >= w[0].1.payload.duration);
            }
        }
    }

    #[test]
    fn flush_sends_what_is_left_at_once() {
        let mut t = ToneSender::new(Time::ZERO, 1, 500, 10, 48_000);
        let mut out = Vec::new();
        t.poll(Time::from_millis(60), &mut out);
        assert_eq!(out.len(), 2);
        out.clear();
        t.flush(&mut out);
        assert_eq!(out.iter().filter(|p| p.payload.end).count(), 3);
        assert!(t.is_done() && t.next_due().is_none());
    }
}
