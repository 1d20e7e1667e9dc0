// ES-module entry of `polyrtc/relay` (Node): the same startRelay as the CommonJS relay/index.js.
import relay from './index.js';

export const startRelay = relay.startRelay;
export default relay;
