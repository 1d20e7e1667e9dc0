'use strict';
// Helpers shared by the benchmark: connect two in-process peers of one W3C implementation
// over loopback, and wait with a timeout.
const { keepCandidate, filterDescription } = require('../tests/interop/lib/candidates');

/** Per-implementation RTCConfiguration extras needed to use loopback here. */
function implConfig(spec) {
  // libjuice (node-datachannel) gathers no loopback candidate unless bound to it.
  if (/node-datachannel/.test(spec)) return { bindAddress: '127.0.0.1' };
  return {};
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

function waitOpen(dc) {
  if (dc.readyState === 'open') return Promise.resolve(dc);
  return new Promise((resolve, reject) => {
    dc.addEventListener('open', () => resolve(dc), { once: true });
    dc.addEventListener('close', () => reject(new Error('channel closed before open')), { once: true });
  });
}

/**
 * Two peers in this process with one open data channel between them: the offerer `a` from
 * `impl` with `config`, the answerer `b` from `answerer.impl` with `answerer.config` (by
 * default the same implementation and configuration).
 */
async function connectPair(impl, config = {}, label = 'bench', answerer = { impl, config }) {
  const a = new impl.RTCPeerConnection({ ...config });
  const b = new answerer.impl.RTCPeerConnection({ ...answerer.config });
  const close = () => {
    try {
      a.close();
    } catch {}
    try {
      b.close();
    } catch {}
  };
  try {
    const link = (from, to) => {
      const state = { ready: false, queue: [] };
      from.onicecandidate = (e) => {
        const c = e && e.candidate;
        if (!c || !c.candidate || !keepCandidate(c.candidate)) return;
        const init = { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
        if (state.ready) to.addIceCandidate(init).catch(() => {});
        else state.queue.push(init);
      };
      state.flush = () => {
        state.ready = true;
        for (const c of state.queue.splice(0)) to.addIceCandidate(c).catch(() => {});
      };
      return state;
    };
    const ab = link(a, b);
    const ba = link(b, a);
    const dcA = a.createDataChannel(label);
    const openA = waitOpen(dcA);
    const dcB = new Promise((resolve) => {
      b.ondatachannel = (e) => resolve(waitOpen(e.channel));
    });
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(filterDescription(a.localDescription));
    ab.flush();
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(filterDescription(b.localDescription));
    ba.flush();
    const [chanA, chanB] = await withTimeout(Promise.all([openA, dcB]), 20000, 'data channel open');
    return { a, b, dcA: chanA, dcB: chanB, close };
  } catch (e) {
    close();
    throw e;
  }
}

module.exports = { implConfig, withTimeout, connectPair };
