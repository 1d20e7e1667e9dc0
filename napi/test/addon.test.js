'use strict';
// Tests of the built addon (napi/polyrtc.node): `node napi/build.js` first, then
// `node --test napi/test/`.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const addonPath = path.join(__dirname, '..', 'polyrtc.node');
let binding = null;
let loadError = null;
try {
  binding = require('..');
} catch (e) {
  loadError = e;
}

// While the core's Peer is still `todo!()`, core-backed calls throw
// "OperationError: internal error: not yet implemented...". Those tests skip with that
// reason (temporary: they must pass once the core lands).
function coreMissing(e) {
  return e && /not yet implemented|not implemented/.test(String(e.message));
}

test('the addon loads and exports the contract surface', (t) => {
  if (!binding) return t.skip(`addon not built (${loadError && loadError.message})`);
  assert.strictEqual(typeof binding.generateCertificate, 'function');
  assert.strictEqual(typeof binding.NativePeer, 'function');
  assert.strictEqual(typeof binding.NativeCertificate, 'function');
  for (const m of ['createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription',
    'addIceCandidate', 'getState', 'createDataChannel', 'send', 'closeChannel', 'close', 'certificate']) {
    assert.strictEqual(typeof binding.NativePeer.prototype[m], 'function', m);
  }
  assert.throws(() => new binding.NativeCertificate(), 'NativeCertificate is not constructible from JS');
});

test('generateCertificate() shape', (t) => {
  if (!binding) return t.skip('addon not built');
  let cert;
  try {
    cert = binding.generateCertificate();
  } catch (e) {
    if (coreMissing(e)) return t.skip(`core Certificate/Peer not ready yet: ${e.message}`);
    throw e;
  }
  assert.ok(cert instanceof binding.NativeCertificate);
  assert.strictEqual(typeof cert.expires, 'number');
  assert.ok(cert.expires > Date.now(), 'expires in the future');
  let fps;
  try {
    fps = cert.fingerprints;
  } catch (e) {
    if (coreMissing(e)) return t.skip(`core offer not ready yet: ${e.message}`);
    throw e;
  }
  assert.ok(Array.isArray(fps) && fps.length >= 1);
  const sha = fps.find((f) => f.algorithm === 'sha-256');
  assert.ok(sha, 'has a sha-256 fingerprint');
  assert.match(sha.value, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
});

test('errors carry the DOMException name as code and message prefix', (t) => {
  if (!binding) return t.skip('addon not built');
  try {
    new binding.NativePeer({ stunServers: ['no-port-here'] }, () => {});
    assert.fail('expected a SyntaxError');
  } catch (e) {
    assert.strictEqual(e.code, 'SyntaxError');
    assert.match(e.message, /^SyntaxError: /);
  }
  try {
    new binding.NativePeer({ stunServers: [], maxMessageSize: -1 }, () => {});
    assert.fail('expected a TypeError');
  } catch (e) {
    assert.strictEqual(e.code, 'TypeError');
    assert.match(e.message, /^TypeError: /);
  }
  try {
    new binding.NativePeer({ stunServers: [], certificates: [{}] }, () => {});
    assert.fail('expected a TypeError');
  } catch (e) {
    assert.strictEqual(e.code, 'TypeError');
  }
});

// Runs a small script in a child process; resolves with its exit status (or 'timeout').
function runChild(body, timeoutMs) {
  const script = `const b = require(${JSON.stringify(path.join(__dirname, '..'))});\n${body}`;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: timeoutMs, encoding: 'utf8' });
  if (r.error && r.error.code === 'ETIMEDOUT') return { status: 'timeout', stderr: r.stderr, stdout: r.stdout };
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const PROBE = `
let p;
try { p = new b.NativePeer({ stunServers: [], includeLoopback: true }, () => {}); }
catch (e) { if (/not yet implemented/.test(e.message)) { console.log('CORE-MISSING'); process.exit(0); } throw e; }
`;

test('a started peer keeps the process alive until close(), then it exits by itself', (t) => {
  if (!binding) return t.skip('addon not built');
  const started = `${PROBE}
p.createDataChannel({ label: 'x', protocol: '', ordered: true, negotiated: false });
p.setLocalDescription(null, null);
`;
  const closed = runChild(`${started}\np.close(); console.log('closed');`, 10000);
  if (String(closed.stdout).includes('CORE-MISSING')) return t.skip('core Peer not ready yet');
  assert.strictEqual(closed.status, 0, closed.stderr);
  const open = runChild(started, 1500);
  assert.strictEqual(open.status, 'timeout', 'an open started peer keeps the event loop alive');
});

test('a peer that is never started does not keep the process alive', (t) => {
  if (!binding) return t.skip('addon not built');
  const r = runChild(`${PROBE}\nconsole.log('created');`, 10000);
  if (String(r.stdout).includes('CORE-MISSING')) return t.skip('core Peer not ready yet');
  assert.strictEqual(r.status, 0, r.stderr);
});
