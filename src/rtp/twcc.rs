//! Transport-wide congestion control feedback
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): RTPFB, FMT 15.
//!
//! ```text
//! | base sequence number          | packet status count           |
//! | reference time (24 bits, x 64 ms)             | fb pkt. count |
//! | packet chunk | packet chunk | ... | recv delta | recv delta | ... | zero padding |
//! ```
//!
//! A packet chunk is a run length chunk (`0 SS LLLLLLLLLLLLL`: 13-bit run of one 2-bit
//! symbol) or a status vector chunk (`1 0` + 14 one-bit symbols, or `1 1` + 7 two-bit
//! symbols). Symbols: 00 not received, 01 received with a small delta (one byte, 0 to
//! 63.75 ms), 10 received with a large or negative delta (two bytes, signed), 11 reserved.
//! Deltas count 250 µs, the first from the reference time, each next from the previous
//! packet's arrival.

use super::reader::{pad4, put_u16, put_u24, Reader};
use super::RtpError;
use crate::Time;

/// Most packet statuses one feedback may carry. The status count is 16 bits, but run length
/// chunks let a 20-byte packet claim 65535 statuses: the bound keeps the list we allocate
/// small (a sequence span of 8192 packets).
pub const MAX_TWCC_STATUSES: usize = 8192;
/// Resolution of a receive delta.
pub const TWCC_DELTA_US: i64 = 250;
/// Resolution of the reference time.
pub const TWCC_REFERENCE_US: i64 = 64_000;
/// Longest run a run length chunk holds (13 bits).
const MAX_RUN: usize = 0x1fff;

/// The status of one packet in the feedback, with its receive delta in units of
/// [`TWCC_DELTA_US`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketStatus {
    NotReceived,
    /// Received, delta 0-255 (one byte on the wire).
    SmallDelta(u8),
    /// Received, any signed 16-bit delta (two bytes on the wire).
    LargeDelta(i16),
}

impl PacketStatus {
    fn symbol(self) -> u16 {
        match self {
            PacketStatus::NotReceived => 0,
            PacketStatus::SmallDelta(_) => 1,
            PacketStatus::LargeDelta(_) => 2,
        }
    }
    /// The receive delta in units of 250 µs.
    pub fn delta(self) -> Option<i64> {
        match self {
            PacketStatus::NotReceived => None,
            PacketStatus::SmallDelta(d) => Some(i64::from(d)),
            PacketStatus::LargeDelta(d) => Some(i64::from(d)),
        }
    }
}

/// A transport-wide CC feedback packet: the statuses of the packets `base_seq`,
/// `base_seq + 1`, ... (at most [`MAX_TWCC_STATUSES`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportCc {
    pub sender_ssrc: u32,
    pub media_ssrc: u32,
    pub base_seq: u16,
    /// Signed 24-bit, in units of 64 ms ([`TWCC_REFERENCE_US`]).
    pub reference_time: i32,
    /// Feedback packet count, to detect lost feedback.
    pub fb_count: u8,
    pub statuses: Vec<PacketStatus>,
}

const REFERENCE_MIN: i32 = -(1 << 23);
const REFERENCE_MAX: i32 = (1 << 23) - 1;

impl TransportCc {
    /// Builds the feedback for the packets from `base_seq` to the last one of `received`,
    /// given the transport-wide sequence number and arrival time of each received packet
    /// (in increasing sequence order, wrapping at 65535; any sequence number in between
    /// that is absent is reported as lost). The reference time is the first arrival rounded
    /// down to 64 ms (taken modulo 2^24 x 64 ms); arrival times are rounded to 250 µs.
    ///
    /// Errors: a sequence number out of order, repeated or before `base_seq`
    /// ([`RtpError::InvalidValue`]), a span over [`MAX_TWCC_STATUSES`]
    /// ([`RtpError::TooMany`]), two consecutive arrivals more than a signed 16-bit delta
    /// apart (about ±8.2 s: split the feedback; [`RtpError::InvalidValue`]).
    pub fn from_arrivals(
        sender_ssrc: u32,
        media_ssrc: u32,
        fb_count: u8,
        base_seq: u16,
        received: &[(u16, Time)],
    ) -> Result<TransportCc, RtpError> {
        let micros = |t: Time| i64::try_from(t.as_micros()).map_err(|_| RtpError::InvalidValue);
        let reference_abs = match received.first() {
            Some(&(_, t)) => micros(t)? / TWCC_REFERENCE_US,
            None => 0,
        };
        // Signed 24-bit two's complement of the reference, modulo 2^24.
        let wrapped = reference_abs.rem_euclid(1 << 24);
        let reference_time = i32::try_from(if wrapped >= 1 << 23 {
            wrapped - (1 << 24)
        } else {
            wrapped
        })
        .map_err(|_| RtpError::InvalidValue)?;
        // Everything in 250 µs units from here on (64 ms is 256 of them).
        let mut prev = reference_abs * (TWCC_REFERENCE_US / TWCC_DELTA_US);
        let mut statuses: Vec<PacketStatus> = Vec::new();
        for &(seq, t) in received {
            let index = usize::from(seq.wrapping_sub(base_seq));
            // Half the sequence space or more ahead: before `base_seq`.
            if index < statuses.len() || index >= 0x8000 {
                return Err(RtpError::InvalidValue);
            }
            if index >= MAX_TWCC_STATUSES {
                return Err(RtpError::TooMany);
            }
            statuses.resize(index, PacketStatus::NotReceived);
            let units = (micros(t)? + TWCC_DELTA_US / 2) / TWCC_DELTA_US;
            let delta = units - prev;
            prev = units;
            statuses.push(match u8::try_from(delta) {
                Ok(d) => PacketStatus::SmallDelta(d),
                Err(_) => PacketStatus::LargeDelta(
                    i16::try_from(delta).map_err(|_| RtpError::InvalidValue)?,
                ),
            });
        }
        Ok(TransportCc {
            sender_ssrc,
            media_ssrc,
            base_seq,
            reference_time,
            fb_count,
            statuses,
        })
    }

    /// Each packet's sequence number and, if received, its arrival time in microseconds on
    /// the feedback sender's clock (reference time x 64 ms plus the deltas; the reference
    /// wraps every 2^24 x 64 ms).
    pub fn arrivals(&self) -> impl Iterator<Item = (u16, Option<i64>)> + '_ {
        let mut at = i64::from(self.reference_time) * TWCC_REFERENCE_US;
        let mut seq = self.base_seq;
        self.statuses.iter().map(move |s| {
            let this = seq;
            seq = seq.wrapping_add(1);
            match s.delta() {
                Some(d) => {
                    at += d * TWCC_DELTA_US;
                    (this, Some(at))
                }
                None => (this, None),
            }
        })
    }

    /// Parses the feedback control information (after the two SSRCs).
    pub(crate) fn parse_fci(
        sender_ssrc: u32,
        media_ssrc: u32,
        fci: &[u8],
    ) -> Result<TransportCc, RtpError> {
        let mut r = Reader::new(fci);
        let base_seq = r.u16()?;
        let count = usize::from(r.u16()?);
        if count > MAX_TWCC_STATUSES {
            return Err(RtpError::TooMany);
        }
        let [a, b, c] = r.array::<3>()?;
        let reference_time = i32::from_be_bytes([if a & 0x80 != 0 { 0xff } else { 0 }, a, b, c]);
        let fb_count = r.u8()?;
        // Symbols first, then one delta per received symbol.
        let mut symbols: Vec<u8> = Vec::with_capacity(count);
        while symbols.len() < count {
            let chunk = r.u16()?;
            let left = count - symbols.len();
            if chunk & 0x8000 == 0 {
                let symbol = u8::try_from((chunk >> 13) & 0x3).unwrap_or(3);
                if symbol == 3 {
                    return Err(RtpError::InvalidValue);
                }
                let run = usize::from(chunk & 0x1fff).min(left);
                symbols.extend(core::iter::repeat_n(symbol, run));
            } else if chunk & 0x4000 == 0 {
                for i in (0..14).rev().take(left) {
                    symbols.push(u8::from((chunk >> i) & 1 == 1));
                }
            } else {
                for i in (0..7).rev().take(left) {
                    let symbol = u8::try_from((chunk >> (2 * i)) & 0x3).unwrap_or(3);
                    if symbol == 3 {
                        return Err(RtpError::InvalidValue);
                    }
                    symbols.push(symbol);
                }
            }
        }
        let mut statuses = Vec::with_capacity(count);
        for symbol in symbols {
            statuses.push(match symbol {
                0 => PacketStatus::NotReceived,
                1 => PacketStatus::SmallDelta(r.u8()?),
                _ => PacketStatus::LargeDelta(i16::from_be_bytes(r.array()?)),
            });
        }
        // Zero padding to the word boundary.
        if r.remaining() >= 4 {
            return Err(RtpError::TrailingBytes);
        }
        Ok(TransportCc {
            sender_ssrc,
            media_ssrc,
            base_seq,
            reference_time,
            fb_count,
            statuses,
        })
    }

    /// Appends the feedback control information, zero-padded to 32 bits.
    pub(crate) fn encode_fci(&self, out: &mut Vec<u8>) -> Result<(), RtpError> {
        let n = self.statuses.len();
        if n > MAX_TWCC_STATUSES {
            return Err(RtpError::TooMany);
        }
        if !(REFERENCE_MIN..=REFERENCE_MAX).contains(&self.reference_time) {
            return Err(RtpError::InvalidValue);
        }
        let start = out.len();
        put_u16(out, self.base_seq);
        put_u16(out, u16::try_from(n).map_err(|_| RtpError::TooMany)?);
        put_u24(
            out,
            u32::from_be_bytes(self.reference_time.to_be_bytes()) & 0x00ff_ffff,
        );
        out.push(self.fb_count);
        let symbols: Vec<u16> = self.statuses.iter().map(|s| s.symbol()).collect();
        let mut i = 0;
        while let Some(rest) = symbols.get(i..).filter(|r| !r.is_empty()) {
            let first = rest.first().copied().unwrap_or(0);
            let run = rest
                .iter()
                .take(MAX_RUN)
                .take_while(|&&s| s == first)
                .count();
            if run >= 14 || (first == 2 && run >= 7) || run == rest.len() {
                put_u16(out, (first << 13) | u16::try_from(run).unwrap_or(0));
                i += run;
            } else if rest.iter().take(14).all(|&s| s <= 1) {
                let mut chunk = 0x8000u16;
                for (k, &s) in rest.iter().take(14).enumerate() {
                    chunk |= s << (13 - k);
                }
                put_u16(out, chunk);
                i += rest.len().min(14);
            } else {
                let mut chunk = 0xc000u16;
                for (k, &s) in rest.iter().take(7).enumerate() {
                    chunk |= s << (12 - 2 * k);
                }
                put_u16(out, chunk);
                i += rest.len().min(7);
            }
        }
        for s in &self.statuses {
            match *s {
                PacketStatus::NotReceived => {}
                PacketStatus::SmallDelta(d) => out.push(d),
                PacketStatus::LargeDelta(d) => out.extend_from_slice(&d.to_be_bytes()),
            }
        }
        pad4(out, start);
        Ok(())
    }
}
