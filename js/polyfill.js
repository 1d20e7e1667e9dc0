// `polyrtc/polyfill` outside Node (browser, worker, Deno, Bun, default): installs the WASM
// engine's classes on globalThis where they are missing (a page keeps its native
// RTCPeerConnection; a worker gains one). Only relative imports: loads with no bundler.
import * as api from './wasm.js';
import { installGlobals } from './lib/install.js';

/** The names this import defined on globalThis (those the runtime lacked). */
export const installed = installGlobals(api);
