//! stun (placeholder: being written)
