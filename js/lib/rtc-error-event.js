import { toDictionary } from './util.js';
import { RTCError } from './rtc-error.js';

/** W3C webrtc-pc §11.2 RTCErrorEvent. */
class RTCErrorEvent extends Event {
  #error;

  constructor(type, eventInitDict) {
    if (arguments.length < 2) throw new TypeError('RTCErrorEvent: 2 arguments required');
    const dict = toDictionary(eventInitDict, 'RTCErrorEventInit');
    if (dict.error === undefined) throw new TypeError('RTCErrorEventInit.error is required');
    if (!(dict.error instanceof RTCError)) throw new TypeError('error is not an RTCError');
    super(type, dict);
    this.#error = dict.error;
  }

  get error() { return this.#error; }
}

export { RTCErrorEvent };
