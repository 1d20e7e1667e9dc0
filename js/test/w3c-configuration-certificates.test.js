'use strict';
// webrtc-pc "set a configuration", getConfiguration / setConfiguration, generateCertificate
// and RTCCertificate on the REAL package (js/node.js on the native addon), written from the
// spec's algorithm steps (W3C editor's draft, §4.4.1 and §4.10).
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const {
  skipUnlessAddon, loadApi, once, withTimeout, negotiate,
} = require('./real-helpers');
const { domName } = require('./helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 25000;
const DAY = 24 * 3600 * 1000;
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' };

// ---- getConfiguration: what "set a configuration" stores ------------------------------

test('getConfiguration: every RTCConfiguration member in WebIDL order, urls always a list, unknown members dropped',
  { skip }, () => {
    const pc = new api.RTCPeerConnection({
      iceServers: [
        { urls: 'stun:127.0.0.1:3478', extra: 1 },
        {
          urls: ['turn:192.0.2.1?transport=tcp', 'turns:192.0.2.1:443'],
          username: 'user', credential: 'secret', credentialType: 'password',
        },
        // urls is (USVString or sequence<USVString>): a lone surrogate becomes U+FFFD.
        { urls: new Set(['turn:192.0.2.2\uD800']), credential: 'c', username: 'u' },
      ],
      iceTransportPolicy: 'relay',
      bundlePolicy: 'max-bundle',
      iceCandidatePoolSize: 3,
      sdpSemantics: 'plan-b',
      unknownMember: true,
    });
    const c = pc.getConfiguration();
    assert.deepStrictEqual(c, {
      bundlePolicy: 'max-bundle',
      certificates: [],
      iceCandidatePoolSize: 3,
      iceServers: [
        { urls: ['stun:127.0.0.1:3478'] },
        { credential: 'secret', urls: ['turn:192.0.2.1?transport=tcp', 'turns:192.0.2.1:443'], username: 'user' },
        { credential: 'c', urls: ['turn:192.0.2.2\uFFFD'], username: 'u' },
      ],
      iceTransportPolicy: 'relay',
      rtcpMuxPolicy: 'require',
    });
    // A dictionary converted to JS has its members in lexicographic order (as Chromium's).
    assert.deepStrictEqual(Object.keys(c),
      ['bundlePolicy', 'certificates', 'iceCandidatePoolSize', 'iceServers', 'iceTransportPolicy', 'rtcpMuxPolicy']);
    assert.deepStrictEqual(Object.keys(c.iceServers[1]), ['credential', 'urls', 'username']);
    // Each call converts anew: changing what it returned changes nothing stored.
    assert.notStrictEqual(pc.getConfiguration(), c);
    c.iceServers[0].urls.push('stun:192.0.2.9');
    c.iceServers.pop();
    c.bundlePolicy = 'balanced';
    assert.deepStrictEqual(pc.getConfiguration().iceServers[0].urls, ['stun:127.0.0.1:3478']);
    assert.strictEqual(pc.getConfiguration().iceServers.length, 3);
    assert.strictEqual(pc.getConfiguration().bundlePolicy, 'max-bundle');
    pc.close();

    const plain = new api.RTCPeerConnection();
    assert.deepStrictEqual(plain.getConfiguration(), {
      bundlePolicy: 'balanced',
      certificates: [],
      iceCandidatePoolSize: 0,
      iceServers: [],
      iceTransportPolicy: 'all',
      rtcpMuxPolicy: 'require',
    });
    // setConfiguration stores the same normalized form.
    plain.setConfiguration({ iceServers: [{ urls: 'stun:127.0.0.1:3479' }] });
    assert.deepStrictEqual(plain.getConfiguration().iceServers, [{ urls: ['stun:127.0.0.1:3479'] }]);
    plain.close();
  });

test('getConfiguration: certificates are the given RTCCertificate objects, none when the constructor generated one',
  { skip }, async () => {
    const cert = await api.RTCPeerConnection.generateCertificate(ECDSA);
    const pc = new api.RTCPeerConnection({ certificates: [cert] });
    const got = pc.getConfiguration().certificates;
    assert.strictEqual(got.length, 1);
    assert.strictEqual(got[0], cert);
    assert.notStrictEqual(pc.getConfiguration().certificates, got, 'a new list each call');
    pc.close();
    // "Else, generate one or more new RTCCertificate instances ... the value of certificates
    // remains undefined": the stored configuration has the default, [].
    const plain = new api.RTCPeerConnection();
    assert.deepStrictEqual(plain.getConfiguration().certificates, []);
    plain.setConfiguration({ certificates: [] });
    assert.throws(() => plain.setConfiguration({ certificates: [cert] }), domName('InvalidModificationError'));
    plain.close();
  });

// ---- setConfiguration: the modification rules ------------------------------------------

test('setConfiguration: InvalidModificationError when certificates, bundlePolicy or rtcpMuxPolicy differ; nothing changes then',
  { skip }, async () => {
    const [cert, other] = await Promise.all([
      api.RTCPeerConnection.generateCertificate(ECDSA), api.RTCPeerConnection.generateCertificate(ECDSA)]);
    const pc = new api.RTCPeerConnection({
      certificates: [cert], bundlePolicy: 'max-compat', iceServers: [{ urls: 'stun:127.0.0.1:3478' }],
    });
    const before = pc.getConfiguration();
    const base = { certificates: [cert], bundlePolicy: 'max-compat' };
    for (const [what, change] of [
      // "If the length of configuration.certificates is different ...": omitting them is [].
      ['certificates omitted', { bundlePolicy: 'max-compat' }],
      ['certificates empty', { ...base, certificates: [] }],
      ['another certificate', { ...base, certificates: [other] }],
      ['one more certificate', { ...base, certificates: [cert, cert] }],
      ['bundlePolicy', { ...base, bundlePolicy: 'balanced' }],
      ['bundlePolicy omitted (default balanced)', { certificates: [cert] }],
    ]) {
      assert.throws(() => pc.setConfiguration({ ...change, iceServers: [], iceTransportPolicy: 'relay' }),
        domName('InvalidModificationError'), what);
      assert.deepStrictEqual(pc.getConfiguration(), before, what);
    }
    // rtcpMuxPolicy has the one value 'require': anything else fails the WebIDL conversion.
    assert.throws(() => pc.setConfiguration({ ...base, rtcpMuxPolicy: 'negotiate' }), TypeError);
    // The same certificate objects and policies: accepted, the rest replaced.
    pc.setConfiguration({ ...base, iceTransportPolicy: 'relay' });
    assert.deepStrictEqual(pc.getConfiguration(), { ...before, iceServers: [], iceTransportPolicy: 'relay' });
    assert.strictEqual(pc.getConfiguration().certificates[0], cert);
    pc.close();
    // Closed: the WebIDL conversion (TypeError) runs before the method's steps, whose first is
    // InvalidStateError, before any of the checks above or the URL validation.
    assert.throws(() => pc.setConfiguration({ bundlePolicy: 'nope' }), TypeError);
    for (const config of [{}, base, { certificates: [other] }, { ...base, iceServers: [{ urls: 'bad' }] }]) {
      assert.throws(() => pc.setConfiguration(config), domName('InvalidStateError'));
    }
  });

test('setConfiguration: iceCandidatePoolSize cannot change once setLocalDescription has been called', { skip }, async () => {
  const pc = new api.RTCPeerConnection({ iceCandidatePoolSize: 1 });
  pc.setConfiguration({ iceCandidatePoolSize: 4 });
  assert.strictEqual(pc.getConfiguration().iceCandidatePoolSize, 4);
  pc.createDataChannel('x');
  const sld = pc.setLocalDescription();
  // Called, though not yet done: the spec's condition is the call.
  assert.throws(() => pc.setConfiguration({ iceCandidatePoolSize: 5 }), domName('InvalidModificationError'));
  await sld;
  assert.throws(() => pc.setConfiguration({}), domName('InvalidModificationError'), 'omitted is the default 0');
  pc.setConfiguration({ iceCandidatePoolSize: 4, iceServers: [{ urls: 'stun:127.0.0.1:3478' }] });
  // Rolled back, setLocalDescription has still been called.
  await pc.setLocalDescription({ type: 'rollback' });
  assert.strictEqual(pc.localDescription, null);
  assert.throws(() => pc.setConfiguration({ iceCandidatePoolSize: 0 }), domName('InvalidModificationError'));
  assert.strictEqual(pc.getConfiguration().iceCandidatePoolSize, 4);
  pc.close();
});

test('setConfiguration validates the ICE server URLs as the constructor does', { skip }, () => {
  const cases = [
    ['SyntaxError', { urls: [] }],
    ['SyntaxError', { urls: '' }],
    ['SyntaxError', { urls: 'stun:' }],
    ['SyntaxError', { urls: 'http://127.0.0.1' }],
    ['SyntaxError', { urls: 'stun:127.0.0.1?transport=udp' }],
    ['SyntaxError', { urls: 'turn:u@127.0.0.1', username: 'u', credential: 'c' }],
    ['SyntaxError', { urls: 'turn:127.0.0.1?transport=sctp', username: 'u', credential: 'c' }],
    ['InvalidAccessError', { urls: 'turn:127.0.0.1' }],
    ['InvalidAccessError', { urls: 'turns:127.0.0.1', username: 'u' }],
    ['InvalidAccessError', { urls: ['stun:127.0.0.1', 'turn:127.0.0.1'], credential: 'c' }],
    // RFC 8489 §14.3 / RFC 8265 §4.1: an OpaqueString is never empty, a USERNAME < 509 bytes.
    ['InvalidAccessError', { urls: 'turn:127.0.0.1', username: '', credential: 'c' }],
    ['InvalidAccessError', { urls: 'turn:127.0.0.1', username: 'u', credential: '' }],
    ['InvalidAccessError', { urls: 'turn:127.0.0.1', username: 'é'.repeat(255), credential: 'c' }],
    ['InvalidAccessError', { urls: 'turn:127.0.0.1', username: 'u\u0000', credential: 'c' }],
  ];
  for (const [name, server] of cases) {
    const what = `${name} ${JSON.stringify(server)}`;
    assert.throws(() => new api.RTCPeerConnection({ iceServers: [server] }), domName(name), `constructor ${what}`);
    const pc = new api.RTCPeerConnection({ iceServers: [{ urls: 'stun:127.0.0.1:3478' }] });
    const before = pc.getConfiguration();
    assert.throws(() => pc.setConfiguration({ iceServers: [server] }), domName(name), `setConfiguration ${what}`);
    assert.deepStrictEqual(pc.getConfiguration(), before, what);
    pc.close();
  }
  // A TURN username of 508 bytes is still one.
  new api.RTCPeerConnection({ iceServers: [{ urls: 'turn:127.0.0.1', username: 'é'.repeat(254), credential: 'c' }] })
    .close();
});

// ---- generateCertificate and RTCCertificate ------------------------------------------------

test('generateCertificate: expires honours the algorithm\'s expires (default 30 days, at most 365), in whole seconds',
  { skip }, async () => {
    for (const [given, want] of [
      [undefined, 30 * DAY],
      [2 * 3600 * 1000 + 500, 2 * 3600 * 1000 + 500],
      [100 * DAY, 100 * DAY],
      [365 * DAY, 365 * DAY],
      [400 * DAY, 365 * DAY],
      [Number.MAX_SAFE_INTEGER, 365 * DAY],
      [1500.9, 1500],
    ]) {
      const t0 = Date.now();
      const cert = await api.RTCPeerConnection.generateCertificate(given === undefined ? ECDSA : { ...ECDSA, expires: given });
      const t1 = Date.now();
      assert.ok(cert instanceof api.RTCCertificate);
      assert.strictEqual(cert.expires % 1000, 0, `${given}: the certificate's notAfter is in seconds`);
      assert.ok(cert.expires <= t1 + want, `${given}: ${cert.expires - t1} > ${want}`);
      assert.ok(cert.expires > t0 + want - 1000, `${given}: ${cert.expires - t0} much less than ${want}`);
    }
    // expires: 0 is valid until now; once past, the constructor refuses it ("If the value of
    // certificate.expires is less than the current time, throw an InvalidAccessError").
    const cert = await api.RTCPeerConnection.generateCertificate({ ...ECDSA, expires: 0 });
    assert.ok(cert.expires <= Date.now());
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cert.expires + 2 - Date.now())));
    assert.throws(() => new api.RTCPeerConnection({ certificates: [cert] }), domName('InvalidAccessError'));
  });

test('generateCertificate: expires converted first (TypeError), then unsupported algorithms reject with NotSupportedError',
  { skip }, async () => {
    for (const expires of [-1, NaN, Infinity, 2 ** 53, 'soon']) {
      await assert.rejects(api.RTCPeerConnection.generateCertificate({ ...ECDSA, expires }), TypeError, String(expires));
      // The RTCCertificateExpiration conversion comes before the algorithm's normalization.
      await assert.rejects(api.RTCPeerConnection.generateCertificate({ name: 'HMAC', hash: 'SHA-256', expires }),
        TypeError, `HMAC ${expires}`);
    }
    for (const alg of [
      { name: 'ECDSA', namedCurve: 'P-384' },
      { name: 'HMAC', hash: 'SHA-256' },
      { name: 'no-such-algorithm' },
      'AES-GCM',
    ]) {
      await assert.rejects(api.RTCPeerConnection.generateCertificate(alg), domName('NotSupportedError'), JSON.stringify(alg));
    }
    // Missing required members are TypeErrors of the WebIDL conversion.
    await assert.rejects(api.RTCPeerConnection.generateCertificate('ECDSA'), TypeError);
    await assert.rejects(api.RTCPeerConnection.generateCertificate({}), TypeError);
    // The algorithm name is matched case-insensitively (WebCrypto).
    assert.ok(await api.RTCPeerConnection.generateCertificate({ name: 'ecdsa', namedCurve: 'P-256' }));
  });

test('the DER a peer sends is valid until exactly RTCCertificate.expires; getFingerprints is its SHA-256 in lowercase hex',
  { skip, timeout: TIMEOUT }, async () => {
    const lifetime = 2 * 3600 * 1000 + 777;
    const cert = await api.RTCPeerConnection.generateCertificate({ ...ECDSA, expires: lifetime });
    const offerer = new api.RTCPeerConnection({ certificates: [cert] });
    const answerer = new api.RTCPeerConnection();
    try {
      offerer.createDataChannel('x');
      const remote = new Promise((resolve) => { answerer.ondatachannel = (e) => resolve(e.channel); });
      await withTimeout(negotiate(offerer, answerer), 'negotiation');
      const channel = await withTimeout(remote, 'datachannel');
      if (channel.readyState !== 'open') await withTimeout(once(channel, 'open'), 'open');
      const ders = answerer.sctp.transport.getRemoteCertificates();
      assert.strictEqual(ders.length, 1);
      const der = Buffer.from(ders[0]);
      const x509 = new crypto.X509Certificate(der);
      assert.strictEqual(Date.parse(x509.validTo), cert.expires, `notAfter ${x509.validTo}`);
      assert.ok(Date.parse(x509.validFrom) <= Date.now());

      const fps = cert.getFingerprints();
      const hex = crypto.createHash('sha256').update(der).digest('hex').match(/../g).join(':');
      assert.deepStrictEqual(fps, [{ algorithm: 'sha-256', value: hex }]);
      assert.match(fps[0].value, /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
      assert.notStrictEqual(cert.getFingerprints(), fps, 'a new list each call');
      // The SDP carries the same fingerprint (upper case, as RFC 8122 writes it).
      const sdpFp = /a=fingerprint:sha-256 (\S+)/.exec(offerer.localDescription.sdp)[1];
      assert.strictEqual(sdpFp, hex.toUpperCase());
    } finally {
      offerer.close();
      answerer.close();
    }
  });
