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
    /// We are an ICE-lite agent: `a=ice-lite` at session level (RFC 8839 §5.3).
    pub ice_lite: bool,
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
    /// The data section (bundled with the transport), if any.
    pub data_mid: Option<String>,
    pub data_mline_index: Option<usize>,
    /// The section that carries the transport (the BUNDLE tag).
    pub transport_mid: Option<String>,
    pub transport_mline_index: Option<usize>,
    /// The sections that share the transport (the BUNDLE group, not rejected), as
    /// `(mid, m-line index)`: candidates may name any of them.
    pub bundled: Vec<(String, usize)>,
    /// Their audio/video sections, read ([`MediaSection`]), with their m-line index.
    pub media: Vec<(usize, MediaSection)>,
    /// No usable section (data, or audio/video over DTLS-SRTP): nothing to connect.
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
            transport_mid: None,
            transport_mline_index: None,
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

/// Our data section; `candidates`: it carries the bundle's candidates and default address
/// (it is the BUNDLE tag, or the only section).
fn data_section(p: &LocalParams, proto: &str, mid: Option<&str>, setup: Setup, candidates: bool) -> MediaDescription {
    let legacy = proto == PROTO_LEGACY_DTLS_SCTP;
    let port_text = p.sctp_port.to_string();
    let fmt = if legacy { port_text.as_str() } else { "webrtc-datachannel" };
    let mut m = MediaDescription::new(MediaType::Application, 9, proto, &[fmt]);
    m.connections.push(null_connection());
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
    if candidates {
        push_candidates(&mut m, p);
    }
    m
}

/// The gathered candidates, end-of-candidates and the default address (JSEP §5.2.1) on the
/// section that carries the transport.
fn push_candidates(m: &mut MediaDescription, p: &LocalParams) {
    if let Some((addrtype, address, port)) = default_candidate(&p.candidates) {
        m.port = port;
        m.connections = vec![Connection { nettype: "IN".into(), addrtype: addrtype.into(), address: address.into() }];
    }
    for c in &p.candidates {
        if let Ok(v) = candidate_value(c) {
            m.attributes.push(Attribute::value("candidate", v));
        }
    }
    if p.end_of_candidates {
        m.attributes.push(Attribute::flag("end-of-candidates"));
    }
}

/// One m-line of a description we write (an offer or an answer), in m-line order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalSection {
    /// The data-channel section (`proto` as offered, e.g. legacy `DTLS/SCTP`).
    Data { mid: Option<String>, proto: String },
    /// An audio or video section: its RTP attributes (codecs, direction, msid, ssrcs...).
    Media { proto: String, section: MediaSection },
    /// A rejected (port 0) or stopped section: media, proto and formats as before, only `a=mid`.
    Rejected { media: MediaType, proto: String, formats: Vec<String>, mid: Option<String> },
}

impl LocalSection {
    pub fn mid(&self) -> Option<&str> {
        match self {
            LocalSection::Data { mid, .. } | LocalSection::Rejected { mid, .. } => mid.as_deref(),
            LocalSection::Media { section, .. } => section.mid.as_deref(),
        }
    }
    fn accepted(&self) -> bool {
        !matches!(self, LocalSection::Rejected { .. })
    }
}

/// A description of `sections` (JSEP §5.2.1 / §5.3.1): every accepted section carries our ICE
/// credentials, fingerprints and `a=setup`; `bundle` (mids of accepted sections, tag first)
/// becomes `a=group:BUNDLE`, and the tag carries the candidates and default address (RFC 8843
/// §7.1.1: the transport is the tagged section's). With no group, the first accepted section
/// carries them.
pub fn build_description(p: &LocalParams, sections: &[LocalSection], bundle: &[&str], setup: Setup) -> SessionDescription {
    let mut sd = base_session(p);
    if p.ice_lite {
        sd.attributes.push(Attribute::flag("ice-lite"));
    }
    if !bundle.is_empty() {
        sd.attributes.push(Attribute::value("group", &format!("BUNDLE {}", bundle.join(" "))));
    }
    sd.attributes.push(Attribute::value("msid-semantic", " WMS"));
    let tag = match bundle.first() {
        Some(t) => sections.iter().position(|s| s.accepted() && s.mid() == Some(t)),
        None => sections.iter().position(LocalSection::accepted),
    };
    for (i, s) in sections.iter().enumerate() {
        let carries = tag == Some(i);
        let m = match s {
            LocalSection::Data { mid, proto } => data_section(p, proto, mid.as_deref(), setup, carries),
            LocalSection::Media { proto, section } => {
                let mut m = MediaDescription::new(section.kind.media_type(), 9, proto, &[]);
                m.connections.push(null_connection());
                push_transport_attributes(&mut m.attributes, p, setup);
                if let Some(mid) = &section.mid {
                    m.attributes.push(Attribute::value("mid", mid));
                }
                section.write(&mut m);
                if carries {
                    push_candidates(&mut m, p);
                }
                m
            }
            LocalSection::Rejected { media, proto, formats, mid } => {
                let mut m = MediaDescription::new(media.clone(), 0, proto, &[]);
                m.formats = formats.clone();
                m.connections.push(null_connection());
                if let Some(mid) = mid {
                    m.attributes.push(Attribute::value("mid", mid));
                }
                m
            }
        };
        sd.media.push(m);
    }
    sd
}

/// Offer with one `m=application 9 UDP/DTLS/SCTP webrtc-datachannel` section, BUNDLEd,
/// with our ICE credentials, fingerprints, `a=setup` from `p` (normally actpass), SCTP port,
/// max message size, and the candidates gathered so far (JSEP §5.2.1).
pub fn create_offer(p: &LocalParams) -> SessionDescription {
    let data = LocalSection::Data { mid: Some(p.mid.clone()), proto: PROTO_UDP_DTLS_SCTP.into() };
    build_description(p, &[data], &[p.mid.as_str()], p.setup)
}

/// Whether `sd` has a data section that is not rejected.
pub fn has_usable_data_section(sd: &SessionDescription) -> bool {
    sd.media.iter().any(|m| is_data_section(m) && !is_rejected(m))
}

/// Whether `sd` has a section that is not rejected and that we can use (data, or audio/video
/// over DTLS-SRTP with rtcp-mux): applying it creates an ICE/DTLS transport.
pub fn has_usable_section(sd: &SessionDescription) -> bool {
    sd.media.iter().any(is_usable)
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

/// The RTP/AVPF profiles over DTLS-SRTP we use (RFC 5764 §8; TCP for ICE-TCP offers).
const MEDIA_PROTOS: &[&str] = &[media::PROTO_RTP_SAVPF, "TCP/TLS/RTP/SAVPF"];

/// Whether `m` is an audio/video section we can use: DTLS-SRTP with rtcp-mux (RFC 8843 §9.1
/// requires it with BUNDLE; RFC 8829 §5.1.1 too).
pub fn is_media_section(m: &MediaDescription) -> bool {
    matches!(m.media, MediaType::Audio | MediaType::Video) && MEDIA_PROTOS.contains(&m.proto.as_str()) && m.has_attr("rtcp-mux")
}

fn is_usable(m: &MediaDescription) -> bool {
    !is_rejected(m) && (is_data_section(m) || is_media_section(m))
}

/// Whether a section is rejected: port 0 without `a=bundle-only`.
pub fn is_rejected(m: &MediaDescription) -> bool {
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

/// The sections that share one transport: the first usable section and, when it is in a
/// BUNDLE group, the group's other sections that are not rejected. `(tag, members)`: the
/// section whose transport attributes count (the group's first mid when that section is not
/// rejected, else the first usable one) and the members' m-line indexes in m-line order.
fn transport_group(sd: &SessionDescription) -> Option<(usize, Vec<usize>, Vec<&str>)> {
    let first = sd.media.iter().position(is_usable)?;
    let group: Vec<&str> =
        sd.media.get(first)?.mid().and_then(|mid| bundle_groups(sd).find(|g| g.contains(&mid))).unwrap_or_default();
    let tag = group
        .first()
        .and_then(|t| sd.media.iter().position(|m| m.mid() == Some(t)))
        .filter(|i| sd.media.get(*i).is_some_and(|m| !is_rejected(m)))
        .unwrap_or(first);
    let members = (0..sd.media.len())
        .filter(|&i| {
            i == first
                || sd.media.get(i).is_some_and(|m| !is_rejected(m) && m.mid().is_some_and(|mid| group.contains(&mid)))
        })
        .collect();
    Some((tag, members, group))
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

/// Answer to `remote_offer` (JSEP §5.3.1) with the default media answer: audio and video
/// sections sharing our transport are accepted to receive ([`answer_media`]).
pub fn create_answer(remote_offer: &SessionDescription, p: &LocalParams) -> Result<SessionDescription, JsepError> {
    create_answer_with(remote_offer, p, |_, offered| answer_media(offered, Direction::RecvOnly, None))
}

/// Answer to `remote_offer` (JSEP §5.3.1). The sections that share the offer's first usable
/// transport (its BUNDLE group) are accepted: the first usable data section with the remote's
/// mid and proto (legacy `DTLS/SCTP` answered with `a=sctpmap`), and each audio/video section
/// that `media(m_line_index, offered)` answers (`None` rejects it; the closure gives the RTP
/// attributes: codecs, direction, msid, ssrcs). Every other section is answered rejected
/// (same media and proto, port 0, the remote's formats, only `a=mid`). BUNDLE lists the
/// accepted mids of the offer's group, in its order. `a=setup` is `p.setup` unless the offer
/// forces the other role ([`Setup::answer_to`]).
pub fn create_answer_with(
    remote_offer: &SessionDescription,
    p: &LocalParams,
    mut media: impl FnMut(usize, &MediaSection) -> Option<MediaSection>,
) -> Result<SessionDescription, JsepError> {
    check_mids(remote_offer)?;
    let (tag, members, group) = transport_group(remote_offer).unwrap_or((usize::MAX, Vec::new(), Vec::new()));
    let setup =
        remote_offer.media.get(tag).map_or(p.setup, |om| Setup::answer_to(setup_of(remote_offer, om), p.setup));
    let data_index = members.iter().copied().find(|&i| remote_offer.media.get(i).is_some_and(is_data_section));
    let mut sections = Vec::with_capacity(remote_offer.media.len());
    for (i, om) in remote_offer.media.iter().enumerate() {
        let mid = om.mid().map(str::to_owned);
        if Some(i) == data_index {
            sections.push(LocalSection::Data { mid, proto: om.proto.clone() });
            continue;
        }
        let answered = (members.contains(&i) && is_media_section(om))
            .then(|| MediaSection::parse(om).ok().flatten())
            .flatten()
            .and_then(|offered| media(i, &offered).map(|mut s| {
                s.mid = offered.mid.clone();
                s
            }));
        match answered {
            Some(section) => sections.push(LocalSection::Media { proto: om.proto.clone(), section }),
            None => sections.push(LocalSection::Rejected {
                media: om.media.clone(),
                proto: om.proto.clone(),
                formats: om.formats.clone(),
                mid,
            }),
        }
    }
    let accepted: Vec<&str> = sections.iter().filter(|s| s.accepted()).filter_map(LocalSection::mid).collect();
    let listed: Vec<&str> = group.iter().copied().filter(|mid| accepted.contains(mid)).collect();
    Ok(build_description(p, &sections, &listed, setup))
}

/// The m-line index and mid of the section that carries `sd`'s transport (the BUNDLE tag of
/// the first usable section's group, else that section).
pub fn transport_section(sd: &SessionDescription) -> Option<(usize, String)> {
    let (tag, _, _) = transport_group(sd)?;
    Some((tag, sd.media.get(tag)?.mid()?.to_owned()))
}

/// Our RTP parameters for one offered audio/video section: the codecs and header extensions
/// both sides have ([`media::negotiate`], our codecs `codecs` or the defaults), the direction
/// from the offer and `wanted`. `None`: no codec in common (the section is rejected).
pub fn answer_media(offered: &MediaSection, wanted: Direction, codecs: Option<&[media::Codec]>) -> Option<MediaSection> {
    let defaults;
    let ours = match codecs {
        Some(c) if !c.is_empty() => c,
        _ => {
            defaults = media::default_codecs(offered.kind);
            &defaults
        }
    };
    media::negotiate(offered, ours, &media::default_extensions(offered.kind), wanted)
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
/// The transport is the first usable section's (data, or audio/video over DTLS-SRTP with
/// rtcp-mux) and its BUNDLE group's: ICE and DTLS attributes are read from the group's
/// tagged section, then that first section, then session level (media wins). The data
/// section is the first data section of the group.
/// An offer without a usable section gives `Ok` with `rejected: true` (the answer rejects
/// everything); so does an answer that rejected our data section (`data_mline_index` names
/// it); an answer with no section of either kind is [`JsepError::NoDataSection`]. A rejected
/// description skips transport validation.
pub fn parse_remote(desc: &SessionDescription, is_offer: bool) -> Result<RemoteParams, JsepError> {
    check_mids(desc)?;
    let mut out = RemoteParams::none();
    out.ice_lite = desc.has_attr("ice-lite");
    let Some((tag, members, _)) = transport_group(desc) else {
        if is_offer {
            return Ok(out);
        }
        // An answer that rejected our sections: reported, not an error.
        if let Some(index) = desc.media.iter().position(is_data_section) {
            out.data_mline_index = Some(index);
            out.data_mid = desc.media.get(index).and_then(|m| m.mid()).map(str::to_owned);
            return Ok(out);
        }
        if desc.media.iter().any(|m| m.port == 0) {
            return Ok(out);
        }
        return Err(JsepError::NoDataSection);
    };
    out.rejected = false;
    out.transport_mline_index = Some(tag);
    let first = members.first().copied().unwrap_or(tag);
    let (Some(tagged), Some(first_section)) = (desc.media.get(tag), desc.media.get(first)) else {
        return Err(JsepError::NoDataSection);
    };
    out.transport_mid = tagged.mid().map(str::to_owned);
    let data = members.iter().copied().find(|&i| desc.media.get(i).is_some_and(is_data_section));
    if let Some((index, data)) = data.and_then(|i| desc.media.get(i).map(|m| (i, m))) {
        out.data_mline_index = Some(index);
        out.data_mid = data.mid().map(str::to_owned);
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
    }

    let levels: Vec<&[Attribute]> = if tag != first {
        vec![&tagged.attributes, &first_section.attributes, &desc.attributes]
    } else {
        vec![&tagged.attributes, &desc.attributes]
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
    for &i in &members {
        let Some(m) = desc.media.get(i) else { continue };
        if let Some(mid) = m.mid() {
            out.bundled.push((mid.to_owned(), i));
        }
        if is_media_section(m) {
            match MediaSection::parse(m) {
                Ok(Some(section)) => out.media.push((i, section)),
                Ok(None) => {}
                Err(e) => return Err(JsepError::BadMediaSection(e)),
            }
        }
    }

    let mut transport = levels.first().copied().unwrap_or(&[]);
    if !transport.iter().any(|a| a.name == "candidate") {
        // Some stacks put the bundle's candidates on another section of it: taken from there.
        if let Some(m) = members.iter().filter_map(|&i| desc.media.get(i)).find(|m| m.has_attr("candidate")) {
            transport = &m.attributes;
        }
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
