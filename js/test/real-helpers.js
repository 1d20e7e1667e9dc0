'use strict';
// Helpers for the tests of the REAL package (js/node.js on the native addon, as `require` gets it). Not a test
// file itself (test-all runs only *.test.js).
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');

const ADDON = path.join(__dirname, '..', '..', 'napi', 'polyrtc.node');
const haveAddon = fs.existsSync(ADDON);

/** The `skip` option for node:test, with a loud message once per file when the addon is missing. */
function skipUnlessAddon(file) {
  if (haveAddon) return false;
  const bar = '!'.repeat(78);
  console.error(`\n${bar}\n!! ${path.basename(file)} SKIPPED: ${ADDON} is missing.\n`
    + `!! Build the addon (node napi/build.js) to run the end-to-end tests of the real engine.\n${bar}\n`);
  return 'napi/polyrtc.node is missing (build the addon)';
}

function loadApi() {
  process.env.POLYRTC_INCLUDE_LOOPBACK = '1';
  return haveAddon ? require('./layer').nodeApi() : null;
}

function once(target, type) {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

function withTimeout(promise, what, ms = 15000) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

function until(predicate, what, ms = 15000) {
  return withTimeout(new Promise((resolve) => {
    const poll = () => (predicate() ? resolve() : setTimeout(poll, 5));
    poll();
  }), what, ms);
}

/** A UDP port that was free on 127.0.0.1 a moment ago. */
async function freePort() {
  const s = require('dgram').createSocket('udp4');
  await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function messages(channel) {
  const out = [];
  channel.addEventListener('message', (e) => out.push(e.data));
  return out;
}

/** Trickled offer/answer; `tamper(sdp)` may rewrite the answer before the offerer applies it. */
async function negotiate(offerer, answerer, { tamper = null } = {}) {
  offerer.addEventListener('icecandidate', (e) => {
    if (e.candidate) answerer.addIceCandidate(e.candidate).catch(() => {});
  });
  answerer.addEventListener('icecandidate', (e) => {
    if (e.candidate) offerer.addIceCandidate(e.candidate).catch(() => {});
  });
  await offerer.setLocalDescription();
  await answerer.setRemoteDescription(offerer.localDescription);
  await answerer.setLocalDescription();
  const answer = answerer.localDescription;
  await offerer.setRemoteDescription(tamper ? { type: answer.type, sdp: tamper(answer.sdp) } : answer);
}

/** Two connected peers with an open channel pair ('chat'); each side's config may differ. */
async function openPair(api, { init = {}, config = {}, offererConfig = config, answererConfig = config } = {}) {
  const offerer = new api.RTCPeerConnection(offererConfig);
  const answerer = new api.RTCPeerConnection(answererConfig);
  const dc1 = offerer.createDataChannel('chat', init);
  const remote = new Promise((resolve) => { answerer.ondatachannel = (e) => resolve(e.channel); });
  const opened = once(dc1, 'open');
  await withTimeout(negotiate(offerer, answerer), 'negotiation');
  const dc2 = await withTimeout(remote, 'datachannel event');
  await withTimeout(opened, 'open');
  if (dc2.readyState !== 'open') await withTimeout(once(dc2, 'open'), 'remote open');
  return { offerer, answerer, dc1, dc2, close: () => { offerer.close(); answerer.close(); } };
}

/** Flip one hex digit of the first a=fingerprint line (a valid but wrong fingerprint). */
function tamperFingerprint(sdp) {
  const out = sdp.replace(/^(a=fingerprint:\S+ )([0-9A-Fa-f])/m,
    (_, head, digit) => head + (digit.toUpperCase() === 'A' ? 'B' : 'A'));
  assert.notStrictEqual(out, sdp, 'no a=fingerprint line to tamper with');
  return out;
}

module.exports = {
  haveAddon, skipUnlessAddon, loadApi, once, withTimeout, until, sleep, freePort, messages, negotiate,
  openPair, tamperFingerprint,
};
