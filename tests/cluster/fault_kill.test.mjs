// Fault: a node killed with SIGKILL while a broadcast stream runs. The stream (numbered messages from one node to
// every client) goes on; the clients of the healthy nodes get every number once, in order. The dead node's clients,
// which came through nginx, reconnect through it to a living node; requests no longer wait for the dead one.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, withTimeout } from './harness.mjs';

const COUNT = 300;
const EVERY_MS = 4;

async function killDuringStream(t, senderKey, victimKey) {
  const cluster = await startCluster(t);
  const healthyKeys = Object.keys(cluster.nodes).filter((k) => k !== victimKey);
  const healthy = [];
  for (const key of healthyKeys) {
    healthy.push(await cluster.client(key, { transport: 'websocket' }));
    healthy.push(await cluster.client(key, { transport: 'polling' }));
  }
  // the victim's clients come through nginx and reconnect through it
  const victims = [
    await cluster.client(victimKey, { transport: 'websocket', via: 'nginx', reconnection: true }),
    await cluster.client(victimKey, { transport: 'polling', reconnection: true }),
  ];
  const sender = healthy[healthyKeys.indexOf(senderKey) * 2];
  const from = cluster.nodes[senderKey].name;
  const seqs = (c) => c.received('seq').map((a) => a[0]).filter((m) => m.from === from).map((m) => m.seq);

  const done = sender.ask('stream', { event: 'seq', count: COUNT, every: EVERY_MS });
  done.catch(() => {});
  // kill once the stream is well under way at every client, the victim's included
  await Promise.all([...healthy, ...victims].map((c) => c.until(() => seqs(c).length >= 60, 5000, 'the stream under way')));
  const victim = cluster.nodes[victimKey];
  await victim.kill('SIGKILL');
  assert.ok(!victim.alive);
  assert.equal(await withTimeout(done, 10000, 'the end of the stream'), COUNT);

  const all = [...Array(COUNT).keys()];
  for (const c of healthy) {
    await c.until(() => seqs(c).length >= COUNT, 3000, `all ${COUNT} messages`);
    assert.deepEqual(seqs(c), all, `${c.label}: every message once, in order`);
    assert.deepEqual(c.disconnects, [], c.label);
  }
  // the victim's clients: what they got before the kill came in order; they come back on a living node
  for (const c of victims) {
    const got = seqs(c);
    for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1], `${c.label}: ${got}`);
    await c.until(() => c.received('welcome').length >= 2, 10000, 'a reconnection through nginx');
    const node = c.received('welcome')[1][0].node;
    assert.notEqual(node, victim.name, c.label);
    assert.ok(healthyKeys.map((k) => cluster.nodes[k].name).includes(node), node);
  }
  // requests from a healthy node find the living sockets and do not wait for the dead node
  const started = Date.now();
  const res = await sender.ask('fetch', {});
  assert.equal(res.err, null);
  assert.deepEqual(res.sockets.map((s) => s.id), [...healthy, ...victims].map((c) => c.id).sort());
  assert.ok(Date.now() - started < 2000, 'the fetch did not wait for a time-out');
  const sse = await sender.ask('server-side-emit', { event: 'ask-server', args: [], ack: true });
  assert.equal(sse.err, null);
  assert.deepEqual(sse.responses.map((r) => r.name), healthyKeys.filter((k) => k !== senderKey).map((k) => cluster.nodes[k].name));
}

it('SIGKILL of the Node node while a C++ node streams: the C++ nodes\' clients lose and double nothing', (t) =>
  killDuringStream(t, 'cppA', 'node'));

it('SIGKILL of a C++ node while the Node node streams: the others\' clients lose and double nothing', (t) =>
  killDuringStream(t, 'node', 'cppB'));
