#!/usr/bin/env bash
# Quick start: sets up what this repo needs on a fresh Debian/Ubuntu machine with Node >= 18
# and a Rust toolchain (rustup), builds the addon, the relay and the WASM engine, and runs the
# demo: two addon peers exchanging data, then a WASM peer and an addon peer through the relay.
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

# The WASM engine needs the wasm32 target and wasm-bindgen's CLI of the pinned version.
export PATH="$HOME/.cargo/bin:$PATH"
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "demo: rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"$/\1/p' wasm-tests/Cargo.toml)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "${WASM_BINDGEN_VERSION}" ]; then
  echo "demo: cargo install wasm-bindgen-cli ${WASM_BINDGEN_VERSION} (a few minutes, once)"
  cargo install -q --locked wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}" 2>/dev/null \
    || cargo install -q wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}"
fi

echo "demo: npm ci"
npm ci --no-audit --no-fund
echo "demo: building the addon, the relay and the WASM engine (npm run build)"
npm run build
echo "demo: node examples/demo.js"
node examples/demo.js
