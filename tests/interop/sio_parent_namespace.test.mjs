// A dynamic namespace (io.of(/^\/dyn-\d+$/), a ParentNamespace) has no sockets of its own: its broadcast operator
// acts in each child namespace created from it (/dyn-1, /dyn-2 here), and in no other namespace. The main
// namespace's "dyn-*" events drive it (see sio_test_server.cpp / ref_sio_server.mjs).
//
// npm socket.io 4.8 spans the children for emit, to / in / except: those tests pass against the reference too. Its
// ParentBroadcastAdapter forwards broadcast() only, so timeout().emit() with an ack, fetchSockets(), socketsJoin(),
// socketsLeave() and disconnectSockets() act on the parent's own empty room map there (fetchSockets() on the parent
// itself throws); sioserver spans the children for those as well, and those tests are skipped for the reference.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TRANSPORTS, T, startSio, connect, sync, skipForReference } from './sio_harness.mjs';

const skipSpan = skipForReference('its parent namespace spans the children only for emit / to / in / except');

/** Connects `asker` (main namespace), d1 and d1b (/dyn-1), d2 (/dyn-2) and a /custom socket. */
async function setup(t, srv, transport) {
  const asker = await connect(t, srv, { transport, label: 'main' });
  const d1 = await connect(t, srv, { transport, nsp: '/dyn-1', label: 'd1' });
  const d1b = await connect(t, srv, { transport, nsp: '/dyn-1', label: 'd1b' });
  const d2 = await connect(t, srv, { transport, nsp: '/dyn-2', label: 'd2' });
  const custom = await connect(t, srv, { transport, nsp: '/custom', auth: { user: 'u' }, label: 'custom' });
  for (const [c, label] of [[d1, 'd1'], [d1b, 'd1b'], [d2, 'd2']]) c.socket.on('ask', (cb) => cb(label));
  // d1 and d2 are in room "r" of their namespaces; so is the main namespace's socket, which is no child
  await d1.ack('join', 'r');
  await d2.ack('join', 'r');
  await asker.ack('join', 'r');
  return { asker, d1, d1b, d2, custom, all: [asker, d1, d1b, d2, custom] };
}

/** After a round trip on every client: the [args] each one got for `event`, by label. */
async function receivedBy(clients, event) {
  await sync(...clients);
  return Object.fromEntries(clients.map((c) => [c.label, c.received(event)]));
}

for (const transport of TRANSPORTS) {
  describe(`Socket.IO dynamic namespace: the broadcast operator spans its children (${transport})`, () => {
    let srv;
    before(async () => { srv = await startSio(); });
    after(() => srv?.stop());

    test('dynamic namespace to(room).emit reaches the room in each child namespace, and nothing else', async (t) => {
      const c = await setup(t, srv, transport);
      await c.asker.ack('dyn-emit', 'r', null, 'to-r', 1, { two: 2 });
      assert.deepEqual(await receivedBy(c.all, 'to-r'),
        { main: [], d1: [[1, { two: 2 }]], d1b: [], d2: [[1, { two: 2 }]], custom: [] });
    });

    test('dynamic namespace except(room).emit and to(room).except(room) pick per child namespace', async (t) => {
      const c = await setup(t, srv, transport);
      await c.asker.ack('dyn-emit', null, 'r', 'not-r', 'x');
      assert.deepEqual(await receivedBy(c.all, 'not-r'), { main: [], d1: [], d1b: [['x']], d2: [], custom: [] });
      // every socket is in the room named after its id, in its own namespace
      await c.asker.ack('dyn-emit', 'r', c.d2.id, 'r-but-d2', 'y');
      assert.deepEqual(await receivedBy(c.all, 'r-but-d2'), { main: [], d1: [['y']], d1b: [], d2: [], custom: [] });
    });

    test('dynamic namespace emit reaches every socket of every child namespace', async (t) => {
      const c = await setup(t, srv, transport);
      await c.asker.ack('dyn-emit', null, null, 'everyone', 3);
      assert.deepEqual(await receivedBy(c.all, 'everyone'),
        { main: [], d1: [[3]], d1b: [[3]], d2: [[3]], custom: [] });
    });

    test('dynamic namespace to(room).timeout(ms).emit with an ack: one answer per recipient of every child',
      { skip: skipSpan }, async (t) => {
        const c = await setup(t, srv, transport);
        const [result] = await c.asker.ack('dyn-broadcast-ack', 'r', 2000);
        assert.deepEqual(result, { err: null, responses: ['d1', 'd2'] });
        const [all] = await c.asker.ack('dyn-broadcast-ack', null, 2000);
        assert.deepEqual(all, { err: null, responses: ['d1', 'd1b', 'd2'] });
      });

    test('dynamic namespace fetchSockets and in(room).fetchSockets return the sockets of every child',
      { skip: skipSpan }, async (t) => {
        const c = await setup(t, srv, transport);
        const sortIds = (byNsp) => Object.fromEntries(Object.entries(byNsp).map(([k, v]) => [k, [...v].sort()]));
        const [inRoom] = await c.asker.ack('dyn-fetch', 'r');
        assert.deepEqual(sortIds(inRoom), { '/dyn-1': [c.d1.id], '/dyn-2': [c.d2.id] });
        const [all] = await c.asker.ack('dyn-fetch', null);
        assert.deepEqual(sortIds(all), { '/dyn-1': [c.d1.id, c.d1b.id].sort(), '/dyn-2': [c.d2.id] });
      });

    test('dynamic namespace in(room).socketsJoin / socketsLeave act in every child', { skip: skipSpan }, async (t) => {
      const c = await setup(t, srv, transport);
      await c.asker.ack('dyn-sockets-join', 'r', ['j', 'k']);
      assert.deepEqual((await c.d1.ack('rooms'))[0], [c.d1.id, 'j', 'k', 'r'].sort());
      assert.deepEqual((await c.d2.ack('rooms'))[0], [c.d2.id, 'j', 'k', 'r'].sort());
      assert.deepEqual((await c.d1b.ack('rooms'))[0], [c.d1b.id]);
      assert.deepEqual((await c.asker.ack('rooms'))[0], [c.asker.id, 'r'].sort(), 'the main namespace is no child');
      await c.asker.ack('dyn-sockets-leave', 'j', 'k');
      assert.deepEqual((await c.d1.ack('rooms'))[0], [c.d1.id, 'j', 'r'].sort());
      assert.deepEqual((await c.d2.ack('rooms'))[0], [c.d2.id, 'j', 'r'].sort());
    });

    test('dynamic namespace in(room).disconnectSockets disconnects those sockets of every child',
      { skip: skipSpan }, async (t) => {
        const c = await setup(t, srv, transport);
        await c.asker.ack('dyn-disconnect-sockets', 'r', false);
        assert.equal(await c.d1.waitDisconnect({ ms: T }), 'io server disconnect');
        assert.equal(await c.d2.waitDisconnect({ ms: T }), 'io server disconnect');
        await sync(c.asker, c.d1b, c.custom);  // still connected: their round trips work
        assert.deepEqual([c.asker, c.d1b, c.custom].map((x) => x.disconnects), [[], [], []]);
      });
  });
}
