// `polyrtc/polyfill` outside Node (browser, worker, Deno, Bun, default): installs the WASM
// engine's classes on globalThis unless it has an RTCPeerConnection already (a page keeps its
// native WebRTC; a worker gains one; js/lib/install.js). Only relative imports: loads with no bundler.
import * as api from './wasm.js';
import { installGlobals } from './lib/install.js';

/** The names this import defined on globalThis (none where the runtime has RTCPeerConnection). */
export const installed = installGlobals(api);
