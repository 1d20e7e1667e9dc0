//! peer (placeholder: being written)
