'use strict';
// A small, uniform, promise-based view of one peer connection, so that the same interop
// cases run against any pair of stacks (the implementation under test in this process,
// werift in this process, Chromium behind playwright).
//
// Data convention: a text message is a JS string, a binary message is a Buffer.
const { EventEmitter } = require('node:events');

const DEFAULT_WAIT_MS = Number(process.env.POLYRTC_INTEROP_WAIT_MS || 15000);

function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`unexpected message data type ${Object.prototype.toString.call(data)}`);
}

class PeerBase extends EventEmitter {
  constructor(name) {
    super();
    this.name = name;
    this.inbox = new Map(); // label -> [data]
    this.seen = new Set(); // "open:label", "close:label", "channel:label", "connection:state"
    this.errors = [];
    this.setMaxListeners(100);
  }

  _event(type, label, data) {
    if (type === 'message') {
      if (!this.inbox.has(label)) this.inbox.set(label, []);
      this.inbox.get(label).push(data);
    } else if (type === 'candidate') {
      this.emit('candidate', data);
    } else {
      this.seen.add(`${type}:${label}`);
    }
    this.emit('changed');
  }

  waitFor(pred, what, ms = DEFAULT_WAIT_MS) {
    return new Promise((resolve, reject) => {
      let done = false;
      const check = () => {
        if (done) return;
        let v;
        try {
          v = pred();
        } catch (e) {
          finish();
          reject(e);
          return;
        }
        if (v) {
          finish();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.name}: timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const finish = () => {
        done = true;
        clearTimeout(timer);
        this.off('changed', check);
      };
      this.on('changed', check);
      check();
    });
  }

  waitEvent(type, label, ms) {
    return this.waitFor(() => this.seen.has(`${type}:${label}`), `${type} on "${label}"`, ms);
  }

  /** Resolves with (and removes) the first n messages received on `label`. */
  async waitMessages(label, n, ms) {
    await this.waitFor(
      () => (this.inbox.get(label) || []).length >= n,
      `${n} message(s) on "${label}" (have ${(this.inbox.get(label) || []).length})`,
      ms,
    );
    return this.inbox.get(label).splice(0, n);
  }

  /** Waits until no message arrived for `quietMs`, then returns everything received. */
  async drainMessages(label, quietMs = 500, maxMs = DEFAULT_WAIT_MS) {
    const start = Date.now();
    let last = -1;
    while (Date.now() - start < maxMs) {
      const n = (this.inbox.get(label) || []).length;
      if (n === last) break;
      last = n;
      await new Promise((r) => setTimeout(r, quietMs));
    }
    const got = this.inbox.get(label) || [];
    this.inbox.set(label, []);
    return got;
  }
}

/** Any W3C implementation running in this process (ours, @roamhq/wrtc, node-datachannel/polyfill). */
class W3CPeer extends PeerBase {
  constructor(impl, name) {
    super(name);
    this.impl = impl;
    this.channels = new Map();
  }

  async init(config = {}) {
    const pc = new this.impl.RTCPeerConnection(config);
    this.pc = pc;
    pc.onicecandidate = (e) => {
      const c = e && e.candidate;
      if (!c || !c.candidate) return;
      this._event('candidate', null, {
        candidate: c.candidate,
        sdpMid: c.sdpMid,
        sdpMLineIndex: c.sdpMLineIndex,
      });
    };
    pc.ondatachannel = (e) => this._attach(e.channel, true);
    pc.onconnectionstatechange = () => this._event('connection', pc.connectionState);
  }

  _attach(dc, remote) {
    const label = dc.label;
    this.channels.set(label, dc);
    try {
      dc.binaryType = 'arraybuffer';
    } catch (e) {
      this.errors.push(e);
    }
    let chain = Promise.resolve();
    dc.onopen = () => this._event('open', label);
    dc.onclose = () => this._event('close', label);
    dc.onerror = (e) => this.errors.push(e && (e.error || e));
    dc.onmessage = (e) => {
      const data = e.data;
      if (typeof data === 'string') {
        chain = chain.then(() => this._event('message', label, data));
      } else if (data && typeof data.arrayBuffer === 'function' && !(data instanceof ArrayBuffer)) {
        // A Blob (binaryType ignored): keep arrival order.
        chain = chain.then(async () => this._event('message', label, Buffer.from(await data.arrayBuffer())));
      } else {
        const buf = Buffer.from(toBuffer(data)); // copy: the impl may reuse its buffer
        chain = chain.then(() => this._event('message', label, buf));
      }
    };
    if (remote) this._event('channel', label);
    if (dc.readyState === 'open') this._event('open', label);
    return dc;
  }

  async createOffer() {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    const d = this.pc.localDescription;
    return { type: d.type, sdp: d.sdp };
  }

  async handleOffer(desc) {
    await this.pc.setRemoteDescription(desc);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    const d = this.pc.localDescription;
    return { type: d.type, sdp: d.sdp };
  }

  async handleAnswer(desc) {
    await this.pc.setRemoteDescription(desc);
  }

  async addCandidate(c) {
    await this.pc.addIceCandidate(c);
  }

  async createChannel(label, init) {
    const dc = init ? this.pc.createDataChannel(label, init) : this.pc.createDataChannel(label);
    this._attach(dc, false);
  }

  channelInfo(label) {
    const dc = this.channels.get(label);
    return dc && { ordered: dc.ordered, maxRetransmits: dc.maxRetransmits, negotiated: dc.negotiated, id: dc.id };
  }

  async send(label, data) {
    const dc = this.channels.get(label);
    if (!dc) throw new Error(`${this.name}: no channel "${label}"`);
    dc.send(typeof data === 'string' ? data : new Uint8Array(data));
  }

  async closeChannel(label) {
    this.channels.get(label).close();
  }

  async close() {
    if (this.pc) this.pc.close();
  }
}

/** werift (pure TypeScript WebRTC), driven through its own event API. */
class WeriftPeer extends PeerBase {
  constructor(name = 'werift') {
    super(name);
    this.channels = new Map();
  }

  async init(config = {}) {
    const werift = require('werift');
    // werift advertises 64 KiB by default; the cases send 256 KiB messages like browsers allow.
    const pc = new werift.RTCPeerConnection({ maxMessageSize: 256 * 1024, ...config });
    this.pc = pc;
    pc.onIceCandidate.subscribe((c) => {
      if (!c || !c.candidate) return;
      const j = typeof c.toJSON === 'function' ? c.toJSON() : c;
      this._event('candidate', null, { candidate: j.candidate, sdpMid: j.sdpMid, sdpMLineIndex: j.sdpMLineIndex });
    });
    pc.onDataChannel.subscribe((dc) => this._attach(dc, true));
    pc.connectionStateChange.subscribe((s) => this._event('connection', s));
  }

  _attach(dc, remote) {
    const label = dc.label;
    this.channels.set(label, dc);
    dc.stateChanged.subscribe((s) => {
      if (s === 'open') this._event('open', label);
      if (s === 'closed') this._event('close', label);
    });
    dc.onMessage.subscribe((data) => {
      this._event('message', label, typeof data === 'string' ? data : Buffer.from(data));
    });
    if (remote) this._event('channel', label);
    if (dc.readyState === 'open') this._event('open', label);
  }

  async createOffer() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const d = this.pc.localDescription;
    return { type: d.type, sdp: d.sdp };
  }

  async handleOffer(desc) {
    await this.pc.setRemoteDescription(desc);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    const d = this.pc.localDescription;
    return { type: d.type, sdp: d.sdp };
  }

  async handleAnswer(desc) {
    await this.pc.setRemoteDescription(desc);
  }

  async addCandidate(c) {
    await this.pc.addIceCandidate(c);
  }

  async createChannel(label, init = {}) {
    this._attach(this.pc.createDataChannel(label, init), false);
  }

  async send(label, data) {
    this.channels.get(label).send(typeof data === 'string' ? data : Buffer.from(data));
  }

  async closeChannel(label) {
    this.channels.get(label).close();
  }

  async close() {
    if (this.pc) await this.pc.close();
  }
}

// A peer living elsewhere (a browser page, a child process) driven by remote calls: the
// subclass supplies `_call(op, ...args)` (resolving with the remote result) and `close()`.
// Binary payloads cross as base64 (`{ b }`), strings as `{ s }`.
class RpcPeer extends PeerBase {
  init(config) {
    return this._call('init', config || {});
  }
  createOffer() {
    return this._call('createOffer');
  }
  handleOffer(desc) {
    return this._call('handleOffer', desc);
  }
  handleAnswer(desc) {
    return this._call('handleAnswer', desc);
  }
  addCandidate(c) {
    return this._call('addCandidate', c);
  }
  createChannel(label, init) {
    return this._call('createChannel', label, init || null);
  }
  channelInfo(label) {
    return this._call('channelInfo', label);
  }
  send(label, data) {
    return this._call('send', label, typeof data === 'string' ? { s: data } : { b: Buffer.from(data).toString('base64') });
  }
  closeChannel(label) {
    return this._call('closeChannel', label);
  }
}

/** aiortc (Python), one peer per child process (tests/interop/lib/aiortc_peer.py). */
class AiortcPeer extends RpcPeer {
  constructor(name = 'aiortc', python = process.env.POLYRTC_PYTHON || 'python3') {
    super(name);
    const { spawn } = require('node:child_process');
    const path = require('node:path');
    this.child = spawn(python, [path.join(__dirname, 'aiortc_peer.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.pending = new Map();
    this.nextId = 1;
    this.exited = false;
    let buf = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) this._line(JSON.parse(line));
      }
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      for (const { reject } of this.pending.values()) reject(new Error(`aiortc child exited (${code})`));
      this.pending.clear();
    });
  }

  _line(msg) {
    if (msg.event) {
      if (msg.event === 'message') {
        this._event('message', msg.label, 's' in msg.data ? msg.data.s : Buffer.from(msg.data.b, 'base64'));
      } else {
        this._event(msg.event, msg.label);
      }
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`aiortc: ${msg.error}`));
  }

  _call(op, ...args) {
    if (this.exited) return Promise.reject(new Error('aiortc child has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(JSON.stringify({ id, op, args }) + '\n');
    });
  }

  async close() {
    if (this.exited) return;
    const done = new Promise((r) => this.child.once('exit', r));
    await this._call('close').catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(timer);
  }
}

module.exports = { PeerBase, RpcPeer, W3CPeer, WeriftPeer, AiortcPeer, toBuffer, DEFAULT_WAIT_MS };
