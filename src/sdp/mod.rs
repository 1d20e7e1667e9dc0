//! sdp (placeholder: being written)
