'use strict';
// The server shape of the NAT issue: N ICE-lite connections (iceLite) on ONE UDP port
// (sharedUdpPort) in this process, each with an open data channel to a full-ICE client. The
// clients (our own peers, as browsers would be) run in child processes (LITE_PER_CHILD each,
// every client has its own sockets), so the figures are the server process's alone: setup
// rate, resident memory per connection, idle CPU with everything connected. Figures only,
// nothing asserted.
//
//   node --expose-gc bench/lite-server.js [N=10000]   (LITE_IN_FLIGHT=20, LITE_IDLE_S=10,
//                                                       LITE_PER_CHILD=2500)
//
// Uses the machine's interface addresses other than loopback (POLYRTC_INCLUDE_LOOPBACK=1
// adds loopback). Signaling is non-trickle over the child processes' IPC channels.
const { fork } = require('child_process');
const dgram = require('dgram');
const os = require('os');
const { nodeApi } = require('../js/test/layer');

const gathered = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
});

/** A child: clients for the ids it is told, one offer at a time per id. */
function client() {
  const api = nodeApi();
  const pcs = new Map();
  process.on('message', async (m) => {
    try {
      if (m.type === 'start') {
        const pc = new api.RTCPeerConnection();
        pcs.set(m.id, pc);
        const dc = pc.createDataChannel('bench');
        dc.onopen = () => process.send({ type: 'open', id: m.id });
        await pc.setLocalDescription();
        await gathered(pc);
        process.send({ type: 'offer', id: m.id, sdp: pc.localDescription.sdp });
      } else if (m.type === 'answer') {
        await pcs.get(m.id).setRemoteDescription({ type: 'answer', sdp: m.sdp });
      } else if (m.type === 'close') {
        for (const pc of pcs.values()) pc.close();
        process.exit(0);
      }
    } catch (e) {
      process.send({ type: 'error', id: m.id, message: String(e) });
    }
  });
}

async function freePort() {
  const s = dgram.createSocket('udp4');
  await new Promise((resolve) => s.bind(0, resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function gc() {
  if (global.gc) for (let i = 0; i < 4; i++) global.gc();
}

async function server() {
  const N = Number(process.argv[2] || process.env.LITE_CLIENTS || 10000);
  const IN_FLIGHT = Number(process.env.LITE_IN_FLIGHT || 20);
  const IDLE_S = Number(process.env.LITE_IDLE_S || 10);
  const PER_CHILD = Number(process.env.LITE_PER_CHILD || 2500);
  const api = nodeApi();
  const port = await freePort();
  const children = Array.from({ length: Math.ceil(N / PER_CHILD) }, () => fork(__filename, ['--client'], { stdio: 'inherit' }));
  const servers = new Map();
  const waiting = new Map(); // id -> resolve, once both ends are open
  let failed = 0;
  const opened = (id, side) => {
    const w = waiting.get(id);
    if (!w) return;
    w[side] = true;
    if (w.client && w.server) { waiting.delete(id); w.resolve(); }
  };
  for (const child of children) {
    child.on('message', async (m) => {
      if (m.type === 'offer') {
        const pc = new api.RTCPeerConnection({ iceLite: true, sharedUdpPort: port });
        servers.set(m.id, pc);
        pc.ondatachannel = (e) => { e.channel.onopen = () => opened(m.id, 'server'); };
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await pc.setLocalDescription();
        await gathered(pc);
        child.send({ type: 'answer', id: m.id, sdp: pc.localDescription.sdp });
      } else if (m.type === 'open') {
        opened(m.id, 'client');
      } else if (m.type === 'error') {
        failed += 1;
        const w = waiting.get(m.id);
        if (w) { waiting.delete(m.id); w.resolve(); }
      }
    });
  }
  gc();
  const rss0 = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < N) {
      const id = next++;
      await new Promise((resolve) => {
        const timer = setTimeout(() => { failed += 1; waiting.delete(id); resolve(); }, 30000);
        waiting.set(id, { resolve: () => { clearTimeout(timer); resolve(); } });
        children[Math.floor(id / PER_CHILD)].send({ type: 'start', id });
      });
    }
  }));
  const setupS = Number(process.hrtime.bigint() - t0) / 1e9;
  await new Promise((r) => setTimeout(r, 1000));
  gc();
  const rss = process.memoryUsage().rss - rss0;
  const cpu0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e3;
  const connected = [...servers.values()].filter((pc) => pc.connectionState === 'connected').length;
  const idlePct = ((cpu.user + cpu.system) / wall) * 100;
  console.log('| server process, one shared UDP port, ICE-lite | figure |');
  console.log('| --- | --- |');
  console.log(`| connections | ${N} asked, ${connected} connected at the end, ${failed} failed |`);
  console.log(`| setup | ${setupS.toFixed(1)} s, ${(N / setupS).toFixed(0)} connections/s (${IN_FLIGHT} in flight, clients in ${children.length} other processes) |`);
  console.log(`| resident memory | +${(rss / 2 ** 20).toFixed(0)} MiB, ${(rss / N / 1024).toFixed(1)} KiB per connection |`);
  console.log(`| idle CPU over ${IDLE_S} s | ${idlePct.toFixed(1)} % of one core, ${(idlePct / (N / 200)).toFixed(3)} % per 200 connections |`);
  console.log(`| machine | ${os.cpus().length} cores, Node ${process.version} |`);
  for (const c of children) c.send({ type: 'close' });
  for (const pc of servers.values()) pc.close();
}

if (process.argv[2] === '--client') {
  client();
} else {
  server().then(() => setTimeout(() => process.exit(0), 500), (e) => { console.error(e); process.exit(1); });
}
