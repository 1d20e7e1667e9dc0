'use strict';
// The send buffer bound of the REAL package (js/node.js on the native addon): past the
// engine's MAX_SEND_BUFFER, RTCDataChannel.send() throws OperationError (webrtc-pc §6.2
// send(), step "queue data for transmission ... if not enough buffer space is available,
// throw an OperationError"), bufferedAmount does not grow, and nothing accepted is lost.
const test = require('node:test');
const assert = require('node:assert');
const { skipUnlessAddon, loadApi, until, messages, openPair } = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 60000;
const MAX_SEND_BUFFER = 16 * 1024 * 1024;

test('send() past the send buffer throws OperationError and loses nothing already accepted', { skip, timeout: TIMEOUT }, async () => {
  const { dc1, dc2, close } = await openPair(api);
  try {
    dc2.binaryType = 'arraybuffer';
    const got = messages(dc2);
    const size = 64 * 1024;
    // Prepared up front so that the loop below queues much faster than loopback drains.
    const prepared = [];
    for (let i = 0; i < 1024; i += 1) {
      const m = new Uint8Array(size).fill(i & 0xff);
      new DataView(m.buffer).setUint32(0, i);
      prepared.push(m);
    }
    let accepted = 0;
    let error = null;
    for (const m of prepared) {
      const before = dc1.bufferedAmount;
      try {
        dc1.send(m);
      } catch (e) {
        error = e;
        assert.strictEqual(dc1.bufferedAmount, before, 'bufferedAmount grew for a refused message');
        break;
      }
      assert.strictEqual(dc1.bufferedAmount, before + size);
      accepted += 1;
    }
    assert.ok(error, `no error after ${accepted} messages of ${size} bytes`);
    assert.ok(error instanceof DOMException, String(error));
    assert.strictEqual(error.name, 'OperationError');
    // Some of it may have left meanwhile, but the bound is what stopped the loop.
    assert.ok(accepted * size >= MAX_SEND_BUFFER / 2, `only ${accepted} accepted`);
    assert.strictEqual(dc1.readyState, 'open');
    // Everything accepted arrives intact and in order, and the buffer empties.
    await until(() => got.length === accepted, `${accepted} messages delivered (got ${got.length})`, 45000);
    got.forEach((data, i) => {
      const m = new Uint8Array(data);
      assert.strictEqual(m.byteLength, size);
      assert.strictEqual(new DataView(data).getUint32(0), i);
      assert.strictEqual(m[size - 1], i & 0xff);
    });
    await until(() => dc1.bufferedAmount === 0, 'bufferedAmount back to 0');
    // The channel still works.
    dc1.send('after');
    await until(() => got.length === accepted + 1, 'a message after the refusal');
    assert.strictEqual(got[accepted], 'after');
  } finally {
    close();
  }
});
