// The polyfill's one job, engine-neutral: put the standard interface objects on a global
// object that has no WebRTC (js/polyfill*.js call it with their engine's API).

/** The names `polyrtc/polyfill` installs: every interface the API exports. */
const STANDARD_NAMES = [
  'RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate', 'RTCDataChannel',
  'RTCPeerConnectionIceEvent', 'RTCPeerConnectionIceErrorEvent', 'RTCDataChannelEvent',
  'RTCCertificate', 'RTCSctpTransport', 'RTCDtlsTransport', 'RTCIceTransport', 'RTCError',
  'RTCErrorEvent', 'RTCStatsReport', 'RTCRtpSender', 'RTCRtpReceiver', 'RTCRtpTransceiver',
  'RTCTrackEvent', 'RTCDTMFSender', 'RTCDTMFToneChangeEvent',
];

/**
 * mediacapture-main interfaces the API brings too: installed with the set, each only where
 * the target has none of that name (a runtime's own MediaStream is kept).
 */
const CAPTURE_NAMES = ['MediaStream', 'MediaStreamTrack', 'MediaStreamTrackEvent', 'OverconstrainedError'];

/**
 * Installs the API on `target` (globalThis by default) where the runtime has no WebRTC of
 * its own, i.e. no RTCPeerConnection: then every one of STANDARD_NAMES is defined (and each
 * of CAPTURE_NAMES the target lacks), as WebIDL
 * defines interface objects on the global (writable, configurable, not enumerable). Where
 * RTCPeerConnection exists (a browser page, or an earlier install) nothing is touched, so a
 * native stack stays whole.
 *
 * The set goes in as a whole rather than name by name because runtimes expose fragments:
 * Chromium's dedicated workers have RTCDataChannel (for channels transferred from a page) but
 * no RTCPeerConnection. Keeping such a fragment would make `event.channel instanceof
 * RTCDataChannel` false for this API's own channels, so the fragment is replaced.
 * Returns the names it defined (empty when the runtime has RTCPeerConnection).
 */
function installGlobals(api, target = globalThis) {
  for (const name of [...STANDARD_NAMES, ...CAPTURE_NAMES]) {
    if (typeof api[name] !== 'function') throw new TypeError(`installGlobals: the API has no ${name}`);
  }
  if (target.RTCPeerConnection !== undefined) return [];
  const define = (name) => {
    Object.defineProperty(target, name, { value: api[name], writable: true, configurable: true, enumerable: false });
  };
  for (const name of STANDARD_NAMES) define(name);
  const capture = CAPTURE_NAMES.filter((name) => target[name] === undefined);
  for (const name of capture) define(name);
  return [...STANDARD_NAMES, ...capture];
}

export { STANDARD_NAMES, CAPTURE_NAMES, installGlobals };
