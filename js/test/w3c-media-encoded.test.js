'use strict';
// polyrtc's encoded media: EncodedMediaSource -> sender -> engine writeFrame -> remote
// `frame` events -> the receiver's track -> EncodedMediaSink (events, bounded async
// iterator), raw RTP both ways, keyframe requests, and the SFU path: a remote track given to
// another connection's addTrack() is forwarded frame by frame from a keyframe on.
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, ticks } = require('./helpers');
const { exchange } = require('./media-helpers');

const bytes = (...b) => new Uint8Array(b);
/** Past the tasks (timers) that keyframerequest events are fired in. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

test('EncodedMediaSource: init and writeFrame validation; WebCodecs-shaped chunks', () => {
  const { api } = fakeApi();
  assert.throws(() => new api.EncodedMediaSource(), TypeError);
  assert.throws(() => new api.EncodedMediaSource({}), TypeError);
  assert.throws(() => new api.EncodedMediaSource({ kind: 'data' }), TypeError);
  const src = new api.EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
  assert.strictEqual(src.kind, 'video');
  assert.strictEqual(src.mimeType, 'video/VP8');
  assert.ok(src.track instanceof api.MediaStreamTrack);
  assert.strictEqual(src.track.kind, 'video');
  const sink = new api.EncodedMediaSink(src.track);
  const frames = [];
  sink.onframe = (e) => frames.push(e);
  assert.throws(() => src.writeFrame(), TypeError);
  assert.throws(() => src.writeFrame({ type: 'other', timestamp: 0, data: bytes(1) }), TypeError);
  assert.throws(() => src.writeFrame({ type: 'key', timestamp: NaN, data: bytes(1) }), TypeError);
  assert.throws(() => src.writeFrame({ type: 'key', timestamp: 0 }), TypeError);
  assert.throws(() => src.writeFrame({ type: 'key', timestamp: 0, data: 'text' }), TypeError);
  const data = bytes(1, 2, 3);
  src.writeFrame({ type: 'key', timestamp: 33000, duration: 33000, data });
  data[0] = 99; // the source copied it
  // An EncodedVideoChunk-like object: type, timestamp, byteLength, copyTo().
  const chunk = { type: 'delta', timestamp: 66000, byteLength: 2, copyTo(dest) { dest.set([7, 8]); } };
  src.writeFrame(chunk);
  src.writeFrame({ type: 'delta', timestamp: 99000, data: new Uint16Array([0x0102]).buffer });
  assert.strictEqual(frames.length, 3);
  assert.deepStrictEqual([frames[0].frameType, frames[0].timestamp, [...frames[0].data], frames[0].mimeType], ['key', 33000, [1, 2, 3], 'video/VP8']);
  assert.deepStrictEqual(frames[0].frame.duration, 33000);
  assert.deepStrictEqual([frames[1].frameType, [...frames[1].data]], ['delta', [7, 8]]);
  assert.strictEqual(frames[2].data.byteLength, 2);
  assert.strictEqual(src.framesWritten, 3);
  assert.throws(() => new api.EncodedMediaSink({}), TypeError);
});

test('EncodedMediaSink: async iterator, bounded queue drops the oldest delta frames (counted), ends on close', async () => {
  const { api } = fakeApi();
  const src = new api.EncodedMediaSource({ kind: 'video' });
  const sink = new api.EncodedMediaSink(src.track);
  const it = sink[Symbol.asyncIterator]();
  src.writeFrame({ type: 'key', timestamp: 0, data: bytes(0) });
  for (let i = 1; i <= 70; i += 1) src.writeFrame({ type: 'delta', timestamp: i, data: bytes(i) });
  assert.strictEqual(sink.framesDropped, 7, '71 frames, 64 held');
  const first = await it.next();
  assert.strictEqual(first.value.type, 'key', 'the keyframe is kept');
  const second = await it.next();
  assert.strictEqual(second.value.timestamp, 8, 'deltas 1..7 dropped');
  // A waiting next() gets the next frame.
  const drained = [];
  for (let i = 0; i < 62; i += 1) drained.push((await it.next()).value.timestamp);
  assert.strictEqual(drained[drained.length - 1], 70);
  const pending = it.next();
  src.writeFrame({ type: 'delta', timestamp: 71, data: bytes(71) });
  assert.strictEqual((await pending).value.timestamp, 71);
  const end = it.next();
  sink.close();
  assert.deepStrictEqual(await end, { value: undefined, done: true });
  // for await over a source that closes.
  const src2 = new api.EncodedMediaSource({ kind: 'audio' });
  const sink2 = new api.EncodedMediaSink(src2.track);
  const seen = [];
  const loop = (async () => { for await (const f of sink2) seen.push(f.timestamp); })();
  await ticks(1);
  src2.writeFrame({ type: 'key', timestamp: 1, data: bytes(1) });
  src2.writeFrame({ type: 'key', timestamp: 2, data: bytes(2) });
  src2.close();
  await loop;
  assert.deepStrictEqual(seen, [1, 2]);
});

test('frames and RTP through a pair of connections; keyframe requests both ways', async () => {
  const { api, engine } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const src = new api.EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
  let requests = 0;
  src.onkeyframerequest = () => { requests += 1; };
  pc1.addTrack(src.track, new api.MediaStream([src.track]));
  const remote = new Promise((resolve) => { pc2.ontrack = (e) => resolve(e.track); });
  await exchange(pc1, pc2);
  const track = await remote;
  await settle();
  assert.ok(requests >= 1, 'the sender asked its source for a keyframe when it started sending');
  const sink = new api.EncodedMediaSink(track);
  const got = [];
  sink.onframe = (e) => got.push([e.frameType, e.timestamp, e.rtpTimestamp, [...e.data], e.mimeType]);
  const rtp = [];
  sink.onrtp = (e) => rtp.push([...e.data]);
  src.writeFrame({ type: 'delta', timestamp: 0, data: bytes(1) }); // before any keyframe: not sent
  src.writeFrame({ type: 'key', timestamp: 1000000, data: bytes(2) });
  src.writeFrame({ type: 'delta', timestamp: 1033000, data: bytes(3) });
  src.writeRtp(bytes(0x80, 96, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 0xff));
  await ticks(3);
  assert.deepStrictEqual(got, [['key', 1000000, 90000, [2], 'video/VP8'], ['delta', 1033000, 92970, [3], 'video/VP8']]);
  assert.deepStrictEqual(rtp, [[0x80, 96, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 0xff]]);
  assert.deepStrictEqual(engine.peers[0].framesWritten.map((f) => f.keyframe), [true, false]);
  // A disabled track sends nothing.
  src.track.enabled = false;
  src.writeFrame({ type: 'key', timestamp: 2000000, data: bytes(4) });
  await ticks(3);
  assert.strictEqual(got.length, 2);
  src.track.enabled = true;
  // The receiving side asks for a keyframe: a PLI reaches the source. Requests still in
  // flight (they are fired in timer tasks) land first, so the count below is this one's.
  await settle();
  const before = requests;
  sink.requestKeyframe();
  await settle();
  assert.strictEqual(requests, before + 1);
  assert.ok(engine.peers[1].keyframeRequests.length >= 1);
  pc1.close();
  pc2.close();
});

test('SFU forwarding: a remote track added to another connection is sent frame by frame from a keyframe', async () => {
  const { api, engine } = fakeApi();
  // A -> B (B receives), B' -> C where B' forwards what B receives.
  const a = new api.RTCPeerConnection();
  const b = new api.RTCPeerConnection();
  const b2 = new api.RTCPeerConnection();
  const c = new api.RTCPeerConnection();
  const src = new api.EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
  let requests = 0;
  src.onkeyframerequest = () => { requests += 1; };
  a.addTrack(src.track, new api.MediaStream([src.track]));
  const atB = new Promise((resolve) => { b.ontrack = resolve; });
  await exchange(a, b);
  const { track: incoming, streams } = await atB;
  assert.strictEqual(incoming.kind, 'video');
  // The documented SFU call: b2.addTrack(event.track, ...event.streams).
  const forwarder = b2.addTrack(incoming, ...streams);
  const atC = new Promise((resolve) => { c.ontrack = resolve; });
  await exchange(b2, c);
  const cEvent = await atC;
  assert.strictEqual(cEvent.streams[0].id, streams[0].id, 'the stream id travels on');
  await settle();
  const requestsAfterSetup = requests;
  assert.ok(requestsAfterSetup >= 1, "the forwarding sender's keyframe request reached A's source");
  const sink = new api.EncodedMediaSink(cEvent.track);
  const atCFrames = [];
  sink.onframe = (e) => atCFrames.push([e.frameType, e.timestamp, [...e.data]]);
  src.writeFrame({ type: 'key', timestamp: 0, data: bytes(1) });
  src.writeFrame({ type: 'delta', timestamp: 33000, data: bytes(2) });
  await ticks(5);
  assert.deepStrictEqual(atCFrames, [['key', 0, [1]], ['delta', 33000, [2]]]);
  const fakeB2 = engine.peers[2];
  assert.deepStrictEqual(fakeB2.framesWritten.map((f) => [f.keyframe, f.timestamp]), [[true, 0], [false, 33000]]);
  // A new forwarding sender (replaceTrack onto another connection) waits for a keyframe.
  const b3 = new api.RTCPeerConnection();
  const d = new api.RTCPeerConnection();
  const t3 = b3.addTransceiver('video', { direction: 'sendonly' });
  const atD = new Promise((resolve) => { d.ontrack = resolve; });
  await exchange(b3, d);
  const dTrack = (await atD).track;
  const atDFrames = [];
  new api.EncodedMediaSink(dTrack).onframe = (e) => atDFrames.push(e.frameType);
  await t3.sender.replaceTrack(incoming);
  src.writeFrame({ type: 'delta', timestamp: 66000, data: bytes(3) });
  await ticks(5);
  assert.deepStrictEqual(atDFrames, [], 'no delta frame before a keyframe');
  assert.strictEqual(t3.sender._framesDiscarded, 1);
  src.writeFrame({ type: 'key', timestamp: 99000, data: bytes(4) });
  src.writeFrame({ type: 'delta', timestamp: 132000, data: bytes(5) });
  await ticks(5);
  assert.deepStrictEqual(atDFrames, ['key', 'delta']);
  // C asks B' for a keyframe (PLI): it reaches A's source through B's receiver. The
  // requests the waiting sender made above land first (timer tasks a fast machine's
  // ticks can outrun), so the count below is this one's.
  await settle();
  const before = requests;
  const bReqs = engine.peers[1].keyframeRequests.length;
  sink.requestKeyframe();
  await settle();
  assert.strictEqual(engine.peers[1].keyframeRequests.length, bReqs + 1, "B's receiver asked A (requestKeyframe)");
  assert.strictEqual(requests, before + 1);
  // The upstream connection closing ends the forwarded track: forwarding stops.
  b.close();
  assert.strictEqual(incoming.readyState, 'ended');
  for (const pc of [a, b2, c, b3, d]) pc.close();
});
