'use strict';
// getStats() of the REAL package (js/node.js on the native addon), two peers in one process
// over loopback UDP: the transport, candidate-pair, candidate and certificate stats built
// from the core's counters (webrtc-stats names), cross-checked between the two ends.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const { skipUnlessAddon, loadApi, until, sleep, messages, openPair } = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 30000;

const byType = (r, type) => [...r.values()].filter((s) => s.type === type);

/** The report's transport, its selected pair and that pair's candidates. */
function selected(report) {
  const [transport] = byType(report, 'transport');
  const pair = transport && report.get(transport.selectedCandidatePairId);
  return {
    transport,
    pair,
    local: pair && report.get(pair.localCandidateId),
    remote: pair && report.get(pair.remoteCandidateId),
  };
}

/** Waits until `pc`'s selected pair is nominated (the controlling side nominates after checks). */
async function nominatedReport(pc) {
  let report;
  await until(() => {
    pc.getStats().then((r) => { report = r; });
    return report && selected(report).pair && selected(report).pair.nominated;
  }, 'a nominated selected pair', 10000);
  return report;
}

/** Every entry has id/type/timestamp, is stored under its id, and every *Id names an entry. */
function assertWellFormed(report) {
  for (const [key, s] of report) {
    assert.strictEqual(key, s.id);
    assert.strictEqual(typeof s.type, 'string');
    assert.strictEqual(typeof s.timestamp, 'number', s.id);
    for (const [k, v] of Object.entries(s)) {
      if (k.endsWith('Id') && k !== 'id' && k !== 'dataChannelIdentifier') {
        assert.ok(report.has(v), `${s.id}.${k} = ${v} is not in the report`);
      }
    }
  }
}

function sdpFingerprint(sdp) {
  return /^a=fingerprint:(\S+) (\S+)/m.exec(sdp).slice(1, 3);
}

test('getStats(): transport, candidate pairs, candidates and certificates from the engine', { skip, timeout: TIMEOUT }, async () => {
  const p = await openPair(api);
  try {
    const [a, b] = await Promise.all([nominatedReport(p.offerer), nominatedReport(p.answerer)]);
    for (const r of [a, b]) {
      assertWellFormed(r);
      const types = new Set([...r.values()].map((s) => s.type));
      for (const t of ['peer-connection', 'data-channel', 'transport', 'candidate-pair', 'local-candidate',
        'remote-candidate', 'certificate']) {
        assert.ok(types.has(t), `a ${t} entry`);
      }
      // One timestamp for the whole report (performance.timeOrigin + performance.now()).
      assert.strictEqual(new Set([...r.values()].map((s) => s.timestamp)).size, 1);
    }
    const sa = selected(a);
    const sb = selected(b);
    // The transport: the DTLS suite both ends negotiated, opposite roles, DTLS 1.2.
    assert.strictEqual(sa.transport.dtlsState, 'connected');
    assert.match(sa.transport.dtlsCipher, /^TLS_ECDHE_(ECDSA|RSA)_WITH_/);
    assert.strictEqual(sa.transport.dtlsCipher, sb.transport.dtlsCipher);
    assert.deepStrictEqual([sa.transport.tlsVersion, sb.transport.tlsVersion], ['FEFD', 'FEFD']);
    assert.deepStrictEqual([sa.transport.dtlsRole, sb.transport.dtlsRole].sort(), ['client', 'server']);
    assert.deepStrictEqual([sa.transport.iceRole, sb.transport.iceRole], ['controlling', 'controlled']);
    // DTLS negotiates use_srtp even without media (as Chromium does): both key SRTP with it.
    assert.strictEqual(sa.transport.srtpCipher, 'SRTP_AEAD_AES_128_GCM');
    assert.strictEqual(sb.transport.srtpCipher, sa.transport.srtpCipher);
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(p.offerer.localDescription.sdp)[1];
    assert.strictEqual(sa.transport.iceLocalUsernameFragment, ufrag);
    assert.strictEqual(sa.local.usernameFragment, ufrag);
    // The selected pairs: succeeded, nominated, checked, mirrored between the two ends.
    for (const s of [sa, sb]) {
      assert.deepStrictEqual([s.pair.state, s.pair.nominated], ['succeeded', true]);
      assert.strictEqual(s.pair.transportId, s.transport.id);
      assert.ok(s.pair.responsesReceived >= 1 && s.pair.requestsReceived >= 1 && s.pair.responsesSent >= 1);
      assert.strictEqual(typeof s.pair.currentRoundTripTime, 'number');
      assert.ok(s.pair.currentRoundTripTime >= 0 && s.pair.currentRoundTripTime < 1);
      assert.ok(s.pair.totalRoundTripTime >= s.pair.currentRoundTripTime);
      assert.strictEqual(s.local.type, 'local-candidate');
      assert.strictEqual(s.remote.type, 'remote-candidate');
      assert.strictEqual(s.local.protocol, 'udp');
      assert.ok(['host', 'srflx', 'prflx', 'relay'].includes(s.local.candidateType));
      assert.ok(Number.isInteger(s.local.priority) && s.local.priority > 0);
      assert.strictEqual(typeof s.local.foundation, 'string');
    }
    assert.deepStrictEqual([sa.local.address, sa.local.port], [sb.remote.address, sb.remote.port]);
    assert.deepStrictEqual([sa.remote.address, sa.remote.port], [sb.local.address, sb.local.port]);
    for (const pair of byType(a, 'candidate-pair')) {
      assert.ok(['frozen', 'waiting', 'in-progress', 'failed', 'succeeded'].includes(pair.state), pair.state);
    }
    // The certificates: the fingerprints the descriptions carry, and the DER they hash.
    const cert = (r, id) => r.get(id);
    const [algo, value] = sdpFingerprint(p.offerer.localDescription.sdp);
    const local = cert(a, sa.transport.localCertificateId);
    assert.deepStrictEqual([local.fingerprintAlgorithm, local.fingerprint], [algo, value]);
    const der = Buffer.from(local.base64Certificate, 'base64');
    const hex = crypto.createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g).join(':');
    assert.strictEqual(hex, value);
    const remote = cert(a, sa.transport.remoteCertificateId);
    assert.strictEqual(remote.fingerprint, sdpFingerprint(p.offerer.remoteDescription.sdp)[1]);
    assert.strictEqual(remote.fingerprint, cert(b, sb.transport.localCertificateId).fingerprint);
    assert.strictEqual(remote.base64Certificate, cert(b, sb.transport.localCertificateId).base64Certificate);

    // Counters: a send of N bytes shows on both transports and on the selected pair.
    const N = 60000;
    const got = messages(p.dc2);
    for (let i = 0; i < 6; i += 1) p.dc1.send(new Uint8Array(N / 6));
    await until(() => got.length === 6, 'messages');
    // Sampled once nothing is in flight: both ends agree (an SCTP heartbeat may be on its way).
    let a2;
    let b2;
    for (let tries = 0; tries < 20; tries += 1) {
      await sleep(100);
      [a2, b2] = [await p.offerer.getStats(), await p.answerer.getStats()];
      if (selected(a2).transport.bytesSent === selected(b2).transport.bytesReceived
        && selected(b2).transport.bytesSent === selected(a2).transport.bytesReceived) break;
    }
    assertWellFormed(a2);
    const sa2 = selected(a2);
    const sb2 = selected(b2);
    assert.strictEqual(sa2.pair.id, sa.pair.id, 'the nominated pair stays selected');
    assert.ok(sa2.transport.bytesSent - sa.transport.bytesSent >= N, 'offerer transport bytesSent');
    assert.ok(sb2.transport.bytesReceived - sb.transport.bytesReceived >= N, 'answerer transport bytesReceived');
    assert.ok(sa2.pair.bytesSent - sa.pair.bytesSent >= N, 'selected pair bytesSent');
    assert.ok(sb2.pair.bytesReceived - sb.pair.bytesReceived >= N, 'selected pair bytesReceived');
    assert.ok(sa2.transport.packetsSent - sa.transport.packetsSent >= N / 1300);
    assert.ok(sa2.transport.packetsReceived > sa.transport.packetsReceived, 'SACKs came back');
    // Quiet loopback, no loss: what one end sent the other received (STUN is not counted).
    assert.strictEqual(sa2.transport.bytesSent, sb2.transport.bytesReceived);
    assert.strictEqual(sb2.transport.bytesSent, sa2.transport.bytesReceived);
    assert.ok(sa2.pair.lastPacketSentTimestamp > sa.transport.timestamp);
    assert.ok(sa2.pair.lastPacketSentTimestamp <= sa2.transport.timestamp);
    assert.ok(sa2.pair.lastPacketReceivedTimestamp <= sa2.transport.timestamp);
    const [dc] = byType(a2, 'data-channel');
    assert.deepStrictEqual([dc.messagesSent, dc.bytesSent, dc.dataChannelIdentifier, dc.state],
      [6, N, p.dc1.id, 'open']);
    // Ids are stable: every candidate, pair and certificate of the first report is there again.
    for (const s of a.values()) {
      if (['candidate-pair', 'local-candidate', 'remote-candidate', 'certificate', 'transport'].includes(s.type)) {
        assert.strictEqual(a2.get(s.id)?.type, s.type, s.id);
      }
    }
    // After close(): still a well-formed report, the counters kept, the transport closed.
    p.close();
    const closed = await p.offerer.getStats();
    assertWellFormed(closed);
    const sc = selected(closed);
    assert.strictEqual(sc.transport.dtlsState, 'closed');
    assert.ok(sc.transport.bytesSent >= sa2.transport.bytesSent);
  } finally {
    p.close();
  }
});

test('getStats() before and without a transport: no transport-level entry refers to nothing', { skip, timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection();
  try {
    const empty = await pc.getStats();
    assert.deepStrictEqual([...empty.values()].map((s) => s.type), ['peer-connection']);
    pc.createDataChannel('x');
    await pc.setLocalDescription();
    await until(() => pc.iceGatheringState === 'complete', 'gathering');
    const r = await pc.getStats();
    assertWellFormed(r);
    const [transport] = byType(r, 'transport');
    assert.ok(transport, 'the transport exists once gathering ran');
    assert.strictEqual(transport.selectedCandidatePairId, undefined);
    assert.strictEqual(transport.remoteCertificateId, undefined);
    assert.strictEqual(transport.dtlsRole, 'unknown');
    assert.strictEqual(transport.bytesSent, 0);
    assert.ok(byType(r, 'local-candidate').length >= 1);
    assert.strictEqual(byType(r, 'certificate').length, 1);
  } finally {
    pc.close();
  }
});
