'use strict';
// W3C webrtc-pc operations chain ("chain an operation", §4.4.1.2) and where each method's
// checks throw or reject, on the REAL package (js/node.js on the native addon). One test per
// rule; every failure must be the platform's DOMException (or a TypeError where WebIDL or the
// spec says so), never a plain Error.
//  - createOffer / createAnswer / setLocalDescription / setRemoteDescription / addIceCandidate
//    on a closed connection return a promise rejected with InvalidStateError (no throw).
//  - createDataChannel / setConfiguration throw InvalidStateError when closed; restartIce,
//    close and getStats do not fail; RTCDataChannel.send throws InvalidStateError.
//  - Argument checks the spec puts before chaining (WebIDL conversions, addIceCandidate's
//    TypeError for a candidate without sdpMid and sdpMLineIndex) win over the closed check.
//  - Chained operations run one after the other, in call order, each seeing the state the
//    previous one left; a rejected operation does not block the chain.
//  - The checks inside the chained operation: createOffer outside stable / have-local-offer,
//    createAnswer outside have-remote-offer / have-local-pranswer, addIceCandidate without a
//    remote description: InvalidStateError; SLD/SRD errors with their spec names.
//  - An operation pending when close() is called never settles ("if [[IsClosed]] is true,
//    abort these steps").
const test = require('node:test');
const assert = require('node:assert');
const { skipUnlessAddon, loadApi, sleep } = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 20000;

/** assert.rejects / assert.throws matcher: a DOMException named `name`. */
function dom(name) {
  return (err) => {
    assert.ok(err instanceof DOMException, `expected DOMException ${name}, got ${err && err.constructor && err.constructor.name}: ${err}`);
    assert.strictEqual(err.name, name, String(err));
    return true;
  };
}

/** A TypeError (the ECMAScript one, as WebIDL throws it). */
function typeError(err) {
  assert.ok(err instanceof TypeError, `expected TypeError, got ${err}`);
  return true;
}

/** Whether `p` settled within `ms`. */
async function settlesWithin(p, ms) {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  await sleep(ms);
  return settled;
}

function closedPc() {
  const pc = new api.RTCPeerConnection();
  pc.close();
  return pc;
}

async function remoteOffer() {
  const other = new api.RTCPeerConnection();
  other.createDataChannel('c');
  const offer = await other.createOffer();
  other.close();
  return offer;
}

test('closed: each chained method returns a promise rejected with InvalidStateError (no synchronous throw)', { skip, timeout: TIMEOUT }, async () => {
  const offer = await remoteOffer();
  const calls = {
    createOffer: (pc) => pc.createOffer(),
    createAnswer: (pc) => pc.createAnswer(),
    setLocalDescription: (pc) => pc.setLocalDescription(),
    setRemoteDescription: (pc) => pc.setRemoteDescription(offer),
    addIceCandidate: (pc) => pc.addIceCandidate({ candidate: '', sdpMid: '0' }),
  };
  for (const [name, call] of Object.entries(calls)) {
    const pc = closedPc();
    let p;
    assert.doesNotThrow(() => { p = call(pc); }, name);
    assert.ok(p instanceof Promise, name);
    await assert.rejects(p, dom('InvalidStateError'), name);
  }
});

test('closed: createDataChannel and setConfiguration throw InvalidStateError; restartIce, close and getStats do not fail', { skip, timeout: TIMEOUT }, async () => {
  const pc = closedPc();
  assert.throws(() => pc.createDataChannel('x'), dom('InvalidStateError'));
  assert.throws(() => pc.setConfiguration({}), dom('InvalidStateError'));
  assert.strictEqual(pc.restartIce(), undefined);
  assert.strictEqual(pc.close(), undefined);
  const report = await pc.getStats();
  assert.strictEqual(typeof report.forEach, 'function');
});

test('closed: a channel\'s send() throws InvalidStateError, its close() does nothing', { skip, timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection();
  const dc = pc.createDataChannel('x');
  pc.close();
  assert.strictEqual(dc.readyState, 'closed');
  assert.throws(() => dc.send('hello'), dom('InvalidStateError'));
  assert.strictEqual(dc.close(), undefined);
});

test('argument checks before chaining win over the closed check', { skip, timeout: TIMEOUT }, async () => {
  const pc = closedPc();
  // addIceCandidate step 3 (before chaining): a candidate without sdpMid and sdpMLineIndex.
  await assert.rejects(pc.addIceCandidate({ candidate: 'candidate:1 1 udp 1 192.0.2.1 9 typ host' }), typeError);
  // WebIDL: RTCSessionDescriptionInit.type is required, an RTCSdpType value.
  await assert.rejects(pc.setRemoteDescription({ sdp: '' }), typeError);
  await assert.rejects(pc.setLocalDescription({ type: 'bogus' }), typeError);
  await assert.rejects(pc.createOffer(42), typeError);
});

test('chained operations run in call order, each after the previous one settled', { skip, timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection();
  try {
    pc.createDataChannel('c');
    const order = [];
    const p1 = pc.createOffer().then(() => order.push(`createOffer:${pc.signalingState}`));
    const p2 = pc.setLocalDescription().then(() => order.push(`setLocalDescription:${pc.signalingState}`));
    // Queued behind SLD: runs in have-local-offer, where createAnswer is invalid.
    const p3 = pc.createAnswer().catch((e) => order.push(`createAnswer:${e.name}`));
    await Promise.all([p1, p2, p3]);
    assert.deepStrictEqual(order, [
      'createOffer:stable', 'setLocalDescription:have-local-offer', 'createAnswer:InvalidStateError',
    ]);
  } finally {
    pc.close();
  }
});

test('a queued operation sees what the previous one did (createAnswer and addIceCandidate behind setRemoteDescription)', { skip, timeout: TIMEOUT }, async () => {
  const offer = await remoteOffer();
  const pc = new api.RTCPeerConnection();
  try {
    // Called before setRemoteDescription ran: without the chain both would fail
    // (no remote offer, no remote description).
    const srd = pc.setRemoteDescription(offer);
    const answer = pc.createAnswer();
    const candidate = pc.addIceCandidate({ candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 9 typ host', sdpMid: '0' });
    await srd;
    assert.strictEqual((await answer).type, 'answer');
    await candidate;
  } finally {
    pc.close();
  }
});

test('a rejected operation does not block the chain', { skip, timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection();
  try {
    const bad = pc.setRemoteDescription({ type: 'offer', sdp: 'this is not SDP' });
    const good = pc.createOffer();
    await assert.rejects(bad, (e) => e instanceof api.RTCError && e.errorDetail === 'sdp-syntax-error');
    assert.strictEqual((await good).type, 'offer');
    assert.strictEqual(pc.signalingState, 'stable');
  } finally {
    pc.close();
  }
});

test('createOffer outside stable / have-local-offer rejects with InvalidStateError', { skip, timeout: TIMEOUT }, async () => {
  const offer = await remoteOffer();
  const pc = new api.RTCPeerConnection();
  try {
    await pc.setRemoteDescription(offer);
    assert.strictEqual(pc.signalingState, 'have-remote-offer');
    await assert.rejects(pc.createOffer(), dom('InvalidStateError'));
    // The chain goes on: the answer can still be made.
    assert.strictEqual((await pc.createAnswer()).type, 'answer');
  } finally {
    pc.close();
  }
});

test('createAnswer outside have-remote-offer, addIceCandidate without a remote description: InvalidStateError', { skip, timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection();
  try {
    await assert.rejects(pc.createAnswer(), dom('InvalidStateError'));
    await assert.rejects(pc.addIceCandidate({ candidate: 'candidate:1 1 udp 1 192.0.2.1 9 typ host', sdpMid: '0' }),
      dom('InvalidStateError'));
    await assert.rejects(pc.addIceCandidate({ candidate: '' }), dom('InvalidStateError'));
  } finally {
    pc.close();
  }
});

test('addIceCandidate naming no media description of the remote description: OperationError', { skip, timeout: TIMEOUT }, async () => {
  const offer = await remoteOffer();
  const pc = new api.RTCPeerConnection();
  try {
    await pc.setRemoteDescription(offer);
    const line = 'candidate:1 1 udp 2122260223 192.0.2.1 9 typ host';
    await assert.rejects(pc.addIceCandidate({ candidate: line, sdpMid: 'nope' }), dom('OperationError'));
    await assert.rejects(pc.addIceCandidate({ candidate: line, sdpMLineIndex: 5 }), dom('OperationError'));
  } finally {
    pc.close();
  }
});

test('setLocalDescription / setRemoteDescription errors arrive with the spec\'s names', { skip, timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection();
  try {
    pc.createDataChannel('c');
    // "invalid for the current signaling state": InvalidStateError.
    await assert.rejects(pc.setLocalDescription({ type: 'answer', sdp: '' }), dom('InvalidStateError'));
    await assert.rejects(pc.setLocalDescription({ type: 'rollback' }), dom('InvalidStateError'));
    await assert.rejects(pc.setRemoteDescription({ type: 'rollback' }), dom('InvalidStateError'));
    const offer = await pc.createOffer();
    await assert.rejects(pc.setRemoteDescription({ type: 'answer', sdp: offer.sdp }), dom('InvalidStateError'));
    await assert.rejects(pc.setRemoteDescription({ type: 'pranswer', sdp: offer.sdp }), dom('InvalidStateError'));
    // An SDP other than the last created offer: InvalidModificationError.
    const changed = offer.sdp.replace(/a=ice-ufrag:\S+/, 'a=ice-ufrag:zzzzzzzz');
    await assert.rejects(pc.setLocalDescription({ type: 'offer', sdp: changed }), dom('InvalidModificationError'));
    // SDP that does not parse: an RTCError (name OperationError) with sdp-syntax-error.
    await assert.rejects(pc.setRemoteDescription({ type: 'offer', sdp: 'v=0\r\nnot sdp\r\n' }), (e) => {
      assert.ok(e instanceof DOMException && e instanceof api.RTCError, String(e));
      assert.strictEqual(e.name, 'OperationError');
      assert.strictEqual(e.errorDetail, 'sdp-syntax-error');
      return true;
    });
    // None of them changed anything.
    assert.strictEqual(pc.signalingState, 'stable');
    await pc.setLocalDescription(offer);
    assert.strictEqual(pc.signalingState, 'have-local-offer');
  } finally {
    pc.close();
  }
});

test('operations pending when close() is called never settle, nor do those queued behind them', { skip, timeout: TIMEOUT }, async () => {
  const offer = await remoteOffer();
  const pc = new api.RTCPeerConnection();
  const pending = [pc.setRemoteDescription(offer), pc.createAnswer(), pc.setLocalDescription()];
  pc.close();
  for (const p of pending) assert.strictEqual(await settlesWithin(p, 200), false);
  // A new call after close() is rejected at once (before chaining).
  await assert.rejects(pc.createOffer(), dom('InvalidStateError'));
});
