#!/usr/bin/env bash
# The one command that runs all tests: Rust (unit + integration), the JS layer and addon tests,
# the interop tests (Chromium, werift) and the npm pack test. Every suite runs even if an
# earlier one failed; the script exits non-zero if any failed.
#
# Prerequisites (what .ci/run and scripts/demo.sh install): npm ci, npm run build
# (napi/polyrtc.node), Debian's chromium at /usr/bin/chromium; for tests/nat: root, coturn,
# iproute2, iptables.
# POLYRTC_IMPL=<module or path> runs the interop tests against another W3C implementation
# (e.g. @roamhq/wrtc); by default they test this repo's js/index.js.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
passed=()
step() {
  local name=$1
  shift
  echo
  echo "=== test-all: ${name}: $*"
  "$@"
  local rc=$?
  if [ "$rc" -eq 0 ]; then
    passed+=("$name")
  else
    echo "=== test-all: ${name} FAILED (exit ${rc})"
    failed+=("${name}")
  fi
}

step rust cargo test --workspace

# Only *.test.js files: Node 20 would also run every .js file under a test/ folder
# (helpers, fakes) as a test file when given the directory.
mapfile -t js_tests < <(find js/test napi/test -type f \( -name '*.test.js' -o -name '*.test.mjs' -o -name '*.test.cjs' \) 2>/dev/null | sort)
if [ ${#js_tests[@]} -gt 0 ]; then
  step js node --test "${js_tests[@]}"
else
  echo "=== test-all: js: no js/test or napi/test test files yet"
  failed+=("js (no test files)")
fi

step interop node --test --test-concurrency=1 tests/interop/
step pack node --test tests/pack/
# Needs root, ip netns, iptables and coturn (skips loudly otherwise; fails instead under CI=true).
step nat node --test tests/nat/nat.test.js

echo
echo "=== test-all: suites passed: ${passed[*]:-none}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== test-all: suites FAILED: ${failed[*]}"
  exit 1
fi
echo "=== test-all: all suites passed"
