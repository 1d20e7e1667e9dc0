import {
  illegalConstructor, domException, callEngine, toEnum, toSequence,
} from './util.js';
import { TRANSCEIVERS } from './rtc-rtp-brands.js';
import { DIRECTIONS, convertCodec, codecMatch, isNonMediaCodec } from './rtc-rtp-parameters.js';

/**
 * W3C webrtc-pc §5.4 RTCRtpTransceiver. Its state lives in `core.state` (shared with its
 * sender and receiver, and updated by the peer connection from the engine's getTransceivers()
 * after every applied description): mid, [[Direction]], [[CurrentDirection]], [[Stopping]],
 * [[Stopped]], the negotiated codecs and header extensions.
 */
class RTCRtpTransceiver {
  #core;

  constructor(token, core) {
    illegalConstructor(token);
    this.#core = core;
    TRANSCEIVERS.add(this);
  }

  get mid() { return this.#core.state.mid; }
  get sender() { return this.#core.sender; }
  get receiver() { return this.#core.receiver; }

  get direction() {
    return this.#core.state.stopping ? 'stopped' : this.#core.state.direction;
  }

  set direction(value) {
    const d = toEnum(value, DIRECTIONS, 'RTCRtpTransceiverDirection');
    const core = this.#core;
    if (core.pc.closed()) throw domException('InvalidStateError', 'the RTCPeerConnection is closed');
    if (core.state.stopping) throw domException('InvalidStateError', 'the transceiver is stopping');
    if (d === 'stopped') throw new TypeError("direction cannot be set to 'stopped': call stop()");
    if (d === core.state.direction) return;
    callEngine(() => core.pc.native.setTransceiverDirection(core.handle, d));
    core.state.direction = d;
    core.pc.updateNegotiationNeeded();
  }

  get currentDirection() {
    return this.#core.state.stopped ? 'stopped' : this.#core.state.currentDirection;
  }

  /** webrtc-pc stop(): "stop sending and receiving" now, [[Stopped]] once negotiated. */
  stop() {
    const core = this.#core;
    if (core.pc.closed()) throw domException('InvalidStateError', 'the RTCPeerConnection is closed');
    if (core.state.stopping) return;
    callEngine(() => core.pc.native.stopTransceiver(core.handle));
    core.pc.stopSendingAndReceiving(core, false);
    core.pc.updateNegotiationNeeded();
  }

  /** webrtc-pc setCodecPreferences(): [] resets; unknown codecs, RTX/RED/FEC only: InvalidModificationError. */
  setCodecPreferences(codecs) {
    if (arguments.length < 1) throw new TypeError('setCodecPreferences: 1 argument required');
    const list = toSequence(codecs, 'codecs', (c) => convertCodec(c));
    const core = this.#core;
    if (list.length === 0) {
      callEngine(() => core.pc.native.setCodecPreferences(core.handle, []));
      core.state.codecPreferences = [];
      return;
    }
    const unique = [];
    for (const c of list) if (!unique.some((u) => codecMatch(u, c))) unique.push(c);
    const caps = core.pc.capabilities(core.kind);
    for (const c of unique) {
      if (!caps.some((k) => codecMatch(k, c))) {
        throw domException('InvalidModificationError', `${c.mimeType} is not in the capabilities for ${core.kind}`);
      }
    }
    if (unique.every(isNonMediaCodec)) {
      throw domException('InvalidModificationError', 'the codecs are only RTX, RED or FEC');
    }
    callEngine(() => core.pc.native.setCodecPreferences(core.handle, unique));
    core.state.codecPreferences = unique;
  }

  /** @internal */
  get _core() { return this.#core; }
}

Object.defineProperty(RTCRtpTransceiver.prototype, Symbol.toStringTag, { value: 'RTCRtpTransceiver', configurable: true });

export { RTCRtpTransceiver };
