// Types of `polyrtc/polyfill`: importing it defines the standard WebRTC interface objects
// (RTCPeerConnection, RTCSessionDescription, RTCIceCandidate, RTCDataChannel, the event
// classes, RTCCertificate, RTCSctpTransport, RTCDtlsTransport, RTCIceTransport, RTCError,
// RTCErrorEvent, RTCStatsReport, RTCRtpSender, RTCRtpReceiver, RTCRtpTransceiver, RTCTrackEvent,
// RTCDTMFSender, RTCDTMFToneChangeEvent) on globalThis when the runtime has no RTCPeerConnection
// (js/lib/install.js says why the set goes in as a whole), with MediaStream, MediaStreamTrack,
// MediaStreamTrackEvent and OverconstrainedError each where the runtime has none. Their types are
// those of the package's main entry (js/index.d.ts); with TypeScript's DOM lib they are
// already declared globally.

/** The names this import defined on globalThis (none where the runtime has RTCPeerConnection). */
export declare const installed: ReadonlyArray<string>;
