'use strict';
// Interop: DTMF (RFC 4733 telephone-event) between polyrtc (js/node.js) and headless Chromium.
//  1. Chromium sends a tone with RTCDTMFSender.insertDTMF(): our receiver keeps the events out
//     of the audio frames and an EncodedMediaSink on the audio track gets each one once, as an
//     `audio/telephone-event` frame (the final packet's payload: event code, E bit, volume,
//     duration), in order; the Opus frames keep coming.
//  2. We answer Chromium's offer and play tones with our RTCDTMFSender: canInsertDTMF is true
//     (telephone-event/48000 negotiated), the tones go out and Chromium's audio keeps decoding
//     (Chromium has no DTMF receive API; the packet sequence itself is checked by
//     src/peer/dtmf_tests.rs against our own receiver).
// Skips only when /usr/bin/chromium is absent.
const test = require('node:test');
const assert = require('node:assert');
const { chromiumSkip, sharedBrowser, waitUntil, gatheredLocal } = require('./lib/chromium');
const { loadImpl } = require('./lib/impl');

const skip = chromiumSkip();
const available = skip === false;
const TIMEOUT = 60000;

function pageMain() {
  const pcs = new Map();
  const { gathered, tone } = window.__kit;
  window.__dtmf = {
    async offerAudio(name) {
      const pc = new RTCPeerConnection();
      const entry = { pc, tones: [] };
      pcs.set(name, entry);
      const stream = tone();
      const sender = pc.addTrack(stream.getAudioTracks()[0], stream);
      entry.sender = sender;
      sender.dtmf.ontonechange = (e) => entry.tones.push(e.tone);
      await pc.setLocalDescription();
      await gathered(pc);
      return pc.localDescription.toJSON();
    },
    async answerReceiving(name, offer) {
      const pc = new RTCPeerConnection();
      pcs.set(name, { pc });
      pc.ontrack = (e) => {
        const a = document.createElement('audio');
        a.srcObject = e.streams[0] || new MediaStream([e.track]);
        a.muted = true;
        a.play().catch(() => {});
      };
      await pc.setRemoteDescription(offer);
      await pc.setLocalDescription();
      await gathered(pc);
      return pc.localDescription.toJSON();
    },
    async apply(name, desc) { await pcs.get(name).pc.setRemoteDescription(desc); },
    state(name) { return pcs.get(name).pc.connectionState; },
    canInsert(name) { return pcs.get(name).sender.dtmf.canInsertDTMF; },
    insert(name, tones, duration, gap) { pcs.get(name).sender.dtmf.insertDTMF(tones, duration, gap); },
    tones(name) { return pcs.get(name).tones.slice(); },
    async audioIn(name) {
      for (const s of (await pcs.get(name).pc.getStats()).values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') return { packets: s.packetsReceived, samples: s.totalSamplesReceived };
      }
      return null;
    },
  };
}

const chromium = sharedBrowser(test, available);

async function connect(ours, page, name) {
  await waitUntil(() => ours.connectionState === 'connected', 'we are connected');
  await waitUntil(async () => (await page.evaluate((n) => window.__dtmf.state(n), name)) === 'connected', `Chromium ${name} connected`);
}

test('Chromium insertDTMF: each tone reaches our audio track once as an audio/telephone-event frame',
  { skip, timeout: TIMEOUT }, async () => {
    const api = loadImpl();
    const page = await chromium.freshPage(pageMain);
    const ours = new api.RTCPeerConnection();
    try {
      const offer = await page.evaluate(() => window.__dtmf.offerAudio('a'));
      assert.match(offer.sdp, /a=rtpmap:\d+ telephone-event\/48000/);
      let track = null;
      ours.ontrack = (e) => { track = e.track; };
      await ours.setRemoteDescription(offer);
      await ours.setLocalDescription();
      const answer = await gatheredLocal(ours);
      const pt = answer.sdp.match(/a=rtpmap:(\d+) telephone-event\/48000/);
      assert.ok(pt, `our answer keeps telephone-event/48000:\n${answer.sdp}`);
      assert.doesNotMatch(answer.sdp, /telephone-event\/8000/);
      const sink = new api.EncodedMediaSink(track);
      const events = [];
      let opus = 0;
      sink.onframe = (e) => {
        if (e.mimeType === 'audio/telephone-event') events.push(Array.from(e.data));
        else if (e.mimeType.toLowerCase() === 'audio/opus') opus += 1;
      };
      await page.evaluate((d) => window.__dtmf.apply('a', d), answer);
      await connect(ours, page, 'a');
      assert.strictEqual(await page.evaluate(() => window.__dtmf.canInsert('a')), true);
      await waitUntil(() => opus >= 10, 'Opus frames before the tones');
      await page.evaluate(() => window.__dtmf.insert('a', '19#A', 100, 70));
      await waitUntil(() => events.length >= 4, 'four DTMF events', 15000).catch((e) => {
        throw new Error(`${e.message}: got ${JSON.stringify(events)}`);
      });
      await new Promise((r) => setTimeout(r, 500));
      assert.deepStrictEqual(events.map((e) => e[0]), [1, 9, 11, 12], 'RFC 4733 codes, once each, in order');
      for (const e of events) {
        assert.ok(e[1] & 0x80, 'reported from the final (E bit) packet');
        const durationMs = ((e[2] << 8) | e[3]) / 48;
        assert.ok(durationMs >= 90 && durationMs <= 200, `duration ${durationMs} ms for a 100 ms tone`);
      }
      const opusAfter = opus;
      await waitUntil(() => opus > opusAfter + 10, 'Opus frames keep coming after the tones');
    } finally {
      ours.close();
    }
  });

test('our insertDTMF towards Chromium: negotiated, tones played and sent, Chromium audio still decodes',
  { skip, timeout: TIMEOUT }, async () => {
    const api = loadImpl();
    const page = await chromium.freshPage(pageMain);
    const ours = new api.RTCPeerConnection();
    let stream;
    try {
      stream = await api.mediaDevices.getUserMedia({ audio: true });
      const sender = ours.addTrack(stream.getAudioTracks()[0], stream);
      await ours.setLocalDescription();
      const offer = await gatheredLocal(ours);
      assert.match(offer.sdp, /a=rtpmap:110 telephone-event\/48000/);
      const answer = await page.evaluate((o) => window.__dtmf.answerReceiving('b', o), offer);
      assert.match(answer.sdp, /a=rtpmap:110 telephone-event\/48000/, 'Chromium accepts telephone-event/48000');
      await ours.setRemoteDescription(answer);
      await connect(ours, page, 'b');
      assert.strictEqual(sender.dtmf.canInsertDTMF, true);
      await waitUntil(async () => ((await page.evaluate(() => window.__dtmf.audioIn('b'))) || {}).samples > 48000, 'Chromium decodes our audio');
      const before = await page.evaluate(() => window.__dtmf.audioIn('b'));
      const tones = [];
      const done = new Promise((resolve) => {
        sender.dtmf.ontonechange = (e) => { tones.push(e.tone); if (e.tone === '') resolve(); };
      });
      sender.dtmf.insertDTMF('5*', 200, 100);
      await done;
      assert.deepStrictEqual(tones, ['5', '*', '']);
      // 2 tones of 200 ms: ~5 packets each plus 3 ends beyond the Opus packets of that time.
      await new Promise((r) => setTimeout(r, 300));
      const after = await page.evaluate(() => window.__dtmf.audioIn('b'));
      assert.ok(after.samples > before.samples, 'audio still decodes after the tones');
      assert.ok(after.packets > before.packets, 'packets still arrive');
    } finally {
      ours.close();
      if (stream) for (const t of stream.getTracks()) t.stop();
    }
  });

test('RFC 6464 from Chromium: a WebAudio tone gives our receiver a getSynchronizationSources() audioLevel > 0',
  { skip, timeout: TIMEOUT }, async () => {
    const api = loadImpl();
    const page = await chromium.freshPage(pageMain);
    const ours = new api.RTCPeerConnection();
    try {
      const offer = await page.evaluate(() => window.__dtmf.offerAudio('c'));
      assert.match(offer.sdp, /a=extmap:\d+ urn:ietf:params:rtp-hdrext:ssrc-audio-level/);
      let receiver = null;
      ours.ontrack = (e) => { receiver = e.receiver; };
      await ours.setRemoteDescription(offer);
      await ours.setLocalDescription();
      const answer = await gatheredLocal(ours);
      assert.match(answer.sdp, /a=extmap:\d+ urn:ietf:params:rtp-hdrext:ssrc-audio-level/);
      // Frames flow to the track only while something consumes it.
      const sink = new api.EncodedMediaSink(receiver.track);
      let frames = 0;
      sink.onframe = () => { frames += 1; };
      await page.evaluate((d) => window.__dtmf.apply('c', d), answer);
      await connect(ours, page, 'c');
      let sources = [];
      await waitUntil(() => {
        sources = receiver.getSynchronizationSources();
        return frames > 20 && sources.length === 1 && sources[0].audioLevel > 0;
      }, 'an audio level from Chromium', 15000).catch((e) => {
        throw new Error(`${e.message}: ${JSON.stringify(sources)} after ${frames} frames`);
      });
      const [s] = sources;
      assert.ok(s.audioLevel > 0.01 && s.audioLevel <= 1, `a WebAudio sine is loud: ${s.audioLevel}`);
      assert.strictEqual(typeof s.source, 'number');
    } finally {
      ours.close();
    }
  });
