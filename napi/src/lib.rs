//! Node addon (placeholder: being written)
