'use strict';
// An in-memory engine for unit tests of the W3C layer only. It implements the engine
// surface of js/engine/napi.js without any protocol: two fake peers find each other
// through a line in their SDP, "connect" once both have applied an answer, and pass
// data-channel messages directly. It checks what a real engine would check so that the
// JS layer's error mapping can be tested.
const crypto = require('crypto');

function engineError(code, message) {
  const e = new Error(`${code}: ${message}`);
  e.code = code;
  return e;
}

function randomToken(n) {
  return crypto.randomBytes(n).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, n);
}

function makeCertificate(expires) {
  const fp = crypto.randomBytes(32).toString('hex').toUpperCase().match(/../g).join(':');
  return { fingerprints: [{ algorithm: 'sha-256', value: fp }], expires };
}

function createFakeEngine(options = {}) {
  const registry = new Map();
  let nextPeerId = 1;
  const engine = {
    peers: [],
    certificates: 0,
    generateCertificate(lifetimeMs = 30 * 24 * 3600 * 1000) {
      engine.certificates += 1;
      // As the addon: valid for lifetimeMs from now, in whole seconds, never later.
      return makeCertificate(options.certificateExpires ?? Math.floor((Date.now() + lifetimeMs) / 1000) * 1000);
    },
    NativePeer: null,
    last() { return engine.peers[engine.peers.length - 1]; },
  };

  class FakePeer {
    constructor(config, onEvents) {
      if (typeof onEvents !== 'function') throw engineError('TypeError', 'onEvents is not a function');
      this.config = config;
      this.onEvents = onEvents;
      this.id = nextPeerId++;
      registry.set(this.id, this);
      engine.peers.push(this);
      this.cert = config.certificates && config.certificates[0]
        ? config.certificates[0] : engine.generateCertificate();
      this.maxMessageSize = config.maxMessageSize ?? options.maxMessageSize ?? 262144;
      this.ufrag = randomToken(8);
      this.pwd = randomToken(24);
      this.signalingState = 'stable';
      this.descs = { currentLocal: null, pendingLocal: null, currentRemote: null, pendingRemote: null };
      this.version = 0;
      this.channels = new Map();
      this.nextHandle = 1;
      this.gathered = false;
      this.ready = false;
      this.connected = false;
      this.closed = false;
      this.remoteId = null;
      this.isOfferer = null;
      this.roleKnown = false;
      this.remoteCandidates = [];
      this.endOfCandidates = false;
      this.holdBuffered = false;
      this.held = [];
      this.queue = [];
      this.sent = [];
      this.trickle = options.trickle !== false;
      this.calls = [];
    }

    // ---- delivery ---------------------------------------------------------------------

    emit(...events) {
      if (this.closed) return;
      this.queue.push(...events);
      if (this.queue.length === events.length) {
        setImmediate(() => {
          const batch = this.queue.splice(0);
          if (!this.closed && batch.length) this.onEvents(batch);
        });
      }
    }

    /** Test hook: deliver arbitrary engine events. */
    inject(...events) { this.emit(...events); }

    /** Test hook: release held buffered-amount decreases. */
    releaseBuffered(count = Infinity) {
      const out = this.held.splice(0, count);
      this.emit(...out);
    }

    remote() {
      const r = this.remoteId !== null ? registry.get(this.remoteId) : null;
      return r && !r.closed ? r : null;
    }

    checkOpen() {
      if (this.closed) throw engineError('InvalidStateError', 'peer is closed');
    }

    // ---- SDP --------------------------------------------------------------------------

    hasApplication() {
      if (this.channels.size > 0) return true;
      return [this.descs.currentLocal, this.descs.currentRemote, this.descs.pendingRemote]
        .some((d) => d && /^m=application /m.test(d.sdp));
    }

    buildSdp(setup, withApplication) {
      this.version += 1;
      const lines = [
        'v=0', `o=- ${this.id} ${this.version} IN IP4 127.0.0.1`, 's=-', 't=0 0',
        `a=fake-peer:${this.id}`,
      ];
      if (this.trickle) lines.push('a=ice-options:trickle');
      if (withApplication) {
        lines.push('a=group:BUNDLE 0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
          'c=IN IP4 0.0.0.0', 'a=mid:0', `a=ice-ufrag:${this.ufrag}`, `a=ice-pwd:${this.pwd}`,
          `a=fingerprint:${this.cert.fingerprints[0].algorithm} ${this.cert.fingerprints[0].value}`,
          `a=setup:${setup}`, 'a=sctp-port:5000', `a=max-message-size:${this.maxMessageSize}`);
        if (this.gathered) lines.push(this.candidateLine());
      }
      return `${lines.join('\r\n')}\r\n`;
    }

    candidateLine() {
      return `a=candidate:1 1 udp 2130706431 127.0.0.1 ${40000 + this.id} typ host`;
    }

    restartIce() {
      this.calls.push('restartIce');
    }

    createOffer() {
      this.checkOpen();
      this.calls.push('createOffer');
      if (this.failNext) { const e = this.failNext; this.failNext = null; throw e; }
      return this.buildSdp('actpass', this.hasApplication());
    }

    createAnswer() {
      this.checkOpen();
      this.calls.push('createAnswer');
      if (this.signalingState !== 'have-remote-offer' && this.signalingState !== 'have-local-pranswer') {
        throw engineError('InvalidStateError', 'no remote offer');
      }
      const offer = this.descs.pendingRemote;
      return this.buildSdp('active', /^m=application /m.test(offer.sdp));
    }

    static parse(sdp) {
      if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) {
        throw engineError('OperationError', 'failed to parse the session description');
      }
      const m = /^a=fake-peer:(\d+)/m.exec(sdp);
      return { peer: m ? Number(m[1]) : null };
    }

    setLocalDescription(type, sdp) {
      this.checkOpen();
      this.calls.push(`setLocalDescription:${type}`);
      if (this.failNext) { const e = this.failNext; this.failNext = null; throw e; }
      const s = this.signalingState;
      if (type === null) type = ['stable', 'have-local-offer', 'have-remote-pranswer'].includes(s) ? 'offer' : 'answer';
      if (type === 'rollback') {
        if (s !== 'have-local-offer') throw engineError('InvalidStateError', 'nothing to roll back');
        this.descs.pendingLocal = null;
        this.signalingState = 'stable';
        return { type: 'rollback', sdp: '' };
      }
      if (type === 'offer') {
        if (s !== 'stable' && s !== 'have-local-offer') throw engineError('InvalidStateError', `offer in ${s}`);
        const text = sdp ?? this.createOffer();
        FakePeer.parse(text);
        this.descs.pendingLocal = { type, sdp: text };
        this.signalingState = 'have-local-offer';
        if (this.isOfferer === null) this.isOfferer = true;
      } else {
        if (s !== 'have-remote-offer' && s !== 'have-local-pranswer') {
          throw engineError('InvalidStateError', `${type} in ${s}`);
        }
        const text = sdp ?? this.createAnswer();
        FakePeer.parse(text);
        if (type === 'pranswer') {
          this.descs.pendingLocal = { type, sdp: text };
          this.signalingState = 'have-local-pranswer';
        } else {
          this.descs.currentLocal = { type, sdp: text };
          this.descs.currentRemote = this.descs.pendingRemote;
          this.descs.pendingLocal = null;
          this.descs.pendingRemote = null;
          this.signalingState = 'stable';
        }
        if (this.isOfferer === null) this.isOfferer = false;
        if (type === 'answer') this.fixRole();
      }
      const d = this.descs.pendingLocal ?? this.descs.currentLocal;
      // As the engine: only a description with a data section creates a transport to gather for.
      if (/^m=application /m.test(d.sdp)) this.gather();
      this.maybeConnect();
      return { type: d.type, sdp: d.sdp };
    }

    setRemoteDescription(type, sdp) {
      this.checkOpen();
      this.calls.push(`setRemoteDescription:${type}`);
      const s = this.signalingState;
      if (type === 'rollback') {
        if (s !== 'have-remote-offer') throw engineError('InvalidStateError', 'nothing to roll back');
        this.descs.pendingRemote = null;
        this.signalingState = 'stable';
        return;
      }
      const parsed = FakePeer.parse(sdp);
      if (type === 'offer') {
        if (s !== 'stable' && s !== 'have-remote-offer') throw engineError('InvalidStateError', `offer in ${s}`);
        this.descs.pendingRemote = { type, sdp };
        this.signalingState = 'have-remote-offer';
      } else {
        if (s !== 'have-local-offer' && s !== 'have-remote-pranswer') {
          throw engineError('InvalidStateError', `${type} in ${s}`);
        }
        if (type === 'pranswer') {
          this.descs.pendingRemote = { type, sdp };
          this.signalingState = 'have-remote-pranswer';
        } else {
          this.descs.currentRemote = { type, sdp };
          this.descs.currentLocal = this.descs.pendingLocal;
          this.descs.pendingLocal = null;
          this.descs.pendingRemote = null;
          this.signalingState = 'stable';
          this.fixRole();
        }
      }
      this.remoteId = parsed.peer;
      this.maybeConnect();
    }

    gather() {
      if (this.gathered) return;
      this.gathered = true;
      const cand = {
        candidate: this.candidateLine().slice(2),
        sdpMid: '0',
        sdpMLineIndex: 0,
        usernameFragment: this.ufrag,
      };
      if (options.gatherOrder === 'null-first') {
        this.emit({ type: 'icegatheringstatechange', state: 'gathering' },
          { type: 'icecandidate', candidate: cand }, { type: 'icecandidate', candidate: null },
          { type: 'icegatheringstatechange', state: 'complete' });
      } else {
        this.emit({ type: 'icegatheringstatechange', state: 'gathering' },
          { type: 'icecandidate', candidate: cand },
          { type: 'icegatheringstatechange', state: 'complete' },
          { type: 'icecandidate', candidate: null });
      }
    }

    addIceCandidate(init) {
      this.checkOpen();
      if (!this.descs.pendingRemote && !this.descs.currentRemote) {
        throw engineError('InvalidStateError', 'no remote description');
      }
      if (init === null || init.candidate === '') {
        if (init && init.usernameFragment != null && !this.remoteHasUfrag(init.usernameFragment)) {
          throw engineError('OperationError', 'no ICE generation with that usernameFragment');
        }
        this.endOfCandidates = true;
        // Like the engine: the remote descriptions gain a=end-of-candidates.
        this.addToRemoteDescriptions('a=end-of-candidates');
        return;
      }
      if (init.sdpMid !== null && init.sdpMid !== undefined && init.sdpMid !== '0') {
        throw engineError('OperationError', `no m-line with mid ${init.sdpMid}`);
      }
      if (init.sdpMLineIndex !== null && init.sdpMLineIndex !== undefined && init.sdpMLineIndex > 0) {
        throw engineError('OperationError', `no m-line ${init.sdpMLineIndex}`);
      }
      if (!/^candidate:\S+ \d+ (udp|tcp) \d+ \S+ \d+ typ \w+/i.test(init.candidate)) {
        throw engineError('OperationError', 'malformed candidate');
      }
      this.remoteCandidates.push(init);
      this.addToRemoteDescriptions(`a=${init.candidate.replace(/^a=/, '')}`);
    }

    remoteHasUfrag(ufrag) {
      return [this.descs.pendingRemote, this.descs.currentRemote]
        .some((d) => d && d.sdp.includes(`a=ice-ufrag:${ufrag}\r\n`));
    }

    addToRemoteDescriptions(line) {
      for (const d of [this.descs.pendingRemote, this.descs.currentRemote]) {
        if (d && !d.sdp.includes(`${line}\r\n`)) {
          const at = d.sdp.indexOf('a=end-of-candidates\r\n');
          d.sdp = at < 0 ? `${d.sdp}${line}\r\n` : `${d.sdp.slice(0, at)}${line}\r\n${d.sdp.slice(at)}`;
        }
      }
    }

    getState() {
      const copy = (d) => (d ? { type: d.type, sdp: d.sdp } : null);
      const remote = this.descs.pendingRemote ?? this.descs.currentRemote;
      const local = this.descs.currentLocal;
      return {
        signalingState: this.closed ? 'closed' : this.signalingState,
        iceGatheringState: this.gathered ? 'complete' : 'new',
        iceConnectionState: this.connected ? 'connected' : 'new',
        connectionState: this.connected ? 'connected' : 'new',
        canTrickleIceCandidates: remote ? /a=ice-options:trickle/.test(remote.sdp) : null,
        currentLocalDescription: copy(this.descs.currentLocal),
        pendingLocalDescription: copy(this.descs.pendingLocal),
        currentRemoteDescription: copy(this.descs.currentRemote),
        pendingRemoteDescription: copy(this.descs.pendingRemote),
        sctpMaxMessageSize: this.connected ? this.sctpMax : null,
        negotiationNeeded: this.channels.size > 0 && !(local && /^m=application /m.test(local.sdp)),
      };
    }

    // ---- "transport" ------------------------------------------------------------------

    maybeConnect() {
      if (this.ready || this.signalingState !== 'stable') return;
      const l = this.descs.currentLocal;
      const r = this.descs.currentRemote;
      if (!l || !r || !/^m=application /m.test(l.sdp) || !/^m=application /m.test(r.sdp)) return;
      this.ready = true;
      const remote = this.remote();
      if (remote && remote.ready && remote.remoteId === this.id) {
        const m = /^a=max-message-size:(\d+)/m.exec(r.sdp);
        const remoteMax = m ? Number(m[1]) : 65536;
        const localMax = remote.descs.currentRemote
          ? Number(/^a=max-message-size:(\d+)/m.exec(remote.descs.currentRemote.sdp)[1]) : 65536;
        this.sctpMax = Math.min(remoteMax, this.maxMessageSize);
        remote.sctpMax = Math.min(localMax, remote.maxMessageSize);
        this.connect();
        remote.connect();
      }
    }

    connect() {
      this.connected = true;
      this.emit(
        { type: 'iceconnectionstatechange', state: 'checking' },
        { type: 'connectionstatechange', state: 'connecting' },
        { type: 'dtlsstatechange', state: 'connecting' },
        { type: 'iceconnectionstatechange', state: 'connected' },
        { type: 'dtlsstatechange', state: 'connected' },
        { type: 'connectionstatechange', state: 'connected' },
        { type: 'sctpconnected', maxMessageSize: this.sctpMax, maxChannels: 65535 },
      );
      setImmediate(() => {
        for (const ch of this.channels.values()) this.openChannel(ch);
      });
    }

    /** The answer fixed the DTLS role: every channel without an id gets one (as the engine). */
    fixRole() {
      if (this.roleKnown) return;
      this.roleKnown = true;
      for (const ch of this.channels.values()) {
        if (ch.id !== null) continue;
        ch.id = this.allocateId();
        this.emit({ type: 'channelid', channel: ch.handle, id: ch.id });
      }
    }

    channelId(handle) {
      const ch = this.channels.get(handle);
      return ch && ch.state !== 'closed' ? ch.id : null;
    }

    allocateId() {
      const used = new Set([...this.channels.values()].filter((c) => c.state !== 'closed').map((c) => c.id));
      for (let id = this.isOfferer ? 1 : 0; id < 65535; id += 2) {
        if (!used.has(id)) return id;
      }
      throw engineError('OperationError', 'no stream id left');
    }

    openChannel(ch) {
      if (this.closed || ch.state !== 'connecting') return;
      if (ch.id === null) {
        ch.id = this.allocateId();
        this.emit({ type: 'channelid', channel: ch.handle, id: ch.id });
      }
      ch.state = 'open';
      if (!ch.negotiated) {
        const remote = this.remote();
        if (remote) remote.incomingChannel(ch);
      }
      this.emit({ type: 'channelopen', channel: ch.handle });
    }

    incomingChannel(src) {
      const handle = this.nextHandle++;
      const ch = { ...src, handle, negotiated: false, state: 'open' };
      this.channels.set(handle, ch);
      this.emit({
        type: 'datachannel', channel: handle, id: ch.id, label: ch.label, protocol: ch.protocol,
        ordered: ch.ordered, maxPacketLifeTime: ch.maxPacketLifeTime, maxRetransmits: ch.maxRetransmits,
      });
    }

    createDataChannel(init) {
      this.checkOpen();
      if (init.id !== null && init.id !== undefined
        && [...this.channels.values()].some((c) => c.id === init.id && c.state !== 'closed')) {
        throw engineError('OperationError', `id ${init.id} is in use`);
      }
      if (!init.negotiated) init = { ...init, id: null }; // the engine ignores it
      const handle = this.nextHandle++;
      const ch = {
        handle,
        label: init.label,
        protocol: init.protocol,
        ordered: init.ordered,
        maxPacketLifeTime: init.maxPacketLifeTime ?? null,
        maxRetransmits: init.maxRetransmits ?? null,
        negotiated: init.negotiated,
        id: init.id ?? null,
        state: 'connecting',
      };
      if (ch.id === null && this.roleKnown) ch.id = this.allocateId();
      this.channels.set(handle, ch);
      if (this.connected) setImmediate(() => this.openChannel(ch));
      return { channel: handle, id: ch.id };
    }

    findById(id) {
      for (const ch of this.channels.values()) if (ch.id === id && ch.state !== 'closed') return ch;
      return null;
    }

    send(handle, binary, data) {
      this.checkOpen();
      const ch = this.channels.get(handle);
      if (!ch || ch.state !== 'open') throw engineError('InvalidStateError', 'channel is not open');
      if (!(data instanceof Uint8Array)) throw engineError('TypeError', 'data is not a Uint8Array');
      const bytes = Buffer.from(data);
      this.sent.push({ channel: handle, binary, data: bytes });
      const remote = this.remote();
      const target = remote && remote.findById(ch.id);
      if (target) remote.emit({ type: 'message', channel: target.handle, binary, data: bytes });
      const dec = { type: 'bufferedamountdecrease', channel: handle, bytes: bytes.length };
      if (this.holdBuffered) this.held.push(dec);
      else this.emit(dec);
    }

    closeChannel(handle) {
      this.checkOpen();
      const ch = this.channels.get(handle);
      if (!ch || ch.state === 'closed') return;
      const wasOpen = ch.state === 'open';
      ch.state = 'closed';
      const remote = this.remote();
      const target = wasOpen && remote && remote.findById(ch.id);
      if (target) remote.remoteClosed(target);
      this.emit({ type: 'channelclose', channel: handle });
    }

    remoteClosed(ch) {
      ch.state = 'closed';
      this.emit({ type: 'channelclosing', channel: ch.handle }, { type: 'channelclose', channel: ch.handle });
    }

    certificate() {
      return this.cert;
    }

    close() {
      if (this.closed) return;
      const remote = this.remote();
      this.closed = true;
      this.queue.length = 0;
      if (remote) {
        for (const ch of this.channels.values()) {
          const target = ch.state === 'open' && remote.findById(ch.id);
          if (target) remote.remoteAborted(target);
        }
      }
    }

    /** The peer closed: its SCTP ABORT ends this channel with an error (as the engine). */
    remoteAborted(ch) {
      ch.state = 'closed';
      this.emit({
        type: 'channelerror', channel: ch.handle, name: 'OperationError', errorDetail: 'sctp-failure',
        message: 'peer aborted: aborted by the local user',
      }, { type: 'channelclose', channel: ch.handle });
    }
  }

  engine.NativePeer = FakePeer;
  return engine;
}

module.exports = { createFakeEngine, engineError };
