// The relay in upstream mode in front of Debian's coturn carries a WASM peer's connection:
// the WASM build (js/wasm.js, in Node) opens its WebSocket to our relay, which bridges it
// over TCP to coturn; coturn authenticates the client (our relay has no users at all) and
// owns the allocation (its relayed port range tells), and an addon peer on loopback is the
// far end. Data both ways, 256 KiB, content checked. Fails (does not skip) without
// `turnserver` (Debian package coturn, scripts/setup-tests.sh).
import test from 'node:test';
import assert from 'node:assert';
import net from 'node:net';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
process.env.POLYRTC_INCLUDE_LOOPBACK = '1';
const wasm = await import('../../js/wasm.js');
const native = await import('../../js/node.js');
const { startRelay } = require('../../relay/index.js');

const MIN_PORT = 41000;
const MAX_PORT = 41999;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitTcp(port, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`coturn is not listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function withTimeout(promise, what, ms = 30000) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

test('a WASM peer through the relay bridged to coturn reaches an addon peer', { timeout: 90000 }, async () => {
  const port = await freePort();
  const coturn = spawn('turnserver', ['-n', '--listening-ip=127.0.0.1', `--listening-port=${port}`, '--relay-ip=127.0.0.1',
    '--lt-cred-mech', '--user=wasm:through-coturn', '--realm=coturn.test', '--no-tls', '--no-dtls', '--allow-loopback-peers',
    '--no-cli', '--no-stdout-log', '--log-file=/dev/null', `--min-port=${MIN_PORT}`, `--max-port=${MAX_PORT}`], { stdio: 'ignore' });
  const coturnExit = new Promise((r) => coturn.once('exit', r));
  coturn.once('error', (e) => assert.fail(`turnserver must be installed (apt-get install coturn): ${e.message}`));
  let relay;
  let w;
  let n;
  try {
    await waitTcp(port);
    relay = await startRelay({ host: '127.0.0.1', port: 0, upstream: `turn:127.0.0.1:${port}?transport=tcp` });
    w = new wasm.RTCPeerConnection({ relay: { urls: relay.wsUrl, username: 'wasm', credential: 'through-coturn' } });
    n = new native.RTCPeerConnection();
    const candidates = [];
    const errors = [];
    w.onicecandidateerror = (e) => errors.push(`${e.errorCode} ${e.errorText}`);
    w.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) {
        candidates.push(e.candidate.candidate);
        n.addIceCandidate(e.candidate).catch(() => {});
      }
    };
    n.onicecandidate = (e) => { if (e.candidate) w.addIceCandidate(e.candidate).catch(() => {}); };
    const dc = w.createDataChannel('via-coturn');
    dc.binaryType = 'arraybuffer';
    const remote = new Promise((resolve) => {
      n.ondatachannel = ({ channel }) => {
        channel.binaryType = 'arraybuffer';
        channel.onmessage = ({ data }) => channel.send(typeof data === 'string' ? `echo: ${data}` : data);
        resolve(channel);
      };
    });
    const opened = new Promise((resolve) => dc.addEventListener('open', resolve, { once: true }));
    await w.setLocalDescription();
    await n.setRemoteDescription(w.localDescription);
    await n.setLocalDescription();
    await w.setRemoteDescription(n.localDescription);
    await withTimeout(Promise.all([opened, remote]), 'the channel opens through coturn');
    assert.deepStrictEqual(errors, []);
    assert.strictEqual(candidates.length, 1, candidates.join('\n'));
    const relayedPort = Number(candidates[0].split(' ')[5]);
    assert.match(candidates[0], / typ relay /);
    assert.ok(relayedPort >= MIN_PORT && relayedPort <= MAX_PORT, `coturn's allocation: ${candidates[0]}`);

    const big = new Uint8Array(256 * 1024).map((_, i) => (i * 13 + 5) & 0xff);
    const got = [];
    const two = new Promise((resolve) => {
      dc.onmessage = ({ data }) => {
        got.push(data);
        if (got.length === 2) resolve();
      };
    });
    dc.send('hello through coturn');
    dc.send(big);
    await withTimeout(two, 'both echoes');
    assert.strictEqual(got[0], 'echo: hello through coturn');
    assert.deepStrictEqual(new Uint8Array(got[1]), big);
    const stats = await relay.stats();
    assert.strictEqual(stats.allocationsCreated, 0, 'our relay allocated nothing: coturn did');
    assert.strictEqual(stats.upstreamClients, 1);
  } finally {
    if (w) w.close();
    if (n) n.close();
    if (relay) await relay.close();
    coturn.kill();
    await coturnExit;
  }
});
