'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { fakeApi, domName } = require('./helpers');

const { RTCPeerConnection, RTCCertificate, engine } = fakeApi();

test('defaults and getConfiguration', () => {
  const pc = new RTCPeerConnection();
  const c = pc.getConfiguration();
  assert.deepStrictEqual(c.iceServers, []);
  assert.strictEqual(c.iceTransportPolicy, 'all');
  assert.strictEqual(c.bundlePolicy, 'balanced');
  assert.strictEqual(c.rtcpMuxPolicy, 'require');
  assert.strictEqual(c.iceCandidatePoolSize, 0);
  // The constructor generates a certificate when none is given, but [[Configuration]] keeps
  // the certificates given: none ("the value of certificates remains undefined").
  assert.deepStrictEqual(c.certificates, []);
  pc.close();
});

test('iceServers: valid URLs are accepted and stun ones reach the engine', () => {
  const pc = new RTCPeerConnection({
    iceServers: [
      { urls: 'stun:stun.example.org' },
      { urls: ['stun:192.0.2.1:3479', 'stun:[2001:db8::1]:19302'] },
      { urls: 'turn:turn.example.org?transport=tcp', username: 'u', credential: 'c' },
      { urls: 'turns:turn.example.org:443', username: 'u', credential: 'c' },
      { urls: 'stuns:stun.example.org' },
    ],
  });
  assert.deepStrictEqual(engine.last().config.stunServers,
    ['stun.example.org:3478', '192.0.2.1:3479', '[2001:db8::1]:19302']);
  const c = pc.getConfiguration();
  assert.strictEqual(c.iceServers.length, 5);
  assert.deepStrictEqual(c.iceServers[0].urls, ['stun:stun.example.org']);
  assert.deepStrictEqual(c.iceServers[1].urls, ['stun:192.0.2.1:3479', 'stun:[2001:db8::1]:19302']);
  assert.strictEqual(c.iceServers[2].username, 'u');
  assert.strictEqual(c.iceServers[2].credential, 'c');
  pc.close();
});

test('iceServers: SyntaxError for malformed or unsupported URLs', () => {
  const bad = [
    'http://example.org', 'stun', 'stun:', 'foo:bar', 'stun://example.org', 'stun:example.org:99999',
    'stun:example.org:0', 'stun:example.org?transport=udp', 'turn:example.org?transport=sctp',
    'stun:exa mple.org', 'stun:[::1', 'stun:example.org:12a', '',
  ];
  for (const url of bad) {
    assert.throws(() => new RTCPeerConnection({ iceServers: [{ urls: url, username: 'u', credential: 'c' }] }),
      domName('SyntaxError'), url);
  }
  assert.throws(() => new RTCPeerConnection({ iceServers: [{ urls: [] }] }), domName('SyntaxError'));
});

test('iceServers: turn without username or credential is InvalidAccessError', () => {
  for (const server of [
    { urls: 'turn:turn.example.org' },
    { urls: 'turn:turn.example.org', username: 'u' },
    { urls: ['stun:s.example.org', 'turns:turn.example.org'], credential: 'c' },
  ]) {
    assert.throws(() => new RTCPeerConnection({ iceServers: [server] }), domName('InvalidAccessError'));
  }
  // stun needs neither.
  new RTCPeerConnection({ iceServers: [{ urls: 'stun:s.example.org' }] }).close();
});

test('iceServers: WebIDL conversion errors are TypeErrors', () => {
  assert.throws(() => new RTCPeerConnection({ iceServers: [{}] }), TypeError);
  assert.throws(() => new RTCPeerConnection({ iceServers: {} }), TypeError);
  assert.throws(() => new RTCPeerConnection({ iceServers: [1] }), TypeError);
  assert.throws(() => new RTCPeerConnection(5), TypeError);
});

test('enums and ranges are TypeErrors', () => {
  assert.throws(() => new RTCPeerConnection({ iceTransportPolicy: 'none' }), TypeError);
  assert.throws(() => new RTCPeerConnection({ bundlePolicy: 'max' }), TypeError);
  assert.throws(() => new RTCPeerConnection({ rtcpMuxPolicy: 'negotiate' }), TypeError);
  assert.throws(() => new RTCPeerConnection({ iceCandidatePoolSize: 256 }), TypeError);
  assert.throws(() => new RTCPeerConnection({ iceCandidatePoolSize: -1 }), TypeError);
  assert.throws(() => new RTCPeerConnection({ iceCandidatePoolSize: NaN }), TypeError);
  assert.throws(() => new RTCPeerConnection({ certificates: [{}] }), TypeError);
  for (const v of ['relay', 'all']) {
    const pc = new RTCPeerConnection({ iceTransportPolicy: v, bundlePolicy: 'max-bundle', iceCandidatePoolSize: 255 });
    assert.strictEqual(pc.getConfiguration().iceTransportPolicy, v);
    assert.strictEqual(pc.getConfiguration().iceCandidatePoolSize, 255);
    pc.close();
  }
});

test('expired certificate is InvalidAccessError; a given certificate is used', async () => {
  const { api } = fakeApi({ certificateExpires: Date.now() - 1000 });
  const expired = await api.RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' });
  assert.throws(() => new api.RTCPeerConnection({ certificates: [expired] }), domName('InvalidAccessError'));
  const cert = await RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' });
  const pc = new RTCPeerConnection({ certificates: [cert] });
  assert.strictEqual(pc.getConfiguration().certificates[0], cert);
  const other = await RTCPeerConnection.generateCertificate({ name: 'ecdsa', namedCurve: 'P-256' });
  assert.throws(() => pc.setConfiguration({ certificates: [other] }), domName('InvalidModificationError'));
  pc.setConfiguration({ certificates: [cert] });
  pc.close();
});

test('generateCertificate', async () => {
  const cert = await RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' });
  assert.ok(cert instanceof RTCCertificate);
  assert.ok(cert.expires > Date.now());
  const fps = cert.getFingerprints();
  assert.strictEqual(fps[0].algorithm, 'sha-256');
  assert.match(fps[0].value, /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
  fps[0].value = 'x';
  assert.notStrictEqual(cert.getFingerprints()[0].value, 'x');
  const short = await RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256', expires: 1000 });
  assert.ok(short.expires <= Date.now() + 1000);
  await assert.rejects(RTCPeerConnection.generateCertificate({
    name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256',
  }), domName('NotSupportedError'));
  await assert.rejects(RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-384' }),
    domName('NotSupportedError'));
  await assert.rejects(RTCPeerConnection.generateCertificate('AES-GCM'), domName('NotSupportedError'));
  await assert.rejects(RTCPeerConnection.generateCertificate({}), TypeError);
  await assert.rejects(RTCPeerConnection.generateCertificate(), TypeError);
  assert.throws(() => new RTCCertificate(), TypeError);
});

test('setConfiguration', () => {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceCandidatePoolSize: 2 });
  pc.setConfiguration({
    bundlePolicy: 'max-bundle', iceCandidatePoolSize: 3, iceTransportPolicy: 'relay',
    iceServers: [{ urls: 'stun:example.org' }],
  });
  const c = pc.getConfiguration();
  assert.strictEqual(c.iceTransportPolicy, 'relay');
  assert.strictEqual(c.iceCandidatePoolSize, 3);
  assert.deepStrictEqual(c.iceServers[0].urls, ['stun:example.org']);
  assert.throws(() => pc.setConfiguration({ bundlePolicy: 'balanced' }), domName('InvalidModificationError'));
  assert.throws(() => pc.setConfiguration({ bundlePolicy: 'max-bundle', iceServers: [{ urls: 'bad' }] }),
    domName('SyntaxError'));
  assert.throws(() => pc.setConfiguration({ bundlePolicy: 'max-bundle', iceServers: [{ urls: 'turn:x' }] }),
    domName('InvalidAccessError'));
  assert.throws(() => pc.setConfiguration({ bundlePolicy: 'nope' }), TypeError);
  // A failed call leaves the configuration unchanged.
  assert.deepStrictEqual(pc.getConfiguration().iceServers[0].urls, ['stun:example.org']);
  pc.close();
  assert.throws(() => pc.setConfiguration({ bundlePolicy: 'max-bundle' }), domName('InvalidStateError'));
  assert.strictEqual(pc.getConfiguration().bundlePolicy, 'max-bundle');
});

test('iceCandidatePoolSize cannot change after setLocalDescription', async () => {
  const pc = new RTCPeerConnection();
  pc.createDataChannel('x');
  await pc.setLocalDescription();
  assert.throws(() => pc.setConfiguration({ iceCandidatePoolSize: 1 }), domName('InvalidModificationError'));
  pc.setConfiguration({ iceCandidatePoolSize: 0 });
  pc.close();
});

test('mdnsHostCandidates (nonstandard): reaches the engine, is kept, and cannot change', () => {
  const plain = new RTCPeerConnection();
  assert.strictEqual(engine.last().config.mdnsHostCandidates, undefined, 'off unless asked for');
  assert.strictEqual('mdnsHostCandidates' in plain.getConfiguration(), false);
  plain.setConfiguration({ mdnsHostCandidates: false });
  assert.throws(() => plain.setConfiguration({ mdnsHostCandidates: true }), domName('InvalidModificationError'));
  plain.close();

  const pc = new RTCPeerConnection({ mdnsHostCandidates: 1 });
  assert.strictEqual(engine.last().config.mdnsHostCandidates, true);
  assert.strictEqual(pc.getConfiguration().mdnsHostCandidates, true, 'converted to a boolean');
  pc.setConfiguration({});
  assert.strictEqual(pc.getConfiguration().mdnsHostCandidates, true, 'kept when omitted');
  assert.throws(() => pc.setConfiguration({ mdnsHostCandidates: false }), domName('InvalidModificationError'));
  pc.close();
});

test('sharedUdpPort (nonstandard): a port number, kept, and not changeable', () => {
  assert.throws(() => new RTCPeerConnection({ sharedUdpPort: 0 }), TypeError);
  assert.throws(() => new RTCPeerConnection({ sharedUdpPort: 70000 }), TypeError);
  const pc = new RTCPeerConnection({ sharedUdpPort: 40000 });
  assert.strictEqual(engine.last().config.sharedUdpPort, 40000);
  assert.strictEqual(pc.getConfiguration().sharedUdpPort, 40000);
  pc.setConfiguration({});
  assert.strictEqual(pc.getConfiguration().sharedUdpPort, 40000, 'kept when omitted');
  assert.throws(() => pc.setConfiguration({ sharedUdpPort: 40001 }), domName('InvalidModificationError'));
  pc.close();
});

test('iceLite (nonstandard): reaches the engine, is kept, and cannot change', () => {
  const pc = new RTCPeerConnection({ iceLite: true });
  assert.strictEqual(engine.last().config.iceLite, true);
  assert.strictEqual(pc.getConfiguration().iceLite, true);
  pc.setConfiguration({});
  assert.strictEqual(pc.getConfiguration().iceLite, true, 'kept when omitted');
  assert.throws(() => pc.setConfiguration({ iceLite: false }), domName('InvalidModificationError'));
  pc.close();
  const full = new RTCPeerConnection();
  assert.strictEqual(engine.last().config.iceLite, undefined);
  full.close();
});
