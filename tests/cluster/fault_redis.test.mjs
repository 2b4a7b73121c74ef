// Fault: Redis killed (SIGKILL) and restarted on the same port. While it is away every node keeps serving its own
// clients (broadcasts reach the local ones, in order, at once, and local requests answer); once it is back, the
// nodes resubscribe by themselves and cross-node traffic resumes. No client ever gets a message twice or out of
// order.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, waitSubscribed, httpGet, barrier, withTimeout, eventually, CPP_IS_NODE } from './harness.mjs';

const NODES = ['cppA', 'cppB', 'node'];

/** The seq numbers of `event` a client got, for one sender. */
const seqs = (c, event, from) => c.received(event).filter((a) => a[0].from === from).map((a) => a[0].seq);

function assertIncreasing(list, what) {
  for (let i = 1; i < list.length; i++) assert.ok(list[i] > list[i - 1], `${what}: ${list[i]} after ${list[i - 1]} (${list})`);
}

it('Redis killed and restarted: local delivery goes on, cross-node traffic resumes, nothing doubled', async (t) => {
  const cluster = await startCluster(t);
  const clients = {};
  for (const key of NODES) {
    clients[key] = [await cluster.client(key, { transport: 'websocket' }), await cluster.client(key, { transport: 'polling' })];
  }
  const all = Object.values(clients).flat();
  const senders = { cppA: clients.cppA[0], node: clients.node[0] };
  await barrier(senders.cppA, all);
  await barrier(senders.node, all);

  await cluster.redis.kill('SIGKILL');

  // Redis is away: each sender's own node still delivers to its clients, promptly, and answers local requests.
  const DURING = 10;
  for (const [key, sender] of Object.entries(senders)) {
    const from = cluster.nodes[key].name;
    for (let seq = 0; seq < DURING; seq++) {
      await withTimeout(sender.ask('broadcast', { event: 'during', args: [{ seq, from }] }), 1000, `${from}: broadcast while Redis is away`);
    }
    for (const c of clients[key]) {
      await c.until(() => seqs(c, 'during', from).length === DURING, 2000, `${from}'s local messages`);
      assert.deepEqual(seqs(c, 'during', from), [...Array(DURING).keys()], c.label);
    }
    const local = await withTimeout(sender.ask('fetch', { local: true }), 1000, `${from}: local fetch while Redis is away`);
    assert.deepEqual(local.sockets.map((s) => s.id), clients[key].map((c) => c.id).sort());
    for (const c of clients[key]) assert.deepEqual(await c.ask('join', ['still-here']), [c.id, 'still-here'].sort());
  }
  for (const key of NODES) {
    assert.ok(cluster.nodes[key].alive, `${key} is running`);
    assert.equal((await httpGet(`${cluster.nodes[key].url}/name`)).body, cluster.nodes[key].name);
  }

  await cluster.redis.restart();
  const cli = await cluster.redis.client();
  await waitSubscribed(cli, 3, { ms: 15000 });
  // Subscribed is half of it: a C++ node's publisher has its own connection and back-off, and drops (counts) what
  // is published before it is back, where node-redis queues it. Wait until both of each C++ node's are up.
  const cppNodes = Object.values(cluster.nodes).filter((x) => x.kind === 'cpp' && !CPP_IS_NODE);
  await eventually(async () => {
    for (const nd of cppNodes) if (!JSON.parse((await httpGet(`${nd.url}/stats`)).body).ready) return false;
    return true;
  }, 15000, 'the C++ nodes publishing to Redis again');

  // Back: every node's broadcasts reach every client again, each once and in order.
  const AFTER = 20;
  for (const [key, sender] of Object.entries(senders)) {
    const from = cluster.nodes[key].name;
    for (let seq = 0; seq < AFTER; seq++) await sender.ask('broadcast', { event: 'after', args: [{ seq, from }] });
    await barrier(sender, all);
    for (const c of all) assert.deepEqual(seqs(c, 'after', from), [...Array(AFTER).keys()], `${c.label} from ${from}`);
  }
  // What was sent while Redis was away may reach the other nodes' clients later or never, but never twice.
  for (const c of all) {
    for (const key of Object.keys(senders)) assertIncreasing(seqs(c, 'during', cluster.nodes[key].name), c.label);
    assert.deepEqual(c.disconnects, [], c.label);
  }
  // the C++ nodes counted the publishes Redis never got, and came back by themselves
  for (const nd of Object.values(cluster.nodes).filter((x) => x.kind === 'cpp' && !CPP_IS_NODE)) {
    const stats = JSON.parse((await httpGet(`${nd.url}/stats`)).body);
    assert.ok(stats.reconnects >= 1, `${nd.name}: ${JSON.stringify(stats)}`);
    if (nd === cluster.nodes.cppA) assert.ok(stats.unsent >= DURING, `${nd.name}: ${JSON.stringify(stats)}`);
  }
  // requests work across nodes again
  const res = await senders.cppA.ask('fetch', {});
  assert.equal(res.err, null);
  assert.deepEqual(res.sockets.map((s) => s.id), all.map((c) => c.id).sort());
  const sse = await senders.node.ask('server-side-emit', { event: 'ask-server', args: [], ack: true });
  assert.deepEqual(sse, { err: null, responses: [{ name: 'cpp-a', nsp: '/', args: [] }, { name: 'cpp-b', nsp: '/', args: [] }] });
});
