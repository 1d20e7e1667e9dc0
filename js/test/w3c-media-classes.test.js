'use strict';
// mediacapture-main MediaStream / MediaStreamTrack / MediaStreamTrackEvent, webrtc-pc
// RTCTrackEvent construction, the RTP classes' static getCapabilities, illegal constructors.
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, ticks } = require('./helpers');

test('MediaStream: constructors, track lists, ids, clone, active', () => {
  const { api } = fakeApi();
  const a = new api.EncodedMediaSource({ kind: 'audio' }).track;
  const v = new api.EncodedMediaSource({ kind: 'video' }).track;
  const empty = new api.MediaStream();
  assert.match(empty.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.strictEqual(empty.active, false);
  const s = new api.MediaStream([a, v]);
  assert.notStrictEqual(s.id, empty.id);
  assert.deepStrictEqual(s.getTracks(), [a, v]);
  assert.deepStrictEqual(s.getAudioTracks(), [a]);
  assert.deepStrictEqual(s.getVideoTracks(), [v]);
  assert.strictEqual(s.getTrackById(v.id), v);
  assert.strictEqual(s.getTrackById('nope'), null);
  assert.strictEqual(s.active, true);
  const copy = new api.MediaStream(s);
  assert.deepStrictEqual(copy.getTracks(), [a, v]);
  assert.notStrictEqual(copy.id, s.id);
  s.addTrack(a); // already there: no change
  assert.strictEqual(s.getTracks().length, 2);
  s.removeTrack(a);
  assert.deepStrictEqual(s.getTracks(), [v]);
  assert.throws(() => s.addTrack({}), TypeError);
  assert.throws(() => new api.MediaStream([{}]), TypeError);
  assert.throws(() => new api.MediaStream(5), TypeError);
  const c = s.clone();
  assert.notStrictEqual(c.id, s.id);
  assert.strictEqual(c.getTracks().length, 1);
  assert.notStrictEqual(c.getTracks()[0], v);
  assert.strictEqual(c.getTracks()[0].kind, 'video');
  v.stop();
  assert.strictEqual(s.active, false);
  assert.strictEqual(c.active, true, 'a clone has its own life');
  let fired = 0;
  s.onaddtrack = () => { fired += 1; };
  s.addTrack(a);
  assert.strictEqual(fired, 0, 'addTrack() by script fires no addtrack');
  assert.strictEqual(Object.prototype.toString.call(s), '[object MediaStream]');
  assert.ok(s instanceof EventTarget);
});

test('MediaStreamTrack: not constructible; attributes, stop, clone, contentHint, constraints', async () => {
  const { api } = fakeApi();
  assert.throws(() => new api.MediaStreamTrack(), TypeError);
  const t = new api.EncodedMediaSource({ kind: 'video' }).track;
  assert.strictEqual(t.kind, 'video');
  assert.strictEqual(t.readyState, 'live');
  assert.strictEqual(t.muted, false);
  assert.strictEqual(t.enabled, true);
  t.enabled = 0;
  assert.strictEqual(t.enabled, false);
  t.enabled = true;
  t.contentHint = 'motion';
  assert.strictEqual(t.contentHint, 'motion');
  t.contentHint = 'speech'; // an audio hint on video: ignored
  assert.strictEqual(t.contentHint, 'motion');
  t.contentHint = 'bogus';
  assert.strictEqual(t.contentHint, 'motion');
  const c = t.clone();
  assert.notStrictEqual(c.id, t.id);
  assert.strictEqual(c.kind, 'video');
  assert.strictEqual(c.contentHint, 'motion');
  assert.deepStrictEqual(t.getConstraints(), {});
  assert.strictEqual(typeof t.getSettings(), 'object');
  assert.strictEqual(typeof t.getCapabilities(), 'object');
  assert.strictEqual(await t.applyConstraints({}), undefined);
  await assert.rejects(t.applyConstraints(5), TypeError);
  let ended = 0;
  t.onended = () => { ended += 1; };
  t.stop();
  assert.strictEqual(t.readyState, 'ended');
  t.stop();
  await ticks(3);
  assert.strictEqual(ended, 0, 'stop() fires no ended');
  assert.strictEqual(c.readyState, 'live', 'the clone is not stopped');
  const ec = t.clone();
  assert.strictEqual(ec.readyState, 'ended', 'a clone of an ended track is ended');
  // A source that ends (EncodedMediaSource.close()) ends its live tracks with an `ended` event.
  const src = new api.EncodedMediaSource({ kind: 'audio' });
  const got = new Promise((resolve) => { src.track.onended = resolve; });
  src.close();
  assert.strictEqual(src.track.readyState, 'ended');
  await got;
  assert.throws(() => src.writeFrame({ type: 'key', timestamp: 0, data: new Uint8Array(1) }),
    (e) => e instanceof DOMException && e.name === 'InvalidStateError');
});

test('MediaStreamTrackEvent and RTCTrackEvent: required members, types', async () => {
  const { api } = fakeApi();
  const track = new api.EncodedMediaSource({ kind: 'audio' }).track;
  const e = new api.MediaStreamTrackEvent('addtrack', { track });
  assert.strictEqual(e.track, track);
  assert.strictEqual(e.type, 'addtrack');
  assert.throws(() => new api.MediaStreamTrackEvent('addtrack', {}), TypeError);
  assert.throws(() => new api.MediaStreamTrackEvent('addtrack'), TypeError);
  assert.throws(() => new api.MediaStreamTrackEvent('addtrack', { track: {} }), TypeError);

  const pc = new api.RTCPeerConnection();
  const transceiver = pc.addTransceiver('audio');
  const { receiver } = transceiver;
  const stream = new api.MediaStream();
  const te = new api.RTCTrackEvent('track', { receiver, track: receiver.track, streams: [stream], transceiver });
  assert.strictEqual(te.receiver, receiver);
  assert.strictEqual(te.track, receiver.track);
  assert.strictEqual(te.transceiver, transceiver);
  assert.deepStrictEqual(te.streams, [stream]);
  assert.strictEqual(te.streams, te.streams, '[SameObject]');
  assert.ok(Object.isFrozen(te.streams));
  assert.deepStrictEqual(new api.RTCTrackEvent('track', { receiver, track: receiver.track, transceiver }).streams, []);
  for (const missing of ['receiver', 'track', 'transceiver']) {
    const init = { receiver, track: receiver.track, transceiver };
    delete init[missing];
    assert.throws(() => new api.RTCTrackEvent('track', init), TypeError, missing);
  }
  assert.throws(() => new api.RTCTrackEvent('track', { receiver: {}, track: receiver.track, transceiver }), TypeError);
  assert.throws(() => new api.RTCTrackEvent('track', { receiver, track: receiver.track, transceiver, streams: [{}] }), TypeError);
  assert.throws(() => new api.RTCTrackEvent('track'), TypeError);
  pc.close();
});

test('RTP classes: not constructible; static getCapabilities from the engine', () => {
  const { api } = fakeApi();
  for (const name of ['RTCRtpSender', 'RTCRtpReceiver', 'RTCRtpTransceiver', 'RTCDTMFSender']) {
    assert.throws(() => new api[name](), TypeError, name);
  }
  const audio = api.RTCRtpSender.getCapabilities('audio');
  assert.ok(audio.codecs.some((c) => c.mimeType === 'audio/opus' && c.clockRate === 48000 && c.channels === 2));
  assert.ok(audio.headerExtensions.every((h) => typeof h.uri === 'string'));
  assert.notStrictEqual(api.RTCRtpSender.getCapabilities('audio'), audio, 'a new object each call');
  assert.ok(api.RTCRtpReceiver.getCapabilities('video').codecs.some((c) => c.mimeType === 'video/VP8'));
  assert.strictEqual(api.RTCRtpSender.getCapabilities('data'), null);
  assert.strictEqual(api.RTCRtpReceiver.getCapabilities('text'), null);
  assert.throws(() => api.RTCRtpSender.getCapabilities(), TypeError);
  // An engine without media capabilities: null.
  const bare = fakeApi({ noMedia: true }).api;
  assert.strictEqual(bare.RTCRtpSender.getCapabilities('audio'), null);
});

test('RTCDTMFToneChangeEvent', () => {
  const { api } = fakeApi();
  assert.strictEqual(new api.RTCDTMFToneChangeEvent('tonechange').tone, '');
  assert.strictEqual(new api.RTCDTMFToneChangeEvent('tonechange', { tone: '5' }).tone, '5');
});

test('an engine without media: addTrack / addTransceiver are NotSupportedError, the lists empty', () => {
  const { api, engine } = fakeApi();
  const pc = new api.RTCPeerConnection();
  engine.last().addTransceiver = undefined; // as an engine built before media
  assert.throws(() => pc.addTransceiver('audio'), (e) => e instanceof DOMException && e.name === 'NotSupportedError');
  assert.throws(() => pc.addTrack(new api.EncodedMediaSource({ kind: 'audio' }).track),
    (e) => e instanceof DOMException && e.name === 'NotSupportedError');
  assert.deepStrictEqual([pc.getTransceivers(), pc.getSenders(), pc.getReceivers()], [[], [], []]);
  pc.close();
});

test('the engine\'s ssrcs event updates the remote SSRCs a receiver reports', async () => {
  const { api, engine } = fakeApi();
  const pc = new api.RTCPeerConnection();
  const t = pc.addTransceiver('video');
  engine.last().inject({ type: 'ssrcs', transceiver: t._core.handle, ssrcs: [1234] },
    { type: 'frame', transceiver: t._core.handle, keyframe: true, rtpTimestamp: 5, timestamp: 0, data: Buffer.from([1]), mimeType: 'video/VP8' });
  await ticks(3);
  assert.deepStrictEqual(t.receiver.getSynchronizationSources().map((s) => [s.source, s.rtpTimestamp]), [[1234, 5]],
    'a frame without ssrc is attributed to the known remote SSRC');
  assert.strictEqual(t.receiver.track.muted, false, 'media unmutes');
  pc.close();
});
