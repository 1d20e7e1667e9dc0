'use strict';
// Spawns the polyrtc-relay binary and resolves with its URLs once it listens.
//
//   const { startRelay } = require('polyrtc/relay');   // or: import { startRelay } from 'polyrtc/relay'
//   const relay = await startRelay({ users: { alice: 'secret' }, allowPrivate: true });
//   relay.wsUrl, relay.turnUrls; await relay.close();
//
// The binary is found at options.bin, $POLYRTC_RELAY_BIN, relay/polyrtc-relay (shipped in
// the package), or ${CARGO_TARGET_DIR:-target}/{release,debug}/polyrtc-relay.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function findBinary(bin) {
  if (bin) return bin;
  if (process.env.POLYRTC_RELAY_BIN) return process.env.POLYRTC_RELAY_BIN;
  const shipped = path.join(__dirname, 'polyrtc-relay');
  // In a checkout (relay/Cargo.toml beside this file) the newest cargo build wins, so a
  // changed relay is never run from a stale copy; an installed package has only the copy
  // relay/build.js made.
  const candidates = [];
  if (fs.existsSync(path.join(__dirname, 'Cargo.toml'))) {
    const target = process.env.CARGO_TARGET_DIR || path.join(__dirname, '..', 'target');
    for (const profile of ['release', 'debug']) candidates.push(path.join(target, profile, 'polyrtc-relay'));
  }
  candidates.push(shipped);
  const found = candidates
    .filter((p) => fs.existsSync(p))
    .map((p) => ({ p, t: fs.statSync(p).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  if (found.length) return found[0].p;
  throw new Error('polyrtc-relay binary not found: build it with `node relay/build.js` (or `cargo build -p polyrtc-relay`) or set POLYRTC_RELAY_BIN');
}

/** The `--listen` value: options.listen, or options.host (default 127.0.0.1) and options.port (default 0). */
function listenAddress(options) {
  if (options.listen) return options.listen;
  const host = options.host || '127.0.0.1';
  const port = options.port == null ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`startRelay: bad port ${options.port}`);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Starts a relay. Options: host, port (or listen 'ip:port'), users { name: password },
 * secret (REST credentials), realm, allowPrivate, upstream ('turn:host:port?transport=tcp'),
 * cert and key (PEM file paths: TLS on the same port, wss: and turns:),
 * maxAllocations, maxAllocationsPerUser, bandwidth, bin. Resolves to
 * { wsUrl, turnUrls, stats(): Promise<object>, close(): Promise<exit code>, process }.
 */
function startRelay(options = {}) {
  let listen;
  try {
    listen = listenAddress(options);
  } catch (e) {
    return Promise.reject(e);
  }
  const args = ['--listen', listen, '--exit-on-stdin-close'];
  for (const [user, password] of Object.entries(options.users || {})) args.push('--user', `${user}:${password}`);
  if (options.secret) args.push('--secret', options.secret);
  if (options.realm) args.push('--realm', options.realm);
  if (options.allowPrivate) args.push('--allow-private');
  if (options.upstream) args.push('--upstream', options.upstream);
  if (options.cert || options.key) args.push('--cert', String(options.cert), '--key', String(options.key));
  if (options.maxAllocations != null) args.push('--max-allocations', String(options.maxAllocations));
  if (options.maxAllocationsPerUser != null) args.push('--max-allocations-per-user', String(options.maxAllocationsPerUser));
  if (options.bandwidth != null) args.push('--bandwidth', String(options.bandwidth));
  let child;
  try {
    child = spawn(findBinary(options.bin), args, { stdio: ['pipe', 'pipe', 'inherit'] });
  } catch (e) {
    return Promise.reject(e);
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Lines after the first answer `stats` commands, in order.
  const waiting = [];
  let rest = '';
  return new Promise((resolve, reject) => {
    let listening = false;
    const onLine = (line) => {
      if (listening) {
        const w = waiting.shift();
        if (!w) return;
        try {
          w.resolve(JSON.parse(line));
        } catch (e) {
          w.reject(new Error(`polyrtc-relay printed an unexpected line: ${line}`));
        }
        return;
      }
      let urls;
      try {
        urls = JSON.parse(line);
      } catch (e) {
        child.kill();
        reject(new Error(`polyrtc-relay printed an unexpected line: ${line}`));
        return;
      }
      listening = true;
      let closing = null;
      resolve({
        wsUrl: urls.wsUrl,
        turnUrls: urls.turnUrls,
        process: child,
        /** The relay's counters (allocations, packets and bytes each way, drops by reason). */
        stats() {
          if (closing || child.exitCode !== null) return Promise.reject(new Error('the relay is closed'));
          return new Promise((res, rej) => {
            waiting.push({ resolve: res, reject: rej });
            child.stdin.write('stats\n');
          });
        },
        close() {
          if (!closing) {
            child.stdin.end();
            closing = exited;
          }
          return closing;
        },
      });
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      rest += chunk;
      for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        onLine(line);
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`polyrtc-relay exited (${code})`));
      if (!listening) reject(new Error(`polyrtc-relay exited (${code}) before listening`));
    });
  });
}

module.exports = { startRelay, findBinary };
