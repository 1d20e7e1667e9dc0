'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const net = require('node:net');
const { startRelay } = require('../index.js');

test('startRelay spawns the binary, serves the printed port, closes on close()', async () => {
  execFileSync('cargo', ['build', '-q', '-p', 'polyrtc-relay', '--bin', 'polyrtc-relay'], { stdio: 'inherit' });
  const relay = await startRelay({ users: { alice: 'secret' }, allowPrivate: true });
  const port = Number(new URL(relay.wsUrl).port);
  assert.ok(port > 0);
  assert.deepStrictEqual(relay.turnUrls, [
    `turn:127.0.0.1:${port}?transport=udp`,
    `turn:127.0.0.1:${port}?transport=tcp`,
  ]);
  const head = await new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: turn\r\n\r\n`);
    });
    s.once('data', (d) => { resolve(d.toString()); s.destroy(); });
    s.once('error', reject);
  });
  assert.match(head, /^HTTP\/1\.1 101/);
  assert.strictEqual(await relay.close(), 0);
});

test('startRelay takes host and port, and stats() reports what the relay answered', async () => {
  const dgram = require('node:dgram');
  const relay = await startRelay({ host: '127.0.0.1', port: 0, users: { alice: 'secret' }, allowPrivate: true });
  const port = Number(new URL(relay.wsUrl).port);
  assert.strictEqual(new URL(relay.wsUrl).hostname, '127.0.0.1');
  const before = await relay.stats();
  assert.strictEqual(before.allocations, 0);
  assert.strictEqual(before.authFailures, 0);
  // An unauthenticated Allocate (RFC 8656 §7.1) over UDP: the relay answers 401.
  const req = Buffer.alloc(28);
  req.writeUInt16BE(0x0003, 0);
  req.writeUInt16BE(8, 2);
  req.writeUInt32BE(0x2112a442, 4);
  for (let i = 8; i < 20; i++) req[i] = i;
  req.writeUInt16BE(0x0019, 20); // REQUESTED-TRANSPORT: UDP
  req.writeUInt16BE(4, 22);
  req[24] = 17;
  const sock = dgram.createSocket('udp4');
  const resp = await new Promise((resolve, reject) => {
    sock.once('message', resolve);
    sock.once('error', reject);
    sock.send(req, port, '127.0.0.1');
  });
  sock.close();
  assert.strictEqual(resp.readUInt16BE(0), 0x0113, 'an Allocate error response');
  const after = await relay.stats();
  assert.strictEqual(after.authFailures, 1);
  assert.strictEqual(after.errorResponses, 1);
  assert.strictEqual(after.allocations, 0);
  assert.strictEqual(await relay.close(), 0);
  await assert.rejects(relay.stats(), /closed/);
});

test('startRelay rejects a bad port without spawning anything', async () => {
  await assert.rejects(startRelay({ port: 70000 }), RangeError);
});
