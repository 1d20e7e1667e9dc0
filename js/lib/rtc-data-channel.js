import {
  INTERNAL, illegalConstructor, defineEventHandlers, fire, domException, callEngine,
  toUSVString, toNumber, toDOMString,
} from './util.js';
import { RTCError } from './rtc-error.js';
import { RTCErrorEvent } from './rtc-error-event.js';
import { setDataChannelClass } from './rtc-data-channel-event.js';

const BINARY_TYPES = ['blob', 'arraybuffer'];
/**
 * Most bytes this layer holds for sends the engine has not taken yet (behind a Blob read,
 * or waiting for room in the engine's send buffer), as the engine's MAX_SEND_BUFFER bounds
 * its own. Past it send() throws OperationError (webrtc-pc §6.2 send(): "if queuing data is
 * not possible because not enough buffer space is available, throw an OperationError").
 */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** The engine refused a message because its send buffer is full (nothing was queued). */
function isSendBufferFull(err) {
  return /send buffer is full/.test(String(err && err.message));
}
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/**
 * W3C webrtc-pc §6.2 RTCDataChannel. Protocol work (DCEP, SCTP streams) is the engine's;
 * this class keeps the W3C state: readyState, bufferedAmount accounting, event order.
 */
class RTCDataChannel extends EventTarget {
  #owner; // { send(handle, binary, bytes), closeChannel(handle), maxMessageSize() }
  #handle;
  #label;
  #ordered;
  #maxPacketLifeTime;
  #maxRetransmits;
  #protocol;
  #negotiated;
  #id;
  #readyState;
  #bufferedAmount = 0;
  #bufferedAmountLowThreshold = 0;
  #binaryType = 'arraybuffer';
  /**
   * Sends the engine has not taken yet, in call order: { blob, ready, bytes, binary, size,
   * held }. A Blob is read only when it reaches the head (one read at a time, as Chromium).
   */
  #sendQueue = [];
  /** Bytes this layer holds for #sendQueue (copies, and the Blob being read): MAX_QUEUED_BYTES. */
  #queuedBytes = 0;
  #draining = false;
  /**
   * close() was called while sends were still queued here: the closing procedure ("finish
   * sending all currently pending messages of the channel", webrtc-pc §6.2) asks the engine to
   * close the channel once the queue is empty; until then the queue keeps draining.
   */
  #closeAfterDrain = false;
  /** RTCDataChannelStats counters (webrtc-stats §8.13): payload bytes, API messages. */
  #announcedOpen = false;
  #counters = { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 };

  constructor(token, owner, handle, init, readyState) {
    illegalConstructor(token);
    super();
    this.#owner = owner;
    this.#handle = handle;
    this.#label = init.label;
    this.#ordered = init.ordered;
    this.#maxPacketLifeTime = init.maxPacketLifeTime ?? null;
    this.#maxRetransmits = init.maxRetransmits ?? null;
    this.#protocol = init.protocol;
    this.#negotiated = init.negotiated;
    this.#id = init.id ?? null;
    this.#readyState = readyState;
  }

  get label() { return this.#label; }
  get ordered() { return this.#ordered; }
  get maxPacketLifeTime() { return this.#maxPacketLifeTime; }
  get maxRetransmits() { return this.#maxRetransmits; }
  get protocol() { return this.#protocol; }
  get negotiated() { return this.#negotiated; }
  get id() { return this.#id; }
  get readyState() { return this.#readyState; }
  get bufferedAmount() { return this.#bufferedAmount; }

  get bufferedAmountLowThreshold() { return this.#bufferedAmountLowThreshold; }
  set bufferedAmountLowThreshold(v) { this.#bufferedAmountLowThreshold = toNumber(v) >>> 0; }

  get binaryType() { return this.#binaryType; }
  set binaryType(v) {
    // WebIDL: assigning a value outside an enumeration to an attribute is ignored.
    const s = toDOMString(v); // a Symbol throws TypeError, as WebIDL converts first
    if (BINARY_TYPES.includes(s)) this.#binaryType = s;
  }

  send(data) {
    if (arguments.length < 1) throw new TypeError('send: 1 argument required');
    let bytes = null;
    let blob = null;
    let binary = true;
    // Views over the caller's memory: the engine copies them synchronously in send(); only
    // a message that has to wait behind a Blob is copied when queued (below).
    if (data instanceof ArrayBuffer) {
      bytes = new Uint8Array(data);
    } else if (ArrayBuffer.isView(data)) {
      if (typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer) throw new TypeError('shared buffers cannot be sent');
      bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } else if (typeof Blob === 'function' && data instanceof Blob) {
      blob = data;
    } else {
      bytes = encoder.encode(toUSVString(data));
      binary = false;
    }
    if (this.#readyState !== 'open') {
      throw domException('InvalidStateError', `RTCDataChannel.readyState is '${this.#readyState}'`);
    }
    const size = blob ? blob.size : bytes.byteLength;
    const max = this.#owner.maxMessageSize();
    if (max !== null && size > max) {
      throw new TypeError(`message of ${size} bytes exceeds maxMessageSize ${max}`);
    }
    if ((blob || this.#sendQueue.length > 0) && this.#queuedBytes + size > MAX_QUEUED_BYTES) {
      throw domException('OperationError', `the send queue is full (${this.#queuedBytes} bytes wait)`);
    }
    if (blob) {
      // Its bytes are held (counted in #queuedBytes) from when its read starts at the head.
      this.#sendQueue.push({ blob, ready: false, bytes: null, binary: true, size, held: false });
      this.#bufferedAmount += size;
      this.#drainSendQueue();
      return;
    }
    if (this.#sendQueue.length > 0) {
      this.#sendQueue.push({ ready: true, bytes: binary ? bytes.slice() : bytes, binary, size, held: true });
      this.#queuedBytes += size;
      this.#bufferedAmount += size;
      return;
    }
    callEngine(() => this.#owner.send(this.#handle, binary, bytes));
    this.#bufferedAmount += size;
    this.#countSent(size);
  }

  #countSent(size) {
    this.#counters.messagesSent += 1;
    this.#counters.bytesSent += size;
  }

  /** Starts reading the Blob at the head of the queue; the queue drains when it is read. */
  #readBlob(entry) {
    const blob = entry.blob;
    entry.blob = null;
    entry.held = true;
    this.#queuedBytes += entry.size;
    blob.arrayBuffer().then((ab) => {
      entry.bytes = new Uint8Array(ab);
      entry.ready = true;
      this.#drainSendQueue();
    }, () => {
      entry.failed = true;
      entry.ready = true;
      this.#drainSendQueue();
    });
  }

  #drainSendQueue() {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#sendQueue.length > 0) {
        const entry = this.#sendQueue[0];
        if (entry.blob) this.#readBlob(entry);
        if (!entry.ready) return;
        let sent = false;
        // Open, or closing with what was queued before still to send (our close() or the
        // remote's reset: the engine resets our direction once closeChannel() is called).
        const sending = this.#readyState === 'open' || (this.#readyState === 'closing' && this.#closeAfterDrain);
        if (!entry.failed && sending) {
          try {
            this.#owner.send(this.#handle, entry.binary, entry.bytes);
            sent = true;
          } catch (err) {
            // Accepted already (counted in bufferedAmount): wait for room, which the next
            // bufferedAmount decrease brings, rather than drop it.
            if (isSendBufferFull(err)) return;
          }
        }
        this.#sendQueue.shift();
        if (entry.held) this.#queuedBytes -= entry.size;
        if (sent) this.#countSent(entry.size);
        else this._bufferedAmountDecrease(entry.size);
      }
    } finally {
      this.#draining = false;
    }
    if (this.#closeAfterDrain && this.#sendQueue.length === 0) {
      this.#closeAfterDrain = false;
      if (this.#readyState === 'closing') this.#closeEngineChannel();
    }
  }

  close() {
    if (this.#readyState === 'closing' || this.#readyState === 'closed') return;
    this.#leaveState('closing');
    if (this.#sendQueue.length > 0) {
      // What send() accepted goes first; the engine resets the stream after its own queue.
      this.#closeAfterDrain = true;
      return;
    }
    this.#closeEngineChannel();
  }

  #closeEngineChannel() {
    try {
      this.#owner.closeChannel(this.#handle);
    } catch (err) {
      // The closing procedure still completes through the engine's channelclose event.
    }
  }

  /** readyState moves to 'closing' or 'closed'; the owner counts channels leaving 'open'. */
  #leaveState(state) {
    const before = this.#readyState;
    this.#readyState = state;
    this.#owner.stateChanged?.(this, state, before);
  }

  // ---- engine-facing (internal) ---------------------------------------------------

  /** @internal */
  get _handle() { return this.#handle; }

  /** @internal */
  _setId(id) { this.#id = id; }

  /** @internal the counters of RTCDataChannelStats. */
  _counters() { return { ...this.#counters }; }

  /** @internal announce the channel as open (webrtc-pc §6.2 "announce ... open"). */
  _announceOpen() {
    if (this.#readyState !== 'connecting' && this.#readyState !== 'open') return;
    this.#readyState = 'open';
    if (!this.#announcedOpen) {
      this.#announcedOpen = true;
      this.#owner.stateChanged?.(this, 'open');
    }
    fire(this, 'open');
  }

  /** @internal */
  _setOpenSilently() { this.#readyState = 'open'; }

  /** @internal */
  _message(binary, data) {
    if (this.#readyState !== 'open') return;
    this.#counters.messagesReceived += 1;
    this.#counters.bytesReceived += data.byteLength;
    let value;
    if (!binary) {
      value = decoder.decode(data);
    } else if (this.#binaryType === 'blob') {
      value = new Blob([data]);
    } else {
      // The engine hands over a Buffer that owns its whole ArrayBuffer: give that out
      // as is; copy only a view into a larger (shared or pooled) buffer.
      if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) {
        value = data.buffer;
      } else {
        const copy = new Uint8Array(data.byteLength);
        copy.set(data);
        value = copy.buffer;
      }
    }
    this.dispatchEvent(new MessageEvent('message', { data: value }));
  }

  /**
   * @internal the engine sent `bytes` of this channel's data from its queue (webrtc-pc:
   * bufferedAmount falls when data is sent, not when the peer acknowledges it); 0 bytes:
   * its send buffer, full when a send here was refused, has room again.
   */
  _bufferedAmountDecrease(bytes) {
    const before = this.#bufferedAmount;
    const after = Math.max(0, before - bytes);
    this.#bufferedAmount = after;
    const threshold = this.#bufferedAmountLowThreshold;
    if (before > threshold && after <= threshold) fire(this, 'bufferedamountlow');
    // The engine's buffer has room again for sends waiting here.
    if (this.#sendQueue.length > 0 && this.#sendQueue[0].ready && !this.#draining) this.#drainSendQueue();
  }

  /**
   * @internal the remote side started the closing procedure (it reset its stream): readyState
   * 'closing' and the `closing` event, then, as in close(), what send() accepted before is
   * still sent ("finish sending all currently pending messages", webrtc-pc closing
   * procedure) and only then does the engine reset our direction (it waits for closeChannel).
   */
  _closing() {
    if (this.#readyState === 'closing' || this.#readyState === 'closed') return;
    this.#leaveState('closing');
    fire(this, 'closing');
    if (this.#readyState !== 'closing') return; // closed meanwhile (pc.close() in a handler)
    if (this.#sendQueue.length > 0) {
      this.#closeAfterDrain = true;
      this.#drainSendQueue();
      return;
    }
    this.#closeEngineChannel();
  }

  /**
   * @internal announce the channel as closed because its transport closed with an error
   * (webrtc-pc §6.2): readyState 'closed', then `error` (an RTCErrorEvent), then `close`.
   * `sctpCauseCode`: the first cause code of the SCTP ABORT that ended it, if one did.
   */
  _closedWithError(errorDetail, message, sctpCauseCode = null) {
    if (this.#readyState === 'closed') return;
    this.#leaveState('closed');
    this.#sendQueue.length = 0;
    this.#queuedBytes = 0;
    this.#closeAfterDrain = false;
    const init = { errorDetail };
    if (typeof sctpCauseCode === 'number') init.sctpCauseCode = sctpCauseCode;
    const error = new RTCError(init, message || '');
    this.dispatchEvent(new RTCErrorEvent('error', { error }));
    fire(this, 'close');
  }

  /** @internal announce the channel as closed. */
  _closed() {
    if (this.#readyState === 'closed') return;
    this.#leaveState('closed');
    this.#sendQueue.length = 0;
    this.#queuedBytes = 0;
    this.#closeAfterDrain = false;
    fire(this, 'close');
  }

  /** @internal RTCPeerConnection.close(): closed now, `close` event in a later task. */
  _closeByPeerConnection() {
    if (this.#readyState === 'closed') return false;
    this.#leaveState('closed');
    this.#sendQueue.length = 0;
    this.#queuedBytes = 0;
    this.#closeAfterDrain = false;
    return true;
  }
}

defineEventHandlers(RTCDataChannel.prototype, [
  'open', 'bufferedamountlow', 'error', 'closing', 'close', 'message',
]);

Object.defineProperty(RTCDataChannel.prototype, Symbol.toStringTag, {
  value: 'RTCDataChannel', configurable: true,
});

setDataChannelClass(RTCDataChannel);

function createDataChannelObject(owner, handle, init, readyState) {
  return new RTCDataChannel(INTERNAL, owner, handle, init, readyState);
}

export { RTCDataChannel, createDataChannelObject };
