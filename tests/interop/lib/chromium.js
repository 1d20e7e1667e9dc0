'use strict';
// Chromium (Debian's /usr/bin/chromium) driven by playwright-core. The page hosts any number
// of RTCPeerConnections; Node drives them with page.evaluate and receives their events through
// one exposed function. Binary data crosses the bridge as base64.
const fs = require('node:fs');
const { RpcPeer } = require('./peers');

const CHROMIUM_PATH = process.env.POLYRTC_CHROMIUM || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // Gather 127.0.0.1 / ::1 host candidates (off by default in Chromium).
  '--allow-loopback-in-peer-connection',
  // Without this, host candidates are hidden behind random "<uuid>.local" mDNS names,
  // which Node stacks cannot resolve here.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--headless=new',
];

function chromiumAvailable() {
  return fs.existsSync(CHROMIUM_PATH);
}

async function launchChromium() {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30000,
  });
  return browser;
}

// Runs inside the page.
function pageMain() {
  const peers = new Map();
  const emit = (id, type, label, payload) => window.__polyrtcEvent(id, type, label, payload);
  const toB64 = (buf) => {
    const u8 = new Uint8Array(buf);
    let s = '';
    for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const fromB64 = (b64) => {
    const s = atob(b64);
    const u8 = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u8[i] = s.charCodeAt(i);
    return u8;
  };
  const attach = (id, p, dc, remote) => {
    p.channels.set(dc.label, dc);
    dc.binaryType = 'arraybuffer';
    dc.onopen = () => emit(id, 'open', dc.label, null);
    dc.onclose = () => emit(id, 'close', dc.label, null);
    dc.onmessage = (e) =>
      emit(id, 'message', dc.label, typeof e.data === 'string' ? { s: e.data } : { b: toB64(e.data) });
    if (remote) emit(id, 'channel', dc.label, null);
    if (dc.readyState === 'open') emit(id, 'open', dc.label, null);
  };
  window.__polyrtc = {
    init(id, config) {
      const pc = new RTCPeerConnection(config || {});
      const p = { pc, channels: new Map() };
      peers.set(id, p);
      pc.onicecandidate = (e) => {
        if (e.candidate && e.candidate.candidate) emit(id, 'candidate', null, e.candidate.toJSON());
      };
      pc.ondatachannel = (e) => attach(id, p, e.channel, true);
      pc.onconnectionstatechange = () => emit(id, 'connection', pc.connectionState, null);
    },
    async createOffer(id) {
      const { pc } = peers.get(id);
      await pc.setLocalDescription(await pc.createOffer());
      return { type: pc.localDescription.type, sdp: pc.localDescription.sdp };
    },
    async handleOffer(id, desc) {
      const { pc } = peers.get(id);
      await pc.setRemoteDescription(desc);
      await pc.setLocalDescription(await pc.createAnswer());
      return { type: pc.localDescription.type, sdp: pc.localDescription.sdp };
    },
    async handleAnswer(id, desc) {
      await peers.get(id).pc.setRemoteDescription(desc);
    },
    async addCandidate(id, c) {
      await peers.get(id).pc.addIceCandidate(c);
    },
    createChannel(id, label, init) {
      const p = peers.get(id);
      attach(id, p, init ? p.pc.createDataChannel(label, init) : p.pc.createDataChannel(label), false);
    },
    channelInfo(id, label) {
      const dc = peers.get(id).channels.get(label);
      return { ordered: dc.ordered, maxRetransmits: dc.maxRetransmits, negotiated: dc.negotiated, id: dc.id };
    },
    send(id, label, msg) {
      const dc = peers.get(id).channels.get(label);
      dc.send('s' in msg ? msg.s : fromB64(msg.b));
    },
    closeChannel(id, label) {
      peers.get(id).channels.get(label).close();
    },
    close(id) {
      const p = peers.get(id);
      if (p) p.pc.close();
      peers.delete(id);
    },
  };
}

/** Sets up a page for hosting peers; returns a factory of ChromiumPeer. */
async function preparePage(browser) {
  const page = await browser.newPage();
  const registry = new Map();
  page.on('console', (m) => {
    if (process.env.POLYRTC_INTEROP_DEBUG) console.error('[chromium]', m.text());
  });
  await page.exposeFunction('__polyrtcEvent', (id, type, label, payload) => {
    const peer = registry.get(id);
    if (!peer) return;
    if (type === 'message') {
      peer._event('message', label, 's' in payload ? payload.s : Buffer.from(payload.b, 'base64'));
    } else if (type === 'candidate') {
      peer._event('candidate', null, payload);
    } else {
      peer._event(type, label);
    }
  });
  await page.goto('about:blank');
  await page.evaluate(pageMain);
  let next = 1;
  return {
    page,
    newPeer(name = 'chromium') {
      const p = new ChromiumPeer(page, next++, name);
      registry.set(p.id, p);
      return p;
    },
  };
}

class ChromiumPeer extends RpcPeer {
  constructor(page, id, name) {
    super(name);
    this.page = page;
    this.id = id;
  }

  _call(method, ...args) {
    return this.page.evaluate(([m, id, a]) => window.__polyrtc[m](id, ...a), [method, this.id, args]);
  }

  async close() {
    if (!this.page.isClosed()) await this._call('close');
  }
}

/** Polls `pred` (it may be async) every 20 ms until it returns a truthy value, which it resolves to. */
async function waitUntil(pred, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * One Chromium shared by a test file's tests: launched in `test.before` (when `available`),
 * closed in `test.after`. `freshPage(main)` opens about:blank and runs `main` in the page.
 */
function sharedBrowser(test, available) {
  let browser = null;
  test.before(async () => { if (available) browser = await launchChromium(); });
  test.after(async () => { if (browser) await browser.close(); });
  return {
    async freshPage(main) {
      const page = await browser.newPage();
      await page.goto('about:blank');
      await page.evaluate(pageKit);
      await page.evaluate(main);
      return page;
    },
  };
}

/**
 * Runs in every freshPage() before the test's own page code: `window.__kit` with
 * gathered(pc) (resolves once its ICE gathering is complete), canvasVideo(width, height) (a
 * 30 fps canvas track whose colour changes every frame, a white square moving across) and
 * tone() (a MediaStream with a WebAudio oscillator's track).
 */
function pageKit() {
  window.__kit = {
    gathered: (pc) => (pc.iceGatheringState === 'complete' ? Promise.resolve() : new Promise((r) => {
      pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') r(); });
    })),
    canvasVideo(width = 320, height = 240) {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d');
      let f = 0;
      setInterval(() => {
        f += 1;
        ctx.fillStyle = `hsl(${(f * 7) % 360}, 80%, 50%)`;
        ctx.fillRect(0, 0, width, height);
        ctx.fillStyle = '#fff';
        ctx.fillRect((f * 5) % (width - 20), height / 2 - 20, 20, 20);
      }, 33);
      return canvas.captureStream(30).getVideoTracks()[0];
    },
    tone() {
      const ac = new AudioContext();
      ac.resume().catch(() => {});
      const osc = ac.createOscillator();
      const dest = ac.createMediaStreamDestination();
      osc.connect(dest);
      osc.start();
      return dest.stream;
    },
  };
}

/**
 * `skip` for a test file that needs Chromium: false, or why not; under CI a missing
 * Chromium is an error (a skip is not a pass).
 */
function chromiumSkip() {
  if (chromiumAvailable()) return false;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM_PATH} not found: CI must install chromium`);
  return `${CHROMIUM_PATH} not found`;
}

/** Our peer's complete local description, once its gathering is done (non-trickle). */
async function gatheredLocal(pc) {
  await waitUntil(() => pc.iceGatheringState === 'complete', 'our gathering');
  return pc.localDescription.toJSON();
}

module.exports = {
  CHROMIUM_PATH, CHROMIUM_ARGS, chromiumAvailable, chromiumSkip, launchChromium, preparePage, ChromiumPeer, waitUntil,
  sharedBrowser, gatheredLocal,
};
