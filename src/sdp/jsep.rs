//! JSEP (RFC 8829 / RFC 9429) for one data-channel m-line: offers, answers, reading the
//! remote description, the signaling state table, and candidate bookkeeping.

use super::error::JsepError;
use super::media::{self, Direction, MediaSection};
use crate::crypto::Fingerprint;
use super::wire::{
    Attribute, Connection, MediaDescription, MediaType, Origin, SessionDescription, Timing, MAX_LINE_LENGTH,
};

/// Most `a=candidate` lines [`add_candidate`] puts on one section.
pub const MAX_CANDIDATES: usize = 256;
/// Default SCTP port (RFC 8841 §5: no `a=sctp-port` means 5000).
pub const DEFAULT_SCTP_PORT: u16 = 5000;
/// Fingerprint hashes we accept, with their digest sizes in bytes (RFC 8122 §5). Weaker ones
/// ([`crate::crypto::WEAK_FINGERPRINT_ALGORITHMS`]) are skipped when a strong one is present
/// and refused ([`JsepError::WeakFingerprint`]) when they are all a description offers.
pub const SUPPORTED_FINGERPRINT_HASHES: &[(&str, usize)] = &[("sha-256", 32), ("sha-384", 48), ("sha-512", 64)];
/// `a=sctpmap` stream count we write in legacy answers.
pub const LEGACY_SCTPMAP_STREAMS: u16 = 1024;

/// The modern data-channel protocol (RFC 8841).
pub const PROTO_UDP_DTLS_SCTP: &str = "UDP/DTLS/SCTP";
/// The same over TCP (ICE-TCP); accepted in remote descriptions.
pub const PROTO_TCP_DTLS_SCTP: &str = "TCP/DTLS/SCTP";
/// The pre-RFC 8841 protocol: `m=application 9 DTLS/SCTP 5000` + `a=sctpmap`.
pub const PROTO_LEGACY_DTLS_SCTP: &str = "DTLS/SCTP";

/// `a=setup` (RFC 8842 / RFC 4145).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Setup {
    Actpass,
    Active,
    Passive,
    Holdconn,
}

impl Setup {
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::Actpass => "actpass",
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::Holdconn => "holdconn",
        }
    }
    pub fn parse(s: &str) -> Option<Setup> {
        match s.trim() {
            "actpass" => Some(Setup::Actpass),
            "active" => Some(Setup::Active),
            "passive" => Some(Setup::Passive),
            "holdconn" => Some(Setup::Holdconn),
            _ => None,
        }
    }
    /// The role an answerer takes: the offer's constraint first, else `preferred`
    /// (`actpass` as a preference means `active`, as JSEP §5.3.1 recommends).
    pub fn answer_to(offered: Setup, preferred: Setup) -> Setup {
        match offered {
            Setup::Active => Setup::Passive,
            Setup::Passive => Setup::Active,
            Setup::Holdconn => Setup::Holdconn,
            Setup::Actpass => match preferred {
                Setup::Passive => Setup::Passive,
                Setup::Holdconn => Setup::Holdconn,
                Setup::Active | Setup::Actpass => Setup::Active,
            },
        }
    }
}

/// What we put in our own offers and answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalParams {
    pub ice_ufrag: String,
    pub ice_pwd: String,
    /// `(hash, value)` pairs, e.g. `("sha-256", "AB:CD:...")`.
    pub fingerprints: Vec<(String, String)>,
    pub setup: Setup,
    pub sctp_port: u16,
    pub max_message_size: usize,
    /// `candidate:...` attribute strings (the W3C `RTCIceCandidate.candidate` form).
    pub candidates: Vec<String>,
    pub end_of_candidates: bool,
    pub session_id: u64,
    pub session_version: u64,
    /// Our data section's mid in offers (answers reuse the remote's).
    pub mid: String,
}

/// What the peer needs from a remote offer or answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteParams {
    pub ice_ufrag: String,
    pub ice_pwd: String,
    pub ice_lite: bool,
    pub trickle: bool,
    /// Supported fingerprints only, hash lowercased, value uppercased.
    pub fingerprints: Vec<(String, String)>,
    pub setup: Setup,
    pub sctp_port: u16,
    /// `a=max-message-size`; `Some(0)` means "any size" (RFC 8841 §6), `None` absent.
    pub max_message_size: Option<usize>,
    /// `candidate:...` strings found on the data section's transport.
    pub candidates: Vec<String>,
    pub end_of_candidates: bool,
    pub data_mid: Option<String>,
    pub data_mline_index: Option<usize>,
    /// The sections that share the data section's transport (its BUNDLE group, not rejected),
    /// as `(mid, m-line index)`, the data section included: candidates may name any of them.
    pub bundled: Vec<(String, usize)>,
    /// Their audio/video sections, read ([`MediaSection`]), with their m-line index.
    pub media: Vec<(usize, MediaSection)>,
    /// No usable data section (offer only), or its port is 0 without `a=bundle-only`.
    /// When true the transport fields may be empty.
    pub rejected: bool,
}

impl RemoteParams {
    /// A description with no usable data section: nothing to connect (`rejected`).
    pub fn none() -> RemoteParams {
        RemoteParams {
            ice_ufrag: String::new(),
            ice_pwd: String::new(),
            ice_lite: false,
            trickle: false,
            fingerprints: Vec::new(),
            setup: Setup::Active,
            sctp_port: DEFAULT_SCTP_PORT,
            max_message_size: None,
            candidates: Vec::new(),
            end_of_candidates: false,
            data_mid: None,
            data_mline_index: None,
            bundled: Vec::new(),
            media: Vec::new(),
            rejected: true,
        }
    }
}

/// `RTCSignalingState`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SignalingState {
    Stable,
    HaveLocalOffer,
    HaveRemoteOffer,
    HaveLocalPranswer,
    HaveRemotePranswer,
    Closed,
}

/// `RTCSdpType`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DescriptionType {
    Offer,
    Pranswer,
    Answer,
    Rollback,
}

/// The signaling state after applying a description (JSEP §3.2, W3C webrtc-pc §4.4.1.5).
///
/// Rollback is legal (from either side) only in `have-local-offer` / `have-remote-offer`.
/// A remote offer in `have-local-offer` is `InvalidState` here: the W3C implicit rollback
/// is the caller's job (`transition(s, true, Rollback)` first, then the remote offer).
pub fn transition(state: SignalingState, local: bool, ty: DescriptionType) -> Result<SignalingState, JsepError> {
    use DescriptionType as T;
    use SignalingState as S;
    let next = match (state, local, ty) {
        (S::Closed, _, _) => None,
        (S::HaveLocalOffer | S::HaveRemoteOffer, _, T::Rollback) => Some(S::Stable),
        (_, _, T::Rollback) => None,
        (S::Stable, true, T::Offer) => Some(S::HaveLocalOffer),
        (S::Stable, false, T::Offer) => Some(S::HaveRemoteOffer),
        (S::HaveLocalOffer, true, T::Offer) => Some(S::HaveLocalOffer),
        (S::HaveLocalOffer, false, T::Answer) => Some(S::Stable),
        (S::HaveLocalOffer, false, T::Pranswer) => Some(S::HaveRemotePranswer),
        (S::HaveRemoteOffer, false, T::Offer) => Some(S::HaveRemoteOffer),
        (S::HaveRemoteOffer, true, T::Answer) => Some(S::Stable),
        (S::HaveRemoteOffer, true, T::Pranswer) => Some(S::HaveLocalPranswer),
        (S::HaveLocalPranswer, true, T::Pranswer) => Some(S::HaveLocalPranswer),
        (S::HaveLocalPranswer, true, T::Answer) => Some(S::Stable),
        (S::HaveRemotePranswer, false, T::Pranswer) => Some(S::HaveRemotePranswer),
        (S::HaveRemotePranswer, false, T::Answer) => Some(S::Stable),
        _ => None,
    };
    next.ok_or(JsepError::InvalidState)
}

// ---------------------------------------------------------------------------------------
// Building offers and answers
// ---------------------------------------------------------------------------------------

fn base_session(p: &LocalParams) -> SessionDescription {
    SessionDescription {
        version: 0,
        origin: Origin {
            username: "-".into(),
            session_id: p.session_id.to_string(),
            session_version: p.session_version.to_string(),
            nettype: "IN".into(),
            addrtype: "IP4".into(),
            address: "127.0.0.1".into(),
        },
        session_name: "-".into(),
        info: None,
        uri: None,
        emails: Vec::new(),
        phones: Vec::new(),
        connection: None,
        bandwidths: Vec::new(),
        timings: vec![Timing { start: 0, stop: 0, repeats: Vec::new() }],
        time_zones: None,
        key: None,
        unknown: Vec::new(),
        attributes: Vec::new(),
        media: Vec::new(),
    }
}

fn null_connection() -> Connection {
    Connection { nettype: "IN".into(), addrtype: "IP4".into(), address: "0.0.0.0".into() }
}

/// Strip an optional `a=` and require `candidate:<something>`; returns the attribute value
/// (what follows `candidate:`).
fn candidate_value(c: &str) -> Result<&str, JsepError> {
    let c = c.strip_prefix("a=").unwrap_or(c);
    let v = c.strip_prefix("candidate:").ok_or(JsepError::BadCandidate)?;
    if v.trim().is_empty() || v.len() > MAX_LINE_LENGTH || v.contains(['\r', '\n', '\0']) {
        return Err(JsepError::BadCandidate);
    }
    Ok(v)
}

/// JSEP §5.2.1 / RFC 8839 §4.2.1.2: once candidates exist, `m=` and `c=` carry a default
/// candidate: the first component-1 UDP one, preferring relay, then srflx, then host.
/// Returns `(addrtype, address, port)`.
fn default_candidate(candidates: &[String]) -> Option<(&'static str, &str, u16)> {
    let mut best: Option<(u8, (&'static str, &str, u16))> = None;
    for c in candidates {
        let Ok(v) = candidate_value(c) else { continue };
        let f: Vec<&str> = v.split_ascii_whitespace().collect();
        let (Some(component), Some(transport), Some(address), Some(port), Some(typ_kw), Some(typ)) =
            (f.get(1), f.get(2), f.get(4), f.get(5), f.get(6), f.get(7))
        else {
            continue;
        };
        if *component != "1" || !transport.eq_ignore_ascii_case("udp") || *typ_kw != "typ" {
            continue;
        }
        let Ok(ip) = address.parse::<core::net::IpAddr>() else { continue };
        let Some(port) = super::wire::parse_u16(port).filter(|p| *p != 0) else { continue };
        let rank = match *typ {
            "relay" => 3,
            "srflx" | "prflx" => 2,
            _ => 1,
        };
        let addrtype = if ip.is_ipv4() { "IP4" } else { "IP6" };
        if best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, (addrtype, address, port)));
        }
    }
    best.map(|(_, d)| d)
}

/// Our ICE credentials, fingerprints and DTLS role, as every section of the bundle carries them.
fn push_transport_attributes(a: &mut Vec<Attribute>, p: &LocalParams, setup: Setup) {
    a.push(Attribute::value("ice-ufrag", &p.ice_ufrag));
    a.push(Attribute::value("ice-pwd", &p.ice_pwd));
    a.push(Attribute::value("ice-options", "trickle"));
    for (hash, value) in &p.fingerprints {
        a.push(Attribute::value("fingerprint", &format!("{hash} {value}")));
    }
    a.push(Attribute::value("setup", setup.as_str()));
}

fn data_section(p: &LocalParams, proto: &str, mid: Option<&str>, setup: Setup) -> MediaDescription {
    let legacy = proto == PROTO_LEGACY_DTLS_SCTP;
    let port_text = p.sctp_port.to_string();
    let fmt = if legacy { port_text.as_str() } else { "webrtc-datachannel" };
    let mut m = MediaDescription::new(MediaType::Application, 9, proto, &[fmt]);
    match default_candidate(&p.candidates) {
        Some((addrtype, address, port)) => {
            m.port = port;
            m.connections.push(Connection { nettype: "IN".into(), addrtype: addrtype.into(), address: address.into() });
        }
        None => m.connections.push(null_connection()),
    }
    push_transport_attributes(&mut m.attributes, p, setup);
    let a = &mut m.attributes;
    if let Some(mid) = mid {
        a.push(Attribute::value("mid", mid));
    }
    if legacy {
        a.push(Attribute::value("sctpmap", &format!("{} webrtc-datachannel {}", p.sctp_port, LEGACY_SCTPMAP_STREAMS)));
    } else {
        a.push(Attribute::value("sctp-port", &port_text));
    }
    a.push(Attribute::value("max-message-size", &p.max_message_size.to_string()));
    for c in &p.candidates {
        if let Ok(v) = candidate_value(c) {
            a.push(Attribute::value("candidate", v));
        }
    }
    if p.end_of_candidates {
        a.push(Attribute::flag("end-of-candidates"));
    }
    m
}

/// Offer with one `m=application 9 UDP/DTLS/SCTP webrtc-datachannel` section, BUNDLEd,
/// with our ICE credentials, fingerprints, `a=setup` from `p` (normally actpass), SCTP port,
/// max message size, and the candidates gathered so far (JSEP §5.2.1).
pub fn create_offer(p: &LocalParams) -> SessionDescription {
    let mut sd = base_session(p);
    sd.attributes.push(Attribute::value("group", &format!("BUNDLE {}", p.mid)));
    sd.attributes.push(Attribute::value("msid-semantic", " WMS"));
    sd.media.push(data_section(p, PROTO_UDP_DTLS_SCTP, Some(&p.mid), p.setup));
    sd
}

/// Offer with no media section: what createOffer() gives before any data channel exists
/// (JSEP §5.2.1 adds an `m=application` section only once the first data channel is
/// created; Chromium's offer on a fresh RTCPeerConnection is the session part alone).
/// Applying it creates no transport.
pub fn create_empty_offer(p: &LocalParams) -> SessionDescription {
    let mut sd = base_session(p);
    sd.attributes.push(Attribute::value("msid-semantic", " WMS"));
    sd
}

/// Whether `sd` has a data section that is not rejected (a description whose application
/// creates an ICE/DTLS/SCTP transport).
pub fn has_usable_data_section(sd: &SessionDescription) -> bool {
    sd.media.iter().any(|m| is_data_section(m) && !is_rejected(m))
}

/// Whether `m` is a data-channel section we can use (RFC 8841, or the legacy
/// `DTLS/SCTP <port>` form).
pub fn is_data_section(m: &MediaDescription) -> bool {
    if m.media != MediaType::Application {
        return false;
    }
    match m.proto.as_str() {
        PROTO_UDP_DTLS_SCTP | PROTO_TCP_DTLS_SCTP => m.formats.iter().any(|f| f == "webrtc-datachannel"),
        PROTO_LEGACY_DTLS_SCTP => true,
        _ => false,
    }
}

fn is_rejected(m: &MediaDescription) -> bool {
    m.port == 0 && !m.has_attr("bundle-only")
}

fn bundle_groups(sd: &SessionDescription) -> impl Iterator<Item = Vec<&str>> {
    sd.attrs("group").filter_map(|g| {
        let mut it = g.split_ascii_whitespace();
        match it.next() {
            Some("BUNDLE") => Some(it.collect()),
            _ => None,
        }
    })
}

/// Mids unique; BUNDLE groups name existing mids at most once; bundle-only sections are
/// in a group (RFC 8843 §7, §9).
fn check_mids(sd: &SessionDescription) -> Result<(), JsepError> {
    let mids: Vec<&str> = sd.media.iter().filter_map(|m| m.mid()).collect();
    for (i, a) in mids.iter().enumerate() {
        if mids.iter().skip(i + 1).any(|b| b == a) {
            return Err(JsepError::DuplicateMid);
        }
    }
    let mut grouped: Vec<&str> = Vec::new();
    for g in bundle_groups(sd) {
        for mid in g {
            if !mids.contains(&mid) || grouped.contains(&mid) {
                return Err(JsepError::BadBundleGroup);
            }
            grouped.push(mid);
        }
    }
    for m in &sd.media {
        if m.has_attr("bundle-only") && !m.mid().is_some_and(|mid| grouped.contains(&mid)) {
            return Err(JsepError::BundleOnlyWithoutBundle);
        }
    }
    Ok(())
}

fn setup_of(offer: &SessionDescription, m: &MediaDescription) -> Setup {
    m.attr("setup").or_else(|| offer.attr("setup")).and_then(Setup::parse).unwrap_or(Setup::Active)
}

/// Answer to `remote_offer` (JSEP §5.3.1): the first usable data section is accepted with
/// the remote's mid and proto (legacy `DTLS/SCTP` answered with `a=sctpmap`). Audio and video
/// sections BUNDLEd with it (rtcp-mux, `UDP/TLS/RTP/SAVPF`) are accepted to receive
/// ([`answer_media_section`]: the codecs and header extensions we share, `recvonly` or
/// `inactive`); every other section is answered rejected (same media and proto, port 0, the
/// remote's formats, only `a=mid`). BUNDLE lists the accepted mids bundled in the offer, in
/// its order. `a=setup` is `p.setup` unless the offer forces the other role
/// ([`Setup::answer_to`]).
pub fn create_answer(remote_offer: &SessionDescription, p: &LocalParams) -> Result<SessionDescription, JsepError> {
    check_mids(remote_offer)?;
    let data_index = remote_offer.media.iter().position(|m| is_data_section(m) && !is_rejected(m));
    let data_mid = data_index.and_then(|i| remote_offer.media.get(i)).and_then(|m| m.mid());
    let group: Vec<&str> = data_mid
        .and_then(|mid| bundle_groups(remote_offer).find(|g| g.contains(&mid)))
        .unwrap_or_default();
    let setup = data_index
        .and_then(|i| remote_offer.media.get(i))
        .map_or(p.setup, |om| Setup::answer_to(setup_of(remote_offer, om), p.setup));
    let mut sd = base_session(p);
    let mut accepted: Vec<&str> = Vec::new();
    for (i, om) in remote_offer.media.iter().enumerate() {
        if Some(i) == data_index {
            sd.media.push(data_section(p, &om.proto, om.mid(), setup));
            accepted.extend(om.mid());
            continue;
        }
        let bundled = om.mid().is_some_and(|mid| group.contains(&mid)) && !is_rejected(om);
        if let Some(m) = bundled.then(|| answer_media_section(om, p, setup)).flatten() {
            accepted.extend(om.mid());
            sd.media.push(m);
            continue;
        }
        let mut m = MediaDescription::new(om.media.clone(), 0, &om.proto, &[]);
        m.formats = om.formats.clone();
        m.connections.push(null_connection());
        if let Some(mid) = om.mid() {
            m.attributes.push(Attribute::value("mid", mid));
        }
        sd.media.push(m);
    }
    let listed: Vec<&str> = group.iter().copied().filter(|mid| accepted.contains(mid)).collect();
    if !listed.is_empty() {
        sd.attributes.insert(0, Attribute::value("group", &format!("BUNDLE {}", listed.join(" "))));
    }
    // RFC 8843 §7.3.1: the bundle's candidates belong to the tagged section (the group's
    // first mid), which an offerer reads the transport from.
    if let (Some(tag), Some(data)) = (listed.first().and_then(|t| sd.media.iter().position(|m| m.mid() == Some(t))), data_index) {
        if tag != data {
            move_candidates(&mut sd, data, tag);
        }
    }
    Ok(sd)
}

/// Moves the candidate lines, end-of-candidates and default address of section `from` to `to`.
fn move_candidates(sd: &mut SessionDescription, from: usize, to: usize) {
    let Some(src) = sd.media.get_mut(from) else { return };
    let (port, connections) = (src.port, src.connections.clone());
    let moved: Vec<Attribute> = src
        .attributes
        .iter()
        .filter(|a| a.name == "candidate" || a.name == "end-of-candidates")
        .cloned()
        .collect();
    src.attributes.retain(|a| a.name != "candidate" && a.name != "end-of-candidates");
    src.port = 9;
    src.connections = vec![null_connection()];
    if let Some(dst) = sd.media.get_mut(to) {
        dst.port = port;
        dst.connections = connections;
        dst.attributes.extend(moved);
    }
}

/// The m-line index and mid of the section that carries `sd`'s transport: the first mid of
/// the BUNDLE group holding the data section, else the data section itself.
pub fn transport_section(sd: &SessionDescription) -> Option<(usize, String)> {
    let data = sd.media.iter().position(|m| is_data_section(m) && !is_rejected(m))?;
    let data_mid = sd.media.get(data)?.mid();
    let tag = data_mid
        .and_then(|mid| bundle_groups(sd).find(|g| g.contains(&mid)))
        .and_then(|g| g.first().copied())
        .and_then(|t| sd.media.iter().position(|m| m.mid() == Some(t) && !is_rejected(m)))
        .unwrap_or(data);
    Some((tag, sd.media.get(tag)?.mid()?.to_owned()))
}

/// The RTP/AVPF profiles over DTLS-SRTP we answer (RFC 5764 §8; TCP for ICE-TCP offers).
const MEDIA_PROTOS: &[&str] = &[media::PROTO_RTP_SAVPF, "TCP/TLS/RTP/SAVPF"];

/// Our answer to one offered audio/video section that shares the data section's transport:
/// receive only (we have no track to send yet), with the codecs and header extensions both
/// sides have ([`media::negotiate`]) and the transport attributes of the bundle (so the
/// section can be the BUNDLE tag). `None` (the section is rejected): not a media section, no
/// rtcp-mux (RFC 8843 §9.1 requires it with BUNDLE), another protocol, or no codec in common.
pub fn answer_media_section(om: &MediaDescription, p: &LocalParams, setup: Setup) -> Option<MediaDescription> {
    if !om.has_attr("rtcp-mux") || !MEDIA_PROTOS.contains(&om.proto.as_str()) {
        return None;
    }
    let offered = MediaSection::parse(om).ok()??;
    let answer = media::negotiate(
        &offered,
        &media::default_codecs(offered.kind),
        &media::default_extensions(offered.kind),
        Direction::RecvOnly,
    )?;
    let mut m = MediaDescription::new(om.media.clone(), 9, &om.proto, &[]);
    m.connections.push(null_connection());
    push_transport_attributes(&mut m.attributes, p, setup);
    let a = &mut m.attributes;
    if let Some(mid) = om.mid() {
        a.push(Attribute::value("mid", mid));
    }
    answer.write(&mut m);
    Some(m)
}

// ---------------------------------------------------------------------------------------
// Reading a remote description
// ---------------------------------------------------------------------------------------

/// RFC 8839 §5.4 `ice-char`.
fn is_ice_chars(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// One `a=fingerprint` value, read.
enum ParsedFingerprint {
    /// A supported hash: (lower-case hash, upper-case value).
    Strong(String, String),
    /// A hash weaker than SHA-256 (lower-case name); its value is not used.
    Weak(String),
    Unsupported,
}

/// Parse one `a=fingerprint` value.
fn parse_fingerprint(v: &str) -> Result<ParsedFingerprint, JsepError> {
    let mut it = v.split_ascii_whitespace();
    let (Some(hash), Some(value), None) = (it.next(), it.next(), it.next()) else {
        return Err(JsepError::BadFingerprint);
    };
    let hash = hash.to_ascii_lowercase();
    if Fingerprint::is_weak_algorithm(&hash) {
        return Ok(ParsedFingerprint::Weak(hash));
    }
    let Some(&(_, size)) = SUPPORTED_FINGERPRINT_HASHES.iter().find(|(h, _)| *h == hash) else {
        return Ok(ParsedFingerprint::Unsupported);
    };
    let mut count = 0usize;
    for pair in value.split(':') {
        if pair.len() != 2 || !pair.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(JsepError::BadFingerprint);
        }
        count += 1;
    }
    if count != size {
        return Err(JsepError::BadFingerprint);
    }
    Ok(ParsedFingerprint::Strong(hash, value.to_ascii_uppercase()))
}

/// What the peer needs from a remote description (RFC 8839, 8842, 8841, 8843).
///
/// The data section is the first usable one (in an offer: the first not rejected). ICE
/// and DTLS attributes are read from the BUNDLE-tagged section when the data section is
/// bundled, then the data section, then session level (media wins).
/// An offer without a data section gives `Ok` with `rejected: true` and
/// `data_mline_index: None` (the answer rejects everything); an answer without one is
/// [`JsepError::NoDataSection`]. A rejected data section skips transport validation.
pub fn parse_remote(desc: &SessionDescription, is_offer: bool) -> Result<RemoteParams, JsepError> {
    check_mids(desc)?;
    let usable = desc.media.iter().position(|m| is_data_section(m) && !is_rejected(m));
    let found = if is_offer {
        usable
    } else {
        // An answer may reject other data sections before the accepted one (as ours do
        // for an offer with several): the accepted one wins (found by fuzzing).
        usable.or_else(|| desc.media.iter().position(is_data_section))
    };
    let Some((index, data)) = found.and_then(|i| desc.media.get(i).map(|m| (i, m))) else {
        return if is_offer { Ok(RemoteParams::none()) } else { Err(JsepError::NoDataSection) };
    };
    let mut out = RemoteParams::none();
    out.data_mline_index = Some(index);
    out.data_mid = data.mid().map(str::to_owned);
    out.rejected = is_rejected(data);
    out.ice_lite = desc.has_attr("ice-lite");

    // SCTP parameters live on the data section itself (RFC 8841 §5, §6).
    if let Some(v) = data.attr("sctp-port") {
        out.sctp_port = super::wire::parse_u16(v.trim()).filter(|p| *p != 0).ok_or(JsepError::BadSctpPort)?;
    } else if data.proto == PROTO_LEGACY_DTLS_SCTP {
        let f = data.formats.first().map(String::as_str).unwrap_or("");
        out.sctp_port = super::wire::parse_u16(f).filter(|p| *p != 0).ok_or(JsepError::BadSctpPort)?;
    }
    if let Some(v) = data.attr("max-message-size") {
        let n = super::wire::parse_u64(v.trim()).ok_or(JsepError::BadMaxMessageSize)?;
        out.max_message_size = Some(usize::try_from(n).unwrap_or(usize::MAX));
    }
    if out.rejected {
        return Ok(out);
    }

    // The transport: the BUNDLE-tagged section when the data section is bundled.
    let tagged = data.mid().and_then(|mid| {
        bundle_groups(desc)
            .find(|g| g.contains(&mid))
            .and_then(|g| g.first().copied())
            .and_then(|tag| desc.media.iter().find(|m| m.mid() == Some(tag)))
            .filter(|m| !is_rejected(m))
    });
    let levels: Vec<&[Attribute]> = match tagged {
        Some(t) if !core::ptr::eq(t, data) => vec![&t.attributes, &data.attributes, &desc.attributes],
        _ => vec![&data.attributes, &desc.attributes],
    };
    let lookup = |name: &str| {
        levels.iter().find_map(|l| l.iter().find(|a| a.name == name).map(|a| a.value.as_deref().unwrap_or("")))
    };
    let ufrag = lookup("ice-ufrag").ok_or(JsepError::MissingIceUfrag)?.trim();
    if !is_ice_chars(ufrag, 4, 256) {
        return Err(JsepError::BadIceUfrag);
    }
    let pwd = lookup("ice-pwd").ok_or(JsepError::MissingIcePwd)?.trim();
    if !is_ice_chars(pwd, 22, 256) {
        return Err(JsepError::BadIcePwd);
    }
    out.ice_ufrag = ufrag.to_owned();
    out.ice_pwd = pwd.to_owned();
    out.trickle = lookup("ice-options").is_some_and(|v| v.split_ascii_whitespace().any(|o| o == "trickle"));

    let fp_level =
        levels.iter().find(|l| l.iter().any(|a| a.name == "fingerprint")).ok_or(JsepError::MissingFingerprint)?;
    let mut weak = None;
    for a in fp_level.iter().filter(|a| a.name == "fingerprint") {
        match parse_fingerprint(a.value.as_deref().unwrap_or(""))? {
            ParsedFingerprint::Strong(hash, value) => out.fingerprints.push((hash, value)),
            ParsedFingerprint::Weak(hash) => {
                weak.get_or_insert(hash);
            }
            ParsedFingerprint::Unsupported => {}
        }
    }
    if out.fingerprints.is_empty() {
        return Err(match weak {
            Some(hash) => JsepError::WeakFingerprint(hash),
            None => JsepError::UnsupportedFingerprint,
        });
    }

    out.setup = match lookup("setup") {
        None => Setup::Active, // RFC 4145 §4: absent means active.
        Some(v) => Setup::parse(v).ok_or(JsepError::BadSetup)?,
    };
    if !is_offer && out.setup == Setup::Actpass {
        return Err(JsepError::BadSetup); // RFC 8842 §5.3: an answer must not be actpass.
    }

    // The sections sharing this transport, and the audio/video ones among them.
    let group: Vec<&str> = data.mid().and_then(|mid| bundle_groups(desc).find(|g| g.contains(&mid))).unwrap_or_default();
    for (i, m) in desc.media.iter().enumerate() {
        let shares = i == index || m.mid().is_some_and(|mid| group.contains(&mid)) && !is_rejected(m);
        if !shares {
            continue;
        }
        if let Some(mid) = m.mid() {
            out.bundled.push((mid.to_owned(), i));
        }
        if i != index {
            match MediaSection::parse(m) {
                Ok(Some(section)) => out.media.push((i, section)),
                Ok(None) => {}
                Err(e) => return Err(JsepError::BadMediaSection(e)),
            }
        }
    }

    let mut transport = levels.first().copied().unwrap_or(&[]);
    if !transport.iter().any(|a| a.name == "candidate") && data.attributes.iter().any(|a| a.name == "candidate") {
        // Some stacks put the bundle's candidates on the data section: taken from there.
        transport = &data.attributes;
    }
    for a in transport.iter().filter(|a| a.name == "candidate").take(MAX_CANDIDATES) {
        out.candidates.push(format!("candidate:{}", a.value.as_deref().unwrap_or("")));
    }
    out.end_of_candidates =
        transport.iter().any(|a| a.name == "end-of-candidates") || desc.has_attr("end-of-candidates");
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Candidates and checks on existing descriptions
// ---------------------------------------------------------------------------------------

/// The section an `RTCIceCandidate` belongs to (W3C `addIceCandidate`): `sdp_mid` when
/// given, else `sdp_mline_index`.
pub fn find_media_section(
    desc: &SessionDescription,
    sdp_mid: Option<&str>,
    sdp_mline_index: Option<u16>,
) -> Result<usize, JsepError> {
    match (sdp_mid, sdp_mline_index) {
        (Some(mid), _) => desc.media.iter().position(|m| m.mid() == Some(mid)).ok_or(JsepError::NoSuchMediaSection),
        (None, Some(i)) => {
            let i = usize::from(i);
            if i < desc.media.len() {
                Ok(i)
            } else {
                Err(JsepError::NoSuchMediaSection)
            }
        }
        (None, None) => Err(JsepError::MissingMidAndIndex),
    }
}

/// Add `a=candidate:...` to section `mline_index` (before any `a=end-of-candidates`), as a
/// browser updates its local description while gathering. `candidate` is the
/// `candidate:...` string (an `a=` prefix is tolerated); an empty string adds
/// end-of-candidates instead. Adding a candidate already present does nothing.
pub fn add_candidate(desc: &mut SessionDescription, mline_index: usize, candidate: &str) -> Result<(), JsepError> {
    if candidate.trim().is_empty() {
        return add_end_of_candidates(desc, mline_index);
    }
    let value = candidate_value(candidate)?;
    let m = desc.media.get_mut(mline_index).ok_or(JsepError::NoSuchMediaSection)?;
    if m.attrs("candidate").any(|v| v == value) {
        return Ok(());
    }
    if m.attrs("candidate").count() >= MAX_CANDIDATES || m.attributes.len() >= super::wire::MAX_ATTRIBUTES {
        return Err(JsepError::TooManyCandidates);
    }
    let at = m.attributes.iter().position(|a| a.name == "end-of-candidates").unwrap_or(m.attributes.len());
    m.attributes.insert(at, Attribute::value("candidate", value));
    Ok(())
}

/// Add `a=end-of-candidates` to section `mline_index` (idempotent).
pub fn add_end_of_candidates(desc: &mut SessionDescription, mline_index: usize) -> Result<(), JsepError> {
    let m = desc.media.get_mut(mline_index).ok_or(JsepError::NoSuchMediaSection)?;
    if !m.has_attr("end-of-candidates") {
        if m.attributes.len() >= super::wire::MAX_ATTRIBUTES {
            return Err(JsepError::TooManyCandidates);
        }
        m.attributes.push(Attribute::flag("end-of-candidates"));
    }
    Ok(())
}

fn effective<'a>(sd: &'a SessionDescription, m: &'a MediaDescription, name: &'a str) -> Vec<&'a str> {
    let media: Vec<&str> = m.attrs(name).map(str::trim).collect();
    if media.is_empty() {
        sd.attrs(name).map(str::trim).collect()
    } else {
        media
    }
}

/// Whether `b` is `a` up to changes that alter nothing negotiated (W3C webrtc-pc: an SDP
/// passed to setLocalDescription must be the one createOffer/createAnswer made): same
/// sections (media, proto, mid, rejected or not), same ICE ufrag/pwd, same fingerprints
/// (case-insensitive), same setup. `false` maps to `InvalidModificationError`.
pub fn same_session(a: &SessionDescription, b: &SessionDescription) -> bool {
    if a.media.len() != b.media.len() {
        return false;
    }
    let norm = |v: Vec<&str>| -> Vec<String> {
        let mut v: Vec<String> = v
            .into_iter()
            .map(|s| s.split_ascii_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase())
            .collect();
        v.sort();
        v
    };
    a.media.iter().zip(&b.media).all(|(ma, mb)| {
        ma.media == mb.media
            && ma.proto == mb.proto
            && ma.mid() == mb.mid()
            && (ma.port == 0) == (mb.port == 0)
            && effective(a, ma, "ice-ufrag") == effective(b, mb, "ice-ufrag")
            && effective(a, ma, "ice-pwd") == effective(b, mb, "ice-pwd")
            && effective(a, ma, "setup") == effective(b, mb, "setup")
            && norm(effective(a, ma, "fingerprint")) == norm(effective(b, mb, "fingerprint"))
    })
}
