'use strict';
// W3C behaviour of the REAL package (js/node.js on the native addon), two peers in one
// process over loopback UDP: configuration, transports, failure, stats, error names.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const {
  skipUnlessAddon, loadApi, once, withTimeout, until, sleep, messages, negotiate, openPair,
  tamperFingerprint,
} = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 25000;

/** Collect every icecandidate of `pc` (null as null, the '' end-of-candidates as ''). */
function candidates(pc) {
  const out = [];
  pc.addEventListener('icecandidate', (e) => out.push(e.candidate === null ? null : e.candidate.candidate));
  return out;
}

// ---- configuration ---------------------------------------------------------------------

test("iceTransportPolicy 'relay' gathers no candidate (no TURN yet)", { skip, timeout: TIMEOUT }, async () => {
  for (const how of ['constructor', 'setConfiguration']) {
    const all = new api.RTCPeerConnection();
    const pc = how === 'constructor'
      ? new api.RTCPeerConnection({ iceTransportPolicy: 'relay' }) : new api.RTCPeerConnection();
    if (how === 'setConfiguration') pc.setConfiguration({ iceTransportPolicy: 'relay' });
    try {
      const got = candidates(pc);
      const gotAll = candidates(all);
      for (const p of [pc, all]) p.createDataChannel('x');
      await pc.setLocalDescription();
      await all.setLocalDescription();
      await until(() => pc.iceGatheringState === 'complete' && all.iceGatheringState === 'complete', 'gathering');
      assert.deepStrictEqual(got, ['', null], how);
      assert.doesNotMatch(pc.localDescription.sdp, /a=candidate:/);
      assert.strictEqual(pc.getConfiguration().iceTransportPolicy, 'relay');
      // The same machine under 'all' does gather host candidates.
      assert.ok(gotAll.filter((c) => c).length >= 1, JSON.stringify(gotAll));
      assert.match(all.localDescription.sdp, /a=candidate:.* typ host/);
    } finally {
      pc.close();
      all.close();
    }
  }
});

test('setConfiguration({iceServers}) reaches the engine: it asks the new STUN server', { skip, timeout: TIMEOUT }, async () => {
  const server = dgram.createSocket('udp4');
  const requests = [];
  server.on('message', (msg) => requests.push(msg));
  await new Promise((resolve) => server.bind(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const pc = new api.RTCPeerConnection({ iceCandidatePoolSize: 255 });
  try {
    pc.setConfiguration({ iceServers: [{ urls: `stun:127.0.0.1:${port}` }], iceCandidatePoolSize: 255 });
    assert.deepStrictEqual(pc.getConfiguration().iceServers, [{ urls: [`stun:127.0.0.1:${port}`] }]);
    assert.strictEqual(pc.getConfiguration().iceCandidatePoolSize, 255);
    pc.createDataChannel('x');
    await pc.setLocalDescription();
    await until(() => requests.length > 0, 'a STUN request at the configured server', 5000);
    const req = requests[0];
    assert.strictEqual(req.readUInt16BE(0), 0x0001, 'Binding request');
    assert.strictEqual(req.readUInt32BE(4), 0x2112a442, 'magic cookie');
    assert.throws(() => pc.setConfiguration({ iceServers: [{ urls: 'stun:' }], iceCandidatePoolSize: 255 }),
      (e) => e.name === 'SyntaxError');
    assert.throws(() => pc.setConfiguration({ iceCandidatePoolSize: 1 }), (e) => e.name === 'InvalidModificationError');
  } finally {
    pc.close();
    server.close();
  }
});

// ---- transports ------------------------------------------------------------------------

test('RTCIceTransport, RTCDtlsTransport and RTCSctpTransport follow the engine', { skip, timeout: TIMEOUT }, async () => {
  const offerer = new api.RTCPeerConnection();
  const answerer = new api.RTCPeerConnection();
  try {
    const log = { offerer: [], answerer: [] };
    const watch = (pc, who) => {
      const t = pc.sctp;
      t.addEventListener('statechange', () => log[who].push(`sctp:${t.state}`));
      t.transport.addEventListener('statechange', () => log[who].push(`dtls:${t.transport.state}`));
      t.transport.iceTransport.addEventListener('statechange', () => log[who].push(`ice:${t.transport.iceTransport.state}`));
      t.transport.iceTransport.addEventListener('selectedcandidatepairchange', () => log[who].push('pair'));
    };
    const dc = offerer.createDataChannel('chat');
    assert.strictEqual(offerer.sctp, null);
    assert.deepStrictEqual(answerer.sctp, null);
    await offerer.setLocalDescription();
    await answerer.setRemoteDescription(offerer.localDescription);
    await answerer.setLocalDescription();
    // The answerer has negotiated SCTP: its transport exists, still connecting.
    assert.ok(answerer.sctp instanceof api.RTCSctpTransport);
    assert.strictEqual(answerer.sctp.state, 'connecting');
    assert.strictEqual(answerer.sctp.transport.iceTransport.role, 'controlled');
    watch(answerer, 'answerer');
    await offerer.setRemoteDescription(answerer.localDescription);
    assert.strictEqual(offerer.sctp.state, 'connecting');
    assert.strictEqual(offerer.sctp.transport.state, 'new');
    assert.strictEqual(offerer.sctp.transport.iceTransport.role, 'controlling');
    watch(offerer, 'offerer');
    offerer.onicecandidate = (e) => { if (e.candidate) answerer.addIceCandidate(e.candidate).catch(() => {}); };
    answerer.onicecandidate = (e) => { if (e.candidate) offerer.addIceCandidate(e.candidate).catch(() => {}); };
    // Candidates gathered before the handlers were set are in the descriptions.
    for (const [from, to] of [[offerer, answerer], [answerer, offerer]]) {
      for (const line of from.localDescription.sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'))) {
        to.addIceCandidate({ candidate: line.slice(2), sdpMid: '0' }).catch(() => {});
      }
    }
    await withTimeout(once(dc, 'open'), 'open');
    await until(() => answerer.sctp.state === 'connected', 'answerer sctp');
    for (const [who, pc] of [['offerer', offerer], ['answerer', answerer]]) {
      const dtls = pc.sctp.transport;
      assert.strictEqual(pc.sctp.state, 'connected', who);
      assert.strictEqual(dtls.state, 'connected', who);
      assert.strictEqual(dtls.iceTransport.state, 'connected', who);
      assert.strictEqual(dtls.iceTransport.gatheringState, 'complete', who);
      assert.strictEqual(dtls.iceTransport.component, 'rtp');
      // The remote certificate: DER whose SHA-256 is the other side's fingerprint.
      const certs = dtls.getRemoteCertificates();
      assert.strictEqual(certs.length, 1, who);
      assert.ok(certs[0] instanceof ArrayBuffer && certs[0].byteLength > 100);
      assert.notStrictEqual(dtls.getRemoteCertificates()[0], certs[0], 'a fresh copy each call');
      const other = pc === offerer ? answerer : offerer;
      // (The generated default certificate is not in getConfiguration(): take the SDP's.)
      const fp = /a=fingerprint:sha-256 (\S+)/.exec(other.localDescription.sdp)[1];
      const digest = crypto.createHash('sha256').update(Buffer.from(certs[0])).digest('hex');
      assert.strictEqual(digest.match(/../g).join(':').toLowerCase(), fp.toLowerCase(), who);
      // Transitions in order, each once, ending connected.
      const seq = (prefix) => log[who].filter((l) => l.startsWith(prefix));
      assert.deepStrictEqual(seq('sctp:'), ['sctp:connected'], who);
      assert.deepStrictEqual(seq('dtls:').slice(-2), ['dtls:connecting', 'dtls:connected'], who);
      assert.deepStrictEqual(seq('ice:').slice(-1), ['ice:connected'], who);
      assert.ok(log[who].indexOf('dtls:connected') < log[who].indexOf('sctp:connected'), log[who].join());
      assert.deepStrictEqual(seq('pair'), ['pair'], who);
      assert.ok(log[who].indexOf('pair') < log[who].indexOf('ice:connected'), log[who].join());
    }
    // The selected pair: each side's local candidate is the other side's remote one.
    const ice = (pc) => pc.sctp.transport.iceTransport;
    const po = ice(offerer).getSelectedCandidatePair();
    const pa = ice(answerer).getSelectedCandidatePair();
    assert.ok(po.local instanceof api.RTCIceCandidate && po.remote instanceof api.RTCIceCandidate);
    assert.strictEqual(po.local.type, 'host');
    assert.deepStrictEqual([po.local.address, po.local.port], [pa.remote.address, pa.remote.port]);
    assert.deepStrictEqual([po.remote.address, po.remote.port], [pa.local.address, pa.local.port]);
    assert.ok(ice(offerer).getLocalCandidates().some((c) => c.candidate === po.local.candidate));
    assert.ok(ice(offerer).getRemoteCandidates().some((c) => c.address === po.remote.address && c.port === po.remote.port));
    assert.ok(ice(answerer).getLocalCandidates().length >= 1);
    // close(): every state is closed, no statechange event fires.
    const before = log.offerer.length;
    const sctp = offerer.sctp;
    offerer.close();
    assert.strictEqual(sctp.state, 'closed');
    assert.strictEqual(sctp.transport.state, 'closed');
    assert.strictEqual(sctp.transport.iceTransport.state, 'closed');
    await sleep(50);
    assert.strictEqual(log.offerer.length, before);
  } finally {
    offerer.close();
    answerer.close();
  }
});

// ---- wrong fingerprint -----------------------------------------------------------------

test('a wrong remote fingerprint fails the connection: no channel opens, no message flows', { skip, timeout: TIMEOUT }, async () => {
  const offerer = new api.RTCPeerConnection();
  const answerer = new api.RTCPeerConnection();
  const unhandled = [];
  const onUnhandled = (r) => unhandled.push(r);
  process.on('unhandledRejection', onUnhandled);
  try {
    const dc = offerer.createDataChannel('chat');
    const events = [];
    dc.onopen = () => events.push('open');
    dc.onmessage = () => events.push('message');
    dc.onerror = (e) => events.push(`error:${e.error.errorDetail}`);
    dc.onclose = () => events.push('close');
    let remoteChannels = 0;
    answerer.ondatachannel = () => { remoteChannels += 1; };
    const states = [];
    offerer.onconnectionstatechange = () => states.push(offerer.connectionState);
    await withTimeout(negotiate(offerer, answerer, { tamper: tamperFingerprint }), 'negotiation');
    const dtls = offerer.sctp.transport;
    const dtlsLog = [];
    dtls.onerror = (e) => dtlsLog.push(`error:${e.error.errorDetail}:${e.error.name}`);
    dtls.onstatechange = () => dtlsLog.push(`state:${dtls.state}`);
    await until(() => offerer.connectionState === 'failed', 'offerer failed', 20000);
    assert.deepStrictEqual(dtlsLog.slice(-2), ['error:fingerprint-failure:OperationError', 'state:failed']);
    assert.strictEqual(dtls.state, 'failed');
    assert.deepStrictEqual(dtls.getRemoteCertificates(), []);
    assert.strictEqual(offerer.sctp.state, 'closed');
    assert.strictEqual(states[states.length - 1], 'failed');
    assert.ok(!states.includes('connected'), states.join());
    assert.throws(() => dc.send('x'), (e) => e.name === 'InvalidStateError');
    await sleep(300);
    assert.ok(!events.includes('open') && !events.includes('message'), events.join());
    assert.strictEqual(dc.readyState, 'closed');
    assert.deepStrictEqual(events, ['error:sctp-failure', 'close']);
    assert.strictEqual(remoteChannels, 0);
    assert.notStrictEqual(answerer.connectionState, 'connected');
    assert.deepStrictEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    offerer.close();
    answerer.close();
  }
});

// ---- getStats --------------------------------------------------------------------------

test('getStats(): peer-connection, data-channel and transport stats', { skip, timeout: TIMEOUT }, async () => {
  const p = await openPair(api, { init: { protocol: 'proto' } });
  try {
    const got = messages(p.dc2);
    p.dc1.send('hello');
    p.dc1.send(new Uint8Array(1000));
    p.dc2.send('\u00e9');
    await until(() => got.length === 2, 'messages');
    await until(() => p.dc1.bufferedAmount === 0, 'drained');
    await until(() => p.dc1.readyState === 'open', 'open'); // (already)
    const report = await p.offerer.getStats();
    assert.strictEqual(Object.prototype.toString.call(report), '[object RTCStatsReport]');
    assert.strictEqual(report.size, [...report.keys()].length);
    const byType = (r, type) => [...r.values()].filter((s) => s.type === type);
    const [pcStats] = byType(report, 'peer-connection');
    assert.strictEqual(pcStats.dataChannelsOpened, 1);
    assert.strictEqual(pcStats.dataChannelsClosed, 0);
    assert.strictEqual(typeof pcStats.timestamp, 'number');
    assert.ok(Math.abs(pcStats.timestamp - Date.now()) < 60000);
    const [dc] = byType(report, 'data-channel');
    assert.strictEqual(report.get(dc.id), dc);
    assert.deepStrictEqual(
      { label: dc.label, protocol: dc.protocol, id: dc.dataChannelIdentifier, state: dc.state },
      { label: 'chat', protocol: 'proto', id: p.dc1.id, state: 'open' },
    );
    assert.deepStrictEqual(
      [dc.messagesSent, dc.bytesSent, dc.messagesReceived, dc.bytesReceived],
      [2, 5 + 1000, 1, 2],
    );
    const [transport] = byType(report, 'transport');
    assert.strictEqual(transport.dtlsState, 'connected');
    assert.strictEqual(transport.selectedCandidatePairChanges, 1);
    const remote = byType(await p.answerer.getStats(), 'data-channel')[0];
    assert.deepStrictEqual(
      [remote.messagesSent, remote.bytesSent, remote.messagesReceived, remote.bytesReceived],
      [1, 2, 2, 1005],
    );
    // Closing the channel: dataChannelsClosed counts it, its stats remain with state closed.
    p.dc1.close();
    await until(() => p.dc2.readyState === 'closed' && p.dc1.readyState === 'closed', 'closed');
    const after = await p.offerer.getStats();
    assert.strictEqual(byType(after, 'peer-connection')[0].dataChannelsClosed, 1);
    assert.strictEqual(byType(after, 'data-channel')[0].state, 'closed');
    assert.strictEqual(byType(await p.answerer.getStats(), 'peer-connection')[0].dataChannelsClosed, 1);
    await assert.rejects(p.offerer.getStats({}), TypeError);
  } finally {
    p.close();
  }
});

// ---- error names -----------------------------------------------------------------------

test('error names from the real engine', { skip, timeout: TIMEOUT }, async () => {
  const a = new api.RTCPeerConnection();
  const b = new api.RTCPeerConnection();
  try {
    await assert.rejects(a.createAnswer(), (e) => e.constructor === DOMException && e.name === 'InvalidStateError');
    // Garbage SDP: an RTCError (OperationError) with errorDetail sdp-syntax-error.
    const garbage = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nthis is not sdp\r\n';
    await assert.rejects(a.setRemoteDescription({ type: 'offer', sdp: garbage }), (e) => e instanceof api.RTCError
      && e instanceof DOMException && e.name === 'OperationError' && e.errorDetail === 'sdp-syntax-error'
      && e.sdpLineNumber === 4);
    await assert.rejects(a.setRemoteDescription({ type: 'offer', sdp: 'not sdp' }),
      (e) => e.name === 'OperationError' && e.errorDetail === 'sdp-syntax-error');
    assert.strictEqual(a.signalingState, 'stable');
    a.createDataChannel('x');
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription);
    await assert.rejects(b.addIceCandidate({ candidate: 'candidate:garbage', sdpMid: '0' }),
      (e) => e.constructor === DOMException && e.name === 'OperationError');
  } finally {
    a.close();
    b.close();
  }
  const p = await openPair(api);
  try {
    const max = p.offerer.sctp.maxMessageSize;
    assert.ok(Number.isFinite(max) && max >= 65536, String(max));
    assert.throws(() => p.dc1.send(new Uint8Array(max + 1)), TypeError);
    assert.throws(() => p.dc1.send('x'.repeat(max + 1)), TypeError);
    assert.throws(() => p.dc1.send(new Blob([new Uint8Array(max + 1)])), TypeError);
    p.dc1.send(new Uint8Array(max)); // exactly the limit is fine
    p.dc1.close();
    assert.strictEqual(p.dc1.readyState, 'closing');
    assert.throws(() => p.dc1.send('late'), (e) => e.constructor === DOMException && e.name === 'InvalidStateError');
    await until(() => p.dc1.readyState === 'closed', 'closed');
    assert.throws(() => p.dc1.send('later'), (e) => e.name === 'InvalidStateError');
  } finally {
    p.close();
  }
});
