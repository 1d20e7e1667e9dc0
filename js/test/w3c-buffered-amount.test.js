'use strict';
// webrtc-pc §6.2 RTCDataChannel bufferedAmount on the REAL package (js/node.js on the
// native addon): "When the underlying data transport sends data from its queue, the user
// agent MUST queue a task that reduces [[BufferedAmount]] with the number of bytes that was
// sent" — sent, not acknowledged by the peer. And bufferedamountlow fires when
// bufferedAmount decreases from above bufferedAmountLowThreshold to at or below it: once
// per such crossing, in-band and negotiated channels alike.
//
//
// The peers talk through a UDP proxy on loopback (bench/udp-proxy.js, in a worker thread)
// that delays each datagram by 30 ms: a message reaches the remote 30 ms after it was sent
// and its acknowledgement comes back 30 ms after that, so "sent" and "acknowledged" are
// apart by more than any scheduling noise.
const test = require('node:test');
const assert = require('node:assert');
const { skipUnlessAddon, loadApi, once, withTimeout, until, sleep } = require('./real-helpers');
const { startProxyWorker } = require('../../bench/udp-proxy');
const { connectViaProxy } = require('../../bench/path-one');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 25000;
const ONE_WAY_MS = 30;

/**
 * Two peers connected through a delaying proxy; `negotiated` adds a negotiated channel
 * pair (id 3) and tests on it instead of the in-band one. dc1 sends, dc2 receives.
 */
async function open(negotiated) {
  const proxy = await startProxyWorker({ delayMs: ONE_WAY_MS, seed: 7 });
  let p;
  try {
    p = await connectViaProxy(api, {}, proxy);
  } catch (e) {
    await proxy.close();
    throw e;
  }
  let dc1 = p.dcA;
  let dc2 = p.dcB;
  if (negotiated) {
    dc1 = p.a.createDataChannel('neg', { negotiated: true, id: 3 });
    dc2 = p.b.createDataChannel('neg', { negotiated: true, id: 3 });
    await withTimeout(Promise.all([once(dc1, 'open'), once(dc2, 'open')]), 'negotiated open');
  }
  // One message each way first, waited for: the checks below are about a channel in use.
  const back = once(dc1, 'message');
  const there = once(dc2, 'message');
  dc1.send('warm-up');
  dc2.send('warm-up');
  await withTimeout(Promise.all([back, there]), 'warm-up');
  await until(() => dc1.bufferedAmount === 0 && dc2.bufferedAmount === 0, 'warm-up sent');
  await sleep(4 * ONE_WAY_MS);
  return { dc1, dc2, close: async () => { p.close(); await proxy.close(); } };
}

const KINDS = [['in-band', false], ['negotiated', true]];

for (const [kind, negotiated] of KINDS) {
  test(`${kind}: once the remote has received a small message, the sender's bufferedAmount is 0`, { skip, timeout: TIMEOUT }, async () => {
    const p = await open(negotiated);
    try {
      const seen = [];
      let next = null;
      p.dc2.onmessage = (e) => {
        seen.push({ data: e.data, buffered: p.dc1.bufferedAmount });
        if (next) next();
      };
      for (let i = 0; i < 20; i += 1) {
        const got = new Promise((resolve) => { next = resolve; });
        p.dc1.send(`message ${i}`);
        assert.strictEqual(p.dc1.bufferedAmount, `message ${i}`.length, 'counted on send()');
        await withTimeout(got, `message ${i}`);
      }
      assert.deepStrictEqual(seen.map((s) => s.data), Array.from({ length: 20 }, (_, i) => `message ${i}`));
      assert.deepStrictEqual(seen.map((s) => s.buffered), new Array(20).fill(0),
        'bufferedAmount when the remote got each message');
    } finally {
      await p.close();
    }
  });

  test(`${kind}: bufferedamountlow fires once per crossing of the threshold, by the time the message arrives`, { skip, timeout: TIMEOUT }, async () => {
    const p = await open(negotiated);
    try {
      const lows = [];
      p.dc1.onbufferedamountlow = () => lows.push(p.dc1.bufferedAmount);
      const got = [];
      p.dc2.onmessage = (e) => got.push({ data: e.data, lows: lows.length });

      // Threshold 0 (the default), one message at a time: one crossing each.
      for (let i = 0; i < 10; i += 1) {
        p.dc1.send(`single ${i}`);
        await until(() => got.length === i + 1, `single ${i}`);
        assert.strictEqual(got[i].lows, i + 1, `bufferedamountlow for message ${i} came before it arrived`);
      }
      assert.deepStrictEqual(lows, new Array(10).fill(0));

      // A burst sent in one task: bufferedAmount rises once and falls once, one crossing.
      lows.length = 0;
      got.length = 0;
      for (let i = 0; i < 10; i += 1) p.dc1.send(`burst ${i}`);
      await until(() => got.length === 10, 'burst');
      assert.strictEqual(got[9].lows, 1, 'bufferedamountlow before the last message arrived');
      await sleep(50);
      assert.deepStrictEqual(lows, [0], 'exactly one event for the burst');

      // With a threshold: messages of 1000 bytes and a threshold of 2500. Each round
      // sends 4 (4000 > 2500): one crossing per round, seen at or below the threshold.
      p.dc1.bufferedAmountLowThreshold = 2500;
      lows.length = 0;
      got.length = 0;
      for (let round = 0; round < 5; round += 1) {
        for (let i = 0; i < 4; i += 1) p.dc1.send(new Uint8Array(1000).fill(round));
        await until(() => got.length === 4 * (round + 1), `round ${round}`);
        await until(() => lows.length === round + 1, `bufferedamountlow of round ${round}`);
      }
      await sleep(50);
      assert.strictEqual(lows.length, 5, JSON.stringify(lows));
      for (const b of lows) assert.ok(b <= 2500, `bufferedAmount ${b} at bufferedamountlow`);
      assert.strictEqual(p.dc1.bufferedAmount, 0);

      // Sends that never take bufferedAmount above the threshold fire nothing.
      lows.length = 0;
      got.length = 0;
      p.dc1.send(new Uint8Array(2000));
      await until(() => got.length === 1, 'below the threshold');
      await sleep(50);
      assert.deepStrictEqual(lows, [], 'no crossing, no event');
      assert.strictEqual(p.dc1.bufferedAmount, 0);
    } finally {
      await p.close();
    }
  });
}
