import { toDictionary, toDOMString } from './util.js';
import { MediaStreamTrack } from './media-stream-track.js';

/** mediacapture-main §4.5 MediaStreamTrackEvent (addtrack / removetrack on a MediaStream). */
class MediaStreamTrackEvent extends Event {
  #track;

  constructor(type, eventInitDict) {
    if (arguments.length < 2) throw new TypeError('MediaStreamTrackEvent: 2 arguments required');
    const dict = toDictionary(eventInitDict, 'MediaStreamTrackEventInit');
    if (dict.track === undefined) throw new TypeError('MediaStreamTrackEventInit.track is required');
    if (!(dict.track instanceof MediaStreamTrack)) throw new TypeError('track is not a MediaStreamTrack');
    super(toDOMString(type), dict);
    this.#track = dict.track;
  }

  get track() { return this.#track; }
}

export { MediaStreamTrackEvent };
