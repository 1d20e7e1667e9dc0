'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi } = require('./helpers');

const api = fakeApi();
const {
  RTCPeerConnection, RTCSessionDescription, RTCIceCandidate, RTCPeerConnectionIceEvent,
  RTCPeerConnectionIceErrorEvent, RTCDataChannelEvent, RTCError, RTCErrorEvent, RTCDataChannel,
  RTCSctpTransport, RTCDtlsTransport, RTCIceTransport,
} = api;

test('RTCSessionDescription', () => {
  const d = new RTCSessionDescription({ type: 'offer', sdp: 'v=0\r\n' });
  assert.strictEqual(d.type, 'offer');
  assert.strictEqual(d.sdp, 'v=0\r\n');
  assert.deepStrictEqual(d.toJSON(), { type: 'offer', sdp: 'v=0\r\n' });
  assert.strictEqual(JSON.stringify(d), '{"type":"offer","sdp":"v=0\\r\\n"}');
  assert.strictEqual(new RTCSessionDescription({ type: 'rollback' }).sdp, '');
  assert.throws(() => new RTCSessionDescription({ sdp: '' }), TypeError);
  assert.throws(() => new RTCSessionDescription({ type: 'bogus' }), TypeError);
  assert.throws(() => new RTCSessionDescription(), TypeError);
  assert.throws(() => new RTCSessionDescription('offer'), TypeError);
  assert.throws(() => { d.type = 'answer'; }, TypeError); // readonly attribute, strict mode
  assert.strictEqual(d.type, 'offer');
  assert.ok(Object.prototype.toString.call(d).includes('RTCSessionDescription'));
});

test('RTCIceCandidate parses the candidate attribute', () => {
  const c = new RTCIceCandidate({
    candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.2 rport 46154 generation 0 ufrag EsAw network-cost 999',
    sdpMid: '0',
  });
  assert.strictEqual(c.foundation, '842163049');
  assert.strictEqual(c.component, 'rtp');
  assert.strictEqual(c.priority, 1677729535);
  assert.strictEqual(c.address, '203.0.113.7');
  assert.strictEqual(c.protocol, 'udp');
  assert.strictEqual(c.port, 46154);
  assert.strictEqual(c.type, 'srflx');
  assert.strictEqual(c.tcpType, null);
  assert.strictEqual(c.relatedAddress, '10.0.0.2');
  assert.strictEqual(c.relatedPort, 46154);
  assert.strictEqual(c.usernameFragment, 'EsAw');
  assert.strictEqual(c.sdpMid, '0');
  assert.strictEqual(c.sdpMLineIndex, null);
  assert.deepStrictEqual(c.toJSON(), { candidate: c.candidate, sdpMid: '0', sdpMLineIndex: null, usernameFragment: 'EsAw' });

  const t = new RTCIceCandidate({
    candidate: 'candidate:1 2 TCP 2105524479 192.0.2.5 9 typ host tcptype active', sdpMLineIndex: 0,
    usernameFragment: 'given',
  });
  assert.strictEqual(t.component, 'rtcp');
  assert.strictEqual(t.protocol, 'tcp');
  assert.strictEqual(t.tcpType, 'active');
  assert.strictEqual(t.usernameFragment, 'given');
  assert.strictEqual(t.sdpMLineIndex, 0);

  const bad = new RTCIceCandidate({ candidate: 'garbage', sdpMid: 'a' });
  assert.strictEqual(bad.candidate, 'garbage');
  assert.strictEqual(bad.foundation, null);
  assert.strictEqual(bad.port, null);

  const empty = new RTCIceCandidate({ sdpMid: '0' });
  assert.strictEqual(empty.candidate, '');
  assert.strictEqual(empty.address, null);
  assert.strictEqual(empty.usernameFragment, null);

  assert.throws(() => new RTCIceCandidate(), TypeError);
  assert.throws(() => new RTCIceCandidate({}), TypeError);
  assert.throws(() => new RTCIceCandidate({ candidate: '', sdpMid: null, sdpMLineIndex: null }), TypeError);
  assert.throws(() => new RTCIceCandidate({ sdpMLineIndex: 65536 }), TypeError);
  assert.throws(() => new RTCIceCandidate({ sdpMLineIndex: -1 }), TypeError);
});

test('RTCPeerConnectionIceEvent', () => {
  const e = new RTCPeerConnectionIceEvent('icecandidate');
  assert.ok(e instanceof Event);
  assert.strictEqual(e.type, 'icecandidate');
  assert.strictEqual(e.candidate, null);
  assert.strictEqual(e.url, null);
  const candidate = new RTCIceCandidate({ sdpMid: '0' });
  const f = new RTCPeerConnectionIceEvent('icecandidate', { candidate, url: 'stun:x', bubbles: true });
  assert.strictEqual(f.candidate, candidate);
  assert.strictEqual(f.url, 'stun:x');
  assert.strictEqual(f.bubbles, true);
  assert.throws(() => new RTCPeerConnectionIceEvent('icecandidate', { candidate: { candidate: '' } }), TypeError);
  assert.throws(() => new RTCPeerConnectionIceEvent(), TypeError);
});

test('RTCPeerConnectionIceErrorEvent', () => {
  const e = new RTCPeerConnectionIceErrorEvent('icecandidateerror', {
    address: '192.0.2.1', port: 3478, url: 'stun:x', errorCode: 701, errorText: 'timeout',
  });
  assert.strictEqual(e.address, '192.0.2.1');
  assert.strictEqual(e.port, 3478);
  assert.strictEqual(e.url, 'stun:x');
  assert.strictEqual(e.errorCode, 701);
  assert.strictEqual(e.errorText, 'timeout');
  assert.throws(() => new RTCPeerConnectionIceErrorEvent('icecandidateerror', {}), TypeError);
  assert.throws(() => new RTCPeerConnectionIceErrorEvent('icecandidateerror'), TypeError);
});

test('RTCDataChannelEvent requires a channel', () => {
  assert.throws(() => new RTCDataChannelEvent('datachannel', {}), TypeError);
  assert.throws(() => new RTCDataChannelEvent('datachannel'), TypeError);
  assert.throws(() => new RTCDataChannelEvent('datachannel', { channel: {} }), TypeError);
  const pc = new RTCPeerConnection();
  const channel = pc.createDataChannel('x');
  const e = new RTCDataChannelEvent('datachannel', { channel });
  assert.strictEqual(e.channel, channel);
  assert.ok(channel instanceof RTCDataChannel);
  assert.ok(channel instanceof EventTarget);
  pc.close();
});

test('RTCError and RTCErrorEvent', () => {
  const err = new RTCError({ errorDetail: 'sctp-failure', sctpCauseCode: 12 }, 'boom');
  assert.ok(err instanceof DOMException);
  assert.ok(err instanceof Error);
  assert.strictEqual(err.name, 'OperationError');
  assert.strictEqual(err.message, 'boom');
  assert.strictEqual(err.errorDetail, 'sctp-failure');
  assert.strictEqual(err.sctpCauseCode, 12);
  assert.strictEqual(err.sdpLineNumber, null);
  assert.strictEqual(err.receivedAlert, null);
  assert.strictEqual(err.sentAlert, null);
  assert.strictEqual(err.httpRequestStatusCode, null);
  assert.strictEqual(new RTCError({ errorDetail: 'dtls-failure' }).message, '');
  assert.throws(() => new RTCError({}), TypeError);
  assert.throws(() => new RTCError({ errorDetail: 'nope' }), TypeError);
  assert.throws(() => new RTCError(), TypeError);
  const ev = new RTCErrorEvent('error', { error: err });
  assert.strictEqual(ev.error, err);
  assert.throws(() => new RTCErrorEvent('error', {}), TypeError);
  assert.throws(() => new RTCErrorEvent('error', { error: new Error('x') }), TypeError);
});

test('transports are not constructible', () => {
  for (const C of [RTCSctpTransport, RTCDtlsTransport, RTCIceTransport, RTCDataChannel]) {
    assert.throws(() => new C(), TypeError);
  }
});

test('event handler attributes follow HTML semantics', () => {
  const pc = new RTCPeerConnection();
  const order = [];
  assert.strictEqual(pc.onsignalingstatechange, null);
  pc.addEventListener('signalingstatechange', () => order.push('a'));
  const h1 = () => order.push('h1');
  pc.onsignalingstatechange = h1;
  assert.strictEqual(pc.onsignalingstatechange, h1);
  pc.addEventListener('signalingstatechange', () => order.push('b'));
  pc.dispatchEvent(new Event('signalingstatechange'));
  assert.deepStrictEqual(order, ['a', 'h1', 'b']);
  // Replacing keeps the position.
  order.length = 0;
  pc.onsignalingstatechange = () => order.push('h2');
  pc.dispatchEvent(new Event('signalingstatechange'));
  assert.deepStrictEqual(order, ['a', 'h2', 'b']);
  // null removes; setting again appends at the end.
  order.length = 0;
  pc.onsignalingstatechange = null;
  assert.strictEqual(pc.onsignalingstatechange, null);
  pc.dispatchEvent(new Event('signalingstatechange'));
  assert.deepStrictEqual(order, ['a', 'b']);
  order.length = 0;
  pc.onsignalingstatechange = () => order.push('h3');
  pc.dispatchEvent(new Event('signalingstatechange'));
  assert.deepStrictEqual(order, ['a', 'b', 'h3']);
  // Non-callable values become null.
  pc.onsignalingstatechange = 'not a function';
  assert.strictEqual(pc.onsignalingstatechange, null);
  pc.onsignalingstatechange = {};
  assert.strictEqual(pc.onsignalingstatechange, null);
  // `this` is the target.
  let self = null;
  pc.onnegotiationneeded = function () { self = this; };
  pc.dispatchEvent(new Event('negotiationneeded'));
  assert.strictEqual(self, pc);
  for (const name of ['onnegotiationneeded', 'onicecandidate', 'onicecandidateerror', 'onsignalingstatechange',
    'oniceconnectionstatechange', 'onicegatheringstatechange', 'onconnectionstatechange', 'ondatachannel', 'ontrack']) {
    assert.ok(name in pc, name);
  }
  pc.close();
});

test('RTCPeerConnection initial state', () => {
  const pc = new RTCPeerConnection();
  assert.ok(pc instanceof EventTarget);
  assert.strictEqual(pc.signalingState, 'stable');
  assert.strictEqual(pc.iceGatheringState, 'new');
  assert.strictEqual(pc.iceConnectionState, 'new');
  assert.strictEqual(pc.connectionState, 'new');
  assert.strictEqual(pc.canTrickleIceCandidates, null);
  assert.strictEqual(pc.localDescription, null);
  assert.strictEqual(pc.remoteDescription, null);
  assert.strictEqual(pc.currentLocalDescription, null);
  assert.strictEqual(pc.pendingRemoteDescription, null);
  assert.strictEqual(pc.sctp, null);
  pc.close();
});

test('engine errors map to the platform DOMException', async () => {
  const { mapEngineError } = require('./layer').lib('util');
  const mk = (message, code) => Object.assign(new Error(message), code ? { code } : {});
  for (const name of ['InvalidStateError', 'InvalidAccessError', 'InvalidModificationError', 'SyntaxError',
    'OperationError', 'NotSupportedError']) {
    const e = mapEngineError(mk(`${name}: detail`, name));
    assert.strictEqual(e.constructor, DOMException);
    assert.strictEqual(e.name, name);
    assert.strictEqual(e.message, 'detail');
    assert.strictEqual(mapEngineError(mk(`${name}: detail`)).name, name);
  }
  assert.ok(mapEngineError(mk('TypeError: x', 'TypeError')) instanceof TypeError);
  assert.ok(mapEngineError(mk('RangeError: x')) instanceof RangeError);
  const other = mapEngineError(mk('something odd'));
  assert.strictEqual(other.name, 'OperationError');
});

test('utf8Length matches UTF-8 encoding', () => {
  const { utf8Length } = require('./layer').lib('util');
  for (const s of ['', 'abc', '\u00e9', '\u20ac', '\u{1F600}', 'a\u{1F600}\u00e9\u20acz', '\u07FF\u0800'.repeat(3)]) {
    assert.strictEqual(utf8Length(s), new TextEncoder().encode(s).length, JSON.stringify(s));
  }
});
