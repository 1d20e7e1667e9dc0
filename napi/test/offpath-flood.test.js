'use strict';
// Off-path flood, end to end on the real addon: two peers connect over loopback UDP and
// carry data while a third local UDP socket (a stranger: not an ICE candidate of either)
// floods both peers' ports with forged DTLS records from before the first check until the
// end: plaintext fatal alerts and close_notify, ClientHellos with far-ahead message_seq,
// DTLS-looking junk. The connection must come up and stay up, every byte must arrive
// intact, and each peer must have counted the drops (getStats(): the polyrtc-specific
// `datagramsDroppedOffPath` of the `transport` entry). `node napi/build.js` first.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const {
  skipUnlessAddon, loadApi, once, withTimeout, until, sleep,
} = require('../../js/test/real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const TIMEOUT = 30000;

// ---- forged DTLS records ---------------------------------------------------------------

let recordSeq = 1000;

/** A DTLS 1.2 record (RFC 6347 §4.1) with a fresh 48-bit sequence number. */
function record(contentType, epoch, body) {
  const h = Buffer.alloc(13);
  h[0] = contentType;
  h.writeUInt16BE(0xfefd, 1);
  h.writeUInt16BE(epoch, 3);
  h.writeUIntBE(recordSeq++, 5, 6);
  h.writeUInt16BE(body.length, 11);
  return Buffer.concat([h, body]);
}

const alert = (level, desc) => record(21, 0, Buffer.from([level, desc]));

/** A well-formed ClientHello a server would accept, at handshake `messageSeq`. */
function clientHello(messageSeq) {
  const ext = (type, data) => {
    const e = Buffer.alloc(4);
    e.writeUInt16BE(type, 0);
    e.writeUInt16BE(data.length, 2);
    return Buffer.concat([e, data]);
  };
  const extensions = Buffer.concat([
    ext(0x000a, Buffer.from([0, 4, 0, 0x1d, 0, 0x17])), // supported_groups: x25519, secp256r1
    ext(0x000b, Buffer.from([1, 0])), // ec_point_formats: uncompressed
    ext(0x000d, Buffer.from([0, 2, 0x04, 0x03])), // signature_algorithms: ecdsa_secp256r1_sha256
    ext(0x0017, Buffer.alloc(0)), // extended_master_secret
  ]);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(extensions.length);
  const body = Buffer.concat([
    Buffer.from([0xfe, 0xfd]), crypto.randomBytes(32),
    Buffer.from([0]), // session_id
    Buffer.from([0]), // cookie
    Buffer.from([0, 4, 0xc0, 0x2b, 0xc0, 0x2c]), // cipher suites
    Buffer.from([1, 0]), // compression: null
    extLen, extensions,
  ]);
  const hs = Buffer.alloc(12);
  hs[0] = 1; // client_hello
  hs.writeUIntBE(body.length, 1, 3);
  hs.writeUInt16BE(messageSeq, 4);
  hs.writeUIntBE(0, 6, 3);
  hs.writeUIntBE(body.length, 9, 3);
  return record(22, 0, Buffer.concat([hs, body]));
}

/** Random bytes that demultiplex as DTLS (RFC 7983: first byte 20..63). */
function junk() {
  const d = crypto.randomBytes(13 + crypto.randomInt(300));
  d[0] = 20 + crypto.randomInt(44);
  if (crypto.randomInt(2) === 0) {
    // A plausible header: known content type and version, random epoch and length.
    d[0] = 20 + crypto.randomInt(4);
    d.writeUInt16BE(0xfefd, 1);
    d.writeUInt16BE(crypto.randomInt(3), 3);
  }
  return d;
}

function forgery(i) {
  switch (i % 6) {
    case 0: return alert(2, 40); // fatal handshake_failure: 15 bytes
    case 1: return alert(1, 0); // close_notify
    case 2: return alert(2, 0); // fatal close_notify
    case 3: return clientHello(1000 + crypto.randomInt(60000));
    case 4: return clientHello(1 + crypto.randomInt(7));
    default: return junk();
  }
}

/** host, port of a "candidate:..." attribute (UDP only). */
function address(candidate) {
  const f = candidate.split(' ');
  return f[2].toLowerCase() === 'udp' ? { host: f[4], port: Number(f[5]) } : null;
}

// ---- the test --------------------------------------------------------------------------

test('a stranger flooding both ports with forged DTLS changes nothing and is counted', { skip, timeout: TIMEOUT }, async (t) => {
  const offerer = new api.RTCPeerConnection();
  const answerer = new api.RTCPeerConnection();
  const socket4 = dgram.createSocket('udp4');
  const socket6 = dgram.createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise((resolve) => socket4.bind(0, '127.0.0.1', resolve));
  let have6 = true;
  await new Promise((resolve) => {
    socket6.once('error', () => { have6 = false; resolve(); });
    socket6.bind(0, '::1', resolve);
  });
  // Everything the stranger knows: every candidate address of both peers.
  const targets = [];
  for (const pc of [offerer, answerer]) {
    pc.addEventListener('icecandidate', (e) => {
      const a = e.candidate && e.candidate.candidate && address(e.candidate.candidate);
      if (a && (!a.host.includes(':') || have6)) targets.push(a);
    });
  }
  let sent = 0;
  const sendErrors = [];
  let i = 0;
  const burst = () => {
    for (let k = 0; k < 12; k += 1) {
      for (const t of targets) {
        const socket = t.host.includes(':') ? socket6 : socket4;
        socket.send(forgery(i), t.port, t.host, (err) => { if (err) sendErrors.push(err.message); });
        i += 1;
        sent += 1;
      }
    }
  };
  const flood = setInterval(burst, 2);
  const states = { offerer: [], answerer: [] };
  for (const [name, pc] of [['offerer', offerer], ['answerer', answerer]]) {
    pc.addEventListener('connectionstatechange', () => {
      states[name].push(pc.connectionState);
      burst(); // right into the handshake, whatever the timer granularity
    });
  }
  try {
    const dc1 = offerer.createDataChannel('flooded');
    const remote = new Promise((resolve) => { answerer.ondatachannel = (e) => resolve(e.channel); });
    // Slow signaling: the answer reaches the offerer 300 ms late. The answerer's checks
    // succeed meanwhile (the offerer answers them) and its ClientHello arrives before the
    // offerer has a DTLS endpoint, so the stranger also targets the early-datagram queue.
    const toAnswerer = [];
    const toOfferer = [];
    offerer.addEventListener('icecandidate', (e) => {
      if (e.candidate) answerer.addIceCandidate(e.candidate).catch((err) => toAnswerer.push(err));
    });
    answerer.addEventListener('icecandidate', (e) => { if (e.candidate) toOfferer.push(e.candidate); });
    await offerer.setLocalDescription();
    await answerer.setRemoteDescription(offerer.localDescription);
    await answerer.setLocalDescription();
    await until(() => answerer.iceConnectionState === 'connected', 'the answerer\'s checks succeed', 10000);
    await sleep(300);
    const sentEarly = sent;
    assert.ok(sentEarly > 100, `${sentEarly} forged datagrams before the answer`);
    await offerer.setRemoteDescription(answerer.localDescription);
    burst();
    for (const c of toOfferer) await offerer.addIceCandidate(c);
    const dc2 = await withTimeout(remote, 'datachannel event', 20000);
    if (dc1.readyState !== 'open') await withTimeout(once(dc1, 'open'), 'open', 20000);
    assert.deepStrictEqual(toAnswerer, []);
    assert.ok(targets.length >= 2, `candidates of both peers: ${JSON.stringify(targets)}`);
    assert.ok(sent > sentEarly, 'the flood ran during the handshake');

    // Data both ways, checked byte for byte.
    const count = 200;
    const payload = (side, n) => crypto.createHash('sha512').update(`${side}:${n}`).digest()
      .subarray(0, 16 + (n * 97) % 48);
    const body = (side, n) => Buffer.concat(Array.from({ length: 1 + (n % 64) }, () => payload(side, n)));
    const got = { offerer: [], answerer: [] };
    dc1.onmessage = (e) => got.offerer.push(Buffer.from(e.data));
    dc2.onmessage = (e) => got.answerer.push(Buffer.from(e.data));
    for (let n = 0; n < count; n += 1) {
      dc1.send(body('a', n));
      dc2.send(body('b', n));
      if (n % 20 === 19) await sleep(5); // let the flood interleave
    }
    await until(() => got.answerer.length === count && got.offerer.length === count, 'every message arrives', 20000);
    for (let n = 0; n < count; n += 1) {
      assert.ok(got.answerer[n].equals(body('a', n)), `offerer -> answerer message ${n} intact and in order`);
      assert.ok(got.offerer[n].equals(body('b', n)), `answerer -> offerer message ${n} intact and in order`);
    }
    await sleep(100); // a last stretch of flooding on the open connection
    clearInterval(flood);
    await sleep(50); // the last forged datagrams reach the peers
    assert.deepStrictEqual(sendErrors, []);
    assert.ok(sent > 1000, `${sent} forged datagrams sent`);

    for (const [name, pc] of [['offerer', offerer], ['answerer', answerer]]) {
      assert.strictEqual(pc.connectionState, 'connected', name);
      assert.deepStrictEqual(states[name], ['connecting', 'connected'], `${name}: never failed or closed`);
      const transport = [...(await pc.getStats()).values()].find((s) => s.type === 'transport');
      assert.strictEqual(transport.dtlsState, 'connected', name);
      assert.strictEqual(typeof transport.datagramsDroppedOffPath, 'number', name);
      // The peer's half of the flood (minus what the kernel may have dropped) was refused.
      assert.ok(transport.datagramsDroppedOffPath > 100,
        `${name} counted ${transport.datagramsDroppedOffPath} of ${sent} forged datagrams`);
      t.diagnostic(`${name}: ${transport.datagramsDroppedOffPath} dropped off-path (${sent} forged sent to both)`);
    }
    assert.strictEqual(dc1.readyState, 'open');
    assert.strictEqual(dc2.readyState, 'open');
  } finally {
    clearInterval(flood);
    socket4.close();
    try { socket6.close(); } catch { /* never bound */ }
    offerer.close();
    answerer.close();
  }
});
