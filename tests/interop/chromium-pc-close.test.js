'use strict';
// Interop: RTCPeerConnection.close() between polyrtc (js/node.js) and headless Chromium.
// The closing side's channels close without an error; the other side's channels, in-band and
// negotiated, see the SCTP ABORT: `error` (RTCError, errorDetail 'sctp-failure') with
// readyState 'closed', then `close` (webrtc-pc §6.2 "announcing a data channel as closed"),
// the RTCError's sctpCauseCode 12 (User-Initiated Abort, the cause of the closing side's ABORT).
// Both directions: Chromium closes and polyrtc's channels report it; polyrtc closes and
// Chromium's channels report it the same way. Skips only when /usr/bin/chromium is absent.
const test = require('node:test');
const assert = require('node:assert');
const { chromiumAvailable, sharedBrowser, waitUntil, CHROMIUM_PATH } = require('./lib/chromium');
const { loadImpl } = require('./lib/impl');

const available = chromiumAvailable();
const skip = available ? false : `${CHROMIUM_PATH} not found`;
const TIMEOUT = 60000;

// Runs inside the page: one RTCPeerConnection offering an in-band channel and a negotiated
// one (id 5); every channel's open / closing / error / close is recorded with its readyState.
function pageMain() {
  const log = [];
  const watch = (dc) => {
    for (const type of ['open', 'closing', 'error', 'close']) {
      dc.addEventListener(type, (e) => {
        const entry = { label: dc.label, type, readyState: dc.readyState };
        if (type === 'error') {
          entry.isRTCError = e.error instanceof RTCError;
          entry.errorDetail = e.error && e.error.errorDetail;
          entry.sctpCauseCode = e.error && e.error.sctpCauseCode;
        }
        log.push(entry);
      });
    }
  };
  window.__close = {
    pc: null,
    log,
    async offer() {
      const pc = new RTCPeerConnection();
      this.pc = pc;
      watch(pc.createDataChannel('inband'));
      watch(pc.createDataChannel('neg', { negotiated: true, id: 5 }));
      await pc.setLocalDescription();
      if (pc.iceGatheringState !== 'complete') {
        await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') r();
        }));
      }
      return { type: pc.localDescription.type, sdp: pc.localDescription.sdp };
    },
    async answer(desc) { await this.pc.setRemoteDescription(desc); },
    close() { this.pc.close(); },
    states() { return this.pc ? this.pc.signalingState : null; },
  };
}

function record(dc, log) {
  for (const type of ['open', 'closing', 'error', 'close']) {
    dc.addEventListener(type, (e) => {
      const entry = { label: dc.label, type, readyState: dc.readyState };
      if (type === 'error') {
        entry.errorDetail = e.error && e.error.errorDetail;
        entry.sctpCauseCode = e.error && e.error.sctpCauseCode;
      }
      log.push(entry);
    });
  }
}

const ended = (log, label) => log.filter((e) => e.label === label && e.type !== 'open');

/** Chromium offers; polyrtc answers (non-trickle). Resolves once all four channels are open. */
async function connect(page, api) {
  const ours = new api.RTCPeerConnection();
  const log = [];
  const neg = ours.createDataChannel('neg', { negotiated: true, id: 5 });
  record(neg, log);
  let inband = null;
  ours.ondatachannel = (e) => { inband = e.channel; record(inband, log); };
  const offer = await page.evaluate(() => window.__close.offer());
  await ours.setRemoteDescription(offer);
  await ours.setLocalDescription();
  await waitUntil(() => ours.iceGatheringState === 'complete', 'our gathering');
  await page.evaluate((d) => window.__close.answer(d), { type: 'answer', sdp: ours.localDescription.sdp });
  await waitUntil(async () => inband && inband.readyState === 'open' && neg.readyState === 'open'
    && (await page.evaluate(() => window.__close.log.filter((e) => e.type === 'open').length)) === 2, 'channels open');
  return { ours, log, channels: [inband, neg] };
}

const chromium = sharedBrowser(test, available);
const freshPage = () => chromium.freshPage(pageMain);

test('Chromium closes its RTCPeerConnection: our in-band and negotiated channels fire error (sctp-failure), then close', { skip, timeout: TIMEOUT }, async () => {
  const api = loadImpl();
  const page = await freshPage();
  const { ours, log, channels } = await connect(page, api);
  try {
    await page.evaluate(() => window.__close.close());
    await waitUntil(() => channels.every((c) => c.readyState === 'closed') && log.filter((e) => e.type === 'close').length === 2,
      'our channels closed');
    await new Promise((r) => setTimeout(r, 200));
    for (const label of ['inband', 'neg']) {
      assert.deepStrictEqual(ended(log, label), [
        // RFC 9260 §3.3.10.12: Chromium's ABORT carries User-Initiated Abort (12).
        { label, type: 'error', readyState: 'closed', errorDetail: 'sctp-failure', sctpCauseCode: 12 },
        { label, type: 'close', readyState: 'closed' },
      ], label);
    }
  } finally {
    ours.close();
    await page.close();
  }
});

test('we close our RTCPeerConnection: Chromium\'s channels fire error (sctp-failure), then close; ours close without error', { skip, timeout: TIMEOUT }, async () => {
  const api = loadImpl();
  const page = await freshPage();
  const { ours, log, channels } = await connect(page, api);
  try {
    ours.close();
    assert.deepStrictEqual(channels.map((c) => c.readyState), ['closed', 'closed']);
    const remote = await waitUntil(async () => {
      const l = await page.evaluate(() => window.__close.log);
      return l.filter((e) => e.type === 'close').length === 2 ? l : null;
    }, 'Chromium channels closed');
    for (const label of ['inband', 'neg']) {
      // Chromium 156 also fires `closing` first; what matters is error (sctp-failure) then close.
      const seq = ended(remote, label).filter((e) => e.type !== 'closing');
      assert.deepStrictEqual(seq, [
        {
          label, type: 'error', readyState: 'closed', isRTCError: true, errorDetail: 'sctp-failure', sctpCauseCode: 12,
        },
        { label, type: 'close', readyState: 'closed' },
      ], label);
      assert.deepStrictEqual(ended(log, label).map((e) => e.type), ['close'], `our ${label}`);
    }
  } finally {
    await page.close();
  }
});
