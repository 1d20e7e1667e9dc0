'use strict';
// Event order of the REAL package (js/node.js on the native addon) as webrtc-pc gives it,
// bufferedamountlow exactness, and the perfect negotiation pattern with glare.
const test = require('node:test');
const assert = require('node:assert');
const {
  skipUnlessAddon, loadApi, once, withTimeout, until, sleep, messages, openPair,
} = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 25000;

test('negotiation and connection events come in the spec order', { skip, timeout: TIMEOUT }, async () => {
  const offerer = new api.RTCPeerConnection();
  const answerer = new api.RTCPeerConnection();
  try {
    const log = { offerer: [], answerer: [] };
    for (const [who, pc] of [['offerer', offerer], ['answerer', answerer]]) {
      const l = log[who];
      pc.onsignalingstatechange = () => l.push(`signaling:${pc.signalingState}`);
      pc.onicegatheringstatechange = () => l.push(`gathering:${pc.iceGatheringState}`);
      pc.onconnectionstatechange = () => l.push(`connection:${pc.connectionState}`);
      pc.oniceconnectionstatechange = () => l.push(`ice:${pc.iceConnectionState}`);
      pc.addEventListener('icecandidate', (e) => {
        if (e.candidate === null) l.push('candidate:null');
        else if (e.candidate.candidate === '') l.push('candidate:end');
        else l.push('candidate');
      });
    }
    offerer.addEventListener('icecandidate', (e) => { if (e.candidate) answerer.addIceCandidate(e.candidate).catch(() => {}); });
    answerer.addEventListener('icecandidate', (e) => { if (e.candidate) offerer.addIceCandidate(e.candidate).catch(() => {}); });
    const dc = offerer.createDataChannel('chat');
    const opened = once(dc, 'open');
    const step = async (who, what, promise) => {
      await promise;
      log[who].push(`resolved:${what}`);
    };
    await step('offerer', 'sld', offerer.setLocalDescription());
    await step('answerer', 'srd', answerer.setRemoteDescription(offerer.localDescription));
    await step('answerer', 'sld', answerer.setLocalDescription());
    await step('offerer', 'srd', offerer.setRemoteDescription(answerer.localDescription));
    await withTimeout(opened, 'open');
    await until(() => ['offerer', 'answerer'].every((w) => log[w].includes('candidate:null')
      && log[w].includes('connection:connected')), 'gathering complete and connected');

    const at = (who, entry) => log[who].indexOf(entry);
    // signalingstatechange fires before the promise resolves.
    assert.ok(at('offerer', 'signaling:have-local-offer') < at('offerer', 'resolved:sld'), log.offerer.join());
    assert.ok(at('offerer', 'signaling:stable') < at('offerer', 'resolved:srd'), log.offerer.join());
    assert.ok(at('answerer', 'signaling:have-remote-offer') < at('answerer', 'resolved:srd'), log.answerer.join());
    assert.ok(at('answerer', 'signaling:stable') < at('answerer', 'resolved:sld'), log.answerer.join());
    for (const who of ['offerer', 'answerer']) {
      const l = log[who];
      const filtered = (prefix) => l.filter((e) => e.startsWith(prefix));
      // gathering -> candidates -> '' -> complete -> null, each state once.
      assert.deepStrictEqual(filtered('gathering:'), ['gathering:gathering', 'gathering:complete'], who);
      const cands = l.filter((e) => e.startsWith('gathering:') || e.startsWith('candidate'));
      assert.strictEqual(cands[0], 'gathering:gathering', `${who}: ${cands.join()}`);
      assert.ok(cands.indexOf('candidate') > 0, `${who}: ${cands.join()}`);
      assert.deepStrictEqual(cands.slice(-3), ['candidate:end', 'gathering:complete', 'candidate:null'], who);
      assert.strictEqual(filtered('candidate:null').length, 1, who);
      // new -> connecting -> connected, once each.
      assert.deepStrictEqual(filtered('connection:'), ['connection:connecting', 'connection:connected'], who);
      assert.deepStrictEqual(filtered('ice:'), ['ice:checking', 'ice:connected'], who);
      assert.ok(at(who, 'ice:connected') < at(who, 'connection:connected'), l.join());
      // Nothing from ICE before the local description is set.
      const localSet = who === 'offerer' ? 'signaling:have-local-offer' : 'signaling:stable';
      assert.ok(at(who, 'gathering:gathering') > at(who, localSet), l.join());
    }
  } finally {
    offerer.close();
    answerer.close();
  }
});

test('datachannel before open before the first message; close once per channel', { skip, timeout: TIMEOUT }, async () => {
  const offerer = new api.RTCPeerConnection();
  const answerer = new api.RTCPeerConnection();
  try {
    const remoteLog = [];
    const localLog = [];
    const count = 50;
    const dc = offerer.createDataChannel('burst');
    dc.onopen = () => {
      localLog.push('open');
      for (let i = 0; i < count; i += 1) dc.send(`m${i}`);
    };
    dc.onclose = () => localLog.push('close');
    dc.onclosing = () => localLog.push('closing');
    let remote = null;
    answerer.ondatachannel = (e) => {
      remote = e.channel;
      remoteLog.push(`datachannel:${e.channel.readyState}`);
      e.channel.onopen = () => remoteLog.push('open');
      e.channel.onmessage = (m) => remoteLog.push(m.data);
      e.channel.onclosing = () => remoteLog.push('closing');
      e.channel.onclose = () => remoteLog.push('close');
    };
    offerer.onicecandidate = (e) => { if (e.candidate) answerer.addIceCandidate(e.candidate).catch(() => {}); };
    answerer.onicecandidate = (e) => { if (e.candidate) offerer.addIceCandidate(e.candidate).catch(() => {}); };
    await offerer.setLocalDescription();
    await answerer.setRemoteDescription(offerer.localDescription);
    await answerer.setLocalDescription();
    await offerer.setRemoteDescription(answerer.localDescription);
    await until(() => remoteLog.length === count + 2, 'all messages');
    assert.deepStrictEqual(remoteLog.slice(0, 2), ['datachannel:open', 'open']);
    assert.deepStrictEqual(remoteLog.slice(2), Array.from({ length: count }, (_, i) => `m${i}`));
    // Close from the answerer; each side sees one close, the other side closing first.
    remote.close();
    await until(() => dc.readyState === 'closed' && remote.readyState === 'closed', 'closed');
    offerer.close();
    answerer.close();
    await sleep(100);
    assert.deepStrictEqual(remoteLog.slice(count + 2), ['close']);
    assert.deepStrictEqual(localLog, ['open', 'closing', 'close']);
  } finally {
    offerer.close();
    answerer.close();
  }
});

test('bufferedamountlow with many 16 KiB messages and a 64 KiB threshold', { skip, timeout: TIMEOUT }, async () => {
  const p = await openPair(api);
  try {
    const SIZE = 16 * 1024;
    const THRESHOLD = 64 * 1024;
    const ROUNDS = 12;
    const PER_ROUND = 16; // 256 KiB per round, well above the threshold
    const got = messages(p.dc2);
    p.dc1.bufferedAmountLowThreshold = THRESHOLD;
    assert.strictEqual(p.dc1.bufferedAmountLowThreshold, THRESHOLD);
    let sent = 0;
    const lows = [];
    const fill = () => {
      for (let i = 0; i < PER_ROUND; i += 1) {
        const m = new Uint8Array(SIZE);
        new DataView(m.buffer).setUint32(0, sent);
        m.fill(sent & 0xff, 4);
        p.dc1.send(m);
        sent += 1;
      }
    };
    let rounds = 1;
    p.dc1.onbufferedamountlow = () => {
      lows.push(p.dc1.bufferedAmount);
      if (rounds < ROUNDS) {
        rounds += 1;
        fill();
      }
    };
    fill();
    assert.strictEqual(p.dc1.bufferedAmount, PER_ROUND * SIZE);
    await until(() => got.length === ROUNDS * PER_ROUND, 'all messages', 20000);
    await until(() => p.dc1.bufferedAmount === 0, 'drained');
    await sleep(50);
    // Exactly one event per crossing, each seen at or below the threshold.
    assert.strictEqual(lows.length, ROUNDS, JSON.stringify(lows));
    for (const b of lows) assert.ok(b <= THRESHOLD, `bufferedAmount ${b} at bufferedamountlow`);
    got.forEach((data, i) => {
      const v = new Uint8Array(data);
      assert.strictEqual(v.byteLength, SIZE);
      assert.strictEqual(new DataView(data).getUint32(0), i, 'in order');
      assert.strictEqual(v[SIZE - 1], i & 0xff);
    });
  } finally {
    p.close();
  }
});

/**
 * The MDN "perfect negotiation" example, verbatim in shape: each side runs the same code
 * with `polite` differing, over an async signaling channel.
 */
function perfectNegotiation(pc, polite, send, errors) {
  let makingOffer = false;
  let ignoreOffer = false;
  let isSettingRemoteAnswerPending = false;
  pc.onnegotiationneeded = async () => {
    try {
      makingOffer = true;
      await pc.setLocalDescription();
      send({ description: pc.localDescription.toJSON() });
    } catch (err) {
      errors.push(err);
    } finally {
      makingOffer = false;
    }
  };
  pc.onicecandidate = ({ candidate }) => send({ candidate: candidate ? candidate.toJSON() : null });
  return async ({ description, candidate }) => {
    try {
      if (description) {
        const readyForOffer = !makingOffer
          && (pc.signalingState === 'stable' || isSettingRemoteAnswerPending);
        const offerCollision = description.type === 'offer' && !readyForOffer;
        ignoreOffer = !polite && offerCollision;
        if (ignoreOffer) return;
        isSettingRemoteAnswerPending = description.type === 'answer';
        await pc.setRemoteDescription(description);
        isSettingRemoteAnswerPending = false;
        if (description.type === 'offer') {
          await pc.setLocalDescription();
          send({ description: pc.localDescription.toJSON() });
        }
      } else if (candidate !== undefined) {
        try {
          await pc.addIceCandidate(candidate);
        } catch (err) {
          if (!ignoreOffer) throw err;
        }
      }
    } catch (err) {
      errors.push(err);
    }
  };
}

for (const round of [1, 2, 3]) {
  test(`perfect negotiation with glare converges and opens both channels (round ${round})`, { skip, timeout: TIMEOUT }, async () => {
    const polite = new api.RTCPeerConnection();
    const impolite = new api.RTCPeerConnection();
    const errors = [];
    try {
      // Async FIFO signaling: each message in a later task after a small random delay.
      let toPolite = null;
      let toImpolite = null;
      const channel = (deliver) => {
        let tail = Promise.resolve();
        return (msg) => {
          const copy = JSON.parse(JSON.stringify(msg));
          tail = tail.then(() => sleep(Math.floor(Math.random() * 3 * round))).then(() => { deliver()(copy); }); // the handler is not awaited
        };
      };
      const onPolite = perfectNegotiation(polite, true, channel(() => toImpolite), errors);
      const onImpolite = perfectNegotiation(impolite, false, channel(() => toPolite), errors);
      toPolite = onPolite;
      toImpolite = onImpolite;
      const offers = { polite: 0, impolite: 0 };
      const received = { polite: [], impolite: [] };
      polite.ondatachannel = (e) => received.polite.push(e.channel);
      impolite.ondatachannel = (e) => received.impolite.push(e.channel);
      polite.addEventListener('signalingstatechange', () => { if (polite.signalingState === 'have-local-offer') offers.polite += 1; });
      impolite.addEventListener('signalingstatechange', () => { if (impolite.signalingState === 'have-local-offer') offers.impolite += 1; });
      // Both sides create a channel in the same task: both fire negotiationneeded (glare).
      const a = polite.createDataChannel('from-polite');
      const b = impolite.createDataChannel('from-impolite');
      await withTimeout(Promise.all([
        a.readyState === 'open' ? null : once(a, 'open'),
        b.readyState === 'open' ? null : once(b, 'open'),
      ]), 'both channels open');
      await until(() => received.polite.length === 1 && received.impolite.length === 1, 'datachannel events');
      assert.strictEqual(received.polite[0].label, 'from-impolite');
      assert.strictEqual(received.impolite[0].label, 'from-polite');
      assert.ok(offers.polite >= 1 && offers.impolite >= 1, `glare happened: ${JSON.stringify(offers)}`);
      await until(() => polite.signalingState === 'stable' && impolite.signalingState === 'stable', 'stable');
      assert.strictEqual(polite.connectionState, 'connected');
      assert.strictEqual(impolite.connectionState, 'connected');
      assert.notStrictEqual(a.id, b.id);
      const gotA = messages(received.impolite[0]);
      const gotB = messages(received.polite[0]);
      a.send('hi from polite');
      b.send('hi from impolite');
      await until(() => gotA.length === 1 && gotB.length === 1, 'messages');
      assert.deepStrictEqual([gotA[0], gotB[0]], ['hi from polite', 'hi from impolite']);
      assert.deepStrictEqual(errors.map(String), []);
    } finally {
      polite.close();
      impolite.close();
    }
  });
}
