'use strict';
// `npm run bench`: runs bench/run-one.js for each implementation in its own child process,
// prints a markdown table and saves it to bench-results/latest.md (+ latest.json).
// BENCH_IMPLS=comma,separated,list overrides the list ("polyrtc" = this repo's package, js/cjs/node.cjs).
// After the loopback rows come the delayed-path and lossy rows (bench/path.js, through the UDP
// proxy bench/udp-proxy.js). `npm run bench -- --path-only` runs only those (saved to
// bench-results/path-latest.md); `npm run bench -- --no-path` only the loopback rows.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DEFAULT_IMPL } = require('../tests/interop/lib/impl');
const pathBench = require('./path');
const relayBench = require('./relay');
const wasmBench = require('./wasm');
const srtpBench = require('./srtp');

const ROOT = path.resolve(__dirname, '..');
const IMPLS = (process.env.BENCH_IMPLS || 'polyrtc,@roamhq/wrtc,node-datachannel/polyfill').split(',').filter(Boolean);
const CHILD_TIMEOUT_MS = Number(process.env.BENCH_CHILD_TIMEOUT_MS || 10 * 60 * 1000);

function runOne(name) {
  const spec = name === 'polyrtc' ? DEFAULT_IMPL : name;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(__dirname, 'run-one.js'), spec], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').reverse().find((l) => l.startsWith('RESULT '));
      if (line) resolve({ ...JSON.parse(line.slice(7)), name });
      else resolve({ name, error: `child exited ${signal || code} without a result` });
    });
  });
}

const cell = (r, key, errKey = `${key}Error`) => {
  if (r.error) return '—';
  if (r[key] === null || r[key] === undefined) return `failed: ${(r[errKey] || 'n/a').slice(0, 60)}`;
  return String(r[key]);
};

function table(results, meta) {
  const MSG = Number(process.env.BENCH_MSG_KIB || 16);
  const MIB = Number(process.env.BENCH_MIB || 32);
  const PAIRS = Number(process.env.BENCH_PAIRS || 100);
  const lines = [
    `Benchmark (${meta.date}, Node ${meta.node}, ${meta.cpus} x ${meta.cpu}, ${meta.platform})`,
    '',
    `| implementation | throughput, ${MIB} MiB in ${MSG} KiB msgs (MiB/s) | new RTCPeerConnection → open channel, median (ms) | RSS per connection, ${PAIRS * 2} conns (KiB) | idle CPU, ${PAIRS * 2} conns (%) |`,
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const name = r.name === 'polyrtc' ? 'polyrtc (this repo)' : r.name;
    if (r.error) {
      lines.push(`| ${name} | not available: ${r.error.slice(0, 80)} | | | |`);
      continue;
    }
    const tp =
      cell(r, 'throughputMiBs') +
      (r.bufferedAmountLowEvents === 0 ? ' (no bufferedamountlow event fired; polled)' : '') +
      (r.throughputConnectRetries ? ` (pair retried ${r.throughputConnectRetries}x)` : '');
    lines.push(
      `| ${name} | ${tp} | ${cell(r, 'setupMedianMs')} | ${cell(r, 'kibPerConn')}${r.idleConnectRetries ? ` (${r.idleConnectRetries} pair(s) retried)` : ''} | ${cell(r, 'idleCpuPct', 'kibPerConnError')} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const argv = process.argv.slice(2);
  const known = ['--path-only', '--no-path', '--no-relay', '--no-wasm'];
  const unknown = argv.filter((a) => !known.includes(a));
  if (unknown.length) {
    console.error(`bench: unknown argument(s) ${unknown.join(' ')} (known: ${known.join(', ')})`);
    process.exit(2);
  }
  if (argv.includes('--path-only')) return pathBench.main();
  const withPath = !argv.includes('--no-path');
  const results = [];
  for (const name of IMPLS) {
    console.error(`bench: ${name} ...`);
    results.push(await runOne(name));
  }
  const pathResults = withPath ? await pathBench.runPathBench(IMPLS) : null;
  console.error('bench: relay ...');
  const relayResult = argv.includes('--no-relay') ? null : relayBench.runRelayBench();
  console.error('bench: wasm ...');
  const wasmResult = argv.includes('--no-wasm') ? null : await wasmBench.runWasmBench();
  const meta = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    node: process.version,
    cpus: os.cpus().length,
    cpu: (os.cpus()[0] || {}).model || 'unknown cpu',
    platform: `${os.platform()} ${os.arch()}`,
  };
  let md = table(results, meta);
  if (pathResults) md += `\n\n${pathBench.pathTable(pathResults)}`;
  if (wasmResult) md += `\n\n${wasmBench.wasmTable(wasmResult)}`;
  if (relayResult) md += `\n\n${relayBench.relayTable(relayResult)}`;
  if (!argv.includes('--no-srtp')) md += `\n\nSRTP (bench/srtp.js):\n\n${srtpBench.main()}`;
  console.log(md);
  const dir = path.join(ROOT, 'bench-results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.md'), md + '\n');
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify({ meta, results, pathResults, wasmResult, relayResult }, null, 2) + '\n');
  console.error(`bench: saved ${path.relative(ROOT, path.join(dir, 'latest.md'))}`);
}

main();
