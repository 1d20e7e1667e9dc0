#!/usr/bin/env bash
# Builds the WASM engine for the JS layer: the core crate (feature `wasm`) for
# wasm32-unknown-unknown as a cdylib, then wasm-bindgen's `--target web` glue into js/wasm/
# (js/wasm/polyrtc.js + js/wasm/polyrtc_bg.wasm, gitignored), then wasm-opt -Oz when it is
# installed (optional). Idempotent, and quick when nothing changed (cargo is a no-op and the
# glue is regenerated only when the .wasm cargo produced is newer than js/wasm/).
#
# Needs the wasm32-unknown-unknown target and the wasm-bindgen CLI of the crate's pinned
# version (scripts/setup-tests.sh installs both into ~/.cargo/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
TARGET_DIR=${CARGO_TARGET_DIR:-target}
OUT=js/wasm
WANT=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
HAVE=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')
if [ -z "$WANT" ] || [ "$HAVE" != "$WANT" ]; then
  echo "build-wasm: wasm-bindgen CLI ${WANT:-?} is needed (found ${HAVE:-none}); run scripts/setup-tests.sh" >&2
  exit 1
fi

# The lib crate's crate-type stays rlib in Cargo.toml (a cdylib for every native build of the
# workspace would cost link time for nothing): `cargo rustc --crate-type` adds it here only.
# Size over speed for this artifact only (the native profile is untouched): opt-level "z" with
# fat LTO and one codegen unit, except the per-byte crypto of the data path (the AEADs and their
# block functions, SHA-2 for the PRF), which stays at opt-level 3 where it costs little size.
SPEED_CRATES=(aes aes-gcm ghash polyval chacha20 poly1305 chacha20poly1305)
speed=()
for c in "${SPEED_CRATES[@]}"; do speed+=(--config "profile.release.package.${c}.opt-level=3"); done
cargo rustc -q --release --lib -p polyrtc --target wasm32-unknown-unknown --features wasm --crate-type cdylib \
  --config 'profile.release.opt-level="z"' --config 'profile.release.lto=true' \
  --config 'profile.release.codegen-units=1' "${speed[@]}"
RAW="$TARGET_DIR/wasm32-unknown-unknown/release/polyrtc.wasm"
[ -f "$RAW" ] || { echo "build-wasm: $RAW was not produced" >&2; exit 1; }

if [ ! -f "$OUT/polyrtc_bg.wasm" ] || [ ! -f "$OUT/polyrtc.js" ] || [ "$RAW" -nt "$OUT/polyrtc_bg.wasm" ] \
  || [ "$0" -nt "$OUT/polyrtc_bg.wasm" ]; then
  rm -rf "$OUT.tmp"
  # The name section (function names for stack traces, 27 KB) only with POLYRTC_WASM_NAMES=1.
  names=(--remove-name-section)
  [ "${POLYRTC_WASM_NAMES:-}" = 1 ] && names=()
  wasm-bindgen --target web --out-dir "$OUT.tmp" --out-name polyrtc --remove-producers-section "${names[@]}" "$RAW"
  if command -v wasm-opt >/dev/null; then
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals -o "$OUT.tmp/polyrtc_bg.wasm" "$OUT.tmp/polyrtc_bg.wasm"
  fi
  rm -rf "$OUT"
  mv "$OUT.tmp" "$OUT"
fi
raw=$(wc -c <"$OUT/polyrtc_bg.wasm")
gz=$(gzip -9c "$OUT/polyrtc_bg.wasm" | wc -c)
# On stderr: stdout stays clean for `npm pack --json` (prepack runs this script).
echo "build-wasm: $OUT/polyrtc_bg.wasm ${raw} bytes, ${gz} bytes gzip" >&2
