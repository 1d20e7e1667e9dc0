#!/usr/bin/env node
'use strict';
// Builds the relay binary (release) and copies it to relay/polyrtc-relay, where the package
// (relay/index.js, the `polyrtc-relay` bin) finds it once installed. Honours CARGO_TARGET_DIR.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const repo = path.resolve(__dirname, '..');
const args = ['build', '--release', '-p', 'polyrtc-relay', '--bin', 'polyrtc-relay'];
console.log(`> cargo ${args.join(' ')}`);
const r = spawnSync('cargo', args, { cwd: repo, stdio: 'inherit' });
if (r.error) {
  console.error(`cannot run cargo: ${r.error.message}`);
  process.exit(1);
}
if (r.status !== 0) process.exit(r.status === null ? 1 : r.status);
const target = process.env.CARGO_TARGET_DIR ? path.resolve(repo, process.env.CARGO_TARGET_DIR) : path.join(repo, 'target');
const from = path.join(target, 'release', 'polyrtc-relay');
const to = path.join(__dirname, 'polyrtc-relay');
// Copy to a temporary name, then rename: a running relay keeps its (old) file.
fs.copyFileSync(from, `${to}.tmp`);
fs.chmodSync(`${to}.tmp`, 0o755);
fs.renameSync(`${to}.tmp`, to);
console.log(`copied ${from} -> ${to}`);
