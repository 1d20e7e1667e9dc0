#!/usr/bin/env node
'use strict';
// Generates the CommonJS copy of the W3C JS layer for Node's `require` from its ES-module
// source of truth (js/). Plain Node, no dependency: a line-oriented rewrite of the few
// import/export forms that js/ uses, which fails loudly on any other form.
//
//   node scripts/build-cjs.js           write js/cjs/ (only files whose content changed)
//   node scripts/build-cjs.js --check   exit 1 if js/cjs/ is missing or stale
//   node scripts/build-cjs.js --quiet   print nothing on success (npm's prepack: keeps the
//                                       stdout of `npm pack --json` JSON)
//
// Entries: ENTRIES below (js/node.js, js/polyfill-node.js), plus every module they import
// relatively, transitively. js/<path>.js becomes js/cjs/<path>.cjs (same tree, so relative
// imports keep their shape with .cjs for .js). js/index.d.ts is copied to js/cjs/node.d.cts
// without its default export (CommonJS has none), js/polyfill.d.ts to js/cjs/polyfill.d.cts,
// for TypeScript's `require` resolution.
//
// Allowed forms in the sources (each at the start of a line, i.e. at top level):
//   import { a, b as c } from './x.js';     ->  const { a, b: c } = require('./x.cjs');
//   import * as ns from './x.js';           ->  const ns = require('./x.cjs');
//   import './x.js';                        ->  require('./x.cjs');
//   (the braces of an import may span lines; the rewrite keeps the line count)
//   import { createRequire } from 'node:module';   a `node:` builtin, kept as is
//   export function f / export async function f / export class C / export const NAME =
//   export { a, b as c };                   (may span lines)
//   export default NAME;                    dropped when the module also has named exports
//                                           (require() gives the named ones, as before);
//                                           else module.exports = NAME
//   import.meta.url                         -> the file: URL of the ESM source file, so
//                                              `new URL(rel, import.meta.url)` and
//                                              createRequire(import.meta.url) see the same
//                                              relative paths in both copies
// Relative specifiers must name a file under js/ with its `.js` extension. Not allowed
// (the script stops with an error): default imports, `export *`, `export let/var`,
// `export { x as default }`, bare package specifiers, other `import.meta` members, import
// cycles (the CommonJS copy binds imports once, when required, so there are no live
// bindings: a cycle would see half-initialised modules).
//
// module.exports is assigned at the end of each generated file; line numbers match the
// source's (stack traces point at the same lines), 'use strict' shares the first line.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'js');
const OUT = path.join(SRC, 'cjs');
const ENTRIES = ['node.js', 'polyfill-node.js'];
/** Type declarations copied for `require` (TypeScript reads a .d.ts under js/ as ESM). */
const TYPES = [
  { from: 'index.d.ts', to: 'node.d.cts', stripDefault: true },
  { from: 'polyfill.d.ts', to: 'polyfill.d.cts', stripDefault: false },
];

const IDENT = '[A-Za-z_$][\\w$]*';

class BuildError extends Error {}

function fail(file, message) {
  throw new BuildError(`build-cjs: ${path.relative(ROOT, file)}: ${message}`);
}

/** `a, b as c` -> [[a, a], [b, c]] (local/imported name first, then the bound/exported name). */
function parseList(file, list) {
  const items = list.split(',').map((s) => s.trim()).filter(Boolean);
  return items.map((item) => {
    const m = new RegExp(`^(${IDENT})(?:\\s+as\\s+(${IDENT}))?$`).exec(item);
    if (!m) fail(file, `unsupported name list entry '${item}'`);
    return [m[1], m[2] || m[1]];
  });
}

/** Keeps the line count of `text` (for the rewrite of a multi-line form). */
function newlines(text) {
  return '\n'.repeat((text.match(/\n/g) || []).length);
}

/** The CommonJS specifier of an ESM one, and the source file it names (null for builtins). */
function mapSpecifier(file, spec) {
  if (spec.startsWith('node:')) return { spec, dep: null };
  if (!spec.startsWith('./') && !spec.startsWith('../')) fail(file, `bare specifier '${spec}' (only relative ones and node: builtins)`);
  if (!spec.endsWith('.js')) fail(file, `relative specifier '${spec}' must end in .js`);
  const dep = path.resolve(path.dirname(file), spec);
  if (!dep.startsWith(SRC + path.sep) || dep.startsWith(OUT + path.sep)) fail(file, `'${spec}' leaves js/`);
  if (!fs.existsSync(dep)) fail(file, `'${spec}' does not exist`);
  return { spec: `${spec.slice(0, -3)}.cjs`, dep };
}

/** Converts one ES module's text; returns { code, deps }. */
function convert(file, source) {
  const deps = [];
  const named = []; // [local, exported]
  let defaultName = null;
  let s = source;

  s = s.replace(new RegExp(`^import\\s*\\{([^}]*)\\}\\s*from\\s*'([^']+)';?[ \\t]*$`, 'gm'), (m, list, spec) => {
    const { spec: out, dep } = mapSpecifier(file, spec);
    if (dep) deps.push(dep);
    const binds = parseList(file, list).map(([imp, local]) => (imp === local ? imp : `${imp}: ${local}`));
    return `const { ${binds.join(', ')} } = require('${out}');${newlines(m)}`;
  });
  s = s.replace(new RegExp(`^import\\s*\\*\\s*as\\s+(${IDENT})\\s+from\\s*'([^']+)';?[ \\t]*$`, 'gm'), (m, ns, spec) => {
    const { spec: out, dep } = mapSpecifier(file, spec);
    if (dep) deps.push(dep);
    return `const ${ns} = require('${out}');`;
  });
  s = s.replace(/^import\s*'([^']+)';?[ \t]*$/gm, (m, spec) => {
    const { spec: out, dep } = mapSpecifier(file, spec);
    if (dep) deps.push(dep);
    return `require('${out}');`;
  });
  s = s.replace(/^export\s*\{([^}]*)\};?[ \t]*$/gm, (m, list) => {
    for (const pair of parseList(file, list)) {
      if (pair[1] === 'default') fail(file, '`export { x as default }` (use `export default x;`)');
      named.push(pair);
    }
    return newlines(m);
  });
  s = s.replace(new RegExp(`^export\\s+default\\s+(${IDENT});?[ \\t]*$`, 'gm'), (m, name) => {
    if (defaultName) fail(file, 'two default exports');
    defaultName = name;
    return '';
  });
  s = s.replace(new RegExp(`^export\\s+((?:async\\s+)?function\\s*\\*?\\s*|class\\s+|const\\s+)(${IDENT})`, 'gm'), (m, kind, name) => {
    named.push([name, name]);
    return `${kind}${name}`;
  });
  let usesMetaUrl = false;
  s = s.replace(/\bimport\.meta\.url\b/g, () => {
    usesMetaUrl = true;
    return '__polyrtcSourceUrl';
  });

  const lines = s.split('\n');
  lines.forEach((line, i) => {
    if (/^\s*(import|export)\b(?!\s*\()/.test(line)) fail(file, `line ${i + 1}: unsupported form: ${line.trim()}`);
    if (/\bimport\.meta\b/.test(line)) fail(file, `line ${i + 1}: only import.meta.url is supported`);
    if (/^\s*['"]use strict['"]/.test(line)) fail(file, `line ${i + 1}: 'use strict' (modules are strict)`);
  });
  const exported = new Set();
  for (const [, name] of named) {
    if (exported.has(name)) fail(file, `'${name}' exported twice`);
    exported.add(name);
  }

  const rel = path.relative(SRC, file);
  const outFile = path.join(OUT, rel.replace(/\.js$/, '.cjs'));
  let prefix = "'use strict';";
  if (usesMetaUrl) {
    const back = path.relative(path.dirname(outFile), file).split(path.sep).join('/');
    prefix += ` const __polyrtcSourceUrl = require('node:url').pathToFileURL(require('node:path').join(__dirname, '${back}')).href;`;
  }
  lines[0] = `${prefix} ${lines[0]}`;
  let tail;
  if (named.length > 0) {
    tail = `module.exports = { ${named.map(([local, name]) => (local === name ? name : `${name}: ${local}`)).join(', ')} };`;
  } else if (defaultName) {
    tail = `module.exports = ${defaultName};`;
  } else {
    tail = 'module.exports = {};';
  }
  while (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  lines.push(tail, `// Generated by scripts/build-cjs.js from js/${rel.split(path.sep).join('/')}: do not edit.`, '');
  return { code: lines.join('\n'), deps, outFile };
}

/** All generated files: Map(outFile -> content). */
function generate() {
  const out = new Map();
  const state = new Map(); // file -> 'visiting' | 'done'
  const visit = (file, chain) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      fail(file, `import cycle: ${[...chain, file].map((f) => path.relative(SRC, f)).join(' -> ')}`);
    }
    state.set(file, 'visiting');
    const { code, deps, outFile } = convert(file, fs.readFileSync(file, 'utf8'));
    for (const dep of deps) visit(dep, [...chain, file]);
    out.set(outFile, code);
    state.set(file, 'done');
  };
  for (const entry of ENTRIES) visit(path.join(SRC, entry), []);
  const DEFAULT_EXPORT = /\n\/\*\* The default export[^\n]*\n^declare const polyrtc\b[\s\S]*?^export default polyrtc;\n/m;
  for (const { from, to, stripDefault } of TYPES) {
    let dts = fs.readFileSync(path.join(SRC, from), 'utf8');
    if (stripDefault) {
      if (!DEFAULT_EXPORT.test(dts)) fail(path.join(SRC, from), 'its default export block (declare const polyrtc ... export default polyrtc;) is not found');
      dts = dts.replace(DEFAULT_EXPORT, '');
    }
    if (/^export default\b/m.test(dts)) fail(path.join(SRC, from), 'a default export left for the CommonJS types');
    const note = stripDefault ? ' (without its default export)' : '';
    out.set(path.join(OUT, to), `// Generated by scripts/build-cjs.js from js/${from}${note}: do not edit.\n${dts}`);
  }
  return out;
}

function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? listFiles(p) : [p];
  });
}

/** Writes js/cjs/ (atomically per file, only what changed; removes files no longer generated). */
function build() {
  const out = generate();
  let written = 0;
  for (const [file, code] of out) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === code) continue;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file); // atomic: test processes running in parallel may build at once
    written += 1;
  }
  for (const file of listFiles(OUT)) {
    if (!out.has(file) && !file.endsWith('.tmp')) fs.rmSync(file, { force: true });
  }
  return { files: [...out.keys()], written };
}

/** The files of js/cjs/ that are missing or differ from what the sources give. */
function stale() {
  const out = generate();
  return [...out].filter(([file, code]) => !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== code).map(([file]) => file);
}

module.exports = { build, stale, generate, convert, OUT, BuildError };

if (require.main === module) {
  try {
    if (process.argv.includes('--check')) {
      const bad = stale();
      if (bad.length > 0) {
        console.error(`build-cjs: stale or missing (run node scripts/build-cjs.js): ${bad.map((f) => path.relative(ROOT, f)).join(', ')}`);
        process.exit(1);
      }
      console.log('build-cjs: js/cjs/ is up to date');
    } else {
      const { files, written } = build();
      if (!process.argv.includes('--quiet')) console.log(`build-cjs: ${files.length} files in ${path.relative(ROOT, OUT)}/ (${written} written)`);
    }
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    console.error(e.message);
    process.exit(1);
  }
}
