'use strict';
// Loads the W3C implementation under test.
// POLYRTC_IMPL: a module name resolved from the repo root (e.g. `@roamhq/wrtc`,
// `node-datachannel/polyfill`) or a path (absolute, or relative to the repo root).
// Default: the repo's own JS layer as `require('polyrtc')` gets it in Node: js/cjs/node.cjs,
// generated from the ES modules of js/ by scripts/build-cjs.js (rebuilt here if stale).
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const { build: buildCjs, OUT: CJS_DIR } = require(path.join(ROOT, 'scripts', 'build-cjs.js'));
const DEFAULT_IMPL = path.join(CJS_DIR, 'node.cjs');

function implSpec() {
  return process.env.POLYRTC_IMPL || DEFAULT_IMPL;
}

function resolveImpl(spec = implSpec()) {
  if (spec.startsWith('.') || path.isAbsolute(spec)) return path.resolve(ROOT, spec);
  return require.resolve(spec, { paths: [ROOT] });
}

// polyrtc's Node engine gathers loopback candidates only when asked (napi engine option
// includeLoopback, set by the JS layer from this variable). The harnesses run on loopback only.
if (process.env.POLYRTC_INCLUDE_LOOPBACK === undefined) process.env.POLYRTC_INCLUDE_LOOPBACK = '1';

function loadImpl(spec = implSpec()) {
  if (resolveImpl(spec) === DEFAULT_IMPL) buildCjs();
  let mod = require(resolveImpl(spec));
  if (mod && !mod.RTCPeerConnection && mod.default && mod.default.RTCPeerConnection) mod = mod.default;
  if (!mod || typeof mod.RTCPeerConnection !== 'function') {
    throw new Error(`implementation ${spec} exports no RTCPeerConnection`);
  }
  return mod;
}

function implName(spec = implSpec()) {
  return spec === DEFAULT_IMPL ? 'polyrtc (js/node.js, as require gets it)' : spec;
}

module.exports = { ROOT, DEFAULT_IMPL, implSpec, resolveImpl, loadImpl, implName };
