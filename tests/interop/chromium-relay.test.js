'use strict';
// Chromium uses our relay (relay/, the polyrtc-relay binary) as an ordinary TURN server,
// over UDP and over TCP, with iceTransportPolicy 'relay', to reach a peer of ours (the
// implementation under test, with its host candidates). Everything Chromium sends goes
// through the relay's allocation, so this shows the relay is a real TURN server to a stock
// browser. Chromium's own stats prove the path: its selected local candidate is `relay`
// with the relayProtocol asked for, and its address is the one the relay allocated.
// Skips only when /usr/bin/chromium is absent.
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { describe, test, before, after } = require('node:test');
const { connect, exchange } = require('./lib/cases');
const { chromiumAvailable, launchChromium, preparePage, waitUntil, CHROMIUM_PATH } = require('./lib/chromium');
const { W3CPeer } = require('./lib/peers');
const { loadImpl } = require('./lib/impl');
const { startRelay } = require('../../relay/index.js');

const available = chromiumAvailable();
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM_PATH} not found: CI must install chromium (see .ci/run)`);
  console.error(`\n!!! SKIPPING Chromium relay interop: ${CHROMIUM_PATH} not found (apt-get install chromium) !!!\n`);
}
const skip = available ? false : `${CHROMIUM_PATH} not found`;

/** Keeps the page's RTCPeerConnections reachable for getStats. */
async function recordConnections(page) {
  await page.evaluate(() => {
    const Original = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Original {
      constructor(config) {
        super(config);
        window.__pcs.push(this);
      }
    };
  });
}

/** The local candidate of the newest page connection's selected pair. */
function selectedLocalCandidate(page) {
  return page.evaluate(async () => {
    const pc = window.__pcs[window.__pcs.length - 1];
    const stats = [...(await pc.getStats()).values()];
    const transport = stats.find((s) => s.type === 'transport');
    const pair = stats.find((s) => s.id === transport?.selectedCandidatePairId);
    const local = stats.find((s) => s.id === pair?.localCandidateId);
    return local ? {
      candidateType: local.candidateType,
      relayProtocol: local.relayProtocol,
      address: local.address,
      port: local.port,
    } : null;
  });
}

describe('interop: Chromium through our relay as a TURN server', { skip }, () => {
  let browser;
  let page;
  let relay;
  let peers = [];

  before(async () => {
    const root = path.join(__dirname, '..', '..');
    execFileSync('cargo', ['build', '-q', '-p', 'polyrtc-relay', '--bin', 'polyrtc-relay'], { cwd: root, stdio: 'inherit' });
    relay = await startRelay({ users: { alice: 'secret' }, allowPrivate: true });
    browser = await launchChromium();
    const prepared = await preparePage(browser);
    page = prepared;
    await recordConnections(prepared.page);
  });
  after(async () => {
    for (const p of peers) await p.close().catch(() => {});
    if (browser) await browser.close();
    if (relay) await relay.close();
  });

  for (const transport of ['udp', 'tcp']) {
    test(`TURN over ${transport}: Chromium offers relay-only, data both ways`, { timeout: 60000 }, async () => {
      const url = relay.turnUrls.find((u) => u.endsWith(`transport=${transport}`));
      assert.ok(url, `the relay printed a ${transport} URL: ${relay.turnUrls}`);
      const chromium = page.newPeer('chromium');
      const node = new W3CPeer(loadImpl(), 'node');
      peers.push(chromium, node);
      await chromium.init({
        iceServers: [{ urls: [url], username: 'alice', credential: 'secret' }],
        iceTransportPolicy: 'relay',
      });
      await node.init({});
      await chromium.createChannel('echo');
      await chromium.createChannel('unordered', { ordered: false });
      const stats = await connect(chromium, node);
      assert.deepEqual(stats.errors, []);
      await chromium.waitEvent('open', 'echo', 30000);
      await node.waitEvent('open', 'echo', 30000);
      await exchange(chromium, node, 'echo', `turn/${transport}`);
      await exchange(node, chromium, 'echo', `turn/${transport}`);
      await node.waitEvent('open', 'unordered', 30000);
      await node.send('unordered', 'over the relay, unordered');
      const [m] = await chromium.waitMessages('unordered', 1, 15000);
      assert.equal(m, 'over the relay, unordered');

      const local = await waitUntil(() => selectedLocalCandidate(page.page), 'Chromium selected a pair');
      assert.equal(local.candidateType, 'relay');
      assert.equal(local.relayProtocol, transport);
      assert.equal(local.address, '127.0.0.1');
      assert.ok(local.port > 0);
      const { port: relayPort } = new URL(relay.wsUrl);
      assert.notEqual(String(local.port), relayPort, 'the relayed port is the allocation, not the listener');
    });
  }
});
