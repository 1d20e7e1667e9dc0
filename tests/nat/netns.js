'use strict';
// A throwaway NAT topology in Linux network namespaces (helper of nat.test.js, not a test file).
// Everything lives in namespaces created here and deleted by teardown(); nothing touches the
// host's own interfaces, routes or firewall, and no address leaves the machine.
//
//   ns A (peer A)       ns NAT (router)                  ns PUB ("internet")          ns B (peer B)
//   a0 10.201.0.2/24 -- n1 10.201.0.1/24
//   default via .1      n0 10.200.0.2/24 -------------- p0 10.200.0.1/24 (turnserver :3478)
//                       default via 10.200.0.1          p1 10.200.2.1/24 ------------ b0 10.200.2.2/24
//                       MASQUERADE -s 10.201.0.0/24     forwards between p0 and p1   default via .1
//                         -o n0 -p udp
//
// PUB has no route to 10.201.0.0/24, so A's host address is unreachable from B: the only way
// in is through the NAT's public address 10.200.0.2. Plain MASQUERADE maps endpoint-
// independently (and keeps the source port when it is free); setup()'s `masquerade` options
// make it remap ports (--to-ports) or map each destination anew (--random: a symmetric NAT).
//
// With `natB`, B is behind a NAT of its own (ns NATB) the same way, with `masqueradeB`:
//   ns PUB p1 10.200.2.1/24 -- m0 10.200.2.2/24 (NATB public) ; m1 10.202.0.1/24 -- b0 10.202.0.2/24
// With `blockUdpA`, A's NAT forwards no UDP at all (only TCP leaves A's network).
const { execFileSync } = require('child_process');
const crypto = require('crypto');

const ADDR = {
  stun: '10.200.0.1',
  natPublic: '10.200.0.2',
  natPrivate: '10.201.0.1',
  a: '10.201.0.2',
  b: '10.200.2.2',
  pubToB: '10.200.2.1',
  natBPublic: '10.200.2.2',
  natBPrivate: '10.202.0.1',
  bPrivate: '10.202.0.2',
  voidGateway: '10.200.9.2',
  // setupLink(): two hosts on one link.
  linkC: '10.203.0.1',
  linkN: '10.203.0.2',
};
const STUN_PORT = 3478;

function run(args, { allowFail = false } = {}) {
  try {
    return execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    if (allowFail) return null;
    throw new Error(`${args.join(' ')} failed: ${(e.stderr || e.message || '').trim()}`);
  }
}

/** Why the NAT test cannot run here (a string), or null when it can: root and `ip netns`. */
function unavailableReason() {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root';
  const probe = `prtc-probe-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
  } catch (e) {
    return `\`ip netns add\` is unavailable (${(e.stderr || e.message || '').toString().trim()})`;
  }
  run(['ip', 'netns', 'del', probe], { allowFail: true });
  return null;
}

/** Names unique to this run (namespaces are global on the machine). */
function topologyNames() {
  const id = `${process.pid.toString(36)}${crypto.randomBytes(2).toString('hex')}`;
  return { a: `prtc-a-${id}`, nat: `prtc-nat-${id}`, pub: `prtc-pub-${id}`, b: `prtc-b-${id}`, natb: `prtc-natb-${id}` };
}

/**
 * Creates the namespaces and their links; call teardown(ns) in a finally even if this throws.
 * `masquerade`: extra MASQUERADE target options (e.g. ['--to-ports', '20000-29999']);
 * `natB`, `masqueradeB`, `blockUdpA`: see the picture above. Returns B's own address.
 */
function setup(ns, { masquerade = [], natB = false, masqueradeB = [], blockUdpA = false } = {}) {
  const names = Object.entries(ns).filter(([k]) => natB || k !== 'natb').map(([, v]) => v);
  for (const name of names) run(['ip', 'netns', 'add', name]);
  const ipn = (name, ...args) => run(['ip', '-n', name, ...args]);
  const sh = (name, ...args) => run(['ip', 'netns', 'exec', name, ...args]);

  // veth pairs created inside the namespaces: no interface ever appears in the host namespace.
  ipn(ns.a, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'n1', 'netns', ns.nat);
  ipn(ns.nat, 'link', 'add', 'n0', 'type', 'veth', 'peer', 'name', 'p0', 'netns', ns.pub);
  if (natB) {
    ipn(ns.pub, 'link', 'add', 'p1', 'type', 'veth', 'peer', 'name', 'm0', 'netns', ns.natb);
    ipn(ns.natb, 'link', 'add', 'm1', 'type', 'veth', 'peer', 'name', 'b0', 'netns', ns.b);
  } else {
    ipn(ns.pub, 'link', 'add', 'p1', 'type', 'veth', 'peer', 'name', 'b0', 'netns', ns.b);
  }

  const addr = (name, dev, cidr) => {
    ipn(name, 'addr', 'add', cidr, 'dev', dev);
    ipn(name, 'link', 'set', dev, 'up');
  };
  addr(ns.a, 'a0', `${ADDR.a}/24`);
  addr(ns.nat, 'n1', `${ADDR.natPrivate}/24`);
  addr(ns.nat, 'n0', `${ADDR.natPublic}/24`);
  addr(ns.pub, 'p0', `${ADDR.stun}/24`);
  addr(ns.pub, 'p1', `${ADDR.pubToB}/24`);
  const b = natB ? ADDR.bPrivate : ADDR.b;
  if (natB) {
    addr(ns.natb, 'm0', `${ADDR.natBPublic}/24`);
    addr(ns.natb, 'm1', `${ADDR.natBPrivate}/24`);
  }
  addr(ns.b, 'b0', `${b}/24`);
  for (const name of names) ipn(name, 'link', 'set', 'lo', 'up');

  // PUB's default route leads nowhere, as the internet does for a private address: frames go
  // out of a veth to a made-up neighbour and its other end drops them (not its MAC). Without
  // a route, coturn's send to a peer's private host candidate fails with ENETUNREACH and
  // coturn then closes that client's whole allocation.
  ipn(ns.pub, 'link', 'add', 'void0', 'type', 'veth', 'peer', 'name', 'void1');
  addr(ns.pub, 'void0', `${ADDR.voidGateway.replace(/\.\d+$/, '.1')}/24`);
  ipn(ns.pub, 'link', 'set', 'void1', 'up');
  ipn(ns.pub, 'neigh', 'add', ADDR.voidGateway, 'lladdr', '02:00:00:00:00:01', 'dev', 'void0', 'nud', 'permanent');
  ipn(ns.pub, 'route', 'add', 'default', 'via', ADDR.voidGateway);
  ipn(ns.a, 'route', 'add', 'default', 'via', ADDR.natPrivate);
  ipn(ns.nat, 'route', 'add', 'default', 'via', ADDR.stun);
  ipn(ns.b, 'route', 'add', 'default', 'via', natB ? ADDR.natBPrivate : ADDR.pubToB);
  sh(ns.nat, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  sh(ns.pub, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  for (const proto of ['udp', 'tcp']) {
    sh(ns.nat, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.201.0.0/24', '-o', 'n0', '-p', proto,
      '-j', 'MASQUERADE', ...masquerade);
  }
  // A home router answers nothing on its public side. Dropping there (filter INPUT) also keeps
  // conntrack from confirming an entry for an unsolicited packet: such an entry (a peer's
  // check that arrived before our own went out) would make MASQUERADE pick another source
  // port for our later packet to that peer, which no NAT in front of a host would do.
  sh(ns.nat, 'iptables', '-A', 'INPUT', '-i', 'n0', '-j', 'DROP');
  if (blockUdpA) sh(ns.nat, 'iptables', '-A', 'FORWARD', '-p', 'udp', '-j', 'DROP');
  if (natB) {
    ipn(ns.natb, 'route', 'add', 'default', 'via', ADDR.pubToB);
    sh(ns.natb, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    sh(ns.natb, 'iptables', '-A', 'INPUT', '-i', 'm0', '-j', 'DROP');
    for (const proto of ['udp', 'tcp']) {
      sh(ns.natb, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.202.0.0/24', '-o', 'm0', '-p', proto,
        '-j', 'MASQUERADE', ...masqueradeB);
    }
  }
  return b;
}

/**
 * Two namespaces on one link (`ns.c` with c0 10.203.0.1/24, `ns.n` with n0 10.203.0.2/24),
 * nothing else: nothing leads off the link, so multicast DNS and everything else stays on
 * this veth pair. Call teardown(ns) in a finally even if this throws.
 */
function setupLink(ns) {
  for (const name of [ns.c, ns.n]) run(['ip', 'netns', 'add', name]);
  const ipn = (name, ...args) => run(['ip', '-n', name, ...args]);
  ipn(ns.c, 'link', 'add', 'c0', 'type', 'veth', 'peer', 'name', 'n0', 'netns', ns.n);
  for (const [name, dev, ip] of [[ns.c, 'c0', ADDR.linkC], [ns.n, 'n0', ADDR.linkN]]) {
    ipn(name, 'addr', 'add', `${ip}/24`, 'dev', dev);
    ipn(name, 'link', 'set', dev, 'up');
    ipn(name, 'link', 'set', 'lo', 'up');
    // Multicast (224.0.0.251 for mDNS) goes out on the link.
    ipn(name, 'route', 'add', '224.0.0.0/4', 'dev', dev);
  }
  // Each one's default route is the other (which forwards nothing): Chromium gathers no
  // candidate at all on a host without a default route.
  ipn(ns.c, 'route', 'add', 'default', 'via', ADDR.linkN);
  ipn(ns.n, 'route', 'add', 'default', 'via', ADDR.linkC);
}

/** Deletes the namespaces (their veths and iptables rules go with them). Never throws. */
function teardown(ns) {
  const left = [];
  for (const name of Object.values(ns)) {
    run(['ip', 'netns', 'del', name], { allowFail: true });
  }
  const listed = run(['ip', 'netns', 'list'], { allowFail: true }) || '';
  for (const name of Object.values(ns)) if (listed.split(/\s+/).includes(name)) left.push(name);
  return left;
}

module.exports = { ADDR, STUN_PORT, unavailableReason, topologyNames, setup, setupLink, teardown, run };
