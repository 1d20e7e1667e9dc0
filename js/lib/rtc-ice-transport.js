'use strict';
const { illegalConstructor, defineEventHandlers, fire } = require('./util');

/** W3C webrtc-pc §5.6 RTCIceTransport (read-only view of the engine's ICE agent). */
class RTCIceTransport extends EventTarget {
  #state = 'new';
  #gatheringState = 'new';
  #role = 'unknown';

  constructor(token) {
    illegalConstructor(token);
    super();
  }

  get role() { return this.#role; }
  get component() { return 'rtp'; }
  get state() { return this.#state; }
  get gatheringState() { return this.#gatheringState; }
  getLocalCandidates() { return []; }
  getRemoteCandidates() { return []; }
  getSelectedCandidatePair() { return null; }
  getLocalParameters() { return null; }
  getRemoteParameters() { return null; }

  /** @internal */
  _setState(state, dispatch = true) {
    if (this.#state === state) return false;
    this.#state = state;
    if (dispatch) fire(this, 'statechange');
    return true;
  }

  /** @internal */
  _setGatheringState(state, dispatch = true) {
    if (this.#gatheringState === state) return false;
    this.#gatheringState = state;
    if (dispatch) fire(this, 'gatheringstatechange');
    return true;
  }

  /** @internal */
  _setRole(role) { this.#role = role; }
}

defineEventHandlers(RTCIceTransport.prototype, [
  'statechange', 'gatheringstatechange', 'selectedcandidatepairchange',
]);

module.exports = { RTCIceTransport };
