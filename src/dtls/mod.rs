//! dtls (placeholder: being written)
