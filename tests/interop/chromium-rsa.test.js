'use strict';
// Interop with a Chromium peer whose DTLS certificate is RSA (2048-bit, RSASSA-PKCS1-v1_5 /
// SHA-256, from RTCPeerConnection.generateCertificate). When Node offers, Chromium answers
// with a=setup:active and is the DTLS client: its RSA certificate signs a CertificateVerify.
// When Node answers (active), Chromium is the DTLS server and picks an ECDHE_RSA suite.
// Runs the common interop cases, then checks on Chromium's side that its certificate really
// is RSA and which cipher suite was negotiated. Then the other way round: OUR certificate is
// RSA (from our generateCertificate), as DTLS server (ECDHE_RSA suites, RSA-signed
// ServerKeyExchange) and as DTLS client (RSA CertificateVerify). Skips only when
// /usr/bin/chromium is absent.
const assert = require('node:assert/strict');
const { describe, test, before, after } = require('node:test');
const { defineInteropSuite, connect, exchange } = require('./lib/cases');
const { chromiumAvailable, launchChromium, preparePage, CHROMIUM_PATH } = require('./lib/chromium');
const { W3CPeer } = require('./lib/peers');
const { loadImpl } = require('./lib/impl');

const available = chromiumAvailable();
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM_PATH} not found: CI must install chromium (see .ci/run)`);
  console.error(`\n!!! SKIPPING Chromium RSA interop: ${CHROMIUM_PATH} not found (apt-get install chromium) !!!\n`);
}
const skip = available ? false : `${CHROMIUM_PATH} not found`;

/**
 * Keeps every RTCPeerConnection of the page for stats and, when `rsa`, makes them all use
 * one RSA certificate (else Chromium's default ECDSA one).
 */
async function useRsaCertificates(page, rsa = true) {
  await page.evaluate(async (rsa) => {
    const cert = rsa ? await RTCPeerConnection.generateCertificate({
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    }) : null;
    const Original = window.RTCPeerConnection;
    window.__rsaPcs = [];
    window.RTCPeerConnection = class extends Original {
      constructor(config) {
        super(cert ? { ...(config || {}), certificates: [cert] } : config);
        window.__rsaPcs.push(this);
      }
    };
  }, rsa);
}

/** The DTLS facts of the newest page connection, from getStats(). */
function lastConnectionDtls(page) {
  return page.evaluate(async () => {
    const pc = window.__rsaPcs[window.__rsaPcs.length - 1];
    const stats = [...(await pc.getStats()).values()];
    const transport = stats.find((s) => s.type === 'transport' && s.dtlsState === 'connected');
    const cert = (id) => stats.find((s) => s.id === id);
    // rsaEncryption OID 1.2.840.113549.1.1.1, DER-encoded.
    const rsaOid = '06092a864886f70d010101';
    const isRsa = (c) => {
      if (!c) return null;
      const bin = atob(c.base64Certificate);
      let hex = '';
      for (let i = 0; i < bin.length; i++) hex += bin.charCodeAt(i).toString(16).padStart(2, '0');
      return hex.includes(rsaOid);
    };
    return {
      dtlsState: transport && transport.dtlsState,
      dtlsRole: transport && transport.dtlsRole,
      dtlsCipher: transport && transport.dtlsCipher,
      localIsRsa: transport ? isRsa(cert(transport.localCertificateId)) : null,
      remoteIsRsa: transport ? isRsa(cert(transport.remoteCertificateId)) : null,
      remoteFingerprint: transport && cert(transport.remoteCertificateId) ? {
        algorithm: cert(transport.remoteCertificateId).fingerprintAlgorithm,
        value: cert(transport.remoteCertificateId).fingerprint.toLowerCase(),
      } : null,
    };
  });
}

let browser;
let factory;

defineInteropSuite({
  remoteName: 'chromium (RSA certificate)',
  skip,
  setup: async () => {
    browser = await launchChromium();
    factory = await preparePage(browser);
    await useRsaCertificates(factory.page);
  },
  teardown: async () => {
    if (browser) await browser.close();
  },
  newRemote: () => factory.newPeer('chromium'),
});

describe('chromium RSA certificate: DTLS roles and suites seen by Chromium', { skip }, () => {
  let b;
  let f;
  before(async () => {
    b = await launchChromium();
    f = await preparePage(b);
    await useRsaCertificates(f.page);
  });
  after(async () => {
    if (b) await b.close();
  });

  for (const nodeOffers of [true, false]) {
    test(`Node ${nodeOffers ? 'offers' : 'answers'}: Chromium's certificate is RSA, ours is not`, { timeout: 60000 }, async () => {
      const node = new W3CPeer(loadImpl(), 'node');
      const remote = f.newPeer('chromium');
      try {
        await node.init({});
        await remote.init({});
        const [offerer, answerer] = nodeOffers ? [node, remote] : [remote, node];
        await offerer.createChannel('rsa');
        await connect(offerer, answerer);
        await offerer.waitEvent('open', 'rsa');
        await answerer.waitEvent('open', 'rsa');
        await exchange(node, remote, 'rsa', 'rsa');
        await exchange(remote, node, 'rsa', 'rsa');
        const dtls = await lastConnectionDtls(f.page);
        console.error(`# chromium DTLS (node ${nodeOffers ? 'offers' : 'answers'}): ${JSON.stringify(dtls)}`);
        assert.equal(dtls.dtlsState, 'connected');
        assert.equal(dtls.localIsRsa, true, "Chromium's own certificate is RSA");
        assert.equal(dtls.remoteIsRsa, false, 'our certificate is ECDSA');
        if (dtls.dtlsRole) {
          // Node offers actpass, Chromium answers active: Chromium is the DTLS client.
          assert.equal(dtls.dtlsRole, nodeOffers ? 'client' : 'server');
        }
        if (dtls.dtlsCipher) {
          // As server, Chromium must authenticate with its RSA key: an ECDHE_RSA suite.
          assert.match(dtls.dtlsCipher, nodeOffers ? /ECDHE_ECDSA/ : /ECDHE_RSA/);
        }
      } finally {
        await node.close().catch(() => {});
        await remote.close().catch(() => {});
      }
    });
  }
});

describe('our RSA certificate (generateCertificate RSASSA-PKCS1-v1_5) against Chromium', { skip }, () => {
  let b;
  let f;
  let impl;
  let rsaCert;
  before(async () => {
    b = await launchChromium();
    f = await preparePage(b);
    await useRsaCertificates(f.page, false);
    impl = loadImpl();
    rsaCert = await impl.RTCPeerConnection.generateCertificate({
      name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256',
    });
  });
  after(async () => {
    if (b) await b.close();
  });

  for (const nodeOffers of [true, false]) {
    const ourRole = nodeOffers ? 'server' : 'client';
    test(`Node ${nodeOffers ? 'offers' : 'answers'} (our DTLS role: ${ourRole}): Chromium sees our RSA certificate and its fingerprint`,
      { timeout: 60000 }, async () => {
        const node = new W3CPeer(impl, 'node');
        const remote = f.newPeer('chromium');
        try {
          await node.init({ certificates: [rsaCert] });
          await remote.init({});
          const [offerer, answerer] = nodeOffers ? [node, remote] : [remote, node];
          await offerer.createChannel('ours');
          await connect(offerer, answerer);
          await offerer.waitEvent('open', 'ours');
          await answerer.waitEvent('open', 'ours');
          await exchange(node, remote, 'ours', 'ours');
          await exchange(remote, node, 'ours', 'ours');
          const dtls = await lastConnectionDtls(f.page);
          console.error(`# chromium DTLS with our RSA certificate (node ${nodeOffers ? 'offers' : 'answers'}): ${JSON.stringify(dtls)}`);
          assert.equal(dtls.dtlsState, 'connected');
          assert.equal(dtls.remoteIsRsa, true, 'Chromium received our RSA certificate');
          assert.equal(dtls.localIsRsa, false, "Chromium's own certificate is its default ECDSA one");
          assert.deepEqual(dtls.remoteFingerprint, rsaCert.getFingerprints()[0],
            'the certificate Chromium authenticated is the one generateCertificate gave us');
          if (dtls.dtlsRole) assert.equal(dtls.dtlsRole, nodeOffers ? 'client' : 'server');
          // As server we authenticate with our RSA key: an ECDHE_RSA suite. As client, the
          // suite follows Chromium's ECDSA key and our RSA key signs the CertificateVerify.
          if (dtls.dtlsCipher) assert.match(dtls.dtlsCipher, nodeOffers ? /ECDHE_RSA/ : /ECDHE_ECDSA/);
        } finally {
          await node.close().catch(() => {});
          await remote.close().catch(() => {});
        }
      });
  }
});
