'use strict';
// getStats(), RTCStatsReport and transport failure over the in-memory fake engine (the real engine is covered
// by real-engine-w3c.test.js).
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, connectedChannels, ticks } = require('./helpers');

test('RTCStatsReport is not constructible and is a read-only maplike', async () => {
  const { RTCPeerConnection, RTCStatsReport } = fakeApi();
  assert.throws(() => new RTCStatsReport(), TypeError);
  const pc = new RTCPeerConnection();
  const report = await pc.getStats();
  assert.ok(report instanceof RTCStatsReport);
  assert.strictEqual(report.size, 1); // peer-connection only: no channel, no transport yet
  const [[id, stats]] = [...report];
  assert.strictEqual(report.get(id), stats);
  assert.ok(report.has(id) && !report.has('nope'));
  assert.deepStrictEqual([...report.keys()], [id]);
  assert.deepStrictEqual([...report.values()], [stats]);
  const seen = [];
  report.forEach(function each(v, k, r) { seen.push([v, k, r, this]); }, 'ctx');
  assert.deepStrictEqual(seen, [[stats, id, report, 'ctx']]);
  assert.strictEqual(typeof report.set, 'undefined');
  assert.strictEqual(typeof report.delete, 'undefined');
  assert.deepStrictEqual({ type: stats.type, opened: stats.dataChannelsOpened, closed: stats.dataChannelsClosed },
    { type: 'peer-connection', opened: 0, closed: 0 });
  await assert.rejects(pc.getStats('track'), TypeError);
  pc.close();
  const closed = [...(await pc.getStats()).values()];
  assert.deepStrictEqual(closed.map((x) => x.type).sort(), ['peer-connection', 'transport'], 'getStats resolves after close()');
  assert.strictEqual(closed.find((x) => x.type === 'transport').dtlsState, 'closed');
});

test('data-channel counters and dataChannelsOpened/Closed', async () => {
  const api = fakeApi();
  const { pc1, pc2, dc1, dc2 } = await connectedChannels(api, { protocol: 'p' }, 'lbl');
  const extra = pc1.createDataChannel('second');
  dc1.send('abc');
  dc1.send(new Uint8Array(10));
  await ticks(10);
  const report = await pc1.getStats();
  const channels = [...report.values()].filter((s) => s.type === 'data-channel');
  assert.deepStrictEqual(channels.map((s) => s.label), ['lbl', 'second'], 'creation order');
  const [s] = channels;
  assert.deepStrictEqual(
    [s.protocol, s.dataChannelIdentifier, s.state, s.messagesSent, s.bytesSent, s.messagesReceived, s.bytesReceived],
    ['p', dc1.id, 'open', 2, 13, 0, 0],
  );
  const r = [...(await pc2.getStats()).values()].find((x) => x.type === 'data-channel');
  assert.deepStrictEqual([r.messagesReceived, r.bytesReceived], [2, 13]);
  const pcs = [...report.values()].find((x) => x.type === 'peer-connection');
  assert.strictEqual(extra.readyState, 'open'); // in-band, on the existing association
  assert.strictEqual(pcs.dataChannelsOpened, 2);
  dc2.close();
  await ticks(20);
  assert.strictEqual(dc1.readyState, 'closed');
  const after = [...(await pc1.getStats()).values()];
  assert.strictEqual(after.find((x) => x.type === 'peer-connection').dataChannelsClosed, 1);
  assert.strictEqual(after.find((x) => x.label === 'lbl').state, 'closed');
  pc1.close();
  pc2.close();
});

test('DTLS failure: error before statechange on the DTLS transport, then SCTP and channels close', async () => {
  const api = fakeApi();
  const { pc1, pc2, dc1 } = await connectedChannels(api);
  const dtls = pc1.sctp.transport;
  const log = [];
  dtls.onerror = (e) => log.push(`dtls:error:${e.error.errorDetail}`);
  dtls.onstatechange = () => log.push(`dtls:${dtls.state}`);
  pc1.sctp.onstatechange = () => log.push(`sctp:${pc1.sctp.state}`);
  dc1.onerror = (e) => log.push(`dc:error:${e.error.errorDetail}`);
  dc1.onclose = () => log.push('dc:close');
  api.engine.peers[0].inject({ type: 'dtlsstatechange', state: 'failed' });
  await ticks(3);
  assert.deepStrictEqual(log, ['dtls:error:dtls-failure', 'dtls:failed', 'sctp:closed', 'dc:error:sctp-failure', 'dc:close']);
  assert.throws(() => dc1.send('x'), (e) => e.name === 'InvalidStateError');
  pc1.close();
  pc2.close();
});
