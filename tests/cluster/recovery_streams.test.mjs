// Connection state recovery across nodes, on the Redis Streams adapter: a session one node persisted is restored by
// another, C++ or Node, in both directions. The client (the official socket.io-client) gets the same id, its rooms
// and its socket.data, and every packet it missed exactly once and in order, from the stream, whoever sent it. Then
// the faults: a trimmed offset, a session gone from Redis, garbage in the stream, Redis restarted, and a drain.
//
// Each client here reconnects by hand (reconnection off, then socket.connect() with the manager pointed at another
// node), once the session is in Redis: the test decides when, rather than racing the client's reconnection timer
// against the persist. The client keeps its pid and last offset across socket.connect(), as it does across its own
// reconnections.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

process.env.CLUSTER_ADAPTER = 'streams';
const { startCluster, startNode, connect, eventually, httpGet, freePort, T } = await import('./harness.mjs');

const RECOVERY_MS = 60000;
let cluster;
before(async () => { cluster = await startCluster(null, { nodeFlags: ['--recovery', String(RECOVERY_MS)] }); });
after(() => cluster && cluster.stop());

let n = 0;
const unique = (what) => `${what}-${++n}`;
const sessionKey = (c) => `sio:session:${c.socket._pid}`;
const chats = (c) => c.received('chat').map((a) => a[0]);

// A client of `nodeKey` in `room`, that has seen one broadcast (so it holds an offset).
async function member(nodeKey, room, sender, transport = 'websocket') {
  const c = await connect(cluster.nodes[nodeKey].url, { transport, auth: { user: unique('user') } });
  cluster.clients.add(c);
  await c.ask('join', [room]);
  const first = unique('first');
  await sender.ask('broadcast', { rooms: [room], event: 'chat', args: [first] });
  await c.until(() => chats(c).includes(first), T, first);
  assert.ok(typeof c.socket._lastOffset === 'string' && /^\d+-\d+$/.test(c.socket._lastOffset),
    `an offset, got ${c.socket._lastOffset}`);
  return c;
}

// Drops `c`'s connection as a network would (the server sees a transport close), and waits until its session is
// in Redis.
async function lose(c) {
  const gone = c.disconnects.length;
  c.socket.io.engine.close();
  await c.until(() => c.disconnects.length > gone, T, 'disconnect');
  await eventually(async () => (await cluster.cli.exists(sessionKey(c))) === 1, T, 'the session in Redis');
}

// Reconnects `c` to node `nodeKey` (same client object: its pid and offset go in the CONNECT).
async function comeBack(c, nodeKey) {
  const ids = c.ids.length;
  c.socket.io.uri = cluster.nodes[nodeKey].url;
  c.socket.connect();
  await c.until(() => c.ids.length > ids, T, 'connect');
}

const WAYS = [['cppA', 'node', 'C++ → Node'], ['node', 'cppA', 'Node → C++'], ['cppA', 'cppB', 'C++ → C++']];

for (const [from, to, label] of WAYS) {
  for (const transport of ['websocket', 'polling']) {
    it(`${label} (${transport}): same id, rooms and data, and every missed packet once and in order`, async () => {
      const room = unique('room');
      const senders = await Promise.all(['cppA', 'cppB', 'node'].map((k) => connect(cluster.nodes[k].url)));
      senders.forEach((s) => cluster.clients.add(s));
      const c = await member(from, room, senders[0], transport);
      const before = chats(c).length;
      const id = c.id;
      const user = (await senders[2].ask('fetch', { rooms: [id] })).sockets[0].data.user;
      assert.ok(user, 'the user the handshake gave');
      await lose(c);
      // Missed: sent by every node in turn while the client is away.
      const missed = [];
      for (let i = 0; i < 6; ++i) {
        const m = unique('missed');
        missed.push(m);
        await senders[i % 3].ask('broadcast', { rooms: [room], event: 'chat', args: [m] });
      }
      await comeBack(c, to);
      assert.equal(c.socket.recovered, true, 'recovered');
      assert.equal(c.id, id, 'same id');
      // After them, one more from the restoring node: a barrier for "nothing else came".
      const after1 = unique('after');
      await senders[2].ask('broadcast', { rooms: [room], event: 'chat', args: [after1] });
      await c.until(() => chats(c).includes(after1), T, after1);
      // The stream's order is the order the nodes' XADDs reached Redis (a sender's ack comes before its XADD's
      // answer), so the test checks: each missed packet exactly once, then the new one, offsets increasing.
      const got = chats(c).slice(before);
      assert.deepEqual([...got.slice(0, -1)].sort(), [...missed].sort(), 'each missed packet once');
      assert.equal(got[got.length - 1], after1, 'then the new one');
      const offsets = c.received('chat').slice(before).map((a) => a[a.length - 1]);
      assert.ok(offsets.every((o) => /^\d+-\d+$/.test(o)), 'each carries its stream offset');
      const value = (o) => o.split('-').map(BigInt);
      for (let i = 1; i < offsets.length; ++i) {
        const [a, b] = [value(offsets[i - 1]), value(offsets[i])];
        assert.ok(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]), `in the stream's order: ${offsets}`);
      }
      assert.deepEqual([...(await c.ask('rooms'))].sort(), [id, room].sort(), 'rooms back');
      const [seen] = (await senders[0].ask('fetch', { rooms: [id] })).sockets;
      assert.equal(seen.data.user, user, 'socket.data back');
      assert.equal(seen.data.node, cluster.nodes[from].name, 'the data the first node gave it, not a new one');
      assert.equal(await cluster.cli.exists(sessionKey(c)), 0, 'the session was taken (GETDEL)');
    });
  }
}

it("what is sent to a lost socket's own room (io.to(id)) while it is away reaches it on another node", async () => {
  const sender = await connect(cluster.nodes.node.url);
  cluster.clients.add(sender);
  const c = await member('cppA', unique('room'), sender);
  await lose(c);
  const whisper = unique('whisper');
  await sender.ask('broadcast', { rooms: [c.id], event: 'chat', args: [whisper] });
  await comeBack(c, 'cppB');
  assert.equal(c.socket.recovered, true);
  await c.until(() => chats(c).includes(whisper), T, whisper);
});

it('an offset trimmed from the stream gives a new socket, as Node does', async () => {
  const sender = await connect(cluster.nodes.node.url);
  cluster.clients.add(sender);
  const c = await member('cppA', unique('room'), sender);
  const id = c.id;
  await lose(c);
  await cluster.cli.sendCommand(['XTRIM', 'socket.io', 'MAXLEN', '0']);
  await comeBack(c, 'node');
  assert.equal(c.socket.recovered, false);
  assert.notEqual(c.id, id);
});

it('a session is kept by Redis with its expiry, and once gone the client gets a new socket', async () => {
  const sender = await connect(cluster.nodes.cppB.url);
  cluster.clients.add(sender);
  const c = await member('cppA', unique('room'), sender);
  const id = c.id;
  await lose(c);
  const ttl = Number(await cluster.cli.sendCommand(['PTTL', sessionKey(c)]));
  assert.ok(ttl > 0 && ttl <= RECOVERY_MS, `PTTL ${ttl} within maxDisconnectionDuration`);
  await cluster.cli.del(sessionKey(c));  // what its expiry does
  await comeBack(c, 'cppB');
  assert.equal(c.socket.recovered, false);
  assert.notEqual(c.id, id);
});

describe('a node SIGKILLed', () => {
  // Node persists a session only when the socket closes on the node that holds it: a killed node's clients come
  // back as new sockets. persistSessionsEagerly (--eager 1) keeps it in Redis while the socket lives.
  for (const eager of [false, true]) {
    it(eager ? 'with persistSessionsEagerly its clients recover on a Node node, with what they missed'
      : 'without persistSessionsEagerly its clients get new sockets, as with Node', async () => {
      const flags = ['--adapter', 'streams', '--recovery', String(RECOVERY_MS), '--eager', eager ? '1' : '0'];
      const doomed = await startNode('cpp', 'doomed', cluster.redis.port, flags);
      try {
        const room = unique('room');
        const sender = await connect(cluster.nodes.node.url);
        cluster.clients.add(sender);
        const c = await member('cppA', room, sender);  // a first one, to point the helper at; then the real one
        await cluster.drop(c);
        const v = await connect(doomed.url, { auth: { user: 'kept' } });
        cluster.clients.add(v);
        await v.ask('join', [room]);
        const first = unique('first');
        await sender.ask('broadcast', { rooms: [room], event: 'chat', args: [first] });
        await v.until(() => chats(v).includes(first), T, first);
        if (eager) {
          await eventually(async () => {
            const raw = await cluster.cli.get(sessionKey(v));
            return raw && Buffer.from(raw, 'base64').includes(Buffer.from(room));  // rooms as of now
          }, T, 'the session with its room in Redis');
        }
        const id = v.id;
        await doomed.kill('SIGKILL');
        await v.until(() => v.disconnects.length > 0, T, 'disconnect');
        const missed = unique('missed');
        await sender.ask('broadcast', { rooms: [room], event: 'chat', args: [missed] });
        await comeBack(v, 'node');
        assert.equal(v.socket.recovered, eager);
        if (!eager) return assert.notEqual(v.id, id);
        assert.equal(v.id, id);
        await v.until(() => chats(v).includes(missed), T, missed);
        assert.deepEqual([...(await v.ask('rooms'))].sort(), [id, room].sort());
        const [seen] = (await sender.ask('fetch', { rooms: [id] })).sockets;
        assert.equal(seen.data.user, 'kept');
      } finally {
        await doomed.stop();
      }
    });
  }

  it('persistSessionsEagerly refreshes a live socket\'s session before it expires', async () => {
    const doomed = await startNode('cpp', 'refresher', cluster.redis.port,
      ['--adapter', 'streams', '--recovery', '1500', '--eager', '1']);
    try {
      const v = await connect(doomed.url);
      cluster.clients.add(v);
      // Every third of 1500 ms it is written again: its time to live goes back up (one reading above the one
      // before), and it never runs out.
      let previous = -2;
      await eventually(async () => {
        const ttl = Number(await cluster.cli.sendCommand(['PTTL', sessionKey(v)]));
        const rose = previous > 0 && ttl > previous;
        previous = ttl;
        return rose;
      }, 3000, 'a refreshed time to live', 50);
      await cluster.drop(v);  // a client that leaves for good: its session is deleted
      await eventually(async () => (await cluster.cli.exists(sessionKey(v))) === 0, T, 'the session deleted');
    } finally {
      await doomed.stop();
    }
  });
});

describe('faults', () => {
  it('garbage entries in the stream are skipped and counted; what follows is delivered', async () => {
    const stats = async (k) => JSON.parse((await httpGet(`${cluster.nodes[k].url}/stats`)).body);
    const before = await stats('cppA');
    const c = await connect(cluster.nodes.cppA.url);
    cluster.clients.add(c);
    // Only garbage the Node node drops too. An entry that decodes but has the wrong shape (a broadcast whose data
    // is no array) the Node node hands its clients as a packet they cannot parse ("parse error", seen in a run),
    // and by its source its reader throws on it again at each read; the C++ nodes skip and count it.
    for (const fields of [['foo', 'bar'], ['uid', 'x', 'nsp', '/', 'type', '3', 'data', '{not json'],
      ['uid', 'x', 'nsp', '/', 'type', 'three'], ['uid', 'x', 'nsp', '/', 'type', '3', 'data', 'AAAA']])
      await cluster.cli.sendCommand(['XADD', 'socket.io', '*', ...fields]);
    const after1 = unique('after');
    const sender = await connect(cluster.nodes.cppB.url);
    cluster.clients.add(sender);
    await sender.ask('broadcast', { event: 'chat', args: [after1] });
    await c.until(() => chats(c).includes(after1), T, after1);
    const now = await stats('cppA');
    assert.equal(now.malformed - before.malformed, 4, 'four entries skipped');
  });

  it('Redis restarted: the nodes reconnect, go on reading the stream, and broadcasts cross again', async () => {
    await cluster.redis.restart();
    cluster.cli = await cluster.redis.client();
    await eventually(async () => {
      for (const k of ['cppA', 'cppB']) if (!JSON.parse((await httpGet(`${cluster.nodes[k].url}/stats`)).body).ready) return false;
      return true;
    }, 10000, 'the C++ nodes ready again');
    const c = await connect(cluster.nodes.cppB.url);
    cluster.clients.add(c);
    const sender = await connect(cluster.nodes.cppA.url);
    cluster.clients.add(sender);
    const m = unique('again');
    // The Node node's reader may still be waiting out its own reconnection: resend until the C++ one delivers.
    await eventually(async () => {
      await sender.ask('broadcast', { event: 'chat', args: [m] });
      return chats(c).includes(m);
    }, 10000, 'a broadcast across nodes after the restart', 200);
  });

  it('Redis unreachable at start: a clear error at once, and the node serves its own clients', async () => {
    const port = await freePort();  // nothing listens there
    const lone = await startNode('cpp', 'lone', port, ['--adapter', 'streams', '--recovery', '1000']);
    try {
      const c = await connect(lone.url);
      cluster.clients.add(c);
      assert.equal(c.welcome.node, 'lone');
      assert.match(lone.stderr, new RegExp(`Redis at 127\\.0\\.0\\.1:${port} cannot be reached`));
      assert.equal(JSON.parse((await httpGet(`${lone.url}/stats`)).body).ready, false);
      const m = unique('local');
      await c.ask('broadcast', { event: 'chat', args: [m] });  // Redis cannot take it: delivered here at once
      await c.until(() => chats(c).includes(m), T, m);
    } finally {
      await lone.stop();
    }
  });

  it('SIGTERM drains a node: clients see a lost connection, their sessions are in Redis, and it exits', async () => {
    const room = unique('room');
    const sender = await connect(cluster.nodes.node.url);
    cluster.clients.add(sender);
    const clients = await Promise.all([member('cppA', room, sender), member('cppA', room, sender, 'polling')]);
    const started = Date.now();
    await cluster.nodes.cppA.kill('SIGTERM');
    const took = Date.now() - started;
    assert.ok(took < 5000, `exited in ${took} ms`);
    for (const c of clients) {
      await c.until(() => c.disconnects.length > 0, T, 'disconnect');
      // As with Node's io.close(): "transport close", or for polling "transport error" when its next GET finds the
      // session gone. Either way a lost connection, which the client reconnects after (socket.active).
      assert.ok(['transport close', 'transport error'].includes(c.disconnects[0]), c.disconnects[0]);
      assert.equal(c.socket.active, true, 'the client would reconnect');
      assert.equal(await cluster.cli.exists(sessionKey(c)), 1, 'persisted before the exit');
    }
    const missed = unique('missed');
    await sender.ask('broadcast', { rooms: [room], event: 'chat', args: [missed] });
    for (const c of clients) {
      const id = c.id;
      await comeBack(c, 'node');
      assert.equal(c.socket.recovered, true);
      assert.equal(c.id, id);
      await c.until(() => chats(c).includes(missed), T, missed);
    }
  });
});
