// The polyfill's one job, engine-neutral: put the standard interface objects on a global
// object where that object lacks them (js/polyfill*.js call it with their engine's API).

/** The names `polyrtc/polyfill` installs: every interface the API exports. */
const STANDARD_NAMES = [
  'RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate', 'RTCDataChannel',
  'RTCPeerConnectionIceEvent', 'RTCPeerConnectionIceErrorEvent', 'RTCDataChannelEvent',
  'RTCCertificate', 'RTCSctpTransport', 'RTCDtlsTransport', 'RTCIceTransport', 'RTCError',
  'RTCErrorEvent', 'RTCStatsReport',
];

/**
 * Defines each of STANDARD_NAMES on `target` (globalThis by default) that is missing there
 * (undefined), as WebIDL defines interface objects on the global: writable, configurable,
 * not enumerable. A name the runtime already has is left alone, so on a browser page the
 * native classes stay. Returns the names it defined.
 */
function installGlobals(api, target = globalThis) {
  const installed = [];
  for (const name of STANDARD_NAMES) {
    if (target[name] !== undefined) continue;
    if (typeof api[name] !== 'function') throw new TypeError(`installGlobals: the API has no ${name}`);
    Object.defineProperty(target, name, { value: api[name], writable: true, configurable: true, enumerable: false });
    installed.push(name);
  }
  return installed;
}

export { STANDARD_NAMES, installGlobals };
