//! The association: handshake (RFC 9260 §5, including INIT collision §5.2), chunk
//! dispatch by state, timers, shutdown (§9), heartbeats (§8.3), stream reset (RFC 6525)
//! and packet assembly with bundling.

use std::collections::{BTreeSet, VecDeque};

use core::time::Duration;

use super::cookie::CookieData;
use super::error::SctpError;
use super::rx::{DataOutcome, Rx, KEEP_CAPACITY};
use super::tx::{unwrap_tsn, Tx};
use super::wire::*;
use super::MAX_RECEIVE_WINDOW;
use super::{SctpConfig, SctpEvent, SctpStats, SendOptions};
use super::{MAX_CONTROL_CHUNKS, MAX_QUEUED_PACKETS, MAX_QUEUED_SACKS};
use super::{MAX_COOKIE_LEN, MAX_PACKET_SIZE, MAX_PENDING_RESETS, MAX_STREAMS, MIN_PACKET_SIZE};
use crate::crypto::Rng;
use crate::Time;

/// Most streams named in one Outgoing SSN Reset Request.
const MAX_STREAMS_PER_RESET: usize = 256;

/// What we learned about the peer from its INIT or INIT ACK.
#[derive(Clone, Debug)]
struct PeerInit {
    tag: u32,
    initial_tsn: u32,
    a_rwnd: u32,
    inbound_streams: u16,
    forward_tsn: bool,
    reconfig: bool,
}

impl PeerInit {
    fn from_init(i: &InitChunk) -> PeerInit {
        let mut forward_tsn = false;
        let mut reconfig = false;
        for p in &i.params {
            match p {
                Param::ForwardTsnSupported => forward_tsn = true,
                Param::SupportedExtensions(list) => {
                    forward_tsn |= list.contains(&CT_FORWARD_TSN);
                    reconfig |= list.contains(&CT_RECONFIG);
                }
                _ => {}
            }
        }
        PeerInit {
            tag: i.initiate_tag,
            initial_tsn: i.initial_tsn,
            a_rwnd: i.a_rwnd,
            inbound_streams: i.inbound_streams,
            forward_tsn,
            reconfig,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Closed,
    CookieWait,
    CookieEchoed,
    Established,
    ShutdownPending,
    ShutdownSent,
    ShutdownReceived,
    ShutdownAckSent,
    /// Closed after a shutdown or an abort: nothing more happens.
    Done,
}

/// Our outstanding Outgoing SSN Reset Request.
struct ResetInFlight {
    request_seq: u32,
    last_tsn: u32,
    streams: Vec<u16>,
}

/// One SCTP association. See the module docs for the drive loop.
pub struct Association {
    config: SctpConfig,
    rng: Rng,
    cookie_key: [u8; 32],
    state: State,
    my_tag: u32,
    my_initial_tsn: u32,
    peer: Option<PeerInit>,
    tx: Tx,
    rx: Rx,
    events: VecDeque<SctpEvent>,
    /// Chunks to bundle in the next packet (verification tag: the peer's).
    control: VecDeque<Chunk>,
    /// Complete packets to send as they are (INIT, INIT ACK, ABORT, SHUTDOWN COMPLETE).
    single: VecDeque<Vec<u8>>,
    cookie_echo: Option<Vec<u8>>,
    /// SACKs taken when they became due on arrival (every second DATA packet, a gap, a
    /// duplicate), oldest first, at most [`MAX_QUEUED_SACKS`].
    sacks: VecDeque<SackChunk>,
    /// Payload bytes accepted since `window_since`, when the current measurement of how
    /// fast a whole receive window arrives started.
    window_arrived: usize,
    window_since: Option<Time>,
    t1: Option<Time>,
    t1_count: u32,
    t2: Option<Time>,
    t2_count: u32,
    ack_timer: Option<Time>,
    hb_timer: Option<Time>,
    /// The outstanding HEARTBEAT: our random nonce (its whole info) and when we sent it.
    /// The RTT sample comes from this time, never from bytes the peer echoes.
    hb_sent: Option<(u64, Time)>,
    error_count: u32,
    outbound_streams: u16,
    remote_max_message_size: usize,
    // Stream reset (RFC 6525).
    reset_queue: BTreeSet<u16>,
    reset_in_flight: Option<ResetInFlight>,
    reset_timer: Option<Time>,
    my_next_request_seq: u32,
    peer_next_request_seq: u32,
    last_response: Option<(u32, u32)>,
    deferred_reset: Option<(u32, u32, Vec<u16>)>,
    stats: SctpStats,
}

impl Association {
    pub fn new(mut config: SctpConfig, mut rng: Rng) -> Association {
        config.max_packet_size = config
            .max_packet_size
            .clamp(MIN_PACKET_SIZE, MAX_PACKET_SIZE);
        // The largest message must fit in the window, or it could never be reassembled.
        config.receive_window = config
            .receive_window
            .min(MAX_RECEIVE_WINDOW)
            .max(config.max_message_size + config.max_packet_size);
        config.max_receive_window = config
            .max_receive_window
            .min(MAX_RECEIVE_WINDOW)
            .max(config.receive_window);
        let mut cookie_key = [0u8; 32];
        rng.fill(&mut cookie_key);
        let rto = (config.rto_initial, config.rto_min, config.rto_max);
        let tx = Tx::new(0, 0, config.max_packet_size, rto);
        let rx = Rx::new(0, config.receive_window, config.max_message_size);
        let remote_max_message_size = config.max_message_size;
        Association {
            config,
            rng,
            cookie_key,
            state: State::Closed,
            my_tag: 0,
            my_initial_tsn: 0,
            peer: None,
            tx,
            rx,
            events: VecDeque::new(),
            control: VecDeque::new(),
            single: VecDeque::new(),
            cookie_echo: None,
            sacks: VecDeque::new(),
            window_arrived: 0,
            window_since: None,
            t1: None,
            t1_count: 0,
            t2: None,
            t2_count: 0,
            ack_timer: None,
            hb_timer: None,
            hb_sent: None,
            error_count: 0,
            outbound_streams: 0,
            remote_max_message_size,
            reset_queue: BTreeSet::new(),
            reset_in_flight: None,
            reset_timer: None,
            my_next_request_seq: 0,
            peer_next_request_seq: 0,
            last_response: None,
            deferred_reset: None,
            stats: SctpStats::default(),
        }
    }

    // ---- getters ----

    pub fn is_established(&self) -> bool {
        matches!(self.state, State::Established)
    }

    /// Bytes of user data queued on `stream` and not yet sent (W3C `bufferedAmount`; data
    /// sent and not yet acknowledged no longer counts, see [`SctpEvent::BufferedAmountDecreased`]).
    pub fn buffered_amount(&self, stream: u16) -> usize {
        self.tx.buffered_amount(stream)
    }

    pub fn stats(&self) -> SctpStats {
        let mut s = self.stats.clone();
        self.tx.stats_into(&mut s);
        s.receive_buffered = self.rx.memory();
        s.receive_window = self.rx.window();
        s
    }

    // ---- application calls ----

    /// Sends INIT. Harmless if already connecting or connected. May be called on both sides.
    pub fn connect(&mut self, now: Time) {
        if self.state != State::Closed {
            return;
        }
        self.my_tag = self.nonzero_u32();
        self.my_initial_tsn = self.rng.u32();
        self.state = State::CookieWait;
        self.t1_count = 0;
        self.send_init();
        self.t1 = Some(now + self.config.rto_initial);
    }

    pub fn send(
        &mut self,
        now: Time,
        stream: u16,
        ppid: u32,
        data: &[u8],
        opts: SendOptions,
    ) -> Result<(), SctpError> {
        match self.state {
            State::Established => {}
            State::Closed | State::CookieWait | State::CookieEchoed => {
                return Err(SctpError::NotConnected)
            }
            _ => return Err(SctpError::Closed),
        }
        if data.is_empty() {
            return Err(SctpError::EmptyMessage);
        }
        if data.len() > self.remote_max_message_size {
            return Err(SctpError::MessageTooLarge);
        }
        if stream >= self.outbound_streams {
            return Err(SctpError::InvalidStream);
        }
        if self.reset_queue.contains(&stream)
            || self
                .reset_in_flight
                .as_ref()
                .is_some_and(|r| r.streams.contains(&stream))
        {
            return Err(SctpError::StreamResetting);
        }
        if !self.tx.has_room(data.len()) {
            self.tx.note_refused(stream);
            return Err(SctpError::SendBufferFull);
        }
        self.tx.enqueue(now, stream, ppid, data.to_vec(), opts);
        Ok(())
    }

    /// Resets our outgoing `stream` (RFC 6525) once its queued data has been sent.
    pub fn reset_stream(&mut self, now: Time, stream: u16) {
        if !matches!(self.state, State::Established) || self.reset_queue.len() >= MAX_PENDING_RESETS
        {
            return;
        }
        if self
            .reset_in_flight
            .as_ref()
            .is_some_and(|r| r.streams.contains(&stream))
        {
            return;
        }
        self.reset_queue.insert(stream);
        self.maybe_start_reset(now);
    }

    /// The peer's a=max-message-size: `send` rejects larger messages.
    pub fn set_remote_max_message_size(&mut self, n: usize) {
        self.remote_max_message_size = if n == 0 { usize::MAX } else { n };
    }

    /// Graceful shutdown (RFC 9260 §9.2) once queued data is acknowledged.
    pub fn shutdown(&mut self, now: Time) {
        match self.state {
            State::Established => {
                self.state = State::ShutdownPending;
                self.check_shutdown(now);
            }
            State::Closed | State::CookieWait | State::CookieEchoed => {
                // Nothing established yet: just stop.
                let was_connecting = self.state != State::Closed;
                self.stop_all();
                self.state = State::Done;
                if was_connecting {
                    self.events.push_back(SctpEvent::Closed);
                }
            }
            _ => {}
        }
    }

    /// Sends ABORT and fails the association.
    pub fn abort(&mut self, _now: Time) {
        if self.state == State::Done {
            return;
        }
        self.fail_with(
            "aborted by the local user",
            true,
            CAUSE_USER_INITIATED_ABORT,
        );
    }

    // ---- inputs ----

    pub fn handle_packet(&mut self, now: Time, data: &[u8]) {
        let pkt = match Packet::decode(data) {
            Ok(p) => p,
            Err(_) => {
                self.stats.dropped_malformed += 1;
                return;
            }
        };
        self.stats.packets_received += 1;
        let vtag = pkt.header.verification_tag;
        let no_association = matches!(self.state, State::Done | State::Closed);
        if no_association && pkt.chunks.iter().any(|c| matches!(c, Chunk::ShutdownAck)) {
            // RFC 9260 §8.4 (5): an out-of-the-blue SHUTDOWN ACK gets a SHUTDOWN COMPLETE
            // with the T bit (our own SHUTDOWN COMPLETE may have been lost).
            if self.single.len() < MAX_QUEUED_PACKETS {
                self.single_packet(vtag, Chunk::ShutdownComplete { reflected: true });
            }
            return;
        }
        if self.state == State::Done {
            self.stats.dropped_unexpected += 1;
            return;
        }
        let has_init = pkt.chunks.iter().any(|c| matches!(c, Chunk::Init(_)));
        if has_init {
            // RFC 9260 §6.10: INIT is alone in its packet, with a zero tag.
            match (pkt.chunks.len(), vtag, pkt.chunks.into_iter().next()) {
                (1, 0, Some(Chunk::Init(init))) => self.handle_init(now, init),
                _ => self.stats.dropped_unexpected += 1,
            }
            return;
        }
        let mut had_data = false;
        for chunk in pkt.chunks {
            if self.state == State::Done {
                break;
            }
            match chunk {
                Chunk::Abort { reflected, causes } => {
                    if self.tag_ok_reflectable(vtag, reflected) {
                        let reason = match causes.first() {
                            Some(c) => match core::str::from_utf8(&c.info) {
                                Ok(text)
                                    if c.code == CAUSE_USER_INITIATED_ABORT && !text.is_empty() =>
                                {
                                    format!(
                                        "peer aborted: {}",
                                        text.chars().take(200).collect::<String>()
                                    )
                                }
                                _ => format!("peer aborted (cause {})", c.code),
                            },
                            None => "peer aborted".to_string(),
                        };
                        // The first error cause of the ABORT (RFC 9260 §3.3.7), for the
                        // W3C RTCError.sctpCauseCode of the channels.
                        let cause = causes.first().map(|c| c.code);
                        self.fail_inner(&reason, false, CAUSE_PROTOCOL_VIOLATION, cause);
                    } else {
                        self.stats.dropped_unexpected += 1;
                    }
                    return;
                }
                Chunk::ShutdownComplete { reflected } => {
                    if self.tag_ok_reflectable(vtag, reflected)
                        && self.state == State::ShutdownAckSent
                    {
                        self.finish_closed();
                    } else {
                        self.stats.dropped_unexpected += 1;
                    }
                    return;
                }
                Chunk::CookieEcho { cookie } => self.handle_cookie_echo(now, vtag, &cookie),
                other => {
                    if self.my_tag == 0 || vtag != self.my_tag {
                        self.stats.dropped_unexpected += 1;
                        return;
                    }
                    match self.handle_chunk(now, other, &mut had_data) {
                        Flow::Continue => {}
                        Flow::Stop => break,
                    }
                }
            }
        }
        if had_data {
            self.rx.data_packets += 1;
            if self.rx.data_packets >= 2 {
                self.rx.sack_now = true;
            }
            if self.rx.sack_now {
                // RFC 9260 §6.2: acknowledge at least every second packet, and at once on
                // gaps and duplicates. Taken now, so that a host feeding many datagrams
                // before it drains still sends one SACK chunk per pair (bundled in one
                // packet at the drain): the peer's slow start grows per SACK, and
                // Max.Burst releases a few packets per SACK.
                self.ack_timer = None;
                if self.is_up() {
                    if self.sacks.len() >= MAX_QUEUED_SACKS {
                        self.sacks.pop_front();
                    }
                    self.sacks.push_back(self.rx.make_sack());
                }
            } else if self.ack_timer.is_none() {
                self.ack_timer = Some(now + self.config.delayed_ack);
            }
        }
        self.after_input(now);
    }

    pub fn handle_timeout(&mut self, now: Time) {
        if self.t1.is_some_and(|t| now >= t) {
            self.on_t1(now);
        }
        if self.t2.is_some_and(|t| now >= t) {
            self.on_t2(now);
        }
        if self.tx.t3.is_some_and(|t| now >= t)
            && self.is_up()
            && self.tx.on_t3(now, &mut self.stats)
        {
            self.count_error();
        }
        if self.ack_timer.is_some_and(|t| now >= t) {
            self.ack_timer = None;
            self.rx.sack_now = true;
        }
        if self.reset_timer.is_some_and(|t| now >= t) {
            self.reset_timer = None;
            if let Some(r) = &self.reset_in_flight {
                let req = ReconfigParam::OutgoingResetRequest {
                    request_seq: r.request_seq,
                    response_seq: self.peer_next_request_seq.wrapping_sub(1),
                    last_tsn: r.last_tsn,
                    streams: r.streams.clone(),
                };
                self.control.push_back(Chunk::Reconfig(vec![req]));
                self.reset_timer = Some(now + self.tx.rto);
                self.count_error();
            }
        }
        if self.hb_timer.is_some_and(|t| now >= t) {
            self.on_heartbeat_timer(now);
        }
        self.after_input(now);
    }

    // ---- outputs ----

    /// The next event. Taking a message frees receive buffer and may make a window
    /// update due: drain `poll_transmit` after `poll_event` as well.
    pub fn poll_event(&mut self) -> Option<SctpEvent> {
        let ev = self.events.pop_front()?;
        if let SctpEvent::Message { data, .. } = &ev {
            self.rx.consumed(data.len());
        }
        if self.events.is_empty() && self.events.capacity() > KEEP_CAPACITY {
            self.events = VecDeque::new();
        }
        Some(ev)
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        [
            self.t1,
            self.t2,
            self.tx.t3,
            self.ack_timer,
            self.hb_timer,
            self.reset_timer,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next SCTP packet to send, bundling as many chunks as fit.
    pub fn poll_transmit(&mut self, now: Time) -> Option<Vec<u8>> {
        if let Some(p) = self.single.pop_front() {
            self.stats.packets_sent += 1;
            return Some(p);
        }
        if self.peer.is_none() || self.state == State::Done {
            self.control.clear();
            return None;
        }
        let max = self.config.max_packet_size;
        let mut out = Vec::with_capacity(max);
        self.header().start(&mut out);
        let can_send_data = matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived
        );
        // Control chunks, in order.
        while let Some(c) = self.control.front() {
            let mut tmp = Vec::new();
            c.encode(&mut tmp);
            if out.len() > COMMON_HEADER_LEN && out.len() + tmp.len() > max {
                break;
            }
            out.extend_from_slice(&tmp);
            self.control.pop_front();
        }
        // SACK: one taken on arrival, else when due, or piggybacked on anything else we send.
        if !self.is_up() {
            self.sacks.clear();
        }
        if !self.sacks.is_empty() {
            // Those taken since the last drain go out bundled (RFC 9260 §6.10), oldest
            // first: the peer handles each as one SACK, at the cost of one packet.
            while let Some(queued) = self.sacks.pop_front() {
                let mut tmp = Vec::new();
                Chunk::Sack(queued.clone()).encode(&mut tmp);
                if out.len() + tmp.len() <= max || out.len() == COMMON_HEADER_LEN {
                    out.extend_from_slice(&tmp);
                } else {
                    self.sacks.push_front(queued);
                    break;
                }
            }
        } else {
            let sack_due = self.rx.sack_now
                || (self.ack_timer.is_some()
                    && (out.len() > COMMON_HEADER_LEN
                        || (can_send_data && self.tx.has_sendable())));
            if sack_due && self.is_up() {
                let sack = Chunk::Sack(self.rx.make_sack());
                let mut tmp = Vec::new();
                sack.encode(&mut tmp);
                if out.len() + tmp.len() <= max || out.len() == COMMON_HEADER_LEN {
                    out.extend_from_slice(&tmp);
                    self.ack_timer = None;
                } else {
                    self.rx.sack_now = true;
                }
            }
        }
        if self.tx.forward_tsn_pending && self.is_up() {
            if let Some(f) = self.tx.forward_tsn() {
                let mut tmp = Vec::new();
                Chunk::ForwardTsn(f).encode(&mut tmp);
                if out.len() + tmp.len() <= max {
                    out.extend_from_slice(&tmp);
                    self.tx.forward_tsn_pending = false;
                }
            } else {
                self.tx.forward_tsn_pending = false;
            }
        }
        if can_send_data {
            let before = out.len();
            self.tx.fill(now, &mut out, max, &mut self.stats);
            if out.len() > before {
                if let Some(hb) = &mut self.hb_timer {
                    *hb = now + self.config.heartbeat_interval;
                }
            }
            self.maybe_start_reset(now);
        }
        if out.len() <= COMMON_HEADER_LEN {
            // What the packets of this burst sent is reported once, when the caller has
            // drained them (not per packet: one event per burst, like one per SACK).
            self.emit_released();
            return None;
        }
        finish_packet(&mut out);
        self.stats.packets_sent += 1;
        Some(out)
    }

    // ---- internals ----

    fn nonzero_u32(&mut self) -> u32 {
        loop {
            let v = self.rng.u32();
            if v != 0 {
                return v;
            }
        }
    }

    fn header(&self) -> CommonHeader {
        CommonHeader {
            src_port: self.config.local_port,
            dst_port: self.config.remote_port,
            verification_tag: self.peer.as_ref().map_or(0, |p| p.tag),
        }
    }

    fn is_up(&self) -> bool {
        matches!(
            self.state,
            State::Established
                | State::ShutdownPending
                | State::ShutdownSent
                | State::ShutdownReceived
                | State::ShutdownAckSent
        )
    }

    fn tag_ok_reflectable(&self, vtag: u32, reflected: bool) -> bool {
        if reflected {
            self.peer.as_ref().is_some_and(|p| p.tag == vtag)
        } else {
            self.my_tag != 0 && vtag == self.my_tag
        }
    }

    fn our_params(&self) -> Vec<Param> {
        vec![
            Param::ForwardTsnSupported,
            Param::SupportedExtensions(vec![CT_FORWARD_TSN, CT_RECONFIG]),
        ]
    }

    fn a_rwnd(&self) -> u32 {
        u32::try_from(self.config.receive_window).unwrap_or(u32::MAX)
    }

    fn single_packet(&mut self, vtag: u32, chunk: Chunk) {
        let p = Packet {
            header: CommonHeader {
                src_port: self.config.local_port,
                dst_port: self.config.remote_port,
                verification_tag: vtag,
            },
            chunks: vec![chunk],
        };
        self.single.push_back(p.encode());
    }

    fn send_init(&mut self) {
        let init = InitChunk {
            initiate_tag: self.my_tag,
            a_rwnd: self.a_rwnd(),
            outbound_streams: MAX_STREAMS,
            inbound_streams: MAX_STREAMS,
            initial_tsn: self.my_initial_tsn,
            params: self.our_params(),
        };
        self.single_packet(0, Chunk::Init(init));
    }

    fn backoff(&self, count: u32) -> Duration {
        let mut d = self.config.rto_initial;
        for _ in 0..count.min(16) {
            d = (d * 2).min(self.config.rto_max);
        }
        d
    }

    /// RFC 9260 §5.1 and §5.2: answer an INIT with an INIT ACK carrying a signed cookie.
    fn handle_init(&mut self, now: Time, init: InitChunk) {
        if init.initiate_tag == 0 || init.inbound_streams == 0 || init.outbound_streams == 0 {
            self.stats.dropped_unexpected += 1;
            return;
        }
        let (tag, tsn, tie_my, tie_peer) = match self.state {
            State::Closed => (self.nonzero_u32(), self.rng.u32(), 0, 0),
            // §5.2.1: reply with the parameters of our own INIT.
            State::CookieWait | State::CookieEchoed => {
                let tie_peer = if self.state == State::CookieEchoed {
                    self.peer.as_ref().map_or(0, |p| p.tag)
                } else {
                    0
                };
                (self.my_tag, self.my_initial_tsn, self.my_tag, tie_peer)
            }
            // §5.2.2: unexpected INIT: new tag, tie tags are the current ones.
            State::Done => {
                self.stats.dropped_unexpected += 1;
                return;
            }
            _ => {
                let peer_tag = self.peer.as_ref().map_or(0, |p| p.tag);
                (self.nonzero_u32(), self.rng.u32(), self.my_tag, peer_tag)
            }
        };
        let peer = PeerInit::from_init(&init);
        let cookie = CookieData {
            my_tag: tag,
            my_initial_tsn: tsn,
            peer_tag: peer.tag,
            peer_initial_tsn: peer.initial_tsn,
            peer_a_rwnd: peer.a_rwnd,
            peer_outbound_streams: init.outbound_streams,
            peer_inbound_streams: init.inbound_streams,
            peer_forward_tsn: peer.forward_tsn,
            peer_reconfig: peer.reconfig,
            tie_my,
            tie_peer,
            created_micros: now.as_micros(),
            lifetime_ms: u32::try_from(self.config.cookie_lifetime.as_millis()).unwrap_or(u32::MAX),
        }
        .seal(&self.cookie_key);
        let mut params = vec![Param::StateCookie(cookie)];
        params.extend(self.our_params());
        // RFC 9260 §3.2.1: report unknown parameters whose type has the 0x4000 bit.
        for p in &init.params {
            if let Param::Unknown { typ, value } = p {
                if typ & 0x4000 != 0 {
                    let mut raw = Vec::new();
                    Param::Unknown {
                        typ: *typ,
                        value: value.clone(),
                    }
                    .encode(&mut raw);
                    params.push(Param::UnrecognizedParameter(raw));
                }
            }
        }
        let ack = InitChunk {
            initiate_tag: tag,
            a_rwnd: self.a_rwnd(),
            outbound_streams: MAX_STREAMS,
            inbound_streams: MAX_STREAMS,
            initial_tsn: tsn,
            params,
        };
        if self.single.len() < MAX_QUEUED_PACKETS {
            self.single_packet(init.initiate_tag, Chunk::InitAck(ack));
        }
    }

    fn handle_init_ack(&mut self, now: Time, ack: InitChunk) {
        if self.state != State::CookieWait || ack.initiate_tag == 0 {
            self.stats.dropped_unexpected += 1;
            return;
        }
        let Some(cookie) = ack.params.iter().find_map(|p| match p {
            Param::StateCookie(c) => Some(c.clone()),
            _ => None,
        }) else {
            self.stats.dropped_unexpected += 1;
            return;
        };
        if cookie.len() > MAX_COOKIE_LEN {
            self.stats.dropped_unexpected += 1;
            return;
        }
        self.peer = Some(PeerInit::from_init(&ack));
        self.state = State::CookieEchoed;
        self.control.push_back(Chunk::CookieEcho {
            cookie: cookie.clone(),
        });
        self.cookie_echo = Some(cookie);
        self.t1_count = 0;
        self.t1 = Some(now + self.config.rto_initial);
    }

    /// RFC 9260 §5.1 D and §5.2.4 (cases B and D; restarts, case A, are not supported).
    fn handle_cookie_echo(&mut self, now: Time, vtag: u32, cookie: &[u8]) {
        let c = match CookieData::open(cookie, &self.cookie_key, now) {
            Ok(c) if c.my_tag == vtag => c,
            _ => {
                self.stats.dropped_cookies += 1;
                return;
            }
        };
        let peer = PeerInit {
            tag: c.peer_tag,
            initial_tsn: c.peer_initial_tsn,
            a_rwnd: c.peer_a_rwnd,
            inbound_streams: c.peer_inbound_streams,
            forward_tsn: c.peer_forward_tsn,
            reconfig: c.peer_reconfig,
        };
        match self.state {
            State::Closed => {
                self.my_tag = c.my_tag;
                self.my_initial_tsn = c.my_initial_tsn;
                self.establish(now, peer);
                self.control.push_back(Chunk::CookieAck);
            }
            State::CookieWait | State::CookieEchoed if c.my_tag == self.my_tag => {
                self.establish(now, peer);
                self.control.push_front(Chunk::CookieAck);
            }
            // A cookie we issued while still closed (the peer's INIT arrived before our
            // connect): the peer knows only those tags, so adopt them.
            State::CookieWait | State::CookieEchoed if c.tie_my == 0 && c.tie_peer == 0 => {
                self.my_tag = c.my_tag;
                self.my_initial_tsn = c.my_initial_tsn;
                self.establish(now, peer);
                self.control.push_front(Chunk::CookieAck);
            }
            _ if self.is_up()
                && c.my_tag == self.my_tag
                && self.peer.as_ref().is_some_and(|p| p.tag == c.peer_tag) =>
            {
                // Case D: our COOKIE ACK was lost.
                self.control.push_back(Chunk::CookieAck);
            }
            _ => self.stats.dropped_cookies += 1,
        }
    }

    fn establish(&mut self, now: Time, peer: PeerInit) {
        let rto = (
            self.config.rto_initial,
            self.config.rto_min,
            self.config.rto_max,
        );
        self.tx = Tx::new(
            self.my_initial_tsn,
            peer.a_rwnd,
            self.config.max_packet_size,
            rto,
        );
        self.tx.pr_supported = peer.forward_tsn;
        self.rx = Rx::new(
            peer.initial_tsn,
            self.config.receive_window,
            self.config.max_message_size,
        );
        self.rx.set_packet_size(self.config.max_packet_size);
        self.window_arrived = 0;
        self.window_since = None;
        self.outbound_streams = peer.inbound_streams;
        self.my_next_request_seq = self.my_initial_tsn;
        self.peer_next_request_seq = peer.initial_tsn;
        self.peer = Some(peer);
        // Drop a queued COOKIE ECHO of ours: the association exists.
        self.control
            .retain(|c| !matches!(c, Chunk::CookieEcho { .. }));
        self.cookie_echo = None;
        self.state = State::Established;
        self.t1 = None;
        self.error_count = 0;
        self.hb_timer = Some(now + self.config.heartbeat_interval);
        self.events.push_back(SctpEvent::Connected);
    }

    fn handle_chunk(&mut self, now: Time, chunk: Chunk, had_data: &mut bool) -> Flow {
        match chunk {
            Chunk::InitAck(ack) => self.handle_init_ack(now, ack),
            Chunk::CookieAck => {
                if self.state == State::CookieEchoed {
                    if let Some(peer) = self.peer.clone() {
                        self.establish(now, peer);
                    }
                }
            }
            Chunk::Data(d) => {
                if matches!(
                    self.state,
                    State::Established | State::ShutdownPending | State::ShutdownSent
                ) {
                    *had_data = true;
                    self.stats.data_chunks_received += 1;
                    if d.immediate {
                        self.rx.sack_now = true;
                    }
                    let len = d.payload.len();
                    match self.rx.handle_data(d) {
                        DataOutcome::Accepted => self.grow_window(now, len),
                        DataOutcome::Duplicate => self.stats.duplicate_tsns_received += 1,
                        DataOutcome::Dropped => self.stats.dropped_receive_window += 1,
                        DataOutcome::TooBig => {
                            self.fail("received message exceeds max_message_size", true);
                            return Flow::Stop;
                        }
                    }
                    self.collect_deliveries();
                    // RFC 9260 §9.2: data while SHUTDOWN-SENT: repeat the SHUTDOWN.
                    if self.state == State::ShutdownSent
                        && !self
                            .control
                            .iter()
                            .any(|c| matches!(c, Chunk::Shutdown { .. }))
                    {
                        self.control.push_back(Chunk::Shutdown {
                            cum_tsn_ack: self.rx.cum_tsn(),
                        });
                        self.t2 = Some(now + self.tx.rto);
                    }
                }
            }
            Chunk::Sack(s) => {
                if self.is_up() {
                    let outcome = self.tx.handle_sack(now, &s, &mut self.stats);
                    self.tx.on_sack();
                    // RFC 9260 §8.3: only data we sent being acknowledged resets the error
                    // counter; a SACK that acknowledges nothing new does not (an answered
                    // zero window probe is simply not counted, see `Tx::on_t3`).
                    if outcome.cum_advanced || outcome.newly_acked {
                        self.error_count = 0;
                    }
                    // Released bytes are reported once per packet (`after_input`): a
                    // packet bundles a SACK per pair of our DATA packets.
                }
            }
            Chunk::Heartbeat { info } => {
                if self.is_up() && self.control.len() < MAX_CONTROL_CHUNKS {
                    self.control.push_back(Chunk::HeartbeatAck { info });
                }
            }
            Chunk::HeartbeatAck { info } => self.handle_heartbeat_ack(now, &info),
            Chunk::Shutdown { cum_tsn_ack } => match self.state {
                State::Established | State::ShutdownPending | State::ShutdownReceived => {
                    self.tx.handle_cum_ack(now, cum_tsn_ack, &mut self.stats);
                    self.emit_released();
                    self.state = State::ShutdownReceived;
                }
                State::ShutdownSent => {
                    self.control.push_back(Chunk::ShutdownAck);
                    self.state = State::ShutdownAckSent;
                    self.t2_count = 0;
                    self.t2 = Some(now + self.tx.rto);
                }
                _ => {}
            },
            Chunk::ShutdownAck => {
                if matches!(self.state, State::ShutdownSent | State::ShutdownAckSent) {
                    let tag = self.peer.as_ref().map_or(0, |p| p.tag);
                    self.single_packet(tag, Chunk::ShutdownComplete { reflected: false });
                    self.finish_closed();
                    return Flow::Stop;
                }
            }
            Chunk::Error { .. } => {}
            Chunk::ForwardTsn(f) => {
                if self.is_up() {
                    self.rx.handle_forward_tsn(&f);
                    self.collect_deliveries();
                    self.check_deferred_reset(now);
                }
            }
            Chunk::Reconfig(params) => {
                if self.is_up() {
                    for p in params {
                        self.handle_reconfig(now, p);
                    }
                }
            }
            Chunk::Unknown { typ, flags, value } => {
                // RFC 9260 §3.2: the upper two bits say what to do.
                if typ & 0x40 != 0 && self.control.len() < MAX_CONTROL_CHUNKS {
                    let mut raw = Vec::new();
                    Chunk::Unknown { typ, flags, value }.encode(&mut raw);
                    raw.truncate(usize::from(u16::MAX) - 16);
                    self.control.push_back(Chunk::Error {
                        causes: vec![ErrorCause {
                            code: CAUSE_UNRECOGNIZED_CHUNK,
                            info: raw,
                        }],
                    });
                }
                if typ & 0x80 == 0 {
                    return Flow::Stop;
                }
            }
            // Handled by the caller or never expected here.
            Chunk::Init(_)
            | Chunk::CookieEcho { .. }
            | Chunk::Abort { .. }
            | Chunk::ShutdownComplete { .. } => {}
        }
        Flow::Continue
    }

    /// Doubles the receive window (up to `max_receive_window`) when a whole window of data
    /// arrived within two of the path's smallest round trips (the window, not the
    /// sender's cwnd or CPU, is what limits: the bandwidth-delay product is larger) while
    /// the application held less than a quarter of it (we are not the ones falling
    /// behind). On a short path a window takes many round trips and the window stays,
    /// so no queue builds up behind it. Without an RTT sample yet (we never sent), the
    /// time test is skipped.
    fn grow_window(&mut self, now: Time, accepted: usize) {
        let since = *self.window_since.get_or_insert(now);
        self.window_arrived = self.window_arrived.saturating_add(accepted);
        let window = self.rx.window();
        if self.window_arrived < window {
            return;
        }
        self.window_arrived = 0;
        self.window_since = Some(now);
        let fast = self.tx.min_rtt.is_none_or(|r| now - since <= r * 2);
        if fast && self.rx.payload() < window / 4 && window < self.config.max_receive_window {
            self.rx
                .set_window(window.saturating_mul(2).min(self.config.max_receive_window));
        }
    }

    fn collect_deliveries(&mut self) {
        // Each message stays charged (payload and MESSAGE_OVERHEAD) until `poll_event`
        // hands it out.
        for d in self.rx.delivered.drain(..) {
            self.stats.messages_received += 1;
            self.events.push_back(SctpEvent::Message {
                stream: d.stream,
                ppid: d.ppid,
                data: d.data,
            });
        }
        if self.rx.delivered.capacity() > KEEP_CAPACITY {
            self.rx.delivered = Vec::new();
        }
        self.check_deferred_reset_no_time();
    }

    fn emit_released(&mut self) {
        for (stream, bytes) in self.tx.drain_released() {
            self.events
                .push_back(SctpEvent::BufferedAmountDecreased { stream, bytes });
        }
    }

    fn after_input(&mut self, now: Time) {
        self.emit_released();
        self.check_deferred_reset(now);
        self.maybe_start_reset(now);
        self.check_shutdown(now);
    }

    fn check_shutdown(&mut self, now: Time) {
        if !self.tx.is_idle() {
            return;
        }
        match self.state {
            State::ShutdownPending => {
                self.control.push_back(Chunk::Shutdown {
                    cum_tsn_ack: self.rx.cum_tsn(),
                });
                self.state = State::ShutdownSent;
                self.t2_count = 0;
                self.t2 = Some(now + self.tx.rto);
            }
            State::ShutdownReceived => {
                self.control.push_back(Chunk::ShutdownAck);
                self.state = State::ShutdownAckSent;
                self.t2_count = 0;
                self.t2 = Some(now + self.tx.rto);
            }
            _ => {}
        }
    }

    fn on_t1(&mut self, now: Time) {
        self.t1 = None;
        self.t1_count += 1;
        if self.t1_count > self.config.max_init_retransmissions {
            self.fail("association setup timed out", false);
            return;
        }
        match self.state {
            State::CookieWait => self.send_init(),
            State::CookieEchoed => {
                if let Some(c) = self.cookie_echo.clone() {
                    self.control.push_front(Chunk::CookieEcho { cookie: c });
                }
            }
            _ => return,
        }
        self.t1 = Some(now + self.backoff(self.t1_count));
    }

    fn on_t2(&mut self, now: Time) {
        self.t2 = None;
        self.t2_count += 1;
        if self.t2_count > self.config.max_retransmissions {
            self.fail("shutdown timed out", true);
            return;
        }
        match self.state {
            State::ShutdownSent => self.control.push_back(Chunk::Shutdown {
                cum_tsn_ack: self.rx.cum_tsn(),
            }),
            State::ShutdownAckSent => self.control.push_back(Chunk::ShutdownAck),
            _ => return,
        }
        self.t2 = Some(now + self.backoff(self.t2_count).min(self.config.rto_max));
    }

    fn on_heartbeat_timer(&mut self, now: Time) {
        self.hb_timer = None;
        if !self.is_up() {
            return;
        }
        if self.tx.t3.is_some() {
            // Data is outstanding: T3-rtx watches the path.
            self.hb_timer = Some(now + self.config.heartbeat_interval);
            return;
        }
        if self.hb_sent.is_some() {
            self.count_error();
            if self.state == State::Done {
                return;
            }
        }
        let nonce = self.rng.u64();
        self.hb_sent = Some((nonce, now));
        let info = nonce.to_be_bytes().to_vec();
        self.control.push_back(Chunk::Heartbeat { info });
        self.hb_timer = Some(now + self.config.heartbeat_interval + self.tx.rto);
    }

    /// RFC 9260 §8.3: only an exact echo of the info of our outstanding HEARTBEAT counts;
    /// the sample is measured from the send time we recorded.
    fn handle_heartbeat_ack(&mut self, now: Time, info: &[u8]) {
        let Some((nonce, sent)) = self.hb_sent else {
            return;
        };
        if info != nonce.to_be_bytes() {
            return;
        }
        self.hb_sent = None;
        self.error_count = 0;
        self.tx.on_rtt_sample(now - sent);
    }

    fn count_error(&mut self) {
        self.error_count += 1;
        if self.error_count > self.config.max_retransmissions {
            self.fail("peer unreachable: too many retransmissions", true);
        }
    }

    // ---- stream reset (RFC 6525) ----

    fn maybe_start_reset(&mut self, now: Time) {
        if self.reset_in_flight.is_some()
            || self.reset_queue.is_empty()
            || !matches!(self.state, State::Established)
        {
            return;
        }
        let ready: Vec<u16> = self
            .reset_queue
            .iter()
            .copied()
            .filter(|s| !self.tx.has_unsent(*s))
            .take(MAX_STREAMS_PER_RESET)
            .collect();
        if ready.is_empty() {
            return;
        }
        for s in &ready {
            self.reset_queue.remove(s);
        }
        if !self.peer.as_ref().is_some_and(|p| p.reconfig) {
            // The peer cannot reset streams: report completion right away.
            for s in ready {
                self.tx.reset_ssn(s);
                self.events
                    .push_back(SctpEvent::OutgoingStreamReset { stream: s });
            }
            return;
        }
        let r = ResetInFlight {
            request_seq: self.my_next_request_seq,
            last_tsn: self.tx.last_assigned_tsn(),
            streams: ready,
        };
        self.control
            .push_back(Chunk::Reconfig(vec![ReconfigParam::OutgoingResetRequest {
                request_seq: r.request_seq,
                response_seq: self.peer_next_request_seq.wrapping_sub(1),
                last_tsn: r.last_tsn,
                streams: r.streams.clone(),
            }]));
        self.reset_in_flight = Some(r);
        self.reset_timer = Some(now + self.tx.rto);
    }

    fn respond(&mut self, response_seq: u32, result: u32) {
        if self.control.len() >= MAX_CONTROL_CHUNKS {
            return;
        }
        self.control
            .push_back(Chunk::Reconfig(vec![ReconfigParam::Response {
                response_seq,
                result,
                next_tsns: None,
            }]));
    }

    fn handle_reconfig(&mut self, now: Time, p: ReconfigParam) {
        match p {
            ReconfigParam::OutgoingResetRequest {
                request_seq,
                last_tsn,
                streams,
                ..
            } => {
                if request_seq == self.peer_next_request_seq {
                    if self
                        .deferred_reset
                        .as_ref()
                        .is_some_and(|d| d.0 == request_seq)
                    {
                        self.respond(request_seq, RESULT_IN_PROGRESS);
                        return;
                    }
                    let last = unwrap_tsn(self.rx.cum, last_tsn);
                    if last <= self.rx.cum {
                        self.perform_incoming_reset(request_seq, &streams);
                    } else {
                        self.deferred_reset = Some((request_seq, last_tsn, streams));
                        self.respond(request_seq, RESULT_IN_PROGRESS);
                    }
                } else if request_seq == self.peer_next_request_seq.wrapping_sub(1) {
                    let result = match self.last_response {
                        Some((seq, r)) if seq == request_seq => r,
                        _ => RESULT_SUCCESS_PERFORMED,
                    };
                    self.respond(request_seq, result);
                } else {
                    self.respond(request_seq, RESULT_BAD_SEQUENCE);
                }
            }
            ReconfigParam::IncomingResetRequest { request_seq, .. } => {
                let result = if request_seq == self.peer_next_request_seq {
                    self.peer_next_request_seq = self.peer_next_request_seq.wrapping_add(1);
                    self.last_response = Some((request_seq, RESULT_DENIED));
                    RESULT_DENIED
                } else {
                    RESULT_BAD_SEQUENCE
                };
                self.respond(request_seq, result);
            }
            ReconfigParam::Response {
                response_seq,
                result,
                ..
            } => {
                let Some(r) = &self.reset_in_flight else {
                    return;
                };
                if r.request_seq != response_seq {
                    return;
                }
                if result == RESULT_IN_PROGRESS {
                    // Ask again after a while (same sequence number).
                    self.reset_timer = Some(now + self.tx.rto);
                    return;
                }
                let Some(r) = self.reset_in_flight.take() else {
                    return;
                };
                self.reset_timer = None;
                self.my_next_request_seq = self.my_next_request_seq.wrapping_add(1);
                for s in r.streams {
                    self.tx.reset_ssn(s);
                    self.events
                        .push_back(SctpEvent::OutgoingStreamReset { stream: s });
                }
                self.error_count = 0;
                self.maybe_start_reset(now);
            }
            ReconfigParam::Unknown { .. } => {}
        }
    }

    fn perform_incoming_reset(&mut self, request_seq: u32, streams: &[u16]) {
        for s in self.rx.reset_streams(streams) {
            self.events
                .push_back(SctpEvent::IncomingStreamReset { stream: s });
        }
        self.peer_next_request_seq = self.peer_next_request_seq.wrapping_add(1);
        self.last_response = Some((request_seq, RESULT_SUCCESS_PERFORMED));
        self.respond(request_seq, RESULT_SUCCESS_PERFORMED);
    }

    fn check_deferred_reset_no_time(&mut self) {
        let due = self
            .deferred_reset
            .as_ref()
            .is_some_and(|(_, last, _)| unwrap_tsn(self.rx.cum, *last) <= self.rx.cum);
        if due {
            if let Some((seq, _, streams)) = self.deferred_reset.take() {
                self.perform_incoming_reset(seq, &streams);
            }
        }
    }

    fn check_deferred_reset(&mut self, _now: Time) {
        self.check_deferred_reset_no_time();
    }

    // ---- ending ----

    fn stop_all(&mut self) {
        self.t1 = None;
        self.t2 = None;
        self.tx.t3 = None;
        self.ack_timer = None;
        self.hb_timer = None;
        self.reset_timer = None;
        self.control.clear();
        self.sacks.clear();
    }

    fn fail(&mut self, reason: &str, send_abort: bool) {
        self.fail_with(reason, send_abort, CAUSE_PROTOCOL_VIOLATION);
    }

    fn fail_with(&mut self, reason: &str, send_abort: bool, cause: u16) {
        self.fail_inner(reason, send_abort, cause, None);
    }

    /// `cause`: what an ABORT we send carries; `received_cause`: the first cause code of the
    /// peer's ABORT that ended the association, if that is what happened.
    fn fail_inner(
        &mut self,
        reason: &str,
        send_abort: bool,
        cause: u16,
        received_cause: Option<u16>,
    ) {
        let peer_tag = self.peer.as_ref().map(|p| p.tag);
        self.stop_all();
        if send_abort {
            if let Some(tag) = peer_tag {
                let info = reason.as_bytes().to_vec();
                self.single_packet(
                    tag,
                    Chunk::Abort {
                        reflected: false,
                        causes: vec![ErrorCause { code: cause, info }],
                    },
                );
            }
        }
        self.state = State::Done;
        self.events.push_back(SctpEvent::Aborted {
            reason: reason.to_string(),
            cause: received_cause,
        });
    }

    fn finish_closed(&mut self) {
        self.stop_all();
        self.state = State::Done;
        self.events.push_back(SctpEvent::Closed);
    }
}

enum Flow {
    Continue,
    Stop,
}

#[cfg(test)]
impl Association {
    /// The verification tag the peer must put on its packets.
    pub(super) fn debug_my_tag(&self) -> u32 {
        self.my_tag
    }

    /// Chunks queued for sending besides DATA.
    pub(super) fn debug_control_len(&self) -> usize {
        self.control.len() + self.single.len()
    }

    pub(super) fn debug_state(&self) -> String {
        format!(
            "state {:?} rx cum {} buffered {} {} | tx {}",
            self.state,
            self.rx.cum_tsn(),
            self.rx.memory(),
            self.rx.debug_streams(),
            self.tx.debug_state()
        )
    }
}
