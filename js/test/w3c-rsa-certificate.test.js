'use strict';
// generateCertificate with RsaHashedKeyGenParams on the REAL package (js/node.js on the
// native addon): WebCrypto's normalization of the algorithm (TypeError for missing members,
// NotSupportedError for what cannot sign DTLS), generation off the JS thread, and two of our
// peers connecting with RSA certificates (the fingerprint in the SDP is the certificate's).
const test = require('node:test');
const assert = require('node:assert');
const {
  skipUnlessAddon, loadApi, withTimeout, openPair,
} = require('./real-helpers');
const { domName } = require('./helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 60000;
const F4 = new Uint8Array([1, 0, 1]);
const RSA = (over = {}) => ({
  name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: F4, hash: 'SHA-256', ...over,
});

/** The a=fingerprint value of an SDP, lower case as getFingerprints() gives it. */
function sdpFingerprint(sdp) {
  const m = /^a=fingerprint:(\S+) (\S+)/m.exec(sdp);
  assert.ok(m, 'no a=fingerprint in the SDP');
  return { algorithm: m[1].toLowerCase(), value: m[2].toLowerCase() };
}

test('generateCertificate(RSASSA-PKCS1-v1_5): resolves to an RTCCertificate with a SHA-256 fingerprint and the asked expiry',
  { skip, timeout: TIMEOUT }, async () => {
    const before = Date.now();
    const cert = await api.RTCPeerConnection.generateCertificate(RSA({ expires: 3600 * 1000 }));
    assert.ok(cert instanceof api.RTCCertificate);
    const [fp] = cert.getFingerprints();
    assert.strictEqual(fp.algorithm, 'sha-256');
    assert.match(fp.value, /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
    assert.ok(cert.expires <= Date.now() + 3600 * 1000, `expires ${cert.expires} later than asked`);
    assert.ok(cert.expires > before + 3600 * 1000 - 2000, `expires ${cert.expires} too early`);
    // Each call is a fresh key.
    const other = await api.RTCPeerConnection.generateCertificate(RSA());
    assert.notStrictEqual(other.getFingerprints()[0].value, fp.value);
  });

test('generateCertificate(RSA) runs off the JS thread: the event loop turns while the key is made',
  { skip, timeout: TIMEOUT }, async () => {
    let turns = 0;
    const timer = setInterval(() => { turns += 1; }, 1);
    let immediate = false;
    const p = api.RTCPeerConnection.generateCertificate(RSA({ modulusLength: 2048 }));
    // Scheduled after the call returned: it runs before the promise settles only if the
    // generation did not happen inside the call.
    setImmediate(() => { immediate = true; });
    const cert = await withTimeout(p, 'RSA 2048 generation', TIMEOUT);
    clearInterval(timer);
    assert.ok(cert instanceof api.RTCCertificate);
    assert.ok(immediate, 'the promise settled before the event loop turned: generation blocked the JS thread');
    assert.ok(turns >= 1, `the interval never ran during generation (${turns})`);
  });

test('generateCertificate(RSA): WebCrypto normalization, TypeError for missing or mistyped members, NotSupportedError for the rest',
  { skip, timeout: TIMEOUT }, async () => {
    const gen = (alg) => api.RTCPeerConnection.generateCertificate(alg);
    // Required members of RsaHashedKeyGenParams.
    for (const missing of ['hash', 'modulusLength', 'publicExponent']) {
      const alg = RSA();
      delete alg[missing];
      await assert.rejects(gen(alg), TypeError, `without ${missing}`);
    }
    await assert.rejects(gen(RSA({ publicExponent: [1, 0, 1] })), TypeError, 'publicExponent as an Array');
    await assert.rejects(gen(RSA({ modulusLength: -1 })), TypeError, 'modulusLength out of [EnforceRange]');
    await assert.rejects(gen(RSA({ modulusLength: 'many' })), TypeError, 'modulusLength not a number');
    await assert.rejects(gen(RSA({ hash: {} })), TypeError, 'hash without a name');
    // Well-formed but not what DTLS certificates are made of.
    for (const [what, alg] of [
      ['SHA-1', RSA({ hash: 'SHA-1' })],
      ['SHA-512', RSA({ hash: { name: 'SHA-512' } })],
      ['an unknown hash', RSA({ hash: 'MD5' })],
      ['e = 3', RSA({ publicExponent: new Uint8Array([3]) })],
      ['e = 65539', RSA({ publicExponent: new Uint8Array([1, 0, 3]) })],
      ['a 1000-bit modulus', RSA({ modulusLength: 1000 })],
      ['a 3072-bit modulus', RSA({ modulusLength: 3072 })],
      ['RSA-PSS', { ...RSA(), name: 'RSA-PSS' }],
    ]) {
      await assert.rejects(gen(alg), domName('NotSupportedError'), what);
    }
    // Names are matched case-insensitively, hash as a string or a dictionary, and leading
    // zero bytes of the BigInteger do not change its value.
    assert.ok(await gen(RSA({ name: 'rsassa-pkcs1-V1_5', hash: { name: 'sha-256' }, publicExponent: new Uint8Array([0, 1, 0, 1]) })));
  });

test('two peers with RSA certificates connect; each SDP carries its certificate\'s fingerprint; messages flow both ways',
  { skip, timeout: TIMEOUT }, async () => {
    const [c1, c2] = await Promise.all([
      api.RTCPeerConnection.generateCertificate(RSA()),
      api.RTCPeerConnection.generateCertificate(RSA({ modulusLength: 2048 })),
    ]);
    const pair = await withTimeout(openPair(api, { offererConfig: { certificates: [c1] }, answererConfig: { certificates: [c2] } }),
      'RSA pair', TIMEOUT);
    try {
      assert.deepStrictEqual(sdpFingerprint(pair.offerer.localDescription.sdp), c1.getFingerprints()[0]);
      assert.deepStrictEqual(sdpFingerprint(pair.answerer.localDescription.sdp), c2.getFingerprints()[0]);
      await exchange(pair, 'over RSA', 'and back');
      assert.strictEqual(pair.offerer.connectionState, 'connected');
    } finally {
      pair.close();
    }
  });

test('an RSA peer and an ECDSA peer connect (mixed certificate types)', { skip, timeout: TIMEOUT }, async () => {
  const rsa = await api.RTCPeerConnection.generateCertificate(RSA());
  for (const [offererConfig, answererConfig] of [[{ certificates: [rsa] }, {}], [{}, { certificates: [rsa] }]]) {
    const pair = await withTimeout(openPair(api, { offererConfig, answererConfig }), 'mixed pair', TIMEOUT);
    try {
      await exchange(pair, 'mixed', 'mixed back');
    } finally {
      pair.close();
    }
  }
});

/** One message each way on the pair's channel, content checked. */
async function exchange({ dc1, dc2 }, there, back) {
  const got2 = new Promise((resolve) => { dc2.onmessage = (e) => resolve(e.data); });
  dc1.send(there);
  assert.strictEqual(await withTimeout(got2, 'message to the answerer', TIMEOUT), there);
  const got1 = new Promise((resolve) => { dc1.onmessage = (e) => resolve(e.data); });
  dc2.send(back);
  assert.strictEqual(await withTimeout(got1, 'message to the offerer', TIMEOUT), back);
}
