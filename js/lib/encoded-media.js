// polyrtc's nonstandard encoded-media surface (documented in js/README.md):
//
//   const source = new EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
//   pc.addTrack(source.track);                        // or addTransceiver / replaceTrack
//   source.onkeyframerequest = () => encoder.forceKeyframe();
//   source.writeFrame({ type: 'key', timestamp: 0, data });   // or a WebCodecs EncodedVideoChunk
//
//   const sink = new EncodedMediaSink(event.track);   // a remote track (or any track)
//   sink.onframe = (e) => e.data ...;  for await (const frame of sink) ...
//
// A remote track given to another connection's addTrack() / replaceTrack() is forwarded frame
// by frame (the sender writes each received frame to its engine; see rtc-rtp-sender.js).
import { defineEventHandlers, domException, toDictionary, toDOMString, toEnum, toNumber } from './util.js';
import { MediaTrackSource, createTrack, assertTrack, toBytes, KINDS } from './media-stream-track.js';

const FRAME_TYPES = ['key', 'delta'];
/**
 * Frames an EncodedMediaSink's async iterator holds for a consumer that is behind; past it
 * the oldest delta frame is dropped (the oldest frame when all are keyframes), counted in
 * `framesDropped`.
 */
const MAX_QUEUED_FRAMES = 64;

const queueTask = (f) => setTimeout(f, 0);

function copyBytes(data, what) {
  const view = toBytes(data, what);
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy;
}

/** The bytes of a frame: `data`, or a WebCodecs chunk's copyTo(). */
function chunkBytes(chunk) {
  if (chunk.data !== undefined) return copyBytes(chunk.data, 'writeFrame: data');
  if (typeof chunk.copyTo === 'function' && typeof chunk.byteLength === 'number') {
    const out = new Uint8Array(chunk.byteLength);
    chunk.copyTo(out);
    return out;
  }
  throw new TypeError('writeFrame: the frame has neither data nor copyTo()');
}

/** A track fed by the application with encoded frames or RTP packets. */
class EncodedMediaSource extends EventTarget {
  #kind;
  #mimeType;
  #source;
  #track;
  #requestQueued = false;
  #framesWritten = 0;

  constructor(init) {
    super();
    if (arguments.length < 1) throw new TypeError('EncodedMediaSource: 1 argument required');
    const dict = toDictionary(init, 'EncodedMediaSourceInit');
    if (dict.kind === undefined) throw new TypeError('EncodedMediaSourceInit.kind is required');
    this.#kind = toEnum(dict.kind, KINDS, 'MediaStreamTrack kind');
    this.#mimeType = dict.mimeType === undefined ? null : toDOMString(dict.mimeType);
    this.#source = new MediaTrackSource(this.#kind, {
      // Coalesced: one event per task however many senders asked.
      keyframeRequested: () => {
        if (this.#requestQueued) return;
        this.#requestQueued = true;
        queueTask(() => {
          this.#requestQueued = false;
          if (!this.#source.ended) this.dispatchEvent(new Event('keyframerequest'));
        });
      },
    });
    this.#track = createTrack(this.#kind, this.#source, { label: 'EncodedMediaSource' });
  }

  get kind() { return this.#kind; }
  get mimeType() { return this.#mimeType; }
  get track() { return this.#track; }
  get framesWritten() { return this.#framesWritten; }

  /**
   * One encoded frame, shaped like WebCodecs' EncodedVideoChunk / EncodedAudioChunk:
   * { type: 'key'|'delta', timestamp (µs), duration?, data } or such a chunk itself; an audio
   * frame may carry `audioLevel` (linear 0..1), sent in the RFC 6464 header extension.
   */
  writeFrame(chunk) {
    if (arguments.length < 1) throw new TypeError('writeFrame: 1 argument required');
    if (chunk === null || typeof chunk !== 'object') throw new TypeError('writeFrame: the frame is not an object');
    const type = toEnum(chunk.type, FRAME_TYPES, 'EncodedChunkType');
    const timestamp = toNumber(chunk.timestamp);
    if (!Number.isFinite(timestamp)) throw new TypeError('writeFrame: timestamp is not a finite number');
    let duration = null;
    if (chunk.duration !== undefined && chunk.duration !== null) {
      duration = toNumber(chunk.duration);
      if (!Number.isFinite(duration)) throw new TypeError('writeFrame: duration is not a finite number');
    }
    // Simulcast: the layer (a sender's send encoding rid) this frame is an encoding for.
    const rid = chunk.rid === undefined || chunk.rid === null ? null : toDOMString(chunk.rid);
    let audioLevel = null;
    if (chunk.audioLevel !== undefined && chunk.audioLevel !== null) {
      audioLevel = toNumber(chunk.audioLevel);
      if (!(audioLevel >= 0 && audioLevel <= 1)) throw new RangeError('writeFrame: audioLevel is outside 0..1');
    }
    const data = chunkBytes(chunk);
    if (this.#source.ended) throw domException('InvalidStateError', 'the source is closed');
    this.#framesWritten += 1;
    const frame = { type, timestamp, duration, data, mimeType: this.#mimeType };
    if (rid !== null) frame.rid = rid;
    if (audioLevel !== null && this.#kind === 'audio') frame.audioLevel = audioLevel;
    this.#source.deliverFrame(frame);
  }

  /** One RTP packet, sent as is (the sender's SSRC replaces the packet's). */
  writeRtp(packet) {
    if (arguments.length < 1) throw new TypeError('writeRtp: 1 argument required');
    const data = copyBytes(packet, 'writeRtp: packet');
    if (this.#source.ended) throw domException('InvalidStateError', 'the source is closed');
    this.#source.deliverRtp(data);
  }

  /** Ends the source: its tracks end (`ended`), senders stop sending it. */
  close() {
    this.#source.end(true);
  }
}

defineEventHandlers(EncodedMediaSource.prototype, ['keyframerequest']);

/**
 * A sink's `frame` event (`frame`: { type, timestamp, rtpTimestamp, data, mimeType,
 * duration? }, also as members; the frame's type is `frameType`, Event's `type` being the
 * event's) and `rtp` event (`data`: the packet).
 */
class EncodedMediaEvent extends Event {
  #init;

  constructor(type, init = {}) {
    const dict = toDictionary(init, 'EncodedMediaEventInit');
    super(toDOMString(type), dict);
    this.#init = dict;
  }

  get frame() { return this.#init.frame ?? null; }
  get frameType() { return this.#init.frame ? this.#init.frame.type : null; }
  get timestamp() { return this.#init.frame ? this.#init.frame.timestamp : null; }
  get rtpTimestamp() { return this.#init.frame ? this.#init.frame.rtpTimestamp : null; }
  get mimeType() { return this.#init.frame ? this.#init.frame.mimeType : null; }
  /** The simulcast layer (RTP stream id) of a received frame, null without one. */
  get rid() { return this.#init.frame ? (this.#init.frame.rid ?? null) : null; }
  get data() { return this.#init.frame ? this.#init.frame.data : (this.#init.data ?? null); }
}

/**
 * The receive side: `frame` events for every frame of the track's source, `rtp` events for
 * raw packets, and an async iterator of frames (bounded queue, MAX_QUEUED_FRAMES).
 */
class EncodedMediaSink extends EventTarget {
  #track;
  #unsubscribe;
  #queue = [];
  #waiters = [];
  #iterating = false;
  #closed = false;
  #framesDropped = 0;
  #rid = null;

  /**
   * `options.rid`: only the frames of that simulcast layer (RTP stream id) of a remote
   * track; by default every frame the track's source delivers. `options.rtp`: also an `rtp`
   * event for every RTP packet a remote track receives (decrypted, as it arrived).
   */
  constructor(track, options = undefined) {
    super();
    let wantsRtp = false;
    if (arguments.length < 1) throw new TypeError('EncodedMediaSink: 1 argument required');
    this.#track = assertTrack(track, 'EncodedMediaSink: track');
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object') throw new TypeError('EncodedMediaSink: options must be an object');
      if (options.rid !== undefined && options.rid !== null) this.#rid = String(options.rid);
      wantsRtp = Boolean(options.rtp);
    }
    this.#unsubscribe = track._source.subscribe({
      frame: (f) => this.#frame(f),
      rtp: (p) => {
        if (!this.#closed) this.dispatchEvent(new EncodedMediaEvent('rtp', { data: p }));
      },
      wantsRtp,
    });
    track.addEventListener('ended', () => this.close());
    if (track.readyState === 'ended') this.close();
  }

  get track() { return this.#track; }
  get framesDropped() { return this.#framesDropped; }
  get closed() { return this.#closed; }

  /** Ask the source for a keyframe (a remote track: a PLI to its sender). */
  requestKeyframe() {
    if (!this.#closed) this.#track._source.requestKeyframe();
  }

  get rid() { return this.#rid; }

  #frame(f) {
    if (this.#closed || this.#track.readyState === 'ended') return;
    if (this.#rid !== null && (f.rid ?? null) !== this.#rid) return;
    const frame = {
      type: f.type, timestamp: f.timestamp, rtpTimestamp: f.rtpTimestamp ?? null,
      data: f.data, mimeType: f.mimeType ?? null, rid: f.rid ?? null,
    };
    if (f.duration !== undefined && f.duration !== null) frame.duration = f.duration;
    this.dispatchEvent(new EncodedMediaEvent('frame', { frame }));
    if (!this.#iterating) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter({ value: frame, done: false });
      return;
    }
    this.#queue.push(frame);
    if (this.#queue.length > MAX_QUEUED_FRAMES) {
      const i = this.#queue.findIndex((q) => q.type === 'delta');
      this.#queue.splice(i >= 0 ? i : 0, 1);
      this.#framesDropped += 1;
    }
  }

  /** Stops receiving; an iterator ends once it has taken what was queued. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#unsubscribe) this.#unsubscribe();
    for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    this.#iterating = true;
    return {
      next: () => {
        if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift(), done: false });
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: () => {
        this.close();
        this.#queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() { return this; },
    };
  }
}

defineEventHandlers(EncodedMediaSink.prototype, ['frame', 'rtp']);

export { EncodedMediaSource, EncodedMediaSink, EncodedMediaEvent, MAX_QUEUED_FRAMES };
