import { illegalConstructor, defineEventHandlers, fire } from './util.js';

/** W3C webrtc-pc §5.5 RTCDtlsTransport. */
class RTCDtlsTransport extends EventTarget {
  #iceTransport;
  #state = 'new';
  /** The peer's DER certificates (ArrayBuffer), set when the handshake completed. */
  #remoteCertificates = [];

  constructor(token, iceTransport) {
    illegalConstructor(token);
    super();
    this.#iceTransport = iceTransport;
  }

  get iceTransport() { return this.#iceTransport; }
  get state() { return this.#state; }
  getRemoteCertificates() { return this.#remoteCertificates.map((c) => c.slice(0)); }

  /** @internal */
  _setRemoteCertificates(list) { this.#remoteCertificates = list; }

  /** @internal */
  _setState(state, dispatch = true) {
    if (this.#state === state) return false;
    this.#state = state;
    if (dispatch) fire(this, 'statechange');
    return true;
  }
}

defineEventHandlers(RTCDtlsTransport.prototype, ['statechange', 'error']);

export { RTCDtlsTransport };
