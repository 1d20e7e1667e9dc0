'use strict';
// One peer of tests/nat/nat.test.js, run inside a network namespace by the test:
//   ip netns exec <ns> node tests/nat/peer.js <offer|answer> <stun host:port> [iceServers JSON]
// Signaling and reports are JSON lines: commands on stdin, events on stdout (stdout carries
// nothing else; diagnostics go to stderr). Exits when stdin closes or on {"type":"close"}.
const readline = require('readline');
const path = require('path');

const [role, stun, iceServersJson] = process.argv.slice(2);
if (role !== 'offer' && role !== 'answer') {
  process.stderr.write('usage: peer.js <offer|answer> <stun host:port>\n');
  process.exit(2);
}
/** How many messages each side sends once the channel is open. */
const MESSAGES = 3;
const me = role === 'offer' ? 'A' : 'B';

const { RTCPeerConnection } = require(path.join(__dirname, '..', '..', 'js', 'cjs', 'node.cjs'));

function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function describe(c) {
  return c && {
    candidate: c.candidate,
    type: c.type,
    address: c.address,
    port: c.port,
    relatedAddress: c.relatedAddress,
    relatedPort: c.relatedPort,
  };
}

const iceServers = iceServersJson ? JSON.parse(iceServersJson) : [{ urls: `stun:${stun}` }];
const constructing = process.hrtime.bigint();
const pc = new RTCPeerConnection({ iceServers });
// How long the constructor took (ICE server names are resolved in the background).
emit({ type: 'constructed', ms: Number(process.hrtime.bigint() - constructing) / 1e6 });
pc.onicecandidateerror = (e) => emit({ type: 'candidateerror', url: e.url, errorCode: e.errorCode, errorText: e.errorText });
pc.onicecandidate = (e) => emit({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
pc.onicegatheringstatechange = () => emit({ type: 'gathering', state: pc.iceGatheringState });
pc.onconnectionstatechange = () => {
  emit({ type: 'state', state: pc.connectionState });
  // A failure says which pairs were tried and what came back (for the test's log).
  if (pc.connectionState === 'failed') {
    pc.getStats().then((report) => {
      const all = [...report.values()];
      const cand = (id) => { const c = all.find((s) => s.id === id); return c ? `${c.candidateType} ${c.address}:${c.port}` : id; };
      const pairs = all.filter((s) => s.type === 'candidate-pair').map((p) => `${cand(p.localCandidateId)} -> ${cand(p.remoteCandidateId)} ${p.state} req ${p.requestsSent} resp ${p.responsesReceived} in-req ${p.requestsReceived}`);
      emit({ type: 'pairs', pairs });
    }, () => {});
  }
};

function wire(channel) {
  channel.onopen = () => {
    emit({ type: 'open' });
    for (let i = 0; i < MESSAGES; i++) channel.send(`${me} #${i}`);
  };
  channel.onmessage = (e) => emit({ type: 'message', data: e.data });
}

async function start() {
  if (role === 'offer') {
    wire(pc.createDataChannel('nat'));
    await pc.setLocalDescription();
    emit({ type: 'description', description: pc.localDescription.toJSON() });
  } else {
    pc.ondatachannel = (e) => wire(e.channel);
  }
}

async function handle(msg) {
  switch (msg.type) {
    case 'description':
      await pc.setRemoteDescription(msg.description);
      if (msg.description.type === 'offer') {
        await pc.setLocalDescription();
        emit({ type: 'description', description: pc.localDescription.toJSON() });
      }
      break;
    case 'candidate':
      if (msg.candidate) await pc.addIceCandidate(msg.candidate);
      break;
    case 'report': {
      const ice = pc.sctp && pc.sctp.transport.iceTransport;
      // relayProtocol of the selected local candidate, from getStats().
      const stats = [...(await pc.getStats()).values()];
      const transport = stats.find((s) => s.type === 'transport');
      const pair = transport && stats.find((s) => s.id === transport.selectedCandidatePairId);
      const cand = (id) => { const c = stats.find((s) => s.id === id); return c ? `${c.candidateType} ${c.address}:${c.port}` : id; };
      const statsCandidate = (id) => {
        const c = stats.find((s) => s.id === id);
        return c && { type: c.candidateType, address: c.address, port: c.port };
      };
      const localStats = pair && stats.find((s) => s.id === pair.localCandidateId);
      emit({
        selectedLocalRelayProtocol: localStats ? localStats.relayProtocol ?? null : null,
        type: 'report',
        connectionState: pc.connectionState,
        localCandidates: ice ? ice.getLocalCandidates().map(describe) : [],
        remoteCandidates: ice ? ice.getRemoteCandidates().map(describe) : [],
        selected: ice && ice.getSelectedCandidatePair()
          ? { local: describe(ice.getSelectedCandidatePair().local), remote: describe(ice.getSelectedCandidatePair().remote) }
          : null,
        localSdp: pc.localDescription ? pc.localDescription.sdp : null,
        // getStats' selected pair (the transport's selectedCandidatePairId), to hold
        // getSelectedCandidatePair() against.
        statsSelected: pair ? { local: statsCandidate(pair.localCandidateId), remote: statsCandidate(pair.remoteCandidateId) } : null,
        pairs: stats.filter((s) => s.type === 'candidate-pair')
          .map((p) => `${cand(p.localCandidateId)} -> ${cand(p.remoteCandidateId)} ${p.state}${p.nominated ? ' nominated' : ''}${p === pair ? ' selected' : ''}`),
      });
      break;
    }
    case 'close':
      pc.close();
      process.exit(0);
      break;
    default:
      throw new Error(`unknown command ${msg.type}`);
  }
}

// Commands run one after another, in order (a candidate never overtakes its description).
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  queue = queue.then(() => handle(JSON.parse(line))).catch((e) => emit({ type: 'error', message: String(e && e.stack || e) }));
});
process.stdin.on('end', () => { pc.close(); process.exit(0); });
start().catch((e) => emit({ type: 'error', message: String(e && e.stack || e) }));
