'use strict';
// Headless Chromium inside a network namespace of its own, talking to our Node peer in
// another one (each a real process; this one relays their signaling). Chromium runs with
// its defaults for candidates: host addresses hidden behind random `<uuid>.local` mDNS names
// (no --disable-features=WebRtcHideLocalIpsWithMdns), so a peer that cannot resolve them
// over multicast DNS cannot reach it. The namespaces are made here and their only link is a
// veth pair, so multicast never leaves it. The other way round, our Node peer hides its own
// host candidates (mdnsHostCandidates) and Chromium resolves them.
//
// Same rules as nat.test.js: skips loudly when not root or without `ip netns`, fails instead
// with CI=true. Needs Chromium (/usr/bin/chromium), playwright-core and the addon.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('./netns.js');
const { ADDON, BrowserPeer, CHROMIUM, skipUnless, dumpPeers, Peer, exchange } = require('./child.js');


const unavailable = net.unavailableReason() || (fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing`);
const skip = skipUnless('tests/nat/browser', unavailable);

function candidateAddress(line) {
  return line.replace(/^a=/, '').split(' ')[4];
}

const withoutCandidates = (sdp) => sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:')).join('\r\n');

/** A peer's candidates: trickled, or in its description `description`. */
function candidatesOf(p, description) {
  return [
    ...p.events.filter((e) => e.type === 'candidate' && e.candidate && e.candidate.candidate).map((e) => e.candidate.candidate),
    ...description.sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2)),
  ];
}

/**
 * Chromium (offerer, namespace C) and the Node peer (answerer, namespace N, with
 * `nodeConfig`) on one link; `body({ chrome, node })` sets up the signaling relay and checks.
 */
async function withLink(nodeConfig, body) {
  if (unavailable) assert.fail(`cannot run (CI=true, so no skip): ${unavailable}`);
  assert.ok(fs.existsSync(ADDON), `${ADDON} is missing (build the addon: node napi/build.js)`);
  require('../../scripts/build-cjs').build(); // js/cjs/node.cjs, which peer.js requires

  const id = `${process.pid.toString(36)}${crypto.randomBytes(2).toString('hex')}`;
  const ns = { c: `prtc-c-${id}`, n: `prtc-n-${id}` };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prtc-mdns-'));
  const peers = [];
  try {
    net.setupLink(ns);
    const node = new Peer('Node', ns.n, 'answer', nodeConfig);
    peers.push(node);
    const chrome = await BrowserPeer.launch('Chromium', ns.c, 'offer', { iceServers: [] }, tmp);
    peers.push(chrome);
    await body({ chrome, node });
    for (const p of peers) p.send({ type: 'close' });
  } catch (e) {
    dumpPeers(peers);
    throw e;
  } finally {
    for (const p of peers) await p.kill();
    await new Promise((r) => setTimeout(r, 100));
    const left = net.teardown(ns);
    fs.rmSync(tmp, { recursive: true, force: true });
    assert.deepStrictEqual(left, [], 'every namespace of this run was deleted');
  }
}

test('Chromium with mDNS-hidden host candidates connects to a Node peer on its link (the .local name resolved over multicast DNS)', { skip, timeout: 90000 }, async () => {
  await withLink({ iceServers: [] }, async ({ chrome, node }) => {
    // Chromium's descriptions and candidates go to Node; Node's answer goes back without its
    // candidates, so Chromium cannot reach Node first and Node cannot learn Chromium's
    // address from its checks (a peer-reflexive candidate): Node must resolve the names.
    chrome.onEvent = (ev) => { if (ev.type === 'description' || ev.type === 'candidate') node.send(ev); };
    node.onEvent = (ev) => {
      if (ev.type === 'description') chrome.send({ ...ev, description: { ...ev.description, sdp: withoutCandidates(ev.description.sdp) } });
    };

    const { reportB } = await exchange(chrome, node);

    const offer = chrome.events.find((e) => e.type === 'description').description;
    const hidden = candidatesOf(chrome, offer);
    assert.ok(hidden.length > 0, `Chromium has candidates: ${offer.sdp}`);
    for (const c of hidden) assert.match(candidateAddress(c), /^[0-9a-f-]+\.local$/i, `Chromium hides its host address: ${c}`);
    assert.ok(!reportB.localSdp.includes('.local'), 'Node signals its own addresses (hiding is off by default)');
    // Node's selected pair goes to the address Chromium's name resolved to, as a host candidate.
    assert.deepStrictEqual({ type: reportB.selected.remote.type, address: reportB.selected.remote.address },
      { type: 'host', address: net.ADDR.linkC }, `Node's selected pair: ${JSON.stringify(reportB.selected)}\n${reportB.pairs.join('\n')}`);
    assert.strictEqual(reportB.selected.local.address, net.ADDR.linkN);
  });
});

test('a Node peer with mdnsHostCandidates hides its host candidates and Chromium reaches it by resolving the name', { skip, timeout: 90000 }, async () => {
  await withLink({ iceServers: [], mdnsHostCandidates: true }, async ({ chrome, node }) => {
    // Node's answer and candidates go to Chromium; Chromium's offer goes to Node without its
    // candidates (it has none in it) and none are trickled: Chromium must resolve Node's
    // names to send the first check.
    chrome.onEvent = (ev) => {
      if (ev.type === 'description') node.send({ ...ev, description: { ...ev.description, sdp: withoutCandidates(ev.description.sdp) } });
    };
    node.onEvent = (ev) => { if (ev.type === 'description' || ev.type === 'candidate') chrome.send(ev); };

    const { reportB } = await exchange(chrome, node);

    const answer = node.events.find((e) => e.type === 'description').description;
    const ours = candidatesOf(node, answer);
    assert.ok(ours.length > 0, 'Node signaled candidates');
    for (const c of ours) assert.match(candidateAddress(c), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.local$/, `Node hides its host address: ${c}`);
    assert.ok(!reportB.localSdp.includes(net.ADDR.linkN), `Node's local description has no address of its own:\n${reportB.localSdp}`);
    // Chromium's first check came to Node's real address (it resolved the name); Node knows
    // Chromium only from that check (peer-reflexive).
    assert.deepStrictEqual({ type: reportB.selected.remote.type, address: reportB.selected.remote.address },
      { type: 'prflx', address: net.ADDR.linkC }, `Node's selected pair: ${JSON.stringify(reportB.selected)}\n${reportB.pairs.join('\n')}`);
    assert.strictEqual(reportB.selected.local.address, net.ADDR.linkN);
  });
});

test('Chromium connects to an ICE-lite Node peer on a shared UDP port (a=ice-lite; the browser runs the checks and nominates)', { skip, timeout: 90000 }, async () => {
  const port = 40123;
  await withLink({ iceServers: [], iceLite: true, sharedUdpPort: port }, async ({ chrome, node }) => {
    chrome.onEvent = (ev) => { if (ev.type === 'description' || ev.type === 'candidate') node.send(ev); };
    node.onEvent = (ev) => { if (ev.type === 'description' || ev.type === 'candidate') chrome.send(ev); };
    const { reportB } = await exchange(chrome, node);
    assert.match(reportB.localSdp, /\r\na=ice-lite\r\n/, 'Node signals ice-lite');
    for (const line of reportB.localSdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'))) {
      assert.match(line, new RegExp(` ${port} typ host`), `only host candidates, on the shared port: ${line}`);
    }
    assert.deepStrictEqual({ address: reportB.selected.local.address, port: reportB.selected.local.port },
      { address: net.ADDR.linkN, port }, `Node's selected pair: ${JSON.stringify(reportB.selected)}`);
  });
});
