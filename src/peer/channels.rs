//! The data-channel table: stream ids, DCEP open/ack, messages, buffered amounts and the
//! closing handshake (RFC 8831 §6.7: reset both directions of the stream).

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::{
    ChannelId, DataChannelInit, ErrorKind, PeerError, PeerEvent, MAX_CHANNEL_NAME_BYTES, MAX_DATA_CHANNELS,
    MAX_REOPEN_HELD_BYTES, MAX_REOPEN_HELD_MESSAGES,
};
use crate::datachannel::{self as dc, DataChannelOpen, DcepMessage, Reliability};
use crate::sctp::{Association, SctpError, SendOptions, MAX_SEND_BUFFER};
use crate::time::Time;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the SCTP association (and maybe for a stream id).
    Connecting,
    Open,
    /// The peer reset its direction (it closed the channel) and the host holds our reset
    /// back (`Channels::hold_remote_close`): sends are still taken, the reset of our
    /// direction waits for the host's `close`.
    RemoteClosing,
    /// Our outgoing stream reset was requested; waiting for both directions. A closed
    /// channel leaves the table (its id is free again).
    Closing,
}

struct Channel {
    init: DataChannelInit,
    stream: Option<u16>,
    state: State,
    /// We sent DATA_CHANNEL_OPEN and have not seen the ACK: send ordered until then
    /// (RFC 8832 §6).
    awaiting_ack: bool,
    /// Bytes we put on the stream that are not the application's (DCEP messages, the
    /// one-byte payload of empty messages), so `bufferedAmount` stays exact.
    overhead_outstanding: usize,
    /// A message of the application was refused for want of send-buffer room: the next
    /// zero-byte decrease (room again) is passed on as the signal to retry.
    send_refused: bool,
    outgoing_reset_done: bool,
    incoming_reset_done: bool,
    /// Messages `(ppid, data)` that arrived on the stream after the remote reset its
    /// direction while ours is still being reset: the remote already reused the id for a
    /// new channel (it may, once it saw the old one closed). Replayed when our reset is
    /// answered. Bounded over all channels by [`MAX_REOPEN_HELD_MESSAGES`] and
    /// [`MAX_REOPEN_HELD_BYTES`].
    held: Vec<(u32, Vec<u8>)>,
}

pub(super) struct Channels {
    channels: BTreeMap<ChannelId, Channel>,
    by_stream: HashMap<u16, ChannelId>,
    next_handle: ChannelId,
    /// `Some(true)` when we are the DTLS client (even stream ids, RFC 8832 §6).
    dtls_client: Option<bool>,
    /// Messages and bytes held over all channels (see `Channel::held`).
    held_messages: usize,
    held_bytes: usize,
    /// Label and protocol bytes over all channels (bounded by [`MAX_CHANNEL_NAME_BYTES`]
    /// for remote opens).
    name_bytes: usize,
    /// Some channel's DATA_CHANNEL_OPEN waits for room in the SCTP send buffer.
    opens_deferred: bool,
    /// When the peer resets an open channel's stream, wait for the host's `close` before
    /// resetting ours (the W3C closing procedure first finishes sending what the
    /// application queued, some of which a JS host may still hold). Off: answered at once.
    hold_remote_close: bool,
}

fn name_len(init: &DataChannelInit) -> usize {
    init.label.len().saturating_add(init.protocol.len())
}

fn err(kind: ErrorKind, msg: impl Into<String>) -> PeerError {
    PeerError::new(kind, msg)
}

/// A refused user message: `OperationError` (W3C webrtc-pc §6.2 send(): queuing is not
/// possible, e.g. the send buffer is full); nothing was queued.
fn send_error(e: SctpError) -> PeerError {
    match e {
        SctpError::SendBufferFull => err(
            ErrorKind::Operation,
            format!("the send buffer is full (at most {MAX_SEND_BUFFER} bytes are queued)"),
        ),
        e => err(ErrorKind::Operation, format!("send failed: {e:?}")),
    }
}

impl Channels {
    pub fn new() -> Channels {
        Channels {
            channels: BTreeMap::new(),
            by_stream: HashMap::new(),
            next_handle: 1,
            dtls_client: None,
            held_messages: 0,
            held_bytes: 0,
            name_bytes: 0,
            opens_deferred: false,
            hold_remote_close: false,
        }
    }

    /// Sets `hold_remote_close`.
    pub fn set_hold_remote_close(&mut self, hold: bool) {
        self.hold_remote_close = hold;
    }

    pub fn any_non_closed(&self) -> bool {
        !self.channels.is_empty()
    }

    pub fn stream_of(&self, channel: ChannelId) -> Option<u16> {
        self.channels.get(&channel).and_then(|c| c.stream)
    }

    fn alloc_handle(&mut self) -> ChannelId {
        let h = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1).max(1);
        h
    }

    /// The lowest free stream id of our parity.
    fn alloc_stream(&self) -> Option<u16> {
        let client = self.dtls_client?;
        let mut id: u16 = if client { 0 } else { 1 };
        loop {
            if !self.by_stream.contains_key(&id) {
                return Some(id);
            }
            id = id.checked_add(2)?;
            if id == u16::MAX {
                return None;
            }
        }
    }

    /// W3C webrtc-pc createDataChannel(): the checks on the init (TypeError), then the id
    /// (OperationError when it is in use or none is free). The `id` of a channel that is not
    /// `negotiated` is ignored: it gets one of our parity once the DTLS role is known.
    pub fn create(&mut self, mut init: DataChannelInit) -> Result<(ChannelId, Option<u16>), PeerError> {
        if init.max_packet_life_time.is_some() && init.max_retransmits.is_some() {
            return Err(err(ErrorKind::Type, "maxPacketLifeTime and maxRetransmits are mutually exclusive"));
        }
        if init.label.len() > usize::from(u16::MAX) || init.protocol.len() > usize::from(u16::MAX) {
            return Err(err(ErrorKind::Type, "label and protocol are at most 65535 bytes"));
        }
        if self.channels.len() >= MAX_DATA_CHANNELS {
            return Err(err(ErrorKind::Operation, "too many data channels"));
        }
        if !init.negotiated {
            init.id = None;
        }
        let stream = if init.negotiated {
            let id = init.id.ok_or_else(|| err(ErrorKind::Type, "negotiated channels need an id"))?;
            if id == u16::MAX {
                return Err(err(ErrorKind::Type, "id must be below 65535"));
            }
            if self.by_stream.contains_key(&id) {
                return Err(err(ErrorKind::Operation, format!("data channel id {id} is already in use")));
            }
            Some(id)
        } else {
            match self.dtls_client {
                Some(_) => Some(
                    self.alloc_stream()
                        .ok_or_else(|| err(ErrorKind::Operation, "no free data channel id"))?,
                ),
                None => None,
            }
        };
        let handle = self.alloc_handle();
        if let Some(s) = stream {
            self.by_stream.insert(s, handle);
        }
        self.name_bytes = self.name_bytes.saturating_add(name_len(&init));
        self.channels.insert(
            handle,
            Channel {
                init,
                stream,
                state: State::Connecting,
                awaiting_ack: false,
                overhead_outstanding: 0,
                outgoing_reset_done: false,
                incoming_reset_done: false,
                held: Vec::new(),
                send_refused: false,
            },
        );
        Ok((handle, stream))
    }

    /// The DTLS role is known: give every channel without an id one of our parity.
    pub fn set_dtls_role(&mut self, client: bool, events: &mut VecDeque<PeerEvent>) {
        if self.dtls_client.is_some() {
            return;
        }
        self.dtls_client = Some(client);
        let pending: Vec<ChannelId> =
            self.channels.iter().filter(|(_, c)| c.stream.is_none()).map(|(h, _)| *h).collect();
        for h in pending {
            match self.alloc_stream() {
                Some(id) => {
                    self.by_stream.insert(id, h);
                    if let Some(c) = self.channels.get_mut(&h) {
                        c.stream = Some(id);
                    }
                    events.push_back(PeerEvent::DataChannelIdAssigned { channel: h, id });
                }
                None => self.fail(h, err(ErrorKind::DataChannelFailure, "no free data channel id"), events),
            }
        }
    }

    /// Opens every channel that waits for the association, once it is up.
    pub fn open_pending(&mut self, now: Time, sctp: Option<&mut Association>, events: &mut VecDeque<PeerEvent>) {
        let Some(sctp) = sctp else { return };
        if !sctp.is_established() {
            return;
        }
        let mut deferred = false;
        let mut failed = Vec::new();
        for (h, c) in self.channels.iter_mut() {
            if c.state != State::Connecting {
                continue;
            }
            let Some(stream) = c.stream else { continue };
            if !c.init.negotiated {
                let Some(open) = open_message(&c.init) else {
                    failed.push((*h, err(ErrorKind::DataChannelFailure, "the channel cannot be announced (DCEP)")));
                    continue;
                };
                let mut buf = Vec::new();
                DcepMessage::Open(open).encode(&mut buf);
                match sctp.send(now, stream, dc::ppid::DCEP, &buf, SendOptions::default()) {
                    Ok(()) => {
                        c.overhead_outstanding += buf.len();
                        c.awaiting_ack = true;
                    }
                    Err(SctpError::SendBufferFull) => {
                        // Still connecting: the OPEN goes out once data leaves the buffer.
                        deferred = true;
                        continue;
                    }
                    Err(e) => {
                        failed.push((*h, err(ErrorKind::DataChannelFailure, format!("cannot open channel: {e:?}"))));
                        continue;
                    }
                }
            }
            c.state = State::Open;
            events.push_back(PeerEvent::DataChannelOpen { channel: *h });
        }
        self.opens_deferred = deferred;
        for (h, e) in failed {
            self.fail(h, e, events);
        }
    }

    /// Data left the SCTP send buffer: sends the OPENs that waited for room.
    pub fn retry_deferred_opens(&mut self, now: Time, sctp: Option<&mut Association>, events: &mut VecDeque<PeerEvent>) {
        if self.opens_deferred {
            self.open_pending(now, sctp, events);
        }
    }

    fn options(c: &Channel) -> SendOptions {
        SendOptions {
            unordered: !c.init.ordered && !c.awaiting_ack,
            max_retransmits: c.init.max_retransmits.map(u32::from),
            max_lifetime: c
                .init
                .max_packet_life_time
                .map(|ms| core::time::Duration::from_millis(u64::from(ms))),
        }
    }

    pub fn send(
        &mut self,
        now: Time,
        sctp: &mut Association,
        channel: ChannelId,
        binary: bool,
        data: &[u8],
    ) -> Result<(), PeerError> {
        let c = self
            .channels
            .get_mut(&channel)
            .ok_or_else(|| err(ErrorKind::InvalidState, "unknown data channel"))?;
        if c.state != State::Open && c.state != State::RemoteClosing {
            return Err(err(ErrorKind::InvalidState, "the data channel is not open"));
        }
        let stream = c.stream.ok_or_else(|| err(ErrorKind::InvalidState, "the data channel has no id"))?;
        let ppid = dc::ppid_for(binary, data.len());
        let opts = Self::options(c);
        let sent = if data.is_empty() {
            // RFC 8831 §6.6: empty messages travel as one byte with an _EMPTY PPID.
            sctp.send(now, stream, ppid, &[0], opts).map(|()| c.overhead_outstanding += 1)
        } else {
            sctp.send(now, stream, ppid, data, opts)
        };
        if sent == Err(SctpError::SendBufferFull) {
            c.send_refused = true;
        }
        sent.map_err(send_error)
    }

    /// Returns false when the message was dropped (unknown stream, bad DCEP, ...).
    pub fn on_message(
        &mut self,
        now: Time,
        sctp: Option<&mut Association>,
        stream: u16,
        ppid: u32,
        data: Vec<u8>,
        events: &mut VecDeque<PeerEvent>,
    ) -> bool {
        if let Some(c) = self.by_stream.get(&stream).and_then(|h| self.channels.get_mut(h)) {
            if matches!(c.state, State::Closing | State::RemoteClosing) && c.incoming_reset_done {
                // The remote's old direction is finished: this is for its next channel.
                if self.held_messages >= MAX_REOPEN_HELD_MESSAGES
                    || self.held_bytes.saturating_add(data.len()) > MAX_REOPEN_HELD_BYTES
                {
                    return false;
                }
                self.held_messages += 1;
                self.held_bytes += data.len();
                c.held.push((ppid, data));
                return true;
            }
        }
        if ppid == dc::ppid::DCEP {
            let Ok(msg) = DcepMessage::decode(&data) else { return false };
            return self.on_dcep(now, sctp, stream, msg, events);
        }
        let Some(&h) = self.by_stream.get(&stream) else { return false };
        let Some(c) = self.channels.get_mut(&h) else { return false };
        if c.state != State::Open && c.state != State::Closing {
            return false;
        }
        // Any user message on an unordered channel means the peer saw our OPEN.
        c.awaiting_ack = false;
        match dc::decode_payload(ppid, data) {
            Ok((binary, data)) => {
                events.push_back(PeerEvent::DataChannelMessage { channel: h, binary, data });
                true
            }
            Err(_) => false,
        }
    }

    fn on_dcep(
        &mut self,
        now: Time,
        sctp: Option<&mut Association>,
        stream: u16,
        msg: DcepMessage,
        events: &mut VecDeque<PeerEvent>,
    ) -> bool {
        match msg {
            DcepMessage::Ack => {
                let Some(&h) = self.by_stream.get(&stream) else { return false };
                if let Some(c) = self.channels.get_mut(&h) {
                    c.awaiting_ack = false;
                }
                true
            }
            DcepMessage::Open(open) => {
                if self.by_stream.contains_key(&stream) {
                    // RFC 8832 §6: an OPEN on a stream in use is a protocol error; ignore it.
                    return false;
                }
                if let Some(client) = self.dtls_client {
                    // The opener uses its own parity; ours would mean a collision.
                    if stream.is_multiple_of(2) == client {
                        return false;
                    }
                }
                if self.channels.len() >= MAX_DATA_CHANNELS {
                    return false;
                }
                let Some(sctp) = sctp else { return false };
                let init = init_from_open(open);
                let names = name_len(&init);
                if self.name_bytes.saturating_add(names) > MAX_CHANNEL_NAME_BYTES {
                    return false;
                }
                let mut ack = Vec::new();
                DcepMessage::Ack.encode(&mut ack);
                if sctp.send(now, stream, dc::ppid::DCEP, &ack, SendOptions::default()).is_err() {
                    return false;
                }
                let h = self.alloc_handle();
                self.by_stream.insert(stream, h);
                self.name_bytes = self.name_bytes.saturating_add(names);
                events.push_back(PeerEvent::DataChannelIncoming {
                    channel: h,
                    id: stream,
                    label: init.label.clone(),
                    protocol: init.protocol.clone(),
                    ordered: init.ordered,
                    max_packet_life_time: init.max_packet_life_time,
                    max_retransmits: init.max_retransmits,
                });
                self.channels.insert(
                    h,
                    Channel {
                        init,
                        stream: Some(stream),
                        state: State::Open,
                        awaiting_ack: false,
                        overhead_outstanding: ack.len(),
                        outgoing_reset_done: false,
                        incoming_reset_done: false,
                        held: Vec::new(),
                        send_refused: false,
                    },
                );
                true
            }
        }
    }

    pub fn on_buffered_decrease(&mut self, stream: u16, bytes: usize, events: &mut VecDeque<PeerEvent>) {
        let Some(&h) = self.by_stream.get(&stream) else { return };
        let Some(c) = self.channels.get_mut(&h) else { return };
        let overhead = bytes.min(c.overhead_outstanding);
        c.overhead_outstanding -= overhead;
        let user = bytes - overhead;
        // 0 bytes: the send buffer has room again after a refused send: a retry signal,
        // passed on only if it was the application's send (a deferred OPEN is retried by
        // the caller).
        let retry = bytes == 0 && std::mem::take(&mut c.send_refused);
        if user > 0 || retry {
            events.push_back(PeerEvent::DataChannelBufferedAmountDecreased { channel: h, bytes: user });
        }
    }

    /// The application closes a channel: reset our outgoing stream after queued data.
    pub fn close(
        &mut self,
        now: Time,
        sctp: Option<&mut Association>,
        channel: ChannelId,
        events: &mut VecDeque<PeerEvent>,
    ) {
        let Some(c) = self.channels.get_mut(&channel) else { return };
        match c.state {
            State::Closing => {}
            State::Connecting => {
                self.finish(channel, events);
            }
            // The host finished sending what it queued: now the answer to the peer's reset.
            State::Open | State::RemoteClosing => {
                c.state = State::Closing;
                match (sctp, c.stream) {
                    (Some(s), Some(stream)) if s.is_established() => s.reset_stream(now, stream),
                    _ => self.finish(channel, events),
                }
            }
        }
    }

    pub fn on_incoming_reset(
        &mut self,
        now: Time,
        sctp: Option<&mut Association>,
        stream: u16,
        events: &mut VecDeque<PeerEvent>,
    ) {
        let Some(&h) = self.by_stream.get(&stream) else { return };
        let Some(c) = self.channels.get_mut(&h) else { return };
        c.incoming_reset_done = true;
        match c.state {
            State::Open if self.hold_remote_close => {
                // RFC 8831 §6.7 answer held: the host calls `close` once what the
                // application sent before it saw `closing` is queued here.
                c.state = State::RemoteClosing;
                events.push_back(PeerEvent::DataChannelClosing { channel: h });
            }
            State::RemoteClosing => {}
            State::Open | State::Connecting => {
                // The remote closed: we answer by resetting our side (RFC 8831 §6.7).
                c.state = State::Closing;
                events.push_back(PeerEvent::DataChannelClosing { channel: h });
                if let Some(s) = sctp {
                    s.reset_stream(now, stream);
                } else {
                    self.finish(h, events);
                }
            }
            State::Closing => {
                if c.outgoing_reset_done {
                    self.finish(h, events);
                }
            }
        }
    }

    pub fn on_outgoing_reset(
        &mut self,
        now: Time,
        mut sctp: Option<&mut Association>,
        stream: u16,
        events: &mut VecDeque<PeerEvent>,
    ) {
        let Some(&h) = self.by_stream.get(&stream) else { return };
        let Some(c) = self.channels.get_mut(&h) else { return };
        if c.state != State::Closing {
            return;
        }
        c.outgoing_reset_done = true;
        if c.incoming_reset_done {
            let held = std::mem::take(&mut c.held);
            for (_, d) in &held {
                self.held_messages = self.held_messages.saturating_sub(1);
                self.held_bytes = self.held_bytes.saturating_sub(d.len());
            }
            self.finish(h, events);
            // What the remote sent for its next channel on this id (an OPEN first).
            for (ppid, data) in held {
                self.on_message(now, sctp.as_deref_mut(), stream, ppid, data, events);
            }
        }
    }

    fn finish(&mut self, h: ChannelId, events: &mut VecDeque<PeerEvent>) {
        if let Some(c) = self.channels.remove(&h) {
            self.name_bytes = self.name_bytes.saturating_sub(name_len(&c.init));
            for (_, d) in &c.held {
                self.held_messages = self.held_messages.saturating_sub(1);
                self.held_bytes = self.held_bytes.saturating_sub(d.len());
            }
            if let Some(s) = c.stream {
                self.by_stream.remove(&s);
            }
            events.push_back(PeerEvent::DataChannelClosed { channel: h });
        }
    }

    /// The channel's transport could not be set up or went away with `error`: it is closed
    /// and leaves the table (its id is free again). `DataChannelError` comes first, then
    /// `DataChannelClosed`, as W3C webrtc-pc §6.2 announces a channel closed with an error.
    fn fail(&mut self, h: ChannelId, error: PeerError, events: &mut VecDeque<PeerEvent>) {
        self.fail_with_cause(h, error, None, events);
    }

    fn fail_with_cause(
        &mut self,
        h: ChannelId,
        error: PeerError,
        sctp_cause_code: Option<u16>,
        events: &mut VecDeque<PeerEvent>,
    ) {
        if !self.channels.contains_key(&h) {
            return;
        }
        events.push_back(PeerEvent::DataChannelError { channel: h, error, sctp_cause_code });
        self.finish(h, events);
    }

    /// The transport went away: every channel is closed and forgotten, without an error
    /// (our own `close()`, a graceful SCTP shutdown, or a DTLS failure the API reports).
    pub fn close_all(&mut self, events: &mut VecDeque<PeerEvent>) {
        let handles: Vec<ChannelId> = self.channels.keys().copied().collect();
        for h in handles {
            self.finish(h, events);
        }
    }

    /// The association was torn down abruptly under the channels (the peer's ABORT, e.g. its
    /// `RTCPeerConnection.close()`): each channel gets `DataChannelError` with
    /// [`ErrorKind::SctpFailure`], then `DataChannelClosed`, and leaves the table.
    /// `cause`: the first cause code of the peer's ABORT, when one ended the association.
    pub fn abort_all(&mut self, reason: &str, cause: Option<u16>, events: &mut VecDeque<PeerEvent>) {
        let handles: Vec<ChannelId> = self.channels.keys().copied().collect();
        for h in handles {
            self.fail_with_cause(h, err(ErrorKind::SctpFailure, reason), cause, events);
        }
    }
}

fn open_message(init: &DataChannelInit) -> Option<DataChannelOpen> {
    let reliability = Reliability::from_init(init.max_retransmits, init.max_packet_life_time).ok()?;
    DataChannelOpen::new(
        init.ordered,
        reliability,
        dc::PRIORITY_NORMAL,
        init.label.clone(),
        init.protocol.clone(),
    )
    .ok()
}

fn init_from_open(open: DataChannelOpen) -> DataChannelInit {
    let ordered = open.ordered();
    let reliability = open.reliability();
    let (label, protocol) = open.into_strings();
    DataChannelInit {
        label,
        protocol,
        ordered,
        max_packet_life_time: reliability.max_packet_life_time(),
        max_retransmits: reliability.max_retransmits(),
        negotiated: false,
        id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_band(label: &str) -> DataChannelInit {
        DataChannelInit { label: label.into(), ..DataChannelInit::default() }
    }

    /// webrtc-pc "set the session description": a channel for which no id is left when the
    /// role is known is closed with an error (data-channel-failure), and it leaves the table
    /// like any closed channel instead of staying there, counted against MAX_DATA_CHANNELS.
    #[test]
    fn a_channel_left_without_an_id_is_closed_and_forgotten() {
        let mut t = Channels::new();
        // Every odd id (the DTLS server's) taken by a negotiated channel.
        for id in (1..u16::MAX).step_by(2) {
            let init = DataChannelInit { negotiated: true, id: Some(id), ..in_band("n") };
            t.create(init).expect("negotiated channel");
        }
        let taken = t.channels.len();
        let (h, id) = t.create(in_band("late")).expect("in-band channel");
        assert_eq!(id, None);
        let mut events = VecDeque::new();
        t.set_dtls_role(false, &mut events);
        let kinds: Vec<String> = events
            .iter()
            .map(|e| match e {
                PeerEvent::DataChannelError { channel, error, .. } if *channel == h => format!("error:{:?}", error.kind),
                PeerEvent::DataChannelClosed { channel } if *channel == h => "closed".to_string(),
                e => format!("{e:?}"),
            })
            .collect();
        assert_eq!(kinds, ["error:DataChannelFailure", "closed"]);
        assert_eq!(t.channels.len(), taken, "the failed channel left the table");
        assert_eq!(t.stream_of(h), None);
        // Closing it afterwards is a no-op, not a second `closed`.
        t.close(Time::ZERO, None, h, &mut events);
        assert_eq!(events.len(), 2);
    }

    /// The id of an in-band channel is ignored: it gets the lowest free id of our parity
    /// once the role is known, and the id it asked for stays free for a negotiated channel.
    #[test]
    fn an_in_band_channel_ignores_the_id_it_asks_for() {
        let mut t = Channels::new();
        let (h, id) = t.create(DataChannelInit { id: Some(6), ..in_band("x") }).unwrap();
        assert_eq!(id, None);
        let mut events = VecDeque::new();
        t.set_dtls_role(true, &mut events);
        assert_eq!(t.stream_of(h), Some(0));
        assert_eq!(events.into_iter().collect::<Vec<_>>(), [PeerEvent::DataChannelIdAssigned { channel: h, id: 0 }]);
        let (_, id) = t.create(DataChannelInit { id: Some(6), ..in_band("y") }).unwrap();
        assert_eq!(id, Some(2));
        let neg = DataChannelInit { negotiated: true, id: Some(6), ..in_band("n") };
        assert_eq!(t.create(neg.clone()).unwrap().1, Some(6));
        assert_eq!(t.create(neg).unwrap_err().kind, ErrorKind::Operation, "id 6 is in use now");
    }
}
