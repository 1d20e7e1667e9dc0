import { illegalConstructor, defineEventHandlers, fire } from './util.js';

/** W3C webrtc-pc §6.1.1 RTCSctpTransport. */
class RTCSctpTransport extends EventTarget {
  #transport;
  #state = 'connecting';
  #maxMessageSize;
  #maxChannels = null;

  constructor(token, dtlsTransport, maxMessageSize) {
    illegalConstructor(token);
    super();
    this.#transport = dtlsTransport;
    this.#maxMessageSize = maxMessageSize;
  }

  get transport() { return this.#transport; }
  get state() { return this.#state; }
  get maxMessageSize() { return this.#maxMessageSize; }
  get maxChannels() { return this.#maxChannels; }

  /** @internal */
  _setMaxMessageSize(n) { this.#maxMessageSize = n; }

  /** @internal */
  _setMaxChannels(n) { this.#maxChannels = n; }

  /** @internal */
  _setState(state, dispatch = true) {
    if (this.#state === state) return false;
    this.#state = state;
    if (dispatch) fire(this, 'statechange');
    return true;
  }
}

defineEventHandlers(RTCSctpTransport.prototype, ['statechange']);

export { RTCSctpTransport };
