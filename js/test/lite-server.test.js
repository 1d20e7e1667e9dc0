'use strict';
// A server the way the docs describe it: ICE-lite connections (iceLite) all on one UDP port
// (sharedUdpPort), in one process, and CLIENTS full-ICE clients (our own peers, as browsers
// would be) connecting to it, several at a time; each one's channel opens and its echo comes
// back from its own server connection. Prints the setup rate and the memory per connection
// (figures, not asserted). POLYRTC_LITE_CLIENTS changes the count (default 1000).
const test = require('node:test');
const assert = require('node:assert');
const { skipUnlessAddon, loadApi, once, withTimeout, negotiate, freePort } = require('./real-helpers');

const skip = skipUnlessAddon(__filename);
const api = loadApi();
const CLIENTS = Number(process.env.POLYRTC_LITE_CLIENTS || 1000);
const IN_FLIGHT = 20;

test(`${CLIENTS} full-ICE clients connect to ICE-lite server connections sharing one UDP port`, { skip, timeout: 300000 }, async () => {
  const port = await freePort();
  const all = [];
  const rssBefore = process.memoryUsage().rss;
  const started = process.hrtime.bigint();
  let selectedOnPort = 0;

  async function connectOne(i) {
    const client = new api.RTCPeerConnection();
    const server = new api.RTCPeerConnection({ iceLite: true, sharedUdpPort: port });
    all.push(client, server);
    const dc = client.createDataChannel('echo');
    server.ondatachannel = (e) => { e.channel.onmessage = (m) => e.channel.send(`${m.data} from server`); };
    const opened = once(dc, 'open');
    await negotiate(client, server);
    await withTimeout(opened, `client ${i} open`, 30000);
    const reply = once(dc, 'message');
    dc.send(`client ${i}`);
    assert.strictEqual((await withTimeout(reply, `client ${i} echo`, 30000)).data, `client ${i} from server`);
    assert.match(server.localDescription.sdp, /\r\na=ice-lite\r\n/);
    const pair = server.sctp.transport.iceTransport.getSelectedCandidatePair();
    if (pair && pair.local.port === port) selectedOnPort += 1;
  }

  try {
    let next = 0;
    const workers = Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CLIENTS) {
        const i = next++;
        await connectOne(i);
      }
    });
    await Promise.all(workers);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rss = process.memoryUsage().rss - rssBefore;
    console.log(`lite server: ${CLIENTS} clients connected in ${seconds.toFixed(1)} s (${(CLIENTS / seconds).toFixed(0)}/s, ${IN_FLIGHT} in flight); `
      + `resident memory +${(rss / 2 ** 20).toFixed(0)} MiB, ${(rss / CLIENTS / 2 / 1024).toFixed(0)} KiB per connection (clients and servers alike)`);
    assert.strictEqual(selectedOnPort, CLIENTS, 'every server connection uses the shared port');
    assert.ok(all.every((pc) => pc.connectionState === 'connected'), 'all connected at the end');
  } finally {
    for (const pc of all) pc.close();
  }
});
