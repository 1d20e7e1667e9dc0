import { toDictionary, toDOMString, toSequence } from './util.js';
import { MediaStreamTrack } from './media-stream-track.js';
import { MediaStream } from './media-stream.js';
import { isReceiver, isTransceiver } from './rtc-rtp-brands.js';

/** W3C webrtc-pc §5.7 RTCTrackEvent: receiver, track and transceiver are required members. */
class RTCTrackEvent extends Event {
  #receiver;
  #track;
  #streams;
  #transceiver;

  constructor(type, eventInitDict) {
    if (arguments.length < 2) throw new TypeError('RTCTrackEvent: 2 arguments required');
    const t = toDOMString(type);
    const dict = toDictionary(eventInitDict, 'RTCTrackEventInit');
    // Members in lexicographic order, as WebIDL converts them.
    if (dict.receiver === undefined) throw new TypeError('RTCTrackEventInit.receiver is required');
    if (!isReceiver(dict.receiver)) throw new TypeError('receiver is not an RTCRtpReceiver');
    const streams = dict.streams === undefined ? [] : toSequence(dict.streams, 'streams', (s) => {
      if (!(s instanceof MediaStream)) throw new TypeError('streams: an element is not a MediaStream');
      return s;
    });
    if (dict.track === undefined) throw new TypeError('RTCTrackEventInit.track is required');
    if (!(dict.track instanceof MediaStreamTrack)) throw new TypeError('track is not a MediaStreamTrack');
    if (dict.transceiver === undefined) throw new TypeError('RTCTrackEventInit.transceiver is required');
    if (!isTransceiver(dict.transceiver)) throw new TypeError('transceiver is not an RTCRtpTransceiver');
    super(t, dict);
    this.#receiver = dict.receiver;
    this.#track = dict.track;
    this.#streams = Object.freeze(streams);
    this.#transceiver = dict.transceiver;
  }

  get receiver() { return this.#receiver; }
  get track() { return this.#track; }
  /** [SameObject] FrozenArray<MediaStream>. */
  get streams() { return this.#streams; }
  get transceiver() { return this.#transceiver; }
}

export { RTCTrackEvent };
