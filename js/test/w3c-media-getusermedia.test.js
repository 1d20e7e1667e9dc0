'use strict';
// mediacapture-main getUserMedia() on the synthetic devices: the engine's synthFrame hook
// (a fake generator here), constraints (width / height / frameRate read, OverconstrainedError
// for impossible ones), TypeError for {} (nothing requested), NotFoundError without a device.
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi } = require('./helpers');
const { exchange, isDom } = require('./media-helpers');

test('getUserMedia: audio and video tracks with settings from the constraints', async () => {
  const { api } = fakeApi();
  const stream = await api.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: { ideal: 720 }, frameRate: { max: 15 } } });
  assert.ok(stream instanceof api.MediaStream);
  const [a] = stream.getAudioTracks();
  const [v] = stream.getVideoTracks();
  assert.deepStrictEqual(stream.getTracks(), [a, v]);
  assert.strictEqual(a.kind, 'audio');
  assert.strictEqual(v.readyState, 'live');
  assert.match(v.label, /synthetic/);
  const s = v.getSettings();
  assert.deepStrictEqual([s.width, s.height, s.frameRate], [1280, 720, 15]);
  assert.strictEqual(typeof s.deviceId, 'string');
  assert.deepStrictEqual(v.getConstraints(), { width: 1280, height: { ideal: 720 }, frameRate: { max: 15 } });
  const caps = v.getCapabilities();
  assert.deepStrictEqual(caps.width, { min: 1, max: 3840 });
  assert.strictEqual(a.getSettings().sampleRate, 48000);
  const d = await api.mediaDevices.getUserMedia({ video: true });
  assert.deepStrictEqual([d.getVideoTracks()[0].getSettings().width, d.getVideoTracks()[0].getSettings().height], [640, 480]);
  const devices = await api.mediaDevices.enumerateDevices();
  assert.deepStrictEqual(devices.map((x) => x.kind), ['audioinput', 'videoinput']);
  assert.strictEqual(api.mediaDevices.getSupportedConstraints().width, true);
});

test('getUserMedia errors: TypeError for {} / false / bad types, OverconstrainedError, NotFoundError', async () => {
  const { api } = fakeApi();
  const md = api.mediaDevices;
  await assert.rejects(md.getUserMedia({}), TypeError);
  await assert.rejects(md.getUserMedia(), TypeError);
  await assert.rejects(md.getUserMedia({ audio: false, video: false }), TypeError);
  await assert.rejects(md.getUserMedia({ video: 5 }), TypeError);
  await assert.rejects(md.getUserMedia(7), TypeError);
  const over = (constraint) => (e) => e instanceof api.OverconstrainedError && e instanceof DOMException
    && e.name === 'OverconstrainedError' && e.constraint === constraint;
  await assert.rejects(md.getUserMedia({ video: { width: { exact: 10000 } } }), over('width'));
  await assert.rejects(md.getUserMedia({ video: { height: { min: 5000 } } }), over('height'));
  await assert.rejects(md.getUserMedia({ video: { frameRate: { min: 30, max: 10 } } }), over('frameRate'));
  await assert.rejects(md.getUserMedia({ video: { deviceId: { exact: 'camera-42' } } }), over('deviceId'));
  await assert.rejects(md.getUserMedia({ video: { width: { exact: NaN } } }), TypeError);
  // Ideal values outside the range are clamped, not errors.
  const s = await md.getUserMedia({ video: { width: 100000 } });
  assert.strictEqual(s.getVideoTracks()[0].getSettings().width, 3840);
  // applyConstraints: the same rules.
  const t = s.getVideoTracks()[0];
  await t.applyConstraints({ frameRate: 5 });
  assert.strictEqual(t.getSettings().frameRate, 5);
  await assert.rejects(t.applyConstraints({ frameRate: { exact: 500 } }), over('frameRate'));
  // An engine with no media and no synthetic source has no device.
  const bare = fakeApi({ noMedia: true, noSynth: true }).api;
  await assert.rejects(bare.mediaDevices.getUserMedia({ audio: true }), isDom('NotFoundError'));
  assert.deepStrictEqual(await bare.mediaDevices.enumerateDevices(), []);
  const e = new api.OverconstrainedError('width', 'too wide');
  assert.strictEqual(e.message, 'too wide');
  assert.throws(() => new api.OverconstrainedError(), TypeError);
});

test('the synthetic source calls the engine hook synthFrame(kind, index) while consumed; frames reach a peer', async () => {
  const { api, engine } = fakeApi();
  const calls = [];
  // A fake generator in the engine's hook.
  engine.synthFrame = (kind, index, info) => {
    calls.push([kind, index, info.keyframe]);
    return new Uint8Array([index]);
  };
  const stream = await api.mediaDevices.getUserMedia({ video: { frameRate: 60 } });
  const [track] = stream.getVideoTracks();
  await new Promise((r) => setTimeout(r, 40));
  assert.strictEqual(calls.length, 0, 'no consumer: the generator is not called');
  const sink = new api.EncodedMediaSink(track);
  const frames = [];
  for await (const f of sink) {
    frames.push(f);
    if (frames.length === 3) break;
  }
  assert.deepStrictEqual(frames.map((f) => f.type), ['key', 'delta', 'delta']);
  assert.deepStrictEqual(frames.map((f) => [...f.data]), [[0], [1], [2]]);
  assert.strictEqual(frames[1].timestamp - frames[0].timestamp, Math.round(1e6 / 60));
  assert.deepStrictEqual(calls[0], ['video', 0, true]);
  const n = calls.length;
  await new Promise((r) => setTimeout(r, 40));
  assert.strictEqual(calls.length, n, 'stopped once the last consumer left');
  // Through a connection: a keyframe request makes the next frame a keyframe.
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  pc1.addTrack(track, stream);
  const remote = new Promise((resolve) => { pc2.ontrack = (e) => resolve(e.track); });
  await exchange(pc1, pc2);
  const got = [];
  const rsink = new api.EncodedMediaSink(await remote);
  for await (const f of rsink) {
    got.push(f.type);
    if (got.length === 2) break;
  }
  assert.strictEqual(got[0], 'key', 'the remote starts with a keyframe');
  track.stop();
  pc1.close();
  pc2.close();
});

test('stopping every track of a synthetic device stops the generator', async () => {
  const { api, engine } = fakeApi();
  let n = 0;
  engine.synthFrame = () => { n += 1; return new Uint8Array([1]); };
  const [track] = (await api.mediaDevices.getUserMedia({ audio: true })).getTracks();
  const clone = track.clone();
  const sink = new api.EncodedMediaSink(clone);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(n > 0);
  track.stop();
  const m = n;
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(n > m, 'the clone is still live');
  clone.stop();
  const k = n;
  await new Promise((r) => setTimeout(r, 50));
  assert.strictEqual(n, k);
  sink.close();
});
