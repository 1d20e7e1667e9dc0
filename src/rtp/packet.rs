//! The RTP packet (RFC 3550 §5.1): fixed header, CSRC list, header extension (RFC 8285,
//! see [`HeaderExtensions`]), payload and padding. Parsing borrows from the datagram;
//! serializing appends to the caller's buffer.

use super::extension::HeaderExtensions;
use super::reader::{put_u16, put_u32, Reader};
use super::RtpError;

/// The only RTP version (RFC 3550 §5.1).
pub const RTP_VERSION: u8 = 2;
/// Size of the fixed header (without CSRCs and extension).
pub const RTP_HEADER_LEN: usize = 12;
/// Most CSRCs a packet can list (the CC field has 4 bits).
pub const MAX_CSRCS: usize = 15;
/// Highest payload type (7 bits).
pub const MAX_PAYLOAD_TYPE: u8 = 127;

/// The contributing sources of a packet: at most [`MAX_CSRCS`], kept inline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Csrcs {
    list: [u32; MAX_CSRCS],
    len: u8,
}

impl Csrcs {
    pub const fn new() -> Self {
        Csrcs {
            list: [0; MAX_CSRCS],
            len: 0,
        }
    }
    /// [`RtpError::TooMany`] beyond [`MAX_CSRCS`].
    pub fn from_slice(csrcs: &[u32]) -> Result<Self, RtpError> {
        let mut c = Self::new();
        for &s in csrcs {
            c.push(s)?;
        }
        Ok(c)
    }
    pub fn push(&mut self, csrc: u32) -> Result<(), RtpError> {
        let slot = self
            .list
            .get_mut(usize::from(self.len))
            .ok_or(RtpError::TooMany)?;
        *slot = csrc;
        self.len += 1;
        Ok(())
    }
    pub fn as_slice(&self) -> &[u32] {
        self.list.get(..usize::from(self.len)).unwrap_or(&[])
    }
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The RTP header (RFC 3550 §5.1): everything before the payload but the version (always
/// 2) and the P, X and CC bits, which follow from the other fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpHeader<'a> {
    pub marker: bool,
    /// 0-127.
    pub payload_type: u8,
    pub sequence_number: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub csrcs: Csrcs,
    pub extensions: HeaderExtensions<'a>,
}

impl<'a> RtpHeader<'a> {
    /// A header with no CSRC and no extension.
    pub const fn new(payload_type: u8, sequence_number: u16, timestamp: u32, ssrc: u32) -> Self {
        RtpHeader {
            marker: false,
            payload_type,
            sequence_number,
            timestamp,
            ssrc,
            csrcs: Csrcs::new(),
            extensions: HeaderExtensions::new(),
        }
    }

    /// Bytes of the header on the wire: where the payload starts.
    pub fn encoded_len(&self) -> usize {
        RTP_HEADER_LEN + 4 * self.csrcs.len() + self.extensions.encoded_len()
    }

    /// Appends the header; `padding` sets the P bit (the caller appends the padding).
    /// Appends nothing on error.
    pub fn encode(&self, padding: bool, out: &mut Vec<u8>) -> Result<(), RtpError> {
        let start = out.len();
        let r = self.encode_inner(padding, out);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    fn encode_inner(&self, padding: bool, out: &mut Vec<u8>) -> Result<(), RtpError> {
        if self.payload_type > MAX_PAYLOAD_TYPE {
            return Err(RtpError::InvalidValue);
        }
        let cc = u8::try_from(self.csrcs.len()).map_err(|_| RtpError::TooMany)?;
        let x = !self.extensions.is_empty();
        out.push((RTP_VERSION << 6) | (u8::from(padding) << 5) | (u8::from(x) << 4) | cc);
        out.push((u8::from(self.marker) << 7) | self.payload_type);
        put_u16(out, self.sequence_number);
        put_u32(out, self.timestamp);
        put_u32(out, self.ssrc);
        for &c in self.csrcs.as_slice() {
            put_u32(out, c);
        }
        self.extensions.encode(out)
    }

    /// Parses the header, returning it and the bytes after it (payload and padding) and
    /// whether the P bit is set. Padding is not looked at: under SRTP it is encrypted with
    /// the payload (RFC 3711 §3.1), so this is what to call on a protected packet.
    pub fn parse(buf: &'a [u8]) -> Result<(RtpHeader<'a>, &'a [u8], bool), RtpError> {
        let mut r = Reader::new(buf);
        let b0 = r.u8()?;
        let b1 = r.u8()?;
        if b0 >> 6 != RTP_VERSION {
            return Err(RtpError::BadVersion);
        }
        let padding = b0 & 0x20 != 0;
        let has_ext = b0 & 0x10 != 0;
        let mut h = RtpHeader::new(b1 & 0x7f, r.u16()?, r.u32()?, r.u32()?);
        h.marker = b1 & 0x80 != 0;
        for _ in 0..(b0 & 0x0f) {
            h.csrcs.push(r.u32()?)?;
        }
        if has_ext {
            let profile = r.u16()?;
            let words = usize::from(r.u16()?);
            let data = r.take(words * 4)?;
            h.extensions = HeaderExtensions::parse(profile, data)?;
        }
        Ok((h, r.rest(), padding))
    }
}

/// A parsed RTP packet borrowing from its datagram, or one to serialize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub header: RtpHeader<'a>,
    pub payload: &'a [u8],
    /// Padding octets after the payload, the final count octet included (RFC 3550 §5.1);
    /// 0 is no padding (P bit clear). Their content is not kept: we write zeros.
    pub padding: u8,
}

impl<'a> RtpPacket<'a> {
    pub const fn new(header: RtpHeader<'a>, payload: &'a [u8]) -> Self {
        RtpPacket {
            header,
            payload,
            padding: 0,
        }
    }

    /// Parses one RTP packet (the whole datagram after SRTP unprotection). The padding is
    /// removed from the payload.
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        let (header, rest, padded) = RtpHeader::parse(buf)?;
        let (payload, padding) = if padded {
            let (&count, _) = rest.split_last().ok_or(RtpError::BadPadding)?;
            if count == 0 {
                return Err(RtpError::BadPadding);
            }
            let end = rest
                .len()
                .checked_sub(usize::from(count))
                .ok_or(RtpError::BadPadding)?;
            (rest.get(..end).ok_or(RtpError::BadPadding)?, count)
        } else {
            (rest, 0)
        };
        Ok(RtpPacket {
            header,
            payload,
            padding,
        })
    }

    /// Bytes of the header when serialized: the payload starts there. A parsed packet whose
    /// extension block had padding between elements had a longer header on the wire (see
    /// [`wire_header_len`]).
    pub fn header_len(&self) -> usize {
        self.header.encoded_len()
    }

    /// Bytes of the whole packet on the wire.
    pub fn encoded_len(&self) -> usize {
        self.header_len() + self.payload.len() + usize::from(self.padding)
    }

    /// Appends the packet to `out` (nothing on error: a payload type above 127, an
    /// extension element that does not fit its form).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), RtpError> {
        out.reserve(self.encoded_len());
        self.header.encode(self.padding > 0, out)?;
        out.extend_from_slice(self.payload);
        if self.padding > 0 {
            out.extend(core::iter::repeat_n(0, usize::from(self.padding) - 1));
            out.push(self.padding);
        }
        Ok(())
    }
}

/// Length of the header of the RTP packet in `buf` as it is on the wire (fixed header, CSRCs,
/// extension block): where the SRTP-encrypted part starts (RFC 3711 §3.1). Checks the
/// version and that the header fits; does not parse the extension elements or the padding.
pub fn wire_header_len(buf: &[u8]) -> Result<usize, RtpError> {
    let mut r = Reader::new(buf);
    let b0 = r.u8()?;
    if b0 >> 6 != RTP_VERSION {
        return Err(RtpError::BadVersion);
    }
    r.take(RTP_HEADER_LEN - 1 + 4 * usize::from(b0 & 0x0f))?;
    if b0 & 0x10 != 0 {
        let _profile = r.u16()?;
        let words = usize::from(r.u16()?);
        r.take(words * 4)?;
    }
    Ok(buf.len() - r.remaining())
}
