//! Errors of the SDP layer: [`SdpError`] for the codec, [`JsepError`] for negotiation.

use core::fmt;

/// Why a session description could not be parsed (RFC 8866 grammar or our bounds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SdpErrorKind {
    /// The whole description is longer than [`super::wire::MAX_SDP_SIZE`].
    TooLarge,
    /// The input is not UTF-8 (only for [`super::SessionDescription::parse_bytes`]).
    NotUtf8,
    /// Nothing but blank lines.
    Empty,
    /// A line is longer than [`super::wire::MAX_LINE_LENGTH`].
    LineTooLong,
    /// A line is not `<lowercase letter>=<value>`, or holds a NUL or a stray CR.
    MalformedLine,
    /// The first line is not `v=`.
    MissingVersion,
    /// `v=` is not `0`.
    UnsupportedVersion,
    /// `o=` is missing or not the second line.
    MissingOrigin,
    /// `o=` does not have six well-formed fields.
    BadOrigin,
    /// `s=` is missing or not the third line.
    MissingSessionName,
    /// No `t=` line before the first `m=`.
    MissingTiming,
    /// `t=`, `r=` or `z=` is malformed.
    BadTiming,
    /// `c=` is malformed (or repeated at session level).
    BadConnection,
    /// `b=` is malformed.
    BadBandwidth,
    /// `m=` is malformed (media, port, count, proto or formats).
    BadMediaLine,
    /// `a=` has an empty or non-token name.
    BadAttribute,
    /// A line type appears where RFC 8866 §5 does not allow it (order or repetition).
    UnexpectedLine(char),
    /// More than [`super::wire::MAX_MEDIA_SECTIONS`] `m=` sections.
    TooManyMediaSections,
    /// More than [`super::wire::MAX_ATTRIBUTES`] attributes in one section.
    TooManyAttributes,
    /// More than [`super::wire::MAX_REPEATED_LINES`] lines of one other repeatable type, or
    /// more than [`super::wire::MAX_FORMATS`] formats on an `m=` line.
    TooManyFields,
}

/// A parse failure: the 1-based line number (0 when not tied to a line) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdpError {
    pub line: usize,
    pub kind: SdpErrorKind,
}

impl SdpError {
    pub(crate) fn new(line: usize, kind: SdpErrorKind) -> SdpError {
        SdpError { line, kind }
    }
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid SDP at line {}: {:?}", self.line, self.kind)
    }
}

impl std::error::Error for SdpError {}

/// Why a description cannot be negotiated (RFC 8829 JSEP, RFC 8839/8842/8841/8843).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsepError {
    /// The signaling state does not allow this description type (W3C `InvalidStateError`).
    InvalidState,
    /// The description could not be parsed.
    Sdp(SdpError),
    /// An answer (or required offer) has no usable `m=application ... DTLS/SCTP` section.
    NoDataSection,
    /// The data section's transport has no `a=ice-ufrag`.
    MissingIceUfrag,
    /// The data section's transport has no `a=ice-pwd`.
    MissingIcePwd,
    /// `a=ice-ufrag` is not 4..=256 ice-chars (RFC 8839 §5.4).
    BadIceUfrag,
    /// `a=ice-pwd` is not 22..=256 ice-chars (RFC 8839 §5.4).
    BadIcePwd,
    /// No `a=fingerprint` on the data section nor at session level (RFC 8122).
    MissingFingerprint,
    /// Every `a=fingerprint` uses a hash we do not support.
    UnsupportedFingerprint,
    /// Every supported `a=fingerprint` uses a hash weaker than SHA-256 (named here, e.g.
    /// `sha-1`); see [`crate::crypto::WEAK_FINGERPRINT_ALGORITHMS`].
    WeakFingerprint(String),
    /// An `a=fingerprint` value is not `<hash> <hex pairs joined by ':'>` of the right size.
    BadFingerprint,
    /// `a=setup` is not one of actpass/active/passive/holdconn, or is actpass in an answer.
    BadSetup,
    /// `a=sctp-port` / the legacy format is not a port in 1..=65535.
    BadSctpPort,
    /// `a=max-message-size` is not a decimal number.
    BadMaxMessageSize,
    /// An `a=bundle-only` section is not listed in any `a=group:BUNDLE`.
    BundleOnlyWithoutBundle,
    /// A BUNDLE group names a mid no section has, or a mid appears twice.
    BadBundleGroup,
    /// Two sections share one `a=mid`.
    DuplicateMid,
    /// A candidate's `sdpMid` / `sdpMLineIndex` names no section (W3C `OperationError`).
    NoSuchMediaSection,
    /// Neither `sdpMid` nor `sdpMLineIndex` was given (W3C `TypeError`).
    MissingMidAndIndex,
    /// A candidate attribute value does not start with `candidate:` or is malformed.
    BadCandidate,
    /// Adding one more candidate would exceed [`super::jsep::MAX_CANDIDATES`].
    TooManyCandidates,
    /// An audio/video section sharing the transport is malformed (its rtpmap, extmap, ...).
    BadMediaSection(super::media::MediaError),
}

impl JsepError {
    /// The W3C exception name this error should surface as (webrtc-pc §4.4.1.5, §4.4.1.6):
    /// `InvalidStateError` for the state table, `TypeError` for a candidate with neither mid
    /// nor index, and `OperationError` (an `RTCError`; `sdp-syntax-error` for
    /// [`JsepError::Sdp`]) for everything the remote description got wrong.
    pub fn w3c_name(&self) -> &'static str {
        match self {
            JsepError::InvalidState => "InvalidStateError",
            JsepError::MissingMidAndIndex => "TypeError",
            _ => "OperationError",
        }
    }
}

impl From<SdpError> for JsepError {
    fn from(e: SdpError) -> JsepError {
        JsepError::Sdp(e)
    }
}

impl fmt::Display for JsepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsepError::Sdp(e) => e.fmt(f),
            JsepError::WeakFingerprint(hash) => write!(
                f,
                "JSEP error: a=fingerprint hash {hash} is weaker than SHA-256 and refused; \
                 a sha-256 (or stronger) fingerprint is required"
            ),
            other => write!(f, "JSEP error: {other:?}"),
        }
    }
}

impl std::error::Error for JsepError {}
