// The worker's peer: polyrtc's WASM build, imported unbundled from the server (/polyrtc/ is
// the package's js/ folder). It offers, sends a text and 256 KiB of bytes, and checks the
// echoes that the server's peer sends back.
import { RTCPeerConnection } from '/polyrtc/wasm.js';

const say = (m) => self.postMessage(m);

async function main() {
  say(`RTCPeerConnection native to this worker: ${typeof self.RTCPeerConnection !== 'undefined' && self.RTCPeerConnection !== RTCPeerConnection}`);
  const { relay } = await (await fetch('/config')).json();
  const pc = new RTCPeerConnection({ relay });
  const signal = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/signal`);
  await new Promise((resolve, reject) => {
    signal.onopen = resolve;
    signal.onerror = () => reject(new Error('signaling WebSocket failed'));
  });
  const send = (m) => signal.send(JSON.stringify(m));
  pc.onicecandidate = (e) => {
    if (e.candidate) say(`local candidate: ${e.candidate.candidate}`);
    send({ candidate: e.candidate });
  };
  pc.onicecandidateerror = (e) => say(`error: relay ${e.url}: ${e.errorCode} ${e.errorText}`);
  pc.onconnectionstatechange = () => say(`connection: ${pc.connectionState}`);
  signal.onmessage = async ({ data }) => {
    const m = JSON.parse(data);
    if (m.description) await pc.setRemoteDescription(m.description);
    else if (m.candidate) await pc.addIceCandidate(m.candidate);
  };

  const dc = pc.createDataChannel('chat');
  dc.binaryType = 'arraybuffer';
  const replies = [];
  let wake = () => {};
  dc.onmessage = ({ data }) => {
    replies.push(data);
    wake();
  };
  const next = () => (replies.length ? Promise.resolve(replies.shift()) : new Promise((r) => (wake = () => r(replies.shift()))));

  await pc.setLocalDescription();
  send({ description: pc.localDescription });
  await new Promise((resolve) => (dc.onopen = resolve));
  say('channel open');

  dc.send('hello from the worker');
  const text = await next();
  say(`got: ${text}`);
  const big = new Uint8Array(256 * 1024).map((_, i) => (i * 7) & 0xff);
  dc.send(big);
  const back = new Uint8Array(await next());
  const same = back.length === big.length && back.every((b, i) => b === big[i]);
  say(`got ${back.length} bytes back, ${same ? 'identical' : 'DIFFERENT'}`);
  if (text !== 'echo: hello from the worker' || !same) throw new Error('the echoes differ');
  pc.close();
  signal.close();
  say('done: text and 256 KiB echoed through the relay');
}

main().catch((e) => say(`error: ${e.message}`));
