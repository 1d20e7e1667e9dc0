'use strict';
// A browser page whose Web Worker runs polyrtc's WASM peer (no RTCPeerConnection needed in
// the worker), talking to a peer in this Node server (the native addon) through a TURN relay
// this server starts. Signaling is a WebSocket (the `ws` package) at /signal.
//
//   node examples/worker-relay/server.js [port]     then open the printed URL in a browser
//
// What it serves: / (index.html), /worker.js, /polyrtc/* (this package's js/ folder, which the
// worker imports unbundled), /config (the relay's WebSocket URL and a credential for it).
// Each signaling connection gets its own RTCPeerConnection here, which answers the worker's
// offer and echoes every message on every channel back, prefixed with "echo: " for text.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const crypto = require('node:crypto');
const { WebSocketServer } = require('ws');
const { RTCPeerConnection } = require('polyrtc');
const { startRelay } = require('polyrtc/relay');

// On one machine the server's peer offers loopback candidates so the relay (allowed to reach
// private addresses here) can deliver to it. A deployed server has a public address instead.
if (process.env.POLYRTC_INCLUDE_LOOPBACK === undefined) process.env.POLYRTC_INCLUDE_LOOPBACK = '1';

const HERE = __dirname;
const JS_DIR = path.join(HERE, '..', '..', 'js');
const TYPES = { '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8', '.json': 'application/json' };

function serveFile(res, file) {
  fs.readFile(file, (err, data) => {
    if (err) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' }).end(data);
  });
}

function answerPeer(socket) {
  const pc = new RTCPeerConnection();
  const send = (m) => socket.readyState === 1 && socket.send(JSON.stringify(m));
  pc.onicecandidate = (e) => send({ candidate: e.candidate });
  pc.ondatachannel = ({ channel }) => {
    channel.binaryType = 'arraybuffer';
    channel.onmessage = ({ data }) => channel.send(typeof data === 'string' ? `echo: ${data}` : data);
  };
  pc.onconnectionstatechange = () => console.log(`server peer: ${pc.connectionState}`);
  socket.on('message', async (raw) => {
    let m;
    try {
      m = JSON.parse(String(raw));
    } catch {
      return;
    }
    try {
      if (m.description) {
        await pc.setRemoteDescription(m.description);
        await pc.setLocalDescription();
        send({ description: pc.localDescription });
      } else if ('candidate' in m) {
        await pc.addIceCandidate(m.candidate || undefined);
      }
    } catch (e) {
      console.error(`server peer: ${e.name}: ${e.message}`);
    }
  });
  socket.on('close', () => pc.close());
}

async function main() {
  const port = Number(process.argv[2] || process.env.PORT || 8080);
  // One random credential per server run; a deployment would hand out REST credentials.
  const credential = crypto.randomBytes(12).toString('base64url');
  const relay = await startRelay({ host: '127.0.0.1', port: 0, users: { demo: credential }, allowPrivate: true });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/' || url.pathname === '/index.html') return serveFile(res, path.join(HERE, 'index.html'));
    if (url.pathname === '/worker.js') return serveFile(res, path.join(HERE, 'worker.js'));
    if (url.pathname === '/config') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ relay: { urls: relay.wsUrl, username: 'demo', credential } }));
    }
    if (url.pathname.startsWith('/polyrtc/')) {
      const file = path.normalize(path.join(JS_DIR, url.pathname.slice('/polyrtc/'.length)));
      if (!file.startsWith(JS_DIR + path.sep)) return res.writeHead(403).end();
      return serveFile(res, file);
    }
    res.writeHead(404).end('not found');
  });
  new WebSocketServer({ server, path: '/signal' }).on('connection', answerPeer);
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  console.log(`open http://127.0.0.1:${server.address().port}/ (relay at ${relay.wsUrl})`);
  const stop = async () => {
    server.close();
    await relay.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
