'use strict';
// Helpers of the namespace tests (not a test file): a peer inside a namespace that prints
// JSON-line events (tests/nat/peer.js, or a browser page with the same events: see
// peer-core.js), and the data exchange every run asserts.
const assert = require('node:assert');
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const net = require('./netns.js');

const TIMEOUT = 30000;
const ADDON = path.join(__dirname, '..', '..', 'napi', 'polyrtc.node');

/**
 * The `skip` option of a namespace test: false when it can run (`unavailable` is null);
 * else a loud message, and in CI (CI=true) false too, so that the test runs and fails
 * instead of a skip hiding a broken environment.
 */
function skipUnless(what, unavailable) {
  if (!unavailable) return false;
  const inCi = process.env.CI === 'true';
  const bar = '!'.repeat(78);
  console.error(`\n${bar}\n!! ${what} ${inCi ? 'FAILS (CI=true: no skipping)' : 'SKIPPED'}: ${unavailable}.\n${bar}\n`);
  return inCi ? false : unavailable;
}

/** After a failure: each peer's diagnostics and the events it printed (descriptions left out). */
function dumpPeers(peers) {
  for (const p of peers) {
    if (p.stderr) console.error(`--- ${p.name} stderr:\n${p.stderr.slice(-4000)}`);
    const seen = p.events.filter((e) => e.type !== 'description').map((e) => (e.type === 'pairs' ? e.pairs.join('\n') : JSON.stringify(e).slice(0, 300)));
    console.error(`--- ${p.name} events:\n${seen.join('\n')}`);
  }
}

const CHROMIUM = process.env.POLYRTC_CHROMIUM || '/usr/bin/chromium';
// tests/interop/lib/chromium.js's flags, less the two that change candidates (loopback,
// and the one that turns mDNS hiding off).
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--headless=new'];

function withTimeout(promise, what, ms = TIMEOUT) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** One peer's events, kept in order, with `waitFor`; `exited` set once it is gone. */
class EventLog {
  constructor(name) {
    this.name = name;
    this.events = [];
    this.waiters = [];
    this.stderr = '';
    this.exited = null;
  }

  push(ev) {
    this.events.push(ev);
    if (this.onEvent) this.onEvent(ev);
    this.check();
  }

  check() {
    this.waiters = this.waiters.filter((w) => {
      const ev = this.events.find(w.predicate);
      if (ev) { w.resolve(ev); return false; }
      if (this.exited) { w.reject(new Error(`${this.name} exited (${JSON.stringify(this.exited)}): ${this.stderr}`)); return false; }
      return true;
    });
  }

  /** The first event (already seen or future) matching `predicate`. */
  waitFor(predicate, what) {
    return withTimeout(new Promise((resolve, reject) => {
      this.waiters.push({ predicate, resolve, reject });
      this.check();
    }), `${this.name}: ${what}`);
  }

  errors() { return this.events.filter((e) => e.type === 'error' || e.type === 'garbage'); }
}

/** tests/nat/peer.js as a child process in namespace `ns`, commands on its stdin. */
class Peer extends EventLog {
  constructor(name, ns, role, iceServers) {
    super(name);
    this.proc = spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(__dirname, 'peer.js'),
      role, `${net.ADDR.stun}:${net.STUN_PORT}`, ...(iceServers ? [JSON.stringify(iceServers)] : [])],
    { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.proc.on('exit', (code, signal) => { this.exited = { code, signal }; this.check(); });
    this.proc.stdin.on('error', () => {});
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
      let ev;
      try { ev = JSON.parse(line); } catch { ev = { type: 'garbage', line }; }
      this.push(ev);
    });
  }

  send(obj) {
    if (this.exited === null) this.proc.stdin.write(`${JSON.stringify(obj)}\n`);
  }

  kill() {
    if (this.exited === null) this.proc.kill('SIGKILL');
  }
}

/** Chromium in namespace `nsName`, one page running peer-core.js with the same events and commands as peer.js. */
class BrowserPeer extends EventLog {
  static async launch(name, nsName, role, configuration, tmp) {
    const { chromium } = require('playwright-core');
    const { peerCore } = require('./peer-core.js');
    // playwright starts "the browser" with its pipes; this one enters the namespace first.
    const wrapper = path.join(tmp, 'chromium-in-netns');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${nsName} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
    const peer = new BrowserPeer(name);
    peer.browser = await chromium.launch({ executablePath: wrapper, headless: true, args: CHROMIUM_ARGS, timeout: 30000 });
    peer.browser.on('disconnected', () => { peer.exited = { code: null, signal: 'disconnected' }; peer.check(); });
    peer.page = await peer.browser.newPage();
    peer.page.on('console', (m) => { peer.stderr += `${m.text()}\n`; });
    await peer.page.exposeFunction('__emit', (ev) => peer.push(ev));
    await peer.page.goto('about:blank');
    await peer.page.addScriptTag({ content: peerCore.toString() });
    await peer.page.evaluate(([r, conf]) => {
      const emit = (ev) => window.__emit(ev);
      const fail = (e) => emit({ type: 'error', message: String((e && e.stack) || e) });
      // eslint-disable-next-line no-undef
      const core = peerCore({ RTCPeerConnection, role: r, configuration: conf, emit, exit: () => {} });
      let queue = Promise.resolve();
      window.__command = (c) => { queue = queue.then(() => core.handle(c)).catch(fail); };
      core.start().catch(fail);
    }, [role, configuration]);
    return peer;
  }

  /** Chromium redacts its own addresses, in getStats() otherwise than in getSelectedCandidatePair(). */
  get comparesSelectedPair() { return false; }

  send(obj) {
    if (this.exited === null) this.page.evaluate((c) => window.__command(c), obj).catch(() => {});
  }

  kill() {
    if (this.browser) return this.browser.close().catch(() => {});
    return undefined;
  }
}

/**
 * The channel opens, messages flow both ways in order, and both sides report `connected`:
 * returns both reports (their selected pairs say which path the call took).
 */
async function exchange(a, b) {
  await a.waitFor((e) => e.type === 'open', 'channel open');
  await b.waitFor((e) => e.type === 'open', 'channel open');
  for (let i = 0; i < 3; i++) {
    await a.waitFor((e) => e.type === 'message' && e.data === `B #${i}`, `message B #${i}`);
    await b.waitFor((e) => e.type === 'message' && e.data === `A #${i}`, `message A #${i}`);
  }
  const got = (p) => p.events.filter((e) => e.type === 'message').map((e) => e.data);
  assert.deepStrictEqual(got(a), ['B #0', 'B #1', 'B #2']);
  assert.deepStrictEqual(got(b), ['A #0', 'A #1', 'A #2']);
  a.send({ type: 'report' });
  b.send({ type: 'report' });
  const reportA = await a.waitFor((e) => e.type === 'report', 'report');
  const reportB = await b.waitFor((e) => e.type === 'report', 'report');
  for (const [p, r] of [[a, reportA], [b, reportB]]) {
    assert.strictEqual(r.connectionState, 'connected', p.name);
    assert.ok(r.selected, `${p.name} has a selected candidate pair`);
    // RTCIceTransport.getSelectedCandidatePair() follows every change of the selected pair
    // (selectedcandidatepairchange), so it is the pair getStats() calls selected.
    const brief = ({ type, address, port }) => ({ type, address, port });
    // (Not for a browser, whose two views redact its own addresses differently.)
    if (p.comparesSelectedPair !== false) assert.deepStrictEqual({ local: brief(r.selected.local), remote: brief(r.selected.remote) }, r.statsSelected,
      `${p.name}: getSelectedCandidatePair() is getStats()' selected pair\n${r.pairs.join('\n')}`);
    assert.deepStrictEqual(p.errors(), [], `${p.name} reported no errors`);
  }
  return { reportA, reportB };
}

module.exports = { TIMEOUT, ADDON, CHROMIUM, skipUnless, dumpPeers, withTimeout, EventLog, Peer, BrowserPeer, exchange };
