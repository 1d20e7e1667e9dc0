// A workerd (Cloudflare Workers runtime) module: on GET /?sig=<ws url>, a WASM peer from the
// package's workerd entry (js/workerd.js: the .wasm imported as a module) answers the offer a
// Node-addon peer sends over that signaling WebSocket, through the relay named in the offer,
// echoes every message and says hello; the response ends when the signaling socket closes
// (timers and sockets live as long as the request). Same protocol as wasm-runtime-peer.mjs.
import { RTCPeerConnection } from '../../../js/workerd.js';

function run(sigUrl) {
  return new Promise((resolve) => {
    const sig = new WebSocket(sigUrl);
    const send = (m) => sig.send(JSON.stringify(m));
    let pc = null;
    let chain = Promise.resolve();
    sig.addEventListener('close', () => {
      if (pc) pc.close();
      resolve('closed');
    });
    sig.addEventListener('error', () => resolve('signaling error'));
    sig.addEventListener('message', (e) => {
      const m = JSON.parse(e.data);
      chain = chain.then(async () => {
        if (m.type === 'offer') {
          pc = new RTCPeerConnection({ relay: m.relay });
          pc.onicecandidate = (ev) => send({ type: 'candidate', candidate: ev.candidate ? ev.candidate.toJSON() : null });
          pc.onicecandidateerror = (ev) => send({ type: 'log', text: `icecandidateerror ${ev.errorCode} ${ev.errorText}` });
          pc.ondatachannel = (ev) => {
            const dc = ev.channel;
            dc.binaryType = 'arraybuffer';
            dc.onmessage = (msg) => dc.send(msg.data);
            const hello = () => dc.send('hello from workerd');
            if (dc.readyState === 'open') hello();
            else dc.onopen = hello;
          };
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          await pc.setLocalDescription();
          send({ type: 'answer', sdp: pc.localDescription.sdp, runtime: 'workerd' });
        } else if (m.type === 'candidate' && m.candidate) {
          await pc.addIceCandidate(m.candidate);
        }
      }).catch((err) => send({ type: 'log', text: `error ${err && err.name}: ${err && err.message}\n${err && err.stack}` }));
    });
  });
}

export default {
  async fetch(request) {
    const sigUrl = new URL(request.url).searchParams.get('sig');
    if (!sigUrl) return new Response('no sig', { status: 400 });
    return new Response(await run(sigUrl));
  },
};
