// polyrtc on Node: the W3C WebRTC API (data channels, RTP media) on the native addon engine.
// The package's `.` export under the `node` condition (`import`); `require` gets the
// CommonJS copy of this file that scripts/build-cjs.js generates (js/cjs/node.cjs).
import { createApi } from './lib/factory.js';
import * as napiEngine from './engine/napi.js';

const api = createApi(napiEngine);

export const RTCPeerConnection = api.RTCPeerConnection;
export const RTCSessionDescription = api.RTCSessionDescription;
export const RTCIceCandidate = api.RTCIceCandidate;
export const RTCDataChannel = api.RTCDataChannel;
export const RTCPeerConnectionIceEvent = api.RTCPeerConnectionIceEvent;
export const RTCPeerConnectionIceErrorEvent = api.RTCPeerConnectionIceErrorEvent;
export const RTCDataChannelEvent = api.RTCDataChannelEvent;
export const RTCCertificate = api.RTCCertificate;
export const RTCSctpTransport = api.RTCSctpTransport;
export const RTCDtlsTransport = api.RTCDtlsTransport;
export const RTCIceTransport = api.RTCIceTransport;
export const RTCError = api.RTCError;
export const RTCErrorEvent = api.RTCErrorEvent;
export const RTCStatsReport = api.RTCStatsReport;
export const RTCRtpSender = api.RTCRtpSender;
export const RTCRtpReceiver = api.RTCRtpReceiver;
export const RTCRtpTransceiver = api.RTCRtpTransceiver;
export const RTCTrackEvent = api.RTCTrackEvent;
export const RTCDTMFSender = api.RTCDTMFSender;
export const RTCDTMFToneChangeEvent = api.RTCDTMFToneChangeEvent;
export const MediaStream = api.MediaStream;
export const MediaStreamTrack = api.MediaStreamTrack;
export const MediaStreamTrackEvent = api.MediaStreamTrackEvent;
export const OverconstrainedError = api.OverconstrainedError;
export const EncodedMediaSource = api.EncodedMediaSource;
export const EncodedMediaSink = api.EncodedMediaSink;
export const EncodedMediaEvent = api.EncodedMediaEvent;
export const mediaDevices = api.mediaDevices;

export default api;
