'use strict';
// Delayed-path and lossy rows for ONE implementation, in this process; prints
// `RESULT <json>` as its last line. Both peers talk through bench/udp-proxy.js (in a worker
// thread): A only learns the proxy socket X as B's address, B only learns Y as A's.
// Usage: node bench/path-one.js <impl>   (impl: module name or path, like POLYRTC_IMPL)
// Knobs: see bench/path.js (the rows come from there as BENCH_PATH_ROWS_JSON).
const crypto = require('node:crypto');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { loadImpl } = require('../tests/interop/lib/impl');
const { implConfig, withTimeout } = require('./lib');
const { startProxyWorker } = require('./udp-proxy');
const { pathRows } = require('./path-rows');

const spec = process.argv[2];
const MSG_KIB = Number(process.env.BENCH_MSG_KIB || 16);
const CONNECT_TIMEOUT_MS = Number(process.env.BENCH_PATH_CONNECT_TIMEOUT_MS || 30000);
const log = (...a) => console.error(`[path ${spec}]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Kernel UDP counters (all sockets of the machine): datagrams dropped for a full receive buffer. */
function udpRcvbufErrors() {
  try {
    const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    return Number(values[names.indexOf('RcvbufErrors')]);
  } catch {
    return null;
  }
}

/**
 * Parses a candidate line; returns the fields we rewrite, or null if it is not a UDP host
 * candidate on 127.0.0.1 (the only kind signalled through the proxy).
 */
function loopbackUdpHost(candidate) {
  const s = String(candidate || '').replace(/^a=/, '').trim();
  const parts = s.split(/\s+/);
  if (parts.length < 8 || !/^candidate:/.test(parts[0])) return null;
  if (parts[2].toLowerCase() !== 'udp' || parts[4] !== '127.0.0.1' || parts[6] !== 'typ' || parts[7] !== 'host') return null;
  return { parts, address: parts[4], port: Number(parts[5]) };
}

/** The SDP without any candidate line: candidates travel only through onicecandidate, rewritten. */
function stripCandidates(desc) {
  const sdp = desc.sdp
    .split(/\r\n/)
    .filter((line) => !line.startsWith('a=candidate:'))
    .join('\r\n');
  return { type: desc.type, sdp };
}

function waitOpen(dc) {
  if (dc.readyState === 'open') return Promise.resolve(dc);
  return new Promise((resolve, reject) => {
    dc.addEventListener('open', () => resolve(dc), { once: true });
    dc.addEventListener('close', () => reject(new Error('channel closed before open')), { once: true });
  });
}

/**
 * Two peers of `impl` connected through `proxy`. Each peer's first 127.0.0.1 UDP host
 * candidate is registered with the proxy and handed to the other peer rewritten to the proxy
 * socket that impersonates it; all other candidates are dropped.
 */
async function connectViaProxy(impl, config, proxy) {
  const a = new impl.RTCPeerConnection({ ...config });
  const b = new impl.RTCPeerConnection({ ...config });
  const close = () => {
    try {
      a.close();
    } catch {}
    try {
      b.close();
    } catch {}
  };
  try {
    // side: which proxy side this peer is; facePort: the proxy socket the OTHER peer must use.
    const link = (from, to, side, facePort) => {
      const state = { ready: false, queue: [], registered: false, chain: Promise.resolve() };
      from.onicecandidate = (e) => {
        const c = e && e.candidate;
        const parsed = c && c.candidate && loopbackUdpHost(c.candidate);
        if (!parsed || state.registered) return;
        state.registered = true;
        const parts = parsed.parts.slice();
        parts[5] = String(facePort);
        const init = { candidate: parts.join(' '), sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
        // Tell the proxy where this peer is before the other peer can send towards it.
        state.chain = state.chain.then(() => proxy.setPeer(side, parsed.address, parsed.port)).then(() => {
          if (state.ready) return to.addIceCandidate(init).catch(() => {});
          state.queue.push(init);
          return undefined;
        });
      };
      state.flush = () => {
        state.ready = true;
        state.chain = state.chain.then(() => Promise.all(state.queue.splice(0).map((i) => to.addIceCandidate(i).catch(() => {}))));
      };
      return state;
    };
    // A is told B is at X; B is told A is at Y.
    const ab = link(a, b, 'a', proxy.ports.y);
    const ba = link(b, a, 'b', proxy.ports.x);
    const dcA = a.createDataChannel('path');
    const openA = waitOpen(dcA);
    const dcB = new Promise((resolve) => {
      b.ondatachannel = (e) => resolve(waitOpen(e.channel));
    });
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(stripCandidates(a.localDescription));
    ab.flush();
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(stripCandidates(b.localDescription));
    ba.flush();
    const [chanA, chanB] = await withTimeout(Promise.all([openA, dcB]), CONNECT_TIMEOUT_MS, 'data channel open through the proxy');
    if (!ab.registered || !ba.registered) throw new Error('a peer signalled no 127.0.0.1 UDP host candidate');
    return { a, b, dcA: chanA, dcB: chanB, close };
  } catch (e) {
    close();
    throw e;
  }
}

/** The remote port of A's selected ICE pair, where the implementation exposes it (else null). */
async function selectedRemotePort(pc) {
  try {
    const t = pc.sctp && pc.sctp.transport && pc.sctp.transport.iceTransport;
    const pair = t && typeof t.getSelectedCandidatePair === 'function' ? t.getSelectedCandidatePair() : null;
    if (pair && pair.remote && pair.remote.port) return Number(pair.remote.port);
  } catch {}
  try {
    const report = await pc.getStats();
    const byId = new Map();
    report.forEach((s) => byId.set(s.id, s));
    let pairStats = null;
    report.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairStats = byId.get(s.selectedCandidatePairId) || pairStats;
    });
    if (!pairStats) {
      report.forEach((s) => {
        if (s.type === 'candidate-pair' && s.state === 'succeeded' && (s.nominated || s.selected)) pairStats = pairStats || s;
      });
    }
    const remote = pairStats && byId.get(pairStats.remoteCandidateId);
    if (remote && remote.port) return Number(remote.port);
  } catch {}
  return null;
}

/** Message `seq`: 4-byte big-endian sequence number, then a body that differs per message. */
function makeMessage(seq, size, pool) {
  const m = new Uint8Array(size);
  new DataView(m.buffer).setUint32(0, seq);
  const body = pool[seq % pool.length];
  m.set(body.subarray(0, size - 4), 4);
  return m;
}

async function runRow(impl, config, row) {
  const total = row.mib * 1024 * 1024;
  const size = MSG_KIB * 1024;
  const count = Math.ceil(total / size);
  const out = { key: row.key, mib: row.mib, rttMs: row.rttMs, loss: row.loss, duplicate: row.duplicate, reorder: row.reorder };
  const proxy = await startProxyWorker({ delayMs: row.rttMs / 2, seed: row.seed || 1 });
  let p = null;
  try {
    try {
      p = await connectViaProxy(impl, config, proxy);
    } catch (e) {
      out.error = `connect: ${String(e.message || e).split('\n')[0]}`;
      return out;
    }
    const port = await selectedRemotePort(p.a);
    out.selectedRemotePort = port;
    out.selectedViaProxy = port === null ? null : port === proxy.ports.x;
    // Different bodies per message (so a swapped or repeated message changes the hash).
    const pool = [];
    for (let i = 0; i < 7; i++) {
      const body = new Uint8Array(size);
      for (let j = 0; j < size; j++) body[j] = (j * (2 * i + 3) + i * 17 + (j >> 8)) & 0xff;
      pool.push(body);
    }
    const expected = crypto.createHash('sha256');
    const gotHash = crypto.createHash('sha256');
    let received = 0;
    let receivedMsgs = 0;
    let nextSeq = 0;
    let firstProblem = null;
    p.dcB.binaryType = 'arraybuffer';
    const done = new Promise((resolve) => {
      p.dcB.onmessage = (e) => {
        const d = e.data;
        const u8 = d instanceof ArrayBuffer ? new Uint8Array(d) : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : null;
        if (!u8) {
          firstProblem = firstProblem || `message ${receivedMsgs} is not binary`;
          return;
        }
        const seq = u8.byteLength >= 4 ? new DataView(u8.buffer, u8.byteOffset, u8.byteLength).getUint32(0) : -1;
        if (!firstProblem && (u8.byteLength !== size || seq !== nextSeq)) {
          firstProblem = `message ${receivedMsgs}: ${u8.byteLength} bytes, seq ${seq}, expected ${size} bytes seq ${nextSeq}`;
        }
        nextSeq = seq + 1;
        gotHash.update(u8);
        received += u8.byteLength;
        receivedMsgs++;
        if (receivedMsgs >= count) resolve();
      };
    });
    const before = await proxy.stats();
    const kernel0 = udpRcvbufErrors();
    // Loss, duplication and reordering start with the transfer (the handshake crossed a
    // delayed but clean path), so the row times the transfer, not connection setup.
    await proxy.setImpairments({ loss: row.loss || 0, duplicate: row.duplicate || 0, reorder: row.reorder || 0, reorderExtraMs: row.reorderExtraMs || 10 });
    // The same flow control as the loopback row: keep bufferedAmount under 4 MiB, refill on
    // bufferedamountlow (1 MiB) and on a 5 ms poll.
    const HIGH = 4 * 1024 * 1024;
    p.dcA.bufferedAmountLowThreshold = 1024 * 1024;
    let sent = 0;
    let lowEvents = 0;
    const pump = () => {
      while (sent < count && p.dcA.readyState === 'open' && p.dcA.bufferedAmount < HIGH) {
        const m = makeMessage(sent, size, pool);
        expected.update(m);
        p.dcA.send(m);
        sent++;
      }
    };
    p.dcA.onbufferedamountlow = () => {
      lowEvents++;
      pump();
    };
    const poll = setInterval(pump, 5);
    const t0 = performance.now();
    pump();
    let timedOut = false;
    try {
      await withTimeout(done, row.timeoutS * 1000, 'transfer');
    } catch {
      timedOut = true;
    } finally {
      clearInterval(poll);
    }
    const s = (performance.now() - t0) / 1000;
    // The receiver has everything before the sender hears the last acknowledgements: wait
    // (untimed, bounded) for the sender's buffer to empty, so a bufferedamountlow that only
    // comes with the final acknowledgements is counted too.
    const drainUntil = performance.now() + 5000;
    while (!timedOut && p.dcA.readyState === 'open' && p.dcA.bufferedAmount > 0 && performance.now() < drainUntil) {
      await sleep(5);
    }
    await sleep(20);
    const after = await proxy.stats();
    const kernel1 = udpRcvbufErrors();
    out.seconds = +s.toFixed(2);
    out.receivedMiB = +(received / 1048576).toFixed(2);
    out.mibPerS = +(received / 1048576 / s).toFixed(3);
    out.timedOut = timedOut;
    out.bufferedAmountLowEvents = lowEvents;
    if (!timedOut) {
      out.intact = !firstProblem && gotHash.digest('hex') === expected.digest('hex');
      if (!out.intact) out.problem = firstProblem || 'content hash differs';
    } else {
      out.intact = firstProblem ? false : null;
      if (firstProblem) out.problem = firstProblem;
    }
    const diff = (k) => ({
      ab: after.ab[k] - before.ab[k],
      ba: after.ba[k] - before.ba[k],
    });
    out.proxy = {
      datagrams: diff('received'),
      forwardedBytes: diff('forwardedBytes'),
      dropped: diff('dropped'),
      duplicated: diff('duplicated'),
      reordered: diff('reordered'),
      overflow: diff('overflow'),
      noDestination: { ab: after.ab.noDestination, ba: after.ba.noDestination },
      foreignSource: { ab: after.ab.foreignSource, ba: after.ba.foreignSource },
    };
    out.kernelUdpRcvbufErrors = kernel0 === null || kernel1 === null ? null : kernel1 - kernel0;
    // The payload must have crossed the proxy: peers know no other address of each other.
    if (!timedOut && out.proxy.forwardedBytes.ab < total) {
      out.error = `only ${out.proxy.forwardedBytes.ab} bytes crossed the proxy for ${total} delivered: the peers found another path`;
    }
    return out;
  } finally {
    if (p) p.close();
    await proxy.close();
    await sleep(100);
  }
}

async function main() {
  const result = { impl: spec, node: process.version, rows: [] };
  let impl;
  try {
    impl = loadImpl(spec);
  } catch (e) {
    result.error = `not loadable: ${e.message.split('\n')[0]}`;
    console.log(`RESULT ${JSON.stringify(result)}`);
    return;
  }
  const config = implConfig(spec);
  for (const row of pathRows()) {
    log(`${row.key} (${row.mib} MiB)...`);
    let r;
    try {
      r = await runRow(impl, config, row);
    } catch (e) {
      r = { key: row.key, mib: row.mib, rttMs: row.rttMs, error: String(e.message || e).split('\n')[0] };
    }
    log(`${row.key}:`, JSON.stringify(r));
    result.rows.push(r);
  }
  console.log(`RESULT ${JSON.stringify(result)}`);
}

if (require.main === module) {
  main().then(
    () => setTimeout(() => process.exit(0), 200),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}

module.exports = { loopbackUdpHost, stripCandidates, connectViaProxy };
