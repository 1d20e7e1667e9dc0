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
} = api;

export default api;
