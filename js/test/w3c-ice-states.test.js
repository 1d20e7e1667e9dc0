'use strict';
// W3C webrtc-pc ICE states and addIceCandidate on the REAL package (js/index.js on the native
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
