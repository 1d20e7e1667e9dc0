'use strict';
// Interop: aiortc (Python; its SRTP is libsrtp through pylibsrtp, its VP8 libvpx) sends a
// tone (Opus) and a moving pattern (VP8) to polyrtc (js/node.js), with a data channel, in one
// BUNDLE. We answer both media sections to receive; every packet must pass our SRTP and the
// VP8 packets must reassemble into frames: our inbound-rtp counts follow what aiortc's senders
// report. Skips (loudly) when `python3 -c "import aiortc"` fails, except under CI=true.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const readline = require('node:readline');
const { spawn, execFileSync } = require('node:child_process');
const { waitUntil } = require('./lib/chromium');
const { loadImpl } = require('./lib/impl');

const python = process.env.POLYRTC_PYTHON || 'python3';
let available = true;
try {
  execFileSync(python, ['-c', 'import aiortc'], { stdio: 'ignore', timeout: 30000 });
} catch {
  available = false;
}
if (!available && process.env.CI === 'true') throw new Error(`${python} cannot import aiortc`);
const skip = available ? false : `${python} cannot import aiortc (pip install aiortc==1.16.0)`;

test('aiortc sends Opus and VP8 to polyrtc: its libsrtp packets pass our SRTP, frames assemble',
  { skip, timeout: 60000 }, async () => {
    const api = loadImpl();
    const child = spawn(python, [path.join(__dirname, 'lib', 'aiortc_media_sender.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = [];
    readline.createInterface({ input: child.stdout }).on('line', (l) => lines.push(JSON.parse(l)));
    const next = async (key, what) => {
      const found = await waitUntil(() => lines.find((l) => key in l), what, 20000);
      lines.splice(lines.indexOf(found), 1);
      return found[key];
    };
    const ours = new api.RTCPeerConnection();
    try {
      const offer = await next('offer', 'aiortc offer');
      assert.match(offer.sdp, /^m=audio /m);
      assert.match(offer.sdp, /^m=video /m);
      await ours.setRemoteDescription(offer);
      await ours.setLocalDescription();
      await waitUntil(() => ours.iceGatheringState === 'complete', 'our gathering');
      assert.strictEqual((ours.localDescription.sdp.match(/^a=recvonly\r?$/gm) || []).length, 2);
      child.stdin.write(`${JSON.stringify({ answer: ours.localDescription.toJSON() })}\n`);
      await waitUntil(() => ours.connectionState === 'connected', 'we are connected', 20000);
      const inbound = async () => {
        const byKind = {};
        const report = await ours.getStats();
        for (const s of report.values()) {
          if (s.type === 'inbound-rtp' && s.kind) byKind[s.kind] = { ...s, codec: report.get(s.codecId) };
        }
        return byKind;
      };
      await waitUntil(async () => {
        const r = await inbound();
        return r.audio && r.video && r.audio.packetsReceived >= 50 && r.video.framesReceived >= 20;
      }, 'audio packets and VP8 frames from aiortc', 30000);
      child.stdin.write(`${JSON.stringify({ stats: true })}\n`);
      const sent = await next('stats', 'aiortc stats');
      const r = await inbound();
      const transport = [...(await ours.getStats()).values()].find((s) => s.type === 'transport');
      assert.ok(transport.srtpCipher, 'an SRTP profile');
      for (const kind of ['audio', 'video']) {
        assert.ok(sent[kind] > 0, `aiortc sent ${kind}`);
        assert.ok(r[kind].packetsReceived <= sent[kind] + 20, `${kind}: ${r[kind].packetsReceived} vs ${sent[kind]}`);
        assert.ok(r[kind].packetsReceived >= sent[kind] * 0.8 - 20, `${kind}: ${r[kind].packetsReceived} of ${sent[kind]}`);
      }
      assert.strictEqual(r.audio.codec.mimeType, 'audio/opus');
      assert.strictEqual(r.video.codec.mimeType, 'video/VP8');
      assert.ok(r.video.framesAssembledFromMultiplePackets >= 1);
      assert.strictEqual(r.video.framesDropped, 0);
    } finally {
      ours.close();
      child.stdin.end();
      child.kill();
    }
  });
