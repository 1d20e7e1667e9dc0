'use strict';
const { createApi } = require('./layer').lib('factory');
const { createFakeEngine } = require('./fake-engine');

function fakeApi(options) {
  const engine = createFakeEngine(options);
  const api = createApi(engine);
  return { engine, api, ...api };
}

function once(target, type) {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

function tick() {
  return new Promise((resolve) => setImmediate(resolve));
}

async function ticks(n = 10) {
  for (let i = 0; i < n; i += 1) await tick();
}

/** Negotiate a pair with trickle ICE through the W3C API. */
async function negotiate(pc1, pc2) {
  pc1.addEventListener('icecandidate', (e) => {
    if (e.candidate) pc2.addIceCandidate(e.candidate).catch(() => {});
  });
  pc2.addEventListener('icecandidate', (e) => {
    if (e.candidate) pc1.addIceCandidate(e.candidate).catch(() => {});
  });
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription);
}

/** Two connected peers and an open channel pair. */
async function connectedChannels(api, init = {}, label = 'chat') {
  const pc1 = new api.RTCPeerConnection();
  const pc2 = new api.RTCPeerConnection();
  const dc1 = pc1.createDataChannel(label, init);
  const remote = new Promise((resolve) => {
    pc2.ondatachannel = (e) => resolve(e.channel);
  });
  const opened = once(dc1, 'open');
  await negotiate(pc1, pc2);
  const dc2 = await remote;
  await opened;
  if (dc2.readyState !== 'open') await once(dc2, 'open');
  return { pc1, pc2, dc1, dc2 };
}

function domName(name) {
  return (err) => err instanceof DOMException && err.constructor === DOMException && err.name === name;
}

module.exports = { fakeApi, once, tick, ticks, negotiate, connectedChannels, domName };
