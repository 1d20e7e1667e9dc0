'use strict';
// W3C webrtc-pc data channels on the REAL package (js/node.js on the native addon), two
// peers in one process over loopback UDP:
//  - RTCPeerConnection.close() ("close the connection"): every channel of the closing side is
//    'closed' at once, without the closing procedure or an error; the other side's channels
//    see the SCTP ABORT as their transport closing with an error ("announcing a data channel
//    as closed": readyState 'closed', `error` with errorDetail 'sctp-failure', then `close`);
//    their ids are free again.
//  - createDataChannel() ids: the `id` member counts only for negotiated channels; in-band
//    channels get an id of the DTLS role's parity (RFC 8832 §6) as soon as the description
//    that fixes the role is applied; an id in use is refused with OperationError.
const test = require('node:test');
const assert = require('node:assert');
const {
  skipUnlessAddon, loadApi, once, withTimeout, until, sleep, negotiate,
} = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 25000;

/** Every open / closing / error / close event of `dc`, with the readyState it saw. */
function record(dc) {
  const log = [];
  for (const type of ['open', 'closing', 'error', 'close']) {
    dc.addEventListener(type, (e) => {
      const entry = { type, readyState: dc.readyState };
      if (type === 'error') entry.event = e;
      log.push(entry);
    });
  }
  return log;
}

const types = (log) => log.map((e) => e.type);

/** Two peers with, on the offerer, an in-band channel and a negotiated pair (id 5); open. */
async function connectedWithChannels() {
  const offerer = new api.RTCPeerConnection();
  const answerer = new api.RTCPeerConnection();
  const inband = offerer.createDataChannel('inband');
  const neg1 = offerer.createDataChannel('neg', { negotiated: true, id: 5 });
  const neg2 = answerer.createDataChannel('neg', { negotiated: true, id: 5 });
  const remote = new Promise((resolve) => { answerer.ondatachannel = (e) => resolve(e.channel); });
  await withTimeout(negotiate(offerer, answerer), 'negotiation');
  const inbandRemote = await withTimeout(remote, 'datachannel event');
  await until(() => [inband, neg1, neg2, inbandRemote].every((c) => c.readyState === 'open'), 'channels open');
  return { offerer, answerer, inband, inbandRemote, neg1, neg2 };
}

// ---- RTCPeerConnection.close() -----------------------------------------------------------

test('pc.close(): the closing side\'s channels are closed at once, no closing procedure, no error', { skip, timeout: TIMEOUT }, async () => {
  const { offerer, answerer, inband, neg1 } = await connectedWithChannels();
  // A channel still connecting (created after connection, not open yet) closes the same way.
  const late = offerer.createDataChannel('late');
  assert.strictEqual(late.readyState, 'connecting');
  const logs = [inband, neg1, late].map(record);
  offerer.close();
  // "Set the [[ReadyState]] slot of each of connection's RTCDataChannels to 'closed'."
  for (const dc of [inband, neg1, late]) assert.strictEqual(dc.readyState, 'closed', dc.label);
  assert.throws(() => inband.send('x'), { name: 'InvalidStateError' });
  await sleep(500);
  // "closed abruptly and the closing procedure will not be invoked": no `closing`, no
  // `error` (only the peer sees an abort); a single `close` as Chromium fires it.
  for (const log of logs) assert.deepStrictEqual(types(log), ['close']);
  for (const log of logs) assert.strictEqual(log[0].readyState, 'closed');
  answerer.close();
});

test('pc.close(): the other side\'s in-band and negotiated channels fire error (sctp-failure) then close', { skip, timeout: TIMEOUT }, async () => {
  const { offerer, answerer, inbandRemote, neg2 } = await connectedWithChannels();
  // A channel the answerer opened towards the offerer, too.
  const fromAnswerer = answerer.createDataChannel('from-answerer');
  await withTimeout(once(fromAnswerer, 'open'), 'answerer channel open');
  const channels = [inbandRemote, neg2, fromAnswerer];
  const logs = channels.map(record);
  offerer.close();
  await until(() => logs.every((l) => l.some((e) => e.type === 'close')), 'remote channels closed');
  await sleep(200);
  for (const [i, log] of logs.entries()) {
    const what = channels[i].label;
    // webrtc-pc §6.2 "announcing a data channel as closed", transport closed with an error:
    // [[ReadyState]] 'closed', then `error`, then `close` (the order WPT
    // RTCDataChannel-close.html checks and Chromium follows).
    assert.deepStrictEqual(types(log), ['error', 'close'], what);
    assert.deepStrictEqual(log.map((e) => e.readyState), ['closed', 'closed'], what);
    const ev = log[0].event;
    assert.ok(ev instanceof api.RTCErrorEvent, what);
    assert.ok(ev.error instanceof api.RTCError, what);
    assert.strictEqual(ev.error.name, 'OperationError', what);
    assert.strictEqual(ev.error.errorDetail, 'sctp-failure', what);
    // The closing side's ABORT carries User-Initiated Abort (RFC 9260 §3.3.10.12), the first
    // cause code of the ABORT surfaced as RTCError.sctpCauseCode (as Chromium reports it).
    assert.strictEqual(ev.error.sctpCauseCode, 12, what);
  }
  assert.strictEqual(answerer.signalingState, 'stable', 'the answerer itself is not closed');
  // Their ids are free: a negotiated channel may take id 5 again (it is no longer "used by an
  // existing RTCDataChannel").
  const again = answerer.createDataChannel('again', { negotiated: true, id: 5 });
  assert.strictEqual(again.id, 5);
  const again2 = answerer.createDataChannel('again2', { negotiated: true, id: inbandRemote.id });
  assert.strictEqual(again2.id, inbandRemote.id);
  answerer.close();
});

test('pc.close() after a channel closed normally fires nothing more on either side', { skip, timeout: TIMEOUT }, async () => {
  const { offerer, answerer, inband, inbandRemote } = await connectedWithChannels();
  const closedBoth = Promise.all([once(inband, 'close'), once(inbandRemote, 'close')]);
  inband.close();
  await withTimeout(closedBoth, 'channel closed on both sides');
  const logs = [inband, inbandRemote].map(record);
  offerer.close();
  await sleep(500);
  assert.deepStrictEqual(logs.map(types), [[], []]);
  answerer.close();
});

// ---- ids -----------------------------------------------------------------------------------

test('createDataChannel: the id member of an in-band channel is ignored, out-of-range values included', { skip, timeout: TIMEOUT }, async () => {
  const pc = new api.RTCPeerConnection();
  // "[[DataChannelId]] to the value of options's id member, if it is present and
  // [[Negotiated]] is true, otherwise null": 65535 is no error when not negotiated.
  for (const id of [0, 7, 65534, 65535]) {
    const dc = pc.createDataChannel(`in-band ${id}`, { id });
    assert.strictEqual(dc.id, null, `id ${id}`);
    const dc2 = pc.createDataChannel(`in-band ${id}`, { id, negotiated: false });
    assert.strictEqual(dc2.id, null, `id ${id}`);
  }
  // WebIDL still converts the member ([EnforceRange] unsigned short).
  assert.throws(() => pc.createDataChannel('x', { id: 65536 }), TypeError);
  assert.throws(() => pc.createDataChannel('x', { id: -1 }), TypeError);
  // Negotiated: 65535 is the spec's TypeError; an id in use (by a negotiated channel) is an
  // OperationError; the ignored ids of in-band channels use nothing.
  assert.throws(() => pc.createDataChannel('x', { negotiated: true, id: 65535 }), TypeError);
  assert.strictEqual(pc.createDataChannel('n', { negotiated: true, id: 7 }).id, 7);
  assert.throws(() => pc.createDataChannel('n', { negotiated: true, id: 7 }), { name: 'OperationError' });
  assert.strictEqual(pc.createDataChannel('n', { negotiated: true, id: 65534 }).id, 65534);
  pc.close();
});

test('ids follow the DTLS role and are set once the description fixing it is applied', { skip, timeout: TIMEOUT }, async () => {
  const offerer = new api.RTCPeerConnection();
  const answerer = new api.RTCPeerConnection();
  offerer.onicecandidate = (e) => { if (e.candidate) answerer.addIceCandidate(e.candidate).catch(() => {}); };
  answerer.onicecandidate = (e) => { if (e.candidate) offerer.addIceCandidate(e.candidate).catch(() => {}); };
  const o1 = offerer.createDataChannel('o1', { id: 8 });
  const o2 = offerer.createDataChannel('o2');
  const oNeg = offerer.createDataChannel('oneg', { negotiated: true, id: 1 });
  await offerer.setLocalDescription();
  assert.strictEqual(o1.id, null, 'no role yet after the offer');
  await answerer.setRemoteDescription(offerer.localDescription);
  const a1 = answerer.createDataChannel('a1', { id: 1 });
  assert.strictEqual(a1.id, null, 'no role yet on the answerer before its answer');
  await answerer.setLocalDescription();
  // The answer fixes the roles: ours takes a=setup:active (DTLS client, even ids).
  assert.match(answerer.localDescription.sdp, /^a=setup:active/m);
  assert.strictEqual(a1.id, 0, 'answerer (DTLS client) gets the lowest even id at its SLD(answer)');
  const a2 = answerer.createDataChannel('a2', { id: 77 });
  assert.strictEqual(a2.id, 2, 'created after the role is known: id at once');
  await offerer.setRemoteDescription(answerer.localDescription);
  // Offerer is the DTLS server: odd ids, skipping 1 (the negotiated channel's).
  assert.deepStrictEqual([o1.id, o2.id, oNeg.id], [3, 5, 1], 'offerer ids at its SRD(answer)');
  const o3 = offerer.createDataChannel('o3');
  assert.strictEqual(o3.id, 7);
  // An id in use by an in-band channel refuses a negotiated channel with it.
  assert.throws(() => offerer.createDataChannel('dup', { negotiated: true, id: 3 }), { name: 'OperationError' });
  assert.throws(() => answerer.createDataChannel('dup', { negotiated: true, id: 0 }), { name: 'OperationError' });
  // The other side sees the same ids.
  const seen = new Map();
  answerer.ondatachannel = (e) => seen.set(e.channel.label, e.channel.id);
  await until(() => seen.size === 3 && [o1, o2, o3, a1, a2].every((c) => c.readyState === 'open'), 'all open');
  assert.deepStrictEqual(Object.fromEntries(seen), { o1: 3, o2: 5, o3: 7 });
  // The channelid events that follow do not change anything.
  await sleep(100);
  assert.deepStrictEqual([o1.id, o2.id, o3.id, oNeg.id, a1.id, a2.id], [3, 5, 7, 1, 0, 2]);
  offerer.close();
  answerer.close();
});
