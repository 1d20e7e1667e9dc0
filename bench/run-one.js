'use strict';
// Benchmarks ONE implementation in this process and prints `RESULT <json>` as its last line.
// Usage: node --expose-gc bench/run-one.js <impl>   (impl: module name or path, like POLYRTC_IMPL)
// Knobs: BENCH_MIB (32), BENCH_MSG_KIB (16), BENCH_SETUP_N (20), BENCH_PAIRS (100), BENCH_IDLE_S (10)
const { performance } = require('node:perf_hooks');
const { loadImpl } = require('../tests/interop/lib/impl');
const { implConfig, withTimeout, connectPair } = require('./lib');

const spec = process.argv[2];
const MIB = Number(process.env.BENCH_MIB || 32);
const MSG_KIB = Number(process.env.BENCH_MSG_KIB || 16);
const SETUP_N = Number(process.env.BENCH_SETUP_N || 20);
const PAIRS = Number(process.env.BENCH_PAIRS || 100);
const IDLE_S = Number(process.env.BENCH_IDLE_S || 10);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Several rounds: native finalizers (external buffers, closed peers) run after a GC and
// free more memory, which the next round and the pause let settle before RSS is read.
const gc = async () => {
  for (let i = 0; i < 4; i++) {
    if (global.gc) global.gc();
    await sleep(150);
  }
};
const log = (...a) => console.error(`[${spec}]`, ...a);

async function throughput(impl, config, result) {
  const p = await connectWithRetry(impl, config, 'throughput');
  result.throughputConnectRetries = throughputRetries;
  try {
    const total = MIB * 1024 * 1024;
    const size = MSG_KIB * 1024;
    const msg = new Uint8Array(size);
    for (let i = 0; i < size; i++) msg[i] = (i * 31) & 0xff;
    const HIGH = 4 * 1024 * 1024;
    p.dcB.binaryType = 'arraybuffer';
    let received = 0;
    const done = new Promise((resolve) => {
      p.dcB.onmessage = (e) => {
        received += e.data.byteLength !== undefined ? e.data.byteLength : e.data.length;
        if (received >= total) resolve();
      };
    });
    p.dcA.bufferedAmountLowThreshold = 1024 * 1024;
    let sent = 0;
    let lowEvents = 0;
    const pump = () => {
      while (sent < total && p.dcA.bufferedAmount < HIGH) {
        p.dcA.send(msg);
        sent += size;
      }
    };
    p.dcA.onbufferedamountlow = () => {
      lowEvents++;
      pump();
    };
    // Safety net for stacks that never fire bufferedamountlow (@roamhq/wrtc here): poll every
    // 5 ms. The result records how many events fired, so the table can say when it was needed.
    const poll = setInterval(pump, 5);
    const t0 = performance.now();
    pump();
    try {
      await withTimeout(done, 120000, `receiving ${MIB} MiB (received ${received})`);
    } finally {
      clearInterval(poll);
    }
    const s = (performance.now() - t0) / 1000;
    result.bufferedAmountLowEvents = lowEvents;
    return +(MIB / s).toFixed(1);
  } finally {
    p.close();
  }
}

async function setupTime(impl, config) {
  const times = [];
  for (let i = 0; i < SETUP_N; i++) {
    const t0 = performance.now();
    const p = await connectPair(impl, config, 'setup');
    times.push(performance.now() - t0);
    p.close();
    await sleep(20);
  }
  times.sort((x, y) => x - y);
  return +times[Math.floor(times.length / 2)].toFixed(1);
}

// node-datachannel here sometimes never opens a pair (ICE times out). Where connecting is
// not what is measured (memory, idle CPU, throughput), such a pair is retried (counted).
let idleRetries = 0;
let throughputRetries = 0;
async function connectWithRetry(impl, config, label = 'idle', attempts = 3) {
  for (let i = 1; ; i++) {
    try {
      return await connectPair(impl, config, label);
    } catch (e) {
      if (i >= attempts) throw e;
      if (label === 'idle') idleRetries++;
      else throughputRetries++;
      log(`${label}: pair failed (${String(e.message || e).split('\n')[0]}), retrying`);
    }
  }
}

async function memoryAndIdle(impl, config) {
  await gc();
  const rss0 = process.memoryUsage().rss;
  const pairs = [];
  try {
    const BATCH = 10;
    for (let i = 0; i < PAIRS; i += BATCH) {
      const n = Math.min(BATCH, PAIRS - i);
      pairs.push(...(await Promise.all(Array.from({ length: n }, () => connectWithRetry(impl, config)))));
    }
    await gc();
    const rss1 = process.memoryUsage().rss;
    const kibPerConn = +((rss1 - rss0) / 1024 / (2 * PAIRS)).toFixed(1);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(IDLE_S * 1000);
    const cpu = process.cpuUsage(cpu0);
    const wallUs = (performance.now() - t0) * 1000;
    const idleCpu = +((100 * (cpu.user + cpu.system)) / wallUs).toFixed(2);
    const stillOpen = pairs.filter((p) => p.dcA.readyState === 'open' && p.dcB.readyState === 'open').length;
    return { kibPerConn, idleCpu, stillOpen, retries: idleRetries };
  } finally {
    for (const p of pairs) p.close();
  }
}

async function main() {
  const result = { impl: spec, node: process.version };
  let impl;
  try {
    impl = loadImpl(spec);
  } catch (e) {
    result.error = `not loadable: ${e.message.split('\n')[0]}`;
    console.log(`RESULT ${JSON.stringify(result)}`);
    return;
  }
  const config = implConfig(spec);
  const step = async (key, fn) => {
    log(`${key}...`);
    try {
      result[key] = await fn();
    } catch (e) {
      result[key] = null;
      result[`${key}Error`] = String(e.message || e).split('\n')[0];
    }
    log(`${key}:`, JSON.stringify(result[key]), result[`${key}Error`] || '');
  };
  await step('setupMedianMs', () => setupTime(impl, config));
  // Memory before throughput: the 32 MiB transfer leaves garbage (and freed heap) behind
  // that made the RSS difference noisy (even negative) when measured after it.
  await step('idle', () => memoryAndIdle(impl, config));
  await step('throughputMiBs', () => throughput(impl, config, result));
  if (result.idle) {
    Object.assign(result, {
      kibPerConn: result.idle.kibPerConn,
      idleCpuPct: result.idle.idleCpu,
      idleStillOpen: result.idle.stillOpen,
      idleConnectRetries: result.idle.retries,
    });
  } else {
    result.kibPerConnError = result.idleError;
  }
  delete result.idle;
  console.log(`RESULT ${JSON.stringify(result)}`);
}

main().then(
  () => setTimeout(() => process.exit(0), 200),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
