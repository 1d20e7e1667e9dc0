'use strict';
// TURN from Node (RFC 8656 over UDP and TCP): the addon allocates on Debian's coturn `turnserver`
// (started here on loopback, long-term credentials) for `turn:` URLs in iceServers, and with
// iceTransportPolicy 'relay' a connection goes through the relayed candidate only. Wrong
// credentials give icecandidateerror (401) with the spec's fields, an unreachable server 701. Fails (does not skip) if
// the addon or turnserver is missing (scripts/setup-tests.sh installs coturn).
const test = require('node:test');
const assert = require('node:assert');
const dgram = require('node:dgram');
const net = require('node:net');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { loadApi, withTimeout, until, negotiate, messages, freePort } = require('./real-helpers');

const api = loadApi();
const TIMEOUT = 30000;

/**
 * coturn on 127.0.0.1 with user alice:secret; resolves once it answers a STUN binding (over
 * UDP; with `tcpOnly`, coturn's UDP listener is off and readiness is a TCP connect).
 */
async function startCoturn({ tcpOnly = false, ipv6Loopback = false, tls = null } = {}) {
  const port = await freePort();
  const tlsPort = tls ? await freePort() : null;
  const tlsArgs = tls ? [`--tls-listening-port=${tlsPort}`, `--cert=${tls.cert}`, `--pkey=${tls.key}`] : ['--no-tls'];
  const proc = spawn('turnserver', [
    '-n', '--listening-ip=127.0.0.1', ...(ipv6Loopback ? ['--listening-ip=::1'] : []), `--listening-port=${port}`, '--relay-ip=127.0.0.1',
    '--lt-cred-mech', '--user=alice:secret', '--realm=polyrtc', ...tlsArgs, '--no-dtls',
    '--allow-loopback-peers', '--no-cli', '--no-stdout-log', '--log-file=/dev/null',
    '--min-port=49152', '--max-port=65535', ...(tcpOnly ? ['--no-udp'] : []),
  ], { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill();
    await exited;
  };
  if (tcpOnly) {
    for (let i = 0; i < 100 && proc.exitCode === null; i += 1) {
      const ok = await new Promise((resolve) => {
        const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
        c.on('error', () => resolve(false));
      });
      if (ok) return { port, stop };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await stop();
    throw new Error(`turnserver did not start (exit ${proc.exitCode})`);
  }
  // A STUN Binding request (RFC 8489 §5): answered once the server listens.
  const probe = dgram.createSocket('udp4');
  const req = Buffer.alloc(20);
  req.writeUInt16BE(0x0001, 0);
  req.writeUInt32BE(0x2112a442, 4);
  let up = false;
  probe.on('message', () => { up = true; });
  await new Promise((resolve) => probe.bind(0, '127.0.0.1', resolve));
  for (let i = 0; i < 100 && !up && proc.exitCode === null; i += 1) {
    probe.send(req, port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  probe.close();
  if (!up) {
    proc.kill();
    throw new Error(`turnserver did not start (exit ${proc.exitCode})`);
  }
  return {
    port,
    tlsPort,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill();
      await exited;
    },
  };
}

test('iceServers turn: over UDP with iceTransportPolicy relay: relayed candidates only, data flows through coturn', { timeout: TIMEOUT }, async () => {
  const coturn = await startCoturn();
  const relayed = new api.RTCPeerConnection({
    iceServers: [{ urls: `turn:127.0.0.1:${coturn.port}?transport=udp`, username: 'alice', credential: 'secret' }],
    iceTransportPolicy: 'relay',
  });
  const other = new api.RTCPeerConnection();
  try {
    const candidates = [];
    const errors = [];
    relayed.addEventListener('icecandidate', (e) => { if (e.candidate && e.candidate.candidate) candidates.push(e.candidate); });
    relayed.onicecandidateerror = (e) => errors.push(e);
    const dc = relayed.createDataChannel('via-turn');
    const remoteChannel = new Promise((resolve) => { other.ondatachannel = (e) => resolve(e.channel); });
    await withTimeout(negotiate(relayed, other), 'negotiation');
    await until(() => relayed.iceGatheringState === 'complete', 'gathering complete');
    assert.deepStrictEqual(errors.map((e) => e.errorCode), []);
    assert.ok(candidates.length >= 1, 'a relayed candidate');
    for (const c of candidates) {
      assert.strictEqual(c.type, 'relay', c.candidate);
      assert.strictEqual(c.address, '127.0.0.1');
    }
    await until(() => dc.readyState === 'open', 'channel open');
    const remote = await withTimeout(remoteChannel, 'the remote channel');
    const got = messages(remote);
    dc.send('through the relay');
    await until(() => got.length === 1, 'message');
    assert.strictEqual(got[0], 'through the relay');
    const stats = [...(await relayed.getStats()).values()];
    const transport = stats.find((s) => s.type === 'transport');
    const pair = stats.find((s) => s.id === transport.selectedCandidatePairId);
    assert.ok(pair, 'a selected pair');
    const local = stats.find((s) => s.id === pair.localCandidateId);
    assert.strictEqual(local.candidateType, 'relay');
    // webrtc-stats RTCIceCandidateStats of a relayed candidate: the server's URL and the
    // protocol to it.
    assert.strictEqual(local.relayProtocol, 'udp');
    assert.strictEqual(local.url, `turn:127.0.0.1:${coturn.port}?transport=udp`);
  } finally {
    relayed.close();
    other.close();
    await coturn.stop();
  }
});

/**
 * A relay-only peer through the TURN server at `url` (and `config`) and a plain one: no
 * icecandidateerror, a short and a `bigSize` message arrive, and the selected local
 * candidate is relayed over `relayProtocol` with the server's URL.
 */
async function relayedCall(url, relayProtocol, bigSize, config = {}) {
  const relayed = new api.RTCPeerConnection({
    iceServers: [{ urls: url, username: 'alice', credential: 'secret' }],
    iceTransportPolicy: 'relay',
    ...config,
  });
  const other = new api.RTCPeerConnection();
  try {
    const errors = [];
    relayed.onicecandidateerror = (e) => errors.push(e);
    const dc = relayed.createDataChannel(`via-${relayProtocol}`);
    const remoteChannel = new Promise((resolve) => { other.ondatachannel = (e) => resolve(e.channel); });
    await withTimeout(negotiate(relayed, other), 'negotiation');
    await until(() => relayed.iceGatheringState === 'complete', 'gathering complete');
    assert.deepStrictEqual(errors.map((e) => `${e.errorCode} ${e.errorText}`), []);
    await until(() => dc.readyState === 'open', 'channel open');
    const remote = await withTimeout(remoteChannel, 'the remote channel');
    const got = messages(remote);
    const big = 'x'.repeat(bigSize);
    dc.send(`over ${relayProtocol}`);
    dc.send(big);
    await until(() => got.length === 2, 'messages');
    assert.strictEqual(got[0], `over ${relayProtocol}`);
    assert.strictEqual(got[1], big);
    const stats = [...(await relayed.getStats()).values()];
    const transport = stats.find((s) => s.type === 'transport');
    const pair = stats.find((s) => s.id === transport.selectedCandidatePairId);
    const local = stats.find((s) => s.id === pair.localCandidateId);
    assert.strictEqual(local.candidateType, 'relay');
    assert.strictEqual(local.relayProtocol, relayProtocol);
    assert.strictEqual(local.url, url);
    return relayed.getConfiguration();
  } finally {
    relayed.close();
    other.close();
  }
}

test('turn: over TCP with iceTransportPolicy relay: the allocation rides a TCP connection to coturn (its UDP listener off), data flows', { timeout: TIMEOUT }, async () => {
  const coturn = await startCoturn({ tcpOnly: true });
  try {
    await relayedCall(`turn:127.0.0.1:${coturn.port}?transport=tcp`, 'tcp', 60000);
  } finally {
    await coturn.stop();
  }
});

test('turn: URLs by host name (UDP and TCP to localhost): the name is resolved in the background, both allocate, data flows through the relay', { timeout: TIMEOUT }, async () => {
  // localhost may resolve to ::1 as well as 127.0.0.1: coturn listens on both.
  const coturn = await startCoturn({ ipv6Loopback: true });
  const urls = [`turn:localhost:${coturn.port}`, `turn:localhost:${coturn.port}?transport=tcp`];
  const relayed = new api.RTCPeerConnection({
    iceServers: [{ urls, username: 'alice', credential: 'secret' }],
    iceTransportPolicy: 'relay',
  });
  const other = new api.RTCPeerConnection();
  try {
    const errors = [];
    relayed.onicecandidateerror = (e) => errors.push(e);
    const dc = relayed.createDataChannel('via-named-turn');
    const remoteChannel = new Promise((resolve) => { other.ondatachannel = (e) => resolve(e.channel); });
    await withTimeout(negotiate(relayed, other), 'negotiation');
    await until(() => relayed.iceGatheringState === 'complete', 'gathering complete');
    assert.deepStrictEqual(errors.map((e) => `${e.url} ${e.errorCode} ${e.errorText}`), []);
    await until(() => dc.readyState === 'open', 'channel open');
    const remote = await withTimeout(remoteChannel, 'the remote channel');
    const got = messages(remote);
    dc.send('named');
    await until(() => got.length === 1, 'message');
    const stats = [...(await relayed.getStats()).values()];
    const relays = stats.filter((s) => s.type === 'local-candidate' && s.candidateType === 'relay');
    assert.deepStrictEqual(relays.map((s) => `${s.relayProtocol} ${s.url}`).sort(), [`tcp ${urls[1]}`, `udp ${urls[0]}`]);
  } finally {
    relayed.close();
    other.close();
    await coturn.stop();
  }
});

/** A free TCP port on loopback (nobody listens there once this returns). */
async function freeTcpPort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// A relay-only peer with one TURN URL that cannot give an allocation: exactly one
// icecandidateerror with the spec's fields, gathering completes, no candidate.
for (const [what, code, setup] of [
  ['with a wrong credential', 401, async () => {
    const coturn = await startCoturn();
    return { url: `turn:127.0.0.1:${coturn.port}`, credential: 'wrong', stop: coturn.stop };
  }],
  ['over TCP to a port nobody listens on', 701, async () => ({ url: `turn:127.0.0.1:${await freeTcpPort()}?transport=tcp`, credential: 'secret' })],
  ['whose host name does not resolve', 701, async () => ({ url: 'turn:no-such-host.invalid:3478', credential: 'secret' })],
  // turns: servers whose certificate cannot be trusted; the text says why.
  ...[
    ['signed by a CA the system does not trust', 'localhost', false, /certificate|issuer/i],
    ['whose certificate does not name the URL\'s host', '127.0.0.1', true, /certificate|name/i],
  ].map(([why, host, withCa, reason]) => [`over TLS to a server ${why}`, 701, async () => {
    const certs = makeCertificates();
    const coturn = await startCoturn({ tls: certs, ipv6Loopback: true });
    return {
      url: `turns:${host}:${coturn.tlsPort}`,
      credential: 'secret',
      config: withCa ? { turnsCa: [certs.caPem] } : {},
      reason,
      stop: async () => { await coturn.stop(); fs.rmSync(certs.dir, { recursive: true, force: true }); },
    };
  }]),
]) {
  test(`turn: ${what}: icecandidateerror ${code} with url, errorCode, errorText; no relayed candidate`, { timeout: TIMEOUT }, async () => {
    const { url, credential, stop, config = {}, reason = /./ } = await setup();
    const pc = new api.RTCPeerConnection({
      iceServers: [{ urls: url, username: 'alice', credential }],
      iceTransportPolicy: 'relay',
      ...config,
    });
    try {
      const errors = [];
      const candidates = [];
      pc.onicecandidateerror = (e) => errors.push(e);
      pc.addEventListener('icecandidate', (e) => { if (e.candidate && e.candidate.candidate) candidates.push(e.candidate); });
      pc.createDataChannel('x');
      await pc.setLocalDescription();
      await until(() => pc.iceGatheringState === 'complete', 'gathering complete');
      assert.strictEqual(errors.length, 1, JSON.stringify(errors.map((e) => e.errorText)));
      assert.strictEqual(errors[0].url, url);
      assert.strictEqual(errors[0].errorCode, code);
      assert.ok(typeof errors[0].errorText === 'string' && errors[0].errorText.length > 0);
      assert.match(errors[0].errorText, reason);
      console.log(`turn ${what}: ${errors[0].errorText}`);
      assert.strictEqual(candidates.length, 0);
    } finally {
      pc.close();
      if (stop) await stop();
    }
  });
}

test('stun: names from setConfiguration() are resolved in the background as well: an unresolvable one is icecandidateerror 701 once gathering runs', { timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection({ iceServers: [{ urls: 'stun:old-name.invalid:3478' }] });
  try {
    const errors = [];
    pc.onicecandidateerror = (e) => errors.push(e);
    // The new configuration replaces the old STUN server: only the new one is reported.
    pc.setConfiguration({ iceServers: [{ urls: 'stun:no-such-host.invalid:3478' }] });
    pc.createDataChannel('x');
    await pc.setLocalDescription();
    await until(() => pc.iceGatheringState === 'complete', 'gathering complete');
    assert.deepStrictEqual(errors.map((e) => [e.url, e.errorCode]), [['stun:no-such-host.invalid:3478', 701]]);
  } finally {
    pc.close();
  }
});

/**
 * A test CA and a server certificate it signed for DNS name `localhost` only (ECDSA P-256,
 * made with the openssl CLI): { dir, caPem, cert, key }.
 */
function makeCertificates() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prtc-turns-'));
  const f = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/CN=polyrtc test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '2', '-out', f('server.pem'), '-extfile', f('ext.cnf'));
  return { dir, caPem: fs.readFileSync(f('ca.pem'), 'utf8'), cert: f('server.pem'), key: f('server.key') };
}

test('turns: (TURN over TLS) with the test CA given as turnsCa: relay-only data flows through coturn\'s TLS listener; the candidate\'s relayProtocol is tls', { timeout: TIMEOUT }, async () => {
  const certs = makeCertificates();
  const coturn = await startCoturn({ tls: certs, ipv6Loopback: true });
  try {
    const config = await relayedCall(`turns:localhost:${coturn.tlsPort}`, 'tls', 100000, { turnsCa: certs.caPem });
    assert.strictEqual(config.turnsCa, certs.caPem);
  } finally {
    await coturn.stop();
    fs.rmSync(certs.dir, { recursive: true, force: true });
  }
});

test('turnsCa that holds no certificate is a TypeError at construction', () => {
  assert.throws(() => new api.RTCPeerConnection({
    iceServers: [{ urls: 'turns:localhost:5349', username: 'alice', credential: 'secret' }],
    turnsCa: 'not a certificate',
  }), TypeError);
});

test('ICE restart from a relayed path (coturn) to a direct one in the middle of a transfer loses no reliable message', { timeout: 60000 }, async () => {
  const coturn = await startCoturn();
  const iceServers = [{ urls: `turn:127.0.0.1:${coturn.port}`, username: 'alice', credential: 'secret' }];
  const a = new api.RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  const b = new api.RTCPeerConnection();
  const selectedType = async (pc) => {
    const stats = [...(await pc.getStats()).values()];
    const transport = stats.find((s) => s.type === 'transport');
    const pair = stats.find((s) => s.id === transport.selectedCandidatePairId);
    return pair && stats.find((s) => s.id === pair.localCandidateId).candidateType;
  };
  try {
    const dc = a.createDataChannel('stream');
    const remoteChannel = new Promise((resolve) => { b.ondatachannel = (e) => resolve(e.channel); });
    await withTimeout(negotiate(a, b), 'negotiation');
    await until(() => dc.readyState === 'open', 'channel open');
    const got = messages(await withTimeout(remoteChannel, 'the remote channel'));
    assert.strictEqual(await selectedType(a), 'relay', 'the call starts relayed');

    const N = 600;
    let sent = 0;
    const sending = new Promise((resolve) => {
      const timer = setInterval(() => {
        for (let k = 0; k < 3 && sent < N; k++) dc.send(`m${sent++}`);
        if (sent >= N) { clearInterval(timer); resolve(); }
      }, 2);
    });
    await until(() => sent >= 150, 'some messages sent over the relay');
    // Mid-transfer: direct candidates allowed from now on, ICE restarted, renegotiated.
    a.setConfiguration({ iceServers, iceTransportPolicy: 'all' });
    a.restartIce();
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription);
    await sending;
    await until(() => got.length >= N, 'every message', 30000);
    assert.deepStrictEqual(got, Array.from({ length: N }, (_, i) => `m${i}`), 'all of them, in order, once');
    // (until() takes a synchronous predicate: poll getStats() by hand.)
    let type = await selectedType(a);
    for (let i = 0; i < 200 && type !== 'host'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      type = await selectedType(a);
    }
    assert.strictEqual(type, 'host', 'the direct path is selected after the restart');
    assert.strictEqual(a.connectionState, 'connected');
  } finally {
    a.close();
    b.close();
    await coturn.stop();
  }
});
