import { illegalConstructor } from './util.js';

/**
 * W3C webrtc-pc §8.3 RTCStatsReport: a read-only maplike<DOMString, object>. The stats
 * dictionaries (webrtc-stats) are computed by the JS layer from what it observes.
 */
class RTCStatsReport {
  #map;

  constructor(token, entries) {
    illegalConstructor(token);
    this.#map = new Map(entries);
  }

  get size() { return this.#map.size; }
  get(id) { return this.#map.get(String(id)); }
  has(id) { return this.#map.has(String(id)); }
  keys() { return this.#map.keys(); }
  values() { return this.#map.values(); }
  entries() { return this.#map.entries(); }
  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') throw new TypeError('forEach: callback is not a function');
    for (const [k, v] of this.#map) callback.call(thisArg, v, k, this);
  }
  [Symbol.iterator]() { return this.#map.entries(); }
}

Object.defineProperty(RTCStatsReport.prototype, Symbol.toStringTag, {
  value: 'RTCStatsReport', configurable: true,
});

/** DOMHighResTimeStamp relative to the Unix epoch (webrtc-stats §7 "timestamp"). */
function statsTimestamp() {
  if (typeof performance !== 'undefined' && typeof performance.now === 'function') {
    return performance.timeOrigin + performance.now();
  }
  return Date.now();
}

export { RTCStatsReport, statsTimestamp };
