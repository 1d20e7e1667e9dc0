// polyrtc/wasm: the W3C WebRTC API (data channels) on the WASM engine, for browsers, web
// workers, Deno, Bun and Node. ES module, relative imports only, no bundler needed:
//
//   const { RTCPeerConnection } = await import('https://host/polyrtc/js/wasm.js');
//   new RTCPeerConnection({ relay: { urls: 'wss://relay.example', username, credential } });
//
// The .wasm is found beside this file (new URL(..., import.meta.url)): read from disk in Node,
// fetched elsewhere (js/wasm-node.js is the Node part, imported only there). Top-level await: the module is ready when the import resolves.
import initWasm, * as glue from './wasm/polyrtc.js';
import { createApi } from './lib/factory.js';
import { createWasmEngine } from './engine/wasm.js';

const WASM_URL = new URL('./wasm/polyrtc_bg.wasm', import.meta.url);
const nodeProcess = globalThis.process;
const isNode = typeof nodeProcess === 'object' && nodeProcess !== null
  && typeof nodeProcess.versions === 'object' && nodeProcess.versions !== null
  && typeof nodeProcess.versions.node === 'string';

let WebSocketClass = globalThis.WebSocket;
if (isNode && WASM_URL.protocol === 'file:') {
  // Node (and Deno / Bun, which also report versions.node) from disk: js/wasm-node.js.
  const nodeIo = await import('./wasm-node.js');
  await initWasm({ module_or_path: await nodeIo.readWasm(WASM_URL) });
  WebSocketClass = await nodeIo.webSocketClass();
} else {
  await initWasm({ module_or_path: WASM_URL });
}

/** The engine under this entry's API (for tests and tools). */
export const engine = createWasmEngine(glue, { WebSocket: WebSocketClass });
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
