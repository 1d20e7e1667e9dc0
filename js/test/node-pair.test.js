'use strict';
// End-to-end tests of the REAL package (js/node.js on the native addon): two peers in one
// process over loopback UDP. Skipped only when the addon binary is missing.
const test = require('node:test');
const assert = require('node:assert');
const { skipUnlessAddon, loadApi, once, withTimeout, until, messages } = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const TIMEOUT = 20000;
const api = loadApi();

/** Offer/answer between `offerer` and `answerer`, trickled or complete. */
async function negotiate(offerer, answerer, { trickle = true } = {}) {
  if (trickle) {
    offerer.onicecandidate = (e) => { if (e.candidate) answerer.addIceCandidate(e.candidate).catch(() => {}); };
    answerer.onicecandidate = (e) => { if (e.candidate) offerer.addIceCandidate(e.candidate).catch(() => {}); };
    await offerer.setLocalDescription();
    await answerer.setRemoteDescription(offerer.localDescription);
    await answerer.setLocalDescription();
    await offerer.setRemoteDescription(answerer.localDescription);
    return;
  }
  const gathered = (pc) => (pc.iceGatheringState === 'complete'
    ? Promise.resolve() : until(() => pc.iceGatheringState === 'complete', 'gathering'));
  await offerer.setLocalDescription();
  await gathered(offerer);
  assert.match(offerer.localDescription.sdp, /a=candidate:/);
  await answerer.setRemoteDescription(offerer.localDescription);
  await answerer.setLocalDescription();
  await gathered(answerer);
  assert.match(answerer.localDescription.sdp, /a=candidate:/);
  await offerer.setRemoteDescription(answerer.localDescription);
}

async function openPair({ trickle = true, swap = false, init = {} } = {}) {
  const a = new api.RTCPeerConnection();
  const b = new api.RTCPeerConnection();
  const [offerer, answerer] = swap ? [b, a] : [a, b];
  const dc1 = offerer.createDataChannel('chat', init);
  const remote = new Promise((resolve) => { answerer.ondatachannel = (e) => resolve(e.channel); });
  const opened = once(dc1, 'open');
  await withTimeout(negotiate(offerer, answerer, { trickle }), 'negotiation');
  const dc2 = await withTimeout(remote, 'datachannel event');
  await withTimeout(opened, 'open');
  if (dc2.readyState !== 'open') await withTimeout(once(dc2, 'open'), 'remote open');
  return { offerer, answerer, dc1, dc2, close: () => { a.close(); b.close(); } };
}

for (const trickle of [true, false]) {
  for (const swap of [false, true]) {
    test(`connect (${trickle ? 'trickle' : 'non-trickle'}, ${swap ? 'second' : 'first'} peer offers) and exchange messages`,
      { skip, timeout: TIMEOUT }, async () => {
        const p = await openPair({ trickle, swap });
        try {
          assert.strictEqual(p.offerer.connectionState, 'connected');
          assert.strictEqual(p.offerer.signalingState, 'stable');
          assert.strictEqual(p.offerer.sctp.state, 'connected');
          assert.ok(p.offerer.sctp.maxMessageSize >= 65536);
          assert.strictEqual(typeof p.dc1.id, 'number');
          assert.strictEqual(p.dc1.id, p.dc2.id);
          assert.strictEqual(p.dc2.label, 'chat');
          const got = messages(p.dc2);
          p.dc1.send('hello');
          p.dc1.send('');
          p.dc1.send(new Uint8Array([1, 2, 3]));
          p.dc1.send(new ArrayBuffer(0));
          p.dc1.send('\u00e9\u{1F600}');
          await until(() => got.length === 5, 'messages');
          assert.strictEqual(got[0], 'hello');
          assert.strictEqual(got[1], '');
          assert.deepStrictEqual([...new Uint8Array(got[2])], [1, 2, 3]);
          assert.ok(got[3] instanceof ArrayBuffer);
          assert.strictEqual(got[3].byteLength, 0);
          assert.strictEqual(got[4], '\u00e9\u{1F600}');
          const back = messages(p.dc1);
          p.dc2.send('back');
          await until(() => back.length === 1, 'reply');
          assert.strictEqual(back[0], 'back');
          await until(() => p.dc1.bufferedAmount === 0, 'bufferedAmount drains');
        } finally {
          p.close();
        }
      });
  }
}

test('256 KiB messages, binary and string, and the size limit', { skip, timeout: TIMEOUT }, async () => {
  const p = await openPair();
  try {
    const size = 256 * 1024;
    assert.ok(p.offerer.sctp.maxMessageSize >= size, `maxMessageSize ${p.offerer.sctp.maxMessageSize}`);
    const big = new Uint8Array(size);
    for (let i = 0; i < size; i += 1) big[i] = (i * 7) & 0xff;
    const got = messages(p.dc2);
    let low = 0;
    p.dc1.onbufferedamountlow = () => { low += 1; };
    p.dc1.send(big);
    assert.strictEqual(p.dc1.bufferedAmount, size);
    p.dc1.send('s'.repeat(size));
    p.dc1.send(new Blob([big]));
    assert.strictEqual(p.dc1.bufferedAmount, 3 * size);
    await until(() => got.length === 3, 'big messages', 15000);
    assert.deepStrictEqual(new Uint8Array(got[0]), big);
    assert.strictEqual(got[1], 's'.repeat(size));
    assert.deepStrictEqual(new Uint8Array(got[2]), big);
    await until(() => p.dc1.bufferedAmount === 0, 'drain');
    assert.ok(low >= 1);
    if (Number.isFinite(p.offerer.sctp.maxMessageSize)) {
      assert.throws(() => p.dc1.send(new Uint8Array(p.offerer.sctp.maxMessageSize + 1)), TypeError);
    }
  } finally {
    p.close();
  }
});

test('negotiated channels and channels created after connecting', { skip, timeout: TIMEOUT }, async () => {
  const a = new api.RTCPeerConnection();
  const b = new api.RTCPeerConnection();
  try {
    let unexpected = 0;
    const na = a.createDataChannel('neg', { negotiated: true, id: 10 });
    const nb = b.createDataChannel('neg', { negotiated: true, id: 10 });
    const opened = Promise.all([once(na, 'open'), once(nb, 'open')]);
    b.ondatachannel = () => { unexpected += 1; };
    await withTimeout(negotiate(a, b), 'negotiation');
    await withTimeout(opened, 'negotiated open');
    const got = messages(nb);
    na.send('via negotiated');
    await until(() => got.length === 1, 'negotiated message');
    assert.strictEqual(got[0], 'via negotiated');
    assert.strictEqual(unexpected, 0);
    // In-band channel from the answerer, on the existing association.
    const remote = new Promise((resolve) => { a.ondatachannel = (e) => resolve(e.channel); });
    const late = b.createDataChannel('late', { ordered: false, maxRetransmits: 0, protocol: 'p' });
    await withTimeout(once(late, 'open'), 'late open');
    const r = await withTimeout(remote, 'late datachannel');
    assert.strictEqual(r.label, 'late');
    assert.strictEqual(r.protocol, 'p');
    assert.strictEqual(r.ordered, false);
    assert.strictEqual(r.maxRetransmits, 0);
    assert.strictEqual(r.id, late.id);
    assert.throws(() => a.createDataChannel('dup', { negotiated: true, id: 10 }), (e) => e.name === 'OperationError');
  } finally {
    a.close();
    b.close();
  }
});

for (const side of ['offerer', 'answerer']) {
  test(`closing a channel from the ${side}`, { skip, timeout: TIMEOUT }, async () => {
    const p = await openPair();
    try {
      const [closer, other] = side === 'offerer' ? [p.dc1, p.dc2] : [p.dc2, p.dc1];
      const log = [];
      other.onclosing = () => log.push('other:closing');
      other.onclose = () => log.push('other:close');
      closer.onclosing = () => log.push('closer:closing');
      closer.onclose = () => log.push('closer:close');
      closer.close();
      assert.strictEqual(closer.readyState, 'closing');
      await until(() => closer.readyState === 'closed' && other.readyState === 'closed', 'closed');
      await until(() => log.length >= 3, 'close events');
      assert.deepStrictEqual(log.filter((l) => l.startsWith('closer')), ['closer:close']);
      assert.deepStrictEqual(log.filter((l) => l.startsWith('other')), ['other:closing', 'other:close']);
    } finally {
      p.close();
    }
  });
}

test('closing the peer connection closes the remote channels', { skip, timeout: TIMEOUT }, async () => {
  const p = await openPair();
  try {
    const remoteClosed = once(p.dc2, 'close');
    const localClosed = once(p.dc1, 'close');
    let stateEvents = 0;
    p.offerer.onconnectionstatechange = () => { stateEvents += 1; };
    p.offerer.close();
    assert.strictEqual(p.dc1.readyState, 'closed');
    assert.strictEqual(p.offerer.connectionState, 'closed');
    await withTimeout(localClosed, 'local close event');
    await withTimeout(remoteClosed, 'remote close event');
    assert.strictEqual(stateEvents, 0);
  } finally {
    p.close();
  }
});

test('errors from the real engine are the right DOMExceptions', { skip, timeout: TIMEOUT }, async () => {
  const a = new api.RTCPeerConnection();
  const b = new api.RTCPeerConnection();
  try {
    await assert.rejects(a.createAnswer(), (e) => e.constructor === DOMException && e.name === 'InvalidStateError');
    // webrtc-pc: an RTCError (a DOMException named OperationError), errorDetail sdp-syntax-error.
    await assert.rejects(a.setRemoteDescription({ type: 'offer', sdp: 'not sdp' }),
      (e) => e instanceof api.RTCError && e instanceof DOMException && e.name === 'OperationError');
    a.createDataChannel('x');
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription);
    await assert.rejects(b.addIceCandidate({ candidate: 'candidate:garbage', sdpMid: '0' }),
      (e) => e.constructor === DOMException && e.name === 'OperationError');
    await assert.rejects(b.addIceCandidate({ candidate: 'candidate:1 1 udp 1 192.0.2.1 9 typ host', sdpMid: 'nope' }),
      (e) => e.constructor === DOMException && e.name === 'OperationError');
    await b.addIceCandidate({ candidate: 'candidate:1 1 udp 2130706431 192.0.2.1 9 typ host', sdpMid: '0' });
    await b.addIceCandidate(null);
    const cert = await api.RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' });
    assert.ok(cert.expires > Date.now());
    assert.match(cert.getFingerprints()[0].value, /^([0-9A-F]{2}:)+[0-9A-F]{2}$/i);
    const c = new api.RTCPeerConnection({ certificates: [cert] });
    assert.strictEqual(c.getConfiguration().certificates[0], cert);
    c.close();
  } finally {
    a.close();
    b.close();
  }
});
