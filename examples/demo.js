'use strict';
// Two peers in one process, one data channel, text and binary both ways.
// Run: node examples/demo.js   (POLYRTC_IMPL=@roamhq/wrtc to run it against another stack)
const path = require('node:path');

// Both peers live in this process: let polyrtc's Node engine use loopback candidates too.
if (process.env.POLYRTC_INCLUDE_LOOPBACK === undefined) process.env.POLYRTC_INCLUDE_LOOPBACK = '1';
const spec = process.env.POLYRTC_IMPL;
const { RTCPeerConnection } = spec
  ? require(require.resolve(spec, { paths: [path.join(__dirname, '..')] }))
  : require('polyrtc'); // this package, by name (Node resolves a package's own name inside it)

const watchdog = setTimeout(() => {
  console.error('demo: timed out after 20 s');
  process.exit(1);
}, 20000);

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
  console.log('demo: done');
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
