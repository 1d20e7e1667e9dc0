import { toDictionary, toDOMString } from './util.js';

let RTCDataChannelRef = null;
function setDataChannelClass(cls) { RTCDataChannelRef = cls; }

/** W3C webrtc-pc §6.2 RTCDataChannelEvent. */
class RTCDataChannelEvent extends Event {
  #channel;

  constructor(type, eventInitDict) {
    if (arguments.length < 2) throw new TypeError('RTCDataChannelEvent: 2 arguments required');
    const dict = toDictionary(eventInitDict, 'RTCDataChannelEventInit');
    if (dict.channel === undefined) throw new TypeError('RTCDataChannelEventInit.channel is required');
    if (!RTCDataChannelRef || !(dict.channel instanceof RTCDataChannelRef)) {
      throw new TypeError('channel is not an RTCDataChannel');
    }
    super(toDOMString(type), dict);
    this.#channel = dict.channel;
  }

  get channel() { return this.#channel; }
}

export { RTCDataChannelEvent, setDataChannelClass };
