'use strict';
// An in-memory engine for unit tests of the W3C layer only. It implements the engine
// surface of js/engine/napi.js without any protocol: two fake peers find each other
// through a line in their SDP, "connect" once both have applied an answer, and pass
// data-channel messages directly. It checks what a real engine would check so that the
// JS layer's error mapping can be tested. Media: transceivers (napi/engine-contract.md,
// "Media") become fake m=audio / m=video sections (a=mid, direction, a=msid, a=rtpmap, port 0
// when stopped) that the other fake peer reads; once both ends negotiated a mid, writeFrame /
// writeRtp on one side arrive as `frame` / `rtp` events on the other, and requestKeyframe as
// `keyframerequest` at the remote sender. getCapabilities and the synthFrame hook are
// engine-level (options.noMedia / options.noSynth remove them). options.mediaStats gives the
// peers a getStats() (napi/engine-contract.md) whose RTP streams count what passed: one
// "packet" of 12 header bytes per frame, PLIs from requestKeyframe, and the sender's counts
// as its last SR (`remote`) at the receiver.
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

// ---- media (transceivers) ---------------------------------------------------------------

/** The fake engine's codecs (getCapabilities). */
const CAPABILITIES = {
  audio: {
    codecs: [
      { mimeType: 'audio/opus', clockRate: 48000, channels: 2, sdpFmtpLine: 'minptime=10;useinbandfec=1' },
      { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1 },
      { mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1 },
    ],
    headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid' }, { uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' }],
  },
  video: {
    codecs: [
      { mimeType: 'video/VP8', clockRate: 90000 },
      { mimeType: 'video/H264', clockRate: 90000, sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' },
      { mimeType: 'video/rtx', clockRate: 90000, sdpFmtpLine: 'apt=96' },
      { mimeType: 'video/red', clockRate: 90000 },
      { mimeType: 'video/ulpfec', clockRate: 90000 },
    ],
    headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid' }],
  },
};

const PT_BASE = { audio: 111, video: 96 };
const DIRS = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
const sendsDir = (d) => d === 'sendrecv' || d === 'sendonly';
const recvsDir = (d) => d === 'sendrecv' || d === 'recvonly';
function reverseDir(d) {
  return { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' }[d];
}
function dirOf(send, recv) {
  if (send && recv) return 'sendrecv';
  if (send) return 'sendonly';
  if (recv) return 'recvonly';
  return 'inactive';
}
function sameCodec(a, b) {
  return a.mimeType.toLowerCase() === b.mimeType.toLowerCase() && a.clockRate === b.clockRate
    && (a.channels ?? null) === (b.channels ?? null) && (a.sdpFmtpLine ?? null) === (b.sdpFmtpLine ?? null);
}

/** The media sections of a fake SDP: { kind, port, mid, direction, msids, trackId, codecs, ssrc }. */
function parseMedia(sdp) {
  const out = [];
  for (const block of sdp.split(/\r\n(?=m=)/).slice(1)) {
    const m = /^m=(audio|video) (\d+) /.exec(block);
    if (!m) continue;
    const section = { kind: m[1], port: Number(m[2]), mid: null, direction: 'sendrecv', msids: [], trackId: null, codecs: [], ssrc: null };
    for (const line of block.split('\r\n')) {
      let x;
      if ((x = /^a=mid:(\S+)/.exec(line))) section.mid = x[1];
      else if ((x = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line))) section.direction = x[1];
      else if ((x = /^a=msid:(\S+) (\S+)/.exec(line))) {
        if (x[1] !== '-') section.msids.push(x[1]);
        section.trackId = x[2];
      } else if ((x = /^a=rtpmap:(\d+) ([^/]+)\/(\d+)(?:\/(\d+))?/.exec(line))) {
        const c = { payloadType: Number(x[1]), mimeType: `${m[1]}/${x[2]}`, clockRate: Number(x[3]) };
        if (x[4]) c.channels = Number(x[4]);
        else if (m[1] === 'audio') c.channels = 1;
        section.codecs.push(c);
      } else if ((x = /^a=fmtp:(\d+) (.+)$/.exec(line))) {
        const c = section.codecs.find((k) => k.payloadType === Number(x[1]));
        if (c) c.sdpFmtpLine = x[2];
      } else if ((x = /^a=ssrc:(\d+)/.exec(line))) section.ssrc = Number(x[1]);
    }
    out.push(section);
  }
  return out;
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
    getCapabilities(kind) {
      if (options.noMedia || !CAPABILITIES[kind]) return null;
      return JSON.parse(JSON.stringify(CAPABILITIES[kind]));
    },
    /** The synthetic-source hook (js/lib/media-devices.js): [kind, index, keyframe]. */
    synthFrame(kind, index, info) {
      engine.synthCalls = (engine.synthCalls ?? 0) + 1;
      return new Uint8Array([kind === 'audio' ? 0xa : 0xb, index & 0xff, info && info.keyframe ? 1 : 0]);
    },
  };
  if (options.noSynth) delete engine.synthFrame;
  if (options.noMedia) delete engine.getCapabilities;

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
      // media
      this.transceivers = [];
      this.nextMid = 1;
      this.mediaSnapshot = null;
      this.framesWritten = [];
      this.rtpWritten = [];
      this.framesDropped = 0;
      this.keyframeRequests = [];
      this.dtmfSent = [];
      this.levels = new Map(); // handle -> [ssrc, level, voice]: the RFC 6464 levels heard
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

    buildSdp(setup, withApplication, media) {
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
      for (const m of media ?? []) lines.push(...this.mediaLines(m));
      return `${lines.join('\r\n')}\r\n`;
    }

    /** One fake media section: { t, direction, rejected, codecs }. */
    mediaLines({ t, direction, rejected, codecs }) {
      const lines = [`m=${t.kind} ${rejected ? 0 : 9} UDP/TLS/RTP/SAVPF ${codecs.map((c) => c.payloadType).join(' ')}`,
        `a=mid:${t.mid}`, `a=${rejected ? 'inactive' : direction}`];
      if (!rejected && sendsDir(direction) && t.trackId) {
        if (t.streamIds.length === 0) lines.push(`a=msid:- ${t.trackId}`);
        for (const id of t.streamIds) lines.push(`a=msid:${id} ${t.trackId}`);
      }
      for (const c of codecs) {
        lines.push(`a=rtpmap:${c.payloadType} ${c.mimeType.split('/')[1]}/${c.clockRate}${c.channels > 1 ? `/${c.channels}` : ''}`);
        if (c.sdpFmtpLine) lines.push(`a=fmtp:${c.payloadType} ${c.sdpFmtpLine}`);
      }
      if (!rejected && sendsDir(direction)) lines.push(`a=ssrc:${t.senderSsrc} cname:fake`);
      return lines;
    }

    /** The codecs this end offers / accepts for t (its preferences, else every capability). */
    localCodecs(t) {
      const list = t.codecPrefs.length > 0 ? t.codecPrefs : CAPABILITIES[t.kind].codecs;
      return list.map((c, i) => ({ ...c, payloadType: PT_BASE[t.kind] + i }));
    }

    /** Offer sections: every transceiver with a mid, and new ones (not stopping) get one. */
    offerMedia(assign) {
      const out = [];
      for (const t of this.transceivers) {
        if (t.stopped && t.mid === null) continue;
        if (t.mid === null) {
          if (t.stopping) continue;
          if (!assign) {
            out.push({ t: { ...t, mid: String(this.nextMid + out.filter((o) => o.fresh).length) }, direction: t.direction, rejected: false, codecs: this.localCodecs(t), fresh: true });
            continue;
          }
          t.mid = String(this.nextMid++);
          t.midFromPending = true;
        }
        out.push({ t, direction: t.stopping ? 'inactive' : t.direction, rejected: t.stopping || t.stopped, codecs: this.localCodecs(t) });
      }
      return out;
    }

    /** Answer sections, in the remote offer's order. */
    answerMedia(offerSdp) {
      return parseMedia(offerSdp).map((sec) => {
        const t = this.transceivers.find((x) => x.mid === sec.mid);
        const rejected = !t || t.stopping || t.stopped || sec.port === 0;
        const mine = t ? this.localCodecs(t) : [];
        const codecs = sec.codecs.filter((c) => mine.some((k) => sameCodec({ ...k, payloadType: 0 }, { ...c, payloadType: 0 })));
        const dir = t && !rejected ? dirOf(sendsDir(t.direction) && recvsDir(reverseDir(sec.direction)) , recvsDir(t.direction) && sendsDir(sec.direction)) : 'inactive';
        return { t: t ?? { kind: sec.kind, mid: sec.mid, streamIds: [], trackId: null }, direction: dir, rejected, codecs: codecs.length ? codecs : sec.codecs.slice(0, 1) };
      });
    }

    /** SLD(offer): the new sections' mids go to the transceivers that had none, in order. */
    assignMids(sdp) {
      const owned = new Set(this.transceivers.map((t) => t.mid).filter((m) => m !== null));
      const fresh = parseMedia(sdp).filter((m) => !owned.has(m.mid));
      const waiting = this.transceivers.filter((t) => t.mid === null && !t.stopping && !t.stopped);
      fresh.forEach((m, i) => {
        const t = waiting[i];
        if (!t || t.kind !== m.kind) return;
        t.mid = m.mid;
        t.midFromPending = true;
        const n = Number(m.mid);
        if (Number.isInteger(n) && n >= this.nextMid) this.nextMid = n + 1;
      });
    }

    snapshotMedia() {
      this.mediaSnapshot = { nextMid: this.nextMid, list: this.transceivers.map((t) => ({ ...t })) };
    }

    rollbackMedia() {
      const snap = this.mediaSnapshot;
      this.mediaSnapshot = null;
      if (!snap) return;
      const kept = [];
      for (const t of this.transceivers) {
        const was = snap.list.find((x) => x.handle === t.handle);
        if (was) {
          // restore the negotiated W3C-visible state, keep what the app changed since
          for (const k of ['mid', 'currentDirection', 'remoteStreamIds', 'receiving', 'stopped', 'codecs', 'negotiatedDirection', 'negotiatedStreams']) t[k] = was[k];
          t.midFromPending = false;
          kept.push(t);
        } else if (!t.createdByRemote || t.fromAddTrack) {
          t.mid = null;
          t.midFromPending = false;
          t.receiving = false;
          t.remoteStreamIds = [];
          kept.push(t);
        }
      }
      this.transceivers = kept;
      this.nextMid = snap.nextMid;
    }

    /** A remote offer applied: associate or create transceivers (JSEP §5.10). */
    applyRemoteOffer(sdp) {
      for (const sec of parseMedia(sdp)) {
        let t = this.transceivers.find((x) => x.mid === sec.mid);
        if (!t && sec.port !== 0) {
          t = this.transceivers.find((x) => x.mid === null && x.kind === sec.kind && !x.stopping && !x.stopped && x.fromAddTrack);
          if (t) t.mid = sec.mid;
        }
        if (!t) {
          t = this.newTransceiver({ kind: sec.kind, direction: 'recvonly', streamIds: [], trackId: null, fromAddTrack: false, sendEncodings: [{ active: true }] });
          t.mid = sec.mid;
          t.createdByRemote = true;
        }
        t.midFromPending = false;
        if (sec.port === 0) {
          t.stopping = true;
          t.stopped = true;
          t.receiving = false;
          continue;
        }
        t.remoteStreamIds = sec.msids;
        t.receiving = sendsDir(sec.direction);
        const n = Number(sec.mid);
        if (Number.isInteger(n) && n >= this.nextMid) this.nextMid = n + 1;
      }
    }

    /** Our answer applied (we answered). */
    applyLocalAnswer(sdp) {
      for (const sec of parseMedia(sdp)) {
        const t = this.transceivers.find((x) => x.mid === sec.mid);
        if (!t) continue;
        t.codecs = sec.codecs;
        if (sec.port === 0) {
          t.stopping = true;
          t.stopped = true;
          t.receiving = false;
          continue;
        }
        t.currentDirection = sec.direction;
        t.receiving = recvsDir(sec.direction);
        t.negotiatedDirection = t.direction;
        t.negotiatedStreams = t.streamIds.join(' ');
      }
      this.finishMedia();
    }

    /** Their answer applied (we offered). */
    applyRemoteAnswer(sdp) {
      const offered = new Set(parseMedia(this.descs.currentLocal.sdp).map((m) => m.mid));
      for (const sec of parseMedia(sdp)) {
        const t = this.transceivers.find((x) => x.mid === sec.mid);
        if (!t) continue;
        t.codecs = sec.codecs;
        if (sec.port === 0 || t.stopping) {
          t.stopping = true;
          t.stopped = true;
          t.receiving = false;
          continue;
        }
        t.currentDirection = reverseDir(sec.direction);
        t.receiving = recvsDir(t.currentDirection);
        t.remoteStreamIds = sec.msids;
        t.negotiatedDirection = t.direction;
        t.negotiatedStreams = t.streamIds.join(' ');
      }
      for (const t of this.transceivers) if (t.stopping && !offered.has(t.mid)) t.stopped = true;
      this.finishMedia();
    }

    finishMedia() {
      for (const t of this.transceivers) t.midFromPending = false;
      this.mediaSnapshot = null;
      // Stopped transceivers are gone once an answer is applied.
      this.transceivers = this.transceivers.filter((t) => !t.stopped);
    }

    mediaNegotiationNeeded() {
      for (const t of this.transceivers) {
        if (t.stopped) continue;
        if (t.stopping) {
          if (t.mid !== null) return true;
          continue;
        }
        if (t.mid === null) return true;
        if (t.negotiatedDirection !== undefined && t.negotiatedDirection !== t.direction) return true;
        if (sendsDir(t.direction) && t.negotiatedStreams !== undefined && t.negotiatedStreams !== t.streamIds.join(' ')) return true;
      }
      return false;
    }

    newTransceiver(init) {
      if (!['audio', 'video'].includes(init.kind)) throw engineError('TypeError', `bad kind ${init.kind}`);
      if (!DIRS.includes(init.direction)) throw engineError('TypeError', `bad direction ${init.direction}`);
      const t = {
        handle: this.nextHandle++, kind: init.kind, direction: init.direction, mid: null,
        currentDirection: null, stopping: false, stopped: false, streamIds: init.streamIds.slice(),
        trackId: init.trackId ?? null, fromAddTrack: Boolean(init.fromAddTrack), createdByRemote: false,
        sendEncodings: init.sendEncodings, codecPrefs: [], codecs: [], remoteStreamIds: [], receiving: false,
        senderSsrc: Math.floor(Math.random() * 0x100000000), midFromPending: false,
        sent: { packets: 0, bytes: 0, plis: 0 }, received: { packets: 0, bytes: 0, plis: 0, at: 0 },
      };
      this.transceivers.push(t);
      return t;
    }

    transceiver(handle) {
      const t = this.transceivers.find((x) => x.handle === handle);
      if (!t) throw engineError('InvalidAccessError', `no transceiver ${handle}`);
      return t;
    }

    addTransceiver(init) {
      this.checkOpen();
      this.calls.push(`addTransceiver:${init.kind}:${init.direction}`);
      return this.newTransceiver(init).handle;
    }

    getTransceivers() {
      const applied = this.descs.pendingRemote ?? this.descs.pendingLocal ?? this.descs.currentLocal;
      const mids = applied ? parseMedia(applied.sdp).map((m) => m.mid) : [];
      return this.transceivers.map((t) => ({
        transceiver: t.handle, kind: t.kind, mid: t.mid, direction: t.direction,
        mlineIndex: t.mid !== null && mids.includes(t.mid) ? mids.indexOf(t.mid) : null,
        currentDirection: t.stopped ? 'stopped' : t.currentDirection, stopping: t.stopping, stopped: t.stopped,
        remoteStreamIds: t.remoteStreamIds.slice(), receiving: t.receiving,
        codecs: t.codecs.map((c) => ({ ...c })), headerExtensions: t.codecs.length ? [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 }] : [],
        rtcpReducedSize: t.codecs.length > 0, senderSsrc: t.senderSsrc, remoteSsrcs: t.remoteSsrc ? [t.remoteSsrc] : [],
      }));
    }

    setTransceiverDirection(handle, direction) {
      this.checkOpen();
      if (!DIRS.includes(direction)) throw engineError('TypeError', `bad direction ${direction}`);
      this.calls.push(`setTransceiverDirection:${handle}:${direction}`);
      this.transceiver(handle).direction = direction;
    }

    stopTransceiver(handle) {
      this.checkOpen();
      this.calls.push(`stopTransceiver:${handle}`);
      this.transceiver(handle).stopping = true;
    }

    setCodecPreferences(handle, codecs) {
      this.checkOpen();
      this.transceiver(handle).codecPrefs = codecs.map((c) => ({ ...c }));
    }

    setSenderTrack(handle, trackId, fromAddTrack) {
      this.checkOpen();
      this.calls.push(`setSenderTrack:${handle}:${trackId}${fromAddTrack ? ':addTrack' : ''}`);
      const t = this.transceiver(handle);
      t.trackId = trackId;
      if (fromAddTrack) t.fromAddTrack = true;
    }

    setSenderStreams(handle, streamIds) {
      this.checkOpen();
      this.transceiver(handle).streamIds = streamIds.slice();
    }

    setSendEncodings(handle, encodings) {
      this.checkOpen();
      this.transceiver(handle).sendEncodings = encodings;
    }

    /** The remote's transceiver for our mid, when both ends negotiated it. */
    peerTransceiver(t) {
      const remote = this.remote();
      if (!remote || t.mid === null) return null;
      const rt = remote.transceivers.find((x) => x.mid === t.mid && !x.stopped && !x.stopping);
      return rt ? { remote, rt } : null;
    }

    writeFrame(handle, frame) {
      this.checkOpen();
      const t = this.transceiver(handle);
      if (!(frame.data instanceof Uint8Array)) throw engineError('TypeError', 'data is not a Uint8Array');
      this.framesWritten.push({ transceiver: handle, keyframe: frame.keyframe, timestamp: frame.timestamp, data: Buffer.from(frame.data), audioLevel: frame.audioLevel });
      const peer = !t.stopping && sendsDir(t.currentDirection) ? this.peerTransceiver(t) : null;
      if (!peer || !peer.rt.receiving) {
        this.framesDropped += 1;
        return;
      }
      const codec = t.codecs[0];
      const clock = codec ? codec.clockRate : 90000;
      peer.rt.remoteSsrc = t.senderSsrc;
      t.sent.packets += 1;
      t.sent.bytes += frame.data.byteLength;
      peer.rt.received.packets += 1;
      peer.rt.received.bytes += frame.data.byteLength;
      peer.rt.received.at = Date.now();
      if (typeof frame.audioLevel === 'number') peer.remote.levels.set(peer.rt.handle, [t.senderSsrc, frame.audioLevel, 0]);
      peer.remote.emit({
        type: 'frame', transceiver: peer.rt.handle, keyframe: Boolean(frame.keyframe),
        rtpTimestamp: Math.round(frame.timestamp * clock / 1e6) >>> 0, timestamp: frame.timestamp,
        data: Buffer.from(frame.data), mimeType: codec ? codec.mimeType : null, ssrc: t.senderSsrc, csrcs: [],
        ...(t.kind === 'audio' ? { audioLevel: 0.5 } : {}),
      });
    }

    writeRtp(handle, packet) {
      this.checkOpen();
      const t = this.transceiver(handle);
      this.rtpWritten.push({ transceiver: handle, data: Buffer.from(packet) });
      const peer = !t.stopping && sendsDir(t.currentDirection) ? this.peerTransceiver(t) : null;
      if (!peer || !peer.rt.receiving) return;
      peer.remote.emit({ type: 'rtp', transceiver: peer.rt.handle, data: Buffer.from(packet), ssrc: t.senderSsrc, csrcs: [], rtpTimestamp: 0 });
    }

    audioLevels(handle) { return this.levels.get(handle) ?? []; }

    insertDtmf(handle, event, duration, volume) {
      this.checkOpen();
      this.transceiver(handle);
      this.dtmfSent.push({ transceiver: handle, event, duration, volume });
      return true;
    }

    requestKeyframe(handle) {
      this.checkOpen();
      const t = this.transceiver(handle);
      this.keyframeRequests.push(handle);
      const peer = this.peerTransceiver(t);
      if (peer) {
        t.received.plis += 1;
        peer.rt.sent.plis += 1;
        peer.remote.emit({ type: 'keyframerequest', transceiver: peer.rt.handle });
      }
    }

    /** options.mediaStats: the engine's getStats() object, RTP streams only. */
    mediaStats() {
      const codecOf = (t) => {
        const c = t.codecs[0];
        if (!c) return {};
        const out = { payloadType: c.payloadType, mimeType: c.mimeType, clockRate: c.clockRate };
        if (c.channels) out.channels = c.channels;
        if (c.sdpFmtpLine) out.sdpFmtpLine = c.sdpFmtpLine;
        return out;
      };
      const video = (t, n) => (t.kind === 'video' ? { pliCount: n, firCount: 0 } : {});
      const inboundRtp = this.transceivers.filter((t) => t.received.packets > 0).map((t) => {
        const sender = this.remote()?.transceivers.find((x) => x.senderSsrc === t.remoteSsrc);
        const entry = {
          ssrc: t.remoteSsrc, kind: t.kind, mid: t.mid, ...codecOf(t),
          packetsReceived: t.received.packets, bytesReceived: t.received.bytes, headerBytesReceived: 12 * t.received.packets,
          lastPacketReceivedAgeMs: Date.now() - t.received.at, packetsLost: 0, jitter: 0, nackCount: 0, ...video(t, t.received.plis),
        };
        if (sender) {
          entry.remote = {
            packetsSent: sender.sent.packets, bytesSent: sender.sent.bytes, reportsSent: sender.sent.packets,
            receivedAgeMs: 5, remoteTimestamp: t.received.at,
          };
        }
        return entry;
      });
      const outboundRtp = this.transceivers.filter((t) => t.sent.packets > 0).map((t) => ({
        ssrc: t.senderSsrc, kind: t.kind, mid: t.mid, active: true, ...codecOf(t),
        packetsSent: t.sent.packets, bytesSent: t.sent.bytes, headerBytesSent: 12 * t.sent.packets,
        retransmittedPacketsSent: 0, retransmittedBytesSent: 0, nackCount: 0, ...video(t, t.sent.plis),
      }));
      return {
        transport: { packetsSent: 0, packetsReceived: 0, bytesSent: 0, bytesReceived: 0, datagramsDroppedOffPath: 0 },
        candidatePairs: [], remoteCandidates: [], localCertificate: null, remoteCertificate: null,
        localCandidates: [{ address: '127.0.0.1', port: 40000 + this.id, protocol: 'udp', candidateType: 'host', priority: 2130706431, foundation: '1' }],
        inboundRtp, outboundRtp,
      };
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
      return this.buildSdp('actpass', this.hasApplication(), this.offerMedia(false));
    }

    createAnswer() {
      this.checkOpen();
      this.calls.push('createAnswer');
      if (this.signalingState !== 'have-remote-offer' && this.signalingState !== 'have-local-pranswer') {
        throw engineError('InvalidStateError', 'no remote offer');
      }
      const offer = this.descs.pendingRemote;
      return this.buildSdp('active', /^m=application /m.test(offer.sdp), this.answerMedia(offer.sdp));
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
        this.rollbackMedia();
        return { type: 'rollback', sdp: '' };
      }
      if (type === 'offer') {
        if (s !== 'stable' && s !== 'have-local-offer') throw engineError('InvalidStateError', `offer in ${s}`);
        if (s === 'stable') this.snapshotMedia();
        let text = sdp;
        if (text === null) text = this.createOffer();
        // The mids the offer names are fixed now.
        this.assignMids(text);
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
          this.applyLocalAnswer(text);
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
        this.rollbackMedia();
        return;
      }
      const parsed = FakePeer.parse(sdp);
      if (type === 'offer') {
        if (s !== 'stable' && s !== 'have-remote-offer') throw engineError('InvalidStateError', `offer in ${s}`);
        if (s === 'stable') this.snapshotMedia();
        this.descs.pendingRemote = { type, sdp };
        this.signalingState = 'have-remote-offer';
        this.applyRemoteOffer(sdp);
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
          this.applyRemoteAnswer(sdp);
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
        negotiationNeeded: (this.channels.size > 0 && !(local && /^m=application /m.test(local.sdp)))
          || this.mediaNegotiationNeeded(),
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

  if (options.mediaStats) FakePeer.prototype.getStats = FakePeer.prototype.mediaStats;
  engine.NativePeer = FakePeer;
  return engine;
}

module.exports = { createFakeEngine, engineError, parseMedia, CAPABILITIES };
