import { toDictionary, toEnum, toDOMString } from './util.js';

const SDP_TYPES = ['offer', 'pranswer', 'answer', 'rollback'];

/** W3C webrtc-pc §4.6.2 RTCSessionDescription. */
class RTCSessionDescription {
  #type;
  #sdp;

  constructor(descriptionInitDict) {
    if (arguments.length < 1) throw new TypeError('RTCSessionDescription: 1 argument required');
    const dict = toDictionary(descriptionInitDict, 'RTCSessionDescriptionInit');
    const sdp = dict.sdp === undefined ? '' : toDOMString(dict.sdp);
    if (dict.type === undefined) throw new TypeError('RTCSessionDescriptionInit.type is required');
    this.#type = toEnum(dict.type, SDP_TYPES, 'RTCSdpType');
    this.#sdp = sdp;
  }

  get type() { return this.#type; }
  get sdp() { return this.#sdp; }

  toJSON() {
    return { type: this.#type, sdp: this.#sdp };
  }
}

Object.defineProperty(RTCSessionDescription.prototype, Symbol.toStringTag, {
  value: 'RTCSessionDescription', configurable: true,
});

export { RTCSessionDescription, SDP_TYPES };
