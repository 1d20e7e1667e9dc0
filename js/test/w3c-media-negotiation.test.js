'use strict';
// webrtc-pc §4.4.1.6 "set the RTCSessionDescription", media steps: mid, currentDirection,
// "process remote tracks" (track events after signalingstatechange and before the promise
// resolves), the associated remote streams (one MediaStream per msid id per connection),
// "process the removal of a remote track" (removetrack, mute), rollback, close().
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, ticks } = require('./helpers');
const { exchange } = require('./media-helpers');

test('track events: after signalingstatechange, before the promise; fields; stream identity', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const a = new api.EncodedMediaSource({ kind: 'audio' });
  const v = new api.EncodedMediaSource({ kind: 'video' });
  const stream = new api.MediaStream([a.track, v.track]);
  pc1.addTrack(a.track, stream);
  pc1.addTrack(v.track, stream);
  const log = [];
  const events = [];
  pc2.onsignalingstatechange = () => log.push(`signaling:${pc2.signalingState}`);
  pc2.ontrack = (e) => {
    log.push(`track:${e.track.kind}`);
    events.push(e);
    // The transceiver's state is already set when the event fires.
    assert.notStrictEqual(e.transceiver.mid, null);
  };
  await pc1.setLocalDescription();
  const p = pc2.setRemoteDescription(pc1.localDescription).then(() => log.push('resolved'));
  await p;
  assert.deepStrictEqual(log, ['signaling:have-remote-offer', 'track:audio', 'track:video', 'resolved']);
  const [ta, tv] = pc2.getTransceivers();
  assert.strictEqual(events[0].transceiver, ta);
  assert.strictEqual(events[0].receiver, ta.receiver);
  assert.strictEqual(events[0].track, ta.receiver.track);
  assert.ok(events[0] instanceof api.RTCTrackEvent);
  assert.strictEqual(events[0].streams.length, 1);
  assert.strictEqual(events[0].streams[0].id, stream.id, 'the remote stream has the msid id');
  assert.strictEqual(events[0].streams[0], events[1].streams[0], 'one MediaStream object per id');
  const remote = events[0].streams[0];
  assert.deepStrictEqual(remote.getTracks(), [ta.receiver.track, tv.receiver.track]);
  assert.strictEqual(ta.mid, pc1.getTransceivers()[0].mid);
  assert.strictEqual(ta.currentDirection, null, 'no answer yet');
  assert.strictEqual(ta.direction, 'recvonly');
  assert.strictEqual(ta.receiver.track.muted, true, 'muted until media arrives');
  assert.strictEqual(ta.receiver.transport, pc2.getTransceivers()[0].sender.transport);
  assert.ok(ta.receiver.transport instanceof api.RTCDtlsTransport, 'the transport once a description is applied');
  await pc2.setLocalDescription();
  assert.strictEqual(ta.currentDirection, 'recvonly');
  const log1 = [];
  pc1.onsignalingstatechange = () => log1.push(`signaling:${pc1.signalingState}`);
  pc1.ontrack = () => log1.push('track');
  await pc1.setRemoteDescription(pc2.localDescription);
  assert.deepStrictEqual(log1, ['signaling:stable'], 'the answerer sends nothing: no track event');
  assert.deepStrictEqual(pc1.getTransceivers().map((t) => t.currentDirection), ['sendonly', 'sendonly']);
  assert.ok(pc1.getSenders()[0].transport instanceof api.RTCDtlsTransport);
  // A renegotiation that changes nothing fires no track event.
  let again = 0;
  pc2.ontrack = () => { again += 1; };
  await exchange(pc1, pc2);
  assert.strictEqual(again, 0);
  pc1.close();
  pc2.close();
});

test('track event on the offerer from the answer; no stream for a track sent without one', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  pc1.addTransceiver('video'); // sendrecv, no track
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  let offerTracks = 0;
  pc2.addEventListener('track', () => { offerTracks += 1; });
  const track = new api.EncodedMediaSource({ kind: 'video' }).track;
  pc2.addTrack(track); // reuses the offered transceiver, no stream
  await pc2.setLocalDescription();
  const log = [];
  pc1.onsignalingstatechange = () => log.push('signaling');
  pc1.ontrack = (e) => log.push({ streams: e.streams.length, kind: e.track.kind, t: e.transceiver === pc1.getTransceivers()[0] });
  await pc1.setRemoteDescription(pc2.localDescription);
  log.push('resolved');
  assert.deepStrictEqual(log, ['signaling', { streams: 0, kind: 'video', t: true }, 'resolved']);
  assert.strictEqual(offerTracks, 0, 'pc1 offered sendrecv, its transceiver has no track: still a track event on pc2 at SRD');
  assert.strictEqual(pc1.getTransceivers()[0].currentDirection, 'sendrecv');
  pc1.close();
  pc2.close();
});

test('removal of a remote track: removetrack on the stream, mute, then a new track event when it comes back', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const src = new api.EncodedMediaSource({ kind: 'video' });
  const stream = new api.MediaStream([src.track]);
  const sender = pc1.addTrack(src.track, stream);
  let trackEvent = null;
  pc2.ontrack = (e) => { trackEvent = e; };
  await exchange(pc1, pc2);
  const remoteTrack = trackEvent.track;
  const remoteStream = trackEvent.streams[0];
  // Media unmutes the track.
  const unmuted = new Promise((resolve) => { remoteTrack.onunmute = resolve; });
  src.writeFrame({ type: 'key', timestamp: 0, data: new Uint8Array([1]) });
  await unmuted;
  assert.strictEqual(remoteTrack.muted, false);
  const log = [];
  remoteTrack.onmute = () => log.push(`mute:${remoteTrack.muted}`);
  remoteStream.onremovetrack = (e) => log.push(`removetrack:${e.track === remoteTrack}:${remoteStream.getTracks().length}`);
  pc2.onsignalingstatechange = () => log.push(`signaling:${pc2.signalingState}`);
  pc1.removeTrack(sender);
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  log.push('resolved');
  assert.deepStrictEqual(log, ['signaling:have-remote-offer', 'mute:true', 'removetrack:true:0', 'resolved']);
  assert.strictEqual(remoteTrack.readyState, 'live', 'removal mutes, it does not end');
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription);
  assert.strictEqual(pc1.getTransceivers()[0].currentDirection, 'inactive');
  // Sending again: a new track event with the same track and the same stream object.
  trackEvent = null;
  const added = [];
  remoteStream.onaddtrack = (e) => added.push(e.track);
  await sender.replaceTrack(src.track);
  sender.setStreams(stream);
  pc1.getTransceivers()[0].direction = 'sendonly';
  await exchange(pc1, pc2);
  assert.ok(trackEvent, 'track event again');
  assert.strictEqual(trackEvent.track, remoteTrack);
  assert.strictEqual(trackEvent.streams[0], remoteStream);
  assert.deepStrictEqual(added, [remoteTrack]);
  pc1.close();
  pc2.close();
});

test('rollback of a local offer: the added transceiver stays, its mid returns to null', async () => {
  const { api } = fakeApi();
  const pc = new api.RTCPeerConnection();
  const t = pc.addTransceiver('audio');
  await pc.setLocalDescription();
  assert.notStrictEqual(t.mid, null);
  assert.ok(t.sender.transport);
  await pc.setLocalDescription({ type: 'rollback' });
  assert.strictEqual(pc.signalingState, 'stable');
  assert.deepStrictEqual(pc.getTransceivers(), [t]);
  assert.strictEqual(t.mid, null);
  assert.strictEqual(t.sender.transport, null);
  assert.strictEqual(t.direction, 'sendrecv');
  assert.strictEqual(t.receiver.track.readyState, 'live');
  pc.close();
});

test('rollback of a remote offer: transceivers it created are removed (not one addTrack used), streams restored', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const src = new api.EncodedMediaSource({ kind: 'audio' });
  const stream = new api.MediaStream([src.track]);
  pc1.addTrack(src.track, stream);
  pc1.addTransceiver('video');
  let events = [];
  pc2.ontrack = (e) => events.push(e);
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  assert.strictEqual(pc2.getTransceivers().length, 2);
  const [audio, video] = pc2.getTransceivers();
  const remoteStream = events[0].streams[0];
  const sender = pc2.addTrack(new api.EncodedMediaSource({ kind: 'video' }).track); // attaches to `video`
  assert.strictEqual(sender, video.sender);
  const log = [];
  remoteStream.onremovetrack = () => log.push('removetrack');
  audio.receiver.track.onended = () => log.push('ended');
  await pc2.setRemoteDescription({ type: 'rollback' });
  assert.strictEqual(pc2.signalingState, 'stable');
  assert.deepStrictEqual(pc2.getTransceivers(), [video], 'the addTrack one stays');
  assert.strictEqual(video.mid, null);
  assert.strictEqual(audio.currentDirection, 'stopped');
  assert.strictEqual(audio.receiver.track.readyState, 'ended');
  assert.strictEqual(remoteStream.getTracks().length, 0);
  await ticks(2);
  assert.deepStrictEqual(log, ['removetrack', 'ended']);
  // Applying the offer again creates a new transceiver and fires track events again.
  events = [];
  await pc2.setRemoteDescription(pc1.localDescription);
  assert.strictEqual(events.length, 2);
  assert.strictEqual(pc2.getTransceivers().length, 2);
  assert.deepStrictEqual(events.map((e) => e.track.kind), ['audio', 'video'], 'in m-line order');
  assert.strictEqual(events[0].streams[0], remoteStream, 'the same stream object for the same id');
  pc1.close();
  pc2.close();
});

test('implicit rollback (perfect negotiation): a remote offer in have-local-offer', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const mine = pc2.addTransceiver('video');
  await pc2.setLocalDescription();
  pc1.addTrack(new api.EncodedMediaSource({ kind: 'audio' }).track, new api.MediaStream());
  await pc1.setLocalDescription();
  const log = [];
  pc2.onsignalingstatechange = () => log.push(pc2.signalingState);
  pc2.ontrack = (e) => log.push(`track:${e.track.kind}`);
  await pc2.setRemoteDescription(pc1.localDescription);
  assert.deepStrictEqual(log, ['stable', 'have-remote-offer', 'track:audio']);
  assert.strictEqual(mine.mid, null, 'our rolled-back offer gave up its mid');
  assert.strictEqual(pc2.getTransceivers().length, 2);
  pc1.close();
  pc2.close();
});

test('close(): every transceiver stopped, receiver tracks ended without events, methods throw', async () => {
  const { api } = fakeApi();
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const src = new api.EncodedMediaSource({ kind: 'video' });
  const sender = pc1.addTrack(src.track);
  await exchange(pc1, pc2);
  const [t] = pc1.getTransceivers();
  let ended = 0;
  t.receiver.track.onended = () => { ended += 1; };
  pc1.close();
  assert.strictEqual(t.currentDirection, 'stopped');
  assert.strictEqual(t.direction, 'stopped');
  assert.strictEqual(t.receiver.track.readyState, 'ended');
  assert.strictEqual(src.track.readyState, 'live', 'the local track is the application\'s');
  assert.deepStrictEqual(pc1.getSenders(), []);
  assert.deepStrictEqual(pc1.getReceivers(), []);
  assert.throws(() => sender.setStreams(), (e) => e.name === 'InvalidStateError');
  await assert.rejects(sender.replaceTrack(null), (e) => e.name === 'InvalidStateError');
  await assert.rejects(sender.setParameters(sender.getParameters()), (e) => e.name === 'InvalidStateError');
  await ticks(3);
  assert.strictEqual(ended, 0);
  pc2.close();
});
