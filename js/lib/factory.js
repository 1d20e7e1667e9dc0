'use strict';
// Builds the W3C API from an engine. The engine does the protocol work; everything the
// W3C specifications say about state, validation and event order lives in js/lib/.
const { makeRTCPeerConnection } = require('./rtc-peer-connection');
const { RTCSessionDescription } = require('./rtc-session-description');
const { RTCIceCandidate } = require('./rtc-ice-candidate');
const { RTCDataChannel } = require('./rtc-data-channel');
const { RTCPeerConnectionIceEvent } = require('./rtc-peer-connection-ice-event');
const { RTCPeerConnectionIceErrorEvent } = require('./rtc-peer-connection-ice-error-event');
const { RTCDataChannelEvent } = require('./rtc-data-channel-event');
const { RTCCertificate } = require('./rtc-certificate');
const { RTCSctpTransport } = require('./rtc-sctp-transport');
const { RTCDtlsTransport } = require('./rtc-dtls-transport');
const { RTCIceTransport } = require('./rtc-ice-transport');
const { RTCError } = require('./rtc-error');
const { RTCErrorEvent } = require('./rtc-error-event');
const { RTCStatsReport } = require('./rtc-stats-report');

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

module.exports = { createApi };
