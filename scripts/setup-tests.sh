#!/usr/bin/env bash
# Installs what the test suites need, idempotently (only what is missing), then builds the
# addon. Called by scripts/test-all.sh; safe to run on its own. Needs root or sudo for the
# Debian packages (Chromium, coturn, iproute2, iptables) and for the NAT suite.
#
# POLYRTC_SKIP_SETUP=1 skips all of it (for a machine that is set up by other means).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
say() { echo "=== setup: $*"; }

command -v node >/dev/null || { echo "setup: Node.js >= 18 is required (https://nodejs.org)" >&2; exit 1; }
command -v cargo >/dev/null || { echo "setup: a Rust toolchain is required (https://rustup.rs)" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -E)
else
  as_root=(false)
fi

# 1. Debian packages: a C linker for the addon; Chromium for the interop suite
#    (playwright-core drives /usr/bin/chromium); coturn (a STUN server), iproute2 and
#    iptables for the NAT suite; the openssl tool for the DTLS interop test.
APT_PACKAGES=(chromium chromium-driver ca-certificates coturn iproute2 iptables openssl)
command -v cc >/dev/null || APT_PACKAGES+=(build-essential)
python3 -m pip --version >/dev/null 2>&1 || APT_PACKAGES+=(python3-pip)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null || [ "${as_root[0]-}" = false ]; then
    echo "setup: missing packages: ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root / with sudo" >&2
    exit 1
  fi
  say "apt-get install ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi

# 2. Rust: the wasm32 target for the portability check.
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2b. wasm-bindgen's test runner, the same version as the crate pinned in wasm-tests/Cargo.toml
#     (they must match exactly). --locked first; the registry mirror may lack a locked
#     dependency version, then the newest compatible ones.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"$/\1/p' wasm-tests/Cargo.toml)
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" != "${WASM_BINDGEN_VERSION}" ]; then
  say "cargo install wasm-bindgen-cli ${WASM_BINDGEN_VERSION}"
  cargo install -q --locked wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}" 2>/dev/null \
    || cargo install -q wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}"
fi

WASM_PACK_VERSION=0.15.1
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "${WASM_PACK_VERSION}" ]; then
  say "cargo install wasm-pack ${WASM_PACK_VERSION}"
  cargo install -q --locked wasm-pack --version "${WASM_PACK_VERSION}" 2>/dev/null \
    || cargo install -q wasm-pack --version "${WASM_PACK_VERSION}"
fi

# 3. npm: exact versions from package-lock.json, only when node_modules is missing or older
#    than the lock file. No dependency needs an install script.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
else
  say "node_modules up to date"
fi

# 4. Python: aiortc for the interop suite (wheels from PyPI, no build).
AIORTC_VERSION=1.16.0
if ! python3 -c "import aiortc, sys; sys.exit(aiortc.__version__ != '${AIORTC_VERSION}')" 2>/dev/null; then
  say "pip install aiortc==${AIORTC_VERSION}"
  pip=(python3 -m pip install -q --disable-pip-version-check "aiortc==${AIORTC_VERSION}")
  [ "$(id -u)" = 0 ] && pip+=(--root-user-action=ignore)
  "${pip[@]}" 2>/dev/null || "${pip[@]}" --break-system-packages
fi

# 5. npm run build: the addon and the relay binary (release builds copied to
#    napi/polyrtc.node and relay/polyrtc-relay), the WASM engine (scripts/build-wasm.sh ->
#    js/wasm/), then the CommonJS copy of the JS layer (scripts/build-cjs.js). Each step is
#    a no-op when nothing changed.
say "npm run build"
npm run build

