// Node-only helpers of the WASM entry (js/wasm.js imports this file only when it runs in
// Node): the .wasm read from disk (Node's fetch does not take file: URLs) and a WebSocket
// class where the runtime has none (Node 20; Node 22 has a global one).
import { readFile } from 'node:fs/promises';

/** The bytes of the .wasm at a file: URL. */
export function readWasm(url) {
  return readFile(url);
}

/** The global WebSocket, else the `ws` package's (the same API: binaryType, subprotocols). */
export async function webSocketClass() {
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  const { WebSocket } = await import('ws');
  return WebSocket;
}
