// `polyrtc/polyfill` in workerd (Cloudflare Workers): as js/polyfill.js, on the workerd
// entry of the WASM engine (which imports its .wasm as a module).
import * as api from './workerd.js';
import { installGlobals } from './lib/install.js';

/** The names this import defined on globalThis (none where the runtime has RTCPeerConnection). */
export const installed = installGlobals(api);
