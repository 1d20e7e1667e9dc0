'use strict';
// Interop: ICE restart between the implementation under test (Node) and headless Chromium,
// from either side, while the Node side streams messages every 10 ms. Every message must
// arrive once and in order, and neither side's connection may leave `connected`.
// Non-trickle signaling (complete descriptions), loopback candidates only.
const test = require('node:test');
const assert = require('node:assert');
const { loadImpl, implName } = require('./lib/impl');
const { chromiumAvailable, launchChromium, CHROMIUM_PATH } = require('./lib/chromium');
const { filterSdp } = require('./lib/candidates');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ufrag = (sdp) => (/a=ice-ufrag:(\S+)/.exec(sdp) || [])[1];

async function gathered(pc, deadline = Date.now() + 10000) {
  while (pc.iceGatheringState !== 'complete') {
    if (Date.now() > deadline) throw new Error('gathering did not complete');
    await sleep(10);
  }
}

async function until(what, cond, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const available = chromiumAvailable();
if (!available && process.env.CI !== 'true') {
  console.error(`\n!!! SKIPPING Chromium ICE-restart interop: ${CHROMIUM_PATH} not found !!!\n`);
}

test(`interop: ICE restart, ${implName()} <-> chromium`, {
  skip: available || process.env.CI === 'true' ? false : `${CHROMIUM_PATH} not found`,
  timeout: 60000,
}, async () => {
  const { RTCPeerConnection } = loadImpl();
  const browser = await launchChromium();
  let pc;
  let timer;
  try {
    const page = await browser.newPage();
    await page.goto('about:blank');
    await page.evaluate(() => {
      window.pc = new RTCPeerConnection();
      window.got = [];
      window.states = [];
      pc.onconnectionstatechange = () => window.states.push(pc.connectionState);
      pc.ondatachannel = (e) => {
        e.channel.onmessage = (m) => window.got.push(m.data);
      };
      window.gathered = async () => {
        while (pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 10));
      };
      window.answer = async (sdp) => {
        await pc.setRemoteDescription({ type: 'offer', sdp });
        await pc.setLocalDescription();
        await window.gathered();
        return pc.localDescription.sdp;
      };
      window.restartOffer = async () => {
        pc.restartIce();
        await pc.setLocalDescription();
        await window.gathered();
        return pc.localDescription.sdp;
      };
      window.applyAnswer = (sdp) => pc.setRemoteDescription({ type: 'answer', sdp });
    });

    pc = new RTCPeerConnection();
    const dc = pc.createDataChannel('restart');
    const nodeStates = [];
    pc.onconnectionstatechange = () => nodeStates.push(pc.connectionState);
    await pc.setLocalDescription();
    await gathered(pc);
    const a1 = await page.evaluate((s) => window.answer(s), filterSdp(pc.localDescription.sdp));
    await pc.setRemoteDescription({ type: 'answer', sdp: filterSdp(a1) });
    await until('the channel to open', () => dc.readyState === 'open');

    let sent = 0;
    timer = setInterval(() => {
      if (dc.readyState === 'open') {
        dc.send(`m${sent}`);
        sent += 1;
      }
    }, 10);
    await sleep(300);

    // 1. Node restarts ICE.
    const oldNode = ufrag(pc.localDescription.sdp);
    const oldChrome = ufrag(pc.remoteDescription.sdp);
    const negotiationNeeded = new Promise((r) => { pc.onnegotiationneeded = r; });
    pc.restartIce();
    await negotiationNeeded;
    await pc.setLocalDescription();
    await gathered(pc);
    const a2 = await page.evaluate((s) => window.answer(s), filterSdp(pc.localDescription.sdp));
    await pc.setRemoteDescription({ type: 'answer', sdp: filterSdp(a2) });
    assert.notStrictEqual(ufrag(pc.localDescription.sdp), oldNode, 'Node offered new credentials');
    assert.notStrictEqual(ufrag(a2), oldChrome, 'Chromium answered with new credentials');
    await sleep(1500);

    // 2. Chromium restarts ICE; Node answers.
    const o3 = await page.evaluate(() => window.restartOffer());
    assert.notStrictEqual(ufrag(o3), ufrag(a2), 'Chromium offered new credentials');
    const beforeAnswer = ufrag(pc.localDescription.sdp);
    await pc.setRemoteDescription({ type: 'offer', sdp: filterSdp(o3) });
    await pc.setLocalDescription();
    await gathered(pc);
    assert.notStrictEqual(ufrag(pc.localDescription.sdp), beforeAnswer, 'Node answered with new credentials');
    await page.evaluate((s) => window.applyAnswer(s), filterSdp(pc.localDescription.sdp));
    await sleep(1500);

    clearInterval(timer);
    timer = undefined;
    const total = sent;
    await until('every message to arrive', async () => (await page.evaluate(() => window.got.length)) >= total);
    const got = await page.evaluate(() => window.got);
    assert.deepStrictEqual(got, Array.from({ length: total }, (_, i) => `m${i}`), 'every message once, in order');
    assert.ok(total > 200, `enough messages crossed the restarts (${total})`);
    assert.deepStrictEqual(nodeStates.filter((s) => s !== 'connected'), ['connecting'], `Node states: ${nodeStates}`);
    const chromeStates = await page.evaluate(() => window.states);
    assert.deepStrictEqual(chromeStates.filter((s) => s !== 'connected'), ['connecting'], `Chromium states: ${chromeStates}`);
  } finally {
    if (timer) clearInterval(timer);
    if (pc) pc.close();
    await browser.close();
  }
});
