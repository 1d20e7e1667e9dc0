// The WASM engine: the sans-IO core compiled to WebAssembly (src/wasm/, wasm-bindgen), driven
// by the runtime's own clock, timer and WebSocket. It has the Node engine's surface
// (js/engine/napi.js, napi/engine-contract.md): a `NativePeer` class with the addon's methods,
// `generateCertificate`, `generateRsaCertificate`, `peerOptions`, so js/lib/ runs on it
// unchanged.
//
// No Node-only API here: this file runs in browsers, workers, Deno, Bun and workerd. The
// initialised wasm-bindgen glue and the WebSocket class are injected (js/wasm.js,
// js/workerd.js).
//
// Transports: the core has no socket of its own here. Each entry of the configuration's
// nonstandard `relay` member is a TURN server reached over a WebSocket (subprotocol `turn`,
// one binary message = one STUN/TURN message or ChannelData frame). The core's TURN client
// (`addRelay`) sends its messages as transmits on the entry's "via" transport; every message
// that arrives is fed back with `handleDatagram` on that transport. The allocation is a
// relayed path (its own transport id) that ICE uses like a UDP socket.

/** Transmits held for a WebSocket that is not open yet; more are dropped, as a network would. */
export const MAX_QUEUED_TRANSMITS = 256;
/**
 * Bytes a WebSocket may hold unsent (`bufferedAmount`) before further datagrams are dropped
 * instead of queued: delivery stays datagram-like (SCTP's congestion control sees loss, and a
 * slow link cannot grow memory without bound).
 */
export const MAX_WS_BUFFERED_BYTES = 4 * 1024 * 1024;
/** At most this many relays per connection (each is a WebSocket and a TURN allocation). */
export const MAX_RELAYS = 8;
/** Transmits sent per drain before the engine yields to the event loop (a timer resumes it). */
export const MAX_TRANSMITS_PER_DRAIN = 4096;
/**
 * After close(), the longest the relays' WebSockets stay open for the core to finish
 * releasing its allocations (Refresh with lifetime 0, its answer, retransmissions).
 */
export const MAX_CLOSE_LINGER_MS = 3000;
/** The largest delay setTimeout takes (2^31 - 1 ms); a later deadline re-arms on wake-up. */
const MAX_TIMER_DELAY_MS = 0x7fffffff;
/** Events per batch from the core (src/engine.rs MAX_BATCH_EVENTS). */
const MAX_BATCH_EVENTS = 1024;
/** The address a WebSocket relay is known by to the core (it has no IP:port of its own). */
const WS_SERVER_PLACEHOLDER = '0.0.0.0:0';
const WS_CONNECTING = 0;
const WS_OPEN = 1;
const WS_CLOSED = 3;

function engineError(name, text) {
  const e = new Error(`${name}: ${text}`);
  e.code = name;
  return e;
}

/** The runtime's monotonic clock in ms (performance.now(), else Date.now()). */
const clock = typeof performance === 'object' && performance !== null && typeof performance.now === 'function'
  ? () => performance.now()
  : () => Date.now();

/**
 * A macrotask, as the addon delivers its batches (never inside the call that caused them):
 * setImmediate where it exists, else a MessageChannel (no 4 ms clamp), else setTimeout.
 */
function makeTaskQueue() {
  const immediate = globalThis.setImmediate;
  if (typeof immediate === 'function') return (f) => immediate(f);
  if (typeof MessageChannel === 'function') {
    const queue = [];
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      const f = queue.shift();
      if (f) f();
    };
    return (f) => {
      queue.push(f);
      ch.port2.postMessage(null);
    };
  }
  return (f) => setTimeout(f, 0);
}

/**
 * The ws: / wss: URLs of a normalized relay entry (js/lib/configuration.js validated it), in
 * order: the first is tried, and the next one when its WebSocket fails before it opens.
 */
function relayUrls(entry) {
  const urls = typeof entry.urls === 'string' ? [entry.urls] : Array.from(entry.urls || []);
  return urls.filter((u) => /^wss?:/i.test(u));
}

/**
 * Builds the engine around an initialised wasm-bindgen glue module.
 * @param {object} glue  `{ WasmPeer, generateCertificate }` of js/wasm/polyrtc.js, initialised.
 * @param {object} [options]
 * @param {Function|null} [options.WebSocket]  the WebSocket class (default
 *   `globalThis.WebSocket`; null: none, a relay is then NotSupportedError).
 */
export function createWasmEngine(glue, options = {}) {
  if (!glue || typeof glue.WasmPeer !== 'function' || typeof glue.generateCertificate !== 'function') {
    throw new TypeError('createWasmEngine: glue must provide WasmPeer and generateCertificate');
  }
  const WebSocketClass = 'WebSocket' in options ? options.WebSocket : globalThis.WebSocket;
  const queueTask = makeTaskQueue();

  class NativePeer {
    #peer;
    #onEvents;
    #timer = null;
    #timerDue = null;
    #deliveryQueued = false;
    #pumpQueued = false;
    /** Events the engine itself adds (a relay WebSocket that failed), delivered in order. */
    #ownEvents = [];
    #relays = [];
    #closed = false;
    /** close() was called and the WebSockets and timer are released (or the peer failed). */
    #finished = false;
    /** After close(): when the WebSockets close even if the core is not done. */
    #lingerUntil = Infinity;
    #failed = false;
    #certificate;

    constructor(config, onEvents) {
      if (typeof onEvents !== 'function') throw new TypeError('onEvents must be a function');
      config = config ?? {};
      const cfg = { unixTimeMs: Date.now() };
      if (config.maxMessageSize != null) cfg.maxMessageSize = config.maxMessageSize;
      if (config.iceTransportPolicy != null) cfg.iceTransportPolicy = config.iceTransportPolicy;
      if (config.includeLoopback != null) cfg.includeLoopback = Boolean(config.includeLoopback);
      const given = Array.isArray(config.certificates) && config.certificates.length > 0
        ? config.certificates[0] : null;
      if (given !== null && !(given instanceof glue.WasmCertificate)) {
        throw engineError('TypeError', 'certificates must be WASM engine certificates');
      }
      // Every relay is checked before anything is made, so a bad one leaves nothing open.
      const relays = Array.isArray(config.relay) ? config.relay : [];
      if (relays.length > MAX_RELAYS) throw engineError('TypeError', `at most ${MAX_RELAYS} relays`);
      if (relays.length > 0 && typeof WebSocketClass !== 'function') {
        throw engineError('NotSupportedError', 'this runtime has no WebSocket for the relay');
      }
      const urls = relays.map(relayUrls);
      if (urls.some((u) => u.length === 0)) throw engineError('SyntaxError', 'a relay needs a ws: or wss: URL');
      // A certificate of our own when none is given: the peer's is not readable from the core.
      this.#certificate = given ?? glue.generateCertificate(Date.now());
      // The constructor consumes the handle it is given: hand it a second one.
      this.#peer = new glue.WasmPeer(cfg, this.#certificate.clone());
      this.#onEvents = onEvents;
      try {
        relays.forEach((entry, i) => this.#addRelay(entry, urls[i], i));
      } catch (err) {
        this.#peer.free();
        throw err;
      }
      for (const relay of this.#relays) this.#connect(relay);
      this.#pump();
    }

    // ---- relays -----------------------------------------------------------------------

    /** The core's TURN client for one relay (transport ids: 2i+1 the WebSocket, 2i+2 the relayed path). */
    #addRelay(entry, urls, index) {
      const relay = {
        urls,
        /** The URL tried now (urls[next - 1]). */
        url: urls[0],
        next: 1,
        via: 2 * index + 1,
        relayed: 2 * index + 2,
        ws: null,
        queue: [],
        failed: false,
        dropped: 0,
      };
      if (typeof this.#peer.addRelay !== 'function') {
        throw engineError('NotSupportedError', 'this WASM build has no TURN client (addRelay)');
      }
      this.#peer.addRelay(clock(), relay.relayed, relay.via, WS_SERVER_PLACEHOLDER, relay.url,
        String(entry.username ?? ''), String(entry.credential ?? ''));
      this.#relays.push(relay);
    }

    /**
     * Its WebSocket (subprotocol `turn`) to the relay's current URL: what the core sends
     * waits (bounded) until it opens. One that fails before it is usable moves on to the
     * relay's next URL, with what is queued.
     */
    #connect(relay) {
      const { url } = relay;
      let ws;
      relay.opened = false;
      try {
        ws = new WebSocketClass(url, 'turn');
      } catch (err) {
        // A URL the runtime refuses: reported like an unreachable server (after this call).
        relay.ws = null;
        queueTask(() => this.#relayFailed(relay, `relay WebSocket could not be opened: ${err && err.message}`));
        return;
      }
      relay.ws = ws;
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        if (this.#finished || relay.ws !== ws) return;
        if (ws.protocol !== 'turn') {
          this.#relayFailed(relay, `relay WebSocket did not accept the subprotocol 'turn' (got '${ws.protocol}')`);
          return;
        }
        relay.opened = true;
        const queued = relay.queue.splice(0);
        for (const data of queued) this.#sendOn(relay, data);
      };
      ws.onmessage = (ev) => {
        // After close() too, until finished: the answers to the deallocations.
        if (this.#finished || this.#failed || relay.ws !== ws) return;
        const data = ev.data;
        // Text messages are not part of the protocol: dropped.
        if (!(data instanceof ArrayBuffer)) return;
        try {
          this.#peer.handleDatagram(clock(), relay.via, WS_SERVER_PLACEHOLDER, new Uint8Array(data));
        } catch (err) {
          if (err instanceof WebAssembly.RuntimeError) this.#fail(err);
          return;
        }
        this.#pumpSoon();
      };
      ws.onerror = () => {
        // `close` follows with its code: report there, once.
      };
      ws.onclose = (ev) => {
        if (this.#closed || relay.ws !== ws) return;
        const code = ev && typeof ev.code === 'number' ? ` (code ${ev.code})` : '';
        this.#relayFailed(relay, `relay WebSocket closed${code}`);
      };
    }

    /**
     * The relay's WebSocket failed or closed. The core reports it (icecandidateerror 701,
     * once gathering runs) and, before the socket was usable, the next URL is tried;
     * otherwise the relay is done.
     */
    #relayFailed(relay, text) {
      if (relay.failed || this.#closed) return;
      const failedUrl = relay.url;
      const retry = !relay.opened && relay.next < relay.urls.length;
      const nextUrl = retry ? relay.urls[relay.next] : undefined;
      if (retry) {
        relay.next += 1;
        relay.url = nextUrl;
      } else {
        relay.failed = true;
        relay.queue.length = 0;
      }
      const ws = relay.ws;
      relay.ws = null;
      if (ws !== null && ws.readyState !== WS_CLOSED) {
        try { ws.close(); } catch (err) { /* already closing */ }
      }
      try {
        this.#input(() => this.#peer.relayServerFailed(clock(), relay.via, failedUrl, text, nextUrl));
      } catch (err) {
        return;
      }
      if (retry) this.#connect(relay);
    }

    #sendOn(relay, data) {
      const ws = relay.ws;
      if (relay.failed) return;
      if (ws === null || ws.readyState === WS_CONNECTING) {
        // Not open yet (or between two URLs): held, bounded.
        if (relay.queue.length < MAX_QUEUED_TRANSMITS) relay.queue.push(data);
        else relay.dropped += 1;
      } else if (ws.readyState === WS_OPEN) {
        if (ws.bufferedAmount > MAX_WS_BUFFERED_BYTES) {
          relay.dropped += 1;
          return;
        }
        try {
          ws.send(data);
        } catch (err) {
          relay.dropped += 1;
        }
      }
    }

    // ---- the drive loop -----------------------------------------------------------------

    /** Runs an input on the core, then drains it. A trap of the instance fails the peer. */
    #input(fn) {
      if (this.#failed) throw engineError('InvalidStateError', 'peer failed after an internal error');
      let r;
      try {
        r = fn();
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError) this.#fail(err);
        throw err;
      }
      this.#pump();
      return r;
    }

    /**
     * A drain after the current task's other messages: the messages one network read
     * delivers (several WebSocket frames) are answered together (one SACK for a burst).
     */
    #pumpSoon() {
      if (this.#pumpQueued) return;
      this.#pumpQueued = true;
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#pump();
      });
    }

    /** Sends every datagram the core has, re-arms the one timer, queues event delivery. */
    #pump() {
      if (this.#failed) return;
      try {
        const now = clock();
        let sent = 0;
        for (;;) {
          if (sent >= MAX_TRANSMITS_PER_DRAIN) {
            // Yield; a zero timer resumes the drain.
            this.#arm(now);
            break;
          }
          const t = this.#peer.pollTransmit(now);
          if (t === undefined) break;
          sent += 1;
          const relay = this.#relays.find((r) => r.via === t.transport);
          if (relay) this.#sendOn(relay, t.data);
          // Anything else has no transport here: dropped, as a network would.
        }
        if (sent < MAX_TRANSMITS_PER_DRAIN) this.#arm(this.#peer.pollTimeout());
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError) {
          this.#fail(err);
          return;
        }
        throw err;
      }
      this.#scheduleDelivery();
    }

    /**
     * One timer, for the core's next deadline (ms on `clock()`), never a busy loop. After
     * close() the core's deadlines are its relays' (deallocation); none left, or the linger
     * bound reached: the WebSockets close.
     */
    #arm(due) {
      if (this.#closed) {
        if (due === undefined || due === null || clock() >= this.#lingerUntil) {
          this.#finish();
          return;
        }
        due = Math.min(due, this.#lingerUntil);
      }
      if (due === undefined || due === null) {
        this.#disarm();
        return;
      }
      if (this.#timer !== null && this.#timerDue === due) return;
      this.#disarm();
      // Whole ms, rounded up: runtimes truncate the delay and may count it from a cached
      // loop time, so a timer can fire a little early.
      const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, Math.ceil(due - clock())));
      this.#timerDue = due;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#timerDue = null;
        if (this.#failed || this.#finished) return;
        if (this.#closed && clock() >= this.#lingerUntil) {
          this.#finish();
          return;
        }
        if (clock() < due) {
          // Early (or a deadline beyond the longest delay): wait for the rest.
          this.#arm(due);
          return;
        }
        try {
          this.#input(() => this.#peer.handleTimeout(clock()));
        } catch (err) {
          // #input already failed the peer for a trap; nothing else throws here.
        }
      }, delay);
    }

    /** After close(): the timer and the WebSockets are released. */
    #finish() {
      if (this.#finished) return;
      this.#finished = true;
      this.#disarm();
      this.#closeSockets();
    }

    #disarm() {
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
      this.#timerDue = null;
    }

    #scheduleDelivery() {
      if (this.#deliveryQueued) return;
      this.#deliveryQueued = true;
      queueTask(() => this.#deliver());
    }

    /** One batch per wake-up, as the addon's onEvents; a full batch queues the next one. */
    #deliver() {
      this.#deliveryQueued = false;
      let batch = [];
      if (!this.#failed) {
        try {
          batch = Array.from(this.#peer.pollEvents());
        } catch (err) {
          if (err instanceof WebAssembly.RuntimeError) this.#fail(err);
        }
      }
      const full = batch.length >= MAX_BATCH_EVENTS;
      if (this.#ownEvents.length > 0) batch = batch.concat(this.#ownEvents.splice(0));
      if (full) this.#scheduleDelivery();
      if (batch.length > 0) this.#onEvents(batch);
    }

    /** The instance trapped (a Rust panic aborts it): the peer is closed and released. */
    #fail(err) {
      if (this.#failed) return;
      this.#failed = true;
      this.#finished = true;
      this.#disarm();
      this.#closeSockets();
      this.#ownEvents.push({ type: 'error', message: `internal error: ${err && err.message}` });
      this.#scheduleDelivery();
    }

    #closeSockets() {
      for (const r of this.#relays) {
        r.queue.length = 0;
        if (r.ws !== null) {
          try {
            r.ws.close(1000);
          } catch (err) {
            // already closed
          }
        }
      }
    }

    // ---- the addon's methods (napi/engine-contract.md) ---------------------------------

    createOffer(iceRestart) {
      return this.#input(() => (iceRestart === undefined ? this.#peer.createOffer() : this.#peer.createOffer(Boolean(iceRestart))));
    }

    restartIce() {
      this.#input(() => this.#peer.restartIce());
    }

    createAnswer() {
      return this.#input(() => this.#peer.createAnswer());
    }

    setLocalDescription(type, sdp) {
      return this.#input(() => this.#peer.setLocalDescription(clock(), type ?? undefined, sdp ?? undefined));
    }

    setRemoteDescription(type, sdp) {
      this.#input(() => this.#peer.setRemoteDescription(clock(), type, sdp));
    }

    addIceCandidate(init) {
      this.#input(() => this.#peer.addIceCandidate(clock(), init ?? null));
    }

    getState() {
      return this.#peer.getState();
    }

    /** The core's figures for `getStats()` (the addon's object, napi/engine-contract.md). */
    getStats() {
      return this.#peer.getStats(clock());
    }

    /**
     * What `setConfiguration()` may change: `iceTransportPolicy` (for the next gathering
     * phase). STUN servers have no use here (no UDP socket); the relays are fixed.
     */
    setConfiguration(config) {
      const policy = config && config.iceTransportPolicy != null ? String(config.iceTransportPolicy) : undefined;
      this.#input(() => this.#peer.setIceTransportPolicy(clock(), policy));
    }

    createDataChannel(init) {
      return this.#input(() => this.#peer.createDataChannel(clock(), init));
    }

    send(channel, binary, data) {
      this.#input(() => this.#peer.send(clock(), channel, Boolean(binary), data));
    }

    channelId(channel) {
      const id = this.#peer.channelId(channel);
      return id === undefined ? null : id;
    }

    closeChannel(channel) {
      this.#input(() => this.#peer.closeChannel(clock(), channel));
    }

    // ---- media (napi/engine-contract.md "Media") ----
    addTransceiver(init) { return this.#input(() => this.#peer.addTransceiver(init)); }
    getTransceivers() { return this.#peer.getTransceivers(); }
    setTransceiverDirection(t, d) { this.#input(() => this.#peer.setTransceiverDirection(t, d)); }
    stopTransceiver(t) { this.#input(() => this.#peer.stopTransceiver(t)); }
    setCodecPreferences(t, codecs) { this.#input(() => this.#peer.setCodecPreferences(t, codecs)); }
    setSenderTrack(t, trackId, fromAddTrack) {
      this.#input(() => this.#peer.setSenderTrack(t, trackId ?? undefined, Boolean(fromAddTrack)));
    }
    setSenderStreams(t, ids) { this.#input(() => this.#peer.setSenderStreams(t, ids)); }
    setReceiveRtp(t, on) { this.#input(() => this.#peer.setReceiveRtp(t, Boolean(on))); }
    writeFrame(t, frame) {
      this.#peer.setSendAudioLevel(t, typeof frame.audioLevel === 'number' ? frame.audioLevel : undefined);
      return this.#input(() => this.#peer.writeFrame(clock(), t, Number(frame.timestamp), frame.data,
        frame.mimeType ?? undefined, frame.rid ?? undefined));
    }
    setSendEncodings(t, encodings) { this.#input(() => this.#peer.setSendEncodings(t, encodings)); }
    writeRtp(t, packet) { return this.#input(() => this.#peer.writeRtp(clock(), t, packet)); }
    requestKeyframe(t) { this.#input(() => this.#peer.requestKeyframe(clock(), t)); }
    insertDtmf(t, event, duration, volume) {
      return this.#input(() => this.#peer.insertDtmf(clock(), t, event, duration, volume));
    }
    canInsertDtmf(t) { return this.#peer.canInsertDtmf(t); }
    audioLevels(t) { return Array.from(this.#peer.audioLevels(t)); }

    /**
     * Closes the peer: its last datagrams (SCTP ABORT, DTLS close_notify, the TURN
     * deallocations) go out on the WebSockets, which stay open until the core has released
     * its allocations (at most MAX_CLOSE_LINGER_MS), then close; its last events are still
     * delivered. Idempotent.
     */
    close() {
      if (this.#closed) return;
      this.#closed = true;
      this.#lingerUntil = clock() + MAX_CLOSE_LINGER_MS;
      if (this.#failed) return;
      try {
        this.#peer.close(clock());
        // Drains, then arms the timer for the deallocations, or finishes when there are none.
        this.#pump();
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError) this.#fail(err);
        else this.#finish();
      }
    }

    certificate() {
      return this.#certificate.clone();
    }

    remoteCertificates() {
      return Array.from(this.#peer.remoteCertificates());
    }
  }

  /** A certificate valid for `lifetimeMs` from now (30 days when omitted), ECDSA P-256. */
  function generateCertificate(lifetimeMs) {
    return lifetimeMs === undefined
      ? glue.generateCertificate(Date.now())
      : glue.generateCertificate(Date.now(), lifetimeMs);
  }

  /** The WASM core has no RSA key generation: NotSupportedError (the layer rejects with it). */
  function generateRsaCertificate() {
    return Promise.reject(engineError('NotSupportedError', 'the WASM engine generates ECDSA P-256 certificates only'));
  }

  /** Engine options that are not part of RTCConfiguration: none here. */
  function peerOptions() {
    return {};
  }

  /** RTCRtpSender / RTCRtpReceiver.getCapabilities(kind), from the core's codecs. */
  function getCapabilities(kind) {
    return typeof glue.getCapabilities === 'function' ? glue.getCapabilities(kind) : null;
  }

  /** getUserMedia's synthetic device (VP8 test pattern, Opus tone), as the addon's. */
  function createSyntheticSource(kind, settings) {
    if (typeof glue.WasmSyntheticSource !== 'function') return null;
    return kind === 'video'
      ? new glue.WasmSyntheticSource('video', settings.width, settings.height, settings.frameRate)
      : new glue.WasmSyntheticSource('audio', 0, 0, 0);
  }

  return {
    NativePeer, generateCertificate, generateRsaCertificate, getCapabilities, createSyntheticSource, peerOptions,
    kind: 'wasm',
  };
}
