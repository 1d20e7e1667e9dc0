'use strict';
// Interop: getStats() of polyrtc (js/node.js) against headless Chromium's on the same
// connection. After traffic stops, both reports must describe it alike: each side's selected
// pair is the other's mirrored (local candidate address/port = the peer's remote one), the
// bytes one side's transport sent are what the other's received, both name the same DTLS
// suite with opposite DTLS and ICE roles, each side's remote certificate is the other's
// local one, and our report has every stat type Chromium's has for a data-channel-only
// connection. Both directions (polyrtc offers, Chromium offers). Skips only when
// /usr/bin/chromium is absent.
const test = require('node:test');
const assert = require('node:assert');
const { chromiumSkip, sharedBrowser, waitUntil } = require('./lib/chromium');
const { filterDescription } = require('./lib/candidates');
const { loadImpl } = require('./lib/impl');

const skip = chromiumSkip();
const available = skip === false;
const TIMEOUT = 60000;

/** Stat types that only exist with media (webrtc-stats §8.2-§8.12). */
const MEDIA_TYPES = new Set([
  'codec', 'inbound-rtp', 'outbound-rtp', 'remote-inbound-rtp', 'remote-outbound-rtp', 'media-source',
  'media-playout', 'csrc', 'track', 'stream', 'sender', 'receiver',
]);

// Runs inside the page: one RTCPeerConnection, non-trickle, whose stats come back as plain objects.
function pageMain() {
  window.__pc = {
    pc: new RTCPeerConnection(),
    got: 0,
    gotBytes: 0,
    init() {
      this.pc.addEventListener('datachannel', (e) => this.attach(e.channel));
    },
    attach(dc) {
      this.dc = dc;
      dc.binaryType = 'arraybuffer';
      dc.onmessage = (m) => {
        this.got += 1;
        this.gotBytes += typeof m.data === 'string' ? m.data.length : m.data.byteLength;
      };
    },
    async gathered() {
      const pc = this.pc;
      if (pc.iceGatheringState === 'complete') return;
      await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') r();
      }));
    },
    async offer() {
      this.attach(this.pc.createDataChannel('stats'));
      await this.pc.setLocalDescription();
      await this.gathered();
      return { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp };
    },
    async answer(desc) {
      await this.pc.setRemoteDescription(desc);
      await this.pc.setLocalDescription();
      await this.gathered();
      return { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp };
    },
    async apply(desc) { await this.pc.setRemoteDescription(desc); },
    send(n, size) {
      for (let i = 0; i < n; i += 1) this.dc.send(new Uint8Array(size));
    },
    state() {
      return {
        dc: this.dc ? this.dc.readyState : null, got: this.got, gotBytes: this.gotBytes,
        buffered: this.dc ? this.dc.bufferedAmount : 0,
      };
    },
    async stats() {
      return [...(await this.pc.getStats()).values()].map((s) => ({ ...s }));
    },
  };
  window.__pc.init();
}

const chromium = sharedBrowser(test, available);

async function gathered(pc) {
  await waitUntil(() => pc.iceGatheringState === 'complete', 'our gathering');
}

/** A report (array or RTCStatsReport) as a Map; its transport, selected pair and candidates. */
function view(stats) {
  const map = new Map([...(Array.isArray(stats) ? stats.map((s) => [s.id, s]) : stats)]);
  const transports = [...map.values()].filter((s) => s.type === 'transport');
  assert.strictEqual(transports.length, 1, 'one transport (BUNDLE)');
  const [transport] = transports;
  const pair = map.get(transport.selectedCandidatePairId);
  assert.ok(pair, 'a selected candidate pair');
  return {
    map,
    types: new Set([...map.values()].map((s) => s.type)),
    transport,
    pair,
    local: map.get(pair.localCandidateId),
    remote: map.get(pair.remoteCandidateId),
  };
}

async function connectAndCompare(nodeOffers) {
  const api = loadImpl();
  const page = await chromium.freshPage(pageMain);
  const ours = new api.RTCPeerConnection();
  try {
    let dc;
    if (nodeOffers) {
      dc = ours.createDataChannel('stats');
      await ours.setLocalDescription();
      await gathered(ours);
      const answer = await page.evaluate((d) => window.__pc.answer(d), filterDescription(ours.localDescription.toJSON()));
      await ours.setRemoteDescription(filterDescription(answer));
    } else {
      const offer = await page.evaluate(() => window.__pc.offer());
      const channel = new Promise((r) => { ours.ondatachannel = (e) => r(e.channel); });
      await ours.setRemoteDescription(filterDescription(offer));
      await ours.setLocalDescription();
      await gathered(ours);
      await page.evaluate((d) => window.__pc.apply(d), filterDescription(ours.localDescription.toJSON()));
      dc = await waitUntil(() => channel, 'our datachannel event');
    }
    await waitUntil(() => dc.readyState === 'open', 'our channel open');
    await waitUntil(async () => (await page.evaluate(() => window.__pc.state())).dc === 'open', 'their channel open');
    // Traffic once both sides settled on the nominated pair (the controlling side may still
    // switch after the channel opened), so that both count it on the pair they compare.
    await waitUntil(async () => {
      const r = [...(await ours.getStats()).values()];
      const t = r.find((s) => s.type === 'transport');
      const pair = t && r.find((s) => s.id === t.selectedCandidatePairId);
      return pair && pair.nominated;
    }, 'our selected pair nominated');
    await new Promise((r) => setTimeout(r, 500));
    const base = view(await ours.getStats());
    const baseTheirs = view(await page.evaluate(() => window.__pc.stats()));
    let theirBytes = 0;
    dc.binaryType = 'arraybuffer';
    dc.onmessage = (m) => { theirBytes += m.data.byteLength; };
    // Traffic both ways, then quiet.
    const N = 200000;
    // Paced (a burst into Chromium's socket may overflow it on loopback: SCTP then
    // retransmits, and what was sent is rightly more than what arrived).
    for (let i = 0; i < 20; i += 1) {
      dc.send(new Uint8Array(N / 20));
      await waitUntil(() => dc.bufferedAmount === 0, 'sent');
      await new Promise((r) => setTimeout(r, 5));
    }
    await page.evaluate(() => window.__pc.send(10, 5000));
    await waitUntil(async () => (await page.evaluate(() => window.__pc.state())).gotBytes === N, 'Chromium received all');
    await waitUntil(() => theirBytes === 50000, 'we received all');
    await waitUntil(() => dc.bufferedAmount === 0, 'drained');
    await new Promise((r) => setTimeout(r, 1000));
    const o = view(await ours.getStats());
    const c = view(await page.evaluate(() => window.__pc.stats()));

    // Each side's selected pair is the other's, mirrored.
    assert.deepStrictEqual([o.local.address, o.local.port], [c.remote.address, c.remote.port], 'our local = their remote');
    assert.deepStrictEqual([o.remote.address, o.remote.port], [c.local.address, c.local.port], 'our remote = their local');
    assert.strictEqual(o.pair.state, 'succeeded');
    // (Chromium shows its selected pair 'in-progress' while a consent check is outstanding.)
    assert.ok(['succeeded', 'in-progress'].includes(c.pair.state), c.pair.state);
    assert.strictEqual(o.pair.nominated, true);
    // Bytes: what one transport sent, the other received (both count DTLS datagrams, not
    // STUN; a few in flight, e.g. a heartbeat or a consent-time retransmission, are allowed).
    const margin = 1500;
    const close = (x, y, what) => assert.ok(Math.abs(x - y) <= margin, `${what}: ${x} vs ${y}`);
    close(o.transport.bytesSent, c.transport.bytesReceived, 'our bytesSent vs their bytesReceived');
    close(o.transport.bytesReceived, c.transport.bytesSent, 'our bytesReceived vs their bytesSent');
    assert.ok(o.transport.bytesSent >= N);
    close(o.transport.packetsSent, c.transport.packetsReceived, 'packets');
    close(o.pair.bytesSent, c.pair.bytesReceived, 'selected pair bytes');
    assert.strictEqual(o.pair.id, base.pair.id, 'our selected pair did not change during the traffic');
    assert.strictEqual(c.pair.id, baseTheirs.pair.id, 'Chromium\'s selected pair did not change during the traffic');
    close(o.transport.bytesSent - base.transport.bytesSent, c.transport.bytesReceived - baseTheirs.transport.bytesReceived,
      'bytes sent during the traffic');
    // DTLS: one suite, opposite roles; ICE: opposite roles.
    assert.strictEqual(o.transport.dtlsCipher, c.transport.dtlsCipher);
    assert.strictEqual(o.transport.tlsVersion, c.transport.tlsVersion);
    // use_srtp: the SRTP profile both ends keyed from DTLS (Chromium negotiates one without media).
    assert.ok(c.transport.srtpCipher, 'Chromium reports its SRTP cipher');
    assert.strictEqual(o.transport.srtpCipher, c.transport.srtpCipher);
    assert.deepStrictEqual([o.transport.dtlsRole, c.transport.dtlsRole].sort(), ['client', 'server']);
    assert.deepStrictEqual([o.transport.iceRole, c.transport.iceRole].sort(), ['controlled', 'controlling']);
    assert.strictEqual(o.transport.iceRole, nodeOffers ? 'controlling' : 'controlled');
    // Certificates: each side's remote one is the other's local one.
    const fp = (v, id) => v.map.get(id) && v.map.get(id).fingerprint.toUpperCase();
    assert.strictEqual(fp(o, o.transport.remoteCertificateId), fp(c, c.transport.localCertificateId));
    assert.strictEqual(fp(c, c.transport.remoteCertificateId), fp(o, o.transport.localCertificateId));
    assert.strictEqual(o.map.get(o.transport.localCertificateId).base64Certificate,
      c.map.get(c.transport.remoteCertificateId).base64Certificate);
    // Every stat type Chromium reports here (minus media ones), we report too.
    const missing = [...c.types].filter((t) => !MEDIA_TYPES.has(t) && !o.types.has(t));
    assert.deepStrictEqual(missing, [], `Chromium has ${[...c.types]}, we have ${[...o.types]}`);
    // And the fields Chromium fills for those types, on the entries compared above.
    const sameType = (x, y) => x.candidateType === y.candidateType;
    const entries = [[o.transport, c.transport], [o.pair, c.pair]];
    if (sameType(o.local, c.local)) entries.push([o.local, c.local]);
    if (sameType(o.remote, c.remote)) entries.push([o.remote, c.remote]);
    for (const [ourEntry, theirEntry] of entries) {
      const skipFields = new Set(['writable', 'isRemote', 'networkType', 'ip', 'url', 'iceLocalUsernameFragment',
        'lastPacketSentTimestamp', 'lastPacketReceivedTimestamp', 'totalRoundTripTime', 'currentRoundTripTime',
        'availableOutgoingBitrate', 'packetsDiscardedOnSend', 'bytesDiscardedOnSend', 'priority',
        'vpn', 'networkAdapterType', 'srtpCipher']);
      const lacking = Object.keys(theirEntry).filter((k) => !skipFields.has(k) && !(k in ourEntry));
      assert.deepStrictEqual(lacking, [], `${theirEntry.type} fields Chromium has and we lack`);
    }
  } finally {
    ours.close();
    await page.close();
  }
}

test('getStats agrees with Chromium: polyrtc offers', { skip, timeout: TIMEOUT }, () => connectAndCompare(true));
test('getStats agrees with Chromium: Chromium offers', { skip, timeout: TIMEOUT }, () => connectAndCompare(false));
