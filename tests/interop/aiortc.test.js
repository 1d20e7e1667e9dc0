'use strict';
// Interop: the implementation under test (POLYRTC_IMPL, default polyrtc's js/node.js) <-> aiortc
// (Python, from PyPI: pip install aiortc==1.16.0), one child process per aiortc peer.
// Skips (loudly) when `python3 -c "import aiortc"` fails, except under CI=true, where it fails.
const { execFileSync } = require('node:child_process');
const { defineInteropSuite } = require('./lib/cases');
const { AiortcPeer } = require('./lib/peers');

const python = process.env.POLYRTC_PYTHON || 'python3';
let available = true;
try {
  execFileSync(python, ['-c', 'import aiortc'], { stdio: 'ignore', timeout: 30000 });
} catch {
  available = false;
}
if (!available) {
  const why = `${python} cannot import aiortc (pip install aiortc==1.16.0)`;
  if (process.env.CI === 'true') throw new Error(why);
  console.error(`\n!!! SKIPPING aiortc interop: ${why} !!!\n`);
}

defineInteropSuite({
  remoteName: 'aiortc',
  skip: available ? false : 'aiortc not installed',
  newRemote: () => new AiortcPeer('aiortc', python),
});
