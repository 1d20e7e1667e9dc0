'use strict';
// Interop: headless Chromium sends media to polyrtc (js/node.js) over DTLS-SRTP. The page
// offers a data channel, a canvas video track and a WebAudio audio track (one BUNDLE), with
// the video codec under test first (setCodecPreferences: VP8, H.264, VP9, AV1 in turn); we
// answer the audio and video sections to receive (our codecs, recvonly). The RTP packets
// Chromium sends must pass our SRTP (keys from the DTLS exporter, the profile Chromium chose):
// our getStats() shows an inbound-rtp stream per kind, with the codec our answer negotiated,
// whose packet count follows what Chromium's outbound-rtp reports sent, and whose video
// packets our depacketizer for that codec assembles into as many frames as Chromium sent. A
// wrong key, salt or index would fail every packet's authentication and count nothing. Skips only when
// /usr/bin/chromium is absent.
//
// Candidates are not filtered to loopback here: with media tracks Chromium gathers on the
// machine's own interface addresses only (no 127.0.0.1), which still never leave the machine.
const test = require('node:test');
const assert = require('node:assert');
const { chromiumSkip, sharedBrowser, waitUntil } = require('./lib/chromium');
const { loadImpl } = require('./lib/impl');

const skip = chromiumSkip();
const available = skip === false;
const TIMEOUT = 60000;

// Runs inside the page: one RTCPeerConnection that sends a moving canvas and a tone.
function pageMain() {
  window.__pc = {
    pc: new RTCPeerConnection(),
    async gathered() {
      const pc = this.pc;
      if (pc.iceGatheringState === 'complete') return;
      await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') r();
      }));
    },
    async offer(videoCodec) {
      this.dc = this.pc.createDataChannel('control');
      const canvas = document.createElement('canvas');
      canvas.width = 320;
      canvas.height = 240;
      const ctx = canvas.getContext('2d');
      let f = 0;
      // A patch of noise, so that frames take several packets (without feedback from us
      // Chromium's bandwidth estimate stays low: a whole noisy picture would be starved).
      const noise = ctx.createImageData(96, 72);
      this.timer = setInterval(() => {
        f += 1;
        for (let i = 0; i < noise.data.length; i += 4) {
          const v = Math.random() * 255;
          noise.data[i] = v;
          noise.data[i + 1] = (v + f * 3) % 255;
          noise.data[i + 2] = 255 - v;
          noise.data[i + 3] = 255;
        }
        ctx.fillStyle = `hsl(${(f * 7) % 360}, 80%, 50%)`;
        ctx.fillRect(0, 0, 320, 240);
        ctx.putImageData(noise, 100, 80);
        ctx.fillStyle = '#fff';
        ctx.fillRect((f * 5) % 300, 100, 20, 20);
      }, 33);
      const video = canvas.captureStream(30).getVideoTracks()[0];
      const ac = new AudioContext();
      await ac.resume().catch(() => {});
      const osc = ac.createOscillator();
      const dest = ac.createMediaStreamDestination();
      osc.connect(dest);
      osc.start();
      const audio = dest.stream.getAudioTracks()[0];
      const stream = new MediaStream([audio, video]);
      this.pc.addTrack(audio, stream);
      this.pc.addTrack(video, stream);
      // The video codec to test first in the offer (our answer keeps the offer's order).
      const tr = this.pc.getTransceivers().find((t) => t.sender.track === video);
      const all = RTCRtpSender.getCapabilities('video').codecs;
      const first = all.filter((c) => c.mimeType.toLowerCase() === `video/${videoCodec.toLowerCase()}`);
      if (first.length === 0) throw new Error(`Chromium has no ${videoCodec}`);
      tr.setCodecPreferences([...first, ...all.filter((c) => !first.includes(c))]);
      await this.pc.setLocalDescription();
      await this.gathered();
      return { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp };
    },
    async apply(desc) { await this.pc.setRemoteDescription(desc); },
    state() { return this.pc.connectionState; },
    async outbound() {
      const out = {};
      for (const s of (await this.pc.getStats()).values()) {
        if (s.type === 'outbound-rtp') {
          out[s.kind] = s.packetsSent;
          if (s.kind === 'video') out.framesSent = s.framesSent;
        }
        if (s.type === 'transport') out.srtpCipher = s.srtpCipher;
      }
      return out;
    },
  };
}

const chromium = sharedBrowser(test, available);

/**
 * Chromium sends Opus and `videoCodec` to us; both pass our SRTP and the video packets are
 * assembled into frames by our depacketizer for that codec.
 */
async function receiveFromChromium(videoCodec) {
  const api = loadImpl();
  const page = await chromium.freshPage(pageMain);
  const ours = new api.RTCPeerConnection();
  try {
    const offer = await page.evaluate((c) => window.__pc.offer(c), videoCodec);
    assert.match(offer.sdp, /^m=audio /m);
    assert.match(offer.sdp, /^m=video /m);
    await ours.setRemoteDescription(offer);
    await ours.setLocalDescription();
    await waitUntil(() => ours.iceGatheringState === 'complete', 'our gathering');
    const answer = ours.localDescription.sdp;
    // Our answer receives both kinds with codecs Chromium offered, in one BUNDLE with the data.
    assert.match(answer, /^a=group:BUNDLE 0 1 2\r?$/m);
    assert.match(answer, /^m=audio 9 UDP\/TLS\/RTP\/SAVPF 111 110\r?$/m);
    assert.match(answer, /^a=rtpmap:111 opus\/48000\/2\r?$/m);
    const videoLine = /^m=video \d+ UDP\/TLS\/RTP\/SAVPF (\d+)/m.exec(answer);
    assert.ok(videoLine, answer);
    assert.match(answer, new RegExp(`^a=rtpmap:${videoLine[1]} ${videoCodec}/90000\\r?$`, 'm'), 'the preferred codec first');
    assert.strictEqual((answer.match(/^a=recvonly\r?$/gm) || []).length, 2);
    await page.evaluate((d) => window.__pc.apply(d), ours.localDescription.toJSON());
    await waitUntil(() => ours.connectionState === 'connected', 'we are connected');
    await waitUntil(async () => (await page.evaluate(() => window.__pc.state())) === 'connected', 'Chromium connected');

    const inbound = async () => {
      const byKind = {};
      for (const s of (await ours.getStats()).values()) {
        if (s.type === 'inbound-rtp' && s.kind) byKind[s.kind] = s;
      }
      return byKind;
    };
    await waitUntil(async () => {
      const r = await inbound();
      return r.audio && r.video && r.audio.packetsReceived >= 50 && r.video.framesReceived >= 20;
    }, `audio packets and ${videoCodec} frames through our SRTP and depacketizer`, 20000).catch(async (e) => {
      throw new Error(`${e.message}: ${JSON.stringify(await inbound())}`);
    });
    const theirs = await page.evaluate(() => window.__pc.outbound());
    const r = await inbound();
    const report = await ours.getStats();
    const transport = [...report.values()].find((s) => s.type === 'transport');
    // The same SRTP profile on both ends (the one Chromium chose as DTLS server).
    assert.strictEqual(transport.srtpCipher, theirs.srtpCipher);
    // What arrived is what Chromium sent (a few packets in flight on loopback).
    for (const kind of ['audio', 'video']) {
      assert.ok(theirs[kind] > 0, `Chromium sent ${kind}`);
      assert.ok(r[kind].packetsReceived <= theirs[kind] + 50, `${kind}: ${r[kind].packetsReceived} vs ${theirs[kind]}`);
      assert.ok(r[kind].packetsReceived >= theirs[kind] * 0.8 - 50, `${kind}: ${r[kind].packetsReceived} of ${theirs[kind]}`);
      assert.ok(r[kind].bytesReceived > 0 && r[kind].headerBytesReceived >= 12 * r[kind].packetsReceived);
      const codec = report.get(r[kind].codecId);
      assert.ok(codec, `${kind}: a codec entry`);
      assert.strictEqual(codec.mimeType, kind === 'audio' ? 'audio/opus' : `video/${videoCodec}`);
    }
    // Every frame Chromium sent was assembled (loopback loses nothing): within the frames in flight.
    const v = r.video;
    assert.ok(v.framesReceived >= theirs.framesSent * 0.8 - 5 && v.framesReceived <= theirs.framesSent + 5,
      `${videoCodec}: ${v.framesReceived} frames assembled, ${theirs.framesSent} sent`);
    assert.ok(v.framesAssembledFromMultiplePackets >= 1, 'the key frame spans packets');
    assert.strictEqual(v.framesDropped, 0);
    assert.notStrictEqual(r.audio.mid, r.video.mid);
  } finally {
    ours.close();
  }
}

for (const codec of ['VP8', 'H264', 'VP9', 'AV1']) {
  test(`Chromium sends Opus and ${codec} to polyrtc: SRTP authenticates every packet, frames assemble`,
    { skip, timeout: TIMEOUT }, () => receiveFromChromium(codec));
}
