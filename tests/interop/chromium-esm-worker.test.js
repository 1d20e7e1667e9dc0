'use strict';
// The ES modules of js/ load with no bundler in a dedicated Web Worker of headless Chromium
// (where RTCPeerConnection does not exist), served as plain files over loopback HTTP: the
// worker imports js/lib/factory.js and js/lib/install.js by URL, builds the API on the
// in-memory fake engine of js/test/ (the WASM engine is not part of this test), installs
// the standard names on the worker's globalThis and runs two peers through negotiation and
// a data channel (text, ArrayBuffer, Blob) with the W3C layer unmodified. Independent of
// POLYRTC_IMPL. Skips only when /usr/bin/chromium is absent.
//
// Only the fake engine (a test double, CommonJS) is wrapped for the browser, with small
// stand-ins for the Node APIs it uses; the layer's files are served byte for byte.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromiumAvailable, launchChromium, CHROMIUM_PATH } = require('./lib/chromium');

const ROOT = path.resolve(__dirname, '..', '..');
const available = chromiumAvailable();
const skip = available ? false : `${CHROMIUM_PATH} not found`;

/** js/test/fake-engine.js as an ES module, with browser stand-ins for crypto, Buffer, setImmediate. */
function fakeEngineModule() {
  const src = fs.readFileSync(path.join(ROOT, 'js', 'test', 'fake-engine.js'), 'utf8');
  return `const module = { exports: {} };
const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const nodeCrypto = { randomBytes(n) {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(n));
  return { toString: (enc) => (enc === 'hex' ? hex(b) : btoa(String.fromCharCode(...b))) };
} };
const require = (name) => { if (name === 'crypto') return nodeCrypto; throw new Error('fake engine requires ' + name); };
const Buffer = { from: (data) => new Uint8Array(data) };
const setImmediate = (f) => setTimeout(f, 0);
${src.replace(/^'use strict';/, '')}
const exported = module.exports;
export const makeFakeEngine = exported.createFakeEngine;
`;
}

// The worker: only relative imports of the layer, by URL, as a page without a bundler would.
const WORKER = `
import { createApi } from './js/lib/factory.js';
import { installGlobals, STANDARD_NAMES } from './js/lib/install.js';
import { makeFakeEngine as createFakeEngine } from './fake-engine.js';

const once = (t, type) => new Promise((resolve) => t.addEventListener(type, resolve, { once: true }));
async function run() {
  const report = {
    before: STANDARD_NAMES.filter((n) => n in globalThis),
    nodeGlobals: ['process', 'Buffer', 'require', 'module', 'setImmediate', '__dirname'].filter((n) => n in globalThis),
  };
  report.installed = installGlobals(createApi(createFakeEngine()));
  report.allStandard = STANDARD_NAMES.every((n) => report.installed.includes(n));
  report.again = installGlobals(createApi(createFakeEngine()));
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  pc1.onicecandidate = (e) => e.candidate && pc2.addIceCandidate(e.candidate);
  pc2.onicecandidate = (e) => e.candidate && pc1.addIceCandidate(e.candidate);
  const dc1 = pc1.createDataChannel('worker');
  const remote = new Promise((resolve) => { pc2.ondatachannel = (e) => resolve(e.channel); });
  const opened = once(dc1, 'open');
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription);
  const dc2 = await remote;
  await opened;
  report.states = [pc1.connectionState, pc2.connectionState, dc1.readyState];
  report.isDataChannel = dc2 instanceof RTCDataChannel && dc1 instanceof globalThis.RTCDataChannel;
  const got = [];
  const three = new Promise((resolve) => {
    dc2.onmessage = async (e) => {
      got.push(e.data instanceof Blob ? 'blob:' + (await e.data.text()) : typeof e.data === 'string' ? e.data : 'bytes:' + [...new Uint8Array(e.data)]);
      if (got.length === 3) resolve();
    };
  });
  dc2.binaryType = 'arraybuffer';
  dc1.send('hello from a worker');
  dc1.send(new Uint8Array([1, 2, 3]));
  dc1.send(new Blob(['a blob']));
  await three;
  dc1.binaryType = 'blob';
  const back = once(dc1, 'message');
  dc2.send(new Uint8Array([9]));
  const blob = (await back).data;
  got.push(blob instanceof Blob ? 'blob bytes:' + [...new Uint8Array(await blob.arrayBuffer())] : 'not a blob');
  report.got = got;
  report.session = new RTCSessionDescription({ type: 'answer', sdp: 'v=0\\r\\n' }).type;
  const err = new RTCError({ errorDetail: 'sctp-failure' });
  report.error = [err instanceof DOMException, err.name, err.errorDetail];
  // RTP media in the worker: an encoded source's frames reach the other end's sink.
  const api = createApi(createFakeEngine());
  const m1 = new api.RTCPeerConnection();
  const m2 = new api.RTCPeerConnection();
  const source = new api.EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
  m1.addTrack(source.track, new api.MediaStream([source.track]));
  const tracked = new Promise((resolve) => { m2.ontrack = resolve; });
  await m1.setLocalDescription();
  await m2.setRemoteDescription(m1.localDescription);
  await m2.setLocalDescription();
  await m1.setRemoteDescription(m2.localDescription);
  const te = await tracked;
  const frame = new Promise((resolve) => { new api.EncodedMediaSink(te.track).onframe = (e) => resolve(e); });
  source.writeFrame({ type: 'key', timestamp: 0, data: new Uint8Array([5, 6]) });
  const f = await frame;
  report.media = [te.track.kind, te.streams.length, f.frameType, [...f.data]];
  m1.close();
  m2.close();
  pc1.close();
  pc2.close();
  report.closed = [pc1.signalingState, dc1.readyState];
  return report;
}
run().then((r) => postMessage({ ok: true, report: r }), (e) => postMessage({ ok: false, error: String(e && e.stack || e) }));
`;

function serve() {
  const server = http.createServer((req, res) => {
    if (process.env.POLYRTC_INTEROP_DEBUG) console.error('[http]', req.url);
    const url = new URL(req.url, 'http://x');
    let body = null;
    if (url.pathname === '/') body = '<!doctype html><title>polyrtc esm</title>';
    else if (url.pathname === '/worker.js') body = WORKER;
    else if (url.pathname === '/fake-engine.js') body = fakeEngineModule();
    else if (/^\/js\/(lib|engine)\/[\w-]+\.js$/.test(url.pathname) || /^\/js\/[\w-]+\.js$/.test(url.pathname)) {
      const file = path.join(ROOT, url.pathname);
      if (fs.existsSync(file)) body = fs.readFileSync(file);
    }
    if (body === null) {
      res.writeHead(404).end();
      return;
    }
    const type = url.pathname === '/' ? 'text/html' : 'text/javascript';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('the ES-module layer runs unbundled in a Chromium dedicated worker', { skip, timeout: 60000 }, async () => {
  const server = await serve();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const result = await page.evaluate(() => new Promise((resolve) => {
      const w = new Worker('/worker.js', { type: 'module' });
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => resolve({ ok: false, error: `worker error: ${e.message}` });
      setTimeout(() => resolve({ ok: false, error: 'worker timed out' }), 30000);
    }));
    assert.deepStrictEqual(errors, []);
    assert.ok(result.ok, result.error);
    const r = result.report;
    // A worker has no RTCPeerConnection (Chromium's do have RTCDataChannel, for transfers).
    assert.ok(!r.before.includes('RTCPeerConnection'), `before: ${r.before}`);
    assert.deepStrictEqual(r.nodeGlobals, []);
    // The RTC set (20) and the capture classes the worker lacks (MediaStream ...).
    assert.ok(r.installed.length >= 20, `installed: ${r.installed}`);
    assert.strictEqual(r.allStandard, true);
    assert.ok(r.installed.includes('RTCPeerConnection'));
    assert.deepStrictEqual(r.again, [], 'a second install leaves existing names alone');
    assert.deepStrictEqual(r.states, ['connected', 'connected', 'open']);
    assert.strictEqual(r.isDataChannel, true);
    assert.deepStrictEqual(r.got, ['hello from a worker', 'bytes:1,2,3', 'bytes:97,32,98,108,111,98', 'blob bytes:9']);
    assert.strictEqual(r.session, 'answer');
    assert.deepStrictEqual(r.error, [true, 'OperationError', 'sctp-failure']);
    assert.deepStrictEqual(r.closed, ['closed', 'closed']);
    assert.deepStrictEqual(r.media, ['video', 1, 'key', [5, 6]]);
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
