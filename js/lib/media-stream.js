import { defineEventHandlers, toDOMString } from './util.js';
import { MediaStreamTrack, randomId, assertTrack } from './media-stream-track.js';
import { MediaStreamTrackEvent } from './media-stream-track-event.js';

/**
 * mediacapture-main §4.2 MediaStream: a set of tracks. `new MediaStream()`,
 * `new MediaStream(stream)` (its tracks), `new MediaStream(tracks)`.
 * addTrack()/removeTrack() by script fire no event; a peer connection adding or removing a
 * remote track (webrtc-pc "set the associated remote streams") fires addtrack / removetrack.
 */
class MediaStream extends EventTarget {
  #id;
  #tracks = new Set();

  constructor(streamOrTracks = undefined) {
    super();
    this.#id = randomId();
    if (streamOrTracks === undefined) return;
    let tracks;
    if (streamOrTracks instanceof MediaStream) tracks = streamOrTracks.getTracks();
    else if (streamOrTracks !== null && typeof streamOrTracks === 'object'
      && typeof streamOrTracks[Symbol.iterator] === 'function') tracks = [...streamOrTracks];
    else throw new TypeError('MediaStream: the argument is neither a MediaStream nor a sequence of tracks');
    for (const t of tracks) this.#tracks.add(assertTrack(t, 'MediaStream: an element'));
  }

  get id() { return this.#id; }
  get active() { return [...this.#tracks].some((t) => t.readyState !== 'ended'); }

  getTracks() { return [...this.#tracks]; }
  getAudioTracks() { return [...this.#tracks].filter((t) => t.kind === 'audio'); }
  getVideoTracks() { return [...this.#tracks].filter((t) => t.kind === 'video'); }
  getTrackById(trackId) {
    const id = toDOMString(trackId);
    for (const t of this.#tracks) if (t.id === id) return t;
    return null;
  }

  addTrack(track) {
    if (arguments.length < 1) throw new TypeError('addTrack: 1 argument required');
    this.#tracks.add(assertTrack(track, 'addTrack: track'));
  }

  removeTrack(track) {
    if (arguments.length < 1) throw new TypeError('removeTrack: 1 argument required');
    this.#tracks.delete(assertTrack(track, 'removeTrack: track'));
  }

  /** A new stream (new id) with a clone of every track. */
  clone() {
    return new MediaStream(this.getTracks().map((t) => t.clone()));
  }

  /** @internal webrtc-pc "add the track to stream" (fires addtrack). */
  _addRemoteTrack(track) {
    if (this.#tracks.has(track)) return;
    this.#tracks.add(track);
    this.dispatchEvent(new MediaStreamTrackEvent('addtrack', { track }));
  }

  /** @internal webrtc-pc "remove the track from stream" (fires removetrack). */
  _removeRemoteTrack(track) {
    if (!this.#tracks.delete(track)) return;
    this.dispatchEvent(new MediaStreamTrackEvent('removetrack', { track }));
  }

  /** @internal a remote stream's id is the a=msid one. */
  _setId(id) { this.#id = id; }
}

defineEventHandlers(MediaStream.prototype, ['addtrack', 'removetrack']);
Object.defineProperty(MediaStream.prototype, Symbol.toStringTag, { value: 'MediaStream', configurable: true });

/** A MediaStream whose id is `id` (webrtc-pc: a remote stream takes the msid's id). */
function streamWithId(id) {
  const s = new MediaStream();
  s._setId(id);
  return s;
}

export { MediaStream, MediaStreamTrack, streamWithId };
