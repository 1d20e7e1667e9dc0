import { INTERNAL, illegalConstructor, domException, toDOMString, enforceRange } from './util.js';

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

/** RSA moduli the engine generates (others are NotSupportedError, as in Chromium). */
const RSA_MODULUS_LENGTHS = [1024, 2048, 4096];

/** Hash names WebCrypto's "digest" operation recognises (HashAlgorithmIdentifier). */
const WEBCRYPTO_HASHES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];

/** WebCrypto's "normalize an algorithm": a string is `{ name }`; `name` is required. */
function algorithmDictionary(alg, what) {
  if (typeof alg === 'string') return { name: alg };
  if (alg === null || (typeof alg !== 'object' && typeof alg !== 'function')) {
    throw new TypeError(`${what}: invalid AlgorithmIdentifier`);
  }
  if (alg.name === undefined) throw new TypeError(`${what}: Algorithm.name is required`);
  return alg;
}

/**
 * webrtc-pc generateCertificate steps 4-6 for `keygenAlgorithm`: normalize it as WebCrypto's
 * generateKey would (unknown members ignored, missing required ones a TypeError, dictionary
 * members read in lexicographic order) and refuse what cannot sign DTLS with
 * NotSupportedError. Supported, as in Chromium: `{ name: 'ECDSA', namedCurve: 'P-256' }` and
 * `{ name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: 65537, hash: 'SHA-256' }`.
 * Returns `{ kind: 'ecdsa' }` or `{ kind: 'rsa', modulusLength }`.
 */
function normalizeKeygenAlgorithm(keygenAlgorithm) {
  const alg = algorithmDictionary(keygenAlgorithm, 'generateCertificate');
  const name = toDOMString(alg.name).toUpperCase();
  if (name === 'ECDSA') {
    if (alg.namedCurve === undefined) throw new TypeError('EcKeyGenParams.namedCurve is required');
    if (toDOMString(alg.namedCurve) !== 'P-256') {
      throw domException('NotSupportedError', `curve ${alg.namedCurve} is not supported`);
    }
    return { kind: 'ecdsa' };
  }
  if (name === 'RSASSA-PKCS1-V1_5') {
    // RsaHashedKeyGenParams: hash, modulusLength, publicExponent (all required).
    if (alg.hash === undefined) throw new TypeError('RsaHashedKeyGenParams.hash is required');
    const hash = algorithmDictionary(alg.hash, 'RsaHashedKeyGenParams.hash');
    const hashName = toDOMString(hash.name).toUpperCase();
    if (alg.modulusLength === undefined) throw new TypeError('RsaKeyGenParams.modulusLength is required');
    const modulusLength = enforceRange(alg.modulusLength, 0, 0xffffffff, 'modulusLength');
    if (alg.publicExponent === undefined) throw new TypeError('RsaKeyGenParams.publicExponent is required');
    if (!(alg.publicExponent instanceof Uint8Array)) {
      throw new TypeError('RsaKeyGenParams.publicExponent must be a Uint8Array (BigInteger)');
    }
    if (!WEBCRYPTO_HASHES.includes(hashName)) {
      throw domException('NotSupportedError', `hash ${hash.name} is not supported`);
    }
    if (hashName !== 'SHA-256') {
      throw domException('NotSupportedError', `RSA certificates are signed with SHA-256, not ${hash.name}`);
    }
    if (!isF4(alg.publicExponent)) {
      throw domException('NotSupportedError', 'publicExponent must be 65537 ([1, 0, 1])');
    }
    if (!RSA_MODULUS_LENGTHS.includes(modulusLength)) {
      throw domException('NotSupportedError',
        `modulusLength ${modulusLength} is not supported (${RSA_MODULUS_LENGTHS.join(', ')})`);
    }
    return { kind: 'rsa', modulusLength };
  }
  throw domException('NotSupportedError', `algorithm ${alg.name} is not supported`);
}

/** A big-endian BigInteger equal to 65537, leading zero bytes allowed. */
function isF4(bytes) {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return bytes.length - i === 3 && bytes[i] === 1 && bytes[i + 1] === 0 && bytes[i + 2] === 1;
}

function wrapCertificate(native, expires) {
  const exp = typeof expires === 'number' ? expires : Number(native.expires);
  return new RTCCertificate(INTERNAL, native, exp);
}

function nativeCertificate(cert) {
  return nativeOf.get(cert);
}

export { RTCCertificate, wrapCertificate, nativeCertificate, normalizeKeygenAlgorithm, RSA_MODULUS_LENGTHS };
