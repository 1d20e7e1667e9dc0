'use strict';
// `polyrtc/polyfill`: js/lib/install.js on a plain target object, and the Node entries
// (ESM js/polyfill-node.js, generated CommonJS js/cjs/polyfill-node.cjs, and both through the
// package's own `exports` by name) in fresh processes, so each sees an untouched globalThis.
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { lib } = require('./layer');
const { fakeApi } = require('./helpers');

const ROOT = path.resolve(__dirname, '..', '..');
const { STANDARD_NAMES, CAPTURE_NAMES, installGlobals } = lib('install');

test('installGlobals defines the whole set where RTCPeerConnection is missing', () => {
  const { api } = fakeApi();
  const target = {};
  assert.deepStrictEqual(installGlobals(api, target), [...STANDARD_NAMES, ...CAPTURE_NAMES]);
  assert.strictEqual(STANDARD_NAMES.length, 20);
  for (const name of [...STANDARD_NAMES, ...CAPTURE_NAMES]) {
    assert.strictEqual(target[name], api[name], name);
    const d = Object.getOwnPropertyDescriptor(target, name);
    assert.deepStrictEqual([d.writable, d.enumerable, d.configurable], [true, false, true], name);
  }
  assert.deepStrictEqual(Object.keys(target), [], 'not enumerable, as WebIDL interface objects');
});

test('installGlobals leaves a runtime with RTCPeerConnection alone and replaces a fragment without one', () => {
  const { api } = fakeApi();
  class NativePc {}
  class NativeDc {}
  const browser = { RTCPeerConnection: NativePc, RTCDataChannel: NativeDc };
  assert.deepStrictEqual(installGlobals(api, browser), []);
  assert.strictEqual(browser.RTCPeerConnection, NativePc);
  assert.strictEqual(browser.RTCDataChannel, NativeDc);
  assert.strictEqual(browser.RTCIceCandidate, undefined, 'nothing added beside a native stack');
  // Like a Chromium dedicated worker: RTCDataChannel (for transfers) but no RTCPeerConnection.
  class NativeTrack {}
  const worker = { RTCDataChannel: NativeDc, MediaStreamTrack: NativeTrack };
  assert.deepStrictEqual(installGlobals(api, worker), [...STANDARD_NAMES, ...CAPTURE_NAMES.filter((n) => n !== 'MediaStreamTrack')]);
  assert.strictEqual(worker.MediaStreamTrack, NativeTrack, "a runtime's own MediaStreamTrack is kept");
  assert.strictEqual(worker.RTCDataChannel, api.RTCDataChannel);
  assert.throws(() => installGlobals({ RTCPeerConnection() {} }, {}), TypeError, 'an incomplete API is refused');
});

/** Runs `code` in a fresh Node process in the repo root; returns its stdout, parsed as JSON. */
function fresh(code, type = 'commonjs') {
  const args = type === 'module' ? ['--input-type=module', '-e', code] : ['-e', code];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' }));
}

const REPORT = `JSON.stringify({ installed: p.installed, pc: typeof globalThis.RTCPeerConnection,
  same: globalThis.RTCIceCandidate === api.RTCIceCandidate, enumerable: Object.keys(globalThis).filter((k) => k.startsWith('RTC')) })`;

test('the Node polyfill entries install the addon API on a fresh globalThis', () => {
  const all = [...STANDARD_NAMES, ...CAPTURE_NAMES];
  const want = { installed: all, pc: 'function', same: true, enumerable: [] };
  assert.deepStrictEqual(fresh(`const p = require('./js/cjs/polyfill-node.cjs'); const api = require('./js/cjs/node.cjs'); console.log(${REPORT})`), want);
  assert.deepStrictEqual(fresh(`const p = await import('./js/polyfill-node.js'); const api = await import('./js/node.js'); console.log(${REPORT})`, 'module'), want);
  // By the package's name (Node resolves a package's own name through its `exports`).
  assert.deepStrictEqual(fresh(`const p = require('polyrtc/polyfill'); const api = require('polyrtc'); console.log(${REPORT})`), want);
  assert.deepStrictEqual(fresh(`const p = await import('polyrtc/polyfill'); const api = await import('polyrtc'); console.log(${REPORT})`, 'module'), want);
});

test('the Node polyfill keeps an RTCPeerConnection that is already there', () => {
  const out = fresh(`class Mine {} globalThis.RTCPeerConnection = Mine; const p = require('polyrtc/polyfill');
    console.log(JSON.stringify({ installed: p.installed, kept: globalThis.RTCPeerConnection === Mine, candidate: typeof globalThis.RTCIceCandidate }))`);
  assert.deepStrictEqual(out, { installed: [], kept: true, candidate: 'undefined' });
});
