'use strict';
// A tiny authoritative DNS server (RFC 1035 over UDP) for the namespace tests, run inside a
// namespace whose /etc/resolv.conf (from /etc/netns/<ns>/) points at it:
//   ip netns exec <ns> node tests/nat/dns.js <zone JSON>
// The zone maps lower-case names to { A: [...], AAAA: [...] } or to "silent" (the query is
// never answered: a resolver that hangs). Other names are NXDOMAIN. Listens on 127.0.0.1:53;
// prints {"type":"listening"} once bound, then one JSON line per query: { name, qtype }.
const dgram = require('dgram');

const zone = JSON.parse(process.argv[2] || '{}');
const QTYPE = { 1: 'A', 28: 'AAAA' };

function parseName(buf, offset) {
  const labels = [];
  let o = offset;
  for (let guard = 0; guard < 128; guard++) {
    const len = buf[o];
    if (len === undefined || len > 63) return null; // no compression in questions
    o += 1;
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: o };
    labels.push(buf.toString('latin1', o, o + len));
    o += len;
  }
  return null;
}

function rdata(type, value) {
  if (type === 'A') return Buffer.from(value.split('.').map(Number));
  const out = Buffer.alloc(16);
  // Expand "::" then write eight 16-bit groups.
  const [head, tail] = value.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return;
  const q = parseName(msg, 12);
  if (!q || q.end + 4 > msg.length) return;
  const qtypeNum = msg.readUInt16BE(q.end);
  const qtype = QTYPE[qtypeNum] || String(qtypeNum);
  process.stdout.write(`${JSON.stringify({ name: q.name, qtype })}\n`);
  const entry = zone[q.name];
  if (entry === 'silent') return;
  const question = msg.subarray(12, q.end + 4);
  const values = entry && Array.isArray(entry[qtype]) ? entry[qtype] : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
  const rd = msg[2] & 0x01;
  header[2] = 0x84 | rd; // QR, AA, RD copied
  header[3] = entry ? 0x80 : 0x83; // RA; NXDOMAIN for unknown names
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(values.length, 6);
  const answers = values.map((v) => {
    const data = rdata(qtype, v);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(qtypeNum, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  sock.send(Buffer.concat([header, question, ...answers]), rinfo.port, rinfo.address);
});
sock.bind(53, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ type: 'listening' })}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
