//! SCTP wire format (RFC 9260 §3, RFC 3758 §3.2, RFC 6525 §3-4): common header, chunks,
//! parameters. Codec only: no state. Decoders never panic and reject truncated input.

use super::crc32c::packet_checksum;
use super::error::WireError;

pub const CT_DATA: u8 = 0;
pub const CT_INIT: u8 = 1;
pub const CT_INIT_ACK: u8 = 2;
pub const CT_SACK: u8 = 3;
pub const CT_HEARTBEAT: u8 = 4;
pub const CT_HEARTBEAT_ACK: u8 = 5;
pub const CT_ABORT: u8 = 6;
pub const CT_SHUTDOWN: u8 = 7;
pub const CT_SHUTDOWN_ACK: u8 = 8;
pub const CT_ERROR: u8 = 9;
pub const CT_COOKIE_ECHO: u8 = 10;
pub const CT_COOKIE_ACK: u8 = 11;
pub const CT_SHUTDOWN_COMPLETE: u8 = 14;
pub const CT_RECONFIG: u8 = 130;
pub const CT_FORWARD_TSN: u8 = 192;

pub const PT_HEARTBEAT_INFO: u16 = 1;
pub const PT_STATE_COOKIE: u16 = 7;
pub const PT_UNRECOGNIZED: u16 = 8;
pub const PT_SUPPORTED_EXTENSIONS: u16 = 0x8008;
pub const PT_FORWARD_TSN_SUPPORTED: u16 = 0xC000;
pub const PT_OUTGOING_RESET: u16 = 13;
pub const PT_INCOMING_RESET: u16 = 14;
pub const PT_RECONFIG_RESPONSE: u16 = 16;

/// Error cause codes (RFC 9260 §3.3.10).
pub const CAUSE_UNRECOGNIZED_CHUNK: u16 = 6;
pub const CAUSE_PROTOCOL_VIOLATION: u16 = 13;
pub const CAUSE_USER_INITIATED_ABORT: u16 = 12;

/// RFC 6525 §4.4 result codes.
pub const RESULT_SUCCESS_NOP: u32 = 0;
pub const RESULT_SUCCESS_PERFORMED: u32 = 1;
pub const RESULT_DENIED: u32 = 2;
pub const RESULT_BAD_SEQUENCE: u32 = 5;
pub const RESULT_IN_PROGRESS: u32 = 6;

/// Size of the common header.
pub const COMMON_HEADER_LEN: usize = 12;
/// Size of a DATA chunk header (chunk header plus TSN, stream, SSN, PPID).
pub const DATA_HEADER_LEN: usize = 16;
/// Largest SCTP packet we decode (a DTLS record cannot carry more).
pub const MAX_PACKET_LEN: usize = 65_535;

/// Bounds-checked reader over a byte slice.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.buf.len() {
            return Err(WireError::Truncated);
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    pub fn u8(&mut self) -> Result<u8, WireError> {
        let b = self.take(1)?;
        b.first().copied().ok_or(WireError::Truncated)
    }
    pub fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        let a: [u8; 2] = b.try_into().map_err(|_| WireError::Truncated)?;
        Ok(u16::from_be_bytes(a))
    }
    pub fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        let a: [u8; 4] = b.try_into().map_err(|_| WireError::Truncated)?;
        Ok(u32::from_be_bytes(a))
    }
    pub fn rest(&mut self) -> &'a [u8] {
        let r = self.buf;
        self.buf = &[];
        r
    }
    /// Skip up to 3 padding bytes (the padding of the last item may be absent).
    fn skip_padding(&mut self, len: usize) {
        let pad = (4 - len % 4) % 4;
        let n = pad.min(self.buf.len());
        self.buf = self.buf.get(n..).unwrap_or(&[]);
    }
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}
fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Writes a TLV header with a placeholder length; returns its position for `finish_tlv`.
fn start_tlv(out: &mut Vec<u8>) -> usize {
    pad4(out);
    out.len()
}
/// Patches the 16-bit length at `start + 2` and pads to 4 bytes.
fn finish_tlv(out: &mut Vec<u8>, start: usize) {
    let len = u16::try_from(out.len() - start).unwrap_or(u16::MAX);
    if let Some(slot) = out.get_mut(start + 2..start + 4) {
        slot.copy_from_slice(&len.to_be_bytes());
    }
    pad4(out);
}

/// A parameter of INIT / INIT ACK (RFC 9260 §3.3.2.1, RFC 3758 §3.1, RFC 5061 §4.2.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    HeartbeatInfo(Vec<u8>),
    StateCookie(Vec<u8>),
    /// Holds the complete unrecognized parameter (type, length, value).
    UnrecognizedParameter(Vec<u8>),
    ForwardTsnSupported,
    /// List of chunk types the sender supports.
    SupportedExtensions(Vec<u8>),
    Unknown {
        typ: u16,
        value: Vec<u8>,
    },
}

impl Param {
    pub fn typ(&self) -> u16 {
        match self {
            Param::HeartbeatInfo(_) => PT_HEARTBEAT_INFO,
            Param::StateCookie(_) => PT_STATE_COOKIE,
            Param::UnrecognizedParameter(_) => PT_UNRECOGNIZED,
            Param::ForwardTsnSupported => PT_FORWARD_TSN_SUPPORTED,
            Param::SupportedExtensions(_) => PT_SUPPORTED_EXTENSIONS,
            Param::Unknown { typ, .. } => *typ,
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = start_tlv(out);
        put_u16(out, self.typ());
        put_u16(out, 0);
        match self {
            Param::HeartbeatInfo(v)
            | Param::StateCookie(v)
            | Param::UnrecognizedParameter(v)
            | Param::SupportedExtensions(v)
            | Param::Unknown { value: v, .. } => out.extend_from_slice(v),
            Param::ForwardTsnSupported => {}
        }
        finish_tlv(out, start);
    }

    /// Decodes one parameter, consuming its padding.
    pub fn decode(r: &mut Reader<'_>) -> Result<Param, WireError> {
        let typ = r.u16()?;
        let len = usize::from(r.u16()?);
        if len < 4 {
            return Err(WireError::BadLength);
        }
        let value = r.take(len - 4)?;
        r.skip_padding(len);
        Ok(match typ {
            PT_HEARTBEAT_INFO => Param::HeartbeatInfo(value.to_vec()),
            PT_STATE_COOKIE => Param::StateCookie(value.to_vec()),
            PT_UNRECOGNIZED => Param::UnrecognizedParameter(value.to_vec()),
            PT_FORWARD_TSN_SUPPORTED => {
                if !value.is_empty() {
                    return Err(WireError::BadLength);
                }
                Param::ForwardTsnSupported
            }
            PT_SUPPORTED_EXTENSIONS => Param::SupportedExtensions(value.to_vec()),
            _ => Param::Unknown {
                typ,
                value: value.to_vec(),
            },
        })
    }
}

fn decode_params(r: &mut Reader<'_>) -> Result<Vec<Param>, WireError> {
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(Param::decode(r)?);
    }
    Ok(v)
}

/// DATA chunk (RFC 9260 §3.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataChunk {
    pub immediate: bool,
    pub unordered: bool,
    pub beginning: bool,
    pub ending: bool,
    pub tsn: u32,
    pub stream: u16,
    pub ssn: u16,
    pub ppid: u32,
    pub payload: Vec<u8>,
}

impl DataChunk {
    pub fn flags(&self) -> u8 {
        (u8::from(self.immediate) << 3)
            | (u8::from(self.unordered) << 2)
            | (u8::from(self.beginning) << 1)
            | u8::from(self.ending)
    }
}

/// INIT and INIT ACK body (RFC 9260 §3.3.2, §3.3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitChunk {
    pub initiate_tag: u32,
    pub a_rwnd: u32,
    pub outbound_streams: u16,
    pub inbound_streams: u16,
    pub initial_tsn: u32,
    pub params: Vec<Param>,
}

/// One gap ack block, offsets relative to the cumulative TSN ack.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GapBlock {
    pub start: u16,
    pub end: u16,
}

/// SACK chunk (RFC 9260 §3.3.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SackChunk {
    pub cum_tsn_ack: u32,
    pub a_rwnd: u32,
    pub gaps: Vec<GapBlock>,
    pub dup_tsns: Vec<u32>,
}

/// An error cause (RFC 9260 §3.3.10), carried by ABORT and ERROR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorCause {
    pub code: u16,
    pub info: Vec<u8>,
}

fn encode_causes(causes: &[ErrorCause], out: &mut Vec<u8>) {
    for c in causes {
        let start = start_tlv(out);
        put_u16(out, c.code);
        put_u16(out, 0);
        out.extend_from_slice(&c.info);
        finish_tlv(out, start);
    }
}

fn decode_causes(r: &mut Reader<'_>) -> Result<Vec<ErrorCause>, WireError> {
    let mut v = Vec::new();
    while !r.is_empty() {
        let code = r.u16()?;
        let len = usize::from(r.u16()?);
        if len < 4 {
            return Err(WireError::BadLength);
        }
        let info = r.take(len - 4)?.to_vec();
        r.skip_padding(len);
        v.push(ErrorCause { code, info });
    }
    Ok(v)
}

/// FORWARD TSN chunk (RFC 3758 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardTsnChunk {
    pub new_cum_tsn: u32,
    /// (stream, stream sequence) pairs of skipped ordered messages.
    pub streams: Vec<(u16, u16)>,
}

/// A RE-CONFIG parameter (RFC 6525 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReconfigParam {
    OutgoingResetRequest {
        request_seq: u32,
        response_seq: u32,
        last_tsn: u32,
        streams: Vec<u16>,
    },
    IncomingResetRequest {
        request_seq: u32,
        streams: Vec<u16>,
    },
    Response {
        response_seq: u32,
        result: u32,
        next_tsns: Option<(u32, u32)>,
    },
    Unknown {
        typ: u16,
        value: Vec<u8>,
    },
}

impl ReconfigParam {
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = start_tlv(out);
        match self {
            ReconfigParam::OutgoingResetRequest {
                request_seq,
                response_seq,
                last_tsn,
                streams,
            } => {
                put_u16(out, PT_OUTGOING_RESET);
                put_u16(out, 0);
                put_u32(out, *request_seq);
                put_u32(out, *response_seq);
                put_u32(out, *last_tsn);
                for s in streams {
                    put_u16(out, *s);
                }
            }
            ReconfigParam::IncomingResetRequest {
                request_seq,
                streams,
            } => {
                put_u16(out, PT_INCOMING_RESET);
                put_u16(out, 0);
                put_u32(out, *request_seq);
                for s in streams {
                    put_u16(out, *s);
                }
            }
            ReconfigParam::Response {
                response_seq,
                result,
                next_tsns,
            } => {
                put_u16(out, PT_RECONFIG_RESPONSE);
                put_u16(out, 0);
                put_u32(out, *response_seq);
                put_u32(out, *result);
                if let Some((a, b)) = next_tsns {
                    put_u32(out, *a);
                    put_u32(out, *b);
                }
            }
            ReconfigParam::Unknown { typ, value } => {
                put_u16(out, *typ);
                put_u16(out, 0);
                out.extend_from_slice(value);
            }
        }
        finish_tlv(out, start);
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<ReconfigParam, WireError> {
        let typ = r.u16()?;
        let len = usize::from(r.u16()?);
        if len < 4 {
            return Err(WireError::BadLength);
        }
        let value = r.take(len - 4)?;
        r.skip_padding(len);
        let mut v = Reader::new(value);
        let streams = |v: &mut Reader<'_>| -> Result<Vec<u16>, WireError> {
            if !v.remaining().is_multiple_of(2) {
                return Err(WireError::BadLength);
            }
            let mut s = Vec::with_capacity(v.remaining() / 2);
            while !v.is_empty() {
                s.push(v.u16()?);
            }
            Ok(s)
        };
        Ok(match typ {
            PT_OUTGOING_RESET => {
                let request_seq = v.u32()?;
                let response_seq = v.u32()?;
                let last_tsn = v.u32()?;
                ReconfigParam::OutgoingResetRequest {
                    request_seq,
                    response_seq,
                    last_tsn,
                    streams: streams(&mut v)?,
                }
            }
            PT_INCOMING_RESET => {
                let request_seq = v.u32()?;
                ReconfigParam::IncomingResetRequest {
                    request_seq,
                    streams: streams(&mut v)?,
                }
            }
            PT_RECONFIG_RESPONSE => {
                let response_seq = v.u32()?;
                let result = v.u32()?;
                let next_tsns = match v.remaining() {
                    0 => None,
                    8 => Some((v.u32()?, v.u32()?)),
                    _ => return Err(WireError::BadLength),
                };
                ReconfigParam::Response {
                    response_seq,
                    result,
                    next_tsns,
                }
            }
            _ => ReconfigParam::Unknown {
                typ,
                value: value.to_vec(),
            },
        })
    }
}

/// Any chunk. Unknown chunk types keep their bytes so they can be reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chunk {
    Data(DataChunk),
    Init(InitChunk),
    InitAck(InitChunk),
    Sack(SackChunk),
    /// The Heartbeat Info value (opaque to the receiver).
    Heartbeat {
        info: Vec<u8>,
    },
    HeartbeatAck {
        info: Vec<u8>,
    },
    /// `reflected` is the T bit: the verification tag is the receiver's own.
    Abort {
        reflected: bool,
        causes: Vec<ErrorCause>,
    },
    Shutdown {
        cum_tsn_ack: u32,
    },
    ShutdownAck,
    Error {
        causes: Vec<ErrorCause>,
    },
    CookieEcho {
        cookie: Vec<u8>,
    },
    CookieAck,
    ShutdownComplete {
        reflected: bool,
    },
    ForwardTsn(ForwardTsnChunk),
    Reconfig(Vec<ReconfigParam>),
    Unknown {
        typ: u8,
        flags: u8,
        value: Vec<u8>,
    },
}

impl Chunk {
    pub fn typ(&self) -> u8 {
        match self {
            Chunk::Data(_) => CT_DATA,
            Chunk::Init(_) => CT_INIT,
            Chunk::InitAck(_) => CT_INIT_ACK,
            Chunk::Sack(_) => CT_SACK,
            Chunk::Heartbeat { .. } => CT_HEARTBEAT,
            Chunk::HeartbeatAck { .. } => CT_HEARTBEAT_ACK,
            Chunk::Abort { .. } => CT_ABORT,
            Chunk::Shutdown { .. } => CT_SHUTDOWN,
            Chunk::ShutdownAck => CT_SHUTDOWN_ACK,
            Chunk::Error { .. } => CT_ERROR,
            Chunk::CookieEcho { .. } => CT_COOKIE_ECHO,
            Chunk::CookieAck => CT_COOKIE_ACK,
            Chunk::ShutdownComplete { .. } => CT_SHUTDOWN_COMPLETE,
            Chunk::ForwardTsn(_) => CT_FORWARD_TSN,
            Chunk::Reconfig(_) => CT_RECONFIG,
            Chunk::Unknown { typ, .. } => *typ,
        }
    }

    fn flags(&self) -> u8 {
        match self {
            Chunk::Data(d) => d.flags(),
            Chunk::Abort { reflected, .. } | Chunk::ShutdownComplete { reflected } => {
                u8::from(*reflected)
            }
            Chunk::Unknown { flags, .. } => *flags,
            _ => 0,
        }
    }

    /// Appends the chunk, padded to a multiple of 4 bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = start_tlv(out);
        out.push(self.typ());
        out.push(self.flags());
        put_u16(out, 0);
        match self {
            Chunk::Data(d) => {
                put_u32(out, d.tsn);
                put_u16(out, d.stream);
                put_u16(out, d.ssn);
                put_u32(out, d.ppid);
                out.extend_from_slice(&d.payload);
            }
            Chunk::Init(i) | Chunk::InitAck(i) => {
                put_u32(out, i.initiate_tag);
                put_u32(out, i.a_rwnd);
                put_u16(out, i.outbound_streams);
                put_u16(out, i.inbound_streams);
                put_u32(out, i.initial_tsn);
                for p in &i.params {
                    p.encode(out);
                }
            }
            Chunk::Sack(s) => {
                put_u32(out, s.cum_tsn_ack);
                put_u32(out, s.a_rwnd);
                put_u16(out, u16::try_from(s.gaps.len()).unwrap_or(u16::MAX));
                put_u16(out, u16::try_from(s.dup_tsns.len()).unwrap_or(u16::MAX));
                for g in s.gaps.iter().take(usize::from(u16::MAX)) {
                    put_u16(out, g.start);
                    put_u16(out, g.end);
                }
                for d in s.dup_tsns.iter().take(usize::from(u16::MAX)) {
                    put_u32(out, *d);
                }
            }
            Chunk::Heartbeat { info } | Chunk::HeartbeatAck { info } => {
                Param::HeartbeatInfo(info.clone()).encode(out);
            }
            Chunk::Abort { causes, .. } | Chunk::Error { causes } => encode_causes(causes, out),
            Chunk::Shutdown { cum_tsn_ack } => put_u32(out, *cum_tsn_ack),
            Chunk::ShutdownAck | Chunk::CookieAck | Chunk::ShutdownComplete { .. } => {}
            Chunk::CookieEcho { cookie } => out.extend_from_slice(cookie),
            Chunk::ForwardTsn(f) => {
                put_u32(out, f.new_cum_tsn);
                for (s, q) in &f.streams {
                    put_u16(out, *s);
                    put_u16(out, *q);
                }
            }
            Chunk::Reconfig(params) => {
                for p in params {
                    p.encode(out);
                }
            }
            Chunk::Unknown { value, .. } => out.extend_from_slice(value),
        }
        finish_tlv(out, start);
    }

    /// Decodes one chunk (and its padding) from `r`.
    pub fn decode(r: &mut Reader<'_>) -> Result<Chunk, WireError> {
        let typ = r.u8()?;
        let flags = r.u8()?;
        let len = usize::from(r.u16()?);
        if len < 4 {
            return Err(WireError::BadLength);
        }
        let value = r.take(len - 4)?;
        r.skip_padding(len);
        let mut v = Reader::new(value);
        let chunk = match typ {
            CT_DATA => {
                let tsn = v.u32()?;
                let stream = v.u16()?;
                let ssn = v.u16()?;
                let ppid = v.u32()?;
                Chunk::Data(DataChunk {
                    immediate: flags & 8 != 0,
                    unordered: flags & 4 != 0,
                    beginning: flags & 2 != 0,
                    ending: flags & 1 != 0,
                    tsn,
                    stream,
                    ssn,
                    ppid,
                    payload: v.rest().to_vec(),
                })
            }
            CT_INIT | CT_INIT_ACK => {
                let i = InitChunk {
                    initiate_tag: v.u32()?,
                    a_rwnd: v.u32()?,
                    outbound_streams: v.u16()?,
                    inbound_streams: v.u16()?,
                    initial_tsn: v.u32()?,
                    params: decode_params(&mut v)?,
                };
                if typ == CT_INIT {
                    Chunk::Init(i)
                } else {
                    Chunk::InitAck(i)
                }
            }
            CT_SACK => {
                let cum_tsn_ack = v.u32()?;
                let a_rwnd = v.u32()?;
                let ngaps = usize::from(v.u16()?);
                let ndups = usize::from(v.u16()?);
                if v.remaining() != ngaps * 4 + ndups * 4 {
                    return Err(WireError::BadLength);
                }
                let mut gaps = Vec::with_capacity(ngaps);
                for _ in 0..ngaps {
                    gaps.push(GapBlock {
                        start: v.u16()?,
                        end: v.u16()?,
                    });
                }
                let mut dup_tsns = Vec::with_capacity(ndups);
                for _ in 0..ndups {
                    dup_tsns.push(v.u32()?);
                }
                Chunk::Sack(SackChunk {
                    cum_tsn_ack,
                    a_rwnd,
                    gaps,
                    dup_tsns,
                })
            }
            CT_HEARTBEAT | CT_HEARTBEAT_ACK => {
                let info = match Param::decode(&mut v)? {
                    Param::HeartbeatInfo(i) => i,
                    _ => return Err(WireError::InvalidValue),
                };
                if typ == CT_HEARTBEAT {
                    Chunk::Heartbeat { info }
                } else {
                    Chunk::HeartbeatAck { info }
                }
            }
            CT_ABORT => Chunk::Abort {
                reflected: flags & 1 != 0,
                causes: decode_causes(&mut v)?,
            },
            CT_ERROR => Chunk::Error {
                causes: decode_causes(&mut v)?,
            },
            CT_SHUTDOWN => Chunk::Shutdown {
                cum_tsn_ack: v.u32()?,
            },
            CT_SHUTDOWN_ACK => Chunk::ShutdownAck,
            CT_COOKIE_ECHO => Chunk::CookieEcho {
                cookie: v.rest().to_vec(),
            },
            CT_COOKIE_ACK => Chunk::CookieAck,
            CT_SHUTDOWN_COMPLETE => Chunk::ShutdownComplete {
                reflected: flags & 1 != 0,
            },
            CT_FORWARD_TSN => {
                let new_cum_tsn = v.u32()?;
                if !v.remaining().is_multiple_of(4) {
                    return Err(WireError::BadLength);
                }
                let mut streams = Vec::with_capacity(v.remaining() / 4);
                while !v.is_empty() {
                    streams.push((v.u16()?, v.u16()?));
                }
                Chunk::ForwardTsn(ForwardTsnChunk {
                    new_cum_tsn,
                    streams,
                })
            }
            CT_RECONFIG => {
                let mut params = Vec::new();
                while !v.is_empty() {
                    params.push(ReconfigParam::decode(&mut v)?);
                }
                Chunk::Reconfig(params)
            }
            _ => Chunk::Unknown {
                typ,
                flags,
                value: v.rest().to_vec(),
            },
        };
        if !v.is_empty() {
            return Err(WireError::TrailingBytes);
        }
        Ok(chunk)
    }
}

/// The SCTP common header (RFC 9260 §3.1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CommonHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub verification_tag: u32,
}

impl CommonHeader {
    /// Starts a packet: writes the header with a zero checksum.
    pub fn start(&self, out: &mut Vec<u8>) {
        out.clear();
        put_u16(out, self.src_port);
        put_u16(out, self.dst_port);
        put_u32(out, self.verification_tag);
        put_u32(out, 0);
    }
}

/// Computes and writes the CRC-32C of a complete packet (stored little-endian, as the
/// reflected CRC is transmitted least significant byte first).
pub fn finish_packet(out: &mut [u8]) {
    let crc = packet_checksum(out);
    if let Some(slot) = out.get_mut(8..12) {
        slot.copy_from_slice(&crc.to_le_bytes());
    }
}

/// A decoded packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub header: CommonHeader,
    pub chunks: Vec<Chunk>,
}

impl Packet {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.header.start(&mut out);
        for c in &self.chunks {
            c.encode(&mut out);
        }
        finish_packet(&mut out);
        out
    }

    /// Verifies the checksum and decodes every chunk.
    pub fn decode(data: &[u8]) -> Result<Packet, WireError> {
        if data.len() > MAX_PACKET_LEN {
            return Err(WireError::BadLength);
        }
        let mut r = Reader::new(data);
        let src_port = r.u16()?;
        let dst_port = r.u16()?;
        let verification_tag = r.u32()?;
        let crc = r.take(4)?;
        let expected = packet_checksum(data).to_le_bytes();
        if crc != expected {
            return Err(WireError::BadChecksum);
        }
        let mut chunks = Vec::new();
        while !r.is_empty() {
            if r.remaining() < 4 {
                return Err(WireError::TrailingBytes);
            }
            chunks.push(Chunk::decode(&mut r)?);
        }
        Ok(Packet {
            header: CommonHeader {
                src_port,
                dst_port,
                verification_tag,
            },
            chunks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Rng;

    fn samples() -> Vec<Chunk> {
        vec![
            Chunk::Data(DataChunk {
                immediate: false,
                unordered: true,
                beginning: true,
                ending: false,
                tsn: 0xfffffffe,
                stream: 7,
                ssn: 9,
                ppid: 51,
                payload: b"hello".to_vec(),
            }),
            Chunk::Init(InitChunk {
                initiate_tag: 0x1234,
                a_rwnd: 1 << 20,
                outbound_streams: 65535,
                inbound_streams: 65535,
                initial_tsn: 42,
                params: vec![
                    Param::ForwardTsnSupported,
                    Param::SupportedExtensions(vec![CT_FORWARD_TSN, CT_RECONFIG]),
                    Param::Unknown {
                        typ: 0x8002,
                        value: vec![1, 2, 3],
                    },
                ],
            }),
            Chunk::InitAck(InitChunk {
                initiate_tag: 0x99,
                a_rwnd: 5000,
                outbound_streams: 10,
                inbound_streams: 20,
                initial_tsn: 0,
                params: vec![
                    Param::StateCookie(vec![9; 37]),
                    Param::UnrecognizedParameter(vec![0x80, 1, 0, 4]),
                ],
            }),
            Chunk::Sack(SackChunk {
                cum_tsn_ack: 100,
                a_rwnd: 777,
                gaps: vec![GapBlock { start: 2, end: 3 }, GapBlock { start: 5, end: 9 }],
                dup_tsns: vec![99, 98],
            }),
            Chunk::Heartbeat {
                info: vec![1, 2, 3, 4, 5],
            },
            Chunk::HeartbeatAck { info: vec![7; 12] },
            Chunk::Abort {
                reflected: true,
                causes: vec![ErrorCause {
                    code: 12,
                    info: b"bye".to_vec(),
                }],
            },
            Chunk::Shutdown { cum_tsn_ack: 5 },
            Chunk::ShutdownAck,
            Chunk::Error {
                causes: vec![ErrorCause {
                    code: 6,
                    info: vec![0x7f, 0, 0, 4],
                }],
            },
            Chunk::CookieEcho {
                cookie: vec![3; 33],
            },
            Chunk::CookieAck,
            Chunk::ShutdownComplete { reflected: false },
            Chunk::ForwardTsn(ForwardTsnChunk {
                new_cum_tsn: 77,
                streams: vec![(1, 2), (3, 4)],
            }),
            Chunk::Reconfig(vec![
                ReconfigParam::OutgoingResetRequest {
                    request_seq: 1,
                    response_seq: 2,
                    last_tsn: 3,
                    streams: vec![4, 5, 6],
                },
                ReconfigParam::IncomingResetRequest {
                    request_seq: 9,
                    streams: vec![],
                },
                ReconfigParam::Response {
                    response_seq: 1,
                    result: 1,
                    next_tsns: None,
                },
                ReconfigParam::Response {
                    response_seq: 1,
                    result: 6,
                    next_tsns: Some((10, 20)),
                },
            ]),
            Chunk::Unknown {
                typ: 0xC1,
                flags: 3,
                value: vec![1, 2, 3],
            },
        ]
    }

    #[test]
    fn every_chunk_round_trips() {
        for c in samples() {
            let mut out = Vec::new();
            c.encode(&mut out);
            assert_eq!(out.len() % 4, 0);
            let mut r = Reader::new(&out);
            assert_eq!(Chunk::decode(&mut r).unwrap(), c, "{c:?}");
            assert!(r.is_empty());
        }
    }

    #[test]
    fn packet_round_trips_with_checksum() {
        let p = Packet {
            header: CommonHeader {
                src_port: 5000,
                dst_port: 5000,
                verification_tag: 0xdeadbeef,
            },
            chunks: samples(),
        };
        let bytes = p.encode();
        assert_eq!(Packet::decode(&bytes).unwrap(), p);
        let mut bad = bytes.clone();
        if let Some(b) = bad.last_mut() {
            *b ^= 1;
        }
        assert_eq!(Packet::decode(&bad), Err(WireError::BadChecksum));
    }

    #[test]
    fn known_packet_checksum() {
        // A COOKIE ACK packet; checksum verified independently: CRC-32C over the header
        // with zero checksum and the chunk, stored least significant byte first.
        let p = Packet {
            header: CommonHeader {
                src_port: 5000,
                dst_port: 5000,
                verification_tag: 1,
            },
            chunks: vec![Chunk::CookieAck],
        };
        let bytes = p.encode();
        let mut zeroed = bytes.clone();
        zeroed[8..12].copy_from_slice(&[0; 4]);
        let crc = super::super::crc32c::crc32c(&zeroed);
        assert_eq!(&bytes[8..12], &crc.to_le_bytes());
    }

    #[test]
    fn truncations_never_panic_and_fail() {
        for c in samples() {
            let mut out = Vec::new();
            c.encode(&mut out);
            // Every strict prefix shorter than the declared length must fail.
            let declared = usize::from(u16::from_be_bytes([out[2], out[3]]));
            for n in 0..declared {
                let mut r = Reader::new(&out[..n]);
                assert!(Chunk::decode(&mut r).is_err(), "{c:?} prefix {n}");
            }
        }
        let p = Packet {
            header: CommonHeader {
                src_port: 1,
                dst_port: 2,
                verification_tag: 3,
            },
            chunks: samples(),
        };
        let bytes = p.encode();
        for n in 0..bytes.len() {
            let _ = Packet::decode(&bytes[..n]);
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng::seeded(7);
        for i in 0..20000 {
            let len = rng.below(300) as usize;
            let mut buf = vec![0u8; len];
            rng.fill(&mut buf);
            // Half of the inputs get a valid checksum so the chunk parsers are exercised.
            if i % 2 == 0 && buf.len() >= 12 {
                finish_packet(&mut buf);
            }
            let _ = Packet::decode(&buf);
            let mut r = Reader::new(&buf);
            while !r.is_empty() {
                if Chunk::decode(&mut r).is_err() {
                    break;
                }
            }
        }
    }

    #[test]
    fn malformed_rows() {
        let rows: &[(&str, &[u8], WireError)] = &[
            ("chunk length below 4", &[0, 0, 0, 3], WireError::BadLength),
            (
                "data without header",
                &[0, 3, 0, 8, 0, 0, 0, 1],
                WireError::Truncated,
            ),
            (
                "sack counts mismatch",
                &[3, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0],
                WireError::BadLength,
            ),
            (
                "forward tsn odd streams",
                &[192, 0, 0, 10, 0, 0, 0, 1, 0, 1],
                WireError::BadLength,
            ),
            (
                "shutdown trailing",
                &[7, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0],
                WireError::TrailingBytes,
            ),
            (
                "heartbeat without info",
                &[4, 0, 0, 8, 0, 2, 0, 4],
                WireError::InvalidValue,
            ),
        ];
        for (name, bytes, err) in rows {
            let mut r = Reader::new(bytes);
            assert_eq!(Chunk::decode(&mut r), Err(*err), "{name}");
        }
    }
}
