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
import { MediaStream } from './media-stream.js';
import { MediaStreamTrack } from './media-stream-track.js';
import { MediaStreamTrackEvent } from './media-stream-track-event.js';
import { makeRTCRtpSender } from './rtc-rtp-sender.js';
import { makeRTCRtpReceiver } from './rtc-rtp-receiver.js';
import { RTCRtpTransceiver } from './rtc-rtp-transceiver.js';
import { RTCTrackEvent } from './rtc-track-event.js';
import { RTCDTMFSender, RTCDTMFToneChangeEvent } from './rtc-dtmf-sender.js';
import { EncodedMediaSource, EncodedMediaSink, EncodedMediaEvent } from './encoded-media.js';
import { makeMediaDevices, OverconstrainedError } from './media-devices.js';

const KINDS = ['audio', 'video'];

/**
 * @param {object} engine  `{ NativePeer, generateCertificate, peerOptions? }`, see
 *   js/engine/napi.js for the surface.
 */
function createApi(engine) {
  if (!engine || typeof engine.NativePeer !== 'function' || typeof engine.generateCertificate !== 'function') {
    throw new TypeError('createApi: engine must provide NativePeer and generateCertificate');
  }
  // The engine's codecs and header extensions for a kind (module function of the contract),
  // null for a kind it does not know.
  const getCapabilities = (kind) => {
    if (!KINDS.includes(kind) || typeof engine.getCapabilities !== 'function') return null;
    try {
      return engine.getCapabilities(kind) ?? null;
    } catch (err) {
      return null;
    }
  };
  const RTCRtpSender = makeRTCRtpSender(getCapabilities);
  const RTCRtpReceiver = makeRTCRtpReceiver(getCapabilities);
  return {
    RTCPeerConnection: makeRTCPeerConnection(engine, { RTCRtpSender, RTCRtpReceiver, getCapabilities }),
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
    RTCRtpSender,
    RTCRtpReceiver,
    RTCRtpTransceiver,
    RTCTrackEvent,
    RTCDTMFSender,
    RTCDTMFToneChangeEvent,
    MediaStream,
    MediaStreamTrack,
    MediaStreamTrackEvent,
    OverconstrainedError,
    EncodedMediaSource,
    EncodedMediaSink,
    EncodedMediaEvent,
    mediaDevices: makeMediaDevices(engine, getCapabilities),
  };
}

export { createApi };
