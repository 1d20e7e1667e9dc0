'use strict';
// The WASM build in other runtimes: Deno (npm @deno/linux-x64-glibc) and Bun (npm
// @oven/bun-linux-x64) each run tests/interop/lib/wasm-runtime-peer.mjs, which loads the
// package's WASM entry (js/wasm.js); workerd (npm @cloudflare/workerd-linux-64, Cloudflare's
// Workers runtime) serves tests/interop/lib/wasm-workerd-peer.js, which uses the workerd entry
// (js/workerd.js, the .wasm imported as a module). Each peer answers a Node-addon peer of this
// process through the relay (its only transport: a WebSocket to relay/, the runtime's own
// WebSocket class). Signaling goes over a WebSocket to a small server here (the `ws` package).
// Checked: the runtime's relayed candidate, its hello, text and 256 KiB echoed byte for byte.
// A runtime binary missing from node_modules is a failure (npm ci installs them).
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const net = require('node:net');
const { spawn, execFileSync } = require('node:child_process');
const { WebSocketServer } = require('ws');
const { startRelay } = require('../../relay/index.js');

const ROOT = path.resolve(__dirname, '..', '..');
const PEER = path.join(__dirname, 'lib', 'wasm-runtime-peer.mjs');
const BIG = 256 * 1024;
const TIMEOUT = 90000;

const PEER_WORKERD = path.join(__dirname, 'lib', 'wasm-workerd-peer.js');
const DENO = path.join(ROOT, 'node_modules', '@deno', 'linux-x64-glibc', 'deno');
const BUN = path.join(ROOT, 'node_modules', '@oven', 'bun-linux-x64', 'bin', 'bun');
const WORKERD = path.join(ROOT, 'node_modules', '@cloudflare', 'workerd-linux-64', 'bin', 'workerd');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * workerd: a config (Cap'n Proto text) listing every module of the worker, the package's
 * js/ files by their repo paths (so relative imports resolve) and the .wasm as a Wasm module;
 * outbound network allowed to loopback (the relay, the signaling server).
 */
async function launchWorkerd(sigUrl, logs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polyrtc-workerd-'));
  fs.symlinkSync(ROOT, path.join(dir, 'repo'));
  const rel = path.relative(ROOT, PEER_WORKERD);
  const mods = [[rel, 'esModule']];
  const lib = fs.readdirSync(path.join(ROOT, 'js', 'lib')).filter((n) => n.endsWith('.js')).map((n) => `js/lib/${n}`);
  for (const f of ['js/workerd.js', 'js/engine/wasm.js', 'js/wasm/polyrtc.js', ...lib]) mods.push([f, 'esModule']);
  mods.push(['js/wasm/polyrtc_bg.wasm', 'wasm']);
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = (
      modules = [ ${mods.map(([n, k]) => `(name = "${n}", ${k} = embed "repo/${n}")`).join(', ')} ],
      compatibilityDate = "2025-06-01",
      globalOutbound = "internet",
    )),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
`);
  const child = spawn(WORKERD, ['serve', '--verbose', path.join(dir, 'config.capnp')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => logs.push(String(d)));
  child.stderr.on('data', (d) => logs.push(String(d)));
  child.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  // Listening: then one request runs the peer until the signaling socket closes.
  const end = Date.now() + 20000;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.status === 400, () => false);
    if (up) break;
    if (Date.now() > end || child.exitCode !== null) throw new Error('workerd did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  child.request = fetch(`http://127.0.0.1:${port}/?sig=${encodeURIComponent(sigUrl)}`)
    .then((r) => r.text(), (e) => `request failed: ${e.message}`)
    .then((text) => { logs.push(`workerd: ${text}`); child.kill(); });
  return child;
}

const RUNTIMES = [
  { name: 'deno', bin: DENO, launch: (url) => spawn(DENO, ['run', '--quiet', '--allow-net', '--allow-read', '--allow-env', PEER, url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }) },
  { name: 'bun', bin: BUN, launch: (url) => spawn(BUN, ['run', PEER, url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }) },
  { name: 'workerd', bin: WORKERD, launch: launchWorkerd },
];

process.env.POLYRTC_INCLUDE_LOOPBACK = '1';

function withTimeout(promise, what, ms = 30000) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

function pattern(n, seed) {
  const u8 = new Uint8Array(n);
  for (let i = 0; i < n; i++) u8[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return u8;
}

let relay;
let api;
test.before(async () => {
  execFileSync('cargo', ['build', '-q', '--release', '-p', 'polyrtc-relay', '--bin', 'polyrtc-relay'], { cwd: ROOT, stdio: 'inherit' });
  relay = await startRelay({ host: '127.0.0.1', port: 0, users: { alice: 'secret' }, allowPrivate: true });
  api = await import(path.join(ROOT, 'js', 'node.js'));
});
test.after(async () => {
  if (relay) await relay.close();
});

for (const rt of RUNTIMES) {
  test(`the WASM build in ${rt.name} <-> a Node-addon peer, through the relay`, { timeout: TIMEOUT }, async () => {
    assert.ok(fs.existsSync(rt.bin), `${rt.bin} is missing: npm ci installs it (devDependencies)`);
    assert.ok(fs.existsSync(path.join(ROOT, 'js', 'wasm', 'polyrtc_bg.wasm')), 'run scripts/build-wasm.sh first');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const url = `ws://127.0.0.1:${wss.address().port}`;
    const logs = [];
    const child = await rt.launch(url, logs);
    if (rt.name !== 'workerd') {
      child.stdout.on('data', (d) => logs.push(String(d)));
      child.stderr.on('data', (d) => logs.push(String(d)));
    }
    const exited = new Promise((r) => child.once('exit', r));
    const pc = new api.RTCPeerConnection();
    try {
      const sock = await withTimeout(new Promise((r) => wss.once('connection', r)), `${rt.name} connects for signaling`);
      const send = (m) => sock.send(JSON.stringify(m));
      const remoteCandidates = [];
      let runtime = null;
      let chain = Promise.resolve();
      sock.on('message', (data) => {
        const m = JSON.parse(String(data));
        chain = chain.then(async () => {
          if (m.type === 'answer') {
            runtime = m.runtime;
            await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
          } else if (m.type === 'candidate' && m.candidate) {
            if (m.candidate.candidate) remoteCandidates.push(m.candidate.candidate);
            await pc.addIceCandidate(m.candidate);
          } else if (m.type === 'log') {
            logs.push(m.text);
          }
        }).catch((err) => logs.push(`node: ${err.message}`));
      });
      pc.onicecandidate = (e) => send({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
      const dc = pc.createDataChannel('rt');
      dc.binaryType = 'arraybuffer';
      const inbox = [];
      let wake = null;
      dc.onmessage = (e) => { inbox.push(e.data); if (wake) wake(); };
      const next = async (what) => {
        while (inbox.length === 0) await withTimeout(new Promise((r) => { wake = r; }), what);
        return inbox.shift();
      };
      await pc.setLocalDescription();
      send({ type: 'offer', sdp: pc.localDescription.sdp, relay: { urls: relay.wsUrl, username: 'alice', credential: 'secret' } });
      const hello = await next(`hello from ${rt.name} (${logs.join(' | ')})`);
      assert.match(hello, new RegExp(`^hello from ${rt.name}\\b`));
      assert.match(runtime, new RegExp(`^${rt.name}\\b`));
      assert.ok(remoteCandidates.length >= 1);
      for (const c of remoteCandidates) assert.match(c, / typ relay /);
      dc.send('ping');
      assert.strictEqual(await next('text echo'), 'ping');
      const big = pattern(BIG, 13);
      dc.send(big);
      const echo = await next('256 KiB echo');
      assert.deepStrictEqual(new Uint8Array(echo), big);
      sock.close();
      // Deno and Bun exit on their own (0); workerd's request ends, then the server is stopped.
      const code = await withTimeout(exited, `${rt.name} exits`);
      if (rt.name !== 'workerd') assert.strictEqual(code, 0, logs.join(''));
      else assert.ok(logs.includes('workerd: closed'), logs.join(''));
    } catch (err) {
      err.message += `\n${rt.name} said:\n${logs.join('')}`;
      throw err;
    } finally {
      pc.close();
      child.kill();
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
  });
}
