// WebIDL conversions and checks shared by the RTP classes (webrtc-pc §5.2-§5.4).
import { toDictionary, toDOMString, toEnum, toBoolean, toNumber, toSequence } from './util.js';

const DIRECTIONS = ['sendrecv', 'sendonly', 'recvonly', 'inactive', 'stopped'];
const PRIORITIES = ['very-low', 'low', 'medium', 'high'];
/** RFC 8851 §10 rid-syntax: 1*(alpha-numeric / "-" / "_"), RFC 8852 at most 255 octets. */
const RID = /^[A-Za-z0-9_-]{1,255}$/;
/** Codecs that carry no media of their own (webrtc-pc setCodecPreferences step "only RTX, RED or FEC"). */
const NON_MEDIA_CODECS = ['rtx', 'red', 'ulpfec', 'flexfec-03', 'flexfec'];

function sends(direction) { return direction === 'sendrecv' || direction === 'sendonly'; }
function receives(direction) { return direction === 'sendrecv' || direction === 'recvonly'; }

function unsignedLong(v, what) {
  const n = toNumber(v);
  if (!Number.isFinite(n)) throw new TypeError(`${what} is not a finite number`);
  return (Math.trunc(n) % 4294967296 + 4294967296) % 4294967296;
}

function restrictedDouble(v, what) {
  const n = toNumber(v);
  if (!Number.isFinite(n)) throw new TypeError(`${what} is not a finite number`);
  return n;
}

/** An RTCRtpCodec dictionary (mimeType and clockRate required). */
function convertCodec(v, what = 'RTCRtpCodec') {
  const d = toDictionary(v, what);
  const out = {};
  if (d.channels !== undefined) out.channels = unsignedLong(d.channels, `${what}.channels`) & 0xffff;
  if (d.clockRate === undefined) throw new TypeError(`${what}.clockRate is required`);
  out.clockRate = unsignedLong(d.clockRate, `${what}.clockRate`);
  if (d.mimeType === undefined) throw new TypeError(`${what}.mimeType is required`);
  out.mimeType = toDOMString(d.mimeType);
  if (d.sdpFmtpLine !== undefined) out.sdpFmtpLine = toDOMString(d.sdpFmtpLine);
  return { mimeType: out.mimeType, clockRate: out.clockRate, ...(out.channels !== undefined ? { channels: out.channels } : {}), ...(out.sdpFmtpLine !== undefined ? { sdpFmtpLine: out.sdpFmtpLine } : {}) };
}

/** webrtc-pc "codec dictionary match": mimeType ASCII case-insensitive, the rest equal. */
function codecMatch(a, b) {
  return a.mimeType.toLowerCase() === b.mimeType.toLowerCase() && a.clockRate === b.clockRate
    && (a.channels ?? null) === (b.channels ?? null) && (a.sdpFmtpLine ?? null) === (b.sdpFmtpLine ?? null);
}

function isNonMediaCodec(c) {
  const sub = c.mimeType.toLowerCase().split('/')[1] ?? '';
  return NON_MEDIA_CODECS.includes(sub);
}

/** A deep copy of an engine's capabilities (or null). */
function copyCapabilities(caps) {
  if (!caps || typeof caps !== 'object') return null;
  return {
    codecs: (caps.codecs ?? []).map((c) => {
      const o = { mimeType: String(c.mimeType), clockRate: Number(c.clockRate) };
      if (typeof c.channels === 'number') o.channels = c.channels;
      if (typeof c.sdpFmtpLine === 'string' && c.sdpFmtpLine !== '') o.sdpFmtpLine = c.sdpFmtpLine;
      return o;
    }),
    headerExtensions: (caps.headerExtensions ?? []).map((h) => ({ uri: String(h.uri) })),
  };
}

/** One RTCRtpEncodingParameters (WebIDL conversion, members in lexicographic order). */
function convertEncoding(v, what) {
  const d = toDictionary(v, what);
  const e = {};
  e.active = d.active === undefined ? true : toBoolean(d.active);
  if (d.codec !== undefined) e.codec = convertCodec(d.codec, `${what}.codec`);
  if (d.maxBitrate !== undefined) e.maxBitrate = unsignedLong(d.maxBitrate, `${what}.maxBitrate`);
  if (d.maxFramerate !== undefined) e.maxFramerate = restrictedDouble(d.maxFramerate, `${what}.maxFramerate`);
  e.networkPriority = d.networkPriority === undefined ? 'low' : toEnum(d.networkPriority, PRIORITIES, 'RTCPriorityType');
  e.priority = d.priority === undefined ? 'low' : toEnum(d.priority, PRIORITIES, 'RTCPriorityType');
  if (d.rid !== undefined) e.rid = toDOMString(d.rid);
  if (d.scaleResolutionDownBy !== undefined) {
    e.scaleResolutionDownBy = restrictedDouble(d.scaleResolutionDownBy, `${what}.scaleResolutionDownBy`);
  }
  return e;
}

function convertEncodings(list, what) {
  return toSequence(list, what, (x) => convertEncoding(x, `${what} element`));
}

/**
 * webrtc-pc addTransceiver() sendEncodings checks (steps after the WebIDL conversion):
 * rid grammar, all-or-none rids, duplicates (TypeError); codec not in the sender's
 * capabilities (OperationError, thrown by the caller's `codecKnown`); audio loses
 * scaleResolutionDownBy / maxFramerate; scaleResolutionDownBy < 1, maxFramerate < 0
 * (RangeError); video default scaleResolutionDownBy 2^(n-1-i). Returns the encodings.
 */
/**
 * Audio encodings lose the video-only members; scaleResolutionDownBy below 1 and a negative
 * maxFramerate are RangeErrors (addTransceiver's and setParameters' shared checks).
 */
function checkEncodingRanges(encodings, kind) {
  if (kind === 'audio') {
    for (const e of encodings) {
      delete e.scaleResolutionDownBy;
      delete e.maxFramerate;
    }
  }
  for (const e of encodings) {
    if (e.scaleResolutionDownBy !== undefined && e.scaleResolutionDownBy < 1) {
      throw new RangeError('scaleResolutionDownBy is below 1');
    }
    if (e.maxFramerate !== undefined && e.maxFramerate < 0) throw new RangeError('maxFramerate is negative');
  }
}

/** Send encodings (simulcast layers) a video sender keeps (the engine's MAX_SEND_ENCODINGS). */
const MAX_SEND_ENCODINGS = 4;

function checkSendEncodings(encodings, kind, codecKnown, rangeError) {
  const withRid = encodings.filter((e) => e.rid !== undefined);
  for (const e of withRid) {
    if (!RID.test(e.rid)) throw new TypeError(`rid '${e.rid}' does not follow RFC 8851 rid-syntax`);
  }
  if (withRid.length > 0 && withRid.length !== encodings.length) {
    throw new TypeError('either every encoding has a rid or none has');
  }
  if (encodings.length > 1 && withRid.length === 0) throw new TypeError('several encodings need rids');
  if (new Set(withRid.map((e) => e.rid)).size !== withRid.length) throw new TypeError('duplicate rid');
  for (const e of encodings) {
    if (e.codec !== undefined && !codecKnown(e.codec)) {
      throw rangeError('OperationError', `codec ${e.codec.mimeType} is not in the sender's capabilities`);
    }
  }
  checkEncodingRanges(encodings, kind);
  // webrtc-pc addTransceiver(): encodings beyond what the implementation supports are
  // trimmed from the tail (simulcast is for video; four layers, as Chromium).
  const max = kind === 'video' ? MAX_SEND_ENCODINGS : 1;
  if (encodings.length > max) encodings.splice(max);
  if (kind === 'video' && encodings.every((e) => e.scaleResolutionDownBy === undefined)) {
    encodings.forEach((e, i) => { e.scaleResolutionDownBy = 2 ** (encodings.length - 1 - i); });
  }
  return encodings;
}

/** The encodings as the engine contract takes them. */
function engineEncodings(encodings) {
  return encodings.map((e) => {
    const o = { active: e.active };
    for (const k of ['rid', 'maxBitrate', 'maxFramerate', 'scaleResolutionDownBy']) if (e[k] !== undefined) o[k] = e[k];
    return o;
  });
}

function copyEncoding(e) {
  const o = { ...e };
  if (e.codec) o.codec = { ...e.codec };
  return o;
}

/** The negotiated codecs (RTCRtpCodecParameters) from an engine transceiver entry. */
function codecParameters(list) {
  return (list ?? []).map((c) => {
    const o = { payloadType: c.payloadType, mimeType: c.mimeType, clockRate: c.clockRate };
    if (typeof c.channels === 'number') o.channels = c.channels;
    if (typeof c.sdpFmtpLine === 'string' && c.sdpFmtpLine !== '') o.sdpFmtpLine = c.sdpFmtpLine;
    return o;
  });
}

export {
  checkEncodingRanges,
  DIRECTIONS, PRIORITIES, sends, receives, convertCodec, codecMatch, isNonMediaCodec,
  copyCapabilities, convertEncoding, convertEncodings, checkSendEncodings, engineEncodings,
  copyEncoding, codecParameters,
};
