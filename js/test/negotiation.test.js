'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, once, tick, ticks, negotiate, connectedChannels, domName } = require('./helpers');

const api = fakeApi();
const { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate, RTCPeerConnectionIceEvent, engine } = api;

function record(target, types, log, prefix = '') {
  for (const t of types) target.addEventListener(t, () => log.push(`${prefix}${t}`));
}

test('operations chain: promises settle in call order', async () => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  pc1.createDataChannel('x');
  const log = [];
  const offer = await pc1.createOffer();
  assert.strictEqual(offer.type, 'offer');
  assert.ok(offer.sdp.startsWith('v=0'));
  // Queue several operations without awaiting.
  const ps = [
    pc2.setRemoteDescription(offer).then(() => log.push('srd')),
    pc2.createAnswer().then((a) => { log.push('answer'); return a; }),
    pc2.setLocalDescription().then(() => log.push('sld')),
    pc2.addIceCandidate({ candidate: 'candidate:1 1 udp 1 192.0.2.1 9 typ host', sdpMid: '0' })
      .then(() => log.push('aic')),
  ];
  record(pc2, ['signalingstatechange'], log);
  await Promise.all(ps);
  assert.deepStrictEqual(log, ['signalingstatechange', 'srd', 'answer', 'signalingstatechange', 'sld', 'aic']);
  assert.strictEqual(pc2.signalingState, 'stable');
  pc1.close();
  pc2.close();
});

test('a failing operation does not stall the chain', async () => {
  const pc = new RTCPeerConnection();
  const log = [];
  const a = pc.createAnswer().then(() => log.push('answer'), (e) => log.push(e.name));
  const b = pc.createOffer().then(() => log.push('offer'));
  await Promise.all([a, b]);
  assert.deepStrictEqual(log, ['InvalidStateError', 'offer']);
  pc.close();
});

test('signalingstatechange fires before the setLocalDescription promise resolves', async () => {
  const pc = new RTCPeerConnection();
  const log = [];
  pc.onsignalingstatechange = () => log.push(`event:${pc.signalingState}`);
  const p = pc.setLocalDescription().then(() => log.push('resolved'));
  assert.strictEqual(pc.signalingState, 'stable'); // nothing happens synchronously
  assert.deepStrictEqual(log, []);
  await p;
  assert.deepStrictEqual(log, ['event:have-local-offer', 'resolved']);
  assert.strictEqual(pc.localDescription.type, 'offer');
  assert.ok(pc.localDescription instanceof RTCSessionDescription);
  assert.strictEqual(pc.pendingLocalDescription.sdp, pc.localDescription.sdp);
  assert.strictEqual(pc.currentLocalDescription, null);
  pc.close();
});

test('implicit setLocalDescription creates an offer then an answer', async () => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  pc1.createDataChannel('x');
  await pc1.setLocalDescription({});
  assert.strictEqual(pc1.localDescription.type, 'offer');
  await pc2.setRemoteDescription(pc1.localDescription);
  assert.strictEqual(pc2.signalingState, 'have-remote-offer');
  assert.strictEqual(pc2.pendingRemoteDescription.type, 'offer');
  assert.strictEqual(pc2.canTrickleIceCandidates, true);
  await pc2.setLocalDescription();
  assert.strictEqual(pc2.localDescription.type, 'answer');
  assert.strictEqual(pc2.currentLocalDescription.type, 'answer');
  assert.strictEqual(pc2.currentRemoteDescription.type, 'offer');
  assert.strictEqual(pc2.pendingRemoteDescription, null);
  await pc1.setRemoteDescription({ type: 'answer', sdp: pc2.localDescription.sdp });
  assert.strictEqual(pc1.signalingState, 'stable');
  assert.strictEqual(pc1.currentLocalDescription.type, 'offer');
  assert.strictEqual(pc1.currentRemoteDescription.type, 'answer');
  pc1.close();
  pc2.close();
});

test('setLocalDescription with {type} only and with the created SDP', async () => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  await pc1.setLocalDescription({ type: 'offer' });
  assert.strictEqual(pc1.signalingState, 'have-local-offer');
  await pc2.setRemoteDescription(pc1.localDescription);
  const answer = await pc2.createAnswer();
  await pc2.setLocalDescription(answer);
  assert.strictEqual(pc2.localDescription.sdp, answer.sdp);
  pc1.close();
  pc2.close();
});

test('setLocalDescription with a modified SDP is InvalidModificationError', async () => {
  const pc = new RTCPeerConnection();
  const offer = await pc.createOffer();
  await assert.rejects(pc.setLocalDescription({ type: 'offer', sdp: `${offer.sdp}a=x\r\n` }),
    domName('InvalidModificationError'));
  assert.strictEqual(pc.signalingState, 'stable');
  await pc.setLocalDescription(offer);
  assert.strictEqual(pc.signalingState, 'have-local-offer');
  pc.close();
});

test('wrong-state operations are InvalidStateError', async () => {
  const pc = new RTCPeerConnection();
  await assert.rejects(pc.createAnswer(), domName('InvalidStateError'));
  await assert.rejects(pc.setRemoteDescription({ type: 'answer', sdp: 'v=0\r\n' }), domName('InvalidStateError'));
  await assert.rejects(pc.setLocalDescription({ type: 'answer' }), domName('InvalidStateError'));
  await assert.rejects(pc.setLocalDescription({ type: 'rollback' }), domName('InvalidStateError'));
  await assert.rejects(pc.setRemoteDescription({ type: 'rollback' }), domName('InvalidStateError'));
  await pc.setLocalDescription();
  await assert.rejects(pc.createAnswer(), domName('InvalidStateError'));
  await assert.rejects(pc.setRemoteDescription({ type: 'rollback' }), domName('InvalidStateError'));
  pc.close();
});

test('WebIDL conversion failures reject with TypeError', async () => {
  const pc = new RTCPeerConnection();
  await assert.rejects(pc.setRemoteDescription(), TypeError);
  await assert.rejects(pc.setRemoteDescription({ sdp: 'v=0' }), TypeError);
  await assert.rejects(pc.setRemoteDescription({ type: 'bogus', sdp: 'v=0' }), TypeError);
  await assert.rejects(pc.setLocalDescription({ type: 'bogus' }), TypeError);
  await assert.rejects(pc.setLocalDescription(3), TypeError);
  await assert.rejects(pc.setRemoteDescription({ type: 'offer', sdp: '' }), TypeError);
  await assert.rejects(pc.setRemoteDescription({ type: 'offer', sdp: 'garbage' }), domName('OperationError'));
  pc.close();
});

test('local rollback', async () => {
  const pc = new RTCPeerConnection();
  const log = [];
  pc.onsignalingstatechange = () => log.push(pc.signalingState);
  await pc.setLocalDescription();
  await pc.setLocalDescription({ type: 'rollback' });
  assert.deepStrictEqual(log, ['have-local-offer', 'stable']);
  assert.strictEqual(pc.localDescription, null);
  assert.strictEqual(pc.pendingLocalDescription, null);
  pc.close();
});

test('remote rollback', async () => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  assert.strictEqual(pc2.signalingState, 'have-remote-offer');
  await assert.rejects(pc2.setLocalDescription({ type: 'rollback' }), domName('InvalidStateError'));
  await pc2.setRemoteDescription({ type: 'rollback' });
  assert.strictEqual(pc2.signalingState, 'stable');
  assert.strictEqual(pc2.remoteDescription, null);
  assert.strictEqual(pc2.canTrickleIceCandidates, null);
  pc1.close();
  pc2.close();
});

test('glare: a remote offer in have-local-offer rolls back implicitly', async () => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  await pc1.setLocalDescription();
  await pc2.setLocalDescription();
  const log = [];
  pc1.onsignalingstatechange = () => log.push(pc1.signalingState);
  await pc1.setRemoteDescription(pc2.localDescription);
  assert.deepStrictEqual(log, ['stable', 'have-remote-offer']);
  assert.strictEqual(pc1.pendingLocalDescription, null);
  await pc1.setLocalDescription();
  assert.strictEqual(pc1.localDescription.type, 'answer');
  pc1.close();
  pc2.close();
});

test('negotiationneeded: fired once, in a task, after the first channel', async () => {
  const pc = new RTCPeerConnection();
  let count = 0;
  pc.onnegotiationneeded = () => { count += 1; };
  pc.createDataChannel('a');
  assert.strictEqual(count, 0); // queued, not synchronous
  pc.createDataChannel('b');
  await ticks(5);
  assert.strictEqual(count, 1);
  pc.createDataChannel('c');
  await ticks(5);
  assert.strictEqual(count, 1);
  pc.close();
});

test('negotiationneeded waits for an empty operations chain and a stable state', async () => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  let count = 0;
  pc1.onnegotiationneeded = () => { count += 1; };
  const offer = pc1.createOffer(); // chain not empty
  pc1.createDataChannel('a');
  await offer;
  await ticks(3);
  assert.strictEqual(count, 1); // fired after the chain emptied
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription);
  await ticks(5);
  assert.strictEqual(count, 1); // negotiated: no more
  pc1.close();
  pc2.close();
});

test('negotiationneeded is not fired while in have-local-offer', async () => {
  const pc = new RTCPeerConnection();
  let count = 0;
  pc.onnegotiationneeded = () => { count += 1; };
  await pc.setLocalDescription();
  pc.createDataChannel('a');
  await ticks(5);
  assert.strictEqual(count, 0);
  await pc.setLocalDescription({ type: 'rollback' });
  await ticks(5);
  assert.strictEqual(count, 1);
  pc.close();
});

test('ICE gathering: events in spec order, only after setLocalDescription', async () => {
  for (const gatherOrder of ['complete-first', 'null-first']) {
    const { RTCPeerConnection: PC } = fakeApi({ gatherOrder });
    const pc = new PC();
    const log = [];
    pc.onicegatheringstatechange = () => log.push(`gathering:${pc.iceGatheringState}`);
    pc.onicecandidate = (e) => {
      assert.ok(e instanceof RTCPeerConnectionIceEvent);
      if (e.candidate === null) log.push('null');
      else if (e.candidate.candidate === '') {
        assert.strictEqual(e.candidate.sdpMid, '0');
        assert.ok(e.candidate.usernameFragment);
        log.push('end');
      } else {
        assert.ok(e.candidate instanceof RTCIceCandidate);
        assert.strictEqual(e.candidate.type, 'host');
        log.push('candidate');
      }
    };
    pc.createDataChannel('x');
    await ticks(5);
    assert.deepStrictEqual(log, []);
    await pc.setLocalDescription();
    await ticks(5);
    assert.deepStrictEqual(log, ['gathering:gathering', 'candidate', 'end', 'gathering:complete', 'null'], gatherOrder);
    assert.strictEqual(pc.iceGatheringState, 'complete');
    pc.close();
  }
});

test('gathering events the engine produces before setLocalDescription are held back', async () => {
  const pc = new RTCPeerConnection();
  const fake = engine.last();
  const log = [];
  pc.onicegatheringstatechange = () => log.push(`gathering:${pc.iceGatheringState}`);
  pc.onicecandidate = (e) => log.push(e.candidate ? `candidate:${e.candidate.candidate}` : 'null');
  fake.inject({ type: 'icegatheringstatechange', state: 'gathering' },
    { type: 'icecandidate', candidate: { candidate: 'candidate:9 1 udp 1 192.0.2.9 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
  await ticks(5);
  assert.deepStrictEqual(log, []);
  const sld = pc.setLocalDescription().then(() => log.push('sld resolved'));
  await sld;
  await ticks(10);
  assert.deepStrictEqual(log.slice(0, 3),
    ['sld resolved', 'gathering:gathering', 'candidate:candidate:9 1 udp 1 192.0.2.9 9 typ host']);
  pc.close();
});

test('addIceCandidate', async () => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  const fake2 = engine.last();
  pc1.createDataChannel('x');
  const cand = { candidate: 'candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host', sdpMid: '0' };
  await assert.rejects(pc2.addIceCandidate(cand), domName('InvalidStateError'));
  await assert.rejects(pc2.addIceCandidate({ candidate: cand.candidate }), TypeError);
  await assert.rejects(pc2.addIceCandidate({ candidate: cand.candidate, sdpMid: null, sdpMLineIndex: null }), TypeError);
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.addIceCandidate(cand);
  await pc2.addIceCandidate(new RTCIceCandidate(cand));
  await pc2.addIceCandidate({ candidate: cand.candidate, sdpMLineIndex: 0 });
  assert.strictEqual(fake2.remoteCandidates.length, 3);
  // End-of-candidates forms.
  for (const eoc of [undefined, null, {}, { candidate: '' }, { candidate: '', sdpMid: '0' }]) {
    assert.strictEqual(await pc2.addIceCandidate(eoc), undefined);
  }
  assert.strictEqual(await pc2.addIceCandidate(), undefined);
  await assert.rejects(pc2.addIceCandidate({ candidate: 'candidate:bogus', sdpMid: '0' }), domName('OperationError'));
  await assert.rejects(pc2.addIceCandidate({ candidate: cand.candidate, sdpMid: 'nope' }), domName('OperationError'));
  await assert.rejects(pc2.addIceCandidate({ candidate: cand.candidate, sdpMLineIndex: 3 }), domName('OperationError'));
  pc1.close();
  pc2.close();
});

test('connection: states, events and the sctp transport', async () => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  pc1.createDataChannel('x');
  const log = [];
  pc1.oniceconnectionstatechange = () => log.push(`ice:${pc1.iceConnectionState}`);
  pc1.onconnectionstatechange = () => log.push(`pc:${pc1.connectionState}`);
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.setLocalDescription();
  assert.strictEqual(pc1.sctp, null);
  const sctp2 = pc2.sctp;
  assert.ok(sctp2 instanceof api.RTCSctpTransport);
  assert.strictEqual(sctp2.state, 'connecting');
  await pc1.setRemoteDescription(pc2.localDescription);
  const sctp = pc1.sctp;
  assert.ok(sctp);
  assert.strictEqual(sctp.state, 'connecting');
  assert.strictEqual(sctp.maxChannels, null);
  assert.ok(sctp.transport instanceof api.RTCDtlsTransport);
  assert.ok(sctp.transport.iceTransport instanceof api.RTCIceTransport);
  assert.strictEqual(sctp.transport.iceTransport.role, 'controlling');
  assert.strictEqual(sctp2.transport.iceTransport.role, 'controlled');
  const dtlsLog = [];
  sctp.transport.onstatechange = () => dtlsLog.push(sctp.transport.state);
  await once(sctp, 'statechange');
  assert.strictEqual(sctp.state, 'connected');
  assert.strictEqual(sctp.maxChannels, 65535);
  assert.strictEqual(sctp.maxMessageSize, 262144);
  assert.strictEqual(pc1.sctp, sctp); // same object
  assert.deepStrictEqual(dtlsLog, ['connecting', 'connected']);
  assert.deepStrictEqual(log, ['ice:checking', 'pc:connecting', 'ice:connected', 'pc:connected']);
  assert.strictEqual(sctp.transport.iceTransport.state, 'connected');
  pc1.close();
  pc2.close();
});

test('close(): synchronous, idempotent, no later events, pending operations never settle', async () => {
  const pc = new RTCPeerConnection();
  pc.createDataChannel('x');
  const events = [];
  for (const t of ['signalingstatechange', 'connectionstatechange', 'iceconnectionstatechange',
    'icegatheringstatechange', 'icecandidate', 'negotiationneeded']) {
    pc.addEventListener(t, () => events.push(t));
  }
  const p1 = pc.setLocalDescription();
  const p2 = pc.createOffer();
  assert.strictEqual(pc.close(), undefined);
  assert.strictEqual(pc.close(), undefined);
  assert.strictEqual(pc.signalingState, 'closed');
  assert.strictEqual(pc.connectionState, 'closed');
  assert.strictEqual(pc.iceConnectionState, 'closed');
  // webrtc-pc "chain an operation": with [[IsClosed]] true the steps that settle the
  // chained promise abort, so operations pending at close() neither resolve nor reject.
  const settled = [];
  for (const p of [p1, p2]) p.then(() => settled.push('resolved'), () => settled.push('rejected'));
  await assert.rejects(pc.createOffer(), domName('InvalidStateError'));
  await assert.rejects(pc.createAnswer(), domName('InvalidStateError'));
  await assert.rejects(pc.setLocalDescription(), domName('InvalidStateError'));
  await assert.rejects(pc.setRemoteDescription({ type: 'offer', sdp: 'v=0\r\n' }), domName('InvalidStateError'));
  await assert.rejects(pc.addIceCandidate({ candidate: '' }), domName('InvalidStateError'));
  assert.throws(() => pc.createDataChannel('y'), domName('InvalidStateError'));
  await ticks(10);
  assert.deepStrictEqual(events, []);
  assert.deepStrictEqual(settled, []);
});

test('close() while connected: channels close, no connectionstatechange', async () => {
  const { pc1, pc2, dc1, dc2 } = await connectedChannels(api);
  const log = [];
  pc1.onconnectionstatechange = () => log.push('pc1:connectionstatechange');
  dc1.onclosing = () => log.push('dc1:closing');
  dc1.onclose = () => log.push(`dc1:close:${dc1.readyState}`);
  dc2.onclosing = () => log.push('dc2:closing');
  dc2.onclose = () => log.push(`dc2:close:${dc2.readyState}`);
  dc2.onerror = (e) => log.push(`dc2:error:${dc2.readyState}:${e.error.errorDetail}`);
  pc1.close();
  assert.strictEqual(dc1.readyState, 'closed');
  assert.throws(() => dc1.send('x'), domName('InvalidStateError'));
  await ticks(10);
  // The remote channel sees the ABORT: error (sctp-failure), then close; no closing.
  assert.deepStrictEqual(log.filter((l) => l.startsWith('dc2')), ['dc2:error:closed:sctp-failure', 'dc2:close:closed']);
  assert.deepStrictEqual(log.filter((l) => !l.startsWith('dc2')), ['dc1:close:closed']);
  assert.strictEqual(pc1.sctp.state, 'closed');
  assert.strictEqual(pc1.sctp.transport.state, 'closed');
  pc2.close();
});

function exposeGc() {
  if (typeof global.gc === 'function') return global.gc;
  require('v8').setFlagsFromString('--expose-gc');
  return require('vm').runInNewContext('gc');
}

test('garbage collection: kept while started and open, collectable otherwise', async () => {
    const gc = exposeGc();
    const collected = new Set();
    const registry = new FinalizationRegistry((name) => collected.add(name));
    const started = [];
    await (async () => {
      registry.register(new RTCPeerConnection(), 'unused');
      const pc = new RTCPeerConnection();
      registry.register(pc, 'started');
      await pc.setLocalDescription();
      const pc2 = new RTCPeerConnection();
      registry.register(pc2, 'closed');
      await pc2.setLocalDescription();
      pc2.close();
      started.push(new WeakRef(pc));
    })();
    for (let i = 0; i < 10 && collected.size < 2; i += 1) { gc(); await ticks(2); }
    assert.ok(collected.has('unused'));
    assert.ok(collected.has('closed'));
    assert.ok(!collected.has('started'));
    started[0].deref().close();
  });
