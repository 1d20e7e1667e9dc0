//! Audio and video media sections: what an `m=audio` / `m=video` section says about RTP, read
//! into a [`MediaSection`] and written back, our codec and header-extension capabilities, and
//! the answerer's negotiation of one section (JSEP §5.3.1, RFC 8829).
//!
//! Read: `a=rtpmap` / `a=fmtp` (RFC 8866 §6.6, §6.15), `a=rtcp-fb` (RFC 4585 §4.2), RTX
//! codecs folded into the codec they repair (`apt`, RFC 4588 §8.6), `a=extmap` (RFC 8285 §5),
//! the direction (RFC 8866 §6.7), `a=rtcp-mux` / `a=rtcp-rsize` (RFC 5761, RFC 5506),
//! `a=msid` (RFC 8830), `a=ssrc` / `a=ssrc-group` (RFC 5576), `a=rid` / `a=simulcast`
//! (RFC 8851, RFC 8853). What a section gets wrong is a [`MediaError`]; attributes we do not
//! use are left alone (the section keeps them).
//!
//! Bounds: [`MAX_CODECS`], [`MAX_RTCP_FB`], [`MAX_EXTENSIONS`], [`MAX_SSRCS`], [`MAX_RIDS`],
//! [`MAX_MSIDS`] per section.

use core::fmt;

use super::wire::{Attribute, MediaDescription, MediaType};

/// Codecs (rtpmap entries, RTX included) read from one section.
pub const MAX_CODECS: usize = 64;
/// `a=rtcp-fb` values kept per codec.
pub const MAX_RTCP_FB: usize = 16;
/// `a=extmap` lines kept per section.
pub const MAX_EXTENSIONS: usize = 32;
/// `a=ssrc` SSRCs (and `a=ssrc-group` groups) kept per section.
pub const MAX_SSRCS: usize = 64;
/// `a=rid` lines kept per section (simulcast layers).
pub const MAX_RIDS: usize = 16;
/// `a=msid` lines kept per section.
pub const MAX_MSIDS: usize = 16;
/// The RTP/AVPF profile over DTLS-SRTP that WebRTC uses (RFC 5764 §8, JSEP §5.1.2).
pub const PROTO_RTP_SAVPF: &str = "UDP/TLS/RTP/SAVPF";

/// What is wrong with a media section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaError {
    /// An `a=rtpmap` / `a=fmtp` / `a=rtcp-fb` / `a=extmap` / `a=ssrc` / `a=rid` value that does
    /// not parse (the attribute is named).
    BadAttribute(&'static str),
    /// Two `a=extmap` lines with one id, or an id outside 1..=255 (RFC 8285 §5).
    BadExtensionId,
    /// Two `a=rtpmap` lines for one payload type.
    DuplicatePayloadType,
    /// The `m=` line lists a payload type outside 0..=127.
    BadPayloadType,
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaError::BadAttribute(a) => write!(f, "malformed a={a}"),
            MediaError::BadExtensionId => f.write_str("bad or repeated a=extmap id"),
            MediaError::DuplicatePayloadType => f.write_str("a payload type is mapped twice"),
            MediaError::BadPayloadType => f.write_str("a payload type is not 0..=127"),
        }
    }
}

/// `audio` or `video`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Audio,
    Video,
}

impl MediaKind {
    pub fn from_media_type(t: &MediaType) -> Option<MediaKind> {
        match t {
            MediaType::Audio => Some(MediaKind::Audio),
            MediaType::Video => Some(MediaKind::Video),
            _ => None,
        }
    }

    pub fn media_type(self) -> MediaType {
        match self {
            MediaKind::Audio => MediaType::Audio,
            MediaKind::Video => MediaType::Video,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }
}

/// The direction attribute of a section (`RTCRtpTransceiverDirection` minus `stopped`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    pub fn from_parts(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same direction seen from the other end.
    pub fn reverse(self) -> Direction {
        Direction::from_parts(self.receives(), self.sends())
    }

    /// JSEP §5.3.1: the answer's direction, from what the offer allows and what we want
    /// (a transceiver's direction): we send only if the offerer receives, and receive only if
    /// it sends.
    pub fn answer(offered: Direction, wanted: Direction) -> Direction {
        Direction::from_parts(wanted.sends() && offered.receives(), wanted.receives() && offered.sends())
    }
}

/// One codec of a section: an `a=rtpmap` with its `a=fmtp` and `a=rtcp-fb` lines, and the
/// payload type of its RTX codec if the section has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Codec {
    pub payload_type: u8,
    /// The encoding name as written (`opus`, `VP8`, `H264`, ...); compared case-insensitively.
    pub name: String,
    pub clock_rate: u32,
    /// Audio channels (`None`: not written, which means 1).
    pub channels: Option<u16>,
    /// The `a=fmtp` parameters in order (`key=value`; a bare token keeps an empty value).
    pub fmtp: Vec<(String, String)>,
    /// `a=rtcp-fb` values (`nack`, `nack pli`, `ccm fir`, `goog-remb`, `transport-cc`, ...).
    pub rtcp_fb: Vec<String>,
    /// Payload type of the `rtx` codec whose `apt` is this codec.
    pub rtx: Option<u8>,
}

impl Codec {
    pub fn new(payload_type: u8, name: &str, clock_rate: u32, channels: Option<u16>) -> Codec {
        Codec {
            payload_type,
            name: name.to_owned(),
            clock_rate,
            channels,
            fmtp: Vec::new(),
            rtcp_fb: Vec::new(),
            rtx: None,
        }
    }

    pub fn with_fmtp(mut self, fmtp: &str) -> Codec {
        self.fmtp = parse_fmtp(fmtp);
        self
    }

    fn with_fb(mut self, fb: &[&str]) -> Codec {
        self.rtcp_fb = fb.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    fn with_rtx(mut self, pt: u8) -> Codec {
        self.rtx = Some(pt);
        self
    }

    /// `audio/opus`, `video/VP8`, ... (W3C `RTCRtpCodec.mimeType`).
    pub fn mime_type(&self, kind: MediaKind) -> String {
        format!("{}/{}", kind.as_str(), self.name)
    }

    pub fn fmtp_value(&self, key: &str) -> Option<&str> {
        self.fmtp.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }

    /// The `a=fmtp` line value (`key=value;key=value`), empty without parameters.
    pub fn fmtp_line(&self) -> String {
        let parts: Vec<String> =
            self.fmtp.iter().map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k}={v}") }).collect();
        parts.join(";")
    }

    fn is_rtx(&self) -> bool {
        self.name.eq_ignore_ascii_case("rtx")
    }

    /// Whether `self` (ours) and `other` (the remote's) are the same codec (RFC 8829 §5.3.1
    /// matching: name, clock rate, channels, and the format parameters that change the
    /// bitstream: H.264's packetization-mode and profile, VP9's and AV1's profile).
    pub fn matches(&self, other: &Codec) -> bool {
        if !self.name.eq_ignore_ascii_case(&other.name)
            || self.clock_rate != other.clock_rate
            || self.channels.unwrap_or(1) != other.channels.unwrap_or(1)
        {
            return false;
        }
        let param = |c: &Codec, k: &str, default: &str| c.fmtp_value(k).unwrap_or(default).to_ascii_lowercase();
        if self.name.eq_ignore_ascii_case("H264") {
            param(self, "packetization-mode", "0") == param(other, "packetization-mode", "0")
                && h264_profile(&param(self, "profile-level-id", "42000a"))
                    == h264_profile(&param(other, "profile-level-id", "42000a"))
        } else if self.name.eq_ignore_ascii_case("VP9") {
            param(self, "profile-id", "0") == param(other, "profile-id", "0")
        } else if self.name.eq_ignore_ascii_case("AV1") {
            param(self, "profile", "0") == param(other, "profile", "0")
        } else {
            true
        }
    }
}

/// The H.264 profile a `profile-level-id` names (RFC 6184 §8.1: profile_idc and the constraint
/// flags that change it; the level is the third byte and does not): constrained baseline is
/// baseline with constraint_set1 (`42e0`, `42c0`, `4240`... with bit 0x40 set).
fn h264_profile(plid: &str) -> Option<(u8, bool)> {
    if plid.len() != 6 {
        return None;
    }
    let idc = u8::from_str_radix(&plid[0..2], 16).ok()?;
    let iop = u8::from_str_radix(&plid[2..4], 16).ok()?;
    let constrained = match idc {
        0x42 | 0x4d | 0x58 => iop & 0x40 != 0,
        0x64 => iop & 0x0c == 0x0c,
        _ => false,
    };
    Some((idc, constrained))
}

fn parse_fmtp(v: &str) -> Vec<(String, String)> {
    v.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect()
}

/// An `a=extmap` (RFC 8285 §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderExtension {
    pub id: u8,
    pub uri: String,
    /// The optional direction after the id (`a=extmap:3/sendonly uri`).
    pub direction: Option<Direction>,
}

impl HeaderExtension {
    pub fn new(id: u8, uri: &str) -> HeaderExtension {
        HeaderExtension { id, uri: uri.to_owned(), direction: None }
    }
}

/// The header extensions we use (W3C `RTCRtpHeaderExtensionCapability.uri`).
pub mod ext {
    pub const MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
    pub const RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    pub const REPAIRED_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    pub const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    pub const TRANSPORT_CC: &str = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    pub const AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
}

/// One `a=ssrc:<id>` with the attributes we read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ssrc {
    pub ssrc: u32,
    pub cname: Option<String>,
    /// `a=ssrc:<id> msid:<stream> <track>` (the pre-RFC 8830 form some stacks still send).
    pub msid: Option<String>,
}

/// One `a=rid` (RFC 8851 §4): an RTP stream id and the direction it is sent in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rid {
    pub id: String,
    /// `send` (the section's writer sends it) or `recv`.
    pub send: bool,
    /// Restrictions after the direction (`pt=96;max-width=640`), as written.
    pub params: String,
}

/// What an audio or video section says about RTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaSection {
    pub kind: MediaKind,
    pub mid: Option<String>,
    pub direction: Direction,
    /// Codecs in the `m=` line's order, RTX folded into [`Codec::rtx`].
    pub codecs: Vec<Codec>,
    pub extensions: Vec<HeaderExtension>,
    pub rtcp_mux: bool,
    pub rtcp_rsize: bool,
    /// `a=msid:<stream id> <track id>` values (stream id `-` means none).
    pub msids: Vec<(String, String)>,
    pub ssrcs: Vec<Ssrc>,
    /// `a=ssrc-group:<semantics> <ssrc>...` (FID pairs a media SSRC with its RTX one).
    pub ssrc_groups: Vec<(String, Vec<u32>)>,
    pub rids: Vec<Rid>,
    /// `a=simulcast` as written (RFC 8853).
    pub simulcast: Option<String>,
}

fn bad(attr: &'static str) -> MediaError {
    MediaError::BadAttribute(attr)
}

fn parse_pt(s: &str) -> Result<u8, MediaError> {
    s.trim().parse::<u8>().ok().filter(|p| *p <= 127).ok_or(MediaError::BadPayloadType)
}

impl MediaSection {
    /// Reads an `m=audio` / `m=video` section (`None` for any other media type).
    pub fn parse(m: &MediaDescription) -> Result<Option<MediaSection>, MediaError> {
        let Some(kind) = MediaKind::from_media_type(&m.media) else { return Ok(None) };
        let mut pts = Vec::new();
        for f in &m.formats {
            pts.push(parse_pt(f)?);
        }
        let mut codecs: Vec<Codec> = Vec::new();
        for v in m.attrs("rtpmap") {
            let (pt, rest) = v.split_once(' ').ok_or(bad("rtpmap"))?;
            let pt = parse_pt(pt)?;
            let mut parts = rest.trim().split('/');
            let name = parts.next().filter(|n| !n.is_empty()).ok_or(bad("rtpmap"))?;
            let clock_rate = parts.next().and_then(|c| c.parse::<u32>().ok()).filter(|c| *c > 0).ok_or(bad("rtpmap"))?;
            let channels = match parts.next() {
                Some(c) => Some(c.parse::<u16>().ok().filter(|c| *c > 0).ok_or(bad("rtpmap"))?),
                None => None,
            };
            if codecs.iter().any(|c| c.payload_type == pt) {
                return Err(MediaError::DuplicatePayloadType);
            }
            // Only payload types the m= line lists count (RFC 8866 §6.6).
            if pts.contains(&pt) && codecs.len() < MAX_CODECS {
                codecs.push(Codec::new(pt, name, clock_rate, channels));
            }
        }
        for v in m.attrs("fmtp") {
            let (pt, params) = v.split_once(' ').ok_or(bad("fmtp"))?;
            let pt = parse_pt(pt)?;
            if let Some(c) = codecs.iter_mut().find(|c| c.payload_type == pt) {
                c.fmtp = parse_fmtp(params);
            }
        }
        for v in m.attrs("rtcp-fb") {
            let (pt, fb) = v.split_once(' ').ok_or(bad("rtcp-fb"))?;
            let fb = fb.trim();
            if fb.is_empty() {
                return Err(bad("rtcp-fb"));
            }
            let targets: Vec<&mut Codec> = if pt.trim() == "*" {
                codecs.iter_mut().collect()
            } else {
                let pt = parse_pt(pt)?;
                codecs.iter_mut().filter(|c| c.payload_type == pt).collect()
            };
            for c in targets {
                if c.rtcp_fb.len() < MAX_RTCP_FB && !c.rtcp_fb.iter().any(|f| f == fb) {
                    c.rtcp_fb.push(fb.to_owned());
                }
            }
        }
        // RTX (RFC 4588 §8.6): `apt` names the codec it repairs; the RTX entries are folded in.
        let rtx: Vec<(u8, u8)> = codecs
            .iter()
            .filter(|c| c.is_rtx())
            .filter_map(|c| Some((c.payload_type, c.fmtp_value("apt")?.parse::<u8>().ok()?)))
            .collect();
        codecs.retain(|c| !c.is_rtx());
        for (rtx_pt, apt) in rtx {
            if let Some(c) = codecs.iter_mut().find(|c| c.payload_type == apt) {
                c.rtx.get_or_insert(rtx_pt);
            }
        }
        // Keep the m= line's order (its preference order).
        codecs.sort_by_key(|c| pts.iter().position(|p| *p == c.payload_type));

        let mut extensions: Vec<HeaderExtension> = Vec::new();
        for v in m.attrs("extmap") {
            let (head, uri) = v.split_once(' ').ok_or(bad("extmap"))?;
            let uri = uri.split_ascii_whitespace().next().ok_or(bad("extmap"))?;
            let (id, dir) = match head.split_once('/') {
                Some((id, d)) => (id, Some(Direction::parse(d).ok_or(bad("extmap"))?)),
                None => (head, None),
            };
            let id = id.parse::<u8>().ok().filter(|i| *i >= 1).ok_or(MediaError::BadExtensionId)?;
            if extensions.iter().any(|e| e.id == id) {
                return Err(MediaError::BadExtensionId);
            }
            if extensions.len() < MAX_EXTENSIONS {
                extensions.push(HeaderExtension { id, uri: uri.to_owned(), direction: dir });
            }
        }

        let mut direction = Direction::SendRecv;
        for a in &m.attributes {
            if a.value.is_none() {
                if let Some(d) = Direction::parse(&a.name) {
                    direction = d;
                }
            }
        }

        let mut msids = Vec::new();
        for v in m.attrs("msid").take(MAX_MSIDS) {
            let mut it = v.split_ascii_whitespace();
            let stream = it.next().ok_or(bad("msid"))?;
            let track = it.next().unwrap_or("");
            msids.push((stream.to_owned(), track.to_owned()));
        }

        let mut ssrcs: Vec<Ssrc> = Vec::new();
        for v in m.attrs("ssrc") {
            let (id, rest) = v.split_once(' ').unwrap_or((v, ""));
            let ssrc = id.trim().parse::<u32>().map_err(|_| bad("ssrc"))?;
            let idx = match ssrcs.iter().position(|s| s.ssrc == ssrc) {
                Some(i) => i,
                None if ssrcs.len() < MAX_SSRCS => {
                    ssrcs.push(Ssrc { ssrc, cname: None, msid: None });
                    ssrcs.len() - 1
                }
                None => continue,
            };
            let (name, value) = rest.split_once(':').unwrap_or((rest, ""));
            match name.trim() {
                "cname" => ssrcs[idx].cname = Some(value.trim().to_owned()),
                "msid" => ssrcs[idx].msid = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let mut ssrc_groups = Vec::new();
        for v in m.attrs("ssrc-group").take(MAX_SSRCS) {
            let mut it = v.split_ascii_whitespace();
            let semantics = it.next().ok_or(bad("ssrc-group"))?;
            let ids: Result<Vec<u32>, _> = it.take(MAX_SSRCS).map(|s| s.parse::<u32>()).collect();
            ssrc_groups.push((semantics.to_owned(), ids.map_err(|_| bad("ssrc-group"))?));
        }

        let mut rids = Vec::new();
        for v in m.attrs("rid").take(MAX_RIDS) {
            let mut it = v.splitn(3, ' ');
            let id = it.next().filter(|s| is_rid_id(s)).ok_or(bad("rid"))?;
            let send = match it.next() {
                Some("send") => true,
                Some("recv") => false,
                _ => return Err(bad("rid")),
            };
            rids.push(Rid { id: id.to_owned(), send, params: it.next().unwrap_or("").trim().to_owned() });
        }

        Ok(Some(MediaSection {
            kind,
            mid: m.mid().map(str::to_owned),
            direction,
            codecs,
            extensions,
            rtcp_mux: m.has_attr("rtcp-mux"),
            rtcp_rsize: m.has_attr("rtcp-rsize"),
            msids,
            ssrcs,
            ssrc_groups,
            rids,
            simulcast: m.attr("simulcast").map(|s| s.trim().to_owned()),
        }))
    }

    /// The section's `m=` line formats (each codec, then its RTX).
    pub fn formats(&self) -> Vec<String> {
        let mut f = Vec::new();
        for c in &self.codecs {
            f.push(c.payload_type.to_string());
            if let Some(r) = c.rtx {
                f.push(r.to_string());
            }
        }
        f
    }

    /// Appends the RTP attributes of this section to `m` (after whatever transport attributes
    /// the caller wrote): direction, `a=msid`, `a=rtcp-mux`, `a=rtcp-rsize`, then for each codec
    /// `a=rtpmap`, `a=rtcp-fb`, `a=fmtp` and its RTX, then `a=extmap`, `a=ssrc-group`, `a=ssrc`,
    /// `a=rid` and `a=simulcast`. Sets the `m=` line's formats.
    pub fn write(&self, m: &mut MediaDescription) {
        m.formats = self.formats();
        let a = &mut m.attributes;
        for e in &self.extensions {
            let head = match e.direction {
                Some(d) => format!("{}/{}", e.id, d.as_str()),
                None => e.id.to_string(),
            };
            a.push(Attribute::value("extmap", &format!("{head} {}", e.uri)));
        }
        a.push(Attribute::flag(self.direction.as_str()));
        for (stream, track) in &self.msids {
            a.push(Attribute::value("msid", &format!("{stream} {track}")));
        }
        if self.rtcp_mux {
            a.push(Attribute::flag("rtcp-mux"));
        }
        if self.rtcp_rsize {
            a.push(Attribute::flag("rtcp-rsize"));
        }
        for c in &self.codecs {
            let map = match c.channels {
                Some(ch) => format!("{} {}/{}/{}", c.payload_type, c.name, c.clock_rate, ch),
                None => format!("{} {}/{}", c.payload_type, c.name, c.clock_rate),
            };
            a.push(Attribute::value("rtpmap", &map));
            for fb in &c.rtcp_fb {
                a.push(Attribute::value("rtcp-fb", &format!("{} {fb}", c.payload_type)));
            }
            if !c.fmtp.is_empty() {
                a.push(Attribute::value("fmtp", &format!("{} {}", c.payload_type, c.fmtp_line())));
            }
            if let Some(r) = c.rtx {
                a.push(Attribute::value("rtpmap", &format!("{r} rtx/{}", c.clock_rate)));
                a.push(Attribute::value("fmtp", &format!("{r} apt={}", c.payload_type)));
            }
        }
        for (semantics, ids) in &self.ssrc_groups {
            let ids: Vec<String> = ids.iter().map(u32::to_string).collect();
            a.push(Attribute::value("ssrc-group", &format!("{semantics} {}", ids.join(" "))));
        }
        for s in &self.ssrcs {
            if let Some(c) = &s.cname {
                a.push(Attribute::value("ssrc", &format!("{} cname:{c}", s.ssrc)));
            }
            if let Some(ms) = &s.msid {
                a.push(Attribute::value("ssrc", &format!("{} msid:{ms}", s.ssrc)));
            }
        }
        for r in &self.rids {
            let dir = if r.send { "send" } else { "recv" };
            let v = if r.params.is_empty() { format!("{} {dir}", r.id) } else { format!("{} {dir} {}", r.id, r.params) };
            a.push(Attribute::value("rid", &v));
        }
        if let Some(s) = &self.simulcast {
            a.push(Attribute::value("simulcast", s));
        }
    }

    /// The codec with payload type `pt` (an RTX payload type gives the codec it repairs).
    pub fn codec_for(&self, pt: u8) -> Option<&Codec> {
        self.codecs.iter().find(|c| c.payload_type == pt || c.rtx == Some(pt))
    }

    /// The id negotiated for a header extension URI.
    pub fn extension_id(&self, uri: &str) -> Option<u8> {
        self.extensions.iter().find(|e| e.uri == uri).map(|e| e.id)
    }
}

/// RFC 8851 §10: `rid-id = 1*(alpha-numeric / "-" / "_")`, at most 255 characters (and
/// RFC 8852 keeps them short enough for a header extension: 1..=16 here is what browsers use;
/// we accept up to 255).
fn is_rid_id(s: &str) -> bool {
    (1..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The video feedback we ask for and honor on every video codec.
const VIDEO_FB: &[&str] = &["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"];

/// Our codecs for `kind`, in preference order, with the payload types we offer (the ones
/// Chromium uses, so forwarding between our peers and browsers keeps numbers where it can).
pub fn default_codecs(kind: MediaKind) -> Vec<Codec> {
    match kind {
        // RFC 4733 §2.1: telephone-event runs at the clock of the audio it goes with; Opus
        // is our only audio codec, so only telephone-event/48000 (Chromium's payload type).
        MediaKind::Audio => vec![
            Codec::new(111, "opus", 48_000, Some(2)).with_fmtp("minptime=10;useinbandfec=1").with_fb(&["transport-cc"]),
            Codec::new(110, crate::codec::dtmf::NAME, 48_000, None).with_fmtp(crate::codec::dtmf::EVENTS_FMTP),
        ],
        MediaKind::Video => vec![
            Codec::new(96, "VP8", 90_000, None).with_fb(VIDEO_FB).with_rtx(97),
            Codec::new(98, "VP9", 90_000, None).with_fmtp("profile-id=0").with_fb(VIDEO_FB).with_rtx(99),
            Codec::new(102, "H264", 90_000, None)
                .with_fmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f")
                .with_fb(VIDEO_FB)
                .with_rtx(103),
            Codec::new(104, "H264", 90_000, None)
                .with_fmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
                .with_fb(VIDEO_FB)
                .with_rtx(105),
            Codec::new(106, "H264", 90_000, None)
                .with_fmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f")
                .with_fb(VIDEO_FB)
                .with_rtx(107),
            Codec::new(108, "H264", 90_000, None)
                .with_fmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f")
                .with_fb(VIDEO_FB)
                .with_rtx(109),
            Codec::new(45, "AV1", 90_000, None)
                .with_fmtp("level-idx=5;profile=0;tier=0")
                .with_fb(VIDEO_FB)
                .with_rtx(46),
        ],
    }
}

/// Our header extensions for `kind`, with the ids we offer.
pub fn default_extensions(kind: MediaKind) -> Vec<HeaderExtension> {
    let mut v = vec![
        HeaderExtension::new(1, ext::AUDIO_LEVEL),
        HeaderExtension::new(2, ext::ABS_SEND_TIME),
        HeaderExtension::new(3, ext::TRANSPORT_CC),
        HeaderExtension::new(4, ext::MID),
    ];
    if kind == MediaKind::Video {
        v.retain(|e| e.uri != ext::AUDIO_LEVEL);
        v.push(HeaderExtension::new(10, ext::RID));
        v.push(HeaderExtension::new(11, ext::REPAIRED_RID));
    }
    v
}

/// The answerer's RTP parameters for one offered section (JSEP §5.3.1): the offered codecs we
/// also have, in the offer's order and with its payload types, each with the feedback both
/// support and its RTX if both have one; the offered header extensions we know, with the offer's
/// ids; the direction from the offer's and `wanted` ([`Direction::answer`]); rtcp-mux and
/// rtcp-rsize as offered. `None`: no codec in common (the section is rejected).
pub fn negotiate(offer: &MediaSection, ours: &[Codec], our_extensions: &[HeaderExtension], wanted: Direction) -> Option<MediaSection> {
    let mut codecs = Vec::new();
    for oc in &offer.codecs {
        let Some(mine) = ours.iter().find(|c| c.matches(oc)) else { continue };
        let mut c = oc.clone();
        c.rtcp_fb.retain(|fb| mine.rtcp_fb.iter().any(|m| m == fb));
        if mine.rtx.is_none() {
            c.rtx = None;
        }
        codecs.push(c);
    }
    // telephone-event alone carries no audio: nothing in common (RFC 4733 §2.1 pairs it).
    if codecs.iter().all(|c| c.name.eq_ignore_ascii_case(crate::codec::dtmf::NAME)) {
        return None;
    }
    let extensions = offer
        .extensions
        .iter()
        .filter(|e| our_extensions.iter().any(|m| m.uri == e.uri))
        .map(|e| HeaderExtension::new(e.id, &e.uri))
        .collect();
    Some(MediaSection {
        kind: offer.kind,
        mid: offer.mid.clone(),
        direction: Direction::answer(offer.direction, wanted),
        codecs,
        extensions,
        rtcp_mux: offer.rtcp_mux,
        rtcp_rsize: offer.rtcp_rsize,
        msids: Vec::new(),
        ssrcs: Vec::new(),
        ssrc_groups: Vec::new(),
        // RFC 8853 §5.3: the answer reverses the rid directions it accepts.
        rids: offer.rids.iter().map(|r| Rid { id: r.id.clone(), send: !r.send, params: String::new() }).collect(),
        simulcast: offer.simulcast.as_deref().map(reverse_simulcast),
    })
}

/// The streams `a=simulcast` (RFC 8853 §5.1) lists for one direction (`send`: the
/// section's writer sends them), in order: the first alternative of each (`a,b` offers `a`
/// or `b`), with whether it is paused (`~a`). At most [`MAX_RIDS`].
pub fn simulcast_streams(value: &str, send: bool) -> Vec<(String, bool)> {
    let want = if send { "send" } else { "recv" };
    let mut it = value.split_ascii_whitespace();
    while let Some(dir) = it.next() {
        let Some(list) = it.next() else { break };
        if dir != want {
            continue;
        }
        return list
            .split(';')
            .filter_map(|stream| stream.split(',').next())
            .map(|alt| match alt.strip_prefix('~') {
                Some(rid) => (rid.to_owned(), true),
                None => (alt.to_owned(), false),
            })
            .filter(|(rid, _)| !rid.is_empty())
            .take(MAX_RIDS)
            .collect();
    }
    Vec::new()
}

/// `send a;b recv c` becomes `recv a;b send c`.
fn reverse_simulcast(s: &str) -> String {
    s.split_ascii_whitespace()
        .map(|t| match t {
            "send" => "recv",
            "recv" => "send",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::wire::SessionDescription;

    #[test]
    fn simulcast_streams_per_direction() {
        assert_eq!(simulcast_streams("send h;m;l", true), [("h".into(), false), ("m".into(), false), ("l".into(), false)]);
        assert_eq!(simulcast_streams("send h;m;l", false), Vec::<(String, bool)>::new());
        assert_eq!(simulcast_streams("recv a,b;~c send d", false), [("a".into(), false), ("c".into(), true)]);
        assert_eq!(simulcast_streams("recv a,b;~c send d", true), [("d".into(), false)]);
        // Malformed: a direction with no list, empty rids.
        assert!(simulcast_streams("send", true).is_empty());
        assert_eq!(simulcast_streams("send ;~;x", true), [("x".into(), false)]);
        let many = (0..100).map(|i| i.to_string()).collect::<Vec<_>>().join(";");
        assert_eq!(simulcast_streams(&format!("send {many}"), true).len(), MAX_RIDS);
    }

    /// A video section as Chromium offers it (trimmed), with RTX, H.264 variants and rids.
    const CHROMIUM_VIDEO: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 39 40 98 99 45 46\r\n\
c=IN IP4 0.0.0.0\r\na=mid:1\r\n\
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n\
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n\
a=extmap:13 urn:3gpp:video-orientation\r\n\
a=sendrecv\r\na=msid:stream1 track1\r\na=rtcp-mux\r\na=rtcp-rsize\r\n\
a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 ccm fir\r\n\
a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n\
a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n\
a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n\
a=rtpmap:104 H264/90000\r\na=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n\
a=rtpmap:105 rtx/90000\r\na=fmtp:105 apt=104\r\n\
a=rtpmap:39 H264/90000\r\na=fmtp:39 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n\
a=rtpmap:40 rtx/90000\r\na=fmtp:40 apt=39\r\n\
a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=2\r\na=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98\r\n\
a=rtpmap:45 AV1/90000\r\na=fmtp:45 level-idx=5;profile=0;tier=0\r\na=rtpmap:46 rtx/90000\r\na=fmtp:46 apt=45\r\n\
a=ssrc-group:FID 1111 2222\r\na=ssrc:1111 cname:abc\r\na=ssrc:1111 msid:stream1 track1\r\na=ssrc:2222 cname:abc\r\n\
a=rid:h send\r\na=rid:l send max-width=320\r\na=simulcast:send h;l\r\n";

    fn section(text: &str) -> MediaSection {
        let sd = SessionDescription::parse(text).expect("sdp");
        MediaSection::parse(&sd.media[0]).expect("media").expect("audio or video")
    }

    #[test]
    fn reads_a_chromium_video_section() {
        let s = section(CHROMIUM_VIDEO);
        assert_eq!(s.kind, MediaKind::Video);
        assert_eq!(s.mid.as_deref(), Some("1"));
        assert_eq!(s.direction, Direction::SendRecv);
        assert!(s.rtcp_mux && s.rtcp_rsize);
        let pts: Vec<(u8, Option<u8>)> = s.codecs.iter().map(|c| (c.payload_type, c.rtx)).collect();
        assert_eq!(pts, [(96, Some(97)), (102, Some(103)), (104, Some(105)), (39, Some(40)), (98, Some(99)), (45, Some(46))]);
        let vp8 = &s.codecs[0];
        assert_eq!(vp8.rtcp_fb, ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"]);
        assert_eq!(s.codecs[1].fmtp_value("profile-level-id"), Some("42001f"));
        assert_eq!(s.extension_id(ext::MID), Some(4));
        assert_eq!(s.msids, [("stream1".to_string(), "track1".to_string())]);
        assert_eq!(s.ssrcs.len(), 2);
        assert_eq!(s.ssrcs[0].cname.as_deref(), Some("abc"));
        assert_eq!(s.ssrc_groups, [("FID".to_string(), vec![1111, 2222])]);
        assert_eq!(s.rids.len(), 2);
        assert_eq!((s.rids[1].id.as_str(), s.rids[1].send, s.rids[1].params.as_str()), ("l", true, "max-width=320"));
        assert_eq!(s.simulcast.as_deref(), Some("send h;l"));
        assert_eq!(s.codec_for(103).map(|c| c.payload_type), Some(102));
    }

    #[test]
    fn the_answer_keeps_the_offers_numbers_and_what_we_support() {
        let offer = section(CHROMIUM_VIDEO);
        let ours = default_codecs(MediaKind::Video);
        let a = negotiate(&offer, &ours, &default_extensions(MediaKind::Video), Direction::RecvOnly).expect("codecs in common");
        let pts: Vec<u8> = a.codecs.iter().map(|c| c.payload_type).collect();
        // VP8, H.264 constrained... 42001f mode 1, 4d001f mode 1, AV1; not packetization-mode 0,
        // not VP9 profile 2.
        assert_eq!(pts, [96, 102, 39, 45]);
        assert_eq!(a.direction, Direction::RecvOnly);
        assert_eq!(a.codecs[1].rtcp_fb, ["nack"], "only feedback both sides have");
        let uris: Vec<(u8, &str)> = a.extensions.iter().map(|e| (e.id, e.uri.as_str())).collect();
        assert_eq!(uris, [(4, ext::MID), (2, ext::ABS_SEND_TIME), (3, ext::TRANSPORT_CC), (10, ext::RID)]);
        assert_eq!(a.simulcast.as_deref(), Some("recv h;l"));
        assert!(a.rids.iter().all(|r| !r.send));
        // Written and read back, the answer is the same section.
        let mut m = MediaDescription::new(MediaType::Video, 9, PROTO_RTP_SAVPF, &[]);
        m.attributes.push(Attribute::value("mid", "1"));
        a.write(&mut m);
        assert_eq!(m.formats, ["96", "97", "102", "103", "39", "40", "45", "46"]);
        let back = MediaSection::parse(&m).unwrap().unwrap();
        assert_eq!(back, a);
        // Nothing in common: rejected.
        let none = negotiate(&offer, &default_codecs(MediaKind::Audio), &[], Direction::SendRecv);
        assert!(none.is_none());
    }

    #[test]
    fn directions_answer_as_jsep_says() {
        use Direction::*;
        assert_eq!(Direction::answer(SendRecv, SendRecv), SendRecv);
        assert_eq!(Direction::answer(SendOnly, SendRecv), RecvOnly);
        assert_eq!(Direction::answer(RecvOnly, SendRecv), SendOnly);
        assert_eq!(Direction::answer(SendRecv, RecvOnly), RecvOnly);
        assert_eq!(Direction::answer(RecvOnly, RecvOnly), Inactive);
        assert_eq!(Direction::answer(Inactive, SendRecv), Inactive);
        assert_eq!(SendOnly.reverse(), RecvOnly);
    }

    #[test]
    fn our_default_sections_round_trip() {
        for kind in [MediaKind::Audio, MediaKind::Video] {
            let s = MediaSection {
                kind,
                mid: Some("0".into()),
                direction: Direction::SendOnly,
                codecs: default_codecs(kind),
                extensions: default_extensions(kind),
                rtcp_mux: true,
                rtcp_rsize: true,
                msids: vec![("s".into(), "t".into())],
                ssrcs: vec![Ssrc { ssrc: 42, cname: Some("c".into()), msid: None }],
                ssrc_groups: vec![],
                rids: vec![],
                simulcast: None,
            };
            let mut m = MediaDescription::new(kind.media_type(), 9, PROTO_RTP_SAVPF, &[]);
            m.attributes.push(Attribute::value("mid", "0"));
            s.write(&mut m);
            let mut sd = SessionDescription::parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n").unwrap();
            sd.media.push(m);
            let text = sd.serialize();
            assert_eq!(section(&text), s, "{text}");
        }
    }

    #[test]
    fn h264_profiles_match_by_profile_not_level() {
        let c = |plid: &str, mode: &str| {
            Codec::new(100, "H264", 90_000, None).with_fmtp(&format!("packetization-mode={mode};profile-level-id={plid}"))
        };
        assert!(c("42e01f", "1").matches(&c("42e034", "1")), "level differs");
        assert!(c("42e01f", "1").matches(&c("42c01f", "1")), "both constrained baseline");
        assert!(!c("42e01f", "1").matches(&c("42001f", "1")), "constrained vs baseline");
        assert!(!c("42e01f", "1").matches(&c("42e01f", "0")), "packetization mode");
        assert!(!c("42e01f", "1").matches(&c("64001f", "1")));
        assert!(Codec::new(111, "OPUS", 48_000, Some(2)).matches(&Codec::new(9, "opus", 48_000, Some(2))));
        assert!(!Codec::new(111, "opus", 48_000, Some(2)).matches(&Codec::new(9, "opus", 48_000, None)));
    }

    #[test]
    fn malformed_attributes_are_errors() {
        let base = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
        for bad_line in [
            "a=rtpmap:111 opus\r\n",
            "a=rtpmap:111 opus/0\r\n",
            "a=rtpmap:200 opus/48000\r\n",
            "a=rtpmap:111 opus/48000/2\r\na=rtpmap:111 opus/48000/2\r\n",
            "a=extmap:0 urn:x\r\n",
            "a=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n",
            "a=extmap:1/sideways urn:x\r\n",
            "a=rtcp-fb:111\r\n",
            "a=ssrc:abc cname:x\r\n",
            "a=rid:h sideways\r\n",
            "a=rid:h/x send\r\n",
            "a=ssrc-group:FID 1 x\r\n",
        ] {
            let sd = SessionDescription::parse(&format!("{base}{bad_line}")).unwrap();
            assert!(MediaSection::parse(&sd.media[0]).is_err(), "{bad_line}");
        }
        let sd = SessionDescription::parse(&format!("{base}a=rtpmap:111 opus/48000/2\r\n")).unwrap();
        assert_eq!(MediaSection::parse(&sd.media[0]).unwrap().unwrap().codecs.len(), 1);
        // An rtpmap for a payload type the m= line does not list is ignored; so is a data section.
        let sd = SessionDescription::parse(&format!("{base}a=rtpmap:112 opus/48000/2\r\n")).unwrap();
        assert!(MediaSection::parse(&sd.media[0]).unwrap().unwrap().codecs.is_empty());
        let sd = SessionDescription::parse(
            "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
        )
        .unwrap();
        assert_eq!(MediaSection::parse(&sd.media[0]), Ok(None));
    }

    #[test]
    fn bounds_hold_on_a_hostile_section() {
        let mut text = String::from("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF");
        for pt in 0..70 {
            text.push_str(&format!(" {pt}"));
        }
        text.push_str("\r\n");
        for pt in 0..70 {
            text.push_str(&format!("a=rtpmap:{pt} VP8/90000\r\na=ssrc:{pt} cname:c\r\n"));
        }
        for i in 0..20 {
            text.push_str(&format!("a=rtcp-fb:0 x{i}\r\na=rid:r{i} send\r\n"));
        }
        for i in 1..=40 {
            text.push_str(&format!("a=extmap:{i} urn:x:{i}\r\n"));
        }
        let sd = SessionDescription::parse(&text).expect("within the SDP layer's own bounds");
        let s = MediaSection::parse(&sd.media[0]).unwrap().unwrap();
        assert_eq!(s.codecs.len(), MAX_CODECS);
        assert_eq!(s.codecs[0].rtcp_fb.len(), MAX_RTCP_FB);
        assert_eq!(
            (s.extensions.len(), s.ssrcs.len(), s.rids.len()),
            (MAX_EXTENSIONS, MAX_SSRCS, MAX_RIDS)
        );
    }
}
