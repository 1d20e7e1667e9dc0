//! ICE candidates: SDP syntax (RFC 8839 §5.1), priorities (RFC 8445 §5.1.2) and
//! foundations (RFC 8445 §5.1.1.3).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::error::IceError;
use super::MAX_CANDIDATE_LEN;

/// How a relayed candidate's TURN server is reached: RFC 8445 §5.1.2.1 leaves local
/// preferences to the agent; like browsers, a relay over UDP is preferred to one over TCP,
/// and that to one over TLS (each adds a stream, and TLS a handshake, below the media).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayProtocol {
    Udp,
    Tcp,
    Tls,
}

impl RelayProtocol {
    /// How the TURN server at `url` is reached: a `turns:` or `wss:` URL over TLS, a
    /// `ws:` URL or `?transport=tcp` over TCP, anything else over UDP.
    pub fn for_url(url: &str) -> RelayProtocol {
        let u = url.to_ascii_lowercase();
        if u.starts_with("turns:") || u.starts_with("wss:") {
            RelayProtocol::Tls
        } else if u.starts_with("ws:") || u.contains("transport=tcp") {
            RelayProtocol::Tcp
        } else {
            RelayProtocol::Udp
        }
    }

    /// webrtc-stats `relayProtocol`.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayProtocol::Udp => "udp",
            RelayProtocol::Tcp => "tcp",
            RelayProtocol::Tls => "tls",
        }
    }

    /// The top of the local-preference range of relayed candidates over this protocol;
    /// the ranges do not overlap whatever the address family and transport index.
    pub fn local_preference_base(self) -> u16 {
        match self {
            RelayProtocol::Udp => 65535,
            RelayProtocol::Tcp => 43690,
            RelayProtocol::Tls => 21845,
        }
    }
}

/// RFC 8445 §5.1.1: candidate types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CandidateKind {
    Host,
    ServerReflexive,
    PeerReflexive,
    Relayed,
}

impl CandidateKind {
    /// The SDP `typ` token.
    pub fn as_str(&self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::Relayed => "relay",
        }
    }

    /// RFC 8445 §5.1.2.2 recommended type preferences.
    pub fn type_preference(&self) -> u32 {
        match self {
            CandidateKind::Host => 126,
            CandidateKind::PeerReflexive => 110,
            CandidateKind::ServerReflexive => 100,
            CandidateKind::Relayed => 0,
        }
    }

    fn parse(s: &str) -> Option<CandidateKind> {
        match s.to_ascii_lowercase().as_str() {
            "host" => Some(CandidateKind::Host),
            "srflx" => Some(CandidateKind::ServerReflexive),
            "prflx" => Some(CandidateKind::PeerReflexive),
            "relay" => Some(CandidateKind::Relayed),
            _ => None,
        }
    }
}

/// RFC 8445 §5.1.2.1: `2^24 * type_pref + 2^8 * local_pref + (256 - component)`.
pub fn candidate_priority(kind: &CandidateKind, local_preference: u16, component: u16) -> u32 {
    (kind.type_preference() << 24)
        + (u32::from(local_preference) << 8)
        + (256u32.saturating_sub(u32::from(component)))
}

/// RFC 8445 §6.1.2.3: `2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0)`, G the controlling side's.
pub fn pair_priority(controlling: u32, controlled: u32) -> u64 {
    let (g, d) = (u64::from(controlling), u64::from(controlled));
    // Saturating: with both priorities near 2^32 the RFC formula exceeds u64.
    (g.min(d) << 32).saturating_add(2 * g.max(d) + u64::from(g > d))
}

/// A foundation: the same for candidates of the same type, base IP, server and protocol.
pub fn foundation_for(kind: &CandidateKind, base_ip: IpAddr, server: Option<SocketAddr>) -> String {
    let mut s = String::new();
    let _ = write!(s, "{}|{}|udp|{:?}", kind.as_str(), base_ip, server);
    crate::crc::crc32(s.as_bytes()).to_string()
}

/// One ICE candidate (RFC 8839 `candidate-attribute`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub foundation: String,
    pub component: u16,
    /// Lower-cased transport: "udp" or "tcp".
    pub protocol: String,
    pub priority: u32,
    pub address: SocketAddr,
    pub kind: CandidateKind,
    pub related_address: Option<SocketAddr>,
    /// `tcptype` for TCP candidates (RFC 6544).
    pub tcp_type: Option<String>,
    /// Extension attributes in order (generation, ufrag, network-id, network-cost ...).
    pub extensions: Vec<(String, String)>,
}

fn is_ice_char_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

fn parse_ip(s: &str) -> Result<IpAddr, IceError> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(ip);
    }
    // Some stacks put IPv6 in brackets.
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        if let Ok(ip) = inner.parse::<IpAddr>() {
            return Ok(ip);
        }
    }
    let lower = s.to_ascii_lowercase();
    let lower = lower.strip_suffix('.').unwrap_or(&lower);
    if lower.ends_with(".local") {
        Err(IceError::MdnsCandidate)
    } else if !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        Err(IceError::UnresolvedHostname)
    } else {
        Err(IceError::CandidateSyntax)
    }
}

impl Candidate {
    /// Parses an SDP candidate attribute value, with or without the leading `candidate:`
    /// (also tolerates a leading `a=`). mDNS `.local` addresses give
    /// [`IceError::MdnsCandidate`]; TCP candidates parse (the agent ignores them).
    pub fn parse(s: &str) -> Result<Candidate, IceError> {
        Self::parse_inner(s, false).map(|(c, _)| c)
    }

    /// Parses a candidate whose address is an mDNS `.local` name (RFC 8828 / draft-ietf-
    /// mmusic-mdns-ice-candidates): the candidate, with the unspecified address of the IP
    /// family not yet known (`0.0.0.0`) until the host resolves the name, and that name
    /// (lower case, no trailing dot). Any other candidate is [`IceError::CandidateSyntax`].
    pub fn parse_mdns(s: &str) -> Result<(Candidate, String), IceError> {
        match Self::parse_inner(s, true)? {
            (c, Some(name)) => Ok((c, name)),
            (_, None) => Err(IceError::CandidateSyntax),
        }
    }

    fn parse_inner(s: &str, allow_mdns: bool) -> Result<(Candidate, Option<String>), IceError> {
        if s.len() > MAX_CANDIDATE_LEN {
            return Err(IceError::CandidateTooLong);
        }
        // Trim exactly what the tokenizer below splits on (ASCII whitespace): `str::trim`
        // also strips e.g. U+000B, which would then drop a trailing extension value that
        // the tokenizer kept (found by fuzzing).
        let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = match s.get(..10) {
            Some(p) if p.eq_ignore_ascii_case("candidate:") => s.get(10..).unwrap_or(""),
            _ => s,
        };
        let mut it = s.split_ascii_whitespace();
        let mut next = || it.next().ok_or(IceError::CandidateSyntax);
        let foundation = next()?;
        if !is_ice_char_token(foundation) || foundation.len() > 32 {
            return Err(IceError::CandidateSyntax);
        }
        let component: u16 = next()?.parse().map_err(|_| IceError::CandidateSyntax)?;
        if component == 0 || component > 256 {
            return Err(IceError::CandidateSyntax);
        }
        let protocol = next()?.to_ascii_lowercase();
        if !protocol
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-')
        {
            return Err(IceError::CandidateSyntax);
        }
        let priority: u32 = next()?.parse().map_err(|_| IceError::CandidateSyntax)?;
        let addr_token = next()?;
        let port: u16 = next()?.parse().map_err(|_| IceError::CandidateSyntax)?;
        if !next()?.eq_ignore_ascii_case("typ") {
            return Err(IceError::CandidateSyntax);
        }
        let kind = CandidateKind::parse(next()?).ok_or(IceError::CandidateSyntax)?;
        // Check the address last among mandatory fields so a malformed line is a syntax error
        // rather than an mDNS one.
        let (ip, mdns_name) = match parse_ip(addr_token) {
            Ok(ip) => (ip, None),
            Err(IceError::MdnsCandidate) if allow_mdns && crate::mdns::is_local_name(addr_token) => {
                (IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED), Some(crate::mdns::normalize(addr_token)))
            }
            Err(e) => return Err(e),
        };
        let mut cand = Candidate {
            foundation: foundation.to_string(),
            component,
            protocol,
            priority,
            address: SocketAddr::new(ip, port),
            kind,
            related_address: None,
            tcp_type: None,
            extensions: Vec::new(),
        };
        let rest: Vec<&str> = it.collect();
        let mut raddr: Option<IpAddr> = None;
        let mut rport: Option<u16> = None;
        let mut pairs = rest.chunks_exact(2);
        for kv in pairs.by_ref() {
            let (k, v) = match kv {
                [k, v] => (*k, *v),
                _ => continue,
            };
            match k.to_ascii_lowercase().as_str() {
                // A related address that is a hostname (mDNS) is simply dropped.
                "raddr" => raddr = parse_ip(v).ok(),
                "rport" => rport = Some(v.parse().map_err(|_| IceError::CandidateSyntax)?),
                "tcptype" => cand.tcp_type = Some(v.to_string()),
                _ => {
                    if cand.extensions.len() < super::MAX_CANDIDATE_EXTENSIONS {
                        cand.extensions.push((k.to_string(), v.to_string()));
                    }
                }
            }
        }
        if let (Some(ip), Some(port)) = (raddr, rport) {
            cand.related_address = Some(SocketAddr::new(ip, port));
        }
        Ok((cand, mdns_name))
    }

    /// `candidate:<foundation> <component> <proto> <prio> <ip> <port> typ <type>
    /// [raddr <ip> rport <port>] [tcptype <t>] [<ext> <value>]...`
    pub fn to_sdp_string(&self) -> String {
        let mut s = String::with_capacity(96);
        let _ = write!(
            s,
            "candidate:{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            self.protocol,
            self.priority,
            self.address.ip(),
            self.address.port(),
            self.kind.as_str()
        );
        if let Some(r) = self.related_address {
            let _ = write!(s, " raddr {} rport {}", r.ip(), r.port());
        }
        if let Some(t) = &self.tcp_type {
            let _ = write!(s, " tcptype {t}");
        }
        for (k, v) in &self.extensions {
            let _ = write!(s, " {k} {v}");
        }
        s
    }

    /// The `ufrag` extension, if any.
    pub fn ufrag(&self) -> Option<&str> {
        self.extensions
            .iter()
            .find(|(k, _)| k == "ufrag")
            .map(|(_, v)| v.as_str())
    }
}
