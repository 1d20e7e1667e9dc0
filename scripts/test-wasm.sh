#!/usr/bin/env bash
# The core under WebAssembly: `wasm-pack test` on wasm-tests/ (built for
# wasm32-unknown-unknown, run by wasm-bindgen-test-runner, the CLI matching the pinned
# wasm-bindgen crate; scripts/setup-tests.sh installs both with cargo) in Node, in headless
# Chromium (a page) and in a dedicated Worker (Debian's chromium + chromedriver;
# wasm-tests/webdriver.json gives the browser's flags). The suites are configured for Node;
# WASM_BINDGEN_USE_BROWSER / _DEDICATED_WORKER move them into the browser. A run that skips
# a suite ("only configured to run in node.js") or runs no test fails here.
set -euo pipefail
cd "$(dirname "$0")/../wasm-tests"
export PATH="$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
  local where=$1
  shift
  echo "--- wasm-tests in ${where}: wasm-pack test $*"
  env "${ENVS[@]}" wasm-pack --log-level warn test "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || return "$rc"
  if grep -q "skipping" "$log"; then
    echo "test-wasm: a suite was skipped in ${where} (see above)" >&2
    return 1
  fi
  local passed
  passed=$(grep -oE 'test result: ok\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
  if [ "$passed" -lt 5 ]; then
    echo "test-wasm: only ${passed} tests passed in ${where}" >&2
    return 1
  fi
  echo "--- ${where}: ${passed} passed"
}
ENVS=(POLYRTC_WASM_TESTS=1)
run Node --node
ENVS=(WASM_BINDGEN_USE_BROWSER=1)
run 'headless Chromium (page)' --headless --chrome --chromedriver "$CHROMEDRIVER"
ENVS=(WASM_BINDGEN_USE_DEDICATED_WORKER=1)
run 'headless Chromium (dedicated Worker)' --headless --chrome --chromedriver "$CHROMEDRIVER"
