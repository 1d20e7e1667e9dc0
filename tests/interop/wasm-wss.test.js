'use strict';
// wss: end to end. The relay gets a certificate (--cert/--key; a test CA and a server
// certificate for 127.0.0.1 made here with the openssl CLI) and prints a wss:// URL; a WASM
// peer in a Node process that trusts that CA (NODE_EXTRA_CA_CERTS) connects to an addon peer
// through it: relayed candidate, text and 256 KiB echoed. A process that does not trust the
// CA gets an icecandidateerror 701 and no candidate (the certificate is really checked).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { startRelay } = require('../../relay/index.js');

const PAIR = path.join(__dirname, 'lib', 'wasm-pair.mjs');

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function certificates() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polyrtc-wss-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-days', '1', '-subj', '/CN=polyrtc test CA', '-keyout', 'ca.key', '-out', 'ca.pem'], dir);
  openssl(['req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', 'key.pem', '-out', 'leaf.csr'], dir);
  fs.writeFileSync(path.join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
    '-extfile', 'leaf.ext', '-out', 'cert.pem'], dir);
  return dir;
}

function runPair(relay, extraEnv) {
  const r = spawnSync(process.execPath, [PAIR, relay.wsUrl, 'alice', 'secret'], {
    env: { ...process.env, ...extraEnv },
    encoding: 'utf8',
    timeout: 45000,
  });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('RESULT '));
  return { status: r.status, stderr: r.stderr, result: line ? JSON.parse(line.slice(7)) : null };
}

test('a WASM peer connects through the relay over wss:, and only when it trusts the certificate', { timeout: 120000 }, async () => {
  const dir = certificates();
  const relay = await startRelay({
    host: '127.0.0.1', port: 0, users: { alice: 'secret' }, allowPrivate: true,
    cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'),
  });
  try {
    assert.match(relay.wsUrl, /^wss:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(relay.turnUrls.some((u) => u.startsWith('turns:')), relay.turnUrls.join(' '));
    const ok = runPair(relay, { NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem') });
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(ok.result.errors, []);
    assert.equal(ok.result.candidates.length, 1);
    assert.match(ok.result.candidates[0], / 127\.0\.0\.1 \d+ typ relay /);
    assert.equal(ok.result.text, 'echo: hello');
    assert.equal(ok.result.bigIdentical, true);
    assert.ok((await relay.stats()).allocationsCreated >= 1);

    // Without the CA the TLS handshake fails: no candidate, an icecandidateerror 701.
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const wasm = await import(${JSON.stringify(path.join(__dirname, '..', '..', 'js', 'wasm.js'))});
      const pc = new wasm.RTCPeerConnection({ relay: { urls: ${JSON.stringify(relay.wsUrl)}, username: 'alice', credential: 'secret' } });
      const cands = [];
      pc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) cands.push(e.candidate.candidate); };
      const err = new Promise((resolve) => { pc.onicecandidateerror = (e) => resolve(e.errorCode); });
      pc.createDataChannel('x');
      await pc.setLocalDescription();
      const code = await Promise.race([err, new Promise((r) => setTimeout(() => r('none'), 15000))]);
      console.log('RESULT ' + JSON.stringify({ code, cands }));
      pc.close();
      setTimeout(() => process.exit(0), 200);
    `], { env, encoding: 'utf8', timeout: 30000 });
    const line = (r.stdout || '').split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, `no result: ${r.stderr}`);
    const refused = JSON.parse(line.slice(7));
    assert.equal(refused.code, 701);
    assert.deepEqual(refused.cands, []);
  } finally {
    await relay.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
