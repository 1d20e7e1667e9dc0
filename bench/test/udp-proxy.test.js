'use strict';
// The benchmark's UDP path proxy (bench/udp-proxy.js), checked with two plain dgram sockets:
// per-datagram delay with order kept, impersonation (each side sees the proxy's address),
// loss rate, duplication, reordering, seeded repeatability, and the worker-thread wrapper.
// Run: node --test bench/test/
const test = require('node:test');
const assert = require('node:assert');
const dgram = require('node:dgram');
const { performance } = require('node:perf_hooks');
const { UdpPathProxy, startProxyWorker } = require('../udp-proxy');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function socket() {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

/** A and B sockets registered with a started proxy; collects what B (and A) receive. */
async function setup(proxy) {
  const ports = await proxy.start();
  const a = await socket();
  const b = await socket();
  await proxy.setPeer('a', '127.0.0.1', a.address().port);
  await proxy.setPeer('b', '127.0.0.1', b.address().port);
  const atB = [];
  const atA = [];
  b.on('message', (buf, rinfo) => atB.push({ seq: buf.readUInt32BE(0), sentAt: buf.readDoubleBE(4), at: performance.now(), rinfo }));
  a.on('message', (buf, rinfo) => atA.push({ seq: buf.readUInt32BE(0), at: performance.now(), rinfo }));
  const close = () => {
    proxy.close();
    a.close();
    b.close();
  };
  return { ports, a, b, atA, atB, close };
}

function datagram(seq) {
  const buf = Buffer.alloc(32);
  buf.writeUInt32BE(seq, 0);
  buf.writeDoubleBE(performance.now(), 4);
  return buf;
}

/** Sends n datagrams from `from` to port, in paced batches so no socket buffer overflows. */
async function sendMany(from, port, n, batch = 200) {
  for (let i = 0; i < n; i++) {
    from.send(datagram(i), port, '127.0.0.1');
    if (i % batch === batch - 1) await sleep(2);
  }
}

/** All n datagrams reached the proxy, none is still queued, and B got all that were forwarded. */
const drained = (proxy, s, n) => () => {
  const st = proxy.stats().ab;
  return st.received === n && st.queuedBytes === 0 && s.atB.length === st.forwarded;
};

async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

test('each datagram is delayed by delayMs, order is kept, and each side sees the proxy as its peer', async () => {
  const proxy = new UdpPathProxy({ delayMs: 40 });
  const s = await setup(proxy);
  try {
    const N = 300;
    await sendMany(s.a, s.ports.x, N, 50);
    s.b.send(datagram(7), s.ports.y, '127.0.0.1');
    await waitFor(() => s.atB.length === N && s.atA.length === 1, 5000, 'all datagrams through');
    assert.deepStrictEqual(s.atB.map((d) => d.seq), Array.from({ length: N }, (_, i) => i), 'order kept');
    for (const d of s.atB) {
      assert.ok(d.at - d.sentAt >= 39, `datagram ${d.seq} took ${(d.at - d.sentAt).toFixed(1)} ms, less than the 40 ms delay`);
      // B sees the datagrams coming from Y, which impersonates A.
      assert.strictEqual(d.rinfo.port, s.ports.y);
    }
    // Not held much longer either (timers have 1 ms granularity; generous for a busy machine).
    const delays = s.atB.map((d) => d.at - d.sentAt).sort((x, y) => x - y);
    const median = delays[Math.floor(delays.length / 2)];
    assert.ok(median < 55, `median delay ${median.toFixed(1)} ms for a 40 ms proxy`);
    // A sees B's datagram coming from X, which impersonates B.
    assert.strictEqual(s.atA[0].rinfo.port, s.ports.x);
    const st = proxy.stats();
    assert.strictEqual(st.ab.received, N);
    assert.strictEqual(st.ab.forwarded, N);
    assert.strictEqual(st.ba.forwarded, 1);
    assert.strictEqual(st.ab.dropped + st.ab.duplicated + st.ab.reordered, 0);
  } finally {
    s.close();
  }
});

test('loss drops about the asked fraction, and nothing else is lost', async () => {
  const proxy = new UdpPathProxy({ loss: 0.1, seed: 42 });
  const s = await setup(proxy);
  try {
    const N = 5000;
    await sendMany(s.a, s.ports.x, N);
    await waitFor(drained(proxy, s, N), 5000, 'all datagrams handled');
    await sleep(20);
    const st = proxy.stats();
    assert.strictEqual(st.ab.dropped + st.ab.forwarded, N, 'each datagram is either dropped or forwarded once');
    assert.strictEqual(s.atB.length, st.ab.forwarded, 'B got every forwarded datagram');
    const rate = st.ab.dropped / N;
    assert.ok(rate > 0.08 && rate < 0.12, `drop rate ${rate} not near 0.1`);
    const seqs = s.atB.map((d) => d.seq);
    assert.strictEqual(new Set(seqs).size, seqs.length, 'no duplicates');
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], 'order kept');
  } finally {
    s.close();
  }
});

test('duplication sends some datagrams twice, back to back', async () => {
  const proxy = new UdpPathProxy({ duplicate: 0.05, seed: 7 });
  const s = await setup(proxy);
  try {
    const N = 4000;
    await sendMany(s.a, s.ports.x, N);
    await waitFor(drained(proxy, s, N), 5000, 'all datagrams handled');
    const st = proxy.stats();
    assert.strictEqual(st.ab.forwarded, N + st.ab.duplicated);
    const rate = st.ab.duplicated / N;
    assert.ok(rate > 0.035 && rate < 0.065, `duplication rate ${rate} not near 0.05`);
    const counts = new Map();
    for (const d of s.atB) counts.set(d.seq, (counts.get(d.seq) || 0) + 1);
    assert.strictEqual(counts.size, N, 'every datagram arrives');
    const twice = [...counts.values()].filter((c) => c === 2).length;
    assert.strictEqual(twice, st.ab.duplicated, 'the duplicated ones arrive exactly twice');
    assert.ok([...counts.values()].every((c) => c <= 2));
  } finally {
    s.close();
  }
});

test('reordering delays some datagrams so later ones overtake them; none is lost', async () => {
  const proxy = new UdpPathProxy({ delayMs: 5, reorder: 0.05, reorderExtraMs: 30, seed: 3 });
  const s = await setup(proxy);
  try {
    const N = 2000;
    await sendMany(s.a, s.ports.x, N, 20);
    await waitFor(() => s.atB.length === N, 5000, 'all datagrams through');
    const st = proxy.stats();
    const rate = st.ab.reordered / N;
    assert.ok(rate > 0.03 && rate < 0.07, `reorder rate ${rate} not near 0.05`);
    const seqs = s.atB.map((d) => d.seq);
    assert.deepStrictEqual([...seqs].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i), 'each exactly once');
    let inversions = 0;
    for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) inversions++;
    assert.ok(inversions >= st.ab.reordered / 2, `only ${inversions} out-of-order arrivals for ${st.ab.reordered} reordered`);
  } finally {
    s.close();
  }
});

test('the same seed drops the same datagrams', async () => {
  const run = async () => {
    const proxy = new UdpPathProxy({ loss: 0.2, seed: 99 });
    const s = await setup(proxy);
    try {
      await sendMany(s.a, s.ports.x, 1000);
      await waitFor(drained(proxy, s, 1000), 5000, 'handled');
      return s.atB.map((d) => d.seq);
    } finally {
      s.close();
    }
  };
  assert.deepStrictEqual(await run(), await run());
});

test('the worker-thread proxy forwards both ways and reports its counters', async () => {
  const proxy = await startProxyWorker({ delayMs: 10 });
  const a = await socket();
  const b = await socket();
  try {
    await proxy.setPeer('a', '127.0.0.1', a.address().port);
    await proxy.setPeer('b', '127.0.0.1', b.address().port);
    const got = { a: [], b: [] };
    a.on('message', (buf, rinfo) => got.a.push(rinfo.port));
    b.on('message', (buf, rinfo) => got.b.push(rinfo.port));
    for (let i = 0; i < 10; i++) {
      a.send(datagram(i), proxy.ports.x, '127.0.0.1');
      b.send(datagram(i), proxy.ports.y, '127.0.0.1');
    }
    await waitFor(() => got.a.length === 10 && got.b.length === 10, 5000, 'both directions');
    assert.ok(got.a.every((p) => p === proxy.ports.x));
    assert.ok(got.b.every((p) => p === proxy.ports.y));
    const st = await proxy.stats();
    assert.strictEqual(st.ab.forwarded, 10);
    assert.strictEqual(st.ba.forwarded, 10);
  } finally {
    await proxy.close();
    a.close();
    b.close();
  }
});
