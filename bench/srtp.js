'use strict';
// `node bench/srtp.js`: SRTP protect + unprotect of 1200-byte RTP payloads, polyrtc's core
// (through the addon's benchmark-only __srtpBench export) beside werift's SRTP session (the
// same packets, same profiles), measured in the same run. Prints a markdown table.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const PACKETS = Number(process.env.BENCH_SRTP_PACKETS || 20000);
const SIZE = 1200;
const PROFILES = [
  ['AES_CM_128_HMAC_SHA1_80', 0x0001],
  ['AEAD_AES_128_GCM', 0x0007],
];

function ours(profile) {
  const addon = require(path.join(ROOT, 'napi'));
  addon.__srtpBench(profile, 2000, SIZE); // warm up
  const [protectNs, unprotectNs] = addon.__srtpBench(profile, PACKETS, SIZE);
  return { protectNs, unprotectNs };
}

function werift(profileId) {
  const { SrtpSession, RtpHeader } = require('werift');
  const key = Buffer.alloc(16, 7);
  const salt = Buffer.alloc(profileId === 0x0001 ? 14 : 12, 9);
  const keys = { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt };
  const tx = new SrtpSession({ keys, profile: profileId });
  const rx = new SrtpSession({ keys, profile: profileId });
  const payload = Buffer.alloc(SIZE, 0xab);
  const headers = [];
  for (let i = 0; i < PACKETS; i++) {
    headers.push(new RtpHeader({ payloadType: 96, sequenceNumber: i & 0xffff, timestamp: i * 3000, ssrc: 0x12345678 }));
  }
  for (let i = 0; i < 2000; i++) tx.encrypt(payload, headers[i]); // warm up (own session)
  const tx2 = new SrtpSession({ keys, profile: profileId });
  const t0 = process.hrtime.bigint();
  const out = headers.map((h) => tx2.encrypt(payload, h));
  const t1 = process.hrtime.bigint();
  for (const p of out) rx.decrypt(p);
  const t2 = process.hrtime.bigint();
  // The figures count only if werift's session really decrypts what it encrypted.
  const back = new SrtpSession({ keys, profile: profileId }).decrypt(out[out.length - 1]);
  if (!Buffer.from(back).subarray(back.length - SIZE).equals(payload)) throw new Error('werift round trip failed');
  return { protectNs: Number(t1 - t0), unprotectNs: Number(t2 - t1) };
}

function mbps(ns) {
  return ((PACKETS * SIZE) / (ns / 1e9) / (1024 * 1024)).toFixed(0);
}

function main() {
  const rows = ['| profile | stack | protect MiB/s | unprotect MiB/s | protect µs/packet |', '| --- | --- | ---: | ---: | ---: |'];
  for (const [name, id] of PROFILES) {
    for (const [stack, fn] of [['polyrtc (Rust core)', () => ours(name)], ['werift (Node crypto)', () => werift(id)]]) {
      let r;
      try {
        r = fn();
      } catch (err) {
        rows.push(`| ${name} | ${stack} | error: ${err.message} | | |`);
        continue;
      }
      rows.push(`| ${name} | ${stack} | ${mbps(r.protectNs)} | ${mbps(r.unprotectNs)} | ${(r.protectNs / PACKETS / 1000).toFixed(2)} |`);
    }
  }
  const table = rows.join('\n');
  console.log(`SRTP, ${PACKETS} packets of ${SIZE} payload bytes, one core:\n\n${table}`);
  return table;
}

if (require.main === module) main();
module.exports = { main };
