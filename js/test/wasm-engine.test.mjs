// The WASM engine's host loop (js/engine/wasm.js) against a scripted core and a scripted
// WebSocket: events in batches and never inside the call that caused them, one timer armed
// from pollTimeout, transmits routed to their relay's WebSocket and held (bounded) until it
// opens, a backed-up WebSocket drops, a relay that fails is an icecandidateerror (701), a trap
// of the instance fails the peer. The real core runs in wasm-relay.test.mjs.
import test from 'node:test';
import assert from 'node:assert';
import {
  createWasmEngine, MAX_QUEUED_TRANSMITS, MAX_WS_BUFFERED_BYTES, MAX_CLOSE_LINGER_MS,
} from '../engine/wasm.js';

/** A scripted WasmPeer: records calls, returns what the test queued. */
function makeGlue() {
  const peers = [];
  class WasmCertificate {
    constructor(id = 1) { this.id = id; this.fingerprints = [{ algorithm: 'sha-256', value: 'AA' }]; this.expires = 1; }
    clone() { return new WasmCertificate(this.id); }
  }
  class WasmPeer {
    constructor(config, cert) {
      this.config = config;
      this.cert = cert;
      this.calls = [];
      this.transmits = [];
      this.events = [];
      this.timeout = undefined;
      this.trap = false;
      peers.push(this);
    }
    #call(name, args) {
      this.calls.push([name, ...args]);
      if (this.trap) throw new WebAssembly.RuntimeError('unreachable');
    }
    addRelay(...a) { this.#call('addRelay', a); }
    // As the core does: every failed server is an icecandidateerror (701).
    relayServerFailed(...a) {
      this.#call('relayServerFailed', a);
      this.events.push({ type: 'icecandidateerror', address: null, port: null, url: a[2], errorCode: 701, errorText: a[3] });
    }
    createOffer(...a) { this.#call('createOffer', a); this.events.push({ type: 'icegatheringstatechange', state: 'gathering' }); return 'v=0'; }
    setLocalDescription(...a) { this.#call('setLocalDescription', a); return { type: 'offer', sdp: 'v=0' }; }
    handleDatagram(...a) { this.#call('handleDatagram', a); }
    // The real core's deadline moves on once it is handled.
    handleTimeout(...a) { this.#call('handleTimeout', a); this.timeout = undefined; }
    pollTransmit() { return this.transmits.shift(); }
    pollTimeout() { return this.timeout; }
    pollEvents() { return this.events.splice(0, 1024); }
    getState() { return { signalingState: 'stable' }; }
    free() { this.freed = true; }
    close(...a) { this.#call('close', a); }
  }
  return { peers, WasmPeer, WasmCertificate, generateCertificate: () => new WasmCertificate(2) };
}

/** A scripted WebSocket: CONNECTING until the test opens it. */
function makeWebSocket() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url, protocol) {
      this.url = url;
      this.requested = protocol;
      this.readyState = 0;
      this.protocol = '';
      this.bufferedAmount = 0;
      this.sent = [];
      this.closed = null;
      sockets.push(this);
    }
    send(data) { this.sent.push(data); }
    close(code) { this.closed = code ?? 1005; this.readyState = 3; }
    open(protocol = 'turn') { this.readyState = 1; this.protocol = protocol; this.onopen?.({}); }
    fail(code = 1006) { this.readyState = 3; this.onerror?.({}); this.onclose?.({ code }); }
    receive(bytes) { this.onmessage?.({ data: new Uint8Array(bytes).buffer }); }
  }
  return { sockets, FakeWebSocket };
}

const tick = () => new Promise((r) => setImmediate(r));
const relay = (urls = 'ws://127.0.0.1:9') => ({ urls: [urls], username: 'u', credential: 'p' });

function setup(relays = [relay()]) {
  const glue = makeGlue();
  const ws = makeWebSocket();
  const engine = createWasmEngine(glue, { WebSocket: ws.FakeWebSocket });
  const batches = [];
  const peer = new engine.NativePeer({ stunServers: [], relay: relays }, (b) => batches.push(b));
  return { glue, ws, engine, peer, core: glue.peers[0], batches };
}

test('each relay: addRelay with its own via/relayed transport ids, a WebSocket with subprotocol turn', () => {
  const { ws, core } = setup([relay('ws://a:1'), relay('wss://b:2/x')]);
  const adds = core.calls.filter((c) => c[0] === 'addRelay');
  assert.strictEqual(adds.length, 2);
  const [[, , r0, v0, server0, url0, user0, cred0], [, , r1, v1, , url1]] = adds;
  assert.deepStrictEqual([url0, url1, user0, cred0, server0], ['ws://a:1', 'wss://b:2/x', 'u', 'p', '0.0.0.0:0']);
  assert.strictEqual(new Set([r0, v0, r1, v1]).size, 4, 'four distinct transport ids');
  assert.deepStrictEqual(ws.sockets.map((s) => [s.url, s.requested, s.binaryType]),
    [['ws://a:1', 'turn', 'arraybuffer'], ['wss://b:2/x', 'turn', 'arraybuffer']]);
});

test('a bad relay leaves nothing open: no WebSocket, the core freed', () => {
  const glue = makeGlue();
  const ws = makeWebSocket();
  const engine = createWasmEngine(glue, { WebSocket: ws.FakeWebSocket });
  assert.throws(() => new engine.NativePeer({ relay: [relay(), { urls: ['http://x'], username: 'u', credential: 'p' }] }, () => {}),
    (e) => e.code === 'SyntaxError');
  assert.strictEqual(glue.peers.length, 0, 'checked before the core is made');
  glue.WasmPeer.prototype.addRelay = function addRelay() { throw new Error('OperationError: at most 4 relays'); };
  assert.throws(() => new engine.NativePeer({ relay: [relay(), relay()] }, () => {}), /OperationError/);
  assert.strictEqual(glue.peers[0].freed, true);
  assert.strictEqual(ws.sockets.length, 0);
});

test('transmits go to their relay\'s WebSocket, held until it opens (bounded), others dropped', async () => {
  const { ws, core, peer } = setup([relay('ws://a:1'), relay('ws://b:2')]);
  const via = core.calls.filter((c) => c[0] === 'addRelay').map((c) => c[3]);
  for (let i = 0; i < MAX_QUEUED_TRANSMITS + 10; i++) {
    core.transmits.push({ transport: via[0], destination: '0.0.0.0:0', data: new Uint8Array([i & 0xff]) });
  }
  core.transmits.push({ transport: via[1], destination: '0.0.0.0:0', data: new Uint8Array([7]) });
  core.transmits.push({ transport: 999, destination: '1.2.3.4:5', data: new Uint8Array([8]) });
  peer.createOffer();
  assert.strictEqual(core.transmits.length, 0, 'drained after the call');
  assert.strictEqual(ws.sockets[0].sent.length, 0, 'nothing sent before open');
  ws.sockets[0].open();
  assert.strictEqual(ws.sockets[0].sent.length, MAX_QUEUED_TRANSMITS, 'the queue is bounded');
  assert.deepStrictEqual(Array.from(ws.sockets[0].sent[0]), [0]);
  ws.sockets[1].open();
  assert.deepStrictEqual(ws.sockets[1].sent.map((d) => Array.from(d)), [[7]]);
  // Open: sent at once; backed up beyond the bound: dropped, not queued.
  core.transmits.push({ transport: via[1], destination: '0.0.0.0:0', data: new Uint8Array([9]) });
  peer.createOffer();
  assert.strictEqual(ws.sockets[1].sent.length, 2);
  ws.sockets[1].bufferedAmount = MAX_WS_BUFFERED_BYTES + 1;
  core.transmits.push({ transport: via[1], destination: '0.0.0.0:0', data: new Uint8Array([10]) });
  peer.createOffer();
  assert.strictEqual(ws.sockets[1].sent.length, 2);
  peer.close();
});

test('WebSocket messages go to handleDatagram on the relay\'s via transport; text is dropped', async () => {
  const { ws, core, peer } = setup();
  const via = core.calls.find((c) => c[0] === 'addRelay')[3];
  ws.sockets[0].open();
  ws.sockets[0].receive([1, 2, 3]);
  ws.sockets[0].onmessage({ data: 'text' });
  const got = core.calls.filter((c) => c[0] === 'handleDatagram');
  assert.strictEqual(got.length, 1);
  assert.strictEqual(got[0][2], via);
  assert.strictEqual(got[0][3], '0.0.0.0:0');
  assert.deepStrictEqual(Array.from(got[0][4]), [1, 2, 3]);
  // The answer to it goes out once the burst is handled (a microtask later).
  core.transmits.push({ transport: via, destination: '0.0.0.0:0', data: new Uint8Array([4]) });
  ws.sockets[0].receive([5]);
  await Promise.resolve();
  assert.strictEqual(ws.sockets[0].sent.length, 1);
  peer.close();
});

test('events: one batch per wake-up, after the call that caused them returns, in order', async () => {
  const { core, peer, batches } = setup([]);
  core.events.push({ type: 'a' });
  peer.createOffer();
  assert.strictEqual(batches.length, 0, 'not inside the call');
  peer.createOffer();
  await tick();
  assert.deepStrictEqual(batches, [[{ type: 'a' }, { type: 'icegatheringstatechange', state: 'gathering' },
    { type: 'icegatheringstatechange', state: 'gathering' }]]);
  // More than one core batch (1024): the rest comes in the next task.
  for (let i = 0; i < 1500; i++) core.events.push({ type: 'm', i });
  peer.createOffer();
  await tick();
  assert.strictEqual(batches.length, 2);
  assert.strictEqual(batches[1].length, 1024);
  await tick();
  assert.strictEqual(batches.length, 3);
  assert.strictEqual(batches[2].length, 1500 - 1024 + 1);
  peer.close();
});

test('one timer, armed from pollTimeout and re-armed only when the deadline moves', async () => {
  const real = { set: globalThis.setTimeout, clear: globalThis.clearTimeout };
  const live = new Set();
  let armed = 0;
  globalThis.setTimeout = (f, ms) => {
    armed += 1;
    const h = real.set(() => { live.delete(h); f(); }, ms);
    live.add(h);
    return h;
  };
  globalThis.clearTimeout = (h) => { live.delete(h); real.clear(h); };
  try {
    const { core, peer } = setup([]);
    core.timeout = performance.now() + 30;
    peer.createOffer();
    peer.createOffer();
    peer.createOffer();
    assert.strictEqual(live.size, 1);
    assert.strictEqual(armed, 1, 'same deadline: not re-armed');
    const due = performance.now() + 5;
    core.timeout = due;
    peer.createOffer();
    assert.strictEqual(live.size, 1);
    assert.strictEqual(armed, 2);
    await new Promise((r) => real.set(r, 60));
    const fired = core.calls.filter((c) => c[0] === 'handleTimeout');
    assert.strictEqual(fired.length, 1, 'the timer called handleTimeout once');
    assert.ok(fired[0][1] >= due - 1, `with a time at or after the deadline (${fired[0][1]} < ${due})`);
    assert.strictEqual(live.size, 0, 'no deadline: no timer');
    // A timer that fires early (the runtime's clock granularity) is re-armed once for the rest.
    assert.ok(armed <= 3, `armed ${armed} times`);
    peer.close();
    assert.strictEqual(live.size, 0);
  } finally {
    globalThis.setTimeout = real.set;
    globalThis.clearTimeout = real.clear;
  }
});

test('a relay WebSocket that closes or refuses the subprotocol: icecandidateerror 701, once', async () => {
  const { ws, core, peer, batches } = setup([relay('ws://a:1'), relay('ws://b:2')]);
  ws.sockets[0].fail(1006);
  ws.sockets[0].fail(1006);
  ws.sockets[1].open('');
  await tick();
  const told = core.calls.filter((c) => c[0] === 'relayServerFailed');
  assert.deepStrictEqual(told.map((c) => [c[2], c[3], c[5]]), [[1, 'ws://a:1', undefined], [3, 'ws://b:2', undefined]],
    'the core is told once per relay, with no next URL');
  const errors = batches.flat().filter((e) => e.type === 'icecandidateerror');
  assert.deepStrictEqual(errors.map((e) => [e.url, e.errorCode, e.address, e.port]),
    [['ws://a:1', 701, null, null], ['ws://b:2', 701, null, null]]);
  assert.match(errors[0].errorText, /1006/);
  assert.match(errors[1].errorText, /subprotocol/);
  assert.strictEqual(ws.sockets[1].closed, 1005);
  peer.close();
});

test('a relay with several URLs: the next one is tried when a WebSocket fails before it opens, with what was queued', async () => {
  const { ws, core, peer, batches } = setup([{ urls: ['ws://a:1', 'ws://b:2', 'wss://c:3'], username: 'u', credential: 'p' }]);
  const via = core.calls.find((c) => c[0] === 'addRelay')[3];
  core.transmits.push({ transport: via, destination: '0.0.0.0:0', data: new Uint8Array([1]) });
  peer.createOffer();
  assert.deepStrictEqual(ws.sockets.map((s) => s.url), ['ws://a:1']);
  ws.sockets[0].fail(1006);
  // ws://b:2 next, and the core is told with the next URL.
  assert.deepStrictEqual(ws.sockets.map((s) => s.url), ['ws://a:1', 'ws://b:2']);
  const told = core.calls.filter((c) => c[0] === 'relayServerFailed').map((c) => [c[2], c[3], c[5]]);
  assert.deepStrictEqual(told, [[via, 'ws://a:1', 'ws://b:2']]);
  // The old socket's late events are ignored; the new one gets the held datagram on open.
  ws.sockets[0].fail(1006);
  ws.sockets[1].open();
  assert.deepStrictEqual(ws.sockets[1].sent.map((d) => [...d]), [[1]]);
  // Once a socket has opened, its closing is final: no more URLs are tried.
  ws.sockets[1].fail(1006);
  assert.strictEqual(ws.sockets.length, 2);
  await tick();
  const errors = batches.flat().filter((e) => e.type === 'icecandidateerror').map((e) => e.url);
  assert.deepStrictEqual(errors, ['ws://a:1', 'ws://b:2']);
  const last = core.calls.filter((c) => c[0] === 'relayServerFailed').at(-1);
  assert.deepStrictEqual([last[3], last[5]], ['ws://b:2', undefined]);
  peer.close();
});

test('the last URL failing before it opens ends the relay', () => {
  const { ws, core, peer } = setup([{ urls: ['ws://a:1', 'ws://b:2'], username: 'u', credential: 'p' }]);
  ws.sockets[0].fail(1006);
  ws.sockets[1].fail(1006);
  assert.strictEqual(ws.sockets.length, 2);
  const told = core.calls.filter((c) => c[0] === 'relayServerFailed').map((c) => [c[3], c[5]]);
  assert.deepStrictEqual(told, [['ws://a:1', 'ws://b:2'], ['ws://b:2', undefined]]);
  peer.close();
});

test('close(): the core closes, its last datagrams go out, then the WebSockets close; idempotent', () => {
  const { ws, core, peer } = setup();
  const via = core.calls.find((c) => c[0] === 'addRelay')[3];
  ws.sockets[0].open();
  const realClose = core.close.bind(core);
  core.close = (...a) => {
    realClose(...a);
    core.transmits.push({ transport: via, destination: '0.0.0.0:0', data: new Uint8Array([0xde]) });
  };
  peer.close();
  peer.close();
  assert.strictEqual(core.calls.filter((c) => c[0] === 'close').length, 1);
  assert.deepStrictEqual(ws.sockets[0].sent.map((d) => Array.from(d)), [[0xde]]);
  assert.strictEqual(ws.sockets[0].closed, 1000);
  // A close of the socket after ours reports nothing.
  ws.sockets[0].fail();
});

test('a trap of the instance: an error event, the sockets close, later calls throw InvalidStateError', async () => {
  const { ws, core, peer, batches } = setup();
  core.trap = true;
  assert.throws(() => peer.createOffer(), WebAssembly.RuntimeError);
  assert.throws(() => peer.createOffer(), (e) => e.code === 'InvalidStateError');
  await tick();
  assert.deepStrictEqual(batches.flat().map((e) => e.type), ['error']);
  assert.strictEqual(ws.sockets[0].closed, 1000);
  peer.close();
});

test('certificates: the given one is cloned for each peer, RSA is NotSupportedError', async () => {
  const glue = makeGlue();
  const engine = createWasmEngine(glue, {});
  const cert = engine.generateCertificate(1000);
  const a = new engine.NativePeer({ certificates: [cert] }, () => {});
  const b = new engine.NativePeer({ certificates: [cert] }, () => {});
  assert.notStrictEqual(glue.peers[0].cert, cert);
  assert.notStrictEqual(glue.peers[1].cert, glue.peers[0].cert);
  assert.strictEqual(glue.peers[1].cert.id, cert.id);
  assert.throws(() => new engine.NativePeer({ certificates: [{}] }, () => {}), (e) => e.code === 'TypeError');
  await assert.rejects(engine.generateRsaCertificate(2048), (e) => e.code === 'NotSupportedError');
  assert.deepStrictEqual(engine.peerOptions(), {});
  // A relay without a WebSocket class in the runtime.
  const noWs = createWasmEngine(glue, { WebSocket: null });
  assert.throws(() => new noWs.NativePeer({ relay: [relay()] }, () => {}), (e) => e.code === 'NotSupportedError');
  a.close();
  b.close();
});

test('after close() the WebSockets stay open while the core releases its allocations (bounded)', async () => {
  const { ws, core, peer } = setup();
  const via = core.calls.find((c) => c[0] === 'addRelay')[3];
  ws.sockets[0].open();
  // The core still has a deadline after close (its deallocation's retransmission).
  core.close = (...a) => {
    core.calls.push(['close', ...a]);
    core.timeout = performance.now() + 1000;
    core.transmits.push({ transport: via, destination: '0.0.0.0:0', data: new Uint8Array([1]) });
  };
  peer.close();
  assert.strictEqual(ws.sockets[0].closed, null, 'still open for the deallocation');
  assert.strictEqual(ws.sockets[0].sent.length, 1);
  // The server's answer is still handled; once the core has nothing left, the socket closes.
  core.handleDatagram = (...a) => { core.calls.push(['handleDatagram', ...a]); core.timeout = undefined; };
  ws.sockets[0].receive([2]);
  await Promise.resolve();
  assert.strictEqual(core.calls.filter((c) => c[0] === 'handleDatagram').length, 1);
  assert.strictEqual(ws.sockets[0].closed, 1000);
  // And a core that never finishes: closed at MAX_CLOSE_LINGER_MS at the latest.
  const s2 = setup();
  s2.ws.sockets[0].open();
  s2.core.close = () => { s2.core.timeout = performance.now() + 60000; };
  const t0 = performance.now();
  s2.peer.close();
  assert.strictEqual(s2.ws.sockets[0].closed, null);
  await new Promise((resolve) => {
    const poll = () => (s2.ws.sockets[0].closed !== null ? resolve() : setTimeout(poll, 20));
    poll();
  });
  const waited = performance.now() - t0;
  assert.ok(waited >= MAX_CLOSE_LINGER_MS - 5 && waited < MAX_CLOSE_LINGER_MS + 1000, `closed after ${waited} ms`);
});
