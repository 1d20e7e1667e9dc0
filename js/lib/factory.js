// Builds the W3C API from an engine. The engine does the protocol work; everything the
// W3C specifications say about state, validation and event order lives in js/lib/.
import { makeRTCPeerConnection } from './rtc-peer-connection.js';
import { RTCSessionDescription } from './rtc-session-description.js';
import { RTCIceCandidate } from './rtc-ice-candidate.js';
import { RTCDataChannel } from './rtc-data-channel.js';
import { RTCPeerConnectionIceEvent } from './rtc-peer-connection-ice-event.js';
import { RTCPeerConnectionIceErrorEvent } from './rtc-peer-connection-ice-error-event.js';
import { RTCDataChannelEvent } from './rtc-data-channel-event.js';
import { RTCCertificate } from './rtc-certificate.js';
import { RTCSctpTransport } from './rtc-sctp-transport.js';
import { RTCDtlsTransport } from './rtc-dtls-transport.js';
import { RTCIceTransport } from './rtc-ice-transport.js';
import { RTCError } from './rtc-error.js';
import { RTCErrorEvent } from './rtc-error-event.js';
import { RTCStatsReport } from './rtc-stats-report.js';

/**
 * @param {object} engine  `{ NativePeer, generateCertificate, peerOptions? }`, see
 *   js/engine/napi.js for the surface.
 */
function createApi(engine) {
  if (!engine || typeof engine.NativePeer !== 'function' || typeof engine.generateCertificate !== 'function') {
    throw new TypeError('createApi: engine must provide NativePeer and generateCertificate');
  }
  return {
    RTCPeerConnection: makeRTCPeerConnection(engine),
    RTCSessionDescription,
    RTCIceCandidate,
    RTCDataChannel,
    RTCPeerConnectionIceEvent,
    RTCPeerConnectionIceErrorEvent,
    RTCDataChannelEvent,
    RTCCertificate,
    RTCSctpTransport,
    RTCDtlsTransport,
    RTCIceTransport,
    RTCError,
    RTCErrorEvent,
    RTCStatsReport,
  };
}

export { createApi };
