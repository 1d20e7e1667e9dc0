import {
  INTERNAL, domException, mapEngineError, callEngine, toDictionary, toEnum, toDOMString,
  toUSVString, toBoolean, enforceRange, utf8Length, fire, defineEventHandlers,
} from './util.js';
import {
  convertConfiguration, validateIceServers, validateCertificates, stunServersFor, turnServersFor, cloneIceServers,
  normalizeIceServer, validateRelay,
} from './configuration.js';
import { RTCSessionDescription, SDP_TYPES } from './rtc-session-description.js';
import { RTCIceCandidate } from './rtc-ice-candidate.js';
import { RTCPeerConnectionIceEvent } from './rtc-peer-connection-ice-event.js';
import { RTCPeerConnectionIceErrorEvent } from './rtc-peer-connection-ice-error-event.js';
import { RTCDataChannelEvent } from './rtc-data-channel-event.js';
import { createDataChannelObject } from './rtc-data-channel.js';
import { ERROR_DETAILS, RTCError } from './rtc-error.js';
import { RTCErrorEvent } from './rtc-error-event.js';
import { wrapCertificate, nativeCertificate, normalizeKeygenAlgorithm } from './rtc-certificate.js';
import { RTCIceTransport } from './rtc-ice-transport.js';
import { RTCDtlsTransport } from './rtc-dtls-transport.js';
import { RTCSctpTransport } from './rtc-sctp-transport.js';
import { RTCStatsReport, statsTimestamp } from './rtc-stats-report.js';
import { PeerMedia } from './peer-media.js';
import { MediaStreamTrack } from './media-stream-track.js';

// A macrotask: setImmediate where the runtime has it (Node, Bun), else a zero-delay timer.
const queueTask = typeof globalThis.setImmediate === 'function'
  ? (f) => globalThis.setImmediate(f)
  : (f) => setTimeout(f, 0);

/** Largest label / protocol, in UTF-8 bytes (webrtc-pc §6.1 createDataChannel). */
const MAX_LABEL_BYTES = 65535;
/** generateCertificate's lifetime when the algorithm has no `expires` (webrtc-pc: 30 days). */
const DEFAULT_CERT_LIFETIME_MS = 30 * 24 * 3600 * 1000;
/** Longest lifetime generateCertificate gives ("If expires is greater than 31536000000 ..."). */
const MAX_CERT_LIFETIME_MS = 365 * 24 * 3600 * 1000;
/** Closed data channels whose stats getStats() still reports (the most recent ones). */
const MAX_CLOSED_CHANNEL_STATS = 1024;
/** Default remote max-message-size when the SDP has no a=max-message-size (RFC 8841 §6). */
const DEFAULT_MAX_MESSAGE_SIZE = 65536;

const PEER_EVENTS = [
  'negotiationneeded', 'icecandidate', 'icecandidateerror', 'signalingstatechange',
  'iceconnectionstatechange', 'icegatheringstatechange', 'connectionstatechange',
  'datachannel', 'track',
];

/** Valid signaling states for applying a description (JSEP §5.7 / webrtc-pc §4.4.1.5). */
const VALID_STATES = {
  local: {
    offer: ['stable', 'have-local-offer'],
    answer: ['have-remote-offer', 'have-local-pranswer'],
    pranswer: ['have-remote-offer', 'have-local-pranswer'],
    rollback: ['have-local-offer'],
  },
  remote: {
    offer: ['stable', 'have-remote-offer', 'have-local-offer'],
    answer: ['have-local-offer', 'have-remote-pranswer'],
    pranswer: ['have-local-offer', 'have-remote-pranswer'],
    rollback: ['have-remote-offer'],
  },
};

function invalidState(message) {
  return domException('InvalidStateError', message || 'The RTCPeerConnection is closed');
}

/** Reject instead of throwing: promise-returning operations never throw synchronously. */
function promiseFrom(fn) {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * The RTCIceParameters a description carries (its first a=ice-ufrag / a=ice-pwd, session or
 * media level; with BUNDLE every section has the same), or null.
 */
function iceParameters(description) {
  const sdp = description && description.sdp;
  if (typeof sdp !== 'string') return null;
  const ufrag = /^a=ice-ufrag:([^\r\n]+)/m.exec(sdp);
  const pwd = /^a=ice-pwd:([^\r\n]+)/m.exec(sdp);
  return ufrag && pwd ? { usernameFragment: ufrag[1].trim(), password: pwd[1].trim() } : null;
}

function sdpHasApplication(sdp) {
  return typeof sdp === 'string' && /^m=application /m.test(sdp);
}

function sdpFirstMid(sdp) {
  const m = typeof sdp === 'string' && /^a=mid:(\S+)/m.exec(sdp);
  return m ? m[1] : null;
}

function sdpUfrag(sdp) {
  const m = typeof sdp === 'string' && /^a=ice-ufrag:(\S+)/m.exec(sdp);
  return m ? m[1] : null;
}

function sdpMaxMessageSize(sdp) {
  if (typeof sdp !== 'string') return DEFAULT_MAX_MESSAGE_SIZE;
  const m = /^a=max-message-size:(\d+)/m.exec(sdp);
  if (!m) return DEFAULT_MAX_MESSAGE_SIZE;
  const n = Number(m[1]);
  return n === 0 ? Infinity : n;
}

/**
 * webrtc-pc §4.4.1.5: SDP that does not parse rejects with an RTCError (name OperationError)
 * whose errorDetail is 'sdp-syntax-error' and sdpLineNumber the engine's 1-based line.
 */
function sdpSyntaxError(err) {
  const message = err && typeof err.message === 'string' ? err.message : '';
  const m = /failed to parse session description: invalid SDP at line (\d+)/.exec(message);
  if (!m) return null;
  const text = message.replace(/^OperationError:\s*/, '');
  const line = Number(m[1]);
  return new RTCError(line > 0 ? { errorDetail: 'sdp-syntax-error', sdpLineNumber: line }
    : { errorDetail: 'sdp-syntax-error' }, text);
}

function sameDescription(a, b) {
  if (a === null || b === null) return a === b;
  return a.type === b.type && a.sdp === b.sdp;
}

// ---- getStats() entries from the engine's figures (webrtc-stats) --------------------------

/** FNV-1a (32 bits) as 8 hex digits: short stats ids that stay the same across calls. */
function statsHash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 (RFC 4648 §4) of bytes, without Node's Buffer (the layer runs in browsers too). */
function base64(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += BASE64[(n >> 18) & 63] + BASE64[(n >> 12) & 63]
      + (i + 1 < bytes.length ? BASE64[(n >> 6) & 63] : '=')
      + (i + 2 < bytes.length ? BASE64[n & 63] : '=');
  }
  return out;
}

/**
 * The transport-level entries of getStats() (webrtc-stats §8.17-§8.20 RTCTransportStats,
 * RTCIceCandidatePairStats, RTCIceCandidateStats, RTCCertificateStats) from the engine's
 * getStats() object; `transport` (the 'transport' entry being built) gets the engine's
 * counters and the ids of the other entries. Ids are derived from what the entry describes,
 * so they are the same in every report: `I<hash>` candidates, `CP<local>_<remote>` pairs,
 * `CF<fingerprint>` certificates, `IT`/`OT`/`RI`/`RO<ssrc>` RTP streams, `CI`/`CO<transport>_<pt>`
 * codecs (receive / send), `SA`/`SV<hash>` media sources. `media` (PeerMedia.statsView()):
 * the transceivers' mids, SSRCs and tracks, for track ids and media sources.
 */
function engineStatsEntries(core, transport, timestamp, media = []) {
  const transportId = transport.id;
  const out = [];
  const taken = new Set();
  const add = (id, entry) => {
    taken.add(id);
    out.push([id, entry]);
  };
  const candidateIds = new Map();
  const candidateEntry = (c, remote) => {
    const key = `${remote ? 'R' : 'L'}|${c.candidateType}|${c.protocol}|${c.address}|${c.port}`;
    let id = candidateIds.get(key);
    if (id !== undefined) return id;
    id = `I${statsHash(key)}`;
    while (taken.has(id)) id = `I${statsHash(`${id}|${key}`)}`;
    candidateIds.set(key, id);
    const entry = {
      id, type: remote ? 'remote-candidate' : 'local-candidate', timestamp, transportId,
      address: c.address, port: c.port, protocol: c.protocol, candidateType: c.candidateType,
      priority: c.priority, foundation: c.foundation,
    };
    for (const k of ['relatedAddress', 'relatedPort', 'usernameFragment', 'url', 'relayProtocol', 'tcpType']) {
      if (c[k] !== undefined && c[k] !== null) entry[k] = c[k];
    }
    add(id, entry);
    return id;
  };
  for (const c of core.localCandidates) candidateEntry(c, false);
  for (const c of core.remoteCandidates) candidateEntry(c, true);
  const PAIR_COUNTERS = [
    'packetsSent', 'packetsReceived', 'bytesSent', 'bytesReceived', 'requestsSent', 'requestsReceived',
    'responsesSent', 'responsesReceived', 'consentRequestsSent', 'totalRoundTripTime',
  ];
  for (const p of core.candidatePairs) {
    const localCandidateId = candidateEntry(p.local, false);
    const remoteCandidateId = candidateEntry(p.remote, true);
    const id = `CP${localCandidateId.slice(1)}_${remoteCandidateId.slice(1)}`;
    const entry = {
      id, type: 'candidate-pair', timestamp, transportId, localCandidateId, remoteCandidateId,
      state: p.state, nominated: p.nominated,
    };
    for (const k of PAIR_COUNTERS) entry[k] = p[k];
    if (typeof p.currentRoundTripTime === 'number') entry.currentRoundTripTime = p.currentRoundTripTime;
    if (typeof p.lastPacketSentAgeMs === 'number') entry.lastPacketSentTimestamp = timestamp - p.lastPacketSentAgeMs;
    if (typeof p.lastPacketReceivedAgeMs === 'number') {
      entry.lastPacketReceivedTimestamp = timestamp - p.lastPacketReceivedAgeMs;
    }
    if (typeof p.availableOutgoingBitrate === 'number') entry.availableOutgoingBitrate = p.availableOutgoingBitrate;
    if (!taken.has(id)) add(id, entry);
    if (p.selected) transport.selectedCandidatePairId = id;
  }
  const t = core.transport;
  for (const k of ['bytesSent', 'bytesReceived', 'packetsSent', 'packetsReceived', 'iceRole',
    'iceLocalUsernameFragment', 'dtlsRole', 'tlsVersion', 'dtlsCipher', 'srtpCipher', 'datagramsDroppedOffPath']) {
    if (t[k] !== undefined && t[k] !== null) transport[k] = t[k];
  }
  const certificateEntry = (c) => {
    const id = `CF${c.fingerprint}`;
    if (!taken.has(id)) {
      add(id, {
        id, type: 'certificate', timestamp, fingerprint: c.fingerprint,
        fingerprintAlgorithm: c.fingerprintAlgorithm, base64Certificate: base64(c.der),
      });
    }
    return id;
  };
  if (core.localCertificate) transport.localCertificateId = certificateEntry(core.localCertificate);
  if (core.remoteCertificate) transport.remoteCertificateId = certificateEntry(core.remoteCertificate);
  // webrtc-stats RTCCodecStats: one per transport, payload type and direction (a payload
  // type we send is the peer's, one we receive is ours: the same number may differ).
  const codecEntry = (r, direction) => {
    if (!r.mimeType) return undefined;
    const codecId = `${direction === 'send' ? 'CO' : 'CI'}${transportId}_${r.payloadType}`;
    if (!taken.has(codecId)) {
      const codec = {
        id: codecId, type: 'codec', timestamp, transportId, payloadType: r.payloadType,
        mimeType: r.mimeType, clockRate: r.clockRate,
      };
      if (typeof r.channels === 'number') codec.channels = r.channels;
      if (r.sdpFmtpLine) codec.sdpFmtpLine = r.sdpFmtpLine;
      add(codecId, codec);
    }
    return codecId;
  };
  // The transceiver of an RTP stream (its mid, else its SSRC), for track ids.
  const transceiverOf = (r, remote) => media.find((m) => (m.mid !== null && r.mid === m.mid)
    || (remote ? m.remoteSsrcs.includes(r.ssrc) : m.senderSsrc === r.ssrc));
  // webrtc-stats RTCAudioSourceStats / RTCVideoSourceStats: one per track a sender has.
  // The synthetic camera's size and rate are known (it makes its frames to its settings);
  // no audio level is measured (the layer never decodes).
  const sourceIds = new Map();
  for (const m of media) {
    const track = m.senderTrack;
    if (!track || sourceIds.has(track)) continue;
    const id = `${track.kind === 'audio' ? 'SA' : 'SV'}${statsHash(track.id)}`;
    sourceIds.set(track, id);
    const entry = { id, type: 'media-source', timestamp, kind: track.kind, trackIdentifier: track.id };
    const settings = track.getSettings();
    if (track.kind === 'video' && settings.deviceId === 'polyrtc-synthetic-video') {
      for (const [k, from] of [['width', 'width'], ['height', 'height'], ['framesPerSecond', 'frameRate']]) {
        if (typeof settings[from] === 'number') entry[k] = settings[from];
      }
    }
    if (!taken.has(id)) add(id, entry);
  }
  // webrtc-stats §8.5 RTCInboundRtpStreamStats, one per remote SSRC, and the
  // RTCRemoteOutboundRtpStreamStats of its sender's last SR.
  const INBOUND_COUNTERS = [
    'framesReceived', 'framesAssembledFromMultiplePackets', 'framesDropped', 'packetsLost', 'jitter',
    'nackCount', 'pliCount', 'firCount', 'retransmittedPacketsReceived', 'retransmittedBytesReceived',
  ];
  for (const r of core.inboundRtp ?? []) {
    const id = `IT${r.ssrc}`;
    const entry = {
      id, type: 'inbound-rtp', timestamp, transportId, ssrc: r.ssrc,
      packetsReceived: r.packetsReceived, bytesReceived: r.bytesReceived, headerBytesReceived: r.headerBytesReceived,
    };
    if (r.kind) entry.kind = r.kind;
    if (r.mid) entry.mid = r.mid;
    const receiverTrack = transceiverOf(r, true)?.receiverTrack;
    if (receiverTrack) entry.trackIdentifier = receiverTrack.id;
    for (const k of INBOUND_COUNTERS) {
      if (typeof r[k] === 'number') entry[k] = r[k];
    }
    if (typeof r.lastPacketReceivedAgeMs === 'number') {
      entry.lastPacketReceivedTimestamp = timestamp - r.lastPacketReceivedAgeMs;
    }
    const codecId = codecEntry(r, 'receive');
    if (codecId) entry.codecId = codecId;
    if (r.remote) {
      const remoteId = `RO${r.ssrc}`;
      entry.remoteId = remoteId;
      // A remote entry's timestamp is when its report arrived (webrtc-stats §8.1).
      const remote = {
        id: remoteId, type: 'remote-outbound-rtp', timestamp: timestamp - r.remote.receivedAgeMs, transportId,
        ssrc: r.ssrc, localId: id, packetsSent: r.remote.packetsSent, bytesSent: r.remote.bytesSent,
        reportsSent: r.remote.reportsSent,
      };
      if (r.kind) remote.kind = r.kind;
      if (codecId) remote.codecId = codecId;
      if (typeof r.remote.remoteTimestamp === 'number') remote.remoteTimestamp = r.remote.remoteTimestamp;
      if (!taken.has(remoteId)) add(remoteId, remote);
    }
    if (!taken.has(id)) add(id, entry);
  }
  // webrtc-stats §8.6 RTCOutboundRtpStreamStats per stream we send, §8.7
  // RTCRemoteInboundRtpStreamStats from the peer's report blocks about it.
  for (const r of core.outboundRtp ?? []) {
    const id = `OT${r.ssrc}`;
    const entry = {
      id, type: 'outbound-rtp', timestamp, transportId, ssrc: r.ssrc, kind: r.kind,
      packetsSent: r.packetsSent, bytesSent: r.bytesSent,
      retransmittedPacketsSent: r.retransmittedPacketsSent, retransmittedBytesSent: r.retransmittedBytesSent,
    };
    if (r.mid) entry.mid = r.mid;
    if (r.rid) entry.rid = r.rid;
    if (typeof r.active === 'boolean') entry.active = r.active;
    for (const k of ['framesSent', 'headerBytesSent', 'nackCount', 'pliCount', 'firCount']) {
      if (typeof r[k] === 'number') entry[k] = r[k];
    }
    const codecId = codecEntry(r, 'send');
    if (codecId) entry.codecId = codecId;
    const senderTrack = transceiverOf(r, false)?.senderTrack;
    if (senderTrack && sourceIds.has(senderTrack)) entry.mediaSourceId = sourceIds.get(senderTrack);
    if (r.remote) {
      const remoteId = `RI${r.ssrc}`;
      entry.remoteId = remoteId;
      const at = typeof r.remote.receivedAgeMs === 'number' ? timestamp - r.remote.receivedAgeMs : timestamp;
      const remote = {
        id: remoteId, type: 'remote-inbound-rtp', timestamp: at, transportId, ssrc: r.ssrc, kind: r.kind,
        localId: id, packetsLost: r.remote.packetsLost, fractionLost: r.remote.fractionLost,
        jitter: r.remote.jitter, totalRoundTripTime: r.remote.totalRoundTripTime,
        roundTripTimeMeasurements: r.remote.roundTripTimeMeasurements,
      };
      if (typeof r.remote.reportsReceived === 'number') remote.reportsReceived = r.remote.reportsReceived;
      if (typeof r.remote.roundTripTime === 'number') remote.roundTripTime = r.remote.roundTripTime;
      if (codecId) remote.codecId = codecId;
      if (!taken.has(remoteId)) add(remoteId, remote);
    }
    if (!taken.has(id)) add(id, entry);
  }
  return out;
}

/**
 * The entries of `report` a sender's / receiver's getStats() gives (webrtc-pc §8.5 "stats
 * selection algorithm"): its RTP stream stats and every stats object they reference (ids
 * in members whose names end in `Id`), transitively.
 */
function selectStats(report, selection) {
  const picked = new Map();
  const visit = (id) => {
    if (picked.has(id) || !report.has(id)) return;
    const entry = report.get(id);
    picked.set(id, entry);
    for (const [k, v] of Object.entries(entry)) {
      if (k !== 'id' && k.endsWith('Id') && typeof v === 'string') visit(v);
    }
  };
  for (const [id, entry] of report) if (PeerMedia.selects(selection, entry)) visit(id);
  return new RTCStatsReport(INTERNAL, [...picked]);
}

/** Build the RTCPeerConnection class bound to one engine (and its RTP classes). */
function makeRTCPeerConnection(engine, rtp) {
  /** Open connections, kept reachable while the engine may still call back into them. */
  const live = new Set();

  class RTCPeerConnection extends EventTarget {
    #native;
    #config;
    #closed = false;
    /** setLocalDescription() has been called (the iceCandidatePoolSize rule of setConfiguration). */
    #setLocalDescriptionCalled = false;
    #chain = [];
    #updateNegotiationNeededOnEmptyChain = false;
    #negotiationNeeded = false;
    #signalingState = 'stable';
    #iceGatheringState = 'new';
    /** The '' candidate fired; the task that sets 'complete' is queued. */
    #gatheringCompleting = false;
    #iceConnectionState = 'new';
    #connectionState = 'new';
    #canTrickle = null;
    #descs = { currentLocal: null, pendingLocal: null, currentRemote: null, pendingRemote: null };
    #lastCreatedOffer = '';
    #lastCreatedAnswer = '';
    #channels = new Map();
    #createdDataChannel = false;
    #iceTransport;
    #dtlsTransport;
    #sctp = null;
    #channelOwner;
    /** ICE gathering events the engine produced before any local description (held back). */
    #heldIceEvents = [];
    /** getStats(): counters the layer keeps (webrtc-stats RTCPeerConnectionStats ...). */
    #stats = { dataChannelsOpened: 0, dataChannelsClosed: 0, selectedCandidatePairChanges: 0 };
    /** Stats id of each data channel ever created here, in creation order. */
    #channelStatsIds = new Map();
    #nextChannelStatsId = 1;
    /** Closed channels still reported by getStats() (bounded). */
    #closedChannels = [];
    /** The transceivers and the media steps of applying descriptions (peer-media.js). */
    #media;

    constructor(configuration = {}) {
      super();
      const config = convertConfiguration(configuration);
      validateCertificates(config.certificates);
      const parsedUrls = validateIceServers(config.iceServers);
      config.iceServers = config.iceServers.map(normalizeIceServer);
      const nativeConfig = { stunServers: stunServersFor(parsedUrls) };
      const turnServers = turnServersFor(config.iceServers);
      if (turnServers.length > 0) nativeConfig.turnServers = turnServers;
      if (config.turnsCa !== undefined) {
        nativeConfig.turnsCa = Array.isArray(config.turnsCa) ? config.turnsCa.join('\n') : config.turnsCa;
      }
      if (config.iceTransportPolicy !== 'all') nativeConfig.iceTransportPolicy = config.iceTransportPolicy;
      if (config.mdnsHostCandidates) nativeConfig.mdnsHostCandidates = true;
      if (config.sharedUdpPort !== undefined) nativeConfig.sharedUdpPort = config.sharedUdpPort;
      if (config.iceLite) nativeConfig.iceLite = true;
      if (config.certificates.length > 0) {
        nativeConfig.certificates = config.certificates.map(nativeCertificate);
      }
      if (config.relay !== undefined) {
        config.relay = validateRelay(config.relay);
        nativeConfig.relay = cloneIceServers(config.relay);
      }
      if (engine.peerOptions) Object.assign(nativeConfig, engine.peerOptions());
      // The engine holds onEvents until close(); a WeakRef lets a connection that was never
      // started be collected (the engine's finalizer then frees the native peer). Once
      // started, `live` keeps it reachable until close().
      const self = new WeakRef(this);
      this.#native = callEngine(() => new engine.NativePeer(nativeConfig, (events) => {
        const pc = self.deref();
        if (pc) pc.#onEvents(events);
      }));
      // [[Configuration]]: the certificates as given (the generated default one is not part
      // of it: "the value of certificates remains undefined").
      this.#config = config;
      this.#iceTransport = new RTCIceTransport(INTERNAL);
      this.#dtlsTransport = new RTCDtlsTransport(INTERNAL, this.#iceTransport);
      const native = this.#native;
      this.#media = new PeerMedia({
        native: () => native,
        closed: () => { const pc = self.deref(); return !pc || pc.#closed; },
        updateNegotiationNeeded: () => { const pc = self.deref(); if (pc) pc.#updateNegotiationNeeded(); },
        chain: (op) => {
          const pc = self.deref();
          return pc ? pc.#chainOperation(op) : Promise.reject(invalidState());
        },
        dtlsTransport: () => { const pc = self.deref(); return pc ? pc.#dtlsTransport : null; },
        stats: (selection) => {
          const pc = self.deref();
          if (!pc) return Promise.reject(invalidState());
          return new Promise((resolve) => {
            queueTask(() => resolve(selectStats(pc.#statsReport(), selection)));
          });
        },
        dispatch: (event) => { const pc = self.deref(); if (pc) pc.dispatchEvent(event); },
      }, rtp);
      this.#channelOwner = {
        send: (handle, binary, bytes) => native.send(handle, binary, bytes),
        closeChannel: (handle) => native.closeChannel(handle),
        maxMessageSize: () => {
          const pc = self.deref();
          return pc && pc.#sctp ? pc.#sctp.maxMessageSize : null;
        },
        stateChanged: (channel, state, before) => {
          const pc = self.deref();
          if (pc) pc.#channelStateChanged(channel, state, before);
        },
      };
    }

    static generateCertificate(keygenAlgorithm) {
      return promiseFrom(() => {
        if (arguments.length < 1) throw new TypeError('generateCertificate: 1 argument required');
        // webrtc-pc generateCertificate steps 2-3: the lifetime, from the argument converted to
        // an RTCCertificateExpiration when it is an object, capped at 365 days.
        let expires = DEFAULT_CERT_LIFETIME_MS;
        if ((typeof keygenAlgorithm === 'object' && keygenAlgorithm !== null) || typeof keygenAlgorithm === 'function') {
          const given = keygenAlgorithm.expires;
          if (given !== undefined) expires = enforceRange(given, 0, Number.MAX_SAFE_INTEGER, 'expires');
          if (expires > MAX_CERT_LIFETIME_MS) expires = MAX_CERT_LIFETIME_MS;
        }
        // Steps 4-6: normalize the algorithm (WebCrypto) and refuse what cannot sign DTLS.
        const algorithm = normalizeKeygenAlgorithm(keygenAlgorithm);
        // The engine makes the certificate valid until now + expires (whole seconds, not
        // later) and reports that notAfter as `expires`, so the attribute is the real validity.
        if (algorithm.kind === 'rsa') {
          // RSA key generation takes up to seconds: the engine runs it off the JS thread.
          if (typeof engine.generateRsaCertificate !== 'function') {
            throw domException('NotSupportedError', 'this engine cannot generate RSA certificates');
          }
          return callEngine(() => engine.generateRsaCertificate(algorithm.modulusLength, expires))
            .then(wrapCertificate, (err) => { throw mapEngineError(err); });
        }
        const native = callEngine(() => engine.generateCertificate(expires));
        return wrapCertificate(native);
      });
    }

    // ---- attributes -----------------------------------------------------------------

    get localDescription() { return this.#descs.pendingLocal ?? this.#descs.currentLocal; }
    get currentLocalDescription() { return this.#descs.currentLocal; }
    get pendingLocalDescription() { return this.#descs.pendingLocal; }
    get remoteDescription() { return this.#descs.pendingRemote ?? this.#descs.currentRemote; }
    get currentRemoteDescription() { return this.#descs.currentRemote; }
    get pendingRemoteDescription() { return this.#descs.pendingRemote; }
    get signalingState() { return this.#signalingState; }
    get iceGatheringState() { return this.#iceGatheringState; }
    get iceConnectionState() { return this.#iceConnectionState; }
    get connectionState() { return this.#connectionState; }
    get canTrickleIceCandidates() { return this.#canTrickle; }
    get sctp() { return this.#sctp; }

    // ---- operations chain -----------------------------------------------------------

    /** webrtc-pc §4.4.1.2 "chain an operation". */
    #chainOperation(operation) {
      if (this.#closed) return Promise.reject(invalidState());
      return new Promise((resolve, reject) => {
        this.#chain.push({ operation, resolve, reject });
        if (this.#chain.length === 1) this.#executeFirst();
      });
    }

    #executeFirst() {
      const entry = this.#chain[0];
      queueMicrotask(() => {
        if (this.#closed || this.#chain[0] !== entry) return;
        let value;
        let error = null;
        try {
          value = entry.operation();
        } catch (err) {
          error = mapEngineError(err);
        }
        // "Upon fulfillment or rejection ...: if [[IsClosed]] is true, abort these steps":
        // an operation pending when close() was called never settles.
        if (this.#closed) return;
        if (error) entry.reject(error);
        else entry.resolve(value);
        this.#chain.shift();
        if (this.#chain.length > 0) {
          this.#executeFirst();
        } else if (this.#updateNegotiationNeededOnEmptyChain) {
          this.#updateNegotiationNeededOnEmptyChain = false;
          this.#updateNegotiationNeeded();
        }
      });
    }

    /** webrtc-pc §4.7.3 "update the negotiation-needed flag". */
    #updateNegotiationNeeded() {
      if (this.#chain.length > 0) {
        this.#updateNegotiationNeededOnEmptyChain = true;
        return;
      }
      queueTask(() => {
        if (this.#closed) return;
        if (this.#chain.length > 0) {
          this.#updateNegotiationNeededOnEmptyChain = true;
          return;
        }
        if (this.#signalingState !== 'stable') return;
        let needed;
        try {
          needed = Boolean(this.#native.getState().negotiationNeeded);
        } catch (err) {
          return;
        }
        if (!needed) {
          this.#negotiationNeeded = false;
          return;
        }
        if (this.#negotiationNeeded) return;
        this.#negotiationNeeded = true;
        fire(this, 'negotiationneeded');
      });
    }

    // ---- offer / answer ---------------------------------------------------------------

    createOffer(options = undefined) {
      return promiseFrom(() => {
        const dict = toDictionary(options, 'RTCOfferOptions');
        // JSEP §5.2.1: iceRestart asks for new ICE credentials in this offer.
        const iceRestart = dict.iceRestart === undefined ? false : Boolean(dict.iceRestart);
        return this.#chainOperation(() => {
          // "create an offer": neither 'stable' nor 'have-local-offer' -> InvalidStateError.
          if (this.#signalingState !== 'stable' && this.#signalingState !== 'have-local-offer') {
            throw invalidState(`createOffer called in state ${this.#signalingState}`);
          }
          const sdp = String(iceRestart ? this.#native.createOffer(true) : this.#native.createOffer());
          this.#lastCreatedOffer = sdp;
          return { type: 'offer', sdp };
        });
      });
    }

    createAnswer(options = undefined) {
      return promiseFrom(() => {
        toDictionary(options, 'RTCAnswerOptions');
        return this.#chainOperation(() => {
          if (this.#signalingState !== 'have-remote-offer'
            && this.#signalingState !== 'have-local-pranswer') {
            throw invalidState(`createAnswer called in state ${this.#signalingState}`);
          }
          const sdp = String(this.#native.createAnswer());
          this.#lastCreatedAnswer = sdp;
          return { type: 'answer', sdp };
        });
      });
    }

    setLocalDescription(description = {}) {
      return promiseFrom(() => {
        const dict = toDictionary(description, 'RTCLocalSessionDescriptionInit');
        const sdp = dict.sdp === undefined ? '' : toDOMString(dict.sdp);
        const type = dict.type === undefined ? null : toEnum(dict.type, SDP_TYPES, 'RTCSdpType');
        this.#setLocalDescriptionCalled = true;
        return this.#chainOperation(() => {
          let t = type;
          if (t === null) {
            const s = this.#signalingState;
            t = s === 'stable' || s === 'have-local-offer' || s === 'have-remote-pranswer'
              ? 'offer' : 'answer';
          }
          if (t === 'offer' && sdp !== '' && sdp !== this.#lastCreatedOffer) {
            throw domException('InvalidModificationError', 'the SDP is not the last created offer');
          }
          if ((t === 'answer' || t === 'pranswer') && sdp !== '' && sdp !== this.#lastCreatedAnswer) {
            throw domException('InvalidModificationError', 'the SDP is not the last created answer');
          }
          this.#setDescription('local', t, sdp);
          return undefined;
        });
      });
    }

    setRemoteDescription(description) {
      return promiseFrom(() => {
        if (arguments.length < 1) throw new TypeError('setRemoteDescription: 1 argument required');
        const dict = toDictionary(description, 'RTCSessionDescriptionInit');
        const sdp = dict.sdp === undefined ? '' : toDOMString(dict.sdp);
        if (dict.type === undefined) throw new TypeError('RTCSessionDescriptionInit.type is required');
        const type = toEnum(dict.type, SDP_TYPES, 'RTCSdpType');
        return this.#chainOperation(() => {
          this.#setDescription('remote', type, sdp);
          return undefined;
        });
      });
    }

    /** webrtc-pc §4.4.1.5 "set the session description", run as one task. */
    #setDescription(side, type, sdp) {
      if (this.#closed) throw invalidState();
      if (!VALID_STATES[side][type].includes(this.#signalingState)) {
        throw invalidState(`cannot set ${side} ${type} in state ${this.#signalingState}`);
      }
      if (side === 'remote' && type !== 'rollback' && sdp === '') {
        throw new TypeError('RTCSessionDescriptionInit.sdp is empty');
      }
      if (side === 'remote' && type === 'offer' && this.#signalingState === 'have-local-offer') {
        // Implicit rollback of our offer before applying theirs (perfect negotiation).
        this.#native.setLocalDescription('rollback', null);
        const fireRolledBack = this.#media.apply('local', 'rollback', this.#signalingState);
        this.#applyEngineState();
        fireRolledBack();
        if (this.#closed) return;
      }
      const priorState = this.#signalingState;
      if (side === 'local') {
        const applied = this.#native.setLocalDescription(type, sdp === '' ? null : sdp);
        if (type === 'offer' && applied && typeof applied.sdp === 'string') {
          this.#lastCreatedOffer = applied.sdp;
        }
        if (type === 'offer' && this.#iceTransport.role === 'unknown') {
          this.#iceTransport._setRole('controlling');
        }
      } else {
        try {
          this.#native.setRemoteDescription(type, sdp);
        } catch (err) {
          throw sdpSyntaxError(err) ?? err;
        }
        if (type !== 'rollback') {
          const mid = sdpFirstMid(sdp);
          for (const m of sdp.matchAll(/^a=(candidate:[^\r\n]+)/gm)) {
            this.#rememberRemoteCandidate({ candidate: m[1], sdpMid: mid, sdpMLineIndex: 0, usernameFragment: null });
          }
        }
        if (type === 'offer' && this.#iceTransport.role === 'unknown') {
          this.#iceTransport._setRole('controlled');
        }
      }
      live.add(this); // started: the engine now works (and calls back) until close()
      if (type === 'answer' || type === 'rollback') {
        // webrtc-pc: applying an answer or a rollback clears both [[LastCreated*]] slots.
        this.#lastCreatedOffer = '';
        this.#lastCreatedAnswer = '';
      }
      // The transceivers' state is set before signalingstatechange; their events follow it.
      const fireMedia = this.#media.apply(side, type, priorState);
      this.#applyEngineState();
      fireMedia();
      if (this.#closed) return;
      this.#refreshChannelIds();
      this.#iceTransport._setParameters(iceParameters(this.localDescription), iceParameters(this.remoteDescription));
      if (this.#signalingState === 'stable') this.#updateNegotiationNeeded();
      if (this.#heldIceEvents.length > 0 && this.localDescription) {
        // icecandidate events only follow setLocalDescription: release them in a later task.
        queueTask(() => {
          if (this.#closed) return;
          this.#onEvents([]);
        });
      }
    }

    /**
     * An answer that fixes the DTLS role gives every channel without an id one (RFC 8832
     * §6): `id` is non-null once that description is applied, before the `channelid` event
     * of the engine arrives.
     */
    #refreshChannelIds() {
      if (typeof this.#native.channelId !== 'function') return;
      for (const channel of this.#channels.values()) {
        if (channel.id !== null) continue;
        const id = this.#native.channelId(channel._handle);
        if (typeof id === 'number') channel._setId(id);
      }
    }

    /** Copy descriptions and signaling state from the engine, firing what changed. */
    #applyEngineState() {
      const st = this.#native.getState();
      const wrap = (d) => (d ? { type: String(d.type), sdp: String(d.sdp) } : null);
      const next = {
        currentLocal: wrap(st.currentLocalDescription),
        pendingLocal: wrap(st.pendingLocalDescription),
        currentRemote: wrap(st.currentRemoteDescription),
        pendingRemote: wrap(st.pendingRemoteDescription),
      };
      for (const key of Object.keys(next)) {
        const old = this.#descs[key];
        const oldPlain = old ? { type: old.type, sdp: old.sdp } : null;
        if (!sameDescription(oldPlain, next[key])) {
          this.#descs[key] = next[key] ? new RTCSessionDescription(next[key]) : null;
        }
      }
      // The engine may omit (undefined) or null an unknown value.
      this.#canTrickle = this.remoteDescription ? (st.canTrickleIceCandidates ?? null) : null;
      const cl = this.#descs.currentLocal;
      const cr = this.#descs.currentRemote;
      if (!this.#sctp && cl && cr && sdpHasApplication(cl.sdp) && sdpHasApplication(cr.sdp)) {
        const max = typeof st.sctpMaxMessageSize === 'number'
          ? st.sctpMaxMessageSize : sdpMaxMessageSize(cr.sdp);
        this.#sctp = new RTCSctpTransport(INTERNAL, this.#dtlsTransport, max);
      } else if (this.#sctp && typeof st.sctpMaxMessageSize === 'number') {
        this.#sctp._setMaxMessageSize(st.sctpMaxMessageSize);
      }
      const signaling = String(st.signalingState);
      if (signaling !== this.#signalingState && signaling !== 'closed') {
        this.#signalingState = signaling;
        fire(this, 'signalingstatechange');
      }
    }

    addIceCandidate(candidate = {}) {
      return promiseFrom(() => {
        const dict = toDictionary(candidate, 'RTCIceCandidateInit');
        const init = {
          candidate: dict.candidate === undefined ? '' : toDOMString(dict.candidate),
          sdpMLineIndex: dict.sdpMLineIndex === undefined || dict.sdpMLineIndex === null
            ? null : enforceRange(dict.sdpMLineIndex, 0, 65535, 'sdpMLineIndex'),
          sdpMid: dict.sdpMid === undefined || dict.sdpMid === null ? null : toDOMString(dict.sdpMid),
          usernameFragment: dict.usernameFragment === undefined || dict.usernameFragment === null
            ? null : toDOMString(dict.usernameFragment),
        };
        if (init.candidate !== '' && init.sdpMid === null && init.sdpMLineIndex === null) {
          throw new TypeError('sdpMid and sdpMLineIndex are both null');
        }
        return this.#chainOperation(() => {
          if (!this.remoteDescription) {
            throw invalidState('addIceCandidate called without a remote description');
          }
          // An empty candidate is end-of-candidates (for sdpMid / sdpMLineIndex, else for
          // every section); the engine checks its usernameFragment like any other's.
          this.#native.addIceCandidate(init);
          if (init.candidate !== '') this.#rememberRemoteCandidate(init);
          // webrtc-pc: once applied, the candidate (or a=end-of-candidates) is in the
          // pending / current remote description; the engine keeps their text.
          this.#refreshDescriptions(['currentRemote', 'pendingRemote']);
          return undefined;
        });
      });
    }

    /**
     * webrtc-pc §4.4.3.2 restartIce(): the engine marks its current local ICE credentials
     * as to be replaced (the next offer carries new ones), then the negotiation-needed flag
     * is updated.
     */
    restartIce() {
      if (this.#closed) return;
      try {
        this.#native.restartIce();
      } catch (err) {
        return; // an engine that failed has nothing to restart
      }
      this.#updateNegotiationNeeded();
    }

    // ---- configuration ----------------------------------------------------------------

    getConfiguration() {
      // The stored [[Configuration]] as WebIDL converts a dictionary to JS: a new object, its
      // members in lexicographic order, the certificates the very objects given.
      const c = this.#config;
      return {
        bundlePolicy: c.bundlePolicy,
        certificates: c.certificates.slice(),
        iceCandidatePoolSize: c.iceCandidatePoolSize,
        iceServers: cloneIceServers(c.iceServers),
        iceTransportPolicy: c.iceTransportPolicy,
        ...(c.relay !== undefined ? { relay: cloneIceServers(c.relay) } : {}),
        rtcpMuxPolicy: c.rtcpMuxPolicy,
        ...(c.turnsCa !== undefined ? { turnsCa: Array.isArray(c.turnsCa) ? c.turnsCa.slice() : c.turnsCa } : {}),
        ...(c.mdnsHostCandidates !== undefined ? { mdnsHostCandidates: c.mdnsHostCandidates } : {}),
        ...(c.sharedUdpPort !== undefined ? { sharedUdpPort: c.sharedUdpPort } : {}),
        ...(c.iceLite !== undefined ? { iceLite: c.iceLite } : {}),
      };
    }

    setConfiguration(configuration = {}) {
      const config = convertConfiguration(configuration);
      if (this.#closed) throw invalidState();
      // "set a configuration": each of these fails with InvalidModificationError.
      const old = this.#config;
      const sameCertificates = config.certificates.length === old.certificates.length
        && config.certificates.every((c, i) => c === old.certificates[i]);
      if (!sameCertificates) throw domException('InvalidModificationError', 'certificates cannot be changed');
      if (config.bundlePolicy !== old.bundlePolicy) {
        throw domException('InvalidModificationError', 'bundlePolicy cannot be changed');
      }
      if (config.rtcpMuxPolicy !== old.rtcpMuxPolicy) {
        throw domException('InvalidModificationError', 'rtcpMuxPolicy cannot be changed');
      }
      if (config.iceCandidatePoolSize !== old.iceCandidatePoolSize && this.#setLocalDescriptionCalled) {
        throw domException('InvalidModificationError',
          'iceCandidatePoolSize cannot change once setLocalDescription has been called');
      }
      const parsed = validateIceServers(config.iceServers);
      config.iceServers = config.iceServers.map(normalizeIceServer);
      // turnsCa, like the TURN servers, is used from construction only: kept when omitted.
      if (config.turnsCa === undefined && old.turnsCa !== undefined) config.turnsCa = old.turnsCa;
      // Host candidates are named (or not) from construction on: kept when omitted.
      if (config.mdnsHostCandidates === undefined) {
        if (old.mdnsHostCandidates !== undefined) config.mdnsHostCandidates = old.mdnsHostCandidates;
      } else if (config.mdnsHostCandidates !== Boolean(old.mdnsHostCandidates)) {
        throw domException('InvalidModificationError', 'mdnsHostCandidates cannot be changed');
      }
      // The sockets are bound at construction: kept when omitted, never changed.
      if (config.sharedUdpPort === undefined) {
        if (old.sharedUdpPort !== undefined) config.sharedUdpPort = old.sharedUdpPort;
      } else if (config.sharedUdpPort !== old.sharedUdpPort) {
        throw domException('InvalidModificationError', 'sharedUdpPort cannot be changed');
      }
      if (config.iceLite === undefined) {
        if (old.iceLite !== undefined) config.iceLite = old.iceLite;
      } else if (config.iceLite !== Boolean(old.iceLite)) {
        throw domException('InvalidModificationError', 'iceLite cannot be changed');
      }
      // The relays are the engine's transports, opened once: kept when omitted, and a
      // different list cannot be set.
      if (config.relay === undefined) {
        if (old.relay !== undefined) config.relay = old.relay;
      } else {
        config.relay = validateRelay(config.relay);
        if (JSON.stringify(config.relay) !== JSON.stringify(old.relay ?? [])) {
          throw domException('InvalidModificationError', 'relay cannot be changed');
        }
      }
      if (typeof this.#native.setConfiguration === 'function') {
        const iceConfig = { stunServers: stunServersFor(parsed) };
        if (config.iceTransportPolicy !== 'all') iceConfig.iceTransportPolicy = config.iceTransportPolicy;
        callEngine(() => this.#native.setConfiguration(iceConfig));
      }
      this.#config = config;
    }

    // ---- data channels ----------------------------------------------------------------

    createDataChannel(label, dataChannelDict = {}) {
      if (arguments.length < 1) throw new TypeError('createDataChannel: 1 argument required');
      const lbl = toUSVString(label);
      const dict = toDictionary(dataChannelDict, 'RTCDataChannelInit');
      // WebIDL dictionary members, lexicographic order.
      const optShort = (v, what) => (v === undefined ? null : enforceRange(v, 0, 65535, what));
      const id = optShort(dict.id, 'id');
      const maxPacketLifeTime = optShort(dict.maxPacketLifeTime, 'maxPacketLifeTime');
      const maxRetransmits = optShort(dict.maxRetransmits, 'maxRetransmits');
      const negotiated = dict.negotiated === undefined ? false : toBoolean(dict.negotiated);
      const ordered = dict.ordered === undefined ? true : toBoolean(dict.ordered);
      const protocol = dict.protocol === undefined ? '' : toUSVString(dict.protocol);

      if (this.#closed) throw invalidState();
      if (utf8Length(lbl) > MAX_LABEL_BYTES) throw new TypeError('label is longer than 65535 bytes');
      if (utf8Length(protocol) > MAX_LABEL_BYTES) throw new TypeError('protocol is longer than 65535 bytes');
      // [[DataChannelId]] is the `id` member only for a negotiated channel: an in-band one
      // ignores it (any value WebIDL accepts) and gets its id from the DTLS role.
      const channelIdInit = negotiated ? id : null;
      if (negotiated && channelIdInit === null) throw new TypeError('a negotiated channel needs an id');
      if (maxPacketLifeTime !== null && maxRetransmits !== null) {
        throw new TypeError('maxPacketLifeTime and maxRetransmits are mutually exclusive');
      }
      if (channelIdInit === 65535) throw new TypeError('id must be below 65535');
      // (An id the engine assigns is always below maxChannels: it allows 65535 streams.)
      if (channelIdInit !== null && this.#sctp && this.#sctp.state === 'connected'
        && this.#sctp.maxChannels !== null && channelIdInit >= this.#sctp.maxChannels) {
        throw domException('OperationError', 'id is not below sctp.maxChannels');
      }
      const init = {
        label: lbl, protocol, ordered, maxPacketLifeTime, maxRetransmits, negotiated, id: channelIdInit,
      };
      // The engine assigns an id at once when the DTLS role is known, and refuses an id in
      // use (or none free) with OperationError.
      const res = callEngine(() => this.#native.createDataChannel(init));
      const channelId = typeof res.id === 'number' ? res.id : channelIdInit;
      const channel = createDataChannelObject(this.#channelOwner, res.channel,
        { ...init, id: channelId }, 'connecting');
      this.#channels.set(res.channel, channel);
      this.#channelStatsId(channel);
      if (!this.#createdDataChannel) {
        this.#createdDataChannel = true;
        this.#updateNegotiationNeeded();
      }
      return channel;
    }

    // ---- RTP media (webrtc-pc §5.1) ---------------------------------------------------

    getSenders() { return this.#media.getSenders(); }
    getReceivers() { return this.#media.getReceivers(); }
    getTransceivers() { return this.#media.getTransceivers(); }

    addTrack(track, ...streams) {
      if (arguments.length < 1) throw new TypeError('addTrack: 1 argument required');
      return this.#media.addTrack(track, streams);
    }

    removeTrack(sender) {
      if (arguments.length < 1) throw new TypeError('removeTrack: 1 argument required');
      this.#media.removeTrack(sender);
    }

    addTransceiver(trackOrKind, init = {}) {
      if (arguments.length < 1) throw new TypeError('addTransceiver: 1 argument required');
      return this.#media.addTransceiver(trackOrKind, init);
    }

    // ---- statistics -------------------------------------------------------------------

    /**
     * webrtc-pc §8.2 getStats(): an RTCStatsReport with the peer-connection and data-channel
     * stats (webrtc-stats §8.13, §8.14) the layer counts, and the transport, candidate-pair,
     * local/remote-candidate and certificate stats (§8.17-§8.20) from the engine's counters.
     * A MediaStreamTrack selector picks its one sender or receiver (InvalidAccessError when
     * none or several have it) and the report is filtered (§8.5 stats selection algorithm).
     */
    getStats(selector = null) {
      return promiseFrom(() => {
        if (selector !== null && selector !== undefined) {
          if (!(selector instanceof MediaStreamTrack)) throw new TypeError('getStats: selector is not a MediaStreamTrack');
          const selection = this.#media.selectionFor(selector);
          return new Promise((resolve) => {
            queueTask(() => resolve(selectStats(this.#statsReport(), selection)));
          });
        }
        return new Promise((resolve) => {
          queueTask(() => resolve(this.#statsReport()));
        });
      });
    }

    #statsReport() {
      const timestamp = statsTimestamp();
      const entries = [];
      entries.push(['P', {
        id: 'P', type: 'peer-connection', timestamp,
        dataChannelsOpened: this.#stats.dataChannelsOpened,
        dataChannelsClosed: this.#stats.dataChannelsClosed,
      }]);
      const channels = [...this.#closedChannels, ...this.#channels.values()];
      channels.sort((x, y) => this.#channelStatsId(x).localeCompare(this.#channelStatsId(y), 'en', { numeric: true }));
      for (const ch of channels) {
        const id = this.#channelStatsId(ch);
        const entry = {
          id, type: 'data-channel', timestamp,
          label: ch.label, protocol: ch.protocol, state: ch.readyState,
          ...ch._counters(),
        };
        if (ch.id !== null) entry.dataChannelIdentifier = ch.id;
        entries.push([id, entry]);
      }
      // The engine's figures (counters from the core), when the engine has them.
      let core = null;
      if (typeof this.#native.getStats === 'function') {
        try {
          core = this.#native.getStats();
        } catch {
          core = null; // a peer the engine lost: what the layer knows only
        }
      }
      const started = core !== null && (core.localCandidates.length > 0 || core.candidatePairs.length > 0);
      if (started || this.#sctp || this.#dtlsTransport.state !== 'new' || this.#iceTransport.state !== 'new') {
        const transport = {
          id: 'T01', type: 'transport', timestamp,
          dtlsState: this.#dtlsTransport.state,
          iceState: this.#iceTransport.state,
          iceRole: this.#iceTransport.role,
          selectedCandidatePairChanges: this.#stats.selectedCandidatePairChanges,
        };
        if (core !== null) {
          entries.push(...engineStatsEntries(core, transport, timestamp, this.#media.statsView()));
        } else {
          // polyrtc-specific (not in webrtc-stats): DTLS datagrams dropped for not coming
          // over a validated ICE path, when the engine counts them.
          let dropped;
          try {
            dropped = this.#native.getState().datagramsDroppedOffPath;
          } catch {
            dropped = undefined; // a peer the engine lost: no counter
          }
          if (typeof dropped === 'number') transport.datagramsDroppedOffPath = dropped;
        }
        entries.push(['T01', transport]);
      }
      return new RTCStatsReport(INTERNAL, entries);
    }

    #channelStatsId(channel) {
      let id = this.#channelStatsIds.get(channel);
      if (id === undefined) {
        id = `D${this.#nextChannelStatsId}`;
        this.#nextChannelStatsId += 1;
        this.#channelStatsIds.set(channel, id);
      }
      return id;
    }

    #channelStateChanged(channel, state, before) {
      this.#channelStatsId(channel);
      if (state === 'open') this.#stats.dataChannelsOpened += 1;
      else if (before === 'open') this.#stats.dataChannelsClosed += 1;
      if (state === 'closed') {
        this.#closedChannels.push(channel);
        if (this.#closedChannels.length > MAX_CLOSED_CHANNEL_STATS) {
          this.#channelStatsIds.delete(this.#closedChannels.shift());
        }
      }
    }

    // ---- close ------------------------------------------------------------------------

    /** webrtc-pc §4.4.1.4 "close the connection": synchronous, idempotent. */
    close() {
      if (this.#closed) return;
      this.#closed = true;
      this.#signalingState = 'closed';
      const closedChannels = [];
      for (const channel of this.#channels.values()) {
        if (channel._closeByPeerConnection()) closedChannels.push(channel);
      }
      this.#channels.clear();
      if (this.#sctp) this.#sctp._setState('closed', false);
      this.#dtlsTransport._setState('closed', false);
      this.#iceTransport._setState('closed', false);
      this.#iceConnectionState = 'closed';
      this.#connectionState = 'closed';
      this.#media.close();
      try {
        this.#native.close();
      } catch (err) {
        // Nothing to report: the connection is closed either way.
      }
      // webrtc-pc "chain an operation": once [[IsClosed]] is true the chain stops and the
      // promises of operations still in it never settle (neither resolved nor rejected).
      this.#chain.splice(0);
      live.delete(this);
      if (closedChannels.length > 0) {
        queueTask(() => {
          for (const channel of closedChannels) fire(channel, 'close');
        });
      }
    }

    // ---- engine events ----------------------------------------------------------------

    #onEvents(events) {
      if (!Array.isArray(events)) events = [events];
      if (this.#heldIceEvents.length > 0 && this.localDescription) {
        events = this.#heldIceEvents.splice(0).concat(events); // engine order is kept
      }
      for (const ev of events) {
        if (this.#closed) return;
        try {
          this.#onEvent(ev);
        } catch (err) {
          queueMicrotask(() => { throw err; });
        }
      }
    }

    #onEvent(ev) {
      const channel = ev.channel !== undefined ? this.#channels.get(ev.channel) : undefined;
      if ((ev.type === 'icecandidate' || ev.type === 'icegatheringstatechange' || ev.type === 'icecandidateerror')
        && !this.localDescription) {
        this.#heldIceEvents.push(ev);
        return;
      }
      switch (ev.type) {
        case 'icecandidate':
          if (ev.candidate === null || ev.candidate === undefined) this.#gatheringComplete();
          else this.#localCandidate(ev.candidate);
          break;
        case 'icecandidateerror':
          // webrtc-pc §4.8.3: a STUN/TURN server gave no candidate (errorCode 701: unreachable).
          if (this.#closed) break;
          this.dispatchEvent(new RTCPeerConnectionIceErrorEvent('icecandidateerror', {
            address: ev.address ?? null,
            port: ev.port ?? null,
            url: ev.url ?? '',
            errorCode: ev.errorCode,
            errorText: ev.errorText ?? '',
          }));
          break;
        case 'icegatheringstatechange':
          if (ev.state === 'complete') this.#gatheringComplete();
          else this.#setGatheringState(ev.state);
          break;
        case 'selectedcandidatepairchange':
          this.#updateSelectedPair();
          break;
        case 'iceconnectionstatechange':
          this.#updateSelectedPair();
          this.#iceTransport._setState(ev.state);
          if (this.#iceConnectionState !== ev.state) {
            this.#iceConnectionState = ev.state;
            fire(this, 'iceconnectionstatechange');
          }
          break;
        case 'dtlsstatechange':
          this.#dtlsStateChanged(ev.state);
          break;
        case 'connectionstatechange':
          if (this.#connectionState !== ev.state) {
            this.#connectionState = ev.state;
            fire(this, 'connectionstatechange');
          }
          break;
        case 'sctpconnected': {
          if (!this.#sctp) {
            this.#sctp = new RTCSctpTransport(INTERNAL, this.#dtlsTransport, DEFAULT_MAX_MESSAGE_SIZE);
          }
          if (typeof ev.maxMessageSize === 'number') this.#sctp._setMaxMessageSize(ev.maxMessageSize);
          if (typeof ev.maxChannels === 'number') this.#sctp._setMaxChannels(ev.maxChannels);
          this.#sctp._setState('connected');
          break;
        }
        case 'channelid':
          if (channel) channel._setId(ev.id);
          break;
        case 'channelopen':
          if (channel) channel._announceOpen();
          break;
        case 'datachannel':
          this.#remoteDataChannel(ev);
          break;
        case 'message':
          if (channel) channel._message(Boolean(ev.binary), ev.data);
          break;
        case 'bufferedamountdecrease':
          if (channel) channel._bufferedAmountDecrease(Number(ev.bytes));
          break;
        case 'channelclosing':
          if (channel) channel._closing();
          break;
        case 'channelerror':
          // The engine's channel errors end the channel (its channelclose follows): announce
          // it closed with the error in one task (webrtc-pc §6.2: readyState 'closed', then
          // `error`, then `close`).
          if (channel) {
            let detail = 'data-channel-failure';
            if (ERROR_DETAILS.includes(ev.errorDetail)) detail = ev.errorDetail;
            else if (ERROR_DETAILS.includes(ev.name)) detail = ev.name;
            this.#channels.delete(ev.channel);
            // RTCError.sctpCauseCode: the SCTP cause code of the ABORT (12 from a peer's close()).
            const cause = typeof ev.sctpCauseCode === 'number' ? ev.sctpCauseCode : null;
            channel._closedWithError(detail, ev.message, cause);
          }
          break;
        case 'channelclose':
          if (channel) {
            this.#channels.delete(ev.channel);
            channel._closed();
          }
          break;
        case 'error':
          this.#engineFailed(ev.message);
          break;
        default:
          this.#media.onEvent(ev);
          break;
      }
    }

    /** webrtc-pc §5.5.1: on failure, `error` (RTCErrorEvent) before `statechange`. */
    #dtlsStateChanged(state) {
      const dtls = this.#dtlsTransport;
      if (!dtls._setState(state, false)) return;
      if (state === 'connected' && typeof this.#native.remoteCertificates === 'function') {
        try {
          dtls._setRemoteCertificates(this.#native.remoteCertificates().map((der) => {
            const copy = new Uint8Array(der.byteLength);
            copy.set(der);
            return copy.buffer;
          }));
        } catch (err) {
          // leave the list empty
        }
      }
      if (state === 'failed') {
        let detail = 'dtls-failure';
        try {
          const e = this.#native.getState().dtlsError;
          if (e === 'fingerprint-failure') detail = e;
        } catch (err) {
          // keep the generic detail
        }
        const message = detail === 'fingerprint-failure'
          ? "the remote certificate matches no fingerprint of the remote description"
          : 'the DTLS transport failed';
        dtls.dispatchEvent(new RTCErrorEvent('error', { error: new RTCError({ errorDetail: detail }, message) }));
        if (this.#closed) return;
      }
      fire(dtls, 'statechange');
      if (state === 'failed' || state === 'closed') this.#transportClosed(state === 'failed');
    }

    /** The engine's selected ICE pair, mirrored on the RTCIceTransport. */
    #updateSelectedPair() {
      let pair = null;
      try {
        const p = this.#native.getState().selectedCandidatePair;
        if (p && typeof p.local === 'string' && typeof p.remote === 'string') pair = { local: p.local, remote: p.remote };
      } catch (err) {
        return;
      }
      if (pair === null) return; // keep the last pair while ICE recovers
      const mid = this.localDescription ? sdpFirstMid(this.localDescription.sdp) : null;
      const make = (candidate) => {
        try {
          return new RTCIceCandidate({ candidate, sdpMid: mid, sdpMLineIndex: 0 });
        } catch (err) {
          return null;
        }
      };
      if (this.#iceTransport._setSelectedPair(pair, make)) this.#stats.selectedCandidatePairChanges += 1;
    }

    #rememberRemoteCandidate(init) {
      try {
        this.#iceTransport._addRemoteCandidate(new RTCIceCandidate({
          candidate: init.candidate,
          sdpMid: init.sdpMid,
          sdpMLineIndex: init.sdpMLineIndex ?? (init.sdpMid === null ? 0 : null),
          usernameFragment: init.usernameFragment,
        }));
      } catch (err) {
        // not listed: the engine accepted something the W3C parser does not
      }
    }

    /**
     * DTLS closed or failed: the SCTP transport is closed (webrtc-pc §6.1.1.2) and every data
     * channel with it (§6.2.4 "transport closed"; `error` with sctp-failure on failure).
     */
    #transportClosed(failed) {
      if (!this.#sctp) {
        const cl = this.#descs.currentLocal;
        const cr = this.#descs.currentRemote;
        if (cl && cr && sdpHasApplication(cl.sdp) && sdpHasApplication(cr.sdp)) {
          this.#sctp = new RTCSctpTransport(INTERNAL, this.#dtlsTransport, DEFAULT_MAX_MESSAGE_SIZE);
        }
      }
      if (this.#sctp) this.#sctp._setState('closed');
      const channels = [...this.#channels.values()];
      this.#channels.clear();
      for (const channel of channels) {
        if (failed) channel._closedWithError('sctp-failure', 'the DTLS transport failed');
        else channel._closed();
      }
    }

    /** The engine lost this peer (internal failure): the transports and channels are gone. */
    #engineFailed(message) {
      // A process warning where the runtime has them (Node), else the console.
      const proc = globalThis.process;
      if (proc && typeof proc.emitWarning === 'function') {
        proc.emitWarning(`polyrtc engine failure: ${message}`, 'PolyrtcWarning');
      } else if (globalThis.console && typeof globalThis.console.warn === 'function') {
        globalThis.console.warn(`polyrtc engine failure: ${message}`);
      }
      if (this.#connectionState !== 'failed') {
        this.#connectionState = 'failed';
        fire(this, 'connectionstatechange');
      }
      if (this.#sctp) this.#sctp._setState('closed');
      const channels = [...this.#channels.values()];
      this.#channels.clear();
      for (const channel of channels) channel._closedWithError('sctp-failure', message);
    }

    /**
     * webrtc-pc "began / finished gathering": the transport's and the connection's states are
     * both set before gatheringstatechange (transport) and icegatheringstatechange fire.
     */
    #setGatheringState(state) {
      if (this.#iceGatheringState === state) return;
      this.#iceTransport._setGatheringState(state, false);
      this.#iceGatheringState = state;
      fire(this.#iceTransport, 'gatheringstatechange');
      if (this.#closed) return;
      fire(this, 'icegatheringstatechange');
    }

    #localCandidate(c) {
      this.#setGatheringState('gathering');
      let candidate;
      try {
        candidate = new RTCIceCandidate({
          candidate: c.candidate,
          sdpMid: c.sdpMid ?? null,
          sdpMLineIndex: c.sdpMLineIndex ?? (c.sdpMid == null ? 0 : null),
          usernameFragment: c.usernameFragment ?? null,
        });
      } catch (err) {
        return;
      }
      this.#refreshLocalDescription();
      this.#iceTransport._addLocalCandidate(candidate);
      this.dispatchEvent(new RTCPeerConnectionIceEvent('icecandidate', { candidate }));
    }

    /** The local description gains candidates while gathering: pick up the engine's copy. */
    #refreshLocalDescription() {
      this.#refreshDescriptions(['currentLocal', 'pendingLocal']);
    }

    /** Descriptions whose text the engine changed (same type): take the engine's copy. */
    #refreshDescriptions(keys) {
      try {
        const st = this.#native.getState();
        for (const [key, src] of keys.map((k) => [k, st[`${k}Description`]])) {
          const old = this.#descs[key];
          if (src && old && old.type === src.type && old.sdp !== src.sdp) {
            this.#descs[key] = new RTCSessionDescription({ type: String(src.type), sdp: String(src.sdp) });
          }
        }
      } catch (err) {
        // keep the descriptions we have
      }
    }

    /**
     * End of gathering (webrtc-pc "finished gathering a generation"): one task fires the ''
     * candidate (a=end-of-candidates already in the local description); a second task sets
     * the state 'complete', fires the state change events, then the null candidate.
     */
    #gatheringComplete() {
      if (this.#iceGatheringState === 'complete' || this.#gatheringCompleting) return;
      this.#setGatheringState('gathering');
      this.#refreshLocalDescription();
      const local = this.localDescription;
      const mid = local ? sdpFirstMid(local.sdp) : null;
      const ufrag = local ? sdpUfrag(local.sdp) : null;
      const endOfCandidates = new RTCIceCandidate({
        candidate: '', sdpMid: mid, sdpMLineIndex: 0, usernameFragment: ufrag,
      });
      this.#gatheringCompleting = true;
      this.dispatchEvent(new RTCPeerConnectionIceEvent('icecandidate', { candidate: endOfCandidates }));
      queueTask(() => {
        this.#gatheringCompleting = false;
        if (this.#closed || this.#iceGatheringState !== 'gathering') return;
        this.#setGatheringState('complete');
        if (this.#closed) return;
        this.dispatchEvent(new RTCPeerConnectionIceEvent('icecandidate', { candidate: null }));
      });
    }

    #remoteDataChannel(ev) {
      const init = {
        label: String(ev.label ?? ''),
        protocol: String(ev.protocol ?? ''),
        ordered: ev.ordered !== false,
        maxPacketLifeTime: ev.maxPacketLifeTime ?? null,
        maxRetransmits: ev.maxRetransmits ?? null,
        negotiated: false,
        id: ev.id ?? null,
      };
      const channel = createDataChannelObject(this.#channelOwner, ev.channel, init, 'open');
      this.#channels.set(ev.channel, channel);
      this.#channelStatsId(channel);
      this.dispatchEvent(new RTCDataChannelEvent('datachannel', { channel }));
      if (channel.readyState === 'open') channel._announceOpen();
    }
  }

  defineEventHandlers(RTCPeerConnection.prototype, PEER_EVENTS);
  Object.defineProperty(RTCPeerConnection.prototype, Symbol.toStringTag, {
    value: 'RTCPeerConnection', configurable: true,
  });

  return RTCPeerConnection;
}

export { makeRTCPeerConnection, MAX_LABEL_BYTES };
