// polyrtc for workerd (Cloudflare Workers): the WASM engine, with the .wasm imported as a
// module, because workerd forbids compiling WebAssembly from bytes at run time. The
// WebSocket is the runtime's global one.
import wasmModule from './wasm/polyrtc_bg.wasm';
import { initSync } from './wasm/polyrtc.js';
import * as glue from './wasm/polyrtc.js';
import { createApi } from './lib/factory.js';
import { createWasmEngine } from './engine/wasm.js';

initSync({ module: wasmModule });

/** The engine under this entry's API (for tests and tools). */
export const engine = createWasmEngine(glue, { WebSocket: globalThis.WebSocket });
const api = createApi(engine);

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
  mediaDevices,
} = api;

export default api;
