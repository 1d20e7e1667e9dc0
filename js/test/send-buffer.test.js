'use strict';
// RTCDataChannel.send() against a full engine send buffer (fake engine): a direct send
// throws OperationError and is not counted; sends this layer already accepted (behind a
// Blob read) wait for room instead of being dropped; this layer's own queue is bounded.
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, ticks, connectedChannels, domName } = require('./helpers');

const api = fakeApi();
const { engine } = api;

function messages(channel) {
  const out = [];
  channel.addEventListener('message', (e) => out.push(e.data));
  return out;
}

async function until(predicate, limit = 200) {
  for (let i = 0; i < limit && !predicate(); i += 1) await ticks(1);
  assert.ok(predicate(), 'condition not reached');
}

test('send: a full engine buffer throws OperationError; queued sends wait for room', async () => {
  const { pc1, pc2, dc1, dc2 } = await connectedChannels(api);
  const fake1 = engine.peers[engine.peers.length - 2];
  const got = messages(dc2);
  const realSend = fake1.send.bind(fake1);
  let full = true;
  fake1.send = (handle, binary, data) => {
    if (full) {
      const e = new Error('OperationError: the send buffer is full (at most 16777216 bytes are queued)');
      e.code = 'OperationError';
      throw e;
    }
    return realSend(handle, binary, data);
  };
  // Nothing waits in this layer: the refusal is synchronous and bufferedAmount unchanged.
  assert.throws(() => dc1.send('refused'), domName('OperationError'));
  assert.strictEqual(dc1.bufferedAmount, 0);
  // A Blob is accepted now (read asynchronously), and what is sent after it waits behind it.
  dc1.send(new Blob([new Uint8Array([1, 2, 3])]));
  dc1.send('behind');
  assert.strictEqual(dc1.bufferedAmount, 3 + 6);
  await ticks(10);
  // Read, refused by the full engine: kept, still counted, nothing delivered or dropped.
  assert.strictEqual(got.length, 0);
  assert.strictEqual(dc1.bufferedAmount, 9);
  // This layer's queue is bounded like the engine's buffer (16 MiB).
  const size = 200000;
  let waiting = 0;
  for (;;) {
    const before = dc1.bufferedAmount;
    try {
      dc1.send(new Uint8Array(size).fill(waiting & 0xff));
    } catch (e) {
      assert.ok(e instanceof DOMException && e.name === 'OperationError', String(e));
      assert.strictEqual(dc1.bufferedAmount, before);
      break;
    }
    waiting += 1;
    assert.ok(waiting * size < 32 * 1024 * 1024, 'the queue in front of the engine is not bounded');
  }
  assert.ok(9 + waiting * size <= 16 * 1024 * 1024 && 9 + (waiting + 1) * size > 16 * 1024 * 1024, `${waiting}`);
  assert.strictEqual(dc1.bufferedAmount, 9 + waiting * size);
  // Room again: the next bufferedAmount decrease sends the waiting messages, in order.
  full = false;
  fake1.inject({ type: 'bufferedamountdecrease', channel: dc1._handle, bytes: 0 });
  await until(() => got.length === 2 + waiting);
  assert.deepStrictEqual([...new Uint8Array(got[0])], [1, 2, 3]);
  assert.strictEqual(got[1], 'behind');
  for (let i = 0; i < waiting; i += 1) {
    const m = new Uint8Array(got[2 + i]);
    assert.strictEqual(m.byteLength, size);
    assert.strictEqual(m[0], i & 0xff);
  }
  await until(() => dc1.bufferedAmount === 0);
  dc1.send('direct again');
  await until(() => got.length === 3 + waiting);
  assert.strictEqual(got[2 + waiting], 'direct again');
  pc1.close();
  pc2.close();
});
