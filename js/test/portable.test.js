'use strict';
// The engine-neutral part of js/ must load in a browser or a worker with no bundler: every
// js/lib/*.js, every js/engine/*.js except the Node addon's adapter (napi.js), and the
// non-Node entries of js/ import only relative `.js` paths (that exist) and reference no
// Node-only global (require, module, exports, process, Buffer, __dirname, __filename,
// global, setImmediate, clearImmediate) except as a property of globalThis (a feature
// check). A dynamic import() may name a `node:` builtin (it runs only where a run-time check
// lets it, e.g. reading the .wasm from disk in Node); a static import may not, as it would
// stop the module from loading anywhere else. js/workerd.js may import a relative `.wasm`
// (workerd compiles WebAssembly only from module imports). A static check of the sources,
// comments and strings excluded; its checker is tested on bad sources first, so it can fail.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const JS = path.join(__dirname, '..');
/** Node-only entries and engine, allowed Node APIs. */
const NODE_ONLY = new Set(['node.js', 'polyfill-node.js', 'wasm-node.js', path.join('engine', 'napi.js')]);
/** Files the WASM build provides (another part of the build): imports of them need not exist yet. */
const WASM_BUILD = new Set(['wasm.js', 'workerd.js', path.join('engine', 'wasm.js'), path.join('wasm', 'polyrtc.js')]);
/** Files that may import a relative .wasm file as a module. */
const WASM_IMPORTERS = new Set(['workerd.js']);
const NODE_GLOBALS = ['require', 'module', 'exports', 'process', 'Buffer', '__dirname', '__filename', 'global', 'setImmediate', 'clearImmediate'];

/** Keywords after which a `/` starts a regular expression literal, not a division. */
const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

/**
 * Splits JavaScript source into code (comments and the text of string/template/regex
 * literals blanked to spaces, `${}` expressions kept as code) and the string literals' values
 * (for the import specifiers). Throws on an unterminated literal or comment.
 */
function scan(src) {
  let code = '';
  const strings = []; // { value, codeIndex } where codeIndex is the literal's position in `code`
  let i = 0;
  let lastSignificant = ''; // last non-space code character or word, for the regex heuristic
  const braceStack = []; // for `${`: 'template' marks a brace that closes an interpolation
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  const pushCode = (s) => {
    code += s;
    const t = s.trim();
    if (t) lastSignificant = /[\w$]$/.test(t) ? (t.match(/[\w$]+$/) || [''])[0] : t[t.length - 1];
  };
  const readTemplate = () => {
    // at a '`' or just after a '}' closing an interpolation; returns after '`' or '${'
    let j = i;
    while (j < src.length) {
      if (src[j] === '\\') { j += 2; continue; }
      if (src[j] === '`') { code += blank(src.slice(i, j)) + '`'; i = j + 1; lastSignificant = '`'; return; }
      if (src[j] === '$' && src[j + 1] === '{') {
        code += blank(src.slice(i, j)) + '${';
        i = j + 2;
        braceStack.push('template');
        lastSignificant = '{';
        return;
      }
      j += 1;
    }
    throw new Error('unterminated template literal');
  };
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? src.length : end;
      code += blank(src.slice(i, stop));
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated comment');
      code += blank(src.slice(i, end + 2));
      i = end + 2;
    } else if (c === '\'' || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\n') throw new Error('unterminated string');
        j += src[j] === '\\' ? 2 : 1;
      }
      if (j >= src.length) throw new Error('unterminated string');
      strings.push({ value: src.slice(i + 1, j), codeIndex: code.length });
      code += c + blank(src.slice(i + 1, j)) + c;
      lastSignificant = c;
      i = j + 1;
    } else if (c === '`') {
      code += '`';
      i += 1;
      readTemplate();
    } else if (c === '/' && (lastSignificant === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(lastSignificant) || REGEX_AFTER_WORD.has(lastSignificant))) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && (inClass || src[j] !== '/')) {
        if (src[j] === '\n') throw new Error(`unterminated regular expression at ${i}`);
        if (src[j] === '\\') j += 1;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        j += 1;
      }
      code += '/' + blank(src.slice(i + 1, j)) + '/';
      lastSignificant = '/regex';
      i = j + 1;
    } else if (c === '{') {
      braceStack.push('block');
      pushCode(c);
      i += 1;
    } else if (c === '}') {
      if (braceStack.pop() === 'template') {
        code += '}';
        i += 1;
        readTemplate();
      } else {
        pushCode(c);
        i += 1;
      }
    } else {
      let j = i + 1;
      if (/[\w$]/.test(c)) while (j < src.length && /[\w$]/.test(src[j])) j += 1;
      pushCode(src.slice(i, j));
      i = j;
    }
  }
  return { code, strings };
}

/** The problems of one ES module's source: non-relative or extensionless imports, Node globals. */
function problems(src, { exists = () => true, wasmImports = false } = {}) {
  const out = [];
  const { code, strings } = scan(src);
  const stringAt = (index) => strings.find((s) => s.codeIndex === index);
  // Static forms: `import ... from '<s>'`, `import '<s>'`, `export ... from '<s>'`; and `import('<s>')`.
  const forms = /\b(?:from\s*|(import\s*\(\s*)|^\s*import\s*)(?=['"])/gm;
  let m;
  while ((m = forms.exec(code)) !== null) {
    const lit = stringAt(m.index + m[0].length);
    if (!lit) continue;
    const spec = lit.value;
    const dynamic = m[1] !== undefined;
    if (dynamic && /^node:[a-z_/]+$/.test(spec)) continue;
    if (!spec.startsWith('./') && !spec.startsWith('../')) out.push(`import of '${spec}': not a relative path`);
    else if (wasmImports && !dynamic && spec.endsWith('.wasm')) continue;
    else if (!spec.endsWith('.js')) out.push(`import of '${spec}': no .js extension`);
    else if (!exists(spec)) out.push(`import of '${spec}': no such file`);
  }
  if (/\bimport\s*\(\s*[^'"\s]/.test(code)) out.push('import() of a computed specifier');
  if (/\bimport\.meta\.resolve\b/.test(code)) out.push('import.meta.resolve (not in every runtime)');
  for (const name of NODE_GLOBALS) {
    // A bare identifier: not a property (`x.process`, `globalThis.process`), not a private
    // name, not an object key (`{ process: 1 }`).
    const re = new RegExp(`(?<![.#\\w$])${name}(?![\\w$])(?!\\s*:(?!:))`, 'g');
    while ((m = re.exec(code)) !== null) {
      const line = code.slice(0, m.index).split('\n').length;
      out.push(`line ${line}: Node-only global '${name}'`);
    }
  }
  return out;
}

function portableFiles() {
  const files = [];
  for (const dir of ['', 'lib', 'engine']) {
    for (const name of fs.readdirSync(path.join(JS, dir))) {
      const rel = path.join(dir, name);
      if (!name.endsWith('.js') || NODE_ONLY.has(rel)) continue;
      files.push(rel);
    }
  }
  return files.sort();
}

test('the checker finds each kind of problem (so it can fail)', () => {
  const bad = {
    "const fs = require('fs');": /Node-only global 'require'/,
    'if (process.env.X) {}': /'process'/,
    'const b = Buffer.from("x");': /'Buffer'/,
    'const d = __dirname;': /'__dirname'/,
    'module.exports = {};': /'module'/,
    'exports.x = 1;': /'exports'/,
    'setImmediate(() => {});': /'setImmediate'/,
    'const g = `${process.pid}`;': /'process'/,
    "import { a } from 'polyrtc';": /not a relative path/,
    "import { a } from './util';": /no \.js extension/,
    "export { a } from 'node:fs';": /not a relative path/,
    "import './side-effect.mjs';": /no \.js extension/,
    "const m = await import('ws');": /not a relative path/,
    "import { readFile } from 'node:fs/promises';": /not a relative path/,
    "import wasm from './wasm/polyrtc_bg.wasm';": /no \.js extension/,
    'const m = await import(name);': /computed specifier/,
  };
  for (const [src, re] of Object.entries(bad)) {
    const found = problems(src);
    assert.ok(found.some((p) => re.test(p)), `${src}: ${JSON.stringify(found)}`);
  }
  assert.deepStrictEqual(problems("import { a } from './x.js';", { exists: () => false }), ["import of './x.js': no such file"]);
  const fine = [
    '// require(\'fs\'), process.env and Buffer in a comment',
    "const s = 'process Buffer require(x)';",
    'const t = `Buffer ${globalThis.process ? 1 : 2} process`;',
    'const re = /process|Buffer/g;',
    'if (typeof globalThis.setImmediate === "function") globalThis.setImmediate(() => {});',
    'const o = { process: 1, module: 2 }; o.exports = 3; class A { #process = 1; }',
    "import { a, b as c } from './lib/util.js';\nexport { a } from '../x.js';",
    'const x = a / b / c;',
    "if (globalThis.process?.versions?.node) { const { readFile } = await import('node:fs/promises'); }",
  ];
  for (const src of fine) assert.deepStrictEqual(problems(src), [], src);
  assert.deepStrictEqual(problems("import wasm from './wasm/polyrtc_bg.wasm';", { wasmImports: true }), []);
});

test('js/lib, js/engine (but napi.js) and the non-Node entries are portable ES modules', () => {
  const files = portableFiles();
  for (const must of ['lib/factory.js', 'lib/rtc-peer-connection.js', 'lib/util.js', 'lib/install.js', 'polyfill.js']) {
    assert.ok(files.includes(must), `${must} is checked`);
  }
  const report = [];
  for (const rel of files) {
    const file = path.join(JS, rel);
    const exists = (spec) => {
      const target = path.relative(JS, path.resolve(path.dirname(file), spec));
      return WASM_BUILD.has(target) || fs.existsSync(path.join(JS, target));
    };
    const wasmImports = WASM_IMPORTERS.has(rel);
    for (const p of problems(fs.readFileSync(file, 'utf8'), { exists, wasmImports })) report.push(`js/${rel}: ${p}`);
  }
  assert.deepStrictEqual(report, []);
});

test('js/ is ES modules and js/test/ CommonJS, by their package.json', () => {
  assert.strictEqual(JSON.parse(fs.readFileSync(path.join(JS, 'package.json'), 'utf8')).type, 'module');
  assert.strictEqual(JSON.parse(fs.readFileSync(path.join(__dirname, 'package.json'), 'utf8')).type, 'commonjs');
});
