//! SDP (RFC 8866) and JSEP (RFC 8829 / RFC 9429) for the data-channel m-line.
//!
//! - [`wire`]: the SDP model, a tolerant never-panicking parser and a CRLF serializer.
//! - [`media`]: audio/video sections (codecs with RTX and feedback, header extensions,
//!   direction, msid, SSRCs, rids/simulcast) read and written, our capabilities, and the
//!   answerer's negotiation of one section. Not yet wired into [`jsep`].
//! - [`jsep`]: offers and answers with one `m=application ... UDP/DTLS/SCTP` section
//!   (RFC 8841), reading remote ICE (RFC 8839) / DTLS (RFC 8122, 8842) / SCTP parameters,
//!   BUNDLE (RFC 8843) checks, the signaling state table, and candidate bookkeeping.

pub mod error;
#[doc(hidden)]
pub mod fuzz;
pub mod jsep;
pub mod media;
pub mod wire;

#[cfg(test)]
mod tests;

pub use error::{JsepError, SdpError, SdpErrorKind};
pub use jsep::{
    add_candidate, add_end_of_candidates, create_answer, create_offer, find_media_section, is_data_section,
    parse_remote, same_session, transition, DescriptionType, LocalParams, RemoteParams, Setup, SignalingState,
};
pub use wire::{
    Attribute, Bandwidth, Connection, MediaDescription, MediaType, Origin, SessionDescription, Timing, UnknownLine,
};
