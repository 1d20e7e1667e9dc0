//! Multicast DNS messages (RFC 6762, on the DNS wire format of RFC 1035) for ICE candidates
//! hidden behind `.local` names (draft-ietf-mmusic-mdns-ice-candidates): the query a host
//! multicasts to learn a name's address, the answers it reads, and the answer a responder
//! sends for a name of its own. No socket here: the host sends and receives the bytes.
//!
//! Only what ICE needs is kept of a message: questions and A/AAAA records (class IN). Other
//! records are skipped; a message that does not parse is an error, never a panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IPv4 mDNS group (RFC 6762 §3) and port.
pub const MDNS_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
/// The IPv6 link-local mDNS group.
pub const MDNS_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb);
pub const MDNS_PORT: u16 = 5353;
/// Largest message read or written (RFC 6762 §17: 9000 bytes on a jumbo link).
pub const MAX_MESSAGE_LEN: usize = 9000;
/// Questions and address records kept from one message; more are skipped.
pub const MAX_RECORDS: usize = 16;
/// Longest name accepted, in text form (RFC 1035: 255 octets on the wire).
pub const MAX_NAME_LEN: usize = 253;
/// Compression pointers followed while reading one name (a loop ends here).
const MAX_POINTERS: usize = 16;

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
/// The top bit of a question's class asks for a unicast answer (QU, §5.4); of a record's,
/// tells caches to flush older records of the name (§10.2).
const CLASS_TOP_BIT: u16 = 0x8000;
/// Header flags of an authoritative answer (QR and AA, §18).
const FLAGS_ANSWER: u16 = 0x8400;

/// Why a message was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdnsError {
    /// Ends inside the header, a name or a record.
    Truncated,
    /// A name with a bad label, a pointer loop, or longer than [`MAX_NAME_LEN`].
    BadName,
    /// Longer than [`MAX_MESSAGE_LEN`].
    TooLong,
}

/// What a host needs of one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// A response (QR set) rather than a query.
    pub response: bool,
    /// Questions: the name (lower case, no trailing dot) and whether A and/or AAAA is asked.
    pub questions: Vec<Question>,
    /// A and AAAA records of the answer and additional sections.
    pub addresses: Vec<AddressRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    /// The record type asked (A, AAAA, ANY or another).
    pub qtype: u16,
    /// QU: the querier asks for a unicast answer.
    pub unicast: bool,
}

impl Question {
    /// Whether the question asks for A (`v6` false) or AAAA records, directly or as ANY.
    pub fn asks(&self, v6: bool) -> bool {
        self.qtype == 255 || self.qtype == if v6 { TYPE_AAAA } else { TYPE_A }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressRecord {
    pub name: String,
    pub address: IpAddr,
    /// Seconds; 0 says the record is withdrawn (§10.1).
    pub ttl: u32,
}

/// A name as used here: lower case, without the trailing dot.
pub fn normalize(name: &str) -> String {
    let n = name.strip_suffix('.').unwrap_or(name);
    n.to_ascii_lowercase()
}

/// Whether `name` is a `.local` name this module can put in a message: labels of 1 to 63
/// letters, digits, `-` or `_`, at most [`MAX_NAME_LEN`] in all, ending in `.local`.
pub fn is_local_name(name: &str) -> bool {
    let n = normalize(name);
    n.len() <= MAX_NAME_LEN
        && n.ends_with(".local")
        && n.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        })
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    for label in normalize(name).split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

fn header(out: &mut Vec<u8>, flags: u16, questions: u16, answers: u16) {
    put_u16(out, 0); // mDNS: ID 0 (§18.1)
    put_u16(out, flags);
    put_u16(out, questions);
    put_u16(out, answers);
    put_u16(out, 0);
    put_u16(out, 0);
}

/// A query for `name`'s A record and, with `v6`, its AAAA record too (one message, QM: the
/// answers are multicast, so that every host on the link learns them). `None` if the name
/// is not a `.local` name ([`is_local_name`]).
pub fn query(name: &str, v6: bool) -> Option<Vec<u8>> {
    if !is_local_name(name) {
        return None;
    }
    let mut out = Vec::with_capacity(12 + 2 * (name.len() + 6));
    header(&mut out, 0, if v6 { 2 } else { 1 }, 0);
    for qtype in [TYPE_A, TYPE_AAAA].into_iter().take(if v6 { 2 } else { 1 }) {
        put_name(&mut out, name);
        put_u16(&mut out, qtype);
        put_u16(&mut out, CLASS_IN);
    }
    Some(out)
}

/// An authoritative answer giving `name` the `addresses` (A and AAAA records, cache-flush
/// set: the name is ours alone) for `ttl` seconds. `None` if the name is not a `.local`
/// name or there are no addresses.
pub fn answer(name: &str, addresses: &[IpAddr], ttl: u32) -> Option<Vec<u8>> {
    if !is_local_name(name) || addresses.is_empty() {
        return None;
    }
    let addresses = &addresses[..addresses.len().min(MAX_RECORDS)];
    let mut out = Vec::new();
    header(&mut out, FLAGS_ANSWER, 0, addresses.len() as u16);
    for a in addresses {
        put_name(&mut out, name);
        let (ty, data): (u16, Vec<u8>) = match a {
            IpAddr::V4(v4) => (TYPE_A, v4.octets().to_vec()),
            IpAddr::V6(v6) => (TYPE_AAAA, v6.octets().to_vec()),
        };
        put_u16(&mut out, ty);
        put_u16(&mut out, CLASS_IN | CLASS_TOP_BIT);
        out.extend_from_slice(&ttl.to_be_bytes());
        put_u16(&mut out, data.len() as u16);
        out.extend_from_slice(&data);
    }
    Some(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MdnsError> {
        let end = self.pos.checked_add(n).ok_or(MdnsError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(MdnsError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn u16(&mut self) -> Result<u16, MdnsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, MdnsError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A name at the reader's position (compression pointers followed, RFC 1035 §4.1.4); the
    /// reader moves past it. Labels are lower-cased; a label that is not printable ASCII
    /// without dots makes the name [`MdnsError::BadName`].
    fn name(&mut self) -> Result<String, MdnsError> {
        let mut out = String::new();
        let mut at = self.pos;
        let mut jumped = false;
        let mut pointers = 0;
        loop {
            let len = *self.buf.get(at).ok_or(MdnsError::Truncated)? as usize;
            match len {
                0 => {
                    if !jumped {
                        self.pos = at + 1;
                    }
                    return Ok(out);
                }
                1..=63 => {
                    let label = self.buf.get(at + 1..at + 1 + len).ok_or(MdnsError::Truncated)?;
                    if !label.iter().all(|&c| c.is_ascii_graphic() && c != b'.') {
                        return Err(MdnsError::BadName);
                    }
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.extend(label.iter().map(|&c| c.to_ascii_lowercase() as char));
                    if out.len() > MAX_NAME_LEN {
                        return Err(MdnsError::BadName);
                    }
                    at += 1 + len;
                }
                0xc0..=0xff => {
                    let low = *self.buf.get(at + 1).ok_or(MdnsError::Truncated)? as usize;
                    pointers += 1;
                    if pointers > MAX_POINTERS {
                        return Err(MdnsError::BadName);
                    }
                    if !jumped {
                        self.pos = at + 2;
                        jumped = true;
                    }
                    at = ((len & 0x3f) << 8) | low;
                }
                _ => return Err(MdnsError::BadName),
            }
        }
    }
}

/// Reads a message: its questions and A/AAAA records, [`MAX_RECORDS`] of each at most.
pub fn parse(buf: &[u8]) -> Result<Message, MdnsError> {
    if buf.len() > MAX_MESSAGE_LEN {
        return Err(MdnsError::TooLong);
    }
    let mut r = Reader { buf, pos: 0 };
    let _id = r.u16()?;
    let flags = r.u16()?;
    let counts = [r.u16()?, r.u16()?, r.u16()?, r.u16()?];
    let mut msg = Message { response: flags & 0x8000 != 0, ..Message::default() };
    for _ in 0..counts[0] {
        let name = r.name()?;
        let qtype = r.u16()?;
        let class = r.u16()?;
        if class & !CLASS_TOP_BIT == CLASS_IN && msg.questions.len() < MAX_RECORDS {
            msg.questions.push(Question { name, qtype, unicast: class & CLASS_TOP_BIT != 0 });
        }
    }
    let records = usize::from(counts[1]) + usize::from(counts[2]) + usize::from(counts[3]);
    for _ in 0..records {
        let name = r.name()?;
        let ty = r.u16()?;
        let class = r.u16()?;
        let ttl = r.u32()?;
        let len = usize::from(r.u16()?);
        let data = r.take(len)?;
        if class & !CLASS_TOP_BIT != CLASS_IN || msg.addresses.len() >= MAX_RECORDS {
            continue;
        }
        let address = match (ty, data.len()) {
            (TYPE_A, 4) => IpAddr::V4(Ipv4Addr::new(data[0], data[1], data[2], data[3])),
            (TYPE_AAAA, 16) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(data);
                IpAddr::V6(Ipv6Addr::from(o))
            }
            _ => continue,
        };
        msg.addresses.push(AddressRecord { name, address, ttl });
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "9e7eadff-d3be-436c-9187-03d38925cb4e.local";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn chromiums_answer_is_read() {
        // Chromium 14x's responder answering a query for its host candidate's name, captured
        // on a veth link: an A record (cache-flush) and an NSEC record (skipped) pointing back
        // at the name.
        let wire = hex("0000840000000001000000012439653765616466662d643362652d343336632d393138372d303364333839323563623465056c6f63616c00000180010000007800040a4d00012439653765616466662d643362652d343336632d393138372d303364333839323563623465056c6f63616c00002f8001000000780005c046000140");
        let m = parse(&wire).unwrap();
        assert!(m.response);
        assert!(m.questions.is_empty());
        assert_eq!(m.addresses, vec![AddressRecord { name: NAME.into(), address: "10.77.0.1".parse().unwrap(), ttl: 120 }]);
    }

    #[test]
    fn a_query_asks_for_a_and_aaaa_and_reads_back() {
        let q = query(NAME, true).unwrap();
        let m = parse(&q).unwrap();
        assert!(!m.response);
        assert_eq!(m.questions.len(), 2);
        assert!(m.questions[0].asks(false) && m.questions[1].asks(true));
        assert!(m.questions.iter().all(|q| q.name == NAME && !q.unicast));
        // The name is case-insensitive and may end in a dot.
        assert_eq!(query(&format!("{}.", NAME.to_uppercase()), true), Some(q));
        assert_eq!(parse(&query(NAME, false).unwrap()).unwrap().questions.len(), 1);
    }

    #[test]
    fn an_answer_reads_back() {
        let addrs: Vec<IpAddr> = vec!["192.0.2.7".parse().unwrap(), "fd00::7".parse().unwrap()];
        let m = parse(&answer(NAME, &addrs, 120).unwrap()).unwrap();
        assert!(m.response);
        assert_eq!(m.addresses.iter().map(|r| r.address).collect::<Vec<_>>(), addrs);
        assert!(m.addresses.iter().all(|r| r.name == NAME && r.ttl == 120));
        assert_eq!(answer(NAME, &[], 120), None);
    }

    #[test]
    fn names_that_are_not_local_or_not_labels_are_refused() {
        assert!(is_local_name(NAME) && is_local_name("a.local.") && is_local_name("A_b.LOCAL"));
        for bad in ["example.com", "local", ".local", "a..local", "a b.local", &format!("{}.local", "x".repeat(64))] {
            assert!(!is_local_name(bad), "{bad}");
            assert_eq!(query(bad, false), None);
        }
        let long = format!("{}local", "abcdefgh.".repeat(28));
        assert!(long.len() > MAX_NAME_LEN && !is_local_name(&long));
    }

    #[test]
    fn hostile_messages_are_errors_not_panics() {
        let good = query(NAME, true).unwrap();
        for n in 0..good.len() {
            assert!(parse(&good[..n]).is_err(), "truncated at {n}");
        }
        // A pointer to itself, and two pointing at each other.
        let mut looped = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        looped.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(parse(&looped), Err(MdnsError::BadName));
        let mut pair = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        pair.extend_from_slice(&[0xc0, 14, 0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(parse(&pair), Err(MdnsError::BadName));
        // A pointer past the end, a reserved label type, a dot inside a label.
        let mut past = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        past.extend_from_slice(&[0xc0, 200, 0, 1, 0, 1]);
        assert_eq!(parse(&past), Err(MdnsError::Truncated));
        let mut reserved = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        reserved.extend_from_slice(&[0x40, 0, 0, 1, 0, 1]);
        assert_eq!(parse(&reserved), Err(MdnsError::BadName));
        let mut dotted = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        dotted.extend_from_slice(&[3, b'a', b'.', b'b', 0, 0, 1, 0, 1]);
        assert_eq!(parse(&dotted), Err(MdnsError::BadName));
        // Counts far above what the bytes hold.
        let mut many = answer(NAME, &["192.0.2.1".parse().unwrap()], 1).unwrap();
        many[6] = 0xff;
        assert_eq!(parse(&many), Err(MdnsError::Truncated));
        assert_eq!(parse(&vec![0; MAX_MESSAGE_LEN + 1]), Err(MdnsError::TooLong));
    }

    #[test]
    fn records_beyond_the_bound_and_of_other_types_are_skipped() {
        let addrs: Vec<IpAddr> = (0..MAX_RECORDS as u8).map(|i| IpAddr::V4(Ipv4Addr::new(192, 0, 2, i))).collect();
        let mut wire = answer(NAME, &addrs, 10).unwrap();
        // One more record, of type TXT, and one A record beyond the bound.
        let extra = |wire: &mut Vec<u8>, ty: u16, data: &[u8]| {
            put_name(wire, NAME);
            put_u16(wire, ty);
            put_u16(wire, CLASS_IN);
            wire.extend_from_slice(&10u32.to_be_bytes());
            put_u16(wire, data.len() as u16);
            wire.extend_from_slice(data);
        };
        extra(&mut wire, 16, b"\x03abc");
        extra(&mut wire, TYPE_A, &[198, 51, 100, 1]);
        wire[7] += 2;
        let m = parse(&wire).unwrap();
        assert_eq!(m.addresses.len(), MAX_RECORDS);
        assert!(m.addresses.iter().all(|r| r.address != IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1))));
    }
}
