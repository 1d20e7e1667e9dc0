//! sctp (placeholder: being written)
