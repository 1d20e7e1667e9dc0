//! datachannel (placeholder: being written)
