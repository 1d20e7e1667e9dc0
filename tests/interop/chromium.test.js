'use strict';
// Interop: the implementation under test (POLYRTC_IMPL, default polyrtc's js/node.js) <-> Debian's
// Chromium (headless, driven by playwright-core). Skips only when /usr/bin/chromium is absent.
const { defineInteropSuite } = require('./lib/cases');
const { chromiumAvailable, launchChromium, preparePage, CHROMIUM_PATH } = require('./lib/chromium');

let browser;
let factory;
const available = chromiumAvailable();
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM_PATH} not found: CI must install chromium (see .ci/run)`);
  console.error(`\n!!! SKIPPING Chromium interop: ${CHROMIUM_PATH} not found (apt-get install chromium) !!!\n`);
}

defineInteropSuite({
  remoteName: 'chromium',
  skip: available ? false : `${CHROMIUM_PATH} not found`,
  setup: async () => {
    browser = await launchChromium();
    factory = await preparePage(browser);
  },
  teardown: async () => {
    if (browser) await browser.close();
  },
  newRemote: () => factory.newPeer('chromium'),
});
