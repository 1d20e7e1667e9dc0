'use strict';
// The delayed-path and lossy rows (what bench/path-one.js measures and bench/path.js prints),
// their knobs, and the receive windows the "window-limited" column divides by the RTT.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const num = (name, dflt) => (process.env[name] === undefined || process.env[name] === '' ? dflt : Number(process.env[name]));

/**
 * Rows, in order. Knobs: BENCH_PATH_ROWS (comma list of keys), BENCH_PATH_MIB (16, the clean
 * rows), BENCH_PATH_LOSSY_MIB (4), BENCH_PATH_LOSSY_RTT_MS (20), BENCH_PATH_LOSS (0.10),
 * BENCH_PATH_DUP (0.02), BENCH_PATH_REORDER (0.05, extra delay 1..BENCH_PATH_REORDER_MS = 10 ms),
 * BENCH_PATH_TIMEOUT_S (60, clean rows), BENCH_PATH_LOSSY_TIMEOUT_S (180), BENCH_PATH_SEED (1).
 */
function pathRows() {
  const mib = num('BENCH_PATH_MIB', 16);
  const timeoutS = num('BENCH_PATH_TIMEOUT_S', 60);
  const seed = num('BENCH_PATH_SEED', 1);
  const all = [
    { key: 'proxy0', label: 'through the proxy, no delay', rttMs: 0, mib, timeoutS, seed },
    { key: 'rtt20', label: '20 ms RTT', rttMs: 20, mib, timeoutS, seed },
    { key: 'rtt100', label: '100 ms RTT', rttMs: 100, mib, timeoutS, seed },
    {
      key: 'lossy',
      rttMs: num('BENCH_PATH_LOSSY_RTT_MS', 20),
      mib: num('BENCH_PATH_LOSSY_MIB', 4),
      loss: num('BENCH_PATH_LOSS', 0.1),
      duplicate: num('BENCH_PATH_DUP', 0.02),
      reorder: num('BENCH_PATH_REORDER', 0.05),
      reorderExtraMs: num('BENCH_PATH_REORDER_MS', 10),
      timeoutS: num('BENCH_PATH_LOSSY_TIMEOUT_S', 180),
      seed,
    },
  ];
  const lossy = all[3];
  lossy.label = `${lossy.rttMs} ms RTT, ${pct(lossy.loss)} loss each way, ${pct(lossy.duplicate)} duplicated, ${pct(lossy.reorder)} reordered (+1..${lossy.reorderExtraMs} ms)`;
  const want = (process.env.BENCH_PATH_ROWS || '').split(',').filter(Boolean);
  return want.length ? all.filter((r) => want.includes(r.key)) : all;
}

function pct(x) {
  return `${+(x * 100).toFixed(2)} %`;
}

/**
 * polyrtc's advertised receive window (a_rwnd): `DEFAULT_RECEIVE_WINDOW` read from
 * src/sctp/mod.rs (a product of integer literals, e.g. `1024 * 1024`), or BENCH_RWND_BYTES.
 */
function polyrtcReceiveWindow() {
  if (process.env.BENCH_RWND_BYTES) return { bytes: Number(process.env.BENCH_RWND_BYTES), source: 'BENCH_RWND_BYTES' };
  try {
    const src = fs.readFileSync(path.join(ROOT, 'src', 'sctp', 'mod.rs'), 'utf8');
    const m = /pub const DEFAULT_RECEIVE_WINDOW:\s*usize\s*=\s*([0-9_\s*]+);/.exec(src);
    if (m) {
      const bytes = m[1]
        .split('*')
        .map((t) => Number(t.replace(/[_\s]/g, '')))
        .reduce((x, y) => x * y, 1);
      if (Number.isFinite(bytes) && bytes > 0) return { bytes, source: 'src/sctp/mod.rs DEFAULT_RECEIVE_WINDOW' };
    }
  } catch {}
  return null;
}

/**
 * The receive window each implementation advertises, where known: polyrtc from its source;
 * node-datachannel 0.33.4 bundles libdatachannel v0.24.5, which sets usrsctp's receive space
 * to 1 MiB unless SctpSettings.recvBufferSize says otherwise (the polyfill does not).
 * @roamhq/wrtc 0.10.0 is libwebrtc M106, whose DcSctpTransport keeps dcsctp's default
 * max_receiver_window_buffer_size of 5 MiB (its binary has dcsctp and no usrsctp).
 * Any other implementation: not known (printed as n/a).
 */
function receiveWindow(implName) {
  if (implName === 'polyrtc') return polyrtcReceiveWindow();
  if (/node-datachannel/.test(implName)) return { bytes: 1024 * 1024, source: 'libdatachannel v0.24.5 default, usrsctp recvspace' };
  if (/@roamhq\/wrtc/.test(implName)) return { bytes: 5 * 1024 * 1024, source: 'libwebrtc M106 dcsctp default' };
  return null;
}

module.exports = { pathRows, receiveWindow, polyrtcReceiveWindow };
