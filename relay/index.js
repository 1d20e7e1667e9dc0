'use strict';
// Spawns the polyrtc-relay binary and resolves with its URLs once it listens.
//
//   const { startRelay } = require('polyrtc/relay');   // or: import { startRelay } from 'polyrtc/relay'
//   const relay = await startRelay({ users: { alice: 'secret' }, allowPrivate: true });
//   relay.wsUrl, relay.turnUrls; await relay.close();
//
// The binary is found at options.bin, $POLYRTC_RELAY_BIN, or
// ${CARGO_TARGET_DIR:-target}/{release,debug}/polyrtc-relay.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function findBinary(bin) {
  if (bin) return bin;
  if (process.env.POLYRTC_RELAY_BIN) return process.env.POLYRTC_RELAY_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(__dirname, '..', 'target');
  for (const profile of ['release', 'debug']) {
    const p = path.join(target, profile, 'polyrtc-relay');
    if (fs.existsSync(p)) return p;
  }
  throw new Error('polyrtc-relay binary not found: build it with `cargo build -p polyrtc-relay` or set POLYRTC_RELAY_BIN');
}

function startRelay(options = {}) {
  const args = ['--listen', options.listen || '127.0.0.1:0', '--exit-on-stdin-close'];
  for (const [user, password] of Object.entries(options.users || {})) args.push('--user', `${user}:${password}`);
  if (options.secret) args.push('--secret', options.secret);
  if (options.realm) args.push('--realm', options.realm);
  if (options.allowPrivate) args.push('--allow-private');
  if (options.maxAllocations != null) args.push('--max-allocations', String(options.maxAllocations));
  if (options.maxAllocationsPerUser != null) args.push('--max-allocations-per-user', String(options.maxAllocationsPerUser));
  if (options.bandwidth != null) args.push('--bandwidth', String(options.bandwidth));
  const child = spawn(findBinary(options.bin), args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      child.stdout.off('data', onData);
      let urls;
      try {
        urls = JSON.parse(buf.slice(0, nl));
      } catch (e) {
        child.kill();
        reject(new Error(`polyrtc-relay printed an unexpected line: ${buf.slice(0, nl)}`));
        return;
      }
      resolve({
        wsUrl: urls.wsUrl,
        turnUrls: urls.turnUrls,
        process: child,
        close() {
          child.stdin.end();
          return exited;
        },
      });
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`polyrtc-relay exited (${code}) before listening`)));
  });
}

module.exports = { startRelay };
