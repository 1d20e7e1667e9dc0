import {
  illegalConstructor, defineEventHandlers, domException, toDOMString, toDictionary, toNumber,
} from './util.js';

const TONE_CHARS = /^[0-9A-D#*,]*$/;
/** webrtc-pc §7.2 insertDTMF: duration and interToneGap limits (ms), the pause of a ','. */
const MIN_DURATION = 40;
const MAX_DURATION = 6000;
const MIN_GAP = 30;
const MAX_GAP = 6000;
const COMMA_PAUSE_MS = 2000;

/** W3C webrtc-pc §7.4 RTCDTMFToneChangeEvent. */
class RTCDTMFToneChangeEvent extends Event {
  #tone;

  constructor(type, eventInitDict = {}) {
    if (arguments.length < 1) throw new TypeError('RTCDTMFToneChangeEvent: 1 argument required');
    const t = toDOMString(type);
    const dict = toDictionary(eventInitDict, 'RTCDTMFToneChangeEventInit');
    super(t, dict);
    this.#tone = dict.tone === undefined ? '' : toDOMString(dict.tone);
  }

  get tone() { return this.#tone; }
}

function unsignedLong(v) {
  const n = toNumber(v);
  if (!Number.isFinite(n)) return 0;
  return (Math.trunc(n) % 4294967296 + 4294967296) % 4294967296;
}

/** RFC 4733 §3.2 event codes of the tone characters (',' is a pause, no event). */
const EVENT_CODES = { '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15 };
/** The volume of the tones we send (-dBm0; RFC 4733 §2.3.4; Chromium sends 10). */
const TONE_VOLUME = 10;

/**
 * W3C webrtc-pc §7.2 RTCDTMFSender (the `dtmf` of an audio RTCRtpSender). insertDTMF()
 * validates, keeps the tone buffer and plays it out on timers (tonechange per tone, then ''
 * at the end) as the spec's Playout task says; each tone played is handed to the engine
 * (`owner.sendTone(code, duration)`), which sends it as RFC 4733 telephone-event packets.
 * canInsertDTMF is true only where the engine negotiated audio/telephone-event and the
 * transceiver sends.
 */
class RTCDTMFSender extends EventTarget {
  #owner; // { stopping(), currentDirection(), canInsertDTMF() }
  #toneBuffer = '';
  #timer = null;

  constructor(token, owner) {
    illegalConstructor(token);
    super();
    this.#owner = owner;
  }

  get toneBuffer() { return this.#toneBuffer; }
  get canInsertDTMF() { return this.#owner.canInsertDTMF(); }

  insertDTMF(tones, duration = 100, interToneGap = 70) {
    if (arguments.length < 1) throw new TypeError('insertDTMF: 1 argument required');
    let t = toDOMString(tones);
    let d = unsignedLong(duration);
    let g = unsignedLong(interToneGap);
    if (this.#owner.stopping()) throw domException('InvalidStateError', 'the transceiver is stopping');
    const cd = this.#owner.currentDirection();
    if (cd === 'recvonly' || cd === 'inactive') {
      throw domException('InvalidStateError', `the transceiver does not send (currentDirection ${cd})`);
    }
    t = t.toUpperCase();
    if (!TONE_CHARS.test(t)) throw domException('InvalidCharacterError', 'tones has a character that is no DTMF tone');
    this.#toneBuffer = t;
    d = Math.min(Math.max(d, MIN_DURATION), MAX_DURATION);
    g = Math.min(Math.max(g, MIN_GAP), MAX_GAP);
    this.#duration = d;
    this.#gap = g;
    // A Playout task already running picks up the new buffer.
    if (this.#timer === null && t !== '') this.#schedule(0);
  }

  #duration = 100;
  #gap = 70;

  #schedule(ms) {
    this.#timer = setTimeout(() => this.#playout(), ms);
  }

  /** The spec's Playout task. */
  #playout() {
    this.#timer = null;
    if (this.#owner.stopping()) return;
    if (this.#toneBuffer === '') {
      this.dispatchEvent(new RTCDTMFToneChangeEvent('tonechange', { tone: '' }));
      return;
    }
    const tone = this.#toneBuffer[0];
    this.#toneBuffer = this.#toneBuffer.slice(1);
    this.#schedule(tone === ',' ? COMMA_PAUSE_MS : this.#duration + this.#gap);
    if (tone !== ',' && this.#owner.sendTone) {
      const code = tone >= '0' && tone <= '9' ? tone.charCodeAt(0) - 48 : EVENT_CODES[tone];
      this.#owner.sendTone(code, this.#duration, TONE_VOLUME);
    }
    this.dispatchEvent(new RTCDTMFToneChangeEvent('tonechange', { tone }));
  }

  /** @internal the transceiver stopped or the pc closed: no more tones. */
  _stop() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#toneBuffer = '';
  }
}

defineEventHandlers(RTCDTMFSender.prototype, ['tonechange']);

export { RTCDTMFSender, RTCDTMFToneChangeEvent };
