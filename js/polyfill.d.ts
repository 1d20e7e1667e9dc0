// Types of `polyrtc/polyfill`: importing it defines the standard WebRTC interface objects
// (RTCPeerConnection, RTCSessionDescription, RTCIceCandidate, RTCDataChannel, the event
// classes, RTCCertificate, RTCSctpTransport, RTCDtlsTransport, RTCIceTransport, RTCError,
// RTCErrorEvent, RTCStatsReport) on globalThis where the runtime lacks them. Their types are
// those of the package's main entry (js/index.d.ts); with TypeScript's DOM lib they are
// already declared globally.

/** The names this import defined on globalThis (those the runtime lacked). */
export declare const installed: ReadonlyArray<string>;
