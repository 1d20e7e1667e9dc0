'use strict';
// W3C webrtc-pc closing procedure when the REMOTE closes first, on the REAL package (js/node.js
// on the native addon), two peers in one process over loopback UDP.
//
// What the spec guarantees, and what is checked here:
//  - B.close(): B's readyState is 'closing' at once; B's closing procedure resets B's stream
//    (RFC 8831 §6.7). Messages that reach B after that are discarded by B ("Receiving
//    messages": readyState not 'open' -> discard), so B's application sees none of them.
//  - A, seeing the reset, runs the closing procedure: readyState 'closing', the `closing`
//    event (send() throws InvalidStateError from then on), then "finish sending all currently
//    pending messages of the channel" (the Blobs still being read and the strings queued
//    behind them, all accepted by send() before the closing) before following RFC 8831 §6.7
//    (resetting A's stream), then `close` on both sides.
// So every message A's send() accepted is handed to the transport (A's data-channel stats count
// them all: messagesSent / bytesSent), none is dropped from A's queue. (That the bytes reach
// B's transport before A's reset is shown by the engine test
// remote_close_first_waits_for_the_host_to_send_what_it_queued in tests/peer_scenarios.rs.)
const test = require('node:test');
const assert = require('node:assert');
const {
  skipUnlessAddon, loadApi, once, withTimeout, until, openPair,
} = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 90000;

function closeLog(dc) {
  const log = [];
  for (const type of ['closing', 'close', 'error']) dc.addEventListener(type, () => log.push(type));
  return { log, closed: once(dc, 'close').then(() => log) };
}

async function channelStats(pc, label) {
  const report = await pc.getStats();
  for (const s of report.values()) if (s.type === 'data-channel' && s.label === label) return s;
  return null;
}

test('the remote closes first: Blobs being read and strings queued behind them are still sent before our reset', { skip, timeout: TIMEOUT }, async () => {
  const { offerer, dc1, dc2, close } = await openPair(api);
  try {
    const a = closeLog(dc1);
    const b = closeLog(dc2);
    const atB = [];
    dc2.addEventListener('message', () => atB.push(dc2.readyState));
    let sendWhileClosing = null;
    dc1.addEventListener('closing', () => {
      try {
        dc1.send('too late');
      } catch (err) {
        sendWhileClosing = err;
      }
    });
    const blobSize = 256 * 1024;
    const blobs = 40;
    const strings = [];
    let bytes = 0;
    for (let i = 0; i < blobs; i += 1) {
      dc1.send(new Blob([new Uint8Array(blobSize).fill(i)]));
      bytes += blobSize;
      const s = `after blob ${i}`;
      dc1.send(s);
      strings.push(s);
      bytes += Buffer.byteLength(s);
    }
    // B closes at once: its reset reaches A while A's Blobs are still being read.
    dc2.close();
    assert.strictEqual(dc2.readyState, 'closing');
    assert.deepStrictEqual(await withTimeout(a.closed, 'A close', 80000), ['closing', 'close']);
    assert.deepStrictEqual(await withTimeout(b.closed, 'B close', 20000), ['close']);
    assert.ok(sendWhileClosing instanceof DOMException && sendWhileClosing.name === 'InvalidStateError',
      `send() after closing: ${sendWhileClosing}`);
    // B discards what arrives once it is closing (it closed first): no message event there.
    assert.deepStrictEqual(atB, []);
    // Everything A's send() accepted was sent: nothing was dropped from A's queue.
    const stats = await channelStats(offerer, 'chat');
    assert.ok(stats, 'A reports its closed channel');
    assert.strictEqual(stats.messagesSent, blobs + strings.length, 'messagesSent');
    assert.strictEqual(stats.bytesSent, bytes, 'bytesSent');
    await until(() => dc1.bufferedAmount === 0, `A bufferedAmount ${dc1.bufferedAmount}`);
  } finally {
    close();
  }
});

test('the remote closes first with nothing queued here: closing then close at once, the id is free again', { skip, timeout: TIMEOUT }, async () => {
  const { offerer, answerer, dc1, dc2, close } = await openPair(api);
  try {
    const a = closeLog(dc1);
    const b = closeLog(dc2);
    const id = dc1.id;
    dc2.close();
    assert.deepStrictEqual(await withTimeout(a.closed, 'A close'), ['closing', 'close']);
    assert.deepStrictEqual(await withTimeout(b.closed, 'B close'), ['close']);
    // Both directions are reset: a negotiated channel may take the id on both sides.
    const x = offerer.createDataChannel('again', { negotiated: true, id });
    const y = answerer.createDataChannel('again', { negotiated: true, id });
    await withTimeout(Promise.all([once(x, 'open'), once(y, 'open')]), 'reused id open');
    const got = once(y, 'message');
    x.send('hello again');
    assert.strictEqual((await withTimeout(got, 'message on the reused id')).data, 'hello again');
  } finally {
    close();
  }
});
