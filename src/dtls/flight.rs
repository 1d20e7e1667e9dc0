//! Flights (RFC 6347 §4.2.4): packing handshake messages into records and datagrams,
//! fragmented to the MTU (§4.2.3), and reassembling the peer's fragments.

use std::collections::VecDeque;

use super::error::DtlsError;
use super::record::RecordWriter;
use super::state::MAX_FRAGMENT_RANGES;
use super::wire::{content_type, HandshakeHeader, HANDSHAKE_HEADER_LEN, RECORD_HEADER_LEN};

/// One element of a flight, kept for retransmission (records get fresh sequence numbers).
pub(crate) enum FlightItem {
    Handshake { epoch: u16, msg_type: u8, seq: u16, body: Vec<u8> },
    ChangeCipherSpec,
}

/// A handshake message being reassembled from fragments.
pub(crate) struct Partial {
    pub(crate) msg_type: u8,
    pub(crate) epoch: u16,
    pub(crate) data: Vec<u8>,
    /// Sorted, disjoint, non-adjacent received ranges.
    pub(crate) ranges: Vec<(usize, usize)>,
}

impl Partial {
    pub(crate) fn complete(&self) -> bool {
        match self.ranges.as_slice() {
            [] => self.data.is_empty(),
            [(0, e)] => *e == self.data.len(),
            _ => false,
        }
    }

    /// Adds `[start, start + frag.len())`; false if the range list would exceed its bound.
    pub(crate) fn insert(&mut self, start: usize, frag: &[u8]) -> bool {
        let end = start + frag.len();
        if let Some(dst) = self.data.get_mut(start..end) {
            dst.copy_from_slice(frag);
        } else {
            return false;
        }
        if start == end {
            return true;
        }
        let mut merged = Vec::with_capacity(self.ranges.len() + 1);
        let (mut s, mut e) = (start, end);
        let mut placed = false;
        for &(a, b) in &self.ranges {
            if b < s {
                merged.push((a, b));
            } else if a > e {
                if !placed {
                    merged.push((s, e));
                    placed = true;
                }
                merged.push((a, b));
            } else {
                s = s.min(a);
                e = e.max(b);
            }
        }
        if !placed {
            merged.push((s, e));
        }
        if merged.len() > MAX_FRAGMENT_RANGES {
            return false;
        }
        self.ranges = merged;
        true
    }
}


/// Writes `flight` as datagrams of at most `mtu` bytes: handshake messages are fragmented
/// to fit and several records share a datagram.
pub(crate) fn pack_flight(
    flight: &[FlightItem],
    writer: &mut RecordWriter,
    mtu: usize,
    out: &mut VecDeque<Vec<u8>>,
) -> Result<(), DtlsError> {
    let mtu = mtu.max(RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + 64);
    let mut dgram: Vec<u8> = Vec::with_capacity(mtu);
    let mut hdr = Vec::with_capacity(HANDSHAKE_HEADER_LEN);
    for item in flight {
        match item {
            FlightItem::ChangeCipherSpec => {
                if dgram.len() + RECORD_HEADER_LEN + 1 > mtu && !dgram.is_empty() {
                    out.push_back(core::mem::replace(&mut dgram, Vec::with_capacity(mtu)));
                }
                writer.write(&mut dgram, content_type::CHANGE_CIPHER_SPEC, 0, &[&[1]])?;
            }
            FlightItem::Handshake { epoch, msg_type, seq, body } => {
                let overhead = RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + writer.overhead(*epoch);
                let mut offset = 0usize;
                loop {
                    let remaining = body.len() - offset;
                    let mut space = mtu.saturating_sub(dgram.len()).saturating_sub(overhead);
                    // Start a new datagram rather than send a tiny fragment.
                    if space < remaining.clamp(1, 64) && !dgram.is_empty() {
                        out.push_back(core::mem::replace(&mut dgram, Vec::with_capacity(mtu)));
                        space = mtu.saturating_sub(overhead);
                    }
                    let n = remaining.min(space.max(1));
                    let frag = body.get(offset..offset + n).unwrap_or(&[]);
                    hdr.clear();
                    HandshakeHeader {
                        msg_type: *msg_type,
                        length: u32::try_from(body.len()).map_err(|_| DtlsError::MessageTooLarge)?,
                        message_seq: *seq,
                        fragment_offset: u32::try_from(offset).map_err(|_| DtlsError::MessageTooLarge)?,
                        fragment_length: u32::try_from(n).map_err(|_| DtlsError::MessageTooLarge)?,
                    }
                    .encode(&mut hdr);
                    writer.write(&mut dgram, content_type::HANDSHAKE, *epoch, &[&hdr, frag])?;
                    offset += n;
                    if offset >= body.len() {
                        break;
                    }
                }
            }
        }
    }
    if !dgram.is_empty() {
        out.push_back(dgram);
    }
    Ok(())
}
