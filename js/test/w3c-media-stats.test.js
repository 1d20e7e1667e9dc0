'use strict';
// webrtc-stats RTP entries of getStats() from the engine's figures (the fake engine's
// options.mediaStats counts frames as packets): inbound-rtp with its track and its sender's
// remote-outbound-rtp, outbound-rtp with its codec and media-source, codec entries per
// direction, and the selection algorithm of sender / receiver getStats().
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, ticks } = require('./helpers');
const { exchange } = require('./media-helpers');

const bytes = (...b) => new Uint8Array(b);
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
const ofType = (report, type) => [...report.values()].filter((s) => s.type === type);

test('getStats: inbound-rtp, remote-outbound-rtp, outbound-rtp, codec and media-source entries', async () => {
  const { api } = fakeApi({ mediaStats: true });
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const src = new api.EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
  const sender = pc1.addTrack(src.track, new api.MediaStream([src.track]));
  const remote = new Promise((resolve) => { pc2.ontrack = (e) => resolve(e); });
  await exchange(pc1, pc2);
  const { track, receiver } = await remote;
  await settle();
  src.writeFrame({ type: 'key', timestamp: 0, data: bytes(1, 2, 3) });
  src.writeFrame({ type: 'delta', timestamp: 33000, data: bytes(4, 5) });
  await ticks(3);
  new api.EncodedMediaSink(track).requestKeyframe();
  await settle();

  const sent = await pc1.getStats();
  const [out] = ofType(sent, 'outbound-rtp');
  assert.ok(out, 'an outbound-rtp entry');
  assert.strictEqual(out.kind, 'video');
  assert.strictEqual(out.mid, pc1.getTransceivers()[0].mid);
  assert.strictEqual(out.packetsSent, 2);
  assert.strictEqual(out.bytesSent, 5);
  assert.strictEqual(out.headerBytesSent, 24);
  assert.strictEqual(out.nackCount, 0);
  assert.strictEqual(out.pliCount, 1, 'the receiver asked once');
  assert.strictEqual(out.firCount, 0);
  assert.strictEqual(out.active, true);
  const codec = sent.get(out.codecId);
  assert.ok(out.codecId.startsWith('CO'), out.codecId);
  assert.deepStrictEqual([codec.type, codec.mimeType, codec.clockRate, codec.transportId], ['codec', 'video/VP8', 90000, out.transportId]);
  assert.strictEqual(typeof codec.payloadType, 'number');
  const source = sent.get(out.mediaSourceId);
  assert.deepStrictEqual([source.type, source.kind, source.trackIdentifier], ['media-source', 'video', src.track.id]);
  assert.strictEqual(source.width, undefined, 'an application source: its size is not known');
  assert.strictEqual(ofType(sent, 'inbound-rtp').length, 0, 'pc1 receives nothing');

  const got = await pc2.getStats();
  const [inb] = ofType(got, 'inbound-rtp');
  assert.strictEqual(inb.trackIdentifier, track.id);
  assert.strictEqual(inb.ssrc, out.ssrc);
  assert.strictEqual(inb.packetsReceived, out.packetsSent);
  assert.strictEqual(inb.bytesReceived, out.bytesSent);
  assert.strictEqual(inb.pliCount, 1);
  assert.strictEqual(inb.nackCount, 0);
  assert.strictEqual(inb.packetsLost, 0);
  assert.strictEqual(inb.jitter, 0);
  assert.ok(Math.abs(inb.lastPacketReceivedTimestamp - inb.timestamp) < 1000);
  assert.ok(inb.codecId.startsWith('CI'), inb.codecId);
  assert.strictEqual(got.get(inb.codecId).mimeType, 'video/VP8');
  const ro = got.get(inb.remoteId);
  assert.strictEqual(ro.type, 'remote-outbound-rtp');
  assert.strictEqual(ro.localId, inb.id);
  assert.strictEqual(ro.ssrc, inb.ssrc);
  assert.strictEqual(ro.kind, 'video');
  assert.deepStrictEqual([ro.packetsSent, ro.bytesSent, ro.reportsSent], [2, 5, 2]);
  assert.strictEqual(ro.timestamp, inb.timestamp - 5, 'the time its report arrived');
  assert.strictEqual(typeof ro.remoteTimestamp, 'number');
  assert.strictEqual(ro.codecId, inb.codecId);

  // Selection (webrtc-pc §8.5): a sender's stats are its stream and what it references.
  const bySender = await sender.getStats();
  assert.deepStrictEqual(new Set(ofType(bySender, 'outbound-rtp').map((s) => s.id)), new Set([out.id]));
  assert.ok(bySender.has(out.mediaSourceId) && bySender.has(out.codecId) && bySender.has(out.transportId));
  const byReceiver = await receiver.getStats();
  assert.ok(byReceiver.has(inb.id) && byReceiver.has(inb.remoteId) && byReceiver.has(inb.codecId));
  assert.strictEqual(ofType(byReceiver, 'outbound-rtp').length, 0);
  const byTrack = await pc2.getStats(track);
  assert.deepStrictEqual([...byTrack.keys()].sort(), [...byReceiver.keys()].sort());
  pc1.close();
  pc2.close();
});

test('getStats: the synthetic camera\'s media-source has its size and frame rate; ids stay the same', async () => {
  const { api } = fakeApi({ mediaStats: true });
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const stream = await api.mediaDevices.getUserMedia({ video: { width: 320, height: 240, frameRate: 10 }, audio: true });
  for (const t of stream.getTracks()) pc1.addTrack(t, stream);
  await exchange(pc1, pc2);
  const first = await pc1.getStats();
  const sources = ofType(first, 'media-source');
  assert.strictEqual(sources.length, 2, 'one per sender track');
  const video = sources.find((s) => s.kind === 'video');
  const audio = sources.find((s) => s.kind === 'audio');
  assert.deepStrictEqual([video.width, video.height, video.framesPerSecond], [320, 240, 10]);
  assert.strictEqual(video.trackIdentifier, stream.getVideoTracks()[0].id);
  assert.strictEqual(audio.trackIdentifier, stream.getAudioTracks()[0].id);
  assert.strictEqual(audio.audioLevel, undefined, 'no level is measured');
  const again = await pc1.getStats();
  assert.deepStrictEqual(ofType(again, 'media-source').map((s) => s.id), sources.map((s) => s.id));
  // Without a track, no media-source.
  await pc1.getSenders()[0].replaceTrack(null);
  assert.strictEqual(ofType(await pc1.getStats(), 'media-source').length, 1);
  pc1.close();
  pc2.close();
});
