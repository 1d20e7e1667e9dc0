'use strict';
// The relay's cost (relay/examples/relay_bench.rs): memory per allocation and datagrams
// forwarded per CPU-second of the relay process with BENCH_RELAY_ALLOCATIONS allocations
// (default 1000) for BENCH_RELAY_SECONDS (default 5), for polyrtc-relay and, measured the
// same way in the same run, Debian's coturn. Builds the release binary and the example first.
const { execFileSync, spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

function runRelayBench() {
  const n = String(process.env.BENCH_RELAY_ALLOCATIONS || 1000);
  const secs = String(process.env.BENCH_RELAY_SECONDS || 5);
  try {
    execFileSync('cargo', ['build', '-q', '--release', '-p', 'polyrtc-relay', '--bin', 'polyrtc-relay', '--example', 'relay_bench'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  } catch (e) {
    return { error: `build failed: ${e.message}` };
  }
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
  const rows = [];
  for (const server of [path.join(target, 'release', 'polyrtc-relay'), 'coturn']) {
    const r = spawnSync(path.join(target, 'release', 'examples', 'relay_bench'), [n, secs, server], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 5 * 60 * 1000,
    });
    process.stderr.write(r.stderr || '');
    const line = (r.stdout || '').split('\n').find((l) => l.startsWith('RESULT '));
    rows.push(line ? JSON.parse(line.slice(7)) : { server: path.basename(server), error: `relay_bench exited ${r.status} without a result` });
  }
  return { rows };
}

function relayTable(result) {
  if (result.error) return `Relay: not measured: ${result.error}`;
  const k = (x) => Math.round(x / 1000);
  const first = result.rows.find((r) => !r.error) || { allocations: '?' };
  const lines = [
    `TURN relay cost, ${first.allocations} allocations over UDP at once, 100-byte ChannelData round-robin to 4 sinks:`,
    '',
    '| server | RSS per allocation (KiB) | forwarded datagrams/s | relay CPU (s) | datagrams per relay CPU-second |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of result.rows) {
    if (r.error) {
      lines.push(`| ${r.server} | not measured: ${r.error} | | | |`);
      continue;
    }
    lines.push(
      `| ${r.server} | ${r.kibPerAllocation} | ${k(r.forwardedPerSecond)} k (${r.forwarded} of ${r.sent} sent in ${r.seconds} s) | ${r.relayCpuSeconds} | ${k(r.forwardedPerCpuSecond)} k |`,
    );
  }
  return lines.join('\n');
}

module.exports = { runRelayBench, relayTable };

if (require.main === module) {
  const r = runRelayBench();
  console.log(relayTable(r));
  if (r.error || r.rows.some((x) => x.error)) process.exit(1);
}
