'use strict';
// The flagship: a WASM peer inside a dedicated Web Worker in headless Chromium, where
// RTCPeerConnection does not exist, talks to Chromium's own RTCPeerConnection on the page.
// The worker loads the package's WASM entry (js/wasm.js) with a plain import() by URL from a
// small static HTTP server started here (no bundler); its datagrams go over a WebSocket to
// our TURN relay (relay/), which the page's peer uses as an ordinary TURN server (iceServers
// with its turn: URLs, iceTransportPolicy 'relay'), so all traffic stays on loopback.
// Signaling between worker and page goes over postMessage. Checked: data channel echo both
// ways (text and 256 KiB, byte for byte), an unordered channel, relayed candidates only.
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
  const post = (m) => self.postMessage(m);
  const hadPeerConnection = typeof self.RTCPeerConnection !== 'undefined';
  let api = null;
  let pc = null;
  let chain = Promise.resolve();
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

  self.onmessage = (e) => {
    const m = e.data;
    chain = chain.then(async () => {
      if (m.type === 'start') {
        start(m).catch((err) => post({ type: 'error', message: `${err && err.name}: ${err && err.message}\n${err && err.stack}` }));
      } else if (m.type === 'answer') {
        await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      } else if (m.type === 'candidate' && m.candidate) {
        await pc.addIceCandidate(m.candidate);
      } else if (m.type === 'close') {
        if (pc) pc.close();
      }
    }).catch((err) => post({ type: 'error', message: `${err && err.name}: ${err && err.message}` }));
  };
}

// Runs in the page: Chromium's own peer, TURN through the relay only; echoes the worker's
// channels, and checks its own channel's echo. Resolves with both sides' results.
function pageMain(cfg) {
  return new Promise((resolve, reject) => {
    const worker = new Worker('/worker.js');
    const pc = new RTCPeerConnection({
      iceServers: [{ urls: cfg.turnUrls, username: cfg.username, credential: cfg.credential }],
      iceTransportPolicy: 'relay',
    });
    const pageCandidates = [];
    let chain = Promise.resolve();
    const fail = (err) => {
      clearTimeout(timer);
      worker.terminate();
      pc.close();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) pageCandidates.push(e.candidate.candidate);
      worker.postMessage({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
    };
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
    const page = {};
    const ownChannel = new Promise((done) => {
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
    const timer = setTimeout(() => fail(new Error(`timed out in the page: connectionState ${pc.connectionState}, `
      + `page ${JSON.stringify(page)}, candidates ${JSON.stringify(pageCandidates)}`)), cfg.timeoutMs);
    worker.onerror = (e) => fail(new Error(`worker error: ${e.message}`));
    worker.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'error') {
        fail(new Error(`worker: ${m.message}`));
        return;
      }
      if (m.type === 'result') {
        ownChannel.then(() => {
          const sel = pc.sctp.transport.iceTransport.getSelectedCandidatePair();
          const pair = sel ? sel.local.type : null;
          worker.postMessage({ type: 'close' });
          pc.close();
          clearTimeout(timer);
          setTimeout(() => worker.terminate(), 100);
          resolve({ worker: m.result, page: { ...page, pageCandidates, localType: pair } });
        }, fail);
        return;
      }
      chain = chain.then(async () => {
        if (m.type === 'offer') {
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          await pc.setLocalDescription();
          worker.postMessage({ type: 'answer', sdp: pc.localDescription.sdp });
        } else if (m.type === 'candidate' && m.candidate) {
          await pc.addIceCandidate(m.candidate);
        }
      }).catch(fail);
    };
    worker.postMessage({ type: 'start', entry: cfg.entry, relay: cfg.relay });
  });
}

/** Serves js/ under /js/, the worker at /worker.js and an empty page at /. */
function startServer() {
  const workerSource = `(${workerMain.toString()})();\n`;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': TYPES['.html'] });
      res.end('<!doctype html><title>polyrtc wasm worker</title>');
      return;
    }
    if (url.pathname === '/worker.js') {
      res.writeHead(200, { 'content-type': TYPES['.js'] });
      res.end(workerSource);
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

test('a WASM peer in a dedicated Web Worker <-> Chromium\'s RTCPeerConnection, through the relay',
  { skip, timeout: TIMEOUT }, async () => {
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
      let out;
      const t0 = Date.now();
      try {
        out = await page.evaluate(pageMain, {
          entry: `${origin}/js/wasm.js`,
          relay: { urls: relay.wsUrl, username: 'alice', credential: 'secret' },
          turnUrls: relay.turnUrls.filter((u) => u.endsWith('transport=udp')),
          username: 'alice',
          credential: 'secret',
          timeoutMs: 45000,
        });
      } catch (err) {
        err.message += `\nconsole:\n${consoleLines.join('\n')}`;
        throw err;
      }
      if (process.env.POLYRTC_INTEROP_DEBUG) console.error(`evaluate took ${Date.now() - t0} ms`, consoleLines);
      const { worker, page: pg } = out;
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
    } finally {
      await browser.close();
      await new Promise((r) => server.close(r));
      await relay.close();
    }
  });
