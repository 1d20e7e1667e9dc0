'use strict';
const { INTERNAL, illegalConstructor } = require('./util');

const nativeOf = new WeakMap();

/** W3C webrtc-pc §4.9 RTCCertificate: an opaque handle to a native certificate. */
class RTCCertificate {
  #expires;
  #fingerprints;

  constructor(token, native, expires) {
    illegalConstructor(token);
    this.#expires = expires;
    // RTCDtlsFingerprint: the algorithm a name of the IANA "Hash Function Textual Names"
    // registry (lower case) and the value "in lowercase hex string" with the colons of RFC 4572
    // §5 (Chromium returns the same; SDP's a=fingerprint keeps upper case).
    this.#fingerprints = (native.fingerprints || []).map((f) => ({
      algorithm: String(f.algorithm).toLowerCase(),
      value: String(f.value).toLowerCase(),
    }));
    nativeOf.set(this, native);
  }

  /** Milliseconds since the epoch after which the certificate is no longer valid. */
  get expires() { return this.#expires; }

  getFingerprints() {
    return this.#fingerprints.map((f) => ({ algorithm: f.algorithm, value: f.value }));
  }
}

Object.defineProperty(RTCCertificate.prototype, Symbol.toStringTag, {
  value: 'RTCCertificate', configurable: true,
});

function wrapCertificate(native, expires) {
  const exp = typeof expires === 'number' ? expires : Number(native.expires);
  return new RTCCertificate(INTERNAL, native, exp);
}

function nativeCertificate(cert) {
  return nativeOf.get(cert);
}

module.exports = { RTCCertificate, wrapCertificate, nativeCertificate };
