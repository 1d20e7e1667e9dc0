'use strict';
// Interop: media through the W3C surface between polyrtc (js/node.js) and headless Chromium,
// media-only sessions (no data channel):
//  1. Chromium sends a canvas video and a tone; our `track` events carry both, with
//     Chromium's stream; an EncodedMediaSink on the video track yields the frames Chromium
//     encoded (keyframe first), and our keyframe request makes Chromium encode another.
//  2. We send `mediaDevices.getUserMedia()` tracks (the VP8 test pattern, an Opus tone);
//     Chromium decodes them: frames decoded without loss, the <video> shows 320x240 with the
//     pattern's yellow bar where it belongs, audio samples decoded.
//  3. Renegotiation mid-call both ways: we add video to an audio call (Chromium decodes it),
//     then Chromium adds a track (our track event, its frames).
//  4. A forwarding unit: Chromium A -> polyrtc -> Chromium B, the received track passed to
//     the second connection's addTrack(); B decodes what A sends.
// Skips only when /usr/bin/chromium is absent.
const test = require('node:test');
const assert = require('node:assert');
const { chromiumSkip, sharedBrowser, waitUntil, gatheredLocal } = require('./lib/chromium');
const { loadImpl } = require('./lib/impl');

const skip = chromiumSkip();
const available = skip === false;
const TIMEOUT = 60000;

// Runs inside the page: named RTCPeerConnections, a canvas + tone source, stats readers.
function pageMain() {
  const pcs = new Map();
  const { gathered } = window.__kit;
  const source = (width = 320, height = 240) => {
    const video = window.__kit.canvasVideo(width, height);
    return new MediaStream([window.__kit.tone().getAudioTracks()[0], video]);
  };
  window.__media = {
    async offerSending(name, kinds, videoCodec) {
      const pc = new RTCPeerConnection();
      pcs.set(name, { pc });
      const stream = source();
      for (const t of stream.getTracks()) if (kinds.includes(t.kind)) pc.addTrack(t, stream);
      if (videoCodec) {
        const tr = pc.getTransceivers().find((t) => t.sender.track && t.sender.track.kind === 'video');
        const all = RTCRtpSender.getCapabilities('video').codecs;
        const first = all.filter((c) => c.mimeType.toLowerCase() === `video/${videoCodec.toLowerCase()}`);
        tr.setCodecPreferences([...first, ...all.filter((c) => !first.includes(c))]);
      }
      await pc.setLocalDescription();
      await gathered(pc);
      return { offer: pc.localDescription.toJSON(), streamId: stream.id };
    },
    async offerSimulcast(name) {
      const pc = new RTCPeerConnection();
      pcs.set(name, { pc });
      const video = source(640, 480).getVideoTracks()[0];
      pc.addTransceiver(video, {
        direction: 'sendonly',
        sendEncodings: [{ rid: 'h' }, { rid: 'l', scaleResolutionDownBy: 2 }],
      });
      await pc.setLocalDescription();
      await gathered(pc);
      return pc.localDescription.toJSON();
    },
    async answerReceiving(name, offer) {
      const pc = new RTCPeerConnection();
      const entry = { pc, video: null };
      pcs.set(name, entry);
      pc.ontrack = (e) => {
        if (e.track.kind !== 'video') {
          const a = document.createElement('audio');
          a.srcObject = e.streams[0] || new MediaStream([e.track]);
          a.muted = true;
          a.play().catch(() => {});
          return;
        }
        const v = document.createElement('video');
        v.muted = true;
        v.autoplay = true;
        v.playsInline = true;
        v.srcObject = new MediaStream([e.track]);
        document.body.appendChild(v);
        v.play().catch(() => {});
        entry.video = v;
      };
      await pc.setRemoteDescription(offer);
      await pc.setLocalDescription();
      await gathered(pc);
      return pc.localDescription.toJSON();
    },
    async apply(name, desc) { await pcs.get(name).pc.setRemoteDescription(desc); },
    // Renegotiation mid-call: answer a new offer on an existing connection; or add a canvas
    // track of our own and offer it (our track events are counted in `tracks`).
    async reanswer(name, offer) {
      const { pc } = pcs.get(name);
      await pc.setRemoteDescription(offer);
      await pc.setLocalDescription();
      await gathered(pc);
      return pc.localDescription.toJSON();
    },
    async addVideoAndOffer(name) {
      const { pc } = pcs.get(name);
      const stream = source();
      pc.addTrack(stream.getVideoTracks()[0], stream);
      await pc.setLocalDescription();
      await gathered(pc);
      return { offer: pc.localDescription.toJSON(), streamId: stream.id };
    },
    state(name) { return pcs.get(name).pc.connectionState; },
    async stats(name) {
      const out = {};
      for (const s of (await pcs.get(name).pc.getStats()).values()) {
        if (s.type === 'inbound-rtp' || s.type === 'outbound-rtp') out[`${s.type}:${s.kind}`] = s;
      }
      return out;
    },
    async inboundCodec(name) {
      const report = await pcs.get(name).pc.getStats();
      for (const s of report.values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'video') return report.get(s.codecId)?.mimeType ?? null;
      }
      return null;
    },
    // The decoded picture: size and the colour at (x, y).
    pixel(name, x, y) {
      const v = pcs.get(name).video;
      if (!v || v.videoWidth === 0) return null;
      const c = document.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const ctx = c.getContext('2d');
      ctx.drawImage(v, 0, 0);
      const d = ctx.getImageData(x, y, 1, 1).data;
      return { width: v.videoWidth, height: v.videoHeight, rgb: [d[0], d[1], d[2]] };
    },
  };
}

const chromium = sharedBrowser(test, available);

async function connect(ours, page, name) {
  await waitUntil(() => ours.connectionState === 'connected', 'we are connected');
  await waitUntil(async () => (await page.evaluate((n) => window.__media.state(n), name)) === 'connected', `Chromium ${name} connected`);
}

test('Chromium sends audio and video: track events with its stream, frames through an EncodedMediaSink, keyframe on request',
  { skip, timeout: TIMEOUT }, async () => {
    const api = loadImpl();
    const page = await chromium.freshPage(pageMain);
    const ours = new api.RTCPeerConnection();
    try {
      const { offer, streamId } = await page.evaluate(() => window.__media.offerSending('a', ['audio', 'video']));
      assert.doesNotMatch(offer.sdp, /m=application/);
      const tracks = [];
      let signaling = null;
      ours.ontrack = (e) => {
        signaling ??= ours.signalingState;
        tracks.push(e);
      };
      await ours.setRemoteDescription(offer);
      assert.strictEqual(signaling, 'have-remote-offer', 'track events fire while applying the offer');
      assert.deepStrictEqual(tracks.map((e) => e.track.kind), ['audio', 'video']);
      assert.strictEqual(tracks[0].streams[0].id, streamId);
      assert.strictEqual(tracks[0].streams[0], tracks[1].streams[0], 'one MediaStream object per stream id');
      assert.ok(tracks.every((e) => e.receiver === e.transceiver.receiver && e.track === e.receiver.track));
      const video = tracks[1];
      const sink = new api.EncodedMediaSink(video.track);
      const frames = [];
      sink.addEventListener('frame', (e) => frames.push({ type: e.frameType, size: e.data.byteLength, mime: e.mimeType }));
      await ours.setLocalDescription();
      await page.evaluate((d) => window.__media.apply('a', d), await gatheredLocal(ours));
      await connect(ours, page, 'a');
      assert.deepStrictEqual(ours.getTransceivers().map((t) => t.currentDirection), ['recvonly', 'recvonly']);
      await waitUntil(() => frames.length >= 60, 'video frames through the sink', 20000);
      assert.strictEqual(frames[0].type, 'key', 'the first frame out is a key frame');
      assert.strictEqual(frames[0].mime.toLowerCase(), 'video/vp8');
      const theirs = await page.evaluate(() => window.__media.stats('a'));
      const sent = theirs['outbound-rtp:video'];
      assert.ok(frames.length <= sent.framesSent + 5 && frames.length >= sent.framesSent * 0.8 - 5,
        `${frames.length} frames out of the sink, ${sent.framesSent} encoded`);
      // Our keyframe request (RTCP PLI) makes Chromium encode a key frame.
      const keysBefore = sent.keyFramesEncoded;
      const pliBefore = sent.pliCount;
      sink.requestKeyframe();
      await waitUntil(async () => {
        const s = (await page.evaluate(() => window.__media.stats('a')))['outbound-rtp:video'];
        return s.pliCount > pliBefore && s.keyFramesEncoded > keysBefore;
      }, 'Chromium got our PLI and encoded a key frame', 10000);
      await waitUntil(() => frames.filter((f) => f.type === 'key').length >= 2, 'the new key frame reached the sink', 10000);
    } finally {
      ours.close();
    }
  });

test('polyrtc getUserMedia tracks (VP8 test pattern, Opus tone): Chromium decodes them and shows the pattern',
  { skip, timeout: TIMEOUT }, async () => {
    const api = loadImpl();
    const page = await chromium.freshPage(pageMain);
    const ours = new api.RTCPeerConnection();
    let stream;
    try {
      stream = await api.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
      for (const t of stream.getTracks()) ours.addTrack(t, stream);
      await ours.setLocalDescription();
      const offer = await gatheredLocal(ours);
      assert.match(offer.sdp, /^m=audio 9 UDP\/TLS\/RTP\/SAVPF 111 110\r?$/m);
      assert.match(offer.sdp, new RegExp(`^a=msid:${stream.id} `, 'm'));
      const answer = await page.evaluate((o) => window.__media.answerReceiving('b', o), offer);
      await ours.setRemoteDescription(answer);
      await connect(ours, page, 'b');
      assert.deepStrictEqual(ours.getTransceivers().map((t) => t.currentDirection), ['sendonly', 'sendonly']);
      await waitUntil(async () => {
        const s = await page.evaluate(() => window.__media.stats('b'));
        const v = s['inbound-rtp:video'];
        const a = s['inbound-rtp:audio'];
        return v && v.framesDecoded >= 60 && a && a.totalSamplesReceived > 48000;
      }, 'Chromium decoded our video and audio', 20000).catch(async (e) => {
        throw new Error(`${e.message}: ${JSON.stringify(await page.evaluate(() => window.__media.stats('b')))}`);
      });
      const s = await page.evaluate(() => window.__media.stats('b'));
      const v = s['inbound-rtp:video'];
      assert.ok(v.keyFramesDecoded >= 1);
      assert.strictEqual(v.packetsLost, 0);
      assert.ok(v.framesDropped <= 2, `frames dropped: ${v.framesDropped}`);
      assert.strictEqual(v.frameWidth, 320);
      assert.strictEqual(v.frameHeight, 240);
      // The pattern's second bar (yellow) at its place, as the decoder drew it.
      let px = null;
      await waitUntil(async () => {
        px = await page.evaluate(() => window.__media.pixel('b', 60, 40));
        return px !== null;
      }, 'the video element has a picture');
      assert.deepStrictEqual([px.width, px.height], [320, 240]);
      const [r, g, b] = px.rgb;
      assert.ok(r > 200 && g > 200 && b < 60, `yellow bar expected, got rgb(${r}, ${g}, ${b})`);
      // What we sent, as our getStats reports it, matches what Chromium received.
      const report = await ours.getStats();
      const out = [...report.values()].filter((x) => x.type === 'outbound-rtp');
      assert.strictEqual(out.length, 2, 'an outbound-rtp per track');
      const ov = out.find((x) => x.kind === 'video');
      assert.ok(ov.framesSent >= v.framesDecoded, `${ov.framesSent} sent, ${v.framesDecoded} decoded`);
      assert.ok(ov.packetsSent >= v.packetsReceived);
      // Chromium's receiver reports (RTCP RR) give us a round-trip time on loopback.
      await waitUntil(async () => {
        const rr = [...(await ours.getStats()).values()].find((x) => x.type === 'remote-inbound-rtp' && x.kind === 'video');
        return rr && typeof rr.roundTripTime === 'number' && rr.roundTripTime < 0.5 && rr.packetsLost === 0;
      }, 'remote-inbound-rtp with an RTT from Chromium\'s reports', 15000);
    } finally {
      ours.close();
      if (stream) for (const t of stream.getTracks()) t.stop();
    }
  });

test('renegotiation mid-call: we add a video track to an audio call, Chromium decodes it; then Chromium adds one, our track event and frames follow',
  { skip, timeout: TIMEOUT }, async () => {
    const api = loadImpl();
    const page = await chromium.freshPage(pageMain);
    const ours = new api.RTCPeerConnection();
    let stream;
    try {
      stream = await api.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
      ours.addTrack(stream.getAudioTracks()[0], stream);
      await ours.setLocalDescription();
      const answer = await page.evaluate((o) => window.__media.answerReceiving('b', o), await gatheredLocal(ours));
      await ours.setRemoteDescription(answer);
      await connect(ours, page, 'b');
      await waitUntil(async () => {
        const a = (await page.evaluate(() => window.__media.stats('b')))['inbound-rtp:audio'];
        return a && a.totalSamplesReceived > 4800;
      }, 'Chromium decodes our audio first');
      // Our side adds video: negotiationneeded, a re-offer on the same transport.
      const needed = new Promise((resolve) => { ours.onnegotiationneeded = resolve; });
      ours.addTrack(stream.getVideoTracks()[0], stream);
      await needed;
      await ours.setLocalDescription();
      assert.strictEqual((ours.localDescription.sdp.match(/^m=/gm) || []).length, 2);
      const reanswer = await page.evaluate((o) => window.__media.reanswer('b', o), ours.localDescription.toJSON());
      await ours.setRemoteDescription(reanswer);
      assert.deepStrictEqual(ours.getTransceivers().map((t) => t.currentDirection), ['sendonly', 'sendonly']);
      await waitUntil(async () => {
        const v = (await page.evaluate(() => window.__media.stats('b')))['inbound-rtp:video'];
        return v && v.framesDecoded >= 30 && v.frameWidth === 320;
      }, 'Chromium decodes the video added mid-call', 20000);
      // Chromium adds a video track and offers: we answer, our track event and its frames.
      const track = new Promise((resolve) => { ours.ontrack = resolve; });
      const { offer, streamId } = await page.evaluate(() => window.__media.addVideoAndOffer('b'));
      await ours.setRemoteDescription(offer);
      await ours.setLocalDescription();
      await page.evaluate((a) => window.__media.apply('b', a), ours.localDescription.toJSON());
      const e = await track;
      assert.strictEqual(e.track.kind, 'video');
      assert.strictEqual(e.streams[0].id, streamId);
      // Chromium's addTrack took its video transceiver (recvonly until now, webrtc-pc), so the
      // video m-line turns sendrecv: no new section.
      assert.deepStrictEqual(ours.getTransceivers().map((t) => t.currentDirection), ['sendonly', 'sendrecv']);
      const frames = [];
      new api.EncodedMediaSink(e.track).onframe = (f) => frames.push(f.frame.type);
      await waitUntil(() => frames.length >= 10, `frames of Chromium's new track (${frames.length})`, 20000);
      assert.strictEqual(frames[0], 'key');
    } finally {
      ours.close();
      if (stream) for (const t of stream.getTracks()) t.stop();
    }
  });

for (const codec of ['VP8', 'H264']) {
test(`forwarding ${codec}: Chromium A -> polyrtc -> Chromium B with the received track in addTrack()`,
  { skip, timeout: TIMEOUT }, async () => {
    const api = loadImpl();
    const page = await chromium.freshPage(pageMain);
    const upstream = new api.RTCPeerConnection();
    const downstream = new api.RTCPeerConnection();
    try {
      const { offer } = await page.evaluate((c) => window.__media.offerSending('a', ['video'], c), codec);
      const got = new Promise((r) => { upstream.ontrack = r; });
      await upstream.setRemoteDescription(offer);
      const ev = await got;
      await upstream.setLocalDescription();
      await page.evaluate((d) => window.__media.apply('a', d), await gatheredLocal(upstream));
      await connect(upstream, page, 'a');
      // The SFU path: the remote track goes to the other connection as is.
      downstream.addTrack(ev.track, ...ev.streams);
      await downstream.setLocalDescription();
      const answer = await page.evaluate((o) => window.__media.answerReceiving('b', o), await gatheredLocal(downstream));
      await downstream.setRemoteDescription(answer);
      await connect(downstream, page, 'b');
      await waitUntil(async () => {
        const v = (await page.evaluate(() => window.__media.stats('b')))['inbound-rtp:video'];
        return v && v.framesDecoded >= 60;
      }, 'B decodes the forwarded video', 20000).catch(async (e) => {
        throw new Error(`${e.message}: ${JSON.stringify(await page.evaluate(() => window.__media.stats('b')))}`);
      });
      const stats = await page.evaluate(() => window.__media.stats('b'));
      const b = stats['inbound-rtp:video'];
      assert.ok(b.keyFramesDecoded >= 1);
      // B decodes the codec A encodes: the frames went out as that codec, not re-labelled.
      assert.strictEqual(await page.evaluate(() => window.__media.inboundCodec('b')), `video/${codec}`);
      const px = await page.evaluate(() => window.__media.pixel('b', 10, 10));
      assert.ok(px && px.width === 320 && px.height === 240, JSON.stringify(px));
    } finally {
      upstream.close();
      downstream.close();
    }
  });
}

test('simulcast from Chromium (two rids): each layer\'s frames through its own EncodedMediaSink',
  { skip, timeout: TIMEOUT }, async () => {
    const api = loadImpl();
    const page = await chromium.freshPage(pageMain);
    const ours = new api.RTCPeerConnection();
    try {
      const offer = await page.evaluate(() => window.__media.offerSimulcast('s'));
      assert.match(offer.sdp, /^a=simulcast:send h;l\r?$/m);
      const got = new Promise((r) => { ours.ontrack = r; });
      await ours.setRemoteDescription(offer);
      const ev = await got;
      await ours.setLocalDescription();
      const answer = await gatheredLocal(ours);
      assert.match(answer.sdp, /^a=rid:h recv\r?$/m);
      assert.match(answer.sdp, /^a=simulcast:recv h;l\r?$/m);
      const layers = { h: [], l: [] };
      for (const rid of ['h', 'l']) {
        const sink = new api.EncodedMediaSink(ev.track, { rid });
        sink.addEventListener('frame', (e) => layers[rid].push({ type: e.frameType, rid: e.rid, size: e.data.byteLength }));
      }
      await page.evaluate((d) => window.__media.apply('s', d), answer);
      await connect(ours, page, 's');
      await waitUntil(() => layers.h.length >= 30 && layers.l.length >= 30, 'frames of both layers', 20000)
        .catch(async (e) => {
          throw new Error(`${e.message}: h ${layers.h.length}, l ${layers.l.length}: ${JSON.stringify(await page.evaluate(() => window.__media.stats('s')))}`);
        });
      for (const rid of ['h', 'l']) {
        assert.strictEqual(layers[rid][0].type, 'key', `${rid} starts with a key frame`);
        assert.ok(layers[rid].every((f) => f.rid === rid));
      }
      // Two inbound-rtp streams (one SSRC per layer) on our side.
      const inbound = [...(await ours.getStats()).values()].filter((s) => s.type === 'inbound-rtp' && s.kind === 'video');
      assert.strictEqual(inbound.length, 2);
      // The full layer is the bigger one.
      const avg = (l) => l.reduce((a, f) => a + f.size, 0) / l.length;
      assert.ok(avg(layers.h) > avg(layers.l), `h ${avg(layers.h)} vs l ${avg(layers.l)}`);
    } finally {
      ours.close();
    }
  });
