'use strict';
// The layer under test, for the CommonJS tests of js/test/: the CommonJS copy (js/cjs/) that
// scripts/build-cjs.js generates from the ES-module sources in js/. Requiring this file first
// rebuilds that copy if a source changed (writing only what differs, atomically), so a test
// never runs a stale copy of an edited source. js/test/esm.test.mjs runs the ES modules
// themselves. Not a test file.
const path = require('node:path');
const { build, OUT } = require('../../scripts/build-cjs');

build();

/** js/cjs/lib/<name>.cjs: a module of the layer (`lib('util')`). */
function lib(name) {
  return require(path.join(OUT, 'lib', `${name}.cjs`));
}

/** The package's `require` entry: js/cjs/node.cjs, the API on the native addon engine. */
function nodeApi() {
  return require(NODE_ENTRY);
}

const NODE_ENTRY = path.join(OUT, 'node.cjs');

module.exports = { lib, nodeApi, NODE_ENTRY };
