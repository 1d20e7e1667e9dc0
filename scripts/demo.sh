#!/usr/bin/env bash
# Quick start: sets up what this repo needs on a fresh Debian/Ubuntu machine with Node >= 18
# and a Rust toolchain, builds the addon and runs the demo (two peers exchanging data).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "demo: Node.js >= 18 is required (https://nodejs.org)" >&2; exit 1; }
command -v cargo >/dev/null || { echo "demo: a Rust toolchain is required to build the addon (https://rustup.rs)" >&2; exit 1; }
if ! command -v cc >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential
  else
    echo "demo: a C toolchain (cc) is required to link the addon: apt-get install build-essential" >&2
    exit 1
  fi
fi

echo "demo: npm ci"
npm ci --no-audit --no-fund
echo "demo: building the addon (npm run build)"
npm run build
echo "demo: node examples/demo.js"
node examples/demo.js
