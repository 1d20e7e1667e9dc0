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
