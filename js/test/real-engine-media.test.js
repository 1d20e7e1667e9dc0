'use strict';
// RTP media on the REAL package (js/node.js on the native addon), two peers in one process
// over loopback: the engine's side of the media contract (napi/engine-contract.md, "Media")
// as the W3C layer drives it. Skipped until the addon has the media methods.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { haveAddon, skipUnlessAddon, loadApi, withTimeout, until, negotiate, sleep } = require('./real-helpers');

function mediaSkip() {
  const noAddon = skipUnlessAddon(__filename);
  if (noAddon) return noAddon;
  const addon = require(path.join(__dirname, '..', '..', 'napi', 'index.js'));
  if (typeof addon.NativePeer.prototype.addTransceiver !== 'function' || typeof addon.getCapabilities !== 'function') {
    console.error(`\n!! ${path.basename(__filename)} SKIPPED: the addon has no media methods yet (addTransceiver, getCapabilities).\n`);
    return 'the addon has no media contract yet';
  }
  return false;
}

const skip = mediaSkip();
const api = haveAddon ? loadApi() : null;
const TIMEOUT = 30000;

/** A VP8 key frame header (RFC 6386 §9.1: P bit 0, start code 9d 01 2a, 64x48) and payload. */
function vp8Frame(key, n) {
  const body = new Uint8Array(64).map((_, i) => (i * 7 + n) & 0xff);
  if (!key) return Uint8Array.from([0x01 | 0x10, 0x00, 0x00, ...body]);
  return Uint8Array.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x00, 0x30, 0x00, ...body]);
}

test('capabilities of the addon: Opus and VP8 at least', { skip }, () => {
  const audio = api.RTCRtpSender.getCapabilities('audio');
  const video = api.RTCRtpReceiver.getCapabilities('video');
  assert.ok(audio.codecs.some((c) => c.mimeType.toLowerCase() === 'audio/opus'));
  assert.ok(video.codecs.some((c) => c.mimeType.toLowerCase() === 'video/vp8'));
});

test('VP8 and Opus frames from EncodedMediaSources reach the other peer\'s sinks', { skip, timeout: TIMEOUT }, async () => {
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  try {
    const video = new api.EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
    const audio = new api.EncodedMediaSource({ kind: 'audio', mimeType: 'audio/opus' });
    const stream = new api.MediaStream([audio.track, video.track]);
    pc1.addTrack(audio.track, stream);
    pc1.addTrack(video.track, stream);
    const tracks = [];
    pc2.ontrack = (e) => tracks.push(e);
    await withTimeout(negotiate(pc1, pc2), 'negotiation');
    assert.deepStrictEqual(tracks.map((e) => e.track.kind), ['audio', 'video']);
    assert.strictEqual(tracks[0].streams[0].id, stream.id);
    assert.strictEqual(tracks[0].streams[0], tracks[1].streams[0]);
    const [t1a, t1v] = pc1.getTransceivers();
    const [t2a, t2v] = pc2.getTransceivers();
    assert.deepStrictEqual([t1a.mid, t1v.mid], [t2a.mid, t2v.mid]);
    assert.deepStrictEqual([t1a.currentDirection, t2a.currentDirection], ['sendonly', 'recvonly']);
    assert.ok(t1v.sender.getParameters().codecs.some((c) => c.mimeType.toLowerCase() === 'video/vp8'));
    await until(() => pc1.connectionState === 'connected' && pc2.connectionState === 'connected', 'connected');
    const vsink = new api.EncodedMediaSink(tracks[1].track);
    const asink = new api.EncodedMediaSink(tracks[0].track);
    const vgot = [];
    const agot = [];
    vsink.onframe = (e) => vgot.push(e.frame);
    asink.onframe = (e) => agot.push(e.frame);
    for (let i = 0; i < 10; i += 1) {
      video.writeFrame({ type: i % 5 === 0 ? 'key' : 'delta', timestamp: i * 33333, data: vp8Frame(i % 5 === 0, i) });
      audio.writeFrame({ type: 'key', timestamp: i * 20000, data: Uint8Array.from([0x78, i, 1, 2, 3]) });
      await sleep(5);
    }
    await until(() => vgot.length >= 8 && agot.length >= 8, `frames (video ${vgot.length}, audio ${agot.length})`);
    assert.strictEqual(vgot[0].type, 'key');
    assert.deepStrictEqual([...vgot[0].data], [...vp8Frame(true, 0)]);
    assert.strictEqual(tracks[1].track.muted, false, 'media unmuted the track');
    assert.ok(tracks[1].receiver.getSynchronizationSources().length === 1);
    // A keyframe request from the receiving side reaches the source (PLI).
    const asked = new Promise((resolve) => { video.onkeyframerequest = resolve; });
    vsink.requestKeyframe();
    await withTimeout(asked, 'keyframerequest at the source');
    // RTP level: once a sink asks for packets ({ rtp: true }), the engine hands over every
    // received RTP packet, decrypted, and every sink of the track sees them as 'rtp' events.
    let plainRtp = 0;
    vsink.onrtp = () => { plainRtp += 1; };
    const rsink = new api.EncodedMediaSink(tracks[1].track, { rtp: true });
    const packets = [];
    rsink.onrtp = (e) => packets.push(new Uint8Array(e.data));
    for (let i = 10; i < 15; i += 1) {
      video.writeFrame({ type: 'delta', timestamp: i * 33333, data: vp8Frame(false, i) });
      await sleep(5);
    }
    await until(() => packets.length >= 5, `rtp packets (${packets.length})`);
    const vp8Pt = t2v.receiver.getParameters().codecs.find((c) => c.mimeType.toLowerCase() === 'video/vp8').payloadType;
    assert.ok(packets.every((p) => p[0] >> 6 === 2 && (p[1] & 0x7f) === vp8Pt), 'RTP version 2, the VP8 payload type');
    rsink.close();
    assert.strictEqual(plainRtp, packets.length);
  } finally {
    pc1.close();
    pc2.close();
  }
});

test('simulcast send: two rids from an EncodedMediaSource arrive as two layers, forwarded layer by layer, an inactive one stops', { skip, timeout: TIMEOUT }, async () => {
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const pc3 = new api.RTCPeerConnection();
  const pc4 = new api.RTCPeerConnection();
  try {
    const video = new api.EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
    const t1 = pc1.addTransceiver(video.track, {
      direction: 'sendonly', sendEncodings: [{ rid: 'h' }, { rid: 'l', scaleResolutionDownBy: 2 }],
    });
    const at2 = new Promise((resolve) => { pc2.ontrack = resolve; });
    await withTimeout(negotiate(pc1, pc2), 'negotiation');
    assert.match(pc1.localDescription.sdp, /a=simulcast:send h;l/);
    assert.match(pc2.localDescription.sdp, /a=simulcast:recv h;l/);
    assert.deepStrictEqual(t1.sender.getParameters().encodings.map((e) => e.rid), ['h', 'l']);
    const { track } = await at2;
    // The SFU path: the track pc2 receives goes out on another connection (pc3 -> pc4) on a
    // simulcast sender with the same rids, each layer on its own.
    pc3.addTransceiver(track, { direction: 'sendonly', sendEncodings: [{ rid: 'h' }, { rid: 'l' }] });
    const at4 = new Promise((resolve) => { pc4.ontrack = resolve; });
    await withTimeout(negotiate(pc3, pc4), 'negotiation 3-4');
    const forwarded = (await at4).track;
    await until(() => [pc1, pc2, pc3, pc4].every((p) => p.connectionState === 'connected'), 'connected');
    const layers = { h: [], l: [] };
    const fwd = { h: [], l: [] };
    for (const rid of ['h', 'l']) {
      new api.EncodedMediaSink(track, { rid }).onframe = (e) => layers[rid].push(e.frame.data[12]);
      new api.EncodedMediaSink(forwarded, { rid }).onframe = (e) => fwd[rid].push(e.frame.data[12]);
    }
    for (let i = 0; i < 6; i += 1) {
      for (const rid of ['h', 'l']) {
        const data = vp8Frame(i === 0, i + (rid === 'h' ? 0 : 100));
        video.writeFrame({ type: i === 0 ? 'key' : 'delta', timestamp: i * 33333, data, rid });
      }
      await sleep(5);
    }
    await until(() => layers.h.length >= 6 && layers.l.length >= 6, `layers (h ${layers.h.length}, l ${layers.l.length})`);
    const marks = (base) => [0, 1, 2, 3, 4, 5].map((i) => vp8Frame(i === 0, i + base)[12]);
    assert.deepStrictEqual(layers.h.slice(0, 6), marks(0));
    assert.deepStrictEqual(layers.l.slice(0, 6), marks(100));
    await until(() => fwd.h.length >= 6 && fwd.l.length >= 6, `forwarded layers (h ${fwd.h.length}, l ${fwd.l.length})`);
    assert.deepStrictEqual(fwd.h.slice(0, 6), marks(0), 'layer h forwarded on h');
    assert.deepStrictEqual(fwd.l.slice(0, 6), marks(100), 'layer l forwarded on l');
    // getStats: one outbound-rtp per layer, with its rid.
    const stats = [...(await pc1.getStats()).values()].filter((s) => s.type === 'outbound-rtp' && s.kind === 'video');
    assert.deepStrictEqual(stats.map((s) => s.rid).sort(), ['h', 'l']);
    assert.ok(stats.every((s) => s.packetsSent >= 6));
    // setParameters: layer l inactive sends nothing more.
    const params = t1.sender.getParameters();
    params.encodings[1].active = false;
    await t1.sender.setParameters(params);
    const before = { h: layers.h.length, l: layers.l.length };
    for (let i = 6; i < 9; i += 1) {
      for (const rid of ['h', 'l']) video.writeFrame({ type: 'delta', timestamp: i * 33333, data: vp8Frame(false, i), rid });
      await sleep(5);
    }
    await until(() => layers.h.length >= before.h + 3, 'layer h goes on');
    await sleep(100);
    assert.strictEqual(layers.l.length, before.l, 'an inactive layer sends nothing');
  } finally {
    for (const pc of [pc1, pc2, pc3, pc4]) pc.close();
  }
});
