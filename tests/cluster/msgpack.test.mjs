// A cluster whose nodes all use the msgpack parser (C++ nodes with opt.parser = sio::msgpack_parser(), the Node node
// with npm socket.io-msgpack-parser), and whose clients do too: the Redis adapter's wire format does not depend on
// the parser, so broadcasts (binary included) and broadcast acks cross nodes in the three directions.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, barrier, DIRECTIONS } from './harness.mjs';

let cluster;
before(async () => { cluster = await startCluster(null, { parser: 'msgpack' }); });
after(() => cluster && cluster.stop());

for (const [from, to, label] of DIRECTIONS) {
  describe(`msgpack parser, broadcast ${label}`, () => {
    it('io.emit with binary reaches msgpack clients of the other node on both transports', async () => {
      const sender = await cluster.client(from);
      const rx = await cluster.receivers(to);
      const args = ['hi', -33, 0.5, { deep: [1, { x: 'y' }] }];
      await sender.ask('broadcast', { event: 'everyone', args });
      await sender.ask('emit-binary', {});
      await barrier(sender, [sender, ...rx]);
      for (const c of [sender, ...rx]) {
        assert.deepEqual(c.received('everyone'), [args], c.label);
        const [[bytes, obj]] = c.received('binary');
        assert.deepEqual(Buffer.from(bytes), Buffer.from([0, 1, 2, 255]), c.label);
        assert.deepEqual(Buffer.from(obj.nested), Buffer.from('xyz'), c.label);
        assert.equal(obj.n, 1, c.label);
      }
      await Promise.all([sender, ...rx].map((c) => cluster.drop(c)));
    });
  });
}
