// The WASM engine (js/wasm.js) in Node, through our TURN relay (relay/, reached over a
// WebSocket), against a peer on the Node addon (js/node.js): the same W3C layer on both
// engines. The WASM peer has no UDP socket: its only candidate is the relayed one.
//
// Needs the relay binary (built here with cargo, a no-op when up to date), the addon
// (napi/polyrtc.node, `node napi/build.js`) and the WASM build (js/wasm/, scripts/build-wasm.sh);
// a missing piece fails the test (none of them is optional).
import test from 'node:test';
import assert from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ROOT = new URL('../../', import.meta.url);
const TIMEOUT = 60000;
const BIG = 256 * 1024;

// The addon peer gathers loopback host candidates (read when each connection is made).
process.env.POLYRTC_INCLUDE_LOOPBACK = '1';

const wasm = await import('../wasm.js');
const native = await import('../node.js');
const Native = native.RTCPeerConnection ? native : native.default;
const { startRelay } = require('../../relay/index.js');

function withTimeout(promise, what, ms = 20000) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

function once(target, type) {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

/** Resolves with the first `n` messages `channel` receives from now on. */
function nextMessages(channel, n) {
  const got = [];
  return new Promise((resolve) => {
    const on = (e) => {
      got.push(e.data);
      if (got.length === n) {
        channel.removeEventListener('message', on);
        resolve(got);
      }
    };
    channel.addEventListener('message', on);
  });
}

function pattern(n, seed) {
  const u8 = new Uint8Array(n);
  for (let i = 0; i < n; i++) u8[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return u8;
}

function gatheringDone(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') resolve();
  }));
}

let relay;
test.before(async () => {
  execFileSync('cargo', ['build', '-q', '--release', '-p', 'polyrtc-relay', '--bin', 'polyrtc-relay'],
    { cwd: ROOT, stdio: 'inherit' });
  relay = await startRelay({ host: '127.0.0.1', port: 0, users: { alice: 'secret' }, allowPrivate: true });
});
test.after(async () => {
  if (relay) await relay.close();
});

test('a WASM peer reaches an addon peer through the relay: relayed candidate, messages both ways, 256 KiB',
  { timeout: TIMEOUT }, async () => {
    const w = new wasm.RTCPeerConnection({ relay: { urls: relay.wsUrl, username: 'alice', credential: 'secret' } });
    const n = new Native.RTCPeerConnection();
    try {
      assert.deepStrictEqual(w.getConfiguration().relay,
        [{ credential: 'secret', urls: [relay.wsUrl], username: 'alice' }]);
      // setConfiguration() reaches the engine (iceTransportPolicy); the relay stays.
      w.setConfiguration({ ...w.getConfiguration(), iceTransportPolicy: 'relay' });
      w.setConfiguration({ iceTransportPolicy: 'relay' });
      assert.strictEqual(w.getConfiguration().relay[0].urls[0], relay.wsUrl);
      assert.throws(() => w.setConfiguration({ iceTransportPolicy: 'relay',
        relay: { urls: 'ws://127.0.0.1:1', username: 'alice', credential: 'secret' } }),
      (e) => e.name === 'InvalidModificationError');
      const wCandidates = [];
      const errors = [];
      w.onicecandidateerror = (e) => errors.push(`${e.errorCode} ${e.errorText}`);
      w.onicecandidate = (e) => {
        if (e.candidate && e.candidate.candidate) {
          wCandidates.push(e.candidate);
          n.addIceCandidate(e.candidate).catch(() => {});
        }
      };
      n.onicecandidate = (e) => { if (e.candidate) w.addIceCandidate(e.candidate).catch(() => {}); };

      const dcW = w.createDataChannel('chat');
      const dcUnordered = w.createDataChannel('loose', { ordered: false });
      const remote = new Map();
      const bothRemote = new Promise((resolve) => {
        n.ondatachannel = (e) => {
          remote.set(e.channel.label, e.channel);
          e.channel.binaryType = 'arraybuffer';
          if (remote.size === 2) resolve();
        };
      });
      dcW.binaryType = 'arraybuffer';
      dcUnordered.binaryType = 'arraybuffer';
      const opened = Promise.all([once(dcW, 'open'), once(dcUnordered, 'open')]);

      await w.setLocalDescription();
      await n.setRemoteDescription(w.localDescription);
      await n.setLocalDescription();
      await w.setRemoteDescription(n.localDescription);
      await withTimeout(opened, 'WASM channels open');
      await withTimeout(bothRemote, 'addon datachannel events');
      const dcN = remote.get('chat');
      if (dcN.readyState !== 'open') await withTimeout(once(dcN, 'open'), 'addon channel open');
      assert.strictEqual(w.connectionState, 'connected');
      assert.strictEqual(n.connectionState, 'connected');
      assert.deepStrictEqual(errors, []);

      // The WASM side's candidates are all relayed ones (it has no other transport).
      assert.ok(wCandidates.length >= 1, 'the WASM peer signaled a candidate');
      for (const c of wCandidates) {
        assert.match(c.candidate, / typ relay /);
        assert.strictEqual(c.type, 'relay');
      }
      const pair = w.sctp.transport.iceTransport.getSelectedCandidatePair();
      assert.ok(pair, 'a selected pair');
      assert.strictEqual(pair.local.type, 'relay');

      // getStats() has the core's figures on the WASM engine too: the relayed pair carries DTLS.
      const stats = await w.getStats();
      const pairs = [...stats.values()].filter((r) => r.type === 'candidate-pair' && r.state === 'succeeded');
      assert.ok(pairs.length >= 1, 'a succeeded candidate pair');
      const local = stats.get(pairs[0].localCandidateId);
      assert.strictEqual(local.candidateType, 'relay');
      const transport = [...stats.values()].find((r) => r.type === 'transport');
      assert.ok(transport.bytesSent > 0 && transport.bytesReceived > 0, JSON.stringify(transport));

      // Text both ways.
      let got = nextMessages(dcN, 2);
      dcW.send('hello from wasm');
      dcW.send('second');
      assert.deepStrictEqual(await withTimeout(got, 'text to addon'), ['hello from wasm', 'second']);
      got = nextMessages(dcW, 1);
      dcN.send('hello from node');
      assert.deepStrictEqual(await withTimeout(got, 'text to wasm'), ['hello from node']);

      // 256 KiB both ways, content checked.
      assert.ok(w.sctp.maxMessageSize >= BIG, `maxMessageSize ${w.sctp.maxMessageSize}`);
      const up = pattern(BIG, 7);
      got = nextMessages(dcN, 1);
      dcW.send(up);
      const [recvUp] = await withTimeout(got, '256 KiB to addon', 30000);
      assert.ok(recvUp instanceof ArrayBuffer);
      assert.deepStrictEqual(new Uint8Array(recvUp), up);
      const down = pattern(BIG, 99);
      got = nextMessages(dcW, 1);
      dcN.send(down);
      const [recvDown] = await withTimeout(got, '256 KiB to wasm', 30000);
      assert.deepStrictEqual(new Uint8Array(recvDown), down);

      // The unordered channel: every message arrives (reliable), in any order.
      const loose = remote.get('loose');
      if (loose.readyState !== 'open') await withTimeout(once(loose, 'open'), 'loose open');
      assert.strictEqual(loose.ordered, false);
      got = nextMessages(loose, 50);
      for (let i = 0; i < 50; i++) dcUnordered.send(`m${i}`);
      const set = (await withTimeout(got, 'unordered messages')).sort();
      assert.deepStrictEqual(set, Array.from({ length: 50 }, (_, i) => `m${i}`).sort());
    } finally {
      w.close();
      n.close();
    }
  });

test('a wrong relay password: icecandidateerror 401 and no candidate', { timeout: TIMEOUT }, async () => {
  const w = new wasm.RTCPeerConnection({ relay: { urls: relay.wsUrl, username: 'alice', credential: 'wrong' } });
  try {
    const candidates = [];
    const errors = [];
    w.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) candidates.push(e.candidate.candidate); };
    const failed = new Promise((resolve) => {
      w.onicecandidateerror = (e) => {
        errors.push(e);
        resolve(e);
      };
    });
    w.createDataChannel('x');
    await w.setLocalDescription();
    const e = await withTimeout(failed, 'icecandidateerror');
    assert.ok(e instanceof wasm.RTCPeerConnectionIceErrorEvent);
    assert.strictEqual(e.errorCode, 401);
    assert.strictEqual(e.url, relay.wsUrl);
    assert.strictEqual(typeof e.errorText, 'string');
    await withTimeout(gatheringDone(w), 'gathering complete');
    assert.deepStrictEqual(candidates, []);
    assert.doesNotMatch(w.localDescription.sdp, /a=candidate:/);
    assert.strictEqual(errors.length, 1);
  } finally {
    w.close();
  }
});

test('relay configuration is validated like iceServers', () => {
  const bad = (relayValue, name) => assert.throws(() => new wasm.RTCPeerConnection({ relay: relayValue }),
    (e) => e.name === name, `${JSON.stringify(relayValue)} -> ${name}`);
  bad({ urls: 'http://127.0.0.1:1', username: 'a', credential: 'b' }, 'SyntaxError');
  bad({ urls: 'not a url', username: 'a', credential: 'b' }, 'SyntaxError');
  bad({ urls: [], username: 'a', credential: 'b' }, 'SyntaxError');
  bad({ urls: 'ws://127.0.0.1:1' }, 'InvalidAccessError');
  bad({ urls: 'ws://127.0.0.1:1', username: 'a' }, 'InvalidAccessError');
  bad({ username: 'a', credential: 'b' }, 'TypeError');
  // A list, and both schemes; getConfiguration() gives the normalized list.
  const pc = new wasm.RTCPeerConnection({ relay: [
    { urls: 'ws://127.0.0.1:9', username: 'a', credential: 'b' },
    { urls: ['wss://127.0.0.1:9/x'], username: 'c', credential: 'd' },
  ] });
  pc.onicecandidateerror = () => {};
  try {
    assert.deepStrictEqual(pc.getConfiguration().relay, [
      { credential: 'b', urls: ['ws://127.0.0.1:9'], username: 'a' },
      { credential: 'd', urls: ['wss://127.0.0.1:9/x'], username: 'c' },
    ]);
  } finally {
    pc.close();
  }
  // Without `relay`, getConfiguration() has no such member (as in a browser).
  const plain = new Native.RTCPeerConnection();
  assert.strictEqual('relay' in plain.getConfiguration(), false);
  plain.close();
});

/** A loopback TCP port nothing listens on (a WebSocket to it fails to connect). */
async function closedPort() {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

test('an unreachable relay: icecandidateerror 701, and gathering completes without waiting', { timeout: TIMEOUT }, async () => {
  const url = `ws://127.0.0.1:${await closedPort()}`;
  const w = new wasm.RTCPeerConnection({ relay: { urls: url, username: 'alice', credential: 'secret' } });
  try {
    const failed = new Promise((resolve) => { w.onicecandidateerror = resolve; });
    w.createDataChannel('x');
    await w.setLocalDescription();
    const e = await withTimeout(failed, 'icecandidateerror');
    assert.strictEqual(e.errorCode, 701);
    assert.strictEqual(e.url, url);
    // The core was told at once: gathering does not wait for the TURN client's timeouts.
    await withTimeout(gatheringDone(w), 'gathering complete', 3000);
  } finally {
    w.close();
  }
});

test('a relay with two URLs: the first unreachable, the second carries the connection', { timeout: TIMEOUT }, async () => {
  const dead = `ws://127.0.0.1:${await closedPort()}`;
  const w = new wasm.RTCPeerConnection({ relay: { urls: [dead, relay.wsUrl], username: 'alice', credential: 'secret' } });
  const n = new Native.RTCPeerConnection();
  try {
    const errors = [];
    w.onicecandidateerror = (e) => errors.push([e.url, e.errorCode]);
    w.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) n.addIceCandidate(e.candidate).catch(() => {}); };
    n.onicecandidate = (e) => { if (e.candidate) w.addIceCandidate(e.candidate).catch(() => {}); };
    const dc = w.createDataChannel('fallback');
    const remote = new Promise((resolve) => { n.ondatachannel = (e) => resolve(e.channel); });
    await w.setLocalDescription();
    await withTimeout(gatheringDone(w), 'gathering complete');
    assert.match(w.localDescription.sdp, / typ relay /, 'the relayed candidate comes from the second URL');
    await n.setRemoteDescription(w.localDescription);
    await n.setLocalDescription();
    await w.setRemoteDescription(n.localDescription);
    await withTimeout(once(dc, 'open'), 'channel open');
    const dcN = await withTimeout(remote, 'datachannel');
    const got = nextMessages(dcN, 1);
    dc.send('through the second URL');
    assert.deepStrictEqual(await withTimeout(got, 'message'), ['through the second URL']);
    assert.deepStrictEqual(errors, [[dead, 701]]);
    // The candidate's url in getStats() is the URL the allocation was made on.
    const stats = await w.getStats();
    const local = [...stats.values()].filter((r) => r.type === 'local-candidate');
    assert.ok(local.length >= 1);
    for (const c of local) assert.strictEqual(c.url, relay.wsUrl);
  } finally {
    w.close();
    n.close();
  }
});

test('two WASM peers through the relay (relay to relay), and close() reaches the other side',
  { timeout: TIMEOUT }, async () => {
    const cfg = { relay: { urls: relay.wsUrl, username: 'alice', credential: 'secret' } };
    const a = new wasm.RTCPeerConnection(cfg);
    const b = new wasm.RTCPeerConnection(cfg);
    try {
      a.onicecandidate = (e) => { if (e.candidate) b.addIceCandidate(e.candidate).catch(() => {}); };
      b.onicecandidate = (e) => { if (e.candidate) a.addIceCandidate(e.candidate).catch(() => {}); };
      const dcA = a.createDataChannel('pair');
      const remote = new Promise((resolve) => { b.ondatachannel = (e) => resolve(e.channel); });
      await a.setLocalDescription();
      await b.setRemoteDescription(a.localDescription);
      await b.setLocalDescription();
      await a.setRemoteDescription(b.localDescription);
      await withTimeout(once(dcA, 'open'), 'open');
      const dcB = await withTimeout(remote, 'datachannel');
      if (dcB.readyState !== 'open') await withTimeout(once(dcB, 'open'), 'remote open');
      assert.strictEqual(a.sctp.transport.iceTransport.getSelectedCandidatePair().remote.type, 'relay');
      dcB.binaryType = 'arraybuffer';
      const big = pattern(BIG, 5);
      const got = nextMessages(dcB, 2);
      dcA.send('x');
      dcA.send(big);
      const [text, bin] = await withTimeout(got, 'messages', 30000);
      assert.strictEqual(text, 'x');
      assert.deepStrictEqual(new Uint8Array(bin), big);
      // a closes the connection: b's channel ends (the SCTP ABORT crosses the relay).
      const ended = once(dcB, 'close');
      a.close();
      await withTimeout(ended, 'the remote channel closes');
      assert.strictEqual(dcB.readyState, 'closed');
    } finally {
      a.close();
      b.close();
    }
  });

test('after close() a WASM peer leaves nothing running: the process exits on its own', { timeout: TIMEOUT }, async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/wasm-close-exit.mjs', import.meta.url)), relay.wsUrl],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => { out += d; });
  const started = Date.now();
  const code = await withTimeout(new Promise((resolve) => child.once('exit', resolve)), 'the child exits', 20000)
    .finally(() => child.kill());
  assert.strictEqual(code, 0);
  assert.match(out, / typ relay raddr /);
  assert.ok(Date.now() - started < 15000);
});

/** A VP8 frame: the low bit of the first byte clear marks a key frame (RFC 6386 §9.1). */
function vp8Frame(key, n, seed) {
  const f = pattern(n, seed);
  f[0] = key ? 0x10 : 0x11;
  return f;
}

test('media through the relay: a WASM peer and an addon peer exchange VP8 and Opus frames (media only, no data channel)',
  { timeout: TIMEOUT }, async () => {
    const w = new wasm.RTCPeerConnection({ relay: { urls: relay.wsUrl, username: 'alice', credential: 'secret' } });
    const n = new Native.RTCPeerConnection();
    try {
      w.onicecandidate = (e) => { if (e.candidate) n.addIceCandidate(e.candidate).catch(() => {}); };
      n.onicecandidate = (e) => { if (e.candidate) w.addIceCandidate(e.candidate).catch(() => {}); };
      const video = new wasm.EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
      const audio = new native.EncodedMediaSource({ kind: 'audio', mimeType: 'audio/opus' });
      w.addTrack(video.track);
      const fromAddon = n.addTrack(audio.track);
      assert.ok(fromAddon);
      const tracksAtAddon = [];
      const tracksAtWasm = [];
      n.ontrack = (e) => tracksAtAddon.push(e);
      w.ontrack = (e) => tracksAtWasm.push(e);
      await w.setLocalDescription();
      assert.doesNotMatch(w.localDescription.sdp, /m=application/);
      await n.setRemoteDescription(w.localDescription);
      await n.setLocalDescription();
      await w.setRemoteDescription(n.localDescription);
      assert.deepStrictEqual(tracksAtAddon.map((e) => e.track.kind), ['video']);
      await withTimeout(new Promise((resolve) => {
        const check = () => (w.connectionState === 'connected' && n.connectionState === 'connected' ? resolve() : null);
        w.addEventListener('connectionstatechange', check);
        n.addEventListener('connectionstatechange', check);
        check();
      }), 'both connected');
      // The WASM offer had no audio section: the addon's addTrack transceiver is not in the
      // session yet (creation order: audio, then the video one the offer created).
      assert.deepStrictEqual(n.getTransceivers().map((t) => [t.receiver.track.kind, t.currentDirection]),
        [['audio', null], ['video', 'recvonly']]);
      const videoSink = new native.EncodedMediaSink(tracksAtAddon[0].track);
      const got = [];
      videoSink.addEventListener('frame', (e) => got.push({ type: e.frameType, data: new Uint8Array(e.data) }));
      const sent = [];
      for (let i = 0; i < 20; i++) {
        const f = vp8Frame(i === 0, 1500 + 700 * i, i);
        sent.push(f);
        video.writeFrame({ type: i === 0 ? 'key' : 'delta', timestamp: i * 33333, data: f });
        await new Promise((r) => setTimeout(r, 10));
      }
      await withTimeout(new Promise((resolve) => {
        const t = setInterval(() => { if (got.length >= 20) { clearInterval(t); resolve(); } }, 20);
      }), 'the addon got the 20 frames through the relay');
      assert.strictEqual(got[0].type, 'key');
      assert.deepStrictEqual(got.map((g) => [...g.data]), sent.map((f) => [...f]), 'the frames, whole and in order');
      const pair = w.getTransceivers()[0].sender.transport.iceTransport.getSelectedCandidatePair();
      assert.strictEqual(pair.local.type, 'relay', 'media went through the relay');

      // Renegotiation from the addon adds its audio: the WASM side gets a track and frames.
      await n.setLocalDescription();
      assert.match(n.localDescription.sdp, /^m=audio /m);
      await w.setRemoteDescription(n.localDescription);
      await w.setLocalDescription();
      await n.setRemoteDescription(w.localDescription);
      assert.deepStrictEqual(tracksAtWasm.map((e) => e.track.kind), ['audio']);
      assert.deepStrictEqual(n.getTransceivers().map((t) => t.currentDirection), ['sendonly', 'recvonly']);
      const audioSink = new wasm.EncodedMediaSink(tracksAtWasm[0].track);
      const heard = [];
      audioSink.addEventListener('frame', (e) => heard.push(e.timestamp));
      const silence = new Uint8Array([0xf8, 0xff, 0xfe]);
      for (let i = 0; i < 10; i++) {
        audio.writeFrame({ type: 'key', timestamp: i * 20000, data: silence });
        await new Promise((r) => setTimeout(r, 5));
      }
      await withTimeout(new Promise((resolve) => {
        const t = setInterval(() => { if (heard.length >= 10) { clearInterval(t); resolve(); } }, 20);
      }), 'the WASM peer got the 10 Opus frames');
      assert.deepStrictEqual(heard.map((t) => t - heard[0]), [...Array(10).keys()].map((i) => i * 20000), 'µs timestamps');
    } finally {
      w.close();
      n.close();
    }
  });

test('getUserMedia() in the WASM build: the VP8 test pattern and the Opus tone as encoded frames',
  { timeout: TIMEOUT }, async () => {
    const stream = await wasm.mediaDevices.getUserMedia({ video: { width: 320, height: 240, frameRate: 30 }, audio: true });
    try {
      const [audioTrack] = stream.getAudioTracks();
      const [videoTrack] = stream.getVideoTracks();
      const frames = { audio: [], video: [] };
      for (const t of [audioTrack, videoTrack]) {
        const sink = new wasm.EncodedMediaSink(t);
        sink.onframe = ({ frame }) => frames[t.kind].push(frame);
      }
      await withTimeout(new Promise((resolve) => {
        const t = setInterval(() => {
          if (frames.video.length >= 5 && frames.audio.length >= 10) { clearInterval(t); resolve(); }
        }, 20);
      }), 'frames from the synthetic devices');
      const v = frames.video;
      assert.strictEqual(v[0].type, 'key');
      assert.ok(v.slice(1).every((f) => f.type === 'delta'), 'inter frames after the key frame');
      // RFC 6386 §9.1: key frame tag (bit 0 clear), start code, 320x240.
      const k = v[0].data;
      assert.deepStrictEqual([k[0] & 1, k[3], k[4], k[5]], [0, 0x9d, 0x01, 0x2a]);
      assert.strictEqual(k[6] | (k[7] << 8), 320);
      assert.strictEqual(k[8] | (k[9] << 8), 240);
      assert.ok(v[1].timestamp > v[0].timestamp);
      // RFC 6716 §3.1: 20 ms CELT frames.
      assert.ok(frames.audio.every((f) => f.data.length > 1 && (f.data[0] >> 3) === 31));
    } finally {
      for (const t of stream.getTracks()) t.stop();
    }
  });
