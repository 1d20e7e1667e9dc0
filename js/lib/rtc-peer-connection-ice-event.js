import { toDictionary, toDOMString } from './util.js';
import { RTCIceCandidate } from './rtc-ice-candidate.js';

/** W3C webrtc-pc §4.8.2 RTCPeerConnectionIceEvent. */
class RTCPeerConnectionIceEvent extends Event {
  #candidate;
  #url;

  constructor(type, eventInitDict = {}) {
    if (arguments.length < 1) throw new TypeError('RTCPeerConnectionIceEvent: 1 argument required');
    const dict = toDictionary(eventInitDict, 'RTCPeerConnectionIceEventInit');
    const candidate = dict.candidate === undefined ? null : dict.candidate;
    if (candidate !== null && !(candidate instanceof RTCIceCandidate)) {
      throw new TypeError('candidate is not an RTCIceCandidate');
    }
    const url = dict.url === undefined || dict.url === null ? null : toDOMString(dict.url);
    super(toDOMString(type), dict);
    this.#candidate = candidate;
    this.#url = url;
  }

  get candidate() { return this.#candidate; }
  get url() { return this.#url; }
}

export { RTCPeerConnectionIceEvent };
