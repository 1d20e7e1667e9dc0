'use strict';
// Interop: descriptions without any m-section, between polyrtc (js/node.js) and headless
// Chromium. Before the first data channel both make an offer with no m-section (JSEP §5.2.1);
// the other side answers it with none, nobody gathers (iceGatheringState stays 'new'); then the
// first createDataChannel() fires negotiationneeded and the next offer carries m=application,
// which the other side answers and the channel opens. Both directions (polyrtc offers first,
// Chromium offers first). Skips only when /usr/bin/chromium is absent.
const test = require('node:test');
const assert = require('node:assert');
const { chromiumAvailable, sharedBrowser, waitUntil, CHROMIUM_PATH } = require('./lib/chromium');
const { loadImpl } = require('./lib/impl');

const available = chromiumAvailable();
const skip = available ? false : `${CHROMIUM_PATH} not found`;
const TIMEOUT = 60000;

// Runs inside the page: one RTCPeerConnection driven step by step (non-trickle).
function pageMain() {
  window.__pc = {
    pc: new RTCPeerConnection(),
    log: [],
    got: [],
    init() {
      const pc = this.pc;
      pc.addEventListener('icegatheringstatechange', () => this.log.push(`gathering:${pc.iceGatheringState}`));
      pc.addEventListener('negotiationneeded', () => this.log.push('negotiationneeded'));
      pc.addEventListener('datachannel', (e) => {
        this.dc = e.channel;
        e.channel.onmessage = (m) => { this.got.push(m.data); e.channel.send(`echo ${m.data}`); };
      });
    },
    async gathered() {
      const pc = this.pc;
      if (pc.iceGatheringState === 'complete') return;
      await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') r();
      }));
    },
    async offer(wait) {
      await this.pc.setLocalDescription();
      if (wait) await this.gathered();
      return { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp };
    },
    async answer(desc, wait) {
      await this.pc.setRemoteDescription(desc);
      await this.pc.setLocalDescription();
      if (wait) await this.gathered();
      return { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp };
    },
    async apply(desc) { await this.pc.setRemoteDescription(desc); },
    channel() {
      this.dc = this.pc.createDataChannel('late');
      this.dc.onmessage = (m) => this.got.push(m.data);
    },
    send(text) { this.dc.send(text); },
    state() {
      return {
        signaling: this.pc.signalingState, gathering: this.pc.iceGatheringState,
        log: this.log, got: this.got, dc: this.dc ? this.dc.readyState : null,
      };
    },
  };
  window.__pc.init();
}

async function gathered(pc) {
  await waitUntil(() => pc.iceGatheringState === 'complete', 'our gathering');
}

const chromium = sharedBrowser(test, available);
const freshPage = () => chromium.freshPage(pageMain);

function ourLog(pc) {
  const log = [];
  pc.addEventListener('icegatheringstatechange', () => log.push(`gathering:${pc.iceGatheringState}`));
  pc.addEventListener('negotiationneeded', () => log.push('negotiationneeded'));
  return log;
}

test('polyrtc offers with no m-section, Chromium answers with none; the first channel brings m=application and opens', { skip, timeout: TIMEOUT }, async () => {
  const api = loadImpl();
  const page = await freshPage();
  const ours = new api.RTCPeerConnection();
  const log = ourLog(ours);
  try {
    await ours.setLocalDescription();
    assert.doesNotMatch(ours.localDescription.sdp, /^m=/m);
    const answer = await page.evaluate((d) => window.__pc.answer(d, false), { type: 'offer', sdp: ours.localDescription.sdp });
    assert.doesNotMatch(answer.sdp, /^m=/m, 'Chromium answers with no m-section');
    await ours.setRemoteDescription(answer);
    await new Promise((r) => setTimeout(r, 300));
    assert.strictEqual(ours.signalingState, 'stable');
    assert.strictEqual(ours.iceGatheringState, 'new');
    assert.deepStrictEqual(log, []);
    const theirs = await page.evaluate(() => window.__pc.state());
    assert.strictEqual(theirs.gathering, 'new');

    const dc = ours.createDataChannel('late');
    await waitUntil(() => log.includes('negotiationneeded'), 'negotiationneeded');
    await ours.setLocalDescription();
    assert.match(ours.localDescription.sdp, /^m=application /m);
    await gathered(ours);
    const answer2 = await page.evaluate((d) => window.__pc.answer(d, true), { type: 'offer', sdp: ours.localDescription.sdp });
    assert.match(answer2.sdp, /^m=application /m);
    await ours.setRemoteDescription(answer2);
    await waitUntil(() => dc.readyState === 'open', 'channel open');
    const echoed = new Promise((r) => { dc.onmessage = (m) => r(m.data); });
    dc.send('hi');
    assert.strictEqual(await waitUntil(() => echoed, 'echo'), 'echo hi');
    assert.deepStrictEqual(log.filter((x) => x.startsWith('gathering:')), ['gathering:gathering', 'gathering:complete']);
  } finally {
    ours.close();
    await page.close();
  }
});

test('Chromium offers with no m-section, polyrtc answers with none; Chromium\'s first channel then opens', { skip, timeout: TIMEOUT }, async () => {
  const api = loadImpl();
  const page = await freshPage();
  const ours = new api.RTCPeerConnection();
  const log = ourLog(ours);
  let remote = null;
  ours.ondatachannel = (e) => { remote = e.channel; };
  try {
    const offer = await page.evaluate(() => window.__pc.offer(false));
    assert.doesNotMatch(offer.sdp, /^m=/m, 'Chromium\'s first offer has no m-section');
    await ours.setRemoteDescription(offer);
    await ours.setLocalDescription();
    assert.doesNotMatch(ours.localDescription.sdp, /^m=/m, 'our answer has none either');
    await page.evaluate((d) => window.__pc.apply(d), { type: 'answer', sdp: ours.localDescription.sdp });
    await new Promise((r) => setTimeout(r, 300));
    assert.strictEqual((await page.evaluate(() => window.__pc.state())).signaling, 'stable');
    assert.strictEqual(ours.iceGatheringState, 'new');
    assert.deepStrictEqual(log, []);

    await page.evaluate(() => window.__pc.channel());
    const offer2 = await page.evaluate(() => window.__pc.offer(true));
    assert.match(offer2.sdp, /^m=application /m);
    await ours.setRemoteDescription(offer2);
    await ours.setLocalDescription();
    await gathered(ours);
    assert.match(ours.localDescription.sdp, /^m=application /m);
    await page.evaluate((d) => window.__pc.apply(d), { type: 'answer', sdp: ours.localDescription.sdp });
    await waitUntil(() => remote && remote.readyState === 'open', 'their channel open here');
    await waitUntil(async () => (await page.evaluate(() => window.__pc.state())).dc === 'open', 'open in Chromium');
    remote.send('from polyrtc');
    await waitUntil(async () => (await page.evaluate(() => window.__pc.state())).got.includes('from polyrtc'), 'message at Chromium');
  } finally {
    ours.close();
    await page.close();
  }
});
