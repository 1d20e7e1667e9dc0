'use strict';
// RFC 6464 audio levels through the W3C surface (fake engine): an EncodedMediaSource audio
// frame's `audioLevel` reaches the engine's writeFrame, and the engine's levels per SSRC
// (`audioLevels(handle)`) become `audioLevel` / `voiceActivityFlag` in the receiver's
// getSynchronizationSources().
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, ticks } = require('./helpers');
const { exchange } = require('./media-helpers');

test('audioLevel: from the source to the engine, from the engine to getSynchronizationSources()', async () => {
  const { api, engine } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const src = new api.EncodedMediaSource({ kind: 'audio', mimeType: 'audio/opus' });
  assert.throws(() => src.writeFrame({ type: 'key', timestamp: 0, data: new Uint8Array(1), audioLevel: 1.5 }), RangeError);
  assert.throws(() => src.writeFrame({ type: 'key', timestamp: 0, data: new Uint8Array(1), audioLevel: NaN }), RangeError);
  pc1.addTrack(src.track, new api.MediaStream([src.track]));
  const remote = new Promise((resolve) => { pc2.ontrack = (e) => resolve(e); });
  await exchange(pc1, pc2);
  const { receiver } = await remote;
  const sink = new api.EncodedMediaSink(receiver.track);
  let frames = 0;
  sink.onframe = () => { frames += 1; };
  src.writeFrame({ type: 'key', timestamp: 0, data: new Uint8Array([1]) });
  src.writeFrame({ type: 'key', timestamp: 20000, data: new Uint8Array([2]), audioLevel: 0.25 });
  await ticks(3);
  assert.strictEqual(frames, 2);
  assert.deepStrictEqual(engine.peers[0].framesWritten.map((f) => f.audioLevel), [undefined, 0.25]);
  const [s] = receiver.getSynchronizationSources();
  assert.strictEqual(typeof s.source, 'number');
  assert.strictEqual(s.audioLevel, 0.25, 'the engine\'s RFC 6464 level');
  assert.strictEqual(s.voiceActivityFlag, false);
  pc1.close();
  pc2.close();
});
