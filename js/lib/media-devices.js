// mediacapture-main §9 MediaDevices.getUserMedia() on polyrtc's synthetic devices: one
// "camera" and one "microphone" whose tracks carry encoded frames made by the engine.
//
// THE HOOK: `engine.createSyntheticSource(kind, settings)` gives a stateful generator
// ({ nextFrame() -> { data, keyframe }, requestKeyframe() }: the addon's VP8 test pattern and
// Opus tone). Else `engine.synthFrame(kind, index, info)` makes the index-th encoded frame of a
// synthetic source (info: { keyframe: a keyframe is wanted, width, height, frameRate,
// sampleRate, channelCount }) and returns a Uint8Array (then a keyframe when one was asked
// for or index is 0, else delta; audio frames are all 'key') or { type | keyframe, data }.
// An engine without it has the devices (when it has codecs for the kind) and tracks that
// carry no frames.
import { defineEventHandlers, domException, toDictionary, toNumber } from './util.js';
import { MediaTrackSource, createTrack, KINDS } from './media-stream-track.js';
import { MediaStream } from './media-stream.js';

/** mediacapture-main §10 OverconstrainedError (a DOMException named OverconstrainedError). */
class OverconstrainedError extends DOMException {
  #constraint;

  constructor(constraint, message = '') {
    if (arguments.length < 1) throw new TypeError('OverconstrainedError: 1 argument required');
    super(String(message), 'OverconstrainedError');
    this.#constraint = String(constraint);
  }

  get constraint() { return this.#constraint; }
}

/** What the synthetic devices can do (getCapabilities()) and their defaults (getSettings()). */
const RANGES = {
  video: { width: [1, 3840, 640], height: [1, 2160, 480], frameRate: [1, 60, 30] },
  audio: { sampleRate: [8000, 48000, 48000], channelCount: [1, 2, 1] },
};
/** An audio frame every 20 ms (an Opus packet's usual duration). */
const AUDIO_FRAME_MS = 20;
const DEVICE_IDS = { audio: 'polyrtc-synthetic-audio', video: 'polyrtc-synthetic-video' };
const LABELS = { audio: 'polyrtc synthetic microphone', video: 'polyrtc synthetic camera' };

/**
 * One numeric constraint (a bare number is `ideal` in getUserMedia) against [lo, hi]:
 * the value to use, or OverconstrainedError when no value satisfies it.
 */
/** The audio level (linear, 0..1) the synthetic tone's frames carry: about -20 dBov. */
const SYNTHETIC_TONE_LEVEL = 0.1;

function settle(name, c, [lo, hi, def]) {
  if (c === undefined) return def;
  let d;
  if (typeof c === 'number') d = { ideal: c };
  else if (c !== null && typeof c === 'object') d = c;
  else throw new TypeError(`${name}: a constraint is a number or a ConstrainULongRange / ConstrainDoubleRange`);
  const num = (v, what) => {
    if (v === undefined) return undefined;
    const n = toNumber(v);
    if (!Number.isFinite(n)) throw new TypeError(`${name}.${what} is not a finite number`);
    return n;
  };
  const exact = num(d.exact, 'exact');
  const min = num(d.min, 'min');
  const max = num(d.max, 'max');
  const ideal = num(d.ideal, 'ideal');
  const over = () => new OverconstrainedError(name, `no synthetic device satisfies ${name}`);
  const low = Math.max(lo, min ?? lo);
  const high = Math.min(hi, max ?? hi);
  if (low > high) throw over();
  if (exact !== undefined) {
    if (exact < low || exact > high) throw over();
    return exact;
  }
  return Math.min(Math.max(ideal ?? def, low), high);
}

function resolveSettings(kind, constraints) {
  const out = { deviceId: DEVICE_IDS[kind], groupId: 'polyrtc-synthetic' };
  const c = constraints === true ? {} : toDictionary(constraints, 'MediaTrackConstraints');
  if (c.deviceId !== undefined && typeof c.deviceId === 'object' && c.deviceId !== null && c.deviceId.exact !== undefined) {
    const wanted = [].concat(c.deviceId.exact).map(String);
    if (!wanted.includes(DEVICE_IDS[kind])) throw new OverconstrainedError('deviceId', 'no device with that deviceId');
  }
  for (const [name, range] of Object.entries(RANGES[kind])) {
    const v = settle(name, c[name], range);
    out[name] = name === 'frameRate' ? v : Math.round(v);
  }
  return out;
}

function capabilitiesOf(kind) {
  const caps = { deviceId: DEVICE_IDS[kind], groupId: 'polyrtc-synthetic' };
  for (const [name, [lo, hi]] of Object.entries(RANGES[kind])) caps[name] = { min: lo, max: hi };
  return caps;
}

/**
 * What an engine's synthetic source is made with: the track's settings, video sizes rounded
 * up to the test pattern's 16-pixel macroblocks (16..4096), a whole frame rate.
 */
function engineSettings(settings) {
  const up16 = (v) => Math.min(4096, Math.max(16, Math.ceil(v / 16) * 16));
  return {
    ...settings,
    width: up16(settings.width ?? 640),
    height: up16(settings.height ?? 480),
    frameRate: Math.round(settings.frameRate ?? 30),
  };
}

/**
 * A synthetic source: frames from the engine's synthFrame hook, paced while it has consumers.
 * A sender with several send encodings (simulcast) gets one frame per layer each tick, encoded
 * at the layer's size (scaleResolutionDownBy) by an encoder of its own and tagged with its
 * rid, as a browser's camera track is encoded per layer; other consumers get the full size.
 */
function syntheticSource(engine, kind, settings) {
  let timer = null;
  let index = 0;
  const interval = () => (kind === 'video' ? 1000 / settings.frameRate : AUDIO_FRAME_MS);
  /** One encoder per scale (1: the track's own size): { generator, keyWanted }. */
  const encoders = new Map();
  const encoder = (scale) => {
    if (!encoders.has(scale)) encoders.set(scale, { generator: undefined, keyWanted: true });
    return encoders.get(scale);
  };
  /** One encoded frame at `scale`, or null. */
  const encode = (scale) => {
    const e = encoder(scale);
    const scaled = scale === 1 ? settings : {
      ...settings, width: Math.round((settings.width ?? 640) / scale), height: Math.round((settings.height ?? 480) / scale),
    };
    const info = { keyframe: e.keyWanted || index === 0, ...scaled };
    let out;
    try {
      if (typeof engine.createSyntheticSource === 'function') {
        // A stateful source (inter frames predict from the last one).
        e.generator ??= engine.createSyntheticSource(kind, engineSettings(scaled));
        if (!e.generator) return null;
        if (e.keyWanted) e.generator.requestKeyframe();
        out = e.generator.nextFrame();
      } else if (typeof engine.synthFrame === 'function') {
        out = engine.synthFrame(kind, index, info);
      } else {
        return null;
      }
    } catch (err) {
      return null; // a frame the engine could not make
    }
    let type;
    let data;
    if (out instanceof Uint8Array) {
      data = out;
      type = kind === 'audio' || info.keyframe ? 'key' : 'delta';
    } else if (out && typeof out === 'object' && out.data instanceof Uint8Array) {
      data = out.data;
      type = out.type === 'key' || out.keyframe === true ? 'key' : 'delta';
    } else {
      return null;
    }
    if (type === 'key') e.keyWanted = false;
    return { type, data };
  };
  const tick = (source) => {
    const timestamp = Math.round(index * interval() * 1000);
    const layered = kind === 'video' ? source.layerConsumers() : [];
    const frames = new Map();
    const at = (scale) => {
      if (!frames.has(scale)) frames.set(scale, encode(scale));
      return frames.get(scale);
    };
    if (source.consumerCount > layered.length) {
      const f = at(1);
      const wantLayers = new Set(layered.map(([c]) => c));
      if (f) {
        const frame = { type: f.type, timestamp, data: f.data, mimeType: null };
        // The synthetic Opus tone's RFC 6464 level (a constant: it is one steady sine).
        if (kind === 'audio') frame.audioLevel = SYNTHETIC_TONE_LEVEL;
        source.deliverFrame(frame, (c) => !wantLayers.has(c));
      }
    }
    for (const [consumer, layers] of layered) {
      for (const { rid, scale } of layers) {
        const f = at(Number.isFinite(scale) && scale >= 1 ? scale : 1);
        if (f) source.deliverFrame({ type: f.type, timestamp, data: f.data, mimeType: null, rid }, (c) => c === consumer);
      }
    }
    index += 1;
  };
  const start = (source) => {
    if (timer !== null || (typeof engine.synthFrame !== 'function' && typeof engine.createSyntheticSource !== 'function')) return;
    // Runs only while something consumes the track (a sender, a sink).
    timer = setInterval(() => tick(source), interval());
  };
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const source = new MediaTrackSource(kind, {
    started: () => start(source),
    stopped: stop,
    keyframeRequested: () => { for (const e of encoders.values()) e.keyWanted = true; },
    // mediacapture-main: a device whose tracks are all stopped stops.
    allTracksEnded: () => source.end(false),
  }, settings, capabilitiesOf(kind));
  source.applyConstraints = function applyConstraints(dict) {
    const next = resolveSettings(kind, dict);
    Object.assign(settings, next);
    encoders.clear(); // new sizes: new encoders, from a keyframe
    if (timer !== null) {
      stop();
      start(source);
    }
  };
  return source;
}

/** mediacapture-main §9.2 MediaDevices (navigator.mediaDevices), on the engine's synthetic devices. */
function makeMediaDevices(engine, getCapabilities) {
  const hasDevice = (kind) => typeof engine.synthFrame === 'function' || getCapabilities(kind) !== null;

  class MediaDevices extends EventTarget {
    enumerateDevices() {
      return Promise.resolve(KINDS.filter(hasDevice).map((kind) => ({
        deviceId: DEVICE_IDS[kind], kind: `${kind}input`, label: LABELS[kind], groupId: 'polyrtc-synthetic',
      })));
    }

    getSupportedConstraints() {
      return { deviceId: true, groupId: true, width: true, height: true, frameRate: true, sampleRate: true, channelCount: true };
    }

    /**
     * {audio, video}: neither requested ({} included) -> TypeError; a requested kind without
     * a device -> NotFoundError; a constraint no device meets -> OverconstrainedError.
     */
    getUserMedia(constraints = {}) {
      try {
        const dict = toDictionary(constraints, 'MediaStreamConstraints');
        const requested = KINDS.filter((k) => dict[k] !== undefined && dict[k] !== false);
        for (const k of requested) {
          if (dict[k] !== true && (typeof dict[k] !== 'object' || dict[k] === null)) {
            throw new TypeError(`${k}: a boolean or MediaTrackConstraints`);
          }
        }
        if (requested.length === 0) throw new TypeError('getUserMedia: neither audio nor video is requested');
        for (const k of requested) {
          if (!hasDevice(k)) throw domException('NotFoundError', `no ${k} device`);
        }
        const tracks = requested.map((kind) => {
          const settings = resolveSettings(kind, dict[kind]);
          const source = syntheticSource(engine, kind, settings);
          return createTrack(kind, source, {
            label: LABELS[kind], constraints: dict[kind] === true ? {} : JSON.parse(JSON.stringify(dict[kind])),
          });
        });
        return Promise.resolve(new MediaStream(tracks));
      } catch (err) {
        return Promise.reject(err);
      }
    }
  }

  defineEventHandlers(MediaDevices.prototype, ['devicechange']);
  Object.defineProperty(MediaDevices.prototype, Symbol.toStringTag, { value: 'MediaDevices', configurable: true });
  return new MediaDevices();
}

export { makeMediaDevices, OverconstrainedError, RANGES, AUDIO_FRAME_MS };
