// `polyrtc/polyfill` on Node (the `node` condition): installs the addon engine's classes on
// globalThis unless it has an RTCPeerConnection already (js/lib/install.js). js/polyfill.js is the same for the WASM engine (every
// other runtime), js/polyfill-workerd.js for workerd; the package's `exports` picks one.
import * as api from './node.js';
import { installGlobals } from './lib/install.js';

/** The names this import defined on globalThis (none where the runtime has RTCPeerConnection). */
export const installed = installGlobals(api);
