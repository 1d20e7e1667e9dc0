'use strict';
// Many connections in one process, and the process lifetime they imply (REAL engine): a
// child opens 50 pairs, exchanges, closes them and must then exit on its own with code 0;
// a child that leaves one peer open must stay alive.
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { skipUnlessAddon, withTimeout, sleep } = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const CHILD = path.join(__dirname, 'fixtures', 'many-pairs.js');

/** Spawn the child; resolves its summary line; `exited` resolves { code, signal, at }. */
function runChild(args) {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const summary = new Promise((resolve) => {
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ line: JSON.parse(out.slice(0, nl)), at: Date.now() });
    });
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  return { child, summary, exited };
}

test('50 pairs connect, exchange and close; the process then exits on its own', { skip, timeout: 60000 }, async () => {
  const { child, summary, exited } = runChild(['50']);
  try {
    const s = await withTimeout(summary, 'child summary', 40000);
    assert.deepStrictEqual(s.line.ok, 50, JSON.stringify(s.line));
    console.log(`# 50 pairs connected and exchanged in ${s.line.ms} ms`);
    const e = await withTimeout(exited, 'child exits on its own', 5000);
    assert.strictEqual(e.code, 0);
    assert.ok(e.at - s.at < 5000, `exit took ${e.at - s.at} ms`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('a peer left open keeps the process alive', { skip, timeout: 60000 }, async () => {
  const { child, summary, exited } = runChild(['2', '--leave-open']);
  try {
    const s = await withTimeout(summary, 'child summary', 40000);
    assert.strictEqual(s.line.ok, 2);
    let gone = false;
    exited.then(() => { gone = true; });
    await sleep(2000);
    assert.strictEqual(gone, false, 'the child exited although a peer was open');
    child.kill('SIGTERM');
    const e = await withTimeout(exited, 'killed child exits', 5000);
    assert.strictEqual(e.signal, 'SIGTERM');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
