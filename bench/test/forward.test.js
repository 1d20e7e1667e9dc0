'use strict';
// Smoke test of bench/forward.js (small N, short run): a received track forwarded by the hub
// reaches every receiver in the child process. No timing asserts (the figures are the
// benchmark's, on a noisy machine).
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { execFile } = require('node:child_process');

test('forward.js: 3 receivers, every one gets the forwarded frames; the figures are numbers', { timeout: 90000 }, async () => {
  const env = { ...process.env, BENCH_FORWARD_N: '3', BENCH_FORWARD_FPS: '50', BENCH_FORWARD_S: '1' };
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, '..', 'forward.js'), '--json'], { env, timeout: 80000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  const r = JSON.parse(out.trim().split('\n').pop());
  assert.strictEqual(r.receivers, 3);
  assert.strictEqual(r.counts.length, 3, 'a count from every receiver');
  for (const c of r.counts) assert.ok(c > 10, `every receiver got frames: ${JSON.stringify(r.counts)}`);
  assert.ok(r.forwardedPerS > 0 && Number.isFinite(r.perCore) && r.perCore > 0, JSON.stringify(r));
});
