'use strict';
// scripts/build-cjs.js, the generator of the CommonJS copy of js/: each allowed form, the
// errors for the forms it refuses, line numbers kept, and js/cjs/ up to date.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { convert, stale, build, BuildError, OUT } = require('../../scripts/build-cjs');

const JS = path.join(__dirname, '..');
/** A path inside js/ for convert() (relative imports resolve against it; util.js exists). */
const FILE = path.join(JS, 'lib', 'sample.js');

/** Runs generated CommonJS with a stub require; returns its module.exports. */
function runCjs(code, modules = {}) {
  const module = { exports: {} };
  const req = (spec) => {
    if (!(spec in modules)) throw new Error(`unexpected require ${spec}`);
    return modules[spec];
  };
  vm.runInNewContext(`(function (require, module, exports, __dirname) {${code}\n})`, {})(req, module, module.exports, path.join(OUT, 'lib'));
  return module.exports;
}

test('each allowed form becomes CommonJS with the same line count', () => {
  const src = [
    '// a comment on line 1',
    "import { toDOMString, toNumber as num } from './util.js';",
    'import {',
    '  domException,',
    "} from './util.js';",
    "import * as ns from './util.js';",
    "import { createRequire } from 'node:module';",
    'export function f() { return toDOMString; }',
    'export async function g() {}',
    'export class C {}',
    'export const K = 1;',
    'const a = 2, b = 3;',
    'export {',
    '  a,',
    '  b as bee,',
    '};',
    'export default C;',
    'const here = import.meta.url;',
    'export { here, num, domException, ns, createRequire };',
    '',
  ].join('\n');
  const { code, deps } = convert(FILE, src);
  assert.deepStrictEqual([...new Set(deps)], [path.join(JS, 'lib', 'util.js')]);
  const lines = code.split('\n');
  const srcLines = src.split('\n');
  for (const [i, want] of [[0, '// a comment on line 1'], [7, 'function f()'], [9, 'class C {}'], [10, 'const K = 1;'], [17, 'const here =']]) {
    assert.ok(lines[i].includes(want), `line ${i + 1}: ${lines[i]}`);
  }
  assert.ok(lines[0].startsWith("'use strict';"));
  assert.ok(lines.length >= srcLines.length && lines.length <= srcLines.length + 2, `${lines.length} lines for ${srcLines.length}`);
  assert.doesNotMatch(code, /^\s*(import|export)\b/m);
  const util = { toDOMString: 't', toNumber: 'n', domException: 'd' };
  const m = runCjs(code, { './util.cjs': util, 'node:module': { createRequire: 'cr' }, 'node:url': require('node:url'), 'node:path': path });
  assert.deepStrictEqual(Object.keys(m).sort(), ['C', 'K', 'a', 'bee', 'createRequire', 'domException', 'f', 'g', 'here', 'ns', 'num'].sort());
  assert.strictEqual(m.K, 1);
  assert.strictEqual(m.bee, 3);
  assert.strictEqual(m.num, 'n');
  assert.strictEqual(m.ns, util);
  assert.strictEqual(m.f(), 't');
  assert.strictEqual(m.default, undefined, 'require() gives the named exports only');
  // import.meta.url is the ES-module source's URL, so relative URLs match in both copies.
  assert.strictEqual(m.here, require('node:url').pathToFileURL(FILE).href);
});

test('a module with only a default export gives it as module.exports', () => {
  const { code } = convert(FILE, 'const api = { x: 1 };\nexport default api;\n');
  assert.strictEqual(JSON.stringify(runCjs(code)), '{"x":1}');
});

test('unsupported forms are refused with the file named', () => {
  const bad = {
    "import util from './util.js';": /unsupported form/,
    "export * from './util.js';": /unsupported form/,
    'export let x = 1;': /unsupported form/,
    'export var x = 1;': /unsupported form/,
    'const x = 1;\nexport { x as default };': /export \{ x as default \}/,
    "import { a } from 'polyrtc';": /bare specifier 'polyrtc'/,
    "import { a } from './util';": /must end in \.js/,
    "import { a } from './missing.js';": /does not exist/,
    "import { a } from '../../package.json.js';": /leaves js\//,
    'const r = import.meta.resolve("./x.js");': /only import\.meta\.url/,
    "'use strict';\nconst a = 1;": /'use strict'/,
    'const a = 1;\nexport { a };\nexport { a };': /exported twice/,
  };
  for (const [src, re] of Object.entries(bad)) {
    assert.throws(() => convert(FILE, src), (e) => e instanceof BuildError && re.test(e.message) && e.message.includes('js/lib/sample.js'), src);
  }
});

test('js/cjs/ matches the sources after a build (and --check would pass)', () => {
  build();
  assert.deepStrictEqual(stale(), []);
  for (const f of ['node.cjs', 'node.d.cts', 'polyfill-node.cjs', 'polyfill.d.cts', 'engine/napi.cjs', 'lib/factory.cjs', 'lib/util.cjs', 'lib/install.cjs']) {
    assert.ok(fs.existsSync(path.join(OUT, f)), f);
  }
  assert.doesNotMatch(fs.readFileSync(path.join(OUT, 'node.d.cts'), 'utf8'), /export default/);
  // Every generated module has the same line numbers as its source up to the appended tail.
  const src = fs.readFileSync(path.join(JS, 'lib', 'rtc-peer-connection.js'), 'utf8').split('\n');
  const out = fs.readFileSync(path.join(OUT, 'lib', 'rtc-peer-connection.cjs'), 'utf8').split('\n');
  const probe = src.findIndex((l) => l.includes('class RTCPeerConnection extends EventTarget'));
  assert.ok(probe > 0);
  assert.strictEqual(out[probe], src[probe]);
});
