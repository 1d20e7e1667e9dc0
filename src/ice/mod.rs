//! ice (placeholder: being written)
