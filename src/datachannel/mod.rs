//! Data channels (RFC 8831) and DCEP (RFC 8832).
/// Default largest message we accept (advertised as `a=max-message-size`).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 256 * 1024;
