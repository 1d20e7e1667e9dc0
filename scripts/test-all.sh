#!/usr/bin/env bash
# The one command that runs all tests, on a fresh machine too: it first installs what the
# suites need (scripts/setup-tests.sh: Debian's Chromium, coturn, iproute2, iptables; npm ci;
# aiortc from PyPI; the addon build; only what is missing), then runs every suite: the core's
# portability rules, Rust (unit + integration), the JS layer and addon tests, the interop
# tests (Chromium, werift, aiortc), the npm pack test and the NAT test. Every suite runs even
# if an earlier one failed; the script exits non-zero if any failed or skipped a test (a
# skipped test is not a pass).
#
# Needs root or password-less sudo (Debian packages, network namespaces for the NAT suite).
# POLYRTC_SKIP_SETUP=1 skips the setup step. POLYRTC_IMPL=<module or path> runs the interop
# tests against another W3C implementation (e.g. @roamhq/wrtc); by default they test this
# repo's JS layer as `require('polyrtc')` loads it (js/cjs/node.cjs, generated from js/).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${POLYRTC_SKIP_SETUP:-0}" != 1 ]; then
  bash scripts/setup-tests.sh || { echo "=== test-all: setup FAILED"; exit 1; }
fi

failed=()
passed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
step() {
  local name=$1
  shift
  echo
  echo "=== test-all: ${name}: $*"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # node --test reports skipped tests in its summary ("ℹ skipped N" / "# skip N").
  if [ "$rc" -eq 0 ] && grep -qE '^(ℹ|#) skip(ped)? [1-9]' "$log"; then
    echo "=== test-all: ${name} skipped tests (a skip is not a pass; see the reasons above)"
    rc=1
  fi
  if [ "$rc" -eq 0 ]; then
    passed+=("$name")
  else
    echo "=== test-all: ${name} FAILED (exit ${rc})"
    failed+=("${name}")
  fi
}

# The core's portability rules: no wall clock in src/ (Instant::now / SystemTime::now panic
# on wasm32; test-only files `tests.rs` / `*_tests.rs` may time a real-time peer), and the
# core builds for wasm32-unknown-unknown.
rules() {
  if grep -rnE --exclude=tests.rs --exclude='*_tests.rs' '(Instant|SystemTime)::now' src/ | grep -vE '^[^:]+:[0-9]+:\s*//'; then
    echo "rules: Instant::now / SystemTime::now found in src/ (see above): the core takes time as an input" >&2
    return 1
  fi
  cargo check --lib --target wasm32-unknown-unknown && cargo check --lib --target wasm32-unknown-unknown --features wasm
}
step rules rules
step rust cargo test --workspace
# The core compiled to WebAssembly, in Node, a Chromium page and a dedicated Worker.
step wasm bash scripts/test-wasm.sh

# The CommonJS copy of the JS layer (js/cjs/) that `require('polyrtc')` loads, generated from
# the ES modules of js/ (the tests that use it also rebuild it when stale).
step cjs node scripts/build-cjs.js

# Only *.test.js files: Node 20 would also run every .js file under a test/ folder
# (helpers, fakes) as a test file when given the directory.
mapfile -t js_tests < <(find js/test napi/test bench/test relay/test -type f \( -name '*.test.js' -o -name '*.test.mjs' -o -name '*.test.cjs' \) 2>/dev/null | sort)
if [ ${#js_tests[@]} -gt 0 ]; then
  step js node --test "${js_tests[@]}"
else
  echo "=== test-all: js: no js/test or napi/test test files yet"
  failed+=("js (no test files)")
fi

step interop node --test --test-concurrency=1 tests/interop/
step pack node --test tests/pack/
# Needs root (network namespaces, iptables), ip netns and coturn.
if [ "$(id -u)" = 0 ]; then
  step nat node --test --test-concurrency=1 tests/nat/nat.test.js tests/nat/browser.test.js
else
  step nat sudo -E "$(command -v node)" --test --test-concurrency=1 tests/nat/nat.test.js tests/nat/browser.test.js
fi

echo
echo "=== test-all: suites passed: ${passed[*]:-none}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== test-all: suites FAILED: ${failed[*]}"
  exit 1
fi
echo "=== test-all: all suites passed"
