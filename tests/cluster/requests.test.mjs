// Requests between nodes, in three directions (C++ → Node, Node → C++, C++ → C++): fetchSockets (and what the
// fetched remote sockets can do), socketsJoin / socketsLeave, disconnectSockets, serverSideEmit with and without an
// ack. The requesting client is on the first node; the sockets acted upon are on the second (WebSocket straight to
// it, and polling through nginx).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, eventually, barrier, DIRECTIONS } from './harness.mjs';

let cluster;
before(async () => { cluster = await startCluster(null); });
after(() => cluster && cluster.stop());

let n = 0;
const unique = (what) => `${what}-${++n}`;

const closeAll = (...clients) => Promise.all(clients.flat().map((c) => cluster.drop(c)));
const byId = (a, b) => (a.id < b.id ? -1 : 1);
const roomsOf = async (c) => (await c.ask('rooms')).filter((r) => r !== c.id);

for (const [from, to, label] of DIRECTIONS) {
  const fromName = () => cluster.nodes[from].name;
  const toName = () => cluster.nodes[to].name;

  describe(`requests ${label}`, () => {
    it('fetchSockets finds the sockets of both nodes with their ids, rooms and data', async () => {
      const asker = await cluster.client(from, { auth: { user: 'asker' } });
      const rx = await cluster.receivers(to, { auth: { user: 'remote' } });
      const other = await cluster.client(to, { auth: { user: 'other' } });
      const room = unique('f'), extra = unique('x');
      await asker.ask('join', [room]);
      await rx[0].ask('join', [room, extra]);
      await rx[1].ask('join', [room]);
      await other.ask('join', [extra]);
      const res = await asker.ask('fetch', { rooms: [room] });
      assert.equal(res.err, null);
      const expected = [
        { id: asker.id, rooms: [asker.id, room].sort(), data: { node: fromName(), user: 'asker' } },
        { id: rx[0].id, rooms: [rx[0].id, room, extra].sort(), data: { node: toName(), user: 'remote' } },
        { id: rx[1].id, rooms: [rx[1].id, room].sort(), data: { node: toName(), user: 'remote' } },
      ].sort(byId);
      assert.deepEqual(res.sockets, expected);
      // except, on the remote node too; local: this node only
      const without = await asker.ask('fetch', { rooms: [room], except: [extra] });
      assert.deepEqual(without.sockets.map((s) => s.id), [asker.id, rx[1].id].sort());
      const local = await asker.ask('fetch', { rooms: [room], local: true });
      assert.deepEqual(local.sockets.map((s) => s.id), [asker.id]);
      await closeAll(asker, rx, other);
    });

    it("fetched remote sockets: emit, join, leave and disconnect reach the sockets on the other node", async () => {
      const asker = await cluster.client(from);
      const rx = await cluster.receivers(to);
      const room = unique('r'), joined = unique('joined');
      for (const c of rx) await c.ask('join', [room]);
      const ids = rx.map((c) => c.id).sort();
      let res = await asker.ask('remote', { rooms: [room], action: 'emit', event: 'direct', args: ['hello', Buffer.from([5])] });
      assert.deepEqual(res, { err: null, ids });
      for (const c of rx) assert.deepEqual(await c.nth('direct'), ['hello', Buffer.from([5])], c.label);
      res = await asker.ask('remote', { rooms: [room], action: 'join', room: joined });
      assert.deepEqual(res.ids, ids);
      for (const c of rx) await eventually(async () => (await roomsOf(c)).includes(joined), 3000, `${c.label} joins`);
      res = await asker.ask('remote', { rooms: [room], action: 'leave', room });
      for (const c of rx) await eventually(async () => !(await roomsOf(c)).includes(room), 3000, `${c.label} leaves`);
      assert.deepEqual((await asker.ask('fetch', { rooms: [room] })).sockets, []);
      res = await asker.ask('remote', { rooms: [joined], action: 'disconnect' });
      assert.deepEqual(res.ids, ids);
      for (const c of rx) await c.until(() => c.disconnects.length === 1, 3000, 'disconnect');
      for (const c of rx) assert.deepEqual(c.disconnects, ['io server disconnect'], c.label);
      await closeAll(asker, rx);
    });

    it('socketsJoin and socketsLeave act on the sockets of the other node', async () => {
      const asker = await cluster.client(from);
      const rx = await cluster.receivers(to);
      const outside = await cluster.client(to);
      const a = unique('a'), b = unique('b');
      for (const c of rx) await c.ask('join', [a]);
      await asker.ask('sockets-join', { rooms: [a], join: [b] });
      for (const c of rx) await eventually(async () => (await roomsOf(c)).includes(b), 3000, `${c.label} in ${b}`);
      assert.deepEqual(await roomsOf(outside), []);
      // the joined room works for broadcasts from the asking node
      await asker.ask('broadcast', { rooms: [b], event: 'in-b', args: [1] });
      for (const c of rx) assert.deepEqual(await c.nth('in-b'), [1]);
      await asker.ask('sockets-leave', { rooms: [b], leave: [a] });
      for (const c of rx) await eventually(async () => !(await roomsOf(c)).includes(a), 3000, `${c.label} left ${a}`);
      for (const c of rx) assert.deepEqual(await roomsOf(c), [b]);
      // every socket of the namespace, except a room
      await asker.ask('sockets-join', { except: [b], join: [a] });
      await eventually(async () => (await roomsOf(outside)).includes(a), 3000, 'outside joins');
      await eventually(async () => (await roomsOf(asker)).includes(a), 3000, 'asker joins');
      for (const c of rx) assert.deepEqual(await roomsOf(c), [b]);
      await closeAll(asker, rx, outside);
    });

    it('disconnectSockets disconnects the chosen sockets of the other node, and only them', async () => {
      const asker = await cluster.client(from);
      const rx = await cluster.receivers(to);
      const stays = await cluster.client(to);
      const room = unique('d'), closeRoom = unique('dc');
      for (const c of rx) await c.ask('join', [room]);
      await asker.ask('disconnect-sockets', { rooms: [room], close: false });
      for (const c of rx) await c.until(() => c.disconnects.length === 1, 3000, 'disconnect');
      for (const c of rx) assert.deepEqual(c.disconnects, ['io server disconnect'], c.label);
      // close: the underlying connection goes too
      const closing = await cluster.client(to, { transport: 'websocket' });
      await closing.ask('join', [closeRoom]);
      await asker.ask('disconnect-sockets', { rooms: [closeRoom], close: true });
      await closing.until(() => closing.disconnects.length === 1, 3000, 'disconnect');
      assert.ok(['io server disconnect', 'transport close'].includes(closing.disconnects[0]), closing.disconnects[0]);
      await barrier(asker, [stays, asker]);
      assert.ok(stays.socket.connected);
      assert.deepEqual(stays.disconnects, []);
      await closeAll(asker, rx, stays, closing);
    });

    it('serverSideEmit with an ack gets one answer from each other node', async () => {
      const asker = await cluster.client(from);
      const res = await asker.ask('server-side-emit', { event: 'ask-server', args: [42, 'x'], ack: true });
      assert.equal(res.err, null);
      const others = Object.values(cluster.nodes).map((nd) => nd.name).filter((nm) => nm !== fromName()).sort();
      assert.deepEqual(res.responses, others.map((name) => ({ name, nsp: '/', args: [42, 'x'] })));
      // on the second namespace, its own listeners answer
      const second = await cluster.client(from, { nsp: '/second' });
      const res2 = await second.ask('server-side-emit', { event: 'ask-server', args: [], ack: true });
      assert.deepEqual(res2.responses, others.map((name) => ({ name, nsp: '/second', args: [] })));
      await closeAll(asker, second);
    });

    it('serverSideEmit without an ack reaches the other nodes, not the sender', async () => {
      const asker = await cluster.client(from);
      const peer = await cluster.client(to);
      const tag = unique('note');
      await asker.ask('server-side-emit', { event: 'note', args: [tag, { n: 1 }] });
      const has = (notes) => notes.some((nt) => nt.event === 'note' && nt.args[0] === tag);
      await eventually(async () => has(await peer.ask('notes')), 3000, `${toName()} gets the note`);
      assert.deepEqual((await peer.ask('notes')).filter((nt) => nt.args[0] === tag), [{ event: 'note', args: [tag, { n: 1 }] }]);
      // the peer's note has arrived; one sent after it by the peer reaching the asker proves the asker's is not coming
      const back = unique('note');
      await peer.ask('server-side-emit', { event: 'note', args: [back] });
      await eventually(async () => (await asker.ask('notes')).some((nt) => nt.args[0] === back), 3000, 'reply note');
      assert.equal(has(await asker.ask('notes')), false);
      await closeAll(asker, peer);
    });
  });
}
