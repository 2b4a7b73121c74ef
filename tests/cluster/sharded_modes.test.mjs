// The sharded adapter's other subscription modes, every node (C++ and Node) in the same one: "static" (every
// message on <prefix>#<nsp>#, no room channels) and "dynamic-private" (a broadcast to one room, a socket id
// included, on that room's channel, which the nodes where the room exists subscribe to). ("dynamic", the default, is
// broadcast_sharded.test.mjs and requests_sharded.test.mjs.)
process.env.CLUSTER_ADAPTER = 'sharded';
const { describe, it, before, after } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { startCluster, barrier, eventually, DIRECTIONS } = await import('./harness.mjs');

const shardNumsub = async (cli, channel) => Number((await cli.sendCommand(['PUBSUB', 'SHARDNUMSUB', channel]))[1]);

for (const mode of ['static', 'dynamic-private']) {
  describe(`sharded adapter, subscriptionMode ${mode}`, () => {
    let cluster;
    before(async () => { cluster = await startCluster(null, { nodeFlags: ['--subscription-mode', mode] }); });
    after(() => cluster && cluster.stop());
    let n = 0;
    const unique = (what) => `${what}-${mode}-${++n}`;

    it('the room channels each node subscribes to', async () => {
      const onCpp = await cluster.client('cppA');
      const onNode = await cluster.client('node');
      const room = unique('room');
      await onCpp.ask('join', [room]);
      await onNode.ask('join', [room]);
      const expected = mode === 'static' ? [0, 0, 0] : [2, 1, 1];  // the room (on two nodes), each socket's own room
      await eventually(async () => {
        const seen = [await shardNumsub(cluster.cli, `socket.io#/#${room}#`),
          await shardNumsub(cluster.cli, `socket.io#/#${onCpp.id}#`),
          await shardNumsub(cluster.cli, `socket.io#/#${onNode.id}#`)];
        return JSON.stringify(seen) === JSON.stringify(expected);
      }, 5000, `room channels ${expected}`);
      await cluster.drop(onCpp);
      if (mode !== 'static') {  // the last socket of the room gone from a node: that node unsubscribes
        await eventually(async () => (await shardNumsub(cluster.cli, `socket.io#/#${room}#`)) === 1, 5000,
          'one node left in the room channel');
        assert.equal(await shardNumsub(cluster.cli, `socket.io#/#${onCpp.id}#`), 0);
      }
      await cluster.drop(onNode);
    });

    for (const [from, to, label] of DIRECTIONS) {
      it(`${label}: to(one room), to(a socket id), to(two rooms) reach the sockets of the other node`, async () => {
        const sender = await cluster.client(from);
        const [inRoom, other] = await cluster.receivers(to);
        const room = unique('r'), second = unique('s');
        await inRoom.ask('join', [room]);
        await other.ask('join', [second]);
        await sender.ask('broadcast', { rooms: [room], event: 'one-room', args: [1] });
        await sender.ask('broadcast', { rooms: [other.id], event: 'private', args: [2] });
        await sender.ask('broadcast', { rooms: [room, second], event: 'two-rooms', args: [3] });
        await sender.ask('broadcast', { rooms: [room], except: [room], event: 'nobody', args: [4] });
        await barrier(sender, [sender, inRoom, other]);
        const got = (c) => c.log.filter((e) => e.event !== 'welcome' && e.event !== 'marker').map((e) => e.event);
        assert.deepEqual(got(inRoom), ['one-room', 'two-rooms'], inRoom.label);
        assert.deepEqual(got(other), ['private', 'two-rooms'], other.label);
        assert.deepEqual(got(sender), [], sender.label);
        await Promise.all([sender, inRoom, other].map((c) => cluster.drop(c)));
      });
    }
  });
}
