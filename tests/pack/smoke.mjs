// Runs inside a fresh directory where the packed tarball was installed.
// Usage: node smoke.mjs [--load-only]
// Checks that require('polyrtc') and import('polyrtc') both load, with the same names, and
// polyrtc/relay both ways; then (unless --load-only) creates two peers (one from each),
// opens a data channel, exchanges a message each way, closes, exits 0.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const loadOnly = process.argv.includes('--load-only');
const watchdog = setTimeout(() => {
  console.error('smoke: timed out');
  process.exit(1);
}, 30000);

const cjs = require('polyrtc');
const esm = await import('polyrtc');
for (const [how, m] of [['require', cjs], ['import', esm]]) {
  if (typeof m.RTCPeerConnection !== 'function') {
    console.error(`smoke: ${how}('polyrtc') has no RTCPeerConnection; keys: ${Object.keys(m).join(',')}`);
    process.exit(1);
  }
}
const cjsNames = Object.keys(cjs).sort().join(',');
const esmNames = Object.keys(esm).filter((k) => k !== 'default').sort().join(',');
if (cjsNames !== esmNames) {
  console.error(`smoke: require and import export different names: ${cjsNames} / ${esmNames}`);
  process.exit(1);
}
const relayCjs = require('polyrtc/relay');
const relayEsm = await import('polyrtc/relay');
if (typeof relayCjs.startRelay !== 'function' || typeof relayEsm.startRelay !== 'function') {
  console.error('smoke: polyrtc/relay has no startRelay');
  process.exit(1);
}
console.log('smoke: require and import both load polyrtc and polyrtc/relay');
if (loadOnly) {
  clearTimeout(watchdog);
  process.exit(0);
}

// The relay binary shipped in the package starts from there (no cargo, no target/).
delete process.env.POLYRTC_RELAY_BIN;
const relay = await relayEsm.startRelay({ users: { smoke: 'test' }, allowPrivate: true });
if (!/^ws:\/\/127\.0\.0\.1:\d+$/.test(relay.wsUrl) || (await relay.stats()).allocations !== 0) {
  console.error(`smoke: unexpected relay ${relay.wsUrl}`);
  process.exit(1);
}
if (!relay.process.spawnargs[0].includes('node_modules/polyrtc/relay/polyrtc-relay')) {
  console.error(`smoke: the relay ran from ${relay.process.spawnargs[0]}, not the package`);
  process.exit(1);
}
console.log(`smoke: relay from the package listened on ${relay.wsUrl}`);

// The WASM build works inside the installed package too: its .wasm read from disk, a
// certificate made in the core, an allocation on the package's relay over a WebSocket (the
// bundled `ws` on Node 20) giving a relayed candidate.
const wasm = await import('polyrtc/wasm');
const wcert = await wasm.RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' });
const wpc = new wasm.RTCPeerConnection({
  certificates: [wcert],
  relay: { urls: relay.wsUrl, username: 'smoke', credential: 'test' },
});
const relayed = new Promise((resolve) => {
  wpc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) resolve(e.candidate.candidate); };
});
wpc.createDataChannel('wasm');
await wpc.setLocalDescription();
const wcand = await relayed;
wpc.close();
if (!/^a=fingerprint:sha-256 /m.test(wpc.localDescription.sdp) || !/ typ relay /.test(wcand)) {
  console.error(`smoke: the WASM build made no usable offer (${wcand})`);
  process.exit(1);
}
console.log('smoke: polyrtc/wasm loads and makes an offer with a relayed candidate');
await relay.close();

// One peer from each copy of the layer (import: js/node.js, require: the generated
// js/cjs/node.cjs), so both load the addon from inside the installed package, and objects of
// one copy (descriptions, candidates) are accepted by the other.
const a = new esm.RTCPeerConnection();
const b = new cjs.RTCPeerConnection();
a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate).catch(() => {});
b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate).catch(() => {});

const dc = a.createDataChannel('smoke');
const got = new Promise((resolve) => {
  b.ondatachannel = (e) => {
    const ch = e.channel;
    ch.onmessage = (m) => {
      ch.send(`pong:${m.data}`);
    };
  };
  dc.onmessage = (m) => resolve(m.data);
});
dc.onopen = () => dc.send('ping');

await a.setLocalDescription(await a.createOffer());
await b.setRemoteDescription(a.localDescription);
await b.setLocalDescription(await b.createAnswer());
await a.setRemoteDescription(b.localDescription);

const reply = await got;
if (reply !== 'pong:ping') {
  console.error(`smoke: unexpected reply ${JSON.stringify(reply)}`);
  process.exit(1);
}
console.log(`smoke: channel open, got ${JSON.stringify(reply)}`);
dc.close();
a.close();
b.close();
clearTimeout(watchdog);
process.exit(0);
