'use strict';
// webrtc-pc §5.2 RTCRtpSender (replaceTrack, setStreams, getParameters / setParameters and
// [[LastReturnedParameters]], getStats), §5.3 RTCRtpReceiver (getParameters, sources,
// jitterBufferTarget, getStats), §7 RTCDTMFSender, getStats(track) selectors.
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, ticks } = require('./helpers');
const { exchange, isDom } = require('./media-helpers');

test('replaceTrack: kind check (TypeError), null, chained, stopping -> InvalidStateError', async () => {
  const { api, engine } = fakeApi();
  const pc = new api.RTCPeerConnection();
  const t = pc.addTransceiver('video');
  const v = new api.EncodedMediaSource({ kind: 'video' }).track;
  const a = new api.EncodedMediaSource({ kind: 'audio' }).track;
  await assert.rejects(t.sender.replaceTrack(a), TypeError);
  await assert.rejects(t.sender.replaceTrack({}), TypeError);
  await assert.rejects(t.sender.replaceTrack(), TypeError);
  const p = t.sender.replaceTrack(v);
  assert.strictEqual(t.sender.track, null, 'set when the chained operation runs');
  assert.strictEqual(await p, undefined);
  assert.strictEqual(t.sender.track, v);
  const ft = engine.last().transceivers[0];
  assert.strictEqual(ft.trackId, v.id);
  assert.strictEqual(ft.fromAddTrack, false, 'replaceTrack is not addTrack');
  await t.sender.replaceTrack(null);
  assert.strictEqual(t.sender.track, null);
  assert.strictEqual(ft.trackId, null);
  t.stop();
  await assert.rejects(t.sender.replaceTrack(v), isDom('InvalidStateError'));
  pc.close();
});

test('setStreams: MediaStream arguments, engine stream ids, stopping / closed errors', () => {
  const { api, engine } = fakeApi();
  const pc = new api.RTCPeerConnection();
  const t = pc.addTransceiver('audio');
  const s1 = new api.MediaStream();
  const s2 = new api.MediaStream();
  assert.throws(() => t.sender.setStreams({}), TypeError);
  t.sender.setStreams(s1, s2, s1);
  assert.deepStrictEqual(engine.last().transceivers[0].streamIds, [s1.id, s2.id]);
  t.sender.setStreams();
  assert.deepStrictEqual(engine.last().transceivers[0].streamIds, []);
  t.stop();
  assert.throws(() => t.sender.setStreams(s1), isDom('InvalidStateError'));
  pc.close();
});

test('getParameters / setParameters: transactionId, [[LastReturnedParameters]], read-only members, ranges', async () => {
  const { api, engine } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const t = pc1.addTransceiver('video', { sendEncodings: [{ rid: 'lo', scaleResolutionDownBy: 2 }, { rid: 'hi' }] });
  await exchange(pc1, pc2);
  const { sender } = t;
  const p1 = sender.getParameters();
  assert.strictEqual(typeof p1.transactionId, 'string');
  assert.notStrictEqual(sender.getParameters().transactionId, p1.transactionId, 'a new transactionId each call');
  assert.deepStrictEqual(p1.encodings.map((e) => e.rid), ['lo', 'hi']);
  assert.ok(p1.codecs.length > 0 && p1.codecs.every((c) => typeof c.payloadType === 'number'));
  assert.ok(Array.isArray(p1.headerExtensions));
  assert.strictEqual(typeof p1.rtcp.reducedSize, 'boolean');
  // Without a getParameters() in this task: InvalidStateError.
  const stale = sender.getParameters();
  await ticks(2);
  await assert.rejects(sender.setParameters(stale), isDom('InvalidStateError'));
  // A stale transactionId (not the last returned one): InvalidModificationError.
  const first = sender.getParameters();
  sender.getParameters();
  await assert.rejects(sender.setParameters(first), isDom('InvalidModificationError'));
  const changed = (f) => {
    const p = sender.getParameters();
    f(p);
    return sender.setParameters(p);
  };
  await assert.rejects(changed((p) => { p.encodings.pop(); }), isDom('InvalidModificationError'));
  await assert.rejects(changed((p) => { p.encodings[0].rid = 'x'; }), isDom('InvalidModificationError'));
  await assert.rejects(changed((p) => { p.rtcp.reducedSize = !p.rtcp.reducedSize; }), isDom('InvalidModificationError'));
  await assert.rejects(changed((p) => { p.headerExtensions = []; }), isDom('InvalidModificationError'));
  await assert.rejects(changed((p) => { p.codecs = p.codecs.slice(1).concat(p.codecs[0]).reverse(); if (p.codecs.length === 1) p.codecs[0].payloadType += 1; }), isDom('InvalidModificationError'));
  await assert.rejects(changed((p) => { p.encodings[1].scaleResolutionDownBy = 0.5; }), RangeError);
  await assert.rejects(changed((p) => { p.encodings[1].maxFramerate = -5; }), RangeError);
  await assert.rejects(changed((p) => { delete p.encodings; }), TypeError);
  await assert.rejects(changed((p) => { delete p.transactionId; }), TypeError);
  await assert.rejects(sender.setParameters(), TypeError);
  // Success: the encodings change, the engine is told; [[LastReturnedParameters]] is cleared.
  const ok = sender.getParameters();
  ok.encodings[0].active = false;
  ok.encodings[1].maxBitrate = 500000;
  assert.strictEqual(await sender.setParameters(ok), undefined);
  const after = sender.getParameters();
  assert.deepStrictEqual(after.encodings.map((e) => [e.active, e.maxBitrate]), [[false, undefined], [true, 500000]]);
  const ft = engine.peers[0].transceivers[0];
  assert.deepStrictEqual(ft.sendEncodings.map((e) => e.active), [false, true]);
  const twice = sender.getParameters();
  await sender.setParameters(twice);
  await assert.rejects(sender.setParameters(twice), isDom('InvalidStateError'), 'used once');
  // Stopping: InvalidStateError first.
  const last = sender.getParameters();
  t.stop();
  await assert.rejects(sender.setParameters(last), isDom('InvalidStateError'));
  pc1.close();
  pc2.close();
});

test('audio setParameters ignores scaleResolutionDownBy', async () => {
  const { api } = fakeApi();
  const pc = new api.RTCPeerConnection();
  const t = pc.addTransceiver('audio');
  const p = t.sender.getParameters();
  p.encodings[0].scaleResolutionDownBy = 0.1;
  await t.sender.setParameters(p);
  assert.strictEqual(t.sender.getParameters().encodings[0].scaleResolutionDownBy, undefined);
  pc.close();
});

test('receiver: getParameters, jitterBufferTarget range, synchronization sources from frames', async () => {
  const { api, engine } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const src = new api.EncodedMediaSource({ kind: 'audio' });
  pc1.addTrack(src.track);
  await exchange(pc1, pc2);
  const { receiver } = pc2.getTransceivers()[0];
  const params = receiver.getParameters();
  assert.ok(params.codecs.some((c) => c.mimeType === 'audio/opus'));
  assert.strictEqual(params.transactionId, undefined);
  assert.strictEqual(receiver.jitterBufferTarget, null);
  receiver.jitterBufferTarget = 150;
  assert.strictEqual(receiver.jitterBufferTarget, 150);
  receiver.jitterBufferTarget = 0;
  receiver.jitterBufferTarget = 4000;
  assert.throws(() => { receiver.jitterBufferTarget = 4001; }, RangeError);
  assert.throws(() => { receiver.jitterBufferTarget = -1; }, RangeError);
  assert.throws(() => { receiver.jitterBufferTarget = NaN; }, TypeError);
  receiver.jitterBufferTarget = null;
  assert.strictEqual(receiver.jitterBufferTarget, null);
  assert.deepStrictEqual(receiver.getSynchronizationSources(), []);
  const before = performance.timeOrigin + performance.now();
  src.writeFrame({ type: 'key', timestamp: 20000, data: new Uint8Array([9]) });
  await ticks(3);
  const [ssrc] = receiver.getSynchronizationSources();
  assert.strictEqual(ssrc.source, engine.peers[0].transceivers[0].senderSsrc, "the sender's SSRC");
  assert.strictEqual(ssrc.rtpTimestamp, 960, '20 ms at 48 kHz');
  assert.strictEqual(ssrc.audioLevel, 0.5);
  assert.ok(ssrc.timestamp >= before - 1);
  assert.deepStrictEqual(receiver.getContributingSources(), []);
  pc1.close();
  pc2.close();
});

test('DTMF: insertDTMF validation, tone buffer, tonechange on timers, canInsertDTMF', async () => {
  const { api, engine } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const t = pc1.addTransceiver('audio', { direction: 'sendonly' });
  const { dtmf } = t.sender;
  const fake1 = engine.peers[0];
  assert.strictEqual(dtmf.toneBuffer, '');
  assert.throws(() => dtmf.insertDTMF(), TypeError);
  assert.throws(() => dtmf.insertDTMF('12x'), isDom('InvalidCharacterError'));
  await exchange(pc1, pc2);
  assert.strictEqual(t.currentDirection, 'sendonly');
  assert.strictEqual(dtmf.canInsertDTMF, true, 'telephone-event negotiated and sending');
  const tones = [];
  const done = new Promise((resolve) => {
    dtmf.ontonechange = (e) => {
      tones.push(e.tone);
      if (e.tone === '') resolve();
    };
  });
  dtmf.insertDTMF('1a#', 40, 30);
  assert.strictEqual(dtmf.toneBuffer, '1A#', 'upper-cased');
  await done;
  assert.deepStrictEqual(tones, ['1', 'A', '#', '']);
  assert.strictEqual(dtmf.toneBuffer, '');
  // Each tone went to the engine as an RFC 4733 event code, with the clamped duration.
  assert.deepStrictEqual(fake1.dtmfSent.map((d) => [d.event, d.duration, d.volume]), [[1, 40, 10], [12, 40, 10], [11, 40, 10]]);
  // Not sending: InvalidStateError.
  t.direction = 'inactive';
  await exchange(pc1, pc2);
  assert.strictEqual(t.currentDirection, 'inactive');
  assert.strictEqual(dtmf.canInsertDTMF, false);
  assert.throws(() => dtmf.insertDTMF('1'), isDom('InvalidStateError'));
  t.stop();
  assert.throws(() => dtmf.insertDTMF('1'), isDom('InvalidStateError'));
  pc1.close();
  pc2.close();
});

test('getStats: sender/receiver selections and getStats(track); InvalidAccessError for an unknown track', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const src = new api.EncodedMediaSource({ kind: 'video' });
  const sender = pc1.addTrack(src.track);
  await exchange(pc1, pc2);
  const full = await pc1.getStats();
  const bySender = await sender.getStats();
  assert.ok(bySender instanceof api.RTCStatsReport);
  assert.ok(bySender.size <= full.size);
  const s2 = await pc1.getStats(src.track);
  assert.deepStrictEqual([...s2.keys()], [...bySender.keys()]);
  const receiver = pc2.getReceivers()[0];
  assert.ok((await receiver.getStats()) instanceof api.RTCStatsReport);
  assert.ok((await pc2.getStats(receiver.track)) instanceof api.RTCStatsReport);
  await assert.rejects(pc1.getStats(new api.EncodedMediaSource({ kind: 'video' }).track), isDom('InvalidAccessError'));
  await assert.rejects(pc1.getStats({}), TypeError);
  pc1.close();
  pc2.close();
});

test('receiver.getStats(): its inbound-rtp (by mid or SSRC) and what that references, nothing else', async () => {
  const { api, engine } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  pc1.addTrack(new api.EncodedMediaSource({ kind: 'audio' }).track);
  pc1.addTrack(new api.EncodedMediaSource({ kind: 'video' }).track);
  await exchange(pc1, pc2);
  const [ra, rv] = pc2.getReceivers();
  const fake2 = engine.peers[1];
  const cand = { address: '127.0.0.1', port: 1, protocol: 'udp', candidateType: 'host', priority: 1, foundation: '1' };
  // An engine getStats() (as the addon's) on this one peer.
  fake2.getStats = () => ({
    transport: { packetsSent: 0, packetsReceived: 0, bytesSent: 0, bytesReceived: 0, iceRole: 'controlled', iceLocalUsernameFragment: 'x', dtlsRole: 'client', datagramsDroppedOffPath: 0 },
    inboundRtp: [
      { ssrc: 11, payloadType: 111, packetsReceived: 1, bytesReceived: 10, headerBytesReceived: 12, kind: 'audio', mid: pc2.getTransceivers()[0].mid, mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
      { ssrc: 22, payloadType: 96, packetsReceived: 1, bytesReceived: 10, headerBytesReceived: 12, kind: 'video', mid: pc2.getTransceivers()[1].mid, mimeType: 'video/VP8', clockRate: 90000 },
    ],
    candidatePairs: [], localCandidates: [cand], remoteCandidates: [], localCertificate: null, remoteCertificate: null,
  });
  const audioStats = await ra.getStats();
  const types = [...audioStats.values()].map((e) => e.type).sort();
  assert.deepStrictEqual(types, ['codec', 'inbound-rtp', 'transport']);
  assert.strictEqual([...audioStats.values()].find((e) => e.type === 'inbound-rtp').ssrc, 11);
  const videoStats = await pc2.getStats(rv.track);
  assert.strictEqual([...videoStats.values()].find((e) => e.type === 'inbound-rtp').ssrc, 22);
  assert.ok((await pc2.getStats()).size >= 6, 'the full report has the rest');
  pc1.close();
  pc2.close();
});
