// mediacapture-main §4.3 MediaStreamTrack, and the polyrtc track source behind it.
//
// A track is a view on a source (MediaTrackSource): clones share it. The source carries
// encoded frames (and raw RTP packets) to its consumers: a sender forwarding them to its
// engine, an EncodedMediaSink. Sources are an EncodedMediaSource the application writes to,
// a remote track (the engine's received frames for one transceiver), or the synthetic
// source of getUserMedia.
import {
  INTERNAL, illegalConstructor, defineEventHandlers, fire, toDOMString, toBoolean,
  toDictionary, domException,
} from './util.js';

/** A random UUID (RFC 4122 v4) for track and stream ids; crypto.randomUUID where it exists. */
function randomId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i += 1) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const KINDS = ['audio', 'video'];
const AUDIO_HINTS = ['', 'speech', 'speech-recognition', 'music'];
const VIDEO_HINTS = ['', 'motion', 'detail', 'text'];

/**
 * A source of encoded media for tracks. `hooks`: { keyframeRequested(), started(), stopped(),
 * allTracksEnded() } (all optional): started/stopped when the first consumer subscribes / the
 * last leaves; allTracksEnded when no live track of the source is left (a device stops).
 * A frame is { type: 'key'|'delta', timestamp (µs), rtpTimestamp?, duration?, data, mimeType? }.
 */
class MediaTrackSource {
  #consumers = new Set();
  #rtpWanted = 0;
  #hooks;
  #tracks = new Set();
  kind;
  ended = false;
  /** Settings the source reports through getSettings() (width, height, frameRate ...). */
  settings;
  capabilities;

  constructor(kind, hooks = {}, settings = {}, capabilities = {}) {
    this.kind = kind;
    this.#hooks = hooks;
    this.settings = settings;
    this.capabilities = capabilities;
  }

  /**
   * consumer: { frame?(frame, track?), rtp?(packet), wantsRtp? }. Returns the unsubscribe
   * function. `wantsRtp`: the consumer asks for received RTP packets (a remote track's
   * source then has the engine hand them over: hooks.rtpWanted(true/false)).
   */
  subscribe(consumer) {
    this.#consumers.add(consumer);
    if (this.#consumers.size === 1 && this.#hooks.started) this.#hooks.started();
    if (consumer.wantsRtp && ++this.#rtpWanted === 1 && this.#hooks.rtpWanted) this.#hooks.rtpWanted(true);
    return () => {
      if (!this.#consumers.delete(consumer)) return;
      if (consumer.wantsRtp && --this.#rtpWanted === 0 && this.#hooks.rtpWanted) this.#hooks.rtpWanted(false);
      if (this.#consumers.size === 0 && this.#hooks.stopped) this.#hooks.stopped();
    };
  }

  get consumerCount() { return this.#consumers.size; }

  /**
   * The consumers that want simulcast layers of this source (a sender with several send
   * encodings: `consumer.layers()` gives [{ rid, scale }], null when it wants one stream), for
   * a source that can encode at several sizes (the synthetic one).
   */
  layerConsumers() {
    const out = [];
    for (const c of this.#consumers) {
      const layers = typeof c.layers === 'function' ? c.layers() : null;
      if (Array.isArray(layers) && layers.length > 0) out.push([c, layers]);
    }
    return out;
  }

  /** `only`: deliver to the consumers it accepts (all by default). */
  deliverFrame(frame, only = null) {
    if (this.ended) return;
    for (const c of [...this.#consumers]) {
      if (only && !only(c)) continue;
      if (c.frame) {
        try {
          c.frame(frame);
        } catch (err) {
          queueMicrotask(() => { throw err; });
        }
      }
    }
  }

  deliverRtp(packet) {
    if (this.ended) return;
    for (const c of [...this.#consumers]) {
      if (c.rtp) {
        try {
          c.rtp(packet);
        } catch (err) {
          queueMicrotask(() => { throw err; });
        }
      }
    }
  }

  /** A consumer (a sender whose remote asked, a new sender) wants a keyframe. */
  requestKeyframe() {
    if (!this.ended && this.#hooks.keyframeRequested) this.#hooks.keyframeRequested();
  }

  /** @internal a track of this source was created / ended. */
  _addTrack(track) { this.#tracks.add(track); }
  _removeTrack(track) {
    this.#tracks.delete(track);
    if (this.#tracks.size === 0 && this.#hooks.allTracksEnded) this.#hooks.allTracksEnded();
  }

  /** The source ended (remote side gone, pc closed ...): every live track ends, firing `ended`. */
  end(fireEnded = true) {
    if (this.ended) return;
    for (const track of [...this.#tracks]) track._end(fireEnded);
    this.ended = true;
    this.#consumers.clear();
    if (this.#hooks.stopped) this.#hooks.stopped();
  }
}

/** mediacapture-main §4.3 MediaStreamTrack. Not constructible from script. */
class MediaStreamTrack extends EventTarget {
  #kind;
  #id;
  #label;
  #enabled = true;
  #muted;
  #readyState = 'live';
  #contentHint = '';
  #source;
  #constraints = {};
  #remote;

  /** @internal new MediaStreamTrack(INTERNAL, { kind, source, label?, muted?, id?, remote? }) */
  constructor(token, init) {
    illegalConstructor(token);
    super();
    this.#kind = init.kind;
    this.#source = init.source;
    this.#label = init.label ?? '';
    this.#muted = Boolean(init.muted);
    this.#id = init.id ?? randomId();
    this.#remote = Boolean(init.remote);
    this.#constraints = init.constraints ?? {};
    this.#source._addTrack(this);
  }

  get kind() { return this.#kind; }
  get id() { return this.#id; }
  get label() { return this.#label; }
  get enabled() { return this.#enabled; }
  set enabled(v) { this.#enabled = toBoolean(v); }
  get muted() { return this.#muted; }
  get readyState() { return this.#readyState; }
  get contentHint() { return this.#contentHint; }
  set contentHint(v) {
    const s = toDOMString(v);
    // mediacapture-extensions: an unknown hint (or one of the other kind) is ignored.
    if ((this.#kind === 'audio' ? AUDIO_HINTS : VIDEO_HINTS).includes(s)) this.#contentHint = s;
  }

  /** mediacapture-main: stop() ends the track (no `ended` event) and detaches it from its source. */
  stop() {
    if (this.#readyState === 'ended') return;
    this.#readyState = 'ended';
    this.#source._removeTrack(this);
  }

  clone() {
    const copy = new MediaStreamTrack(INTERNAL, {
      kind: this.#kind, source: this.#source, label: this.#label, muted: this.#muted,
      remote: this.#remote, constraints: this.#constraints,
    });
    copy.enabled = this.#enabled;
    copy.#contentHint = this.#contentHint;
    if (this.#readyState === 'ended') copy.stop();
    return copy;
  }

  getCapabilities() {
    const caps = { ...this.#source.capabilities };
    return caps;
  }

  getConstraints() { return JSON.parse(JSON.stringify(this.#constraints)); }

  getSettings() {
    const s = { ...this.#source.settings };
    if (this.#source.settings.deviceId === undefined) delete s.deviceId;
    return s;
  }

  /**
   * mediacapture-main applyConstraints(): sources that can change (the synthetic one) check
   * and apply them (OverconstrainedError); the others accept what they already satisfy.
   */
  applyConstraints(constraints = {}) {
    try {
      const dict = toDictionary(constraints, 'MediaTrackConstraints');
      if (this.#readyState === 'ended') return Promise.resolve(undefined);
      const apply = this.#source.applyConstraints;
      if (typeof apply === 'function') apply.call(this.#source, dict);
      this.#constraints = JSON.parse(JSON.stringify(dict));
      return Promise.resolve(undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** @internal */
  get _source() { return this.#source; }
  /** @internal a track received from a peer (a receiver's). */
  get _remote() { return this.#remote; }

  /** @internal mediacapture "set a track's muted state". */
  _setMuted(muted) {
    if (this.#muted === muted || this.#readyState === 'ended') return;
    this.#muted = muted;
    fire(this, muted ? 'mute' : 'unmute');
  }

  /** @internal the source ended the track ("track ended by the User Agent"). */
  _end(fireEnded = true) {
    if (this.#readyState === 'ended') return;
    this.#readyState = 'ended';
    this.#source._removeTrack(this);
    // mediacapture-main: a track that ends other than by stop() fires `ended` in a task.
    if (fireEnded) setTimeout(() => fire(this, 'ended'), 0);
  }
}

defineEventHandlers(MediaStreamTrack.prototype, ['mute', 'unmute', 'ended']);
Object.defineProperty(MediaStreamTrack.prototype, Symbol.toStringTag, {
  value: 'MediaStreamTrack', configurable: true,
});

/** A new live track of `kind` on `source`. */
function createTrack(kind, source, init = {}) {
  if (!KINDS.includes(kind)) throw new TypeError(`'${kind}' is not a track kind`);
  return new MediaStreamTrack(INTERNAL, { kind, source, ...init });
}

function assertTrack(track, what) {
  if (!(track instanceof MediaStreamTrack)) throw new TypeError(`${what} is not a MediaStreamTrack`);
  return track;
}

/** Bytes of a BufferSource as a Uint8Array view (no copy), else TypeError. */
function toBytes(data, what) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`${what} is not a BufferSource`);
}

function invalidTrackState(message) { return domException('InvalidStateError', message); }

export {
  MediaStreamTrack, MediaTrackSource, createTrack, assertTrack, randomId, toBytes, KINDS,
  invalidTrackState,
};
