'use strict';
// Interop: getStats() media entries of polyrtc (js/node.js) against headless Chromium's, on
// one connection where Chromium sends VP8 + Opus (a canvas, a tone) and receives our
// getUserMedia() tracks. Each side's counters about a stream are compared with the other
// side's about the same stream (SSRC): our inbound-rtp packetsReceived with Chromium's
// outbound-rtp packetsSent (sampled before and after ours, so ours lies between, with a
// margin for what is in flight), our remote-outbound-rtp with what Chromium's SRs can have
// said (at most what it has sent), our outbound-rtp with Chromium's inbound-rtp, PLI and NACK
// counts on both ends, codec and media-source entries. Skips only when /usr/bin/chromium is
// absent.
const test = require('node:test');
const assert = require('node:assert');
const { chromiumSkip, sharedBrowser, waitUntil } = require('./lib/chromium');
const { loadImpl } = require('./lib/impl');

const skip = chromiumSkip();
const available = skip === false;
const TIMEOUT = 60000;

// Runs inside the page: one RTCPeerConnection sending a canvas and a tone, receiving ours.
function pageMain() {
  let pc = null;
  window.__stats = {
    async offer() {
      pc = new RTCPeerConnection();
      const stream = new MediaStream([window.__kit.tone().getAudioTracks()[0], window.__kit.canvasVideo(320, 240)]);
      for (const t of stream.getTracks()) pc.addTrack(t, stream);
      pc.ontrack = (e) => {
        const el = document.createElement(e.track.kind);
        el.muted = true;
        el.autoplay = true;
        el.srcObject = new MediaStream([e.track]);
        document.body.appendChild(el);
        el.play().catch(() => {});
      };
      await pc.setLocalDescription();
      await window.__kit.gathered(pc);
      return pc.localDescription.toJSON();
    },
    async apply(desc) { await pc.setRemoteDescription(desc); },
    state() { return pc.connectionState; },
    /** The RTP entries by `${type}:${kind}`, each with its codec's mimeType and payloadType. */
    async stats() {
      const report = await pc.getStats();
      const out = {};
      for (const s of report.values()) {
        if (s.type === 'inbound-rtp' || s.type === 'outbound-rtp' || s.type === 'remote-inbound-rtp' || s.type === 'remote-outbound-rtp') {
          const codec = s.codecId ? report.get(s.codecId) : null;
          out[`${s.type}:${s.kind}`] = { ...s, codec: codec ? { mimeType: codec.mimeType, payloadType: codec.payloadType } : null };
        }
      }
      return out;
    },
  };
}

const chromium = sharedBrowser(test, available);

/** Our report's RTP entries by `${type}:${kind}`, and the report. */
async function ourStats(pc) {
  const report = await pc.getStats();
  const out = {};
  for (const s of report.values()) if (s.kind && s.type.includes('rtp')) out[`${s.type}:${s.kind}`] = s;
  return { report, by: out };
}

test('media getStats agrees with Chromium\'s: packets each way, SR figures, PLI / NACK counts, codecs, media sources',
  { skip, timeout: TIMEOUT }, async () => {
    const api = loadImpl();
    const page = await chromium.freshPage(pageMain);
    const ours = new api.RTCPeerConnection();
    let stream;
    try {
      const offer = await page.evaluate(() => window.__stats.offer());
      const tracks = [];
      ours.ontrack = (e) => tracks.push(e.track);
      await ours.setRemoteDescription(offer);
      stream = await api.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
      for (const t of stream.getTracks()) ours.addTrack(t, stream);
      await ours.setLocalDescription();
      await waitUntil(() => ours.iceGatheringState === 'complete', 'our gathering');
      await page.evaluate((d) => window.__stats.apply(d), ours.localDescription.toJSON());
      await waitUntil(() => ours.connectionState === 'connected', 'we are connected');
      await waitUntil(async () => (await page.evaluate(() => window.__stats.state())) === 'connected', 'Chromium connected');
      assert.deepStrictEqual(ours.getTransceivers().map((t) => t.currentDirection), ['sendrecv', 'sendrecv']);
      // Media both ways, and SRs from Chromium (one every second or so).
      await waitUntil(async () => {
        const { by } = await ourStats(ours);
        const ro = by['remote-outbound-rtp:video'];
        const theirs = await page.evaluate(() => window.__stats.stats());
        return ro && ro.reportsSent >= 2 && by['remote-outbound-rtp:audio']
          && theirs['inbound-rtp:video']?.packetsReceived > 50 && theirs['remote-inbound-rtp:video'];
      }, 'media both ways and reports about it', 20000);
      const video = tracks.find((t) => t.kind === 'video');
      const sink = new api.EncodedMediaSink(video);
      sink.requestKeyframe();

      const before = await page.evaluate(() => window.__stats.stats());
      const { report, by } = await ourStats(ours);
      const after = await page.evaluate(() => window.__stats.stats());
      for (const kind of ['audio', 'video']) {
        // Their sender -> our receiver.
        const inb = by[`inbound-rtp:${kind}`];
        const [s0, s1] = [before[`outbound-rtp:${kind}`], after[`outbound-rtp:${kind}`]];
        assert.strictEqual(inb.ssrc, s1.ssrc, `${kind}: the same stream`);
        assert.ok(inb.packetsReceived >= s0.packetsSent * 0.95 - 10 && inb.packetsReceived <= s1.packetsSent + 10,
          `${kind}: we received ${inb.packetsReceived}, Chromium sent ${s0.packetsSent}..${s1.packetsSent}`);
        assert.ok(inb.bytesReceived <= s1.bytesSent + 20000, `${kind}: bytes ${inb.bytesReceived} vs ${s1.bytesSent}`);
        assert.strictEqual(inb.trackIdentifier, tracks.find((t) => t.kind === kind).id);
        assert.strictEqual(typeof inb.jitter, 'number');
        assert.ok(inb.jitter >= 0 && inb.jitter < 0.5, `${kind} jitter ${inb.jitter}`);
        assert.strictEqual(typeof inb.packetsLost, 'number');
        assert.strictEqual(typeof inb.nackCount, 'number');
        assert.strictEqual(report.get(inb.codecId).mimeType.toLowerCase(), s1.codec.mimeType.toLowerCase());
        assert.strictEqual(report.get(inb.codecId).payloadType, s1.codec.payloadType);
        // Their SR: what it said, at most what Chromium had sent by then (with the margin of
        // the few packets its getStats, cached for some milliseconds, may lag behind).
        const ro = report.get(inb.remoteId);
        assert.strictEqual(ro.type, 'remote-outbound-rtp');
        assert.strictEqual(ro.localId, inb.id);
        assert.ok(ro.packetsSent > 0 && ro.packetsSent <= s1.packetsSent + 10, `${kind}: SR ${ro.packetsSent} vs ${s1.packetsSent}`);
        assert.ok(ro.packetsSent >= inb.packetsReceived - 200, `${kind}: a recent SR (${ro.packetsSent}, ${inb.packetsReceived} received)`);
        assert.ok(ro.bytesSent > 0 && ro.bytesSent <= s1.bytesSent + 20000, `${kind}: SR bytes ${ro.bytesSent} vs ${s1.bytesSent}`);
        assert.ok(ro.reportsSent >= 1);
        assert.ok(Math.abs(ro.remoteTimestamp - Date.now()) < 10000, `${kind}: SR time ${ro.remoteTimestamp} is wall-clock time`);
        assert.ok(ro.timestamp <= inb.timestamp && ro.timestamp > inb.timestamp - 10000);
        // Our sender -> their receiver.
        const out = by[`outbound-rtp:${kind}`];
        const [r0, r1] = [before[`inbound-rtp:${kind}`], after[`inbound-rtp:${kind}`]];
        assert.strictEqual(out.ssrc, r1.ssrc);
        assert.ok(r0.packetsReceived <= out.packetsSent + 10 && out.packetsSent <= r1.packetsReceived * 1.05 + 10,
          `${kind}: we sent ${out.packetsSent}, Chromium received ${r0.packetsReceived}..${r1.packetsReceived}`);
        assert.ok(out.headerBytesSent >= 12 * out.packetsSent);
        assert.strictEqual(typeof out.nackCount, 'number');
        assert.strictEqual(out.active, true);
        const codec = report.get(out.codecId);
        assert.strictEqual(codec.mimeType.toLowerCase(), r1.codec.mimeType.toLowerCase());
        assert.strictEqual(codec.payloadType, r1.codec.payloadType);
        const source = report.get(out.mediaSourceId);
        assert.deepStrictEqual([source.type, source.kind, source.trackIdentifier],
          ['media-source', kind, stream.getTracks().find((t) => t.kind === kind).id]);
      }
      // Chromium's receiver reports about our video: stamped when the last one arrived.
      const ri = report.get(by['outbound-rtp:video'].remoteId);
      assert.strictEqual(ri.type, 'remote-inbound-rtp');
      assert.ok(ri.reportsReceived >= 1 && ri.timestamp <= by['outbound-rtp:video'].timestamp
        && ri.timestamp > by['outbound-rtp:video'].timestamp - 10000, `report at ${ri.timestamp}`);
      assert.deepStrictEqual([report.get(by['outbound-rtp:video'].mediaSourceId).width,
        report.get(by['outbound-rtp:video'].mediaSourceId).height], [320, 240]);
      // Feedback: what one end sent is what the other received, once it has all arrived.
      await waitUntil(async () => {
        const theirs = await page.evaluate(() => window.__stats.stats());
        const mine = (await ourStats(ours)).by;
        const [inb, out] = [mine['inbound-rtp:video'], mine['outbound-rtp:video']];
        return inb.pliCount >= 1 && inb.pliCount === theirs['outbound-rtp:video'].pliCount
          && out.pliCount === theirs['inbound-rtp:video'].pliCount
          && inb.nackCount === theirs['outbound-rtp:video'].nackCount
          && out.nackCount === theirs['inbound-rtp:video'].nackCount
          && out.firCount === (theirs['inbound-rtp:video'].firCount ?? 0);
      }, 'PLI and NACK counts equal on both ends', 10000).catch(async (e) => {
        const theirs = await page.evaluate(() => window.__stats.stats());
        const mine = (await ourStats(ours)).by;
        const pick = (s) => ({ pli: s.pliCount, nack: s.nackCount, fir: s.firCount });
        throw new Error(`${e.message}: ours in ${JSON.stringify(pick(mine['inbound-rtp:video']))} out ${JSON.stringify(pick(mine['outbound-rtp:video']))}, `
          + `theirs out ${JSON.stringify(pick(theirs['outbound-rtp:video']))} in ${JSON.stringify(pick(theirs['inbound-rtp:video']))}`);
      });
      assert.strictEqual(by['inbound-rtp:audio'].pliCount, undefined, 'PLI counts are for video');
    } finally {
      ours.close();
      if (stream) for (const t of stream.getTracks()) t.stop();
    }
  });
