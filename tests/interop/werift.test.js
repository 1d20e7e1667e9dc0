'use strict';
// Interop: the implementation under test (POLYRTC_IMPL, default polyrtc's js/node.js) <-> werift
// (pure TypeScript WebRTC), both in this process.
const { defineInteropSuite } = require('./lib/cases');
const { WeriftPeer } = require('./lib/peers');

defineInteropSuite({
  remoteName: 'werift',
  newRemote: () => new WeriftPeer('werift'),
});
