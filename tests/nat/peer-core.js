'use strict';
// What a peer of the namespace tests does (tests/nat/peer.js runs it in Node; the browser
// test runs the same source in a Chromium page): create the connection, open a data channel
// and send a few messages, and answer the commands `description`, `candidate`, `report` and
// `close`, printing events as plain objects through `emit`. Self-contained (no require),
// because the page receives its source text.

/**
 * `role`: 'offer' (peer A, creates the channel) or 'answer' (peer B); `configuration` the
 * RTCConfiguration. `exit()` runs after
 * `close`. Returns `start()` and `handle(command)` (both async).
 */
function peerCore({ RTCPeerConnection, role, configuration, emit, exit }) {
  /** How many messages each side sends once the channel is open. */
  const MESSAGES = 3;
  const me = role === 'offer' ? 'A' : 'B';

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

  const constructing = performance.now();
  const pc = new RTCPeerConnection(configuration);
  // How long the constructor took (ICE server names are resolved in the background).
  emit({ type: 'constructed', ms: performance.now() - constructing });
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
          // (Chromium has no getLocalCandidates / getRemoteCandidates.)
          localCandidates: ice && ice.getLocalCandidates ? ice.getLocalCandidates().map(describe) : [],
          remoteCandidates: ice && ice.getRemoteCandidates ? ice.getRemoteCandidates().map(describe) : [],
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
        exit();
        break;
      default:
        throw new Error(`unknown command ${msg.type}`);
    }
  }

  return { pc, start, handle };
}

if (typeof module !== 'undefined') module.exports = { peerCore };
