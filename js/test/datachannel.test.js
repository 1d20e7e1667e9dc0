'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, once, ticks, negotiate, connectedChannels, domName } = require('./helpers');

const api = fakeApi();
const { RTCPeerConnection, RTCDataChannel, RTCErrorEvent, RTCError, engine } = api;

function messages(channel) {
  const out = [];
  channel.addEventListener('message', (e) => out.push(e.data));
  return out;
}

async function until(predicate, limit = 200) {
  for (let i = 0; i < limit && !predicate(); i += 1) await ticks(1);
  assert.ok(predicate(), 'condition not reached');
}

test('createDataChannel: defaults', () => {
  const pc = new RTCPeerConnection();
  const dc = pc.createDataChannel('chat');
  assert.ok(dc instanceof RTCDataChannel);
  assert.strictEqual(dc.label, 'chat');
  assert.strictEqual(dc.ordered, true);
  assert.strictEqual(dc.maxPacketLifeTime, null);
  assert.strictEqual(dc.maxRetransmits, null);
  assert.strictEqual(dc.protocol, '');
  assert.strictEqual(dc.negotiated, false);
  assert.strictEqual(dc.id, null);
  assert.strictEqual(dc.readyState, 'connecting');
  assert.strictEqual(dc.bufferedAmount, 0);
  assert.strictEqual(dc.bufferedAmountLowThreshold, 0);
  assert.strictEqual(dc.binaryType, 'arraybuffer');
  const dc2 = pc.createDataChannel('', { ordered: false, maxRetransmits: 3, protocol: 'p', negotiated: true, id: 7 });
  assert.strictEqual(dc2.ordered, false);
  assert.strictEqual(dc2.maxRetransmits, 3);
  assert.strictEqual(dc2.protocol, 'p');
  assert.strictEqual(dc2.negotiated, true);
  assert.strictEqual(dc2.id, 7);
  const dc3 = pc.createDataChannel(null, { maxPacketLifeTime: 1.9 });
  assert.strictEqual(dc3.label, 'null');
  assert.strictEqual(dc3.maxPacketLifeTime, 1);
  assert.strictEqual(pc.createDataChannel('\uD800x').label, '\uFFFDx');
  pc.close();
});

test('createDataChannel: WebIDL and spec validation', () => {
  const pc = new RTCPeerConnection();
  assert.throws(() => pc.createDataChannel(), TypeError);
  assert.throws(() => pc.createDataChannel('x', 5), TypeError);
  assert.throws(() => pc.createDataChannel(Symbol('x')), TypeError);
  assert.throws(() => pc.createDataChannel('a'.repeat(65536)), TypeError);
  pc.createDataChannel('a'.repeat(65535));
  assert.throws(() => pc.createDataChannel('\u20ac'.repeat(21846)), TypeError); // 65538 bytes
  assert.throws(() => pc.createDataChannel('x', { protocol: 'p'.repeat(65536) }), TypeError);
  assert.throws(() => pc.createDataChannel('x', { maxPacketLifeTime: 1, maxRetransmits: 1 }), TypeError);
  assert.throws(() => pc.createDataChannel('x', { maxPacketLifeTime: 0, maxRetransmits: 0 }), TypeError);
  assert.throws(() => pc.createDataChannel('x', { negotiated: true }), TypeError);
  assert.throws(() => pc.createDataChannel('x', { negotiated: true, id: 65535 }), TypeError);
  // Not negotiated: the id member is ignored, 65535 included (webrtc-pc createDataChannel).
  assert.strictEqual(pc.createDataChannel('x', { id: 65535 }).id, null);
  for (const bad of [65536, -1, NaN, Infinity, 'abc', 1e10]) {
    assert.throws(() => pc.createDataChannel('x', { id: bad }), TypeError, String(bad));
    assert.throws(() => pc.createDataChannel('x', { maxRetransmits: bad }), TypeError, String(bad));
    assert.throws(() => pc.createDataChannel('x', { maxPacketLifeTime: bad }), TypeError, String(bad));
  }
  assert.throws(() => pc.createDataChannel('x', { id: 10n }), TypeError);
  pc.createDataChannel('x', { negotiated: true, id: 65534 });
  assert.throws(() => pc.createDataChannel('x', { negotiated: true, id: 65534 }), domName('OperationError'));
  pc.close();
  // Conversion errors come before the closed check; the closed check before the spec checks.
  assert.throws(() => pc.createDataChannel('x', { id: -1 }), TypeError);
  assert.throws(() => pc.createDataChannel('x', { negotiated: true }), domName('InvalidStateError'));
});

test('open, ids, the datachannel event and messages', async () => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  const dc1 = pc1.createDataChannel('chat', { protocol: 'json', maxRetransmits: 2, ordered: false });
  const log = [];
  dc1.onopen = () => log.push(`dc1:open:${dc1.readyState}:${dc1.id}`);
  const remote = new Promise((resolve) => {
    pc2.ondatachannel = (e) => {
      const dc = e.channel;
      log.push(`datachannel:${dc.readyState}`);
      dc.onopen = () => log.push('dc2:open');
      resolve(dc);
    };
  });
  await negotiate(pc1, pc2);
  const dc2 = await remote;
  await until(() => log.length === 3);
  assert.deepStrictEqual(log.sort(), ['datachannel:open', 'dc1:open:open:1', 'dc2:open'].sort());
  assert.strictEqual(dc2.label, 'chat');
  assert.strictEqual(dc2.protocol, 'json');
  assert.strictEqual(dc2.ordered, false);
  assert.strictEqual(dc2.maxRetransmits, 2);
  assert.strictEqual(dc2.negotiated, false);
  assert.strictEqual(dc2.id, 1);
  pc1.close();
  pc2.close();
});

test('send: strings, binary, empty, binaryType', async () => {
  const { pc1, pc2, dc1, dc2 } = await connectedChannels(api);
  const got = messages(dc2);
  dc1.send('hello \u00e9');
  dc1.send('');
  dc1.send(new Uint8Array([1, 2, 3]).buffer);
  const big = new Uint8Array([9, 8, 7, 6, 5]);
  dc1.send(big.subarray(1, 3));
  dc1.send(new ArrayBuffer(0));
  dc1.send(new DataView(new Uint8Array([4, 2]).buffer));
  await until(() => got.length === 6);
  assert.strictEqual(got[0], 'hello \u00e9');
  assert.strictEqual(got[1], '');
  assert.ok(got[2] instanceof ArrayBuffer);
  assert.deepStrictEqual([...new Uint8Array(got[2])], [1, 2, 3]);
  assert.deepStrictEqual([...new Uint8Array(got[3])], [8, 7]);
  assert.strictEqual(got[4].byteLength, 0);
  assert.deepStrictEqual([...new Uint8Array(got[5])], [4, 2]);

  dc2.binaryType = 'blob';
  assert.strictEqual(dc2.binaryType, 'blob');
  dc2.binaryType = 'nonsense';
  assert.strictEqual(dc2.binaryType, 'blob');
  dc1.send(new Uint8Array([7, 7]));
  await until(() => got.length === 7);
  assert.ok(got[6] instanceof Blob);
  assert.deepStrictEqual([...new Uint8Array(await got[6].arrayBuffer())], [7, 7]);

  // The other direction, and a MessageEvent.
  const ev = once(dc1, 'message');
  dc2.send('back');
  const e = await ev;
  assert.ok(e instanceof MessageEvent);
  assert.strictEqual(e.data, 'back');
  pc1.close();
  pc2.close();
});

test('send: InvalidStateError before open, TypeError above maxMessageSize', async () => {
  const pc = new RTCPeerConnection();
  const dc = pc.createDataChannel('x');
  assert.throws(() => dc.send('x'), domName('InvalidStateError'));
  assert.throws(() => dc.send(), TypeError);
  pc.close();
  const { pc1, pc2, dc1 } = await connectedChannels(api);
  assert.strictEqual(pc1.sctp.maxMessageSize, 262144);
  assert.throws(() => dc1.send(new Uint8Array(262145)), TypeError);
  assert.throws(() => dc1.send('x'.repeat(262145)), TypeError);
  assert.throws(() => dc1.send(new Blob([new Uint8Array(262145)])), TypeError);
  assert.strictEqual(dc1.bufferedAmount, 0);
  dc1.send(new Uint8Array(262144));
  pc1.close();
  pc2.close();
});

test('bufferedAmount and bufferedamountlow', async () => {
  const { pc1, pc2, dc1 } = await connectedChannels(api);
  const fake1 = engine.peers[engine.peers.length - 2];
  fake1.holdBuffered = true;
  let low = 0;
  dc1.onbufferedamountlow = () => { low += 1; };
  dc1.bufferedAmountLowThreshold = 10;
  dc1.send('abcdef'); // 6
  assert.strictEqual(dc1.bufferedAmount, 6);
  dc1.send('\u00e9'); // 2 bytes UTF-8
  assert.strictEqual(dc1.bufferedAmount, 8);
  dc1.send(new Uint8Array(8));
  assert.strictEqual(dc1.bufferedAmount, 16);
  fake1.releaseBuffered(1); // -> 10: crosses to <= threshold
  await ticks(3);
  assert.strictEqual(dc1.bufferedAmount, 10);
  assert.strictEqual(low, 1);
  fake1.releaseBuffered(1); // -> 8: already below, no event
  await ticks(3);
  assert.strictEqual(dc1.bufferedAmount, 8);
  assert.strictEqual(low, 1);
  fake1.releaseBuffered();
  await ticks(3);
  assert.strictEqual(dc1.bufferedAmount, 0);
  assert.strictEqual(low, 1);
  dc1.bufferedAmountLowThreshold = 0;
  dc1.send('xy');
  fake1.releaseBuffered();
  await ticks(3);
  assert.strictEqual(low, 2);
  dc1.bufferedAmountLowThreshold = -1; // unsigned long wraps
  assert.strictEqual(dc1.bufferedAmountLowThreshold, 4294967295);
  pc1.close();
  pc2.close();
});

test('Blob sends are read asynchronously but stay in order', async () => {
  const { pc1, pc2, dc1, dc2 } = await connectedChannels(api);
  const got = messages(dc2);
  dc2.binaryType = 'arraybuffer';
  dc1.send('first');
  dc1.send(new Blob([new Uint8Array([1, 2, 3, 4])]));
  assert.strictEqual(dc1.bufferedAmount, 5 + 4);
  dc1.send('after blob');
  dc1.send(new Uint8Array([5]));
  assert.strictEqual(dc1.bufferedAmount, 5 + 4 + 10 + 1);
  await until(() => got.length === 4);
  assert.strictEqual(got[0], 'first');
  assert.deepStrictEqual([...new Uint8Array(got[1])], [1, 2, 3, 4]);
  assert.strictEqual(got[2], 'after blob');
  assert.deepStrictEqual([...new Uint8Array(got[3])], [5]);
  await until(() => dc1.bufferedAmount === 0);
  pc1.close();
  pc2.close();
});

test('negotiated channels open on both sides without a datachannel event', async () => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  let datachannels = 0;
  pc1.ondatachannel = () => { datachannels += 1; };
  pc2.ondatachannel = () => { datachannels += 1; };
  const a = pc1.createDataChannel('n', { negotiated: true, id: 42 });
  const b = pc2.createDataChannel('n', { negotiated: true, id: 42 });
  const opened = Promise.all([once(a, 'open'), once(b, 'open')]);
  await negotiate(pc1, pc2);
  await opened;
  assert.strictEqual(a.id, 42);
  assert.strictEqual(b.id, 42);
  const got = messages(b);
  a.send('over negotiated');
  await until(() => got.length === 1);
  assert.strictEqual(got[0], 'over negotiated');
  assert.strictEqual(datachannels, 0);
  pc1.close();
  pc2.close();
});

test('a channel created after connection opens too', async () => {
  const { pc1, pc2 } = await connectedChannels(api);
  const late = pc1.createDataChannel('late');
  const remote = new Promise((resolve) => { pc2.ondatachannel = (e) => resolve(e.channel); });
  await once(late, 'open');
  const r = await remote;
  assert.strictEqual(r.label, 'late');
  assert.strictEqual(late.id % 2, 1);
  pc1.close();
  pc2.close();
});

for (const side of ['local', 'remote']) {
  test(`close() from the ${side} side`, async () => {
    const { pc1, pc2, dc1, dc2 } = await connectedChannels(api);
    const [closer, other] = side === 'local' ? [dc1, dc2] : [dc2, dc1];
    const log = [];
    closer.onclosing = () => log.push('closer:closing');
    closer.onclose = () => log.push('closer:close');
    other.onclosing = () => log.push(`other:closing:${other.readyState}`);
    other.onclose = () => log.push(`other:close:${other.readyState}`);
    closer.close();
    assert.strictEqual(closer.readyState, 'closing');
    closer.close(); // idempotent
    assert.throws(() => closer.send('x'), domName('InvalidStateError'));
    await until(() => log.length === 3);
    assert.deepStrictEqual(log.filter((l) => l.startsWith('closer')), ['closer:close']);
    assert.deepStrictEqual(log.filter((l) => l.startsWith('other')), ['other:closing:closing', 'other:close:closed']);
    assert.strictEqual(closer.readyState, 'closed');
    assert.strictEqual(other.readyState, 'closed');
    pc1.close();
    pc2.close();
  });
}

test('engine channel errors become RTCErrorEvents and close the channel', async () => {
  const { pc1, pc2, dc1 } = await connectedChannels(api);
  const other = pc1.createDataChannel('other');
  await once(other, 'open');
  const fake1 = engine.peers[engine.peers.length - 2];
  const log = [];
  const errors = [];
  for (const dc of [dc1, other]) {
    dc.onerror = (e) => { errors.push(e); log.push(`${dc.label}:error:${dc.readyState}`); };
    dc.onclose = () => log.push(`${dc.label}:close:${dc.readyState}`);
  }
  fake1.inject({ type: 'channelerror', channel: dc1._handle, name: 'OperationError', errorDetail: 'sctp-failure', message: 'reset' },
    { type: 'channelerror', channel: dc1._handle, name: 'sctp-failure', message: 'again' },
    { type: 'channelclose', channel: dc1._handle },
    { type: 'channelerror', channel: other._handle, name: 'weird', message: 'x' });
  await until(() => log.length === 4);
  await ticks(3);
  // webrtc-pc §6.2: readyState 'closed', then `error`, then `close`; once per channel.
  assert.deepStrictEqual(log, ['chat:error:closed', 'chat:close:closed', 'other:error:closed', 'other:close:closed']);
  assert.ok(errors[0] instanceof RTCErrorEvent);
  assert.ok(errors[0].error instanceof RTCError);
  assert.strictEqual(errors[0].error.errorDetail, 'sctp-failure');
  assert.strictEqual(errors[0].error.message, 'reset');
  assert.strictEqual(errors[1].error.errorDetail, 'data-channel-failure');
  pc1.close();
  pc2.close();
});

test('messages for a channel that is not open are dropped', async () => {
  const pc = new RTCPeerConnection();
  const fake = engine.last();
  const dc = pc.createDataChannel('x');
  const got = messages(dc);
  fake.inject({ type: 'message', channel: dc._handle, binary: false, data: Buffer.from('early') });
  await ticks(3);
  assert.deepStrictEqual(got, []);
  fake.inject({ type: 'channelopen', channel: dc._handle },
    { type: 'message', channel: dc._handle, binary: false, data: Buffer.from('ok') });
  await ticks(3);
  assert.deepStrictEqual(got, ['ok']);
  pc.close();
});
