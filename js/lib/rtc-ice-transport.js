import { illegalConstructor, defineEventHandlers, fire } from './util.js';

/** Most remote candidates getRemoteCandidates() lists (the engine bounds what it uses). */
const MAX_LISTED_REMOTE_CANDIDATES = 256;

/** W3C webrtc-pc §5.6 RTCIceTransport (read-only view of the engine's ICE agent). */
class RTCIceTransport extends EventTarget {
  #state = 'new';
  #gatheringState = 'new';
  #role = 'unknown';
  #localCandidates = [];
  #remoteCandidates = [];
  /** { local: RTCIceCandidate, remote: RTCIceCandidate } once ICE selected a pair. */
  #selectedPair = null;
  /** RTCIceParameters { usernameFragment, password } of the local / remote description. */
  #localParameters = null;
  #remoteParameters = null;

  constructor(token) {
    illegalConstructor(token);
    super();
  }

  get role() { return this.#role; }
  get component() { return 'rtp'; }
  get state() { return this.#state; }
  get gatheringState() { return this.#gatheringState; }
  getLocalCandidates() { return this.#localCandidates.slice(); }
  getRemoteCandidates() { return this.#remoteCandidates.slice(); }
  getSelectedCandidatePair() {
    return this.#selectedPair ? { local: this.#selectedPair.local, remote: this.#selectedPair.remote } : null;
  }
  /** The RTCIceParameters of the applied local description (null before one). */
  getLocalParameters() { return this.#localParameters && { ...this.#localParameters }; }
  /** The RTCIceParameters of the applied remote description (null before one). */
  getRemoteParameters() { return this.#remoteParameters && { ...this.#remoteParameters }; }

  /** @internal the ICE parameters of the descriptions now in effect (after SLD / SRD / rollback). */
  _setParameters(local, remote) {
    this.#localParameters = local;
    this.#remoteParameters = remote;
  }

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

  /** @internal */
  _addLocalCandidate(candidate) { this.#localCandidates.push(candidate); }

  /** @internal a remote candidate the engine accepted (duplicates are listed once). */
  _addRemoteCandidate(candidate) {
    if (this.#remoteCandidates.length >= MAX_LISTED_REMOTE_CANDIDATES) return;
    if (this.#remoteCandidates.some((c) => c.candidate === candidate.candidate)) return;
    this.#remoteCandidates.push(candidate);
  }

  /**
   * @internal the engine's selected pair changed (`make` turns a candidate attribute into
   * an RTCIceCandidate). Fires selectedcandidatepairchange; returns whether it changed.
   */
  _setSelectedPair(pair, make) {
    const same = (pair === null && this.#selectedPair === null)
      || (pair !== null && this.#selectedPair !== null
        && pair.local === this.#selectedPair.local.candidate
        && pair.remote === this.#selectedPair.remote.candidate);
    if (same) return false;
    const local = pair && make(pair.local);
    const remote = pair && make(pair.remote);
    this.#selectedPair = local && remote ? { local, remote } : null;
    if (this.#selectedPair) fire(this, 'selectedcandidatepairchange');
    return this.#selectedPair !== null;
  }
}

defineEventHandlers(RTCIceTransport.prototype, [
  'statechange', 'gatheringstatechange', 'selectedcandidatepairchange',
]);

export { RTCIceTransport, MAX_LISTED_REMOTE_CANDIDATES };
