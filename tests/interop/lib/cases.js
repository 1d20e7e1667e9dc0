'use strict';
// The interop cases, written once over the PeerBase interface (peers.js) and registered with
// node:test for one remote stack. The local peer is always the implementation under test
// (POLYRTC_IMPL, default polyrtc's js/node.js) running in this process.
const assert = require('node:assert/strict');
const { describe, test, before, after } = require('node:test');
const { W3CPeer } = require('./peers');
const { loadImpl, implName } = require('./impl');
const { keepCandidate, candidateAddress, isMdnsAddress, filterDescription } = require('./candidates');

const TEST_TIMEOUT_MS = Number(process.env.POLYRTC_INTEROP_TEST_TIMEOUT_MS || 60000);
const BIG = 256 * 1024; // 256 KiB: Chromium's advertised a=max-message-size (262144)

/** Deterministic bytes, different per seed. */
function pattern(len, seed) {
  const b = Buffer.alloc(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

function describeData(d) {
  return typeof d === 'string' ? `string(${d.length})` : Buffer.isBuffer(d) ? `binary(${d.length})` : typeof d;
}

function assertSameMessage(got, want, what) {
  if (typeof want === 'string') {
    assert.equal(typeof got, 'string', `${what}: expected a text message, got ${describeData(got)}`);
    assert.ok(got === want, `${what}: text differs (got ${got.length} chars, want ${want.length})`);
  } else {
    assert.ok(Buffer.isBuffer(got), `${what}: expected a binary message, got ${describeData(got)}`);
    assert.equal(got.length, want.length, `${what}: binary length`);
    assert.ok(got.equals(want), `${what}: binary content differs`);
  }
}

/**
 * Offer/answer between two PeerBase peers with trickled candidates (loopback only unless
 * POLYRTC_INTEROP_ALL_CANDIDATES=1). Returns candidate statistics.
 */
async function connect(offerer, answerer) {
  const stats = { forwarded: 0, dropped: 0, mdns: 0, errors: [] };
  const wire = (from, to) => {
    const state = { ready: false, queue: [] };
    from.on('candidate', (c) => {
      const addr = candidateAddress(c.candidate);
      if (isMdnsAddress(addr)) stats.mdns++;
      if (!keepCandidate(c.candidate)) {
        stats.dropped++;
        return;
      }
      stats.forwarded++;
      if (state.ready) to.addCandidate(c).catch((e) => stats.errors.push(`${to.name}.addIceCandidate: ${e}`));
      else state.queue.push(c);
    });
    state.flush = async () => {
      state.ready = true;
      for (const c of state.queue.splice(0)) {
        await to.addCandidate(c).catch((e) => stats.errors.push(`${to.name}.addIceCandidate: ${e}`));
      }
    };
    return state;
  };
  const toAnswerer = wire(offerer, answerer);
  const toOfferer = wire(answerer, offerer);
  const offer = await offerer.createOffer();
  if (/\.local /.test(offer.sdp)) stats.mdns++;
  const answer = await answerer.handleOffer(filterDescription(offer));
  await toAnswerer.flush();
  await offerer.handleAnswer(filterDescription(answer));
  await toOfferer.flush();
  return stats;
}

async function openOrExplain(peer, label, stats) {
  try {
    await peer.waitEvent('open', label);
  } catch (e) {
    const why = [];
    if (stats.mdns) why.push(`${stats.mdns} mDNS (.local) candidate(s) seen: host IPs are being obfuscated`);
    if (!stats.forwarded) why.push('no loopback candidate was forwarded (set POLYRTC_INTEROP_ALL_CANDIDATES=1 to allow others)');
    if (stats.errors.length) why.push(`candidate errors: ${stats.errors.join('; ')}`);
    const states = [...peer.seen].filter((s) => s.startsWith('connection:')).join(',');
    e.message += ` [candidates forwarded=${stats.forwarded} dropped=${stats.dropped}; ${peer.name} states: ${states || 'none'}] ${why.join('; ')}`;
    throw e;
  }
}

/** Sends text, unicode text, small binary and a 256 KiB binary from `a` to `b`; checks all four. */
async function exchange(a, b, label, tag) {
  const msgs = [
    `hello from ${a.name} (${tag})`,
    `unicode: h\u00e9llo \u2713 \u{1F680} from ${a.name}`,
    pattern(1000, 1),
    pattern(BIG, 2),
  ];
  for (const m of msgs) await a.send(label, m);
  const got = await b.waitMessages(label, msgs.length, 30000);
  got.forEach((g, i) => assertSameMessage(g, msgs[i], `${a.name} -> ${b.name} message #${i} on "${label}"`));
}

/**
 * Registers the suite for one remote stack.
 * opts: { remoteName, setup(): Promise, teardown(): Promise, newRemote(): PeerBase, skip: false|string }
 */
function defineInteropSuite(opts) {
  const { remoteName } = opts;
  const impl = () => loadImpl();
  let peers = [];

  const pair = async () => {
    const node = new W3CPeer(impl(), 'node');
    const remote = opts.newRemote();
    peers.push(node, remote);
    await node.init({});
    await remote.init({});
    return { node, remote };
  };
  const closeAll = async () => {
    const ps = peers;
    peers = [];
    for (const p of ps) await p.close().catch(() => {});
  };

  describe(`interop: ${implName()} <-> ${remoteName}`, { skip: opts.skip || false }, () => {
    before(async () => {
      if (opts.setup) await opts.setup();
    });
    after(async () => {
      await closeAll();
      if (opts.teardown) await opts.teardown();
    });

    test('Node offers; text, binary, 256 KiB both ways; Node closes, remote sees close', { timeout: TEST_TIMEOUT_MS }, async () => {
      try {
        const { node, remote } = await pair();
        await node.createChannel('chat');
        const stats = await connect(node, remote);
        await openOrExplain(node, 'chat', stats);
        await remote.waitEvent('channel', 'chat');
        await remote.waitEvent('open', 'chat');
        await exchange(node, remote, 'chat', 'node offerer');
        await exchange(remote, node, 'chat', 'node offerer');
        await node.closeChannel('chat');
        await remote.waitEvent('close', 'chat');
        await node.waitEvent('close', 'chat');
      } finally {
        await closeAll();
      }
    });

    test('Node answers; text, binary, 256 KiB both ways; remote closes, Node sees close', { timeout: TEST_TIMEOUT_MS }, async () => {
      try {
        const { node, remote } = await pair();
        await remote.createChannel('chat');
        const stats = await connect(remote, node);
        await openOrExplain(remote, 'chat', stats);
        await node.waitEvent('channel', 'chat');
        await node.waitEvent('open', 'chat');
        await exchange(remote, node, 'chat', 'node answerer');
        await exchange(node, remote, 'chat', 'node answerer');
        await remote.closeChannel('chat');
        await node.waitEvent('close', 'chat');
        await remote.waitEvent('close', 'chat');
      } finally {
        await closeAll();
      }
    });

    test('unordered channel with maxRetransmits 0 delivers messages', { timeout: TEST_TIMEOUT_MS }, async () => {
      try {
        const { node, remote } = await pair();
        await node.createChannel('unreliable', { ordered: false, maxRetransmits: 0 });
        const stats = await connect(node, remote);
        await openOrExplain(node, 'unreliable', stats);
        await remote.waitEvent('open', 'unreliable');
        if (remote.channelInfo) {
          const info = await remote.channelInfo('unreliable');
          assert.equal(info.ordered, false, `${remote.name} sees the channel as unordered`);
          assert.equal(info.maxRetransmits, 0, `${remote.name} sees maxRetransmits 0`);
        }
        const N = 50;
        for (const [a, b] of [
          [node, remote],
          [remote, node],
        ]) {
          for (let i = 0; i < N; i++) await a.send('unreliable', `${a.name}#${i}:` + 'x'.repeat(1000));
          const got = await b.drainMessages('unreliable', 500);
          const ids = new Set();
          for (const g of got) {
            const m = /^(\w+)#(\d+):(x*)$/.exec(g);
            assert.ok(m && m[1] === a.name && m[3].length === 1000, `unexpected message ${describeData(g)}`);
            ids.add(Number(m[2]));
          }
          // Loopback loses nothing in practice; allow a little slack for an unreliable channel.
          assert.ok(ids.size >= N * 0.9, `${a.name} -> ${b.name}: only ${ids.size}/${N} unreliable messages arrived`);
        }
      } finally {
        await closeAll();
      }
    });

    test('negotiated channel (negotiated: true, id: 7) carries messages both ways', { timeout: TEST_TIMEOUT_MS }, async () => {
      try {
        const { node, remote } = await pair();
        await node.createChannel('negotiated', { negotiated: true, id: 7 });
        await remote.createChannel('negotiated', { negotiated: true, id: 7 });
        const stats = await connect(node, remote);
        await openOrExplain(node, 'negotiated', stats);
        await remote.waitEvent('open', 'negotiated');
        assert.ok(!node.seen.has('channel:negotiated'), 'no datachannel event for a negotiated channel (node)');
        assert.ok(!remote.seen.has('channel:negotiated'), `no datachannel event for a negotiated channel (${remote.name})`);
        await exchange(node, remote, 'negotiated', 'negotiated');
        await exchange(remote, node, 'negotiated', 'negotiated');
      } finally {
        await closeAll();
      }
    });
  });
}

module.exports = { defineInteropSuite, connect, exchange, pattern, assertSameMessage };
