'use strict';
// examples/worker-relay runs as a newcomer would run it: `node examples/worker-relay/server.js 0`,
// then the printed URL opened in a browser (headless Chromium here). The page's dedicated
// Worker (no native RTCPeerConnection used) connects its WASM peer to the server's addon peer
// through the relay the server started, and checks a text and a 256 KiB echo; its log ends
// with "done: ..." (or "error: ..."), which becomes the page title.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { chromiumAvailable, launchChromium, waitUntil, CHROMIUM_PATH } = require('./lib/chromium');

const ROOT = path.resolve(__dirname, '..', '..');
const skip = chromiumAvailable() ? false : `${CHROMIUM_PATH} not found`;

test('examples/worker-relay: the worker peer and the server peer echo through the relay', { skip, timeout: 90000 }, async () => {
  const server = spawn(process.execPath, [path.join(ROOT, 'examples', 'worker-relay', 'server.js'), '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let browser;
  try {
    let out = '';
    server.stdout.setEncoding('utf8');
    server.stdout.on('data', (d) => (out += d));
    const url = await waitUntil(() => (/open (http:\/\/\S+)/.exec(out) || [])[1], 'the server printed its URL', 30000);
    browser = await launchChromium();
    const page = await browser.newPage();
    const lines = [];
    page.on('console', (m) => lines.push(m.text()));
    await page.goto(url);
    const title = await waitUntil(async () => {
      const t = await page.title();
      return /^(done|error)/.test(t) ? t : null;
    }, 'the worker finished', 60000);
    const log = await page.evaluate(() => document.getElementById('log').textContent);
    assert.match(title, /^done/, `worker log:\n${log}\n${lines.join('\n')}`);
    assert.match(log, /local candidate: candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ relay/);
    assert.doesNotMatch(log, /typ host/, 'the worker has no host candidate');
    assert.match(log, /got: echo: hello from the worker/);
    assert.match(log, /got 262144 bytes back, identical/);
    assert.match(out, /server peer: connected/);
  } finally {
    if (browser) await browser.close();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
});
