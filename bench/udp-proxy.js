'use strict';
// A UDP "path" on loopback between two peers A and B, for the delayed-path and lossy benchmark
// rows (bench/path.js) and its own test (bench/test/udp-proxy.test.js). No dependency beyond
// node:dgram.
//
// Two sockets: X faces A (A is told that B lives at X) and Y faces B (B is told that A lives
// at Y). A datagram A -> X leaves Y towards B; a datagram B -> Y leaves X towards A. So every
// STUN check, DTLS record and SCTP packet crosses the proxy, and each peer sees the proxy's
// address as the remote of its ICE pair.
//
// Per direction, each datagram is held for `delayMs` (one way: RTT/2) in a timer queue and then
// sent; order is preserved unless reordering is asked. Impairments, drawn from a seeded PRNG
// (one stream per direction, so a run is repeatable for the same datagram sequence):
//   loss       probability a datagram is dropped;
//   duplicate  probability a (kept) datagram is sent twice;
//   reorder    probability a (kept) datagram gets an extra delay of 1..reorderExtraMs ms, so
//              later datagrams overtake it.
// The queue is bounded (MAX_QUEUED_BYTES per direction); past it datagrams are dropped and
// counted as `overflow` (a real path's bottleneck buffer would drop them too).
//
// `UdpPathProxy` runs in the calling thread. `startProxyWorker()` runs the same proxy in a
// worker thread (its own event loop, so the benchmark's message handling on the main thread
// does not delay the proxy's timers) and returns the same methods as promises.
const dgram = require('node:dgram');
const { performance } = require('node:perf_hooks');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

/** Bytes a direction may hold in its delay queue before datagrams are dropped (`overflow`). */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** Socket buffer sizes the proxy asks for (the kernel caps them at net.core.[rw]mem_max). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** mulberry32: small seeded PRNG, uniform in [0, 1). */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function emptyStats() {
  return {
    received: 0, // datagrams that arrived on the proxy socket for this direction
    receivedBytes: 0,
    forwarded: 0, // datagrams sent on (duplicates included)
    forwardedBytes: 0,
    dropped: 0, // dropped by the loss impairment
    duplicated: 0, // extra copies sent
    reordered: 0, // given an extra delay
    overflow: 0, // dropped because the delay queue was full
    noDestination: 0, // arrived before the other side's address was known
    foreignSource: 0, // arrived from an address other than the registered peer (forwarded anyway)
    sendErrors: 0,
  };
}

class Direction {
  constructor(name, seed, opts, out, proxy) {
    this.name = name;
    this.rand = prng(seed);
    this.opts = opts;
    this.out = out; // socket the datagrams leave from
    this.proxy = proxy;
    this.dest = null; // { address, port }
    this.connected = false; // `out` is connected to dest
    this.fifo = []; // { due, buf } in due order (constant delay keeps arrival order)
    this.fifoHead = 0;
    this.late = []; // reordered ones, sorted by due
    this.queuedBytes = 0;
    this.timer = null;
    this.timerDue = Infinity;
    this.stats = emptyStats();
  }

  push(buf, now) {
    const st = this.stats;
    const o = this.opts;
    st.received++;
    st.receivedBytes += buf.length;
    if (!this.dest) {
      st.noDestination++;
      return;
    }
    if (o.loss > 0 && this.rand() < o.loss) {
      st.dropped++;
      return;
    }
    let copies = 1;
    if (o.duplicate > 0 && this.rand() < o.duplicate) {
      copies = 2;
      st.duplicated++;
    }
    let extra = 0;
    if (o.reorder > 0 && this.rand() < o.reorder) {
      extra = 1 + this.rand() * Math.max(0, o.reorderExtraMs - 1);
      st.reordered++;
    }
    if (this.queuedBytes + copies * buf.length > MAX_QUEUED_BYTES) {
      st.overflow++;
      return;
    }
    // No delay asked and nothing waiting: straight through (no timer, whose 1 ms granularity
    // would add to the RTT).
    if (o.delayMs <= 0 && extra === 0 && this.fifoHead === this.fifo.length) {
      for (let i = 0; i < copies; i++) this.send(buf);
      return;
    }
    const due = now + o.delayMs + extra;
    for (let i = 0; i < copies; i++) {
      this.queuedBytes += buf.length;
      const item = { due, buf };
      if (extra > 0) {
        let j = this.late.length;
        while (j > 0 && this.late[j - 1].due > due) j--;
        this.late.splice(j, 0, item);
      } else {
        this.fifo.push(item);
      }
    }
    if (due < this.timerDue) this.arm(due, now);
  }

  nextDue() {
    const f = this.fifoHead < this.fifo.length ? this.fifo[this.fifoHead].due : Infinity;
    const l = this.late.length ? this.late[0].due : Infinity;
    return Math.min(f, l);
  }

  arm(due, now = performance.now()) {
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.flush(), Math.max(0, due - now));
  }

  flush() {
    this.timer = null;
    this.timerDue = Infinity;
    // Timers have 1 ms granularity: send what is due within the next half millisecond too.
    const now = performance.now() + 0.5;
    for (;;) {
      const f = this.fifoHead < this.fifo.length ? this.fifo[this.fifoHead] : null;
      const l = this.late.length ? this.late[0] : null;
      let item;
      if (f && f.due <= now && (!l || f.due <= l.due)) {
        item = f;
        this.fifo[this.fifoHead++] = undefined;
      } else if (l && l.due <= now) {
        item = this.late.shift();
      } else {
        break;
      }
      this.queuedBytes -= item.buf.length;
      this.send(item.buf);
    }
    if (this.fifoHead > 4096 && this.fifoHead * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.fifoHead);
      this.fifoHead = 0;
    }
    const next = this.nextDue();
    if (next !== Infinity) this.arm(next);
  }

  send(buf) {
    if (this.proxy.closed) return;
    const st = this.stats;
    st.forwarded++;
    st.forwardedBytes += buf.length;
    // No callback: a send error is emitted as the socket's 'error' event (counted there).
    // Once connected (setPeer), no address: that skips a lookup per datagram.
    if (this.connected) this.out.send(buf);
    else this.out.send(buf, this.dest.port, this.dest.address);
  }

  clear() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.fifo = [];
    this.fifoHead = 0;
    this.late = [];
    this.queuedBytes = 0;
  }
}

class UdpPathProxy {
  /**
   * @param {object} opts
   * @param {number} [opts.delayMs=0] one-way delay per datagram (RTT/2), both directions
   * @param {number} [opts.loss=0] drop probability per datagram, each direction
   * @param {number} [opts.duplicate=0] duplication probability
   * @param {number} [opts.reorder=0] probability of an extra 1..reorderExtraMs ms delay
   * @param {number} [opts.reorderExtraMs=10]
   * @param {number} [opts.seed=1]
   * @param {string} [opts.host='127.0.0.1']
   */
  constructor(opts = {}) {
    this.host = opts.host || '127.0.0.1';
    const seed = opts.seed === undefined ? 1 : opts.seed;
    const base = {
      delayMs: Number(opts.delayMs || 0),
      loss: 0,
      duplicate: 0,
      reorder: 0,
      reorderExtraMs: 10,
    };
    this.opts = { ab: { ...base }, ba: { ...base } };
    this.setImpairments(opts);
    this.closed = false;
    const sock = () =>
      dgram.createSocket({
        type: this.host.includes(':') ? 'udp6' : 'udp4',
        recvBufferSize: SOCKET_BUFFER_BYTES,
        sendBufferSize: SOCKET_BUFFER_BYTES,
      });
    this.x = sock(); // faces A
    this.y = sock(); // faces B
    this.ab = new Direction('ab', seed * 2 + 1, this.opts.ab, this.y, this);
    this.ba = new Direction('ba', seed * 2 + 2, this.opts.ba, this.x, this);
    this.a = null;
    this.b = null;
    const onMessage = (dir, expected) => (buf, rinfo) => {
      const peer = expected();
      if (peer && (peer.address !== rinfo.address || peer.port !== rinfo.port)) dir.stats.foreignSource++;
      dir.push(buf, performance.now());
    };
    this.x.on('message', onMessage(this.ab, () => this.a));
    this.y.on('message', onMessage(this.ba, () => this.b));
    this.x.on('error', () => this.ba.stats.sendErrors++);
    this.y.on('error', () => this.ab.stats.sendErrors++);
  }

  /** Binds both sockets; resolves to { x, y } (their ports). */
  async start() {
    const bind = (s) => new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, this.host, () => {
        s.removeListener('error', reject);
        resolve(s.address().port);
      });
    });
    this.ports = { x: await bind(this.x), y: await bind(this.y) };
    return this.ports;
  }

  /**
   * Where side 'a' or 'b' really is (from the candidate it signalled). A's address is where
   * datagrams from B leave X to; B's is where datagrams from A leave Y to. The socket facing
   * that side is then connected to it (resolves once connected), so from then on it only
   * receives from that address: a datagram from another one never crosses the proxy.
   */
  async setPeer(side, address, port) {
    const peer = { address, port: Number(port) };
    let dir;
    if (side === 'a') {
      this.a = peer;
      dir = this.ba;
    } else if (side === 'b') {
      this.b = peer;
      dir = this.ab;
    } else {
      throw new TypeError(`side must be 'a' or 'b', not ${side}`);
    }
    if (dir.connected) throw new Error(`side ${side} is already set`);
    dir.dest = peer;
    await new Promise((resolve, reject) => {
      dir.out.once('error', reject);
      dir.out.connect(peer.port, peer.address, () => {
        dir.out.removeListener('error', reject);
        resolve();
      });
    });
    dir.connected = true;
  }

  /** Changes loss/duplicate/reorder(/reorderExtraMs/delayMs) for both directions from now on. */
  setImpairments(imp = {}) {
    for (const o of [this.opts.ab, this.opts.ba]) {
      for (const key of ['delayMs', 'loss', 'duplicate', 'reorder', 'reorderExtraMs']) {
        if (imp[key] !== undefined) o[key] = Number(imp[key]);
      }
    }
  }

  /** Counters per direction: { ab: {...}, ba: {...} } (see emptyStats). */
  stats() {
    return { ab: { ...this.ab.stats, queuedBytes: this.ab.queuedBytes }, ba: { ...this.ba.stats, queuedBytes: this.ba.queuedBytes } };
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.ab.clear();
    this.ba.clear();
    try {
      this.x.close();
    } catch {}
    try {
      this.y.close();
    } catch {}
  }
}

/**
 * The proxy in a worker thread. Resolves to an object with the UdpPathProxy methods as
 * promises: ports (after start), setPeer, setImpairments, stats, close.
 */
async function startProxyWorker(opts = {}) {
  const worker = new Worker(__filename, { workerData: { udpPathProxy: opts } });
  let nextId = 1;
  const pending = new Map();
  let failed = null;
  const failAll = (err) => {
    failed = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (m) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.result);
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`proxy worker exited (${code})`)));
  const call = (method, ...args) => {
    if (failed) return Promise.reject(failed);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
  };
  const ports = await call('start');
  return {
    ports,
    setPeer: (side, address, port) => call('setPeer', side, address, port),
    setImpairments: (imp) => call('setImpairments', imp),
    stats: () => call('stats'),
    close: async () => {
      try {
        await call('close');
      } catch {}
      await worker.terminate();
    },
  };
}

if (!isMainThread && workerData && workerData.udpPathProxy) {
  const proxy = new UdpPathProxy(workerData.udpPathProxy);
  parentPort.on('message', async ({ id, method, args }) => {
    try {
      if (!['start', 'setPeer', 'setImpairments', 'stats', 'close'].includes(method)) throw new Error(`no method ${method}`);
      const result = await proxy[method](...args);
      parentPort.postMessage({ id, result: result === undefined ? null : result });
      if (method === 'close') parentPort.close();
    } catch (e) {
      parentPort.postMessage({ id, error: String((e && e.message) || e) });
    }
  });
}

module.exports = { UdpPathProxy, startProxyWorker, prng, MAX_QUEUED_BYTES };
