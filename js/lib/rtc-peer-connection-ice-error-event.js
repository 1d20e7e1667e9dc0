import { toDictionary, toDOMString, enforceRange } from './util.js';

/** W3C webrtc-pc §4.8.3 RTCPeerConnectionIceErrorEvent. */
class RTCPeerConnectionIceErrorEvent extends Event {
  #address;
  #port;
  #url;
  #errorCode;
  #errorText;

  constructor(type, eventInitDict) {
    if (arguments.length < 2) {
      throw new TypeError('RTCPeerConnectionIceErrorEvent: 2 arguments required');
    }
    const dict = toDictionary(eventInitDict, 'RTCPeerConnectionIceErrorEventInit');
    const nullableString = (v) => (v === undefined || v === null ? null : toDOMString(v));
    const address = nullableString(dict.address);
    if (dict.errorCode === undefined) throw new TypeError('errorCode is required');
    const errorCode = enforceRange(dict.errorCode, 0, 65535, 'errorCode');
    const errorText = dict.errorText === undefined ? '' : toDOMString(dict.errorText);
    const port = dict.port === undefined || dict.port === null
      ? null : enforceRange(dict.port, 0, 65535, 'port');
    const url = dict.url === undefined ? '' : toDOMString(dict.url);
    super(toDOMString(type), dict);
    this.#address = address;
    this.#port = port;
    this.#url = url;
    this.#errorCode = errorCode;
    this.#errorText = errorText;
  }

  get address() { return this.#address; }
  get port() { return this.#port; }
  get url() { return this.#url; }
  get errorCode() { return this.#errorCode; }
  get errorText() { return this.#errorText; }
}

export { RTCPeerConnectionIceErrorEvent };
