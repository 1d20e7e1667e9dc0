'use strict';
// webrtc-pc §5.1 addTrack / removeTrack / addTransceiver, §5.4 RTCRtpTransceiver (direction,
// stop, setCodecPreferences) and "update the negotiation-needed flag" after each mutation.
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, ticks } = require('./helpers');
const { exchange, isDom, countNegotiationNeeded } = require('./media-helpers');

test('addTransceiver: kinds, init conversion, defaults, sendEncodings checks', () => {
  const { api, engine } = fakeApi();
  const pc = new api.RTCPeerConnection();
  assert.throws(() => pc.addTransceiver(), TypeError);
  assert.throws(() => pc.addTransceiver('data'), TypeError);
  assert.throws(() => pc.addTransceiver('audio', 5), TypeError);
  assert.throws(() => pc.addTransceiver('audio', { direction: 'sideways' }), TypeError);
  assert.throws(() => pc.addTransceiver('audio', { direction: 'stopped' }), TypeError);
  assert.throws(() => pc.addTransceiver('audio', { streams: [{}] }), TypeError);
  const t = pc.addTransceiver('audio');
  assert.ok(t instanceof api.RTCRtpTransceiver);
  assert.strictEqual(t.mid, null);
  assert.strictEqual(t.direction, 'sendrecv');
  assert.strictEqual(t.currentDirection, null);
  assert.strictEqual(t.sender.track, null);
  assert.strictEqual(t.sender.transport, null, 'no transport before a description');
  assert.strictEqual(t.receiver.transport, null);
  assert.strictEqual(t.receiver.track.kind, 'audio');
  assert.strictEqual(t.receiver.track.muted, true, 'a receiver track starts muted');
  assert.strictEqual(t.receiver.track.readyState, 'live');
  assert.ok(t.sender.dtmf instanceof api.RTCDTMFSender);
  assert.deepStrictEqual(pc.getTransceivers(), [t]);
  assert.deepStrictEqual(pc.getSenders(), [t.sender]);
  assert.deepStrictEqual(pc.getReceivers(), [t.receiver]);

  const v = pc.addTransceiver('video', { direction: 'recvonly' });
  assert.strictEqual(v.direction, 'recvonly');
  assert.strictEqual(v.sender.dtmf, null, 'no DTMF on video');
  assert.deepStrictEqual(v.sender.getParameters().encodings.map((e) => e.scaleResolutionDownBy), [1]);

  // sendEncodings: rid syntax, all or none, duplicates: TypeError; scale < 1: RangeError.
  const bad = (encodings) => () => pc.addTransceiver('video', { sendEncodings: encodings });
  assert.throws(bad([{ rid: 'a b' }]), TypeError);
  assert.throws(bad([{ rid: 'x'.repeat(256) }]), TypeError);
  assert.throws(bad([{ rid: 'a' }, {}]), TypeError);
  assert.throws(bad([{ rid: 'a' }, { rid: 'a' }]), TypeError);
  assert.throws(bad([{}, {}]), TypeError);
  assert.throws(bad([{ scaleResolutionDownBy: 0.5 }]), RangeError);
  assert.throws(bad([{ maxFramerate: -1 }]), RangeError);
  assert.throws(bad([{ scaleResolutionDownBy: NaN }]), TypeError);
  assert.throws(bad([{ codec: { mimeType: 'video/nope', clockRate: 90000 } }]), isDom('OperationError'));
  assert.throws(bad(5), TypeError);
  // Audio drops scaleResolutionDownBy (so 0.5 is no error there).
  const a2 = pc.addTransceiver('audio', { sendEncodings: [{ scaleResolutionDownBy: 0.5, maxBitrate: 64000 }] });
  assert.deepStrictEqual(a2.sender.getParameters().encodings.map((e) => [e.scaleResolutionDownBy, e.maxBitrate]), [[undefined, 64000]]);
  // Simulcast: default scales 4, 2, 1; the engine gets the encodings.
  const sim = pc.addTransceiver('video', { sendEncodings: [{ rid: 'q' }, { rid: 'h', active: false }, { rid: 'f' }] });
  const enc = sim.sender.getParameters().encodings;
  assert.deepStrictEqual(enc.map((e) => [e.rid, e.active, e.scaleResolutionDownBy]), [['q', true, 4], ['h', false, 2], ['f', true, 1]]);
  const fake = engine.last();
  const ft = fake.transceivers.find((x) => x.handle === sim._core.handle);
  assert.deepStrictEqual(ft.sendEncodings, [{ active: true, rid: 'q', scaleResolutionDownBy: 4 },
    { active: false, rid: 'h', scaleResolutionDownBy: 2 }, { active: true, rid: 'f', scaleResolutionDownBy: 1 }]);
  pc.close();
  assert.throws(() => pc.addTransceiver('audio'), isDom('InvalidStateError'));
});

test('addTransceiver with a track and streams; the engine is told the track and stream ids', () => {
  const { api, engine } = fakeApi();
  const pc = new api.RTCPeerConnection();
  const src = new api.EncodedMediaSource({ kind: 'video' });
  const stream = new api.MediaStream([src.track]);
  const t = pc.addTransceiver(src.track, { streams: [stream, stream], direction: 'sendonly' });
  assert.strictEqual(t.sender.track, src.track);
  assert.strictEqual(t.direction, 'sendonly');
  const ft = engine.last().transceivers[0];
  assert.deepStrictEqual([ft.kind, ft.direction, ft.trackId, ft.streamIds, ft.fromAddTrack], ['video', 'sendonly', src.track.id, [stream.id], false]);
  pc.close();
});

test('addTrack: errors, a new transceiver, InvalidAccessError for a track already sent', () => {
  const { api, engine } = fakeApi();
  const pc = new api.RTCPeerConnection();
  assert.throws(() => pc.addTrack(), TypeError);
  assert.throws(() => pc.addTrack({}), TypeError);
  const src = new api.EncodedMediaSource({ kind: 'audio' });
  assert.throws(() => pc.addTrack(src.track, {}), TypeError);
  const s1 = new api.MediaStream();
  const sender = pc.addTrack(src.track, s1);
  assert.ok(sender instanceof api.RTCRtpSender);
  assert.strictEqual(sender.track, src.track);
  const [t] = pc.getTransceivers();
  assert.strictEqual(t.sender, sender);
  assert.strictEqual(t.direction, 'sendrecv');
  const ft = engine.last().transceivers[0];
  assert.deepStrictEqual([ft.trackId, ft.streamIds, ft.fromAddTrack], [src.track.id, [s1.id], true]);
  assert.throws(() => pc.addTrack(src.track), isDom('InvalidAccessError'));
  const other = pc.addTrack(src.track.clone());
  assert.notStrictEqual(other, sender, 'a clone is another track');
  pc.close();
  assert.throws(() => pc.addTrack(new api.EncodedMediaSource({ kind: 'audio' }).track), isDom('InvalidStateError'));
});

test('removeTrack: direction changes, errors; addTrack reuses a sender that never sent', async () => {
  const { api, engine } = fakeApi();
  const pc = new api.RTCPeerConnection();
  const other = new api.RTCPeerConnection();
  const a = new api.EncodedMediaSource({ kind: 'audio' });
  const sender = pc.addTrack(a.track);
  assert.throws(() => pc.removeTrack(), TypeError);
  assert.throws(() => pc.removeTrack({}), TypeError);
  const foreign = other.addTransceiver('audio').sender;
  assert.throws(() => pc.removeTrack(foreign), isDom('InvalidAccessError'));
  pc.removeTrack(sender);
  assert.strictEqual(sender.track, null);
  const [t] = pc.getTransceivers();
  assert.strictEqual(t.direction, 'recvonly');
  pc.removeTrack(sender); // no track: nothing
  assert.strictEqual(t.direction, 'recvonly');
  // Reuse (never negotiated, so it never sent): the same sender, recvonly -> sendrecv.
  const b = new api.EncodedMediaSource({ kind: 'audio' });
  const s2 = new api.MediaStream();
  assert.strictEqual(pc.addTrack(b.track, s2), sender);
  assert.strictEqual(sender.track, b.track);
  assert.strictEqual(t.direction, 'sendrecv');
  assert.strictEqual(pc.getTransceivers().length, 1);
  const ft = engine.peers[0].transceivers[0];
  assert.deepStrictEqual([ft.trackId, ft.streamIds, ft.direction], [b.track.id, [s2.id], 'sendrecv']);
  assert.ok(engine.peers[0].calls.includes(`setSenderTrack:${ft.handle}:${b.track.id}:addTrack`));
  // A sendonly transceiver without track: inactive -> sendonly on reuse.
  const v = pc.addTransceiver('video', { direction: 'sendonly' });
  const vt = new api.EncodedMediaSource({ kind: 'video' }).track;
  pc.removeTrack(v.sender); // no track: no change
  assert.strictEqual(v.direction, 'sendonly');
  v.direction = 'inactive';
  assert.strictEqual(pc.addTrack(vt), v.sender);
  assert.strictEqual(v.direction, 'sendonly');
  // A kind mismatch is not reused.
  const a3 = pc.addTrack(new api.EncodedMediaSource({ kind: 'audio' }).track);
  assert.notStrictEqual(a3, v.sender);
  pc.close();
  other.close();
  assert.throws(() => pc.removeTrack(sender), isDom('InvalidStateError'));
});

test('a sender that has sent is not reused by addTrack after removeTrack', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const sender = pc1.addTrack(new api.EncodedMediaSource({ kind: 'video' }).track);
  await exchange(pc1, pc2);
  assert.strictEqual(pc1.getTransceivers()[0].currentDirection, 'sendonly', 'the answerer only receives');
  pc1.removeTrack(sender);
  const again = pc1.addTrack(new api.EncodedMediaSource({ kind: 'video' }).track);
  assert.notStrictEqual(again, sender);
  assert.strictEqual(pc1.getTransceivers().length, 2);
  pc1.close();
  pc2.close();
});

test('addTrack reuses the transceiver a remote offer created (recvonly -> sendrecv)', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  pc1.addTransceiver('audio');
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  const [t] = pc2.getTransceivers();
  assert.strictEqual(t.direction, 'recvonly');
  assert.strictEqual(t.mid, pc1.getTransceivers()[0].mid);
  const sender = pc2.addTrack(new api.EncodedMediaSource({ kind: 'audio' }).track);
  assert.strictEqual(sender, t.sender);
  assert.strictEqual(t.direction, 'sendrecv');
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription);
  assert.strictEqual(t.currentDirection, 'sendrecv');
  assert.strictEqual(pc1.getTransceivers()[0].currentDirection, 'sendrecv');
  pc1.close();
  pc2.close();
});

test('direction setter: enum, InvalidStateError when stopping or closed, the engine is told', () => {
  const { api, engine } = fakeApi();
  const pc = new api.RTCPeerConnection();
  const t = pc.addTransceiver('video');
  assert.throws(() => { t.direction = 'up'; }, TypeError);
  assert.throws(() => { t.direction = 'stopped'; }, TypeError);
  t.direction = 'recvonly';
  assert.strictEqual(t.direction, 'recvonly');
  assert.strictEqual(engine.last().transceivers[0].direction, 'recvonly');
  t.stop();
  assert.strictEqual(t.direction, 'stopped');
  assert.throws(() => { t.direction = 'sendrecv'; }, isDom('InvalidStateError'));
  const u = pc.addTransceiver('audio');
  pc.close();
  assert.throws(() => { u.direction = 'inactive'; }, isDom('InvalidStateError'));
  assert.throws(() => u.stop(), isDom('InvalidStateError'));
});

test('stop(): stopping at once (ended receiver track), stopped and gone after negotiation', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const t = pc1.addTransceiver('audio');
  const keep = pc1.addTransceiver('video');
  await exchange(pc1, pc2);
  const mid = t.mid;
  assert.notStrictEqual(mid, null);
  assert.strictEqual(t.currentDirection, 'sendonly', "the answerer's transceiver is recvonly");
  const [r1] = pc2.getTransceivers();
  const remoteEnded = new Promise((resolve) => { r1.receiver.track.onended = resolve; });
  let ended = 0;
  t.receiver.track.onended = () => { ended += 1; };
  t.stop();
  t.stop(); // again: nothing
  assert.strictEqual(t.direction, 'stopped');
  assert.strictEqual(t.currentDirection, 'sendonly', 'not stopped before negotiation');
  assert.strictEqual(t.mid, mid);
  assert.strictEqual(t.receiver.track.readyState, 'ended');
  assert.deepStrictEqual(pc1.getSenders(), [t.sender, keep.sender], 'a stopping sender is still listed');
  await ticks(2);
  assert.strictEqual(ended, 1, 'stop() ends the receiver track with an ended event');
  await exchange(pc1, pc2);
  assert.strictEqual(t.currentDirection, 'stopped');
  assert.deepStrictEqual(pc1.getTransceivers(), [keep], 'a stopped transceiver leaves the set');
  assert.deepStrictEqual(pc1.getSenders(), [keep.sender]);
  assert.deepStrictEqual(pc1.getReceivers(), [keep.receiver]);
  // The answerer's transceiver was stopped by the rejected section.
  assert.strictEqual(r1.currentDirection, 'stopped');
  assert.strictEqual(r1.direction, 'stopped');
  assert.deepStrictEqual(pc2.getTransceivers().map((x) => x.receiver.track.kind), ['video']);
  await remoteEnded;
  pc1.close();
  pc2.close();
});

test('setCodecPreferences: capabilities check, RTX/RED/FEC only, duplicates, reset', () => {
  const { api, engine } = fakeApi();
  const pc = new api.RTCPeerConnection();
  const t = pc.addTransceiver('video');
  const caps = api.RTCRtpReceiver.getCapabilities('video').codecs;
  const vp8 = caps.find((c) => c.mimeType === 'video/VP8');
  const rtx = caps.find((c) => c.mimeType === 'video/rtx');
  const red = caps.find((c) => c.mimeType === 'video/red');
  const fec = caps.find((c) => c.mimeType === 'video/ulpfec');
  assert.throws(() => t.setCodecPreferences(), TypeError);
  assert.throws(() => t.setCodecPreferences(5), TypeError);
  assert.throws(() => t.setCodecPreferences([{ mimeType: 'video/VP8' }]), TypeError, 'clockRate is required');
  assert.throws(() => t.setCodecPreferences([{ mimeType: 'video/VP9', clockRate: 90000 }]), isDom('InvalidModificationError'));
  assert.throws(() => t.setCodecPreferences([{ ...vp8, clockRate: 8000 }]), isDom('InvalidModificationError'));
  assert.throws(() => t.setCodecPreferences(api.RTCRtpReceiver.getCapabilities('audio').codecs), isDom('InvalidModificationError'),
    'audio codecs on video');
  assert.throws(() => t.setCodecPreferences([rtx]), isDom('InvalidModificationError'));
  assert.throws(() => t.setCodecPreferences([rtx, red, fec]), isDom('InvalidModificationError'));
  t.setCodecPreferences([{ ...vp8, mimeType: 'VIDEO/vp8' }, vp8, rtx]);
  const ft = engine.last().transceivers[0];
  assert.deepStrictEqual(ft.codecPrefs.map((c) => c.mimeType), ['VIDEO/vp8', 'video/rtx'], 'duplicates removed, case-insensitive match');
  t.setCodecPreferences([]);
  assert.deepStrictEqual(ft.codecPrefs, []);
  pc.close();
});

test('setCodecPreferences reaches the negotiated codecs', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const t = pc1.addTransceiver('video');
  const h264 = api.RTCRtpSender.getCapabilities('video').codecs.find((c) => c.mimeType === 'video/H264');
  t.setCodecPreferences([h264]);
  assert.deepStrictEqual(t.sender.getParameters().codecs, [], 'none negotiated yet');
  await exchange(pc1, pc2);
  const codecs = t.sender.getParameters().codecs;
  assert.deepStrictEqual(codecs.map((c) => [c.mimeType, c.clockRate, c.sdpFmtpLine]), [['video/H264', 90000, h264.sdpFmtpLine]]);
  assert.strictEqual(typeof codecs[0].payloadType, 'number');
  assert.deepStrictEqual(pc2.getTransceivers()[0].receiver.getParameters().codecs.map((c) => c.mimeType), ['video/H264']);
  pc1.close();
  pc2.close();
});

test('negotiationneeded: fires after addTrack / addTransceiver / direction / stop / setStreams, not for replaceTrack or no-ops', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const nn = countNegotiationNeeded(pc1);
  const src = new api.EncodedMediaSource({ kind: 'video' });
  pc1.addTrack(src.track);
  pc1.addTransceiver('audio'); // one event for both (the flag is already set)
  await ticks(3);
  assert.strictEqual(nn.n, 1);
  await exchange(pc1, pc2);
  await ticks(3);
  assert.strictEqual(nn.n, 1, 'nothing left to negotiate');
  const [video, audio] = pc1.getTransceivers();
  // replaceTrack: no renegotiation.
  await video.sender.replaceTrack(new api.EncodedMediaSource({ kind: 'video' }).track);
  await ticks(3);
  assert.strictEqual(nn.n, 1, 'replaceTrack does not need negotiation');
  // Setting the same direction: nothing.
  audio.direction = 'sendrecv';
  await ticks(3);
  assert.strictEqual(nn.n, 1);
  audio.direction = 'recvonly';
  await ticks(3);
  assert.strictEqual(nn.n, 2, 'a direction change');
  audio.direction = 'sendrecv'; // back to what was negotiated: the flag clears, no event
  await ticks(3);
  assert.strictEqual(nn.n, 2);
  video.sender.setStreams(new api.MediaStream());
  await ticks(3);
  assert.strictEqual(nn.n, 3, 'setStreams changes the msid');
  await exchange(pc1, pc2);
  await ticks(3);
  assert.strictEqual(nn.n, 3);
  audio.stop();
  await ticks(3);
  assert.strictEqual(nn.n, 4, 'stop()');
  await exchange(pc1, pc2);
  await ticks(3);
  assert.strictEqual(nn.n, 4);
  // Not while a negotiation is under way; once back in stable, it fires.
  await pc1.setLocalDescription();
  pc1.addTransceiver('audio');
  await ticks(3);
  assert.strictEqual(nn.n, 4, 'not in have-local-offer');
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription);
  await ticks(3);
  assert.strictEqual(nn.n, 5, 'fires once stable again');
  pc1.close();
  pc2.close();
});

test('stop() of the only transceiver: stopped after the answer though the engine lists none', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const t = pc1.addTransceiver('audio');
  await exchange(pc1, pc2);
  t.stop();
  await exchange(pc1, pc2);
  assert.strictEqual(t.currentDirection, 'stopped');
  assert.deepStrictEqual(pc1.getTransceivers(), []);
  assert.deepStrictEqual(pc2.getTransceivers(), []);
  // Stopped before it was ever negotiated: gone at the next answer, no m-line for it.
  const u = pc1.addTransceiver('video');
  u.stop();
  pc1.addTransceiver('audio');
  await exchange(pc1, pc2);
  assert.strictEqual(u.currentDirection, 'stopped');
  assert.strictEqual(u.mid, null);
  assert.strictEqual(pc1.getTransceivers().length, 1);
  pc1.close();
  pc2.close();
});
