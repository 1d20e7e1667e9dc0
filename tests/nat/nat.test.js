'use strict';
// STUN server-reflexive candidates through a real NAT, all on this machine: four network
// namespaces (see netns.js), Debian's coturn `turnserver` as a plain STUN server on the
// "internet" side, peer A behind a Linux MASQUERADE NAT, peer B on the public side. Each peer
// is a Node child process running the package's CommonJS entry (js/cjs/node.cjs, built
// here) on the real addon inside its namespace;
// this process relays their signaling (JSON lines over stdin/stdout).
//
// Skips (loudly) only when not root or when `ip netns` is unavailable; with CI=true it fails
// instead. Needs: iproute2, iptables, coturn, napi/polyrtc.node.
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const net = require('./netns.js');
const { ADDON, CHROMIUM, skipUnless, dumpPeers, withTimeout, Peer, BrowserPeer, exchange } = require('./child.js');

const ROOT = path.join(__dirname, '..', '..');
const RELAY_BIN = path.join(ROOT, 'relay', 'polyrtc-relay');

/** Why this machine cannot run the test (root and `ip netns` are needed), or null. */
const unavailable = net.unavailableReason();
const skip = skipUnless('tests/nat (needs root and network namespaces)', unavailable);
const chromiumMissing = fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing`;
const browserSkip = skipUnless('tests/nat Chromium runs', chromiumMissing);

/** Resolves once turnserver listens on ADDR.stun:STUN_PORT inside `ns`. */
async function waitListening(ns, proc) {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`turnserver exited with ${proc.exitCode}`);
    const out = net.run(['ip', 'netns', 'exec', ns, 'ss', '-Huln', `sport = :${net.STUN_PORT}`], { allowFail: true }) || '';
    if (out.includes(`${net.ADDR.stun}:${net.STUN_PORT}`)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('turnserver did not start listening');
}

function parseCandidateLine(line) {
  // "candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> [raddr <a> rport <p>]"
  const f = line.replace(/^a=/, '').replace(/^candidate:/, '').trim().split(/\s+/);
  const out = { address: f[4], port: Number(f[5]), type: f[7] };
  for (let i = 8; i + 1 < f.length; i += 2) {
    if (f[i] === 'raddr') out.relatedAddress = f[i + 1];
    if (f[i] === 'rport') out.relatedPort = Number(f[i + 1]);
  }
  return out;
}

/**
 * Our DNS server (dns.js) inside `nsName` on 127.0.0.1:53, answering from `zone`, and that
 * namespace's /etc/resolv.conf pointing at it (`ip netns exec` mounts /etc/netns/<ns>/ files
 * over /etc). Resolves to { queries, stop } once it listens.
 */
async function startDns(nsName, zone) {
  const dir = path.join('/etc/netns', nsName);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:5 attempts:1\n');
  const proc = spawn('ip', ['netns', 'exec', nsName, process.execPath, path.join(__dirname, 'dns.js'), JSON.stringify(zone)],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  const queries = [];
  let listening;
  const ready = new Promise((resolve) => { listening = resolve; });
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    const q = JSON.parse(line);
    if (q.type === 'listening') listening(); else queries.push(q);
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  await withTimeout(Promise.race([ready, exited.then(() => { throw new Error(`dns.js exited: ${stderr}`); })]), 'DNS server listening', 10000);
  return {
    queries,
    stop: () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One run: the topology (with `masquerade` options for the NAT), turnserver, both peers, the
 * signaling relay. `body(ctx)` makes the assertions; everything is torn down afterwards, also
 * when setup or an assertion fails. `dnsZone`: A's namespace gets our DNS server with that
 * zone (ctx.dns.queries lists what it was asked); `iceServersA`: A's iceServers.
 */
async function withNat({
  masquerade = [], dnsZone = null, iceServersA = null, iceServersB = null,
  natB = false, masqueradeB = [], blockUdpA = false, turnUsers = false, custom = false,
  browserA = false, server = 'coturn',
}, body) {
  if (unavailable) assert.fail(`NAT test cannot run (CI=true, so no skip): ${unavailable}`);
  if (browserA && chromiumMissing) assert.fail(`cannot run (CI=true, so no skip): ${chromiumMissing}`);
  assert.ok(fs.existsSync(ADDON), `${ADDON} is missing (build the addon: node napi/build.js)`);
  require('../../scripts/build-cjs').build(); // js/cjs/node.cjs, which peer.js requires

  const ns = net.topologyNames();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prtc-nat-'));
  let turn = null;
  let turnLog = '';
  const peers = [];
  let dns = null;
  try {
    const bAddress = net.setup(ns, { masquerade, natB, masqueradeB, blockUdpA });
    if (dnsZone) dns = await startDns(ns.a, dnsZone);

    if (server === 'polyrtc') {
      // Our own relay as the STUN/TURN server (user alice:secret, UDP and TCP); the peers'
      // addresses are private ones here, which it refuses unless told.
      turn = spawn('ip', ['netns', 'exec', ns.pub, RELAY_BIN, '--listen', `${net.ADDR.stun}:${net.STUN_PORT}`,
        '--user', 'alice:secret', '--realm', 'polyrtc', '--allow-private'], { stdio: ['ignore', 'pipe', 'pipe'] });
    } else {
      // STUN only, or with `turnUsers` a TURN server too (user alice:secret, UDP and TCP).
      const mode = turnUsers ? [...(process.env.NAT_TURN_VERBOSE ? ['-V'] : []), '--lt-cred-mech', '--user=alice:secret', '--realm=polyrtc'] : ['--stun-only'];
      turn = spawn('ip', ['netns', 'exec', ns.pub, 'turnserver', '-n', ...mode, '--no-tls', '--no-dtls',
        '--listening-ip', net.ADDR.stun, '--relay-ip', net.ADDR.stun, '--listening-port', String(net.STUN_PORT),
        '--no-cli', '--log-file', 'stdout', '--simple-log', '--pidfile', path.join(tmp, 'turnserver.pid'),
        '--db', path.join(tmp, 'turndb')], { stdio: ['ignore', 'pipe', 'pipe'] });
    }
    turn.stdout.on('data', (d) => { turnLog += d; });
    turn.stderr.on('data', (d) => { turnLog += d; });
    await waitListening(ns.pub, turn);

    // A is Chromium (its default candidates: host addresses hidden behind mDNS names) or
    // our Node peer.
    const a = browserA
      ? await BrowserPeer.launch('A (Chromium)', ns.a, 'offer', { iceServers: iceServersA || [{ urls: `stun:${net.ADDR.stun}:${net.STUN_PORT}` }] }, tmp)
      : new Peer('A', ns.a, 'offer', iceServersA);
    peers.push(a);
    const b = new Peer('B', ns.b, 'answer', iceServersB);
    peers.push(b);
    // The relay: descriptions and trickled candidates go to the other side, in order.
    const relay = (from, to) => {
      from.onEvent = (ev) => { if (ev.type === 'description' || ev.type === 'candidate') to.send(ev); };
    };
    relay(a, b);
    relay(b, a);
    await body({ ...(custom ? await exchange(a, b) : await connect(a, b)), a, b, dns, bAddress });
    for (const p of peers) p.send({ type: 'close' });
  } catch (e) {
    dumpPeers(peers);
    if (turnLog) console.error(`--- turnserver log (tail):\n${turnLog.split('\n').slice(-(process.env.NAT_LOG_LINES || 30)).join('\n')}`);
    throw e;
  } finally {
    for (const p of peers) await p.kill();
    if (turn && turn.exitCode === null) turn.kill('SIGKILL');
    if (dns) dns.stop();
    await new Promise((r) => setTimeout(r, 100));
    const left = net.teardown(ns);
    fs.rmSync(tmp, { recursive: true, force: true });
    assert.deepStrictEqual(left, [], 'every namespace of this run was deleted');
  }
}

/** What every NAT run asserts; returns A's srflx and host candidates and both reports. */
async function connect(a, b) {
  // 1. A gathers a server-reflexive candidate: the NAT's public address, raddr A's private one.
  await a.waitFor((e) => e.type === 'gathering' && e.state === 'complete', 'gathering complete');
  const aCandidates = a.events.filter((e) => e.type === 'candidate' && e.candidate && e.candidate.candidate).map((e) => parseCandidateLine(e.candidate.candidate));
  const hostA = aCandidates.filter((c) => c.type === 'host');
  const srflxA = aCandidates.filter((c) => c.type === 'srflx');
  assert.ok(hostA.some((c) => c.address === net.ADDR.a), `A has a host candidate ${net.ADDR.a}: ${JSON.stringify(aCandidates)}`);
  assert.strictEqual(srflxA.length, 1, `A has exactly one srflx candidate: ${JSON.stringify(aCandidates)}`);
  const srflx = srflxA[0];
  assert.strictEqual(srflx.address, net.ADDR.natPublic, 'srflx address is the NAT\'s public-side address');
  assert.strictEqual(srflx.relatedAddress, net.ADDR.a, 'srflx raddr is A\'s private address');
  const base = hostA.find((c) => c.address === net.ADDR.a);
  assert.strictEqual(srflx.relatedPort, base.port, 'srflx rport is the port of its host candidate (base)');
  assert.ok(Number.isInteger(srflx.port) && srflx.port > 0 && srflx.port <= 65535);

  // 2. The channel opens on both sides, messages flow both ways, both are connected.
  const { reportA, reportB } = await exchange(a, b);

  // 3. The selected pair goes through the NAT mapping: on B's side the remote candidate is
  //    A's public (srflx/prflx) address, never A's unreachable private host address.
  const remoteOnB = reportB.selected.remote;
  assert.strictEqual(remoteOnB.address, net.ADDR.natPublic, `B's selected remote is A's NAT address: ${JSON.stringify(reportB.selected)}`);
  assert.ok(['srflx', 'prflx'].includes(remoteOnB.type), `remote type on B is srflx/prflx, got ${remoteOnB.type}`);
  assert.strictEqual(reportB.selected.local.address, net.ADDR.b);
  // B did learn A's private host candidate (trickled), but it is unreachable from B.
  assert.ok(reportB.remoteCandidates.some((c) => c.type === 'host' && c.address === net.ADDR.a),
    `B knows A's host candidate: ${JSON.stringify(reportB.remoteCandidates)}`);
  assert.ok(reportA.selected, 'A has a selected candidate pair');
  // RFC 8445 §7.2.5.3.2: A's valid pair has the local candidate B's response mapped it to
  // (A's NAT mapping, srflx or, behind a symmetric NAT, prflx), whose base is A's private
  // host address.
  const localOnA = reportA.selected.local;
  assert.ok(['srflx', 'prflx'].includes(localOnA.type), `A's selected local is its NAT mapping: ${JSON.stringify(localOnA)}`);
  assert.strictEqual(localOnA.address, net.ADDR.natPublic, 'A is seen at its NAT address');
  assert.strictEqual(localOnA.relatedAddress, net.ADDR.a, 'A sends from its private base');
  assert.strictEqual(reportA.selected.remote.address, net.ADDR.b, 'A reaches B directly');
  assert.match(reportA.localSdp, new RegExp(`typ srflx raddr ${net.ADDR.a.replace(/\./g, '\\.')} `));

  for (const p of [a, b]) assert.deepStrictEqual(p.errors(), [], `${p.name} reported no errors`);
  return { srflx, base, reportA, reportB };
}

function summary({ srflx, base, reportB }) {
  const r = reportB.selected.remote;
  return `A host ${net.ADDR.a}:${base.port} -> srflx ${srflx.address}:${srflx.port}; `
    + `B selected ${reportB.selected.local.address}:${reportB.selected.local.port} <-> ${r.type} ${r.address}:${r.port}`;
}

test('MASQUERADE NAT (endpoint-independent): A gathers its srflx from coturn; B reaches A at that address', { skip, timeout: 90000 }, async () => {
  await withNat({}, async (ctx) => {
    const remoteOnB = ctx.reportB.selected.remote;
    // Endpoint-independent mapping: the mapping the STUN server saw is the one B talks to.
    assert.strictEqual(remoteOnB.port, ctx.srflx.port, 'B\'s selected remote port is the srflx mapping');
    console.log(`nat (masquerade): ${summary(ctx)}`);
  });
});

test('port-remapping NAT (MASQUERADE --to-ports): the srflx port is the NAT\'s, not the host\'s', { skip, timeout: 90000 }, async () => {
  await withNat({ masquerade: ['--to-ports', '20000-29999'] }, async (ctx) => {
    const inRange = (p) => p >= 20000 && p <= 29999;
    assert.ok(inRange(ctx.srflx.port), `srflx port ${ctx.srflx.port} is a NAT port (20000-29999)`);
    assert.notStrictEqual(ctx.srflx.port, ctx.base.port, 'srflx port differs from the host port');
    const remoteOnB = ctx.reportB.selected.remote;
    assert.ok(inRange(remoteOnB.port), `B's selected remote port ${remoteOnB.port} is a NAT port`);
    console.log(`nat (remap): ${summary(ctx)}`);
  });
});

test('symmetric NAT (MASQUERADE --random): B learns A\'s mapping as a prflx candidate from A\'s checks', { skip, timeout: 90000 }, async () => {
  await withNat({ masquerade: ['--to-ports', '20000-29999', '--random'] }, async (ctx) => {
    const inRange = (p) => p >= 20000 && p <= 29999;
    assert.ok(inRange(ctx.srflx.port), `srflx port ${ctx.srflx.port} is a NAT port (20000-29999)`);
    const remoteOnB = ctx.reportB.selected.remote;
    assert.ok(inRange(remoteOnB.port), `B's selected remote port ${remoteOnB.port} is a NAT port`);
    // A new random mapping per destination: the one B sees is (almost surely) not the srflx one,
    // and B can only know it from A's connectivity checks (peer-reflexive).
    if (remoteOnB.port !== ctx.srflx.port) assert.strictEqual(remoteOnB.type, 'prflx');
    console.log(`nat (symmetric): ${summary(ctx)}`);
  });
});

test('STUN server by host name behind the NAT: resolved off the JS thread (A and AAAA asked); a name the DNS server never answers is icecandidateerror 701 and does not stall gathering', { skip, timeout: 90000 }, async () => {
  const hang = `stun:hang.polyrtc.test:${net.STUN_PORT}`;
  await withNat({
    dnsZone: { 'stun.polyrtc.test': { A: [net.ADDR.stun], AAAA: ['fd00:dead::1'] }, 'hang.polyrtc.test': 'silent' },
    iceServersA: [{ urls: `stun:stun.polyrtc.test:${net.STUN_PORT}` }, { urls: hang }],
  }, async (ctx) => {
    // connect() checked the srflx candidate: it came from the server the name resolved to.
    const asked = (name, qtype) => ctx.dns.queries.some((q) => q.name === name && q.qtype === qtype);
    assert.ok(asked('stun.polyrtc.test', 'A') && asked('stun.polyrtc.test', 'AAAA'), `A and AAAA asked: ${JSON.stringify(ctx.dns.queries)}`);
    assert.ok(asked('hang.polyrtc.test', 'A'), 'the hanging name was asked');
    // The constructor did not wait for the resolver (which waits 5 s for the silent name).
    const constructed = ctx.a.events.find((e) => e.type === 'constructed');
    assert.ok(constructed.ms < 1000, `the constructor took ${constructed.ms} ms`);
    const errors = ctx.a.events.filter((e) => e.type === 'candidateerror');
    assert.strictEqual(errors.length, 1, JSON.stringify(errors));
    assert.strictEqual(errors[0].url, hang);
    assert.strictEqual(errors[0].errorCode, 701);
    assert.match(errors[0].errorText, /timed out/);
    assert.deepStrictEqual(ctx.b.events.filter((e) => e.type === 'candidateerror'), []);
    console.log(`nat (dns): ${summary(ctx)}; ${ctx.dns.queries.length} DNS queries`);
  });
});

const TURN_USER = { username: 'alice', credential: 'secret' };
const stunUrl = `stun:${net.ADDR.stun}:${net.STUN_PORT}`;
const turnUrl = (transport) => `turn:${net.ADDR.stun}:${net.STUN_PORT}?transport=${transport}`;
const pairText = (r) => `${r.selected.local.type} ${r.selected.local.address}:${r.selected.local.port} <-> ${r.selected.remote.type} ${r.selected.remote.address}:${r.selected.remote.port}`;

test('UDP blocked in A\'s network: TURN over TCP carries the call (A\'s selected local candidate is relayed, relayProtocol tcp)', { skip, timeout: 90000 }, async () => {
  await withNat({
    blockUdpA: true, turnUsers: true, custom: true,
    iceServersA: [{ urls: stunUrl }, { urls: turnUrl('tcp'), ...TURN_USER }],
  }, async ({ reportA, reportB, a }) => {
    assert.strictEqual(reportA.selected.local.type, 'relay', pairText(reportA));
    assert.strictEqual(reportA.selectedLocalRelayProtocol, 'tcp');
    assert.strictEqual(reportA.selected.local.address, net.ADDR.stun, 'the relayed address is the TURN server\'s');
    assert.strictEqual(reportB.selected.remote.type, 'relay', pairText(reportB));
    assert.strictEqual(reportB.selected.remote.address, net.ADDR.stun);
    // No server-reflexive candidate: STUN over UDP never got out.
    const srflx = a.events.filter((e) => e.type === 'candidate' && e.candidate && / typ srflx /.test(e.candidate.candidate));
    assert.deepStrictEqual(srflx, []);
    console.log(`nat (UDP blocked): A ${pairText(reportA)}; B ${pairText(reportB)}`);
  });
});

/** A's and B's candidates of `type` from their trickled candidate events. */
const gathered = (p, type) => p.events.filter((e) => e.type === 'candidate' && e.candidate && e.candidate.candidate)
  .map((e) => parseCandidateLine(e.candidate.candidate)).filter((c) => c.type === type);

test('both peers behind endpoint-independent NATs: they meet over their server-reflexive candidates (hole punching)', { skip, timeout: 90000 }, async () => {
  await withNat({
    natB: true, custom: true,
    iceServersA: [{ urls: stunUrl }], iceServersB: [{ urls: stunUrl }],
  }, async ({ reportA, reportB, a, b }) => {
    const [srflxA] = gathered(a, 'srflx');
    const [srflxB] = gathered(b, 'srflx');
    assert.ok(srflxA && srflxB, 'both gathered a srflx candidate');
    assert.strictEqual(srflxA.address, net.ADDR.natPublic);
    assert.strictEqual(srflxB.address, net.ADDR.natBPublic);
    // Neither private host address is reachable: each side talks to the other's NAT mapping,
    // the very one the STUN server saw (endpoint-independent mapping), from its own.
    for (const [r, mine, theirs] of [[reportA, srflxA, srflxB], [reportB, srflxB, srflxA]]) {
      assert.strictEqual(r.selected.local.type, 'srflx', pairText(r));
      assert.strictEqual(r.selected.local.address, mine.address, pairText(r));
      assert.strictEqual(r.selected.local.port, mine.port, pairText(r));
      assert.strictEqual(r.selected.remote.type, 'srflx', pairText(r));
      assert.strictEqual(r.selected.remote.address, theirs.address, pairText(r));
      assert.strictEqual(r.selected.remote.port, theirs.port, pairText(r));
    }
    console.log(`nat (two cone NATs): A ${pairText(reportA)}; B ${pairText(reportB)}`);
  });
});

test('both peers behind symmetric NATs: no direct path exists, the call goes through coturn (a relayed candidate is selected)', { skip, timeout: 90000 }, async () => {
  const symmetric = ['--to-ports', '20000-29999', '--random'];
  const servers = [{ urls: stunUrl }, { urls: turnUrl('udp'), ...TURN_USER }];
  await withNat({
    masquerade: symmetric, natB: true, masqueradeB: symmetric, turnUsers: true, custom: true,
    iceServersA: servers, iceServersB: servers,
  }, async ({ reportA, reportB, a, b }) => {
    for (const p of [a, b]) assert.strictEqual(gathered(p, 'relay').length, 1, `${p.name} gathered a relayed candidate`);
    // Each side's checks leave through a new random mapping per destination, so no srflx
    // pair can work: one end of the selected pair is a TURN allocation, on both sides.
    const relayed = (r) => r.selected.local.type === 'relay' || r.selected.remote.type === 'relay';
    assert.ok(relayed(reportA), pairText(reportA));
    assert.ok(relayed(reportB), pairText(reportB));
    for (const r of [reportA, reportB]) {
      const end = r.selected.local.type === 'relay' ? r.selected.local : r.selected.remote;
      assert.strictEqual(end.address, net.ADDR.stun, `the relayed address is coturn's: ${pairText(r)}`);
    }
    console.log(`nat (two symmetric NATs): A ${pairText(reportA)}; B ${pairText(reportB)}`);
  });
});

// Headless Chromium behind a symmetric NAT (its own defaults for candidates: host addresses
// behind mDNS names), our Node peer behind another: only a TURN allocation joins them.
for (const server of ['coturn', 'polyrtc']) {
  const what = server === 'coturn' ? 'coturn' : 'our relay (polyrtc-relay as a TURN server)';
  test(`Chromium behind a symmetric NAT and a Node peer behind another connect through ${what}`, { skip: skip || browserSkip, timeout: 120000 }, async () => {
    const symmetric = ['--to-ports', '20000-29999', '--random'];
    const servers = [{ urls: stunUrl }, { urls: turnUrl('udp'), ...TURN_USER }];
    await withNat({
      masquerade: symmetric, natB: true, masqueradeB: symmetric, turnUsers: true, custom: true, browserA: true, server,
      iceServersA: servers, iceServersB: servers,
    }, async ({ reportA, reportB, a, b }) => {
      assert.strictEqual(reportA.connectionState, 'connected', 'Chromium is connected');
      for (const p of [a, b]) assert.ok(gathered(p, 'relay').length >= 1, `${p.name} gathered a relayed candidate`);
      // The Node side's selected pair has the allocation at one end (Chromium's addresses
      // are redacted in its own reports), on the server's address.
      const end = reportB.selected.local.type === 'relay' ? reportB.selected.local : reportB.selected.remote;
      assert.strictEqual(end.type, 'relay', `a relayed candidate is selected: ${pairText(reportB)}`);
      assert.strictEqual(end.address, net.ADDR.stun, `the relayed address is the server's: ${pairText(reportB)}`);
      console.log(`nat (Chromium, two symmetric NATs, ${server}): B ${pairText(reportB)}`);
    });
  });
}
