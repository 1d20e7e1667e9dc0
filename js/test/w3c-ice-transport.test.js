'use strict';
// RTCIceTransport on the REAL package: getLocalParameters / getRemoteParameters follow the
// descriptions applied (webrtc-pc §5.6: "received by this RTCIceTransport via
// setLocalDescription / setRemoteDescription"), through an ICE restart and its rollback, and
// the selected candidate pair is the same pair seen from both ends.
const test = require('node:test');
const assert = require('node:assert');
const { skipUnlessAddon, loadApi, openPair, withTimeout, once } = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 30000;

function sdpParams(sdp) {
  return {
    usernameFragment: /^a=ice-ufrag:(\S+)/m.exec(sdp)[1],
    password: /^a=ice-pwd:(\S+)/m.exec(sdp)[1],
  };
}

test('getLocalParameters/getRemoteParameters: the applied SDPs\' ice-ufrag/ice-pwd, mirrored between the ends',
  { skip, timeout: TIMEOUT }, async () => {
    const a = new api.RTCPeerConnection();
    const b = new api.RTCPeerConnection();
    try {
      a.createDataChannel('x');
      await a.setLocalDescription();
      await b.setRemoteDescription(a.localDescription);
      // (webrtc-pc creates the RTCSctpTransport, hence this view, when an answer is applied.)
      assert.strictEqual(b.sctp, null);
      await b.setLocalDescription();
      const tb = b.sctp.transport.iceTransport;
      assert.deepStrictEqual(tb.getLocalParameters(), sdpParams(b.localDescription.sdp));
      await a.setRemoteDescription(b.localDescription);
      const ta = a.sctp.transport.iceTransport;
      assert.deepStrictEqual(ta.getLocalParameters(), sdpParams(a.localDescription.sdp));
      assert.deepStrictEqual(ta.getRemoteParameters(), tb.getLocalParameters());
      assert.deepStrictEqual(tb.getRemoteParameters(), ta.getLocalParameters());
      assert.notDeepStrictEqual(ta.getLocalParameters(), tb.getLocalParameters());
      // A copy each time: changing it does not change the transport.
      ta.getLocalParameters().usernameFragment = 'changed';
      assert.deepStrictEqual(ta.getLocalParameters(), sdpParams(a.localDescription.sdp));
    } finally {
      a.close();
      b.close();
    }
  });

test('ICE restart: new local parameters once the restart offer is applied; a rollback restores the old ones',
  { skip, timeout: TIMEOUT }, async () => {
    const { offerer, answerer, close } = await openPair(api);
    try {
      const t = offerer.sctp.transport.iceTransport;
      const before = t.getLocalParameters();
      const offer = await offerer.createOffer({ iceRestart: true });
      assert.deepStrictEqual(t.getLocalParameters(), before, 'createOffer alone changes nothing');
      await offerer.setLocalDescription(offer);
      const restarted = t.getLocalParameters();
      assert.deepStrictEqual(restarted, sdpParams(offer.sdp));
      assert.notStrictEqual(restarted.usernameFragment, before.usernameFragment);
      await offerer.setLocalDescription({ type: 'rollback' });
      assert.deepStrictEqual(t.getLocalParameters(), before, 'rollback restores the current description\'s');
      // Applied for real this time: both ends agree on the new parameters.
      await offerer.setLocalDescription(await offerer.createOffer({ iceRestart: true }));
      await answerer.setRemoteDescription(offerer.localDescription);
      await answerer.setLocalDescription();
      await offerer.setRemoteDescription(answerer.localDescription);
      const tb = answerer.sctp.transport.iceTransport;
      assert.deepStrictEqual(tb.getRemoteParameters(), t.getLocalParameters());
      assert.deepStrictEqual(t.getRemoteParameters(), tb.getLocalParameters());
      assert.notStrictEqual(t.getLocalParameters().usernameFragment, before.usernameFragment);
    } finally {
      close();
    }
  });

test('getSelectedCandidatePair: the same pair from both ends (local of one is remote of the other)',
  { skip, timeout: TIMEOUT }, async () => {
    const { offerer, answerer, close } = await openPair(api);
    try {
      const ta = offerer.sctp.transport.iceTransport;
      const tb = answerer.sctp.transport.iceTransport;
      for (const t of [ta, tb]) {
        if (!t.getSelectedCandidatePair()) await withTimeout(once(t, 'selectedcandidatepairchange'), 'selected pair');
      }
      const pa = ta.getSelectedCandidatePair();
      const pb = tb.getSelectedCandidatePair();
      const key = (c) => `${c.protocol} ${c.address}:${c.port}`;
      assert.strictEqual(key(pa.local), key(pb.remote));
      assert.strictEqual(key(pa.remote), key(pb.local));
      assert.ok(ta.getLocalCandidates().some((c) => key(c) === key(pa.local)), 'the selected local candidate is listed');
      assert.ok(['host', 'srflx', 'prflx', 'relay'].includes(pa.remote.type));
    } finally {
      close();
    }
  });
