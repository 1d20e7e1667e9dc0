'use strict';
// The README's quick start ends with `node examples/demo.js`: it must run to the end on this
// checkout, addon peers first, then a WASM peer and an addon peer through the relay.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

test('examples/demo.js: addon peers, then a WASM peer through the relay', { timeout: 90000 }, () => {
  const env = { ...process.env };
  delete env.POLYRTC_IMPL;
  const out = execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'examples', 'demo.js')], {
    env,
    encoding: 'utf8',
    timeout: 80000,
  });
  assert.match(out, /alice got text: "hi alice, you said 9 characters"/);
  assert.match(out, /alice got bytes: \[5,4,3,2,1\]/);
  assert.match(out, /wasm peer: candidate candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ relay raddr/);
  assert.match(out, /wasm peer got text: "echo: hello from WASM"/);
  assert.match(out, /wasm peer got 262144 bytes back, identical/);
  assert.match(out, /relay: 1 allocation, [1-9]\d* datagrams to the addon peer/);
  assert.match(out, /demo: done/);
});
