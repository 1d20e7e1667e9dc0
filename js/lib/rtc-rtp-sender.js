import {
  INTERNAL, illegalConstructor, domException, callEngine, toDictionary, toDOMString, toSequence,
} from './util.js';
import { MediaStreamTrack } from './media-stream-track.js';
import { MediaStream } from './media-stream.js';
import { RTCDTMFSender } from './rtc-dtmf-sender.js';
import { SENDERS } from './rtc-rtp-brands.js';
import {
  sends, checkEncodingRanges, convertEncodings, copyEncoding, engineEncodings, copyCapabilities,
} from './rtc-rtp-parameters.js';

/** While the engine cannot send yet, a keyframe is asked of the source at most this often. */
const KEYFRAME_RETRY_MS = 500;

/**
 * W3C webrtc-pc §5.2 RTCRtpSender, built once per engine (static getCapabilities asks it).
 * `core` is the transceiver's shared state (see peer-media.js): { pc, handle, kind, state,
 * transceiver, sender, receiver }.
 *
 * Frames: the sender consumes its track's source (an EncodedMediaSource, a remote track being
 * forwarded, the synthetic source) and hands each frame to the engine (`writeFrame`). A new
 * track is sent from its next keyframe on (a keyframe is asked for at once); a keyframe
 * request of the remote (`keyframerequest`) goes to the source. A disabled or ended track
 * sends nothing (the engine has no encoder to make black frames or silence).
 */
function makeRTCRtpSender(getCapabilities) {
  class RTCRtpSender {
    #core;
    #track;
    #streamIds;
    #encodings;
    #lastReturned = null;
    #transactionCounter = 0;
    #dtmf = null;
    #unsubscribe = null;
    /** The layers (encoding rids, '' for the first) sending since a keyframe: the others
     * wait for one. */
    #flowing = new Set();
    /** The simulcast layer forwarded when the track is a remote simulcast one. */
    #forwardRid = null;
    /** When a keyframe was last asked of the source because the engine could not send yet. */
    #lastKeyframeAsk = 0;
    /** Frames not sent while waiting for a keyframe (a new track or sender). */
    #framesDiscarded = 0;

    constructor(token, core, track, streamIds, encodings) {
      illegalConstructor(token);
      this.#core = core;
      this.#track = track;
      this.#streamIds = streamIds;
      this.#encodings = encodings;
      SENDERS.add(this);
      if (core.kind === 'audio') {
        this.#dtmf = new RTCDTMFSender(INTERNAL, {
          stopping: () => core.state.stopping,
          currentDirection: () => core.state.currentDirection,
          canInsertDTMF: () => !core.state.stopping && sends(core.state.currentDirection ?? '')
            && core.state.codecs.some((c) => String(c.mimeType).toLowerCase() === 'audio/telephone-event'),
          sendTone: (code, duration, volume) => this.#sendTone(code, duration, volume),
        });
      }
    }

    static getCapabilities(kind) {
      if (arguments.length < 1) throw new TypeError('getCapabilities: 1 argument required');
      return copyCapabilities(getCapabilities(toDOMString(kind)));
    }

    get track() { return this.#track; }
    get transport() { return this.#core.state.hasTransport ? this.#core.pc.dtlsTransport : null; }
    get dtmf() { return this.#dtmf; }

    /** webrtc-pc replaceTrack(): kind check, then chained; no renegotiation. */
    replaceTrack(withTrack) {
      try {
        if (arguments.length < 1) throw new TypeError('replaceTrack: 1 argument required');
        if (withTrack !== null && !(withTrack instanceof MediaStreamTrack)) {
          throw new TypeError('replaceTrack: withTrack is not a MediaStreamTrack');
        }
        const core = this.#core;
        if (withTrack !== null && withTrack.kind !== core.kind) {
          throw new TypeError(`replaceTrack: a ${withTrack.kind} track on a ${core.kind} transceiver`);
        }
        return core.pc.chain(() => {
          if (core.state.stopping) throw domException('InvalidStateError', 'the transceiver is stopping');
          this._setTrack(withTrack);
          return undefined;
        });
      } catch (err) {
        return Promise.reject(err);
      }
    }

    setStreams(...streams) {
      const list = streams.map((s) => {
        if (!(s instanceof MediaStream)) throw new TypeError('setStreams: an argument is not a MediaStream');
        return s;
      });
      const core = this.#core;
      if (core.pc.closed()) throw domException('InvalidStateError', 'the RTCPeerConnection is closed');
      if (core.state.stopping) throw domException('InvalidStateError', 'the transceiver is stopping');
      const ids = [...new Set(list.map((s) => s.id))];
      callEngine(() => core.pc.native.setSenderStreams(core.handle, ids));
      this.#streamIds = ids;
      core.pc.updateNegotiationNeeded();
    }

    /** webrtc-pc getParameters(): a new transactionId each call, kept until the task ends. */
    getParameters() {
      const core = this.#core;
      this.#transactionCounter += 1;
      const params = {
        transactionId: `${core.handle}-${this.#transactionCounter}`,
        encodings: this.#encodings.map(copyEncoding),
        headerExtensions: core.state.headerExtensions.map((h) => ({ uri: h.uri, id: h.id, encrypted: false })),
        rtcp: { reducedSize: core.state.rtcpReducedSize },
        codecs: core.state.codecs.map((c) => ({ ...c })),
      };
      if (core.state.cname) params.rtcp.cname = core.state.cname;
      this.#lastReturned = JSON.parse(JSON.stringify(params));
      const last = this.#lastReturned;
      // "queue a task that sets [[LastReturnedParameters]] to null".
      setTimeout(() => {
        if (this.#lastReturned === last) this.#lastReturned = null;
      }, 0);
      return params;
    }

    /** webrtc-pc setParameters(): the [[LastReturnedParameters]] rules. */
    setParameters(parameters, setParameterOptions = {}) {
      try {
        if (arguments.length < 1) throw new TypeError('setParameters: 1 argument required');
        const d = toDictionary(parameters, 'RTCRtpSendParameters');
        toDictionary(setParameterOptions, 'RTCSetParameterOptions');
        if (d.codecs === undefined) throw new TypeError('RTCRtpParameters.codecs is required');
        const codecs = toSequence(d.codecs, 'codecs', (c) => toDictionary(c, 'RTCRtpCodecParameters'));
        if (d.encodings === undefined) throw new TypeError('RTCRtpSendParameters.encodings is required');
        const encodings = convertEncodings(d.encodings, 'encodings');
        if (d.headerExtensions === undefined) throw new TypeError('RTCRtpParameters.headerExtensions is required');
        const headerExtensions = toSequence(d.headerExtensions, 'headerExtensions',
          (h) => toDictionary(h, 'RTCRtpHeaderExtensionParameters'));
        if (d.rtcp === undefined) throw new TypeError('RTCRtpParameters.rtcp is required');
        const rtcp = toDictionary(d.rtcp, 'RTCRtcpParameters');
        if (d.transactionId === undefined) throw new TypeError('RTCRtpSendParameters.transactionId is required');
        const transactionId = toDOMString(d.transactionId);
        const core = this.#core;
        if (core.state.stopping) throw domException('InvalidStateError', 'the transceiver is stopping');
        const last = this.#lastReturned;
        if (last === null) {
          throw domException('InvalidStateError', 'getParameters() was not called in this task');
        }
        const modified = (what) => domException('InvalidModificationError', `${what} cannot be changed`);
        if (transactionId !== last.transactionId) throw modified('transactionId');
        if (encodings.length !== last.encodings.length) throw modified('the number of encodings');
        encodings.forEach((e, i) => {
          if ((e.rid ?? null) !== (last.encodings[i].rid ?? null)) throw modified('rid');
        });
        const sameList = (a, b, keys) => a.length === b.length
          && a.every((x, i) => keys.every((k) => (x[k] ?? null) === (b[i][k] ?? null)));
        if (!sameList(headerExtensions, last.headerExtensions, ['uri', 'id', 'encrypted'])) throw modified('headerExtensions');
        if ((rtcp.reducedSize ?? last.rtcp.reducedSize) !== last.rtcp.reducedSize
          || (rtcp.cname ?? last.rtcp.cname) !== last.rtcp.cname) throw modified('rtcp');
        if (!sameList(codecs, last.codecs, ['payloadType', 'mimeType', 'clockRate', 'channels', 'sdpFmtpLine'])) {
          throw modified('codecs');
        }
        checkEncodingRanges(encodings, core.kind);
        for (const e of encodings) {
          if (e.codec !== undefined && !core.state.codecs.some((c) => c.mimeType.toLowerCase() === e.codec.mimeType.toLowerCase()
            && c.clockRate === e.codec.clockRate)) {
            throw domException('InvalidModificationError', `codec ${e.codec.mimeType} is not negotiated`);
          }
        }
        if (typeof core.pc.native.setSendEncodings === 'function') {
          callEngine(() => core.pc.native.setSendEncodings(core.handle, engineEncodings(encodings)));
        }
        return new Promise((resolve) => {
          setTimeout(() => {
            this.#lastReturned = null;
            this.#encodings = encodings;
            resolve(undefined);
          }, 0);
        });
      } catch (err) {
        return Promise.reject(err);
      }
    }

    /** webrtc-pc getStats(): the pc's report, "stats selection algorithm" for this sender. */
    getStats() {
      return this.#core.pc.stats({ sender: this });
    }

    // ---- internal ------------------------------------------------------------------

    get _core() { return this.#core; }
    get _streamIds() { return this.#streamIds; }
    get _encodings() { return this.#encodings; }
    get _framesDiscarded() { return this.#framesDiscarded; }

    /** [[SenderTrack]] = track: tell the engine, consume the new track's source. */
    _setTrack(track) {
      const core = this.#core;
      if (typeof core.pc.native.setSenderTrack === 'function') {
        callEngine(() => core.pc.native.setSenderTrack(core.handle, track ? track.id : null));
      }
      this.#track = track;
      this._attach();
    }

    _setStreamIds(ids) { this.#streamIds = ids; }

    /** addTrack() reusing this sender: the engine was told already. */
    _setTrackLocal(track) {
      this.#track = track;
      this._attach();
    }

    /** Subscribe to the track's source (again): frames flow from the next keyframe. */
    _attach() {
      this._detach();
      const track = this.#track;
      if (!track || this.#core.state.stopping) return;
      this.#forwardRid = null;
      const source = track._source;
      this.#flowing.clear();
      this.#unsubscribe = source.subscribe({
        frame: (frame) => this.#sendFrame(track, frame),
        rtp: (packet) => this.#sendRtp(track, packet),
        // Simulcast: a source that encodes per layer (the synthetic one) makes one frame per
        // active encoding, at its scaleResolutionDownBy.
        layers: () => (this.#encodings.length > 1
          ? this.#encodings.filter((e) => e.active !== false).map((e) => ({ rid: e.rid, scale: e.scaleResolutionDownBy ?? 1 }))
          : null),
      });
      source.requestKeyframe();
    }

    _detach() {
      if (this.#unsubscribe) this.#unsubscribe();
      this.#unsubscribe = null;
    }

    /** Negotiation made this sender send: start from a keyframe of the source. */
    _sendingStarted() {
      this.#flowing.clear();
      if (this.#track && this.#track.readyState === 'live') this.#track._source.requestKeyframe();
    }

    /** The remote asked for a keyframe of what this sender sends (PLI / FIR). */
    _keyframeRequested() {
      if (this.#track && this.#track.readyState === 'live') this.#track._source.requestKeyframe();
    }

    /** stop(), close(): no more sending; DTMF stops. */
    _stop() {
      this._detach();
      if (this.#dtmf) this.#dtmf._stop();
    }

    #canSend(track) {
      const core = this.#core;
      return track === this.#track && track.readyState === 'live' && track.enabled
        && !core.state.stopping && !core.pc.closed();
    }

    #sendFrame(track, frame) {
      if (!this.#canSend(track)) return;
      // A forwarded remote track's DTMF event (its RFC 4733 payload): sent on as a tone.
      if (String(frame.mimeType).toLowerCase() === 'audio/telephone-event') {
        const d = frame.data;
        if (d && d.length >= 4) this.#sendTone(d[0], ((d[2] << 8) | d[3]) / 48, d[1] & 0x3f);
        return;
      }
      let rid = null;
      if (frame.rid) {
        const layer = this.#encodings.length > 1 ? this.#encodings.find((e) => e.rid === frame.rid) : undefined;
        if (layer) {
          // Simulcast in, simulcast out: each layer goes on the encoding of its rid (an
          // inactive one sends nothing).
          if (layer.active === false) return;
          rid = frame.rid;
        } else {
          // A simulcast track on a sender without its layers: one layer goes out (the
          // first that delivers a keyframe; the others are encodings of the same picture).
          if (this.#forwardRid === null && frame.type === 'key') this.#forwardRid = frame.rid;
          if (frame.rid !== this.#forwardRid) return;
        }
      }
      const flow = rid ?? '';
      const key = frame.type === 'key';
      if (!sends(this.#core.state.currentDirection ?? '')) {
        // Not negotiated to send yet: nothing goes out, and the first frame once it is
        // must be a keyframe (asked for then, see _sendingStarted).
        this.#flowing.clear();
        return;
      }
      if (!this.#flowing.has(flow) && !key && track.kind === 'video') {
        this.#framesDiscarded += 1;
        this.#askKeyframe(track);
        return;
      }
      let sent = false;
      try {
        // The frame's codec (a source's mimeType, a forwarded track's) picks the negotiated
        // codec it goes out as; without one, the first negotiated.
        const f = { keyframe: key, timestamp: frame.timestamp, data: frame.data };
        if (frame.mimeType) f.mimeType = frame.mimeType;
        if (rid !== null) f.rid = rid;
        if (typeof frame.audioLevel === 'number') f.audioLevel = frame.audioLevel;
        sent = this.#core.pc.native.writeFrame(this.#core.handle, f) !== false;
      } catch (err) {
        // not sendable: dropped, like a network would
      }
      if (sent) {
        this.#flowing.add(flow);
      } else if (track.kind === 'video') {
        // The transport is not up yet (no keys, no path): the first frame that goes out
        // must still be a keyframe.
        this.#flowing.delete(flow);
        this.#askKeyframe(track);
      }
    }

    /**
     * The engine's send streams after a description (`sendLayers`): webrtc-pc keeps the
     * encodings the answer accepted (all but the first go when it refused simulcast), and
     * a remote offer asking for simulcast gives the encodings its rids.
     */
    _syncLayers(layers) {
      if (!Array.isArray(layers) || layers.length === 0) return;
      const rids = layers.map((l) => (typeof l.rid === 'string' ? l.rid : null));
      const enc = this.#encodings;
      if (rids.length === 1 && rids[0] === null && enc.length > 1) {
        // The layers a rolled-back remote offer gave are gone: one encoding, no rid.
        const first = { ...enc[0] };
        delete first.rid;
        this.#encodings = [first];
      } else if (rids.length < enc.length) {
        const kept = enc.filter((e) => e.rid !== undefined && rids.includes(e.rid));
        this.#encodings = kept.length === rids.length ? kept : [enc[0]];
      } else if (rids.length > enc.length && rids.every((r) => r !== null)) {
        this.#encodings = rids.map((rid, i) => ({ ...(enc[i] ?? enc[0]), rid }));
      }
    }

    /** Waiting for a keyframe: ask the source again, at most every KEYFRAME_RETRY_MS (the
     * first answer may have come while the transport was not up, or been lost). */
    #askKeyframe(track) {
      const now = Date.now();
      if (now - this.#lastKeyframeAsk >= KEYFRAME_RETRY_MS) {
        this.#lastKeyframeAsk = now;
        track._source.requestKeyframe();
      }
    }

    /** One DTMF tone to the engine (RFC 4733 telephone-event packets; 48 kHz, Opus's clock). */
    #sendTone(code, duration, volume) {
      const native = this.#core.pc.native;
      if (typeof native.insertDtmf !== 'function' || this.#core.pc.closed()) return;
      try {
        native.insertDtmf(this.#core.handle, code, Math.max(1, Math.round(duration)), volume);
      } catch (err) {
        // not sendable now: dropped, like a network would
      }
    }

    #sendRtp(track, packet) {
      if (!this.#canSend(track)) return;
      try {
        this.#core.pc.native.writeRtp(this.#core.handle, packet);
      } catch (err) {
        // dropped
      }
    }
  }

  Object.defineProperty(RTCRtpSender.prototype, Symbol.toStringTag, { value: 'RTCRtpSender', configurable: true });
  return RTCRtpSender;
}

export { makeRTCRtpSender };
