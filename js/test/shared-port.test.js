'use strict';
// sharedUdpPort on the real addon: many server-side connections on one UDP port (one socket
// per local address, shared), each client reaching its own server; strangers' datagrams to
// the port change nothing. Skipped only when the addon binary is missing.
const test = require('node:test');
const assert = require('node:assert');
const dgram = require('dgram');
const { skipUnlessAddon, loadApi, once, withTimeout, openPair, sleep, freePort } = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const PAIRS = 12;

const candidatePort = (c) => Number(c.candidate.split(' ')[5]);

test(`${PAIRS} connections on one shared UDP port: each client talks to its own server; forged datagrams to the port are dropped`, { skip, timeout: 60000 }, async () => {
  const port = await freePort();
  const stranger = dgram.createSocket('udp4');
  await new Promise((resolve) => stranger.bind(0, '127.0.0.1', resolve));
  const pairs = [];
  try {
    // Noise while the connections form: a DTLS-looking record, a Binding request for a
    // username fragment nobody has, and junk.
    const binding = Buffer.alloc(28);
    binding.writeUInt16BE(0x0001, 0);
    binding.writeUInt16BE(8, 2);
    binding.writeUInt32BE(0x2112a442, 4);
    binding.writeUInt16BE(0x0006, 20);
    binding.writeUInt16BE(4, 22);
    binding.write('nope', 24);
    const noise = setInterval(() => {
      for (const d of [Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), binding, Buffer.from('junk')]) {
        stranger.send(d, port, '127.0.0.1');
      }
    }, 5);
    try {
      for (let i = 0; i < PAIRS; i++) {
        const serverCandidates = [];
        const pair = await openPair(api, { offererConfig: {}, answererConfig: { sharedUdpPort: port } });
        pair.answerer.addEventListener('icecandidate', (e) => { if (e.candidate) serverCandidates.push(e.candidate); });
        pairs.push(pair);
      }
    } finally {
      clearInterval(noise);
    }
    // Every server's host candidates are on the shared port; the clients' are not.
    for (const { answerer, offerer } of pairs) {
      const local = answerer.sctp.transport.iceTransport.getSelectedCandidatePair().local;
      assert.strictEqual(local.port, port, 'the server side of the pair is the shared port');
      assert.notStrictEqual(offerer.sctp.transport.iceTransport.getSelectedCandidatePair().local.port, port);
      for (const line of answerer.localDescription.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'))) {
        assert.strictEqual(candidatePort({ candidate: line.slice(2) }), port, line);
      }
    }
    // Each client's message reaches its own server, and the echo comes back to it alone.
    const echoed = pairs.map(({ dc1, dc2 }, i) => {
      dc2.onmessage = (e) => dc2.send(`server ${i} got ${e.data}`);
      const got = [];
      dc1.onmessage = (e) => got.push(e.data);
      dc1.send(`client ${i}`);
      return got;
    });
    await withTimeout((async () => {
      while (echoed.some((g) => g.length === 0)) await sleep(10);
    })(), 'every echo');
    await sleep(100);
    echoed.forEach((got, i) => assert.deepStrictEqual(got, [`server ${i} got client ${i}`]));

    // Closing some servers leaves the others working; a new one can use the port again.
    for (const p of pairs.splice(0, PAIRS / 2)) p.close();
    const again = await openPair(api, { answererConfig: { sharedUdpPort: port } });
    pairs.push(again);
    const reply = once(again.dc1, 'message');
    again.dc2.onmessage = (e) => again.dc2.send(`re: ${e.data}`);
    again.dc1.send('after others left');
    assert.strictEqual((await withTimeout(reply, 'reply')).data, 're: after others left');
    const last = pairs[0];
    const lastReply = once(last.dc1, 'message');
    last.dc2.onmessage = (e) => last.dc2.send(`still ${e.data}`);
    last.dc1.send('here');
    assert.strictEqual((await withTimeout(lastReply, 'an older pair')).data, 'still here');
  } finally {
    for (const p of pairs) p.close();
    stranger.close();
  }
});

test('sharedUdpPort taken by another process (both families) is an OperationError at construction', { skip }, async () => {
  const v4 = dgram.createSocket('udp4');
  await new Promise((resolve) => v4.bind(0, '0.0.0.0', resolve));
  const { port } = v4.address();
  const v6 = dgram.createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise((resolve) => { v6.once('error', resolve); v6.bind(port, '::', resolve); });
  try {
    assert.throws(() => new api.RTCPeerConnection({ sharedUdpPort: port }), (e) => e.name === 'OperationError' && /sharedUdpPort/.test(e.message));
  } finally {
    v4.close();
    try { v6.close(); } catch { /* it may not have bound (no IPv6): then nothing to close */ }
  }
});

test('one client cannot divert another client\'s datagrams on the shared port by making its server connection send checks to that client', { skip, timeout: 30000 }, async () => {
  const port = await freePort();
  // Unreliable, so that a datagram routed to the wrong connection is a message lost.
  const victim = await openPair(api, { init: { maxRetransmits: 0 }, answererConfig: { sharedUdpPort: port } });
  const attackerClient = new api.RTCPeerConnection();
  const attackerServer = new api.RTCPeerConnection({ sharedUdpPort: port });
  try {
    // The victim client's address, as its server connection sees it.
    const victimAddr = victim.answerer.sctp.transport.iceTransport.getSelectedCandidatePair().remote;
    const got = [];
    victim.dc2.onmessage = (e) => got.push(e.data);
    // The attacker's offer names the victim's address as its only candidate: the attacker's
    // server connection (on the same shared socket) checks it, again and again.
    attackerClient.createDataChannel('x');
    await attackerClient.setLocalDescription();
    const offer = attackerClient.localDescription.sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:')).join('\r\n');
    await attackerServer.setRemoteDescription({ type: 'offer', sdp: offer });
    await attackerServer.setLocalDescription();
    await attackerServer.addIceCandidate({
      candidate: `candidate:9 1 udp 2122260223 ${victimAddr.address} ${victimAddr.port} typ host`,
      sdpMid: offer.match(/a=mid:(\S+)/)[1],
    });
    await sleep(300);
    const stats = [...(await attackerServer.getStats()).values()];
    assert.ok(stats.some((st) => st.type === 'candidate-pair' && st.requestsSent > 0), 'the attacker\'s server connection does send checks to the victim');
    for (let i = 0; i < 40; i++) {
      victim.dc1.send(`v${i}`);
      await sleep(10);
    }
    await sleep(500);
    assert.deepStrictEqual(got, Array.from({ length: 40 }, (_, i) => `v${i}`), 'every datagram still reaches the victim\'s own connection');
  } finally {
    victim.close();
    attackerClient.close();
    attackerServer.close();
  }
});
