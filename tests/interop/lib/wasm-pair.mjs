// A WASM peer (js/wasm.js) ↔ an addon peer (js/node.js) in this process, through the relay
// named by argv: `node wasm-pair.mjs <wsUrl> <username> <credential>`. Prints one line
// `RESULT {json}` (the WASM side's candidates, the echoes) and exits 0, or exits 1.
process.env.POLYRTC_INCLUDE_LOOPBACK = '1';
const [wsUrl, username, credential] = process.argv.slice(2);
const wasm = await import('../../../js/wasm.js');
const native = await import('../../../js/node.js');
const watchdog = setTimeout(() => {
  console.error('wasm-pair: timed out');
  process.exit(1);
}, 30000);
const w = new wasm.RTCPeerConnection({ relay: { urls: wsUrl, username, credential } });
const n = new native.RTCPeerConnection();
const candidates = [];
const errors = [];
w.onicecandidateerror = (e) => errors.push(`${e.errorCode} ${e.errorText}`);
w.onicecandidate = (e) => {
  if (e.candidate && e.candidate.candidate) {
    candidates.push(e.candidate.candidate);
    n.addIceCandidate(e.candidate).catch(() => {});
  }
};
n.onicecandidate = (e) => { if (e.candidate) w.addIceCandidate(e.candidate).catch(() => {}); };
n.ondatachannel = ({ channel }) => {
  channel.binaryType = 'arraybuffer';
  channel.onmessage = ({ data }) => channel.send(typeof data === 'string' ? `echo: ${data}` : data);
};
const dc = w.createDataChannel('pair');
dc.binaryType = 'arraybuffer';
const big = new Uint8Array(256 * 1024).map((_, i) => (i * 11 + 3) & 0xff);
const got = [];
const done = new Promise((resolve) => {
  dc.onopen = () => {
    dc.send('hello');
    dc.send(big);
  };
  dc.onmessage = ({ data }) => {
    got.push(data);
    if (got.length === 2) resolve();
  };
});
await w.setLocalDescription();
await n.setRemoteDescription(w.localDescription);
await n.setLocalDescription();
await w.setRemoteDescription(n.localDescription);
await done;
const back = new Uint8Array(got[1]);
const result = {
  candidates,
  errors,
  text: got[0],
  bigIdentical: back.length === big.length && back.every((b, i) => b === big[i]),
};
w.close();
n.close();
clearTimeout(watchdog);
console.log(`RESULT ${JSON.stringify(result)}`);
setTimeout(() => process.exit(0), 300);
