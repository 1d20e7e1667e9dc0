// polyrtc/wasm: the W3C WebRTC API (data channels) on the WASM engine, for browsers, web
// workers, Deno, Bun and Node. ES module, relative imports only, no bundler needed:
//
//   const { RTCPeerConnection } = await import('https://host/polyrtc/js/wasm.js');
//   new RTCPeerConnection({ relay: { urls: 'wss://relay.example', username, credential } });
//
// The .wasm is found beside this file (new URL(..., import.meta.url)): read from disk in Node,
// fetched elsewhere. Top-level await: the module is ready when the import resolves.
import initWasm, * as glue from './wasm/polyrtc.js';
import { createApi } from './lib/factory.js';
import { createWasmEngine } from './engine/wasm.js';

const WASM_URL = new URL('./wasm/polyrtc_bg.wasm', import.meta.url);
const isNode = typeof process === 'object' && process !== null
  && typeof process.versions === 'object' && process.versions !== null
  && typeof process.versions.node === 'string';

let WebSocketClass = globalThis.WebSocket;
if (isNode && WASM_URL.protocol === 'file:') {
  const { readFile } = await import('node:fs/promises');
  await initWasm({ module_or_path: await readFile(WASM_URL) });
} else {
  await initWasm({ module_or_path: WASM_URL });
}
if (typeof WebSocketClass !== 'function' && isNode) {
  // Node 20 has no global WebSocket (Node 22 does): the `ws` package's is the same API.
  ({ WebSocket: WebSocketClass } = await import('ws'));
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
} = api;

export default api;
