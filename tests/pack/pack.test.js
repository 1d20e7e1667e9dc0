'use strict';
// npm pack test: the tarball installs into a fresh directory with no download and no build
// step, and `require('polyrtc')` / `import('polyrtc')` work there.
//
// 1. "mechanics": packs a staging copy of this repo's package.json (same `files`, `exports`)
//    with stand-in files, so the packaging itself is checked even before the addon works.
// 2. "real package": packs the repo itself (needs `npm run build` first, i.e. napi/polyrtc.node)
//    and runs tests/pack/smoke.mjs: two peers, one channel, a message each way, close, exit 0.
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

test('pack mechanics: files, exports, offline install, require + import', { timeout: 180000 }, () => {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'polyrtc-pack-stage-'));
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'polyrtc-pack-out-'));
  let app;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    delete pkg.devDependencies;
    delete pkg.scripts;
    fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(pkg, null, 2));
    for (const f of ['README.md', 'LICENSE']) fs.copyFileSync(path.join(ROOT, f), path.join(stage, f));
    fs.mkdirSync(path.join(stage, 'js'));
    fs.mkdirSync(path.join(stage, 'napi'));
    const stub = 'class RTCPeerConnection {}\n';
    fs.writeFileSync(path.join(stage, 'js', 'index.js'), `'use strict';\n${stub}module.exports = { RTCPeerConnection, flavor: 'cjs' };\n`);
    fs.writeFileSync(path.join(stage, 'js', 'index.mjs'), `${stub}export { RTCPeerConnection };\nexport const flavor = 'esm';\n`);
    fs.writeFileSync(path.join(stage, 'js', 'index.d.ts'), 'export declare class RTCPeerConnection {}\n');
    fs.writeFileSync(path.join(stage, 'napi', 'index.js'), 'module.exports = {};\n');
    fs.writeFileSync(path.join(stage, 'napi', 'polyrtc.node'), 'not a real addon\n');
    fs.writeFileSync(path.join(stage, 'napi', 'build.js'), '// must not be packed\n');
    fs.writeFileSync(path.join(stage, '.gitignore'), '*.node\n'); // like the repo's: `files` must still win

    const { tarball, files } = pack(stage, dest);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'js/index.js', 'js/index.mjs', 'js/index.d.ts', 'napi/index.js', 'napi/polyrtc.node']) {
      assert.ok(files.includes(f), `tarball lacks ${f}; has ${files.join(', ')}`);
    }
    assert.ok(!files.includes('napi/build.js'), 'tarball must not carry napi/build.js');

    app = installFresh(tarball);
    const out = run(process.execPath, ['smoke.mjs', '--load-only'], app);
    assert.match(out, /require and import both load polyrtc/);
    const flavors = run(
      process.execPath,
      ['--input-type=module', '-e', "import {createRequire} from 'node:module'; const r=createRequire(process.cwd()+'/x.js'); const m=await import('polyrtc'); console.log(r('polyrtc').flavor, m.flavor)"],
      app,
    ).trim();
    assert.equal(flavors, 'cjs esm', 'exports: require -> js/index.js, import -> js/index.mjs');
    const types = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', 'polyrtc', 'package.json'), 'utf8')).exports['.'].types;
    assert.ok(fs.existsSync(path.join(app, 'node_modules', 'polyrtc', types)), 'exports.types points at a packed file');
  } finally {
    rm(stage);
    rm(dest);
    if (app) rm(app);
  }
});

test('real package: npm pack of the repo installs offline and connects two peers', { timeout: 180000 }, () => {
  const missing = ['js/index.js', 'js/index.mjs', 'napi/index.js', 'napi/polyrtc.node'].filter((f) => !fs.existsSync(path.join(ROOT, f)));
  assert.deepEqual(missing, [], `build the package first (npm run build); missing: ${missing.join(', ')}`);
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'polyrtc-pack-out-'));
  let app;
  try {
    const { tarball, files } = pack(ROOT, dest);
    assert.ok(files.includes('napi/polyrtc.node'), 'tarball carries the addon binary');
    app = installFresh(tarball);
    const out = run(process.execPath, ['smoke.mjs'], app, 60000);
    assert.match(out, /got "pong:ping"/);
  } finally {
    rm(dest);
    if (app) rm(app);
  }
});
