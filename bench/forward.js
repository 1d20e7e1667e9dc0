'use strict';
// `node bench/forward.js`: SFU-style forwarding cost. This process is the forwarding unit: one
// polyrtc RTCPeerConnection receives a VP8 track and hands the remote track to `addTrack()` of
// BENCH_FORWARD_N (100) other connections (the W3C path: each received frame is written to
// every outgoing sender, packetized, SRTP-protected, sent). A child process is the rest of the
// world: the source (an EncodedMediaSource writing one-packet key frames at BENCH_FORWARD_FPS)
// and the N receivers, each counting what arrives. Measured over BENCH_FORWARD_S seconds of
// steady sending: packets forwarded per second (the hub's outbound-rtp packetsSent), this
// process's CPU time (process.cpuUsage(): every thread, the addon's I/O thread included), and
// their ratio, packets forwarded per CPU-second ("per core"). Prints a markdown table, and
// with --json one JSON line (bench/test/forward.test.js reads it).
const path = require('node:path');
const { fork } = require('node:child_process');
const { keepCandidate, filterDescription } = require('../tests/interop/lib/candidates');

const ROOT = path.resolve(__dirname, '..');
const N = Number(process.env.BENCH_FORWARD_N || 100);
const FPS = Number(process.env.BENCH_FORWARD_FPS || 400);
const SECONDS = Number(process.env.BENCH_FORWARD_S || 5);
/** One RTP packet per frame (under the MTU with headers, extensions and SRTP). */
const FRAME_BYTES = Number(process.env.BENCH_FORWARD_BYTES || 1000);

// polyrtc's Node engine gathers loopback candidates only when asked; this runs on loopback.
if (process.env.POLYRTC_INCLUDE_LOOPBACK === undefined) process.env.POLYRTC_INCLUDE_LOOPBACK = '1';

function api() {
  return require(path.join(ROOT, 'js', 'cjs', 'node.cjs'));
}

/** Signaling between the two processes: `{ id, desc }` and `{ id, cand }` messages. */
function signaling(send) {
  const pcs = new Map();
  const pending = new Map();
  const wire = (id, pc) => {
    pcs.set(id, pc);
    pc.onicecandidate = (e) => {
      const c = e && e.candidate;
      if (c && c.candidate && keepCandidate(c.candidate)) {
        send({ id, cand: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } });
      }
    };
  };
  const onMessage = async (m, answerer) => {
    if (m.desc) {
      let pc = pcs.get(m.id);
      if (!pc) pc = answerer(m.id);
      await pc.setRemoteDescription(m.desc);
      for (const c of pending.get(m.id) ?? []) pc.addIceCandidate(c).catch(() => {});
      pending.delete(m.id);
      if (m.desc.type === 'offer') {
        await pc.setLocalDescription();
        send({ id: m.id, desc: filterDescription(pc.localDescription) });
      }
    } else if (m.cand) {
      const pc = pcs.get(m.id);
      if (pc && pc.remoteDescription) pc.addIceCandidate(m.cand).catch(() => {});
      else pending.set(m.id, [...(pending.get(m.id) ?? []), m.cand]);
    }
  };
  const offer = async (id, pc) => {
    await pc.setLocalDescription();
    send({ id, desc: filterDescription(pc.localDescription) });
  };
  return { wire, onMessage, offer, pcs };
}

const waitFor = async (cond, ms, what) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** The child: the source and the receivers. */
async function child() {
  const w = api();
  const sig = signaling((m) => process.send(m));
  const counts = new Map();
  let source = null;
  let timer = null;
  const answerer = (id) => {
    const pc = new w.RTCPeerConnection();
    sig.wire(id, pc);
    counts.set(id, 0);
    pc.ontrack = (e) => {
      const sink = new w.EncodedMediaSink(e.track);
      sink.onframe = () => counts.set(id, counts.get(id) + 1);
    };
    return pc;
  };
  process.on('message', async (m) => {
    if (m.cmd === 'source') {
      source = new w.EncodedMediaSource({ kind: 'video', mimeType: 'video/VP8' });
      const pc = new w.RTCPeerConnection();
      sig.wire('src', pc);
      pc.addTransceiver(source.track, { direction: 'sendonly' });
      await sig.offer('src', pc);
    } else if (m.cmd === 'start') {
      // Key frames only (a VP8 key frame has the low bit of its first byte clear), so every
      // receiver can start from any of them; a batch per 10 ms tick keeps the rate.
      const data = new Uint8Array(FRAME_BYTES).fill(0x5a);
      data[0] = 0x10;
      let n = 0;
      const t0 = Date.now();
      timer = setInterval(() => {
        const due = Math.floor(((Date.now() - t0) * FPS) / 1000);
        for (; n < due; n++) source.writeFrame({ type: 'key', timestamp: n * Math.round(1e6 / FPS), data });
      }, 10);
    } else if (m.cmd === 'stop') {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 300));
      process.send({ counts: [...counts.entries()].filter(([id]) => id !== 'src').map(([, c]) => c) });
    } else if (m.cmd === 'exit') {
      for (const pc of sig.pcs.values()) pc.close();
      process.exit(0);
    } else {
      await sig.onMessage(m, answerer);
    }
  });
}

async function outboundPackets(pc) {
  let n = 0;
  for (const s of (await pc.getStats()).values()) if (s.type === 'outbound-rtp') n += s.packetsSent;
  return n;
}

async function main() {
  const json = process.argv.includes('--json');
  const w = api();
  const kid = fork(__filename, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const sig = signaling((m) => kid.send(m));
  const replies = [];
  let remoteTrack = null;
  const incoming = new w.RTCPeerConnection();
  incoming.ontrack = (e) => { remoteTrack = e.track; };
  kid.on('message', (m) => {
    if (m.counts) replies.push(m);
    else sig.onMessage(m, (id) => {
      if (id !== 'src') throw new Error(`unexpected offer ${id}`);
      sig.wire('src', incoming);
      return incoming;
    }).catch((e) => { console.error(e); process.exit(1); });
  });
  try {
    kid.send({ cmd: 'source' });
    await waitFor(() => remoteTrack && incoming.connectionState === 'connected', 20000, 'the source connected');
    const outs = [];
    for (let i = 0; i < N; i++) {
      const pc = new w.RTCPeerConnection();
      sig.wire(i, pc);
      pc.addTrack(remoteTrack);
      outs.push(pc);
      await sig.offer(i, pc);
    }
    await waitFor(() => outs.every((pc) => pc.connectionState === 'connected'), 60000, `${N} receivers connected`);
    kid.send({ cmd: 'start' });
    await new Promise((r) => setTimeout(r, 1000)); // warm-up: every sender past its first key frame
    const sent0 = (await Promise.all(outs.map(outboundPackets))).reduce((a, b) => a + b, 0);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const cpu = process.cpuUsage(cpu0);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const sent1 = (await Promise.all(outs.map(outboundPackets))).reduce((a, b) => a + b, 0);
    kid.send({ cmd: 'stop' });
    await waitFor(() => replies.length > 0, 10000, 'the receivers\' counts');
    const { counts } = replies[0];
    const forwarded = sent1 - sent0;
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const r = {
      receivers: N, fps: FPS, frameBytes: FRAME_BYTES, seconds: wall,
      forwardedPerS: forwarded / wall, cpuPercent: (100 * cpuS) / wall, perCore: forwarded / cpuS,
      receivedMin: Math.min(...counts), receivedTotal: counts.reduce((a, b) => a + b, 0), counts,
    };
    if (json) {
      console.log(JSON.stringify(r));
    } else {
      console.log('| receivers | source fps | forwarded packets/s | hub CPU (% of one core) | packets forwarded per CPU-second | frames at the least-served receiver |');
      console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
      console.log(`| ${N} | ${FPS} | ${r.forwardedPerS.toFixed(0)} | ${r.cpuPercent.toFixed(0)} | ${r.perCore.toFixed(0)} | ${r.receivedMin} |`);
    }
  } finally {
    kid.send({ cmd: 'exit' });
    incoming.close();
    for (const pc of sig.pcs.values()) pc.close();
  }
}

if (process.argv.includes('--child')) {
  child().catch((e) => { console.error(e); process.exit(1); });
} else {
  main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
