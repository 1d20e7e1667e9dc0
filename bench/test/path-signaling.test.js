'use strict';
// The candidate handling of the path rows (bench/path-one.js): only a 127.0.0.1 UDP host
// candidate is passed through the proxy, and no candidate travels inside the SDP.
// Run: node --test bench/test/
const test = require('node:test');
const assert = require('node:assert');
const { loopbackUdpHost, stripCandidates } = require('../path-one');

test('only 127.0.0.1 UDP host candidates are kept, with their address and port', () => {
  const c = loopbackUdpHost('candidate:1 1 udp 2130706431 127.0.0.1 50123 typ host generation 0');
  assert.ok(c);
  assert.strictEqual(c.address, '127.0.0.1');
  assert.strictEqual(c.port, 50123);
  assert.ok(loopbackUdpHost('a=candidate:1 1 UDP 2130706431 127.0.0.1 50123 typ host'), 'a= prefix and upper-case UDP');
  for (const other of [
    'candidate:2 1 udp 2130706431 ::1 50124 typ host',
    'candidate:3 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active',
    'candidate:4 1 udp 2130706431 192.168.1.5 50125 typ host',
    'candidate:5 1 udp 1694498815 127.0.0.1 50126 typ srflx raddr 0.0.0.0 rport 0',
    'candidate:6 1 udp 2130706431 abcd.local 50127 typ host',
    '',
    'garbage',
  ]) {
    assert.strictEqual(loopbackUdpHost(other), null, other);
  }
});

test('stripCandidates removes every a=candidate line and keeps the rest of the SDP', () => {
  const sdp = ['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=candidate:1 1 udp 1 127.0.0.1 5 typ host', 'a=mid:0', 'a=candidate:2 1 udp 1 ::1 6 typ host', 'a=end-of-candidates', ''].join('\r\n');
  const out = stripCandidates({ type: 'offer', sdp });
  assert.strictEqual(out.type, 'offer');
  assert.strictEqual(out.sdp, ['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:0', 'a=end-of-candidates', ''].join('\r\n'));
});
