//! DCEP codec (RFC 8832 §5).
//!
//! ```text
//! DATA_CHANNEL_OPEN (RFC 8832 §5.1)
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Message Type |  Channel Type |            Priority           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Reliability Parameter                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Label Length          |       Protocol Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                             Label                             |
//! |                            Protocol                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! DATA_CHANNEL_ACK (RFC 8832 §5.2): a single Message Type byte.
//! ```

use super::DcepError;

/// RFC 8832 §8.2.1: `DATA_CHANNEL_OPEN`.
pub const MESSAGE_TYPE_OPEN: u8 = 0x03;
/// RFC 8832 §8.2.1: `DATA_CHANNEL_ACK`.
pub const MESSAGE_TYPE_ACK: u8 = 0x02;
/// Fixed part of a `DATA_CHANNEL_OPEN`, before label and protocol.
pub const OPEN_HEADER_LEN: usize = 12;
/// The label length is a 16-bit field (W3C: label at most 65535 bytes).
pub const MAX_LABEL_LEN: usize = u16::MAX as usize;
/// The protocol length is a 16-bit field (W3C: protocol at most 65535 bytes).
pub const MAX_PROTOCOL_LEN: usize = u16::MAX as usize;

/// RFC 8832 §5.1 priority values (RFC 8835 §4.1 levels).
pub const PRIORITY_BELOW_NORMAL: u16 = 128;
pub const PRIORITY_NORMAL: u16 = 256;
pub const PRIORITY_HIGH: u16 = 512;
pub const PRIORITY_EXTRA_HIGH: u16 = 1024;

/// RFC 8832 §5.1 channel types. The high bit (0x80) means unordered.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChannelType {
    /// 0x00 `DATA_CHANNEL_RELIABLE`.
    Reliable,
    /// 0x80 `DATA_CHANNEL_RELIABLE_UNORDERED`.
    ReliableUnordered,
    /// 0x01 `DATA_CHANNEL_PARTIAL_RELIABLE_REXMIT`.
    PartialReliableRexmit,
    /// 0x81 `DATA_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED`.
    PartialReliableRexmitUnordered,
    /// 0x02 `DATA_CHANNEL_PARTIAL_RELIABLE_TIMED`.
    PartialReliableTimed,
    /// 0x82 `DATA_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED`.
    PartialReliableTimedUnordered,
}

impl ChannelType {
    pub const ALL: [ChannelType; 6] = [
        ChannelType::Reliable,
        ChannelType::ReliableUnordered,
        ChannelType::PartialReliableRexmit,
        ChannelType::PartialReliableRexmitUnordered,
        ChannelType::PartialReliableTimed,
        ChannelType::PartialReliableTimedUnordered,
    ];

    pub fn to_u8(self) -> u8 {
        match self {
            ChannelType::Reliable => 0x00,
            ChannelType::ReliableUnordered => 0x80,
            ChannelType::PartialReliableRexmit => 0x01,
            ChannelType::PartialReliableRexmitUnordered => 0x81,
            ChannelType::PartialReliableTimed => 0x02,
            ChannelType::PartialReliableTimedUnordered => 0x82,
        }
    }

    pub fn from_u8(b: u8) -> Result<ChannelType, DcepError> {
        Ok(match b {
            0x00 => ChannelType::Reliable,
            0x80 => ChannelType::ReliableUnordered,
            0x01 => ChannelType::PartialReliableRexmit,
            0x81 => ChannelType::PartialReliableRexmitUnordered,
            0x02 => ChannelType::PartialReliableTimed,
            0x82 => ChannelType::PartialReliableTimedUnordered,
            other => return Err(DcepError::UnknownChannelType(other)),
        })
    }

    /// RFC 8832 §5.1: the 0x80 bit selects unordered delivery.
    pub fn ordered(self) -> bool {
        self.to_u8() & 0x80 == 0
    }
}

/// How much SCTP retries a message (RFC 8831 §6.1, RFC 3758 partial reliability).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reliability {
    /// Retransmit until delivered.
    Reliable,
    /// At most this many retransmissions (`maxRetransmits`).
    MaxRetransmits(u32),
    /// Retransmit for at most this many milliseconds (`maxPacketLifeTime`).
    MaxPacketLifeTime(u32),
}

impl Reliability {
    /// From W3C `RTCDataChannelInit` values. Both given is an API misuse (W3C: TypeError).
    pub fn from_init(
        max_retransmits: Option<u16>,
        max_packet_life_time: Option<u16>,
    ) -> Result<Reliability, DcepError> {
        match (max_retransmits, max_packet_life_time) {
            (None, None) => Ok(Reliability::Reliable),
            (Some(n), None) => Ok(Reliability::MaxRetransmits(u32::from(n))),
            (None, Some(ms)) => Ok(Reliability::MaxPacketLifeTime(u32::from(ms))),
            (Some(_), Some(_)) => Err(DcepError::ConflictingReliability),
        }
    }

    /// W3C `maxRetransmits`; the 32-bit wire value saturates at `u16::MAX` (the W3C
    /// attribute is an `unsigned short`).
    pub fn max_retransmits(self) -> Option<u16> {
        match self {
            Reliability::MaxRetransmits(n) => Some(u16::try_from(n).unwrap_or(u16::MAX)),
            _ => None,
        }
    }

    /// W3C `maxPacketLifeTime` in milliseconds, saturating at `u16::MAX` like
    /// [`Reliability::max_retransmits`].
    pub fn max_packet_life_time(self) -> Option<u16> {
        match self {
            Reliability::MaxPacketLifeTime(ms) => Some(u16::try_from(ms).unwrap_or(u16::MAX)),
            _ => None,
        }
    }

    /// The DCEP channel type and reliability parameter for this setting.
    /// RFC 8832 §5.1: the parameter is ignored for reliable channels; we send 0.
    pub fn to_wire(self, ordered: bool) -> (ChannelType, u32) {
        match (self, ordered) {
            (Reliability::Reliable, true) => (ChannelType::Reliable, 0),
            (Reliability::Reliable, false) => (ChannelType::ReliableUnordered, 0),
            (Reliability::MaxRetransmits(n), true) => (ChannelType::PartialReliableRexmit, n),
            (Reliability::MaxRetransmits(n), false) => (ChannelType::PartialReliableRexmitUnordered, n),
            (Reliability::MaxPacketLifeTime(ms), true) => (ChannelType::PartialReliableTimed, ms),
            (Reliability::MaxPacketLifeTime(ms), false) => (ChannelType::PartialReliableTimedUnordered, ms),
        }
    }

    /// The reverse of [`Reliability::to_wire`]: `(ordered, reliability)`.
    pub fn from_wire(channel_type: ChannelType, parameter: u32) -> (bool, Reliability) {
        let rel = match channel_type {
            ChannelType::Reliable | ChannelType::ReliableUnordered => Reliability::Reliable,
            ChannelType::PartialReliableRexmit | ChannelType::PartialReliableRexmitUnordered => {
                Reliability::MaxRetransmits(parameter)
            }
            ChannelType::PartialReliableTimed | ChannelType::PartialReliableTimedUnordered => {
                Reliability::MaxPacketLifeTime(parameter)
            }
        };
        (channel_type.ordered(), rel)
    }
}

/// RFC 8832 §5.1 `DATA_CHANNEL_OPEN`. Built through [`DataChannelOpen::new`], which checks the
/// label and protocol lengths, so [`DcepMessage::encode`] cannot fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataChannelOpen {
    channel_type: ChannelType,
    priority: u16,
    reliability_parameter: u32,
    label: String,
    protocol: String,
}

impl DataChannelOpen {
    pub fn new(
        ordered: bool,
        reliability: Reliability,
        priority: u16,
        label: String,
        protocol: String,
    ) -> Result<DataChannelOpen, DcepError> {
        if label.len() > MAX_LABEL_LEN {
            return Err(DcepError::LabelTooLong);
        }
        if protocol.len() > MAX_PROTOCOL_LEN {
            return Err(DcepError::ProtocolTooLong);
        }
        let (channel_type, reliability_parameter) = reliability.to_wire(ordered);
        Ok(DataChannelOpen { channel_type, priority, reliability_parameter, label, protocol })
    }

    pub fn channel_type(&self) -> ChannelType {
        self.channel_type
    }
    pub fn priority(&self) -> u16 {
        self.priority
    }
    /// The raw 32-bit reliability parameter as carried on the wire.
    pub fn reliability_parameter(&self) -> u32 {
        self.reliability_parameter
    }
    pub fn ordered(&self) -> bool {
        self.channel_type.ordered()
    }
    pub fn reliability(&self) -> Reliability {
        Reliability::from_wire(self.channel_type, self.reliability_parameter).1
    }
    pub fn label(&self) -> &str {
        &self.label
    }
    pub fn protocol(&self) -> &str {
        &self.protocol
    }
    /// `(label, protocol)`, consuming the message.
    pub fn into_strings(self) -> (String, String) {
        (self.label, self.protocol)
    }
}

/// A DCEP message (SCTP PPID 50).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DcepMessage {
    Open(DataChannelOpen),
    Ack,
}

impl DcepMessage {
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            DcepMessage::Ack => out.push(MESSAGE_TYPE_ACK),
            DcepMessage::Open(open) => {
                // Lengths were checked in `DataChannelOpen::new`; saturating keeps this total.
                let label_len = u16::try_from(open.label.len()).unwrap_or(u16::MAX);
                let protocol_len = u16::try_from(open.protocol.len()).unwrap_or(u16::MAX);
                out.reserve(OPEN_HEADER_LEN + open.label.len() + open.protocol.len());
                out.push(MESSAGE_TYPE_OPEN);
                out.push(open.channel_type.to_u8());
                out.extend_from_slice(&open.priority.to_be_bytes());
                out.extend_from_slice(&open.reliability_parameter.to_be_bytes());
                out.extend_from_slice(&label_len.to_be_bytes());
                out.extend_from_slice(&protocol_len.to_be_bytes());
                out.extend_from_slice(open.label.as_bytes());
                out.extend_from_slice(open.protocol.as_bytes());
            }
        }
    }

    /// Decodes one whole DCEP message. Rejects truncation, trailing bytes, unknown message
    /// and channel types, and a label or protocol that is not UTF-8.
    pub fn decode(data: &[u8]) -> Result<DcepMessage, DcepError> {
        let mut r = Reader(data);
        let msg = match r.u8()? {
            MESSAGE_TYPE_ACK => DcepMessage::Ack,
            MESSAGE_TYPE_OPEN => {
                let channel_type = ChannelType::from_u8(r.u8()?)?;
                let priority = r.u16()?;
                let reliability_parameter = r.u32()?;
                let label_len = usize::from(r.u16()?);
                let protocol_len = usize::from(r.u16()?);
                let label = r.take(label_len)?;
                let protocol = r.take(protocol_len)?;
                let label = String::from_utf8(label.to_vec()).map_err(|_| DcepError::InvalidUtf8)?;
                let protocol =
                    String::from_utf8(protocol.to_vec()).map_err(|_| DcepError::InvalidUtf8)?;
                DcepMessage::Open(DataChannelOpen {
                    channel_type,
                    priority,
                    reliability_parameter,
                    label,
                    protocol,
                })
            }
            other => return Err(DcepError::UnknownMessageType(other)),
        };
        if !r.0.is_empty() {
            return Err(DcepError::TrailingBytes);
        }
        Ok(msg)
    }
}

/// A cursor that only hands out length-checked pieces.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DcepError> {
        if n > self.0.len() {
            return Err(DcepError::Truncated);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DcepError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, DcepError> {
        Ok(u8::from_be_bytes(self.array()?))
    }
    fn u16(&mut self) -> Result<u16, DcepError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, DcepError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
}
