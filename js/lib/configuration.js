// RTCConfiguration: WebIDL conversion and the webrtc-pc §4.4.1.3 "validate the ICE server"
// and "set a configuration" checks.
import {
  domException, toBoolean, toDictionary, toEnum, toDOMString, toUSVString, toSequence, enforceRange, utf8Length,
} from './util.js';
import { RTCCertificate } from './rtc-certificate.js';

const ICE_TRANSPORT_POLICIES = ['relay', 'all'];
const BUNDLE_POLICIES = ['balanced', 'max-compat', 'max-bundle'];
const RTCP_MUX_POLICIES = ['require'];
const SCHEMES = ['stun:', 'stuns:', 'turn:', 'turns:'];
const DEFAULT_PORTS = { 'stun:': 3478, 'turn:': 3478, 'stuns:': 5349, 'turns:': 5349 };
// WHATWG URL "forbidden host code points" (':' and '[' ']' are handled by the host:port split).
const FORBIDDEN_HOST = /[\u0000\t\n\r #/<>?@\\^|%]/;
/** RFC 8489 §14.3: a STUN/TURN USERNAME is fewer than 509 bytes of UTF-8. */
const MAX_TURN_USERNAME_BYTES = 508;
/** Control characters (Cc), which the PRECIS FreeformClass (RFC 8264 §9.12) disallows. */
const CONTROL_CHARS = /[\u0000-\u001F\u007F-\u009F]/;

/**
 * WebIDL-convert an RTCIceServer (members in lexicographic order: credential, urls,
 * username). `urls`, a `(USVString or sequence<USVString>)`, is kept as given here; the
 * "set a configuration" step that turns a string into a one-element list is
 * normalizeIceServer's.
 */
function convertIceServer(v) {
  const dict = toDictionary(v, 'RTCIceServer');
  if (typeof v !== 'object' || v === null) throw new TypeError('RTCIceServer is not an object');
  const out = {};
  if (dict.credential !== undefined) out.credential = toDOMString(dict.credential);
  if (dict.urls === undefined) throw new TypeError('RTCIceServer.urls is required');
  const urls = dict.urls;
  if (typeof urls === 'object' && urls !== null && typeof urls[Symbol.iterator] === 'function') {
    out.urls = toSequence(urls, 'urls', toUSVString);
  } else {
    out.urls = toUSVString(urls);
  }
  if (dict.username !== undefined) out.username = toDOMString(dict.username);
  return out;
}

/**
 * webrtc-pc "set a configuration": "If urls is a string, set urls to a list consisting of
 * just that string". The stored server has its members in the order the WebIDL conversion
 * back to JS gives them (lexicographic), and only those present.
 */
function normalizeIceServer(server) {
  const out = {};
  if (server.credential !== undefined) out.credential = server.credential;
  out.urls = typeof server.urls === 'string' ? [server.urls] : server.urls.slice();
  if (server.username !== undefined) out.username = server.username;
  return out;
}

/**
 * Whether a TURN username / credential conforms to RFC 8489 §14.3 / RFC 8265 §4.1 as far as
 * checked here: the OpaqueString profile's non-empty string without control characters, and
 * a username of fewer than 509 UTF-8 bytes.
 */
function validTurnUsername(s) {
  return s !== '' && !CONTROL_CHARS.test(s) && utf8Length(s) <= MAX_TURN_USERNAME_BYTES;
}

function validTurnCredential(s) {
  return s !== '' && !CONTROL_CHARS.test(s);
}

/** Split an opaque URL path "host[:port]" (host may be a [v6] literal). */
function splitHostPort(path) {
  let host;
  let rest;
  if (path.startsWith('[')) {
    const end = path.indexOf(']');
    if (end < 0) return null;
    host = path.slice(0, end + 1);
    rest = path.slice(end + 1);
    if (!/^\[[0-9A-Fa-f:.]+\]$/.test(host)) return null;
  } else {
    const colon = path.indexOf(':');
    host = colon < 0 ? path : path.slice(0, colon);
    rest = colon < 0 ? '' : path.slice(colon);
    if (host.includes('[') || host.includes(']')) return null;
  }
  if (host === '' || FORBIDDEN_HOST.test(host)) return null;
  let port = null;
  if (rest !== '') {
    if (!/^:\d{1,5}$/.test(rest)) return null;
    port = Number(rest.slice(1));
    if (port < 1 || port > 65535) return null;
  }
  return { host, port };
}

/** Validate one URL of an RTCIceServer; returns { scheme, host, port, transport }. */
function validateIceUrl(url, server) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw domException('SyntaxError', `'${url}' is not a valid URL`);
  }
  const scheme = parsed.protocol.toLowerCase();
  if (!SCHEMES.includes(scheme)) {
    throw domException('SyntaxError', `'${url}': unsupported scheme ${scheme}`);
  }
  // The spec's next step throws NotSupportedError for a scheme the user agent does not
  // implement. Every scheme is accepted so that a browser's configuration keeps working
  // unchanged; the native engine uses stun:, turn: over UDP or TCP and turns: over TLS
  // (turnServersFor), not stuns: or turns: over DTLS.
  // An opaque path: "stun:host:port", not "stun://host".
  if (parsed.host !== '' || parsed.pathname.startsWith('/') || parsed.hash !== '') {
    throw domException('SyntaxError', `'${url}' is not of the form ${scheme}host[:port]`);
  }
  const hp = splitHostPort(decodeURIComponentSafe(parsed.pathname));
  if (!hp) throw domException('SyntaxError', `'${url}' has an invalid host or port`);
  let transport = null;
  if (scheme === 'stun:' || scheme === 'stuns:') {
    if (parsed.search !== '' || url.includes('?')) {
      throw domException('SyntaxError', `'${url}': a STUN URL has no query`);
    }
  } else {
    if (parsed.search !== '') {
      const m = /^\?transport=(udp|tcp)$/.exec(parsed.search);
      if (!m) throw domException('SyntaxError', `'${url}': invalid TURN transport`);
      transport = m[1];
    } else if (url.endsWith('?')) {
      throw domException('SyntaxError', `'${url}': invalid TURN query`);
    }
    if (server.username === undefined || server.credential === undefined) {
      throw domException('InvalidAccessError', `'${url}' requires a username and a credential`);
    }
    if (!validTurnUsername(server.username) || !validTurnCredential(server.credential)) {
      throw domException('InvalidAccessError', `'${url}': the username or credential is not a valid OpaqueString`);
    }
  }
  return { scheme, host: hp.host, port: hp.port ?? DEFAULT_PORTS[scheme], transport };
}

function decodeURIComponentSafe(s) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return s;
  }
}

/**
 * WebIDL-convert an RTCConfiguration dictionary (members in lexicographic order). Enum and
 * range errors are TypeErrors. Does not run the semantic checks (see validateConfiguration).
 */
function convertConfiguration(v) {
  const dict = toDictionary(v, 'RTCConfiguration');
  const c = {};
  c.bundlePolicy = dict.bundlePolicy === undefined
    ? 'balanced' : toEnum(dict.bundlePolicy, BUNDLE_POLICIES, 'RTCBundlePolicy');
  c.certificates = dict.certificates === undefined ? [] : toSequence(dict.certificates, 'certificates', (x) => {
    if (!(x instanceof RTCCertificate)) throw new TypeError('certificates[] is not an RTCCertificate');
    return x;
  });
  c.iceCandidatePoolSize = dict.iceCandidatePoolSize === undefined
    ? 0 : enforceRange(dict.iceCandidatePoolSize, 0, 255, 'iceCandidatePoolSize');
  c.iceServers = dict.iceServers === undefined ? [] : toSequence(dict.iceServers, 'iceServers', convertIceServer);
  c.iceTransportPolicy = dict.iceTransportPolicy === undefined
    ? 'all' : toEnum(dict.iceTransportPolicy, ICE_TRANSPORT_POLICIES, 'RTCIceTransportPolicy');
  // Nonstandard (polyrtc's WASM engine; browsers ignore it): the TURN relays reached over a
  // WebSocket, an RTCIceServer-shaped dictionary or a list of them. Absent stays absent.
  if (dict.relay !== undefined) c.relay = convertRelay(dict.relay);
  c.rtcpMuxPolicy = dict.rtcpMuxPolicy === undefined
    ? 'require' : toEnum(dict.rtcpMuxPolicy, RTCP_MUX_POLICIES, 'RTCRtcpMuxPolicy');
  // Nonstandard (the addon; browsers ignore it): PEM certificates trusted for turns: servers
  // instead of the system's roots, one string or a list of them. Absent stays absent.
  if (dict.turnsCa !== undefined) {
    c.turnsCa = typeof dict.turnsCa === 'string' ? toDOMString(dict.turnsCa) : toSequence(dict.turnsCa, 'turnsCa', toDOMString);
  }
  // Nonstandard (the addon; browsers ignore it): signal host candidates under random
  // `.local` names answered over multicast DNS, as browsers do. Absent stays absent.
  if (dict.mdnsHostCandidates !== undefined) c.mdnsHostCandidates = toBoolean(dict.mdnsHostCandidates);
  // Nonstandard (the addon; browsers ignore it): the UDP port of our host candidates, one
  // socket per local address shared by every connection given the same port. Absent stays absent.
  if (dict.sharedUdpPort !== undefined) c.sharedUdpPort = enforceRange(dict.sharedUdpPort, 1, 65535, 'sharedUdpPort');
  // Nonstandard (the addon; browsers ignore it): run as an ICE-lite agent. Absent stays absent.
  if (dict.iceLite !== undefined) c.iceLite = toBoolean(dict.iceLite);
  return c;
}

/**
 * Validate the ICE servers (webrtc-pc "set a configuration", the iceServers steps); returns
 * the parsed URLs of all servers, in order.
 */
function validateIceServers(iceServers) {
  const parsed = [];
  for (const server of iceServers) {
    const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
    if (urls.length === 0) throw domException('SyntaxError', 'RTCIceServer.urls is empty');
    for (const url of urls) parsed.push(validateIceUrl(url, server));
  }
  return parsed;
}

/** `relay`: one RTCIceServer-shaped dictionary, or a sequence of them. */
function convertRelay(v) {
  if (typeof v === 'object' && v !== null && typeof v[Symbol.iterator] === 'function') {
    return toSequence(v, 'relay', convertIceServer);
  }
  return [convertIceServer(v)];
}

/**
 * Validate the relays (converted by convertConfiguration) as "validate the ICE server" does
 * for TURN: each URL a ws: or wss: URL without a fragment (SyntaxError, as the WebSocket
 * constructor says), a username and a credential (InvalidAccessError). Returns them
 * normalized (`urls` always a list).
 */
function validateRelay(relays) {
  for (const server of relays) {
    const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
    if (urls.length === 0) throw domException('SyntaxError', 'relay.urls is empty');
    for (const url of urls) {
      let parsed;
      try {
        parsed = new URL(url);
      } catch (e) {
        throw domException('SyntaxError', `relay '${url}' is not a valid URL`);
      }
      if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
        throw domException('SyntaxError', `relay '${url}': the scheme must be ws: or wss:`);
      }
      if (parsed.hash !== '' || url.includes('#')) {
        throw domException('SyntaxError', `relay '${url}': a WebSocket URL has no fragment`);
      }
      if (server.username === undefined || server.credential === undefined) {
        throw domException('InvalidAccessError', `relay '${url}' requires a username and a credential`);
      }
      if (!validTurnUsername(server.username) || !validTurnCredential(server.credential)) {
        throw domException('InvalidAccessError', `relay '${url}': the username or credential is not a valid OpaqueString`);
      }
    }
  }
  return relays.map(normalizeIceServer);
}

/** The constructor's check: "If the value of certificate.expires is less than the current time". */
function validateCertificates(certificates, now = Date.now()) {
  for (const cert of certificates) {
    if (cert.expires < now) throw domException('InvalidAccessError', 'certificate has expired');
  }
}

/** "host:port" STUN servers for the engine (stun: only; the engine has no TLS/TURN yet). */
function stunServersFor(parsedUrls) {
  const out = [];
  for (const u of parsedUrls) {
    if (u.scheme !== 'stun:') continue;
    const s = `${u.host}:${u.port}`;
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/**
 * The TURN servers the native engine allocates on (RFC 8656: `turn:` URLs over UDP, the
 * default, or `?transport=tcp`; `turns:` over TLS), one entry per URL as browsers gather
 * from each: { url, host, port, username, credential, transport }. `turns:…?transport=udp`
 * (TURN over DTLS, RFC 7350) is validated but not used.
 */
function turnServersFor(iceServers) {
  const out = [];
  for (const server of iceServers) {
    const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
    for (const url of urls) {
      const u = validateIceUrl(url, server);
      let transport;
      if (u.scheme === 'turn:') transport = u.transport ?? 'udp';
      else if (u.scheme === 'turns:' && u.transport !== 'udp') transport = 'tls';
      else continue;
      out.push({ url, host: u.host, port: u.port, username: server.username, credential: server.credential, transport });
    }
  }
  return out;
}

/** A copy of the stored (normalized) ICE servers for getConfiguration(). */
function cloneIceServers(iceServers) {
  return iceServers.map(normalizeIceServer);
}

export {
  convertConfiguration,
  normalizeIceServer,
  validateIceServers,
  validateRelay,
  validateCertificates,
  stunServersFor,
  turnServersFor,
  cloneIceServers,
  validateIceUrl,
};
