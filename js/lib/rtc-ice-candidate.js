import { toDictionary, toDOMString, enforceRange } from './util.js';

const CANDIDATE_TYPES = ['host', 'srflx', 'prflx', 'relay'];
const PROTOCOLS = ['udp', 'tcp'];
const TCP_TYPES = ['active', 'passive', 'so'];

/**
 * Parse an RFC 8839 §5.1 candidate attribute ("candidate:" prefix optional).
 * Returns null when it is not a well-formed candidate.
 */
function parseCandidate(str) {
  let s = str.trim();
  if (s.startsWith('a=')) s = s.slice(2);
  if (s.startsWith('candidate:')) s = s.slice('candidate:'.length);
  const f = s.split(/\s+/);
  if (f.length < 8 || f[6] !== 'typ') return null;
  const [foundation, componentStr, transport, priorityStr, address, portStr, , type] = f;
  if (!/^[A-Za-z0-9+/]{1,32}$/.test(foundation)) return null;
  if (!/^\d{1,3}$/.test(componentStr) || !/^\d{1,10}$/.test(priorityStr)) return null;
  if (!/^\d{1,5}$/.test(portStr)) return null;
  const protocol = transport.toLowerCase();
  const port = Number(portStr);
  const priority = Number(priorityStr);
  const componentId = Number(componentStr);
  if (port > 65535 || priority > 4294967295 || componentId < 1 || componentId > 256) return null;
  const out = {
    foundation,
    component: componentId === 1 ? 'rtp' : componentId === 2 ? 'rtcp' : null,
    priority,
    address,
    protocol: PROTOCOLS.includes(protocol) ? protocol : null,
    port,
    type: CANDIDATE_TYPES.includes(type) ? type : null,
    tcpType: null,
    relatedAddress: null,
    relatedPort: null,
    usernameFragment: null,
  };
  for (let i = 8; i + 1 < f.length; i += 2) {
    const key = f[i];
    const value = f[i + 1];
    if (key === 'raddr') out.relatedAddress = value;
    else if (key === 'rport' && /^\d{1,5}$/.test(value) && Number(value) <= 65535) {
      out.relatedPort = Number(value);
    } else if (key === 'tcptype' && TCP_TYPES.includes(value)) out.tcpType = value;
    else if (key === 'ufrag') out.usernameFragment = value;
  }
  return out;
}

/** W3C webrtc-pc §4.8.1 RTCIceCandidate. */
class RTCIceCandidate {
  #candidate;
  #sdpMid;
  #sdpMLineIndex;
  #usernameFragment;
  #parsed;

  constructor(candidateInitDict = {}) {
    const dict = toDictionary(candidateInitDict, 'RTCIceCandidateInit');
    // WebIDL dictionary members in lexicographic order.
    const candidate = dict.candidate === undefined ? '' : toDOMString(dict.candidate);
    const sdpMLineIndex = dict.sdpMLineIndex === undefined || dict.sdpMLineIndex === null
      ? null : enforceRange(dict.sdpMLineIndex, 0, 65535, 'sdpMLineIndex');
    const sdpMid = dict.sdpMid === undefined || dict.sdpMid === null
      ? null : toDOMString(dict.sdpMid);
    const usernameFragment = dict.usernameFragment === undefined || dict.usernameFragment === null
      ? null : toDOMString(dict.usernameFragment);
    if (sdpMid === null && sdpMLineIndex === null) {
      throw new TypeError('sdpMid and sdpMLineIndex are both null');
    }
    this.#candidate = candidate;
    this.#sdpMid = sdpMid;
    this.#sdpMLineIndex = sdpMLineIndex;
    this.#parsed = candidate === '' ? null : parseCandidate(candidate);
    this.#usernameFragment = usernameFragment !== null
      ? usernameFragment : (this.#parsed && this.#parsed.usernameFragment);
  }

  get candidate() { return this.#candidate; }
  get sdpMid() { return this.#sdpMid; }
  get sdpMLineIndex() { return this.#sdpMLineIndex; }
  get foundation() { return this.#parsed ? this.#parsed.foundation : null; }
  get component() { return this.#parsed ? this.#parsed.component : null; }
  get priority() { return this.#parsed ? this.#parsed.priority : null; }
  get address() { return this.#parsed ? this.#parsed.address : null; }
  get protocol() { return this.#parsed ? this.#parsed.protocol : null; }
  get port() { return this.#parsed ? this.#parsed.port : null; }
  get type() { return this.#parsed ? this.#parsed.type : null; }
  get tcpType() { return this.#parsed ? this.#parsed.tcpType : null; }
  get relatedAddress() { return this.#parsed ? this.#parsed.relatedAddress : null; }
  get relatedPort() { return this.#parsed ? this.#parsed.relatedPort : null; }
  get usernameFragment() { return this.#usernameFragment ?? null; }
  get relayProtocol() { return null; }
  get url() { return null; }

  toJSON() {
    return {
      candidate: this.#candidate,
      sdpMid: this.#sdpMid,
      sdpMLineIndex: this.#sdpMLineIndex,
      usernameFragment: this.#usernameFragment ?? null,
    };
  }
}

Object.defineProperty(RTCIceCandidate.prototype, Symbol.toStringTag, {
  value: 'RTCIceCandidate', configurable: true,
});

export { RTCIceCandidate, parseCandidate };
