//! One TCP connection in the event loop, driven without blocking: sniffing (TLS
//! ClientHello, `GET `, TURN), TLS with a rustls [`ServerConnection`] fed the socket's
//! bytes, the HTTP upgrade, WebSocket framing, a bounded write queue, and in upstream mode
//! the TCP connection to the upstream TURN server that the WebSocket is bridged to.
//!
//! [`Conn`] owns its sockets and buffers but never calls the `Server`: reading yields
//! [`Input`]s that the loop hands to it, and the loop queues what the `Server` sends with
//! [`Conn::send`].

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use rustls::{ServerConfig, ServerConnection};

use crate::{ClientId, ClientKind};

use super::{CLIENT_QUEUE, MAX_HTTP_REQUEST, MAX_WS_FRAME};

/// Plaintext bytes handed to rustls at once; more waits in the connection's queue until rustls
/// has written these to the socket, so the queue, not rustls, holds (and bounds) a backlog.
pub const TLS_FLIGHT: usize = 16_384;

/// What a connection read, for the loop to act on (in order).
pub enum Input {
    /// A TURN-over-TCP or WebSocket client starts: `Server::add_client`.
    Open(ClientId, ClientKind),
    Data(ClientId, Vec<u8>),
    /// Upgrade done in upstream mode: the loop connects the upstream ([`Conn::bridge`]).
    Bridge,
}

/// Why a connection ends.
#[derive(Debug)]
pub enum Close {
    /// The peer closed, reset, or broke the protocol: close at once.
    Now,
    /// Flush what is queued (an HTTP error, a WebSocket close frame), then close.
    AfterFlush,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the first 4 bytes (then again inside TLS).
    Sniff,
    /// Reading the HTTP upgrade request.
    Http,
    Turn(ClientId),
    WebSocket(ClientId),
    /// Upstream mode: WebSocket messages go to `Conn::up` and back.
    Bridge,
}

/// A queue of outgoing messages with the offset written of the first.
#[derive(Default)]
struct Queue {
    messages: VecDeque<Vec<u8>>,
    written: usize,
}

impl Queue {
    fn is_full(&self) -> bool {
        self.messages.len() >= CLIENT_QUEUE
    }

    /// Writes to `w` until done or WouldBlock; true when empty.
    fn write_to(&mut self, w: &mut impl Write) -> io::Result<bool> {
        while let Some(m) = self.messages.front() {
            match w.write(&m[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.written += n;
                    if self.written >= m.len() {
                        self.messages.pop_front();
                        self.written = 0;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// The upstream side of a bridged WebSocket (upstream mode).
pub struct Upstream {
    pub tcp: mio::net::TcpStream,
    pub token: mio::Token,
    pub connected: bool,
    out: Queue,
    /// Bytes read from the upstream, cut into TURN messages.
    stream: Vec<u8>,
}

pub struct Conn {
    pub tcp: mio::net::TcpStream,
    pub remote: SocketAddr,
    pub phase: Phase,
    tls: Option<Box<ServerConnection>>,
    /// The first bytes were looked at for a TLS ClientHello.
    sniffed: bool,
    /// Plaintext received and not yet consumed (bounded in every phase).
    input: Vec<u8>,
    ws: WsReader,
    out: Queue,
    pub up: Option<Upstream>,
    /// Close once the queue is written.
    pub closing: bool,
    /// When the loop gives up on this connection's current phase (sniffing and the HTTP
    /// request, the upstream's connect, flushing before a close).
    pub deadline: Option<Instant>,
}

impl Conn {
    pub fn new(tcp: mio::net::TcpStream, remote: SocketAddr) -> Conn {
        Conn {
            tcp,
            remote,
            phase: Phase::Sniff,
            tls: None,
            sniffed: false,
            input: Vec::new(),
            ws: WsReader::default(),
            out: Queue::default(),
            up: None,
            closing: false,
            deadline: None,
        }
    }

    pub fn client(&self) -> Option<ClientId> {
        match self.phase {
            Phase::Turn(id) | Phase::WebSocket(id) => Some(id),
            _ => None,
        }
    }

    /// Queues one message for the client (a WebSocket frame or TURN stream bytes) and
    /// writes what the socket takes; false if the queue is full (the message is dropped).
    pub fn send(&mut self, m: Vec<u8>) -> Result<bool, Close> {
        if self.out.is_full() {
            return Ok(false);
        }
        self.out.messages.push_back(m);
        self.flush()?;
        Ok(true)
    }

    /// Writes what is queued until WouldBlock; true when everything went out.
    pub fn flush(&mut self) -> Result<bool, Close> {
        let Some(tls) = &mut self.tls else {
            return self.out.write_to(&mut self.tcp).map_err(|_| Close::Now);
        };
        loop {
            while tls.wants_write() {
                match tls.write_tls(&mut self.tcp) {
                    Ok(0) => return Err(Close::Now),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return Err(Close::Now),
                }
            }
            if self.out.messages.is_empty() {
                return Ok(true);
            }
            let mut fed = 0;
            while fed < TLS_FLIGHT {
                let Some(m) = self.out.messages.pop_front() else { break };
                fed += m.len();
                tls.writer().write_all(&m).map_err(|_| Close::Now)?;
            }
        }
    }

    /// Reads the socket (at most `budget` reads of `buf`) and runs the phases over what
    /// arrived; `Ok(true)` if the budget ran out before WouldBlock.
    pub fn read(
        &mut self,
        buf: &mut [u8],
        budget: usize,
        cx: &mut Context,
        inputs: &mut Vec<Input>,
    ) -> Result<bool, Close> {
        for _ in 0..budget {
            if self.closing {
                return Ok(false);
            }
            match self.tcp.read(buf) {
                Ok(0) => return Err(Close::Now),
                Ok(n) => {
                    self.ingest(&buf[..n])?;
                    self.advance(cx, inputs)?;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Close::Now),
            }
        }
        Ok(true)
    }

    /// Bytes from the socket: through TLS when it is on, into `input`.
    fn ingest(&mut self, raw: &[u8]) -> Result<(), Close> {
        let Some(tls) = &mut self.tls else {
            self.input.extend_from_slice(raw);
            return Ok(());
        };
        let mut rd = raw;
        while !rd.is_empty() {
            tls.read_tls(&mut rd).map_err(|_| Close::Now)?;
            // Each chunk is processed before the next goes in, so rustls' buffer of
            // undecoded records never overflows.
            let state = match tls.process_new_packets() {
                Ok(s) => s,
                Err(_) => {
                    // Send the alert rustls queued, then close.
                    let _ = tls.write_tls(&mut self.tcp);
                    return Err(Close::Now);
                }
            };
            let n = state.plaintext_bytes_to_read();
            let closed = state.peer_has_closed();
            if n > 0 {
                let start = self.input.len();
                self.input.resize(start + n, 0);
                tls.reader().read_exact(&mut self.input[start..]).map_err(|_| Close::Now)?;
            }
            if closed {
                return Err(Close::Now);
            }
        }
        // Handshake records to send.
        self.flush()?;
        Ok(())
    }

    /// Runs the phases over `input` as far as it goes.
    fn advance(&mut self, cx: &mut Context, inputs: &mut Vec<Input>) -> Result<(), Close> {
        loop {
            match self.phase {
                Phase::Sniff => {
                    if self.input.len() < 4 {
                        return Ok(());
                    }
                    if !self.sniffed {
                        self.sniffed = true;
                        // A TLS handshake record (type 22) when a certificate is configured;
                        // the same sniffing follows inside it.
                        if let (Some(config), Some(22)) = (cx.tls, self.input.first().copied()) {
                            let mut tls = ServerConnection::new(Arc::clone(config)).map_err(|_| Close::Now)?;
                            // The queue bounds what waits; rustls gets one flight at a time.
                            tls.set_buffer_limit(None);
                            self.tls = Some(Box::new(tls));
                            let raw = std::mem::take(&mut self.input);
                            self.ingest(&raw)?;
                            continue;
                        }
                    }
                    if self.input.starts_with(b"GET ") {
                        self.phase = Phase::Http;
                        continue;
                    }
                    let id = cx.next_client();
                    self.phase = Phase::Turn(id);
                    inputs.push(Input::Open(id, ClientKind::Tcp));
                }
                Phase::Http => {
                    let Some(end) = find(&self.input, b"\r\n\r\n") else {
                        return if self.input.len() > MAX_HTTP_REQUEST { Err(Close::Now) } else { Ok(()) };
                    };
                    let end = end + 4;
                    match upgrade_response(&self.input[..end]) {
                        Ok(resp) => self.out.messages.push_back(resp.into_bytes()),
                        Err(status) => {
                            let resp = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                            self.out.messages.push_back(resp.into_bytes());
                            return Err(Close::AfterFlush);
                        }
                    }
                    self.flush()?;
                    self.input.drain(..end);
                    if cx.upstream {
                        self.phase = Phase::Bridge;
                        inputs.push(Input::Bridge);
                        return Ok(());
                    }
                    let id = cx.next_client();
                    self.phase = Phase::WebSocket(id);
                    inputs.push(Input::Open(id, ClientKind::WebSocket));
                }
                Phase::Turn(id) => {
                    if !self.input.is_empty() {
                        inputs.push(Input::Data(id, std::mem::take(&mut self.input)));
                    }
                    return Ok(());
                }
                Phase::WebSocket(_) | Phase::Bridge => return self.websocket(cx, inputs),
            }
        }
    }

    /// Every complete WebSocket message in `input`: to the `Server`, or in upstream mode
    /// to the upstream (ChannelData padded to 4 bytes, RFC 8656 §12.5).
    fn websocket(&mut self, cx: &mut Context, inputs: &mut Vec<Input>) -> Result<(), Close> {
        if self.phase == Phase::Bridge && self.up.is_none() {
            // Not connecting yet: the messages wait in `input`.
            return if self.input.len() > MAX_WS_FRAME + 16 { Err(Close::Now) } else { Ok(()) };
        }
        loop {
            match self.ws.next(&mut self.input) {
                Err(()) | Ok(Some(WsFrame::Close)) => return Err(Close::Now),
                Ok(None) => break,
                Ok(Some(WsFrame::Ping(p))) => {
                    // A pong when there is room; a backed-up client misses it.
                    if !self.out.is_full() {
                        self.out.messages.push_back(ws_frame(0xA, &p));
                        self.flush()?;
                    }
                }
                Ok(Some(WsFrame::Message(mut m))) => {
                    if let Phase::WebSocket(id) = self.phase {
                        inputs.push(Input::Data(id, m));
                        continue;
                    }
                    let Some(up) = &mut self.up else { continue };
                    if m.first().is_some_and(|b| b & 0xC0 == 0x40) {
                        m.resize(m.len().div_ceil(4) * 4, 0);
                    }
                    if up.out.is_full() {
                        cx.dropped += 1;
                        continue;
                    }
                    up.out.messages.push_back(m);
                    if up.connected && up.out.write_to(&mut up.tcp).is_err() {
                        return Err(self.close_bridge(1011));
                    }
                }
            }
        }
        if self.input.len() > MAX_WS_FRAME + 16 {
            return Err(Close::Now);
        }
        Ok(())
    }

    /// Upstream mode: the upstream connection the loop opened (and registered).
    pub fn bridge(&mut self, tcp: mio::net::TcpStream, token: mio::Token, cx: &mut Context, inputs: &mut Vec<Input>) -> Result<(), Close> {
        self.up = Some(Upstream { tcp, token, connected: false, out: Queue::default(), stream: Vec::new() });
        // Messages that came with the upgrade request.
        self.websocket(cx, inputs)
    }

    /// The upstream is writable: the connect finished (or failed); write what is queued.
    pub fn upstream_writable(&mut self) -> Result<(), Close> {
        let Some(up) = &mut self.up else { return Ok(()) };
        if !up.connected {
            if up.tcp.take_error().ok().flatten().is_some() {
                return Err(self.close_bridge(1011));
            }
            match up.tcp.peer_addr() {
                Ok(_) => up.connected = true,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(()),
                Err(_) => return Err(self.close_bridge(1011)),
            }
        }
        if up.out.write_to(&mut up.tcp).is_err() {
            return Err(self.close_bridge(1011));
        }
        Ok(())
    }

    /// Reads the upstream (at most `budget` reads) and sends each TURN message to the
    /// client as one WebSocket message (dropped when the client's queue is full);
    /// `Ok(true)` if the budget ran out.
    pub fn upstream_read(&mut self, buf: &mut [u8], budget: usize, cx: &mut Context) -> Result<bool, Close> {
        for _ in 0..budget {
            let Some(up) = &mut self.up else { return Ok(false) };
            if !up.connected || self.closing {
                return Ok(false);
            }
            match up.tcp.read(buf) {
                // The upstream went away: end the WebSocket too (the client sees it close).
                Ok(0) => return Err(self.close_bridge(1000)),
                Ok(n) => up.stream.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(self.close_bridge(1000)),
            }
            let mut frames = Vec::new();
            while let Some(step) = next_stream_frame(&up.stream) {
                match step {
                    Ok((frame_len, consumed)) => {
                        frames.push(ws_frame(0x2, &up.stream[..frame_len]));
                        up.stream.drain(..consumed);
                    }
                    Err(()) => return Err(self.close_bridge(1000)),
                }
            }
            for f in frames {
                if !self.send(f)? {
                    cx.dropped += 1;
                }
            }
        }
        Ok(true)
    }

    /// Ends a bridge: a WebSocket close frame with `code` (RFC 6455 §7.4.1: 1000 normal,
    /// 1011 the server cannot serve) goes out if there is room, then the connection closes.
    pub fn close_bridge(&mut self, code: u16) -> Close {
        if let Some(up) = &self.up {
            let _ = up.tcp.shutdown(Shutdown::Both);
        }
        if !self.out.is_full() {
            self.out.messages.push_back(ws_frame(0x8, &code.to_be_bytes()));
        }
        Close::AfterFlush
    }
}

/// What a connection needs from the loop while it reads.
pub struct Context<'a> {
    pub tls: Option<&'a Arc<ServerConfig>>,
    /// Upstream mode: WebSocket clients are bridged.
    pub upstream: bool,
    pub next_client: &'a std::sync::atomic::AtomicU64,
    /// Messages dropped because a queue was full.
    pub dropped: u64,
}

impl Context<'_> {
    fn next_client(&self) -> ClientId {
        ClientId(self.next_client.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

enum WsFrame {
    /// A complete binary message (text messages are skipped).
    Message(Vec<u8>),
    Ping(Vec<u8>),
    Close,
}

/// Reassembles a client's WebSocket messages (RFC 6455 §5) from its byte stream.
#[derive(Default)]
struct WsReader {
    message: Vec<u8>,
    binary: bool,
}

impl WsReader {
    /// The next frame that matters, consumed from `buf`; `Ok(None)` if incomplete;
    /// `Err` if the client broke the protocol (unmasked, larger than [`MAX_WS_FRAME`]).
    fn next(&mut self, buf: &mut Vec<u8>) -> Result<Option<WsFrame>, ()> {
        loop {
            if buf.len() < 2 {
                return Ok(None);
            }
            let fin = buf[0] & 0x80 != 0;
            let opcode = buf[0] & 0x0f;
            let masked = buf[1] & 0x80 != 0;
            let mut len = (buf[1] & 0x7f) as usize;
            let mut off = 2;
            if len == 126 {
                if buf.len() < 4 {
                    return Ok(None);
                }
                len = u16::from_be_bytes([buf[2], buf[3]]) as usize;
                off = 4;
            } else if len == 127 {
                if buf.len() < 10 {
                    return Ok(None);
                }
                let l = u64::from_be_bytes(buf[2..10].try_into().unwrap_or([0xff; 8]));
                len = usize::try_from(l).unwrap_or(usize::MAX);
                off = 10;
            }
            if !masked || len > MAX_WS_FRAME {
                return Err(()); // RFC 6455 §5.1: client frames are masked; too big: close.
            }
            if buf.len() < off + 4 + len {
                return Ok(None);
            }
            let mask = [buf[off], buf[off + 1], buf[off + 2], buf[off + 3]];
            let mut payload: Vec<u8> = buf[off + 4..off + 4 + len].to_vec();
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= mask[i % 4];
            }
            buf.drain(..off + 4 + len);
            match opcode {
                0x0..=0x2 => {
                    if self.message.len() + payload.len() > MAX_WS_FRAME {
                        return Err(());
                    }
                    if opcode != 0 {
                        self.binary = opcode == 0x2;
                    }
                    self.message.extend_from_slice(&payload);
                    if fin {
                        let m = std::mem::take(&mut self.message);
                        if self.binary {
                            return Ok(Some(WsFrame::Message(m)));
                        }
                    }
                }
                0x8 => return Ok(Some(WsFrame::Close)),
                0x9 => return Ok(Some(WsFrame::Ping(payload))),
                _ => {}
            }
        }
    }
}

/// The next STUN message or ChannelData frame at the start of a TURN-over-TCP stream:
/// `Ok((frame length, bytes to consume incl. padding))`, `None` if incomplete, `Err` if the
/// stream is not TURN (or the frame is larger than a WebSocket message may be).
fn next_stream_frame(stream: &[u8]) -> Option<Result<(usize, usize), ()>> {
    if stream.len() < 4 {
        return None;
    }
    let len = u16::from_be_bytes([stream[2], stream[3]]) as usize;
    let (frame, consumed) = match stream[0] >> 6 {
        0 => (20 + len, 20 + len),
        1 => (4 + len, (4 + len).div_ceil(4) * 4),
        _ => return Some(Err(())),
    };
    if frame > MAX_WS_FRAME {
        return Some(Err(()));
    }
    (stream.len() >= consumed).then_some(Ok((frame, consumed)))
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// RFC 6455 §4.2: checks the upgrade request, returns the 101 response or an error status.
fn upgrade_response(req: &[u8]) -> Result<String, &'static str> {
    let text = std::str::from_utf8(req).map_err(|_| "400 Bad Request")?;
    let mut key = None;
    let mut upgrade = false;
    let mut protocols = Vec::new();
    for line in text.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "sec-websocket-key" => key = Some(value.to_string()),
            "upgrade" => upgrade = value.eq_ignore_ascii_case("websocket"),
            "sec-websocket-protocol" => protocols.extend(value.split(',').map(|p| p.trim().to_string())),
            _ => {}
        }
    }
    let key = key.ok_or("400 Bad Request")?;
    if !upgrade {
        return Err("400 Bad Request");
    }
    let mut proto = String::new();
    if !protocols.is_empty() {
        if !protocols.iter().any(|p| p == "turn") {
            return Err("400 Bad Request");
        }
        proto = "Sec-WebSocket-Protocol: turn\r\n".into();
    }
    let accept = base64(&polyrtc::crypto::sha1(format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes()));
    Ok(format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{proto}\r\n"
    ))
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An unmasked server frame (FIN set).
pub fn ws_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    let n = payload.len();
    if n < 126 {
        f.push(n as u8);
    } else if n <= 0xffff {
        f.push(126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        f.push(127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

