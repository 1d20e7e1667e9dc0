// The Node engine: adapts the native addon (napi/, loaded from napi/index.js at the package
// root). The addon is loaded lazily, on the first peer or certificate, so that importing
// the package never fails on a machine where the addon is missing. Node-only (the one file
// of js/ that is): the addon is a CommonJS module, loaded with createRequire.
import { createRequire } from 'node:module';

const requireAddon = createRequire(import.meta.url);
/** The addon's loader, relative to this file (js/engine/ -> napi/index.js). */
const ADDON_SPECIFIER = '../../napi/index.js';
let addon = null;

function load() {
  if (addon === null) {
    try {
      addon = requireAddon(ADDON_SPECIFIER);
    } catch (err) {
      const e = new Error(`NotSupportedError: the polyrtc native addon could not be loaded (${err.message})`);
      e.code = 'NotSupportedError';
      throw e;
    }
  }
  return addon;
}

/** napi-rs reads `null` in an optional object field as a type error: send `undefined`. */
function withoutNulls(obj) {
  if (obj === null || typeof obj !== 'object') return obj;
  const out = {};
  for (const [k, v] of Object.entries(obj)) if (v !== null) out[k] = v;
  return out;
}

class NativePeer {
  constructor(config, onEvents) {
    const Native = load().NativePeer;
    const native = new Native(withoutNulls(config), onEvents);
    const createDataChannel = native.createDataChannel;
    const addIceCandidate = native.addIceCandidate;
    native.createDataChannel = (init) => createDataChannel.call(native, withoutNulls(init));
    native.addIceCandidate = (init) => addIceCandidate.call(native, init == null ? null : withoutNulls(init));
    if (typeof native.addTransceiver === 'function') {
      const addTransceiver = native.addTransceiver;
      native.addTransceiver = (init) => addTransceiver.call(native, withoutNulls(init));
    }
    return native;
  }
}

/** A certificate valid for `lifetimeMs` from now (the addon's default, 30 days, when omitted). */
function generateCertificate(lifetimeMs) {
  return lifetimeMs === undefined ? load().generateCertificate() : load().generateCertificate(lifetimeMs);
}

/** A promise of an RSA certificate of `modulusLength` bits, generated on a worker thread. */
function generateRsaCertificate(modulusLength, lifetimeMs) {
  return load().generateRsaCertificate(modulusLength, lifetimeMs);
}

/**
 * The addon's codecs and header extensions for 'audio' / 'video' (RTCRtpSender /
 * RTCRtpReceiver.getCapabilities), null when the addon has none (or cannot load).
 */
function getCapabilities(kind) {
  const a = load();
  return typeof a.getCapabilities === 'function' ? a.getCapabilities(kind) : null;
}

/**
 * The synthetic-source hook of getUserMedia (js/lib/media-devices.js): a stateful source of
 * encoded frames (VP8 test pattern, Opus tone) from the addon; `settings` as media-devices.js
 * gives them (video sizes already multiples of 16).
 */
function createSyntheticSource(kind, settings) {
  const a = load();
  if (typeof a.NativeSyntheticSource !== 'function') return null;
  return kind === 'video'
    ? new a.NativeSyntheticSource('video', settings.width, settings.height, settings.frameRate, undefined)
    : new a.NativeSyntheticSource('audio', undefined, undefined, undefined, true);
}

/** Engine options that are not part of RTCConfiguration (POLYRTC_INCLUDE_LOOPBACK=1 for tests). */
function peerOptions() {
  const opts = {};
  if (globalThis.process?.env?.POLYRTC_INCLUDE_LOOPBACK === '1') opts.includeLoopback = true;
  return opts;
}

export {
  NativePeer, generateCertificate, generateRsaCertificate, getCapabilities, createSyntheticSource, peerOptions, load,
};
