#!/usr/bin/env node
'use strict';
// `npx polyrtc-relay ...`: runs the relay binary shipped in this package with the same
// arguments (see `npx polyrtc-relay --help`); its exit code is ours, and SIGINT/SIGTERM are
// passed on.
const { spawn } = require('node:child_process');
const { findBinary } = require('./index.js');

let bin;
try {
  bin = findBinary();
} catch (e) {
  console.error(`polyrtc-relay: ${e.message}`);
  process.exit(1);
}
const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code === null ? (signal === 'SIGINT' ? 130 : 143) : code));
child.on('error', (e) => {
  console.error(`polyrtc-relay: ${e.message}`);
  process.exit(1);
});
