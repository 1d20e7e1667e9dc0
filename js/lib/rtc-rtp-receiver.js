import { illegalConstructor, toDOMString, toNumber } from './util.js';
import { RECEIVERS } from './rtc-rtp-brands.js';
import { copyCapabilities } from './rtc-rtp-parameters.js';
import { statsTimestamp } from './rtc-stats-report.js';

/** webrtc-pc §5.3.1: contributing / synchronization sources seen in the last 10 seconds. */
const SOURCE_LIFETIME_MS = 10000;
/** jitterBufferTarget's range (ms). */
const MAX_JITTER_BUFFER_TARGET = 4000;

/**
 * W3C webrtc-pc §5.3 RTCRtpReceiver, built once per engine. Its track is created with the
 * transceiver (muted until media arrives). The sources come from the engine's `frame` /
 * `rtp` events (ssrc, csrcs, rtpTimestamp, audioLevel where the engine gives them).
 * jitterBufferTarget is validated and kept (the engine's jitter buffer orders frames and
 * waits for repairs on its own terms: the target does not steer it yet).
 */
function makeRTCRtpReceiver(getCapabilities) {
  class RTCRtpReceiver {
    #core;
    #track;
    /** [[AssociatedRemoteMediaStreams]] */
    #streams = [];
    #sources = new Map(); // `${kind}:${id}` -> RTCRtpContributingSource
    #jitterBufferTarget = null;

    constructor(token, core, track) {
      illegalConstructor(token);
      this.#core = core;
      this.#track = track;
      RECEIVERS.add(this);
    }

    static getCapabilities(kind) {
      if (arguments.length < 1) throw new TypeError('getCapabilities: 1 argument required');
      return copyCapabilities(getCapabilities(toDOMString(kind)));
    }

    get track() { return this.#track; }
    get transport() { return this.#core.state.hasTransport ? this.#core.pc.dtlsTransport : null; }

    get jitterBufferTarget() { return this.#jitterBufferTarget; }
    set jitterBufferTarget(v) {
      if (v === null || v === undefined) {
        this.#jitterBufferTarget = null;
        return;
      }
      const n = toNumber(v);
      if (!Number.isFinite(n)) throw new TypeError('jitterBufferTarget is not a finite number');
      if (n < 0 || n > MAX_JITTER_BUFFER_TARGET) throw new RangeError('jitterBufferTarget is outside 0..4000 ms');
      this.#jitterBufferTarget = n;
    }

    getParameters() {
      const s = this.#core.state;
      return {
        headerExtensions: s.headerExtensions.map((h) => ({ uri: h.uri, id: h.id, encrypted: false })),
        rtcp: { reducedSize: s.rtcpReducedSize },
        codecs: s.codecs.map((c) => ({ ...c })),
      };
    }

    getContributingSources() { return this.#list('csrc'); }
    getSynchronizationSources() { return this.#list('ssrc'); }

    #list(kind) {
      const now = statsTimestamp();
      const out = [];
      if (kind === 'ssrc') this.#noteEngineLevels();
      for (const [key, src] of this.#sources) {
        if (now - src.timestamp > SOURCE_LIFETIME_MS) {
          this.#sources.delete(key);
        } else if (key.startsWith(`${kind}:`)) {
          out.push({ ...src });
        }
      }
      return out.sort((a, b) => b.timestamp - a.timestamp);
    }

    getStats() {
      return this.#core.pc.stats({ receiver: this });
    }

    // ---- internal ------------------------------------------------------------------

    get _core() { return this.#core; }
    get _streams() { return this.#streams; }
    _setStreams(streams) { this.#streams = streams; }

    /** The latest RFC 6464 level the engine heard per SSRC (its `audioLevels(handle)`:
     * flat [ssrc, linear level, voice activity 0/1, ...]) onto the sources seen. */
    #noteEngineLevels() {
      const native = this.#core.pc.native;
      if (this.#core.kind !== 'audio' || typeof native.audioLevels !== 'function' || this.#core.pc.closed()) return;
      let flat;
      try {
        flat = native.audioLevels(this.#core.handle);
      } catch (err) {
        return;
      }
      for (let i = 0; i + 2 < flat.length; i += 3) {
        const src = this.#sources.get(`ssrc:${flat[i]}`);
        if (src) {
          src.audioLevel = flat[i + 1];
          src.voiceActivityFlag = flat[i + 2] === 1;
        }
      }
    }

    /** A received frame or packet: note its sources (webrtc-pc §5.3.1). */
    _noteSources(ev) {
      const timestamp = statsTimestamp();
      const rtpTimestamp = typeof ev.rtpTimestamp === 'number' ? ev.rtpTimestamp : 0;
      let ssrc = typeof ev.ssrc === 'number' ? ev.ssrc : null;
      if (ssrc === null && this.#core.state.remoteSsrcs.length > 0) ssrc = this.#core.state.remoteSsrcs[0];
      if (ssrc !== null) {
        const entry = { timestamp, source: ssrc, rtpTimestamp };
        if (this.#core.kind === 'audio' && typeof ev.audioLevel === 'number') entry.audioLevel = ev.audioLevel;
        this.#sources.delete(`ssrc:${ssrc}`);
        this.#sources.set(`ssrc:${ssrc}`, entry);
      }
      if (Array.isArray(ev.csrcs)) {
        for (const csrc of ev.csrcs) {
          this.#sources.delete(`csrc:${csrc}`);
          this.#sources.set(`csrc:${csrc}`, { timestamp, source: csrc, rtpTimestamp });
        }
      }
    }
  }

  Object.defineProperty(RTCRtpReceiver.prototype, Symbol.toStringTag, { value: 'RTCRtpReceiver', configurable: true });
  return RTCRtpReceiver;
}

export { makeRTCRtpReceiver, MAX_JITTER_BUFFER_TARGET };
