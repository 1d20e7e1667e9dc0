'use strict';
// The WASM build's figures, with the addon measured in the same run:
//   - the .wasm size, raw and gzip (-9);
//   - new RTCPeerConnection → open channel (median of BENCH_SETUP_N, default 5): a WASM peer
//     (js/wasm.js, in this Node process) ↔ an addon peer through the relay, beside two addon
//     peers directly;
//   - throughput of BENCH_WASM_MIB (default 32) MiB in 16 KiB messages each way on those pairs.
// `node bench/wasm.js` runs it alone; bench/run.js includes it.
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { withTimeout, connectPair } = require('./lib');
const { startRelay } = require('../relay/index.js');

const ROOT = path.resolve(__dirname, '..');
const WASM_FILE = path.join(ROOT, 'js', 'wasm', 'polyrtc_bg.wasm');
const MIB = Number(process.env.BENCH_WASM_MIB || 32);
const SETUP_N = Number(process.env.BENCH_SETUP_N || 5);

/** MiB/s of MIB MiB in 16 KiB messages from `from` to `to` (flow control by bufferedAmount). */
async function stream(from, to) {
  const total = MIB * 1024 * 1024;
  const size = 16 * 1024;
  const msg = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
  const HIGH = 4 * 1024 * 1024;
  to.binaryType = 'arraybuffer';
  let received = 0;
  const done = new Promise((resolve) => {
    to.onmessage = (e) => {
      received += e.data.byteLength;
      if (received >= total) resolve();
    };
  });
  from.bufferedAmountLowThreshold = 1024 * 1024;
  let sent = 0;
  const pump = () => {
    while (sent < total && from.bufferedAmount < HIGH) {
      from.send(msg);
      sent += size;
    }
  };
  from.onbufferedamountlow = pump;
  const t0 = performance.now();
  pump();
  await withTimeout(done, 180000, `receiving ${MIB} MiB (received ${received})`);
  return +(MIB / ((performance.now() - t0) / 1000)).toFixed(1);
}

async function measure(name, implA, configA, implB) {
  const times = [];
  for (let i = 0; i < SETUP_N; i++) {
    const t0 = performance.now();
    const p = await connectPair(implA, configA, 'bench', { impl: implB, config: {} });
    times.push(performance.now() - t0);
    p.close();
    await new Promise((r) => setTimeout(r, 50));
  }
  times.sort((x, y) => x - y);
  const p = await connectPair(implA, configA, 'bench', { impl: implB, config: {} });
  try {
    const forward = await stream(p.dcA, p.dcB);
    const back = await stream(p.dcB, p.dcA);
    return { name, setupMedianMs: +times[Math.floor(times.length / 2)].toFixed(1), forward, back };
  } finally {
    p.close();
  }
}

async function runWasmBench() {
  const out = {};
  if (!fs.existsSync(WASM_FILE)) return { error: `${path.relative(ROOT, WASM_FILE)} missing (bash scripts/build-wasm.sh)` };
  const bytes = fs.readFileSync(WASM_FILE);
  out.wasmBytes = bytes.length;
  out.wasmGzipBytes = zlib.gzipSync(bytes, { level: 9 }).length;
  if (process.env.POLYRTC_INCLUDE_LOOPBACK === undefined) process.env.POLYRTC_INCLUDE_LOOPBACK = '1';
  const addon = require('../js/cjs/node.cjs');
  const wasm = await import('../js/wasm.js');
  const relay = await startRelay({ users: { bench: 'bench' }, allowPrivate: true });
  try {
    const relayConfig = { relay: { urls: relay.wsUrl, username: 'bench', credential: 'bench' } };
    out.rows = [];
    out.rows.push(await measure('WASM peer ↔ addon peer, through the relay (WebSocket + TURN)', wasm, relayConfig, addon));
    out.rows.push(await measure('addon peer ↔ addon peer, direct (same run)', addon, {}, addon));
    out.relayStats = await relay.stats();
  } catch (e) {
    out.error = e.message;
  } finally {
    await relay.close();
  }
  return out;
}

function wasmTable(r) {
  const lines = [];
  if (r.wasmBytes) {
    lines.push(`WASM build: \`js/wasm/polyrtc_bg.wasm\` ${(r.wasmBytes / 1024).toFixed(0)} KiB raw, ${(r.wasmGzipBytes / 1024).toFixed(0)} KiB gzip -9.`);
    lines.push('');
  }
  if (r.error) {
    lines.push(`WASM rows not measured: ${r.error}`);
    return lines.join('\n');
  }
  lines.push(`| pair (in one Node process, loopback) | new RTCPeerConnection → open channel, median (ms) | ${MIB} MiB in 16 KiB msgs, offerer → answerer (MiB/s) | answerer → offerer (MiB/s) |`);
  lines.push('| --- | --- | --- | --- |');
  for (const row of r.rows) lines.push(`| ${row.name} | ${row.setupMedianMs} | ${row.forward} | ${row.back} |`);
  return lines.join('\n');
}

module.exports = { runWasmBench, wasmTable };

if (require.main === module) {
  runWasmBench().then((r) => {
    console.log(wasmTable(r));
    process.exit(r.error ? 1 : 0);
  });
}
