//! Errors of the ICE layer.

use crate::stun::StunError;

/// Why an ICE input was rejected. Datagram errors are also counted in [`IceStats`](super::IceStats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IceError {
    // Candidate syntax (RFC 8839 §5.1).
    /// The candidate attribute is not well formed.
    CandidateSyntax,
    /// The address is an mDNS `.local` hostname (RFC 8828); the caller may ignore it.
    MdnsCandidate,
    /// The address is a hostname other than `.local`; not resolved by the core.
    UnresolvedHostname,
    /// Longer than [`MAX_CANDIDATE_LEN`](super::MAX_CANDIDATE_LEN).
    CandidateTooLong,
    // Bounds.
    /// More than [`MAX_REMOTE_CANDIDATES`](super::MAX_REMOTE_CANDIDATES) remote candidates.
    TooManyCandidates,
    // Datagrams (bad bytes / peer misbehaved).
    /// The datagram is not a valid STUN message.
    Stun(StunError),
    /// A request whose USERNAME does not name our ufrag (or the remote one).
    UnknownUsername,
    /// MESSAGE-INTEGRITY missing or wrong.
    BadIntegrity,
    /// A response matching no outstanding transaction.
    UnknownTransaction,
    /// A message we do not handle (indication, other method, missing attributes).
    Unexpected,
    /// Received on a transport never added with `add_local_transport`.
    UnknownTransport,
    // State.
    /// The agent is closed.
    Closed,
    /// The agent failed (RFC 7675: consent lost, or every pair failed); input is ignored.
    Failed,
}

impl From<StunError> for IceError {
    fn from(e: StunError) -> Self {
        IceError::Stun(e)
    }
}

impl core::fmt::Display for IceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for IceError {}
