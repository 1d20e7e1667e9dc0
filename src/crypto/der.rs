//! A small DER (ITU-T X.690) writer and reader, enough for X.509 certificates.

pub const TAG_INTEGER: u8 = 0x02;
pub const TAG_BIT_STRING: u8 = 0x03;
pub const TAG_NULL: u8 = 0x05;
pub const TAG_OID: u8 = 0x06;
pub const TAG_UTF8_STRING: u8 = 0x0c;
pub const TAG_UTC_TIME: u8 = 0x17;
pub const TAG_GENERALIZED_TIME: u8 = 0x18;
pub const TAG_SEQUENCE: u8 = 0x30;
pub const TAG_SET: u8 = 0x31;
/// `[0]` constructed, context-specific.
pub const TAG_CONTEXT_0: u8 = 0xa0;

/// Appends one TLV.
pub fn write_tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let sig = bytes.get(skip..).unwrap_or(&[]);
        out.push(0x80 | sig.len() as u8);
        out.extend_from_slice(sig);
    }
    out.extend_from_slice(value);
}

/// A TLV built from the concatenation of `parts`.
pub fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in parts {
        v.extend_from_slice(p);
    }
    let mut out = Vec::with_capacity(v.len() + 6);
    write_tlv(&mut out, tag, &v);
    out
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let m = magnitude.get(skip..).unwrap_or(&[]);
    let mut v = Vec::with_capacity(m.len() + 1);
    if m.first().is_none_or(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(m);
    tlv(TAG_INTEGER, &[&v])
}

/// An OBJECT IDENTIFIER from its arcs (first two arcs < 40 * 3).
pub fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut v = Vec::new();
    if let (Some(a), Some(b)) = (arcs.first(), arcs.get(1)) {
        v.push((a * 40 + b) as u8);
    }
    for &arc in arcs.iter().skip(2) {
        let mut tmp = Vec::new();
        let mut x = arc;
        tmp.push((x & 0x7f) as u8);
        x >>= 7;
        while x > 0 {
            tmp.push(0x80 | (x & 0x7f) as u8);
            x >>= 7;
        }
        tmp.reverse();
        v.extend_from_slice(&tmp);
    }
    tlv(TAG_OID, &[&v])
}

/// A DER reader over a byte slice; every read is bounds-checked.
pub struct DerReader<'a> {
    data: &'a [u8],
}

impl<'a> DerReader<'a> {
    pub fn new(data: &'a [u8]) -> DerReader<'a> {
        DerReader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads one TLV; returns (tag, value, whole encoding).
    pub fn read_any(&mut self) -> Option<(u8, &'a [u8], &'a [u8])> {
        let d = self.data;
        let tag = *d.first()?;
        if tag & 0x1f == 0x1f {
            return None; // multi-byte tags: not used in certificates we read
        }
        let l0 = *d.get(1)?;
        let (len, hdr) = if l0 < 0x80 {
            (usize::from(l0), 2usize)
        } else {
            let n = usize::from(l0 & 0x7f);
            if n == 0 || n > 3 {
                return None; // indefinite or absurd length
            }
            let mut len = 0usize;
            for i in 0..n {
                len = (len << 8) | usize::from(*d.get(2 + i)?);
            }
            (len, 2 + n)
        };
        let end = hdr.checked_add(len)?;
        let value = d.get(hdr..end)?;
        let whole = d.get(..end)?;
        self.data = d.get(end..)?;
        Some((tag, value, whole))
    }

    /// Reads one TLV with the expected tag; returns its value.
    pub fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (t, v, _) = self.read_any()?;
        (t == tag).then_some(v)
    }
}
