'use strict';
// The flagship: a WASM peer inside a dedicated Web Worker in headless Chromium, where
// RTCPeerConnection does not exist, talks to Chromium's own RTCPeerConnection on the page.
// The worker loads the package's WASM entry (js/wasm.js) with a plain import() by URL from a
// small static HTTP server started here (no bundler); its datagrams go over a WebSocket to
// our TURN relay (relay/), which the page's peer uses as an ordinary TURN server (iceServers
// with its turn: URLs, iceTransportPolicy 'relay'), so all traffic stays on loopback.
// Signaling between worker and page goes over postMessage. Checked: data channel echo both
// ways (text and 256 KiB, byte for byte), an unordered channel, relayed candidates only.
// A second test makes the same call with media: the worker's getUserMedia() tracks (the WASM
// engine's synthetic VP8 camera and Opus tone) decoded by the page, and the page's canvas
// track arriving in the worker as encoded frames (a key frame first).
//
// Needs /usr/bin/chromium (skips, loudly, only when it is absent), the relay binary (built
// here with cargo) and the WASM build (js/wasm/, scripts/build-wasm.sh; missing = failure).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { chromiumAvailable, launchChromium, CHROMIUM_PATH } = require('./lib/chromium');
const { startRelay } = require('../../relay/index.js');

const ROOT = path.resolve(__dirname, '..', '..');
const JS_DIR = path.join(ROOT, 'js');
const available = chromiumAvailable();
const skip = available ? false : `${CHROMIUM_PATH} not found`;
const TIMEOUT = 90000;
const BIG = 256 * 1024;

const TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

// Runs in the worker (served as /worker.js, a classic worker: import() by URL, no bundler).
function workerMain() {
  const post = self.__post;
  const hadPeerConnection = typeof self.RTCPeerConnection !== 'undefined';
  let api = null;
  let pc = null;
  const pattern = (n, seed) => {
    const u8 = new Uint8Array(n);
    for (let i = 0; i < n; i++) u8[i] = (i * 31 + seed + (i >> 8)) & 0xff;
    return u8;
  };
  const same = (a, b) => {
    const x = new Uint8Array(a);
    const y = new Uint8Array(b);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  };
  const nextMessages = (dc, n) => new Promise((resolve) => {
    const got = [];
    const on = (e) => {
      got.push(e.data);
      if (got.length === n) {
        dc.removeEventListener('message', on);
        resolve(got);
      }
    };
    dc.addEventListener('message', on);
  });
  const opened = (dc) => (dc.readyState === 'open' ? Promise.resolve()
    : new Promise((resolve) => dc.addEventListener('open', resolve, { once: true })));

  async function start(cfg) {
    api = await import(cfg.entry);
    pc = new api.RTCPeerConnection({ relay: cfg.relay });
    self.__pc = pc;
    const candidates = [];
    const errors = [];
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) candidates.push(e.candidate.candidate);
      post({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
    };
    pc.onicecandidateerror = (e) => errors.push(`${e.errorCode} ${e.errorText}`);
    // The page's channel ('p2w'): everything is echoed back.
    const echoed = new Promise((resolve) => {
      pc.ondatachannel = (e) => {
        const dc = e.channel;
        dc.binaryType = 'arraybuffer';
        let n = 0;
        dc.onmessage = (m) => {
          dc.send(m.data);
          n += 1;
          if (n === 2) resolve(dc.label);
        };
      };
    });
    const w2p = pc.createDataChannel('w2p');
    const loose = pc.createDataChannel('loose', { ordered: false });
    w2p.binaryType = 'arraybuffer';
    loose.binaryType = 'arraybuffer';
    await pc.setLocalDescription();
    post({ type: 'offer', sdp: pc.localDescription.sdp });
    await opened(w2p);
    await opened(loose);

    const result = { hadPeerConnection, candidates, errors };
    let got = nextMessages(w2p, 1);
    w2p.send('hello from the worker');
    result.text = (await got)[0];
    const big = pattern(256 * 1024, 3);
    got = nextMessages(w2p, 1);
    w2p.send(big);
    const [echo] = await got;
    result.bigLength = echo.byteLength;
    result.bigSame = same(echo, big);
    got = nextMessages(loose, 40);
    for (let i = 0; i < 40; i++) loose.send(`u${i}`);
    result.unordered = (await got).sort();
    result.looseOrdered = loose.ordered;
    result.echoedFor = await echoed;
    const pair = pc.sctp.transport.iceTransport.getSelectedCandidatePair();
    result.localType = pair && pair.local.type;
    result.connectionState = pc.connectionState;
    post({ type: 'result', result });
  }
  self.__serve(start);
}

// Runs first in each worker: the signaling loop both share. `__serve(start)`: a 'start'
// message runs `start(cfg)` (which sets `self.__pc` as soon as its peer exists); answers
// and candidates from the page go to that peer, in order; 'close' closes it; failures go
// back as 'error' messages.
function workerKit() {
  const post = (m) => self.postMessage(m);
  const describe = (err) => `${err && err.name}: ${err && err.message}`;
  let chain = Promise.resolve();
  self.__post = post;
  self.__serve = (start) => {
    self.onmessage = (e) => {
      const m = e.data;
      chain = chain.then(async () => {
        const pc = self.__pc;
        if (m.type === 'start') {
          start(m).catch((err) => post({ type: 'error', message: `${describe(err)}\n${err && err.stack}` }));
        } else if (m.type === 'answer') {
          await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        } else if (m.type === 'candidate' && m.candidate) {
          await pc.addIceCandidate(m.candidate);
        } else if (m.type === 'close') {
          if (pc) pc.close();
        }
      }).catch((err) => post({ type: 'error', message: describe(err) }));
    };
  };
}

// Runs in the page first: `__link(cfg, url, hooks)` starts the worker at `url` and makes
// Chromium's own peer (TURN through the relay only), wired to the worker: candidates both
// ways, the worker's offer answered (`hooks.beforeAnswer()` may add tracks first,
// `hooks.answered()` runs after), its 'result' to `hooks.result(r)`, its errors and a
// timeout (`hooks.diagnose()` says what was seen) to `hooks.fail`. Gives { pc, worker,
// candidates (the page's own), done() (closes both) }.
function pageLink() {
  window.__link = (cfg, url, hooks) => {
    const worker = new Worker(url);
    const pc = new RTCPeerConnection({
      iceServers: [{ urls: cfg.turnUrls, username: cfg.username, credential: cfg.credential }],
      iceTransportPolicy: 'relay',
    });
    const candidates = [];
    let chain = Promise.resolve();
    let timer = null;
    const stop = () => {
      clearTimeout(timer);
      worker.terminate();
      pc.close();
    };
    const fail = (err) => {
      stop();
      hooks.fail(err instanceof Error ? err : new Error(String(err)));
    };
    timer = setTimeout(async () => fail(new Error(`timed out in the page: ${pc.connectionState}, ${await hooks.diagnose()}`)), cfg.timeoutMs);
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) candidates.push(e.candidate.candidate);
      worker.postMessage({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
    };
    worker.onerror = (e) => fail(new Error(`worker error: ${e.message}`));
    worker.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'error') {
        fail(new Error(`worker: ${m.message}`));
        return;
      }
      if (m.type === 'result') {
        hooks.result(m.result);
        return;
      }
      chain = chain.then(async () => {
        if (m.type === 'offer') {
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          if (hooks.beforeAnswer) hooks.beforeAnswer();
          await pc.setLocalDescription();
          worker.postMessage({ type: 'answer', sdp: pc.localDescription.sdp });
          if (hooks.answered) hooks.answered();
        } else if (m.type === 'candidate' && m.candidate) {
          await pc.addIceCandidate(m.candidate);
        }
      }).catch(fail);
    };
    worker.postMessage({ type: 'start', entry: cfg.entry, relay: cfg.relay });
    const done = () => {
      clearTimeout(timer);
      worker.postMessage({ type: 'close' });
      pc.close();
      setTimeout(() => worker.terminate(), 100);
    };
    return { pc, worker, candidates, done };
  };
}

// Runs in the page: echoes the worker's channels, and checks its own channel's echo.
// Resolves with both sides' results.
function pageMain(cfg) {
  return new Promise((resolve, reject) => {
    const page = {};
    let ownChannel = null;
    const link = window.__link(cfg, '/worker.js', {
      fail: reject,
      diagnose: () => `page ${JSON.stringify(page)}, candidates ${JSON.stringify(link.candidates)}`,
      result: (result) => {
        ownChannel.then(() => {
          const sel = link.pc.sctp.transport.iceTransport.getSelectedCandidatePair();
          const pair = sel ? sel.local.type : null;
          link.done();
          resolve({ worker: result, page: { ...page, pageCandidates: link.candidates, localType: pair } });
        }, reject);
      },
    });
    const { pc } = link;
    const pattern = (n, seed) => {
      const u8 = new Uint8Array(n);
      for (let i = 0; i < n; i++) u8[i] = (i * 31 + seed + (i >> 8)) & 0xff;
      return u8;
    };
    const same = (a, b) => {
      const x = new Uint8Array(a);
      const y = new Uint8Array(b);
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
      return true;
    };
    pc.ondatachannel = (e) => {
      const dc = e.channel;
      dc.binaryType = 'arraybuffer';
      dc.onmessage = (m) => dc.send(m.data);
    };
    ownChannel = new Promise((done) => {
      pc.onconnectionstatechange = () => {
        if (pc.connectionState !== 'connected' || page.started) return;
        page.started = true;
        const dc = pc.createDataChannel('p2w');
        dc.binaryType = 'arraybuffer';
        const big = pattern(256 * 1024, 11);
        const replies = [];
        dc.onmessage = (m) => {
          replies.push(m.data);
          if (replies.length === 2) {
            page.text = replies[0];
            page.bigLength = replies[1].byteLength;
            page.bigSame = same(replies[1], big);
            done();
          }
        };
        dc.onopen = () => {
          dc.send('hello from the page');
          dc.send(big);
        };
      };
    });
  });
}

// Media, in the worker: getUserMedia() (the synthetic camera and microphone of the WASM
// engine) sent to the page, and the page's canvas track received as encoded frames.
function mediaWorkerMain() {
  const post = self.__post;
  async function start(cfg) {
    const api = await import(cfg.entry);
    const pc = new api.RTCPeerConnection({ relay: cfg.relay });
    self.__pc = pc;
    pc.onicecandidate = (e) => post({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
    const stream = await api.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
    for (const t of stream.getTracks()) pc.addTrack(t, stream);
    const frames = [];
    pc.ontrack = (e) => {
      if (e.track.kind !== 'video') return;
      new api.EncodedMediaSink(e.track).onframe = (f) => {
        frames.push(f.frame.type);
        if (frames.length === 10) {
          post({ type: 'result', result: { frames, mimeType: f.mimeType, connectionState: pc.connectionState } });
        }
      };
    };
    await pc.setLocalDescription();
    post({ type: 'offer', sdp: pc.localDescription.sdp });
  }
  self.__serve(start);
}

// Media, in the page: answers the worker's offer with a canvas video track of its own (on
// the offered video m-line); resolves once it decoded the worker's video and audio and the
// worker got its frames.
function mediaPageMain(cfg) {
  return new Promise((resolve, reject) => {
    let workerResult = null;
    const inbound = async () => {
      const out = {};
      for (const s of (await link.pc.getStats()).values()) if (s.type === 'inbound-rtp') out[s.kind] = s;
      return out;
    };
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 120;
    const ctx = canvas.getContext('2d');
    let f = 0;
    setInterval(() => {
      f += 1;
      ctx.fillStyle = `hsl(${(f * 9) % 360}, 80%, 50%)`;
      ctx.fillRect(0, 0, 160, 120);
    }, 33);
    const ownVideo = canvas.captureStream(30).getVideoTracks()[0];
    const finish = async () => {
      const s = await inbound();
      if (!workerResult || !s.video || s.video.framesDecoded < 30 || !s.audio || !(s.audio.totalSamplesReceived > 4800)) {
        setTimeout(finish, 200);
        return;
      }
      const report = [...(await link.pc.getStats()).values()];
      const transport = report.find((x) => x.type === 'transport');
      const pair = report.find((x) => x.id === transport.selectedCandidatePairId);
      const local = pair && report.find((x) => x.id === pair.localCandidateId);
      link.done();
      resolve({
        worker: workerResult,
        video: { framesDecoded: s.video.framesDecoded, frameWidth: s.video.frameWidth, frameHeight: s.video.frameHeight },
        audio: { totalSamplesReceived: s.audio.totalSamplesReceived },
        localType: local ? local.candidateType : null,
      });
    };
    const link = window.__link(cfg, '/media-worker.js', {
      fail: reject,
      diagnose: async () => `worker ${JSON.stringify(workerResult)}, inbound ${JSON.stringify(await inbound())}`,
      result: (r) => { workerResult = r; },
      beforeAnswer: () => link.pc.addTrack(ownVideo, new MediaStream([ownVideo])),
      answered: () => finish(),
    });
    link.pc.ontrack = (e) => {
      // Played (muted) so the audio is decoded.
      const el = document.createElement(e.track.kind);
      el.muted = true;
      el.srcObject = new MediaStream([e.track]);
      document.body.appendChild(el);
      el.play().catch(() => {});
    };
  });
}

/** Serves js/ under /js/, the workers at /worker.js and /media-worker.js, an empty page at /. */
function startServer() {
  const kit = `(${workerKit.toString()})();\n`;
  const workerSource = `${kit}(${workerMain.toString()})();\n`;
  const mediaWorkerSource = `${kit}(${mediaWorkerMain.toString()})();\n`;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': TYPES['.html'] });
      res.end('<!doctype html><title>polyrtc wasm worker</title>');
      return;
    }
    if (url.pathname === '/worker.js' || url.pathname === '/media-worker.js') {
      res.writeHead(200, { 'content-type': TYPES['.js'] });
      res.end(url.pathname === '/worker.js' ? workerSource : mediaWorkerSource);
      return;
    }
    const rel = decodeURIComponent(url.pathname);
    const file = path.resolve(ROOT, `.${rel}`);
    if (!rel.startsWith('/js/') || !file.startsWith(JS_DIR + path.sep)) {
      res.writeHead(404);
      res.end();
      return;
    }
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * The harness both tests share: the relay, the file server and Chromium started, `main` run
 * in a fresh page (after pageLink) with the relay's URLs and credentials; gives what `main`
 * resolved with (its error carries the page's console). Everything is closed after.
 */
async function runInPage(main, timeoutMs) {
  assert.ok(fs.existsSync(path.join(JS_DIR, 'wasm', 'polyrtc_bg.wasm')),
    'js/wasm/polyrtc_bg.wasm is missing: run scripts/build-wasm.sh');
  execFileSync('cargo', ['build', '-q', '--release', '-p', 'polyrtc-relay', '--bin', 'polyrtc-relay'],
    { cwd: ROOT, stdio: 'inherit' });
  const relay = await startRelay({ host: '127.0.0.1', port: 0, users: { alice: 'secret' }, allowPrivate: true });
  const server = await startServer();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const consoleLines = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    await page.goto(`${origin}/`);
    await page.evaluate(pageLink);
    const t0 = Date.now();
    try {
      return await page.evaluate(main, {
        entry: `${origin}/js/wasm.js`,
        relay: { urls: relay.wsUrl, username: 'alice', credential: 'secret' },
        turnUrls: relay.turnUrls.filter((u) => u.endsWith('transport=udp')),
        username: 'alice',
        credential: 'secret',
        timeoutMs,
      });
    } catch (err) {
      err.message += `\nconsole:\n${consoleLines.join('\n')}`;
      throw err;
    } finally {
      if (process.env.POLYRTC_INTEROP_DEBUG) console.error(`evaluate took ${Date.now() - t0} ms`, consoleLines);
    }
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
    await relay.close();
  }
}

test('a WASM peer in a dedicated Web Worker <-> Chromium\'s RTCPeerConnection, through the relay',
  { skip, timeout: TIMEOUT }, async () => {
    const { worker, page: pg } = await runInPage(pageMain, 45000);
    assert.strictEqual(worker.hadPeerConnection, false, 'a worker has no RTCPeerConnection of its own');
    assert.strictEqual(worker.connectionState, 'connected');
    assert.deepStrictEqual(worker.errors, []);
    assert.ok(worker.candidates.length >= 1);
    for (const c of worker.candidates) assert.match(c, / typ relay /);
    assert.strictEqual(worker.localType, 'relay');
    assert.ok(pg.pageCandidates.length >= 1);
    for (const c of pg.pageCandidates) assert.match(c, / typ relay /);
    assert.strictEqual(pg.localType, 'relay');
    // Worker -> page -> worker.
    assert.strictEqual(worker.text, 'hello from the worker');
    assert.strictEqual(worker.bigLength, BIG);
    assert.strictEqual(worker.bigSame, true);
    assert.strictEqual(worker.looseOrdered, false);
    assert.deepStrictEqual(worker.unordered, Array.from({ length: 40 }, (_, i) => `u${i}`).sort());
    // Page -> worker -> page.
    assert.strictEqual(worker.echoedFor, 'p2w');
    assert.strictEqual(pg.text, 'hello from the page');
    assert.strictEqual(pg.bigLength, BIG);
    assert.strictEqual(pg.bigSame, true);
  });

test('media from a WASM peer in a Web Worker through the relay: Chromium decodes its getUserMedia() video and audio, the worker gets Chromium\'s frames',
  { skip, timeout: TIMEOUT }, async () => {
    const out = await runInPage(mediaPageMain, 60000);
    assert.strictEqual(out.localType, 'relay');
    assert.ok(out.video.framesDecoded >= 30, JSON.stringify(out));
    assert.deepStrictEqual([out.video.frameWidth, out.video.frameHeight], [320, 240]);
    assert.ok(out.audio.totalSamplesReceived > 4800, JSON.stringify(out));
    assert.strictEqual(out.worker.frames.length, 10);
    assert.strictEqual(out.worker.frames[0], 'key', 'the first frame the worker gets is a key frame');
    assert.strictEqual(out.worker.mimeType.toLowerCase(), 'video/vp8');
  });
