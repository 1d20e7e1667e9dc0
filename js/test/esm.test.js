'use strict';
// The ES modules of js/ themselves (the source of truth, as a browser or a worker loads them),
// in Node, on the in-memory fake engine: the other unit tests run the generated CommonJS copy.
const test = require('node:test');
const assert = require('node:assert');
const { createFakeEngine } = require('./fake-engine');
const { connectedChannels } = require('./helpers');

async function esmFakeApi() {
  const { createApi } = await import('../lib/factory.js');
  const engine = createFakeEngine();
  const api = createApi(engine);
  return { engine, api, ...api };
}

function nextMessage(channel) {
  return new Promise((resolve) => channel.addEventListener('message', (e) => resolve(e.data), { once: true }));
}

test('the ES-module layer negotiates and carries messages both ways', async () => {
  const api = await esmFakeApi();
  const { pc1, pc2, dc1, dc2 } = await connectedChannels(api);
  assert.strictEqual(pc1.connectionState, 'connected');
  assert.ok(dc1 instanceof api.RTCDataChannel);
  const fromEsmTo2 = nextMessage(dc2);
  dc1.send('over the ES modules');
  assert.strictEqual(await fromEsmTo2, 'over the ES modules');
  dc2.binaryType = 'arraybuffer';
  dc1.binaryType = 'arraybuffer';
  const back = nextMessage(dc1);
  dc2.send(new Uint8Array([1, 2, 3]));
  assert.deepStrictEqual([...new Uint8Array(await back)], [1, 2, 3]);
  pc1.close();
  pc2.close();
  assert.strictEqual(dc1.readyState, 'closed');
});

test('the ES modules and the CommonJS copy are separate but equal layers', async () => {
  const esm = await esmFakeApi();
  const cjs = require('./helpers').fakeApi();
  for (const name of Object.keys(cjs.api)) {
    // Interfaces, and one object (mediaDevices, an instance of the copy's MediaDevices).
    assert.strictEqual(typeof esm.api[name], name === 'mediaDevices' ? 'object' : 'function', name);
    assert.notStrictEqual(esm.api[name], cjs.api[name], `${name}: two copies`);
    assert.strictEqual(esm.api[name].name, cjs.api[name].name, name);
  }
  assert.deepStrictEqual(Object.keys(esm.api).sort(), Object.keys(cjs.api).sort());
  // W3C errors of both copies are the platform's DOMException.
  const { mapEngineError } = await import('../lib/util.js');
  const err = mapEngineError(Object.assign(new Error('InvalidStateError: x'), { code: 'InvalidStateError' }));
  assert.strictEqual(err.constructor, DOMException);
});

test('the ES-module Node entry rejects with NotSupportedError when the addon cannot load', async () => {
  // A copy of the entry whose addon path does not exist: js/engine/napi.js resolves the addon
  // relative to its own URL, so a copy elsewhere finds none and must fail only on first use.
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const { pathToFileURL } = require('node:url');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polyrtc-esm-'));
  try {
    fs.cpSync(path.join(__dirname, '..', 'engine'), path.join(dir, 'js', 'engine'), { recursive: true });
    fs.cpSync(path.join(__dirname, '..', 'lib'), path.join(dir, 'js', 'lib'), { recursive: true });
    fs.copyFileSync(path.join(__dirname, '..', 'node.js'), path.join(dir, 'js', 'node.js'));
    fs.copyFileSync(path.join(__dirname, '..', 'package.json'), path.join(dir, 'js', 'package.json'));
    const m = await import(pathToFileURL(path.join(dir, 'js', 'node.js')).href);
    assert.strictEqual(typeof m.RTCPeerConnection, 'function');
    assert.throws(() => new m.RTCPeerConnection(), (e) => e instanceof DOMException && e.name === 'NotSupportedError');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
