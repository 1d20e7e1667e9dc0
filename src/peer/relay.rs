//! TURN relays of one peer: each is a [`TurnClient`] the host reaches through one of its own
//! transports (a WebSocket to our relay, a UDP socket, a TCP connection), and, once
//! allocated, one more local transport for ICE: its relayed candidate. To ICE a relayed path
//! is an opaque transport id like a socket; this module wraps what ICE, DTLS and SCTP send
//! on it into TURN messages for the server, and unwraps what the server relays back.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::crypto::Rng;
use crate::net::{TransportId, Transmit};
use crate::time::Time;
use crate::turn::{TurnClient, TurnConfig, TurnError, TurnEvent, TurnTransport};

/// W3C `RTCPeerConnectionIceErrorEvent.errorCode` when the server could not be reached or
/// answered nothing usable (outside the STUN error code range, as the spec asks).
pub const UNREACHABLE_ERROR_CODE: u16 = 701;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Configured; the allocation starts with ICE gathering.
    Waiting,
    Allocating,
    Allocated,
    /// Failed, closed, or released: nothing more is sent.
    Done,
}

pub(super) struct Relay {
    /// The ICE transport of the relayed candidate.
    pub id: TransportId,
    /// The host transport the server is reached through.
    pub via: TransportId,
    /// The server's address on `via` (any fixed value for a WebSocket).
    pub server: SocketAddr,
    pub url: String,
    config: TurnConfig,
    client: Option<TurnClient>,
    state: State,
    /// Servers the host could not reach before the allocation started (url, reason),
    /// reported when it starts, as gathering errors are.
    deferred: Vec<(String, String)>,
    /// The host has no server left for this relay: it allocates nothing.
    unreachable: bool,
}

/// What a relay reports to the peer after an input.
pub(super) enum RelayOutput {
    /// The allocation exists: add the relayed transport to ICE.
    Allocated { id: TransportId, relayed: SocketAddr, base: SocketAddr, protocol: crate::ice::RelayProtocol },
    /// The allocation could not be made (before any candidate): gathering stops waiting.
    AllocationFailed { url: String, code: u16, text: String },
    /// One server of the relay failed (the host tries its next URL, or the allocation made
    /// there is lost): reported, gathering goes on as it was.
    ServerError { url: String, code: u16, text: String },
    /// A datagram the server relayed from `from`, to be handled as if it arrived on `id`.
    Datagram { id: TransportId, from: SocketAddr, data: Vec<u8> },
}

impl Relay {
    pub fn new(id: TransportId, via: TransportId, server: SocketAddr, url: String, config: TurnConfig) -> Relay {
        Relay {
            id,
            via,
            server,
            url,
            config,
            client: None,
            state: State::Waiting,
            deferred: Vec::new(),
            unreachable: false,
        }
    }

    /// Whether the allocation is still to be made or being made (gathering waits for it).
    pub fn is_waiting(&self) -> bool {
        self.state == State::Waiting
    }

    /// Starts the allocation; true if it is now being made (gathering waits for it). The
    /// servers that failed before are reported first.
    pub fn start(&mut self, rng: Rng, now: Time, out: &mut Vec<RelayOutput>) -> bool {
        if self.state != State::Waiting {
            return false;
        }
        for (url, text) in self.deferred.drain(..) {
            out.push(RelayOutput::ServerError { url, code: UNREACHABLE_ERROR_CODE, text });
        }
        if self.unreachable {
            self.state = State::Done;
            return false;
        }
        self.client = Some(TurnClient::new(self.config.clone(), rng, now));
        self.state = State::Allocating;
        true
    }

    /// The host's connection to the server at `failed_url` failed or closed (`text` says
    /// how). With `next_url` the host is trying that server next on the same transport: the
    /// TURN client goes on (its requests are retransmitted there). Without one, an allocation
    /// being made fails (701), and one made is lost.
    pub fn server_failed(&mut self, failed_url: &str, text: &str, next_url: Option<&str>, out: &mut Vec<RelayOutput>) {
        let (url, text) = (failed_url.to_string(), text.to_string());
        let code = UNREACHABLE_ERROR_CODE;
        match (self.state, next_url) {
            (State::Waiting, _) => {
                self.deferred.push((url, text));
                match next_url {
                    Some(next) => self.url = next.to_string(),
                    None => self.unreachable = true,
                }
            }
            (State::Allocating, Some(next)) => {
                out.push(RelayOutput::ServerError { url, code, text });
                self.url = next.to_string();
            }
            (State::Allocating, None) => {
                out.push(RelayOutput::AllocationFailed { url, code, text });
                self.client = None;
                self.state = State::Done;
            }
            (State::Allocated, _) => {
                out.push(RelayOutput::ServerError { url, code, text });
                self.client = None;
                self.state = State::Done;
            }
            (State::Done, _) => {}
        }
    }

    /// Whether `(transport, from)` is this relay's server path.
    pub fn is_server_path(&self, transport: TransportId, from: SocketAddr) -> bool {
        self.client.is_some() && self.via == transport && self.server == from
    }

    /// Whether a datagram from the server path is the TURN client's. Over UDP, a server
    /// that is also the peer's STUN server (`stun:` and `turn:` at one address, as is
    /// common) answers ICE's Binding requests on the same path: those responses (the TURN
    /// client sends no Binding request) go to ICE. A stream's bytes are always the client's.
    pub fn takes(&self, data: &[u8]) -> bool {
        const BINDING_RESPONSES: [[u8; 2]; 2] = [[0x01, 0x01], [0x01, 0x11]];
        self.config.transport != TurnTransport::Udp || !data.get(..2).is_some_and(|t| BINDING_RESPONSES.iter().any(|b| b == t))
    }

    pub fn handle_input(&mut self, now: Time, data: &[u8], out: &mut Vec<RelayOutput>) {
        if let Some(c) = self.client.as_mut() {
            c.handle_input(now, data);
        }
        self.drain_events(out);
    }

    pub fn handle_timeout(&mut self, now: Time, out: &mut Vec<RelayOutput>) {
        if let Some(c) = self.client.as_mut() {
            c.handle_timeout(now);
        }
        self.drain_events(out);
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        self.client.as_ref().and_then(|c| c.poll_timeout())
    }

    /// The next message for the server, as a transmit on the host transport.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let data = self.client.as_mut()?.poll_transmit()?;
        Some(Transmit { transport: self.via, destination: self.server, data })
    }

    /// Sends `data` to `peer` through the allocation. The first datagram to an address asks
    /// for its permission and a channel; until the channel is bound, Send indications carry
    /// the data (the server drops them until the permission is installed, as on any TURN
    /// path: ICE retransmits its checks).
    pub fn send(&mut self, now: Time, peer: SocketAddr, data: &[u8]) -> Result<(), TurnError> {
        let c = self.client.as_mut().ok_or(TurnError::NotAllocated)?;
        c.create_permission(peer.ip(), now)?;
        if c.channel_of(peer).is_none() {
            // Without a free channel number the Send indications go on: not an error.
            match c.bind_channel(peer, now) {
                Ok(()) | Err(TurnError::TooManyChannels) => {}
                Err(e) => return Err(e),
            }
        }
        c.send_to(peer, data)
    }

    /// Releases the allocation (a Refresh with lifetime 0 when one exists).
    pub fn close(&mut self, now: Time) {
        if let Some(c) = self.client.as_mut() {
            c.close(now);
        }
        if self.state != State::Done {
            self.state = State::Done;
        }
    }

    fn drain_events(&mut self, out: &mut Vec<RelayOutput>) {
        let protocol = crate::ice::RelayProtocol::for_url(&self.url);
        let Some(c) = self.client.as_mut() else { return };
        while let Some(ev) = c.poll_event() {
            match ev {
                TurnEvent::Allocated { relayed, mapped, .. } => {
                    if self.state == State::Allocating {
                        self.state = State::Allocated;
                        // RFC 8445 §5.1.1.2: a relayed candidate's related address is the
                        // mapped address the server saw; unknown, it is signaled unspecified.
                        let base = mapped.unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
                        out.push(RelayOutput::Allocated { id: self.id, relayed, base, protocol });
                    }
                }
                TurnEvent::Failed { code, reason } => {
                    if self.state == State::Allocating {
                        let code = if code == 0 { UNREACHABLE_ERROR_CODE } else { code };
                        out.push(RelayOutput::AllocationFailed { url: self.url.clone(), code, text: reason });
                    }
                    self.state = State::Done;
                }
                TurnEvent::Data { from, bytes } => {
                    if self.state == State::Allocated {
                        out.push(RelayOutput::Datagram { id: self.id, from, data: bytes });
                    }
                }
                TurnEvent::Closed => self.state = State::Done,
                TurnEvent::Refreshed { .. }
                | TurnEvent::PermissionCreated { .. }
                | TurnEvent::PermissionFailed { .. }
                | TurnEvent::ChannelBound { .. }
                | TurnEvent::ChannelBindFailed { .. } => {}
            }
        }
    }
}
