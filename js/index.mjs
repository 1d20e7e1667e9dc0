import api from './index.js';

export const {
  RTCPeerConnection,
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
} = api;

export default api;
