'use strict';
// One peer of tests/nat/nat.test.js and browser.test.js, run inside a network namespace:
//   ip netns exec <ns> node tests/nat/peer.js <offer|answer> <stun host:port> [iceServers or RTCConfiguration JSON]
// Signaling and reports are JSON lines: commands on stdin, events on stdout (stdout carries
// nothing else; diagnostics go to stderr). Exits when stdin closes or on {"type":"close"}.
// What it does is peer-core.js, which a Chromium page runs too.
const readline = require('readline');
const path = require('path');

const [role, stun, iceServersJson] = process.argv.slice(2);
if (role !== 'offer' && role !== 'answer') {
  process.stderr.write('usage: peer.js <offer|answer> <stun host:port>\n');
  process.exit(2);
}
const { RTCPeerConnection } = require(path.join(__dirname, '..', '..', 'js', 'cjs', 'node.cjs'));
const { peerCore } = require('./peer-core.js');

function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

// The last argument: the iceServers, or a whole RTCConfiguration.
const arg = iceServersJson ? JSON.parse(iceServersJson) : [{ urls: `stun:${stun}` }];
const configuration = Array.isArray(arg) ? { iceServers: arg } : arg;
const { pc, start, handle } = peerCore({ RTCPeerConnection, role, configuration, emit, exit: () => process.exit(0) });

// Commands run one after another, in order (a candidate never overtakes its description).
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  queue = queue.then(() => handle(JSON.parse(line))).catch((e) => emit({ type: 'error', message: String(e && e.stack || e) }));
});
process.stdin.on('end', () => { pc.close(); process.exit(0); });
start().catch((e) => emit({ type: 'error', message: String(e && e.stack || e) }));
