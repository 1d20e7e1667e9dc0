'use strict';
// ICE restart on the REAL package (js/node.js on the native addon), two peers in one
// process over loopback UDP: restartIce() -> negotiationneeded -> an offer with new ICE
// credentials -> an answer with new ones too -> gathering again -> the channel keeps
// delivering; createOffer({iceRestart}); stale usernameFragments; rollback.
const test = require('node:test');
const assert = require('node:assert');
const {
  skipUnlessAddon, loadApi, once, withTimeout, until, sleep, messages, openPair,
} = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 25000;

function ufrag(sdp) {
  const m = /^a=ice-ufrag:(\S+)/m.exec(sdp);
  assert.ok(m, 'an a=ice-ufrag line');
  return m[1];
}

function pwd(sdp) {
  const m = /^a=ice-pwd:(\S+)/m.exec(sdp);
  assert.ok(m, 'an a=ice-pwd line');
  return m[1];
}

/** Offer from `offerer` (with `options`), answer from `answerer`. Returns both SDPs. */
async function renegotiate(offerer, answerer, options = undefined) {
  const offer = await offerer.createOffer(options);
  await offerer.setLocalDescription(offer);
  await answerer.setRemoteDescription(offer);
  await answerer.setLocalDescription();
  const answer = answerer.localDescription;
  await offerer.setRemoteDescription(answer);
  return { offer: offer.sdp, answer: answer.sdp };
}

/** Sends numbered messages every 10 ms until stopped; returns what was sent. */
function streamFrom(channel) {
  const sent = [];
  let n = 0;
  const timer = setInterval(() => {
    if (channel.readyState !== 'open') return;
    const m = `message ${n}`;
    n += 1;
    channel.send(m);
    sent.push(m);
  }, 10);
  return { sent, stop: () => clearInterval(timer) };
}

/** Records the order of the interesting events of `pc`. */
function recorder(pc) {
  const log = [];
  pc.addEventListener('negotiationneeded', () => log.push('negotiationneeded'));
  pc.addEventListener('icegatheringstatechange', () => log.push(`gathering:${pc.iceGatheringState}`));
  pc.addEventListener('icecandidate', (e) => {
    if (e.candidate && e.candidate.candidate) log.push(`candidate:${e.candidate.usernameFragment}`);
  });
  pc.addEventListener('connectionstatechange', () => log.push(`connection:${pc.connectionState}`));
  return log;
}

async function restartWhileStreaming(restarter, how) {
  const pair = await openPair(api);
  try {
    const pcs = { offerer: pair.offerer, answerer: pair.answerer };
    const pc = pcs[restarter];
    const other = restarter === 'offerer' ? pair.answerer : pair.offerer;
    const oldLocal = ufrag(pc.localDescription.sdp);
    const oldPwd = pwd(pc.localDescription.sdp);
    const oldRemote = ufrag(other.localDescription.sdp);
    const got = messages(pair.dc2);
    const stream = streamFrom(pair.dc1);
    await sleep(100);
    const log = recorder(pc);
    const otherLog = recorder(other);
    let sdps;
    if (how === 'restartIce') {
      const needed = once(pc, 'negotiationneeded');
      pc.restartIce();
      await withTimeout(needed, 'negotiationneeded after restartIce()');
      sdps = await renegotiate(pc, other);
    } else {
      sdps = await renegotiate(pc, other, { iceRestart: true });
    }
    assert.notStrictEqual(ufrag(sdps.offer), oldLocal, 'the restart offer has a new ufrag');
    assert.notStrictEqual(pwd(sdps.offer), oldPwd, 'and a new password');
    assert.notStrictEqual(ufrag(sdps.answer), oldRemote, 'the answer restarts too (RFC 8445 §9)');
    const newLocal = ufrag(sdps.offer);
    const newRemote = ufrag(sdps.answer);
    assert.strictEqual(ufrag(pc.currentLocalDescription.sdp), newLocal);
    assert.strictEqual(ufrag(other.currentLocalDescription.sdp), newRemote);
    await until(() => pc.iceGatheringState === 'complete' && other.iceGatheringState === 'complete',
      'gathering completes again');
    await sleep(300);
    stream.stop();
    await until(() => got.length >= stream.sent.length, 'every message streamed across the restart');
    assert.deepStrictEqual(got, stream.sent, 'no message lost or reordered');
    assert.ok(stream.sent.length > 20, `streamed ${stream.sent.length}`);
    // gathering -> new candidates (new ufrag) -> complete, on both sides; no disconnection.
    for (const [l, u] of [[log, newLocal], [otherLog, newRemote]]) {
      const g = l.indexOf('gathering:gathering');
      const c = l.indexOf(`candidate:${u}`);
      const done = l.indexOf('gathering:complete');
      assert.ok(g >= 0 && c > g && done > c, JSON.stringify(l));
      assert.ok(!l.some((e) => e.startsWith('connection:')), JSON.stringify(l));
    }
    assert.strictEqual(pc.connectionState, 'connected');
    assert.strictEqual(pair.dc1.readyState, 'open');
    assert.strictEqual(pair.dc2.readyState, 'open');
    // The other direction works after the restart too.
    const back = messages(pair.dc1);
    pair.dc2.send('after the restart');
    await until(() => back.length === 1, 'a reply after the restart');
    assert.deepStrictEqual(back, ['after the restart']);
    return { oldLocal, oldRemote, newLocal, newRemote, pair };
  } catch (err) {
    pair.close();
    throw err;
  }
}

test('restartIce() -> negotiationneeded -> new credentials both ways, the channel keeps delivering',
  { skip, timeout: TIMEOUT }, async () => {
    const r = await restartWhileStreaming('offerer', 'restartIce');
    r.pair.close();
  });

test('restartIce() by the answerer of the first negotiation', { skip, timeout: TIMEOUT }, async () => {
  const r = await restartWhileStreaming('answerer', 'restartIce');
  r.pair.close();
});

test('createOffer({iceRestart: true}) restarts without restartIce()', { skip, timeout: TIMEOUT }, async () => {
  const r = await restartWhileStreaming('offerer', 'option');
  r.pair.close();
});

test('after a restart, a candidate with the old usernameFragment is refused (OperationError)',
  { skip, timeout: TIMEOUT }, async () => {
    const r = await restartWhileStreaming('offerer', 'restartIce');
    try {
      const { offerer, answerer } = r.pair;
      const line = 'candidate:1 1 udp 2122260223 127.0.0.1 9 typ host';
      await assert.rejects(
        answerer.addIceCandidate({ candidate: line, sdpMid: '0', usernameFragment: r.oldLocal }),
        (e) => e instanceof DOMException && e.name === 'OperationError',
      );
      await assert.rejects(
        offerer.addIceCandidate({ candidate: line, sdpMid: '0', usernameFragment: r.oldRemote }),
        (e) => e instanceof DOMException && e.name === 'OperationError',
      );
      // The new generation's ufrag is accepted.
      await answerer.addIceCandidate({ candidate: line, sdpMid: '0', usernameFragment: r.newLocal });
      assert.strictEqual(answerer.connectionState, 'connected');
    } finally {
      r.pair.close();
    }
  });

test('rollback of a restart offer restores the previous credentials', { skip, timeout: TIMEOUT }, async () => {
  const pair = await openPair(api);
  try {
    const { offerer, answerer } = pair;
    const before = ufrag(offerer.localDescription.sdp);
    offerer.restartIce();
    const offer = await offerer.createOffer();
    assert.notStrictEqual(ufrag(offer.sdp), before);
    await offerer.setLocalDescription(offer);
    assert.strictEqual(ufrag(offerer.pendingLocalDescription.sdp), ufrag(offer.sdp));
    await offerer.setLocalDescription({ type: 'rollback' });
    assert.strictEqual(offerer.signalingState, 'stable');
    assert.strictEqual(offerer.pendingLocalDescription, null);
    assert.strictEqual(ufrag(offerer.localDescription.sdp), before);
    // The path keeps working with the old credentials.
    const got = messages(pair.dc2);
    pair.dc1.send('after the rollback');
    await until(() => got.length === 1, 'a message after the rollback');
    // restartIce() still wants its restart: the next offer has credentials new to both.
    const { offer: again } = await renegotiate(offerer, answerer);
    assert.notStrictEqual(ufrag(again), before);
    assert.notStrictEqual(ufrag(again), ufrag(offer.sdp));
    pair.dc1.send('after the real restart');
    await until(() => got.length === 2, 'a message after the real restart');
    assert.deepStrictEqual(got, ['after the rollback', 'after the real restart']);
  } finally {
    pair.close();
  }
});

test('restartIce() before any negotiation and after close() does nothing', { skip, timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection();
  let fired = 0;
  pc.onnegotiationneeded = () => { fired += 1; };
  assert.strictEqual(pc.restartIce(), undefined);
  await sleep(50);
  assert.strictEqual(fired, 0, 'nothing to restart yet');
  pc.close();
  assert.strictEqual(pc.restartIce(), undefined);
  await sleep(20);
  assert.strictEqual(fired, 0);
});
