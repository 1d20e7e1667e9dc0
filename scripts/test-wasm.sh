#!/usr/bin/env bash
# The core under WebAssembly: builds wasm-tests/ for wasm32-unknown-unknown and runs its
# suites with wasm-bindgen-test-runner (the CLI matching the pinned wasm-bindgen crate;
# scripts/setup-tests.sh installs it) in Node, in headless Chromium (a page) and in a
# dedicated Worker (Debian's chromium + chromedriver; wasm-tests/webdriver.json gives the
# browser's flags).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
run() {
  echo "--- wasm-tests in $1"
  shift
  env "$@" cargo test -p polyrtc-wasm-tests --target wasm32-unknown-unknown
}
run Node
run 'headless Chromium (page)' WASM_BINDGEN_USE_BROWSER=1
run 'headless Chromium (dedicated Worker)' WASM_BINDGEN_USE_DEDICATED_WORKER=1
