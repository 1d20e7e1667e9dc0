'use strict';
// The addon's plumbing (I/O thread, threadsafe function, event batches, Buffers, keep-alive
// and release) through the test-only `__EchoProbe`, independent of the core.
const test = require('node:test');
const assert = require('node:assert');
const dgram = require('node:dgram');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

let binding = null;
try {
  binding = require('..');
} catch (e) {
  binding = null;
}

function once(fn) {
  return new Promise((resolve) => fn(resolve));
}

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

test('datagrams are echoed and reported as one batch of message events', async (t) => {
  if (!binding) return t.skip('addon not built');
  const batches = [];
  let notify = null;
  const probe = new binding.__EchoProbe((events) => {
    batches.push(events);
    if (notify) notify();
  }, true);
  assert.ok(probe.port > 0);
  const sock = dgram.createSocket('udp4');
  t.after(() => sock.close());
  const echoed = once((r) => sock.once('message', (msg) => r(msg)));
  const gotBatch = once((r) => (notify = r));
  sock.send(Buffer.from('hello'), probe.port, '127.0.0.1');
  const msg = await withTimeout(echoed, 3000, 'echo');
  assert.strictEqual(msg.toString(), 'hello');
  await withTimeout(gotBatch, 3000, 'event batch');
  assert.strictEqual(batches.length, 1);
  const [ev] = batches[0];
  assert.ok(Array.isArray(batches[0]));
  assert.deepStrictEqual(Object.keys(ev), ['type', 'channel', 'binary', 'data']);
  assert.strictEqual(ev.type, 'message');
  assert.strictEqual(ev.channel, 0);
  assert.strictEqual(ev.binary, true);
  assert.ok(Buffer.isBuffer(ev.data));
  assert.strictEqual(ev.data.toString(), 'hello');

  const closedBatch = once((r) => (notify = r));
  probe.close();
  probe.close(); // idempotent
  await withTimeout(closedBatch, 3000, 'close batch');
  assert.deepStrictEqual(batches[1], [{ type: 'connectionstatechange', state: 'closed' }]);
});

test('a panic in the engine becomes an error event and the process survives', async (t) => {
  if (!binding) return t.skip('addon not built');
  let resolveErr;
  const gotErr = new Promise((r) => (resolveErr = r));
  const probe = new binding.__EchoProbe((events) => {
    for (const e of events) if (e.type === 'error') resolveErr(e);
  }, true);
  const sock = dgram.createSocket('udp4');
  t.after(() => sock.close());
  sock.send(Buffer.from('panic'), probe.port, '127.0.0.1');
  const ev = await withTimeout(gotErr, 3000, 'error event');
  assert.match(ev.message, /echo probe asked to panic/);
  probe.close();

  // Another probe still works on the same I/O thread.
  let resolveMsg;
  const gotMsg = new Promise((r) => (resolveMsg = r));
  const other = new binding.__EchoProbe((events) => resolveMsg(events[0]), true);
  sock.send(Buffer.from('ok'), other.port, '127.0.0.1');
  const m = await withTimeout(gotMsg, 3000, 'message after a panic');
  assert.strictEqual(m.data.toString(), 'ok');
  other.close();
});

function runChild(body, timeoutMs) {
  const script = `const b = require(${JSON.stringify(path.join(__dirname, '..'))});\n${body}`;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: timeoutMs, encoding: 'utf8' });
  if (r.error && r.error.code === 'ETIMEDOUT') return { status: 'timeout', stderr: r.stderr, stdout: r.stdout };
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

test('an open kept-alive probe keeps the process alive; close() lets it exit', (t) => {
  if (!binding) return t.skip('addon not built');
  const open = runChild(`new b.__EchoProbe(() => {}, true);`, 1500);
  assert.strictEqual(open.status, 'timeout', 'stays alive while open');
  const closed = runChild(`const p = new b.__EchoProbe(() => {}, true); p.close();`, 10000);
  assert.strictEqual(closed.status, 0, closed.stderr);
  const unref = runChild(`new b.__EchoProbe(() => {}, false);`, 10000);
  assert.strictEqual(unref.status, 0, unref.stderr);
  const startedLater = runChild(`const p = new b.__EchoProbe(() => {}, false); setTimeout(() => p.start(), 10);`, 1500);
  assert.strictEqual(startedLater.status, 'timeout', 'start() after an unref keeps it alive');
  const startedClosed = runChild(
    `const p = new b.__EchoProbe(() => {}, false); setTimeout(() => { p.start(); setTimeout(() => p.close(), 10); }, 10);`,
    10000
  );
  assert.strictEqual(startedClosed.status, 0, startedClosed.stderr);
});

test('events queued before close() are still delivered, then the process exits', (t) => {
  if (!binding) return t.skip('addon not built');
  const r = runChild(
    `const dgram = require('node:dgram');
     const s = dgram.createSocket('udp4');
     const p = new b.__EchoProbe((evs) => {
       for (const e of evs) console.log(e.type + (e.data ? ':' + e.data.toString() : ''));
       if (evs.some((e) => e.type === 'message')) { p.close(); s.close(); }
     }, true);
     s.send(Buffer.from('x'), p.port, '127.0.0.1');`,
    10000
  );
  assert.strictEqual(r.status, 0, r.stderr);
  assert.deepStrictEqual(r.stdout.trim().split('\n'), ['message:x', 'connectionstatechange']);
});

test('an unreferenced, never-started handle is finalized: its socket is released', (t) => {
  if (!binding) return t.skip('addon not built');
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '-e',
      `const b = require(${JSON.stringify(path.join(__dirname, '..'))});
       const dgram = require('node:dgram');
       let p = new b.__EchoProbe(() => {}, false);
       const port = p.port;
       p = null;
       const s = dgram.createSocket('udp4');
       let echoed = false;
       s.on('message', () => { echoed = true; });
       s.on('error', () => {});
       setTimeout(() => {
         global.gc();
         setTimeout(() => {
           s.send(Buffer.from('after-gc'), port, '127.0.0.1');
           setTimeout(() => { console.log(echoed ? 'ECHOED' : 'SILENT'); s.close(); }, 300);
         }, 100);
       }, 50);`,
    ],
    { timeout: 10000, encoding: 'utf8' }
  );
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout.trim(), 'SILENT', 'the finalizer closed the socket');
});
