'use strict';
// Loads the polyrtc Node addon (napi/polyrtc.node, built by `node napi/build.js`).
// The surface is described in engine-contract.md.
const path = require('node:path');

const file = path.join(__dirname, 'polyrtc.node');
let binding;
try {
  binding = require(file);
} catch (err) {
  const e = new Error(
    `polyrtc: cannot load the native addon at ${file} (${err && err.message}). ` +
      'Build it with `node napi/build.js`.'
  );
  e.code = 'ERR_POLYRTC_ADDON_NOT_FOUND';
  e.cause = err;
  throw e;
}

module.exports = binding;
