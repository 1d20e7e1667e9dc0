'use strict';
const { illegalConstructor, defineEventHandlers, fire } = require('./util');

/** W3C webrtc-pc §5.5 RTCDtlsTransport. */
class RTCDtlsTransport extends EventTarget {
  #iceTransport;
  #state = 'new';

  constructor(token, iceTransport) {
    illegalConstructor(token);
    super();
    this.#iceTransport = iceTransport;
  }

  get iceTransport() { return this.#iceTransport; }
  get state() { return this.#state; }
  getRemoteCertificates() { return []; }

  /** @internal */
  _setState(state, dispatch = true) {
    if (this.#state === state) return false;
    this.#state = state;
    if (dispatch) fire(this, 'statechange');
    return true;
  }
}

defineEventHandlers(RTCDtlsTransport.prototype, ['statechange', 'error']);

module.exports = { RTCDtlsTransport };
