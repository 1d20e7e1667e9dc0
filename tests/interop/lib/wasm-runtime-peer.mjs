// A WASM peer in another runtime (Deno, Bun, Node): loads the package's WASM entry, answers
// the offer a Node-addon peer sends over a signaling WebSocket (argv[0] after the script),
// reaches it through the relay named in the offer message, and echoes every message on every
// channel; it also says hello with its runtime's name. Only web APIs: WebSocket, import().
const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
const runtime = globalThis.Deno ? `deno ${globalThis.Deno.version.deno}`
  : globalThis.Bun ? `bun ${globalThis.Bun.version}` : `node ${globalThis.process.version}`;
const exit = (code) => (globalThis.Deno ? globalThis.Deno.exit(code) : globalThis.process.exit(code));

const api = await import(new URL('../../../js/wasm.js', import.meta.url).href);
const sig = new WebSocket(args[0]);
const send = (m) => sig.send(JSON.stringify(m));
let pc = null;
let chain = Promise.resolve();
sig.onerror = () => exit(2);
sig.onclose = () => {
  if (pc) pc.close();
  exit(0);
};
sig.onmessage = (e) => {
  const m = JSON.parse(e.data);
  chain = chain.then(async () => {
    if (m.type === 'offer') {
      pc = new api.RTCPeerConnection({ relay: m.relay });
      pc.onicecandidate = (ev) => send({ type: 'candidate', candidate: ev.candidate ? ev.candidate.toJSON() : null });
      pc.onicecandidateerror = (ev) => send({ type: 'log', text: `icecandidateerror ${ev.errorCode} ${ev.errorText}` });
      pc.ondatachannel = (ev) => {
        const dc = ev.channel;
        dc.binaryType = 'arraybuffer';
        dc.onmessage = (msg) => dc.send(msg.data);
        const hello = () => dc.send(`hello from ${runtime}`);
        if (dc.readyState === 'open') hello();
        else dc.onopen = hello;
      };
      await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      await pc.setLocalDescription();
      send({ type: 'answer', sdp: pc.localDescription.sdp, runtime });
    } else if (m.type === 'candidate' && m.candidate) {
      await pc.addIceCandidate(m.candidate);
    }
  }).catch((err) => send({ type: 'log', text: `error ${err && err.name}: ${err && err.message}` }));
};
