'use strict';
// Interop: simulcast SEND to an independent implementation. werift (pure TypeScript WebRTC,
// this process) offers to receive two layers (`a=rid:h recv`, `a=rid:l recv`,
// `a=simulcast:recv h;l`); polyrtc answers with an addTrack() track and, as webrtc-pc's
// setRemoteDescription says, its sender takes the two rids as send encodings. Each layer's
// frames go out on their own SSRC carrying their rid (RFC 8852); werift demultiplexes them
// by rid into one track per layer, and what it receives per layer is what was written.
const test = require('node:test');
const assert = require('node:assert/strict');
const { loadImpl } = require('./lib/impl');
const { keepCandidate, filterDescription } = require('./lib/candidates');

const TIMEOUT = 30000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(cond, what, ms = 15000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A VP8 frame (RFC 6386 §9.1): key frames with the start code and a 64x48 size. */
function vp8Frame(key, mark) {
  const body = new Uint8Array(40).fill(mark);
  if (!key) return Uint8Array.from([0x01 | 0x10, 0x00, 0x00, ...body]);
  return Uint8Array.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x00, 0x30, 0x00, ...body]);
}

test('werift asks for simulcast (h;l): polyrtc sends both layers, each on its rid', { timeout: TIMEOUT }, async () => {
  const werift = require('werift');
  const api = loadImpl();
  // werift offers no header extensions unless told: MID and the two RID ones (RFC 8852).
  const remote = new werift.RTCPeerConnection({
    headerExtensions: { video: [werift.useSdesMid(), werift.useSdesRTPStreamId(), werift.useRepairedRtpStreamId()] },
  });
  const pc = new api.RTCPeerConnection();
  try {
    remote.onIceCandidate.subscribe((c) => {
      if (c && c.candidate && keepCandidate(c.candidate)) {
        pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }).catch(() => {});
      }
    });
    pc.onicecandidate = (e) => {
      if (e.candidate && keepCandidate(e.candidate.candidate)) remote.addIceCandidate(e.candidate.toJSON()).catch(() => {});
    };
    const transceiver = remote.addTransceiver('video', {
      direction: 'recvonly',
      simulcast: [{ rid: 'h', direction: 'recv' }, { rid: 'l', direction: 'recv' }],
    });
    const perRid = new Map();
    transceiver.onTrack.subscribe((track) => {
      const got = [];
      perRid.set(track.rid, got);
      track.onReceiveRtp.subscribe((rtp) => got.push({ ssrc: rtp.header.ssrc, payload: Buffer.from(rtp.payload) }));
    });

    const source = new api.EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
    const sender = pc.addTrack(source.track, new api.MediaStream([source.track]));
    await remote.setLocalDescription(await remote.createOffer());
    const offer = filterDescription({ type: 'offer', sdp: remote.localDescription.sdp });
    assert.match(offer.sdp, /a=simulcast:recv h;l/);
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription();
    const answer = pc.localDescription.sdp;
    assert.match(answer, /a=simulcast:send h;l/);
    assert.match(answer, /a=rid:h send/);
    assert.deepEqual(sender.getParameters().encodings.map((e) => e.rid), ['h', 'l'], 'the offer gave the sender its layers');
    await remote.setRemoteDescription(filterDescription({ type: 'answer', sdp: answer }));
    await until(() => pc.connectionState === 'connected' && remote.connectionState === 'connected', 'connected');

    for (let i = 0; i < 20; i += 1) {
      for (const [rid, base] of [['h', 0], ['l', 100]]) {
        source.writeFrame({ type: i === 0 ? 'key' : 'delta', timestamp: i * 33333, data: vp8Frame(i === 0, base + i), rid });
      }
      await sleep(10);
    }
    await until(() => (perRid.get('h')?.length ?? 0) >= 20 && (perRid.get('l')?.length ?? 0) >= 20,
      `packets per rid (h ${perRid.get('h')?.length ?? 0}, l ${perRid.get('l')?.length ?? 0})`);
    const h = perRid.get('h');
    const l = perRid.get('l');
    assert.equal(new Set(h.map((p) => p.ssrc)).size, 1, 'layer h on one SSRC');
    assert.equal(new Set(l.map((p) => p.ssrc)).size, 1, 'layer l on one SSRC');
    assert.notEqual(h[0].ssrc, l[0].ssrc, 'each layer its own SSRC');
    // The frame's last byte (after the VP8 payload descriptor) is its mark: per layer in order.
    const marks = (list) => list.map((p) => p.payload[p.payload.length - 1]);
    assert.deepEqual(marks(h).slice(0, 20), Array.from({ length: 20 }, (_, i) => i));
    assert.deepEqual(marks(l).slice(0, 20), Array.from({ length: 20 }, (_, i) => 100 + i));
  } finally {
    pc.close();
    await remote.close();
  }
});
