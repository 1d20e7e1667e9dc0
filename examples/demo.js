'use strict';
// The product in one process:
//   1. two peers on the Node addon, one data channel, text and binary both ways;
//   2. a peer on the WASM build (the engine workers, Deno, Bun and browsers get) talking to an
//      addon peer through the TURN relay this package ships: the WASM peer has no socket, its
//      datagrams go over a WebSocket to the relay; the addon peer sees a relayed candidate.
// Run: node examples/demo.js   (POLYRTC_IMPL=@roamhq/wrtc runs part 1 against another stack)
const path = require('node:path');

// Both peers live in this process: let polyrtc's Node engine use loopback candidates too.
if (process.env.POLYRTC_INCLUDE_LOOPBACK === undefined) process.env.POLYRTC_INCLUDE_LOOPBACK = '1';
const spec = process.env.POLYRTC_IMPL;
const { RTCPeerConnection } = spec
  ? require(require.resolve(spec, { paths: [path.join(__dirname, '..')] }))
  : require('polyrtc'); // this package, by name (Node resolves a package's own name inside it)

const watchdog = setTimeout(() => {
  console.error('demo: timed out after 40 s');
  process.exit(1);
}, 40000);

async function main() {
  const alice = new RTCPeerConnection();
  const bob = new RTCPeerConnection();
  // Signaling: in one process, candidates and descriptions are simply handed over.
  alice.onicecandidate = (e) => e.candidate && bob.addIceCandidate(e.candidate);
  bob.onicecandidate = (e) => e.candidate && alice.addIceCandidate(e.candidate);
  alice.onconnectionstatechange = () => console.log(`alice: connection ${alice.connectionState}`);

  const done = new Promise((resolve) => {
    bob.ondatachannel = ({ channel }) => {
      channel.binaryType = 'arraybuffer';
      channel.onmessage = ({ data }) => {
        if (typeof data === 'string') {
          console.log(`bob got text: ${JSON.stringify(data)}`);
          channel.send(`hi alice, you said ${data.length} characters`);
        } else {
          const bytes = new Uint8Array(data);
          const sum = bytes.reduce((a, b) => a + b, 0);
          console.log(`bob got ${bytes.length} bytes (sum ${sum})`);
          channel.send(bytes.reverse());
        }
      };
    };
    const chat = alice.createDataChannel('chat');
    chat.binaryType = 'arraybuffer';
    let replies = 0;
    chat.onopen = () => {
      console.log(`alice: channel "${chat.label}" open`);
      chat.send('hello bob');
      chat.send(new Uint8Array([1, 2, 3, 4, 5]));
    };
    chat.onmessage = ({ data }) => {
      console.log(`alice got ${typeof data === 'string' ? `text: ${JSON.stringify(data)}` : `bytes: [${new Uint8Array(data)}]`}`);
      if (++replies === 2) resolve(chat);
    };
  });

  await alice.setLocalDescription(await alice.createOffer());
  await bob.setRemoteDescription(alice.localDescription);
  await bob.setLocalDescription(await bob.createAnswer());
  await alice.setRemoteDescription(bob.localDescription);

  const chat = await done;
  chat.close();
  alice.close();
  bob.close();
  console.log('demo: part 1 done (two addon peers)');
  if (!spec) await wasmThroughRelay();
  console.log('demo: done');
}

/** Part 2: a WASM peer ↔ an addon peer through the relay. */
async function wasmThroughRelay() {
  const { startRelay } = require('polyrtc/relay');
  const wasm = await import('polyrtc/wasm'); // the WASM engine, in Node too
  const relay = await startRelay({ users: { demo: 'demo-secret' }, allowPrivate: true });
  console.log(`relay: listening, ${relay.wsUrl} for WebSocket clients, ${relay.turnUrls.join(' ')}`);
  const worker = new wasm.RTCPeerConnection({ relay: { urls: relay.wsUrl, username: 'demo', credential: 'demo-secret' } });
  const server = new RTCPeerConnection();
  worker.onicecandidate = (e) => {
    if (e.candidate && e.candidate.candidate) console.log(`wasm peer: candidate ${e.candidate.candidate}`);
    if (e.candidate) server.addIceCandidate(e.candidate.toJSON());
  };
  server.onicecandidate = (e) => e.candidate && worker.addIceCandidate(e.candidate.toJSON());
  worker.onicecandidateerror = (e) => console.log(`wasm peer: relay error ${e.errorCode} ${e.errorText}`);
  const echoed = new Promise((resolve) => {
    server.ondatachannel = ({ channel }) => {
      channel.onmessage = ({ data }) => channel.send(typeof data === 'string' ? `echo: ${data}` : data);
    };
    const dc = worker.createDataChannel('through-the-relay');
    dc.binaryType = 'arraybuffer';
    const big = new Uint8Array(256 * 1024).map((_, i) => (i * 7) & 0xff);
    const got = [];
    dc.onopen = () => {
      console.log('wasm peer: channel open through the relay');
      dc.send('hello from WASM');
      dc.send(big);
    };
    dc.onmessage = ({ data }) => {
      got.push(data);
      if (typeof data === 'string') console.log(`wasm peer got text: ${JSON.stringify(data)}`);
      else {
        const back = new Uint8Array(data);
        console.log(`wasm peer got ${back.length} bytes back, ${back.every((b, i) => b === big[i]) ? 'identical' : 'DIFFERENT'}`);
      }
      if (got.length === 2) resolve(dc);
    };
  });
  await worker.setLocalDescription(await worker.createOffer());
  await server.setRemoteDescription({ type: 'offer', sdp: worker.localDescription.sdp });
  await server.setLocalDescription(await server.createAnswer());
  await worker.setRemoteDescription({ type: 'answer', sdp: server.localDescription.sdp });
  const dc = await echoed;
  const stats = await relay.stats();
  console.log(`relay: ${stats.allocationsCreated} allocation, ${stats.packetsToPeers} datagrams to the addon peer, ${stats.packetsToClients} back over the WebSocket`);
  dc.close();
  worker.close();
  server.close();
  // The WASM peer releases its allocation (Refresh, lifetime 0) before its WebSocket closes.
  await new Promise((r) => setTimeout(r, 300));
  await relay.close();
  console.log('demo: part 2 done (a WASM peer and an addon peer through the relay)');
}

main().then(
  () => {
    clearTimeout(watchdog);
    setTimeout(() => process.exit(0), 100);
  },
  (e) => {
    console.error('demo failed:', e);
    process.exit(1);
  },
);
