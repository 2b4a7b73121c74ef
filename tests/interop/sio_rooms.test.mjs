// Socket.IO v5: rooms, broadcasts (to / broadcast / io.emit / to+except), fetchSockets, socketsJoin/Leave and
// disconnectSockets. "Did not receive" is always checked after an acknowledged round trip on every socket
// (sync()), which proves that anything the server sent before has arrived.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRANSPORTS, startSio, connect, connectMany, sync, manager, managerSocket, disconnectReason, skipForReference,
} from './sio_harness.mjs';

const sortIds = (ids) => [...ids].sort();

/** Assert exactly which clients received `event` (once each) and with which args. */
function assertReceivers(clients, expected, event, args) {
  for (const c of clients) {
    const got = c.received(event);
    if (expected.includes(c)) {
      assert.equal(got.length, 1, `${c.label} should receive "${event}" exactly once, got ${got.length}: ${JSON.stringify(got)}`);
      assert.deepEqual(got[0], args, `${c.label}: arguments of "${event}"`);
    } else {
      assert.equal(got.length, 0, `${c.label} must not receive "${event}", got ${JSON.stringify(got)}`);
    }
  }
}

for (const transport of TRANSPORTS) {
  describe(`Socket.IO rooms and broadcasts (${transport})`, () => {
    let srv;
    before(async () => { srv = await startSio(); });
    after(() => srv?.stop());

    test('join / leave / rooms acknowledgements', async (t) => {
      const c = await connect(t, srv, { transport });
      const id = c.id;
      assert.deepEqual(await c.ack('rooms'), [[id]], 'a new socket is in the room named after its id');
      assert.deepEqual(await c.ack('join', 'r1'), [sortIds([id, 'r1'])]);
      assert.deepEqual(await c.ack('join', ['r2', 'r3', 'r1']), [sortIds([id, 'r1', 'r2', 'r3'])]);
      assert.deepEqual(await c.ack('leave', 'r2'), [sortIds([id, 'r1', 'r3'])]);
      assert.deepEqual(await c.ack('leave', ['r1', 'r3', 'never-joined']), [[id]]);
      assert.deepEqual(await c.ack('rooms'), [[id]]);
    });

    test('to(room): members receive, the sender and non-members do not', async (t) => {
      const [a, b, c, d] = await connectMany(t, srv, 4, { transport, label: 'to' });
      a.label = 'A (sender, in R)'; b.label = 'B (in R)'; c.label = 'C (in R and R2)'; d.label = 'D (outside)';
      const R = `R-${transport}`;
      const R2 = `R2-${transport}`;
      await Promise.all([a.ack('join', R), b.ack('join', R), c.ack('join', [R, R2])]);

      assert.deepEqual(await a.ack('to', R, 'room-msg', 1, { x: 2 }), []);
      await b.waitEvent('room-msg');
      await c.waitEvent('room-msg');
      await sync(a, b, c, d);
      assertReceivers([a, b, c, d], [b, c], 'room-msg', [1, { x: 2 }]);

      // several rooms: a socket in two of them gets the event once; the sender is excluded even if in a room
      await a.ack('to', [R, R2], 'multi', 'm');
      await Promise.all([b.waitEvent('multi'), c.waitEvent('multi')]);
      await sync(a, b, c, d);
      assertReceivers([a, b, c, d], [b, c], 'multi', ['m']);

      // to the room named after a socket id: a private message
      await d.ack('to', b.id, 'private', 'p');
      await b.waitEvent('private');
      await sync(a, b, c, d);
      assertReceivers([a, b, c, d], [b], 'private', ['p']);
    });

    test('broadcast reaches everyone but the sender; io-emit reaches everyone; not /custom sockets', async (t) => {
      const [a, b, c] = await connectMany(t, srv, 3, { transport, label: 'bc' });
      a.label = 'A (sender)';
      const custom = await connect(t, srv, { transport, nsp: '/custom', auth: { user: 'x' }, label: '/custom socket' });

      await a.ack('broadcast', 'bc-msg', 'hi', [1]);
      await Promise.all([b.waitEvent('bc-msg'), c.waitEvent('bc-msg')]);
      await sync(a, b, c, custom);
      assertReceivers([a, b, c, custom], [b, c], 'bc-msg', ['hi', [1]]);

      await a.ack('io-emit', 'all-msg', 5, null);
      await Promise.all([a, b, c].map((x) => x.waitEvent('all-msg')));
      await sync(a, b, c, custom);
      assertReceivers([a, b, c, custom], [a, b, c], 'all-msg', [5, null]);

      // a main-namespace room with the same name as the /custom room: /custom members are not reached
      await a.ack('join', 'room1');
      await b.ack('to', 'room1', 'room1-msg', 'main');
      await a.waitEvent('room1-msg');
      await sync(a, b, c, custom);
      assertReceivers([a, b, c, custom], [a], 'room1-msg', ['main']);
    });

    test('io.to(rooms).except(rooms): exactly the expected receivers', async (t) => {
      const clients = await connectMany(t, srv, 6, { transport, label: 'tx' });
      const [a, b, c, d, e, f] = clients;
      const R1 = `x1-${transport}`;
      const R2 = `x2-${transport}`;
      const X = `xx-${transport}`;
      a.label = 'A (R1)'; b.label = 'B (R2)'; c.label = 'C (R1+R2)'; d.label = 'D (R1+X)'; e.label = 'E (none)';
      f.label = 'F (sender, none)';
      await Promise.all([a.ack('join', R1), b.ack('join', R2), c.ack('join', [R1, R2]), d.ack('join', [R1, X])]);

      await f.ack('to-except', [R1, R2], [X], 'tx1', { p: 1 });
      await Promise.all([a, b, c].map((x) => x.waitEvent('tx1')));
      await sync(...clients);
      assertReceivers(clients, [a, b, c], 'tx1', [{ p: 1 }]);

      // except a room some targeted sockets are also in: C (R1+R2) is excluded by R2
      await f.ack('to-except', [R1], [R2], 'tx2', 'two');
      await Promise.all([a, d].map((x) => x.waitEvent('tx2')));
      await sync(...clients);
      assertReceivers(clients, [a, d], 'tx2', ['two']);

      // no target room: everyone (sender included, it is io-level) except X
      await f.ack('to-except', [], [X], 'tx3', 3);
      await Promise.all([a, b, c, e, f].map((x) => x.waitEvent('tx3')));
      await sync(...clients);
      const own = clients.map((x) => x.received('tx3').length);
      assert.deepEqual(own, [1, 1, 1, 0, 1, 1], `tx3 receptions by A..F (D excluded by X): ${own}`);

      // except a socket id room
      await f.ack('to-except', [R1, R2], [c.id, d.id], 'tx4', 4);
      await Promise.all([a, b].map((x) => x.waitEvent('tx4')));
      await sync(...clients);
      assertReceivers(clients, [a, b], 'tx4', [4]);
    });
  });

  describe(`Socket.IO server-side socket management (${transport})`, () => {
    let srv;
    before(async () => { srv = await startSio(); });
    after(() => srv?.stop());

    test('fetchSockets (all and by room), socketsJoin, socketsLeave', async (t) => {
      // the first test on a fresh server: the main namespace holds exactly these sockets
      const [a, b, c] = await connectMany(t, srv, 3, { transport, label: 'fetch' });
      await connect(t, srv, { transport, nsp: '/custom', auth: { user: 'x' }, label: '/custom (not in main)' });
      await Promise.all([a.ack('join', 'f1'), b.ack('join', ['f1', 'f2']), c.ack('join', 'f3')]);

      assert.deepEqual(await a.ack('fetch', null), [sortIds([a.id, b.id, c.id])], 'fetchSockets() of the main namespace');
      assert.deepEqual(await a.ack('fetch', 'f1'), [sortIds([a.id, b.id])], 'in("f1")');
      assert.deepEqual(await a.ack('fetch', ['f2', 'f3']), [sortIds([b.id, c.id])], 'in(["f2","f3"])');
      assert.deepEqual(await a.ack('fetch', ['f1', 'f2']), [sortIds([a.id, b.id])], 'b is in both rooms: listed once');
      assert.deepEqual(await a.ack('fetch', 'nobody-here'), [[]], 'an empty room');
      assert.deepEqual(await a.ack('fetch', c.id), [[c.id]], 'the room of a socket id');

      assert.deepEqual(await c.ack('sockets-join', 'f1', ['j1', 'j2']), []);
      assert.deepEqual(await a.ack('rooms'), [sortIds([a.id, 'f1', 'j1', 'j2'])], 'rooms of a after socketsJoin');
      assert.deepEqual(await b.ack('rooms'), [sortIds([b.id, 'f1', 'f2', 'j1', 'j2'])], 'rooms of b after socketsJoin');
      assert.deepEqual(await c.ack('rooms'), [sortIds([c.id, 'f3'])], 'c is not in f1: unchanged');
      assert.deepEqual(await c.ack('fetch', 'j2'), [sortIds([a.id, b.id])]);

      await c.ack('sockets-leave', 'f2', 'j1');
      assert.deepEqual(await b.ack('rooms'), [sortIds([b.id, 'f1', 'f2', 'j2'])], 'rooms of b after socketsLeave');
      assert.deepEqual(await a.ack('rooms'), [sortIds([a.id, 'f1', 'j1', 'j2'])], 'a is not in f2: unchanged');

      await a.ack('sockets-join', [], 'everyone');
      for (const x of [a, b, c]) {
        const [rooms] = await x.ack('rooms');
        assert.ok(rooms.includes('everyone'), `${x.label}: in([]) targets every socket, rooms: ${JSON.stringify(rooms)}`);
      }
      // socketsJoin on a socket-id room targets that socket only
      await a.ack('sockets-join', c.id, 'only-c');
      assert.deepEqual(await a.ack('fetch', 'only-c'), [[c.id]]);
    });

    test('fetchSockets with a callback: each socket once, with its rooms, data and handshake, and live here', async (t) => {
      const [a, b] = await connectMany(t, srv, 2, { transport, label: 'remote', auth: { token: 'tk' } });
      await Promise.all([a.ack('join', 'fr1'), b.ack('join', ['fr1', 'fr2'])]);
      await a.ack('data-set', 'nick', 'ann');
      const [all] = await b.ack('fetch-remote', ['fr1', 'fr2']);
      assert.equal(all.err, null);
      assert.deepEqual(all.sockets.map((s) => s.id), sortIds([a.id, b.id]), 'in(["fr1","fr2"]): b listed once');
      const sa = all.sockets.find((s) => s.id === a.id);
      assert.deepEqual(sa.rooms, sortIds([a.id, 'fr1']));
      assert.deepEqual(sa.data, { nick: 'ann' });
      assert.deepEqual(sa.auth, { token: 'tk' });
      assert.match(sa.address, /127\.0\.0\.1/);
      assert.equal(sa.local, true, 'a socket of this node is the live one');
      const [none] = await b.ack('fetch-remote', 'nobody-in-fr3');
      assert.deepEqual(none, { err: null, sockets: [] });
    });

    test('serverSideEmit with an ack and no other node: the callback gets no responses',
      { skip: skipForReference("the in-memory adapter only warns and never calls back (Node's cluster adapters call back with [] when alone)") },
      async (t) => {
        const c = await connect(t, srv, { transport });
        assert.deepEqual(await c.ack('server-side-emit', 'hello'), [{ err: null, responses: [] }]);
      });

    test('disconnectSockets(false): the namespace sockets leave, the connection stays', async (t) => {
      const asker = await connect(t, srv, { transport, label: 'asker' });
      const mgr = manager(t, srv, transport);
      const a = await managerSocket(t, mgr, '/', {}, 'A main (in d1)');
      const aCustom = await managerSocket(t, mgr, '/custom', { auth: { user: 'a' } }, 'A /custom');
      const b = await connect(t, srv, { transport, label: 'B (in d1)' });
      await Promise.all([a.ack('join', 'd1'), b.ack('join', 'd1')]);
      const aId = a.id;
      const engineId = mgr.engine.id;

      asker.socket.emit('disconnect-sockets', 'd1', false);
      assert.equal(await a.waitDisconnect(), 'io server disconnect', 'client-side reason of A');
      assert.equal(await b.waitDisconnect(), 'io server disconnect', 'client-side reason of B');
      const { reason } = await disconnectReason(asker, aId);
      assert.equal(reason, 'server namespace disconnect', 'server-side reason of A');

      assert.deepEqual(await aCustom.ack('echo-ack', 'still'), ['still'], 'the /custom socket on the same connection works');
      assert.equal(mgr.engine.id, engineId, 'the Engine.IO connection was kept');
      assert.equal(aCustom.disconnects.length, 0);
      assert.deepEqual(await asker.ack('echo-ack', 1), [1]);
      assert.deepEqual(await asker.ack('fetch', 'd1'), [[]], 'd1 is empty now');
    });

    test('disconnectSockets(true): the whole connection is closed (every namespace on it)', async (t) => {
      const asker = await connect(t, srv, { transport, label: 'asker' });
      const mgr = manager(t, srv, transport);
      const a = await managerSocket(t, mgr, '/', {}, 'A main (in d2)');
      const aCustom = await managerSocket(t, mgr, '/custom', { auth: { user: 'a' } }, 'A /custom');
      const aId = a.id;
      await a.ack('join', 'd2');

      asker.socket.emit('disconnect-sockets', 'd2', true);
      assert.equal(await a.waitDisconnect(), 'io server disconnect', 'client-side reason of A main');
      const customReason = await aCustom.waitDisconnect();
      assert.ok(['io server disconnect'].includes(customReason),
        `the /custom socket of the closed connection is disconnected too (reason ${customReason})`);
      const { reason } = await disconnectReason(asker, aId);
      assert.equal(reason, 'server namespace disconnect', 'server-side reason of A');
      assert.ok(asker.socket.connected);
      assert.deepEqual(await asker.ack('echo-ack', 2), [2]);
    });
  });
}
