'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, connectedChannels, ticks } = require('./helpers');

const NAMES = [
  'RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate', 'RTCDataChannel',
  'RTCPeerConnectionIceEvent', 'RTCPeerConnectionIceErrorEvent', 'RTCDataChannelEvent',
  'RTCCertificate', 'RTCSctpTransport', 'RTCDtlsTransport', 'RTCIceTransport', 'RTCError',
  'RTCErrorEvent', 'RTCStatsReport', 'RTCRtpSender', 'RTCRtpReceiver', 'RTCRtpTransceiver',
  'RTCTrackEvent', 'RTCDTMFSender', 'RTCDTMFToneChangeEvent', 'MediaStream', 'MediaStreamTrack',
  'MediaStreamTrackEvent', 'OverconstrainedError', 'EncodedMediaSource', 'EncodedMediaSink',
  'EncodedMediaEvent',
];
/** Exports that are objects, not interfaces. */
const OBJECTS = ['mediaDevices'];

test('CommonJS and ESM entry points export the same names', async () => {
  // The CommonJS entry (generated js/cjs/node.cjs) and the ES module (js/node.js) are two
  // copies of the layer: the same names, each a working class, but not the same objects.
  const cjs = require('./layer').nodeApi();
  assert.deepStrictEqual(Object.keys(cjs).sort(), [...NAMES, ...OBJECTS].sort());
  for (const name of OBJECTS) assert.strictEqual(typeof cjs[name], 'object', name);
  for (const name of NAMES) assert.strictEqual(typeof cjs[name], 'function', name);
  const esm = await import('../node.js');
  assert.deepStrictEqual(Object.keys(esm).sort(), [...NAMES, ...OBJECTS, 'default'].sort());
  for (const name of NAMES) {
    assert.strictEqual(typeof esm[name], 'function', name);
    assert.strictEqual(esm[name].name, cjs[name].name, name);
    assert.strictEqual(esm.default[name], esm[name], `default.${name}`);
  }
  assert.deepStrictEqual(Object.keys(esm.default).sort(), [...NAMES, ...OBJECTS].sort());
});

test('importing the entry never loads the addon: the classes that need no engine work', async () => {
  const esm = await import('../node.js');
  const d = new esm.RTCSessionDescription({ type: 'offer', sdp: 'v=0\r\n' });
  assert.strictEqual(d.type, 'offer');
  assert.strictEqual(new esm.RTCIceCandidate({ candidate: '', sdpMid: '0' }).sdpMid, '0');
});

test('createApi rejects an incomplete engine', () => {
  const { createApi } = require('./layer').lib('factory');
  assert.throws(() => createApi({}), TypeError);
});

test('an engine failure fails the connection and closes its channels', async () => {
  const api = fakeApi();
  const { pc1, pc2, dc1 } = await connectedChannels(api);
  const fake1 = api.engine.peers[0];
  const log = [];
  pc1.onconnectionstatechange = () => log.push(`pc:${pc1.connectionState}`);
  dc1.onerror = (e) => log.push(`dc:error:${e.error.errorDetail}`);
  dc1.onclose = () => log.push(`dc:close:${dc1.readyState}`);
  const warned = new Promise((resolve) => process.once('warning', resolve));
  fake1.inject({ type: 'error', message: 'panic caught' });
  assert.match((await warned).message, /panic caught/);
  await ticks(3);
  assert.deepStrictEqual(log, ['pc:failed', 'dc:error:sctp-failure', 'dc:close:closed']);
  assert.strictEqual(pc1.sctp.state, 'closed');
  pc1.close();
  pc2.close();
});
