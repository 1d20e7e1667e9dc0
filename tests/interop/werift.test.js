'use strict';
// Interop: the implementation under test (POLYRTC_IMPL, default js/index.js) <-> werift
// (pure TypeScript WebRTC), both in this process.
const { defineInteropSuite } = require('./lib/cases');
const { WeriftPeer } = require('./lib/peers');

defineInteropSuite({
  remoteName: 'werift',
  newRemote: () => new WeriftPeer('werift'),
});
