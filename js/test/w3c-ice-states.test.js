'use strict';
// W3C webrtc-pc ICE states and addIceCandidate on the REAL package (js/node.js on the native
// addon), two peers in one process over loopback UDP:
//  - RTCIceConnectionState / RTCIceTransportState "completed": gathering finished, the peer
//    signaled end-of-candidates, checks done with a connection found; without the peer's
//    end-of-candidates the state stays "connected".
//  - gathering: "gathering" then "complete" after the first setLocalDescription with a data
//    channel; at the end the '' candidate (end-of-candidates of the transport), then
//    icegatheringstatechange "complete", then the null candidate.
//  - addIceCandidate: end-of-candidates ({candidate: ''}, null, undefined, {}) adds
//    a=end-of-candidates to the remote description; an unknown usernameFragment rejects
//    with OperationError; relayProtocol / url on input are ignored.
const test = require('node:test');
const assert = require('node:assert');
const {
  skipUnlessAddon, loadApi, once, withTimeout, until, sleep,
} = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 25000;

function iceLog(pc) {
  const log = [];
  pc.addEventListener('iceconnectionstatechange', () => log.push(pc.iceConnectionState));
  return log;
}

/**
 * A description as it was when setLocalDescription() resolved, before gathering added to it
 * (host gathering over loopback is done by the time the application reads it).
 */
function early(desc) {
  return { type: desc.type, sdp: desc.sdp.replace(/a=(candidate:[^\r]*|end-of-candidates)\r\n/g, '') };
}

/** Offer/answer; candidates (and, when `eoc`, the end-of-candidates) trickled both ways. */
async function connect(offerer, answerer, { eoc = true } = {}) {
  for (const [from, to] of [[offerer, answerer], [answerer, offerer]]) {
    from.addEventListener('icecandidate', (e) => {
      if (e.candidate && e.candidate.candidate !== '') to.addIceCandidate(e.candidate).catch(() => {});
      else if (e.candidate === null && eoc) to.addIceCandidate(null).catch(() => {});
    });
  }
  await offerer.setLocalDescription();
  await answerer.setRemoteDescription(early(offerer.localDescription));
  await answerer.setLocalDescription();
  await offerer.setRemoteDescription(early(answerer.localDescription));
}

test('iceConnectionState reaches completed after end-of-candidates both ways', { skip, timeout: TIMEOUT }, async () => {
  const a = new api.RTCPeerConnection();
  const b = new api.RTCPeerConnection();
  try {
    const logs = [iceLog(a), iceLog(b)];
    a.createDataChannel('c');
    await withTimeout(connect(a, b), 'negotiation');
    await until(() => a.iceConnectionState === 'completed' && b.iceConnectionState === 'completed',
      `completed (a ${a.iceConnectionState}, b ${b.iceConnectionState})`);
    for (const log of logs) assert.deepStrictEqual(log, ['checking', 'connected', 'completed']);
    assert.strictEqual(a.connectionState, 'connected');
    assert.strictEqual(b.connectionState, 'connected');
    const t = a.sctp.transport.iceTransport;
    assert.strictEqual(t.state, 'completed');
    assert.strictEqual(t.gatheringState, 'complete');
    // The remote descriptions say the peer has no more candidates.
    assert.match(a.remoteDescription.sdp, /\r\na=end-of-candidates\r\n/);
    assert.match(b.remoteDescription.sdp, /\r\na=end-of-candidates\r\n/);
  } finally {
    a.close();
    b.close();
  }
});

test('without the peer\'s end-of-candidates iceConnectionState stays connected', { skip, timeout: TIMEOUT }, async () => {
  const a = new api.RTCPeerConnection();
  const b = new api.RTCPeerConnection();
  try {
    const dc = a.createDataChannel('c');
    await withTimeout(connect(a, b, { eoc: false }), 'negotiation');
    await withTimeout(once(dc, 'open'), 'open');
    await sleep(500);
    assert.strictEqual(a.iceConnectionState, 'connected');
    assert.strictEqual(b.iceConnectionState, 'connected');
    assert.doesNotMatch(a.remoteDescription.sdp, /a=end-of-candidates/);
    // Now one side learns it: that side completes, the other stays connected.
    await a.addIceCandidate({ candidate: '', sdpMid: '0' });
    await until(() => a.iceConnectionState === 'completed', 'a completed');
    assert.match(a.remoteDescription.sdp, /\r\na=end-of-candidates\r\n/);
    await sleep(200);
    assert.strictEqual(b.iceConnectionState, 'connected');
  } finally {
    a.close();
    b.close();
  }
});

test('gathering: gathering, then the \'\' candidate, complete, and the null candidate, in that order', { skip, timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection();
  try {
    const log = [];
    pc.addEventListener('icegatheringstatechange', () => log.push(`state:${pc.iceGatheringState}`));
    pc.addEventListener('icecandidate', (e) => {
      if (e.candidate === null) log.push('null');
      else if (e.candidate.candidate === '') log.push('end');
      else log.push('candidate');
    });
    assert.strictEqual(pc.iceGatheringState, 'new');
    pc.createDataChannel('c');
    await pc.setLocalDescription();
    await until(() => log.includes('null'), 'gathering done');
    await sleep(50);
    const firstCandidate = log.indexOf('candidate');
    assert.ok(firstCandidate > 0, log.join(' '));
    assert.strictEqual(log[0], 'state:gathering');
    assert.deepStrictEqual(log.slice(-3), ['end', 'state:complete', 'null']);
    assert.strictEqual(log.filter((x) => x.startsWith('state:')).length, 2, log.join(' '));
    assert.strictEqual(pc.iceGatheringState, 'complete');
    assert.match(pc.localDescription.sdp, /\r\na=end-of-candidates\r\n/);
  } finally {
    pc.close();
  }
});

test('addIceCandidate end-of-candidates forms add a=end-of-candidates to the remote description', { skip, timeout: TIMEOUT }, async () => {
  for (const form of [{ candidate: '' }, null, undefined, {}, { candidate: '', sdpMLineIndex: 0 }]) {
    const a = new api.RTCPeerConnection();
    const b = new api.RTCPeerConnection();
    try {
      a.createDataChannel('c');
      await a.setLocalDescription();
      await b.setRemoteDescription(early(a.localDescription));
      // have-remote-offer: the pending remote description is the one that changes.
      assert.doesNotMatch(b.pendingRemoteDescription.sdp, /a=end-of-candidates/);
      await (form === undefined ? b.addIceCandidate() : b.addIceCandidate(form));
      assert.match(b.pendingRemoteDescription.sdp, /\r\na=end-of-candidates\r\n/, JSON.stringify(form));
      assert.strictEqual(b.pendingRemoteDescription.sdp.match(/a=end-of-candidates/g).length, 1);
      // Stable after the answer: the current remote description keeps it.
      await b.setLocalDescription();
      assert.match(b.currentRemoteDescription.sdp, /\r\na=end-of-candidates\r\n/);
      // Again: still once.
      await b.addIceCandidate(null);
      assert.strictEqual(b.currentRemoteDescription.sdp.match(/a=end-of-candidates/g).length, 1);
    } finally {
      a.close();
      b.close();
    }
  }
});

test('addIceCandidate: unknown usernameFragment or section rejects with OperationError; relayProtocol and url are ignored', { skip, timeout: TIMEOUT }, async () => {
  const a = new api.RTCPeerConnection();
  const b = new api.RTCPeerConnection();
  try {
    a.createDataChannel('c');
    await a.setLocalDescription();
    await b.setRemoteDescription(early(a.localDescription));
    const ufrag = /a=ice-ufrag:(\S+)/.exec(a.localDescription.sdp)[1];
    const line = 'candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host';
    await assert.rejects(b.addIceCandidate({ candidate: line, sdpMid: '0', usernameFragment: 'nosuch' }),
      (err) => err instanceof DOMException && err.name === 'OperationError');
    await assert.rejects(b.addIceCandidate({ candidate: '', sdpMid: '0', usernameFragment: 'nosuch' }),
      (err) => err instanceof DOMException && err.name === 'OperationError');
    await assert.rejects(b.addIceCandidate({ candidate: '', sdpMid: 'nosuch' }),
      (err) => err instanceof DOMException && err.name === 'OperationError');
    assert.doesNotMatch(b.pendingRemoteDescription.sdp, /a=end-of-candidates/);
    assert.doesNotMatch(b.pendingRemoteDescription.sdp, /127\.0\.0\.1 40000/);
    // relayProtocol / url are output-only members: given on input they change nothing.
    await b.addIceCandidate({
      candidate: line, sdpMid: '0', usernameFragment: ufrag, relayProtocol: 'bogus', url: 'not a url',
    });
    assert.match(b.pendingRemoteDescription.sdp, /\r\na=candidate:1 1 udp 2122260223 127\.0\.0\.1 40000 typ host\r\n/);
    const c = new api.RTCIceCandidate({ candidate: line, sdpMid: '0', relayProtocol: 'tls', url: 'turn:x' });
    assert.strictEqual(c.relayProtocol, null);
    assert.strictEqual(c.url, null);
  } finally {
    a.close();
    b.close();
  }
});

test('no data channel: the offer has no m-section and setLocalDescription gathers nothing; the first channel brings m=application', { skip, timeout: TIMEOUT }, async () => {
  const a = new api.RTCPeerConnection();
  const b = new api.RTCPeerConnection();
  try {
    const logs = new Map([[a, []], [b, []]]);
    for (const [pc, log] of logs) {
      pc.addEventListener('icegatheringstatechange', () => log.push(`state:${pc.iceGatheringState}`));
      pc.addEventListener('icecandidate', () => log.push('icecandidate'));
      pc.addEventListener('negotiationneeded', () => log.push('negotiationneeded'));
    }
    // JSEP: no m-section before the first data channel (as Chromium), and no transport.
    const offer = await a.createOffer();
    assert.doesNotMatch(offer.sdp, /^m=/m);
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(offer);
    const answer = await b.createAnswer();
    assert.doesNotMatch(answer.sdp, /^m=/m, 'the answer to an offer without m-sections has none');
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(answer);
    assert.strictEqual(a.signalingState, 'stable');
    await sleep(300);
    for (const [pc, log] of logs) {
      assert.strictEqual(pc.iceGatheringState, 'new');
      assert.deepStrictEqual(log, [], 'no gathering event, no candidate');
    }
    assert.strictEqual(a.sctp, null);

    // The first channel: negotiationneeded, then an offer with m=application.
    const dc = a.createDataChannel('c');
    await until(() => logs.get(a).includes('negotiationneeded'), 'negotiationneeded');
    const order = [];
    const transport = () => a.sctp && a.sctp.transport.iceTransport;
    a.addEventListener('icecandidate', (e) => {
      if (e.candidate && e.candidate.candidate === '') {
        order.push(`end(${a.iceGatheringState})`);
        queueMicrotask(() => order.push('microtask after end'));
      } else if (e.candidate === null) {
        order.push(`null(${a.iceGatheringState})`);
      }
    });
    a.addEventListener('icegatheringstatechange', () => order.push(`pc:${a.iceGatheringState}`));
    for (const [from, to] of [[a, b], [b, a]]) {
      from.addEventListener('icecandidate', (e) => { if (e.candidate) to.addIceCandidate(e.candidate).catch(() => {}); });
    }
    await a.setLocalDescription();
    assert.match(a.localDescription.sdp, /^m=application /m);
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription();
    assert.match(b.localDescription.sdp, /^m=application /m, 'the remote offer\'s m=application is answered');
    await a.setRemoteDescription(b.localDescription);
    await withTimeout(once(dc, 'open'), 'open');
    await until(() => a.iceGatheringState === 'complete' && b.iceGatheringState === 'complete', 'gathering complete');
    await until(() => order.some((x) => x.startsWith('null')), 'null candidate');
    const t = transport();
    assert.strictEqual(t.gatheringState, 'complete');
    // webrtc-pc: the '' candidate in one task (still 'gathering'); then a second task sets
    // 'complete', fires icegatheringstatechange, then the null candidate.
    assert.deepStrictEqual(order.filter((x) => x !== 'pc:gathering'),
      ['end(gathering)', 'microtask after end', 'pc:complete', 'null(complete)']);
    for (const [pc, log] of logs) {
      const states = log.filter((x) => x.startsWith('state:'));
      assert.deepStrictEqual(states, ['state:gathering', 'state:complete'], pc === a ? 'a' : 'b');
    }
  } finally {
    a.close();
    b.close();
  }
});

test('gathering: the transport\'s and the connection\'s states are both set before either state change event', { skip, timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection();
  const other = new api.RTCPeerConnection();
  try {
    pc.createDataChannel('c');
    await pc.setLocalDescription();
    await other.setRemoteDescription(pc.localDescription);
    await other.setLocalDescription();
    // The transport object exists once the answer is applied; gathering ran meanwhile, so
    // watch the next generation (an ICE restart) on it.
    await pc.setRemoteDescription(other.localDescription);
    const t = pc.sctp.transport.iceTransport;
    const seen = [];
    t.addEventListener('gatheringstatechange', () => seen.push(`t:${t.gatheringState}/${pc.iceGatheringState}`));
    pc.addEventListener('icegatheringstatechange', () => seen.push(`pc:${t.gatheringState}/${pc.iceGatheringState}`));
    pc.restartIce();
    await pc.setLocalDescription();
    await until(() => seen.length >= 4, `restart gathering (${seen.join(' ')})`);
    assert.deepStrictEqual(seen, ['t:gathering/gathering', 'pc:gathering/gathering',
      't:complete/complete', 'pc:complete/complete']);
  } finally {
    pc.close();
    other.close();
  }
});
