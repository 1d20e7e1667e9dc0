#!/usr/bin/env node
'use strict';
// Builds the addon with plain cargo and copies the library to napi/polyrtc.node.
//   node napi/build.js            release build (default)
//   node napi/build.js --debug    debug build (faster to compile, for local tests)
// Honours CARGO_TARGET_DIR (default: <repo>/target).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const napiDir = __dirname;
const repo = path.resolve(napiDir, '..');
const debug = process.argv.includes('--debug');
const profile = debug ? 'debug' : 'release';

const args = ['build', '-p', 'polyrtc-napi'];
if (!debug) args.push('--release');
console.log(`> cargo ${args.join(' ')}`);
const r = spawnSync('cargo', args, { cwd: repo, stdio: 'inherit' });
if (r.error) {
  console.error(`cannot run cargo: ${r.error.message}`);
  process.exit(1);
}
if (r.status !== 0) process.exit(r.status === null ? 1 : r.status);

const targetDir = process.env.CARGO_TARGET_DIR
  ? path.resolve(repo, process.env.CARGO_TARGET_DIR)
  : path.join(repo, 'target');
const names = {
  linux: 'libpolyrtc_napi.so',
  darwin: 'libpolyrtc_napi.dylib',
  win32: 'polyrtc_napi.dll',
};
const lib = names[process.platform] || 'libpolyrtc_napi.so';
const src = path.join(targetDir, profile, lib);
const dst = path.join(napiDir, 'polyrtc.node');
if (!fs.existsSync(src)) {
  console.error(`built library not found: ${src}`);
  process.exit(1);
}
// Copy to a temporary name then rename, so a running process never sees a half file.
const tmp = `${dst}.${process.pid}.tmp`;
fs.copyFileSync(src, tmp);
fs.renameSync(tmp, dst);
console.log(`copied ${src} -> ${dst}`);
