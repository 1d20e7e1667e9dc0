// The RTP media part of one RTCPeerConnection (webrtc-pc §5 and the media steps of §4.4.1.6
// "set the RTCSessionDescription"): the set of transceivers, addTrack / removeTrack /
// addTransceiver, and after every applied description the engine's view of the transceivers
// (getTransceivers()) turned into W3C state and events: mid, currentDirection, [[Stopped]],
// [[FiredDirection]], the remote streams, `track` events, mute. The SDP itself is the
// engine's: nothing here reads or writes it.
import { INTERNAL, domException, callEngine, toDictionary, toDOMString, toEnum, toSequence } from './util.js';
import { MediaStreamTrack, MediaTrackSource, createTrack, KINDS } from './media-stream-track.js';
import { MediaStream, streamWithId } from './media-stream.js';
import { RTCRtpTransceiver } from './rtc-rtp-transceiver.js';
import { RTCTrackEvent } from './rtc-track-event.js';
import { isSender } from './rtc-rtp-brands.js';
import {
  DIRECTIONS, sends, convertEncodings, checkSendEncodings, engineEncodings, codecMatch,
  codecParameters,
} from './rtc-rtp-parameters.js';

const CURRENT_DIRECTIONS = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function uniqueStreamIds(streams) {
  return [...new Set(streams.map((s) => s.id))];
}

class PeerMedia {
  #hooks;
  #classes;
  #pc;
  /** The set of transceivers (their cores), in insertion order. */
  #set = [];
  #byHandle = new Map();
  /** Remote MediaStreams by id: the same object for the same msid within this connection. */
  #streams = new Map();
  /** Per-transceiver W3C state before the offer now pending was applied (for rollback). */
  #snapshot = null;

  /**
   * hooks: { native(), closed(), updateNegotiationNeeded(), chain(op), dtlsTransport(),
   *          stats(selection), dispatch(event) }
   * classes: { RTCRtpSender, RTCRtpReceiver, getCapabilities(kind) }
   */
  constructor(hooks, classes) {
    this.#hooks = hooks;
    this.#classes = classes;
    const self = this;
    this.#pc = {
      get native() { return hooks.native(); },
      get dtlsTransport() { return hooks.dtlsTransport(); },
      closed: () => hooks.closed(),
      updateNegotiationNeeded: () => hooks.updateNegotiationNeeded(),
      chain: (op) => hooks.chain(op),
      stats: (selection) => hooks.stats(selection),
      capabilities: (kind) => {
        const caps = classes.getCapabilities(kind);
        return caps ? caps.codecs : [];
      },
      stopSendingAndReceiving: (core, disappear) => self.#stopSendingAndReceiving(core, disappear),
    };
  }

  // ---- the set of transceivers --------------------------------------------------------

  getTransceivers() { return this.#set.map((c) => c.transceiver); }
  getSenders() { return this.#set.filter((c) => !c.state.stopped).map((c) => c.sender); }
  getReceivers() { return this.#set.filter((c) => !c.state.stopped).map((c) => c.receiver); }

  #createCore(handle, kind, { direction, track = null, streamIds = [], encodings }) {
    const { RTCRtpSender, RTCRtpReceiver } = this.#classes;
    const state = {
      mid: null, direction, currentDirection: null, stopping: false, stopped: false,
      firedReceiving: false, everSent: false, codecs: [], headerExtensions: [], rtcpReducedSize: false,
      senderSsrc: null, remoteSsrcs: [], hasTransport: false, codecPreferences: [],
    };
    const core = { pc: this.#pc, handle, kind, state };
    const pc = this.#pc;
    core.source = new MediaTrackSource(kind, {
      keyframeRequested: () => {
        if (pc.closed() || core.state.stopping) return;
        try {
          pc.native.requestKeyframe(handle);
        } catch (err) {
          // nothing received yet to ask for
        }
      },
      // An EncodedMediaSink(track, { rtp: true }) wants the received packets too.
      rtpWanted: (on) => {
        if (pc.closed() || typeof pc.native.setReceiveRtp !== 'function') return;
        try {
          pc.native.setReceiveRtp(handle, on);
        } catch (err) {
          // the transceiver is gone
        }
      },
    });
    const remoteTrack = createTrack(kind, core.source, { muted: true, remote: true });
    core.sender = new RTCRtpSender(INTERNAL, core, track, streamIds,
      encodings ?? [kind === 'video' ? { active: true, scaleResolutionDownBy: 1 } : { active: true }]);
    core.receiver = new RTCRtpReceiver(INTERNAL, core, remoteTrack);
    core.transceiver = new RTCRtpTransceiver(INTERNAL, core);
    this.#set.push(core);
    this.#byHandle.set(handle, core);
    if (track) core.sender._attach();
    return core;
  }

  #checkOpen() {
    if (this.#hooks.closed()) throw domException('InvalidStateError', 'the RTCPeerConnection is closed');
    if (typeof this.#hooks.native().addTransceiver !== 'function') {
      throw domException('NotSupportedError', 'this engine has no RTP media');
    }
  }

  /** webrtc-pc §5.1 addTrack(). */
  addTrack(track, streams) {
    if (!(track instanceof MediaStreamTrack)) throw new TypeError('addTrack: track is not a MediaStreamTrack');
    for (const s of streams) {
      if (!(s instanceof MediaStream)) throw new TypeError('addTrack: a stream is not a MediaStream');
    }
    this.#checkOpen();
    if (this.getSenders().some((s) => s.track === track)) {
      throw domException('InvalidAccessError', 'the track already has a sender in this connection');
    }
    const streamIds = uniqueStreamIds(streams);
    const native = this.#hooks.native();
    // A sender that never sent, of the same kind, with no track, not stopping: reused.
    const reuse = this.#set.find((c) => !c.state.stopped && !c.state.stopping && c.kind === track.kind
      && c.sender.track === null && !c.state.everSent);
    let core;
    if (reuse) {
      core = reuse;
      callEngine(() => native.setSenderTrack(core.handle, track.id, true));
      callEngine(() => native.setSenderStreams(core.handle, streamIds));
      core.sender._setStreamIds(streamIds);
      core.sender._setTrackLocal(track);
      const d = core.state.direction;
      const next = d === 'recvonly' ? 'sendrecv' : d === 'inactive' ? 'sendonly' : d;
      if (next !== d) {
        callEngine(() => native.setTransceiverDirection(core.handle, next));
        core.state.direction = next;
      }
    } else {
      const encodings = [track.kind === 'video' ? { active: true, scaleResolutionDownBy: 1 } : { active: true }];
      const handle = callEngine(() => native.addTransceiver({
        kind: track.kind, direction: 'sendrecv', streamIds, trackId: track.id, fromAddTrack: true,
        sendEncodings: engineEncodings(encodings),
      }));
      core = this.#createCore(handle, track.kind, { direction: 'sendrecv', track, streamIds, encodings });
    }
    this.#hooks.updateNegotiationNeeded();
    return core.sender;
  }

  /** webrtc-pc §5.1 removeTrack(). */
  removeTrack(sender) {
    if (!isSender(sender)) throw new TypeError('removeTrack: sender is not an RTCRtpSender');
    this.#checkOpen();
    const core = sender._core;
    if (core.pc !== this.#pc) throw domException('InvalidAccessError', 'the sender was not created by this connection');
    if (!this.getSenders().includes(sender)) return;
    if (sender.track === null) return;
    sender._setTrack(null);
    const d = core.state.direction;
    const next = d === 'sendrecv' ? 'recvonly' : d === 'sendonly' ? 'inactive' : d;
    if (next !== d) {
      callEngine(() => this.#hooks.native().setTransceiverDirection(core.handle, next));
      core.state.direction = next;
    }
    this.#hooks.updateNegotiationNeeded();
  }

  /** webrtc-pc §5.1 addTransceiver(). */
  addTransceiver(trackOrKind, init) {
    let track = null;
    let kind;
    if (trackOrKind instanceof MediaStreamTrack) {
      track = trackOrKind;
      kind = track.kind;
    } else {
      kind = toDOMString(trackOrKind);
      if (!KINDS.includes(kind)) throw new TypeError(`addTransceiver: '${kind}' is neither 'audio' nor 'video'`);
    }
    const dict = toDictionary(init, 'RTCRtpTransceiverInit');
    const direction = dict.direction === undefined ? 'sendrecv' : toEnum(dict.direction, DIRECTIONS, 'RTCRtpTransceiverDirection');
    const sendEncodings = dict.sendEncodings === undefined ? [] : convertEncodings(dict.sendEncodings, 'sendEncodings');
    const streams = dict.streams === undefined ? [] : toSequence(dict.streams, 'streams', (s) => {
      if (!(s instanceof MediaStream)) throw new TypeError('streams: an element is not a MediaStream');
      return s;
    });
    if (direction === 'stopped') throw new TypeError("addTransceiver: direction 'stopped'");
    this.#checkOpen();
    const caps = this.#pc.capabilities(kind);
    let encodings = checkSendEncodings(sendEncodings, kind, (codec) => caps.some((c) => codecMatch(c, codec)),
      (name, message) => domException(name, message));
    if (encodings.length === 0) {
      encodings = [kind === 'video' ? { active: true, scaleResolutionDownBy: 1 } : { active: true }];
    }
    const streamIds = uniqueStreamIds(streams);
    const handle = callEngine(() => this.#hooks.native().addTransceiver({
      kind, direction, streamIds, trackId: track ? track.id : null, fromAddTrack: false,
      sendEncodings: engineEncodings(encodings),
    }));
    const core = this.#createCore(handle, kind, { direction, track, streamIds, encodings });
    this.#hooks.updateNegotiationNeeded();
    return core.transceiver;
  }

  // ---- stopping ---------------------------------------------------------------------

  /** webrtc-pc "stop sending and receiving" (disappear: no `ended` for the receiver's track). */
  #stopSendingAndReceiving(core, disappear) {
    if (core.state.stopping) return;
    core.state.stopping = true;
    core.sender._stop();
    core.receiver.track._end(!disappear);
    core.source.end(false);
  }

  /** webrtc-pc "stop the RTCRtpTransceiver". */
  #stopTransceiver(core, disappear) {
    this.#stopSendingAndReceiving(core, disappear);
    core.state.stopped = true;
    core.state.firedReceiving = false;
  }

  #removeFromSet(core) {
    const i = this.#set.indexOf(core);
    if (i >= 0) this.#set.splice(i, 1);
    this.#byHandle.delete(core.handle);
  }

  // ---- applying descriptions --------------------------------------------------------

  #remoteStream(id) {
    let s = this.#streams.get(id);
    if (!s) {
      s = streamWithId(id);
      this.#streams.set(id, s);
    }
    return s;
  }

  /** The engine's list, or null when it has none (no media, or a peer it lost). */
  #engineTransceivers() {
    const native = this.#hooks.native();
    if (typeof native.getTransceivers !== 'function') return null;
    let list;
    try {
      list = native.getTransceivers();
    } catch (err) {
      return null; // a peer the engine lost: the transceivers keep their state
    }
    return Array.isArray(list) ? list : null;
  }

  /** The engine's entry for one transceiver into its W3C state. */
  #update(core, info) {
    const s = core.state;
    s.mid = typeof info.mid === 'string' ? info.mid : null;
    s.hasTransport = s.mid !== null;
    if (!s.stopping && CURRENT_DIRECTIONS.includes(info.direction)) s.direction = info.direction;
    const wasSending = sends(s.currentDirection);
    s.currentDirection = CURRENT_DIRECTIONS.includes(info.currentDirection) ? info.currentDirection : null;
    if (sends(s.currentDirection)) s.everSent = true;
    if (sends(s.currentDirection) && !wasSending && !s.stopping) core.sender._sendingStarted();
    s.codecs = codecParameters(info.codecs);
    s.headerExtensions = (info.headerExtensions ?? []).map((h) => ({ uri: String(h.uri), id: Number(h.id) }));
    s.rtcpReducedSize = Boolean(info.rtcpReducedSize);
    s.senderSsrc = typeof info.senderSsrc === 'number' ? info.senderSsrc : null;
    core.sender._syncLayers(info.sendLayers);
    if (Array.isArray(info.remoteSsrcs)) s.remoteSsrcs = info.remoteSsrcs.slice();
  }

  /**
   * webrtc-pc "set the associated remote streams" and "process remote tracks" for one
   * transceiver: `receiving` is the applied direction (the engine's), msids its remote streams.
   */
  #processRemoteTracks(core, receiving, msids, lists) {
    const { receiver, transceiver } = core;
    const track = receiver.track;
    const firedReceiving = core.state.firedReceiving;
    const streams = (!receiving && firedReceiving ? [] : msids).map((id) => this.#remoteStream(id));
    const addedBefore = lists.add.length;
    this.#setAssociatedStreams(receiver, streams, lists);
    if (receiving && (!firedReceiving || lists.add.length > addedBefore)) {
      lists.trackEvents.push({ receiver, track, streams, transceiver });
    }
    // "process the removal of a remote track": the streams lose it and it is muted.
    if (!receiving && firedReceiving) lists.mute.push(track);
    core.state.firedReceiving = receiving;
  }

  #setAssociatedStreams(receiver, streams, lists) {
    const track = receiver.track;
    const old = receiver._streams;
    for (const s of old) if (!streams.includes(s)) lists.remove.push([s, track]);
    for (const s of streams) if (!old.includes(s)) lists.add.push([s, track]);
    receiver._setStreams(streams);
  }

  /**
   * Called right after the engine applied a description (before signalingstatechange):
   * updates every transceiver and returns the function that fires what the spec fires after
   * the signaling state change (mute, removetrack, addtrack, track), in that order.
   */
  apply(side, type, priorState) {
    const lists = { remove: [], add: [], mute: [], trackEvents: [] };
    const listed = this.#engineTransceivers();
    if (listed === null) return () => {};
    const infos = listed;
    if (type === 'rollback') {
      this.#rollback(infos, lists);
    } else {
      if (priorState === 'stable' && type === 'offer') this.#takeSnapshot();
      const seen = new Set();
      // "For each media description in description": m-line order (the engine's
      // mlineIndex), the set's order where the engine does not say.
      const ordered = infos.map((info, i) => [info, i]).sort(([a, i], [b, j]) => {
        const x = typeof a.mlineIndex === 'number' ? a.mlineIndex : Infinity;
        const y = typeof b.mlineIndex === 'number' ? b.mlineIndex : Infinity;
        return x === y ? i - j : x - y;
      }).map(([info]) => info);
      const created = [];
      for (const info of ordered) {
        let core = this.#byHandle.get(info.transceiver);
        if (!core) {
          // A transceiver the remote offer created (recvonly, no track).
          if (!KINDS.includes(info.kind)) continue;
          core = this.#createCore(info.transceiver, info.kind, {
            direction: CURRENT_DIRECTIONS.includes(info.direction) ? info.direction : 'recvonly',
          });
          created.push(core);
        }
        seen.add(core);
        this.#update(core, info);
        if ((info.stopped || info.stopping) && !core.state.stopping) this.#stopSendingAndReceiving(core, false);
        if (info.stopped && !core.state.stopped) this.#stopTransceiver(core, false);
        if (side === 'local' && type === 'offer') continue;
        if (core.state.stopped || core.state.mid === null) continue;
        const msids = Array.isArray(info.remoteStreamIds) ? info.remoteStreamIds.map(String) : [];
        this.#processRemoteTracks(core, Boolean(info.receiving), msids, lists);
      }
      // The set keeps the engine's (creation) order for transceivers the offer created.
      if (created.length > 1) {
        const order = new Map(infos.map((info, i) => [info.transceiver, i]));
        const rest = this.#set.filter((c) => !created.includes(c));
        this.#set = [...rest, ...created.sort((a, b) => order.get(a.handle) - order.get(b.handle))];
      }
      for (const core of [...this.#set]) {
        if (!seen.has(core)) {
          // The engine no longer has it: stopped and gone.
          this.#stopTransceiver(core, false);
          this.#removeFromSet(core);
        }
      }
      if (type === 'answer') {
        // A stopped transceiver leaves the set once an answer is applied.
        for (const core of [...this.#set]) if (core.state.stopped) this.#removeFromSet(core);
        this.#snapshot = null;
      }
    }
    return () => this.#fire(lists);
  }

  #takeSnapshot() {
    this.#snapshot = new Map(this.#set.map((c) => [c, {
      firedReceiving: c.state.firedReceiving, streams: c.receiver._streams.slice(),
    }]));
  }

  /** Rollback: the engine restored its transceivers; the W3C state returns to the snapshot. */
  #rollback(infos, lists) {
    const snap = this.#snapshot ?? new Map();
    this.#snapshot = null;
    const byHandle = new Map(infos.map((i) => [i.transceiver, i]));
    for (const core of [...this.#set]) {
      const info = byHandle.get(core.handle);
      if (!info) {
        // Created by the remote offer rolled back, no addTrack since: stopped and removed.
        this.#setAssociatedStreams(core.receiver, [], lists);
        this.#stopTransceiver(core, false);
        this.#removeFromSet(core);
        continue;
      }
      this.#update(core, info);
      const was = snap.get(core) ?? { firedReceiving: false, streams: [] };
      this.#setAssociatedStreams(core.receiver, was.streams, lists);
      if (core.state.firedReceiving && !was.firedReceiving) lists.mute.push(core.receiver.track);
      core.state.firedReceiving = was.firedReceiving;
    }
  }

  #fire(lists) {
    const closed = () => this.#hooks.closed();
    for (const track of lists.mute) track._setMuted(true);
    for (const [stream, track] of lists.remove) stream._removeRemoteTrack(track);
    for (const [stream, track] of lists.add) stream._addRemoteTrack(track);
    for (const init of lists.trackEvents) {
      if (closed()) return;
      this.#hooks.dispatch(new RTCTrackEvent('track', init));
    }
  }

  // ---- engine events ----------------------------------------------------------------

  /** Media events of the engine; returns false for other types. */
  onEvent(ev) {
    switch (ev.type) {
      case 'frame': {
        const core = this.#byHandle.get(ev.transceiver);
        if (!core || core.state.stopping) return true;
        core.receiver._noteSources(ev);
        core.receiver.track._setMuted(false);
        core.source.deliverFrame({
          type: ev.keyframe ? 'key' : 'delta',
          timestamp: Number(ev.timestamp),
          rtpTimestamp: ev.rtpTimestamp,
          data: ev.data,
          mimeType: ev.mimeType,
          rid: ev.rid ?? null,
        });
        return true;
      }
      case 'rtp': {
        const core = this.#byHandle.get(ev.transceiver);
        if (!core || core.state.stopping) return true;
        core.receiver._noteSources(ev);
        core.receiver.track._setMuted(false);
        core.source.deliverRtp(ev.data);
        return true;
      }
      case 'keyframerequest': {
        const core = this.#byHandle.get(ev.transceiver);
        if (core && !core.state.stopping) core.sender._keyframeRequested();
        return true;
      }
      case 'ssrcs': {
        const core = this.#byHandle.get(ev.transceiver);
        if (core && Array.isArray(ev.ssrcs)) core.state.remoteSsrcs = ev.ssrcs.slice();
        return true;
      }
      default:
        return false;
    }
  }

  /** webrtc-pc close: every transceiver stopped (disappear: no `ended` events). */
  close() {
    for (const core of this.#set) {
      if (!core.state.stopped) this.#stopTransceiver(core, true);
    }
  }

  /** getStats(selector): the one sender or receiver whose track it is, else InvalidAccessError. */
  selectionFor(track) {
    const senders = this.getSenders().filter((s) => s.track === track);
    const receivers = this.getReceivers().filter((r) => r.track === track);
    if (senders.length + receivers.length !== 1) {
      throw domException('InvalidAccessError', 'the selector matches no single sender or receiver');
    }
    return senders.length === 1 ? { sender: senders[0] } : { receiver: receivers[0] };
  }

  /** What getStats() needs of each live transceiver: its mid, SSRCs and tracks. */
  statsView() {
    return this.#set.filter((c) => !c.state.stopped).map((c) => ({
      kind: c.kind, mid: c.state.mid, senderSsrc: c.state.senderSsrc, remoteSsrcs: c.state.remoteSsrcs,
      senderTrack: c.sender.track, receiverTrack: c.receiver.track,
    }));
  }

  /** The stats ids a selection starts from (webrtc-pc §8.5 stats selection algorithm). */
  static selects(selection, entry) {
    const core = (selection.sender ?? selection.receiver)._core;
    const s = core.state;
    if (selection.receiver) {
      return entry.type === 'inbound-rtp'
        && ((s.mid !== null && entry.mid === s.mid) || s.remoteSsrcs.includes(entry.ssrc));
    }
    return entry.type === 'outbound-rtp'
      && ((s.mid !== null && entry.mid === s.mid) || (s.senderSsrc !== null && entry.ssrc === s.senderSsrc));
  }
}

export { PeerMedia };
