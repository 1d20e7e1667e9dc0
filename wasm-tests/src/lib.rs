//! Nothing here: the suites are in `tests/`, built for `wasm32-unknown-unknown` and run by
//! `wasm-bindgen-test-runner` (see `scripts/test-wasm.sh`).
