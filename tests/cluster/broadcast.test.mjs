// Broadcasts across nodes, in three directions (C++ → Node, Node → C++, C++ → C++): io.emit, to/except,
// socket.broadcast, binary arguments, the second namespace, and broadcasts with acknowledgements collecting answers
// from both nodes. Receivers are on both transports: a WebSocket straight to its node, and polling through nginx
// (sticky by source address).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, barrier, DIRECTIONS } from './harness.mjs';

let cluster;
before(async () => { cluster = await startCluster(null); });
after(() => cluster && cluster.stop());

let n = 0;
const unique = (what) => `${what}-${++n}`;

async function closeAll(...clients) {
  await Promise.all(clients.flat().map((c) => cluster.drop(c)));
}

for (const [from, to, label] of DIRECTIONS) {
  describe(`broadcast ${label}`, () => {
    it('io.emit reaches every client of every node once, with its arguments', async () => {
      const sender = await cluster.client(from);
      const rx = await cluster.receivers(to);
      const third = await cluster.client(Object.keys(cluster.nodes).find((k) => k !== from && k !== to));
      const args = ['hi', 1, 1.5, null, true, { a: [1, 'two', { three: 3 }] }, [], ''];
      await sender.ask('broadcast', { event: 'everyone', args });
      const all = [sender, third, ...rx];
      await barrier(sender, all);
      for (const c of all) assert.deepEqual(c.received('everyone'), [args], c.label);
      await closeAll(sender, third, rx);
    });

    it('to(room).except(room) picks the same sockets on the other node, one room or several', async () => {
      const sender = await cluster.client(from);
      const [inRed, inRedBlue] = await cluster.receivers(to);
      const outside = await cluster.client(to);
      const red = unique('red'), blue = unique('blue'), green = unique('green');
      await inRed.ask('join', [red]);
      await inRedBlue.ask('join', [red, blue]);
      await outside.ask('join', [green]);
      // one room: its own channel; two rooms: the base channel; a socket id as a room: a private message
      await sender.ask('broadcast', { rooms: [red], event: 'one-room', args: [1] });
      await sender.ask('broadcast', { rooms: [red], except: [blue], event: 'except', args: [2] });
      await sender.ask('broadcast', { rooms: [red, green], event: 'two-rooms', args: [3] });
      await sender.ask('broadcast', { rooms: [blue, green], except: [red], event: 'two-except', args: [4] });
      await sender.ask('broadcast', { rooms: [outside.id], event: 'private', args: [5] });
      await sender.ask('broadcast', { except: [red], event: 'all-but-red', args: [6] });
      await barrier(sender, [sender, inRed, inRedBlue, outside]);
      const got = (c) => c.log.filter((e) => e.event !== 'welcome' && e.event !== 'marker').map((e) => e.event);
      assert.deepEqual(got(inRed), ['one-room', 'except', 'two-rooms'], inRed.label);
      assert.deepEqual(got(inRedBlue), ['one-room', 'two-rooms'], inRedBlue.label);
      assert.deepEqual(got(outside), ['two-rooms', 'two-except', 'private', 'all-but-red'], outside.label);
      assert.deepEqual(got(sender), ['all-but-red'], sender.label);
      await closeAll(sender, inRed, inRedBlue, outside);
    });

    it('socket.broadcast and socket.to(room) leave the sender out on every node', async () => {
      const sender = await cluster.client(from);
      const sameNode = await cluster.client(from);
      const rx = await cluster.receivers(to);
      const room = unique('room');
      for (const c of [sender, sameNode, ...rx]) await c.ask('join', [room]);
      await sender.ask('broadcast', { via: 'socket', event: 'not-me', args: ['a'] });
      await sender.ask('broadcast', { via: 'socket', rooms: [room], event: 'room-not-me', args: ['b'] });
      const all = [sender, sameNode, ...rx];
      await barrier(sender, all);
      assert.deepEqual(sender.received('not-me'), []);
      assert.deepEqual(sender.received('room-not-me'), []);
      for (const c of [sameNode, ...rx]) {
        assert.deepEqual(c.received('not-me'), [['a']], c.label);
        assert.deepEqual(c.received('room-not-me'), [['b']], c.label);
      }
      await closeAll(all);
    });

    it('binary arguments cross nodes intact, from a client and made by the server', async () => {
      const sender = await cluster.client(from);
      const rx = await cluster.receivers(to);
      const bytes = Buffer.from([0, 1, 2, 127, 128, 254, 255]);
      const args = [bytes, { nested: Buffer.from('xyz'), list: [Buffer.alloc(0), 2, Buffer.from([9])] }, 'text'];
      await sender.ask('broadcast', { event: 'bin', args });
      await sender.ask('emit-binary', {});
      for (const c of rx) {
        assert.deepEqual(await c.nth('bin'), args, c.label);
        assert.deepEqual(await c.nth('binary'), [Buffer.from([0, 1, 2, 255]), { nested: Buffer.from('xyz'), n: 1 }],
          c.label);
      }
      await closeAll(sender, rx);
    });

    it('the second namespace is its own: its broadcasts and rooms do not reach "/"', async () => {
      const sender = await cluster.client(from, { nsp: '/second' });
      const rx = await cluster.receivers(to, { nsp: '/second' });
      const mainRx = await cluster.client(to);
      const mainSender = await cluster.client(from);
      const room = unique('shared-name');
      for (const c of [...rx, mainRx]) await c.ask('join', [room]);
      await sender.ask('broadcast', { event: 'second-all', args: [1] });
      await sender.ask('broadcast', { rooms: [room], event: 'second-room', args: [Buffer.from([7])] });
      await mainSender.ask('broadcast', { rooms: [room], event: 'main-room', args: [2] });
      await barrier(sender, rx);
      await barrier(mainSender, [mainRx]);
      for (const c of rx) {
        assert.equal(c.welcome.nsp, '/second');
        assert.deepEqual(c.received('second-all'), [[1]], c.label);
        assert.deepEqual(c.received('second-room'), [[Buffer.from([7])]], c.label);
        assert.deepEqual(c.received('main-room'), [], c.label);
      }
      assert.deepEqual(mainRx.received('second-all'), []);
      assert.deepEqual(mainRx.received('second-room'), []);
      assert.deepEqual(mainRx.received('main-room'), [[2]]);
      await closeAll(sender, rx, mainRx, mainSender);
    });

    it('a broadcast with acks collects the answers of clients on both nodes', async () => {
      const sender = await cluster.client(from);
      const local = await cluster.client(from);
      const rx = await cluster.receivers(to);
      const room = unique('ask');
      const answerers = [local, ...rx];
      for (const c of answerers) {
        await c.ask('join', [room]);
        c.socket.on('ask', (q, cb) => cb({ by: c.id, q }));
      }
      const res = await sender.ask('broadcast-with-ack', { rooms: [room], event: 'ask', args: ['q1'], timeout: 3000 });
      assert.equal(res.err, null);
      const expected = answerers.map((c) => ({ by: c.id, q: 'q1' }));
      assert.deepEqual(res.responses.sort((a, b) => (a.by < b.by ? -1 : 1)), expected.sort((a, b) => (a.by < b.by ? -1 : 1)));
      await closeAll(sender, answerers);
    });

    it('a broadcast with acks times out with the answers it got when a client does not answer', async () => {
      const sender = await cluster.client(from);
      const [answers, silent] = await cluster.receivers(to);
      const room = unique('ask');
      await answers.ask('join', [room]);
      await silent.ask('join', [room]);
      answers.socket.on('ask', (q, cb) => cb({ by: answers.id }));
      silent.socket.on('ask', () => {});
      const started = Date.now();
      const res = await sender.ask('broadcast-with-ack', { rooms: [room], event: 'ask', args: ['q2'], timeout: 500 });
      assert.equal(res.err, 'operation has timed out');
      assert.deepEqual(res.responses, [{ by: answers.id }]);
      assert.ok(Date.now() - started >= 450, 'not before the time-out');
      await closeAll(sender, answers, silent);
    });
  });
}
