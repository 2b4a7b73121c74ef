// @socket.io/redis-emitter 5.1, from this Node process (it publishes, never subscribes), reaching the clients of
// the C++ nodes and of the Node node, on both transports: emit (binary too), to/except, a second namespace,
// socketsJoin / socketsLeave / disconnectSockets, serverSideEmit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '@socket.io/redis-emitter';
import { startCluster, eventually } from './harness.mjs';

let cluster, emitter;
before(async () => {
  cluster = await startCluster(null);
  emitter = new Emitter(await cluster.redis.client());
});
after(() => cluster && cluster.stop());

let n = 0;
const unique = (what) => `${what}-${++n}`;
const NODES = ['cppA', 'cppB', 'node'];
const closeAll = (...clients) => Promise.all(clients.flat().map((c) => cluster.drop(c)));
const roomsOf = async (c) => (await c.ask('rooms')).filter((r) => r !== c.id);

/** A WebSocket client and a polling client (through nginx) on each node. */
async function everywhere(opts = {}) {
  const out = [];
  for (const key of NODES) {
    out.push(await cluster.client(key, { ...opts, transport: 'websocket' }));
    out.push(await cluster.client(key, { ...opts, transport: 'polling' }));
  }
  return out;
}

/** The emitter's own barrier: one connection publishes in order, so a client that got the marker got the rest. */
async function emitterBarrier(clients, nsp = '/') {
  const marker = unique('marker');
  emitter.of(nsp).emit('marker', marker);
  await Promise.all(clients.map((c) => c.until(() => c.received('marker').some((a) => a[0] === marker), 5000, marker)));
}

describe('@socket.io/redis-emitter reaches C++ and Node clients', () => {
  it('emit, with binary arguments', async () => {
    const all = await everywhere();
    const args = ['from the emitter', Buffer.from([1, 2, 3]), { deep: { buf: Buffer.from([255, 0]) }, n: 7 }];
    emitter.emit('emitted', ...args);
    await emitterBarrier(all);
    for (const c of all) assert.deepEqual(c.received('emitted'), [args], c.label);
    await closeAll(all);
  });

  it('to(room).except(room), one room and several, and a socket id', async () => {
    const all = await everywhere();
    const red = unique('red'), blue = unique('blue');
    // on each node: the WebSocket client in red, the polling one in red and blue
    for (let i = 0; i < all.length; i++) await all[i].ask('join', i % 2 === 0 ? [red] : [red, blue]);
    emitter.to(red).emit('red');
    emitter.to(red).except(blue).emit('red-not-blue');
    emitter.to([blue, unique('empty')]).emit('blue-of-two');
    emitter.to(all[0].id).emit('private');
    await emitterBarrier(all);
    for (let i = 0; i < all.length; i++) {
      const c = all[i];
      const got = c.log.map((e) => e.event).filter((e) => e !== 'welcome' && e !== 'marker');
      const expected = i % 2 === 0 ? ['red', 'red-not-blue'] : ['red', 'blue-of-two'];
      if (i === 0) expected.push('private');
      assert.deepEqual(got, expected, c.label);
    }
    await closeAll(all);
  });

  it('of("/second") reaches only that namespace', async () => {
    const second = await everywhere({ nsp: '/second' });
    const main = await everywhere();
    emitter.of('/second').emit('second-only', 1);
    await emitterBarrier(second, '/second');
    await emitterBarrier(main, '/');
    for (const c of second) assert.deepEqual(c.received('second-only'), [[1]], c.label);
    for (const c of main) assert.deepEqual(c.received('second-only'), [], c.label);
    await closeAll(second, main);
  });

  it('socketsJoin, socketsLeave and disconnectSockets act on every node', async () => {
    const all = await everywhere();
    const a = unique('a'), b = unique('b');
    for (const c of all.slice(0, 4)) await c.ask('join', [a]);
    emitter.in(a).socketsJoin(b);
    for (const c of all.slice(0, 4)) await eventually(async () => (await roomsOf(c)).includes(b), 3000, `${c.label} in ${b}`);
    for (const c of all.slice(4)) assert.deepEqual(await roomsOf(c), [], c.label);
    emitter.in(b).socketsLeave(a);
    for (const c of all.slice(0, 4)) await eventually(async () => !(await roomsOf(c)).includes(a), 3000, `${c.label} left`);
    emitter.in(b).disconnectSockets();
    for (const c of all.slice(0, 4)) {
      await c.until(() => c.disconnects.length === 1, 3000, 'disconnect');
      assert.deepEqual(c.disconnects, ['io server disconnect'], c.label);
    }
    await emitterBarrier(all.slice(4));
    for (const c of all.slice(4)) assert.ok(c.socket.connected, c.label);
    await closeAll(all);
  });

  it('serverSideEmit reaches the listener of every node', async () => {
    const clients = [];
    for (const key of NODES) clients.push(await cluster.client(key));
    const tag = unique('from-emitter');
    emitter.serverSideEmit('note', tag, { x: 1 });
    for (const c of clients) {
      await eventually(async () => (await c.ask('notes')).some((nt) => nt.args[0] === tag), 3000, `${c.label} note`);
      assert.deepEqual((await c.ask('notes')).filter((nt) => nt.args[0] === tag), [{ event: 'note', args: [tag, { x: 1 }] }]);
    }
    await closeAll(clients);
  });
});
