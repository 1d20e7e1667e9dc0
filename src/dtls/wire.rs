//! DTLS 1.2 wire format: records (RFC 6347 §4.1), handshake headers (§4.2.2) and the
//! handshake messages WebRTC needs (RFC 5246 §7.4, RFC 8422 §5, RFC 5764 §4.1.1,
//! RFC 7627 §5.1). Codec only: no state.

use super::error::DtlsError;

/// DTLS 1.2 on the wire (RFC 6347 §4.1: `{254, 253}`).
pub const DTLS_1_2: u16 = 0xfefd;
/// DTLS 1.0, accepted as the record version of a first ClientHello.
pub const DTLS_1_0: u16 = 0xfeff;

pub const RECORD_HEADER_LEN: usize = 13;
pub const HANDSHAKE_HEADER_LEN: usize = 12;
/// RFC 6347 §4.1 / RFC 5246 §6.2.3: a record fragment is at most 2^14 + 2048 bytes.
pub const MAX_RECORD_FRAGMENT: usize = 16384 + 2048;
/// Largest handshake message we accept (a certificate chain is the biggest).
pub const MAX_HANDSHAKE_MESSAGE: usize = 32 * 1024;
/// Most certificates in a peer's chain.
pub const MAX_CERTIFICATE_CHAIN: usize = 4;
/// Most cipher suites / groups / schemes / profiles we read from a list.
pub const MAX_LIST_ITEMS: usize = 256;

/// Record content types (RFC 5246 §6.2.1).
pub mod content_type {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
}

/// Handshake message types (RFC 5246 §7.4, RFC 6347 §4.2.2).
pub mod handshake_type {
    pub const HELLO_REQUEST: u8 = 0;
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const HELLO_VERIFY_REQUEST: u8 = 3;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CERTIFICATE_REQUEST: u8 = 13;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const CERTIFICATE_VERIFY: u8 = 15;
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
    pub const FINISHED: u8 = 20;
}

/// Extension types.
pub mod extension_type {
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const USE_SRTP: u16 = 14;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// `ecdsa_secp256r1_sha256` (RFC 8446 naming; TLS 1.2 hash 4 / signature 3).
pub const ECDSA_SECP256R1_SHA256: u16 = 0x0403;
/// ClientCertificateType `rsa_sign` (RFC 5246 §7.4.4).
pub const CERT_TYPE_RSA_SIGN: u8 = 1;
/// ClientCertificateType `ecdsa_sign` (RFC 8422 §5.5).
pub const CERT_TYPE_ECDSA_SIGN: u8 = 64;
/// ECCurveType `named_curve` (RFC 8422 §5.4).
pub const CURVE_TYPE_NAMED: u8 = 3;

/// A length-checked reader over peer bytes.
#[derive(Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    pub fn remaining(&self) -> usize {
        self.data.len()
    }
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DtlsError> {
        if n > self.data.len() {
            return Err(DtlsError::Decode);
        }
        let (a, b) = self.data.split_at(n);
        self.data = b;
        Ok(a)
    }
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DtlsError> {
        self.bytes(N)?.try_into().map_err(|_| DtlsError::Decode)
    }
    pub fn u8(&mut self) -> Result<u8, DtlsError> {
        Ok(u8::from_be_bytes(self.array::<1>()?))
    }
    pub fn u16(&mut self) -> Result<u16, DtlsError> {
        Ok(u16::from_be_bytes(self.array::<2>()?))
    }
    pub fn u24(&mut self) -> Result<u32, DtlsError> {
        let [a, b, c] = self.array::<3>()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }
    pub fn u48(&mut self) -> Result<u64, DtlsError> {
        let [a, b, c, d, e, f] = self.array::<6>()?;
        Ok(u64::from_be_bytes([0, 0, a, b, c, d, e, f]))
    }
    /// An opaque vector with a 1-byte length, at most `max` bytes.
    pub fn vec8(&mut self, max: usize) -> Result<&'a [u8], DtlsError> {
        let n = usize::from(self.u8()?);
        if n > max {
            return Err(DtlsError::Decode);
        }
        self.bytes(n)
    }
    pub fn vec16(&mut self, max: usize) -> Result<&'a [u8], DtlsError> {
        let n = usize::from(self.u16()?);
        if n > max {
            return Err(DtlsError::Decode);
        }
        self.bytes(n)
    }
    pub fn vec24(&mut self, max: usize) -> Result<&'a [u8], DtlsError> {
        let n = usize::try_from(self.u24()?).map_err(|_| DtlsError::Decode)?;
        if n > max {
            return Err(DtlsError::Decode);
        }
        self.bytes(n)
    }
    pub fn expect_end(&self) -> Result<(), DtlsError> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(DtlsError::Decode)
        }
    }
}

fn u16_list(bytes: &[u8]) -> Result<Vec<u16>, DtlsError> {
    if !bytes.len().is_multiple_of(2) || bytes.len() / 2 > MAX_LIST_ITEMS {
        return Err(DtlsError::Decode);
    }
    let mut r = Reader::new(bytes);
    let mut v = Vec::with_capacity(bytes.len() / 2);
    while !r.is_empty() {
        v.push(r.u16()?);
    }
    Ok(v)
}

pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}
pub fn put_u24(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}
pub fn put_u48(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes()[2..]);
}
/// Values are our own (bounded by construction), so truncation cannot happen in practice.
fn put_vec8(out: &mut Vec<u8>, v: &[u8]) {
    out.push(u8::try_from(v.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(v);
}
fn put_vec16(out: &mut Vec<u8>, v: &[u8]) {
    put_u16(out, u16::try_from(v.len()).unwrap_or(u16::MAX));
    out.extend_from_slice(v);
}
fn put_vec24(out: &mut Vec<u8>, v: &[u8]) {
    put_u24(out, u32::try_from(v.len()).unwrap_or(0xff_ffff));
    out.extend_from_slice(v);
}
fn put_u16_list16(out: &mut Vec<u8>, v: &[u16]) {
    put_u16(out, u16::try_from(v.len() * 2).unwrap_or(u16::MAX));
    for x in v {
        put_u16(out, *x);
    }
}

/// RFC 6347 §4.1 record header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    pub content_type: u8,
    pub version: u16,
    pub epoch: u16,
    /// 48-bit sequence number.
    pub sequence: u64,
    pub length: u16,
}

impl RecordHeader {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.content_type);
        put_u16(out, self.version);
        put_u16(out, self.epoch);
        put_u48(out, self.sequence);
        put_u16(out, self.length);
    }

    /// Reads one record: its header and its fragment.
    pub fn decode<'a>(r: &mut Reader<'a>) -> Result<(RecordHeader, &'a [u8]), DtlsError> {
        let content_type = r.u8()?;
        let version = r.u16()?;
        let epoch = r.u16()?;
        let sequence = r.u48()?;
        let length = r.u16()?;
        if usize::from(length) > MAX_RECORD_FRAGMENT {
            return Err(DtlsError::Decode);
        }
        let body = r.bytes(usize::from(length))?;
        Ok((RecordHeader { content_type, version, epoch, sequence, length }, body))
    }
}

/// RFC 6347 §4.2.2 handshake header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HandshakeHeader {
    pub msg_type: u8,
    pub length: u32,
    pub message_seq: u16,
    pub fragment_offset: u32,
    pub fragment_length: u32,
}

impl HandshakeHeader {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.msg_type);
        put_u24(out, self.length);
        put_u16(out, self.message_seq);
        put_u24(out, self.fragment_offset);
        put_u24(out, self.fragment_length);
    }

    /// Reads one handshake fragment; checks the fragment lies inside the message and
    /// the message is within [`MAX_HANDSHAKE_MESSAGE`].
    pub fn decode<'a>(r: &mut Reader<'a>) -> Result<(HandshakeHeader, &'a [u8]), DtlsError> {
        let msg_type = r.u8()?;
        let length = r.u24()?;
        let message_seq = r.u16()?;
        let fragment_offset = r.u24()?;
        let fragment_length = r.u24()?;
        let end = u64::from(fragment_offset) + u64::from(fragment_length);
        if end > u64::from(length) || u64::from(length) > MAX_HANDSHAKE_MESSAGE as u64 {
            return Err(DtlsError::Decode);
        }
        let body = r.bytes(usize::try_from(fragment_length).map_err(|_| DtlsError::Decode)?)?;
        Ok((HandshakeHeader { msg_type, length, message_seq, fragment_offset, fragment_length }, body))
    }
}

/// The hello extensions we understand; others are kept raw so they round-trip.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    pub supported_groups: Option<Vec<u16>>,
    pub ec_point_formats: Option<Vec<u8>>,
    pub signature_algorithms: Option<Vec<u16>>,
    /// RFC 5764 §4.1.1: (protection profiles, MKI).
    pub use_srtp: Option<(Vec<u16>, Vec<u8>)>,
    pub extended_master_secret: bool,
    pub renegotiation_info: Option<Vec<u8>>,
    pub unknown: Vec<(u16, Vec<u8>)>,
}

impl Extensions {
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut body = Vec::with_capacity(64);
        let mut ext = |ty: u16, data: &[u8]| {
            put_u16(&mut body, ty);
            put_vec16(&mut body, data);
        };
        if let Some(g) = &self.supported_groups {
            let mut d = Vec::new();
            put_u16_list16(&mut d, g);
            ext(extension_type::SUPPORTED_GROUPS, &d);
        }
        if let Some(f) = &self.ec_point_formats {
            let mut d = Vec::new();
            put_vec8(&mut d, f);
            ext(extension_type::EC_POINT_FORMATS, &d);
        }
        if let Some(s) = &self.signature_algorithms {
            let mut d = Vec::new();
            put_u16_list16(&mut d, s);
            ext(extension_type::SIGNATURE_ALGORITHMS, &d);
        }
        if let Some((profiles, mki)) = &self.use_srtp {
            let mut d = Vec::new();
            put_u16_list16(&mut d, profiles);
            put_vec8(&mut d, mki);
            ext(extension_type::USE_SRTP, &d);
        }
        if self.extended_master_secret {
            ext(extension_type::EXTENDED_MASTER_SECRET, &[]);
        }
        if let Some(r) = &self.renegotiation_info {
            let mut d = Vec::new();
            put_vec8(&mut d, r);
            ext(extension_type::RENEGOTIATION_INFO, &d);
        }
        for (ty, data) in &self.unknown {
            ext(*ty, data);
        }
        if !body.is_empty() {
            put_vec16(out, &body);
        }
    }

    /// Reads the optional extensions block (absent when the message ends).
    pub fn decode(r: &mut Reader<'_>) -> Result<Extensions, DtlsError> {
        let mut e = Extensions::default();
        if r.is_empty() {
            return Ok(e);
        }
        let mut list = Reader::new(r.vec16(usize::from(u16::MAX))?);
        let mut seen: Vec<u16> = Vec::new();
        while !list.is_empty() {
            let ty = list.u16()?;
            let data = list.vec16(usize::from(u16::MAX))?;
            if seen.contains(&ty) || seen.len() >= MAX_LIST_ITEMS {
                return Err(DtlsError::Decode);
            }
            seen.push(ty);
            let mut d = Reader::new(data);
            match ty {
                extension_type::SUPPORTED_GROUPS => {
                    e.supported_groups = Some(u16_list(d.vec16(usize::from(u16::MAX))?)?);
                }
                extension_type::EC_POINT_FORMATS => e.ec_point_formats = Some(d.vec8(255)?.to_vec()),
                extension_type::SIGNATURE_ALGORITHMS => {
                    e.signature_algorithms = Some(u16_list(d.vec16(usize::from(u16::MAX))?)?);
                }
                extension_type::USE_SRTP => {
                    let profiles = u16_list(d.vec16(usize::from(u16::MAX))?)?;
                    let mki = d.vec8(255)?.to_vec();
                    e.use_srtp = Some((profiles, mki));
                }
                extension_type::EXTENDED_MASTER_SECRET => e.extended_master_secret = true,
                extension_type::RENEGOTIATION_INFO => e.renegotiation_info = Some(d.vec8(255)?.to_vec()),
                _ => {
                    e.unknown.push((ty, d.rest().to_vec()));
                }
            }
            d.expect_end()?;
        }
        Ok(e)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientHello {
    pub version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cookie: Vec<u8>,
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    pub extensions: Extensions,
}

impl ClientHello {
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.version);
        out.extend_from_slice(&self.random);
        put_vec8(out, &self.session_id);
        put_vec8(out, &self.cookie);
        put_u16_list16(out, &self.cipher_suites);
        put_vec8(out, &self.compression_methods);
        self.extensions.encode(out);
    }
    pub fn decode(body: &[u8]) -> Result<ClientHello, DtlsError> {
        let mut r = Reader::new(body);
        let ch = ClientHello {
            version: r.u16()?,
            random: r.array()?,
            session_id: r.vec8(32)?.to_vec(),
            cookie: r.vec8(255)?.to_vec(),
            cipher_suites: u16_list(r.vec16(usize::from(u16::MAX))?)?,
            compression_methods: r.vec8(255)?.to_vec(),
            extensions: Extensions::decode(&mut r)?,
        };
        r.expect_end()?;
        Ok(ch)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHello {
    pub version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub compression_method: u8,
    pub extensions: Extensions,
}

impl ServerHello {
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.version);
        out.extend_from_slice(&self.random);
        put_vec8(out, &self.session_id);
        put_u16(out, self.cipher_suite);
        out.push(self.compression_method);
        self.extensions.encode(out);
    }
    pub fn decode(body: &[u8]) -> Result<ServerHello, DtlsError> {
        let mut r = Reader::new(body);
        let sh = ServerHello {
            version: r.u16()?,
            random: r.array()?,
            session_id: r.vec8(32)?.to_vec(),
            cipher_suite: r.u16()?,
            compression_method: r.u8()?,
            extensions: Extensions::decode(&mut r)?,
        };
        r.expect_end()?;
        Ok(sh)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelloVerifyRequest {
    pub version: u16,
    pub cookie: Vec<u8>,
}

impl HelloVerifyRequest {
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.version);
        put_vec8(out, &self.cookie);
    }
    pub fn decode(body: &[u8]) -> Result<HelloVerifyRequest, DtlsError> {
        let mut r = Reader::new(body);
        let m = HelloVerifyRequest { version: r.u16()?, cookie: r.vec8(255)?.to_vec() };
        r.expect_end()?;
        Ok(m)
    }
}

/// RFC 5246 §7.4.2: a chain of DER certificates, sender's first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateMsg {
    pub certificates: Vec<Vec<u8>>,
}

impl CertificateMsg {
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut list = Vec::new();
        for c in &self.certificates {
            put_vec24(&mut list, c);
        }
        put_vec24(out, &list);
    }
    pub fn decode(body: &[u8]) -> Result<CertificateMsg, DtlsError> {
        let mut r = Reader::new(body);
        let mut list = Reader::new(r.vec24(MAX_HANDSHAKE_MESSAGE)?);
        r.expect_end()?;
        let mut certificates = Vec::new();
        while !list.is_empty() {
            if certificates.len() >= MAX_CERTIFICATE_CHAIN {
                return Err(DtlsError::Decode);
            }
            let c = list.vec24(crate::crypto::MAX_CERTIFICATE_SIZE)?;
            if c.is_empty() {
                return Err(DtlsError::Decode);
            }
            certificates.push(c.to_vec());
        }
        Ok(CertificateMsg { certificates })
    }
}

/// RFC 8422 §5.4 ServerKeyExchange for ECDHE with a named curve, signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerKeyExchange {
    pub named_group: u16,
    pub public: Vec<u8>,
    pub signature_scheme: u16,
    pub signature: Vec<u8>,
}

impl ServerKeyExchange {
    /// The `ServerECDHParams` bytes (what the signature covers after the randoms).
    pub fn params(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(4 + self.public.len());
        p.push(CURVE_TYPE_NAMED);
        put_u16(&mut p, self.named_group);
        put_vec8(&mut p, &self.public);
        p
    }
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.params());
        put_u16(out, self.signature_scheme);
        put_vec16(out, &self.signature);
    }
    pub fn decode(body: &[u8]) -> Result<ServerKeyExchange, DtlsError> {
        let mut r = Reader::new(body);
        if r.u8()? != CURVE_TYPE_NAMED {
            return Err(DtlsError::IllegalParameter);
        }
        let m = ServerKeyExchange {
            named_group: r.u16()?,
            public: r.vec8(255)?.to_vec(),
            signature_scheme: r.u16()?,
            signature: r.vec16(1024)?.to_vec(),
        };
        r.expect_end()?;
        Ok(m)
    }
}

/// RFC 5246 §7.4.4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRequest {
    pub certificate_types: Vec<u8>,
    pub signature_schemes: Vec<u16>,
    /// DER distinguished names, kept raw.
    pub authorities: Vec<u8>,
}

impl CertificateRequest {
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_vec8(out, &self.certificate_types);
        put_u16_list16(out, &self.signature_schemes);
        put_vec16(out, &self.authorities);
    }
    pub fn decode(body: &[u8]) -> Result<CertificateRequest, DtlsError> {
        let mut r = Reader::new(body);
        let m = CertificateRequest {
            certificate_types: r.vec8(255)?.to_vec(),
            signature_schemes: u16_list(r.vec16(usize::from(u16::MAX))?)?,
            authorities: r.vec16(usize::from(u16::MAX))?.to_vec(),
        };
        r.expect_end()?;
        Ok(m)
    }
}

/// RFC 8422 §5.7: the client's ephemeral ECDH public value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientKeyExchange {
    pub public: Vec<u8>,
}

impl ClientKeyExchange {
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_vec8(out, &self.public);
    }
    pub fn decode(body: &[u8]) -> Result<ClientKeyExchange, DtlsError> {
        let mut r = Reader::new(body);
        let m = ClientKeyExchange { public: r.vec8(255)?.to_vec() };
        r.expect_end()?;
        Ok(m)
    }
}

/// RFC 5246 §7.4.8 (a `DigitallySigned`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateVerify {
    pub signature_scheme: u16,
    pub signature: Vec<u8>,
}

impl CertificateVerify {
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.signature_scheme);
        put_vec16(out, &self.signature);
    }
    pub fn decode(body: &[u8]) -> Result<CertificateVerify, DtlsError> {
        let mut r = Reader::new(body);
        let m = CertificateVerify { signature_scheme: r.u16()?, signature: r.vec16(1024)?.to_vec() };
        r.expect_end()?;
        Ok(m)
    }
}

/// A handshake message with its DTLS header, unfragmented (as it enters the transcript).
pub fn encode_handshake(msg_type: u8, message_seq: u16, body: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(body.len()).unwrap_or(0xff_ffff);
    HandshakeHeader { msg_type, length: len, message_seq, fragment_offset: 0, fragment_length: len }.encode(out);
    out.extend_from_slice(body);
}

/// An alert record body.
pub fn decode_alert(body: &[u8]) -> Result<(u8, u8), DtlsError> {
    let mut r = Reader::new(body);
    let level = r.u8()?;
    let desc = r.u8()?;
    r.expect_end()?;
    Ok((level, desc))
}

/// Fuzzing helper: decodes `data` as a record stream and every handshake message in it;
/// whatever decodes must survive encode -> decode unchanged. Panics only on a codec bug.
#[doc(hidden)]
pub fn fuzz_round_trip(data: &[u8]) {
    fn check<T: PartialEq + core::fmt::Debug>(
        body: &[u8],
        decode: fn(&[u8]) -> Result<T, DtlsError>,
        encode: fn(&T, &mut Vec<u8>),
    ) {
        if let Ok(m) = decode(body) {
            let mut out = Vec::new();
            encode(&m, &mut out);
            assert_eq!(decode(&out).ok().as_ref(), Some(&m));
        }
    }
    let mut r = Reader::new(data);
    while let Ok((h, body)) = RecordHeader::decode(&mut r) {
        let mut out = Vec::new();
        h.encode(&mut out);
        out.extend_from_slice(body);
        assert_eq!(RecordHeader::decode(&mut Reader::new(&out)).ok(), Some((h, body)));
        let mut hr = Reader::new(body);
        while let Ok((hh, msg)) = HandshakeHeader::decode(&mut hr) {
            check(msg, ClientHello::decode, ClientHello::encode);
            check(msg, ServerHello::decode, ServerHello::encode);
            check(msg, HelloVerifyRequest::decode, HelloVerifyRequest::encode);
            check(msg, CertificateMsg::decode, CertificateMsg::encode);
            check(msg, ServerKeyExchange::decode, ServerKeyExchange::encode);
            check(msg, CertificateRequest::decode, CertificateRequest::encode);
            check(msg, ClientKeyExchange::decode, ClientKeyExchange::encode);
            check(msg, CertificateVerify::decode, CertificateVerify::encode);
            let mut out = Vec::new();
            hh.encode(&mut out);
            out.extend_from_slice(msg);
            assert_eq!(HandshakeHeader::decode(&mut Reader::new(&out)).ok(), Some((hh, msg)));
        }
    }
}
