//! The SDP codec (RFC 8866): a tolerant, never-panicking parser and a canonical serializer.
//!
//! Parsing accepts CRLF or LF line endings, blank lines, unknown attributes and unknown line
//! types (all kept), and session- or media-level lines in any order inside their section.
//! It is strict where RFC 8866 §5 is: `v=0` first, then `o=` and `s=`, at least one `t=`
//! before the first `m=`, well-formed `o=`/`c=`/`b=`/`t=`/`m=` lines, and session-only
//! lines never inside a media section. Serialization always writes CRLF in the §5 order.

use core::fmt;

use super::error::{SdpError, SdpErrorKind};

/// Largest description accepted, in bytes.
pub const MAX_SDP_SIZE: usize = 256 * 1024;
/// Longest line accepted, in bytes (without its line ending).
pub const MAX_LINE_LENGTH: usize = 16 * 1024;
/// Most `m=` sections in one description.
pub const MAX_MEDIA_SECTIONS: usize = 64;
/// Most `a=` lines in one section (session or one media section).
pub const MAX_ATTRIBUTES: usize = 1024;
/// Most lines of any other repeatable type (`e=`, `p=`, `b=`, `c=`, `t=`, `r=`, unknown)
/// in one section.
pub const MAX_REPEATED_LINES: usize = 64;
/// Most formats on one `m=` line.
pub const MAX_FORMATS: usize = 256;

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`
/// (RFC 8866 §5.2). `sess-id` and `sess-version` are kept as their decimal text, since
/// some stacks exceed 64 bits; see [`Origin::session_id_u64`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: String,
    pub session_version: String,
    pub nettype: String,
    pub addrtype: String,
    pub address: String,
}

impl Origin {
    /// `sess-id` as a number, when it fits in 64 bits.
    pub fn session_id_u64(&self) -> Option<u64> {
        parse_u64(&self.session_id)
    }
    /// `sess-version` as a number, when it fits in 64 bits.
    pub fn session_version_u64(&self) -> Option<u64> {
        parse_u64(&self.session_version)
    }
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7). The address keeps any
/// `/ttl/count` suffix as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub nettype: String,
    pub addrtype: String,
    pub address: String,
}

/// `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bandwidth {
    pub bwtype: String,
    pub bandwidth: u64,
}

/// `t=<start-time> <stop-time>` and its `r=` lines (kept as text) (RFC 8866 §5.9, §5.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    pub start: u64,
    pub stop: u64,
    pub repeats: Vec<String>,
}

/// `a=<name>[:<value>]` (RFC 8866 §5.13). A flag attribute has `value: None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: Option<String>,
}

impl Attribute {
    pub fn new(name: &str, value: Option<&str>) -> Attribute {
        Attribute { name: name.to_owned(), value: value.map(str::to_owned) }
    }
    pub fn flag(name: &str) -> Attribute {
        Attribute::new(name, None)
    }
    pub fn value(name: &str, value: &str) -> Attribute {
        Attribute::new(name, Some(value))
    }
}

/// A line whose type letter RFC 8866 does not define; kept and written back unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownLine {
    pub ty: char,
    pub value: String,
}

/// The `<media>` field of an `m=` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaType {
    Audio,
    Video,
    Application,
    Other(String),
}

impl MediaType {
    pub fn from_token(s: &str) -> MediaType {
        match s {
            "audio" => MediaType::Audio,
            "video" => MediaType::Video,
            "application" => MediaType::Application,
            other => MediaType::Other(other.to_owned()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            MediaType::Audio => "audio",
            MediaType::Video => "video",
            MediaType::Application => "application",
            MediaType::Other(s) => s,
        }
    }
}

/// One media section: the `m=` line and what follows it (RFC 8866 §5.14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaDescription {
    pub media: MediaType,
    pub port: u16,
    /// The `/<number of ports>` suffix, when present.
    pub port_count: Option<u16>,
    pub proto: String,
    pub formats: Vec<String>,
    pub info: Option<String>,
    pub connections: Vec<Connection>,
    pub bandwidths: Vec<Bandwidth>,
    /// Obsolete `k=` line, kept.
    pub key: Option<String>,
    pub unknown: Vec<UnknownLine>,
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    pub fn new(media: MediaType, port: u16, proto: &str, formats: &[&str]) -> MediaDescription {
        MediaDescription {
            media,
            port,
            port_count: None,
            proto: proto.to_owned(),
            formats: formats.iter().map(|s| (*s).to_owned()).collect(),
            info: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            unknown: Vec::new(),
            attributes: Vec::new(),
        }
    }
    /// The first attribute named `name`: `Some("")` for a flag.
    pub fn attr(&self, name: &str) -> Option<&str> {
        attr(&self.attributes, name)
    }
    /// Every value of the attributes named `name` (`""` for flags).
    pub fn attrs<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        attrs(&self.attributes, name)
    }
    pub fn has_attr(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a.name == name)
    }
    /// The `a=mid` value.
    pub fn mid(&self) -> Option<&str> {
        self.attr("mid")
    }
}

/// A whole session description (RFC 8866 §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription {
    /// `v=`; always 0 once parsed.
    pub version: u32,
    pub origin: Origin,
    pub session_name: String,
    pub info: Option<String>,
    pub uri: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub connection: Option<Connection>,
    pub bandwidths: Vec<Bandwidth>,
    pub timings: Vec<Timing>,
    /// `z=` line, kept as text.
    pub time_zones: Option<String>,
    /// Obsolete `k=` line, kept.
    pub key: Option<String>,
    pub unknown: Vec<UnknownLine>,
    pub attributes: Vec<Attribute>,
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// The first session-level attribute named `name`: `Some("")` for a flag.
    pub fn attr(&self, name: &str) -> Option<&str> {
        attr(&self.attributes, name)
    }
    /// Every value of the session-level attributes named `name` (`""` for flags).
    pub fn attrs<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        attrs(&self.attributes, name)
    }
    pub fn has_attr(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a.name == name)
    }

    /// Parse an SDP text. Never panics; see the module docs for what is tolerated.
    pub fn parse(text: &str) -> Result<SessionDescription, SdpError> {
        parse(text)
    }

    /// Parse SDP bytes (must be UTF-8).
    pub fn parse_bytes(bytes: &[u8]) -> Result<SessionDescription, SdpError> {
        if bytes.len() > MAX_SDP_SIZE {
            return Err(SdpError::new(0, SdpErrorKind::TooLarge));
        }
        let text = core::str::from_utf8(bytes).map_err(|_| SdpError::new(0, SdpErrorKind::NotUtf8))?;
        parse(text)
    }

    /// Serialize with CRLF line endings in RFC 8866 §5 order (same as `to_string()`).
    pub fn serialize(&self) -> String {
        self.to_string()
    }
}

/// Fuzz entry: parse, and if that succeeds, serialize and parse again; the two models must
/// be equal. Panics only on a round-trip mismatch (a bug), never on bad input.
#[doc(hidden)]
pub fn fuzz_round_trip(data: &[u8]) {
    if let Ok(d) = SessionDescription::parse_bytes(data) {
        let again = SessionDescription::parse(&d.serialize());
        assert_eq!(again.as_ref(), Ok(&d), "SDP round trip changed the model");
    }
}

fn attr<'a>(list: &'a [Attribute], name: &str) -> Option<&'a str> {
    list.iter().find(|a| a.name == name).map(|a| a.value.as_deref().unwrap_or(""))
}

fn attrs<'a>(list: &'a [Attribute], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    list.iter().filter(move |a| a.name == name).map(|a| a.value.as_deref().unwrap_or(""))
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

/// Decimal digits only, at most 20 of them, no overflow.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub(crate) fn parse_u16(s: &str) -> Option<u16> {
    parse_u64(s).and_then(|v| u16::try_from(v).ok())
}

/// RFC 8866 §9 `token-char`.
pub(crate) fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`{|}~".contains(c)
}

pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

fn fields(value: &str) -> impl Iterator<Item = &str> {
    value.split(' ').filter(|f| !f.is_empty())
}

fn fields_exact<const N: usize>(value: &str) -> Option<[&str; N]> {
    let mut out = [""; N];
    let mut it = fields(value);
    for slot in out.iter_mut() {
        *slot = it.next()?;
    }
    if it.next().is_some() {
        return None;
    }
    Some(out)
}

fn parse_connection(line: usize, v: &str) -> Result<Connection, SdpError> {
    let err = || SdpError::new(line, SdpErrorKind::BadConnection);
    let [nettype, addrtype, address] = fields_exact::<3>(v).ok_or_else(err)?;
    if !is_token(nettype) || !is_token(addrtype) {
        return Err(err());
    }
    Ok(Connection { nettype: nettype.to_owned(), addrtype: addrtype.to_owned(), address: address.to_owned() })
}

fn parse_bandwidth(line: usize, v: &str) -> Result<Bandwidth, SdpError> {
    let err = || SdpError::new(line, SdpErrorKind::BadBandwidth);
    let (ty, bw) = v.split_once(':').ok_or_else(err)?;
    if !is_token(ty) {
        return Err(err());
    }
    let bandwidth = parse_u64(bw.trim()).ok_or_else(err)?;
    Ok(Bandwidth { bwtype: ty.to_owned(), bandwidth })
}

fn parse_attribute(line: usize, v: &str) -> Result<Attribute, SdpError> {
    let (name, value) = match v.split_once(':') {
        Some((n, val)) => (n, Some(val)),
        None => (v, None),
    };
    if !is_token(name) {
        return Err(SdpError::new(line, SdpErrorKind::BadAttribute));
    }
    Ok(Attribute::new(name, value))
}

fn parse_media_line(line: usize, v: &str) -> Result<MediaDescription, SdpError> {
    let err = || SdpError::new(line, SdpErrorKind::BadMediaLine);
    let mut it = fields(v);
    let media = it.next().filter(|m| is_token(m)).ok_or_else(err)?;
    let port_field = it.next().ok_or_else(err)?;
    let (port, port_count) = match port_field.split_once('/') {
        Some((p, n)) => (parse_u16(p).ok_or_else(err)?, Some(parse_u16(n).ok_or_else(err)?)),
        None => (parse_u16(port_field).ok_or_else(err)?, None),
    };
    let proto = it.next().ok_or_else(err)?;
    if !proto.split('/').all(is_token) {
        return Err(err());
    }
    let mut formats = Vec::new();
    for f in it {
        if formats.len() >= MAX_FORMATS {
            return Err(SdpError::new(line, SdpErrorKind::TooManyFields));
        }
        if !is_token(f) {
            return Err(err());
        }
        formats.push(f.to_owned());
    }
    if formats.is_empty() {
        return Err(err());
    }
    let mut m = MediaDescription::new(MediaType::from_token(media), port, proto, &[]);
    m.port_count = port_count;
    m.formats = formats;
    Ok(m)
}

fn parse_origin(line: usize, v: &str) -> Result<Origin, SdpError> {
    let err = || SdpError::new(line, SdpErrorKind::BadOrigin);
    let [username, id, ver, nettype, addrtype, address] = fields_exact::<6>(v).ok_or_else(err)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(id) || !digits(ver) || !is_token(nettype) || !is_token(addrtype) {
        return Err(err());
    }
    Ok(Origin {
        username: username.to_owned(),
        session_id: id.to_owned(),
        session_version: ver.to_owned(),
        nettype: nettype.to_owned(),
        addrtype: addrtype.to_owned(),
        address: address.to_owned(),
    })
}

fn push_bounded<T>(line: usize, list: &mut Vec<T>, item: T, max: usize, kind: SdpErrorKind) -> Result<(), SdpError> {
    if list.len() >= max {
        return Err(SdpError::new(line, kind));
    }
    list.push(item);
    Ok(())
}

fn set_once(line: usize, slot: &mut Option<String>, v: &str, ty: char) -> Result<(), SdpError> {
    if slot.is_some() {
        return Err(SdpError::new(line, SdpErrorKind::UnexpectedLine(ty)));
    }
    *slot = Some(v.to_owned());
    Ok(())
}

/// Split into `(line number, type, value)`, skipping blank lines.
fn lines(text: &str) -> impl Iterator<Item = (usize, Result<(char, &str), SdpError>)> {
    text.split('\n').enumerate().filter_map(|(i, raw)| {
        let n = i + 1;
        let l = raw.strip_suffix('\r').unwrap_or(raw);
        if l.trim().is_empty() {
            return None;
        }
        if l.len() > MAX_LINE_LENGTH {
            return Some((n, Err(SdpError::new(n, SdpErrorKind::LineTooLong))));
        }
        let mut chars = l.chars();
        let ty = chars.next();
        let eq = chars.next();
        let value = chars.as_str();
        let ok = matches!(ty, Some(c) if c.is_ascii_lowercase()) && eq == Some('=') && !value.contains(['\0', '\r']);
        match (ok, ty) {
            (true, Some(c)) => Some((n, Ok((c, value)))),
            _ => Some((n, Err(SdpError::new(n, SdpErrorKind::MalformedLine)))),
        }
    })
}

fn parse(text: &str) -> Result<SessionDescription, SdpError> {
    if text.len() > MAX_SDP_SIZE {
        return Err(SdpError::new(0, SdpErrorKind::TooLarge));
    }
    let mut it = lines(text);

    // v=0, o=, s= must be the first three lines (RFC 8866 §5).
    let (n, first) = it.next().ok_or(SdpError::new(0, SdpErrorKind::Empty))?;
    let (ty, v) = first?;
    if ty != 'v' {
        return Err(SdpError::new(n, SdpErrorKind::MissingVersion));
    }
    if v.trim() != "0" {
        return Err(SdpError::new(n, SdpErrorKind::UnsupportedVersion));
    }
    let (n, second) = it.next().ok_or(SdpError::new(n, SdpErrorKind::MissingOrigin))?;
    let (ty, v) = second?;
    if ty != 'o' {
        return Err(SdpError::new(n, SdpErrorKind::MissingOrigin));
    }
    let origin = parse_origin(n, v)?;
    let (n, third) = it.next().ok_or(SdpError::new(n, SdpErrorKind::MissingSessionName))?;
    let (ty, v) = third?;
    if ty != 's' {
        return Err(SdpError::new(n, SdpErrorKind::MissingSessionName));
    }
    let mut sd = SessionDescription {
        version: 0,
        origin,
        session_name: v.to_owned(),
        info: None,
        uri: None,
        emails: Vec::new(),
        phones: Vec::new(),
        connection: None,
        bandwidths: Vec::new(),
        timings: Vec::new(),
        time_zones: None,
        key: None,
        unknown: Vec::new(),
        attributes: Vec::new(),
        media: Vec::new(),
    };
    let mut last_line = n;

    for (n, item) in it {
        last_line = n;
        let (ty, v) = item?;
        let unexpected = SdpError::new(n, SdpErrorKind::UnexpectedLine(ty));
        if ty == 'm' {
            if sd.timings.is_empty() {
                return Err(SdpError::new(n, SdpErrorKind::MissingTiming));
            }
            if sd.media.len() >= MAX_MEDIA_SECTIONS {
                return Err(SdpError::new(n, SdpErrorKind::TooManyMediaSections));
            }
            sd.media.push(parse_media_line(n, v)?);
            continue;
        }
        if let Some(m) = sd.media.last_mut() {
            match ty {
                'i' => set_once(n, &mut m.info, v, ty)?,
                'c' => {
                    let c = parse_connection(n, v)?;
                    push_bounded(n, &mut m.connections, c, MAX_REPEATED_LINES, SdpErrorKind::TooManyFields)?
                }
                'b' => {
                    let b = parse_bandwidth(n, v)?;
                    push_bounded(n, &mut m.bandwidths, b, MAX_REPEATED_LINES, SdpErrorKind::TooManyFields)?
                }
                'k' => set_once(n, &mut m.key, v, ty)?,
                'a' => {
                    let a = parse_attribute(n, v)?;
                    push_bounded(n, &mut m.attributes, a, MAX_ATTRIBUTES, SdpErrorKind::TooManyAttributes)?
                }
                'v' | 'o' | 's' | 'u' | 'e' | 'p' | 't' | 'r' | 'z' => return Err(unexpected),
                _ => {
                    let u = UnknownLine { ty, value: v.to_owned() };
                    push_bounded(n, &mut m.unknown, u, MAX_REPEATED_LINES, SdpErrorKind::TooManyFields)?
                }
            }
            continue;
        }
        match ty {
            'i' => set_once(n, &mut sd.info, v, ty)?,
            'u' => set_once(n, &mut sd.uri, v, ty)?,
            'e' => push_bounded(n, &mut sd.emails, v.to_owned(), MAX_REPEATED_LINES, SdpErrorKind::TooManyFields)?,
            'p' => push_bounded(n, &mut sd.phones, v.to_owned(), MAX_REPEATED_LINES, SdpErrorKind::TooManyFields)?,
            'c' => {
                if sd.connection.is_some() {
                    return Err(SdpError::new(n, SdpErrorKind::BadConnection));
                }
                sd.connection = Some(parse_connection(n, v)?);
            }
            'b' => {
                let b = parse_bandwidth(n, v)?;
                push_bounded(n, &mut sd.bandwidths, b, MAX_REPEATED_LINES, SdpErrorKind::TooManyFields)?
            }
            't' => {
                let err = || SdpError::new(n, SdpErrorKind::BadTiming);
                let [start, stop] = fields_exact::<2>(v).ok_or_else(err)?;
                let t = Timing {
                    start: parse_u64(start).ok_or_else(err)?,
                    stop: parse_u64(stop).ok_or_else(err)?,
                    repeats: Vec::new(),
                };
                push_bounded(n, &mut sd.timings, t, MAX_REPEATED_LINES, SdpErrorKind::TooManyFields)?
            }
            'r' => {
                let t = sd.timings.last_mut().ok_or(unexpected)?;
                if v.trim().is_empty() {
                    return Err(SdpError::new(n, SdpErrorKind::BadTiming));
                }
                push_bounded(n, &mut t.repeats, v.to_owned(), MAX_REPEATED_LINES, SdpErrorKind::TooManyFields)?
            }
            'z' => {
                if sd.timings.is_empty() {
                    return Err(unexpected);
                }
                set_once(n, &mut sd.time_zones, v, ty)?
            }
            'k' => set_once(n, &mut sd.key, v, ty)?,
            'a' => {
                let a = parse_attribute(n, v)?;
                push_bounded(n, &mut sd.attributes, a, MAX_ATTRIBUTES, SdpErrorKind::TooManyAttributes)?
            }
            'v' | 'o' | 's' => return Err(unexpected),
            _ => {
                let u = UnknownLine { ty, value: v.to_owned() };
                push_bounded(n, &mut sd.unknown, u, MAX_REPEATED_LINES, SdpErrorKind::TooManyFields)?
            }
        }
    }
    if sd.timings.is_empty() {
        return Err(SdpError::new(last_line, SdpErrorKind::MissingTiming));
    }
    Ok(sd)
}

// ---------------------------------------------------------------------------------------
// Serialization
// ---------------------------------------------------------------------------------------

fn line(f: &mut fmt::Formatter<'_>, ty: char, v: &str) -> fmt::Result {
    write!(f, "{ty}={v}\r\n")
}

fn write_common(
    f: &mut fmt::Formatter<'_>,
    key: &Option<String>,
    unknown: &[UnknownLine],
    attributes: &[Attribute],
) -> fmt::Result {
    if let Some(k) = key {
        line(f, 'k', k)?;
    }
    for u in unknown {
        line(f, u.ty, &u.value)?;
    }
    for a in attributes {
        match &a.value {
            Some(v) => write!(f, "a={}:{}\r\n", a.name, v)?,
            None => write!(f, "a={}\r\n", a.name)?,
        }
    }
    Ok(())
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.nettype, self.addrtype, self.address)
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.bwtype, self.bandwidth)
    }
}

impl fmt::Display for MediaDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.media.as_str(), self.port)?;
        if let Some(n) = self.port_count {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.proto)?;
        for fmt_ in &self.formats {
            write!(f, " {fmt_}")?;
        }
        f.write_str("\r\n")?;
        if let Some(i) = &self.info {
            line(f, 'i', i)?;
        }
        for c in &self.connections {
            write!(f, "c={c}\r\n")?;
        }
        for b in &self.bandwidths {
            write!(f, "b={b}\r\n")?;
        }
        write_common(f, &self.key, &self.unknown, &self.attributes)
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        write!(f, "v={}\r\n", self.version)?;
        write!(
            f,
            "o={} {} {} {} {} {}\r\n",
            o.username, o.session_id, o.session_version, o.nettype, o.addrtype, o.address
        )?;
        line(f, 's', &self.session_name)?;
        if let Some(i) = &self.info {
            line(f, 'i', i)?;
        }
        if let Some(u) = &self.uri {
            line(f, 'u', u)?;
        }
        for e in &self.emails {
            line(f, 'e', e)?;
        }
        for p in &self.phones {
            line(f, 'p', p)?;
        }
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        for b in &self.bandwidths {
            write!(f, "b={b}\r\n")?;
        }
        for t in &self.timings {
            write!(f, "t={} {}\r\n", t.start, t.stop)?;
            for r in &t.repeats {
                line(f, 'r', r)?;
            }
        }
        if let Some(z) = &self.time_zones {
            line(f, 'z', z)?;
        }
        write_common(f, &self.key, &self.unknown, &self.attributes)?;
        for m in &self.media {
            m.fmt(f)?;
        }
        Ok(())
    }
}
