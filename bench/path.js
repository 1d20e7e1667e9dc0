'use strict';
// Delayed-path and lossy rows: runs bench/path-one.js for each implementation in its own child
// process and formats the table. `npm run bench` prints it under the loopback table;
// `node bench/path.js` (or `npm run bench -- --path-only`) runs only these rows and saves
// bench-results/path-latest.md (+ .json). BENCH_IMPLS as for bench/run.js.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DEFAULT_IMPL } = require('../tests/interop/lib/impl');
const { pathRows, receiveWindow } = require('./path-rows');

const ROOT = path.resolve(__dirname, '..');
const IMPLS = (process.env.BENCH_IMPLS || 'polyrtc,@roamhq/wrtc,node-datachannel/polyfill').split(',').filter(Boolean);

function childTimeoutMs() {
  if (process.env.BENCH_PATH_CHILD_TIMEOUT_MS) return Number(process.env.BENCH_PATH_CHILD_TIMEOUT_MS);
  // Every row's own timeout, plus connecting (30 s each at most) and slack.
  return pathRows().reduce((t, r) => t + (r.timeoutS + 35) * 1000, 30000);
}

function runPathOne(name) {
  const spec = name === 'polyrtc' ? DEFAULT_IMPL : name;
  const limit = childTimeoutMs();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(__dirname, 'path-one.js'), spec], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limit);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').reverse().find((l) => l.startsWith('RESULT '));
      if (line) resolve({ ...JSON.parse(line.slice(7)), name });
      else resolve({ name, error: killed ? `timeout: child killed after ${Math.round(limit / 1000)} s` : `child exited ${signal || code} without a result` });
    });
  });
}

const fmt = (x, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
/** Throughput: one decimal, two below 10 MiB/s, three below 1. */
const rate = (x) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(x < 1 ? 3 : x < 10 ? 2 : 1));

/** Markdown table of the path rows, one line per (row, implementation). */
function pathTable(results) {
  const rows = pathRows();
  const MSG = Number(process.env.BENCH_MSG_KIB || 16);
  const lines = [
    `Delayed and lossy paths: UDP proxy on loopback (bench/udp-proxy.js), each datagram delayed by RTT/2 each way; ${MSG} KiB messages, same bufferedAmount flow control as the loopback row; window-limited = advertised receive window / RTT`,
    '',
    '| path | implementation | data | time (s) | throughput (MiB/s) | window-limited (MiB/s) | % of window-limited | delivered intact | proxy A→B datagrams / dropped / duplicated / reordered | kernel UDP rcvbuf drops |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    for (const r of results) {
      const name = r.name === 'polyrtc' ? 'polyrtc (this repo)' : r.name;
      if (r.error) {
        lines.push(`| ${row.label} | ${name} | ${row.mib} MiB | ${r.error.slice(0, 80)} | | | | | | |`);
        continue;
      }
      const x = (r.rows || []).find((y) => y.key === row.key);
      if (!x) {
        lines.push(`| ${row.label} | ${name} | ${row.mib} MiB | no result | | | | | | |`);
        continue;
      }
      if (x.error && x.seconds === undefined) {
        lines.push(`| ${row.label} | ${name} | ${row.mib} MiB | failed: ${x.error.slice(0, 80)} | | | | | | |`);
        continue;
      }
      const win = receiveWindow(r.name);
      const limit = win && row.rttMs > 0 ? win.bytes / 1048576 / (row.rttMs / 1000) : null;
      const clean = !(row.loss || row.duplicate || row.reorder);
      const time = x.timedOut ? `timeout after ${fmt(x.seconds)} s (${fmt(x.receivedMiB, 2)} MiB delivered)` : fmt(x.seconds, 2);
      const ratio = limit && clean ? `${fmt((100 * x.mibPerS) / limit, 0)} %` : 'n/a';
      const intact = x.intact === true ? 'yes' : x.intact === false ? `NO: ${(x.problem || '').slice(0, 60)}` : 'n/a (timeout)';
      const pr = x.proxy;
      const proxyCell = pr ? `${pr.datagrams.ab} / ${pr.dropped.ab} / ${pr.duplicated.ab} / ${pr.reordered.ab}` : 'n/a';
      const note = [];
      if (x.error) note.push(x.error.slice(0, 80));
      if (x.selectedViaProxy === false) note.push(`selected pair remote port ${x.selectedRemotePort} is not the proxy`);
      if (x.bufferedAmountLowEvents === 0) note.push('no bufferedamountlow event; polled');
      lines.push(
        `| ${row.label} | ${name} | ${row.mib} MiB | ${time} | ${rate(x.mibPerS)}${note.length ? ` (${note.join('; ')})` : ''} | ${limit && clean ? rate(limit) : 'n/a'} | ${ratio} | ${intact} | ${proxyCell} | ${x.kernelUdpRcvbufErrors === null ? 'n/a' : x.kernelUdpRcvbufErrors} |`,
      );
    }
  }
  const wins = [...new Set(results.map((r) => r.name))].map((n) => {
    const w = receiveWindow(n);
    const unknown = n === 'polyrtc' ? 'n/a (DEFAULT_RECEIVE_WINDOW not found in src/sctp/mod.rs: set BENCH_RWND_BYTES)' : 'n/a (not known)';
    return `${n}: ${w ? `${w.bytes / 1048576} MiB (${w.source})` : unknown}`;
  });
  lines.push('', `Receive windows used for the window-limited figure: ${wins.join('; ')}. Issue 5's target: at 20 ms RTT, at least 60 % of the window-limited figure.`);
  const via = results
    .filter((r) => r.rows)
    .map((r) => {
      const known = r.rows.filter((x) => x.selectedViaProxy !== undefined && x.selectedViaProxy !== null);
      if (!known.length) return `${r.name}: not exposed (payload bytes counted crossing the proxy instead)`;
      return `${r.name}: ${known.every((x) => x.selectedViaProxy) ? 'proxy socket X' : 'NOT the proxy in some rows'}`;
    });
  lines.push(`Selected ICE pair's remote on the sending peer: ${via.join('; ')}. Loss, duplication and reordering start with the transfer (setup crosses the delayed path without them).`);
  return lines.join('\n');
}

async function runPathBench(impls = IMPLS) {
  const results = [];
  for (const name of impls) {
    console.error(`bench (paths): ${name} ...`);
    results.push(await runPathOne(name));
  }
  return results;
}

async function main() {
  const results = await runPathBench();
  const meta = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    node: process.version,
    cpus: os.cpus().length,
    cpu: (os.cpus()[0] || {}).model || 'unknown cpu',
    platform: `${os.platform()} ${os.arch()}`,
  };
  const md = `Benchmark, path rows only (${meta.date}, Node ${meta.node}, ${meta.cpus} x ${meta.cpu}, ${meta.platform})\n\n${pathTable(results)}`;
  console.log(md);
  const dir = path.join(ROOT, 'bench-results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'path-latest.md'), md + '\n');
  fs.writeFileSync(path.join(dir, 'path-latest.json'), JSON.stringify({ meta, rows: pathRows(), results }, null, 2) + '\n');
  console.error(`bench: saved bench-results/path-latest.md`);
}

if (require.main === module) main();

module.exports = { runPathBench, pathTable, main };
