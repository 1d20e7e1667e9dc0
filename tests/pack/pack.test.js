'use strict';
// npm pack test: the tarball installs into a fresh directory with no download and no build
// step, and `require('polyrtc')` / `import('polyrtc')` work there.
//
// 1. "mechanics": packs a staging copy of this repo's package.json (same `files`, `exports`)
//    with stand-in files, so the packaging itself is checked even before the addon works:
//    which file each `exports` entry gives under each condition (node, deno, bun, worker,
//    browser, workerd), for import and require.
// 2. "real package": packs the repo itself (needs `npm run build` first, i.e. napi/polyrtc.node;
//    npm pack's prepack generates js/cjs/), checks the tarball's files and runs
//    tests/pack/smoke.mjs: require/import of polyrtc and polyrtc/relay, then two peers, one
//    channel, a message each way, close, exit 0.
const assert = require('node:assert/strict');
const { test } = require('node:test');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const SMOKE = path.join(__dirname, 'smoke.mjs');
const NPM_ENV = { ...process.env, POLYRTC_INCLUDE_LOOPBACK: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

function run(cmd, args, cwd, timeout = 120000) {
  try {
    return execFileSync(cmd, args, { cwd, env: NPM_ENV, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout || ''}\n${e.stderr || ''}`);
  }
}

function pack(dir, dest) {
  const out = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dest], dir));
  const info = out[0];
  return { tarball: path.join(dest, info.filename), files: info.files.map((f) => f.path) };
}

function installFresh(tarball) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polyrtc-pack-app-'));
  run('npm', ['init', '-y'], dir);
  // --offline: must need no download; --ignore-scripts is NOT passed, so a build step would run (and fail offline).
  run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund'], dir);
  fs.copyFileSync(SMOKE, path.join(dir, 'smoke.mjs'));
  return dir;
}

function rm(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Stand-in files for the mechanics test: each says which file it is (`flavor`). */
const STAND_INS = {
  'js/package.json': '{ "type": "module" }\n',
  'js/node.js': "export class RTCPeerConnection {}\nexport const flavor = 'node.js';\n",
  'js/cjs/node.cjs': "'use strict';\nclass RTCPeerConnection {}\nmodule.exports = { RTCPeerConnection, flavor: 'node.cjs' };\n",
  'js/wasm.js': "export class RTCPeerConnection {}\nexport const flavor = 'wasm.js';\n",
  'js/workerd.js': "export class RTCPeerConnection {}\nexport const flavor = 'workerd.js';\n",
  'js/polyfill-node.js': "export const flavor = 'polyfill-node.js';\n",
  'js/cjs/polyfill-node.cjs': "'use strict';\nmodule.exports = { flavor: 'polyfill-node.cjs' };\n",
  'js/polyfill.js': "export const flavor = 'polyfill.js';\n",
  'js/polyfill-workerd.js': "export const flavor = 'polyfill-workerd.js';\n",
  'js/index.d.ts': 'export declare class RTCPeerConnection {}\n',
  'js/cjs/node.d.cts': 'export declare class RTCPeerConnection {}\n',
  'js/polyfill.d.ts': 'export declare const installed: ReadonlyArray<string>;\n',
  'js/cjs/polyfill.d.cts': 'export declare const installed: ReadonlyArray<string>;\n',
  'js/wasm/polyrtc_bg.wasm': 'stand-in\n',
  'js/test/x.test.js': '// must not be packed\n',
  'napi/index.js': 'module.exports = {};\n',
  'napi/polyrtc.node': 'not a real addon\n',
  'napi/build.js': '// must not be packed\n',
  'relay/index.js': "'use strict';\nmodule.exports = { startRelay() {}, flavor: 'relay/index.js' };\n",
  'relay/index.mjs': "export function startRelay() {}\nexport const flavor = 'relay/index.mjs';\n",
  'relay/index.d.ts': 'export declare function startRelay(): Promise<unknown>;\n',
  'relay/src/main.rs': '// must not be packed\n',
};

/** What `import` (or `require`) of `spec` gives in `app`, under extra `conditions`. */
function flavorOf(app, spec, { conditions = [], how = 'import' } = {}) {
  const load = how === 'require'
    ? `import {createRequire} from 'node:module'; const m = createRequire(process.cwd() + '/x.js')(${JSON.stringify(spec)});`
    : `const m = await import(${JSON.stringify(spec)});`;
  const args = [...conditions.map((c) => `--conditions=${c}`), '--input-type=module', '-e', `${load} console.log(m.flavor)`];
  return run(process.execPath, args, app).trim();
}

test('pack mechanics: files, exports by condition, offline install, require + import', { timeout: 180000 }, () => {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'polyrtc-pack-stage-'));
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'polyrtc-pack-out-'));
  let app;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    delete pkg.devDependencies;
    delete pkg.scripts;
    fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(pkg, null, 2));
    for (const f of ['README.md', 'LICENSE']) fs.copyFileSync(path.join(ROOT, f), path.join(stage, f));
    for (const [f, text] of Object.entries(STAND_INS)) {
      fs.mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
      fs.writeFileSync(path.join(stage, f), text);
    }
    // Like the repo's: `files` must still win over these (the addon and js/cjs/ are ignored by git).
    fs.writeFileSync(path.join(stage, '.gitignore'), '*.node\n/js/cjs/\n/js/wasm/\n');

    const { tarball, files } = pack(stage, dest);
    const packed = Object.keys(STAND_INS).filter((f) => !/test|build\.js|src\//.test(f));
    for (const f of ['package.json', 'README.md', 'LICENSE', ...packed]) {
      assert.ok(files.includes(f), `tarball lacks ${f}; has ${files.join(', ')}`);
    }
    for (const f of ['napi/build.js', 'js/test/x.test.js', 'relay/src/main.rs']) assert.ok(!files.includes(f), `tarball must not carry ${f}`);

    app = installFresh(tarball);
    const out = run(process.execPath, ['smoke.mjs', '--load-only'], app);
    assert.match(out, /require and import both load polyrtc/);
    // Node: the addon entry, ES modules for import and the generated CommonJS for require.
    assert.equal(flavorOf(app, 'polyrtc'), 'node.js');
    assert.equal(flavorOf(app, 'polyrtc', { how: 'require' }), 'node.cjs');
    assert.equal(flavorOf(app, 'polyrtc/polyfill'), 'polyfill-node.js');
    assert.equal(flavorOf(app, 'polyrtc/polyfill', { how: 'require' }), 'polyfill-node.cjs');
    assert.equal(flavorOf(app, 'polyrtc/wasm'), 'wasm.js');
    assert.equal(flavorOf(app, 'polyrtc/relay'), 'relay/index.mjs');
    assert.equal(flavorOf(app, 'polyrtc/relay', { how: 'require' }), 'relay/index.js');
    // Other runtimes set their own condition and (Deno, Bun, workerd) `node` too: theirs comes first.
    for (const c of ['deno', 'bun', 'worker', 'browser']) {
      assert.equal(flavorOf(app, 'polyrtc', { conditions: [c] }), 'wasm.js', `condition ${c}`);
      assert.equal(flavorOf(app, 'polyrtc/polyfill', { conditions: [c] }), 'polyfill.js', `polyfill, condition ${c}`);
    }
    assert.equal(flavorOf(app, 'polyrtc', { conditions: ['workerd'] }), 'workerd.js');
    assert.equal(flavorOf(app, 'polyrtc/wasm', { conditions: ['workerd'] }), 'workerd.js');
    assert.equal(flavorOf(app, 'polyrtc/polyfill', { conditions: ['workerd'] }), 'polyfill-workerd.js');

    // Every `types` the exports name is a packed file.
    const installed = path.join(app, 'node_modules', 'polyrtc');
    const { exports } = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
    const types = [];
    const walk = (v, key) => {
      if (typeof v === 'string') { if (key === 'types') types.push(v); return; }
      for (const [k, w] of Object.entries(v)) walk(w, k);
    };
    walk(exports);
    assert.deepEqual([...new Set(types)].sort(), ['./js/cjs/node.d.cts', './js/cjs/polyfill.d.cts', './js/index.d.ts', './js/polyfill.d.ts', './relay/index.d.ts']);
    for (const t of types) assert.ok(fs.existsSync(path.join(installed, t)), `types ${t} is packed`);
  } finally {
    rm(stage);
    rm(dest);
    if (app) rm(app);
  }
});

test('real package: npm pack of the repo installs offline and connects two peers', { timeout: 180000 }, () => {
  const missing = ['napi/index.js', 'napi/polyrtc.node', 'relay/polyrtc-relay'].filter((f) => !fs.existsSync(path.join(ROOT, f)));
  assert.deepEqual(missing, [], `build the package first (npm run build); missing: ${missing.join(', ')}`);
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'polyrtc-pack-out-'));
  let app;
  try {
    const { tarball, files } = pack(ROOT, dest);
    assert.ok(files.includes('napi/polyrtc.node'), 'tarball carries the addon binary');
    // npm pack ran prepack (scripts/build-cjs.js): the generated CommonJS is in the tarball.
    for (const f of ['js/node.js', 'js/cjs/node.cjs', 'js/cjs/node.d.cts', 'js/cjs/polyfill.d.cts', 'js/cjs/engine/napi.cjs', 'js/cjs/lib/factory.cjs',
      'js/polyfill-node.js', 'js/cjs/polyfill-node.cjs', 'js/lib/factory.js', 'js/engine/napi.js', 'js/package.json',
      'relay/index.js', 'relay/index.mjs', 'relay/index.d.ts', 'relay/cli.js', 'relay/polyrtc-relay',
      'js/wasm.js', 'js/wasm-node.js', 'js/workerd.js', 'js/engine/wasm.js', 'js/wasm/polyrtc.js', 'js/wasm/polyrtc_bg.wasm',
      'node_modules/ws/package.json']) {
      assert.ok(files.includes(f), `tarball lacks ${f}`);
    }
    assert.deepEqual(files.filter((f) => f.startsWith('js/test/') || f.startsWith('relay/src/')), [], 'no tests or relay sources');
    app = installFresh(tarball);
    // The ES-module sources in the tarball are ES modules: no require( in js/lib/*.js.
    const lib = path.join(app, 'node_modules', 'polyrtc', 'js', 'lib');
    const libFiles = fs.readdirSync(lib).filter((f) => f.endsWith('.js'));
    assert.ok(libFiles.length >= 15, `js/lib has ${libFiles.length} files`);
    for (const f of libFiles) {
      assert.doesNotMatch(fs.readFileSync(path.join(lib, f), 'utf8'), /\brequire\(|module\.exports/, `js/lib/${f} is CommonJS`);
    }
    const out = run(process.execPath, ['smoke.mjs'], app, 60000);
    assert.match(out, /got "pong:ping"/);
    assert.match(out, /relay from the package listened on ws:/);
    // The package's bin: `npx polyrtc-relay --help` works offline from the install.
    const help = run('npx', ['--offline', '--no-install', 'polyrtc-relay', '--help'], app, 60000);
    assert.match(help, /--upstream/);
    assert.match(help, /--cert FILE --key FILE/);
    assert.match(out, /polyrtc\/wasm loads and makes an offer with a relayed candidate/);
  } finally {
    rm(dest);
    if (app) rm(app);
  }
});
