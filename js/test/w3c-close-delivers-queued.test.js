'use strict';
// W3C webrtc-pc §6.2 RTCDataChannel closing procedure on the REAL package (js/node.js on the
// native addon), two peers in one process over loopback UDP: close() sets readyState to
// 'closing' at once, then "finish sending all currently pending messages of the channel"
// before the SCTP stream is reset (RFC 8831 §6.7), so everything send() accepted before
// close() reaches the remote, in the order of the send() calls, Blobs (read asynchronously)
// included; then both sides see `close`.
const test = require('node:test');
const assert = require('node:assert');
const {
  skipUnlessAddon, loadApi, once, withTimeout, until, messages, openPair,
} = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 90000;

/** A message of `size` bytes whose first 4 bytes are `i` and whose other bytes are i & 0xff. */
function numbered(i, size) {
  const m = new Uint8Array(size).fill(i & 0xff);
  new DataView(m.buffer).setUint32(0, i);
  return m;
}

function checkNumbered(data, i, size) {
  assert.ok(data instanceof ArrayBuffer, `message ${i} is not binary: ${typeof data}`);
  const m = new Uint8Array(data);
  assert.strictEqual(m.byteLength, size, `message ${i} has ${m.byteLength} bytes`);
  assert.strictEqual(new DataView(data).getUint32(0), i, `message ${i} out of order`);
  for (let k = 4; k < size; k += 4093) assert.strictEqual(m[k], i & 0xff, `message ${i} byte ${k}`);
  assert.strictEqual(m[size - 1], i & 0xff, `message ${i} last byte`);
}

/** Resolves with the channel's events, in order, once `close` fired. */
function closeLog(dc) {
  const log = [];
  for (const type of ['closing', 'close', 'error']) dc.addEventListener(type, () => log.push(type));
  return { log, closed: once(dc, 'close').then(() => log) };
}

test('20 MiB of Blob sends then close(): all delivered in order, then the remote sees close', { skip, timeout: TIMEOUT }, async () => {
  const { dc1, dc2, close } = await openPair(api);
  try {
    dc2.binaryType = 'arraybuffer';
    const got = messages(dc2);
    const remote = closeLog(dc2);
    const local = closeLog(dc1);
    const size = 256 * 1024;
    const count = 80;
    for (let i = 0; i < count; i += 1) dc1.send(new Blob([numbered(i, size)]));
    assert.strictEqual(dc1.bufferedAmount, count * size);
    dc1.close();
    assert.strictEqual(dc1.readyState, 'closing');
    assert.throws(() => dc1.send('late'), (e) => e instanceof DOMException && e.name === 'InvalidStateError');
    const remoteLog = await withTimeout(remote.closed, `remote close (got ${got.length} messages)`, 80000);
    assert.strictEqual(got.length, count, `${got.length} of ${count} messages before the remote's close`);
    got.forEach((data, i) => checkNumbered(data, i, size));
    assert.deepStrictEqual(remoteLog, ['closing', 'close']);
    assert.deepStrictEqual(await withTimeout(local.closed, 'local close'), ['close']);
    assert.strictEqual(dc1.readyState, 'closed');
    assert.strictEqual(dc2.readyState, 'closed');
  } finally {
    close();
  }
});

test('mixed Blob / string / ArrayBuffer sends then close() arrive in send() order', { skip, timeout: TIMEOUT }, async () => {
  const { dc1, dc2, close } = await openPair(api);
  try {
    dc2.binaryType = 'arraybuffer';
    const got = messages(dc2);
    const remote = closeLog(dc2);
    const expected = [];
    for (let i = 0; i < 60; i += 1) {
      const size = 1000 + i * 997;
      switch (i % 4) {
        case 0: dc1.send(new Blob([numbered(i, size)])); expected.push({ i, size }); break;
        case 1: dc1.send(`string ${i}`); expected.push(`string ${i}`); break;
        case 2: dc1.send(numbered(i, size).buffer); expected.push({ i, size }); break;
        default: dc1.send(new Blob([numbered(i, 64 * 1024)])); expected.push({ i, size: 64 * 1024 }); break;
      }
    }
    dc1.send('last');
    expected.push('last');
    dc1.close();
    assert.strictEqual(dc1.readyState, 'closing');
    await withTimeout(remote.closed, `remote close (got ${got.length} messages)`, 60000);
    assert.strictEqual(got.length, expected.length);
    expected.forEach((want, k) => {
      if (typeof want === 'string') assert.strictEqual(got[k], want, `message ${k}`);
      else checkNumbered(got[k], want.i, want.size);
    });
    await until(() => dc1.readyState === 'closed', 'local close');
  } finally {
    close();
  }
});

test('a large binary queue behind a Blob then close(): delivered, then close', { skip, timeout: TIMEOUT }, async () => {
  const { dc1, dc2, close } = await openPair(api);
  try {
    dc2.binaryType = 'arraybuffer';
    const got = messages(dc2);
    const remote = closeLog(dc2);
    const size = 64 * 1024;
    // A Blob at the head keeps the later binary sends queued in this layer while close() is
    // already pending (the fake-engine test below covers a full engine buffer at that point).
    dc1.send(new Blob([numbered(0, size)]));
    const count = 200; // 12.5 MiB, under the layer's 16 MiB bound, over what loopback drains at once
    for (let i = 1; i < count; i += 1) dc1.send(numbered(i, size));
    dc1.close();
    await withTimeout(remote.closed, `remote close (got ${got.length} messages)`, 60000);
    assert.strictEqual(got.length, count);
    got.forEach((data, i) => checkNumbered(data, i, size));
    await until(() => dc1.readyState === 'closed', 'local close');
  } finally {
    close();
  }
});

// Passed before this change too (the engine defers the stream reset); kept as its guard.
test('binary sends straight into the engine then close(): the reset waits for them', { skip, timeout: TIMEOUT }, async () => {
  const { dc1, dc2, close } = await openPair(api);
  try {
    dc2.binaryType = 'arraybuffer';
    const got = messages(dc2);
    const remote = closeLog(dc2);
    const size = 64 * 1024;
    const count = 160; // 10 MiB in the engine's send buffer
    for (let i = 0; i < count; i += 1) dc1.send(numbered(i, size));
    dc1.close();
    assert.strictEqual(dc1.readyState, 'closing');
    await withTimeout(remote.closed, `remote close (got ${got.length} messages)`, 60000);
    assert.strictEqual(got.length, count);
    got.forEach((data, i) => checkNumbered(data, i, size));
    await until(() => dc1.readyState === 'closed', 'local close');
  } finally {
    close();
  }
});

// ---- the same closing procedure against the fake engine (no addon needed) ---------------

test('fake engine: close() asks the engine to close only after the queued sends, Blobs and a full buffer included', { timeout: TIMEOUT }, async () => {
  const { fakeApi, ticks, connectedChannels } = require('./helpers');
  const fake = fakeApi();
  const { pc1, pc2, dc1, dc2 } = await connectedChannels(fake);
  const fake1 = fake.engine.peers[fake.engine.peers.length - 2];
  const got = messages(dc2);
  dc2.binaryType = 'arraybuffer';
  const calls = [];
  const realSend = fake1.send.bind(fake1);
  const realClose = fake1.closeChannel.bind(fake1);
  let full = false;
  fake1.send = (handle, binary, data) => {
    if (full) throw new Error('OperationError: the send buffer is full (at most 16777216 bytes are queued)');
    calls.push('send');
    return realSend(handle, binary, data);
  };
  fake1.closeChannel = (handle) => { calls.push('close'); return realClose(handle); };
  dc1.send(new Blob([new Uint8Array([1, 2, 3])]));
  dc1.send('behind the blob');
  dc1.send(new Blob([new Uint8Array([4])]));
  dc1.send(new Uint8Array([5, 6]));
  full = true; // the engine refuses for now: what waits here must wait, not be dropped
  dc1.close();
  assert.strictEqual(dc1.readyState, 'closing');
  await ticks(20);
  assert.deepStrictEqual(calls, [], 'the engine was asked to close before the queued sends');
  assert.strictEqual(dc1.readyState, 'closing');
  full = false;
  fake1.inject({ type: 'bufferedamountdecrease', channel: dc1._handle, bytes: 0 });
  for (let i = 0; i < 200 && dc2.readyState !== 'closed'; i += 1) await ticks(1);
  assert.deepStrictEqual(calls, ['send', 'send', 'send', 'send', 'close']);
  assert.strictEqual(got.length, 4);
  assert.deepStrictEqual([...new Uint8Array(got[0])], [1, 2, 3]);
  assert.strictEqual(got[1], 'behind the blob');
  assert.deepStrictEqual([...new Uint8Array(got[2])], [4]);
  assert.deepStrictEqual([...new Uint8Array(got[3])], [5, 6]);
  assert.strictEqual(dc1.readyState, 'closed');
  assert.strictEqual(dc2.readyState, 'closed');
  pc1.close();
  pc2.close();
});
